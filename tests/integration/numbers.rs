//! Numbers at the edges of 64 bits, as a model says they must be: every
//! integer drawn lies in its `[min, max]` whatever the range, and a
//! sequence either holds `start + row × step` exactly or is refused before
//! anything is generated — it never wraps.

use datagen::generate::plan::{plan, Limits};
use datagen::schema::Schema;
use datagen::value::Value;
use proptest::prelude::*;

fn schema(text: &str) -> Result<Schema, String> {
    datagen::genfile::parse("numbers.toml".as_ref(), text.as_bytes()).map_err(|d| d.to_string())
}

/// Every value of column `column` of table 0, in row order.
fn values(schema: &Schema, seed: u64, column: usize) -> Vec<Value> {
    let (plan, generators) = plan(schema, seed, 1.0, 64, 1, &Limits::NONE).expect("a plan");
    let mut out = Vec::new();
    for unit in plan.units(generators.clone()) {
        for block in generators
            .generate(unit.root, unit.rows.clone(), &unit.starts)
            .expect("rows")
        {
            if block.table == 0 {
                out.extend(block.rows().map(|row| row[column]));
            }
        }
    }
    out
}

/// A range of `i64`: mostly anywhere, often near the ends and near ±2^53,
/// where sampling through `f64` went wrong.
fn bound() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        (0i64..4096).prop_map(|d| i64::MAX - d),
        (0i64..4096).prop_map(|d| i64::MIN + d),
        (-4096i64..4096).prop_map(|d| (1i64 << 53) + d),
        (-4096i64..4096).prop_map(|d| -(1i64 << 53) + d),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_int_lies_in_its_range(
        a in bound(),
        b in bound(),
        rows in 1u64..60,
        seed in any::<u64>(),
        shaped in any::<bool>(),
    ) {
        let (min, max) = (a.min(b), a.max(b));
        let dist = if shaped {
            // A shape centred anywhere in (or near) the range.
            let mean = min as f64 / 2.0 + max as f64 / 2.0;
            let std = ((max as f64 - min as f64) / 4.0).max(1.0);
            format!(", dist = {{ normal = {{ mean = {mean:e}, std = {std:e} }} }}")
        } else {
            String::new()
        };
        let text = format!(
            "[tables.t]\nrows = {rows}\n[tables.t.columns]\nx = {{ gen = \"int\", min = {min}, max = {max}{dist} }}\n"
        );
        let schema = schema(&text).map_err(TestCaseError::fail)?;
        let got = values(&schema, seed, 0);
        prop_assert_eq!(got.len() as u64, rows);
        for v in got {
            match v {
                Value::Int(x) => prop_assert!((min..=max).contains(&x), "{} outside [{}, {}]", x, min, max),
                other => prop_assert!(false, "not an integer: {:?}", other),
            }
        }
    }

    #[test]
    fn a_sequence_is_exact_or_refused(
        start in bound(),
        step in prop_oneof![
            any::<i64>(),
            -1000i64..1000,
            (0i64..64).prop_map(|s| 1i64 << s),
        ].prop_filter("a step", |s| *s != 0),
        rows in 1u64..500,
    ) {
        let text = format!(
            "[tables.t]\nrows = {rows}\n[tables.t.columns]\nid = {{ gen = \"sequence\", start = {start}, step = {step} }}\n"
        );
        let last = i128::from(start) + i128::from(rows - 1) * i128::from(step);
        match schema(&text) {
            Ok(schema) => {
                prop_assert!(i64::try_from(last).is_ok(), "accepted a sequence ending at {}", last);
                let got = values(&schema, 0, 0);
                for (row, v) in got.iter().enumerate() {
                    let want = i128::from(start) + row as i128 * i128::from(step);
                    prop_assert_eq!(*v, Value::Int(want as i64));
                }
            }
            Err(message) => {
                prop_assert!(i64::try_from(last).is_err(), "refused a sequence ending at {}: {}", last, message);
                prop_assert!(message.contains("passes the"), "{}", message);
            }
        }
    }
}
