//! The examples in `examples/` hold their generated manifests; they must
//! be exactly what gen-manifests prints today (the README shows them).

use std::process::Command;

#[test]
fn example_manifests_are_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut checked = 0;
    for entry in std::fs::read_dir(format!("{root}/examples")).unwrap() {
        let dir = entry.unwrap().path();
        let spec = dir.join("spec.yaml");
        if !spec.exists() {
            continue;
        }
        let output = Command::new(env!("CARGO_BIN_EXE_gen-manifests"))
            .arg("-c")
            .arg(&spec)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let committed = std::fs::read(dir.join("manifests.yaml")).unwrap();
        assert!(
            committed == output.stdout,
            "{} is stale: run `gen-manifests -c {} -o {}`",
            dir.join("manifests.yaml").display(),
            spec.display(),
            dir.join("manifests.yaml").display()
        );
        checked += 1;
    }
    assert!(checked >= 1, "no example found");
}
