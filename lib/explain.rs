//! `explain`: what the adapter will actually ask Prometheus. For each rule
//! the series query and the metric names it serves; for each app the exact
//! PromQL sent for its pods, and, with a live Prometheus, the value each pod
//! gets or why the adapter would serve nothing.
//!
//! Human-facing text is rendered from handlebars templates kept in the
//! crate (`lib/templates/`); manifests are never templated.
//!
//! ```
//! use custom_metrics_manifests::{Config, explain, Spec};
//!
//! let spec = Spec::from_yaml(
//!     "preset: recommended\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
//!     "spec.yaml",
//! ).unwrap();
//! let config = Config::from_spec(spec, "spec.yaml").unwrap();
//! let explanation = explain::explain(&config, None);
//! assert_eq!(
//!     explanation.apps[0].query,
//!     r#"sum(rate(http_requests_total{namespace="shop",pod=~"api-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}"}[2m])) by (pod)"#
//! );
//! assert!(explain::render_text(&explanation).contains("kubectl get --raw"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::{served_metrics, Config, ServedMetric};
use crate::prometheus::Prometheus;
use crate::query::{fill_template, resource_labels, QueryContext};
use crate::render::Manifest;

/// Everything `explain` shows.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The Prometheus asked, if any.
    pub prometheus: Option<String>,
    /// One entry per rule.
    pub rules: Vec<RuleExplanation>,
    /// One entry per app.
    pub apps: Vec<AppExplanation>,
    /// Every query template of the adapter config, filled in with an
    /// example namespace and two example pods, for parse checks by other
    /// tools (`promtool`).
    pub example_queries: Vec<ExampleQuery>,
    /// On the `keda` backend: per app, what KEDA asks and what it implies
    /// (empty, and absent from JSON, on the adapter backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keda: Option<Vec<KedaAppExplanation>>,
}

/// One app's ScaledObject: the exact query KEDA's prometheus scaler sends
/// and how the HPA KEDA makes reads its answer.
#[derive(Clone, Debug, Serialize)]
pub struct KedaAppExplanation {
    /// App name (and the ScaledObject's).
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Scaled Deployment.
    pub deployment: String,
    /// `serverAddress`: KEDA sends `GET <it>/api/v1/query?query=...`.
    pub server_address: String,
    /// The trigger's `query`, exactly as KEDA sends it.
    pub query: String,
    /// The trigger's `threshold`, as written.
    pub threshold: String,
    /// The HPA's `averageValue` target: the threshold as KEDA rounds it
    /// (`%.3f`), in thousandths.
    pub threshold_milli: i64,
    /// The external metric the HPA reads (`s0-prometheus`).
    pub metric: String,
    /// The HPA's bounds as KEDA writes them (`GetHPAMinReplicas`: at least 1).
    pub min_replicas: i64,
    /// `maxReplicaCount` (KEDA's default 100).
    pub max_replicas: i64,
    /// KEDA's `pollingInterval` in seconds.
    pub polling_interval_seconds: u64,
    /// `ignoreNullValues` as KEDA reads it.
    pub ignore_null_values: bool,
    /// Failed polls before the fallback.
    pub failure_threshold: Option<u32>,
    /// Replicas during the fallback.
    pub fallback_replicas: Option<u32>,
    /// What a live Prometheus answered.
    pub live: Option<KedaLive>,
}

/// What Prometheus answered KEDA's query, and the replicas it implies.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KedaLive {
    /// The sample's value as Prometheus wrote it, if there was one.
    pub value: Option<String>,
    /// The value KEDA hands the HPA, in thousandths (`%.3f`; NaN,
    /// infinities and negative values are 0).
    pub value_milli: Option<i64>,
    /// The value KEDA hands the HPA, as a decimal.
    pub value_shown: Option<String>,
    /// `ceil(value / threshold)`, before the bounds.
    pub raw_replicas: Option<i64>,
    /// The replica count the HPA aims for, within its bounds.
    pub replicas: Option<i64>,
    /// Why KEDA would fail the poll, or what else is off.
    pub problems: Vec<String>,
}

impl Explanation {
    /// Whether a live diagnosis found an app's metric missing: Prometheus
    /// has no series or no value for its pods, so the HPA gets nothing.
    /// `false` without a Prometheus to ask.
    pub fn metric_missing(&self) -> bool {
        let keda = self.keda.iter().flatten().any(|app| {
            app.live
                .as_ref()
                .is_some_and(|live| live.value_milli.is_none())
        });
        keda || self.apps.iter().any(|app| {
            app.live
                .as_ref()
                .is_some_and(|live| !live.problems.is_empty() || live.values.is_empty())
        })
    }
}

/// A query template and its filled-in example.
#[derive(Clone, Debug, Serialize)]
pub struct ExampleQuery {
    /// Where it comes from, e.g. `rules[0].metricsQuery`.
    pub field: String,
    /// The template.
    pub template: String,
    /// Filled in; `None` for templates with actions this does not model.
    pub filled: Option<String>,
}

/// A rule and what it serves.
#[derive(Clone, Debug, Serialize)]
pub struct RuleExplanation {
    /// Index in `rules`.
    pub index: usize,
    /// The series selector.
    pub series_query: String,
    /// The query template.
    pub metrics_query: String,
    /// Metrics served, with their series.
    pub served: Vec<ServedName>,
}

/// A served metric and its series.
#[derive(Clone, Debug, Serialize)]
pub struct ServedName {
    /// Metric name on custom.metrics.k8s.io.
    pub metric: String,
    /// Prometheus series.
    pub series: String,
}

/// One app's query, and what Prometheus said.
#[derive(Clone, Debug, Serialize)]
pub struct AppExplanation {
    /// App name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Scaled Deployment.
    pub deployment: String,
    /// The HPA's metric.
    pub metric: String,
    /// The HPA's target per pod.
    pub target: String,
    /// Minimum replicas.
    pub min_replicas: u32,
    /// Maximum replicas.
    pub max_replicas: u32,
    /// The rule serving the metric.
    pub rule: usize,
    /// The series the metric comes from.
    pub series: String,
    /// Where the pod names in the query come from.
    pub pods_note: String,
    /// The PromQL sent, fully filled in.
    pub query: String,
    /// What a live Prometheus answered.
    pub live: Option<LiveAnswer>,
}

/// Per-pod values and the reasons a pod or the app gets nothing.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveAnswer {
    /// Pod and value, as the adapter would serve them.
    pub values: Vec<PodValue>,
    /// Why something would be served nothing.
    pub problems: Vec<String>,
    /// The app's scrape target as Prometheus reports it.
    pub target: Option<String>,
}

/// One pod's value.
#[derive(Clone, Debug, Serialize)]
pub struct PodValue {
    /// Pod name.
    pub pod: String,
    /// The value the metrics query gives for it (`null` in JSON when it
    /// is not a finite number; see `shown`).
    pub value: f64,
    /// The value as text: the number, or `NaN`, `+Inf`, `-Inf`.
    pub shown: String,
}

/// Explains `config`; with `prometheus`, asks it as the adapter would.
pub fn explain(config: &Config, prometheus: Option<&Prometheus>) -> Explanation {
    let served = served_metrics(&config.adapter_config).unwrap_or_default();
    let rules = config
        .adapter_config
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| RuleExplanation {
            index,
            series_query: rule.series_query.clone(),
            metrics_query: rule.metrics_query.clone().unwrap_or_default(),
            served: served
                .iter()
                .filter(|s| s.rule == index)
                .map(|s| ServedName {
                    metric: s.name.clone(),
                    series: s.series.clone(),
                })
                .collect(),
        })
        .collect();
    // On the keda backend no adapter asks for pods: KEDA's query is `keda`.
    let adapter_apps = match config.backend {
        crate::spec::Backend::Adapter => config.apps.as_slice(),
        crate::spec::Backend::Keda => &[],
    };
    let apps = adapter_apps
        .iter()
        .filter_map(|app| {
            let serving = served.iter().find(|s| s.name == app.metric)?;
            Some(explain_app(config, app, serving, prometheus))
        })
        .collect();
    let keda = (config.backend == crate::spec::Backend::Keda).then(|| {
        config
            .apps
            .iter()
            .map(|app| explain_keda_app(config, app, prometheus))
            .collect()
    });
    Explanation {
        prometheus: prometheus.map(|p| p.url().to_owned()),
        rules,
        apps,
        example_queries: example_queries(config),
        keda,
    }
}

/// A thousandths count as a decimal: `12346` -> `12.346`, `500` -> `0.5`.
fn milli_text(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let (whole, fraction) = (milli.unsigned_abs() / 1000, milli.unsigned_abs() % 1000);
    if fraction == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{fraction:03}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// What KEDA asks for `app` (read from the ScaledObject the keda backend
/// writes) and, with `prometheus`, what the answer implies: KEDA's
/// External AverageValue path, `ceil(value / threshold)` within the HPA's
/// bounds, both numbers rounded to thousandths as KEDA does.
pub fn explain_keda_app(
    config: &Config,
    app: &crate::config::App,
    prometheus: Option<&Prometheus>,
) -> KedaAppExplanation {
    let scaled = crate::keda::scaled_object(config, app);
    let trigger = &scaled.spec.triggers[0];
    let meta = |key: &str| trigger.metadata.get(key).cloned().unwrap_or_default();
    let threshold = meta("threshold");
    let threshold_milli = threshold
        .parse::<f64>()
        .map_or(0, crate::keda::milli_quantity);
    let ignore_null_values = !matches!(
        meta("ignoreNullValues").as_str(),
        "0" | "f" | "F" | "FALSE" | "false" | "False"
    );
    let min_replicas =
        crate::keda::hpa_min_replicas(Some(i64::from(scaled.spec.min_replica_count)));
    let max_replicas =
        crate::keda::hpa_max_replicas(Some(i64::from(scaled.spec.max_replica_count)));
    let fallback = scaled.spec.fallback.as_ref();
    let query = meta("query");
    let live = prometheus.map(|prometheus| {
        let mut live = KedaLive::default();
        let failing = |why: String| {
            format!(
                "{why}: KEDA fails the poll{}",
                match fallback {
                    Some(f) => format!(
                        "; after {} failed polls in a row it holds {} replicas (fallback)",
                        f.failure_threshold, f.replicas
                    ),
                    None => "; the HPA keeps its replicas".to_owned(),
                }
            )
        };
        match prometheus.query(&query) {
            Err(error) => live.problems.push(failing(format!("the query failed ({error})"))),
            Ok(samples) if samples.is_empty() => live.problems.push(if ignore_null_values {
                "the query returned nothing and ignoreNullValues is true: KEDA reports 0".to_owned()
            } else {
                failing("the query returned nothing (ignoreNullValues: false)".to_owned())
            }),
            Ok(samples) if samples.len() > 1 => live.problems.push(failing(format!(
                "the query returned {} samples, KEDA reads exactly one (\"returned multiple elements\")",
                samples.len()
            ))),
            Ok(samples) => {
                let value = samples[0].1;
                live.value = Some(number_text(value));
                if !value.is_finite() && !ignore_null_values {
                    live.problems.push(failing(format!("the query gives {}", number_text(value))));
                } else {
                    let milli = if value.is_finite() {
                        crate::keda::milli_quantity(value)
                    } else {
                        0
                    };
                    if value < 0.0 {
                        live.problems.push(format!(
                            "the query gives {value}, a negative rate: KEDA hands the HPA 0"
                        ));
                    }
                    live.value_milli = Some(milli);
                    live.value_shown = Some(milli_text(milli));
                    if threshold_milli > 0 {
                        // GetExternalPerPodMetricReplicas outside the
                        // tolerance band: ceil(sum / target per pod).
                        let raw = (milli as f64 / threshold_milli as f64).ceil() as i64;
                        live.raw_replicas = Some(raw);
                        live.replicas = Some(raw.clamp(min_replicas, max_replicas));
                    }
                }
            }
        }
        live
    });
    KedaAppExplanation {
        name: app.name.to_string(),
        namespace: app.namespace.to_string(),
        deployment: app.deployment.to_string(),
        server_address: meta("serverAddress"),
        query,
        threshold,
        threshold_milli,
        metric: "s0-prometheus".to_owned(),
        min_replicas,
        max_replicas,
        polling_interval_seconds: crate::keda::DEFAULT_POLLING_INTERVAL_SECONDS,
        ignore_null_values,
        failure_threshold: fallback.map(|f| f.failure_threshold),
        fallback_replicas: fallback.map(|f| f.replicas),
        live,
    }
}

fn example_queries(config: &Config) -> Vec<ExampleQuery> {
    let adapter_config = &config.adapter_config;
    let series_of = |rule: Option<usize>| -> String {
        // A rule's own series name, or cAdvisor's for resource rules.
        let query = rule
            .and_then(|i| adapter_config.rules.get(i))
            .map(|r| r.series_query.trim())
            .unwrap_or("");
        let end = query
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(query.len());
        if end > 0 {
            query[..end].to_owned()
        } else {
            "container_cpu_usage_seconds_total".to_owned()
        }
    };
    adapter_config
        .query_templates()
        .into_iter()
        .map(|(location, template)| {
            let rule = location.custom_rule();
            let series = series_of(rule);
            let (namespace_label, pod_label) = rule
                .and_then(|i| adapter_config.rules.get(i))
                .map(resource_labels)
                .unwrap_or_else(|| ("namespace".into(), "pod".into()));
            let matchers = format!(r#"{namespace_label}="my-app",{pod_label}=~"p1|p2""#);
            let context = QueryContext {
                series: &series,
                label_matchers: &matchers,
                group_by: &pod_label,
                label_values: "my-app",
            };
            ExampleQuery {
                filled: fill_template(template, &context),
                template: template.to_owned(),
                field: location.to_string(),
            }
        })
        .collect()
}

/// The query the adapter sends for an app's pods (see
/// [`query::app_query`](crate::query::app_query)); a template this cannot
/// fill is returned as written.
pub fn app_query(
    rule: &crate::adapter_config::Rule,
    series: &str,
    namespace: &str,
    pod_pattern: &str,
) -> String {
    crate::query::app_query(rule, series, namespace, pod_pattern)
        .unwrap_or_else(|| rule.metrics_query.clone().unwrap_or_default())
}

/// The app's total over all its pods, as a query: the adapter's per-pod
/// query summed. Used for `simulate --prometheus`.
pub fn app_total_query(config: &Config, app: &crate::config::App) -> Option<String> {
    let served = served_metrics(&config.adapter_config).ok()?;
    let serving = served.iter().find(|s| s.name == app.metric)?;
    let rule = config.adapter_config.rules.get(serving.rule)?;
    let per_pod = app_query(
        rule,
        &serving.series,
        app.namespace.as_str(),
        &crate::naming::pod_pattern(app.deployment.as_str()),
    );
    Some(format!("sum({per_pod})"))
}

fn explain_app(
    config: &Config,
    app: &crate::config::App,
    serving: &ServedMetric,
    prometheus: Option<&Prometheus>,
) -> AppExplanation {
    let rule = &config.adapter_config.rules[serving.rule];
    let (namespace_label, pod_label) = resource_labels(rule);
    let mut pods_note = format!(
        "the adapter lists the HPA's pods by name; the pattern stands for Deployment {}'s pods \
         (`{}-<pod-template-hash>-<suffix>`)",
        app.deployment, app.deployment
    );
    let mut pod_pattern = crate::naming::pod_pattern(app.deployment.as_str());
    let mut live = None;
    if let Some(prometheus) = prometheus {
        let (pods, problems) =
            discover_pods(prometheus, rule, serving, app, &namespace_label, &pod_label);
        if !pods.is_empty() {
            // Joined as the adapter joins them; each name is a regex literal
            // (and the whole a PromQL string literal in `app_query`), so a
            // label value Prometheus reports cannot change the query.
            pod_pattern = pods
                .iter()
                .map(|pod| regex_literal(pod))
                .collect::<Vec<_>>()
                .join("|");
            pods_note = format!(
                "the pods of Deployment {} that Prometheus has series for",
                app.deployment
            );
        }
        let (target, target_problem) = scrape_target(prometheus, app);
        let problems = match target_problem {
            // The series may still come from another scrape job: only
            // when they do not is the target the reason.
            Some(problem) if pods.is_empty() => std::iter::once(problem).chain(problems).collect(),
            _ if pods.is_empty() && target.starts_with("up") => problems
                .into_iter()
                .map(|problem| format!("up but no series: {problem}"))
                .collect(),
            _ => problems,
        };
        live = Some(LiveAnswer {
            values: Vec::new(),
            problems,
            target: Some(target),
        });
    }
    let query = app_query(rule, &serving.series, app.namespace.as_str(), &pod_pattern);
    if let (Some(prometheus), Some(answer)) = (prometheus, live.as_mut()) {
        if answer.problems.is_empty() {
            ask_values(prometheus, &query, &pod_label, &own_pods(app), answer);
        }
    }
    AppExplanation {
        name: app.name.to_string(),
        namespace: app.namespace.to_string(),
        deployment: app.deployment.to_string(),
        metric: app.metric.clone(),
        target: app.target_average_value.to_string(),
        min_replicas: app.min_replicas.get(),
        max_replicas: app.max_replicas.get(),
        rule: serving.rule,
        series: serving.series.clone(),
        pods_note,
        query,
        live,
    }
}

/// The app's pods as Prometheus knows them (only its Deployment's: names
/// of the form [`pod_pattern`](crate::naming::pod_pattern)), or the
/// reasons it knows none.
fn discover_pods(
    prometheus: &Prometheus,
    rule: &crate::adapter_config::Rule,
    serving: &ServedMetric,
    app: &crate::config::App,
    namespace_label: &str,
    pod_label: &str,
) -> (BTreeSet<String>, Vec<String>) {
    let namespace = app.namespace.as_str();
    let deployment = app.deployment.as_str();
    let own = own_pods(app);
    let series = match prometheus.series(&rule.series_query) {
        Ok(series) => series,
        Err(error) => {
            return (
                BTreeSet::new(),
                vec![format!("the series query failed: {error}")],
            )
        }
    };
    let in_namespace: BTreeSet<String> = series
        .iter()
        .filter(|labels| {
            labels
                .get("__name__")
                .is_none_or(|name| *name == serving.series)
        })
        .filter(|labels| labels.get(namespace_label).map(String::as_str) == Some(namespace))
        .filter_map(|labels| labels.get(pod_label).cloned())
        .collect();
    let pods: BTreeSet<String> = in_namespace
        .iter()
        .filter(|pod| own.is_match(pod))
        .cloned()
        .collect();
    if !pods.is_empty() {
        return (pods, Vec::new());
    }
    let mut problems = Vec::new();
    if !in_namespace.is_empty() {
        let others: Vec<String> = in_namespace
            .iter()
            .take(5)
            .map(|pod| format!("{pod:?}"))
            .collect();
        problems.push(format!(
            "no series for Deployment {deployment}'s pods (`{deployment}-<hash>-<suffix>`): namespace \
             {namespace} has series only for other pods ({}{})",
            others.join(", "),
            if in_namespace.len() > 5 { ", ..." } else { "" }
        ));
        return (BTreeSet::new(), problems);
    }
    if series.is_empty() {
        match prometheus.series(&serving.series) {
            Ok(bare) if !bare.is_empty() => problems.push(format!(
                "no series: `{}` exists, but without `{namespace_label}`/`{pod_label}` labels, so the seriesQuery \
                 `{}` selects nothing (scrape the app through a ServiceMonitor, whose relabelling adds them)",
                serving.series, rule.series_query
            )),
            Ok(_) => problems.push(format!(
                "no series: Prometheus has no `{}` at all (is the app scraped? a ServiceMonitor, and a \
                 prometheus-k8s Role in namespace {namespace}?)",
                serving.series
            )),
            Err(error) => problems.push(format!("the series query failed: {error}")),
        }
    } else {
        let namespaces: BTreeSet<&str> = series
            .iter()
            .filter_map(|labels| labels.get(namespace_label).map(String::as_str))
            .collect();
        problems.push(format!(
            "no series in namespace {namespace}: `{}` exists in {}",
            serving.series,
            namespaces.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    (BTreeSet::new(), problems)
}

/// The app's scrape target: a one-line state, and the problem when the
/// monitor yields no healthy target. Prometheus Operator names the scrape
/// pool after the monitor (`serviceMonitor/<namespace>/<name>/<index>`).
fn scrape_target(prometheus: &Prometheus, app: &crate::config::App) -> (String, Option<String>) {
    let (kind, pool_kind, what) = match app.monitor {
        crate::spec::MonitorKind::ServiceMonitor => ("ServiceMonitor", "serviceMonitor", "Service"),
        crate::spec::MonitorKind::PodMonitor => ("PodMonitor", "podMonitor", "pod"),
    };
    let prefix = format!("{pool_kind}/{}/{}/", app.namespace, app.name);
    let targets = match prometheus.targets() {
        Ok(targets) => targets,
        Err(error) => {
            return (
                format!("unknown: the targets request failed: {error}"),
                None,
            )
        }
    };
    let mine: Vec<_> = targets
        .iter()
        .filter(|target| target.scrape_pool.starts_with(&prefix))
        .collect();
    if mine.is_empty() {
        let labels = if app.monitor_labels.is_empty() {
            "no selector labels".to_owned()
        } else {
            app.monitor_labels
                .iter()
                .map(|(key, value)| format!("{key}: {value}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let state = format!("no target in scrape pool {prefix}*");
        let problem = format!(
            "no target at all: Prometheus has no scrape pool {prefix}*, so the {kind} {}/{} was not \
             selected (it carries {labels}; check the Prometheus' {pool_kind}Selector and namespace \
             selector: `gen-manifests lint` with the Prometheus resource tells), or no {what} with \
             labels {} and port `{}` matched",
            app.namespace,
            app.name,
            app.selector
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(","),
            app.port
        );
        return (state, Some(problem));
    }
    let up = mine.iter().filter(|target| target.health == "up").count();
    let state = format!("{up} of {} up in scrape pool {prefix}*", mine.len());
    if up > 0 {
        return (format!("up: {state}"), None);
    }
    let errors: Vec<String> = mine
        .iter()
        .map(|target| {
            let error = if target.last_error.is_empty() {
                format!("not scraped yet (health {})", target.health)
            } else {
                target.last_error.clone()
            };
            format!("{}: {error}", target.scrape_url)
        })
        .collect();
    (
        format!("down: {state}"),
        Some(format!("target down (scrape error): {}", errors.join("; "))),
    )
}

/// Runs the filled query and records each pod's value, or why none.
/// Answers for pods that are not the Deployment's (which Prometheus should
/// not give for this query) are left out and counted as a problem.
fn ask_values(
    prometheus: &Prometheus,
    query: &str,
    pod_label: &str,
    own: &regex::Regex,
    answer: &mut LiveAnswer,
) {
    match prometheus.query(query) {
        Err(error) => answer.problems.push(format!("the metrics query failed: {error}")),
        Ok(samples) if samples.is_empty() => answer.problems.push(
            "the metrics query returned nothing although the series exist: the rate window holds fewer \
             than 2 samples (a window shorter than 2 scrape intervals, or pods scraped only once so far)"
                .to_owned(),
        ),
        Ok(samples) => {
            let mut by_pod: BTreeMap<String, f64> = BTreeMap::new();
            let mut foreign = 0;
            for (labels, value) in samples {
                match labels.get(pod_label) {
                    Some(pod) if !own.is_match(pod) => foreign += 1,
                    Some(pod) => {
                        by_pod.insert(pod.clone(), value);
                    }
                    None => answer.problems.push(format!(
                        "a result without a `{pod_label}` label ({}): the query does not group by the pod label",
                        number_text(value)
                    )),
                }
            }
            if foreign > 0 {
                answer.problems.push(format!(
                    "Prometheus answered for {foreign} pods that are not the Deployment's; left out"
                ));
            }
            for (pod, value) in &by_pod {
                if let Some(problem) = value_problem(*value) {
                    answer.problems.push(format!("pod {pod:?}: {problem}"));
                }
            }
            answer.values = by_pod
                .into_iter()
                .map(|(pod, value)| PodValue {
                    pod,
                    value,
                    shown: number_text(value),
                })
                .collect();
        }
    }
}

/// Matches exactly the names of `app`'s Deployment's pods.
fn own_pods(app: &crate::config::App) -> regex::Regex {
    let pattern = crate::naming::pod_pattern(app.deployment.as_str());
    regex::Regex::new(&format!("^(?:{pattern})$")).expect("pod patterns are valid regexes")
}

/// `text` as a regex literal; names (`a-z0-9-`) stay as they are.
fn regex_literal(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' => c.to_string(),
            other => regex::escape(other.encode_utf8(&mut [0; 4])),
        })
        .collect()
}

/// A value as Prometheus writes it: `NaN`, `+Inf` and `-Inf` by name.
fn number_text(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

/// What is wrong with a value the adapter would serve, in words.
fn value_problem(value: f64) -> Option<String> {
    if value.is_nan() {
        Some(
            "the query gives NaN (not a number, e.g. 0/0): the adapter cannot turn it into a \
             quantity, so the HPA gets a meaningless value"
                .into(),
        )
    } else if value.is_infinite() {
        Some(format!(
            "the query gives {} (a division by zero): the adapter cannot turn it into a quantity, \
             so the HPA gets a meaningless value",
            number_text(value)
        ))
    } else if value < 0.0 {
        Some(format!(
            "the query gives {value}, a negative rate: a request rate is never negative (a gauge \
             inside rate(), or a query that subtracts); the HPA would scale down"
        ))
    } else {
        None
    }
}

fn handlebars() -> handlebars::Handlebars<'static> {
    let mut registry = handlebars::Handlebars::new();
    registry.register_escape_fn(handlebars::no_escape);
    registry.set_strict_mode(true);
    registry
        .register_template_string("explain", include_str!("templates/explain.hbs"))
        .expect("the explain template parses");
    registry
        .register_template_string("verify", include_str!("templates/verify.hbs"))
        .expect("the verify template parses");
    registry
        .register_template_string("explain_keda", include_str!("templates/explain_keda.hbs"))
        .expect("the explain_keda template parses");
    registry.register_helper("milli", Box::new(milli_helper));
    registry
}

fn milli_helper(
    h: &handlebars::Helper<'_>,
    _: &handlebars::Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let milli = h.param(0).and_then(|p| p.value().as_i64()).unwrap_or(0);
    out.write(&milli_text(milli))?;
    Ok(())
}

/// The explanation as text: the adapter's queries, or on the `keda`
/// backend KEDA's.
pub fn render_text(explanation: &Explanation) -> String {
    let template = if explanation.keda.is_some() {
        "explain_keda"
    } else {
        "explain"
    };
    handlebars()
        .render(template, explanation)
        .expect("the explain template renders its own data")
}

/// What to run after writing `manifests` to `target` (a file, or a
/// directory with `directory`), to apply them and check that the metric is
/// served.
pub fn verify_notes(
    config: &Config,
    manifests: &[Manifest],
    target: &str,
    directory: bool,
) -> String {
    verify_notes_counted(config, manifests.len(), target, directory)
}

/// [`verify_notes`] from the number of objects written (`count`), for a
/// caller that does not hold them all.
pub fn verify_notes_counted(
    config: &Config,
    count: usize,
    target: &str,
    directory: bool,
) -> String {
    let apps: Vec<BTreeMap<&str, String>> = config
        .apps
        .iter()
        .map(|app| {
            BTreeMap::from([
                ("name", app.name.to_string()),
                ("namespace", app.namespace.to_string()),
                ("metric", app.metric.clone()),
            ])
        })
        .collect();
    let data = serde_json::json!({
        "count": count,
        "target": target,
        "apply_flag": if directory { "-k" } else { "-f" },
        "api_service": crate::network::api_service_name(),
        "apps": apps,
    });
    handlebars()
        .render("verify", &data)
        .expect("the verify template renders its own data")
}
