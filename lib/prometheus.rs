//! A small client for Prometheus' HTTP API (`/api/v1/series`,
//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/targets`), used by `explain --prometheus`
//! and `simulate --prometheus` to ask what the adapter would ask.
//!
//! Every request is bounded by a timeout. `http://` and `https://`
//! (rustls; webpki roots unless the http config names a CA); bearer
//! tokens, basic auth, client certificates, tenant headers and a proxy come
//! from a Prometheus `http_config` file ([`HttpClientConfig`]).
//!
//! ```
//! use custom_metrics_manifests::prometheus::Prometheus;
//!
//! assert!(Prometheus::new("ftp://example", std::time::Duration::from_secs(1)).is_err());
//! let client = Prometheus::new("https://127.0.0.1:9090/", std::time::Duration::from_secs(1)).unwrap();
//! assert_eq!(client.url(), "https://127.0.0.1:9090");
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use ureq::tls::{RootCerts, TlsConfig};

pub use crate::http_config::HttpClientConfig;

/// The largest answer read: a range query's most points (11,000) of one
/// summed series take about 300 KB; parsed, an answer takes about 14
/// times its size in memory, so this keeps a run under 100 MiB.
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// A failed request: unreachable, an HTTP error, or an error Prometheus
/// reported (such as a PromQL parse error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrometheusError {
    /// The URL is not an `http://host:port` or `https://host:port` URL.
    #[error("`{0}` is not a Prometheus URL: write http://host:port or https://host:port")]
    BadUrl(String),
    /// The http config cannot be used with this URL.
    #[error("{0}")]
    Config(String),
    /// No answer: connection refused, DNS, timeout, TLS.
    #[error("cannot reach Prometheus at {url}: {message}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// The server's TLS certificate is not signed by a trusted CA.
    #[error(
        "cannot reach Prometheus at {url}: TLS: the server's certificate is not trusted \
         ({cause}): name its CA in tls_config.ca_file of the http_config"
    )]
    Untrusted {
        /// The base URL.
        url: String,
        /// rustls' reason.
        cause: String,
    },
    /// The answer is larger than [`MAX_BODY_BYTES`].
    #[error(
        "cannot reach Prometheus at {url}: the answer is larger than {limit} bytes, the most \
         gen-manifests reads: ask for less (a shorter range, a larger step)"
    )]
    TooLarge {
        /// The base URL.
        url: String,
        /// The limit, bytes.
        limit: u64,
    },
    /// Prometheus refused the credentials (HTTP 401 or 403).
    #[error(
        "Prometheus answered HTTP {status}: {message} (check authorization or basic_auth in the \
         http_config)"
    )]
    Denied {
        /// HTTP status.
        status: u16,
        /// `errorType: error` from the response, or the body.
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
    /// From the http config: sent with every request (may hold secrets).
    headers: Vec<(String, String)>,
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
        Prometheus::with_http_config(url, timeout, &HttpClientConfig::default())
    }

    /// A client for `url` configured by a Prometheus `http_config` (TLS,
    /// authorization, headers, proxy).
    pub fn with_http_config(
        url: &str,
        timeout: Duration,
        http: &HttpClientConfig,
    ) -> Result<Prometheus, PrometheusError> {
        let trimmed = url.trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"))
            .ok_or_else(|| PrometheusError::BadUrl(url.to_owned()))?;
        if rest.is_empty()
            || rest.contains(char::is_whitespace)
            || rest.starts_with('/')
            || trimmed.parse::<ureq::http::Uri>().is_err()
        {
            return Err(PrometheusError::BadUrl(url.to_owned()));
        }
        let mut tls = TlsConfig::builder().disable_verification(http.insecure_skip_verify);
        if let Some(roots) = &http.roots {
            tls = tls.root_certs(RootCerts::new_with_certs(roots));
        }
        if http.client_cert.is_some() {
            tls = tls.client_cert(http.client_cert.clone());
        }
        let proxy = match &http.proxy_url {
            Some(proxy) => Some(
                ureq::Proxy::new(proxy)
                    .map_err(|error| PrometheusError::Config(format!("proxy_url: {error}")))?,
            ),
            None => None,
        };
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(timeout))
            .timeout_global(Some(timeout))
            // Status errors are read here, with Prometheus' own message.
            .http_status_as_error(false)
            .max_redirects(if http.follow_redirects { 10 } else { 0 })
            .tls_config(tls.build())
            .proxy(proxy)
            .build();
        let (agent, url) = match &http.server_name {
            Some(name) => (
                ureq::Agent::with_parts(
                    config,
                    ureq::unversioned::transport::DefaultConnector::new(),
                    ServerName::new(trimmed, name)?,
                ),
                ServerName::rewrite(trimmed, name)?,
            ),
            None => (ureq::Agent::new_with_config(config), trimmed.to_owned()),
        };
        Ok(Prometheus {
            url,
            agent,
            headers: http.headers.clone(),
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
            request = request.query(*key, *value);
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let unreachable = |error: ureq::Error| transport_error(&self.url, &error);
        let mut response = request.call().map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(unreachable)?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Envelope<serde_json::Value>>(&body)
                .ok()
                .and_then(|envelope| envelope.error)
                .unwrap_or_else(|| body.trim().chars().take(500).collect());
            return Err(match status {
                401 | 403 => PrometheusError::Denied { status, message },
                _ => PrometheusError::Api { status, message },
            });
        }
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

/// A transport error in words a user acts on: TLS trust, an answer too
/// large, a plain-http URL to a TLS port.
fn transport_error(url: &str, error: &ureq::Error) -> PrometheusError {
    // rustls' errors arrive directly or inside an io::Error.
    let tls = match error {
        ureq::Error::Rustls(cause) => Some(cause),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    if let ureq::Error::BodyExceedsLimit(limit) = error {
        return PrometheusError::TooLarge {
            url: url.to_owned(),
            limit: *limit,
        };
    }
    let message = match tls {
        Some(rustls::Error::InvalidCertificate(cause)) => {
            return PrometheusError::Untrusted {
                url: url.to_owned(),
                cause: format!("{cause:?}"),
            }
        }
        Some(cause) => format!("TLS: {cause}"),
        None if url.starts_with("http://") => {
            format!("{error} (if this port serves TLS, write https://)")
        }
        None => error.to_string(),
    };
    PrometheusError::Unreachable {
        url: url.to_owned(),
        message,
    }
}

/// `tls_config.server_name`: requests name `server_name` (so TLS sends it
/// as SNI and verifies the certificate for it) while the connection goes
/// to the URL's own host.
#[derive(Debug)]
struct ServerName {
    name: String,
    host: String,
}

impl ServerName {
    fn new(url: &str, name: &str) -> Result<ServerName, PrometheusError> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|_| PrometheusError::BadUrl(url.to_owned()))?;
        let host = uri
            .host()
            .ok_or_else(|| PrometheusError::BadUrl(url.to_owned()))?;
        Ok(ServerName {
            name: name.to_owned(),
            host: host.to_owned(),
        })
    }

    /// `url` with its host replaced by `name`.
    fn rewrite(url: &str, name: &str) -> Result<String, PrometheusError> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|_| PrometheusError::BadUrl(url.to_owned()))?;
        let bad = || {
            PrometheusError::Config(format!(
                "tls_config.server_name `{name}` is not a host name"
            ))
        };
        let authority = match uri.port_u16() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_owned(),
        };
        let mut parts = uri.into_parts();
        parts.authority = Some(authority.parse().map_err(|_| bad())?);
        let uri = ureq::http::Uri::from_parts(parts).map_err(|_| bad())?;
        Ok(uri.to_string().trim_end_matches('/').to_owned())
    }
}

impl ureq::unversioned::resolver::Resolver for ServerName {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let default = ureq::unversioned::resolver::DefaultResolver::default();
        if uri.host() != Some(self.name.as_str()) {
            return default.resolve(uri, config, timeout);
        }
        let authority = match uri.port_u16() {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        };
        let mut parts = uri.clone().into_parts();
        parts.authority = Some(authority.parse().map_err(|_| ureq::Error::HostNotFound)?);
        let target = ureq::http::Uri::from_parts(parts).map_err(|_| ureq::Error::HostNotFound)?;
        default.resolve(&target, config, timeout)
    }
}
