//! `simulate` on the keda backend: KEDA's HPA (one External metric with an
//! AverageValue target, KEDA's replica defaults) replayed through the HPA
//! controller's External path (`GetExternalPerPodMetricReplicas`), the
//! value rounded to thousandths as KEDA does, read fresh at each sync or,
//! with useCachedMetrics, from KEDA's last poll.

mod common;
use common::*;

use custom_metrics_manifests::simulate::{
    run, Autoscaler, AutoscalerError, MetricTarget, SimOptions, Trace,
};
use custom_metrics_manifests::{Config, Spec};

const SPEC: &str = "fixtures/simulate/spec.yaml";
const STEP: &str = "fixtures/simulate/step.csv";

fn config(backend: &str) -> Config {
    let text = std::fs::read_to_string(std::path::Path::new(ROOT).join(SPEC)).unwrap();
    let text = format!("{text}backend: {backend}\n");
    Config::from_spec(Spec::from_yaml(&text, SPEC).unwrap(), SPEC).unwrap()
}

#[test]
fn from_scaled_object_reads_kedas_hpa() {
    let config = config("keda");
    let mut scaled = scaled_object(&config);
    let autoscaler = Autoscaler::from_scaled_object(&scaled).unwrap();
    assert_eq!(
        autoscaler.metric,
        MetricTarget::External {
            average_value_milli: 10_000
        }
    );
    assert_eq!(
        (autoscaler.spec.min_replicas, autoscaler.spec.max_replicas),
        (1, 20)
    );
    assert_eq!(autoscaler.spec.behavior, None);
    // minReplicaCount 0: KEDA's HPA still has minReplicas 1 (GetHPAMinReplicas).
    scaled.spec.min_replica_count = 0;
    assert_eq!(
        Autoscaler::from_scaled_object(&scaled)
            .unwrap()
            .spec
            .min_replicas,
        1
    );
    // The threshold as KEDA rounds it: 0.0125 -> 0.013 (%.3f, binary above half).
    scaled.spec.triggers[0]
        .metadata
        .insert("threshold".into(), "0.0125".into());
    assert_eq!(
        Autoscaler::from_scaled_object(&scaled).unwrap().metric,
        MetricTarget::External {
            average_value_milli: 13
        }
    );
    scaled.spec.triggers[0]
        .metadata
        .insert("threshold".into(), "0.0004".into());
    let error = Autoscaler::from_scaled_object(&scaled).unwrap_err();
    assert_eq!(error, AutoscalerError::ZeroThreshold(0.0004));
    assert!(
        error.to_string().contains("0 at KEDA's 3 decimals"),
        "{error}"
    );
    // A behavior in advanced.horizontalPodAutoscalerConfig is defaulted.
    let text = format!(
        "{}backend: keda\n",
        std::fs::read_to_string(std::path::Path::new(ROOT).join(SPEC))
            .unwrap()
            .replace(
                "  maxReplicas: 20\n",
                "  maxReplicas: 20\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 60\n"
            )
    );
    let config = Config::from_spec(Spec::from_yaml(&text, SPEC).unwrap(), SPEC).unwrap();
    let autoscaler = Autoscaler::from_scaled_object(&scaled_object(&config)).unwrap();
    let behavior = autoscaler.spec.behavior.unwrap();
    assert_eq!(behavior.scale_down.stabilization_window_seconds, Some(60));
    assert_eq!(behavior.scale_up.policies.len(), 2);
}

fn step_trace() -> Trace {
    Trace::new(vec![(0.0, 10.0), (300.0, 100.0), (900.0, 100.0)]).unwrap()
}

/// The External path counts the whole load at once: running pods carry all
/// of it, pending pods have no series but no 0 either, so KEDA's HPA asks
/// for ceil(total / target) at each sync (within the legacy
/// max(2 x current, 4) limit) where the Pods path counts new pods at 0.
#[test]
fn a_step_through_kedas_external_path() {
    let pods = run(
        &Autoscaler::from_app(&config("adapter").apps()[0]),
        &step_trace(),
        &SimOptions::default(),
    )
    .unwrap();
    let config = config("keda");
    let external = Autoscaler::from_scaled_object(&scaled_object(&config)).unwrap();
    let sim = run(&external, &step_trace(), &SimOptions::default()).unwrap();
    let steps: Vec<(u64, u32, u32)> = sim.events.iter().map(|e| (e.time, e.from, e.to)).collect();
    let pod_steps: Vec<(u64, u32, u32)> =
        pods.events.iter().map(|e| (e.time, e.from, e.to)).collect();
    // Every step within the legacy limit; it ends at ceil(100 / 10).
    for &(_, from, to) in &steps {
        assert!(to <= (2 * from).max(4), "{steps:?}");
    }
    assert_eq!(steps.last().unwrap().2, 10, "{steps:?}");
    let reached = |s: &[(u64, u32, u32)]| s.iter().find(|e| e.2 == 10).unwrap().0;
    assert!(
        reached(&steps) <= reached(&pod_steps),
        "keda {steps:?} adapter {pod_steps:?}"
    );
    // Before the step, 10 req/s is exactly the target: one pod, no event.
    assert!(steps[0].0 >= 300, "{steps:?}");
    // The per-pod value the HPA saw once settled: 100 req/s over 10 pods.
    let settled = sim.series.iter().rev().find(|s| s.replicas == 10).unwrap();
    assert_eq!(settled.seen, Some(10.0));
    settings().bind(|| insta::assert_debug_snapshot!("keda-simulate-step-events", steps));
}

/// useCachedMetrics: the HPA reads KEDA's last poll, so a decision can
/// lag the fresh value by up to a polling interval; never leads it.
#[test]
fn cached_metrics_lag_by_the_polling_interval() {
    let config = config("keda");
    let external = Autoscaler::from_scaled_object(&scaled_object(&config)).unwrap();
    let fresh = run(&external, &step_trace(), &SimOptions::default()).unwrap();
    let first =
        |options: &SimOptions| run(&external, &step_trace(), options).unwrap().events[0].time;
    let mut last = first(&SimOptions::default());
    for seconds in [15, 30, 60, 120] {
        let options = SimOptions {
            keda_polling_interval_seconds: Some(seconds),
            ..SimOptions::default()
        };
        let at = first(&options);
        assert!(at >= last, "{seconds}s: {at} before {last}");
        assert!(at < fresh.events[0].time + seconds + 15, "{seconds}s: {at}");
        last = at;
    }
    assert!(last > fresh.events[0].time, "a 120s poll lags");
}

#[test]
fn cli_simulate_backend_keda() {
    let text = stdout(&gen_manifests(&[
        "simulate",
        "-c",
        SPEC,
        "--app",
        "web",
        "--load",
        STEP,
        "--backend",
        "keda",
    ]));
    assert!(
        text.starts_with(
            "Simulation of app web (KEDA ScaledObject, External metric), load fixtures/simulate/step.csv"
        ),
        "{text}"
    );
    assert!(
        text.contains("  metric: External through KEDA: the app's total, ceil(total / target) replicas; a fresh query at each sync"),
        "{text}"
    );
    settings().bind(|| insta::assert_snapshot!("keda-simulate-step", text));
    let cached = stdout(&gen_manifests(&[
        "simulate",
        "-c",
        SPEC,
        "--app",
        "web",
        "--load",
        STEP,
        "--backend",
        "keda",
        "--keda-cached-metrics",
        "--keda-polling-interval",
        "1m",
    ]));
    assert!(
        cached.starts_with(
            "Simulation of app web (KEDA ScaledObject, External metric, cached every 60s)"
        ),
        "{cached}"
    );
    assert!(
        cached.contains("the value of KEDA's last poll (useCachedMetrics, every 60 s)"),
        "{cached}"
    );
    for (args, says) in [
        (
            vec!["--keda-cached-metrics"],
            "--keda-cached-metrics needs the keda backend",
        ),
        (
            vec!["--backend", "keda", "--keda-polling-interval", "1m"],
            "--keda-polling-interval needs --keda-cached-metrics",
        ),
        (
            vec![
                "--backend",
                "keda",
                "--keda-cached-metrics",
                "--keda-polling-interval",
                "soon",
            ],
            "--keda-polling-interval `soon` is not a duration",
        ),
    ] {
        let mut all = vec!["simulate", "-c", SPEC, "--app", "web", "--load", STEP];
        all.extend(args);
        let output = gen_manifests(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(says), "{stderr}");
        assert!(output.stdout.is_empty());
        let name = match says.split('`').nth(1) {
            Some(value) => format!("{}-{value}", says.split_whitespace().next().unwrap()),
            None => says.split_whitespace().next().unwrap().to_owned(),
        };
        let name = format!("keda-simulate-usage{name}");
        settings().bind(|| insta::assert_snapshot!(name, stderr));
    }
}
