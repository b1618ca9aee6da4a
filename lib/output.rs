//! Writing files so that a reader never sees half of one: each file is
//! written to a temporary file in the same directory, synced, then renamed
//! over the target. A set of files is written all-or-nothing as far as the
//! file system allows: every temporary file is written first, and only then
//! are they renamed; a failure before the renames leaves every target as it
//! was.
//!
//! ```
//! use custom_metrics_manifests::output::write_atomically;
//!
//! let dir = std::env::temp_dir().join(format!("cmm-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("out.yaml");
//! write_atomically(&[(path.clone(), b"a: 1\n".to_vec())]).unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"a: 1\n");
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}", path.display())]
pub struct WriteError {
    /// The target path.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.gen-manifests-{}.tmp", std::process::id()))
}

/// Writes every `(path, contents)` pair, or none of them.
pub fn write_atomically(files: &[(PathBuf, Vec<u8>)]) -> Result<(), WriteError> {
    let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |written: &[(PathBuf, PathBuf)]| {
        for (temp, _) in written {
            let _ = fs::remove_file(temp);
        }
    };
    for (target, contents) in files {
        if target.is_dir() {
            cleanup(&written);
            return Err(WriteError {
                path: target.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "the target is a directory",
                ),
            });
        }
        let temp = temp_path(target);
        let result = fs::File::create(&temp).and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        });
        if let Err(source) = result {
            let _ = fs::remove_file(&temp);
            cleanup(&written);
            return Err(WriteError {
                path: target.clone(),
                source,
            });
        }
        written.push((temp, target.clone()));
    }
    for (index, (temp, target)) in written.iter().enumerate() {
        if let Err(source) = fs::rename(temp, target) {
            cleanup(&written[index..]);
            return Err(WriteError {
                path: target.clone(),
                source,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_file_leaves_every_target_as_it_was() {
        let dir = std::env::temp_dir().join(format!("cmm-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = dir.join("first.yaml");
        std::fs::write(&first, "old\n").unwrap();
        let unwritable = dir.join("missing-dir").join("second.yaml");
        let error = write_atomically(&[
            (first.clone(), b"new\n".to_vec()),
            (unwritable.clone(), b"x".to_vec()),
        ])
        .unwrap_err();
        assert_eq!(error.path, unwritable);
        assert_eq!(std::fs::read(&first).unwrap(), b"old\n");
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            entries,
            vec![std::ffi::OsString::from("first.yaml")],
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_target_is_refused() {
        let dir = std::env::temp_dir().join(format!("cmm-output-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("target.yaml")).unwrap();
        let error = write_atomically(&[(dir.join("target.yaml"), b"x".to_vec())]).unwrap_err();
        assert_eq!(error.source.kind(), std::io::ErrorKind::IsADirectory);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
