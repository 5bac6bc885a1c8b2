//! Planning a run: final row counts and the work units.
//!
//! Tables with `per` have as many rows as their parents' counts add up to,
//! so before anything is generated one pass draws every count (one draw per
//! parent row, no values) to learn each table's size and to cut the work
//! into units. A unit is a range of rows of a root table (a table with
//! `rows`) together with all their descendants, and knows the first row
//! index of every table it touches; that is what lets workers generate units
//! in any order and still number every row exactly as a single thread would.

use std::ops::Range;

use super::columns::Generators;
use crate::genfile::schema::{Gen, Schema, TableSize};

/// A piece of work: root rows and where each table's rows start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The root table.
    pub root: usize,
    /// Its rows in this unit.
    pub rows: Range<u64>,
    /// `(table, first row)` for the root and each descendant.
    pub starts: Vec<(usize, u64)>,
    /// Rows of all tables in this unit.
    pub total: u64,
    /// Position of the unit's first row in the run's row stream.
    pub stream: u64,
}

/// Row counts and work units of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Final rows per table, in schema order.
    pub table_rows: Vec<u64>,
    /// Units in output order.
    pub units: Vec<Unit>,
}

/// Rows a table with `rows = n` has at `scale`.
pub fn scaled(rows: u64, scale: f64) -> u64 {
    (rows as f64 * scale).round() as u64
}

fn subtree(schema: &Schema, root: usize) -> Vec<usize> {
    let mut tables = vec![root];
    let mut i = 0;
    while i < tables.len() {
        tables.extend(schema.tables[tables[i]].children.iter().copied());
        i += 1;
    }
    tables.sort_unstable();
    tables
}

impl Plan {
    /// Counts every table at `scale` and cuts units of about `unit_rows` rows.
    /// `counts` must be built from the same schema and seed as the run.
    pub fn new(schema: &Schema, counts: &Generators, scale: f64, unit_rows: u64) -> Plan {
        let mut table_rows = vec![0u64; schema.tables.len()];
        let mut units = Vec::new();
        let mut stream = 0;
        for root in root_order(schema) {
            let TableSize::Rows(rows) = schema.tables[root].size else {
                unreachable!("root_order returns roots")
            };
            let tables = subtree(schema, root);
            let n = scaled(rows, scale);
            let mut start = 0;
            let mut starts: Vec<(usize, u64)> =
                tables.iter().map(|&t| (t, table_rows[t])).collect();
            let mut total = 0;
            for row in 0..n {
                total += 1 + descendants(counts, root, row, &mut table_rows);
                table_rows[root] += 1;
                if total >= unit_rows || row + 1 == n {
                    units.push(Unit {
                        root,
                        rows: start..row + 1,
                        starts,
                        total,
                        stream,
                    });
                    stream += total;
                    start = row + 1;
                    starts = tables.iter().map(|&t| (t, table_rows[t])).collect();
                    total = 0;
                }
            }
        }
        Plan { table_rows, units }
    }

    /// Rows of all tables together.
    pub fn total_rows(&self) -> u64 {
        self.table_rows.iter().sum()
    }
}

/// The root tables in the order their units are emitted: a root whose
/// tree references rows of another root's tree comes after it, so every
/// referenced row precedes its references in the output stream (a database
/// checking foreign keys as rows arrive accepts them). Otherwise, and where
/// trees reference each other, schema order. Only the order in which
/// tables interleave changes; every table's rows are the same, in the same
/// order.
pub fn root_order(schema: &Schema) -> Vec<usize> {
    let n = schema.tables.len();
    let mut root_of: Vec<usize> = (0..n).collect();
    for (t, table) in schema.tables.iter().enumerate() {
        if let TableSize::Per { parent, .. } = table.size {
            // Parents come first in schema order.
            root_of[t] = root_of[parent];
        }
    }
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (t, table) in schema.tables.iter().enumerate() {
        for column in &table.columns {
            if let Gen::Ref { table: r, .. } = column.gen {
                if root_of[r] != root_of[t] {
                    deps[root_of[t]].push(root_of[r]);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..n)
        .filter(|&t| matches!(schema.tables[t].size, TableSize::Rows(_)))
        .collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(roots.len());
    while order.len() < roots.len() {
        let ready = roots
            .iter()
            .copied()
            .find(|&r| !placed[r] && deps[r].iter().all(|&d| placed[d] || d == r));
        // A cycle between trees: take the first in schema order.
        let next = ready.unwrap_or_else(|| {
            roots
                .iter()
                .copied()
                .find(|&r| !placed[r])
                .expect("an unplaced root remains")
        });
        placed[next] = true;
        order.push(next);
    }
    order
}

/// Draws the counts below `row` of `table`, adding them to `table_rows`;
/// returns how many rows they make.
fn descendants(counts: &Generators, table: usize, row: u64, table_rows: &mut [u64]) -> u64 {
    let mut total = 0;
    for &child in counts.children(table) {
        let n = counts.count(child, row);
        for _ in 0..n {
            let child_row = table_rows[child];
            table_rows[child] += 1;
            total += 1 + descendants(counts, child, child_row, table_rows);
        }
    }
    total
}
