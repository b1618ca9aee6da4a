//! What every subcommand shares: the input flags, reading files, writing
//! to standard output, and the errors only the binary has.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use custom_metrics_manifests::spec::Backend;
use custom_metrics_manifests::{config, spec, Error, Preset};

/// The spec, preset and backend flags (global: every subcommand takes them).
#[derive(Args)]
pub struct InputArgs {
    /// Spec file (YAML). Without it, the preset alone.
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Preset to start from (replaces the spec's `preset`).
    #[arg(long, value_enum, global = true)]
    pub preset: Option<Preset>,
    /// What serves the metric (replaces the spec's `backend`): the adapter
    /// bundle and HPAs, or a KEDA ScaledObject per app.
    #[arg(long, value_enum, global = true)]
    pub backend: Option<Backend>,
}

impl InputArgs {
    /// The spec (or preset) with the command line's overrides.
    pub fn load(&self) -> Result<config::Config, Error> {
        config::load_with(self.config.as_deref(), self.preset, self.backend)
    }

    /// The files the command reads, which it must never write.
    pub fn files(&self) -> Vec<&Path> {
        self.config.as_deref().into_iter().collect()
    }
}

/// A report for people or for machines (lint, explain).
#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The exit status when standard output is closed early (`| head -1`):
/// 128 + SIGPIPE, what a shell reports for a tool the signal stopped.
/// Nothing is printed.
pub const BROKEN_PIPE_EXIT: u8 = 141;

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output")]
pub struct StdoutError(#[source] pub std::io::Error);

/// Writes `text` to standard output and flushes it, so that a full disk or
/// a closed pipe is an error now rather than ignored at exit.
pub fn print(text: &str) -> Result<(), StdoutError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(StdoutError)
}

/// Writes what `write` produces to standard output, buffered, then flushes.
pub fn print_with(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), StdoutError> {
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    write(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(StdoutError)
}

/// Next steps for a person at a terminal; pipelines see nothing.
pub fn notes(text: String) {
    use std::io::IsTerminal;
    let mut stderr = std::io::stderr().lock();
    if stderr.is_terminal() {
        // A note that cannot be shown is no reason to fail.
        let _ = stderr.write_all(text.as_bytes());
    }
}

/// A manifest file to read, refused when larger than `limit` bytes
/// without being read whole.
pub fn read_input(path: &Path, limit: usize) -> Result<Vec<u8>, Error> {
    let bytes = spec::read_bounded(path, limit).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    if bytes.len() > limit {
        return Err(Error::Usage(format!(
            "{}: larger than {limit} bytes, the most gen-manifests reads of such a file",
            path.display()
        )));
    }
    Ok(bytes)
}

/// A file, or standard input for `-`, refused when larger than `limit` bytes.
pub fn read_input_or_stdin(path: &Path, limit: usize) -> Result<Vec<u8>, Error> {
    if path.as_os_str() == "-" {
        read_stdin(limit)
    } else {
        read_input(path, limit)
    }
}

/// Standard input, refused when larger than `limit` bytes.
pub fn read_stdin(limit: usize) -> Result<Vec<u8>, Error> {
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
