//! Time flows forward: bounds that are expressions of earlier columns and
//! of the parent row hold for every row, checked with SQLite's own date
//! arithmetic over the written tables.

use rusqlite::Connection;

use crate::support::{count, datagen_into, run, run_text, schema, stderr};

#[test]
fn the_shop_places_orders_after_signup_and_signs_up_adults() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let out = run(datagen_into(&schema("shop.toml"), &db).args(["--scale", "0.02", "--quiet"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    assert!(count(&conn, "SELECT count(*) FROM orders") > 10_000);
    let early = count(
        &conn,
        "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id \
         WHERE julianday(o.placed_at) < julianday(c.signed_up)",
    );
    assert_eq!(early, 0, "orders placed before their customer signed up");
    let minors = count(
        &conn,
        "SELECT count(*) FROM customers \
         WHERE julianday(date(birth_date, '+18 years')) > julianday(signed_up)",
    );
    assert_eq!(minors, 0, "customers under 18 when they signed up");
    let late = count(
        &conn,
        "SELECT count(*) FROM orders WHERE placed_at > '2025-12-31T23:59:59Z'",
    );
    assert_eq!(late, 0);
}

#[test]
fn uuid_v7_takes_its_time_from_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let out = run(datagen_into(&schema("events.toml"), &db).args(["--scale", "0.05", "--quiet"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, CAST(round((julianday(started_at) - 2440587.5) * 86400000) AS INTEGER) FROM sessions")
        .unwrap();
    let mut rows = 0;
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (id, ms) = row.unwrap();
        let hex: String = id.chars().filter(|c| *c != '-').take(12).collect();
        assert_eq!(i64::from_str_radix(&hex, 16).unwrap(), ms, "{id}");
        assert_eq!(&id[14..15], "7", "{id}");
        rows += 1;
    }
    assert!(rows > 1_000);
    let early = count(
        &conn,
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE julianday(s.started_at) < julianday(u.created)",
    );
    assert_eq!(early, 0, "sessions before their user was created");
}

#[test]
fn children_are_born_after_their_parents_come_of_age() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(
        dir.path(),
        "family",
        r#"
[run]
seed = 9
[tables.parents]
rows = 2000
[tables.parents.columns]
id   = { gen = "sequence", primary_key = true }
born = { gen = "date", min = 1950-01-01, max = 1990-12-31 }
[tables.children]
per = { parent = "parents", count = { uniform = { min = 0, max = 4 } } }
[tables.children.columns]
id        = { gen = "sequence", primary_key = true }
parent_id = { parent = "id" }
born      = { gen = "date", min = "parent.born + years(16)", max = "parent.born + years(45)" }
first_job = { gen = "timestamp", min = "born + years(16) + hours(9)", max = "born + years(30)", dist = { exponential = { lambda = 0.00000001 } } }
siblings  = { gen = "int", min = 0, max = "id % 4" }
"#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    assert!(count(&conn, "SELECT count(*) FROM children") > 2_000);
    let bad = count(
        &conn,
        "SELECT count(*) FROM children c JOIN parents p ON p.id = c.parent_id \
         WHERE c.born < date(p.born, '+16 years') OR c.born > date(p.born, '+45 years')",
    );
    assert_eq!(
        bad, 0,
        "children born outside their parent's 16th to 45th year"
    );
    let bad = count(
        &conn,
        "SELECT count(*) FROM children WHERE julianday(first_job) < julianday(datetime(born, '+16 years', '+9 hours')) \
         OR julianday(first_job) > julianday(date(born, '+30 years'))",
    );
    assert_eq!(bad, 0, "first jobs outside their bounds");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM children WHERE siblings > id % 4 OR siblings < 0"
        ),
        0
    );
}

#[test]
fn crossed_bounds_stop_the_run_naming_the_column_and_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(
        dir.path(),
        "crossed",
        r#"
[tables.t]
rows = 50
[tables.t.columns]
id    = { gen = "sequence", primary_key = true }
start = { gen = "date", min = 2024-01-01, max = 2024-12-31 }
end   = { gen = "date", min = "start", max = "date('2024-06-30')" }
"#,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("column `t.end`, row ")
            && err.contains("bounds cross: this row's `min` is after its `max`"),
        "{err}"
    );
    assert!(!db.exists(), "a failed run leaves no database");
}

#[test]
fn shapes_are_measured_from_each_rows_min() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(
        dir.path(),
        "shapes",
        r#"
[run]
seed = 2
[tables.orders]
rows = 4000
[tables.orders.columns]
id         = { gen = "sequence", primary_key = true }
placed_at  = { gen = "timestamp", min = "2020-01-01T00:00:00Z", max = "2025-12-31T00:00:00Z" }
shipped_at = { gen = "timestamp", min = "placed_at", max = "placed_at + days(10)", dist = { lognormal = { mu = 11, sigma = 1 } } }
items      = { gen = "int", min = 1, max = 20 }
extra      = { gen = "int", min = "items", max = "items + 50", dist = { normal = { mean = 10, std = 3 } } }
"#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    // A log-normal delay of median e^11 s (about 16.6 hours) after each order.
    let mut delays: Vec<f64> = conn
        .prepare("SELECT (julianday(shipped_at) - julianday(placed_at)) * 24 FROM orders")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    delays.sort_by(f64::total_cmp);
    let median = delays[delays.len() / 2];
    assert!(
        (14.0..19.5).contains(&median),
        "median delay {median} hours"
    );
    assert!(delays[0] >= 0.0 && delays[delays.len() - 1] <= 240.0);
    // A normal of mean 10 above each row's `items`.
    let mean: f64 = conn
        .query_row("SELECT avg(extra - items) FROM orders", [], |r| r.get(0))
        .unwrap();
    assert!((9.5..10.5).contains(&mean), "mean offset {mean}");
}

#[test]
fn a_uuid_v7_refuses_a_moment_it_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(
        dir.path(),
        "old",
        r#"
[tables.people]
rows = 20
[tables.people.columns]
born = { gen = "date", min = 1940-01-01, max = 1960-12-31 }
id   = { gen = "uuid", version = 7, at = "born" }
"#,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("column `people.id`, row 1: a version 7 UUID holds moments from 1970"),
        "{err}"
    );
    assert!(!db.exists());
}
