//! The terminal and JSON views of a [`Simulation`].

use std::fmt::Write;

use serde::Serialize;

use crate::spec::{PolicyKind, SelectPolicy};

use super::controller::ScalingRules;
use super::model::{Segment, Simulation, FLAP_WINDOW_SECONDS};

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

pub(crate) fn rules_line(rules: &ScalingRules, flag_window: u64) -> String {
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
    let line = match rules.stabilization_window_seconds {
        Some(window) => format!("window {window} s, {select}"),
        None => format!("window {flag_window} s (the controller's flag), {select}"),
    };
    match rules.tolerance {
        Some(tolerance) => format!("{line}, tolerance {tolerance}"),
        None => line,
    }
}

/// The summary, a fixed-width ASCII chart of replicas and load per pod over
/// time, and the scale events, for a terminal. `title` says what was
/// simulated (app and trace). At most 40 scale events are listed; a last
/// line counts the others (the JSON report has them all).
pub fn text_report(sim: &Simulation, title: &str) -> String {
    let (mut out, left_out) = text_body(sim, title);
    if let Some(count) = left_out {
        let _ = writeln!(out, "{}", left_out_line(count));
    }
    out
}

/// The line that counts the scale events a text report leaves out.
pub(crate) fn left_out_line(count: usize) -> String {
    format!("  ... {count} more")
}

/// [`text_report`] without its last line, and the count of scale events
/// that line would give.
pub(crate) fn text_body(sim: &Simulation, title: &str) -> (String, Option<usize>) {
    let hpa = &sim.autoscaler;
    let s = &sim.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Simulation of {title}: {} s ({})",
        s.duration_seconds,
        clock(s.duration_seconds)
    );
    let o = &sim.options;
    let _ = writeln!(
        out,
        "  HPA: target {} per pod, replicas {}..{}, starting at {}",
        hpa.target,
        hpa.spec.min_replicas,
        hpa.spec.max_replicas,
        o.initial_replicas
            .map_or(hpa.spec.min_replicas.max(0) as u32, |r| r)
    );
    if let super::model::MetricTarget::External { .. } = hpa.metric {
        let read = match o.keda_polling_interval_seconds {
            Some(seconds) => {
                format!("the value of KEDA's last poll (useCachedMetrics, every {seconds} s)")
            }
            None => "a fresh query at each sync (KEDA's metrics server)".to_owned(),
        };
        let _ = writeln!(
            out,
            "  metric: External through KEDA: the app's total, ceil(total / target) replicas; {read}"
        );
    }
    let _ = writeln!(
        out,
        "  controller: sync {} s, tolerance {}, downscale stabilization {} s",
        o.sync_period_seconds, o.tolerance, o.downscale_stabilization_seconds
    );
    let window = o
        .rate_window_seconds
        .map_or("no rate() window".to_owned(), |w| {
            format!("rate window {w} s")
        });
    let _ = writeln!(
        out,
        "  pipeline: scrape every {} s, {window}, pods Pending {} s",
        o.scrape_interval_seconds, o.pod_startup_seconds
    );
    match &hpa.spec.behavior {
        Some(behavior) => {
            let _ = writeln!(
                out,
                "  scaleUp:   {}",
                rules_line(&behavior.scale_up, o.downscale_stabilization_seconds)
            );
            let _ = writeln!(
                out,
                "  scaleDown: {}",
                rules_line(&behavior.scale_down, o.downscale_stabilization_seconds)
            );
            let set =
                behavior.scale_up.tolerance.is_some() || behavior.scale_down.tolerance.is_some();
            if set && !o.configurable_tolerance {
                let _ = writeln!(
                    out,
                    "  (the tolerances above are ignored: HPAConfigurableTolerance is off; {} both ways)",
                    o.tolerance
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "  behavior:  none (legacy path: up to max(2 x current, 4) per sync, down after {} s)",
                o.downscale_stabilization_seconds
            );
        }
    }
    out.push('\n');
    out.push_str("Summary\n");
    let average = if s.duration_seconds == 0 {
        0.0
    } else {
        s.pod_seconds as f64 / s.duration_seconds as f64
    };
    let mut rows: Vec<(&str, String, String)> = vec![
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
            format!("load per running pod > {}", hpa.target),
        ),
    ];
    if let (Some(seconds), Some(capacity)) = (s.seconds_above_capacity, o.capacity) {
        rows.push((
            "seconds above capacity",
            seconds.to_string(),
            format!("load per running pod > {capacity}"),
        ));
    }
    rows.push(("scale events", s.scale_events.to_string(), String::new()));
    rows.push((
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
    ));
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
        let (load, desired, seen) = sample.map_or((0.0, 0, None), |x| (x.load, x.desired, x.seen));
        let seen = seen.map_or("no value".to_owned(), |v| format!("{v}/pod"));
        let _ = writeln!(
            out,
            "  {}  {:>4} -> {:<4} load {load} req/s, HPA saw {seen}, metric recommends {desired}",
            clock(event.time),
            event.from,
            event.to
        );
    }
    let left_out = (sim.events.len() > MAX_EVENT_LINES).then(|| sim.events.len() - MAX_EVENT_LINES);
    (out, left_out)
}

/// Seconds per chart column and the number of columns.
pub(crate) fn columns(duration: usize) -> (usize, usize) {
    if duration == 0 {
        return (1, 0);
    }
    let per_column = duration.div_ceil(CHART_WIDTH);
    (per_column, duration.div_ceil(per_column))
}

/// Per chart column: the highest replicas and the highest load per running
/// pod among the segments overlapping it.
pub(crate) fn buckets(segments: &[Segment], duration: f64, count: usize) -> Vec<(u32, f64)> {
    let mut out = vec![(0u32, 0.0f64); count];
    if count == 0 || duration <= 0.0 {
        return out;
    }
    let width = duration / count as f64;
    for segment in segments {
        let first = ((segment.start / width).floor() as usize).min(count - 1);
        let last = (((segment.end / width).ceil() as usize).max(first + 1)).min(count);
        for bucket in &mut out[first..last] {
            bucket.0 = bucket.0.max(segment.replicas);
            bucket.1 = bucket.1.max(segment.per_pod_load);
        }
    }
    out
}

fn chart(out: &mut String, sim: &Simulation) {
    let duration = sim.summary.duration_seconds as usize;
    let (per_column, count) = columns(duration);
    let buckets = buckets(&sim.segments, (per_column * count) as f64, count);
    let replicas: Vec<u32> = buckets.iter().map(|b| b.0).collect();
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
                1 + ((u64::from(k) - 1) * (u64::from(peak) - 1) / (u64::from(height) - 1)) as u32
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
    let end = clock(duration as u64);
    let middle = clock(duration as u64 / 2);
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
    let (line, name) = match sim.options.capacity {
        Some(capacity) => (capacity, "the capacity"),
        None => (sim.autoscaler.target, "the target"),
    };
    let strip: String = buckets
        .iter()
        .map(|b| {
            if b.1 > 1.5 * line {
                '#'
            } else if b.1 > line {
                '+'
            } else {
                '.'
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "Load per running pod (highest in each column): '.' at most {name}, '+' above, '#' above 1.5x"
    );
    let _ = writeln!(out, "        |{strip}");
}

/// The run as JSON: app, source, the HPA and options, the summary, every
/// scale event and the per-sync series (`time`, `load` offered, `seen` by
/// the HPA, `desired`, `replicas`, `ready`, `perPodLoad`).
pub fn json_report<'a>(sim: &'a Simulation, app: &'a str, source: &'a str) -> JsonReport<'a> {
    JsonReport {
        app,
        source,
        simulation: sim,
    }
}

/// One run's JSON report ([`json_report`]): the simulation's fields and
/// the app and load source it ran for, in one object. Through
/// `serde_json::Value` (whose maps sort their keys) it is what
/// [`write_json_report`] streams.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct JsonReport<'a> {
    /// The app simulated.
    pub app: &'a str,
    /// The load source, as reports name it.
    pub source: &'a str,
    /// The run.
    #[serde(flatten)]
    pub simulation: &'a Simulation,
}

/// Writes [`json_report`]'s text (pretty-printed, keys sorted, a final
/// newline) to `out`, byte for byte, without building it: the series and
/// the events, which grow with the trace, are written one entry at a
/// time, so a run at [`super::MAX_STEPS`] prints in constant memory.
pub fn write_json_report(
    sim: &Simulation,
    app: &str,
    source: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    /// A [`Sample`] with its keys in sorted order, as [`json_report`]'s
    /// map prints them.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SampleKeys<'a> {
        desired: u32,
        load: f64,
        per_pod_load: f64,
        ready: u32,
        replicas: u32,
        seen: &'a Option<f64>,
        time: u64,
    }
    #[derive(Serialize)]
    struct EventKeys {
        from: u32,
        time: u64,
        to: u32,
    }
    out.write_all(b"{\n  \"app\": ")?;
    out.write_all(pretty(&app)?.as_bytes())?;
    out.write_all(b",\n  \"autoscaler\": ")?;
    out.write_all(indent(&pretty(&sorted(&sim.autoscaler)?)?).as_bytes())?;
    out.write_all(b",\n  \"events\": ")?;
    write_array(
        out,
        sim.events.iter().map(|e| EventKeys {
            from: e.from,
            time: e.time,
            to: e.to,
        }),
    )?;
    out.write_all(b",\n  \"options\": ")?;
    out.write_all(indent(&pretty(&sorted(&sim.options)?)?).as_bytes())?;
    out.write_all(b",\n  \"series\": ")?;
    write_array(
        out,
        sim.series.iter().map(|s| SampleKeys {
            desired: s.desired,
            load: s.load,
            per_pod_load: s.per_pod_load,
            ready: s.ready,
            replicas: s.replicas,
            seen: &s.seen,
            time: s.time,
        }),
    )?;
    out.write_all(b",\n  \"source\": ")?;
    out.write_all(pretty(&source)?.as_bytes())?;
    out.write_all(b",\n  \"summary\": ")?;
    out.write_all(indent(&pretty(&sorted(&sim.summary)?)?).as_bytes())?;
    out.write_all(b"\n}\n")
}

/// A small value through `serde_json::Value`, whose maps sort their keys.
fn sorted(value: &impl Serialize) -> std::io::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(std::io::Error::other)
}

/// Pretty JSON of a value nested one level deep: every line after the
/// first indented by two spaces.
fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

/// A JSON array one level deep, one item at a time (each item's keys in
/// the order it serializes them).
fn write_array<T: Serialize>(
    out: &mut dyn std::io::Write,
    items: impl Iterator<Item = T>,
) -> std::io::Result<()> {
    let mut items = items.peekable();
    if items.peek().is_none() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let mut buffer = Vec::new();
    let mut first = true;
    for item in items {
        buffer.clear();
        serde_json::to_writer_pretty(&mut buffer, &item).map_err(std::io::Error::other)?;
        out.write_all(if first { b"\n    " } else { b",\n    " })?;
        first = false;
        // Items sit two levels deep: four spaces before each line.
        for (index, line) in buffer.split(|&b| b == b'\n').enumerate() {
            if index > 0 {
                out.write_all(b"\n    ")?;
            }
            out.write_all(line)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// Pretty JSON of a value.
fn pretty<T: Serialize + ?Sized>(value: &T) -> std::io::Result<String> {
    serde_json::to_string_pretty(value).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_json_is_the_json_report_byte_for_byte() {
        use crate::simulate::{run, Autoscaler, SimOptions, Trace};
        // Scale events both ways, and a run without any; values JSON has
        // no number for (null) planted in the series.
        let trace = Trace::new(vec![
            (0.0, 10.0),
            (300.0, 100.0),
            (900.0, 0.0),
            (1800.0, 0.0),
        ])
        .unwrap();
        let options = SimOptions {
            pod_startup_seconds: 60,
            ..SimOptions::default()
        };
        for autoscaler in [
            Autoscaler::new(10.0, 1, 20, None),
            Autoscaler::new(1000.0, 1, 1, None),
        ] {
            let mut sim = run(&autoscaler, &trace, &options).unwrap();
            sim.series[0].seen = None;
            sim.series[1].per_pod_load = f64::INFINITY;
            sim.series[2].load = f64::NAN;
            let mut streamed = Vec::new();
            write_json_report(&sim, "web", "load \"x\".csv", &mut streamed).unwrap();
            let built = serde_json::to_value(json_report(&sim, "web", "load \"x\".csv")).unwrap();
            let expected = format!("{}\n", serde_json::to_string_pretty(&built).unwrap());
            assert_eq!(String::from_utf8(streamed).unwrap(), expected);
        }
    }

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
