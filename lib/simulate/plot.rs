//! Charts of a [`Simulation`]: the offered load, the load per running pod
//! and the value the HPA sees against the target (and capacity), and
//! replicas, over time; as SVG and as PNG.
//!
//! Text in the PNG is drawn with DejaVu Sans, compiled in from the `dejavu`
//! crate and registered with plotters' pure-Rust `ab_glyph` renderer, so no
//! font file is needed at run time. The SVG names the `sans-serif` family
//! and lets the viewer draw it.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::error::PlotError;
use super::model::Simulation;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 700;
/// Most points per series: longer runs are reduced to the highest value of
/// each group of seconds, so peaks stay visible.
const MAX_POINTS: usize = 2000;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the crate.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

fn plot_error(step: &'static str, image: &'static str, error: impl std::fmt::Display) -> PlotError {
    PlotError {
        step,
        image,
        message: error.to_string(),
    }
}

/// The chart as an SVG document; `title` heads it.
pub fn render_svg(sim: &Simulation, title: &str) -> Result<String, PlotError> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, sim, title).map_err(|e| plot_error("draw", "SVG", e))?;
        root.present().map_err(|e| plot_error("draw", "SVG", e))?;
    }
    Ok(svg)
}

/// The chart as a PNG image (RGB, 1000 x 700); `title` heads it.
pub fn render_png(sim: &Simulation, title: &str) -> Result<Vec<u8>, PlotError> {
    register_font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, sim, title).map_err(|e| plot_error("draw", "PNG", e))?;
        root.present().map_err(|e| plot_error("draw", "PNG", e))?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| plot_error("encode", "PNG", e))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| plot_error("encode", "PNG", e))?;
    }
    Ok(png)
}

/// The files `--plot FILE.svg` writes: the SVG at `svg_path` and the PNG
/// next to it (same name, `.png`), ready for
/// [`write_atomically`](crate::output::write_atomically).
pub fn plot_files(
    sim: &Simulation,
    title: &str,
    svg_path: &Path,
) -> Result<Vec<(PathBuf, Vec<u8>)>, PlotError> {
    let svg = render_svg(sim, title)?;
    let png = render_png(sim, title)?;
    Ok(vec![
        (svg_path.to_owned(), svg.into_bytes()),
        (svg_path.with_extension("png"), png),
    ])
}

/// Up to [`MAX_POINTS`] steps per series: each a start time and, over its
/// stretch, the highest total load, load per running pod and value seen,
/// the highest replicas and the lowest running pods.
type Point = (f64, f64, f64, Option<f64>, u32, u32);

fn reduced(sim: &Simulation) -> Vec<Point> {
    let duration = sim.summary.duration_seconds as f64;
    let segments = &sim.segments;
    if segments.len() <= MAX_POINTS || duration <= 0.0 {
        return segments
            .iter()
            .map(|s| (s.start, s.load, s.per_pod_load, s.seen, s.replicas, s.ready))
            .collect();
    }
    let width = duration / MAX_POINTS as f64;
    let mut out: Vec<Point> = Vec::with_capacity(MAX_POINTS);
    for s in segments {
        let bucket = ((s.start / width).floor() as usize).min(MAX_POINTS - 1);
        let start = bucket as f64 * width;
        match out.last_mut() {
            Some(p) if p.0 == start => {
                p.1 = p.1.max(s.load);
                p.2 = p.2.max(s.per_pod_load);
                p.3 = match (p.3, s.seen) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                p.4 = p.4.max(s.replicas);
                p.5 = p.5.min(s.ready);
            }
            _ => out.push((
                start.max(s.start.min(start)),
                s.load,
                s.per_pod_load,
                s.seen,
                s.replicas,
                s.ready,
            )),
        }
    }
    out
}

/// A step line through `(time, value)` points, ending at `end`.
fn steps(points: impl Iterator<Item = (f64, f64)>, end: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (time, value) in points {
        if let Some(&(_, previous)) = out.last() {
            out.push((time, previous));
        }
        out.push((time, value));
    }
    if let Some(&(_, last)) = out.last() {
        out.push((end, last));
    }
    out
}

type DrawResult<E> = Result<(), DrawingAreaErrorKind<E>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    sim: &Simulation,
    title: &str,
) -> DrawResult<DB::ErrorType> {
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (upper, lower) = root.split_vertically(HEIGHT * 62 / 100 - 20);
    let (offered, per_pod_area) = upper.split_vertically(HEIGHT * 22 / 100);
    let points = reduced(sim);
    let seconds = (sim.summary.duration_seconds as f64).max(1.0);
    let (unit, unit_name) = if seconds <= 3.0 * 3600.0 {
        (60.0, "minutes")
    } else {
        (3600.0, "hours")
    };
    let end = seconds / unit;
    let points: Vec<Point> = points
        .into_iter()
        .map(|(t, load, per_pod, seen, replicas, ready)| {
            (t / unit, load, per_pod, seen, replicas, ready)
        })
        .collect();

    let peak_load = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
    let mut total = ChartBuilder::on(&offered)
        .caption("Offered load (req/s, all pods)", ("sans-serif", 16))
        .margin(6)
        .x_label_area_size(20)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..peak_load)?;
    total
        .configure_mesh()
        .x_labels(10)
        .y_labels(3)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let purple = RGBColor(120, 60, 160);
    total.draw_series(LineSeries::new(
        steps(points.iter().map(|p| (p.0, p.1)), end),
        purple.stroke_width(2),
    ))?;

    let target = sim.autoscaler.target;
    let finite_peak = points
        .iter()
        .flat_map(|p| [p.2, p.3.unwrap_or(0.0)])
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let line = sim.options.capacity.unwrap_or(target).max(target);
    let y_max = finite_peak.max(1.6 * line) * 1.1;

    let mut load = ChartBuilder::on(&per_pod_area)
        .caption(
            "Per running pod (req/s): the load, and the value the HPA sees",
            ("sans-serif", 16),
        )
        .margin(6)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..y_max)?;
    load.configure_mesh()
        .x_labels(10)
        .y_labels(6)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    load.draw_series(LineSeries::new(
        vec![(0.0, target), (end, target)],
        RED.stroke_width(2),
    ))?
    .label(format!("target {target}"))
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    if let Some(capacity) = sim.options.capacity {
        let orange = RGBColor(230, 140, 0);
        load.draw_series(DashedLineSeries::new(
            vec![(0.0, capacity), (end, capacity)],
            8,
            6,
            orange.stroke_width(2),
        ))?
        .label(format!("capacity {capacity}"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    }
    let per_pod = steps(points.iter().map(|p| (p.0, p.2.min(y_max))), end);
    load.draw_series(LineSeries::new(per_pod, BLUE.stroke_width(2)))?
        .label("load per running pod")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let grey = RGBColor(90, 90, 90);
    let seen = steps(
        points.iter().map(|p| (p.0, p.3.unwrap_or(0.0).min(y_max))),
        end,
    );
    load.draw_series(LineSeries::new(seen, grey.stroke_width(2)))?
        .label("value the HPA sees")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(2)));
    load.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;

    let peak = points.iter().map(|p| p.4).max().unwrap_or(1).max(1);
    let mut replicas = ChartBuilder::on(&lower)
        .caption("Replicas", ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..(f64::from(peak) * 1.15 + 0.5))?;
    replicas
        .configure_mesh()
        .x_desc(unit_name)
        .x_labels(10)
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let green = RGBColor(0, 150, 60);
    replicas
        .draw_series(LineSeries::new(
            steps(points.iter().map(|p| (p.0, f64::from(p.4))), end),
            BLUE.stroke_width(2),
        ))?
        .label("replicas")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    replicas
        .draw_series(LineSeries::new(
            steps(points.iter().map(|p| (p.0, f64::from(p.5))), end),
            green.stroke_width(2),
        ))?
        .label("running pods")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(2)));
    replicas
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_hold_each_value_until_the_next() {
        assert_eq!(
            steps([(0.0, 1.0), (10.0, 3.0)].into_iter(), 20.0),
            vec![(0.0, 1.0), (10.0, 1.0), (10.0, 3.0), (20.0, 3.0)]
        );
    }
}
