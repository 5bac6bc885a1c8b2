//! Supervision under injected faults: errors and panics in the sink and the
//! generator are survived by restarting from the target's checkpoint, and
//! the data equals an undisturbed run's; when the policy gives up the run
//! fails with exit 1 and leaves nothing half-done.

use std::path::Path;
use std::process::Output;

use super::canon;
use super::pg::TestSchema;
use super::support::{datagen, dump, run, schema, stderr};

const CHAOS: &str =
    "target.error_every=40,target.panic_at=25,source.panic_at=60000,buffer.delay_ms=1";

fn go(genfile: &Path, target: &str, chaos: Option<&str>) -> Output {
    let mut cmd = datagen();
    cmd.env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_COMMIT_ROWS", "5000")
        .env("DATAGEN_MAX_RESTARTS", "30")
        .env("DATAGEN_BACKOFF_MS", "1")
        .arg("--config")
        .arg(genfile)
        .args(["--scale", "0.05", "--target", target]);
    if let Some(spec) = chaos {
        cmd.args(["--chaos", spec]);
    }
    run(&mut cmd)
}

fn restarted(out: &Output) -> u32 {
    assert!(out.status.success(), "{}", stderr(out));
    let err = stderr(out);
    let line = err
        .lines()
        .find(|l| l.starts_with("supervision: "))
        .unwrap_or_else(|| panic!("no supervision line in {err}"));
    line["supervision: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn sqlite_survives_injected_faults_with_identical_data() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let calm = dir.path().join("calm.db");
    let out = go(&genfile, &format!("sqlite://{}", calm.display()), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let stormy = dir.path().join("stormy.db");
    let out = go(
        &genfile,
        &format!("sqlite://{}", stormy.display()),
        Some(CHAOS),
    );
    let n = restarted(&out);
    assert!(n >= 4, "{n} restarts: {}", stderr(&out));
    assert!(
        stderr(&out).contains("chaos: source.panic_at=60000"),
        "{}",
        stderr(&out)
    );
    assert_eq!(dump(&stormy), dump(&calm));
}

#[test]
fn postgres_survives_injected_faults_with_identical_data() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let calm = TestSchema::new("calm");
    let stormy = TestSchema::new("stormy");
    let out = go(&genfile, &calm.url(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = go(&genfile, &stormy.url(), Some(CHAOS));
    assert!(restarted(&out) >= 4, "{}", stderr(&out));
    for t in &model.tables {
        canon::assert_same(
            &canon::from_pg(&stormy.pg, t, &stormy.table(&t.name)),
            &canon::from_pg(&calm.pg, t, &calm.table(&t.name)),
            &t.name,
        );
    }
}

#[test]
fn file_targets_start_over_and_publish_the_same_files() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = go(
        &genfile,
        &format!("csv://{}", dir.path().join("calm").display()),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = go(
        &genfile,
        &format!("csv://{}", dir.path().join("stormy").display()),
        // One-shot faults: a file target starts over after each, so a
        // periodic one would never let a run finish (datagen gives up).
        Some("target.panic_at=30,source.panic_at=150000"),
    );
    assert!(restarted(&out) >= 2, "{}", stderr(&out));
    for table in ["customers", "products", "orders", "order_items"] {
        let a = std::fs::read(dir.path().join("calm").join(format!("{table}.csv"))).unwrap();
        let b = std::fs::read(dir.path().join("stormy").join(format!("{table}.csv"))).unwrap();
        assert!(a == b, "{table}.csv differs");
    }
}

#[test]
fn when_the_policy_gives_up_what_is_committed_resumes_to_the_same_data() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let calm = dir.path().join("calm.db");
    let out = go(&genfile, &format!("sqlite://{}", calm.display()), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = dir.path().join("x.db");
    let target = format!("sqlite://{}", db.display());
    let out = run(datagen()
        .env("DATAGEN_MAX_RESTARTS", "2")
        .env("DATAGEN_BACKOFF_MS", "1")
        .env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_COMMIT_ROWS", "5000")
        .arg("--config")
        .arg(&genfile)
        .args([
            "--quiet",
            "--scale",
            "0.05",
            "--chaos",
            "target.error_every=3",
        ])
        .args(["--target", &target]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("gave up after 2 restarts"), "{err}");
    // Commit units shrank after each failure, so some got through; they
    // stay for --resume, which finishes the run.
    assert!(err.contains("--resume"), "{err}");
    assert!(!db.exists(), "nothing is published");
    let out = run(datagen()
        .env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_COMMIT_ROWS", "5000")
        .arg("--config")
        .arg(&genfile)
        .args([
            "--quiet", "--scale", "0.05", "--resume", "--target", &target,
        ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(dump(&db), dump(&calm));

    let bad = run(datagen()
        .arg("--config")
        .arg(&genfile)
        .args(["--chaos", "target.explode=1"]));
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown fault"), "{}", stderr(&bad));
}

#[test]
fn faults_that_leave_no_commit_through_are_declared_a_stall() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    for strategy in ["one_for_one", "one_for_all", "rest_for_one"] {
        let out = run(datagen()
            .env("DATAGEN_MAX_RESTARTS", "1000")
            .env("DATAGEN_BATCH_ROWS", "1000")
            .env("DATAGEN_COMMIT_ROWS", "8000")
            .env("DATAGEN_BACKOFF_MS", "10")
            .env("DATAGEN_STRATEGY", strategy)
            .arg("--config")
            .arg(&genfile)
            .args([
                "--quiet",
                "--scale",
                "0.05",
                "--chaos",
                "target.error_every=1",
            ])
            .args([
                "--target",
                &format!("sqlite://{}", dir.path().join("x.db").display()),
            ]));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        // Units halve 8 → 4 → 2 → 1 batches; once at one batch with
        // nothing committed across three restarts, the run stops, with
        // the figures — not after the thousand restarts allowed.
        assert!(
            err.contains("gave up after 3 restarts")
                && err.contains(
                    "stalled: no rows committed across 3 restarts with commits of one batch"
                )
                && err.contains("(0 of "),
            "{strategy}: {err}"
        );
        assert!(!dir.path().join("x.db").exists());
    }
}
