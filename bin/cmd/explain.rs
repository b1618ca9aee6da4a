//! `explain`: what the adapter asks Prometheus, and with --prometheus what
//! Prometheus answers.

use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::prometheus::HttpClientConfig;
use custom_metrics_manifests::{explain, prometheus, ExitStatus};

use crate::common::{print, InputArgs, ReportFormat};
use crate::wording::FlagError;

#[derive(Args)]
pub struct ExplainArgs {
    /// Ask this Prometheus (http://host:port or https://host:port) as the
    /// adapter would.
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
    /// With --prometheus: a Prometheus http_config file (promtool's
    /// --http.config.file): authorization, basic_auth, tls_config,
    /// http_headers, proxy_url.
    #[arg(long, value_name = "FILE", requires = "prometheus")]
    prometheus_http_config: Option<PathBuf>,
    /// Timeout of each request to Prometheus, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    timeout: u64,
    /// Output: text, or JSON for machines.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

pub fn run(args: &ExplainArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    let config = input.load()?;
    let client = match &args.prometheus {
        Some(url) => Some(
            prometheus::Prometheus::with_http_config(
                url,
                std::time::Duration::from_secs(args.timeout.max(1)),
                &match &args.prometheus_http_config {
                    Some(path) => HttpClientConfig::load(path)?,
                    None => Default::default(),
                },
            )
            .map_err(FlagError::Prometheus)?,
        ),
        None => None,
    };
    if let Some(client) = &client {
        // Fail clearly, once, when Prometheus cannot be reached at all.
        client.query("vector(1)").map_err(FlagError::Prometheus)?;
    }
    let explanation = explain::explain(&config, client.as_ref());
    let text = match args.format {
        ReportFormat::Text => explain::render_text(&explanation),
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&explanation)?),
    };
    print(&text)?;
    // A diagnosis that finds the metric missing gates a pipeline.
    Ok(if explanation.metric_missing() {
        ExitStatus::Found
    } else {
        ExitStatus::Success
    })
}
