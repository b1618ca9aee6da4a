//! The library's errors in command-line terms: the library says "the pod
//! startup", the binary says `--pod-startup`. Errors not named here print
//! as the library words them.

use custom_metrics_manifests::gitops::OutDirError;
use custom_metrics_manifests::kube_prometheus::RolesError;
use custom_metrics_manifests::prometheus::PrometheusError;
use custom_metrics_manifests::simulate::{
    AppList, DurationSetting, RunError, SimulateError, SweepError,
};
use custom_metrics_manifests::{lint, Error, QuickAppError, QuickAppInput, SpecErrorKind};

/// `error` worded with the flags that set what it is about; `None` when
/// the library's wording names no setting.
pub fn cli(error: &Error) -> Option<String> {
    match error {
        Error::Simulate(error) => Some(simulate(error)),
        Error::Prometheus(error) => Some(prometheus(error)),
        Error::OutDir(OutDirError::NotGenerated(path)) => Some(format!(
            "{} exists and was not written by gen-manifests; move it away or choose another \
             --out-dir",
            path.display()
        )),
        Error::Roles(RolesError::Namespace(error)) => Some(format!("--namespace: {error}")),
        Error::Spec(error) if error.kind == SpecErrorKind::Empty => {
            Some(format!("{error}, or leave out -c for the preset alone"))
        }
        _ => None,
    }
}

fn simulate(error: &SimulateError) -> String {
    use SimulateError as E;
    match error {
        E::NoApp(apps) => format!("simulate needs --app NAME; {}", apps_listing(apps)),
        E::UnknownApp { name, apps } => {
            format!("--app {name}: no such app; {}", apps_listing(apps))
        }
        E::Duration { setting, error } => format!("--{} {error}", duration_flag(*setting)),
        E::Tolerance(tolerance) => {
            format!("--tolerance {tolerance}: give a fraction such as 0.1 (0 or more)")
        }
        E::Capacity(capacity) => {
            format!("--capacity {capacity}: give the requests per second one pod serves, above 0")
        }
        E::ZeroInitialReplicas => "--initial-replicas 0: the HPA does not scale a Deployment at \
                                   0 replicas; give 1 or more"
            .into(),
        E::FeatureGate(error) => format!("--feature-gates {error}"),
        E::CachedMetricsNeedKeda => "--keda-cached-metrics needs the keda backend (--backend \
                                     keda, or backend: keda in the spec)"
            .into(),
        E::PollingIntervalNeedsCachedMetrics => "--keda-polling-interval needs \
                                                 --keda-cached-metrics: without useCachedMetrics \
                                                 KEDA's metrics server runs the query whenever \
                                                 the HPA asks, and the polling interval only \
                                                 decides scaling from and to 0"
            .into(),
        E::NoLoad => "simulate needs --load FILE.csv or --prometheus URL".into(),
        E::PlotNotSvg(path) => format!(
            "--plot {}: name an .svg file (the PNG is written next to it)",
            path.display()
        ),
        E::Sweep(error) => sweep(error),
        E::TooManyPoints { range, step } => format!(
            "--range {range} at --step {step} asks for more than 11,000 points, Prometheus' \
             limit: use a larger --step"
        ),
        E::Prometheus(error) => format!("--prometheus: {}", prometheus(error)),
        E::PointOutsideRange { .. } => format!("--prometheus: {error}"),
        E::NoData { query, range, url } => format!(
            "--prometheus: no data for `{query}` over the last {range}: run `gen-manifests \
             explain --prometheus {url}` to see why"
        ),
        E::PrometheusTrace(error) => format!("--prometheus: {error}"),
        E::Run { load, error } => format!("{load}: {}", run(error)),
        E::SweepRun { load, error } => format!("--sweep on {load}: {}", sweep_run(error)),
        E::NoRule { .. } | E::Autoscaler(_) | E::Plot(_) => error.to_string(),
    }
}

/// A library error about the value one flag gave, worded with the flag
/// (typed: the binary keeps the library's error, not its text).
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// `--prometheus`: Prometheus cannot be asked.
    #[error("--prometheus: {}", prometheus(.0))]
    Prometheus(PrometheusError),
    /// An argument of `app`, as its flag.
    #[error("--{flag}: {0}", flag = app_flag(.0.input()))]
    App(QuickAppError),
}

/// The flag of a `quick_app` argument.
fn app_flag(input: QuickAppInput) -> &'static str {
    match input {
        QuickAppInput::Namespace => "namespace",
        QuickAppInput::Deployment => "deployment",
        QuickAppInput::Target => "target",
        QuickAppInput::Min => "min",
        QuickAppInput::Max => "max",
        QuickAppInput::App(field) => field.as_str(),
    }
}

/// A Prometheus error, its http_config named by its flag.
pub fn prometheus(error: &PrometheusError) -> String {
    match error {
        PrometheusError::Untrusted { url, cause } => format!(
            "cannot reach Prometheus at {url}: TLS: the server's certificate is not trusted \
             ({cause}): name its CA in tls_config.ca_file of --prometheus-http-config"
        ),
        PrometheusError::TooLarge { url, limit } => format!(
            "cannot reach Prometheus at {url}: the answer is larger than {limit} bytes, the most \
             gen-manifests reads: ask for less (a shorter --range, a larger --step)"
        ),
        PrometheusError::Denied { status, message } => format!(
            "Prometheus answered HTTP {status}: {message} (check authorization or basic_auth in \
             --prometheus-http-config)"
        ),
        PrometheusError::BadUrl(_)
        | PrometheusError::Config(_)
        | PrometheusError::Unreachable { .. }
        | PrometheusError::Api { .. } => error.to_string(),
    }
}

/// The sweep as `--sweep` gave it.
fn sweep(error: &SweepError) -> String {
    match error {
        SweepError::NoCapacity => "--sweep needs --capacity N: the requests per second one pod \
                                   serves within its latency goal, the overload line every \
                                   setting is measured against"
            .into(),
        error => format!("--sweep: {}", sweep_run(error)),
    }
}

/// A sweep's message after its `--sweep` prefix.
fn sweep_run(error: &SweepError) -> String {
    match error {
        SweepError::Run(error) => run(error),
        error => error.to_string(),
    }
}

fn run(error: &RunError) -> String {
    match error {
        RunError::TooLong { .. } => format!("{error} (--sync-period)"),
    }
}

fn duration_flag(setting: DurationSetting) -> &'static str {
    match setting {
        DurationSetting::PodStartup => "pod-startup",
        DurationSetting::SyncPeriod => "sync-period",
        DurationSetting::DownscaleStabilization => "downscale-stabilization",
        DurationSetting::KedaPollingInterval => "keda-polling-interval",
        DurationSetting::Range => "range",
        DurationSetting::Step => "step",
    }
}

/// A lint finding's message with its hint as the flag that decides it.
pub fn lint_hint(finding: &mut lint::Finding) {
    if let Some(lint::Hint::Stack(stack)) = finding.hint {
        finding.message += &format!(" (lint with --stack {stack} to check)");
    }
}

/// The line that ends a simulation's scale events when some are left out.
pub fn events_left_out(count: usize) -> String {
    format!("  ... {count} more (see --format json)")
}

/// The library's list of the spec's apps, and how to give one when none.
fn apps_listing(apps: &[String]) -> String {
    let list = AppList(apps);
    if list.is_empty() {
        format!("{list} (give one with -c SPEC)")
    } else {
        list.to_string()
    }
}

#[cfg(test)]
#[path = "wording/tests.rs"]
mod tests;
