//! How the `unique` groups of a table are numbered for a run: the spaces
//! of their members, known once the plan knows every table's rows (a `ref`
//! numbers the referenced rows), laid out as the digits of one number.

use crate::generators::unique::Joint;
use crate::generators::Uniqueness;
use crate::rng::{stream_key, Purpose};
use crate::schema::{Column, Gen, Numbered, Table};

/// The values a numbered member of a `unique` group holds: its space, or
/// for a `ref` the referenced table's rows (`None` where not known).
pub(crate) fn member_space(column: &Column, table_rows: &[Option<u64>]) -> Option<u128> {
    match &column.gen {
        Gen::Catalogue(g) => match g.spec.uniqueness() {
            Uniqueness::Space { values, .. } => Some(values),
            _ => None,
        },
        Gen::Ref { table, .. } => table_rows[*table].map(u128::from),
        _ => None,
    }
}

/// The digits of a [`Numbered`]: the shared columns and each group's
/// other columns, each with its space. A list is numbered in the order
/// written while the product of its spaces fits 128 bits; columns past
/// that draw freely (the ones before tell rows apart already).
#[derive(Debug)]
pub(crate) struct Layout {
    shared: Vec<(usize, u128)>,
    rest: Vec<Vec<(usize, u128)>>,
    /// Combinations of the shared columns.
    shared_values: u128,
    /// The fewest combinations of any group's other columns (1 for one
    /// group): how many rows one combination of the shared columns holds.
    split: u128,
}

/// `columns` with their spaces, the longest prefix whose product fits 128
/// bits, and that product; `None` where a space is not known.
fn prefix(
    table: &Table,
    columns: &[usize],
    table_rows: &[Option<u64>],
) -> Option<(Vec<(usize, u128)>, u128)> {
    let mut out = Vec::with_capacity(columns.len());
    let mut product: u128 = 1;
    for &c in columns {
        let n = member_space(&table.columns[c], table_rows)?;
        match product.checked_mul(n) {
            Some(p) => {
                product = p;
                out.push((c, n));
            }
            None => break,
        }
    }
    Some((out, product))
}

impl Layout {
    /// The layout of `numbered` in `table`; `None` where a referenced
    /// table's rows are not known.
    pub(crate) fn new(
        table: &Table,
        numbered: &Numbered,
        table_rows: &[Option<u64>],
    ) -> Option<Layout> {
        let (shared, shared_values) = prefix(table, &numbered.shared, table_rows)?;
        let mut rest = Vec::with_capacity(numbered.rest.len());
        let mut split = u128::MAX;
        for columns in &numbered.rest {
            let (digits, values) = prefix(table, columns, table_rows)?;
            split = split.min(values);
            rest.push(digits);
        }
        // The number is shared × split: it must fit 128 bits.
        let split = split.min(u128::MAX / shared_values.max(1));
        Some(Layout {
            shared,
            rest,
            shared_values,
            split,
        })
    }

    /// How many rows the groups can tell apart.
    pub(crate) fn capacity(&self) -> u128 {
        self.shared_values.saturating_mul(self.split)
    }

    /// Each numbered column with its place in the number, for the run of
    /// `seed`: written into `out` by column index.
    pub(crate) fn joints(
        &self,
        table: &Table,
        numbered: &Numbered,
        seed: u64,
        out: &mut [Option<Joint>],
    ) {
        let total = self.capacity();
        if total == 0 {
            return; // a member without values: the table has no rows
        }
        let key = |group: usize| {
            let names = table.column_names(&table.unique[group].columns);
            stream_key(
                seed,
                &table.name,
                &format!("unique({})", names.join(",")),
                Purpose::Values,
            )
        };
        let joint = |after, rest| Joint {
            key: key(numbered.groups[0]),
            total,
            split: self.split,
            after,
            rest,
            within_parent: numbered.within_parent,
        };
        let mut after = self.shared_values;
        for &(c, n) in &self.shared {
            after /= n;
            out[c] = Some(joint(after, None));
        }
        for (g, digits) in self.rest.iter().enumerate() {
            let values: u128 = digits.iter().map(|&(_, n)| n).product();
            let group_key = key(numbered.groups[g]);
            let mut after = values;
            for &(c, n) in digits {
                after /= n;
                out[c] = Some(joint(after, Some((values, group_key))));
            }
        }
    }
}
