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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::columns::Generators;
use super::groups::Layout;
pub use super::shape::root_order;
use crate::diag::{Diagnostic, Diagnostics};
use crate::generators::dist::Count;
use crate::generators::Uniqueness;
use crate::limits::MAX_ROWS_UNDER_A_ROW;
use crate::progress::grouped;
use crate::schema::{Gen, Schema, Table, TableSize};
use crate::shard::Shard;

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
    /// Rows of each table of `starts` in the unit, in the same order. A
    /// unit's rows are table after table, so these give each table's
    /// first position ([`Unit::positions`]).
    pub counts: Vec<u64>,
    /// Root rows after `rows` whose rows count in the unit's positions
    /// but are not generated: the end of a stream fell inside the unit.
    /// The kept rows are a prefix of each table's (rows are made depth
    /// first), at the positions an uncut unit gives them.
    pub cut: u64,
}

/// A unit too large to generate: a row of a table with `rows` with more
/// rows below it than [`MAX_ROWS_UNDER_A_ROW`] (a row and its descendants
/// are made together, in memory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {row} of `{table}` has about {} rows below it, more than the {} one row may have\n  help: datagen makes a row and everything below it together, in memory: spread the children over more parent rows, or lower the counts", grouped(*below), grouped(MAX_ROWS_UNDER_A_ROW))]
pub struct UnitTooLarge {
    /// The table with `rows`.
    pub table: String,
    /// The row, counting from 1.
    pub row: u64,
    /// Rows below it, about (the unit's rows but its own).
    pub below: u64,
}

impl Unit {
    /// The stream position of the first row of each table of `starts`,
    /// in the same order.
    pub fn positions(&self) -> Vec<u64> {
        let mut at = self.stream;
        self.counts
            .iter()
            .map(|&n| {
                let first = at;
                at += n;
                first
            })
            .collect()
    }

    /// Refuses a unit whose rows would not fit in memory: a run cuts units
    /// after a few thousand rows, so one larger than
    /// [`MAX_ROWS_UNDER_A_ROW`] holds a row with about that many below it.
    pub fn check_size(&self, generators: &Generators) -> Result<(), UnitTooLarge> {
        if self.total <= MAX_ROWS_UNDER_A_ROW {
            return Ok(());
        }
        // A unit ends with the row that made it large.
        Err(UnitTooLarge {
            table: generators.table_name(self.root).to_owned(),
            row: self.rows.end,
            below: self.total - (self.rows.end - self.rows.start),
        })
    }
}

/// What makes a plan impossible, found before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The Genfile asks, at this scale, for what cannot be generated: a
    /// reference to a table without rows, a unique range smaller than its
    /// table, a sequence that would pass the end of the integers. Each
    /// problem is located in the Genfile.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// More rows than the run may make.
    #[error("the run would make {rows}, more than the {} allowed\n  help: lower --scale or the row counts, or allow more with --max-rows (or DATAGEN_MAX_ROWS)", grouped(*max))]
    TooManyRows {
        /// How many, in words ("about 1.0e15 rows", "at least 12,000,000,000 rows").
        rows: String,
        /// The limit.
        max: u64,
    },
    /// Stopped by a signal while counting rows.
    #[error("interrupted while counting rows; nothing was written")]
    Interrupted,
}

impl PlanError {
    /// The exit code: 2 when the Genfile or the settings ask for the
    /// impossible, 130 when interrupted.
    pub fn exit_code(&self) -> u8 {
        match self {
            PlanError::Invalid(_) | PlanError::TooManyRows { .. } => 2,
            PlanError::Interrupted => 130,
        }
    }
}

/// What a plan may not exceed, and how it is stopped.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// The most rows of all tables together.
    pub max_rows: u64,
    /// Set by a signal: counting stops.
    pub stop: Option<&'a AtomicBool>,
}

impl Limits<'_> {
    /// No limit on rows; nothing stops the counting.
    pub const NONE: Limits<'static> = Limits {
        max_rows: u64::MAX,
        stop: None,
    };

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Plans a run at `seed` and `scale`: row counts (drawn on `threads`
/// threads), work units of about `unit_rows` rows, and the generators.
/// Refuses, before anything is written, what cannot be generated (see
/// [`check`]) and more rows than `limits` allow.
pub fn plan(
    schema: &Schema,
    seed: u64,
    scale: f64,
    unit_rows: u64,
    threads: usize,
    limits: &Limits<'_>,
) -> Result<(Plan, Arc<Generators>), PlanError> {
    let counts = Generators::new(schema, seed, &vec![0; schema.tables.len()]);
    let plan = Plan::counted(schema, &counts, scale, unit_rows, threads, limits)?;
    let known: Vec<Option<u64>> = plan.table_rows.iter().map(|&r| Some(r)).collect();
    let problems = check(schema, &known, scale);
    if !problems.is_empty() {
        return Err(PlanError::Invalid(schema.located(problems)));
    }
    let generators = Arc::new(Generators::new(schema, seed, &plan.table_rows));
    Ok((plan, generators))
}

/// Rows per table where the Genfile fixes them at scale 1: tables with
/// `rows`, and `per` tables with a fixed count below them; `None` where
/// only counting would tell.
pub fn fixed_rows(schema: &Schema) -> Vec<Option<u64>> {
    let mut rows: Vec<Option<u64>> = Vec::with_capacity(schema.tables.len());
    // Parents come before their children in schema order.
    for table in &schema.tables {
        rows.push(match table.size {
            TableSize::Rows(n) => Some(n),
            TableSize::Per { parent, count } => match (rows[parent], count) {
                (Some(0), _) => Some(0),
                (Some(p), Count::Fixed(n)) => p.checked_mul(n),
                _ => None,
            },
        });
    }
    rows
}

/// What cannot be generated with `table_rows` rows per table (`None`
/// where not known): a `unique` column whose generator has fewer distinct
/// values than its table has rows, a reference to a table without rows, a
/// generator that cannot make that many rows (a sequence passing the end
/// of the integers). Every problem is located at its column.
pub fn check(schema: &Schema, table_rows: &[Option<u64>], scale: f64) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let at_scale = if scale == 1.0 {
        String::new()
    } else {
        format!(" at scale {scale}")
    };
    for (i, table) in schema.tables.iter().enumerate() {
        // Groups numbered among one parent's children need no row count.
        d.extend(group_problems(table, table_rows[i], table_rows, &at_scale));
        let Some(rows) = table_rows[i] else { continue };
        if rows == 0 {
            continue;
        }
        for column in &table.columns {
            let what = format!("column `{}.{}`", table.name, column.name);
            if let Gen::Catalogue(g) = &column.gen {
                if let Some((problem, help)) = g.spec.rows_problem(rows) {
                    d.push(
                        Diagnostic::new(column.span.clone(), format!("{what}: {problem}"))
                            .help(help),
                    );
                }
                if column.unique {
                    if let Uniqueness::Space { values, of, help } = g.spec.uniqueness() {
                        if u128::from(rows) > values {
                            d.push(
                                Diagnostic::new(
                                    column.span.clone(),
                                    format!(
                                        "{what} is unique but its {of} holds {values} value{} for {rows} rows{at_scale}",
                                        if values == 1 { "" } else { "s" }
                                    ),
                                )
                                .help(help),
                            );
                        }
                    }
                }
            }
            if let Gen::Ref { table: t, .. } = column.gen {
                if table_rows[t] == Some(0) && column.null_rate < 1.0 {
                    let target = &schema.tables[t].name;
                    d.push(
                        Diagnostic::new(
                            column.span.clone(),
                            format!("{what} refers to table `{target}`, which has no rows{at_scale}"),
                        )
                        .help(format!(
                            "give `{target}` rows (at least 1 after --scale), or make the column always NULL with `null_rate = 1`"
                        )),
                    );
                }
            }
        }
    }
    d
}

/// The `unique` groups of `table` (of `rows` rows) whose members together
/// hold fewer values than the rows, or than the children of one parent
/// row, they must tell apart.
fn group_problems(
    table: &Table,
    rows: Option<u64>,
    table_rows: &[Option<u64>],
    at_scale: &str,
) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for numbered in &table.numbered {
        let Some(layout) = Layout::new(table, numbered, table_rows) else {
            continue;
        };
        let values = layout.capacity();
        let names = |g: usize| table.column_names(&table.unique[g].columns).join(", ");
        let (needed, of) = match (numbered.within_parent, &table.size) {
            (true, TableSize::Per { count, .. }) => {
                let most = match *count {
                    Count::Fixed(n) => n,
                    Count::Uniform { max, .. } | Count::Zipf { max, .. } => max,
                    Count::Dist(_) => continue,
                };
                (most, format!("for up to {most} children of one parent row"))
            }
            _ => match rows {
                Some(rows) if rows > 0 => (rows, format!("for {rows} rows{at_scale}")),
                _ => continue,
            },
        };
        if u128::from(needed) <= values {
            continue;
        }
        let what = match numbered.groups[..] {
            [g] => format!(
                "the `unique` group ({}) holds {values} combination{}",
                names(g),
                if values == 1 { "" } else { "s" }
            ),
            _ => format!(
                "the `unique` groups ({}) share ({}), so together they tell {values} row{} apart",
                numbered
                    .groups
                    .iter()
                    .map(|&g| names(g))
                    .collect::<Vec<_>>()
                    .join("), ("),
                table.column_names(&numbered.shared).join(", "),
                if values == 1 { "" } else { "s" }
            ),
        };
        // A copied parent column that is not a key of the parent row
        // does not tell the children of two parents apart: the other
        // columns are numbered over the whole table.
        let copied: Vec<&str> = numbered
            .groups
            .iter()
            .flat_map(|&g| &table.unique[g].columns)
            .filter(|&&c| matches!(table.columns[c].gen, Gen::Parent { .. }))
            .map(|&c| table.columns[c].name.as_str())
            .collect();
        let help = if numbered.within_parent || copied.is_empty() {
            "widen a member's space (a longer pattern, a larger range, more referenced rows), add a column to the group, or lower the row count".to_owned()
        } else {
            format!(
                "`{}` is copied from the parent row but is not a key of it, so it cannot tell two parents' children apart and the other columns are numbered over the whole table: copy a key of the parent instead (its `primary_key`, a `unique` column), or widen the other columns' spaces",
                copied.join("`, `")
            )
        };
        d.push(
            Diagnostic::new(
                table.unique[numbered.groups[0]].span.clone(),
                format!("table `{}`: {what} {of}", table.name),
            )
            .help(help),
        );
    }
    d
}

/// Units of a root table not counted yet: the whole run takes them all.
const UNCOUNTED: u64 = u64::MAX;

/// A root table as planned: its rows, its units (once counted) and where
/// its tree starts in the row stream.
#[derive(Debug, Clone)]
struct RootPlan {
    root: usize,
    rows: u64,
    /// A unit ends at this root row (a stream's endless tree: where the
    /// batch run's tree ends, so that its units, and the positions of
    /// their rows, are the batch run's).
    ends_unit_at: u64,
    units: u64,
    stream: u64,
    tables: Vec<usize>,
}

/// Row counts of a run, and how it is cut into work units.
///
/// Units are not stored: [`Plan::units`] draws them again, one at a time,
/// as the run consumes them, so planning takes the same memory whatever the
/// dataset's size.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Final rows per table of the whole run, in schema order.
    pub table_rows: Vec<u64>,
    /// Rows per table of this shard (all of them unless sharded).
    pub shard_rows: Vec<u64>,
    roots: Vec<RootPlan>,
    unit_rows: u64,
    shard: Shard,
    /// Where a stream ends before its trees do.
    pub end: End,
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

/// Rows of every table at `scale`: a root's from its `rows`, a `per`
/// table's the sum of its counts over every row of its parent (a count is a
/// function of the parent row's index alone). Each table's counts are drawn
/// on `threads` threads, in contiguous ranges. Refuses more rows than
/// `limits` allow — at once when a table's expected size is far beyond,
/// else as soon as the counts drawn pass the limit — and stops when
/// `limits.stop` is set.
fn count_rows(
    schema: &Schema,
    counts: &Generators,
    scale: f64,
    threads: usize,
    limits: &Limits<'_>,
    unbounded: &[bool],
) -> Result<Vec<u64>, PlanError> {
    let max = limits.max_rows;
    let too_many = |rows: String| PlanError::TooManyRows { rows, max };
    let mut rows = vec![0u64; schema.tables.len()];
    let mut total = 0u64;
    // Parents come before their children in schema order.
    for (t, table) in schema.tables.iter().enumerate() {
        if limits.stopped() {
            return Err(PlanError::Interrupted);
        }
        if unbounded.get(t) == Some(&true) {
            // A stream's event tree grows without end: not counted.
            continue;
        }
        rows[t] = match table.size {
            TableSize::Rows(n) => {
                let exact = n as f64 * scale;
                if exact >= u64::MAX as f64 {
                    return Err(too_many(format!("about {exact:.1e} rows, beyond 2^64")));
                }
                scaled(n, scale)
            }
            TableSize::Per { parent, count } => {
                let n = rows[parent];
                let expected = n as f64 * count.mean();
                // Far beyond: refuse without drawing a count.
                if expected > 4.0 * max as f64 {
                    return Err(too_many(format!("about {expected:.1e} rows")));
                }
                let allowed = max - total;
                let threads = (threads as u64).clamp(1, n.div_ceil(4_096).max(1));
                let give_up = AtomicBool::new(false);
                let sum = |range: Range<u64>| -> u64 {
                    let mut sum = 0u64;
                    for (i, p) in range.enumerate() {
                        sum = sum.saturating_add(counts.count(t, p));
                        if sum > allowed
                            || (i % 65_536 == 65_535
                                && (limits.stopped() || give_up.load(Ordering::Relaxed)))
                        {
                            give_up.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                    sum
                };
                let counted = if threads == 1 {
                    sum(0..n)
                } else {
                    let at = |k: u64| n * k / threads;
                    std::thread::scope(|scope| {
                        let parts: Vec<_> = (0..threads)
                            .map(|k| {
                                let (sum, at) = (&sum, &at);
                                scope.spawn(move || sum(at(k)..at(k + 1)))
                            })
                            .collect();
                        parts
                            .into_iter()
                            .map(|p| p.join().expect("counting never panics"))
                            .fold(0u64, u64::saturating_add)
                    })
                };
                if limits.stopped() {
                    return Err(PlanError::Interrupted);
                }
                if counted > allowed {
                    return Err(too_many(format!(
                        "more than {} rows",
                        grouped(total.saturating_add(counted))
                    )));
                }
                counted
            }
        };
        total = total.saturating_add(rows[t]);
        if total > max {
            return Err(too_many(format!("at least {} rows", grouped(total))));
        }
    }
    Ok(rows)
}

impl Plan {
    /// Counts every table at `scale` and cuts units of about `unit_rows` rows.
    /// `counts` must be built from the same schema and seed as the run.
    /// Fails only when the rows pass 2^64.
    pub fn new(
        schema: &Schema,
        counts: &Generators,
        scale: f64,
        unit_rows: u64,
    ) -> Result<Plan, PlanError> {
        Plan::counted(schema, counts, scale, unit_rows, 1, &Limits::NONE)
    }

    /// [`Plan::new`], counting on `threads` threads (a run uses its
    /// workers) within `limits`. Units are not counted: the whole run's
    /// units are drawn as they are consumed; [`Plan::shard`] counts them
    /// when it needs to.
    pub fn counted(
        schema: &Schema,
        counts: &Generators,
        scale: f64,
        unit_rows: u64,
        threads: usize,
        limits: &Limits<'_>,
    ) -> Result<Plan, PlanError> {
        Plan::counted_unbounded(schema, counts, scale, unit_rows, threads, limits, None)
    }

    /// [`Plan::counted`], with the tree of root table `unbounded` (a
    /// stream's last event tree) growing without end: its tables are not
    /// counted (their rows are 0 in [`Plan::table_rows`]) and its root's
    /// rows never run out; a stream ends it with [`End`] or a signal.
    pub fn counted_unbounded(
        schema: &Schema,
        counts: &Generators,
        scale: f64,
        unit_rows: u64,
        threads: usize,
        limits: &Limits<'_>,
        unbounded: Option<usize>,
    ) -> Result<Plan, PlanError> {
        let mut endless = vec![false; schema.tables.len()];
        if let Some(root) = unbounded {
            for t in subtree(schema, root) {
                endless[t] = true;
            }
        }
        let table_rows = count_rows(schema, counts, scale, threads, limits, &endless)?;
        let mut roots = Vec::new();
        let mut stream = 0;
        for root in root_order(schema) {
            let tables = subtree(schema, root);
            let tree_rows: u64 = tables.iter().map(|&t| table_rows[t]).sum();
            let batch_rows = match schema.tables[root].size {
                TableSize::Rows(n) => scaled(n, scale),
                TableSize::Per { .. } => 0,
            };
            roots.push(RootPlan {
                root,
                rows: if endless[root] {
                    u64::MAX
                } else {
                    table_rows[root]
                },
                ends_unit_at: if endless[root] { batch_rows } else { u64::MAX },
                units: UNCOUNTED,
                stream,
                tables,
            });
            stream += tree_rows;
        }
        Ok(Plan {
            shard_rows: table_rows.clone(),
            table_rows,
            roots,
            unit_rows: unit_rows.max(1),
            shard: Shard::WHOLE,
            end: End::default(),
        })
    }

    /// Restricts the plan to `shard`, counting the units of every root
    /// table (to deal them out) and the shard's rows, with `counts`.
    pub fn shard(&mut self, shard: Shard, counts: &Arc<Generators>) {
        // Units are cut in one place, the iterator: count the whole run's.
        self.shard = Shard::WHOLE;
        let mut per_root = vec![0u64; self.table_rows.len()];
        for unit in self.units(counts.clone()) {
            per_root[unit.root] += 1;
        }
        for plan in &mut self.roots {
            plan.units = per_root[plan.root];
        }
        self.shard = shard;
        let mut units = self.units(counts.clone());
        for _ in &mut units {}
        self.shard_rows = units.emitted;
    }

    /// Rows of all tables of the whole run.
    pub fn total_rows(&self) -> u64 {
        self.table_rows.iter().sum()
    }

    /// Rows of all tables this run (this shard) generates.
    pub fn shard_total(&self) -> u64 {
        self.shard_rows.iter().sum()
    }

    /// The units of this plan's shard in output order, drawn with `counts`
    /// (built from the same schema and seed).
    pub fn units(&self, counts: Arc<Generators>) -> Units {
        Units {
            counts,
            roots: self.roots.clone(),
            unit_rows: self.unit_rows,
            shard: self.shard,
            root: 0,
            row: 0,
            unit: 0,
            stream: self.roots.first().map_or(0, |r| r.stream),
            table_rows: vec![0; self.table_rows.len()],
            emitted: vec![0; self.table_rows.len()],
            end: self.end.clone(),
            ended: false,
        }
    }
}

/// The units of a plan, drawn one at a time ([`Plan::units`]).
pub struct Units {
    counts: Arc<Generators>,
    roots: Vec<RootPlan>,
    unit_rows: u64,
    shard: Shard,
    /// Index into `roots` of the tree being cut.
    root: usize,
    /// Next root row.
    row: u64,
    /// Index of the next unit within the tree.
    unit: u64,
    stream: u64,
    table_rows: Vec<u64>,
    /// Rows per table in the units returned so far.
    emitted: Vec<u64>,
    /// Where a stream ends, if it does before its trees do.
    end: End,
    /// The end was reached: no more units.
    ended: bool,
}

/// Where a stream's units end before the plan's trees do: after the root
/// row (with its children) whose rows reach `max_rows` event rows, and
/// before a table passes its cap (a `unique` column whose values would
/// run out).
#[derive(Debug, Clone, Default)]
pub struct End {
    /// Most event rows: the rows of the tables of `counted`.
    pub max_rows: Option<u64>,
    /// Per table, whether its rows count towards `max_rows` (the event
    /// tables a stream emits).
    pub counted: Vec<bool>,
    /// Most rows per table (`u64::MAX`: no cap), in schema order; empty
    /// when no table has a cap.
    pub caps: Vec<u64>,
}

impl End {
    /// Whether the event rows so far reach `max_rows`.
    fn reached(&self, table_rows: &[u64]) -> bool {
        self.max_rows.is_some_and(|max| {
            let rows: u64 = table_rows
                .iter()
                .zip(&self.counted)
                .filter(|(_, &c)| c)
                .map(|(r, _)| r)
                .sum();
            rows >= max
        })
    }

    /// Whether a table has more rows than its cap.
    fn passed(&self, table_rows: &[u64]) -> bool {
        self.caps
            .iter()
            .zip(table_rows)
            .any(|(&cap, &rows)| rows > cap)
    }
}

impl Units {
    fn next_root(&mut self) {
        self.root += 1;
        self.row = 0;
        self.unit = 0;
        if let Some(next) = self.roots.get(self.root) {
            self.stream = next.stream;
        }
    }
}

impl Iterator for Units {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        while let Some(plan) = self.roots.get(self.root) {
            let keep = self.shard.range(plan.units);
            if self.ended {
                return None;
            }
            if self.row >= plan.rows || self.unit >= keep.end {
                self.next_root();
                continue;
            }
            let (root, first) = (plan.root, self.row);
            let starts: Vec<(usize, u64)> = plan
                .tables
                .iter()
                .map(|&t| (t, self.table_rows[t]))
                .collect();
            let mut total = 0;
            // Rows per table, and the root row, where the stream ends if
            // it ends in this unit.
            let mut kept: Option<(Vec<u64>, u64)> = None;
            while self.row < plan.rows {
                if kept.is_none() && self.end.reached(&self.table_rows) {
                    kept = Some((self.table_rows.clone(), self.row));
                }
                let before =
                    (kept.is_none() && !self.end.caps.is_empty()).then(|| self.table_rows.clone());
                total += 1 + descendants(&self.counts, root, self.row, &mut self.table_rows);
                self.table_rows[root] += 1;
                self.row += 1;
                if let Some(before) = before {
                    if self.end.passed(&self.table_rows) {
                        kept = Some((before, self.row - 1));
                    }
                }
                if total >= self.unit_rows || self.row == plan.ends_unit_at {
                    break;
                }
            }
            let (index, stream) = (self.unit, self.stream);
            self.unit += 1;
            self.stream += total;
            let counts: Vec<u64> = starts
                .iter()
                .map(|&(t, start)| self.table_rows[t] - start)
                .collect();
            self.ended = kept.is_some();
            let (rows, cut, made) = match &kept {
                Some((then, row)) => (first..*row, self.row - row, then),
                None => (first..self.row, 0, &self.table_rows),
            };
            if keep.contains(&index) && !rows.is_empty() {
                for &(t, start) in &starts {
                    self.emitted[t] += made[t] - start;
                }
                return Some(Unit {
                    root,
                    rows,
                    starts,
                    total,
                    stream,
                    counts,
                    cut,
                });
            }
        }
        None
    }
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
