//! Checks of prometheus-adapter's own configuration: its schema as the
//! adapter reads it (`pkg/config`, `yaml.UnmarshalStrict`), the queries as
//! the adapter fills them (Go `text/template` with `<<`/`>>`, then PromQL),
//! the series labels the rules map to resources, the names the rules serve,
//! the HPAs that ask for them and the APIServices routed to the adapter.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as StdDuration;

use serde_json::Value;

use super::model::{selects, AdapterConfigDoc, Object, Pod, CONFIG_FIELD, CONFIG_SECTIONS};
use super::promql::{self, Labels};
use super::{Check, Lint, LintOptions, Severity};
use crate::adapter_config::{ConfigFile, QueryLocation, ResourceQuery, Rule, RuleSection};
use crate::config::DEFAULT_SERIES;
use crate::query::{execute_template, QueryContext, TemplateError};
use crate::values::parse_duration_millis;

/// ConfigMaps whose `config.yaml` is an adapter configuration (it has one
/// of the adapter's sections), and `adapter-config` findings for those an
/// adapter pod mounts that are not.
pub(super) fn adapter_configs<'a>(
    objects: &'a [Object<'a>],
    pods: &[Pod<'a>],
    lint: &mut Lint,
) -> Vec<AdapterConfigDoc<'a>> {
    let mounted: BTreeSet<(Option<&str>, &str)> = pods
        .iter()
        .filter(|pod| !pod.adapter_containers().is_empty())
        .flat_map(|pod| {
            pod.config_maps()
                .into_iter()
                .map(|name| (pod.object.namespace, name))
        })
        .collect();
    let mut out = Vec::new();
    for object in objects.iter().filter(|object| object.kind == "ConfigMap") {
        let Some(text) = object.value["data"]["config.yaml"].as_str() else {
            continue;
        };
        let is_mounted = mounted.contains(&(object.namespace, object.name));
        match serde_saphyr::from_str::<Value>(text) {
            Ok(config) if CONFIG_SECTIONS.iter().any(|key| config.get(key).is_some()) => {
                let file = ConfigFile::from_value(&config);
                out.push(AdapterConfigDoc {
                    object,
                    config,
                    file,
                });
            }
            Ok(_) if is_mounted => lint.push(
                object,
                Check::AdapterConfig,
                Severity::Error,
                CONFIG_FIELD,
                "the adapter mounts this config.yaml, which has no rules, resourceRules or externalRules: it serves no metric",
                "add the rules that turn your series into metrics",
            ),
            Err(error) if is_mounted => lint.push(
                object,
                Check::AdapterConfig,
                Severity::Error,
                CONFIG_FIELD,
                format!(
                    "the adapter mounts this config.yaml, which is not YAML ({}); the adapter exits at start-up",
                    crate::spec::clean_message(&error.without_snippet().to_string())
                ),
                "fix the YAML syntax of config.yaml",
            ),
            _ => {}
        }
    }
    out
}

// ------------------------------------------------------------------ schema

/// The adapter's config schema (`pkg/config/config.go`), as its strict
/// YAML reader checks it: unknown keys and wrong shapes make it exit.
#[derive(Clone, Copy)]
enum Shape {
    /// A string; YAML scalars of any type decode into one.
    Str,
    Bool,
    /// A Prometheus `model.Duration`.
    Duration,
    List(&'static Shape),
    /// String keys to values.
    Map(&'static Shape),
    Struct(&'static [(&'static str, Shape)]),
}

const GROUP_RESOURCE: Shape = Shape::Struct(&[("group", Shape::Str), ("resource", Shape::Str)]);
const RESOURCE_MAPPING: Shape = Shape::Struct(&[
    ("template", Shape::Str),
    ("overrides", Shape::Map(&GROUP_RESOURCE)),
    ("namespaced", Shape::Bool),
]);
const DISCOVERY_RULE: Shape = Shape::Struct(&[
    ("seriesQuery", Shape::Str),
    (
        "seriesFilters",
        Shape::List(&Shape::Struct(&[("is", Shape::Str), ("isNot", Shape::Str)])),
    ),
    ("resources", RESOURCE_MAPPING),
    (
        "name",
        Shape::Struct(&[("matches", Shape::Str), ("as", Shape::Str)]),
    ),
    ("metricsQuery", Shape::Str),
]);
const RESOURCE_RULE: Shape = Shape::Struct(&[
    ("containerQuery", Shape::Str),
    ("nodeQuery", Shape::Str),
    ("resources", RESOURCE_MAPPING),
    ("containerLabel", Shape::Str),
]);
const CONFIG: Shape = Shape::Struct(&[
    ("rules", Shape::List(&DISCOVERY_RULE)),
    (
        "resourceRules",
        Shape::Struct(&[
            ("cpu", RESOURCE_RULE),
            ("memory", RESOURCE_RULE),
            ("window", Shape::Duration),
        ]),
    ),
    ("externalRules", Shape::List(&DISCOVERY_RULE)),
]);

/// Where `value` breaks `shape`: `(field path, problem)`.
fn schema_problems(value: &Value, shape: Shape, path: &str, out: &mut Vec<(String, String)>) {
    if value.is_null() {
        return;
    }
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match shape {
        Shape::Str => {
            if value.is_object() || value.is_array() {
                out.push((path.to_owned(), "must be a string".to_owned()));
            }
        }
        Shape::Bool => {
            if !value.is_boolean() {
                out.push((
                    path.to_owned(),
                    format!("must be true or false, not {value}"),
                ));
            }
        }
        Shape::Duration => {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => {
                    out.push((path.to_owned(), "must be a duration such as 5m".to_owned()));
                    return;
                }
            };
            if let Err(problem) = model_duration(&text) {
                out.push((path.to_owned(), problem));
            }
        }
        Shape::List(item) => match value.as_array() {
            Some(items) => {
                for (index, element) in items.iter().enumerate() {
                    schema_problems(element, *item, &format!("{path}[{index}]"), out);
                }
            }
            None => out.push((path.to_owned(), "must be a list".to_owned())),
        },
        Shape::Map(item) => match value.as_object() {
            Some(map) => {
                for (key, element) in map {
                    schema_problems(element, *item, &at(key), out);
                }
            }
            None => out.push((path.to_owned(), "must be a mapping".to_owned())),
        },
        Shape::Struct(fields) => match value.as_object() {
            Some(map) => {
                for (key, element) in map {
                    match fields.iter().find(|(name, _)| name == key) {
                        Some((_, field_shape)) => {
                            schema_problems(element, *field_shape, &at(key), out)
                        }
                        None => {
                            let known: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
                            out.push((
                                at(key),
                                format!(
                                    "is not a key of the adapter's config here (known: {})",
                                    known.join(", ")
                                ),
                            ));
                        }
                    }
                }
            }
            None => out.push((path.to_owned(), "must be a mapping".to_owned())),
        },
    }
}

/// Prometheus' `model.ParseDuration`, which the adapter's `window` uses,
/// by the grammar of [`crate::values::Duration`] (zero included); the
/// message says what Go's parser says of it.
fn model_duration(text: &str) -> Result<StdDuration, String> {
    if let Some(millis) = parse_duration_millis(text) {
        return Ok(StdDuration::from_millis(millis));
    }
    if text.is_empty() {
        return Err("is an empty duration string".to_owned());
    }
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let unknown = text.split(|c: char| c.is_ascii_digit()).find(|unit| {
        !unit.is_empty() && unit.bytes().all(|b| b.is_ascii_alphabetic()) && !UNITS.contains(unit)
    });
    Err(match unknown {
        Some(unit) => format!("has the unknown unit \"{unit}\" in \"{text}\" (the adapter exits)"),
        None => format!(
            "is \"{text}\", not a valid duration string (the adapter exits: write a unit, such as {text}m)"
        ),
    })
}

// ----------------------------------------------------------------- queries

/// The resource labels of a rule: (namespace label, the label the query
/// must group by, every label mapped to a resource).
fn rule_labels(rule: &Rule) -> (String, String, BTreeSet<String>) {
    let (namespace, pod) = crate::query::resource_labels(rule);
    let mut mapped: BTreeSet<String> = rule
        .resources
        .iter()
        .flat_map(|mapping| mapping.overrides.keys().cloned())
        .collect();
    let template = rule
        .resources
        .as_ref()
        .is_some_and(|mapping| mapping.template.is_some());
    let overrides_pod = rule.resources.as_ref().is_some_and(|mapping| {
        mapping
            .overrides
            .values()
            .any(|target| target.resource == "pod" || target.resource == "pods")
    });
    let group_by = if template || overrides_pod || rule.resources.is_none() {
        mapped.insert(pod.clone());
        pod
    } else {
        // Overrides without pods: the first other resource (a service,
        // an ingress), else the namespace.
        rule.resources
            .iter()
            .flat_map(|mapping| mapping.overrides.iter())
            .find(|(_, target)| target.resource != "namespace" && target.resource != "namespaces")
            .map(|(label, _)| label.clone())
            .unwrap_or_else(|| namespace.clone())
    };
    if template || rule.resources.is_none() {
        mapped.insert(namespace.clone());
    }
    (namespace, group_by, mapped)
}

/// The literal metric name a series selector starts with, if any.
fn literal_series(series_query: &str) -> &str {
    let query = series_query.trim();
    let end = query
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(query.len());
    &query[..end]
}

/// The series name a selector names exactly (`x{...}` or
/// `{__name__="x"}`).
fn exact_series(series_query: &str) -> Option<String> {
    let literal = literal_series(series_query);
    if !literal.is_empty() {
        return Some(literal.to_owned());
    }
    let Ok(promql_parser::parser::Expr::VectorSelector(selector)) = promql::parse(series_query)
    else {
        return None;
    };
    selector
        .matchers
        .matchers
        .iter()
        .find(|m| m.name == "__name__" && m.op.to_string() == "=")
        .map(|m| m.value.clone())
}

/// The scrape interval and where it comes from.
pub(super) struct Scrape {
    pub(super) interval: StdDuration,
    pub(super) source: String,
}

/// A rate-like range in a query too short for the scrape interval: the
/// finding rate-window and keda-rate-window share.
pub(super) struct ShortWindow {
    pub(super) severity: Severity,
    /// "rate() over 20s sees fewer than 2 samples, ... at the scrape interval 30s".
    pub(super) message: String,
    /// The fix: a window of four scrape intervals.
    pub(super) fix: String,
}

impl Scrape {
    /// Each range of `expr` under 4 scrape intervals: an error under 2
    /// (Prometheus' rate needs two samples), a warning under 4 (one missed
    /// scrape empties it).
    pub(super) fn short_windows(&self, expr: &promql_parser::parser::Expr) -> Vec<ShortWindow> {
        promql::rate_windows(expr)
            .into_iter()
            .filter_map(|(function, window)| {
                let (severity, samples) = if window < self.interval * 2 {
                    (
                        Severity::Error,
                        "fewer than 2 samples, so it returns nothing",
                    )
                } else if window < self.interval * 4 {
                    (
                        Severity::Warning,
                        "only 2 or 3 samples, so one missed scrape empties it",
                    )
                } else {
                    return None;
                };
                Some(ShortWindow {
                    severity,
                    message: format!(
                        "{function}() over {} sees {samples} at {}",
                        promql::format_duration(window),
                        self.source
                    ),
                    fix: format!(
                        "use a window of at least 4 scrape intervals, such as [{}]",
                        promql::format_duration(self.interval * 4)
                    ),
                })
            })
            .collect()
    }
}

/// The smallest scrape interval of the input's ServiceMonitors and
/// PodMonitors, found as the objects pass.
#[derive(Default)]
pub(super) struct ScrapeFinder {
    /// Milliseconds, the monitor's index and how it displays.
    smallest: Option<(u64, usize, String)>,
}

impl ScrapeFinder {
    pub(super) fn observe(&mut self, object: &Object<'_>) {
        let key = match object.kind {
            "ServiceMonitor" => "endpoints",
            "PodMonitor" => "podMetricsEndpoints",
            _ => return,
        };
        let smallest = object.value["spec"][key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|endpoint| endpoint["interval"].as_str())
            .filter_map(parse_duration_millis)
            .filter(|millis| *millis > 0)
            .min();
        let Some(millis) = smallest else { return };
        // Objects come in input order: an equal interval keeps the first.
        if self
            .smallest
            .as_ref()
            .is_none_or(|(known, _, _)| millis < *known)
        {
            self.smallest = Some((millis, object.index, object.display()));
        }
    }

    /// The scrape interval: `options.scrape_interval`, else the smallest
    /// seen, else Prometheus Operator's default.
    pub(super) fn finish(self, options: &LintOptions) -> Scrape {
        if let Some(interval) = &options.scrape_interval {
            let millis =
                parse_duration_millis(interval.as_str()).unwrap_or(interval.as_secs() * 1000);
            return Scrape {
                interval: StdDuration::from_millis(millis),
                source: format!("the scrape interval {interval}"),
            };
        }
        match self.smallest {
            Some((millis, _, display)) => Scrape {
                interval: StdDuration::from_millis(millis),
                source: format!(
                    "the scrape interval {} of {display}",
                    promql::format_duration(StdDuration::from_millis(millis)),
                ),
            },
            None => Scrape {
                interval: StdDuration::from_secs(30),
                source: "the 30s scrape interval (Prometheus Operator's default)".to_owned(),
            },
        }
    }
}

/// Every check of one adapter config.
pub(super) fn check_configs(configs: &[AdapterConfigDoc<'_>], scrape: &Scrape, lint: &mut Lint) {
    for config in configs {
        check_schema(config, lint);
        check_series_queries(config, lint);
        check_rule_queries(config, scrape, lint);
        check_resource_queries(config, lint);
        check_names(config, lint);
    }
}

/// adapter-config: the schema and the `window` duration.
fn check_schema(config: &AdapterConfigDoc<'_>, lint: &mut Lint) {
    let mut problems = Vec::new();
    schema_problems(&config.config, CONFIG, "", &mut problems);
    for (field, problem) in problems {
        lint.push(
            config.object,
            Check::AdapterConfig,
            Severity::Error,
            format!("{CONFIG_FIELD} {field}"),
            format!("`{field}` {problem}; the adapter refuses the config (\"unable to parse metrics discovery config\") and exits"),
            "follow the adapter's config schema (docs/config.md)",
        );
    }
}

/// promql-parse on seriesQuery.
fn check_series_queries(config: &AdapterConfigDoc<'_>, lint: &mut Lint) {
    for section in RuleSection::ALL {
        for (index, rule) in config.file.section(section).iter().enumerate() {
            let Some(series_query) = rule.as_ref().map(|rule| rule.series_query.as_str()) else {
                continue;
            };
            let section = section.as_str();
            let problem = match promql::parse(series_query) {
                Ok(promql_parser::parser::Expr::VectorSelector(_)) => None,
                Ok(_) => Some(
                    "is not a series selector such as `http_requests_total{namespace!=\"\"}`"
                        .to_owned(),
                ),
                Err(error) => Some(format!("does not parse as PromQL: {error}")),
            };
            if let Some(problem) = problem {
                lint.push(
                    config.object,
                    Check::PromqlParse,
                    Severity::Error,
                    format!("{CONFIG_FIELD} {section}[{index}].seriesQuery"),
                    format!("the seriesQuery `{series_query}` {problem}; the adapter discovers no series with it"),
                    "write a metric name with optional label matchers, such as `http_requests_total{namespace!=\"\",pod!=\"\"}`",
                );
            }
        }
    }
}

/// Executes `template` as the adapter would; a finding for Go's refusal.
fn fill(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    template: &str,
    context: &QueryContext<'_>,
    lint: &mut Lint,
) -> Option<String> {
    match execute_template(template, context) {
        Ok(filled) => Some(filled),
        Err(TemplateError::Parse(error)) => {
            lint.push(
                config.object,
                Check::QueryTemplate,
                Severity::Error,
                field,
                format!("Go's text/template refuses `{template}`: {error}; the adapter exits at start-up (\"unable to parse metrics query template\")"),
                "write the placeholders exactly as <<.Series>>, <<.LabelMatchers>>, <<.GroupBy>>",
            );
            None
        }
        Err(TemplateError::Execute(error)) => {
            lint.push(
                config.object,
                Check::QueryTemplate,
                Severity::Error,
                field,
                format!("executing `{template}` fails for every request: {error}; the metric has no value"),
                "use only .Series, .LabelMatchers, .GroupBy, .GroupBySlice and .LabelValuesByName",
            );
            None
        }
        Err(TemplateError::Unsupported(_)) => None,
    }
}

/// promql-parse, a finding when Prometheus would refuse `filled`.
fn parse_filled(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    template: &str,
    filled: &str,
    lint: &mut Lint,
) -> Option<promql_parser::parser::Expr> {
    match promql::parse(filled) {
        Ok(expr) => Some(expr),
        Err(error) => {
            let repeated = template.matches("by (<<.GroupBy>>)").count() > 1;
            let fix = if repeated {
                "say `by (<<.GroupBy>>)` once".to_owned()
            } else if template.contains(">>") && filled.contains(">>") || filled.contains("<<") {
                "write every placeholder with both delimiters, such as {<<.LabelMatchers>>}"
                    .to_owned()
            } else {
                "correct the query so that Prometheus accepts it with the placeholders filled in"
                    .to_owned()
            };
            lint.push(
                config.object,
                Check::PromqlParse,
                Severity::Error,
                field,
                format!(
                    "Prometheus refuses the query as the adapter fills it in, `{}` ({error}), \
                     so the adapter serves no value for it",
                    filled.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
                fix,
            );
            None
        }
    }
}

/// The request a discovery rule's query is filled with in the checks.
const EXAMPLE_NAMESPACE: &str = "my-app";

/// Queries of `rules` and `externalRules`: query-template, promql-parse,
/// rate-window, metric-unit, query-labels, query-ignores-request,
/// resource-labels.
fn check_rule_queries(config: &AdapterConfigDoc<'_>, scrape: &Scrape, lint: &mut Lint) {
    for section in RuleSection::ALL {
        let external = section == RuleSection::ExternalRules;
        for (index, rule) in config.file.section(section).iter().enumerate() {
            let Some(rule) = rule else { continue };
            let location = QueryLocation::Rule { section, index };
            let section = section.as_str();
            let (namespace_label, group_by, mapped) = rule_labels(rule);
            if !external {
                check_resource_labels(config, section, index, rule, &namespace_label, lint);
            }
            let Some(template) = rule.metrics_query.as_deref() else {
                continue;
            };
            let field = format!("{CONFIG_FIELD} {location}");
            let series =
                exact_series(&rule.series_query).unwrap_or_else(|| DEFAULT_SERIES.to_owned());
            let (matchers, group) = if external {
                (
                    format!(r#"{namespace_label}="{EXAMPLE_NAMESPACE}""#),
                    String::new(),
                )
            } else {
                (
                    format!(r#"{namespace_label}="{EXAMPLE_NAMESPACE}",{group_by}=~"p1|p2""#),
                    group_by.clone(),
                )
            };
            let label_values = format!("{namespace_label}:{EXAMPLE_NAMESPACE} {group_by}:p1|p2");
            let context = QueryContext {
                series: &series,
                label_matchers: &matchers,
                group_by: &group,
                label_values: &label_values,
            };
            let Some(filled) = fill(config, &field, template, &context, lint) else {
                continue;
            };
            let Some(expr) = parse_filled(config, &field, template, &filled, lint) else {
                continue;
            };
            check_rate_windows(config, &field, &expr, scrape, lint);
            check_unit(config, &field, rule, template, &expr, lint);
            if !external {
                check_query_labels(config, &field, template, &expr, &group_by, &mapped, lint);
                check_dropped_filters(config, &field, rule, template, &mapped, lint);
                check_recording_rules(config, &field, &expr, &series, &group_by, lint);
            }
        }
    }
}

/// rate-window.
fn check_rate_windows(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    expr: &promql_parser::parser::Expr,
    scrape: &Scrape,
    lint: &mut Lint,
) {
    for short in scrape.short_windows(expr) {
        lint.push(
            config.object,
            Check::RateWindow,
            short.severity,
            field,
            short.message,
            short.fix,
        );
    }
}

/// metric-unit.
fn check_unit(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    rule: &Rule,
    template: &str,
    expr: &promql_parser::parser::Expr,
    lint: &mut Lint,
) {
    let served_as = rule
        .name
        .as_ref()
        .and_then(|name| name.r#as.as_deref())
        .unwrap_or("");
    let unit = [("_per_minute", "60"), ("_per_hour", "3600")]
        .into_iter()
        .find(|(suffix, _)| served_as.ends_with(suffix));
    let Some((suffix, factor)) = unit else { return };
    let per_second = promql::rate_windows(expr)
        .iter()
        .any(|(f, _)| *f != "increase");
    if per_second && !multiplies_by(template, factor) {
        lint.push(
            config.object,
            Check::MetricUnit,
            Severity::Warning,
            field,
            format!(
                "the metric is named `{served_as}` but rate() gives a value per second: \
                 an HPA target written per {} is off by a factor of {factor}",
                &suffix["_per_".len()..]
            ),
            format!(
                "name it `${{1}}_per_second` (and write the HPA target per second), \
                 or multiply the rate by {factor}"
            ),
        );
    }
}

/// Whether `query` multiplies by `factor` (`* 60`, `60 *`).
fn multiplies_by(query: &str, factor: &str) -> bool {
    let pattern = format!(r"\*\s*{factor}(\.0*)?\b|\b{factor}(\.0*)?\s*\*");
    regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(query))
}

/// query-labels and query-ignores-request for a custom-metrics rule.
fn check_query_labels(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    template: &str,
    expr: &promql_parser::parser::Expr,
    group_by: &str,
    mapped: &BTreeSet<String>,
    lint: &mut Lint,
) {
    if !template.contains(".LabelMatchers") && !template.contains(".LabelValuesByName") {
        lint.push(
            config.object,
            Check::QueryIgnoresRequest,
            Severity::Warning,
            field,
            "the query has no <<.LabelMatchers>>, so it ignores the namespace and objects the HPA asks about: \
             series of every namespace answer each request (and a hard-coded selector gives every pod the same value)",
            "select with {<<.LabelMatchers>>} and aggregate by (<<.GroupBy>>)",
        );
    }
    if let Some(mismatch) = promql::unmatched_division(expr) {
        lint.push(
            config.object,
            Check::QueryLabels,
            Severity::Error,
            field,
            format!("{mismatch}: without on(...) the two sides never match, so the query returns nothing"),
            "match the sides with on(<<.GroupBy>>) (or group_left), or aggregate both by the same labels",
        );
        return;
    }
    if let Labels::Known(labels) = promql::output_labels(expr) {
        if !labels
            .iter()
            .any(|label| label == group_by || mapped.contains(label))
        {
            let shown = if labels.is_empty() {
                "no labels".to_owned()
            } else {
                format!(
                    "only the labels {}",
                    labels.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            lint.push(
                config.object,
                Check::QueryLabels,
                Severity::Error,
                field,
                format!(
                    "the query's result has {shown}, not `{group_by}`: the adapter reads each object's value by that \
                     label and finds none (\"the server could not find the metric\")"
                ),
                "aggregate by (<<.GroupBy>>) instead of a fixed label list",
            );
        }
    }
}

/// query-ignores-request: label filters of the seriesQuery (`reporter=
/// "destination"`) that the metricsQuery does not repeat. The adapter uses
/// the seriesQuery only to discover series; each request runs the
/// metricsQuery alone, which then sums the series the filter meant to
/// leave out (prometheus-adapter#279).
fn check_dropped_filters(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    rule: &Rule,
    template: &str,
    mapped: &BTreeSet<String>,
    lint: &mut Lint,
) {
    let Ok(promql_parser::parser::Expr::VectorSelector(selector)) =
        promql::parse(&rule.series_query)
    else {
        return;
    };
    let compact: String = template.chars().filter(|c| !c.is_whitespace()).collect();
    let dropped: Vec<String> = selector
        .matchers
        .matchers
        .iter()
        // Presence checks (`!=""`, `=~".+"`) and the resource labels,
        // which <<.LabelMatchers>> sets per request, are not dropped.
        .filter(|m| m.name != "__name__" && !mapped.contains(&m.name))
        .filter(|m| !m.value.is_empty() && m.value != ".+" && m.value != ".*")
        .filter(|m| !compact.contains(&m.name))
        .map(|m| format!("{}{}\"{}\"", m.name, m.op, m.value))
        .collect();
    if dropped.is_empty() {
        return;
    }
    lint.push(
        config.object,
        Check::QueryIgnoresRequest,
        Severity::Warning,
        field,
        format!(
            "the seriesQuery filters on {} but the metricsQuery does not: the adapter runs the metricsQuery alone, \
             so every request sums the series the filter meant to leave out",
            dropped.join(", ")
        ),
        format!("repeat the filter in the metricsQuery, such as {{<<.LabelMatchers>>,{}}}", dropped[0]),
    );
}

/// query-labels: a recording rule (`level:metric:operations`, or any name
/// with a colon, which Prometheus reserves for recording rules) selected with
/// the request's `<<.LabelMatchers>>` whose level names no `pod` label: its
/// series were aggregated without it, so the pod matcher selects nothing
/// (prometheus-adapter#450).
fn check_recording_rules(
    config: &AdapterConfigDoc<'_>,
    field: &str,
    expr: &promql_parser::parser::Expr,
    series: &str,
    group_by: &str,
    lint: &mut Lint,
) {
    for (name, matcher_labels) in promql::selectors(expr) {
        if name == series || !matcher_labels.iter().any(|label| label == group_by) {
            continue;
        }
        // Colons are reserved for recording rules; the level comes first.
        let Some((level, _)) = name.split_once(':') else {
            continue;
        };
        if level.split('_').any(|label| label == group_by) {
            continue;
        }
        lint.push(
            config.object,
            Check::QueryLabels,
            Severity::Warning,
            field,
            format!(
                "`{name}` is a recording rule whose level `{level}` keeps no `{group_by}` label, \
                 so <<.LabelMatchers>>' {group_by} matcher selects none of its series and the query returns nothing"
            ),
            format!("select `{name}` without the {group_by} matcher and join it with on(namespace) group_left, or record it per {group_by}"),
        );
    }
}

/// The labels a series selector requires to be present (`l!=""`,
/// `l="v"`, `l=~".+"`).
fn required_labels(series_query: &str) -> Option<BTreeSet<String>> {
    let Ok(promql_parser::parser::Expr::VectorSelector(selector)) = promql::parse(series_query)
    else {
        return None;
    };
    let mut out = BTreeSet::new();
    for matcher in &selector.matchers.matchers {
        let op = matcher.op.to_string();
        let required = match op.as_str() {
            "=" => !matcher.value.is_empty(),
            "!=" => matcher.value.is_empty(),
            "=~" => regex::Regex::new(&format!("^(?:{})$", matcher.value))
                .is_ok_and(|re| !re.is_match("")),
            _ => false,
        };
        if required && matcher.name != "__name__" {
            out.insert(matcher.name.clone());
        }
    }
    Some(out)
}

/// resource-labels: the namespace and pod labels the rule maps, against
/// the labels its seriesQuery says the series carry.
fn check_resource_labels(
    config: &AdapterConfigDoc<'_>,
    section: &str,
    index: usize,
    rule: &Rule,
    namespace_label: &str,
    lint: &mut Lint,
) {
    let Some(required) = required_labels(&rule.series_query) else {
        return;
    };
    let (_, pod_label) = crate::query::resource_labels(rule);
    let maps_pod = rule.resources.as_ref().is_none_or(|mapping| {
        mapping.template.is_some()
            || mapping
                .overrides
                .values()
                .any(|target| target.resource == "pod" || target.resource == "pods")
    });
    let mut checks = vec![("namespace", namespace_label.to_owned())];
    if maps_pod {
        checks.push(("pod", pod_label));
    }
    for (resource, label) in checks {
        let selected_like: Vec<&String> = required
            .iter()
            .filter(|selected| selected.contains(resource))
            .collect();
        if selected_like.is_empty() || required.contains(&label) {
            continue;
        }
        let how = match &rule.resources {
            Some(mapping) if mapping.overrides.contains_key(&label) => "resources.overrides",
            Some(mapping) if mapping.template.is_some() => "resources.template",
            _ => "the default mapping",
        };
        lint.push(
            config.object,
            Check::ResourceLabels,
            Severity::Warning,
            format!("{CONFIG_FIELD} {section}[{index}].resources"),
            format!(
                "{how} takes the {resource} from the label `{label}`, but the seriesQuery selects series by `{}`: \
                 series without `{label}` are not attributed to any {resource}, so the metric is missing for them",
                selected_like.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("`, `")
            ),
            format!(
                "map the label the series carry, such as {}: {{resource: {resource}}}",
                selected_like[0]
            ),
        );
    }
}

/// promql-parse and query-template on resourceRules' queries.
fn check_resource_queries(config: &AdapterConfigDoc<'_>, lint: &mut Lint) {
    for (location, template) in &config.file.resource_queries {
        let field = format!("{CONFIG_FIELD} {location}");
        let group_by = match location {
            QueryLocation::Resource {
                query: ResourceQuery::Node,
                ..
            } => "node",
            _ => "pod,container",
        };
        let context = QueryContext {
            series: "container_cpu_usage_seconds_total",
            label_matchers: r#"namespace="my-app",pod=~"p1|p2""#,
            group_by,
            label_values: "namespace:my-app pod:p1|p2",
        };
        if let Some(filled) = fill(config, &field, template, &context, lint) {
            parse_filled(config, &field, template, &filled, lint);
        }
    }
}

// ------------------------------------------------------------------ naming

/// A metric a discovery rule serves.
struct Served {
    name: String,
    series: String,
    rule: usize,
}

/// Series names to try rules on: the request counter and every name a
/// rule's seriesQuery names exactly.
fn candidate_series(rules: &[Option<Rule>]) -> Vec<String> {
    let mut out = vec![DEFAULT_SERIES.to_owned()];
    for rule in rules.iter().flatten() {
        if let Some(series) = exact_series(&rule.series_query) {
            if !out.contains(&series) {
                out.push(series);
            }
        }
    }
    out
}

/// The metrics `rules` serve for the candidate series; `open` is whether
/// some rule selects series by a regex only, so that it may serve more.
fn served_metrics(rules: &[Option<Rule>]) -> (Vec<Served>, bool) {
    let candidates = candidate_series(rules);
    let mut served = Vec::new();
    let mut open = false;
    for (index, rule) in rules.iter().enumerate() {
        let Some(rule) = rule else { continue };
        open |= exact_series(&rule.series_query).is_none();
        for series in &candidates {
            if let Ok(Some(name)) = crate::naming::served_metric(rule, series) {
                served.push(Served {
                    name,
                    series: series.clone(),
                    rule: index,
                });
            }
        }
    }
    (served, open)
}

/// duplicate-metric, overlapping-rules, name-never-matches, and regexes
/// the adapter refuses (adapter-config).
fn check_names(config: &AdapterConfigDoc<'_>, lint: &mut Lint) {
    for section in RuleSection::ALL {
        let rules = config.file.section(section);
        let section = section.as_str();
        for (index, rule) in rules.iter().enumerate() {
            let Some(rule) = rule else { continue };
            if let Err(error) = crate::naming::name_mapping(rule) {
                lint.push(
                    config.object,
                    Check::AdapterConfig,
                    Severity::Error,
                    format!("{CONFIG_FIELD} {section}[{index}].name"),
                    format!("{error}; the adapter exits (\"unable to construct naming scheme from metrics rules\")"),
                    "fix name.matches and name.as",
                );
                continue;
            }
            let Some(series) = exact_series(&rule.series_query) else {
                continue;
            };
            if crate::naming::selects_series(&rule.series_query, &series) != Ok(true) {
                continue;
            }
            if crate::naming::served_metric(rule, &series) == Ok(None) {
                let matches = rule
                    .name
                    .as_ref()
                    .map_or(".*", |name| name.matches.as_str());
                lint.push(
                    config.object,
                    Check::NameNeverMatches,
                    Severity::Error,
                    format!("{CONFIG_FIELD} {section}[{index}].name.matches"),
                    format!(
                        "the rule selects only the series `{series}`, which name.matches `{matches}` (with its seriesFilters) \
                         does not match: the rule serves no metric"
                    ),
                    format!("make name.matches match `{series}`, or drop the filters that exclude it"),
                );
            }
        }
        let (served, _) = served_metrics(rules);
        let mut by_name: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut by_series: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        for metric in &served {
            match by_name.get(&(metric.name.as_str(), metric.series.as_str())) {
                Some(&earlier) if earlier != metric.rule => lint.push(
                    config.object,
                    Check::DuplicateMetric,
                    Severity::Error,
                    format!("{CONFIG_FIELD} {section}[{}]", metric.rule),
                    format!(
                        "{section}[{earlier}] and {section}[{}] both serve `{}` from the series `{}`; \
                         the adapter keeps one and an HPA may read the other's values",
                        metric.rule, metric.name, metric.series
                    ),
                    "remove one rule, or narrow one with seriesFilters or a different name.as",
                ),
                Some(_) => {}
                None => {
                    by_name.insert((metric.name.as_str(), metric.series.as_str()), metric.rule);
                }
            }
            match by_series.get(metric.series.as_str()) {
                Some(&(earlier, name)) if earlier != metric.rule && name != metric.name => lint.push(
                    config.object,
                    Check::OverlappingRules,
                    Severity::Warning,
                    format!("{CONFIG_FIELD} {section}[{}]", metric.rule),
                    format!(
                        "{section}[{earlier}] serves `{name}` and {section}[{}] serves `{}` from the same series `{}`; \
                         the adapter wants rules to be mutually exclusive and both names get the same series",
                        metric.rule, metric.name, metric.series
                    ),
                    "narrow one rule with seriesFilters or its seriesQuery so that each series has one rule",
                ),
                Some(_) => {}
                None => {
                    by_series.insert(metric.series.as_str(), (metric.rule, metric.name.as_str()));
                }
            }
        }
    }
}

// -------------------------------------------------------------------- HPAs

/// The `(field, metric name)` of an HPA's Pods and Object metrics.
fn hpa_custom_metrics(hpa: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (index, metric) in hpa["spec"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let key = match metric["type"].as_str() {
            Some("Pods") => "pods",
            Some("Object") => "object",
            _ => continue,
        };
        // autoscaling/v2 and v2beta2 say metric.name; v2beta1 said metricName.
        if let Some(name) = metric[key]["metric"]["name"].as_str() {
            out.push((format!("spec.metrics[{index}].{key}.metric.name"), name));
        } else if let Some(name) = metric[key]["metricName"].as_str() {
            out.push((format!("spec.metrics[{index}].{key}.metricName"), name));
        }
    }
    out
}

/// The namespaces with a `prometheus-k8s` Role, found as the objects pass.
#[derive(Default)]
pub(super) struct RoleNamespaces {
    namespaces: BTreeSet<Option<String>>,
}

impl RoleNamespaces {
    pub(super) fn observe(&mut self, object: &Object<'_>) {
        if object.kind == "Role" && object.name == "prometheus-k8s" {
            self.namespaces.insert(object.namespace.map(str::to_owned));
        }
    }
}

/// hpa-unknown-metric and prometheus-role-missing, one HPA at a time.
pub(super) struct HpaCheck<'r> {
    /// Whether some config has custom metrics rules.
    custom: bool,
    /// The metrics the rules serve.
    served: BTreeSet<String>,
    /// Whether some rule selects series by a regex only (it may serve more).
    open: bool,
    roles: &'r RoleNamespaces,
}

impl<'r> HpaCheck<'r> {
    pub(super) fn new(configs: &[AdapterConfigDoc<'_>], roles: &'r RoleNamespaces) -> Self {
        let custom: Vec<&AdapterConfigDoc<'_>> = configs
            .iter()
            .filter(|config| config.config["rules"].is_array())
            .collect();
        let mut served = BTreeSet::new();
        let mut open = false;
        for config in &custom {
            let (metrics, has_open) = served_metrics(&config.file.rules);
            open |= has_open;
            served.extend(metrics.into_iter().map(|metric| metric.name));
        }
        HpaCheck {
            custom: !custom.is_empty(),
            served,
            open,
            roles,
        }
    }

    pub(super) fn check(&self, hpa: &Object<'_>, lint: &mut Lint) {
        if hpa.kind != "HorizontalPodAutoscaler" {
            return;
        }
        let served = &self.served;
        let metrics = hpa_custom_metrics(hpa.value);
        if self.custom && !self.open {
            for (field, name) in &metrics {
                if served.contains(*name) {
                    continue;
                }
                let list = if served.is_empty() {
                    "none".to_owned()
                } else {
                    served
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                lint.push(
                    hpa,
                    Check::HpaUnknownMetric,
                    Severity::Error,
                    field.clone(),
                    format!("no adapter rule serves the metric `{name}`, so the HPA never scales; the rules serve: {list}"),
                    "use a metric the rules serve, or add a rule whose name.as produces it",
                );
            }
        }
        let role_namespaces = &self.roles.namespaces;
        if !role_namespaces.is_empty() && !metrics.is_empty() {
            if let Some(namespace) = hpa.namespace {
                if !role_namespaces.contains(&Some(namespace.to_owned())) {
                    lint.push(
                        hpa,
                        Check::PrometheusRoleMissing,
                        Severity::Error,
                        "metadata.namespace",
                        format!(
                            "namespace `{namespace}` has no prometheus-k8s Role, so kube-prometheus' \
                             Prometheus cannot discover the pods there and the metric has no series"
                        ),
                        format!(
                            "add a prometheus-k8s Role and RoleBinding in `{namespace}` \
                             (gen-manifests roles, or kube-prometheus' prometheus.namespaces)"
                        ),
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------ APIServices

/// adapter-config: an APIService routed to an adapter whose config has no
/// rules for that API. The adapter then does not serve it, and the
/// APIService stays `False (FailedDiscoveryCheck)`.
pub(super) fn check_served_apis(
    objects: &[Object<'_>],
    pods: &[Pod<'_>],
    configs: &[AdapterConfigDoc<'_>],
    lint: &mut Lint,
) {
    for api in objects.iter().filter(|object| object.kind == "APIService") {
        let spec = &api.value["spec"];
        let (section, needs) = match spec["group"].as_str() {
            Some("custom.metrics.k8s.io") => ("rules", "rules"),
            Some("external.metrics.k8s.io") => ("externalRules", "externalRules"),
            Some("metrics.k8s.io") => ("resourceRules", "resourceRules"),
            _ => continue,
        };
        let (Some(service_name), Some(service_namespace)) = (
            spec["service"]["name"].as_str(),
            spec["service"]["namespace"].as_str(),
        ) else {
            continue;
        };
        let Some(service) = objects.iter().find(|object| {
            object.kind == "Service"
                && object.name == service_name
                && object.namespace == Some(service_namespace)
        }) else {
            continue;
        };
        let selector = &service.value["spec"]["selector"];
        if !selector.is_object() {
            continue;
        }
        for pod in pods.iter().filter(|pod| {
            pod.object.namespace == Some(service_namespace)
                && !pod.adapter_containers().is_empty()
                && selects(&serde_json::json!({ "matchLabels": selector }), pod.labels)
                    == Some(true)
        }) {
            for name in pod.config_maps() {
                let Some(config) = configs.iter().find(|config| {
                    config.object.name == name && config.object.namespace == pod.object.namespace
                }) else {
                    continue;
                };
                let present = match &config.config[section] {
                    Value::Array(items) => !items.is_empty(),
                    Value::Null => false,
                    _ => true,
                };
                if present {
                    continue;
                }
                lint.push(
                    api,
                    Check::AdapterConfig,
                    Severity::Error,
                    "spec.service",
                    format!(
                        "routes {} to Service {service_namespace}/{service_name}, whose adapter ({}) reads {} without `{needs}`: \
                         the adapter does not serve this API, so the APIService stays False (FailedDiscoveryCheck)",
                        spec["group"].as_str().unwrap_or(""),
                        pod.object.display(),
                        config.object.display()
                    ),
                    format!("add `{needs}` to the adapter's config.yaml, or delete this APIService"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_scaling() {
        assert!(multiplies_by("sum(rate(x[2m])) * 60", "60"));
        assert!(multiplies_by("60*sum(rate(x[2m]))", "60"));
        assert!(!multiplies_by("sum(rate(x[60s]))", "60"));
        assert!(!multiplies_by("sum(rate(x[2m])) * 600", "60"));
    }

    #[test]
    fn windows_parse_as_prometheus_model_durations() {
        assert_eq!(model_duration("5m"), Ok(StdDuration::from_secs(300)));
        assert_eq!(model_duration("1h30m"), Ok(StdDuration::from_secs(5400)));
        assert_eq!(model_duration("0"), Ok(StdDuration::ZERO));
        assert!(model_duration("5")
            .unwrap_err()
            .contains("not a valid duration string"));
        assert!(model_duration("30m1h")
            .unwrap_err()
            .contains("not a valid duration string"));
        assert!(model_duration("5min").unwrap_err().contains("unknown unit"));
        assert!(model_duration("").unwrap_err().contains("empty"));
        assert!(model_duration("1.5m").is_err());
    }

    #[test]
    fn schema_follows_the_adapters_structs() {
        let config: Value = serde_saphyr::from_str(
            "rules:\n- seriesQuery: x\n  metricQuery: y\n  resources: {overrides: {pod: {resource: pod, kind: x}}}\nresourceRules:\n  window: 5\nexternalRules: {}\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        schema_problems(&config, CONFIG, "", &mut problems);
        let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "externalRules",
                "resourceRules.window",
                "rules[0].metricQuery",
                "rules[0].resources.overrides.pod.kind"
            ]
        );
    }

    #[test]
    fn required_labels_of_selectors() {
        let labels =
            required_labels(r#"x{namespace!="",pod=~".+",job="a",container=~".*",a!="b"}"#)
                .unwrap();
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            ["job", "namespace", "pod"]
        );
    }
}
