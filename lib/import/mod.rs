//! `import`: existing manifests in, the spec that generates them out.
//!
//! The input is what is installed: this tool's own output (either preset,
//! either backend), the guide's bundle, kube-prometheus' adapter, a
//! Helm-rendered prometheus-adapter chart. Each field of the spec is read
//! back from the object and field the generator writes it to (the adapter
//! Deployment's image and flags, its ConfigMap's rules, the APIService's
//! TLS, the RBAC names, each HPA or ScaledObject with its monitor,
//! kube-prometheus' Role items); the stack follows from the Role items, the
//! monitors' labels and the Prometheus URL.
//!
//! The generator is the judge: the spec is generated from, the result
//! compared with the input object by object and field by field, and every
//! difference is a [`Loss`]. Both presets are tried; the one with fewer
//! losses wins, and the spec keeps only the fields whose removal would
//! change the output, so it reads as a user would write it.
//!
//! ```
//! use custom_metrics_manifests::{generate, import, Preset, Config, OutputFormat};
//!
//! let manifests = generate(&Config::from_preset(Preset::Recommended), OutputFormat::Yaml);
//! let imported = import::import(&[("bundle.yaml".to_owned(), manifests.into_bytes())]).unwrap();
//! assert_eq!(imported.spec, "preset: recommended\n");
//! assert!(imported.losses.is_empty());
//! ```

use std::fmt;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::spec::{Preset, Spec, SpecError};

mod compare;
mod emit;
mod extract;
mod read;
mod survey;

pub use read::Place;

use extract::Candidate;
use read::Object;

/// The origin spec errors of a candidate carry (never shown: they become
/// losses).
const CANDIDATE: &str = "<imported spec>";

/// The result of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The spec, as YAML: only the fields that differ from its preset.
    pub spec: String,
    /// What generating from `spec` does not reproduce, by object and field;
    /// empty when the spec regenerates the input exactly.
    pub losses: Vec<Loss>,
}

/// One difference between the input and what the spec generates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    /// The object, as `Kind namespace/name` (`Kind name` when cluster-scoped).
    pub object: String,
    /// The field path in the object (empty for the whole object).
    pub field: String,
    /// What differs, or why the field could not be represented.
    pub message: String,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.object, self.message)
        } else {
            write!(f, "{} {}: {}", self.object, self.field, self.message)
        }
    }
}

/// Input that cannot be imported. Each names the file and, when known, the
/// line and column.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not UTF-8, over the size limit, or not YAML (or JSON).
    #[error(transparent)]
    Unreadable(SpecError),
    /// A document that is no Kubernetes object.
    #[error("{at}: {what}: not a Kubernetes object (every document needs `kind`)")]
    NotAnObject {
        /// Where.
        at: Box<Place>,
        /// What it is instead.
        what: String,
    },
    /// Nothing the spec describes: no adapter, no HPA on a custom metric,
    /// no ScaledObject.
    #[error(
        "{files}: nothing to import: no prometheus-adapter Deployment, no HorizontalPodAutoscaler \
         on a Pods metric and no KEDA ScaledObject (found: {found})"
    )]
    NothingToImport {
        /// The files, as given.
        files: String,
        /// The kinds the input holds.
        found: String,
    },
    /// One object twice, with different content.
    #[error(
        "{at}: {object} is given twice with different content (first at {first}; they differ at \
         `{field}`): import one version of it"
    )]
    Duplicate {
        /// The second one.
        at: Box<Place>,
        /// `Kind namespace/name`.
        object: String,
        /// The first one.
        first: Box<Place>,
        /// The first field that differs.
        field: String,
    },
    /// Two adapters behind the custom metrics API (or, without an
    /// APIService, two adapter Deployments): two installations.
    #[error(
        "{at}: {object} is a second prometheus-adapter (the first: {first_object} at {first}); a \
         spec describes one adapter: import one installation at a time"
    )]
    SecondAdapter {
        /// The second Deployment.
        at: Box<Place>,
        /// It, as `Kind namespace/name`.
        object: String,
        /// The first one.
        first: Box<Place>,
        /// It, as `Kind namespace/name`.
        first_object: String,
    },
}

/// Imports the manifests in `files` (`(origin, bytes)`: multi-document
/// YAML or JSON, `*List`s expanded; objects repeated identically count
/// once).
pub fn import(files: &[(String, Vec<u8>)]) -> Result<Imported, ImportError> {
    let objects = read::objects(files)?;
    let survey = survey::survey(&objects, files)?;
    if survey.adapter.is_none() && survey.hpas.is_empty() && survey.scaled_objects.is_empty() {
        let mut kinds: Vec<&str> = objects.iter().map(Object::kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        return Err(ImportError::NothingToImport {
            files: files
                .iter()
                .map(|(origin, _)| origin.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            found: if kinds.is_empty() {
                "no objects".to_owned()
            } else {
                kinds.join(", ")
            },
        });
    }
    let mut best: Option<Imported> = None;
    for preset in Preset::ALL {
        let defaults = Config::from_preset(preset);
        let candidate = extract::candidate(&objects, &survey, preset, &defaults);
        let imported = settle(candidate, &objects);
        let better = best.as_ref().is_none_or(|best| {
            (imported.losses.len(), imported.spec.lines().count())
                < (best.losses.len(), best.spec.lines().count())
        });
        if better {
            best = Some(imported);
        }
    }
    Ok(best.expect("there is a preset"))
}

/// A candidate resolved: its YAML and configuration.
struct Resolved {
    yaml: String,
    config: Config,
}

fn resolve(spec: &Map<String, Value>) -> Result<Resolved, SpecError> {
    let yaml = emit::to_yaml(spec);
    let spec = Spec::from_yaml(&yaml, CANDIDATE)?;
    let config = Config::from_spec(spec, CANDIDATE)?;
    Ok(Resolved { yaml, config })
}

/// The generated objects, as values.
fn generated(config: &Config) -> Vec<Value> {
    crate::render::manifests(config)
        .iter()
        .filter_map(|manifest| serde_json::to_value(manifest).ok())
        .collect()
}

/// Resolves `candidate`, dropping what the spec refuses (each a loss),
/// finds the keda apps' metrics, trims the spec to what differs from the
/// preset and compares what it generates with the input.
fn settle(mut candidate: Candidate, objects: &[Object]) -> Imported {
    let mut reasons = Vec::new();
    // The rules first (without apps), so that KEDA queries can be matched.
    let apps = candidate.spec.remove("apps");
    let backend = candidate.spec.remove("backend");
    let base = resolve_dropping(&mut candidate, &mut reasons);
    if let Some(apps) = apps {
        candidate.spec.insert("apps".into(), apps);
    }
    if let Some(backend) = backend {
        candidate.spec.insert("backend".into(), backend);
    }
    if let Some(base) = &base {
        keda_metrics(&mut candidate, &base.config);
    }
    let Some(full) = resolve_dropping(&mut candidate, &mut reasons) else {
        return Imported {
            spec: emit::to_yaml(&candidate.spec),
            losses: reasons,
        };
    };
    let reference = crate::render::manifests(&full.config);
    // Apps first: an app interval that is Prometheus' scrape interval goes,
    // and the scrape interval then stays where the user would write it.
    minimize_apps(&mut candidate.spec, &reference);
    minimize(&mut candidate.spec, &reference);
    let resolved = resolve(&candidate.spec).unwrap_or(full);
    let mut losses = reasons;
    let found = compare::differences(objects, &generated(&resolved.config));
    for loss in found {
        let known = losses.iter().any(|reason| {
            reason.object == loss.object && (reason.field == loss.field || reason.field.is_empty())
        });
        if !known {
            losses.push(loss);
        }
    }
    Imported {
        spec: resolved.yaml,
        losses,
    }
}

/// Resolves the candidate; what the spec refuses is removed and recorded
/// as a loss at its source (an app as a whole), until it resolves.
fn resolve_dropping(candidate: &mut Candidate, reasons: &mut Vec<Loss>) -> Option<Resolved> {
    // Each round removes a field, so this ends; the bound is a backstop.
    for _ in 0..200 {
        let error = match resolve(&candidate.spec) {
            Ok(resolved) => return Some(resolved),
            Err(error) => error,
        };
        let steps = parse_path(&error.field);
        if let Some(Step::Index(app)) = steps
            .get(1)
            .filter(|_| matches!(steps.first(), Some(Step::Key(key)) if key == "apps"))
        {
            let source = candidate.sources.get(&format!("apps[{app}].name")).cloned();
            reasons.push(Loss {
                object: source.map_or_else(|| format!("apps[{app}]"), |source| source.object),
                field: String::new(),
                message: format!("not represented: {}: {}", error.field, error.kind),
            });
            remove_app(candidate, *app);
            continue;
        }
        let (object, field) = match longest_source(candidate, &error.field) {
            Some((source, rest)) => (source.object, format!("{}{rest}", source.field)),
            None => ("spec".to_owned(), error.field.clone()),
        };
        reasons.push(Loss {
            object,
            field,
            message: format!("not represented: {}", error.kind),
        });
        // A rule the spec refuses leaves the preset's rules in place: the
        // rules are one list, replaced as a whole.
        let section = match steps.first() {
            Some(Step::Key(key)) if key == "rules" || key == "resourceRules" => {
                candidate.spec.remove(key.as_str()).is_some()
            }
            _ => false,
        };
        if !section && !remove_deepest(&mut candidate.spec, &steps) {
            return None;
        }
    }
    None
}

/// The source of `field`, or of the nearest enclosing spec field with the
/// rest of the path (`rules` and `[0].metricsQuery`).
fn longest_source<'a>(candidate: &Candidate, field: &'a str) -> Option<(extract::Source, &'a str)> {
    let mut length = field.len();
    loop {
        if let Some(source) = candidate.sources.get(&field[..length]) {
            return Some((source.clone(), &field[length..]));
        }
        length = field[..length].rfind(['.', '['])?;
    }
}

/// A step of a spec path.
#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// `apps[0].behavior.scaleUp` as steps.
fn parse_path(field: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in field.split('.').filter(|part| !part.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            steps.push(Step::Key(rest[..open].to_owned()));
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                if let Ok(index) = rest[1..close].parse() {
                    steps.push(Step::Index(index));
                }
                rest = &rest[close + 1..];
                if !rest.starts_with('[') {
                    break;
                }
            }
        } else {
            steps.push(Step::Key(rest.to_owned()));
        }
    }
    steps
}

/// Removes the deepest node of `steps` that exists (at least one level).
fn remove_deepest(spec: &mut Map<String, Value>, steps: &[Step]) -> bool {
    for depth in (1..=steps.len()).rev() {
        if remove_at(spec, &steps[..depth]) {
            return true;
        }
    }
    false
}

fn remove_at(spec: &mut Map<String, Value>, steps: &[Step]) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut node: &mut Value = match parents.first() {
        Some(Step::Key(key)) => match spec.get_mut(key) {
            Some(node) => node,
            None => return false,
        },
        Some(Step::Index(_)) => return false,
        None => {
            return match last {
                Step::Key(key) => spec.remove(key).is_some(),
                Step::Index(_) => false,
            }
        }
    };
    for step in &parents[1..] {
        let next = match (step, node) {
            (Step::Key(key), Value::Object(map)) => map.get_mut(key),
            (Step::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (last, node) {
        (Step::Key(key), Value::Object(map)) => map.remove(key).is_some(),
        (Step::Index(index), Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            true
        }
        _ => false,
    }
}

/// Removes app `index`, renumbering the sources of the apps after it.
fn remove_app(candidate: &mut Candidate, index: usize) {
    if let Some(Value::Array(apps)) = candidate.spec.get_mut("apps") {
        if index < apps.len() {
            apps.remove(index);
        }
        if apps.is_empty() {
            candidate.spec.remove("apps");
        }
    }
    if index < candidate.keda_queries.len() {
        candidate.keda_queries.remove(index);
    }
    let sources = std::mem::take(&mut candidate.sources);
    for (path, source) in sources {
        let renumbered = path
            .strip_prefix("apps[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(number, rest)| Some((number.parse::<usize>().ok()?, rest)));
        match renumbered {
            Some((number, _)) if number == index => {}
            Some((number, rest)) if number > index => {
                candidate
                    .sources
                    .insert(format!("apps[{}]{rest}", number - 1), source);
            }
            _ => {
                candidate.sources.insert(path, source);
            }
        }
    }
}

/// The keda backend: each app's metric is the one whose query, as the
/// generator writes it for that app, is the input's. A query no rule makes
/// gets a rule of its own, read back from the query (series, label
/// matchers and grouping put back as the adapter's template placeholders).
fn keda_metrics(candidate: &mut Candidate, base: &Config) {
    let mut adapter_config = base.adapter_config.clone();
    let mut added = false;
    let mut used = std::collections::BTreeSet::new();
    let Some(Value::Array(apps)) = candidate.spec.get_mut("apps") else {
        return;
    };
    for (app, query) in apps.iter_mut().zip(&candidate.keda_queries) {
        let (Some(namespace), Some(deployment)) =
            (app["namespace"].as_str(), app["deployment"].as_str())
        else {
            continue;
        };
        let matching = |adapter_config: &crate::adapter_config::AdapterConfig| {
            let served = crate::naming::served_metrics(adapter_config).unwrap_or_default();
            served.into_iter().find(|metric| {
                crate::query::keda_query(adapter_config, namespace, deployment, &metric.name)
                    .is_ok_and(|made| made == *query)
            })
        };
        let mut metric = matching(&adapter_config);
        if metric.is_none() {
            if let Some(rule) = rule_of_query(query, namespace, deployment) {
                let mut trial = adapter_config.clone();
                if !trial.rules.contains(&rule) {
                    trial.rules.push(rule);
                }
                metric = matching(&trial);
                if metric.is_some() {
                    added |= trial.rules.len() > adapter_config.rules.len();
                    adapter_config = trial;
                }
            }
        }
        if let (Some(metric), Some(app)) = (metric, app.as_object_mut()) {
            used.insert(metric.rule);
            app.insert("metric".into(), Value::String(metric.name));
        }
    }
    if added {
        // Without the adapter, rules matter only through the apps' queries.
        let rules: Vec<_> = adapter_config
            .rules
            .iter()
            .enumerate()
            .filter(|(index, _)| used.contains(index))
            .map(|(_, rule)| rule)
            .collect();
        if let Ok(rules) = serde_json::to_value(rules) {
            candidate.spec.insert("rules".into(), rules);
        }
    }
}

/// The adapter rule that makes `query` (a KEDA query as the generator
/// writes it) for the Deployment's pods, when the query has that shape.
fn rule_of_query(
    query: &str,
    namespace: &str,
    deployment: &str,
) -> Option<crate::adapter_config::Rule> {
    use crate::adapter_config::{NameMapping, ResourceMapping, Rule};
    use crate::query::promql_string;
    let (_, scraped) = query.rsplit_once(" or (0 * sum(up{")?;
    let (namespace_label, _) = scraped.split_once('=')?;
    let (_, pod_part) = scraped.split_once(',')?;
    let (pod_label, _) = pod_part.split_once("=~")?;
    let matchers = format!(
        "{namespace_label}={},{pod_label}=~{}",
        promql_string(namespace),
        promql_string(&crate::naming::pod_pattern(deployment))
    );
    let per_pod = query
        .strip_prefix("sum(")?
        .strip_suffix(&format!(") or (0 * sum(up{{{matchers}}} == 1))"))?;
    let at = per_pod.find(&format!("{{{matchers}}}"))?;
    let series_start = per_pod[..at]
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .map_or(0, |index| index + 1);
    let series = &per_pod[series_start..at];
    if series.is_empty() {
        return None;
    }
    let template = per_pod
        .replace(
            &format!("{series}{{{matchers}}}"),
            "<<.Series>>{<<.LabelMatchers>>}",
        )
        .replace(&format!("by ({pod_label})"), "by (<<.GroupBy>>)");
    Some(Rule {
        series_query: format!("{series}{{{namespace_label}!=\"\",{pod_label}!=\"\"}}"),
        resources: Some(ResourceMapping::overrides([
            (namespace_label, "namespace"),
            (pod_label, "pod"),
        ])),
        name: Some(NameMapping {
            matches: format!("^{series}$"),
            r#as: None,
        }),
        metrics_query: Some(template),
        ..Rule::default()
    })
}

/// Removes every field (or section) whose removal leaves the generated
/// objects as they are.
fn minimize(spec: &mut Map<String, Value>, reference: &[crate::Manifest]) {
    let same = |spec: &Map<String, Value>| {
        resolve(spec).is_ok_and(|resolved| crate::render::manifests(&resolved.config) == reference)
    };
    let sections: Vec<String> = spec
        .keys()
        .filter(|key| !matches!(key.as_str(), "preset" | "apps"))
        .cloned()
        .collect();
    for section in sections {
        let mut trial = spec.clone();
        trial.remove(&section);
        if same(&trial) {
            *spec = trial;
            continue;
        }
        let keys: Vec<String> = match spec.get(&section) {
            Some(Value::Object(map)) => map.keys().cloned().collect(),
            _ => continue,
        };
        for key in keys {
            let mut trial = spec.clone();
            if let Some(Value::Object(map)) = trial.get_mut(&section) {
                map.remove(&key);
            }
            if same(&trial) {
                *spec = trial;
                continue;
            }
            // Lists (Prometheus' namespaces) lose the items others imply.
            let length = match &spec[&section][&key] {
                Value::Array(items) => items.len(),
                _ => 0,
            };
            for index in (0..length).rev() {
                let mut trial = spec.clone();
                if let Some(Value::Array(items)) = trial
                    .get_mut(&section)
                    .and_then(|section| section.get_mut(&key))
                {
                    items.remove(index);
                }
                if same(&trial) {
                    *spec = trial;
                }
            }
        }
        if spec
            .get(&section)
            .is_some_and(|value| value.as_object().is_some_and(Map::is_empty))
        {
            spec.remove(&section);
        }
    }
}

/// Removes the app fields that say what the defaults say, then checks the
/// result; if it generates anything else, the apps stay as they were.
fn minimize_apps(spec: &mut Map<String, Value>, reference: &[crate::Manifest]) {
    let Ok(resolved) = resolve(spec) else { return };
    let config = resolved.config;
    let Some(Value::Array(apps)) = spec.get("apps").cloned() else {
        return;
    };
    let served = crate::naming::served_metrics(&config.adapter_config).unwrap_or_default();
    let default_metric = served
        .iter()
        .find(|metric| metric.series == crate::naming::DEFAULT_SERIES)
        .map(|metric| metric.name.clone());
    let default_interval = config.prometheus.scrape_interval.as_ref().map_or_else(
        || crate::config::DEFAULT_SCRAPE_INTERVAL.to_owned(),
        ToString::to_string,
    );
    let trimmed: Vec<Value> = apps
        .into_iter()
        .map(|mut app| {
            let Some(map) = app.as_object_mut() else {
                return app;
            };
            let name = map.get("name").cloned().unwrap_or(Value::Null);
            let mut drop_if = |key: &str, default: Value| {
                if map.get(key) == Some(&default) {
                    map.remove(key);
                }
            };
            drop_if("deployment", name.clone());
            drop_if("monitor", Value::from("serviceMonitor"));
            drop_if(
                "selector",
                serde_json::json!({ "app": name.as_str().unwrap_or("") }),
            );
            drop_if("port", Value::from("http"));
            drop_if("path", Value::from("/metrics"));
            drop_if("interval", Value::from(default_interval.clone()));
            if let Some(metric) = &default_metric {
                drop_if("metric", Value::from(metric.clone()));
            }
            drop_if("minReplicas", Value::from(1));
            app
        })
        .collect();
    let mut trial = spec.clone();
    trial.insert("apps".into(), Value::Array(trimmed));
    if resolve(&trial).is_ok_and(|resolved| crate::render::manifests(&resolved.config) == reference)
    {
        *spec = trial;
    }
}
