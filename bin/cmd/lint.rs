//! `lint`: a spec, a preset or manifest files, checked for what breaks
//! custom-metrics autoscaling.

use std::path::PathBuf;

use clap::Args;
use custom_metrics_manifests::{lint, ExitStatus};

use crate::common::{print, read_input_or_stdin, InputArgs, ReportFormat, UsageError};
use crate::wording;

#[derive(Args)]
pub struct LintArgs {
    /// Files to lint: manifests (multi-document YAML or JSON), specs, or an
    /// adapter config.yaml, each recognised by its content. Without them,
    /// the spec (-c) or preset is linted. `-` reads standard input.
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
    stack: Option<lint::Stack>,
    /// Output: one line per finding, or a JSON array.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

pub fn run(args: &LintArgs, input: &InputArgs) -> anyhow::Result<ExitStatus> {
    if let Some(id) = &args.explain {
        let check = lint::Check::from_id(id).ok_or_else(|| {
            let ids: Vec<&str> = lint::Check::ALL.iter().map(|c| c.id()).collect();
            UsageError(format!(
                "--explain: no check `{id}`; the checks are {}",
                ids.join(", ")
            ))
        })?;
        print(&check.explain())?;
        return Ok(ExitStatus::Success);
    }
    let options = lint::LintOptions {
        stack: args.stack,
        ..Default::default()
    };
    let mut findings = Vec::new();
    if args.files.is_empty() || input.config.is_some() {
        let config = input.load()?;
        findings = lint::lint_config(&config, &options);
    }
    if !args.files.is_empty() {
        let mut inputs = Vec::new();
        for path in &args.files {
            let bytes = read_input_or_stdin(path, custom_metrics_manifests::MAX_SPEC_BYTES)?;
            inputs.push((path.display().to_string(), bytes));
        }
        findings.extend(lint::lint_files(&inputs, input.preset, &options)?);
    }
    for finding in &mut findings {
        wording::lint_hint(finding);
    }
    let text = match args.format {
        ReportFormat::Text => findings
            .iter()
            .map(|finding| format!("{finding}\n"))
            .collect(),
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&findings)?),
    };
    print(&text)?;
    let fails = |finding: &lint::Finding| match finding.severity {
        lint::Severity::Error => true,
        lint::Severity::Warning => args.strict,
        lint::Severity::Info => false,
    };
    Ok(if findings.iter().any(fails) {
        ExitStatus::Found
    } else {
        ExitStatus::Success
    })
}
