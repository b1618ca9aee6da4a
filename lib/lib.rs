//! Kubernetes manifests for autoscaling a service on a Prometheus custom
//! metric with prometheus-adapter, built from typed objects; and the
//! checks that catch what breaks such setups.
//!
//! The pipeline is: read a [`Spec`](spec::Spec) (or none), resolve it over
//! a [`Preset`](preset::Preset) into a [`Config`](config::Config), build the
//! objects with [`render::manifests`], write them with
//! [`render::to_yaml`] or [`render::to_json`].
//!
//! ```
//! use custom_metrics_manifests::{generate, preset::Preset, Config, OutputFormat};
//!
//! let yaml = generate(&Config::from_preset(Preset::Documented), OutputFormat::Yaml);
//! assert!(yaml.contains("kind: APIService"));
//! ```
//!
//! The library does not choose a Kubernetes API version for you: turn off
//! the default `cli` feature and enable the `k8s-openapi` version feature
//! (`v1_33` ... `v1_37`) your program targets.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapter_config;
pub mod autoscaling;
pub mod config;
pub mod error;
#[cfg(feature = "explain")]
pub mod explain;
#[cfg(feature = "gitops")]
pub mod gitops;
#[cfg(feature = "explain")]
pub mod http_config;
#[cfg(feature = "import")]
pub mod import;
pub mod keda;
#[cfg(feature = "gitops")]
pub mod krm;
#[cfg(feature = "write")]
pub mod kube_prometheus;
pub mod labels;
#[cfg(feature = "lint")]
pub mod lint;
pub mod meta;
#[cfg(feature = "migrate")]
pub mod migrate;
pub mod monitoring;
pub mod naming;
pub mod network;
#[cfg(feature = "write")]
pub mod output;
pub mod preset;
#[cfg(feature = "explain")]
pub mod prometheus;
#[cfg(feature = "promql")]
pub(crate) mod promql;
pub mod query;
pub mod rbac;
pub mod render;
#[cfg(feature = "simulate")]
pub mod simulate;
pub mod spec;
pub mod stack;
pub mod tls;
pub mod values;
pub mod workload;

pub use config::Config;
pub use error::{Error, ExitStatus};
pub use preset::Preset;
pub use render::Manifest;
pub use spec::{Spec, SpecError};

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
