//! The documented preset against the guide's own bundle
//! (`fixtures/custom-metrics.yaml`, verbatim): every object and every field
//! equal as YAML values, except the two deviations the preset makes on
//! purpose. This fails if any field drifts. The bundle compared is what
//! the binary prints for `--preset documented`, the one flag away from the
//! default that gives the guide's literal bundle.

use custom_metrics_manifests::{generate, Config, OutputFormat, Preset};
use serde_json::Value;

fn documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(text).expect("valid YAML stream")
}

fn fixture() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/custom-metrics.yaml"
    ))
    .unwrap()
}

fn config_yaml(object: &Value) -> Value {
    let text = object["data"]["config.yaml"]
        .as_str()
        .expect("config.yaml is a string");
    serde_saphyr::from_str(text).expect("config.yaml parses")
}

/// The guide's cpu nodeQuery repeats `by (<<.GroupBy>>)`; the preset says it once.
const GUIDE_NODE_QUERY: &str =
    "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[3m])) by (<<.GroupBy>>) by (<<.GroupBy>>)";
const FIXED_NODE_QUERY: &str =
    "sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[3m])) by (<<.GroupBy>>)";

#[test]
fn documented_preset_equals_the_guides_bundle_object_for_object() {
    let expected = documents(&fixture());
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
        .args(["--preset", "documented"])
        .output()
        .expect("gen-manifests runs");
    assert!(printed.status.success());
    let printed = String::from_utf8(printed.stdout).expect("UTF-8");
    assert_eq!(
        printed,
        generate(&Config::from_preset(Preset::Documented), OutputFormat::Yaml),
        "the binary prints the library's documented bundle"
    );
    let actual = documents(&printed);
    assert_eq!(expected.len(), 11, "the guide has 11 objects");
    assert_eq!(actual.len(), expected.len(), "object count");

    for (index, (want, got)) in expected.iter().zip(&actual).enumerate() {
        let mut want = want.clone();
        let mut got = got.clone();
        let what = format!(
            "object {index} ({} {})",
            want["kind"], want["metadata"]["name"]
        );
        if want["kind"] == "ConfigMap" {
            let mut want_config = config_yaml(&want);
            let got_config = config_yaml(&got);
            assert_eq!(
                want_config["resourceRules"]["cpu"]["nodeQuery"],
                GUIDE_NODE_QUERY
            );
            want_config["resourceRules"]["cpu"]["nodeQuery"] = FIXED_NODE_QUERY.into();
            assert_eq!(got_config, want_config, "{what}: config.yaml");
            want["data"]["config.yaml"] = Value::Null;
            got["data"]["config.yaml"] = Value::Null;
        }
        if want["kind"] == "Deployment" {
            let path = "/spec/template/metadata/annotations/checksum~1config";
            let checksum = got
                .pointer(path)
                .and_then(Value::as_str)
                .expect("checksum annotation");
            assert_eq!(checksum.len(), 64, "{what}: sha256 hex");
            assert!(want.pointer(path).is_some(), "the guide has a checksum too");
            *want.pointer_mut(path).unwrap() = Value::Null;
            *got.pointer_mut(path).unwrap() = Value::Null;
        }
        assert_eq!(got, want, "{what} differs from the guide");
    }
}

#[test]
fn the_comparison_notices_a_drifted_field() {
    // Guard against a comparison that cannot fail: change one field of the
    // generated bundle and the objects must differ.
    let spec = "preset: documented\nadapter:\n  metricsRelistInterval: 2m\n";
    let spec = custom_metrics_manifests::Spec::from_yaml(spec, "spec.yaml").unwrap();
    let config = Config::from_spec(spec, "spec.yaml").unwrap();
    let expected = documents(&fixture());
    let actual = documents(&generate(&config, OutputFormat::Yaml));
    let deployment = |docs: &[Value]| {
        docs.iter().find(|d| d["kind"] == "Deployment").unwrap()["spec"]["template"]["spec"].clone()
    };
    assert_ne!(deployment(&expected), deployment(&actual));
}
