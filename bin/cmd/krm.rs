//! `krm`: a KRM function (kpt, kustomize) on standard input and output.

use std::io::Write;

use anyhow::Context;
use custom_metrics_manifests::{krm, ExitStatus};

use crate::common::print;

pub fn run() -> anyhow::Result<ExitStatus> {
    let outcome = krm::run_reader(std::io::stdin().lock()).context("cannot read standard input")?;
    print(&outcome.output)?;
    if outcome.errors.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let mut stderr = std::io::stderr().lock();
    for error in &outcome.errors {
        let _ = writeln!(stderr, "error: {error}");
    }
    Ok(ExitStatus::Failure)
}
