//! `import`: the spec that generates existing manifests, and what it does
//! not reproduce.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::{import, ExitStatus};

use crate::common::{print, read_input_or_stdin};

#[derive(Args)]
pub struct ImportArgs {
    /// The manifests (multi-document YAML, JSON, v1 List); `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let mut files = Vec::new();
    for path in &args.files {
        let bytes = read_input_or_stdin(path, custom_metrics_manifests::MAX_SPEC_BYTES)?;
        files.push((path.display().to_string(), bytes));
    }
    let imported = import::import(&files)?;
    print(&imported.spec)?;
    if imported.losses.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "not reproduced by this spec:");
    for loss in &imported.losses {
        let _ = writeln!(stderr, "  {loss}");
    }
    Ok(ExitStatus::Found)
}
