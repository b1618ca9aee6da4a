//! `gen-manifests roles --patch DIR`: editing a kube-prometheus checkout's
//! two list files in place. Every test works on its own copy of a fixture
//! directory under `fixtures/kube-prometheus/`, removed when it ends.

mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use custom_metrics_manifests::{kube_prometheus, Config, Preset};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::List;

const FILES: [&str; 2] = [
    kube_prometheus::ROLE_BINDINGS_FILE,
    kube_prometheus::ROLES_FILE,
];

/// A copy of `fixtures/kube-prometheus/<fixture>`, removed on drop (also
/// when the test fails).
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(fixture: &str) -> Scratch {
        // Tests run in parallel and several copy the same fixture.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = fixture.replace('/', "-");
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "gen-manifests-patch-{name}-{}-{serial}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let source = Path::new(ROOT)
            .join("fixtures/kube-prometheus")
            .join(fixture);
        for entry in fs::read_dir(&source).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        Scratch { dir }
    }

    fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// Both files' bytes (`None` for a missing one) and the directory's
    /// listing, to prove nothing was written, not even a temporary file.
    fn state(&self) -> (Vec<Option<Vec<u8>>>, Vec<String>) {
        let files = FILES
            .iter()
            .map(|name| fs::read(self.dir.join(name)).ok())
            .collect();
        let mut listing: Vec<String> = fs::read_dir(&self.dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        listing.sort();
        (files, listing)
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name)).unwrap()
    }

    /// `text` with this directory's path replaced, for snapshots.
    fn redact(&self, text: &str) -> String {
        text.replace(self.path(), "<dir>")
    }

    fn roles(&self, namespaces: &[&str], extra: &[&str]) -> Output {
        let mut args = vec!["roles"];
        for namespace in namespaces {
            args.extend(["--namespace", namespace]);
        }
        args.extend(["--patch", self.path()]);
        args.extend(extra);
        Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
            .args(&args)
            .current_dir(ROOT)
            .output()
            .expect("gen-manifests runs")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Asserts that `patched` is `original` with one run of lines inserted:
/// a diff shows added lines only, every original line kept, in order.
fn assert_only_added(original: &str, patched: &str) {
    let old: Vec<&str> = original.lines().collect();
    let new: Vec<&str> = patched.lines().collect();
    assert!(new.len() > old.len(), "nothing added");
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old.len() - prefix;
    assert_eq!(&new[..prefix], &old[..prefix]);
    assert_eq!(
        &new[new.len() - suffix..],
        &old[prefix..],
        "the lines after the insertion moved or changed"
    );
    assert!(patched.ends_with('\n'));
}

fn namespaces<
    T: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
>(
    items: &[T],
) -> Vec<String> {
    items
        .iter()
        .map(|item| item.metadata().namespace.clone().unwrap())
        .collect()
}

fn parse_roles(text: &str) -> List<Role> {
    serde_saphyr::from_str(text).expect("the patched file is a RoleList")
}

fn parse_bindings(text: &str) -> List<RoleBinding> {
    serde_saphyr::from_str(text).expect("the patched file is a RoleBindingList")
}

fn resources(role: &Role) -> Vec<String> {
    role.rules
        .iter()
        .flatten()
        .flat_map(|rule| rule.resources.clone().unwrap_or_default())
        .collect()
}

#[test]
fn releases_patch_by_appending_and_a_second_run_changes_nothing() {
    for (release, version, granted, not_granted) in [
        ("release-0.12", "2.41.0", "endpoints", "endpointslices"),
        ("release-0.14", "2.54.1", "endpointslices", "endpoints"),
    ] {
        let scratch = Scratch::new(release);
        let (before, _) = scratch.state();
        // `default` is already there: only my-app and shop are added.
        let output = scratch.roles(&["my-app", "default", "shop"], &[]);
        assert_exit(&output, 0);
        let (once, _) = scratch.state();
        for (original, patched) in before.iter().zip(&once) {
            assert_only_added(
                &text(original.as_ref().unwrap()),
                &text(patched.as_ref().unwrap()),
            );
        }

        let again = scratch.roles(&["my-app", "default", "shop"], &[]);
        assert_exit(&again, 0);
        assert_eq!(
            scratch.state().0,
            once,
            "{release}: the second run changed a byte"
        );
        assert_eq!(
            scratch.redact(&text(&again.stdout)),
            format!(
                "<dir>/{}: unchanged\n<dir>/{}: unchanged\n",
                FILES[0], FILES[1]
            )
        );

        let roles = parse_roles(&scratch.read(kube_prometheus::ROLES_FILE));
        let expected = ["default", "kube-system", "monitoring", "my-app", "shop"];
        assert_eq!(namespaces(&roles.items), expected);
        for role in &roles.items[3..] {
            assert_eq!(
                role.rules, roles.items[0].rules,
                "{release}: the release's own rules"
            );
            assert!(
                resources(role).iter().any(|r| r == granted),
                "{release}: {granted}"
            );
            assert!(
                !resources(role).iter().any(|r| r == not_granted),
                "{release}: {not_granted}"
            );
            let labels = role.metadata.labels.as_ref().unwrap();
            assert_eq!(labels["app.kubernetes.io/version"], version);
        }
        let bindings = parse_bindings(&scratch.read(kube_prometheus::ROLE_BINDINGS_FILE));
        assert_eq!(namespaces(&bindings.items), expected);
        for binding in &bindings.items[3..] {
            assert_eq!(binding.role_ref, bindings.items[0].role_ref);
            assert_eq!(binding.subjects, bindings.items[0].subjects);
            assert_eq!(binding.metadata.labels, bindings.items[0].metadata.labels);
        }

        settings().bind(|| {
            insta::assert_snapshot!(
                format!("patch-{release}-rolebindings"),
                scratch.read(kube_prometheus::ROLE_BINDINGS_FILE)
            );
            insta::assert_snapshot!(
                format!("patch-{release}-roles"),
                scratch.read(kube_prometheus::ROLES_FILE)
            );
            insta::assert_snapshot!(
                format!("patch-{release}-report"),
                scratch.redact(&text(&output.stdout))
            );
        });
    }
}

#[test]
fn other_layouts_patch_too() {
    // `kind:` before `items:` (what `gen-manifests roles` prints), and a file
    // without items, which falls back to the guide's objects.
    for fixture in ["kind-first", "empty-items"] {
        let scratch = Scratch::new(fixture);
        let (before, _) = scratch.state();
        assert_exit(&scratch.roles(&["my-app"], &[]), 0);
        let (once, _) = scratch.state();
        if fixture == "kind-first" {
            for (original, patched) in before.iter().zip(&once) {
                assert_only_added(
                    &text(original.as_ref().unwrap()),
                    &text(patched.as_ref().unwrap()),
                );
            }
        }
        assert_exit(&scratch.roles(&["my-app"], &[]), 0);
        assert_eq!(
            scratch.state().0,
            once,
            "{fixture}: the second run changed a byte"
        );

        let roles = parse_roles(&scratch.read(kube_prometheus::ROLES_FILE));
        assert_eq!(namespaces(&roles.items).last().unwrap(), "my-app");
        let bindings = parse_bindings(&scratch.read(kube_prometheus::ROLE_BINDINGS_FILE));
        assert_eq!(namespaces(&bindings.items).last().unwrap(), "my-app");
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("patch-{fixture}-roles"),
                scratch.read(kube_prometheus::ROLES_FILE)
            );
            insta::assert_snapshot!(
                format!("patch-{fixture}-rolebindings"),
                scratch.read(kube_prometheus::ROLE_BINDINGS_FILE)
            );
        });
    }
}

#[test]
fn check_exits_1_then_0_around_a_patch_and_writes_nothing() {
    let scratch = Scratch::new("release-0.14");
    let before = scratch.state();
    let check = scratch.roles(&["my-app"], &["--check"]);
    assert_exit(&check, 1);
    assert_eq!(scratch.state(), before, "--check wrote something");
    assert!(check.stderr.is_empty());

    // The printed diff is exactly the library's, and what the patch does.
    let config =
        kube_prometheus::roles_config(Config::from_preset(Preset::Documented), &["my-app".into()])
            .unwrap();
    let patch = kube_prometheus::plan_patch(&scratch.dir, &config).unwrap();
    assert_eq!(text(&check.stdout), patch.diff());
    assert_eq!(patch.roles.added, ["my-app"]);
    assert_eq!(patch.role_bindings.added, ["my-app"]);

    assert_exit(&scratch.roles(&["my-app"], &[]), 0);
    assert_eq!(
        scratch.read(kube_prometheus::ROLES_FILE),
        patch.roles.patched
    );
    assert_eq!(
        scratch.read(kube_prometheus::ROLE_BINDINGS_FILE),
        patch.role_bindings.patched
    );
    let after = scratch.state();
    let recheck = scratch.roles(&["my-app"], &["--check"]);
    assert_exit(&recheck, 0);
    assert!(recheck.stdout.is_empty());
    assert_eq!(scratch.state(), after);

    settings().bind(|| {
        insta::assert_snapshot!("patch-check-diff", scratch.redact(&text(&check.stdout)));
    });
}

#[test]
fn bad_inputs_exit_2_name_the_file_and_write_nothing() {
    // (snapshot name, fixture, what the message must name, namespaces)
    let cases: [(&str, &str, &str, &[&str]); 5] = [
        (
            "not-a-list",
            "bad/not-a-list",
            kube_prometheus::ROLES_FILE,
            &["my-app"],
        ),
        (
            "disagreeing-items",
            "bad/disagreeing-items",
            kube_prometheus::ROLES_FILE,
            &["my-app"],
        ),
        (
            "missing-file",
            "bad/missing-file",
            kube_prometheus::ROLES_FILE,
            &["my-app"],
        ),
        (
            "malformed-yaml",
            "bad/malformed-yaml",
            kube_prometheus::ROLES_FILE,
            &["my-app"],
        ),
        (
            "invalid-namespace",
            "release-0.14",
            "--namespace",
            &["my-app", "Not_A_Namespace"],
        ),
    ];
    for (case, fixture, named, namespaces) in cases {
        let scratch = Scratch::new(fixture);
        let before = scratch.state();
        for extra in [&[][..], &["--check"]] {
            let output = scratch.roles(namespaces, extra);
            assert_exit(&output, 2);
            assert!(output.stdout.is_empty(), "{fixture}: nothing on stdout");
            assert_eq!(scratch.state(), before, "{fixture}: a file changed");
            let stderr = scratch.redact(&text(&output.stderr));
            assert!(stderr.starts_with("error: "), "{stderr}");
            assert!(
                stderr.contains(named),
                "{fixture}: the message names {named}: {stderr}"
            );
            if extra.is_empty() {
                settings().bind(|| insta::assert_snapshot!(format!("patch-error-{case}"), stderr));
            }
        }
    }
}

#[test]
fn a_failure_on_the_second_file_leaves_the_first_untouched() {
    // Through the CLI: the Role file's path is a directory.
    let scratch = Scratch::new("release-0.14");
    let bindings_before = scratch.read(kube_prometheus::ROLE_BINDINGS_FILE);
    let roles = scratch.dir.join(kube_prometheus::ROLES_FILE);
    fs::remove_file(&roles).unwrap();
    fs::create_dir(&roles).unwrap();
    let output = scratch.roles(&["my-app"], &[]);
    assert_exit(&output, 2);
    assert!(text(&output.stderr).contains(kube_prometheus::ROLES_FILE));
    assert_eq!(
        scratch.read(kube_prometheus::ROLE_BINDINGS_FILE),
        bindings_before
    );

    // Through the library: the Role file turns into a directory between
    // planning and writing, so the write itself fails.
    let scratch = Scratch::new("release-0.14");
    let before = scratch.state();
    let config =
        kube_prometheus::roles_config(Config::from_preset(Preset::Documented), &["my-app".into()])
            .unwrap();
    let patch = kube_prometheus::plan_patch(&scratch.dir, &config).unwrap();
    let roles = scratch.dir.join(kube_prometheus::ROLES_FILE);
    fs::remove_file(&roles).unwrap();
    fs::create_dir(&roles).unwrap();
    let error = patch.apply().unwrap_err();
    assert!(
        error.to_string().contains(kube_prometheus::ROLES_FILE),
        "{error}"
    );
    let (files, listing) = scratch.state();
    assert_eq!(files[0], before.0[0], "the RoleBinding file was written");
    assert_eq!(listing, before.1, "a temporary file was left behind");
}
