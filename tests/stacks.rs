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
fn done_when_release_prometheus() {
    let config = kps("  release: prometheus\n");
    assert_eq!(
        config.adapter().prometheus_url,
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
        assert_eq!(
            kps(prometheus).adapter().prometheus_url,
            url,
            "{prometheus}"
        );
    }
}

#[test]
fn an_explicit_adapter_url_wins() {
    let config = config(
        "adapter:\n  prometheusUrl: http://thanos-query.monitoring.svc:9090\n\
         prometheus:\n  stack: kube-prometheus-stack\n  release: prometheus\n",
    );
    assert_eq!(
        config.adapter().prometheus_url,
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
        config.adapter().prometheus_url,
        "http://prometheus-operated.prom.svc:9090"
    );
    assert_eq!(
        config.apps()[0]
            .monitor_labels()
            .get("team")
            .map(String::as_str),
        Some("shop")
    );
    assert!(render::prometheus_access(config.prometheus()).is_empty());
}

#[test]
fn kube_prometheus_keeps_its_roles_and_network_policy() {
    let config = config(
        "preset: recommended\nprometheus:\n  stack: kube-prometheus\n\
         apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
    );
    assert_eq!(
        config.adapter().prometheus_url,
        "http://prometheus-k8s.monitoring.svc:9090"
    );
    assert_eq!(render::prometheus_access(config.prometheus()).len(), 2);
    assert!(config.prometheus().facts().network_policy.is_some());
    assert!(kps("").prometheus().facts().network_policy.is_none());
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
