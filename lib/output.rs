//! Writing files so that neither a reader, a crash, a failure midway nor
//! another user of the directory can turn a write against the user.
//!
//! A [`Transaction`] replaces and removes a set of files both-or-neither:
//!
//! 1. every target is checked first: a symbolic link, a directory, a
//!    device, a FIFO or a socket is refused, and so is a file that is one of
//!    the command's inputs (the same device and inode, so also through a
//!    link or a hard link); nothing is written then;
//! 2. every new content is staged in a fresh temporary file next to its
//!    target, created exclusively under an unpredictable name (the
//!    `tempfile` crate: `O_CREAT | O_EXCL`, so a link planted in the
//!    directory is never followed) and written; then all of them are
//!    synced to disk before any rename (each file's `fsync` for a few
//!    files; for more, on Linux, one `syncfs(2)` per file system: one
//!    flush instead of one per file);
//! 3. every existing target is kept as a hard link (or, where the file
//!    system has none, a synced copy) under another such name;
//! 4. the temporary files are renamed over their targets and stale files
//!    removed; then the directories are synced;
//! 5. if any of these steps fails, every file already replaced or removed
//!    is put back from what was kept, so each target has its previous bytes
//!    again, and the error names the file that failed.
//!
//! Each rename is atomic, so a reader sees a file either whole old or
//! whole new. Between the first and the last rename of a set a reader can
//! see some files new and some old; [`DirLock`] keeps other runs of the
//! tool out of that window (an advisory `flock(2)` on the directory).
//!
//! ```
//! use custom_metrics_manifests::output::{write_atomically, Transaction};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("out.yaml");
//! write_atomically(&[(path.clone(), b"a: 1\n".to_vec())]).unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"a: 1\n");
//!
//! // An output that is also an input is refused; nothing is written.
//! let mut transaction = Transaction::new();
//! transaction.protect(&path).write(&path, b"b: 2\n".to_vec());
//! let error = transaction.commit().unwrap_err();
//! assert!(error.to_string().contains("is also an input"), "{error}");
//! assert_eq!(std::fs::read(&path).unwrap(), b"a: 1\n");
//! ```

use std::ffi::OsString;
use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::TempPath;

/// A file that could not be written or removed. When this is returned,
/// every target has its previous bytes, unless the error says otherwise
/// ([`WriteError::RollbackFailed`]).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The operating system refused a step; every target was left or put
    /// back as it was.
    #[error("cannot write {}", path.display())]
    Io {
        /// The target being written (or the directory being synced).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The target is not a file this tool replaces (a link, a directory, a
    /// device, one of the inputs); nothing was written.
    #[error("{}: {reason}; nothing was written", path.display())]
    Refused {
        /// The target.
        path: PathBuf,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The directory could not be locked (or opened to lock it).
    #[error("cannot lock {}", path.display())]
    Lock {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A step failed and putting some files back failed too: those files
    /// are named, with where their previous contents are kept.
    #[error("cannot write {}: {source}; restoring the previous contents failed too: {}", path.display(), list(failed))]
    RollbackFailed {
        /// The target whose step failed first.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
        /// Each file that could not be restored, and why.
        failed: Vec<(PathBuf, String)>,
    },
}

fn list(failed: &[(PathBuf, String)]) -> String {
    failed
        .iter()
        .map(|(path, why)| format!("{} ({why})", path.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl WriteError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::Io { path, .. }
            | WriteError::Refused { path, .. }
            | WriteError::Lock { path, .. }
            | WriteError::RollbackFailed { path, .. } => path,
        }
    }

    fn io(path: &Path, source: io::Error) -> WriteError {
        WriteError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// A step of [`Transaction::commit`], as seen by [`Faults`].
///
/// Test support (the fault-injection tests of `tests/safety.rs`), not part
/// of the API: hidden from the docs, it may change in any release.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Creating and writing the temporary file of a target.
    Stage,
    /// Syncing the staged files to disk, all of them before any rename
    /// (called once, with the first target's directory).
    SyncFiles,
    /// Keeping an existing target's previous contents.
    Backup,
    /// Renaming a temporary file over its target.
    Replace,
    /// Removing a stale target.
    Remove,
    /// Syncing a directory after the renames.
    SyncDirectory,
}

/// A hook called before each step of a commit, so that tests can make any
/// step fail and check that every file keeps its previous bytes. An error
/// returned here is treated as if the step itself had failed.
///
/// Test support, not part of the API (see [`Step`]).
#[doc(hidden)]
pub trait Faults {
    /// Called before `step` on `path`.
    fn before(&self, step: Step, path: &Path) -> io::Result<()>;
}

/// Where a command's output goes: standard output for `-`, else a file
/// replaced atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Standard output (`-o -`, or no `-o`).
    Stdout,
    /// A file, replaced by renaming.
    File(PathBuf),
}

impl Target {
    /// `-` is standard output; anything else a file.
    pub fn from_arg(path: &Path) -> Target {
        if path == Path::new("-") {
            Target::Stdout
        } else {
            Target::File(path.to_owned())
        }
    }
}

/// What a target gets: bytes at hand, or bytes written by a function
/// straight into the staged file (so they are never all in memory).
enum Contents<'a> {
    Bytes(Vec<u8>),
    Borrowed(&'a [u8]),
    // A reference, not a box: a transaction has no destructor that could
    // need what the function borrows.
    Stream(&'a dyn Fn(&mut dyn Write) -> io::Result<()>),
}

/// Replaces and removes files both-or-neither; see the module documentation.
#[derive(Default)]
pub struct Transaction<'a> {
    writes: Vec<(PathBuf, Contents<'a>)>,
    removes: Vec<PathBuf>,
    inputs: Vec<(u64, u64, PathBuf)>,
    faults: Option<&'a dyn Faults>,
}

impl<'a> Transaction<'a> {
    /// An empty transaction.
    pub fn new() -> Self {
        Transaction::default()
    }

    /// Replaces (or creates) `path` with `contents`.
    pub fn write(&mut self, path: &Path, contents: Vec<u8>) -> &mut Self {
        self.writes
            .push((path.to_owned(), Contents::Bytes(contents)));
        self
    }

    /// Replaces (or creates) `path` with `contents`, borrowed: no copy of
    /// a large set of files.
    pub fn write_borrowed(&mut self, path: &Path, contents: &'a [u8]) -> &mut Self {
        self.writes
            .push((path.to_owned(), Contents::Borrowed(contents)));
        self
    }

    /// Replaces (or creates) `path` with what `produce` writes, written
    /// straight into the staged temporary file (buffered) when the
    /// transaction commits: output of any size in bounded memory. An error
    /// of `produce` fails the commit like a failed write.
    pub fn write_with(
        &mut self,
        path: &Path,
        produce: &'a dyn Fn(&mut dyn Write) -> io::Result<()>,
    ) -> &mut Self {
        self.writes
            .push((path.to_owned(), Contents::Stream(produce)));
        self
    }

    /// Removes `path`, a regular file.
    pub fn remove(&mut self, path: &Path) -> &mut Self {
        self.removes.push(path.to_owned());
        self
    }

    /// Refuses to write or remove `input` (an input of the command), by
    /// identity: another name of the same file is refused too. An input
    /// that does not exist protects nothing.
    pub fn protect(&mut self, input: &Path) -> &mut Self {
        if let Ok(meta) = fs::metadata(input) {
            self.inputs.push((meta.dev(), meta.ino(), input.to_owned()));
        }
        self
    }

    /// Calls `faults` before every step. Test support, not part of the
    /// API (see [`Step`]).
    #[doc(hidden)]
    pub fn faults(&mut self, faults: &'a dyn Faults) -> &mut Self {
        self.faults = Some(faults);
        self
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.removes.is_empty()
    }

    fn before(&self, step: Step, path: &Path) -> io::Result<()> {
        self.faults
            .map_or(Ok(()), |faults| faults.before(step, path))
    }

    /// Applies every write and removal, or none: on failure every target
    /// has its previous bytes again (or the error is
    /// [`WriteError::RollbackFailed`], naming what could not be restored).
    pub fn commit(&self) -> Result<(), WriteError> {
        // 1. Check every target before touching anything.
        for (path, _) in &self.writes {
            self.check_target(path, false)?;
        }
        for path in &self.removes {
            self.check_target(path, true)?;
        }
        // 2. Stage the new contents, durable before any rename: each file
        // synced as written, or (many files, on Linux) each file system
        // once after all are written. The file systems are opened first:
        // `syncfs(2)` reports the write-back errors since then.
        let file_systems = match self.writes.len() > SYNC_EACH_UP_TO {
            true => file_systems(self.writes.iter().map(|(path, _)| path.as_path()))?,
            false => None,
        };
        let mut staged: Vec<Staged> = Vec::with_capacity(self.writes.len());
        for (path, contents) in &self.writes {
            staged.push(self.stage(path, contents, file_systems.is_none())?);
        }
        for (directory, file) in file_systems.iter().flatten() {
            self.before(Step::SyncFiles, directory)
                .and_then(|()| syncfs(file))
                .map_err(|source| WriteError::io(directory, source))?;
        }
        // 3. Keep what is there now.
        let mut kept: Vec<Option<TempPath>> = Vec::new();
        let targets = self
            .writes
            .iter()
            .map(|(path, _)| path)
            .chain(&self.removes);
        for path in targets {
            kept.push(self.keep(path)?);
        }
        // 4. Rename and remove, putting everything back on failure.
        let mut done: Vec<(&Path, Option<TempPath>)> = Vec::new();
        let mut kept = kept.into_iter();
        let mut directories: Vec<PathBuf> = Vec::new();
        let ops = staged
            .into_iter()
            .map(Some)
            .zip(&self.writes)
            .map(|(temp, (path, _))| (temp, path))
            .chain(self.removes.iter().map(|path| (None, path)));
        for (temp, path) in ops {
            let previous = kept.next().flatten();
            let result = match temp {
                Some(temp) => self.replace(temp, path),
                None => self
                    .before(Step::Remove, path)
                    .and_then(|()| fs::remove_file(path)),
            };
            if let Err(source) = result {
                return Err(roll_back(done, path, source));
            }
            let directory = parent(path);
            if !directories.contains(&directory) {
                directories.push(directory);
            }
            done.push((path, previous));
        }
        // 5. Make the renames durable; a failure here rolls back too.
        for directory in &directories {
            let result = self
                .before(Step::SyncDirectory, directory)
                .and_then(|()| File::open(directory)?.sync_all());
            if let Err(source) = result {
                let mut error = roll_back(done, directory, source);
                if let WriteError::Io { path, .. } = &mut error {
                    path.clone_from(directory);
                }
                return Err(error);
            }
        }
        // The kept copies are deleted as `done` drops.
        Ok(())
    }

    fn check_target(&self, path: &Path, removing: bool) -> Result<(), WriteError> {
        let refuse = |reason: String| {
            Err(WriteError::Refused {
                path: path.to_owned(),
                reason,
            })
        };
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(error) if error.kind() == io::ErrorKind::NotFound && !removing => return Ok(()),
            Err(source) => return Err(WriteError::io(path, source)),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            return refuse(
                "is a symbolic link; gen-manifests replaces files by renaming and never writes \
                 through a link: name the file it points to"
                    .into(),
            );
        }
        if kind.is_dir() {
            return refuse("is a directory".into());
        }
        let special = if kind.is_block_device() || kind.is_char_device() {
            Some("a device")
        } else if kind.is_fifo() {
            Some("a named pipe (FIFO)")
        } else if kind.is_socket() {
            Some("a socket")
        } else {
            None
        };
        if let Some(special) = special {
            return refuse(format!(
                "is {special}, not a regular file; to write to it, write to standard output \
                 (`-o -` or no -o) and redirect"
            ));
        }
        if let Some((_, _, input)) = self
            .inputs
            .iter()
            .find(|(dev, ino, _)| (*dev, *ino) == (meta.dev(), meta.ino()))
        {
            return refuse(format!(
                "is also an input (`{}`); write the output elsewhere",
                input.display()
            ));
        }
        Ok(())
    }

    fn stage(
        &self,
        path: &Path,
        contents: &Contents<'_>,
        sync: bool,
    ) -> Result<Staged, WriteError> {
        let fail = |source| WriteError::io(path, source);
        self.before(Step::Stage, path).map_err(fail)?;
        // A replaced file keeps its mode; a new one is created 0666 less the
        // umask, as `File::create` would create it.
        let previous_mode = fs::metadata(path)
            .ok()
            .map(|meta| meta.permissions().mode() & 0o7777);
        let create_mode = if previous_mode.is_some() {
            0o600
        } else {
            0o666
        };
        let mut temp = with_builder(path, ".tmp", |builder| {
            builder
                .permissions(Permissions::from_mode(create_mode))
                .tempfile_in(parent(path))
        })
        .map_err(fail)?;
        let written = match contents {
            Contents::Bytes(bytes) => temp.write_all(bytes),
            Contents::Borrowed(bytes) => temp.write_all(bytes),
            Contents::Stream(produce) => {
                let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut temp);
                produce(&mut buffered).and_then(|()| buffered.flush())
            }
        };
        written
            .and_then(|()| match previous_mode {
                Some(mode) => temp.as_file().set_permissions(Permissions::from_mode(mode)),
                None => Ok(()),
            })
            .and_then(|()| match sync {
                true => temp.as_file().sync_all(),
                false => Ok(()),
            })
            .map_err(fail)?;
        let meta = temp.as_file().metadata().map_err(fail)?;
        Ok(Staged {
            identity: identity(&meta),
            // Closed now: a set of 20,000 files stays under the process'
            // limit of open files.
            path: temp.into_temp_path(),
        })
    }

    fn keep(&self, path: &Path) -> Result<Option<TempPath>, WriteError> {
        let fail = |source| WriteError::io(path, source);
        match fs::symlink_metadata(path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(fail(source)),
            Ok(_) => {}
        }
        self.before(Step::Backup, path).map_err(fail)?;
        let link = with_builder(path, ".previous", |builder| {
            builder.make_in(parent(path), |name| fs::hard_link(path, name))
        });
        match link {
            Ok(link) => Ok(Some(link.into_temp_path())),
            // No hard links here (some network and FAT file systems): a copy.
            Err(_) => {
                let bytes = fs::read(path).map_err(fail)?;
                let mode = fs::metadata(path).map_err(fail)?.permissions().mode();
                let mut copy = with_builder(path, ".previous", |builder| {
                    builder.tempfile_in(parent(path))
                })
                .map_err(fail)?;
                copy.write_all(&bytes)
                    .and_then(|()| copy.as_file().set_permissions(Permissions::from_mode(mode)))
                    .and_then(|()| copy.as_file().sync_all())
                    .map_err(fail)?;
                Ok(Some(copy.into_temp_path()))
            }
        }
    }

    fn replace(&self, temp: Staged, path: &Path) -> io::Result<()> {
        self.before(Step::Replace, path)?;
        // Rename only the file written: if anything replaced the temporary
        // name since (a planted link), stop.
        // Closed files free their inode: a link planted after a removal can
        // get the same number, so the type, size and time are compared too.
        let named = fs::symlink_metadata(&temp.path)?;
        if !named.file_type().is_file() || identity(&named) != temp.identity {
            return Err(io::Error::other(format!(
                "the temporary file {} was replaced by someone else",
                temp.path.display()
            )));
        }
        temp.path.persist(path).map_err(|error| error.error)
    }
}

/// A staged temporary file, closed: its path (removed when dropped) and
/// the identity of the file written there.
struct Staged {
    path: TempPath,
    identity: (u64, u64, u64, i64, i64),
}

/// Up to this many files, each staged file is synced as it is written
/// (its own `fsync`, waiting for nobody else's data); past it, on Linux,
/// each file system once (`syncfs(2)`: one flush instead of one per file,
/// so 20,000 files take seconds, not minutes).
const SYNC_EACH_UP_TO: usize = 16;

/// The directories of `paths`, opened, one per file system (by device);
/// `None` where there is no `syncfs(2)` (each file is synced then).
fn file_systems<'p>(
    paths: impl Iterator<Item = &'p Path>,
) -> Result<Option<Vec<(PathBuf, File)>>, WriteError> {
    if !cfg!(target_os = "linux") {
        return Ok(None);
    }
    let mut opened: Vec<(u64, PathBuf, File)> = Vec::new();
    let mut seen: std::collections::BTreeSet<PathBuf> = Default::default();
    for path in paths {
        let directory = parent(path);
        if !seen.insert(directory.clone()) {
            continue;
        }
        let fail = |source| WriteError::io(&directory, source);
        let file = File::open(&directory).map_err(fail)?;
        let device = file.metadata().map_err(fail)?.dev();
        if !opened.iter().any(|(known, _, _)| *known == device) {
            opened.push((device, directory, file));
        }
    }
    Ok(Some(
        opened
            .into_iter()
            .map(|(_, directory, file)| (directory, file))
            .collect(),
    ))
}

/// `syncfs(2)`: every dirty file of the file system `file` is on, written
/// to disk, and the write-back errors since `file` was opened reported.
#[cfg(target_os = "linux")]
fn syncfs(file: &File) -> io::Result<()> {
    rustix::fs::syncfs(file).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn syncfs(file: &File) -> io::Result<()> {
    file.sync_all()
}

/// Device, inode, size and modification time of a file.
fn identity(meta: &fs::Metadata) -> (u64, u64, u64, i64, i64) {
    (
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
    )
}

/// Puts back every target in `done` (newest first) after `source` failed
/// on `path`.
fn roll_back(done: Vec<(&Path, Option<TempPath>)>, path: &Path, source: io::Error) -> WriteError {
    let mut failed = Vec::new();
    let mut directories: Vec<PathBuf> = Vec::new();
    for (target, previous) in done.into_iter().rev() {
        let result = match previous {
            Some(previous) => previous.persist(target).map_err(|error| {
                let kept = error.path.to_path_buf();
                // Keep the previous contents on disk for the user.
                let _ = error.path.keep();
                format!(
                    "{}; its previous contents are in {}",
                    error.error,
                    kept.display()
                )
            }),
            // It did not exist before.
            None => fs::remove_file(target).map_err(|error| error.to_string()),
        };
        match result {
            Ok(()) => {
                let directory = parent(target);
                if !directories.contains(&directory) {
                    directories.push(directory);
                }
            }
            Err(why) => failed.push((target.to_owned(), why)),
        }
    }
    for directory in directories {
        let _ = File::open(&directory).and_then(|dir| dir.sync_all());
    }
    if failed.is_empty() {
        WriteError::io(path, source)
    } else {
        WriteError::RollbackFailed {
            path: path.to_owned(),
            source,
            failed,
        }
    }
}

/// Calls `f` with a builder of `.NAME.XXXXXXXXXXXX<suffix>` names: hidden,
/// unpredictable, next to the target.
fn with_builder<R>(path: &Path, suffix: &str, f: impl FnOnce(&mut tempfile::Builder) -> R) -> R {
    let mut prefix = OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix).rand_bytes(12);
    f(&mut builder)
}

/// The directory `path` is in (`.` for a bare name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Refuses any of `targets` that is one of `inputs` (the same file by
/// device and inode), before anything is computed or written.
pub fn refuse_inputs(targets: &[&Path], inputs: &[&Path]) -> Result<(), WriteError> {
    let mut transaction = Transaction::new();
    for input in inputs {
        transaction.protect(input);
    }
    for target in targets {
        transaction.check_target(target, false)?;
    }
    Ok(())
}

/// Writes every `(path, contents)` pair, or none of them (a
/// [`Transaction`] of writes).
pub fn write_atomically(files: &[(PathBuf, Vec<u8>)]) -> Result<(), WriteError> {
    let mut transaction = Transaction::new();
    for (path, contents) in files {
        transaction.write(path, contents.clone());
    }
    transaction.commit()
}

/// An advisory lock (`flock(2)`) on a directory, held until dropped: runs of
/// the tool that write into one directory take turns, so the directory
/// always holds exactly one run's output. Programs that do not take the
/// lock are not kept out.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Waits for the exclusive lock on `dir`, for writing.
    pub fn exclusive(dir: &Path) -> Result<DirLock, WriteError> {
        DirLock::take(dir, File::lock)
    }

    /// Waits for a shared lock on `dir`, for reading it consistently.
    pub fn shared(dir: &Path) -> Result<DirLock, WriteError> {
        DirLock::take(dir, File::lock_shared)
    }

    fn take(dir: &Path, lock: fn(&File) -> io::Result<()>) -> Result<DirLock, WriteError> {
        let fail = |source| WriteError::Lock {
            path: dir.to_owned(),
            source,
        };
        // The directory itself is locked: no lock file to leave behind or
        // to be planted as a link.
        let file = File::open(dir).map_err(fail)?;
        lock(&file).map_err(fail)?;
        Ok(DirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary directory, removed when dropped (also on a panic).
    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("cmm-output-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn a_failing_file_leaves_every_target_as_it_was() {
        let scratch = scratch("failing");
        let dir = scratch.path();
        let first = dir.join("first.yaml");
        fs::write(&first, "old\n").unwrap();
        let unwritable = dir.join("missing-dir").join("second.yaml");
        let error = write_atomically(&[
            (first.clone(), b"new\n".to_vec()),
            (unwritable.clone(), b"x".to_vec()),
        ])
        .unwrap_err();
        assert_eq!(error.path(), unwritable);
        assert_eq!(fs::read(&first).unwrap(), b"old\n");
        let entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            entries,
            vec![OsString::from("first.yaml")],
            "no temporary file left"
        );
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_usual_mode() {
        let scratch = scratch("modes");
        let dir = scratch.path();
        let kept = dir.join("kept.yaml");
        fs::write(&kept, "old\n").unwrap();
        fs::set_permissions(&kept, Permissions::from_mode(0o640)).unwrap();
        let created = dir.join("created.yaml");
        let reference = dir.join("reference");
        File::create(&reference).unwrap();
        write_atomically(&[
            (kept.clone(), b"new\n".to_vec()),
            (created.clone(), b"new\n".to_vec()),
        ])
        .unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&kept), 0o640);
        assert_eq!(mode(&created), mode(&reference), "as File::create makes it");
    }
}
