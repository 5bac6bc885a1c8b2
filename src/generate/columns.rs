//! The columns of a schema compiled for a run, and the values they make.
//!
//! [`Generators`] is built once per run: every generator of the catalogue
//! compiled ([`crate::generators::Spec::compile`]), every name resolved,
//! every stream key derived. Making a value is then a match on the few
//! sources datagen itself knows (`ref`, `parent`, `expr`, `lookup`, `agg`,
//! `cases`) or a call into a compiled generator, a few random draws and,
//! for text, an append to the block's arena. How rows and their children
//! are generated is in [`rows`](super::rows).

use rand::RngExt;

use crate::context::{Lookups, SourceContext};
use crate::expr::{eval, store, Expr, Val};
use crate::generators::dist::{Counter, Pick};
use crate::generators::unique::{Joint, Numbering};
use crate::generators::{Compile, RowKey, Sample};
use crate::rng::{row_rng, stream_key, Purpose};
use crate::schema::{AggFunc, Column, Gen, Schema, Table, TableSize};

use super::groups::Layout;
use crate::value::{SqlType, Value};

/// How a compiled column makes its values.
#[derive(Debug)]
pub(super) enum Kind {
    /// A generator of the catalogue.
    Gen(Box<dyn Sample>),
    /// A generator of the catalogue whose parameters are expressions of
    /// the row: it can fail (crossed bounds), so its column is located.
    Bounded(Box<dyn Sample>),
    /// A key of a row of another table, picked by `pick`, or numbered by
    /// a `unique` group.
    Ref {
        key: Box<dyn RowKey>,
        pick: Pick,
        /// The group's numbering, and the referenced table's rows.
        numbering: Option<(Joint, u64)>,
    },
    Parent {
        column: usize,
    },
    Expr {
        expr: Expr,
        sql: SqlType,
    },
    Lookup {
        via: usize,
        table: usize,
        column: usize,
        needed: Vec<usize>,
    },
    /// Computed after the row's children ([`super::rows`]).
    Agg {
        func: AggFunc,
        child: usize,
        column: usize,
        sql: SqlType,
    },
    Cases(Vec<CaseGen>),
}

/// One branch of `cases`, with its own stream.
#[derive(Debug)]
pub(super) struct CaseGen {
    when: Option<Expr>,
    kind: Kind,
    values: u64,
}

/// One column, compiled.
#[derive(Debug)]
pub(super) struct ColumnGen {
    pub(super) kind: Kind,
    values: u64,
    nulls: u64,
    null_rate: f64,
    when: Option<Expr>,
    pub(super) late: bool,
}

/// One table, compiled.
#[derive(Debug)]
pub(super) struct TableGen {
    /// The table's name, and its columns', for messages.
    pub(super) name: String,
    pub(super) column_names: Vec<String>,
    pub(super) columns: Vec<ColumnGen>,
    pub(super) parent: Option<usize>,
    pub(super) children: Vec<usize>,
    /// How many children a parent row has (`per` tables).
    count: Option<Children>,
    pub(super) has_late: bool,
    /// A changes table: its rows in a unit are ordered by this column
    /// (`changed_at`), each row's changes keeping their order.
    pub(super) sort_by: Option<usize>,
}

/// How a `per` table's rows under one parent row are counted.
#[derive(Debug)]
enum Children {
    /// Drawn from the table's count stream.
    Drawn(u64, Counter),
    /// The states the parent row enters (a lifecycle's history table).
    Steps(u64, std::sync::Arc<crate::generators::lifecycle::Lifecycle>),
}

/// Every table's generators for one run, shared by the worker threads.
#[derive(Debug)]
pub struct Generators {
    pub(super) tables: Vec<TableGen>,
}

impl Generators {
    /// Compiles `schema` for `seed`; `table_rows` are the final row counts
    /// (they bound `ref`).
    pub fn new(schema: &Schema, seed: u64, table_rows: &[u64]) -> Generators {
        let base = super::shape::Shape::of(schema).event_base(schema, table_rows);
        let clock = schema.stream.clock(base);
        let tables = schema
            .tables
            .iter()
            .map(|table| {
                let types: Vec<SqlType> = table.columns.iter().map(|c| c.sql_type).collect();
                let numberings = numberings(table, seed, table_rows);
                let columns = table
                    .columns
                    .iter()
                    .zip(numberings)
                    .map(|(column, numbering)| {
                        let cx = Compile {
                            seed,
                            table: &table.name,
                            stream: column.name.clone(),
                            unique: column.unique || numbering.is_some(),
                            numbering: numbering.map_or(Numbering::Own, Numbering::Joint),
                            reads: &[],
                            exprs: &[],
                            types: &types,
                            dictionaries: &schema.dictionaries,
                            clock: clock.clone(),
                            late: schema.stream.late,
                        };
                        ColumnGen {
                            kind: compile(&cx, schema, table_rows, column, &column.gen),
                            values: cx.key(Purpose::Values),
                            nulls: cx.key(Purpose::Nulls),
                            null_rate: column.null_rate,
                            when: column.when.clone(),
                            late: column.late,
                        }
                    })
                    .collect();
                let (parent, count) = match &table.size {
                    TableSize::Rows(_) => (None, None),
                    TableSize::Per { parent, count } => match &table.history {
                        Some(lifecycle) => (
                            Some(*parent),
                            Some(Children::Steps(lifecycle.key(seed), lifecycle.clone())),
                        ),
                        None => {
                            let key = stream_key(seed, &table.name, "", Purpose::Count);
                            (
                                Some(*parent),
                                Some(Children::Drawn(key, Counter::new(*count))),
                            )
                        }
                    },
                };
                TableGen {
                    name: table.name.clone(),
                    column_names: table.columns.iter().map(|c| c.name.clone()).collect(),
                    has_late: table.columns.iter().any(|c| c.late),
                    sort_by: table.changes.map(|_| 2),
                    columns,
                    parent,
                    children: table.children.clone(),
                    count,
                }
            })
            .collect();
        Generators { tables }
    }

    /// The name of table `table`, for messages.
    pub fn table_name(&self, table: usize) -> &str {
        &self.tables[table].name
    }

    /// Children of `parent_row` in the `per` table `table`.
    pub fn count(&self, table: usize, parent_row: u64) -> u64 {
        match &self.tables[table].count {
            None => 0,
            Some(Children::Drawn(key, counter)) => counter.draw(&mut row_rng(*key, parent_row)),
            Some(Children::Steps(key, lifecycle)) => lifecycle.steps(*key, parent_row),
        }
    }

    /// Tables with `per` this one.
    pub fn children(&self, table: usize) -> &[usize] {
        &self.tables[table].children
    }
}

impl Lookups for Generators {
    fn width(&self, table: usize) -> usize {
        self.tables[table].columns.len()
    }

    fn value(&self, table: usize, column: usize, ctx: &mut SourceContext<'_>) -> Value {
        self.tables[table].columns[column].value(column, ctx)
    }
}

/// How each column of `table` is numbered by the table's `unique` groups
/// (`None` for columns no group numbers).
fn numberings(table: &Table, seed: u64, table_rows: &[u64]) -> Vec<Option<Joint>> {
    let mut out = vec![None; table.columns.len()];
    let rows: Vec<Option<u64>> = table_rows.iter().copied().map(Some).collect();
    for numbered in &table.numbered {
        if let Some(layout) = Layout::new(table, numbered, &rows) {
            layout.joints(table, numbered, seed, &mut out);
        }
    }
    out
}

/// How `column` (of the table of `cx`) makes values from `gen`: its own
/// source, or a case's.
fn compile(
    cx: &Compile<'_>,
    schema: &Schema,
    table_rows: &[u64],
    column: &Column,
    gen: &Gen,
) -> Kind {
    match gen {
        Gen::Catalogue(g) => {
            let sample = g.spec.compile(&Compile {
                reads: &g.reads,
                exprs: &g.exprs,
                ..cx.clone()
            });
            if g.exprs.is_empty() {
                Kind::Gen(sample)
            } else {
                Kind::Bounded(sample)
            }
        }
        Gen::Expr { expr, .. } => Kind::Expr {
            expr: expr.clone(),
            sql: column.sql_type,
        },
        Gen::Lookup {
            via,
            table: t,
            column: c,
        } => Kind::Lookup {
            via: *via,
            table: *t,
            column: *c,
            needed: crate::schema::validate::needed_columns(&schema.tables[*t], *c),
        },
        Gen::Agg {
            func,
            child,
            column: c,
        } => Kind::Agg {
            func: *func,
            child: *child,
            column: *c,
            sql: column.sql_type,
        },
        Gen::Cases(cases) => Kind::Cases(
            cases
                .iter()
                .enumerate()
                .map(|(i, case)| {
                    let branch = Compile {
                        stream: format!("{}#case{}", cx.stream, i + 1),
                        ..cx.clone()
                    };
                    CaseGen {
                        when: case.when.clone(),
                        kind: compile(&branch, schema, table_rows, column, &case.gen),
                        values: branch.key(Purpose::Values),
                    }
                })
                .collect(),
        ),
        Gen::Ref {
            table,
            column: c,
            dist,
        } => {
            let target = &schema.tables[*table];
            let col = &target.columns[*c];
            let values = stream_key(cx.seed, &target.name, &col.name, Purpose::Values);
            let key = match &col.gen {
                Gen::Catalogue(g) => g.spec.row_key(values),
                _ => None,
            }
            .expect("validation lets `ref` point only at a key of its row");
            Kind::Ref {
                key,
                pick: Pick::new(table_rows[*table], *dist, None),
                numbering: match cx.numbering {
                    Numbering::Joint(j) => Some((j, table_rows[*table])),
                    Numbering::Own => None,
                },
            }
        }
        Gen::Parent { column } => Kind::Parent { column: *column },
    }
}

impl ColumnGen {
    /// Makes this column (index `c` of its table) for the row of `ctx`.
    pub(super) fn value(&self, c: usize, ctx: &mut SourceContext<'_>) -> Value {
        ctx.stats().values += 1;
        if self.null_rate > 0.0 && ctx.rng(self.nulls).random::<f64>() < self.null_rate {
            ctx.stats().nulls += 1;
            return Value::Null;
        }
        if let Some(when) = &self.when {
            let holds = eval(when, ctx) == Val::Bool(true);
            ctx.locate(c);
            if !holds {
                ctx.stats().nulls += 1;
                return Value::Null;
            }
        }
        kind_value(&self.kind, self.values, c, ctx)
    }
}

/// The value of `kind` for column `c` of the row of `ctx`, from stream `key`.
fn kind_value(kind: &Kind, key: u64, c: usize, ctx: &mut SourceContext<'_>) -> Value {
    match kind {
        Kind::Gen(sample) => sample.value(key, ctx),
        Kind::Bounded(sample) => {
            let v = sample.value(key, ctx);
            ctx.locate(c);
            v
        }
        Kind::Ref {
            key: row_key,
            pick,
            numbering,
        } => {
            let picked = match numbering {
                Some((j, rows)) => j.digit(ctx, u128::from(*rows)) as u64,
                None => pick.pick(&mut ctx.rng(key)),
            };
            ctx.picked(c, picked);
            row_key.at(picked)
        }
        Kind::Parent { column } => match ctx.parent_value(*column) {
            Some((Value::Text(s, e), parent)) => ctx.push_text(parent.str(s, e)),
            Some((other, _)) => other,
            None => Value::Null,
        },
        Kind::Expr { expr, sql } => {
            let v = eval(expr, ctx);
            let v = store(ctx, v, *sql);
            ctx.locate(c);
            v
        }
        Kind::Lookup {
            via,
            table,
            column,
            needed,
        } => {
            if ctx.value(*via) == Value::Null {
                return Value::Null;
            }
            let picked = ctx.picked_row(*via);
            ctx.lookup(*table, *column, picked, needed)
        }
        Kind::Cases(cases) => {
            for case in cases {
                let matched = match &case.when {
                    Some(w) => eval(w, ctx) == Val::Bool(true),
                    None => true,
                };
                ctx.locate(c);
                if matched {
                    return kind_value(&case.kind, case.values, c, ctx);
                }
            }
            Value::Null
        }
        Kind::Agg { .. } => Value::Null, // computed after the children, in `late`
    }
}
