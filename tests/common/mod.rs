//! Helpers shared by the integration tests: run the real binary from the
//! crate root, snapshot under the top-level `snapshots/`, scratch
//! directories per test process.

#![allow(dead_code)] // each test crate uses its own subset

pub mod prometheus;

use std::path::Path;
use std::process::{Command, Output};

/// The crate root: fixtures and snapshots are found from here.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `gen-manifests` with `args` in the crate root.
pub fn gen_manifests(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("gen-manifests runs")
}

/// Runs `gen-manifests` with `args` in the crate root, `input` on its
/// standard input.
pub fn gen_manifests_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
        .args(args)
        .current_dir(ROOT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gen-manifests runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The first app's ScaledObject, as rendered.
pub fn scaled_object(
    config: &custom_metrics_manifests::Config,
) -> custom_metrics_manifests::objects::ScaledObject {
    custom_metrics_manifests::render::manifests(config)
        .into_iter()
        .find_map(|manifest| match manifest {
            custom_metrics_manifests::Manifest::ScaledObject(scaled) => Some(scaled),
            _ => None,
        })
        .expect("the keda backend renders a ScaledObject")
}

/// insta settings: snapshots in `<root>/snapshots`, named without the
/// module prefix.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(ROOT).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Standard output of a run that must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// A new empty directory for one test, under the system's temporary
/// directory: removed when dropped, also when the test fails or panics
/// (`tempfile`), so a test run leaves nothing behind.
pub fn scratch_dir(name: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("gen-manifests-test-{name}-"))
            .tempdir()
            .expect("a temporary directory"),
    )
}

/// A test's temporary directory; usable wherever a `&Path` is.
#[derive(Debug)]
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.path().as_os_str()
    }
}
