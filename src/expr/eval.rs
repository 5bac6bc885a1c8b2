//! Evaluating checked expressions against the row being generated.
//!
//! Values are small `Copy` things; text is a range of the row's arena, of
//! the parent's arena, or a literal of the expression, so evaluation
//! allocates nothing. Functions that make text (`concat`, `lower`, `upper`)
//! append it to the row's arena. NULL propagates as in SQL: arithmetic and
//! comparisons with NULL give NULL, and `and`/`or` use three-valued logic.

use chrono::{Datelike, NaiveDate};

use super::{interval, BinOp, Const, Expr, Func, Node, Ty};
use crate::context::SourceContext;
use crate::format::text;
use crate::value::SqlType;
use crate::value::Value;

/// Where a text value lives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Txt<'e> {
    /// In this row's arena.
    Row(u32, u32),
    /// In the parent row's arena.
    Parent(u32, u32),
    /// A literal of the expression.
    Lit(&'e str),
}

/// An evaluated value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'e> {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// Units of `10^-scale`.
    Dec(i128, u8),
    /// A boolean.
    Bool(bool),
    /// Text.
    Text(Txt<'e>),
    /// Days since the epoch.
    Date(i32),
    /// Microseconds since the epoch.
    Ts(i64),
    /// Calendar months and microseconds.
    Interval(i64, i64),
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn pow10(n: u8) -> i128 {
    10i128.pow(u32::from(n))
}

/// `units` at scale `from`, rounded half away from zero to scale `to`.
pub fn rescale(units: i128, from: u8, to: u8) -> i128 {
    if to >= from {
        units * pow10(to - from)
    } else {
        let div = pow10(from - to);
        let q = units / div;
        let r = units % div;
        if r.abs() * 2 >= div {
            q + units.signum()
        } else {
            q
        }
    }
}

fn as_f64(v: Val<'_>) -> Option<f64> {
    match v {
        Val::Int(i) => Some(i as f64),
        Val::Float(f) => Some(f),
        Val::Dec(u, s) => Some(u as f64 / pow10(s) as f64),
        _ => None,
    }
}

fn as_dec(v: Val<'_>) -> Option<(i128, u8)> {
    match v {
        Val::Int(i) => Some((i128::from(i), 0)),
        Val::Dec(u, s) => Some((u, s)),
        _ => None,
    }
}

fn text<'c, 'e: 'c>(ctx: &'c SourceContext<'_>, t: Txt<'e>) -> &'c str {
    match t {
        Txt::Row(s, e) => ctx.block().str(s, e),
        Txt::Parent(s, e) => ctx.parent_block().map_or("", |b| b.str(s, e)),
        Txt::Lit(s) => s,
    }
}

/// Turns a stored value into an expression value of type `ty`. Always
/// inlined: it runs for every column an expression reads, and as a call
/// it cost shop about 1% of its instructions (benches/instructions.sh).
#[inline(always)]
fn load<'e>(ctx: &mut SourceContext<'_>, v: Value, ty: Ty, parent: bool) -> Val<'e> {
    match v {
        Value::Null => Val::Null,
        Value::Int(i) => Val::Int(i),
        Value::Float(f) => Val::Float(f),
        Value::Decimal(u) => match ty {
            Ty::Decimal(s) => Val::Dec(i128::from(u), s),
            _ => Val::Int(u),
        },
        Value::Bool(b) => Val::Bool(b),
        Value::Text(s, e) if parent => Val::Text(Txt::Parent(s, e)),
        Value::Text(s, e) => Val::Text(Txt::Row(s, e)),
        Value::Uuid(bytes) => {
            let start = ctx.text_start();
            text::uuid(ctx.out(), &bytes);
            match ctx.text_since(start) {
                Value::Text(s, e) => Val::Text(Txt::Row(s, e)),
                _ => Val::Null,
            }
        }
        Value::Date(d) => Val::Date(d),
        Value::Timestamp(t) => Val::Ts(t),
    }
}

fn date_of(v: Val<'_>) -> Option<NaiveDate> {
    let days = match v {
        Val::Date(d) => d,
        Val::Ts(t) => t.div_euclid(86_400_000_000) as i32,
        _ => return None,
    };
    NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_FROM_CE)
}

/// Evaluates `e` for the row of `ctx`.
pub fn eval<'e>(e: &'e Expr, ctx: &mut SourceContext<'_>) -> Val<'e> {
    match &e.node {
        Node::Const(c) => match c {
            Const::Null => Val::Null,
            Const::Int(i) => Val::Int(*i),
            Const::Float(f) => Val::Float(*f),
            Const::Decimal(u, s) => Val::Dec(*u, *s),
            Const::Bool(b) => Val::Bool(*b),
            Const::Text(s) => Val::Text(Txt::Lit(s)),
            Const::Date(d) => Val::Date(*d),
            Const::Timestamp(t) => Val::Ts(*t),
        },
        Node::Column(i) => {
            let v = ctx.value(*i);
            load(ctx, v, e.ty, false)
        }
        Node::Parent(i) => match ctx.parent_value(*i) {
            Some((v, _)) => load(ctx, v, e.ty, true),
            None => Val::Null,
        },
        Node::Neg(x) => match eval(x, ctx) {
            Val::Int(i) => int(ctx, i.checked_neg()),
            Val::Interval(m, us) => match (m.checked_neg(), us.checked_neg()) {
                (Some(m), Some(us)) => Val::Interval(m, us),
                _ => fail(ctx, INTERVAL_OVERFLOW),
            },
            Val::Float(f) => Val::Float(-f),
            Val::Dec(u, s) => Val::Dec(-u, s),
            _ => Val::Null,
        },
        Node::Not(x) => match eval(x, ctx) {
            Val::Bool(b) => Val::Bool(!b),
            _ => Val::Null,
        },
        Node::Binary(op, a, b) => binary(*op, a, b, ctx),
        Node::Call(f, args) => call(*f, args, e.ty, ctx),
    }
}

fn binary<'e>(op: BinOp, a: &'e Expr, b: &'e Expr, ctx: &mut SourceContext<'_>) -> Val<'e> {
    if matches!(op, BinOp::And | BinOp::Or) {
        let x = eval(a, ctx);
        // Short-circuit where the answer is already known.
        match (op, x) {
            (BinOp::And, Val::Bool(false)) => return Val::Bool(false),
            (BinOp::Or, Val::Bool(true)) => return Val::Bool(true),
            _ => {}
        }
        let y = eval(b, ctx);
        return match (op, x, y) {
            (BinOp::And, _, Val::Bool(false)) => Val::Bool(false),
            (BinOp::Or, _, Val::Bool(true)) => Val::Bool(true),
            (_, Val::Bool(_), Val::Bool(q)) => Val::Bool(q),
            _ => Val::Null,
        };
    }
    let x = eval(a, ctx);
    let y = eval(b, ctx);
    if x == Val::Null || y == Val::Null {
        return Val::Null;
    }
    match op {
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let Some(ord) = compare(x, y, ctx) else {
                return Val::Null;
            };
            use std::cmp::Ordering::*;
            Val::Bool(match op {
                BinOp::Eq => ord == Equal,
                BinOp::Ne => ord != Equal,
                BinOp::Lt => ord == Less,
                BinOp::Le => ord != Greater,
                BinOp::Gt => ord == Greater,
                _ => ord != Less,
            })
        }
        _ => arith(op, x, y, ctx),
    }
}

/// What an integer result beyond `i64` is called.
const INT_OVERFLOW: &str = "integer overflow: the result is beyond the 64-bit range";
/// What a date or timestamp result beyond the calendar is called.
const DATE_OVERFLOW: &str = "date overflow: the result is beyond the years datagen writes";
/// What a float result beyond `f64` is called.
const FLOAT_OVERFLOW: &str = "float overflow: the result is beyond the largest double";
/// What an interval beyond 64 bits of months or microseconds is called.
const INTERVAL_OVERFLOW: &str = "interval overflow: the result is beyond the 64-bit range";
/// What a decimal result beyond its type is called.
const DECIMAL_OVERFLOW: &str = "decimal overflow: the result is beyond the 64-bit range";

/// `v` as an integer, or a problem when it overflowed.
fn int<'e>(ctx: &mut SourceContext<'_>, v: Option<i64>) -> Val<'e> {
    match v {
        Some(i) => Val::Int(i),
        None => fail(ctx, INT_OVERFLOW),
    }
}

/// Records `problem` for the value being made: it is NULL.
fn fail<'e>(ctx: &mut SourceContext<'_>, problem: &'static str) -> Val<'e> {
    ctx.fail(problem);
    Val::Null
}

/// `days` since the epoch, when the calendar has that date.
fn date_in_range(days: i64) -> Option<i32> {
    let days = i32::try_from(days).ok()?;
    date_of(Val::Date(days)).map(|_| days)
}

/// `micros` since the epoch, when the calendar has that moment.
fn timestamp_in_range(micros: Option<i64>) -> Option<i64> {
    let micros = micros?;
    chrono::DateTime::from_timestamp(micros.div_euclid(1_000_000), 0).map(|_| micros)
}

fn compare(x: Val<'_>, y: Val<'_>, ctx: &SourceContext<'_>) -> Option<std::cmp::Ordering> {
    match (x, y) {
        (Val::Int(a), Val::Int(b)) => Some(a.cmp(&b)),
        (Val::Float(_), _) | (_, Val::Float(_)) => as_f64(x)?.partial_cmp(&as_f64(y)?),
        (Val::Dec(..), _) | (_, Val::Dec(..)) => {
            let ((a, s), (b, t)) = (as_dec(x)?, as_dec(y)?);
            let m = s.max(t);
            Some(rescale(a, s, m).cmp(&rescale(b, t, m)))
        }
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(&b)),
        (Val::Text(a), Val::Text(b)) => Some(text(ctx, a).cmp(text(ctx, b))),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(&b)),
        (Val::Ts(a), Val::Ts(b)) => Some(a.cmp(&b)),
        _ => None,
    }
}

fn arith<'e>(op: BinOp, x: Val<'e>, y: Val<'e>, ctx: &mut SourceContext<'_>) -> Val<'e> {
    match (x, y) {
        (Val::Date(d), Val::Int(n)) | (Val::Int(n), Val::Date(d)) => {
            let days = match op {
                BinOp::Add => i64::from(d).checked_add(n),
                BinOp::Sub => i64::from(d).checked_sub(n),
                _ => return Val::Null,
            };
            match days.and_then(date_in_range) {
                Some(days) => Val::Date(days),
                None => fail(ctx, DATE_OVERFLOW),
            }
        }
        (Val::Date(a), Val::Date(b)) => Val::Int(i64::from(a) - i64::from(b)),
        (Val::Ts(t), Val::Int(n)) | (Val::Int(n), Val::Ts(t)) => {
            let micros = n.checked_mul(1_000_000);
            let micros = match op {
                BinOp::Add => micros.and_then(|m| t.checked_add(m)),
                BinOp::Sub => micros.and_then(|m| t.checked_sub(m)),
                _ => return Val::Null,
            };
            match timestamp_in_range(micros) {
                Some(t) => Val::Ts(t),
                None => fail(ctx, DATE_OVERFLOW),
            }
        }
        (Val::Ts(a), Val::Ts(b)) => int(ctx, a.checked_sub(b).map(|d| d.div_euclid(1_000_000))),
        _ if op == BinOp::Div => match (as_f64(x), as_f64(y)) {
            (Some(_), Some(0.0)) => Val::Null,
            (Some(n), Some(d)) => float(ctx, n / d),
            _ => Val::Null,
        },
        (Val::Int(a), Val::Int(b)) => match op {
            BinOp::Add => int(ctx, a.checked_add(b)),
            BinOp::Sub => int(ctx, a.checked_sub(b)),
            BinOp::Mul => int(ctx, a.checked_mul(b)),
            _ if b == 0 => Val::Null,
            // The remainder of the smallest integer by -1 is 0.
            _ => Val::Int(a.wrapping_rem(b)),
        },
        (Val::Float(_), _) | (_, Val::Float(_)) => {
            let (Some(a), Some(b)) = (as_f64(x), as_f64(y)) else {
                return Val::Null;
            };
            float(
                ctx,
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    _ if b == 0.0 => return Val::Null,
                    _ => a % b,
                },
            )
        }
        // Intervals last: the common arithmetic is on numbers.
        (Val::Date(_) | Val::Ts(_), Val::Interval(..))
        | (Val::Interval(..), Val::Date(_) | Val::Ts(_)) => {
            let (moment, Val::Interval(months, micros)) = (match x {
                Val::Interval(..) => (y, x),
                _ => (x, y),
            }) else {
                return Val::Null;
            };
            let sign = if op == BinOp::Sub { -1 } else { 1 };
            let at = match moment {
                Val::Date(d) => i64::from(d) * 86_400_000_000,
                Val::Ts(t) => t,
                _ => return Val::Null,
            };
            let moved = interval::timestamp_plus(at, sign, months, micros).map(Val::Ts);
            moved.unwrap_or_else(|| fail(ctx, DATE_OVERFLOW))
        }
        (Val::Interval(a, b), Val::Interval(c, d)) => {
            let sum = match op {
                BinOp::Add => a.checked_add(c).zip(b.checked_add(d)),
                _ => a.checked_sub(c).zip(b.checked_sub(d)),
            };
            sum.map_or_else(
                || fail(ctx, INTERVAL_OVERFLOW),
                |(m, us)| Val::Interval(m, us),
            )
        }
        (Val::Interval(m, us), Val::Int(n)) | (Val::Int(n), Val::Interval(m, us)) => {
            m.checked_mul(n).zip(us.checked_mul(n)).map_or_else(
                || fail(ctx, INTERVAL_OVERFLOW),
                |(m, us)| Val::Interval(m, us),
            )
        }
        _ => {
            let (Some((a, s)), Some((b, t))) = (as_dec(x), as_dec(y)) else {
                return Val::Null;
            };
            match op {
                BinOp::Mul => {
                    let scale = (s + t).min(9);
                    // Two 64-bit factors (the usual case) multiply exactly
                    // in 128 bits; wider ones are checked.
                    let product = match (i64::try_from(a), i64::try_from(b)) {
                        (Ok(x), Ok(y)) => Some(i128::from(x) * i128::from(y)),
                        _ => a.checked_mul(b),
                    };
                    match product {
                        Some(p) => decimal(ctx, rescale(p, s + t, scale), scale),
                        None => fail(ctx, DECIMAL_OVERFLOW),
                    }
                }
                _ => {
                    let m = s.max(t);
                    let (a, b) = (rescale(a, s, m), rescale(b, t, m));
                    match op {
                        BinOp::Add => decimal(ctx, a + b, m),
                        BinOp::Sub => decimal(ctx, a - b, m),
                        _ if b == 0 => Val::Null,
                        _ => Val::Dec(a % b, m),
                    }
                }
            }
        }
    }
}

/// `x`, or a problem when it is not finite.
fn float<'e>(ctx: &mut SourceContext<'_>, x: f64) -> Val<'e> {
    if x.is_finite() {
        Val::Float(x)
    } else {
        fail(ctx, FLOAT_OVERFLOW)
    }
}

/// `units` at `scale`, or a problem when beyond what a decimal column
/// holds (64-bit units).
fn decimal<'e>(ctx: &mut SourceContext<'_>, units: i128, scale: u8) -> Val<'e> {
    if i64::try_from(units).is_ok() {
        Val::Dec(units, scale)
    } else {
        fail(ctx, DECIMAL_OVERFLOW)
    }
}

fn push_val(ctx: &mut SourceContext<'_>, v: Val<'_>) {
    let piece: &str = match v {
        Val::Null | Val::Interval(..) => return, // intervals are refused in `concat` when checked
        Val::Text(Txt::Lit(s)) => s,
        Val::Text(Txt::Row(s, e)) => {
            let (s, e) = (s as usize, e as usize);
            ctx.out().extend_from_within(s..e);
            return;
        }
        Val::Text(Txt::Parent(s, e)) => {
            if let Some(parent) = ctx.parent_block() {
                ctx.out().push_str(parent.str(s, e));
            }
            return;
        }
        Val::Int(i) => {
            ctx.out().push_str(itoa::Buffer::new().format(i));
            return;
        }
        Val::Float(f) => {
            text::float(ctx.out(), f);
            return;
        }
        Val::Dec(u, s) => {
            text::decimal(ctx.out(), u as i64, s);
            return;
        }
        Val::Bool(b) => {
            if b {
                "true"
            } else {
                "false"
            }
        }
        Val::Date(d) => {
            text::date(ctx.out(), d);
            return;
        }
        Val::Ts(t) => {
            text::timestamp(ctx.out(), t);
            return;
        }
    };
    ctx.out().push_str(piece);
}

fn row_text<'e>(ctx: &SourceContext<'_>, start: u32) -> Val<'e> {
    match ctx.text_since(start) {
        Value::Text(s, e) => Val::Text(Txt::Row(s, e)),
        _ => Val::Null,
    }
}

fn call<'e>(f: Func, args: &'e [Expr], ty: Ty, ctx: &mut SourceContext<'_>) -> Val<'e> {
    match f {
        Func::If => match eval(&args[0], ctx) {
            Val::Bool(true) => eval(&args[1], ctx),
            _ => eval(&args[2], ctx),
        },
        Func::Coalesce => match eval(&args[0], ctx) {
            Val::Null => eval(&args[1], ctx),
            v => v,
        },
        Func::IsNull => Val::Bool(eval(&args[0], ctx) == Val::Null),
        Func::Span(unit) => match eval(&args[0], ctx) {
            Val::Int(n) => interval::of(unit, n).map_or_else(
                || fail(ctx, INTERVAL_OVERFLOW),
                |(m, us)| Val::Interval(m, us),
            ),
            _ => Val::Null,
        },
        Func::Concat => {
            let start = ctx.text_start();
            for a in args {
                let mark = ctx.text_start();
                match eval(a, ctx) {
                    // Made by the argument itself, at the end of the arena:
                    // drop whatever it left before its result, keep the result.
                    Val::Text(Txt::Row(s, e)) if s >= mark && e == ctx.text_start() => {
                        ctx.out().replace_range(mark as usize..s as usize, "");
                    }
                    v => {
                        // Text made by the argument but not kept is discarded first.
                        ctx.out().truncate(mark as usize);
                        push_val(ctx, v);
                    }
                }
            }
            row_text(ctx, start)
        }
        Func::Lower | Func::Upper => {
            let v = eval(&args[0], ctx);
            let Val::Text(t) = v else {
                return Val::Null;
            };
            let start = ctx.text_start();
            let (mut i, end, src_row) = match t {
                Txt::Row(s, e) => (s as usize, e as usize, true),
                _ => (0, 0, false),
            };
            if src_row {
                while i < end {
                    let c = ctx.block().text[i..].chars().next().unwrap_or(' ');
                    i += c.len_utf8();
                    if f == Func::Lower {
                        ctx.out().extend(c.to_lowercase());
                    } else {
                        ctx.out().extend(c.to_uppercase());
                    }
                }
            } else {
                let source = match t {
                    Txt::Parent(s, e) => ctx.parent_block().map_or("", |b| b.str(s, e)),
                    Txt::Lit(s) => s,
                    Txt::Row(..) => "",
                };
                for c in source.chars() {
                    if f == Func::Lower {
                        ctx.out().extend(c.to_lowercase());
                    } else {
                        ctx.out().extend(c.to_uppercase());
                    }
                }
            }
            row_text(ctx, start)
        }
        Func::Length => match eval(&args[0], ctx) {
            Val::Text(t) => Val::Int(text(ctx, t).chars().count() as i64),
            _ => Val::Null,
        },
        Func::Abs => match eval(&args[0], ctx) {
            Val::Int(i) => int(ctx, i.checked_abs()),
            Val::Float(x) => Val::Float(x.abs()),
            Val::Dec(u, s) => Val::Dec(u.abs(), s),
            _ => Val::Null,
        },
        Func::Min | Func::Max => {
            let (a, b) = (eval(&args[0], ctx), eval(&args[1], ctx));
            if a == Val::Null || b == Val::Null {
                return Val::Null;
            }
            match compare(a, b, ctx) {
                Some(o) if (o == std::cmp::Ordering::Greater) == (f == Func::Max) => a,
                Some(_) => b,
                None => Val::Null,
            }
        }
        Func::Round => {
            let v = eval(&args[0], ctx);
            match (v, ty) {
                (Val::Int(i), _) => Val::Int(i),
                (_, Ty::Decimal(s)) => match v {
                    Val::Dec(u, from) => Val::Dec(rescale(u, from, s), s),
                    Val::Float(x) => match whole((x * pow10(s) as f64).round()) {
                        Some(u) => decimal(ctx, i128::from(u), s),
                        None => fail(ctx, DECIMAL_OVERFLOW),
                    },
                    _ => Val::Null,
                },
                (_, Ty::Int) => match v {
                    Val::Dec(u, from) => int(ctx, i64::try_from(rescale(u, from, 0)).ok()),
                    Val::Float(x) => int(ctx, whole(x.round())),
                    _ => Val::Null,
                },
                (_, _) => {
                    let digits = match eval(&args[1], ctx) {
                        Val::Int(d) => d.clamp(-15, 15) as i32,
                        _ => return Val::Null,
                    };
                    as_f64(v).map_or(Val::Null, |x| {
                        let p = 10f64.powi(digits);
                        Val::Float((x * p).round() / p)
                    })
                }
            }
        }
        Func::YearsBetween | Func::DaysBetween => {
            let (a, b) = (eval(&args[0], ctx), eval(&args[1], ctx));
            let (Some(a), Some(b)) = (date_of(a), date_of(b)) else {
                return Val::Null;
            };
            if f == Func::DaysBetween {
                return Val::Int((b - a).num_days());
            }
            let mut years = i64::from(b.year() - a.year());
            if (b.month(), b.day()) < (a.month(), a.day()) {
                years -= 1;
            }
            Val::Int(years)
        }
        Func::Year | Func::Month | Func::Day => match date_of(eval(&args[0], ctx)) {
            Some(d) => Val::Int(i64::from(match f {
                Func::Year => d.year(),
                Func::Month => d.month() as i32,
                _ => d.day() as i32,
            })),
            None => Val::Null,
        },
        Func::Date | Func::Timestamp => Val::Null, // folded into constants when checked
    }
}

/// `x` as an `i64` when it is a whole number in range.
fn whole(x: f64) -> Option<i64> {
    // 2^63 is the first double beyond i64; -2^63 is i64::MIN itself.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    (-TWO_63..TWO_63).contains(&x).then_some(x as i64)
}

/// Stores an evaluated value as a column of type `sql`.
pub fn store(ctx: &mut SourceContext<'_>, v: Val<'_>, sql: SqlType) -> Value {
    match (v, sql) {
        (Val::Null, _) => Value::Null,
        (_, SqlType::Decimal { scale, .. }) => {
            let units = match v {
                Val::Dec(u, s) => i64::try_from(rescale(u, s, scale)).ok(),
                Val::Int(i) => i64::try_from(rescale(i128::from(i), 0, scale)).ok(),
                Val::Float(x) => whole((x * pow10(scale) as f64).round()),
                _ => return Value::Null,
            };
            match units {
                Some(u) => Value::Decimal(u),
                None => {
                    ctx.fail(DECIMAL_OVERFLOW);
                    Value::Null
                }
            }
        }
        (_, SqlType::Double) => as_f64(v).map_or(Value::Null, Value::Float),
        (Val::Int(i), _) => Value::Int(i),
        (Val::Float(x), _) => Value::Float(x),
        (Val::Dec(u, s), _) => Value::Float(u as f64 / pow10(s) as f64),
        (Val::Bool(b), _) => Value::Bool(b),
        (Val::Text(Txt::Row(s, e)), _) => Value::Text(s, e),
        (Val::Text(t), _) => {
            let start = ctx.text_start();
            push_val(ctx, Val::Text(t));
            ctx.text_since(start)
        }
        (Val::Date(d), _) => Value::Date(d),
        (Val::Ts(t), _) => Value::Timestamp(t),
        (Val::Interval(..), _) => Value::Null, // refused as a column's value when checked
    }
}
