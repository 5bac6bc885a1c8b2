//! Tables of sums: a store table that holds, per key, the sums of columns
//! of a Genfile table's rows (and how many rows) — what upsert-add
//! (`on_conflict`) loads, or what another pipeline computed from
//! datagen's stream (`[verify.NAME]`). The expected sums are recomputed
//! per key in memory, in as many passes over the rows as it takes to keep
//! at most [`MAX_GROUPS`] keys at a time (each pass takes the keys of one
//! hash partition), and compared with the store's by key.

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use super::expected::{for_each_block, RowText};
use super::{Difference, TableReport};
use crate::failure::{ErrorKind, Failure};
use crate::format::canon::canonical;
use crate::generate::{Generators, Plan};
use crate::schema::{Schema, Table};
use crate::sink::upsert::Merge;
use crate::sink::Reader;
use crate::value::SqlType;

/// Keys held in memory at once, at most.
pub const MAX_GROUPS: u64 = 2_000_000;

/// A store table of sums, and how it is made from a Genfile table.
#[derive(Debug, Clone)]
pub struct Sums {
    /// The store's table.
    pub name: String,
    /// The Genfile table, its key, its added columns and the count column.
    pub merge: Merge,
}

/// A running sum.
#[derive(Debug, Clone, Copy)]
enum Acc {
    Exact(i128),
    Float(f64),
}

/// The sums of one key: per added column, and the rows.
#[derive(Debug, Clone)]
struct Group {
    sums: Vec<Acc>,
    rows: u64,
}

/// `units` (an integer of units of `10^-scale`) as decimal text.
fn decimal(units: i128, scale: u8) -> String {
    let pow = 10i128.pow(u32::from(scale));
    let (sign, m) = if units < 0 {
        ("-", -units)
    } else {
        ("", units)
    };
    if scale == 0 {
        return format!("{sign}{m}");
    }
    format!(
        "{sign}{}.{:0width$}",
        m / pow,
        m % pow,
        width = usize::from(scale)
    )
}

fn partition_of(key: &str, partitions: u64) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish() % partitions
}

/// The store's text of sum `acc` of a column of type `ty`.
fn sum_text(acc: Acc, ty: SqlType) -> String {
    match (acc, ty) {
        (Acc::Exact(units), SqlType::Decimal { scale, .. }) => decimal(units, scale),
        (Acc::Exact(n), _) => n.to_string(),
        (Acc::Float(x), _) => {
            let mut out = String::new();
            crate::format::text::float(&mut out, x);
            out
        }
    }
}

/// Whether two sums of a column of type `ty` agree: exactly, or for
/// doubles (whose sums depend on the order of adding) to 1 part in 10^9.
fn agree(ty: SqlType, expected: &str, found: &str) -> bool {
    if ty != SqlType::Double {
        // A store of doubles (SQLite's REAL) adds in doubles: a sum of
        // more than 2^40 units carries their rounding, compared as doubles.
        let units: Option<i128> = expected.replace('.', "").parse().ok();
        if expected == found || units.is_none_or(|u| u.unsigned_abs() <= 1 << 40) {
            return expected == found;
        }
    }
    match (expected.parse::<f64>(), found.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// Verifies the store table of `sums` against the rows of `plan`.
pub fn verify_sums(
    schema: &Schema,
    plan: &Plan,
    generators: &Arc<Generators>,
    workers: usize,
    sums: &Sums,
    reader: &mut dyn Reader,
) -> Result<(TableReport, u64), Failure> {
    let m = &sums.merge;
    let table: &Table = &schema.tables[m.table];
    let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let key_text = |values: &[Option<&str>], of: &dyn Fn(usize) -> usize| -> String {
        m.key
            .iter()
            .enumerate()
            .map(|(i, &c)| format!("{}={}", names[c], values[of(i)].unwrap_or("NULL")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = plan.table_rows[m.table].min(schema.stream.max_rows.unwrap_or(u64::MAX));
    let partitions = rows.div_ceil(MAX_GROUPS).max(1);
    let mut chosen = vec![false; schema.tables.len()];
    chosen[m.table] = true;
    let columns = m.columns(table);
    let add_types: Vec<SqlType> = m.add.iter().map(|&c| table.columns[c].sql_type).collect();
    let (mut report, mut read) = (
        TableReport {
            name: sums.name.clone(),
            expected: 0,
            found: Some(0),
            columns: Vec::new(),
            differences: Vec::new(),
            unexamined: 0,
            skipped: false,
            missing_columns: Vec::new(),
        },
        0u64,
    );
    let input = |e: crate::generate::ValueError| Failure::new(ErrorKind::Input, e.to_string());
    if let Some(has) = reader.columns(&sums.name)? {
        report.missing_columns = columns
            .iter()
            .filter(|c| !has.iter().any(|h| h == *c))
            .map(|c| (*c).to_owned())
            .collect();
        if !report.missing_columns.is_empty() {
            return Ok((report, read));
        }
    }
    for p in 0..partitions {
        let empty = || Group {
            sums: add_types
                .iter()
                .map(|t| match t {
                    SqlType::Double => Acc::Float(0.0),
                    _ => Acc::Exact(0),
                })
                .collect(),
            rows: 0,
        };
        let states = for_each_block(
            plan.units(generators.clone()),
            generators,
            workers,
            Some(&chosen),
            || (HashMap::<String, Group>::new(), RowText::default()),
            |(groups, text), block| {
                for i in 0..block.len() {
                    let values = text.of_block(schema, block, i);
                    let key = key_text(&values, &|k| m.key[k]);
                    if partition_of(&key, partitions) != p {
                        continue;
                    }
                    let group = groups.entry(key).or_insert_with(empty);
                    group.rows += 1;
                    for (a, &c) in m.add.iter().enumerate() {
                        let Some(v) = values[c] else { continue };
                        match &mut group.sums[a] {
                            Acc::Float(x) => *x += v.parse::<f64>().unwrap_or(0.0),
                            Acc::Exact(n) => {
                                let units: i128 = v.replace('.', "").parse().unwrap_or(0);
                                *n += units;
                            }
                        }
                    }
                }
            },
        )
        .map_err(input)?;
        let mut expected: HashMap<String, Group> = HashMap::new();
        for (part, _) in states {
            for (key, g) in part {
                let e = expected.entry(key).or_insert_with(empty);
                e.rows += g.rows;
                for (a, b) in e.sums.iter_mut().zip(g.sums) {
                    match (a, b) {
                        (Acc::Exact(x), Acc::Exact(y)) => *x += y,
                        (Acc::Float(x), Acc::Float(y)) => *x += y,
                        _ => {}
                    }
                }
            }
        }
        // The store's rows of this partition: key → its values' text.
        let mut found: HashMap<String, Vec<Option<String>>> = HashMap::new();
        let mut duplicated: Vec<String> = Vec::new();
        let key_types: Vec<SqlType> = m.key.iter().map(|&c| table.columns[c].sql_type).collect();
        let stored = reader.scan(&sums.name, &columns, &mut |values| {
            read += 1;
            let canon: Vec<Option<String>> = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.map(|v| match key_types.get(i) {
                        Some(&ty) => canonical(ty, v).into_owned(),
                        None => v.to_owned(),
                    })
                })
                .collect();
            let refs: Vec<Option<&str>> = canon.iter().map(|v| v.as_deref()).collect();
            let key = key_text(&refs, &|k| k);
            if partition_of(&key, partitions) != p {
                return;
            }
            if found.insert(key.clone(), canon).is_some() {
                duplicated.push(key);
            }
        })?;
        if stored.is_none() {
            report.found = None;
        }
        report.expected += expected.len() as u64;
        if let Some(n) = &mut report.found {
            *n += found.len() as u64 + duplicated.len() as u64;
        }
        let keys: BTreeSet<&String> = expected.keys().chain(found.keys()).collect();
        for key in keys {
            match (expected.get(key), found.get(key)) {
                (Some(_), None) => report.differences.push(Difference::Missing(key.clone())),
                (None, Some(_)) => report.differences.push(Difference::Extra(key.clone())),
                (Some(e), Some(f)) => {
                    let mut changed = Vec::new();
                    for (a, ty) in add_types.iter().enumerate() {
                        let want = sum_text(e.sums[a], *ty);
                        let got = f[m.key.len() + a]
                            .as_deref()
                            .map(|v| canonical(*ty, v).into_owned());
                        if !got.as_deref().is_some_and(|g| agree(*ty, &want, g)) {
                            changed.push((names[m.add[a]].clone(), Some(want), got));
                        }
                    }
                    if let Some(count) = &m.count {
                        let got = f[m.key.len() + m.add.len()].clone();
                        let want = e.rows.to_string();
                        if got
                            .as_deref()
                            .map(|g| canonical(SqlType::BigInt, g))
                            .as_deref()
                            != Some(want.as_str())
                        {
                            changed.push((count.clone(), Some(want), got));
                        }
                    }
                    if !changed.is_empty() {
                        report
                            .differences
                            .push(Difference::Changed(key.clone(), changed));
                    }
                }
                (None, None) => {}
            }
        }
        for key in duplicated {
            report.differences.push(Difference::Duplicated(key, 1, 2));
        }
    }
    Ok((report, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_read_as_their_store_writes_them() {
        assert_eq!(decimal(12_345, 3), "12.345");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(7, 0), "7");
        assert!(agree(SqlType::Double, "0.30000000000000004", "0.3"));
        assert!(!agree(SqlType::Double, "0.31", "0.3"));
        assert!(!agree(SqlType::BigInt, "3", "4"));
        let dec = SqlType::Decimal {
            precision: 38,
            scale: 2,
        };
        assert!(agree(dec, "32502724491738970.32", "32502724491738956.00"));
        assert!(!agree(dec, "1234.56", "1234.57"));
    }
}
