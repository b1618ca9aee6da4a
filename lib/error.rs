//! The library's error type: one variant per failure, each carrying the
//! path or field it is about.

use std::path::PathBuf;

use crate::spec::SpecError;

/// Everything that can go wrong between reading input and writing output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A spec or manifest file is malformed or invalid; located.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// An output file could not be written; nothing was.
    #[error(transparent)]
    #[cfg(feature = "write")]
    Write(#[from] crate::output::WriteError),
    /// Prometheus could not be asked, or refused the question.
    #[error(transparent)]
    #[cfg(feature = "explain")]
    Prometheus(#[from] crate::prometheus::PrometheusError),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    /// A file to patch in place cannot be patched (wrong kind, items that
    /// disagree, a layout the patcher cannot place items in); nothing was
    /// written.
    #[error("{}: {message}", path.display())]
    Patch {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        message: String,
    },
}

impl Error {
    /// The process exit code the CLI uses: every error here is bad input or
    /// an environment failure, so 2.
    pub fn exit_code(&self) -> i32 {
        2
    }
}
