//! The pods, the metric pipeline and the HPA controller, replayed over a
//! load trace one event at a time.
//!
//! Stages, each on its own clock (see the module docs of
//! [`crate::simulate`]): pods (Pending for `--pod-startup`, then Running and
//! taking an even share of the load), Prometheus scrapes of each pod's
//! request counter every scrape interval, the rule's `rate(...[window])` as
//! Prometheus evaluates it, the HPA sync, and for an External metric served
//! by KEDA with `useCachedMetrics`, KEDA's polling interval.

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
};
use serde::Serialize;

use crate::config::App;
use crate::spec::{BehaviorSpec, PolicyKind, SelectPolicy};

use super::controller::{
    calc_plain_metric_replicas, external_per_pod_metric_replicas, milli_value, Behavior, CalcError,
    Controller, HpaSpec, Millis, PodGroup, PodState, Policy, ScalingRules,
    DEFAULT_DOWNSCALE_STABILIZATION_SECONDS, DEFAULT_TOLERANCE,
};
use super::error::{AutoscalerError, RunError};
use super::trace::Trace;

/// Seconds within which an opposite scale event counts as reversing a
/// change, for [`Summary::largest_flap`]: the default scale-down
/// stabilization window, fixed so that settings compare on one scale.
pub const FLAP_WINDOW_SECONDS: u64 = 300;

/// Most HPA syncs (or scrapes) one run may take: a bound on the work and
/// the memory (the per-sync series is kept), so that a long trace fails
/// at once instead of running for seconds: 500,000 syncs are 86 days at
/// the default 15 s sync period. `make bench` measures a run at this
/// limit (under 2 s and 100 MiB).
pub const MAX_STEPS: u64 = 500_000;

/// Most HPA syncs (or scrapes) a sweep may take over all its settings
/// together (each setting replays the whole trace): e.g. 100 settings of a
/// 24 h trace at 15 s syncs take 576,100.
pub const MAX_SWEEP_STEPS: u64 = 1_000_000;

/// The work one run of `trace` takes: the larger of its HPA syncs and its
/// Prometheus scrapes (the pipeline warms up before time 0).
pub fn run_steps(trace: &Trace, options: &SimOptions) -> u64 {
    let timing = Timing::new(trace, options);
    timing.syncs.max(timing.scrapes)
}

/// A run's clocks, in milliseconds, and how many steps each takes.
struct Timing {
    duration_ms: i64,
    sync_ms: i64,
    scrape_ms: i64,
    window_ms: Option<i64>,
    start: i64,
    syncs: u64,
    scrapes: u64,
}

impl Timing {
    fn new(trace: &Trace, options: &SimOptions) -> Timing {
        // Saturating: a far timestamp (1e15 s) counts as too many steps
        // instead of overflowing.
        let duration_ms = (trace.duration_seconds() * 1000.0)
            .round()
            .min(i64::MAX as f64 / 4.0) as i64;
        let sync_ms = ms(options.sync_period_seconds.max(1));
        let scrape_ms = ms(options.scrape_interval_seconds.max(1));
        let window_ms = options.rate_window_seconds.map(|w| ms(w.max(1)));
        let warmup = window_ms.unwrap_or(0).saturating_add(2 * scrape_ms);
        let start = -(((warmup + scrape_ms - 1) / scrape_ms).saturating_mul(scrape_ms));
        Timing {
            duration_ms,
            sync_ms,
            scrape_ms,
            window_ms,
            start,
            syncs: count_steps(duration_ms, sync_ms),
            scrapes: count_steps(duration_ms.saturating_sub(start), scrape_ms),
        }
    }
}

/// The metric the HPA scales on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MetricTarget {
    /// A `Pods` metric with an `AverageValue` target (milli-units), served
    /// by prometheus-adapter: one value per pod.
    Pods {
        /// `target.averageValue` in thousandths.
        average_value_milli: i64,
    },
    /// An `External` metric with an `AverageValue` target (milli-units), as
    /// KEDA's ScaledObjects create: one value for the whole app.
    External {
        /// `target.averageValue` in thousandths.
        average_value_milli: i64,
    },
}

impl MetricTarget {
    /// The per-pod target in thousandths.
    pub fn milli(self) -> i64 {
        match self {
            MetricTarget::Pods {
                average_value_milli,
            }
            | MetricTarget::External {
                average_value_milli,
            } => average_value_milli,
        }
    }
}

/// What the simulated HPA is configured with.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaler {
    /// Target per-pod average of the metric (requests per second).
    pub target: f64,
    /// The metric and its exact target.
    pub metric: MetricTarget,
    /// Bounds and defaulted behavior (`None`: the legacy path).
    #[serde(flatten)]
    pub spec: HpaSpec,
}

impl Autoscaler {
    /// The HPA the generator writes for `app`
    /// ([`crate::autoscaling::horizontal_pod_autoscaler`]), read back by
    /// [`Autoscaler::from_hpa`]: what is simulated is what is deployed.
    pub fn from_app(app: &App) -> Autoscaler {
        Autoscaler::from_hpa(&crate::autoscaling::horizontal_pod_autoscaler(app))
            .expect("the generator writes a Pods metric with an AverageValue target")
    }

    /// What the HPA KEDA creates for `scaled` does: KEDA's `keda-hpa-*`
    /// (or adopted) HPA with one External metric, `AverageValue` target
    /// the first prometheus trigger's `threshold` rounded to thousandths as
    /// KEDA does (`%.3f`), `minReplicas` the `minReplicaCount` when above 0
    /// else 1 and `maxReplicas` the `maxReplicaCount` else 100
    /// (`GetHPAMinReplicas`/`GetHPAMaxReplicas`), and
    /// `advanced.horizontalPodAutoscalerConfig.behavior` defaulted as the
    /// API server does.
    pub fn from_scaled_object(
        scaled: &crate::keda::ScaledObject,
    ) -> Result<Autoscaler, AutoscalerError> {
        let trigger = scaled
            .spec
            .triggers
            .iter()
            .find(|t| t.kind == "prometheus")
            .ok_or(AutoscalerError::NoPrometheusTrigger)?;
        if trigger.metric_type != "AverageValue" {
            return Err(AutoscalerError::TriggerMetricType(
                trigger.metric_type.clone(),
            ));
        }
        let threshold = trigger
            .metadata
            .get("threshold")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .ok_or(AutoscalerError::NoThreshold)?;
        let milli = crate::keda::milli_quantity(threshold);
        if milli <= 0 {
            return Err(AutoscalerError::ZeroThreshold(threshold));
        }
        let min = crate::keda::hpa_min_replicas(Some(i64::from(scaled.spec.min_replica_count)));
        let max = crate::keda::hpa_max_replicas(Some(i64::from(scaled.spec.max_replica_count)));
        Ok(Autoscaler {
            target: milli as f64 / 1000.0,
            metric: MetricTarget::External {
                average_value_milli: milli,
            },
            spec: HpaSpec {
                min_replicas: i32::try_from(min).unwrap_or(i32::MAX),
                max_replicas: i32::try_from(max).unwrap_or(i32::MAX),
                behavior: scaled
                    .spec
                    .advanced
                    .horizontal_pod_autoscaler_config
                    .behavior
                    .as_ref()
                    .map(defaulted),
            },
        })
    }

    /// The autoscaler the config's backend deploys for `app`: the HPA
    /// ([`Autoscaler::from_app`]) or KEDA's HPA for the app's ScaledObject
    /// ([`Autoscaler::from_scaled_object`]).
    pub fn for_backend(
        config: &crate::config::Config,
        app: &App,
    ) -> Result<Autoscaler, AutoscalerError> {
        match config.backend {
            crate::spec::Backend::Adapter => Ok(Autoscaler::from_app(app)),
            crate::spec::Backend::Keda => {
                Autoscaler::from_scaled_object(&crate::keda::scaled_object(config, app))
            }
        }
    }

    /// An HPA from its parts; `behavior: None` means no `behavior` in the
    /// HPA (the controller's legacy path).
    pub fn new(
        target: f64,
        min_replicas: u32,
        max_replicas: u32,
        behavior: Option<&BehaviorSpec>,
    ) -> Autoscaler {
        let milli = (target * 1000.0).ceil().clamp(1.0, i64::MAX as f64) as i64;
        Autoscaler {
            target,
            metric: MetricTarget::Pods {
                average_value_milli: milli,
            },
            spec: HpaSpec {
                min_replicas: clamp_i32(min_replicas),
                max_replicas: clamp_i32(max_replicas),
                behavior: behavior.map(|b| defaulted(&crate::autoscaling::behavior(b))),
            },
        }
    }

    /// Reads an autoscaling/v2 HPA object: `minReplicas` (1 when unset),
    /// `maxReplicas`, the first metric (Pods or External with an
    /// AverageValue target) and `behavior`, defaulted as the API server does
    /// (`SetDefaults_HorizontalPodAutoscalerBehavior`: only when set).
    pub fn from_hpa(hpa: &HorizontalPodAutoscaler) -> Result<Autoscaler, AutoscalerError> {
        let spec = SpecField::get(&hpa.spec).ok_or(AutoscalerError::NoSpec)?;
        let metric = spec
            .metrics
            .as_ref()
            .and_then(|m| m.first())
            .ok_or(AutoscalerError::NoMetrics)?;
        let average = |target: &k8s_openapi::api::autoscaling::v2::MetricTarget| {
            target
                .average_value
                .as_ref()
                .and_then(|q| milli_value(&q.0))
                .filter(|&m| m > 0)
                .ok_or(AutoscalerError::NoAverageValue)
        };
        let metric = match (&metric.pods, &metric.external) {
            (Some(pods), _) => MetricTarget::Pods {
                average_value_milli: average(&pods.target)?,
            },
            (None, Some(external)) => MetricTarget::External {
                average_value_milli: average(&external.target)?,
            },
            _ => return Err(AutoscalerError::MetricType(metric.type_.clone())),
        };
        Ok(Autoscaler {
            target: metric.milli() as f64 / 1000.0,
            metric,
            spec: HpaSpec {
                min_replicas: spec.min_replicas.unwrap_or(1),
                max_replicas: spec.max_replicas,
                behavior: spec.behavior.as_ref().map(|b| Behavior {
                    scale_up: generate_rules(b.scale_up.as_ref(), ScalingRules::default_scale_up()),
                    scale_down: generate_rules(
                        b.scale_down.as_ref(),
                        ScalingRules::default_scale_down(),
                    ),
                }),
            },
        })
    }
}

/// Reads `HorizontalPodAutoscaler.spec`, `T` or `Option<T>` depending on
/// the Kubernetes version the library is built for.
trait SpecField {
    fn get(&self) -> Option<&HorizontalPodAutoscalerSpec>;
}

impl SpecField for HorizontalPodAutoscalerSpec {
    fn get(&self) -> Option<&HorizontalPodAutoscalerSpec> {
        Some(self)
    }
}

impl SpecField for Option<HorizontalPodAutoscalerSpec> {
    fn get(&self) -> Option<&HorizontalPodAutoscalerSpec> {
        self.as_ref()
    }
}

fn clamp_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn defaulted(b: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior) -> Behavior {
    Behavior {
        scale_up: generate_rules(b.scale_up.as_ref(), ScalingRules::default_scale_up()),
        scale_down: generate_rules(b.scale_down.as_ref(), ScalingRules::default_scale_down()),
    }
}

/// `GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules` with
/// `copyHPAScalingRules`: each field set in `from` replaces the default.
fn generate_rules(from: Option<&HPAScalingRules>, mut to: ScalingRules) -> ScalingRules {
    let Some(from) = from else {
        return to;
    };
    if let Some(select) = &from.select_policy {
        to.select_policy = match select.as_str() {
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            _ => SelectPolicy::Max,
        };
    }
    if let Some(window) = from.stabilization_window_seconds {
        to.stabilization_window_seconds = Some(window);
    }
    if let Some(policies) = &from.policies {
        to.policies = policies
            .iter()
            .map(|p| Policy {
                kind: if p.type_ == "Percent" {
                    PolicyKind::Percent
                } else {
                    PolicyKind::Pods
                },
                value: p.value,
                period_seconds: p.period_seconds,
            })
            .collect();
    }
    if let Some(tolerance) = &from.tolerance {
        // AsApproximateFloat64: the value itself, not rounded to milli-units.
        to.tolerance = tolerance
            .0
            .parse::<crate::values::Quantity>()
            .ok()
            .map(|q| q.as_f64());
    }
    to
}

/// Simulation settings that are not part of the HPA: the controller's
/// flags and state, and the metric pipeline's clocks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimOptions {
    /// Seconds a new pod is Pending (scheduling, image pull, start-up until
    /// Ready); then it is Running and takes load.
    pub pod_startup_seconds: u64,
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period_seconds: u64,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (300 s).
    pub downscale_stabilization_seconds: u64,
    /// Replicas when the run starts (a running Deployment's count; all
    /// Running); `None` for `minReplicas`.
    pub initial_replicas: Option<u32>,
    /// Prometheus' scrape interval for the app's pods (the ServiceMonitor's).
    pub scrape_interval_seconds: u64,
    /// The rule's `rate()` window; `None` when the query has none (the
    /// metric is then the last scraped value).
    pub rate_window_seconds: Option<u64>,
    /// The HPAConfigurableTolerance feature gate (beta and on since 1.35):
    /// whether `behavior.*.tolerance` counts.
    pub configurable_tolerance: bool,
    /// Requests per second one pod can serve within its latency goal: the
    /// overload line, the same for every setting of a sweep.
    pub capacity: Option<f64>,
    /// External metric through KEDA with `useCachedMetrics`: the HPA reads
    /// the value of KEDA's last poll (`pollingInterval`); `None` for a
    /// value read at each sync (KEDA's metrics server runs the query when
    /// the HPA asks, the default).
    pub keda_polling_interval_seconds: Option<u64>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            pod_startup_seconds: 30,
            sync_period_seconds: 15,
            tolerance: DEFAULT_TOLERANCE,
            downscale_stabilization_seconds: DEFAULT_DOWNSCALE_STABILIZATION_SECONDS as u64,
            initial_replicas: None,
            scrape_interval_seconds: 30,
            rate_window_seconds: Some(120),
            configurable_tolerance: true,
            capacity: None,
            keda_polling_interval_seconds: None,
        }
    }
}

/// The state after one controller sync.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Seconds since the start of the trace.
    pub time: u64,
    /// The offered load: total requests per second.
    pub load: f64,
    /// The value the HPA saw: the per-pod average of the metric it read
    /// (`currentMetrics`), `None` when it could read none.
    pub seen: Option<f64>,
    /// The metric's proposal (`metricDesiredReplicas`); the current
    /// replicas when no metric was read.
    pub desired: u32,
    /// Replicas after this sync (the Deployment's `spec.replicas`).
    pub replicas: u32,
    /// Running pods after this sync (the ones taking load).
    pub ready: u32,
    /// Load per running pod after this sync.
    pub per_pod_load: f64,
}

/// A change of the replica count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleEvent {
    /// Seconds since the start of the trace.
    pub time: u64,
    /// Replicas before.
    pub from: u32,
    /// Replicas after.
    pub to: u32,
}

/// The largest flap: a change that opposite changes undid within
/// [`FLAP_WINDOW_SECONDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Flap {
    /// When the reversed change happened.
    pub time: u64,
    /// How many of its replicas opposite changes took back within the
    /// window: `min(|change|, sum of |opposite changes| in the window)`.
    pub replicas: u32,
}

/// What a run cost and how well it kept up.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Seconds simulated.
    pub duration_seconds: u64,
    /// Highest load replayed (requests per second).
    pub peak_load: f64,
    /// Most replicas at any time.
    pub peak_replicas: u32,
    /// When the peak was first reached.
    pub peak_at: u64,
    /// Replicas (Pending or Running) integrated over time: what the run costs.
    pub pod_seconds: u64,
    /// Seconds in which the load per running pod was above the target.
    pub seconds_above_target: u64,
    /// Seconds in which the load per running pod was above `--capacity`.
    pub seconds_above_capacity: Option<u64>,
    /// Number of replica changes.
    pub scale_events: usize,
    /// The largest change reversed within [`FLAP_WINDOW_SECONDS`]; `None`
    /// when no change was reversed.
    pub largest_flap: Option<Flap>,
}

/// A stretch of time with one load and one set of pods, for charts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// Start, in seconds since the start of the trace.
    pub start: f64,
    /// End (exclusive).
    pub end: f64,
    /// Total requests per second.
    pub load: f64,
    /// Replicas, Pending or Running.
    pub replicas: u32,
    /// Running pods.
    pub ready: u32,
    /// Load per running pod (infinite when load arrives and none runs).
    pub per_pod_load: f64,
    /// The value the HPA saw at its last sync.
    pub seen: Option<f64>,
}

/// One run of the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    /// The HPA simulated.
    pub autoscaler: Autoscaler,
    /// The simulation settings.
    pub options: SimOptions,
    /// The state after every sync.
    pub series: Vec<Sample>,
    /// Every replica change.
    pub events: Vec<ScaleEvent>,
    /// The totals.
    pub summary: Summary,
    /// The timeline, for charts (not serialized: the JSON output carries
    /// the per-sync `series`).
    #[serde(skip)]
    pub segments: Vec<Segment>,
}

/// Replays `trace` through the HPA that the generator writes for `app`.
pub fn simulate(app: &App, trace: &Trace, options: &SimOptions) -> Result<Simulation, RunError> {
    run(&Autoscaler::from_app(app), trace, options)
}

/// Pods created together: they share their phases and counters.
#[derive(Clone, Copy, Debug)]
struct Cohort {
    count: u64,
    running_at: i64,
    /// The cumulative per-running-pod request count when it started running.
    base: f64,
}

/// One scrape: the cumulative per-running-pod requests and the
/// instantaneous per-pod load.
#[derive(Clone, Copy, Debug)]
struct Scrape {
    at: i64,
    cumulative: f64,
    share: f64,
}

/// `extrapolatedRate` (prometheus promql/functions.go) of a counter for
/// `rate()`: `points` are the samples in the range `(end - range, end]`,
/// oldest first; `None` below two samples.
pub fn prometheus_rate(points: &[(i64, f64)], end: i64, range: i64) -> Option<f64> {
    if points.len() < 2 || range <= 0 {
        return None;
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    let result = last.1 - first.1;
    let mut to_start = (first.0 - (end - range)) as f64 / 1000.0;
    let mut to_end = (end - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    if sampled <= 0.0 {
        return None;
    }
    let average = sampled / (points.len() - 1) as f64;
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let factor = (sampled + to_start + to_end) / sampled / (range as f64 / 1000.0);
    Some(result * factor)
}

/// The time of KEDA's last poll at or before `now`, polling every
/// `polling_interval` from time 0: the value an HPA reads through KEDA's
/// metrics server when the trigger sets `useCachedMetrics`.
pub fn keda_last_poll(now: Millis, polling_interval: Millis) -> Millis {
    if polling_interval <= 0 {
        return now;
    }
    now - now.rem_euclid(polling_interval)
}

/// The adapter's value for a rate: `NewMilliQuantity(int64(value*1000))`.
fn to_milli(value: f64) -> i64 {
    (value * 1000.0)
        .trunc()
        .clamp(i64::MIN as f64, i64::MAX as f64) as i64
}

struct Pipeline {
    scrape_ms: i64,
    window_ms: Option<i64>,
    scrapes: std::collections::VecDeque<Scrape>,
}

impl Pipeline {
    /// Per pod of a cohort running since `running_at` with counter base
    /// `base`: the rule's value at `now`, `None` for no series yet.
    fn pod_value(&self, now: i64, running_at: i64, base: f64) -> Option<f64> {
        match self.window_ms {
            Some(window) => {
                let points: Vec<(i64, f64)> = self
                    .scrapes
                    .iter()
                    .filter(|s| s.at > now - window && s.at <= now && s.at >= running_at)
                    .map(|s| (s.at, s.cumulative - base))
                    .collect();
                prometheus_rate(&points, now, window)
            }
            // No rate(): the last sample within Prometheus' 5 m lookback.
            None => self
                .scrapes
                .iter()
                .rev()
                .find(|s| s.at <= now && s.at >= running_at && s.at > now - 300_000)
                .map(|s| s.share),
        }
    }

    fn forget_before(&mut self, keep_from: i64) {
        while self.scrapes.len() > 2 && self.scrapes[1].at < keep_from {
            self.scrapes.pop_front();
        }
    }
}

fn ms(seconds: u64) -> i64 {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

fn count_steps(span_ms: i64, step_ms: i64) -> u64 {
    (span_ms.max(0) / step_ms.max(1)) as u64 + 1
}

/// Replays `trace` through `autoscaler`, one event at a time (trace
/// points, scrapes, syncs, pods starting), so the work grows with the
/// number of events and not with the replica counts.
///
/// Before the trace the load held at its first value long enough for the
/// pipeline to be warm, with the initial replicas all Running; the first
/// sync is at 0 and it is the HPA's first (`recordInitialRecommendation`).
/// Fails when the trace needs more than [`MAX_STEPS`] syncs or scrapes.
pub fn run(
    autoscaler: &Autoscaler,
    trace: &Trace,
    options: &SimOptions,
) -> Result<Simulation, RunError> {
    let Timing {
        duration_ms,
        sync_ms,
        scrape_ms,
        window_ms,
        start,
        syncs,
        scrapes,
    } = Timing::new(trace, options);
    if syncs > MAX_STEPS || scrapes > MAX_STEPS {
        return Err(RunError::TooLong {
            seconds: duration_ms / 1000,
            syncs,
            sync_period: options.sync_period_seconds,
            scrapes,
            interval: options.scrape_interval_seconds,
            max: MAX_STEPS,
        });
    }
    let points: Vec<(i64, f64)> = {
        let origin = trace.points()[0].0;
        trace
            .points()
            .iter()
            .map(|&(t, l)| (((t - origin) * 1000.0).round() as i64, l))
            .collect()
    };
    let pending_ms = ms(options.pod_startup_seconds);
    let poll_ms = options.keda_polling_interval_seconds.map(|s| ms(s.max(1)));
    let initial = options
        .initial_replicas
        .map_or(autoscaler.spec.min_replicas, clamp_i32)
        .max(0);
    let tolerances = autoscaler
        .spec
        .tolerances(options.tolerance, options.configurable_tolerance);
    let mut controller =
        Controller::new(i64::try_from(options.downscale_stabilization_seconds).unwrap_or(i64::MAX));
    let mut cohorts: Vec<Cohort> = vec![Cohort {
        count: initial as u64,
        running_at: start,
        base: 0.0,
    }];
    let mut pipeline = Pipeline {
        scrape_ms,
        window_ms,
        scrapes: Default::default(),
    };
    let mut cumulative = 0.0f64;
    let mut point_index = 0usize;
    let mut load = points[0].1;
    let mut now = start;
    let mut next_scrape = start;
    let mut next_sync: i64 = 0;
    let mut sync_index: i64 = 0;
    let mut next_poll: Option<i64> = poll_ms.map(|_| start);
    let mut polled: Option<i64> = None;
    let mut seen: Option<f64> = None;

    let mut series = Vec::with_capacity(syncs as usize);
    let mut events = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    let mut pod_ms: u128 = 0;
    let (mut above_target_ms, mut above_capacity_ms): (u128, u128) = (0, 0);
    let mut peak_load = 0.0f64;
    let mut peak_replicas = initial.max(0) as u64;
    let mut peak_at: u64 = 0;
    let target = autoscaler.target;

    let replicas_of = |cohorts: &[Cohort]| cohorts.iter().map(|c| c.count).sum::<u64>();
    let running_of = |cohorts: &[Cohort], at: i64| {
        cohorts
            .iter()
            .filter(|c| c.running_at <= at)
            .map(|c| c.count)
            .sum::<u64>()
    };
    let share = |load: f64, running: u64| {
        if running == 0 {
            if load > 0.0 {
                f64::INFINITY
            } else {
                0.0
            }
        } else {
            load / running as f64
        }
    };

    loop {
        // The next event.
        let next_point = points.get(point_index + 1).map(|p| p.0);
        let next_running = cohorts
            .iter()
            .map(|c| c.running_at)
            .filter(|&t| t > now)
            .min();
        let mut next = duration_ms;
        for candidate in [
            Some(next_scrape),
            Some(next_sync),
            next_point,
            next_running,
            next_poll,
        ]
        .into_iter()
        .flatten()
        {
            if candidate > now && candidate < next {
                next = candidate;
            }
        }
        if now == start && next_scrape == start {
            next = start;
        }
        // Integrate [now, next): the state is constant.
        if next > now {
            let running = running_of(&cohorts, now);
            let replicas = replicas_of(&cohorts);
            let per_pod = share(load, running);
            let dt = next - now;
            if running > 0 {
                cumulative += per_pod * dt as f64 / 1000.0;
            }
            if next > 0 {
                let from = now.max(0);
                let span = (next - from) as u128;
                pod_ms = pod_ms.saturating_add(u128::from(replicas).saturating_mul(span));
                if per_pod > target {
                    above_target_ms += span;
                }
                if options.capacity.is_some_and(|c| per_pod > c) {
                    above_capacity_ms += span;
                }
                peak_load = peak_load.max(load);
                let segment = Segment {
                    start: from as f64 / 1000.0,
                    end: next as f64 / 1000.0,
                    load,
                    replicas: u32::try_from(replicas).unwrap_or(u32::MAX),
                    ready: u32::try_from(running).unwrap_or(u32::MAX),
                    per_pod_load: per_pod,
                    seen,
                };
                match segments.last_mut() {
                    Some(last)
                        if last.end == segment.start
                            && (last.load, last.replicas, last.ready, last.seen)
                                == (
                                    segment.load,
                                    segment.replicas,
                                    segment.ready,
                                    segment.seen,
                                ) =>
                    {
                        last.end = segment.end;
                    }
                    _ => segments.push(segment),
                }
            }
            now = next;
        }
        if now >= duration_ms {
            break;
        }
        // Pods that start running now take their share from now on.
        for cohort in cohorts.iter_mut().filter(|c| c.running_at == now) {
            cohort.base = cumulative;
        }
        if next_point == Some(now) {
            point_index += 1;
            load = points[point_index].1;
        }
        if next_scrape == now {
            let running = running_of(&cohorts, now);
            pipeline.scrapes.push_back(Scrape {
                at: now,
                cumulative,
                share: share(load, running),
            });
            let keep =
                now - window_ms.unwrap_or(300_000) - pipeline.scrape_ms - poll_ms.unwrap_or(0);
            pipeline.forget_before(keep);
            next_scrape = now.saturating_add(scrape_ms);
        }
        let external_value = |cohorts: &[Cohort], at: i64| -> i64 {
            let total: f64 = cohorts
                .iter()
                .filter(|c| c.running_at <= at)
                .filter_map(|c| {
                    pipeline
                        .pod_value(at, c.running_at, c.base)
                        .map(|v| v * c.count as f64)
                })
                .sum();
            // KEDA hands the HPA the query's value rounded to thousandths
            // (quantityFromFloat64: %.3f), not truncated as the adapter does.
            crate::keda::milli_quantity(total)
        };
        if next_poll == Some(now) {
            polled = Some(external_value(&cohorts, now));
            next_poll = poll_ms.map(|p| now.saturating_add(p));
        }
        if next_sync == now {
            let current = replicas_of(&cohorts);
            let current_i32 = i32::try_from(current).unwrap_or(i32::MAX);
            let clock = now + sync_index; // syncs drift by the time each takes: 1 ms
            let mut usage: Option<i64> = None;
            let decision = controller.reconcile(clock, &autoscaler.spec, current_i32, || {
                match autoscaler.metric {
                    MetricTarget::Pods {
                        average_value_milli,
                    } => {
                        let groups: Vec<PodGroup> = cohorts
                            .iter()
                            .map(|c| PodGroup {
                                count: c.count,
                                state: if c.running_at > now {
                                    PodState::Pending
                                } else {
                                    PodState::Running(
                                        pipeline.pod_value(now, c.running_at, c.base).map(to_milli),
                                    )
                                },
                            })
                            .collect();
                        let (replicas, used) = calc_plain_metric_replicas(
                            &groups,
                            current_i32,
                            average_value_milli,
                            tolerances,
                        )?;
                        usage = Some(used);
                        Ok(replicas)
                    }
                    MetricTarget::External {
                        average_value_milli,
                    } => {
                        let value = match poll_ms {
                            Some(_) => polled.ok_or(CalcError::NoMetrics)?,
                            None => external_value(&cohorts, now),
                        };
                        let (replicas, used) = external_per_pod_metric_replicas(
                            current_i32,
                            &[value],
                            average_value_milli,
                            tolerances,
                        );
                        usage = Some(used);
                        Ok(replicas)
                    }
                }
            });
            seen = usage.map(|u| u as f64 / 1000.0);
            let desired = u64::try_from(decision.desired.max(0)).unwrap_or(0);
            if desired > current {
                cohorts.push(Cohort {
                    count: desired - current,
                    running_at: now.saturating_add(pending_ms),
                    base: cumulative,
                });
            } else if desired < current {
                remove_pods(&mut cohorts, current - desired, now);
            }
            if desired != current {
                events.push(ScaleEvent {
                    time: (now / 1000) as u64,
                    from: u32::try_from(current).unwrap_or(u32::MAX),
                    to: u32::try_from(desired).unwrap_or(u32::MAX),
                });
            }
            if desired > peak_replicas {
                peak_replicas = desired;
                peak_at = (now / 1000) as u64;
            }
            let running = running_of(&cohorts, now);
            series.push(Sample {
                time: (now / 1000) as u64,
                load,
                seen,
                desired: u32::try_from(decision.metric_desired.unwrap_or(current_i32).max(0))
                    .unwrap_or(0),
                replicas: u32::try_from(desired).unwrap_or(u32::MAX),
                ready: u32::try_from(running).unwrap_or(u32::MAX),
                per_pod_load: share(load, running),
            });
            sync_index += 1;
            next_sync = now.saturating_add(sync_ms);
        }
    }
    let seconds = |ms: u128| u64::try_from(ms / 1000).unwrap_or(u64::MAX);
    let summary = Summary {
        duration_seconds: (duration_ms / 1000) as u64,
        peak_load,
        peak_replicas: u32::try_from(peak_replicas).unwrap_or(u32::MAX),
        peak_at,
        pod_seconds: seconds(pod_ms),
        seconds_above_target: seconds(above_target_ms),
        seconds_above_capacity: options.capacity.map(|_| seconds(above_capacity_ms)),
        scale_events: events.len(),
        largest_flap: largest_flap(&events),
    };
    Ok(Simulation {
        autoscaler: autoscaler.clone(),
        options: options.clone(),
        series,
        events,
        summary,
        segments,
    })
}

/// A scale-down: the ReplicaSet deletes Pending pods first, then the
/// newest Running ones; they leave at once.
fn remove_pods(cohorts: &mut Vec<Cohort>, mut remove: u64, now: i64) {
    for pending in [true, false] {
        for cohort in cohorts.iter_mut().rev() {
            if remove == 0 {
                break;
            }
            if (cohort.running_at > now) == pending {
                let taken = cohort.count.min(remove);
                cohort.count -= taken;
                remove -= taken;
            }
        }
    }
    cohorts.retain(|c| c.count > 0);
}

/// For each event, how much of it opposite events undid within
/// [`FLAP_WINDOW_SECONDS`] after it; the largest (earliest on ties).
pub(crate) fn largest_flap(events: &[ScaleEvent]) -> Option<Flap> {
    let change = |e: &ScaleEvent| i64::from(e.to) - i64::from(e.from);
    let mut best: Option<Flap> = None;
    for (index, event) in events.iter().enumerate() {
        let own = change(event);
        let undone: i64 = events[index + 1..]
            .iter()
            .take_while(|later| later.time <= event.time + FLAP_WINDOW_SECONDS)
            .map(change)
            .filter(|&c| c.signum() == -own.signum())
            .map(i64::abs)
            .sum();
        let replicas = own.abs().min(undone) as u32;
        if replicas > 0 && best.is_none_or(|b| replicas > b.replicas) {
            best = Some(Flap {
                time: event.time,
                replicas,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaps_are_changes_reversed_within_the_window() {
        let event = |time, from, to| ScaleEvent { time, from, to };
        assert_eq!(largest_flap(&[event(0, 1, 5), event(400, 5, 1)]), None);
        assert_eq!(
            largest_flap(&[
                event(0, 1, 5),
                event(100, 5, 3),
                event(200, 3, 8),
                event(300, 8, 2)
            ]),
            Some(Flap {
                time: 200,
                replicas: 5
            })
        );
    }

    #[test]
    fn rate_of_a_steady_counter_is_its_slope() {
        // 4 samples 30 s apart at 10/s over a 2 m window ending 10 s after the last.
        let points: Vec<(i64, f64)> = (0..4)
            .map(|i| (i * 30_000, 1000.0 + 300.0 * i as f64))
            .collect();
        let rate = prometheus_rate(&points, 100_000, 120_000).unwrap();
        assert!((rate - 10.0).abs() < 1e-9, "{rate}");
        assert_eq!(prometheus_rate(&points[..1], 100_000, 120_000), None);
        // A new series starting at 0 is not extrapolated before its start.
        let fresh = [(60_000, 0.0), (90_000, 300.0)];
        let rate = prometheus_rate(&fresh, 100_000, 120_000).unwrap();
        // 300 over 30 s, extended 10 s to the end: 400 / 120 s.
        assert!((rate - 400.0 / 120.0).abs() < 1e-9, "{rate}");
    }

    #[test]
    fn keda_polls() {
        assert_eq!(keda_last_poll(45_000, 30_000), 30_000);
        assert_eq!(keda_last_poll(60_000, 30_000), 60_000);
        assert_eq!(keda_last_poll(5, 0), 5);
    }
}
