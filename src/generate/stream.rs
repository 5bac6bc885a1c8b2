//! A Genfile's rows as a stream: which trees are emitted first (those
//! others refer to), which grows without end (the last event tree), where
//! event time begins, and where a stream must end before a `unique`
//! column runs out of values.

use std::sync::Arc;

use super::plan::{check, root_order, End, Limits, PlanError};
use super::{Generators, Plan};
use crate::diag::Diagnostic;
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
        let n = schema.tables.len();
        let mut root_of: Vec<usize> = (0..n).collect();
        for (t, table) in schema.tables.iter().enumerate() {
            if let TableSize::Per { parent, .. } = table.size {
                root_of[t] = root_of[parent];
            }
        }
        let mut referenced = vec![false; n];
        for (t, table) in schema.tables.iter().enumerate() {
            for column in &table.columns {
                if let Gen::Ref { table: r, .. } = column.gen {
                    if root_of[r] != root_of[t] {
                        referenced[root_of[r]] = true;
                    }
                }
            }
        }
        let order = root_order(schema);
        let references = order.iter().take_while(|&&r| referenced[r]).count();
        let endless = order.last().copied().filter(|&r| !referenced[r]);
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

/// Most rows table `t` may have before a `unique` column (or group) runs
/// out of values; `u64::MAX` when none does before 2^62.
fn cap(schema: &Schema, t: usize) -> u64 {
    let fits = |rows: u64| {
        let mut known = vec![None; schema.tables.len()];
        known[t] = Some(rows);
        check(schema, &known, 1.0).is_empty()
    };
    const CEILING: u64 = 1 << 62;
    if fits(CEILING) {
        return u64::MAX;
    }
    if !fits(1) {
        // Refused whatever the length (a group among a parent's children
        // too small): the plan's own check says so.
        return u64::MAX;
    }
    let (mut lo, mut hi) = (1u64, CEILING);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A stream's plan: the batch plan of `schema`, with the endless tree
/// (if any) growing without end, cut where `max_rows` event rows are
/// reached or a `unique` column would run out. Refuses, located, a
/// reference to a table of the endless tree (its row count is not known).
pub fn plan(
    schema: &Schema,
    seed: u64,
    scale: f64,
    unit_rows: u64,
    threads: usize,
    limits: &Limits<'_>,
) -> Result<(Plan, Arc<Generators>, Shape), PlanError> {
    let shape = Shape::of(schema);
    let mut problems = Vec::new();
    for table in &schema.tables {
        for column in &table.columns {
            if let Gen::Ref { table: r, .. } = column.gen {
                if shape.is_endless(r) {
                    problems.push(
                        Diagnostic::new(
                            column.span.clone(),
                            format!(
                                "column `{}.{}` refers to `{}`, whose rows grow without end in a stream",
                                table.name, column.name, schema.tables[r].name
                            ),
                        )
                        .help("a `ref` draws among the referenced table's rows, and the stream's last event tree never has them all: copy the parent's key with `parent = \"…\"`, or refer to a table of another tree"),
                    );
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(PlanError::Invalid(schema.located(problems)));
    }
    let counts = Generators::new(schema, seed, &vec![0; schema.tables.len()]);
    let mut plan = Plan::counted_unbounded(
        schema,
        &counts,
        scale,
        unit_rows,
        threads,
        limits,
        shape.endless,
    )?;
    let known: Vec<Option<u64>> = (0..schema.tables.len())
        .map(|t| (!shape.is_endless(t)).then_some(plan.table_rows[t]))
        .collect();
    let problems = check(schema, &known, scale);
    if !problems.is_empty() {
        return Err(PlanError::Invalid(schema.located(problems)));
    }
    let caps: Vec<u64> = (0..schema.tables.len())
        .map(|t| {
            if shape.is_endless(t) {
                cap(schema, t)
            } else {
                u64::MAX
            }
        })
        .collect();
    let references = &shape.order[..shape.references];
    plan.end = End {
        max_rows: schema.stream.max_rows,
        counted: (0..schema.tables.len())
            .map(|t| schema.stream.emit[t] && !references.contains(&shape.root_of[t]))
            .collect(),
        caps: if caps.iter().all(|&c| c == u64::MAX) {
            Vec::new()
        } else {
            caps
        },
    };
    // The endless tree's tables are referred to by nothing: their row
    // counts bound no generator.
    let generators = Arc::new(Generators::new(schema, seed, &plan.table_rows));
    Ok((plan, generators, shape))
}
