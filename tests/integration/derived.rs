//! Derived columns hold what they claim, checked against SQL over the output.

use rusqlite::Connection;

use crate::support::{count, datagen_into, run, run_text, schema, stderr};

fn shop(dir: &std::path::Path) -> Connection {
    let db = dir.join("shop.db");
    let out = run(datagen_into(&schema("shop.toml"), &db).args(["--scale", "0.01", "--quiet"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    // For the correlated subqueries below, not for datagen.
    conn.execute_batch("CREATE INDEX items_order ON order_items (order_id); CREATE INDEX orders_customer ON orders (customer_id);")
        .unwrap();
    conn
}

#[test]
fn lookup_expr_and_agg_agree_with_sql() {
    let dir = tempfile::tempdir().unwrap();
    let conn = shop(dir.path());
    // lookup: the price of the referenced product.
    let bad = count(&conn, "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.unit_price <> p.price");
    assert_eq!(bad, 0, "unit_price differs from the product's price");
    // expr: exact decimal arithmetic, rounded to the column's scale (so
    // within half a cent of the unrounded product).
    let bad = count(
        &conn,
        "SELECT count(*) FROM order_items WHERE abs(line_total - quantity * unit_price * (1 - coalesce(discount, 0))) > 0.00501",
    );
    assert_eq!(bad, 0);
    // agg over children, in cents to avoid float noise.
    let bad = count(
        &conn,
        "SELECT count(*) FROM orders o WHERE round(o.total * 100) <> \
         (SELECT round(coalesce(sum(round(line_total * 100)), 0)) FROM order_items i WHERE i.order_id = o.id)",
    );
    assert_eq!(bad, 0, "order totals differ from the sum of their lines");
    let bad = count(&conn, "SELECT count(*) FROM orders o WHERE items <> (SELECT count(*) FROM order_items i WHERE i.order_id = o.id)");
    assert_eq!(bad, 0);
    // agg of an agg: a customer's spend is the sum of its order totals.
    let bad = count(
        &conn,
        "SELECT count(*) FROM customers c WHERE round(c.spent * 100) <> \
         (SELECT round(coalesce(sum(round(total * 100)), 0)) FROM orders o WHERE o.customer_id = c.id)",
    );
    assert_eq!(
        bad, 0,
        "customer spend differs from the sum of order totals"
    );
    let bad = count(&conn, "SELECT count(*) FROM customers c WHERE orders <> (SELECT count(*) FROM orders o WHERE o.customer_id = c.id)");
    assert_eq!(bad, 0);
    // Expressions over dates, checked with SQLite's own date arithmetic.
    let bad = count(
        &conn,
        "SELECT count(*) FROM customers WHERE age <> \
         (CAST(strftime('%Y', '2026-01-01') AS INTEGER) - CAST(strftime('%Y', birth_date) AS INTEGER) \
          - (strftime('%m-%d', birth_date) > '01-01'))",
    );
    assert_eq!(bad, 0, "age disagrees with SQLite's date arithmetic");
    let segments = count(&conn, "SELECT count(DISTINCT segment) FROM customers");
    assert_eq!(segments, 3);
}

#[test]
fn when_and_cases_choose_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = r####"
[run]
seed = 3
[tables.people]
rows = 2000
[tables.people.columns]
id       = { gen = "sequence", primary_key = true }
country  = { gen = "choice", values = ["BR", "US", "PT"], weights = [5, 3, 2] }
born     = { gen = "date", min = 1950-01-01, max = 2020-12-31 }
age      = { expr = "years_between(born, date('2026-01-01'))" }
licence  = { gen = "pattern", pattern = "L-#########", when = "age >= 18" }
document = { cases = [
    { when = "country == 'BR'", gen = "pattern", pattern = "###.###.###-##" },
    { when = "country == 'US'", gen = "pattern", pattern = "###-##-####" },
    { gen = "pattern", pattern = "??######" },
] }
label    = { expr = "concat(lower(country), '-', id, if(age >= 18, '-adult', ''))" }
"####;
    let (out, db) = run_text(dir.path(), "people", genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM people WHERE (licence IS NULL) <> (age < 18)"
        ),
        0
    );
    assert!(count(&conn, "SELECT count(*) FROM people WHERE licence IS NULL") > 100);
    assert_eq!(count(&conn, "SELECT count(*) FROM people WHERE country = 'BR' AND document NOT GLOB '[0-9][0-9][0-9].[0-9][0-9][0-9].[0-9][0-9][0-9]-[0-9][0-9]'"), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM people WHERE country = 'US' AND document NOT GLOB '[0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][0-9][0-9]'"), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM people WHERE country = 'PT' AND document NOT GLOB '[A-Z][A-Z][0-9][0-9][0-9][0-9][0-9][0-9]'"), 0);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM people WHERE label <> lower(country) || '-' || id || CASE WHEN age >= 18 THEN '-adult' ELSE '' END"),
        0
    );
}
