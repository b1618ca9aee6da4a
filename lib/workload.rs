//! The adapter's Deployment, the ConfigMap it mounts and, with more than
//! one replica, its PodDisruptionBudget.
//!
//! The Deployment is built so that its selector always equals a subset of
//! its pod labels, and its pod template carries `checksum/config`: the
//! sha256 of the ConfigMap's `config.yaml`, so that a rule change rolls the
//! pods (the adapter reads its configuration only at start-up).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    HTTPGetAction, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecretVolumeSource, SecurityContext, Toleration, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::adapter_config::{CONFIG_KEY, CONFIG_MOUNT_PATH};
use crate::config::Adapter;
use crate::meta::{self, adapter_meta, object_meta};
use crate::spec::{ProbeSpec, SecurityContextSpec, TlsMode};

/// The adapter's HTTPS port inside the pod.
pub const SECURE_PORT: i32 = 6443;
/// The container port's name, which the Service and probes refer to.
pub const PORT_NAME: &str = "https";
/// Where the serving certificate Secret is mounted (modes `caBundle` and `certManager`).
pub const SERVING_CERT_PATH: &str = "/var/run/serving-cert";
/// The adapter's container name.
pub const CONTAINER_NAME: &str = "prometheus-adapter";

/// The adapter's ConfigMap holding `config_yaml`
/// ([`crate::AdapterConfig::to_yaml`]; serialized once per bundle, as the
/// Deployment's checksum is of the same text).
pub fn config_map(adapter: &Adapter, config_yaml: String) -> ConfigMap {
    ConfigMap {
        metadata: adapter_meta(adapter, adapter.name.as_str()),
        data: Some(BTreeMap::from([(CONFIG_KEY.to_owned(), config_yaml)])),
        ..Default::default()
    }
}

/// The adapter's command-line arguments, in the order the guide gives them.
pub fn adapter_args(adapter: &Adapter) -> Vec<String> {
    let mut args = adapter.leading_args.clone();
    args.push(format!("--secure-port={SECURE_PORT}"));
    match adapter.tls.mode {
        TlsMode::Insecure => args.push("--cert-dir=/tmp/cert".to_owned()),
        TlsMode::CaBundle | TlsMode::CertManager => {
            args.push(format!("--tls-cert-file={SERVING_CERT_PATH}/tls.crt"));
            args.push(format!(
                "--tls-private-key-file={SERVING_CERT_PATH}/tls.key"
            ));
        }
    }
    if adapter.log_to_stderr {
        args.push("--logtostderr=true".to_owned());
    }
    args.push(format!("--prometheus-url={}", adapter.prometheus_url));
    args.push(format!(
        "--metrics-relist-interval={}",
        adapter.metrics_relist_interval
    ));
    args.push(format!("--v={}", adapter.log_level));
    args.push(format!("--config={CONFIG_MOUNT_PATH}{CONFIG_KEY}"));
    args.extend(adapter.extra_args.iter().cloned());
    args
}

fn https_probe(probe: &ProbeSpec) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(probe.path.as_str().to_owned()),
            port: IntOrString::String(PORT_NAME.to_owned()),
            scheme: Some("HTTPS".to_owned()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: probe.initial_delay_seconds.map(i32::from),
        timeout_seconds: probe.timeout_seconds.map(i32::from),
        period_seconds: probe.period_seconds.map(i32::from),
        failure_threshold: probe.failure_threshold.map(i32::from),
        ..Probe::default()
    }
}

fn security_context(spec: &SecurityContextSpec) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: spec.allow_privilege_escalation,
        capabilities: spec.capabilities.as_ref().map(|capabilities| Capabilities {
            add: capabilities.add.clone(),
            drop: capabilities.drop.clone(),
        }),
        read_only_root_filesystem: spec.read_only_root_filesystem,
        run_as_non_root: spec.run_as_non_root,
        run_as_user: spec.run_as_user.map(i64::from),
        run_as_group: spec.run_as_group.map(i64::from),
        seccomp_profile: spec.seccomp_profile.as_ref().map(|profile| SeccompProfile {
            type_: profile.kind.as_str().to_owned(),
            localhost_profile: profile.localhost_profile.clone(),
        }),
        ..SecurityContext::default()
    }
}

fn resources(adapter: &Adapter) -> ResourceRequirements {
    let quantities = |map: &BTreeMap<String, crate::values::Quantity>| {
        (!map.is_empty()).then(|| {
            map.iter()
                .map(|(name, quantity)| (name.clone(), quantity.to_k8s()))
                .collect()
        })
    };
    ResourceRequirements {
        limits: quantities(&adapter.resources.limits),
        requests: quantities(&adapter.resources.requests),
        ..ResourceRequirements::default()
    }
}

fn volumes(adapter: &Adapter) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut volumes = vec![
        Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: adapter.name.to_string(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
    ];
    let mount = |path: &str, name: &str, read_only: bool| VolumeMount {
        mount_path: path.into(),
        name: name.into(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    };
    let mut mounts = vec![
        mount(CONFIG_MOUNT_PATH, "config", true),
        mount("/tmp", "tmp", false),
    ];
    if adapter.tls.mode != TlsMode::Insecure {
        volumes.push(Volume {
            name: "serving-cert".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(adapter.tls.secret_name.to_string()),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(mount(SERVING_CERT_PATH, "serving-cert", true));
    }
    (volumes, mounts)
}

/// The adapter container.
pub fn container(adapter: &Adapter) -> Container {
    let (_, mounts) = volumes(adapter);
    Container {
        name: CONTAINER_NAME.into(),
        image: Some(adapter.image.to_string()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(adapter_args(adapter)),
        ports: Some(vec![ContainerPort {
            container_port: SECURE_PORT,
            name: Some(PORT_NAME.into()),
            ..ContainerPort::default()
        }]),
        liveness_probe: Some(https_probe(&adapter.liveness_probe)),
        readiness_probe: Some(https_probe(&adapter.readiness_probe)),
        resources: Some(resources(adapter)),
        security_context: Some(security_context(&adapter.security_context)),
        volume_mounts: Some(mounts),
        ..Container::default()
    }
}

/// The adapter Deployment; `config_checksum` is its pod template's
/// `checksum/config` annotation ([`crate::AdapterConfig::checksum`]).
pub fn deployment(adapter: &Adapter, config_checksum: String) -> Deployment {
    let selector = meta::adapter_selector(adapter);
    let (volumes, _) = volumes(adapter);
    let metadata = match &adapter.deployment_labels {
        Some(own) => {
            let mut labels = adapter.labels.clone();
            labels.extend(own.clone());
            object_meta(
                adapter.name.as_str(),
                Some(adapter.namespace.as_str()),
                labels,
            )
        }
        None => adapter_meta(adapter, adapter.name.as_str()),
    };
    let template_metadata = ObjectMeta {
        labels: Some(meta::adapter_pod_labels(adapter)),
        name: adapter.pod_template_name.as_ref().map(ToString::to_string),
        annotations: Some(BTreeMap::from([(
            meta::CHECKSUM_CONFIG.to_owned(),
            config_checksum,
        )])),
        ..ObjectMeta::default()
    };
    let spread = (adapter.replicas.get() > 1).then(|| {
        // Spread replicas over nodes so one node's loss keeps the metrics API up.
        vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector.clone()),
                ..LabelSelector::default()
            }),
            ..TopologySpreadConstraint::default()
        }]
    });
    Deployment {
        metadata,
        spec: meta::versioned(DeploymentSpec {
            replicas: Some(adapter.replicas.to_i32()),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(template_metadata),
                spec: Some(PodSpec {
                    service_account_name: Some(adapter.name.to_string()),
                    containers: vec![container(adapter)],
                    volumes: Some(volumes),
                    priority_class_name: adapter
                        .priority_class_name
                        .as_ref()
                        .map(ToString::to_string),
                    node_selector: (!adapter.node_selector.is_empty())
                        .then(|| adapter.node_selector.clone()),
                    tolerations: (!adapter.tolerations.is_empty()).then(|| {
                        adapter
                            .tolerations
                            .iter()
                            .map(|toleration| Toleration {
                                key: toleration.key.as_ref().map(ToString::to_string),
                                operator: toleration.operator.map(|o| o.as_str().to_owned()),
                                value: toleration.value.as_ref().map(ToString::to_string),
                                effect: toleration.effect.map(|e| e.as_str().to_owned()),
                                toleration_seconds: toleration.toleration_seconds,
                            })
                            .collect()
                    }),
                    topology_spread_constraints: spread,
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// With more than one replica, keep all but one available during node
/// drains: the HPA controller stalls while the metrics API is down.
pub fn pod_disruption_budget(adapter: &Adapter) -> Option<PodDisruptionBudget> {
    (adapter.replicas.get() > 1).then(|| PodDisruptionBudget {
        metadata: adapter_meta(adapter, adapter.name.as_str()),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(meta::adapter_selector(adapter)),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    })
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{workload, Config, Preset};

        let config = Config::from_preset(Preset::Documented);
        let deployment = workload::deployment(&config.adapter, config.adapter_config.checksum());
        let annotations = deployment
            .spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap();
        assert_eq!(
            annotations["checksum/config"],
            config.adapter_config.checksum()
        );
    }
}
