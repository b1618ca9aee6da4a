//! Filling prometheus-adapter's query templates as the adapter does for one
//! request: `<<.Series>>` is the series name, `<<.LabelMatchers>>` the
//! namespace and pod matchers, `<<.GroupBy>>` the pod label. Shared by
//! `lint` (does it parse?) and `explain` (what exactly is sent?).

use std::sync::LazyLock;

use regex::Regex;

use crate::adapter_config::Rule;

/// What the adapter puts in for the placeholders.
#[derive(Clone, Copy, Debug)]
pub struct QueryContext<'a> {
    /// `<<.Series>>`.
    pub series: &'a str,
    /// `<<.LabelMatchers>>`: a non-empty matcher list.
    pub label_matchers: &'a str,
    /// `<<.GroupBy>>` and `<<.GroupBySlice>>`.
    pub group_by: &'a str,
    /// `<<.LabelValuesByName>>` and `<<index .LabelValuesByName "x">>`.
    pub label_values: &'a str,
}

/// Why a template cannot be filled, as Go's `text/template` (with the
/// adapter's `<<`/`>>` delimiters) would fail on it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Go's parser refuses the template: the adapter exits at start-up
    /// ("unable to parse metrics query template").
    #[error("{0}")]
    Parse(String),
    /// The template parses but executing it fails for every request
    /// (a field the adapter does not provide).
    #[error("{0}")]
    Execute(String),
    /// The template uses actions this model does not execute (`range`,
    /// `if`, pipelines); no verdict is given on it.
    #[error("{0}")]
    Unsupported(String),
}

/// The fields of the adapter's `queryTemplateArgs` (`pkg/naming/metrics_query.go`).
const FIELDS: [&str; 5] = [
    "Series",
    "LabelMatchers",
    "LabelValuesByName",
    "GroupBy",
    "GroupBySlice",
];

/// Go's template keywords and builtin functions: an action starting with
/// one is valid Go, but not modelled here.
const GO_NAMES: [&str; 31] = [
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
    "nil", "true", "false", "and", "or", "not", "len", "index", "print", "printf", "println",
    "slice", "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery",
];

/// `template` executed as Go's `text/template` with the delimiters `<<`
/// and `>>` executes it for one request: text outside actions is copied
/// as is (so a typo such as `{.LabelMatchers>>}` reaches PromQL verbatim),
/// `<<- ` and ` ->>` trim the adjacent white space, `<</* */>>` is a
/// comment, and the fields print as Go prints them (`.GroupBySlice` as
/// `[pod]`).
pub fn execute_template(
    template: &str,
    context: &QueryContext<'_>,
) -> Result<String, TemplateError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("<<") {
        let mut text = &rest[..open];
        let mut action = &rest[open + 2..];
        // A left trim marker is `<<-` followed by white space.
        if action.starts_with('-') && action[1..].starts_with([' ', '\t', '\r', '\n']) {
            text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            action = &action[1..];
        }
        out.push_str(text);
        let close = action_end(action).ok_or_else(|| {
            TemplateError::Parse(format!(
                "unclosed action: `<<{}` has no `>>`",
                action.chars().take(30).collect::<String>()
            ))
        })?;
        let mut body = &action[..close];
        rest = &action[close + 2..];
        // A right trim marker is white space followed by `->>`.
        if body.ends_with('-') && body[..body.len() - 1].ends_with([' ', '\t', '\r', '\n']) {
            body = &body[..body.len() - 1];
            rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        out.push_str(&evaluate(body.trim(), context)?);
    }
    out.push_str(rest);
    Ok(out)
}

/// Where the action starting at `action` ends (the index of `>>`), with
/// `>>` inside quoted strings not counting.
fn action_end(action: &str) -> Option<usize> {
    let bytes = action.as_bytes();
    let mut index = 0;
    let mut quote: Option<u8> = None;
    while index < bytes.len() {
        let byte = bytes[index];
        match quote {
            Some(q) if byte == b'\\' && q != b'`' => index += 1,
            Some(q) if byte == q => quote = None,
            Some(_) => {}
            None if matches!(byte, b'"' | b'`' | b'\'') => quote = Some(byte),
            None if action[index..].starts_with(">>") => return Some(index),
            None => {}
        }
        index += 1;
    }
    None
}

/// The text one action prints.
fn evaluate(body: &str, context: &QueryContext<'_>) -> Result<String, TemplateError> {
    if body.starts_with("/*") && body.ends_with("*/") {
        return Ok(String::new());
    }
    if body.is_empty() {
        return Err(TemplateError::Parse(
            "missing value for command: `<<>>`".to_owned(),
        ));
    }
    if let Some(bad) = stray_character(body) {
        return Err(TemplateError::Parse(format!(
            "unexpected `{bad}` in the action `<<{body}>>`"
        )));
    }
    if let Some(path) = body.strip_prefix('.') {
        if !path.is_empty() && path.split('.').all(is_identifier) {
            let mut parts = path.split('.');
            let field = parts.next().unwrap_or("");
            if !FIELDS.contains(&field) {
                return Err(TemplateError::Execute(format!(
                    "can't evaluate field {field}: the adapter's template has only .{}",
                    FIELDS.join(", .")
                )));
            }
            if let Some(sub) = parts.next() {
                return Err(TemplateError::Execute(format!(
                    "can't evaluate field {sub} in .{field}"
                )));
            }
            return Ok(match field {
                "Series" => context.series.to_owned(),
                "LabelMatchers" => context.label_matchers.to_owned(),
                "GroupBy" => context.group_by.to_owned(),
                "GroupBySlice" => format!("[{}]", context.group_by.replace(',', " ")),
                _ => format!("map[{}]", context.label_values),
            });
        }
    }
    if INDEX_LABEL_VALUES.is_match(body) {
        return Ok(context.label_values.to_owned());
    }
    let first = body.split_whitespace().next().unwrap_or("");
    if is_identifier(first) && !GO_NAMES.contains(&first) {
        return Err(TemplateError::Parse(format!(
            "function \"{first}\" not defined (a field is written with a dot: `<<.{first}>>`)"
        )));
    }
    Err(TemplateError::Unsupported(format!(
        "the action `<<{body}>>` is not modelled"
    )))
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A character Go's template lexer refuses inside an action (outside
/// quotes), if any.
fn stray_character(body: &str) -> Option<char> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in body.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(q) if c == '\\' && q != '`' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '`' | '\'') => quote = Some(c),
            None if c.is_ascii_alphanumeric() || " \t\r\n._$|():=,+-".contains(c) => {}
            None => return Some(c),
        }
    }
    None
}

/// `index .LabelValuesByName "label"`.
static INDEX_LABEL_VALUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^index\s+\.LabelValuesByName\s+"[^"]*"$"#).expect("valid regex")
});

/// `template` with the placeholders filled in; `None` when Go would refuse
/// it or it holds an action this does not model (see [`execute_template`]).
pub fn fill_template(template: &str, context: &QueryContext<'_>) -> Option<String> {
    execute_template(template, context).ok()
}

/// The series labels a rule maps to the `namespace` and `pod` resources:
/// from `resources.overrides`, or `resources.template` with the resource
/// filled in; `namespace` and `pod` when the rule says nothing.
pub fn resource_labels(rule: &Rule) -> (String, String) {
    let label_for = |resource: &str| -> String {
        let Some(mapping) = &rule.resources else {
            return resource.to_owned();
        };
        if let Some((label, _)) = mapping
            .overrides
            .iter()
            .find(|(_, target)| target.resource == resource)
        {
            return label.clone();
        }
        match &mapping.template {
            Some(template) => template
                .replace("<<.Resource>>", resource)
                .replace("<<.Group>>", ""),
            None => resource.to_owned(),
        }
    };
    (label_for("namespace"), label_for("pod"))
}

/// `value` as a PromQL string literal: double-quoted, with backslashes,
/// double quotes and control characters escaped as Go's `strconv.Quote` (which PromQL's
/// lexer reads back) would, so that a label value from anywhere (a pod
/// name Prometheus reported, a spec) can never end the literal and add
/// PromQL of its own.
pub fn promql_string(value: &str) -> String {
    let mut literal = String::with_capacity(value.len() + 2);
    literal.push('"');
    for c in value.chars() {
        match c {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            '\t' => literal.push_str("\\t"),
            c if c.is_control() => literal.push_str(&format!("\\u{:04x}", c as u32)),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

/// The query the adapter sends for an app's pods: `rule`'s metricsQuery
/// with `<<.Series>>` = `series`, `<<.LabelMatchers>>` = the rule's
/// namespace and pod labels matching `namespace` and `pod_pattern`,
/// `<<.GroupBy>>` = the pod label. `None` when the template holds an
/// action this does not model.
pub fn app_query(rule: &Rule, series: &str, namespace: &str, pod_pattern: &str) -> Option<String> {
    let (namespace_label, pod_label) = resource_labels(rule);
    let label_matchers = format!(
        "{namespace_label}={},{pod_label}=~{}",
        promql_string(namespace),
        promql_string(pod_pattern)
    );
    let context = QueryContext {
        series,
        label_matchers: &label_matchers,
        group_by: &pod_label,
        label_values: namespace,
    };
    fill_template(rule.metrics_query.as_deref().unwrap_or(""), &context)
}

/// Why [`keda_query`] cannot write a concrete query.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KedaQueryError {
    /// The rules' names cannot be computed.
    #[error(transparent)]
    Naming(#[from] crate::naming::NamingError),
    /// No rule serves the metric.
    #[error("no adapter rule serves metric `{0}`")]
    NotServed(String),
    /// The serving rule's (index) `metricsQuery` uses template actions
    /// this tool does not fill.
    #[error(
        "rules[{0}].metricsQuery uses Go template actions this tool does not model; KEDA needs a \
         concrete query"
    )]
    Unmodelled(usize),
}

/// The one-sample query KEDA's prometheus scaler runs for `app`: the
/// adapter's own query for exactly the Deployment's pods
/// ([`pod_pattern`](crate::naming::pod_pattern)), summed, so its value is
/// the app's total and the HPA's `AverageValue` divides it by the pods.
///
/// When the app's series do not exist yet (no request served since the
/// pods started) but Prometheus does scrape the pods, the query answers
/// `0`; when Prometheus scrapes none of them (targets lost, Prometheus
/// misconfigured) it answers nothing, which `ignoreNullValues: "false"`
/// turns into an error and KEDA's fallback instead of a scale-down.
pub fn keda_query(
    adapter_config: &crate::adapter_config::AdapterConfig,
    namespace: &str,
    deployment: &str,
    metric: &str,
) -> Result<String, KedaQueryError> {
    let served = crate::naming::served_metrics(adapter_config)?;
    let serving = served
        .iter()
        .find(|served| served.name == metric)
        .ok_or_else(|| KedaQueryError::NotServed(metric.to_owned()))?;
    let rule = &adapter_config.rules[serving.rule];
    let pods = crate::naming::pod_pattern(deployment);
    let per_pod = app_query(rule, &serving.series, namespace, &pods)
        .ok_or(KedaQueryError::Unmodelled(serving.rule))?;
    let (namespace_label, pod_label) = resource_labels(rule);
    Ok(format!(
        "sum({per_pod}) or (0 * sum(up{{{namespace_label}={},{pod_label}=~{}}} == 1))",
        promql_string(namespace),
        promql_string(&pods)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: QueryContext<'static> = QueryContext {
        series: "x_total",
        label_matchers: r#"namespace="ns",pod=~"a|b""#,
        group_by: "pod",
        label_values: "namespace:ns pod:a|b",
    };

    #[test]
    fn executes_as_go_text_template_with_the_adapters_delimiters() {
        let run = |template: &str| execute_template(template, &CONTEXT);
        assert_eq!(
            run("<<.Series>>{<<.LabelMatchers>>}").unwrap(),
            r#"x_total{namespace="ns",pod=~"a|b"}"#
        );
        // Trim markers eat the white space next to them; comments print nothing.
        assert_eq!(
            run("a  <<- .Series ->>  b<</* c */>>").unwrap(),
            "ax_totalb"
        );
        // A slice prints as Go prints it.
        assert_eq!(run("by (<<.GroupBySlice>>)").unwrap(), "by ([pod])");
        // Text outside actions is copied, typos and all.
        assert_eq!(run("{.LabelMatchers>>}").unwrap(), "{.LabelMatchers>>}");
        // `>>` inside a quoted string does not end the action.
        assert_eq!(
            run(r#"<<index .LabelValuesByName ">>">>"#).unwrap(),
            "namespace:ns pod:a|b"
        );
        assert!(matches!(run("<<.Series"), Err(TemplateError::Parse(_))));
        assert!(matches!(run("<<Series>>"), Err(TemplateError::Parse(_))));
        assert!(matches!(run("<<>>"), Err(TemplateError::Parse(_))));
        assert!(matches!(run("<<.Series}>>"), Err(TemplateError::Parse(_))));
        assert!(matches!(
            run("<<.Namespace>>"),
            Err(TemplateError::Execute(_))
        ));
        assert!(matches!(
            run("<<.Series.Name>>"),
            Err(TemplateError::Execute(_))
        ));
        assert!(matches!(
            run("<<range .GroupBySlice>>x<<end>>"),
            Err(TemplateError::Unsupported(_))
        ));
        assert_eq!(fill_template("<<if .Series>>x<<end>>", &CONTEXT), None);
    }

    /// PromQL's own grammar reads every escaped value back unchanged, so no
    /// value can end the literal.
    #[test]
    fn every_value_reads_back_unchanged() {
        for value in [
            r#"api-1"} or vector(7) or up{x=""#,
            r"back\slash\",
            "new\nline\ttab\rcr",
            "bell\u{7}nul\u{0}del\u{7f}",
            "ünïcödé ✓ \u{2028}",
            "",
            r#"\""#,
        ] {
            let query = format!("up{{pod={}}}", promql_string(value));
            let expr =
                promql_parser::parser::parse(&query).unwrap_or_else(|e| panic!("{query}: {e}"));
            let promql_parser::parser::Expr::VectorSelector(selector) = expr else {
                panic!("{query}: not one selector");
            };
            let pod: Vec<&str> = selector
                .matchers
                .matchers
                .iter()
                .filter(|m| m.name == "pod")
                .map(|m| m.value.as_str())
                .collect();
            assert_eq!(pod, [value], "{query}");
        }
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::query::{fill_template, QueryContext};

        let context = QueryContext {
            series: "http_requests_total",
            label_matchers: r#"namespace="shop",pod=~"api-1|api-2""#,
            group_by: "pod",
            label_values: "shop",
        };
        let query = fill_template(
            "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
            &context,
        );
        assert_eq!(
            query.as_deref(),
            Some(
                r#"sum(rate(http_requests_total{namespace="shop",pod=~"api-1|api-2"}[2m])) by (pod)"#
            )
        );
    }

    #[test]
    fn promql_string_example() {
        use crate::query::promql_string;

        assert_eq!(promql_string("api-1"), r#""api-1""#);
        assert_eq!(
            promql_string(r#"api-1"} or vector(7) or up{x=""#),
            r#""api-1\"} or vector(7) or up{x=\"""#
        );
        assert_eq!(promql_string("a\\.b\n"), r#""a\\.b\n""#);
    }

    #[test]
    fn keda_query_example() {
        use crate::{query, Config, Spec};

        let spec = Spec::from_yaml(
            "preset: recommended\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
            "spec.yaml",
        ).unwrap();
        let config = Config::from_spec(spec, "spec.yaml").unwrap();
        let app = &config.apps[0];
        let promql = query::keda_query(&config.adapter_config, "shop", "api", &app.metric).unwrap();
        assert!(
            promql.starts_with(r#"sum(sum(rate(http_requests_total{namespace="shop",pod=~"api-["#)
        );
    }
}
