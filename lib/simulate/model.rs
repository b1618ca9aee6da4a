//! The HorizontalPodAutoscaler controller (autoscaling/v2), one sync at a
//! time, and the pods it scales.
//!
//! "The docs" below is the Kubernetes documentation page "Horizontal Pod
//! Autoscaling" (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/);
//! each rule names the section it follows. Where the docs are silent the
//! controller's code (`pkg/controller/podautoscaler`) decides, and the
//! comment says so.

use serde::Serialize;

use crate::config::App;
use crate::spec::{BehaviorSpec, PolicyKind, ScalingRulesSpec, SelectPolicy};

use super::trace::Trace;

/// Seconds within which an opposite scale event counts as reversing a
/// change, for [`Summary::largest_flap`]: the default scale-down
/// stabilization window, fixed so that settings compare on one scale.
pub const FLAP_WINDOW_SECONDS: u64 = 300;

/// One scaling policy: at most `value` pods, or `value` percent of the
/// replicas at the start of the period, per `period_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `Pods` or `Percent`.
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    /// Pods, or percent.
    pub value: u32,
    /// The period the limit applies to.
    pub period_seconds: u32,
}

/// The resolved rules for one direction (`HPAScalingRules` after the API
/// server's defaulting).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    /// Seconds of past recommendations considered.
    pub stabilization_window_seconds: u32,
    /// How the policies combine.
    pub select_policy: SelectPolicy,
    /// The step limits.
    pub policies: Vec<Policy>,
    /// Whether these are the documented defaults (no rules in the spec).
    pub defaulted: bool,
}

impl Rules {
    /// The docs, "Default Behavior": scale up by the larger of 100 % and 4
    /// pods every 15 s, no stabilization.
    pub fn default_scale_up() -> Rules {
        Rules {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_seconds: 15,
                },
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period_seconds: 15,
                },
            ],
            defaulted: true,
        }
    }

    /// The docs, "Default Behavior": scale down to the minimum at once
    /// (100 % every 15 s), with a 300 s stabilization window.
    pub fn default_scale_down() -> Rules {
        Rules {
            stabilization_window_seconds: 300,
            select_policy: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period_seconds: 15,
            }],
            defaulted: true,
        }
    }

    /// `spec` over `defaults`, field by field, as the API server defaults
    /// `behavior` (docs, "Default Behavior": "not all fields have to be
    /// specified"): an unset window or selectPolicy, or an empty policy
    /// list, takes the default.
    pub fn resolve(spec: Option<&ScalingRulesSpec>, defaults: Rules) -> Rules {
        let Some(spec) = spec else {
            return defaults;
        };
        Rules {
            stabilization_window_seconds: spec
                .stabilization_window_seconds
                .map_or(defaults.stabilization_window_seconds, |s| s.get()),
            select_policy: spec.select_policy.unwrap_or(defaults.select_policy),
            policies: if spec.policies.is_empty() {
                defaults.policies
            } else {
                spec.policies
                    .iter()
                    .map(|p| Policy {
                        kind: p.kind,
                        value: p.value.get(),
                        period_seconds: p.period_seconds.get(),
                    })
                    .collect()
            },
            defaulted: false,
        }
    }
}

/// What the simulated HPA is configured with: an app's target, bounds and
/// resolved behavior.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaler {
    /// Target per-pod average of the metric (requests per second).
    pub target: f64,
    /// `minReplicas`.
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// `behavior.scaleUp`, resolved.
    pub scale_up: Rules,
    /// `behavior.scaleDown`, resolved.
    pub scale_down: Rules,
}

impl Autoscaler {
    /// The HPA the generator writes for `app`.
    pub fn from_app(app: &App) -> Autoscaler {
        Autoscaler::new(
            app.target_average_value.as_f64(),
            app.min_replicas.get(),
            app.max_replicas.get(),
            app.behavior.as_ref(),
        )
    }

    /// An HPA from its parts; `behavior: None` means the documented
    /// defaults in both directions.
    pub fn new(
        target: f64,
        min_replicas: u32,
        max_replicas: u32,
        behavior: Option<&BehaviorSpec>,
    ) -> Autoscaler {
        let behavior = behavior.cloned().unwrap_or_default();
        Autoscaler {
            target,
            min_replicas,
            max_replicas,
            scale_up: Rules::resolve(behavior.scale_up.as_ref(), Rules::default_scale_up()),
            scale_down: Rules::resolve(behavior.scale_down.as_ref(), Rules::default_scale_down()),
        }
    }
}

/// Simulation settings that are not part of the HPA.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimOptions {
    /// Seconds from a pod's creation until it is ready and takes load.
    pub pod_startup_seconds: u64,
    /// The controller's `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period_seconds: u64,
    /// The controller's `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            pod_startup_seconds: 30,
            sync_period_seconds: 15,
            tolerance: 0.1,
        }
    }
}

/// The state after one controller sync.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Seconds since the start of the trace.
    pub time: u64,
    /// Total requests per second.
    pub load: f64,
    /// The metric's recommendation (`desiredReplicas` of the algorithm,
    /// before stabilization, policies and bounds); the current replicas when
    /// the metric could not be read or was within tolerance.
    pub desired: u32,
    /// Replicas after this sync (the Deployment's `spec.replicas`).
    pub replicas: u32,
    /// Ready pods after this sync (the ones taking load).
    pub ready: u32,
    /// Load per ready pod after this sync.
    pub per_pod_load: f64,
}

/// A change of the replica count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleEvent {
    /// Seconds since the start of the trace.
    pub time: u64,
    /// Replicas before.
    pub from: u32,
    /// Replicas after.
    pub to: u32,
}

/// The largest flap: a change that opposite changes undid within
/// [`FLAP_WINDOW_SECONDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Flap {
    /// When the reversed change happened.
    pub time: u64,
    /// How many of its replicas opposite changes took back within the
    /// window: `min(|change|, sum of |opposite changes| in the window)`.
    pub replicas: u32,
}

/// What a run cost and how well it kept up.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Seconds simulated.
    pub duration_seconds: u64,
    /// Highest load replayed (requests per second).
    pub peak_load: f64,
    /// Most replicas at any time.
    pub peak_replicas: u32,
    /// When the peak was first reached.
    pub peak_at: u64,
    /// Sum over seconds of the replicas (ready or starting): what the run costs.
    pub pod_seconds: u64,
    /// Seconds in which the load per ready pod was above the target.
    pub seconds_above_target: u64,
    /// Seconds in which the load per ready pod was above 1.5 x the target.
    pub seconds_above_1_5x_target: u64,
    /// Number of replica changes.
    pub scale_events: usize,
    /// The largest change reversed within [`FLAP_WINDOW_SECONDS`]; `None`
    /// when no change was reversed.
    pub largest_flap: Option<Flap>,
}

/// One run of the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    /// The HPA simulated.
    pub autoscaler: Autoscaler,
    /// The simulation settings.
    pub options: SimOptions,
    /// The state after every sync.
    pub series: Vec<Sample>,
    /// Every replica change.
    pub events: Vec<ScaleEvent>,
    /// The totals.
    pub summary: Summary,
    /// The state of every second, for charts (not serialized: the JSON
    /// output carries the per-sync `series`).
    #[serde(skip)]
    pub seconds: Vec<Second>,
}

/// The state during one second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Second {
    /// Total requests per second.
    pub load: f64,
    /// Replicas, ready or starting.
    pub replicas: u32,
    /// Ready pods.
    pub ready: u32,
    /// Load per ready pod (infinite when load arrives and no pod is ready).
    pub per_pod_load: f64,
}

/// Replays `trace` through the HPA that the generator writes for `app`.
pub fn simulate(app: &App, trace: &Trace, options: &SimOptions) -> Simulation {
    run(&Autoscaler::from_app(app), trace, options)
}

/// Replays `trace` through `autoscaler`, one second at a time.
///
/// Each second: pods whose startup is over become ready; at every sync
/// period (from second 0) the controller reads the metric and may scale;
/// then the second's load is spread evenly over the ready pods and counted.
/// The run starts with `minReplicas` ready pods and ends at the trace's
/// last point.
pub fn run(autoscaler: &Autoscaler, trace: &Trace, options: &SimOptions) -> Simulation {
    let duration = trace.duration_seconds().ceil() as u64;
    let sync_period = options.sync_period_seconds.max(1);
    let mut controller = Controller::new(autoscaler.clone(), options.tolerance);
    // Each pod's ready time; the run starts at minReplicas, all ready.
    let mut pods: Vec<u64> = vec![0; autoscaler.min_replicas.max(1) as usize];
    let mut series = Vec::new();
    let mut events = Vec::new();
    let mut seconds = Vec::with_capacity(duration as usize);
    let mut summary = Summary {
        duration_seconds: duration,
        peak_load: 0.0,
        peak_replicas: pods.len() as u32,
        peak_at: 0,
        pod_seconds: 0,
        seconds_above_target: 0,
        seconds_above_1_5x_target: 0,
        scale_events: 0,
        largest_flap: None,
    };
    for now in 0..duration {
        let load = trace.load_at(now as f64);
        if now % sync_period == 0 {
            let ready = pods.iter().filter(|&&at| at <= now).count() as u32;
            let current = pods.len() as u32;
            let decision = controller.sync(now, current, ready, load);
            if decision.replicas > current {
                // The docs, "Algorithm details": a new pod is not ready at
                // first; here it takes load after --pod-startup.
                pods.extend(std::iter::repeat_n(
                    now + options.pod_startup_seconds,
                    (decision.replicas - current) as usize,
                ));
            } else if decision.replicas < current {
                // Scale down: the ReplicaSet deletes not-ready pods first,
                // then the newest; they leave at once.
                pods.sort_unstable();
                pods.truncate(decision.replicas as usize);
            }
            if decision.replicas != current {
                events.push(ScaleEvent {
                    time: now,
                    from: current,
                    to: decision.replicas,
                });
            }
            let ready = pods.iter().filter(|&&at| at <= now).count() as u32;
            series.push(Sample {
                time: now,
                load,
                desired: decision.recommendation,
                replicas: decision.replicas,
                ready,
                per_pod_load: per_pod(load, ready),
            });
        }
        let replicas = pods.len() as u32;
        let ready = pods.iter().filter(|&&at| at <= now).count() as u32;
        let per_pod_load = per_pod(load, ready);
        seconds.push(Second {
            load,
            replicas,
            ready,
            per_pod_load,
        });
        summary.peak_load = summary.peak_load.max(load);
        summary.pod_seconds += u64::from(replicas);
        if per_pod_load > autoscaler.target {
            summary.seconds_above_target += 1;
        }
        if per_pod_load > 1.5 * autoscaler.target {
            summary.seconds_above_1_5x_target += 1;
        }
        if replicas > summary.peak_replicas {
            summary.peak_replicas = replicas;
            summary.peak_at = now;
        }
    }
    summary.scale_events = events.len();
    summary.largest_flap = largest_flap(&events);
    Simulation {
        autoscaler: autoscaler.clone(),
        options: options.clone(),
        series,
        events,
        summary,
        seconds,
    }
}

fn per_pod(load: f64, ready: u32) -> f64 {
    if ready == 0 {
        if load > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    } else {
        load / f64::from(ready)
    }
}

/// For each event, how much of it opposite events undid within
/// [`FLAP_WINDOW_SECONDS`] after it; the largest (earliest on ties).
fn largest_flap(events: &[ScaleEvent]) -> Option<Flap> {
    let change = |e: &ScaleEvent| i64::from(e.to) - i64::from(e.from);
    let mut best: Option<Flap> = None;
    for (index, event) in events.iter().enumerate() {
        let own = change(event);
        let undone: i64 = events[index + 1..]
            .iter()
            .take_while(|later| later.time <= event.time + FLAP_WINDOW_SECONDS)
            .map(change)
            .filter(|&c| c.signum() == -own.signum())
            .map(i64::abs)
            .sum();
        let replicas = own.abs().min(undone) as u32;
        if replicas > 0 && best.is_none_or(|b| replicas > b.replicas) {
            best = Some(Flap {
                time: event.time,
                replicas,
            });
        }
    }
    best
}

/// What one sync decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The metric's recommendation (before behavior and bounds).
    pub recommendation: u32,
    /// The new replica count.
    pub replicas: u32,
}

/// The controller's memory for one HPA: past recommendations and scale
/// events.
#[derive(Clone, Debug)]
pub(crate) struct Controller {
    autoscaler: Autoscaler,
    tolerance: f64,
    recommendations: Vec<(u64, u32)>,
    scale_up_events: Vec<(u64, u32)>,
    scale_down_events: Vec<(u64, u32)>,
}

impl Controller {
    pub(crate) fn new(autoscaler: Autoscaler, tolerance: f64) -> Controller {
        Controller {
            autoscaler,
            tolerance,
            recommendations: Vec::new(),
            scale_up_events: Vec::new(),
            scale_down_events: Vec::new(),
        }
    }

    /// One sync at `now` with `current` replicas of which `ready` are
    /// ready, and `load` requests per second spread over the ready ones.
    pub(crate) fn sync(&mut self, now: u64, current: u32, ready: u32, load: f64) -> Decision {
        let hpa = &self.autoscaler;
        // The controller's reconcileAutoscaler: outside the bounds, go to the
        // nearest bound without reading the metric (docs, "Algorithm
        // details": minReplicas/maxReplicas bound every result).
        if current > hpa.max_replicas || current < hpa.min_replicas {
            let replicas = current.clamp(hpa.min_replicas, hpa.max_replicas);
            self.record_event(now, current, replicas);
            return Decision {
                recommendation: replicas,
                replicas,
            };
        }
        let Some(recommendation) =
            metric_recommendation(current, ready, load, hpa.target, self.tolerance)
        else {
            // No ready pod reports the metric: the controller gives up this
            // sync and changes nothing.
            return Decision {
                recommendation: current,
                replicas: current,
            };
        };
        let stabilized = self.stabilize(now, current, recommendation);
        let replicas = self.limit_rate(now, current, stabilized);
        self.record_event(now, current, replicas);
        Decision {
            recommendation,
            replicas,
        }
    }

    /// The docs, "Stabilization window": "the highest recommendation within
    /// the [scale-down] window" is used when scaling down, and (for
    /// `scaleUp.stabilizationWindowSeconds`) the lowest within the scale-up
    /// window when scaling up. As in the controller, a recommendation counts
    /// while it is newer than `now - window`, this sync's included.
    fn stabilize(&mut self, now: u64, current: u32, recommendation: u32) -> u32 {
        let up_window = u64::from(self.autoscaler.scale_up.stabilization_window_seconds);
        let down_window = u64::from(self.autoscaler.scale_down.stabilization_window_seconds);
        let within = |time: u64, window: u64| time + window > now;
        let mut up = recommendation;
        let mut down = recommendation;
        for &(time, past) in &self.recommendations {
            if within(time, up_window) {
                up = up.min(past);
            }
            if within(time, down_window) {
                down = down.max(past);
            }
        }
        let horizon = up_window.max(down_window);
        self.recommendations
            .retain(|&(time, _)| time + horizon > now);
        self.recommendations.push((now, recommendation));
        current.max(up).min(down)
    }

    /// The docs, "Scaling policies": each policy allows a change relative
    /// to the replicas at the start of its period (the current count less
    /// this period's scale events); `selectPolicy` picks the policy
    /// allowing the most change (`Max`, the default) or the least (`Min`),
    /// and `Disabled` stops scaling in that direction. Then the bounds
    /// (docs, "Algorithm details").
    fn limit_rate(&self, now: u64, current: u32, desired: u32) -> u32 {
        let hpa = &self.autoscaler;
        let changed_in = |events: &[(u64, u32)], period: u32| -> i64 {
            events
                .iter()
                .filter(|&&(time, _)| time + u64::from(period) > now)
                .map(|&(_, change)| i64::from(change))
                .sum()
        };
        let period_start = |period: u32| {
            i64::from(current) - changed_in(&self.scale_up_events, period)
                + changed_in(&self.scale_down_events, period)
        };
        let up = match desired.cmp(&current) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => return desired,
        };
        let rules = if up { &hpa.scale_up } else { &hpa.scale_down };
        let limit = if rules.select_policy == SelectPolicy::Disabled {
            i64::from(current)
        } else {
            let proposals = rules.policies.iter().map(|policy| {
                let start = period_start(policy.period_seconds);
                let value = i64::from(policy.value);
                let fraction = f64::from(policy.value) / 100.0;
                match (policy.kind, up) {
                    (PolicyKind::Pods, true) => start + value,
                    (PolicyKind::Pods, false) => start - value,
                    // Rounded up on the way up (so a small percentage still
                    // adds a pod) and truncated on the way down, as in the
                    // controller.
                    (PolicyKind::Percent, true) => (start as f64 * (1.0 + fraction)).ceil() as i64,
                    (PolicyKind::Percent, false) => (start as f64 * (1.0 - fraction)) as i64,
                }
            });
            select(rules.select_policy == SelectPolicy::Min, proposals, up)
        };
        if up {
            let allowed = limit
                .max(i64::from(current))
                .min(i64::from(hpa.max_replicas)) as u32;
            desired.min(allowed)
        } else {
            let allowed = limit
                .min(i64::from(current))
                .max(i64::from(hpa.min_replicas)) as u32;
            desired.max(allowed)
        }
    }

    fn record_event(&mut self, now: u64, from: u32, to: u32) {
        let longest = |rules: &Rules| {
            rules
                .policies
                .iter()
                .map(|p| u64::from(p.period_seconds))
                .max()
                .unwrap_or(0)
        };
        let up_horizon =
            longest(&self.autoscaler.scale_up).max(longest(&self.autoscaler.scale_down));
        self.scale_up_events
            .retain(|&(time, _)| time + up_horizon > now);
        self.scale_down_events
            .retain(|&(time, _)| time + up_horizon > now);
        if to > from {
            self.scale_up_events.push((now, to - from));
        } else if to < from {
            self.scale_down_events.push((now, from - to));
        }
    }
}

/// The replica count the proposals allow: the most change (`Max`) or the
/// least (`Min`). Scaling up, more change is a higher count; scaling down,
/// a lower one.
fn select(least_change: bool, proposals: impl Iterator<Item = i64>, up: bool) -> i64 {
    let highest = up != least_change;
    let folded = if highest {
        proposals.max()
    } else {
        proposals.min()
    };
    folded.unwrap_or(0)
}

/// The docs, "Algorithm details", for a Pods metric with an AverageValue
/// target: `desiredReplicas = ceil(currentReplicas * currentMetricValue /
/// desiredMetricValue)`, where the metric is the average over the pods that
/// report it (here the ready ones, each carrying `load / ready`); no change
/// when the ratio is within the tolerance (0.1). Pods that are not yet ready
/// are set aside, and "if the workload would have scaled up", counted as
/// using 0 of the metric, which damps the step; if that reverses the
/// direction or lands within the tolerance, nothing changes. `None` when
/// no pod is ready (no metric).
pub(crate) fn metric_recommendation(
    current: u32,
    ready: u32,
    load: f64,
    target: f64,
    tolerance: f64,
) -> Option<u32> {
    if ready == 0 {
        return None;
    }
    let ceil = |x: f64| (x - 1e-9).ceil().max(0.0) as u32;
    let average = load / f64::from(ready);
    let ratio = average / target;
    let unready = current.saturating_sub(ready);
    if unready == 0 || ratio <= 1.0 {
        if (ratio - 1.0).abs() <= tolerance {
            return Some(current);
        }
        return Some(ceil(ratio * f64::from(ready)));
    }
    // Scaling up with not-yet-ready pods: they count as using 0.
    let counted = f64::from(ready + unready);
    let new_ratio = load / counted / target;
    if (new_ratio - 1.0).abs() <= tolerance || new_ratio < 1.0 {
        return Some(current);
    }
    let replicas = ceil(new_ratio * counted);
    Some(replicas.max(current))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ScalingPolicySpec;
    use crate::values::{PeriodSeconds, PolicyValue, StabilizationWindowSeconds};

    fn policy(kind: PolicyKind, value: u32, period: u32) -> ScalingPolicySpec {
        ScalingPolicySpec {
            kind,
            value: PolicyValue::new(value.into()).unwrap(),
            period_seconds: PeriodSeconds::new(period.into()).unwrap(),
        }
    }

    fn rules(
        window: Option<u32>,
        select: Option<SelectPolicy>,
        policies: Vec<ScalingPolicySpec>,
    ) -> ScalingRulesSpec {
        ScalingRulesSpec {
            stabilization_window_seconds: window
                .map(|w| StabilizationWindowSeconds::new(w.into()).unwrap()),
            select_policy: select,
            policies,
        }
    }

    fn controller(min: u32, max: u32, behavior: Option<BehaviorSpec>) -> Controller {
        Controller::new(Autoscaler::new(0.1, min, max, behavior.as_ref()), 0.1)
    }

    /// (a) The docs' example: "if the current metric value is 200m, and the
    /// desired value is 100m, the number of replicas will be doubled".
    #[test]
    fn doubles_at_twice_the_target() {
        assert_eq!(metric_recommendation(1, 1, 0.2, 0.1, 0.1), Some(2));
        let mut hpa = controller(1, 10, None);
        assert_eq!(hpa.sync(0, 1, 1, 0.2).replicas, 2);
        // And "if the current value is instead 50m, you'll halve the number
        // of replicas" (after the stabilization window, here 0 s).
        let behavior = BehaviorSpec {
            scale_up: None,
            scale_down: Some(rules(Some(0), None, vec![])),
        };
        let mut hpa = controller(1, 10, Some(behavior));
        assert_eq!(hpa.sync(0, 4, 4, 4.0 * 0.05).replicas, 2);
    }

    /// (b) The docs: the controller skips scaling "if the ratio is
    /// sufficiently close to 1.0 (within a globally-configurable tolerance,
    /// 0.1 by default)".
    #[test]
    fn within_tolerance_nothing_moves() {
        let mut hpa = controller(1, 10, None);
        // 4 pods at 105m against 100m: ratio 1.05 would give ceil(4.2) = 5.
        assert_eq!(metric_recommendation(4, 4, 0.42, 0.1, 0.1), Some(4));
        assert_eq!(hpa.sync(0, 4, 4, 0.42).replicas, 4);
        // At 0.95 the plain formula would give ceil(3.8) = 4 anyway; at 0.91
        // (inside) nothing moves either, at 0.89 it does.
        assert_eq!(metric_recommendation(10, 10, 9.1 * 0.1, 0.1, 0.1), Some(10));
        assert_eq!(metric_recommendation(10, 10, 8.9 * 0.1, 0.1, 0.1), Some(9));
        // Just outside: ratio 1.2 moves.
        assert_eq!(metric_recommendation(4, 4, 0.48, 0.1, 0.1), Some(5));
    }

    /// (c) The docs, "Stabilization window": scaling down uses the highest
    /// recommendation of the last 300 s.
    #[test]
    fn scale_down_keeps_the_highest_recommendation_of_the_window() {
        let mut hpa = controller(1, 20, None);
        // A recommendation of 8 at t=0 (from 8 pods at target).
        assert_eq!(hpa.sync(0, 8, 8, 0.8).replicas, 8);
        // The load drops: the metric recommends 2, but 8 is in the window.
        for now in (15..300).step_by(15) {
            let decision = hpa.sync(now, 8, 8, 0.2);
            assert_eq!(decision.recommendation, 2, "t={now}");
            assert_eq!(decision.replicas, 8, "t={now}");
        }
        // At t=300 the 8 of t=0 is 300 s old: out of the window.
        assert_eq!(hpa.sync(300, 8, 8, 0.2).replicas, 2);

        // The highest recommendation inside the window wins.
        let mut hpa = controller(1, 20, None);
        assert_eq!(hpa.sync(0, 10, 10, 1.0).replicas, 10); // recommends 10
        assert_eq!(hpa.sync(100, 10, 10, 0.8).replicas, 10); // recommends 8
        assert_eq!(hpa.sync(200, 10, 10, 0.3).replicas, 10); // recommends 3
        assert_eq!(hpa.sync(300, 10, 10, 0.3).replicas, 8, "the 10 of t=0 left");
        assert_eq!(
            hpa.sync(385, 8, 8, 0.3).replicas,
            8,
            "the 8 of t=100 is 285 s old"
        );
        assert_eq!(
            hpa.sync(400, 8, 8, 0.3).replicas,
            3,
            "the 8 of t=100 is 300 s old"
        );
    }

    /// (d) The docs, "Scaling policies": Pods and Percent policies each
    /// limit a step relative to the replicas at the start of the period;
    /// selectPolicy Min takes the smaller change.
    #[test]
    fn policies_limit_a_step() {
        let up = |select, policies| BehaviorSpec {
            scale_up: Some(rules(None, select, policies)),
            scale_down: None,
        };
        // Pods 4 per 60 s from 1: at most 5, and no more within the 60 s.
        let mut hpa = controller(
            1,
            100,
            Some(up(None, vec![policy(PolicyKind::Pods, 4, 60)])),
        );
        assert_eq!(hpa.sync(0, 1, 1, 10.0).replicas, 5);
        assert_eq!(hpa.sync(15, 5, 5, 10.0).replicas, 5);
        assert_eq!(hpa.sync(45, 5, 5, 10.0).replicas, 5);
        assert_eq!(hpa.sync(60, 5, 5, 10.0).replicas, 9, "a new period");
        // Percent 50 per 60 s from 10: at most 15.
        let mut hpa = controller(
            1,
            100,
            Some(up(None, vec![policy(PolicyKind::Percent, 50, 60)])),
        );
        assert_eq!(hpa.sync(0, 10, 10, 10.0).replicas, 15);
        // Both, Max (default): the larger change, 10 + 4 < 15.
        let both = vec![
            policy(PolicyKind::Pods, 4, 60),
            policy(PolicyKind::Percent, 50, 60),
        ];
        let mut hpa = controller(1, 100, Some(up(None, both.clone())));
        assert_eq!(hpa.sync(0, 10, 10, 10.0).replicas, 15);
        // Min: the smaller change.
        let mut hpa = controller(1, 100, Some(up(Some(SelectPolicy::Min), both)));
        assert_eq!(hpa.sync(0, 10, 10, 10.0).replicas, 14);
        // The docs' scale-down example: Pods 4 and Percent 10 per 60 s from
        // 80 pods: Max allows 8 pods (10 %) in the first step.
        let down = BehaviorSpec {
            scale_up: None,
            scale_down: Some(rules(
                Some(0),
                None,
                vec![
                    policy(PolicyKind::Pods, 4, 60),
                    policy(PolicyKind::Percent, 10, 60),
                ],
            )),
        };
        let mut hpa = controller(1, 100, Some(down));
        assert_eq!(hpa.sync(0, 80, 80, 0.1).replicas, 72);
        assert_eq!(hpa.sync(15, 72, 72, 0.1).replicas, 72, "same period");
        assert_eq!(
            hpa.sync(60, 72, 72, 0.1).replicas,
            64,
            "72 * 0.9 = 64.8, truncated"
        );
    }

    /// (e) The docs, "Disable scale down" (and `Disabled` for scale up):
    /// no change in that direction.
    #[test]
    fn disabled_prevents_scaling_that_way() {
        let disabled = Some(rules(None, Some(SelectPolicy::Disabled), vec![]));
        let mut hpa = controller(
            1,
            20,
            Some(BehaviorSpec {
                scale_up: None,
                scale_down: disabled.clone(),
            }),
        );
        assert_eq!(hpa.sync(0, 10, 10, 0.1).replicas, 10);
        assert_eq!(hpa.sync(600, 10, 10, 0.1).replicas, 10);
        assert_eq!(hpa.sync(615, 10, 10, 2.0).replicas, 20, "up still works");
        let mut hpa = controller(
            1,
            20,
            Some(BehaviorSpec {
                scale_up: disabled,
                scale_down: None,
            }),
        );
        assert_eq!(hpa.sync(0, 2, 2, 2.0).replicas, 2);
    }

    /// Defaults: 100 % or 4 pods per 15 s, whichever is more.
    #[test]
    fn default_scale_up_is_the_larger_of_double_and_four_pods() {
        let mut hpa = controller(1, 100, None);
        assert_eq!(hpa.sync(0, 1, 1, 10.0).replicas, 5);
        let mut hpa = controller(1, 100, None);
        assert_eq!(hpa.sync(0, 10, 10, 10.0).replicas, 20);
    }

    /// (f) Pods that are still starting take no load; the controller counts
    /// them at 0 when scaling up.
    #[test]
    fn pod_startup_delays_load_spreading() {
        let trace = Trace::new(vec![(0.0, 40.0), (120.0, 40.0)]).unwrap();
        let autoscaler = Autoscaler::new(10.0, 1, 10, None);
        let options = SimOptions {
            pod_startup_seconds: 30,
            ..SimOptions::default()
        };
        let sim = run(&autoscaler, &trace, &options);
        // t=0: 1 pod at 40 req/s: scale to 4 (at most +4), 3 starting.
        assert_eq!(sim.series[0].replicas, 4);
        assert_eq!(sim.series[0].ready, 1);
        assert_eq!(sim.series[0].per_pod_load, 40.0);
        // t=15: still 1 ready; 40 over 4 counted pods is on target: no change.
        assert_eq!((sim.series[1].replicas, sim.series[1].ready), (4, 1));
        assert_eq!(sim.series[1].desired, 4);
        // t=30: ready, the load is spread.
        assert_eq!((sim.series[2].ready, sim.series[2].per_pod_load), (4, 10.0));
        assert_eq!(sim.summary.seconds_above_target, 30);
        // Without startup the load spreads at once.
        let instant = SimOptions {
            pod_startup_seconds: 0,
            ..SimOptions::default()
        };
        let sim = run(&autoscaler, &trace, &instant);
        assert_eq!(sim.series[0].ready, 4);
        assert_eq!(sim.summary.seconds_above_target, 0);
    }

    #[test]
    fn unready_pods_damp_a_scale_up() {
        // 1 ready at 100 req/s, 4 starting, target 10: counting the 4 at 0
        // gives a ratio of 2 over 5 pods: 10, not 5 * 10 = 50.
        assert_eq!(metric_recommendation(5, 1, 100.0, 10.0, 0.1), Some(10));
        // Counting them at 0 lands within tolerance: no change.
        assert_eq!(metric_recommendation(5, 1, 52.0, 10.0, 0.1), Some(5));
    }

    #[test]
    fn flaps_are_changes_reversed_within_the_window() {
        let event = |time, from, to| ScaleEvent { time, from, to };
        assert_eq!(largest_flap(&[event(0, 1, 5), event(400, 5, 1)]), None);
        assert_eq!(
            largest_flap(&[
                event(0, 1, 5),
                event(100, 5, 3),
                event(200, 3, 8),
                event(300, 8, 2)
            ]),
            Some(Flap {
                time: 200,
                replicas: 5
            })
        );
        assert_eq!(
            largest_flap(&[event(0, 1, 5), event(100, 5, 3)]),
            Some(Flap {
                time: 0,
                replicas: 2
            })
        );
    }

    #[test]
    fn behavior_fields_default_one_by_one() {
        let behavior = BehaviorSpec {
            scale_up: None,
            scale_down: Some(rules(None, Some(SelectPolicy::Min), vec![])),
        };
        let hpa = Autoscaler::new(1.0, 1, 2, Some(&behavior));
        assert_eq!(hpa.scale_up, Rules::default_scale_up());
        assert_eq!(hpa.scale_down.stabilization_window_seconds, 300);
        assert_eq!(hpa.scale_down.select_policy, SelectPolicy::Min);
        assert_eq!(
            hpa.scale_down.policies,
            Rules::default_scale_down().policies
        );
        assert!(!hpa.scale_down.defaulted);
    }
}
