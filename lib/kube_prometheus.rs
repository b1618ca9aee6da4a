//! kube-prometheus integration: the `prometheus-k8s` Role and RoleBinding
//! items for app namespaces (`gen-manifests roles`), and patching a
//! kube-prometheus checkout's `manifests/` in place (`gen-manifests roles
//! --patch DIR`).
//!
//! kube-prometheus keeps Prometheus' namespace access in two list files,
//! [`ROLE_BINDINGS_FILE`] and [`ROLES_FILE`], one item per namespace. Users
//! append items by hand and get the indentation wrong; [`plan_patch`]
//! appends the missing items as text, leaving every existing byte where it
//! was, and copies the new items' rules, labels and subjects from the
//! file's own items, because those differ between kube-prometheus releases.
//!
//! ```
//! use custom_metrics_manifests::{kube_prometheus, render, Config, Preset, Prometheus, Stack};
//!
//! // Two list files in the layout `gen-manifests roles` writes, for `default`.
//! let temp = tempfile::tempdir().unwrap();
//! let dir = temp.path();
//! let prometheus = Prometheus::new(
//!     Stack::KubePrometheus,
//!     "monitoring".parse().unwrap(),
//!     "prometheus-k8s".parse().unwrap(),
//!     ["default".parse().unwrap()],
//! );
//! let bindings = kube_prometheus::role_binding_list(&prometheus);
//! let roles = kube_prometheus::role_list(&prometheus);
//! std::fs::write(dir.join(kube_prometheus::ROLE_BINDINGS_FILE), render::to_yaml_document(&bindings)).unwrap();
//! std::fs::write(dir.join(kube_prometheus::ROLES_FILE), render::to_yaml_document(&roles)).unwrap();
//!
//! let config = kube_prometheus::roles_config(Config::from_preset(Preset::Documented), &["my-app".into()]).unwrap();
//! let patch = kube_prometheus::plan_patch(&dir, &config).unwrap();
//! assert!(patch.changed());
//! assert_eq!(patch.roles.added, ["my-app"]);
//! assert!(patch.diff().contains("+    namespace: my-app\n"));
//! patch.apply().unwrap();
//!
//! // A second run finds nothing to do.
//! assert!(!kube_prometheus::plan_patch(&dir, &config).unwrap().changed());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{List, ListableResource, Metadata};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Prometheus};
use crate::values::Name;
use crate::{output, rbac, render, spec, Error};

/// kube-prometheus' `RoleBindingList` of Prometheus' per-namespace bindings,
/// in its `manifests/` directory.
pub const ROLE_BINDINGS_FILE: &str = "prometheus-roleBindingSpecificNamespaces.yaml";

/// kube-prometheus' `RoleList` of Prometheus' per-namespace Roles, in its
/// `manifests/` directory.
pub const ROLES_FILE: &str = "prometheus-roleSpecificNamespaces.yaml";

pub use crate::error::{PatchError, RolesError};

/// `config` with Prometheus' namespaces replaced by `namespaces`, each
/// checked as a DNS-1123 label; repeats are dropped.
pub fn roles_config(mut config: Config, namespaces: &[String]) -> Result<Config, Error> {
    if !config.prometheus.facts.namespace_roles {
        let why = match config.prometheus.stack {
            crate::spec::Stack::Operator => {
                "your own Prometheus' RBAC is yours to grant (the operator's example binds a ClusterRole)"
            }
            _ => "its Prometheus reads every namespace through the chart's ClusterRole",
        };
        return Err(RolesError::NoNamespaceRoles {
            stack: config.prometheus.stack,
            why,
        }
        .into());
    }
    let mut names: Vec<Name> = Vec::new();
    for namespace in namespaces {
        let name: Name = namespace.parse().map_err(RolesError::Namespace)?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    config.prometheus.namespaces = names;
    Ok(config)
}

/// The planned edit of one list file: its text before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePatch {
    /// The file.
    pub path: PathBuf,
    /// Its contents as read.
    pub original: String,
    /// Its contents with the missing items appended; equal to `original`
    /// when nothing is missing.
    pub patched: String,
    /// The namespaces whose items are appended, in order.
    pub added: Vec<String>,
}

impl FilePatch {
    /// Whether the file needs writing.
    pub fn changed(&self) -> bool {
        self.original != self.patched
    }

    /// A unified diff from `original` to `patched`, empty when unchanged.
    pub fn diff(&self) -> String {
        unified_diff(
            &self.path.display().to_string(),
            &self.original,
            &self.patched,
        )
    }
}

/// The planned edit of both kube-prometheus files, made by [`plan_patch`];
/// nothing is written until [`Patch::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// The `RoleBindingList` file ([`ROLE_BINDINGS_FILE`]).
    pub role_bindings: FilePatch,
    /// The `RoleList` file ([`ROLES_FILE`]).
    pub roles: FilePatch,
}

impl Patch {
    /// Both files, bindings first.
    pub fn files(&self) -> [&FilePatch; 2] {
        [&self.role_bindings, &self.roles]
    }

    /// Whether either file needs writing.
    pub fn changed(&self) -> bool {
        self.files().iter().any(|file| file.changed())
    }

    /// Unified diffs of both files, concatenated; empty when unchanged.
    pub fn diff(&self) -> String {
        self.files().iter().map(|file| file.diff()).collect()
    }

    /// Writes the changed files, both or neither, so that a failure never
    /// leaves a Role without its binding: on any failure both files have
    /// their previous bytes. Unchanged files are not touched, so a second
    /// run writes nothing.
    pub fn apply(&self) -> Result<(), Error> {
        self.transaction().commit()?;
        Ok(())
    }

    /// The transaction [`Patch::apply`] commits: the changed files.
    pub fn transaction(&self) -> output::Transaction<'static> {
        let mut transaction = output::Transaction::new();
        for file in self.files().into_iter().filter(|file| file.changed()) {
            transaction.write(&file.path, file.patched.clone().into_bytes());
        }
        transaction
    }
}

/// Plans appending an item for each of `config.prometheus().namespaces()` to
/// both list files in `dir` (a kube-prometheus `manifests/` directory).
///
/// Both files are read and checked before anything is planned, so an
/// error in either leaves both untouched.
pub fn plan_patch(dir: &Path, config: &Config) -> Result<Patch, Error> {
    let prometheus = &config.prometheus;
    Ok(Patch {
        role_bindings: plan_file::<RoleBinding>(&dir.join(ROLE_BINDINGS_FILE), prometheus)?,
        roles: plan_file::<Role>(&dir.join(ROLES_FILE), prometheus)?,
    })
}

/// `roles --patch DIR`: plans and applies the patch under the directory's
/// lock ([`output::DirLock`]), so that concurrent runs each see the other's
/// items and none is lost; `inputs` (the spec) are never written. With
/// `check`, nothing is written (a shared lock). Returns the patch planned.
pub fn patch_in_place(
    dir: &Path,
    config: &Config,
    inputs: &[&Path],
    check: bool,
) -> Result<Patch, Error> {
    let _lock = if check {
        output::DirLock::shared(dir)?
    } else {
        output::DirLock::exclusive(dir)?
    };
    let patch = plan_patch(dir, config)?;
    if !check {
        let mut transaction = patch.transaction();
        for input in inputs {
            transaction.protect(input);
        }
        transaction.commit()?;
    }
    Ok(patch)
}

/// What the patcher needs of an item type beyond (de)serialization.
trait Item: Serialize + DeserializeOwned + ListableResource + Metadata<Ty = ObjectMeta> {
    /// The guide's item, for a file that has none to copy from.
    fn fallback(prometheus: &Prometheus, namespace: &str) -> Self;

    /// A copy of `self` for `namespace`: the name, labels and the
    /// type's own fields, nothing else of the metadata.
    fn for_namespace(&self, namespace: &str) -> Self;

    /// The first field, besides the name and labels, in which `self` and
    /// `other` differ.
    fn differing_field(&self, other: &Self) -> Option<&'static str>;
}

impl Item for Role {
    fn fallback(prometheus: &Prometheus, namespace: &str) -> Self {
        rbac::prometheus_role(prometheus, namespace)
    }

    fn for_namespace(&self, namespace: &str) -> Self {
        Role {
            metadata: copy_metadata(&self.metadata, namespace),
            rules: self.rules.clone(),
        }
    }

    fn differing_field(&self, other: &Self) -> Option<&'static str> {
        (self.rules != other.rules).then_some("rules")
    }
}

impl Item for RoleBinding {
    fn fallback(prometheus: &Prometheus, namespace: &str) -> Self {
        rbac::prometheus_role_binding(prometheus, namespace)
    }

    fn for_namespace(&self, namespace: &str) -> Self {
        RoleBinding {
            metadata: copy_metadata(&self.metadata, namespace),
            role_ref: self.role_ref.clone(),
            subjects: self.subjects.clone(),
        }
    }

    fn differing_field(&self, other: &Self) -> Option<&'static str> {
        if self.role_ref != other.role_ref {
            Some("roleRef")
        } else if self.subjects != other.subjects {
            Some("subjects")
        } else {
            None
        }
    }
}

/// The name and labels of `metadata` in `namespace`.
fn copy_metadata(metadata: &ObjectMeta, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: metadata.name.clone(),
        namespace: Some(namespace.to_owned()),
        labels: metadata.labels.clone(),
        ..ObjectMeta::default()
    }
}

/// The first field in which two items differ: name, labels, then the
/// type's own fields.
fn item_difference<T: Item>(first: &T, other: &T) -> Option<&'static str> {
    if first.metadata().name != other.metadata().name {
        Some("metadata.name")
    } else if first.metadata().labels != other.metadata().labels {
        Some("metadata.labels")
    } else {
        first.differing_field(other)
    }
}

/// The top-level keys read before the typed parse, so that a ConfigMap is
/// reported as "not a RoleList" rather than as a field error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    api_version: Option<String>,
    kind: Option<String>,
}

/// Reads, checks and plans one list file.
fn plan_file<T: Item>(path: &Path, prometheus: &Prometheus) -> Result<FilePatch, Error> {
    let bytes =
        spec::read_bounded(path, crate::spec::MAX_SPEC_BYTES).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
    let origin = path.display().to_string();
    let text = spec::checked_text_of(&bytes, &origin, "kube-prometheus list files")?;
    let list = parse_list::<T>(path, text)?;
    let layout = ItemsLayout::find(path, text, list.items.len())?;
    let template = agreed_template(path, &list.items, &layout)?;

    let present: Vec<&str> = list
        .items
        .iter()
        .filter_map(|item| item.metadata().namespace.as_deref())
        .collect();
    let added: Vec<String> = prometheus
        .namespaces
        .iter()
        .map(Name::as_str)
        .filter(|namespace| !present.contains(namespace))
        .map(str::to_owned)
        .collect();
    let new_items: Vec<T> = added
        .iter()
        .map(|namespace| match template {
            Some(template) => template.for_namespace(namespace),
            None => T::fallback(prometheus, namespace),
        })
        .collect();
    let patched = if new_items.is_empty() {
        text.to_owned()
    } else {
        let items_text: String = new_items
            .iter()
            .map(|item| item_text(item, layout.indent, text))
            .collect();
        layout.insert(text, &items_text)
    };
    Ok(FilePatch {
        path: path.to_owned(),
        original: text.to_owned(),
        patched,
        added,
    })
}

/// Parses `text` as a `List<T>`, refusing any other kind first.
fn parse_list<T: Item>(path: &Path, text: &str) -> Result<List<T>, Error> {
    let origin = path.display().to_string();
    let header: Header = spec::read_yaml(text, &origin)?;
    let expected_kind = T::LIST_KIND;
    let expected_version = T::API_VERSION;
    match (header.kind.as_deref(), header.api_version.as_deref()) {
        (Some(kind), Some(version)) if kind == expected_kind && version == expected_version => {}
        (kind, version) => {
            return Err(PatchError::NotAList {
                path: path.to_owned(),
                kind: kind.map(str::to_owned),
                api_version: version.map(str::to_owned),
                expected_kind,
                expected_version,
            }
            .into())
        }
    }
    Ok(spec::read_yaml(text, &origin)?)
}

/// The item the new ones are copied from, after checking that every item
/// agrees with the first; `None` when the file has no items.
fn agreed_template<'a, T: Item>(
    path: &Path,
    items: &'a [T],
    layout: &ItemsLayout,
) -> Result<Option<&'a T>, Error> {
    let Some(first) = items.first() else {
        return Ok(None);
    };
    let namespace = |item: &T| {
        item.metadata()
            .namespace
            .clone()
            .unwrap_or_else(|| "(none)".to_owned())
    };
    for (index, item) in items.iter().enumerate().skip(1) {
        if let Some(field) = item_difference(first, item) {
            return Err(PatchError::Disagree {
                path: path.to_owned(),
                first: (namespace(first), layout.item_lines[0]),
                other: (namespace(item), layout.item_lines[index]),
                field,
            }
            .into());
        }
    }
    Ok(Some(first))
}

/// Where the items of a list file are in its text.
#[derive(Debug)]
struct ItemsLayout {
    /// Byte range of the `items:` line, newline included.
    key_line: std::ops::Range<usize>,
    /// Whether the `items:` line holds a value (`items: []`), which must be
    /// rewritten as a block key before items can follow it.
    inline_value: bool,
    /// Column of the items' `- ` markers.
    indent: usize,
    /// 1-based line of each item's `- ` marker.
    item_lines: Vec<usize>,
    /// Byte offset just past the last item's last line: where new items go.
    end: usize,
}

impl ItemsLayout {
    /// Finds the block sequence under the top-level `items:` key, and checks
    /// that it holds exactly the `count` items the parser saw.
    fn find(path: &Path, text: &str, count: usize) -> Result<ItemsLayout, Error> {
        let lines = lines_with_offsets(text);
        let keys: Vec<usize> = (0..lines.len())
            .filter(|&index| lines[index].1.starts_with("items:"))
            .collect();
        let [key] = keys[..] else {
            return Err(PatchError::ItemsKeys {
                path: path.to_owned(),
                found: keys.len(),
            }
            .into());
        };
        let (key_start, key_text) = lines[key];
        let value = strip_comment(&key_text["items:".len()..]).trim();
        let mut layout = ItemsLayout {
            key_line: key_start..key_start + key_text.len(),
            inline_value: !value.is_empty(),
            indent: 0,
            item_lines: Vec::new(),
            end: key_start + key_text.len(),
        };
        for (index, &(start, line)) in lines.iter().enumerate().skip(key + 1) {
            let content = line.trim_end_matches(['\n', '\r']);
            let trimmed = content.trim_start();
            let column = content.len() - trimmed.len();
            if trimmed.is_empty() || (column == 0 && trimmed.starts_with('#')) {
                continue;
            }
            let is_marker = trimmed == "-" || trimmed.starts_with("- ");
            if column == 0 && !is_marker {
                break;
            }
            if layout.item_lines.is_empty() && is_marker {
                layout.indent = column;
            }
            if is_marker && column == layout.indent {
                layout.item_lines.push(index + 1);
            }
            layout.end = start + line.len();
        }
        if layout.item_lines.len() != count || (layout.inline_value && count > 0) {
            return Err(PatchError::ItemLines {
                path: path.to_owned(),
                line: key + 1,
                parsed: count,
                found: layout.item_lines.len(),
            }
            .into());
        }
        Ok(layout)
    }

    /// `text` with `items` (already indented) after the last item.
    fn insert(&self, text: &str, items: &str) -> String {
        let mut out = String::with_capacity(text.len() + items.len() + 1);
        if self.inline_value {
            out.push_str(&text[..self.key_line.start]);
            out.push_str("items:\n");
            out.push_str(items);
            out.push_str(&text[self.key_line.end..]);
            return out;
        }
        out.push_str(&text[..self.end]);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(items);
        out.push_str(&text[self.end..]);
        out
    }
}

/// Each line of `text` with its byte offset, newlines kept.
fn lines_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n')
        .map(|line| {
            let start = offset;
            offset += line.len();
            (start, line)
        })
        .collect()
}

/// `value` without a trailing ` # comment`.
fn strip_comment(value: &str) -> &str {
    match value.find(" #") {
        Some(at) => &value[..at],
        None => value.trim_end_matches(['\n', '\r']),
    }
}

/// One item as list-item text: the object serialized alone, its first line
/// after `- ` at `indent`, the rest two columns further in, which is how
/// kube-prometheus (and `kubectl`) lay out list items.
///
/// The crate's writer quotes anything a YAML 1.1 reader could take for a
/// non-string (`"2.54.1"` looks like a float to the 1.1 grammar);
/// kube-prometheus writes such a label plain. A plain line is used where
/// the file already holds that exact line, so the new items look like their
/// neighbours, and the quoted one everywhere else.
fn item_text<T: Serialize>(item: &T, indent: usize, original: &str) -> String {
    let quoted = render::to_yaml_document(item);
    let plain = serde_saphyr::to_string_with_options(item, plain_options())
        .unwrap_or_else(|_| quoted.clone());
    let known: BTreeSet<&str> = original.lines().collect();
    let lines: Vec<&str> = if quoted.lines().count() == plain.lines().count() {
        quoted
            .lines()
            .zip(plain.lines())
            .enumerate()
            .map(|(index, (quoted, plain))| {
                let prefixed = |line: &str| item_line(line, index, indent);
                if quoted != plain && known.contains(prefixed(plain).as_str()) {
                    plain
                } else {
                    quoted
                }
            })
            .collect()
    } else {
        quoted.lines().collect()
    };
    let mut out = String::new();
    for (index, line) in lines.iter().enumerate() {
        out.push_str(&item_line(line, index, indent));
        out.push('\n');
    }
    out
}

/// Line `index` of an item's document, placed under its `- ` marker.
fn item_line(line: &str, index: usize, indent: usize) -> String {
    let pad = " ".repeat(indent);
    if index == 0 {
        format!("{pad}- {line}")
    } else if line.is_empty() {
        String::new()
    } else {
        format!("{pad}  {line}")
    }
}

/// The crate's writer options with YAML 1.2 quoting rules: only what a
/// YAML 1.2 reader would misread is quoted.
fn plain_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        prefer_block_scalars: true,
        folded_wrap_chars: usize::MAX,
        yaml_12: true,
        no_lang_directive: true,
    }
}

/// A unified diff with three lines of context. The patcher only ever
/// inserts one run of lines (or rewrites `items: []`), so the single hunk
/// between the common prefix and suffix is the minimal diff.
fn unified_diff(label: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let room = old_lines.len().min(new_lines.len()) - prefix;
    let suffix = old_lines
        .iter()
        .rev()
        .zip(new_lines.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let context = 3;
    let start = prefix.saturating_sub(context);
    let after = suffix.min(context);
    let old_end = old_lines.len() - suffix;
    let new_end = new_lines.len() - suffix;
    let range = |count: usize| match count {
        0 => format!("{start},0"),
        _ => format!("{},{count}", start + 1),
    };
    let mut out = format!("--- {label}\n+++ {label}\n");
    let _ = writeln!(
        out,
        "@@ -{} +{} @@",
        range(old_end + after - start),
        range(new_end + after - start)
    );
    let mut push = |marker: char, line: &str| {
        out.push(marker);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    };
    old_lines[start..prefix]
        .iter()
        .for_each(|line| push(' ', line));
    old_lines[prefix..old_end]
        .iter()
        .for_each(|line| push('-', line));
    new_lines[prefix..new_end]
        .iter()
        .for_each(|line| push('+', line));
    old_lines[old_end..old_end + after]
        .iter()
        .for_each(|line| push(' ', line));
    out
}

/// The `RoleBindingList` of [`ROLE_BINDINGS_FILE`], one item per namespace
/// (the layout `gen-manifests roles` writes).
pub fn role_binding_list(prometheus: &Prometheus) -> k8s_openapi::List<RoleBinding> {
    k8s_openapi::List {
        items: prometheus
            .namespaces
            .iter()
            .map(|namespace| rbac::prometheus_role_binding(prometheus, namespace.as_str()))
            .collect(),
        metadata: Default::default(),
    }
}

/// The `RoleList` of [`ROLES_FILE`], one item per namespace.
pub fn role_list(prometheus: &Prometheus) -> k8s_openapi::List<Role> {
    k8s_openapi::List {
        items: prometheus
            .namespaces
            .iter()
            .map(|namespace| rbac::prometheus_role(prometheus, namespace.as_str()))
            .collect(),
        metadata: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each refusal is its own variant, with the file and the line.
    #[test]
    fn refusals_are_typed() {
        let path = Path::new("roles.yaml");
        let patch_error = |error: Error| match error {
            Error::Patch(error) => error,
            other => panic!("{other}"),
        };
        let error = patch_error(ItemsLayout::find(path, "kind: RoleList\n", 0).unwrap_err());
        assert_eq!(
            error,
            PatchError::ItemsKeys {
                path: path.into(),
                found: 0
            }
        );
        assert!(error
            .to_string()
            .starts_with("roles.yaml: expected one top-level"));
        let flow = "kind: RoleList\nitems: [{a: 1}]\n";
        let error = patch_error(ItemsLayout::find(path, flow, 1).unwrap_err());
        assert_eq!(
            error,
            PatchError::ItemLines {
                path: path.into(),
                line: 2,
                parsed: 1,
                found: 0
            }
        );
        assert!(error
            .to_string()
            .contains("line 2: the parser found 1 items but 0"));
        let error = patch_error(parse_list::<Role>(path, "apiVersion: v1\n").unwrap_err());
        assert_eq!(
            error.to_string(),
            "roles.yaml: the file has no `kind`, not a RoleList (rbac.authorization.k8s.io/v1); \
             is this the right file?"
        );
    }

    #[test]
    fn diff_of_an_insertion() {
        let diff = unified_diff("f", "a\nb\nc\nd\ne\n", "a\nb\nc\nX\nd\ne\n");
        assert_eq!(
            diff,
            "--- f\n+++ f\n@@ -1,5 +1,6 @@\n a\n b\n c\n+X\n d\n e\n"
        );
        assert_eq!(unified_diff("f", "a\n", "a\n"), "");
        assert_eq!(
            unified_diff("f", "", "a\n"),
            "--- f\n+++ f\n@@ -0,0 +1,1 @@\n+a\n"
        );
    }

    #[test]
    fn items_layout_under_a_block_key() {
        let text = "apiVersion: v1\nitems:\n- a: 1\n  b:\n  - c\n# note\n- a: 2\nkind: RoleList\n";
        let layout = ItemsLayout::find(Path::new("f"), text, 2).unwrap();
        assert_eq!(layout.item_lines, [3, 7]);
        assert_eq!(&text[layout.end..], "kind: RoleList\n");
        assert!(ItemsLayout::find(Path::new("f"), text, 3).is_err());
        let empty =
            ItemsLayout::find(Path::new("f"), "items: [] # none\nkind: RoleList\n", 0).unwrap();
        assert!(empty.inline_value);
        assert_eq!(
            empty.insert("items: [] # none\nkind: RoleList\n", "- x\n"),
            "items:\n- x\nkind: RoleList\n"
        );
    }
}
