//! The expression language of `expr`, `when` and `cases`.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | cmp
//! cmp     := add (("==" | "!=" | "<" | "<=" | ">" | ">=") add)?
//! add     := mul (("+" | "-") mul)*
//! mul     := unary (("*" | "/" | "%") unary)*
//! unary   := "-" unary | primary
//! primary := NUMBER | STRING | "true" | "false" | "null"
//!          | NAME | "parent" "." NAME | NAME "(" [expr ("," expr)*] ")" | "(" expr ")"
//! ```
//!
//! Expressions are parsed and type-checked once, when the Genfile is
//! validated; names are resolved to column indices, so evaluation never looks
//! anything up by name and never allocates.
//!
//! * `lex`: the tokens.
//! * `parse`: the grammar above, resolving names through a [`Scope`].
//! * `check`: the type of every operator and function application.
//! * [`eval`](mod@eval): evaluation against the row being generated.

mod check;
pub mod eval;
mod interval;
mod lex;
mod parse;

use std::ops::Range;

use crate::value::SqlType;

pub use check::arith_type;
pub use eval::{eval, store, Val};
pub use parse::parse;

/// The type of an expression or a column, as expressions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Any integer.
    Int,
    /// A double.
    Float,
    /// A decimal with this many digits after the point.
    Decimal(u8),
    /// A boolean.
    Bool,
    /// Text (also JSON documents).
    Text,
    /// A date.
    Date,
    /// A timestamp.
    Timestamp,
    /// A span of calendar months and microseconds (`days(30)`,
    /// `years(18)`): added to or taken from dates and timestamps, never
    /// stored.
    Interval,
    /// The literal `null`: fits any type.
    Null,
}

impl Ty {
    /// How expressions see a column of type `sql`.
    pub fn of(sql: SqlType) -> Ty {
        match sql {
            SqlType::Integer | SqlType::BigInt => Ty::Int,
            SqlType::Double => Ty::Float,
            SqlType::Decimal { scale, .. } => Ty::Decimal(scale),
            SqlType::Boolean => Ty::Bool,
            SqlType::Text | SqlType::Uuid | SqlType::Json => Ty::Text,
            SqlType::Date => Ty::Date,
            SqlType::Timestamp => Ty::Timestamp,
        }
    }

    /// The column type that stores values of this type.
    pub fn column_type(self) -> SqlType {
        match self {
            Ty::Int => SqlType::BigInt,
            Ty::Float => SqlType::Double,
            Ty::Decimal(scale) => SqlType::Decimal {
                precision: 18,
                scale,
            },
            Ty::Bool => SqlType::Boolean,
            // An interval is refused as a column's value before this.
            Ty::Text | Ty::Null | Ty::Interval => SqlType::Text,
            Ty::Date => SqlType::Date,
            Ty::Timestamp => SqlType::Timestamp,
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Decimal(_) | Ty::Null)
    }

    /// How the type reads in messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "an integer",
            Ty::Float => "a float",
            Ty::Decimal(_) => "a decimal",
            Ty::Bool => "a boolean",
            Ty::Text => "text",
            Ty::Date => "a date",
            Ty::Timestamp => "a timestamp",
            Ty::Interval => "an interval",
            Ty::Null => "null",
        }
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (always a float result)
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `if(cond, a, b)`
    If,
    /// `date('YYYY-MM-DD')`
    Date,
    /// `timestamp('RFC 3339')`
    Timestamp,
    /// `years_between(a, b)`: whole years from date `a` to date `b`.
    YearsBetween,
    /// `days_between(a, b)`
    DaysBetween,
    /// `year(d)`
    Year,
    /// `month(d)`
    Month,
    /// `day(d)`
    Day,
    /// `round(x[, digits])`
    Round,
    /// `abs(x)`
    Abs,
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
    /// `coalesce(a, b)`
    Coalesce,
    /// `is_null(x)`
    IsNull,
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// `concat(a, b, ...)`
    Concat,
    /// `length(s)`
    Length,
    /// `years(n)`, `months(n)`, `weeks(n)`, `days(n)`, `hours(n)`,
    /// `minutes(n)`, `seconds(n)`: an interval of `n` of that unit.
    Span(Unit),
}

/// The unit of an interval function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Calendar years (twelve months).
    Years,
    /// Calendar months.
    Months,
    /// Seven days.
    Weeks,
    /// Days of 24 hours.
    Days,
    /// Hours.
    Hours,
    /// Minutes.
    Minutes,
    /// Seconds.
    Seconds,
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    /// `null`
    Null,
    /// An integer literal.
    Int(i64),
    /// A number with a point.
    Float(f64),
    /// A decimal as units of `10^-scale` (from `date`-free decimal contexts).
    Decimal(i128, u8),
    /// `true` / `false`
    Bool(bool),
    /// A string literal.
    Text(String),
    /// Days since the epoch (`date('…')` of a literal).
    Date(i32),
    /// Microseconds since the epoch (`timestamp('…')` of a literal).
    Timestamp(i64),
}

/// A checked expression: names resolved, every node typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node computes.
    pub node: Node,
    /// Its type.
    pub ty: Ty,
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A constant.
    Const(Const),
    /// An earlier column of the same row.
    Column(usize),
    /// A column of the parent row.
    Parent(usize),
    /// `-x`
    Neg(Box<Expr>),
    /// `not x`
    Not(Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args)`
    Call(Func, Vec<Expr>),
}

/// The columns an expression can see.
pub trait Scope {
    /// Index and type of the row's column `name`, if visible.
    fn column(&self, name: &str) -> Result<(usize, Ty), String>;
    /// Index and type of the parent's column `name`, if any.
    fn parent(&self, name: &str) -> Result<(usize, Ty), String>;
}

/// A problem in an expression: message and byte range within the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Where, in the expression's text.
    pub span: Range<usize>,
    /// How to fix it.
    pub help: Option<String>,
}

impl ExprError {
    /// An error; a scope's message may carry a hint after a newline.
    fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        let message = message.into();
        match message.split_once('\n') {
            Some((m, h)) => ExprError {
                message: m.to_owned(),
                span,
                help: Some(h.to_owned()),
            },
            None => ExprError {
                message,
                span,
                help: None,
            },
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every column index (of the row, and of the parent) an expression reads.
pub fn columns(e: &Expr, row: &mut Vec<usize>, parent: &mut Vec<usize>) {
    match &e.node {
        Node::Const(_) => {}
        Node::Column(i) => row.push(*i),
        Node::Parent(i) => parent.push(*i),
        Node::Neg(x) | Node::Not(x) => columns(x, row, parent),
        Node::Binary(_, a, b) => {
            columns(a, row, parent);
            columns(b, row, parent);
        }
        Node::Call(_, args) => args.iter().for_each(|a| columns(a, row, parent)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cols;

    impl Scope for Cols {
        fn column(&self, name: &str) -> Result<(usize, Ty), String> {
            match name {
                "qty" => Ok((0, Ty::Int)),
                "price" => Ok((1, Ty::Decimal(2))),
                "born" => Ok((2, Ty::Date)),
                "country" => Ok((3, Ty::Text)),
                other => Err(format!("no column `{other}`")),
            }
        }

        fn parent(&self, name: &str) -> Result<(usize, Ty), String> {
            match name {
                "id" => Ok((0, Ty::Int)),
                other => Err(format!("parent has no column `{other}`")),
            }
        }
    }

    fn ty(src: &str) -> Ty {
        parse(src, &Cols)
            .unwrap_or_else(|e| panic!("{src}: {e:?}"))
            .ty
    }

    fn err(src: &str) -> ExprError {
        parse(src, &Cols).expect_err(src)
    }

    #[test]
    fn types() {
        assert_eq!(ty("qty * price"), Ty::Decimal(2));
        assert_eq!(ty("qty * 2 + 1"), Ty::Int);
        assert_eq!(ty("qty / 2"), Ty::Float);
        assert_eq!(
            ty("years_between(born, date('2026-01-01')) >= 18"),
            Ty::Bool
        );
        assert_eq!(
            ty("country == 'BR' and not (qty > 3 or parent.id == 1)"),
            Ty::Bool
        );
        assert_eq!(ty("if(qty > 1, price, null)"), Ty::Decimal(2));
        assert_eq!(ty("concat(upper(country), '-', qty)"), Ty::Text);
        assert_eq!(ty("round(price * 1.1, 2)"), Ty::Decimal(2));
        assert_eq!(ty("born + 30"), Ty::Date);
    }

    #[test]
    fn errors_point_into_the_text() {
        let e = err("qty * pric");
        assert_eq!((e.span, e.message.as_str()), (6..10, "no column `pric`"));
        let e = err("country + 1");
        assert_eq!(e.message, "cannot apply `+` to text and an integer");
        assert_eq!(e.help.as_deref(), Some("join text with concat(a, b)"));
        assert_eq!(err("qty = 1").message, "`=` is not an operator");
        assert_eq!(
            err("yeers_between(born, born)").help.as_deref(),
            Some("did you mean `years_between`?")
        );
        assert_eq!(err("country == 'BR").message, "unterminated string");
        assert_eq!(
            err("date('2026-02-30')").message,
            "`2026-02-30` is not a valid date"
        );
        assert_eq!(err("qty >").message, "the expression ends too soon");
        assert_eq!(err("qty 3").message, "unexpected text after the expression");
        assert_eq!(
            err("if(qty, 1, 2)").message,
            "`if` needs a boolean condition, found an integer"
        );
    }
}
