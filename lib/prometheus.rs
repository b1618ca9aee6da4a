//! A small client for Prometheus' HTTP API (`/api/v1/series`,
//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/targets`), used by `explain --prometheus`
//! and `simulate --prometheus` to ask what the adapter would ask.
//!
//! Every request is bounded by a timeout; plain `http://` only (reach an
//! in-cluster Prometheus with `kubectl port-forward`).
//!
//! ```
//! use custom_metrics_manifests::prometheus::Prometheus;
//!
//! assert!(Prometheus::new("ftp://example", std::time::Duration::from_secs(1)).is_err());
//! let client = Prometheus::new("http://127.0.0.1:9090", std::time::Duration::from_secs(1)).unwrap();
//! assert_eq!(client.url(), "http://127.0.0.1:9090");
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// A failed request: unreachable, an HTTP error, or an error Prometheus
/// reported (such as a PromQL parse error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrometheusError {
    /// The URL is not an `http://host:port` URL.
    #[error("`{0}` is not a Prometheus URL: write http://host:port (https is not supported; use kubectl port-forward)")]
    BadUrl(String),
    /// No answer: connection refused, DNS, timeout.
    #[error("cannot reach Prometheus at {url}: {message}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// Prometheus answered with an error.
    #[error("Prometheus answered HTTP {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `errorType: error` from the response, or the body.
        message: String,
    },
}

/// A Prometheus server.
#[derive(Clone, Debug)]
pub struct Prometheus {
    url: String,
    agent: ureq::Agent,
}

/// One sample of an instant query: the series labels and the value.
pub type Sample = (BTreeMap<String, String>, f64);

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    error: Option<String>,
}

/// One active scrape target, as `/api/v1/targets` reports it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The scrape pool; Prometheus Operator names it
    /// `serviceMonitor/<namespace>/<name>/<endpoint>` or `podMonitor/...`.
    #[serde(default)]
    pub scrape_pool: String,
    /// The URL scraped.
    #[serde(default)]
    pub scrape_url: String,
    /// `up`, `down` or `unknown` (not scraped yet).
    #[serde(default)]
    pub health: String,
    /// The last scrape's error, empty when it succeeded.
    #[serde(default)]
    pub last_error: String,
    /// The target's labels after relabelling.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetsData {
    #[serde(default)]
    active_targets: Vec<Target>,
}

#[derive(Deserialize)]
struct VectorData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

impl Prometheus {
    /// A client for `url` whose requests each time out after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Prometheus, PrometheusError> {
        let trimmed = url.trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("http://")
            .ok_or_else(|| PrometheusError::BadUrl(url.to_owned()))?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(PrometheusError::BadUrl(url.to_owned()));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout(timeout)
            .build();
        Ok(Prometheus {
            url: trimmed.to_owned(),
            agent,
        })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn get<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<T, PrometheusError> {
        let mut request = self.agent.get(&format!("{}{path}", self.url));
        for (key, value) in params {
            request = request.query(key, value);
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                let body = response.into_string().unwrap_or_default();
                let message = serde_json::from_str::<Envelope<serde_json::Value>>(&body)
                    .ok()
                    .and_then(|envelope| envelope.error)
                    .unwrap_or(body);
                return Err(PrometheusError::Api { status, message });
            }
            Err(error) => {
                return Err(PrometheusError::Unreachable {
                    url: self.url.clone(),
                    message: error.to_string(),
                })
            }
        };
        let status = response.status();
        let body = response
            .into_string()
            .map_err(|error| PrometheusError::Unreachable {
                url: self.url.clone(),
                message: error.to_string(),
            })?;
        let envelope: Envelope<T> =
            serde_json::from_str(&body).map_err(|error| PrometheusError::Api {
                status,
                message: format!("not a Prometheus API answer ({error})"),
            })?;
        match (envelope.status.as_str(), envelope.data) {
            ("success", Some(data)) => Ok(data),
            _ => Err(PrometheusError::Api {
                status,
                message: envelope.error.unwrap_or_else(|| "no data".into()),
            }),
        }
    }

    /// The label sets of the series matching `selector`.
    pub fn series(&self, selector: &str) -> Result<Vec<BTreeMap<String, String>>, PrometheusError> {
        self.get("/api/v1/series", &[("match[]", selector)])
    }

    /// The active scrape targets (`/api/v1/targets?state=active`).
    pub fn targets(&self) -> Result<Vec<Target>, PrometheusError> {
        let data: TargetsData = self.get("/api/v1/targets", &[("state", "active")])?;
        Ok(data.active_targets)
    }

    /// An instant query's samples (a vector result; a scalar gives one
    /// sample without labels).
    pub fn query(&self, promql: &str) -> Result<Vec<Sample>, PrometheusError> {
        let data: VectorData = self.get("/api/v1/query", &[("query", promql)])?;
        let mut samples = Vec::new();
        match data.result_type.as_str() {
            "vector" => {
                for item in data.result.as_array().into_iter().flatten() {
                    let labels = serde_json::from_value(item["metric"].clone()).unwrap_or_default();
                    if let Some(value) = sample_value(&item["value"]) {
                        samples.push((labels, value));
                    }
                }
            }
            "scalar" => samples.extend(sample_value(&data.result).map(|v| (BTreeMap::new(), v))),
            _ => {}
        }
        Ok(samples)
    }

    /// A range query summed into one series of `(unix seconds, value)`:
    /// the values of all result series added at each step.
    pub fn query_range_sum(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step_seconds: f64,
    ) -> Result<Vec<(f64, f64)>, PrometheusError> {
        let (start, end, step) = (
            format!("{start}"),
            format!("{end}"),
            format!("{step_seconds}"),
        );
        let data: VectorData = self.get(
            "/api/v1/query_range",
            &[
                ("query", promql),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ],
        )?;
        let mut sums: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for item in data.result.as_array().into_iter().flatten() {
            for point in item["values"].as_array().into_iter().flatten() {
                if let (Some(time), Some(value)) = (point[0].as_f64(), sample_value(point)) {
                    let entry = sums.entry((time * 1000.0) as i64).or_insert((time, 0.0));
                    entry.1 += value;
                }
            }
        }
        Ok(sums.into_values().collect())
    }
}

/// `[timestamp, "value"]` → value.
fn sample_value(pair: &serde_json::Value) -> Option<f64> {
    pair.get(1)?.as_str()?.parse().ok()
}
