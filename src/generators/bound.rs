//! Values in a range: `int`, `date` and `timestamp` are one spec,
//! [`Ranged`], counting in their own [`Units`]. Their `min` and `max` are
//! fixed in the Genfile or computed for each row: expressions of the row's
//! earlier columns and of the parent row (`min = "parent.signed_up"`, `max =
//! "placed_at + days(30)"`), so time flows forward: an order after its
//! customer's signup, a shipment after its order.

use std::ops::Range;

use toml::Value as TomlValue;

use super::dist::{Dist, Real};
use super::unique::Numbering;
use super::{Compile, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::expr::{eval, Expr, Ty, Val};
use crate::value::{SqlType, Value};

/// A bound as the spec keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Written in the Genfile, in the generator's units.
    Fixed(i64),
    /// The expression at this position of the generator's expressions.
    Expr(usize),
}

impl Bound {
    /// The fixed value, if it is one.
    pub fn fixed(self) -> Option<i64> {
        match self {
            Bound::Fixed(n) => Some(n),
            Bound::Expr(_) => None,
        }
    }
}

/// The units a generator counts in, and so how an expression's value
/// becomes a bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Whole numbers.
    Int,
    /// Days since the epoch.
    Days,
    /// Seconds since the epoch.
    Seconds,
}

impl Units {
    /// The value of `n` units.
    fn value(self, n: i64) -> Value {
        match self {
            Units::Int => Value::Int(n),
            Units::Days => Value::Date(n as i32),
            Units::Seconds => Value::Timestamp(n.wrapping_mul(1_000_000)),
        }
    }

    /// The expression types a bound in these units may have.
    pub fn types(self) -> &'static [Ty] {
        match self {
            Units::Int => &[Ty::Int],
            Units::Days => &[Ty::Date, Ty::Timestamp],
            Units::Seconds => &[Ty::Timestamp, Ty::Date],
        }
    }

    /// `v` in these units, rounded up for a lower bound (`up`) and down for
    /// an upper one, so a value drawn between them lies between the
    /// moments themselves; `None` for NULL.
    fn of(self, v: Val<'_>, up: bool) -> Option<i64> {
        const DAY: i64 = 86_400_000_000;
        let div = |t: i64, unit: i64| {
            let q = t.div_euclid(unit);
            if up && t.rem_euclid(unit) != 0 {
                q + 1
            } else {
                q
            }
        };
        match (self, v) {
            (Units::Int, Val::Int(i)) => Some(i),
            (Units::Days, Val::Date(d)) => Some(i64::from(d)),
            (Units::Days, Val::Ts(t)) => Some(div(t, DAY)),
            (Units::Seconds, Val::Date(d)) => Some(i64::from(d) * 86_400),
            (Units::Seconds, Val::Ts(t)) => Some(div(t, 1_000_000)),
            _ => None,
        }
    }
}

/// Reads `key` as a bound: `literal` turns a TOML value into a fixed one
/// (`None` when it is not one); a string that is not a literal is an
/// expression of the row, unless `looks_literal` says it was meant as one
/// (then it is reported as a bad literal by the caller). Returns the bound
/// and its place, or `None` when absent.
pub fn read(
    p: &mut Params<'_, '_>,
    key: &'static str,
    units: Units,
    literal: impl Fn(&TomlValue) -> Option<i64>,
    looks_literal: impl Fn(&str) -> bool,
) -> Option<(Result<Bound, ()>, Range<usize>)> {
    let v = p.get(key)?;
    let span = v.span();
    if let Some(n) = literal(v.get_ref()) {
        return Some((Ok(Bound::Fixed(n)), span));
    }
    match v.get_ref() {
        TomlValue::String(s) if !looks_literal(s) => {
            let i = p.expr(key, s, span.clone(), units.types());
            Some((Ok(Bound::Expr(i)), span))
        }
        _ => Some((Err(()), span)),
    }
}

/// Values in `[min, max]` of a distribution, in `units`: `int`, `date`
/// and `timestamp`.
#[derive(Debug, Clone, Copy)]
pub struct Ranged {
    units: Units,
    min: Bound,
    max: Bound,
    dist: Dist,
}

/// Reads `min` and `max` with `one` (`None` when a bound is missing or
/// wrong, reported), then `dist`, and reports a fixed `min` above `max`
/// (with the values when `show_values`: integers read well, days and
/// seconds since the epoch do not) and a Zipf shape over bounds computed
/// for each row, whose table is built for one range.
pub fn read_range(
    p: &mut Params<'_, '_>,
    units: Units,
    show_values: bool,
    one: impl Fn(&mut Params<'_, '_>, &'static str) -> Option<Bound>,
) -> Option<Ranged> {
    let min = one(p, "min");
    let max = one(p, "max");
    let (min, max) = (min?, max?);
    if let (Some(lo), Some(hi)) = (min.fixed(), max.fixed()) {
        if lo > hi {
            let span = p.get("min").map_or_else(|| p.span(), |v| v.span());
            if show_values {
                p.range_error(span, &lo, &hi);
            } else {
                p.range_error(span, &"min", &"max");
            }
        }
    }
    let dist = p.dist();
    if (min.fixed().is_none() || max.fixed().is_none()) && matches!(dist, Dist::Zipf { .. }) {
        let span = p.span();
        p.problem(
            span,
            "`zipf` needs a fixed range, but `min` or `max` is computed for each row",
            Some(
                "use another `dist` (exponential from `min`, normal, log-normal), or fixed bounds",
            ),
        );
    }
    Some(Ranged {
        units,
        min,
        max,
        dist,
    })
}

impl Ranged {
    /// Values in `[min, max]`, when both are fixed.
    fn span(&self) -> Option<u128> {
        let (lo, hi) = (self.min.fixed()?, self.max.fixed()?);
        Some((i128::from(hi) - i128::from(lo) + 1) as u128)
    }
}

impl Spec for Ranged {
    fn sql_type(&self) -> SqlType {
        match (self.units, self.min.fixed(), self.max.fixed()) {
            (Units::Days, ..) => SqlType::Date,
            (Units::Seconds, ..) => SqlType::Timestamp,
            (Units::Int, Some(lo), Some(hi))
                if i32::try_from(lo).is_ok() && i32::try_from(hi).is_ok() =>
            {
                SqlType::Integer
            }
            (Units::Int, ..) => SqlType::BigInt,
        }
    }

    fn uniqueness(&self) -> Uniqueness {
        match (self.dist, self.span()) {
            (Dist::Uniform, Some(values)) => Uniqueness::Space {
                values,
                of: "range",
                help: "widen `min`..`max` or lower the row count",
            },
            _ => Uniqueness::Repeats,
        }
    }

    fn unique_hint(&self) -> Option<&'static str> {
        Some(match self.span() {
            None => "a range computed for each row cannot keep `unique` (rows with the same bounds would have to know each other's values): give fixed `min` and `max`, or remove `unique`",
            Some(_) => "remove `dist` (or `unique`): distinct values are each drawn once, so a distribution cannot shape how often they occur; only a uniform range can be made distinct",
        })
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if let (true, Some(span)) = (cx.unique, self.span()) {
            return Box::new(UniqueRange {
                units: self.units,
                min: self.min.fixed().unwrap_or_default(),
                span,
                numbering: cx.numbering,
            });
        }
        Box::new(RangeSample {
            units: self.units,
            min: RowBound::new(self.min, cx.exprs),
            max: RowBound::new(self.max, cx.exprs),
            dist: Real::new(self.dist),
        })
    }
}

#[derive(Debug)]
struct RangeSample {
    units: Units,
    min: RowBound,
    max: RowBound,
    dist: Real,
}

impl Sample for RangeSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        match draw(&self.min, &self.max, self.units, &self.dist, key, ctx) {
            Some(n) => self.units.value(n),
            None => Value::Null,
        }
    }
}

/// Distinct values: `min` plus the row's number in the range.
#[derive(Debug)]
struct UniqueRange {
    units: Units,
    min: i64,
    /// Values in the range: at most 2^64.
    span: u128,
    numbering: Numbering,
}

impl Sample for UniqueRange {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let n = self
            .min
            .wrapping_add(self.numbering.index128(ctx, self.span, key) as u64 as i64);
        self.units.value(n)
    }
}

/// A bound compiled for a run.
#[derive(Debug, Clone)]
pub enum RowBound {
    /// Fixed.
    Fixed(i64),
    /// Computed for each row.
    Expr(Expr),
}

impl RowBound {
    /// `bound`, its expression taken from the generator's checked ones.
    pub fn new(bound: Bound, exprs: &[Expr]) -> RowBound {
        match bound {
            Bound::Fixed(n) => RowBound::Fixed(n),
            Bound::Expr(i) => RowBound::Expr(exprs[i].clone()),
        }
    }
}

/// The row's `[min, max]` in `units`; `None` when either is NULL (the
/// value is NULL). Crossed bounds are recorded as the row's problem (the
/// run stops, naming the column and the row) and give `None` too.
fn range(
    min: &RowBound,
    max: &RowBound,
    units: Units,
    ctx: &mut SourceContext<'_>,
) -> Option<(i64, i64)> {
    let mut at = |b: &RowBound, up: bool| match b {
        RowBound::Fixed(n) => Some(*n),
        RowBound::Expr(e) => {
            let v = eval(e, ctx);
            units.of(v, up)
        }
    };
    let (lo, hi) = (at(min, true)?, at(max, false)?);
    if lo > hi {
        ctx.fail("bounds cross: this row's `min` is after its `max`");
        return None;
    }
    Some((lo, hi))
}

/// A value of `dist` in the row's range, from stream `key`; `None` for
/// NULL (a NULL bound, or crossed bounds, recorded). With bounds computed
/// per row the shape is measured from the row's `min` — a normal's `mean`
/// and a log-normal's values are offsets from it, as an exponential's
/// always are — so a delay after an order is a delay, whatever the order's
/// date; with fixed bounds it is placed as written.
#[inline]
fn draw(
    min: &RowBound,
    max: &RowBound,
    units: Units,
    dist: &Real,
    key: u64,
    ctx: &mut SourceContext<'_>,
) -> Option<i64> {
    if let (RowBound::Fixed(lo), RowBound::Fixed(hi)) = (min, max) {
        return Some(dist.sample_int(&mut ctx.rng(key), *lo, *hi));
    }
    let (lo, hi) = range(min, max, units, ctx)?;
    let mut rng = ctx.rng(key);
    Some(match hi.checked_sub(lo) {
        Some(span) => lo + dist.sample_int(&mut rng, 0, span),
        None => dist.sample_int(&mut rng, lo, hi),
    })
}
