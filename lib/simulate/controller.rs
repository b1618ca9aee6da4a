//! The HorizontalPodAutoscaler controller's arithmetic, ported function by
//! function from kubernetes `pkg/controller/podautoscaler` (`horizontal.go`,
//! `replica_calculator.go`, `metrics/utilization.go`) and the API defaulting
//! of `behavior` (`pkg/apis/autoscaling/v2/defaults.go`).
//!
//! Ported from kubernetes master after v1.35 (the fork
//! `omerap12/kubernetes` at commit `a769d5884497dc246960b38f3e5aae2cc30dd062`
//! for the code, `060da1681551ba64d82dad3c8d4246ab81760d4d` for
//! `horizontal_test.go`); the functions used here are unchanged since the
//! per-direction tolerance of 1.33. Each function names the Go function it
//! ports. Times are milliseconds on the controller's clock; Go's `int32`
//! arithmetic saturates here instead of wrapping.
//!
//! The module is private: `simulate` re-exports the types its public API
//! holds (an [`Autoscaler`](super::Autoscaler)'s `HpaSpec`); the
//! controller's own unit-test tables run against it in `ported`.

use serde::Serialize;

use crate::spec::{PolicyKind, SelectPolicy};

/// Milliseconds on the controller's clock.
pub type Millis = i64;

/// `scaleUpLimitFactor` in `horizontal.go` (the controller's tests set 8 in
/// their `init()`; production runs with 2).
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum` in `horizontal.go`.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;
/// The default of `--horizontal-pod-autoscaler-tolerance`.
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// The default of `--horizontal-pod-autoscaler-downscale-stabilization`.
pub const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS: i64 = 300;

fn saturate(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Go's `int32(math.Ceil(x))` for the replica counts the calculator
/// returns, saturating instead of overflowing.
fn ceil_to_i32(x: f64) -> i32 {
    let c = x.ceil();
    if c.is_nan() {
        0
    } else {
        c.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
    }
}

/// `Tolerances` (replica_calculator.go): the ratio band in which nothing
/// scales, per direction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tolerances {
    /// Below 1: ratios down to `1 - scale_down` hold.
    pub scale_down: f64,
    /// Above 1: ratios up to `1 + scale_up` hold.
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance both ways (the controller's flag).
    pub fn uniform(tolerance: f64) -> Tolerances {
        Tolerances {
            scale_down: tolerance,
            scale_up: tolerance,
        }
    }

    /// `Tolerances.isWithin`: inclusive at both ends.
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// `GetMetricUsageRatio` (metrics/utilization.go): the integer average of
/// the milli-values over the target, and that average.
pub fn metric_usage_ratio(values: impl Iterator<Item = (i64, u64)>, target: i64) -> (f64, i64) {
    let (mut total, mut count): (i128, i128) = (0, 0);
    for (value, pods) in values {
        total += i128::from(value) * i128::from(pods);
        count += i128::from(pods);
    }
    if count == 0 {
        return (0.0, 0);
    }
    // Go divides int64 by int64: truncation toward zero.
    let usage = (total / count).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (usage as f64 / target as f64, usage)
}

/// A pod as `groupPods` sees it for a Pods or External metric (readiness
/// only matters for CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PodState {
    /// `Pending`: unready.
    Pending,
    /// `Running`, with the metric's milli-value if the metrics API has one
    /// (none: a "missing" pod).
    Running(Option<i64>),
    /// Being deleted, or `Succeeded`/`Failed`: ignored. Kept as ported:
    /// the model's pods are all live.
    #[allow(dead_code)]
    Ignored,
}

/// A number of pods in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodGroup {
    /// How many pods.
    pub count: u64,
    /// Their state.
    pub state: PodState,
}

/// Why the calculator gave no recommendation (the controller then does not
/// scale this sync).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    /// "no pods returned by selector while calculating replica count".
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// "did not receive metrics for targeted pods (pods might be unready)".
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetrics,
}

/// `calcPlainMetricReplicas` (via `GetMetricReplicas`, a Pods metric with an
/// AverageValue target) including `groupPods` for a non-CPU metric:
/// Pending pods are unready, Running pods without a value are missing and
/// count at 0 on a scale-up and at the target on a scale-down; unready pods
/// count at 0 on a scale-up. Returns the replicas and the usage (average
/// milli-value of the pods with a value).
pub fn calc_plain_metric_replicas(
    pods: &[PodGroup],
    current_replicas: i32,
    target: i64,
    tolerances: Tolerances,
) -> Result<(i32, i64), CalcError> {
    if pods.iter().all(|g| g.count == 0) {
        return Err(CalcError::NoPods);
    }
    let (mut ready, mut unready, mut missing) = (0u64, 0u64, 0u64);
    let mut metrics: Vec<(i64, u64)> = Vec::new();
    for group in pods.iter().filter(|g| g.count > 0) {
        match group.state {
            PodState::Ignored => {}
            PodState::Pending => unready += group.count,
            PodState::Running(None) => missing += group.count,
            PodState::Running(Some(value)) => {
                ready += group.count;
                metrics.push((value, group.count));
            }
        }
    }
    if metrics.is_empty() {
        return Err(CalcError::NoMetrics);
    }
    let (usage_ratio, usage) = metric_usage_ratio(metrics.iter().copied(), target);
    let scale_up_with_unready = unready > 0 && usage_ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok((current_replicas, usage));
        }
        return Ok((ceil_to_i32(usage_ratio * ready as f64), usage));
    }
    if missing > 0 {
        if usage_ratio < 1.0 {
            // On a scale-down, missing pods use exactly the target.
            metrics.push((target, missing));
        } else if usage_ratio > 1.0 {
            metrics.push((0, missing));
        }
    }
    if scale_up_with_unready {
        metrics.push((0, unready));
    }
    let (new_usage_ratio, _) = metric_usage_ratio(metrics.iter().copied(), target);
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok((current_replicas, usage));
    }
    let counted: u64 = metrics.iter().map(|&(_, n)| n).sum();
    let new_replicas = ceil_to_i32(new_usage_ratio * counted as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok((current_replicas, usage));
    }
    Ok((new_replicas, usage))
}

/// The sum of External metric values as the controller takes it
/// (saturating at `i64::MAX`).
fn external_usage(values: &[i64]) -> i64 {
    let mut usage: i64 = 0;
    for &value in values {
        if value > 0 && usage > i64::MAX - value {
            return i64::MAX;
        }
        usage += value;
    }
    usage
}

/// `GetExternalPerPodMetricReplicas`: an External metric with an
/// AverageValue target (what KEDA's ScaledObjects create). The ratio is the
/// metric's sum over `target x statusReplicas` (the pods that exist, ready
/// or not; readiness plays no part); outside the tolerance the result is
/// `ceil(sum / target)`. Returns the replicas and the per-pod usage.
pub fn external_per_pod_metric_replicas(
    status_replicas: i32,
    values: &[i64],
    target_per_pod: i64,
    tolerances: Tolerances,
) -> (i32, i64) {
    let usage = external_usage(values);
    let mut replicas = status_replicas;
    let usage_ratio = usage as f64 / (target_per_pod as f64 * f64::from(status_replicas));
    if !tolerances.is_within(usage_ratio) {
        replicas = ceil_to_i32(usage as f64 / target_per_pod as f64);
    }
    (replicas, per_pod_usage(usage, status_replicas))
}

/// `getPerPodUsage`.
fn per_pod_usage(usage: i64, status_replicas: i32) -> i64 {
    if usage as f64 >= i64::MAX as f64 {
        return i64::MAX;
    }
    if status_replicas == 0 {
        return 0;
    }
    (usage as f64 / f64::from(status_replicas)).ceil() as i64
}

/// `GetExternalMetricReplicas` with `getUsageRatioReplicaCount`: an
/// External metric with a Value target; `ready_pods` is
/// `getReadyPodsCount`. Returns the replicas and the usage. Ported with
/// its test table; KEDA's HPA uses the per-pod (AverageValue) variant.
#[cfg_attr(not(test), allow(dead_code))]
pub fn external_metric_replicas(
    current_replicas: i32,
    values: &[i64],
    target: i64,
    tolerances: Tolerances,
    ready_pods: i64,
) -> (i32, i64) {
    let usage = external_usage(values);
    let usage_ratio = usage as f64 / target as f64;
    let replicas = if current_replicas != 0 {
        if tolerances.is_within(usage_ratio) {
            current_replicas
        } else {
            ceil_to_i32(usage_ratio * ready_pods as f64)
        }
    } else {
        ceil_to_i32(usage_ratio)
    };
    (replicas, usage)
}

/// One policy of `HPAScalingRules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    /// Pods, or percent.
    pub value: i32,
    /// The period the limit applies to.
    pub period_seconds: i32,
}

/// `HPAScalingRules` after `GenerateHPAScaleUpRules` /
/// `GenerateHPAScaleDownRules` (every field set but the scale-down window,
/// which the controller's flag fills: `maybeInitScaleDownStabilizationWindow`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`; `None` only for a defaulted scale-down.
    pub stabilization_window_seconds: Option<i32>,
    /// `selectPolicy`.
    pub select_policy: SelectPolicy,
    /// `policies`.
    pub policies: Vec<Policy>,
    /// `tolerance` (HPAConfigurableTolerance), if set.
    pub tolerance: Option<f64>,
}

impl ScalingRules {
    /// `defaultHPAScaleUpRules`: window 0, Max of 4 pods and 100 % per 15 s.
    pub fn default_scale_up() -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_seconds: 15,
                },
                Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_seconds: 15,
                },
            ],
            tolerance: None,
        }
    }

    /// `defaultHPAScaleDownRules`: no window (the controller's flag), Max
    /// of 100 % per 15 s.
    pub fn default_scale_down() -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: None,
            select_policy: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period_seconds: 15,
            }],
            tolerance: None,
        }
    }

    /// `getLongestPolicyPeriod`.
    pub fn longest_policy_period(&self) -> i32 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .fold(0, i32::max)
    }
}

/// `behavior` after API defaulting (`SetDefaults_HorizontalPodAutoscalerBehavior`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    /// `scaleUp`.
    pub scale_up: ScalingRules,
    /// `scaleDown`.
    pub scale_down: ScalingRules,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }
}

/// `timestampedRecommendation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    /// The unstabilized recommendation.
    pub recommendation: i32,
    /// When it was recorded.
    pub timestamp: Millis,
}

/// `timestampedScaleEvent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleEventRecord {
    /// The absolute change.
    pub replica_change: i32,
    /// When it happened.
    pub timestamp: Millis,
    /// Marked for reuse by `markScaleEventsOutdated`.
    pub outdated: bool,
}

fn seconds(s: i64) -> Millis {
    s.saturating_mul(1000)
}

/// `getReplicasChangePerPeriod`: the sum of changes newer than `now -
/// period` (strictly).
pub fn get_replicas_change_per_period(
    now: Millis,
    period_seconds: i32,
    events: &[ScaleEventRecord],
) -> i32 {
    let cutoff = now - seconds(i64::from(period_seconds));
    saturate(
        events
            .iter()
            .filter(|e| e.timestamp > cutoff)
            .map(|e| i64::from(e.replica_change))
            .sum(),
    )
}

/// `markScaleEventsOutdated`: events older than the longest period.
pub fn mark_scale_events_outdated(
    now: Millis,
    events: &mut [ScaleEventRecord],
    longest_policy_period: i32,
) {
    let cutoff = now - seconds(i64::from(longest_policy_period));
    for event in events.iter_mut() {
        if event.timestamp < cutoff {
            event.outdated = true;
        }
    }
}

/// `calculateScaleUpLimit`: `max(2 x current, 4)`.
pub fn calculate_scale_up_limit(current_replicas: i32) -> i32 {
    let limit = (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM);
    limit.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// `convertDesiredReplicasWithRules`: bounds and the legacy scale-up limit;
/// returns the replicas and the `ScalingLimited` reason.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    hpa_min_replicas: i32,
    hpa_max_replicas: i32,
) -> (i32, &'static str) {
    let minimum = hpa_min_replicas;
    let scale_up_limit = calculate_scale_up_limit(current_replicas);
    let (maximum, condition) = if hpa_max_replicas > scale_up_limit {
        (scale_up_limit, "ScaleUpLimit")
    } else {
        (hpa_max_replicas, "TooManyReplicas")
    };
    if desired_replicas < minimum {
        (minimum, "TooFewReplicas")
    } else if desired_replicas > maximum {
        (maximum, condition)
    } else {
        (desired_replicas, "DesiredWithinRange")
    }
}

fn period_start(
    now: Millis,
    current: i32,
    policy: &Policy,
    up_events: &[ScaleEventRecord],
    down_events: &[ScaleEventRecord],
) -> i64 {
    i64::from(current)
        - i64::from(get_replicas_change_per_period(
            now,
            policy.period_seconds,
            up_events,
        ))
        + i64::from(get_replicas_change_per_period(
            now,
            policy.period_seconds,
            down_events,
        ))
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    now: Millis,
    current_replicas: i32,
    scale_up_events: &[ScaleEventRecord],
    scale_down_events: &[ScaleEventRecord],
    rules: &ScalingRules,
) -> i32 {
    let (mut result, least): (i64, bool) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i64::from(i32::MAX), true),
        SelectPolicy::Max => (i64::from(i32::MIN), false),
    };
    for policy in &rules.policies {
        let start = period_start(
            now,
            current_replicas,
            policy,
            scale_up_events,
            scale_down_events,
        );
        let proposed = match policy.kind {
            PolicyKind::Pods => start + i64::from(policy.value),
            // Rounded up, so that a small percentage still adds a pod.
            PolicyKind::Percent => i64::from(ceil_to_i32(
                start as f64 * (1.0 + f64::from(policy.value) / 100.0),
            )),
        };
        let proposed = i64::from(saturate(proposed));
        result = if least {
            result.min(proposed)
        } else {
            result.max(proposed)
        };
    }
    saturate(result)
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn calculate_scale_down_limit_with_behaviors(
    now: Millis,
    current_replicas: i32,
    scale_up_events: &[ScaleEventRecord],
    scale_down_events: &[ScaleEventRecord],
    rules: &ScalingRules,
) -> i32 {
    let (mut result, least): (i64, bool) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i64::from(i32::MIN), true),
        SelectPolicy::Max => (i64::from(i32::MAX), false),
    };
    for policy in &rules.policies {
        let start = period_start(
            now,
            current_replicas,
            policy,
            scale_up_events,
            scale_down_events,
        );
        let proposed = match policy.kind {
            PolicyKind::Pods => start - i64::from(policy.value),
            // Go's int32(float) truncates toward zero.
            PolicyKind::Percent => {
                (start as f64 * (1.0 - f64::from(policy.value) / 100.0)).trunc() as i64
            }
        };
        let proposed = i64::from(saturate(proposed));
        result = if least {
            result.max(proposed)
        } else {
            result.min(proposed)
        };
    }
    saturate(result)
}

/// The controller's memory for one HPA and its flags: recommendations,
/// scale events, `--horizontal-pod-autoscaler-downscale-stabilization`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Controller {
    /// `recommendations[key]`; `None` until the first sync records one.
    pub recommendations: Option<Vec<Recommendation>>,
    /// `scaleUpEvents[key]`.
    pub scale_up_events: Vec<ScaleEventRecord>,
    /// `scaleDownEvents[key]`.
    pub scale_down_events: Vec<ScaleEventRecord>,
    /// `downscaleStabilisationWindow`, in seconds.
    pub downscale_stabilization_seconds: i64,
}

/// What `reconcileAutoscaler` decided in one sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reconciled {
    /// The metric's proposal (`metricDesiredReplicas`); `None` when the
    /// replicas were out of bounds (no metric read), the target was at 0,
    /// or the metric could not be computed.
    pub metric_desired: Option<i32>,
    /// The new `spec.replicas`.
    pub desired: i32,
}

impl Controller {
    /// A controller with no history and the given downscale-stabilization flag.
    pub fn new(downscale_stabilization_seconds: i64) -> Controller {
        Controller {
            downscale_stabilization_seconds,
            ..Controller::default()
        }
    }

    /// `recordInitialRecommendation`: a new HPA (or a restarted
    /// controller) starts its history with the current replicas.
    pub fn record_initial_recommendation(&mut self, now: Millis, current_replicas: i32) {
        if self.recommendations.is_none() {
            self.recommendations = Some(vec![Recommendation {
                recommendation: current_replicas,
                timestamp: now,
            }]);
        }
    }

    fn recommendations_mut(&mut self) -> &mut Vec<Recommendation> {
        self.recommendations.get_or_insert_with(Vec::new)
    }

    /// `stabilizeRecommendation` (no `behavior`): the highest
    /// recommendation not older than the downscale-stabilization window;
    /// the (last) outdated entry is reused for this one.
    pub fn stabilize_recommendation(&mut self, now: Millis, prenormalized: i32) -> i32 {
        let cutoff = now - seconds(self.downscale_stabilization_seconds);
        let mut max_recommendation = prenormalized;
        let mut old: Option<usize> = None;
        let recommendations = self.recommendations_mut();
        for (i, rec) in recommendations.iter().enumerate() {
            if rec.timestamp < cutoff {
                old = Some(i);
            } else if rec.recommendation > max_recommendation {
                max_recommendation = rec.recommendation;
            }
        }
        let entry = Recommendation {
            recommendation: prenormalized,
            timestamp: now,
        };
        match old {
            Some(i) => recommendations[i] = entry,
            None => recommendations.push(entry),
        }
        max_recommendation
    }

    /// `normalizeDesiredReplicas` (no `behavior`): stabilize, then
    /// `convertDesiredReplicasWithRules`.
    pub fn normalize_desired_replicas(
        &mut self,
        now: Millis,
        current_replicas: i32,
        prenormalized: i32,
        min_replicas: i32,
        max_replicas: i32,
    ) -> i32 {
        let stabilized = self.stabilize_recommendation(now, prenormalized);
        convert_desired_replicas_with_rules(
            current_replicas,
            stabilized,
            min_replicas,
            max_replicas,
        )
        .0
    }

    /// `stabilizeRecommendationWithBehaviors`: the current replicas brought
    /// within [lowest recommendation of the scale-up window, highest of the
    /// scale-down window]; an entry outside both windows is reused.
    pub fn stabilize_recommendation_with_behaviors(
        &mut self,
        now: Millis,
        current_replicas: i32,
        desired_replicas: i32,
        up_window_seconds: i32,
        down_window_seconds: i32,
    ) -> i32 {
        let up_cutoff = now - seconds(i64::from(up_window_seconds));
        let down_cutoff = now - seconds(i64::from(down_window_seconds));
        let mut up = desired_replicas;
        let mut down = desired_replicas;
        let mut old: Option<usize> = None;
        let recommendations = self.recommendations_mut();
        for (i, rec) in recommendations.iter().enumerate() {
            if rec.timestamp > up_cutoff {
                up = up.min(rec.recommendation);
            }
            if rec.timestamp > down_cutoff {
                down = down.max(rec.recommendation);
            }
            if rec.timestamp < up_cutoff && rec.timestamp < down_cutoff {
                old = Some(i);
            }
        }
        let mut recommendation = current_replicas;
        if recommendation < up {
            recommendation = up;
        }
        if recommendation > down {
            recommendation = down;
        }
        let entry = Recommendation {
            recommendation: desired_replicas,
            timestamp: now,
        };
        match old {
            Some(i) => recommendations[i] = entry,
            None => recommendations.push(entry),
        }
        recommendation
    }

    /// `convertDesiredReplicasWithBehaviorRate`: the policies' limits and
    /// the bounds; returns the replicas and the `ScalingLimited` reason.
    pub fn convert_desired_replicas_with_behavior_rate(
        &self,
        now: Millis,
        behavior: &Behavior,
        current_replicas: i32,
        desired_replicas: i32,
        min_replicas: i32,
        max_replicas: i32,
    ) -> (i32, &'static str) {
        if desired_replicas > current_replicas {
            let limit = calculate_scale_up_limit_with_scaling_rules(
                now,
                current_replicas,
                &self.scale_up_events,
                &self.scale_down_events,
                &behavior.scale_up,
            )
            .max(current_replicas);
            let (maximum, reason) = if max_replicas > limit {
                (limit, "ScaleUpLimit")
            } else {
                (max_replicas, "TooManyReplicas")
            };
            if desired_replicas > maximum {
                return (maximum, reason);
            }
        } else if desired_replicas < current_replicas {
            let limit = calculate_scale_down_limit_with_behaviors(
                now,
                current_replicas,
                &self.scale_up_events,
                &self.scale_down_events,
                &behavior.scale_down,
            )
            .min(current_replicas);
            let (minimum, reason) = if min_replicas < limit {
                (limit, "ScaleDownLimit")
            } else {
                (min_replicas, "TooFewReplicas")
            };
            if desired_replicas < minimum {
                return (minimum, reason);
            }
        }
        (desired_replicas, "DesiredWithinRange")
    }

    /// `normalizeDesiredReplicasWithBehaviors` (with
    /// `maybeInitScaleDownStabilizationWindow`).
    pub fn normalize_desired_replicas_with_behaviors(
        &mut self,
        now: Millis,
        behavior: &Behavior,
        current_replicas: i32,
        prenormalized: i32,
        min_replicas: i32,
        max_replicas: i32,
    ) -> i32 {
        let down_window = behavior
            .scale_down
            .stabilization_window_seconds
            .unwrap_or(saturate(self.downscale_stabilization_seconds));
        let up_window = behavior.scale_up.stabilization_window_seconds.unwrap_or(0);
        let stabilized = self.stabilize_recommendation_with_behaviors(
            now,
            current_replicas,
            prenormalized,
            up_window,
            down_window,
        );
        self.convert_desired_replicas_with_behavior_rate(
            now,
            behavior,
            current_replicas,
            stabilized,
            min_replicas,
            max_replicas,
        )
        .0
    }

    /// `storeScaleEvent`: nothing without `behavior`; else the change goes
    /// into its direction's list, reusing the (last) entry older than that
    /// direction's longest policy period.
    pub fn store_scale_event(
        &mut self,
        now: Millis,
        behavior: Option<&Behavior>,
        prev_replicas: i32,
        new_replicas: i32,
    ) {
        let Some(behavior) = behavior else {
            return;
        };
        let (events, longest, change) = if new_replicas > prev_replicas {
            (
                &mut self.scale_up_events,
                behavior.scale_up.longest_policy_period(),
                new_replicas.saturating_sub(prev_replicas),
            )
        } else {
            (
                &mut self.scale_down_events,
                behavior.scale_down.longest_policy_period(),
                prev_replicas.saturating_sub(new_replicas),
            )
        };
        mark_scale_events_outdated(now, events, longest);
        let old = events.iter().rposition(|e| e.outdated);
        let event = ScaleEventRecord {
            replica_change: change,
            timestamp: now,
            outdated: false,
        };
        match old {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }

    /// The replica path of `reconcileAutoscaler` for one metric:
    /// `recordInitialRecommendation`; out of bounds, go to the bound without
    /// the metric; at 0 replicas, scaling is disabled; else the metric's
    /// proposal (`metric`, called only then; an error means no change this
    /// sync) through `normalizeDesiredReplicas` (no behavior) or
    /// `normalizeDesiredReplicasWithBehaviors`; a change is stored by
    /// `storeScaleEvent`.
    pub fn reconcile(
        &mut self,
        now: Millis,
        hpa: &HpaSpec,
        current_replicas: i32,
        metric: impl FnOnce() -> Result<i32, CalcError>,
    ) -> Reconciled {
        self.record_initial_recommendation(now, current_replicas);
        let min_replicas = hpa.min_replicas;
        let (desired, metric_desired) = if current_replicas == 0 {
            (0, None)
        } else if current_replicas > hpa.max_replicas {
            (hpa.max_replicas, None)
        } else if current_replicas < min_replicas {
            (min_replicas, None)
        } else {
            let Ok(proposal) = metric() else {
                return Reconciled {
                    metric_desired: None,
                    desired: current_replicas,
                };
            };
            let prenormalized = proposal.max(0);
            let desired = match &hpa.behavior {
                None => self.normalize_desired_replicas(
                    now,
                    current_replicas,
                    prenormalized,
                    min_replicas,
                    hpa.max_replicas,
                ),
                Some(behavior) => self.normalize_desired_replicas_with_behaviors(
                    now,
                    behavior,
                    current_replicas,
                    prenormalized,
                    min_replicas,
                    hpa.max_replicas,
                ),
            };
            (desired, Some(proposal))
        };
        if desired != current_replicas {
            self.store_scale_event(now, hpa.behavior.as_ref(), current_replicas, desired);
        }
        Reconciled {
            metric_desired,
            desired,
        }
    }
}

/// The parts of an HPA's spec the replica path reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    /// `minReplicas` (1 when unset).
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// `behavior`, defaulted; `None` selects the legacy path.
    pub behavior: Option<Behavior>,
}

impl HpaSpec {
    /// `tolerancesForHpa`: the flag, overridden per direction by
    /// `behavior.*.tolerance` when the HPAConfigurableTolerance gate is on.
    pub fn tolerances(&self, flag: f64, configurable_tolerance: bool) -> Tolerances {
        let mut t = Tolerances::uniform(flag);
        if let (Some(behavior), true) = (&self.behavior, configurable_tolerance) {
            if let Some(down) = behavior.scale_down.tolerance {
                t.scale_down = down;
            }
            if let Some(up) = behavior.scale_up.tolerance {
                t.scale_up = up;
            }
        }
        t
    }
}

/// `Quantity.MilliValue()`: a Kubernetes quantity in thousandths, rounded
/// up, saturating at `i64`'s bounds; `None` when `text` is not a quantity.
pub fn milli_value(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1i128, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    // value = digits x 10^(exp10 - fraction digits) x 2^exp2
    let digits: String = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return None;
    }
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let (exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        other => {
            let exponent = other.strip_prefix(['e', 'E'])?;
            (exponent.parse().ok()?, 0)
        }
    };
    // In thousandths: shift by 3.
    let shift = exp10 + 3 - fraction.len() as i32;
    let scaled: Option<i128> = if shift >= 0 {
        10i128
            .checked_pow(shift as u32)
            .and_then(|p| mantissa.checked_mul(p))
            .and_then(|v| v.checked_mul(1i128 << exp2))
    } else {
        let divisor = 10i128.checked_pow((-shift) as u32);
        match divisor {
            None => Some(i128::from(mantissa > 0)),
            Some(divisor) => mantissa
                .checked_mul(1i128 << exp2)
                .map(|v| (v + divisor - 1) / divisor),
        }
    };
    let value = scaled.map_or(i128::MAX, |v| v).saturating_mul(sign);
    Some(value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_values() {
        assert_eq!(milli_value("10"), Some(10_000));
        assert_eq!(milli_value("500m"), Some(500));
        assert_eq!(milli_value("1.5"), Some(1500));
        assert_eq!(milli_value("0.0001"), Some(1), "rounded up");
        assert_eq!(milli_value("1k"), Some(1_000_000));
        assert_eq!(milli_value("1Ki"), Some(1_024_000));
        assert_eq!(milli_value("1e3"), Some(1_000_000));
        assert_eq!(milli_value("1E"), Some(i64::MAX));
        assert_eq!(milli_value("x"), None);
        assert_eq!(milli_value("9Ei"), Some(i64::MAX));
    }

    /// No `behavior`: at most max(2 x current, 4) per sync
    /// (calculateScaleUpLimit).
    #[test]
    fn legacy_scale_up_limit() {
        assert_eq!(calculate_scale_up_limit(1), 4);
        assert_eq!(convert_desired_replicas_with_rules(4, 100, 1, 50).0, 8);
    }
}

#[cfg(test)]
mod ported;
