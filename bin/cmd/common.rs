//! What every subcommand shares: the input flags, reading files, writing
//! to standard output, and the errors only the binary has.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use custom_metrics_manifests::Backend;
use custom_metrics_manifests::{Config, Error, ExitStatus, Preset};

/// The spec, preset and backend flags (global: every subcommand takes them).
#[derive(Args, Debug, Default, PartialEq)]
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
    pub fn load(&self) -> Result<Config, Error> {
        custom_metrics_manifests::load_with(self.config.as_deref(), self.preset, self.backend)
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

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output")]
pub struct StdoutError(#[source] pub std::io::Error);

/// A command line the library has no error for: a flag's value, in the
/// flag's words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status `error` ends the process with: the library's error
/// decides its own; standard output closed early (`| head -1`) is
/// [`ExitStatus::BrokenPipe`], with nothing printed.
pub fn exit_status(error: &anyhow::Error) -> ExitStatus {
    if let Some(StdoutError(source)) = error.downcast_ref::<StdoutError>() {
        return match source.kind() {
            std::io::ErrorKind::BrokenPipe => ExitStatus::BrokenPipe,
            _ => ExitStatus::Failure,
        };
    }
    if let Some(error) = error.downcast_ref::<Error>() {
        return error.exit_status();
    }
    // A usage error, or a report that could not be encoded.
    ExitStatus::Failure
}

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
pub fn read_input(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let bytes =
        custom_metrics_manifests::read_bounded(path, limit).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() > limit {
        return Err(UsageError(format!(
            "{}: larger than {limit} bytes, the most gen-manifests reads of such a file",
            path.display()
        ))
        .into());
    }
    Ok(bytes)
}

/// A file, or standard input for `-`, refused when larger than `limit` bytes.
pub fn read_input_or_stdin(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        read_stdin(limit)
    } else {
        read_input(path, limit)
    }
}

/// Standard input, refused when larger than `limit` bytes.
pub fn read_stdin(limit: usize) -> anyhow::Result<Vec<u8>> {
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
        return Err(UsageError(format!(
            "-: larger than {limit} bytes, the most gen-manifests reads of such a file"
        ))
        .into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status of each error the binary can end with.
    #[test]
    fn exit_status_of_each_error() {
        let io = |kind| std::io::Error::new(kind, "closed");
        let cases: [(anyhow::Error, ExitStatus); 5] = [
            (
                StdoutError(io(std::io::ErrorKind::BrokenPipe)).into(),
                ExitStatus::BrokenPipe,
            ),
            (
                StdoutError(io(std::io::ErrorKind::StorageFull)).into(),
                ExitStatus::Failure,
            ),
            (UsageError("--x: bad".into()).into(), ExitStatus::Failure),
            (
                Error::Spec(custom_metrics_manifests::SpecError::new(
                    "spec.yaml",
                    custom_metrics_manifests::SpecErrorKind::Empty,
                ))
                .into(),
                ExitStatus::Failure,
            ),
            (anyhow::anyhow!("a report"), ExitStatus::Failure),
        ];
        for (error, status) in cases {
            assert_eq!(exit_status(&error), status, "{error:#}");
        }
    }
}
