//! Object metadata and labels: one helper for name, namespace and labels,
//! label keys as constants, and the adapter's labels from its resolved fields.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::Adapter;

pub use crate::labels::{
    CHECKSUM_CONFIG, COMPONENT, INSTANCE, MANAGED_BY, NAME, PART_OF, TOOL, VERSION,
};

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
    adapter.selector.clone()
}

/// Labels on every adapter object: the pod labels plus the object labels.
pub fn adapter_labels(adapter: &Adapter) -> BTreeMap<String, String> {
    let mut labels = adapter_pod_labels(adapter);
    labels.extend(adapter.object_labels.clone());
    labels
}

/// Labels on the adapter's pods: `labels`, the pod labels, the selector.
pub fn adapter_pod_labels(adapter: &Adapter) -> BTreeMap<String, String> {
    // The selector last, so that no other label can override one of its
    // keys and leave the Deployment selecting no pods.
    let mut labels = adapter.labels.clone();
    labels.extend(adapter.pod_labels.clone());
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

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{meta, Config, Preset};

        let adapter = Config::from_preset(Preset::Recommended).adapter;
        let selector = meta::adapter_selector(&adapter);
        // Every selector label is also a pod label, so the Deployment selects its pods.
        let labels = meta::adapter_pod_labels(&adapter);
        assert!(selector
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value)));
    }
}
