//! `simulate`: a load trace replayed through the HPA controller's
//! algorithm, to choose target, bounds and behavior.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::simulate::{self, ReportFormat};
use custom_metrics_manifests::{output, Error, ExitStatus};

use crate::common::{print_with, InputArgs};
use crate::wording;

#[derive(Args)]
pub struct SimulateArgs {
    /// The spec's app to simulate.
    #[arg(long, value_name = "NAME")]
    app: Option<String>,
    /// Load trace: CSV rows `seconds,requests_per_second` (optional header;
    /// the load holds until the next row; the last row ends the trace).
    #[arg(
        long,
        value_name = "FILE.csv",
        required_unless_present = "prometheus",
        conflicts_with = "prometheus"
    )]
    load: Option<PathBuf>,
    /// Load from a live Prometheus (http:// or https://): the app's request
    /// rate over --range, by the same query explain shows, summed over pods.
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
    /// With --prometheus: how far back.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    range: String,
    /// With --prometheus: resolution.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    step: String,
    /// With --prometheus: request timeout in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// With --prometheus: a Prometheus http_config file (promtool's
    /// --http.config.file): authorization, basic_auth, tls_config,
    /// http_headers, proxy_url.
    #[arg(long, value_name = "FILE", requires = "prometheus")]
    prometheus_http_config: Option<PathBuf>,
    /// Time a new pod is Pending (created until Running and Ready, taking
    /// load); it has a metric value once its series has two scrapes in the
    /// rule's rate window.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pod_startup: String,
    /// The controller's --horizontal-pod-autoscaler-sync-period.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    sync_period: String,
    /// The controller's --horizontal-pod-autoscaler-tolerance.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.1)]
    tolerance: f64,
    /// The controller's --horizontal-pod-autoscaler-downscale-stabilization
    /// (the scale-down window of an HPA without behavior.scaleDown.stabilizationWindowSeconds).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    downscale_stabilization: String,
    /// The controller's --feature-gates: HPAConfigurableTolerance=false for
    /// a 1.33 or 1.34 cluster that has not turned it on (behavior.*.tolerance
    /// is then ignored).
    #[arg(long, value_name = "GATES")]
    feature_gates: Option<String>,
    /// Replicas at the start (a running Deployment's count); default minReplicas.
    #[arg(long, value_name = "N")]
    initial_replicas: Option<u32>,
    /// Requests per second one pod serves within its latency goal: overload
    /// is load per running pod above it (needed by --sweep).
    #[arg(long, value_name = "REQ/S")]
    capacity: Option<f64>,
    /// Write an SVG chart to FILE.svg and a PNG next to it (atomically).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Output: summary and terminal chart, or the series and summary as JSON.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Run once per value of one setting and mark the best: NAME=V1,V2,...
    /// with NAME target, minReplicas, maxReplicas or scaleDownWindow; twice
    /// for a grid of two settings. Needs --capacity.
    #[arg(long, value_name = "NAME=VALUES")]
    sweep: Vec<String>,
    /// The sweep's rule: fewest pod-seconds among settings with at most N
    /// seconds above --capacity (else fewest seconds above capacity).
    #[arg(long, value_name = "N", default_value_t = 60)]
    max_overload_seconds: u64,
    /// Keda backend: the trigger's useCachedMetrics, so the HPA reads the
    /// value of KEDA's last poll instead of a fresh query.
    #[arg(long)]
    keda_cached_metrics: bool,
    /// Keda backend, with --keda-cached-metrics: KEDA's pollingInterval.
    #[arg(long, value_name = "DURATION")]
    keda_polling_interval: Option<String>,
}

pub fn run(args: SimulateArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    let config = input.load()?;
    if let Some(plot) = &args.plot {
        // The PNG goes next to the SVG; neither may be an input.
        let png = plot.with_extension("png");
        let mut sources = input.files();
        sources.extend(args.load.as_deref());
        sources.extend(args.prometheus_http_config.as_deref());
        output::refuse_inputs(&[plot, &png], &sources).map_err(Error::from)?;
    }
    let request = simulate::Request {
        app: args.app,
        load: match (args.load, args.prometheus) {
            (Some(path), _) => Some(simulate::LoadSource::Csv(path)),
            (None, Some(url)) => Some(simulate::LoadSource::Prometheus {
                url,
                range: args.range,
                step: args.step,
                timeout_seconds: args.timeout,
                http_config: args.prometheus_http_config,
            }),
            (None, None) => None,
        },
        pod_startup: Some(args.pod_startup),
        sync_period: Some(args.sync_period),
        tolerance: Some(args.tolerance),
        downscale_stabilization: Some(args.downscale_stabilization),
        initial_replicas: args.initial_replicas,
        feature_gates: args.feature_gates,
        capacity: args.capacity,
        plot: args.plot,
        format: args.format,
        sweep: args.sweep,
        max_overload_seconds: args.max_overload_seconds,
        keda_cached_metrics: args.keda_cached_metrics,
        keda_polling_interval: args.keda_polling_interval,
    };
    // One run's JSON series is streamed: it grows with the trace.
    let report = simulate::execute_report(&config, &request)?;
    print_with(|out: &mut dyn Write| report.write_worded(out, &wording::events_left_out))?;
    Ok(ExitStatus::Success)
}
