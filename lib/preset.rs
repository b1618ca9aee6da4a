//! The embedded defaults a spec starts from.
//!
//! - [`Preset::Documented`] reproduces the guide's `custom-metrics.yaml`
//!   object for object, except that the cpu `nodeQuery` says
//!   `by (<<.GroupBy>>)` once (the guide repeats it, which is not PromQL)
//!   and the `checksum/config` annotation is computed.
//! - [`Preset::Recommended`] is what a careful engineer deploys today: the
//!   maintained image without klog flags, a `2m` rate window, the metric
//!   named `http_requests_per_second`, `/livez` and `/readyz` probes, Pod
//!   Security `restricted`, labels that kube-prometheus' NetworkPolicy
//!   admits, and TLS through cert-manager.
//!
//! ```
//! use custom_metrics_manifests::preset::Preset;
//!
//! let config = Preset::Recommended.config();
//! assert_eq!(config.adapter.image.as_str(), "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0");
//! assert!(!config.adapter.log_to_stderr);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::adapter_config::{
    AdapterConfig, NameMapping, ResourceMapping, ResourceRule, ResourceRules, Rule,
};
use crate::config::{Adapter, Config, Prometheus, Tls};
use crate::spec::{ResourcesSpec, TlsMode};

/// A named set of defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Preset {
    /// The guide's bundle, as documented.
    #[default]
    Documented,
    /// A modern, hardened adapter.
    Recommended,
}

impl Preset {
    /// Every preset, in the order the CLI lists them.
    pub const ALL: [Preset; 2] = [Preset::Documented, Preset::Recommended];

    /// The preset's name as written in specs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Documented => "documented",
            Preset::Recommended => "recommended",
        }
    }

    /// The preset's complete configuration, with no apps.
    pub fn config(self) -> Config {
        match self {
            Preset::Documented => documented(),
            Preset::Recommended => recommended(),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.as_str() == text)
            .ok_or_else(|| {
                format!("unknown preset `{text}`: expected `documented` or `recommended`")
            })
    }
}

/// The series every preset's rule selects: the FastAPI instrumentator's
/// request counter, only where Prometheus attached namespace and pod.
const HTTP_SERIES_QUERY: &str = r#"http_requests_total{namespace!="",pod!=""}"#;

fn name<T: FromStr<Err: fmt::Display>>(text: &str) -> T {
    text.parse()
        .unwrap_or_else(|error| panic!("preset value `{text}`: {error}"))
}

fn name_int(value: i64) -> crate::values::Replicas {
    crate::values::Replicas::new(value).expect("preset replicas are in range")
}

fn resources(pairs: &[(&str, &str, &str)]) -> ResourcesSpec {
    let mut spec = ResourcesSpec::default();
    for (kind, resource, quantity) in pairs {
        let map = if *kind == "limits" {
            &mut spec.limits
        } else {
            &mut spec.requests
        };
        map.insert((*resource).to_owned(), name(quantity));
    }
    spec
}

fn pod_namespace_overrides() -> ResourceMapping {
    ResourceMapping::overrides([("namespace", "namespace"), ("pod", "pod")])
}

fn documented() -> Config {
    let cadvisor_overrides = ResourceMapping::overrides([
        ("container_label_io_kubernetes_pod_namespace", "namespace"),
        ("node", "node"),
        ("container_label_io_kubernetes_pod_name", "pod"),
    ]);
    let container_label = Some("container_label_io_kubernetes_container_name".to_owned());
    Config {
        preset: Preset::Documented,
        adapter: Adapter {
            name: name("custom-metrics-prometheus-adapter"),
            namespace: name("monitoring"),
            rbac_name_prefix: name("prometheus-adapter"),
            image: name("directxman12/k8s-prometheus-adapter-amd64:v0.8.4"),
            replicas: name_int(1),
            prometheus_url: "http://prometheus-operated.monitoring.svc:9090".into(),
            metrics_relist_interval: name("1m"),
            log_level: 4,
            log_to_stderr: true,
            resources: resources(&[
                ("limits", "cpu", "100m"),
                ("limits", "memory", "128Mi"),
                ("requests", "cpu", "100m"),
                ("requests", "memory", "128Mi"),
            ]),
            labels: BTreeMap::new(),
            tls: Tls {
                mode: TlsMode::Insecure,
                secret_name: name("custom-metrics-prometheus-adapter-tls"),
                ca_bundle: None,
                issuer_ref: None,
            },
            priority_class_name: None,
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            preset: Preset::Documented,
        },
        adapter_config: AdapterConfig {
            rules: vec![Rule {
                series_query: HTTP_SERIES_QUERY.into(),
                resources: Some(pod_namespace_overrides()),
                name: Some(NameMapping {
                    matches: "^(.*)_total".into(),
                    r#as: Some("${1}_per_minute".into()),
                }),
                metrics_query: Some("avg(rate(<<.Series>>{<<.LabelMatchers>>}[20s])) by (<<.GroupBy>>)".into()),
                ..Rule::default()
            }],
            resource_rules: Some(ResourceRules {
                cpu: Some(ResourceRule {
                    container_query: "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, container_label_io_kubernetes_container_name!=\"\"}[3m])) by (<<.GroupBy>>)".into(),
                    // The guide repeats `by (<<.GroupBy>>)` here, which no PromQL
                    // parser accepts; emitted once on purpose.
                    node_query: "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[3m])) by (<<.GroupBy>>)".into(),
                    resources: Some(cadvisor_overrides.clone()),
                    container_label: container_label.clone(),
                }),
                memory: Some(ResourceRule {
                    container_query: "sum(container_memory_working_set_bytes{<<.LabelMatchers>>, container_label_io_kubernetes_container_name!=\"\"}) by (<<.GroupBy>>)".into(),
                    node_query: "sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)".into(),
                    resources: Some(cadvisor_overrides),
                    container_label,
                }),
                window: Some(name("3m")),
            }),
            external_rules: Vec::new(),
        },
        prometheus: Prometheus::kube_prometheus(None),
        apps: Vec::new(),
        backend: crate::spec::Backend::Adapter,
        keda: crate::config::Keda::default(),
    }
}

fn recommended() -> Config {
    Config {
        preset: Preset::Recommended,
        adapter: Adapter {
            name: name("custom-metrics-adapter"),
            namespace: name("monitoring"),
            rbac_name_prefix: name("custom-metrics-adapter"),
            image: name("registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0"),
            replicas: name_int(2),
            prometheus_url: "http://prometheus-k8s.monitoring.svc:9090".into(),
            metrics_relist_interval: name("1m"),
            log_level: 2,
            log_to_stderr: false,
            // No CPU limit: throttling the adapter delays every HPA sync.
            resources: resources(&[
                ("limits", "memory", "256Mi"),
                ("requests", "cpu", "100m"),
                ("requests", "memory", "128Mi"),
            ]),
            labels: BTreeMap::new(),
            tls: Tls {
                mode: TlsMode::CertManager,
                secret_name: name("custom-metrics-adapter-tls"),
                ca_bundle: None,
                issuer_ref: None,
            },
            priority_class_name: None,
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            preset: Preset::Recommended,
        },
        adapter_config: AdapterConfig {
            rules: vec![Rule {
                series_query: HTTP_SERIES_QUERY.into(),
                resources: Some(pod_namespace_overrides()),
                name: Some(NameMapping {
                    matches: "^(.*)_total$".into(),
                    r#as: Some("${1}_per_second".into()),
                }),
                // 2m is at least 4 scrapes at kube-prometheus' 30s interval, so
                // rate() always has enough samples; sum over handlers per pod.
                metrics_query: Some(
                    "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)".into(),
                ),
                ..Rule::default()
            }],
            resource_rules: None,
            external_rules: Vec::new(),
        },
        prometheus: Prometheus::kube_prometheus(Some(name("30s"))),
        apps: Vec::new(),
        backend: crate::spec::Backend::Adapter,
        keda: crate::config::Keda::default(),
    }
}
