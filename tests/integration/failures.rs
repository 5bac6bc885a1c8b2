//! How runs end when they cannot finish: stopped by a signal in any phase,
//! failing in a way a restart cannot mend, or giving up after restarts —
//! checked on the process (exit code, message), the files and the tables.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::pg::TestSchema;
use super::support::{datagen, dump, file_names, run, schema, stderr};

fn interrupt(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT");
}

/// Waits for `child`, killing it if it outlives `limit` (the test then
/// fails: a stopped run must end by itself).
fn wait(mut child: Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the run did not stop within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_signal_while_rows_are_counted_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // Half a billion parents to draw counts for: counting takes long.
    let genfile = write(
        dir.path(),
        "big.toml",
        r#"
[tables.p]
rows = 500_000_000
[tables.p.columns]
id = { gen = "sequence" }
[tables.c]
per = { parent = "p", count = { uniform = { min = 0, max = 2 } } }
[tables.c.columns]
id = { gen = "sequence" }
"#,
    );
    let db = dir.path().join("out.db");
    let child = datagen()
        .arg("--config")
        .arg(&genfile)
        .args(["--max-rows", "10000000000000", "--target"])
        .arg(format!("sqlite://{}", db.display()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    interrupt(&child);
    let out = wait(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupted; 0 rows are committed"), "{err}");
    assert!(err.contains("run the same command again"), "{err}");
    // Nothing was opened: no database, no temporary file.
    assert_eq!(file_names(dir.path()), ["big.toml"]);
}

#[test]
fn every_interrupted_run_says_what_to_do_next() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    // From the first milliseconds (the Genfile being read) to the end.
    for (i, delay) in [0u64, 5, 20, 60, 150, 300, 600, 1200]
        .into_iter()
        .enumerate()
    {
        let db = dir.path().join(format!("run{i}.db"));
        let child = datagen()
            .arg("--config")
            .arg(&genfile)
            .args(["--quiet", "--scale", "0.05", "--target"])
            .arg(format!("sqlite://{}", db.display()))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        interrupt(&child);
        let out = wait(child, Duration::from_secs(20));
        let err = stderr(&out);
        use std::os::unix::process::ExitStatusExt;
        if out.status.signal() == Some(2) {
            // The signal came before datagen could catch it, as the
            // process started: like any process, it ended there, before
            // it made anything.
            let mine = format!("run{i}.db");
            let made: Vec<String> = file_names(dir.path())
                .into_iter()
                .filter(|n| n.contains(&mine))
                .collect();
            assert!(made.is_empty(), "{delay} ms: {made:?}");
        }
        match out.status.code() {
            None => {}
            // Done before the signal came: published, nothing else left.
            Some(0) => assert!(db.exists(), "{delay} ms: {err}"),
            Some(130) => {
                assert!(
                    err.contains("to finish the run:") && err.contains("--resume")
                        || err.contains("run the same command again"),
                    "{delay} ms: no word on what to do: {err}"
                );
                assert!(!db.exists(), "{delay} ms: published while interrupted");
            }
            other => panic!("{delay} ms: ended with {other:?}: {err}"),
        }
        // Finished, or finished with --resume, it is the same database.
        if !db.exists() {
            let resumed = run(datagen()
                .arg("--config")
                .arg(&genfile)
                .args(["--quiet", "--scale", "0.05", "--resume", "--target"])
                .arg(format!("sqlite://{}", db.display())));
            if !resumed.status.success() {
                // Nothing was committed: the run starts over.
                let again = run(datagen()
                    .arg("--config")
                    .arg(&genfile)
                    .args(["--quiet", "--scale", "0.05", "--target"])
                    .arg(format!("sqlite://{}", db.display())));
                assert!(again.status.success(), "{}", stderr(&again));
            }
        }
    }
    let reference = dir.path().join("reference.db");
    let out = run(datagen()
        .arg("--config")
        .arg(&genfile)
        .args(["--quiet", "--scale", "0.05", "--target"])
        .arg(format!("sqlite://{}", reference.display())));
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = dump(&reference);
    for i in 0..8 {
        assert_eq!(
            dump(&dir.path().join(format!("run{i}.db"))),
            expected,
            "run {i}"
        );
    }
    let left: Vec<String> = file_names(dir.path())
        .into_iter()
        .filter(|n| n.contains("datagen-tmp") || n.contains("journal"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_failure_a_restart_cannot_mend_ends_at_once_and_leaves_no_tables() {
    let s = TestSchema::new("permanent");
    let dir = tempfile::tempdir().unwrap();
    let genfile = write(
        dir.path(),
        "check.toml",
        r#"
[tables.t]
rows = 5000
[tables.t.columns]
id = { gen = "sequence", primary_key = true }
v  = { gen = "int", min = 1, max = 9, type = "INTEGER CHECK (v < 5)" }
"#,
    );
    let out = run(datagen()
        .env("DATAGEN_MAX_RESTARTS", "5")
        .env("DATAGEN_BACKOFF_MS", "1")
        .arg("--config")
        .arg(&genfile)
        .args(["--quiet", "--target", &s.url()]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("violates check constraint"), "{err}");
    // Not restarted: a restart would violate it again.
    assert!(!err.contains("gave up after"), "{err}");
    assert!(!err.contains("--resume"), "{err}");
    // What the run created is gone: its table and its progress table.
    for table in ["t", "datagen_progress"] {
        let gone =
            s.pg.value(&format!("SELECT to_regclass('{}') IS NULL", s.table(table)));
        assert_eq!(gone, "t", "{table} is left");
    }
}

#[test]
fn appending_duplicate_keys_fails_at_once_and_keeps_what_was_there() {
    let s = TestSchema::new("append_dup");
    let dir = tempfile::tempdir().unwrap();
    let genfile = write(
        dir.path(),
        "dup.toml",
        r#"
[tables.t]
rows = 2000
[tables.t.columns]
id = { gen = "sequence", primary_key = true }
n  = { gen = "int", min = 0, max = 9 }
"#,
    );
    let go = |if_exists: &str| {
        run(datagen()
            .env("DATAGEN_IF_EXISTS", if_exists)
            .env("DATAGEN_MAX_RESTARTS", "5")
            .env("DATAGEN_BACKOFF_MS", "1")
            .arg("--config")
            .arg(&genfile)
            .args(["--quiet", "--target", &s.url()]))
    };
    let first = go("fail");
    assert!(first.status.success(), "{}", stderr(&first));
    let second = go("append");
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("duplicate key"), "{err}");
    assert!(!err.contains("gave up after"), "{err}");
    // The table was there before: it stays, with its rows.
    assert_eq!(
        s.pg.value(&format!("SELECT count(*) FROM {}", s.table("t"))),
        "2000"
    );
}

#[test]
fn giving_up_after_restarts_keeps_the_committed_rows_for_resume() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let target = format!("sqlite://{}", db.display());
    let base = |cmd: &mut Command| {
        cmd.env("DATAGEN_BATCH_ROWS", "500")
            .env("DATAGEN_COMMIT_ROWS", "1000")
            .arg("--config")
            .arg(&genfile)
            .args(["--scale", "0.05"]);
    };
    let mut cmd = datagen();
    base(&mut cmd);
    let out = run(cmd
        .env("DATAGEN_MAX_RESTARTS", "2")
        .env("DATAGEN_BACKOFF_MS", "1")
        .args([
            "--quiet",
            "--chaos",
            "target.error_every=7",
            "--target",
            &target,
        ]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("gave up after 2 restarts"), "{err}");
    assert!(err.contains("rows are committed in"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(!db.exists(), "nothing is published");
    let mut cmd = datagen();
    base(&mut cmd);
    let resumed = run(cmd.args(["--quiet", "--resume", "--target", &target]));
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let reference = dir.path().join("reference.db");
    let mut cmd = datagen();
    base(&mut cmd);
    let out = run(cmd
        .args(["--quiet", "--target"])
        .arg(format!("sqlite://{}", reference.display())));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dump(&db), dump(&reference));
}

#[test]
fn a_signal_while_keys_are_added_leaves_them_to_resume() {
    let s = TestSchema::new("keys_sigint");
    let genfile = schema("shop.toml");
    let mut child = datagen()
        .env("DATAGEN_LOG", "info")
        .arg("--config")
        .arg(&genfile)
        .args(["--scale", "0.5", "--target", &s.url()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The run says when the rows are in and the keys are being added.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("adding keys") {
            break;
        }
    }
    interrupt(&child);
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let out = wait(child, Duration::from_secs(10));
    let err = format!("{seen}{}", rest.join().unwrap().join("\n"));
    let keys = || {
        s.pg.value(&format!(
            "SELECT count(*) FROM pg_constraint WHERE connamespace = '{}'::regnamespace AND contype IN ('p', 'u', 'f')",
            s.name
        ))
    };
    match out.status.code() {
        Some(130) => {
            assert!(err.contains("--resume"), "{err}");
            let resumed = run(datagen().arg("--config").arg(&genfile).args([
                "--quiet",
                "--scale",
                "0.5",
                "--resume",
                "--target",
                &s.url(),
            ]));
            assert!(resumed.status.success(), "{}", stderr(&resumed));
        }
        // The keys were all in before the signal came.
        Some(0) => {}
        other => panic!("ended with {other:?}: {err}"),
    }
    // Every key is there once: primary keys, unique keys, foreign keys.
    let expected = run(datagen()
        .args(["ddl", "--dialect", "postgres", "--keys-after", "--config"])
        .arg(&genfile));
    let statements = String::from_utf8_lossy(&expected.stdout)
        .matches("ALTER TABLE")
        .count();
    assert_eq!(keys(), statements.to_string(), "{err}");
}

#[test]
fn log_lines_have_no_colours_outside_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = write(
        dir.path(),
        "g.toml",
        "[tables.t]\nrows = 3\n[tables.t.columns]\nid = { gen = \"sequence\" }\n",
    );
    let out = run(datagen()
        .env("DATAGEN_LOG", "info")
        .arg("--config")
        .arg(&genfile)
        .args(["--quiet", "--target", "null://"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}
