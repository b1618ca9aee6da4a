//! Load traces: where the simulated requests per second come from.
//!
//! The model only sees a [`Trace`], a list of `(seconds, requests per
//! second)` points; each source (a CSV file here, Prometheus later) turns
//! its input into one.

use std::path::Path;

use crate::spec::SpecError;
use crate::Error;

/// A load trace: a step function of time.
///
/// Between two points the load is the earlier point's value; the last
/// point's time is the end of the trace (its value is not replayed). Times
/// are seconds, strictly ascending and non-negative; loads are requests per
/// second, non-negative. The simulation's clock starts at the first point.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    points: Vec<(f64, f64)>,
}

impl Trace {
    /// A trace from `(seconds, requests_per_second)` points, checked: at
    /// least two points, finite values, times strictly ascending and not
    /// negative, loads not negative. The message says which point is wrong
    /// (0-based).
    pub fn new(points: Vec<(f64, f64)>) -> Result<Trace, String> {
        for (index, &(time, load)) in points.iter().enumerate() {
            check_point(time, load, index.checked_sub(1).map(|i| points[i].0))
                .map_err(|message| format!("point {index}: {message}"))?;
        }
        if points.len() < 2 {
            return Err(TOO_SHORT.into());
        }
        Ok(Trace { points })
    }

    /// Reads CSV text with rows `seconds,requests_per_second`, an optional
    /// header line first, blank lines and `#` comments ignored. `origin`
    /// names the file in errors, which carry the 1-based line.
    ///
    /// ```
    /// use custom_metrics_manifests::simulate::Trace;
    ///
    /// let trace = Trace::from_csv("seconds,rps\n0,10\n60,20\n120,0\n", "load.csv").unwrap();
    /// assert_eq!(trace.duration_seconds(), 120.0);
    /// assert_eq!(trace.load_at(59.0), 10.0);
    /// let error = Trace::from_csv("0,10\n60,x\n", "load.csv").unwrap_err();
    /// assert_eq!(error.to_string(), "load.csv:2: `x` is not a number of requests per second");
    /// ```
    pub fn from_csv(text: &str, origin: &str) -> Result<Trace, SpecError> {
        let error = |line: Option<u64>, message: String| SpecError {
            origin: origin.to_owned(),
            line,
            column: None,
            field: String::new(),
            message,
        };
        let mut points: Vec<(f64, f64)> = Vec::new();
        let mut seen_content = false;
        let mut last_line = 1;
        for (index, raw) in text.lines().enumerate() {
            let number = index as u64 + 1;
            last_line = number;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first_content = !seen_content;
            seen_content = true;
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let is_header = first_content
                && fields
                    .first()
                    .is_some_and(|f| f.parse::<f64>().is_err() && !f.is_empty());
            if is_header {
                continue;
            }
            let [time, load] = fields[..] else {
                return Err(error(
                    Some(number),
                    format!(
                        "expected 2 fields `seconds,requests_per_second`, found {}",
                        fields.len()
                    ),
                ));
            };
            let time: f64 = time
                .parse()
                .map_err(|_| error(Some(number), format!("`{time}` is not a number of seconds")))?;
            let load: f64 = load.parse().map_err(|_| {
                error(
                    Some(number),
                    format!("`{load}` is not a number of requests per second"),
                )
            })?;
            check_point(time, load, points.last().map(|p| p.0))
                .map_err(|message| error(Some(number), message))?;
            points.push((time, load));
        }
        // Both point at the last line, where more rows were expected.
        if points.is_empty() {
            return Err(error(
                Some(last_line),
                "no data rows: expected `seconds,requests_per_second` lines".into(),
            ));
        }
        if points.len() < 2 {
            return Err(error(Some(last_line), TOO_SHORT.into()));
        }
        Ok(Trace { points })
    }

    /// Reads a CSV file (see [`Trace::from_csv`]).
    pub fn read_csv(path: &Path) -> Result<Trace, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let origin = path.display().to_string();
        let text = crate::spec::checked_text(&bytes, &origin)?;
        Ok(Trace::from_csv(text, &origin)?)
    }

    /// The points, as given.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// Seconds from the first point to the last.
    pub fn duration_seconds(&self) -> f64 {
        self.points[self.points.len() - 1].0 - self.points[0].0
    }

    /// The load `seconds` after the first point: the value of the last point
    /// at or before that time.
    pub fn load_at(&self, seconds: f64) -> f64 {
        let time = self.points[0].0 + seconds;
        let after = self.points.partition_point(|&(t, _)| t <= time);
        self.points[after.saturating_sub(1)].1
    }

    /// The lowest and highest load replayed (the last point's value is not).
    pub fn load_range(&self) -> (f64, f64) {
        let replayed = &self.points[..self.points.len() - 1];
        replayed
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, l)| {
                (lo.min(l), hi.max(l))
            })
    }
}

const TOO_SHORT: &str =
    "the trace needs at least two rows: the last row's time is the end of the trace";

fn check_point(time: f64, load: f64, previous: Option<f64>) -> Result<(), String> {
    if !time.is_finite() || time < 0.0 {
        return Err(format!(
            "time {time} is not a non-negative number of seconds"
        ));
    }
    if let Some(previous) = previous {
        if time <= previous {
            return Err(format!(
                "time {time} is not after the previous row's {previous}: times must ascend"
            ));
        }
    }
    if !load.is_finite() || load < 0.0 {
        return Err(format!(
            "load {load} is not a non-negative number of requests per second"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_header_comments_and_blank_lines() {
        let trace = Trace::from_csv(
            "# load\nseconds, requests_per_second\n\n0, 1.5\n10,2\n20,0\n",
            "t.csv",
        )
        .unwrap();
        assert_eq!(trace.points(), &[(0.0, 1.5), (10.0, 2.0), (20.0, 0.0)]);
        assert_eq!(trace.load_at(0.0), 1.5);
        assert_eq!(trace.load_at(9.9), 1.5);
        assert_eq!(trace.load_at(10.0), 2.0);
        assert_eq!(trace.load_range(), (1.5, 2.0));
    }

    #[test]
    fn times_are_relative_to_the_first_row() {
        let trace = Trace::from_csv("1000,1\n1060,5\n1120,5\n", "t.csv").unwrap();
        assert_eq!(trace.duration_seconds(), 120.0);
        assert_eq!(trace.load_at(60.0), 5.0);
    }

    #[test]
    fn bad_rows_name_the_line() {
        for (text, expected) in [
            ("0,1\n10,2\n5,3\n", "t.csv:3: time 5 is not after"),
            ("0,1\n10,-2\n", "t.csv:2: load -2 is not"),
            (
                "seconds,rps\n0,1\nten,2\n",
                "t.csv:3: `ten` is not a number of seconds",
            ),
            ("0,1,2\n", "t.csv:1: expected 2 fields"),
            ("-1,1\n2,1\n", "t.csv:1: time -1"),
            ("0,1\n10,NaN\n", "t.csv:2: load NaN"),
            ("", "t.csv:1: no data rows"),
            ("seconds,rps\n\n", "t.csv:2: no data rows"),
            ("0,1\n", "t.csv:1: the trace needs at least two rows"),
        ] {
            let message = Trace::from_csv(text, "t.csv").unwrap_err().to_string();
            assert!(message.starts_with(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn new_checks_points() {
        assert!(Trace::new(vec![(0.0, 1.0), (1.0, 1.0)]).is_ok());
        assert!(Trace::new(vec![(0.0, 1.0)]).is_err());
        assert!(Trace::new(vec![(0.0, 1.0), (0.0, 1.0)])
            .unwrap_err()
            .starts_with("point 1:"));
    }
}
