//! PromQL parses shared between queries that differ only in their label
//! matchers' values, such as the ScaledObjects of 10,000 apps (one query
//! each, with the app's namespace and pod regex in it). promql-parser
//! compiles every regex matcher into a `Regex` as it parses, which made
//! linting 10,000 such queries cost seconds; the checks that use this
//! memo read the query's structure only (aggregations, functions, ranges,
//! label modifiers), never a matcher's value.
//!
//! A query is parsed as its *skeleton*: each plain string literal after a
//! matcher operator inside `{...}` replaced by a placeholder that parses
//! the same way. The value of a matcher decides the parse in two ways
//! only (promql-parser 0.11 `Matcher::new_matcher`, `is_empty_matchers`):
//! a regex that does not compile is an error, and a selector without a
//! name whose matchers all match the empty string is an error. So the
//! placeholder is `""` for a value that matches the empty string and
//! `"a"` for one that does not, and a regex is first judged on its own
//! (once per pattern shape, see [`pattern_shape`]). A query whose
//! skeleton does not parse, or with a regex that does not compile, is
//! parsed as written, so that its error message is the parser's own.

use std::borrow::Cow;
use std::collections::HashMap;

use promql_parser::parser::Expr;

use super::promql;

/// Parses of the skeletons seen so far, and what each regex shape does.
#[derive(Default)]
pub(super) struct ParseMemo {
    skeletons: HashMap<String, Result<Expr, String>>,
    patterns: HashMap<String, Pattern>,
}

/// What promql-parser makes of a regex matcher's value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pattern {
    /// It does not compile: the query is an error.
    Invalid,
    /// It compiles and matches the empty string.
    MatchesEmpty,
    /// It compiles and does not match the empty string.
    NotEmpty,
}

/// A label matcher's operator.
#[derive(Clone, Copy)]
enum Op {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl ParseMemo {
    /// `query` parsed as [`promql::parse`] parses it, except that matcher
    /// values may be placeholders (see the module's comment).
    pub(super) fn parse(&mut self, query: &str) -> Result<Cow<'_, Expr>, String> {
        let Some(skeleton) = self.skeleton(query) else {
            return promql::parse(query).map(Cow::Owned);
        };
        if !self.skeletons.contains_key(&skeleton) {
            let parsed = promql::parse(&skeleton);
            self.skeletons.insert(skeleton.clone(), parsed);
        }
        match &self.skeletons[&skeleton] {
            Ok(expr) => Ok(Cow::Borrowed(expr)),
            // The error as the parser words it for the query as written.
            Err(_) => promql::parse(query).map(Cow::Owned),
        }
    }

    /// `query` with the plain literal values of its label matchers
    /// replaced by placeholders; `None` when a regex does not compile or
    /// the query cannot be scanned (the caller parses it as written).
    fn skeleton(&mut self, query: &str) -> Option<String> {
        let bytes = query.as_bytes();
        let mut out = String::with_capacity(query.len());
        let mut copied = 0;
        let mut in_braces = false;
        let mut op: Option<Op> = None;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'#' => {
                    // A comment, to the end of the line.
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    op = None;
                    continue;
                }
                quote @ (b'"' | b'\'' | b'`') => {
                    let end = string_end(bytes, i)?;
                    let inner = &query[i + 1..end - 1];
                    // Only a plain "..." is its own value (no escapes).
                    let plain = quote == b'"' && !inner.contains(['\\', '\n']);
                    if let (true, true, Some(op)) = (in_braces, plain, op) {
                        let empty = match op {
                            Op::Equal | Op::NotEqual => inner.is_empty(),
                            Op::Regex | Op::NotRegex => match self.pattern(inner) {
                                Pattern::Invalid => return None,
                                Pattern::MatchesEmpty => true,
                                Pattern::NotEmpty => false,
                            },
                        };
                        out.push_str(&query[copied..i]);
                        out.push_str(if empty { "\"\"" } else { "\"a\"" });
                        copied = end;
                    }
                    op = None;
                    i = end;
                    continue;
                }
                b'{' => in_braces = true,
                b'}' => in_braces = false,
                b'=' | b'!' if in_braces => {
                    let (found, len) = match (bytes[i], bytes.get(i + 1)) {
                        (b'=', Some(b'~')) => (Op::Regex, 2),
                        (b'=', _) => (Op::Equal, 1),
                        (b'!', Some(b'~')) => (Op::NotRegex, 2),
                        (b'!', Some(b'=')) => (Op::NotEqual, 2),
                        _ => return None,
                    };
                    op = Some(found);
                    i += len;
                    continue;
                }
                byte if byte.is_ascii_whitespace() => {}
                _ => op = None,
            }
            i += 1;
        }
        out.push_str(&query[copied..]);
        Some(out)
    }

    /// What the parser makes of the regex `pattern`, judged once per
    /// shape: a selector of that one matcher, parsed.
    fn pattern(&mut self, pattern: &str) -> Pattern {
        let shape = pattern_shape(pattern);
        if let Some(known) = self.patterns.get(shape.as_ref()) {
            return *known;
        }
        let verdict = match promql::parse(&format!("{{x=~\"{pattern}\"}}")) {
            Ok(_) => Pattern::NotEmpty,
            Err(error) if error.contains("at least one non-empty matcher") => Pattern::MatchesEmpty,
            Err(_) => Pattern::Invalid,
        };
        self.patterns.insert(shape.into_owned(), verdict);
        verdict
    }
}

/// The index after the string literal that starts at `start`; `None` when
/// it is not closed.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            byte if byte == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A regex with its literal ASCII letters and digits (outside classes,
/// repetition counts and escapes) made `a`: it compiles, fails and matches
/// the empty string exactly as the original, since each such character is
/// one literal of one byte. Patterns with group flags (`(?i)`, where a
/// letter's case folding differs from a digit's) or escapes are their own
/// shape.
fn pattern_shape(pattern: &str) -> Cow<'_, str> {
    if pattern.contains("(?") || pattern.contains('\\') {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len());
    let mut class = 0usize;
    let mut count = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if class > 0 {
            match c {
                '[' => class += 1,
                ']' => class -= 1,
                _ => {}
            }
            out.push(c);
            continue;
        }
        if count {
            count = c != '}';
            out.push(c);
            continue;
        }
        match c {
            '[' => {
                class = 1;
                out.push(c);
                // A `]` (after an optional `^`) first in a class is literal.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            '{' => {
                count = true;
                out.push(c);
            }
            c if c.is_ascii_alphanumeric() => out.push('a'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memo and the parser agree on success, on the error message, and
    /// on the structure (printed with matcher values left out).
    #[test]
    fn parses_like_the_parser() {
        let mut memo = ParseMemo::default();
        for query in [
            r#"sum(rate(x{namespace="ns-0",pod=~"app-0-[bcd]{1,10}-[bcd]{5}"}[2m]))"#,
            r#"sum(rate(x{namespace="ns-1",pod=~"app-17-[bcd]{1,10}-[bcd]{5}"}[2m])) by (pod)"#,
            r#"sum(x{pod=~"a(b"})"#,
            r#"sum(x{pod=~"a{bb}"})"#,
            r#"{pod=~".*"}"#,
            r#"{pod=~"a*"}"#,
            r#"{pod=~"ab"}"#,
            r#"{pod!~"ab"}"#,
            r#"{pod=""}"#,
            r#"{pod!=""}"#,
            r#"{pod="a\nb"}"#,
            r#"{pod="a"} # {pod=~"("}"#,
            r#"x{pod=~"[]a]+", ns='b'}"#,
            r#"x{pod=~"(?i)A"}"#,
            r#"x{pod=="a"}"#,
            r#"x{pod="a" or pod=~"b+"}"#,
            r#"label_replace(x{a="b"}, "dst", "$1", "src", "(.*)")"#,
            r#"x{pod=~"a{1000}{1000}{1000}"}"#,
            r#"x{pod="unterminated}"#,
            "sum(",
        ] {
            let direct = promql::parse(query);
            let memoized = memo.parse(query).map(Cow::into_owned);
            match (&direct, &memoized) {
                (Ok(direct), Ok(memoized)) => assert_eq!(
                    promql::rate_windows(direct),
                    promql::rate_windows(memoized),
                    "{query}"
                ),
                (Err(direct), Err(memoized)) => assert_eq!(direct, memoized, "{query}"),
                _ => panic!("{query}: {direct:?} vs {memoized:?}"),
            }
            if let (Ok(direct), Ok(memoized)) = (&direct, &memoized) {
                assert_eq!(
                    promql::output_labels(direct),
                    promql::output_labels(memoized),
                    "{query}"
                );
            }
        }
    }

    #[test]
    fn one_parse_per_shape() {
        let mut memo = ParseMemo::default();
        for app in 0..100 {
            let query = format!(
                r#"sum(rate(x{{namespace="ns-{app}",pod=~"app-{app}-[bcd]{{1,10}}-[bcd]{{5}}"}}[2m]))"#
            );
            assert!(memo.parse(&query).is_ok());
        }
        assert_eq!(memo.skeletons.len(), 1);
        assert_eq!(memo.patterns.len(), 2);
    }

    #[test]
    fn shapes_keep_what_decides_a_regex() {
        assert_eq!(pattern_shape("app-17-[bc9]{1,10}"), "aaa-aa-[bc9]{1,10}");
        assert_eq!(pattern_shape("[]x]y"), "[]x]a");
        assert_eq!(pattern_shape("(?i)x"), "(?i)x");
        assert_eq!(pattern_shape("x{a1}"), "a{a1}");
    }
}
