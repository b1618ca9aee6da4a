//! Property-based fuzzing of spec reading and rendering: whatever the
//! bytes, reading never panics; it returns a located error or a config
//! that renders deterministically. `make test` runs a few hundred cases;
//! `make fuzz` runs many more (PROPTEST_CASES).

use custom_metrics_manifests::{generate, Config, OutputFormat, Spec};
use proptest::prelude::*;

/// Pieces of valid and nearly valid specs, so that mutations reach deep
/// into the structure instead of failing at the first byte.
const FRAGMENTS: &[&str] = &[
    "preset: recommended\n",
    "preset: documented\n",
    "adapter:\n",
    "  name: x\n",
    "  replicas: 3\n",
    "  replicas: 0\n",
    "  labels: {a: yes}\n",
    "  resources: {limits: {cpu: 100m}}\n",
    "  tls: {mode: caBundle, caBundle: pem}\n",
    "rules:\n",
    "- seriesQuery: 'http_requests_total{pod!=\"\"}'\n",
    "  name: {matches: \"^(.*)_total$\", as: \"${1}_per_second\"}\n",
    "  metricsQuery: 'sum(rate(<<.Series>>[2m]))'\n",
    "apps:\n",
    "- name: api\n",
    "  namespace: shop\n",
    "  targetAverageValue: \"10\"\n",
    "  maxReplicas: 5\n",
    "  minReplicas: 9\n",
    "  metric: nope\n",
    "prometheus: {namespaces: [a, b], scrapeInterval: 15s}\n",
    "&a [*a]\n",
    "{",
    "- ",
    "\t",
    "\u{0}",
    "'",
];

fn check(text: &str) {
    if let Ok(spec) = Spec::from_yaml(text, "fuzz.yaml") {
        if let Ok(config) = Config::from_spec(spec, "fuzz.yaml") {
            let first = generate(&config, OutputFormat::Yaml);
            assert_eq!(first, generate(&config, OutputFormat::Yaml));
            // What we print must read back as YAML.
            let _: Vec<serde_json::Value> =
                serde_saphyr::from_multiple(&first).expect("output is YAML");
        }
    } else if let Err(error) = Spec::from_yaml(text, "fuzz.yaml") {
        assert!(error.to_string().starts_with("fuzz.yaml"), "{error}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fragments_in_any_order(picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..24)) {
        let text: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        check(&text);
    }

    #[test]
    fn arbitrary_text(text in "\\PC{0,300}") {
        check(&text);
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Spec::from_bytes(&bytes, "fuzz.yaml");
    }
}
