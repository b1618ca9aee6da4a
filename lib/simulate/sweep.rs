//! Runs the model once per setting (one axis, or a grid of two) and picks
//! the cheapest run that keeps the load per pod under a fixed capacity.

use std::fmt::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::values::{parse_duration_millis, Quantity};

use super::controller::{milli_value, Behavior};
use super::error::SweepError;
use super::model::{
    run, run_steps, Autoscaler, MetricTarget, SimOptions, Summary, MAX_SWEEP_STEPS,
};
use super::report::clock;
use super::trace::Trace;

pub use super::error::SweepParameter;

/// One setting and its values, as in `target=5,10,20`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The setting.
    pub parameter: SweepParameter,
    /// Its values as written.
    pub values: Vec<String>,
}

impl FromStr for Axis {
    type Err = SweepError;

    /// Parses `NAME=V1,V2,...` with NAME one of `target`, `minReplicas`,
    /// `maxReplicas`, `scaleDownWindow`.
    fn from_str(text: &str) -> Result<Axis, SweepError> {
        let Some((name, values)) = text.split_once('=') else {
            return Err(SweepError::NotASweep(text.to_owned()));
        };
        let parameter = match name.trim() {
            "target" => SweepParameter::Target,
            "minReplicas" => SweepParameter::MinReplicas,
            "maxReplicas" => SweepParameter::MaxReplicas,
            "scaleDownWindow" => SweepParameter::ScaleDownWindow,
            other => return Err(SweepError::Setting(other.to_owned())),
        };
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_owned()).collect();
        if values.iter().any(String::is_empty) {
            return Err(SweepError::EmptyValue(text.to_owned()));
        }
        Ok(Axis { parameter, values })
    }
}

/// Most settings one sweep may run (the product of the axes' values).
pub const MAX_SETTINGS: usize = 10_000;

/// A sweep: one axis, or two for a grid (every combination).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// The axes, in the order given.
    pub axes: Vec<Axis>,
}

impl FromStr for Sweep {
    type Err = SweepError;

    /// One axis, `NAME=V1,V2`.
    fn from_str(text: &str) -> Result<Sweep, SweepError> {
        Ok(Sweep {
            axes: vec![text.parse()?],
        })
    }
}

impl Sweep {
    /// A sweep over one or two axes (`--sweep` given once or twice).
    pub fn new(axes: &[String]) -> Result<Sweep, SweepError> {
        let axes: Vec<Axis> = axes.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
        match axes.len() {
            1 => {}
            2 if axes[0].parameter != axes[1].parameter => {}
            2 => return Err(SweepError::Twice(axes[0].parameter)),
            n => return Err(SweepError::Axes(n)),
        }
        let count = axes.iter().map(|a| a.values.len()).product::<usize>();
        if count > MAX_SETTINGS {
            return Err(SweepError::TooManySettings {
                count,
                max: MAX_SETTINGS,
            });
        }
        Ok(Sweep { axes })
    }

    /// The swept settings' names, `a` or `a x b`.
    pub fn name(&self) -> String {
        self.axes
            .iter()
            .map(|a| a.parameter.name())
            .collect::<Vec<_>>()
            .join(" x ")
    }

    /// `base` with each combination of values applied, labelled
    /// `name=value` (two axes: `a=1 b=2`, the first axis outermost); an
    /// invalid value (not a number, a bound crossing the other) is an error.
    pub fn settings(&self, base: &Autoscaler) -> Result<Vec<(String, Autoscaler)>, SweepError> {
        let mut settings: Vec<(String, Autoscaler)> = vec![(String::new(), base.clone())];
        for axis in &self.axes {
            let mut next = Vec::with_capacity(settings.len() * axis.values.len());
            for (label, hpa) in &settings {
                for value in &axis.values {
                    let applied = apply(axis.parameter, value, hpa.clone())?;
                    let name = format!("{}={value}", axis.parameter.name());
                    let label = if label.is_empty() {
                        name
                    } else {
                        format!("{label} {name}")
                    };
                    next.push((label, applied));
                }
            }
            settings = next;
        }
        for (label, hpa) in &settings {
            if hpa.spec.min_replicas > hpa.spec.max_replicas {
                return Err(SweepError::MinAboveMax {
                    setting: label.clone(),
                    min: hpa.spec.min_replicas,
                    max: hpa.spec.max_replicas,
                });
            }
        }
        Ok(settings)
    }
}

fn apply(
    parameter: SweepParameter,
    value: &str,
    mut hpa: Autoscaler,
) -> Result<Autoscaler, SweepError> {
    let whole = || {
        value
            .parse::<u32>()
            .ok()
            .filter(|&n| (1..=i32::MAX as u32).contains(&n))
            .map(|n| n as i32)
            .ok_or_else(|| SweepError::NotWhole {
                parameter,
                value: value.to_owned(),
            })
    };
    match parameter {
        SweepParameter::Target => {
            let quantity: Quantity = value.parse().map_err(|error| SweepError::Target {
                value: value.to_owned(),
                error,
            })?;
            let milli = milli_value(quantity.to_k8s().0.as_str())
                .filter(|&m| m > 0)
                .ok_or_else(|| SweepError::TargetZero(value.to_owned()))?;
            hpa.target = milli as f64 / 1000.0;
            hpa.metric = match hpa.metric {
                MetricTarget::Pods { .. } => MetricTarget::Pods {
                    average_value_milli: milli,
                },
                MetricTarget::External { .. } => MetricTarget::External {
                    average_value_milli: milli,
                },
            };
        }
        SweepParameter::MinReplicas => hpa.spec.min_replicas = whole()?,
        SweepParameter::MaxReplicas => hpa.spec.max_replicas = whole()?,
        SweepParameter::ScaleDownWindow => {
            let seconds = value
                .parse::<u64>()
                .ok()
                .or_else(|| parse_duration_millis(value).map(|ms| ms / 1000))
                .filter(|&s| s <= 3600)
                .ok_or_else(|| SweepError::Window(value.to_owned()))?;
            // Setting it gives the HPA a `behavior`: the rest defaulted.
            let behavior = hpa.spec.behavior.get_or_insert_with(Behavior::default);
            behavior.scale_down.stabilization_window_seconds = Some(seconds as i32);
        }
    }
    Ok(hpa)
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepRow {
    /// `name=value` (a grid: `a=1 b=2`).
    pub setting: String,
    /// The HPA this row ran.
    pub autoscaler: Autoscaler,
    /// The run's totals.
    pub summary: Summary,
}

/// All runs of a sweep and the chosen one.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepResult {
    /// The settings varied.
    pub parameters: Vec<SweepParameter>,
    /// The per-pod capacity overload is measured against.
    pub capacity: f64,
    /// One row per combination, in the order given.
    pub rows: Vec<SweepRow>,
    /// Index of the best row (see [`best_setting`]).
    pub best: usize,
    /// Whether the best row has at most `max_overload_seconds` above capacity.
    pub qualified: bool,
    /// The overload allowance of the rule.
    pub max_overload_seconds: u64,
    /// The rule, in words.
    pub rule: String,
}

/// The rule [`best_setting`] applies, in words.
pub fn rule_text(capacity: f64, max_overload_seconds: u64) -> String {
    format!(
        "best = fewest pod-seconds among settings with at most {max_overload_seconds} s of load \
         per running pod above the capacity {capacity}; if none qualifies, fewest seconds above \
         capacity (ties: fewer pod-seconds, then the first listed)"
    )
}

/// The best of `summaries`, by seconds above capacity (the same line for
/// every setting): the fewest pod-seconds among those with at most
/// `max_overload_seconds`; if none qualifies, the fewest seconds above
/// capacity. Ties go to fewer pod-seconds, then to the earlier entry.
/// Returns the index and whether it qualified; `None` for no summaries.
pub fn best_setting(summaries: &[&Summary], max_overload_seconds: u64) -> Option<(usize, bool)> {
    let over = |s: &Summary| s.seconds_above_capacity.unwrap_or(u64::MAX);
    let qualified = summaries
        .iter()
        .enumerate()
        .filter(|(_, s)| over(s) <= max_overload_seconds)
        .min_by_key(|(index, s)| (s.pod_seconds, over(s), *index));
    if let Some((index, _)) = qualified {
        return Some((index, true));
    }
    summaries
        .iter()
        .enumerate()
        .min_by_key(|(index, s)| (over(s), s.pod_seconds, *index))
        .map(|(index, _)| (index, false))
}

/// Runs `base` with each setting of `sweep` over `trace` and picks the
/// best by [`best_setting`]; `options.capacity` must be set.
pub fn run_sweep(
    base: &Autoscaler,
    sweep: &Sweep,
    trace: &Trace,
    options: &SimOptions,
    max_overload_seconds: u64,
) -> Result<SweepResult, SweepError> {
    let capacity = options.capacity.ok_or(SweepError::NoCapacity)?;
    let settings = sweep.settings(base)?;
    // Every setting replays the whole trace: bound the total before any.
    let steps = run_steps(trace, options);
    let total = steps.saturating_mul(settings.len() as u64);
    if total > MAX_SWEEP_STEPS {
        return Err(SweepError::TooManySteps {
            max: MAX_SWEEP_STEPS,
            settings: settings.len(),
            steps,
            total,
        });
    }
    let mut rows = Vec::new();
    for (setting, autoscaler) in settings {
        let summary = run(&autoscaler, trace, options)?.summary;
        rows.push(SweepRow {
            setting,
            autoscaler,
            summary,
        });
    }
    let summaries: Vec<&Summary> = rows.iter().map(|r| &r.summary).collect();
    let (best, qualified) =
        best_setting(&summaries, max_overload_seconds).ok_or(SweepError::NoValues)?;
    Ok(SweepResult {
        parameters: sweep.axes.iter().map(|a| a.parameter).collect(),
        capacity,
        rows,
        best,
        qualified,
        max_overload_seconds,
        rule: rule_text(capacity, max_overload_seconds),
    })
}

impl SweepResult {
    /// One row per setting, the best marked `*`, the rule stated; `title`
    /// says what was simulated.
    pub fn text(&self, title: &str) -> String {
        let mut out = String::new();
        let names: Vec<&str> = self.parameters.iter().map(|p| p.name()).collect();
        let _ = writeln!(out, "Sweep of {} for {title}", names.join(" x "));
        let _ = writeln!(out, "Rule: {}.", self.rule);
        out.push('\n');
        let width = self
            .rows
            .iter()
            .map(|r| r.setting.len())
            .max()
            .unwrap_or(0)
            .max("setting".len());
        let _ = writeln!(
            out,
            "    {:<width$}  {:>6}  {:>11}  {:>12}  {:>10}  {:>6}  {:>5}",
            "setting", "peak", "pod-seconds", "s > capacity", "s > target", "events", "flap"
        );
        for (index, row) in self.rows.iter().enumerate() {
            let s = &row.summary;
            let mark = if index == self.best { '*' } else { ' ' };
            let _ = writeln!(
                out,
                "  {mark} {:<width$}  {:>6}  {:>11}  {:>12}  {:>10}  {:>6}  {:>5}",
                row.setting,
                s.peak_replicas,
                s.pod_seconds,
                s.seconds_above_capacity.unwrap_or(0),
                s.seconds_above_target,
                s.scale_events,
                s.largest_flap
                    .map_or("none".into(), |f| f.replicas.to_string()),
            );
        }
        out.push('\n');
        let best = &self.rows[self.best];
        let why = if self.qualified {
            format!(
                "fewest pod-seconds ({}) among settings with at most {} s above capacity",
                best.summary.pod_seconds, self.max_overload_seconds
            )
        } else {
            format!(
                "no setting stays within {} s above capacity; fewest seconds above capacity ({})",
                self.max_overload_seconds,
                best.summary.seconds_above_capacity.unwrap_or(0)
            )
        };
        let _ = writeln!(out, "* best: {} ({why})", best.setting);
        let _ = writeln!(
            out,
            "  over {} ({} s) of load",
            clock(best.summary.duration_seconds),
            best.summary.duration_seconds
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(pod_seconds: u64, above: u64) -> Summary {
        Summary {
            duration_seconds: 100,
            peak_load: 1.0,
            peak_replicas: 1,
            peak_at: 0,
            pod_seconds,
            seconds_above_target: 0,
            seconds_above_capacity: Some(above),
            scale_events: 0,
            largest_flap: None,
        }
    }

    #[test]
    fn the_rule() {
        let (a, b, c) = (summary(100, 90), summary(200, 10), summary(150, 60));
        assert_eq!(best_setting(&[&a, &b, &c], 60), Some((2, true)));
        assert_eq!(best_setting(&[&a, &b, &c], 5), Some((1, false)));
        assert_eq!(best_setting(&[&a, &b, &c], 100), Some((0, true)));
        assert_eq!(best_setting(&[], 100), None);
        let tie = summary(150, 60);
        assert_eq!(best_setting(&[&c, &tie], 60), Some((0, true)));
    }

    #[test]
    fn parses_and_applies_values() {
        let base = Autoscaler::new(10.0, 1, 20, None);
        let sweep: Sweep = "target=5,500m,1e1".parse().unwrap();
        let targets: Vec<f64> = sweep
            .settings(&base)
            .unwrap()
            .iter()
            .map(|(_, h)| h.target)
            .collect();
        assert_eq!(targets, vec![5.0, 0.5, 10.0]);
        let sweep: Sweep = "scaleDownWindow=0,5m".parse().unwrap();
        let windows: Vec<Option<i32>> = sweep
            .settings(&base)
            .unwrap()
            .iter()
            .map(|(_, h)| {
                h.spec
                    .behavior
                    .as_ref()
                    .unwrap()
                    .scale_down
                    .stabilization_window_seconds
            })
            .collect();
        assert_eq!(windows, vec![Some(0), Some(300)]);
        let grid = Sweep::new(&["target=5,10".into(), "minReplicas=1,2,3".into()]).unwrap();
        let labels: Vec<String> = grid
            .settings(&base)
            .unwrap()
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(labels.len(), 6);
        assert_eq!(labels[1], "target=5 minReplicas=2");
        assert!(Sweep::new(&["target=5".into(), "target=6".into()]).is_err());
        assert!("minReplicas=30"
            .parse::<Sweep>()
            .unwrap()
            .settings(&base)
            .is_err());
        assert!("maxReplicas=0"
            .parse::<Sweep>()
            .unwrap()
            .settings(&base)
            .is_err());
        assert!("target=x"
            .parse::<Sweep>()
            .unwrap()
            .settings(&base)
            .is_err());
        assert!("replicas=1".parse::<Sweep>().is_err());
        assert!("target".parse::<Sweep>().is_err());
        assert!("target=1,,2".parse::<Sweep>().is_err());
    }
}
