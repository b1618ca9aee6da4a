//! Writes and streams that cannot be turned against the user: links and
//! devices are never followed or replaced, outputs are never inputs, sets
//! of files are both-or-neither under a failure at any step, concurrent runs
//! leave one run's output, closed and full streams end cleanly, and small
//! inputs cannot ask for unbounded work. Every test checks the exit code,
//! the message, and that each file that was there keeps its bytes.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::prometheus::FakePrometheus;
use common::{gen_manifests, scratch_dir, ROOT};
use custom_metrics_manifests::output::{Faults, Step, Transaction};
use custom_metrics_manifests::{gitops, kube_prometheus, render, Preset};

const BIN: &str = env!("CARGO_BIN_EXE_gen-manifests");
const SPEC_A: &str = "fixtures/specs/custom-rules.yaml";
const SPEC_B: &str = "fixtures/specs/recommended-app.yaml";

/// Every entry of `dir` (hidden ones included, so a leftover temporary
/// file shows): name -> bytes, or a marker for what is not a file.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut map = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        map.insert(name, fingerprint(&entry.path()));
    }
    map
}

/// A file's bytes; for a file too large to read in a test (the sparse
/// 1 GiB inputs), its size, allocated blocks and modification time, which
/// any write changes. A link's target; a marker for anything else.
fn fingerprint(path: &Path) -> Vec<u8> {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let kind = meta.file_type();
    if kind.is_symlink() {
        format!("symlink -> {}", std::fs::read_link(path).unwrap().display()).into_bytes()
    } else if kind.is_file() && meta.len() > 16 << 20 {
        format!(
            "{} bytes, {} blocks, modified {}.{}",
            meta.len(),
            meta.blocks(),
            meta.mtime(),
            meta.mtime_nsec()
        )
        .into_bytes()
    } else if kind.is_file() {
        std::fs::read(path).unwrap()
    } else {
        format!("{kind:?}").into_bytes()
    }
}

/// The input files a command line names (a spec, a trace, a file to
/// read: every argument, or `--flag=` value, that is an existing file,
/// relative to the crate root or absolute, but the outputs of `-o`,
/// `--out-dir` and `--plot`), with their [`fingerprint`]s.
fn named_files(args: &[&str]) -> Inputs {
    let outputs = ["-o", "--output", "--out-dir", "--plot"];
    let inputs = args
        .iter()
        .enumerate()
        .filter(|(index, _)| *index == 0 || !outputs.contains(&args[index - 1]))
        .map(|(_, arg)| arg.rsplit_once('=').map_or(*arg, |(_, value)| value))
        .map(|arg| Path::new(ROOT).join(arg))
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = fingerprint(&path);
            (path, bytes)
        })
        .collect();
    Inputs(inputs)
}

/// Files and their fingerprints; shown by name only.
#[derive(PartialEq)]
struct Inputs(BTreeMap<PathBuf, Vec<u8>>);

impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Asserts that every entry of `before` is still there with the same
/// bytes (new entries, the outputs, are the caller's to check).
fn assert_kept(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    context: &str,
) {
    for (name, bytes) in before {
        assert!(
            after.get(name) == Some(bytes),
            "{context}: {name} keeps its previous bytes"
        );
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// No panic: not Rust's panic exit status, no panic message.
fn assert_no_panic(output: &Output, context: &str) {
    assert_ne!(
        output.status.code(),
        Some(101),
        "{context}: {}",
        stderr(output)
    );
    assert!(
        !stderr(output).contains("panicked at"),
        "{context}: {}",
        stderr(output)
    );
}

/// The runs of one test, for a snapshot: each command line, its exit
/// status and its standard error, the scratch directory shown as `<dir>`.
/// Each run is checked for a panic and for changes to the files it names.
struct Transcript {
    dir: PathBuf,
    text: String,
    /// Other text that changes from run to run, and what shows instead.
    hidden: Vec<(String, String)>,
}

impl Transcript {
    fn new(dir: &Path) -> Transcript {
        Transcript {
            dir: dir.to_owned(),
            text: String::new(),
            hidden: Vec::new(),
        }
    }

    /// Shows `text` as `shown` (a server's address).
    fn hide(mut self, text: &str, shown: &str) -> Transcript {
        self.hidden.push((text.to_owned(), shown.to_owned()));
        self
    }

    /// Runs `args` with standard input closed, asserting its exit `code`
    /// and that every file it names keeps its bytes.
    fn run(&mut self, args: &[&str], code: i32) -> Output {
        let named = named_files(args);
        let output = run_with(args, Stdio::null(), Stdio::piped());
        self.record(args, &output, code);
        assert_eq!(
            named_files(args),
            named,
            "{args:?}: its input files keep their bytes"
        );
        output
    }

    /// Records a run made elsewhere, asserting its exit `code` and no panic.
    fn record(&mut self, args: &[&str], output: &Output, code: i32) {
        let context = format!("{args:?}");
        assert_no_panic(output, &context);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{context}: {}",
            stderr(output)
        );
        let dir = self.dir.to_str().unwrap();
        let mut entry = format!(
            "$ gen-manifests {}\nexit {code}\n{}\n",
            args.join(" "),
            stderr(output)
        )
        .replace(dir, "<dir>");
        for (text, shown) in &self.hidden {
            entry = entry.replace(text, shown);
        }
        self.text.push_str(&entry);
    }

    fn snapshot(self, name: &str) {
        common::settings().bind(|| insta::assert_snapshot!(name, self.text));
    }
}

/// Runs the binary in the crate root with `stdin`/`stdout` given, killed
/// after 20 s (a test that would block on a FIFO must fail, not hang).
fn run_with(args: &[&str], stdin: Stdio, stdout: Stdio) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("gen-manifests {args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// An error and its sources, as the CLI prints them (`a: b: c`).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The exit code the CLI gives a library write error.
fn exit_code(error: custom_metrics_manifests::output::WriteError) -> i32 {
    custom_metrics_manifests::Error::from(error).exit_code()
}

fn out_dir_files(spec: &str) -> Vec<(String, String)> {
    let config = custom_metrics_manifests::load(Some(&Path::new(ROOT).join(spec)), None).unwrap();
    gitops::out_dir_files(render::manifests(&config))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

// ---------------------------------------------------------------- links

#[test]
fn a_link_planted_at_the_temporary_name_is_never_followed() {
    // The library's hook runs just before the rename: replace the staged
    // temporary file by a link to a victim, as an attacker racing the tool
    // would.
    let dir = scratch_dir("planted-race");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let target = dir.join("out.yaml");
    std::fs::write(&target, "old\n").unwrap();
    let before = contents(&dir);

    struct Plant<'a>(&'a Path, &'a Path);
    impl Faults for Plant<'_> {
        fn before(&self, step: Step, _: &Path) -> io::Result<()> {
            if step == Step::Replace {
                for entry in std::fs::read_dir(self.0)? {
                    let path = entry?.path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    if name.starts_with(".out.yaml.") && name.ends_with(".tmp") {
                        std::fs::remove_file(&path)?;
                        std::os::unix::fs::symlink(self.1, &path)?;
                    }
                }
            }
            Ok(())
        }
    }
    let plant = Plant(&dir, &victim);
    let mut transaction = Transaction::new();
    transaction.write(&target, b"new\n".to_vec()).faults(&plant);
    let error = transaction.commit().unwrap_err();
    let message = chain(&error).replace(dir.to_str().unwrap(), "<dir>");
    assert!(
        message.starts_with("cannot write <dir>/out.yaml: the temporary file <dir>/.out.yaml.")
            && message.ends_with(".tmp was replaced by someone else"),
        "{message}"
    );
    assert_eq!(exit_code(error), 2);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    assert_eq!(std::fs::read(&target).unwrap(), b"old\n");
    // The planted link is left for the user to see; nothing else changed.
    let mut after = contents(&dir);
    after.retain(|name, _| !name.starts_with(".out.yaml."));
    assert_eq!(after, before);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn links_at_the_old_predictable_names_are_never_followed() {
    // Before, every write went through `.NAME.gen-manifests-PID.tmp`:
    // plant links at that name for the pids the next runs will likely get.
    let dir = scratch_dir("planted");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let base = Command::new("true").spawn().unwrap().id();
    let out_dir = dir.join("deploy");
    let plot_dir = dir.join("plot");
    for sub in [&dir.to_path_buf(), &out_dir, &plot_dir] {
        std::fs::create_dir_all(sub).unwrap();
    }
    let names = [
        (dir.to_path_buf(), "out.yaml"),
        (out_dir.clone(), "kustomization.yaml"),
        (plot_dir.clone(), "chart.svg"),
        (plot_dir.clone(), "chart.png"),
    ];
    for pid in base..base + 400 {
        for (sub, name) in &names {
            let link = sub.join(format!(".{name}.gen-manifests-{pid}.tmp"));
            std::os::unix::fs::symlink(&victim, link).unwrap();
        }
    }
    let out = dir.join("out.yaml");
    let plot = plot_dir.join("chart.svg");
    let before: Vec<_> = [&dir.to_path_buf(), &out_dir, &plot_dir]
        .iter()
        .map(|sub| contents(sub))
        .collect();
    let mut transcript = Transcript::new(&dir);
    for args in [
        vec!["-o", out.to_str().unwrap()],
        vec!["-c", SPEC_A, "--out-dir", out_dir.to_str().unwrap()],
        vec![
            "simulate",
            "-c",
            "fixtures/simulate/spec.yaml",
            "--app",
            "web",
            "--load",
            "fixtures/simulate/step.csv",
            "--plot",
            plot.to_str().unwrap(),
        ],
    ] {
        transcript.run(&args, 0);
    }
    transcript.snapshot("safety-planted-links");
    // Every planted link still points at the victim, which keeps its bytes.
    for (sub, before) in [&dir.to_path_buf(), &out_dir, &plot_dir]
        .iter()
        .zip(&before)
    {
        assert_kept(before, &contents(sub), &sub.display().to_string());
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        common::stdout(&gen_manifests(&[])).as_bytes()
    );
    assert!(std::fs::read(plot).unwrap().starts_with(b"<svg"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_symlinked_output_is_refused_and_kept() {
    let dir = scratch_dir("symlinked-output");
    let real = dir.join("real.yaml");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.join("link.yaml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir);
    let output = transcript.run(&["-o", link.to_str().unwrap()], 2);
    assert!(
        stderr(&output).contains("link.yaml: is a symbolic link; gen-manifests replaces files by renaming and never writes through a link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(contents(&dir), before);

    // In an --out-dir, a link at a generated file's name is refused too.
    let out_dir = dir.join("deploy");
    std::fs::create_dir(&out_dir).unwrap();
    std::os::unix::fs::symlink(&real, out_dir.join("kustomization.yaml")).unwrap();
    let before = contents(&out_dir);
    let output = transcript.run(&["--out-dir", out_dir.to_str().unwrap()], 2);
    assert!(
        stderr(&output).contains("kustomization.yaml: is not a regular file"),
        "{}",
        stderr(&output)
    );
    assert_eq!(contents(&out_dir), before);
    assert_eq!(std::fs::read(&real).unwrap(), b"old\n");
    transcript.snapshot("safety-symlinked-output");
    std::fs::remove_dir_all(dir).unwrap();
}

// -------------------------------------------------- devices, FIFOs, dirs

#[test]
fn devices_fifos_sockets_and_directories_are_refused_as_targets() {
    // A device is only checked (never written, even by a broken build).
    let error = custom_metrics_manifests::output::refuse_inputs(&[Path::new("/dev/null")], &[])
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("/dev/null: is a device, not a regular file"),
        "{error}"
    );

    let dir = scratch_dir("special-targets");
    let fifo = dir.join("fifo.yaml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let socket = dir.join("socket.yaml");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let directory = dir.join("dir.yaml");
    std::fs::create_dir(&directory).unwrap();
    // A device of our own (`/dev/null`'s numbers) where the test may make
    // one (root): a broken build replaces only that. Elsewhere the system's
    // `/dev/null`, which a process that cannot make devices cannot replace.
    let device = dir.join("null.yaml");
    let device = match Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
    {
        true => device,
        false => PathBuf::from("/dev/null"),
    };
    let before = contents(&dir);
    let null_before = std::fs::symlink_metadata(&device).unwrap();
    let mut transcript = Transcript::new(&dir);
    for (target, message) in [
        (&device, "is a device, not a regular file"),
        (&fifo, "is a named pipe (FIFO), not a regular file"),
        (&socket, "is a socket, not a regular file"),
        (&directory, "is a directory"),
    ] {
        let output = transcript.run(&["-o", target.to_str().unwrap()], 2);
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("nothing was written"),
            "{}",
            stderr(&output)
        );
        assert_eq!(contents(&dir), before);
    }
    let text = transcript.text.replace("/dev/null", "<dir>/null.yaml");
    common::settings().bind(|| insta::assert_snapshot!("safety-special-targets", text));
    let null_after = std::fs::symlink_metadata(&device).unwrap();
    assert!(null_after.file_type().is_char_device());
    assert_eq!(
        (null_after.ino(), null_after.rdev()),
        (null_before.ino(), null_before.rdev())
    );
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // `-` is standard output.
    let output = gen_manifests(&["-o", "-"]);
    assert_eq!(common::stdout(&output), common::stdout(&gen_manifests(&[])));
    std::fs::remove_dir_all(dir).unwrap();
}

// ----------------------------------------------------- output = input

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = scratch_dir("output-is-input");
    let spec = dir.join("spec.yaml");
    std::fs::copy(Path::new(ROOT).join(SPEC_B), &spec).unwrap();
    let hard = dir.join("hard.yaml");
    std::fs::hard_link(&spec, &hard).unwrap();
    let s = spec.to_str().unwrap();
    // A spec that also looks generated, inside the --out-dir under a
    // generated file's name.
    let out_dir = dir.join("deploy");
    std::fs::create_dir(&out_dir).unwrap();
    let inside = out_dir.join("kustomization.yaml");
    std::fs::write(
        &inside,
        format!(
            "{}{}",
            gitops::GENERATED_HEADER,
            std::fs::read_to_string(&spec).unwrap()
        ),
    )
    .unwrap();
    // A load trace named like the chart.
    let load = dir.join("load.svg");
    std::fs::copy(Path::new(ROOT).join("fixtures/simulate/step.csv"), &load).unwrap();
    let before = contents(&dir);
    let before_out = contents(&out_dir);
    let mut transcript = Transcript::new(&dir);
    for args in [
        vec!["-c", s, "-o", s],
        vec!["-c", s, "-o", hard.to_str().unwrap()],
        vec![
            "-c",
            inside.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
        vec![
            "simulate",
            "-c",
            "fixtures/simulate/spec.yaml",
            "--app",
            "web",
            "--load",
            load.to_str().unwrap(),
            "--plot",
            load.to_str().unwrap(),
        ],
    ] {
        let output = transcript.run(&args, 2);
        assert!(
            stderr(&output).contains("is also an input"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(contents(&dir), before, "{args:?}");
        assert_eq!(contents(&out_dir), before_out, "{args:?}");
    }
    transcript.snapshot("safety-output-is-input");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_plot_over_the_http_config_or_a_file_it_names_is_refused() {
    // `simulate --prometheus` reads an http_config and the files it names
    // (a bearer token, keys): the plot (an SVG and the PNG next to it) is
    // never written over any of them.
    fn answer(path: &str, params: &[(String, String)]) -> String {
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.trim_end_matches('s').parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if path != "/api/v1/query_range" {
            return r#"{"status":"error","error":"unknown path"}"#.into();
        }
        let (start, end, step) = (get("start"), get("end"), get("step").max(1.0));
        let values: Vec<serde_json::Value> = (0..)
            .map(|i| start + f64::from(i) * step)
            .take_while(|t| *t <= end)
            .map(|t| serde_json::json!([t, "5"]))
            .collect();
        serde_json::json!({"status": "success", "data": {"resultType": "matrix",
            "result": [{"metric": {}, "values": values}]}})
        .to_string()
    }
    let dir = scratch_dir("plot-over-http-config");
    let spec = api_spec(&dir);
    std::fs::write(dir.join("token.svg"), "secret\n").unwrap();
    std::fs::write(dir.join("key.png"), "secret\n").unwrap();
    // An http_config named like a chart, naming the token.
    let http_svg = dir.join("http.svg");
    std::fs::write(&http_svg, "authorization:\n  credentials_file: token.svg\n").unwrap();
    let http = dir.join("http.yaml");
    std::fs::write(&http, "authorization:\n  credentials_file: key.png\n").unwrap();
    let server = FakePrometheus::start(10, answer);
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir).hide(&server.url, "<prometheus>");
    let s = |path: &Path| path.to_str().unwrap().to_owned();
    let run = |config: &Path, plot: &str| {
        vec![
            "simulate".to_owned(),
            "-c".into(),
            s(&spec),
            "--app".into(),
            "api".into(),
            "--prometheus".into(),
            server.url.clone(),
            "--range".into(),
            "1h".into(),
            "--prometheus-http-config".into(),
            s(config),
            "--plot".into(),
            s(&dir.join(plot)),
        ]
    };
    for args in [
        // The http_config itself: refused before asking Prometheus.
        run(&http_svg, "http.svg"),
        // The token it names; the PNG over the key another one names.
        run(&http_svg, "token.svg"),
        run(&http, "key.svg"),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = transcript.run(&args, 2);
        assert!(
            stderr(&output).contains("is also an input"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(contents(&dir), before, "{args:?}");
    }
    transcript.snapshot("safety-plot-over-http-config");
    assert_eq!(server.queries().len(), 2, "the first run asked nothing");
    // The same run with a free name writes the chart: the refusals above
    // were for the names, not for the server.
    let args = run(&http, "chart.svg");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_with(&args, Stdio::null(), Stdio::piped());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(std::fs::read(dir.join("chart.svg"))
        .unwrap()
        .starts_with(b"<svg"));
    assert_kept(&before, &contents(&dir), "the inputs");
}

// ------------------------------------------------ failure at every step

/// Fails the `fail_at`-th step (0-based) and records every step seen.
struct FailAt {
    fail_at: usize,
    calls: Cell<usize>,
    seen: RefCell<Vec<Step>>,
    /// The path of the failed step.
    failed: RefCell<Option<PathBuf>>,
}

impl FailAt {
    fn new(fail_at: usize) -> FailAt {
        FailAt {
            fail_at,
            calls: Cell::new(0),
            seen: RefCell::new(Vec::new()),
            failed: RefCell::new(None),
        }
    }
}

impl Faults for FailAt {
    fn before(&self, step: Step, path: &Path) -> io::Result<()> {
        let call = self.calls.get();
        self.calls.set(call + 1);
        self.seen.borrow_mut().push(step);
        if call == self.fail_at {
            *self.failed.borrow_mut() = Some(path.to_owned());
            Err(io::Error::other("injected failure"))
        } else {
            Ok(())
        }
    }
}

/// Runs `attempt` with a failure at step 0, 1, 2, ... until it succeeds;
/// after each failure the directory must hold exactly what it held before.
fn fail_at_every_step(
    dir: &Path,
    reset: &dyn Fn(),
    attempt: &dyn Fn(&FailAt) -> Result<(), custom_metrics_manifests::output::WriteError>,
) -> Vec<Step> {
    for fail_at in 0.. {
        reset();
        let before = contents(dir);
        let faults = FailAt::new(fail_at);
        match attempt(&faults) {
            Err(error) => {
                assert!(
                    matches!(
                        error,
                        custom_metrics_manifests::output::WriteError::Io { .. }
                    ),
                    "step {fail_at}: {error:?}"
                );
                // The message names the file of the failed step and why.
                let failed = faults.failed.borrow().clone().expect("a step failed");
                assert_eq!(
                    chain(&error),
                    format!("cannot write {}: injected failure", failed.display()),
                    "step {fail_at}"
                );
                assert_eq!(exit_code(error), 2, "step {fail_at}");
                assert_eq!(
                    contents(dir),
                    before,
                    "failure at step {fail_at}: every file as it was"
                );
            }
            Ok(()) => {
                assert!(fail_at > 0);
                return faults.seen.into_inner();
            }
        }
    }
    unreachable!()
}

#[test]
fn out_dir_is_both_or_neither_under_a_failure_at_every_step() {
    let dir = scratch_dir("out-dir-steps");
    let old = out_dir_files(SPEC_A);
    let new = out_dir_files(SPEC_B);
    let reset = || {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &old {
            std::fs::write(dir.join(name), text).unwrap();
        }
        std::fs::write(dir.join("notes.yaml"), "mine: true\n").unwrap();
    };
    let steps = fail_at_every_step(&dir, &reset, &|faults| {
        let plan = gitops::plan_out_dir(&dir, &new).unwrap();
        assert!(!plan.write.is_empty() && !plan.remove.is_empty());
        let mut transaction = gitops::out_dir_transaction(&plan);
        transaction.faults(faults);
        transaction.commit()
    });
    for step in [
        Step::Stage,
        Step::Backup,
        Step::Replace,
        Step::Remove,
        Step::SyncDirectory,
    ] {
        assert!(steps.contains(&step), "{step:?} was exercised: {steps:?}");
    }
    // The successful run: exactly the new files and the user's.
    let mut expected: BTreeMap<String, Vec<u8>> = new
        .iter()
        .map(|(name, text)| (name.clone(), text.clone().into_bytes()))
        .collect();
    expected.insert("notes.yaml".into(), b"mine: true\n".to_vec());
    assert_eq!(contents(&dir), expected);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_large_set_is_synced_once_and_both_or_neither_at_every_step() {
    // Past 16 files the staged files are synced together (one syncfs per
    // file system) before any rename: a failure there, or at any other
    // step, leaves every file with its previous bytes and no file behind.
    let dir = scratch_dir("large-set-steps");
    let names: Vec<String> = (0..17).map(|i| format!("file-{i:02}.yaml")).collect();
    let reset = || {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in names.iter().step_by(4) {
            std::fs::write(dir.join(name), format!("old {name}\n")).unwrap();
        }
    };
    let new: Vec<(PathBuf, Vec<u8>)> = names
        .iter()
        .map(|name| (dir.join(name), format!("new {name}\n").into_bytes()))
        .collect();
    let steps = fail_at_every_step(&dir, &reset, &|faults| {
        let mut transaction = Transaction::new();
        for (path, text) in &new {
            transaction.write(path, text.clone());
        }
        transaction.faults(faults);
        transaction.commit()
    });
    assert_eq!(
        steps.iter().filter(|s| **s == Step::SyncFiles).count(),
        1,
        "{steps:?}"
    );
    let expected: BTreeMap<String, Vec<u8>> = names
        .iter()
        .map(|name| (name.clone(), format!("new {name}\n").into_bytes()))
        .collect();
    assert_eq!(contents(&dir), expected);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn roles_patch_is_both_or_neither_under_a_failure_at_every_step() {
    let dir = scratch_dir("patch-steps");
    let source = Path::new(ROOT).join("fixtures/kube-prometheus/release-0.14");
    let config = kube_prometheus::roles_config(
        custom_metrics_manifests::Config::from_preset(Preset::Documented),
        &["shop".into(), "my-app".into()],
    )
    .unwrap();
    let reset = || {
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&source, &dir);
    };
    let steps = fail_at_every_step(&dir, &reset, &|faults| {
        let patch = kube_prometheus::plan_patch(&dir, &config).unwrap();
        assert!(patch.role_bindings.changed() && patch.roles.changed());
        let mut transaction = patch.transaction();
        transaction.faults(faults);
        transaction.commit()
    });
    assert_eq!(steps.iter().filter(|s| **s == Step::Replace).count(), 2);
    assert!(!kube_prometheus::plan_patch(&dir, &config)
        .unwrap()
        .changed());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_out_dir_of_more_files_than_open_files_allowed_is_written() {
    // 60 apps make 130 files; the process may open 64: staged files are
    // closed until their rename.
    let dir = scratch_dir("many-files");
    let spec = dir.join("spec.yaml");
    let apps: String = (0..60)
        .map(|i| format!("- name: app-{i}\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n"))
        .collect();
    std::fs::write(&spec, format!("preset: recommended\napps:\n{apps}")).unwrap();
    let out = dir.join("deploy");
    let before = contents(&dir);
    let output = Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" -c \"$1\" --out-dir \"$2\"",
        ])
        .args([BIN, spec.to_str().unwrap(), out.to_str().unwrap()])
        .current_dir(ROOT)
        .output()
        .unwrap();
    let mut transcript = Transcript::new(&dir);
    transcript.record(
        &[
            "-c",
            spec.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
        &output,
        0,
    );
    transcript.snapshot("safety-many-files");
    let files = contents(&out);
    assert!(files.len() > 64, "{}", files.len());
    assert_eq!(kustomization_resources(&out).len(), files.len() - 1);
    assert_kept(&before, &contents(&dir), "the spec");
}

// --------------------------------------------------------- concurrency

fn kustomization_resources(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("- "))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

#[test]
fn concurrent_out_dir_runs_leave_exactly_one_runs_output() {
    let dir = scratch_dir("concurrent-out-dir");
    let out = dir.join("deploy");
    let mut expected = Vec::new();
    for spec in [SPEC_A, SPEC_B] {
        let fresh = dir.join(spec.replace('/', "-"));
        assert!(
            gen_manifests(&["-c", spec, "--out-dir", fresh.to_str().unwrap()])
                .status
                .success()
        );
        expected.push(contents(&fresh));
    }
    assert_ne!(
        expected[0].keys().collect::<Vec<_>>(),
        expected[1].keys().collect::<Vec<_>>()
    );
    // What one run of each spec prints (the notes name the directory).
    let messages: Vec<String> = [SPEC_A, SPEC_B]
        .iter()
        .map(|spec| {
            let alone = dir.join("alone").join(out.file_name().unwrap());
            let output = gen_manifests(&["-c", spec, "--out-dir", alone.to_str().unwrap()]);
            assert_eq!(output.status.code(), Some(0));
            stderr(&output).replace(alone.to_str().unwrap(), out.to_str().unwrap())
        })
        .collect();
    let specs: Vec<_> = [SPEC_A, SPEC_B]
        .iter()
        .map(|spec| named_files(&[spec]))
        .collect();
    for round in 0..3 {
        let outputs = ten_concurrent_runs("--out-dir", &out, round);
        for (index, output) in outputs.iter().enumerate() {
            assert_eq!(
                stderr(output),
                messages[index % 2],
                "round {round}, run {index}"
            );
            assert_no_panic(output, "--out-dir");
        }
        let now = contents(&out);
        assert!(
            now == expected[0] || now == expected[1],
            "round {round}: the directory is one run's output: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        let mut present: Vec<String> = now
            .keys()
            .filter(|name| *name != "kustomization.yaml")
            .cloned()
            .collect();
        present.sort();
        assert_eq!(kustomization_resources(&out), present);
    }
    let after: Vec<_> = [SPEC_A, SPEC_B]
        .iter()
        .map(|spec| named_files(&[spec]))
        .collect();
    assert_eq!(after, specs, "the specs keep their bytes");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn concurrent_roles_patches_lose_no_namespace() {
    let dir = scratch_dir("concurrent-patch");
    copy_dir(
        &Path::new(ROOT).join("fixtures/kube-prometheus/release-0.14"),
        &dir,
    );
    let mut others = contents(&dir);
    others.retain(|name, _| {
        ![
            kube_prometheus::ROLE_BINDINGS_FILE,
            kube_prometheus::ROLES_FILE,
        ]
        .contains(&name.as_str())
    });
    let namespaces: Vec<String> = (0..10).map(|i| format!("team-{i}")).collect();
    let runs: Vec<Vec<&str>> = namespaces
        .iter()
        .map(|namespace| {
            vec![
                "roles",
                "--namespace",
                namespace,
                "--patch",
                dir.to_str().unwrap(),
            ]
        })
        .collect();
    for output in concurrent_runs(&runs, "roles --patch") {
        assert_eq!(
            stderr(&output),
            "",
            "roles --patch reports on standard output"
        );
        assert_no_panic(&output, "roles --patch");
    }
    assert_kept(&others, &contents(&dir), "the other kube-prometheus files");
    for file in [
        kube_prometheus::ROLE_BINDINGS_FILE,
        kube_prometheus::ROLES_FILE,
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for namespace in &namespaces {
            assert_eq!(
                text.matches(&format!("namespace: {namespace}\n")).count(),
                1,
                "{file}: {namespace} once"
            );
        }
    }
    let mut args = vec!["roles", "--patch", dir.to_str().unwrap(), "--check"];
    for namespace in &namespaces {
        args.extend(["--namespace", namespace]);
    }
    assert_eq!(gen_manifests(&args).status.code(), Some(0));
    std::fs::remove_dir_all(dir).unwrap();
}

// ------------------------------------------------------------- streams

/// Every subcommand that prints, with what it needs: its arguments, and
/// the file on its standard input (closed when none).
fn printing_commands(scratch: &Path) -> Vec<(Vec<String>, Option<PathBuf>)> {
    let stale = scratch.join("stale.yaml");
    std::fs::write(
        &stale,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let patch_dir = scratch.join("kube-prometheus");
    copy_dir(
        &Path::new(ROOT).join("fixtures/kube-prometheus/release-0.14"),
        &patch_dir,
    );
    let out_dir = scratch.join("deploy");
    std::fs::create_dir_all(&out_dir).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    // The tool's own output: `import` reads it back exactly (exit 0).
    let own = scratch.join("own.yaml");
    std::fs::write(&own, gen_manifests(&[]).stdout).unwrap();
    let simulate = [
        "simulate",
        "-c",
        "fixtures/simulate/spec.yaml",
        "--app",
        "web",
        "--load",
        "fixtures/simulate/step.csv",
    ];
    let mut commands: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--format", "json"],
        vec!["-o", "-"],
        vec!["--preset", "recommended"],
        vec!["--version"],
        vec!["--help"],
        vec!["help"],
        vec!["lint"],
        vec!["lint", "--format", "json"],
        vec!["lint", "fixtures/custom-metrics.yaml"],
        vec!["explain"],
        vec!["explain", "--format", "json"],
        vec!["roles", "--namespace", "shop"],
        vec!["roles", "--help"],
        vec!["krm"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["lint", "--explain", "metric-unit"],
        vec!["migrate"],
        vec!["migrate", "fixtures/custom-metrics.yaml"],
        vec![
            "app",
            "--namespace",
            "shop",
            "--deployment",
            "api",
            "--target",
            "10",
            "--max",
            "5",
        ],
        simulate.to_vec(),
        [&simulate[..], &["--format", "json"]].concat(),
        [
            &simulate[..],
            &["--sweep", "target=5,10", "--capacity", "10"],
        ]
        .concat(),
    ];
    let mut owned: Vec<Vec<String>> = commands
        .drain(..)
        .map(|c| c.into_iter().map(str::to_owned).collect())
        .collect();
    owned.push(vec!["check".into(), s(&stale)]);
    owned.push(vec!["import".into(), s(&own)]);
    owned.push(vec!["--out-dir".into(), s(&out_dir), "--check".into()]);
    // A namespace the files lack: --check prints the diff.
    owned.push(vec![
        "roles".into(),
        "--namespace".into(),
        "team-x".into(),
        "--patch".into(),
        s(&patch_dir),
        "--check".into(),
    ]);
    owned.push(vec![
        "roles".into(),
        "--namespace".into(),
        "shop".into(),
        "--patch".into(),
        s(&patch_dir),
    ]);
    let mut commands: Vec<(Vec<String>, Option<PathBuf>)> =
        owned.into_iter().map(|args| (args, None)).collect();
    // Those that read standard input, given a real input: the function
    // with a package and its config, `import -` the tool's own output.
    let resource_list = scratch.join("resource-list.yaml");
    let mut list = String::from(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n",
    );
    let fn_config =
        std::fs::read_to_string(Path::new(ROOT).join("fixtures/krm/fn-config.yaml")).unwrap();
    for line in fn_config.lines() {
        list.push_str(&format!("  {line}\n"));
    }
    std::fs::write(&resource_list, list).unwrap();
    commands.push((vec!["krm".into()], Some(resource_list)));
    commands.push((vec!["import".into(), "-".into()], Some(own)));
    commands
}

#[test]
fn the_stream_tests_run_every_subcommand() {
    // The subcommands the CLI lists (`--help`), each among the printing
    // commands, so that a new one cannot be left out.
    let help = common::stdout(&gen_manifests(&["--help"]));
    let listed: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(listed.len() >= 12, "{listed:?}");
    let scratch = scratch_dir("subcommands");
    let commands = printing_commands(&scratch);
    for name in listed {
        assert!(
            commands
                .iter()
                .any(|(args, _)| args.first().map(String::as_str) == Some(name)),
            "{name} is not run by the stream tests"
        );
    }
    // And the run without a subcommand, with each way it writes to
    // standard output.
    for args in [&[][..], &["--format", "json"], &["-o", "-"]] {
        assert!(commands.iter().any(|(a, _)| a == args), "{args:?}");
    }
}

/// Every file under the scratch directory of [`printing_commands`]: the
/// inputs, the kube-prometheus copy and the out-dir.
fn scratch_state(scratch: &Path) -> Vec<BTreeMap<String, Vec<u8>>> {
    ["", "kube-prometheus", "deploy"]
        .iter()
        .map(|sub| contents(&scratch.join(sub)))
        .collect()
}

/// Runs every printing command with `stdout` and checks its exit code and
/// standard error; every file under the scratch directory keeps its bytes
/// (the one writing command, `roles --patch`, is given a directory that is
/// already patched: it writes nothing, and reports so).
fn every_subcommand_with(name: &str, stdout: &dyn Fn() -> Stdio, code: i32, message: &str) {
    let scratch = scratch_dir(name);
    let commands = printing_commands(&scratch);
    let patch_dir = scratch.join("kube-prometheus");
    let patch = [
        "roles",
        "--namespace",
        "shop",
        "--patch",
        patch_dir.to_str().unwrap(),
    ];
    assert!(gen_manifests(&patch).status.success());
    let before = scratch_state(&scratch);
    for (args, stdin) in commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let named = named_files(&args);
        let stdin = match stdin {
            Some(path) => Stdio::from(std::fs::File::open(path).unwrap()),
            None => Stdio::null(),
        };
        let output = run_with(&args, stdin, stdout());
        assert_no_panic(&output, &format!("{args:?}"));
        assert_eq!(
            named_files(&args),
            named,
            "{args:?}: its inputs keep their bytes"
        );
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), message, "{args:?}");
        assert_eq!(
            scratch_state(&scratch),
            before,
            "{args:?}: every file as it was"
        );
    }
}

fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

fn full_device() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

#[test]
fn a_closed_standard_output_stops_every_subcommand_quietly() {
    every_subcommand_with("closed-pipe", &closed_pipe, 141, "");
}

#[test]
fn a_full_standard_output_is_an_error_for_every_subcommand() {
    every_subcommand_with(
        "full-stdout",
        &full_device,
        2,
        "error: cannot write to standard output: No space left on device (os error 28)\n",
    );
}

#[test]
fn a_patch_whose_report_cannot_be_printed_is_still_whole() {
    // `roles --patch` writes its files first, then reports what it added:
    // when the report cannot be printed the files are written, both of
    // them, and the exit status says the report was lost.
    let expected = {
        let dir = scratch_dir("patch-report-expected");
        copy_dir(
            &Path::new(ROOT).join("fixtures/kube-prometheus/release-0.14"),
            &dir,
        );
        let args = [
            "roles",
            "--namespace",
            "shop",
            "--patch",
            dir.to_str().unwrap(),
        ];
        assert!(gen_manifests(&args).status.success());
        contents(&dir)
    };
    let full = "error: cannot write to standard output: No space left on device (os error 28)\n";
    for (stdout, code, message) in [
        (&closed_pipe as &dyn Fn() -> Stdio, 141, ""),
        (&full_device, 2, full),
    ] {
        let dir = scratch_dir("patch-report");
        copy_dir(
            &Path::new(ROOT).join("fixtures/kube-prometheus/release-0.14"),
            &dir,
        );
        let args = [
            "roles",
            "--namespace",
            "shop",
            "--patch",
            dir.to_str().unwrap(),
        ];
        let output = run_with(&args, Stdio::null(), stdout());
        assert_eq!(output.status.code(), Some(code), "{}", stderr(&output));
        assert_eq!(stderr(&output), message);
        assert_eq!(contents(&dir), expected);
    }
}

// ------------------------------------------------------- bounded work

fn simulate_args<'a>(spec: &'a str, load: &'a str) -> Vec<&'a str> {
    vec!["simulate", "-c", spec, "--app", "web", "--load", load]
}

#[test]
fn far_timestamps_and_huge_bounds_are_refused_or_bounded() {
    let dir = scratch_dir("bounds");
    let far = dir.join("far.csv");
    std::fs::write(&far, "0,10\n1e15,10\n").unwrap();
    let spec = "fixtures/simulate/spec.yaml";
    let step = "fixtures/simulate/step.csv";
    let with = |name: &str, from: &str, to: &str| {
        let path = dir.join(name);
        let text = std::fs::read_to_string(Path::new(ROOT).join(spec)).unwrap();
        std::fs::write(&path, text.replace(from, to)).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let huge_max = with(
        "huge-max.yaml",
        "maxReplicas: 20",
        "maxReplicas: 2000000000",
    );
    let huge_min = with(
        "huge-min.yaml",
        "minReplicas: 1\n  maxReplicas: 20",
        "minReplicas: 50000000\n  maxReplicas: 60000000",
    );
    let plot = dir.join("chart.svg");
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir);
    // Refused, with the reason.
    for args in [
        simulate_args(spec, far.to_str().unwrap()),
        [
            simulate_args(spec, far.to_str().unwrap()),
            vec!["--plot", plot.to_str().unwrap()],
        ]
        .concat(),
    ] {
        let output = transcript.run(&args, 2);
        assert!(
            stderr(&output).contains("far.csv: the trace is 1000000000000000 s long")
                && stderr(&output).contains("more than the 500000 a run may take"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(!plot.exists());
    // Simulated (in bounded time: see bench/run.sh), without wrapping.
    for (args, shown) in [
        (simulate_args(&huge_max, step), "replicas 1..2000000000"),
        (
            simulate_args(&huge_min, step),
            "replicas 50000000..60000000",
        ),
        (
            [
                simulate_args(spec, step),
                vec!["--pod-startup", "18446744073709551615"],
            ]
            .concat(),
            "pods Pending 18446744073709551615 s",
        ),
    ] {
        let output = transcript.run(&args, 0);
        let text = common::stdout(&output);
        assert!(text.contains(shown), "{args:?}: {text}");
    }
    let output = transcript.run(
        &[
            &simulate_args(spec, step)[..],
            &["--pod-startup", "18446744073709551616"],
        ]
        .concat(),
        2,
    );
    assert!(
        stderr(&output).contains("--pod-startup `18446744073709551616` is not a duration"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        contents(&dir),
        before,
        "nothing written, every input as it was"
    );
    transcript.snapshot("safety-far-timestamps-huge-bounds");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_huge_spec_is_refused_without_being_read_whole() {
    let dir = scratch_dir("huge-spec");
    let sparse = dir.join("huge.yaml");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir);
    for spec in [sparse.to_str().unwrap(), "/dev/zero"] {
        let output = transcript.run(&["-c", spec], 2);
        assert!(
            stderr(&output).contains("the file is larger than 4194304 bytes"),
            "{spec}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{spec}");
    }
    assert_eq!(contents(&dir), before);
    transcript.snapshot("safety-huge-spec");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_spec_with_more_apps_than_the_limit_is_refused_located() {
    let dir = scratch_dir("many-apps");
    let limit = custom_metrics_manifests::MAX_APPS;
    let app = |i: usize| {
        format!("- name: app-{i}\n  namespace: ns-{}\n  targetAverageValue: \"10\"\n  maxReplicas: 10\n", i % 50)
    };
    let at_limit: String = (0..limit).map(app).collect();
    let spec = dir.join("spec.yaml");
    let out = dir.join("out.yaml");
    std::fs::write(&spec, format!("preset: recommended\napps:\n{at_limit}")).unwrap();
    let (s, o) = (spec.to_str().unwrap(), out.to_str().unwrap());
    assert_eq!(gen_manifests(&["-c", s, "-o", o]).status.code(), Some(0));
    let written = std::fs::read(&out).unwrap();
    std::fs::write(
        &spec,
        format!("preset: recommended\napps:\n{at_limit}{}", app(limit)),
    )
    .unwrap();
    let before = contents(&dir);
    // The first app over the limit is on line 3 + 4 x limit.
    for args in [
        vec!["-c", s, "-o", o],
        vec!["lint", "-c", s],
        vec!["explain", "-c", s],
        vec!["roles", "--namespace", "shop", "-c", s],
    ] {
        let output = gen_manifests(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(
            stderr(&output),
            format!(
                "error: {s}:{}:3: apps[{limit}]: the spec has {} apps, more than the {limit} one \
                 spec may have (a bound on the work of every command); split the apps over \
                 several specs\n",
                3 + 4 * limit,
                limit + 1
            ),
            "{args:?}"
        );
    }
    assert_eq!(std::fs::read(&out).unwrap(), written);
    assert_eq!(
        contents(&dir),
        before,
        "the spec and the output as they were"
    );
}

#[test]
fn a_sweep_over_its_step_budget_is_refused_before_running() {
    // 10,000 settings (the most) of the 30-minute step trace: 121 syncs
    // each, 1,210,000 in all.
    let targets: Vec<String> = (1..=10_000).map(|t| t.to_string()).collect();
    let sweep = format!("target={}", targets.join(","));
    let args = [
        &simulate_args("fixtures/simulate/spec.yaml", "fixtures/simulate/step.csv")[..],
        &["--capacity", "10", "--sweep", &sweep],
    ]
    .concat();
    let named = named_files(&args);
    let output = gen_manifests(&args);
    assert_no_panic(&output, "--sweep");
    assert_eq!(
        named_files(&args),
        named,
        "the spec and the trace keep their bytes"
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "error: --sweep on fixtures/simulate/step.csv: 10000 settings x 121 HPA syncs (or \
             scrapes) each is 1210000, more than the {} a sweep may take; sweep fewer values or a \
             shorter trace\n",
            custom_metrics_manifests::simulate::MAX_SWEEP_STEPS
        )
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn an_endless_krm_input_is_refused_in_the_results() {
    // The function reads at most its limit of standard input (an endless
    // stream costs that much), then reports the error as the KRM
    // functions specification asks: a ResourceList with an error result,
    // and a non-zero exit.
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let output = run_with(&["krm"], Stdio::from(zero), Stdio::piped());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let limit = custom_metrics_manifests::krm::MAX_INPUT_BYTES;
    let message = format!(
        "the input is larger than {limit} bytes, the most the function reads (a whole package); \
         run it on a smaller package"
    );
    assert_eq!(stderr(&output), format!("error: {message}\n"));
    let list: serde_json::Value =
        serde_saphyr::from_str(std::str::from_utf8(&output.stdout).unwrap()).unwrap();
    assert_eq!(list["kind"], "ResourceList");
    assert_eq!(list["items"], serde_json::json!([]));
    assert_eq!(
        list["results"],
        serde_json::json!([{"message": message, "severity": "error"}])
    );
}

#[test]
fn every_file_reader_is_bounded() {
    // A sparse 1 GiB file and /dev/zero, given to each reader of files:
    // refused with the file named, without reading it whole.
    let dir = scratch_dir("bounded-readers");
    let sparse = dir.join("huge.yaml");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let huge_csv = dir.join("huge.csv");
    std::fs::File::create(&huge_csv)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let kube = dir.join("kube-prometheus");
    copy_dir(
        &Path::new(ROOT).join("fixtures/kube-prometheus/release-0.14"),
        &kube,
    );
    let big_list = kube.join(kube_prometheus::ROLES_FILE);
    std::fs::File::options()
        .append(true)
        .open(&big_list)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let before = contents(&kube);
    let before_dir = contents(&dir);
    let (h, c) = (sparse.to_str().unwrap(), huge_csv.to_str().unwrap());
    let limit = custom_metrics_manifests::MAX_SPEC_BYTES;
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["-c", h],
            format!("{h}: the file is larger than {limit} bytes; specs are limited to"),
        ),
        (vec!["lint", h], format!("{h}: larger than {limit} bytes")),
        (
            vec!["lint", "/dev/zero"],
            format!("/dev/zero: larger than {limit} bytes"),
        ),
        (
            vec!["migrate", h],
            format!("{h}: larger than {limit} bytes"),
        ),
        (
            vec!["migrate", "/dev/zero"],
            format!("/dev/zero: larger than {limit} bytes"),
        ),
        (vec!["check", h], format!("{h}: larger than ")),
        (
            vec!["check", "/dev/zero"],
            "/dev/zero: larger than ".to_owned(),
        ),
        (
            simulate_args("fixtures/simulate/spec.yaml", c),
            format!("{c}: the file is larger than {limit} bytes; load traces (CSV) are limited to"),
        ),
        (
            vec![
                "explain",
                "-c",
                SPEC_A,
                "--prometheus",
                "http://127.0.0.1:9",
                "--prometheus-http-config",
                h,
            ],
            format!("{h}: the file is larger than {limit} bytes; http_config files are limited to"),
        ),
        (
            vec![
                "roles",
                "--namespace",
                "shop",
                "--patch",
                kube.to_str().unwrap(),
            ],
            format!(
                "{}: the file is larger than {limit} bytes; kube-prometheus list files are limited to",
                big_list.display()
            ),
        ),
    ];
    // Each message names its kind of input: one snapshot of them all.
    let mut messages = String::new();
    for (args, message) in cases {
        let output = gen_manifests(&args);
        assert_no_panic(&output, &format!("{args:?}"));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&message),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&limit.to_string()) || stderr(&output).contains("larger than"),
            "{args:?}: {}",
            stderr(&output)
        );
        let shown = stderr(&output).replace(dir.to_str().unwrap(), "<dir>");
        messages.push_str(
            &format!("$ gen-manifests {}\n{shown}", args.join(" "))
                .replace(dir.to_str().unwrap(), "<dir>"),
        );
    }
    common::settings().bind(|| insta::assert_snapshot!("bounded-readers", messages));
    assert_eq!(contents(&kube), before);
    assert_eq!(contents(&dir), before_dir);
}

#[test]
fn concurrent_runs_onto_one_output_file_leave_one_runs_output() {
    let dir = scratch_dir("concurrent-output");
    let out = dir.join("out.yaml");
    let expected: Vec<Vec<u8>> = [SPEC_A, SPEC_B]
        .iter()
        .map(|spec| common::stdout(&gen_manifests(&["-c", spec])).into_bytes())
        .collect();
    for round in 0..3 {
        for output in ten_concurrent_runs("-o", &out, round) {
            assert_eq!(stderr(&output), "", "round {round}");
            assert_no_panic(&output, "-o");
        }
        let now = contents(&dir);
        assert_eq!(
            now.len(),
            1,
            "round {round}: no temporary file left: {:?}",
            now.keys()
        );
        assert!(
            expected.contains(&now["out.yaml"]),
            "round {round}: one run's output"
        );
    }
}

#[test]
fn a_large_stale_file_is_checked_and_diffed() {
    let dir = scratch_dir("large-stale");
    let generated = common::stdout(&gen_manifests(&["-c", SPEC_A]));
    // 2.4 MB: the generated bundle with blank lines and one changed field.
    let mut stale = generated.replacen("  replicas: 2\n", "  replicas: 3\n", 1);
    stale.push_str(&"\n".repeat(2_400_000 - stale.len()));
    let file = dir.join("deploy.yaml");
    std::fs::write(&file, &stale).unwrap();
    let output = gen_manifests(&["-c", SPEC_A, "check", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "the report is on standard output");
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(report.contains("is stale:"), "{report}");
    assert!(report.contains("spec.replicas: 3 -> 2"), "{report}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stale);
    std::fs::remove_dir_all(dir).unwrap();
}

// --------------------------------------------------- silent misreadings

#[test]
fn an_empty_spec_is_refused() {
    let dir = scratch_dir("empty-spec");
    let empty = dir.join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let comments = dir.join("comments.yaml");
    std::fs::write(&comments, "# nothing here yet\n\n---\n").unwrap();
    let target = dir.join("out.yaml");
    let t = target.to_str().unwrap();
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir);
    for spec in [
        "/dev/null",
        empty.to_str().unwrap(),
        comments.to_str().unwrap(),
        "/dev/stdin",
    ] {
        // /dev/stdin is a closed (null) standard input here.
        let output = transcript.run(&["-c", spec, "-o", t], 2);
        assert!(
            stderr(&output).contains(&format!("{spec}: the spec is empty")),
            "{spec}: {}",
            stderr(&output)
        );
        assert!(!target.exists());
        assert_eq!(contents(&dir), before);
    }
    transcript.snapshot("safety-empty-spec");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_csv_with_a_byte_order_mark_keeps_its_first_row() {
    let dir = scratch_dir("bom");
    let plain =
        std::fs::read_to_string(Path::new(ROOT).join("fixtures/simulate/step.csv")).unwrap();
    let without_header: String = plain.lines().skip(1).map(|l| format!("{l}\r\n")).collect();
    let spec = "fixtures/simulate/spec.yaml";
    let mut reports = Vec::new();
    for (name, text) in [
        ("plain", without_header.clone()),
        ("bom", format!("\u{feff}{without_header}")),
    ] {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let load = sub.join("load.csv");
        std::fs::write(&load, &text).unwrap();
        let output = gen_manifests(
            &[
                &simulate_args(spec, load.to_str().unwrap())[..],
                &["--format", "json"],
            ]
            .concat(),
        );
        assert_no_panic(&output, name);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert_eq!(stderr(&output), "", "{name}");
        assert_eq!(
            std::fs::read_to_string(&load).unwrap(),
            text,
            "{name}: the trace as it was"
        );
        reports.push(common::stdout(&output).replace(&format!("/{name}/"), "/X/"));
    }
    assert_eq!(reports[0], reports[1]);
    std::fs::remove_dir_all(dir).unwrap();
}

// ------------------------------------------------ a hostile Prometheus

const HOSTILE: &str = r#"api-1"} or vector(7) or up{x=""#;

fn hostile_answer(path: &str, params: &[(String, String)]) -> String {
    let query = params
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let pods = [
        "api-7c9f8d6b5-x2k4q",
        "api-7c9f8d6b5-b7n9z",
        "api-7c9f8d6b5-h4m2t",
        "api-7c9f8d6b5-q5w8r",
        "api-worker-7c9f8d6b5-x2k4q",
        "web-5d8f7c9b4-x2x7k",
        HOSTILE,
    ];
    match path {
        "/api/v1/series" => {
            let items: Vec<serde_json::Value> = pods
                .iter()
                .map(|pod| serde_json::json!({"__name__": "http_requests_total", "namespace": "shop", "pod": pod}))
                .collect();
            serde_json::json!({"status": "success", "data": items}).to_string()
        }
        "/api/v1/query" if query == "vector(1)" => {
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#.into()
        }
        "/api/v1/query" => {
            // Whatever was asked, answer for every pod, hostile values too.
            let values = ["NaN", "+Inf", "-3", "5", "1", "2", "7"];
            let result: Vec<serde_json::Value> = pods
                .iter()
                .zip(values)
                .map(|(pod, value)| serde_json::json!({"metric": {"pod": pod}, "value": [1, value]}))
                .collect();
            serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": result}})
                .to_string()
        }
        "/api/v1/query_range" => {
            // The first point where asked, the next 1e12 s later.
            let start: f64 = params
                .iter()
                .find(|(k, _)| k == "start")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0.0);
            serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
                {"metric": {}, "values": [[start, "5"], [start + 1e12, "5"]]}
            ]}})
            .to_string()
        }
        _ => r#"{"status":"error","error":"unknown path"}"#.into(),
    }
}

/// The values of the `pod` matchers in `query`, parsed by PromQL's own
/// grammar (promql-parser).
fn pod_matcher_values(query: &str) -> Vec<String> {
    let expr = promql_parser::parser::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut values = Vec::new();
    fn walk(expr: &promql_parser::parser::Expr, out: &mut Vec<String>) {
        use promql_parser::parser::Expr;
        match expr {
            Expr::VectorSelector(selector) => {
                for matcher in &selector.matchers.matchers {
                    if matcher.name == "pod" {
                        out.push(matcher.value.clone());
                    }
                }
            }
            Expr::MatrixSelector(m) => walk(&Expr::VectorSelector(m.vs.clone()), out),
            Expr::Aggregate(a) => walk(&a.expr, out),
            Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, out)),
            Expr::Binary(b) => {
                walk(&b.lhs, out);
                walk(&b.rhs, out);
            }
            Expr::Paren(p) => walk(&p.expr, out),
            _ => {}
        }
    }
    walk(&expr, &mut values);
    values
}

fn api_spec(dir: &Path) -> PathBuf {
    let spec = dir.join("api.yaml");
    std::fs::write(
        &spec,
        "preset: recommended\napps:\n- name: api\n  namespace: shop\n  targetAverageValue: \"10\"\n  maxReplicas: 5\n",
    )
    .unwrap();
    spec
}

#[test]
fn explain_asks_only_for_the_deployments_pods_and_names_bad_values() {
    let dir = scratch_dir("hostile-prometheus");
    let spec = api_spec(&dir);
    let server = FakePrometheus::start(10, hostile_answer);
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir).hide(&server.url, "<prometheus>");
    let output = transcript.run(
        &[
            "explain",
            "-c",
            spec.to_str().unwrap(),
            "--prometheus",
            &server.url,
        ],
        1,
    );
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    transcript.snapshot("safety-hostile-explain");
    assert_eq!(contents(&dir), before);
    let queries = server.queries();
    let metrics_query = queries
        .iter()
        .find(|q| q.starts_with("sum(rate("))
        .unwrap_or_else(|| panic!("{queries:?}"));
    // One pod matcher: exactly the four pods of Deployment api.
    assert_eq!(
        pod_matcher_values(metrics_query),
        ["api-7c9f8d6b5-b7n9z|api-7c9f8d6b5-h4m2t|api-7c9f8d6b5-q5w8r|api-7c9f8d6b5-x2k4q"]
    );
    for query in &queries {
        assert!(!query.contains("vector(7)"), "{query}");
    }
    for words in [
        "the query gives NaN (not a number",
        "the query gives +Inf (a division by zero)",
        "the query gives -3, a negative rate",
        "api-7c9f8d6b5-b7n9z: +Inf",
        "Prometheus answered for 3 pods that are not the Deployment's; left out",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    assert!(
        !text.contains("web-5d8f7c9b4")
            && !text.contains("api-worker")
            && !text.contains("vector(7)"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn simulate_from_a_hostile_prometheus_is_bounded() {
    let dir = scratch_dir("hostile-simulate");
    let spec = api_spec(&dir);
    let server = FakePrometheus::start(5, hostile_answer);
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir).hide(&server.url, "<prometheus>");
    let output = transcript.run(
        &[
            "simulate",
            "-c",
            spec.to_str().unwrap(),
            "--app",
            "api",
            "--prometheus",
            &server.url,
            "--range",
            "1h",
        ],
        2,
    );
    assert!(output.stdout.is_empty());
    assert_eq!(contents(&dir), before);
    assert!(
        stderr(&output).contains("s (Unix time), outside the range asked")
            && stderr(&output).contains("not a Prometheus range query's answer"),
        "{}",
        stderr(&output)
    );
    let queries = server.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    let pattern = &pod_matcher_values(&queries[0])[0];
    let pattern = regex::Regex::new(&format!("^(?:{pattern})$")).unwrap();
    assert!(pattern.is_match("api-7c9f8d6b5-x2k4q"));
    assert!(!pattern.is_match("api-worker-7c9f8d6b5-x2k4q") && !pattern.is_match(HOSTILE));
    // The refusal names the point, whose time depends on the run's: shown
    // as <time>.
    let times = regex::Regex::new(r"\d{9,}(\.\d+)?").unwrap();
    let transcript = Transcript {
        text: times.replace_all(&transcript.text, "<time>").into_owned(),
        ..transcript
    };
    transcript.snapshot("safety-hostile-simulate");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_oversized_prometheus_answer_is_refused_unread() {
    // 5 MiB of answer: the client stops at its limit (4 MiB) and exits 2.
    fn huge(_: &str, _: &[(String, String)]) -> String {
        let filler = "x".repeat(5 * 1024 * 1024);
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[],"filler":"{filler}"}}}}"#
        )
    }
    let dir = scratch_dir("huge-answer");
    let spec = api_spec(&dir);
    let before = contents(&dir);
    let mut transcript = Transcript::new(&dir);
    for args in [
        vec!["simulate", "--app", "api", "--range", "1h"],
        vec!["explain"],
    ] {
        let server = FakePrometheus::start(5, huge);
        transcript.hidden = vec![(server.url.clone(), "<prometheus>".to_owned())];
        let output = transcript.run(
            &[
                &args[..],
                &["-c", spec.to_str().unwrap(), "--prometheus", &server.url],
            ]
            .concat(),
            2,
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(contents(&dir), before);
        assert!(
            stderr(&output).contains(&format!(
                "the answer is larger than {} bytes, the most gen-manifests reads",
                custom_metrics_manifests::prometheus::MAX_BODY_BYTES
            )),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    transcript.snapshot("safety-oversized-answer");
}

/// Ten concurrent runs, alternating SPEC_A and SPEC_B, each writing to
/// `target` with `flag`; every one must succeed.
fn ten_concurrent_runs(flag: &str, target: &Path, round: usize) -> Vec<Output> {
    let runs: Vec<Vec<&str>> = (0..10)
        .map(|index| {
            vec![
                "-c",
                [SPEC_A, SPEC_B][index % 2],
                flag,
                target.to_str().unwrap(),
            ]
        })
        .collect();
    concurrent_runs(&runs, &format!("round {round}"))
}

/// Starts one run per argument list, all at once, then waits for each:
/// every one must succeed (`context` names the batch in a failure).
fn concurrent_runs(runs: &[Vec<&str>], context: &str) -> Vec<Output> {
    let children: Vec<_> = runs
        .iter()
        .map(|args| {
            Command::new(BIN)
                .args(args)
                .current_dir(ROOT)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "{context}: {}", stderr(&output));
            output
        })
        .collect()
}
