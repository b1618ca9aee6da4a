//! The resolved configuration: a preset with the spec's overrides applied
//! and every cross-field rule checked. Builders read only this type, so no
//! object is built from a half-valid input.
//!
//! ```
//! use custom_metrics_manifests::{Config, Spec};
//!
//! let spec = Spec::from_yaml(
//!     "preset: recommended\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
//!     "spec.yaml",
//! ).unwrap();
//! let config = Config::from_spec(spec, "spec.yaml").unwrap();
//! assert_eq!(config.apps()[0].metric(), "http_requests_per_second");
//! // The app's namespace gets Prometheus' Role without being listed.
//! assert_eq!(config.prometheus().namespaces()[0].as_str(), "shop");
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::adapter_config::AdapterConfig;
pub use crate::naming::{served_metrics, ServedMetric, DEFAULT_SERIES};
pub use crate::spec::{AppError, AppField};
use crate::spec::{
    AppSpec, Backend, BehaviorSpec, ConfigError, FallbackBehavior, IssuerRefSpec, KedaAuthSpec,
    MetricsReaderSpec, MonitorKind, Preset, ProbeSpec, ReaderSubject, ResourcesSpec,
    SecurityContextSpec, Spec, SpecError, Stack, TlsMode, TolerationSpec,
};
use crate::stack::{StackFacts, StackInput};
use crate::values::{Duration, GoDuration, Image, Labels, Name, Quantity, Replicas};

/// Prometheus Operator's scrape interval when a ServiceMonitor sets none.
pub const DEFAULT_SCRAPE_INTERVAL: &str = "30s";

/// Where a spec applied to the model comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A preset's own spec, whose rules the unit tests check.
    Preset,
    /// The user's spec: everything it sets is checked.
    User,
}

/// Everything the builders need, fully resolved: from a preset
/// ([`Config::from_preset`]) or a spec over one ([`Config::from_spec`]),
/// with apps added in code by [`Config::add_app`].
///
/// ```
/// use custom_metrics_manifests::{AppField, Config};
/// use custom_metrics_manifests::Spec;
/// use custom_metrics_manifests::{render, Preset};
///
/// let mut config = Config::from_preset(Preset::Recommended);
/// let spec = Spec::from_yaml(
///     "apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
///     "spec.yaml",
/// ).unwrap();
/// for app in spec.apps {
///     config.add_app(app.value).unwrap();
/// }
/// assert_eq!(config.prometheus().namespaces()[0].as_str(), "shop");
/// assert!(render::objects(&config).any(|object| object.kind() == "HorizontalPodAutoscaler"));
///
/// // The same app twice is refused, naming the field.
/// let again = Spec::from_yaml(
///     "apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
///     "spec.yaml",
/// ).unwrap();
/// let error = config.add_app(again.apps.into_iter().next().unwrap().value).unwrap_err();
/// assert_eq!(error.field(), AppField::Name);
/// ```
///
/// A `Config` is read, never assembled: its parts are reached through
/// [`Config::adapter`], [`Config::apps`] and the other accessors, so every
/// value in it has passed the checks. An invalid value is refused where it
/// is made, or when its spec is resolved:
///
/// ```
/// use custom_metrics_manifests::{AppSpec, Config, Labels, Replicas, Spec};
///
/// // Values check themselves: no 0 replicas, no label a cluster refuses.
/// assert!(Replicas::new(0).is_err());
/// assert!(Labels::try_from_pairs([("team", "two words")]).is_err());
///
/// // Rules between fields are checked when the spec is resolved.
/// let mut app = AppSpec::new("api".parse()?, "shop".parse()?, "10".parse()?, Replicas::new(2)?);
/// app.min_replicas = Some(Replicas::new(5)?);
/// let mut spec = Spec::default();
/// spec.apps.push(app.into());
/// let error = Config::from_spec(spec, "in code").unwrap_err();
/// assert_eq!(error.field, "apps[0].minReplicas");
/// assert_eq!(error.to_string(), "in code: apps[0].minReplicas: minReplicas 5 is greater than maxReplicas 2");
///
/// // What YAML refuses while reading is refused in code too.
/// let mut spec = Spec::default();
/// spec.adapter.selector = Some(Labels::new());
/// let error = Config::from_spec(spec, "in code").unwrap_err();
/// assert_eq!(error.to_string(), "in code: adapter.selector: the selector needs at least one label");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The preset this configuration started from.
    pub(crate) preset: Preset,
    /// The adapter's objects.
    pub(crate) adapter: Adapter,
    /// The adapter's `config.yaml`.
    pub(crate) adapter_config: AdapterConfig,
    /// kube-prometheus' Prometheus and the namespaces it may read.
    pub(crate) prometheus: Prometheus,
    /// Apps with their ServiceMonitor and HPA.
    pub(crate) apps: Vec<App>,
    /// What serves the apps' metric: the adapter bundle and HPAs, or KEDA
    /// ScaledObjects.
    pub(crate) backend: Backend,
    /// The `keda` backend's settings.
    pub(crate) keda: Keda,
}

/// Resolved settings of the `keda` backend.
#[derive(Clone, Debug, PartialEq)]
// Built only by resolving a spec, which checks what spans its fields.
#[non_exhaustive]
pub struct Keda {
    /// Failed polls before the fallback applies.
    pub failure_threshold: u32,
    /// Fallback replicas; `None` means each app's maxReplicas.
    pub fallback_replicas: Option<u32>,
    /// Fallback behavior, when the spec sets one.
    pub fallback_behavior: Option<FallbackBehavior>,
    /// Prometheus credentials from a Secret.
    pub authentication: Option<KedaAuthSpec>,
}

impl Default for Keda {
    fn default() -> Self {
        Keda {
            failure_threshold: 3,
            fallback_replicas: None,
            fallback_behavior: None,
            authentication: None,
        }
    }
}

/// The adapter deployment's settings.
#[derive(Clone, Debug, PartialEq)]
// Built only by resolving a spec, which checks what spans its fields.
#[non_exhaustive]
pub struct Adapter {
    /// Name of the ServiceAccount, ConfigMap, Deployment and Service.
    pub name: Name,
    /// Namespace.
    pub namespace: Name,
    /// Prefix of the cluster-scoped RBAC objects' names.
    pub rbac_name_prefix: Name,
    /// Container image.
    pub image: Image,
    /// Pod count.
    pub replicas: Replicas,
    /// Prometheus URL.
    pub prometheus_url: String,
    /// Series re-discovery interval (`--metrics-relist-interval`, a Go duration).
    pub metrics_relist_interval: GoDuration,
    /// klog verbosity.
    pub log_level: u8,
    /// Whether `--logtostderr=true` is passed.
    pub log_to_stderr: bool,
    /// Container resources.
    pub resources: ResourcesSpec,
    /// The user's extra labels for every adapter object.
    pub labels: BTreeMap<String, String>,
    /// TLS trust between the API server and the adapter.
    pub tls: Tls,
    /// Pod priority class.
    pub priority_class_name: Option<Name>,
    /// Node selector.
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations.
    pub tolerations: Vec<TolerationSpec>,
    /// Labels that select the adapter's pods; also on the pods and objects.
    pub selector: BTreeMap<String, String>,
    /// Labels on the pods and objects that do not select.
    pub pod_labels: BTreeMap<String, String>,
    /// Labels on the objects only.
    pub object_labels: BTreeMap<String, String>,
    /// The Deployment's own labels besides `labels`, in place of the
    /// others; `None`: the labels of every adapter object.
    pub deployment_labels: Option<BTreeMap<String, String>>,
    /// The pod template's `metadata.name`.
    pub pod_template_name: Option<Name>,
    /// Arguments before the generated flags.
    pub leading_args: Vec<String>,
    /// Arguments after the generated flags.
    pub extra_args: Vec<String>,
    /// Liveness probe.
    pub liveness_probe: ProbeSpec,
    /// Readiness probe.
    pub readiness_probe: ProbeSpec,
    /// The container's security context.
    pub security_context: SecurityContextSpec,
    /// Who may read the served metrics, with which verbs.
    pub metrics_reader: MetricsReaderSpec,
}

/// Resolved TLS settings.
#[derive(Clone, Debug, PartialEq)]
// Built only by resolving a spec, which checks what spans its fields.
#[non_exhaustive]
pub struct Tls {
    /// The trust mode.
    pub mode: TlsMode,
    /// Serving-certificate Secret (modes `caBundle` and `certManager`).
    pub secret_name: Name,
    /// CA PEM (mode `caBundle`).
    pub ca_bundle: Option<String>,
    /// An existing issuer (mode `certManager`); `None` creates a self-signed one.
    pub issuer_ref: Option<IssuerRefSpec>,
}

/// The Prometheus that scrapes the apps: its stack, where it runs, and
/// the namespaces it may read. Built by resolving a spec, or with
/// [`Prometheus::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct Prometheus {
    /// Namespaces that get the `prometheus-k8s` Role and RoleBinding, in
    /// the order first named, without repeats.
    pub(crate) namespaces: Vec<Name>,
    /// `app.kubernetes.io/version` of the Role items.
    pub(crate) version: String,
    /// Prometheus' ServiceAccount.
    pub(crate) service_account: Name,
    /// Prometheus' namespace.
    pub(crate) namespace: Name,
    /// The scrape interval, when the spec or preset states one.
    pub(crate) scrape_interval: Option<Duration>,
    /// The installation Prometheus comes from.
    pub(crate) stack: Stack,
    /// What the stack means: URL, monitor labels, Roles, NetworkPolicy.
    pub(crate) facts: StackFacts,
}

impl Prometheus {
    /// The Prometheus of `stack` in `namespace`, running as
    /// `service_account`, that may read `namespaces` (repeats dropped, in
    /// the order first named): what
    /// [`render::prometheus_access`](crate::render::prometheus_access)
    /// grants. The stack's facts (URL, monitor labels, per-namespace Roles,
    /// NetworkPolicy) follow from the stack and namespace, as for a spec
    /// without Helm settings.
    ///
    /// ```
    /// use custom_metrics_manifests::{render, Name, Prometheus, Stack};
    ///
    /// let shop: Name = "shop".parse()?;
    /// let prometheus = Prometheus::new(
    ///     Stack::KubePrometheus,
    ///     "monitoring".parse()?,
    ///     "prometheus-k8s".parse()?,
    ///     [shop.clone(), "api".parse()?, shop],
    /// );
    /// assert_eq!(prometheus.namespaces().len(), 2);
    /// // A Role and a RoleBinding per namespace.
    /// assert_eq!(render::prometheus_access(&prometheus).len(), 4);
    /// # Ok::<(), custom_metrics_manifests::NameError>(())
    /// ```
    pub fn new(
        stack: Stack,
        namespace: Name,
        service_account: Name,
        namespaces: impl IntoIterator<Item = Name>,
    ) -> Prometheus {
        let input = StackInput {
            namespace: namespace.as_str(),
            ..StackInput::default()
        };
        let facts = crate::stack::resolve(stack, &input)
            .expect("a stack without Helm settings always resolves");
        let mut prometheus = Prometheus {
            namespaces: Vec::new(),
            version: "2.44.0".into(),
            service_account,
            namespace,
            scrape_interval: None,
            stack,
            facts,
        };
        for namespace in namespaces {
            if !prometheus.namespaces.contains(&namespace) {
                prometheus.namespaces.push(namespace);
            }
        }
        prometheus
    }

    /// Namespaces Prometheus may read (each once, in the order first named).
    pub fn namespaces(&self) -> &[Name] {
        &self.namespaces
    }

    /// `app.kubernetes.io/version` of the Role items.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Prometheus' ServiceAccount.
    pub fn service_account(&self) -> &Name {
        &self.service_account
    }

    /// Prometheus' namespace.
    pub fn namespace(&self) -> &Name {
        &self.namespace
    }

    /// The scrape interval, when the spec or preset states one.
    pub fn scrape_interval(&self) -> Option<&Duration> {
        self.scrape_interval.as_ref()
    }

    /// The installation Prometheus comes from.
    pub fn stack(&self) -> Stack {
        self.stack
    }

    /// What the stack means: URL, monitor labels, Roles, NetworkPolicy.
    pub fn facts(&self) -> &StackFacts {
        &self.facts
    }

    /// kube-prometheus' defaults (`prometheus-k8s` in `monitoring`, version
    /// label as in the guide).
    pub fn kube_prometheus(scrape_interval: Option<Duration>) -> Self {
        let input = StackInput {
            namespace: "monitoring",
            ..StackInput::default()
        };
        Prometheus {
            namespaces: Vec::new(),
            version: "2.44.0".into(),
            service_account: "prometheus-k8s".parse().expect("valid name"),
            namespace: "monitoring".parse().expect("valid name"),
            scrape_interval,
            stack: Stack::KubePrometheus,
            facts: crate::stack::resolve(Stack::KubePrometheus, &input)
                .expect("kube-prometheus needs no settings"),
        }
    }
}

/// One resolved app.
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    /// HPA and ServiceMonitor name.
    pub(crate) name: Name,
    /// Namespace.
    pub(crate) namespace: Name,
    /// The Deployment the HPA scales.
    pub(crate) deployment: Name,
    /// ServiceMonitor or PodMonitor.
    pub(crate) monitor: MonitorKind,
    /// Labels the monitor carries so that Prometheus selects it.
    pub(crate) monitor_labels: BTreeMap<String, String>,
    /// The app Service's labels (or pod labels, for a PodMonitor), which
    /// the monitor selects.
    pub(crate) selector: BTreeMap<String, String>,
    /// Service (or container) port name to scrape.
    pub(crate) port: String,
    /// Metrics path.
    pub(crate) path: String,
    /// Scrape interval.
    pub(crate) interval: Duration,
    /// The custom metric the HPA reads, as the adapter serves it.
    pub(crate) metric: String,
    /// Target per-pod average.
    pub(crate) target_average_value: Quantity,
    /// Minimum replicas (at most the maximum: read with
    /// [`App::min_replicas`]).
    pub(crate) min_replicas: Replicas,
    /// Maximum replicas.
    pub(crate) max_replicas: Replicas,
    /// Scaling behavior, if set.
    pub(crate) behavior: Option<BehaviorSpec>,
}

impl Config {
    /// The preset this configuration started from.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// The adapter's objects.
    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }

    /// The adapter's `config.yaml`.
    pub fn adapter_config(&self) -> &AdapterConfig {
        &self.adapter_config
    }

    /// Prometheus and the namespaces it may read.
    pub fn prometheus(&self) -> &Prometheus {
        &self.prometheus
    }

    /// The apps, each with its monitor and autoscaler.
    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// What serves the apps' metric.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The `keda` backend's settings.
    pub fn keda(&self) -> &Keda {
        &self.keda
    }
}

impl App {
    /// HPA and monitor name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// Namespace.
    pub fn namespace(&self) -> &Name {
        &self.namespace
    }

    /// The Deployment the HPA scales.
    pub fn deployment(&self) -> &Name {
        &self.deployment
    }

    /// ServiceMonitor or PodMonitor.
    pub fn monitor(&self) -> MonitorKind {
        self.monitor
    }

    /// Labels the monitor carries so that Prometheus selects it.
    pub fn monitor_labels(&self) -> &BTreeMap<String, String> {
        &self.monitor_labels
    }

    /// The labels the monitor selects (at least one).
    pub fn selector(&self) -> &BTreeMap<String, String> {
        &self.selector
    }

    /// The port name scraped (a valid Service port name).
    pub fn port(&self) -> &str {
        &self.port
    }

    /// Metrics path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Scrape interval (1s to 1h).
    pub fn interval(&self) -> &Duration {
        &self.interval
    }

    /// The custom metric the HPA reads, one the adapter's rules serve.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// Target per-pod average (above zero).
    pub fn target_average_value(&self) -> &Quantity {
        &self.target_average_value
    }

    /// Scaling behavior, if set.
    pub fn behavior(&self) -> Option<&BehaviorSpec> {
        self.behavior.as_ref()
    }

    /// Minimum replicas: at least 1 and at most [`App::max_replicas`].
    pub fn min_replicas(&self) -> Replicas {
        self.min_replicas
    }

    /// Maximum replicas.
    pub fn max_replicas(&self) -> Replicas {
        self.max_replicas
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::from_preset(Preset::default())
    }
}

impl Config {
    /// The preset's complete configuration, with no apps: its
    /// [`spec`](Preset::spec) resolved.
    pub fn from_preset(preset: Preset) -> Config {
        let spec = Spec {
            preset: Some(preset),
            ..Spec::default()
        };
        // Every preset resolves: the unit tests resolve each one.
        Config::from_spec(spec, preset.as_str())
            .unwrap_or_else(|error| panic!("preset {preset} does not resolve: {error}"))
    }

    /// Applies `spec` over its preset and checks the rules that span
    /// fields. `origin` names the spec file in errors.
    ///
    /// The preset is itself a spec ([`Preset::spec`]): it is applied first,
    /// with the same code and the same checks, then the user's spec
    /// overrides it field by field.
    pub fn from_spec(spec: Spec, origin: &str) -> Result<Config, SpecError> {
        let preset = spec.preset.unwrap_or_default();
        let mut config = Config::blank(preset);
        config.apply(preset.spec(), &format!("preset {preset}"), Source::Preset)?;
        config.apply(spec, origin, Source::User)?;
        Ok(config)
    }

    /// The model before any spec: every field that a preset sets holds a
    /// placeholder, replaced when the preset's spec is applied.
    fn blank(preset: Preset) -> Config {
        let placeholder: Name = "unset".parse().expect("valid name");
        let blank_probe = ProbeSpec {
            path: "/".parse().expect("valid path"),
            initial_delay_seconds: None,
            timeout_seconds: None,
            period_seconds: None,
            failure_threshold: None,
        };
        Config {
            preset,
            adapter: Adapter {
                name: placeholder.clone(),
                namespace: placeholder.clone(),
                rbac_name_prefix: placeholder.clone(),
                image: "unset".parse().expect("valid image"),
                replicas: Replicas::new(1).expect("1 is in range"),
                prometheus_url: String::new(),
                metrics_relist_interval: "1m".parse().expect("valid Go duration"),
                log_level: 0,
                log_to_stderr: false,
                resources: ResourcesSpec::default(),
                labels: BTreeMap::new(),
                tls: Tls {
                    mode: TlsMode::Insecure,
                    secret_name: placeholder,
                    ca_bundle: None,
                    issuer_ref: None,
                },
                priority_class_name: None,
                node_selector: BTreeMap::new(),
                tolerations: Vec::new(),
                selector: BTreeMap::new(),
                pod_labels: BTreeMap::new(),
                object_labels: BTreeMap::new(),
                deployment_labels: None,
                pod_template_name: None,
                leading_args: Vec::new(),
                extra_args: Vec::new(),
                liveness_probe: blank_probe.clone(),
                readiness_probe: blank_probe,
                security_context: SecurityContextSpec::default(),
                metrics_reader: MetricsReaderSpec {
                    verbs: Vec::new(),
                    subject: ReaderSubject::Adapter,
                },
            },
            adapter_config: AdapterConfig::default(),
            prometheus: Prometheus::kube_prometheus(None),
            apps: Vec::new(),
            backend: Backend::default(),
            keda: Keda::default(),
        }
    }

    /// Overrides what `spec` sets and checks the rules that span fields.
    fn apply(&mut self, spec: Spec, origin: &str, source: Source) -> Result<(), SpecError> {
        let config = self;
        // A preset's rules are checked once, by the unit tests
        // (`preset_rules_pass_the_checks`), not on every run: compiling
        // their regexes and parsing their PromQL would be most of the
        // default bundle's time.
        let check_rules_now =
            source == Source::User && (spec.rules.is_some() || spec.resource_rules.is_some());
        // `at` is the (line, column) of the spec node at fault, when known.
        let error = |at: Option<(u64, u64)>, field: &str, kind: ConfigError| {
            SpecError::new(origin, kind)
                .at(at.map(|(line, _)| line), at.map(|(_, column)| column))
                .field(field)
        };

        check_built(&spec).map_err(|(field, kind)| error(None, &field, kind))?;

        let adapter = &mut config.adapter;
        let overrides = spec.adapter;
        let renamed = overrides.name.is_some();
        let name_at = overrides.name.as_ref().and_then(position);
        set(
            &mut adapter.name,
            overrides.name.map(|spanned| Name::from(spanned.value)),
        );
        if renamed && overrides.rbac_name_prefix.is_none() {
            adapter.rbac_name_prefix = adapter.name.clone();
        }
        if renamed
            && overrides
                .tls
                .as_ref()
                .is_none_or(|tls| tls.value.secret_name.is_none())
        {
            adapter.tls.secret_name = format!("{}-tls", truncate(adapter.name.as_str(), 59))
                .parse()
                .expect("a name plus -tls is a name");
        }
        set(&mut adapter.namespace, overrides.namespace);
        set(&mut adapter.rbac_name_prefix, overrides.rbac_name_prefix);
        set(&mut adapter.image, overrides.image);
        set(&mut adapter.replicas, overrides.replicas);
        let explicit_url = overrides.prometheus_url.is_some();
        set(
            &mut adapter.prometheus_url,
            overrides.prometheus_url.map(|url| url.to_string()),
        );
        let relist_at = overrides
            .metrics_relist_interval
            .as_ref()
            .and_then(position);
        if let Some(relist) = overrides.metrics_relist_interval {
            adapter.metrics_relist_interval = relist.value;
        }
        set(&mut adapter.log_level, overrides.log_level);
        set(&mut adapter.log_to_stderr, overrides.log_to_stderr);
        set(&mut adapter.resources, overrides.resources);
        set(&mut adapter.labels, overrides.labels.map(Labels::into_map));
        set(
            &mut adapter.node_selector,
            overrides.node_selector.map(Labels::into_map),
        );
        set(&mut adapter.tolerations, overrides.tolerations);
        if overrides.priority_class_name.is_some() {
            adapter.priority_class_name = overrides.priority_class_name;
        }
        // The instance label names this adapter: it follows a rename unless
        // the spec gives the selector.
        if renamed && overrides.selector.is_none() {
            if let Some(instance) = adapter.selector.get_mut(crate::labels::INSTANCE) {
                *instance = adapter.name.to_string();
            }
        }
        set(
            &mut adapter.selector,
            overrides.selector.map(Labels::into_map),
        );
        set(
            &mut adapter.pod_labels,
            overrides.pod_labels.map(Labels::into_map),
        );
        set(
            &mut adapter.object_labels,
            overrides.object_labels.map(Labels::into_map),
        );
        if let Some(labels) = overrides.deployment_labels {
            adapter.deployment_labels = Some(labels.into_map());
        }
        if overrides.pod_template_name.is_some() {
            adapter.pod_template_name = overrides.pod_template_name;
        }
        set(&mut adapter.leading_args, overrides.leading_args);
        set(&mut adapter.extra_args, overrides.extra_args);
        set(&mut adapter.liveness_probe, overrides.liveness_probe);
        set(&mut adapter.readiness_probe, overrides.readiness_probe);
        set(&mut adapter.security_context, overrides.security_context);
        set(&mut adapter.metrics_reader, overrides.metrics_reader);
        if let Some(spanned) = overrides.tls {
            let tls_at = position(&spanned);
            let tls = spanned.value;
            adapter.tls.mode = tls.mode;
            set(&mut adapter.tls.secret_name, tls.secret_name);
            adapter.tls.ca_bundle = tls.ca_bundle;
            adapter.tls.issuer_ref = tls.issuer_ref;
            if tls.mode == TlsMode::CaBundle
                && adapter.tls.ca_bundle.as_deref().is_none_or(str::is_empty)
            {
                return Err(error(
                    tls_at,
                    "adapter.tls.caBundle",
                    ConfigError::NoCaBundle,
                ));
            }
        }

        check_system_name(adapter).map_err(|kind| error(name_at, "adapter.name", kind))?;

        let mut rule_lines = vec![None; config.adapter_config.rules.len()];
        let mut rules_line = None;
        if let Some(rules) = spec.rules {
            rules_line = position(&rules);
            rule_lines = rules.value.iter().map(position).collect();
            config.adapter_config.rules = rules.value.into_iter().map(|rule| rule.value).collect();
        }
        let mut resource_rules_line = None;
        if let Some(resource_rules) = spec.resource_rules {
            resource_rules_line = position(&resource_rules);
            config.adapter_config.resource_rules = Some(resource_rules.value);
        }
        if config.adapter_config.rules.is_empty() && config.adapter_config.resource_rules.is_none()
        {
            return Err(error(rules_line, "rules", ConfigError::NoRules));
        }

        if check_rules_now {
            check_rules(&config.adapter_config).map_err(|(index, field, kind)| {
                error(rule_lines.get(index).copied().flatten(), &field, kind)
            })?;
            check_queries(&config.adapter_config).map_err(|(index, field, kind)| {
                let at = match index {
                    Some(i) => rule_lines.get(i).copied().flatten(),
                    None => resource_rules_line,
                };
                error(at, &field, kind)
            })?;
        }

        let prometheus = &mut config.prometheus;
        let overrides = spec.prometheus;
        set(&mut prometheus.namespaces, overrides.namespaces);
        set(
            &mut prometheus.version,
            overrides.version.map(|v| v.to_string()),
        );
        set(&mut prometheus.service_account, overrides.service_account);
        set(&mut prometheus.namespace, overrides.namespace);
        if overrides.scrape_interval.is_some() {
            prometheus.scrape_interval = overrides.scrape_interval;
        }
        set(&mut prometheus.stack, overrides.stack);
        let input = StackInput {
            namespace: prometheus.namespace.as_str(),
            release: crate::stack::name_str(&overrides.release),
            name_override: crate::stack::name_str(&overrides.name_override),
            fullname_override: crate::stack::name_str(&overrides.fullname_override),
            service_monitor_selector: overrides
                .service_monitor_selector
                .as_ref()
                .map(|selector| selector.match_labels.as_map()),
            pod_monitor_selector: overrides
                .pod_monitor_selector
                .as_ref()
                .map(|selector| selector.match_labels.as_map()),
        };
        prometheus.facts =
            crate::stack::resolve(prometheus.stack, &input).map_err(|stack_error| {
                let field = stack_error.field();
                let at = match field {
                    "prometheus.release" => overrides.release.as_ref().and_then(position),
                    "prometheus.nameOverride" => {
                        overrides.name_override.as_ref().and_then(position)
                    }
                    "prometheus.fullnameOverride" => {
                        overrides.fullname_override.as_ref().and_then(position)
                    }
                    _ => None,
                };
                error(at, field, stack_error.into())
            })?;
        // The preset's URL is kube-prometheus'; another stack's Prometheus
        // answers elsewhere, unless the spec names the URL itself.
        if !explicit_url && prometheus.stack != Stack::KubePrometheus {
            config.adapter.prometheus_url = prometheus.facts.url.clone();
        }

        // Rules are compiled once, and apps checked for repeats in a set:
        // a spec of 10,000 apps stays linear.
        let served = if check_rules_now || !spec.apps.is_empty() {
            served_metrics(&config.adapter_config)
                .map_err(|naming| error(None, "rules", naming.into()))?
        } else {
            Vec::new()
        };
        let mut seen: BTreeSet<(Name, Name)> = config
            .apps
            .iter()
            .map(|app| (app.namespace.clone(), app.name.clone()))
            .collect();
        let mut namespaces: BTreeSet<Name> = config.prometheus.namespaces.iter().cloned().collect();
        if let Some(extra) = spec.apps.get(crate::spec::MAX_APPS) {
            return Err(error(
                position(extra),
                &format!("apps[{}]", crate::spec::MAX_APPS),
                ConfigError::TooManyApps {
                    count: spec.apps.len(),
                    max: crate::spec::MAX_APPS,
                },
            ));
        }
        let mut app_lines = vec![None; config.apps.len()];
        for (index, spanned) in spec.apps.into_iter().enumerate() {
            let app_at = position(&spanned);
            app_lines.push(app_at);
            let at = |app_error: AppError| {
                let field = format!("apps[{index}].{}", app_error.field());
                error(app_at, &field, app_error.into())
            };
            let app = spanned.value;
            if !seen.insert((app.namespace.clone(), app.name.clone())) {
                return Err(at(AppError::Duplicate {
                    name: app.name,
                    namespace: app.namespace,
                }));
            }
            let resolved = resolve_app(app, &config.prometheus, &served).map_err(at)?;
            if namespaces.insert(resolved.namespace.clone()) {
                config
                    .prometheus
                    .namespaces
                    .push(resolved.namespace.clone());
            }
            config.apps.push(resolved);
        }
        let mut unique = BTreeSet::new();
        config
            .prometheus
            .namespaces
            .retain(|namespace| unique.insert(namespace.clone()));
        check_relist_interval(config)
            .map_err(|kind| error(relist_at, "adapter.metricsRelistInterval", kind))?;
        set(&mut config.backend, spec.backend);
        if let Some(keda) = spec.keda {
            let keda_at = position(&keda);
            apply_keda(&mut config.keda, keda.value)
                .map_err(|(field, kind)| error(keda_at, &format!("keda.{field}"), kind))?;
        }
        if config.backend == Backend::Keda {
            for (index, app) in config.apps.iter().enumerate() {
                check_keda_app(&config.adapter_config, app).map_err(|app_error| {
                    error(
                        app_lines.get(index).copied().flatten(),
                        &format!("apps[{index}].{}", app_error.field()),
                        app_error.into(),
                    )
                })?;
            }
        }
        Ok(())
    }
}

impl Config {
    /// Resolves `app` against the rules and adds it, with its namespace
    /// joining Prometheus' namespaces. The error names the app field at
    /// fault.
    pub fn add_app(&mut self, app: AppSpec) -> Result<(), AppError> {
        check_built_app(&app)?;
        if self
            .apps
            .iter()
            .any(|existing| existing.name == app.name && existing.namespace == app.namespace)
        {
            return Err(AppError::Duplicate {
                name: app.name,
                namespace: app.namespace,
            });
        }
        let served = served_metrics(&self.adapter_config).map_err(AppError::Rules)?;
        let resolved = resolve_app(app, &self.prometheus, &served)?;
        if !self.prometheus.namespaces.contains(&resolved.namespace) {
            self.prometheus.namespaces.push(resolved.namespace.clone());
        }
        self.apps.push(resolved);
        Ok(())
    }
}

/// Applies the `keda` section; the error names the field below `keda`.
fn apply_keda(
    keda: &mut Keda,
    spec: crate::spec::KedaSpec,
) -> Result<(), (&'static str, ConfigError)> {
    if let Some(fallback) = spec.fallback {
        set(
            &mut keda.failure_threshold,
            fallback.failure_threshold.map(|t| t.get()),
        );
        keda.fallback_replicas = fallback.replicas.map(|r| r.get());
        keda.fallback_behavior = fallback.behavior;
    }
    if let Some(mut auth) = spec.authentication {
        auth.modes.sort();
        auth.modes.dedup();
        use crate::spec::AuthMode;
        if auth.modes.contains(&AuthMode::Bearer) && auth.modes.contains(&AuthMode::Basic) {
            return Err(("authentication.modes", ConfigError::BearerAndBasic));
        }
        if auth.modes.is_empty() {
            // prometheus_scaler.go reads `ca` only when an auth mode is set.
            return Err(("authentication.modes", ConfigError::NoAuthMode));
        }
        keda.authentication = Some(auth);
    }
    Ok(())
}

/// What the `keda` backend needs of an app beyond the adapter's rules: a
/// concrete query, and a threshold KEDA does not round to zero.
fn check_keda_app(adapter_config: &AdapterConfig, app: &App) -> Result<(), AppError> {
    crate::query::keda_query(
        adapter_config,
        app.namespace.as_str(),
        app.deployment.as_str(),
        &app.metric,
    )
    .map_err(AppError::KedaQuery)?;
    // KEDA formats the threshold with `%.3f` (pkg/scalers/scaler.go).
    if app.target_average_value.as_f64() < 0.0005 {
        return Err(AppError::KedaThresholdZero(
            app.target_average_value.clone(),
        ));
    }
    if app.target_average_value.to_decimal().is_none() {
        return Err(AppError::KedaThresholdDigits(
            app.target_average_value.clone(),
        ));
    }
    Ok(())
}

/// The rules the YAML reader checks while reading, checked again for a
/// spec built in code (which the reader never saw). A spec read from YAML
/// passes them all, so its errors keep their place and wording.
fn check_built(spec: &Spec) -> Result<(), (String, ConfigError)> {
    let adapter = &spec.adapter;
    if adapter.selector.as_ref().is_some_and(Labels::is_empty) {
        return Err(("adapter.selector".into(), ConfigError::EmptySelector));
    }
    // Tolerations and the metrics reader are checked when built
    // (`TolerationSpec::new`, `MetricsReaderSpec::new`).
    if let Some(interval) = &spec.prometheus.scrape_interval {
        interval
            .check_range("a scrape interval", (1_000, "1s"), (3_600_000, "1h"))
            .map_err(|error| {
                (
                    "prometheus.scrapeInterval".into(),
                    ConfigError::ScrapeInterval(error),
                )
            })?;
    }
    for (index, app) in spec.apps.iter().enumerate() {
        check_built_app(app)
            .map_err(|error| (format!("apps[{index}].{}", error.field()), error.into()))?;
    }
    Ok(())
}

/// [`check_built`] for one app: its scrape interval.
fn check_built_app(app: &AppSpec) -> Result<(), AppError> {
    if let Some(interval) = &app.interval {
        interval
            .check_range("a scrape interval", (1_000, "1s"), (3_600_000, "1h"))
            .map_err(AppError::Interval)?;
    }
    Ok(())
}

/// Adds one app given on the command line (`gen-manifests app`) to `config`.
/// The error names the argument at fault; the binary words it as its flag.
pub fn quick_app(
    mut config: Config,
    namespace: &str,
    deployment: &str,
    target: &str,
    min_replicas: u32,
    max_replicas: u32,
) -> Result<Config, QuickAppError> {
    let namespace: Name = namespace.parse().map_err(QuickAppError::Namespace)?;
    let name: Name = deployment.parse().map_err(QuickAppError::Deployment)?;
    let target: Quantity = target.parse().map_err(QuickAppError::Target)?;
    let min = Replicas::new(i64::from(min_replicas)).map_err(QuickAppError::Min)?;
    let max = Replicas::new(i64::from(max_replicas)).map_err(QuickAppError::Max)?;
    let app = AppSpec {
        min_replicas: Some(min),
        ..AppSpec::new(name, namespace, target, max)
    };
    config.add_app(app).map_err(QuickAppError::App)?;
    Ok(config)
}

/// An argument of [`quick_app`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuickAppInput {
    /// `namespace`.
    Namespace,
    /// `deployment`.
    Deployment,
    /// `target`.
    Target,
    /// `min_replicas`.
    Min,
    /// `max_replicas`.
    Max,
    /// A resolved field of the app, refused by the rules.
    App(AppField),
}

/// Why [`quick_app`] refused its arguments; [`QuickAppError::input`] is
/// the argument at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuickAppError {
    /// The namespace.
    #[error(transparent)]
    Namespace(crate::values::NameError),
    /// The Deployment's name.
    #[error(transparent)]
    Deployment(crate::values::NameError),
    /// The target.
    #[error(transparent)]
    Target(crate::values::QuantityError),
    /// The minimum replicas.
    #[error(transparent)]
    Min(crate::values::IntError),
    /// The maximum replicas.
    #[error(transparent)]
    Max(crate::values::IntError),
    /// The app the arguments make.
    #[error(transparent)]
    App(AppError),
}

impl QuickAppError {
    /// The argument at fault.
    pub fn input(&self) -> QuickAppInput {
        match self {
            QuickAppError::Namespace(_) => QuickAppInput::Namespace,
            QuickAppError::Deployment(_) => QuickAppInput::Deployment,
            QuickAppError::Target(_) => QuickAppInput::Target,
            QuickAppError::Min(_) => QuickAppInput::Min,
            QuickAppError::Max(_) => QuickAppInput::Max,
            QuickAppError::App(error) => match error.field() {
                AppField::MinReplicas => QuickAppInput::Min,
                AppField::TargetAverageValue => QuickAppInput::Target,
                other => QuickAppInput::App(other),
            },
        }
    }
}

/// Where a spec node starts, for error messages.
fn position<T>(located: &crate::Located<T>) -> Option<(u64, u64)> {
    // A preset's values, and values built in code, have no place.
    located.location.map(|at| (at.line, at.column))
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

fn truncate(text: &str, max: usize) -> &str {
    text[..text.len().min(max)].trim_end_matches('-')
}

/// Objects that kube-system holds in a working cluster (kubeadm, kops,
/// EKS, GKE, AKS): an adapter ServiceAccount, ConfigMap, Deployment and
/// Service of one of these names in kube-system would replace it (a
/// `kube-dns` Service re-points cluster DNS).
const KUBE_SYSTEM_COMPONENTS: &[&str] = &[
    "aws-node",
    "calico-kube-controllers",
    "calico-node",
    "cilium",
    "cilium-operator",
    "cloud-controller-manager",
    "cluster-autoscaler",
    "coredns",
    "etcd",
    "extension-apiserver-authentication",
    "konnectivity-agent",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-dns",
    "kube-flannel",
    "kube-proxy",
    "kube-root-ca.crt",
    "kube-scheduler",
    "kubeadm-config",
    "kubelet-config",
    "metrics-server",
];

/// Refuses an adapter that would overwrite a cluster component's objects.
fn check_system_name(adapter: &Adapter) -> Result<(), ConfigError> {
    let name = adapter.name.as_str();
    if adapter.namespace.as_str() == "kube-system" && KUBE_SYSTEM_COMPONENTS.contains(&name) {
        return Err(ConfigError::SystemName(adapter.name.clone()));
    }
    Ok(())
}

/// The adapter's relist interval must be 1s to 1h, and at least the
/// longest scrape interval: the adapter lists only series that received a
/// sample since its last relist, so a shorter relist makes metrics
/// intermittently vanish and the HPA flap (prometheus-adapter's README,
/// `--metrics-relist-interval`). 0s would query Prometheus in a busy loop.
fn check_relist_interval(config: &Config) -> Result<(), ConfigError> {
    let relist = &config.adapter.metrics_relist_interval;
    if !(1_000..=3_600_000).contains(&relist.as_millis()) {
        return Err(ConfigError::RelistInterval(
            crate::values::DurationError::OutOfRange {
                text: relist.to_string(),
                field: "the relist interval",
                min: "1s",
                max: "1h",
            },
        ));
    }
    let default_interval: Duration = DEFAULT_SCRAPE_INTERVAL.parse().expect("valid duration");
    let scrape = config
        .prometheus
        .scrape_interval
        .as_ref()
        .unwrap_or(&default_interval);
    let longest = config
        .apps
        .iter()
        .map(|app| &app.interval)
        .chain(std::iter::once(scrape))
        .max_by_key(|interval| interval.as_millis())
        .unwrap_or(scrape);
    if relist.as_millis() < longest.as_millis() {
        return Err(ConfigError::RelistShorterThanScrape {
            relist: relist.clone(),
            scrape: longest.clone(),
        });
    }
    Ok(())
}

/// Checks what the adapter would refuse at start-up: invalid regexes in
/// `name.matches` and `seriesFilters`, and an `as` it cannot default.
fn check_rules(adapter_config: &AdapterConfig) -> Result<(), (usize, String, ConfigError)> {
    for (index, rule) in adapter_config.rules.iter().enumerate() {
        crate::naming::name_mapping(rule)
            .map_err(|error| (index, format!("rules[{index}].name"), error.into()))?;
        for (filter_index, filter) in rule.series_filters.iter().enumerate() {
            for pattern in filter.is.iter().chain(&filter.is_not) {
                regex::Regex::new(pattern).map_err(|error| {
                    (
                        index,
                        format!("rules[{index}].seriesFilters[{filter_index}]"),
                        ConfigError::Regex {
                            pattern: pattern.clone(),
                            message: error.to_string(),
                        },
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Refuses query templates that are not PromQL once filled in as the
/// adapter fills them (the guide's repeated `by` is one): Prometheus would
/// reject them on every request and the HPA would never get a value.
/// Without the `promql` feature the templates are not parsed here (lint,
/// which needs the feature, still checks them).
#[cfg(not(feature = "promql"))]
fn check_queries(_: &AdapterConfig) -> Result<(), (Option<usize>, String, ConfigError)> {
    Ok(())
}

/// See the other `check_queries`.
#[cfg(feature = "promql")]
fn check_queries(
    adapter_config: &AdapterConfig,
) -> Result<(), (Option<usize>, String, ConfigError)> {
    for (location, template) in adapter_config.query_templates() {
        let (index, field) = (location.custom_rule(), location.to_string());
        // Templates with Go actions this does not model are left to lint.
        let Some(filled) = crate::promql::fill(template, DEFAULT_SERIES) else {
            continue;
        };
        if let Err(message) = crate::promql::parse(&filled) {
            return Err((
                index,
                field,
                ConfigError::Query {
                    message: message.to_string(),
                    filled,
                },
            ));
        }
    }
    Ok(())
}

fn resolve_app(
    app: AppSpec,
    prometheus: &Prometheus,
    served: &[ServedMetric],
) -> Result<App, AppError> {
    let served_names = || {
        let names: BTreeSet<&str> = served.iter().map(|metric| metric.name.as_str()).collect();
        names.into_iter().map(str::to_owned).collect()
    };
    let metric = match app.metric {
        Some(metric) => {
            if !served.iter().any(|served| served.name == metric) {
                return Err(AppError::NotServed {
                    metric,
                    app: app.name,
                    served: served_names(),
                });
            }
            metric
        }
        None => match served.iter().find(|served| served.series == DEFAULT_SERIES) {
            Some(served) => served.name.clone(),
            None => {
                return Err(AppError::NoDefaultMetric {
                    app: app.name,
                    served: served_names(),
                })
            }
        },
    };
    let min_replicas = app
        .min_replicas
        .unwrap_or(Replicas::new(1).expect("1 is in range"));
    let max_replicas = app.max_replicas;
    if min_replicas > max_replicas {
        return Err(AppError::MinAboveMax {
            min: min_replicas,
            max: max_replicas,
        });
    }
    if let Some(port) = &app.port {
        let has_letter = port.bytes().any(|b| b.is_ascii_lowercase());
        // IsValidPortName (apimachinery util/validation): 1-15 of [a-z0-9-],
        // a letter, no `--`, no `-` at either end.
        if port.len() > 15
            || !has_letter
            || port.contains("--")
            || crate::values::check_dns1123_label(port).is_err()
        {
            return Err(AppError::PortName(port.clone()));
        }
    }
    if app.selector.as_ref().is_some_and(Labels::is_empty) {
        return Err(AppError::EmptySelector);
    }
    if app.target_average_value.as_f64() <= 0.0 {
        return Err(AppError::TargetNotPositive);
    }
    let default_interval = prometheus
        .scrape_interval
        .clone()
        .unwrap_or_else(|| DEFAULT_SCRAPE_INTERVAL.parse().expect("valid duration"));
    let monitor = app.monitor.unwrap_or_default();
    let monitor_labels = match monitor {
        MonitorKind::ServiceMonitor => prometheus.facts.service_monitor_labels.clone(),
        MonitorKind::PodMonitor => prometheus.facts.pod_monitor_labels.clone(),
    };
    Ok(App {
        deployment: app.deployment.unwrap_or_else(|| app.name.clone()),
        monitor,
        monitor_labels,
        selector: app
            .selector
            .map(Labels::into_map)
            .unwrap_or_else(|| BTreeMap::from([("app".to_owned(), app.name.to_string())])),
        port: app.port.unwrap_or_else(|| "http".into()),
        path: app
            .path
            .map_or_else(|| "/metrics".into(), |path| path.to_string()),
        interval: app.interval.unwrap_or(default_interval),
        metric,
        target_average_value: app.target_average_value,
        min_replicas,
        max_replicas,
        behavior: app.behavior,
        name: app.name,
        namespace: app.namespace,
    })
}

/// Reads the spec at `path` (or none) and resolves it. `preset`, when
/// given, replaces the spec's own `preset` key.
pub fn load(
    path: Option<&std::path::Path>,
    preset: Option<Preset>,
) -> Result<Config, crate::Error> {
    load_with(path, preset, None)
}

/// [`load`], with `backend`, when given, replacing the spec's `backend`.
pub fn load_with(
    path: Option<&std::path::Path>,
    preset: Option<Preset>,
    backend: Option<Backend>,
) -> Result<Config, crate::Error> {
    let Some(path) = path else {
        let mut config = Config::from_preset(preset.unwrap_or_default());
        set(&mut config.backend, backend);
        return Ok(config);
    };
    let bytes = crate::spec::read_bounded(path, crate::spec::MAX_SPEC_BYTES).map_err(|source| {
        crate::Error::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    let origin = path.display().to_string();
    let mut spec = Spec::from_bytes(&bytes, &origin)?;
    if preset.is_some() {
        spec.preset = preset;
    }
    if backend.is_some() {
        spec.backend = backend;
    }
    Ok(Config::from_spec(spec, &origin)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec built in code meets the checks the YAML reader makes, with
    /// the same field and message (and no line: it has no file).
    #[test]
    fn a_spec_built_in_code_is_refused_as_yaml_is() {
        let app = "apps:\n- {name: api, namespace: shop, targetAverageValue: \"1\", maxReplicas: 2";
        type Build = Box<dyn Fn(&mut Spec)>;
        let cases: Vec<(String, Build, &str)> = vec![
            (
                "adapter:\n  selector: {}\n".into(),
                Box::new(|spec| spec.adapter.selector = Some(Labels::new())),
                "adapter.selector",
            ),
            (
                "prometheus:\n  scrapeInterval: 500ms\n".into(),
                Box::new(|spec| spec.prometheus.scrape_interval = Some("500ms".parse().unwrap())),
                "prometheus.scrapeInterval",
            ),
            (
                format!("{app}, interval: 2h}}\n"),
                Box::new(|spec| spec.apps[0].interval = Some("2h".parse().unwrap())),
                "apps[0].interval",
            ),
        ];
        // Values whose fields span a rule cannot be built unchecked: their
        // constructors refuse them with the reader's message.
        use crate::spec::{
            MetricsReaderError, TolerationError, TolerationOperator, TolerationSpec,
        };
        let read = |yaml: &str| Spec::from_yaml(yaml, "spec.yaml").unwrap_err();
        let reader = read("adapter:\n  metricsReader: {verbs: [], subject: adapter}\n");
        assert_eq!(reader.field, "adapter.metricsReader.verbs");
        let built = MetricsReaderSpec::new(Vec::new(), ReaderSubject::Adapter).unwrap_err();
        assert_eq!(built, MetricsReaderError::NoVerbs);
        assert_eq!(reader.kind.to_string(), built.to_string());
        assert!(MetricsReaderSpec::new(vec![String::new()], ReaderSubject::Adapter).is_err());
        let toleration = read("adapter:\n  tolerations:\n  - {operator: Equal}\n");
        assert!(
            toleration.field.starts_with("adapter.tolerations[0]"),
            "{toleration}"
        );
        let built = TolerationSpec::new(None, Some(TolerationOperator::Equal), None, None, None)
            .unwrap_err();
        assert_eq!(built, TolerationError::EmptyKeyNeedsExists);
        assert_eq!(toleration.kind.to_string(), built.to_string());
        for (yaml, build, field) in cases {
            let read = Spec::from_yaml(&yaml, "spec.yaml").unwrap_err();
            let mut spec = Spec::default();
            if yaml.starts_with("apps") {
                spec.apps.push(
                    AppSpec::new(
                        "api".parse().unwrap(),
                        "shop".parse().unwrap(),
                        "1".parse().unwrap(),
                        Replicas::new(2).unwrap(),
                    )
                    .into(),
                );
            }
            build(&mut spec);
            let built = Config::from_spec(spec, "in code").unwrap_err();
            assert_eq!(built.kind.to_string(), read.kind.to_string(), "{yaml}");
            assert!(read.field.starts_with(field), "{yaml}: {}", read.field);
            assert_eq!((built.field.as_str(), built.line), (field, None), "{yaml}");
        }
    }

    /// A refused argument is a typed variant, and names the argument at
    /// fault (the binary words it as its flag).
    #[test]
    fn quick_app_errors_name_their_argument() {
        let base = || Config::from_preset(Preset::default());
        let input = |namespace: &str, target: &str, min: u32, max: u32| {
            quick_app(base(), namespace, "api", target, min, max)
                .unwrap_err()
                .input()
        };
        assert_eq!(input("Shop", "10", 1, 5), QuickAppInput::Namespace);
        assert_eq!(input("shop", "x", 1, 5), QuickAppInput::Target);
        assert_eq!(input("shop", "0", 1, 5), QuickAppInput::Target);
        assert_eq!(input("shop", "10", 0, 5), QuickAppInput::Min);
        assert_eq!(input("shop", "10", 6, 5), QuickAppInput::Min);
        assert_eq!(input("shop", "10", 1, 0), QuickAppInput::Max);
        let error = quick_app(base(), "shop", "api", "10", 6, 5).unwrap_err();
        assert!(matches!(
            error,
            QuickAppError::App(AppError::MinAboveMax { .. })
        ));
        assert_eq!(
            error.to_string(),
            "minReplicas 6 is greater than maxReplicas 5"
        );
        let config = quick_app(base(), "shop", "api", "10", 1, 5).unwrap();
        let again = config.apps[0].name.clone();
        let error = quick_app(config.clone(), "shop", again.as_str(), "10", 1, 5).unwrap_err();
        assert_eq!(error.input(), QuickAppInput::App(AppField::Name));
    }

    /// `Config::from_spec` does not re-check a preset's own rules on every
    /// run; this does, for each preset.
    #[test]
    fn preset_rules_pass_the_checks() {
        for preset in Preset::ALL {
            let config = Config::from_preset(preset);
            assert!(check_rules(&config.adapter_config).is_ok(), "{preset}");
            assert!(check_queries(&config.adapter_config).is_ok(), "{preset}");
            let served = served_metrics(&config.adapter_config).expect("preset rules name metrics");
            assert!(
                served.iter().any(|metric| metric.series == DEFAULT_SERIES),
                "{preset} serves the default series"
            );
        }
    }
}
