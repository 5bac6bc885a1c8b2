//! Exactly-once resume: a run killed (SIGKILL) or stopped (SIGINT) at any
//! moment and finished with `--resume` leaves the same data as a run never
//! disturbed, in SQLite and in PostgreSQL; resuming with another seed is
//! refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use super::canon;
use super::pg::TestSchema;
use super::support::{datagen, dump, file_names, run, schema, stderr};

const SCALE: &str = "0.1";

fn command(genfile: &Path, target: &str, extra: &[&str]) -> Command {
    let mut cmd = datagen();
    cmd.env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_COMMIT_ROWS", "4000")
        .arg("--config")
        .arg(genfile)
        .args(["--quiet", "--scale", SCALE, "--target", target])
        .args(extra);
    cmd
}

fn spawn(genfile: &Path, target: &str, extra: &[&str]) -> Child {
    command(genfile, target, extra)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok || sig == "-KILL", "kill {sig}");
}

/// Interrupts a run after `delay` with `sig`, then finishes it with
/// `--resume` (when it did not end on its own first). Returns the
/// interrupted run's output.
fn interrupt_and_resume(genfile: &Path, target: &str, sig: &str, delay: Duration) -> Output {
    interrupt_and_resume_with(genfile, target, sig, delay, &[])
}

/// [`interrupt_and_resume`] with `extra` arguments for both runs.
fn interrupt_and_resume_with(
    genfile: &Path,
    target: &str,
    sig: &str,
    delay: Duration,
    extra: &[&str],
) -> Output {
    let child = spawn(genfile, target, extra);
    std::thread::sleep(delay);
    signal(&child, sig);
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        let resumed = run(&mut command(
            genfile,
            target,
            &[extra, &["--resume"]].concat(),
        ));
        assert!(
            resumed.status.success(),
            "resume after {sig} at {delay:?} failed: {}",
            stderr(&resumed)
        );
    }
    out
}

const DELAYS: [u64; 3] = [150, 500, 1000];

#[test]
fn sqlite_killed_or_stopped_at_any_moment_resumes_to_the_same_file() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    let out = run(&mut command(
        &genfile,
        &format!("sqlite://{}", reference.display()),
        &[],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = dump(&reference);
    let mut interrupted = 0;
    for (i, delay) in DELAYS.iter().enumerate() {
        for sig in ["-KILL", "-INT"] {
            let db: PathBuf = dir.path().join(format!("run{i}{sig}.db"));
            let target = format!("sqlite://{}", db.display());
            let out = interrupt_and_resume(&genfile, &target, sig, Duration::from_millis(*delay));
            if !out.status.success() {
                interrupted += 1;
            }
            if sig == "-INT" && !out.status.success() {
                assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
                assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
            }
            assert_eq!(dump(&db), expected, "{sig} after {delay} ms");
            let left: Vec<_> = file_names(dir.path())
                .into_iter()
                .filter(|n| n.contains("datagen-tmp"))
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
    }
    assert!(
        interrupted >= 4,
        "only {interrupted} runs were interrupted mid-way"
    );
}

#[test]
fn postgres_killed_or_stopped_at_any_moment_resumes_to_the_same_tables() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let reference = TestSchema::new("resume_ref");
    let out = run(&mut command(&genfile, &reference.url(), &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let tables = |db: &TestSchema| -> Vec<canon::Rows> {
        model
            .tables
            .iter()
            .map(|t| canon::from_pg(&db.pg, t, &db.table(&t.name)))
            .collect()
    };
    let expected = tables(&reference);
    let keys = |db: &TestSchema| {
        db.pg.value(&format!(
            "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
             WHERE n.nspname = '{}' AND c.convalidated",
            db.name
        ))
    };
    let mut interrupted = 0;
    for delay in DELAYS {
        for sig in ["-KILL", "-INT"] {
            let db = TestSchema::new("resume");
            let out = interrupt_and_resume(&genfile, &db.url(), sig, Duration::from_millis(delay));
            if !out.status.success() {
                interrupted += 1;
            }
            let actual = tables(&db);
            for (i, t) in model.tables.iter().enumerate() {
                canon::assert_same(
                    &actual[i],
                    &expected[i],
                    &format!("{} after {sig} at {delay} ms", t.name),
                );
            }
            assert_eq!(
                keys(&db),
                keys(&reference),
                "keys after {sig} at {delay} ms"
            );
        }
    }
    assert!(
        interrupted >= 4,
        "only {interrupted} runs were interrupted mid-way"
    );
}

#[test]
fn resuming_with_another_seed_is_refused() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let db = TestSchema::new("resume_seed");
    let sqlite = format!("sqlite://{}", dir.path().join("x.db").display());
    for target in [sqlite, db.url()] {
        let child = spawn(&genfile, &target, &[]);
        std::thread::sleep(Duration::from_millis(700));
        signal(&child, "-INT");
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
        let other = run(&mut command(
            &genfile,
            &target,
            &["--resume", "--seed", "99"],
        ));
        assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
        assert!(
            stderr(&other).contains("different Genfile, seed or scale"),
            "{}",
            stderr(&other)
        );
        // The same seed still finishes it.
        let same = run(&mut command(&genfile, &target, &["--resume"]));
        assert!(same.status.success(), "{}", stderr(&same));
    }
}

#[test]
fn postgres_connections_terminated_mid_load_are_survived_exactly_once() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let reference = TestSchema::new("drop_ref");
    let out = run(&mut command(&genfile, &reference.url(), &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let db = TestSchema::new("drop");
    let mut child = spawn(&genfile, &db.url(), &[]);
    let killer = super::pg::Pg::connect(super::pg::server()).unwrap();
    let mut terminated = 0;
    // Only connections busy copying rows (a terminated ALTER TABLE of the
    // finishing phase is not retried).
    while terminated < 4 && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(20));
        let n: usize = killer
            .value(&format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = 'datagen' AND query LIKE 'COPY \"{}\".%'
                   AND state = 'active'",
                db.name
            ))
            .parse()
            .unwrap();
        terminated += n;
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(terminated > 0, "no busy connection was terminated");
    for t in &model.tables {
        canon::assert_same(
            &canon::from_pg(&db.pg, t, &db.table(&t.name)),
            &canon::from_pg(&reference.pg, t, &reference.table(&t.name)),
            &format!("{} after {terminated} terminated connections", t.name),
        );
    }
}

#[test]
fn file_targets_killed_or_stopped_resume_to_the_same_bytes() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run(&mut command(
        &genfile,
        &format!("csv://{}", d.join("ref").display()),
        &[],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&mut command(
        &genfile,
        &format!("sql://{}", d.join("ref.sql").display()),
        &[],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let tables = ["customers", "products", "orders", "order_items"];
    let mut interrupted = 0;
    for (i, delay) in DELAYS.iter().enumerate() {
        for sig in ["-KILL", "-INT"] {
            let csv = d.join(format!("csv{i}{sig}"));
            let out = interrupt_and_resume(
                &genfile,
                &format!("csv://{}", csv.display()),
                sig,
                Duration::from_millis(*delay),
            );
            interrupted += usize::from(!out.status.success());
            for t in tables {
                let name = format!("{t}.csv");
                assert!(
                    std::fs::read(csv.join(&name)).unwrap()
                        == std::fs::read(d.join("ref").join(&name)).unwrap(),
                    "{name} after {sig} at {delay} ms"
                );
            }
            let hidden: Vec<_> = file_names(&csv)
                .into_iter()
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(hidden.is_empty(), "{hidden:?}");

            let sql = d.join(format!("x{i}{sig}.sql"));
            let out = interrupt_and_resume(
                &genfile,
                &format!("sql://{}", sql.display()),
                sig,
                Duration::from_millis(*delay),
            );
            interrupted += usize::from(!out.status.success());
            assert!(
                std::fs::read(&sql).unwrap() == std::fs::read(d.join("ref.sql")).unwrap(),
                "SQL script after {sig} at {delay} ms"
            );
        }
    }
    assert!(
        interrupted >= 4,
        "only {interrupted} runs were interrupted mid-way"
    );
    let left: Vec<_> = file_names(d)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_interrupted_shard_resumes_beside_the_others() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shard = ["--shard", "1/2"];
    let reference = d.join("ref");
    let out = run(&mut command(
        &genfile,
        &format!("csv://{}", reference.display()),
        &shard,
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut interrupted = 0;
    for (i, delay) in [150u64, 400].iter().enumerate() {
        for sig in ["-KILL", "-INT"] {
            // Shard 0 finished in the same directory: its files and
            // checkpoint must not be taken for shard 1's.
            let csv = d.join(format!("csv{i}{sig}"));
            let target = format!("csv://{}", csv.display());
            let out = run(&mut command(&genfile, &target, &["--shard", "0/2"]));
            assert!(out.status.success(), "{}", stderr(&out));
            let out = interrupt_and_resume_with(
                &genfile,
                &target,
                sig,
                Duration::from_millis(*delay),
                &shard,
            );
            interrupted += usize::from(!out.status.success());
            for t in ["customers", "products", "orders", "order_items"] {
                let name = format!("{t}-00001-of-00002.csv");
                assert!(
                    std::fs::read(csv.join(&name)).unwrap()
                        == std::fs::read(reference.join(&name)).unwrap(),
                    "{name} after {sig} at {delay} ms"
                );
                assert!(csv.join(format!("{t}-00000-of-00002.csv")).exists());
            }
            let hidden: Vec<_> = file_names(&csv)
                .into_iter()
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(hidden.is_empty(), "{hidden:?}");
        }
    }
    assert!(
        interrupted >= 2,
        "only {interrupted} runs were interrupted mid-way"
    );
}
