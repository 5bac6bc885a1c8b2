//! Hostile input, case by case: every folder under `tests/hostile/` runs
//! `datagen` once, the way a careless or malicious user would, and pins
//! what must happen.
//!
//! A case folder holds `case.toml` and the input files it needs (a
//! `genfile.toml`, dictionaries). The runner copies the inputs into a
//! fresh directory, makes what `case.toml` asks for (FIFOs, symbolic
//! links, directories, sparse files, generated text), runs `datagen` there
//! with `args` (`$DIR` is that directory) under a timeout and an address
//! space limit, then checks:
//!
//! * the exit code (`code`), and that the process was not killed: no
//!   panic, no hang, no allocation beyond the limit;
//! * standard error against `expected.txt` (and standard output against
//!   `stdout.txt` when the case has one), with the directory shown as `$DIR`;
//! * that the directory holds afterwards exactly what it held before, plus
//!   the `leaves` and less the `gone` the case names, each entry still of
//!   its kind — a FIFO still a FIFO, a link still a link to what it
//!   pointed at.
//!
//! `UPDATE_GOLDEN=1` rewrites the expectations.
//!
//! ```toml
//! args = ["--config", "$DIR/genfile.toml", "--target", "sql://$DIR/fifo"]
//! code = 2
//! env = { DATAGEN_MAX_RESTARTS = "0" }
//! fifos = ["fifo"]
//! links = { "link.sql" = "real.sql" }
//! dirs = ["out.sql"]
//! sparse = { "big.txt" = 300_000_000 }
//! leaves = ["out.db"]
//! gone = [".out.db.datagen-tmp"]
//! memory_mb = 1024
//! file_size_kb = 100
//! before = [["--config", "$DIR/genfile.toml", "--target", "sqlite://$DIR/out.db"]]
//! [[make]]                       # a file made of repeated pieces
//! file = "genfile.toml"
//! parts = [["a = \"", 1], ["(", 5000], ["\"\n", 1]]
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{assert_golden, datagen, root};

/// What a case asks for.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Case {
    args: Vec<String>,
    code: i32,
    env: BTreeMap<String, String>,
    fifos: Vec<String>,
    links: BTreeMap<String, String>,
    dirs: Vec<String>,
    sparse: BTreeMap<String, u64>,
    leaves: Vec<String>,
    gone: Vec<String>,
    memory_mb: Option<u64>,
    file_size_kb: Option<u64>,
    timeout_s: Option<u64>,
    before: Vec<Vec<String>>,
    make: Vec<Make>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Make {
    file: String,
    parts: Vec<(String, usize)>,
}

/// Every case runs within this much address space unless it says less.
const MEMORY_MB: u64 = 2048;
/// And this long.
const TIMEOUT_S: u64 = 30;

/// What is at a path, without following a link: its kind, and where a
/// link points.
fn entry(path: &Path) -> String {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return "missing".into();
    };
    let t = meta.file_type();
    if t.is_symlink() {
        format!("link to {}", std::fs::read_link(path).unwrap().display())
    } else if t.is_fifo() {
        "fifo".into()
    } else if t.is_dir() {
        "dir".into()
    } else {
        format!("file of {} bytes", meta.len())
    }
}

/// Every path under `dir` (relative) and what it is.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let kind = entry(&path);
            if kind == "dir" {
                todo.push(path.clone());
            }
            out.insert(name, kind);
        }
    }
    out
}

fn prepare(case_dir: &Path, case: &Case, dir: &Path) {
    for e in std::fs::read_dir(case_dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if ["case.toml", "expected.txt", "stdout.txt"].contains(&name.as_str()) {
            continue;
        }
        std::fs::copy(&path, dir.join(&name)).unwrap();
    }
    for m in &case.make {
        let mut text = String::new();
        for (piece, times) in &m.parts {
            text.push_str(&piece.repeat(*times));
        }
        std::fs::write(dir.join(&m.file), text).unwrap();
    }
    for d in &case.dirs {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    for f in &case.fifos {
        let status = Command::new("mkfifo").arg(dir.join(f)).status().unwrap();
        assert!(status.success(), "mkfifo {f}");
    }
    for (name, size) in &case.sparse {
        let f = std::fs::File::create(dir.join(name)).unwrap();
        f.set_len(*size).unwrap();
    }
    for (link, to) in &case.links {
        std::os::unix::fs::symlink(to, dir.join(link)).unwrap();
    }
}

/// `arg` with `$DIR` replaced.
fn expand(arg: &str, dir: &Path) -> String {
    arg.replace("$DIR", &dir.display().to_string())
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(case: &Case, args: &[String], dir: &Path) -> Outcome {
    let mut cmd: Command = datagen();
    cmd.current_dir(dir)
        .args(args.iter().map(|a| expand(a, dir)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &case.env {
        cmd.env(k, expand(v, dir));
    }
    let memory = case.memory_mb.unwrap_or(MEMORY_MB) << 20;
    let file_size = case.file_size_kb.map(|kb| kb << 10);
    // SAFETY: only async-signal-safe calls (setrlimit) run in the child
    // between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = |resource, bytes: u64| {
                let r = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(resource, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            };
            limit(libc::RLIMIT_AS, memory)?;
            if let Some(bytes) = file_size {
                limit(libc::RLIMIT_FSIZE, bytes)?;
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("datagen starts");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let limit = Duration::from_secs(case.timeout_s.unwrap_or(TIMEOUT_S));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: still running after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let show = |bytes: Vec<u8>| {
        String::from_utf8_lossy(&bytes).replace(&dir.display().to_string(), "$DIR")
    };
    let stdout = show(reader.join().unwrap());
    let stderr = show(err_reader.join().unwrap());
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        panic!("killed by signal {signal}: {stderr}");
    }
    Outcome {
        code: status.code(),
        stdout,
        stderr,
    }
}

fn check(case_dir: &Path) {
    let name = case_dir.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(case_dir.join("case.toml")).unwrap();
    let case: Case = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/case.toml: {e}"));
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join(&name);
    std::fs::create_dir(&dir).unwrap();
    prepare(case_dir, &case, &dir);
    for args in &case.before {
        let out = run(&case, args, &dir);
        assert_eq!(
            out.code,
            Some(0),
            "{name}: a step before failed: {}",
            out.stderr
        );
    }
    let mut before = snapshot(&dir);
    for gone in &case.gone {
        assert!(before.remove(gone).is_some(), "{name}: no `{gone}` to go");
    }
    let out = run(&case, &case.args, &dir);
    assert!(
        !out.stderr.contains("panicked"),
        "{name}: panicked: {}",
        out.stderr
    );
    assert_eq!(out.code, Some(case.code), "{name}: {}", out.stderr);
    assert_golden(&case_dir.join("expected.txt"), &out.stderr);
    if case_dir.join("stdout.txt").exists()
        || std::env::var_os("UPDATE_GOLDEN").is_some() && !out.stdout.is_empty()
    {
        assert_golden(&case_dir.join("stdout.txt"), &out.stdout);
    }
    let mut after = snapshot(&dir);
    for leave in &case.leaves {
        assert!(
            after.remove(leave).is_some(),
            "{name}: `{leave}` should be left"
        );
    }
    assert_eq!(before, after, "{name}: the directory changed");
}

#[test]
fn hostile_input_ends_cleanly() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("tests/hostile"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").exists())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 80,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let only = std::env::var("HOSTILE_CASE").ok();
    let mut failed = Vec::new();
    for case in cases {
        if only.as_deref().is_some_and(|o| !case.ends_with(o)) {
            continue;
        }
        // Every case runs; the failures are reported together.
        if let Err(e) = std::panic::catch_unwind(|| check(&case)) {
            let message = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(message);
        }
    }
    assert!(
        failed.is_empty(),
        "{} cases failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}
