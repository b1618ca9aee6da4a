//! A spec value with the place it was read from: errors found after
//! reading (a rule that serves nothing, an app that appears twice) still
//! name the line. Values built in code have no place.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer};

/// A 1-based line and column in a spec file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A value of a [`Spec`](crate::Spec) and, when it was read from a file,
/// where. Build one in code with `From`/`Into` (no location); the YAML
/// reader fills in the location. Two `Located` values are equal when their
/// values are: the place is not part of the value.
///
/// ```
/// use custom_metrics_manifests::{Located, Name, Spec};
///
/// let name: Name = "prometheus".parse().unwrap();
/// let located = Located::from(name.clone());
/// assert_eq!(located.location, None);
/// assert_eq!(*located, name);
///
/// let spec = Spec::from_yaml("prometheus:\n  stack: kube-prometheus-stack\n  release: prom\n", "spec.yaml").unwrap();
/// let release = spec.prometheus.release.unwrap();
/// assert_eq!(release.value.as_str(), "prom");
/// assert_eq!(release.location.map(|at| at.line), Some(3));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where the value starts in its file; `None` for a value built in code.
    pub location: Option<Location>,
}

impl<T> Located<T> {
    /// `value` with no place: built in code.
    pub fn new(value: T) -> Self {
        Located {
            value,
            location: None,
        }
    }

    /// `value` at `location`.
    pub fn at(value: T, location: Location) -> Self {
        Located {
            value,
            location: Some(location),
        }
    }

    /// The value, without its place.
    pub fn into_value(self) -> T {
        self.value
    }
}

impl<T> From<T> for Located<T> {
    fn from(value: T) -> Self {
        Located {
            value,
            location: None,
        }
    }
}

impl<T> Deref for Located<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Located<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Located<T> {}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde-saphyr's reader knows the place; its wrapper stays inside.
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        // A node the reader could not place (through serde's buffering)
        // has line 0.
        let line = spanned.referenced.line();
        let location = (line > 0).then(|| Location {
            line,
            column: spanned.referenced.column(),
        });
        Ok(Located {
            value: spanned.value,
            location,
        })
    }
}
