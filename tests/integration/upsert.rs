//! Upsert-add (`on_conflict`): a table loaded so holds, per key, the sums
//! of its rows — equal to what SQLite itself sums from the plain rows —
//! in SQLite and PostgreSQL, exactly once across SIGKILL and `--resume`
//! and across lost connections; `datagen verify` agrees.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use rusqlite::Connection;

use super::pg::TestSchema;
use super::support::{datagen, run, schema, stderr};

const SCALE: &str = "0.05";

/// `schemas/metering.toml` with its readings summed per consumer.
fn genfile(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(schema("metering.toml")).unwrap().replace(
        "if_exists = \"replace\"",
        "if_exists = \"replace\"\non_conflict = { readings = { key = [\"consumer_id\"], add = [\"kwh\"], count = \"readings\" } }",
    );
    let path = dir.join("metering_totals.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn command(genfile: &Path, target: &str, extra: &[&str]) -> Command {
    scaled(genfile, target, SCALE, extra)
}

fn scaled(genfile: &Path, target: &str, scale: &str, extra: &[&str]) -> Command {
    let mut cmd = datagen();
    cmd.env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_COMMIT_ROWS", "3000")
        .arg("--config")
        .arg(genfile)
        .args(["--quiet", "--scale", scale, "--target", target])
        .args(extra);
    cmd
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
}

fn verify(genfile: &Path, target: &str) -> Output {
    run(datagen()
        .args(["verify", "--config"])
        .arg(genfile)
        .args(["--scale", SCALE, "--target", target]))
}

type Totals = BTreeMap<String, (String, i64)>;

/// Per consumer, the sum of kwh at 3 decimals and the readings, as the
/// plain rows in SQLite add up.
fn totals_from_rows(dir: &Path, scale: &str) -> Totals {
    let db = dir.join(format!("plain-{scale}.db"));
    ok(&run(&mut scaled(
        &schema("metering.toml"),
        &format!("sqlite://{}", db.display()),
        scale,
        &[],
    )));
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT consumer_id, printf('%.3f', coalesce(sum(kwh), 0)), count(*) FROM readings GROUP BY consumer_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn totals_in_sqlite(db: &Path) -> Totals {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT consumer_id, printf('%.3f', kwh), readings FROM readings")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn totals_in_pg(db: &TestSchema) -> Totals {
    db.pg
        .rows(&format!(
            "SELECT consumer_id::text, kwh::text, readings::text FROM {}",
            db.table("readings")
        ))
        .into_iter()
        .map(|r| {
            let v = |i: usize| r[i].clone().unwrap();
            (v(0), (v(1), v(2).parse().unwrap()))
        })
        .collect()
}

#[test]
fn upsert_add_totals_equal_the_sums_of_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let expected = totals_from_rows(dir.path(), SCALE);
    assert_eq!(expected.len(), 1_000);
    let genfile = genfile(dir.path());

    let db = dir.path().join("totals.db");
    let target = format!("sqlite://{}", db.display());
    ok(&run(&mut command(&genfile, &target, &["--workers", "2"])));
    assert_eq!(totals_in_sqlite(&db), expected);
    let out = verify(&genfile, &target);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // `ddl` prints the table of sums as a load creates it.
    let ddl = run(datagen()
        .args(["ddl", "--dialect", "postgres", "--config"])
        .arg(&genfile));
    let ddl = String::from_utf8_lossy(&ddl.stdout).into_owned();
    assert_eq!(ddl.matches("CREATE TABLE \"readings\"").count(), 1, "{ddl}");
    assert!(ddl.contains("\"kwh\" numeric(38, 3) NOT NULL"), "{ddl}");
    assert!(ddl.contains("PRIMARY KEY (\"consumer_id\")"), "{ddl}");

    let pg = TestSchema::new("upsert_totals");
    ok(&run(&mut command(&genfile, &pg.url(), &[])));
    assert_eq!(totals_in_pg(&pg), expected);
    let out = verify(&genfile, &pg.url());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A reading counted twice is found, by key.
    pg.pg.execute(&format!(
        "UPDATE {} SET kwh = kwh + 0.5, readings = readings + 1 WHERE consumer_id = (SELECT consumer_id FROM {} ORDER BY consumer_id LIMIT 1)",
        pg.table("readings"),
        pg.table("readings")
    ));
    let out = verify(&genfile, &pg.url());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("changed: 1 row\n        consumer_id="),
        "{text}"
    );
    assert!(text.contains("readings: expected 48, found 49"), "{text}");
}

#[test]
fn upsert_add_is_exactly_once_across_sigkill_and_lost_connections() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that a kill lands mid-load.
    const BIG: &str = "0.5";
    let expected = totals_from_rows(dir.path(), BIG);
    let genfile = genfile(dir.path());
    let mut interrupted = 0;
    for delay in [150, 400] {
        let pg = TestSchema::new(&format!("upsert_kill_{delay}"));
        let child = scaled(&genfile, &pg.url(), BIG, &[])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            interrupted += 1;
            ok(&run(&mut scaled(&genfile, &pg.url(), BIG, &["--resume"])));
        }
        assert_eq!(totals_in_pg(&pg), expected, "killed after {delay} ms");
    }
    assert!(interrupted > 0, "no kill landed mid-load");
    let pg = TestSchema::new("upsert_drops");
    ok(&run(&mut scaled(
        &genfile,
        &pg.url(),
        BIG,
        &["--chaos", "target.drop_connection_every=3"],
    )));
    assert_eq!(totals_in_pg(&pg), expected);
    let out = run(datagen().args(["verify", "--config"]).arg(&genfile).args([
        "--scale",
        BIG,
        "--target",
        &pg.url(),
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
