//! The README promises that every message the spec reader can print for
//! bad input has a fixture and a snapshot. This holds it to that: every
//! typed value error (`#[error("...")]` in lib/values.rs, lib/spec.rs and
//! the kinds of lib/spec/errors.rs)
//! and every message the spec's own checks build (`custom(...)` in
//! lib/spec.rs, `error(at, field, "...")` in lib/config.rs) must appear,
//! by its longest fixed part, in some snapshot of a refused input.

use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Rust string literal starting at `text[0] == '"'`, unescaped as the
/// compiler reads it (line continuations, `\"`, `\n`), and where it ends.
fn literal(text: &str) -> Option<(String, usize)> {
    let bytes: Vec<char> = text.chars().collect();
    if bytes.first() != Some(&'"') {
        return None;
    }
    let mut out = String::new();
    let mut i = 1;
    let mut consumed = 1;
    while i < bytes.len() {
        let c = bytes[i];
        consumed += c.len_utf8();
        match c {
            '"' => return Some((out, consumed)),
            '\\' => {
                i += 1;
                let next = *bytes.get(i)?;
                consumed += next.len_utf8();
                match next {
                    '\n' => {
                        while i + 1 < bytes.len() && bytes[i + 1].is_whitespace() {
                            i += 1;
                            consumed += bytes[i].len_utf8();
                        }
                    }
                    'n' => out.push('\n'),
                    other => out.push(other),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    None
}

/// The longest part of a format string between placeholders.
fn fixed_part(message: &str) -> String {
    let message = message.replace("{{", "\u{1}").replace("}}", "\u{2}");
    let mut parts = Vec::new();
    let mut rest = message.as_str();
    while let Some(open) = rest.find('{') {
        parts.push(&rest[..open]);
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    parts.push(rest);
    parts
        .into_iter()
        .max_by_key(|part| part.len())
        .unwrap_or_default()
        .replace('\u{1}', "{")
        .replace('\u{2}', "}")
        .trim()
        .to_owned()
}

/// The messages after each occurrence of `marker` in `file`.
fn messages(file: &str, marker: &str) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    let mut found = Vec::new();
    for (at, _) in text.match_indices(marker) {
        let after = &text[at + marker.len()..];
        let start = after.len() - after.trim_start().len();
        // `custom(format!("...` and `error(at, "field", "..."`: the message
        // is the first literal that is not a field path.
        let mut rest = &after[start..];
        rest = rest.strip_prefix("format!(").unwrap_or(rest);
        let line = text[..at].lines().count() + 1;
        if let Some((message, _)) = literal(rest) {
            found.push((message, line));
        }
    }
    found
}

/// Messages of the model's checks in lib/config.rs, `error(at, "field",
/// message)` and `Err(("field", message))`: the literal after the field's.
fn config_messages() -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("lib/config.rs")).unwrap();
    let mut found = Vec::new();
    for marker in ["error(", "Err(("] {
        for (at, _) in text.match_indices(marker) {
            let call = &text[at + marker.len()..text.len().min(at + 700)];
            let Some(first) = call.find('"') else {
                continue;
            };
            // The field path: within the call's first line or two.
            if call[..first].contains(';') || call[..first].matches('\n').count() > 2 {
                continue;
            }
            let Some((field, used)) = literal(&call[first..]) else {
                continue;
            };
            if field.is_empty()
                || !field
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".[]{}_".contains(c))
            {
                continue;
            }
            let rest = call[first + used..].trim_start_matches([',', ' ', '\n', ')']);
            let rest = rest.strip_prefix("format!(").unwrap_or(rest).trim_start();
            if let Some((message, _)) = literal(rest) {
                found.push((message, text[..at].lines().count() + 1));
            }
        }
    }
    // Typed app errors: `AppError::new(AppField::X, "..."` or `format!("...`.
    for (at, _) in text.match_indices("AppError::new(") {
        let call = &text[at + "AppError::new(".len()..text.len().min(at + 700)];
        let Some(comma) = call.find(',') else {
            continue;
        };
        let rest = call[comma + 1..].trim_start();
        let rest = rest.strip_prefix("format!(").unwrap_or(rest).trim_start();
        if let Some((message, _)) = literal(rest) {
            found.push((message, text[..at].lines().count() + 1));
        }
    }
    found
}

/// Messages of the library's API that no spec can make the reader print,
/// and why.
const NOT_FROM_A_SPEC: &[(&str, &str)] = &[
    (
        "is not a DNS-1123 subdomain",
        "check_dns1123_subdomain is public API; a label key's prefix reports the label key error",
    ),
    (
        "unknown preset",
        "Preset's FromStr error is public API; a spec's preset is read by serde and --preset by clap",
    ),
];

/// Messages whose input is too large for a fixture file, and the test that
/// generates it and checks the message.
const GENERATED_INPUT: &[(&str, &str)] = &[
    (
        "are limited to",
        "a file over MAX_SPEC_BYTES: tests/safety.rs, every_file_reader_is_bounded",
    ),
    (
        "one spec may have",
        "MAX_APPS + 1 apps: tests/safety.rs, a_spec_with_more_apps_than_the_limit_is_refused_located",
    ),
];

fn snapshots() -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("snapshots")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("bad") || name.contains("error") || name.contains("refus") {
            all += &std::fs::read_to_string(&path).unwrap();
        }
    }
    all
}

#[test]
fn every_spec_error_message_has_a_fixture_and_a_snapshot() {
    let snapshots = snapshots();
    let mut all = Vec::new();
    for file in ["lib/values.rs", "lib/spec.rs", "lib/spec/errors.rs"] {
        for (message, line) in messages(file, "#[error(") {
            all.push((file, line, message));
        }
        for (message, line) in messages(file, "custom(") {
            all.push((file, line, message));
        }
        for (message, line) in messages(file, "Err(") {
            all.push((file, line, message));
        }
    }
    for (message, line) in messages("lib/config.rs", "Err(") {
        all.push(("lib/config.rs", line, message));
    }
    for (message, line) in config_messages() {
        all.push(("lib/config.rs", line, message));
    }
    assert!(all.len() > 30, "the scan finds the messages: {}", all.len());
    let missing: Vec<String> = all
        .iter()
        .filter(|(_, _, message)| {
            let part = fixed_part(message);
            let exempt = NOT_FROM_A_SPEC
                .iter()
                .chain(GENERATED_INPUT)
                .any(|(text, _)| message.contains(text));
            part.len() >= 8 && !exempt && !snapshots.contains(&part)
        })
        .map(|(file, line, message)| format!("{file}:{line}: {message}"))
        .collect();
    assert!(
        missing.is_empty(),
        "{} messages have no fixture whose snapshot shows them:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
