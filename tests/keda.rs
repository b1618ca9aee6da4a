//! The KEDA backend and the migration plan, through the CLI: adoption
//! invariants over every fixture spec, and snapshots of `migrate`.

mod common;

use common::{gen_manifests, settings, stdout};

/// Every ScaledObject adopts exactly the HPA the adapter backend makes for
/// the same spec: same name, same namespace, same Deployment, same bounds.
#[test]
fn every_scaled_object_adopts_the_adapter_backends_hpa() {
    let mut checked = 0;
    for entry in std::fs::read_dir(format!("{}/fixtures/specs", common::ROOT)).unwrap() {
        let path = entry.unwrap().path();
        let spec = path.to_str().unwrap();
        let items = |backend: &str| -> Vec<serde_json::Value> {
            let output = gen_manifests(&["-c", spec, "--backend", backend, "--format", "json"]);
            let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
            list["items"].as_array().unwrap().clone()
        };
        let hpas: Vec<_> = items("adapter")
            .into_iter()
            .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
            .collect();
        let keda = items("keda");
        assert!(keda
            .iter()
            .all(|o| o["kind"] != "Deployment" && o["kind"] != "APIService"));
        let scaled: Vec<_> = keda
            .into_iter()
            .filter(|o| o["kind"] == "ScaledObject")
            .collect();
        assert_eq!(hpas.len(), scaled.len(), "{spec}");
        for (hpa, so) in hpas.iter().zip(&scaled) {
            let adopted = &so["spec"]["advanced"]["horizontalPodAutoscalerConfig"];
            assert_eq!(adopted["name"], hpa["metadata"]["name"], "{spec}");
            assert_eq!(
                so["metadata"]["annotations"]["scaledobject.keda.sh/transfer-hpa-ownership"],
                "true"
            );
            assert_eq!(so["metadata"]["namespace"], hpa["metadata"]["namespace"]);
            assert_eq!(
                so["spec"]["scaleTargetRef"]["name"],
                hpa["spec"]["scaleTargetRef"]["name"]
            );
            assert_eq!(so["spec"]["minReplicaCount"], hpa["spec"]["minReplicas"]);
            assert_eq!(so["spec"]["maxReplicaCount"], hpa["spec"]["maxReplicas"]);
            assert_eq!(adopted.get("behavior"), hpa["spec"].get("behavior"));
            let trigger = &so["spec"]["triggers"][0];
            assert_eq!(trigger["type"], "prometheus");
            assert_eq!(trigger["metricType"], "AverageValue");
            assert_eq!(trigger["metadata"]["ignoreNullValues"], "false");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} apps checked");
}

#[test]
fn migrate_from_the_spec_and_from_installed_manifests() {
    settings().bind(|| {
        let plan = gen_manifests(&["migrate", "-c", "examples/fastapi/spec.yaml"]);
        insta::assert_snapshot!("migrate-fastapi-spec", stdout(&plan));
        let plan = gen_manifests(&[
            "migrate",
            "-c",
            "examples/fastapi/spec.yaml",
            "fixtures/custom-metrics.yaml",
            "fixtures/lint/kube-prometheus-adapter.yaml",
        ]);
        insta::assert_snapshot!("migrate-guide-and-kube-prometheus", stdout(&plan));
    });
}

#[test]
fn migrate_bad_input_exits_2_with_the_place() {
    let output = gen_manifests(&[
        "migrate",
        "-c",
        "examples/fastapi/spec.yaml",
        "fixtures/bad/malformed-yaml.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: fixtures/bad/malformed-yaml.yaml:"),
        "{stderr}"
    );
    let output = gen_manifests(&["migrate", "-c", "fixtures/bad/keda-ca-without-mode.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let output = gen_manifests(&["migrate", "no-such-file.yaml"]);
    assert_eq!(output.status.code(), Some(2));
}
