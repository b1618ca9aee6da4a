//! kpt as the consumer: every output form is flat objects that kpt accepts
//! (it refuses a `RoleBindingList` nested in a stream or a `List`, as
//! `kubectl apply -f -` does), and `gen-manifests krm` runs as a kpt exec
//! function.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn kpt(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new("kpt")
        .args(args)
        .current_dir(ROOT)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kpt is required for this test: apt-get install google-cloud-cli-kpt");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// kpt reads `dir` as a package and passes it through `cat`: it fails
/// unless every resource is a KRM object with a name.
fn kpt_accepts_dir(dir: &Path) -> Result<(), String> {
    let output = kpt(
        &["fn", "eval", dir.to_str().unwrap(), "--exec", "cat"],
        None,
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// kpt reads a ResourceList holding `items` on standard input.
fn kpt_accepts_items(items: &Value) -> Result<(), String> {
    let list = serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": items,
    });
    let output = kpt(
        &["fn", "eval", "-", "--exec", "cat"],
        Some(list.to_string().as_bytes()),
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Every generating invocation: presets, fixture specs, `roles`, `app`.
fn generating_cases() -> Vec<Vec<String>> {
    let mut cases: Vec<Vec<String>> = vec![
        vec![],
        vec!["--preset".into(), "recommended".into()],
        vec!["-c".into(), "examples/fastapi/spec.yaml".into()],
    ];
    let mut specs: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("fixtures/specs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    specs.sort();
    for spec in specs {
        cases.push(vec!["-c".into(), spec.display().to_string()]);
    }
    cases
}

fn args(case: &[String], extra: &[&str]) -> Vec<String> {
    case.iter()
        .cloned()
        .chain(extra.iter().map(|s| s.to_string()))
        .collect()
}

fn run(args: &[String]) -> Output {
    gen_manifests(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn assert_flat(object: &Value, context: &str) {
    let kind = object["kind"].as_str().unwrap_or_default();
    assert!(!kind.ends_with("List"), "{context}: nested {kind}");
    assert!(
        object["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{context}: {kind} without metadata.name"
    );
}

#[test]
fn every_output_form_is_flat_and_kpt_accepts_it() {
    let mut cases = generating_cases();
    cases.push(vec![
        "roles".into(),
        "--namespace".into(),
        "my-app".into(),
        "--namespace".into(),
        "shop".into(),
    ]);
    cases.push(
        "app --namespace shop --deployment api --target 10 --max 5"
            .split(' ')
            .map(String::from)
            .collect(),
    );
    for case in &cases {
        let is_generate = !matches!(case.first().map(String::as_str), Some("roles" | "app"));
        let dir = scratch_dir("flat");

        // Multi-document YAML.
        let yaml = stdout(&run(case));
        let documents: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
        assert!(!documents.is_empty());
        documents
            .iter()
            .for_each(|d| assert_flat(d, &format!("{case:?} yaml")));
        std::fs::create_dir_all(dir.join("yaml")).unwrap();
        std::fs::write(dir.join("yaml/all.yaml"), &yaml).unwrap();
        kpt_accepts_dir(&dir.join("yaml")).unwrap_or_else(|e| panic!("{case:?} yaml: {e}"));

        // JSON: one `v1 List` of flat objects, the same as the YAML.
        if case.first().map(String::as_str) != Some("roles") {
            let json: Value =
                serde_json::from_str(&stdout(&run(&args(case, &["--format", "json"])))).unwrap();
            assert_eq!(json["apiVersion"], "v1");
            assert_eq!(json["kind"], "List");
            let items = json["items"].as_array().unwrap();
            items
                .iter()
                .for_each(|item| assert_flat(item, &format!("{case:?} json")));
            assert_eq!(items, &documents, "{case:?}: JSON and YAML differ");
            kpt_accepts_items(&json["items"]).unwrap_or_else(|e| panic!("{case:?} json: {e}"));
        }

        // --out-dir: one file per object, no List files.
        if is_generate {
            let out = dir.join("out");
            let out_args = args(case, &["--out-dir", out.to_str().unwrap()]);
            assert!(run(&out_args).status.success(), "{case:?}");
            let mut objects = 0;
            for entry in std::fs::read_dir(&out).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                assert!(!name.contains("list"), "{case:?}: {name}");
                if name != "kustomization.yaml" {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
                    assert_eq!(documents.len(), 1, "{name}: one object per file");
                    assert_flat(&documents[0], &name);
                    objects += 1;
                }
            }
            assert_eq!(objects, documents.len(), "{case:?}: one file per object");
            kpt_accepts_dir(&out).unwrap_or_else(|e| panic!("{case:?} out-dir: {e}"));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// The canary: kpt does refuse a nested list, so the test above proves
/// something.
#[test]
fn kpt_refuses_nested_lists() {
    let dir = scratch_dir("flat-canary");
    std::fs::write(
        dir.join("list.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nitems:\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n  metadata:\n    name: a\n    namespace: b\n",
    )
    .unwrap();
    let error = kpt_accepts_dir(&dir).unwrap_err();
    assert!(error.contains("resource must have `metadata.name`"), "{error}");
    let nested = serde_json::json!([{
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleList",
        "items": [],
    }]);
    assert!(kpt_accepts_items(&nested).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}
