//! Column generators compiled from the schema, and row generation.
//!
//! [`Generators`] is built once per run: every distribution is constructed,
//! every name resolved, every stream key derived. Generating a value is then
//! a match on a small enum, a few random draws and, for text, an append to
//! the block's arena.

use rand::{Rng, RngExt};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, LogNormal, Normal, Poisson, Zipf};

use super::names::{self, Dictionaries};
use super::rng::{row_rng, stream_key, Purpose, RowRng};
use super::value::{Block, Value};
use crate::genfile::schema::{
    Charset, Count, Dist, Gen, Literal, PatternPart, PersonPart, Schema, TableSize,
};

/// Tries before a truncated distribution gives up and clamps.
const RESAMPLES: usize = 16;

/// A distribution over `[0, 1]`-free real numbers, ready to sample.
#[derive(Debug, Clone)]
enum Real {
    Uniform,
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Exponential(f64),
    Zipf(f64),
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
            Dist::Zipf { s } => Real::Zipf(s),
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
                Real::Zipf(s) => {
                    let n = (max - min + 1.0).max(1.0);
                    min + Zipf::new(n, *s).map_or(1.0, |z| z.sample(rng)) - 1.0
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
    Zipf(Zipf<f64>),
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
            Dist::Zipf { s } => Zipf::new(n as f64, s).map_or(Pick::Uniform(n), Pick::Zipf),
            other => Pick::Real(Real::new(other), n),
        }
    }

    fn pick(&self, rng: &mut RowRng) -> u64 {
        match self {
            Pick::Uniform(n) => rng.random_range(0..(*n).max(1)),
            Pick::Zipf(z) => z.sample(rng) as u64 - 1,
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
}

/// One column, compiled.
#[derive(Debug, Clone)]
struct ColumnGen {
    kind: Kind,
    values: u64,
    nulls: u64,
    null_rate: f64,
}

/// How many children each parent row gets.
#[derive(Debug, Clone)]
enum CountGen {
    Fixed(u64),
    Uniform(u64, u64),
    Poisson(Poisson<f64>),
    Normal(Normal<f64>),
}

#[derive(Debug, Clone)]
struct TableGen {
    columns: Vec<ColumnGen>,
    parent: Option<usize>,
    children: Vec<usize>,
    count: Option<(u64, CountGen)>,
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
                        kind: compile(schema, seed, table_rows, &column.gen),
                        values: stream_key(seed, &table.name, &column.name, Purpose::Values),
                        nulls: stream_key(seed, &table.name, &column.name, Purpose::Nulls),
                        null_rate: column.null_rate,
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
        }
    }

    /// Tables with `per` this one.
    pub fn children(&self, table: usize) -> &[usize] {
        &self.tables[table].children
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
        let mut blocks: Vec<Option<Block>> = vec![None; self.tables.len()];
        for &(table, first) in starts {
            let width = self.tables[table].columns.len();
            blocks[table] = Some(Block::new(table, first, width));
        }
        for row in rows {
            self.emit(root, row, &mut blocks);
        }
        blocks
            .into_iter()
            .flatten()
            .filter(|b| !b.is_empty())
            .collect()
    }

    fn emit(&self, table: usize, row: u64, blocks: &mut [Option<Block>]) {
        let gen = &self.tables[table];
        {
            let (before, from_table) = blocks.split_at_mut(table);
            let block = from_table[0]
                .as_mut()
                .expect("a block for every table of the unit");
            let parent = gen.parent.map(|p| {
                let parent = before[p].as_ref().expect("the parent's block");
                (parent, parent.len() - 1)
            });
            let row_start = block.values.len();
            for column in &gen.columns {
                let value = column.value(row, block, row_start, parent);
                block.values.push(value);
            }
        }
        for &child in &gen.children {
            let n = self.count(child, row);
            for _ in 0..n {
                let block = blocks[child]
                    .as_ref()
                    .expect("a block for every table of the unit");
                let child_row = block.first_row + block.len() as u64;
                self.emit(child, child_row, blocks);
            }
        }
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
    }
}

fn compile(schema: &Schema, seed: u64, table_rows: &[u64], gen: &Gen) -> Kind {
    match gen {
        Gen::Sequence { start, step } => Kind::Sequence {
            start: *start,
            step: *step,
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
    }
}

impl ColumnGen {
    fn value(
        &self,
        row: u64,
        block: &mut Block,
        row_start: usize,
        parent: Option<(&Block, usize)>,
    ) -> Value {
        if self.null_rate > 0.0 && row_rng(self.nulls, row).random::<f64>() < self.null_rate {
            return Value::Null;
        }
        let mut rng = row_rng(self.values, row);
        match &self.kind {
            Kind::Sequence { start, step } => Key::Sequence {
                start: *start,
                step: *step,
            }
            .at(row),
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
                let start = block.begin_text();
                for _ in 0..len {
                    block
                        .text
                        .push(chars[rng.random_range(0..chars.len())] as char);
                }
                block.end_text(start)
            }
            Kind::Pattern(parts) => {
                let start = block.begin_text();
                for part in parts {
                    match part {
                        PatternPart::Literal(s) => block.text.push_str(s),
                        PatternPart::Digit => {
                            block.text.push((b'0' + rng.random_range(0..10u8)) as char)
                        }
                        PatternPart::Letter => {
                            block.text.push((b'A' + rng.random_range(0..26u8)) as char)
                        }
                        PatternPart::Alnum => {
                            let chars = Charset::Alnum.chars();
                            block
                                .text
                                .push(chars[rng.random_range(0..chars.len())] as char);
                        }
                    }
                }
                block.end_text(start)
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
                Literal::Text(s) => block.push_text(s),
                Literal::Int(i) => Value::Int(*i),
                Literal::Float(f) => Value::Float(*f),
                Literal::Bool(b) => Value::Bool(*b),
            },
            Kind::Person { part, dict } => {
                let start = block.begin_text();
                dict.person(&mut rng, *part, &mut block.text);
                block.end_text(start)
            }
            Kind::Email { from, dict, unique } => {
                let start = block.begin_text();
                let name = match from.map(|c| block.values[row_start + c]) {
                    Some(Value::Text(s, e)) => Some((s as usize, e as usize)),
                    _ => None,
                };
                match name {
                    Some((s, e)) => {
                        // The name is earlier in this same arena: copy it to the
                        // stack first, since the arena is about to grow.
                        let mut buf = [0u8; 128];
                        let name = names::truncate(&block.text[s..e], buf.len());
                        buf[..name.len()].copy_from_slice(name.as_bytes());
                        let name = std::str::from_utf8(&buf[..name.len()])
                            .expect("copied from a str at a char boundary");
                        names::email_local_part(name, &mut block.text);
                    }
                    None => {
                        let mut name = String::new();
                        dict.person(&mut rng, PersonPart::Full, &mut name);
                        names::email_local_part(&name, &mut block.text);
                    }
                }
                if *unique {
                    block.text.push_str(itoa::Buffer::new().format(row + 1));
                } else if rng.random_bool(0.5) {
                    block
                        .text
                        .push_str(itoa::Buffer::new().format(rng.random_range(1..100u32)));
                }
                block.text.push('@');
                block.text.push_str(dict.email_domain(&mut rng));
                block.end_text(start)
            }
            Kind::Ref { key, pick } => key.at(pick.pick(&mut rng)),
            Kind::Parent { column } => {
                let (parent, prow) =
                    parent.expect("validated: parent columns only in tables with per");
                match parent.row(prow)[*column] {
                    Value::Text(s, e) => {
                        let s = parent.str(s, e);
                        block.push_text(s)
                    }
                    other => other,
                }
            }
        }
    }
}
