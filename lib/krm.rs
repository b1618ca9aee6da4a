//! `gen-manifests krm`: a KRM function, as the kpt/kustomize functions
//! specification defines it. A `ResourceList` comes in on standard input
//! (YAML, or JSON when it starts with `{`); its `functionConfig` is a
//! [`KIND`] object of [`API_VERSION`] with the spec under `spec:` (or a
//! ConfigMap with the spec's YAML under `data.spec`). The generated objects
//! are appended to `items`, flat, each annotated with a path of its own
//! (the `--out-dir` file names) so that kpt writes one file per object.
//! Items of the package stay; an item with the identity of a generated
//! object (kind, group, namespace, name) is replaced, so running the
//! function again changes nothing.
//!
//! Bad input is reported in `results` (severity `error`, the field, the
//! functionConfig's file when the orchestrator gives it) and as
//! [`Outcome::errors`], on which the CLI exits non-zero.
//!
//! ```
//! use custom_metrics_manifests::krm;
//!
//! let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n\
//!     functionConfig:\n  apiVersion: custom-metrics-manifests/v1alpha1\n  kind: CustomMetrics\n\
//!     \x20 metadata: {name: metrics}\n  spec: {preset: recommended}\n";
//! let outcome = krm::run(input.as_bytes());
//! assert!(outcome.errors.is_empty());
//! assert!(outcome.output.contains("internal.config.kubernetes.io/path: apiservice-v1beta1.custom.metrics.k8s.io.yaml"));
//!
//! let bad = input.replace("preset: recommended", "presett: recommended");
//! let outcome = krm::run(bad.as_bytes());
//! assert_eq!(outcome.errors[0].field.as_ref().unwrap().path, "spec.presett");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::render::{self, Manifest};
use crate::spec::{self, Spec, SpecError, YamlLimits};
use crate::{gitops, OutputFormat};

/// The functionConfig's `apiVersion`.
pub const API_VERSION: &str = "custom-metrics-manifests/v1alpha1";
/// The functionConfig's `kind`.
pub const KIND: &str = "CustomMetrics";
/// Largest ResourceList read (a whole package).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// Where kpt (v1) and kustomize read an object's file from; the legacy
/// `config.kubernetes.io/*` pair is set too and kept equal, as kyaml
/// refuses the two when they disagree.
const PATH_ANNOTATIONS: [&str; 2] = [
    "internal.config.kubernetes.io/path",
    "config.kubernetes.io/path",
];
const INDEX_ANNOTATIONS: [&str; 2] = [
    "internal.config.kubernetes.io/index",
    "config.kubernetes.io/index",
];

/// A `results` entry of the ResourceList.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KrmResult {
    /// What is wrong.
    pub message: String,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// The field of the functionConfig (or input) it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// The file the functionConfig came from, when the orchestrator says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
}

/// A result's field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Dotted path, such as `spec.apps[0].maxReplicas`.
    pub path: String,
}

/// A result's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct File {
    /// Path relative to the package.
    pub path: String,
}

impl fmt::Display for KrmResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.path)?;
        }
        if let Some(field) = &self.field {
            write!(f, "{}: ", field.path)?;
        }
        write!(f, "{}", self.message)
    }
}

/// What the function writes: the ResourceList text, and the errors (empty
/// on success; then exit 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The output ResourceList, in the input's encoding.
    pub output: String,
    /// The error results, also inside `output`.
    pub errors: Vec<KrmResult>,
}

#[derive(Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // one at a time
enum Item<'a> {
    Kept(&'a Value),
    Generated(Manifest),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "Items<I>: Serialize"))]
struct ResourceList<I> {
    api_version: String,
    kind: &'static str,
    items: Items<I>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    results: Vec<KrmResult>,
}

/// A ResourceList's items, taken from the iterator as they are written:
/// the generated objects are built one at a time, never all held.
struct Items<I>(std::cell::RefCell<Option<I>>);

impl<'a, I: Iterator<Item = Item<'a>>> Serialize for Items<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.borrow_mut().take().into_iter().flatten())
    }
}

/// Runs the function on a ResourceList read from `reader` (standard
/// input), reading at most [`MAX_INPUT_BYTES`] + 1 bytes: a larger input
/// (an endless pipe, `/dev/zero`) is reported as an error result without
/// being read whole. Fails only when reading fails.
pub fn run_reader(reader: impl std::io::Read) -> std::io::Result<Outcome> {
    use std::io::Read as _;
    let mut input = Vec::new();
    reader
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut input)?;
    Ok(run(&input))
}

/// Runs the function on a ResourceList's bytes.
pub fn run(input: &[u8]) -> Outcome {
    let format = match input.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => OutputFormat::Json,
        _ => OutputFormat::Yaml,
    };
    let processed = match process(input) {
        Ok(processed) => processed,
        Err(error) => {
            let list = ResourceList {
                api_version: "config.kubernetes.io/v1".into(),
                kind: "ResourceList",
                items: Items(Some(std::iter::empty()).into()),
                results: vec![error.clone()],
            };
            return Outcome {
                output: encode(&list, format),
                errors: vec![error],
            };
        }
    };
    let output = match format {
        OutputFormat::Yaml => splice(&processed),
        OutputFormat::Json => None,
    };
    let output = output.unwrap_or_else(|| {
        let items = processed
            .items
            .iter()
            .zip(&processed.keep)
            .filter_map(|(item, keep)| keep.then_some(Item::Kept(item)))
            .chain(processed.generated().map(Item::Generated));
        let list = ResourceList {
            api_version: processed.api_version.clone(),
            kind: "ResourceList",
            items: Items(Some(items).into()),
            results: Vec::new(),
        };
        encode(&list, format)
    });
    Outcome {
        output,
        errors: Vec::new(),
    }
}

/// The input, read, and what to write back.
struct Processed<'a> {
    text: &'a str,
    api_version: String,
    items: Vec<Value>,
    /// Per item: kept, or replaced by a generated object.
    keep: Vec<bool>,
    /// What the function generates from.
    config: Config,
    /// Each generated object's file (its path annotations), in order.
    names: Vec<String>,
}

impl Processed<'_> {
    /// The generated objects, annotated, built one at a time as they are
    /// taken: 10,000 apps' objects held at once take tens of MiB.
    fn generated(&self) -> impl Iterator<Item = Manifest> + '_ {
        render::objects(&self.config)
            .zip(&self.names)
            .map(|(mut manifest, name)| {
                let annotations = manifest
                    .metadata_mut()
                    .annotations
                    .get_or_insert_with(BTreeMap::new);
                for key in PATH_ANNOTATIONS {
                    annotations.insert(key.to_owned(), name.clone());
                }
                for key in INDEX_ANNOTATIONS {
                    annotations.insert(key.to_owned(), "0".to_owned());
                }
                manifest
            })
    }
}

/// The input's own text with the generated items appended to `items` and
/// the replaced ones cut out, so that the package's items keep every byte
/// (comments, flow style, quoting: kpt copies comments back, but not
/// styles). `None` when the layout is not one this can edit safely; the
/// result is re-read and compared with what it must hold.
fn splice(processed: &Processed) -> Option<String> {
    let text = processed.text;
    let block = ItemsBlock::find(text)?;
    if block.entries.len() != processed.items.len() {
        return None;
    }
    // Room for the generated objects (about 1 KiB of text each, 20 MB at
    // 10,000 apps on the keda backend), reserved once: growing by doubling
    // copies the text each time.
    let mut out = String::with_capacity(text.len() + 1024 * processed.names.len());
    out.push_str(&text[..block.start]);
    out.push_str("items:\n");
    for (entry, keep) in block.entries.iter().zip(&processed.keep) {
        if *keep {
            out.push_str(entry);
            if !entry.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    // What the re-read must find: the package's kept items, then each
    // generated object, made a value in turn and kept as its digest.
    let mut expected: Vec<[u8; 32]> = processed
        .items
        .iter()
        .zip(&processed.keep)
        .filter(|(_, keep)| **keep)
        .map(|(item, _)| digest(item))
        .collect();
    let generated_from = out.len();
    for manifest in processed.generated() {
        let document = render::to_yaml_document(&manifest);
        for (index, line) in document.lines().enumerate() {
            if index == 0 {
                out.extend(std::iter::repeat_n(' ', block.indent));
                out.push_str("- ");
            } else if !line.is_empty() {
                out.extend(std::iter::repeat_n(' ', block.indent + 2));
            }
            out.push_str(line);
            out.push('\n');
        }
        expected.push(digest(&serde_json::to_value(&manifest).ok()?));
    }
    let generated_bytes = out.len() - generated_from;
    out.push_str(&text[block.end..]);

    // Re-read item by item, each item kept only as the digest of its
    // value: the whole output is never held as values (10,000 apps'
    // objects would take over 100 MiB).
    let reread: Reread =
        serde_saphyr::from_str_with_options(&out, reread_options(generated_bytes)).ok()?;
    (reread.items.0 == expected).then_some(out)
}

/// The reader's options for the spliced output. The package's part was
/// read under the reader's default budget; the generated part adds its
/// own events and scalars, which grow with the number of apps (10,000 apps
/// make 1.3 million events, over the default million: the splice failed
/// and fell back to a full rewrite). YAML text makes at most two events
/// per byte (`-` opens and closes a sequence around an empty entry) and no
/// more scalar bytes than it has, so the budget grows by that much: our
/// own text cannot exhaust it, the package's cannot do more than before.
fn reread_options(generated_bytes: usize) -> serde_saphyr::Options {
    let mut options = spec::strict_options(YamlLimits::MANIFESTS);
    if let Some(budget) = options.budget.as_mut() {
        budget.max_events = budget
            .max_events
            .saturating_add(generated_bytes.saturating_mul(2));
        budget.max_total_scalar_bytes = budget
            .max_total_scalar_bytes
            .saturating_add(generated_bytes);
    }
    options
}

/// A re-read ResourceList: its items' digests.
#[derive(serde::Deserialize)]
struct Reread {
    items: Digests,
}

/// The digest of each item of a sequence, taken as the item is read.
struct Digests(Vec<[u8; 32]>);

impl<'de> serde::Deserialize<'de> for Digests {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Digests;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Digests, A::Error> {
                let mut digests = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    digests.push(digest(&item));
                }
                Ok(Digests(digests))
            }
        }
        deserializer.deserialize_seq(Visit)
    }
}

/// The sha256 of a value's JSON (keys sorted: equal values, equal text;
/// the rare equal numbers written differently, such as `-0.0` and `0.0`,
/// only make the splice fall back to a full rewrite).
fn digest(value: &Value) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    /// The JSON goes straight into the hash, never held.
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    serde_json::to_writer(&mut hashing, value).expect("a value serializes");
    hashing.0.finalize().into()
}

/// The top-level `items:` block sequence of a ResourceList's text.
struct ItemsBlock<'a> {
    /// Byte range of `items:` and its entries.
    start: usize,
    end: usize,
    /// Column of the entries' `-`.
    indent: usize,
    /// Each entry's text, verbatim (comments before the first included).
    entries: Vec<&'a str>,
}

impl<'a> ItemsBlock<'a> {
    fn find(text: &'a str) -> Option<ItemsBlock<'a>> {
        let mut offset = 0;
        let mut lines = Vec::new();
        for line in text.split_inclusive('\n') {
            lines.push((offset, line));
            offset += line.len();
        }
        let at = lines.iter().position(|(_, line)| {
            line.strip_prefix("items:").is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with('#') || rest == "[]"
            })
        })?;
        let start = lines[at].0;
        let empty = lines[at].1.trim_end().ends_with("[]");
        let mut end = start + lines[at].1.len();
        let mut indent = None;
        let mut entries: Vec<(usize, usize)> = Vec::new();
        for &(offset, line) in &lines[at + 1..] {
            let trimmed = line.trim_start();
            let column = line.len() - trimmed.len();
            let blank = trimmed.is_empty() || trimmed.starts_with('#');
            let top_level_key = !blank && column == 0 && !trimmed.starts_with('-');
            if top_level_key || line.starts_with("---") || line.starts_with("...") {
                break;
            }
            if empty && !blank {
                return None;
            }
            end = offset + line.len();
            if blank {
                continue;
            }
            let is_entry = trimmed == "-\n" || trimmed == "-" || trimmed.starts_with("- ");
            match indent {
                None if is_entry => {
                    indent = Some(column);
                    entries.push((start + lines[at].1.len(), end));
                }
                None => return None,
                Some(dash) if is_entry && column == dash => entries.push((offset, end)),
                Some(dash) if column <= dash => return None,
                Some(_) => {}
            }
            if let Some(last) = entries.last_mut() {
                last.1 = end;
            }
        }
        Some(ItemsBlock {
            start,
            end,
            indent: indent.unwrap_or(0),
            entries: entries.iter().map(|&(from, to)| &text[from..to]).collect(),
        })
    }
}

fn encode<'a, I: Iterator<Item = Item<'a>>>(
    list: &ResourceList<I>,
    format: OutputFormat,
) -> String {
    match format {
        OutputFormat::Yaml => render::to_yaml_document(list),
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(list).expect("a ResourceList serializes");
            text.push('\n');
            text
        }
    }
}

fn error(field: &str, message: impl Into<String>, file: Option<&str>) -> KrmResult {
    KrmResult {
        message: message.into(),
        severity: "error",
        field: (!field.is_empty()).then(|| Field {
            path: field.to_owned(),
        }),
        file: file.map(|path| File {
            path: path.to_owned(),
        }),
    }
}

fn process(input: &[u8]) -> Result<Processed<'_>, KrmResult> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(error(
            "",
            format!(
                "the input is larger than {MAX_INPUT_BYTES} bytes, the most the function reads \
                 (a whole package); run it on a smaller package"
            ),
            None,
        ));
    }
    let text = std::str::from_utf8(input).map_err(|e| {
        error(
            "",
            format!(
                "the input is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
            None,
        )
    })?;
    let mut list: Value =
        serde_saphyr::from_str_with_options(text, spec::strict_options(YamlLimits::MANIFESTS))
            .map_err(|e| {
                let location = e
                    .location()
                    .map(|l| format!("line {} column {}: ", l.line(), l.column()))
                    .unwrap_or_default();
                error(
                    "",
                    format!(
                        "standard input is not a YAML or JSON ResourceList: {location}{}",
                        spec::clean_message(&e.without_snippet().to_string())
                    ),
                    None,
                )
            })?;
    if list["kind"] != "ResourceList" {
        return Err(error(
            "kind",
            format!(
                "standard input must be a ResourceList (config.kubernetes.io/v1), not {}",
                short(&list["kind"])
            ),
            None,
        ));
    }
    let api_version = list["apiVersion"]
        .as_str()
        .unwrap_or("config.kubernetes.io/v1")
        .to_owned();
    let items = match list["items"].take() {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        other => {
            return Err(error(
                "items",
                format!("must be a list of objects, not {}", short(&other)),
                None,
            ))
        }
    };
    let config = function_config(&list["functionConfig"])?;
    // One pass for the objects' names and identities; they are built again,
    // one at a time, when written (Processed::generated). A set: a package
    // of thousands of items against thousands of generated objects stays
    // linear.
    let mut identities = std::collections::BTreeSet::new();
    let names = gitops::file_names(render::objects(&config).inspect(|manifest| {
        identities.insert(Identity::of_manifest(manifest));
    }));
    let keep = items
        .iter()
        .map(|item| !identities.contains(&Identity::of_value(item)))
        .collect();
    Ok(Processed {
        text,
        api_version,
        items,
        keep,
        config,
        names,
    })
}

/// The functionConfig as a resolved [`Config`].
fn function_config(config: &Value) -> Result<Config, KrmResult> {
    let annotations = &config["metadata"]["annotations"];
    let file = PATH_ANNOTATIONS
        .iter()
        .find_map(|key| annotations[*key].as_str())
        .map(str::to_owned);
    let file = file.as_deref();
    let kind = config["kind"].as_str().unwrap_or_default();
    let api_version = config["apiVersion"].as_str().unwrap_or_default();
    match (kind, config) {
        (KIND, Value::Object(fields)) => {
            if api_version != API_VERSION {
                return Err(error(
                    "apiVersion",
                    format!("a {KIND} functionConfig has apiVersion {API_VERSION}, not {}", short(&config["apiVersion"])),
                    file,
                ));
            }
            if let Some(key) = fields
                .keys()
                .find(|key| !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()))
            {
                return Err(error(
                    key,
                    format!("unknown field `{key}`: a {KIND} has apiVersion, kind, metadata and spec"),
                    file,
                ));
            }
            let spec = match &config["spec"] {
                Value::Null => Value::Object(Default::default()),
                spec => spec.clone(),
            };
            // The spec reader is strict and located; it reads YAML text.
            // Lines in that text are not the user's, so only the field is
            // reported.
            let text = render::to_yaml_document(&spec);
            let origin = file.unwrap_or("functionConfig");
            let unlocated = |e: SpecError| {
                let field = if e.field.is_empty() {
                    "spec".to_owned()
                } else {
                    format!("spec.{}", e.field)
                };
                error(&field, e.kind.to_string(), file)
            };
            let spec = Spec::from_yaml(&text, origin).map_err(unlocated)?;
            Config::from_spec(spec, origin).map_err(unlocated)
        }
        ("ConfigMap", _) if api_version == "v1" => {
            let data = &config["data"];
            if let Some(key) = data
                .as_object()
                .and_then(|data| data.keys().find(|key| *key != "spec"))
            {
                return Err(error(
                    &format!("data.{key}"),
                    "unknown key: the ConfigMap holds the spec's YAML under data.spec only",
                    file,
                ));
            }
            let Some(text) = data["spec"].as_str() else {
                return Err(error(
                    "data.spec",
                    format!("missing: give the spec's YAML under data.spec, or use kind {KIND} ({API_VERSION}) with the spec under spec (kpt: --fn-config FILE)"),
                    file,
                ));
            };
            // Here the text is the user's: lines are meaningful.
            let origin = "data.spec";
            let located = |e: SpecError| {
                let mut message = String::new();
                if let Some(line) = e.line {
                    message.push_str(&format!("line {line}: "));
                }
                if !e.field.is_empty() {
                    message.push_str(&format!("{}: ", e.field));
                }
                message.push_str(&e.kind.to_string());
                error("data.spec", message, file)
            };
            let spec = Spec::from_bytes(text.as_bytes(), origin).map_err(located)?;
            Config::from_spec(spec, origin).map_err(located)
        }
        (_, Value::Null) => Err(error(
            "functionConfig",
            format!("missing: give a {KIND} ({API_VERSION}) with the spec under spec (kpt: --fn-config FILE)"),
            None,
        )),
        _ => Err(error(
            "kind",
            format!(
                "the functionConfig must be a {KIND} ({API_VERSION}) or a v1 ConfigMap, not {} {}",
                short(&config["apiVersion"]),
                short(&config["kind"])
            ),
            file,
        )),
    }
}

/// What makes two objects the same object to Kubernetes.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Identity {
    group: String,
    kind: String,
    namespace: String,
    name: String,
}

impl Identity {
    fn group(api_version: &str) -> String {
        api_version
            .rsplit_once('/')
            .map(|(group, _)| group.to_owned())
            .unwrap_or_default()
    }

    fn of_manifest(manifest: &Manifest) -> Identity {
        Identity {
            group: Identity::group(manifest.api_version()),
            kind: manifest.kind().to_owned(),
            namespace: manifest.namespace().unwrap_or_default().to_owned(),
            name: manifest.name().to_owned(),
        }
    }

    fn of_value(item: &Value) -> Identity {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        Identity {
            group: Identity::group(item["apiVersion"].as_str().unwrap_or_default()),
            kind: text(&item["kind"]),
            namespace: text(&item["metadata"]["namespace"]),
            name: text(&item["metadata"]["name"]),
        }
    }
}

fn short(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::String(s) => format!("`{s}`"),
        other => {
            let text = other.to_string();
            if text.chars().count() > 60 {
                format!("{}...", text.chars().take(57).collect::<String>())
            } else {
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "functionConfig:\n  apiVersion: custom-metrics-manifests/v1alpha1\n  kind: CustomMetrics\n  metadata: {name: m}\n  spec:\n    apps: [{name: api, namespace: shop, targetAverageValue: '10', maxReplicas: 3}]\n";

    fn items(output: &str) -> Vec<Value> {
        let list: Value = serde_saphyr::from_str(output).unwrap();
        list["items"].as_array().unwrap().clone()
    }

    /// How many objects CONFIG generates into an empty package.
    fn generated() -> usize {
        let input =
            format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n{CONFIG}");
        items(&run(input.as_bytes()).output).len()
    }

    #[test]
    fn package_items_keep_their_bytes_in_either_sequence_indentation() {
        for dash in ["", "  "] {
            let own = format!("{dash}# mine\n{dash}- apiVersion: v1\n{dash}  kind: ConfigMap # note\n{dash}  metadata: {{name: own, namespace: shop}}\n{dash}  data: {{b: 'x', a: \"y\"}}\n");
            let input = format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{own}{CONFIG}"
            );
            let outcome = run(input.as_bytes());
            assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
            assert!(outcome.output.contains(&own), "{}", outcome.output);
            assert!(outcome.output.ends_with(CONFIG), "the rest stays as it was");
            assert_eq!(items(&outcome.output).len(), 1 + generated());
        }
    }

    #[test]
    fn an_item_with_a_generated_identity_is_replaced_once() {
        let hpa = "- apiVersion: autoscaling/v2\n  kind: HorizontalPodAutoscaler\n  metadata: {name: api, namespace: shop}\n  spec: {}\n";
        let input = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{hpa}{CONFIG}"
        );
        let output = run(input.as_bytes()).output;
        assert!(!output.contains(hpa));
        let hpas = items(&output)
            .into_iter()
            .filter(|item| item["kind"] == "HorizontalPodAutoscaler")
            .count();
        assert_eq!(hpas, 1);
        // And the output, fed back in, comes out the same.
        assert_eq!(run(output.as_bytes()).output, output);
    }

    #[test]
    fn flow_style_items_are_rewritten_not_spliced() {
        let input = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: own}}}}]\n{CONFIG}");
        let outcome = run(input.as_bytes());
        assert!(outcome.errors.is_empty());
        let items = items(&outcome.output);
        assert_eq!(items[0]["metadata"]["name"], "own");
        assert_eq!(items.len(), 1 + generated());
    }
}
