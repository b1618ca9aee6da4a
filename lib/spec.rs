//! The spec file: what the user writes. Every field is optional and
//! overrides the chosen [`Preset`]; unknown keys are refused at every level
//! (k8s-openapi's own types silently drop them, so a typo would vanish).
//!
//! Reading a spec never panics on input: malformed YAML, a wrong type, an
//! unknown key or an invalid value gives a [`SpecError`] naming the file,
//! the line and column, and the field path.
//!
//! ```
//! use custom_metrics_manifests::Spec;
//!
//! let spec = Spec::from_yaml("preset: recommended\nadapter:\n  replicas: 3\n", "spec.yaml").unwrap();
//! assert_eq!(spec.adapter.replicas.map(|r| r.get()), Some(3));
//!
//! let error = Spec::from_yaml("adapter:\n  replica: 3\n", "spec.yaml").unwrap_err();
//! assert_eq!(error.line, Some(2));
//! assert_eq!(error.field, "adapter.replica");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod errors;
pub use errors::{AppError, AppField, ConfigError, SpecErrorKind, StackError, MAX_RELEASE_NAME};

use crate::adapter_config::{ResourceRules, Rule};
use crate::located::Located;
use crate::values::{
    Duration, GoDuration, HttpPath, Image, LabelKey, LabelValue, Labels, Name, PeriodSeconds,
    PolicyValue, PrometheusUrl, Quantity, Replicas, ServiceName, StabilizationWindowSeconds,
};

/// Largest spec file read, in bytes (4 MiB, about 40,000 apps). Specs are a
/// few kilobytes; this stops
/// a runaway file before it costs memory.
pub const MAX_SPEC_BYTES: usize = 4 * 1024 * 1024;

/// Most apps one spec may have: a bound on the work of every command
/// (`make bench` measures each at this limit).
pub const MAX_APPS: usize = 10_000;

/// The whole spec file. Read one with [`Spec::from_yaml`] (strict: unknown
/// keys, duplicates and bad values refused with their place), or start from
/// `Spec::default()` in code; either resolves with
/// [`Config::from_spec`](crate::Config::from_spec).
///
/// ```
/// use custom_metrics_manifests::{Spec, Config, Preset};
///
/// let spec = Spec::from_yaml("preset: documented\nadapter:\n  replicas: 3\n", "spec.yaml").unwrap();
/// assert_eq!(spec.preset, Some(Preset::Documented));
/// let config = Config::from_spec(spec, "spec.yaml").unwrap();
/// assert_eq!(config.adapter().replicas.get(), 3);
///
/// // In code: the default spec is the default preset, unchanged.
/// let config = Config::from_spec(Spec::default(), "in code").unwrap();
/// assert_eq!(config, Config::from_preset(Preset::default()));
///
/// // A typo is refused with its place.
/// let error = Spec::from_yaml("adaptr: {}\n", "spec.yaml").unwrap_err();
/// assert_eq!(error.line, Some(1));
/// ```
///
/// Written in code: every section has a `Default`, the types with required
/// fields a `new`, and a value that has a place in a file is a [`Located`]
/// built with `into()`.
///
/// ```
/// use custom_metrics_manifests::{
///     render, AppSpec, Config, Labels, Located, Preset, Replicas, Spec, TlsMode, TlsSpec,
/// };
///
/// let mut spec = Spec {
///     preset: Some(Preset::Recommended),
///     ..Spec::default()
/// };
/// spec.adapter.name = Some(Located::new("metrics-adapter".parse()?));
/// spec.adapter.replicas = Some(Replicas::new(2)?);
/// spec.adapter.labels = Some(Labels::try_from_pairs([("team", "platform")])?);
/// spec.adapter.tls = Some(TlsSpec::new(TlsMode::CertManager).into());
/// let mut app = AppSpec::new("api".parse()?, "shop".parse()?, "10".parse()?, Replicas::new(5)?);
/// app.min_replicas = Some(Replicas::new(2)?);
/// spec.apps.push(app.into());
///
/// let config = Config::from_spec(spec, "in code")?;
/// let yaml = render::to_yaml(&render::manifests(&config));
/// assert!(yaml.contains("kind: Deployment\n"));
/// assert!(yaml.contains("    team: platform\n  name: metrics-adapter\n  namespace: monitoring\n"));
/// assert!(yaml.contains("kind: HorizontalPodAutoscaler\n"));
/// assert!(yaml.contains("  name: api\n  namespace: shop\n"));
/// assert!(yaml.contains("  maxReplicas: 5\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// The preset the spec starts from (default `documented`).
    pub preset: Option<Preset>,
    /// The adapter's own objects.
    #[serde(default)]
    pub adapter: AdapterSpec,
    /// Discovery rules; replaces the preset's list as a whole.
    pub rules: Option<Located<Vec<Located<Rule>>>>,
    /// Resource rules; replaces the preset's as a whole.
    pub resource_rules: Option<Located<ResourceRules>>,
    /// Prometheus (kube-prometheus) access to the apps' namespaces.
    #[serde(default)]
    pub prometheus: PrometheusSpec,
    /// The apps to scale, each with its ServiceMonitor and HPA.
    #[serde(default)]
    pub apps: Vec<Located<AppSpec>>,
    /// What serves the apps' metric to their autoscaler (default `adapter`).
    pub backend: Option<Backend>,
    /// Settings of the `keda` backend.
    pub keda: Option<Located<KedaSpec>>,
}

/// A named set of defaults a spec starts from. The name lives with the
/// spec; the defaults themselves are spec data (module `preset`), which
/// the model resolves like any other spec.
///
/// ```
/// use custom_metrics_manifests::{Config, Preset};
///
/// assert_eq!(Preset::default(), Preset::Standalone);
/// assert_eq!("documented".parse::<Preset>(), Ok(Preset::Documented));
/// // A preset is a spec that sets every field.
/// let spec = Preset::Recommended.spec();
/// assert!(spec.adapter.image.is_some());
/// let config = Config::from_preset(Preset::Recommended);
/// assert_eq!(config.preset(), Preset::Recommended);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "camelCase")]
pub enum Preset {
    /// The default: the recommended adapter with a serving certificate it
    /// generates itself, so that it runs on a stock kube-prometheus
    /// cluster with nothing else installed (no cert-manager).
    #[default]
    #[cfg_attr(
        feature = "cli",
        value(
            help = "The default: runs on a stock kube-prometheus cluster, nothing else needed (the adapter's self-generated serving certificate)"
        )
    )]
    Standalone,
    /// A modern, hardened adapter whose certificate cert-manager issues.
    #[cfg_attr(
        feature = "cli",
        value(help = "The hardened adapter with TLS through cert-manager")
    )]
    Recommended,
    /// The guide's bundle, as documented.
    #[cfg_attr(
        feature = "cli",
        value(help = "The guide's literal bundle (fails lint: its [20s] rate window)")
    )]
    Documented,
}

impl Preset {
    /// Every preset, in the order the CLI lists them.
    pub const ALL: [Preset; 3] = [Preset::Standalone, Preset::Recommended, Preset::Documented];

    /// The preset's name as written in specs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Standalone => "standalone",
            Preset::Recommended => "recommended",
            Preset::Documented => "documented",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A preset name that is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset `{0}`: expected `standalone`, `recommended` or `documented`")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(text: &str) -> Result<Self, UnknownPreset> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.as_str() == text)
            .ok_or_else(|| UnknownPreset(text.to_owned()))
    }
}

/// What turns the apps' Prometheus series into scaling decisions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "camelCase")]
pub enum Backend {
    /// prometheus-adapter serves a Pods metric on `custom.metrics.k8s.io`;
    /// an HPA per app reads it.
    #[default]
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Adapter,
    /// A KEDA ScaledObject per app with KEDA's prometheus scaler; no adapter.
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Keda,
}

impl Backend {
    /// The name as written in specs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Adapter => "adapter",
            Backend::Keda => "keda",
        }
    }
}

/// The `keda` section.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KedaSpec {
    /// What KEDA does when the query fails or answers nothing.
    pub fallback: Option<FallbackSpec>,
    /// Credentials and CA for Prometheus, from a Secret in each app namespace.
    pub authentication: Option<KedaAuthSpec>,
}

/// `ScaledObject.spec.fallback`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FallbackSpec {
    /// Failed polls in a row before the fallback applies (default 3).
    pub failure_threshold: Option<crate::values::FailureThreshold>,
    /// Replicas during the fallback (default: each app's maxReplicas;
    /// kept within each app's bounds).
    pub replicas: Option<Replicas>,
    /// KEDA's fallback behavior (KEDA 2.17+); emitted only when given.
    pub behavior: Option<FallbackBehavior>,
}

/// KEDA's `fallback.behavior`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FallbackBehavior {
    /// Exactly `replicas`.
    Static,
    /// Keep the current count.
    CurrentReplicas,
    /// The current count if higher than `replicas`, else `replicas`.
    CurrentReplicasIfHigher,
    /// The current count if lower than `replicas`, else `replicas`.
    CurrentReplicasIfLower,
}

/// Prometheus authentication for KEDA: a `TriggerAuthentication` per app
/// namespace that points at a Secret's keys (never at values).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KedaAuthSpec {
    /// The Secret, in each app's namespace. Keys read: `bearerToken`
    /// (bearer), `username` and `password` (basic), `cert` and `key`
    /// (tls), `ca` (with `ca: true`).
    pub secret_name: Name,
    /// The TriggerAuthentication's name (default: the Secret's).
    pub name: Option<Name>,
    /// KEDA's `authModes`: `bearer`, `basic`, `tls` (bearer and basic
    /// exclude each other).
    #[serde(default)]
    pub modes: Vec<AuthMode>,
    /// The Secret holds the CA that signed Prometheus' certificate (`ca`).
    #[serde(default)]
    pub ca: bool,
}

impl KedaAuthSpec {
    /// Credentials from the Secret `secret_name`, read with `modes`.
    pub fn new(secret_name: Name, modes: Vec<AuthMode>) -> KedaAuthSpec {
        KedaAuthSpec {
            secret_name,
            name: None,
            modes,
            ca: false,
        }
    }
}

/// One of KEDA's `authModes` for the prometheus scaler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthMode {
    /// `Authorization: Bearer` from `bearerToken`.
    Bearer,
    /// Basic auth from `username` and `password`.
    Basic,
    /// A client certificate from `cert` and `key`.
    Tls,
}

impl AuthMode {
    /// The name KEDA reads.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Bearer => "bearer",
            AuthMode::Basic => "basic",
            AuthMode::Tls => "tls",
        }
    }

    /// The Secret keys (and KEDA auth parameters) this mode reads.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            AuthMode::Bearer => &["bearerToken"],
            AuthMode::Basic => &["username", "password"],
            AuthMode::Tls => &["cert", "key"],
        }
    }
}

/// The `adapter` section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdapterSpec {
    /// Name of the ServiceAccount, ConfigMap, Deployment and Service (a
    /// Service name: a DNS-1035 label).
    pub name: Option<Located<ServiceName>>,
    /// Namespace the adapter runs in.
    pub namespace: Option<Name>,
    /// Prefix of the ClusterRole/ClusterRoleBinding/RoleBinding names
    /// (default: the adapter's name).
    pub rbac_name_prefix: Option<Name>,
    /// Container image.
    pub image: Option<Image>,
    /// Number of adapter pods (1 to 2^31-1: Deployment `replicas` is int32).
    pub replicas: Option<Replicas>,
    /// URL of Prometheus: http(s), host, optional port and path.
    pub prometheus_url: Option<PrometheusUrl>,
    /// How often the adapter re-discovers series: a Go duration (its
    /// `--metrics-relist-interval` flag), 1s to 1h.
    /// Checked against the scrape intervals once the apps are known.
    pub metrics_relist_interval: Option<Located<GoDuration>>,
    /// klog verbosity (`--v`).
    pub log_level: Option<u8>,
    /// Pass `--logtostderr=true` (crashes adapter images v0.11 and later).
    pub log_to_stderr: Option<bool>,
    /// Container resources.
    pub resources: Option<ResourcesSpec>,
    /// Extra labels on every adapter object.
    pub labels: Option<Labels>,
    /// How the API server trusts the adapter's serving certificate.
    pub tls: Option<Located<TlsSpec>>,
    /// Pod priority class.
    pub priority_class_name: Option<Name>,
    /// Node selector for the adapter pods (label keys and values).
    pub node_selector: Option<Labels>,
    /// Tolerations for the adapter pods.
    pub tolerations: Option<Vec<TolerationSpec>>,
    /// Labels that select the adapter's pods (Deployment, Service and
    /// PodDisruptionBudget selectors), also on the pods and objects. An
    /// `app.kubernetes.io/instance` key follows `name` unless set here.
    #[serde(default, deserialize_with = "selector")]
    pub selector: Option<Labels>,
    /// Labels on the adapter's pods and objects that do not select.
    pub pod_labels: Option<Labels>,
    /// Labels on the adapter's objects only, not on its pods.
    pub object_labels: Option<Labels>,
    /// The Deployment's own labels besides `labels`, in place of the
    /// selector, pod and object labels (the guide's Deployment has none).
    pub deployment_labels: Option<Labels>,
    /// The pod template's `metadata.name` (the guide sets one; the API
    /// server ignores it).
    pub pod_template_name: Option<Name>,
    /// Arguments before the generated flags (the guide repeats the image's
    /// entrypoint, `/adapter`, there).
    pub leading_args: Option<Vec<String>>,
    /// Arguments after the generated flags. The adapter parses flags with
    /// Go's `flag` package, where the last occurrence wins, so `--v=6` here
    /// overrides `logLevel`.
    pub extra_args: Option<Vec<String>>,
    /// The container's liveness probe (HTTPS on the serving port).
    pub liveness_probe: Option<ProbeSpec>,
    /// The container's readiness probe (HTTPS on the serving port).
    pub readiness_probe: Option<ProbeSpec>,
    /// The container's security context, replacing the preset's as a whole.
    pub security_context: Option<SecurityContextSpec>,
    /// Who may read `custom.metrics.k8s.io`: the `*-server-resources`
    /// ClusterRole's verbs and the `*-hpa-controller` binding's subject.
    pub metrics_reader: Option<MetricsReaderSpec>,
}

/// An HTTPS GET probe on the adapter's serving port.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeSpec {
    /// The path, such as `/livez`.
    pub path: ProbePath,
    /// Seconds after start before the first probe.
    pub initial_delay_seconds: Option<u16>,
    /// Seconds before a probe times out.
    pub timeout_seconds: Option<u16>,
    /// Seconds between probes.
    pub period_seconds: Option<u16>,
    /// Failures in a row before the probe fails.
    pub failure_threshold: Option<u16>,
}

impl ProbeSpec {
    /// A probe of `path` with the kubelet's defaults for the rest.
    pub fn new(path: ProbePath) -> ProbeSpec {
        ProbeSpec {
            path,
            initial_delay_seconds: None,
            timeout_seconds: None,
            period_seconds: None,
            failure_threshold: None,
        }
    }
}

/// An HTTP path: starts with `/`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProbePath(String);

impl ProbePath {
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an HTTP probe path was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbePathError {
    /// Not starting with `/`.
    #[error("`{0}` is not an HTTP path: start with `/`, no spaces")]
    NoLeadingSlash(String),
    /// Holding whitespace, which the kubelet would send as is.
    #[error("`{0}` is not an HTTP path: start with `/`, no spaces")]
    Whitespace(String),
}

impl TryFrom<String> for ProbePath {
    type Error = ProbePathError;

    fn try_from(path: String) -> Result<Self, ProbePathError> {
        if !path.starts_with('/') {
            return Err(ProbePathError::NoLeadingSlash(path));
        }
        if path.chars().any(char::is_whitespace) {
            return Err(ProbePathError::Whitespace(path));
        }
        Ok(ProbePath(path))
    }
}

impl FromStr for ProbePath {
    type Err = ProbePathError;

    fn from_str(path: &str) -> Result<Self, ProbePathError> {
        ProbePath::try_from(path.to_owned())
    }
}

/// A pod selector: at least one label (a Deployment's empty selector is
/// refused by the API server).
fn selector<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Labels>, D::Error> {
    let labels = Labels::deserialize(deserializer)?;
    if labels.is_empty() {
        return Err(serde::de::Error::custom(
            "the selector needs at least one label",
        ));
    }
    Ok(Some(labels))
}

/// RBAC verbs: at least one (a PolicyRule without verbs is refused).
fn verbs<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let verbs = Vec::<String>::deserialize(deserializer)?;
    check_verbs(&verbs).map_err(serde::de::Error::custom)?;
    Ok(verbs)
}

/// At least one verb, none empty.
fn check_verbs(verbs: &[String]) -> Result<(), MetricsReaderError> {
    if verbs.is_empty() || verbs.iter().any(String::is_empty) {
        return Err(MetricsReaderError::NoVerbs);
    }
    Ok(())
}

/// Why a metrics reader was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetricsReaderError {
    /// No verb, or an empty one.
    #[error("give at least one verb, such as `get`, `list`, `watch`")]
    NoVerbs,
}

/// The adapter container's security context (the fields Pod Security
/// `restricted` looks at).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityContextSpec {
    /// `allowPrivilegeEscalation`.
    pub allow_privilege_escalation: Option<bool>,
    /// Capabilities to add and drop.
    pub capabilities: Option<CapabilitiesSpec>,
    /// `readOnlyRootFilesystem`.
    pub read_only_root_filesystem: Option<bool>,
    /// `runAsNonRoot`.
    pub run_as_non_root: Option<bool>,
    /// `runAsUser`.
    pub run_as_user: Option<u32>,
    /// `runAsGroup`.
    pub run_as_group: Option<u32>,
    /// `seccompProfile`.
    pub seccomp_profile: Option<SeccompProfileSpec>,
}

/// Linux capabilities.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapabilitiesSpec {
    /// Capabilities added.
    pub add: Option<Vec<String>>,
    /// Capabilities dropped (Pod Security `restricted` wants `ALL`).
    pub drop: Option<Vec<String>>,
}

/// A seccomp profile.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeccompProfileSpec {
    /// The profile's type.
    #[serde(rename = "type")]
    pub kind: SeccompKind,
    /// The profile file, for `Localhost`.
    pub localhost_profile: Option<String>,
}

/// Seccomp profile types (the enum of the Kubernetes API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeccompKind {
    /// The container runtime's default profile.
    RuntimeDefault,
    /// A profile file on the node.
    Localhost,
    /// No seccomp filtering.
    Unconfined,
}

impl SeccompKind {
    /// The name the Kubernetes API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SeccompKind::RuntimeDefault => "RuntimeDefault",
            SeccompKind::Localhost => "Localhost",
            SeccompKind::Unconfined => "Unconfined",
        }
    }
}

/// Read access to the metrics the adapter serves.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsReaderSpec {
    /// Verbs on `custom.metrics.k8s.io` (the HPA controller needs `get`,
    /// `list` and `watch`); at least one.
    #[serde(deserialize_with = "verbs")]
    pub(crate) verbs: Vec<String>,
    /// Who is bound.
    pub(crate) subject: ReaderSubject,
}

impl MetricsReaderSpec {
    /// Read access with `verbs` for `subject`, checked as the spec reader
    /// checks it (the same error).
    pub fn new(
        verbs: Vec<String>,
        subject: ReaderSubject,
    ) -> Result<MetricsReaderSpec, MetricsReaderError> {
        check_verbs(&verbs)?;
        Ok(MetricsReaderSpec { verbs, subject })
    }

    /// Verbs on `custom.metrics.k8s.io` (at least one).
    pub fn verbs(&self) -> &[String] {
        &self.verbs
    }

    /// Who is bound.
    pub fn subject(&self) -> &ReaderSubject {
        &self.subject
    }
}

/// The subject of the metrics reader binding.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum ReaderSubject {
    /// The adapter's own ServiceAccount (as in the guide).
    Adapter,
    /// A ServiceAccount, such as the HPA controller's
    /// (`horizontal-pod-autoscaler` in `kube-system`).
    ServiceAccount {
        /// Its name.
        name: Name,
        /// Its namespace.
        namespace: Name,
    },
}

/// Container resource requests and limits.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSpec {
    /// Limits by resource name (`cpu`, `memory`).
    #[serde(default)]
    pub limits: BTreeMap<String, Quantity>,
    /// Requests by resource name.
    #[serde(default)]
    pub requests: BTreeMap<String, Quantity>,
}

/// TLS between the API server and the adapter.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsSpec {
    /// `insecure`, `caBundle` or `certManager`.
    pub mode: TlsMode,
    /// The `kubernetes.io/tls` Secret holding the serving certificate
    /// (default `<adapter name>-tls`).
    pub secret_name: Option<Name>,
    /// PEM of the CA that signed the serving certificate (`caBundle` mode).
    pub ca_bundle: Option<String>,
    /// An existing cert-manager issuer to use instead of a self-signed one.
    pub issuer_ref: Option<IssuerRefSpec>,
}

impl TlsSpec {
    /// `mode` with its defaults (Secret `<adapter name>-tls`, a
    /// self-signed issuer).
    pub fn new(mode: TlsMode) -> TlsSpec {
        TlsSpec {
            mode,
            secret_name: None,
            ca_bundle: None,
            issuer_ref: None,
        }
    }
}

/// How the APIService trusts the adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TlsMode {
    /// `insecureSkipTLSVerify: true`, as in the guide.
    Insecure,
    /// A CA bundle on the APIService and a mounted serving-cert Secret.
    CaBundle,
    /// cert-manager issues the certificate and injects its CA.
    CertManager,
}

/// A cert-manager issuer reference.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerRefSpec {
    /// Issuer name.
    pub name: Name,
    /// `Issuer` or `ClusterIssuer`.
    #[serde(default = "default_issuer_kind")]
    pub kind: IssuerKind,
}

fn default_issuer_kind() -> IssuerKind {
    IssuerKind::Issuer
}

/// cert-manager issuer kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuerKind {
    /// A namespaced issuer in the adapter's namespace.
    Issuer,
    /// A cluster-wide issuer.
    ClusterIssuer,
}

/// A pod toleration, with Kubernetes' rules (`ValidateTolerations` in
/// pkg/apis/core/validation/validation.go): the key is a label key; an
/// empty key needs operator `Exists`; `Exists` takes no value; an `Equal`
/// value is a label value; `tolerationSeconds` only with effect
/// `NoExecute`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "RawToleration")]
pub struct TolerationSpec {
    /// Taint key (none: every key, with `Exists`).
    pub(crate) key: Option<LabelKey>,
    /// `Exists` or `Equal` (Kubernetes' default when absent: `Equal`).
    pub(crate) operator: Option<TolerationOperator>,
    /// Taint value (`Equal` only).
    pub(crate) value: Option<LabelValue>,
    /// The taint effect tolerated (none: every effect).
    pub(crate) effect: Option<TaintEffect>,
    /// For `NoExecute`: how long the pod stays bound.
    pub(crate) toleration_seconds: Option<i64>,
}

/// A toleration as written, before the rules that span its fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawToleration {
    key: Option<LabelKey>,
    operator: Option<TolerationOperator>,
    value: Option<LabelValue>,
    effect: Option<TaintEffect>,
    toleration_seconds: Option<i64>,
}

/// A toleration whose fields contradict each other.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TolerationError {
    /// No key, and an operator other than `Exists`.
    #[error("operator must be Exists when `key` is empty, which means \"match all values and all keys\"")]
    EmptyKeyNeedsExists,
    /// `Exists` with a value.
    #[error("value must be empty when `operator` is `Exists`")]
    ExistsWithValue,
    /// `tolerationSeconds` without `NoExecute`.
    #[error("effect must be `NoExecute` when `tolerationSeconds` is set")]
    SecondsNeedNoExecute,
}

impl TryFrom<RawToleration> for TolerationSpec {
    type Error = TolerationError;

    fn try_from(raw: RawToleration) -> Result<Self, TolerationError> {
        let toleration = TolerationSpec {
            key: raw.key,
            operator: raw.operator,
            value: raw.value,
            effect: raw.effect,
            toleration_seconds: raw.toleration_seconds,
        };
        toleration.check()?;
        Ok(toleration)
    }
}

impl TolerationSpec {
    /// A toleration, checked as the spec reader checks one (the same
    /// error).
    pub fn new(
        key: Option<LabelKey>,
        operator: Option<TolerationOperator>,
        value: Option<LabelValue>,
        effect: Option<TaintEffect>,
        toleration_seconds: Option<i64>,
    ) -> Result<TolerationSpec, TolerationError> {
        TolerationSpec::try_from(RawToleration {
            key,
            operator,
            value,
            effect,
            toleration_seconds,
        })
    }

    /// Taint key (none: every key, with `Exists`).
    pub fn key(&self) -> Option<&LabelKey> {
        self.key.as_ref()
    }

    /// `Exists` or `Equal` (Kubernetes' default when absent: `Equal`).
    pub fn operator(&self) -> Option<TolerationOperator> {
        self.operator
    }

    /// Taint value (`Equal` only).
    pub fn value(&self) -> Option<&LabelValue> {
        self.value.as_ref()
    }

    /// The taint effect tolerated (none: every effect).
    pub fn effect(&self) -> Option<TaintEffect> {
        self.effect
    }

    /// For `NoExecute`: how long the pod stays bound.
    pub fn toleration_seconds(&self) -> Option<i64> {
        self.toleration_seconds
    }

    /// Checks the rules between the fields.
    fn check(&self) -> Result<(), TolerationError> {
        let exists = self.operator == Some(TolerationOperator::Exists);
        if self.key.is_none() && !exists {
            return Err(TolerationError::EmptyKeyNeedsExists);
        }
        if exists && self.value.as_ref().is_some_and(|v| !v.as_str().is_empty()) {
            return Err(TolerationError::ExistsWithValue);
        }
        if self.toleration_seconds.is_some() && self.effect != Some(TaintEffect::NoExecute) {
            return Err(TolerationError::SecondsNeedNoExecute);
        }
        Ok(())
    }
}

/// A toleration's operator (core/v1 `TolerationOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    /// Any value of the key.
    Exists,
    /// The given value.
    Equal,
}

impl TolerationOperator {
    /// The name Kubernetes uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TolerationOperator::Exists => "Exists",
            TolerationOperator::Equal => "Equal",
        }
    }
}

/// A taint effect (core/v1 `TaintEffect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaintEffect {
    /// New pods are not scheduled.
    NoSchedule,
    /// New pods are scheduled elsewhere when possible.
    PreferNoSchedule,
    /// Running pods are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The name Kubernetes uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// The `prometheus` section: who Prometheus is, and where it may discover pods.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusSpec {
    /// Namespaces that get a `prometheus-k8s` Role and RoleBinding.
    pub namespaces: Option<Vec<Name>>,
    /// kube-prometheus' Prometheus version label (`app.kubernetes.io/version`,
    /// a label value).
    pub version: Option<LabelValue>,
    /// Prometheus' ServiceAccount.
    pub service_account: Option<Name>,
    /// Prometheus' namespace.
    pub namespace: Option<Name>,
    /// The scrape interval the apps are scraped at (1s to 1h).
    #[serde(default, deserialize_with = "scrape_interval")]
    pub scrape_interval: Option<Duration>,
    /// Which installation runs Prometheus (default `kube-prometheus`).
    pub stack: Option<Stack>,
    /// kube-prometheus-stack: the Helm release name (default
    /// `kube-prometheus-stack`, what `helm install kube-prometheus-stack ...` gives).
    pub release: Option<Located<Name>>,
    /// kube-prometheus-stack: the chart's `fullnameOverride` value.
    pub fullname_override: Option<Located<Name>>,
    /// kube-prometheus-stack: the chart's `nameOverride` value.
    pub name_override: Option<Located<Name>>,
    /// The labels the Prometheus' `serviceMonitorSelector` wants on a
    /// ServiceMonitor (kube-prometheus-stack default: `release: <release>`).
    pub service_monitor_selector: Option<MatchLabelsSpec>,
    /// The labels the Prometheus' `podMonitorSelector` wants on a PodMonitor.
    pub pod_monitor_selector: Option<MatchLabelsSpec>,
}

/// The Prometheus installations the tool knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Stack {
    /// prometheus-operator/kube-prometheus (the jsonnet manifests): Prometheus
    /// `k8s` in `monitoring`, per-namespace `prometheus-k8s` Roles.
    #[default]
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    KubePrometheus,
    /// prometheus-community's Helm chart kube-prometheus-stack.
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    KubePrometheusStack,
    /// A Prometheus Operator with the user's own `Prometheus` resource.
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Operator,
}

impl Stack {
    /// The name written in specs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stack::KubePrometheus => "kube-prometheus",
            Stack::KubePrometheusStack => "kube-prometheus-stack",
            Stack::Operator => "operator",
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label selector as a Prometheus resource states it, `matchLabels` only:
/// the labels a generated monitor carries to be selected.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchLabelsSpec {
    /// Labels the monitor must carry.
    #[serde(default)]
    pub match_labels: Labels,
}

/// How Prometheus finds an app's pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MonitorKind {
    /// A ServiceMonitor: scrape the endpoints of the app's Service.
    #[default]
    ServiceMonitor,
    /// A PodMonitor: scrape the app's pods directly (no Service needed).
    PodMonitor,
}

/// One app to autoscale.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSpec {
    /// App name: the HPA's and ServiceMonitor's name.
    pub name: Name,
    /// The app's namespace.
    pub namespace: Name,
    /// The Deployment to scale (default: the app's name).
    pub deployment: Option<Name>,
    /// `serviceMonitor` (default) or `podMonitor`.
    pub monitor: Option<MonitorKind>,
    /// Labels of the app's Service, or of its pods with `monitor:
    /// podMonitor` (default `app: <name>`).
    pub selector: Option<Labels>,
    /// Name of the Service port (or, with a PodMonitor, the container port)
    /// that serves metrics (default `http`).
    pub port: Option<String>,
    /// Metrics path (default `/metrics`).
    pub path: Option<HttpPath>,
    /// Scrape interval (default: `prometheus.scrapeInterval`, else 30s; 1s to 1h).
    #[serde(default, deserialize_with = "scrape_interval")]
    pub interval: Option<Duration>,
    /// The custom metric to scale on (default: what the rules make of
    /// `http_requests_total`).
    pub metric: Option<String>,
    /// Target per-pod average of the metric, e.g. `"10"` or `"500m"`.
    pub target_average_value: Quantity,
    /// Lower replica bound (default 1).
    pub min_replicas: Option<Replicas>,
    /// Upper replica bound.
    pub max_replicas: Replicas,
    /// autoscaling/v2 scaling behavior.
    pub behavior: Option<BehaviorSpec>,
}

impl AppSpec {
    /// An app with its required fields; every other field is the default
    /// (set them on the returned value).
    ///
    /// ```
    /// use custom_metrics_manifests::{AppSpec, Replicas};
    ///
    /// let mut app = AppSpec::new(
    ///     "api".parse().unwrap(),
    ///     "shop".parse().unwrap(),
    ///     "10".parse().unwrap(),
    ///     Replicas::new(5).unwrap(),
    /// );
    /// app.min_replicas = Some(Replicas::new(2).unwrap());
    /// assert_eq!(app.deployment, None);
    /// ```
    pub fn new(
        name: Name,
        namespace: Name,
        target_average_value: Quantity,
        max_replicas: Replicas,
    ) -> AppSpec {
        AppSpec {
            name,
            namespace,
            deployment: None,
            monitor: None,
            selector: None,
            port: None,
            path: None,
            interval: None,
            metric: None,
            target_average_value,
            min_replicas: None,
            max_replicas,
            behavior: None,
        }
    }
}

/// autoscaling/v2 `behavior`, read strictly.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BehaviorSpec {
    /// Rules for scaling up.
    pub scale_up: Option<ScalingRulesSpec>,
    /// Rules for scaling down.
    pub scale_down: Option<ScalingRulesSpec>,
}

/// autoscaling/v2 `HPAScalingRules`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingRulesSpec {
    /// Seconds of past recommendations considered (0..=3600).
    pub stabilization_window_seconds: Option<StabilizationWindowSeconds>,
    /// `Max`, `Min` or `Disabled`.
    pub select_policy: Option<SelectPolicy>,
    /// Step limits.
    #[serde(default)]
    pub policies: Vec<ScalingPolicySpec>,
    /// `tolerance`: the ratio band around 1 in which this direction does
    /// not scale (`0.05` for 5 %), 0 or more; unset, the controller's
    /// `--horizontal-pod-autoscaler-tolerance` (0.1). The HPAConfigurableTolerance
    /// feature gate: alpha (off) in 1.33 and 1.34, beta (on) from 1.35;
    /// with the gate off the API server drops the field.
    #[serde(default, deserialize_with = "tolerance")]
    pub tolerance: Option<Quantity>,
}

/// A `behavior.*.tolerance`: a quantity of 0 or more (`validateScalingRules`
/// in pkg/apis/autoscaling/validation).
fn tolerance<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Quantity>, D::Error> {
    let quantity = Quantity::deserialize(deserializer)?;
    if quantity.as_f64() < 0.0 {
        return Err(serde::de::Error::custom(format!(
            "tolerance `{quantity}` is negative: give a fraction of 0 or more, such as 0.05"
        )));
    }
    Ok(Some(quantity))
}

/// How several policies combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One scaling policy.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingPolicySpec {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    /// Pods or percent per period (1 to 2^31-1).
    pub value: PolicyValue,
    /// Period length in seconds (1..=1800).
    pub period_seconds: PeriodSeconds,
}

/// A scaling policy's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyKind {
    /// A number of pods.
    Pods,
    /// A percentage of the current replicas.
    Percent,
}

/// A scrape interval: a Prometheus duration from 1s to 1h. Shorter
/// overloads the target and Prometheus; longer leaves the HPA blind for
/// longer than any rate window the adapter rules use.
fn scrape_interval<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    let duration = Duration::deserialize(deserializer)?;
    duration
        .check_range("a scrape interval", (1_000, "1s"), (3_600_000, "1h"))
        .map_err(serde::de::Error::custom)?;
    Ok(Some(duration))
}

/// A spec that could not be read: where, which field, and why (its
/// [`kind`](SpecError::kind), to match on).
///
/// ```
/// use custom_metrics_manifests::{AppError, Config, ConfigError, Spec, SpecErrorKind};
///
/// let yaml = "apps:\n\
///   - {name: api, namespace: shop, targetAverageValue: '1', maxReplicas: 5}\n\
///   - {name: api, namespace: shop, targetAverageValue: '2', maxReplicas: 5}\n";
/// let spec = Spec::from_yaml(yaml, "spec.yaml").unwrap();
/// let error = Config::from_spec(spec, "spec.yaml").unwrap_err();
/// assert_eq!((error.line, error.field.as_str()), (Some(3), "apps[1].name"));
/// let SpecErrorKind::Config(kind) = &error.kind else { panic!("{error}") };
/// assert!(matches!(**kind, ConfigError::App(AppError::Duplicate { .. })));
/// assert_eq!(
///     error.to_string(),
///     "spec.yaml:3:3: apps[1].name: app `api` appears twice in namespace `shop`"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The file (or `<stdin>`), as given.
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// Dotted field path, such as `apps[0].maxReplicas` (empty for syntax errors
    /// at the top).
    pub field: String,
    /// What is wrong.
    pub kind: SpecErrorKind,
}

impl SpecError {
    /// `kind` in `origin`, at no line and no field.
    pub fn new(origin: impl Into<String>, kind: impl Into<SpecErrorKind>) -> SpecError {
        SpecError {
            origin: origin.into(),
            line: None,
            column: None,
            field: String::new(),
            kind: kind.into(),
        }
    }

    /// At `line` and `column` (1-based), when known.
    pub fn at(mut self, line: Option<u64>, column: Option<u64>) -> SpecError {
        self.line = line;
        self.column = column;
        self
    }

    /// About `field` (a dotted path such as `apps[0].maxReplicas`).
    pub fn field(mut self, field: impl Into<String>) -> SpecError {
        self.field = field.into();
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for SpecError {}

impl Spec {
    /// Reads a spec from YAML text; `origin` names the file in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Spec, SpecError> {
        read_yaml(text, origin)
    }

    /// Reads a spec from raw bytes, refusing non-UTF-8, oversized and empty
    /// input with a located error. Empty means nothing but blank lines,
    /// comments and document markers: an empty file is what a failed
    /// upstream step or a closed standard input leaves, and reading it as
    /// "the preset alone" would hide that failure.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Spec, SpecError> {
        let text = checked_text(bytes, origin)?;
        if is_empty_yaml(text) {
            return Err(SpecError::new(origin, SpecErrorKind::Empty));
        }
        Spec::from_yaml(text, origin)
    }
}

/// Whether `text` holds no YAML content: only blank lines, comments and
/// `---`/`...` markers (a byte-order mark first is allowed).
fn is_empty_yaml(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// Reads at most `limit` + 1 bytes of `path` (a spec: [`MAX_SPEC_BYTES`]),
/// so that a larger input is refused (by [`Spec::from_bytes`] for a spec)
/// without ever being read whole: a 1 GiB file, `/dev/zero`, an endless
/// pipe cost no more than the limit.
pub fn read_bounded(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let limit = limit as u64 + 1;
    // The size, when known, only sizes the buffer; never more than the limit.
    let size = file.metadata().map_or(0, |meta| meta.len()).min(limit);
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Checks size and UTF-8 before any YAML parsing (of a spec).
pub(crate) fn checked_text<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, SpecError> {
    checked_text_of(bytes, origin, "specs")
}

/// [`checked_text`] for another kind of input: `kind` (plural, such as
/// `load traces (CSV)`) names it in the size error.
pub(crate) fn checked_text_of<'a>(
    bytes: &'a [u8],
    origin: &str,
    kind: &'static str,
) -> Result<&'a str, SpecError> {
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(SpecError::new(
            origin,
            SpecErrorKind::TooLarge {
                limit: MAX_SPEC_BYTES,
                input: kind,
            },
        ));
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
        SpecError::new(
            origin,
            SpecErrorKind::NotUtf8 {
                offset: error.valid_up_to(),
            },
        )
        .at(Some(line), Some(column))
    })
}

/// Bounds on what one YAML input may make the reader do. Aliases are
/// bounded so that a "billion laughs" file fails fast with bounded memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct YamlLimits {
    pub(crate) replayed_events: usize,
    pub(crate) expansions_per_anchor: usize,
    pub(crate) aliases: usize,
    pub(crate) depth: usize,
    pub(crate) nodes: usize,
}

impl YamlLimits {
    /// A spec: a few kilobytes by nature.
    pub(crate) const SPEC: YamlLimits = YamlLimits {
        replayed_events: 10_000,
        expansions_per_anchor: 100,
        aliases: 1_000,
        depth: 64,
        nodes: 1_000_000,
    };
    /// Manifest files to lint or patch: whole rendered bundles.
    #[cfg(any(feature = "lint", feature = "gitops"))]
    pub(crate) const MANIFESTS: YamlLimits = YamlLimits {
        replayed_events: 100_000,
        expansions_per_anchor: 1_000,
        aliases: 10_000,
        depth: 128,
        nodes: 10_000_000,
    };
}

/// Strict reader options: duplicate keys refused, `limits` enforced.
pub(crate) fn strict_options(limits: YamlLimits) -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        with_snippet: false,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: limits.replayed_events,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: limits.expansions_per_anchor,
        },
        budget: serde_saphyr::budget! {
            max_depth: limits.depth,
            max_aliases: limits.aliases,
            max_nodes: limits.nodes,
        },
    }
}

/// A reader error as a [`SpecError`] at its location.
pub(crate) fn located(error: &serde_saphyr::Error, origin: &str, field: &str) -> SpecError {
    let location = error.location();
    SpecError {
        origin: origin.to_owned(),
        line: location.map(|l| l.line()),
        column: location.map(|l| l.column()),
        field: clean_path(field),
        kind: SpecErrorKind::Read(clean_message(&error.without_snippet().to_string())),
    }
}

/// Strict YAML reading shared by every input the tool takes: duplicate keys
/// refused, aliases bounded, the field path of any failure recorded.
pub(crate) fn read_yaml<T: for<'de> Deserialize<'de>>(
    text: &str,
    origin: &str,
) -> Result<T, SpecError> {
    bound_structure(text, origin, YamlLimits::SPEC)?;
    // Tracking the field path costs a third of the reading time, and only
    // an error needs it: a failed read is repeated with tracking, which
    // fails at the same place (the input and the reader are the same).
    let options = strict_options(YamlLimits::SPEC);
    if let Ok(value) = serde_saphyr::from_str_with_options(text, options) {
        return Ok(value);
    }
    let options = strict_options(YamlLimits::SPEC);
    let path = std::cell::RefCell::new(String::new());
    let result =
        serde_saphyr::with_deserializer_from_str_with_options(text, options, |deserializer| {
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                *path.borrow_mut() = error.path().to_string();
                error.into_inner()
            })
        });
    result.map_err(|error| located(&error, origin, &path.into_inner()))
}

/// One open collection of the structure pass: where its path stands.
enum Frame {
    /// A mapping: the key being read or whose value is being read.
    Map { key: String, expecting_key: bool },
    /// A sequence: the index of the item being read.
    Seq { index: usize },
}

/// The path of the node about to be read, as the located errors write it.
fn frame_path(frames: &[Frame]) -> String {
    let mut path = String::new();
    for (at, frame) in frames.iter().enumerate() {
        if at >= 8 {
            path.push_str("...");
            break;
        }
        match frame {
            Frame::Map { key, .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Seq { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// A pass over the YAML events before any of them is deserialized, so
/// that a hostile input hits the limit it is built against, located,
/// whatever its keys and types: nesting deeper than `limits.depth` (also
/// through aliases), and aliases that expand to more than
/// `limits.replayed_events` events in total (a "billion laughs": each
/// anchor's expanded size is known when it closes, each alias adds it).
/// The deserializer's own limits stay as a second line; a scan error is
/// left to it, whose message names the problem.
fn bound_structure(text: &str, origin: &str, limits: YamlLimits) -> Result<(), SpecError> {
    use serde_saphyr::granit_parser::{Event, Parser};

    let error =
        |span: &serde_saphyr::granit_parser::Span, frames: &[Frame], kind: SpecErrorKind| {
            SpecError::new(origin, kind)
                .at(
                    Some(span.start.line() as u64),
                    Some(span.start.col() as u64 + 1),
                )
                .field(frame_path(frames))
        };
    let mut frames: Vec<Frame> = Vec::new();
    // Per open collection: its anchor and the expanded count at its start.
    let mut open: Vec<(usize, u64, usize)> = Vec::new();
    // Per anchor: expanded events and nesting depth of its node.
    let mut anchors: BTreeMap<usize, (u64, usize)> = BTreeMap::new();
    let (mut expanded, mut replayed, mut deepest) = (0u64, 0u64, 0usize);
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            return Ok(());
        };
        // A node in value position completes its key or item when it ends.
        let node_starts = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        );
        if node_starts {
            if let Some(Frame::Map { key, expecting_key }) = frames.last_mut() {
                if *expecting_key {
                    // The key's buffer is reused: no allocation per key.
                    key.clear();
                    key.push_str(match &event {
                        Event::Scalar(value, ..) => value,
                        _ => "?",
                    });
                    *expecting_key = false;
                    if let Event::Scalar(..) | Event::Alias(_) = event {
                        continue;
                    }
                }
            }
        }
        let finished = match event {
            Event::Scalar(_, _, anchor, _) => {
                expanded += 1;
                if anchor != 0 {
                    anchors.insert(anchor, (1, 0));
                }
                true
            }
            Event::Alias(id) => {
                let (size, depth) = anchors.get(&id).copied().unwrap_or((1, 0));
                expanded += size;
                replayed += size;
                deepest = deepest.max(depth);
                if replayed > limits.replayed_events as u64 {
                    return Err(error(
                        &span,
                        &frames,
                        SpecErrorKind::AliasExpansion(limits.replayed_events),
                    ));
                }
                if open.len() + depth > limits.depth {
                    return Err(error(
                        &span,
                        &frames,
                        SpecErrorKind::AliasDepth(limits.depth),
                    ));
                }
                true
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                expanded += 1;
                if open.len() + 1 > limits.depth {
                    return Err(error(&span, &frames, SpecErrorKind::Depth(limits.depth)));
                }
                open.push((anchor, expanded, deepest));
                deepest = 0;
                frames.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: String::new(),
                        expecting_key: true,
                    }
                } else {
                    Frame::Seq { index: 0 }
                });
                false
            }
            Event::SequenceEnd | Event::MappingEnd => {
                frames.pop();
                if let Some((anchor, start, outer)) = open.pop() {
                    // Depth of this node: one more than its deepest child.
                    let depth = deepest + 1;
                    if anchor != 0 {
                        anchors.insert(anchor, (expanded - start + 1, depth));
                    }
                    deepest = outer.max(depth);
                }
                true
            }
            _ => false,
        };
        if finished {
            match frames.last_mut() {
                Some(Frame::Map { expecting_key, .. }) => *expecting_key = true,
                Some(Frame::Seq { index }) => *index += 1,
                None => {}
            }
        }
    }
    Ok(())
}

/// serde_path_to_error writes `.` for the root and `?` for a key it could
/// not name (a duplicate key, for one); neither helps a reader.
fn clean_path(path: &str) -> String {
    let path = path.trim_end_matches(".?").trim_end_matches('?');
    if path == "." {
        return String::new();
    }
    // `Located` values (the items of `apps` and `rules`, and a few fields)
    // add a `value` level that is not in the file; a real field named
    // `value` (a scaling policy's) stays.
    let mut cleaned = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find("].value") {
        let head = &rest[..at + 1];
        let list = head[..head.rfind('[').unwrap_or(0)]
            .trim_end_matches(".value")
            .rsplit('.')
            .next()
            .unwrap_or("");
        cleaned.push_str(head);
        rest = &rest[at + 1..];
        if matches!(list, "apps" | "rules") {
            rest = &rest[".value".len()..];
        }
    }
    cleaned.push_str(rest);
    cleaned
        .replace("rules.value", "rules")
        .replace("tls.value", "tls")
        .replace("resourceRules.value", "resourceRules")
        .replace("metricsRelistInterval.value", "metricsRelistInterval")
        .replace("keda.value", "keda")
        .replace("release.value", "release")
        .replace("nameOverride.value", "nameOverride")
        .replace("adapter.name.value", "adapter.name")
}

/// serde-saphyr appends " at line L column C" to some messages; the location
/// is already in front, so drop the repetition.
pub(crate) fn clean_message(message: &str) -> String {
    let message = message.lines().next().unwrap_or(message).trim();
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].trim_end_matches(':'),
        None => message,
    };
    // Library advice meant for the program, not for the user.
    message
        .trim_end_matches(", set DuplicateKeyPolicy in Options if acceptable")
        .to_owned()
}
