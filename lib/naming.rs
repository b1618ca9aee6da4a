//! Metric names as prometheus-adapter computes them, so that an HPA's
//! metric is derived from the rules instead of typed twice.
//!
//! The adapter (`pkg/naming/metric_namer.go`) compiles `name.matches`
//! (default `.*`), defaults `name.as` to `$0` without a capture group and
//! `$1` with one (more groups need an explicit `as`), and serves the
//! expansion of `as` over the first match in the series name.
//!
//! ```
//! use custom_metrics_manifests::adapter_config::{NameMapping, Rule};
//! use custom_metrics_manifests::naming::served_metric;
//!
//! let rule = Rule {
//!     series_query: r#"http_requests_total{namespace!="",pod!=""}"#.into(),
//!     name: Some(NameMapping { matches: "^(.*)_total$".into(), r#as: Some("${1}_per_second".into()) }),
//!     ..Rule::default()
//! };
//! assert_eq!(served_metric(&rule, "http_requests_total").unwrap().as_deref(), Some("http_requests_per_second"));
//! assert_eq!(served_metric(&rule, "process_cpu_seconds_total").unwrap(), None);
//! ```

use regex::Regex;

use crate::adapter_config::Rule;

/// The metric name `rule` serves for the series `series_name`, `Ok(None)`
/// when the rule does not select that series, or an error when the rule's
/// regexes are invalid or `as` is ambiguous.
pub fn served_metric(rule: &Rule, series_name: &str) -> Result<Option<String>, String> {
    if !selects_series(&rule.series_query, series_name)? {
        return Ok(None);
    }
    for filter in &rule.series_filters {
        if let Some(pattern) = &filter.is {
            if !compile(pattern, "seriesFilters.is")?.is_match(series_name) {
                return Ok(None);
            }
        }
        if let Some(pattern) = &filter.is_not {
            if compile(pattern, "seriesFilters.isNot")?.is_match(series_name) {
                return Ok(None);
            }
        }
    }
    let (matches, replacement) = name_mapping(rule)?;
    let Some(captures) = matches.captures(series_name) else {
        // The adapter logs and skips series its name regex does not match.
        return Ok(None);
    };
    let mut served = String::new();
    captures.expand(&replacement, &mut served);
    Ok(Some(served))
}

/// The compiled `name.matches` and the effective `name.as`.
pub fn name_mapping(rule: &Rule) -> Result<(Regex, String), String> {
    let (pattern, explicit_as) = match &rule.name {
        Some(mapping) if !mapping.matches.is_empty() => {
            (mapping.matches.as_str(), mapping.r#as.clone())
        }
        Some(mapping) => (".*", mapping.r#as.clone()),
        None => (".*", None),
    };
    let matches = compile(pattern, "name.matches")?;
    let replacement = match explicit_as.filter(|text| !text.is_empty()) {
        Some(replacement) => replacement,
        None => match matches.captures_len() {
            1 => "$0".to_owned(),
            2 => "$1".to_owned(),
            groups => {
                return Err(format!(
                    "name.matches `{pattern}` has {} capture groups: set name.as, \
                     the adapter only defaults it for zero or one",
                    groups - 1
                ))
            }
        },
    };
    Ok((matches, replacement))
}

/// Whether a series selector (`name{...}` or `{__name__=~"..."}`) can
/// select series named `series_name`. Label matchers other than
/// `__name__` are ignored: they filter by labels, not by name.
pub fn selects_series(series_query: &str, series_name: &str) -> Result<bool, String> {
    let query = series_query.trim();
    let name_end = query
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(query.len());
    let metric = &query[..name_end];
    if !metric.is_empty() && metric != series_name {
        return Ok(false);
    }
    let rest = query[name_end..].trim();
    let matchers = rest
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'));
    let Some(matchers) = matchers else {
        return Ok(!metric.is_empty() && rest.is_empty());
    };
    for matcher in split_matchers(matchers) {
        let Some(rest) = matcher.trim().strip_prefix("__name__") else {
            continue;
        };
        let rest = rest.trim_start();
        let (operator, value) = ["=~", "!~", "!=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|value| (*op, value.trim())))
            .ok_or_else(|| format!("cannot read the __name__ matcher in `{series_query}`"))?;
        let value =
            unquote(value).ok_or_else(|| format!("unquoted __name__ value in `{series_query}`"))?;
        let anchored = |pattern: &str| compile(&format!("^(?:{pattern})$"), "seriesQuery __name__");
        let selected = match operator {
            "=" => value == series_name,
            "!=" => value != series_name,
            "=~" => anchored(&value)?.is_match(series_name),
            _ => !anchored(&value)?.is_match(series_name),
        };
        if !selected {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Splits `a="x",b=~"y,z"` at the commas outside quotes.
fn split_matchers(matchers: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (index, c) in matchers.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, ',') => {
                parts.push(&matchers[start..index]);
                start = index + 1;
            }
            _ => {}
        }
        escaped = false;
    }
    parts.push(&matchers[start..]);
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .collect()
}

/// The content of a PromQL string literal (escapes `\"`, `\\` resolved).
fn unquote(literal: &str) -> Option<String> {
    let quote = literal.chars().next()?;
    if !matches!(quote, '"' | '\'' | '`') || literal.len() < 2 || !literal.ends_with(quote) {
        return None;
    }
    let inner = &literal[1..literal.len() - 1];
    if quote == '`' {
        return Some(inner.to_owned());
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn compile(pattern: &str, field: &str) -> Result<Regex, String> {
    Regex::new(pattern)
        .map_err(|error| format!("{field} `{pattern}` is not a valid regex: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter_config::{NameMapping, SeriesFilter};

    fn rule(query: &str, matches: &str, r#as: Option<&str>) -> Rule {
        Rule {
            series_query: query.into(),
            name: Some(NameMapping {
                matches: matches.into(),
                r#as: r#as.map(Into::into),
            }),
            ..Rule::default()
        }
    }

    #[test]
    fn the_adapters_documented_total_to_per_second() {
        let rule = rule(
            r#"{__name__=~"^container_.*",container!="POD"}"#,
            "^container_(.*)_total$",
            Some("${1}_per_second"),
        );
        assert_eq!(
            served_metric(&rule, "container_cpu_usage_seconds_total")
                .unwrap()
                .as_deref(),
            Some("cpu_usage_seconds_per_second")
        );
        assert_eq!(
            served_metric(&rule, "node_cpu_seconds_total").unwrap(),
            None
        );
    }

    #[test]
    fn without_a_capture_group_the_whole_match_is_served() {
        let rule = rule("http_requests_total", "^http_.*", None);
        assert_eq!(
            served_metric(&rule, "http_requests_total")
                .unwrap()
                .as_deref(),
            Some("http_requests_total")
        );
    }

    #[test]
    fn one_capture_group_defaults_to_it() {
        let rule = rule("http_requests_total", "^(.*)_total$", None);
        assert_eq!(
            served_metric(&rule, "http_requests_total")
                .unwrap()
                .as_deref(),
            Some("http_requests")
        );
    }

    #[test]
    fn two_capture_groups_need_as() {
        let rule = rule("http_requests_total", "^(.*)_(total)$", None);
        let error = served_metric(&rule, "http_requests_total").unwrap_err();
        assert!(error.contains("2 capture groups"), "{error}");
        let explicit = Rule {
            name: Some(NameMapping {
                matches: "^(.*)_(total)$".into(),
                r#as: Some("${1}_${2}".into()),
            }),
            ..rule
        };
        assert_eq!(
            served_metric(&explicit, "http_requests_total")
                .unwrap()
                .as_deref(),
            Some("http_requests_total")
        );
    }

    #[test]
    fn the_guides_unanchored_rule_serves_per_minute() {
        let rule = rule(
            r#"http_requests_total{namespace!="",pod!=""}"#,
            "^(.*)_total",
            Some("${1}_per_minute"),
        );
        assert_eq!(
            served_metric(&rule, "http_requests_total")
                .unwrap()
                .as_deref(),
            Some("http_requests_per_minute")
        );
    }

    #[test]
    fn series_filters_apply() {
        let mut rule = rule(r#"{__name__=~"http_.*"}"#, "", None);
        rule.series_filters = vec![SeriesFilter {
            is: None,
            is_not: Some("_total$".into()),
        }];
        assert_eq!(served_metric(&rule, "http_requests_total").unwrap(), None);
        assert_eq!(
            served_metric(&rule, "http_inflight").unwrap().as_deref(),
            Some("http_inflight")
        );
    }

    #[test]
    fn selectors() {
        assert!(selects_series(r#"http_requests_total{a="b,c"}"#, "http_requests_total").unwrap());
        assert!(!selects_series("http_requests_total", "http_requests").unwrap());
        assert!(selects_series(r#"{__name__="x", a!=""}"#, "x").unwrap());
        assert!(!selects_series(r#"{__name__!~"x.*"}"#, "xy").unwrap());
        assert!(selects_series(r#"{__name__=~"x|y"}"#, "y").unwrap());
    }
}
