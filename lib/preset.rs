//! The embedded defaults a spec starts from.
//!
//! - [`Preset::Standalone`], the default, is [`Preset::Recommended`] with
//!   a serving certificate the adapter generates itself (`--cert-dir` on
//!   an emptyDir) and `insecureSkipTLSVerify` on the APIService, as
//!   kube-prometheus ships its own adapter: it runs on a stock
//!   kube-prometheus cluster with nothing else installed, and its own
//!   `lint` finds no error in it (one warning, `insecure-tls`).
//! - [`Preset::Documented`] reproduces the guide's `custom-metrics.yaml`
//!   object for object, except that the cpu `nodeQuery` says
//!   `by (<<.GroupBy>>)` once (the guide repeats it, which is not PromQL)
//!   and the `checksum/config` annotation is computed.
//! - [`Preset::Recommended`] is what a careful engineer deploys today: the
//!   maintained image without klog flags, a `2m` rate window, the metric
//!   named `http_requests_per_second`, `/livez` and `/readyz` probes, Pod
//!   Security `restricted`, labels that kube-prometheus' NetworkPolicy
//!   admits, and TLS through cert-manager (which must be installed).
//!
//! A preset is data: a [`Spec`] that sets every field, which the model
//! resolves first and the user's spec then overrides field by field
//! (`Config::from_spec`), so every value a preset sets is a value a spec
//! can set.
//!
//! ```
//! use custom_metrics_manifests::{Preset, Config};
//!
//! let spec = Preset::Recommended.spec();
//! assert_eq!(spec.adapter.replicas.map(|r| r.get()), Some(2));
//! let config = Config::from_preset(Preset::Recommended);
//! assert_eq!(config.adapter().image.as_str(), "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0");
//! assert!(!config.adapter().log_to_stderr);
//! ```

use std::fmt;
use std::str::FromStr;

use crate::Located;

use crate::adapter_config::{NameMapping, ResourceMapping, ResourceRule, ResourceRules, Rule};
use crate::labels::{APP, COMPONENT, CUSTOM_METRICS_COMPONENT, INSTANCE, MANAGED_BY, NAME, TOOL};
pub use crate::spec::Preset;
use crate::spec::{
    AdapterSpec, CapabilitiesSpec, MetricsReaderSpec, ProbeSpec, PrometheusSpec, ReaderSubject,
    ResourcesSpec, SeccompKind, SeccompProfileSpec, SecurityContextSpec, Spec, TlsMode, TlsSpec,
};
use crate::values::{Labels, Replicas};

impl Preset {
    /// The preset as a spec that sets every field.
    pub fn spec(self) -> Spec {
        match self {
            Preset::Standalone => standalone(),
            Preset::Recommended => recommended(),
            Preset::Documented => documented(),
        }
    }
}

/// The series every preset's rule selects: the FastAPI instrumentator's
/// request counter, only where Prometheus attached namespace and pod.
const HTTP_SERIES_QUERY: &str = r#"http_requests_total{namespace!="",pod!=""}"#;

fn name<T: FromStr<Err: fmt::Display>>(text: &str) -> T {
    text.parse()
        .unwrap_or_else(|error| panic!("preset value `{text}`: {error}"))
}

fn replicas(value: i64) -> Replicas {
    Replicas::new(value).expect("preset replicas are in range")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::try_from_pairs(pairs.iter().copied()).expect("preset labels are labels")
}

/// An HTTPS probe of `path`, 30s after start, with a 5s timeout.
fn probe(path: &str) -> ProbeSpec {
    ProbeSpec {
        path: name(path),
        initial_delay_seconds: Some(30),
        timeout_seconds: Some(5),
        period_seconds: None,
        failure_threshold: None,
    }
}

/// A non-root, read-only container without privilege escalation that
/// drops `drop` and uses `seccomp`.
fn security_context(drop: &str, seccomp: Option<SeccompKind>) -> SecurityContextSpec {
    SecurityContextSpec {
        allow_privilege_escalation: Some(false),
        capabilities: Some(CapabilitiesSpec {
            add: None,
            drop: Some(vec![drop.to_owned()]),
        }),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(10001),
        run_as_group: None,
        seccomp_profile: seccomp.map(|kind| SeccompProfileSpec {
            kind,
            localhost_profile: None,
        }),
    }
}

/// kube-prometheus' Prometheus (`prometheus-k8s` in `monitoring`, version
/// label as in the guide).
fn kube_prometheus(scrape_interval: Option<&str>) -> PrometheusSpec {
    PrometheusSpec {
        namespaces: Some(Vec::new()),
        version: Some(name("2.44.0")),
        service_account: Some(name("prometheus-k8s")),
        namespace: Some(name("monitoring")),
        scrape_interval: scrape_interval.map(name),
        ..PrometheusSpec::default()
    }
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

fn documented() -> Spec {
    let cadvisor_overrides = ResourceMapping::overrides([
        ("container_label_io_kubernetes_pod_namespace", "namespace"),
        ("node", "node"),
        ("container_label_io_kubernetes_pod_name", "pod"),
    ]);
    let container_label = Some("container_label_io_kubernetes_container_name".to_owned());
    Spec {
        preset: Some(Preset::Documented),
        adapter: AdapterSpec {
            name: Some(Located::new(name("custom-metrics-prometheus-adapter"))),
            namespace: Some(name("monitoring")),
            rbac_name_prefix: Some(name("prometheus-adapter")),
            image: Some(name("directxman12/k8s-prometheus-adapter-amd64:v0.8.4")),
            replicas: Some(replicas(1)),
            prometheus_url: Some(name("http://prometheus-operated.monitoring.svc:9090")),
            metrics_relist_interval: Some(Located::new(name("1m"))),
            log_level: Some(4),
            log_to_stderr: Some(true),
            resources: Some(resources(&[
                ("limits", "cpu", "100m"),
                ("limits", "memory", "128Mi"),
                ("requests", "cpu", "100m"),
                ("requests", "memory", "128Mi"),
            ])),
            labels: Some(Labels::new()),
            tls: Some(Located::new(TlsSpec {
                mode: TlsMode::Insecure,
                secret_name: Some(name("custom-metrics-prometheus-adapter-tls")),
                ca_bundle: None,
                issuer_ref: None,
            })),
            priority_class_name: None,
            node_selector: Some(Labels::new()),
            tolerations: Some(Vec::new()),
            selector: Some(labels(&[(APP, "prometheus-adapter")])),
            pod_labels: Some(labels(&[])),
            object_labels: Some(labels(&[])),
            // The guide's Deployment carries no labels of its own.
            deployment_labels: Some(labels(&[])),
            // The guide names the pod template; the API server ignores it.
            pod_template_name: Some(name("prometheus-adapter")),
            // The guide repeats the image's entrypoint as the first argument.
            leading_args: Some(vec!["/adapter".to_owned()]),
            extra_args: Some(Vec::new()),
            liveness_probe: Some(probe("/healthz")),
            readiness_probe: Some(probe("/healthz")),
            // The guide's lower-case "all" is accepted by container runtimes but
            // fails Pod Security `restricted`, which wants exactly `ALL`.
            security_context: Some(security_context("all", None)),
            // The guide binds read access to the adapter itself.
            metrics_reader: Some(MetricsReaderSpec {
                verbs: vec!["*".to_owned()],
                subject: ReaderSubject::Adapter,
            }),
        },
        rules: Some(Located::new(vec![Located::new(Rule {
                series_query: HTTP_SERIES_QUERY.into(),
                resources: Some(pod_namespace_overrides()),
                name: Some(NameMapping {
                    matches: "^(.*)_total".into(),
                    r#as: Some("${1}_per_minute".into()),
                }),
                metrics_query: Some("avg(rate(<<.Series>>{<<.LabelMatchers>>}[20s])) by (<<.GroupBy>>)".into()),
            ..Rule::default()
        })])),
        resource_rules: Some(Located::new(ResourceRules {
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
        })),
        prometheus: kube_prometheus(None),
        ..Spec::default()
    }
}

/// The recommended adapter without cert-manager: the adapter writes a
/// self-signed serving certificate into `--cert-dir` at start-up and the
/// APIService skips verification, exactly as kube-prometheus'
/// `prometheusAdapter-deployment.yaml` and `-apiService.yaml` do.
fn standalone() -> Spec {
    let mut spec = recommended();
    spec.preset = Some(Preset::Standalone);
    spec.adapter.tls = Some(Located::new(TlsSpec {
        mode: TlsMode::Insecure,
        secret_name: Some(name("custom-metrics-adapter-tls")),
        ca_bundle: None,
        issuer_ref: None,
    }));
    spec
}

fn recommended() -> Spec {
    Spec {
        preset: Some(Preset::Recommended),
        adapter: AdapterSpec {
            name: Some(Located::new(name("custom-metrics-adapter"))),
            namespace: Some(name("monitoring")),
            rbac_name_prefix: Some(name("custom-metrics-adapter")),
            image: Some(name(
                "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0",
            )),
            replicas: Some(replicas(2)),
            prometheus_url: Some(name("http://prometheus-k8s.monitoring.svc:9090")),
            metrics_relist_interval: Some(Located::new(name("1m"))),
            log_level: Some(2),
            log_to_stderr: Some(false),
            // No CPU limit: throttling the adapter delays every HPA sync.
            resources: Some(resources(&[
                ("limits", "memory", "256Mi"),
                ("requests", "cpu", "100m"),
                ("requests", "memory", "128Mi"),
            ])),
            labels: Some(Labels::new()),
            tls: Some(Located::new(TlsSpec {
                mode: TlsMode::CertManager,
                secret_name: Some(name("custom-metrics-adapter-tls")),
                ca_bundle: None,
                issuer_ref: None,
            })),
            priority_class_name: None,
            node_selector: Some(Labels::new()),
            tolerations: Some(Vec::new()),
            // kube-prometheus' NetworkPolicy admits `name: prometheus-adapter`;
            // the instance tells these pods from kube-prometheus' own adapter.
            selector: Some(labels(&[
                (NAME, "prometheus-adapter"),
                (INSTANCE, "custom-metrics-adapter"),
            ])),
            pod_labels: Some(labels(&[(COMPONENT, CUSTOM_METRICS_COMPONENT)])),
            object_labels: Some(labels(&[(MANAGED_BY, TOOL)])),
            deployment_labels: None,
            pod_template_name: None,
            leading_args: Some(Vec::new()),
            extra_args: Some(Vec::new()),
            liveness_probe: Some(probe("/livez")),
            readiness_probe: Some(probe("/readyz")),
            security_context: Some(security_context("ALL", Some(SeccompKind::RuntimeDefault))),
            // The HPA controller only reads metrics; bind it, as
            // prometheus-adapter's Helm chart does.
            metrics_reader: Some(MetricsReaderSpec {
                verbs: vec!["get".to_owned(), "list".to_owned(), "watch".to_owned()],
                subject: ReaderSubject::ServiceAccount {
                    name: name("horizontal-pod-autoscaler"),
                    namespace: name("kube-system"),
                },
            }),
        },
        rules: Some(Located::new(vec![Located::new(Rule {
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
        })])),
        resource_rules: None,
        prometheus: kube_prometheus(Some("30s")),
        ..Spec::default()
    }
}
