//! Throughput of each generator: a one-column table per generator (plus
//! the columns it reads), generated in units as a run does, with no I/O.
//!
//! Run: `cargo bench --bench generators`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datagen::generate::{Generators, Plan};
use datagen::genfile;

const ROWS: u64 = 100_000;

/// (bench name, columns of its table; the last one is the one measured).
const CASES: &[(&str, &str)] = &[
    ("sequence", r#"v = { gen = "sequence" }"#),
    ("int_uniform", r#"v = { gen = "int", min = 0, max = 1000000 }"#),
    ("float_normal", r#"v = { gen = "float", min = -100, max = 100, dist = { normal = { mean = 0, std = 10 } } }"#),
    ("decimal_lognormal", r#"v = { gen = "decimal", min = 0, max = 2000, dist = { lognormal = { mu = 3, sigma = 1 } } }"#),
    ("bool", r#"v = { gen = "bool", p = 0.3 }"#),
    ("string_16", r#"v = { gen = "string", len = [16, 16] }"#),
    ("pattern", r##"v = { gen = "pattern", pattern = "SKU-??-#####" }"##),
    ("uuid_v4", r#"v = { gen = "uuid" }"#),
    ("uuid_v7", r#"v = { gen = "uuid", version = 7 }"#),
    ("date", r#"v = { gen = "date", min = 2000-01-01, max = 2025-12-31 }"#),
    ("timestamp", r#"v = { gen = "timestamp", min = "2020-01-01T00:00:00Z", max = "2025-12-31T00:00:00Z" }"#),
    ("choice_weighted", r#"v = { gen = "choice", values = ["a", "b", "c", "d"], weights = [50, 30, 15, 5] }"#),
    ("choice_zipf_10", r#"v = { gen = "choice", values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dist = { zipf = { s = 1.1 } } }"#),
    ("person_name", r#"v = { gen = "person.name" }"#),
    ("email_from_name", "n = { gen = \"person.name\" }\nv = { gen = \"internet.email\", from = \"n\", unique = true }"),
    ("address_street", r#"v = { gen = "address.street" }"#),
    ("phone", r#"v = { gen = "phone" }"#),
    ("ipv4", r#"v = { gen = "internet.ipv4" }"#),
    ("dict_cities", r#"v = { gen = "dict", dict = "cities" }"#),
    ("lorem_8", r#"v = { gen = "lorem", words = [8, 8] }"#),
    ("br_cpf", r#"v = { gen = "br.cpf" }"#),
    ("hash_sha256", r#"v = { gen = "hash" }"#),
    ("object_3_fields", r#"v = { gen = "object", fields = { a = { gen = "int", min = 1, max = 9 }, b = { gen = "bool" }, c = { gen = "pattern", pattern = "N-??" } } }"#),
    ("expr_decimal", "q = { gen = \"int\", min = 1, max = 9 }\np = { gen = \"decimal\", min = 1, max = 99 }\nv = { expr = \"q * p * 1.1\", scale = 2 }"),
    ("null_rate_half", r#"v = { gen = "int", min = 0, max = 9, null_rate = 0.5 }"#),
];

fn generators(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    for (name, columns) in CASES {
        let text = format!("[tables.t]\nrows = {ROWS}\n[tables.t.columns]\n{columns}\n");
        let schema = genfile::parse("bench.toml".as_ref(), text.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let counts = Generators::new(&schema, 1, &[0]);
        let plan = Plan::new(&schema, &counts, 1.0, 4_096).expect("a plan");
        let generators = std::sync::Arc::new(Generators::new(&schema, 1, &plan.table_rows));
        let units: Vec<_> = plan.units(generators.clone()).collect();
        group.bench_with_input(BenchmarkId::from_parameter(name), &units, |b, units| {
            b.iter(|| {
                for unit in units {
                    let blocks = generators.generate(unit.root, unit.rows.clone(), &unit.starts);
                    std::hint::black_box(blocks.expect("rows"));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, generators);
criterion_main!(benches);
