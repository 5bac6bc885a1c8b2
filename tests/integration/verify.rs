//! `datagen verify`: a store loaded by datagen verifies; one missing row,
//! one duplicated row and one changed value are each found and named by
//! key, in SQLite and in PostgreSQL.

use std::path::Path;
use std::process::Output;

use rusqlite::Connection;

use super::lifecycle::ORDERS;
use super::pg::TestSchema;
use super::support::{datagen, run, schema, stderr};

fn verify(genfile: &Path, target: &str, args: &[&str]) -> Output {
    run(datagen()
        .args(["verify", "--config"])
        .arg(genfile)
        .args(["--target", target])
        .args(args))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn load(genfile: &Path, target: &str, args: &[&str]) {
    let out = run(datagen()
        .arg("--config")
        .arg(genfile)
        .args(["--quiet", "--target", target])
        .args(args));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn sqlite_differences_are_named_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("orders.toml");
    std::fs::write(&genfile, ORDERS).unwrap();
    let db = dir.path().join("orders.db");
    let target = format!("sqlite://{}", db.display());
    load(&genfile, &target, &[]);
    let out = verify(&genfile, &target, &["--workers", "2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("holds exactly the expected rows"),
        "{}",
        stdout(&out)
    );

    // Another seed is another store.
    let out = verify(&genfile, &target, &["--seed", "12"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DELETE FROM orders WHERE id = 17;
         INSERT INTO order_history SELECT * FROM order_history WHERE order_id = 3 AND seq = 2;
         UPDATE customers SET signed_up = '2024-02-29T12:00:00Z' WHERE id = 42;",
    )
    .unwrap();
    drop(conn);
    let out = verify(&genfile, &target, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    for line in [
        "orders         DIFFERS",
        "missing: 1 row\n        id=17\n",
        "duplicated: 1 row\n        order_id=3, seq=2 (2 times, expected 1)",
        "columns that differ: signed_up",
        "id=42: signed_up: expected ",
        ", found 2024-02-29T12:00:00Z",
        "the store differs",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    assert!(
        !text.contains("order_history  DIFFERS  expected 0"),
        "{text}"
    );

    // A column the store lacks is named, not read as text.
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch("ALTER TABLE customers DROP COLUMN signed_up")
        .unwrap();
    drop(conn);
    let out = verify(&genfile, &target, &["--table", "customers"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("customers  DIFFERS  the store's table has no column signed_up"),
        "{}",
        stdout(&out)
    );

    // Only the tables asked for.
    let out = verify(&genfile, &target, &["--table", "order_history"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout(&out).contains("customers"), "{}", stdout(&out));
}

#[test]
fn postgres_store_verifies_and_a_changed_value_is_found() {
    let db = TestSchema::new("verify");
    let genfile = schema("shop.toml");
    load(&genfile, &db.url(), &["--scale", "0.01"]);
    let out = verify(&genfile, &db.url(), &["--scale", "0.01"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Every type of the shop (decimals, timestamps, JSON, UUIDs, booleans)
    // reads back as it was made.
    assert!(stdout(&out).contains("products     ok"), "{}", stdout(&out));

    db.pg.execute(&format!(
        "UPDATE {} SET price = price + 0.01 WHERE id = 7",
        db.table("products")
    ));
    db.pg.execute(&format!(
        "DELETE FROM {} WHERE id = 5",
        db.table("order_items")
    ));
    let out = verify(&genfile, &db.url(), &["--scale", "0.01"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("columns that differ: price"), "{text}");
    assert!(text.contains("id=7: price: expected "), "{text}");
    assert!(text.contains("missing: 1 row\n        id=5\n"), "{text}");
}

#[test]
fn a_store_that_cannot_be_read_is_not_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("orders.toml");
    std::fs::write(&genfile, ORDERS).unwrap();
    let out = verify(&genfile, "sqlite:///nonexistent/dir/x.db", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    let out = verify(&genfile, "stdout://csv", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be read back"),
        "{}",
        stderr(&out)
    );
    let out = verify(&genfile, "postgres://nobody@127.0.0.1:1/none", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}
