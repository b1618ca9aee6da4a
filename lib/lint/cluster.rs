//! Checks across objects: APIServices, NetworkPolicies, names that two
//! applied sets both define.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::model::{arguments, image_of, is_adapter_image, selects, Object, Pod};
use super::workload::flag_value;
use super::{Check, Hint, Lint, Severity, Stack};

/// insecure-tls.
pub(super) fn check_api_service(object: &Object<'_>, lint: &mut Lint) {
    if object.kind != "APIService"
        || object.value["spec"]["insecureSkipTLSVerify"].as_bool() != Some(true)
    {
        return;
    }
    lint.push(
        object,
        Check::InsecureTls,
        Severity::Warning,
        "spec.insecureSkipTLSVerify",
        "the API server does not verify the adapter's certificate: anyone who can take over the Service \
         feeds metrics to every HPA",
        "set adapter.tls.mode to caBundle (with the CA's PEM) or certManager, which set spec.caBundle",
    );
}

/// Names kube-prometheus' own prometheus-adapter (the resource metrics
/// API) uses, in `monitoring`, `kube-system` or cluster-wide.
fn kube_prometheus_name(object: &Object<'_>) -> bool {
    if matches!(object.namespace, Some(namespace) if namespace != "monitoring" && namespace != "kube-system")
    {
        return false;
    }
    let name = object.name;
    name == "prometheus-adapter"
        || name.starts_with("resource-metrics-")
        || name.starts_with("resource-metrics:")
        || (object.kind == "APIService" && name == "v1beta1.metrics.k8s.io")
        || (object.kind == "ConfigMap"
            && name == "adapter-config"
            && object.namespace == Some("monitoring"))
}

/// Whether the object is kube-prometheus' own (its manifests label every
/// object `app.kubernetes.io/part-of: kube-prometheus`).
fn part_of_kube_prometheus(object: &Object<'_>) -> bool {
    object.value["metadata"]["labels"]["app.kubernetes.io/part-of"].as_str()
        == Some("kube-prometheus")
}

/// The API group of an `apiVersion` (`apps/v1` -> `apps`, `v1` -> ``).
fn group<'a>(object: &Object<'a>) -> &'a str {
    object.value["apiVersion"]
        .as_str()
        .and_then(|version| version.rsplit_once('/'))
        .map_or("", |(group, _)| group)
}

/// What name-collision needs to know of the whole input before it checks
/// the first object: whether kube-prometheus' own objects are in it.
#[derive(Default)]
pub(super) struct NamesIndex {
    kube_prometheus_in_input: bool,
}

impl NamesIndex {
    pub(super) fn observe(&mut self, object: &Object<'_>) {
        self.kube_prometheus_in_input |= part_of_kube_prometheus(object);
    }
}

/// name-collision, one object at a time in input order: an object defined
/// twice in what is applied together (error), an object kube-prometheus
/// also defines when the stack is kube-prometheus (error), or named like
/// kube-prometheus' adapter without that context (info).
pub(super) struct NameCheck {
    /// The first object of each identity (API group, kind, namespace,
    /// name; as a digest): its origin (in `origins`) and a digest of its
    /// content. 40 bytes an object: the objects themselves are not held.
    first: HashMap<u128, (usize, u128)>,
    origins: Vec<String>,
    stack: Option<Stack>,
    kube_prometheus_in_input: bool,
}

impl NameCheck {
    pub(super) fn new(index: &NamesIndex, stack: Option<Stack>) -> Self {
        NameCheck {
            first: HashMap::new(),
            origins: Vec::new(),
            stack,
            kube_prometheus_in_input: index.kube_prometheus_in_input,
        }
    }

    pub(super) fn check(&mut self, object: &Object<'_>, lint: &mut Lint) {
        if !object.kind.is_empty() && !object.name.is_empty() {
            self.check_twice(object, lint);
        }
        self.check_kube_prometheus(object, lint);
    }

    fn check_twice(&mut self, object: &Object<'_>, lint: &mut Lint) {
        let key = digest(&serde_json::json!([
            group(object),
            object.kind,
            object.namespace,
            object.name
        ]));
        let content = digest(object.value);
        match self.first.get(&key) {
            // The same object twice, byte for byte, changes nothing.
            Some(&(origin, earlier)) if earlier != content => lint.push(
                object,
                Check::NameCollision,
                Severity::Error,
                "metadata.name",
                format!(
                    "{} is also defined in {} with other content; applying both, the later replaces the earlier",
                    object.display(),
                    self.origins[origin]
                ),
                "keep one definition, or give one of them another name",
            ),
            Some(_) => {}
            None => {
                // Objects come file by file: the origin is the last one or new.
                if self.origins.last().map(String::as_str) != Some(object.origin) {
                    self.origins.push(object.origin.to_owned());
                }
                self.first.insert(key, (self.origins.len() - 1, content));
            }
        }
    }

    fn check_kube_prometheus(&self, object: &Object<'_>, lint: &mut Lint) {
        if object.kind.is_empty()
            || !kube_prometheus_name(object)
            || part_of_kube_prometheus(object)
        {
            return;
        }
        let what = if object.kind == "APIService" {
            "kube-prometheus' prometheus-adapter serves this APIService (CPU and memory for kubectl top and \
             resource HPAs); only one provider can hold it"
                .to_owned()
        } else {
            format!(
                "kube-prometheus' own prometheus-adapter has an object named `{}`",
                object.name
            )
        };
        let in_context = self.stack == Some(Stack::KubePrometheus) || self.kube_prometheus_in_input;
        let (severity, message) = if in_context {
            (
                Severity::Error,
                format!("{what}; applied next to kube-prometheus, one replaces the other and the resource metrics API breaks"),
            )
        } else {
            (
                Severity::Info,
                format!("{what}; this collides only if kube-prometheus is installed too"),
            )
        };
        lint.push(
            object,
            Check::NameCollision,
            severity,
            "metadata.name",
            message,
            "give the custom metrics adapter its own names, such as custom-metrics-adapter, and serve only v1beta1.custom.metrics.k8s.io",
        );
        if !in_context {
            lint.hint(Hint::Stack(Stack::KubePrometheus));
        }
    }
}

/// A 128-bit digest of a value, equal for equal values (`Value`'s `==`:
/// maps by key, `0.0` and `-0.0` alike) and different for different ones
/// but with a chance of 2^-128.
fn digest(value: &Value) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut hashers = [
        std::collections::hash_map::DefaultHasher::new(),
        std::collections::hash_map::DefaultHasher::new(),
    ];
    // Two hashers made different by a first byte.
    1u8.hash(&mut hashers[1]);
    for hasher in &mut hashers {
        hash_value(value, hasher);
    }
    (u128::from(hashers[0].finish()) << 64) | u128::from(hashers[1].finish())
}

fn hash_value(value: &Value, hasher: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(flag) => (1u8, flag).hash(hasher),
        Value::Number(number) => {
            // serde_json keeps a number as u64, i64 (negative) or f64, and
            // compares them as such.
            if let Some(unsigned) = number.as_u64() {
                (2u8, unsigned).hash(hasher);
            } else if let Some(signed) = number.as_i64() {
                (3u8, signed).hash(hasher);
            } else {
                let float = number.as_f64().unwrap_or(0.0);
                (4u8, if float == 0.0 { 0 } else { float.to_bits() }).hash(hasher);
            }
        }
        Value::String(text) => (5u8, text).hash(hasher),
        Value::Array(items) => {
            (6u8, items.len()).hash(hasher);
            for item in items {
                hash_value(item, hasher);
            }
        }
        Value::Object(map) => {
            (7u8, map.len()).hash(hasher);
            for (key, item) in map {
                key.hash(hasher);
                hash_value(item, hasher);
            }
        }
    }
}

/// kube-prometheus' NetworkPolicy `prometheus-k8s` (release-0.14), for
/// `--stack kube-prometheus` when the input has no NetworkPolicy.
static KUBE_PROMETHEUS_POLICY: LazyLock<Value> = LazyLock::new(|| {
    serde_saphyr::from_str(include_str!("kube-prometheus-networkPolicy.yaml"))
        .expect("the embedded NetworkPolicy is YAML")
});

/// The labels of kube-prometheus' Prometheus pods (its Service's selector).
fn kube_prometheus_prometheus_labels() -> Value {
    KUBE_PROMETHEUS_POLICY["spec"]["podSelector"]["matchLabels"].clone()
}

/// Service name and namespace of an in-cluster URL's host
/// (`name.namespace.svc...`, `name.namespace`, `name`).
fn service_of<'a>(
    url: &'a str,
    default_namespace: &'a str,
) -> Option<(&'a str, &'a str, Option<u16>)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port.parse().ok()?)),
        None => (host_port, None),
    };
    let port = port.or(if url.starts_with("https") {
        Some(443)
    } else {
        Some(80)
    });
    let parts: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    match parts.as_slice() {
        [name] => Some((name, default_namespace, port)),
        [name, namespace] => Some((name, namespace, port)),
        [name, namespace, "svc", ..] => Some((name, namespace, port)),
        _ => None,
    }
}

/// The labels of a namespace: its Namespace object's, plus the automatic
/// `kubernetes.io/metadata.name`.
fn namespace_labels(objects: &[Object<'_>], namespace: &str) -> Value {
    let mut labels = objects
        .iter()
        .find(|object| object.kind == "Namespace" && object.name == namespace)
        .map(|object| object.value["metadata"]["labels"].clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Default::default()));
    labels["kubernetes.io/metadata.name"] = Value::String(namespace.to_owned());
    labels
}

/// Whether a policy isolates the pods it selects for ingress.
fn isolates_ingress(policy: &Value) -> bool {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) => types.iter().any(|t| t.as_str() == Some("Ingress")),
        None => true,
    }
}

/// Whether one ingress rule admits a client pod to `port`; `None` when
/// the rule needs facts the input does not have (namespace labels).
fn rule_admits(
    rule: &Value,
    policy_namespace: &str,
    client_labels: &Value,
    client_namespace: &str,
    client_namespace_labels: &Value,
    port: Option<u16>,
) -> Option<bool> {
    let ports_ok = match rule["ports"].as_array() {
        None => true,
        Some(ports) if ports.is_empty() => true,
        Some(ports) => ports.iter().any(|entry| match &entry["port"] {
            Value::Null => true,
            // A named port: the Service maps it, assume it is the one.
            Value::String(_) => true,
            Value::Number(number) => port.is_none() || number.as_u64() == port.map(u64::from),
            _ => false,
        }),
    };
    if !ports_ok {
        return Some(false);
    }
    let Some(peers) = rule["from"].as_array() else {
        return Some(true);
    };
    if peers.is_empty() {
        return Some(true);
    }
    let mut unknown = false;
    for peer in peers {
        if peer.get("ipBlock").is_some() {
            unknown = true;
            continue;
        }
        let pod_selector = peer.get("podSelector");
        let namespace_selector = peer.get("namespaceSelector");
        let namespace_ok = match namespace_selector {
            None => Some(client_namespace == policy_namespace),
            Some(selector) => {
                // Unknown namespace labels: a selector on anything but the
                // automatic name label cannot be judged.
                let known = selector["matchLabels"].as_object().is_none_or(|map| {
                    map.keys()
                        .all(|key| client_namespace_labels.get(key).is_some())
                }) && selector["matchExpressions"].is_null();
                match selects(selector, client_namespace_labels) {
                    Some(true) => Some(true),
                    Some(false) if known => Some(false),
                    _ => None,
                }
            }
        };
        let pod_ok = match pod_selector {
            None => Some(true),
            Some(selector) => selects(selector, client_labels),
        };
        match (namespace_ok, pod_ok) {
            (Some(true), Some(true)) => return Some(true),
            (Some(false), _) | (_, Some(false)) => {}
            _ => unknown = true,
        }
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

/// network-policy: each adapter's Prometheus, and whether the
/// NetworkPolicies that isolate Prometheus' pods admit the adapter pods.
pub(super) fn check_network_policies(
    objects: &[Object<'_>],
    pods: &[Pod<'_>],
    stack: Option<Stack>,
    lint: &mut Lint,
) {
    let input_policies: Vec<(&str, &Value, String)> = objects
        .iter()
        .filter(|object| object.kind == "NetworkPolicy")
        .map(|object| {
            (
                object.namespace.unwrap_or("default"),
                object.value,
                object.display(),
            )
        })
        .collect();
    // kube-prometheus ships its policy; kube-prometheus-stack's is off by
    // default (`prometheus.networkPolicy.enabled: false`), the operator has none.
    let ships_policy = stack.is_some_and(|stack| crate::stack::network_policy(stack).is_some());
    let policies = if input_policies.is_empty() && ships_policy {
        vec![(
            "monitoring",
            &*KUBE_PROMETHEUS_POLICY,
            "kube-prometheus' NetworkPolicy monitoring/prometheus-k8s".to_owned(),
        )]
    } else {
        input_policies
    };
    if policies.is_empty() {
        return;
    }
    for pod in pods {
        let adapter_namespace = pod.object.namespace.unwrap_or("default");
        for (path, container) in pod.containers() {
            if !image_of(container).is_some_and(|image| is_adapter_image(&image)) {
                continue;
            }
            let args = arguments(container, &path);
            let Some((_, url)) = flag_value(&args, "--prometheus-url") else {
                continue;
            };
            let Some((service, namespace, port)) = service_of(url, adapter_namespace) else {
                continue;
            };
            let selector = objects
                .iter()
                .find(|object| {
                    object.kind == "Service"
                        && object.name == service
                        && object.namespace.unwrap_or("default") == namespace
                })
                .map(|object| object.value["spec"]["selector"].clone());
            let prometheus_labels = match selector {
                Some(selector) if selector.is_object() => selector,
                Some(_) => continue,
                // kube-prometheus' Service, and the operator's governing
                // Service over the same pods.
                None if service == "prometheus-k8s" || service == "prometheus-operated" => {
                    kube_prometheus_prometheus_labels()
                }
                None => continue,
            };
            let guarding: Vec<&(&str, &Value, String)> = policies
                .iter()
                .filter(|(policy_namespace, policy, _)| {
                    *policy_namespace == namespace
                        && isolates_ingress(policy)
                        && selects(&policy["spec"]["podSelector"], &prometheus_labels) == Some(true)
                })
                .collect();
            if guarding.is_empty() {
                continue;
            }
            let client_namespace_labels = namespace_labels(objects, adapter_namespace);
            let mut verdict = Some(false);
            for (policy_namespace, policy, _) in &guarding {
                for rule in policy["spec"]["ingress"].as_array().into_iter().flatten() {
                    match rule_admits(
                        rule,
                        policy_namespace,
                        pod.labels,
                        adapter_namespace,
                        &client_namespace_labels,
                        port,
                    ) {
                        Some(true) => verdict = Some(true),
                        None if verdict == Some(false) => verdict = None,
                        _ => {}
                    }
                }
            }
            if verdict != Some(false) {
                continue;
            }
            let names: Vec<&str> = guarding.iter().map(|(_, _, name)| name.as_str()).collect();
            lint.push(
                pod.object,
                Check::NetworkPolicy,
                Severity::Warning,
                pod.labels_path,
                format!(
                    "{} isolates Prometheus' pods behind {service}.{namespace} and admits no pod with these labels \
                     from namespace {adapter_namespace}, so the adapter's queries time out (\"dial tcp ...: i/o timeout\")",
                    names.join(", ")
                ),
                "add an ingress rule admitting the adapter pods (podSelector app.kubernetes.io/name: prometheus-adapter) to Prometheus' port, or label the pods as the policy expects",
            );
        }
    }
}
