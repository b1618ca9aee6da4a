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

/// The README's library examples are the crate's doc tests (in
/// `lib/lib.rs`), so `cargo test --doc` compiles them against the API.
#[test]
fn readme_library_examples_are_doc_tests() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let lib = std::fs::read_to_string(format!("{root}/lib/lib.rs")).unwrap();
    // The crate docs without their `//! ` prefix and hidden `# ` lines.
    let docs: String = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .filter(|line| !line.starts_with("# "))
        .map(|line| format!("{line}\n"))
        .collect();
    let section = &readme[readme.find("## Library use").unwrap()..];
    let section = &section[..section[3..].find("\n## ").unwrap()];
    let mut examples = 0;
    for block in section.split("```rust\n").skip(1) {
        let code = &block[..block.find("```").unwrap()];
        assert!(
            docs.contains(code),
            "README example not among lib.rs's doc tests:\n{code}"
        );
        examples += 1;
    }
    assert!(examples >= 2, "the README's library examples");
}

/// The README's list of modules is the crate's: every module `lib/lib.rs`
/// declares is named in the section on the public API (public ones as
/// tools or `render`, private ones in the "Inside" list), and nothing else.
#[test]
fn readme_module_list_is_the_crates() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let lib = std::fs::read_to_string(format!("{root}/lib/lib.rs")).unwrap();
    let start = readme
        .find("The public API is the list in `lib/lib.rs`")
        .unwrap();
    let section = &readme[start..];
    let inside = section.find("Inside, the private modules").unwrap();
    let end = section.find("\nThe binary is").unwrap();
    let (public, private) = (&section[..inside], &section[inside..end]);
    let named = |text: &str, module: &str| text.contains(&format!("`{module}`"));
    let mut modules = 0;
    for line in lib.lines() {
        let (is_pub, rest) = match (line.strip_prefix("pub mod "), line.strip_prefix("mod ")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => continue,
        };
        let Some(module) = rest.strip_suffix(';') else {
            continue;
        };
        let listed = if is_pub { public } else { private };
        assert!(
            named(listed, module),
            "README does not list module `{module}`"
        );
        modules += 1;
    }
    assert!(modules > 20, "the scan finds lib.rs's modules: {modules}");
    // No module named in the private list that the crate lacks.
    for word in private.split('`').skip(1).step_by(2) {
        let declared = format!("mod {word};");
        assert!(
            lib.contains(&declared),
            "README lists `{word}`, which lib.rs does not declare"
        );
    }
}
