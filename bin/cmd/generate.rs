//! No subcommand: every object of the spec, to standard output, a file
//! (`-o`) or a directory (`--out-dir`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, FromArgMatches};
use custom_metrics_manifests::{explain, gitops, output, render, Error, ExitStatus, OutputFormat};

use crate::common::{notes, print, print_with, InputArgs};

#[derive(Args, Debug, Default, PartialEq)]
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

/// A run without a subcommand (the default bundle, `-c spec.yaml`, ...)
/// parsed by the generate flags alone, which skips building every
/// subcommand's arguments; with no argument at all, nothing is parsed.
/// Argument parsing was most of a default run's start (`make bench`).
/// `None` for anything the generate flags do not accept (a subcommand,
/// --help, --version, a usage error): the whole parser then reads it,
/// for its exact output.
pub fn parse(args: Vec<std::ffi::OsString>) -> Option<GenerateArgs> {
    if args.len() <= 1 {
        return Some(GenerateArgs::default());
    }
    let command = GenerateArgs::augment_args(clap::Command::new("gen-manifests"));
    let matches = command.try_get_matches_from(args).ok()?;
    GenerateArgs::from_arg_matches(&matches).ok()
}

pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitStatus> {
    let input = &args.input;
    let config = input.load()?;
    if let Some(dir) = &args.out_dir {
        // Each object is rendered to its file's text in turn: only the
        // texts are held.
        let files = gitops::out_dir_files(render::objects(&config));
        if args.check {
            let plan = gitops::check_out_dir(dir, &files)?;
            if plan.is_current() {
                return Ok(ExitStatus::Success);
            }
            print(&plan.diff)?;
            return Ok(ExitStatus::Found);
        }
        gitops::update_out_dir(dir, &files, &input.files())?;
        let target = dir.display().to_string();
        // Every file but kustomization.yaml is one object.
        let count = files.len() - 1;
        notes(explain::verify_notes_counted(&config, count, &target, true));
        return Ok(ExitStatus::Success);
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
                let count = render::objects(&config).count();
                let target = path.display().to_string();
                notes(explain::verify_notes_counted(
                    &config, count, &target, false,
                ));
            }
        }
        _ => print_with(write)?,
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// What the generate flags alone accept, the whole parser reads the
    /// same way; the rest is left to it.
    #[test]
    fn parse_agrees_with_the_whole_parser() {
        let accepted: &[&[&str]] = &[
            &[],
            &["-c", "spec.yaml"],
            &[
                "--config=spec.yaml",
                "--preset",
                "recommended",
                "--backend",
                "keda",
            ],
            &["-c", "lint"],
            &["-o", "out.yaml", "--format", "json"],
            &["--out-dir", "deploy", "--check"],
            &["--preset", "documented", "-o", "-"],
        ];
        let left: &[&[&str]] = &[
            &["lint"],
            &["lint", "-c", "spec.yaml"],
            &["--help"],
            &["-h"],
            &["--version"],
            &["-V"],
            &["--check"],
            &["-o", "a", "--out-dir", "b"],
            &["--format", "toml"],
            &["--", "lint"],
            &["lnt"],
            &["completions", "bash"],
        ];
        let argv = |case: &[&str]| -> Vec<std::ffi::OsString> {
            std::iter::once("gen-manifests")
                .chain(case.iter().copied())
                .map(Into::into)
                .collect()
        };
        for case in accepted {
            let generate = super::parse(argv(case)).expect("generate flags");
            let cli = crate::Cli::try_parse_from(argv(case)).expect("the whole parser accepts it");
            assert!(cli.command.is_none(), "{case:?}");
            assert_eq!(cli.generate, generate, "{case:?}");
        }
        for case in left {
            assert_eq!(super::parse(argv(case)), None, "{case:?}");
        }
    }
}
