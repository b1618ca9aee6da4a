//! The controller's own unit-test tables (kubernetes
//! pkg/controller/podautoscaler, `horizontal_test.go` and
//! `replica_calculator_test.go` at the commit named in
//! `simulate::controller`), each case named by its source test and case.
//! Go's tests take `time.Now()` again after building their history, so the
//! clock here is 1 ms after the history's "now".

#![allow(clippy::type_complexity)] // the tables, one tuple per case

use super::*;
use crate::spec::{PolicyKind, SelectPolicy};

const NOW: Millis = 1;

/// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, window)`.
fn rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    window: i32,
) -> ScalingRules {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(Policy {
            kind: PolicyKind::Pods,
            value: pods,
            period_seconds: pods_period,
        });
    }
    if percent != 0 {
        policies.push(Policy {
            kind: PolicyKind::Percent,
            value: percent,
            period_seconds: percent_period,
        });
    }
    ScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: SelectPolicy::Max,
        policies,
        tolerance: None,
    }
}

/// `generateEventsUniformDistribution`: the segment centres, truncated
/// to whole seconds as Go's `time.Duration(float)` does.
fn uniform(raw: &[i32], period: i64) -> Vec<ScaleEventRecord> {
    let segment = period as f64 / raw.len() as f64;
    raw.iter()
        .enumerate()
        .map(|(i, &change)| {
            let ago = (period as f64 - segment * (i as f64 + 1.0) + segment / 2.0).trunc() as i64;
            ScaleEventRecord {
                replica_change: change,
                timestamp: -ago * 1000,
                outdated: false,
            }
        })
        .collect()
}

fn rec(recommendation: i32, ago_seconds: i64) -> Recommendation {
    Recommendation {
        recommendation,
        timestamp: -ago_seconds * 1000,
    }
}

/// TestConvertDesiredReplicasWithRules, at the production
/// scaleUpLimitFactor 2: the last case's `calculateScaleUpLimit(3)` is
/// 6 here (24 under the test's `init()` factor of 8).
#[test]
fn test_convert_desired_replicas_with_rules() {
    for (current, desired, min, max, expected, condition, case) in [
        (
            5,
            7,
            3,
            8,
            7,
            "DesiredWithinRange",
            "prenormalized desired replicas within range",
        ),
        (
            3,
            1,
            2,
            8,
            2,
            "TooFewReplicas",
            "prenormalized desired replicas < minReplicas",
        ),
        (
            1,
            0,
            0,
            10,
            0,
            "DesiredWithinRange",
            "prenormalized desired zeroed replicas within range",
        ),
        (
            20,
            1000,
            1,
            10,
            10,
            "TooManyReplicas",
            "maxReplicas is the limit because maxReplicas < scaleUpLimit",
        ),
        (
            3,
            1000,
            1,
            2000,
            6,
            "ScaleUpLimit",
            "scaleUpLimit is the limit because scaleUpLimit < maxReplicas",
        ),
    ] {
        assert_eq!(calculate_scale_up_limit(3), 6);
        let got = convert_desired_replicas_with_rules(current, desired, min, max);
        assert_eq!(
            got,
            (expected, condition),
            "TestConvertDesiredReplicasWithRules/{case}"
        );
    }
}

/// TestCalculateScaleUpLimitWithScalingRules.
#[test]
fn test_calculate_scale_up_limit_with_scaling_rules() {
    let mut r = rules(2, 60, 50, 60, 300);
    r.select_policy = SelectPolicy::Min;
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(NOW, 1, &[], &[], &r),
        2
    );
}

/// TestCalculateScaleDownLimitWithBehaviors.
#[test]
fn test_calculate_scale_down_limit_with_behaviors() {
    let mut r = rules(2, 60, 50, 60, 300);
    r.select_policy = SelectPolicy::Min;
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(NOW, 5, &[], &[], &r),
        3
    );
}

/// TestNormalizeDesiredReplicas (`stabilizeRecommendation`, window 5 m).
#[test]
fn test_normalize_desired_replicas() {
    for (case, history, desired, expected, log_length) in [
        ("empty log", vec![], 5, 5, 1),
        ("stabilize", vec![rec(4, 120), rec(5, 60)], 3, 5, 3),
        ("no stabilize", vec![rec(1, 120), rec(2, 60)], 3, 3, 3),
        (
            "no stabilize - old recommendations",
            vec![rec(10, 600), rec(9, 540)],
            3,
            3,
            2,
        ),
        (
            "stabilize - old recommendations",
            vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
            3,
            5,
            4,
        ),
    ] {
        let mut hc = Controller::new(300);
        hc.recommendations = Some(history);
        let got = hc.stabilize_recommendation(NOW, desired);
        assert_eq!(got, expected, "TestNormalizeDesiredReplicas/{case}");
        assert_eq!(
            hc.recommendations.unwrap().len(),
            log_length,
            "TestNormalizeDesiredReplicas/{case}"
        );
    }
}

/// TestNormalizeDesiredReplicasWithBehavior
/// (`stabilizeRecommendationWithBehaviors`).
#[test]
fn test_normalize_desired_replicas_with_behavior() {
    // (case, history, current, desired, expected, stored recommendations, up window, down window)
    let cases: Vec<(
        &str,
        Vec<Recommendation>,
        i32,
        i32,
        i32,
        Option<Vec<i32>>,
        i32,
        i32,
    )> = vec![
        (
            "empty recommendations for scaling down",
            vec![],
            100,
            5,
            5,
            Some(vec![5]),
            0,
            0,
        ),
        (
            "simple scale down stabilization",
            vec![rec(4, 120), rec(5, 60)],
            100,
            3,
            5,
            Some(vec![4, 5, 3]),
            0,
            180,
        ),
        (
            "simple scale up stabilization",
            vec![rec(4, 120), rec(5, 60)],
            1,
            7,
            4,
            Some(vec![4, 5, 7]),
            300,
            0,
        ),
        (
            "no scale down stabilization",
            vec![rec(1, 120), rec(2, 60)],
            100,
            3,
            3,
            Some(vec![1, 2, 3]),
            300,
            0,
        ),
        (
            "no scale up stabilization",
            vec![rec(4, 120), rec(5, 60)],
            1,
            3,
            3,
            Some(vec![4, 5, 3]),
            0,
            300,
        ),
        (
            "no scale down stabilization, reuse recommendation element",
            vec![rec(10, 600), rec(9, 540)],
            100,
            3,
            3,
            Some(vec![10, 3]),
            0,
            0,
        ),
        (
            "no scale up stabilization, reuse recommendation element",
            vec![rec(10, 600), rec(9, 540)],
            1,
            100,
            100,
            Some(vec![10, 100]),
            0,
            0,
        ),
        (
            "scale down stabilization, reuse one of obsolete recommendation element",
            vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
            100,
            3,
            5,
            Some(vec![10, 4, 5, 3]),
            0,
            180,
        ),
        (
            "scale up stabilization, reuse one of obsolete recommendation element",
            vec![rec(10, 6000), rec(6, 60), rec(5, 120), rec(9, 180)],
            1,
            100,
            5,
            Some(vec![100, 6, 5, 9]),
            300,
            0,
        ),
        (
            "scale up and down stabilization, do not scale up when prenormalized rec goes down",
            vec![rec(2, 6000), rec(3, 180)],
            2,
            1,
            2,
            None,
            300,
            300,
        ),
        (
            "scale up and down stabilization, do not scale down when prenormalized rec goes up",
            vec![rec(2, 6000), rec(1, 180)],
            2,
            3,
            2,
            None,
            300,
            300,
        ),
    ];
    for (case, history, current, desired, expected, stored, up, down) in cases {
        let mut hc = Controller::new(300);
        hc.recommendations = Some(history);
        let got = hc.stabilize_recommendation_with_behaviors(NOW, current, desired, up, down);
        assert_eq!(
            got, expected,
            "TestNormalizeDesiredReplicasWithBehavior/{case}"
        );
        if let Some(stored) = stored {
            let got: Vec<i32> = hc
                .recommendations
                .unwrap()
                .iter()
                .map(|r| r.recommendation)
                .collect();
            assert_eq!(
                got, stored,
                "TestNormalizeDesiredReplicasWithBehavior/{case}: stored"
            );
        }
    }
}

/// TestScalingWithRules (`convertDesiredReplicasWithBehaviorRate` with
/// `GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules` defaults).
#[test]
fn test_scaling_with_rules() {
    type Case = (
        &'static str,
        Vec<ScaleEventRecord>,
        Vec<ScaleEventRecord>,
        i32,
        i32,
        Option<ScalingRules>,
        Option<ScalingRules>,
        i32,
        i32,
        i32,
        &'static str,
    );
    let e = Vec::new;
    let cases: Vec<Case> = vec![
        ("prenormalized desired replicas within range", e(), e(), 3, 8, None, None, 5, 7, 7, "DesiredWithinRange"),
        ("prenormalized desired replicas < minReplicas", e(), e(), 2, 8, None, None, 3, 1, 2, "TooFewReplicas"),
        ("prenormalized desired replicas within range when minReplicas is 0", e(), e(), 0, 10, None, None, 1, 0, 0, "DesiredWithinRange"),
        ("maxReplicas is the limit because maxReplicas < scaleUpLimit", e(), e(), 1, 10, None, None, 20, 1000, 10, "TooManyReplicas"),
        ("desired replica count is more than the maximum replica count", e(), e(), 100, 150, None, None, 100, 1000, 150, "TooManyReplicas"),
        ("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", e(), e(), 1, 2000, Some(rules(0, 0, 1, 60, 0)), None, 3, 1000, 4, "ScaleUpLimit"),
        ("scaleUp with default behavior", e(), e(), 1, 1000, None, None, 10, 50, 20, "ScaleUpLimit"),
        ("scaleUp with pods policy larger than percent policy", e(), e(), 1, 1000, Some(rules(100, 60, 100, 60, 0)), None, 10, 500, 110, "ScaleUpLimit"),
        ("scaleUp with percent policy larger than pods policy", e(), e(), 1, 1000, Some(rules(2, 60, 100, 60, 0)), None, 10, 500, 20, "ScaleUpLimit"),
        ("scaleUp with spec MaxReplicas limitation with large pod policy", e(), e(), 1, 1000, Some(rules(100, 60, 0, 0, 0)), None, 10, 50, 50, "DesiredWithinRange"),
        ("scaleUp with spec MaxReplicas limitation with large percent policy", e(), e(), 1, 1000, Some(rules(10000, 60, 0, 0, 0)), None, 10, 50, 50, "DesiredWithinRange"),
        ("scaleUp with pod policy limitation", e(), e(), 1, 1000, Some(rules(30, 60, 0, 0, 0)), None, 10, 50, 40, "ScaleUpLimit"),
        ("scaleUp with percent policy limitation", e(), e(), 1, 1000, Some(rules(0, 0, 200, 60, 0)), None, 10, 50, 30, "ScaleUpLimit"),
        ("scaleDown with percent policy larger than pod policy", e(), e(), 1, 1000, None, Some(rules(20, 60, 1, 60, 300)), 100, 2, 80, "ScaleDownLimit"),
        ("scaleDown with pod policy larger than percent policy", e(), e(), 1, 1000, None, Some(rules(2, 60, 1, 60, 300)), 100, 2, 98, "ScaleDownLimit"),
        ("scaleDown with spec MinReplicas limitation with large pod policy", e(), e(), 1, 1000, None, Some(rules(100, 60, 0, 0, 300)), 10, 0, 1, "TooFewReplicas"),
        ("scaleDown with spec MinReplicas limitation with large percent policy", e(), e(), 5, 1000, None, Some(rules(0, 0, 100, 60, 300)), 10, 2, 5, "TooFewReplicas"),
        ("scaleDown with pod policy limitation", e(), e(), 1, 1000, None, Some(rules(5, 60, 0, 0, 300)), 10, 2, 5, "ScaleDownLimit"),
        ("scaleDown with percent policy limitation", e(), e(), 1, 1000, None, Some(rules(0, 0, 50, 60, 300)), 10, 5, 5, "DesiredWithinRange"),
        ("scaleUp with spec MaxReplicas limitation with large pod policy and events", uniform(&[1, 5, 9], 120), e(), 1, 200, Some(rules(300, 60, 0, 0, 0)), None, 100, 500, 200, "TooManyReplicas"),
        ("scaleUp with spec MaxReplicas limitation with large percent policy and events", uniform(&[1, 5, 9], 120), e(), 1, 200, Some(rules(0, 0, 10000, 60, 0)), None, 100, 500, 200, "TooManyReplicas"),
        ("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", uniform(&[1, 5, 9], 120), e(), 1, 1000, Some(rules(5, 120, 0, 0, 0)), None, 100, 500, 100, "ScaleUpLimit"),
        ("scaleUp with pod policy and previous scale up events", uniform(&[1, 5, 9], 120), e(), 1, 1000, Some(rules(150, 120, 0, 0, 0)), None, 100, 500, 235, "ScaleUpLimit"),
        ("scaleUp with percent policy and previous scale up events", uniform(&[1, 5, 9], 120), e(), 1, 1000, Some(rules(0, 0, 200, 120, 0)), None, 100, 500, 255, "ScaleUpLimit"),
        ("scaleUp with percent policy and previous scale up and down events", uniform(&[4], 120), uniform(&[2], 120), 1, 1000, Some(rules(0, 0, 300, 300, 0)), None, 6, 24, 16, "ScaleUpLimit"),
        ("scaleDown with default policy and previous events", e(), uniform(&[1, 5, 9], 120), 1, 1000, None, None, 10, 5, 5, "DesiredWithinRange"),
        ("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", e(), uniform(&[1, 5, 9], 120), 1, 1000, None, Some(rules(115, 120, 0, 0, 300)), 100, 0, 1, "TooFewReplicas"),
        ("scaleDown with spec MinReplicas limitation with large pod policy and previous events", e(), uniform(&[1, 5, 9], 120), 5, 1000, None, Some(rules(130, 120, 0, 0, 300)), 100, 0, 5, "TooFewReplicas"),
        ("scaleDown with spec MinReplicas limitation with large percent policy and previous events", e(), uniform(&[1, 5, 9], 120), 5, 1000, None, Some(rules(0, 0, 100, 120, 300)), 100, 2, 5, "TooFewReplicas"),
        ("scaleDown with pod policy limitation and previous events", e(), uniform(&[1, 5, 9], 120), 1, 1000, None, Some(rules(5, 120, 0, 0, 300)), 100, 2, 100, "ScaleDownLimit"),
        ("scaleDown with percent policy limitation and previous events", e(), uniform(&[2, 4, 6], 120), 1, 1000, None, Some(rules(0, 0, 50, 120, 300)), 100, 0, 56, "ScaleDownLimit"),
        ("scaleDown with percent policy and previous scale up and down events", uniform(&[2], 120), uniform(&[4], 120), 1, 1000, None, Some(rules(0, 0, 50, 180, 0)), 10, 1, 6, "ScaleDownLimit"),
        ("scaleDown with previous events preventing further scale down", e(), uniform(&[10, 10, 10], 120), 1, 1000, None, Some(rules(0, 0, 10, 120, 300)), 100, 0, 100, "ScaleDownLimit"),
        ("scaleDown with with previous events still allowing more scale down", e(), uniform(&[10, 10, 10], 120), 1, 1000, None, Some(rules(0, 0, 1000, 120, 300)), 10, 5, 5, "DesiredWithinRange"),
        ("check 'outdated' flag for events for one behavior for up", uniform(&[8, 12, 9, 11], 120), e(), 1, 1000, Some(rules(1000, 60, 0, 0, 0)), None, 100, 200, 200, "DesiredWithinRange"),
        ("check that events were not marked 'outdated' for two different policies in the behavior for up", uniform(&[8, 12, 9, 11], 120), e(), 1, 1000, Some(rules(1000, 120, 100, 60, 0)), None, 100, 200, 200, "DesiredWithinRange"),
        ("check that events were marked 'outdated' for two different policies in the behavior for up", uniform(&[8, 12, 9, 11], 120), e(), 1, 1000, Some(rules(1000, 30, 100, 60, 0)), None, 100, 200, 200, "DesiredWithinRange"),
        ("check 'outdated' flag for events for one behavior for down", e(), uniform(&[8, 12, 9, 11], 120), 1, 1000, None, Some(rules(1000, 60, 0, 0, 300)), 100, 5, 5, "DesiredWithinRange"),
        ("check that events were not marked 'outdated' for two different policies in the behavior for down", e(), uniform(&[8, 12, 9, 11], 120), 1, 1000, None, Some(rules(1000, 120, 100, 60, 300)), 100, 5, 5, "DesiredWithinRange"),
        ("check that events were marked 'outdated' for two different policies in the behavior for down", e(), uniform(&[8, 12, 9, 11], 120), 1, 1000, None, Some(rules(1000, 30, 100, 60, 300)), 100, 5, 5, "DesiredWithinRange"),
    ];
    assert_eq!(cases.len(), 40);
    for (case, up_events, down_events, min, max, up, down, current, desired, expected, condition) in
        cases
    {
        let hc = Controller {
            scale_up_events: up_events,
            scale_down_events: down_events,
            ..Controller::new(300)
        };
        let behavior = Behavior {
            scale_up: up.unwrap_or_else(ScalingRules::default_scale_up),
            scale_down: down.unwrap_or_else(ScalingRules::default_scale_down),
        };
        let got = hc.convert_desired_replicas_with_behavior_rate(
            NOW, &behavior, current, desired, min, max,
        );
        assert_eq!(got, (expected, condition), "TestScalingWithRules/{case}");
    }
}

/// TestStoreScaleEvents (`storeScaleEvent`, `markScaleEventsOutdated`,
/// `getReplicasChangePerPeriod`), both directions.
#[test]
fn test_store_scale_events() {
    let ev = |change, ago: i64, outdated| ScaleEventRecord {
        replica_change: change,
        timestamp: -ago * 1000,
        outdated,
    };
    let cases: Vec<(
        &str,
        Vec<ScaleEventRecord>,
        Vec<(i32, bool)>,
        Option<ScalingRules>,
        i32,
    )> = vec![
        (
            "empty entries with default behavior",
            vec![],
            vec![],
            None,
            0,
        ),
        (
            "empty entries with two-policy-behavior",
            vec![],
            vec![(5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            0,
        ),
        (
            "one outdated entry to be kept untouched without behavior",
            vec![ev(7, 61, false)],
            vec![(7, false)],
            None,
            0,
        ),
        (
            "one outdated entry to be replaced with behavior",
            vec![ev(7, 61, false)],
            vec![(5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            0,
        ),
        (
            "one actual entry to be not touched with behavior",
            vec![ev(7, 58, false)],
            vec![(7, false), (5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            7,
        ),
        (
            "two entries, one of them to be replaced",
            vec![ev(7, 61, false), ev(6, 59, false)],
            vec![(5, false), (6, false)],
            Some(rules(10, 60, 0, 0, 0)),
            6,
        ),
        (
            "replace one entry, use policies with different periods",
            vec![
                ev(8, 29, false),
                ev(6, 59, false),
                ev(7, 61, false),
                ev(9, 61, false),
            ],
            vec![(8, false), (6, false), (7, true), (5, false)],
            Some(rules(10, 60, 100, 30, 0)),
            14,
        ),
        (
            "two entries, both actual",
            vec![ev(7, 58, false), ev(6, 59, false)],
            vec![(7, false), (6, false), (5, false)],
            Some(rules(10, 120, 100, 30, 0)),
            13,
        ),
    ];
    for (case, previous, expected, scaling, change) in cases {
        for up in [true, false] {
            let behavior = scaling.clone().map(|r| {
                let mut b = Behavior::default();
                if up {
                    b.scale_up = r
                } else {
                    b.scale_down = r
                }
                b
            });
            let mut hc = Controller::new(300);
            if up {
                hc.scale_up_events = previous.clone()
            } else {
                hc.scale_down_events = previous.clone()
            }
            let events = if up {
                &hc.scale_up_events
            } else {
                &hc.scale_down_events
            };
            assert_eq!(
                get_replicas_change_per_period(NOW, 60, events),
                change,
                "TestStoreScaleEvents/{case}"
            );
            hc.store_scale_event(NOW, behavior.as_ref(), 10, if up { 15 } else { 5 });
            let events = if up {
                &hc.scale_up_events
            } else {
                &hc.scale_down_events
            };
            let got: Vec<(i32, bool)> = events
                .iter()
                .map(|e| (e.replica_change, e.outdated))
                .collect();
            assert_eq!(got, expected, "TestStoreScaleEvents/{case} (up: {up})");
        }
    }
}

fn running(values: &[i64]) -> Vec<PodGroup> {
    values
        .iter()
        .map(|&v| PodGroup {
            count: 1,
            state: PodState::Running(Some(v)),
        })
        .collect()
}

/// TestReplicaCalcPodMetric (`GetMetricReplicas`, Pods metrics). Pod
/// readiness only matters for CPU, so the "unready hot-CPU" pods count
/// as ready here too, as in the controller.
#[test]
fn test_replica_calc_pod_metric() {
    let default = Tolerances::uniform(0.1);
    let one_percent_up = Tolerances {
        scale_down: 0.1,
        scale_up: 0.01,
    };
    let mut missing = running(&[20000, 19000, 21000]);
    missing.push(PodGroup {
        count: 2,
        state: PodState::Running(None),
    });
    let mut surge = running(&[10000, 10000]);
    surge.push(PodGroup {
        count: 1,
        state: PodState::Running(None),
    });
    for (case, pods, current, target, tolerances, expected) in [
        (
            "scale up",
            running(&[20000, 10000, 30000]),
            3,
            15000,
            default,
            (4, 20000),
        ),
        (
            "scale up: unready hot-CPU pod scales less",
            running(&[50000, 10000, 30000]),
            3,
            15000,
            default,
            (6, 30000),
        ),
        (
            "scale up: unready hot-CPU pods avoid scale-down",
            running(&[50000, 15000, 30000]),
            3,
            15000,
            default,
            (7, 31666),
        ),
        (
            "scale down",
            running(&[12000; 5]),
            5,
            20000,
            default,
            (3, 12000),
        ),
        (
            "within default tolerance",
            running(&[20000, 21000, 21000]),
            3,
            20000,
            default,
            (3, 20666),
        ),
        (
            "outside configurable 1% tolerance",
            running(&[20000, 21000, 21000]),
            3,
            20000,
            one_percent_up,
            (4, 20666),
        ),
        (
            "no change: missing metrics",
            missing,
            5,
            20000,
            default,
            (5, 20000),
        ),
        (
            "rolling update with maxSurge: extra pod missing metric",
            surge,
            2,
            17000,
            default,
            (2, 10000),
        ),
    ] {
        let got = calc_plain_metric_replicas(&pods, current, target, tolerances).unwrap();
        assert_eq!(got, expected, "TestReplicaCalcPodMetric/{case}");
    }
    // Pending pods only, or none: no metrics, no recommendation.
    let pending = [PodGroup {
        count: 2,
        state: PodState::Pending,
    }];
    assert_eq!(
        calc_plain_metric_replicas(&pending, 2, 1000, default),
        Err(CalcError::NoMetrics)
    );
    assert_eq!(
        calc_plain_metric_replicas(&[], 2, 1000, default),
        Err(CalcError::NoPods)
    );
}

/// TestReplicaCalcExternalMetric (`GetExternalMetricReplicas`, a Value
/// target): the unready pods are left out of the ready count.
#[test]
fn test_replica_calc_external_metric() {
    let default = Tolerances::uniform(0.1);
    let one_percent_up = Tolerances {
        scale_down: 0.1,
        scale_up: 0.01,
    };
    for (case, current, values, target, tolerances, ready, expected) in [
        (
            "scale down: ignores unready pods (would otherwise scale up)",
            3,
            vec![8600],
            4400,
            default,
            1,
            (2, 8600),
        ),
        ("scale down", 5, vec![8600], 14334, default, 5, (3, 8600)),
        (
            "within default tolerance",
            3,
            vec![8600],
            8888,
            default,
            3,
            (3, 8600),
        ),
        (
            "outside configurable 1% tolerance",
            3,
            vec![8900],
            8800,
            one_percent_up,
            3,
            (4, 8900),
        ),
        (
            "usage overflow caps at MaxInt64",
            3,
            vec![i64::MAX / 2 + 1, i64::MAX / 2 + 1],
            i64::MAX,
            default,
            3,
            (3, i64::MAX),
        ),
    ] {
        let got = external_metric_replicas(current, &values, target, tolerances, ready);
        assert_eq!(got, expected, "TestReplicaCalcExternalMetric/{case}");
    }
}

/// `GetExternalPerPodMetricReplicas` (External, AverageValue: KEDA's
/// ScaledObjects), on the cases of TestReplicaCalcObjectPerPodMetric,
/// whose arithmetic (`usage / (target x statusReplicas)`, then
/// `ceil(usage / target)`, per-pod usage rounded up) is the same.
#[test]
fn external_per_pod_metric_replicas_cases() {
    let default = Tolerances::uniform(0.1);
    let one_percent_up = Tolerances {
        scale_down: 0.1,
        scale_up: 0.01,
    };
    for (case, status, value, target, tolerances, expected) in [
        ("scale up", 3, 20000, 5000, default, (4, 6667)),
        ("scale down", 5, 6000, 2000, default, (3, 1200)),
        (
            "within default tolerance",
            4,
            20166,
            5000,
            default,
            (4, 5042),
        ),
        (
            "outside configurable 1% tolerance",
            4,
            20208,
            5000,
            one_percent_up,
            (5, 5052),
        ),
    ] {
        let got = external_per_pod_metric_replicas(status, &[value], target, tolerances);
        assert_eq!(
            got, expected,
            "TestReplicaCalcObjectPerPodMetric arithmetic/{case}"
        );
    }
}

fn legacy(min: i32, max: i32) -> HpaSpec {
    HpaSpec {
        min_replicas: min,
        max_replicas: max,
        behavior: None,
    }
}

/// Scenario: no `behavior` means the legacy path: each sync at most
/// `max(2 x current, 4)` (1 -> 4 -> 8 -> 16), where the documented
/// default policies would allow 1 -> 5 -> 10 -> 20.
#[test]
fn legacy_ramp_doubles() {
    let mut hc = Controller::new(300);
    let mut current = 1;
    let mut ramp = vec![current];
    for sync in 0..3 {
        current = hc
            .reconcile(sync * 15_001, &legacy(1, 100), current, || Ok(1000))
            .desired;
        ramp.push(current);
    }
    assert_eq!(ramp, [1, 4, 8, 16]);
    let mut hc = Controller::new(300);
    let spec = HpaSpec {
        behavior: Some(Behavior::default()),
        ..legacy(1, 100)
    };
    let mut current = 1;
    let mut ramp = vec![current];
    for sync in 0..3 {
        current = hc
            .reconcile(sync * 15_001, &spec, current, || Ok(1000))
            .desired;
        ramp.push(current);
    }
    assert_eq!(ramp, [1, 5, 10, 20]);
}

/// Scenario: the tolerance is inclusive on a ratio of integer
/// milli-units: 11000m against 10000m is exactly 1.1 and holds;
/// 11001m scales.
#[test]
fn tolerance_boundary_holds_at_exactly_1_1() {
    let t = Tolerances::uniform(0.1);
    assert_eq!(
        calc_plain_metric_replicas(&running(&[11000, 11000]), 2, 10000, t),
        Ok((2, 11000))
    );
    assert_eq!(
        calc_plain_metric_replicas(&running(&[11001, 11001]), 2, 10000, t),
        Ok((3, 11001))
    );
    assert_eq!(
        calc_plain_metric_replicas(&running(&[9000, 9000]), 2, 10000, t),
        Ok((2, 9000))
    );
    assert_eq!(
        calc_plain_metric_replicas(&running(&[8999, 8999]), 2, 10000, t),
        Ok((2, 8999))
    );
    assert_eq!(
        calc_plain_metric_replicas(&running(&[8999; 20]), 20, 10000, t),
        Ok((18, 8999))
    );
    // The integer average: 11001 and 10999 average 11000 exactly.
    assert_eq!(
        calc_plain_metric_replicas(&running(&[11001, 10999]), 2, 10000, t),
        Ok((2, 11000))
    );
}

/// Scenario: the first sync records the current replicas
/// (`recordInitialRecommendation`): a running Deployment at 10 is held
/// for the downscale window although the metric asks for 2; with a
/// scale-up window, the first recommendation holds a scale-up back.
#[test]
fn initial_recommendation_holds_the_first_window() {
    let mut hc = Controller::new(300);
    let spec = legacy(1, 20);
    assert_eq!(hc.reconcile(0, &spec, 10, || Ok(2)).desired, 10);
    assert_eq!(hc.reconcile(299_999, &spec, 10, || Ok(2)).desired, 10);
    assert_eq!(hc.reconcile(300_001, &spec, 10, || Ok(2)).desired, 2);
    // Without the initial record, a new HPA's first sync would scale down at once.
    let mut fresh = Controller::new(300);
    fresh.recommendations = Some(vec![]);
    assert_eq!(fresh.reconcile(0, &spec, 10, || Ok(2)).desired, 2);
    // A 60 s scale-up window: the initial 3 holds the step to 10 for 60 s.
    let mut behavior = Behavior::default();
    behavior.scale_up.stabilization_window_seconds = Some(60);
    let spec = HpaSpec {
        behavior: Some(behavior),
        ..legacy(1, 20)
    };
    let mut hc = Controller::new(300);
    assert_eq!(hc.reconcile(0, &spec, 3, || Ok(10)).desired, 3);
    assert_eq!(hc.reconcile(45_000, &spec, 3, || Ok(10)).desired, 3);
    // Then the default scale-up policies: max(3 + 4, 2 x 3) = 7.
    assert_eq!(hc.reconcile(60_001, &spec, 3, || Ok(10)).desired, 7);
}

/// Scenario: scale events are overwritten once outdated by their own
/// direction's longest period, and the scale-down limit reads the
/// scale-up list: a scale-up older than the scale-up period but inside
/// a longer scale-down period stops counting once overwritten.
#[test]
fn event_overwrite_changes_the_scale_down_limit() {
    let behavior = Behavior {
        scale_up: rules(4, 60, 0, 0, 0),
        scale_down: rules(1, 300, 0, 0, 0),
    };
    let mut hc = Controller::new(300);
    hc.store_scale_event(0, Some(&behavior), 2, 6); // +4 at 0 s
                                                    // At 120 s the +4 still counts for the 300 s scale-down period:
                                                    // the period started at 6 - 4 = 2 replicas, and 2 - 1 = 1 is allowed.
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(
            120_000,
            6,
            &hc.scale_up_events,
            &hc.scale_down_events,
            &behavior.scale_down
        ),
        1
    );
    hc.store_scale_event(120_000, Some(&behavior), 6, 8); // +2 overwrites the outdated +4
    assert_eq!(hc.scale_up_events.len(), 1);
    assert_eq!(hc.scale_up_events[0].replica_change, 2);
    // Now only the +2 counts: start 8 - 2 = 6, limit 5.
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(
            130_000,
            8,
            &hc.scale_up_events,
            &hc.scale_down_events,
            &behavior.scale_down
        ),
        5
    );
    // Without behavior nothing is stored.
    let mut hc = Controller::new(300);
    hc.store_scale_event(0, None, 2, 6);
    assert!(hc.scale_up_events.is_empty());
}

/// Scenario: on a scale-down, pods without a value count at the target
/// (`calcPlainMetricReplicas`), which slows the step; on a scale-up they
/// count at 0.
#[test]
fn missing_pods_count_at_target_on_scale_down() {
    let t = Tolerances::uniform(0.1);
    let mut pods = running(&[5000, 5000]);
    pods.push(PodGroup {
        count: 2,
        state: PodState::Running(None),
    });
    // Without the missing pods: 2 pods at half the target -> 1.
    assert_eq!(
        calc_plain_metric_replicas(&running(&[5000, 5000]), 4, 10000, t),
        Ok((1, 5000))
    );
    // With them at the target: (2 x 5000 + 2 x 10000) / 4 = 7500 -> ceil(0.75 x 4) = 3.
    assert_eq!(
        calc_plain_metric_replicas(&pods, 4, 10000, t),
        Ok((3, 5000))
    );
    // Scaling up: at 0: (2 x 30000) / 4 = 15000 -> ceil(1.5 x 4) = 6.
    let mut hot = running(&[30000, 30000]);
    hot.push(PodGroup {
        count: 2,
        state: PodState::Running(None),
    });
    assert_eq!(
        calc_plain_metric_replicas(&hot, 4, 10000, t),
        Ok((6, 30000))
    );
    // Pending pods (unready) count at 0 on a scale-up only.
    let mut starting = running(&[30000, 30000]);
    starting.push(PodGroup {
        count: 2,
        state: PodState::Pending,
    });
    assert_eq!(
        calc_plain_metric_replicas(&starting, 4, 10000, t),
        Ok((6, 30000))
    );
}
