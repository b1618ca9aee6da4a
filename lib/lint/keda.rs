//! Checks of KEDA objects (ScaledObjects, TriggerAuthentications), ours or
//! hand-written: what KEDA's prometheus scaler does with a trigger
//! (kedacore/keda pkg/scalers/prometheus_scaler.go, commit 8b4f083ca), and
//! what its admission webhook and the HPA controller do with two
//! autoscalers on one workload.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use promql_parser::parser::Expr;
use serde_json::Value;

use super::adapter::Scrape;
use super::memo::ParseMemo;
use super::model::Object;
use super::{promql, Check, Lint, Severity};
use crate::keda::{
    default_hpa_name, HPA_OWNERSHIP_VALIDATION, PROMETHEUS_AUTH_PARAMS, PROMETHEUS_METADATA_KEYS,
    PROMETHEUS_REQUIRED_KEYS, TRANSFER_HPA_OWNERSHIP,
};

/// Whether `object` is one of KEDA's (`keda.sh/*`, or KEDA v1's `keda.k8s.io/*`).
fn is_keda(object: &Object<'_>) -> bool {
    api_version(object).starts_with("keda.sh/") || api_version(object).starts_with("keda.k8s.io/")
}

fn api_version<'a>(object: &Object<'a>) -> &'a str {
    object.value["apiVersion"].as_str().unwrap_or("")
}

/// One prometheus trigger of a ScaledObject (or ScaledJob).
struct Trigger<'a> {
    object: &'a Object<'a>,
    /// `spec.triggers[i]`.
    path: String,
    value: &'a Value,
}

impl<'a> Trigger<'a> {
    fn metadata(&self, key: &str) -> Option<&'a str> {
        self.value["metadata"][key].as_str()
    }
}

/// The prometheus triggers of `object` when it is a ScaledObject or ScaledJob.
fn prometheus_triggers<'a>(object: &'a Object<'a>) -> Vec<Trigger<'a>> {
    if !(is_keda(object) && matches!(object.kind, "ScaledObject" | "ScaledJob")) {
        return Vec::new();
    }
    object.value["spec"]["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, trigger)| trigger["type"].as_str() == Some("prometheus"))
        .map(|(index, value)| Trigger {
            object,
            path: format!("spec.triggers[{index}]"),
            value,
        })
        .collect()
}

/// The first KEDA object of a kind, namespace and name, as an
/// authentication a trigger may name.
struct Authentication {
    index: usize,
    display: String,
    /// `(source, index, parameter)` of `spec.<source>[index].parameter`.
    parameters: Vec<(&'static str, usize, String)>,
}

/// An HPA as keda-threshold-unit reads it: how it displays, and the names
/// of its metrics.
struct HpaMetrics {
    display: String,
    names: Vec<String>,
}

/// An HPA as keda-hpa-conflict reads it.
struct HpaRef {
    name: String,
    display: String,
    /// The names of the ScaledObjects among its owners.
    owners: Vec<String>,
    /// `validations.keda.sh/hpa-ownership: "false"`.
    opted_out: bool,
}

/// A ScaledObject (keda.sh) as keda-hpa-conflict reads it from another.
struct ScaledRef {
    index: usize,
    namespace: Option<String>,
    display: String,
    target: Option<Target>,
    hpa_name: String,
}

/// What the KEDA checks need to know of the whole input, gathered as the
/// objects pass: a trigger's lookups cost a search, not a pass over the
/// input, and of an object nothing is held but these summaries.
#[derive(Default)]
pub(super) struct KedaIndex {
    /// KEDA's authentications by kind, namespace (none for cluster ones)
    /// and name: the first of each.
    authentications: BTreeMap<(String, Option<String>, String), Authentication>,
    /// HPAs by namespace and name, in input order.
    hpas: BTreeMap<(Option<String>, String), Vec<HpaMetrics>>,
    /// HPAs by what they scale, in input order.
    hpa_targets: BTreeMap<Target, Vec<HpaRef>>,
    /// The ScaledObjects (keda.sh), in input order.
    scaled: Vec<ScaledRef>,
    /// Positions in `scaled` by what they scale and by the HPA they name.
    same_target: BTreeMap<Target, Vec<usize>>,
    same_hpa: BTreeMap<(Option<String>, String), Vec<usize>>,
    /// Whether KEDA is in the input (for keda-external-provider).
    present: bool,
    /// Whether a ScaledObject or ScaledJob is.
    scalers: bool,
}

impl KedaIndex {
    pub(super) fn observe(&mut self, object: &Object<'_>) {
        self.present |= is_keda(object) || (external_api_service(object) && routes_to_keda(object));
        if object.kind == "HorizontalPodAutoscaler" {
            self.observe_hpa(object);
        }
        if is_keda(object) {
            self.scalers |= matches!(object.kind, "ScaledObject" | "ScaledJob");
            let namespace = authentication_namespace(object.kind, object.namespace);
            let key = (
                object.kind.to_owned(),
                namespace.map(str::to_owned),
                object.name.to_owned(),
            );
            self.authentications
                .entry(key)
                .or_insert_with(|| Authentication {
                    index: object.index,
                    display: object.display(),
                    parameters: parameters(object),
                });
        }
        if is_scaled_object(object) {
            let position = self.scaled.len();
            let target = target_of(object, true);
            let hpa_name = hpa_name_of(object);
            if let Some(target) = &target {
                self.same_target
                    .entry(target.clone())
                    .or_default()
                    .push(position);
            }
            self.same_hpa
                .entry((object.namespace.map(str::to_owned), hpa_name.clone()))
                .or_default()
                .push(position);
            self.scaled.push(ScaledRef {
                index: object.index,
                namespace: object.namespace.map(str::to_owned),
                display: object.display(),
                target,
                hpa_name,
            });
        }
    }

    /// Drops what is known of HPAs when no ScaledObject or ScaledJob
    /// reads it.
    pub(super) fn forget_hpas_without_scalers(&mut self) {
        if !self.scalers {
            self.hpas = BTreeMap::new();
            self.hpa_targets = BTreeMap::new();
        }
    }

    fn observe_hpa(&mut self, hpa: &Object<'_>) {
        let mut names = Vec::new();
        for metric in hpa.value["spec"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for source in ["pods", "object", "external"] {
                if let Some(name) = metric[source]["metric"]["name"].as_str() {
                    names.push(name.to_owned());
                }
            }
        }
        self.hpas
            .entry((hpa.namespace.map(str::to_owned), hpa.name.to_owned()))
            .or_default()
            .push(HpaMetrics {
                display: hpa.display(),
                names,
            });
        if let Some(target) = target_of(hpa, false) {
            let owners = hpa.value["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|owner| owner["kind"] == "ScaledObject")
                .filter_map(|owner| owner["name"].as_str().map(str::to_owned))
                .collect();
            self.hpa_targets.entry(target).or_default().push(HpaRef {
                name: hpa.name.to_owned(),
                display: hpa.display(),
                owners,
                opted_out: hpa.value["metadata"]["annotations"][HPA_OWNERSHIP_VALIDATION].as_str()
                    == Some("false"),
            });
        }
    }
}

/// The parameters an authentication's spec names.
fn parameters(object: &Object<'_>) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    for source in ["secretTargetRef", "env", "configMapTargetRef"] {
        for (index, item) in object.value["spec"][source]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(parameter) = item["parameter"].as_str() {
                out.push((source, index, parameter.to_owned()));
            }
        }
    }
    out
}

/// The namespace an authentication of `kind` is looked up in: none for a
/// ClusterTriggerAuthentication.
fn authentication_namespace<'a>(kind: &str, namespace: Option<&'a str>) -> Option<&'a str> {
    match kind {
        "ClusterTriggerAuthentication" => None,
        _ => namespace,
    }
}

/// Every KEDA check, one object at a time in input order.
pub(super) struct KedaCheck<'i> {
    index: &'i KedaIndex,
    scrape: &'i Scrape,
    /// The parses of the triggers' queries.
    memo: ParseMemo,
    /// The position in `index.scaled` of the next ScaledObject.
    scaled: usize,
}

impl<'i> KedaCheck<'i> {
    pub(super) fn new(index: &'i KedaIndex, scrape: &'i Scrape) -> Self {
        KedaCheck {
            index,
            scrape,
            memo: ParseMemo::default(),
            scaled: 0,
        }
    }

    pub(super) fn check(&mut self, object: &Object<'_>, lint: &mut Lint) {
        let index = self.index;
        for trigger in prometheus_triggers(object) {
            check_metadata(&trigger, index, lint);
            let Some(query) = trigger.metadata("query") else {
                continue;
            };
            let field = format!("{}.metadata.query", trigger.path);
            let expr = match self.memo.parse(query) {
                Ok(expr) => expr,
                Err(error) => {
                    lint.push(
                        trigger.object,
                        Check::KedaQuery,
                        Severity::Error,
                        field,
                        format!("Prometheus refuses the query ({error}): KEDA's scaler fails every poll"),
                        "write a PromQL query that Prometheus parses, aggregated to one sample such as sum(rate(x[2m]))",
                    );
                    continue;
                }
            };
            check_samples(&trigger, &field, &expr, lint);
            check_rate_window(&trigger, &field, &expr, self.scrape, lint);
            check_null_values(&trigger, &expr, lint);
            check_unit(&trigger, index, query, &expr, lint);
        }
        if is_scaled_object(object) {
            check_autoscalers(object, self.scaled, index, lint);
            self.scaled += 1;
        }
        if index.present {
            check_external_provider(object, lint);
        }
    }
}

/// Go's `strconv.ParseBool`, as KEDA's typed config reads booleans.
fn go_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

fn suggestion(key: &str, known: &[&str]) -> Option<String> {
    let lower = key.to_lowercase();
    // A key cut short (`bearer` for `bearerToken`) or a few letters off.
    let prefix = known.iter().find(|candidate| {
        lower.len() >= 4 && candidate.to_lowercase().starts_with(&lower) && **candidate != key
    });
    if let Some(candidate) = prefix {
        return Some((*candidate).to_owned());
    }
    known
        .iter()
        .map(|candidate| (distance(key, candidate), *candidate))
        .filter(|(d, candidate)| *d <= 3.max(candidate.len() / 4) && *d < key.len())
        .min()
        .map(|(_, candidate)| candidate.to_owned())
}

/// keda-metadata-keys: keys the scaler does not read, required keys
/// missing, values KEDA refuses; TriggerAuthentication parameters the
/// scaler does not read.
fn check_metadata(trigger: &Trigger<'_>, named: &KedaIndex, lint: &mut Lint) {
    let object = trigger.object;
    let path = &trigger.path;
    let Some(metadata) = trigger.value["metadata"].as_object() else {
        lint.push(
            object,
            Check::KedaMetadataKeys,
            Severity::Error,
            format!("{path}.metadata"),
            "the prometheus trigger has no metadata: KEDA refuses it (serverAddress, query and threshold are required)",
            "give metadata.serverAddress, metadata.query and metadata.threshold",
        );
        return;
    };
    // KEDA v1 (keda.k8s.io) read other keys (metricName, ...): only v2's
    // are known here.
    let v2 = api_version(object).starts_with("keda.sh/");
    for (key, value) in metadata {
        if !value.is_string() {
            lint.push(
                object,
                Check::KedaMetadataKeys,
                Severity::Error,
                format!("{path}.metadata.{key}"),
                format!("`{key}: {value}` is not a string: the CRD's metadata is a map of strings, so the API server refuses the object"),
                format!("quote the value: {key}: \"{}\"", value.to_string().trim_matches('"')),
            );
        }
        if v2 && !PROMETHEUS_METADATA_KEYS.contains(&key.as_str()) {
            let (hint, fix) = match suggestion(key, PROMETHEUS_METADATA_KEYS) {
                Some(candidate) => (
                    format!("did you mean `{candidate}`?"),
                    format!("rename `{key}` to `{candidate}`"),
                ),
                None if key == "metricName" => (
                    "it names nothing since KEDA 2.12 (the metric is s<N>-prometheus)".to_owned(),
                    "remove `metricName`".to_owned(),
                ),
                None => (
                    "no such key in pkg/scalers/prometheus_scaler.go".to_owned(),
                    format!("remove `{key}`"),
                ),
            };
            lint.push(
                object,
                Check::KedaMetadataKeys,
                Severity::Warning,
                format!("{path}.metadata.{key}"),
                format!("KEDA's prometheus scaler does not read `{key}` and ignores it without a word; {hint}"),
                fix,
            );
        }
    }
    if v2 {
        for key in PROMETHEUS_REQUIRED_KEYS {
            let present = metadata
                .get(*key)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.trim().is_empty());
            if !present {
                lint.push(
                    object,
                    Check::KedaMetadataKeys,
                    Severity::Error,
                    format!("{path}.metadata"),
                    format!("no `{key}`: KEDA refuses the trigger (\"missing required parameter\") and the ScaledObject never becomes Ready"),
                    format!("add metadata.{key}"),
                );
            }
        }
    }
    for key in ["threshold", "activationThreshold"] {
        let Some(text) = trigger.metadata(key) else {
            continue;
        };
        match text.trim().parse::<f64>() {
            Err(_) => lint.push(
                object,
                Check::KedaMetadataKeys,
                Severity::Error,
                format!("{path}.metadata.{key}"),
                format!("`{text}` is not a number: KEDA refuses the trigger"),
                format!(
                    "write {key} as a decimal number such as \"0.5\" (not a quantity such as 500m)"
                ),
            ),
            Ok(value)
                if key == "threshold"
                    && crate::keda::milli_quantity(value) <= 0
                    && trigger.value["metricType"].as_str() != Some("Value") =>
            {
                lint.push(
                    object,
                    Check::KedaMetadataKeys,
                    Severity::Error,
                    format!("{path}.metadata.{key}"),
                    format!("threshold `{text}` becomes the HPA target `0` (KEDA keeps 3 decimals): the API server refuses the HPA (\"must be positive\")"),
                    "give a threshold of at least 0.001",
                );
            }
            Ok(_) => {}
        }
    }
    for key in ["ignoreNullValues", "unsafeSsl"] {
        if let Some(text) = trigger.metadata(key) {
            if go_bool(text).is_none() {
                lint.push(
                    object,
                    Check::KedaMetadataKeys,
                    Severity::Error,
                    format!("{path}.metadata.{key}"),
                    format!("`{text}` is not a boolean to KEDA (Go's strconv.ParseBool): it refuses the trigger"),
                    format!("write {key}: \"true\" or \"false\""),
                );
            }
        }
    }
    check_authentication(trigger, named, lint);
}

/// The TriggerAuthentication a trigger names, in the input.
fn check_authentication(trigger: &Trigger<'_>, named: &KedaIndex, lint: &mut Lint) {
    let reference = &trigger.value["authenticationRef"];
    let Some(name) = reference["name"].as_str() else {
        return;
    };
    let kind = reference["kind"]
        .as_str()
        .unwrap_or("TriggerAuthentication");
    let namespace = authentication_namespace(kind, trigger.object.namespace);
    let key = (
        kind.to_owned(),
        namespace.map(str::to_owned),
        name.to_owned(),
    );
    let Some(auth) = named.authentications.get(&key) else {
        return;
    };
    for (source, index, parameter) in &auth.parameters {
        if PROMETHEUS_AUTH_PARAMS.contains(&parameter.as_str()) {
            continue;
        }
        let hint = suggestion(parameter, PROMETHEUS_AUTH_PARAMS)
            .map(|candidate| format!("; did you mean `{candidate}`?"))
            .unwrap_or_default();
        lint.push_at(
            auth.index,
            auth.display.clone(),
            Check::KedaMetadataKeys,
            Severity::Warning,
            format!("spec.{source}[{index}].parameter"),
            format!(
                "KEDA's prometheus scaler (used by {} {}) reads no parameter `{parameter}`: the credential is never sent{hint}",
                trigger.object.display(),
                trigger.path
            ),
            "name parameters as the scaler reads them: bearerToken, username, password, cert, key, ca, customAuthHeader, customAuthValue, ...",
        );
    }
}

/// The result's labels as far as they decide KEDA's single sample.
enum Shape {
    /// At most one sample.
    One,
    /// Possibly several: why.
    Many(String),
    /// A scalar: KEDA cannot read it.
    Scalar,
    /// A range vector: KEDA finds no value in it.
    Range,
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => unparen(&paren.expr),
        other => other,
    }
}

fn shape(expr: &Expr) -> Shape {
    let expr = unparen(expr);
    match expr {
        Expr::MatrixSelector(_) | Expr::Subquery(_) => return Shape::Range,
        Expr::Aggregate(aggregate) => {
            let op = aggregate.op.to_string();
            let one = matches!(&aggregate.param.as_deref().map(unparen), Some(Expr::NumberLiteral(n)) if n.val <= 1.0);
            if matches!(op.as_str(), "topk" | "bottomk" | "limitk")
                && aggregate.modifier.is_none()
                && one
            {
                return Shape::One;
            }
        }
        Expr::Call(call) => match call.func.name {
            "absent" | "absent_over_time" => return Shape::One,
            "histogram_quantile" => {
                if let Some(inner) = call.args.args.get(1) {
                    return match promql::output_labels(inner) {
                        promql::Labels::Known(mut set) => {
                            set.remove("le");
                            if set.is_empty() {
                                Shape::One
                            } else {
                                Shape::Many(format!("it keeps the labels ({})", join(&set)))
                            }
                        }
                        _ => Shape::Many("its buckets are not aggregated by (le) alone".to_owned()),
                    };
                }
            }
            _ => {}
        },
        _ => {}
    }
    match promql::output_labels(expr) {
        promql::Labels::Scalar => Shape::Scalar,
        promql::Labels::Known(set) if set.is_empty() => Shape::One,
        promql::Labels::Known(set) => Shape::Many(format!(
            "it is grouped by ({}): one sample per value",
            join(&set)
        )),
        promql::Labels::Unknown => Shape::Many(
            "no outer aggregation reduces it to one series: one sample per matching series"
                .to_owned(),
        ),
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// keda-query: one sample, as KEDA reads it.
fn check_samples(trigger: &Trigger<'_>, field: &str, expr: &Expr, lint: &mut Lint) {
    let message = match shape(expr) {
        Shape::One => return,
        Shape::Many(why) => format!(
            "the query can return more than one sample ({why}); KEDA then fails the poll \
             (\"prometheus query ... returned multiple elements\")"
        ),
        Shape::Scalar => "the query returns a scalar; KEDA reads a vector's first sample, \
             cannot decode a scalar and fails every poll"
            .to_owned(),
        Shape::Range => "the query returns a range vector; KEDA reads an instant sample and finds \
             no value (0 with ignoreNullValues, else an error)"
            .to_owned(),
    };
    lint.push(
        trigger.object,
        Check::KedaQuery,
        Severity::Error,
        field,
        message,
        "aggregate the whole query to one series, such as sum(...) without by, or vector(...)",
    );
}

/// keda-rate-window: as rate-window, for a trigger's query.
fn check_rate_window(
    trigger: &Trigger<'_>,
    field: &str,
    expr: &Expr,
    scrape: &Scrape,
    lint: &mut Lint,
) {
    for short in scrape.short_windows(expr) {
        lint.push(
            trigger.object,
            Check::KedaRateWindow,
            short.severity,
            field,
            format!(
                "{}; KEDA then reads an empty answer (0 with ignoreNullValues, else an error)",
                short.message
            ),
            short.fix,
        );
    }
}

/// keda-ignore-null-values: a rate query whose empty answer reads as 0.
fn check_null_values(trigger: &Trigger<'_>, expr: &Expr, lint: &mut Lint) {
    let Some((function, _)) = promql::rate_windows(expr).into_iter().next() else {
        return;
    };
    let (field, state) = match trigger.metadata("ignoreNullValues") {
        None => (
            format!("{}.metadata", trigger.path),
            "ignoreNullValues is not set, and KEDA's default is true",
        ),
        Some(text) if go_bool(text) == Some(true) => (
            format!("{}.metadata.ignoreNullValues", trigger.path),
            "ignoreNullValues is true",
        ),
        Some(_) => return,
    };
    lint.push(
        trigger.object,
        Check::KedaIgnoreNullValues,
        Severity::Warning,
        field,
        format!(
            "{state}: when Prometheus is down or loses the series, the {function}() query answers \
             nothing, KEDA reports 0 and the HPA scales the workload down to its minimum under load"
        ),
        "set metadata.ignoreNullValues: \"false\" and a spec.fallback, so an empty answer is an error and KEDA holds fallback.replicas",
    );
}

/// A unit a name or query speaks in: per second, minute or hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Second,
    Minute,
    Hour,
}

impl Unit {
    fn word(self) -> &'static str {
        match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
        }
    }

    fn seconds(self) -> u64 {
        match self {
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3600,
        }
    }
}

/// The unit a metric name states (`_per_minute`, `rpm`, ...).
fn name_unit(name: &str) -> Option<Unit> {
    let name = name.to_lowercase().replace(['-', '.'], "_");
    let tokens: Vec<&str> = name.split('_').collect();
    let has = |pair: [&str; 2]| tokens.windows(2).any(|w| w == pair);
    if has(["per", "second"])
        || has(["per", "sec"])
        || tokens.contains(&"rps")
        || tokens.contains(&"qps")
    {
        Some(Unit::Second)
    } else if has(["per", "minute"]) || has(["per", "min"]) || tokens.contains(&"rpm") {
        Some(Unit::Minute)
    } else if has(["per", "hour"]) || tokens.contains(&"rph") {
        Some(Unit::Hour)
    } else {
        None
    }
}

/// A query multiplied by 60 or 3600 (`* 60`, `60.0 *`), compiled once.
static TIMES_60: LazyLock<regex::Regex> = LazyLock::new(|| times(60));
static TIMES_3600: LazyLock<regex::Regex> = LazyLock::new(|| times(3600));

fn times(factor: u32) -> regex::Regex {
    regex::Regex::new(&format!(r"\*\s*{factor}(\.0*)?\b|\b{factor}(\.0*)?\s*\*"))
        .expect("the pattern is a valid regex")
}

/// The unit a query's value is in: rate()/irate() per second unless
/// multiplied by 60 or 3600; increase() per its window.
fn query_unit(query: &str, expr: &Expr) -> Option<Unit> {
    let windows = promql::rate_windows(expr);
    let (function, window) = windows.first()?;
    if *function == "increase" {
        return match window.as_secs() {
            60 => Some(Unit::Minute),
            3600 => Some(Unit::Hour),
            _ => None,
        };
    }
    if TIMES_3600.is_match(query) {
        Some(Unit::Hour)
    } else if TIMES_60.is_match(query) {
        Some(Unit::Minute)
    } else {
        Some(Unit::Second)
    }
}

/// keda-threshold-unit: the threshold is meant in one unit (a name says
/// so), the query gives another.
fn check_unit(trigger: &Trigger<'_>, named: &KedaIndex, query: &str, expr: &Expr, lint: &mut Lint) {
    let Some(unit) = query_unit(query, expr) else {
        return;
    };
    let mut names: Vec<(String, String)> = Vec::new();
    if let Some(name) = trigger.value["name"].as_str() {
        names.push((format!("the trigger name `{name}`"), name.to_owned()));
    }
    if let Some(name) = trigger.metadata("metricName") {
        names.push((format!("metricName `{name}`"), name.to_owned()));
    }
    // The HPA this ScaledObject adopts was written for the same target.
    let adopted =
        trigger.object.value["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"].as_str();
    let adopted_hpas = adopted
        .and_then(|name| {
            named
                .hpas
                .get(&(trigger.object.namespace.map(str::to_owned), name.to_owned()))
        })
        .into_iter()
        .flatten();
    for hpa in adopted_hpas {
        for name in &hpa.names {
            names.push((
                format!("the adopted {} metric `{name}`", hpa.display),
                name.clone(),
            ));
        }
    }
    let Some((said, meant)) = names
        .iter()
        .find_map(|(said, name)| Some((said, name_unit(name)?)))
    else {
        return;
    };
    if meant == unit {
        return;
    }
    let threshold = trigger.metadata("threshold").unwrap_or("?");
    let (big, small) = if meant.seconds() > unit.seconds() {
        (meant, unit)
    } else {
        (unit, meant)
    };
    let factor = big.seconds() / small.seconds();
    lint.push(
        trigger.object,
        Check::KedaThresholdUnit,
        Severity::Warning,
        format!("{}.metadata.threshold", trigger.path),
        format!(
            "{said} says per {}, but the query gives a value per {}: threshold {threshold} is off by a factor of {factor}",
            meant.word(),
            unit.word()
        ),
        format!(
            "write the threshold per {} (the query's unit), or make the query per {} (rate(...) * {})",
            unit.word(),
            meant.word(),
            meant.seconds()
        ),
    );
}

/// What an autoscaler scales: namespace, API group, kind, name.
type Target = (Option<String>, String, String, String);

fn target_of(object: &Object<'_>, default_kind: bool) -> Option<Target> {
    let target = &object.value["spec"]["scaleTargetRef"];
    let name = target["name"].as_str()?;
    let (api, kind) = if default_kind {
        (
            target["apiVersion"].as_str().unwrap_or("apps/v1"),
            target["kind"].as_str().unwrap_or("Deployment"),
        )
    } else {
        (target["apiVersion"].as_str()?, target["kind"].as_str()?)
    };
    let group = api.rsplit_once('/').map_or("", |(group, _)| group);
    Some((
        object.namespace.map(str::to_owned),
        group.to_owned(),
        kind.to_owned(),
        name.to_owned(),
    ))
}

/// Whether `object` is a ScaledObject of KEDA v2.
fn is_scaled_object(object: &Object<'_>) -> bool {
    object.kind == "ScaledObject" && api_version(object).starts_with("keda.sh/")
}

/// keda-hpa-conflict for the ScaledObject `so`, the `position`th: an HPA
/// and a ScaledObject, or two ScaledObjects, on one workload without
/// adoption. The findings on later ScaledObjects are found here too.
fn check_autoscalers(so: &Object<'_>, position: usize, index: &KedaIndex, lint: &mut Lint) {
    let fix = "adopt the HPA: set spec.advanced.horizontalPodAutoscalerConfig.name to its name and the annotation \
               scaledobject.keda.sh/transfer-hpa-ownership: \"true\" (gen-manifests --backend keda does), or delete the HPA";
    let Some(target) = target_of(so, true) else {
        return;
    };
    let hpa_name = hpa_name_of(so);
    let transfer =
        so.value["metadata"]["annotations"][TRANSFER_HPA_OWNERSHIP].as_str() == Some("true");
    for hpa in index.hpa_targets.get(&target).into_iter().flatten() {
        let owned = hpa.owners.iter().any(|owner| owner == so.name);
        if owned || (transfer && hpa.name == hpa_name) {
            continue;
        }
        let how = if transfer {
            format!("the transfer-hpa-ownership annotation is set, but advanced.horizontalPodAutoscalerConfig.name is `{hpa_name}`, not `{}`", hpa.name)
        } else if hpa.name == hpa_name {
            "its HPA has the HPA's name, but without the transfer-hpa-ownership annotation"
                .to_owned()
        } else {
            format!("KEDA would create a second HPA `{hpa_name}`")
        };
        let outcome = if hpa.opted_out {
            "the HPA opts out of KEDA's webhook (validations.keda.sh/hpa-ownership: \"false\"), so both HPAs scale the workload and fight"
        } else {
            "KEDA's webhook refuses the ScaledObject (\"already managed by the hpa\"); without the webhook both HPAs scale the workload and fight"
        };
        lint.push(
            so,
            Check::KedaHpaConflict,
            Severity::Error,
            "spec.scaleTargetRef",
            format!(
                "{} scales {} {}, which {} also scales: {how}; {outcome}",
                so.display(),
                target.2,
                target.3,
                hpa.display
            ),
            fix,
        );
    }
    // The later ScaledObjects with this target or this HPA name, in
    // input order.
    let namespace = so.namespace.map(str::to_owned);
    let later: BTreeSet<usize> = index.same_target[&target]
        .iter()
        .chain(&index.same_hpa[&(namespace.clone(), hpa_name.clone())])
        .copied()
        .filter(|other| *other > position)
        .collect();
    for other in later.into_iter().map(|other| &index.scaled[other]) {
        if other.target.as_ref() == Some(&target) {
            lint.push_at(
                other.index,
                other.display.clone(),
                Check::KedaHpaConflict,
                Severity::Error,
                "spec.scaleTargetRef",
                format!(
                    "{} and {} both scale {} {}: KEDA's webhook refuses the second; without it two HPAs fight",
                    so.display(),
                    other.display,
                    target.2,
                    target.3
                ),
                "scale one workload with one ScaledObject: merge the triggers",
            );
            continue;
        }
        if other.namespace == namespace && other.hpa_name == hpa_name {
            lint.push_at(
                other.index,
                other.display.clone(),
                Check::KedaHpaConflict,
                Severity::Error,
                "spec.advanced.horizontalPodAutoscalerConfig.name",
                format!(
                    "{} and {} both name their HPA `{hpa_name}`: KEDA refuses the second (\"the HPA ... is already managed by the ScaledObject\")",
                    so.display(),
                    other.display
                ),
                "give each ScaledObject its own HPA name",
            );
        }
    }
}

/// The HPA a ScaledObject makes: `advanced.horizontalPodAutoscalerConfig.name`,
/// else KEDA's default name.
fn hpa_name_of(so: &Object<'_>) -> String {
    so.value["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"]
        .as_str()
        .filter(|name| !name.is_empty())
        .map_or_else(|| default_hpa_name(so.name), str::to_owned)
}

/// Whether an APIService routes `external.metrics.k8s.io`.
fn external_api_service(object: &Object<'_>) -> bool {
    object.kind == "APIService"
        && (object.value["spec"]["group"].as_str() == Some("external.metrics.k8s.io")
            || object.name.ends_with(".external.metrics.k8s.io"))
}

/// Whether an APIService routes to KEDA's metrics server.
fn routes_to_keda(object: &Object<'_>) -> bool {
    object.value["spec"]["service"]["name"]
        .as_str()
        .is_some_and(|name| name.contains("keda"))
}

/// keda-external-provider: another APIService for external.metrics.k8s.io
/// next to KEDA (the caller knows KEDA is in the input).
fn check_external_provider(object: &Object<'_>, lint: &mut Lint) {
    if !external_api_service(object) || routes_to_keda(object) {
        return;
    }
    let service = &object.value["spec"]["service"];
    let target = match (service["namespace"].as_str(), service["name"].as_str()) {
        (Some(namespace), Some(name)) => format!("Service {namespace}/{name}"),
        (None, Some(name)) => format!("Service {name}"),
        _ => "a local service".to_owned(),
    };
    lint.push(
        object,
        Check::KedaExternalProvider,
        Severity::Error,
        "spec.service",
        format!(
            "external.metrics.k8s.io goes to {target}, not KEDA's metrics server: the API group has one \
             provider, so either KEDA's HPAs get no metric (s<N>-prometheus is unknown to it) or this \
             provider's HPAs lose theirs when KEDA takes the APIService over"
        ),
        "serve external metrics from KEDA only: delete this APIService (and the adapter's externalRules), or move those HPAs to ScaledObjects",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(query: &str) -> &'static str {
        match shape(&promql::parse(query).unwrap()) {
            Shape::One => "one",
            Shape::Many(_) => "many",
            Shape::Scalar => "scalar",
            Shape::Range => "range",
        }
    }

    #[test]
    fn shapes_follow_prometheus_results() {
        for (query, expected) in [
            ("sum(rate(x[2m]))", "one"),
            ("sum(rate(x[2m])) by (pod)", "many"),
            ("sum without (pod) (rate(x[2m]))", "many"),
            ("rate(x[2m])", "many"),
            ("x", "many"),
            ("x[1m]", "range"),
            ("(x[1m])", "range"),
            ("scalar(sum(x))", "scalar"),
            ("1", "scalar"),
            ("vector(1)", "one"),
            ("sum(x) / sum(y)", "one"),
            ("sum(x) * 60", "one"),
            ("topk(1, sum(x) by (pod))", "one"),
            ("topk(2, x)", "many"),
            ("absent(x)", "one"),
            (
                "histogram_quantile(0.95, sum(rate(x_bucket[1m])) by (le))",
                "one",
            ),
            (
                "histogram_quantile(0.95, sum(rate(x_bucket[1m])) by (le, pod))",
                "many",
            ),
            ("sum(x) or vector(0)", "one"),
            ("max(x) > 3", "one"),
        ] {
            assert_eq!(shape_of(query), expected, "{query}");
        }
    }

    #[test]
    fn units_of_names_and_queries() {
        assert_eq!(name_unit("http_requests_per_minute"), Some(Unit::Minute));
        assert_eq!(name_unit("requests-per-second"), Some(Unit::Second));
        assert_eq!(name_unit("api_rpm"), Some(Unit::Minute));
        assert_eq!(name_unit("superminute"), None);
        let unit = |q: &str| query_unit(q, &promql::parse(q).unwrap());
        assert_eq!(unit("sum(rate(x[2m]))"), Some(Unit::Second));
        assert_eq!(unit("sum(rate(x[2m])) * 60"), Some(Unit::Minute));
        assert_eq!(unit("sum(increase(x[1m]))"), Some(Unit::Minute));
        assert_eq!(unit("sum(increase(x[5m]))"), None);
        assert_eq!(unit("sum(x)"), None);
    }

    #[test]
    fn go_booleans_and_suggestions() {
        assert_eq!(go_bool("T"), Some(true));
        assert_eq!(go_bool("no"), None);
        assert_eq!(
            suggestion("ignoreNullValue", PROMETHEUS_METADATA_KEYS).as_deref(),
            Some("ignoreNullValues")
        );
        assert_eq!(
            suggestion("treshold", PROMETHEUS_METADATA_KEYS).as_deref(),
            Some("threshold")
        );
        assert_eq!(suggestion("metricName", PROMETHEUS_METADATA_KEYS), None);
    }
}
