//! Lifecycles: a table's rows move through states (`placed` → `paid` →
//! `shipped`), each staying a while before the next. A row's history —
//! which states it enters and how long it stays in each — is drawn from
//! its own random stream, keyed by (seed, table, row), so any row's
//! history can be computed alone, in any order, on any worker or shard.
//! The history's times count from a timestamp of the row (`since`).
//!
//! The columns a lifecycle adds to its table (the final state, its time,
//! the time each state of `set` was entered) and the columns of its
//! history table (one row per state entered) are generators like any
//! other ([`Spec`]); the history table's row count per entity is
//! [`Lifecycle::steps`].

use std::sync::Arc;

use rand::RngExt;

use super::{Compile, Sample, Spec};
use crate::context::SourceContext;
use crate::expr::{eval, Expr, Val};
use crate::rng::{row_rng, stream_key, version_row, Purpose, RowRng};
use crate::value::{SqlType, Value};

/// Most states one row may enter (its history's rows): a lifecycle with
/// a cycle (`paid` → `refunded` → `paid`) ends there.
pub const MAX_STEPS: u32 = 1_000;

/// How long a row stays in a state before its next transition, in
/// seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dwell {
    /// Always this long.
    Fixed(f64),
    /// Exponentially distributed with this mean.
    Exponential(f64),
    /// Uniform between the two.
    Uniform(f64, f64),
    /// Log-normal with this median and shape `sigma`.
    LogNormal {
        /// The median stay, in seconds.
        median: f64,
        /// The standard deviation of the stay's logarithm.
        sigma: f64,
    },
}

impl Dwell {
    /// A stay drawn from `rng`, in whole seconds.
    fn seconds(self, rng: &mut RowRng) -> i64 {
        let u: f64 = rng.random();
        let s = match self {
            Dwell::Fixed(s) => s,
            Dwell::Exponential(mean) => -mean * (1.0 - u).ln(),
            Dwell::Uniform(lo, hi) => lo + u * (hi - lo),
            Dwell::LogNormal { median, sigma } => {
                // Box–Muller from two draws: one normal deviate.
                let v: f64 = rng.random();
                let z = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                median * (sigma * z).exp()
            }
        };
        // At most about 31,000 years a stay: the sum stays an i64 of
        // microseconds.
        s.clamp(0.0, 1e12).round() as i64
    }
}

/// A table's states and how its rows move between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    /// The table whose rows live it (keys the random stream).
    pub table: String,
    /// The states, as written.
    pub states: Vec<String>,
    /// Where every row starts.
    pub start: usize,
    /// For each state, the states that may follow with their cumulative
    /// probabilities (the last is 1); empty for a final state.
    pub next: Vec<Vec<(usize, f64)>>,
    /// For each state that has a next, how long a row stays in it.
    pub dwell: Vec<Option<Dwell>>,
    /// Most states one row enters, `start` included.
    pub max_steps: u32,
    /// `delete = { rate, after }`: the share of rows that, once in a final
    /// state, are deleted, and how long after.
    pub delete: Option<(f64, Dwell)>,
    /// For a table with `ops`: how many updates a row has, instead of
    /// transitions between states (the one state is `active`).
    pub ops: Option<Ops>,
}

/// How often a table's rows are updated (`[tables.X.ops]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ops {
    /// Updates per inserted row, on average.
    pub mean_updates: f64,
    /// Which rows the updates go to.
    pub choose: Choose,
}

/// Which rows updates go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choose {
    /// Every row alike: a geometric number of updates.
    Uniform,
    /// A few rows far more than most: each row's mean is scaled by a
    /// heavy-tailed (Pareto, shape 1.5) weight of mean 1.
    Zipf,
    /// Soon after the insert, then rarer: each stay twice the last.
    Recent,
}

/// The state a deleted row's history ends in.
pub const DELETED: &str = "deleted";

/// One state a row entered: its place in the row's history (from 0), the
/// state, and when, in microseconds after the row's `since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// 0 for the start.
    pub index: u64,
    /// Index into [`Lifecycle::states`].
    pub state: usize,
    /// Microseconds after `since`.
    pub after: i64,
    /// The row is deleted here (`state` is the one it was deleted in).
    pub deleted: bool,
}

impl Lifecycle {
    /// The key of the stream every row's history is drawn from.
    pub fn key(&self, seed: u64) -> u64 {
        stream_key(seed, &self.table, "#lifecycle", Purpose::Values)
    }

    /// Calls `visit` with each state row `row` enters, in order, while it
    /// returns `true`; returns the last step visited.
    pub fn walk(&self, key: u64, row: u64, mut visit: impl FnMut(Step) -> bool) -> Step {
        let mut rng = row_rng(key, row);
        let mut step = Step {
            index: 0,
            state: self.start,
            after: 0,
            deleted: false,
        };
        if !visit(step) {
            return step;
        }
        if let Some(ops) = self.ops {
            return self.walk_ops(ops, &mut rng, step, visit);
        }
        while step.index + 1 < u64::from(self.max_steps) {
            let next = &self.next[step.state];
            if next.is_empty() {
                // A final state: the row may be deleted some time later.
                if let Some((rate, after)) = self.delete {
                    if rng.random::<f64>() < rate {
                        let stay = after.seconds(&mut rng);
                        step = Step {
                            index: step.index + 1,
                            after: step.after.saturating_add(stay.saturating_mul(1_000_000)),
                            deleted: true,
                            ..step
                        };
                        visit(step);
                    }
                }
                break;
            }
            let u: f64 = rng.random();
            let state = next
                .iter()
                .find(|&&(_, cumulative)| u < cumulative)
                .map_or(next[next.len() - 1].0, |&(s, _)| s);
            let stay = self.dwell[step.state].map_or(0, |d| d.seconds(&mut rng));
            step = Step {
                index: step.index + 1,
                state,
                after: step.after.saturating_add(stay.saturating_mul(1_000_000)),
                deleted: false,
            };
            if !visit(step) {
                break;
            }
        }
        step
    }

    /// The updates (and delete) of a table with `ops`, after the insert.
    fn walk_ops(
        &self,
        ops: Ops,
        rng: &mut RowRng,
        mut step: Step,
        mut visit: impl FnMut(Step) -> bool,
    ) -> Step {
        let mean = match ops.choose {
            Choose::Zipf => {
                let u: f64 = rng.random();
                // Pareto with shape 1.5 and scale 1/3: mean 1.
                ops.mean_updates * (1.0 - u).powf(-1.0 / 1.5) / 3.0
            }
            _ => ops.mean_updates,
        };
        let more = mean / (1.0 + mean);
        let every = self.dwell[0].unwrap_or(Dwell::Fixed(86_400.0));
        let mut ended = false;
        while step.index + 1 < u64::from(self.max_steps) {
            if rng.random::<f64>() >= more {
                ended = true;
                break;
            }
            let mut stay = every.seconds(rng);
            if ops.choose == Choose::Recent {
                stay = stay.saturating_mul(1i64 << step.index.min(40));
            }
            step = Step {
                index: step.index + 1,
                after: step.after.saturating_add(stay.saturating_mul(1_000_000)),
                ..step
            };
            if !visit(step) {
                return step;
            }
        }
        if let (true, Some((rate, after))) = (ended, self.delete) {
            if rng.random::<f64>() < rate {
                let stay = after.seconds(rng);
                step = Step {
                    index: step.index + 1,
                    after: step.after.saturating_add(stay.saturating_mul(1_000_000)),
                    deleted: true,
                    ..step
                };
                visit(step);
            }
        }
        step
    }

    /// The version of the updated columns a row has at step `step`: the
    /// number of updates up to it (a delete keeps the last).
    pub fn version(step: Step) -> u64 {
        if step.deleted {
            step.index - 1
        } else {
            step.index
        }
    }

    /// How many states row `row` enters: its history's rows.
    pub fn steps(&self, key: u64, row: u64) -> u64 {
        self.walk(key, row, |_| true).index + 1
    }

    /// The last state row `row` enters.
    pub fn last(&self, key: u64, row: u64) -> Step {
        self.walk(key, row, |_| true)
    }

    /// The step `index` of row `row`'s history, if it gets that far.
    pub fn step(&self, key: u64, row: u64, index: u64) -> Option<Step> {
        let step = self.walk(key, row, |s| s.index < index);
        (step.index == index).then_some(step)
    }

    /// The first time row `row` enters `state`, up to step `by`.
    pub fn entered(&self, key: u64, row: u64, state: usize, by: u64) -> Option<Step> {
        let mut found = None;
        self.walk(key, row, |s| {
            if s.state == state && !s.deleted && s.index <= by {
                found = Some(s);
            }
            found.is_none() && s.index < by
        });
        found
    }

    /// The name of the state of `step`.
    pub fn state_name(&self, step: Step) -> &str {
        if step.deleted {
            DELETED
        } else {
            &self.states[step.state]
        }
    }

    /// Bytes of the longest state's name.
    fn longest(&self) -> u64 {
        self.states
            .iter()
            .map(|s| s.len() as u64)
            .max()
            .unwrap_or(0)
    }
}

/// What a lifecycle column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// On the table: the last state the row enters.
    State,
    /// On the table: when the row entered its last state.
    StateAt,
    /// On the table: when the row first entered this state (NULL if never).
    Entered(usize),
    /// On the history table: the step's place in its row's history, from 1.
    Seq,
    /// On the history table: the state entered.
    StepState,
    /// On the history table: when.
    StepAt,
    /// On the change table: `insert`, `update` or `delete`.
    Op,
    /// On the change table: when the row first entered this state, as of
    /// the step (NULL if it had not).
    EnteredBy(usize),
}

impl Field {
    /// Whether the field is on the history table (its row is a child of
    /// the lifecycle's row).
    fn on_history(self) -> bool {
        matches!(
            self,
            Field::Seq | Field::StepState | Field::StepAt | Field::Op | Field::EnteredBy(_)
        )
    }
}

/// A column a lifecycle makes. Columns with a time read `since`: the
/// generator's only expression (the row's column, or the parent's on the
/// history table).
#[derive(Debug)]
pub struct LifecycleSpec {
    /// The lifecycle.
    pub lifecycle: Arc<Lifecycle>,
    /// What the column holds.
    pub field: Field,
}

impl Spec for LifecycleSpec {
    fn sql_type(&self) -> SqlType {
        match self.field {
            Field::State | Field::StepState | Field::Op => SqlType::Text,
            Field::Seq => SqlType::Integer,
            Field::StateAt | Field::Entered(_) | Field::StepAt | Field::EnteredBy(_) => {
                SqlType::Timestamp
            }
        }
    }

    fn text_bytes(&self) -> u64 {
        match self.field {
            Field::State | Field::StepState => self.lifecycle.longest(),
            Field::Op => 6,
            _ => 0,
        }
    }

    fn may_be_null(&self) -> bool {
        matches!(self.field, Field::Entered(_) | Field::EnteredBy(_))
    }

    fn null_from_exprs(&self) -> bool {
        !matches!(
            self.field,
            Field::State | Field::StepState | Field::Op | Field::Seq
        )
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(LifecycleSample {
            lifecycle: Arc::clone(&self.lifecycle),
            key: self.lifecycle.key(cx.seed),
            field: self.field,
            since: cx.exprs.first().cloned(),
        })
    }
}

#[derive(Debug)]
struct LifecycleSample {
    lifecycle: Arc<Lifecycle>,
    key: u64,
    field: Field,
    since: Option<Expr>,
}

impl LifecycleSample {
    /// The time `after` microseconds past the row's `since`; NULL when
    /// `since` is.
    fn at(&self, after: i64, ctx: &mut SourceContext<'_>) -> Value {
        let Some(since) = &self.since else {
            return Value::Null;
        };
        let start = match eval(since, ctx) {
            Val::Ts(t) => t,
            Val::Date(d) => i64::from(d) * 86_400_000_000,
            _ => return Value::Null,
        };
        match start.checked_add(after) {
            // Within the years datagen writes (to 9999-12-31).
            Some(t) if t < 253_402_300_800_000_000 => Value::Timestamp(t),
            _ => {
                ctx.fail("the lifecycle's time passes the year 9999");
                Value::Null
            }
        }
    }
}

impl Sample for LifecycleSample {
    fn value(&self, _key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let lc = &self.lifecycle;
        let step = if self.field.on_history() {
            // A history row made alone (a lookup) has no place.
            let Some((row, index)) = ctx.sibling() else {
                return Value::Null;
            };
            if let Field::EnteredBy(state) = self.field {
                return match lc.entered(self.key, row, state, index) {
                    Some(step) => self.at(step.after, ctx),
                    None => Value::Null,
                };
            }
            match lc.step(self.key, row, index) {
                Some(step) => step,
                None => return Value::Null,
            }
        } else {
            let row = ctx.row();
            match self.field {
                Field::Entered(state) => match lc.entered(self.key, row, state, u64::MAX) {
                    Some(step) => step,
                    None => return Value::Null,
                },
                _ => lc.last(self.key, row),
            }
        };
        match self.field {
            Field::State | Field::StepState => ctx.push_text(lc.state_name(step)),
            Field::Op => ctx.push_text(match (step.index, step.deleted) {
                (_, true) => "delete",
                (0, _) => "insert",
                _ => "update",
            }),
            Field::Seq => Value::Int(step.index as i64 + 1),
            Field::StateAt | Field::Entered(_) | Field::StepAt | Field::EnteredBy(_) => {
                self.at(step.after, ctx)
            }
        }
    }
}

/// An updated column of a table with `ops`, on the table: the value its
/// row's last update gave it (or its first, with no update). Update `n`
/// draws the column as row [`version_row`]`(row, n)` would.
#[derive(Debug)]
pub struct LatestSpec {
    /// The column's generator.
    pub inner: Arc<dyn Spec>,
    /// The table's lifecycle.
    pub lifecycle: Arc<Lifecycle>,
}

impl Spec for LatestSpec {
    fn sql_type(&self) -> SqlType {
        self.inner.sql_type()
    }

    fn text_bytes(&self) -> u64 {
        self.inner.text_bytes()
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(LatestSample {
            inner: self.inner.compile(cx),
            lifecycle: Arc::clone(&self.lifecycle),
            key: self.lifecycle.key(cx.seed),
        })
    }
}

#[derive(Debug)]
struct LatestSample {
    inner: Box<dyn Sample>,
    lifecycle: Arc<Lifecycle>,
    key: u64,
}

impl Sample for LatestSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let row = ctx.row();
        let version = Lifecycle::version(self.lifecycle.last(self.key, row));
        if version == 0 {
            return self.inner.value(key, ctx);
        }
        ctx.swap_row(version_row(row, version));
        let value = self.inner.value(key, ctx);
        ctx.swap_row(row);
        value
    }
}

/// An updated column on the changes table: the value the row has after
/// the change — drawn as the row itself draws that version.
#[derive(Debug)]
pub struct FreshSpec {
    /// The column's generator.
    pub inner: Arc<dyn Spec>,
    /// The table's lifecycle.
    pub lifecycle: Arc<Lifecycle>,
    /// The column's name in its table.
    pub column: String,
}

impl Spec for FreshSpec {
    fn sql_type(&self) -> SqlType {
        self.inner.sql_type()
    }

    fn text_bytes(&self) -> u64 {
        self.inner.text_bytes()
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        let table = self.lifecycle.table.as_str();
        let own = Compile {
            table,
            stream: self.column.clone(),
            reads: &[],
            exprs: &[],
            ..cx.clone()
        };
        Box::new(FreshSample {
            inner: self.inner.compile(&own),
            lifecycle: Arc::clone(&self.lifecycle),
            key: self.lifecycle.key(cx.seed),
            values: stream_key(cx.seed, table, &self.column, Purpose::Values),
        })
    }
}

#[derive(Debug)]
struct FreshSample {
    inner: Box<dyn Sample>,
    lifecycle: Arc<Lifecycle>,
    key: u64,
    /// The column's values stream in its own table.
    values: u64,
}

impl Sample for FreshSample {
    fn value(&self, _key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let Some((row, index)) = ctx.sibling() else {
            return Value::Null;
        };
        let Some(step) = self.lifecycle.step(self.key, row, index) else {
            return Value::Null;
        };
        let version = Lifecycle::version(step);
        let drawn_as = if version == 0 {
            row
        } else {
            version_row(row, version)
        };
        let own = ctx.swap_row(drawn_as);
        let value = self.inner.value(self.values, ctx);
        ctx.swap_row(own);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orders() -> Lifecycle {
        // placed → paid (0.9) | cancelled (0.1); paid → shipped → delivered.
        Lifecycle {
            table: "orders".into(),
            states: ["placed", "paid", "shipped", "delivered", "cancelled"]
                .map(String::from)
                .to_vec(),
            start: 0,
            next: vec![
                vec![(1, 0.9), (4, 1.0)],
                vec![(2, 1.0)],
                vec![(3, 1.0)],
                vec![],
                vec![],
            ],
            dwell: vec![
                Some(Dwell::Exponential(3600.0)),
                Some(Dwell::LogNormal {
                    median: 86_400.0,
                    sigma: 0.5,
                }),
                Some(Dwell::Uniform(3600.0, 7200.0)),
                None,
                None,
            ],
            max_steps: MAX_STEPS,
            delete: None,
            ops: None,
        }
    }

    #[test]
    fn histories_follow_the_transitions_and_times_only_grow() {
        let lc = orders();
        let key = lc.key(42);
        let (mut cancelled, mut delivered) = (0, 0);
        for row in 0..10_000 {
            let mut steps = Vec::new();
            lc.walk(key, row, |s| {
                steps.push(s);
                true
            });
            assert_eq!(steps[0].state, 0);
            for pair in steps.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                assert!(lc.next[a.state].iter().any(|&(s, _)| s == b.state));
                assert!(b.after >= a.after);
                assert_eq!(b.index, a.index + 1);
            }
            let last = *steps.last().unwrap();
            assert!(lc.next[last.state].is_empty(), "ends in a final state");
            assert_eq!(lc.steps(key, row), steps.len() as u64);
            assert_eq!(lc.last(key, row), last);
            for s in &steps {
                assert_eq!(lc.step(key, row, s.index), Some(*s));
            }
            assert_eq!(lc.step(key, row, steps.len() as u64), None);
            match last.state {
                4 => cancelled += 1,
                3 => delivered += 1,
                other => panic!("ended in {other}"),
            }
        }
        // 10% cancelled, within a few standard deviations.
        assert!((850..1150).contains(&cancelled), "{cancelled}");
        assert_eq!(cancelled + delivered, 10_000);
    }

    #[test]
    fn a_cycle_ends_at_the_most_steps() {
        let lc = Lifecycle {
            table: "t".into(),
            states: vec!["a".into(), "b".into()],
            start: 0,
            next: vec![vec![(1, 1.0)], vec![(0, 1.0)]],
            dwell: vec![Some(Dwell::Fixed(1.0)), Some(Dwell::Fixed(2.0))],
            max_steps: 5,
            delete: None,
            ops: None,
        };
        let key = lc.key(1);
        assert_eq!(lc.steps(key, 7), 5);
        assert_eq!(lc.last(key, 7).after, (1 + 2 + 1 + 2) * 1_000_000);
        assert_eq!(
            lc.entered(key, 7, 1, u64::MAX).map(|s| s.after),
            Some(1_000_000)
        );
        assert_eq!(lc.entered(key, 7, 1, 0), None);
    }
}
