//! Filling prometheus-adapter's query templates as the adapter does for one
//! request: `<<.Series>>` is the series name, `<<.LabelMatchers>>` the
//! namespace and pod matchers, `<<.GroupBy>>` the pod label. Shared by
//! `lint` (does it parse?) and `explain` (what exactly is sent?).
//!
//! ```
//! use custom_metrics_manifests::query::{fill_template, QueryContext};
//!
//! let context = QueryContext {
//!     series: "http_requests_total",
//!     label_matchers: r#"namespace="shop",pod=~"api-1|api-2""#,
//!     group_by: "pod",
//!     label_values: "shop",
//! };
//! let query = fill_template("sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)", &context);
//! assert_eq!(query.as_deref(), Some(r#"sum(rate(http_requests_total{namespace="shop",pod=~"api-1|api-2"}[2m])) by (pod)"#));
//! ```

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

/// A Go template action `<< ... >>`, with optional trim markers.
static ACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<<-?\s*(.*?)\s*-?>>").expect("valid regex"));

/// `index .LabelValuesByName "label"`.
static INDEX_LABEL_VALUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^index\s+\.LabelValuesByName\s+"[^"]*"$"#).expect("valid regex")
});

/// `template` with the placeholders filled in; `None` when it holds an
/// action this does not model (a `range`, an `if`), so that no verdict is
/// given on it.
pub fn fill_template(template: &str, context: &QueryContext<'_>) -> Option<String> {
    let mut unknown = false;
    let filled = ACTION.replace_all(template, |captures: &regex::Captures<'_>| {
        let action = captures.get(1).map_or("", |m| m.as_str());
        match action {
            ".Series" => context.series.to_owned(),
            ".LabelMatchers" => context.label_matchers.to_owned(),
            ".GroupBy" | ".GroupBySlice" => context.group_by.to_owned(),
            ".LabelValuesByName" => context.label_values.to_owned(),
            other if INDEX_LABEL_VALUES.is_match(other) => context.label_values.to_owned(),
            _ => {
                unknown = true;
                String::new()
            }
        }
    });
    if unknown || filled.contains("<<") || filled.contains(">>") {
        return None;
    }
    Some(filled.into_owned())
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
