//! The shape of a schema's row stream: the order its trees are emitted
//! in, which of them others refer to, and which grows without end in a
//! stream.

use crate::schema::{Gen, Schema, TableSize};

/// How a schema's trees make a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Root tables in the order their trees are emitted.
    pub order: Vec<usize>,
    /// How many of `order`, from the first, are trees other trees refer
    /// to (emitted first, whole; their rows stand at the event clock's
    /// start).
    pub references: usize,
    /// The tree that grows without end in a stream: the last of `order`,
    /// when no other tree refers to it.
    pub endless: Option<usize>,
    /// Per table: its root.
    pub root_of: Vec<usize>,
}

impl Shape {
    /// The shape of `schema`.
    pub fn of(schema: &Schema) -> Shape {
        let (root_of, deps) = trees(schema);
        let order = root_order(schema);
        let references = order.iter().take_while(|&&r| referenced(&deps, r)).count();
        let endless = order.last().copied().filter(|&r| !referenced(&deps, r));
        Shape {
            order,
            references,
            endless,
            root_of,
        }
    }

    /// The stream position of the first row after the reference trees,
    /// with `table_rows` rows per table.
    pub fn event_base(&self, schema: &Schema, table_rows: &[u64]) -> u64 {
        let leading = &self.order[..self.references];
        (0..schema.tables.len())
            .filter(|&t| leading.contains(&self.root_of[t]))
            .map(|t| table_rows[t])
            .sum()
    }

    /// Whether table `t` is in the endless tree.
    pub fn is_endless(&self, t: usize) -> bool {
        self.endless == Some(self.root_of[t])
    }
}

/// The root tables in the order their units are emitted: a root whose
/// tree references rows of another root's tree comes after it, so every
/// referenced row precedes its references in the output stream (a database
/// checking foreign keys as rows arrive accepts them); trees that others
/// reference come before those that none does (a stream's event trees).
/// Otherwise, and where trees reference each other, schema order. Only the order in which
/// tables interleave changes; every table's rows are the same, in the same
/// order.
pub fn root_order(schema: &Schema) -> Vec<usize> {
    let n = schema.tables.len();
    let (_, deps) = trees(schema);
    let roots: Vec<usize> = (0..n)
        .filter(|&t| matches!(schema.tables[t].size, TableSize::Rows(_)))
        .collect();
    let referenced = |r: usize| referenced(&deps, r);
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(roots.len());
    while order.len() < roots.len() {
        let is_ready = |r: usize| !placed[r] && deps[r].iter().all(|&d| placed[d] || d == r);
        // Trees others refer to first: a stream emits them before the
        // event trees that refer to them.
        let ready = roots
            .iter()
            .copied()
            .find(|&r| is_ready(r) && referenced(r))
            .or_else(|| roots.iter().copied().find(|&r| is_ready(r)));
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

/// Per table its root, and per root the roots of the other trees its
/// tree refers to (`ref` columns).
fn trees(schema: &Schema) -> (Vec<usize>, Vec<Vec<usize>>) {
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
    (root_of, deps)
}

/// Whether another tree refers to the tree of root `r`.
fn referenced(deps: &[Vec<usize>], r: usize) -> bool {
    deps.iter()
        .enumerate()
        .any(|(o, d)| o != r && d.contains(&r))
}
