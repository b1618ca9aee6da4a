//! Which input object plays which part: the adapter (found from the
//! APIService serving `custom.metrics.k8s.io`, its Service and the
//! Deployment behind it, else by its image), its ConfigMap, ServiceAccount,
//! RBAC, certificate objects; the apps (HPAs on custom metrics, or KEDA
//! ScaledObjects) with their monitors; Prometheus' Role items.

use serde_json::Value;

use super::read::{locate, Object};
use super::ImportError;

/// The API group the adapter serves that the spec describes.
pub(super) const CUSTOM_GROUP: &str = "custom.metrics.k8s.io";

/// Indices into the input objects, by part.
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// The adapter, when the input has one.
    pub(super) adapter: Option<Adapter>,
    /// HPAs with a `Pods` metric (the adapter backend's apps).
    pub(super) hpas: Vec<usize>,
    /// KEDA ScaledObjects (the keda backend's apps).
    pub(super) scaled_objects: Vec<usize>,
    /// ServiceMonitors and PodMonitors.
    pub(super) monitors: Vec<usize>,
    /// kube-prometheus' `prometheus-k8s` RoleBindings.
    pub(super) prometheus_bindings: Vec<usize>,
    /// kube-prometheus' `prometheus-k8s` Roles.
    pub(super) prometheus_roles: Vec<usize>,
    /// KEDA TriggerAuthentications.
    pub(super) trigger_authentications: Vec<usize>,
}

/// The adapter's objects.
#[derive(Debug)]
pub(super) struct Adapter {
    pub(super) deployment: usize,
    /// Index of the adapter container in the pod spec.
    pub(super) container: usize,
    pub(super) service: Option<usize>,
    pub(super) api_service: Option<usize>,
    pub(super) config_map: Option<usize>,
    /// Bindings whose subject is the adapter's ServiceAccount, and the
    /// binding of the ClusterRole granting the metrics API.
    pub(super) bindings: Vec<usize>,
    /// The ClusterRole granting `custom.metrics.k8s.io`.
    pub(super) server_resources: Option<usize>,
    /// cert-manager Certificate for the serving Secret.
    pub(super) certificate: Option<usize>,
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Whether every `selector` label is among `labels` (a non-empty selector).
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(selector) = selector.as_object() else {
        return false;
    };
    !selector.is_empty()
        && selector
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
}

/// Whether a container runs a prometheus-adapter image.
pub(super) fn is_adapter_container(container: &Value) -> bool {
    container["image"]
        .as_str()
        .and_then(|image| image.parse::<crate::values::Image>().ok())
        .is_some_and(|image| image.repository().contains("prometheus-adapter"))
}

fn adapter_container(deployment: &Value) -> Option<usize> {
    deployment
        .pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .position(is_adapter_container)
}

/// Sorts the objects into parts. Two Deployments behind the
/// `custom.metrics.k8s.io` APIService (or, without one, two adapter
/// Deployments) are two installations: an error.
pub(super) fn survey(
    objects: &[Object],
    files: &[(String, Vec<u8>)],
) -> Result<Survey, ImportError> {
    let mut survey = Survey::default();
    for (index, object) in objects.iter().enumerate() {
        let value = &object.value;
        match object.kind() {
            "HorizontalPodAutoscaler" => {
                let pods = value["spec"]["metrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|metric| metric["type"] == "Pods");
                if pods {
                    survey.hpas.push(index);
                }
            }
            "ScaledObject" => survey.scaled_objects.push(index),
            "ServiceMonitor" | "PodMonitor" => survey.monitors.push(index),
            "TriggerAuthentication" => survey.trigger_authentications.push(index),
            "RoleBinding" if object.name() == crate::rbac::PROMETHEUS_ROLE_NAME => {
                survey.prometheus_bindings.push(index)
            }
            "Role" if object.name() == crate::rbac::PROMETHEUS_ROLE_NAME => {
                survey.prometheus_roles.push(index)
            }
            _ => {}
        }
    }
    survey.adapter = find_adapter(objects, files)?;
    Ok(survey)
}

fn find_adapter(
    objects: &[Object],
    files: &[(String, Vec<u8>)],
) -> Result<Option<Adapter>, ImportError> {
    let of_kind = |kind: &'static str| {
        objects
            .iter()
            .enumerate()
            .filter(move |(_, object)| object.kind() == kind)
    };
    // The APIService serving custom metrics names the Service; its selector
    // finds the Deployment.
    let api_service = of_kind("APIService")
        .find(|(_, object)| text(&object.value, "/spec/group") == Some(CUSTOM_GROUP))
        .map(|(index, _)| index);
    let service = api_service.and_then(|index| {
        let value = &objects[index].value;
        let (name, namespace) = (
            text(value, "/spec/service/name")?,
            text(value, "/spec/service/namespace")?,
        );
        of_kind("Service")
            .find(|(_, object)| object.name() == name && object.namespace() == Some(namespace))
            .map(|(index, _)| index)
    });
    let mut deployments: Vec<usize> = match service {
        Some(service) => {
            let selector = &objects[service].value["spec"]["selector"];
            let namespace = objects[service].namespace();
            of_kind("Deployment")
                .filter(|(_, object)| {
                    object.namespace() == namespace
                        && selects(
                            selector,
                            &object.value["spec"]["template"]["metadata"]["labels"],
                        )
                })
                .map(|(index, _)| index)
                .collect()
        }
        None => Vec::new(),
    };
    if deployments.is_empty() {
        deployments = of_kind("Deployment")
            .filter(|(_, object)| adapter_container(&object.value).is_some())
            .map(|(index, _)| index)
            .collect();
    }
    let Some(&deployment) = deployments.first() else {
        return Ok(None);
    };
    if let Some(&second) = deployments.get(1) {
        return Err(ImportError::SecondAdapter {
            at: Box::new(locate(files, &objects[second], &[])),
            object: objects[second].display(),
            first: Box::new(locate(files, &objects[deployment], &[])),
            first_object: objects[deployment].display(),
        });
    }
    let value = &objects[deployment].value;
    let namespace = objects[deployment].namespace();
    let container = adapter_container(value).unwrap_or(0);
    let pod = &value["spec"]["template"]["spec"];
    // The ConfigMap mounted where --config points (else the first one).
    let config_path = pod["containers"][container]["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|arg| arg.trim_start_matches('-').strip_prefix("config="))
        .unwrap_or("/etc/adapter/config.yaml");
    let mounted_at = |volume: &str| {
        pod["containers"][container]["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|mount| mount["name"] == volume)
            .and_then(|mount| mount["mountPath"].as_str())
            .map(|path| path.trim_end_matches('/').to_owned())
    };
    let volumes: Vec<&Value> = pod["volumes"].as_array().into_iter().flatten().collect();
    let config_volume = volumes
        .iter()
        .filter(|volume| volume["configMap"]["name"].is_string())
        .find(|volume| {
            volume["name"]
                .as_str()
                .and_then(mounted_at)
                .is_some_and(|dir| config_path.starts_with(&format!("{dir}/")))
        })
        .or_else(|| {
            volumes
                .iter()
                .find(|volume| volume["configMap"]["name"].is_string())
        });
    let config_map = config_volume.and_then(|volume| {
        let name = volume["configMap"]["name"].as_str()?;
        of_kind("ConfigMap")
            .find(|(_, object)| object.name() == name && object.namespace() == namespace)
            .map(|(index, _)| index)
    });
    let account = pod["serviceAccountName"].as_str().unwrap_or("default");
    let is_adapter_subject = |subject: &Value| {
        subject["kind"] == "ServiceAccount"
            && subject["name"] == account
            && subject["namespace"].as_str() == namespace
    };
    let server_resources = of_kind("ClusterRole")
        .find(|(_, object)| {
            object.value["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|rule| {
                    rule["apiGroups"]
                        .as_array()
                        .is_some_and(|groups| groups.iter().any(|group| group == CUSTOM_GROUP))
                })
        })
        .map(|(index, _)| index);
    let bindings = objects
        .iter()
        .enumerate()
        .filter(|(_, object)| matches!(object.kind(), "ClusterRoleBinding" | "RoleBinding"))
        .filter(|(_, object)| {
            let binds_adapter = object.value["subjects"]
                .as_array()
                .is_some_and(|subjects| subjects.iter().any(is_adapter_subject));
            let grants_metrics = server_resources.is_some_and(|role| {
                object.value["roleRef"]["kind"] == "ClusterRole"
                    && object.value["roleRef"]["name"].as_str() == Some(objects[role].name())
            });
            binds_adapter || grants_metrics
        })
        .map(|(index, _)| index)
        .collect();
    let secrets: Vec<&str> = volumes
        .iter()
        .filter_map(|volume| volume["secret"]["secretName"].as_str())
        .collect();
    let certificate = of_kind("Certificate")
        .find(|(_, object)| {
            object.namespace() == namespace
                && text(&object.value, "/spec/secretName")
                    .is_some_and(|secret| secrets.contains(&secret))
        })
        .map(|(index, _)| index);
    Ok(Some(Adapter {
        deployment,
        container,
        service,
        api_service,
        config_map,
        bindings,
        server_resources,
        certificate,
    }))
}
