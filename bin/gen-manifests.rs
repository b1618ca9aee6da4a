//! `gen-manifests`: the command-line face of the library. Parse arguments,
//! load the input, call one library function, write the result. Each
//! subcommand is its own file under `cmd/`. On Unix the process starts in
//! `cmd/start.rs`, not in the Rust runtime's start.

#![cfg_attr(all(unix, not(test)), no_main)]

use std::io::Write;

use clap::{CommandFactory, Parser, Subcommand};
use custom_metrics_manifests::{Error, ExitStatus};

#[path = "cmd/app.rs"]
mod app;
#[path = "cmd/check.rs"]
mod check;
#[path = "cmd/common.rs"]
mod common;
#[path = "cmd/explain.rs"]
mod explain;
#[path = "cmd/generate.rs"]
mod generate;
#[path = "cmd/import.rs"]
mod import;
#[path = "cmd/krm.rs"]
mod krm;
#[path = "cmd/lint.rs"]
mod lint;
#[path = "cmd/migrate.rs"]
mod migrate;
#[path = "cmd/roles.rs"]
mod roles;
#[path = "cmd/shell.rs"]
mod shell;
#[path = "cmd/simulate.rs"]
mod simulate;
#[cfg(unix)]
#[path = "cmd/start.rs"]
mod start;
#[path = "cmd/wording.rs"]
mod wording;

use common::StdoutError;

const EXAMPLES: &str = "\
Examples:
  gen-manifests > custom-metrics.yaml            the adapter bundle for a stock kube-prometheus cluster
  gen-manifests --preset recommended             the same, TLS through cert-manager
  gen-manifests --preset documented              the guide's literal bundle
  gen-manifests -c spec.yaml -o manifests.yaml   everything the spec describes
  gen-manifests -c spec.yaml --format json       a flat JSON v1 List
  gen-manifests -c spec.yaml --backend keda      KEDA ScaledObjects instead of the adapter
  gen-manifests -c spec.yaml --out-dir deploy/   one file per object + kustomization.yaml
  gen-manifests check deploy.yaml -c spec.yaml   exit 1 with a diff when deploy.yaml is stale
  gen-manifests lint custom-metrics.yaml         the pitfalls in an existing bundle
  gen-manifests lint spec.yaml                   a spec, recognised by its content
  gen-manifests lint --explain network-policy    what a check finds and why
  gen-manifests explain -c spec.yaml --prometheus http://127.0.0.1:9090
  gen-manifests lint --preset recommended --strict
  gen-manifests roles --namespace my-app --patch kube-prometheus/manifests [--check]
  gen-manifests roles --namespace my-app         Prometheus' Role items for my-app
  gen-manifests app --namespace shop --deployment api --target 10 --max 10
  kpt fn eval DIR --exec \"gen-manifests krm\" --fn-config fn.yaml   (fn.yaml: kind CustomMetrics)
  source <(gen-manifests completions bash)       shell completion (bash, zsh, fish)

Exit codes: 0 success; 1 a check found something; 2 bad input or usage, or
output that cannot be written; 141 standard output closed early (as `| head`).";

#[derive(Parser)]
#[command(name = "gen-manifests", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    generate: generate::GenerateArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the adapter will ask Prometheus for each rule and app; with
    /// --prometheus, what Prometheus answers.
    Explain(explain::ExplainArgs),
    /// Check a spec, a preset or manifest files for what breaks custom-metrics autoscaling.
    Lint(lint::LintArgs),
    /// Exit 1 with a diff when FILE is not exactly what the spec generates.
    Check(check::CheckArgs),
    /// Prometheus' `prometheus-k8s` RoleBinding and Role per namespace (flat; --patch edits kube-prometheus' list files).
    Roles(roles::RolesArgs),
    /// One app's ServiceMonitor, HPA and Role items, without a spec file; the HPA
    /// targets the preset's metric (default: http_requests_per_second).
    App(app::AppArgs),
    /// The ordered steps, with kubectl commands, from prometheus-adapter to
    /// KEDA without a gap; FILEs are the installed manifests (default: the
    /// spec's adapter bundle).
    Migrate(migrate::MigrateArgs),
    /// Print the spec that generates existing manifests (FILEs, or - for
    /// standard input); on standard error, what it does not reproduce
    /// (exit 1 when anything).
    Import(import::ImportArgs),
    /// Replay a load trace through the HPA algorithm to choose target, bounds and behavior.
    Simulate(Box<simulate::SimulateArgs>),
    /// Run as a KRM function (kpt, kustomize): a ResourceList on standard
    /// input, the generated objects appended to its items on standard output.
    Krm,
    /// Print a shell completion script: `source <(gen-manifests completions bash)`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `gen-manifests man > gen-manifests.1`.
    Man,
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    cli_main().into()
}

/// The program, from the command line to its exit status.
#[cfg_attr(test, allow(dead_code))]
fn cli_main() -> ExitStatus {
    // Without a subcommand, the generate flags alone: see `generate::parse`.
    let parsed = match generate::parse(std::env::args_os().collect()) {
        Some(generate) => Ok(Cli {
            command: None,
            generate,
        }),
        None => Cli::try_parse(),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        // --help and --version go to standard output, usage errors to
        // standard error; clap's own exit would ignore a failed write.
        Err(error) => {
            let printed = error
                .print()
                .and_then(|()| std::io::stdout().lock().flush());
            if !error.use_stderr() {
                if let Err(source) = printed {
                    return failure(&anyhow::Error::new(StdoutError(source)));
                }
            }
            // clap's codes: 0 for --help and --version, 2 for a usage error.
            return if error.exit_code() == 0 {
                ExitStatus::Success
            } else {
                ExitStatus::Failure
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => failure(&error),
    }
}

/// Reports `error` on standard error in the command line's words (a
/// closed stderr is ignored) and exits with the status it calls for.
fn failure(error: &anyhow::Error) -> ExitStatus {
    let status = common::exit_status(error);
    if status == ExitStatus::BrokenPipe {
        return status;
    }
    let message = match error.downcast_ref::<Error>().and_then(wording::cli) {
        Some(message) => message,
        None => format!("{error:#}"),
    };
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    status
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let input = &cli.generate.input;
    match cli.command {
        None => generate::run(&cli.generate),
        Some(Command::Explain(args)) => explain::run(&args, input),
        Some(Command::Lint(args)) => lint::run(&args, input),
        Some(Command::Check(args)) => check::run(&args, input),
        Some(Command::Roles(args)) => roles::run(&args, input),
        Some(Command::App(args)) => app::run(&args, input),
        Some(Command::Migrate(args)) => migrate::run(&args, input),
        Some(Command::Import(args)) => import::run(&args),
        Some(Command::Simulate(args)) => simulate::run(*args, input),
        Some(Command::Krm) => krm::run(),
        Some(Command::Completions { shell }) => shell::completions(shell, Cli::command()),
        Some(Command::Man) => shell::man(Cli::command()),
    }
}
