//! The inverse of the builders: each spec field read back from the object
//! and field the generator writes it to. The result is a full candidate
//! spec (every field the input shows), which `import` then checks by
//! generating from it and trims to what differs from the preset.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::read::{join, Object};
use super::survey::{Survey, CUSTOM_GROUP};
use crate::config::Config;
use crate::spec::{Backend, Preset};

/// Where a spec field came from: the input object and its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Source {
    /// `Kind namespace/name`.
    pub(super) object: String,
    /// The field path in the object.
    pub(super) field: String,
}

/// A spec under construction: a YAML-shaped value, and for each spec path
/// (as [`SpecError::field`](crate::spec::SpecError) names it) its source.
#[derive(Clone, Debug, Default)]
pub(super) struct Candidate {
    pub(super) spec: Map<String, Value>,
    pub(super) sources: BTreeMap<String, Source>,
    /// The keda backend: each app's query, from which its metric is found
    /// once the rules are known.
    pub(super) keda_queries: Vec<String>,
}

impl Candidate {
    /// Sets `path` (keys; `[i]` steps are written into a key as `apps[0]`
    /// by the caller through [`Candidate::app`]) to `value`.
    fn set(&mut self, path: &[&str], value: Value, source: Option<(&Object, &str)>) {
        let (last, parents) = path.split_last().expect("a non-empty path");
        let mut map = &mut self.spec;
        for key in parents {
            let entry = map
                .entry((*key).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            map = entry.as_object_mut().expect("just made an object");
        }
        map.insert((*last).to_owned(), value);
        if let Some((object, field)) = source {
            self.sources.insert(
                path.join("."),
                Source {
                    object: object.display(),
                    field: field.to_owned(),
                },
            );
        }
    }

    /// Sets `path` to the string at `field` of `object`, when there is one,
    /// with that field as its source: the field is read where the source
    /// says, so the two cannot disagree.
    fn copy_str(&mut self, path: &[&str], object: &Object, field: &str) {
        if let Some(text) = field_at(&object.value, field).as_str() {
            self.set(path, json!(text), Some((object, field)));
        }
    }
}

/// The value at `field` of `value`, in the syntax sources are written in
/// (`spec.containers[0].image`, `metadata.labels["app.kubernetes.io/version"]`);
/// null when absent.
fn field_at<'v>(value: &'v Value, field: &str) -> &'v Value {
    static NULL: Value = Value::Null;
    let mut current = value;
    let mut rest = field;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[\"") {
            let Some(end) = after.find("\"]") else {
                return &NULL;
            };
            current = &current[&after[..end]];
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some((index, after)) = after.split_once(']') else {
                return &NULL;
            };
            let Ok(index) = index.parse::<usize>() else {
                return &NULL;
            };
            current = &current[index];
            rest = after;
        } else {
            let after = rest.strip_prefix('.').unwrap_or(rest);
            let end = after.find(['.', '[']).unwrap_or(after.len());
            current = &current[&after[..end]];
            rest = &after[end..];
        }
    }
    current
}

fn non_empty(value: &Value) -> Option<&Value> {
    match value {
        Value::Null => None,
        Value::Object(map) if map.is_empty() => None,
        Value::Array(items) if items.is_empty() => None,
        other => Some(other),
    }
}

/// Labels as a map of strings.
fn label_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
        .collect()
}

fn to_value(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect(),
    )
}

/// `a` without the entries `b` has with the same value.
fn minus(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    a.iter()
        .filter(|(key, value)| b.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The full candidate for `preset`: `defaults` is that preset's resolved
/// configuration, which decides how labels seen on every object split
/// between the spec's label fields.
pub(super) fn candidate(
    objects: &[Object],
    survey: &Survey,
    preset: Preset,
    defaults: &Config,
) -> Candidate {
    let mut candidate = Candidate::default();
    candidate.set(&["preset"], json!(preset.as_str()), None);
    if let Some(adapter) = &survey.adapter {
        adapter_fields(objects, adapter, defaults, &mut candidate);
    }
    let keda = survey.hpas.is_empty() && !survey.scaled_objects.is_empty();
    if keda {
        candidate.set(&["backend"], json!(Backend::Keda.as_str()), None);
    }
    prometheus_fields(objects, survey, &mut candidate);
    apps(objects, survey, keda, &mut candidate);
    if keda {
        keda_fields(objects, survey, &mut candidate);
    }
    candidate
}

/// The adapter's flags the generator writes from fields, and those it
/// writes with fixed values (which, given other values, are extra args).
const VALUE_FLAGS: [&str; 4] = [
    "prometheus-url",
    "metrics-relist-interval",
    "v",
    "logtostderr",
];

fn adapter_fields(
    objects: &[Object],
    adapter: &super::survey::Adapter,
    defaults: &Config,
    candidate: &mut Candidate,
) {
    let deployment = &objects[adapter.deployment];
    let value = &deployment.value;
    let pod = &value["spec"]["template"]["spec"];
    let index = adapter.container;
    let container = &pod["containers"][index];
    let container_path = format!("spec.template.spec.containers[{index}]");
    let source = |field: &str| format!("{container_path}.{field}");

    candidate.set(
        &["adapter", "name"],
        json!(deployment.name()),
        Some((deployment, "metadata.name")),
    );
    if let Some(namespace) = deployment.namespace() {
        candidate.set(
            &["adapter", "namespace"],
            json!(namespace),
            Some((deployment, "metadata.namespace")),
        );
    }
    candidate.copy_str(&["adapter", "image"], deployment, &source("image"));
    let replicas = value["spec"]["replicas"].clone();
    candidate.set(
        &["adapter", "replicas"],
        if replicas.is_null() {
            json!(1)
        } else {
            replicas
        },
        Some((deployment, "spec.replicas")),
    );

    // Arguments: everything before the first flag leads; the first value
    // of each flag the spec has a field for sets it; flags written with
    // the generator's own fixed value are consumed once; the rest is extra.
    let args: Vec<&str> = container["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let tls_mode = tls_mode(objects, adapter);
    let secure = tls_mode.is_some_and(|mode| mode != "insecure");
    let fixed: Vec<String> = [
        format!("--secure-port={}", crate::workload::SECURE_PORT),
        "--cert-dir=/tmp/cert".to_owned(),
        format!(
            "--tls-cert-file={}/tls.crt",
            crate::workload::SERVING_CERT_PATH
        ),
        format!(
            "--tls-private-key-file={}/tls.key",
            crate::workload::SERVING_CERT_PATH
        ),
        format!(
            "--config={}{}",
            crate::adapter_config::CONFIG_MOUNT_PATH,
            crate::adapter_config::CONFIG_KEY
        ),
    ]
    .into_iter()
    // Insecure mode writes --cert-dir, the others the serving Secret's files.
    .filter(|flag| {
        if flag.starts_with("--cert-dir") {
            !secure
        } else if flag.starts_with("--tls-") {
            secure
        } else {
            true
        }
    })
    .collect();
    let leading = args.iter().take_while(|arg| !arg.starts_with('-')).count();
    let mut consumed = vec![false; fixed.len()];
    let mut set_flags: Vec<&str> = Vec::new();
    let mut extra = Vec::new();
    let mut log_to_stderr = false;
    let mut position = leading;
    while position < args.len() {
        let arg = args[position];
        let field = format!("args[{position}]");
        position += 1;
        if let Some(slot) = fixed.iter().position(|flag| flag == arg) {
            if !consumed[slot] {
                consumed[slot] = true;
                continue;
            }
        }
        let flag = arg.trim_start_matches('-');
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (flag, None),
        };
        let known =
            arg.starts_with('-') && VALUE_FLAGS.contains(&name) && !set_flags.contains(&name);
        if !known {
            extra.push(json!(arg));
            continue;
        }
        let value = match (inline, name) {
            (Some(value), _) => value.to_owned(),
            (None, "logtostderr") => "true".to_owned(),
            (None, _) => match args.get(position) {
                Some(next) => {
                    position += 1;
                    (*next).to_owned()
                }
                None => {
                    extra.push(json!(arg));
                    continue;
                }
            },
        };
        let source = Some((deployment, source(&field)));
        let source = source
            .as_ref()
            .map(|(object, field)| (*object, field.as_str()));
        match name {
            "prometheus-url" => candidate.set(&["adapter", "prometheusUrl"], json!(value), source),
            "metrics-relist-interval" => {
                candidate.set(&["adapter", "metricsRelistInterval"], json!(value), source)
            }
            "v" => match value.parse::<u8>() {
                Ok(level) => candidate.set(&["adapter", "logLevel"], json!(level), source),
                Err(_) => extra.push(json!(arg)),
            },
            _ if value == "true" && inline.is_some() => log_to_stderr = true,
            _ => {
                extra.push(json!(arg));
                continue;
            }
        }
        set_flags.push(name);
    }
    candidate.set(
        &["adapter", "leadingArgs"],
        json!(args[..leading]),
        Some((deployment, &source("args"))),
    );
    candidate.set(
        &["adapter", "extraArgs"],
        Value::Array(extra),
        Some((deployment, &source("args"))),
    );
    candidate.set(
        &["adapter", "logToStderr"],
        json!(log_to_stderr),
        Some((deployment, &source("args"))),
    );

    if let Some(resources) = non_empty(&container["resources"]) {
        candidate.set(
            &["adapter", "resources"],
            resources.clone(),
            Some((deployment, &source("resources"))),
        );
    } else {
        candidate.set(
            &["adapter", "resources"],
            json!({}),
            Some((deployment, &source("resources"))),
        );
    }
    for (key, field) in [
        ("priorityClassName", "priorityClassName"),
        ("nodeSelector", "nodeSelector"),
        ("tolerations", "tolerations"),
    ] {
        let path = format!("spec.template.spec.{field}");
        match non_empty(&pod[field]) {
            Some(found) => {
                candidate.set(&["adapter", key], found.clone(), Some((deployment, &path)))
            }
            None if key == "nodeSelector" => {
                candidate.set(&["adapter", key], json!({}), Some((deployment, &path)))
            }
            None if key == "tolerations" => {
                candidate.set(&["adapter", key], json!([]), Some((deployment, &path)))
            }
            None => {}
        }
    }
    candidate.copy_str(
        &["adapter", "podTemplateName"],
        deployment,
        "spec.template.metadata.name",
    );
    for (key, field) in [
        ("livenessProbe", "livenessProbe"),
        ("readinessProbe", "readinessProbe"),
    ] {
        let probe = &container[field];
        if let Some(path) = probe["httpGet"]["path"].as_str() {
            let mut spec = Map::new();
            spec.insert("path".into(), json!(path));
            for setting in [
                "initialDelaySeconds",
                "timeoutSeconds",
                "periodSeconds",
                "failureThreshold",
            ] {
                if !probe[setting].is_null() {
                    spec.insert(setting.into(), probe[setting].clone());
                }
            }
            candidate.set(
                &["adapter", key],
                Value::Object(spec),
                Some((deployment, &source(field))),
            );
        }
    }
    let context = &container["securityContext"];
    let mut security = Map::new();
    for setting in [
        "allowPrivilegeEscalation",
        "capabilities",
        "readOnlyRootFilesystem",
        "runAsNonRoot",
        "runAsUser",
        "runAsGroup",
        "seccompProfile",
    ] {
        if !context[setting].is_null() {
            security.insert(setting.into(), context[setting].clone());
        }
    }
    candidate.set(
        &["adapter", "securityContext"],
        Value::Object(security),
        Some((deployment, &source("securityContext"))),
    );

    labels(objects, adapter, defaults, candidate);
    tls(objects, adapter, tls_mode, candidate);
    rbac(objects, adapter, candidate);
    if let Some(config_map) = adapter.config_map {
        rules(&objects[config_map], candidate);
    }
}

/// The selector, and the labels every object, the pods and the
/// Deployment carry, split between the spec's label fields.
fn labels(
    objects: &[Object],
    adapter: &super::survey::Adapter,
    defaults: &Config,
    candidate: &mut Candidate,
) {
    let deployment = &objects[adapter.deployment];
    let value = &deployment.value;
    let selector = label_map(&value["spec"]["selector"]["matchLabels"]);
    let pod = label_map(&value["spec"]["template"]["metadata"]["labels"]);
    // The labels of the other adapter objects: the Service's, else the
    // ConfigMap's, else the pods'.
    let object_labels = [adapter.service, adapter.config_map]
        .into_iter()
        .flatten()
        .map(|index| label_map(&objects[index].value["metadata"]["labels"]))
        .next()
        .unwrap_or_else(|| pod.clone());
    let own = label_map(&value["metadata"]["labels"]);
    let rest = minus(&pod, &selector);
    let at = Some((deployment, "spec.selector.matchLabels"));
    candidate.set(&["adapter", "selector"], to_value(&selector), at);
    let pod_at = Some((deployment, "spec.template.metadata.labels"));
    let (labels, pod_labels) = if own == object_labels {
        // The Deployment has every object's labels: the preset's pod labels
        // stay pod labels, the rest are the user's labels.
        let preset_pod = &defaults.adapter.pod_labels;
        let pod_labels: BTreeMap<String, String> = rest
            .iter()
            .filter(|(key, value)| preset_pod.get(*key) == Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        (minus(&rest, &pod_labels), pod_labels)
    } else {
        // Labels of its own: those shared with the pods are the user's labels.
        let labels: BTreeMap<String, String> = rest
            .iter()
            .filter(|(key, value)| own.get(*key) == Some(*value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        candidate.set(
            &["adapter", "deploymentLabels"],
            to_value(&minus(&own, &labels)),
            Some((deployment, "metadata.labels")),
        );
        let pod_labels = minus(&rest, &labels);
        (labels, pod_labels)
    };
    candidate.set(&["adapter", "labels"], to_value(&labels), pod_at);
    candidate.set(&["adapter", "podLabels"], to_value(&pod_labels), pod_at);
    candidate.set(
        &["adapter", "objectLabels"],
        to_value(&minus(&object_labels, &pod)),
        Some((deployment, "metadata.labels")),
    );
}

/// `insecure`, `caBundle` or `certManager`, from the APIService.
fn tls_mode(objects: &[Object], adapter: &super::survey::Adapter) -> Option<&'static str> {
    let api = &objects[adapter.api_service?].value;
    if api["metadata"]["annotations"][crate::tls::INJECT_CA_FROM].is_string() {
        Some("certManager")
    } else if api["spec"]["caBundle"].is_string() {
        Some("caBundle")
    } else {
        Some("insecure")
    }
}

fn tls(
    objects: &[Object],
    adapter: &super::survey::Adapter,
    mode: Option<&str>,
    candidate: &mut Candidate,
) {
    let Some(mode) = mode else { return };
    let api_index = adapter
        .api_service
        .expect("a mode comes from the APIService");
    let api = &objects[api_index];
    let mut tls = Map::new();
    tls.insert("mode".into(), json!(mode));
    let deployment = &objects[adapter.deployment];
    let volumes = &deployment.value["spec"]["template"]["spec"]["volumes"];
    if let Some(secret) = volumes
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|volume| volume["secret"]["secretName"].as_str())
    {
        tls.insert("secretName".into(), json!(secret));
    }
    if mode == "caBundle" {
        if let Some(pem) = api.value["spec"]["caBundle"]
            .as_str()
            .and_then(base64_decode)
        {
            tls.insert("caBundle".into(), json!(pem));
        }
    }
    if let Some(certificate) = adapter.certificate {
        let issuer = &objects[certificate].value["spec"]["issuerRef"];
        let name = issuer["name"].as_str().unwrap_or("");
        let kind = issuer["kind"].as_str().unwrap_or("Issuer");
        // The generator's own self-signed Issuer is no issuerRef.
        let own = kind == "Issuer"
            && objects.iter().any(|object| {
                object.kind() == "Issuer"
                    && object.name() == name
                    && object.value["spec"]["selfSigned"].is_object()
            });
        if !own && !name.is_empty() {
            tls.insert("issuerRef".into(), json!({"name": name, "kind": kind}));
        }
    }
    candidate.set(&["adapter", "tls"], Value::Object(tls), Some((api, "spec")));
}

/// Minimal standard base64 (the APIService's `caBundle`), to text.
fn base64_decode(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|byte| !byte.is_ascii_whitespace()) {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The RBAC objects' common name prefix, and who may read the metrics.
fn rbac(objects: &[Object], adapter: &super::survey::Adapter, candidate: &mut Candidate) {
    const SUFFIXES: [&str; 5] = [
        "-system-auth-delegator",
        "-resource-reader",
        "-auth-reader",
        "-hpa-controller",
        "-server-resources",
    ];
    let names = adapter
        .bindings
        .iter()
        .chain(adapter.server_resources.iter())
        .map(|&index| objects[index].name());
    let mut prefixes: Vec<(usize, String)> = Vec::new();
    for name in names {
        if let Some(prefix) = SUFFIXES.iter().find_map(|suffix| name.strip_suffix(suffix)) {
            match prefixes.iter_mut().find(|(_, known)| known == prefix) {
                Some((count, _)) => *count += 1,
                None => prefixes.push((1, prefix.to_owned())),
            }
        }
    }
    if let Some((_, prefix)) = prefixes.iter().max_by_key(|(count, _)| *count) {
        let source = adapter
            .bindings
            .first()
            .map(|&index| (&objects[index], "metadata.name"));
        candidate.set(&["adapter", "rbacNamePrefix"], json!(prefix), source);
    }
    let Some(role) = adapter.server_resources else {
        return;
    };
    let role_object = &objects[role];
    let verbs: Vec<Value> = role_object.value["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rule| {
            rule["apiGroups"]
                .as_array()
                .is_some_and(|groups| groups.iter().any(|group| group == CUSTOM_GROUP))
        })
        .flat_map(|rule| rule["verbs"].as_array().cloned().unwrap_or_default())
        .collect();
    let deployment = &objects[adapter.deployment];
    let account = deployment.value["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default");
    let subject = adapter
        .bindings
        .iter()
        .map(|&index| &objects[index].value)
        .find(|binding| binding["roleRef"]["name"].as_str() == Some(role_object.name()))
        .and_then(|binding| binding["subjects"].get(0).cloned());
    let subject = match subject {
        Some(subject)
            if subject["name"] == account
                && subject["namespace"].as_str() == deployment.namespace() =>
        {
            json!("adapter")
        }
        Some(subject) => {
            json!({"serviceAccount": {"name": subject["name"], "namespace": subject["namespace"]}})
        }
        None => return,
    };
    candidate.set(
        &["adapter", "metricsReader"],
        json!({"verbs": verbs, "subject": subject}),
        Some((role_object, "rules")),
    );
}

/// `rules` and `resourceRules` from the adapter's `config.yaml` (an
/// unreadable one is left to the comparison to report).
fn rules(config_map: &Object, candidate: &mut Candidate) {
    let Some(text) = config_map.value["data"][crate::adapter_config::CONFIG_KEY].as_str() else {
        return;
    };
    let Ok(config) = crate::spec::read_yaml::<Value>(text, &config_map.origin) else {
        return;
    };
    let field = join("data", crate::adapter_config::CONFIG_KEY);
    for key in ["rules", "resourceRules"] {
        if let Some(section) = non_empty(&config[key]) {
            candidate.set(
                &[key],
                section.clone(),
                Some((config_map, &format!("{field} {key}"))),
            );
        }
    }
    if config["rules"].as_array().is_none_or(Vec::is_empty) {
        // The spec's rules replace the preset's only when given.
        candidate.set(
            &["rules"],
            json!([]),
            Some((config_map, &format!("{field} rules"))),
        );
    }
    if non_empty(&config["resourceRules"]).is_none() {
        candidate.spec.remove("resourceRules");
    }
}

/// Prometheus from kube-prometheus' Role items, the monitors' labels and
/// the adapter's (or KEDA's) Prometheus URL: which stack, where.
fn prometheus_fields(objects: &[Object], survey: &Survey, candidate: &mut Candidate) {
    let mut namespaces: Vec<Value> = Vec::new();
    for &index in survey
        .prometheus_bindings
        .iter()
        .chain(&survey.prometheus_roles)
    {
        if let Some(namespace) = objects[index].namespace() {
            if !namespaces.iter().any(|known| known == namespace) {
                namespaces.push(json!(namespace));
            }
        }
    }
    let roles = !namespaces.is_empty();
    if let Some(&binding) = survey.prometheus_bindings.first() {
        let object = &objects[binding];
        candidate.copy_str(
            &["prometheus", "serviceAccount"],
            object,
            "subjects[0].name",
        );
        candidate.copy_str(
            &["prometheus", "namespace"],
            object,
            "subjects[0].namespace",
        );
    }
    if let Some(&first) = survey
        .prometheus_bindings
        .first()
        .or(survey.prometheus_roles.first())
    {
        let object = &objects[first];
        candidate.copy_str(
            &["prometheus", "version"],
            object,
            &format!("metadata.labels[\"{}\"]", crate::labels::VERSION),
        );
        candidate.set(
            &["prometheus", "namespaces"],
            Value::Array(namespaces),
            Some((object, "metadata.namespace")),
        );
    }
    // The labels monitors carry beyond the generator's own.
    let own = [crate::labels::NAME, crate::labels::MANAGED_BY];
    let mut selectors: BTreeMap<&str, (BTreeMap<String, String>, &Object)> = BTreeMap::new();
    for &index in &survey.monitors {
        let object = &objects[index];
        let mut labels = label_map(&object.value["metadata"]["labels"]);
        labels.retain(|key, _| !own.contains(&key.as_str()));
        let key = if object.kind() == "PodMonitor" {
            "podMonitorSelector"
        } else {
            "serviceMonitorSelector"
        };
        selectors.entry(key).or_insert((labels, object));
    }
    let release = selectors
        .values()
        .find_map(|(labels, _)| labels.get("release").cloned());
    let url = objects.iter().find_map(prometheus_url).unwrap_or_default();
    let stack = if roles {
        "kube-prometheus"
    } else if release.is_some() || url.contains("-prometheus.") {
        "kube-prometheus-stack"
    } else if !survey.hpas.is_empty() || !survey.scaled_objects.is_empty() {
        "operator"
    } else {
        "kube-prometheus"
    };
    candidate.set(&["prometheus", "stack"], json!(stack), None);
    // Prometheus' namespace from the URL's service host, `<service>.<namespace>.svc`.
    let host_namespace = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .and_then(|host| {
            let mut parts = host.split('.');
            let service = parts.next()?;
            let namespace = parts.next()?;
            Some((service.to_owned(), namespace.to_owned()))
        });
    if stack != "kube-prometheus" {
        if let Some((service, namespace)) = &host_namespace {
            candidate.set(&["prometheus", "namespace"], json!(namespace), None);
            if stack == "kube-prometheus-stack" {
                let release = release
                    .clone()
                    .unwrap_or_else(|| crate::stack::DEFAULT_RELEASE.to_owned());
                candidate.set(&["prometheus", "release"], json!(release), None);
                if let Some(fullname) = service.strip_suffix("-prometheus") {
                    if fullname != crate::stack::chart_fullname(&release, None, None) {
                        candidate.set(&["prometheus", "fullnameOverride"], json!(fullname), None);
                    }
                }
            }
        }
        for (key, (labels, object)) in &selectors {
            let keep = !(stack == "kube-prometheus-stack"
                && labels.len() == 1
                && release
                    .as_ref()
                    .is_some_and(|release| labels.get("release") == Some(release)));
            if keep {
                candidate.set(
                    &["prometheus", key],
                    json!({"matchLabels": to_value(labels)}),
                    Some((object, "metadata.labels")),
                );
            }
        }
    } else {
        for (key, (labels, object)) in &selectors {
            if !labels.is_empty() {
                candidate.set(
                    &["prometheus", key],
                    json!({"matchLabels": to_value(labels)}),
                    Some((object, "metadata.labels")),
                );
            }
        }
    }
    // The scrape interval of the first monitor stands for Prometheus'.
    if let Some(interval) = survey
        .monitors
        .first()
        .and_then(|&index| endpoint(&objects[index])["interval"].as_str())
    {
        candidate.set(&["prometheus", "scrapeInterval"], json!(interval), None);
    }
}

/// The Prometheus URL an adapter Deployment or a ScaledObject uses.
fn prometheus_url(object: &Object) -> Option<String> {
    match object.kind() {
        "ScaledObject" => object.value["spec"]["triggers"][0]["metadata"]["serverAddress"]
            .as_str()
            .map(str::to_owned),
        "Deployment" => object.value["spec"]["template"]["spec"]["containers"]
            .as_array()?
            .iter()
            .filter(|container| super::survey::is_adapter_container(container))
            .flat_map(|container| container["args"].as_array().cloned().unwrap_or_default())
            .find_map(|arg| {
                arg.as_str()?
                    .trim_start_matches('-')
                    .strip_prefix("prometheus-url=")
                    .map(str::to_owned)
            }),
        _ => None,
    }
}

/// A monitor's first endpoint.
fn endpoint(object: &Object) -> &Value {
    let list = if object.kind() == "PodMonitor" {
        "podMetricsEndpoints"
    } else {
        "endpoints"
    };
    &object.value["spec"][list][0]
}

/// One app per HPA (or ScaledObject), with its monitor: the one of the
/// same name and namespace, else of the Deployment's name.
fn apps(objects: &[Object], survey: &Survey, keda: bool, candidate: &mut Candidate) {
    let scalers = if keda {
        &survey.scaled_objects
    } else {
        &survey.hpas
    };
    let mut apps = Vec::new();
    let mut used_monitors = Vec::new();
    for (position, &index) in scalers.iter().enumerate() {
        let object = &objects[index];
        let spec = &object.value["spec"];
        let mut app = Map::new();
        let path = |key: &str| format!("apps[{position}].{key}");
        let mut source = |key: &str, field: &str| {
            candidate.sources.insert(
                path(key),
                Source {
                    object: object.display(),
                    field: field.to_owned(),
                },
            );
        };
        app.insert("name".into(), json!(object.name()));
        source("name", "metadata.name");
        app.insert(
            "namespace".into(),
            json!(object.namespace().unwrap_or("default")),
        );
        let deployment = spec["scaleTargetRef"]["name"]
            .as_str()
            .unwrap_or(object.name());
        app.insert("deployment".into(), json!(deployment));
        source("deployment", "spec.scaleTargetRef.name");
        if keda {
            let trigger = &spec["triggers"][0];
            let query = trigger["metadata"]["query"].as_str().unwrap_or("");
            candidate.keda_queries.push(query.to_owned());
            app.insert(
                "targetAverageValue".into(),
                trigger["metadata"]["threshold"].clone(),
            );
            source("targetAverageValue", "spec.triggers[0].metadata.threshold");
            app.insert(
                "minReplicas".into(),
                non_null(&spec["minReplicaCount"], json!(0)),
            );
            source("minReplicas", "spec.minReplicaCount");
            app.insert("maxReplicas".into(), spec["maxReplicaCount"].clone());
            source("maxReplicas", "spec.maxReplicaCount");
            if let Some(behavior) =
                non_empty(&spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"])
            {
                app.insert("behavior".into(), behavior.clone());
                source(
                    "behavior",
                    "spec.advanced.horizontalPodAutoscalerConfig.behavior",
                );
            }
        } else {
            let (slot, metric) = spec["metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .find(|(_, metric)| metric["type"] == "Pods")
                .expect("surveyed HPAs have a Pods metric");
            app.insert("metric".into(), metric["pods"]["metric"]["name"].clone());
            source("metric", &format!("spec.metrics[{slot}].pods.metric.name"));
            app.insert(
                "targetAverageValue".into(),
                metric["pods"]["target"]["averageValue"].clone(),
            );
            source(
                "targetAverageValue",
                &format!("spec.metrics[{slot}].pods.target.averageValue"),
            );
            app.insert(
                "minReplicas".into(),
                non_null(&spec["minReplicas"], json!(1)),
            );
            source("minReplicas", "spec.minReplicas");
            app.insert("maxReplicas".into(), spec["maxReplicas"].clone());
            source("maxReplicas", "spec.maxReplicas");
            if let Some(behavior) = non_empty(&spec["behavior"]) {
                app.insert("behavior".into(), behavior.clone());
                source("behavior", "spec.behavior");
            }
        }
        let monitor = survey
            .monitors
            .iter()
            .copied()
            .filter(|candidate| !used_monitors.contains(candidate))
            .find(|&candidate| {
                let monitor = &objects[candidate];
                monitor.namespace() == object.namespace() && monitor.name() == object.name()
            })
            .or_else(|| {
                survey.monitors.iter().copied().find(|&candidate| {
                    let monitor = &objects[candidate];
                    !used_monitors.contains(&candidate)
                        && monitor.namespace() == object.namespace()
                        && monitor.name() == deployment
                })
            });
        if let Some(monitor) = monitor {
            used_monitors.push(monitor);
            let monitor = &objects[monitor];
            let kind = if monitor.kind() == "PodMonitor" {
                "podMonitor"
            } else {
                "serviceMonitor"
            };
            app.insert("monitor".into(), json!(kind));
            let endpoint = endpoint(monitor);
            let list = if kind == "podMonitor" {
                "podMetricsEndpoints"
            } else {
                "endpoints"
            };
            let selector = &monitor.value["spec"]["selector"]["matchLabels"];
            if selector.is_object() {
                app.insert("selector".into(), selector.clone());
            }
            for (key, field) in [("port", "port"), ("path", "path"), ("interval", "interval")] {
                if let Some(found) = endpoint[field].as_str() {
                    app.insert(key.into(), json!(found));
                    candidate.sources.insert(
                        path(key),
                        Source {
                            object: monitor.display(),
                            field: format!("spec.{list}[0].{field}"),
                        },
                    );
                }
            }
        }
        apps.push(Value::Object(app));
    }
    if !apps.is_empty() {
        candidate.spec.insert("apps".into(), Value::Array(apps));
    }
}

fn non_null(value: &Value, default: Value) -> Value {
    if value.is_null() {
        default
    } else {
        value.clone()
    }
}

/// The KEDA settings: fallback, authentication, and the Prometheus URL
/// (the adapter's field, which the keda backend reads).
fn keda_fields(objects: &[Object], survey: &Survey, candidate: &mut Candidate) {
    let Some(&first) = survey.scaled_objects.first() else {
        return;
    };
    let object = &objects[first];
    let spec = &object.value["spec"];
    let trigger = &spec["triggers"][0];
    candidate.copy_str(
        &["adapter", "prometheusUrl"],
        object,
        "spec.triggers[0].metadata.serverAddress",
    );
    let fallback = &spec["fallback"];
    let mut settings = Map::new();
    if !fallback["failureThreshold"].is_null() {
        settings.insert(
            "failureThreshold".into(),
            fallback["failureThreshold"].clone(),
        );
    }
    if !fallback["behavior"].is_null() {
        settings.insert("behavior".into(), fallback["behavior"].clone());
    }
    // One fallback for every app: kept within each app's bounds, so the
    // first app whose fallback is not its maximum tells it.
    let replicas = survey.scaled_objects.iter().find_map(|&index| {
        let spec = &objects[index].value["spec"];
        let replicas = spec["fallback"]["replicas"].as_u64()?;
        (Some(replicas) != spec["maxReplicaCount"].as_u64()).then_some(replicas)
    });
    if let Some(replicas) = replicas {
        settings.insert("replicas".into(), json!(replicas));
    }
    if !settings.is_empty() {
        candidate.set(
            &["keda", "fallback"],
            Value::Object(settings),
            Some((object, "spec.fallback")),
        );
    }
    if let Some(name) = trigger["authenticationRef"]["name"].as_str() {
        let modes: Vec<Value> = trigger["metadata"]["authModes"]
            .as_str()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|mode| !mode.is_empty())
            .map(|mode| json!(mode))
            .collect();
        let authentication = survey
            .trigger_authentications
            .iter()
            .map(|&index| &objects[index])
            .find(|auth| auth.name() == name && auth.namespace() == object.namespace());
        let references: Vec<&Value> = authentication
            .map(|auth| {
                auth.value["spec"]["secretTargetRef"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .collect()
            })
            .unwrap_or_default();
        let secret = references
            .first()
            .and_then(|reference| reference["name"].as_str())
            .unwrap_or(name);
        let ca = references
            .iter()
            .any(|reference| reference["parameter"] == "ca");
        let mut settings = Map::new();
        settings.insert("secretName".into(), json!(secret));
        if secret != name {
            settings.insert("name".into(), json!(name));
        }
        settings.insert("modes".into(), Value::Array(modes));
        if ca {
            settings.insert("ca".into(), json!(true));
        }
        candidate.set(
            &["keda", "authentication"],
            Value::Object(settings),
            Some((object, "spec.triggers[0].authenticationRef")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path syntax a source is written in reads its value.
    #[test]
    fn field_at_reads_the_source_syntax() {
        let value = json!({
            "spec": {"containers": [{"image": "a"}, {"image": "b"}]},
            "metadata": {"labels": {"app.kubernetes.io/version": "2.5"}},
        });
        assert_eq!(field_at(&value, "spec.containers[1].image"), "b");
        assert_eq!(
            field_at(&value, "metadata.labels[\"app.kubernetes.io/version\"]"),
            "2.5"
        );
        for absent in [
            "spec.containers[2].image",
            "spec.x",
            "spec.containers[x]",
            "a[\"b",
        ] {
            assert!(field_at(&value, absent).is_null(), "{absent}");
        }
    }
}
