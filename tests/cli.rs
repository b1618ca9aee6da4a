//! What the CLI prints, byte for byte: one snapshot per fixture spec, per
//! preset and per bad input (its error message), all under `snapshots/`.

mod common;
use common::*;

use std::path::Path;
use std::process::Output;

fn relative(path: &Path) -> String {
    path.strip_prefix(ROOT).unwrap().display().to_string()
}

#[test]
fn presets() {
    settings().bind(|| {
        insta::assert_snapshot!("preset-default", stdout(&gen_manifests(&[])));
        insta::assert_snapshot!(
            "preset-documented",
            stdout(&gen_manifests(&["--preset", "documented"]))
        );
        insta::assert_snapshot!(
            "preset-recommended",
            stdout(&gen_manifests(&["--preset", "recommended"]))
        );
        insta::assert_snapshot!(
            "preset-recommended-json",
            stdout(&gen_manifests(&[
                "--preset",
                "recommended",
                "--format",
                "json"
            ]))
        );
    });
}

#[test]
fn fixture_specs() {
    settings().bind(|| {
        insta::glob!("../fixtures", "specs/*.yaml", |path| {
            let output = gen_manifests(&["-c", &relative(path)]);
            insta::assert_snapshot!(stdout(&output));
        });
    });
}

#[test]
fn bad_inputs_exit_2_name_the_place_and_write_nothing() {
    let scratch = scratch_dir("bad");
    settings().bind(|| {
        insta::glob!("../fixtures", "bad/*.yaml", |path| {
            let target = scratch.join(path.file_name().unwrap());
            let started = std::time::Instant::now();
            let output = gen_manifests(&["-c", &relative(path), "-o", target.to_str().unwrap()]);
            let elapsed = started.elapsed();
            assert_eq!(output.status.code(), Some(2), "{}", relative(path));
            assert!(output.stdout.is_empty(), "nothing on stdout");
            assert!(
                !target.exists(),
                "{} wrote {}",
                relative(path),
                target.display()
            );
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert!(
                stderr.starts_with(&format!("error: {}", relative(path))),
                "the message names the file: {stderr}"
            );
            // A generous bound: each case is refused in milliseconds; this only
            // catches a parser that expands an alias bomb or loops.
            assert!(elapsed.as_secs() < 5, "{} took {elapsed:?}", relative(path));
            insta::assert_snapshot!(stderr);
        });
    });
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn a_missing_spec_file_is_bad_input() {
    let output = gen_manifests(&["-c", "fixtures/does-not-exist.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    settings().bind(|| {
        insta::assert_snapshot!("missing-spec", String::from_utf8(output.stderr).unwrap())
    });
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--format", "xml"][..],
        &["--preset", "best"],
        &["roles"],
        &["--bogus"],
    ] {
        let output = gen_manifests(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn output_file_is_written_whole_and_equals_stdout() {
    let scratch = scratch_dir("out");
    let target = scratch.join("custom-metrics.yaml");
    let output = gen_manifests(&["-o", target.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read(&target).unwrap(), gen_manifests(&[]).stdout);
    let leftovers: Vec<_> = std::fs::read_dir(&scratch)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn output_to_a_directory_fails_and_leaves_it_alone() {
    let scratch = scratch_dir("dir");
    let output = gen_manifests(&["-o", scratch.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is a directory"));
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn roles_and_app_commands() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "roles-two-namespaces",
            stdout(&gen_manifests(&[
                "roles",
                "--namespace",
                "my-app",
                "--namespace",
                "shop"
            ]))
        );
        insta::assert_snapshot!(
            "app-quick-path",
            stdout(&gen_manifests(&[
                "--preset",
                "recommended",
                "app",
                "--namespace",
                "shop",
                "--deployment",
                "api",
                "--target",
                "10",
                "--min",
                "2",
                "--max",
                "8",
            ]))
        );
    });
    let bad = gen_manifests(&["roles", "--namespace", "Not_OK"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("--namespace: `Not_OK` is not a DNS-1123 label"));
    let bad = gen_manifests(&[
        "app",
        "--namespace",
        "shop",
        "--deployment",
        "api",
        "--target",
        "10",
        "--min",
        "5",
        "--max",
        "2",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("--min: minReplicas 5 is greater than maxReplicas 2"));
    // int32 replicas: u32's top does not wrap to -1.
    let quick = |extra: &[&str]| {
        let mut args = vec![
            "app",
            "--namespace",
            "shop",
            "--deployment",
            "api",
            "--target",
            "10",
        ];
        args.extend_from_slice(extra);
        gen_manifests(&args)
    };
    let bad = quick(&["--max", "4294967295"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains(
            "--max: `4294967295` is out of range: give a whole number from 1 to 2147483647"
        ),
        "{stderr}"
    );
    assert!(bad.stdout.is_empty());
    let top = stdout(&quick(&["--max", "2147483647"]));
    assert!(top.contains("maxReplicas: 2147483647"), "{top}");
    // `app` starts from the same default as the bundle: the HPA targets
    // requests per second; the guide's preset keeps its per-minute name.
    let default = stdout(&quick(&["--max", "5"]));
    assert!(
        default.contains("name: http_requests_per_second"),
        "{default}"
    );
    let documented = stdout(&quick(&["--max", "5", "--preset", "documented"]));
    assert!(
        documented.contains("name: http_requests_per_minute"),
        "{documented}"
    );
    let help = stdout(&gen_manifests(&["app", "--help"]));
    assert!(
        help.contains("`http_requests_per_second`, requests per second"),
        "{help}"
    );
}

#[test]
fn lint_command_exit_codes_and_formats() {
    let guide = gen_manifests(&["lint", "fixtures/custom-metrics.yaml"]);
    assert_eq!(guide.status.code(), Some(1), "the guide has errors");
    settings().bind(|| insta::assert_snapshot!("lint-cli-guide", stdout_any(&guide)));

    assert_eq!(
        gen_manifests(&["lint", "--preset", "recommended", "--strict"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        gen_manifests(&["lint", "-c", "examples/fastapi/spec.yaml", "--strict"])
            .status
            .code(),
        Some(0)
    );
    // The default preset gets no error; the documented one does (20s window).
    assert_eq!(gen_manifests(&["lint"]).status.code(), Some(0));
    assert_eq!(
        gen_manifests(&["lint", "--preset", "documented"])
            .status
            .code(),
        Some(1)
    );

    let json = gen_manifests(&["lint", "fixtures/custom-metrics.yaml", "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let ids: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"promql-parse") && ids.contains(&"insecure-tls"),
        "{ids:?}"
    );

    for bad in [
        &["lint", "fixtures/does-not-exist.yaml"][..],
        &["lint", "fixtures/bad/malformed-yaml.yaml"],
        &["lint", "-c", "fixtures/bad/unknown-top-key.yaml"],
    ] {
        let output = gen_manifests(bad);
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
    }
}

/// The README's first command, `gen-manifests > custom-metrics.yaml`,
/// gives a bundle that runs on a stock kube-prometheus cluster: the
/// tool's own lint, reading the printed file as any user's file, finds no
/// error in it (exit 0); its one warning is the TLS that kube-prometheus'
/// own adapter also skips verifying, and it needs no cert-manager object.
#[test]
fn the_default_output_passes_its_own_lint() {
    let default = stdout(&gen_manifests(&[]));
    assert_eq!(
        default,
        stdout(&gen_manifests(&["--preset", "standalone"])),
        "no flags is the standalone preset"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custom-metrics.yaml");
    std::fs::write(&file, &default).unwrap();
    let lint = gen_manifests(&["lint", file.to_str().unwrap()]);
    let findings = String::from_utf8_lossy(&lint.stdout).into_owned();
    assert_eq!(lint.status.code(), Some(0), "{findings}");
    let ids: Vec<&str> = findings
        .lines()
        .map(|line| line.split(' ').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(ids, ["insecure-tls"], "{findings}");
    assert!(!default.contains("cert-manager.io"), "needs cert-manager");
    assert!(default.contains("- --cert-dir=/tmp/cert\n"));
    // The same with the spec path (lint of the preset itself).
    let preset = gen_manifests(&["lint"]);
    assert_eq!(preset.status.code(), Some(0));
}

/// Each hostile fixture reaches the limit it is named for, before any
/// unknown key or type error could stop it earlier: the message names the
/// limit (the whole message is in its snapshot).
#[test]
fn hostile_fixtures_hit_the_limit_they_are_named_for() {
    for (fixture, limit) in [
        (
            "alias-bomb.yaml",
            "alias expansion limit exceeded: the aliases expand to more than 10000 events",
        ),
        (
            "alias-flood.yaml",
            "alias expansion limit exceeded for anchor id 1: 101 > 100",
        ),
        (
            "deep-nesting.yaml",
            "nesting depth limit exceeded: collections nest deeper than 64 levels",
        ),
        (
            "alias-deep-nesting.yaml",
            "nesting depth limit exceeded: this alias nests deeper than 64 levels",
        ),
    ] {
        let output = gen_manifests(&["-c", &format!("fixtures/bad/{fixture}")]);
        assert_eq!(output.status.code(), Some(2), "{fixture}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(limit), "{fixture}: {stderr}");
    }
}

fn stdout_any(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn a_ten_megabyte_spec_is_refused_before_parsing() {
    let scratch = scratch_dir("big");
    let spec = scratch.join("big.yaml");
    let mut text = String::from("preset: recommended\napps:\n");
    let mut index = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "- name: app-{index}\n  namespace: ns-{}\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
            index % 100
        ));
        index += 1;
    }
    text.push_str("- name: last\n  namespace: Bad_Namespace\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n");
    std::fs::write(&spec, &text).unwrap();
    let target = scratch.join("out.yaml");
    let output = gen_manifests(&["-c", spec.to_str().unwrap(), "-o", target.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("big.yaml: the file is larger than")
            && stderr.contains("specs are limited to 4194304 bytes"),
        "{stderr}"
    );
    assert!(!target.exists());
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn explain_prints_the_filled_queries() {
    settings().bind(|| {
        insta::assert_snapshot!(
            "explain-fastapi",
            stdout(&gen_manifests(&[
                "explain",
                "-c",
                "examples/fastapi/spec.yaml"
            ]))
        );
        insta::assert_snapshot!(
            "explain-custom-rules",
            stdout(&gen_manifests(&[
                "explain",
                "-c",
                "fixtures/specs/custom-rules.yaml"
            ]))
        );
    });
    let json: serde_json::Value = serde_json::from_slice(
        &gen_manifests(&["explain", "--preset", "documented", "--format", "json"]).stdout,
    )
    .unwrap();
    let queries = json["example_queries"].as_array().unwrap();
    assert_eq!(
        queries.len(),
        5,
        "one metricsQuery and four resource queries"
    );
    assert!(queries
        .iter()
        .all(|q| !q["filled"].as_str().unwrap().contains("<<")));
    for bad in [
        &["explain", "--prometheus", "https://prometheus:9090"][..],
        &["explain", "--prometheus", "localhost:9090"],
        &["explain", "-c", "fixtures/bad/unknown-top-key.yaml"],
    ] {
        assert_eq!(gen_manifests(bad).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn verify_notes_name_the_rollout_checks() {
    use custom_metrics_manifests::{explain, render, Config, Spec};
    let text = std::fs::read_to_string(Path::new(ROOT).join("examples/fastapi/spec.yaml")).unwrap();
    let config =
        Config::from_spec(Spec::from_yaml(&text, "spec.yaml").unwrap(), "spec.yaml").unwrap();
    let manifests = render::manifests(&config);
    let notes = explain::verify_notes(&config, &manifests, "deploy/", true);
    settings().bind(|| insta::assert_snapshot!("verify-notes", notes));
}

#[test]
fn lint_refuses_files_with_nothing_to_lint() {
    let output = gen_manifests(&["lint", "Cargo.lock"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("Cargo.lock: nothing to lint"), "{stderr}");
    assert!(output.stdout.is_empty());
    // Not YAML at all: refused with the place.
    let output = gen_manifests(&["lint", "Makefile"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("Makefile:"));
}

#[test]
fn lint_reads_a_spec_given_positionally() {
    // The CI typo `lint spec.yaml` (without -c) lints the spec.
    let positional = gen_manifests(&["lint", "fixtures/specs/documented-overrides.yaml"]);
    let with_flag = gen_manifests(&["lint", "-c", "fixtures/specs/documented-overrides.yaml"]);
    assert_eq!(positional.status.code(), with_flag.status.code());
    assert!(!positional.stdout.is_empty());
    let clean = gen_manifests(&["lint", "--strict", "fixtures/specs/recommended-app.yaml"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout_any(&clean));
    // A spec with an error is bad input, located.
    let bad = gen_manifests(&["lint", "fixtures/bad/unknown-top-key.yaml"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn lint_explains_a_check() {
    let output = gen_manifests(&["lint", "--explain", "adapter-config"]);
    assert_eq!(output.status.code(), Some(0));
    settings().bind(|| insta::assert_snapshot!("lint-explain-adapter-config", stdout(&output)));
    let unknown = gen_manifests(&["lint", "--explain", "no-such-check"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8(unknown.stderr).unwrap();
    assert!(
        stderr.contains("no check `no-such-check`") && stderr.contains("promql-parse"),
        "{stderr}"
    );
}

#[test]
fn lint_stack_and_info_findings() {
    // kube-prometheus' own adapter names: a note without context (exit 0,
    // even under --strict for the note), an error next to kube-prometheus.
    let text = "kind: Deployment\nmetadata: {name: prometheus-adapter, namespace: monitoring}\n";
    let scratch = scratch_dir("stack");
    let file = scratch.join("adapter.yaml");
    std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();
    let note = gen_manifests(&["lint", "--strict", path]);
    assert_eq!(note.status.code(), Some(0));
    assert!(
        stdout(&note).starts_with("info name-collision "),
        "{}",
        stdout(&note)
    );
    let error = gen_manifests(&["lint", "--stack", "kube-prometheus", path]);
    assert_eq!(error.status.code(), Some(1));
    assert!(
        stdout_any(&error).starts_with("error name-collision "),
        "{}",
        stdout_any(&error)
    );
    std::fs::remove_dir_all(scratch).unwrap();
}

/// `gen-manifests | gen-manifests lint -`: `-` reads standard input; the
/// default output lints clean, the guide's bundle read the same way does
/// not; migrate reads its manifests the same way.
#[test]
fn lint_and_migrate_read_standard_input() {
    let with_stdin = common::gen_manifests_with_stdin;
    let default = gen_manifests(&[]);
    assert!(default.status.success());
    let linted = with_stdin(&["lint", "-"], &default.stdout);
    assert_eq!(linted.status.code(), Some(0), "{}", stdout(&linted));
    assert!(stdout(&linted).starts_with("warning insecure-tls "));
    let guide = std::fs::read(Path::new(ROOT).join("fixtures/custom-metrics.yaml")).unwrap();
    let linted = with_stdin(&["lint", "-"], &guide);
    assert_eq!(linted.status.code(), Some(1));
    let findings = String::from_utf8_lossy(&linted.stdout);
    assert!(findings.contains("error rate-window "), "{findings}");
    let from_file = gen_manifests(&["migrate", "fixtures/custom-metrics.yaml"]);
    let from_stdin = with_stdin(&["migrate", "-"], &guide);
    assert_eq!(from_stdin.status.code(), from_file.status.code());
    assert!(!from_stdin.stdout.is_empty());
}
