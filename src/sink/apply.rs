//! Applying a change stream: in `datagen stream` into a database, the
//! rows of a lifecycle's changes table (`op`, `seq`, `changed_at`, then
//! the row as it is after the change) are not stored as rows but applied
//! to the table whose changes they are — an `insert` or `update` writes
//! the row (every change carries the whole row), a `delete` removes it.
//! Applied in stream order, with the sink's checkpoint in the same
//! transaction, the table ends as the stream's final state, exactly once.

use super::ddl::{quote, type_name, Dialect};
use super::{ErrorKind, Failure};
use crate::schema::{Schema, Table};

/// Columns of a changes table before the row's own: `op`, `seq`,
/// `changed_at`.
pub const LEADING: usize = 3;

/// A changes table applied to its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apply {
    /// The changes table.
    pub changes: usize,
    /// The table the changes are applied to.
    pub table: usize,
    /// Its primary key column.
    pub key: usize,
}

impl Apply {
    /// Per table of `schema`, how a stream into a database applies it
    /// (`None` for tables written as rows). Refused when a changed table
    /// is emitted too: its rows would be written twice.
    pub fn of(schema: &Schema, stream: bool) -> Result<Vec<Option<Apply>>, Failure> {
        let mut out = vec![None; schema.tables.len()];
        if !stream {
            return Ok(out);
        }
        for (c, changes) in schema.tables.iter().enumerate() {
            let Some(t) = changes.changes else { continue };
            if !schema.stream.emit[c] {
                continue;
            }
            let table = &schema.tables[t];
            if schema.stream.emit[t] {
                return Err(Failure::new(
                    ErrorKind::Input,
                    format!(
                        "the stream applies `{}` to `{}` in the database, and emits `{}`'s rows too\n  help: add `[stream.tables.{}]` with `emit = false`: its changes build it",
                        changes.name, table.name, table.name, table.name
                    ),
                ));
            }
            let Some(key) = table.columns.iter().position(|c| c.primary_key) else {
                continue;
            };
            out[c] = Some(Apply {
                changes: c,
                table: t,
                key,
            });
        }
        Ok(out)
    }

    /// Whether `table` receives changes from some changes table.
    pub fn receives(applies: &[Option<Apply>], table: usize) -> bool {
        applies.iter().flatten().any(|a| a.table == table)
    }

    fn table<'a>(&self, schema: &'a Schema) -> &'a Table {
        &schema.tables[self.table]
    }

    /// `ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c, …`.
    fn upsert(&self, schema: &Schema) -> String {
        let table = self.table(schema);
        let set: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != self.key)
            .map(|(_, c)| format!("{0} = EXCLUDED.{0}", quote(&c.name)))
            .collect();
        format!(
            "ON CONFLICT ({}) DO UPDATE SET {}",
            quote(&table.columns[self.key].name),
            set.join(", ")
        )
    }

    /// SQLite: an insert or update, the row's columns bound as `?1`….
    pub fn sqlite_write(&self, schema: &Schema) -> String {
        let table = self.table(schema);
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}) {}",
            quote(&table.name),
            columns.join(", "),
            marks.join(", "),
            self.upsert(schema)
        )
    }

    /// SQLite: a delete, the key bound as `?1`.
    pub fn sqlite_delete(&self, schema: &Schema) -> String {
        let table = self.table(schema);
        format!(
            "DELETE FROM {} WHERE {} = ?1",
            quote(&table.name),
            quote(&table.columns[self.key].name)
        )
    }

    /// PostgreSQL: the staging table of a commit unit's changes, in the
    /// order they were copied (`pos`).
    pub fn pg_stage(&self, schema: &Schema, stage: &str) -> String {
        let changes = &schema.tables[self.changes];
        let defs: Vec<String> = changes
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    quote(&c.name),
                    type_name(c.sql_type, Dialect::Postgres)
                )
            })
            .collect();
        format!(
            "CREATE TEMP TABLE IF NOT EXISTS {stage} (datagen_pos bigserial, {}) ON COMMIT DELETE ROWS",
            defs.join(", ")
        )
    }

    /// PostgreSQL: the last change of each key in `stage` applied to the
    /// table `name` (qualified): deleted, or written whole.
    pub fn pg_apply(&self, schema: &Schema, name: &str, stage: &str) -> String {
        let table = self.table(schema);
        let key = quote(&table.columns[self.key].name);
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        format!(
            "WITH last AS (SELECT DISTINCT ON ({key}) * FROM {stage} ORDER BY {key}, datagen_pos DESC), \
             gone AS (DELETE FROM {name} t USING last WHERE last.op = 'delete' AND t.{key} = last.{key}) \
             INSERT INTO {name} ({cols}) SELECT {cols} FROM last WHERE last.op <> 'delete' {upsert}",
            cols = columns.join(", "),
            upsert = self.upsert(schema)
        )
    }
}
