//! Runs the model once per value of one setting and picks the best run.

use std::fmt::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::values::{parse_duration_millis, Quantity};

use super::model::{run, Autoscaler, SimOptions, Summary};
use super::report::clock;
use super::trace::Trace;

/// The setting a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SweepParameter {
    /// `targetAverageValue` (a Kubernetes quantity).
    Target,
    /// `minReplicas`.
    MinReplicas,
    /// `maxReplicas`.
    MaxReplicas,
    /// `behavior.scaleDown.stabilizationWindowSeconds` (seconds, or a
    /// duration such as `5m`).
    ScaleDownWindow,
}

impl SweepParameter {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SweepParameter::Target => "target",
            SweepParameter::MinReplicas => "minReplicas",
            SweepParameter::MaxReplicas => "maxReplicas",
            SweepParameter::ScaleDownWindow => "scaleDownWindow",
        }
    }
}

/// A sweep: one setting and its values, as in `target=5,10,20`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// The setting.
    pub parameter: SweepParameter,
    /// Its values as written.
    pub values: Vec<String>,
}

impl FromStr for Sweep {
    type Err = String;

    /// Parses `NAME=V1,V2,...` with NAME one of `target`, `minReplicas`,
    /// `maxReplicas`, `scaleDownWindow`.
    fn from_str(text: &str) -> Result<Sweep, String> {
        let usage = "write --sweep NAME=V1,V2,... with NAME one of target, minReplicas, \
                     maxReplicas, scaleDownWindow";
        let Some((name, values)) = text.split_once('=') else {
            return Err(format!("`{text}` is not a sweep: {usage}"));
        };
        let parameter = match name.trim() {
            "target" => SweepParameter::Target,
            "minReplicas" => SweepParameter::MinReplicas,
            "maxReplicas" => SweepParameter::MaxReplicas,
            "scaleDownWindow" => SweepParameter::ScaleDownWindow,
            other => return Err(format!("`{other}` cannot be swept: {usage}")),
        };
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_owned()).collect();
        if values.iter().any(String::is_empty) {
            return Err(format!("`{text}` has an empty value: {usage}"));
        }
        Ok(Sweep { parameter, values })
    }
}

impl Sweep {
    /// `base` with each value applied, labelled `name=value`; an invalid
    /// value (not a number, a bound crossing the other) is an error.
    pub fn settings(&self, base: &Autoscaler) -> Result<Vec<(String, Autoscaler)>, String> {
        let name = self.parameter.name();
        self.values
            .iter()
            .map(|value| {
                let mut hpa = base.clone();
                let whole = || {
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or_else(|| format!("{name}={value}: give a whole number of at least 1"))
                };
                match self.parameter {
                    SweepParameter::Target => {
                        let quantity: Quantity =
                            value.parse().map_err(|e| format!("{name}={value}: {e}"))?;
                        hpa.target = quantity.as_f64();
                        if hpa.target <= 0.0 || !hpa.target.is_finite() {
                            return Err(format!("{name}={value}: the target must be above 0"));
                        }
                    }
                    SweepParameter::MinReplicas => hpa.min_replicas = whole()?,
                    SweepParameter::MaxReplicas => hpa.max_replicas = whole()?,
                    SweepParameter::ScaleDownWindow => {
                        let seconds = value
                            .parse::<u64>()
                            .ok()
                            .or_else(|| parse_duration_millis(value).map(|ms| ms / 1000))
                            .filter(|&s| s <= 3600)
                            .ok_or_else(|| {
                                format!(
                                    "{name}={value}: give seconds from 0 to 3600, or a duration such as 5m"
                                )
                            })?;
                        hpa.scale_down.stabilization_window_seconds = seconds as u32;
                        hpa.scale_down.defaulted = false;
                    }
                }
                if hpa.min_replicas > hpa.max_replicas {
                    return Err(format!(
                        "{name}={value}: minReplicas {} is above maxReplicas {}",
                        hpa.min_replicas, hpa.max_replicas
                    ));
                }
                Ok((format!("{name}={value}"), hpa))
            })
            .collect()
    }
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepRow {
    /// `name=value`.
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
    /// The setting varied.
    pub parameter: SweepParameter,
    /// One row per value, in the order given.
    pub rows: Vec<SweepRow>,
    /// Index of the best row (see [`best_setting`]).
    pub best: usize,
    /// Whether the best row has at most `max_overload_seconds` above target.
    pub qualified: bool,
    /// The overload allowance of the rule.
    pub max_overload_seconds: u64,
    /// The rule, in words.
    pub rule: String,
}

/// The rule [`best_setting`] applies, in words.
pub fn rule_text(max_overload_seconds: u64) -> String {
    format!(
        "best = fewest pod-seconds among settings with at most {max_overload_seconds} s above \
         target; if none qualifies, fewest seconds above target (ties: fewer pod-seconds, then \
         the first listed)"
    )
}

/// The best of `summaries`: the fewest pod-seconds among those with at
/// most `max_overload_seconds` seconds above target; if none qualifies, the
/// fewest seconds above target. Ties go to fewer pod-seconds, then to the
/// earlier entry. Returns the index and whether it qualified; `None` for
/// no summaries.
pub fn best_setting(summaries: &[&Summary], max_overload_seconds: u64) -> Option<(usize, bool)> {
    let qualified = summaries
        .iter()
        .enumerate()
        .filter(|(_, s)| s.seconds_above_target <= max_overload_seconds)
        .min_by_key(|(index, s)| (s.pod_seconds, s.seconds_above_target, *index));
    if let Some((index, _)) = qualified {
        return Some((index, true));
    }
    summaries
        .iter()
        .enumerate()
        .min_by_key(|(index, s)| (s.seconds_above_target, s.pod_seconds, *index))
        .map(|(index, _)| (index, false))
}

/// Runs `base` with each value of `sweep` over `trace` and picks the best
/// by [`best_setting`].
pub fn run_sweep(
    base: &Autoscaler,
    sweep: &Sweep,
    trace: &Trace,
    options: &SimOptions,
    max_overload_seconds: u64,
) -> Result<SweepResult, String> {
    let rows: Vec<SweepRow> = sweep
        .settings(base)?
        .into_iter()
        .map(|(setting, autoscaler)| {
            let summary = run(&autoscaler, trace, options).summary;
            SweepRow {
                setting,
                autoscaler,
                summary,
            }
        })
        .collect();
    let summaries: Vec<&Summary> = rows.iter().map(|r| &r.summary).collect();
    let (best, qualified) =
        best_setting(&summaries, max_overload_seconds).ok_or("the sweep has no values")?;
    Ok(SweepResult {
        parameter: sweep.parameter,
        rows,
        best,
        qualified,
        max_overload_seconds,
        rule: rule_text(max_overload_seconds),
    })
}

impl SweepResult {
    /// One row per setting, the best marked `*`, the rule stated; `title`
    /// says what was simulated.
    pub fn text(&self, title: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Sweep of {} for {title}", self.parameter.name());
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
            "    {:<width$}  {:>6}  {:>11}  {:>13}  {:>14}  {:>6}  {:>5}",
            "setting", "peak", "pod-seconds", "s > target", "s > 1.5x tgt", "events", "flap"
        );
        for (index, row) in self.rows.iter().enumerate() {
            let s = &row.summary;
            let mark = if index == self.best { '*' } else { ' ' };
            let _ = writeln!(
                out,
                "  {mark} {:<width$}  {:>6}  {:>11}  {:>13}  {:>14}  {:>6}  {:>5}",
                row.setting,
                s.peak_replicas,
                s.pod_seconds,
                s.seconds_above_target,
                s.seconds_above_1_5x_target,
                s.scale_events,
                s.largest_flap
                    .map_or("none".into(), |f| f.replicas.to_string()),
            );
        }
        out.push('\n');
        let best = &self.rows[self.best];
        let why = if self.qualified {
            format!(
                "fewest pod-seconds ({}) among settings with at most {} s above target",
                best.summary.pod_seconds, self.max_overload_seconds
            )
        } else {
            format!(
                "no setting stays within {} s above target; fewest seconds above target ({})",
                self.max_overload_seconds, best.summary.seconds_above_target
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
            seconds_above_target: above,
            seconds_above_1_5x_target: 0,
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
        let windows: Vec<u32> = sweep
            .settings(&base)
            .unwrap()
            .iter()
            .map(|(_, h)| h.scale_down.stabilization_window_seconds)
            .collect();
        assert_eq!(windows, vec![0, 300]);
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
