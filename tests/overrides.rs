//! A preset is data: every field it sets that the builders read (labels,
//! probes, security context, arguments, the metrics reader) is a spec field
//! that overrides it, under either preset.

use std::collections::BTreeMap;

use custom_metrics_manifests::{render, Config, Manifest, Preset, Spec};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};

fn resolve(preset: Preset, adapter: &str) -> Config {
    let text = format!("preset: {preset}\nadapter:\n{adapter}");
    let spec = Spec::from_yaml(&text, "spec.yaml").unwrap();
    Config::from_spec(spec, "spec.yaml").unwrap()
}

/// The rendered objects, as a user gets them.
fn manifests(config: &Config) -> Vec<Manifest> {
    render::manifests(config)
}

fn deployment(config: &Config) -> Deployment {
    manifests(config)
        .into_iter()
        .find_map(|manifest| match manifest {
            Manifest::Deployment(deployment) => Some(*deployment),
            _ => None,
        })
        .expect("the adapter's Deployment")
}

fn service_account(config: &Config) -> ServiceAccount {
    manifests(config)
        .into_iter()
        .find_map(|manifest| match manifest {
            Manifest::ServiceAccount(account) => Some(account),
            _ => None,
        })
        .expect("the adapter's ServiceAccount")
}

/// The ClusterRole whose name ends with `-{suffix}`.
fn cluster_role(config: &Config, suffix: &str) -> ClusterRole {
    manifests(config)
        .into_iter()
        .find_map(|manifest| match manifest {
            Manifest::ClusterRole(role)
                if role
                    .metadata
                    .name
                    .as_ref()?
                    .ends_with(&format!("-{suffix}")) =>
            {
                Some(role)
            }
            _ => None,
        })
        .expect("the ClusterRole")
}

/// The ClusterRoleBinding whose name ends with `-{suffix}`.
fn cluster_role_binding(config: &Config, suffix: &str) -> ClusterRoleBinding {
    manifests(config)
        .into_iter()
        .find_map(|manifest| match manifest {
            Manifest::ClusterRoleBinding(binding)
                if binding
                    .metadata
                    .name
                    .as_ref()?
                    .ends_with(&format!("-{suffix}")) =>
            {
                Some(binding)
            }
            _ => None,
        })
        .expect("the ClusterRoleBinding")
}

/// The adapter container's arguments.
fn adapter_args(config: &Config) -> Vec<String> {
    deployment(config)
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers[0]
        .args
        .clone()
        .unwrap_or_default()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_spec_overrides_the_probes() {
    for preset in Preset::ALL {
        let config = resolve(
            preset,
            "  livenessProbe: {path: /live, initialDelaySeconds: 7, timeoutSeconds: 2, periodSeconds: 9, failureThreshold: 4}\n  readinessProbe: {path: /ready}\n",
        );
        let container = &deployment(&config)
            .spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .containers[0];
        let liveness = container.liveness_probe.as_ref().unwrap();
        let get = liveness.http_get.as_ref().unwrap();
        assert_eq!(get.path.as_deref(), Some("/live"));
        assert_eq!(get.scheme.as_deref(), Some("HTTPS"));
        assert_eq!(
            (
                liveness.initial_delay_seconds,
                liveness.timeout_seconds,
                liveness.period_seconds,
                liveness.failure_threshold
            ),
            (Some(7), Some(2), Some(9), Some(4))
        );
        let readiness = container.readiness_probe.as_ref().unwrap();
        assert_eq!(
            readiness.http_get.as_ref().unwrap().path.as_deref(),
            Some("/ready")
        );
        assert_eq!(
            readiness.initial_delay_seconds, None,
            "{preset}: a probe is replaced as a whole"
        );
    }
}

#[test]
fn a_spec_overrides_the_security_context() {
    for preset in Preset::ALL {
        let config = resolve(
            preset,
            "  securityContext:\n    capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n    runAsUser: 65534\n    runAsGroup: 65534\n    seccompProfile: {type: Localhost, localhostProfile: p.json}\n",
        );
        let container = &deployment(&config)
            .spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .containers[0];
        let context = container.security_context.as_ref().unwrap();
        let capabilities = context.capabilities.as_ref().unwrap();
        assert_eq!(capabilities.drop, Some(vec!["ALL".to_owned()]));
        assert_eq!(capabilities.add, Some(vec!["NET_BIND_SERVICE".to_owned()]));
        assert_eq!(
            (context.run_as_user, context.run_as_group),
            (Some(65534), Some(65534))
        );
        let seccomp = context.seccomp_profile.as_ref().unwrap();
        assert_eq!(seccomp.type_, "Localhost");
        assert_eq!(seccomp.localhost_profile.as_deref(), Some("p.json"));
        // Replaced as a whole: the preset's readOnlyRootFilesystem is gone.
        assert_eq!(context.read_only_root_filesystem, None, "{preset}");
    }
}

#[test]
fn a_spec_overrides_the_labels() {
    for preset in Preset::ALL {
        let config = resolve(
            preset,
            "  labels: {team: platform}\n  selector: {app: metrics}\n  podLabels: {tier: pods}\n  objectLabels: {owner: me}\n  deploymentLabels: {release: stable}\n",
        );
        let deployment = deployment(&config);
        assert_eq!(
            deployment.metadata.labels,
            Some(map(&[("release", "stable"), ("team", "platform")]))
        );
        let spec = deployment.spec.unwrap();
        assert_eq!(spec.selector.match_labels, Some(map(&[("app", "metrics")])));
        assert_eq!(
            spec.template.metadata.unwrap().labels,
            Some(map(&[
                ("app", "metrics"),
                ("team", "platform"),
                ("tier", "pods")
            ]))
        );
        let account = service_account(&config);
        assert_eq!(
            account.metadata.labels,
            Some(map(&[
                ("app", "metrics"),
                ("owner", "me"),
                ("team", "platform"),
                ("tier", "pods")
            ]))
        );
    }
}

#[test]
fn the_instance_label_follows_a_rename_unless_the_selector_is_given() {
    let renamed = resolve(Preset::Recommended, "  name: other-adapter\n");
    assert_eq!(
        renamed.adapter().selector["app.kubernetes.io/instance"],
        "other-adapter"
    );
    let pinned = resolve(
        Preset::Recommended,
        "  name: other-adapter\n  selector: {app.kubernetes.io/instance: pinned}\n",
    );
    assert_eq!(
        pinned.adapter().selector,
        map(&[("app.kubernetes.io/instance", "pinned")])
    );
}

#[test]
fn a_spec_overrides_the_args() {
    for preset in Preset::ALL {
        let config = resolve(
            preset,
            "  leadingArgs: [/adapter, --first]\n  extraArgs: [--v=6]\n",
        );
        let args = adapter_args(&config);
        assert_eq!(&args[..2], ["/adapter", "--first"], "{preset}");
        assert_eq!(args.last().map(String::as_str), Some("--v=6"), "{preset}");
        assert_eq!(args.iter().filter(|arg| arg.starts_with("--v=")).count(), 2);
    }
}

#[test]
fn a_spec_overrides_the_metrics_reader() {
    let config = resolve(
        Preset::Recommended,
        "  metricsReader: {verbs: [get], subject: adapter}\n",
    );
    let role = cluster_role(&config, "server-resources");
    assert_eq!(role.rules.unwrap()[0].verbs, ["get"]);
    let subject = &cluster_role_binding(&config, "hpa-controller")
        .subjects
        .unwrap()[0];
    assert_eq!(
        (subject.name.as_str(), subject.namespace.as_deref()),
        ("custom-metrics-adapter", Some("monitoring"))
    );

    let config = resolve(
        Preset::Documented,
        "  metricsReader: {verbs: [get, list], subject: {serviceAccount: {name: hpa, namespace: kube-system}}}\n",
    );
    let subject = &cluster_role_binding(&config, "hpa-controller")
        .subjects
        .unwrap()[0];
    assert_eq!(
        (subject.name.as_str(), subject.namespace.as_deref()),
        ("hpa", Some("kube-system"))
    );
}

#[test]
fn a_preset_spec_resolves_to_the_presets_config() {
    // The preset is nothing but its spec: giving it explicitly changes nothing.
    for preset in Preset::ALL {
        let explicit = Config::from_spec(preset.spec(), "spec.yaml").unwrap();
        assert_eq!(explicit, Config::from_preset(preset));
    }
}
