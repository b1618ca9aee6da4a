//! The ServiceMonitor or PodMonitor (`monitoring.coreos.com/v1`) that
//! makes Prometheus scrape an app. Without it the app's series never
//! exist, or carry no `namespace`/`pod` labels, and the adapter serves
//! nothing. Each carries the labels its stack's Prometheus selects
//! monitors by (kube-prometheus-stack: `release: <release>`).

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

/// A monitor's labels: the tool's own, then those its Prometheus selects
/// by (which win: without them the monitor is ignored).
fn monitor_meta(app: &App) -> ObjectMeta {
    let mut labels = meta::labels([
        (meta::NAME, app.name.as_str()),
        (meta::MANAGED_BY, meta::TOOL),
    ]);
    labels.extend(app.monitor_labels.clone());
    object_meta(app.name.as_str(), Some(app.namespace.as_str()), labels)
}

/// The ServiceMonitor for `app`, in the app's namespace. Prometheus
/// Operator's relabelling gives every sample `namespace` and `pod` labels,
/// which the adapter rules' resource overrides rely on.
pub fn service_monitor(app: &App) -> ServiceMonitor {
    ServiceMonitor {
        metadata: monitor_meta(app),
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

/// A Prometheus Operator PodMonitor, with only the fields emitted.
#[derive(Clone, Debug, PartialEq)]
pub struct PodMonitor {
    /// Standard metadata.
    pub metadata: ObjectMeta,
    /// What to scrape.
    pub spec: PodMonitorSpec,
}

custom_resource!(
    PodMonitor,
    PodMonitorSpec,
    "monitoring.coreos.com",
    "v1",
    "PodMonitor",
    "podmonitors",
    k8s_openapi::NamespaceResourceScope
);

/// `PodMonitor.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    /// Namespaces to look for pods in.
    pub namespace_selector: NamespaceSelector,
    /// Container ports to scrape (the same fields as a ServiceMonitor's
    /// endpoint; `port` names a container port).
    pub pod_metrics_endpoints: Vec<Endpoint>,
    /// Which pods.
    pub selector: Selector,
}

/// The PodMonitor for `app`: its pods scraped directly, no Service needed.
/// Prometheus Operator gives these samples `namespace` and `pod` labels too.
pub fn pod_monitor(app: &App) -> PodMonitor {
    PodMonitor {
        metadata: monitor_meta(app),
        spec: PodMonitorSpec {
            namespace_selector: NamespaceSelector {
                match_names: vec![app.namespace.to_string()],
            },
            pod_metrics_endpoints: vec![Endpoint {
                interval: Some(app.interval.to_string()),
                path: Some(app.path.clone()),
                port: Some(app.port.clone()),
            }],
            selector: Selector {
                match_labels: app.selector.clone(),
            },
        },
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{monitoring, Config, Spec};

        let spec = Spec::from_yaml(
            "apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
            "spec.yaml",
        ).unwrap();
        let config = Config::from_spec(spec, "spec.yaml").unwrap();
        let monitor = monitoring::service_monitor(&config.apps[0]);
        assert_eq!(monitor.spec.endpoints[0].interval.as_deref(), Some("30s"));
    }
}
