//! Generating rows: a unit's root rows depth first, each followed by its
//! children, then the columns that summarise them (`agg`).

use crate::context::{GenStats, Scratch, SourceContext};
use crate::schema::AggFunc;
use crate::value::{Block, SqlType, Value};

use super::columns::{Generators, Kind, TableGen};

impl Generators {
    /// Generates `rows` of the root table `root` and, depth first, all their
    /// descendants; `starts[t]` is the first row of table `t` in this unit.
    /// Returns one block per table of the subtree, in table order.
    pub fn generate(
        &self,
        root: usize,
        rows: std::ops::Range<u64>,
        starts: &[(usize, u64)],
    ) -> Result<Vec<Block>, ValueError> {
        self.generate_with_stats(root, rows, starts)
            .map(|(blocks, _)| blocks)
    }

    /// [`Generators::generate`], also returning what generation did.
    pub fn generate_with_stats(
        &self,
        root: usize,
        rows: std::ops::Range<u64>,
        starts: &[(usize, u64)],
    ) -> Result<(Vec<Block>, GenStats), ValueError> {
        let mut spare = Spare::default();
        let blocks = self.generate_reusing(root, rows, starts, &[], &mut spare)?;
        Ok((blocks, spare.work.stats))
    }

    /// [`Generators::generate`] into the vectors and scratch space kept in
    /// `spare`: a generator thread that gives every block's vectors back
    /// ([`Spare::recycle`]) allocates nothing once they have grown.
    /// `positions` are the stream positions of each table's first row
    /// ([`super::Unit::positions`]), in the order of `starts`; without
    /// them rows count from position 0 (an event time is then not the
    /// run's).
    pub fn generate_reusing(
        &self,
        root: usize,
        rows: std::ops::Range<u64>,
        starts: &[(usize, u64)],
        positions: &[u64],
        spare: &mut Spare,
    ) -> Result<Vec<Block>, ValueError> {
        let mut blocks: Vec<Option<Block>> = vec![None; self.tables.len()];
        for (i, &(table, first)) in starts.iter().enumerate() {
            let width = self.tables[table].columns.len();
            let mut block = Block::new(table, first, width);
            block.stream = positions.get(i).copied().unwrap_or(0);
            block.values = spare.values.pop().unwrap_or_default();
            block.text = spare.text.pop().unwrap_or_default();
            blocks[table] = Some(block);
        }
        for row in rows {
            self.emit(root, row, None, &mut blocks, &mut spare.work);
            if let Some(problem) = spare.work.problem.take() {
                for mut block in blocks.into_iter().flatten() {
                    spare.recycle(&mut block);
                }
                return Err(problem);
            }
        }
        let mut out = Vec::with_capacity(starts.len());
        for mut block in blocks.into_iter().flatten() {
            if let Some(c) = self.tables[block.table].sort_by {
                sort_rows(&mut block, c);
            }
            if block.is_empty() {
                spare.recycle(&mut block);
            } else {
                out.push(block);
            }
        }
        Ok(out)
    }

    /// Generates row `row` of `table` (child `sibling.1` of parent row
    /// `sibling.0`, for a `per` table), then its children.
    fn emit(
        &self,
        table: usize,
        row: u64,
        sibling: Option<(u64, u64)>,
        blocks: &mut [Option<Block>],
        work: &mut Work,
    ) {
        let gen = &self.tables[table];
        let width = gen.columns.len();
        let row_start;
        {
            let (before, from_table) = blocks.split_at_mut(table);
            let block = from_table[0]
                .as_mut()
                .expect("a block for every table of the unit");
            row_start = block.values.len();
            block.values.resize(row_start + width, Value::Null);
            work.refs.clear();
            work.refs.resize(width, 0);
            let mut ctx = work.context(self, row, block, row_start, parent_row(before, gen.parent));
            if let Some((parent, index)) = sibling {
                ctx.set_sibling(parent, index);
            }
            for (c, column) in gen.columns.iter().enumerate() {
                if !column.late {
                    let value = column.value(c, &mut ctx);
                    ctx.set(c, value);
                }
            }
            if let Some((problem, c)) = ctx.take_problem() {
                work.fail(gen, c, row, problem);
            }
        }
        // Children first, then the columns that summarise them.
        let mut marks = [0usize; 8];
        for (k, &child) in gen.children.iter().enumerate() {
            let block = blocks[child]
                .as_ref()
                .expect("a block for every table of the unit");
            if let Some(m) = marks.get_mut(k) {
                *m = block.len();
            }
            let n = self.count(child, row);
            for index in 0..n {
                let block = blocks[child]
                    .as_ref()
                    .expect("a block for every table of the unit");
                let child_row = block.first_row + block.len() as u64;
                self.emit(child, child_row, Some((row, index)), blocks, work);
            }
        }
        if gen.has_late {
            self.late(table, row, row_start, &marks, blocks, work);
        }
    }

    /// Computes the late columns of the row at `row_start` of `table`, whose
    /// children start at `marks[k]` in the block of the `k`-th child table.
    fn late(
        &self,
        table: usize,
        row: u64,
        row_start: usize,
        marks: &[usize],
        blocks: &mut [Option<Block>],
        work: &mut Work,
    ) {
        let gen = &self.tables[table];
        let (before, from_table) = blocks.split_at_mut(table);
        let (block, after) = from_table.split_first_mut().expect("the table's own block");
        let block = block.as_mut().expect("a block for every table of the unit");
        let mut ctx = work.context(self, row, block, row_start, parent_row(before, gen.parent));
        for (c, column) in gen.columns.iter().enumerate() {
            if !column.late {
                continue;
            }
            let value = match &column.kind {
                Kind::Agg {
                    func,
                    child,
                    column: cc,
                    sql,
                } => {
                    let k = gen
                        .children
                        .iter()
                        .position(|t| t == child)
                        .expect("agg reads a child table");
                    let child_block = after[*child - table - 1]
                        .as_ref()
                        .expect("the child's block");
                    let from = marks.get(k).copied().unwrap_or(0);
                    let value = aggregate(*func, *sql, child_block, from, *cc, &mut ctx);
                    ctx.locate(c);
                    value
                }
                _ => column.value(c, &mut ctx),
            };
            ctx.set(c, value);
        }
        if let Some((problem, c)) = ctx.take_problem() {
            work.fail(gen, c, row, problem);
        }
    }
}

/// How to fix `problem`.
fn help(problem: &str) -> &'static str {
    if problem.starts_with("bounds cross") {
        "bound `min` and `max` so they cannot cross, e.g. `max = \"max(start, date('2024-06-30'))\"` (see \"Bounds from earlier columns\" in the README)"
    } else {
        "keep the expression's values within their type's range (see \"Expressions\" in the README)"
    }
}

/// A value that cannot be made: an expression's result, or a sum, beyond
/// the range of its type, or bounds that cross. Generation stops at the first, naming where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "column `{table}.{column}`, row {row}: {problem}\n  help: {}",
    help(problem)
)]
pub struct ValueError {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The row, counting from 1.
    pub row: u64,
    /// What went wrong.
    pub problem: &'static str,
}

#[derive(Debug, Default)]
struct Work {
    scratch: Scratch,
    stats: GenStats,
    refs: Vec<u64>,
    /// The first value of the unit that could not be made.
    problem: Option<ValueError>,
}

/// What one generator thread keeps between units: the vectors of blocks
/// already encoded and written, and its scratch space.
#[derive(Debug, Default)]
pub struct Spare {
    values: Vec<Vec<Value>>,
    text: Vec<String>,
    work: Work,
}

impl Spare {
    /// Takes `block`'s values and text, emptied, for the next unit.
    pub fn recycle(&mut self, block: &mut Block) {
        let mut values = std::mem::take(&mut block.values);
        let mut text = std::mem::take(&mut block.text);
        if values.capacity() > 0 {
            values.clear();
            self.values.push(values);
        }
        if text.capacity() > 0 {
            text.clear();
            self.text.push(text);
        }
    }
}

impl Work {
    /// Records that column `c` of `row` of `gen` could not be made.
    fn fail(&mut self, gen: &TableGen, c: Option<usize>, row: u64, problem: &'static str) {
        self.problem.get_or_insert_with(|| ValueError {
            table: gen.name.clone(),
            // Every source that can fail says its column.
            column: c
                .and_then(|c| gen.column_names.get(c))
                .cloned()
                .unwrap_or_default(),
            row: row + 1,
            problem,
        });
    }

    /// The context of row `row`, whose values start at `row_start` in `block`.
    fn context<'a>(
        &'a mut self,
        generators: &'a Generators,
        row: u64,
        block: &'a mut Block,
        row_start: usize,
        parent: Option<(&'a Block, usize)>,
    ) -> SourceContext<'a> {
        SourceContext::new(
            row,
            block,
            row_start,
            parent,
            &mut self.refs,
            generators,
            &mut self.scratch,
            &mut self.stats,
        )
    }
}

/// Orders the rows of `block` by the timestamp in column `c` (NULL first),
/// keeping the order of rows with the same time.
fn sort_rows(block: &mut Block, c: usize) {
    let width = block.width;
    if width == 0 || block.len() < 2 {
        return;
    }
    let time = |i: usize| match block.values[i * width + c] {
        Value::Timestamp(t) => t,
        _ => i64::MIN,
    };
    let mut order: Vec<usize> = (0..block.len()).collect();
    if order.windows(2).all(|w| time(w[0]) <= time(w[1])) {
        return;
    }
    order.sort_by_key(|&i| time(i));
    // Text stays in row order (a block is split by rows, its text with it).
    let mut values = Vec::with_capacity(block.values.len());
    let mut text = String::with_capacity(block.text.len());
    for i in order {
        for v in &block.values[i * width..(i + 1) * width] {
            values.push(match *v {
                Value::Text(s, e) => {
                    let start = text.len() as u32;
                    text.push_str(&block.text[s as usize..e as usize]);
                    Value::Text(start, text.len() as u32)
                }
                other => other,
            });
        }
    }
    block.values = values;
    block.text = text;
}

/// The current (last) row of the parent table's block, if the table has a parent.
fn parent_row(blocks: &[Option<Block>], parent: Option<usize>) -> Option<(&Block, usize)> {
    parent.map(|p| {
        let block = blocks[p].as_ref().expect("the parent's block");
        (block, block.len() - 1)
    })
}

/// Summarises column `column` of the rows of `child` from row `from` on.
fn aggregate(
    func: AggFunc,
    sql: SqlType,
    child: &Block,
    from: usize,
    column: usize,
    ctx: &mut SourceContext<'_>,
) -> Value {
    let values = (from..child.len()).map(|i| child.row(i)[column]);
    if func == AggFunc::Count {
        return Value::Int((child.len() - from) as i64);
    }
    let present = values.filter(|v| *v != Value::Null);
    match func {
        AggFunc::Sum | AggFunc::Avg => {
            let (mut ints, mut floats, mut n) = (0i128, 0f64, 0u64);
            for v in present {
                n += 1;
                match v {
                    Value::Int(i) | Value::Decimal(i) => ints += i128::from(i),
                    Value::Float(f) => floats += f,
                    _ => {}
                }
            }
            match (func, sql) {
                (AggFunc::Sum, SqlType::Double) => Value::Float(floats),
                (AggFunc::Sum, SqlType::Decimal { .. } | SqlType::Integer | SqlType::BigInt) => {
                    match i64::try_from(ints) {
                        Ok(sum) if matches!(sql, SqlType::Decimal { .. }) => Value::Decimal(sum),
                        Ok(sum) => Value::Int(sum),
                        Err(_) => {
                            ctx.fail("the sum is beyond the 64-bit integer range");
                            Value::Null
                        }
                    }
                }
                (AggFunc::Sum, _) => Value::Int(ints as i64),
                (_, _) if n == 0 => Value::Null,
                (_, SqlType::Decimal { .. }) => {
                    let (n, q, r) = (i128::from(n), ints / i128::from(n), ints % i128::from(n));
                    Value::Decimal(
                        (if r.abs() * 2 >= n {
                            q + ints.signum()
                        } else {
                            q
                        }) as i64,
                    )
                }
                (_, _) => Value::Float((ints as f64 + floats) / n as f64),
            }
        }
        AggFunc::Min | AggFunc::Max => {
            let mut best: Option<Value> = None;
            for v in present {
                let better = match best {
                    None => true,
                    Some(b) => {
                        let ord = order(v, b, child);
                        if func == AggFunc::Min {
                            ord == std::cmp::Ordering::Less
                        } else {
                            ord == std::cmp::Ordering::Greater
                        }
                    }
                };
                if better {
                    best = Some(v);
                }
            }
            best.map_or(Value::Null, |v| ctx.adopt(v, child))
        }
        AggFunc::Count => unreachable!("handled above"),
    }
}

fn order(a: Value, b: Value, block: &Block) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y))
        | (Value::Decimal(x), Value::Decimal(y))
        | (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(&y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(&y),
        (Value::Date(x), Value::Date(y)) => x.cmp(&y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(&y),
        (Value::Text(s, e), Value::Text(t, f)) => block.str(s, e).cmp(block.str(t, f)),
        (Value::Uuid(x), Value::Uuid(y)) => x.cmp(&y),
        _ => std::cmp::Ordering::Equal,
    }
}
