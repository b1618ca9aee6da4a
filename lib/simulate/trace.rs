//! Load traces: where the simulated requests per second come from.
//!
//! The model only sees a [`Trace`], a list of `(seconds, requests per
//! second)` points; each source (a CSV file here, Prometheus later) turns
//! its input into one.

use std::path::Path;

use super::error::{PointError, TraceError};
use crate::spec::{SpecError, SpecErrorKind};
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
    pub fn new(points: Vec<(f64, f64)>) -> Result<Trace, TraceError> {
        for (index, &(time, load)) in points.iter().enumerate() {
            check_point(time, load, index.checked_sub(1).map(|i| points[i].0))
                .map_err(|error| TraceError::Point { index, error })?;
        }
        if points.len() < 2 {
            return Err(TraceError::TooShort);
        }
        Ok(Trace { points })
    }

    /// Reads CSV text with rows `seconds,requests_per_second`, an optional
    /// header line first, blank lines and `#` comments ignored. `origin`
    /// names the file in errors, which carry the 1-based line.
    ///
    /// What spreadsheets and exporters write is read as such: a UTF-8
    /// byte-order mark, CRLF line ends, fields in double quotes, and epoch
    /// timestamps. The time column is in milliseconds when the header names
    /// that unit (`ms`, `millis`, `milliseconds`, or a name ending in `_ms`
    /// or `(ms)`); with a header naming seconds (`s`, `sec`, `seconds`, or a
    /// name ending in `_s`, `_seconds` or `(s)`) it is in seconds; otherwise
    /// (no header, or a unitless name such as `time`) the first time decides:
    /// from [`EPOCH_MS_THRESHOLD`] (10^11, in milliseconds March 1973, in
    /// seconds the year 5138) it is epoch milliseconds, below it seconds. A
    /// header naming seconds over values from that threshold, a bare CR line
    /// end, and a `;` or tab separator are refused with the line.
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
        let error = |line: Option<u64>, message: String| {
            SpecError::new(origin, SpecErrorKind::Input(message)).at(line, None)
        };
        // "CSV UTF-8" as spreadsheets save it starts with a byte-order mark,
        // which would otherwise make the first row a "header".
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut points: Vec<(f64, f64)> = Vec::new();
        let mut seen_content = false;
        let mut last_line = 1;
        // From the header, then from the first row (see the docs above).
        let mut unit: Option<TimeUnit> = None;
        let mut header_unit: Option<TimeUnit> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = index as u64 + 1;
            last_line = number;
            // `lines()` ends a line at LF and drops a CR before it; a CR
            // elsewhere is a classic-Mac line end that would glue rows.
            if let Some(at) = raw.trim_end_matches('\r').find('\r') {
                return Err(error(
                    Some(number),
                    format!(
                        "a carriage return without a line feed at column {}: the file has classic \
                         Mac (CR) line ends; save it with LF or CRLF line ends",
                        at + 1
                    ),
                ));
            }
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first_content = !seen_content;
            seen_content = true;
            let fields: Vec<&str> = line.split(',').map(unquote).collect();
            // A header names its columns: a first field that starts like a
            // number (`0;10`, `10x`) is a bad row, reported as such.
            let is_header = first_content
                && fields.first().is_some_and(|f| {
                    f.parse::<f64>().is_err()
                        && !f.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
                        && !f.is_empty()
                });
            if is_header {
                header_unit = TimeUnit::from_header(fields[0]);
                continue;
            }
            let [time, load] = fields[..] else {
                let separator = [';', '\t']
                    .into_iter()
                    .find(|&c| fields.len() == 1 && line.contains(c))
                    .map(|c| format!(" (the fields are separated by {c:?}: use commas)"))
                    .unwrap_or_default();
                return Err(error(
                    Some(number),
                    format!(
                        "expected 2 fields `seconds,requests_per_second`, found {}{separator}",
                        fields.len()
                    ),
                ));
            };
            let time: f64 = time
                .parse()
                .map_err(|_| error(Some(number), format!("`{time}` is not a number of seconds")))?;
            let unit = *unit.get_or_insert_with(|| {
                header_unit.unwrap_or(if time >= EPOCH_MS_THRESHOLD {
                    TimeUnit::Milliseconds
                } else {
                    TimeUnit::Seconds
                })
            });
            if header_unit == Some(TimeUnit::Seconds) && time >= EPOCH_MS_THRESHOLD {
                return Err(error(
                    Some(number),
                    format!(
                        "time {time} is after the year 5000 in seconds, as the header says: \
                         for epoch milliseconds name the column `ms` or `milliseconds`"
                    ),
                ));
            }
            let time = match unit {
                TimeUnit::Seconds => time,
                TimeUnit::Milliseconds => time / 1000.0,
            };
            let load: f64 = load.parse().map_err(|_| {
                error(
                    Some(number),
                    format!("`{load}` is not a number of requests per second"),
                )
            })?;
            check_point(time, load, points.last().map(|p| p.0))
                .map_err(|e| error(Some(number), e.to_string()))?;
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
            return Err(error(Some(last_line), TraceError::TooShort.to_string()));
        }
        Ok(Trace { points })
    }

    /// Reads a CSV file (see [`Trace::from_csv`]).
    pub fn read_csv(path: &Path) -> Result<Trace, Error> {
        let bytes =
            crate::spec::read_bounded(path, crate::spec::MAX_SPEC_BYTES).map_err(|source| {
                Error::Read {
                    path: path.to_owned(),
                    source,
                }
            })?;
        let origin = path.display().to_string();
        // Excel's "Unicode text" is UTF-16: name it rather than "not UTF-8".
        if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
            return Err(SpecError::new(
                origin,
                SpecErrorKind::Input(
                    "the file is UTF-16 (it starts with a UTF-16 byte-order mark): save it as \
                     CSV UTF-8"
                        .into(),
                ),
            )
            .at(Some(1), None)
            .into());
        }
        let text = crate::spec::checked_text_of(&bytes, &origin, "load traces (CSV)")?;
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

/// The first time of a CSV without a unit in its header from which the
/// times are epoch milliseconds: 10^11 ms is 1973-03-03, 10^11 s the year
/// 5138, so an epoch timestamp of either unit falls on its own side.
pub const EPOCH_MS_THRESHOLD: f64 = 1e11;

/// The unit of a CSV's time column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeUnit {
    Seconds,
    Milliseconds,
}

impl TimeUnit {
    /// The unit a header's time column names, if any.
    fn from_header(name: &str) -> Option<TimeUnit> {
        let name = name.trim().to_ascii_lowercase();
        let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
        if ["ms", "millis", "milliseconds"].contains(&name.as_str())
            || ends(&["_ms", "(ms)", "[ms]", "_millis", "_milliseconds"])
        {
            Some(TimeUnit::Milliseconds)
        } else if ["s", "sec", "secs", "seconds"].contains(&name.as_str())
            || ends(&["_s", "_sec", "_seconds", "(s)", "[s]"])
        {
            Some(TimeUnit::Seconds)
        } else {
            None
        }
    }
}

/// A field without its surrounding spaces and double quotes.
fn unquote(field: &str) -> &str {
    let field = field.trim();
    field
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .map_or(field, str::trim)
}

fn check_point(time: f64, load: f64, previous: Option<f64>) -> Result<(), PointError> {
    if !time.is_finite() || time < 0.0 {
        return Err(PointError::Time(time));
    }
    if let Some(previous) = previous {
        if time <= previous {
            return Err(PointError::NotAscending { time, previous });
        }
    }
    if !load.is_finite() || load < 0.0 {
        return Err(PointError::Load(load));
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
    fn bom_crlf_quotes_and_epoch_units() {
        let plain = Trace::from_csv("seconds,rps\n0,10\n60,20\n120,0\n", "t.csv").unwrap();
        for text in [
            "\u{feff}seconds,rps\r\n0,10\r\n60,20\r\n120,0\r\n",
            "\u{feff}0,10\r\n60,20\r\n120,0",
            "\"seconds\",\"rps\"\n\"0\",\"10\"\n60,\" 20 \"\n120,0\n",
            "ms,rps\n0,10\n60000,20\n120000,0\n",
            "timestamp_ms,rps\n1700000000000,10\n1700000060000,20\n1700000120000,0\n",
            "time,rps\n1700000000000,10\n1700000060000,20\n1700000120000,0\n",
            "1700000000000,10\n1700000060000,20\n1700000120000,0\n",
            "time,rps\n1700000000,10\n1700000060,20\n1700000120,0\n",
            "seconds,rps\n1700000000.5,10\n1700000060.5,20\n1700000120.5,0\n",
        ] {
            let trace = Trace::from_csv(text, "t.csv").unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(
                trace.duration_seconds(),
                plain.duration_seconds(),
                "{text:?}"
            );
            assert_eq!(trace.load_at(59.0), 10.0, "{text:?}");
            assert_eq!(trace.load_at(60.0), 20.0, "{text:?}");
        }
        for (text, expected) in [
            ("0,1\r10,2\r\n", "t.csv:1: a carriage return without a line feed at column 4"),
            ("seconds,rps\n1700000000000,1\n1700000060000,1\n", "t.csv:2: time 1700000000000 is after the year 5000"),
            ("0;1\n10;2\n", "t.csv:1: expected 2 fields `seconds,requests_per_second`, found 1 (the fields are separated by ';'"),
            ("0\t1\n", "t.csv:1: expected 2 fields `seconds,requests_per_second`, found 1 (the fields are separated by '\\t'"),
        ] {
            let message = Trace::from_csv(text, "t.csv").unwrap_err().to_string();
            assert!(message.starts_with(expected), "{text:?}: {message}");
        }
        assert_eq!(
            TimeUnit::from_header("Time (ms)"),
            Some(TimeUnit::Milliseconds)
        );
        assert_eq!(
            TimeUnit::from_header("epoch_seconds"),
            Some(TimeUnit::Seconds)
        );
        assert_eq!(TimeUnit::from_header("timestamp"), None);
        assert_eq!(TimeUnit::from_header("items"), None);
    }

    #[test]
    fn new_checks_points() {
        assert!(Trace::new(vec![(0.0, 1.0), (1.0, 1.0)]).is_ok());
        assert_eq!(
            Trace::new(vec![(0.0, 1.0)]).unwrap_err(),
            TraceError::TooShort
        );
        let error = Trace::new(vec![(0.0, 1.0), (0.0, 1.0)]).unwrap_err();
        assert_eq!(
            error,
            TraceError::Point {
                index: 1,
                error: PointError::NotAscending {
                    time: 0.0,
                    previous: 0.0
                }
            }
        );
        assert!(error.to_string().starts_with("point 1:"), "{error}");
    }
}
