//! The object model the checks read: input documents as objects, the pod
//! templates inside workloads, and the adapter containers in them.

use serde_json::Value;

use super::{Check, Lint, Severity};
use crate::values::Image;

/// One input object, with what every check reads.
pub(super) struct Object<'a> {
    pub(super) index: usize,
    /// The file it came from.
    pub(super) origin: &'a str,
    pub(super) value: &'a Value,
    pub(super) kind: &'a str,
    pub(super) name: &'a str,
    pub(super) namespace: Option<&'a str>,
}

impl<'a> Object<'a> {
    pub(super) fn new(index: usize, origin: &'a str, value: &'a Value) -> Self {
        Object {
            index,
            origin,
            value,
            kind: value["kind"].as_str().unwrap_or(""),
            name: value["metadata"]["name"].as_str().unwrap_or(""),
            namespace: value["metadata"]["namespace"]
                .as_str()
                .filter(|ns| !ns.is_empty()),
        }
    }

    pub(super) fn display(&self) -> String {
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

/// Whether objects of `kind` hold a pod template (or are a Pod).
pub(super) fn is_workload(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "ReplicationController"
            | "CronJob"
            | "Pod"
    )
}

/// A pod template (or Pod) inside a workload object.
pub(super) struct Pod<'a> {
    pub(super) object: &'a Object<'a>,
    /// Path of the pod spec, such as `spec.template.spec`.
    pub(super) spec_path: &'static str,
    pub(super) spec: &'a Value,
    /// Path of the pod's labels.
    pub(super) labels_path: &'static str,
    pub(super) labels: &'a Value,
}

impl<'a> Pod<'a> {
    pub(super) fn of(object: &'a Object<'a>) -> Option<Self> {
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
    pub(super) fn containers(&self) -> Vec<(String, &'a Value)> {
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
    pub(super) fn adapter_containers(&self) -> Vec<(String, &'a Value, Image)> {
        self.containers()
            .into_iter()
            .filter_map(|(path, container)| {
                let image = image_of(container)?;
                is_adapter_image(&image).then_some((path, container, image))
            })
            .collect()
    }

    /// ConfigMaps mounted as volumes.
    pub(super) fn config_maps(&self) -> Vec<&'a str> {
        self.spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|volume| volume["configMap"]["name"].as_str())
            .collect()
    }
}

pub(super) fn image_of(container: &Value) -> Option<Image> {
    container["image"].as_str()?.parse().ok()
}

pub(super) fn is_adapter_image(image: &Image) -> bool {
    image.repository().contains("prometheus-adapter")
}

/// An adapter `config.yaml` read as a plain value.
pub(super) struct AdapterConfigDoc<'a> {
    pub(super) object: &'a Object<'a>,
    /// The YAML as read, for the schema check and which sections exist.
    pub(super) config: Value,
    /// The rules and queries in the adapter model.
    pub(super) file: crate::adapter_config::ConfigFile,
}

pub(super) const CONFIG_FIELD: &str = "data.config.yaml";
pub(super) const CONFIG_SECTIONS: [&str; 3] = ["rules", "resourceRules", "externalRules"];

/// `(field, argument)` for the container's command and args.
pub(super) fn arguments(container: &Value, path: &str) -> Vec<(String, String)> {
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

/// not-an-object: a document without a kind, or not a mapping at all.
pub(super) fn check_shape(object: &Object<'_>, lint: &mut Lint) {
    let problem = match object.value {
        Value::Object(_) if !object.kind.is_empty() => return,
        Value::Object(_) => "has no `kind`".to_owned(),
        Value::Array(_) => "is a list, not an object".to_owned(),
        other => format!(
            "is the scalar `{}`, not an object",
            truncate(&other.to_string(), 40)
        ),
    };
    lint.push(
        object,
        Check::NotAnObject,
        Severity::Error,
        "",
        format!(
            "a document in {} {problem}: nothing in it was checked",
            object.origin
        ),
        Check::NotAnObject.info().fix,
    );
}

fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    format!("{}...", text.chars().take(limit).collect::<String>())
}

/// Whether a label selector (`matchLabels`/`matchExpressions`, as in a
/// NetworkPolicy or Deployment) selects `labels`; `None` when the selector
/// holds something this does not model.
pub(super) fn selects(selector: &Value, labels: &Value) -> Option<bool> {
    if selector.is_null() {
        return Some(true);
    }
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    if let Some(map) = selector["matchLabels"].as_object() {
        for (key, value) in map {
            if label(key) != Some(value.as_str()?) {
                return Some(false);
            }
        }
    }
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str()?;
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let present = label(key);
        let matched = match expression["operator"].as_str()? {
            "In" => present.is_some_and(|v| values.contains(&v)),
            "NotIn" => !present.is_some_and(|v| values.contains(&v)),
            "Exists" => present.is_some(),
            "DoesNotExist" => present.is_none(),
            _ => return None,
        };
        if !matched {
            return Some(false);
        }
    }
    Some(true)
}
