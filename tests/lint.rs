//! `lint`: the guide's bundle reports exactly its known faults, the presets
//! are clean, kube-prometheus' own adapter config parses, and every check
//! has a case that triggers it and a close one that does not.
//!
//! Most cases are one-line changes of `fixtures/lint/clean.yaml`, a bundle
//! every check accepts, so each positive shows the single edit that breaks
//! it.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::Path;

use custom_metrics_manifests::lint::{
    lint_config, lint_documents, lint_files, parse_manifest_files, Check, Finding, Hint,
    LintOptions, Severity, Stack,
};
use custom_metrics_manifests::Config;
use custom_metrics_manifests::Preset;
use custom_metrics_manifests::Spec;
use custom_metrics_manifests::{generate, OutputFormat};

fn fixture(relative: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn lint_with(text: &str, options: &LintOptions) -> Vec<Finding> {
    let docs =
        parse_manifest_files(&[("test.yaml".to_owned(), text.to_owned())]).expect("valid YAML");
    lint_documents(&docs, options)
}

fn lint(text: &str) -> Vec<Finding> {
    lint_with(text, &LintOptions::default())
}

fn ids(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings.iter().map(|finding| finding.id).collect()
}

fn lines(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|finding| format!("{finding}\n"))
        .collect()
}

fn clean() -> String {
    fixture("fixtures/lint/clean.yaml")
}

/// `clean.yaml` with each `(from, to)` replaced; `from` must occur once.
fn variant(edits: &[(&str, &str)]) -> String {
    let mut text = clean();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur once in clean.yaml"
        );
        text = text.replace(from, to);
    }
    text
}

/// Asserts that `findings` are all of check `id`, at least one.
#[track_caller]
fn assert_only(findings: &[Finding], id: &str) {
    assert!(!findings.is_empty(), "expected {id}, found nothing");
    assert!(
        findings.iter().all(|f| f.id == id),
        "expected only {id}:\n{}",
        lines(findings)
    );
}

#[track_caller]
fn assert_clean(findings: &[Finding]) {
    assert!(
        findings.is_empty(),
        "expected no finding:\n{}",
        lines(findings)
    );
}

const METRICS_QUERY: &str = "'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'";
const IMAGE: &str = "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0";
const URL_ARG: &str = "--prometheus-url=http://prometheus-k8s.monitoring.svc:9090";

// ---------------------------------------------------------------- the guide

#[test]
fn the_guides_bundle_reports_its_known_faults_and_nothing_else() {
    let text = fixture("fixtures/custom-metrics.yaml");
    let docs = parse_manifest_files(&[("fixtures/custom-metrics.yaml".to_owned(), text)]).unwrap();
    assert_eq!(docs.len(), 11);
    let findings = lint_documents(&docs, &LintOptions::default());
    assert_eq!(
        ids(&findings),
        BTreeSet::from([
            "promql-parse",     // nodeQuery says by (<<.GroupBy>>) twice
            "metric-unit",      // ${1}_per_minute on rate()
            "rate-window",      // [20s] at a 30s scrape
            "insecure-tls",     // insecureSkipTLSVerify: true
            "pod-security",     // drop: ["all"], no seccompProfile
            "deprecated-image", // directxman12/
        ])
    );
    assert_eq!(
        findings.len(),
        6,
        "one finding per fault:\n{}",
        lines(&findings)
    );
    // Applied next to kube-prometheus (the guide's setting), its pods,
    // labelled only `app: prometheus-adapter`, are not admitted by
    // kube-prometheus' NetworkPolicy prometheus-k8s to port 9090.
    let options = LintOptions {
        stack: Some(Stack::KubePrometheus),
        ..Default::default()
    };
    let in_context = lint_documents(&docs, &options);
    assert_eq!(
        in_context
            .iter()
            .filter(|f| f.id == "network-policy")
            .count(),
        1,
        "{}",
        lines(&in_context)
    );
    let parse = findings.iter().find(|f| f.id == "promql-parse").unwrap();
    assert_eq!(parse.field, "data.config.yaml resourceRules.cpu.nodeQuery");
    assert_eq!(parse.severity, Severity::Error);
    let window = findings.iter().find(|f| f.id == "rate-window").unwrap();
    assert_eq!(window.severity, Severity::Error, "20s < 2 x 30s");
    assert!(findings
        .iter()
        .find(|f| f.id == "pod-security")
        .unwrap()
        .message
        .contains(r#"["all"]"#));
    settings().bind(|| insta::assert_snapshot!("lint-guide", lines(&findings)));
}

// ------------------------------------------------------------------ presets

#[test]
fn the_recommended_preset_is_clean() {
    assert_clean(&lint_config(
        &Config::from_preset(Preset::Recommended),
        &LintOptions::default(),
    ));
}

#[test]
fn the_recommended_preset_with_an_app_is_clean() {
    let text = fixture("fixtures/specs/recommended-app.yaml");
    let spec = Spec::from_yaml(&text, "recommended-app.yaml").unwrap();
    let config = Config::from_spec(spec, "recommended-app.yaml").unwrap();
    assert_eq!(config.apps().len(), 1);
    assert_clean(&lint_config(&config, &LintOptions::default()));
    // The same objects read back from the CLI's YAML and JSON output.
    for format in [OutputFormat::Yaml, OutputFormat::Json] {
        assert_clean(&lint(&generate(&config, format)));
    }
}

#[test]
fn the_documented_preset_fixed_the_node_query() {
    let findings = lint_config(
        &Config::from_preset(Preset::Documented),
        &LintOptions::default(),
    );
    assert!(
        !ids(&findings).contains("promql-parse"),
        "{}",
        lines(&findings)
    );
    // Everything else the guide has is kept on purpose.
    assert_eq!(
        ids(&findings),
        BTreeSet::from([
            "metric-unit",
            "rate-window",
            "insecure-tls",
            "pod-security",
            "deprecated-image",
            "network-policy"
        ])
    );
    assert!(findings
        .iter()
        .all(|f| f.to_string().contains(" ConfigMap ")
            || f.to_string().contains(" Deployment ")
            || f.to_string().contains(" APIService ")));
}

#[test]
fn lint_config_takes_the_configs_scrape_interval_unless_told_otherwise() {
    let spec = Spec::from_yaml("prometheus:\n  scrapeInterval: 5s\n", "spec.yaml").unwrap();
    let config = Config::from_spec(spec, "spec.yaml").unwrap();
    let findings = lint_config(&config, &LintOptions::default());
    assert!(
        !ids(&findings).contains("rate-window"),
        "20s >= 4 x 5s:\n{}",
        lines(&findings)
    );

    let options = LintOptions {
        scrape_interval: Some("1m".parse().unwrap()),
        ..Default::default()
    };
    let findings = lint_config(&Config::from_preset(Preset::Recommended), &options);
    assert_only(&findings, "rate-window");
    assert_eq!(
        findings[0].severity,
        Severity::Warning,
        "2m is 2 scrapes of 1m"
    );
    assert!(
        findings[0].message.contains("the scrape interval 1m"),
        "{}",
        findings[0]
    );
}

// ----------------------------------------------------- kube-prometheus' own

#[test]
fn kube_prometheus_resource_rules_parse() {
    let findings = lint(&fixture("fixtures/lint/kube-prometheus-adapter.yaml"));
    assert!(
        !ids(&findings).contains("promql-parse"),
        "{}",
        lines(&findings)
    );
    assert!(
        !ids(&findings).contains("adapter-config"),
        "{}",
        lines(&findings)
    );
    // Its objects are kube-prometheus' own (app.kubernetes.io/part-of:
    // kube-prometheus): their names collide with nothing.
    assert!(
        !ids(&findings).contains("name-collision"),
        "{}",
        lines(&findings)
    );
    let options = LintOptions {
        stack: Some(Stack::KubePrometheus),
        ..Default::default()
    };
    let text = fixture("fixtures/lint/kube-prometheus-adapter.yaml");
    assert!(!ids(&lint_with(&text, &options)).contains("name-collision"));
    settings().bind(|| insta::assert_snapshot!("lint-kube-prometheus-adapter", lines(&findings)));
}

#[test]
fn kube_prometheus_next_to_a_custom_metrics_adapter() {
    // kube-prometheus' adapter serves no custom metric; the HPA's metric
    // comes from clean.yaml's rules, so nothing is unknown.
    let text = format!(
        "{}\n---\n{}",
        fixture("fixtures/lint/kube-prometheus-adapter.yaml"),
        clean()
    );
    let findings = lint(&text);
    assert!(
        !ids(&findings).contains("hpa-unknown-metric"),
        "{}",
        lines(&findings)
    );
}

// ------------------------------------------------------------ every check

#[test]
fn the_clean_fixture_is_clean() {
    assert_clean(&lint(&clean()));
}

/// Every check has a test that triggers it and one that does not, named
/// after it (`fn rate_window`, `fn rate_window_negative`).
#[test]
fn every_check_has_a_positive_and_a_negative_test() {
    let source = fixture("tests/lint.rs");
    for check in Check::ALL {
        let name = check.id().replace('-', "_");
        let positive =
            source.contains(&format!("fn {name}() {{")) || source.contains(&format!("fn {name}_"));
        assert!(positive, "no test fn {name}");
        assert!(
            source.contains(&format!("fn {name}_negative() {{"))
                || source.contains(&format!("{name}_negative() {{")),
            "no test fn {name}_negative"
        );
    }
}

#[test]
fn every_check_is_listed_once() {
    let listed: BTreeSet<&str> = Check::ALL.iter().map(|check| check.id()).collect();
    assert_eq!(listed.len(), Check::ALL.len());
}

#[test]
fn promql_parse() {
    let doubled =
        "'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) by (<<.GroupBy>>)'";
    let findings = lint(&variant(&[(METRICS_QUERY, doubled)]));
    assert_only(&findings, "promql-parse");
    assert_eq!(findings[0].field, "data.config.yaml rules[0].metricsQuery");
    assert!(findings[0].fix.contains("once"), "{}", findings[0]);

    let unbalanced = "'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m]) by (<<.GroupBy>>)'";
    assert_only(
        &lint(&variant(&[(METRICS_QUERY, unbalanced)])),
        "promql-parse",
    );

    // seriesQuery must be a selector, not any expression.
    let series = "'http_requests_total{namespace!=\"\",pod!=\"\"}'";
    let findings = lint(&variant(&[(series, "'sum(http_requests_total)'")]));
    assert!(
        findings
            .iter()
            .any(|f| f.id == "promql-parse" && f.field.ends_with("rules[0].seriesQuery")),
        "{}",
        lines(&findings)
    );
    let findings = lint(&variant(&[(
        series,
        "'http_requests_total{namespace!=\"\"'",
    )]));
    assert!(findings
        .iter()
        .any(|f| f.id == "promql-parse" && f.field.ends_with("seriesQuery")));
}

#[test]
fn promql_parse_negative() {
    // More matchers after the placeholder, with a space, in single quotes;
    // the placeholder last; `sum by (...) (...)` form; a regex selector.
    for query in [
        r#"'sum(rate(<<.Series>>{<<.LabelMatchers>>, id="/"}[2m])) by (<<.GroupBy>>)'"#,
        r#"'sum by (<<.GroupBy>>) (rate(<<.Series>>{job="api",<<.LabelMatchers>>}[2m]))'"#,
        r#"'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!=""}[2m])) by (<<.GroupBy>>) / 1'"#,
    ] {
        assert_clean(&lint(&variant(&[(METRICS_QUERY, query)])));
    }
    let series = "'http_requests_total{namespace!=\"\",pod!=\"\"}'";
    let regex_series = r#"'{__name__=~"^http_requests_total$",namespace!=""}'"#;
    assert_clean(&lint(&variant(&[(series, regex_series)])));
}

#[test]
fn rate_window() {
    let short = "'sum(rate(<<.Series>>{<<.LabelMatchers>>}[20s])) by (<<.GroupBy>>)'";
    let findings = lint(&variant(&[(METRICS_QUERY, short)]));
    assert_only(&findings, "rate-window");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(findings[0].message.contains("20s"), "{}", findings[0]);

    let two_scrapes = "'sum(irate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'";
    let findings = lint(&variant(&[(METRICS_QUERY, two_scrapes)]));
    assert_only(&findings, "rate-window");
    assert_eq!(findings[0].severity, Severity::Warning);

    // The ServiceMonitor's interval counts when no interval is given.
    let findings = lint(&variant(&[("interval: 30s", "interval: 1m")]));
    assert_only(&findings, "rate-window");
    assert!(
        findings[0].message.contains("ServiceMonitor shop/api"),
        "{}",
        findings[0]
    );
}

#[test]
fn rate_window_negative() {
    let one_minute = "'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'";
    // At 15s, [1m] is 4 scrapes: from the ServiceMonitor, or from the options.
    assert_clean(&lint(&variant(&[
        (METRICS_QUERY, one_minute),
        ("interval: 30s", "interval: 15s"),
    ])));
    let options = LintOptions {
        scrape_interval: Some("15s".parse().unwrap()),
        ..Default::default()
    };
    assert_clean(&lint_with(
        &variant(&[(METRICS_QUERY, one_minute)]),
        &options,
    ));
    // A range that is not a rate's (max_over_time) is not a rate window.
    let over_time = "'max(max_over_time(<<.Series>>{<<.LabelMatchers>>}[10s])) by (<<.GroupBy>>)'";
    assert_clean(&lint(&variant(&[(METRICS_QUERY, over_time)])));
}

#[test]
fn metric_unit() {
    let findings = lint(&variant(&[
        ("${1}_per_second", "${1}_per_minute"),
        (
            "name: http_requests_per_second",
            "name: http_requests_per_minute",
        ),
    ]));
    assert_only(&findings, "metric-unit");
    assert_eq!(findings[0].severity, Severity::Warning);
    let findings = lint(&variant(&[
        ("${1}_per_second", "${1}_per_hour"),
        (
            "name: http_requests_per_second",
            "name: http_requests_per_hour",
        ),
    ]));
    assert_only(&findings, "metric-unit");
    assert!(findings[0].message.contains("3600"), "{}", findings[0]);
}

#[test]
fn metric_unit_negative() {
    let scaled = "'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) * 60'";
    assert_clean(&lint(&variant(&[
        ("${1}_per_second", "${1}_per_minute"),
        (
            "name: http_requests_per_second",
            "name: http_requests_per_minute",
        ),
        (METRICS_QUERY, scaled),
    ])));
}

const PODS_METRIC: &str = "  - type: Pods\n    pods:\n      metric:\n        name: http_requests_per_second\n      target:\n        type: AverageValue\n        averageValue: \"10\"\n";
const CPU_METRIC: &str = "  - type: Resource\n    resource:\n      name: cpu\n      target: {type: Utilization, averageUtilization: 70}\n";

const SECOND_RULE_AFTER: &str =
    "      metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'\n";

fn with_second_rule(series_query: &str) -> String {
    let second = format!(
        "{SECOND_RULE_AFTER}    - seriesQuery: '{series_query}'\n      name:\n        matches: \"^(.*)_total$\"\n        as: \"${{1}}_per_second\"\n      metricsQuery: 'max(rate(<<.Series>>{{<<.LabelMatchers>>}}[5m])) by (<<.GroupBy>>)'\n"
    );
    variant(&[(SECOND_RULE_AFTER, &second)])
}

#[test]
fn duplicate_metric() {
    let findings = lint(&with_second_rule(r#"http_requests_total{namespace!=""}"#));
    assert_only(&findings, "duplicate-metric");
    assert_eq!(findings[0].field, "data.config.yaml rules[1]");
    assert!(
        findings[0].message.contains("http_requests_per_second"),
        "{}",
        findings[0]
    );
    // Also when the second rule picks the series by a regex.
    assert_only(
        &lint(&with_second_rule(r#"{__name__=~"http_.*",namespace!=""}"#)),
        "duplicate-metric",
    );
}

#[test]
fn duplicate_metric_negative() {
    assert_clean(&lint(&with_second_rule(
        r#"grpc_requests_total{namespace!=""}"#,
    )));
}

#[test]
fn hpa_unknown_metric() {
    let findings = lint(&variant(&[(
        "name: http_requests_per_second",
        "name: http_requests_per_minute",
    )]));
    assert_only(&findings, "hpa-unknown-metric");
    assert_eq!(findings[0].object, "HorizontalPodAutoscaler shop/api");
    assert_eq!(findings[0].field, "spec.metrics[0].pods.metric.name");
    assert!(
        findings[0]
            .message
            .contains("the rules serve: http_requests_per_second"),
        "{}",
        findings[0]
    );
    // Object metrics too.
    let object =
        "  - type: Pods\n    pods:\n      metric:\n        name: http_requests_per_second\n";
    let object_metric = "  - type: Object\n    object:\n      describedObject: {apiVersion: v1, kind: Service, name: api}\n      metric:\n        name: queue_depth\n";
    assert_only(
        &lint(&variant(&[(object, object_metric)])),
        "hpa-unknown-metric",
    );
}

#[test]
fn hpa_unknown_metric_negative() {
    // Without an adapter config in the input, no verdict on metric names.
    let text = clean();
    let hpa_only = &text[text.find("apiVersion: autoscaling/v2").unwrap()..];
    let findings = lint(&hpa_only.replace("http_requests_per_second", "anything_at_all"));
    assert_clean(&findings);
    // A Resource metric is not the adapter's business.
    assert_clean(&lint(&variant(&[(PODS_METRIC, CPU_METRIC)])));
}

#[test]
fn klog_flags() {
    let findings = lint(&variant(&[(
        URL_ARG,
        &format!("{URL_ARG}\n        - --logtostderr=true"),
    )]));
    assert_only(&findings, "klog-flags");
    assert_eq!(
        findings[0].field,
        "spec.template.spec.containers[0].args[2]"
    );
    assert_only(
        &lint(&variant(&[(
            URL_ARG,
            &format!("{URL_ARG}\n        - --log-file=/tmp/a.log"),
        )])),
        "klog-flags",
    );
}

#[test]
fn klog_flags_negative() {
    // v0.10 still had klog's flags; --v is not one of the removed ones.
    let older = "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.10.0";
    assert_clean(&lint(&variant(&[
        (IMAGE, older),
        (URL_ARG, &format!("{URL_ARG}\n        - --logtostderr=true")),
    ])));
    assert_clean(&lint(&variant(&[(
        URL_ARG,
        &format!("{URL_ARG}\n        - --v=4"),
    )])));
}

#[test]
fn deprecated_image() {
    for image in [
        "directxman12/k8s-prometheus-adapter-amd64:v0.8.4",
        "docker.io/directxman12/k8s-prometheus-adapter:v0.7.0",
    ] {
        let findings = lint(&variant(&[(IMAGE, image)]));
        assert_only(&findings, "deprecated-image");
        assert_eq!(findings[0].field, "spec.template.spec.containers[0].image");
    }
}

#[test]
fn deprecated_image_negative() {
    assert_clean(&lint(&variant(&[(
        IMAGE,
        "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.8.4",
    )])));
}

const API_SPEC: &str = "  version: v1beta1\n";

#[test]
fn insecure_tls() {
    let findings = lint(&variant(&[(
        API_SPEC,
        "  version: v1beta1\n  insecureSkipTLSVerify: true\n",
    )]));
    assert_only(&findings, "insecure-tls");
    assert!(findings[0].fix.contains("caBundle") && findings[0].fix.contains("certManager"));
}

#[test]
fn insecure_tls_negative() {
    assert_clean(&lint(&variant(&[(
        API_SPEC,
        "  version: v1beta1\n  insecureSkipTLSVerify: false\n",
    )])));
}

#[test]
fn pod_security() {
    let findings = lint(&variant(&[(r#"drop: ["ALL"]"#, r#"drop: ["all"]"#)]));
    assert_only(&findings, "pod-security");
    assert_eq!(
        findings[0].field,
        "spec.template.spec.containers[0].securityContext"
    );
    let no_seccomp = "        seccompProfile:\n          type: RuntimeDefault\n";
    assert_only(&lint(&variant(&[(no_seccomp, "")])), "pod-security");
    assert_only(
        &lint(&variant(&[("runAsNonRoot: true", "runAsNonRoot: false")])),
        "pod-security",
    );
    // The container's own seccompProfile overrides the pod's.
    let unconfined = "readOnlyRootFilesystem: true\n          seccompProfile: {type: Unconfined}";
    assert_only(
        &lint(&variant(&[("readOnlyRootFilesystem: true", unconfined)])),
        "pod-security",
    );
}

#[test]
fn pod_security_negative() {
    // seccompProfile and runAsNonRoot on the container instead of the pod.
    let pod_level = "      securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n";
    let container_level =
        "readOnlyRootFilesystem: true\n          runAsNonRoot: true\n          seccompProfile: {type: RuntimeDefault}";
    assert_clean(&lint(&variant(&[
        (pod_level, ""),
        ("readOnlyRootFilesystem: true", container_level),
    ])));
    // Only adapter containers are judged.
    assert_clean(&lint(&variant(&[
        (r#"drop: ["ALL"]"#, r#"drop: ["all"]"#),
        (IMAGE, "example.com/not-the-adapter:v1"),
    ])));
}

const ROLE: &str = "    name: prometheus-k8s\n    namespace: shop\n";

#[test]
fn prometheus_role_missing() {
    let findings = lint(&variant(&[(
        ROLE,
        "    name: prometheus-k8s\n    namespace: other\n",
    )]));
    assert_only(&findings, "prometheus-role-missing");
    assert_eq!(findings[0].object, "HorizontalPodAutoscaler shop/api");
    assert!(findings[0].message.contains("`shop`"));
}

#[test]
fn prometheus_role_missing_negative() {
    // No prometheus-k8s Role in the input at all: no verdict.
    let text = clean();
    let start = text
        .find("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList")
        .unwrap();
    let end = text[start..].find("---\n").unwrap() + start + 4;
    let without_roles = format!("{}{}", &text[..start], &text[end..]);
    assert_clean(&lint(&without_roles));
    // An HPA on CPU only needs no Prometheus access to its namespace.
    assert_clean(&lint(&variant(&[
        (ROLE, "    name: prometheus-k8s\n    namespace: other\n"),
        (PODS_METRIC, CPU_METRIC),
    ])));
}

const POD_LABELS: &str = "      labels:\n        app.kubernetes.io/name: prometheus-adapter\n";

/// kube-prometheus' NetworkPolicy prometheus-k8s of `release`.
fn kube_prometheus_policy(release: &str) -> String {
    fixture(&format!(
        "fixtures/lint/real/kube-prometheus-{release}/prometheus-networkPolicy.yaml"
    ))
}

#[test]
fn network_policy() {
    let other_labels = variant(&[(
        POD_LABELS,
        "      labels:\n        app: custom-metrics-adapter\n",
    )]);
    // The policy of the stack named in the context.
    let options = LintOptions {
        stack: Some(Stack::KubePrometheus),
        ..Default::default()
    };
    let findings = lint_with(&other_labels, &options);
    assert_only(&findings, "network-policy");
    assert_eq!(findings[0].field, "spec.template.metadata.labels");
    assert!(
        findings[0]
            .message
            .contains("kube-prometheus' NetworkPolicy monitoring/prometheus-k8s"),
        "{}",
        findings[0]
    );
    // The policy in the input: release-0.11's admits no adapter at all
    // (kube-prometheus#1764), whatever the stack says.
    let with_policy = format!("{}---\n{}", clean(), kube_prometheus_policy("release-0.11"));
    let findings = lint(&with_policy);
    assert_only(&findings, "network-policy");
    assert!(
        findings[0]
            .message
            .contains("NetworkPolicy monitoring/prometheus-k8s"),
        "{}",
        findings[0]
    );
}

#[test]
fn network_policy_negative() {
    // No NetworkPolicy in the input and no stack that ships one: quiet.
    assert_clean(&lint(&variant(&[(
        POD_LABELS,
        "      labels:\n        app: custom-metrics-adapter\n",
    )])));
    // release-0.13's policy admits app.kubernetes.io/name: prometheus-adapter.
    let with_policy = format!("{}---\n{}", clean(), kube_prometheus_policy("release-0.13"));
    assert_clean(&lint(&with_policy));
    let options = LintOptions {
        stack: Some(Stack::KubePrometheus),
        ..Default::default()
    };
    for name in ["prometheus-adapter", "prometheus", "grafana"] {
        let labels = format!("      labels:\n        app.kubernetes.io/name: {name}\n");
        assert_clean(&lint_with(&variant(&[(POD_LABELS, &labels)]), &options));
    }
    // A policy guarding other pods, or another namespace, does not apply.
    let elsewhere =
        kube_prometheus_policy("release-0.11").replace("namespace: monitoring", "namespace: other");
    assert_clean(&lint(&format!("{}---\n{}", clean(), elsewhere)));
    let egress_only = kube_prometheus_policy("release-0.11").replace("  - Ingress\n", "");
    assert_clean(&lint(&format!("{}---\n{}", clean(), egress_only)));
}

const DEPLOYMENT_NAME: &str = "kind: Deployment\nmetadata:\n  name: custom-metrics-adapter\n";

#[test]
fn name_collision() {
    let options = LintOptions {
        stack: Some(Stack::KubePrometheus),
        ..Default::default()
    };
    let findings = lint_with(
        &variant(&[(
            DEPLOYMENT_NAME,
            "kind: Deployment\nmetadata:\n  name: prometheus-adapter\n",
        )]),
        &options,
    );
    assert_only(&findings, "name-collision");
    assert_eq!(findings[0].field, "metadata.name");
    assert_eq!(findings[0].severity, Severity::Error);
    let findings = lint_with(
        &variant(&[(
            "name: v1beta1.custom.metrics.k8s.io",
            "name: v1beta1.metrics.k8s.io",
        )]),
        &options,
    );
    assert_only(&findings, "name-collision");
    for name in [
        "resource-metrics:system:auth-delegator",
        "resource-metrics-server-resources",
    ] {
        let text = format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\n");
        assert_only(&lint_with(&text, &options), "name-collision");
    }
    // kube-prometheus' own objects in the input are the context too.
    let next_to_it = format!(
        "{}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prometheus-adapter\n  namespace: monitoring\n",
        fixture("fixtures/lint/kube-prometheus-adapter.yaml")
    );
    let findings: Vec<Finding> = lint(&next_to_it)
        .into_iter()
        .filter(|f| f.id == "name-collision")
        .collect();
    assert_eq!(findings.len(), 2, "{}", lines(&findings));
    assert!(findings.iter().all(|f| f.severity == Severity::Error));
    // Two files that define one object differently, applied together.
    let twice = "kind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: '1'}\n---\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: '2'}\n";
    let findings = lint(twice);
    assert_only(&findings, "name-collision");
    assert_eq!(findings[0].severity, Severity::Error);
}

#[test]
fn name_collision_negative() {
    for name in [
        "prometheus-adapter-system-auth-delegator",
        "custom-metrics-adapter",
        "resource-metrics",
    ] {
        let text = format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {name}\n");
        assert_clean(&lint(&text));
    }
    // A namespaced prometheus-adapter away from kube-prometheus' namespaces.
    assert_clean(&lint("kind: ServiceAccount\nmetadata:\n  name: prometheus-adapter\n  namespace: custom-metrics\n"));
    // Without kube-prometheus in the context, its names are only a note.
    let findings =
        lint("kind: Deployment\nmetadata:\n  name: prometheus-adapter\n  namespace: monitoring\n");
    assert_only(&findings, "name-collision");
    assert_eq!(findings[0].severity, Severity::Info);
    // The same object twice, identical, changes nothing.
    let twice = "kind: ConfigMap\nmetadata: {name: a, namespace: x}\n---\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n";
    assert_clean(&lint(twice));
}

/// Without kube-prometheus in the context, the note says how to decide:
/// the library gives the stack as a hint, the command line names its flag
/// in the message (text and JSON alike).
#[test]
fn name_collision_note_names_the_stack_flag() {
    let text = "kind: Deployment\nmetadata:\n  name: prometheus-adapter\n  namespace: monitoring\n";
    let findings = lint(text);
    assert_eq!(findings[0].hint, Some(Hint::Stack(Stack::KubePrometheus)));
    assert!(
        findings[0].message.ends_with("installed too"),
        "{}",
        findings[0].message
    );
    let dir = scratch_dir("lint-hint");
    let file = dir.join("adapter.yaml");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    let line = stdout(&gen_manifests(&["lint", file]));
    assert!(
        line.contains("this collides only if kube-prometheus is installed too (lint with --stack kube-prometheus to check) (fix: "),
        "{line}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&gen_manifests(&["lint", file, "--format", "json"]))).unwrap();
    assert!(
        json[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(lint with --stack kube-prometheus to check)"),
        "{json}"
    );
    assert!(json[0].get("hint").is_none(), "{json}");
    // With the stack given, an error, and no hint.
    let options = LintOptions {
        stack: Some(Stack::KubePrometheus),
        ..Default::default()
    };
    assert_eq!(lint_with(text, &options)[0].hint, None);
}

#[test]
fn prometheus_url() {
    for url in [
        "prometheus-k8s.monitoring.svc:9090",
        "http://prometheus-k8s.monitoring.svc",
        "http://prometheus-k8s.monitoring.svc/",
    ] {
        let findings = lint(&variant(&[(URL_ARG, &format!("--prometheus-url={url}"))]));
        assert_only(&findings, "prometheus-url");
        assert_eq!(
            findings[0].field,
            "spec.template.spec.containers[0].args[1]"
        );
    }
    // The flag and its value as two arguments.
    let split = "--prometheus-url\n        - prometheus-k8s:9090";
    assert_only(&lint(&variant(&[(URL_ARG, split)])), "prometheus-url");
}

#[test]
fn prometheus_url_negative() {
    for url in [
        "https://prometheus-k8s.monitoring.svc:9090/",
        "http://10.0.0.1:9090",
        "http://[fd00::1]:9090",
    ] {
        assert_clean(&lint(&variant(&[(
            URL_ARG,
            &format!("--prometheus-url={url}"),
        )])));
    }
}

#[test]
fn adapter_config() {
    let rules = "    rules:\n    - seriesQuery:";
    let findings = lint(&variant(&[(rules, "    rules: [\n    - seriesQuery:")]));
    assert_only(&findings, "adapter-config");
    assert_eq!(
        findings[0].object,
        "ConfigMap monitoring/custom-metrics-adapter"
    );
}

#[test]
fn adapter_config_negative() {
    // The same broken text in a ConfigMap no adapter mounts is not ours to judge.
    let rules = "    rules:\n    - seriesQuery:";
    let volume = "configMap:\n          name: custom-metrics-adapter";
    assert_clean(&lint(&variant(&[
        (rules, "    rules: [\n    - seriesQuery:"),
        (volume, "configMap:\n          name: something-else"),
    ])));
}

// ---------------------------------------------------------------- odd input

#[test]
fn odd_input_never_panics() {
    for text in [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: monitoring}\ndata:\n  config.yaml: \"rules: [\"\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  config.yaml: \"{{ .Values.rules }}\"\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {}}}\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n",
        "apiVersion: apps/v1\nkind: Deployment\n",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: a}\nspec: {maxReplicas: 2}\n",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {metrics: [{type: Pods, pods: {metric: {}}}]}\n",
        "kind: APIService\nspec: {insecureSkipTLSVerify: \"true\"}\n",
        "kind: List\nitems: [null, 3, {kind: Role}]\n",
        "42\n",
    ] {
        let findings = lint(text);
        assert!(findings.iter().all(|f| f.id != "adapter-config"), "{text}: {}", lines(&findings));
    }
    // Mixed with a real bundle, the odd objects change nothing.
    let text = format!(
        "{}---\nkind: Deployment\nmetadata: {{name: d, namespace: monitoring}}\nspec: {{template: {{spec: {{containers: [{{name: a}}]}}}}}}\n",
        clean()
    );
    assert_clean(&lint(&text));
}

#[test]
fn malformed_files_are_located() {
    let files = [
        ("good.yaml".to_owned(), clean()),
        (
            "bad.yaml".to_owned(),
            "kind: ConfigMap\n---\nmetadata:\n  name: [a\n  b: c\n".to_owned(),
        ),
    ];
    let error = parse_manifest_files(&files).unwrap_err();
    assert_eq!(error.origin, "bad.yaml");
    assert!(error.line.is_some_and(|line| line >= 3), "{error}");
    assert!(!error.kind.to_string().is_empty());
}

#[test]
fn findings_follow_input_order_then_id() {
    let guide = fixture("fixtures/custom-metrics.yaml");
    let files = [("b.yaml".to_owned(), clean()), ("a.yaml".to_owned(), guide)];
    let docs = parse_manifest_files(&files).unwrap();
    assert_eq!(docs.origins().next(), Some("b.yaml"));
    let findings = lint_documents(&docs, &LintOptions::default());
    let order: Vec<(&str, &str)> = findings.iter().map(|f| (f.object.as_str(), f.id)).collect();
    let first_config = order
        .iter()
        .position(|(o, _)| o.starts_with("ConfigMap monitoring/custom-metrics-prometheus"))
        .unwrap();
    let first_api = order
        .iter()
        .position(|(o, _)| o.starts_with("APIService"))
        .unwrap();
    assert!(first_config < first_api);
    // Within one object, by id.
    let config_ids: Vec<&str> = order
        .iter()
        .filter(|(o, _)| o.starts_with("ConfigMap"))
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(config_ids, ["metric-unit", "promql-parse", "rate-window"]);
    // The same input gives the same output.
    assert_eq!(findings, lint_documents(&docs, &LintOptions::default()));
}

#[test]
fn findings_serialize_for_json_output() {
    let findings = lint(&fixture("fixtures/custom-metrics.yaml"));
    let json = serde_json::to_value(&findings).unwrap();
    let first = &json[0];
    for key in ["id", "severity", "object", "field", "message", "fix"] {
        assert!(first[key].is_string(), "{key} in {first}");
    }
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "error"));
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "warning"));
}

// ------------------------------------------------------- real-world corpus

/// `fixtures/lint/real/*/case.yaml`: where a case comes from, what its
/// thread found, and what a correct linter reports on it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// Repository, path and commit, or the issue thread.
    source: String,
    /// `shipped` (a project's own config) or `thread` (a user's, from a
    /// public issue thread).
    origin: String,
    /// What the thread or the config's authors found.
    diagnosis: String,
    /// The stack the input is applied next to, when the source says so.
    #[serde(default)]
    stack: Option<String>,
    /// Prometheus' scrape interval, when the source says so.
    #[serde(default)]
    scrape_interval: Option<String>,
    /// Errors and warnings a correct linter must report: id -> why.
    #[serde(default)]
    report: std::collections::BTreeMap<String, String>,
    /// Checks that must stay quiet (no error or warning).
    #[serde(default)]
    quiet: Vec<String>,
    /// The input is refused (exit 2) with a message containing this.
    #[serde(default)]
    refused: Option<String>,
}

/// Lints every corpus case and compares with its ground truth; prints the
/// tally (`make test` shows it). Fails on any miss or false finding.
#[test]
fn real_world_corpus() {
    let root = Path::new(ROOT).join("fixtures/lint/real");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    let (mut shipped, mut threads, mut expected, mut found) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    let mut false_errors = 0;
    let mut false_warnings = 0;
    let mut covered = BTreeSet::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let case: Case =
            serde_saphyr::from_str(&std::fs::read_to_string(dir.join("case.yaml")).unwrap())
                .unwrap_or_else(|e| panic!("{name}/case.yaml: {e}"));
        assert!(
            case.source.contains("https://github.com/"),
            "{name}: source must name the repository"
        );
        assert!(!case.diagnosis.trim().is_empty(), "{name}: diagnosis");
        match case.origin.as_str() {
            "shipped" => shipped += 1,
            "thread" => threads += 1,
            other => panic!("{name}: origin {other}"),
        }
        for id in case.report.keys().chain(&case.quiet) {
            assert!(Check::from_id(id).is_some(), "{name}: no check {id}");
        }
        covered.extend(case.report.keys().cloned());
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.file_name().unwrap() != "case.yaml")
            .collect();
        files.sort();
        let inputs: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|path| {
                (
                    path.strip_prefix(ROOT).unwrap().display().to_string(),
                    std::fs::read(path).unwrap(),
                )
            })
            .collect();
        let options = LintOptions {
            stack: match case.stack.as_deref() {
                None => None,
                Some("kube-prometheus") => Some(Stack::KubePrometheus),
                Some(other) => panic!("{name}: stack {other}"),
            },
            scrape_interval: case
                .scrape_interval
                .as_deref()
                .map(|text| text.parse().unwrap()),
        };
        let result = lint_files(&inputs, None, &options);
        if let Some(message) = &case.refused {
            expected += 1;
            match result {
                Err(error) if error.to_string().contains(message.as_str()) => found += 1,
                other => problems.push(format!(
                    "{name}: expected refusal `{message}`, got {other:?}"
                )),
            }
            continue;
        }
        let findings = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let reported: BTreeSet<&str> = findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| f.id)
            .collect();
        for id in case.report.keys() {
            expected += 1;
            if reported.contains(id.as_str()) {
                found += 1;
            } else {
                problems.push(format!("{name}: missed {id} ({})", case.report[id]));
            }
        }
        for finding in findings.iter().filter(|f| f.severity != Severity::Info) {
            if !case.report.contains_key(finding.id) {
                match finding.severity {
                    Severity::Error => false_errors += 1,
                    _ => false_warnings += 1,
                }
                problems.push(format!("{name}: false finding {finding}"));
            }
        }
        for id in &case.quiet {
            if case.report.contains_key(id) {
                problems.push(format!("{name}: {id} both in report and quiet"));
            }
        }
    }
    println!(
        "corpus: {} cases ({shipped} shipped configs, {threads} from issue threads); \
         {found} of {expected} known problems reported, {} missed; \
         false findings: {false_errors} error, {false_warnings} warning",
        dirs.len(),
        expected - found
    );
    let uncovered: Vec<&str> = Check::ALL
        .iter()
        .map(|check| check.id())
        .filter(|id| !covered.contains(*id))
        .collect();
    println!(
        "corpus: {} of {} checks have a real case; not yet: {}",
        Check::ALL.len() - uncovered.len(),
        Check::ALL.len(),
        uncovered.join(", ")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        dirs.len() >= 25,
        "the corpus needs at least 25 cases, has {}",
        dirs.len()
    );
}

// ------------------------------------------------------ the new rule classes

const SERIES_QUERY: &str = r#"'http_requests_total{namespace!="",pod!=""}'"#;
const OVERRIDES: &str = "        overrides:\n          namespace: {resource: namespace}\n          pod: {resource: pod}\n";
const NAME_MATCHES: &str = "matches: \"^(.*)_total$\"";
const CONFIG_ARG: &str = "        - --config=/etc/adapter/config.yaml\n";
const RELIST_ARG: &str = "--metrics-relist-interval=1m";

/// clean.yaml with its metricsQuery replaced by `query` (single-quoted).
fn with_query(query: &str) -> Vec<Finding> {
    lint(&variant(&[(METRICS_QUERY, &format!("'{query}'"))]))
}

#[test]
fn query_template() {
    for (query, what) in [
        (
            "sum(rate(<<.Series>>{<<.LabelMatchers>}[2m])) by (<<.GroupBy>>)",
            "unexpected",
        ),
        (
            "sum(rate(<<.Series>>{<<LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
            "not defined",
        ),
        (
            "sum(rate(<<.Series>>{<<.Labels>>}[2m])) by (<<.GroupBy>>)",
            "can't evaluate field Labels",
        ),
        (
            "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy",
            "unclosed action",
        ),
    ] {
        let findings = with_query(query);
        assert_only(&findings, "query-template");
        assert!(
            findings[0].message.contains(what),
            "{query}: {}",
            findings[0]
        );
    }
    // Text outside actions is copied as Go copies it: the PromQL parser
    // judges a typo such as `{.LabelMatchers>>}`.
    let findings = with_query("sum(rate(<<.Series>>{.LabelMatchers>>}[2m])) by (<<.GroupBy>>)");
    assert_only(&findings, "promql-parse");
    assert!(
        findings[0].message.contains("{.LabelMatchers>>}"),
        "{}",
        findings[0]
    );
    assert!(
        findings[0].fix.contains("both delimiters"),
        "{}",
        findings[0]
    );
}

#[test]
fn query_template_negative() {
    for query in [
        "sum(rate(<<- .Series ->>{<<.LabelMatchers>>}[2m])) by (<< .GroupBy >>)",
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m]<</* per second */>>)) by (<<.GroupBy>>)",
        r#"sum(rate(<<.Series>>{<<.LabelMatchers>>,ns="<<index .LabelValuesByName "namespace">>"}[2m])) by (<<.GroupBy>>)"#,
        // Actions not modelled get no verdict.
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<range $i, $v := .GroupBySlice>><<$v>><<end>>)",
    ] {
        assert_clean(&with_query(query));
    }
}

#[test]
fn query_labels() {
    // A fixed `by` list without the pod label, and an aggregation away.
    for query in [
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (pod_name)",
        "avg(rate(<<.Series>>{<<.LabelMatchers>>}[2m]))",
    ] {
        let findings = with_query(query);
        assert_only(&findings, "query-labels");
        assert!(findings[0].message.contains("not `pod`"), "{}", findings[0]);
    }
    // Two sides that never match.
    let findings = with_query("sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) / sum(kube_pod_info) by (namespace)");
    assert_only(&findings, "query-labels");
    assert!(
        findings[0].message.contains("never match"),
        "{}",
        findings[0]
    );
    // A recording rule aggregated without pods, selected by pod.
    let findings = with_query("sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) / on(pod) group_left sum(namespace:up:sum{<<.LabelMatchers>>}) by (pod)");
    assert_only(&findings, "query-labels");
    assert_eq!(findings[0].severity, Severity::Warning);
}

#[test]
fn query_labels_negative() {
    for query in [
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (pod, namespace)",
        "sum by (<<.GroupBy>>) (rate(<<.Series>>{<<.LabelMatchers>>}[2m])) * 60",
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) / on(namespace) group_left count(kube_namespace_labels) by (namespace)",
        "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) / sum(node_namespace_pod:kube_pod_info:{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
        "rate(<<.Series>>{<<.LabelMatchers>>}[2m])",
    ] {
        assert_clean(&with_query(query));
    }
}

#[test]
fn query_ignores_request() {
    let findings = with_query(r#"sum(rate(http_requests_total{job="api"}[2m])) by (pod)"#);
    assert_only(&findings, "query-ignores-request");
    assert!(
        findings[0].message.contains("no <<.LabelMatchers>>"),
        "{}",
        findings[0]
    );
    // A seriesQuery filter the metricsQuery drops.
    let findings = lint(&variant(&[(
        SERIES_QUERY,
        r#"'http_requests_total{reporter="destination",namespace!="",pod!=""}'"#,
    )]));
    assert_only(&findings, "query-ignores-request");
    assert!(
        findings[0].message.contains(r#"reporter="destination""#),
        "{}",
        findings[0]
    );
}

#[test]
fn query_ignores_request_negative() {
    // The filter repeated in the metricsQuery.
    assert_clean(&lint(&variant(&[
        (
            SERIES_QUERY,
            r#"'http_requests_total{reporter="destination",namespace!="",pod!=""}'"#,
        ),
        (
            METRICS_QUERY,
            r#"'sum(rate(<<.Series>>{<<.LabelMatchers>>,reporter="destination"}[2m])) by (<<.GroupBy>>)'"#,
        ),
    ])));
    // External rules need not select by the request.
    let external = fixture("fixtures/lint/clean.yaml")
        .replace("    rules:\n", "    externalRules:\n")
        .replace(METRICS_QUERY, "'sum(rate(queue_messages_total[2m]))'");
    assert!(!ids(&lint(&external)).contains("query-ignores-request"));
}

#[test]
fn resource_labels() {
    let findings = lint(&variant(&[(
        SERIES_QUERY,
        r#"'http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}'"#,
    )]));
    assert_only(&findings, "resource-labels");
    assert_eq!(
        findings.len(),
        2,
        "namespace and pod:\n{}",
        lines(&findings)
    );
    assert!(
        findings[0].message.contains("`kubernetes_namespace`"),
        "{}",
        findings[0]
    );
    // A <<.Resource>> template over series without those labels.
    let findings = lint(&variant(&[
        (
            SERIES_QUERY,
            r#"'http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}'"#,
        ),
        (OVERRIDES, "        template: <<.Resource>>\n"),
    ]));
    assert_only(&findings, "resource-labels");
    assert!(
        findings[0].message.contains("resources.template"),
        "{}",
        findings[0]
    );
}

#[test]
fn resource_labels_negative() {
    assert_clean(&lint(&variant(&[
        (SERIES_QUERY, r#"'http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}'"#),
        (
            OVERRIDES,
            "        overrides:\n          kubernetes_namespace: {resource: namespace}\n          kubernetes_pod_name: {resource: pod}\n",
        ),
    ])));
    // A seriesQuery that says nothing about the labels: no verdict.
    assert_clean(&lint(&variant(&[(SERIES_QUERY, "'http_requests_total'")])));
}

#[test]
fn name_never_matches() {
    let findings = lint(&variant(&[(NAME_MATCHES, "matches: \"^(.*)_count$\"")]));
    let never: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.id == "name-never-matches")
        .collect();
    assert_eq!(never.len(), 1, "{}", lines(&findings));
    assert_eq!(never[0].field, "data.config.yaml rules[0].name.matches");
    // And so the HPA's metric is served by nothing.
    assert_eq!(
        ids(&findings),
        BTreeSet::from(["name-never-matches", "hpa-unknown-metric"])
    );
}

#[test]
fn name_never_matches_negative() {
    for matches in [
        "matches: \"^(.*)_total\"",
        "matches: \"\"",
        "matches: \"requests\"",
    ] {
        assert!(!ids(&lint(&variant(&[(NAME_MATCHES, matches)]))).contains("name-never-matches"));
    }
    // A regex selector names no single series: no verdict.
    let findings = lint(&variant(&[
        (
            SERIES_QUERY,
            r#"'{__name__=~"http_.*",namespace!="",pod!=""}'"#,
        ),
        (NAME_MATCHES, "matches: \"^(.*)_count$\""),
    ]));
    assert!(
        !ids(&findings).contains("name-never-matches"),
        "{}",
        lines(&findings)
    );
}

#[test]
fn overlapping_rules() {
    let second = format!(
        "{SECOND_RULE_AFTER}    - seriesQuery: 'http_requests_total{{namespace!=\"\",pod!=\"\"}}'\n      resources:\n        overrides:\n          namespace: {{resource: namespace}}\n          pod: {{resource: pod}}\n      name:\n        as: \"requests\"\n      metricsQuery: 'sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[5m])) by (<<.GroupBy>>)'\n"
    );
    let findings = lint(&variant(&[(SECOND_RULE_AFTER, &second)]));
    assert_only(&findings, "overlapping-rules");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("`http_requests_per_second`")
            && findings[0].message.contains("`requests`")
    );
}

#[test]
fn overlapping_rules_negative() {
    // Another series, or the same series filtered out.
    let second = format!(
        "{SECOND_RULE_AFTER}    - seriesQuery: '{{__name__=~\"http_.*\",namespace!=\"\",pod!=\"\"}}'\n      seriesFilters:\n      - isNot: _total$\n      resources:\n        template: <<.Resource>>\n      metricsQuery: 'sum(<<.Series>>{{<<.LabelMatchers>>}}) by (<<.GroupBy>>)'\n"
    );
    assert_clean(&lint(&variant(&[(SECOND_RULE_AFTER, &second)])));
}

#[test]
fn adapter_flags() {
    let findings = lint(&variant(&[(CONFIG_ARG, "")]));
    assert_only(&findings, "adapter-flags");
    assert!(findings[0].message.contains("--config"), "{}", findings[0]);
    let findings = lint(&variant(&[(
        CONFIG_ARG,
        "        - --config=/etc/adapter/config.yaml\n        - --rate-interval=5m\n",
    )]));
    assert_only(&findings, "adapter-flags");
    assert!(
        findings[0]
            .message
            .contains("unknown flag: --rate-interval"),
        "{}",
        findings[0]
    );
    let findings = lint(&variant(&[(
        CONFIG_ARG,
        "        - --config=/etc/adapter/config.yaml\n        - --metrics-max-age=30s\n",
    )]));
    assert_only(&findings, "adapter-flags");
    assert!(
        findings[0].message.contains("max age must not be less"),
        "{}",
        findings[0]
    );
}

#[test]
fn adapter_flags_negative() {
    assert_clean(&lint(&variant(&[(
        CONFIG_ARG,
        "        - --config=/etc/adapter/config.yaml\n        - --metrics-max-age=5m\n",
    )])));
    // --rate-interval existed before v0.4.
    let old = variant(&[
        (
            CONFIG_ARG,
            "        - --config=/etc/adapter/config.yaml\n        - --rate-interval=5m\n",
        ),
        (IMAGE, "directxman12/k8s-prometheus-adapter:v0.3.0"),
    ]);
    assert!(!ids(&lint(&old)).contains("adapter-flags"));
    // A shell wrapper's arguments are not the adapter's.
    let wrapped = variant(&[(
        "        args:\n",
        "        command: [/bin/sh, -c]\n        args:\n",
    )]);
    assert!(!ids(&lint(&wrapped)).contains("adapter-flags"));
}

#[test]
fn relist_interval() {
    let findings = lint(&variant(&[(RELIST_ARG, "--metrics-relist-interval=10s")]));
    assert_only(&findings, "relist-interval");
    assert!(
        findings[0].message.contains("scrape interval 30s"),
        "{}",
        findings[0]
    );
}

#[test]
fn relist_interval_negative() {
    for relist in ["30s", "1m30s", "10m"] {
        assert_clean(&lint(&variant(&[(
            RELIST_ARG,
            &format!("--metrics-relist-interval={relist}"),
        )])));
    }
}

#[test]
fn adapter_config_schema_window_and_served_apis() {
    // A key the adapter's strict reader refuses.
    let findings = lint(&variant(&[(NAME_MATCHES, "match: \"^(.*)_total$\"")]));
    assert!(
        findings
            .iter()
            .any(|f| f.id == "adapter-config" && f.field == "data.config.yaml rules[0].name.match"),
        "{}",
        lines(&findings)
    );
    // A window without a unit (kube-prometheus#486).
    let with_window = variant(&[(
        "      metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'\n",
        "      metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'\n    resourceRules:\n      window: 5\n",
    )]);
    let findings = lint(&with_window);
    assert_only(&findings, "adapter-config");
    assert!(
        findings[0].message.contains("not a valid duration string"),
        "{}",
        findings[0]
    );
    // An APIService routed to an adapter whose config has no rules for it
    // (kube-prometheus#679).
    let service = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: custom-metrics-adapter\n  namespace: monitoring\nspec:\n  selector:\n    app.kubernetes.io/name: prometheus-adapter\n  ports:\n  - port: 443\n    targetPort: 6443\n";
    let external = "---\napiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1beta1.external.metrics.k8s.io\n  annotations:\n    cert-manager.io/inject-ca-from: monitoring/custom-metrics-adapter-serving-cert\nspec:\n  service:\n    name: custom-metrics-adapter\n    namespace: monitoring\n  group: external.metrics.k8s.io\n  version: v1beta1\n  groupPriorityMinimum: 100\n  versionPriority: 100\n";
    let findings = lint(&format!("{}{service}{external}", clean()));
    assert_only(&findings, "adapter-config");
    assert_eq!(
        findings[0].object,
        "APIService v1beta1.external.metrics.k8s.io"
    );
    assert!(
        findings[0].message.contains("FailedDiscoveryCheck"),
        "{}",
        findings[0]
    );
}

#[test]
fn adapter_config_schema_window_and_served_apis_negative() {
    let service = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: custom-metrics-adapter\n  namespace: monitoring\nspec:\n  selector:\n    app.kubernetes.io/name: prometheus-adapter\n";
    // The custom metrics APIService of clean.yaml routes to rules.
    assert_clean(&lint(&format!("{}{service}", clean())));
    for window in ["5m", "0", "1h30m"] {
        let text = variant(&[(
            "      metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'\n",
            &format!("      metricsQuery: 'sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[2m])) by (<<.GroupBy>>)'\n    resourceRules:\n      window: {window}\n"),
        )]);
        assert_clean(&lint(&text));
    }
}

#[test]
fn prometheus_url_parsed_as_go_does() {
    for url in [
        "http://prometheus-k8s.monitoring.svc:9090:9090",
        "http://h:9090/path:9090",
    ] {
        let findings = lint(&variant(&[(URL_ARG, &format!("--prometheus-url={url}"))]));
        assert_only(&findings, "prometheus-url");
        assert_eq!(findings[0].severity, Severity::Error);
    }
    // Well-formed placeholders are warnings.
    let findings = lint(&variant(&[(
        URL_ARG,
        "--prometheus-url=http://prometheus.default.svc:9090",
    )]));
    assert_only(&findings, "prometheus-url");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("Helm chart's default"),
        "{}",
        findings[0]
    );
}

#[test]
fn prometheus_url_parsed_as_go_does_negative() {
    for url in [
        "http://prometheus-server.monitoring.svc",
        "https://prometheus.example.org/prom",
        "http://thanos-query.monitoring.svc.cluster.local:9090/",
    ] {
        assert_clean(&lint(&variant(&[(
            URL_ARG,
            &format!("--prometheus-url={url}"),
        )])));
    }
}

#[test]
fn not_an_object() {
    let findings = lint(&format!(
        "{}---\nmetadata: {{name: x}}\n---\n- 1\n",
        clean()
    ));
    assert_only(&findings, "not-an-object");
    assert_eq!(findings.len(), 2);
    assert!(
        findings[0].message.contains("has no `kind`"),
        "{}",
        findings[0]
    );
    assert!(findings[1].message.contains("a list"), "{}", findings[1]);
}

#[test]
fn not_an_object_negative() {
    // Empty documents and `*List`s are not objects to report.
    assert_clean(&lint(&format!(
        "---\n---\n{}---\nkind: List\nitems: []\n",
        clean()
    )));
}

#[test]
fn input_files_are_recognised_by_content() {
    let options = LintOptions::default();
    // A spec given positionally is linted as `-c` would.
    let spec = fixture("fixtures/specs/recommended-app.yaml");
    let findings = lint_files(
        &[("spec.yaml".to_owned(), spec.into_bytes())],
        None,
        &options,
    )
    .unwrap();
    assert_clean(&findings);
    let spec = fixture("fixtures/specs/documented-overrides.yaml");
    let findings = lint_files(
        &[("spec.yaml".to_owned(), spec.into_bytes())],
        None,
        &options,
    )
    .unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f.object.starts_with("spec.yaml: ")),
        "{}",
        lines(&findings)
    );
    // The adapter's own config.yaml, checked as its ConfigMap.
    let config = "rules:\n- seriesQuery: 'x_total{namespace!=\"\",pod!=\"\"}'\n  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[20s])) by (<<.GroupBy>>)'\n";
    let findings = lint_files(
        &[("config.yaml".to_owned(), config.as_bytes().to_vec())],
        None,
        &options,
    )
    .unwrap();
    assert_only(&findings, "rate-window");
    assert_eq!(findings[0].object, "ConfigMap config.yaml");
    // Nothing to lint: refused, with the file named.
    for (name, text) in [
        ("Cargo.lock", fixture("Cargo.lock")),
        ("empty.yaml", String::new()),
        ("values.yaml", "replicas: 3\nimage: {tag: v1}\n".to_owned()),
    ] {
        let error =
            lint_files(&[(name.to_owned(), text.into_bytes())], None, &options).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("{name}: nothing to lint")),
            "{error}"
        );
    }
}

/// The README's rule table is the catalogue's, byte for byte.
#[test]
fn readme_rule_table_is_the_catalogue() {
    let readme = fixture("README.md");
    let start = readme
        .find("<!-- lint-rules:start -->\n")
        .expect("start marker")
        + "<!-- lint-rules:start -->\n".len();
    let end = readme.find("<!-- lint-rules:end -->").expect("end marker");
    let table = custom_metrics_manifests::lint::markdown_table();
    if readme[start..end] != table {
        println!("{table}");
    }
    assert_eq!(
        readme[start..end],
        table,
        "update README.md's table from lint::markdown_table()"
    );
    // Every source is a link a reader can follow.
    for check in Check::ALL {
        assert!(readme[start..end].contains(check.info().source));
    }
}

/// The network-policy check follows the spec's stack: kube-prometheus ships
/// NetworkPolicy prometheus-k8s, kube-prometheus-stack (chart default
/// `prometheus.networkPolicy.enabled: false`) and the operator ship none.
#[test]
fn network_policy_follows_the_spec_stack() {
    let config = |stack: &str| {
        let yaml = format!("preset: documented\nprometheus:\n  stack: {stack}\n");
        let spec = custom_metrics_manifests::Spec::from_yaml(&yaml, "spec.yaml").unwrap();
        custom_metrics_manifests::Config::from_spec(spec, "spec.yaml").unwrap()
    };
    let findings = lint_config(&config("kube-prometheus"), &LintOptions::default());
    assert!(
        findings.iter().any(|f| f.id == "network-policy"),
        "{findings:#?}"
    );
    for stack in ["kube-prometheus-stack", "operator"] {
        let findings = lint_config(&config(stack), &LintOptions::default());
        assert!(
            !findings.iter().any(|f| f.id == "network-policy"),
            "{stack}: {findings:#?}"
        );
    }
}

/// monitor-not-selected (more cases in tests/selectors.rs): kube-prometheus-stack's
/// Prometheus (chart 88.5.3, release `prometheus`) ignores a ServiceMonitor
/// without `release: prometheus`.
#[test]
fn monitor_not_selected() {
    let monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: api\n";
    let text = format!(
        "{}\n---\n{monitor}",
        fixture("fixtures/lint/selectors/kube-prometheus-stack-prometheus.yaml")
    );
    let findings = lint(&text);
    assert!(
        ids(&findings).contains("monitor-not-selected"),
        "{}",
        lines(&findings)
    );
}

#[test]
fn monitor_not_selected_negative() {
    let monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: api\n  namespace: shop\n  labels:\n    release: prometheus\nspec:\n  selector:\n    matchLabels:\n      app: api\n";
    let text = format!(
        "{}\n---\n{monitor}",
        fixture("fixtures/lint/selectors/kube-prometheus-stack-prometheus.yaml")
    );
    let findings = lint(&text);
    assert!(
        !ids(&findings).contains("monitor-not-selected"),
        "{}",
        lines(&findings)
    );
}

// ------------------------------------------------------------------- KEDA

/// A hand-written ScaledObject as KEDA's docs write one, safe settings:
/// one sample, per-second threshold, ignoreNullValues false, a fallback.
const KEDA_SO: &str = r#"apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: api
  namespace: shop
spec:
  scaleTargetRef:
    name: api
  minReplicaCount: 2
  maxReplicaCount: 10
  fallback:
    failureThreshold: 3
    replicas: 10
  triggers:
  - type: prometheus
    metadata:
      serverAddress: http://prometheus-k8s.monitoring.svc:9090
      query: sum(rate(http_requests_total{namespace="shop",service="api"}[2m]))
      threshold: "10"
      ignoreNullValues: "false"
"#;

const KEDA_QUERY: &str = r#"sum(rate(http_requests_total{namespace="shop",service="api"}[2m]))"#;

/// KEDA_SO with its query replaced (YAML single-quoted).
fn keda_with_query(query: &str) -> String {
    KEDA_SO.replace(KEDA_QUERY, &format!("'{}'", query.replace('\'', "''")))
}

/// KEDA_SO with `line` (in the metadata) replaced by `by`.
fn keda_with(line: &str, by: &str) -> String {
    assert!(KEDA_SO.contains(line), "{line}");
    KEDA_SO.replace(line, by)
}

fn only(findings: &[Finding], id: &str) -> Vec<Finding> {
    findings.iter().filter(|f| f.id == id).cloned().collect()
}

#[test]
fn keda_clean_fixture_is_clean() {
    assert_clean(&lint(KEDA_SO));
}

#[test]
fn keda_query() {
    for (query, says) in [
        ("rate(http_requests_total[2m])", "no outer aggregation"),
        (
            "sum(rate(http_requests_total[2m])) by (pod)",
            "grouped by (pod)",
        ),
        (
            "sum without (pod) (rate(http_requests_total[2m]))",
            "no outer aggregation",
        ),
        ("http_requests_total[1m]", "range vector"),
        ("scalar(sum(http_requests_total))", "scalar"),
        ("sum(rate(http_requests_total[2m])", "Prometheus refuses"),
        (
            "histogram_quantile(0.9, sum(rate(x_bucket[2m])) by (le, pod))",
            "(pod)",
        ),
    ] {
        let findings = only(&lint(&keda_with_query(query)), "keda-query");
        assert_eq!(findings.len(), 1, "{query}: {}", lines(&findings));
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(findings[0].field, "spec.triggers[0].metadata.query");
        assert!(
            findings[0].message.contains(says),
            "{query}: {}",
            findings[0]
        );
    }
}

#[test]
fn keda_query_negative() {
    for query in [
        "sum(rate(http_requests_total[2m]))",
        "sum(rate(a[2m])) / sum(rate(b[2m]))",
        "sum(rate(a[2m])) or vector(0)",
        "histogram_quantile(0.9, sum(rate(x_bucket[2m])) by (le))",
        "max(sum(rate(a[2m])) by (pod))",
        "vector(1)",
    ] {
        assert!(
            only(&lint(&keda_with_query(query)), "keda-query").is_empty(),
            "{query}"
        );
    }
    // Not a prometheus trigger: not read.
    let cron = KEDA_SO.replace("type: prometheus", "type: cron");
    assert!(only(&lint(&cron), "keda-query").is_empty());
}

#[test]
fn keda_threshold_unit() {
    // The trigger's name says per minute, rate() gives per second.
    let named = KEDA_SO.replace(
        "  - type: prometheus\n",
        "  - type: prometheus\n    name: http_requests_per_minute\n",
    );
    let findings = only(&lint(&named), "keda-threshold-unit");
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert!(
        findings[0].message.contains("factor of 60"),
        "{}",
        findings[0]
    );
    assert_eq!(findings[0].severity, Severity::Warning);
    // The adopted HPA was written per minute.
    let adopted = format!(
        "{}---\n{}",
        keda_adopting("api"),
        hpa("api", "api", "http_requests_per_minute")
    );
    let findings = only(&lint(&adopted), "keda-threshold-unit");
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert!(findings[0]
        .message
        .contains("adopted HorizontalPodAutoscaler shop/api"));
    // A per-minute query (x60) under a per-second name.
    let named = keda_with_query("sum(rate(http_requests_total[2m])) * 60").replace(
        "  - type: prometheus\n",
        "  - type: prometheus\n    name: rps\n",
    );
    assert_eq!(only(&lint(&named), "keda-threshold-unit").len(), 1);
}

#[test]
fn keda_threshold_unit_negative() {
    for (name, query) in [
        ("http_requests_per_second", KEDA_QUERY),
        (
            "http_requests_per_minute",
            "sum(rate(http_requests_total[2m])) * 60",
        ),
        (
            "requests_per_minute",
            "sum(increase(http_requests_total[1m]))",
        ),
        ("queue_depth", KEDA_QUERY),
    ] {
        let text = keda_with_query(query).replace(
            "  - type: prometheus\n",
            &format!("  - type: prometheus\n    name: {name}\n"),
        );
        assert!(
            only(&lint(&text), "keda-threshold-unit").is_empty(),
            "{name} {query}"
        );
    }
}

#[test]
fn keda_ignore_null_values() {
    for (text, field) in [
        (
            keda_with("      ignoreNullValues: \"false\"\n", ""),
            "spec.triggers[0].metadata",
        ),
        (
            keda_with("ignoreNullValues: \"false\"", "ignoreNullValues: \"True\""),
            "spec.triggers[0].metadata.ignoreNullValues",
        ),
    ] {
        let findings = only(&lint(&text), "keda-ignore-null-values");
        assert_eq!(findings.len(), 1, "{}", lines(&findings));
        assert_eq!(findings[0].field, field);
        assert!(findings[0].message.contains("minimum"), "{}", findings[0]);
    }
}

#[test]
fn keda_ignore_null_values_negative() {
    // Not a rate query: an empty answer may well mean an empty queue.
    let gauge =
        keda_with_query("sum(queue_depth)").replace("      ignoreNullValues: \"false\"\n", "");
    assert!(only(&lint(&gauge), "keda-ignore-null-values").is_empty());
    for value in ["false", "0", "F"] {
        let text = keda_with(
            "ignoreNullValues: \"false\"",
            &format!("ignoreNullValues: \"{value}\""),
        );
        assert!(
            only(&lint(&text), "keda-ignore-null-values").is_empty(),
            "{value}"
        );
    }
}

#[test]
fn keda_metadata_keys() {
    let cases = [
        // A typo: KEDA ignores it and keeps its default (true).
        (
            keda_with("ignoreNullValues:", "ignoreNullValue:"),
            Severity::Warning,
            "did you mean `ignoreNullValues`",
        ),
        (
            keda_with("      threshold: \"10\"\n", "      treshold: \"10\"\n"),
            Severity::Error,
            "no `threshold`",
        ),
        (
            keda_with("threshold: \"10\"", "threshold: 500m"),
            Severity::Error,
            "not a number",
        ),
        (
            keda_with("threshold: \"10\"", "threshold: \"0.0004\""),
            Severity::Error,
            "must be positive",
        ),
        (
            keda_with("threshold: \"10\"", "threshold: 10"),
            Severity::Error,
            "not a string",
        ),
        (
            keda_with("ignoreNullValues: \"false\"", "ignoreNullValues: \"no\""),
            Severity::Error,
            "not a boolean",
        ),
        (
            keda_with(
                "      ignoreNullValues",
                "      metricName: http_requests_total\n      ignoreNullValues",
            ),
            Severity::Warning,
            "KEDA 2.12",
        ),
    ];
    for (text, severity, says) in cases {
        let findings = only(&lint(&text), "keda-metadata-keys");
        assert!(
            findings
                .iter()
                .any(|f| f.severity == severity && f.message.contains(says)),
            "{says}: {}",
            lines(&findings)
        );
    }
    // A TriggerAuthentication parameter the scaler does not read.
    let auth = format!(
        "{}    authenticationRef:\n      name: prom\n---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: prom\n  namespace: shop\nspec:\n  secretTargetRef:\n  - parameter: bearer\n    name: prom\n    key: token\n",
        KEDA_SO
    );
    let findings = only(&lint(&auth), "keda-metadata-keys");
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert_eq!(findings[0].object, "TriggerAuthentication shop/prom");
    assert!(
        findings[0].message.contains("did you mean `bearerToken`"),
        "{}",
        findings[0]
    );
}

#[test]
fn keda_metadata_keys_negative() {
    let text = keda_with(
        "      ignoreNullValues",
        "      activationThreshold: \"0.5\"\n      unsafeSsl: \"true\"\n      customHeaders: X-Scope-OrgID=a\n      timeout: \"1000\"\n      ignoreNullValues",
    );
    assert_clean(&lint(&text));
    let auth = format!(
        "{}    authenticationRef:\n      name: prom\n---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: prom\n  namespace: shop\nspec:\n  secretTargetRef:\n  - parameter: bearerToken\n    name: prom\n    key: token\n  - parameter: ca\n    name: prom\n    key: ca.crt\n",
        KEDA_SO.replace("      ignoreNullValues", "      authModes: bearer\n      ignoreNullValues")
    );
    assert_clean(&lint(&auth));
    // KEDA v1 read other keys (metricName was required then).
    let v1 = KEDA_SO
        .replace("keda.sh/v1alpha1", "keda.k8s.io/v1alpha1")
        .replace(
            "      ignoreNullValues",
            "      metricName: x\n      ignoreNullValues",
        );
    assert!(only(&lint(&v1), "keda-metadata-keys").is_empty());
}

#[test]
fn keda_rate_window() {
    let findings = only(
        &lint(&keda_with_query("sum(rate(x[45s]))")),
        "keda-rate-window",
    );
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert_eq!(findings[0].severity, Severity::Error);
    let findings = only(
        &lint(&keda_with_query("sum(irate(x[1m]))")),
        "keda-rate-window",
    );
    assert_eq!(findings[0].severity, Severity::Warning);
    // The ServiceMonitor's interval counts.
    let monitored = format!(
        "{}---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: api, namespace: shop}}\nspec:\n  endpoints:\n  - port: http\n    interval: 1m\n",
        KEDA_SO
    );
    let findings = only(&lint(&monitored), "keda-rate-window");
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert!(findings[0]
        .message
        .contains("1m of ServiceMonitor shop/api"));
}

#[test]
fn keda_rate_window_negative() {
    assert!(only(
        &lint(&keda_with_query("sum(rate(x[2m]))")),
        "keda-rate-window"
    )
    .is_empty());
    let fast = LintOptions {
        scrape_interval: Some("15s".parse().unwrap()),
        ..Default::default()
    };
    assert!(only(
        &lint_with(&keda_with_query("sum(rate(x[1m]))"), &fast),
        "keda-rate-window"
    )
    .is_empty());
}

/// KEDA_SO adopting the HPA `name`.
fn keda_adopting(name: &str) -> String {
    KEDA_SO
        .replace(
            "  namespace: shop\nspec:\n",
            &format!(
                "  namespace: shop\n  annotations:\n    scaledobject.keda.sh/transfer-hpa-ownership: \"true\"\nspec:\n  advanced:\n    horizontalPodAutoscalerConfig:\n      name: {name}\n"
            ),
        )
}

fn hpa(name: &str, deployment: &str, metric: &str) -> String {
    format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {deployment}\n  minReplicas: 2\n  maxReplicas: 10\n  metrics:\n  - type: Pods\n    pods:\n      metric:\n        name: {metric}\n      target:\n        type: AverageValue\n        averageValue: \"10\"\n"
    )
}

#[test]
fn keda_hpa_conflict() {
    let hpa = hpa("api", "api", "http_requests_per_second");
    for (scaled, says) in [
        (KEDA_SO.to_owned(), "second HPA `keda-hpa-api`"),
        // The annotation without the name.
        (
            keda_adopting("api-hpa"),
            "horizontalPodAutoscalerConfig.name is `api-hpa`, not `api`",
        ),
        // The name without the annotation.
        (
            keda_adopting("api").replace(
                "  annotations:\n    scaledobject.keda.sh/transfer-hpa-ownership: \"true\"\n",
                "",
            ),
            "without the transfer-hpa-ownership annotation",
        ),
    ] {
        let findings = only(&lint(&format!("{scaled}---\n{hpa}")), "keda-hpa-conflict");
        assert_eq!(findings.len(), 1, "{}", lines(&findings));
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(findings[0].object, "ScaledObject shop/api");
        assert!(findings[0].message.contains(says), "{}", findings[0]);
    }
    // An HPA that opts out of KEDA's webhook still fights.
    let opted = hpa.replace(
        "  namespace: shop\nspec:",
        "  namespace: shop\n  annotations:\n    validations.keda.sh/hpa-ownership: \"false\"\nspec:",
    );
    let findings = only(
        &lint(&format!("{KEDA_SO}---\n{opted}")),
        "keda-hpa-conflict",
    );
    assert!(
        findings[0].message.contains("opts out"),
        "{}",
        lines(&findings)
    );
    // Two ScaledObjects on one Deployment; two naming one HPA.
    let second = KEDA_SO.replace("  name: api\n  namespace", "  name: api-2\n  namespace");
    let findings = only(
        &lint(&format!("{KEDA_SO}---\n{second}")),
        "keda-hpa-conflict",
    );
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert_eq!(findings[0].object, "ScaledObject shop/api-2");
    let other = keda_adopting("shared")
        .replace("  name: api\n  namespace", "  name: web\n  namespace")
        .replace(
            "scaleTargetRef:\n    name: api",
            "scaleTargetRef:\n    name: web",
        );
    let findings = only(
        &lint(&format!("{}---\n{other}", keda_adopting("shared"))),
        "keda-hpa-conflict",
    );
    assert_eq!(findings.len(), 1, "{}", lines(&findings));
    assert!(findings[0].message.contains("both name their HPA `shared`"));
}

#[test]
fn keda_hpa_conflict_negative() {
    let hpa_api = hpa("api", "api", "http_requests_per_second");
    // Adopted: the name and the annotation.
    assert!(only(
        &lint(&format!("{}---\n{hpa_api}", keda_adopting("api"))),
        "keda-hpa-conflict"
    )
    .is_empty());
    // KEDA's own HPA (owned by the ScaledObject).
    let owned = hpa("keda-hpa-api", "api", "s0-prometheus").replace(
        "  namespace: shop\n",
        "  namespace: shop\n  ownerReferences:\n  - apiVersion: keda.sh/v1alpha1\n    kind: ScaledObject\n    name: api\n    uid: x\n",
    );
    assert!(only(
        &lint(&format!("{KEDA_SO}---\n{owned}")),
        "keda-hpa-conflict"
    )
    .is_empty());
    // Another Deployment, another namespace, another kind.
    for other in [
        hpa("web", "web", "x"),
        hpa("api", "api", "x").replace("namespace: shop", "namespace: other"),
        hpa("api", "api", "x").replace("kind: Deployment", "kind: StatefulSet"),
    ] {
        assert!(
            only(
                &lint(&format!("{KEDA_SO}---\n{other}")),
                "keda-hpa-conflict"
            )
            .is_empty(),
            "{other}"
        );
    }
}

const KEDA_API_SERVICE: &str = "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1beta1.external.metrics.k8s.io\nspec:\n  group: external.metrics.k8s.io\n  version: v1beta1\n  groupPriorityMinimum: 100\n  versionPriority: 100\n  service:\n    name: keda-operator-metrics-apiserver\n    namespace: keda\n";

#[test]
fn keda_external_provider() {
    let adapter = KEDA_API_SERVICE
        .replace("keda-operator-metrics-apiserver", "prometheus-adapter")
        .replace("namespace: keda", "namespace: monitoring");
    for text in [
        format!("{KEDA_SO}---\n{adapter}"),
        format!("{KEDA_API_SERVICE}---\n{adapter}"),
    ] {
        let findings = only(&lint(&text), "keda-external-provider");
        assert_eq!(findings.len(), 1, "{}", lines(&findings));
        assert_eq!(
            findings[0].object,
            "APIService v1beta1.external.metrics.k8s.io"
        );
        assert!(findings[0]
            .message
            .contains("Service monitoring/prometheus-adapter"));
    }
}

#[test]
fn keda_external_provider_negative() {
    let adapter = KEDA_API_SERVICE
        .replace("keda-operator-metrics-apiserver", "prometheus-adapter")
        .replace("namespace: keda", "namespace: monitoring");
    // The adapter alone; KEDA alone; the adapter's custom metrics next to KEDA.
    assert!(only(&lint(&adapter), "keda-external-provider").is_empty());
    assert!(only(
        &lint(&format!("{KEDA_SO}---\n{KEDA_API_SERVICE}")),
        "keda-external-provider"
    )
    .is_empty());
    let custom = adapter
        .replace(
            "v1beta1.external.metrics.k8s.io",
            "v1beta1.custom.metrics.k8s.io",
        )
        .replace(
            "group: external.metrics.k8s.io",
            "group: custom.metrics.k8s.io",
        );
    assert!(only(
        &lint(&format!("{KEDA_SO}---\n{custom}")),
        "keda-external-provider"
    )
    .is_empty());
}

/// `--backend keda` output of every spec fixture lints clean; the guide's
/// documented preset keeps its `[20s]` window on either backend, and lint
/// says so on both (rate-window, keda-rate-window) and nothing else.
#[test]
fn keda_backend_output_lints_clean() {
    use custom_metrics_manifests::Backend;
    let mut specs: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("fixtures/specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    specs.push(Path::new(ROOT).join("examples/fastapi/spec.yaml"));
    specs.sort();
    let mut linted = 0;
    for path in specs {
        let keda =
            custom_metrics_manifests::load_with(Some(&path), None, Some(Backend::Keda)).unwrap();
        let adapter =
            custom_metrics_manifests::load_with(Some(&path), None, Some(Backend::Adapter)).unwrap();
        let findings: Vec<Finding> =
            custom_metrics_manifests::lint::lint_config(&keda, &LintOptions::default())
                .into_iter()
                .filter(|f| f.severity != Severity::Info)
                .collect();
        let adapter_window =
            custom_metrics_manifests::lint::lint_config(&adapter, &LintOptions::default())
                .iter()
                .any(|f| f.id == "rate-window");
        let unexplained: Vec<&Finding> = findings
            .iter()
            .filter(|f| !(f.id == "keda-rate-window" && adapter_window))
            .collect();
        assert!(
            unexplained.is_empty(),
            "{}: {unexplained:?}",
            path.display()
        );
        linted += usize::from(!keda.apps().is_empty());
    }
    assert!(linted >= 5, "only {linted} specs with apps");
}
