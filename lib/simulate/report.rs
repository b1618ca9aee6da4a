//! The terminal and JSON views of a [`Simulation`].

use std::fmt::Write;

use crate::spec::{PolicyKind, SelectPolicy};

use super::model::{Rules, Simulation, FLAP_WINDOW_SECONDS};

/// Columns of the terminal chart.
pub(crate) const CHART_WIDTH: usize = 60;
/// Most rows of the replica chart.
const CHART_HEIGHT: u32 = 8;
/// Most scale events listed one per line.
const MAX_EVENT_LINES: usize = 40;

/// `H:MM:SS`.
pub(crate) fn clock(seconds: u64) -> String {
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

pub(crate) fn rules_line(rules: &Rules) -> String {
    let policies: Vec<String> = rules
        .policies
        .iter()
        .map(|p| {
            let unit = match p.kind {
                PolicyKind::Pods => " pods",
                PolicyKind::Percent => "%",
            };
            format!("{}{unit} per {} s", p.value, p.period_seconds)
        })
        .collect();
    let select = match rules.select_policy {
        SelectPolicy::Max => format!("Max of [{}]", policies.join(", ")),
        SelectPolicy::Min => format!("Min of [{}]", policies.join(", ")),
        SelectPolicy::Disabled => "Disabled".to_owned(),
    };
    format!(
        "window {} s, {select}{}",
        rules.stabilization_window_seconds,
        if rules.defaulted { " (default)" } else { "" }
    )
}

/// The summary, a fixed-width ASCII chart of replicas and load per pod over
/// time, and the scale events, for a terminal. `title` says what was
/// simulated (app and trace).
pub fn text_report(sim: &Simulation, title: &str) -> String {
    let hpa = &sim.autoscaler;
    let s = &sim.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Simulation of {title}: {} s ({})",
        s.duration_seconds,
        clock(s.duration_seconds)
    );
    let _ = writeln!(
        out,
        "  HPA: target {} per pod, replicas {}..{}; sync {} s, tolerance {}, pod startup {} s",
        hpa.target,
        hpa.min_replicas,
        hpa.max_replicas,
        sim.options.sync_period_seconds,
        sim.options.tolerance,
        sim.options.pod_startup_seconds
    );
    let _ = writeln!(out, "  scaleUp:   {}", rules_line(&hpa.scale_up));
    let _ = writeln!(out, "  scaleDown: {}", rules_line(&hpa.scale_down));
    out.push('\n');
    out.push_str("Summary\n");
    let average = if s.duration_seconds == 0 {
        0.0
    } else {
        s.pod_seconds as f64 / s.duration_seconds as f64
    };
    let rows: [(&str, String, String); 7] = [
        ("peak load", format!("{}", s.peak_load), "req/s".into()),
        (
            "peak replicas",
            s.peak_replicas.to_string(),
            format!("first at {}", clock(s.peak_at)),
        ),
        (
            "pod-seconds",
            s.pod_seconds.to_string(),
            format!("average {average:.1} pods"),
        ),
        (
            "seconds above target",
            s.seconds_above_target.to_string(),
            format!("load per ready pod > {}", hpa.target),
        ),
        (
            "seconds above 1.5x target",
            s.seconds_above_1_5x_target.to_string(),
            format!("load per ready pod > {}", 1.5 * hpa.target),
        ),
        ("scale events", s.scale_events.to_string(), String::new()),
        (
            "largest flap",
            s.largest_flap
                .map_or("none".into(), |f| f.replicas.to_string()),
            match s.largest_flap {
                Some(f) => format!(
                    "replicas changed at {} and reversed within {FLAP_WINDOW_SECONDS} s",
                    clock(f.time)
                ),
                None => format!("no change reversed within {FLAP_WINDOW_SECONDS} s"),
            },
        ),
    ];
    for (label, value, note) in rows {
        let line = format!("  {label:<26}{value:>8}  {note}");
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    chart(&mut out, sim);
    out.push('\n');
    out.push_str("Scale events\n");
    if sim.events.is_empty() {
        out.push_str("  none\n");
    }
    for event in sim.events.iter().take(MAX_EVENT_LINES) {
        let sample = sim.series.iter().find(|x| x.time == event.time);
        let (load, desired) = sample.map_or((0.0, 0), |x| (x.load, x.desired));
        let _ = writeln!(
            out,
            "  {}  {:>4} -> {:<4} load {load} req/s, metric recommends {desired}",
            clock(event.time),
            event.from,
            event.to
        );
    }
    if sim.events.len() > MAX_EVENT_LINES {
        let _ = writeln!(
            out,
            "  ... {} more (see --format json)",
            sim.events.len() - MAX_EVENT_LINES
        );
    }
    out
}

/// Seconds per chart column and the number of columns.
pub(crate) fn columns(duration: usize) -> (usize, usize) {
    if duration == 0 {
        return (1, 0);
    }
    let per_column = duration.div_ceil(CHART_WIDTH);
    (per_column, duration.div_ceil(per_column))
}

fn chart(out: &mut String, sim: &Simulation) {
    let seconds = &sim.seconds;
    let (per_column, count) = columns(seconds.len());
    let buckets: Vec<&[super::model::Second]> = seconds.chunks(per_column).collect();
    let replicas: Vec<u32> = buckets
        .iter()
        .map(|b| b.iter().map(|s| s.replicas).max().unwrap_or(0))
        .collect();
    let peak = replicas.iter().copied().max().unwrap_or(0);
    let _ = writeln!(
        out,
        "Replicas (highest in each column; one column = {per_column} s)"
    );
    let height = peak.min(CHART_HEIGHT);
    let levels: Vec<u32> = (1..=height)
        .rev()
        .map(|k| {
            if height == 1 {
                peak
            } else {
                1 + (k - 1) * (peak - 1) / (height - 1)
            }
        })
        .collect();
    for level in levels {
        let bar: String = replicas
            .iter()
            .map(|&r| if r >= level { '#' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{}", format!("  {level:>5} |{bar}").trim_end());
    }
    let _ = writeln!(out, "        +{}", "-".repeat(count));
    let end = clock(seconds.len() as u64);
    let middle = clock(seconds.len() as u64 / 2);
    let mut axis = format!("         {}", clock(0));
    let middle_at = 9 + count / 2 - middle.len() / 2;
    while axis.len() < middle_at {
        axis.push(' ');
    }
    axis.push_str(&middle);
    let end_at = (9 + count).saturating_sub(end.len());
    while axis.len() < end_at {
        axis.push(' ');
    }
    if axis.len() > end_at {
        axis.push(' ');
    }
    axis.push_str(&end);
    let _ = writeln!(out, "{axis}");
    let target = sim.autoscaler.target;
    let strip: String = buckets
        .iter()
        .map(|b| {
            let worst = b.iter().map(|s| s.per_pod_load).fold(0.0, f64::max);
            if worst > 1.5 * target {
                '#'
            } else if worst > target {
                '+'
            } else {
                '.'
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "Load per ready pod (highest in each column): '.' at most the target, '+' above, '#' above 1.5x"
    );
    let _ = writeln!(out, "        |{strip}");
}

/// The run as JSON: app, source, the HPA and options, the summary, every
/// scale event and the per-sync series (`time`, `load`, `desired`,
/// `replicas`, `ready`, `perPodLoad`).
pub fn json_report(sim: &Simulation, app: &str, source: &str) -> serde_json::Value {
    let mut value = serde_json::to_value(sim).expect("a simulation serializes");
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("app".into(), app.into());
        map.insert("source".into(), source.into());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_columns() {
        assert_eq!(clock(0), "0:00:00");
        assert_eq!(clock(3725), "1:02:05");
        assert_eq!(columns(1800), (30, 60));
        assert_eq!(columns(59), (1, 59));
        assert_eq!(columns(86400), (1440, 60));
        assert_eq!(columns(61), (2, 31));
    }
}
