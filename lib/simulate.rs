//! Replays a load trace through the HorizontalPodAutoscaler algorithm
//! (autoscaling/v2) to choose `targetAverageValue`, `minReplicas`,
//! `maxReplicas` and `behavior` before deploying.
//!
//! The model follows the Kubernetes documentation page "Horizontal Pod
//! Autoscaling" (<https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/>)
//! and the controller's defaults:
//!
//! - the controller syncs every 15 s (`--horizontal-pod-autoscaler-sync-period`);
//! - the metric is the load per ready pod; `desiredReplicas =
//!   ceil(currentReplicas * metric / target)`, skipped within the 0.1
//!   tolerance; pods still starting count as using nothing when the HPA
//!   would scale up (which damps the step, as in the controller);
//! - `behavior`: stabilization windows (scale down takes the highest
//!   recommendation of the window, scale up the lowest), `Pods`/`Percent`
//!   policies relative to the replicas at the start of their period,
//!   `selectPolicy` `Max`/`Min`/`Disabled`, and the documented defaults
//!   for whatever the spec leaves out;
//! - a new pod takes load `pod_startup_seconds` after it is created; load is
//!   spread evenly over ready pods; pods removed by a scale-down leave at
//!   once (starting pods first);
//! - the run starts at `minReplicas`, all ready.
//!
//! Not modelled: metric lag (scrape interval, `rate()` window, the
//! adapter's relist), the `--horizontal-pod-autoscaler-initial-readiness-delay`
//! and CPU-specific rules, scale-to-zero, pod failures.
//!
//! The summary's *largest flap* is the largest number of replicas that a
//! scale event added (or removed) and that opposite scale events removed
//! (or added) again within the following [`FLAP_WINDOW_SECONDS`] (300 s,
//! the default scale-down window): `min(|change|, sum of opposite
//! changes within the window)`.
//!
//! ```
//! use custom_metrics_manifests::simulate::{run, Autoscaler, SimOptions, Trace};
//!
//! // 10 req/s for 5 minutes, then 100 req/s for 10 minutes.
//! let trace = Trace::new(vec![(0.0, 10.0), (300.0, 100.0), (900.0, 100.0)]).unwrap();
//! // Target 10 req/s per pod, 1 to 20 replicas, default behavior.
//! let hpa = Autoscaler::new(10.0, 1, 20, None);
//! let sim = run(&hpa, &trace, &SimOptions::default());
//! assert_eq!(sim.summary.peak_replicas, 10);
//! // The first sync after the step adds 4 pods (the default Pods policy).
//! assert_eq!((sim.events[0].time, sim.events[0].from, sim.events[0].to), (300, 1, 5));
//! ```

mod command;
mod model;
mod plot;
mod report;
mod sweep;
mod trace;

pub use command::{execute, find_app, parse_pod_startup, LoadSource, ReportFormat, Request};
pub use model::{
    run, simulate, Autoscaler, Flap, Policy, Rules, Sample, ScaleEvent, Second, SimOptions,
    Simulation, Summary, FLAP_WINDOW_SECONDS,
};
pub use plot::{plot_files, render_png, render_svg};
pub use report::{json_report, text_report};
pub use sweep::{best_setting, rule_text, run_sweep, Sweep, SweepParameter, SweepResult, SweepRow};
pub use trace::Trace;
