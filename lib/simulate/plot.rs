//! Charts of a [`Simulation`]: load per ready pod against the target, and
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

/// The chart as an SVG document; `title` heads it.
pub fn render_svg(sim: &Simulation, title: &str) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, sim, title).map_err(|e| format!("cannot draw the SVG chart: {e}"))?;
        root.present()
            .map_err(|e| format!("cannot draw the SVG chart: {e}"))?;
    }
    Ok(svg)
}

/// The chart as a PNG image (RGB, 1000 x 700); `title` heads it.
pub fn render_png(sim: &Simulation, title: &str) -> Result<Vec<u8>, String> {
    register_font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, sim, title).map_err(|e| format!("cannot draw the PNG chart: {e}"))?;
        root.present()
            .map_err(|e| format!("cannot draw the PNG chart: {e}"))?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| format!("cannot encode the PNG chart: {e}"))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| format!("cannot encode the PNG chart: {e}"))?;
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
) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let svg = render_svg(sim, title)?;
    let png = render_png(sim, title)?;
    Ok(vec![
        (svg_path.to_owned(), svg.into_bytes()),
        (svg_path.with_extension("png"), png),
    ])
}

/// Per group of seconds: start time, highest load per ready pod, highest
/// replicas, lowest ready pods.
fn reduced(sim: &Simulation) -> Vec<(f64, f64, u32, u32)> {
    let group = sim.seconds.len().div_ceil(MAX_POINTS).max(1);
    sim.seconds
        .chunks(group)
        .enumerate()
        .map(|(index, chunk)| {
            (
                (index * group) as f64,
                chunk.iter().map(|s| s.per_pod_load).fold(0.0, f64::max),
                chunk.iter().map(|s| s.replicas).max().unwrap_or(0),
                chunk.iter().map(|s| s.ready).min().unwrap_or(0),
            )
        })
        .collect()
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
    let (upper, lower) = root.split_vertically(HEIGHT * 55 / 100 - 20);
    let points = reduced(sim);
    let seconds = sim.seconds.len().max(1) as f64;
    let (unit, unit_name) = if seconds <= 3.0 * 3600.0 {
        (60.0, "minutes")
    } else {
        (3600.0, "hours")
    };
    let end = seconds / unit;
    let points: Vec<(f64, f64, u32, u32)> = points
        .into_iter()
        .map(|(t, load, replicas, ready)| (t / unit, load, replicas, ready))
        .collect();
    let target = sim.autoscaler.target;
    let finite_peak = points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y_max = finite_peak.max(1.6 * target) * 1.1;

    let mut load = ChartBuilder::on(&upper)
        .caption(
            "Load per ready pod (req/s) against the target",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..y_max)?;
    load.configure_mesh()
        .x_desc(unit_name)
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
    let orange = RGBColor(230, 140, 0);
    load.draw_series(DashedLineSeries::new(
        vec![(0.0, 1.5 * target), (end, 1.5 * target)],
        8,
        6,
        orange.stroke_width(1),
    ))?
    .label(format!("1.5 x target {}", 1.5 * target))
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(1)));
    let per_pod = steps(points.iter().map(|p| (p.0, p.1.min(y_max))), end);
    load.draw_series(LineSeries::new(per_pod, BLUE.stroke_width(2)))?
        .label("load per ready pod")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    load.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;

    let peak = points.iter().map(|p| p.2).max().unwrap_or(1).max(1);
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
            steps(points.iter().map(|p| (p.0, f64::from(p.2))), end),
            BLUE.stroke_width(2),
        ))?
        .label("replicas")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    replicas
        .draw_series(LineSeries::new(
            steps(points.iter().map(|p| (p.0, f64::from(p.3))), end),
            green.stroke_width(2),
        ))?
        .label("ready pods")
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
