//! Helpers shared by the integration tests: run the real binary from the
//! crate root, snapshot under the top-level `snapshots/`, scratch
//! directories per test process.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
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

/// A new empty directory for one test of this process.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gen-manifests-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
