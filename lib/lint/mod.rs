//! Checks of Kubernetes manifests for what breaks autoscaling on custom
//! metrics with prometheus-adapter: PromQL the adapter sends and Prometheus
//! refuses, rate windows too short for the scrape interval, metric names
//! that lie about their unit, HPAs asking for metrics no rule serves,
//! adapter flags and images that crash or are abandoned, TLS and Pod
//! Security settings, kube-prometheus' RBAC and NetworkPolicy, names
//! that collide with kube-prometheus' own adapter, and KEDA's
//! ScaledObjects: one-sample queries, units, `ignoreNullValues`, metadata
//! keys, rate windows, two autoscalers on one workload, two providers of
//! external metrics.
//!
//! The input is plain values (`serde_json::Value`), not typed objects, so
//! the same checks read this crate's output, Helm-rendered bundles and
//! hand-written files alike. Nothing on the input makes a check panic:
//! what a check cannot read, it skips.
//!
//! ```
//! use custom_metrics_manifests::lint::{lint_config, lint_documents, parse_manifest_files, LintOptions};
//! use custom_metrics_manifests::{Preset, Config};
//!
//! // The recommended preset is clean.
//! assert!(lint_config(&Config::from_preset(Preset::Recommended), &LintOptions::default()).is_empty());
//!
//! // The documented preset keeps the guide's 20s rate window.
//! let findings = lint_config(&Config::from_preset(Preset::Documented), &LintOptions::default());
//! assert!(findings.iter().any(|f| f.id == "rate-window"));
//!
//! // Any manifest file: here an APIService that skips TLS verification.
//! let text = "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1beta1.custom.metrics.k8s.io\nspec:\n  insecureSkipTLSVerify: true\n";
//! let docs = parse_manifest_files(&[("api.yaml".to_owned(), text.to_owned())]).unwrap();
//! let findings = lint_documents(&docs, &LintOptions::default());
//! assert_eq!(findings.len(), 1);
//! assert!(findings[0].to_string().starts_with(
//!     "warning insecure-tls APIService v1beta1.custom.metrics.k8s.io spec.insecureSkipTLSVerify: "
//! ));
//! ```

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::documents::Documents;
use crate::spec::SpecError;
use crate::values::Duration;

mod adapter;
mod catalogue;
mod cluster;
mod keda;
mod memo;
mod model;
mod selectors;
use crate::promql;
mod workload;

pub use catalogue::{markdown_table, Check, CheckInfo, Severity};

use model::{Object, Pod};

/// One problem found in one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's stable id, such as `promql-parse` (see [`Check`]).
    pub id: &'static str,
    /// Error, warning or info.
    pub severity: Severity,
    /// The object, as `Kind namespace/name` (`Kind name` when cluster-scoped).
    pub object: String,
    /// Where in the object, such as
    /// `data.config.yaml rules[0].metricsQuery`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// What would decide the finding that the input does not say (the
    /// message words the verdict without it; a command line names its
    /// flag). Not serialized.
    #[serde(skip)]
    pub hint: Option<Hint>,
}

/// What a finding's verdict depends on beyond the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// Whether this stack is installed next to the input: lint again with
    /// [`LintOptions::stack`] set to it to check.
    Stack(Stack),
}

impl Finding {
    /// The check that reported this finding.
    pub fn check(&self) -> Option<Check> {
        Check::from_id(self.id)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}: {} (fix: {})",
            self.severity, self.id, self.object, self.field, self.message, self.fix
        )
    }
}

/// What else runs in the cluster the input is applied to: the context that
/// decides whether a name collides (kube-prometheus' own adapter) and which
/// NetworkPolicy guards Prometheus when the input has none (the stack's
/// [`StackFacts::network_policy`](crate::stack::StackFacts::network_policy)).
pub use crate::spec::Stack;

/// Settings of a lint run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// Prometheus' scrape interval. Without it, the smallest
    /// `spec.endpoints[].interval` of the input's ServiceMonitors, else 30s
    /// (Prometheus Operator's default).
    pub scrape_interval: Option<Duration>,
    /// The stack installed next to the input, if known.
    pub stack: Option<Stack>,
}

/// Reads manifest files (`(origin, text)`): multi-document YAML (or JSON),
/// `*List` kinds expanded into their items, empty documents skipped. A file
/// that is not YAML gives a [`SpecError`] with its line and column.
pub fn parse_manifest_files(files: &[(String, String)]) -> Result<Documents, SpecError> {
    parse_documents(files).map(Documents)
}

/// [`parse_manifest_files`], as the values the checks read.
pub(crate) fn parse_documents(
    files: &[(String, String)],
) -> Result<Vec<(String, Value)>, SpecError> {
    let mut out = Vec::new();
    for (origin, text) in files {
        let options = crate::spec::strict_options(crate::spec::YamlLimits::MANIFESTS);
        let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
            .map_err(|error| crate::spec::located(&error, origin, ""))?;
        for document in documents {
            expand(document, origin, 0, &mut out);
        }
    }
    Ok(out)
}

/// Pushes `document`, or its items when it is a `List`/`RoleList`/...
fn expand(document: Value, origin: &str, depth: usize, out: &mut Vec<(String, Value)>) {
    expand_each(document, origin, depth, &mut |origin, value| {
        out.push((origin.to_owned(), value));
    });
}

/// Gives `document`, or each of its items when it is a `List`, to `visit`.
fn expand_each(document: Value, origin: &str, depth: usize, visit: &mut dyn FnMut(&str, Value)) {
    if document.is_null() {
        return;
    }
    let is_list = document["kind"]
        .as_str()
        .is_some_and(|kind| kind.ends_with("List"));
    if is_list && depth < 8 {
        if let Some(Value::Array(items)) = document.get("items") {
            for item in items.clone() {
                expand_each(item, origin, depth + 1, visit);
            }
            return;
        }
    }
    visit(origin, document);
}

pub use crate::error::InputError;

/// The top-level keys of a gen-manifests spec that a manifest never has.
const SPEC_KEYS: [&str; 5] = ["preset", "adapter", "prometheus", "apps", "backend"];
/// The sections of prometheus-adapter's own `config.yaml`.
const ADAPTER_CONFIG_KEYS: [&str; 3] = ["rules", "resourceRules", "externalRules"];

/// Lints input files (`(origin, bytes)`), each recognised by its content:
/// Kubernetes manifests (every document with a `kind`, `*List`s
/// expanded), a gen-manifests spec (read as `-c` reads it, `preset`
/// replacing its preset), or prometheus-adapter's own `config.yaml`
/// (checked as the adapter's ConfigMap). The manifests of all files are
/// linted together, as what is applied together.
///
/// A file with none of these (`Cargo.lock`, an empty file) is an error:
/// a CI step given the wrong path must not pass.
pub fn lint_files(
    files: &[(String, Vec<u8>)],
    preset: Option<crate::Preset>,
    options: &LintOptions,
) -> Result<Vec<Finding>, crate::Error> {
    let mut manifests = Vec::new();
    let mut findings = Vec::new();
    for (origin, bytes) in files {
        let text = std::str::from_utf8(bytes).map_err(|_| InputError::NotUtf8(origin.clone()))?;
        let documents = parse_documents(&[(origin.clone(), text.to_owned())])?;
        let objects = documents
            .iter()
            .filter(|(_, value)| value["kind"].as_str().is_some_and(|kind| !kind.is_empty()))
            .count();
        if objects > 0 {
            manifests.extend(documents);
            continue;
        }
        let keys: Vec<&str> = match documents.as_slice() {
            [(_, Value::Object(map))] => map.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        if keys.iter().any(|key| SPEC_KEYS.contains(key)) {
            let mut spec = crate::Spec::from_bytes(bytes, origin)?;
            if preset.is_some() {
                spec.preset = preset;
            }
            let config = Config::from_spec(spec, origin)?;
            findings.extend(
                lint_config(&config, options)
                    .into_iter()
                    .map(|mut finding| {
                        finding.object = format!("{origin}: {}", finding.object);
                        finding
                    }),
            );
        } else if !keys.is_empty() && keys.iter().all(|key| ADAPTER_CONFIG_KEYS.contains(key)) {
            // The adapter's config.yaml on its own: checked as its ConfigMap.
            let name = std::path::Path::new(origin)
                .file_name()
                .map_or(origin.as_str(), |name| name.to_str().unwrap_or(origin));
            manifests.push((
                origin.clone(),
                serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": { "name": name },
                    "data": { "config.yaml": text },
                }),
            ));
        } else {
            return Err(InputError::NothingToLint(origin.clone()).into());
        }
    }
    let mut all = lint_source(manifests.as_slice(), options);
    all.extend(findings);
    Ok(all)
}

/// Lints every object `config` renders (origin `<generated>`).
///
/// ```
/// use custom_metrics_manifests::lint::{lint_config, LintOptions, Severity};
/// use custom_metrics_manifests::{Config, Preset};
///
/// // The default output passes its own lint.
/// let findings = lint_config(&Config::from_preset(Preset::default()), &LintOptions::default());
/// assert!(!findings.iter().any(|finding| finding.severity == Severity::Error));
/// ```
///
/// The scrape
/// interval is `options.scrape_interval`, else the config's
/// `prometheus.scrapeInterval`, else as in [`lint_documents`]. The config
/// targets kube-prometheus (Prometheus `prometheus-k8s` in `monitoring`),
/// so its stack is kube-prometheus unless `options` says otherwise.
pub fn lint_config(config: &Config, options: &LintOptions) -> Vec<Finding> {
    let kube_prometheus = config.prometheus.namespace.as_str() == "monitoring"
        && config.prometheus.service_account.as_str() == "prometheus-k8s";
    let options = LintOptions {
        scrape_interval: options
            .scrape_interval
            .clone()
            .or_else(|| config.prometheus.scrape_interval.clone()),
        stack: options.stack.or(match config.prometheus.stack {
            Stack::KubePrometheus => kube_prometheus.then_some(Stack::KubePrometheus),
            other => Some(other),
        }),
    };
    let rendered = Rendered {
        config,
        unconverted: std::cell::RefCell::new(Vec::new()),
    };
    let mut findings = lint_source(&rendered, &options);
    // An object that cannot become a value is reported, not skipped.
    for error in rendered.unconverted.take() {
        findings.push(Finding {
            id: Check::NotAnObject.id(),
            severity: Severity::Error,
            object: "<generated>".to_owned(),
            field: String::new(),
            message: format!("a generated object could not be read back for checking: {error}"),
            fix: Check::NotAnObject.info().fix.to_owned(),
            hint: None,
        });
    }
    findings
}

/// The objects a config renders, each made a value in turn: the typed
/// objects and their values are never all held (10,000 apps render
/// 20,000 objects).
struct Rendered<'c> {
    config: &'c Config,
    /// The objects that could not become values, from the last visit.
    unconverted: std::cell::RefCell<Vec<String>>,
}

impl Source for Rendered<'_> {
    fn visit(&self, visit: &mut dyn FnMut(&str, &Value)) {
        let mut unconverted = Vec::new();
        for manifest in crate::render::objects(self.config) {
            match serde_json::to_value(&manifest) {
                Ok(value) => expand_each(value, "<generated>", 0, &mut |origin, value| {
                    visit(origin, &value)
                }),
                Err(error) => unconverted.push(error.to_string()),
            }
        }
        *self.unconverted.borrow_mut() = unconverted;
    }
}

/// Documents already read.
impl Source for [(String, Value)] {
    fn visit(&self, visit: &mut dyn FnMut(&str, &Value)) {
        for (origin, value) in self {
            visit(origin, value);
        }
    }
}

/// Runs every check over `docs` (`(origin file, object)`). Findings come in
/// input order of their object, then by id.
pub fn lint_documents(docs: &Documents, options: &LintOptions) -> Vec<Finding> {
    lint_source(docs.0.as_slice(), options)
}

/// The input objects in order, visited as many times as the checks need
/// (twice; the same objects each time), so that a rendered input is never
/// held whole.
trait Source {
    /// Calls `visit` with each object and its origin, in input order.
    fn visit(&self, visit: &mut dyn FnMut(&str, &Value));
}

/// Whether the checks look `object` up from other objects: workloads,
/// Services, NetworkPolicies, Namespaces, Prometheus resources,
/// APIServices and ConfigMaps holding a `config.yaml`. These are held
/// whole; every other object (HPAs, ServiceMonitors, ScaledObjects, Roles,
/// ..., the objects there is one of per app) is checked as it comes and
/// leaves a summary (see [`Index`]).
fn is_context(object: &Object<'_>) -> bool {
    match object.kind {
        "Service" | "NetworkPolicy" | "Namespace" | "Prometheus" | "APIService" => true,
        "ConfigMap" => object.value["data"]["config.yaml"].is_string(),
        _ => model::is_workload(object.kind),
    }
}

/// What the first pass learns about the whole input.
#[derive(Default)]
struct Index {
    /// The context objects, `(index, origin, value)`.
    context: Vec<(usize, String, Value)>,
    scrape: adapter::ScrapeFinder,
    names: cluster::NamesIndex,
    roles: adapter::RoleNamespaces,
    keda: keda::KedaIndex,
}

/// Runs every check over the objects of `source`. Findings come in input
/// order of their object, then by id.
///
/// Two passes: the first holds the context objects and summarises the
/// rest; the checks of the context objects run over them, then the second
/// pass checks each other object against them and the summaries.
fn lint_source(source: &(impl Source + ?Sized), options: &LintOptions) -> Vec<Finding> {
    let mut index = Index::default();
    let mut count = 0;
    source.visit(&mut |origin, value| {
        let object = Object::new(count, origin, value);
        count += 1;
        index.scrape.observe(&object);
        index.names.observe(&object);
        index.roles.observe(&object);
        index.keda.observe(&object);
        if is_context(&object) {
            index
                .context
                .push((object.index, origin.to_owned(), value.clone()));
        }
    });
    // The HPAs' summaries serve the checks of KEDA's scalers only.
    index.keda.forget_hpas_without_scalers();
    let objects: Vec<Object<'_>> = index
        .context
        .iter()
        .map(|(at, origin, value)| Object::new(*at, origin, value))
        .collect();
    let mut lint = Lint::default();
    let pods: Vec<Pod<'_>> = objects.iter().filter_map(Pod::of).collect();
    let configs = adapter::adapter_configs(&objects, &pods, &mut lint);
    let scrape = index.scrape.finish(options);

    adapter::check_configs(&configs, &scrape, &mut lint);
    adapter::check_served_apis(&objects, &pods, &configs, &mut lint);
    for pod in &pods {
        workload::check_pod(pod, &scrape, &mut lint);
    }
    cluster::check_network_policies(&objects, &pods, options.stack, &mut lint);

    let hpas = adapter::HpaCheck::new(&configs, &index.roles);
    let mut names = cluster::NameCheck::new(&index.names, options.stack);
    let monitors = selectors::MonitorCheck::new(&objects);
    let mut keda = keda::KedaCheck::new(&index.keda, &scrape);
    let mut count = 0;
    source.visit(&mut |origin, value| {
        let object = Object::new(count, origin, value);
        count += 1;
        // In the order the checks ran when every object was held: the
        // findings of one object and id keep the order found.
        model::check_shape(&object, &mut lint);
        hpas.check(&object, &mut lint);
        names.check(&object, &mut lint);
        monitors.check(&object, &objects, &mut lint);
        keda.check(&object, &mut lint);
        cluster::check_api_service(&object, &mut lint);
    });
    lint.finish()
}

/// Findings with the index of their object, for ordering.
#[derive(Default)]
struct Lint {
    findings: Vec<(usize, Finding)>,
}

impl Lint {
    fn push(
        &mut self,
        object: &Object<'_>,
        check: Check,
        severity: Severity,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push_at(
            object.index,
            object.display(),
            check,
            severity,
            field,
            message,
            fix,
        );
    }

    /// [`Lint::push`] onto an object no longer held: its index and how it
    /// displays.
    #[allow(clippy::too_many_arguments)]
    fn push_at(
        &mut self,
        index: usize,
        object: String,
        check: Check,
        severity: Severity,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings.push((
            index,
            Finding {
                id: check.id(),
                severity,
                object,
                field: field.into(),
                message: message.into(),
                fix: fix.into(),
                hint: None,
            },
        ));
    }

    /// Gives the last finding pushed `hint`.
    fn hint(&mut self, hint: Hint) {
        if let Some((_, finding)) = self.findings.last_mut() {
            finding.hint = Some(hint);
        }
    }

    fn finish(mut self) -> Vec<Finding> {
        // Stable: findings of one object and id keep the order found.
        self.findings
            .sort_by(|(a, x), (b, y)| a.cmp(b).then(x.id.cmp(y.id)));
        self.findings
            .into_iter()
            .map(|(_, finding)| finding)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(yaml: &str) -> Vec<Finding> {
        let docs = parse_manifest_files(&[("test.yaml".to_owned(), yaml.to_owned())]).unwrap();
        lint_documents(&docs, &LintOptions::default())
    }

    /// lint_config renders the objects twice and holds none: it finds what
    /// linting the held objects finds, in the same order, on specs with
    /// findings on many objects (KEDA conflicts, rate windows, HPAs).
    #[test]
    fn rendered_twice_finds_what_the_held_objects_show() {
        let mut apps = String::new();
        for i in 0..40 {
            apps.push_str(&format!(
                "- name: app-{i}\n  namespace: ns-{}\n  deployment: web-{}\n  metric: http_requests_per_minute\n  targetAverageValue: \"1.5\"\n  maxReplicas: 4\n",
                i % 3,
                i % 4
            ));
        }
        for backend in ["adapter", "keda"] {
            let text = format!("preset: documented\nbackend: {backend}\napps:\n{apps}");
            let spec = crate::Spec::from_bytes(text.as_bytes(), "spec.yaml").unwrap();
            let config = Config::from_spec(spec, "spec.yaml").unwrap();
            let options = LintOptions::default();
            let rendered = Rendered {
                config: &config,
                unconverted: std::cell::RefCell::new(Vec::new()),
            };
            let streamed = lint_source(&rendered, &options);
            let mut held = Vec::new();
            rendered.visit(&mut |origin, value| held.push((origin.to_owned(), value.clone())));
            assert_eq!(
                streamed,
                lint_source(held.as_slice(), &options),
                "{backend}"
            );
            // keda: a conflict between each two ScaledObjects of a Deployment.
            let least = if backend == "keda" { 40 } else { 1 };
            assert!(streamed.len() >= least, "{backend}: {}", streamed.len());
        }
    }

    #[test]
    fn lists_expand_and_nulls_are_skipped() {
        let docs = parse_manifest_files(&[(
            "a.yaml".to_owned(),
            "---\n---\nkind: RoleList\nitems:\n- kind: Role\n  metadata: {name: a}\n- kind: Role\n  metadata: {name: b}\n---\nkind: List\nitems: []\n"
                .to_owned(),
        )])
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs.0[1].1["metadata"]["name"], "b");
        assert_eq!(docs.origins().next(), Some("a.yaml"));
    }

    #[test]
    fn malformed_yaml_is_located() {
        let error = parse_manifest_files(&[(
            "bad.yaml".to_owned(),
            "kind: A\n---\na: [1,\nb: }\n".to_owned(),
        )])
        .unwrap_err();
        assert_eq!(error.origin, "bad.yaml");
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn display_is_one_line() {
        let findings = lint("kind: APIService\nmetadata: {name: v1beta1.metrics.k8s.io}\nspec: {insecureSkipTLSVerify: true}\n");
        let lines: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2);
        // Sorted by id within the object; without kube-prometheus in the
        // context, the name is only worth a note.
        assert!(lines[0].starts_with(
            "warning insecure-tls APIService v1beta1.metrics.k8s.io spec.insecureSkipTLSVerify: "
        ));
        assert!(lines[1]
            .starts_with("info name-collision APIService v1beta1.metrics.k8s.io metadata.name: "));
        assert!(lines
            .iter()
            .all(|line| !line.contains('\n') && line.ends_with(')')));
        let json = serde_json::to_value(&findings[1]).unwrap();
        assert_eq!(json["severity"], "info");
        assert_eq!(json["id"], "name-collision");
    }

    #[test]
    fn odd_values_do_not_panic() {
        for yaml in [
            "kind: ConfigMap\ndata: 5\n",
            "kind: ConfigMap\ndata:\n  config.yaml: 7\n",
            "kind: ConfigMap\ndata:\n  config.yaml: \"rules: [1, {seriesQuery: 3}, {metricsQuery: []}]\\nresourceRules: x\"\n",
            "kind: Deployment\nspec: {template: {spec: {containers: 3}}}\n",
            "kind: Deployment\nspec: {template: {spec: {containers: [{image: 5}, {image: \"\"}, 7]}}}\n",
            "kind: HorizontalPodAutoscaler\nspec: {metrics: [{type: Pods}, {type: Object, object: 3}, 1]}\n",
            "kind: ServiceMonitor\nspec: {endpoints: [{interval: 0s}, {interval: nonsense}, {}]}\n",
            "- 1\n- 2\n",
            "just a string\n",
            "kind: 5\nmetadata: []\n",
        ] {
            let _ = lint(yaml);
        }
    }
}
