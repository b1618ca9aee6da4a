//! `gen-manifests`: the command-line face of the library. Parse arguments,
//! load the input, call one library function, write the result.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use custom_metrics_manifests::{config, output, render, Error, OutputFormat, Preset};

const EXAMPLES: &str = "\
Examples:
  gen-manifests > custom-metrics.yaml            the guide's adapter bundle
  gen-manifests --preset recommended             the hardened adapter
  gen-manifests -c spec.yaml -o manifests.yaml   everything the spec describes
  gen-manifests -c spec.yaml --format json       a JSON v1 List
  gen-manifests roles --namespace my-app         Prometheus' Role items for my-app
  gen-manifests app --namespace shop --deployment api --target 10 --max 10

Exit codes: 0 success; 1 a check found something; 2 bad input or usage.";

#[derive(Parser)]
#[command(name = "gen-manifests", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    generate: GenerateArgs,
}

#[derive(Args)]
struct InputArgs {
    /// Spec file (YAML). Without it, the preset alone.
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Preset to start from (replaces the spec's `preset`).
    #[arg(long, value_enum, global = true)]
    preset: Option<PresetArg>,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    format: FormatArg,
}

#[derive(Subcommand)]
enum Command {
    /// Prometheus' `prometheus-k8s` RoleBindingList and RoleList for namespaces.
    Roles(RolesArgs),
    /// One app's ServiceMonitor, HPA and Role items, without a spec file.
    App(AppArgs),
}

#[derive(Args)]
struct RolesArgs {
    /// A namespace Prometheus must discover pods in (repeatable).
    #[arg(long = "namespace", value_name = "NS", required = true)]
    namespaces: Vec<String>,
}

#[derive(Args)]
struct AppArgs {
    /// The app's namespace.
    #[arg(long)]
    namespace: String,
    /// The Deployment to scale (also the app's name).
    #[arg(long)]
    deployment: String,
    /// Target requests per second per pod (a Kubernetes quantity).
    #[arg(long)]
    target: String,
    /// Minimum replicas.
    #[arg(long, default_value_t = 1)]
    min: u32,
    /// Maximum replicas.
    #[arg(long)]
    max: u32,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    format: FormatArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    Documented,
    Recommended,
}

impl From<PresetArg> for Preset {
    fn from(arg: PresetArg) -> Preset {
        match arg {
            PresetArg::Documented => Preset::Documented,
            PresetArg::Recommended => Preset::Recommended,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Yaml,
    Json,
}

impl From<FormatArg> for OutputFormat {
    fn from(arg: FormatArg) -> OutputFormat {
        match arg {
            FormatArg::Yaml => OutputFormat::Yaml,
            FormatArg::Json => OutputFormat::Json,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            let code = error.downcast_ref::<Error>().map_or(2, Error::exit_code);
            eprintln!("error: {error:#}");
            ExitCode::from(code as u8)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let input = &cli.generate.input;
    let preset = input.preset.map(Preset::from);
    match cli.command {
        None => {
            let config = config::load(input.config.as_deref(), preset)?;
            let text = custom_metrics_manifests::generate(&config, cli.generate.format.into());
            emit(&text, cli.generate.output)?;
        }
        Some(Command::Roles(args)) => {
            let config = custom_metrics_manifests::kube_prometheus::roles_config(
                config::load(input.config.as_deref(), preset)?,
                &args.namespaces,
            )?;
            let manifests = render::prometheus_access(&config.prometheus);
            emit(&render::to_yaml(&manifests), None)?;
        }
        Some(Command::App(args)) => {
            let base = config::load(input.config.as_deref(), preset)?;
            let config = custom_metrics_manifests::config::quick_app(
                base,
                &args.namespace,
                &args.deployment,
                &args.target,
                args.min,
                args.max,
            )?;
            let manifests = render::app_manifests(&config);
            let text = match OutputFormat::from(args.format) {
                OutputFormat::Yaml => render::to_yaml(&manifests),
                OutputFormat::Json => render::to_json(&manifests),
            };
            emit(&text, None)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes to standard output, or atomically to `path`.
fn emit(text: &str, path: Option<PathBuf>) -> anyhow::Result<()> {
    match path {
        Some(path) => output::write_atomically(&[(path, text.as_bytes().to_vec())]).map_err(Error::from)?,
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write to standard output")?,
    }
    Ok(())
}
