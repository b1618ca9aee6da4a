//! Manifest documents read from files, kept opaque: the tools read them
//! (`lint::lint_documents`, `migrate::plan`), a user only passes them on,
//! so the YAML reader's value type stays out of the public API.

use serde_json::Value;

/// Objects read from manifest files with the file each came from, in
/// input order (`*List` kinds already expanded). Made by
/// `lint::parse_manifest_files`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Documents(pub(crate) Vec<(String, Value)>);

impl Documents {
    /// How many objects.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The file each object came from, in order.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(origin, _)| origin.as_str())
    }
}
