//! The autoscaling/v2 HorizontalPodAutoscaler of each app: one `Pods`
//! metric, named as the adapter serves it, with an `AverageValue` target.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec,
    MetricTarget, PodsMetricSource,
};

use crate::config::App;
use crate::meta::{self, object_meta};
use crate::spec::{BehaviorSpec, PolicyKind, ScalingRulesSpec, SelectPolicy};
use crate::values::Quantity;

/// The HPA scaling `app.deployment` on `app.metric`.
pub fn horizontal_pod_autoscaler(app: &App) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: object_meta(
            app.name.as_str(),
            Some(app.namespace.as_str()),
            meta::labels([
                (meta::NAME, app.name.as_str()),
                (meta::MANAGED_BY, meta::TOOL),
            ]),
        ),
        spec: meta::versioned(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: app.deployment.to_string(),
            },
            min_replicas: Some(app.min_replicas.to_i32()),
            max_replicas: app.max_replicas.to_i32(),
            metrics: Some(vec![MetricSpec {
                type_: "Pods".into(),
                pods: Some(PodsMetricSource {
                    metric: MetricIdentifier {
                        name: app.metric.clone(),
                        selector: None,
                    },
                    target: MetricTarget {
                        type_: "AverageValue".into(),
                        average_value: Some(app.target_average_value.to_k8s()),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            behavior: app.behavior.as_ref().map(behavior),
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

/// autoscaling/v2 behavior from the spec's (shared with KEDA's
/// `horizontalPodAutoscalerConfig`).
pub fn behavior(spec: &BehaviorSpec) -> HorizontalPodAutoscalerBehavior {
    HorizontalPodAutoscalerBehavior {
        scale_up: spec.scale_up.as_ref().map(scaling_rules),
        scale_down: spec.scale_down.as_ref().map(scaling_rules),
    }
}

fn scaling_rules(rules: &ScalingRulesSpec) -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: rules.stabilization_window_seconds.map(|s| s.to_i32()),
        select_policy: rules.select_policy.map(|policy| {
            match policy {
                SelectPolicy::Max => "Max",
                SelectPolicy::Min => "Min",
                SelectPolicy::Disabled => "Disabled",
            }
            .to_owned()
        }),
        policies: (!rules.policies.is_empty()).then(|| {
            rules
                .policies
                .iter()
                .map(|policy| HPAScalingPolicy {
                    type_: match policy.kind {
                        PolicyKind::Pods => "Pods",
                        PolicyKind::Percent => "Percent",
                    }
                    .into(),
                    value: policy.value.to_i32(),
                    period_seconds: policy.period_seconds.to_i32(),
                })
                .collect()
        }),
        // Every Kubernetes version the library builds for (1.33 on) has the
        // field; the README says which clusters honour it.
        tolerance: rules.tolerance.as_ref().map(Quantity::to_k8s),
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::{autoscaling, Config, Spec};

        let spec = Spec::from_yaml(
            "preset: recommended\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
            "spec.yaml",
        ).unwrap();
        let config = Config::from_spec(spec, "spec.yaml").unwrap();
        let hpa = autoscaling::horizontal_pod_autoscaler(&config.apps[0]);
        let json = serde_json::to_value(&hpa).unwrap();
        let metric = &json["spec"]["metrics"][0];
        assert_eq!(metric["pods"]["metric"]["name"], "http_requests_per_second");
    }
}
