//! Finishing a load: the keys added after the rows are in, each as soon
//! as what it needs exists, several at once, then ANALYZE.

use std::sync::Mutex;

use tokio_postgres::Client;

use super::error::{server, PgError};
use crate::schema::Schema;
use crate::sink::ddl::{Constraint, DdlOptions};

/// A statement run after the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Task {
    pub(super) sql: String,
    /// Tables it locks; tasks sharing a table never run at once (they
    /// would wait for each other's locks on the server).
    pub(super) locks: Vec<usize>,
    /// Tasks that must be done first.
    pub(super) after: Vec<usize>,
}

/// The statements that complete a load (`stored`: whether a table is in
/// the database, not applied to another): keys (largest tables first), then
/// each foreign key once the keys of both its tables exist, then ANALYZE of
/// each table once nothing else touches it. A table's work starts as soon
/// as its own prerequisites are met, not when every table's are.
pub(super) fn finishing_tasks(
    schema: &Schema,
    ddl: &DdlOptions,
    mut keys: Vec<Constraint>,
    rows: &[u64],
    stored: &dyn Fn(usize) -> bool,
) -> Vec<Task> {
    keys.sort_by_key(|c| (c.references.is_some(), std::cmp::Reverse(rows[c.table])));
    let mut tasks: Vec<Task> = Vec::new();
    let key_tasks = |tasks: &[Task], keys: &[Constraint], t: usize| -> Vec<usize> {
        (0..tasks.len())
            .filter(|&i| keys[i].references.is_none() && keys[i].table == t)
            .collect()
    };
    for (i, c) in keys.iter().enumerate() {
        let mut locks = vec![c.table];
        let mut after = Vec::new();
        if let Some(r) = c.references {
            locks.push(r);
            after = key_tasks(&tasks, &keys, c.table);
            after.extend(key_tasks(&tasks, &keys, r));
        }
        debug_assert_eq!(i, tasks.len());
        tasks.push(Task {
            sql: c.sql.clone(),
            locks,
            after,
        });
    }
    let mut by_size: Vec<usize> = (0..schema.tables.len()).filter(|&t| stored(t)).collect();
    by_size.sort_by_key(|&t| std::cmp::Reverse(rows[t]));
    for t in by_size {
        let after = (0..tasks.len())
            .filter(|&i| tasks[i].locks.contains(&t))
            .collect();
        tasks.push(Task {
            sql: format!("ANALYZE {}", ddl.qualified(&schema.tables[t].name)),
            locks: vec![t],
            after,
        });
    }
    tasks
}

#[derive(Default)]
pub(super) struct Board {
    pub(super) started: Vec<bool>,
    pub(super) done: Vec<bool>,
    /// Running tasks per table.
    pub(super) locked: Vec<u32>,
}

/// Runs `tasks` on all `clients` at once: each client takes the first task
/// whose prerequisites are done and whose tables no running task holds.
pub(super) async fn schedule(clients: &[Client], tasks: Vec<Task>) -> Result<(), PgError> {
    let tables = tasks
        .iter()
        .flat_map(|t| t.locks.iter().copied())
        .max()
        .map_or(0, |m| m + 1);
    let board = Mutex::new(Board {
        started: vec![false; tasks.len()],
        done: vec![false; tasks.len()],
        locked: vec![0; tables],
    });
    let changed = tokio::sync::Notify::new();
    let runs = clients.iter().map(|client| {
        let (board, changed, tasks) = (&board, &changed, &tasks);
        async move {
            loop {
                let notified = changed.notified();
                futures::pin_mut!(notified);
                notified.as_mut().enable();
                let pick = {
                    let mut b = board.lock().expect("board lock");
                    if b.started.iter().all(|&s| s) {
                        return Ok::<(), PgError>(());
                    }
                    let ready = (0..tasks.len()).find(|&i| {
                        !b.started[i]
                            && tasks[i].after.iter().all(|&a| b.done[a])
                            && tasks[i].locks.iter().all(|&t| b.locked[t] == 0)
                    });
                    if let Some(i) = ready {
                        b.started[i] = true;
                        for &t in &tasks[i].locks {
                            b.locked[t] += 1;
                        }
                    }
                    ready
                };
                let Some(i) = pick else {
                    notified.await;
                    continue;
                };
                let sql = &tasks[i].sql;
                let start = std::time::Instant::now();
                client
                    .batch_execute(sql)
                    .await
                    .map_err(server(format!("finish the load ({sql})")))?;
                tracing::debug!(%sql, elapsed = ?start.elapsed(), "done");
                {
                    let mut b = board.lock().expect("board lock");
                    b.done[i] = true;
                    for &t in &tasks[i].locks {
                        b.locked[t] -= 1;
                    }
                }
                changed.notify_waiters();
            }
        }
    });
    futures::future::try_join_all(runs).await?;
    Ok(())
}

/// The keys that exist on the schema's tables: `(table, columns, kind)`.
pub(super) async fn existing_constraints(
    client: &Client,
    schema: &Schema,
    ddl: &DdlOptions,
) -> Result<Vec<(usize, Vec<usize>, char)>, PgError> {
    let mut out = Vec::new();
    for (t, table) in schema.tables.iter().enumerate() {
        let name = ddl.qualified(&table.name);
        let rows = client
            .query(
                "SELECT c.contype::text, array_agg(a.attname::text ORDER BY k.ord)
                 FROM pg_constraint c
                 CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                 WHERE c.conrelid = to_regclass($1)
                 GROUP BY c.oid, c.contype",
                &[&name],
            )
            .await
            .map_err(server(format!("read the constraints of {name}")))?;
        for row in rows {
            let kind: String = row.get(0);
            let names: Vec<String> = row.get(1);
            let columns: Option<Vec<usize>> = names
                .iter()
                .map(|n| table.columns.iter().position(|c| &c.name == n))
                .collect();
            if let Some(columns) = columns {
                out.push((t, columns, kind.chars().next().unwrap_or(' ')));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::ddl::constraints;

    fn shop() -> Schema {
        let text = r#"
[tables.customers]
rows = 10
[tables.customers.columns]
id = { gen = "sequence", primary_key = true }
email = { gen = "internet.email", unique = true }
[tables.products]
rows = 5
[tables.products.columns]
id = { gen = "sequence", primary_key = true }
[tables.orders]
per = { parent = "customers", count = { fixed = 2 } }
[tables.orders.columns]
id = { gen = "sequence", primary_key = true }
customer_id = { parent = "id" }
product_id = { ref = "products.id" }
"#;
        crate::schema::read::read(std::path::Path::new("shop.toml"), text.as_bytes(), &|_| {
            Vec::new()
        })
        .unwrap()
    }

    #[test]
    fn finishing_tasks_respect_keys_locks_and_analyze_last() {
        let schema = shop();
        let ddl = DdlOptions::default();
        let keys: Vec<Constraint> = (0..schema.tables.len())
            .flat_map(|t| constraints(&schema, t, &ddl))
            .collect();
        let rows = vec![10, 5, 20];
        let tasks = finishing_tasks(&schema, &ddl, keys, &rows, &|_| true);
        let find = |needle: &str| {
            tasks
                .iter()
                .position(|t| t.sql.contains(needle))
                .unwrap_or_else(|| panic!("no task {needle}"))
        };
        assert_eq!(tasks.len(), 4 + 2 + 3, "4 keys, 2 foreign keys, 3 ANALYZE");
        // The largest table's key first.
        assert_eq!(find("\"orders\" ADD PRIMARY KEY"), 0);
        let fk = find("REFERENCES \"customers\"");
        for key in [
            "\"orders\" ADD PRIMARY KEY",
            "\"customers\" ADD PRIMARY KEY",
            "\"customers\" ADD UNIQUE",
        ] {
            assert!(
                tasks[fk].after.contains(&find(key)),
                "{key} before the foreign key"
            );
        }
        assert!(!tasks[fk]
            .after
            .contains(&find("\"products\" ADD PRIMARY KEY")));
        let analyze = find("ANALYZE \"customers\"");
        assert!(tasks[analyze].after.contains(&fk));
        assert!(tasks[analyze]
            .after
            .contains(&find("\"customers\" ADD UNIQUE")));
        assert_eq!(tasks[fk].locks, vec![2, 0]);
    }
}
