//! The Prometheus stacks: kube-prometheus-stack's names follow the chart's
//! own `kube-prometheus-stack.fullname` helper (chart 88.5.3,
//! prometheus-community/helm-charts cf408a290aec489277a94450bb3511432477a53a,
//! `charts/kube-prometheus-stack/templates/_helpers.tpl`), its Service
//! `<fullname>-prometheus` (`templates/prometheus/service.yaml`, port
//! `prometheus.service.port: 9090`), its selectors `release: <release>`
//! (`templates/prometheus/prometheus.yaml`, `serviceMonitorSelectorNilUsesHelmValues: true`).

mod common;
use common::*;

use custom_metrics_manifests::render::{self, Manifest};
use custom_metrics_manifests::stack::{chart_fullname, CHART_VERSION};
use custom_metrics_manifests::{Config, Spec};

fn config(yaml: &str) -> Config {
    Config::from_spec(Spec::from_yaml(yaml, "spec.yaml").unwrap(), "spec.yaml").unwrap()
}

fn kps(prometheus: &str) -> Config {
    config(&format!(
        "preset: recommended\nprometheus:\n  stack: kube-prometheus-stack\n{prometheus}\
         apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n"
    ))
}

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

#[test]
fn done_when_release_prometheus() {
    let config = kps("  release: prometheus\n");
    assert_eq!(
        config.adapter.prometheus_url,
        "http://prometheus-kube-prometheus-prometheus.monitoring.svc:9090"
    );
    let manifests = render::manifests(&config);
    let monitors: Vec<_> = manifests
        .iter()
        .filter_map(|m| match m {
            Manifest::ServiceMonitor(monitor) => Some(monitor),
            _ => None,
        })
        .collect();
    assert_eq!(monitors.len(), 1);
    let labels = monitors[0].metadata.labels.as_ref().unwrap();
    assert_eq!(
        labels.get("release").map(String::as_str),
        Some("prometheus")
    );
    assert!(
        !manifests.iter().any(
            |m| matches!(m, Manifest::Role(_) | Manifest::RoleBinding(_))
                && m.name() == "prometheus-k8s"
        ),
        "no prometheus-k8s Role items"
    );
}

#[test]
fn urls_follow_the_helper() {
    let cases = [
        (
            "",
            "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        ),
        (
            "  release: monitoring\n",
            "http://monitoring-kube-prometheus-prometheus.monitoring.svc:9090",
        ),
        (
            "  release: ops-kube-prometheus-stack-prod\n  namespace: ops\n",
            "http://ops-kube-prometheus-stack-prometheus.ops.svc:9090",
        ),
        (
            "  release: prometheus\n  fullnameOverride: kps\n",
            "http://kps-prometheus.monitoring.svc:9090",
        ),
        (
            "  release: prometheus\n  nameOverride: mon\n",
            "http://prometheus-mon-prometheus.monitoring.svc:9090",
        ),
    ];
    for (prometheus, url) in cases {
        assert_eq!(kps(prometheus).adapter.prometheus_url, url, "{prometheus}");
    }
}

#[test]
fn an_explicit_adapter_url_wins() {
    let config = config(
        "adapter:\n  prometheusUrl: http://thanos-query.monitoring.svc:9090\n\
         prometheus:\n  stack: kube-prometheus-stack\n  release: prometheus\n",
    );
    assert_eq!(
        config.adapter.prometheus_url,
        "http://thanos-query.monitoring.svc:9090"
    );
}

#[test]
fn operator_points_at_prometheus_operated_and_uses_the_users_labels() {
    let config = config(
        "preset: recommended\nprometheus:\n  stack: operator\n  namespace: prom\n  \
         serviceMonitorSelector:\n    matchLabels:\n      team: shop\n\
         apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
    );
    assert_eq!(
        config.adapter.prometheus_url,
        "http://prometheus-operated.prom.svc:9090"
    );
    assert_eq!(
        config.apps[0]
            .monitor_labels
            .get("team")
            .map(String::as_str),
        Some("shop")
    );
    assert!(render::prometheus_access(&config.prometheus).is_empty());
}

#[test]
fn kube_prometheus_keeps_its_roles_and_network_policy() {
    let config = config(
        "preset: recommended\nprometheus:\n  stack: kube-prometheus\n\
         apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
    );
    assert_eq!(
        config.adapter.prometheus_url,
        "http://prometheus-k8s.monitoring.svc:9090"
    );
    assert_eq!(render::prometheus_access(&config.prometheus).len(), 2);
    assert!(config.prometheus.facts.network_policy.is_some());
    assert!(kps("").prometheus.facts.network_policy.is_none());
}

#[test]
fn roles_are_refused_where_prometheus_has_a_cluster_role() {
    for dir_args in [
        vec![],
        vec!["--patch", "fixtures/kube-prometheus/release-0.14"],
    ] {
        let mut args = vec![
            "-c",
            "fixtures/specs/stack-kube-prometheus-stack.yaml",
            "roles",
            "--namespace",
            "my-app",
        ];
        args.extend(dir_args);
        let output = gen_manifests(&args);
        assert_eq!(output.status.code(), Some(2));
        assert!(output.stdout.is_empty());
        settings().bind(|| {
            insta::assert_snapshot!(
                "roles-refused-kube-prometheus-stack",
                String::from_utf8(output.stderr).unwrap()
            );
        });
    }
}
