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
        [
            "gen-manifests-check",
            "gen-manifests-lint",
            "gen-manifests-out-dir"
        ]
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
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
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

/// What bash completes for the words typed so far.
fn bash_complete(words: &[&str]) -> String {
    let bin = env!("CARGO_BIN_EXE_gen-manifests");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <('{bin}' completions bash) && COMP_WORDS=({words}) && COMP_CWORD={cword} && \
         COMP_LINE='{line}' && COMP_POINT=${{#COMP_LINE}} && \
         _gen__manifests gen-manifests '{current}' '{previous}' && echo \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cword = words.len() - 1,
        line = words.join(" "),
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let output = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn completions_complete_in_bash_and_exist_for_zsh_and_fish() {
    assert_eq!(bash_complete(&["gen-manifests", "kr"]), "krm");
    assert_eq!(bash_complete(&["gen-manifests", "--out-"]), "--out-dir");
    assert!(bash_complete(&["gen-manifests", "lint", "--str"]).contains("--strict"));
    for (shell, marker) in [
        ("zsh", "#compdef gen-manifests"),
        ("fish", "complete -c gen-manifests"),
    ] {
        let script = stdout(&gen_manifests(&["completions", shell]));
        assert!(script.contains(marker), "{shell}");
        assert!(
            script.contains("krm") && script.contains("simulate"),
            "{shell}"
        );
    }
    let bad = gen_manifests(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_page_renders_without_warnings() {
    let page = stdout(&gen_manifests(&["man"]));
    assert!(page.contains(".TH gen-manifests 1"));
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff renders the man page (apt-get install groff-base)");
    std::io::Write::write_all(&mut groff.stdin.take().unwrap(), page.as_bytes()).unwrap();
    let output = groff.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    for command in [
        "explain",
        "lint",
        "check",
        "roles",
        "simulate",
        "krm",
        "completions",
    ] {
        assert!(
            text.contains(command),
            "{command} missing from the man page"
        );
    }
}
