//! Metric names as prometheus-adapter computes them, so that an HPA's
//! metric is derived from the rules instead of typed twice.
//!
//! The adapter (`pkg/naming/metric_namer.go`) compiles `name.matches`
//! (default `.*`), defaults `name.as` to `$0` without a capture group and
//! `$1` with one (more groups need an explicit `as`), and serves the
//! expansion of `as` over the first match in the series name.

use std::collections::BTreeMap;

use regex::Regex;

use crate::adapter_config::{AdapterConfig, Rule};

/// Why the names a rule serves cannot be computed as the adapter does
/// (the adapter would refuse the rule at start-up).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    /// A regex RE2 (Go's `regexp`) refuses.
    #[error("{field} `{pattern}` is not a valid regex: {message}")]
    Regex {
        /// The rule's field (`name.matches`, `seriesFilters.is`, ...).
        field: &'static str,
        /// The pattern.
        pattern: String,
        /// The regex parser's message.
        message: String,
    },
    /// `name.as` unset with more than one capture group in `name.matches`.
    #[error(
        "name.matches `{pattern}` has {groups} capture groups: set name.as, the adapter only \
         defaults it for zero or one"
    )]
    AmbiguousAs {
        /// `name.matches`.
        pattern: String,
        /// Its capture groups.
        groups: usize,
    },
    /// A `__name__` matcher without an operator (the seriesQuery).
    #[error("cannot read the __name__ matcher in `{0}`")]
    NameMatcher(String),
    /// A `__name__` matcher whose value is not quoted (the seriesQuery).
    #[error("unquoted __name__ value in `{0}`")]
    UnquotedName(String),
    /// The rule at `index` of the adapter config.
    #[error("rules[{index}]: {error}")]
    Rule {
        /// The rule's index.
        index: usize,
        /// What is wrong with it.
        error: Box<NamingError>,
    },
}

/// The metric name `rule` serves for the series `series_name`, `Ok(None)`
/// when the rule does not select that series, or an error when the rule's
/// regexes are invalid or `as` is ambiguous.
pub fn served_metric(rule: &Rule, series_name: &str) -> Result<Option<String>, NamingError> {
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
pub fn name_mapping(rule: &Rule) -> Result<(Regex, String), NamingError> {
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
                return Err(NamingError::AmbiguousAs {
                    pattern: pattern.to_owned(),
                    groups: groups - 1,
                })
            }
        },
    };
    Ok((matches, replacement))
}

/// Whether a series selector (`name{...}` or `{__name__=~"..."}`) can
/// select series named `series_name`. Label matchers other than
/// `__name__` are ignored: they filter by labels, not by name.
pub fn selects_series(series_query: &str, series_name: &str) -> Result<bool, NamingError> {
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
            .ok_or_else(|| NamingError::NameMatcher(series_query.to_owned()))?;
        let value =
            unquote(value).ok_or_else(|| NamingError::UnquotedName(series_query.to_owned()))?;
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

/// The characters of a pod-template-hash and of a generated-name suffix:
/// `k8s.io/apimachinery/pkg/util/rand`'s alphabet (no vowels, no 0, 1, 3).
pub const POD_NAME_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

/// Kubernetes truncates a `generateName` prefix to 58 characters
/// (`maxGeneratedNameLength` in apiserver's names.go) before adding 5
/// random characters.
const MAX_GENERATED_PREFIX: usize = 58;

/// A regex (RE2, anchored by Prometheus' `=~`) matching exactly the pods
/// of Deployment `deployment`: `<deployment>-<pod-template-hash>-<suffix>`,
/// the hash 1 to 10 characters and the suffix 5, both from
/// [`POD_NAME_ALPHABET`]. `api` does not match `api-canary-...` pods: the
/// hash cannot hold `a`, and two segments must follow. For long names
/// Kubernetes truncates the ReplicaSet name plus `-` to 58 characters, and
/// the pattern follows the truncation for each hash length.
pub fn pod_pattern(deployment: &str) -> String {
    let class = format!("[{POD_NAME_ALPHABET}]");
    let suffix = format!("{class}{{5}}");
    // Short names are never truncated: one compact pattern.
    // `name-` plus a 10-character hash plus `-` fits in 58.
    if deployment.len() + 12 <= MAX_GENERATED_PREFIX {
        return format!("{}-{class}{{1,10}}-{suffix}", regex_escape(deployment));
    }
    let mut alternatives: Vec<String> = Vec::new();
    for hash_len in 1..=10usize {
        // The prefix `deployment-HASH-`, cut at 58 characters.
        let full = deployment.len() + 1 + hash_len + 1;
        let keep = full.min(MAX_GENERATED_PREFIX);
        let name_chars = keep.min(deployment.len());
        let mut prefix = regex_escape(&deployment[..name_chars]);
        let mut left = keep - name_chars;
        if left > 0 {
            prefix.push('-');
            left -= 1;
        }
        let hash_chars = left.min(hash_len);
        if hash_chars > 0 {
            prefix.push_str(&format!("{class}{{{hash_chars}}}"));
            left -= hash_chars;
        }
        if left > 0 {
            prefix.push('-');
        }
        let alternative = format!("{prefix}{suffix}");
        if !alternatives.contains(&alternative) {
            alternatives.push(alternative);
        }
    }
    alternatives.join("|")
}

/// `text` as a regex literal. Names hold only `a-z0-9-`, which need no
/// escape; anything else becomes a one-character class, so the pattern
/// never holds a backslash that a PromQL string literal would reinterpret.
fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c.to_string(),
            '\\' | ']' | '^' | '"' => format!("\\x{{{:x}}}", c as u32),
            other => format!("[{other}]"),
        })
        .collect()
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

/// Compiles `pattern`, once per process: the rules' few patterns are asked
/// for every app (10,000 apps must not compile them 10,000 times). A
/// `Regex` clone shares the compiled program.
fn compile(pattern: &str, field: &'static str) -> Result<Regex, NamingError> {
    static COMPILED: std::sync::Mutex<BTreeMap<String, Regex>> =
        std::sync::Mutex::new(BTreeMap::new());
    // A poisoned cache only holds complete entries.
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(regex) = compiled.get(pattern) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(pattern).map_err(|error| NamingError::Regex {
        field,
        pattern: pattern.to_owned(),
        message: error.to_string(),
    })?;
    // Bounded: a program reading many configs does not grow it forever.
    if compiled.len() >= 256 {
        compiled.clear();
    }
    compiled.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

/// The series an app without an explicit `metric` is scaled on: the
/// request counter of `prometheus-fastapi-instrumentator`.
pub const DEFAULT_SERIES: &str = "http_requests_total";

/// A metric the adapter will serve: its name, the series it comes from
/// and the index of the rule that serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedMetric {
    /// The metric name on `custom.metrics.k8s.io`.
    pub name: String,
    /// The Prometheus series it is computed from.
    pub series: String,
    /// Index into the rules.
    pub rule: usize,
}

/// The metrics the rules serve for the series they name and for the
/// request counter ([`DEFAULT_SERIES`]). Rules that select series by a
/// `__name__` regex are checked against the request counter only: their
/// other series are unknown until the adapter asks Prometheus.
pub fn served_metrics(adapter_config: &AdapterConfig) -> Result<Vec<ServedMetric>, NamingError> {
    let mut served = Vec::new();
    for (index, rule) in adapter_config.rules.iter().enumerate() {
        let mut candidates = vec![DEFAULT_SERIES.to_owned()];
        let query = rule.series_query.trim();
        let end = query
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(query.len());
        if end > 0 && query[..end] != *DEFAULT_SERIES {
            candidates.push(query[..end].to_owned());
        }
        for series in candidates {
            let name = served_metric(rule, &series).map_err(|error| NamingError::Rule {
                index,
                error: Box::new(error),
            })?;
            if let Some(name) = name {
                served.push(ServedMetric {
                    name,
                    series,
                    rule: index,
                });
            }
        }
    }
    Ok(served)
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
        assert_eq!(
            error,
            NamingError::AmbiguousAs {
                pattern: "^(.*)_(total)$".into(),
                groups: 2
            }
        );
        assert!(error.to_string().contains("2 capture groups"), "{error}");
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
    fn pod_patterns_select_exactly_one_deployments_pods() {
        let matches = |deployment: &str, pod: &str| {
            Regex::new(&format!("^(?:{})$", pod_pattern(deployment)))
                .unwrap()
                .is_match(pod)
        };
        assert!(matches("api", "api-6b7c4d9f2-q8x2z"));
        assert!(matches("api", "api-b-q8x2z"));
        assert!(!matches("api", "api-canary-6b7c4d9f2-q8x2z"));
        assert!(!matches("api-canary", "api-6b7c4d9f2-q8x2z"));
        assert!(matches("api-canary", "api-canary-6b7c4d9f2-q8x2z"));
        assert!(!matches("api", "api-6b7c4d9f2-q8x2"));
        assert!(!matches("api", "api-6b7c4d9f2b4-q8x2z"));
        assert!(!matches("api", "xapi-6b7c4d9f2-q8x2z"));
        // A 55-character name: `name-HASH-` is cut at 58 characters.
        let long = "a".repeat(55);
        let hash = "6b7c4d9f2";
        let cut = format!("{long}-{hash}-");
        let pod = format!("{}q8x2z", &cut[..58]);
        assert!(matches(&long, &pod), "{pod}");
        assert!(!matches(&long, &format!("{long}-{hash}-q8x2z")));
        let sixty_three = "b".repeat(63);
        assert!(matches(
            &sixty_three,
            &format!("{}q8x2z", &sixty_three[..58])
        ));
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

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::naming::served_metric;
        use crate::{NameMapping, Rule};

        let rule = Rule {
            series_query: r#"http_requests_total{namespace!="",pod!=""}"#.into(),
            name: Some(NameMapping {
                matches: "^(.*)_total$".into(),
                r#as: Some("${1}_per_second".into()),
            }),
            ..Rule::default()
        };
        assert_eq!(
            served_metric(&rule, "http_requests_total")
                .unwrap()
                .as_deref(),
            Some("http_requests_per_second")
        );
        assert_eq!(
            served_metric(&rule, "process_cpu_seconds_total").unwrap(),
            None
        );
    }

    #[test]
    fn pod_pattern_example() {
        use crate::naming::pod_pattern;

        let pattern = regex::Regex::new(&format!("^(?:{})$", pod_pattern("api"))).unwrap();
        assert!(pattern.is_match("api-7c9f8d6b5-x2k4q"));
        assert!(!pattern.is_match("api-canary-7c9f8d6b5-x2k4q"));
        assert!(!pattern.is_match("api-7c9f8d6b5"));
    }
}
