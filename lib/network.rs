//! How the API server reaches the adapter: the Service and the APIService
//! that registers `v1beta1.custom.metrics.k8s.io`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceSpec, ServiceReference,
};
use k8s_openapi::ByteString;

use crate::config::Adapter;
use crate::meta::{self, adapter_cluster_meta, adapter_meta};
use crate::spec::TlsMode;
use crate::tls;
use crate::workload::PORT_NAME;

/// The API group the adapter serves.
pub const CUSTOM_METRICS_GROUP: &str = "custom.metrics.k8s.io";
/// The served version.
pub const CUSTOM_METRICS_VERSION: &str = "v1beta1";

/// The adapter's ClusterIP Service on port 443.
pub fn service(adapter: &Adapter) -> Service {
    Service {
        metadata: adapter_meta(adapter, adapter.name.as_str()),
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                port: 443,
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                ..ServicePort::default()
            }]),
            selector: Some(meta::adapter_selector(adapter)),
            type_: Some("ClusterIP".into()),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The APIService name for the custom metrics API.
pub fn api_service_name() -> String {
    format!("{CUSTOM_METRICS_VERSION}.{CUSTOM_METRICS_GROUP}")
}

/// Registers the adapter as `custom.metrics.k8s.io/v1beta1`, trusting it
/// as the TLS mode says.
pub fn api_service(adapter: &Adapter) -> APIService {
    let mut metadata = adapter_cluster_meta(adapter, &api_service_name());
    let mut spec = APIServiceSpec {
        service: Some(ServiceReference {
            name: Some(adapter.name.to_string()),
            namespace: Some(adapter.namespace.to_string()),
            ..ServiceReference::default()
        }),
        group: Some(CUSTOM_METRICS_GROUP.into()),
        version: Some(CUSTOM_METRICS_VERSION.into()),
        group_priority_minimum: 100,
        version_priority: 100,
        ..APIServiceSpec::default()
    };
    match adapter.tls.mode {
        TlsMode::Insecure => spec.insecure_skip_tls_verify = Some(true),
        TlsMode::CaBundle => {
            let pem = adapter.tls.ca_bundle.clone().unwrap_or_default();
            spec.ca_bundle = Some(ByteString(pem.into_bytes()));
        }
        TlsMode::CertManager => {
            metadata.annotations = Some(BTreeMap::from([(
                tls::INJECT_CA_FROM.to_owned(),
                format!("{}/{}", adapter.namespace, tls::certificate_name(adapter)),
            )]));
        }
    }
    APIService {
        metadata,
        spec: Some(spec),
        ..APIService::default()
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{network, Config, Preset};

        let config = Config::from_preset(Preset::Recommended);
        let api_service = network::api_service(&config.adapter);
        // Recommended: no insecureSkipTLSVerify; cert-manager injects the CA.
        assert_eq!(
            api_service.spec.as_ref().unwrap().insecure_skip_tls_verify,
            None
        );
        assert!(api_service
            .metadata
            .annotations
            .unwrap()
            .contains_key("cert-manager.io/inject-ca-from"));
    }
}
