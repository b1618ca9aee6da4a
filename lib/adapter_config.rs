//! prometheus-adapter's own configuration (`config.yaml` in the adapter's
//! ConfigMap) as typed values, following the adapter's schema
//! (`pkg/config/config.go`, documented in its `docs/config.md`).
//!
//! The same types are read from the spec's `rules` and `resourceRules`
//! sections and written into the ConfigMap, so a key the adapter does not
//! know is refused when the spec is read, not ignored by the adapter at
//! run time.
//!
//! ```
//! use custom_metrics_manifests::adapter_config::{AdapterConfig, NameMapping, Rule};
//!
//! let config = AdapterConfig {
//!     rules: vec![Rule {
//!         series_query: r#"http_requests_total{namespace!="",pod!=""}"#.into(),
//!         name: Some(NameMapping { matches: "^(.*)_total$".into(), r#as: Some("${1}_per_second".into()) }),
//!         metrics_query: Some("sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)".into()),
//!         ..Rule::default()
//!     }],
//!     ..AdapterConfig::default()
//! };
//! let yaml = config.to_yaml();
//! assert!(yaml.starts_with("rules:\n- seriesQuery:"));
//! // The checksum is the sha256 of exactly that text.
//! assert_eq!(config.checksum().len(), 64);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The whole `config.yaml`: discovery rules for custom metrics, optional
/// resource rules (for `metrics.k8s.io`) and external rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdapterConfig {
    /// Rules that serve `custom.metrics.k8s.io`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Rules that serve `metrics.k8s.io` (CPU and memory), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_rules: Option<ResourceRules>,
    /// Rules that serve `external.metrics.k8s.io`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_rules: Vec<Rule>,
}

/// One discovery rule: which series become which metric, and how to query it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// A Prometheus series selector, run against `/api/v1/series`.
    pub series_query: String,
    /// Regex filters on the selected series' names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series_filters: Vec<SeriesFilter>,
    /// How series labels map to Kubernetes resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceMapping>,
    /// How a series name becomes the served metric name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<NameMapping>,
    /// The PromQL template the adapter fills in for each request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_query: Option<String>,
}

/// `is` keeps series whose name matches, `isNot` drops them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeriesFilter {
    /// Keep only series whose name matches this regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<String>,
    /// Drop series whose name matches this regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_not: Option<String>,
}

/// Label-to-resource association: explicit `overrides` or a `template`
/// such as `kube_<<.Group>>_<<.Resource>>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceMapping {
    /// A Go template turning a group-resource into a label name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Label name to group-resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, GroupResource>,
    /// For external rules: whether the metric is namespaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaced: Option<bool>,
}

/// A Kubernetes group-resource, such as `{resource: pod}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupResource {
    /// API group; empty for the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Resource, e.g. `pod` or `namespace`.
    pub resource: String,
}

/// Rename a series to a metric: `matches` is a regex, `as` a replacement
/// (`$1`, `${1}`), with the adapter's defaults when `as` is absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameMapping {
    /// Regex applied to the series name.
    #[serde(default)]
    pub matches: String,
    /// Replacement; defaults to `$0` without a capture group, `$1` with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#as: Option<String>,
}

/// The `resourceRules` section: CPU and memory queries and their window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRules {
    /// CPU usage queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<ResourceRule>,
    /// Memory usage queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ResourceRule>,
    /// The window the adapter reports for the values (e.g. `3m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<crate::values::Duration>,
}

/// Queries for one resource (CPU or memory) per container and per node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRule {
    /// PromQL template for per-container usage.
    pub container_query: String,
    /// PromQL template for per-node usage.
    pub node_query: String,
    /// How labels map to namespaces, pods and nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceMapping>,
    /// The label that holds the container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_label: Option<String>,
}

impl AdapterConfig {
    /// `config.yaml` exactly as stored in the ConfigMap. Single-line strings
    /// stay on one line, so queries read as they do in the adapter's docs.
    pub fn to_yaml(&self) -> String {
        let options = serde_saphyr::ser_options! {
            prefer_block_scalars: false,
        };
        serde_saphyr::to_string_with_options(self, options)
            .expect("adapter config holds only strings, maps and lists")
    }

    /// Lower-case hex sha256 of [`to_yaml`](Self::to_yaml): the value of
    /// the Deployment's `checksum/config` pod annotation, so that any change
    /// to the rules rolls the adapter pods (the adapter reads its config
    /// only at start-up).
    pub fn checksum(&self) -> String {
        checksum_of(&self.to_yaml())
    }

    /// All PromQL templates with where they come from, e.g.
    /// (`rules[0].metricsQuery`, query).
    pub fn query_templates(&self) -> Vec<(String, &str)> {
        let mut found = Vec::new();
        for (section, rules) in [
            ("rules", &self.rules),
            ("externalRules", &self.external_rules),
        ] {
            for (index, rule) in rules.iter().enumerate() {
                if let Some(query) = &rule.metrics_query {
                    found.push((format!("{section}[{index}].metricsQuery"), query.as_str()));
                }
            }
        }
        if let Some(resource_rules) = &self.resource_rules {
            for (resource, rule) in [
                ("cpu", &resource_rules.cpu),
                ("memory", &resource_rules.memory),
            ] {
                if let Some(rule) = rule {
                    found.push((
                        format!("resourceRules.{resource}.containerQuery"),
                        rule.container_query.as_str(),
                    ));
                    found.push((
                        format!("resourceRules.{resource}.nodeQuery"),
                        rule.node_query.as_str(),
                    ));
                }
            }
        }
        found
    }
}

/// Lower-case hex sha256 of `text`.
pub fn checksum_of(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl GroupResource {
    /// A core-group resource such as `pod`.
    pub fn core(resource: &str) -> Self {
        GroupResource {
            group: None,
            resource: resource.to_owned(),
        }
    }
}

impl ResourceMapping {
    /// Overrides from (label, resource) pairs in the core group.
    pub fn overrides<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        ResourceMapping {
            overrides: pairs
                .into_iter()
                .map(|(label, resource)| (label.to_owned(), GroupResource::core(resource)))
                .collect(),
            ..ResourceMapping::default()
        }
    }
}

/// Where the adapter reads its configuration inside the pod.
pub const CONFIG_MOUNT_PATH: &str = "/etc/adapter/";
/// The ConfigMap key holding the configuration.
pub const CONFIG_KEY: &str = "config.yaml";
