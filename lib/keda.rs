//! The `keda` backend's objects: a `keda.sh/v1alpha1` ScaledObject per app
//! (KEDA's prometheus scaler, in place of the adapter and the HPA), and a
//! TriggerAuthentication per app namespace when Prometheus needs
//! credentials. Small serde structs with only the fields emitted; their
//! schema is KEDA's CRDs (`fixtures/keda/`).
//!
//! Each ScaledObject adopts the HPA the `adapter` backend made for the app
//! (`advanced.horizontalPodAutoscalerConfig.name` plus the
//! `scaledobject.keda.sh/transfer-hpa-ownership` annotation), so applying
//! it over an adapter installation hands the HPA over instead of adding a
//! second one that would fight it.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::config::{App, Config};
use crate::meta::{self, object_meta};
use crate::spec::{FallbackBehavior, KedaAuthSpec};
use crate::tls::custom_resource;

/// The annotation by which a new ScaledObject takes over an existing HPA
/// named in `advanced.horizontalPodAutoscalerConfig.name`
/// (apis/keda/v1alpha1/scaledobject_types.go).
pub const TRANSFER_HPA_OWNERSHIP: &str = "scaledobject.keda.sh/transfer-hpa-ownership";

/// The trigger metadata keys KEDA's prometheus scaler reads
/// (`prometheusMetadata` in pkg/scalers/prometheus_scaler.go and the
/// `authentication.Config` it embeds; the cloud round trippers it builds
/// read `cloud`, `azureManagedPrometheusResourceURL` (azure),
/// `credentialsFromEnv`, `credentialsFromEnvFile` (gcp) and the `aws*`
/// keys (aws/aws_common.go); kedacore/keda commit 8b4f083ca). Any other key
/// is silently ignored by KEDA (its unexpected-parameter check is off
/// unless `KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS=enabled`).
pub const PROMETHEUS_METADATA_KEYS: &[&str] = &[
    "activationThreshold",
    "apiKey",
    "authMode",
    "authModes",
    "awsAccessKeyID",
    "awsAccessKeyIDFromEnv",
    "awsRegion",
    "awsSecretAccessKeyFromEnv",
    "azureManagedPrometheusResourceURL",
    "cloud",
    "credentialsFromEnv",
    "credentialsFromEnvFile",
    "customHeaders",
    "identityOwner",
    "ignoreNullValues",
    "keyParamName",
    "method",
    "namespace",
    "query",
    "queryParameters",
    "serverAddress",
    "threshold",
    "timeout",
    "unsafeSsl",
];

/// The metadata keys the prometheus scaler requires (no `optional` or
/// `default` in their `keda:` tags): without one, KEDA refuses the trigger.
pub const PROMETHEUS_REQUIRED_KEYS: &[&str] = &["serverAddress", "query", "threshold"];

/// The TriggerAuthentication parameters the prometheus scaler reads
/// (`order=authParams` in pkg/scalers/authentication/authentication_types.go
/// and aws/aws_common.go, gcp/gcp_common.go; commit 8b4f083ca).
pub const PROMETHEUS_AUTH_PARAMS: &[&str] = &[
    "GoogleApplicationCredentials",
    "apiKey",
    "authMode",
    "authModes",
    "awsAccessKeyID",
    "awsAccessKeyId",
    "awsRegion",
    "awsRoleArn",
    "awsSecretAccessKey",
    "awsSessionToken",
    "bearerToken",
    "ca",
    "cert",
    "clientID",
    "clientSecret",
    "customAuthHeader",
    "customAuthValue",
    "endpointParams",
    "key",
    "keyParamName",
    "method",
    "oauthTokenURI",
    "password",
    "scope",
    "scopes",
    "token",
    "username",
];

/// The annotation by which an HPA opts out of KEDA's admission check
/// (`validations.keda.sh/hpa-ownership: "false"`,
/// apis/keda/v1alpha1/scaledobject_types.go): the webhook then lets a
/// ScaledObject scale the same workload, and the two HPAs fight.
pub const HPA_OWNERSHIP_VALIDATION: &str = "validations.keda.sh/hpa-ownership";

/// The name of the HPA KEDA creates for a ScaledObject without
/// `advanced.horizontalPodAutoscalerConfig.name` (`keda-hpa-<name>`,
/// controllers/keda/hpa.go `getHPAName`).
pub fn default_hpa_name(scaled_object: &str) -> String {
    format!("keda-hpa-{scaled_object}")
}

/// `minReplicas` of the HPA KEDA creates: `minReplicaCount` when above 0,
/// else 1 (`GetHPAMinReplicas`, apis/keda/v1alpha1/scaledobject_types.go;
/// below it KEDA itself scales between 0 and 1).
pub fn hpa_min_replicas(min_replica_count: Option<i64>) -> i64 {
    min_replica_count.filter(|&min| min > 0).unwrap_or(1)
}

/// `maxReplicas` of the HPA KEDA creates: `maxReplicaCount`, else 100
/// (`GetHPAMaxReplicas`).
pub fn hpa_max_replicas(max_replica_count: Option<i64>) -> i64 {
    max_replica_count.unwrap_or(100)
}

/// KEDA's `pollingInterval` default in seconds (30).
pub const DEFAULT_POLLING_INTERVAL_SECONDS: u64 = 30;

/// A float as KEDA turns it into a quantity for the HPA
/// (`quantityFromFloat64` in pkg/scalers/scaler.go:
/// `resource.MustParse(fmt.Sprintf("%.3f", value))`; NaN, infinities and
/// negative values become 0), in thousandths: the metric's value and the
/// `threshold` alike.
pub fn milli_quantity(value: f64) -> i64 {
    if !value.is_finite() || value < 0.0 {
        return 0;
    }
    // Go's %.3f and Rust's {:.3} both round the exact binary value to
    // nearest, ties to even; the text then parses back exactly.
    let text = format!("{value:.3}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "0"));
    let whole: i64 = whole.parse().unwrap_or(i64::MAX / 1000);
    let fraction: i64 = format!("{fraction:0<3}")[..3].parse().unwrap_or(0);
    whole.saturating_mul(1000).saturating_add(fraction)
}

/// A KEDA ScaledObject, with only the fields emitted.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaledObject {
    /// Standard metadata.
    pub metadata: ObjectMeta,
    /// What to scale, on what.
    pub spec: ScaledObjectSpec,
}

custom_resource!(
    ScaledObject,
    ScaledObjectSpec,
    "keda.sh",
    "v1alpha1",
    "ScaledObject",
    "scaledobjects",
    k8s_openapi::NamespaceResourceScope
);

/// `ScaledObject.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    /// The HPA KEDA manages.
    pub advanced: Advanced,
    /// What KEDA does when the trigger fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Upper replica bound.
    pub max_replica_count: u32,
    /// Lower replica bound.
    pub min_replica_count: u32,
    /// The Deployment.
    pub scale_target_ref: ScaleTargetRef,
    /// The metric sources.
    pub triggers: Vec<Trigger>,
}

/// `spec.advanced`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Advanced {
    /// The HPA's name and behavior.
    pub horizontal_pod_autoscaler_config: HorizontalPodAutoscalerConfig,
}

/// `spec.advanced.horizontalPodAutoscalerConfig`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HorizontalPodAutoscalerConfig {
    /// autoscaling/v2 behavior, as on the adapter backend's HPA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<HorizontalPodAutoscalerBehavior>,
    /// The HPA's name: the adapter backend's, so that it is adopted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `spec.fallback`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fallback {
    /// `static` (KEDA's default), `currentReplicas`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<FallbackBehavior>,
    /// Failed polls before the fallback applies.
    pub failure_threshold: u32,
    /// Replicas during the fallback.
    pub replicas: u32,
}

/// `spec.scaleTargetRef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTargetRef {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// The Deployment's name.
    pub name: String,
}

/// One trigger.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    /// The TriggerAuthentication holding Prometheus' credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthenticationRef>,
    /// The scaler's parameters, all strings.
    pub metadata: BTreeMap<String, String>,
    /// `AverageValue`: the HPA divides the value by the pod count.
    pub metric_type: String,
    /// The scaler: `prometheus`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `triggers[].authenticationRef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationRef {
    /// The TriggerAuthentication's name.
    pub name: String,
}

/// A KEDA TriggerAuthentication, with only the fields emitted.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerAuthentication {
    /// Standard metadata.
    pub metadata: ObjectMeta,
    /// Where the parameters come from.
    pub spec: TriggerAuthenticationSpec,
}

custom_resource!(
    TriggerAuthentication,
    TriggerAuthenticationSpec,
    "keda.sh",
    "v1alpha1",
    "TriggerAuthentication",
    "triggerauthentications",
    k8s_openapi::NamespaceResourceScope
);

/// `TriggerAuthentication.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthenticationSpec {
    /// Parameters read from Secret keys.
    pub secret_target_ref: Vec<SecretTargetRef>,
}

/// One parameter from a Secret key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretTargetRef {
    /// The Secret key.
    pub key: String,
    /// The Secret.
    pub name: String,
    /// The scaler parameter it fills.
    pub parameter: String,
}

/// The TriggerAuthentication's name for `auth`.
pub fn authentication_name(auth: &KedaAuthSpec) -> String {
    auth.name.as_ref().unwrap_or(&auth.secret_name).to_string()
}

/// KEDA's `serverAddress`: the spec's Prometheus URL without a trailing
/// `/` (KEDA appends `/api/v1/query`).
pub fn server_address(config: &Config) -> String {
    config
        .adapter
        .prometheus_url
        .trim_end_matches('/')
        .to_owned()
}

/// The replicas KEDA falls back to for `app`: the spec's count within the
/// app's bounds, else the app's maximum. When the metric cannot be read,
/// more pods than needed cost money for the outage; fewer drop requests.
pub fn fallback_replicas(config: &Config, app: &App) -> u32 {
    config
        .keda
        .fallback_replicas
        .map_or(app.max_replicas.get(), |replicas| {
            replicas.clamp(app.min_replicas.get(), app.max_replicas.get())
        })
}

/// The ScaledObject for `app`. The config was checked for the keda backend
/// (the query fills, the threshold is a decimal); should it not have been,
/// the query or threshold is written as the template or quantity.
pub fn scaled_object(config: &Config, app: &App) -> ScaledObject {
    let query = crate::query::keda_query(
        &config.adapter_config,
        app.namespace.as_str(),
        app.deployment.as_str(),
        &app.metric,
    )
    .unwrap_or_else(|message| format!("<{message}>"));
    let threshold = app
        .target_average_value
        .to_decimal()
        .unwrap_or_else(|| app.target_average_value.to_string());
    let mut metadata = BTreeMap::from([
        ("serverAddress".to_owned(), server_address(config)),
        ("query".to_owned(), query),
        ("threshold".to_owned(), threshold),
        // An empty answer is an error (and the fallback), not 0: see
        // kedacore/keda#3065 and the README.
        ("ignoreNullValues".to_owned(), "false".to_owned()),
    ]);
    let authentication_ref = config.keda.authentication.as_ref().map(|auth| {
        let modes: Vec<&str> = auth.modes.iter().map(|mode| mode.as_str()).collect();
        metadata.insert("authModes".to_owned(), modes.join(","));
        AuthenticationRef {
            name: authentication_name(auth),
        }
    });
    let mut object_metadata = object_meta(
        app.name.as_str(),
        Some(app.namespace.as_str()),
        meta::labels([
            (meta::NAME, app.name.as_str()),
            (meta::MANAGED_BY, meta::TOOL),
        ]),
    );
    object_metadata.annotations = Some(BTreeMap::from([(
        TRANSFER_HPA_OWNERSHIP.to_owned(),
        "true".to_owned(),
    )]));
    ScaledObject {
        metadata: object_metadata,
        spec: ScaledObjectSpec {
            advanced: Advanced {
                horizontal_pod_autoscaler_config: HorizontalPodAutoscalerConfig {
                    behavior: app.behavior.as_ref().map(crate::autoscaling::behavior),
                    // The adapter backend's HPA is named after the app.
                    name: Some(app.name.to_string()),
                },
            },
            fallback: Some(Fallback {
                behavior: config.keda.fallback_behavior,
                failure_threshold: config.keda.failure_threshold,
                replicas: fallback_replicas(config, app),
            }),
            max_replica_count: app.max_replicas.get(),
            min_replica_count: app.min_replicas.get(),
            scale_target_ref: ScaleTargetRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: app.deployment.to_string(),
            },
            triggers: vec![Trigger {
                authentication_ref,
                metadata,
                metric_type: "AverageValue".into(),
                kind: "prometheus".into(),
            }],
        },
    }
}

/// One TriggerAuthentication per app namespace, in the order the
/// namespaces first appear, when the spec configures authentication.
pub fn trigger_authentications(config: &Config) -> Vec<TriggerAuthentication> {
    let Some(auth) = &config.keda.authentication else {
        return Vec::new();
    };
    let mut parameters: Vec<&str> = auth
        .modes
        .iter()
        .flat_map(|mode| mode.parameters().iter().copied())
        .collect();
    if auth.ca {
        parameters.push("ca");
    }
    // In the apps' order, each once (a set: linear in the apps).
    let mut seen = std::collections::BTreeSet::new();
    let namespaces: Vec<&str> = config
        .apps
        .iter()
        .map(|app| app.namespace.as_str())
        .filter(|namespace| seen.insert(*namespace))
        .collect();
    let name = authentication_name(auth);
    namespaces
        .into_iter()
        .map(|namespace| TriggerAuthentication {
            metadata: object_meta(
                &name,
                Some(namespace),
                meta::labels([(meta::MANAGED_BY, meta::TOOL)]),
            ),
            spec: TriggerAuthenticationSpec {
                secret_target_ref: parameters
                    .iter()
                    .map(|parameter| SecretTargetRef {
                        key: (*parameter).to_owned(),
                        name: auth.secret_name.to_string(),
                        parameter: (*parameter).to_owned(),
                    })
                    .collect(),
            },
        })
        .collect()
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{keda, Config, Spec};

        let spec = Spec::from_yaml(
            "preset: recommended\nbackend: keda\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: 500m\n  maxReplicas: 5\n",
            "spec.yaml",
        ).unwrap();
        let config = Config::from_spec(spec, "spec.yaml").unwrap();
        let scaled = keda::scaled_object(&config, &config.apps[0]);
        let trigger = &scaled.spec.triggers[0];
        assert_eq!(trigger.metadata["threshold"], "0.5");
        assert_eq!(trigger.metadata["ignoreNullValues"], "false");
        assert_eq!(
            scaled
                .spec
                .advanced
                .horizontal_pod_autoscaler_config
                .name
                .as_deref(),
            Some("api")
        );
    }
}
