//! The library's error type: one variant per failure, each carrying the
//! path or field it is about.

use std::path::PathBuf;

use crate::spec::SpecError;

#[cfg(feature = "simulate")]
pub(crate) mod simulate;

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
    Simulate(#[from] simulate::SimulateError),
    /// A generated directory holds what this tool did not write.
    #[error(transparent)]
    #[cfg(feature = "gitops")]
    OutDir(#[from] OutDirError),
    /// Prometheus' per-namespace Roles cannot be made as asked.
    #[error(transparent)]
    #[cfg(feature = "write")]
    Roles(#[from] RolesError),
    /// A file given to lint is not something to lint.
    #[error(transparent)]
    #[cfg(feature = "lint")]
    Lint(#[from] InputError),
    /// A file to patch in place cannot be patched (wrong kind, items that
    /// disagree, a layout the patcher cannot place items in); nothing was
    /// written.
    #[error(transparent)]
    #[cfg(feature = "write")]
    Patch(#[from] PatchError),
}

/// Why a generated directory cannot be updated.
#[cfg(feature = "gitops")]
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// A file at a generated file's name that this tool did not write.
    #[error(
        "{} exists and was not written by gen-manifests; move it away or choose another \
         directory",
        .0.display()
    )]
    NotGenerated(PathBuf),
}

/// Why a kube-prometheus list file cannot be patched in place; nothing was
/// written.
#[cfg(feature = "write")]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// Another kind of file (or no `kind`).
    #[error(
        "{}: {}, not a {expected_kind} ({expected_version}); is this the right file?",
        path.display(),
        match kind {
            Some(kind) => format!(
                "the file is a {kind} ({})",
                api_version.as_deref().unwrap_or("no apiVersion")
            ),
            None => "the file has no `kind`".to_owned(),
        }
    )]
    NotAList {
        /// The file.
        path: PathBuf,
        /// Its `kind`.
        kind: Option<String>,
        /// Its `apiVersion`.
        api_version: Option<String>,
        /// The list kind expected.
        expected_kind: &'static str,
        /// Its apiVersion.
        expected_version: &'static str,
    },
    /// Items that differ where new items copy them.
    #[error(
        "{}: the items for namespaces `{}` (line {}) and `{}` (line {}) have different {field}; \
         new items copy the existing ones, so make them agree first",
        path.display(), first.0, first.1, other.0, other.1
    )]
    Disagree {
        /// The file.
        path: PathBuf,
        /// The first item's namespace and line.
        first: (String, usize),
        /// The disagreeing item's namespace and line.
        other: (String, usize),
        /// The field that differs (`metadata.labels`, `rules`, ...).
        field: &'static str,
    },
    /// Not exactly one top-level `items:` line.
    #[error(
        "{}: expected one top-level `items:` line, found {found}; write the list in block style",
        path.display()
    )]
    ItemsKeys {
        /// The file.
        path: PathBuf,
        /// The `items:` lines found.
        found: usize,
    },
    /// Items the patcher cannot place new ones after (flow style).
    #[error(
        "{}: line {line}: the parser found {parsed} items but {found} `- ` item lines follow \
         `items:`; write the items as a block sequence, one `- ` per item",
        path.display()
    )]
    ItemLines {
        /// The file.
        path: PathBuf,
        /// The `items:` line.
        line: usize,
        /// Items the YAML parser saw.
        parsed: usize,
        /// `- ` lines found at the items' indent.
        found: usize,
    },
}

/// Why Prometheus' per-namespace Roles cannot be made.
#[cfg(feature = "write")]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    /// The stack's Prometheus has no per-namespace Roles.
    #[error(
        "prometheus.stack is {stack}: {why}, so there are no per-namespace prometheus-k8s Roles \
         to print or patch (those are kube-prometheus' RoleList/RoleBindingList items)"
    )]
    NoNamespaceRoles {
        /// The spec's stack.
        stack: crate::spec::Stack,
        /// How that stack's Prometheus is granted access instead.
        why: &'static str,
    },
    /// A namespace that is not a DNS-1123 label.
    #[error("namespace {0}")]
    Namespace(crate::values::NameError),
}

/// Why a file given to `lint::lint_files` cannot be linted.
#[cfg(feature = "lint")]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not UTF-8 text (the file's name).
    #[error("{0}: not UTF-8 text, nothing to lint")]
    NotUtf8(String),
    /// No Kubernetes object, spec or adapter config in it (the file's name).
    #[error(
        "{0}: nothing to lint: no Kubernetes object (a document with `kind`), no gen-manifests \
         spec and no prometheus-adapter config.yaml"
    )]
    NothingToLint(String),
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
                Error::Spec(
                    SpecError::new("spec.yaml", crate::spec::SpecErrorKind::Read("bad".into()))
                        .at(Some(1), None)
                        .field("apps"),
                ),
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
                Error::Simulate(simulate::SimulateError::NoLoad),
                ExitStatus::Failure,
            ),
            (
                Error::OutDir(OutDirError::NotGenerated("a.yaml".into())),
                ExitStatus::Failure,
            ),
            (
                Error::Roles(RolesError::Namespace(crate::values::NameError::Empty)),
                ExitStatus::Failure,
            ),
            (
                Error::Lint(InputError::NotUtf8("a".into())),
                ExitStatus::Failure,
            ),
            (
                Error::Patch(PatchError::ItemsKeys {
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
