//! The validated schema: what the rest of datagen works from, and how a
//! Genfile's text becomes one.
//!
//! Every name is resolved to an index, every range checked, every default
//! filled in. Tables are in dependency order: a table comes after its
//! `per` parent and after every table it references. A column's values
//! come from a generator of the catalogue ([`crate::generators`]) or from
//! the relational and derived sources this module defines: `ref`,
//! `parent`, `expr`, `lookup`, `agg` and `cases`.

pub mod raw;
pub mod read;
pub mod stream;
pub mod validate;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use serde_spanned::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::expr::Expr;
use crate::generators::dicts::{Dictionary, Locale};
use crate::generators::dist::{Count, Dist};
use crate::generators::Generator;
use crate::value::SqlType;

/// A validated Genfile.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Where the Genfile was read from (for messages and relative paths).
    pub path: PathBuf,
    /// SHA-256 of the Genfile's bytes: part of a run's fingerprint.
    pub digest: [u8; 32],
    /// The Genfile's text, so that problems found later (planning, a
    /// target's own limits) are located in it too.
    pub text: Arc<str>,
    /// `[run] seed`.
    pub seed: u64,
    /// `[run] locale`.
    pub locale: Locale,
    /// `[pipeline]`.
    pub pipeline: PipelineSettings,
    /// `[target]`, as written.
    pub target: TargetSection,
    /// The tables, parents and referenced tables first.
    pub tables: Vec<Table>,
    /// `[dictionaries.NAME]`, in file order.
    pub dictionaries: Vec<Dictionary>,
    /// `[stream]`, or its defaults.
    pub stream: stream::StreamSpec,
    /// `[verify.NAME]`: tables of sums a store holds, checked by
    /// `datagen verify`.
    pub verify: Vec<VerifySums>,
    /// Where values in the Genfile (or the dictionary files it names)
    /// hold the NUL character, which some targets cannot store.
    pub nul: Vec<Range<usize>>,
}

impl Schema {
    /// `items`, found in this schema's Genfile, ready to print located.
    pub fn located(&self, items: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics {
            file: self.path.display().to_string(),
            source: self.text.to_string(),
            items,
        }
    }

    /// The index of the table called `name`.
    pub fn table_index(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }
}

/// `[pipeline]`: sizes that never change the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineSettings {
    /// Buffer capacity in rows; `None` derives it from available memory.
    pub buffer_rows: Option<usize>,
    /// Rows per Target batch.
    pub batch_rows: usize,
    /// Generator threads; 0 = one per core.
    pub workers: usize,
    /// Restarts allowed within `restart_window_s` (default 3).
    pub max_restarts: u32,
    /// Seconds restarts are counted over (default 60).
    pub restart_window_s: u64,
    /// First pause before a restart, in milliseconds (default 100; doubles).
    pub backoff_ms: u64,
    /// What is restarted when a part fails (default one-for-one).
    pub strategy: datagen_actors::Strategy,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            buffer_rows: None,
            batch_rows: 10_000,
            workers: 0,
            max_restarts: 3,
            restart_window_s: 60,
            backoff_ms: 100,
            strategy: datagen_actors::Strategy::OneForOne,
        }
    }
}

/// `[target]` as written: where rows go (`url`) and the keys of the
/// target it names, with their places in the Genfile. The target module
/// the URL names reads and checks them ([`crate::sink`]), so each target
/// owns its keys.
#[derive(Debug, Clone, Default)]
pub struct TargetSection {
    /// Every key and value, in file order.
    pub entries: Vec<(Spanned<String>, Spanned<toml::Value>)>,
}

impl TargetSection {
    /// `url`, when the Genfile gives one as a string.
    pub fn url(&self) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == "url")
            .and_then(|(_, v)| v.get_ref().as_str())
    }
}

/// `[verify.NAME]`: a store table holding, per `key`, the sums of the
/// `add` columns of table `from`'s rows, and optionally their count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySums {
    /// The store's table.
    pub name: String,
    /// The Genfile's table the rows are of.
    pub from: String,
    /// The columns the rows are grouped by.
    pub key: Vec<String>,
    /// The columns summed.
    pub add: Vec<String>,
    /// The store's column counting the rows of each key.
    pub count: Option<String>,
    /// Where it is written.
    pub span: Range<usize>,
}

/// One table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Name as written.
    pub name: String,
    /// Where the name is written in the Genfile.
    pub span: Range<usize>,
    /// How many rows.
    pub size: TableSize,
    /// Columns in file order.
    pub columns: Vec<Column>,
    /// Tables with `per` this table, in schema order.
    pub children: Vec<usize>,
    /// Groups of columns whose values together never repeat
    /// (`unique = ["a", "b"]`).
    pub unique: Vec<UniqueGroup>,
    /// How the groups that are not kept by a member alone are numbered.
    pub numbered: Vec<Numbered>,
    /// For a lifecycle's history table: the lifecycle. Its rows under a
    /// parent row are the states that row enters, one each.
    pub history: Option<Arc<crate::generators::lifecycle::Lifecycle>>,
    /// For a lifecycle's changes table: the table whose changes it holds.
    /// Its rows (the changes of a unit's rows) come ordered by
    /// `changed_at`; a stream into a database applies them to that table.
    pub changes: Option<usize>,
}

/// Columns whose values together never repeat in their table: a table's
/// `unique = ["a", "b"]`, declared to databases as `UNIQUE (a, b)`.
#[derive(Debug, Clone)]
pub struct UniqueGroup {
    /// The columns, in the order written.
    pub columns: Vec<usize>,
    /// Where the group is written.
    pub span: Range<usize>,
    /// How generation keeps it.
    pub keeping: Keeping,
}

/// How the rows of a table keep a [`UniqueGroup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    /// A member is unique alone (`unique = true`, a primary key, a
    /// sequence): so is every tuple holding it.
    ByMember(usize),
    /// Its numbered members take their values from the digits of one keyed
    /// permutation: the [`Numbered`] of this index in [`Table::numbered`].
    Numbered(usize),
}

/// `unique` groups numbered together: one group, or several that share
/// columns (`["store", "sku"]` and `["store", "shelf", "slot"]`). The row
/// index (or, `within_parent`, the row's place among its parent row's
/// children) is permuted over the combinations of the `shared` columns
/// times the fewest combinations of any group's `rest`; each group spells
/// the second part in its own columns, so every group's tuple differs from
/// row to row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    /// The groups, as indices into [`Table::unique`].
    pub groups: Vec<usize>,
    /// The numbered columns every one of the groups holds, in order.
    pub shared: Vec<usize>,
    /// For each group, its numbered columns no other group holds.
    pub rest: Vec<Vec<usize>>,
    /// Numbered among the children of each parent row: every group holds
    /// a `parent` column, which those children share.
    pub within_parent: bool,
}

impl Table {
    /// The index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The primary key columns.
    pub fn primary_key(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.primary_key)
    }

    /// The names of `columns` (indices), in that order: a `unique`
    /// group's, for messages and keys.
    pub fn column_names(&self, columns: &[usize]) -> Vec<&str> {
        columns
            .iter()
            .map(|&c| self.columns[c].name.as_str())
            .collect()
    }
}

/// How many rows a table has.
#[derive(Debug, Clone)]
pub enum TableSize {
    /// A fixed count (multiplied by `--scale`).
    Rows(u64),
    /// `count` rows for each row of `parent`.
    Per {
        /// Index of the parent table.
        parent: usize,
        /// Children per parent row.
        count: Count,
    },
}

/// One column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Name as written.
    pub name: String,
    /// Where the name is written in the Genfile.
    pub span: Range<usize>,
    /// How values are made.
    pub gen: Gen,
    /// Share of NULLs, 0..=1.
    pub null_rate: f64,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Declared UNIQUE.
    pub unique: bool,
    /// The SQL type, derived from the generator or given with `type`.
    pub sql_type: SqlType,
    /// `type` as written, when given.
    pub type_override: Option<String>,
    /// `doc`.
    pub doc: Option<String>,
    /// `when`: the value is NULL where this is false.
    pub when: Option<Expr>,
    /// Computed after the row's children (an `agg`, or depends on one).
    pub late: bool,
    /// Whether the column can hold NULL.
    pub nullable: bool,
}

/// How a column's values are made.
#[derive(Debug, Clone)]
pub enum Gen {
    /// A generator of the catalogue (`gen = "…"`).
    Catalogue(Generator),
    /// A key of another table's row.
    Ref {
        /// Referenced table.
        table: usize,
        /// Referenced column (one whose value a row index determines, with
        /// `primary_key` or `unique`).
        column: usize,
        /// How the referenced row is picked.
        dist: Dist,
    },
    /// A column of the parent row (tables with `per`).
    Parent {
        /// Column index in the parent table.
        column: usize,
    },
    /// An expression over earlier columns and the parent row.
    Expr {
        /// The checked expression.
        expr: Expr,
        /// Decimal places to round to, when the result is a decimal.
        scale: Option<u8>,
    },
    /// A column of the row that a `ref` column of this row points at.
    Lookup {
        /// The `ref` column of this row.
        via: usize,
        /// The referenced table.
        table: usize,
        /// The column read there.
        column: usize,
    },
    /// A summary of this row's children.
    Agg {
        /// What to compute.
        func: AggFunc,
        /// The child table (a table with `per` this one).
        child: usize,
        /// The child column summarised.
        column: usize,
    },
    /// The first case whose condition holds.
    Cases(Vec<Case>),
}

/// One branch of `cases`.
#[derive(Debug, Clone)]
pub struct Case {
    /// The condition; `None` matches every row.
    pub when: Option<Expr>,
    /// How values are made where it matches: a generator or an expression.
    pub gen: Gen,
}

/// What an `agg` column computes over the children of its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    /// Sum of the non-NULL values (0 when there are none).
    Sum,
    /// Number of children.
    Count,
    /// Smallest non-NULL value.
    Min,
    /// Largest non-NULL value.
    Max,
    /// Mean of the non-NULL values.
    Avg,
}

impl AggFunc {
    /// Parses the Genfile spelling.
    pub fn parse(s: &str) -> Option<AggFunc> {
        match s {
            "sum" => Some(AggFunc::Sum),
            "count" => Some(AggFunc::Count),
            "min" => Some(AggFunc::Min),
            "max" => Some(AggFunc::Max),
            "avg" => Some(AggFunc::Avg),
            _ => None,
        }
    }
}
