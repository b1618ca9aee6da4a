//! `explain` on the keda backend: the exact query KEDA sends, and with a
//! live Prometheus its value and the replica count it implies (KEDA's
//! External AverageValue path, values rounded to thousandths as KEDA's
//! `%.3f` does). A fake Prometheus on 127.0.0.1 answers every query with a
//! fixed vector; it serves a bounded number of requests and stops with the
//! test.

mod common;
use common::*;

use std::time::Duration;

use common::prometheus::{vector, FakePrometheus};

use custom_metrics_manifests::explain::{explain, render_text};
use custom_metrics_manifests::prometheus::Prometheus;
use custom_metrics_manifests::{Config, Spec};

/// Answers every query with `result` (a vector's `result` array), at most
/// 20 requests; records the queries asked.
fn fake_prometheus(result: &str) -> FakePrometheus {
    let response = vector(result);
    FakePrometheus::start(20, move |_, _| response.clone())
}

fn config() -> Config {
    let yaml = "preset: recommended\nbackend: keda\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: 500m\n  minReplicas: 2\n  maxReplicas: 20\n";
    Config::from_spec(Spec::from_yaml(yaml, "spec.yaml").unwrap(), "spec.yaml").unwrap()
}

/// The query explain prints is the ScaledObject's, byte for byte.
#[test]
fn prints_the_query_keda_sends() {
    let config = config();
    let explanation = explain(&config, None);
    let keda = explanation.keda.as_ref().unwrap();
    let scaled = scaled_object(&config);
    assert_eq!(keda[0].query, scaled.spec.triggers[0].metadata["query"]);
    assert_eq!(keda[0].threshold_milli, 500);
    assert_eq!((keda[0].min_replicas, keda[0].max_replicas), (2, 20));
    let text = render_text(&explanation);
    assert!(text.contains(&format!("    {}\n", keda[0].query)), "{text}");
    assert!(
        text.contains("GET http://prometheus-k8s.monitoring.svc:9090/api/v1/query"),
        "{text}"
    );
    assert!(
        !text.contains("Rule 0"),
        "the adapter's rules are not KEDA's: {text}"
    );
}

#[test]
fn a_value_implies_replicas_as_keda_rounds_it() {
    // 7.2344 req/s: KEDA hands the HPA 7.234 (%.3f); ceil(7.234 / 0.5) = 15.
    let server = fake_prometheus(r#"[{"metric":{},"value":[1700000000,"7.2344"]}]"#);
    let url = server.url.clone();
    let prometheus = Prometheus::new(&url, Duration::from_secs(5)).unwrap();
    let explanation = explain(&config(), Some(&prometheus));
    let app = &explanation.keda.as_ref().unwrap()[0];
    let live = app.live.as_ref().unwrap();
    assert_eq!(live.value_milli, Some(7234));
    assert_eq!((live.raw_replicas, live.replicas), (Some(15), Some(15)));
    assert!(live.problems.is_empty(), "{:?}", live.problems);
    assert!(!explanation.metric_missing());
    // The query asked is the ScaledObject's.
    assert_eq!(server.queries(), std::slice::from_ref(&app.query));
    let text = render_text(&explanation);
    assert!(
        text.contains("    value: 7.2344 (KEDA hands the HPA 7.234: 3 decimals)\n"),
        "{text}"
    );
    assert!(
        text.contains("    implies: ceil(7.234 / 0.5) = 15 replicas; within 2..20: 15\n"),
        "{text}"
    );
    settings().bind(|| {
        insta::assert_snapshot!(
            "keda-explain-live",
            text.replace(&url, "http://127.0.0.1:PORT")
        )
    });
}

#[test]
fn bounds_and_rounding_edges() {
    for (value, milli, raw, replicas) in [
        // Below the minimum: the HPA's minReplicas.
        ("0.1", 100, 1, 2),
        // Above the maximum.
        ("100", 100_000, 200, 20),
        // 0.0005 rounds up to 0.001 (the binary value is above half).
        ("0.0005", 1, 1, 2),
        // Exactly on the threshold's multiple: no extra pod.
        ("5", 5000, 10, 10),
    ] {
        let server = fake_prometheus(&format!(
            r#"[{{"metric":{{}},"value":[1700000000,"{value}"]}}]"#
        ));
        let prometheus = Prometheus::new(&server.url, Duration::from_secs(5)).unwrap();
        let explanation = explain(&config(), Some(&prometheus));
        let live = explanation.keda.unwrap()[0].live.clone().unwrap();
        assert_eq!(
            (live.value_milli, live.raw_replicas, live.replicas),
            (Some(milli), Some(raw), Some(replicas)),
            "{value}"
        );
    }
}

#[test]
fn empty_and_several_samples_fail_the_poll() {
    for (body, says) in [
        ("[]", "returned nothing (ignoreNullValues: false): KEDA fails the poll; after 3 failed polls in a row it holds 20 replicas (fallback)"),
        (
            r#"[{"metric":{"pod":"a"},"value":[1,"1"]},{"metric":{"pod":"b"},"value":[1,"2"]}]"#,
            "returned 2 samples",
        ),
    ] {
        let server = fake_prometheus(body);
        let prometheus = Prometheus::new(&server.url, Duration::from_secs(5)).unwrap();
        let explanation = explain(&config(), Some(&prometheus));
        assert!(explanation.metric_missing());
        let live = explanation.keda.as_ref().unwrap()[0].live.clone().unwrap();
        assert_eq!(live.replicas, None);
        assert!(live.problems[0].contains(says), "{:?}", live.problems);
        assert!(render_text(&explanation).contains(&format!("    ! {}", live.problems[0])));
    }
}

/// The CLI: `--backend keda` on explain, exit 1 when the metric is missing.
#[test]
fn cli_explain_backend_keda() {
    let output = gen_manifests(&[
        "explain",
        "-c",
        "examples/fastapi/spec.yaml",
        "--backend",
        "keda",
    ]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "App fastapi (namespace my-app): ScaledObject my-app/fastapi scales Deployment fastapi"
        ),
        "{text}"
    );
    settings().bind(|| insta::assert_snapshot!("keda-explain-fastapi", text));
    let server = fake_prometheus("[]");
    let url = server.url.clone();
    let output = gen_manifests(&[
        "explain",
        "-c",
        "examples/fastapi/spec.yaml",
        "--backend",
        "keda",
        "--prometheus",
        &url,
    ]);
    assert_eq!(output.status.code(), Some(1));
}
