//! Prometheus' own `http_config` file (what promtool's
//! `--http.config.file` reads; key names from prometheus/common
//! `config/http_config.go`), for `--prometheus-http-config`: how
//! `explain` and `simulate` authenticate to and trust a Prometheus behind
//! TLS, a bearer token or a tenant header.
//!
//! Unknown keys are refused with a located error, as are the conflicts
//! Prometheus refuses (both `credentials` and `credentials_file`, both
//! `authorization` and `basic_auth`, ...). Relative file paths resolve
//! against the config file's directory, as in Prometheus. Files are read
//! once, when the config is loaded.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;
use ureq::tls::{Certificate, ClientCert, PemItem};

use crate::spec::{self, SpecError, SpecErrorKind};

/// Headers Prometheus refuses in `http_headers` (prometheus/common
/// `config/headers.go`, `ReservedHeaders`): they change the connection or
/// are set by the client itself.
const RESERVED_HEADERS: &[&str] = &[
    "Authorization",
    "Host",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "User-Agent",
    "Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Www-Authenticate",
    "Accept-Encoding",
    "X-Prometheus-Remote-Write-Version",
    "X-Prometheus-Remote-Read-Version",
    "X-Prometheus-Scrape-Timeout-Seconds",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
];

/// A secret file is small; a larger one is a wrong path.
const MAX_SECRET_BYTES: usize = 1 << 20;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    authorization: Option<Spanned<Authorization>>,
    basic_auth: Option<Spanned<BasicAuth>>,
    tls_config: Option<TlsFile>,
    #[serde(default)]
    http_headers: BTreeMap<String, Spanned<HeaderFile>>,
    proxy_url: Option<Spanned<String>>,
    follow_redirects: Option<bool>,
    /// Accepted for compatibility; this client speaks HTTP/1.1.
    #[allow(dead_code)]
    enable_http2: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorization {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    credentials: Option<Spanned<String>>,
    credentials_file: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicAuth {
    username: Option<Spanned<String>>,
    username_file: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    ca: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    cert: Option<Spanned<String>>,
    cert_file: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    server_name: Option<Spanned<String>>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderFile {
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    files: Vec<Spanned<String>>,
}

/// A loaded `http_config`: the headers every request carries and the TLS
/// settings, with every file already read. Its `Debug` shows header names
/// only, never a secret.
#[derive(Clone, Default)]
pub struct HttpClientConfig {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) roots: Option<Vec<Certificate<'static>>>,
    pub(crate) client_cert: Option<ClientCert>,
    pub(crate) server_name: Option<String>,
    pub(crate) insecure_skip_verify: bool,
    pub(crate) proxy_url: Option<String>,
    pub(crate) follow_redirects: bool,
    pub(crate) origin: Option<String>,
    pub(crate) files: Vec<PathBuf>,
}

impl fmt::Debug for HttpClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientConfig")
            .field("origin", &self.origin)
            .field("headers", &self.header_names())
            .field("custom_roots", &self.roots.as_ref().map(Vec::len))
            .field("client_cert", &self.client_cert.is_some())
            .field("server_name", &self.server_name)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("proxy_url", &self.proxy_url)
            .finish()
    }
}

/// PEM items read, the field they came from and its place.
type PemFile<'s> = (Vec<PemItem<'static>>, String, Option<&'s Spanned<String>>);

/// Where a value is: its file position and field.
struct Place<'a> {
    origin: &'a str,
    dir: &'a Path,
    /// Every file read, in turn.
    read: std::cell::RefCell<Vec<PathBuf>>,
}

impl Place<'_> {
    fn error<T>(&self, at: Option<&Spanned<T>>, field: &str, message: String) -> SpecError {
        let (line, column) = at
            .map(|s| (s.referenced.line(), s.referenced.column()))
            .filter(|&(line, _)| line > 0)
            .map_or((None, None), |(l, c)| (Some(l), Some(c)));
        SpecError::new(self.origin, SpecErrorKind::Input(message))
            .at(line, column)
            .field(field)
    }

    /// At most one of two keys, as Prometheus' Validate checks.
    fn at_most_one<A, B>(
        &self,
        first: (&Option<Spanned<A>>, &str),
        second: (&Option<Spanned<B>>, &str),
        message: &str,
    ) -> Result<(), SpecError> {
        if first.0.is_some() {
            if let Some(value) = second.0 {
                return Err(self.error(Some(value), second.1, message.to_owned()));
            }
        }
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        let path = Path::new(name);
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.dir.join(path)
        }
    }

    fn read(&self, file: &Spanned<String>, field: &str) -> Result<Vec<u8>, SpecError> {
        let path = self.path(&file.value);
        self.read.borrow_mut().push(path.clone());
        let bytes = spec::read_bounded(&path, MAX_SECRET_BYTES).map_err(|error| {
            self.error(
                Some(file),
                field,
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        if bytes.len() > MAX_SECRET_BYTES {
            return Err(self.error(
                Some(file),
                field,
                format!("{} is larger than {MAX_SECRET_BYTES} bytes", path.display()),
            ));
        }
        Ok(bytes)
    }

    /// A secret file's content, trimmed as Prometheus' FileSecret does.
    fn secret(&self, file: &Spanned<String>, field: &str) -> Result<String, SpecError> {
        let bytes = self.read(file, field)?;
        String::from_utf8(bytes)
            .map(|text| text.trim().to_owned())
            .map_err(|_| self.error(Some(file), field, format!("{} is not UTF-8", file.value)))
    }

    /// The inline value or the file's content.
    fn inline_or_file(
        &self,
        inline: &Option<Spanned<String>>,
        file: &Option<Spanned<String>>,
        file_field: &str,
    ) -> Result<Option<String>, SpecError> {
        match (inline, file) {
            (Some(value), _) => Ok(Some(value.value.clone())),
            (None, Some(file)) => self.secret(file, file_field).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn pem<'s>(
        &self,
        inline: &'s Option<Spanned<String>>,
        file: &'s Option<Spanned<String>>,
        fields: (&str, &str),
    ) -> Result<Option<PemFile<'s>>, SpecError> {
        let (bytes, field, at) = match (inline, file) {
            (Some(value), _) => (value.value.as_bytes().to_vec(), fields.0, value),
            (None, Some(file)) => (self.read(file, fields.1)?, fields.1, file),
            (None, None) => return Ok(None),
        };
        let items = ureq::tls::parse_pem(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| self.error(Some(at), field, format!("not PEM: {error}")))?;
        Ok(Some((items, field.to_owned(), Some(at))))
    }
}

impl HttpClientConfig {
    /// Reads and checks an `http_config` file; relative paths in it resolve
    /// against its directory.
    pub fn load(path: &Path) -> Result<HttpClientConfig, SpecError> {
        let origin = path.display().to_string();
        let bytes = spec::read_bounded(path, spec::MAX_SPEC_BYTES).map_err(|error| {
            SpecError::new(
                &origin,
                SpecErrorKind::Input(format!("cannot read the http config: {error}")),
            )
        })?;
        let text = spec::checked_text_of(&bytes, &origin, "http_config files")?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut config = HttpClientConfig::from_yaml(text, &origin, dir)?;
        config.files.insert(0, path.to_owned());
        Ok(config)
    }

    /// The files it was read from: the `http_config` file (when
    /// [`HttpClientConfig::load`] read it) and each file it names
    /// (credentials, keys, certificates). A command never writes over them.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Reads `http_config` YAML text; `origin` names it in errors and
    /// relative paths resolve against `dir`.
    pub fn from_yaml(text: &str, origin: &str, dir: &Path) -> Result<HttpClientConfig, SpecError> {
        let empty = text.lines().all(|line| {
            let line = line.trim();
            line.is_empty() || line.starts_with('#') || line == "---"
        });
        let file: FileConfig = if empty {
            FileConfig::default()
        } else {
            spec::read_yaml(text, origin).map_err(|mut error| {
                // `Spanned` adds a `value` level that is not in the file.
                error.field = error
                    .field
                    .split('.')
                    .filter(|part| *part != "value")
                    .collect::<Vec<_>>()
                    .join(".");
                error
            })?
        };
        let place = Place {
            origin,
            dir,
            read: Default::default(),
        };
        let mut config = HttpClientConfig {
            origin: Some(origin.to_owned()),
            follow_redirects: file.follow_redirects.unwrap_or(true),
            ..HttpClientConfig::default()
        };

        if let (Some(_), Some(basic)) = (&file.authorization, &file.basic_auth) {
            return Err(place.error(
                Some(basic),
                "basic_auth",
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            ));
        }
        if let Some(auth) = &file.authorization {
            let auth = &auth.value;
            place.at_most_one(
                (&auth.credentials, "authorization.credentials"),
                (&auth.credentials_file, "authorization.credentials_file"),
                "at most one of authorization credentials & credentials_file must be configured",
            )?;
            let kind = auth
                .kind
                .as_ref()
                .map_or("Bearer", |kind| kind.value.as_str())
                .trim();
            if kind.eq_ignore_ascii_case("basic") {
                return Err(place.error(
                    auth.kind.as_ref(),
                    "authorization.type",
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                        .into(),
                ));
            }
            let kind = if kind.is_empty() { "Bearer" } else { kind };
            let credentials = place
                .inline_or_file(
                    &auth.credentials,
                    &auth.credentials_file,
                    "authorization.credentials_file",
                )?
                .unwrap_or_default();
            config
                .headers
                .push(("Authorization".into(), format!("{kind} {credentials}")));
        }
        if let Some(basic) = &file.basic_auth {
            let basic = &basic.value;
            place.at_most_one(
                (&basic.username, "basic_auth.username"),
                (&basic.username_file, "basic_auth.username_file"),
                "at most one of basic_auth username & username_file must be configured",
            )?;
            place.at_most_one(
                (&basic.password, "basic_auth.password"),
                (&basic.password_file, "basic_auth.password_file"),
                "at most one of basic_auth password & password_file must be configured",
            )?;
            let user = place
                .inline_or_file(
                    &basic.username,
                    &basic.username_file,
                    "basic_auth.username_file",
                )?
                .unwrap_or_default();
            let password = place
                .inline_or_file(
                    &basic.password,
                    &basic.password_file,
                    "basic_auth.password_file",
                )?
                .unwrap_or_default();
            config.headers.push((
                "Authorization".into(),
                format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            ));
        }
        if let Some(tls) = &file.tls_config {
            config.tls(tls, &place)?;
        }
        for (name, header) in &file.http_headers {
            let field = format!("http_headers.{name}");
            if let Some(reserved) = RESERVED_HEADERS
                .iter()
                .find(|reserved| reserved.eq_ignore_ascii_case(name))
            {
                return Err(place.error(
                    Some(header),
                    &field,
                    format!("setting header \"{reserved}\" is not allowed"),
                ));
            }
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(place.error(
                    Some(header),
                    &field,
                    format!("`{name}` is not an HTTP header name"),
                ));
            }
            let mut values = header.value.values.clone();
            values.extend(header.value.secrets.iter().cloned());
            for file in &header.value.files {
                values.push(place.secret(file, &format!("{field}.files"))?);
            }
            for value in values {
                if value.contains(['\r', '\n']) {
                    return Err(place.error(
                        Some(header),
                        &field,
                        "a header value cannot hold a line break".into(),
                    ));
                }
                config.headers.push((name.clone(), value));
            }
        }
        if let Some(proxy) = &file.proxy_url {
            let url = proxy.value.trim();
            if !["http://", "https://", "socks4://", "socks5://"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
            {
                return Err(place.error(
                    Some(proxy),
                    "proxy_url",
                    format!("`{url}` is not a proxy URL: write http://host:port"),
                ));
            }
            ureq::Proxy::new(url).map_err(|error| {
                place.error(
                    Some(proxy),
                    "proxy_url",
                    format!("`{url}` is not a proxy URL: {error}"),
                )
            })?;
            config.proxy_url = Some(url.to_owned());
        }
        config.files = place.read.into_inner();
        Ok(config)
    }

    fn tls(&mut self, tls: &TlsFile, place: &Place<'_>) -> Result<(), SpecError> {
        place.at_most_one(
            (&tls.ca, "tls_config.ca"),
            (&tls.ca_file, "tls_config.ca_file"),
            "at most one of ca and ca_file must be configured",
        )?;
        place.at_most_one(
            (&tls.cert, "tls_config.cert"),
            (&tls.cert_file, "tls_config.cert_file"),
            "at most one of cert and cert_file must be configured",
        )?;
        place.at_most_one(
            (&tls.key, "tls_config.key"),
            (&tls.key_file, "tls_config.key_file"),
            "at most one of key and key_file must be configured",
        )?;
        let has_cert = tls.cert.is_some() || tls.cert_file.is_some();
        let has_key = tls.key.is_some() || tls.key_file.is_some();
        if has_cert && !has_key {
            let at = tls.cert.as_ref().or(tls.cert_file.as_ref());
            return Err(place.error(
                at,
                "tls_config",
                "exactly one of key or key_file must be configured when a client certificate is configured".into(),
            ));
        }
        if has_key && !has_cert {
            let at = tls.key.as_ref().or(tls.key_file.as_ref());
            return Err(place.error(
                at,
                "tls_config",
                "exactly one of cert or cert_file must be configured when a client key is configured".into(),
            ));
        }
        if let Some((items, field, at)) = place.pem(
            &tls.ca,
            &tls.ca_file,
            ("tls_config.ca", "tls_config.ca_file"),
        )? {
            let roots: Vec<_> = items
                .into_iter()
                .filter_map(|item| match item {
                    PemItem::Certificate(cert) => Some(cert),
                    _ => None,
                })
                .collect();
            if roots.is_empty() {
                return Err(place.error(at, &field, "no PEM certificate in it".into()));
            }
            self.roots = Some(roots);
        }
        let certs = place.pem(
            &tls.cert,
            &tls.cert_file,
            ("tls_config.cert", "tls_config.cert_file"),
        )?;
        let key = place.pem(
            &tls.key,
            &tls.key_file,
            ("tls_config.key", "tls_config.key_file"),
        )?;
        if let (Some((certs, cert_field, cert_at)), Some((keys, key_field, key_at))) = (certs, key)
        {
            let chain: Vec<_> = certs
                .into_iter()
                .filter_map(|item| match item {
                    PemItem::Certificate(cert) => Some(cert),
                    _ => None,
                })
                .collect();
            if chain.is_empty() {
                return Err(place.error(cert_at, &cert_field, "no PEM certificate in it".into()));
            }
            let key = keys
                .into_iter()
                .find_map(|item| match item {
                    PemItem::PrivateKey(key) => Some(key),
                    _ => None,
                })
                .ok_or_else(|| {
                    place.error(key_at, &key_field, "no PEM private key in it".into())
                })?;
            self.client_cert = Some(ClientCert::new_with_certs(&chain, key));
        }
        if let Some(name) = &tls.server_name {
            let name = name.value.trim();
            if !name.is_empty() {
                self.server_name = Some(name.to_owned());
            }
        }
        self.insecure_skip_verify = tls.insecure_skip_verify;
        Ok(())
    }

    /// The names of the headers every request carries, in order.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(name, _)| name.as_str()).collect()
    }
}

/// RFC 9110 token characters: what a header name may hold.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Standard base64 with padding, for a basic-auth header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
    }

    #[test]
    fn basic_auth_and_headers_in_order() {
        let config = HttpClientConfig::from_yaml(
            "basic_auth: {username: u, password: p}\nhttp_headers:\n  X-Scope-OrgID: {values: [a, b], secrets: [c]}\n",
            "h.yaml",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(
            config.headers,
            [
                ("Authorization".into(), "Basic dTpw".into()),
                ("X-Scope-OrgID".into(), "a".into()),
                ("X-Scope-OrgID".into(), "b".into()),
                ("X-Scope-OrgID".into(), "c".into()),
            ]
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("dTpw"), "{debug}");
    }
}

/// The examples that were this module's doc tests (the module is private;
/// the crate's public items carry the doc tests a user reads).
#[cfg(test)]
mod examples {
    #[test]
    fn module_example() {
        use crate::http_config::HttpClientConfig;

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
        let file = dir.path().join("http.yaml");
        std::fs::write(&file, "authorization:\n  credentials_file: token\nhttp_headers:\n  X-Scope-OrgID:\n    values: [tenant-1]\n").unwrap();
        let config = HttpClientConfig::load(&file).unwrap();
        assert_eq!(config.header_names(), ["Authorization", "X-Scope-OrgID"]);

        std::fs::write(&file, "authorization:\n  credential: x\n").unwrap();
        let error = HttpClientConfig::load(&file).unwrap_err();
        assert_eq!(
            (error.line, error.field.as_str()),
            (Some(2), "authorization.credential")
        );
    }
}
