//! The input objects: read with lint's manifest reader (multi-document
//! YAML or JSON, `*List`s expanded), identical repeats dropped, and where
//! each object (and each field in it) sits in its file, for errors.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::ImportError;

/// One input object.
#[derive(Clone, Debug)]
pub(super) struct Object {
    /// The file it came from.
    pub(super) origin: String,
    /// Its position among the file's objects (after `List` expansion).
    pub(super) ordinal: usize,
    /// The object.
    pub(super) value: Value,
}

impl Object {
    pub(super) fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    pub(super) fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    pub(super) fn namespace(&self) -> Option<&str> {
        self.value["metadata"]["namespace"]
            .as_str()
            .filter(|namespace| !namespace.is_empty())
    }

    /// `Kind namespace/name` (`Kind name` when cluster-scoped), as lint
    /// and `check` name objects.
    pub(super) fn display(&self) -> String {
        display(self.kind(), self.namespace(), self.name())
    }

    /// The identity generated objects are matched by.
    pub(super) fn key(&self) -> Key {
        Key::new(self.kind(), self.namespace(), self.name())
    }
}

/// `Kind namespace/name`.
pub(super) fn display(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// An object's identity: kind, namespace, name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key(pub(super) String, pub(super) String, pub(super) String);

impl Key {
    pub(super) fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Key(
            kind.to_owned(),
            namespace.unwrap_or("").to_owned(),
            name.to_owned(),
        )
    }
}

/// Where something is in an input file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// The file (`-` for standard input).
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Reads every file (`(origin, bytes)`) into objects, in input order. A
/// document that is not an object (no `kind`) is an error; an object given
/// twice with the same content counts once, with different content it is
/// an error naming both places and the first field that differs.
pub(super) fn objects(files: &[(String, Vec<u8>)]) -> Result<Vec<Object>, ImportError> {
    let mut out: Vec<Object> = Vec::new();
    let mut seen: BTreeMap<Key, usize> = BTreeMap::new();
    for (origin, bytes) in files {
        let text = crate::spec::checked_text_of(bytes, origin, "manifest files")
            .map_err(ImportError::Unreadable)?;
        let documents = crate::lint::parse_documents(&[(origin.clone(), text.to_owned())])
            .map_err(ImportError::Unreadable)?;
        for (ordinal, (_, value)) in documents.into_iter().enumerate() {
            let object = Object {
                origin: origin.clone(),
                ordinal,
                value,
            };
            if !object.value.is_object() || object.kind().is_empty() {
                let what = match &object.value {
                    Value::Object(map)
                        if ["preset", "adapter", "apps", "prometheus", "backend"]
                            .iter()
                            .any(|key| map.contains_key(*key)) =>
                    {
                        "a gen-manifests spec (import reads manifests and prints a spec; \
                         give a spec to -c)"
                            .to_owned()
                    }
                    Value::Object(map)
                        if !map.is_empty()
                            && map.keys().all(|key| {
                                ["rules", "resourceRules", "externalRules"].contains(&key.as_str())
                            }) =>
                    {
                        "a prometheus-adapter config.yaml on its own (give the adapter's \
                         ConfigMap with its Deployment, or the whole bundle)"
                            .to_owned()
                    }
                    Value::Object(_) => "a document without `kind`".to_owned(),
                    Value::Array(_) => "a list, not an object".to_owned(),
                    other => format!("the scalar `{}`, not an object", short(other)),
                };
                return Err(ImportError::NotAnObject {
                    at: Box::new(locate(files, &object, &[])),
                    what,
                });
            }
            if let Some(&first) = seen.get(&object.key()) {
                let earlier: &Object = &out[first];
                if earlier.value != object.value {
                    let mut steps = Vec::new();
                    let field =
                        first_difference(&earlier.value, &object.value, String::new(), &mut steps);
                    return Err(ImportError::Duplicate {
                        at: Box::new(locate(files, &object, &steps)),
                        object: object.display(),
                        first: Box::new(locate(files, earlier, &[])),
                        field,
                    });
                }
                continue;
            }
            seen.insert(object.key(), out.len());
            out.push(object);
        }
    }
    Ok(out)
}

/// A value in a message: compact JSON, at most 60 characters.
pub(super) fn short(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if text.chars().count() <= 60 {
        text
    } else {
        format!("{}...", text.chars().take(57).collect::<String>())
    }
}

/// The path of the first field where `a` and `b` differ (also as steps).
fn first_difference(a: &Value, b: &Value, path: String, steps: &mut Vec<Step>) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let (u, v) = (
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                );
                if u != v {
                    steps.push(Step::Key(key.clone()));
                    return first_difference(u, v, join(&path, key), steps);
                }
            }
            path
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (index, (u, v)) in x.iter().zip(y).enumerate() {
                if u != v {
                    steps.push(Step::Index(index));
                    return first_difference(u, v, format!("{path}[{index}]"), steps);
                }
            }
            path
        }
        _ => path,
    }
}

/// `path.key`, with keys that hold `.` or `/` (labels, annotations,
/// `config.yaml`) in brackets, as kubectl's JSONPath writes them.
pub(super) fn join(path: &str, key: &str) -> String {
    if key.contains(['.', '/']) {
        format!("{path}[\"{key}\"]")
    } else if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// One step of a field path.
#[derive(Clone, Debug)]
pub(super) enum Step {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Where `object` (and `path` inside it, as far as it exists) starts in
/// its file. The file is read again with locations, only for an error.
pub(super) fn locate(files: &[(String, Vec<u8>)], object: &Object, path: &[Step]) -> Place {
    let mut place = Place {
        origin: object.origin.clone(),
        line: None,
        column: None,
    };
    let Some(text) = files
        .iter()
        .find(|(origin, _)| *origin == object.origin)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
    else {
        return place;
    };
    let options = crate::spec::strict_options(crate::spec::YamlLimits::MANIFESTS);
    let Ok(documents) = serde_saphyr::from_multiple_with_options::<Spanned<Node>>(text, options)
    else {
        return place;
    };
    let mut leaves = Vec::new();
    for document in &documents {
        expand(document, 0, &mut leaves);
    }
    let Some(mut node) = leaves.get(object.ordinal).copied() else {
        return place;
    };
    for step in path {
        let next = match (step, &node.value) {
            (Step::Key(key), Node::Map(map)) => map.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            (Step::Index(index), Node::Seq(items)) => items.get(*index),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    // Mapping values report the place of their first content; a line of 0
    // means unknown.
    let line = node.referenced.line();
    if line > 0 {
        place.line = Some(line);
        place.column = Some(node.referenced.column());
    }
    place
}

/// The leaves of a document as lint's reader expands it: nulls skipped,
/// the items of `*List` kinds in their place.
fn expand<'a>(node: &'a Spanned<Node>, depth: usize, out: &mut Vec<&'a Spanned<Node>>) {
    if matches!(node.value, Node::Null) {
        return;
    }
    if let Node::Map(map) = &node.value {
        let is_list = map.iter().any(|(key, value)| {
            key == "kind" && matches!(&value.value, Node::Text(kind) if kind.ends_with("List"))
        });
        let items = map.iter().find(|(key, _)| key == "items");
        if let (true, Some((_, items))) = (is_list && depth < 8, items) {
            if let Node::Seq(items) = &items.value {
                for item in items {
                    expand(item, depth + 1, out);
                }
                return;
            }
        }
    }
    out.push(node);
}

/// A YAML node with the place of every child, for error locations only.
enum Node {
    Null,
    Scalar,
    Text(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(String, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Node, E> {
        Ok(Node::Text(text.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<KeyText>()? {
            entries.push((key.0, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key as text (a number or boolean key too).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(KeyText(match value {
            Value::String(text) => text,
            other => other.to_string(),
        }))
    }
}
