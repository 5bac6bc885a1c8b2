//! Column generators compiled from the schema, and row generation.
//!
//! [`Generators`] is built once per run: every distribution is constructed,
//! every name resolved, every stream key derived. Generating a value is then
//! a match on a small enum, a few random draws and, for text, an append to
//! the block's arena.

use rand::{Rng, RngExt};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, LogNormal, Normal, Poisson, Zipf};

use super::context::{GenStats, Scratch, SourceContext};
use super::dicts::{self as names, Dictionaries};
use super::eval::{eval, store, Val};
use super::rng::{row_rng, stream_key, Purpose, RowRng};
use super::value::{Block, Value};
use super::{brdocs, dicts};
use crate::format::json;
use crate::genfile::expr::Expr;
use crate::genfile::schema::{
    AggFunc, Charset, Column, Count, DictSource, Dist, Domain, Field, Gen, Literal, PatternPart,
    PersonPart, Schema, SqlType, Table, TableSize,
};
use md5::Digest;

/// Tries before a truncated distribution gives up and clamps.
const RESAMPLES: usize = 16;

/// A distribution over `[0, 1]`-free real numbers, ready to sample.
#[derive(Debug, Clone)]
enum Real {
    Uniform,
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Exponential(f64),
    Poisson(Poisson<f64>),
    /// Zipf over the range; its table is built on first use, when the range is known.
    Zipf(f64, std::sync::OnceLock<ZipfTable>),
}

/// Ranks `1..=n` with probability proportional to `k^-s`: an alias table
/// (O(1) per draw) up to a million ranks, a rejection sampler beyond.
#[derive(Debug, Clone)]
enum ZipfTable {
    Alias(WeightedAliasIndex<f64>),
    Rejection(Zipf<f64>),
    One,
}

/// Ranks beyond which a Zipf alias table would cost too much memory.
const ZIPF_ALIAS_MAX: u64 = 1 << 20;

impl ZipfTable {
    fn new(n: u64, s: f64) -> ZipfTable {
        if n <= 1 {
            return ZipfTable::One;
        }
        if n <= ZIPF_ALIAS_MAX {
            let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
            if let Ok(alias) = WeightedAliasIndex::new(weights) {
                return ZipfTable::Alias(alias);
            }
        }
        Zipf::new(n as f64, s).map_or(ZipfTable::One, ZipfTable::Rejection)
    }

    /// A rank from 1 to n.
    fn rank(&self, rng: &mut RowRng) -> u64 {
        match self {
            ZipfTable::Alias(a) => a.sample(rng) as u64 + 1,
            ZipfTable::Rejection(z) => z.sample(rng) as u64,
            ZipfTable::One => 1,
        }
    }
}

impl Real {
    fn new(dist: Dist) -> Real {
        match dist {
            Dist::Uniform => Real::Uniform,
            Dist::Normal { mean, std } => {
                Normal::new(mean, std).map_or(Real::Uniform, Real::Normal)
            }
            Dist::LogNormal { mu, sigma } => {
                LogNormal::new(mu, sigma).map_or(Real::Uniform, Real::LogNormal)
            }
            Dist::Exponential { lambda } => Real::Exponential(lambda),
            Dist::Poisson { lambda } => Poisson::new(lambda).map_or(Real::Uniform, Real::Poisson),
            Dist::Zipf { s } => Real::Zipf(s, std::sync::OnceLock::new()),
        }
    }

    /// A value in `[min, max]`; `integral` ranges are sampled as whole numbers.
    fn sample(&self, rng: &mut RowRng, min: f64, max: f64, integral: bool) -> f64 {
        let draw = |rng: &mut RowRng| -> f64 {
            match self {
                Real::Uniform => unreachable!("uniform is sampled directly"),
                Real::Normal(d) => d.sample(rng),
                Real::LogNormal(d) => d.sample(rng),
                Real::Exponential(lambda) => min + -(1.0 - rng.random::<f64>()).ln() / lambda,
                Real::Poisson(d) => d.sample(rng),
                Real::Zipf(s, table) => {
                    let n = (max - min + 1.0).max(1.0) as u64;
                    min + table.get_or_init(|| ZipfTable::new(n, *s)).rank(rng) as f64 - 1.0
                }
            }
        };
        match self {
            Real::Uniform if integral => rng.random_range(min as i64..=max as i64) as f64,
            Real::Uniform => {
                if min == max {
                    min
                } else {
                    rng.random_range(min..=max)
                }
            }
            _ => {
                for _ in 0..RESAMPLES {
                    let x = draw(rng);
                    let x = if integral { x.round() } else { x };
                    if (min..=max).contains(&x) {
                        return x;
                    }
                }
                draw(rng).clamp(min, max)
            }
        }
    }
}

/// Picks an index in `0..n`.
#[derive(Debug, Clone)]
enum Pick {
    Uniform(u64),
    Zipf(ZipfTable),
    Weighted(WeightedAliasIndex<f64>),
    Real(Real, u64),
}

impl Pick {
    fn new(n: u64, dist: Dist, weights: Option<&[f64]>) -> Pick {
        if let Some(w) = weights {
            if let Ok(alias) = WeightedAliasIndex::new(w.to_vec()) {
                return Pick::Weighted(alias);
            }
        }
        match dist {
            Dist::Uniform => Pick::Uniform(n),
            Dist::Zipf { s } => Pick::Zipf(ZipfTable::new(n, s)),
            other => Pick::Real(Real::new(other), n),
        }
    }

    fn pick(&self, rng: &mut RowRng) -> u64 {
        match self {
            Pick::Uniform(n) => rng.random_range(0..(*n).max(1)),
            Pick::Zipf(z) => z.rank(rng) - 1,
            Pick::Weighted(alias) => alias.sample(rng) as u64,
            Pick::Real(real, n) => real.sample(rng, 0.0, (*n).max(1) as f64 - 1.0, true) as u64,
        }
    }
}

/// A key column that other tables reference: computable from the row alone.
#[derive(Debug, Clone, Copy)]
enum Key {
    Sequence { start: i64, step: i64 },
    Uuid { key: u64 },
}

impl Key {
    fn at(self, row: u64) -> Value {
        match self {
            Key::Sequence { start, step } => {
                Value::Int(start.wrapping_add((row as i64).wrapping_mul(step)))
            }
            Key::Uuid { key } => Value::Uuid(uuid_v4(&mut row_rng(key, row))),
        }
    }
}

fn uuid_v4(rng: &mut RowRng) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

#[derive(Debug, Clone)]
enum Kind {
    Sequence {
        start: i64,
        step: i64,
    },
    Int {
        min: i64,
        max: i64,
        dist: Real,
    },
    /// Distinct integers: `min` plus a keyed permutation of the row index.
    UniqueInt {
        min: i64,
        span: u64,
    },
    /// Distinct days, as [`Kind::UniqueInt`].
    UniqueDate {
        min: i32,
        span: u64,
    },
    /// Distinct seconds, as [`Kind::UniqueInt`].
    UniqueTimestamp {
        min: i64,
        span: u64,
    },
    Float {
        min: f64,
        max: f64,
        dist: Real,
        round: Option<f64>,
    },
    Decimal {
        min: i64,
        max: i64,
        dist: Real,
        pow: f64,
    },
    Bool {
        p: f64,
    },
    Str {
        min: u32,
        max: u32,
        chars: &'static [u8],
    },
    Pattern(Vec<PatternPart>),
    Uuid,
    Date {
        min: i32,
        max: i32,
        dist: Real,
    },
    Timestamp {
        min: i64,
        max: i64,
        dist: Real,
    },
    Choice {
        values: Vec<Literal>,
        pick: Pick,
    },
    Person {
        part: PersonPart,
        dict: &'static Dictionaries,
    },
    Email {
        from: Option<usize>,
        dict: &'static Dictionaries,
        unique: bool,
    },
    Ref {
        key: Key,
        pick: Pick,
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
    Agg {
        func: AggFunc,
        child: usize,
        column: usize,
        sql: SqlType,
    },
    Cases(Vec<CaseGen>),
    UuidV7 {
        min: i64,
        max: i64,
    },
    Hash {
        sha256: bool,
        /// The hashed column and its decimal scale.
        of: Option<(usize, u8)>,
    },
    Words {
        words: Words,
        pick: Pick,
    },
    Lorem {
        min: u32,
        max: u32,
        dict: &'static Dictionaries,
    },
    Domain {
        kind: Domain,
        dict: &'static Dictionaries,
    },
    BrDoc {
        cnpj: bool,
        formatted: bool,
    },
    Object(Vec<FieldGen>),
    Array {
        min: u32,
        max: u32,
        item: Box<FieldGen>,
    },
}

/// The words a `dict` column draws from.
#[derive(Debug, Clone)]
enum Words {
    Builtin(&'static [&'static str]),
    User(std::sync::Arc<[String]>),
}

impl Words {
    fn get(&self, i: usize) -> &str {
        match self {
            Words::Builtin(w) => w[i],
            Words::User(w) => &w[i],
        }
    }

    fn len(&self) -> usize {
        match self {
            Words::Builtin(w) => w.len(),
            Words::User(w) => w.len(),
        }
    }
}

/// A field of a JSON object (or an array's items), compiled.
#[derive(Debug, Clone)]
struct FieldGen {
    name: String,
    kind: Kind,
    values: u64,
    nulls: u64,
    null_rate: f64,
    sql: SqlType,
}

/// One branch of `cases`, with its own stream.
#[derive(Debug, Clone)]
struct CaseGen {
    when: Option<Expr>,
    kind: Kind,
    values: u64,
}

/// One column, compiled.
#[derive(Debug, Clone)]
struct ColumnGen {
    kind: Kind,
    values: u64,
    nulls: u64,
    null_rate: f64,
    when: Option<Expr>,
    late: bool,
}

/// How many children each parent row gets.
#[derive(Debug, Clone)]
enum CountGen {
    Fixed(u64),
    Uniform(u64, u64),
    Poisson(Poisson<f64>),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Exponential(f64),
    Zipf(ZipfTable),
}

#[derive(Debug, Clone)]
struct TableGen {
    columns: Vec<ColumnGen>,
    parent: Option<usize>,
    children: Vec<usize>,
    count: Option<(u64, CountGen)>,
    has_late: bool,
}

/// Every table's generators for one run. Cheap to clone (one per worker).
#[derive(Debug, Clone)]
pub struct Generators {
    tables: Vec<TableGen>,
}

impl Generators {
    /// Compiles `schema` for `seed`; `table_rows` are the final row counts
    /// (they bound `ref`).
    pub fn new(schema: &Schema, seed: u64, table_rows: &[u64]) -> Generators {
        let tables = schema
            .tables
            .iter()
            .map(|table| {
                let columns = table
                    .columns
                    .iter()
                    .map(|column| ColumnGen {
                        kind: compile(
                            schema,
                            seed,
                            table_rows,
                            table,
                            column,
                            &column.gen,
                            &column.name,
                        ),
                        values: stream_key(seed, &table.name, &column.name, Purpose::Values),
                        nulls: stream_key(seed, &table.name, &column.name, Purpose::Nulls),
                        null_rate: column.null_rate,
                        when: column.when.clone(),
                        late: column.late,
                    })
                    .collect();
                let (parent, count) = match &table.size {
                    TableSize::Rows(_) => (None, None),
                    TableSize::Per { parent, count } => {
                        let key = stream_key(seed, &table.name, "", Purpose::Count);
                        (Some(*parent), Some((key, compile_count(*count))))
                    }
                };
                TableGen {
                    has_late: table.columns.iter().any(|c| c.late),
                    columns,
                    parent,
                    children: table.children.clone(),
                    count,
                }
            })
            .collect();
        Generators { tables }
    }

    /// Children of `parent_row` in the `per` table `table`.
    pub fn count(&self, table: usize, parent_row: u64) -> u64 {
        let Some((key, count)) = &self.tables[table].count else {
            return 0;
        };
        let mut rng = row_rng(*key, parent_row);
        match count {
            CountGen::Fixed(n) => *n,
            CountGen::Uniform(min, max) => rng.random_range(*min..=*max),
            CountGen::Poisson(p) => p.sample(&mut rng) as u64,
            CountGen::Normal(n) => n.sample(&mut rng).round().max(0.0) as u64,
            CountGen::LogNormal(n) => n.sample(&mut rng).round().max(0.0) as u64,
            CountGen::Exponential(lambda) => (-(1.0 - rng.random::<f64>()).ln() / lambda) as u64,
            CountGen::Zipf(z) => z.rank(&mut rng),
        }
    }

    /// Tables with `per` this one.
    pub fn children(&self, table: usize) -> &[usize] {
        &self.tables[table].children
    }

    /// Columns of `table`.
    pub fn width(&self, table: usize) -> usize {
        self.tables[table].columns.len()
    }

    /// Makes column `column` of `table` for the row of `ctx`.
    pub fn value(&self, table: usize, column: usize, ctx: &mut SourceContext<'_>) -> Value {
        self.tables[table].columns[column].value(column, ctx)
    }

    /// Generates `rows` of the root table `root` and, depth first, all their
    /// descendants; `starts[t]` is the first row of table `t` in this unit.
    /// Returns one block per table of the subtree, in table order.
    pub fn generate(
        &self,
        root: usize,
        rows: std::ops::Range<u64>,
        starts: &[(usize, u64)],
    ) -> Vec<Block> {
        self.generate_with_stats(root, rows, starts).0
    }

    /// [`Generators::generate`], also returning what generation did.
    pub fn generate_with_stats(
        &self,
        root: usize,
        rows: std::ops::Range<u64>,
        starts: &[(usize, u64)],
    ) -> (Vec<Block>, GenStats) {
        let mut spare = Spare::default();
        let blocks = self.generate_reusing(root, rows, starts, &mut spare);
        (blocks, spare.work.stats)
    }

    /// [`Generators::generate`] into the vectors and scratch space kept in
    /// `spare`: a generator thread that gives every block's vectors back
    /// ([`Spare::recycle`]) allocates nothing once they have grown.
    pub fn generate_reusing(
        &self,
        root: usize,
        rows: std::ops::Range<u64>,
        starts: &[(usize, u64)],
        spare: &mut Spare,
    ) -> Vec<Block> {
        let mut blocks: Vec<Option<Block>> = vec![None; self.tables.len()];
        for &(table, first) in starts {
            let width = self.tables[table].columns.len();
            let mut block = Block::new(table, first, width);
            block.values = spare.values.pop().unwrap_or_default();
            block.text = spare.text.pop().unwrap_or_default();
            blocks[table] = Some(block);
        }
        for row in rows {
            self.emit(root, row, &mut blocks, &mut spare.work);
        }
        let mut out = Vec::with_capacity(starts.len());
        for mut block in blocks.into_iter().flatten() {
            if block.is_empty() {
                spare.recycle(&mut block);
            } else {
                out.push(block);
            }
        }
        out
    }

    fn emit(&self, table: usize, row: u64, blocks: &mut [Option<Block>], work: &mut Work) {
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
            for (c, column) in gen.columns.iter().enumerate() {
                if !column.late {
                    let value = column.value(c, &mut ctx);
                    ctx.set(c, value);
                }
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
            for _ in 0..n {
                let block = blocks[child]
                    .as_ref()
                    .expect("a block for every table of the unit");
                let child_row = block.first_row + block.len() as u64;
                self.emit(child, child_row, blocks, work);
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
                    aggregate(*func, *sql, child_block, from, *cc, &mut ctx)
                }
                _ => column.value(c, &mut ctx),
            };
            ctx.set(c, value);
        }
    }
}

/// Per-unit working space of [`Generators::emit`].
#[derive(Debug, Default)]
struct Work {
    scratch: Scratch,
    stats: GenStats,
    refs: Vec<u64>,
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
                (AggFunc::Sum, SqlType::Decimal { .. }) => Value::Decimal(ints as i64),
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

fn compile_count(count: Count) -> CountGen {
    match count {
        Count::Fixed(n) => CountGen::Fixed(n),
        Count::Uniform { min, max } => CountGen::Uniform(min, max),
        Count::Poisson { lambda } => {
            Poisson::new(lambda).map_or(CountGen::Fixed(0), CountGen::Poisson)
        }
        Count::Normal { mean, std } => {
            Normal::new(mean, std).map_or(CountGen::Fixed(0), CountGen::Normal)
        }
        Count::LogNormal { mu, sigma } => {
            LogNormal::new(mu, sigma).map_or(CountGen::Fixed(0), CountGen::LogNormal)
        }
        Count::Exponential { lambda } => CountGen::Exponential(lambda),
        Count::Zipf { s, max } => CountGen::Zipf(ZipfTable::new(max, s)),
    }
}

#[allow(clippy::too_many_arguments)]
fn compile(
    schema: &Schema,
    seed: u64,
    table_rows: &[u64],
    table: &Table,
    column: &Column,
    gen: &Gen,
    name: &str,
) -> Kind {
    match gen {
        Gen::Expr { expr, .. } => Kind::Expr {
            expr: expr.clone(),
            sql: column.sql_type,
        },
        Gen::Lookup {
            via,
            table: t,
            column: c,
        } => {
            let target = &schema.tables[*t];
            Kind::Lookup {
                via: *via,
                table: *t,
                column: *c,
                needed: needed_columns(target, *c),
            }
        }
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
                    let stream = format!("{name}#case{}", i + 1);
                    CaseGen {
                        when: case.when.clone(),
                        kind: compile(schema, seed, table_rows, table, column, &case.gen, &stream),
                        values: stream_key(seed, &table.name, &stream, Purpose::Values),
                    }
                })
                .collect(),
        ),
        Gen::Sequence { start, step } => Kind::Sequence {
            start: *start,
            step: *step,
        },
        Gen::Int { min, max, .. } if column.unique => Kind::UniqueInt {
            min: *min,
            span: unique_span(gen),
        },
        Gen::Date { min, max, .. } if column.unique => Kind::UniqueDate {
            min: *min,
            span: unique_span(gen),
        },
        Gen::Timestamp { min, max, .. } if column.unique => Kind::UniqueTimestamp {
            min: *min,
            span: unique_span(gen),
        },
        Gen::Int { min, max, dist } => Kind::Int {
            min: *min,
            max: *max,
            dist: Real::new(*dist),
        },
        Gen::Float {
            min,
            max,
            dist,
            precision,
        } => Kind::Float {
            min: *min,
            max: *max,
            dist: Real::new(*dist),
            round: precision.map(|p| 10f64.powi(i32::from(p))),
        },
        Gen::Decimal {
            min,
            max,
            dist,
            scale,
        } => Kind::Decimal {
            min: *min,
            max: *max,
            dist: Real::new(*dist),
            pow: 10f64.powi(i32::from(*scale)),
        },
        Gen::Bool { p } => Kind::Bool { p: *p },
        Gen::String {
            min_len,
            max_len,
            charset,
        } => Kind::Str {
            min: *min_len,
            max: *max_len,
            chars: Charset::chars(*charset),
        },
        Gen::Pattern(parts) => Kind::Pattern(parts.clone()),
        Gen::Uuid => Kind::Uuid,
        Gen::Date { min, max, dist } => Kind::Date {
            min: *min,
            max: *max,
            dist: Real::new(*dist),
        },
        Gen::Timestamp { min, max, dist } => Kind::Timestamp {
            min: *min,
            max: *max,
            dist: Real::new(*dist),
        },
        Gen::Choice {
            values,
            weights,
            dist,
        } => Kind::Choice {
            pick: Pick::new(values.len() as u64, *dist, weights.as_deref()),
            values: values.clone(),
        },
        Gen::Person { part, locale } => Kind::Person {
            part: *part,
            dict: names::dictionaries(*locale),
        },
        Gen::Email {
            from,
            locale,
            unique,
        } => Kind::Email {
            from: *from,
            dict: names::dictionaries(*locale),
            unique: *unique,
        },
        Gen::Ref {
            table,
            column,
            dist,
        } => {
            let target = &schema.tables[*table];
            let col = &target.columns[*column];
            let key = match col.gen {
                Gen::Sequence { start, step } => Key::Sequence { start, step },
                _ => Key::Uuid {
                    key: stream_key(seed, &target.name, &col.name, Purpose::Values),
                },
            };
            Kind::Ref {
                key,
                pick: Pick::new(table_rows[*table], *dist, None),
            }
        }
        Gen::Parent { column } => Kind::Parent { column: *column },
        Gen::UuidV7 { min, max } => Kind::UuidV7 {
            min: *min,
            max: *max,
        },
        Gen::Hash { sha256, of } => Kind::Hash {
            sha256: *sha256,
            of: of.map(|c| (c, table.columns[c].sql_type.scale())),
        },
        Gen::Dict { source, dist } => {
            let (words, weights) = match source {
                DictSource::Builtin(list, locale) => (
                    Words::Builtin(dicts::dictionaries(*locale).list(*list)),
                    None,
                ),
                DictSource::User(i) => {
                    let d = &schema.dictionaries[*i];
                    (Words::User(d.values.clone().into()), d.weights.as_deref())
                }
            };
            Kind::Words {
                pick: Pick::new(words.len() as u64, *dist, weights),
                words,
            }
        }
        Gen::Lorem { min, max, locale } => Kind::Lorem {
            min: *min,
            max: *max,
            dict: dicts::dictionaries(*locale),
        },
        Gen::Domain { kind, locale } => Kind::Domain {
            kind: *kind,
            dict: dicts::dictionaries(*locale),
        },
        Gen::BrDoc { cnpj, formatted } => Kind::BrDoc {
            cnpj: *cnpj,
            formatted: *formatted,
        },
        Gen::Object(fields) => Kind::Object(
            fields
                .iter()
                .map(|f| {
                    compile_field(
                        schema,
                        seed,
                        table_rows,
                        table,
                        column,
                        f,
                        &format!("{name}.{}", f.name),
                    )
                })
                .collect(),
        ),
        Gen::Array { min, max, item } => Kind::Array {
            min: *min,
            max: *max,
            item: Box::new(compile_field(
                schema,
                seed,
                table_rows,
                table,
                column,
                item,
                &format!("{name}[]"),
            )),
        },
    }
}

impl ColumnGen {
    /// Makes this column (index `c` of its table) for the row of `ctx`.
    fn value(&self, c: usize, ctx: &mut SourceContext<'_>) -> Value {
        ctx.stats().values += 1;
        if self.null_rate > 0.0 && ctx.rng(self.nulls).random::<f64>() < self.null_rate {
            ctx.stats().nulls += 1;
            return Value::Null;
        }
        if let Some(when) = &self.when {
            if eval(when, ctx) != Val::Bool(true) {
                ctx.stats().nulls += 1;
                return Value::Null;
            }
        }
        kind_value(&self.kind, self.values, c, ctx)
    }
}

fn kind_value(kind: &Kind, key: u64, c: usize, ctx: &mut SourceContext<'_>) -> Value {
    let row = ctx.row();
    let mut rng = ctx.rng(key);
    match kind {
        Kind::Sequence { start, step } => Key::Sequence {
            start: *start,
            step: *step,
        }
        .at(row),
        Kind::UniqueInt { min, span } => {
            Value::Int(min.wrapping_add(permute(row, *span, key) as i64))
        }
        Kind::UniqueDate { min, span } => {
            Value::Date(min.wrapping_add(permute(row, *span, key) as i32))
        }
        Kind::UniqueTimestamp { min, span } => Value::Timestamp(
            min.wrapping_add(permute(row, *span, key) as i64)
                .wrapping_mul(1_000_000),
        ),
        Kind::Int { min, max, dist } => {
            Value::Int(dist.sample(&mut rng, *min as f64, *max as f64, true) as i64)
        }
        Kind::Float {
            min,
            max,
            dist,
            round,
        } => {
            let x = dist.sample(&mut rng, *min, *max, false);
            Value::Float(round.map_or(x, |r| ((x * r).round() / r).clamp(*min, *max)))
        }
        Kind::Decimal {
            min,
            max,
            dist,
            pow,
        } => match dist {
            // Uniform over the units, so every cent is equally likely.
            Real::Uniform => Value::Decimal(rng.random_range(*min..=*max)),
            // Shapes are given in natural units (a price's lognormal in dollars).
            _ => {
                let x = dist.sample(&mut rng, *min as f64 / pow, *max as f64 / pow, false);
                Value::Decimal(((x * pow).round() as i64).clamp(*min, *max))
            }
        },
        Kind::Bool { p } => Value::Bool(rng.random::<f64>() < *p),
        Kind::Str { min, max, chars } => {
            let len = rng.random_range(*min..=*max);
            let start = ctx.text_start();
            let out = ctx.out();
            for _ in 0..len {
                out.push(chars[rng.random_range(0..chars.len())] as char);
            }
            ctx.text_since(start)
        }
        Kind::Pattern(parts) => {
            let start = ctx.text_start();
            let out = ctx.out();
            for part in parts {
                match part {
                    PatternPart::Literal(s) => out.push_str(s),
                    PatternPart::Digit => out.push((b'0' + rng.random_range(0..10u8)) as char),
                    PatternPart::Letter => out.push((b'A' + rng.random_range(0..26u8)) as char),
                    PatternPart::Alnum => {
                        let chars = Charset::Alnum.chars();
                        out.push(chars[rng.random_range(0..chars.len())] as char);
                    }
                }
            }
            ctx.text_since(start)
        }
        Kind::Uuid => Value::Uuid(uuid_v4(&mut rng)),
        Kind::Date { min, max, dist } => {
            Value::Date(dist.sample(&mut rng, f64::from(*min), f64::from(*max), true) as i32)
        }
        Kind::Timestamp { min, max, dist } => {
            let secs = dist.sample(&mut rng, *min as f64, *max as f64, true) as i64;
            Value::Timestamp(secs * 1_000_000)
        }
        Kind::Choice { values, pick } => match &values[pick.pick(&mut rng) as usize] {
            Literal::Text(s) => ctx.push_text(s),
            Literal::Int(i) => Value::Int(*i),
            Literal::Float(f) => Value::Float(*f),
            Literal::Bool(b) => Value::Bool(*b),
        },
        Kind::Person { part, dict } => {
            let start = ctx.text_start();
            dict.person(&mut rng, *part, ctx.out());
            ctx.text_since(start)
        }
        Kind::Email { from, dict, unique } => {
            // The name is earlier in this same arena: copy it to the stack
            // first, since the arena is about to grow.
            let mut buf = [0u8; 128];
            let mut len = 0;
            if let Some(Value::Text(s, e)) = from.map(|f| ctx.value(f)) {
                let name = names::truncate(ctx.block().str(s, e), buf.len());
                len = name.len();
                buf[..len].copy_from_slice(name.as_bytes());
            }
            let start = ctx.text_start();
            match std::str::from_utf8(&buf[..len]) {
                Ok(name) if from.is_some() => names::email_local_part(name, ctx.out()),
                _ => {
                    let mut name = ctx.buffer();
                    dict.person(&mut rng, PersonPart::Full, &mut name);
                    names::email_local_part(&name, ctx.out());
                    ctx.give_back(name);
                }
            }
            let out = ctx.out();
            if *unique {
                out.push_str(itoa::Buffer::new().format(row + 1));
            } else if rng.random_bool(0.5) {
                out.push_str(itoa::Buffer::new().format(rng.random_range(1..100u32)));
            }
            out.push('@');
            out.push_str(dict.email_domain(&mut rng));
            ctx.text_since(start)
        }
        Kind::Ref { key, pick } => {
            let picked = pick.pick(&mut rng);
            ctx.picked(c, picked);
            key.at(picked)
        }
        Kind::Parent { column } => match ctx.parent_value(*column) {
            Some((Value::Text(s, e), parent)) => ctx.push_text(parent.str(s, e)),
            Some((other, _)) => other,
            None => Value::Null,
        },
        Kind::Expr { expr, sql } => {
            let v = eval(expr, ctx);
            store(ctx, v, *sql)
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
                if matched {
                    return kind_value(&case.kind, case.values, c, ctx);
                }
            }
            Value::Null
        }
        Kind::Agg { .. } => Value::Null, // computed after the children, in `late`
        Kind::UuidV7 { min, max } => {
            let ms = rng.random_range(*min..=*max) as u64;
            let mut bytes = [0u8; 16];
            rng.fill_bytes(&mut bytes);
            bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
            bytes[6] = (bytes[6] & 0x0f) | 0x70;
            bytes[8] = (bytes[8] & 0x3f) | 0x80;
            Value::Uuid(bytes)
        }
        Kind::Hash { sha256, of } => {
            let mut input = ctx.buffer();
            match of.map(|(f, scale)| (ctx.value(f), scale)) {
                Some((Value::Null, _)) => {
                    ctx.give_back(input);
                    return Value::Null;
                }
                Some((v, scale)) => crate::format::text::value(&mut input, v, ctx.block(), scale),
                None => {
                    let mut bytes = [0u8; 16];
                    rng.fill_bytes(&mut bytes);
                    crate::format::text::hex(&mut input, &bytes);
                }
            }
            let start = ctx.text_start();
            if *sha256 {
                crate::format::text::hex(ctx.out(), &sha2::Sha256::digest(input.as_bytes()));
            } else {
                crate::format::text::hex(ctx.out(), &md5::Md5::digest(input.as_bytes()));
            }
            ctx.give_back(input);
            ctx.text_since(start)
        }
        Kind::Words { words, pick } => {
            let i = pick.pick(&mut rng) as usize;
            ctx.push_text(words.get(i))
        }
        Kind::Lorem { min, max, dict } => {
            let start = ctx.text_start();
            dict.lorem(&mut rng, *min, *max, ctx.out());
            ctx.text_since(start)
        }
        Kind::Domain { kind, dict } => {
            let start = ctx.text_start();
            let out = ctx.out();
            match kind {
                Domain::InternetDomain => dict.domain(&mut rng, out),
                Domain::Phone => dict.phone(&mut rng, out),
                Domain::Street => dict.street(&mut rng, out),
                Domain::City => out.push_str(dict.city(&mut rng)),
                Domain::State => out.push_str(dict.state(&mut rng)),
                Domain::Zip => dict.zip(&mut rng, out),
                Domain::Country => out.push_str(dict.country(&mut rng)),
                Domain::Company => dict.company(&mut rng, out),
                Domain::ProductName => dict.product(&mut rng, out),
                Domain::Department => out.push_str(dict.department(&mut rng)),
            }
            ctx.text_since(start)
        }
        Kind::BrDoc { cnpj, formatted } => {
            let start = ctx.text_start();
            if *cnpj {
                brdocs::write(
                    &brdocs::cnpj_digits(&mut rng),
                    brdocs::CNPJ_MASK,
                    *formatted,
                    ctx.out(),
                );
            } else {
                brdocs::write(
                    &brdocs::cpf_digits(&mut rng),
                    brdocs::CPF_MASK,
                    *formatted,
                    ctx.out(),
                );
            }
            ctx.text_since(start)
        }
        Kind::Object(fields) => {
            let mut doc = ctx.buffer();
            doc.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    doc.push(',');
                }
                json::string(&mut doc, &f.name);
                doc.push(':');
                field_json(f, f.values, f.nulls, c, ctx, &mut doc);
            }
            doc.push('}');
            let value = ctx.push_text(&doc);
            ctx.give_back(doc);
            value
        }
        Kind::Array { min, max, item } => {
            let n = rng.random_range(*min..=*max);
            let mut doc = ctx.buffer();
            doc.push('[');
            for k in 0..u64::from(n) {
                if k > 0 {
                    doc.push(',');
                }
                // Each item has its own streams, derived from the item's position.
                let salt = super::rng::mix64(k + 1);
                field_json(
                    item,
                    item.values ^ salt,
                    item.nulls ^ salt,
                    c,
                    ctx,
                    &mut doc,
                );
            }
            doc.push(']');
            let value = ctx.push_text(&doc);
            ctx.give_back(doc);
            value
        }
    }
}

/// Appends the JSON of one field's value, generated from streams `values`
/// and `nulls`, to `doc`. Text the field made in the arena is dropped again.
fn field_json(
    f: &FieldGen,
    values: u64,
    nulls: u64,
    c: usize,
    ctx: &mut SourceContext<'_>,
    doc: &mut String,
) {
    if f.null_rate > 0.0 && ctx.rng(nulls).random::<f64>() < f.null_rate {
        doc.push_str("null");
        return;
    }
    let mark = ctx.text_start();
    let v = kind_value(&f.kind, values, c, ctx);
    match v {
        Value::Null => doc.push_str("null"),
        Value::Int(i) => doc.push_str(itoa::Buffer::new().format(i)),
        Value::Float(x) => json::number(doc, x),
        Value::Decimal(u) => crate::format::text::decimal(doc, u, f.sql.scale()),
        Value::Bool(b) => doc.push_str(if b { "true" } else { "false" }),
        Value::Text(s, e) if f.sql == SqlType::Json => doc.push_str(ctx.block().str(s, e)),
        Value::Text(s, e) => json::string(doc, ctx.block().str(s, e)),
        other => {
            // UUIDs, dates and timestamps are JSON strings of their text.
            let mut text = ctx.buffer();
            crate::format::text::value(&mut text, other, ctx.block(), 0);
            json::string(doc, &text);
            ctx.give_back(text);
        }
    }
    ctx.out().truncate(mark as usize);
}

#[allow(clippy::too_many_arguments)]
fn compile_field(
    schema: &Schema,
    seed: u64,
    table_rows: &[u64],
    table: &Table,
    column: &Column,
    f: &Field,
    stream: &str,
) -> FieldGen {
    FieldGen {
        name: f.name.clone(),
        kind: compile(schema, seed, table_rows, table, column, &f.gen, stream),
        values: stream_key(seed, &table.name, stream, Purpose::Values),
        nulls: stream_key(seed, &table.name, stream, Purpose::Nulls),
        null_rate: f.null_rate,
        sql: f.sql_type,
    }
}

/// The columns of `table` that computing column `column` needs, in order.
fn needed_columns(table: &Table, column: usize) -> Vec<usize> {
    let mut needed = vec![false; table.columns.len()];
    let mut stack = vec![column];
    while let Some(c) = stack.pop() {
        if std::mem::replace(&mut needed[c], true) {
            continue;
        }
        let mut row = Vec::new();
        let mut parent = Vec::new();
        if let Some(w) = &table.columns[c].when {
            crate::genfile::expr::columns(w, &mut row, &mut parent);
        }
        crate::genfile::gen_columns(&table.columns[c].gen, &mut row, &mut parent);
        stack.extend(row);
    }
    (0..table.columns.len()).filter(|&c| needed[c]).collect()
}

/// The size of a unique column's range, as the permutation's domain.
fn unique_span(gen: &Gen) -> u64 {
    gen.range_size()
        .map_or(0, |n| n.min(u128::from(u64::MAX)) as u64)
}

/// A keyed pseudo-random permutation of `0..n`, applied to `x < n`: a
/// four-round Feistel network over the smallest even number of bits that
/// covers `n`, walking the cycle until the result falls below `n` (at most
/// a few steps, since `n` is more than a quarter of the domain).
pub fn permute(x: u64, n: u64, key: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let needed = 64 - (n - 1).leading_zeros();
    let bits = (needed.max(2) + 1) & !1;
    let half = bits / 2;
    let mask = if half >= 64 {
        u64::MAX
    } else {
        (1u64 << half) - 1
    };
    let mut y = x;
    loop {
        let (mut l, mut r) = (y >> half, y & mask);
        for round in 0..4u64 {
            let f =
                super::rng::mix64(r ^ key.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
                    & mask;
            (l, r) = (r, l ^ f);
        }
        y = (l << half) | r;
        if y < n {
            return y;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permutations_are_bijections() {
        for n in [1u64, 2, 3, 7, 100, 1_000, 4_097] {
            let mut seen: Vec<u64> = (0..n).map(|x| permute(x, n, 42)).collect();
            seen.sort_unstable();
            assert!(seen.iter().copied().eq(0..n), "n = {n}");
        }
        assert_ne!(permute(5, 1_000, 1), permute(5, 1_000, 2));
    }
}
