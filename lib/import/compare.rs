//! What the imported spec does not reproduce: the input objects against
//! the objects generated from the spec, field by field. An adapter
//! `config.yaml` is compared as the YAML it holds (the adapter reads it so),
//! not as text.

use std::collections::BTreeMap;

use serde_json::Value;

use super::read::{display, join, short, Key, Object};
use super::Loss;

/// Every difference between `input` and `generated` (in input order, then
/// the objects only generated).
pub(super) fn differences(input: &[Object], generated: &[Value]) -> Vec<Loss> {
    let mut losses = Vec::new();
    let mut made: BTreeMap<Key, &Value> = BTreeMap::new();
    for value in generated {
        made.insert(key_of(value), value);
    }
    let mut matched = std::collections::BTreeSet::new();
    for object in input {
        let key = object.key();
        match made.get(&key) {
            Some(value) => {
                matched.insert(key);
                let mut found = Vec::new();
                diff(
                    &object.value,
                    value,
                    String::new(),
                    object.kind(),
                    &mut found,
                );
                losses.extend(found.into_iter().map(|(field, message)| Loss {
                    object: object.display(),
                    field,
                    message,
                }));
            }
            None => losses.push(Loss {
                object: object.display(),
                field: String::new(),
                message: "not represented: the spec generates no such object".into(),
            }),
        }
    }
    for value in generated {
        let key = key_of(value);
        if !matched.contains(&key) {
            let namespace = (!key.1.is_empty()).then_some(key.1.as_str());
            losses.push(Loss {
                object: display(&key.0, namespace, &key.2),
                field: String::new(),
                message: "added: the spec generates it, the input has no such object".into(),
            });
        }
    }
    losses
}

/// Whether a field set to `value` means what leaving it out means: null,
/// an empty map or list (not `emptyDir: {}` or `selfSigned: {}`, whose
/// presence is the setting).
fn vacuous(key: &str, value: &Value) -> bool {
    let empty = match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    };
    empty && !matches!(key, "emptyDir" | "selfSigned")
}

fn key_of(value: &Value) -> Key {
    Key::new(
        value["kind"].as_str().unwrap_or(""),
        value["metadata"]["namespace"].as_str(),
        value["metadata"]["name"].as_str().unwrap_or(""),
    )
}

/// The differences below `path`: `(field, message)`.
fn diff(input: &Value, made: &Value, path: String, kind: &str, out: &mut Vec<(String, String)>) {
    if input == made {
        return;
    }
    match (input, made) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let field = join(&path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y))
                        if kind == "ConfigMap" && field == "data[\"config.yaml\"]" =>
                    {
                        config_diff(x, y, &field, out)
                    }
                    (Some(x), Some(y)) => diff(x, y, field, kind, out),
                    // An empty map or list says what an absent one says.
                    (Some(only), None) | (None, Some(only)) if vacuous(key, only) => {}
                    (Some(x), None) => out.push((
                        field,
                        format!(
                            "`{}` is not represented (the spec does not write this field)",
                            short(x)
                        ),
                    )),
                    (None, Some(y)) => out.push((
                        field,
                        format!("added: `{}` (the input has no such field)", short(y)),
                    )),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, format!("{path}[{index}]"), kind, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => out.push((
            path,
            format!(
                "{} item(s) in the input, {} regenerated: `{}` -> `{}`",
                a.len(),
                b.len(),
                short(input),
                short(made)
            ),
        )),
        _ => out.push((
            path,
            format!(
                "`{}` in the input, `{}` regenerated",
                short(input),
                short(made)
            ),
        )),
    }
}

/// Two `config.yaml` texts, compared as the YAML they hold.
fn config_diff(input: &Value, made: &Value, field: &str, out: &mut Vec<(String, String)>) {
    let parse = |value: &Value| {
        value
            .as_str()
            .and_then(|text| crate::spec::read_yaml::<Value>(text, "config.yaml").ok())
    };
    match (parse(input), parse(made)) {
        (Some(a), Some(b)) => {
            let mut found = Vec::new();
            diff(&a, &b, String::new(), "", &mut found);
            out.extend(
                found
                    .into_iter()
                    .map(|(inner, message)| (format!("{field} {inner}"), message)),
            );
        }
        _ => out.push((
            field.to_owned(),
            "the input's config.yaml is not YAML the adapter reads".into(),
        )),
    }
}
