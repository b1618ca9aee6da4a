//! The spec as YAML, keys in the order the README documents them (a
//! `serde_json` map is sorted by key, which would put `preset` last).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

/// The key order of each section, by the key that holds the section.
fn order(section: &str) -> &'static [&'static str] {
    match section {
        "" => &[
            "preset",
            "backend",
            "adapter",
            "rules",
            "resourceRules",
            "prometheus",
            "apps",
            "keda",
        ],
        "adapter" => &[
            "name",
            "namespace",
            "rbacNamePrefix",
            "image",
            "replicas",
            "prometheusUrl",
            "metricsRelistInterval",
            "logLevel",
            "logToStderr",
            "resources",
            "labels",
            "tls",
            "priorityClassName",
            "nodeSelector",
            "tolerations",
            "selector",
            "podLabels",
            "objectLabels",
            "deploymentLabels",
            "podTemplateName",
            "leadingArgs",
            "extraArgs",
            "livenessProbe",
            "readinessProbe",
            "securityContext",
            "metricsReader",
        ],
        "tls" => &["mode", "secretName", "caBundle", "issuerRef"],
        "livenessProbe" | "readinessProbe" => &[
            "path",
            "initialDelaySeconds",
            "timeoutSeconds",
            "periodSeconds",
            "failureThreshold",
        ],
        "metricsReader" => &["verbs", "subject"],
        "rules" | "cpu" | "memory" => &[
            "seriesQuery",
            "seriesFilters",
            "resources",
            "name",
            "metricsQuery",
            "containerQuery",
            "nodeQuery",
            "containerLabel",
        ],
        "name" => &["matches", "as"],
        "resourceRules" => &["cpu", "memory", "window"],
        "prometheus" => &[
            "stack",
            "release",
            "fullnameOverride",
            "nameOverride",
            "namespace",
            "serviceAccount",
            "version",
            "scrapeInterval",
            "namespaces",
            "serviceMonitorSelector",
            "podMonitorSelector",
        ],
        "apps" => &[
            "name",
            "namespace",
            "deployment",
            "monitor",
            "selector",
            "port",
            "path",
            "interval",
            "metric",
            "targetAverageValue",
            "minReplicas",
            "maxReplicas",
            "behavior",
        ],
        "behavior" => &["scaleUp", "scaleDown"],
        "scaleUp" | "scaleDown" => &[
            "stabilizationWindowSeconds",
            "selectPolicy",
            "policies",
            "tolerance",
        ],
        "policies" => &["type", "value", "periodSeconds"],
        "keda" => &["fallback", "authentication"],
        "fallback" => &["failureThreshold", "replicas", "behavior"],
        "authentication" => &["secretName", "name", "modes", "ca"],
        "tolerations" => &["key", "operator", "value", "effect", "tolerationSeconds"],
        _ => &[],
    }
}

/// Keys of `map` in the section's order, unknown keys after, sorted.
fn ordered<'a>(section: &str, map: &'a Map<String, Value>) -> Vec<(&'a String, &'a Value)> {
    let order = order(section);
    let rank = |key: &str| {
        order
            .iter()
            .position(|known| *known == key)
            .unwrap_or(order.len())
    };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    entries
}

/// A value with the section it is in.
struct Ordered<'a> {
    section: &'a str,
    value: &'a Value,
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in ordered(self.section, map) {
                    // Label maps and the like keep their sorted keys.
                    out.serialize_entry(
                        key,
                        &Ordered {
                            section: key,
                            value,
                        },
                    )?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    // List items are in the section of the list's key.
                    out.serialize_element(&Ordered {
                        section: self.section,
                        value: item,
                    })?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// The spec's YAML text.
pub(super) fn to_yaml(spec: &Map<String, Value>) -> String {
    let value = Value::Object(spec.clone());
    crate::render::to_yaml_document(&Ordered {
        section: "",
        value: &value,
    })
}
