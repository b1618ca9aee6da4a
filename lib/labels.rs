//! Well-known label keys and values, shared by the presets (which set
//! them as data), the model and the object builders.

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
/// The component value of this tool's adapter. kube-prometheus' adapter
/// uses `metrics-adapter`; ours differs so that neither Deployment's
/// selector picks the other's pods.
pub const CUSTOM_METRICS_COMPONENT: &str = "custom-metrics-adapter";
