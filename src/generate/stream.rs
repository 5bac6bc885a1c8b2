//! A Genfile's rows as a stream: which trees are emitted first (those
//! others refer to), which grows without end (the last event tree), where
//! event time begins, and where a stream must end before a `unique`
//! column runs out of values.

use std::sync::Arc;

use super::plan::{check, End, Limits, PlanError};
pub use super::shape::Shape;
use super::{Generators, Plan};
use crate::diag::Diagnostic;
use crate::schema::{Gen, Schema};

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
    // An endless tree that emits nothing would stream nothing, for ever.
    if let Some(root) = shape.endless {
        let tree: Vec<usize> = (0..schema.tables.len())
            .filter(|&t| shape.root_of[t] == root)
            .collect();
        if tree.iter().all(|&t| !schema.stream.emit[t]) {
            let names: Vec<&str> = tree
                .iter()
                .map(|&t| schema.tables[t].name.as_str())
                .collect();
            problems.push(
                Diagnostic::new(
                    schema.stream.span.clone().unwrap_or(schema.tables[root].span.clone()),
                    format!(
                        "the stream's events are `{}`, and `emit = false` leaves every one of them out: the stream would emit nothing",
                        names.join("`, `")
                    ),
                )
                .help("emit at least one of them"),
            );
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
