//! The loop closed: for generated specs across the value space, boundary
//! values included (int32 limits, `periodSeconds` 0/1/1800/1801, label
//! keys and values at 63 and 253 characters, durations in both grammars,
//! quantities, URLs, images, tolerations, ...), the binary either refuses
//! the spec (exit 2, a located error, nothing on standard output) or every
//! object it prints passes the independent validators of
//! `tests/validate_manifests.py`: `kubernetes-validate --strict`, the CRD
//! schemas (fixtures/schemas, fixtures/keda), and the grammars of the
//! programs that read the values (Go's `time.ParseDuration` and flag
//! types for the adapter's command line, Prometheus' durations, URLs).
//!
//! The specs are generated in batches; Python runs once per batch over
//! all of its outputs. A failure prints the spec that led to it.
//!
//! It needs the validators' venv, so `make property` runs it (part of
//! `make test`, `PROPERTY_CASES` cases, 240 by default); `make fuzz` runs
//! many more with a seed of its own (`PROPERTY_SEED`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One field's values: mostly ones the consumer accepts (boundaries
/// included), sometimes ones it refuses.
struct Values {
    ok: Vec<String>,
    bad: Vec<String>,
}

fn values(ok: &[&str], bad: &[&str]) -> Values {
    Values {
        ok: ok.iter().map(|v| (*v).to_owned()).collect(),
        bad: bad.iter().map(|v| (*v).to_owned()).collect(),
    }
}

struct Gen {
    rng: TestRng,
}

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u32() as usize) % n
    }

    /// True with probability `percent` %.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// A value of `v`: a refused one with probability 1 in 30.
    fn pick(&mut self, v: &Values) -> String {
        if !v.bad.is_empty() && self.below(30) == 0 {
            v.bad[self.below(v.bad.len())].clone()
        } else {
            v.ok[self.below(v.ok.len())].clone()
        }
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// The value lists, with the boundaries of each consumer's grammar.
struct Space {
    name: Values,
    namespace: Values,
    image: Values,
    replicas: Values,
    url: Values,
    go_duration: Values,
    prom_duration: Values,
    scrape_interval: Values,
    log_level: Values,
    label_key: Values,
    label_value: Values,
    quantity: Values,
    toleration_key: Values,
    toleration_operator: Values,
    toleration_effect: Values,
    toleration_seconds: Values,
    port: Values,
    path: Values,
    target: Values,
    window_seconds: Values,
    select_policy: Values,
    policy_type: Values,
    policy_value: Values,
    period_seconds: Values,
    tolerance: Values,
    preset: Values,
    backend: Values,
    tls: Values,
    probe: Values,
    monitor: Values,
    stack: Values,
    fallback: Values,
    authentication: Values,
}

fn space() -> Space {
    let a63 = "a".repeat(63);
    let a64 = "a".repeat(64);
    let prefix253 = format!(
        "{}.{}.{}.{}",
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(63),
        "e".repeat(61)
    );
    let prefix254 = format!("{prefix253}e");
    let key_253_63 = format!("{prefix253}/{a63}");
    let key_254 = format!("{prefix254}/x");
    let key_name_64 = format!("example.com/{a64}");
    let digest = format!("img@sha256:{}", "0123456789abcdef".repeat(4));
    let tag128 = format!("img:{}", "t".repeat(128));
    let tag129 = format!("img:{}", "t".repeat(129));
    let quoted_values = |list: &[&str]| list.iter().map(|v| quoted(v)).collect::<Vec<_>>();
    let strs = |list: &[String]| list.iter().map(|v| quoted(v)).collect::<Vec<_>>();
    Space {
        name: Values {
            ok: strs(&["api".into(), "a".into(), a63.clone(), "web-1".into()]),
            bad: strs(&[
                a64.clone(),
                "Api".into(),
                "a-".into(),
                "-a".into(),
                "a_b".into(),
                "".into(),
            ]),
        },
        namespace: Values {
            ok: strs(&[
                "shop".into(),
                "monitoring".into(),
                "my-app".into(),
                a63.clone(),
            ]),
            bad: strs(&[a64.clone(), "Shop".into(), "kube_system".into()]),
        },
        image: Values {
            ok: strs(&[
                "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0".into(),
                "localhost:5000/a/b:c".into(),
                "quay.io/x/y_z.w-v:T_1.0-rc".into(),
                digest.clone(),
                tag128.clone(),
                "img".into(),
            ]),
            bad: strs(&[
                "UPPER/Case::tag".into(),
                "a/../b:1".into(),
                "repo:".into(),
                "img@sha256:abc".into(),
                "a b:1".into(),
                tag129.clone(),
                "img:tag\n".into(),
            ]),
        },
        replicas: values(
            &["0", "1", "2", "10", "2147483647"],
            &[
                "-1",
                "2147483648",
                "3000000000",
                "4294967295",
                "1.5",
                "\"3\"",
            ],
        ),
        url: Values {
            ok: quoted_values(&[
                "http://prometheus-k8s.monitoring.svc:9090",
                "https://prometheus.example.com/prefix",
                "http://10.0.0.1:65535",
                "http://[::1]:9090",
                "http://p:1",
            ]),
            bad: quoted_values(&[
                "prometheus:9090",
                "http://p:9090\n--foo=bar",
                "http://p:0",
                "http://p:65536",
                "ftp://p",
                "http://user:pw@p:9090",
                "http://p:9090/ x",
                "http://p:1:2",
                "http://",
            ]),
        },
        go_duration: values(
            &["1m", "30s", "1h30m", "90s", "1ms", "2562047h", "1h0m0s"],
            &[
                "1d",
                "1w",
                "0s",
                "0",
                "30s1m",
                "1.5m",
                "999999999999h",
                "2562048h",
                "-1m",
                "1e3s",
                "",
            ],
        ),
        prom_duration: values(
            &["30s", "1m", "2m", "1h", "15s", "1m30s", "1h1s"],
            &[
                "30s1m",
                "1.5m",
                "0s",
                "999999999999h",
                "1d",
                "1w",
                "30 seconds",
                "100ms",
            ],
        ),
        scrape_interval: values(
            &["30s", "1s", "1h", "15s", "2m"],
            &["999ms", "1h1s", "0s", "30s1m", "1d", "999999999999h"],
        ),
        log_level: values(&["0", "2", "4", "10", "255"], &["256", "-1", "x"]),
        label_key: Values {
            ok: strs(&[
                "team".into(),
                "app.kubernetes.io/part-of".into(),
                a63.clone(),
                key_253_63.clone(),
                "a.b/c_d.e-f".into(),
            ]),
            bad: strs(&[
                a64.clone(),
                key_254.clone(),
                key_name_64.clone(),
                "-a".into(),
                "a/b/c".into(),
                "Example.com/x".into(),
                "/x".into(),
                "".into(),
            ]),
        },
        label_value: Values {
            ok: strs(&[
                "x".into(),
                "".into(),
                a63.clone(),
                "v1.2_3-4".into(),
                "yes".into(),
                "0".into(),
            ]),
            bad: strs(&[
                a64.clone(),
                "a b".into(),
                "\"q\"".into(),
                "-a".into(),
                "a\nb".into(),
            ]),
        },
        quantity: values(
            &[
                "\"100m\"",
                "\"1\"",
                "\"0\"",
                "\"128Mi\"",
                "\"1.5Gi\"",
                "\"1e3\"",
                "\"1Ki\"",
                "2",
            ],
            &[
                "\"-1\"",
                "\"1e309\"",
                "\"1KiB\"",
                "\"x\"",
                "\"\"",
                "\"- 1\"",
            ],
        ),
        toleration_key: Values {
            ok: strs(&[
                "node-role.kubernetes.io/control-plane".into(),
                "dedicated".into(),
                key_253_63,
            ]),
            bad: strs(&[key_254, a64.clone(), "a b".into()]),
        },
        toleration_operator: values(&["Exists", "Equal"], &["Matches", "exists"]),
        toleration_effect: values(
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            &["NoRun", "noschedule"],
        ),
        toleration_seconds: values(&["0", "300", "9223372036854775807"], &["-1", "1.5"]),
        port: Values {
            ok: quoted_values(&["http", "metrics", "a-b", "abcdefghijklmno"]),
            bad: quoted_values(&["abcdefghijklmnop", "http--x", "HTTP", "8080", "-a", ""]),
        },
        path: Values {
            ok: quoted_values(&["/metrics", "/", "/a/b-c_d.e~f", "/%20x"]),
            bad: quoted_values(&["metrics", "/a b", "/m?x=1", "/m#f", "", "/a\nb"]),
        },
        target: values(
            &["\"10\"", "\"500m\"", "\"0.5\"", "\"1k\"", "10", "\"100\""],
            &["\"0\"", "\"-1\"", "\"1e309\"", "\"x\"", "\"1e-4\""],
        ),
        window_seconds: values(&["0", "1", "300", "3600"], &["3601", "-1", "2147483648"]),
        select_policy: values(&["Max", "Min", "Disabled"], &["Most", "max"]),
        policy_type: values(&["Pods", "Percent"], &["Replicas", "pods"]),
        policy_value: values(
            &["1", "4", "100", "2147483647"],
            &["0", "-1", "2147483648", "4294967295"],
        ),
        period_seconds: values(
            &["1", "15", "60", "1800"],
            &["0", "1801", "-1", "4294967296"],
        ),
        tolerance: values(&["\"0.05\"", "\"0\"", "\"0.1\""], &["\"-0.1\"", "\"x\""]),
        preset: values(&["standalone", "recommended", "documented"], &["hardened"]),
        backend: values(&["adapter", "keda"], &["adaptor"]),
        tls: values(
            &[
                "{mode: insecure}",
                "{mode: certManager}",
                "{mode: certManager, secretName: a, issuerRef: {name: ca, kind: ClusterIssuer}}",
                "{mode: caBundle, caBundle: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}",
            ],
            &["{mode: caBundle}", "{mode: mutual}", "{mode: certManager, issuerRef: {name: Bad_Name}}"],
        ),
        probe: values(
            &[
                "{path: /livez}",
                "{path: /readyz, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 1}",
                "{path: \"/healthz?verbose=1\", periodSeconds: 65535}",
            ],
            &["{path: livez}", "{path: \"/a b\"}", "{path: /x, periodSeconds: 65536}", "{path: /x, timeoutSeconds: -1}"],
        ),
        monitor: values(&["serviceMonitor", "podMonitor"], &["probe"]),
        stack: values(
            &[
                "{stack: kube-prometheus}",
                "{stack: kube-prometheus-stack}",
                "{stack: kube-prometheus-stack, release: prom}",
                "{stack: operator, serviceMonitorSelector: {matchLabels: {team: shop}}}",
            ],
            &["{stack: kube-prometheus-helm}", "{stack: kube-prometheus, release: prom}"],
        ),
        fallback: values(
            &[
                "{failureThreshold: 0}",
                "{failureThreshold: 3, replicas: 2}",
                "{failureThreshold: 2147483647, behavior: currentReplicasIfHigher}",
                "{behavior: static}",
            ],
            &["{failureThreshold: -1}", "{failureThreshold: 2147483648}", "{behavior: always}", "{replicas: 0}"],
        ),
        authentication: values(
            &[
                "{secretName: prometheus-auth, modes: [bearer]}",
                "{secretName: prometheus-auth, modes: [basic], ca: true}",
                "{secretName: prometheus-auth, name: auth, modes: [tls, bearer]}",
            ],
            &["{secretName: prometheus-auth, modes: [bearer, basic]}", "{secretName: Bad, modes: [bearer]}", "{secretName: a, modes: []}"],
        ),
    }
}

/// A label map of up to three entries, in flow style.
fn labels(g: &mut Gen, s: &Space) -> String {
    let entries: Vec<String> = (0..1 + g.below(3))
        .map(|_| format!("{}: {}", g.pick(&s.label_key), g.pick(&s.label_value)))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

fn toleration(g: &mut Gen, s: &Space) -> String {
    let mut fields = Vec::new();
    let operator = g.chance(70).then(|| g.pick(&s.toleration_operator));
    let exists = operator.as_deref() == Some("Exists");
    if !exists || g.chance(50) {
        fields.push(format!("key: {}", g.pick(&s.toleration_key)));
    }
    if let Some(operator) = &operator {
        fields.push(format!("operator: {operator}"));
    }
    if !exists && g.chance(60) || g.chance(3) {
        fields.push(format!("value: {}", g.pick(&s.label_value)));
    }
    let effect = g.chance(70).then(|| g.pick(&s.toleration_effect));
    if let Some(effect) = &effect {
        fields.push(format!("effect: {effect}"));
    }
    if effect.as_deref() == Some("NoExecute") && g.chance(50) || g.chance(3) {
        fields.push(format!(
            "tolerationSeconds: {}",
            g.pick(&s.toleration_seconds)
        ));
    }
    format!("{{{}}}", fields.join(", "))
}

fn resources(g: &mut Gen, s: &Space) -> String {
    let mut sides = Vec::new();
    for side in ["limits", "requests"] {
        if g.chance(60) {
            let mut entries = Vec::new();
            for resource in ["cpu", "memory"] {
                if g.chance(70) {
                    entries.push(format!("{resource}: {}", g.pick(&s.quantity)));
                }
            }
            sides.push(format!("{side}: {{{}}}", entries.join(", ")));
        }
    }
    format!("{{{}}}", sides.join(", "))
}

fn scaling_rules(g: &mut Gen, s: &Space) -> String {
    let mut fields = Vec::new();
    if g.chance(60) {
        fields.push(format!(
            "stabilizationWindowSeconds: {}",
            g.pick(&s.window_seconds)
        ));
    }
    if g.chance(30) {
        fields.push(format!("selectPolicy: {}", g.pick(&s.select_policy)));
    }
    if g.chance(20) {
        fields.push(format!("tolerance: {}", g.pick(&s.tolerance)));
    }
    if g.chance(60) {
        let policies: Vec<String> = (0..1 + g.below(2))
            .map(|_| {
                format!(
                    "{{type: {}, value: {}, periodSeconds: {}}}",
                    g.pick(&s.policy_type),
                    g.pick(&s.policy_value),
                    g.pick(&s.period_seconds)
                )
            })
            .collect();
        fields.push(format!("policies: [{}]", policies.join(", ")));
    }
    format!("{{{}}}", fields.join(", "))
}

/// One generated spec, as YAML text.
fn spec(g: &mut Gen, s: &Space) -> String {
    let mut out = String::new();
    if g.chance(80) {
        out += &format!("preset: {}\n", g.pick(&s.preset));
    }
    if g.chance(25) {
        out += &format!("backend: {}\n", g.pick(&s.backend));
    }
    let mut adapter = Vec::new();
    let mut field = |g: &mut Gen, percent: usize, key: &str, value: &dyn Fn(&mut Gen) -> String| {
        if g.chance(percent) {
            let value = value(g);
            adapter.push(format!("  {key}: {value}\n"));
        }
    };
    field(g, 15, "name", &|g| g.pick(&s.name));
    field(g, 15, "namespace", &|g| g.pick(&s.namespace));
    field(g, 25, "image", &|g| g.pick(&s.image));
    field(g, 25, "replicas", &|g| g.pick(&s.replicas));
    field(g, 25, "prometheusUrl", &|g| g.pick(&s.url));
    field(g, 25, "metricsRelistInterval", &|g| g.pick(&s.go_duration));
    field(g, 15, "logLevel", &|g| g.pick(&s.log_level));
    field(g, 20, "resources", &|g| resources(g, s));
    field(g, 15, "labels", &|g| labels(g, s));
    field(g, 15, "nodeSelector", &|g| labels(g, s));
    field(g, 15, "tls", &|g| g.pick(&s.tls));
    field(g, 10, "livenessProbe", &|g| g.pick(&s.probe));
    field(g, 10, "readinessProbe", &|g| g.pick(&s.probe));
    field(g, 20, "tolerations", &|g| {
        let list: Vec<String> = (0..1 + g.below(2)).map(|_| toleration(g, s)).collect();
        format!("[{}]", list.join(", "))
    });
    if !adapter.is_empty() {
        out += "adapter:\n";
        out += &adapter.concat();
    }
    let mut prometheus = Vec::new();
    if g.chance(15) {
        let stack = g.pick(&s.stack);
        prometheus.push(stack.trim_matches(['{', '}']).to_owned());
    }
    if g.chance(30) {
        prometheus.push(format!("scrapeInterval: {}", g.pick(&s.scrape_interval)));
    }
    if g.chance(15) {
        prometheus.push(format!("version: {}", g.pick(&s.label_value)));
    }
    if g.chance(15) {
        prometheus.push(format!("namespaces: [{}]", g.pick(&s.namespace)));
    }
    if !prometheus.is_empty() {
        out += &format!("prometheus: {{{}}}\n", prometheus.join(", "));
    }
    let apps = g.below(3);
    if apps > 0 {
        out += "apps:\n";
    }
    for index in 0..apps {
        // Distinct names unless the generator picks a refused one.
        let name = if g.chance(97) {
            quoted(&format!("app-{index}"))
        } else {
            g.pick(&s.name)
        };
        out += &format!("- name: {name}\n  namespace: {}\n", g.pick(&s.namespace));
        if g.chance(30) {
            out += &format!("  selector: {}\n", labels(g, s));
        }
        if g.chance(15) {
            out += &format!("  monitor: {}\n", g.pick(&s.monitor));
        }
        if g.chance(25) {
            out += &format!("  port: {}\n", g.pick(&s.port));
        }
        if g.chance(25) {
            out += &format!("  path: {}\n", g.pick(&s.path));
        }
        if g.chance(25) {
            out += &format!("  interval: {}\n", g.pick(&s.prom_duration));
        }
        out += &format!("  targetAverageValue: {}\n", g.pick(&s.target));
        if g.chance(50) {
            out += &format!("  minReplicas: {}\n", g.pick(&s.replicas));
        }
        out += &format!("  maxReplicas: {}\n", g.pick(&s.replicas));
        if g.chance(40) {
            let mut behavior = Vec::new();
            if g.chance(60) {
                behavior.push(format!("scaleUp: {}", scaling_rules(g, s)));
            }
            if g.chance(60) {
                behavior.push(format!("scaleDown: {}", scaling_rules(g, s)));
            }
            out += &format!("  behavior: {{{}}}\n", behavior.join(", "));
        }
    }
    if g.chance(20) {
        let mut keda = Vec::new();
        if g.chance(60) {
            keda.push(format!("fallback: {}", g.pick(&s.fallback)));
        }
        if g.chance(50) {
            keda.push(format!("authentication: {}", g.pick(&s.authentication)));
        }
        out += &format!("keda: {{{}}}\n", keda.join(", "));
    }
    out
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

/// What one case gave: refused, or the file its objects were written to.
enum Outcome {
    Refused,
    Written(PathBuf),
}

fn run_case(dir: &Path, index: u64, text: &str) -> Outcome {
    let spec = dir.join(format!("case-{index}.yaml"));
    std::fs::write(&spec, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
        .arg("-c")
        .arg(&spec)
        .output()
        .expect("gen-manifests runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {
            let out = dir.join(format!("out-{index}.yaml"));
            std::fs::write(&out, &output.stdout).unwrap();
            Outcome::Written(out)
        }
        Some(2) => {
            assert!(output.stdout.is_empty(), "refused but printed:\n{text}");
            assert!(
                stderr.starts_with(&format!("error: {}:", spec.display())),
                "a refusal names the file and line:\n{stderr}\nspec:\n{text}"
            );
            Outcome::Refused
        }
        code => panic!("exit {code:?} (neither 0 nor 2): {stderr}\nspec:\n{text}"),
    }
}

#[test]
#[ignore = "needs the validators' venv: `make property` runs it (part of `make test`)"]
fn generated_specs_are_refused_or_pass_every_validator() {
    let python = std::env::var("PROPERTY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(ROOT).join("target/venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run `make property`, which creates the venv",
        python.display()
    );
    let cases = env_number("PROPERTY_CASES", 240);
    let batch = env_number("PROPERTY_BATCH", 120).max(1);
    let seed = env_number("PROPERTY_SEED", 13);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut g = Gen {
        rng: TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    };
    let s = space();
    let (mut refused, mut accepted) = (0u64, 0u64);
    let mut index = 0;
    while index < cases {
        let dir = tempfile::tempdir().unwrap();
        let mut written: BTreeMap<PathBuf, String> = BTreeMap::new();
        for _ in 0..batch.min(cases - index) {
            let text = spec(&mut g, &s);
            match run_case(dir.path(), index, &text) {
                Outcome::Refused => refused += 1,
                Outcome::Written(path) => {
                    accepted += 1;
                    written.insert(path, text);
                }
            }
            index += 1;
        }
        if written.is_empty() {
            continue;
        }
        // One Python process per batch, over every accepted case's output.
        let output = Command::new(&python)
            .arg(Path::new(ROOT).join("tests/validate_manifests.py"))
            .args(["--k8s-version", "1.33.0", "--string-labels"])
            .args(written.keys())
            .output()
            .expect("python runs");
        if !output.status.success() {
            let report = String::from_utf8_lossy(&output.stdout);
            let mut message = String::new();
            for (path, text) in &written {
                let prefix = format!("FAIL {}:", path.display());
                let failures: Vec<&str> =
                    report.lines().filter(|l| l.starts_with(&prefix)).collect();
                if !failures.is_empty() {
                    message += &format!(
                        "spec (seed {seed}):\n{text}failures:\n{}\n\n",
                        failures.join("\n")
                    );
                }
            }
            panic!(
                "emitted objects the validators refuse:\n{message}{}{}",
                if message.is_empty() {
                    report.to_string()
                } else {
                    String::new()
                },
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    eprintln!("property: {cases} generated specs (seed {seed}): {refused} refused with exit 2, {accepted} emitted and valid");
    // The generator must reach both sides, or it proves little.
    assert!(
        refused * 10 >= cases && accepted * 10 >= cases,
        "refused {refused}, accepted {accepted}"
    );
}
