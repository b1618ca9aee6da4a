//! Typed values for the parts of the spec whose domain has rules: object and
//! namespace names, durations, quantities and image references.
//!
//! Each type validates itself when it is deserialized, so a bad value is
//! reported by the YAML reader with its line and column, and no code past
//! parsing ever holds an invalid one.
//!
//! ```
//! use custom_metrics_manifests::values::{Duration, Image, Name};
//!
//! let name: Name = "my-app".parse().unwrap();
//! assert_eq!(name.as_str(), "my-app");
//! assert!("My_App".parse::<Name>().is_err());
//!
//! let window: Duration = "2m30s".parse().unwrap();
//! assert_eq!(window.as_secs(), 150);
//!
//! let image: Image = "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0".parse().unwrap();
//! assert_eq!(image.version(), Some((0, 12, 0)));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Implements `Deserialize` through `FromStr` and `Serialize`/`Display`
/// through the original spelling, so values round-trip byte for byte.
macro_rules! string_value {
    ($ty:ident, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = <$ty as FromStr>::Err;
            fn try_from(text: &str) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl $ty {
            #[doc = concat!("The ", $expecting, " as written.")]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

/// A Kubernetes object or namespace name: a DNS-1123 label (lower-case
/// alphanumerics and `-`, starting and ending alphanumeric, at most 63
/// characters). Namespaces must be labels, and the adapter's name is also a
/// Service name, so one rule covers every name the spec holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl FromStr for Name {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        check_dns1123_label(text)?;
        Ok(Name(text.to_owned()))
    }
}

string_value!(Name, "name");

/// Checks `text` against RFC 1123's label rule as Kubernetes applies it.
pub fn check_dns1123_label(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("a name must not be empty".into());
    }
    if text.len() > 63 {
        return Err(format!(
            "`{text}` is {} characters long; a DNS-1123 label has at most 63",
            text.len()
        ));
    }
    let valid_chars = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = text.as_bytes();
    if !valid_chars || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(format!(
            "`{text}` is not a DNS-1123 label: use lower-case letters, digits and `-`, \
             starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// Why a duration was refused: one variant per rule, shared by
/// [`Duration`] (Prometheus' grammar) and [`GoDuration`] (Go's).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not the grammar at all.
    #[error(
        "`{0}` is not a duration: write numbers with units from largest to smallest, \
         such as 30s, 1m, 2m30s or 1h (units in this order: y, w, d, h, m, s, ms)"
    )]
    Prometheus(String),
    /// Not Go's `time.ParseDuration` grammar.
    #[error(
        "`{0}` is not a Go duration: write numbers with units, such as 30s, 1m, 1m30s or 1.5h \
         (units: ns, us, ms, s, m, h)"
    )]
    Go(String),
    /// A unit Go does not know, `d` and `w` in particular.
    #[error(
        "`{text}` is not a Go duration: the adapter's flag parser (Go's time.ParseDuration) \
         has no unit `{unit}`; use ns, us, ms, s, m or h (1d is 24h)"
    )]
    GoUnit {
        /// The duration as written.
        text: String,
        /// The unknown unit.
        unit: String,
    },
    /// Zero or negative where a wait is meant.
    #[error("`{0}` is not positive: give a duration greater than zero")]
    NotPositive(String),
    /// Larger than the reader can hold.
    #[error("`{0}` overflows the duration type of its reader")]
    Overflow(String),
    /// Outside the bounds of the field it is for.
    #[error("`{text}` is out of range: {field} must be from {min} to {max}")]
    OutOfRange {
        /// The duration as written.
        text: String,
        /// What it is for (`a scrape interval`).
        field: &'static str,
        /// Smallest accepted, as written in the message.
        min: &'static str,
        /// Largest accepted.
        max: &'static str,
    },
}

/// A Prometheus duration such as `30s`, `1m`, `2m30s` or `1h`, for what
/// Prometheus, the Prometheus Operator and the adapter's `config.yaml` read
/// (ServiceMonitor `interval`, `scrapeInterval`, resource rules' `window`).
///
/// The grammar is promql-parser's `util::parse_duration`, which is
/// Prometheus' `model.ParseDuration`: units in the order y, w, d, h, m, s,
/// ms, each at most once (`30s1m` is refused), and it matches the
/// Prometheus Operator CRD's pattern for `interval`
/// (`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`).
/// A bare number (which PromQL reads as seconds, but neither the CRD nor
/// Prometheus' configuration does) and zero are refused.
///
/// Kept as written and as milliseconds for comparisons such as "rate window
/// >= 4 x scrape".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration(String, u64);

impl Duration {
    /// The duration in whole seconds (sub-second parts are rounded down).
    pub fn as_secs(&self) -> u64 {
        self.1 / 1000
    }

    /// The duration in milliseconds.
    pub fn as_millis(&self) -> u64 {
        self.1
    }

    /// Refuses the duration unless `min_ms <= it <= max_ms`; `field`, `min`
    /// and `max` word the message.
    pub fn check_range(
        &self,
        field: &'static str,
        (min_ms, min): (u64, &'static str),
        (max_ms, max): (u64, &'static str),
    ) -> Result<(), DurationError> {
        if self.1 < min_ms || self.1 > max_ms {
            return Err(DurationError::OutOfRange {
                text: self.0.clone(),
                field,
                min,
                max,
            });
        }
        Ok(())
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, DurationError> {
        let millis = parse_prometheus_millis(text)?;
        if millis == 0 {
            return Err(DurationError::NotPositive(text.to_owned()));
        }
        Ok(Duration(text.to_owned(), millis))
    }
}

string_value!(Duration, "duration");

/// Parses a Prometheus duration into milliseconds, zero included, by the
/// grammar of Prometheus' `model.ParseDuration` (prometheus/common
/// `model/time.go`): `0`, or one or more of `y w d h m s ms`, each once, in
/// that order, with an unsigned integer before each; a year is 365 days.
/// The same grammar as the Prometheus Operator CRDs' duration pattern.
/// promql-parser's `parse_duration` is the oracle in the tests (feature
/// `promql`), so the core does not need PromQL parsing to read a spec.
fn parse_prometheus_millis(text: &str) -> Result<u64, DurationError> {
    let syntax = || DurationError::Prometheus(text.to_owned());
    if text == "0" {
        return Ok(0);
    }
    // A bare number (PromQL's float seconds, `1e3`, `-1`) is no duration in
    // Prometheus' configuration or the Operator's CRDs.
    if text.parse::<f64>().is_ok() {
        return Err(syntax());
    }
    // Refuse long numbers first: no valid duration needs ten digits in one
    // unit, and promql-parser reads each number as a u32.
    let mut run = 0;
    for byte in text.bytes() {
        run = if byte.is_ascii_digit() { run + 1 } else { 0 };
        if run > 9 {
            return Err(DurationError::Overflow(text.to_owned()));
        }
    }
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    if text.is_empty() {
        return Err(syntax());
    }
    // The whole text is read before any sum, so that a syntax error is
    // reported as such even after a large number.
    let mut parts = Vec::new();
    let mut rest = text;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(syntax());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| syntax())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        // Units appear at most once, largest first.
        let position = UNITS[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(syntax)?;
        let (_, millis) = UNITS[next_unit + position];
        next_unit += position + 1;
        parts.push((number, millis));
    }
    parts
        .into_iter()
        .try_fold(0u64, |total, (number, millis)| {
            number.checked_mul(millis)?.checked_add(total)
        })
        .ok_or_else(|| DurationError::Overflow(text.to_owned()))
}

/// Parses a Prometheus duration (`1h30m`, `15s`, `500ms`) into
/// milliseconds (`0s` is 0). Returns `None` for anything else, including a
/// bare number other than `0` and units out of order.
pub fn parse_duration_millis(text: &str) -> Option<u64> {
    parse_prometheus_millis(text).ok()
}

/// A Go duration, for the adapter's command-line flags, which
/// `spf13/pflag`'s `DurationVar` reads with Go's `time.ParseDuration`
/// (kubernetes-sigs/prometheus-adapter `cmd/adapter/adapter.go`,
/// `--metrics-relist-interval`): signed decimal numbers with units `ns`,
/// `us` (`µs`, `μs`), `ms`, `s`, `m`, `h`, in any order; no `d` or `w`.
/// Only positive durations are accepted here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoDuration(String, u64);

impl GoDuration {
    /// The duration in nanoseconds.
    pub fn as_nanos(&self) -> u64 {
        self.1
    }

    /// The duration in milliseconds, rounded down.
    pub fn as_millis(&self) -> u64 {
        self.1 / 1_000_000
    }
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, DurationError> {
        let (negative, nanos) = parse_go_duration(text)?;
        if negative || nanos == 0 {
            return Err(DurationError::NotPositive(text.to_owned()));
        }
        Ok(GoDuration(text.to_owned(), nanos))
    }
}

string_value!(GoDuration, "Go duration");

/// A port of Go's `time.ParseDuration` (src/time/format.go, Go 1.22):
/// `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` or `0`. Returns the sign and the
/// magnitude in nanoseconds, refusing what Go refuses (overflow past
/// 2^63-1 ns included).
pub fn parse_go_duration(text: &str) -> Result<(bool, u64), DurationError> {
    const LIMIT: u64 = 1 << 63;
    let invalid = || DurationError::Go(text.to_owned());
    let overflow = || DurationError::Overflow(text.to_owned());
    let mut rest = text;
    let mut negative = false;
    if let Some(sign @ ('-' | '+')) = rest.chars().next() {
        negative = sign == '-';
        rest = &rest[1..];
    }
    if rest == "0" {
        return Ok((negative, 0));
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let first = rest.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        // [0-9]*
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut value: u64 = 0;
        for digit in rest[..int_len].bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(digit - b'0')))
                .filter(|&v| v <= LIMIT)
                .ok_or_else(overflow)?;
        }
        rest = &rest[int_len..];
        // (\.[0-9]*)?
        let (mut fraction, mut scale, mut frac_len) = (0u64, 1f64, 0);
        if let Some(after) = rest.strip_prefix('.') {
            frac_len = after.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflowed = false;
            for digit in after[..frac_len].bytes() {
                if overflowed {
                    continue;
                }
                match fraction
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(digit - b'0')))
                    .filter(|&v| v <= LIMIT)
                {
                    Some(next) => {
                        fraction = next;
                        scale *= 10.0;
                    }
                    None => overflowed = true,
                }
            }
            rest = &after[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = rest
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(at, _)| at);
        if unit_len == 0 {
            return Err(invalid());
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor: u64 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            other if !other.chars().all(|c| c.is_ascii_alphabetic()) => return Err(invalid()),
            _ => {
                return Err(DurationError::GoUnit {
                    text: text.to_owned(),
                    unit: unit.to_owned(),
                })
            }
        };
        if value > LIMIT / factor {
            return Err(overflow());
        }
        value *= factor;
        if fraction > 0 {
            // Go truncates the float product toward zero, as `as` does.
            value += (fraction as f64 * (factor as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(overflow());
            }
        }
        total = total
            .checked_add(value)
            .filter(|&t| t <= LIMIT)
            .ok_or_else(overflow)?;
    }
    if !negative && total > LIMIT - 1 {
        return Err(overflow());
    }
    Ok((negative, total))
}

/// Why a whole number was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntError {
    /// Not a whole number at all.
    #[error("expected a whole number, found `{0}`")]
    NotWhole(String),
    /// Outside the field's range.
    #[error("`{value}` is out of range: give a whole number from {min} to {max}")]
    OutOfRange {
        /// The number given.
        value: i128,
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
}

/// Defines a whole-number type bounded as its Kubernetes field is, read from
/// YAML with a message a user understands (serde's own says "invalid u32").
macro_rules! bounded_int {
    ($(#[$doc:meta])* $ty:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(i32);

        impl $ty {
            /// Smallest accepted value.
            pub const MIN: i32 = $min;
            /// Largest accepted value.
            pub const MAX: i32 = $max;

            /// The value, checked against the bounds.
            pub fn new(value: i64) -> Result<Self, IntError> {
                i32::try_from(value)
                    .ok()
                    .filter(|v| (Self::MIN..=Self::MAX).contains(v))
                    .map($ty)
                    .ok_or(IntError::OutOfRange {
                        value: i128::from(value),
                        min: i64::from(Self::MIN),
                        max: i64::from(Self::MAX),
                    })
            }

            /// The value as the Kubernetes field's `int32`.
            pub fn to_i32(self) -> i32 {
                self.0
            }

            /// The value as an unsigned number (it is never negative).
            pub fn get(self) -> u32 {
                u32::try_from(self.0).unwrap_or(0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = serde_json::Value::deserialize(deserializer)?;
                let error = |e: IntError| serde::de::Error::custom(e);
                match (value.as_i64(), value.as_u64()) {
                    (Some(number), _) => $ty::new(number).map_err(error),
                    (None, Some(number)) => Err(error(IntError::OutOfRange {
                        value: i128::from(number),
                        min: i64::from(Self::MIN),
                        max: i64::from(Self::MAX),
                    })),
                    _ => Err(error(IntError::NotWhole(value.to_string()))),
                }
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i32(self.0)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

bounded_int!(
    /// A replica count: Deployment `replicas` and HPA `minReplicas` /
    /// `maxReplicas` are `int32` (k8s.io/api autoscaling/v2 and apps/v1
    /// types.go), and the HPA requires at least 1 (pkg/apis/autoscaling/
    /// validation: `minReplicas` must be greater than or equal to 1; the
    /// scale-to-zero feature gate is not assumed).
    Replicas,
    1,
    i32::MAX
);

bounded_int!(
    /// KEDA's `fallback.failureThreshold`: `int32`, minimum 0 (KEDA's
    /// ScaledObject CRD).
    FailureThreshold,
    0,
    i32::MAX
);

bounded_int!(
    /// A scaling policy's `value`: `int32`, greater than zero
    /// (validateScalingPolicy in pkg/apis/autoscaling/validation).
    PolicyValue,
    1,
    i32::MAX
);

bounded_int!(
    /// A scaling policy's `periodSeconds`: greater than zero and at most
    /// `MaxPeriodSeconds` = 1800 (pkg/apis/autoscaling/validation).
    PeriodSeconds,
    1,
    1800
);

bounded_int!(
    /// `stabilizationWindowSeconds`: from 0 to
    /// `MaxStabilizationWindowSeconds` = 3600 (pkg/apis/autoscaling/validation).
    StabilizationWindowSeconds,
    0,
    3600
);

/// A Kubernetes resource quantity (`100m`, `128Mi`, `1.5`, `1e3`), checked
/// against the API server's grammar so that `100x` fails here and not at
/// `kubectl apply`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity(String);

impl Quantity {
    /// The quantity as the k8s-openapi type, for object fields.
    pub fn to_k8s(&self) -> k8s_openapi::apimachinery::pkg::api::resource::Quantity {
        k8s_openapi::apimachinery::pkg::api::resource::Quantity(self.0.clone())
    }

    /// The numeric value (suffixes applied), for comparisons and the simulator.
    pub fn as_f64(&self) -> f64 {
        let (number, suffix) = split_quantity(&self.0).expect("validated on construction");
        let base: f64 = number.parse().unwrap_or(0.0);
        base * suffix_factor(suffix).unwrap_or(1.0)
    }
}

impl Quantity {
    /// The exact value as a plain decimal (`500m` -> `0.5`, `1.5Ki` ->
    /// `1536`, `1e3` -> `1000`), computed on digits so that no float
    /// rounding creeps in (`0.1` stays `0.1`). `None` when the value needs
    /// more than 38 significant digits.
    pub fn to_decimal(&self) -> Option<String> {
        let (number, suffix) = split_quantity(&self.0)?;
        let (negative, digits) = match number.as_bytes().first() {
            Some(b'-') => (true, &number[1..]),
            Some(b'+') => (false, &number[1..]),
            _ => (false, number),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        // value = mantissa * 10^scale
        let mut mantissa: u128 = format!("{whole}{fraction}").parse().ok()?;
        let mut scale = -i64::try_from(fraction.len()).ok()?;
        let binary = |power: u32| 1024u128.checked_pow(power);
        match suffix {
            "" => {}
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let power = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                    .iter()
                    .position(|s| *s == suffix)? as u32
                    + 1;
                mantissa = mantissa.checked_mul(binary(power)?)?;
            }
            "n" => scale -= 9,
            "u" => scale -= 6,
            "m" => scale -= 3,
            "k" => scale += 3,
            "M" => scale += 6,
            "G" => scale += 9,
            "T" => scale += 12,
            "P" => scale += 15,
            "E" => scale += 18,
            exponent => scale += exponent[1..].parse::<i64>().ok()?,
        }
        Some(format_decimal(negative, mantissa, scale))
    }
}

/// `mantissa * 10^scale` written out, without exponent or trailing zeros.
fn format_decimal(negative: bool, mantissa: u128, scale: i64) -> String {
    if mantissa == 0 {
        return "0".into();
    }
    let digits = mantissa.to_string();
    let text = if scale >= 0 {
        // Bounded: quantities are at most a few hundred characters of exponent.
        let zeros = usize::try_from(scale).unwrap_or(0).min(4096);
        format!("{digits}{}", "0".repeat(zeros))
    } else {
        let shift = usize::try_from(-scale).unwrap_or(usize::MAX).min(4096);
        let padded = if digits.len() <= shift {
            format!("{}{digits}", "0".repeat(shift - digits.len() + 1))
        } else {
            digits
        };
        let (whole, fraction) = padded.split_at(padded.len() - shift);
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            whole.to_owned()
        } else {
            format!("{whole}.{fraction}")
        }
    };
    if negative {
        format!("-{text}")
    } else {
        text
    }
}

impl FromStr for Quantity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "`{text}` is not a Kubernetes quantity: write a number with an optional \
                 suffix, such as 100m, 0.5, 128Mi, 1Gi or 1e3"
            )
        };
        let (_, suffix) = split_quantity(text).ok_or_else(invalid)?;
        suffix_factor(suffix).ok_or_else(invalid)?;
        Ok(Quantity(text.to_owned()))
    }
}

string_value!(Quantity, "quantity");

/// Splits a quantity into its signed decimal number and its suffix, or
/// `None` when the number part is malformed.
fn split_quantity(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut end = 0;
    if end < bytes.len() && (bytes[end] == b'+' || bytes[end] == b'-') {
        end += 1;
    }
    let int_digits = bytes[end..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    end += int_digits;
    let mut frac_digits = 0;
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        frac_digits = bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        end += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    Some((&text[..end], &text[end..]))
}

/// The multiplier of a quantity suffix: binary SI, decimal SI or a decimal
/// exponent (`e3`, `E-2`).
fn suffix_factor(suffix: &str) -> Option<f64> {
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        exponent if exponent.starts_with(['e', 'E']) => {
            let digits = exponent[1..]
                .strip_prefix(['+', '-'])
                .unwrap_or(&exponent[1..]);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let power: i32 = exponent[1..].parse().ok()?;
            10f64.powi(power)
        }
        _ => return None,
    };
    Some(factor)
}

/// A container image reference: `[registry/]repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image(String);

impl Image {
    /// The repository without registry-independent tag or digest,
    /// e.g. `directxman12/k8s-prometheus-adapter-amd64`.
    pub fn repository(&self) -> &str {
        let without_digest = self.0.split('@').next().unwrap_or(&self.0);
        match without_digest.rfind(':') {
            Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
            _ => without_digest,
        }
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        let without_digest = self.0.split('@').next().unwrap_or(&self.0);
        let colon = without_digest.rfind(':')?;
        let tag = &without_digest[colon + 1..];
        (!tag.contains('/')).then_some(tag)
    }

    /// The semantic version in the tag (`v0.12.0` gives `(0, 12, 0)`), if
    /// the tag is one.
    pub fn version(&self) -> Option<(u64, u64, u64)> {
        let tag = self.tag()?.strip_prefix('v').unwrap_or(self.tag()?);
        let core = tag.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
        let major = parts.next()??;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Some((major, minor, patch))
    }
}

impl FromStr for Image {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("the image must not be empty".into());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "`{text}` is not an image reference: it contains whitespace"
            ));
        }
        if text.starts_with([':', '@', '/']) || text.ends_with([':', '@', '/']) {
            return Err(format!(
                "`{text}` is not an image reference: write registry/repository:tag"
            ));
        }
        Ok(Image(text.to_owned()))
    }
}

string_value!(Image, "image reference");

/// Kubernetes labels, checked against the API server's rules: keys are an
/// optional DNS subdomain prefix and a name of at most 63 characters; values
/// are empty or at most 63 alphanumerics, `-`, `_` and `.`, starting and
/// ending alphanumeric.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Labels(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        for (key, value) in &map {
            check_label(key, value).map_err(serde::de::Error::custom)?;
        }
        Ok(Labels(map))
    }
}

/// Checks one label key and value.
pub fn check_label(key: &str, value: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = |text: &str| {
        let bytes = text.as_bytes();
        !text.is_empty()
            && text.len() <= 63
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let prefix_ok = prefix.is_none_or(|prefix| {
        prefix.len() <= 253
            && prefix
                .split('.')
                .all(|part| check_dns1123_label(part).is_ok())
    });
    if !name_ok(name) || !prefix_ok {
        return Err(format!(
            "label key `{key}` is invalid: an optional DNS prefix and `/`, then at most 63 \
             alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric"
        ));
    }
    if !value.is_empty() && !name_ok(value) {
        return Err(format!(
            "label value `{value}` (key `{key}`) is invalid: at most 63 alphanumerics, \
             `-`, `_` or `.`, starting and ending alphanumeric"
        ));
    }
    Ok(())
}

/// promql-parser's `parse_duration` as the oracle of the Prometheus
/// duration grammar: the hand-written parser agrees with it on every input
/// of a corpus of unit orders, repeats, numbers and junk.
#[cfg(all(test, feature = "promql"))]
mod promql_oracle {
    use super::*;

    /// The reading through promql-parser (the parser of the `promql` feature).
    fn oracle(text: &str) -> Result<u64, DurationError> {
        let syntax = || DurationError::Prometheus(text.to_owned());
        // promql-parser reads any float (`1e3`, `-1`, `inf`) as seconds, and
        // panics on a negative one; Prometheus' configuration and the
        // Operator's CRD read none of them.
        if text.is_empty() || text.parse::<f64>().is_ok() {
            return if text == "0" { Ok(0) } else { Err(syntax()) };
        }
        let mut run = 0;
        for byte in text.bytes() {
            run = if byte.is_ascii_digit() { run + 1 } else { 0 };
            if run > 9 {
                return Err(DurationError::Overflow(text.to_owned()));
            }
        }
        match promql_parser::util::parse_duration(text) {
            Ok(duration) => u64::try_from(duration.as_millis())
                .map_err(|_| DurationError::Overflow(text.to_owned())),
            Err(message) if message.contains("greater than 0") => Ok(0),
            Err(message) if message.contains("overflow") => {
                Err(DurationError::Overflow(text.to_owned()))
            }
            Err(_) => Err(syntax()),
        }
    }

    #[test]
    fn the_hand_written_grammar_agrees_with_promql_parser() {
        let units = ["y", "w", "d", "h", "m", "s", "ms", "us", "ns", "M", "H", ""];
        let numbers = ["0", "1", "07", "59", "60", "1000", "106751", "999999999", "1.5", "-1", "+1"];
        let mut corpus: Vec<String> = ["", "0", "00", " 1s", "1s ", "s", "1", "1h 1m", "1h+1m", "1hm", "1sm", "1mss", "-1", "1e3", "inf", "NaN", "+5"]
            .iter()
            .map(|text| (*text).to_owned())
            .collect();
        for a in units {
            for n in numbers {
                corpus.push(format!("{n}{a}"));
                for b in units {
                    corpus.push(format!("{n}{a}1{b}"));
                    corpus.push(format!("1{a}{n}{b}"));
                }
            }
        }
        let mut disagreements = Vec::new();
        for text in &corpus {
            let ours = parse_prometheus_millis(text);
            let theirs = oracle(text);
            if ours != theirs {
                disagreements.push(format!("{text:?}: ours {ours:?}, promql-parser {theirs:?}"));
            }
        }
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns1123() {
        assert!("a".parse::<Name>().is_ok());
        assert!("my-app-1".parse::<Name>().is_ok());
        for bad in ["", "-a", "a-", "Default", "a_b", "a.b", &"a".repeat(64)] {
            assert!(bad.parse::<Name>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations() {
        assert_eq!("30s".parse::<Duration>().unwrap().as_secs(), 30);
        assert_eq!("1h30m".parse::<Duration>().unwrap().as_secs(), 5400);
        assert_eq!("1500ms".parse::<Duration>().unwrap().as_secs(), 1);
        assert_eq!(
            "1y2w3d4h5m6s7ms".parse::<Duration>().unwrap().as_millis(),
            33_019_506_007
        );
        // Units out of order or repeated, bare numbers, zero: refused.
        for bad in [
            "",
            "30",
            "0",
            "0s",
            "s",
            "1x",
            "-1s",
            "1.5m",
            " 1m",
            "30s1m",
            "1m1m",
            "1h1d",
            "1ms1s",
            "1m99999999999s",
        ] {
            assert!(bad.parse::<Duration>().is_err(), "{bad} accepted");
        }
    }

    /// Cases from Go's src/time/time_test.go `parseDurationTests`.
    #[test]
    fn go_durations() {
        let nanos = parse_go_duration;
        for (text, expected) in [
            ("0", 0u64),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("+5s", 5_000_000_000),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.004s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12\u{b5}s", 12_000),
            ("12\u{3bc}s", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("39h9m14.425s", 140_954_425_000_000),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254740993ns", 9_007_199_254_740_993),
            ("9223372036854775807ns", 9_223_372_036_854_775_807),
            ("9223372036854775.807us", 9_223_372_036_854_775_807),
            ("9223372036s854ms775us807ns", 9_223_372_036_854_775_807),
            ("0.100000000000000000000h", 360_000_000_000),
            ("0.830103483285477580700h", 2_988_372_539_827),
        ] {
            assert_eq!(nanos(text), Ok((false, expected)), "{text}");
        }
        assert_eq!(nanos("-5s"), Ok((true, 5_000_000_000)));
        assert_eq!(nanos("-9223372036854775808ns"), Ok((true, 1 << 63)));
        for bad in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "1w",
            "1 m",
            "9223372036854775808ns",
            "9223372036854775.808us",
            "9223372036854ms775us808ns",
        ] {
            assert!(parse_go_duration(bad).is_err(), "{bad} accepted");
        }
        assert!("0s".parse::<GoDuration>().is_err());
        assert!("-1m".parse::<GoDuration>().is_err());
        assert!(matches!(
            "1d".parse::<GoDuration>(),
            Err(DurationError::GoUnit { .. })
        ));
        assert_eq!("1m30s".parse::<GoDuration>().unwrap().as_millis(), 90_000);
    }

    #[test]
    fn int32_bounds() {
        assert_eq!(
            Replicas::new(i64::from(i32::MAX)).unwrap().to_i32(),
            i32::MAX
        );
        assert!(Replicas::new(i64::from(i32::MAX) + 1).is_err());
        assert!(Replicas::new(0).is_err());
        assert!(PeriodSeconds::new(1800).is_ok() && PeriodSeconds::new(1801).is_err());
        assert!(StabilizationWindowSeconds::new(0).is_ok());
        assert!(StabilizationWindowSeconds::new(3601).is_err());
    }

    #[test]
    fn quantities() {
        for good in ["100m", "128Mi", "1", "0.5", "1e3", "1E-2", "+1k", ".5"] {
            assert!(good.parse::<Quantity>().is_ok(), "{good} refused");
        }
        for bad in ["100x", "", "m", "1.2.3", "1e", "1Mii", "ten"] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad} accepted");
        }
        assert_eq!("500m".parse::<Quantity>().unwrap().as_f64(), 0.5);
        assert_eq!("1Ki".parse::<Quantity>().unwrap().as_f64(), 1024.0);
    }

    #[test]
    fn quantities_as_exact_decimals() {
        let decimal = |text: &str| text.parse::<Quantity>().unwrap().to_decimal().unwrap();
        for (quantity, expected) in [
            ("500m", "0.5"),
            ("10", "10"),
            ("0.1", "0.1"),
            ("1.5Ki", "1536"),
            ("1e3", "1000"),
            ("1E-2", "0.01"),
            ("2.50", "2.5"),
            ("100m", "0.1"),
            ("1u", "0.000001"),
            ("12345n", "0.000012345"),
            ("1.5k", "1500"),
            (".5", "0.5"),
            ("0", "0"),
            ("+3", "3"),
            ("-250m", "-0.25"),
            ("300m", "0.3"),
        ] {
            assert_eq!(decimal(quantity), expected, "{quantity}");
        }
        // 0.1 + 0.2 style drift would show here with floats.
        assert_eq!(decimal("0.30000000000000004"), "0.30000000000000004");
    }

    #[test]
    fn images() {
        let image: Image = "localhost:5000/adapter:v0.11.2".parse().unwrap();
        assert_eq!(image.repository(), "localhost:5000/adapter");
        assert_eq!(image.version(), Some((0, 11, 2)));
        let untagged: Image = "localhost:5000/adapter".parse().unwrap();
        assert_eq!(untagged.tag(), None);
        assert!("".parse::<Image>().is_err());
        assert!("a b".parse::<Image>().is_err());
    }
}
