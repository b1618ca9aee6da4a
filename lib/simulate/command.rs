//! `gen-manifests simulate`: the whole command behind a thin CLI arm.

use std::path::PathBuf;

use crate::config::{App, Config};
use crate::values::parse_duration_millis;
use crate::Error;

use super::controller::DEFAULT_TOLERANCE;
use super::error::{DurationSetting, FeatureGateError, SecondsError, SimulateError, SweepError};
use super::model::{run, Autoscaler, SimOptions};
use super::plot::plot_files;
use super::report::{text_body, write_json_report};
use super::sweep::{run_sweep, Sweep};
use super::trace::Trace;

/// How the command prints its result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ReportFormat {
    /// Summary, terminal chart and scale events (or the sweep's table).
    #[default]
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Text,
    /// The series and summary (or the sweep's rows) as JSON.
    #[cfg_attr(feature = "cli", value(help = None::<&str>))]
    Json,
}

/// Where the load comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// A CSV file of `seconds,requests_per_second` rows.
    Csv(PathBuf),
    /// A live Prometheus: the app's total request rate over the last
    /// `range`, one point per `step`, from `query_range` of the same query
    /// `explain` shows, summed over the app's pods.
    Prometheus {
        /// Base URL, `http://host:port` or `https://host:port`.
        url: String,
        /// How far back, e.g. `24h`.
        range: String,
        /// Resolution, e.g. `15s`.
        step: String,
        /// Timeout of the request, in seconds.
        timeout_seconds: u64,
        /// A Prometheus `http_config` file: TLS, authorization, headers.
        http_config: Option<PathBuf>,
    },
}

impl LoadSource {
    /// Reads the trace of `app`.
    pub fn trace(&self, config: &Config, app: &App) -> Result<Trace, Error> {
        self.trace_and_files(config, app).map(|(trace, _)| trace)
    }

    /// The trace of `app`, and every file read for it (the CSV, or the
    /// `http_config` file and the files it names), which the plot must
    /// never be written over.
    fn trace_and_files(&self, config: &Config, app: &App) -> Result<(Trace, Vec<PathBuf>), Error> {
        match self {
            LoadSource::Csv(path) => Ok((Trace::read_csv(path)?, vec![path.clone()])),
            LoadSource::Prometheus {
                url,
                range,
                step,
                timeout_seconds,
                http_config,
            } => {
                let http = match http_config {
                    Some(path) => crate::http_config::HttpClientConfig::load(path)?,
                    None => crate::http_config::HttpClientConfig::default(),
                };
                let trace =
                    prometheus_trace(config, app, url, range, step, *timeout_seconds, &http)?;
                Ok((trace, http.files().to_vec()))
            }
        }
    }

    /// How reports name the source.
    pub fn label(&self) -> String {
        match self {
            LoadSource::Csv(path) => path.display().to_string(),
            LoadSource::Prometheus { url, range, .. } => format!("{url}, last {range}"),
        }
    }
}

fn prometheus_trace(
    config: &Config,
    app: &App,
    url: &str,
    range: &str,
    step: &str,
    timeout_seconds: u64,
    http: &crate::http_config::HttpClientConfig,
) -> Result<Trace, Error> {
    let seconds = |setting: DurationSetting, text: &str| -> Result<f64, SimulateError> {
        parse_duration_millis(text)
            .filter(|&ms| ms > 0)
            .map(|ms| ms as f64 / 1000.0)
            .ok_or_else(|| SimulateError::Duration {
                setting,
                error: SecondsError::NotPositive(text.to_owned()),
            })
    };
    let (range_seconds, step_seconds) = (
        seconds(DurationSetting::Range, range)?,
        seconds(DurationSetting::Step, step)?,
    );
    if range_seconds / step_seconds > 11_000.0 {
        return Err(SimulateError::TooManyPoints {
            range: range.to_owned(),
            step: step.to_owned(),
        }
        .into());
    }
    let query =
        crate::explain::app_total_query(config, app).ok_or_else(|| SimulateError::NoRule {
            metric: app.metric.to_string(),
            app: app.name.to_string(),
        })?;
    let client = crate::prometheus::Prometheus::with_http_config(
        url,
        std::time::Duration::from_secs(timeout_seconds.max(1)),
        http,
    )
    .map_err(SimulateError::Prometheus)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64().floor());
    let points = client.query_range_sum(&query, now - range_seconds, now, step_seconds)?;
    // Prometheus answers only within the range asked; a point outside it
    // (a broken or hostile server) would stretch the trace without bound.
    let (first, last) = (now - range_seconds - step_seconds, now + step_seconds);
    if let Some(&(t, _)) = points.iter().find(|(t, _)| !(first..=last).contains(t)) {
        return Err(SimulateError::PointOutsideRange {
            query,
            time: t,
            start: now - range_seconds,
            end: now,
        }
        .into());
    }
    let Some(&(start, _)) = points.first() else {
        return Err(SimulateError::NoData {
            query,
            range: range.to_owned(),
            url: url.to_owned(),
        }
        .into());
    };
    let mut relative: Vec<(f64, f64)> = points.iter().map(|&(t, v)| (t - start, v)).collect();
    // The last point ends the trace; repeat it one step on so it is replayed.
    if let Some(&(t, v)) = relative.last() {
        relative.push((t + step_seconds, v));
    }
    Ok(Trace::new(relative).map_err(SimulateError::PrometheusTrace)?)
}

/// What `gen-manifests simulate` was asked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// The app of the spec to simulate (`--app`).
    pub app: Option<String>,
    /// The load trace (`--load`).
    pub load: Option<LoadSource>,
    /// Pending time of a new pod as a duration such as `30s`
    /// (`--pod-startup`); `None` for 30 s.
    pub pod_startup: Option<String>,
    /// `--sync-period` (the controller's flag); `None` for 15 s.
    pub sync_period: Option<String>,
    /// `--tolerance` (the controller's flag); `None` for 0.1.
    pub tolerance: Option<f64>,
    /// `--downscale-stabilization` (the controller's flag); `None` for 5m.
    pub downscale_stabilization: Option<String>,
    /// `--initial-replicas`: a running Deployment's count; `None` for
    /// `minReplicas`.
    pub initial_replicas: Option<u32>,
    /// `--feature-gates` (the controller's flag, `Name=bool,...`); only
    /// `HPAConfigurableTolerance` (on by default, as from 1.35) counts.
    pub feature_gates: Option<String>,
    /// `--capacity`: requests per second one pod serves within its latency goal.
    pub capacity: Option<f64>,
    /// SVG chart to write, with a PNG next to it (`--plot`).
    pub plot: Option<PathBuf>,
    /// Output format (`--format`).
    pub format: ReportFormat,
    /// Sweeps such as `target=5,10,20` (`--sweep`, once or twice for a grid).
    pub sweep: Vec<String>,
    /// The sweep's overload allowance (`--max-overload-seconds`).
    pub max_overload_seconds: u64,
    /// On the keda backend, the trigger's `useCachedMetrics`
    /// (`--keda-cached-metrics`): the HPA reads the value of KEDA's last
    /// poll instead of a fresh query.
    pub keda_cached_metrics: bool,
    /// KEDA's `pollingInterval` (`--keda-polling-interval`); `None` for 30 s.
    pub keda_polling_interval: Option<String>,
}

/// The rule's `rate()` window for `app` (the first `rate`, `irate` or
/// `increase` in the query the adapter runs), in seconds; `None` when the
/// query has none.
pub fn rate_window_seconds(config: &Config, app: &App) -> Option<u64> {
    let query = crate::explain::app_total_query(config, app)?;
    let expr = crate::promql::parse(&query).ok()?;
    crate::promql::rate_windows(&expr)
        .first()
        .map(|(_, window)| window.as_secs().max(1))
}

/// The options a request and the spec give: the controller's flags, the
/// app's scrape interval and the rule's rate window.
pub fn options(config: &Config, app: &App, request: &Request) -> Result<SimOptions, Error> {
    let defaults = SimOptions::default();
    let whole_seconds = |setting: DurationSetting, text: &str, minimum: u64| {
        text.parse::<u64>()
            .ok()
            .or_else(|| parse_duration_millis(text).map(|ms| ms.div_ceil(1000)))
            .filter(|&s| s >= minimum && s <= 30 * 24 * 3600)
            .ok_or_else(|| SimulateError::Duration {
                setting,
                error: if minimum > 0 {
                    SecondsError::UnderOneSecond(text.to_owned())
                } else {
                    SecondsError::Invalid(text.to_owned())
                },
            })
    };
    let tolerance = request.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(SimulateError::Tolerance(tolerance).into());
    }
    if let Some(capacity) = request.capacity {
        if !(capacity.is_finite() && capacity > 0.0) {
            return Err(SimulateError::Capacity(capacity).into());
        }
    }
    let keda = config.backend == crate::spec::Backend::Keda;
    if request.keda_cached_metrics && !keda {
        return Err(SimulateError::CachedMetricsNeedKeda.into());
    }
    if request.keda_polling_interval.is_some() && !request.keda_cached_metrics {
        return Err(SimulateError::PollingIntervalNeedsCachedMetrics.into());
    }
    let keda_polling_interval_seconds = if request.keda_cached_metrics {
        Some(match &request.keda_polling_interval {
            Some(text) => whole_seconds(DurationSetting::KedaPollingInterval, text, 1)?,
            None => crate::keda::DEFAULT_POLLING_INTERVAL_SECONDS,
        })
    } else {
        None
    };
    if request.initial_replicas == Some(0) {
        return Err(SimulateError::ZeroInitialReplicas.into());
    }
    Ok(SimOptions {
        pod_startup_seconds: match &request.pod_startup {
            Some(text) => parse_pod_startup(text).map_err(|error| SimulateError::Duration {
                setting: DurationSetting::PodStartup,
                error,
            })?,
            None => defaults.pod_startup_seconds,
        },
        sync_period_seconds: match &request.sync_period {
            Some(text) => whole_seconds(DurationSetting::SyncPeriod, text, 1)?,
            None => defaults.sync_period_seconds,
        },
        tolerance,
        downscale_stabilization_seconds: match &request.downscale_stabilization {
            Some(text) => whole_seconds(DurationSetting::DownscaleStabilization, text, 0)?,
            None => defaults.downscale_stabilization_seconds,
        },
        initial_replicas: request.initial_replicas,
        scrape_interval_seconds: app.interval.as_secs().max(1),
        rate_window_seconds: rate_window_seconds(config, app),
        capacity: request.capacity,
        configurable_tolerance: match &request.feature_gates {
            Some(gates) => parse_feature_gates(gates).map_err(SimulateError::from)?,
            None => defaults.configurable_tolerance,
        },
        keda_polling_interval_seconds,
    })
}

/// Parses the controller's `--feature-gates` as kube-controller-manager
/// does (`Name=bool,...`, booleans by Go's `strconv.ParseBool`) and
/// returns whether HPAConfigurableTolerance is on (default: on, as from
/// 1.35; alpha and off in 1.33 and 1.34).
pub fn parse_feature_gates(text: &str) -> Result<bool, FeatureGateError> {
    let mut enabled = true;
    for gate in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let (name, value) = gate
            .split_once('=')
            .ok_or_else(|| FeatureGateError::MissingValue(gate.to_owned()))?;
        let value = match value.trim() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            other => {
                return Err(FeatureGateError::NotABoolean {
                    gate: gate.to_owned(),
                    value: other.to_owned(),
                })
            }
        };
        match name.trim() {
            "HPAConfigurableTolerance" => enabled = value,
            other => {
                return Err(FeatureGateError::Unknown {
                    gate: gate.to_owned(),
                    name: other.to_owned(),
                })
            }
        }
    }
    Ok(enabled)
}

/// Looks up `name` among the config's apps; a missing or unknown name is
/// an error listing the apps.
pub fn find_app<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a App, SimulateError> {
    let names = || config.apps.iter().map(|a| a.name.to_string()).collect();
    let Some(name) = name else {
        return Err(SimulateError::NoApp(names()));
    };
    config
        .apps
        .iter()
        .find(|a| a.name.as_str() == name)
        .ok_or_else(|| SimulateError::UnknownApp {
            name: name.to_owned(),
            apps: names(),
        })
}

/// Parses a pod startup time: a duration (`30s`, `1m`, `0s`) or whole
/// seconds.
pub fn parse_pod_startup(text: &str) -> Result<u64, SecondsError> {
    text.parse::<u64>()
        .ok()
        .or_else(|| parse_duration_millis(text).map(|ms| ms.div_ceil(1000)))
        .ok_or_else(|| SecondsError::Invalid(text.to_owned()))
}

/// What the command prints; [`Report::write_to`] writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Report(Printed);

#[derive(Clone, Debug, PartialEq)]
enum Printed {
    /// A text report without its last line, and how many scale events
    /// that line counts.
    Text {
        text: String,
        left_out: Option<usize>,
    },
    /// A sweep's report, text or JSON.
    Whole(String),
    /// One run as JSON: streamed, as its series grows with the trace.
    Json {
        sim: Box<super::model::Simulation>,
        app: String,
        source: String,
    },
}

impl Report {
    /// Writes the report to `out` (the JSON of one run is streamed: see
    /// [`write_json_report`]).
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_worded(out, &super::report::left_out_line)
    }

    /// The scale events a text report leaves out (the JSON report has them
    /// all), when it does.
    pub fn events_left_out(&self) -> Option<usize> {
        match &self.0 {
            Printed::Text { left_out, .. } => *left_out,
            Printed::Whole(_) | Printed::Json { .. } => None,
        }
    }

    /// [`Report::write_to`], the line that counts the scale events left
    /// out worded by `left_out_line` (without its newline): a command line
    /// names how to see them all.
    pub fn write_worded(
        &self,
        out: &mut dyn std::io::Write,
        left_out_line: &dyn Fn(usize) -> String,
    ) -> std::io::Result<()> {
        match &self.0 {
            Printed::Text { text, left_out } => {
                out.write_all(text.as_bytes())?;
                match left_out {
                    Some(count) => writeln!(out, "{}", left_out_line(*count)),
                    None => Ok(()),
                }
            }
            Printed::Whole(text) => out.write_all(text.as_bytes()),
            Printed::Json { sim, app, source } => write_json_report(sim, app, source, out),
        }
    }
}

/// Runs the command as [`execute_report`] does and returns what it prints
/// as one string.
pub fn execute(config: &Config, request: &Request) -> Result<String, Error> {
    let mut text = Vec::new();
    execute_report(config, request)?
        .write_to(&mut text)
        .expect("writing to memory");
    Ok(String::from_utf8(text).expect("reports are UTF-8"))
}

/// Runs the command: checks every input, simulates (or sweeps), writes the
/// plot files atomically if asked, and returns what to print. Nothing is
/// written when any input is bad.
pub fn execute_report(config: &Config, request: &Request) -> Result<Report, Error> {
    let app = find_app(config, request.app.as_deref())?;
    let options = options(config, app, request)?;
    let load = request.load.as_ref().ok_or(SimulateError::NoLoad)?;
    if let Some(plot) = &request.plot {
        if plot.extension().and_then(|e| e.to_str()) != Some("svg") {
            return Err(SimulateError::PlotNotSvg(plot.clone()).into());
        }
    }
    let sweep: Option<Sweep> = if request.sweep.is_empty() {
        None
    } else {
        let sweep = Sweep::new(&request.sweep).map_err(SimulateError::Sweep)?;
        if options.capacity.is_none() {
            return Err(SimulateError::Sweep(SweepError::NoCapacity).into());
        }
        sweep
            .settings(&Autoscaler::for_backend(config, app).map_err(SimulateError::from)?)
            .map_err(SimulateError::Sweep)?;
        Some(sweep)
    };
    let (trace, inputs) = load.trace_and_files(config, app)?;
    let source = load.label();
    let title = match config.backend {
        crate::spec::Backend::Adapter => format!("app {}, load {source}", app.name),
        crate::spec::Backend::Keda => format!(
            "app {} (KEDA ScaledObject, External metric{}), load {source}",
            app.name,
            match options.keda_polling_interval_seconds {
                Some(seconds) => format!(", cached every {seconds}s"),
                None => String::new(),
            }
        ),
    };
    let base = Autoscaler::for_backend(config, app).map_err(SimulateError::from)?;

    let write_plot = |plotted: &super::model::Simulation, plot_title: &str| -> Result<(), Error> {
        let Some(plot) = &request.plot else {
            return Ok(());
        };
        let files = plot_files(plotted, plot_title, plot).map_err(SimulateError::from)?;
        // Never over the load trace, the http_config or a file it names,
        // by any name.
        let mut transaction = crate::output::Transaction::new();
        for path in &inputs {
            transaction.protect(path);
        }
        for (path, bytes) in files {
            transaction.write(&path, bytes);
        }
        Ok(transaction.commit()?)
    };
    let output = match &sweep {
        None => {
            let sim = run(&base, &trace, &options).map_err(|error| SimulateError::Run {
                load: source.clone(),
                error,
            })?;
            write_plot(&sim, &title)?;
            match request.format {
                ReportFormat::Text => {
                    let (text, left_out) = text_body(&sim, &title);
                    Printed::Text { text, left_out }
                }
                ReportFormat::Json => Printed::Json {
                    sim: Box::new(sim),
                    app: app.name.as_str().to_owned(),
                    source,
                },
            }
        }
        Some(sweep) => {
            let result = run_sweep(&base, sweep, &trace, &options, request.max_overload_seconds)
                .map_err(|error| SimulateError::SweepRun {
                    load: source.clone(),
                    error,
                })?;
            let output = match request.format {
                ReportFormat::Text => result.text(&title),
                ReportFormat::Json => {
                    let mut value = serde_json::to_value(&result).expect("JSON");
                    if let serde_json::Value::Object(map) = &mut value {
                        map.insert("app".into(), app.name.as_str().into());
                        map.insert("source".into(), source.clone().into());
                    }
                    format!("{}\n", serde_json::to_string_pretty(&value).expect("JSON"))
                }
            };
            if request.plot.is_some() {
                let best = &result.rows[result.best];
                let sim = run(&best.autoscaler, &trace, &options).map_err(|error| {
                    SimulateError::Run {
                        load: source.clone(),
                        error,
                    }
                })?;
                write_plot(
                    &sim,
                    &format!("{title}, best of the sweep: {}", best.setting),
                )?;
            }
            Printed::Whole(output)
        }
    };
    Ok(Report(output))
}
