//! cert-manager objects for the adapter's serving certificate (TLS mode
//! `certManager`): a self-signed Issuer unless the spec names one, and a
//! Certificate for the Service's DNS names whose CA cert-manager's
//! cainjector copies into the APIService.
//!
//! Only the fields emitted are modelled; `apiVersion` and `kind` come from
//! the [`k8s_openapi::Resource`] implementation, never from text.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::config::Adapter;
use crate::meta::adapter_meta;
use crate::spec::{IssuerKind, TlsMode};

/// The annotation cert-manager's cainjector reads on an APIService.
pub const INJECT_CA_FROM: &str = "cert-manager.io/inject-ca-from";

/// Implements `Resource`, `Metadata` and apiVersion/kind-first
/// serialization for a small custom-resource struct.
macro_rules! custom_resource {
    ($ty:ident, $spec:ty, $group:literal, $version:literal, $kind:literal, $plural:literal, $scope:ty) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = $scope;
        }

        impl k8s_openapi::Metadata for $ty {
            type Ty = ObjectMeta;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }

        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut state = serializer.serialize_struct($kind, 4)?;
                state.serialize_field("apiVersion", <$ty as k8s_openapi::Resource>::API_VERSION)?;
                state.serialize_field("kind", $kind)?;
                state.serialize_field("metadata", &self.metadata)?;
                state.serialize_field("spec", &self.spec)?;
                state.end()
            }
        }
    };
}
pub(crate) use custom_resource;

/// A cert-manager `Issuer`.
#[derive(Clone, Debug, PartialEq)]
pub struct Issuer {
    /// Standard metadata.
    pub metadata: ObjectMeta,
    /// The issuer's kind of signing.
    pub spec: IssuerSpec,
}

/// `Issuer.spec`: only self-signed issuers are emitted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerSpec {
    /// An empty object selects self-signing.
    pub self_signed: SelfSigned,
}

/// `selfSigned: {}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfSigned {}

custom_resource!(
    Issuer,
    IssuerSpec,
    "cert-manager.io",
    "v1",
    "Issuer",
    "issuers",
    k8s_openapi::NamespaceResourceScope
);

/// A cert-manager `Certificate`.
#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    /// Standard metadata.
    pub metadata: ObjectMeta,
    /// What to issue.
    pub spec: CertificateSpec,
}

/// `Certificate.spec`, the fields emitted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    /// Secret the key pair is written to.
    pub secret_name: String,
    /// The Service's DNS names.
    pub dns_names: Vec<String>,
    /// Who signs.
    pub issuer_ref: IssuerRef,
}

/// `Certificate.spec.issuerRef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IssuerRef {
    /// Issuer name.
    pub name: String,
    /// `Issuer` or `ClusterIssuer`.
    pub kind: String,
    /// `cert-manager.io`.
    pub group: String,
}

custom_resource!(
    Certificate,
    CertificateSpec,
    "cert-manager.io",
    "v1",
    "Certificate",
    "certificates",
    k8s_openapi::NamespaceResourceScope
);

/// The Certificate's name.
pub fn certificate_name(adapter: &Adapter) -> String {
    format!("{}-serving-cert", truncated(adapter.name.as_str(), 50))
}

/// The self-signed Issuer's name.
pub fn issuer_name(adapter: &Adapter) -> String {
    format!("{}-selfsigned", truncated(adapter.name.as_str(), 52))
}

fn truncated(name: &str, max: usize) -> &str {
    name[..name.len().min(max)].trim_end_matches('-')
}

/// The self-signed Issuer, unless TLS is not cert-manager's or the spec
/// names an existing issuer.
pub fn issuer(adapter: &Adapter) -> Option<Issuer> {
    (adapter.tls.mode == TlsMode::CertManager && adapter.tls.issuer_ref.is_none()).then(|| Issuer {
        metadata: adapter_meta(adapter, &issuer_name(adapter)),
        spec: IssuerSpec::default(),
    })
}

/// The serving Certificate for the adapter's Service.
pub fn certificate(adapter: &Adapter) -> Certificate {
    let service = format!("{}.{}", adapter.name, adapter.namespace);
    let (name, kind) = match &adapter.tls.issuer_ref {
        Some(reference) => (
            reference.name.to_string(),
            match reference.kind {
                IssuerKind::Issuer => "Issuer",
                IssuerKind::ClusterIssuer => "ClusterIssuer",
            },
        ),
        None => (issuer_name(adapter), "Issuer"),
    };
    Certificate {
        metadata: adapter_meta(adapter, &certificate_name(adapter)),
        spec: CertificateSpec {
            secret_name: adapter.tls.secret_name.to_string(),
            dns_names: vec![
                format!("{service}.svc"),
                format!("{service}.svc.cluster.local"),
            ],
            issuer_ref: IssuerRef {
                name,
                kind: kind.into(),
                group: "cert-manager.io".into(),
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
        use crate::{tls, Config, Preset};

        let adapter = Config::from_preset(Preset::Recommended).adapter;
        let certificate = tls::certificate(&adapter);
        assert!(certificate
            .spec
            .dns_names
            .contains(&"custom-metrics-adapter.monitoring.svc".to_owned()));
    }
}
