//! Object metadata and labels: one helper for name, namespace and labels,
//! label keys as constants, and the label conventions of each preset.
//!
//! ```
//! use custom_metrics_manifests::{meta, preset::Preset, Config};
//!
//! let adapter = Config::from_preset(Preset::Recommended).adapter;
//! let selector = meta::adapter_selector(&adapter);
//! // Every selector label is also a pod label, so the Deployment selects its pods.
//! let labels = meta::adapter_pod_labels(&adapter);
//! assert!(selector.iter().all(|(key, value)| labels.get(key) == Some(value)));
//! ```

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::Adapter;
use crate::preset::Preset;

/// `app.kubernetes.io/name`: kube-prometheus' NetworkPolicy `prometheus-k8s`
/// admits pods whose value is `prometheus-adapter`.
pub const NAME: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/instance`: tells this adapter's pods from kube-prometheus' own.
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// `app.kubernetes.io/component`.
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// `app.kubernetes.io/part-of`.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// `app.kubernetes.io/version`.
pub const VERSION: &str = "app.kubernetes.io/version";
/// `app.kubernetes.io/managed-by`: marks objects and files this tool wrote.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The guide's label key.
pub const APP: &str = "app";
/// The pod annotation holding the sha256 of the adapter's `config.yaml`.
pub const CHECKSUM_CONFIG: &str = "checksum/config";
/// This tool's name, the value of [`MANAGED_BY`].
pub const TOOL: &str = "gen-manifests";
/// kube-prometheus' adapter uses this component value; ours must differ so
/// that neither Deployment's selector picks the other's pods.
pub const KUBE_PROMETHEUS_ADAPTER_COMPONENT: &str = "metrics-adapter";
/// The component value of this tool's adapter.
pub const CUSTOM_METRICS_COMPONENT: &str = "custom-metrics-adapter";

/// Builds `ObjectMeta` with a name, an optional namespace and labels.
pub fn object_meta(
    name: &str,
    namespace: Option<&str>,
    labels: BTreeMap<String, String>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: (!labels.is_empty()).then_some(labels),
        ..ObjectMeta::default()
    }
}

/// Labels as a map from string pairs.
pub fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// The labels that select the adapter's pods (Deployment selector,
/// Service selector, PodDisruptionBudget).
pub fn adapter_selector(adapter: &Adapter) -> BTreeMap<String, String> {
    match adapter.preset {
        Preset::Documented => labels([(APP, "prometheus-adapter")]),
        Preset::Recommended => labels([
            (NAME, "prometheus-adapter"),
            (INSTANCE, adapter.name.as_str()),
        ]),
    }
}

/// Labels on every adapter object: the preset's convention plus the
/// user's `adapter.labels`.
pub fn adapter_labels(adapter: &Adapter) -> BTreeMap<String, String> {
    let mut labels = adapter_pod_labels(adapter);
    if adapter.preset == Preset::Recommended {
        labels.insert(MANAGED_BY.to_owned(), TOOL.to_owned());
    }
    labels
}

/// Labels on the adapter's pods: the selector plus the component.
pub fn adapter_pod_labels(adapter: &Adapter) -> BTreeMap<String, String> {
    // The user's labels first, so that none can override a selector label
    // and leave the Deployment selecting no pods.
    let mut labels = adapter.labels.clone();
    if adapter.preset == Preset::Recommended {
        labels.insert(COMPONENT.to_owned(), CUSTOM_METRICS_COMPONENT.to_owned());
    }
    labels.extend(adapter_selector(adapter));
    labels
}

/// Metadata of an adapter object in the adapter's namespace.
pub fn adapter_meta(adapter: &Adapter, name: &str) -> ObjectMeta {
    object_meta(
        name,
        Some(adapter.namespace.as_str()),
        adapter_labels(adapter),
    )
}

/// Metadata of a cluster-scoped adapter object.
pub fn adapter_cluster_meta(adapter: &Adapter, name: &str) -> ObjectMeta {
    object_meta(name, None, adapter_labels(adapter))
}

/// Fills a k8s-openapi field that is `T` in some Kubernetes versions and
/// `Option<T>` in others (`RoleRef.apiGroup`, `HorizontalPodAutoscaler.spec`
/// became required or optional between 1.35 and 1.36), so the library
/// compiles for whichever version its user enables.
pub(crate) trait VersionedField<T> {
    fn from_value(value: T) -> Self;
}

impl<T> VersionedField<T> for T {
    fn from_value(value: T) -> Self {
        value
    }
}

impl<T> VersionedField<T> for Option<T> {
    fn from_value(value: T) -> Self {
        Some(value)
    }
}

/// See [`VersionedField`].
pub(crate) fn versioned<T, F: VersionedField<T>>(value: T) -> F {
    F::from_value(value)
}
