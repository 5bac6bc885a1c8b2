//! `--shard K/N`: the N shards of a run, each generating a slice of every
//! table, together hold exactly the rows of one run — in files (byte for
//! byte once concatenated) and in PostgreSQL (loaded concurrently into the
//! same tables, keys added once by the last shard). Shards run with other
//! worker counts than the run they are compared with, so the comparison
//! also shows that workers do not change the data.

use std::path::Path;
use std::process::{Command, Output};

use super::canon::{self, Rows};
use super::pg::TestSchema;
use super::support::{datagen, dump, file_names, run, schema, stderr};

const SCALE: &str = "0.02";

fn shop(target: &str, args: &[&str]) -> Command {
    let mut cmd = shop_loud(target, args);
    cmd.arg("--quiet");
    cmd
}

/// [`shop`] with its summary on standard error.
fn shop_loud(target: &str, args: &[&str]) -> Command {
    let mut cmd = datagen();
    cmd.arg("--config")
        .arg(schema("shop.toml"))
        .args(["--scale", SCALE, "--target", target])
        .args(args);
    cmd
}

fn ok(out: &Output) {
    assert!(out.status.success(), "datagen failed: {}", stderr(out));
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A shard's file next to the whole run's: `orders.csv` → `orders-00001-of-00003.csv`.
fn part(dir: &Path, stem: &str, ext: &str, k: u64, n: u64) -> std::path::PathBuf {
    dir.join(format!("{stem}-{k:05}-of-{n:05}.{ext}"))
}

#[test]
fn file_shards_concatenate_to_one_run() {
    let model = canon::schema(&schema("shop.toml"));
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = (dir.path().join("whole"), dir.path().join("parts"));
    for (format, n, workers) in [("csv", 3u64, "2"), ("jsonl", 4, "4")] {
        let target = |d: &Path| format!("{format}://{}", d.join(format).display());
        ok(&run(&mut shop(&target(&whole), &["--workers", "1"])));
        // The shards share one directory, as on shared storage.
        for k in 0..n {
            ok(&run(&mut shop(
                &target(&parts),
                &["--shard", &format!("{k}/{n}"), "--workers", workers],
            )));
        }
        let files = file_names(&parts.join(format));
        assert_eq!(
            files.len() as u64,
            n * model.tables.len() as u64,
            "one file per table and shard, nothing else: {files:?}"
        );
        for table in &model.tables {
            let expected = read(&whole.join(format).join(format!("{}.{format}", table.name)));
            let mut joined = Vec::new();
            for k in 0..n {
                let bytes = read(&part(&parts.join(format), &table.name, format, k, n));
                if format == "csv" {
                    // Every part is a CSV file of its own, with the header.
                    let header = expected.split_inclusive(|&b| b == b'\n').next().unwrap();
                    assert!(
                        bytes.starts_with(header),
                        "{}: part {k} has the header",
                        table.name
                    );
                    if k > 0 {
                        joined.extend_from_slice(&bytes[header.len()..]);
                        continue;
                    }
                }
                joined.extend_from_slice(&bytes);
            }
            assert!(
                joined == expected,
                "{format} {}: the shards in order are not the run",
                table.name
            );
        }
    }
}

#[test]
fn sql_and_sqlite_shards_hold_the_run() {
    let genfile = schema("shop.toml");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let whole = d.join("whole.db");
    ok(&run(&mut shop(
        &format!("sqlite://{}", whole.display()),
        &[],
    )));

    // SQL scripts: the tables from `datagen ddl`, then every shard's rows.
    let n = 3;
    for k in 0..n {
        ok(&run(&mut shop(
            &format!("sql://{}?dialect=sqlite", d.join("rows.sql").display()),
            &["--shard", &format!("{k}/{n}")],
        )));
    }
    let ddl = run(datagen()
        .args(["ddl", "--dialect", "sqlite", "--config"])
        .arg(&genfile));
    ok(&ddl);
    let loaded = d.join("from-scripts.db");
    let conn = rusqlite::Connection::open(&loaded).unwrap();
    conn.execute_batch(&String::from_utf8(ddl.stdout).unwrap())
        .unwrap();
    for k in 0..n {
        let script = String::from_utf8(read(&part(d, "rows", "sql", k, n))).unwrap();
        assert!(
            !script.contains("CREATE TABLE"),
            "shard scripts hold rows only"
        );
        conn.execute_batch(&script)
            .unwrap_or_else(|e| panic!("shard {k}: {e}"));
    }
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let dangling: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        dangling, 0,
        "every reference finds its row once all shards are in"
    );
    drop(conn);
    assert_eq!(dump(&loaded), dump(&whole));

    // SQLite: one database per shard; together, the run's rows.
    let model = canon::schema(&genfile);
    for k in 0..2 {
        ok(&run(&mut shop(
            &format!("sqlite://{}", d.join("shop.db").display()),
            &["--shard", &format!("{k}/2")],
        )));
    }
    for table in &model.tables {
        let mut rows: Rows = (0..2)
            .flat_map(|k| canon::from_sqlite(&part(d, "shop", "db", k, 2), table))
            .collect();
        rows.sort();
        canon::assert_same(&rows, &canon::from_sqlite(&whole, table), &table.name);
    }
}

fn keys(db: &TestSchema) -> Vec<Vec<Option<String>>> {
    db.pg.rows(&format!(
        "SELECT r.relname::text, contype::text, convalidated::text,
                replace(pg_get_constraintdef(c.oid), n.nspname || '.', '')
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         JOIN pg_class r ON r.oid = c.conrelid
         WHERE n.nspname = '{}' AND r.relname NOT LIKE 'datagen_%'
         ORDER BY 1, 2, 4",
        db.name
    ))
}

#[test]
fn postgres_shards_loaded_at_once_equal_one_run() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let whole = TestSchema::new("shards_whole");
    ok(&run(&mut shop(&whole.url(), &[])));

    let sharded = TestSchema::new("shards");
    let n = 3;
    // All shards at once, each with its own connections, as the pods of an
    // indexed job would; small commit units so their commits interleave.
    // Shard 1 fails every twentieth batch (of 1,000 rows; commits every
    // 5,000) and is restarted from its commits.
    let children: Vec<_> = (0..n)
        .map(|k| {
            let shard = format!("{k}/{n}");
            let mut cmd = match k {
                1 => shop_loud(
                    &sharded.url(),
                    &["--shard", &shard, "--chaos", "target.error_every=20"],
                ),
                _ => shop(&sharded.url(), &["--shard", &shard, "--workers", "1"]),
            };
            cmd.env("DATAGEN_COMMIT_ROWS", "5000")
                .env("DATAGEN_BATCH_ROWS", "1000")
                .env("DATAGEN_CONNECTIONS", "2")
                .env("DATAGEN_MAX_RESTARTS", "30")
                .env("DATAGEN_BACKOFF_MS", "1")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        ok(&out);
        if k == 1 {
            assert!(
                stderr(&out).contains("supervision: "),
                "shard 1 was restarted: {}",
                stderr(&out)
            );
        }
    }
    let expected = canon::pg_tables(&whole, &model);
    let actual = canon::pg_tables(&sharded, &model);
    for ((table, a), e) in model.tables.iter().zip(&actual).zip(&expected) {
        canon::assert_same(a, e, &table.name);
    }
    assert_eq!(
        keys(&sharded),
        keys(&whole),
        "the last shard added every key"
    );
    let total: u64 = expected.iter().map(|t| t.len() as u64).sum();
    assert_eq!(
        sharded.pg.value(&format!(
            "SELECT sum(rows) FROM {}",
            sharded.table("datagen_progress")
        )),
        total.to_string()
    );

    // A shard run again finds its rows committed and adds none.
    ok(&run(&mut shop(&sharded.url(), &["--shard", "1/3"])));
    assert_eq!(canon::pg_tables(&sharded, &model), expected);

    // Another shard count, or keys checked during the load: refused.
    let other = run(&mut shop(&sharded.url(), &["--shard", "0/2"]));
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    assert!(stderr(&other).contains("3 shards"), "{}", stderr(&other));
    let during =
        run(shop(&sharded.url(), &["--shard", "0/3"]).env("DATAGEN_CONSTRAINTS", "during"));
    assert_eq!(during.status.code(), Some(2), "{}", stderr(&during));
    assert!(
        stderr(&during).contains("constraints"),
        "{}",
        stderr(&during)
    );
}

#[test]
fn a_bad_shard_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["3/3", "1", "a/b", "0/0", "-1/2"] {
        let out = run(&mut shop(
            &format!("csv://{}", dir.path().join("x").display()),
            &[&format!("--shard={bad}")],
        ));
        assert_eq!(
            out.status.code(),
            Some(2),
            "--shard {bad}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("K/N"), "{}", stderr(&out));
    }
    assert!(!dir.path().join("x").exists());
}
