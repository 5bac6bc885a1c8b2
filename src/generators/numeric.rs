//! Numbers: `sequence`, `int`, `float`, `decimal`, `bool`.

use std::sync::Arc;

use rand::RngExt;
use toml::Value as TomlValue;

use super::bound::{self, Units};
use super::dist::{Dist, Real};
use super::{Compile, Def, Family, Params, RowKey, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The numeric generators.
pub const FAMILY: Family = Family {
    name: "numeric",
    generators: &[
        Def {
            name: "sequence",
            keys: &["start", "step"],
            unique: Some("`sequence`"),
            parse: sequence,
        },
        Def {
            name: "int",
            keys: &["min", "max", "dist"],
            unique: Some("`int` without `dist`"),
            parse: int,
        },
        Def {
            name: "float",
            keys: &["min", "max", "dist", "precision"],
            unique: None,
            parse: float,
        },
        Def {
            name: "decimal",
            keys: &["min", "max", "dist", "scale"],
            unique: None,
            parse: decimal,
        },
        Def {
            name: "bool",
            keys: &["p"],
            unique: None,
            parse: boolean,
        },
    ],
};

/// `start + row × step`.
#[derive(Debug, Clone, Copy)]
struct Sequence {
    start: i64,
    step: i64,
}

fn sequence(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let start = p.int("start").map_or(1, |v| v.0);
    let step = match p.int("step") {
        Some((0, s)) => {
            p.problem(s, "`step` must not be 0", Some("a sequence must advance"));
            1
        }
        Some((s, _)) => s,
        None => 1,
    };
    Some(Arc::new(Sequence { start, step }))
}

impl Spec for Sequence {
    fn sql_type(&self) -> SqlType {
        SqlType::BigInt
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Always
    }

    fn rows_problem(&self, rows: u64) -> Option<(String, &'static str)> {
        let last = i128::from(self.start) + i128::from(rows - 1) * i128::from(self.step);
        if i64::try_from(last).is_ok() {
            return None;
        }
        // The first row past the end, counting from 1.
        let room = if self.step > 0 {
            i128::from(i64::MAX) - i128::from(self.start)
        } else {
            i128::from(self.start) - i128::from(i64::MIN)
        };
        let first = room / i128::from(self.step).abs() + 2;
        Some((
            format!(
                "a sequence from {} by {} passes the {} integer at row {first} of {rows}",
                self.start,
                self.step,
                if self.step > 0 { "largest" } else { "smallest" },
            ),
            "start it nearer 0, take a smaller `step`, or make fewer rows",
        ))
    }

    fn row_key(&self, _values: u64) -> Option<Box<dyn RowKey>> {
        Some(Box::new(*self))
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl RowKey for Sequence {
    fn at(&self, row: u64) -> Value {
        Value::Int(
            self.start
                .wrapping_add((row as i64).wrapping_mul(self.step)),
        )
    }
}

impl Sample for Sequence {
    fn value(&self, _key: u64, ctx: &mut SourceContext<'_>) -> Value {
        self.at(ctx.row())
    }
}

/// Integers in `[min, max]`: a [`bound::Ranged`] in whole numbers.
fn int(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let ranged = bound::read_range(p, Units::Int, true, |p, key| {
        let example = if key == "min" { "0" } else { "100" };
        let found = bound::read(p, key, Units::Int, TomlValue::as_integer, |_| false);
        match p.require(key, found, example)? {
            (Ok(b), _) => Some(b),
            (Err(()), span) => {
                p.problem(
                    span,
                    format!("`{key}` must be an integer, or an expression of earlier columns"),
                    Some(&format!(
                        "e.g. `{key} = {example}` or `{key} = \"parent.quantity\"`"
                    )),
                );
                None
            }
        }
    })?;
    Some(Arc::new(ranged))
}

/// Doubles in `[min, max]`, optionally rounded.
#[derive(Debug, Clone, Copy)]
struct Float {
    min: f64,
    max: f64,
    dist: Dist,
    precision: Option<u8>,
}

fn float(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let min = p.float("min");
    let max = p.float("max");
    let (min, max) = (p.require("min", min, "0.0")?, p.require("max", max, "1.0")?);
    if min.0 > max.0 {
        p.range_error(min.1.clone(), &min.0, &max.0);
    }
    let precision = match p.int("precision") {
        Some((n, _)) if (0..=15).contains(&n) => Some(n as u8),
        Some((n, s)) => {
            p.problem(
                s,
                format!("`precision` must be between 0 and 15, found {n}"),
                None,
            );
            None
        }
        None => None,
    };
    Some(Arc::new(Float {
        min: min.0,
        max: max.0,
        dist: p.dist(),
        precision,
    }))
}

impl Spec for Float {
    fn sql_type(&self) -> SqlType {
        SqlType::Double
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(FloatSample {
            min: self.min,
            max: self.max,
            dist: Real::new(self.dist),
            round: self.precision.map(|p| 10f64.powi(i32::from(p))),
        })
    }
}

#[derive(Debug)]
struct FloatSample {
    min: f64,
    max: f64,
    dist: Real,
    round: Option<f64>,
}

impl Sample for FloatSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        let x = self.dist.sample(&mut rng, self.min, self.max, false);
        Value::Float(
            self.round
                .map_or(x, |r| ((x * r).round() / r).clamp(self.min, self.max)),
        )
    }
}

/// Decimals in `[min, max]` as scaled integers.
#[derive(Debug, Clone, Copy)]
struct Decimal {
    /// Smallest value, in units of `10^-scale`.
    min: i64,
    /// Largest value, in units of `10^-scale`.
    max: i64,
    scale: u8,
    precision: u8,
    dist: Dist,
}

fn decimal(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let scale = match p.int("scale") {
        Some((s, _)) if (0..=9).contains(&s) => s as u8,
        Some((s, span)) => {
            p.problem(
                span,
                format!("`scale` must be between 0 and 9, found {s}"),
                None,
            );
            2
        }
        None => 2,
    };
    let min = p.float("min");
    let max = p.float("max");
    let (min, max) = (
        p.require("min", min, "0.00")?,
        p.require("max", max, "100.00")?,
    );
    if min.0 > max.0 {
        p.range_error(min.1.clone(), &min.0, &max.0);
    }
    let pow = 10f64.powi(i32::from(scale));
    let limit = 1e17;
    if min.0.abs() * pow >= limit || max.0.abs() * pow >= limit {
        p.problem(
            max.1.clone(),
            format!("values too large for a decimal with scale {scale}"),
            None,
        );
    }
    let (lo, hi) = ((min.0 * pow).round() as i64, (max.0 * pow).round() as i64);
    let int_digits = hi
        .unsigned_abs()
        .max(lo.unsigned_abs())
        .checked_ilog10()
        .map_or(1, |l| l + 1) as u8;
    Some(Arc::new(Decimal {
        min: lo,
        max: hi,
        scale,
        precision: int_digits.max(scale + 1),
        dist: p.dist(),
    }))
}

impl Spec for Decimal {
    fn sql_type(&self) -> SqlType {
        SqlType::Decimal {
            precision: self.precision,
            scale: self.scale,
        }
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(DecimalSample {
            min: self.min,
            max: self.max,
            dist: Real::new(self.dist),
            pow: 10f64.powi(i32::from(self.scale)),
        })
    }
}

#[derive(Debug)]
struct DecimalSample {
    min: i64,
    max: i64,
    dist: Real,
    pow: f64,
}

impl Sample for DecimalSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        match self.dist {
            // Uniform over the units, so every cent is equally likely.
            Real::Uniform => Value::Decimal(rng.random_range(self.min..=self.max)),
            // Shapes are given in natural units (a price's lognormal in dollars).
            _ => {
                let x = self.dist.sample(
                    &mut rng,
                    self.min as f64 / self.pow,
                    self.max as f64 / self.pow,
                    false,
                );
                Value::Decimal(((x * self.pow).round() as i64).clamp(self.min, self.max))
            }
        }
    }
}

/// `true` with probability `p`.
#[derive(Debug, Clone, Copy)]
struct Bool {
    p: f64,
}

fn boolean(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let probability = match p.float("p") {
        Some((x, _)) if (0.0..=1.0).contains(&x) => x,
        Some((x, s)) => {
            p.problem(s, format!("`p` must be between 0 and 1, found {x}"), None);
            0.5
        }
        None => 0.5,
    };
    Some(Arc::new(Bool { p: probability }))
}

impl Spec for Bool {
    fn sql_type(&self) -> SqlType {
        SqlType::Boolean
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for Bool {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        Value::Bool(ctx.rng(key).random::<f64>() < self.p)
    }
}
