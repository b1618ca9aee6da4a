//! Properties a snapshot cannot show.

use custom_metrics_manifests::{generate, Config, Labels, OutputFormat, Preset, Spec};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn objects(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).unwrap()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects.iter().find(|o| o["kind"] == kind).unwrap()
}

fn emitted_checksum(yaml: &str) -> (String, String) {
    let objects = objects(yaml);
    let config = find(&objects, "ConfigMap")["data"]["config.yaml"]
        .as_str()
        .unwrap()
        .to_owned();
    let checksum = find(&objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
        ["checksum/config"]
        .as_str()
        .unwrap()
        .to_owned();
    (config, checksum)
}

#[test]
fn rendering_twice_is_byte_identical() {
    for preset in Preset::ALL {
        for format in [OutputFormat::Yaml, OutputFormat::Json] {
            assert_eq!(
                generate(&Config::from_preset(preset), format),
                generate(&Config::from_preset(preset), format)
            );
        }
    }
}

#[test]
fn checksum_is_sha256_of_the_emitted_config_yaml() {
    for preset in Preset::ALL {
        let (config, checksum) =
            emitted_checksum(&generate(&Config::from_preset(preset), OutputFormat::Yaml));
        let expected: String = Sha256::digest(config.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(checksum, expected, "{preset}");
        assert_eq!(
            checksum,
            Config::from_preset(preset).adapter_config().checksum()
        );
        assert!(checksum
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
}

#[test]
fn checksum_changes_when_any_rule_changes() {
    let base = Config::from_preset(Preset::Documented);
    let (_, original) = emitted_checksum(&generate(&base, OutputFormat::Yaml));

    // Each change goes through the preset's spec, as a user's would.
    let resolve = |spec: Spec| Config::from_spec(spec, "in code").unwrap();
    let mut window = Preset::Documented.spec();
    window.rules.as_mut().unwrap()[0].metrics_query =
        Some("avg(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)".into());
    let mut renamed = Preset::Documented.spec();
    renamed.rules.as_mut().unwrap()[0]
        .name
        .as_mut()
        .unwrap()
        .r#as = Some("${1}_per_second".into());
    let mut resource = Preset::Documented.spec();
    resource.resource_rules.as_mut().unwrap().window = Some("5m".parse().unwrap());

    for changed in [window, renamed, resource] {
        let (_, checksum) = emitted_checksum(&generate(&resolve(changed), OutputFormat::Yaml));
        assert_ne!(checksum, original);
    }
    // And not when something outside config.yaml changes.
    let mut relabelled = Preset::Documented.spec();
    relabelled.adapter.labels = Some(Labels::try_from_pairs([("team", "x")]).unwrap());
    let relabelled = resolve(relabelled);
    assert_eq!(
        emitted_checksum(&generate(&relabelled, OutputFormat::Yaml)).1,
        original
    );
}

#[test]
fn yaml_and_json_describe_the_same_objects() {
    for preset in Preset::ALL {
        let yaml = objects(&generate(&Config::from_preset(preset), OutputFormat::Yaml));
        let json: Value =
            serde_json::from_str(&generate(&Config::from_preset(preset), OutputFormat::Json))
                .unwrap();
        assert_eq!(json["apiVersion"], "v1");
        assert_eq!(json["kind"], "List");
        assert_eq!(json["items"].as_array().unwrap(), &yaml);
    }
}

#[test]
fn deployment_selector_selects_its_own_pods_and_not_kube_prometheus_adapter() {
    for preset in Preset::ALL {
        let objects = objects(&generate(&Config::from_preset(preset), OutputFormat::Yaml));
        let deployment = find(&objects, "Deployment");
        let selector = deployment["spec"]["selector"]["matchLabels"]
            .as_object()
            .unwrap();
        let pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .unwrap();
        for (key, value) in selector {
            assert_eq!(pod_labels.get(key), Some(value), "{preset}: selector {key}");
        }
        let service = find(&objects, "Service");
        assert_eq!(service["spec"]["selector"].as_object().unwrap(), selector);
    }
    // kube-prometheus' adapter pods carry these labels; our recommended
    // selector must not match them (it needs our instance label).
    let objects = objects(&generate(
        &Config::from_preset(Preset::Recommended),
        OutputFormat::Yaml,
    ));
    let selector = find(&objects, "Deployment")["spec"]["selector"]["matchLabels"].clone();
    let kube_prometheus_pod = serde_json::json!({
        "app.kubernetes.io/component": "metrics-adapter",
        "app.kubernetes.io/name": "prometheus-adapter",
        "app.kubernetes.io/part-of": "kube-prometheus",
    });
    let matches = selector
        .as_object()
        .unwrap()
        .iter()
        .all(|(k, v)| kube_prometheus_pod.get(k) == Some(v));
    assert!(
        !matches,
        "recommended selector would adopt kube-prometheus' adapter pods"
    );
    let pod_labels = &find(&objects, "Deployment")["spec"]["template"]["metadata"]["labels"];
    assert_eq!(
        pod_labels["app.kubernetes.io/name"], "prometheus-adapter",
        "NetworkPolicy prometheus-k8s admits it"
    );
}

#[test]
fn recommended_preset_is_hardened() {
    let yaml = generate(
        &Config::from_preset(Preset::Recommended),
        OutputFormat::Yaml,
    );
    let objects = objects(&yaml);
    let container = &find(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        !args.iter().any(|a| a.starts_with("--logtostderr")),
        "klog flags crash v0.11+"
    );
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );
    assert_eq!(
        container["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    let api_service = find(&objects, "APIService");
    assert!(api_service["spec"].get("insecureSkipTLSVerify").is_none());
    assert_eq!(
        api_service["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "monitoring/custom-metrics-adapter-serving-cert"
    );
    let certificate = find(&objects, "Certificate");
    assert_eq!(
        certificate["spec"]["secretName"],
        find(&objects, "Deployment")["spec"]["template"]["spec"]["volumes"][2]["secret"]
            ["secretName"]
    );
}
