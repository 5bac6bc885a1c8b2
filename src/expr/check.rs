//! Types of operator and function applications.

use std::ops::Range;

use super::{BinOp, Const, Expr, ExprError, Func, Node, Ty};

pub(super) fn same_kind(a: Ty, b: Ty) -> bool {
    matches!(
        (a, b),
        (Ty::Text, Ty::Text)
            | (Ty::Bool, Ty::Bool)
            | (Ty::Date, Ty::Date)
            | (Ty::Timestamp, Ty::Timestamp)
    )
}

pub(super) fn logic(
    op: BinOp,
    left: Expr,
    right: Expr,
    span: &Range<usize>,
) -> Result<Expr, ExprError> {
    for side in [&left, &right] {
        if !matches!(side.ty, Ty::Bool | Ty::Null) {
            let word = if op == BinOp::And { "and" } else { "or" };
            return Err(ExprError::new(
                span.clone(),
                format!("`{word}` needs booleans, found {}", side.ty.name()),
            ));
        }
    }
    Ok(Expr {
        node: Node::Binary(op, Box::new(left), Box::new(right)),
        ty: Ty::Bool,
    })
}

/// The type of `a op b` for arithmetic, or `None` if not allowed.
pub fn arith_type(op: BinOp, a: Ty, b: Ty) -> Option<Ty> {
    use Ty::*;
    Some(match (op, a, b) {
        (_, Null, _) | (_, _, Null) => Null,
        (BinOp::Div, x, y) if x.numeric() && y.numeric() => Float,
        (_, Int, Int) => Int,
        (_, Float, y) | (_, y, Float) if y.numeric() => Float,
        (BinOp::Mul, Decimal(s), Decimal(t)) => Decimal((s + t).min(9)),
        (BinOp::Add | BinOp::Sub | BinOp::Rem, Decimal(s), Decimal(t)) => Decimal(s.max(t)),
        (_, Decimal(s), Int) | (_, Int, Decimal(s)) => Decimal(s),
        (BinOp::Add | BinOp::Sub, Date, Int) => Date,
        (BinOp::Add, Int, Date) => Date,
        (BinOp::Sub, Date, Date) => Int,
        (BinOp::Add | BinOp::Sub, Timestamp, Int) => Timestamp,
        (BinOp::Add, Int, Timestamp) => Timestamp,
        (BinOp::Sub, Timestamp, Timestamp) => Int,
        // As in SQL, a date moved by an interval is a timestamp (the
        // interval may hold hours): `born + years(16)` is that midnight.
        (BinOp::Add | BinOp::Sub, Date | Timestamp, Interval)
        | (BinOp::Add, Interval, Date | Timestamp) => Timestamp,
        (BinOp::Add | BinOp::Sub, Interval, Interval) => Interval,
        (BinOp::Mul, Interval, Int) | (BinOp::Mul, Int, Interval) => Interval,
        _ => return None,
    })
}

pub(super) fn arith(
    op: BinOp,
    left: Expr,
    right: Expr,
    span: &Range<usize>,
) -> Result<Expr, ExprError> {
    let ty = arith_type(op, left.ty, right.ty).ok_or_else(|| {
        let sym = match op {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            _ => "%",
        };
        let err = ExprError::new(
            span.clone(),
            format!(
                "cannot apply `{sym}` to {} and {}",
                left.ty.name(),
                right.ty.name()
            ),
        );
        if left.ty == Ty::Text || right.ty == Ty::Text {
            err.help("join text with concat(a, b)")
        } else {
            err
        }
    })?;
    Ok(Expr {
        node: Node::Binary(op, Box::new(left), Box::new(right)),
        ty,
    })
}

fn unify(a: Ty, b: Ty) -> Option<Ty> {
    match (a, b) {
        (x, y) if x == y => Some(x),
        (Ty::Null, y) => Some(y),
        (x, Ty::Null) => Some(x),
        (Ty::Decimal(s), Ty::Decimal(t)) => Some(Ty::Decimal(s.max(t))),
        (x, y) if x.numeric() && y.numeric() => arith_type(BinOp::Add, x, y),
        _ => None,
    }
}

pub(super) fn call(
    func: Func,
    name: &str,
    args: Vec<(Expr, Range<usize>)>,
    span: &Range<usize>,
) -> Result<Expr, ExprError> {
    let arity = |n: usize| -> Result<(), ExprError> {
        if args.len() == n {
            Ok(())
        } else {
            Err(ExprError::new(
                span.clone(),
                format!(
                    "`{name}` takes {n} argument{}, found {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                ),
            ))
        }
    };
    let want = |i: usize, ok: &dyn Fn(Ty) -> bool, what: &str| -> Result<(), ExprError> {
        let (e, s) = &args[i];
        if ok(e.ty) || e.ty == Ty::Null {
            Ok(())
        } else {
            Err(ExprError::new(
                s.clone(),
                format!("`{name}` needs {what}, found {}", e.ty.name()),
            ))
        }
    };
    let is_date = |t: Ty| matches!(t, Ty::Date | Ty::Timestamp);
    let is_text = |t: Ty| t == Ty::Text;
    let is_num = |t: Ty| t.numeric();
    let ty = match func {
        Func::If => {
            arity(3)?;
            want(0, &|t| t == Ty::Bool, "a boolean condition")?;
            unify(args[1].0.ty, args[2].0.ty).ok_or_else(|| {
                ExprError::new(
                    span.clone(),
                    format!(
                        "`if` branches differ: {} and {}",
                        args[1].0.ty.name(),
                        args[2].0.ty.name()
                    ),
                )
            })?
        }
        Func::Date | Func::Timestamp => {
            arity(1)?;
            let (e, s) = &args[0];
            let Node::Const(Const::Text(text)) = &e.node else {
                return Err(ExprError::new(
                    s.clone(),
                    format!("`{name}` takes a quoted literal, e.g. {name}('2026-01-01')"),
                ));
            };
            let value = if func == Func::Date {
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| {
                        i32::try_from((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days())
                            .ok()
                    })
                    .map(Const::Date)
            } else {
                chrono::DateTime::parse_from_rfc3339(text)
                    .ok()
                    .map(|t| Const::Timestamp(t.timestamp_micros()))
            };
            let Some(value) = value else {
                return Err(ExprError::new(
                    s.clone(),
                    format!("`{text}` is not a valid {name}"),
                ));
            };
            let ty = if func == Func::Date {
                Ty::Date
            } else {
                Ty::Timestamp
            };
            return Ok(Expr {
                node: Node::Const(value),
                ty,
            });
        }
        Func::YearsBetween | Func::DaysBetween => {
            arity(2)?;
            want(0, &is_date, "a date")?;
            want(1, &is_date, "a date")?;
            Ty::Int
        }
        Func::Year | Func::Month | Func::Day => {
            arity(1)?;
            want(0, &is_date, "a date")?;
            Ty::Int
        }
        Func::Round => {
            if args.len() != 1 {
                arity(2)?;
                want(1, &|t| t == Ty::Int, "a whole number of digits")?;
            }
            want(0, &is_num, "a number")?;
            match (args[0].0.ty, args.get(1).map(|a| &a.0.node)) {
                (Ty::Int, _) => Ty::Int,
                (_, Some(Node::Const(Const::Int(d)))) if (0..=9).contains(d) => {
                    Ty::Decimal(*d as u8)
                }
                (_, None) => Ty::Int,
                _ => Ty::Float,
            }
        }
        Func::Abs => {
            arity(1)?;
            want(0, &is_num, "a number")?;
            args[0].0.ty
        }
        Func::Min | Func::Max | Func::Coalesce => {
            arity(2)?;
            if func != Func::Coalesce && args.iter().any(|(e, _)| e.ty == Ty::Interval) {
                return Err(ExprError::new(
                    span.clone(),
                    format!("`{name}` cannot compare intervals: a month has no fixed length"),
                )
                .help("compare the dates or timestamps they give instead"));
            }
            unify(args[0].0.ty, args[1].0.ty).ok_or_else(|| {
                ExprError::new(
                    span.clone(),
                    format!(
                        "`{name}` arguments differ: {} and {}",
                        args[0].0.ty.name(),
                        args[1].0.ty.name()
                    ),
                )
            })?
        }
        Func::IsNull => {
            arity(1)?;
            Ty::Bool
        }
        Func::Lower | Func::Upper => {
            arity(1)?;
            want(0, &is_text, "text")?;
            Ty::Text
        }
        Func::Length => {
            arity(1)?;
            want(0, &is_text, "text")?;
            Ty::Int
        }
        Func::Span(_) => {
            arity(1)?;
            want(0, &|t| t == Ty::Int, "a whole number")?;
            Ty::Interval
        }
        Func::Concat => {
            if args.is_empty() {
                return Err(ExprError::new(
                    span.clone(),
                    "`concat` needs at least one argument",
                ));
            }
            if let Some((_, s)) = args.iter().find(|(e, _)| e.ty == Ty::Interval) {
                return Err(
                    ExprError::new(s.clone(), "`concat` cannot write an interval")
                        .help("add it to a date or a timestamp first"),
                );
            }
            Ty::Text
        }
    };
    Ok(Expr {
        node: Node::Call(func, args.into_iter().map(|(e, _)| e).collect()),
        ty,
    })
}
