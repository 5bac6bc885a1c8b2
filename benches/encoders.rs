//! Throughput of each encoder: the order_items and customers blocks of the
//! shop Genfile, generated once, then encoded again and again into a reused
//! buffer as the generator threads do — binary COPY for PostgreSQL, CSV, JSON Lines
//! and SQL INSERTs. No I/O.
//!
//! Run: `cargo bench --bench encoders`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datagen::generate::{Generators, Plan};
use datagen::genfile;
use datagen::sink::ddl::Dialect;
use datagen::sink::files::encode::{FileFormat, TableEncoder};
use datagen::sink::postgres::binary::{CopyEncoder, PgType};
use datagen::value::{Block, Encoded};

/// The blocks of `table` in the first units of shop at scale 0.05.
fn blocks(schema: &datagen::schema::Schema, table: usize) -> Vec<Block> {
    let counts = Generators::new(schema, 42, &vec![0; schema.tables.len()]);
    let plan = Plan::new(schema, &counts, 0.05, 4_096).expect("a plan");
    let generators = std::sync::Arc::new(Generators::new(schema, 42, &plan.table_rows));
    plan.units(generators.clone())
        .flat_map(|u| {
            generators
                .generate(u.root, u.rows.clone(), &u.starts)
                .expect("rows")
        })
        .filter(|b| b.table == table)
        .collect()
}

fn pg_type(ty: datagen::value::SqlType) -> PgType {
    use datagen::value::SqlType as S;
    match ty {
        S::Integer => PgType::Int4,
        S::BigInt => PgType::Int8,
        S::Double => PgType::Float8,
        S::Decimal { .. } => PgType::Numeric,
        S::Boolean => PgType::Bool,
        S::Text => PgType::Text,
        S::Uuid => PgType::Uuid,
        S::Date => PgType::Date,
        S::Timestamp => PgType::Timestamp,
        S::Json => PgType::Jsonb,
    }
}

fn encoders(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/shop.toml");
    let schema = genfile::load(&path).unwrap();
    let mut group = c.benchmark_group("encoder");
    group.sample_size(10);
    for name in ["order_items", "customers"] {
        let t = schema.table_index(name).unwrap();
        let table = &schema.tables[t];
        let blocks = blocks(&schema, t);
        let rows: usize = blocks.iter().map(Block::len).sum();
        group.throughput(Throughput::Elements(rows as u64));

        let copy = CopyEncoder::new(
            table.columns.iter().map(|c| pg_type(c.sql_type)).collect(),
            table.columns.iter().map(|c| c.sql_type.scale()).collect(),
        );
        let mut out = Encoded::default();
        group.bench_function(BenchmarkId::new("pg_binary", name), |b| {
            b.iter(|| {
                let mut bytes = 0;
                for block in &blocks {
                    copy.encode(block, &mut out).unwrap();
                    bytes += out.bytes.len();
                }
                std::hint::black_box(bytes)
            })
        });
        for (label, format) in [
            ("csv", FileFormat::Csv),
            ("jsonl", FileFormat::Jsonl),
            ("sql_postgres", FileFormat::Sql(Dialect::Postgres)),
        ] {
            let encoder = TableEncoder::new(table, format);
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter(|| {
                    let mut bytes = 0;
                    for block in &blocks {
                        encoder.encode(block, &mut out);
                        bytes += out.bytes.len();
                    }
                    std::hint::black_box(bytes)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, encoders);
criterion_main!(benches);
