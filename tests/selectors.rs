//! lint's monitor-not-selected: ServiceMonitors and PodMonitors against the
//! `Prometheus` resources in the input, with the operator's selector
//! semantics (prometheus-operator v0.93.0: nil monitor selector = none,
//! `{}` = all; nil namespace selector = the Prometheus' own namespace).
//! Prometheus fixtures: kube-prometheus-stack 88.5.3 rendered by hand and
//! kube-prometheus' own manifest (fixtures/lint/selectors/).

mod common;
use common::*;

use custom_metrics_manifests::lint::{lint_documents, parse_manifest_files, Finding, LintOptions};

const KPS: &str = "fixtures/lint/selectors/kube-prometheus-stack-prometheus.yaml";
const KUBE_PROMETHEUS: &str = "fixtures/lint/selectors/kube-prometheus-prometheus.yaml";

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(ROOT).join(path)).unwrap()
}

/// gen-manifests' output for `spec` (a file or YAML text).
fn generated(spec_yaml: &str) -> String {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = scratch_dir(&format!("selectors-spec-{call}"));
    let path = dir.join("spec.yaml");
    std::fs::write(&path, spec_yaml).unwrap();
    let out = stdout(&gen_manifests(&["-c", path.to_str().unwrap()]));
    std::fs::remove_dir_all(dir).unwrap();
    out
}

fn selection(files: &[(&str, String)]) -> Vec<Finding> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    let docs = parse_manifest_files(&files).unwrap();
    lint_documents(&docs, &LintOptions::default())
        .into_iter()
        .filter(|f| f.id == "monitor-not-selected")
        .collect()
}

const APPS: &str = "apps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n\
- name: worker\n  namespace: shop\n  monitor: podMonitor\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n";

fn monitor(kind: &str, namespace: &str, labels: &str) -> String {
    format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: {kind}\nmetadata:\n  name: api\n  namespace: {namespace}\n  labels: {labels}\nspec:\n  selector:\n    matchLabels:\n      app: api\n"
    )
}

fn prometheus(namespace: &str, spec: &str) -> String {
    format!("apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: main\n  namespace: {namespace}\nspec:\n{spec}")
}

#[test]
fn kube_prometheus_stack_ignores_kube_prometheus_monitors() {
    let bundle = generated(&format!("preset: recommended\n{APPS}"));
    let findings = selection(&[(KPS, read(KPS)), ("bundle.yaml", bundle.clone())]);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert_eq!(findings[0].object, "ServiceMonitor shop/api");
    assert_eq!(findings[1].object, "PodMonitor shop/worker");
    let message = &findings[0].message;
    assert!(
        message.contains("Prometheus monitoring/prometheus-kube-prometheus-prometheus"),
        "{message}"
    );
    assert!(
        message.contains(r#"spec.serviceMonitorSelector {"matchLabels":{"release":"prometheus"}}"#),
        "{message}"
    );
    assert!(
        message.contains("label `release: prometheus` is missing"),
        "{message}"
    );
    assert!(findings[1].message.contains("spec.podMonitorSelector"));
    settings().bind(|| {
        let files = [KPS.to_owned(), "target/selectors-bundle.yaml".to_owned()];
        std::fs::write(std::path::Path::new(ROOT).join(&files[1]), &bundle).unwrap();
        let output = gen_manifests(&["lint", &files[0], &files[1]]);
        assert_eq!(output.status.code(), Some(1));
        let text = String::from_utf8(output.stdout).unwrap();
        let lines: String = text
            .lines()
            .filter(|l| l.contains("monitor-not-selected"))
            .map(|l| format!("{l}\n"))
            .collect();
        insta::assert_snapshot!("lint-monitor-not-selected-kube-prometheus-stack", lines);
    });
}

#[test]
fn kube_prometheus_stack_selects_what_the_stack_spec_generates() {
    let bundle = generated(&format!(
        "preset: recommended\nprometheus:\n  stack: kube-prometheus-stack\n  release: prometheus\n{APPS}"
    ));
    assert!(selection(&[(KPS, read(KPS)), ("bundle.yaml", bundle)]).is_empty());
}

#[test]
fn kube_prometheus_selects_everything() {
    for spec in [
        format!("preset: recommended\n{APPS}"),
        format!("preset: recommended\nprometheus:\n  stack: kube-prometheus-stack\n{APPS}"),
    ] {
        let bundle = generated(&spec);
        assert!(
            selection(&[(KUBE_PROMETHEUS, read(KUBE_PROMETHEUS)), ("b.yaml", bundle)]).is_empty()
        );
    }
}

#[test]
fn no_prometheus_in_the_input_no_finding() {
    let bundle = generated(&format!("preset: recommended\n{APPS}"));
    assert!(selection(&[("b.yaml", bundle)]).is_empty());
}

#[test]
fn nil_selector_selects_no_monitor() {
    let findings = selection(&[
        (
            "p.yaml",
            prometheus("shop", "  serviceMonitorNamespaceSelector: {}\n"),
        ),
        ("m.yaml", monitor("ServiceMonitor", "shop", "{}")),
    ]);
    assert_eq!(findings.len(), 1);
    assert!(findings[0]
        .message
        .contains("has no spec.serviceMonitorSelector, which selects no ServiceMonitor"));
}

#[test]
fn nil_namespace_selector_is_the_own_namespace() {
    let spec = "  serviceMonitorSelector: {}\n";
    assert!(selection(&[
        ("p.yaml", prometheus("shop", spec)),
        ("m.yaml", monitor("ServiceMonitor", "shop", "{}"))
    ])
    .is_empty());
    let findings = selection(&[
        ("p.yaml", prometheus("monitoring", spec)),
        ("m.yaml", monitor("ServiceMonitor", "shop", "{}")),
    ]);
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]
            .message
            .contains("only in its own namespace `monitoring`, not in `shop`"),
        "{}",
        findings[0].message
    );
}

#[test]
fn namespace_selector_reads_the_namespace_labels() {
    let spec = "  serviceMonitorSelector: {}\n  serviceMonitorNamespaceSelector:\n    matchLabels:\n      monitoring: \"on\"\n";
    let namespace = |labels: &str| {
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {labels}\n")
    };
    let with = |ns: String| {
        selection(&[
            ("p.yaml", prometheus("monitoring", spec)),
            ("n.yaml", ns),
            ("m.yaml", monitor("ServiceMonitor", "shop", "{}")),
        ])
    };
    assert!(with(namespace("{monitoring: \"on\"}")).is_empty());
    let findings = with(namespace("{team: shop}"));
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]
            .message
            .contains("does not match Namespace shop: label `monitoring: on` is missing"),
        "{}",
        findings[0].message
    );
    // Without the Namespace in the input the labels are unknown: quiet.
    assert!(selection(&[
        ("p.yaml", prometheus("monitoring", spec)),
        ("m.yaml", monitor("ServiceMonitor", "shop", "{}"))
    ])
    .is_empty());
}

/// matchExpressions as Kubernetes' labels.Selector has them; NotIn and
/// DoesNotExist hold when the key is absent.
#[test]
fn match_expressions() {
    let cases = [
        (
            "{key: team, operator: In, values: [shop, ops]}",
            "{team: shop}",
            true,
        ),
        (
            "{key: team, operator: In, values: [shop, ops]}",
            "{team: web}",
            false,
        ),
        ("{key: team, operator: In, values: [shop]}", "{}", false),
        ("{key: team, operator: NotIn, values: [web]}", "{}", true),
        (
            "{key: team, operator: NotIn, values: [web]}",
            "{team: web}",
            false,
        ),
        ("{key: team, operator: Exists}", "{team: x}", true),
        ("{key: team, operator: Exists}", "{}", false),
        ("{key: team, operator: DoesNotExist}", "{}", true),
        ("{key: team, operator: DoesNotExist}", "{team: x}", false),
    ];
    for (expression, labels, selected) in cases {
        let spec = format!(
            "  serviceMonitorNamespaceSelector: {{}}\n  serviceMonitorSelector:\n    matchLabels: {{release: prometheus}}\n    matchExpressions:\n    - {expression}\n"
        );
        let labels = labels
            .replacen('{', "{release: prometheus, ", 1)
            .replace(", }", "}");
        let findings = selection(&[
            ("p.yaml", prometheus("monitoring", &spec)),
            ("m.yaml", monitor("ServiceMonitor", "shop", &labels)),
        ]);
        assert_eq!(
            findings.is_empty(),
            selected,
            "{expression} on {labels}: {findings:#?}"
        );
    }
}

#[test]
fn pod_monitors_use_the_pod_monitor_selector() {
    let spec = "  podMonitorNamespaceSelector: {}\n  podMonitorSelector:\n    matchLabels: {team: shop}\n  serviceMonitorSelector: {}\n";
    let findings = selection(&[
        ("p.yaml", prometheus("monitoring", spec)),
        ("m.yaml", monitor("PodMonitor", "shop", "{team: web}")),
    ]);
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]
            .message
            .contains("label `team` is `web`, not `shop`"),
        "{}",
        findings[0].message
    );
    assert!(selection(&[
        ("p.yaml", prometheus("monitoring", spec)),
        ("m.yaml", monitor("PodMonitor", "shop", "{team: shop}"))
    ])
    .is_empty());
}

/// One Prometheus selecting the monitor is enough.
#[test]
fn any_prometheus_selecting_is_enough() {
    let findings = selection(&[
        (KPS, read(KPS)),
        (KUBE_PROMETHEUS, read(KUBE_PROMETHEUS)),
        ("m.yaml", monitor("ServiceMonitor", "shop", "{}")),
    ]);
    assert!(findings.is_empty());
}
