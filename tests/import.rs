//! `import`: this tool's own output comes back as the spec that generates
//! it, byte for byte (every fixture spec, both presets, both backends,
//! YAML and JSON, one file or `--out-dir` files); foreign bundles give the
//! closest spec and the list of what it does not reproduce (exit 1); bad
//! input exits 2 with the place named.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::process::Output;

fn relative(path: &Path) -> String {
    path.strip_prefix(ROOT).unwrap().display().to_string()
}

/// `gen-manifests import -` with `input` on standard input.
fn import_stdin(input: &[u8]) -> Output {
    gen_manifests_with_stdin(&["import", "-"], input)
}

/// What `-c spec` generates with `extra` arguments.
fn generate_from(spec: &str, extra: &[&str]) -> Vec<u8> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(spec.as_bytes()).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let mut args = vec!["-c", path.as_str()];
    args.extend_from_slice(extra);
    let output = gen_manifests(&args);
    assert!(
        output.status.success(),
        "the imported spec is refused: {}\n{spec}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Every way this tool's output is made: the presets, every fixture spec
/// and the example.
fn sources() -> Vec<Vec<String>> {
    let mut out = vec![
        vec![],
        vec!["--preset".to_owned(), "recommended".to_owned()],
    ];
    let mut specs: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("fixtures/specs"))
        .unwrap()
        .map(|entry| relative(&entry.unwrap().path()))
        .collect();
    specs.sort();
    specs.push("examples/fastapi/spec.yaml".to_owned());
    out.extend(specs.into_iter().map(|spec| vec!["-c".to_owned(), spec]));
    out
}

#[test]
fn own_output_round_trips_byte_for_byte() {
    let mut checked = 0;
    for source in sources() {
        for backend in ["adapter", "keda"] {
            for format in ["yaml", "json"] {
                let mut args: Vec<&str> = source.iter().map(String::as_str).collect();
                args.extend(["--backend", backend, "--format", format]);
                let original = gen_manifests(&args);
                assert!(original.status.success(), "{args:?}");
                let empty_list = format == "json"
                    && serde_json::from_slice::<serde_json::Value>(&original.stdout).unwrap()
                        ["items"]
                        .as_array()
                        .is_some_and(Vec::is_empty);
                if original.stdout.is_empty() || empty_list {
                    // The keda backend without apps generates nothing.
                    continue;
                }
                let imported = import_stdin(&original.stdout);
                assert_eq!(
                    imported.status.code(),
                    Some(0),
                    "{args:?}: {}",
                    String::from_utf8_lossy(&imported.stderr)
                );
                assert!(imported.stderr.is_empty(), "{args:?}: nothing is lossy");
                let spec = String::from_utf8(imported.stdout).unwrap();
                let again = generate_from(&spec, &["--format", format]);
                assert!(
                    again == original.stdout,
                    "{args:?}: the imported spec generates other bytes:\n{spec}"
                );
                checked += 1;
            }
        }
    }
    // 2 presets + 13 fixture specs + the example, adapter and keda where
    // the keda output is not empty, YAML and JSON.
    assert!(checked >= 40, "{checked} round trips");
}

#[test]
fn imported_specs_are_what_a_user_would_write() {
    settings().bind(|| {
        insta::glob!("../fixtures", "specs/*.yaml", |path| {
            let original = gen_manifests(&["-c", &relative(path)]);
            let imported = import_stdin(&stdout(&original).into_bytes());
            insta::assert_snapshot!(stdout(&imported));
        });
    });
}

#[test]
fn keda_output_imports_to_its_spec() {
    for spec in [
        "fixtures/specs/keda-recommended.yaml",
        "fixtures/specs/custom-rules.yaml",
    ] {
        let original = stdout(&gen_manifests(&["-c", spec, "--backend", "keda"]));
        let imported = stdout(&import_stdin(original.as_bytes()));
        assert!(imported.contains("backend: keda"), "{imported}");
        assert_eq!(generate_from(&imported, &[]), original.as_bytes(), "{spec}");
    }
}

#[test]
fn out_dir_files_import_as_one_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = "fixtures/specs/stack-kube-prometheus-stack.yaml";
    stdout(&gen_manifests(&[
        "-c",
        spec,
        "--out-dir",
        out.to_str().unwrap(),
    ]));
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path().display().to_string())
        .filter(|path| !path.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let imported = stdout(&gen_manifests(&args));
    assert!(
        imported.contains("stack: kube-prometheus-stack"),
        "{imported}"
    );
    let original = stdout(&gen_manifests(&["-c", spec]));
    assert_eq!(generate_from(&imported, &[]), original.as_bytes());
}

#[test]
fn foreign_bundles_give_the_closest_spec_and_what_is_lost() {
    let cases: [(&str, &[&str]); 4] = [
        ("import-guide-bundle", &["fixtures/custom-metrics.yaml"]),
        ("import-kube-prometheus-adapter", &["fixtures/lint/kube-prometheus-adapter.yaml"]),
        (
            "import-helm-chart-5.3.0",
            &["fixtures/lint/real/helm-chart-5.3.0-defaults/rendered.yaml"],
        ),
        (
            "import-guide-bundle-with-kube-prometheus-roles",
            &[
                "fixtures/custom-metrics.yaml",
                "fixtures/kube-prometheus/release-0.14/prometheus-roleBindingSpecificNamespaces.yaml",
                "fixtures/kube-prometheus/release-0.14/prometheus-roleSpecificNamespaces.yaml",
            ],
        ),
    ];
    for (name, files) in cases {
        let mut args = vec!["import"];
        args.extend_from_slice(files);
        let output = gen_manifests(&args);
        assert_eq!(output.status.code(), Some(1), "{name}: lossy");
        let spec = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with("not reproduced by this spec:\n"),
            "{stderr}"
        );
        // The closest spec is a spec: it generates.
        generate_from(&spec, &[]);
        settings().bind(|| {
            insta::assert_snapshot!(
                name,
                format!(
                    "$ gen-manifests {}\n{spec}--- stderr\n{stderr}",
                    args.join(" ")
                )
            );
        });
    }
}

#[test]
fn bad_input_exits_2_with_the_place() {
    settings().bind(|| {
        insta::glob!("../fixtures", "import/bad/*.yaml", |path| {
            let output = gen_manifests(&["import", &relative(path)]);
            assert_eq!(output.status.code(), Some(2), "{}", relative(path));
            assert!(output.stdout.is_empty(), "no spec for bad input");
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert!(
                stderr.starts_with(&format!("error: {}", relative(path))),
                "the message names the file: {stderr}"
            );
            insta::assert_snapshot!(stderr);
        });
    });
}

#[test]
fn a_missing_file_and_no_file_are_bad_input() {
    let output = gen_manifests(&["import", "fixtures/import/does-not-exist.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("fixtures/import/does-not-exist.yaml"),
        "{stderr}"
    );
    assert_eq!(gen_manifests(&["import"]).status.code(), Some(2));
}
