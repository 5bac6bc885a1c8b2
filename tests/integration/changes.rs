//! Change streams: a lifecycle's changes table is its rows' histories as
//! operations (insert, updates, a delete), each carrying the row as it is
//! after the change; a stream into SQLite or PostgreSQL applies them, and
//! killed (SIGKILL) and resumed midway leaves the table equal to an
//! independent replay of the change stream — and to `datagen verify`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::canon::{self, Rows};
use super::pg::TestSchema;
use super::support::{datagen, run, stderr};

const GENFILE: &str = r#"
version = 1
[run]
seed = 23

[tables.customers]
rows = 2000
[tables.customers.columns]
id        = { gen = "sequence", primary_key = true }
name      = { gen = "person.name" }
signed_up = { gen = "timestamp", min = "2024-01-01T00:00:00Z", max = "2024-03-01T00:00:00Z" }

[tables.orders]
per = { parent = "customers", count = { uniform = { min = 0, max = 4 } } }
[tables.orders.columns]
id          = { gen = "sequence", primary_key = true }
customer_id = { parent = "id" }
placed_at   = { gen = "timestamp", min = "parent.signed_up", max = "2024-04-01T00:00:00Z" }
total       = { gen = "decimal", min = 1, max = 500, scale = 2 }

[tables.orders.lifecycle]
states      = ["placed", "paid", "shipped", "delivered", "cancelled"]
since       = "placed_at"
at          = "updated_at"
transitions = { placed = { paid = 0.85, cancelled = 0.15 }, paid = { shipped = 1.0 }, shipped = { delivered = 1.0 } }
dwell       = { placed = { exponential = "3h" }, paid = { lognormal = { median = "1d", sigma = 0.5 } }, shipped = { uniform = ["1d", "4d"] } }
set         = { shipped = { shipped_at = "event_time" } }
delete      = { rate = 0.2, after = { exponential = "20d" } }
changes     = "order_changes"

[stream]
rate = "max"

[stream.tables.orders]
emit = false
"#;

const ROWS: &str = "12000";

fn genfile(dir: &Path) -> PathBuf {
    let path = dir.join("changes.toml");
    std::fs::write(&path, GENFILE).unwrap();
    path
}

fn stream(genfile: &Path, target: &str, extra: &[&str]) -> Command {
    let mut cmd = datagen();
    cmd.env("DATAGEN_BATCH_ROWS", "500")
        .env("DATAGEN_COMMIT_ROWS", "1000")
        .args(["stream", "--quiet", "--config"])
        .arg(genfile)
        .args(["--max-rows", ROWS, "--target", target])
        .args(extra);
    cmd
}

/// Streams into `target` at 8,000 rows/s, kills the stream after
/// `delay`, and finishes it with `--resume`.
fn killed_and_resumed(genfile: &Path, target: &str, delay: u64) {
    let child = stream(genfile, target, &["--rate", "8000"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(delay));
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "the kill landed after the stream's end"
    );
    let out = run(&mut stream(genfile, target, &["--resume"]));
    assert!(out.status.success(), "resume: {}", stderr(&out));
}

/// The orders the change stream leaves, replayed from its JSON Lines:
/// each change writes the row, a delete removes it.
fn replayed(genfile: &Path, dir: &Path) -> Rows {
    let files = dir.join("files");
    let out = run(&mut stream(
        genfile,
        &format!("jsonl://{}", files.display()),
        &[],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let schema = canon::schema(genfile);
    let changes = &schema.tables[schema.table_index("order_changes").unwrap()];
    let log = canon::jsonl_in_order(&files.join("order_changes.jsonl"), changes);
    assert!(log.len() > 5_000, "{} changes", log.len());
    let mut table: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    let mut ops = BTreeMap::new();
    for change in log {
        let op = change[0].clone().unwrap();
        *ops.entry(op.clone()).or_insert(0) += 1;
        // op, seq, changed_at, then the row: its key first.
        let row = change[3..].to_vec();
        let key = row[0].clone().unwrap();
        match op.as_str() {
            "insert" => assert!(table.insert(key, row).is_none(), "inserted twice"),
            "update" => assert!(table.insert(key, row).is_some(), "updated before insert"),
            "delete" => assert!(table.remove(&key).is_some(), "deleted before insert"),
            other => panic!("op {other}"),
        }
    }
    assert!(ops.len() == 3 && ops["delete"] > 100, "{ops:?}");
    let mut rows: Rows = table.into_values().collect();
    rows.sort();
    rows
}

fn verify(genfile: &Path, target: &str) -> std::process::Output {
    run(datagen()
        .args(["verify", "--stream", "--max-rows", ROWS, "--config"])
        .arg(genfile)
        .args(["--target", target]))
}

#[test]
fn the_changes_of_a_row_are_its_history_ending_in_its_final_state() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let db = dir.path().join("batch.db");
    let out = run(datagen()
        .args(["--quiet", "--config"])
        .arg(&genfile)
        .arg("--target")
        .arg(format!("sqlite://{}", db.display())));
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT c.id, group_concat(c.op, ' '), max(c.seq), count(*),
                    sum(c.seq = (SELECT max(seq) FROM order_changes WHERE id = c.id)
                        AND c.status = o.status AND c.updated_at = o.updated_at
                        AND c.shipped_at IS o.shipped_at AND c.total = o.total)
             FROM (SELECT * FROM order_changes ORDER BY id, seq) c JOIN orders o ON o.id = c.id
             GROUP BY c.id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .unwrap();
    let mut n = 0;
    for row in rows {
        let (id, ops, last, count, final_matches) = row.unwrap();
        n += 1;
        assert_eq!(last, count, "order {id}: seq 1..n");
        assert_eq!(
            final_matches, 1,
            "order {id}: the last change is the final row"
        );
        let ops: Vec<&str> = ops.split(' ').collect();
        assert_eq!(ops[0], "insert", "order {id}");
        assert!(
            ops[1..ops.len().saturating_sub(1)]
                .iter()
                .all(|o| *o == "update"),
            "order {id}: {ops:?}"
        );
    }
    let orders: i64 = conn
        .query_row("SELECT count(*) FROM orders", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, orders, "every order has changes");
    let deleted: i64 = conn
        .query_row(
            "SELECT count(*) FROM orders WHERE status = 'deleted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let deletes: i64 = conn
        .query_row(
            "SELECT count(*) FROM order_changes WHERE op = 'delete'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(deleted, deletes);
    assert!(deletes > 0);
}

#[test]
fn a_change_stream_applied_through_a_kill_equals_its_replay() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let expected = replayed(&genfile, dir.path());
    let schema = canon::schema(&genfile);
    let orders = &schema.tables[schema.table_index("orders").unwrap()];

    let db = dir.path().join("applied.db");
    let target = format!("sqlite://{}", db.display());
    killed_and_resumed(&genfile, &target, 500);
    canon::assert_same(&canon::from_sqlite(&db, orders), &expected, "SQLite orders");
    let out = verify(&genfile, &target);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let pg = TestSchema::new("changes");
    killed_and_resumed(&genfile, &pg.url(), 500);
    canon::assert_same(
        &canon::from_pg(&pg.pg, orders, &pg.table("orders")),
        &expected,
        "PostgreSQL orders",
    );
    let out = verify(&genfile, &pg.url());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Emitting the table too would write its rows twice.
    let both = dir.path().join("both.toml");
    std::fs::write(&both, GENFILE.replace("emit = false", "emit = true")).unwrap();
    let out = run(&mut stream(
        &both,
        &format!("sqlite://{}", dir.path().join("both.db").display()),
        &[],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("emit = false"), "{}", stderr(&out));
}

#[test]
fn debezium_events_apply_to_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let expected = replayed(&genfile, dir.path());
    let feed = dir.path().join("debezium");
    let out = run(&mut stream(
        &genfile,
        &format!("files://{}?format=debezium", feed.display()),
        &[],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let schema = canon::schema(&genfile);
    let orders = &schema.tables[schema.table_index("orders").unwrap()];
    let mut table: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    let mut last_seq: BTreeMap<String, i64> = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&feed)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("order_changes-")
        })
        .collect();
    files.sort();
    for file in files {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["source"]["table"], "orders");
            assert!(event["ts_ms"].as_i64().unwrap() > 1_700_000_000_000);
            let op = event["op"].as_str().unwrap();
            let key = match op {
                "d" => {
                    assert!(event["after"].is_null());
                    event["before"]["id"].to_string()
                }
                _ => {
                    assert!(event["before"].is_null());
                    event["after"]["id"].to_string()
                }
            };
            let seq = event["source"]["seq"].as_i64().unwrap();
            let previous = last_seq.insert(key.clone(), seq).unwrap_or(0);
            assert_eq!(seq, previous + 1, "order {key}: events in order");
            match op {
                "c" | "u" => {
                    let after = event["after"].as_object().unwrap();
                    let row = orders
                        .columns
                        .iter()
                        .map(|c| match &after[&c.name] {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) => Some(canon::canonical(c.sql_type, s)),
                            other => Some(canon::canonical(c.sql_type, &other.to_string())),
                        })
                        .collect();
                    let existed = table.insert(key, row).is_some();
                    assert_eq!(existed, op == "u", "c creates, u updates");
                }
                "d" => assert!(table.remove(&key).is_some()),
                other => panic!("op {other}"),
            }
        }
    }
    let mut rows: Rows = table.into_values().collect();
    rows.sort();
    canon::assert_same(&rows, &expected, "Debezium events applied");
}

/// Clients whose city and tier change, some deleted: `[tables.X.ops]`.
const OPS: &str = r#"
version = 1
[run]
seed = 5

[tables.clients]
rows = 3000
[tables.clients.columns]
id         = { gen = "sequence", primary_key = true }
name       = { gen = "person.name" }
city       = { gen = "address.city" }
state      = { gen = "address.state", abbr = true }
tier       = { gen = "choice", values = ["bronze", "silver", "gold"] }
created_at = { gen = "timestamp", min = "2025-01-01T00:00:00Z", max = "2025-02-01T00:00:00Z" }

[tables.clients.ops]
insert  = 0.6
update  = 0.35
delete  = 0.05
columns = ["city", "state", "tier"]
since   = "created_at"
every   = { exponential = "10d" }
changes = "client_changes"

[stream]
rate = "max"
[stream.tables.clients]
emit = false
"#;

#[test]
fn ops_update_columns_with_new_values_and_the_table_holds_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("ops.toml");
    std::fs::write(&genfile, OPS).unwrap();
    let db = dir.path().join("batch.db");
    let out = run(datagen()
        .args(["--quiet", "--config"])
        .arg(&genfile)
        .arg("--target")
        .arg(format!("sqlite://{}", db.display())));
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let (inserts, updates, deletes) = (
        count("SELECT count(*) FROM client_changes WHERE op = 'insert'"),
        count("SELECT count(*) FROM client_changes WHERE op = 'update'"),
        count("SELECT count(*) FROM client_changes WHERE op = 'delete'"),
    );
    assert_eq!(inserts, 3000);
    // 0.35 / 0.6 updates and 0.05 / 0.6 deletes per insert, about.
    let per = |n: i64| n as f64 / inserts as f64;
    assert!((0.48..0.69).contains(&per(updates)), "{updates} updates");
    assert!((0.05..0.12).contains(&per(deletes)), "{deletes} deletes");
    // Each row's last change before any delete is the row in the table;
    // updates change the city (with its state) and tier, nothing else.
    assert_eq!(
        count(
            "SELECT count(*) FROM clients c JOIN client_changes l ON l.id = c.id
             WHERE l.seq = (SELECT max(seq) FROM client_changes WHERE id = c.id AND op <> 'delete')
               AND (l.city, l.state, l.tier, l.name, l.created_at) IS NOT (c.city, c.state, c.tier, c.name, c.created_at)"
        ),
        0
    );
    assert!(count("SELECT count(DISTINCT id) FROM client_changes WHERE op = 'update'") > 500);
    assert!(count("SELECT count(*) FROM (SELECT id FROM client_changes GROUP BY id HAVING count(DISTINCT city) > 1)") > 300);
    assert_eq!(count("SELECT count(*) FROM (SELECT id FROM client_changes GROUP BY id HAVING count(DISTINCT name) > 1)"), 0);

    // The same whatever the workers and batches.
    let csv = |sub: &str, workers: &str, batch: &str| {
        let out = run(datagen()
            .env("DATAGEN_BATCH_ROWS", batch)
            .args(["--quiet", "--workers", workers, "--config"])
            .arg(&genfile)
            .arg("--target")
            .arg(format!("csv://{}", dir.path().join(sub).display())));
        assert!(out.status.success(), "{}", stderr(&out));
    };
    csv("w1", "1", "37");
    csv("w2", "2", "5000");
    for table in ["clients.csv", "client_changes.csv"] {
        let read = |sub: &str| std::fs::read(dir.path().join(sub).join(table)).unwrap();
        assert!(read("w1") == read("w2"), "{table} differs across workers");
    }

    // Streamed into SQLite, the table is the replay of the JSON Lines.
    let files = dir.path().join("files");
    let plain = |target: &str, extra: &[&str]| {
        let mut cmd = datagen();
        cmd.args(["stream", "--quiet", "--max-rows", "4000", "--config"])
            .arg(&genfile)
            .args(["--target", target])
            .args(extra);
        cmd
    };
    let out = run(&mut plain(&format!("jsonl://{}", files.display()), &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let schema = canon::schema(&genfile);
    let changes = &schema.tables[schema.table_index("client_changes").unwrap()];
    let mut table: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for change in canon::jsonl_in_order(&files.join("client_changes.jsonl"), changes) {
        let key = change[3].clone().unwrap();
        match change[0].as_deref() {
            Some("delete") => assert!(table.remove(&key).is_some()),
            _ => {
                table.insert(key, change[3..].to_vec());
            }
        }
    }
    let mut expected: Rows = table.into_values().collect();
    expected.sort();
    let applied = dir.path().join("applied.db");
    let target = format!("sqlite://{}", applied.display());
    let out = run(&mut plain(&target, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let clients = &schema.tables[schema.table_index("clients").unwrap()];
    canon::assert_same(
        &canon::from_sqlite(&applied, clients),
        &expected,
        "applied clients",
    );
    let out = run(datagen()
        .args(["verify", "--stream", "--max-rows", "4000", "--config"])
        .arg(&genfile)
        .args(["--target", &target]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
