//! PromQL templates as prometheus-adapter fills them, parsed with
//! `promql-parser`, and the parts of the syntax tree the checks read.

use std::time::Duration;

use promql_parser::parser::{self, Expr};

/// What `<<.LabelMatchers>>` becomes: a non-empty matcher list, so that a
/// template with more matchers before or after it (`{<<.LabelMatchers>>,
/// id='/'}`, `{job="x",<<.LabelMatchers>>}`) never gets a stray comma.
pub(crate) const LABEL_MATCHERS: &str = r#"namespace="my-app",pod=~"p1|p2""#;

/// What `<<.GroupBy>>` and `<<.GroupBySlice>>` become.
const GROUP_BY: &str = "pod";

/// `template` with the adapter's placeholders filled in, `series` standing
/// for `<<.Series>>`; `None` when it holds an action this does not model
/// (a `range`, an `if`), so that no verdict is given on it.
pub(crate) fn fill(template: &str, series: &str) -> Option<String> {
    let context = crate::query::QueryContext {
        series,
        label_matchers: LABEL_MATCHERS,
        group_by: GROUP_BY,
        label_values: "my-app",
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
    fn fills_the_adapters_placeholders() {
        let filled = fill(
            "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
            "x_total",
        )
        .unwrap();
        assert_eq!(
            filled,
            r#"sum(rate(x_total{namespace="my-app",pod=~"p1|p2"}[2m])) by (pod)"#
        );
        assert!(parse(&filled).is_ok());
    }

    #[test]
    fn label_matchers_first_or_after_a_comma() {
        for template in [
            "sum(x{<<.LabelMatchers>>, id='/'}) by (<<.GroupBy>>)",
            r#"sum by (<<.GroupBy>>) (y{job="node-exporter",<<.LabelMatchers>>})"#,
            "z:info:{<<.LabelMatchers>>}",
        ] {
            let filled = fill(template, "s").unwrap();
            assert!(
                parse(&filled).is_ok(),
                "{filled}: {:?}",
                parse(&filled).err()
            );
        }
    }

    #[test]
    fn unknown_actions_are_not_judged() {
        assert_eq!(
            fill("sum(x) by (<<range .GroupBySlice>>x<<end>>)", "s"),
            None
        );
        assert_eq!(
            fill(r#"x{ns="<<index .LabelValuesByName "namespace">>"}"#, "s").unwrap(),
            r#"x{ns="my-app"}"#
        );
    }

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

    #[test]
    fn durations_read_like_prometheus() {
        assert_eq!(format_duration(Duration::from_secs(20)), "20s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_millis(90_500)), "1m30s500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
