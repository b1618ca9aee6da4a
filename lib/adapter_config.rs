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
//! use custom_metrics_manifests::{AdapterConfig, NameMapping, Rule};
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
    pub fn query_templates(&self) -> Vec<(QueryLocation, &str)> {
        let mut found = Vec::new();
        for (section, rules) in [
            (RuleSection::Rules, &self.rules),
            (RuleSection::ExternalRules, &self.external_rules),
        ] {
            for (index, rule) in rules.iter().enumerate() {
                if let Some(query) = &rule.metrics_query {
                    found.push((QueryLocation::Rule { section, index }, query.as_str()));
                }
            }
        }
        if let Some(resource_rules) = &self.resource_rules {
            for (resource, rule) in [
                (ResourceKind::Cpu, &resource_rules.cpu),
                (ResourceKind::Memory, &resource_rules.memory),
            ] {
                if let Some(rule) = rule {
                    found.push((
                        QueryLocation::Resource {
                            resource,
                            query: ResourceQuery::Container,
                        },
                        rule.container_query.as_str(),
                    ));
                    found.push((
                        QueryLocation::Resource {
                            resource,
                            query: ResourceQuery::Node,
                        },
                        rule.node_query.as_str(),
                    ));
                }
            }
        }
        found
    }
}

/// A list of discovery rules in the adapter's config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleSection {
    /// `rules`: custom metrics (custom.metrics.k8s.io).
    Rules,
    /// `externalRules`: external metrics (external.metrics.k8s.io).
    ExternalRules,
}

impl RuleSection {
    /// Both sections, in the config's order.
    pub const ALL: [RuleSection; 2] = [RuleSection::Rules, RuleSection::ExternalRules];

    /// The section's key in `config.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSection::Rules => "rules",
            RuleSection::ExternalRules => "externalRules",
        }
    }
}

/// A resource rule of `resourceRules` (the resource metrics API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// `cpu`.
    Cpu,
    /// `memory`.
    Memory,
}

impl ResourceKind {
    /// Both, in the config's order.
    pub const ALL: [ResourceKind; 2] = [ResourceKind::Cpu, ResourceKind::Memory];

    /// The key in `resourceRules`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Cpu => "cpu",
            ResourceKind::Memory => "memory",
        }
    }
}

/// One of a resource rule's two queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceQuery {
    /// `containerQuery`, grouped by pod and container.
    Container,
    /// `nodeQuery`, grouped by node.
    Node,
}

impl ResourceQuery {
    /// Both, in the config's order.
    pub const ALL: [ResourceQuery; 2] = [ResourceQuery::Container, ResourceQuery::Node];

    /// The key in a resource rule.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceQuery::Container => "containerQuery",
            ResourceQuery::Node => "nodeQuery",
        }
    }
}

/// Where a query template sits in an adapter config: a discovery rule's
/// `metricsQuery`, or a resource rule's container or node query. Displayed
/// as the field path (`rules[0].metricsQuery`,
/// `resourceRules.cpu.nodeQuery`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueryLocation {
    /// The `metricsQuery` of rule `index` of `section`.
    Rule {
        /// `rules` or `externalRules`.
        section: RuleSection,
        /// The rule's index in its section.
        index: usize,
    },
    /// A query of `resourceRules`.
    Resource {
        /// `cpu` or `memory`.
        resource: ResourceKind,
        /// The container or node query.
        query: ResourceQuery,
    },
}

impl QueryLocation {
    /// The index of the custom-metrics rule (`rules[i]`) the query is of.
    pub fn custom_rule(self) -> Option<usize> {
        match self {
            QueryLocation::Rule {
                section: RuleSection::Rules,
                index,
            } => Some(index),
            _ => None,
        }
    }
}

impl std::fmt::Display for QueryLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryLocation::Rule { section, index } => {
                write!(f, "{}[{index}].metricsQuery", section.as_str())
            }
            QueryLocation::Resource { resource, query } => {
                write!(f, "resourceRules.{}.{}", resource.as_str(), query.as_str())
            }
        }
    }
}

/// An adapter `config.yaml` from a cluster or a file, read into the model
/// as far as each part has its shape: what lint and explain check. The
/// adapter's strict reader refuses a config with any key or type out of
/// place; lint reports each of those (its schema check) and still checks
/// the rest, so here a rule whose `seriesQuery` is not a string is `None`
/// (its index kept) and a field of the wrong type is left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigFile {
    /// `rules`, by index.
    pub rules: Vec<Option<Rule>>,
    /// `externalRules`, by index.
    pub external_rules: Vec<Option<Rule>>,
    /// The `resourceRules` queries that are strings.
    pub resource_queries: Vec<(QueryLocation, String)>,
}

impl ConfigFile {
    /// Reads the parts of `config` (the YAML of `config.yaml` as a value)
    /// that have the model's shape.
    pub fn from_value(config: &serde_json::Value) -> ConfigFile {
        let rules = |section: RuleSection| {
            config[section.as_str()]
                .as_array()
                .into_iter()
                .flatten()
                .map(Rule::from_value)
                .collect()
        };
        let mut resource_queries = Vec::new();
        for resource in ResourceKind::ALL {
            for query in ResourceQuery::ALL {
                let value = &config["resourceRules"][resource.as_str()][query.as_str()];
                if let Some(text) = value.as_str() {
                    resource_queries
                        .push((QueryLocation::Resource { resource, query }, text.to_owned()));
                }
            }
        }
        ConfigFile {
            rules: rules(RuleSection::Rules),
            external_rules: rules(RuleSection::ExternalRules),
            resource_queries,
        }
    }

    /// The rules of `section`.
    pub fn section(&self, section: RuleSection) -> &[Option<Rule>] {
        match section {
            RuleSection::Rules => &self.rules,
            RuleSection::ExternalRules => &self.external_rules,
        }
    }
}

impl Rule {
    /// A rule from its YAML as a value, as far as it has the model's shape
    /// (see [`ConfigFile`]): `None` without a string `seriesQuery`.
    pub(crate) fn from_value(value: &serde_json::Value) -> Option<Rule> {
        let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
        let filters = value["seriesFilters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|filter| SeriesFilter {
                is: text(&filter["is"]),
                is_not: text(&filter["isNot"]),
            })
            .collect();
        let name = value["name"].is_object().then(|| NameMapping {
            matches: text(&value["name"]["matches"]).unwrap_or_default(),
            r#as: text(&value["name"]["as"]),
        });
        let resources = value["resources"].is_object().then(|| ResourceMapping {
            template: text(&value["resources"]["template"]),
            overrides: value["resources"]["overrides"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(label, target)| {
                    Some((
                        label.clone(),
                        GroupResource {
                            group: text(&target["group"]),
                            resource: text(&target["resource"])?,
                        },
                    ))
                })
                .collect(),
            namespaced: value["resources"]["namespaced"].as_bool(),
        });
        Some(Rule {
            series_query: text(&value["seriesQuery"])?,
            series_filters: filters,
            resources,
            name,
            metrics_query: text(&value["metricsQuery"]),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_locations_read_as_field_paths() {
        let rule = QueryLocation::Rule {
            section: RuleSection::ExternalRules,
            index: 2,
        };
        assert_eq!(rule.to_string(), "externalRules[2].metricsQuery");
        assert_eq!(rule.custom_rule(), None);
        let custom = QueryLocation::Rule {
            section: RuleSection::Rules,
            index: 1,
        };
        assert_eq!(custom.custom_rule(), Some(1));
        let node = QueryLocation::Resource {
            resource: ResourceKind::Memory,
            query: ResourceQuery::Node,
        };
        assert_eq!(node.to_string(), "resourceRules.memory.nodeQuery");
    }

    /// A config.yaml with parts out of shape: each rule keeps its index,
    /// a rule without a string seriesQuery is none, a field of the wrong
    /// type is left out, and the generator's own config reads back whole.
    #[test]
    fn config_files_read_into_the_model_as_far_as_they_have_its_shape() {
        let value: serde_json::Value = serde_saphyr::from_str(
            "rules:\n- seriesQuery: 5\n- seriesQuery: up\n  metricsQuery: [x]\n  name: {matches: a, as: 7}\n\
             resourceRules:\n  cpu: {containerQuery: c, nodeQuery: {}}\n",
        )
        .unwrap();
        let file = ConfigFile::from_value(&value);
        assert_eq!(file.rules.len(), 2);
        assert_eq!(file.rules[0], None);
        let rule = file.rules[1].as_ref().unwrap();
        assert_eq!(rule.series_query, "up");
        assert_eq!(rule.metrics_query, None);
        assert_eq!(
            rule.name,
            Some(NameMapping {
                matches: "a".into(),
                r#as: None
            })
        );
        assert_eq!(
            file.resource_queries,
            vec![(
                QueryLocation::Resource {
                    resource: ResourceKind::Cpu,
                    query: ResourceQuery::Container
                },
                "c".to_owned()
            )]
        );

        let config = crate::Config::from_preset(crate::Preset::Documented).adapter_config;
        let value: serde_json::Value = serde_saphyr::from_str(&config.to_yaml()).unwrap();
        let file = ConfigFile::from_value(&value);
        let rules: Vec<Option<Rule>> = config.rules.iter().cloned().map(Some).collect();
        assert_eq!(file.rules, rules);
        let templates: Vec<(QueryLocation, String)> = config
            .query_templates()
            .into_iter()
            .filter(|(location, _)| matches!(location, QueryLocation::Resource { .. }))
            .map(|(location, text)| (location, text.to_owned()))
            .collect();
        assert_eq!(file.resource_queries, templates);
    }
}
