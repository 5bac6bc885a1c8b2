//! Preparing a load: `if_exists` applied, tables created, the progress
//! table made, and each table's real column types read back for encoding.

use std::sync::{Arc, Mutex};

use datagen_actors::BoxError;
use tokio_postgres::Client;

use super::binary::{CopyEncoder, PgType};
use super::error::{server, PgError};
use crate::schema::Schema;
use crate::shard::Shard;
use crate::sink::ddl::{create_table_with, quote, DdlOptions, Dialect};
use crate::sink::options::IfExists;
use crate::sink::BlockEncoder;
use crate::sink::Resume;
use crate::value::SqlType;
use crate::value::{Block, Encoded};

/// The table that records committed units.
pub const PROGRESS_TABLE: &str = "datagen_progress";

/// When a database target adds primary keys, unique constraints and
/// foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Constraints {
    /// After all rows are in: one index build per key instead of an update
    /// per row, the fastest way to load.
    #[default]
    After,
    /// With the tables, checked as rows arrive.
    During,
}

impl Constraints {
    /// Parses the Genfile spelling.
    pub fn parse(s: &str) -> Option<Constraints> {
        match s {
            "after" => Some(Constraints::After),
            "during" => Some(Constraints::During),
            _ => None,
        }
    }

    /// The Genfile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Constraints::After => "after",
            Constraints::During => "during",
        }
    }
}

/// How the sink loads.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Per table, how its rows merge into the store (`on_conflict`).
    pub merges: Vec<Option<crate::sink::upsert::Merge>>,
    /// Per table, the changes it holds and where they apply (a stream).
    pub applies: Vec<Option<crate::sink::apply::Apply>>,
    /// What to do with existing tables.
    pub if_exists: IfExists,
    /// When keys are added.
    pub constraints: Constraints,
    /// Rows per transaction (rounded up to whole batches), shrunk after
    /// failures.
    pub commits: crate::sink::Commits,
    /// Fault injection: every N-th commit, counted across the run, the
    /// connection's backend is terminated before COMMIT.
    pub drop_connection_every: Option<crate::sink::Every>,
    /// Connections loading at once.
    pub connections: usize,
    /// Resuming, the run's fingerprint, the stop flag.
    pub resume: Resume,
    /// The slice of the run this process loads.
    pub shard: Shard,
    /// Rows of the whole run, all shards together: the load is complete,
    /// and its keys are added, once `datagen_progress` counts them all.
    pub run_rows: u64,
    /// Where `prepare` records the tables it created (qualified), so a
    /// run that fails without committing anything can drop them.
    pub created: Arc<Mutex<Vec<String>>>,
}

/// A table as it is loaded.
#[derive(Debug, Clone)]
pub(super) struct PgTable {
    /// The table's name in the schema.
    pub(super) name: String,
    /// `COPY … FROM STDIN (FORMAT binary)`.
    pub(super) copy: String,
    /// For a table loaded by upsert-add: the statement that makes its
    /// staging table (temporary, emptied at each commit), which `copy`
    /// fills, and the one that adds the staged rows to the table.
    pub(super) merge: Option<(String, String)>,
}

/// Whether the table (or any relation) `name`, quoted as in SQL, exists.
pub(super) async fn table_exists(client: &Client, name: &str) -> Result<bool, PgError> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .await
        .map_err(server(format!("look up table {name}")))?;
    Ok(row.get(0))
}

/// Applies `if_exists`, creates what is missing and the progress table, in
/// one transaction. Returns which tables this run created.
pub(super) async fn prepare(
    client: &mut Client,
    schema: &Schema,
    ddl: &DdlOptions,
    options: &PgOptions,
) -> Result<Vec<bool>, PgError> {
    if let Some(ns) = &ddl.namespace {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote(ns)))
            .await
            .map_err(server(format!("create schema {}", quote(ns))))?;
    }
    let mut present = Vec::new();
    for table in &schema.tables {
        let name = ddl.qualified(&table.name);
        let exists = table_exists(client, &name).await?;
        if exists && options.if_exists == IfExists::Fail {
            return Err(PgError::TableExists { table: name });
        }
        present.push(exists);
    }
    let had_progress = table_exists(client, &ddl.qualified(PROGRESS_TABLE)).await?;
    let tx = client
        .transaction()
        .await
        .map_err(server("begin a transaction"))?;
    let existing: Vec<String> = schema
        .tables
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .map(|(t, _)| ddl.qualified(&t.name))
        .collect();
    match options.if_exists {
        IfExists::Replace => {
            for name in existing.iter().rev() {
                tx.batch_execute(&format!("DROP TABLE {name} CASCADE"))
                    .await
                    .map_err(server(format!("drop table {name}")))?;
            }
        }
        IfExists::Truncate if !existing.is_empty() => {
            let list = existing.join(", ");
            tx.batch_execute(&format!("TRUNCATE {list}"))
                .await
                .map_err(server(format!("truncate {list}")))?;
        }
        _ => {}
    }
    let mut created = Vec::new();
    for (t, (table, &exists)) in schema.tables.iter().zip(&present).enumerate() {
        // A changes table is applied to its table, not stored.
        let create =
            (!exists || options.if_exists == IfExists::Replace) && options.applies[t].is_none();
        if create {
            let sql = match options.merges.get(t).and_then(Option::as_ref) {
                Some(m) => m.create_table(table, &ddl.qualified(&table.name), Dialect::Postgres),
                // Changes are applied by key: the table has its key from
                // the start (its foreign keys never: rows are deleted).
                None if crate::sink::apply::Apply::receives(&options.applies, t) => {
                    let bare = DdlOptions {
                        keys_after: true,
                        ..ddl.clone()
                    };
                    let mut sql = create_table_with(schema, table, Dialect::Postgres, &bare);
                    for c in crate::sink::ddl::constraints(schema, t, ddl) {
                        if c.kind != 'f' {
                            sql.push_str(&format!(";\n{}", c.sql));
                        }
                    }
                    sql
                }
                None => create_table_with(schema, table, Dialect::Postgres, ddl),
            };
            tx.batch_execute(&sql).await.map_err(server(format!(
                "create table {}",
                ddl.qualified(&table.name)
            )))?;
        }
        created.push(create);
    }
    let progress = ddl.qualified(PROGRESS_TABLE);
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {progress} (
  run text NOT NULL,
  table_name text NOT NULL,
  stream_from bigint NOT NULL,
  stream_to bigint NOT NULL,
  rows bigint NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now()
)"
    ))
    .await
    .map_err(server(format!("create table {progress}")))?;
    tx.execute(
        &format!("DELETE FROM {progress} WHERE run = $1"),
        &[&options.resume.fingerprint],
    )
    .await
    .map_err(server(format!("clear {progress}")))?;
    tx.commit().await.map_err(server("commit the tables"))?;
    let mut record = options.created.lock().unwrap_or_else(|e| e.into_inner());
    record.extend(
        schema
            .tables
            .iter()
            .zip(&created)
            .filter(|(_, c)| **c)
            .map(|(t, _)| ddl.qualified(&t.name)),
    );
    if !had_progress {
        record.push(progress);
    }
    Ok(created)
}

/// Reads each table's column types back and builds its COPY statement
/// and encoder.
pub(super) async fn describe_tables(
    client: &Client,
    schema: &Schema,
    ddl: &DdlOptions,
    merges: &[Option<crate::sink::upsert::Merge>],
    applies: &[Option<crate::sink::apply::Apply>],
) -> Result<(Vec<PgTable>, Vec<CopyEncoder>), PgError> {
    let mut tables = Vec::new();
    let mut encoders = Vec::new();
    for (t, table) in schema.tables.iter().enumerate() {
        let name = ddl.qualified(&table.name);
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        // A table loaded by upsert-add, or changes applied to their table:
        // rows go to a staging table of the Genfile's columns, then one
        // statement per commit unit sums them into the table or applies
        // each key's last change.
        let stage = quote(&format!("datagen_stage_{t}"));
        let staged = match (
            merges.get(t).and_then(Option::as_ref),
            applies.get(t).and_then(Option::as_ref),
        ) {
            (_, Some(a)) => {
                let target = ddl.qualified(&schema.tables[a.table].name);
                Some((
                    a.pg_stage(schema, &stage),
                    a.pg_apply(schema, &target, &stage),
                ))
            }
            (Some(m), None) => {
                let defs: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| format!("{} {}", quote(&c.name), generated_name(c.sql_type)))
                    .collect();
                Some((
                    format!(
                        "CREATE TEMP TABLE IF NOT EXISTS {stage} ({}) ON COMMIT DELETE ROWS",
                        defs.join(", ")
                    ),
                    m.pg_merge(table, &name, &stage),
                ))
            }
            (None, None) => None,
        };
        if let Some(merge) = staged {
            tables.push(PgTable {
                name: table.name.clone(),
                copy: format!(
                    "COPY {stage} ({}) FROM STDIN (FORMAT binary)",
                    columns.join(", ")
                ),
                merge: Some(merge),
            });
            encoders.push(CopyEncoder::new(
                table
                    .columns
                    .iter()
                    .map(|c| PgType::of(c.sql_type))
                    .collect(),
                table.columns.iter().map(|c| c.sql_type.scale()).collect(),
            ));
            continue;
        }
        let rows = client
            .query(
                "SELECT attname::text, atttypid::oid, format_type(atttypid, atttypmod)
                 FROM pg_attribute
                 WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                &[&name],
            )
            .await
            .map_err(server(format!("read the columns of {name}")))?;
        let mut types = Vec::new();
        for column in &table.columns {
            let Some(row) = rows.iter().find(|r| r.get::<_, String>(0) == column.name) else {
                return Err(PgError::ColumnType {
                    table: name,
                    column: quote(&column.name),
                    actual: "missing".into(),
                    generated: generated_name(column.sql_type),
                    help: "add the column, or use if_exists = \"replace\" to recreate the table",
                });
            };
            let oid: u32 = row.get(1);
            let ty = PgType::from_oid(oid).filter(|t| t.accepts(column.sql_type));
            match ty {
                Some(ty) => types.push(ty),
                None => {
                    return Err(PgError::ColumnType {
                        table: name,
                        column: quote(&column.name),
                        actual: row.get(2),
                        generated: generated_name(column.sql_type),
                        help: "change the column's `type` in the Genfile, or use if_exists = \"replace\" to recreate the table",
                    })
                }
            }
        }
        tables.push(PgTable {
            name: table.name.clone(),
            copy: format!(
                "COPY {name} ({}) FROM STDIN (FORMAT binary)",
                columns.join(", ")
            ),
            merge: None,
        });
        encoders.push(CopyEncoder::new(
            types,
            table.columns.iter().map(|c| c.sql_type.scale()).collect(),
        ));
    }
    Ok((tables, encoders))
}

pub(super) fn generated_name(ty: SqlType) -> String {
    crate::sink::ddl::type_name(ty, Dialect::Postgres)
}

/// Binary COPY tuples of every table, made on the generator threads.
pub struct PgEncoder {
    pub(super) schema: Arc<Schema>,
    pub(super) tables: Vec<CopyEncoder>,
}

impl BlockEncoder for PgEncoder {
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError> {
        self.tables[block.table]
            .encode(block, out)
            .map_err(|source| {
                let table = &self.schema.tables[block.table];
                Box::new(PgError::Encode {
                    table: table.name.clone(),
                    column: table.columns[source.column].name.clone(),
                    source,
                })
                .into()
            })
    }
}
