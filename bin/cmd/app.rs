//! `app`: one app's ServiceMonitor, HPA and Role items, without a spec.

use clap::Args;
use custom_metrics_manifests::{render, ExitStatus, OutputFormat};

use crate::common::{print, InputArgs};
use crate::wording::FlagError;

#[derive(Args)]
pub struct AppArgs {
    /// The app's namespace.
    #[arg(long)]
    namespace: String,
    /// The Deployment to scale (also the app's name).
    #[arg(long)]
    deployment: String,
    /// Target average per pod (a Kubernetes quantity) of the metric the
    /// preset's rule serves. Default preset (and `recommended`):
    /// `http_requests_per_second`, requests per second. `--preset
    /// documented`: the guide's `http_requests_per_minute`, which is also
    /// per second (a rate()) despite its name.
    #[arg(long, value_name = "QUANTITY")]
    target: String,
    /// Minimum replicas.
    #[arg(long, default_value_t = 1)]
    min: u32,
    /// Maximum replicas.
    #[arg(long)]
    max: u32,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    format: OutputFormat,
}

pub fn run(args: &AppArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    let config = custom_metrics_manifests::quick_app(
        input.load()?,
        &args.namespace,
        &args.deployment,
        &args.target,
        args.min,
        args.max,
    )
    .map_err(FlagError::App)?;
    let manifests = render::app_manifests(&config);
    print(&custom_metrics_manifests::encode(&manifests, args.format))?;
    Ok(ExitStatus::Success)
}
