//! `--out-dir`, `check` and `--out-dir --check`: what a GitOps pipeline uses.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Objects in order, List kinds expanded into their items (kustomize
/// expands them too).
fn objects(yaml: &str) -> Vec<Value> {
    let documents: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap();
    let mut out = Vec::new();
    for document in documents.into_iter().filter(|d| !d.is_null()) {
        match document["items"].as_array() {
            Some(items) if document["kind"].as_str().unwrap().ends_with("List") => {
                out.extend(items.iter().cloned())
            }
            _ => out.push(document),
        }
    }
    out
}

fn snapshot_of_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn kubectl_kustomize_on_out_dir_equals_the_single_file_output() {
    let kubectl = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    assert!(
        kubectl.is_ok_and(|o| o.status.success()),
        "kubectl is required for this test: install it (e.g. apt-get install kubectl, or the binary from dl.k8s.io)"
    );
    let mut cases: Vec<Vec<String>> = vec![vec![], vec!["--preset".into(), "recommended".into()]];
    for entry in std::fs::read_dir(Path::new(ROOT).join("fixtures/specs")).unwrap() {
        cases.push(vec![
            "-c".into(),
            entry.unwrap().path().display().to_string(),
        ]);
    }
    for args in cases {
        let dir = scratch_dir("kustomize");
        let mut with_dir = args.clone();
        with_dir.extend(["--out-dir".into(), dir.display().to_string()]);
        let args_ref: Vec<&str> = with_dir.iter().map(String::as_str).collect();
        assert!(gen_manifests(&args_ref).status.success(), "{args:?}");
        // `--reorder legacy` is what `kubectl apply -k` passes: no warning
        // that the order is set twice.
        let kustomized = Command::new("kubectl")
            .args(["kustomize", "--reorder", "legacy"])
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&kustomized.stderr);
        assert!(kustomized.status.success(), "{stderr}");
        assert!(!stderr.contains("Sorting order"), "{stderr}");
        let single = gen_manifests(&args.iter().map(String::as_str).collect::<Vec<_>>());
        // The same objects; kustomize applies its own (legacy) order.
        let sorted = |yaml: &str| {
            let mut objects: Vec<String> = objects(yaml).iter().map(Value::to_string).collect();
            objects.sort();
            objects
        };
        assert_eq!(
            sorted(&String::from_utf8(kustomized.stdout).unwrap()),
            sorted(&String::from_utf8(single.stdout).unwrap()),
            "{args:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn out_dir_removes_only_files_it_wrote_and_check_reports_drift() {
    let dir = scratch_dir("stale");
    let d = dir.to_str().unwrap();
    std::fs::write(dir.join("notes.yaml"), "mine: true\n").unwrap();
    assert!(
        gen_manifests(&["-c", "fixtures/specs/custom-rules.yaml", "--out-dir", d])
            .status
            .success()
    );
    assert!(dir.join("horizontalpodautoscaler-worker.yaml").exists());
    assert_eq!(
        gen_manifests(&[
            "-c",
            "fixtures/specs/custom-rules.yaml",
            "--out-dir",
            d,
            "--check"
        ])
        .status
        .code(),
        Some(0)
    );

    // A different spec: the apps' files are stale now.
    let check = gen_manifests(&[
        "-c",
        "fixtures/specs/recommended-app.yaml",
        "--out-dir",
        d,
        "--check",
    ]);
    assert_eq!(check.status.code(), Some(1));
    let report = String::from_utf8(check.stdout).unwrap();
    assert!(
        report.contains("remove ") && report.contains("horizontalpodautoscaler-worker.yaml"),
        "{report}"
    );
    assert!(
        dir.join("horizontalpodautoscaler-worker.yaml").exists(),
        "--check writes nothing"
    );

    assert!(
        gen_manifests(&["-c", "fixtures/specs/recommended-app.yaml", "--out-dir", d])
            .status
            .success()
    );
    assert!(!dir.join("horizontalpodautoscaler-worker.yaml").exists());
    assert!(dir.join("horizontalpodautoscaler-fastapi.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.yaml")).unwrap(),
        "mine: true\n",
        "the user's file is untouched"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn out_dir_refuses_to_overwrite_a_file_it_did_not_write() {
    let dir = scratch_dir("foreign");
    let d = dir.to_str().unwrap();
    std::fs::write(
        dir.join("serviceaccount-custom-metrics-prometheus-adapter.yaml"),
        "hand: written\n",
    )
    .unwrap();
    let before = snapshot_of_dir(&dir);
    let output = gen_manifests(&["--preset", "documented", "--out-dir", d]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("was not written by gen-manifests"));
    assert_eq!(snapshot_of_dir(&dir), before, "nothing written");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn out_dir_failure_midway_leaves_previous_outputs_intact() {
    let dir = scratch_dir("midway");
    let d = dir.to_str().unwrap();
    assert!(gen_manifests(&["--preset", "documented", "--out-dir", d])
        .status
        .success());
    // A later target that cannot be written: a directory in its place. Every
    // file would change (labels), none may.
    std::fs::remove_file(dir.join("service-custom-metrics-prometheus-adapter.yaml")).unwrap();
    std::fs::create_dir(dir.join("service-custom-metrics-prometheus-adapter.yaml")).unwrap();
    let before = snapshot_of_dir(&dir);
    let output = gen_manifests(&[
        "-c",
        "fixtures/specs/documented-overrides.yaml",
        "--out-dir",
        d,
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        snapshot_of_dir(&dir),
        before,
        "no file changed, no temporary file left"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_exits_0_1_2() {
    let dir = scratch_dir("check");
    let file = dir.join("custom-metrics.yaml");
    let f = file.to_str().unwrap();
    assert!(gen_manifests(&["--preset", "documented", "-o", f])
        .status
        .success());
    assert_eq!(
        gen_manifests(&["check", f, "--preset", "documented"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        gen_manifests(&["check", f]).status.code(),
        Some(1),
        "not the default"
    );

    let stale = gen_manifests(&["check", f, "-c", "fixtures/specs/documented-overrides.yaml"]);
    assert_eq!(stale.status.code(), Some(1));
    let report = String::from_utf8(stale.stdout)
        .unwrap()
        .replace(f, "custom-metrics.yaml");
    settings().bind(|| insta::assert_snapshot!("check-stale-report", report));

    let missing = gen_manifests(&["check", dir.join("nope.yaml").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    let bad_spec = gen_manifests(&["check", f, "-c", "fixtures/bad/unknown-top-key.yaml"]);
    assert_eq!(bad_spec.status.code(), Some(2));

    // JSON output is checked as JSON.
    let json = dir.join("list.json");
    assert!(
        gen_manifests(&["--format", "json", "-o", json.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(
        gen_manifests(&["check", json.to_str().unwrap(), "--format", "json"])
            .status
            .code(),
        Some(0)
    );
    std::fs::remove_dir_all(dir).unwrap();
}
