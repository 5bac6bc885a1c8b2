//! The SQLite target: tables, declared types, constraints, row counts.

use rusqlite::Connection;

use crate::support::{datagen_into, run, run_text, schema, stderr};

#[test]
fn shop_has_four_tables_with_valid_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let out = run(datagen_into(&schema("shop.toml"), &db).args(["--scale", "0.01", "--quiet"]));
    assert!(out.status.success(), "{}", stderr(&out));

    let conn = Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["customers", "order_items", "orders", "products"]);

    let fks = count("SELECT count(*) FROM pragma_foreign_key_list('order_items')");
    assert_eq!(fks, 2, "order_items references orders and products");
    assert_eq!(
        count("SELECT count(*) FROM pragma_foreign_key_list('orders')"),
        1
    );
    let violations = count("SELECT count(*) FROM pragma_foreign_key_check");
    assert_eq!(violations, 0);

    assert_eq!(count("SELECT count(*) FROM customers"), 1_000);
    assert_eq!(count("SELECT count(*) FROM products"), 100);
    assert_eq!(count("SELECT count(DISTINCT email) FROM customers"), 1_000);
    // Every customer's orders are numbered after the previous customer's.
    assert_eq!(count("SELECT count(*) FROM orders o JOIN orders p ON p.id = o.id - 1 WHERE o.customer_id < p.customer_id"), 0);
    // Roughly 10 orders per customer, 3 items per order.
    let orders = count("SELECT count(*) FROM orders");
    assert!((9_000..11_000).contains(&orders), "{orders} orders");
    let items = count("SELECT count(*) FROM order_items");
    assert!(
        (orders * 27 / 10..orders * 33 / 10).contains(&items),
        "{items} items for {orders} orders"
    );

    let types: Vec<(String, String, i64, i64)> = conn
        .prepare(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('products') ORDER BY cid",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expect = [
        ("id", "INTEGER", 1, 1),
        ("sku", "TEXT", 1, 0),
        ("name", "TEXT", 1, 0),
        ("department", "TEXT", 1, 0),
        ("price", "DECIMAL(6,2)", 1, 0),
        ("weight_kg", "REAL", 1, 0),
        ("in_stock", "INTEGER", 1, 0),
        ("public_id", "TEXT", 1, 0),
    ];
    let expect: Vec<(String, String, i64, i64)> = expect
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), *c, *d))
        .collect();
    assert_eq!(types, expect);
    // Storage classes follow the declared types.
    assert_eq!(
        count("SELECT count(*) FROM products WHERE typeof(price) <> 'real'"),
        0
    );
    assert_eq!(count("SELECT count(*) FROM customers WHERE birth_date NOT GLOB '[12][09][0-9][0-9]-[01][0-9]-[0-3][0-9]'"), 0);
    // null_rate = 0.15 on phone: within 3 points on 1000 rows.
    let nulls = count("SELECT count(*) FROM customers WHERE phone IS NULL");
    assert!((120..=180).contains(&nulls), "{nulls} NULL phones of 1000");
}

#[test]
fn if_exists_fail_names_the_table_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("existing.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE products (x INTEGER); INSERT INTO products VALUES (42);")
            .unwrap();
    }
    let out = run(datagen_into(&schema("shop.toml"), &db)
        .args(["--scale", "0.001", "--quiet"])
        .env("DATAGEN_IF_EXISTS", "fail"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("table `products` already exists"),
        "{}",
        stderr(&out)
    );
    let conn = Connection::open(&db).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "nothing may be created when the run is refused");
    let x: i64 = conn
        .query_row("SELECT x FROM products", [], |r| r.get(0))
        .unwrap();
    assert_eq!(x, 42);
}

#[test]
fn replace_and_append_on_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("again.db");
    let go = |if_exists: &str| {
        let out = run(datagen_into(&schema("shop.toml"), &db)
            .args(["--scale", "0.001", "--quiet"])
            .env("DATAGEN_IF_EXISTS", if_exists));
        assert!(out.status.success(), "{if_exists}: {}", stderr(&out));
        let conn = Connection::open(&db).unwrap();
        conn.query_row("SELECT count(*) FROM products", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert_eq!(go("replace"), 10);
    assert_eq!(go("replace"), 10);
    assert_eq!(go("truncate"), 10);
    // Appending the same keys again violates the primary key: the run fails
    // and the batch in flight is rolled back whole.
    let out = run(datagen_into(&schema("shop.toml"), &db)
        .args(["--scale", "0.001", "--quiet"])
        .env("DATAGEN_IF_EXISTS", "append"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("UNIQUE constraint failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_reference_to_an_empty_table_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = r#"
[tables.a]
rows = 0
[tables.a.columns]
id = { gen = "sequence", primary_key = true }
[tables.b]
rows = 10
[tables.b.columns]
a_id = { ref = "a.id" }
"#;
    let (out, db) = run_text(dir.path(), "empty-ref", genfile);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "empty-ref.toml:9:1: error: column `b.a_id` refers to table `a`, which has no rows"
        ),
        "{err}"
    );
    assert!(!db.exists());
}

#[test]
fn a_run_failing_midway_never_publishes_the_new_database() {
    let dir = tempfile::tempdir().unwrap();
    // The CHECK passes for the first batches and fails in the third.
    let genfile = r#"
[pipeline]
batch_rows = 10000
[tables.t]
rows = 50000
[tables.t.columns]
id = { gen = "sequence", primary_key = true, type = "INTEGER CHECK (id < 25000)" }
"#;
    let (out, db) = run_text(dir.path(), "half", genfile);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("CHECK constraint failed"), "{err}");
    assert!(!db.exists(), "a half-written database was published");
    let leftovers = crate::support::file_names(dir.path());
    assert_eq!(
        leftovers.len(),
        1,
        "only the Genfile remains: {leftovers:?}"
    );
}

#[test]
fn every_example_genfile_loads_with_valid_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(crate::support::root().join("schemas")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        seen += 1;
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let db = dir.path().join(format!("{name}.db"));
        let out = run(datagen_into(&path, &db).args(["--scale", "0.01", "--quiet"]));
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let conn = Connection::open(&db).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(tables >= 2, "{name}: {tables} tables");
        let empty: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master m WHERE type = 'table' AND (SELECT count(*) FROM pragma_table_info(m.name)) = 0", [], |r| r.get(0))
            .unwrap();
        assert_eq!(empty, 0);
        let violations: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(violations, 0, "{name}: foreign key violations");
    }
    assert!(seen >= 4, "only {seen} example Genfiles");
}
