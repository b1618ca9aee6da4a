//! Why a spec is refused: [`SpecErrorKind`], the kind of failure the
//! located [`SpecError`](super::SpecError) carries, and below it the
//! spec's own rules ([`ConfigError`]), an app's ([`AppError`]) and the
//! stack's ([`StackError`]). A library user matches on the kind; its
//! `Display` is the message.

use crate::naming::{NamingError, DEFAULT_SERIES};
use crate::query::KedaQueryError;
use crate::values::{Duration, DurationError, GoDuration, Name, Quantity, Replicas};

use super::Stack;

/// Helm's longest release name.
pub const MAX_RELEASE_NAME: usize = 53;

/// What is wrong with an input the spec reader read: the kind of a
/// [`SpecError`](super::SpecError).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecErrorKind {
    /// Nothing but blank lines, comments and document markers: what a
    /// failed upstream step or a closed standard input leaves.
    #[error("the spec is empty; write at least `preset: documented`")]
    Empty,
    /// More bytes than the tool reads of such an input.
    #[error("the file is larger than {limit} bytes; {input} are limited to {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
        /// The kind of input, plural (`specs`, `load traces (CSV)`).
        input: &'static str,
    },
    /// Not UTF-8 text.
    #[error("the file is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// Aliases that expand to more events than allowed (a "billion
    /// laughs").
    #[error(
        "alias expansion limit exceeded: the aliases expand to more than {0} events \
         (alias-bomb protection)"
    )]
    AliasExpansion(usize),
    /// An alias whose node nests deeper than allowed where it is used.
    #[error("nesting depth limit exceeded: this alias nests deeper than {0} levels")]
    AliasDepth(usize),
    /// Collections nested deeper than allowed.
    #[error("nesting depth limit exceeded: collections nest deeper than {0} levels")]
    Depth(usize),
    /// The YAML reader refused the text: its syntax, a duplicate or
    /// unknown key, a type, or a value's own check, in the reader's words.
    #[error("{0}")]
    Read(String),
    /// Another input's reader (a load trace, an http_config file) refused
    /// it, in its words.
    #[error("{0}")]
    Input(String),
    /// The spec reads, but breaks a rule of the model (boxed: the other
    /// kinds are small).
    #[error(transparent)]
    Config(Box<ConfigError>),
}

impl From<ConfigError> for SpecErrorKind {
    fn from(error: ConfigError) -> SpecErrorKind {
        SpecErrorKind::Config(Box::new(error))
    }
}

/// A rule of the model that a spec breaks (the rules that span fields,
/// and the checks a spec built in code gets that the reader would have
/// made).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A selector without labels.
    #[error("the selector needs at least one label")]
    EmptySelector,
    /// A scrape interval outside 1s to 1h.
    #[error(transparent)]
    ScrapeInterval(DurationError),
    /// TLS mode `caBundle` without the CA's PEM.
    #[error("mode caBundle needs the PEM of the CA that signed the serving certificate")]
    NoCaBundle,
    /// An adapter named like a cluster component in kube-system.
    #[error(
        "`{0}` in kube-system is a cluster component's name: the adapter's ServiceAccount, \
         ConfigMap, Deployment and Service would replace its objects; choose another name"
    )]
    SystemName(Name),
    /// Neither rules nor resource rules.
    #[error("the adapter would serve no metric: give at least one rule")]
    NoRules,
    /// A rule's naming the adapter would refuse.
    #[error(transparent)]
    Naming(#[from] NamingError),
    /// A series filter that is not a regex.
    #[error("`{pattern}` is not a valid regex: {message}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// The regex parser's message.
        message: String,
    },
    /// A query template that is not PromQL once filled in.
    #[error("not PromQL once the adapter fills it in ({message}): `{filled}`")]
    Query {
        /// The PromQL parser's message.
        message: String,
        /// The template, filled in as the adapter fills it.
        filled: String,
    },
    /// Prometheus settings that do not fit the stack.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// More apps than one spec may have.
    #[error(
        "the spec has {count} apps, more than the {max} one spec may have (a bound on the work \
         of every command); split the apps over several specs"
    )]
    TooManyApps {
        /// The spec's apps.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An app that does not resolve.
    #[error(transparent)]
    App(#[from] AppError),
    /// A relist interval outside 1s to 1h.
    #[error(transparent)]
    RelistInterval(DurationError),
    /// A relist interval shorter than a scrape interval.
    #[error(
        "`{relist}` is shorter than the scrape interval `{scrape}`: the adapter drops series \
         without a sample since its last relist, so metrics would come and go; use at least \
         `{scrape}`"
    )]
    RelistShorterThanScrape {
        /// The relist interval.
        relist: GoDuration,
        /// The longest scrape interval.
        scrape: Duration,
    },
    /// KEDA auth modes `bearer` and `basic` together.
    #[error("bearer and basic exclude each other (KEDA's authModes exclusiveSet)")]
    BearerAndBasic,
    /// KEDA authentication without an auth mode.
    #[error(
        "give at least one of bearer, basic, tls: KEDA's prometheus scaler ignores \
         authentication (the CA included) without an auth mode"
    )]
    NoAuthMode,
}

/// An app field a resolution error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppField {
    /// `name` (with `namespace`, the app's identity).
    Name,
    /// `metric`.
    Metric,
    /// `minReplicas`.
    MinReplicas,
    /// `port`.
    Port,
    /// `selector`.
    Selector,
    /// `targetAverageValue`.
    TargetAverageValue,
    /// `interval`.
    Interval,
}

impl AppField {
    /// The field's key in a spec's app.
    pub fn as_str(self) -> &'static str {
        match self {
            AppField::Name => "name",
            AppField::Metric => "metric",
            AppField::MinReplicas => "minReplicas",
            AppField::Port => "port",
            AppField::Selector => "selector",
            AppField::TargetAverageValue => "targetAverageValue",
            AppField::Interval => "interval",
        }
    }
}

impl std::fmt::Display for AppField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an app cannot be added ([`Config::add_app`]); [`AppError::field`]
/// is the app field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// Another app has the same name in the same namespace.
    #[error("app `{name}` appears twice in namespace `{namespace}`")]
    Duplicate {
        /// The app's name.
        name: Name,
        /// Its namespace.
        namespace: Name,
    },
    /// The adapter's rules do not compute names (so no metric is served).
    #[error(transparent)]
    Rules(NamingError),
    /// No rule serves the app's metric.
    #[error(
        "no adapter rule serves metric `{metric}` for app `{app}`; the rules serve: {}",
        served_list(served)
    )]
    NotServed {
        /// The app's metric.
        metric: String,
        /// The app.
        app: Name,
        /// The metrics the rules serve.
        served: Vec<String>,
    },
    /// No metric given, and no rule serves the default series.
    #[error(
        "no adapter rule serves `{DEFAULT_SERIES}`, so app `{app}` needs an explicit metric; \
         the rules serve: {}",
        served_list(served)
    )]
    NoDefaultMetric {
        /// The app.
        app: Name,
        /// The metrics the rules serve.
        served: Vec<String>,
    },
    /// minReplicas above maxReplicas.
    #[error("minReplicas {min} is greater than maxReplicas {max}")]
    MinAboveMax {
        /// minReplicas.
        min: Replicas,
        /// maxReplicas.
        max: Replicas,
    },
    /// Not a Service port name (`IsValidPortName`).
    #[error(
        "`{0}` is not a port name: the ServiceMonitor names the Service port, at most 15 \
         lower-case letters, digits and single `-`, with at least one letter"
    )]
    PortName(String),
    /// A selector without labels.
    #[error(
        "an empty selector makes the ServiceMonitor scrape every Service in the namespace: give \
         the app Service's labels (or leave `selector` out for `app: <name>`)"
    )]
    EmptySelector,
    /// A target of zero (or below).
    #[error("the target must be greater than zero")]
    TargetNotPositive,
    /// A scrape interval outside what Prometheus and the adapter handle.
    #[error(transparent)]
    Interval(DurationError),
    /// The keda backend cannot write the app's query.
    #[error(transparent)]
    KedaQuery(KedaQueryError),
    /// A target KEDA rounds to 0.
    #[error(
        "`{0}` rounds to 0 in KEDA, which keeps 3 decimals of the threshold: give at least 1m"
    )]
    KedaThresholdZero(Quantity),
    /// A target with more digits than a KEDA threshold holds.
    #[error("`{0}` has too many digits for a KEDA threshold")]
    KedaThresholdDigits(Quantity),
}

impl AppError {
    /// The app field at fault.
    pub fn field(&self) -> AppField {
        match self {
            AppError::Duplicate { .. } => AppField::Name,
            AppError::Rules(_)
            | AppError::NotServed { .. }
            | AppError::NoDefaultMetric { .. }
            | AppError::KedaQuery(_) => AppField::Metric,
            AppError::MinAboveMax { .. } => AppField::MinReplicas,
            AppError::PortName(_) => AppField::Port,
            AppError::EmptySelector => AppField::Selector,
            AppError::Interval(_) => AppField::Interval,
            AppError::TargetNotPositive
            | AppError::KedaThresholdZero(_)
            | AppError::KedaThresholdDigits(_) => AppField::TargetAverageValue,
        }
    }
}

/// `a, b`, or `none`.
fn served_list(served: &[String]) -> String {
    if served.is_empty() {
        "none".to_owned()
    } else {
        served.join(", ")
    }
}

/// Why the spec's Prometheus settings do not fit its stack.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// A Helm release name longer than Helm allows.
    #[error("`{0}` is {len} characters; Helm release names have at most {MAX_RELEASE_NAME}", len = .0.len())]
    ReleaseTooLong(String),
    /// A Helm setting (`field`) on a stack that is not a Helm chart.
    #[error(
        "only kube-prometheus-stack has a Helm release; this spec's stack is {stack} (set \
         prometheus.stack: kube-prometheus-stack)"
    )]
    NotHelm {
        /// The spec field given.
        field: &'static str,
        /// The spec's stack.
        stack: Stack,
    },
}

impl StackError {
    /// The spec field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            StackError::ReleaseTooLong(_) => "prometheus.release",
            StackError::NotHelm { field, .. } => field,
        }
    }
}
