//! `migrate`: the ordered steps from prometheus-adapter to KEDA.

use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::{lint, migrate, Error, ExitStatus, Preset};

use crate::common::{print, read_input_or_stdin, InputArgs, UsageError};

#[derive(Args)]
pub struct MigrateArgs {
    /// The manifests installed now (multi-document YAML or JSON); `-` reads
    /// standard input.
    files: Vec<PathBuf>,
}

pub fn run(args: &MigrateArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    let config = input.load()?;
    let mut texts = Vec::new();
    for path in &args.files {
        let bytes = read_input_or_stdin(path, custom_metrics_manifests::MAX_SPEC_BYTES)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| UsageError(format!("{}: not UTF-8 text", path.display())))?;
        texts.push((path.display().to_string(), text));
    }
    let documents = lint::parse_manifest_files(&texts).map_err(Error::from)?;
    // How the plan's commands name the spec: the flags given here.
    let spec_args = match (&input.config, input.preset) {
        (Some(path), _) => format!("-c {}", path.display()),
        (None, Some(preset)) if preset != Preset::default() => format!("--preset {preset}"),
        (None, _) => String::new(),
    };
    let plan = migrate::plan(&config, spec_args.trim(), &documents);
    print(&migrate::render_text(&plan))?;
    Ok(ExitStatus::Success)
}
