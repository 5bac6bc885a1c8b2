//! Lifecycles: a table's final state is the last row of its history
//! table for every row, histories follow the declared transitions, and
//! they are the same whatever the workers and shards.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::Connection;

use super::support::{datagen, run, run_text, stderr};

/// Orders that move from `placed` on; a `delivered` order may come back.
pub const ORDERS: &str = r#"
version = 1
[run]
seed = 11

[tables.customers]
rows = 300
[tables.customers.columns]
id        = { gen = "sequence", primary_key = true }
signed_up = { gen = "timestamp", min = "2024-01-01T00:00:00Z", max = "2024-12-31T00:00:00Z" }

[tables.orders]
per = { parent = "customers", count = { uniform = { min = 0, max = 6 } } }
[tables.orders.columns]
id          = { gen = "sequence", primary_key = true }
customer_id = { parent = "id" }
placed_at   = { gen = "timestamp", min = "parent.signed_up", max = "2025-06-30T00:00:00Z" }

[tables.orders.lifecycle]
states      = ["placed", "paid", "shipped", "delivered", "returned", "cancelled"]
since       = "placed_at"
at          = "updated_at"
transitions = { placed = { paid = 0.9, cancelled = 0.1 }, paid = { shipped = 0.95, cancelled = 0.05 }, shipped = { delivered = 1.0 }, delivered = { returned = 0.1, paid = 0.05, delivered = 0.85 } }
dwell       = { placed = { exponential = "2h" }, paid = { lognormal = { median = "1d", sigma = 0.6 } }, shipped = { uniform = ["1d", "5d"] }, delivered = "7d" }
set         = { paid = { paid_at = "event_time" }, shipped = { shipped_at = "event_time" } }
history     = "order_history"
max_steps   = 12
"#;

/// The allowed (from, to) pairs of [`ORDERS`].
fn allowed() -> HashSet<(String, String)> {
    [
        ("placed", "paid"),
        ("placed", "cancelled"),
        ("paid", "shipped"),
        ("paid", "cancelled"),
        ("shipped", "delivered"),
        ("delivered", "returned"),
        ("delivered", "paid"),
        ("delivered", "delivered"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect()
}

type Order = (String, String, Option<String>, Option<String>);
type Step = (i64, String, String);

fn read(db: &Path) -> (HashMap<i64, Order>, HashMap<i64, Vec<Step>>) {
    let conn = Connection::open(db).unwrap();
    let mut orders = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT id, status, updated_at, paid_at, shipped_at FROM orders")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
            ))
        })
        .unwrap();
    for row in rows {
        let (id, order) = row.unwrap();
        orders.insert(id, order);
    }
    let mut history: HashMap<i64, Vec<Step>> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT order_id, seq, status, at FROM order_history ORDER BY rowid")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                (r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?),
            ))
        })
        .unwrap();
    for row in rows {
        let (id, step) = row.unwrap();
        history.entry(id).or_default().push(step);
    }
    (orders, history)
}

#[test]
fn the_final_state_is_the_last_row_of_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(dir.path(), "orders", ORDERS);
    assert!(out.status.success(), "{}", stderr(&out));
    let (orders, history) = read(&db);
    assert!(orders.len() > 500, "{} orders", orders.len());
    let allowed = allowed();
    let mut ends: HashMap<String, usize> = HashMap::new();
    let mut longest = 0;
    for (id, (status, updated_at, paid_at, shipped_at)) in &orders {
        let steps = history
            .get(id)
            .unwrap_or_else(|| panic!("order {id} has no history"));
        longest = longest.max(steps.len());
        assert!(steps.len() <= 12, "order {id}: max_steps holds");
        let seqs: Vec<i64> = steps.iter().map(|s| s.0).collect();
        assert_eq!(
            seqs,
            (1..=steps.len() as i64).collect::<Vec<_>>(),
            "order {id}"
        );
        assert_eq!(steps[0].1, "placed", "order {id} starts placed");
        for pair in steps.windows(2) {
            assert!(
                allowed.contains(&(pair[0].1.clone(), pair[1].1.clone())),
                "order {id}: {} → {} is not a transition",
                pair[0].1,
                pair[1].1
            );
            assert!(pair[0].2 <= pair[1].2, "order {id}: time goes back");
        }
        let last = steps.last().unwrap();
        assert_eq!((&last.1, &last.2), (status, updated_at), "order {id}");
        let first = |state: &str| steps.iter().find(|s| s.1 == state).map(|s| s.2.clone());
        assert_eq!(paid_at, &first("paid"), "order {id}: paid_at");
        assert_eq!(shipped_at, &first("shipped"), "order {id}: shipped_at");
        *ends.entry(status.clone()).or_default() += 1;
    }
    assert_eq!(history.len(), orders.len(), "no history without its order");
    assert_eq!(longest, 12, "a cycle ends at max_steps");
    // About 1 in 7 orders is cancelled (0.1 + 0.9 × 0.05 × …).
    let cancelled = ends["cancelled"] as f64 / orders.len() as f64;
    assert!((0.09..0.22).contains(&cancelled), "{ends:?}");
    assert!(
        ends.contains_key("returned") && ends.contains_key("delivered"),
        "{ends:?}"
    );
}

#[test]
fn histories_are_the_same_across_workers_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("orders.toml");
    std::fs::write(&genfile, ORDERS).unwrap();
    let csv = |sub: &str, args: &[&str], batch: &str| {
        let out = run(datagen()
            .env("DATAGEN_BATCH_ROWS", batch)
            .arg("--config")
            .arg(&genfile)
            .args(["--quiet", "--target"])
            .arg(format!("csv://{}", dir.path().join(sub).display()))
            .args(args));
        assert!(out.status.success(), "{}", stderr(&out));
    };
    csv("one", &["--workers", "1"], "7");
    for k in 0..3 {
        csv(
            "parts",
            &["--workers", "2", "--shard", &format!("{k}/3")],
            "1000",
        );
    }
    for table in ["orders", "order_history"] {
        let whole =
            std::fs::read_to_string(dir.path().join("one").join(format!("{table}.csv"))).unwrap();
        let mut joined = String::new();
        for k in 0..3 {
            let part = std::fs::read_to_string(
                dir.path()
                    .join("parts")
                    .join(format!("{table}-{k:05}-of-00003.csv")),
            )
            .unwrap();
            let body = if k == 0 {
                &part[..]
            } else {
                part.split_once('\n').unwrap().1
            };
            joined.push_str(body);
        }
        assert!(whole.lines().count() > 500, "{table}");
        assert!(
            joined == whole,
            "{table}: the shards in order are not the run"
        );
    }
}
