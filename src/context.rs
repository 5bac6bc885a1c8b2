//! The SourceContext: everything a column generator may use while making
//! one row, reached through methods so generators never touch its fields.
//!
//! Its parts:
//! * **random** — the row's stream of any column ([`SourceContext::rng`]);
//! * **sequence** — which row this is ([`SourceContext::row`]);
//! * **row** — the values already made for this row and the parent row,
//!   and the text arena new text goes to;
//! * **reference** — the rows that `ref` columns picked, and computing a
//!   column of another table's row for `lookup` (through [`Lookups`]);
//! * **stats** — counters of what generation did.
//!
//! The context knows nothing of how columns are compiled: it reaches the
//! other tables' generators through the [`Lookups`] trait, which the
//! compiled generators implement.

use crate::rng::{row_rng, RowRng};
use crate::value::{Block, Value};

/// Computes columns of any table's row from its index: what `lookup`
/// needs of the compiled generators.
pub trait Lookups: Sync {
    /// Columns of `table`.
    fn width(&self, table: usize) -> usize;

    /// Makes column `column` of `table` for the row of `ctx`.
    fn value(&self, table: usize, column: usize, ctx: &mut SourceContext<'_>) -> Value;
}

/// Counters kept while generating, per unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Values made (NULLs included).
    pub values: u64,
    /// NULLs made by `null_rate` or `when`.
    pub nulls: u64,
    /// Rows of other tables recomputed for `lookup`.
    pub lookups: u64,
}

/// Reusable space for lookups: a block and the picked references of one row
/// of another table, per nesting depth; and the problem of the value being
/// made, if it has one.
#[derive(Debug, Default)]
pub struct Scratch {
    rows: Vec<(Block, Vec<u64>)>,
    buffers: Vec<String>,
    /// Digits of a numbered value (`unique` over a space of positions).
    digits: Vec<u32>,
    /// What went wrong with the value being made, and its column once
    /// known.
    problem: Option<(&'static str, Option<usize>)>,
}

/// The stream position of the rows of a block made for a lookup: not
/// known.
const UNKNOWN_POSITION: u64 = u64::MAX;

/// The context of the row being generated.
pub struct SourceContext<'a> {
    row: u64,
    sibling: Option<(u64, u64)>,
    block: &'a mut Block,
    row_start: usize,
    parent: Option<(&'a Block, usize)>,
    refs: &'a mut [u64],
    lookups: &'a dyn Lookups,
    scratch: &'a mut Scratch,
    stats: &'a mut GenStats,
}

impl<'a> SourceContext<'a> {
    /// The context of row `row`, whose values start at `row_start` in `block`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        row: u64,
        block: &'a mut Block,
        row_start: usize,
        parent: Option<(&'a Block, usize)>,
        refs: &'a mut [u64],
        lookups: &'a dyn Lookups,
        scratch: &'a mut Scratch,
        stats: &'a mut GenStats,
    ) -> Self {
        SourceContext {
            row,
            sibling: None,
            block,
            row_start,
            parent,
            refs,
            lookups,
            scratch,
            stats,
        }
    }

    // ── problems ────────────────────────────────────────────────────────

    /// Records that the value being made cannot be made (an expression's
    /// result beyond its type's range, `what` saying which): the value is
    /// NULL and the generation of the unit fails, naming the column and
    /// row. The first problem is kept.
    pub fn fail(&mut self, what: &'static str) {
        self.scratch.problem.get_or_insert((what, None));
    }

    /// Says which column a problem recorded since belongs to, unless it
    /// was said already. Called by the sources that can fail (expressions,
    /// conditions, sums) once their value is made, so that the row loop
    /// checks once a row, not once a value.
    #[inline]
    pub fn locate(&mut self, column: usize) {
        if let Some((_, at @ None)) = &mut self.scratch.problem {
            *at = Some(column);
        }
    }

    /// The problem recorded since the last call, and its column, if any.
    pub fn take_problem(&mut self) -> Option<(&'static str, Option<usize>)> {
        self.scratch.problem.take()
    }

    // ── sequence ────────────────────────────────────────────────────────

    /// Index of this row within its table.
    pub fn row(&self) -> u64 {
        self.row
    }

    /// Makes what is drawn from now on that of row `row` (an update draws
    /// a version of its row as another row would); returns the row it was.
    pub fn swap_row(&mut self, row: u64) -> u64 {
        std::mem::replace(&mut self.row, row)
    }

    /// The row's position in the run's row stream; `None` for a row
    /// computed alone (a lookup), whose position is not known.
    pub fn position(&self) -> Option<u64> {
        (self.block.stream != UNKNOWN_POSITION)
            .then(|| self.block.stream + (self.row - self.block.first_row))
    }

    /// For a row of a `per` table made as a child of its parent row: the
    /// parent's row index and this row's place among that parent's
    /// children. `None` for root rows and rows computed alone (lookups).
    pub fn sibling(&self) -> Option<(u64, u64)> {
        self.sibling
    }

    /// Says that this row is child `index` of parent row `parent`.
    pub fn set_sibling(&mut self, parent: u64, index: u64) {
        self.sibling = Some((parent, index));
    }

    // ── random ──────────────────────────────────────────────────────────

    /// This row's generator in stream `key`.
    pub fn rng(&self, key: u64) -> RowRng {
        row_rng(key, self.row)
    }

    // ── row ─────────────────────────────────────────────────────────────

    /// The value of this row's column `column` (made already).
    pub fn value(&self, column: usize) -> Value {
        self.block.values[self.row_start + column]
    }

    /// Sets this row's column `column`.
    pub fn set(&mut self, column: usize, value: Value) {
        self.block.values[self.row_start + column] = value;
    }

    /// The parent row's column `column`, and the block its text lives in.
    pub fn parent_value(&self, column: usize) -> Option<(Value, &'a Block)> {
        self.parent.map(|(b, i)| (b.row(i)[column], b))
    }

    /// The parent row's block, if the table has a parent.
    pub fn parent_block(&self) -> Option<&'a Block> {
        self.parent.map(|(b, _)| b)
    }

    /// The block of this row (for reading text of its values).
    pub fn block(&self) -> &Block {
        self.block
    }

    /// The text arena: append to it, then wrap with [`SourceContext::text_since`].
    pub fn out(&mut self) -> &mut String {
        &mut self.block.text
    }

    /// Where the next text will start.
    pub fn text_start(&self) -> u32 {
        self.block.begin_text()
    }

    /// The text written since `start`.
    pub fn text_since(&self, start: u32) -> Value {
        self.block.end_text(start)
    }

    /// The text `write` appends to the arena, as a value.
    #[inline]
    pub fn write_text(&mut self, write: impl FnOnce(&mut String)) -> Value {
        let start = self.text_start();
        write(self.out());
        self.text_since(start)
    }

    /// Appends `s` and returns its value.
    pub fn push_text(&mut self, s: &str) -> Value {
        self.block.push_text(s)
    }

    /// Copies the text of `value` (from `from`) into this row's arena.
    pub fn adopt(&mut self, value: Value, from: &Block) -> Value {
        match value {
            Value::Text(s, e) => self.block.push_text(from.str(s, e)),
            other => other,
        }
    }

    // ── reference ───────────────────────────────────────────────────────

    /// Remembers that `ref` column `column` picked row `row` of its table.
    pub fn picked(&mut self, column: usize, row: u64) {
        self.refs[column] = row;
    }

    /// The row that `ref` column `column` picked.
    pub fn picked_row(&self, column: usize) -> u64 {
        self.refs[column]
    }

    /// Column `column` of row `row` of table `table`, computed from the row
    /// index (only the columns it needs), with its text copied here.
    pub fn lookup(&mut self, table: usize, column: usize, row: u64, needed: &[usize]) -> Value {
        self.stats.lookups += 1;
        // Nested lookups each take their own scratch row.
        let (mut block, mut refs) = self
            .scratch
            .rows
            .pop()
            .unwrap_or_else(|| (Block::new(table, row, 0), Vec::new()));
        let width = self.lookups.width(table);
        block.table = table;
        block.first_row = row;
        block.stream = UNKNOWN_POSITION;
        block.width = width;
        block.values.clear();
        block.values.resize(width, Value::Null);
        block.text.clear();
        refs.clear();
        refs.resize(width, 0);
        {
            let mut inner = SourceContext::new(
                row,
                &mut block,
                0,
                None,
                &mut refs,
                self.lookups,
                self.scratch,
                self.stats,
            );
            for &c in needed {
                let v = self.lookups.value(table, c, &mut inner);
                inner.block.values[c] = v;
            }
        }
        // A problem in the row looked up belongs to the column reading it.
        if let Some((_, at)) = &mut self.scratch.problem {
            *at = None;
        }
        let value = block.values[column];
        let value = self.adopt(value, &block);
        self.scratch.rows.push((block, refs));
        value
    }

    /// A reusable buffer for building a value (JSON documents); give it
    /// back with [`SourceContext::give_back`].
    pub fn buffer(&mut self) -> String {
        let mut b = self.scratch.buffers.pop().unwrap_or_default();
        b.clear();
        b
    }

    /// Returns a buffer taken with [`SourceContext::buffer`].
    pub fn give_back(&mut self, buffer: String) {
        self.scratch.buffers.push(buffer);
    }

    /// A vector for the digits of a numbered value, reused between rows.
    pub fn digits(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.scratch.digits)
    }

    /// Returns the vector taken with [`SourceContext::digits`].
    pub fn give_back_digits(&mut self, digits: Vec<u32>) {
        self.scratch.digits = digits;
    }

    // ── stats ───────────────────────────────────────────────────────────

    /// The counters.
    pub fn stats(&mut self) -> &mut GenStats {
        self.stats
    }
}
