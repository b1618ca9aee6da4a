//! monitor-not-selected: a ServiceMonitor or PodMonitor that a `Prometheus`
//! resource (monitoring.coreos.com/v1) in the input does not pick up, the
//! most reported failure with kube-prometheus-stack (its default
//! `serviceMonitorSelector` is `matchLabels: {release: <release>}`).
//!
//! The operator's semantics (prometheus-operator v0.93.0,
//! pkg/apis/monitoring/v1/prometheus_types.go and
//! pkg/operator/operator.go `SelectNamespacesFromCache`): a nil monitor
//! selector selects no monitor, an empty one every monitor; a nil
//! namespace selector means the Prometheus' own namespace only, an empty
//! one every namespace. Selectors are Kubernetes label selectors:
//! `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist)
//! all hold.

use serde_json::Value;

use super::model::{selects, Object};
use super::{Check, Lint, Severity};

/// The monitor kinds and the Prometheus fields that select them.
const KINDS: [(&str, &str, &str); 2] = [
    (
        "ServiceMonitor",
        "serviceMonitorSelector",
        "serviceMonitorNamespaceSelector",
    ),
    (
        "PodMonitor",
        "podMonitorSelector",
        "podMonitorNamespaceSelector",
    ),
];

/// Checks monitors against every Prometheus in the input: one finding per
/// monitor that no Prometheus selects, naming each Prometheus' reason.
pub(super) struct MonitorCheck<'o, 'a> {
    prometheuses: Vec<&'o Object<'a>>,
}

impl<'o, 'a> MonitorCheck<'o, 'a> {
    /// The Prometheus resources among `objects`.
    pub(super) fn new(objects: &'o [Object<'a>]) -> Self {
        let prometheuses = objects
            .iter()
            .filter(|object| {
                object.kind == "Prometheus"
                    && object.value["apiVersion"].as_str() == Some("monitoring.coreos.com/v1")
            })
            .collect();
        MonitorCheck { prometheuses }
    }

    /// `monitor`, if it is one; `objects` holds the input's Namespaces.
    pub(super) fn check(&self, monitor: &Object<'_>, objects: &[Object<'_>], lint: &mut Lint) {
        if self.prometheuses.is_empty() {
            return;
        }
        let Some((_, selector_field, namespace_field)) =
            KINDS.iter().find(|(kind, _, _)| *kind == monitor.kind)
        else {
            return;
        };
        let mut reasons = Vec::new();
        for prometheus in &self.prometheuses {
            match why_not(
                prometheus,
                monitor,
                objects,
                selector_field,
                namespace_field,
            ) {
                Verdict::Selected | Verdict::Unknown => return,
                Verdict::NotSelected(reason) => reasons.push(reason),
            }
        }
        lint.push(
            monitor,
            Check::MonitorNotSelected,
            Severity::Error,
            "metadata.labels",
            format!(
                "no Prometheus in the input scrapes this {}, so its series never exist and the HPA gets no metric: {}",
                monitor.kind,
                reasons.join("; ")
            ),
            Check::MonitorNotSelected.info().fix,
        );
    }
}

enum Verdict {
    Selected,
    /// The input does not tell (a namespace selector on labels of a
    /// Namespace that is not in the input, an operator this does not model).
    Unknown,
    NotSelected(String),
}

fn why_not(
    prometheus: &Object<'_>,
    monitor: &Object<'_>,
    objects: &[Object<'_>],
    selector_field: &str,
    namespace_field: &str,
) -> Verdict {
    let who = prometheus.display();
    let spec = &prometheus.value["spec"];
    let labels = &monitor.value["metadata"]["labels"];
    let selector = &spec[selector_field];
    if selector.is_null() {
        return Verdict::NotSelected(format!(
            "{who} has no spec.{selector_field}, which selects no {}",
            monitor.kind
        ));
    }
    match selects(selector, labels) {
        None => return Verdict::Unknown,
        Some(false) => {
            return Verdict::NotSelected(format!(
                "{who} spec.{selector_field} {} does not match it: {}",
                compact(selector),
                missing(selector, labels)
            ))
        }
        Some(true) => {}
    }
    let monitor_namespace = monitor.namespace.unwrap_or("default");
    let prometheus_namespace = prometheus.namespace.unwrap_or("default");
    let namespace_selector = &spec[namespace_field];
    if namespace_selector.is_null() {
        return if monitor_namespace == prometheus_namespace {
            Verdict::Selected
        } else {
            Verdict::NotSelected(format!(
                "{who} has no spec.{namespace_field}, so it reads monitors only in its own namespace \
                 `{prometheus_namespace}`, not in `{monitor_namespace}`"
            ))
        };
    }
    let namespace = objects
        .iter()
        .find(|object| object.kind == "Namespace" && object.name == monitor_namespace);
    let namespace_labels = match namespace {
        Some(namespace) => namespace.value["metadata"]["labels"].clone(),
        // Only an empty selector (every namespace) is decided without the Namespace.
        None if is_empty_selector(namespace_selector) => return Verdict::Selected,
        None => return Verdict::Unknown,
    };
    match selects(namespace_selector, &namespace_labels) {
        None => Verdict::Unknown,
        Some(true) => Verdict::Selected,
        Some(false) => Verdict::NotSelected(format!(
            "{who} spec.{namespace_field} {} does not match Namespace {monitor_namespace}: {}",
            compact(namespace_selector),
            missing(namespace_selector, &namespace_labels)
        )),
    }
}

fn is_empty_selector(selector: &Value) -> bool {
    selector.as_object().is_some_and(|map| {
        map.get("matchLabels")
            .is_none_or(|l| l.as_object().is_some_and(|l| l.is_empty()))
            && map
                .get("matchExpressions")
                .is_none_or(|e| e.as_array().is_some_and(|e| e.is_empty()))
    })
}

/// The selector as one line of JSON.
fn compact(selector: &Value) -> String {
    serde_json::to_string(selector).unwrap_or_default()
}

/// The first requirement the labels fail, said as the label that is missing
/// or wrong.
fn missing(selector: &Value, labels: &Value) -> String {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    if let Some(map) = selector["matchLabels"].as_object() {
        for (key, value) in map {
            let want = value.as_str().unwrap_or_default();
            match label(key) {
                None => return format!("label `{key}: {want}` is missing"),
                Some(have) if have != want => {
                    return format!("label `{key}` is `{have}`, not `{want}`")
                }
                Some(_) => {}
            }
        }
    }
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if selects(
            &serde_json::json!({ "matchExpressions": [expression] }),
            labels,
        ) == Some(false)
        {
            let key = expression["key"].as_str().unwrap_or_default();
            let values = compact(&expression["values"]);
            return match (
                expression["operator"].as_str().unwrap_or_default(),
                label(key),
            ) {
                ("In", None) => format!("label `{key}` (one of {values}) is missing"),
                ("In", Some(have)) => format!("label `{key}` is `{have}`, not one of {values}"),
                ("NotIn", Some(have)) => {
                    format!("label `{key}` is `{have}`, which is excluded ({values})")
                }
                ("Exists", _) => format!("label `{key}` is missing"),
                ("DoesNotExist", _) => format!("label `{key}` must not be set"),
                (operator, _) => format!("requirement `{key} {operator}` fails"),
            };
        }
    }
    "a requirement fails".to_owned()
}
