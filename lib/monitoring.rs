//! The ServiceMonitor (`monitoring.coreos.com/v1`) that makes
//! kube-prometheus' Prometheus scrape an app. Without it the app's series
//! never exist, or carry no `namespace`/`pod` labels, and the adapter
//! serves nothing.
//!
//! ```
//! use custom_metrics_manifests::{config::Config, monitoring, spec::Spec};
//!
//! let spec = Spec::from_yaml(
//!     "apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
//!     "spec.yaml",
//! ).unwrap();
//! let config = Config::from_spec(spec, "spec.yaml").unwrap();
//! let monitor = monitoring::service_monitor(&config.apps[0]);
//! assert_eq!(monitor.spec.endpoints[0].interval.as_deref(), Some("30s"));
//! ```

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::config::App;
use crate::meta::{self, object_meta};
use crate::tls::custom_resource;

/// A Prometheus Operator ServiceMonitor, with only the fields emitted.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceMonitor {
    /// Standard metadata.
    pub metadata: ObjectMeta,
    /// What to scrape.
    pub spec: ServiceMonitorSpec,
}

custom_resource!(
    ServiceMonitor,
    ServiceMonitorSpec,
    "monitoring.coreos.com",
    "v1",
    "ServiceMonitor",
    "servicemonitors",
    k8s_openapi::NamespaceResourceScope
);

/// `ServiceMonitor.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Endpoints (Service ports) to scrape.
    pub endpoints: Vec<Endpoint>,
    /// Namespaces to look for Services in.
    pub namespace_selector: NamespaceSelector,
    /// Which Services.
    pub selector: Selector,
}

/// One scraped Service port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Scrape interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// HTTP path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Service port name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
}

/// `namespaceSelector.matchNames`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Namespaces by name.
    pub match_names: Vec<String>,
}

/// `selector.matchLabels`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// Service labels.
    pub match_labels: BTreeMap<String, String>,
}

/// The ServiceMonitor for `app`, in the app's namespace. Prometheus
/// Operator's relabelling gives every sample `namespace` and `pod` labels,
/// which the adapter rules' resource overrides rely on.
pub fn service_monitor(app: &App) -> ServiceMonitor {
    ServiceMonitor {
        metadata: object_meta(
            app.name.as_str(),
            Some(app.namespace.as_str()),
            meta::labels([
                (meta::NAME, app.name.as_str()),
                (meta::MANAGED_BY, meta::TOOL),
            ]),
        ),
        spec: ServiceMonitorSpec {
            endpoints: vec![Endpoint {
                interval: Some(app.interval.to_string()),
                path: Some(app.path.clone()),
                port: Some(app.port.clone()),
            }],
            namespace_selector: NamespaceSelector {
                match_names: vec![app.namespace.to_string()],
            },
            selector: Selector {
                match_labels: app.selector.clone(),
            },
        },
    }
}
