//! PromQL templates as prometheus-adapter fills them, parsed with
//! `promql-parser`, and the parts of the syntax tree the checks read.

// The syntax-tree helpers serve lint; the `promql` feature alone (spec
// checks) and simulate use a part of them.
#![cfg_attr(not(feature = "lint"), allow(dead_code))]

use std::time::Duration;

use std::collections::BTreeSet;

use promql_parser::parser::{self, BinaryExpr, Expr, LabelModifier, VectorMatchCardinality};

/// What `<<.LabelMatchers>>` becomes: a non-empty matcher list, so that a
/// template with more matchers before or after it never gets a stray comma.
const LABEL_MATCHERS: &str = r#"namespace="my-app",pod=~"p1|p2""#;

/// `template` with the adapter's placeholders filled in for the spec's
/// checks (`config`), `series` standing for `<<.Series>>`; `None` when Go
/// would refuse it or it holds an action this does not model.
pub(crate) fn fill(template: &str, series: &str) -> Option<String> {
    let context = crate::query::QueryContext {
        series,
        label_matchers: LABEL_MATCHERS,
        group_by: "pod",
        label_values: "namespace:my-app pod:p1|p2",
    };
    crate::query::fill_template(template, &context)
}

/// Parses `query`; the error is made one line. A panic inside the parser
/// (none is known) is reported as an error rather than passed on.
pub(crate) fn parse(query: &str) -> Result<Expr, String> {
    let result = std::panic::catch_unwind(|| parser::parse(query));
    match result {
        Ok(Ok(expr)) => Ok(expr),
        Ok(Err(error)) => Err(one_line(&error)),
        Err(_) => Err("the PromQL parser failed on this query".to_owned()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every `rate`, `irate` and `increase` call over a range selector in
/// `expr`: the function name and the range.
pub(crate) fn rate_windows(expr: &Expr) -> Vec<(&'static str, Duration)> {
    let mut found = Vec::new();
    walk(expr, &mut |expr| {
        if let Expr::Call(call) = expr {
            if matches!(call.func.name, "rate" | "irate" | "increase") {
                for arg in &call.args.args {
                    if let Expr::MatrixSelector(matrix) = arg.as_ref() {
                        found.push((call.func.name, matrix.range));
                    }
                }
            }
        }
    });
    found
}

/// Every vector selector in `expr` that names a metric: the name and the
/// labels its matchers constrain.
pub(crate) fn selectors(expr: &Expr) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    walk(expr, &mut |expr| {
        let selector = match expr {
            Expr::VectorSelector(selector) => selector,
            Expr::MatrixSelector(matrix) => &matrix.vs,
            _ => return,
        };
        if let Some(name) = &selector.name {
            let labels = selector
                .matchers
                .matchers
                .iter()
                .map(|m| m.name.clone())
                .collect();
            found.push((name.clone(), labels));
        }
    });
    found
}

/// Calls `visit` on `expr` and every expression below it.
fn walk(expr: &Expr, visit: &mut dyn FnMut(&Expr)) {
    visit(expr);
    match expr {
        Expr::Aggregate(aggregate) => {
            walk(&aggregate.expr, visit);
            if let Some(param) = &aggregate.param {
                walk(param, visit);
            }
        }
        Expr::Unary(unary) => walk(&unary.expr, visit),
        Expr::Binary(binary) => {
            walk(&binary.lhs, visit);
            walk(&binary.rhs, visit);
        }
        Expr::Paren(paren) => walk(&paren.expr, visit),
        Expr::Subquery(subquery) => walk(&subquery.expr, visit),
        Expr::Call(call) => {
            for arg in &call.args.args {
                walk(arg, visit);
            }
        }
        _ => {}
    }
}

/// The labels of a query's result series, as far as the syntax tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Labels {
    /// A scalar (a number, `scalar(...)`, `time()`).
    Scalar,
    /// Exactly these labels (after `by (...)`, `sum(...)`, `on(...)`).
    Known(BTreeSet<String>),
    /// Whatever the selected series carry.
    Unknown,
}

fn label_set(labels: &promql_parser::label::Labels) -> BTreeSet<String> {
    labels.labels.iter().cloned().collect()
}

/// The labels of `expr`'s result (Prometheus' `resultMetric` rules).
pub(crate) fn output_labels(expr: &Expr) -> Labels {
    match expr {
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Labels::Scalar,
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => Labels::Unknown,
        Expr::Paren(paren) => output_labels(&paren.expr),
        Expr::Unary(unary) => output_labels(&unary.expr),
        Expr::Subquery(subquery) => output_labels(&subquery.expr),
        Expr::Aggregate(aggregate) => {
            let op = aggregate.op.to_string();
            // These keep the input's series as they are.
            if matches!(op.as_str(), "topk" | "bottomk" | "limitk" | "limit_ratio") {
                return output_labels(&aggregate.expr);
            }
            match &aggregate.modifier {
                Some(LabelModifier::Include(labels)) => {
                    let mut set = label_set(labels);
                    if op == "count_values" {
                        return Labels::Unknown;
                    }
                    set.remove("__name__");
                    Labels::Known(set)
                }
                Some(LabelModifier::Exclude(_)) => Labels::Unknown,
                None if op == "count_values" => Labels::Unknown,
                None => Labels::Known(BTreeSet::new()),
            }
        }
        Expr::Call(call) => match call.func.name {
            "scalar" | "time" | "pi" => Labels::Scalar,
            "vector" => Labels::Known(BTreeSet::new()),
            "label_replace" | "label_join" => {
                let inner = call
                    .args
                    .args
                    .first()
                    .map_or(Labels::Unknown, |arg| output_labels(arg));
                let target = call.args.args.get(1).and_then(|arg| match arg.as_ref() {
                    Expr::StringLiteral(text) => Some(text.val.clone()),
                    _ => None,
                });
                match (inner, target) {
                    (Labels::Known(mut set), Some(target)) => {
                        set.insert(target);
                        Labels::Known(set)
                    }
                    _ => Labels::Unknown,
                }
            }
            _ => call
                .args
                .args
                .iter()
                .map(|arg| output_labels(arg))
                .find(|labels| *labels != Labels::Scalar)
                .unwrap_or(Labels::Unknown),
        },
        Expr::Binary(binary) => binary_labels(binary),
        _ => Labels::Unknown,
    }
}

fn binary_labels(binary: &BinaryExpr) -> Labels {
    let lhs = output_labels(&binary.lhs);
    let rhs = output_labels(&binary.rhs);
    match (&lhs, &rhs) {
        (Labels::Scalar, other) | (other, Labels::Scalar) => return other.clone(),
        _ => {}
    }
    let modifier = binary.modifier.as_ref();
    let card = modifier.map(|m| &m.card);
    match card {
        Some(VectorMatchCardinality::OneToMany(_)) => return rhs,
        Some(VectorMatchCardinality::ManyToOne(_)) | Some(VectorMatchCardinality::ManyToMany) => {
            return lhs
        }
        _ => {}
    }
    if binary.op.is_set_operator() {
        return lhs;
    }
    // One-to-one: `on(l)` keeps only l, `ignoring(l)` drops l.
    match modifier.and_then(|m| m.matching.as_ref()) {
        Some(LabelModifier::Include(labels)) => match lhs {
            Labels::Known(set) => {
                Labels::Known(set.intersection(&label_set(labels)).cloned().collect())
            }
            _ => Labels::Known(label_set(labels)),
        },
        Some(LabelModifier::Exclude(labels)) => match lhs {
            Labels::Known(set) => {
                Labels::Known(set.difference(&label_set(labels)).cloned().collect())
            }
            other => other,
        },
        None => lhs,
    }
}

/// A one-to-one binary operation between two aggregations whose label
/// sets differ, without `on`/`ignoring`: no series ever match, so it
/// returns nothing. Describes the first such operation.
pub(crate) fn unmatched_division(expr: &Expr) -> Option<String> {
    let mut found = None;
    walk(expr, &mut |expr| {
        if found.is_some() {
            return;
        }
        let Expr::Binary(binary) = expr else { return };
        if binary.op.is_set_operator() {
            return;
        }
        let modifier = binary.modifier.as_ref();
        if modifier.is_some_and(|m| {
            m.matching.is_some() || !matches!(m.card, VectorMatchCardinality::OneToOne)
        }) {
            return;
        }
        if let (Labels::Known(lhs), Labels::Known(rhs)) =
            (output_labels(&binary.lhs), output_labels(&binary.rhs))
        {
            if lhs != rhs {
                let show = |set: &BTreeSet<String>| {
                    if set.is_empty() {
                        "no labels".to_owned()
                    } else {
                        format!("({})", set.iter().cloned().collect::<Vec<_>>().join(", "))
                    }
                };
                found = Some(format!(
                    "`{}` joins a side with {} to a side with {}",
                    binary.op,
                    show(&lhs),
                    show(&rhs)
                ));
            }
        }
    });
    found
}

/// A duration as Prometheus writes it: `20s`, `2m`, `1m30s`, `500ms`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let mut millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if millis >= size {
            out.push_str(&format!("{}{unit}", millis / size));
            millis %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_by_does_not_parse() {
        assert!(parse("sum(rate(x[3m])) by (pod) by (pod)").is_err());
        let error = parse("sum(rate(x[3m])) by (pod) by (pod)").unwrap_err();
        assert!(!error.contains('\n'), "{error}");
    }

    #[test]
    fn finds_rate_windows_anywhere() {
        let expr = parse(
            "sum(rate(a[20s])) by (pod) / on() group_left max(irate(b[1m])) + increase(c[5m])",
        )
        .unwrap();
        let windows: Vec<_> = rate_windows(&expr)
            .into_iter()
            .map(|(f, d)| (f, d.as_secs()))
            .collect();
        assert_eq!(windows, [("rate", 20), ("irate", 60), ("increase", 300)]);
        assert!(rate_windows(&parse("sum(x)").unwrap()).is_empty());
    }

    fn labels(query: &str) -> Labels {
        output_labels(&parse(query).unwrap())
    }

    fn set(items: &[&str]) -> Labels {
        Labels::Known(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn result_labels_follow_prometheus() {
        assert_eq!(labels("sum(rate(x[2m])) by (pod)"), set(&["pod"]));
        assert_eq!(labels("sum(rate(x[2m]))"), set(&[]));
        assert_eq!(labels("rate(x[2m])"), Labels::Unknown);
        assert_eq!(labels("sum(x) by (pod) * 60"), set(&["pod"]));
        assert_eq!(labels("topk(3, sum(x) by (pod))"), set(&["pod"]));
        assert_eq!(
            labels("sum(x) by (pod, ns) / on(pod) group_left sum(y) by (pod)"),
            set(&["ns", "pod"])
        );
        assert_eq!(
            labels("sum(x) by (pod, ns) / on(pod) sum(y) by (pod)"),
            set(&["pod"])
        );
        assert_eq!(
            labels(r#"label_replace(sum(x) by (a), "pod", "$1", "a", "(.*)")"#),
            set(&["a", "pod"])
        );
        assert_eq!(labels("sum(x) without (a)"), Labels::Unknown);
        assert_eq!(labels("scalar(x)"), Labels::Scalar);
    }

    #[test]
    fn divisions_that_never_match() {
        let found =
            unmatched_division(&parse("sum(a) by (pod) / sum(b) by (namespace)").unwrap()).unwrap();
        assert!(
            found.contains("(pod)") && found.contains("(namespace)"),
            "{found}"
        );
        for fine in [
            "sum(a) by (pod) / sum(b) by (pod)",
            "sum(a) by (pod) / on(namespace) group_left sum(b) by (namespace)",
            "sum(a) by (pod) / 60",
            "sum(a) by (pod) / ignoring(x) sum(b) by (pod, x)",
            "sum(a) by (pod) or sum(b) by (namespace)",
            "rate(a[2m]) / rate(b[2m])",
        ] {
            assert_eq!(unmatched_division(&parse(fine).unwrap()), None, "{fine}");
        }
    }

    #[test]
    fn durations_read_like_prometheus() {
        assert_eq!(format_duration(Duration::from_secs(20)), "20s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_millis(90_500)), "1m30s500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
