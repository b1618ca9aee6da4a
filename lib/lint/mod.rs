//! Checks of Kubernetes manifests for what breaks autoscaling on custom
//! metrics with prometheus-adapter: PromQL the adapter sends and Prometheus
//! refuses, rate windows too short for the scrape interval, metric names
//! that lie about their unit, HPAs asking for metrics no rule serves,
//! adapter flags and images that crash or are abandoned, TLS and Pod
//! Security settings, kube-prometheus' RBAC and NetworkPolicy, and names
//! that collide with kube-prometheus' own adapter.
//!
//! The input is plain values (`serde_json::Value`), not typed objects, so
//! the same checks read this crate's output, Helm-rendered bundles and
//! hand-written files alike. Nothing on the input makes a check panic:
//! what a check cannot read, it skips.
//!
//! ```
//! use custom_metrics_manifests::lint::{lint_config, lint_documents, parse_manifest_files, LintOptions};
//! use custom_metrics_manifests::preset::Preset;
//!
//! // The recommended preset is clean.
//! assert!(lint_config(&Preset::Recommended.config(), &LintOptions::default()).is_empty());
//!
//! // The documented preset keeps the guide's 20s rate window.
//! let findings = lint_config(&Preset::Documented.config(), &LintOptions::default());
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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration as StdDuration;

use serde::Serialize;
use serde_json::Value;

use crate::adapter_config::{NameMapping, Rule, SeriesFilter};
use crate::config::{Config, DEFAULT_SERIES};
use crate::spec::SpecError;
use crate::values::{parse_duration_millis, Duration, Image};

pub(crate) mod promql;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The setup does not work: a query fails, the adapter crashes, the
    /// HPA never gets its metric.
    Error,
    /// The setup works badly or unsafely.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's stable id, such as `promql-parse` (see [`RULES`]).
    pub id: &'static str,
    /// Error or warning.
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

/// Settings of a lint run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// Prometheus' scrape interval. Without it, the smallest
    /// `spec.endpoints[].interval` of the input's ServiceMonitors, else 30s
    /// (Prometheus Operator's default).
    pub scrape_interval: Option<Duration>,
}

/// Every check: its id and what it looks for.
pub const RULES: &[(&str, &str)] = &[
    ("promql-parse", "error: an adapter query that is not PromQL once filled in, or a seriesQuery that is not a selector"),
    ("rate-window", "rate/irate/increase window below 2 x scrape interval (error) or 4 x (warning)"),
    ("metric-unit", "warning: a metric named _per_minute/_per_hour computed with per-second rate()"),
    ("duplicate-metric", "error: two rules serve one metric from the same series"),
    ("hpa-unknown-metric", "error: an HPA Pods/Object metric that no adapter rule serves"),
    ("adapter-config", "error: the adapter's config.yaml is not YAML or has no rules"),
    ("klog-flags", "error: klog flags on an adapter image v0.11 or later, which exits on them"),
    ("deprecated-image", "warning: the abandoned directxman12/ images"),
    ("insecure-tls", "warning: an APIService with insecureSkipTLSVerify"),
    ("pod-security", "warning: an adapter container that Pod Security `restricted` refuses"),
    ("prometheus-role-missing", "error: an HPA's namespace has no prometheus-k8s Role, so Prometheus scrapes nothing there"),
    ("network-policy", "warning: adapter pods in monitoring that kube-prometheus' NetworkPolicy keeps from Prometheus"),
    ("name-collision", "error: objects named like kube-prometheus' own adapter"),
    ("prometheus-url", "error: --prometheus-url without scheme or port"),
];

/// Reads manifest files (`(origin, text)`): multi-document YAML (or JSON),
/// `*List` kinds expanded into their items, empty documents skipped. A file
/// that is not YAML gives a [`SpecError`] with its line and column.
pub fn parse_manifest_files(files: &[(String, String)]) -> Result<Vec<(String, Value)>, SpecError> {
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
    if document.is_null() {
        return;
    }
    let is_list = document["kind"]
        .as_str()
        .is_some_and(|kind| kind.ends_with("List"));
    if is_list && depth < 8 {
        if let Some(Value::Array(items)) = document.get("items") {
            for item in items.clone() {
                expand(item, origin, depth + 1, out);
            }
            return;
        }
    }
    out.push((origin.to_owned(), document));
}

/// Lints every object `config` renders (origin `<generated>`). The scrape
/// interval is `options.scrape_interval`, else the config's
/// `prometheus.scrapeInterval`, else as in [`lint_documents`].
pub fn lint_config(config: &Config, options: &LintOptions) -> Vec<Finding> {
    let mut docs = Vec::new();
    for manifest in crate::render::manifests(config) {
        if let Ok(value) = serde_json::to_value(&manifest) {
            expand(value, "<generated>", 0, &mut docs);
        }
    }
    let options = LintOptions {
        scrape_interval: options
            .scrape_interval
            .clone()
            .or_else(|| config.prometheus.scrape_interval.clone()),
    };
    lint_documents(&docs, &options)
}

/// Runs every check over `docs` (`(origin file, object)`). Findings come in
/// input order of their object, then by id.
pub fn lint_documents(docs: &[(String, Value)], options: &LintOptions) -> Vec<Finding> {
    let objects: Vec<Object<'_>> = docs
        .iter()
        .enumerate()
        .map(|(index, (_, value))| Object::new(index, value))
        .collect();
    let mut lint = Lint::default();
    let pods: Vec<Pod<'_>> = objects.iter().filter_map(Pod::of).collect();
    let adapter_configs = adapter_configs(&objects, &pods, &mut lint);
    let scrape = scrape_interval(&objects, options);

    for config in &adapter_configs {
        check_queries(config, &scrape, &mut lint);
        check_duplicates(config, &mut lint);
    }
    check_hpas(&objects, &adapter_configs, &mut lint);
    for pod in &pods {
        check_pod(pod, &mut lint);
    }
    for object in &objects {
        check_api_service(object, &mut lint);
        check_name_collision(object, &mut lint);
    }
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
        id: &'static str,
        severity: Severity,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings.push((
            object.index,
            Finding {
                id,
                severity,
                object: object.display(),
                field: field.into(),
                message: message.into(),
                fix: fix.into(),
            },
        ));
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

/// One input object, with what every check reads.
struct Object<'a> {
    index: usize,
    value: &'a Value,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
}

impl<'a> Object<'a> {
    fn new(index: usize, value: &'a Value) -> Self {
        Object {
            index,
            value,
            kind: value["kind"].as_str().unwrap_or(""),
            name: value["metadata"]["name"].as_str().unwrap_or(""),
            namespace: value["metadata"]["namespace"]
                .as_str()
                .filter(|ns| !ns.is_empty()),
        }
    }

    fn display(&self) -> String {
        let kind = if self.kind.is_empty() {
            "<no kind>"
        } else {
            self.kind
        };
        match self.namespace {
            Some(namespace) => format!("{kind} {namespace}/{}", self.name),
            None => format!("{kind} {}", self.name),
        }
    }
}

/// A pod template (or Pod) inside a workload object.
struct Pod<'a> {
    object: &'a Object<'a>,
    /// Path of the pod spec, such as `spec.template.spec`.
    spec_path: &'static str,
    spec: &'a Value,
    /// Path of the pod's labels.
    labels_path: &'static str,
    labels: &'a Value,
}

impl<'a> Pod<'a> {
    fn of(object: &'a Object<'a>) -> Option<Self> {
        let value = object.value;
        let (spec_path, labels_path, spec, labels) = match object.kind {
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "ReplicationController" => (
                "spec.template.spec",
                "spec.template.metadata.labels",
                &value["spec"]["template"]["spec"],
                &value["spec"]["template"]["metadata"]["labels"],
            ),
            "CronJob" => (
                "spec.jobTemplate.spec.template.spec",
                "spec.jobTemplate.spec.template.metadata.labels",
                &value["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                &value["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
            ),
            "Pod" => (
                "spec",
                "metadata.labels",
                &value["spec"],
                &value["metadata"]["labels"],
            ),
            _ => return None,
        };
        spec.is_object().then_some(Pod {
            object,
            spec_path,
            spec,
            labels_path,
            labels,
        })
    }

    /// `(field path, container)` for init and app containers.
    fn containers(&self) -> Vec<(String, &'a Value)> {
        let mut out = Vec::new();
        for list in ["initContainers", "containers"] {
            if let Some(containers) = self.spec[list].as_array() {
                for (index, container) in containers.iter().enumerate() {
                    if container.is_object() {
                        out.push((format!("{}.{list}[{index}]", self.spec_path), container));
                    }
                }
            }
        }
        out
    }

    /// The containers whose image is a prometheus-adapter image.
    fn adapter_containers(&self) -> Vec<(String, &'a Value, Image)> {
        self.containers()
            .into_iter()
            .filter_map(|(path, container)| {
                let image = image_of(container)?;
                is_adapter_image(&image).then_some((path, container, image))
            })
            .collect()
    }

    /// ConfigMaps mounted as volumes.
    fn config_maps(&self) -> Vec<&'a str> {
        self.spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|volume| volume["configMap"]["name"].as_str())
            .collect()
    }
}

fn image_of(container: &Value) -> Option<Image> {
    container["image"].as_str()?.parse().ok()
}

fn is_adapter_image(image: &Image) -> bool {
    image.repository().contains("prometheus-adapter")
}

/// An adapter `config.yaml` read as a plain value.
struct AdapterConfigDoc<'a> {
    object: &'a Object<'a>,
    config: Value,
}

const CONFIG_FIELD: &str = "data.config.yaml";
const CONFIG_SECTIONS: [&str; 3] = ["rules", "resourceRules", "externalRules"];

/// ConfigMaps whose `config.yaml` is an adapter configuration (it has one
/// of the adapter's sections), and `adapter-config` findings for those an
/// adapter pod mounts that are not.
fn adapter_configs<'a>(
    objects: &'a [Object<'a>],
    pods: &[Pod<'a>],
    lint: &mut Lint,
) -> Vec<AdapterConfigDoc<'a>> {
    let mounted: BTreeSet<(Option<&str>, &str)> = pods
        .iter()
        .filter(|pod| !pod.adapter_containers().is_empty())
        .flat_map(|pod| {
            pod.config_maps()
                .into_iter()
                .map(|name| (pod.object.namespace, name))
        })
        .collect();
    let mut out = Vec::new();
    for object in objects.iter().filter(|object| object.kind == "ConfigMap") {
        let Some(text) = object.value["data"]["config.yaml"].as_str() else {
            continue;
        };
        let is_mounted = mounted.contains(&(object.namespace, object.name));
        match serde_saphyr::from_str::<Value>(text) {
            Ok(config) if CONFIG_SECTIONS.iter().any(|key| config.get(key).is_some()) => {
                out.push(AdapterConfigDoc { object, config });
            }
            Ok(_) if is_mounted => lint.push(
                object,
                "adapter-config",
                Severity::Error,
                CONFIG_FIELD,
                "the adapter mounts this config.yaml, which has no rules, resourceRules or externalRules: it serves no metric",
                "add the rules that turn your series into metrics",
            ),
            Err(error) if is_mounted => lint.push(
                object,
                "adapter-config",
                Severity::Error,
                CONFIG_FIELD,
                format!(
                    "the adapter mounts this config.yaml, which is not YAML ({}); the adapter exits at start-up",
                    crate::spec::clean_message(&error.without_snippet().to_string())
                ),
                "fix the YAML syntax of config.yaml",
            ),
            _ => {}
        }
    }
    out
}

/// A PromQL template of an adapter config.
struct Query<'a> {
    field: String,
    template: &'a str,
    /// What `<<.Series>>` stands for.
    series: String,
    /// For discovery rules: the rule itself.
    rule: Option<&'a Value>,
}

/// The literal metric name a series selector starts with, if any.
fn literal_series(series_query: &str) -> &str {
    let query = series_query.trim();
    let end = query
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(query.len());
    &query[..end]
}

fn queries(config: &Value) -> Vec<Query<'_>> {
    let mut out = Vec::new();
    for section in ["rules", "externalRules"] {
        for (index, rule) in config[section].as_array().into_iter().flatten().enumerate() {
            let series = rule["seriesQuery"]
                .as_str()
                .map(literal_series)
                .unwrap_or("");
            let series = if series.is_empty() {
                DEFAULT_SERIES
            } else {
                series
            };
            if let Some(template) = rule["metricsQuery"].as_str() {
                out.push(Query {
                    field: format!("{section}[{index}].metricsQuery"),
                    template,
                    series: series.to_owned(),
                    rule: Some(rule),
                });
            }
        }
    }
    for resource in ["cpu", "memory"] {
        for key in ["containerQuery", "nodeQuery"] {
            if let Some(template) = config["resourceRules"][resource][key].as_str() {
                out.push(Query {
                    field: format!("resourceRules.{resource}.{key}"),
                    template,
                    series: "container_cpu_usage_seconds_total".to_owned(),
                    rule: None,
                });
            }
        }
    }
    out
}

/// The scrape interval and where it comes from.
struct Scrape {
    interval: StdDuration,
    source: String,
}

fn scrape_interval(objects: &[Object<'_>], options: &LintOptions) -> Scrape {
    if let Some(interval) = &options.scrape_interval {
        let millis = parse_duration_millis(interval.as_str()).unwrap_or(interval.as_secs() * 1000);
        return Scrape {
            interval: StdDuration::from_millis(millis),
            source: format!("the scrape interval {interval}"),
        };
    }
    let smallest = objects
        .iter()
        .filter(|object| object.kind == "ServiceMonitor" || object.kind == "PodMonitor")
        .flat_map(|object| {
            let key = if object.kind == "ServiceMonitor" {
                "endpoints"
            } else {
                "podMetricsEndpoints"
            };
            object.value["spec"][key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|endpoint| endpoint["interval"].as_str())
                .filter_map(move |text| Some((parse_duration_millis(text)?, object)))
        })
        .filter(|(millis, _)| *millis > 0)
        .min_by_key(|(millis, object)| (*millis, object.index));
    match smallest {
        Some((millis, object)) => Scrape {
            interval: StdDuration::from_millis(millis),
            source: format!(
                "the scrape interval {} of {}",
                promql::format_duration(StdDuration::from_millis(millis)),
                object.display()
            ),
        },
        None => Scrape {
            interval: StdDuration::from_secs(30),
            source: "the 30s scrape interval (Prometheus Operator's default)".to_owned(),
        },
    }
}

/// promql-parse, rate-window and metric-unit.
fn check_queries(config: &AdapterConfigDoc<'_>, scrape: &Scrape, lint: &mut Lint) {
    let object = config.object;
    for section in ["rules", "externalRules"] {
        for (index, rule) in config.config[section]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(series_query) = rule["seriesQuery"].as_str() else {
                continue;
            };
            let problem = match promql::parse(series_query) {
                Ok(promql_parser::parser::Expr::VectorSelector(_)) => None,
                Ok(_) => Some(
                    "is not a series selector such as `http_requests_total{namespace!=\"\"}`"
                        .to_owned(),
                ),
                Err(error) => Some(format!("does not parse as PromQL: {error}")),
            };
            if let Some(problem) = problem {
                lint.push(
                    object,
                    "promql-parse",
                    Severity::Error,
                    format!("{CONFIG_FIELD} {section}[{index}].seriesQuery"),
                    format!("the seriesQuery `{series_query}` {problem}; the adapter discovers no series with it"),
                    "write a metric name with optional label matchers, such as `http_requests_total{namespace!=\"\",pod!=\"\"}`",
                );
            }
        }
    }

    for query in queries(&config.config) {
        let field = format!("{CONFIG_FIELD} {}", query.field);
        let Some(filled) = promql::fill(query.template, &query.series) else {
            continue;
        };
        let expr = match promql::parse(&filled) {
            Ok(expr) => expr,
            Err(error) => {
                let repeated = query.template.matches("by (<<.GroupBy>>)").count() > 1;
                let fix = if repeated {
                    "say `by (<<.GroupBy>>)` once".to_owned()
                } else {
                    "correct the query so that Prometheus accepts it with the placeholders filled in".to_owned()
                };
                lint.push(
                    object,
                    "promql-parse",
                    Severity::Error,
                    field,
                    format!(
                        "Prometheus refuses the query as the adapter fills it in, `{}` ({error}), \
                         so the adapter serves no value for it",
                        filled.split_whitespace().collect::<Vec<_>>().join(" ")
                    ),
                    fix,
                );
                continue;
            }
        };
        let Some(rule) = query.rule else { continue };

        for (function, window) in promql::rate_windows(&expr) {
            let (severity, samples) = if window < scrape.interval * 2 {
                (
                    Severity::Error,
                    "fewer than 2 samples, so it returns nothing",
                )
            } else if window < scrape.interval * 4 {
                (
                    Severity::Warning,
                    "only 2 or 3 samples, so one missed scrape empties it",
                )
            } else {
                continue;
            };
            let recommended = promql::format_duration(scrape.interval * 4);
            lint.push(
                object,
                "rate-window",
                severity,
                field.clone(),
                format!(
                    "{function}() over {} sees {samples} at {}",
                    promql::format_duration(window),
                    scrape.source
                ),
                format!("use a window of at least 4 scrape intervals, such as [{recommended}]"),
            );
        }

        let served_as = rule["name"]["as"].as_str().unwrap_or("");
        let unit = [("_per_minute", "60"), ("_per_hour", "3600")]
            .into_iter()
            .find(|(suffix, _)| served_as.ends_with(suffix));
        if let Some((suffix, factor)) = unit {
            let per_second = promql::rate_windows(&expr)
                .iter()
                .any(|(f, _)| *f != "increase");
            if per_second && !multiplies_by(query.template, factor) {
                lint.push(
                    object,
                    "metric-unit",
                    Severity::Warning,
                    field.clone(),
                    format!(
                        "the metric is named `{served_as}` but rate() gives a value per second: \
                         an HPA target written per {} is off by a factor of {factor}",
                        &suffix["_per_".len()..]
                    ),
                    format!(
                        "name it `${{1}}_per_second` (and write the HPA target per second), \
                         or multiply the rate by {factor}"
                    ),
                );
            }
        }
    }
}

/// Whether `query` multiplies by `factor` (`* 60`, `60 *`).
fn multiplies_by(query: &str, factor: &str) -> bool {
    let pattern = format!(r"\*\s*{factor}(\.0*)?\b|\b{factor}(\.0*)?\s*\*");
    regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(query))
}

/// A rule of a config as the adapter's schema, for [`crate::naming`].
fn to_rule(value: &Value) -> Option<Rule> {
    let filters = value["seriesFilters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|filter| SeriesFilter {
            is: filter["is"].as_str().map(str::to_owned),
            is_not: filter["isNot"].as_str().map(str::to_owned),
        })
        .collect();
    let name = value["name"].is_object().then(|| NameMapping {
        matches: value["name"]["matches"].as_str().unwrap_or("").to_owned(),
        r#as: value["name"]["as"].as_str().map(str::to_owned),
    });
    Some(Rule {
        series_query: value["seriesQuery"].as_str()?.to_owned(),
        series_filters: filters,
        name,
        metrics_query: value["metricsQuery"].as_str().map(str::to_owned),
        ..Rule::default()
    })
}

/// A metric a discovery rule serves.
struct Served {
    name: String,
    series: String,
    rule: usize,
}

/// The metrics `config`'s discovery rules serve for the series they name
/// and for the request counter; `open` is whether some rule selects series
/// by a regex only, so that it may serve more.
fn served_metrics(config: &Value) -> (Vec<Served>, bool) {
    let mut served = Vec::new();
    let mut open = false;
    for (index, value) in config["rules"].as_array().into_iter().flatten().enumerate() {
        let Some(rule) = to_rule(value) else { continue };
        let literal = literal_series(&rule.series_query);
        open |= literal.is_empty();
        let mut candidates = vec![DEFAULT_SERIES];
        if !literal.is_empty() && literal != DEFAULT_SERIES {
            candidates.push(literal);
        }
        for series in candidates {
            if let Ok(Some(name)) = crate::naming::served_metric(&rule, series) {
                served.push(Served {
                    name,
                    series: series.to_owned(),
                    rule: index,
                });
            }
        }
    }
    (served, open)
}

/// duplicate-metric.
fn check_duplicates(config: &AdapterConfigDoc<'_>, lint: &mut Lint) {
    let (served, _) = served_metrics(&config.config);
    let mut first: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for metric in &served {
        let key = (metric.name.as_str(), metric.series.as_str());
        match first.get(&key) {
            Some(&earlier) if earlier != metric.rule => lint.push(
                config.object,
                "duplicate-metric",
                Severity::Error,
                format!("{CONFIG_FIELD} rules[{}]", metric.rule),
                format!(
                    "rules[{earlier}] and rules[{}] both serve `{}` from the series `{}`; \
                     the adapter keeps one and an HPA may read the other's values",
                    metric.rule, metric.name, metric.series
                ),
                "remove one rule, or narrow one with seriesFilters or a different name.as",
            ),
            Some(_) => {}
            None => {
                first.insert(key, metric.rule);
            }
        }
    }
}

/// The `(field, metric name)` of an HPA's Pods and Object metrics.
fn hpa_custom_metrics(hpa: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (index, metric) in hpa["spec"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let key = match metric["type"].as_str() {
            Some("Pods") => "pods",
            Some("Object") => "object",
            _ => continue,
        };
        // autoscaling/v2 and v2beta2 say metric.name; v2beta1 said metricName.
        if let Some(name) = metric[key]["metric"]["name"].as_str() {
            out.push((format!("spec.metrics[{index}].{key}.metric.name"), name));
        } else if let Some(name) = metric[key]["metricName"].as_str() {
            out.push((format!("spec.metrics[{index}].{key}.metricName"), name));
        }
    }
    out
}

/// hpa-unknown-metric and prometheus-role-missing.
fn check_hpas(objects: &[Object<'_>], configs: &[AdapterConfigDoc<'_>], lint: &mut Lint) {
    let custom: Vec<&AdapterConfigDoc<'_>> = configs
        .iter()
        .filter(|config| config.config["rules"].is_array())
        .collect();
    let mut served = BTreeSet::new();
    let mut open = false;
    for config in &custom {
        let (metrics, has_open) = served_metrics(&config.config);
        open |= has_open;
        served.extend(metrics.into_iter().map(|metric| metric.name));
    }
    let role_namespaces: BTreeSet<Option<&str>> = objects
        .iter()
        .filter(|object| object.kind == "Role" && object.name == "prometheus-k8s")
        .map(|object| object.namespace)
        .collect();

    for hpa in objects
        .iter()
        .filter(|object| object.kind == "HorizontalPodAutoscaler")
    {
        let metrics = hpa_custom_metrics(hpa.value);
        if !custom.is_empty() && !open {
            for (field, name) in &metrics {
                if served.contains(*name) {
                    continue;
                }
                let list = if served.is_empty() {
                    "none".to_owned()
                } else {
                    served
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                lint.push(
                    hpa,
                    "hpa-unknown-metric",
                    Severity::Error,
                    field.clone(),
                    format!("no adapter rule serves the metric `{name}`, so the HPA never scales; the rules serve: {list}"),
                    "use a metric the rules serve, or add a rule whose name.as produces it",
                );
            }
        }
        if !role_namespaces.is_empty() && !metrics.is_empty() {
            if let Some(namespace) = hpa.namespace {
                if !role_namespaces.contains(&Some(namespace)) {
                    lint.push(
                        hpa,
                        "prometheus-role-missing",
                        Severity::Error,
                        "metadata.namespace",
                        format!(
                            "namespace `{namespace}` has no prometheus-k8s Role, so kube-prometheus' \
                             Prometheus cannot discover the pods there and the metric has no series"
                        ),
                        format!(
                            "add a prometheus-k8s Role and RoleBinding in `{namespace}` \
                             (gen-manifests roles, or kube-prometheus' prometheus.namespaces)"
                        ),
                    );
                }
            }
        }
    }
}

/// The klog flags prometheus-adapter v0.11 removed; passing one makes it exit.
const KLOG_FLAGS: [&str; 11] = [
    "--logtostderr",
    "--alsologtostderr",
    "--log-dir",
    "--log-file",
    "--log-file-max-size",
    "--skip-log-headers",
    "--stderrthreshold",
    "--one-output",
    "--skip-headers",
    "--add-dir-header",
    "--log-backtrace-at",
];

const NETWORK_POLICY_NAMES: [&str; 3] = ["prometheus", "prometheus-adapter", "grafana"];

/// Container checks: klog-flags, deprecated-image, pod-security,
/// prometheus-url; and network-policy for the pod.
fn check_pod(pod: &Pod<'_>, lint: &mut Lint) {
    let object = pod.object;
    for (path, container) in pod.containers() {
        let Some(image) = image_of(container) else {
            continue;
        };
        let repository = image.repository();
        let unprefixed = repository
            .strip_prefix("docker.io/")
            .or_else(|| repository.strip_prefix("index.docker.io/"))
            .unwrap_or(repository);
        if unprefixed.starts_with("directxman12/") {
            lint.push(
                object,
                "deprecated-image",
                Severity::Warning,
                format!("{path}.image"),
                format!(
                    "`{image}` is the old image from before the project moved to kubernetes-sigs; \
                     it gets no more releases or fixes"
                ),
                "use registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0, without klog flags such as --logtostderr",
            );
        }
        if !is_adapter_image(&image) {
            continue;
        }
        let args = arguments(container, &path);

        if image.version().is_some_and(|version| version >= (0, 11, 0)) {
            for (field, arg) in &args {
                let flag = arg.split('=').next().unwrap_or(arg);
                if KLOG_FLAGS.contains(&flag) {
                    lint.push(
                        object,
                        "klog-flags",
                        Severity::Error,
                        field.clone(),
                        format!("`{arg}`: prometheus-adapter {} no longer has klog's flag {flag} and exits at start-up", image.tag().unwrap_or("")),
                        format!("remove {flag}; logs go to stderr by default"),
                    );
                }
            }
        }

        for (index, (field, arg)) in args.iter().enumerate() {
            let url = if let Some(url) = arg.strip_prefix("--prometheus-url=") {
                url
            } else if arg == "--prometheus-url" {
                match args.get(index + 1) {
                    Some((_, url)) => url.as_str(),
                    None => continue,
                }
            } else {
                continue;
            };
            if let Some(problem) = url_problem(url) {
                lint.push(
                    object,
                    "prometheus-url",
                    Severity::Error,
                    field.clone(),
                    format!("--prometheus-url `{url}` {problem}, so the adapter does not reach Prometheus"),
                    "write scheme, host and port, such as http://prometheus-k8s.monitoring.svc:9090",
                );
            }
        }

        let problems = pod_security_problems(pod.spec, container);
        if !problems.is_empty() {
            lint.push(
                object,
                "pod-security",
                Severity::Warning,
                format!("{path}.securityContext"),
                format!(
                    "Pod Security `restricted` refuses the adapter pod: {}",
                    problems.join("; ")
                ),
                "set capabilities.drop: [\"ALL\"], seccompProfile.type: RuntimeDefault, runAsNonRoot: true and allowPrivilegeEscalation: false",
            );
        }
    }

    if object.namespace == Some("monitoring") && !pod.adapter_containers().is_empty() {
        let name = pod.labels["app.kubernetes.io/name"].as_str();
        if !name.is_some_and(|name| NETWORK_POLICY_NAMES.contains(&name)) {
            lint.push(
                object,
                "network-policy",
                Severity::Warning,
                pod.labels_path,
                format!(
                    "kube-prometheus' NetworkPolicy prometheus-k8s admits to port 9090 only pods labelled \
                     app.kubernetes.io/name {}; these pods have {}, so the adapter's queries time out",
                    NETWORK_POLICY_NAMES.join(", "),
                    name.map_or("no such label".to_owned(), |name| format!("`{name}`"))
                ),
                "label the adapter pods app.kubernetes.io/name: prometheus-adapter",
            );
        }
    }
}

/// `(field, argument)` for the container's command and args.
fn arguments(container: &Value, path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in ["command", "args"] {
        for (index, arg) in container[key].as_array().into_iter().flatten().enumerate() {
            if let Some(arg) = arg.as_str() {
                out.push((format!("{path}.{key}[{index}]"), arg.to_owned()));
            }
        }
    }
    out
}

/// What is missing from a Prometheus URL, if anything.
fn url_problem(url: &str) -> Option<&'static str> {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Some("has no scheme (http:// or https://)");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let port = match host_port.rfind(']') {
        // [IPv6]:port
        Some(end) => host_port[end + 1..].strip_prefix(':'),
        None => host_port.rsplit_once(':').map(|(_, port)| port),
    };
    match port {
        Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => None,
        _ => Some("has no port (Prometheus listens on 9090, not the scheme's default)"),
    }
}

/// Why Pod Security `restricted` refuses `container` in a pod of `spec`.
fn pod_security_problems(spec: &Value, container: &Value) -> Vec<String> {
    let context = &container["securityContext"];
    let pod_context = &spec["securityContext"];
    let mut problems = Vec::new();
    let drop = &context["capabilities"]["drop"];
    let drops_all = drop
        .as_array()
        .is_some_and(|items| items.iter().any(|item| item.as_str() == Some("ALL")));
    if !drops_all {
        problems.push(if drop.is_null() {
            "capabilities.drop is not set, it must contain \"ALL\"".to_owned()
        } else {
            format!("capabilities.drop is {drop}, it must contain \"ALL\" (upper-case)")
        });
    }
    let effective = |key: &str| {
        let own = &context[key];
        if own.is_null() {
            &pod_context[key]
        } else {
            own
        }
    };
    let seccomp = effective("seccompProfile")["type"].as_str();
    if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
        problems.push(match seccomp {
            Some(other) => format!("seccompProfile.type is {other}, not RuntimeDefault"),
            None => "no seccompProfile.type: RuntimeDefault (container or pod)".to_owned(),
        });
    }
    if effective("runAsNonRoot").as_bool() != Some(true) {
        problems.push("no runAsNonRoot: true (container or pod)".to_owned());
    }
    if context["allowPrivilegeEscalation"].as_bool() != Some(false) {
        problems.push("allowPrivilegeEscalation is not false".to_owned());
    }
    problems
}

/// insecure-tls.
fn check_api_service(object: &Object<'_>, lint: &mut Lint) {
    if object.kind != "APIService"
        || object.value["spec"]["insecureSkipTLSVerify"].as_bool() != Some(true)
    {
        return;
    }
    lint.push(
        object,
        "insecure-tls",
        Severity::Warning,
        "spec.insecureSkipTLSVerify",
        "the API server does not verify the adapter's certificate: anyone who can take over the Service \
         feeds metrics to every HPA",
        "set adapter.tls.mode to caBundle (with the CA's PEM) or certManager, which set spec.caBundle",
    );
}

/// Names kube-prometheus' own prometheus-adapter (the resource metrics
/// API) uses, in `monitoring`, `kube-system` or cluster-wide.
fn collides(object: &Object<'_>) -> bool {
    if matches!(object.namespace, Some(namespace) if namespace != "monitoring" && namespace != "kube-system")
    {
        return false;
    }
    let name = object.name;
    name == "prometheus-adapter"
        || name.starts_with("resource-metrics-")
        || name.starts_with("resource-metrics:")
        || (object.kind == "APIService" && name == "v1beta1.metrics.k8s.io")
        || (object.kind == "ConfigMap"
            && name == "adapter-config"
            && object.namespace == Some("monitoring"))
}

/// name-collision.
fn check_name_collision(object: &Object<'_>, lint: &mut Lint) {
    if object.kind.is_empty() || !collides(object) {
        return;
    }
    let message = if object.kind == "APIService" {
        "kube-prometheus' prometheus-adapter serves this APIService (CPU and memory for kubectl top and \
         resource HPAs); replacing it breaks them"
            .to_owned()
    } else {
        format!(
            "kube-prometheus' own prometheus-adapter has an object of this name; applying this one replaces it \
             and breaks the resource metrics API (`{}`)",
            object.name
        )
    };
    lint.push(
        object,
        "name-collision",
        Severity::Error,
        "metadata.name",
        message,
        "give the custom metrics adapter its own names, such as custom-metrics-adapter, and serve only v1beta1.custom.metrics.k8s.io",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(yaml: &str) -> Vec<Finding> {
        let docs = parse_manifest_files(&[("test.yaml".to_owned(), yaml.to_owned())]).unwrap();
        lint_documents(&docs, &LintOptions::default())
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
        assert_eq!(docs[1].1["metadata"]["name"], "b");
        assert_eq!(docs[0].0, "a.yaml");
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
    fn urls() {
        assert_eq!(
            url_problem("http://prometheus-k8s.monitoring.svc:9090"),
            None
        );
        assert_eq!(url_problem("https://[::1]:9090/prom"), None);
        assert!(url_problem("prometheus-k8s.monitoring.svc:9090")
            .unwrap()
            .contains("scheme"));
        assert!(url_problem("http://prometheus-k8s.monitoring.svc")
            .unwrap()
            .contains("port"));
        assert!(url_problem("http://[::1]/").unwrap().contains("port"));
        assert!(url_problem("http://host:/").unwrap().contains("port"));
    }

    #[test]
    fn unit_scaling() {
        assert!(multiplies_by("sum(rate(x[2m])) * 60", "60"));
        assert!(multiplies_by("60*sum(rate(x[2m]))", "60"));
        assert!(!multiplies_by("sum(rate(x[60s]))", "60"));
        assert!(!multiplies_by("sum(rate(x[2m])) * 600", "60"));
    }

    #[test]
    fn display_is_one_line() {
        let findings = lint("kind: APIService\nmetadata: {name: v1beta1.metrics.k8s.io}\nspec: {insecureSkipTLSVerify: true}\n");
        let lines: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2);
        // Sorted by id within the object.
        assert!(lines[0].starts_with(
            "warning insecure-tls APIService v1beta1.metrics.k8s.io spec.insecureSkipTLSVerify: "
        ));
        assert!(lines[1]
            .starts_with("error name-collision APIService v1beta1.metrics.k8s.io metadata.name: "));
        assert!(lines
            .iter()
            .all(|line| !line.contains('\n') && line.ends_with(')')));
        let json = serde_json::to_value(&findings[1]).unwrap();
        assert_eq!(json["severity"], "error");
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
