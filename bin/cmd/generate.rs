//! No subcommand: every object of the spec, to standard output, a file
//! (`-o`) or a directory (`--out-dir`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use custom_metrics_manifests::{explain, gitops, output, render, Error, ExitStatus, OutputFormat};

use crate::common::{notes, print, print_with, InputArgs};

#[derive(Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "out_dir"
    )]
    output: Option<PathBuf>,
    /// Write one file per object and a kustomization.yaml into DIR.
    #[arg(long = "out-dir", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// With --out-dir: write nothing; exit 1 and show the differences when
    /// DIR is not what the spec generates.
    #[arg(long, requires = "out_dir")]
    check: bool,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    format: OutputFormat,
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let input = &args.input;
    let config = input.load()?;
    if let Some(dir) = &args.out_dir {
        let manifests = render::manifests(&config);
        let files = gitops::out_dir_files(&manifests);
        if args.check {
            let plan = gitops::check_out_dir(dir, &files)?;
            if plan.is_current() {
                return Ok(ExitCode::SUCCESS);
            }
            print(&plan.diff)?;
            return Ok(ExitStatus::Found.into());
        }
        gitops::update_out_dir(dir, &files, &input.files())?;
        let target = dir.display().to_string();
        notes(explain::verify_notes(&config, &manifests, &target, true));
        return Ok(ExitCode::SUCCESS);
    }
    // Streamed: each object is built and written in turn, so memory does
    // not grow with the number of apps.
    let format = args.format;
    let write = |out: &mut dyn Write| custom_metrics_manifests::write(&config, format, out);
    match args.output.as_deref().map(output::Target::from_arg) {
        Some(output::Target::File(path)) => {
            let mut transaction = output::Transaction::new();
            for input in input.files() {
                transaction.protect(input);
            }
            transaction.write_with(&path, &write);
            transaction.commit().map_err(Error::from)?;
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let manifests = render::manifests(&config);
                let target = path.display().to_string();
                notes(explain::verify_notes(&config, &manifests, &target, false));
            }
        }
        _ => print_with(write)?,
    }
    Ok(ExitCode::SUCCESS)
}
