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

use std::ops::Range;

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
    /// The literal `null`: fits any type.
    Null,
}

impl Ty {
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
}

const FUNCS: &[(&str, Func)] = &[
    ("if", Func::If),
    ("date", Func::Date),
    ("timestamp", Func::Timestamp),
    ("years_between", Func::YearsBetween),
    ("days_between", Func::DaysBetween),
    ("year", Func::Year),
    ("month", Func::Month),
    ("day", Func::Day),
    ("round", Func::Round),
    ("abs", Func::Abs),
    ("min", Func::Min),
    ("max", Func::Max),
    ("coalesce", Func::Coalesce),
    ("is_null", Func::IsNull),
    ("lower", Func::Lower),
    ("upper", Func::Upper),
    ("concat", Func::Concat),
    ("length", Func::Length),
];

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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Str(String),
    Name(String),
    Sym(&'static str),
    End,
}

fn lex(src: &str) -> Result<Vec<(Tok, Range<usize>)>, ExprError> {
    let bytes = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            toks.push((Tok::Num(src[start..i].replace('_', "")), start..i));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            toks.push((Tok::Name(src[start..i].to_owned()), start..i));
            continue;
        }
        if c == b'\'' || c == b'"' {
            i += 1;
            let mut text = String::new();
            loop {
                let Some(ch) = src[i..].chars().next() else {
                    return Err(ExprError::new(start..src.len(), "unterminated string")
                        .help("close it with a matching quote"));
                };
                i += ch.len_utf8();
                if ch as u32 == u32::from(c) {
                    // A doubled quote stands for itself.
                    if bytes.get(i) == Some(&c) {
                        text.push(ch);
                        i += 1;
                        continue;
                    }
                    break;
                }
                text.push(ch);
            }
            toks.push((Tok::Str(text), start..i));
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let sym = match two {
            "==" | "!=" | "<=" | ">=" => Some(two),
            _ => None,
        };
        let sym: &'static str = match sym.or_else(|| src.get(i..i + 1)) {
            Some("==") => "==",
            Some("!=") => "!=",
            Some("<=") => "<=",
            Some(">=") => ">=",
            Some("<") => "<",
            Some(">") => ">",
            Some("+") => "+",
            Some("-") => "-",
            Some("*") => "*",
            Some("/") => "/",
            Some("%") => "%",
            Some("(") => "(",
            Some(")") => ")",
            Some(",") => ",",
            Some(".") => ".",
            Some("=") => {
                return Err(
                    ExprError::new(i..i + 1, "`=` is not an operator").help("compare with `==`")
                );
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or(' ');
                return Err(ExprError::new(
                    i..i + ch.len_utf8(),
                    format!("unexpected character `{ch}`"),
                ));
            }
        };
        i += sym.len();
        toks.push((Tok::Sym(sym), start..i));
    }
    toks.push((Tok::End, src.len()..src.len()));
    Ok(toks)
}

/// Parses and checks `src` against `scope`.
pub fn parse(src: &str, scope: &dyn Scope) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        scope,
    };
    let e = p.or()?;
    match &p.toks[p.pos] {
        (Tok::End, _) => Ok(e),
        (_, span) => Err(
            ExprError::new(span.clone(), "unexpected text after the expression")
                .help("join conditions with `and` / `or`"),
        ),
    }
}

struct Parser<'s> {
    toks: Vec<(Tok, Range<usize>)>,
    pos: usize,
    scope: &'s dyn Scope,
}

type Parsed = Result<(Expr, Range<usize>), ExprError>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn span(&self) -> Range<usize> {
        self.toks[self.pos].1.clone()
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(t) if *t == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Tok::Name(n) if n == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        self.spanned_or().map(|(e, _)| e)
    }

    fn spanned_or(&mut self) -> Parsed {
        let (mut left, mut span) = self.and()?;
        while self.eat_word("or") {
            let (right, rspan) = self.and()?;
            span = span.start..rspan.end;
            left = logic(BinOp::Or, left, right, &span)?;
        }
        Ok((left, span))
    }

    fn and(&mut self) -> Parsed {
        let (mut left, mut span) = self.not()?;
        while self.eat_word("and") {
            let (right, rspan) = self.not()?;
            span = span.start..rspan.end;
            left = logic(BinOp::And, left, right, &span)?;
        }
        Ok((left, span))
    }

    fn not(&mut self) -> Parsed {
        let start = self.span();
        if self.eat_word("not") {
            let (e, span) = self.not()?;
            let span = start.start..span.end;
            if !matches!(e.ty, Ty::Bool | Ty::Null) {
                return Err(ExprError::new(
                    span,
                    format!("`not` needs a boolean, found {}", e.ty.name()),
                ));
            }
            return Ok((
                Expr {
                    node: Node::Not(Box::new(e)),
                    ty: Ty::Bool,
                },
                span,
            ));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Parsed {
        let (left, lspan) = self.add()?;
        let op = match self.peek() {
            Tok::Sym("==") => BinOp::Eq,
            Tok::Sym("!=") => BinOp::Ne,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym(">=") => BinOp::Ge,
            _ => return Ok((left, lspan)),
        };
        self.pos += 1;
        let (right, rspan) = self.add()?;
        let span = lspan.start..rspan.end;
        let comparable = left.ty == Ty::Null
            || right.ty == Ty::Null
            || (left.ty.numeric() && right.ty.numeric())
            || same_kind(left.ty, right.ty);
        if !comparable {
            return Err(ExprError::new(
                span,
                format!("cannot compare {} with {}", left.ty.name(), right.ty.name()),
            ));
        }
        Ok((
            Expr {
                node: Node::Binary(op, Box::new(left), Box::new(right)),
                ty: Ty::Bool,
            },
            span,
        ))
    }

    fn add(&mut self) -> Parsed {
        let (mut left, mut span) = self.mul()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinOp::Add,
                Tok::Sym("-") => BinOp::Sub,
                _ => return Ok((left, span)),
            };
            self.pos += 1;
            let (right, rspan) = self.mul()?;
            span = span.start..rspan.end;
            left = arith(op, left, right, &span)?;
        }
    }

    fn mul(&mut self) -> Parsed {
        let (mut left, mut span) = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinOp::Mul,
                Tok::Sym("/") => BinOp::Div,
                Tok::Sym("%") => BinOp::Rem,
                _ => return Ok((left, span)),
            };
            self.pos += 1;
            let (right, rspan) = self.unary()?;
            span = span.start..rspan.end;
            left = arith(op, left, right, &span)?;
        }
    }

    fn unary(&mut self) -> Parsed {
        let start = self.span();
        if self.eat_sym("-") {
            let (e, span) = self.unary()?;
            let span = start.start..span.end;
            if !e.ty.numeric() {
                return Err(ExprError::new(
                    span,
                    format!("cannot negate {}", e.ty.name()),
                ));
            }
            let ty = e.ty;
            return Ok((
                Expr {
                    node: Node::Neg(Box::new(e)),
                    ty,
                },
                span,
            ));
        }
        self.primary()
    }

    fn primary(&mut self) -> Parsed {
        let (tok, span) = self.toks[self.pos].clone();
        self.pos += 1;
        let konst = |c: Const, ty: Ty| {
            Ok((
                Expr {
                    node: Node::Const(c),
                    ty,
                },
                span.clone(),
            ))
        };
        match tok {
            Tok::Num(n) => {
                if n.contains('.') {
                    match n.parse::<f64>() {
                        Ok(f) => konst(Const::Float(f), Ty::Float),
                        Err(_) => Err(ExprError::new(
                            span.clone(),
                            format!("`{n}` is not a number"),
                        )),
                    }
                } else {
                    match n.parse::<i64>() {
                        Ok(i) => konst(Const::Int(i), Ty::Int),
                        Err(_) => Err(ExprError::new(span.clone(), format!("`{n}` is too large"))),
                    }
                }
            }
            Tok::Str(s) => konst(Const::Text(s), Ty::Text),
            Tok::Name(n) if n == "true" => konst(Const::Bool(true), Ty::Bool),
            Tok::Name(n) if n == "false" => konst(Const::Bool(false), Ty::Bool),
            Tok::Name(n) if n == "null" => konst(Const::Null, Ty::Null),
            Tok::Name(n) if n == "parent" && self.eat_sym(".") => {
                let (name, nspan) = match self.toks[self.pos].clone() {
                    (Tok::Name(name), s) => (name, s),
                    (_, s) => {
                        return Err(ExprError::new(s, "expected a column name after `parent.`"))
                    }
                };
                self.pos += 1;
                let full = span.start..nspan.end;
                let (i, ty) = self
                    .scope
                    .parent(&name)
                    .map_err(|m| ExprError::new(full.clone(), m))?;
                Ok((
                    Expr {
                        node: Node::Parent(i),
                        ty,
                    },
                    full,
                ))
            }
            Tok::Name(n) if self.peek() == &Tok::Sym("(") => {
                self.pos += 1;
                let Some(&(_, func)) = FUNCS.iter().find(|(name, _)| *name == n) else {
                    let names = FUNCS.iter().map(|(name, _)| *name);
                    let err = ExprError::new(span.clone(), format!("unknown function `{n}`"));
                    return Err(match super::diag::nearest(&n, names.clone()) {
                        Some(near) => err.help(format!("did you mean `{near}`?")),
                        None => err.help(format!(
                            "functions: {}",
                            names.collect::<Vec<_>>().join(", ")
                        )),
                    });
                };
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.spanned_or()?);
                        if self.eat_sym(")") {
                            break;
                        }
                        if !self.eat_sym(",") {
                            return Err(ExprError::new(self.span(), "expected `,` or `)`"));
                        }
                    }
                }
                let end = self.toks[self.pos - 1].1.end;
                let full = span.start..end;
                let e = call(func, &n, args, &full)?;
                Ok((e, full))
            }
            Tok::Name(n) => {
                let (i, ty) = self
                    .scope
                    .column(&n)
                    .map_err(|m| ExprError::new(span.clone(), m))?;
                Ok((
                    Expr {
                        node: Node::Column(i),
                        ty,
                    },
                    span,
                ))
            }
            Tok::Sym("(") => {
                let (e, _) = self.spanned_or()?;
                if !self.eat_sym(")") {
                    return Err(ExprError::new(self.span(), "expected `)`"));
                }
                let end = self.toks[self.pos - 1].1.end;
                Ok((e, span.start..end))
            }
            Tok::End => Err(ExprError::new(span, "the expression ends too soon")),
            Tok::Sym(s) => Err(ExprError::new(span, format!("unexpected `{s}`"))),
        }
    }
}

fn same_kind(a: Ty, b: Ty) -> bool {
    matches!(
        (a, b),
        (Ty::Text, Ty::Text)
            | (Ty::Bool, Ty::Bool)
            | (Ty::Date, Ty::Date)
            | (Ty::Timestamp, Ty::Timestamp)
    )
}

fn logic(op: BinOp, left: Expr, right: Expr, span: &Range<usize>) -> Result<Expr, ExprError> {
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
        _ => return None,
    })
}

fn arith(op: BinOp, left: Expr, right: Expr, span: &Range<usize>) -> Result<Expr, ExprError> {
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

fn call(
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
        Func::Concat => {
            if args.is_empty() {
                return Err(ExprError::new(
                    span.clone(),
                    "`concat` needs at least one argument",
                ));
            }
            Ty::Text
        }
    };
    Ok(Expr {
        node: Node::Call(func, args.into_iter().map(|(e, _)| e).collect()),
        ty,
    })
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
