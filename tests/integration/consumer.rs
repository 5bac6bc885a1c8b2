//! The metering feed end to end: `datagen stream` publishes rotated files,
//! the reference consumer (`schemas/metering_consumer.sh`) sums them into
//! PostgreSQL, is killed midway and started again, and `datagen verify`
//! proves every file was counted exactly once — then finds the consumers
//! whose totals are wrong once a file is counted twice.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use super::pg::{server, TestSchema};
use super::support::{datagen, root, run, schema, stderr};

const ROWS: &str = "60000";

fn consumer(feed: &Path, db: &TestSchema) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("schemas/metering_consumer.sh"))
        .arg(feed)
        .arg(server())
        .arg(&db.name);
    cmd
}

fn verify(db: &TestSchema) -> Output {
    run(datagen()
        .args(["verify", "--config"])
        .arg(schema("metering.toml"))
        .args(["--stream", "--max-rows", ROWS, "--table", "consumer_totals"])
        .args(["--target", &db.url()]))
}

#[test]
fn a_killed_consumer_counts_every_file_once_and_verify_proves_it() {
    if Command::new("psql").arg("--version").output().is_err() {
        panic!("psql is needed to run the reference consumer: install postgresql-client");
    }
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    let out = run(datagen()
        .args(["stream", "--quiet", "--config"])
        .arg(schema("metering.toml"))
        .args(["--rate", "max", "--max-rows", ROWS, "--target"])
        .arg(format!(
            "files://{}?format=text&template={{consumer_id}} {{kwh}}&rotate_rows=1000",
            feed.display()
        )));
    assert!(out.status.success(), "{}", stderr(&out));
    let db = TestSchema::new("consumer");

    // Killed (the whole process group, psql too) once it has counted a
    // few of the 60 files.
    let counted = || -> usize {
        let table = db.table("consumed_files");
        let exists = db.pg.value(&format!(
            "SELECT to_regclass('{}') IS NOT NULL",
            table.replace('\'', "''")
        ));
        if exists != "t" {
            return 0;
        }
        db.pg
            .value(&format!("SELECT count(*) FROM {table}"))
            .parse()
            .unwrap()
    };
    let child = consumer(&feed, &db).process_group(0).spawn().unwrap();
    let started = std::time::Instant::now();
    while counted() < 5 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let killed = child.wait_with_output().unwrap();
    let midway = counted();
    assert!(
        !killed.status.success() && midway < 60,
        "the kill landed after {midway} of 60 files"
    );
    let out = consumer(&feed, &db).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(counted(), 60);
    let out = verify(&db);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("consumer_totals  ok"), "{text}");

    // A consumer that loses its record of one file counts it twice.
    db.pg.execute(&format!(
        "DELETE FROM {} WHERE name = 'readings-000000017.txt'",
        db.table("consumed_files")
    ));
    let out = consumer(&feed, &db).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = verify(&db);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("consumer_totals  DIFFERS"), "{text}");
    assert!(text.contains("changed: "), "{text}");
    assert!(text.contains("        consumer_id="), "{text}");
    assert!(text.contains("readings: expected "), "{text}");
}
