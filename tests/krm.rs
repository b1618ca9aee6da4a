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
        object["metadata"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
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
    assert!(
        error.contains("resource must have `metadata.name`"),
        "{error}"
    );
    let nested = serde_json::json!([{
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleList",
        "items": [],
    }]);
    assert!(kpt_accepts_items(&nested).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// `gen-manifests krm` with `input` on standard input.
fn krm(input: &[u8]) -> Output {
    common::gen_manifests_with_stdin(&["krm"], input)
}

fn exec() -> String {
    format!("{} krm", env!("CARGO_BIN_EXE_gen-manifests"))
}

fn read_dir(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

/// A package holding `fixtures/krm/package`, in a scratch directory.
fn package(name: &str) -> std::path::PathBuf {
    let dir = scratch_dir(name).join("package");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, bytes) in read_dir(&Path::new(ROOT).join("fixtures/krm/package")) {
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    dir
}

/// The spec text indented under `spec:` of a CustomMetrics.
fn custom_metrics(spec: &str) -> String {
    let mut text = String::from(
        "apiVersion: custom-metrics-manifests/v1alpha1\nkind: CustomMetrics\nmetadata:\n  name: custom-metrics\nspec:\n",
    );
    for line in spec.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

fn kpt_eval(dir: &Path, fn_config: &Path) -> Output {
    kpt(
        &[
            "fn",
            "eval",
            dir.to_str().unwrap(),
            "--exec",
            &exec(),
            "--fn-config",
            fn_config.to_str().unwrap(),
        ],
        None,
    )
}

#[test]
fn kpt_fn_eval_adds_exactly_the_specs_objects_and_keeps_the_package() {
    let mut specs = vec![Path::new(ROOT).join("examples/fastapi/spec.yaml")];
    let mut fixtures: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("fixtures/specs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    fixtures.sort();
    specs.extend(fixtures);
    for spec in specs {
        let dir = package("krm-eval");
        let own = read_dir(&dir);
        let fn_config = dir.parent().unwrap().join("fn.yaml");
        std::fs::write(
            &fn_config,
            custom_metrics(&std::fs::read_to_string(&spec).unwrap()),
        )
        .unwrap();
        let output = kpt_eval(&dir, &fn_config);
        assert!(
            output.status.success(),
            "{}: {}",
            spec.display(),
            String::from_utf8_lossy(&output.stderr)
        );

        // What --out-dir writes for the same spec, without its header and
        // kustomization.yaml: the files kpt must have written.
        let out_dir = dir.parent().unwrap().join("out-dir");
        let cli = gen_manifests(&[
            "-c",
            spec.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ]);
        assert!(cli.status.success());
        let mut expected = own.clone();
        for (name, bytes) in read_dir(&out_dir) {
            if name != "kustomization.yaml" {
                let text = String::from_utf8(bytes).unwrap();
                let body = text.split_once('\n').unwrap().1;
                expected.insert(name, body.as_bytes().to_vec());
            }
        }
        let actual = read_dir(&dir);
        assert_eq!(
            actual.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{}: one file per generated object, the package's own kept",
            spec.display()
        );
        for (name, bytes) in &expected {
            assert!(
                &actual[name] == bytes,
                "{}: {name} differs:\n{}",
                spec.display(),
                String::from_utf8_lossy(&actual[name])
            );
        }

        // A second run changes nothing.
        assert!(kpt_eval(&dir, &fn_config).status.success());
        assert_eq!(read_dir(&dir), actual, "{}: not idempotent", spec.display());
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}

#[test]
fn kpt_fn_eval_takes_a_configmap_config_too() {
    let dir = package("krm-configmap");
    assert!(
        kpt_eval(&dir, &Path::new(ROOT).join("fixtures/krm/fn-config.yaml"))
            .status
            .success()
    );
    let with_custom_metrics = read_dir(&dir);
    let other = package("krm-configmap-2");
    let output = kpt_eval(
        &other,
        &Path::new(ROOT).join("fixtures/krm/fn-config-configmap.yaml"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(read_dir(&other), with_custom_metrics);
    assert!(with_custom_metrics.contains_key("horizontalpodautoscaler-api.yaml"));
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    std::fs::remove_dir_all(other.parent().unwrap()).unwrap();
}

#[test]
fn kpt_fn_eval_fails_on_a_bad_config_naming_the_field_and_writes_nothing() {
    let dir = package("krm-bad");
    let before = read_dir(&dir);
    let output = kpt_eval(
        &dir,
        &Path::new(ROOT).join("fixtures/krm/fn-config-bad.yaml"),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[error] spec.apps[0].maxReplica: unknown field `maxReplica`"),
        "{stderr}"
    );
    assert_eq!(read_dir(&dir), before, "nothing written");
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn bad_function_input_is_an_error_result_and_exit_2() {
    insta::glob!("../fixtures/krm/bad", "*.yaml", |path| {
        let output = krm(&std::fs::read(path).unwrap());
        assert_eq!(output.status.code(), Some(2), "{}", path.display());
        let stdout = String::from_utf8(output.stdout).unwrap();
        let list: Value = serde_saphyr::from_str(&stdout).unwrap();
        assert_eq!(list["kind"], "ResourceList");
        assert_eq!(list["results"][0]["severity"], "error");
        let report = format!(
            "stdout:\n{stdout}stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        settings().bind(|| insta::assert_snapshot!("krm-bad", report));
    });
    // Not UTF-8.
    let output = krm(b"kind: ResourceList\nitems: [\xff]\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not UTF-8"));
}

#[test]
fn json_in_json_out() {
    let fn_config: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("fixtures/krm/fn-config.yaml")).unwrap(),
    )
    .unwrap();
    let own: Value = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "own", "namespace": "shop"}, "data": {"b": "1", "a": "2"}
    });
    let input = serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [own],
        "functionConfig": fn_config,
    });
    let output = krm(input.to_string().as_bytes());
    let text = stdout(&output);
    let list: Value = serde_json::from_str(&text).expect("JSON out for JSON in");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0], own, "the package's item first, unchanged");
    let generated = &items[1..];
    let cli: Vec<Value> = serde_saphyr::from_multiple(&stdout(&gen_manifests(&[
        "--preset",
        "recommended",
        "app",
        "--namespace",
        "shop",
        "--deployment",
        "api",
        "--target",
        "10",
        "--max",
        "5",
    ])))
    .unwrap();
    // Each generated object is flat, annotated with its own file, index 0.
    let mut paths = std::collections::BTreeSet::new();
    for item in generated {
        assert_flat(item, "krm");
        let annotations = &item["metadata"]["annotations"];
        let path = annotations["internal.config.kubernetes.io/path"]
            .as_str()
            .unwrap();
        assert_eq!(annotations["config.kubernetes.io/path"], path);
        assert_eq!(annotations["internal.config.kubernetes.io/index"], "0");
        assert_eq!(annotations["config.kubernetes.io/index"], "0");
        assert!(paths.insert(path.to_owned()), "{path} twice");
    }
    // The apps' objects are among them, in the CLI's order at the end.
    let tail: Vec<Value> = generated[generated.len() - cli.len()..]
        .iter()
        .map(|item| {
            let mut item = item.clone();
            let metadata = item["metadata"].as_object_mut().unwrap();
            let annotations = metadata["annotations"].as_object_mut().unwrap();
            annotations.retain(|key, _| !key.contains("config.kubernetes.io/"));
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
            item
        })
        .collect();
    assert_eq!(tail, cli);
}

#[test]
fn the_package_keeps_its_bytes_at_the_apps_limit() {
    // 10,000 apps (the limit) make an output of 1.3 million YAML events,
    // more than the reader's default budget: its re-read failed and the
    // function fell back to a full rewrite, which drops the package's
    // comments and styles.
    let dir = scratch_dir("krm-limit");
    let mut spec = String::from("preset: recommended\napps:\n");
    for i in 0..custom_metrics_manifests::MAX_APPS {
        spec.push_str(&format!(
            "- name: app-{i}\n  namespace: ns-{}\n  targetAverageValue: \"10\"\n  maxReplicas: 10\n",
            i % 50
        ));
    }
    let spec_file = dir.join("spec.yaml");
    std::fs::write(&spec_file, &spec).unwrap();
    let head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\
                # mine\n- apiVersion: v1\n  kind: ConfigMap # note\n  metadata: {name: own, namespace: shop}\n";
    let mut tail = String::from(
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: m}\n  data:\n    spec: |\n",
    );
    for line in spec.lines() {
        tail.push_str(&format!("      {line}\n"));
    }
    let output = krm(format!("{head}{tail}").as_bytes());
    let text = stdout(&output);
    assert!(text.starts_with(head), "the package's item keeps its bytes");
    assert!(text.ends_with(&tail), "the functionConfig keeps its bytes");
    // Between them, every object of the spec, one item each.
    let config = custom_metrics_manifests::load(Some(&spec_file), None).unwrap();
    let documents = custom_metrics_manifests::render::objects(&config).count();
    let items = text[head.len()..text.len() - tail.len()]
        .lines()
        .filter(|line| line.starts_with("- "))
        .count();
    assert_eq!(items, documents);
}
