//! `migrate`: the ordered steps, with their `kubectl` commands, that carry
//! an installation from prometheus-adapter to KEDA without a gap: install
//! KEDA, apply the ScaledObjects (which adopt the HPAs), verify each HPA
//! reads KEDA's external metric, then delete the adapter bundle by name,
//! its APIService first, leaving kube-prometheus' resource-metrics adapter
//! (`v1beta1.metrics.k8s.io`) alone.
//!
//! The bundle is read from the current manifests when given, else it is
//! what the spec generates with the adapter backend. Text comes from the
//! handlebars template `lib/templates/migrate.hbs`.
//!
//! ```
//! use custom_metrics_manifests::{migrate, Config, Documents, Spec};
//!
//! let spec = Spec::from_yaml(
//!     "preset: recommended\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
//!     "spec.yaml",
//! ).unwrap();
//! let config = Config::from_spec(spec, "spec.yaml").unwrap();
//! let plan = migrate::plan(&config, "-c spec.yaml", &Documents::default());
//! assert_eq!(plan.delete[0].kind, "apiservice");
//! assert!(migrate::render_text(&plan).contains("external.metrics.k8s.io/v1beta1/namespaces/shop/s0-prometheus"));
//! ```

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::documents::Documents;
use crate::render::Manifest;
use crate::spec::Backend;

/// API groups an adapter serves that KEDA replaces (custom) or takes over
/// (external: one provider per group).
const REPLACED_GROUPS: [&str; 2] = ["custom.metrics.k8s.io", "external.metrics.k8s.io"];

/// The whole plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// How the spec was given on the command line, for the commands shown.
    pub spec_args: String,
    /// The file the KEDA manifests are written to.
    pub keda_file: String,
    /// How many apps.
    pub app_count: usize,
    /// One entry per app.
    pub apps: Vec<AppStep>,
    /// Objects to delete, in order.
    pub delete: Vec<ObjectRef>,
    /// Objects of another adapter (kube-prometheus' resource metrics) that stay.
    pub kept: Vec<String>,
}

/// One app's ScaledObject and the HPA it adopts.
#[derive(Clone, Debug, Serialize)]
pub struct AppStep {
    /// ScaledObject name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// The adopted HPA.
    pub hpa: String,
}

/// An object to delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// `kubectl` resource name (lower-case kind).
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Namespace, for namespaced objects.
    pub namespace: Option<String>,
}

/// The plan for `config`; `current` are the documents of the installed
/// manifests (origin, object), or empty to take the spec's adapter bundle.
pub fn plan(config: &Config, spec_args: &str, current: &Documents) -> Plan {
    let current = &current.0;
    let (delete, kept) = if current.is_empty() {
        (spec_bundle(config), Vec::new())
    } else {
        from_documents(current)
    };
    Plan {
        spec_args: spec_args.to_owned(),
        keda_file: "keda.yaml".to_owned(),
        app_count: config.apps.len(),
        apps: config
            .apps
            .iter()
            .map(|app| AppStep {
                name: app.name.to_string(),
                namespace: app.namespace.to_string(),
                // The adapter backend names each HPA after its app.
                hpa: app.name.to_string(),
            })
            .collect(),
        delete,
        kept,
    }
}

/// The adapter bundle the spec generates: every object but the apps' and
/// Prometheus' Role items, APIService first, then in reverse apply order.
fn spec_bundle(config: &Config) -> Vec<ObjectRef> {
    let mut adapter = config.clone();
    adapter.backend = Backend::Adapter;
    adapter.apps.clear();
    adapter.prometheus.namespaces.clear();
    let manifests = crate::render::manifests(&adapter);
    let reference = |manifest: &Manifest| ObjectRef {
        kind: manifest.kind().to_ascii_lowercase(),
        name: manifest.name().to_owned(),
        namespace: manifest.namespace().map(str::to_owned),
    };
    let (api_services, rest): (Vec<&Manifest>, Vec<&Manifest>) = manifests
        .iter()
        .partition(|manifest| matches!(manifest, Manifest::APIService(_)));
    api_services
        .into_iter()
        .chain(rest.into_iter().rev())
        .map(reference)
        .collect()
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
}

fn object_ref(object: &Value) -> ObjectRef {
    ObjectRef {
        kind: text(object, &["kind"]).unwrap_or("").to_ascii_lowercase(),
        name: text(object, &["metadata", "name"]).unwrap_or("").to_owned(),
        namespace: text(object, &["metadata", "namespace"]).map(str::to_owned),
    }
}

/// The objects of the adapter(s) serving the replaced groups, found by
/// following references from their APIServices: Service, the Deployment
/// selecting... its pods, the Deployment's ServiceAccount, ConfigMaps and
/// TLS Secrets' issuers, the bindings of that ServiceAccount and the
/// ClusterRoles only they use, bindings granting the metrics API, PDBs.
fn from_documents(documents: &[(String, Value)]) -> (Vec<ObjectRef>, Vec<String>) {
    let objects: Vec<&Value> = documents.iter().map(|(_, object)| object).collect();
    let kind = |object: &Value| text(object, &["kind"]).unwrap_or("").to_owned();
    let name = |object: &Value| text(object, &["metadata", "name"]).unwrap_or("").to_owned();
    let namespace = |object: &Value| text(object, &["metadata", "namespace"]).map(str::to_owned);
    let mut delete: Vec<ObjectRef> = Vec::new();
    let mut kept = Vec::new();
    let mut services: BTreeSet<(String, String)> = BTreeSet::new();
    for object in &objects {
        if kind(object) != "APIService" {
            continue;
        }
        let group = text(object, &["spec", "group"]).unwrap_or("");
        if REPLACED_GROUPS.contains(&group) {
            delete.push(object_ref(object));
            if let (Some(service), Some(ns)) = (
                text(object, &["spec", "service", "name"]),
                text(object, &["spec", "service", "namespace"]),
            ) {
                services.insert((ns.to_owned(), service.to_owned()));
            }
        } else {
            kept.push(format!("APIService {} (group {group})", name(object)));
        }
    }
    // Services, then the Deployments whose pods they select.
    let mut selectors = Vec::new();
    for object in &objects {
        let key = (namespace(object).unwrap_or_default(), name(object));
        if kind(object) == "Service" && services.contains(&key) {
            delete.push(object_ref(object));
            if let Some(selector) = object.pointer("/spec/selector").and_then(Value::as_object) {
                selectors.push((key.0.clone(), selector.clone()));
            }
        }
    }
    let selects = |ns: &str, labels: Option<&serde_json::Map<String, Value>>| {
        let Some(labels) = labels else { return false };
        selectors.iter().any(|(selector_ns, selector)| {
            selector_ns == ns
                && !selector.is_empty()
                && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
    };
    let mut accounts: BTreeSet<(String, String)> = BTreeSet::new();
    let mut config_maps: BTreeSet<(String, String)> = BTreeSet::new();
    let mut secrets: BTreeSet<(String, String)> = BTreeSet::new();
    for object in &objects {
        let ns = namespace(object).unwrap_or_default();
        let pod_labels = object
            .pointer("/spec/template/metadata/labels")
            .and_then(Value::as_object);
        if kind(object) == "Deployment" && selects(&ns, pod_labels) {
            delete.push(object_ref(object));
            let pod = object.pointer("/spec/template/spec");
            let account = pod
                .and_then(|pod| text(pod, &["serviceAccountName"]))
                .unwrap_or("default");
            accounts.insert((ns.clone(), account.to_owned()));
            for volume in pod
                .and_then(|pod| pod.get("volumes"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(map) = text(volume, &["configMap", "name"]) {
                    config_maps.insert((ns.clone(), map.to_owned()));
                }
                if let Some(secret) = text(volume, &["secret", "secretName"]) {
                    secrets.insert((ns.clone(), secret.to_owned()));
                }
            }
        }
    }
    for object in &objects {
        let key = (namespace(object).unwrap_or_default(), name(object));
        let matched = match kind(object).as_str() {
            "ServiceAccount" => accounts.contains(&key),
            "ConfigMap" => config_maps.contains(&key),
            "Certificate" => text(object, &["spec", "secretName"])
                .is_some_and(|secret| secrets.contains(&(key.0.clone(), secret.to_owned()))),
            "PodDisruptionBudget" => selects(
                &key.0,
                object
                    .pointer("/spec/selector/matchLabels")
                    .and_then(Value::as_object),
            ),
            _ => false,
        };
        if matched {
            delete.push(object_ref(object));
        }
    }
    // ClusterRoles that grant only the replaced groups (the HPA controller's
    // access to them) go; bindings go with the adapter's ServiceAccount or
    // with a deleted ClusterRole; other ClusterRoles go when only deleted
    // bindings use them.
    let metrics_only = |object: &Value| {
        let rules = object.get("rules").and_then(Value::as_array);
        rules.is_some_and(|rules| {
            !rules.is_empty()
                && rules.iter().all(|rule| {
                    rule.get("apiGroups")
                        .and_then(Value::as_array)
                        .is_some_and(|groups| {
                            groups
                                .iter()
                                .all(|g| g.as_str().is_some_and(|g| REPLACED_GROUPS.contains(&g)))
                        })
                })
        })
    };
    let mut deleted_roles: BTreeSet<String> = objects
        .iter()
        .filter(|object| kind(object) == "ClusterRole" && metrics_only(object))
        .map(|object| name(object))
        .collect();
    let binds_adapter = |object: &Value| {
        object
            .get("subjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|subject| {
                text(subject, &["kind"]) == Some("ServiceAccount")
                    && accounts.contains(&(
                        text(subject, &["namespace"]).unwrap_or("").to_owned(),
                        text(subject, &["name"]).unwrap_or("").to_owned(),
                    ))
            })
    };
    let mut kept_roles: BTreeSet<String> = BTreeSet::new();
    let mut bindings = Vec::new();
    for object in &objects {
        if !matches!(kind(object).as_str(), "ClusterRoleBinding" | "RoleBinding") {
            continue;
        }
        let role = text(object, &["roleRef", "name"]).unwrap_or("").to_owned();
        if binds_adapter(object) || deleted_roles.contains(&role) {
            bindings.push(object_ref(object));
            deleted_roles.insert(role);
        } else {
            kept_roles.insert(role);
        }
    }
    delete.extend(bindings);
    for object in &objects {
        let role = name(object);
        if kind(object) == "ClusterRole"
            && deleted_roles.contains(&role)
            && !kept_roles.contains(&role)
        {
            delete.push(object_ref(object));
        }
    }
    let mut seen = BTreeSet::new();
    delete.retain(|object| {
        seen.insert((
            object.kind.clone(),
            object.name.clone(),
            object.namespace.clone(),
        ))
    });
    (delete, kept)
}

/// The plan as text.
pub fn render_text(plan: &Plan) -> String {
    let mut registry = handlebars::Handlebars::new();
    registry.register_escape_fn(handlebars::no_escape);
    registry.set_strict_mode(false);
    registry
        .register_template_string("migrate", include_str!("templates/migrate.hbs"))
        .expect("the migrate template parses");
    registry
        .render("migrate", plan)
        .expect("the migrate template renders its own data")
}
