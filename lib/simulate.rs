//! Replays a load trace through the Kubernetes HorizontalPodAutoscaler
//! controller to choose `targetAverageValue`, `minReplicas`, `maxReplicas`
//! and `behavior` before deploying.
//!
//! The controller is a port of kubernetes `pkg/controller/podautoscaler`
//! (the private `controller` module; the version is stated there), driven by the HPA object
//! the generator writes ([`Autoscaler::from_app`] reads it back):
//!
//! - no `behavior` in the HPA selects the controller's legacy path
//!   (`normalizeDesiredReplicas`): scale up at most to `max(2 x current, 4)`
//!   per sync, scale down after the controller's downscale-stabilization
//!   window (300 s); a `behavior` is defaulted as the API server does and
//!   takes `normalizeDesiredReplicasWithBehaviors`;
//! - the metric is what the adapter serves: each pod's request counter,
//!   scraped every scrape interval, through the rule's `rate(...[window])`
//!   as Prometheus computes it; per-pod values in milli-units, the ratio
//!   from their integer average, the tolerance band inclusive;
//! - a new pod is Pending for `pod_startup_seconds` (unready: 0 on a
//!   scale-up), then Running and taking load but without a value until its
//!   series has two samples in the window ("missing": 0 on a scale-up, the
//!   target on a scale-down), then Running with a value;
//! - the first sync is a new HPA's (`recordInitialRecommendation`), at
//!   `initial_replicas` (default `minReplicas`); syncs are a sync period
//!   apart plus 1 ms (the controller re-queues an HPA a period after the
//!   previous sync finished).
//!
//! ```
//! use custom_metrics_manifests::simulate::{run, Autoscaler, SimOptions, Trace};
//!
//! // 10 req/s for 5 minutes, then 100 req/s for 10 minutes.
//! let trace = Trace::new(vec![(0.0, 10.0), (300.0, 100.0), (900.0, 100.0)]).unwrap();
//! // Target 10 req/s per pod, 1 to 20 replicas, no behavior.
//! let hpa = Autoscaler::new(10.0, 1, 20, None);
//! let sim = run(&hpa, &trace, &SimOptions::default()).unwrap();
//! // The rate window lags the step, new pods without a series count at 0,
//! // and without behavior a sync at most doubles (at least 4): 1 -> 4 -> 7 -> 10.
//! let steps: Vec<(u32, u32)> = sim.events.iter().map(|e| (e.from, e.to)).collect();
//! assert_eq!(&steps[..3], [(1, 4), (4, 7), (7, 10)]);
//! ```

mod command;
mod controller;
use crate::error::simulate as error;
mod model;
mod plot;
mod report;
mod sweep;
mod trace;

pub use command::{
    execute, execute_report, find_app, parse_feature_gates, parse_pod_startup, LoadSource, Report,
    ReportFormat, Request,
};
pub use controller::{Behavior, HpaSpec, Millis, Policy, ScalingRules, Tolerances};
pub use error::{
    AppList, AutoscalerError, DurationSetting, FeatureGateError, PlotError, PointError, RunError,
    SecondsError, SimulateError, SweepError, TraceError,
};
pub use model::{
    keda_last_poll, prometheus_rate, run, run_steps, simulate, Autoscaler, Flap, MetricTarget,
    Sample, ScaleEvent, Segment, SimOptions, Simulation, Summary, FLAP_WINDOW_SECONDS, MAX_STEPS,
    MAX_SWEEP_STEPS,
};
pub use plot::{plot_files, render_png, render_svg};
pub use report::{json_report, text_report, write_json_report, JsonReport};
pub use sweep::{
    best_setting, rule_text, run_sweep, Axis, Sweep, SweepParameter, SweepResult, SweepRow,
    MAX_SETTINGS,
};
pub use trace::{Trace, EPOCH_MS_THRESHOLD};
