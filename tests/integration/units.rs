//! Generation is a function of the row index alone: cutting a run into
//! units of any size, and generating them in any order, gives the same rows.

use datagen::generate::{Block, Generators, Plan};
use datagen::genfile;
use proptest::prelude::*;

use crate::support::schema;

fn tables(plan: &Plan, generators: &Generators, order: &[usize]) -> Vec<Vec<Block>> {
    let mut by_table: Vec<Vec<Block>> = vec![Vec::new(); plan.table_rows.len()];
    let mut generated: Vec<(usize, Vec<Block>)> = order
        .iter()
        .map(|&i| {
            let unit = &plan.units[i];
            (
                i,
                generators.generate(unit.root, unit.rows.clone(), &unit.starts),
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
                        datagen::generate::Value::Text(s, e) => format!("{:?}", b.str(s, e)),
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
        let whole = Plan::new(&schema, &counts, scale, u64::MAX);
        let cut = Plan::new(&schema, &counts, scale, unit_rows);
        prop_assert_eq!(&whole.table_rows, &cut.table_rows);
        let generators = Generators::new(&schema, seed, &whole.table_rows);

        let reference = tables(&whole, &generators, &(0..whole.units.len()).collect::<Vec<_>>());
        // Generate the units in a scrambled order, as parallel workers might.
        let mut order: Vec<usize> = (0..cut.units.len()).collect();
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
