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
/// 10, 1..20 replicas, no behavior, 30 s Pending, 30 s scrapes, 2m window.
#[test]
fn step_trace_text_report() {
    let text = stdout(&simulate(&[]));
    settings().bind(|| insta::assert_snapshot!("simulate-step-text", text));
}

#[test]
fn step_trace_follows_the_lagging_metric_on_the_legacy_path() {
    let report = json(&simulate(&["--format", "json"]));
    let event = |e: &Value| {
        (
            e["time"].as_u64().unwrap(),
            e["from"].as_u64().unwrap(),
            e["to"].as_u64().unwrap(),
        )
    };
    let events: Vec<(u64, u64, u64)> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(event)
        .collect();
    assert_eq!(report["options"]["syncPeriodSeconds"], 15);
    assert_eq!(report["options"]["scrapeIntervalSeconds"], 30);
    assert_eq!(report["options"]["rateWindowSeconds"], 120);
    // The spec has no behavior: the legacy path, at most max(2 x, 4) a sync.
    assert_eq!(report["autoscaler"]["behavior"], Value::Null);
    for &(_, from, to) in events.iter().filter(|e| e.2 > e.1) {
        assert!(to <= (2 * from).max(4), "{events:?}");
    }
    // The step is at 300 s; the sync at 300 still reads the old rate (the
    // scrape at 300 holds no new requests yet); at 315 the window holds
    // only the old rate too; at 330 the scrape of 330 shows the step.
    assert_eq!(events[0], (330, 1, 4));
    let series = report["series"].as_array().unwrap();
    for sample in series {
        for key in [
            "time",
            "load",
            "seen",
            "ready",
            "replicas",
            "desired",
            "perPodLoad",
        ] {
            assert!(sample.get(key).is_some(), "series has {key}");
        }
    }
    let at = |t: u64| series.iter().find(|s| s["time"] == t).unwrap();
    assert_eq!(at(300)["load"], 100.0);
    // 10 req/s through Prometheus' extrapolation (x 120/90/120 in floating
    // point) and the adapter's truncation to milli-units: 9.999.
    assert_eq!(at(300)["seen"], 9.999, "the HPA still sees the old rate");
    // Scale-down: the highest recommendation of the last 300 s holds.
    let last_high = series
        .iter()
        .filter(|s| s["desired"].as_u64().unwrap() >= 10)
        .map(|s| s["time"].as_u64().unwrap())
        .max()
        .unwrap();
    let first_down = events.iter().find(|e| e.2 < e.1).unwrap();
    assert!(
        first_down.0 > last_high + 285,
        "{events:?}, last high {last_high}"
    );
    let summary = &report["summary"];
    assert_eq!(summary["peakReplicas"], 10);
    assert_eq!(summary["durationSeconds"], 1800);
    assert_eq!(series.len(), 1800 / 15);
}

#[test]
fn sweep_marks_the_best_by_the_stated_rule() {
    let text = stdout(&simulate(&[
        "--sweep",
        "target=5,10,20,1000",
        "--capacity",
        "15",
    ]));
    assert!(text.contains("Rule: best = fewest pod-seconds among settings with at most 60 s of load per running pod above the capacity 15"));
    settings().bind(|| insta::assert_snapshot!("simulate-sweep-target", text));

    for (allowance, args) in [
        (60, vec!["--sweep", "target=5,10,20,1000"]),
        (
            10,
            vec!["--sweep", "target=5,10,20", "--max-overload-seconds", "10"],
        ),
        (60, vec!["--sweep", "scaleDownWindow=0,60,300"]),
        (60, vec!["--sweep", "minReplicas=1,2,5,10"]),
        (
            60,
            vec!["--sweep", "target=8,10,12", "--sweep", "minReplicas=1,2,4"],
        ),
    ] {
        let args = [&args[..], &["--format", "json", "--capacity", "15"]].concat();
        let result = json(&simulate(&args));
        let rows = result["rows"].as_array().unwrap();
        let stat = |row: &Value, key: &str| row["summary"][key].as_u64().unwrap();
        // The rule, computed here independently.
        let qualified: Vec<usize> = (0..rows.len())
            .filter(|&i| stat(&rows[i], "secondsAboveCapacity") <= allowance)
            .collect();
        let expected = if qualified.is_empty() {
            (0..rows.len())
                .min_by_key(|&i| {
                    (
                        stat(&rows[i], "secondsAboveCapacity"),
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
                        stat(&rows[i], "secondsAboveCapacity"),
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
    // The largest target never wins just by never being "above" itself.
    let result = json(&simulate(&[
        "--sweep",
        "target=5,10,20,1000",
        "--capacity",
        "15",
        "--format",
        "json",
    ]));
    assert_ne!(
        result["rows"][result["best"].as_u64().unwrap() as usize]["setting"],
        "target=1000"
    );
    assert_eq!(result["rows"].as_array().unwrap().len(), 4);
    let grid = json(&simulate(&[
        "--sweep",
        "target=8,10",
        "--sweep",
        "minReplicas=1,2",
        "--capacity",
        "15",
        "--format",
        "json",
    ]));
    let settings: Vec<&str> = grid["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["setting"].as_str().unwrap())
        .collect();
    assert_eq!(
        settings,
        [
            "target=8 minReplicas=1",
            "target=8 minReplicas=2",
            "target=10 minReplicas=1",
            "target=10 minReplicas=2"
        ]
    );
    // With no allowance no setting qualifies on the step trace: the
    // fallback (fewest seconds above capacity) is stated.
    let text = stdout(&simulate(&[
        "--sweep",
        "target=10,20",
        "--capacity",
        "12",
        "--max-overload-seconds",
        "0",
    ]));
    assert!(
        text.contains("no setting stays within 0 s above capacity"),
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

/// A text report lists 40 scale events and counts the others on a last
/// line that names the format listing them all (the library counts, the
/// command line names its flag).
#[test]
fn text_report_counts_the_events_it_leaves_out() {
    let dir = scratch_dir("many-events");
    // The load jumps between 10 and 100 req/s every 10 minutes for a day.
    let mut csv = String::from("seconds,requests_per_second\n");
    for step in 0..=144 {
        let load = if step % 2 == 0 { 10 } else { 100 };
        csv += &format!("{},{load}\n", step * 600);
    }
    let trace = dir.join("sawtooth.csv");
    std::fs::write(&trace, csv).unwrap();
    let args = [
        "simulate",
        "-c",
        SPEC,
        "--app",
        "web",
        "--load",
        trace.to_str().unwrap(),
    ];
    let events = json(&gen_manifests(&[&args[..], &["--format", "json"]].concat()))["events"]
        .as_array()
        .expect("events")
        .len();
    assert!(events > 40, "{events} events");
    let text = stdout(&gen_manifests(&args));
    assert!(
        text.ends_with(&format!("  ... {} more (see --format json)\n", events - 40)),
        "{text}"
    );
}

#[test]
fn bad_csv_exits_2_with_file_and_line_and_writes_nothing() {
    let dir = scratch_dir("bad");
    for (name, line) in [
        ("non-numeric", 3),
        ("descending", 3),
        ("negative", 2),
        ("empty", 1),
        ("cr-line-ends", 1),
        ("seconds-header-ms-values", 2),
        ("semicolons", 2),
        ("utf16", 1),
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

/// step.csv saved by a spreadsheet (BOM, CRLF) and with epoch-millisecond
/// timestamps simulates exactly as step.csv does.
#[test]
fn bom_crlf_and_epoch_milliseconds_read_as_the_plain_csv() {
    let run = |csv: &str| {
        let output = gen_manifests(&[
            "simulate", "-c", SPEC, "--app", "web", "--load", csv, "--format", "json",
        ]);
        let mut value = json(&output);
        value.as_object_mut().unwrap().remove("source");
        value
    };
    let plain = run(STEP);
    for csv in [
        "fixtures/simulate/step-bom-crlf.csv",
        "fixtures/simulate/step-epoch-ms.csv",
    ] {
        assert_eq!(run(csv), plain, "{csv}");
    }
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
                web(&[
                    "--load",
                    STEP,
                    "--sweep",
                    "minReplicas=1,30",
                    "--capacity",
                    "15",
                    "--plot",
                ]),
                vec![svg],
            ]
            .concat(),
            "minReplicas 30 is above maxReplicas 20",
        ),
        (
            [
                web(&["--load", STEP, "--sweep", "target=5,10", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--sweep needs --capacity N",
        ),
        (
            [
                web(&["--load", STEP, "--capacity", "0", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--capacity 0: give the requests per second one pod serves",
        ),
        (
            [
                web(&["--load", STEP, "--tolerance=-1", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--tolerance -1: give a fraction",
        ),
        (
            [
                web(&["--load", STEP, "--sync-period", "0s", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--sync-period `0s` is not a duration of at least 1s",
        ),
        (
            [
                web(&["--load", STEP, "--initial-replicas", "0", "--plot"]),
                vec![svg],
            ]
            .concat(),
            "--initial-replicas 0",
        ),
        (
            [
                web(&[
                    "--load",
                    STEP,
                    "--sweep",
                    "target=5",
                    "--sweep",
                    "target=6",
                    "--capacity",
                    "9",
                    "--plot",
                ]),
                vec![svg],
            ]
            .concat(),
            "target is swept twice",
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
    assert!(instant <= seconds_above("30s"));
    assert!(seconds_above("30s") < slow);
}

/// The HPA objects of `gen-manifests`' output, read back from the rendered
/// JSON, fed to the model: what simulate runs is what generate deploys.
/// Without `behavior` the model takes the legacy path; with it, the spec's
/// values defaulted field by field as the API server does.
#[test]
fn simulate_runs_the_hpa_that_generate_renders() {
    use custom_metrics_manifests::simulate::{run, Autoscaler, SimOptions, Trace};
    use custom_metrics_manifests::simulate::{Behavior, Policy, ScalingRules};
    use custom_metrics_manifests::{PolicyKind, SelectPolicy};
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

    let step = Trace::read_csv(std::path::Path::new(STEP)).unwrap();
    let recommended_behavior = Behavior {
        scale_up: ScalingRules::default_scale_up(),
        scale_down: ScalingRules {
            stabilization_window_seconds: Some(300),
            select_policy: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 50,
                period_seconds: 60,
            }],
            tolerance: None,
        },
    };
    let tolerance_behavior = Behavior {
        scale_up: ScalingRules {
            tolerance: Some(0.05),
            ..ScalingRules::default_scale_up()
        },
        scale_down: ScalingRules {
            tolerance: Some(0.2),
            ..ScalingRules::default_scale_down()
        },
    };
    for (spec, app, behavior) in [
        (SPEC, "web", None),
        (
            "fixtures/specs/recommended-app.yaml",
            "fastapi",
            Some(recommended_behavior),
        ),
        (
            "fixtures/specs/behavior-tolerance.yaml",
            "checkout",
            Some(tolerance_behavior),
        ),
    ] {
        let rendered: Value =
            serde_json::from_str(&stdout(&gen_manifests(&["-c", spec, "--format", "json"])))
                .unwrap();
        let hpas: Vec<&Value> = rendered["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
            .collect();
        assert_eq!(hpas.len(), 1, "{spec}");
        assert_eq!(hpas[0]["metadata"]["name"], app);
        assert_eq!(
            hpas[0]["spec"].get("behavior").is_some(),
            behavior.is_some(),
            "{spec}: behavior emitted only when the spec has one"
        );
        let hpa: HorizontalPodAutoscaler = serde_json::from_value(hpas[0].clone()).unwrap();
        let model = Autoscaler::from_hpa(&hpa).unwrap();
        assert_eq!(model.spec.behavior, behavior, "{spec}");

        // simulate reports the same HPA and, run on the model, the same series.
        let output = gen_manifests(&[
            "simulate", "-c", spec, "--app", app, "--load", STEP, "--format", "json",
        ]);
        let simulated = json(&output);
        assert_eq!(
            simulated["autoscaler"],
            serde_json::to_value(&model).unwrap(),
            "{spec}"
        );
        let options = SimOptions::default();
        assert_eq!(
            simulated["options"],
            serde_json::to_value(&options).unwrap(),
            "{spec}"
        );
        let sim = run(&model, &step, &options).unwrap();
        assert_eq!(
            simulated["series"],
            serde_json::to_value(&sim.series).unwrap(),
            "{spec}"
        );
        assert_eq!(
            simulated["events"],
            serde_json::to_value(&sim.events).unwrap(),
            "{spec}"
        );
    }
}

/// `behavior.scaleUp.tolerance` of the generated HPA is the band the
/// controller uses (`tolerancesForHpa`): 8 % above the target scales with
/// 0.05, holds with the default 0.1, and holds when the cluster's
/// HPAConfigurableTolerance gate is off.
#[test]
fn per_direction_tolerance_from_the_spec() {
    let events = |spec: &str, app: &str, extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "-c",
            spec,
            "--app",
            app,
            "--load",
            "fixtures/simulate/slight-rise.csv",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let value = json(&gen_manifests(&args));
        value["events"].as_array().unwrap().len()
    };
    let tolerant = "fixtures/specs/behavior-tolerance.yaml";
    assert!(events(tolerant, "checkout", &[]) > 0, "0.05: 1.08 scales");
    assert_eq!(events(SPEC, "web", &[]), 0, "0.1: 1.08 holds");
    assert_eq!(
        events(
            tolerant,
            "checkout",
            &["--feature-gates", "HPAConfigurableTolerance=false"]
        ),
        0,
        "gate off: the flag's 0.1"
    );
    assert!(
        events(
            tolerant,
            "checkout",
            &["--feature-gates", "HPAConfigurableTolerance=T"]
        ) > 0
    );
    for bad in [
        "HPAScaleToZero=true",
        "HPAConfigurableTolerance=yes",
        "HPAConfigurableTolerance",
    ] {
        let output = gen_manifests(&[
            "simulate",
            "-c",
            tolerant,
            "--app",
            "checkout",
            "--load",
            STEP,
            "--feature-gates",
            bad,
        ]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(&format!("--feature-gates `{bad}`")),
            "{bad}"
        );
    }
    // The text report states the tolerances.
    let text = stdout(&gen_manifests(&[
        "simulate", "-c", tolerant, "--app", "checkout", "--load", STEP,
    ]));
    assert!(
        text.contains("Max of [4 pods per 15 s, 100% per 15 s], tolerance 0.05"),
        "{text}"
    );
}
