//! The files other tools read: `.pre-commit-hooks.yaml` and the Argo CD
//! Config Management Plugin in `examples/argocd/`. Each command they name
//! is run as those tools would run it.

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()).unwrap()
}

/// Runs `argv` with the first word, `gen-manifests`, as the binary under
/// test, in `dir`.
fn run_command(argv: &[String], dir: &Path) -> Output {
    assert_eq!(argv[0], "gen-manifests", "the binary's name: {argv:?}");
    Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
        .args(&argv[1..])
        .current_dir(dir)
        .output()
        .unwrap()
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

#[test]
fn pre_commit_hooks_run_as_pre_commit_runs_them() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    let dir = scratch_dir("pre-commit");
    std::fs::copy(
        Path::new(ROOT).join("examples/fastapi/spec.yaml"),
        dir.join("spec.yaml"),
    )
    .unwrap();
    std::fs::write(dir.join("warned.yaml"), "preset: documented\n").unwrap();
    let generated = run_command(&words("gen-manifests -c spec.yaml -o deploy.yaml"), &dir);
    assert!(generated.status.success());
    let out_dir = run_command(&words("gen-manifests -c spec.yaml --out-dir out"), &dir);
    assert!(out_dir.status.success());

    let mut ids = Vec::new();
    for hook in hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(hook[key].is_string(), "{hook}: {key}");
        }
        assert_eq!(hook["language"], "rust");
        assert_eq!(hook["pass_filenames"], false);
        let id = hook["id"].as_str().unwrap();
        ids.push(id.to_owned());
        let entry = words(hook["entry"].as_str().unwrap());
        // (args, expected exit code): pre-commit appends args to entry.
        let cases: &[(&str, i32)] = match id {
            "gen-manifests-check" => &[
                ("deploy.yaml -c spec.yaml", 0),
                ("deploy.yaml -c warned.yaml", 1),
            ],
            "gen-manifests-lint" => &[("-c spec.yaml", 0), ("-c warned.yaml", 1)],
            "gen-manifests-out-dir" => &[
                ("-c spec.yaml --out-dir out", 0),
                ("-c warned.yaml --out-dir out", 1),
            ],
            other => panic!("untested hook {other}"),
        };
        for (args, code) in cases {
            let argv: Vec<String> = entry.iter().cloned().chain(words(args)).collect();
            let output = run_command(&argv, &dir);
            assert_eq!(
                output.status.code(),
                Some(*code),
                "{argv:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    assert_eq!(
        ids,
        ["gen-manifests-check", "gen-manifests-lint", "gen-manifests-out-dir"]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn argocd_plugin_generates_only_manifests_on_stdout() {
    let plugin = yaml("examples/argocd/plugin.yaml");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let spec = &plugin["spec"];
    let command = |key: &str| -> Vec<String> {
        let mut argv: Vec<String> = spec[key]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|word| word.as_str().unwrap().to_owned())
            .collect();
        argv.extend(
            spec[key]["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|word| word.as_str().unwrap().to_owned()),
        );
        argv
    };
    // An application directory as Argo CD checks it out.
    let app = scratch_dir("argocd");
    let file_name = spec["discover"]["fileName"].as_str().unwrap();
    std::fs::copy(
        Path::new(ROOT).join("examples/fastapi/spec.yaml"),
        app.join(file_name),
    )
    .unwrap();

    let init = run_command(&command("init"), &app);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let generate = run_command(&command("generate"), &app);
    assert!(generate.status.success());
    assert!(generate.stderr.is_empty(), "nothing but manifests");
    let text = String::from_utf8(generate.stdout).unwrap();
    let objects: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    assert!(objects.len() > 10);
    for object in &objects {
        assert!(object["apiVersion"].is_string() && object["kind"].is_string());
        assert!(object["metadata"]["name"].is_string(), "flat objects only");
    }
    assert_eq!(
        text,
        stdout(&gen_manifests(&["-c", "examples/fastapi/spec.yaml"])),
        "what the CLI prints for the same spec"
    );

    // A spec with an error fails in init, before anything is generated.
    std::fs::write(app.join(file_name), "apps: [{name: x}]\n").unwrap();
    assert!(!run_command(&command("init"), &app).status.success());
    std::fs::remove_dir_all(app).unwrap();
}
