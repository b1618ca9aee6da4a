//! What differs between the Prometheus installations users run, as data:
//! where Prometheus answers, which labels a monitor needs to be selected,
//! whether it reads app namespaces through per-namespace Roles, and which
//! NetworkPolicy stands in front of it.
//!
//! - kube-prometheus (the jsonnet manifests): Prometheus `k8s`, Service
//!   `prometheus-k8s` in `monitoring`, `serviceMonitorSelector: {}`, a
//!   `prometheus-k8s` Role per namespace, NetworkPolicy `prometheus-k8s`.
//! - kube-prometheus-stack (prometheus-community Helm chart, read at chart
//!   version [`CHART_VERSION`]): Service `<fullname>-prometheus`, monitors
//!   labelled `release: <release>` (`serviceMonitorSelectorNilUsesHelmValues:
//!   true`), a ClusterRole reading every namespace, no NetworkPolicy unless
//!   `prometheus.networkPolicy.enabled`.
//! - operator: the user's own `Prometheus` resource behind the operator's
//!   `prometheus-operated` Service; the monitor labels are the user's.

use std::collections::BTreeMap;

pub use crate::spec::StackError;
use crate::spec::{Stack, MAX_RELEASE_NAME};
use crate::values::Name;

/// The chart whose templates [`chart_fullname`] and [`CHART_SERVICE_PORT`]
/// follow.
pub const CHART_NAME: &str = "kube-prometheus-stack";

/// The kube-prometheus-stack chart version the helper rules were read at
/// (prometheus-community/helm-charts commit
/// cf408a290aec489277a94450bb3511432477a53a,
/// `charts/kube-prometheus-stack/templates/_helpers.tpl`).
#[allow(dead_code)] // Cited by the docs, checked by the tests.
pub const CHART_VERSION: &str = "88.5.3";

/// The chart's `prometheus.service.port` default.
pub const CHART_SERVICE_PORT: u16 = 9090;

/// The release name `helm install kube-prometheus-stack prometheus-community/kube-prometheus-stack`
/// gives, the default of `prometheus.release`.
pub const DEFAULT_RELEASE: &str = "kube-prometheus-stack";

/// The chart's `kube-prometheus-stack.fullname` helper, rule for rule:
///
/// ```text
/// {{- if .Values.fullnameOverride -}}
/// {{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" -}}
/// {{- else -}}
/// {{- $name := default .Chart.Name .Values.nameOverride -}}
/// {{- if contains $name .Release.Name -}}
/// {{- .Release.Name | trunc 26 | trimSuffix "-" -}}
/// {{- else -}}
/// {{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" -}}
/// ```
///
/// Sprig's `trunc` cuts bytes and `trimSuffix` removes one `-` at most.
pub fn chart_fullname(
    release: &str,
    name_override: Option<&str>,
    fullname_override: Option<&str>,
) -> String {
    if let Some(fullname) = fullname_override.filter(|text| !text.is_empty()) {
        return trunc_trim(fullname);
    }
    let name = name_override
        .filter(|text| !text.is_empty())
        .unwrap_or(CHART_NAME);
    if release.contains(name) {
        trunc_trim(release)
    } else {
        trunc_trim(&format!("{release}-{name}"))
    }
}

/// `trunc 26 | trimSuffix "-"`. Inputs are DNS labels (ASCII), so cutting
/// at a byte is cutting at a character.
fn trunc_trim(text: &str) -> String {
    let cut = text.get(..text.len().min(26)).unwrap_or(text);
    cut.strip_suffix('-').unwrap_or(cut).to_owned()
}

/// The NetworkPolicy a stack ships in front of Prometheus' pods, by name:
/// kube-prometheus' `prometheus-k8s` (manifests/prometheus-networkPolicy.yaml,
/// port 9090 from pods labelled `app.kubernetes.io/name` prometheus,
/// prometheus-adapter or grafana); none for kube-prometheus-stack (chart
/// default `prometheus.networkPolicy.enabled: false`) or a plain operator.
pub fn network_policy(stack: Stack) -> Option<&'static str> {
    match stack {
        Stack::KubePrometheus => Some("prometheus-k8s"),
        Stack::KubePrometheusStack | Stack::Operator => None,
    }
}

/// What a stack means for the generated objects, resolved from the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFacts {
    /// The in-cluster URL of Prometheus.
    pub url: String,
    /// Labels a ServiceMonitor needs to be selected.
    pub service_monitor_labels: BTreeMap<String, String>,
    /// Labels a PodMonitor needs to be selected.
    pub pod_monitor_labels: BTreeMap<String, String>,
    /// Whether Prometheus reads app namespaces only through a Role per
    /// namespace (kube-prometheus), which the tool then emits.
    pub namespace_roles: bool,
    /// The NetworkPolicy the stack ships in front of Prometheus, if any
    /// (see [`network_policy`]).
    pub network_policy: Option<&'static str>,
}

/// The stack's settings the spec may give.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackInput<'a> {
    /// Prometheus' namespace (kube-prometheus-stack: the release namespace).
    pub namespace: &'a str,
    /// The Helm release name.
    pub release: Option<&'a str>,
    /// The chart's `nameOverride`.
    pub name_override: Option<&'a str>,
    /// The chart's `fullnameOverride`.
    pub fullname_override: Option<&'a str>,
    /// `serviceMonitorSelector.matchLabels`, when the user gives it.
    pub service_monitor_selector: Option<&'a BTreeMap<String, String>>,
    /// `podMonitorSelector.matchLabels`, when the user gives it.
    pub pod_monitor_selector: Option<&'a BTreeMap<String, String>>,
}

/// Resolves `stack` with the spec's settings.
pub fn resolve(stack: Stack, input: &StackInput<'_>) -> Result<StackFacts, StackError> {
    let given = |labels: Option<&BTreeMap<String, String>>| labels.cloned();
    let namespace = input.namespace;
    let facts = match stack {
        Stack::KubePrometheus => StackFacts {
            url: format!("http://prometheus-k8s.{namespace}.svc:9090"),
            // kube-prometheus' Prometheus `k8s` selects every monitor.
            service_monitor_labels: given(input.service_monitor_selector).unwrap_or_default(),
            pod_monitor_labels: given(input.pod_monitor_selector).unwrap_or_default(),
            namespace_roles: true,
            network_policy: network_policy(Stack::KubePrometheus),
        },
        Stack::KubePrometheusStack => {
            let release = input.release.unwrap_or(DEFAULT_RELEASE);
            if release.len() > MAX_RELEASE_NAME {
                return Err(StackError::ReleaseTooLong(release.to_owned()));
            }
            let fullname = chart_fullname(release, input.name_override, input.fullname_override);
            // serviceMonitorSelectorNilUsesHelmValues: true (the chart's
            // default) makes the selector `matchLabels: {release: <release>}`.
            let release_label = BTreeMap::from([("release".to_owned(), release.to_owned())]);
            StackFacts {
                url: format!("http://{fullname}-prometheus.{namespace}.svc:{CHART_SERVICE_PORT}"),
                service_monitor_labels: given(input.service_monitor_selector)
                    .unwrap_or_else(|| release_label.clone()),
                pod_monitor_labels: given(input.pod_monitor_selector).unwrap_or(release_label),
                namespace_roles: false,
                network_policy: network_policy(Stack::KubePrometheusStack),
            }
        }
        Stack::Operator => StackFacts {
            // The operator's governing Service for every Prometheus in a namespace.
            url: format!("http://prometheus-operated.{namespace}.svc:9090"),
            service_monitor_labels: given(input.service_monitor_selector).unwrap_or_default(),
            pod_monitor_labels: given(input.pod_monitor_selector).unwrap_or_default(),
            namespace_roles: false,
            network_policy: network_policy(Stack::Operator),
        },
    };
    if stack != Stack::KubePrometheusStack {
        for (field, given) in [
            ("prometheus.release", input.release),
            ("prometheus.nameOverride", input.name_override),
            ("prometheus.fullnameOverride", input.fullname_override),
        ] {
            if given.is_some() {
                return Err(StackError::NotHelm { field, stack });
            }
        }
    }
    Ok(facts)
}

/// A spec [`Name`] as `&str`, for [`StackInput`].
pub(crate) fn name_str(name: &Option<crate::Located<Name>>) -> Option<&str> {
    name.as_ref().map(|spanned| spanned.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunc_trim_removes_one_dash() {
        assert_eq!(
            trunc_trim("abcdefghijklmnopqrstuvwxy--z"),
            "abcdefghijklmnopqrstuvwxy"
        );
        assert_eq!(
            trunc_trim("abcdefghijklmnopqrstuvwx--z"),
            "abcdefghijklmnopqrstuvwx-"
        );
        assert_eq!(trunc_trim("short"), "short");
    }

    // chart 88.5.3, `kube-prometheus-stack.fullname` in
    // charts/kube-prometheus-stack/templates/_helpers.tpl.
    #[test]
    fn the_chart_version_is_cited() {
        assert_eq!(CHART_VERSION, "88.5.3");
    }

    /// `printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-"` when the
    /// release name does not contain the chart name.
    #[test]
    fn release_without_the_chart_name_is_prefixed_and_truncated() {
        // "prometheus-kube-prometheus-stack" is 32 bytes; trunc 26.
        assert_eq!(
            chart_fullname("prometheus", None, None),
            "prometheus-kube-prometheus"
        );
        assert_eq!(
            chart_fullname("kps", None, None),
            "kps-kube-prometheus-stack"
        );
        assert_eq!(
            chart_fullname("monitoring", None, None),
            "monitoring-kube-prometheus"
        );
        // The 26th byte is `-`: trimSuffix drops it.
        assert_eq!(
            chart_fullname("abcdefghijklmnopqrst", None, None),
            "abcdefghijklmnopqrst-kube"
        );
        assert_eq!(
            chart_fullname("abcdefghijklmnopqrstuvwxy", None, None),
            "abcdefghijklmnopqrstuvwxy"
        );
    }

    /// `contains $name .Release.Name`: a substring test, then `trunc 26`.
    #[test]
    fn release_containing_the_chart_name_is_the_full_name() {
        assert_eq!(
            chart_fullname("kube-prometheus-stack", None, None),
            "kube-prometheus-stack"
        );
        assert_eq!(
            chart_fullname("my-kube-prometheus-stack", None, None),
            "my-kube-prometheus-stack"
        );
        // 29 bytes: truncated to 26.
        assert_eq!(
            chart_fullname("my-kube-prometheus-stack-eu", None, None),
            "my-kube-prometheus-stack-e"
        );
        // Truncation ends on `-`: trimmed.
        assert_eq!(
            chart_fullname("ops-kube-prometheus-stack-prod", None, None),
            "ops-kube-prometheus-stack"
        );
    }

    /// fullnameOverride wins over everything, `trunc 26 | trimSuffix "-"` too;
    /// nameOverride replaces the chart name in both branches.
    #[test]
    fn overrides() {
        assert_eq!(chart_fullname("prometheus", None, Some("kps")), "kps");
        assert_eq!(
            chart_fullname(
                "prometheus",
                Some("mon"),
                Some("a-fullname-override-of-30-chars")
            ),
            "a-fullname-override-of-30"
        );
        assert_eq!(
            chart_fullname("prometheus", Some("mon"), None),
            "prometheus-mon"
        );
        assert_eq!(chart_fullname("mon-prod", Some("mon"), None), "mon-prod");
        // An empty override is Sprig's `default`'s empty: not given.
        assert_eq!(
            chart_fullname("prometheus", Some(""), Some("")),
            "prometheus-kube-prometheus"
        );
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::stack::chart_fullname;

        assert_eq!(
            chart_fullname("prometheus", None, None),
            "prometheus-kube-prometheus"
        );
        assert_eq!(
            chart_fullname("kube-prometheus-stack", None, None),
            "kube-prometheus-stack"
        );
    }
}
