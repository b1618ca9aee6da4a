//! The rule catalogue: every check as one typed value with its stable id,
//! severity, one-line fix and the real failure it prevents. The README's
//! table is [`markdown_table`]'s output (a test keeps them equal), and
//! `gen-manifests lint --explain ID` prints [`Check::explain`].
//!
//! To add a check: add a variant, give it a row in [`Check::info`] and list
//! it in [`Check::ALL`]; the tests then ask for its positive, negative and
//! corpus cases.

use std::fmt;

use serde::Serialize;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The setup does not work: a query fails, the adapter crashes, the
    /// HPA never gets its metric.
    Error,
    /// The setup works badly or unsafely.
    Warning,
    /// Worth knowing, not wrong by itself (never fails a run, not even
    /// under `--strict`).
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Check {
    /// A query that is not PromQL once filled in.
    PromqlParse,
    /// A metricsQuery Go's text/template refuses.
    QueryTemplate,
    /// A rate window too short for the scrape interval.
    RateWindow,
    /// A `_per_minute` name on a per-second rate.
    MetricUnit,
    /// A query whose result lacks the label the adapter reads values by.
    QueryLabels,
    /// A metricsQuery without `<<.LabelMatchers>>`.
    QueryIgnoresRequest,
    /// `resources` naming labels the seriesQuery's series do not have.
    ResourceLabels,
    /// A `name.matches` no selected series matches.
    NameNeverMatches,
    /// Two rules serving one name from one series.
    DuplicateMetric,
    /// Two rules serving different names from one series.
    OverlappingRules,
    /// An HPA metric no rule serves.
    HpaUnknownMetric,
    /// The adapter's config.yaml against its schema.
    AdapterConfig,
    /// klog flags on adapter v0.11+.
    KlogFlags,
    /// Removed adapter flags, a missing `--config`.
    AdapterFlags,
    /// `--metrics-relist-interval` against the scrape interval.
    RelistInterval,
    /// The abandoned directxman12 image.
    DeprecatedImage,
    /// `insecureSkipTLSVerify`.
    InsecureTls,
    /// Pod Security `restricted`.
    PodSecurity,
    /// An HPA namespace without Prometheus' Role.
    PrometheusRoleMissing,
    /// A NetworkPolicy that keeps the adapter from Prometheus.
    NetworkPolicy,
    /// Two sets defining one object.
    NameCollision,
    /// `--prometheus-url` malformed or a placeholder.
    PrometheusUrl,
    /// A document that is not a Kubernetes object.
    NotAnObject,
    /// A ServiceMonitor/PodMonitor no Prometheus in the input selects.
    MonitorNotSelected,
    /// A KEDA prometheus trigger query that is not one sample.
    KedaQuery,
    /// A KEDA threshold in another unit than its query.
    KedaThresholdUnit,
    /// `ignoreNullValues` true on a KEDA rate query.
    KedaIgnoreNullValues,
    /// Trigger metadata KEDA's prometheus scaler does not read or refuses.
    KedaMetadataKeys,
    /// A KEDA query's rate window against the scrape interval.
    KedaRateWindow,
    /// An HPA and a ScaledObject (or two ScaledObjects) on one workload.
    KedaHpaConflict,
    /// Another provider of external.metrics.k8s.io next to KEDA.
    KedaExternalProvider,
}

/// A catalogue row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// The worst severity the check reports.
    pub severity: Severity,
    /// What it finds.
    pub summary: &'static str,
    /// The one-line fix.
    pub fix: &'static str,
    /// The real failure it prevents (an issue or documentation URL).
    pub source: &'static str,
}

const fn info(
    id: &'static str,
    severity: Severity,
    summary: &'static str,
    fix: &'static str,
    source: &'static str,
) -> CheckInfo {
    CheckInfo {
        id,
        severity,
        summary,
        fix,
        source,
    }
}

impl Check {
    /// Every check, in catalogue order.
    pub const ALL: [Check; 31] = [
        Check::PromqlParse,
        Check::QueryTemplate,
        Check::RateWindow,
        Check::MetricUnit,
        Check::QueryLabels,
        Check::QueryIgnoresRequest,
        Check::ResourceLabels,
        Check::NameNeverMatches,
        Check::DuplicateMetric,
        Check::OverlappingRules,
        Check::HpaUnknownMetric,
        Check::AdapterConfig,
        Check::KlogFlags,
        Check::AdapterFlags,
        Check::RelistInterval,
        Check::DeprecatedImage,
        Check::InsecureTls,
        Check::PodSecurity,
        Check::PrometheusRoleMissing,
        Check::NetworkPolicy,
        Check::NameCollision,
        Check::PrometheusUrl,
        Check::NotAnObject,
        Check::MonitorNotSelected,
        Check::KedaQuery,
        Check::KedaThresholdUnit,
        Check::KedaIgnoreNullValues,
        Check::KedaMetadataKeys,
        Check::KedaRateWindow,
        Check::KedaHpaConflict,
        Check::KedaExternalProvider,
    ];

    /// The catalogue row.
    pub const fn info(self) -> CheckInfo {
        use Severity::{Error, Warning};
        match self {
            Check::PromqlParse => info(
                "promql-parse",
                Error,
                "a metricsQuery/containerQuery/nodeQuery that is not PromQL once the adapter fills it in, or a seriesQuery that is not a selector",
                "correct the query so that Prometheus parses it with <<.Series>>, <<.LabelMatchers>>, <<.GroupBy>> filled in",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/88",
            ),
            Check::QueryTemplate => info(
                "query-template",
                Error,
                "a metricsQuery that Go's text/template (delimiters << >>) refuses: the adapter exits at start-up, or fails every request on an unknown field",
                "write the placeholders exactly as <<.Series>>, <<.LabelMatchers>>, <<.GroupBy>>",
                "https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/config.md#querying",
            ),
            Check::RateWindow => info(
                "rate-window",
                Error,
                "a rate/irate/increase window under 2 x the scrape interval (error: no data) or 4 x (warning: gaps)",
                "use a window of at least 4 scrape intervals, such as [2m] at a 30s scrape",
                "https://github.com/d2iq-archive/kubernetes-base-addons/pull/59",
            ),
            Check::MetricUnit => info(
                "metric-unit",
                Warning,
                "a metric named _per_minute/_per_hour computed with per-second rate()",
                "name it ${1}_per_second, or multiply the rate by 60",
                "https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/config-walkthrough.md",
            ),
            Check::QueryLabels => info(
                "query-labels",
                Error,
                "a metricsQuery whose result has no label of the requested resource (hard-coded `by (...)`), or divides series that never match",
                "aggregate by (<<.GroupBy>>) and match both sides of a division with on(...)",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/219",
            ),
            Check::QueryIgnoresRequest => info(
                "query-ignores-request",
                Warning,
                "a custom metricsQuery without <<.LabelMatchers>>: every namespace's series answer every request",
                "select with {<<.LabelMatchers>>} and aggregate by (<<.GroupBy>>)",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/219",
            ),
            Check::ResourceLabels => info(
                "resource-labels",
                Warning,
                "resources.overrides or a <<.Resource>> template naming labels the seriesQuery's series do not carry",
                "map the labels the seriesQuery selects, such as kubernetes_pod_name: {resource: pod}",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/112",
            ),
            Check::NameNeverMatches => info(
                "name-never-matches",
                Error,
                "a name.matches (or seriesFilters) that no series the seriesQuery selects can match: the rule serves nothing",
                "make name.matches match the series name, such as ^(.*)_total$ for http_requests_total",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/112",
            ),
            Check::DuplicateMetric => info(
                "duplicate-metric",
                Error,
                "two rules serving one metric name from the same series",
                "remove one rule, or narrow one with seriesFilters",
                "https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/config.md",
            ),
            Check::OverlappingRules => info(
                "overlapping-rules",
                Warning,
                "two rules serving different names from the same series (the adapter wants rules mutually exclusive)",
                "narrow the rules with seriesFilters or seriesQuery so that each series has one rule",
                "https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/pkg/config/config.go",
            ),
            Check::HpaUnknownMetric => info(
                "hpa-unknown-metric",
                Error,
                "an HPA Pods/Object metric that no adapter rule serves",
                "use a metric the rules serve, or add a rule whose name.as produces it",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/495",
            ),
            Check::AdapterConfig => info(
                "adapter-config",
                Error,
                "an adapter config.yaml the adapter refuses (not YAML, unknown keys, a window without a unit) or one without the rules an APIService routes to it",
                "follow the adapter's schema (docs/config.md) and give every served API its rules",
                "https://github.com/prometheus-operator/kube-prometheus/issues/486",
            ),
            Check::KlogFlags => info(
                "klog-flags",
                Error,
                "klog flags (--logtostderr...) on an adapter image v0.11 or later, which exits on them",
                "remove the flag; logs go to stderr by default",
                "https://github.com/prometheus-community/helm-charts/issues/3642",
            ),
            Check::AdapterFlags => info(
                "adapter-flags",
                Error,
                "an adapter flag its version removed, no --config, or --metrics-max-age below --metrics-relist-interval: the adapter exits",
                "pass --config=/etc/adapter/config.yaml and only flags the adapter's --help lists",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/129",
            ),
            Check::RelistInterval => info(
                "relist-interval",
                Warning,
                "--metrics-relist-interval shorter than the scrape interval: metrics drop out of the API between scrapes",
                "set --metrics-relist-interval to at least the scrape interval, such as 1m",
                "https://github.com/kubernetes-sigs/prometheus-adapter/issues/64",
            ),
            Check::DeprecatedImage => info(
                "deprecated-image",
                Warning,
                "the abandoned directxman12/k8s-prometheus-adapter images",
                "use registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0",
                "https://github.com/kubernetes-sigs/prometheus-adapter#installation",
            ),
            Check::InsecureTls => info(
                "insecure-tls",
                Warning,
                "an APIService with insecureSkipTLSVerify",
                "set spec.caBundle (adapter.tls.mode caBundle or certManager)",
                "https://kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer/",
            ),
            Check::PodSecurity => info(
                "pod-security",
                Warning,
                "an adapter container that Pod Security `restricted` refuses (drop not ALL, no RuntimeDefault seccomp, no runAsNonRoot)",
                "drop [\"ALL\"], seccompProfile RuntimeDefault, runAsNonRoot, allowPrivilegeEscalation: false",
                "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            ),
            Check::PrometheusRoleMissing => info(
                "prometheus-role-missing",
                Error,
                "an HPA's namespace without a prometheus-k8s Role, when the input has such Roles",
                "add the namespace's Role and RoleBinding (gen-manifests roles)",
                "https://github.com/prometheus-operator/kube-prometheus/blob/main/docs/monitoring-other-namespaces.md",
            ),
            Check::NetworkPolicy => info(
                "network-policy",
                Warning,
                "adapter pods that a NetworkPolicy in the input (or kube-prometheus', with --stack kube-prometheus) keeps from Prometheus' port",
                "label the adapter pods so that the policy admits them, or add an ingress rule for them",
                "https://github.com/prometheus-operator/kube-prometheus/issues/1764",
            ),
            Check::NameCollision => info(
                "name-collision",
                Error,
                "two sets that are both applied define one object (error); an object named like kube-prometheus' adapter without that context (info)",
                "give the custom metrics adapter its own names, such as custom-metrics-adapter",
                "https://github.com/prometheus-operator/kube-prometheus/issues/926",
            ),
            Check::PrometheusUrl => info(
                "prometheus-url",
                Error,
                "a --prometheus-url that is not a URL the adapter can use (no scheme, a port twice, a port in the path) or a placeholder (warning)",
                "write scheme, host and port of your Prometheus, such as http://prometheus-k8s.monitoring.svc:9090",
                "https://github.com/helm/charts/issues/9631",
            ),
            Check::NotAnObject => info(
                "not-an-object",
                Error,
                "a document that is not a Kubernetes object (no kind, not a mapping), so nothing in it was checked",
                "give every document apiVersion, kind and metadata.name",
                "https://kubernetes.io/docs/concepts/overview/working-with-objects/",
            ),
            Check::MonitorNotSelected => info(
                "monitor-not-selected",
                Error,
                "a ServiceMonitor/PodMonitor that no Prometheus resource in the input selects (its monitor selector, nil = none; its namespace selector, nil = own namespace only)",
                "label the monitor as the Prometheus' selector asks (kube-prometheus-stack: release: <release>; gen-manifests: prometheus.stack and prometheus.release), or widen the selector",
                "https://github.com/prometheus-community/helm-charts/issues/1631",
            ),
            Check::KedaQuery => info(
                "keda-query",
                Error,
                "a KEDA prometheus trigger query that Prometheus refuses, or that can return more than one sample (no outer aggregation to one series), a scalar or a range vector: KEDA fails the poll",
                "aggregate the whole query to one series, such as sum(rate(http_requests_total{...}[2m]))",
                "https://github.com/kedacore/keda/issues/5514",
            ),
            Check::KedaThresholdUnit => info(
                "keda-threshold-unit",
                Warning,
                "a KEDA threshold meant per minute/hour (trigger name, metricName or the adopted HPA's metric says so) on a per-second rate() query, or the reverse",
                "write the threshold in the query's unit, or multiply the rate by 60",
                "https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/config-walkthrough.md",
            ),
            Check::KedaIgnoreNullValues => info(
                "keda-ignore-null-values",
                Warning,
                "a KEDA rate() query with ignoreNullValues left true (KEDA's default): a Prometheus outage reads as 0 and scales the workload to its minimum",
                "set ignoreNullValues: \"false\" and a fallback",
                "https://github.com/kedacore/keda/issues/3065",
            ),
            Check::KedaMetadataKeys => info(
                "keda-metadata-keys",
                Error,
                "trigger metadata keys KEDA's prometheus scaler does not read (warning: typos are ignored silently), required keys missing or values it refuses (error), TriggerAuthentication parameters it does not read",
                "use only the keys pkg/scalers/prometheus_scaler.go reads; threshold a decimal above 0",
                "https://github.com/kedacore/keda/issues/5857",
            ),
            Check::KedaRateWindow => info(
                "keda-rate-window",
                Error,
                "a KEDA query's rate/irate/increase window under 2 x the scrape interval (error: no data) or 4 x (warning: gaps)",
                "use a window of at least 4 scrape intervals, such as [2m] at a 30s scrape",
                "https://github.com/kedacore/keda/issues/5487",
            ),
            Check::KedaHpaConflict => info(
                "keda-hpa-conflict",
                Error,
                "an HPA and a ScaledObject (or two ScaledObjects) on one workload without adoption (advanced.horizontalPodAutoscalerConfig.name + transfer-hpa-ownership): two HPAs fight",
                "adopt the HPA: horizontalPodAutoscalerConfig.name and scaledobject.keda.sh/transfer-hpa-ownership: \"true\"",
                "https://github.com/fluxcd/flagger/issues/1646",
            ),
            Check::KedaExternalProvider => info(
                "keda-external-provider",
                Error,
                "an APIService for external.metrics.k8s.io that is not KEDA's, next to KEDA: one provider per API group",
                "serve external metrics from KEDA only; delete the adapter's external APIService and externalRules",
                "https://github.com/kedacore/keda/issues/470",
            ),
        }
    }

    /// The stable id, such as `promql-parse`.
    pub const fn id(self) -> &'static str {
        self.info().id
    }

    /// The check with this id.
    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|check| check.id() == id)
    }

    /// What `lint --explain ID` prints.
    pub fn explain(self) -> String {
        let info = self.info();
        format!(
            "{}\nseverity: {}\nfinds:    {}\nfix:      {}\nprevents: {}\n",
            info.id, info.severity, info.summary, info.fix, info.source
        )
    }
}

impl From<Check> for &'static str {
    fn from(check: Check) -> &'static str {
        check.id()
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The README's rule table, one row per check.
pub fn markdown_table() -> String {
    let mut out = String::from("| id | severity | finds | prevents |\n|---|---|---|---|\n");
    for check in Check::ALL {
        let info = check.info();
        out.push_str(&format!(
            "| `{}` | {} | {} | <{}> |\n",
            info.id,
            info.severity,
            info.summary.replace('|', "\\|"),
            info.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for check in Check::ALL {
            let id = check.id();
            assert!(seen.insert(id), "{id} twice");
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(Check::from_id(id), Some(check));
            assert!(check.info().source.starts_with("https://"));
        }
        assert_eq!(Check::from_id("nope"), None);
    }
}
