//! explain --prometheus tells the three ways an app's metric goes missing
//! apart by its scrape target (`/api/v1/targets`): no target at all (the
//! monitor not selected, or nothing matched), the target down (with the
//! scrape error), up but no series. A fake Prometheus on 127.0.0.1 answers
//! the API with fixed documents; it serves a bounded number of requests
//! and stops with the test.

mod common;

use std::time::Duration;

use common::prometheus::{success, vector, FakePrometheus};

use custom_metrics_manifests::explain::{explain, render_text};
use custom_metrics_manifests::prometheus::Prometheus;
use custom_metrics_manifests::{Config, Spec};

/// Serves `targets` for /api/v1/targets, `series` for /api/v1/series and
/// an empty vector for queries, at most 40 requests.
fn fake_prometheus(targets: &'static str, series: &'static str) -> FakePrometheus {
    FakePrometheus::start(40, move |path, _| {
        if path.starts_with("/api/v1/targets") {
            success(targets)
        } else if path.starts_with("/api/v1/series") {
            success(series)
        } else {
            vector("[]")
        }
    })
}

fn config(stack: &str) -> Config {
    let yaml = format!(
        "preset: recommended\nprometheus:\n  stack: {stack}\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n"
    );
    Config::from_spec(Spec::from_yaml(&yaml, "spec.yaml").unwrap(), "spec.yaml").unwrap()
}

fn live(stack: &str, targets: &'static str, series: &'static str) -> (Vec<String>, String, String) {
    let server = fake_prometheus(targets, series);
    let prometheus = Prometheus::new(&server.url, Duration::from_secs(5)).unwrap();
    let explanation = explain(&config(stack), Some(&prometheus));
    let live = explanation.apps[0].live.clone().unwrap();
    (
        live.problems,
        live.target.unwrap_or_default(),
        render_text(&explanation),
    )
}

#[test]
fn no_target_at_all() {
    let other = r#"{"activeTargets":[{"scrapePool":"serviceMonitor/monitoring/node-exporter/0","scrapeUrl":"http://10.0.0.1:9100/metrics","health":"up","lastError":"","labels":{}}]}"#;
    let (problems, target, text) = live("kube-prometheus-stack", other, "[]");
    assert_eq!(target, "no target in scrape pool serviceMonitor/shop/api/*");
    assert!(problems[0].starts_with("no target at all: Prometheus has no scrape pool serviceMonitor/shop/api/*, so the ServiceMonitor shop/api was not selected (it carries release: kube-prometheus-stack;"), "{problems:?}");
    assert!(
        problems[0].contains("or no Service with labels app=api and port `http` matched"),
        "{problems:?}"
    );
    assert!(
        text.contains("    scrape target: no target in scrape pool serviceMonitor/shop/api/*\n"),
        "{text}"
    );
}

#[test]
fn target_down_with_the_scrape_error() {
    let down = r#"{"activeTargets":[{"scrapePool":"serviceMonitor/shop/api/0","scrapeUrl":"http://10.1.2.3:8000/metrics","health":"down","lastError":"Get \"http://10.1.2.3:8000/metrics\": dial tcp 10.1.2.3:8000: connect: connection refused","labels":{"namespace":"shop","pod":"api-5d8f7b9c4d-x7k2p"}}]}"#;
    let (problems, target, _) = live("kube-prometheus", down, "[]");
    assert_eq!(
        target,
        "down: 0 of 1 up in scrape pool serviceMonitor/shop/api/*"
    );
    assert_eq!(
        problems[0],
        "target down (scrape error): http://10.1.2.3:8000/metrics: Get \"http://10.1.2.3:8000/metrics\": dial tcp 10.1.2.3:8000: connect: connection refused"
    );
}

#[test]
fn up_but_no_series() {
    let up = r#"{"activeTargets":[{"scrapePool":"serviceMonitor/shop/api/0","scrapeUrl":"http://10.1.2.3:8000/metrics","health":"up","lastError":"","labels":{"namespace":"shop","pod":"api-5d8f7b9c4d-x7k2p"}}]}"#;
    let (problems, target, _) = live("kube-prometheus", up, "[]");
    assert_eq!(
        target,
        "up: 1 of 1 up in scrape pool serviceMonitor/shop/api/*"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "up but no series: no series: Prometheus has no `http_requests_total` at all"
        ),
        "{problems:?}"
    );
}

#[test]
fn up_with_series_has_no_target_problem() {
    let up = r#"{"activeTargets":[{"scrapePool":"serviceMonitor/shop/api/0","scrapeUrl":"http://10.1.2.3:8000/metrics","health":"up","lastError":"","labels":{}}]}"#;
    let series =
        r#"[{"__name__":"http_requests_total","namespace":"shop","pod":"api-5d8f7b9c4d-x7k2p"}]"#;
    let (problems, target, _) = live("kube-prometheus", up, series);
    assert!(target.starts_with("up: "));
    // The fake answers every query with an empty vector: the one problem is the query's.
    assert!(
        problems.iter().all(|p| p.contains("returned nothing")),
        "{problems:?}"
    );
}
