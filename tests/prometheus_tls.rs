//! `--prometheus-http-config`: explain reaches an HTTPS Prometheus (a
//! Python server on 127.0.0.1 with a CA made here by the openssl CLI) that
//! requires a bearer token; a wrong CA, a wrong token and plain http to the
//! TLS port each exit 2 with a clear message; bad http_config files exit 2
//! located (snapshots).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{gen_manifests, scratch_dir, settings, ROOT};

const TOKEN: &str = "s3cret-token";

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA named `name`: `name.key`, `name.pem`.
fn make_ca(dir: &Path, name: &str) {
    let key = format!("{name}.key");
    let pem = format!("{name}.pem");
    let subject = format!("/CN=test {name}");
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &key,
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// The server's certificate, signed by `ca`, for 127.0.0.1 and
/// prometheus.test.
fn make_server_cert(dir: &Path, ca: &str) {
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "server.key",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=prometheus.test",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:prometheus.test\n",
    )
    .unwrap();
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// The HTTPS server, stopped by pid when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let log = dir.join("requests.log");
        let mut child = Command::new("python3")
            .arg(Path::new(ROOT).join("fixtures/http-config/tls_server.py"))
            .args(["server.pem", "server.key", TOKEN])
            .arg(&log)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the server printed no port: {line:?}")
        });
        Server { child, port, log }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn explain(url: &str, http_config: &Path) -> std::process::Output {
    gen_manifests(&[
        "explain",
        "-c",
        "examples/fastapi/spec.yaml",
        "--prometheus",
        url,
        "--prometheus-http-config",
        http_config.to_str().unwrap(),
        "--timeout",
        "5",
    ])
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn explain_reaches_https_prometheus_with_ca_and_bearer_token() {
    let dir = scratch_dir("prometheus-tls");
    make_ca(&dir, "ca");
    make_ca(&dir, "other-ca");
    make_server_cert(&dir, "ca");
    std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(dir.join("wrong-token"), "not-the-token\n").unwrap();
    // Relative paths resolve against the config file's directory.
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        "authorization:\n  credentials_file: token\ntls_config:\n  ca_file: ca.pem\nhttp_headers:\n  X-Scope-OrgID:\n    values: [tenant-1]\n",
    )
    .unwrap();
    let wrong_ca = dir.join("wrong-ca.yaml");
    std::fs::write(
        &wrong_ca,
        "authorization:\n  credentials_file: token\ntls_config:\n  ca_file: other-ca.pem\n",
    )
    .unwrap();
    let wrong_token = dir.join("wrong-token.yaml");
    std::fs::write(
        &wrong_token,
        "authorization:\n  credentials_file: wrong-token\ntls_config:\n  ca_file: ca.pem\n",
    )
    .unwrap();
    let by_name = dir.join("server-name.yaml");
    std::fs::write(
        &by_name,
        "authorization:\n  type: Bearer\n  credentials: s3cret-token\ntls_config:\n  ca_file: ca.pem\n  server_name: prometheus.test\n",
    )
    .unwrap();

    let server = Server::start(&dir);
    let https = format!("https://127.0.0.1:{}", server.port);

    let output = explain(&https, &good);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains(&format!("Prometheus at {https} answers:"))
            && out.contains("\n    fastapi-7b9c5d6f8d-bcdfg: 42\n"),
        "{out}"
    );
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        log.contains(&format!("\"authorization\": \"Bearer {TOKEN}\"")),
        "{log}"
    );
    assert!(log.contains("\"x-scope-orgid\": \"tenant-1\""), "{log}");
    assert!(log.contains("/api/v1/query?query=vector(1)"), "{log}");

    // server_name: SNI and verification for prometheus.test, connection to 127.0.0.1.
    let output = explain(&https, &by_name);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("fastapi-7b9c5d6f8d-bcdfg: 42"), "{out}");

    let output = explain(&https, &wrong_ca);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("TLS: the server's certificate is not trusted"),
        "{text}"
    );
    assert!(text.contains("tls_config.ca_file"), "{text}");

    let output = explain(&https, &wrong_token);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("Prometheus answered HTTP 401: bad or missing bearer token"),
        "{text}"
    );
    assert!(text.contains("check authorization or basic_auth"), "{text}");

    // No http config: the self-signed CA is not among the webpki roots.
    let output = gen_manifests(&["explain", "--prometheus", &https, "--timeout", "5"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("TLS: the server's certificate is not trusted"),
        "{text}"
    );

    let http = format!("http://127.0.0.1:{}", server.port);
    let output = explain(&http, &good);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("cannot reach Prometheus at {http}")),
        "{text}"
    );
    assert!(
        text.contains("if this port serves TLS, write https://"),
        "{text}"
    );
    drop(server);
}

#[test]
fn bad_http_configs_exit_2_located() {
    settings().bind(|| {
        insta::glob!("../fixtures", "http-config/bad/*.yaml", |path| {
            let relative = path.strip_prefix(ROOT).unwrap().to_str().unwrap();
            let output = gen_manifests(&[
                "explain",
                "--prometheus",
                "https://127.0.0.1:9",
                "--prometheus-http-config",
                relative,
            ]);
            assert_eq!(output.status.code(), Some(2), "{relative}");
            assert!(output.stdout.is_empty(), "{relative}");
            insta::assert_snapshot!("bad-http-config", stderr(&output));
        });
    });
}

#[test]
fn http_config_needs_prometheus() {
    let output = gen_manifests(&["explain", "--prometheus-http-config", "x.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--prometheus <URL>"),
        "{}",
        stderr(&output)
    );
}
