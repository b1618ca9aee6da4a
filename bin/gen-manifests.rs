//! `gen-manifests`: the command-line face of the library. Parse arguments,
//! load the input, call one library function, write the result.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use custom_metrics_manifests::spec::Backend;
use custom_metrics_manifests::{
    config, explain, gitops, lint, output, prometheus, render, spec, Error, OutputFormat, Preset,
};

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
    /// What serves the metric (replaces the spec's `backend`): the adapter
    /// bundle and HPAs, or a KEDA ScaledObject per app.
    #[arg(long, value_enum, global = true)]
    backend: Option<BackendArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Adapter,
    Keda,
}

impl From<BackendArg> for Backend {
    fn from(arg: BackendArg) -> Backend {
        match arg {
            BackendArg::Adapter => Backend::Adapter,
            BackendArg::Keda => Backend::Keda,
        }
    }
}

/// The spec (or preset) with the command line's overrides.
fn load_config(input: &InputArgs) -> Result<config::Config, Error> {
    config::load_with(
        input.config.as_deref(),
        input.preset.map(Preset::from),
        input.backend.map(Backend::from),
    )
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    input: InputArgs,
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
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    format: FormatArg,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the adapter will ask Prometheus for each rule and app; with
    /// --prometheus, what Prometheus answers.
    Explain(ExplainArgs),
    /// Check a spec, a preset or manifest files for what breaks custom-metrics autoscaling.
    Lint(LintArgs),
    /// Exit 1 with a diff when FILE is not exactly what the spec generates.
    Check(CheckArgs),
    /// Prometheus' `prometheus-k8s` RoleBinding and Role per namespace (flat; --patch edits kube-prometheus' list files).
    Roles(RolesArgs),
    /// One app's ServiceMonitor, HPA and Role items, without a spec file; the HPA
    /// targets the preset's metric (default: http_requests_per_second).
    App(AppArgs),
    /// The ordered steps, with kubectl commands, from prometheus-adapter to
    /// KEDA without a gap; FILEs are the installed manifests (default: the
    /// spec's adapter bundle).
    Migrate(MigrateArgs),
    /// Print the spec that generates existing manifests (FILEs, or - for
    /// standard input); on standard error, what it does not reproduce
    /// (exit 1 when anything).
    Import(ImportArgs),
    /// Replay a load trace through the HPA algorithm to choose target, bounds and behavior.
    Simulate(Box<SimulateArgs>),
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

#[derive(Args)]
struct MigrateArgs {
    /// The manifests installed now (multi-document YAML or JSON).
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct ImportArgs {
    /// The manifests (multi-document YAML, JSON, v1 List); `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct SimulateArgs {
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
    #[arg(long, value_enum, default_value_t = SimulateFormat::Text)]
    format: SimulateFormat,
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

#[derive(Clone, Copy, ValueEnum)]
enum SimulateFormat {
    Text,
    Json,
}

#[derive(Args)]
struct ExplainArgs {
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
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    format: LintFormat,
}

#[derive(Args)]
struct LintArgs {
    /// Files to lint: manifests (multi-document YAML or JSON), specs, or an
    /// adapter config.yaml, each recognised by its content. Without them,
    /// the spec (-c) or preset is linted.
    files: Vec<PathBuf>,
    /// Exit 1 on warnings too (never on info).
    #[arg(long)]
    strict: bool,
    /// Print what the check ID finds, its fix and the failure it prevents.
    #[arg(long, value_name = "ID")]
    explain: Option<String>,
    /// The stack the input is applied next to: its adapter's names collide,
    /// and its NetworkPolicy guards Prometheus when the input has none.
    #[arg(long, value_enum)]
    stack: Option<StackArg>,
    /// Output: one line per finding, or a JSON array.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    format: LintFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum StackArg {
    KubePrometheus,
    KubePrometheusStack,
    Operator,
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Args)]
struct CheckArgs {
    /// The committed manifest file.
    file: PathBuf,
    /// Encoding FILE was generated in.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    format: FormatArg,
}

#[derive(Args)]
struct RolesArgs {
    /// A namespace Prometheus must discover pods in (repeatable).
    #[arg(long = "namespace", value_name = "NS", required = true)]
    namespaces: Vec<String>,
    /// Append the missing items to the two list files in DIR (a
    /// kube-prometheus `manifests/` directory) in place, instead of printing
    /// flat objects.
    #[arg(long, value_name = "DIR")]
    patch: Option<PathBuf>,
    /// With --patch: write nothing; print the diff and exit 1 if a patch is
    /// needed, exit 0 if not.
    #[arg(long, requires = "patch")]
    check: bool,
}

#[derive(Args)]
struct AppArgs {
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
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    format: FormatArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    /// The default: runs on a stock kube-prometheus cluster, nothing else
    /// needed (the adapter's self-generated serving certificate).
    Standalone,
    /// The hardened adapter with TLS through cert-manager.
    Recommended,
    /// The guide's literal bundle (fails lint: its [20s] rate window).
    Documented,
}

impl From<PresetArg> for Preset {
    fn from(arg: PresetArg) -> Preset {
        match arg {
            PresetArg::Standalone => Preset::Standalone,
            PresetArg::Recommended => Preset::Recommended,
            PresetArg::Documented => Preset::Documented,
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

/// The exit status when standard output is closed early (`| head -1`):
/// 128 + SIGPIPE, what a shell reports for a tool the signal stopped.
/// Nothing is printed.
const BROKEN_PIPE_EXIT: u8 = 141;

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output")]
struct StdoutError(#[source] std::io::Error);

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => failure(&error),
    }
}

/// Reports `error` on standard error (a closed stderr is ignored) and
/// picks the exit code.
fn failure(error: &anyhow::Error) -> ExitCode {
    if let Some(StdoutError(source)) = error.downcast_ref::<StdoutError>() {
        if source.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::from(BROKEN_PIPE_EXIT);
        }
    }
    let code = error.downcast_ref::<Error>().map_or(2, Error::exit_code);
    let _ = writeln!(std::io::stderr().lock(), "error: {error:#}");
    ExitCode::from(code as u8)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let input = &cli.generate.input;
    match cli.command {
        None => {
            let config = load_config(input)?;
            if let Some(dir) = &cli.generate.out_dir {
                let manifests = render::manifests(&config);
                let files = gitops::out_dir_files(&manifests);
                if cli.generate.check {
                    let plan = gitops::check_out_dir(dir, &files)?;
                    if plan.is_current() {
                        return Ok(ExitCode::SUCCESS);
                    }
                    emit(&plan.diff, None, &[])?;
                    return Ok(ExitCode::from(1));
                }
                gitops::update_out_dir(dir, &files, &inputs(input))?;
                let target = dir.display().to_string();
                notes(explain::verify_notes(&config, &manifests, &target, true));
                return Ok(ExitCode::SUCCESS);
            }
            // Streamed: each object is built and written in turn, so memory
            // does not grow with the number of apps.
            let format = cli.generate.format.into();
            let write = |out: &mut dyn Write| custom_metrics_manifests::write(&config, format, out);
            match cli.generate.output.as_deref().map(output::Target::from_arg) {
                Some(output::Target::File(path)) => {
                    let mut transaction = output::Transaction::new();
                    for input in inputs(input) {
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
                _ => {
                    let mut stdout =
                        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
                    write(&mut stdout)
                        .and_then(|()| stdout.flush())
                        .map_err(StdoutError)?;
                }
            }
        }
        Some(Command::Explain(args)) => {
            let config = load_config(input)?;
            let client = match &args.prometheus {
                Some(url) => Some(
                    prometheus::Prometheus::with_http_config(
                        url,
                        std::time::Duration::from_secs(args.timeout.max(1)),
                        &match &args.prometheus_http_config {
                            Some(path) => {
                                custom_metrics_manifests::http_config::HttpClientConfig::load(path)?
                            }
                            None => Default::default(),
                        },
                    )
                    .map_err(|error| Error::Usage(format!("--prometheus: {error}")))?,
                ),
                None => None,
            };
            if let Some(client) = &client {
                // Fail clearly, once, when Prometheus cannot be reached at all.
                client
                    .query("vector(1)")
                    .map_err(|error| Error::Usage(format!("--prometheus: {error}")))?;
            }
            let explanation = explain::explain(&config, client.as_ref());
            let text = match args.format {
                LintFormat::Text => explain::render_text(&explanation),
                LintFormat::Json => format!("{}\n", serde_json::to_string_pretty(&explanation)?),
            };
            emit(&text, None, &[])?;
            // A diagnosis that finds the metric missing gates a pipeline.
            if explanation.metric_missing() {
                return Ok(ExitCode::from(1));
            }
        }
        Some(Command::Lint(args)) => {
            if let Some(id) = &args.explain {
                let check = lint::Check::from_id(id).ok_or_else(|| {
                    let ids: Vec<&str> = lint::Check::ALL.iter().map(|c| c.id()).collect();
                    Error::Usage(format!(
                        "--explain: no check `{id}`; the checks are {}",
                        ids.join(", ")
                    ))
                })?;
                emit(&check.explain(), None, &[])?;
                return Ok(ExitCode::SUCCESS);
            }
            let options = lint::LintOptions {
                stack: args.stack.map(|stack| match stack {
                    StackArg::KubePrometheus => lint::Stack::KubePrometheus,
                    StackArg::KubePrometheusStack => lint::Stack::KubePrometheusStack,
                    StackArg::Operator => lint::Stack::Operator,
                }),
                ..Default::default()
            };
            let mut findings = Vec::new();
            if args.files.is_empty() || input.config.is_some() {
                let config = load_config(input)?;
                findings = lint::lint_config(&config, &options);
            }
            if !args.files.is_empty() {
                let mut inputs = Vec::new();
                for path in &args.files {
                    let bytes = read_input(path, spec::MAX_SPEC_BYTES)?;
                    inputs.push((path.display().to_string(), bytes));
                }
                findings.extend(lint::lint_files(
                    &inputs,
                    input.preset.map(Preset::from),
                    &options,
                )?);
            }
            let text = match args.format {
                LintFormat::Text => findings
                    .iter()
                    .map(|finding| format!("{finding}\n"))
                    .collect(),
                LintFormat::Json => format!("{}\n", serde_json::to_string_pretty(&findings)?),
            };
            emit(&text, None, &[])?;
            let fails = |finding: &lint::Finding| match finding.severity {
                lint::Severity::Error => true,
                lint::Severity::Warning => args.strict,
                lint::Severity::Info => false,
            };
            return Ok(if findings.iter().any(fails) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        Some(Command::Check(args)) => {
            let config = load_config(input)?;
            let wanted = custom_metrics_manifests::generate(&config, args.format.into());
            // A committed file over twice the generated size is not a
            // near-miss worth diffing; it is refused unread.
            let current = read_input(&args.file, 2 * wanted.len() + spec::MAX_SPEC_BYTES)?;
            let current = String::from_utf8_lossy(&current);
            if let Some(report) = gitops::drift(&current, &wanted) {
                emit(
                    &format!("{} is stale:\n{report}", args.file.display()),
                    None,
                    &[],
                )?;
                return Ok(ExitCode::from(1));
            }
        }
        Some(Command::Roles(args)) => {
            let config = custom_metrics_manifests::kube_prometheus::roles_config(
                load_config(input)?,
                &args.namespaces,
            )?;
            let Some(dir) = args.patch else {
                let manifests = render::prometheus_access(&config.prometheus);
                emit(&render::to_yaml(&manifests), None, &[])?;
                return Ok(ExitCode::SUCCESS);
            };
            let patch = custom_metrics_manifests::kube_prometheus::patch_in_place(
                &dir,
                &config,
                &inputs(input),
                args.check,
            )?;
            if args.check {
                emit(&patch.diff(), None, &[])?;
                return Ok(if patch.changed() {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                });
            }
            let report: String = patch
                .files()
                .iter()
                .map(|file| match file.added.as_slice() {
                    [] => format!("{}: unchanged\n", file.path.display()),
                    added => format!("{}: added {}\n", file.path.display(), added.join(", ")),
                })
                .collect();
            emit(&report, None, &[])?;
        }
        Some(Command::App(args)) => {
            let base = load_config(input)?;
            let config = custom_metrics_manifests::config::quick_app(
                base,
                &args.namespace,
                &args.deployment,
                &args.target,
                args.min,
                args.max,
            )?;
            let manifests = render::app_manifests(&config);
            emit(
                &custom_metrics_manifests::encode(&manifests, args.format.into()),
                None,
                &[],
            )?;
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "gen-manifests", &mut script);
            let mut script = String::from_utf8_lossy(&script).into_owned();
            if shell == clap_complete::Shell::Bash {
                // clap_complete 4.6 names the subcommands' cases
                // `gen__subcmd__manifests__subcmd__lint` but sets `cmd` to
                // `gen__manifests__subcmd__lint` for a hyphenated binary, so
                // no subcommand option would complete (tests/integrations.rs).
                script = script.replace("gen__subcmd__manifests", "gen__manifests");
            }
            emit(&script, None, &[])?;
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .context("cannot render the man page")?;
            emit(&String::from_utf8_lossy(&page), None, &[])?;
        }
        Some(Command::Krm) => {
            let outcome = custom_metrics_manifests::krm::run_reader(std::io::stdin().lock())
                .context("cannot read standard input")?;
            emit(&outcome.output, None, &[])?;
            if !outcome.errors.is_empty() {
                let mut stderr = std::io::stderr().lock();
                for error in &outcome.errors {
                    let _ = writeln!(stderr, "error: {error}");
                }
                return Ok(ExitCode::from(2));
            }
        }
        Some(Command::Migrate(args)) => {
            let config = load_config(input)?;
            let mut texts = Vec::new();
            for path in &args.files {
                let bytes = read_input(path, spec::MAX_SPEC_BYTES)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::Usage(format!("{}: not UTF-8 text", path.display())))?;
                texts.push((path.display().to_string(), text));
            }
            let documents = lint::parse_manifest_files(&texts).map_err(Error::from)?;
            let spec_args = match (&input.config, input.preset) {
                (Some(path), _) => format!("-c {}", path.display()),
                (None, Some(preset)) if Preset::from(preset) != Preset::default() => {
                    format!("--preset {}", Preset::from(preset))
                }
                (None, _) => String::new(),
            };
            let plan =
                custom_metrics_manifests::migrate::plan(&config, spec_args.trim(), &documents);
            emit(
                &custom_metrics_manifests::migrate::render_text(&plan),
                None,
                &[],
            )?;
        }
        Some(Command::Import(args)) => {
            let mut files = Vec::new();
            for path in &args.files {
                let bytes = if path.as_os_str() == "-" {
                    read_stdin(spec::MAX_SPEC_BYTES)?
                } else {
                    read_input(path, spec::MAX_SPEC_BYTES)?
                };
                files.push((path.display().to_string(), bytes));
            }
            let imported = custom_metrics_manifests::import::import(&files)?;
            emit(&imported.spec, None, &[])?;
            if !imported.losses.is_empty() {
                let mut stderr = std::io::stderr().lock();
                let _ = writeln!(stderr, "not reproduced by this spec:");
                for loss in &imported.losses {
                    let _ = writeln!(stderr, "  {loss}");
                }
                return Ok(ExitCode::from(1));
            }
        }
        Some(Command::Simulate(args)) => {
            use custom_metrics_manifests::simulate;
            let args = *args;
            let config = load_config(input)?;
            if let Some(plot) = &args.plot {
                // The PNG goes next to the SVG; neither may be an input.
                let png = plot.with_extension("png");
                let mut sources = inputs(input);
                sources.extend(args.load.as_deref());
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
                format: match args.format {
                    SimulateFormat::Text => simulate::ReportFormat::Text,
                    SimulateFormat::Json => simulate::ReportFormat::Json,
                },
                sweep: args.sweep,
                max_overload_seconds: args.max_overload_seconds,
                keda_cached_metrics: args.keda_cached_metrics,
                keda_polling_interval: args.keda_polling_interval,
            };
            // One run's JSON series is streamed: it grows with the trace.
            let report = simulate::execute_report(&config, &request)?;
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            report
                .write_to(&mut stdout)
                .and_then(|()| stdout.flush())
                .map_err(StdoutError)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Next steps for a person at a terminal; pipelines see nothing.
fn notes(text: String) {
    use std::io::IsTerminal;
    let mut stderr = std::io::stderr().lock();
    if stderr.is_terminal() {
        // A note that cannot be shown is no reason to fail.
        let _ = stderr.write_all(text.as_bytes());
    }
}

/// The files the command reads, which it must never write.
fn inputs(input: &InputArgs) -> Vec<&std::path::Path> {
    input.config.as_deref().into_iter().collect()
}

/// A manifest file to read, refused when larger than `limit` bytes
/// without being read whole.
fn read_input(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, Error> {
    let bytes = custom_metrics_manifests::spec::read_bounded(path, limit).map_err(|source| {
        Error::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    if bytes.len() > limit {
        return Err(Error::Usage(format!(
            "{}: larger than {limit} bytes, the most gen-manifests reads of such a file",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Standard input, refused when larger than `limit` bytes.
fn read_stdin(limit: usize) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin().lock(), limit as u64 + 1),
        &mut bytes,
    )
    .map_err(|source| Error::Read {
        path: "-".into(),
        source,
    })?;
    if bytes.len() > limit {
        return Err(Error::Usage(format!(
            "-: larger than {limit} bytes, the most gen-manifests reads of such a file"
        )));
    }
    Ok(bytes)
}

/// Writes to standard output, or atomically to `path` (never one of
/// `inputs`). Standard output is flushed here, so that a full disk or a
/// closed pipe is an error now rather than ignored at exit.
fn emit(text: &str, path: Option<PathBuf>, inputs: &[&std::path::Path]) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            let mut transaction = output::Transaction::new();
            for input in inputs {
                transaction.protect(input);
            }
            transaction.write(&path, text.as_bytes().to_vec());
            transaction.commit().map_err(Error::from)?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(StdoutError)?
        }
    }
    Ok(())
}
