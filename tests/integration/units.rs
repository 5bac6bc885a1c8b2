//! Generation is a function of the row index alone: cutting a run into
//! units of any size, and generating them in any order, gives the same rows.

use std::sync::Arc;

use datagen::generate::plan::Limits;
use datagen::generate::{Generators, Plan, Unit};
use datagen::genfile;
use datagen::shard::Shard;
use datagen::value::Block;
use proptest::prelude::*;

use crate::support::schema;

fn tables(units: &[Unit], generators: &Generators, order: &[usize]) -> Vec<Vec<Block>> {
    let width = units
        .iter()
        .flat_map(|u| &u.starts)
        .map(|&(t, _)| t + 1)
        .max()
        .unwrap_or(0);
    let mut by_table: Vec<Vec<Block>> = vec![Vec::new(); width];
    let mut generated: Vec<(usize, Vec<Block>)> = order
        .iter()
        .map(|&i| {
            let unit = &units[i];
            (
                i,
                generators
                    .generate(unit.root, unit.rows.clone(), &unit.starts)
                    .expect("rows"),
            )
        })
        .collect();
    generated.sort_by_key(|(i, _)| *i);
    for (_, blocks) in generated {
        for b in blocks {
            by_table[b.table].push(b);
        }
    }
    by_table
}

/// Rows of a table as comparable text, independent of block boundaries.
fn rows(blocks: &[Block]) -> Vec<String> {
    blocks
        .iter()
        .flat_map(|b| {
            (0..b.len()).map(move |i| {
                let row = b.row(i);
                let text: Vec<String> = row
                    .iter()
                    .map(|v| match *v {
                        datagen::value::Value::Text(s, e) => format!("{:?}", b.str(s, e)),
                        other => format!("{other:?}"),
                    })
                    .collect();
                format!("{}: {}", b.first_row + i as u64, text.join(", "))
            })
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn unit_size_and_order_do_not_matter(unit_rows in 1u64..3_000, seed in 0u64..1_000, shuffle in any::<u64>()) {
        let schema = genfile::load(&schema("shop.toml")).unwrap();
        let scale = 0.002;
        let counts = Generators::new(&schema, seed, &vec![0; schema.tables.len()]);
        let whole = Plan::new(&schema, &counts, scale, u64::MAX).expect("a plan");
        let cut = Plan::new(&schema, &counts, scale, unit_rows).expect("a plan");
        prop_assert_eq!(&whole.table_rows, &cut.table_rows);
        let generators = Arc::new(Generators::new(&schema, seed, &whole.table_rows));
        let whole: Vec<Unit> = whole.units(generators.clone()).collect();
        let cut: Vec<Unit> = cut.units(generators.clone()).collect();

        let reference = tables(&whole, &generators, &(0..whole.len()).collect::<Vec<_>>());
        // Generate the units in a scrambled order, as parallel workers might.
        let mut order: Vec<usize> = (0..cut.len()).collect();
        let n = order.len();
        for i in (1..n).rev() {
            let j = (shuffle.wrapping_mul(i as u64 + 1).rotate_left(17) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let pieces = tables(&cut, &generators, &order);
        for (t, (a, b)) in reference.iter().zip(&pieces).enumerate() {
            prop_assert_eq!(rows(a), rows(b), "table {}", t);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The shards of a run, whatever their number, hold its units exactly
    /// once: each shard a contiguous run of every root's units, the shards
    /// in order all of them, and their row counts add up to the run's.
    #[test]
    fn shards_partition_the_units(unit_rows in 1u64..2_000, seed in 0u64..1_000, count in 1u64..12) {
        let schema = genfile::load(&schema("shop.toml")).unwrap();
        let counts = Generators::new(&schema, seed, &vec![0; schema.tables.len()]);
        let plan = Plan::new(&schema, &counts, 0.002, unit_rows).expect("a plan");
        let generators = Arc::new(Generators::new(&schema, seed, &plan.table_rows));
        let whole: Vec<Unit> = plan.units(generators.clone()).collect();

        let mut pieces: Vec<Unit> = Vec::new();
        let mut rows = vec![0u64; plan.table_rows.len()];
        for index in 0..count {
            let mut shard = plan.clone();
            shard.shard(Shard { index, count }, &generators);
            let units: Vec<Unit> = shard.units(generators.clone()).collect();
            // Every table's rows in the shard are as counted, and follow
            // the previous shard's without a gap.
            for (t, n) in shard.shard_rows.iter().enumerate() {
                let mine: u64 = units
                    .iter()
                    .map(|u| rows_of(u, t, &whole, &plan.table_rows))
                    .sum();
                prop_assert_eq!(mine, *n, "shard {} table {}", index, t);
                if let Some(first) = units.iter().find_map(|u| u.starts.iter().find(|s| s.0 == t)) {
                    prop_assert_eq!(first.1, rows[t], "shard {} table {} starts after the previous", index, t);
                }
                rows[t] += n;
            }
            pieces.extend(units);
        }
        prop_assert_eq!(&rows, &plan.table_rows);
        pieces.sort_by_key(|u| u.stream);
        prop_assert_eq!(pieces, whole);
    }
}

/// Rows of table `t` in `unit`: up to where the next unit of the same
/// tree starts, or the table's end.
fn rows_of(unit: &Unit, t: usize, whole: &[Unit], table_rows: &[u64]) -> u64 {
    let Some(&(_, start)) = unit.starts.iter().find(|s| s.0 == t) else {
        return 0;
    };
    let i = whole
        .iter()
        .position(|u| u == unit)
        .expect("a unit of the run");
    let end = whole[i + 1..]
        .iter()
        .find(|u| u.root == unit.root)
        .and_then(|u| u.starts.iter().find(|s| s.0 == t))
        .map_or(table_rows[t], |s| s.1);
    end - start
}

#[test]
fn counting_on_threads_gives_the_same_rows() {
    let schema = genfile::load(&schema("shop.toml")).unwrap();
    let counts = Generators::new(&schema, 7, &vec![0; schema.tables.len()]);
    // 20,000 customers: enough parent rows for every thread to count some.
    let one = Plan::new(&schema, &counts, 0.2, 4_096).expect("a plan");
    for threads in [2, 3, 8] {
        let many =
            Plan::counted(&schema, &counts, 0.2, 4_096, threads, &Limits::NONE).expect("a plan");
        assert_eq!(many.table_rows, one.table_rows, "{threads} threads");
    }
    // And the units drawn one by one account for every row.
    let generators = Arc::new(Generators::new(&schema, 7, &one.table_rows));
    let units: Vec<Unit> = one.units(generators).collect();
    assert_eq!(units.iter().map(|u| u.total).sum::<u64>(), one.total_rows());
}
