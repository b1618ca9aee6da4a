//! Checks of the adapter's pods: flags, image, Pod Security, the
//! Prometheus URL, the relist interval.

use std::time::Duration as StdDuration;

use serde_json::Value;

use super::adapter::Scrape;
use super::model::{arguments, image_of, is_adapter_image, Pod};
use super::{promql, Check, Lint, Severity};
use crate::values::Image;

/// The klog flags prometheus-adapter v0.11 removed; passing one makes it exit.
const KLOG_FLAGS: [&str; 11] = [
    "--logtostderr",
    "--alsologtostderr",
    "--log-dir",
    "--log-file",
    "--log-file-max-size",
    "--skip-log-headers",
    "--stderrthreshold",
    "--one-output",
    "--skip-headers",
    "--add-dir-header",
    "--log-backtrace-at",
];

/// Flags older adapters had and later ones refuse ("unknown flag"), with
/// the first version without them: `--rate-interval` and `--label-prefix`
/// were the pre-0.4 discovery settings, replaced by the config file
/// (k8s-prometheus-adapter v0.3.0 `cmd/adapter/adapter.go`).
const REMOVED_FLAGS: [(&str, (u64, u64, u64), &str); 2] = [
    (
        "--rate-interval",
        (0, 4, 0),
        "write the window into metricsQuery, such as rate(<<.Series>>{<<.LabelMatchers>>}[2m])",
    ),
    (
        "--label-prefix",
        (0, 4, 0),
        "map labels to resources with resources.overrides in config.yaml",
    ),
];

/// Container checks: deprecated-image for every container; klog-flags,
/// adapter-flags, prometheus-url, relist-interval and pod-security for
/// adapter containers.
pub(super) fn check_pod(pod: &Pod<'_>, scrape: &Scrape, lint: &mut Lint) {
    let object = pod.object;
    for (path, container) in pod.containers() {
        let Some(image) = image_of(container) else {
            continue;
        };
        let repository = image.repository();
        let unprefixed = repository
            .strip_prefix("docker.io/")
            .or_else(|| repository.strip_prefix("index.docker.io/"))
            .unwrap_or(repository);
        if unprefixed.starts_with("directxman12/") {
            lint.push(
                object,
                Check::DeprecatedImage,
                Severity::Warning,
                format!("{path}.image"),
                format!(
                    "`{image}` is the old image from before the project moved to kubernetes-sigs; \
                     it gets no more releases or fixes"
                ),
                "use registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0, without klog flags such as --logtostderr",
            );
        }
        if !is_adapter_image(&image) {
            continue;
        }
        let args = arguments(container, &path);
        check_flags(pod, &path, &image, &args, lint);
        if let Some((field, url)) = flag_value(&args, "--prometheus-url") {
            check_url(pod, field, url, lint);
        }
        check_relist(pod, &args, scrape, lint);

        let problems = pod_security_problems(pod.spec, container);
        if !problems.is_empty() {
            lint.push(
                object,
                Check::PodSecurity,
                Severity::Warning,
                format!("{path}.securityContext"),
                format!(
                    "Pod Security `restricted` refuses the adapter pod: {}",
                    problems.join("; ")
                ),
                "set capabilities.drop: [\"ALL\"], seccompProfile.type: RuntimeDefault, runAsNonRoot: true and allowPrivilegeEscalation: false",
            );
        }
    }
}

/// The last value of a flag given as `--flag=value` or `--flag value`
/// (pflag keeps the last), with its field.
pub(super) fn flag_value<'a>(
    args: &'a [(String, String)],
    flag: &str,
) -> Option<(&'a str, &'a str)> {
    let mut found = None;
    for (index, (field, arg)) in args.iter().enumerate() {
        if let Some(value) = arg
            .strip_prefix(flag)
            .and_then(|rest| rest.strip_prefix('='))
        {
            found = Some((field.as_str(), value));
        } else if arg == flag {
            if let Some((_, value)) = args.get(index + 1) {
                found = Some((field.as_str(), value.as_str()));
            }
        }
    }
    found
}

/// Whether the arguments are the adapter's own (`args`, or a `command`
/// that runs `/adapter`); a shell wrapper's arguments are not judged.
fn runs_adapter_directly(args: &[(String, String)]) -> bool {
    !args
        .iter()
        .any(|(field, arg)| field.contains(".command[") && (arg.ends_with("sh") || arg == "-c"))
}

/// The adapter version an image runs: its tag's, or today's adapter for a
/// moving tag (`latest`, `master`, `main`) or none, which pull the newest
/// build. `None` for a digest or a tag that names no version.
fn adapter_version(image: &Image) -> Option<(u64, u64, u64)> {
    // directxman12/ images stopped at v0.8.4, before the move to
    // kubernetes-sigs; their moving tags are that release.
    let current = if image
        .repository()
        .trim_start_matches("docker.io/")
        .starts_with("directxman12/")
    {
        (0, 8, 4)
    } else {
        (0, 12, 0)
    };
    match image.tag() {
        Some("latest" | "master" | "main") => Some(current),
        None if !image.to_string().contains('@') => Some(current),
        _ => image.version(),
    }
}

/// klog-flags and adapter-flags.
fn check_flags(
    pod: &Pod<'_>,
    path: &str,
    image: &Image,
    args: &[(String, String)],
    lint: &mut Lint,
) {
    let object = pod.object;
    let version = adapter_version(image);
    if version.is_some_and(|version| version >= (0, 11, 0)) {
        for (field, arg) in args {
            let flag = arg.split('=').next().unwrap_or(arg);
            if KLOG_FLAGS.contains(&flag) {
                lint.push(
                    object,
                    Check::KlogFlags,
                    Severity::Error,
                    field.clone(),
                    format!(
                        "`{arg}`: prometheus-adapter {} no longer has klog's flag {flag} and exits at start-up (\"unknown flag: {flag}\")",
                        match image.tag() {
                            Some(tag) if image.version().is_some() => tag.to_owned(),
                            Some(tag) => format!("`{tag}` (a moving tag: the newest build, v0.11 or later)"),
                            None => "without a tag (the newest build, v0.11 or later)".to_owned(),
                        }
                    ),
                    format!("remove {flag}; logs go to stderr by default"),
                );
            }
        }
    }
    if !runs_adapter_directly(args) {
        return;
    }
    for (field, arg) in args {
        let flag = arg.split('=').next().unwrap_or(arg);
        let Some((_, removed_in, fix)) = REMOVED_FLAGS.iter().find(|(name, _, _)| *name == flag)
        else {
            continue;
        };
        // An unknown version (`latest`, a digest) is today's adapter.
        if version.is_none_or(|version| version >= *removed_in) {
            lint.push(
                object,
                Check::AdapterFlags,
                Severity::Error,
                field.clone(),
                format!(
                    "`{arg}`: prometheus-adapter v{}.{}.{} and later have no flag {flag} and exit with \"unknown flag: {flag}\"",
                    removed_in.0, removed_in.1, removed_in.2
                ),
                *fix,
            );
        }
    }
    if flag_value(args, "--config").is_none_or(|(_, value)| value.is_empty()) {
        lint.push(
            object,
            Check::AdapterFlags,
            Severity::Error,
            format!("{path}.args"),
            "the adapter has no --config and exits with \"no metrics discovery configuration file specified (make sure to use --config)\"",
            "pass --config=/etc/adapter/config.yaml and mount the ConfigMap there",
        );
    }
    let relist = flag_value(args, "--metrics-relist-interval");
    let max_age = flag_value(args, "--metrics-max-age");
    if let (Some((_, relist)), Some((field, max_age))) = (relist, max_age) {
        if let (Some(relist_d), Some(max_age_d)) = (go_duration(relist), go_duration(max_age)) {
            if !max_age_d.is_zero() && max_age_d < relist_d {
                lint.push(
                    object,
                    Check::AdapterFlags,
                    Severity::Error,
                    field,
                    format!("--metrics-max-age {max_age} is below --metrics-relist-interval {relist}: the adapter exits with \"max age must not be less than relist interval\""),
                    "drop --metrics-max-age (it defaults to the relist interval) or make it at least as long",
                );
            }
        }
    }
}

/// A Go `time.ParseDuration` value (`90s`, `1m30s`, `1.5h`, `500ms`); the
/// adapter's interval flags are Go durations.
pub(super) fn go_duration(text: &str) -> Option<StdDuration> {
    if text == "0" {
        return Some(StdDuration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    Some(StdDuration::from_secs_f64(total))
}

/// relist-interval.
fn check_relist(pod: &Pod<'_>, args: &[(String, String)], scrape: &Scrape, lint: &mut Lint) {
    let Some((field, value)) = flag_value(args, "--metrics-relist-interval") else {
        return;
    };
    let Some(relist) = go_duration(value) else {
        return;
    };
    if relist < scrape.interval {
        lint.push(
            pod.object,
            Check::RelistInterval,
            Severity::Warning,
            field,
            format!(
                "--metrics-relist-interval {value} is shorter than {}: the adapter lists only series \
                 updated since its last relist, so metrics drop in and out of the API",
                scrape.source
            ),
            format!(
                "set --metrics-relist-interval to at least {}, such as 1m",
                promql::format_duration(scrape.interval)
            ),
        );
    }
}

/// prometheus-url.
fn check_url(pod: &Pod<'_>, field: &str, url: &str, lint: &mut Lint) {
    // A Prometheus container in the same pod answers on localhost.
    let local_prometheus = pod.containers().iter().any(|(_, container)| {
        image_of(container).is_some_and(|image| {
            !is_adapter_image(&image) && image.repository().ends_with("prometheus")
        })
    });
    match url_problem(url, local_prometheus) {
        Some(UrlProblem::Broken(problem)) => lint.push(
            pod.object,
            Check::PrometheusUrl,
            Severity::Error,
            field,
            format!("--prometheus-url `{url}` {problem}, so the adapter does not reach Prometheus"),
            "write scheme, host and port, such as http://prometheus-k8s.monitoring.svc:9090",
        ),
        Some(UrlProblem::Placeholder(problem)) => lint.push(
            pod.object,
            Check::PrometheusUrl,
            Severity::Warning,
            field,
            format!("--prometheus-url `{url}` {problem}"),
            "point --prometheus-url at your Prometheus Service, such as http://prometheus-k8s.monitoring.svc:9090",
        ),
        None => {}
    }
}

/// What is wrong with a Prometheus URL.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum UrlProblem {
    /// The adapter cannot use it.
    Broken(String),
    /// Well-formed, but a default nobody's Prometheus answers on.
    Placeholder(String),
}

/// Services whose Prometheus listens only on 9090 (kube-prometheus,
/// Prometheus Operator, kube-prometheus-stack): without a port the adapter
/// dials port 80 and nothing answers.
fn listens_on_9090_only(host: &str) -> bool {
    let service = host.split('.').next().unwrap_or(host);
    service == "prometheus-k8s"
        || service == "prometheus-operated"
        || service.ends_with("-kube-prometheus-prometheus")
        || service.ends_with("-kube-prometheus-stack-prometheus")
}

/// Parses `url` as Go's `net/url` and the adapter's HTTP client use it.
pub(super) fn url_problem(url: &str, local_prometheus: bool) -> Option<UrlProblem> {
    let broken = |text: &str| Some(UrlProblem::Broken(text.to_owned()));
    let Some((scheme, rest)) = url.split_once("://") else {
        return broken("has no scheme (http:// or https://)");
    };
    if scheme != "http" && scheme != "https" {
        return broken(&format!(
            "has the scheme `{scheme}`; the adapter speaks http or https"
        ));
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(after) = host_port.strip_prefix('[') {
        let Some((host, tail)) = after.split_once(']') else {
            return broken("has an IPv6 host without its closing `]`");
        };
        match tail {
            "" => (host, None),
            _ => match tail.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return broken("has text after the IPv6 host"),
            },
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return broken("has no host");
    }
    if let Some(port) = port {
        if port.contains(':') {
            return broken(&format!(
                "has two ports (`{host_port}`): the port was written twice"
            ));
        }
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return broken(&format!("has the port `{port}`, which is not a number"));
        }
        if port.is_empty() || port.parse::<u32>().map_or(true, |p| p == 0 || p > 65535) {
            return broken(&format!("has the port `{port}`, which is not a port"));
        }
    }
    // `.../prometheus:9090`: a port appended after a path prefix.
    let path_only = path.split(['?', '#']).next().unwrap_or("");
    if let Some(last) = path_only.trim_end_matches('/').rsplit('/').next() {
        if let Some((_, tail)) = last.rsplit_once(':') {
            if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
                return broken(&format!(
                    "ends its path with `{last}`: the port was appended after the path, so every request goes to {path_only}/api/v1/... and gets 404"
                ));
            }
        }
    }
    if port.is_none() && listens_on_9090_only(host) {
        return broken(
            "has no port, and this Prometheus Service listens on 9090, not the scheme's default",
        );
    }
    let bare = host.trim_end_matches('.');
    if bare == "prometheus.default.svc" || bare == "prometheus.default.svc.cluster.local" {
        return Some(UrlProblem::Placeholder(
            "is the prometheus-adapter Helm chart's default, a Service `prometheus` in `default` that few clusters have (\"no such host\")".to_owned(),
        ));
    }
    if !local_prometheus && (bare == "localhost" || bare.starts_with("127.") || bare == "::1") {
        return Some(UrlProblem::Placeholder(
            "points at the adapter pod itself, where no Prometheus listens".to_owned(),
        ));
    }
    if bare == "example.com" || bare.ends_with(".example.com") || bare.ends_with(".example") {
        return Some(UrlProblem::Placeholder(
            "is a documentation placeholder".to_owned(),
        ));
    }
    None
}

/// Why Pod Security `restricted` refuses `container` in a pod of `spec`.
fn pod_security_problems(spec: &Value, container: &Value) -> Vec<String> {
    let context = &container["securityContext"];
    let pod_context = &spec["securityContext"];
    let mut problems = Vec::new();
    let drop = &context["capabilities"]["drop"];
    let drops_all = drop
        .as_array()
        .is_some_and(|items| items.iter().any(|item| item.as_str() == Some("ALL")));
    if !drops_all {
        problems.push(if drop.is_null() {
            "capabilities.drop is not set, it must contain \"ALL\"".to_owned()
        } else {
            format!("capabilities.drop is {drop}, it must contain \"ALL\" (upper-case)")
        });
    }
    let effective = |key: &str| {
        let own = &context[key];
        if own.is_null() {
            &pod_context[key]
        } else {
            own
        }
    };
    let seccomp = effective("seccompProfile")["type"].as_str();
    if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
        problems.push(match seccomp {
            Some(other) => format!("seccompProfile.type is {other}, not RuntimeDefault"),
            None => "no seccompProfile.type: RuntimeDefault (container or pod)".to_owned(),
        });
    }
    if effective("runAsNonRoot").as_bool() != Some(true) {
        problems.push("no runAsNonRoot: true (container or pod)".to_owned());
    }
    if context["allowPrivilegeEscalation"].as_bool() != Some(false) {
        problems.push("allowPrivilegeEscalation is not false".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(url: &str) -> Option<UrlProblem> {
        url_problem(url, false)
    }

    fn broken(url: &str) -> String {
        match problem(url) {
            Some(UrlProblem::Broken(text)) => text,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn urls_parse_as_go_dials_them() {
        for fine in [
            "http://prometheus-k8s.monitoring.svc:9090",
            "https://[fd00::1]:9090/prom",
            "http://thanos-query.monitoring.svc.cluster.local:9090/",
            "https://prometheus.example.org",
            "http://prometheus-server.monitoring.svc",
            "http://monitoring-prometheus.monitoring.svc:9090/prometheus",
        ] {
            assert_eq!(problem(fine), None, "{fine}");
        }
        assert!(broken("prometheus-k8s.monitoring.svc:9090").contains("scheme"));
        assert!(broken("http://prometheus-k8s.monitoring.svc").contains("port"));
        assert!(broken("http://prometheus-operated:/").contains("port"));
        assert!(broken("http://host:9090:9090").contains("written twice"));
        assert!(broken("http://h:9090/path:9090").contains("appended after the path"));
        assert!(
            broken("http://monitoring-prometheus.monitoring.svc:9090/prometheus:9090")
                .contains("404")
        );
        assert!(broken("http://h:90x0").contains("not a number"));
        assert!(broken("http://h:99999").contains("not a port"));
        assert!(broken("tcp://h:9090").contains("scheme"));
        assert!(broken("http://:9090").contains("no host"));
        assert!(broken("http://[::1").contains("IPv6"));
    }

    #[test]
    fn placeholders_are_warnings() {
        for url in [
            "http://prometheus.default.svc:9090",
            "http://prometheus.default.svc.cluster.local.:9090",
            "http://localhost:9090",
            "http://127.0.0.1:9090",
            "https://prometheus.example.com:9090",
        ] {
            assert!(
                matches!(problem(url), Some(UrlProblem::Placeholder(_))),
                "{url}"
            );
        }
        // A Prometheus container in the same pod answers on localhost.
        assert_eq!(url_problem("http://localhost:9090", true), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1m30s"), Some(StdDuration::from_secs(90)));
        assert_eq!(go_duration("1.5h"), Some(StdDuration::from_secs(5400)));
        assert_eq!(go_duration("0"), Some(StdDuration::ZERO));
        assert_eq!(go_duration("30"), None);
        assert_eq!(go_duration("1d"), None);
    }
}
