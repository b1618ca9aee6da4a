//! `gen-manifests simulate`: the step trace's report and timeline, the
//! sweep and its rule, the plot files, and bad input.

mod common;
use common::*;

use std::process::Output;

use serde_json::Value;

const SPEC: &str = "fixtures/simulate/spec.yaml";
const STEP: &str = "fixtures/simulate/step.csv";

fn simulate(extra: &[&str]) -> Output {
    let mut args = vec!["simulate", "-c", SPEC, "--app", "web", "--load", STEP];
    args.extend_from_slice(extra);
    gen_manifests(&args)
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).expect("JSON output")
}

/// The step trace: 10 req/s for 5 minutes, 100 for 10, 10 for 15; target
/// 10, 1..20 replicas, default behavior, 30 s pod startup.
#[test]
fn step_trace_text_report() {
    let text = stdout(&simulate(&[]));
    settings().bind(|| insta::assert_snapshot!("simulate-step-text", text));
}

#[test]
fn step_trace_scales_up_at_the_first_sync_and_down_after_the_window() {
    let report = json(&simulate(&["--format", "json"]));
    let events = report["events"].as_array().unwrap();
    let event = |e: &Value| {
        (
            e["time"].as_u64().unwrap(),
            e["from"].as_u64().unwrap(),
            e["to"].as_u64().unwrap(),
        )
    };
    let events: Vec<(u64, u64, u64)> = events.iter().map(event).collect();
    let sync = report["options"]["syncPeriodSeconds"].as_u64().unwrap();
    assert_eq!(sync, 15);

    // Scale-up starts within the first sync after the step at 300 s.
    let (first_up, from, to) = events[0];
    assert!(to > from, "{events:?}");
    assert!((300..300 + sync).contains(&first_up), "{events:?}");
    // The default scale-up policies allow +4 pods (more than +100 % of 1).
    assert_eq!((from, to), (1, 5));

    // Scale-down: the last sync that saw 100 req/s (and recommended 10) is
    // at 885 s; the 300 s window keeps that recommendation until 1185 s.
    let series = report["series"].as_array().unwrap();
    let last_high = series
        .iter()
        .filter(|s| s["load"].as_f64().unwrap() > 50.0)
        .map(|s| s["time"].as_u64().unwrap())
        .max()
        .unwrap();
    assert_eq!(last_high, 885);
    let downs: Vec<&(u64, u64, u64)> = events.iter().filter(|e| e.2 < e.1).collect();
    assert!(!downs.is_empty(), "{events:?}");
    assert!(
        downs[0].0 >= last_high + 300,
        "scaled down before the window: {events:?}"
    );
    assert_eq!(
        downs[0].0,
        last_high + 300,
        "the first sync after the window"
    );
    assert_eq!((downs[0].1, downs[0].2), (10, 1));

    let summary = &report["summary"];
    assert_eq!(summary["peakReplicas"], 10);
    assert_eq!(summary["durationSeconds"], 1800);
    assert_eq!(summary["largestFlap"], Value::Null);
    // Series: one sample per sync, with every field.
    assert_eq!(series.len(), 1800 / 15);
    for key in ["time", "load", "ready", "replicas", "desired", "perPodLoad"] {
        assert!(series[0].get(key).is_some(), "series has {key}");
    }
}

#[test]
fn sweep_marks_the_best_by_the_stated_rule() {
    let text = stdout(&simulate(&["--sweep", "target=5,10,20"]));
    assert!(text.contains("Rule: best = fewest pod-seconds among settings with at most 60 s above target; if none qualifies, fewest seconds above target"));
    settings().bind(|| insta::assert_snapshot!("simulate-sweep-target", text));

    for (allowance, args) in [
        (60, vec!["--sweep", "target=5,10,20", "--format", "json"]),
        (
            10,
            vec![
                "--sweep",
                "target=5,10,20",
                "--format",
                "json",
                "--max-overload-seconds",
                "10",
            ],
        ),
        (
            60,
            vec!["--sweep", "scaleDownWindow=0,60,300", "--format", "json"],
        ),
        (
            60,
            vec!["--sweep", "minReplicas=1,2,5,10", "--format", "json"],
        ),
    ] {
        let result = json(&simulate(&args));
        let rows = result["rows"].as_array().unwrap();
        let stat = |row: &Value, key: &str| row["summary"][key].as_u64().unwrap();
        // The rule, computed here independently.
        let qualified: Vec<usize> = (0..rows.len())
            .filter(|&i| stat(&rows[i], "secondsAboveTarget") <= allowance)
            .collect();
        let expected = if qualified.is_empty() {
            (0..rows.len())
                .min_by_key(|&i| {
                    (
                        stat(&rows[i], "secondsAboveTarget"),
                        stat(&rows[i], "podSeconds"),
                        i,
                    )
                })
                .unwrap()
        } else {
            *qualified
                .iter()
                .min_by_key(|&&i| {
                    (
                        stat(&rows[i], "podSeconds"),
                        stat(&rows[i], "secondsAboveTarget"),
                        i,
                    )
                })
                .unwrap()
        };
        assert_eq!(
            result["best"].as_u64().unwrap() as usize,
            expected,
            "{args:?}"
        );
        assert_eq!(result["qualified"], !qualified.is_empty(), "{args:?}");
        assert_eq!(result["maxOverloadSeconds"], allowance);
    }
    // With a 10 s allowance no target qualifies on the step trace: the
    // fallback (fewest seconds above target) is stated.
    let text = stdout(&simulate(&[
        "--sweep",
        "target=5,10,20",
        "--max-overload-seconds",
        "10",
    ]));
    assert!(
        text.contains("no setting stays within 10 s above target"),
        "{text}"
    );
}

#[test]
fn plot_writes_svg_and_png() {
    let dir = scratch_dir("plot");
    let svg = dir.join("step.svg");
    let output = simulate(&["--plot", svg.to_str().unwrap()]);
    stdout(&output);
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("<svg"));
    assert!(svg_text.contains("Replicas"));
    let png = std::fs::read(dir.join("step.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    assert!(png.len() > 10_000, "an image, not an empty canvas");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["step.png", "step.svg"], "no temporary files left");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_csv_exits_2_with_file_and_line_and_writes_nothing() {
    let dir = scratch_dir("bad");
    for (name, line) in [
        ("non-numeric", 3),
        ("descending", 3),
        ("negative", 2),
        ("empty", 1),
    ] {
        let csv = format!("fixtures/simulate/bad/{name}.csv");
        let svg = dir.join(format!("{name}.svg"));
        let output = gen_manifests(&[
            "simulate",
            "-c",
            SPEC,
            "--app",
            "web",
            "--load",
            &csv,
            "--plot",
            svg.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("error: {csv}:{line}: ")),
            "{name}: {stderr}"
        );
        settings().bind(|| insta::assert_snapshot!(format!("simulate-bad-{name}"), stderr));
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "bad input wrote {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch_dir("usage");
    let svg = dir.join("x.svg");
    let svg = svg.to_str().unwrap();
    // `simulate -c SPEC --app web` followed by the rest.
    let web = |rest: &[&'static str]| -> Vec<&str> {
        let mut args = vec!["simulate", "-c", SPEC, "--app", "web"];
        args.extend_from_slice(rest);
        args
    };
    for (args, expected) in [
        (
            vec!["simulate", "-c", SPEC, "--load", STEP, "--plot", svg],
            "simulate needs --app NAME; the spec's apps: web",
        ),
        (
            vec![
                "simulate", "-c", SPEC, "--app", "api", "--load", STEP, "--plot", svg,
            ],
            "--app api: no such app; the spec's apps: web",
        ),
        (
            [
                web(&["--load", STEP, "--pod-startup", "soon", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--pod-startup `soon` is not a duration",
        ),
        (
            [
                web(&["--load", STEP, "--sweep", "replicas=1,2", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--sweep: `replicas` cannot be swept",
        ),
        (
            [
                web(&["--load", STEP, "--sweep", "minReplicas=1,30", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "minReplicas 30 is above maxReplicas 20",
        ),
        (
            web(&["--load", STEP, "--plot", "chart.png"]),
            "name an .svg file",
        ),
        (
            [
                web(&["--load", "fixtures/simulate/missing.csv", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "cannot read fixtures/simulate/missing.csv",
        ),
    ] {
        let output = gen_manifests(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // clap's own refusals.
    for args in [
        &["simulate", "-c", SPEC, "--app", "web"][..],
        &[
            "simulate", "-c", SPEC, "--app", "web", "--load", STEP, "--format", "xml",
        ],
    ] {
        assert_eq!(gen_manifests(args).status.code(), Some(2), "{args:?}");
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "usage errors wrote {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pod_startup_changes_the_overload() {
    let seconds_above = |startup: &str| {
        json(&simulate(&["--pod-startup", startup, "--format", "json"]))["summary"]
            ["secondsAboveTarget"]
            .as_u64()
            .unwrap()
    };
    let instant = seconds_above("0s");
    let slow = seconds_above("2m");
    assert!(instant < seconds_above("30s"));
    assert!(seconds_above("30s") < slow);
}
