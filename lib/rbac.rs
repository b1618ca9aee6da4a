//! RBAC: the adapter's ServiceAccount, ClusterRoles and bindings, and the
//! `prometheus-k8s` Role and RoleBinding that let kube-prometheus'
//! Prometheus discover pods in an app namespace (the guide's step 3).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use crate::config::{Adapter, Prometheus};
use crate::meta::{self, adapter_cluster_meta, adapter_meta, object_meta};
use crate::spec::ReaderSubject;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The adapter's ServiceAccount.
pub fn service_account(adapter: &Adapter) -> ServiceAccount {
    ServiceAccount {
        metadata: adapter_meta(adapter, adapter.name.as_str()),
        ..ServiceAccount::default()
    }
}

fn adapter_subject(adapter: &Adapter) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: adapter.name.to_string(),
        namespace: Some(adapter.namespace.to_string()),
        ..Subject::default()
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: meta::versioned(RBAC_GROUP.to_owned()),
        kind: kind.into(),
        name: name.into(),
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

fn prefixed(adapter: &Adapter, suffix: &str) -> String {
    format!("{}-{suffix}", adapter.rbac_name_prefix)
}

/// Lets the adapter delegate authentication and authorization to the API
/// server (`system:auth-delegator`).
pub fn auth_delegator_binding(adapter: &Adapter) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: adapter_cluster_meta(adapter, &prefixed(adapter, "system-auth-delegator")),
        role_ref: role_ref("ClusterRole", "system:auth-delegator"),
        subjects: Some(vec![adapter_subject(adapter)]),
    }
}

/// What the adapter reads to map series to objects.
pub fn resource_reader_role(adapter: &Adapter) -> ClusterRole {
    ClusterRole {
        metadata: adapter_cluster_meta(adapter, &prefixed(adapter, "resource-reader")),
        rules: Some(vec![rule(
            &[""],
            &["namespaces", "pods", "services", "configmaps"],
            &["get", "list", "watch"],
        )]),
        ..ClusterRole::default()
    }
}

/// Binds [`resource_reader_role`] to the adapter.
pub fn resource_reader_binding(adapter: &Adapter) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: adapter_cluster_meta(adapter, &prefixed(adapter, "resource-reader")),
        role_ref: role_ref("ClusterRole", &prefixed(adapter, "resource-reader")),
        subjects: Some(vec![adapter_subject(adapter)]),
    }
}

/// Lets the adapter read the API server's client-CA configuration in kube-system.
pub fn auth_reader_binding(adapter: &Adapter) -> RoleBinding {
    RoleBinding {
        metadata: object_meta(
            &prefixed(adapter, "auth-reader"),
            Some("kube-system"),
            meta::adapter_labels(adapter),
        ),
        role_ref: role_ref("Role", "extension-apiserver-authentication-reader"),
        subjects: Some(vec![adapter_subject(adapter)]),
    }
}

/// Read access to `custom.metrics.k8s.io`.
pub fn server_resources_role(adapter: &Adapter) -> ClusterRole {
    let verbs: Vec<&str> = adapter
        .metrics_reader
        .verbs
        .iter()
        .map(String::as_str)
        .collect();
    ClusterRole {
        metadata: adapter_cluster_meta(adapter, &prefixed(adapter, "server-resources")),
        rules: Some(vec![rule(&["custom.metrics.k8s.io"], &["*"], &verbs)]),
        ..ClusterRole::default()
    }
}

/// Binds [`server_resources_role`] to the metrics reader: the guide binds
/// the adapter's own ServiceAccount (kept in the documented preset); the
/// recommended preset binds the HPA controller, which actually reads the
/// metrics, as prometheus-adapter's Helm chart does.
pub fn hpa_controller_binding(adapter: &Adapter) -> ClusterRoleBinding {
    let subject = match &adapter.metrics_reader.subject {
        ReaderSubject::Adapter => adapter_subject(adapter),
        ReaderSubject::ServiceAccount { name, namespace } => Subject {
            kind: "ServiceAccount".into(),
            name: name.to_string(),
            namespace: Some(namespace.to_string()),
            ..Subject::default()
        },
    };
    ClusterRoleBinding {
        metadata: adapter_cluster_meta(adapter, &prefixed(adapter, "hpa-controller")),
        role_ref: role_ref("ClusterRole", &prefixed(adapter, "server-resources")),
        subjects: Some(vec![subject]),
    }
}

/// The name kube-prometheus gives Prometheus' Role and RoleBinding.
pub const PROMETHEUS_ROLE_NAME: &str = "prometheus-k8s";

/// kube-prometheus' labels on Prometheus' RBAC objects.
pub fn prometheus_labels(prometheus: &Prometheus) -> BTreeMap<String, String> {
    meta::labels([
        (meta::COMPONENT, "prometheus"),
        (meta::INSTANCE, "k8s"),
        (meta::NAME, "prometheus"),
        (meta::PART_OF, "kube-prometheus"),
        (meta::VERSION, prometheus.version.as_str()),
    ])
}

/// The `prometheus-k8s` Role in `namespace`, as the guide appends it to
/// kube-prometheus' `prometheus-roleSpecificNamespaces.yaml`.
pub fn prometheus_role(prometheus: &Prometheus, namespace: &str) -> Role {
    let verbs = ["get", "list", "watch"];
    Role {
        metadata: object_meta(
            PROMETHEUS_ROLE_NAME,
            Some(namespace),
            prometheus_labels(prometheus),
        ),
        rules: Some(vec![
            rule(&[""], &["services", "endpoints", "pods"], &verbs),
            rule(&["extensions"], &["ingresses"], &verbs),
            rule(&["networking.k8s.io"], &["ingresses"], &verbs),
        ]),
    }
}

/// The `prometheus-k8s` RoleBinding in `namespace`, binding the Role to
/// Prometheus' ServiceAccount.
pub fn prometheus_role_binding(prometheus: &Prometheus, namespace: &str) -> RoleBinding {
    RoleBinding {
        metadata: object_meta(
            PROMETHEUS_ROLE_NAME,
            Some(namespace),
            prometheus_labels(prometheus),
        ),
        role_ref: role_ref("Role", PROMETHEUS_ROLE_NAME),
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: prometheus.service_account.to_string(),
            namespace: Some(prometheus.namespace.to_string()),
            ..Subject::default()
        }]),
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{rbac, Prometheus};

        let prometheus = Prometheus::kube_prometheus(None);
        let role = rbac::prometheus_role(&prometheus, "my-app");
        assert_eq!(role.metadata.namespace.as_deref(), Some("my-app"));
        assert_eq!(
            role.rules.unwrap()[0].resources.as_ref().unwrap()[1],
            "endpoints"
        );
    }
}
