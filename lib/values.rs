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
            type Error = String;
            fn try_from(text: &str) -> Result<Self, String> {
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

/// A Prometheus/Go duration such as `30s`, `1m`, `2m30s` or `1h`.
///
/// Kept as written (the adapter and Prometheus read the same spelling) and
/// as whole seconds for comparisons such as "rate window >= 4 x scrape".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration(String, u64);

impl Duration {
    /// The duration in whole seconds (sub-second parts are rounded down).
    pub fn as_secs(&self) -> u64 {
        self.1
    }
}

impl FromStr for Duration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        parse_duration_millis(text)
            .map(|millis| Duration(text.to_owned(), millis / 1000))
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a duration: write a number and a unit, \
                     such as 30s, 1m, 2m30s or 1h (units: ms, s, m, h, d)"
                )
            })
    }
}

string_value!(Duration, "duration");

/// Parses a Prometheus duration (`1h30m`, `15s`, `500ms`) into milliseconds.
/// Returns `None` for anything else, including a bare number or zero units.
pub fn parse_duration_millis(text: &str) -> Option<u64> {
    let mut rest = text;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(number.checked_mul(factor)?)?;
    }
    Some(total)
}

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
        for bad in ["", "30", "s", "1x", "-1s", "1.5m", " 1m"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad} accepted");
        }
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
