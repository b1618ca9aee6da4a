//! Why a simulation is refused: one error type per value kind (a trace
//! point, a duration setting, a feature gate, a sweep, a chart), and
//! [`SimulateError`] for a whole `simulate::Request`. Each carries the
//! values; none names a command-line flag (the CLI words them). They live
//! under `error`, below the tools, so that `Error` can hold them without
//! a module cycle; `simulate` re-exports them.

use std::path::PathBuf;

/// The setting a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SweepParameter {
    /// `targetAverageValue` (a Kubernetes quantity).
    Target,
    /// `minReplicas`.
    MinReplicas,
    /// `maxReplicas`.
    MaxReplicas,
    /// `behavior.scaleDown.stabilizationWindowSeconds` (seconds, or a
    /// duration such as `5m`).
    ScaleDownWindow,
}

impl SweepParameter {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SweepParameter::Target => "target",
            SweepParameter::MinReplicas => "minReplicas",
            SweepParameter::MaxReplicas => "maxReplicas",
            SweepParameter::ScaleDownWindow => "scaleDownWindow",
        }
    }
}

/// Why one point of a trace was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PointError {
    /// A negative, infinite or NaN time.
    #[error("time {0} is not a non-negative number of seconds")]
    Time(f64),
    /// A time not after the previous point's.
    #[error("time {time} is not after the previous row's {previous}: times must ascend")]
    NotAscending {
        /// The point's time.
        time: f64,
        /// The previous point's time.
        previous: f64,
    },
    /// A negative, infinite or NaN load.
    #[error("load {0} is not a non-negative number of requests per second")]
    Load(f64),
}

/// Why points were refused as a `Trace`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// A point is wrong (0-based index).
    #[error("point {index}: {error}")]
    Point {
        /// The point's index, from 0.
        index: usize,
        /// What is wrong with it.
        error: PointError,
    },
    /// Fewer than two points: the last one only ends the trace.
    #[error("the trace needs at least two rows: the last row's time is the end of the trace")]
    TooShort,
}

/// Why an autoscaler cannot be simulated (read from an HPA or a KEDA
/// ScaledObject).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AutoscalerError {
    /// A ScaledObject without a prometheus trigger.
    #[error("the ScaledObject has no prometheus trigger")]
    NoPrometheusTrigger,
    /// A trigger `metricType` other than AverageValue.
    #[error("metricType {0} is not simulated (only AverageValue)")]
    TriggerMetricType(String),
    /// A trigger without a numeric `threshold`.
    #[error("the trigger has no numeric threshold")]
    NoThreshold,
    /// A threshold KEDA rounds to 0.
    #[error("threshold {0} is 0 at KEDA's 3 decimals: the HPA would be refused")]
    ZeroThreshold(f64),
    /// An HPA without `spec`.
    #[error("the HPA has no spec")]
    NoSpec,
    /// An HPA without metrics.
    #[error("the HPA has no metrics")]
    NoMetrics,
    /// A metric without a positive AverageValue target.
    #[error("the metric has no positive AverageValue target")]
    NoAverageValue,
    /// A metric type other than Pods or External.
    #[error("metric type {0} is not simulated")]
    MetricType(String),
}

/// Why a run was refused before it started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// More syncs or scrapes than `MAX_STEPS`.
    #[error(
        "the trace is {seconds} s long: that is {syncs} HPA syncs at a {sync_period} s sync period \
         and {scrapes} scrapes at a {interval} s interval, more than the {max} a run may take; \
         shorten the trace or lengthen the sync period"
    )]
    TooLong {
        /// The trace's length in seconds.
        seconds: i64,
        /// HPA syncs it takes.
        syncs: u64,
        /// The sync period, seconds.
        sync_period: u64,
        /// Scrapes it takes.
        scrapes: u64,
        /// The scrape interval, seconds.
        interval: u64,
        /// The limit.
        max: u64,
    },
}

/// The usage hint of a sweep's syntax.
const SWEEP_USAGE: &str =
    "write NAME=V1,V2,... with NAME one of target, minReplicas, maxReplicas, scaleDownWindow";

/// Why a sweep was refused: its syntax, a value for its setting, or its
/// size.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    /// No `=`.
    #[error("`{0}` is not a sweep: {usage}", usage = SWEEP_USAGE)]
    NotASweep(String),
    /// A setting that cannot be swept.
    #[error("`{0}` cannot be swept: {usage}", usage = SWEEP_USAGE)]
    Setting(String),
    /// An empty value in the list.
    #[error("`{0}` has an empty value: {usage}", usage = SWEEP_USAGE)]
    EmptyValue(String),
    /// The same setting on both axes.
    #[error("{} is swept twice: give each setting once", .0.name())]
    Twice(SweepParameter),
    /// No axis, or more than two.
    #[error("{0} axes: sweep one setting, or two for a grid")]
    Axes(usize),
    /// More settings than `MAX_SETTINGS`.
    #[error("{count} settings: a sweep runs at most {max}")]
    TooManySettings {
        /// The settings asked for.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A replica count that is not a whole number of at least 1.
    #[error("{}={value}: give a whole number of at least 1", .parameter.name())]
    NotWhole {
        /// `minReplicas` or `maxReplicas`.
        parameter: SweepParameter,
        /// The value as written.
        value: String,
    },
    /// A target that is not a quantity.
    #[error("target={value}: {error}")]
    Target {
        /// The value as written.
        value: String,
        /// Why.
        error: crate::values::QuantityError,
    },
    /// A target of 0 (in milli-units).
    #[error("target={0}: the target must be above 0")]
    TargetZero(String),
    /// A scale-down window outside 0 to 3600 seconds.
    #[error("scaleDownWindow={0}: give seconds from 0 to 3600, or a duration such as 5m")]
    Window(String),
    /// A combination whose minReplicas is above its maxReplicas.
    #[error("{setting}: minReplicas {min} is above maxReplicas {max}")]
    MinAboveMax {
        /// The combination, `name=value ...`.
        setting: String,
        /// Its minReplicas.
        min: i32,
        /// Its maxReplicas.
        max: i32,
    },
    /// An axis without values.
    #[error("the sweep has no values")]
    NoValues,
    /// No capacity to rank the settings by.
    #[error(
        "a sweep needs a capacity: the requests per second one pod serves within its latency \
         goal, the overload line for every setting (a row's own target cannot rank rows)"
    )]
    NoCapacity,
    /// More steps over all settings than
    /// `MAX_SWEEP_STEPS`.
    #[error(
        "{settings} settings x {steps} HPA syncs (or scrapes) each is {total}, more than the \
         {max} a sweep may take; sweep fewer values or a shorter trace"
    )]
    TooManySteps {
        /// The limit.
        max: u64,
        /// The settings.
        settings: usize,
        /// Steps per setting.
        steps: u64,
        /// Their product.
        total: u64,
    },
    /// A setting's run was refused.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Why a chart could not be drawn.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot {step} the {image} chart: {message}")]
pub struct PlotError {
    /// `draw` or `encode`.
    pub step: &'static str,
    /// `SVG` or `PNG`.
    pub image: &'static str,
    /// The drawing library's message.
    pub message: String,
}

/// Why a duration setting of a `Request` was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecondsError {
    /// Not a duration (or whole seconds), or over 30 days.
    #[error("`{0}` is not a duration: write e.g. 30s, 1m or 0s")]
    Invalid(String),
    /// Under the setting's minimum of 1 second.
    #[error("`{0}` is not a duration of at least 1s: write e.g. 15s, 1m or 5m")]
    UnderOneSecond(String),
    /// Not a positive duration (a Prometheus range or step).
    #[error("`{0}` is not a positive duration: write e.g. 15s, 1h or 24h")]
    NotPositive(String),
}

/// A duration setting of a `Request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationSetting {
    /// `Request::pod_startup`.
    PodStartup,
    /// `Request::sync_period`.
    SyncPeriod,
    /// `Request::downscale_stabilization`.
    DownscaleStabilization,
    /// `Request::keda_polling_interval`.
    KedaPollingInterval,
    /// A Prometheus load source's `range`.
    Range,
    /// A Prometheus load source's `step`.
    Step,
}

impl DurationSetting {
    /// The setting in words.
    pub fn as_str(self) -> &'static str {
        match self {
            DurationSetting::PodStartup => "pod startup",
            DurationSetting::SyncPeriod => "sync period",
            DurationSetting::DownscaleStabilization => "downscale stabilization",
            DurationSetting::KedaPollingInterval => "KEDA polling interval",
            DurationSetting::Range => "range",
            DurationSetting::Step => "step",
        }
    }
}

impl std::fmt::Display for DurationSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the controller's feature gates (`Name=bool,...`) were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeatureGateError {
    /// A gate without `=`.
    #[error("`{0}`: missing `=bool`; write e.g. HPAConfigurableTolerance=false")]
    MissingValue(String),
    /// A value Go's `strconv.ParseBool` refuses.
    #[error("`{gate}`: `{value}` is not a boolean; write e.g. HPAConfigurableTolerance=false")]
    NotABoolean {
        /// The gate as written.
        gate: String,
        /// Its value.
        value: String,
    },
    /// A gate the simulation does not model.
    #[error(
        "`{gate}`: `{name}` is not a gate the simulation models (only HPAConfigurableTolerance); \
         write e.g. HPAConfigurableTolerance=false"
    )]
    Unknown {
        /// The gate as written.
        gate: String,
        /// Its name.
        name: String,
    },
}

/// Why a simulation `Request` was refused; nothing was
/// written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SimulateError {
    /// No app named; the spec's apps.
    #[error("no app to simulate named; {}", AppList(.0))]
    NoApp(Vec<String>),
    /// No app of that name; the spec's apps.
    #[error("no app `{name}`; {}", AppList(.apps))]
    UnknownApp {
        /// The name asked for.
        name: String,
        /// The spec's apps.
        apps: Vec<String>,
    },
    /// A duration setting's value.
    #[error("{setting}: {error}")]
    Duration {
        /// The setting.
        setting: DurationSetting,
        /// Why.
        error: SecondsError,
    },
    /// A negative or non-finite tolerance.
    #[error("tolerance {0}: give a fraction such as 0.1 (0 or more)")]
    Tolerance(f64),
    /// A capacity that is not above 0.
    #[error("capacity {0}: give the requests per second one pod serves, above 0")]
    Capacity(f64),
    /// Initial replicas of 0.
    #[error(
        "initial replicas 0: the HPA does not scale a Deployment at 0 replicas; give 1 or more"
    )]
    ZeroInitialReplicas,
    /// The controller's feature gates.
    #[error("feature gates {0}")]
    FeatureGate(#[from] FeatureGateError),
    /// KEDA's cached metrics on the adapter backend.
    #[error("KEDA's cached metrics need the keda backend (backend: keda in the spec)")]
    CachedMetricsNeedKeda,
    /// A polling interval without cached metrics.
    #[error(
        "a KEDA polling interval needs cached metrics: without useCachedMetrics KEDA's metrics \
         server runs the query whenever the HPA asks, and the polling interval only decides \
         scaling from and to 0"
    )]
    PollingIntervalNeedsCachedMetrics,
    /// No load source.
    #[error("no load to simulate: give a CSV trace or a Prometheus")]
    NoLoad,
    /// A chart path that is not an `.svg` file.
    #[error("{}: name an .svg file (the PNG is written next to it)", .0.display())]
    PlotNotSvg(PathBuf),
    /// The sweep.
    #[error("sweep: {0}")]
    Sweep(#[from] SweepError),
    /// A Prometheus range at its step asks for too many points.
    #[error(
        "range {range} at step {step} asks for more than 11,000 points, Prometheus' limit: use a \
         larger step"
    )]
    TooManyPoints {
        /// The range as written.
        range: String,
        /// The step as written.
        step: String,
    },
    /// No rule serves the app's metric, so there is no query to ask.
    #[error("no rule serves `{metric}` for app {app}")]
    NoRule {
        /// The app's metric.
        metric: String,
        /// The app.
        app: String,
    },
    /// The Prometheus URL or http config.
    #[error("{0}")]
    Prometheus(crate::prometheus::PrometheusError),
    /// Prometheus answered a point outside the range asked.
    #[error(
        "the answer to `{query}` has a point at {time} s (Unix time), outside the range asked \
         ({start} to {end}): not a Prometheus range query's answer"
    )]
    PointOutsideRange {
        /// The query.
        query: String,
        /// The point's time.
        time: f64,
        /// The range's start.
        start: f64,
        /// The range's end.
        end: f64,
    },
    /// Prometheus has no data for the query.
    #[error("no data for `{query}` over the last {range} at {url}")]
    NoData {
        /// The query.
        query: String,
        /// The range as written.
        range: String,
        /// The Prometheus.
        url: String,
    },
    /// Prometheus' answer is not a trace.
    #[error("{0}")]
    PrometheusTrace(TraceError),
    /// The autoscaler the backend deploys cannot be simulated.
    #[error(transparent)]
    Autoscaler(#[from] AutoscalerError),
    /// The run was refused.
    #[error("{load}: {error}")]
    Run {
        /// The load source, as reports name it.
        load: String,
        /// Why.
        error: RunError,
    },
    /// The sweep's runs were refused.
    #[error("sweep on {load}: {error}")]
    SweepRun {
        /// The load source, as reports name it.
        load: String,
        /// Why.
        error: SweepError,
    },
    /// The chart.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

/// The spec's apps in an error: `the spec's apps: a, b`, or `the spec has
/// no apps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppList<'a>(pub &'a [String]);

impl AppList<'_> {
    /// Whether the spec has no apps.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for AppList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("the spec has no apps")
        } else {
            write!(f, "the spec's apps: {}", self.0.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every variant whose message the library words.
    pub(crate) fn every_simulate_error() -> Vec<SimulateError> {
        let sweep = vec![
            SweepError::NotASweep("x".into()),
            SweepError::Setting("replicas".into()),
            SweepError::EmptyValue("target=1,".into()),
            SweepError::Twice(SweepParameter::Target),
            SweepError::Axes(3),
            SweepError::TooManySettings {
                count: 20_000,
                max: 10_000,
            },
            SweepError::NotWhole {
                parameter: SweepParameter::MinReplicas,
                value: "0".into(),
            },
            SweepError::Target {
                value: "x".into(),
                error: "x".parse::<crate::values::Quantity>().unwrap_err(),
            },
            SweepError::TargetZero("0".into()),
            SweepError::Window("2h".into()),
            SweepError::MinAboveMax {
                setting: "minReplicas=30".into(),
                min: 30,
                max: 20,
            },
            SweepError::NoValues,
            SweepError::NoCapacity,
            SweepError::TooManySteps {
                max: 5,
                settings: 2,
                steps: 3,
                total: 6,
            },
            SweepError::Run(too_long()),
        ];
        let mut errors = vec![
            SimulateError::NoApp(vec![]),
            SimulateError::NoApp(vec!["web".into()]),
            SimulateError::UnknownApp {
                name: "api".into(),
                apps: vec!["web".into()],
            },
            SimulateError::Tolerance(-1.0),
            SimulateError::Capacity(0.0),
            SimulateError::ZeroInitialReplicas,
            SimulateError::CachedMetricsNeedKeda,
            SimulateError::PollingIntervalNeedsCachedMetrics,
            SimulateError::NoLoad,
            SimulateError::PlotNotSvg("chart.png".into()),
            SimulateError::TooManyPoints {
                range: "30d".into(),
                step: "1s".into(),
            },
            SimulateError::NoRule {
                metric: "m".into(),
                app: "web".into(),
            },
            SimulateError::Prometheus(crate::prometheus::PrometheusError::BadUrl("x".into())),
            SimulateError::Prometheus(crate::prometheus::PrometheusError::Untrusted {
                url: "https://h:1".into(),
                cause: "UnknownIssuer".into(),
            }),
            SimulateError::Prometheus(crate::prometheus::PrometheusError::TooLarge {
                url: "https://h:1".into(),
                limit: 4,
            }),
            SimulateError::Prometheus(crate::prometheus::PrometheusError::Denied {
                status: 401,
                message: "bad token".into(),
            }),
            SimulateError::PointOutsideRange {
                query: "q".into(),
                time: 1.0,
                start: 2.0,
                end: 3.0,
            },
            SimulateError::NoData {
                query: "q".into(),
                range: "1h".into(),
                url: "http://127.0.0.1:9090".into(),
            },
            SimulateError::PrometheusTrace(TraceError::TooShort),
            SimulateError::PrometheusTrace(TraceError::Point {
                index: 1,
                error: PointError::Load(-1.0),
            }),
            SimulateError::Autoscaler(AutoscalerError::NoPrometheusTrigger),
            SimulateError::Run {
                load: "load.csv".into(),
                error: too_long(),
            },
            SimulateError::Plot(PlotError {
                step: "draw",
                image: "SVG",
                message: "no font".into(),
            }),
        ];
        for setting in [
            DurationSetting::PodStartup,
            DurationSetting::SyncPeriod,
            DurationSetting::DownscaleStabilization,
            DurationSetting::KedaPollingInterval,
            DurationSetting::Range,
            DurationSetting::Step,
        ] {
            for error in [
                SecondsError::Invalid("soon".into()),
                SecondsError::UnderOneSecond("0s".into()),
                SecondsError::NotPositive("0s".into()),
            ] {
                errors.push(SimulateError::Duration { setting, error });
            }
        }
        for error in [
            FeatureGateError::MissingValue("A".into()),
            FeatureGateError::NotABoolean {
                gate: "A=x".into(),
                value: "x".into(),
            },
            FeatureGateError::Unknown {
                gate: "A=true".into(),
                name: "A".into(),
            },
        ] {
            errors.push(error.into());
        }
        for error in sweep {
            errors.push(SimulateError::SweepRun {
                load: "load.csv".into(),
                error: error.clone(),
            });
            errors.push(SimulateError::Sweep(error));
        }
        errors
    }

    fn too_long() -> RunError {
        RunError::TooLong {
            seconds: 1,
            syncs: 2,
            sync_period: 3,
            scrapes: 4,
            interval: 5,
            max: 6,
        }
    }

    /// The library words its errors in its own terms: no command-line
    /// flag (`--range`, `-c`) in any of them.
    #[test]
    fn no_flag_in_any_message() {
        for error in every_simulate_error() {
            let message = error.to_string();
            assert!(
                !message.contains("--") && !message.contains(" -c "),
                "{message}"
            );
        }
    }
}
