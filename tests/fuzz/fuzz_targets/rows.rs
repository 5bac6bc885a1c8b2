//! Fuzzes generation: every Genfile that validates is planned at a tiny
//! scale, its rows generated and encoded in every target format in
//! memory — CSV, JSON Lines, SQL in both dialects, PostgreSQL's binary
//! COPY — and shown as a preview. Nothing may panic; JSON Lines must be
//! JSON; a schema without `type` overrides must load into SQLite, keys
//! and all.
#![no_main]

use datagen::generate::plan::{plan, Limits};
use datagen::schema::{Schema, TableSize};
use datagen::sink::ddl::{self, quote, Dialect};
use datagen::sink::files::encode::{FileEncoder, FileFormat};
use datagen::sink::postgres::binary::{CopyEncoder, PgType};
use datagen::sink::BlockEncoder;
use datagen::value::{Encoded, SqlType};
use libfuzzer_sys::fuzz_target;

/// Rows a fuzzed Genfile may make: enough for children, keys and
/// aggregates, few enough to keep inputs fast.
const MAX_ROWS: u64 = 2_000;

fn pg_type(ty: SqlType) -> PgType {
    match ty {
        SqlType::Integer => PgType::Int4,
        SqlType::BigInt => PgType::Int8,
        SqlType::Double => PgType::Float8,
        SqlType::Decimal { .. } => PgType::Numeric,
        SqlType::Boolean => PgType::Bool,
        SqlType::Text => PgType::Text,
        SqlType::Uuid => PgType::Uuid,
        SqlType::Date => PgType::Date,
        SqlType::Timestamp => PgType::Timestamp,
        SqlType::Json => PgType::Jsonb,
    }
}

/// A scale that brings the tables with `rows` to a few hundred rows.
fn tiny(schema: &Schema) -> f64 {
    let roots: u64 = schema
        .tables
        .iter()
        .map(|t| match t.size {
            TableSize::Rows(n) => n,
            TableSize::Per { .. } => 0,
        })
        .sum();
    (200.0 / roots.max(1) as f64).min(1.0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(schema) = datagen::genfile::parse("fuzz.toml".as_ref(), data) else {
        return;
    };
    let limits = Limits {
        max_rows: MAX_ROWS,
        stop: None,
    };
    // Too many rows, a plan the scale makes impossible: refused, fine.
    let Ok((plan, generators)) = plan(&schema, schema.seed, tiny(&schema), 64, 1, &limits) else {
        return;
    };
    let files: Vec<FileEncoder> = [
        FileFormat::Csv,
        FileFormat::Jsonl,
        FileFormat::Sql(Dialect::Sqlite),
        FileFormat::Sql(Dialect::Postgres),
    ]
    .into_iter()
    .map(|f| FileEncoder::new(&schema, f))
    .collect();
    let copy: Vec<CopyEncoder> = schema
        .tables
        .iter()
        .map(|t| {
            CopyEncoder::new(
                t.columns.iter().map(|c| pg_type(c.sql_type)).collect(),
                t.columns.iter().map(|c| c.sql_type.scale()).collect(),
            )
        })
        .collect();
    let sqlite = rusqlite::Connection::open_in_memory().expect("an in-memory database");
    sqlite
        .execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys on");
    let overridden = schema
        .tables
        .iter()
        .any(|t| t.columns.iter().any(|c| c.type_override.is_some()));
    let loads = !overridden;
    if loads {
        sqlite
            .execute_batch(&ddl::script(&schema, Dialect::Sqlite))
            .expect("the SQLite DDL of a valid Genfile runs");
        // As a script loads: in one transaction, foreign keys checked at
        // commit where the DDL defers them (a table that references itself).
        sqlite.execute_batch("BEGIN").expect("a transaction");
    }
    for unit in plan.units(generators.clone()) {
        // A value beyond its type (an expression's overflow) is an answer.
        let Ok(blocks) = generators.generate(unit.root, unit.rows.clone(), &unit.starts) else {
            return;
        };
        for block in &blocks {
            let mut out = Encoded::default();
            for (i, encoder) in files.iter().enumerate() {
                encoder.encode(block, &mut out).expect("text formats take every value");
                assert_eq!(out.ends.len(), block.len());
                let text = std::str::from_utf8(&out.bytes).expect("UTF-8");
                if i == 1 {
                    for line in text.lines() {
                        serde_json::from_str::<serde_json::Value>(line)
                            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    }
                }
                if i == 2 && loads {
                    let table = &schema.tables[block.table];
                    let mut start = 0;
                    for &end in &out.ends {
                        let tuple = &text[start..end as usize];
                        start = end as usize;
                        let sql = format!("INSERT INTO {} VALUES {tuple}", quote(&table.name));
                        sqlite
                            .execute_batch(&sql)
                            .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    }
                }
            }
            // PostgreSQL refuses some text (NUL): an error, not a panic.
            let _ = copy[block.table].encode(block, &mut out);
        }
    }
    if loads {
        sqlite
            .execute_batch("COMMIT")
            .unwrap_or_else(|e| panic!("the rows of a whole run commit: {e}"));
    }
    let _ = datagen::preview::preview(&schema, schema.seed, MAX_ROWS, &[], 3);
});
