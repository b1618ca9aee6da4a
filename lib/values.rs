//! Typed values for the parts of the spec whose domain has rules: object and
//! namespace names, durations, quantities and image references.
//!
//! Each type validates itself when it is deserialized, so a bad value is
//! reported by the YAML reader with its line and column, and no code past
//! parsing ever holds an invalid one.
//!
//! ```
//! use custom_metrics_manifests::{Duration, Image, Name};
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
use std::sync::LazyLock;

use regex::Regex;
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

/// Why a name was refused (k8s.io/apimachinery `util/validation`:
/// `IsDNS1123Label`, `IsDNS1035Label`, `IsDNS1123Subdomain`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty.
    #[error("a name must not be empty")]
    Empty,
    /// Longer than the rule allows.
    #[error("`{text}` is {len} characters long; a {rule} has at most {max}")]
    TooLong {
        /// The name.
        text: String,
        /// Its length.
        len: usize,
        /// The rule's name.
        rule: &'static str,
        /// The rule's limit.
        max: usize,
    },
    /// Characters or shape outside a DNS-1123 label.
    #[error(
        "`{0}` is not a DNS-1123 label: use lower-case letters, digits and `-`, \
         starting and ending with a letter or digit"
    )]
    Label(String),
    /// A DNS-1123 label that does not start with a letter.
    #[error(
        "`{0}` is not a DNS-1035 label: a Service name must start with a lower-case letter \
         (then lower-case letters, digits and `-`, ending with a letter or digit)"
    )]
    Dns1035(String),
    /// Not a DNS-1123 subdomain.
    #[error(
        "`{0}` is not a DNS-1123 subdomain: dot-separated parts of lower-case letters, \
         digits and `-`, each starting and ending with a letter or digit"
    )]
    Subdomain(String),
}

/// A Kubernetes object or namespace name: a DNS-1123 label (lower-case
/// alphanumerics and `-`, starting and ending alphanumeric, at most 63
/// characters). Namespaces must be labels, and the adapter's name is also a
/// Service name, so one rule covers every name the spec holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl FromStr for Name {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, NameError> {
        check_dns1123_label(text)?;
        Ok(Name(text.to_owned()))
    }
}

string_value!(Name, "name");

/// A Service name, which Kubernetes checks as a DNS-1035 label
/// (`ValidateServiceName` = `NameIsDNS1035Label` in pkg/apis/core/validation):
/// a DNS-1123 label that starts with a letter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceName(String);

impl FromStr for ServiceName {
    type Err = NameError;

    fn from_str(text: &str) -> Result<Self, NameError> {
        check_dns1123_label(text)?;
        if !text.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(NameError::Dns1035(text.to_owned()));
        }
        Ok(ServiceName(text.to_owned()))
    }
}

string_value!(ServiceName, "Service name");

impl From<ServiceName> for Name {
    fn from(name: ServiceName) -> Name {
        Name(name.0)
    }
}

/// Checks `text` against RFC 1123's label rule as Kubernetes applies it
/// (`IsDNS1123Label`: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63).
pub fn check_dns1123_label(text: &str) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.len() > 63 {
        return Err(NameError::TooLong {
            text: text.to_owned(),
            len: text.len(),
            rule: "DNS-1123 label",
            max: 63,
        });
    }
    if !is_dns1123_label_shape(text) {
        return Err(NameError::Label(text.to_owned()));
    }
    Ok(())
}

fn is_dns1123_label_shape(text: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.iter().all(|&b| alnum(b) || b == b'-')
        && alnum(bytes[0])
        && alnum(bytes[bytes.len() - 1])
}

/// Checks `text` as `IsDNS1123Subdomain`: at most 253 characters,
/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
/// (no per-part length limit in Kubernetes' rule).
pub fn check_dns1123_subdomain(text: &str) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.len() > 253 {
        return Err(NameError::TooLong {
            text: text.to_owned(),
            len: text.len(),
            rule: "DNS-1123 subdomain",
            max: 253,
        });
    }
    if !text.split('.').all(is_dns1123_label_shape) {
        return Err(NameError::Subdomain(text.to_owned()));
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

/// Why a quantity was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not Kubernetes' quantity grammar.
    #[error(
        "`{0}` is not a Kubernetes quantity: write a number with an optional \
         suffix, such as 100m, 0.5, 128Mi, 1Gi or 1e3"
    )]
    Syntax(String),
    /// Below zero (`ValidateNonnegativeQuantity` in pkg/apis/core/validation
    /// for resources; an HPA target must be positive).
    #[error("`{0}` is negative: a quantity here must be zero or more")]
    Negative(String),
    /// Too large to be a number (`1e309`).
    #[error("`{0}` is too large: its value is not a finite number")]
    NotFinite(String),
}

/// A non-negative Kubernetes resource quantity (`100m`, `128Mi`, `1.5`,
/// `1e3`), checked against the API server's grammar
/// (apimachinery `pkg/api/resource/quantity.go`) so that `100x` fails here
/// and not at `kubectl apply`. Every quantity the spec holds (resources,
/// HPA targets) must be zero or more, and finite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity(String);

impl Quantity {
    /// The quantity as the k8s-openapi type, for object fields.
    pub fn to_k8s(&self) -> k8s_openapi::apimachinery::pkg::api::resource::Quantity {
        k8s_openapi::apimachinery::pkg::api::resource::Quantity(self.0.clone())
    }

    /// The numeric value (suffixes applied), for comparisons and the simulator.
    pub fn as_f64(&self) -> f64 {
        quantity_value(&self.0).unwrap_or(0.0)
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

/// The value of `text` if it is a quantity.
fn quantity_value(text: &str) -> Option<f64> {
    let (number, suffix) = split_quantity(text)?;
    let factor = suffix_factor(suffix)?;
    let base: f64 = number.parse().ok()?;
    Some(base * factor)
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, QuantityError> {
        let value = quantity_value(text).ok_or_else(|| QuantityError::Syntax(text.to_owned()))?;
        if value.is_nan() || value.is_infinite() {
            return Err(QuantityError::NotFinite(text.to_owned()));
        }
        if value < 0.0 {
            return Err(QuantityError::Negative(text.to_owned()));
        }
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

/// Why an image reference was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// Empty.
    #[error("the image must not be empty")]
    Empty,
    /// Whitespace or control characters.
    #[error("`{0}` is not an image reference: it contains whitespace or control characters")]
    Whitespace(String),
    /// Upper case in the repository path.
    #[error("`{0}` is not an image reference: the repository path must be lower case")]
    Uppercase(String),
    /// Longer than 255 characters in the name.
    #[error("`{0}` is not an image reference: the name is longer than 255 characters")]
    NameTooLong(String),
    /// A digest with an unknown algorithm or the wrong length.
    #[error(
        "`{0}` has an invalid digest: write @sha256: and 64 lower-case hex digits \
         (or sha384: 96, sha512: 128)"
    )]
    Digest(String),
    /// Anything else outside the grammar.
    #[error(
        "`{0}` is not an image reference: write [registry[:port]/]path[:tag][@sha256:digest], \
         the path in lower-case letters, digits and single `.`, `_`, `__` or `-` separators \
         between `/`-separated parts, the tag at most 128 of letters, digits, `_`, `.`, `-`"
    )]
    Syntax(String),
}

/// The distribution reference grammar (github.com/distribution/reference
/// `regexp.go`): `[domain[:port]/]path-component(/path-component)*`,
/// optional `:tag`, optional `@digest`. Go's `\w` is ASCII-only, spelt out.
static IMAGE_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let path_component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    let domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain =
        format!(r"(?:{domain_component}(?:\.{domain_component})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?");
    let name = format!(r"(?:{domain}/)?{path_component}(?:/{path_component})*");
    let tag = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    Regex::new(&format!("^({name})(?::({tag}))?(?:@({digest}))?$")).expect("valid regex")
});

/// A container image reference: `[registry/]repository[:tag][@digest]`,
/// as the distribution reference grammar (what the kubelet and container
/// runtimes parse) accepts it.
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
    type Err = ImageError;

    fn from_str(text: &str) -> Result<Self, ImageError> {
        if text.trim().is_empty() {
            return Err(ImageError::Empty);
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ImageError::Whitespace(text.to_owned()));
        }
        // The hand-written grammar accepts without compiling the regex
        // (most of a default run's time); the regex classifies refusals.
        if let Some((name, digest)) = match_image_reference(text) {
            if name.len() > 255 {
                return Err(ImageError::NameTooLong(text.to_owned()));
            }
            check_digest(text, digest)?;
            return Ok(Image(text.to_owned()));
        }
        let Some(captures) = IMAGE_REFERENCE.captures(text) else {
            // `reference.Parse` says so when only case is wrong.
            let name_ok = |name: &str| IMAGE_REFERENCE.is_match(name);
            return Err(if name_ok(&text.to_ascii_lowercase()) {
                ImageError::Uppercase(text.to_owned())
            } else if text.split_once('@').is_some_and(|(name, _)| name_ok(name)) {
                ImageError::Digest(text.to_owned())
            } else {
                ImageError::Syntax(text.to_owned())
            });
        };
        if captures.get(1).map_or(0, |name| name.len()) > 255 {
            return Err(ImageError::NameTooLong(text.to_owned()));
        }
        check_digest(text, captures.get(3).map(|digest| digest.as_str()))?;
        Ok(Image(text.to_owned()))
    }
}

/// go-digest: only registered algorithms, lower-case hex of their length.
fn check_digest(text: &str, digest: Option<&str>) -> Result<(), ImageError> {
    let Some(digest) = digest else {
        return Ok(());
    };
    let (algorithm, hex) = digest.split_once(':').unwrap_or_default();
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => 0,
    };
    let lower_hex = hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex.len() != length || !lower_hex {
        return Err(ImageError::Digest(text.to_owned()));
    }
    Ok(())
}

/// [`IMAGE_REFERENCE`] by hand: the name and the digest of `text` when the
/// grammar accepts it, else `None`. The regex is the oracle of its tests
/// (`image_matcher_agrees_with_the_regex`).
fn match_image_reference(text: &str) -> Option<(&str, Option<&str>)> {
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        let (algorithm, hex) = digest.split_once(':')?;
        let algorithm_ok = !algorithm.is_empty()
            && algorithm.split(['-', '_', '+', '.']).all(|part| {
                part.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                    && part.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !algorithm_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
    }
    // A `:` after the last `/` starts the tag; one before it is a port.
    let last_slash = rest.rfind('/').map_or(0, |at| at + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(at) => (&rest[..last_slash + at], Some(&rest[last_slash + at + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let ok = tag.len() <= 128
            && tag.bytes().next().is_some_and(word)
            && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
        if !ok {
            return None;
        }
    }
    let components: Vec<&str> = name.split('/').collect();
    let path_ok = |parts: &[&str]| !parts.is_empty() && parts.iter().all(|c| path_component(c));
    let valid = path_ok(&components)
        || (components.len() > 1 && domain(components[0]) && path_ok(&components[1..]));
    valid.then_some((name, digest))
}

/// `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`.
fn path_component(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let separator = i;
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += if bytes.get(i + 1) == Some(&b'_') {
                    2
                } else {
                    1
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        debug_assert!(i > separator);
    }
}

/// `(?:dc(?:\.dc)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`, `dc` a domain component.
fn domain(text: &str) -> bool {
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let Some((address, rest)) = inner.split_once(']') else {
            return false;
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match rest.strip_prefix(':') {
            Some(port) => (None, Some(port)),
            None if rest.is_empty() => (None, None),
            None => return false,
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(text), None),
        }
    };
    let component = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    host.is_none_or(|host| host.split('.').all(component))
        && port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

string_value!(Image, "image reference");

/// Why a URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Whitespace or control characters (a newline would split the flag).
    #[error("`{0}` is not a URL: it contains whitespace or control characters")]
    Whitespace(String),
    /// Not `http://` or `https://`.
    #[error("`{0}` is not an http:// or https:// URL")]
    Scheme(String),
    /// No host, or a host that is neither a DNS name nor an IP address.
    #[error("`{0}` has no valid host: give a DNS name or an IP address after the scheme")]
    Host(String),
    /// `user:password@`: credentials do not belong in a flag.
    #[error("`{0}` contains credentials (`user@`): the adapter's flags are visible to anyone who can read the Deployment")]
    UserInfo(String),
    /// A port that is not 1-65535, or more than one.
    #[error("`{0}` has an invalid port: give one port from 1 to 65535")]
    Port(String),
    /// A query string or fragment, or a backslash.
    #[error(
        "`{0}` has a query string, fragment or backslash: give scheme, host, port and path only"
    )]
    Extra(String),
}

/// Prometheus' URL for the adapter's `--prometheus-url`: `http` or `https`,
/// a host (DNS name, IPv4, or `[IPv6]`), an optional port 1-65535 and an
/// optional path prefix; no credentials, query, fragment or whitespace.
/// Go's `url.Parse` reads what this accepts with the host in `Host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusUrl(String);

impl FromStr for PrometheusUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, UrlError> {
        let owned = || text.to_owned();
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::Whitespace(owned()));
        }
        let rest = text
            .strip_prefix("http://")
            .or_else(|| text.strip_prefix("https://"))
            .ok_or_else(|| UrlError::Scheme(owned()))?;
        if rest.contains(['?', '#', '\\']) {
            return Err(UrlError::Extra(owned()));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(UrlError::UserInfo(owned()));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (address, after) = bracketed
                .split_once(']')
                .ok_or_else(|| UrlError::Host(owned()))?;
            if address.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(UrlError::Host(owned()));
            }
            match after {
                "" => (address, None),
                _ => (
                    address,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| UrlError::Port(owned()))?,
                    ),
                ),
            }
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && (authority.starts_with('[')
                || host.split('.').all(|part| {
                    let bytes = part.as_bytes();
                    !bytes.is_empty()
                        && part.len() <= 63
                        && bytes
                            .iter()
                            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                        && bytes[0] != b'-'
                        && bytes[bytes.len() - 1] != b'-'
                }));
        if !host_ok {
            return Err(UrlError::Host(owned()));
        }
        if let Some(port) = port {
            let valid = !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
            if !valid {
                return Err(UrlError::Port(owned()));
            }
        }
        Ok(PrometheusUrl(text.to_owned()))
    }
}

string_value!(PrometheusUrl, "URL");

/// Why an HTTP path was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Does not start with `/`.
    #[error("`{0}` must start with `/`")]
    NoSlash(String),
    /// A character outside RFC 3986's path characters (space, `?`, `#`, ...).
    #[error(
        "`{0}` is not an HTTP path: use letters, digits, `/` and `-._~!$&'()*+,;=:@` or %XX \
         escapes; no spaces, query string (`?`) or fragment (`#`)"
    )]
    Invalid(String),
}

/// An HTTP path such as `/metrics`: what the Prometheus Operator puts in
/// the scrape config's `metrics_path`, where Prometheus uses it as the URL
/// path (a `?query` would be escaped into the path and 404). RFC 3986
/// `path-absolute`: `/`, then `pchar`s and `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpPath(String);

impl FromStr for HttpPath {
    type Err = PathError;

    fn from_str(text: &str) -> Result<Self, PathError> {
        if !text.starts_with('/') {
            return Err(PathError::NoSlash(text.to_owned()));
        }
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            if b == b'%' {
                let hex = bytes.get(at + 1..at + 3).unwrap_or_default();
                if hex.len() != 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(PathError::Invalid(text.to_owned()));
                }
                at += 3;
                continue;
            }
            let allowed = b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b);
            if !allowed {
                return Err(PathError::Invalid(text.to_owned()));
            }
            at += 1;
        }
        Ok(HttpPath(text.to_owned()))
    }
}

string_value!(HttpPath, "path");

/// Why a label key or value was refused (apimachinery `util/validation`:
/// `IsQualifiedName`, `IsValidLabelValue`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Not a qualified name.
    #[error(
        "label key `{0}` is invalid: an optional DNS prefix and `/`, then at most 63 \
         alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric"
    )]
    Key(String),
    /// Not a label value, with the key it belongs to.
    #[error(
        "label value `{value}` (key `{key}`) is invalid: at most 63 alphanumerics, \
         `-`, `_` or `.`, starting and ending alphanumeric"
    )]
    Value {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Not a label value, on its own.
    #[error(
        "label value `{0}` is invalid: empty, or at most 63 alphanumerics, `-`, `_` or `.`, \
         starting and ending alphanumeric"
    )]
    BareValue(String),
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63: a label value
/// (when not empty) and the name part of a key.
fn is_label_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    !text.is_empty()
        && text.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Checks a label key as `IsQualifiedName`: `[prefix/]name`, the prefix a
/// DNS-1123 subdomain.
pub fn check_label_key(key: &str) -> Result<(), LabelError> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|prefix| check_dns1123_subdomain(prefix).is_ok());
    if !is_label_name(name) || !prefix_ok {
        return Err(LabelError::Key(key.to_owned()));
    }
    Ok(())
}

/// A label key (and a node selector or toleration key, which Kubernetes
/// checks by the same rule).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelKey(String);

impl FromStr for LabelKey {
    type Err = LabelError;

    fn from_str(text: &str) -> Result<Self, LabelError> {
        check_label_key(text)?;
        Ok(LabelKey(text.to_owned()))
    }
}

string_value!(LabelKey, "label key");

/// A label value: empty, or at most 63 alphanumerics, `-`, `_`, `.`,
/// starting and ending alphanumeric (`IsValidLabelValue`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelValue(String);

impl FromStr for LabelValue {
    type Err = LabelError;

    fn from_str(text: &str) -> Result<Self, LabelError> {
        if !text.is_empty() && !is_label_name(text) {
            return Err(LabelError::BareValue(text.to_owned()));
        }
        Ok(LabelValue(text.to_owned()))
    }
}

string_value!(LabelValue, "label value");

/// Kubernetes labels, checked against the API server's rules: keys are an
/// optional DNS subdomain prefix and a name of at most 63 characters; values
/// are empty or at most 63 alphanumerics, `-`, `_` and `.`, starting and
/// ending alphanumeric. Node selectors follow the same rules.
///
/// The map is private: every way to build one checks each label.
///
/// ```
/// use custom_metrics_manifests::Labels;
///
/// let labels = Labels::try_from_pairs([("team", "platform")]).unwrap();
/// assert_eq!(labels.as_map()["team"], "platform");
/// assert!(Labels::try_from_pairs([("team", "two words")]).is_err());
/// let mut labels = Labels::new();
/// assert!(labels.insert("Bad Key", "x").is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    /// No labels.
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Labels from key-value pairs, each checked.
    pub fn try_from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Labels, LabelError> {
        let mut labels = Labels::new();
        for (key, value) in pairs {
            labels.insert(key, value)?;
        }
        Ok(labels)
    }

    /// Adds (or replaces) one label, checked.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), LabelError> {
        let (key, value) = (key.into(), value.into());
        check_label(&key, &value)?;
        self.0.insert(key, value);
        Ok(())
    }

    /// The labels by key.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The labels by key, owned.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<BTreeMap<String, String>> for Labels {
    type Error = LabelError;

    fn try_from(map: BTreeMap<String, String>) -> Result<Labels, LabelError> {
        for (key, value) in &map {
            check_label(key, value)?;
        }
        Ok(Labels(map))
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        Labels::try_from(map).map_err(serde::de::Error::custom)
    }
}

/// Checks one label key and value.
pub fn check_label(key: &str, value: &str) -> Result<(), LabelError> {
    check_label_key(key)?;
    if !value.is_empty() && !is_label_name(value) {
        return Err(LabelError::Value {
            key: key.to_owned(),
            value: value.to_owned(),
        });
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
        let numbers = [
            "0",
            "1",
            "07",
            "59",
            "60",
            "1000",
            "106751",
            "999999999",
            "1.5",
            "-1",
            "+1",
        ];
        let mut corpus: Vec<String> = [
            "", "0", "00", " 1s", "1s ", "s", "1", "1h 1m", "1h+1m", "1hm", "1sm", "1mss", "-1",
            "1e3", "inf", "NaN", "+5",
        ]
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

    /// The hand-written image grammar accepts exactly what the regex
    /// (distribution's own grammar, spelt out) accepts, with the same name
    /// and digest: on references built from the grammar's pieces, and on
    /// random strings of its alphabet.
    #[test]
    fn image_matcher_agrees_with_the_regex() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let oracle = |text: &str| {
            IMAGE_REFERENCE.captures(text).map(|captures| {
                (
                    captures.get(1).map_or("", |m| m.as_str()).to_owned(),
                    captures.get(3).map(|m| m.as_str().to_owned()),
                )
            })
        };
        let check = |text: &str| {
            let mine = match_image_reference(text)
                .map(|(name, digest)| (name.to_owned(), digest.map(str::to_owned)));
            assert_eq!(mine, oracle(text), "{text:?}");
        };
        for text in [
            "nginx",
            "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0",
            "localhost:5000/a/b:tag",
            "[::1]:5000/a",
            "[::1]/a:t",
            "a__b/c---d.e_f:T_ag.1-x",
            "a___b",
            "a..b",
            "-a",
            "a-",
            "Host.Example:1/x",
            "host:5000",
            ":tag",
            "a:",
            "a@sha256:0123456789abcdef0123456789abcdef",
            "a:t@sha256+b.c_d-e:0123456789ABCDEF0123456789abcdef00",
            "a@1sha:0123456789abcdef0123456789abcdef",
            "a@@sha256:0123456789abcdef0123456789abcdef",
            "a/",
            "/a",
            "[]/a",
            "[::1]x/a",
            &format!("a:{}", "t".repeat(128)),
            &format!("a:{}", "t".repeat(129)),
        ] {
            check(text);
        }
        let pieces = prop::collection::vec(
            prop::sample::select(vec![
                "a",
                "z9",
                "B",
                "0",
                ".",
                "_",
                "__",
                "-",
                "--",
                "/",
                ":",
                "@",
                "[",
                "]",
                "::1",
                "5000",
                "sha256",
                "0123456789abcdef0123456789abcdef",
                "+",
                "x.y",
            ]),
            0..12,
        )
        .prop_map(|parts| parts.concat());
        let mut runner = TestRunner::new(Config {
            cases: 20_000,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&pieces, |text| {
                check(&text);
                Ok(())
            })
            .unwrap();
    }

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
            ("+250m", "0.25"),
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
        let digest = format!("registry.k8s.io/a/b@sha256:{}", "0".repeat(64));
        for good in [
            "busybox",
            "docker.io/library/busybox:1.36",
            "Registry.Example.com:443/team/app__x.y-z:TAG_1.0",
            "[::1]:5000/app:v1",
            &digest,
            &format!("app:{}", "t".repeat(128)),
        ] {
            assert!(good.parse::<Image>().is_ok(), "{good} refused");
        }
        for bad in [
            "",
            "a b",
            "UPPER/Case::tag",
            "app/Upper",
            "registry.k8s.io/../app",
            "app//x",
            "repo:",
            ":tag",
            "app:-tag",
            "app@sha256:abc",
            &format!("app@sha256:{}", "A".repeat(64)),
            &format!("app@md5:{}", "0".repeat(32)),
            &format!("app:{}", "t".repeat(129)),
            &"a".repeat(256),
        ] {
            assert!(bad.parse::<Image>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn prometheus_urls() {
        for good in [
            "http://prometheus-k8s.monitoring.svc:9090",
            "https://prom.example.com",
            "http://10.0.0.1:9090/prometheus",
            "http://[::1]:9090",
        ] {
            assert!(good.parse::<PrometheusUrl>().is_ok(), "{good} refused");
        }
        for bad in [
            "",
            "prom:9090",
            "ftp://prom",
            "http://",
            "http://prom:0",
            "http://prom:65536",
            "http://prom:1:2",
            "http://u:p@prom",
            "http://prom\n",
            "http://prom:9090?x=1",
            "http://prom#x",
            "http://-prom",
            "http:prom:9090",
            "http://[zz]:1",
        ] {
            assert!(bad.parse::<PrometheusUrl>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn http_paths() {
        for good in ["/", "/metrics", "/a/b%20c", "/x;y=1"] {
            assert!(good.parse::<HttpPath>().is_ok(), "{good} refused");
        }
        for bad in ["", "metrics", "/a b", "/m?x=1", "/m#f", "/%zz", "/\u{e9}"] {
            assert!(bad.parse::<HttpPath>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn labels() {
        for (key, value) in [
            ("app", "x"),
            ("app.kubernetes.io/name", ""),
            ("a/b", "A-1.b_c"),
        ] {
            assert!(check_label(key, value).is_ok(), "{key}={value}");
        }
        let long_prefix = format!("{}.io/x", "a".repeat(64));
        assert!(
            check_label_key(&long_prefix).is_ok(),
            "subdomain parts may exceed 63"
        );
        for key in [
            "",
            "/x",
            "a/b/c",
            "-a",
            "a b",
            "Example.com/x",
            &"a".repeat(64),
        ] {
            assert!(check_label_key(key).is_err(), "{key} accepted");
        }
        assert!("2.44.0".parse::<LabelValue>().is_ok());
        assert!("2.44\"".parse::<LabelValue>().is_err());
    }
}
