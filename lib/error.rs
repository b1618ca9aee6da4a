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
    /// A simulation request is refused: a setting's value, settings that
    /// conflict, a trace or an autoscaler that cannot be simulated.
    #[error(transparent)]
    #[cfg(feature = "simulate")]
    Simulate(#[from] crate::simulate::SimulateError),
    /// A generated directory holds what this tool did not write.
    #[error(transparent)]
    #[cfg(feature = "gitops")]
    OutDir(#[from] crate::gitops::OutDirError),
    /// Prometheus' per-namespace Roles cannot be made as asked.
    #[error(transparent)]
    #[cfg(feature = "write")]
    Roles(#[from] crate::kube_prometheus::RolesError),
    /// A file given to lint is not something to lint.
    #[error(transparent)]
    #[cfg(feature = "lint")]
    Lint(#[from] crate::lint::InputError),
    /// A file to patch in place cannot be patched (wrong kind, items that
    /// disagree, a layout the patcher cannot place items in); nothing was
    /// written.
    #[error(transparent)]
    #[cfg(feature = "write")]
    Patch(#[from] crate::kube_prometheus::PatchError),
}

/// The process exit statuses of `gen-manifests`, as its README and
/// `--help` document them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `0`: success.
    Success,
    /// `1`: a check found something (lint findings, stale output, a diff).
    Found,
    /// `2`: bad input or usage, an environment that refused (a file that
    /// cannot be read, Prometheus unreachable), or output that cannot be
    /// written.
    Failure,
    /// `141` (128 + SIGPIPE, what a shell reports for a process the signal
    /// stopped): standard output closed early, as by `| head`.
    BrokenPipe,
}

impl ExitStatus {
    /// The status as a process exit code.
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Found => 1,
            ExitStatus::Failure => 2,
            ExitStatus::BrokenPipe => 141,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> std::process::ExitCode {
        std::process::ExitCode::from(status.code())
    }
}

impl Error {
    /// The exit status this error ends the CLI with, from what went wrong.
    /// Every variant is named here (no catch-all), so a new one must choose.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            // Bad input: a file, a spec, a value, a request.
            Error::Spec(_) => ExitStatus::Failure,
            #[cfg(feature = "write")]
            Error::Patch(_) => ExitStatus::Failure,
            #[cfg(feature = "simulate")]
            Error::Simulate(_) => ExitStatus::Failure,
            #[cfg(feature = "gitops")]
            Error::OutDir(_) => ExitStatus::Failure,
            #[cfg(feature = "write")]
            Error::Roles(_) => ExitStatus::Failure,
            #[cfg(feature = "lint")]
            Error::Lint(_) => ExitStatus::Failure,
            // The environment refused: unreadable input, an unreachable or
            // refusing Prometheus.
            Error::Read { .. } => ExitStatus::Failure,
            #[cfg(feature = "explain")]
            Error::Prometheus(_) => ExitStatus::Failure,
            // A file write that fails is output that cannot be written;
            // a pipe closed early is only ever standard output, which the
            // library does not write.
            #[cfg(feature = "write")]
            Error::Write(_) => ExitStatus::Failure,
        }
    }

    /// The process exit code of [`Error::exit_status`].
    pub fn exit_code(&self) -> i32 {
        i32::from(self.exit_status().code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant's status, pinned: one of each.
    #[test]
    fn exit_status_of_every_variant() {
        let io = || std::io::Error::other("refused");
        let cases: Vec<(Error, ExitStatus)> = vec![
            (
                Error::Read {
                    path: "spec.yaml".into(),
                    source: io(),
                },
                ExitStatus::Failure,
            ),
            (
                Error::Spec(SpecError {
                    origin: "spec.yaml".into(),
                    line: Some(1),
                    column: None,
                    field: "apps".into(),
                    message: "bad".into(),
                }),
                ExitStatus::Failure,
            ),
            (
                Error::Write(crate::output::WriteError::Io {
                    path: "out.yaml".into(),
                    source: io(),
                }),
                ExitStatus::Failure,
            ),
            (
                Error::Prometheus(crate::prometheus::PrometheusError::BadUrl("x".into())),
                ExitStatus::Failure,
            ),
            (
                Error::Simulate(crate::simulate::SimulateError::NoLoad),
                ExitStatus::Failure,
            ),
            (
                Error::OutDir(crate::gitops::OutDirError::NotGenerated("a.yaml".into())),
                ExitStatus::Failure,
            ),
            (
                Error::Roles(crate::kube_prometheus::RolesError::Namespace(
                    crate::values::NameError::Empty,
                )),
                ExitStatus::Failure,
            ),
            (
                Error::Lint(crate::lint::InputError::NotUtf8("a".into())),
                ExitStatus::Failure,
            ),
            (
                Error::Patch(crate::kube_prometheus::PatchError::ItemsKeys {
                    path: "list.yaml".into(),
                    found: 2,
                }),
                ExitStatus::Failure,
            ),
        ];
        for (error, status) in &cases {
            assert_eq!(error.exit_status(), *status, "{error:?}");
            assert_eq!(error.exit_code(), i32::from(status.code()));
        }
        // The codes the README documents.
        let codes: Vec<u8> = [
            ExitStatus::Success,
            ExitStatus::Found,
            ExitStatus::Failure,
            ExitStatus::BrokenPipe,
        ]
        .map(ExitStatus::code)
        .to_vec();
        assert_eq!(codes, [0, 1, 2, 141]);
    }
}
