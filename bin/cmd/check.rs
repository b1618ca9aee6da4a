//! `check`: exit 1 with a diff when a committed file is not what the spec
//! generates.

use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::{gitops, ExitStatus, OutputFormat};

use crate::common::{print, read_input, InputArgs};

#[derive(Args)]
pub struct CheckArgs {
    /// The committed manifest file.
    file: PathBuf,
    /// Encoding FILE was generated in.
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    format: OutputFormat,
}

pub fn run(args: &CheckArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    let config = input.load()?;
    let wanted = custom_metrics_manifests::generate(&config, args.format);
    // A committed file over twice the generated size is not a near-miss
    // worth diffing; it is refused unread.
    let current = read_input(
        &args.file,
        2 * wanted.len() + custom_metrics_manifests::MAX_SPEC_BYTES,
    )?;
    let current = String::from_utf8_lossy(&current);
    if let Some(report) = gitops::drift(&current, &wanted) {
        print(&format!("{} is stale:\n{report}", args.file.display()))?;
        return Ok(ExitStatus::Found);
    }
    Ok(ExitStatus::Success)
}
