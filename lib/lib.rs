//! Kubernetes manifests for autoscaling a service on a Prometheus custom
//! metric with prometheus-adapter, built from typed objects; and the
//! checks that catch what breaks such setups.
//!
//! The pipeline is: read a [`Spec`] (or write one in code), resolve it
//! over a [`Preset`] into a [`Config`], build the objects with
//! [`render::objects`], write them with [`write`] (or [`generate`],
//! [`render::to_yaml`], [`render::to_json`]).
//!
//! ```
//! use custom_metrics_manifests::{generate, Preset, Config, OutputFormat};
//!
//! let yaml = generate(&Config::from_preset(Preset::Documented), OutputFormat::Yaml);
//! assert!(yaml.contains("kind: APIService"));
//! ```
//!
//! Reading a spec file and streaming the bundle (the README's example):
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::Write;
//! use custom_metrics_manifests::{render, write, Config, OutputFormat, Spec};
//!
//! let spec = Spec::from_yaml(&std::fs::read_to_string("spec.yaml")?, "spec.yaml")?;
//! let config = Config::from_spec(spec, "spec.yaml")?;
//! // Objects are built one at a time as they are taken.
//! for manifest in render::objects(&config) {
//!     println!("{}", manifest.display_name());
//! }
//! // The bytes the CLI writes, streamed: memory does not grow with the apps.
//! let mut out = std::io::BufWriter::new(std::io::stdout().lock());
//! write(&config, OutputFormat::Yaml, &mut out)?;
//! out.flush()?;
//! # Ok(())
//! # }
//! ```
//!
//! A spec written in code (the README's second example):
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use custom_metrics_manifests::{generate, AppSpec, Config, OutputFormat, Preset, Replicas, Spec};
//!
//! let mut spec = Spec {
//!     preset: Some(Preset::Recommended),
//!     ..Spec::default()
//! };
//! let mut app = AppSpec::new("api".parse()?, "shop".parse()?, "500m".parse()?, Replicas::new(10)?);
//! app.min_replicas = Some(Replicas::new(2)?);
//! spec.apps.push(app.into());
//! let config = Config::from_spec(spec, "in code")?;
//! print!("{}", generate(&config, OutputFormat::Yaml));
//! # // The README shows the end of this output.
//! # let expected = concat!(
//! #     "kind: HorizontalPodAutoscaler\n",
//! #     "metadata:\n",
//! #     "  labels:\n",
//! #     "    app.kubernetes.io/managed-by: gen-manifests\n",
//! #     "    app.kubernetes.io/name: api\n",
//! #     "  name: api\n",
//! #     "  namespace: shop\n",
//! #     "spec:\n",
//! #     "  maxReplicas: 10\n",
//! #     "  metrics:\n",
//! #     "  - pods:\n",
//! #     "      metric:\n",
//! #     "        name: http_requests_per_second\n",
//! #     "      target:\n",
//! #     "        averageValue: 500m\n",
//! #     "        type: AverageValue\n",
//! #     "    type: Pods\n",
//! #     "  minReplicas: 2\n",
//! #     "  scaleTargetRef:\n",
//! #     "    apiVersion: apps/v1\n",
//! #     "    kind: Deployment\n",
//! #     "    name: api\n",
//! # );
//! # assert!(generate(&config, OutputFormat::Yaml).ends_with(expected));
//! # Ok(())
//! # }
//! ```
//!
//! The library does not choose a Kubernetes API version for you: turn off
//! the default `cli` feature and enable the `k8s-openapi` version feature
//! (`v1_33` ... `v1_37`) your program targets.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Private items that only a tool uses (lint's tables of KEDA's keys, the
// adapter config reader) are dead in a build without that tool; the full
// build (`cli`) still finds the really unused ones.
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

// The layers, lowest first. Only the tool modules and `render` are public;
// everything else is reached through the `pub use` list below, so that a
// module's internals can change without breaking a user.
mod adapter_config;
mod autoscaling;
mod config;
mod documents;
mod error;
#[cfg(feature = "explain")]
mod http_config;
mod keda;
mod labels;
mod located;
mod meta;
mod monitoring;
mod naming;
mod network;
mod preset;
#[cfg(feature = "promql")]
mod promql;
mod query;
mod rbac;
mod spec;
mod stack;
mod tls;
mod values;
mod workload;

pub mod render;

// Tools on top of the objects, one feature each.
#[cfg(feature = "explain")]
pub mod explain;
#[cfg(feature = "gitops")]
pub mod gitops;
#[cfg(feature = "import")]
pub mod import;
#[cfg(feature = "gitops")]
pub mod krm;
#[cfg(feature = "write")]
pub mod kube_prometheus;
#[cfg(feature = "lint")]
pub mod lint;
#[cfg(feature = "migrate")]
pub mod migrate;
#[cfg(feature = "write")]
pub mod output;
#[cfg(feature = "explain")]
pub mod prometheus;
#[cfg(feature = "simulate")]
pub mod simulate;

// The spec: what a user writes, read from YAML or built in code.
pub use located::{Located, Location};
pub use spec::{
    AdapterSpec, AppSpec, AuthMode, Backend, BehaviorSpec, CapabilitiesSpec, ConfigError,
    FallbackBehavior, FallbackSpec, IssuerKind, IssuerRefSpec, KedaAuthSpec, KedaSpec,
    MatchLabelsSpec, MetricsReaderError, MetricsReaderSpec, MonitorKind, PolicyKind, Preset,
    ProbePath, ProbePathError, ProbeSpec, PrometheusSpec, ReaderSubject, ResourcesSpec,
    ScalingPolicySpec, ScalingRulesSpec, SeccompKind, SeccompProfileSpec, SecurityContextSpec,
    SelectPolicy, Spec, SpecError, SpecErrorKind, Stack, StackError, TaintEffect, TlsMode, TlsSpec,
    TolerationError, TolerationOperator, TolerationSpec, UnknownPreset, MAX_APPS, MAX_RELEASE_NAME,
    MAX_SPEC_BYTES,
};
// prometheus-adapter's `config.yaml`: the discovery rules a spec may replace.
pub use adapter_config::{
    AdapterConfig, GroupResource, NameMapping, QueryLocation, ResourceKind, ResourceMapping,
    ResourceQuery, ResourceRule, ResourceRules, Rule, RuleSection, SeriesFilter,
};
// Typed values: each checks its domain's rules when built or read.
pub use values::{
    Duration, DurationError, FailureThreshold, GoDuration, HttpPath, Image, ImageError, IntError,
    LabelError, LabelKey, LabelValue, Labels, Name, NameError, PathError, PeriodSeconds,
    PolicyValue, PrometheusUrl, Quantity, QuantityError, Replicas, ServiceName,
    StabilizationWindowSeconds, UrlError,
};
// The resolved model the objects are built from.
pub use config::{
    load, load_with, quick_app, Adapter, App, AppError, AppField, Config, Keda, Prometheus,
    QuickAppError, QuickAppInput, Tls, DEFAULT_SCRAPE_INTERVAL,
};
pub use naming::{NamingError, ServedMetric, DEFAULT_SERIES};
pub use query::KedaQueryError;
pub use stack::StackFacts;
// Reading input files.
pub use documents::Documents;
pub use spec::read_bounded;
// The objects: k8s-openapi's types, and the custom resources below.
pub use error::{Error, ExitStatus};
pub use render::Manifest;

/// The custom resources emitted besides k8s-openapi's objects (Prometheus
/// Operator monitors, cert-manager certificates, KEDA scaling), as the
/// variants of [`Manifest`] hold them.
pub mod objects {
    pub use crate::keda::{
        Advanced, AuthenticationRef, Fallback, HorizontalPodAutoscalerConfig, ScaleTargetRef,
        ScaledObject, ScaledObjectSpec, SecretTargetRef, Trigger, TriggerAuthentication,
        TriggerAuthenticationSpec,
    };
    pub use crate::monitoring::{
        Endpoint, NamespaceSelector, PodMonitor, PodMonitorSpec, Selector, ServiceMonitor,
        ServiceMonitorSpec,
    };
    pub use crate::tls::{Certificate, CertificateSpec, Issuer, IssuerRef, IssuerSpec, SelfSigned};
}

/// The output encodings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum OutputFormat {
    /// Multi-document YAML.
    #[default]
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Yaml,
    /// A JSON `v1 List`.
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Json,
}

/// Every object of `config`, encoded as `format`.
pub fn generate(config: &Config, format: OutputFormat) -> String {
    let mut out = Vec::new();
    write(config, format, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("YAML and JSON are UTF-8")
}

/// Writes every object of `config` to `out` as `format`, the bytes of
/// [`generate`], building and writing one object at a time: memory does not
/// grow with the number of apps. Wrap an unbuffered `out` (a file, standard
/// output) in a [`std::io::BufWriter`].
///
/// ```
/// use custom_metrics_manifests::{generate, write, Config, OutputFormat, Preset};
///
/// let config = Config::from_preset(Preset::Recommended);
/// let mut out = Vec::new();
/// write(&config, OutputFormat::Json, &mut out).unwrap();
/// assert_eq!(out, generate(&config, OutputFormat::Json).into_bytes());
/// ```
pub fn write(
    config: &Config,
    format: OutputFormat,
    out: impl std::io::Write,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Yaml => render::write_yaml(render::objects(config), out),
        OutputFormat::Json => render::write_json(render::objects(config), out),
    }
}

/// `manifests` encoded as `format`.
pub fn encode(manifests: &[Manifest], format: OutputFormat) -> String {
    match format {
        OutputFormat::Yaml => render::to_yaml(manifests),
        OutputFormat::Json => render::to_json(manifests),
    }
}
