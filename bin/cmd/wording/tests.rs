//! The flag wording of every error about a setting.

use super::*;
use custom_metrics_manifests::simulate::{FeatureGateError, SecondsError, TraceError};

/// Each error about a setting names its flag, as before the library
/// stopped doing so.
#[test]
fn settings_are_named_by_their_flags() {
    let cases = [
        (SimulateError::NoApp(vec![]), "simulate needs --app NAME; the spec has no apps (give one with -c SPEC)"),
        (SimulateError::UnknownApp { name: "api".into(), apps: vec!["web".into()] }, "--app api: no such app; the spec's apps: web"),
        (SimulateError::Duration { setting: DurationSetting::Range, error: SecondsError::NotPositive("0s".into()) }, "--range `0s` is not a positive duration"),
        (SimulateError::Duration { setting: DurationSetting::DownscaleStabilization, error: SecondsError::Invalid("x".into()) }, "--downscale-stabilization `x` is not a duration"),
        (SimulateError::Tolerance(-1.0), "--tolerance -1: "),
        (SimulateError::Capacity(0.0), "--capacity 0: "),
        (SimulateError::ZeroInitialReplicas, "--initial-replicas 0: "),
        (FeatureGateError::MissingValue("A".into()).into(), "--feature-gates `A`: missing `=bool`"),
        (SimulateError::CachedMetricsNeedKeda, "--keda-cached-metrics needs the keda backend (--backend keda"),
        (SimulateError::PollingIntervalNeedsCachedMetrics, "--keda-polling-interval needs --keda-cached-metrics: without useCachedMetrics"),
        (SimulateError::NoLoad, "simulate needs --load FILE.csv or --prometheus URL"),
        (SimulateError::PlotNotSvg("a.png".into()), "--plot a.png: name an .svg file"),
        (SimulateError::Sweep(SweepError::NoCapacity), "--sweep needs --capacity N: "),
        (SimulateError::Sweep(SweepError::Axes(3)), "--sweep: 3 axes"),
        (SimulateError::TooManyPoints { range: "30d".into(), step: "1s".into() }, "--range 30d at --step 1s asks"),
        (SimulateError::NoData { query: "q".into(), range: "1h".into(), url: "http://h:1".into() }, "--prometheus: no data for `q` over the last 1h: run `gen-manifests explain --prometheus http://h:1` to see why"),
        (SimulateError::PrometheusTrace(TraceError::TooShort), "--prometheus: the trace needs"),
        (SimulateError::SweepRun { load: "l.csv".into(), error: SweepError::Run(RunError::TooLong { seconds: 1, syncs: 2, sync_period: 3, scrapes: 4, interval: 5, max: 6 }) }, "--sweep on l.csv: the trace is 1 s long"),
    ];
    let denied = PrometheusError::Denied {
        status: 401,
        message: "bad".into(),
    };
    assert_eq!(
        cli(&Error::Prometheus(denied)).unwrap(),
        "Prometheus answered HTTP 401: bad (check authorization or basic_auth in \
         --prometheus-http-config)"
    );
    for (error, expected) in cases {
        let message = cli(&Error::Simulate(error)).unwrap();
        assert!(message.starts_with(expected), "{message}");
    }
    let message = simulate(&SimulateError::Run {
        load: "l.csv".into(),
        error: RunError::TooLong {
            seconds: 1,
            syncs: 2,
            sync_period: 3,
            scrapes: 4,
            interval: 5,
            max: 6,
        },
    });
    assert!(
        message.ends_with("lengthen the sync period (--sync-period)"),
        "{message}"
    );
}

/// An empty spec: the library says what to write, the binary adds the
/// flag to leave out.
#[test]
fn empty_spec_names_the_config_flag() {
    use custom_metrics_manifests::{SpecError, SpecErrorKind};
    let error = Error::Spec(SpecError::new("spec.yaml", SpecErrorKind::Empty));
    assert_eq!(
        error.to_string(),
        "spec.yaml: the spec is empty; write at least `preset: documented`"
    );
    assert_eq!(
        cli(&error).unwrap(),
        "spec.yaml: the spec is empty; write at least `preset: documented`, or leave out -c for \
         the preset alone"
    );
}
