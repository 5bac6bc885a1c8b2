//! Parsing an expression: the grammar of the module documentation, with
//! every name resolved through a [`Scope`] and every node typed.

use std::ops::Range;

use super::check::{arith, call, logic, same_kind};
use super::lex::{lex, Tok};
use super::{BinOp, Const, Expr, ExprError, Func, Node, Scope, Ty, Unit};
use crate::limits::{MAX_EXPR_DEPTH, MAX_EXPR_HEIGHT, MAX_EXPR_NODES};

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
    ("years", Func::Span(Unit::Years)),
    ("months", Func::Span(Unit::Months)),
    ("weeks", Func::Span(Unit::Weeks)),
    ("days", Func::Span(Unit::Days)),
    ("hours", Func::Span(Unit::Hours)),
    ("minutes", Func::Span(Unit::Minutes)),
    ("seconds", Func::Span(Unit::Seconds)),
];

/// Parses and checks `src` against `scope`. An expression longer than
/// [`MAX_EXPR_NODES`] tokens, nested deeper than [`MAX_EXPR_DEPTH`] or
/// applying more than [`MAX_EXPR_HEIGHT`] operations one on another is
/// refused, so that neither parsing nor evaluation recurses without bound.
pub fn parse(src: &str, scope: &dyn Scope) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    // The last token marks the end.
    if let Some((_, span)) = toks
        .get(MAX_EXPR_NODES)
        .filter(|_| toks.len() > MAX_EXPR_NODES + 1)
    {
        return Err(ExprError::new(
            span.clone(),
            format!("the expression is too long: more than {MAX_EXPR_NODES} names, values and operators"),
        )
        .help(SPLIT));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        scope,
        depth: 0,
    };
    let e = p.or()?;
    if let (Tok::End, _) = &p.toks[p.pos] {
        if height_exceeds(&e, MAX_EXPR_HEIGHT) {
            return Err(ExprError::new(
                0..src.len(),
                format!(
                    "the expression applies more than {MAX_EXPR_HEIGHT} operations one on another"
                ),
            )
            .help(SPLIT));
        }
        return Ok(e);
    }
    let span = p.span();
    Err(ExprError::new(span, "unexpected text after the expression")
        .help("join conditions with `and` / `or`"))
}

/// How to get under the size limits.
const SPLIT: &str = "split it: an `expr` column can use the columns before it";

/// Whether `e`'s tree is taller than `limit` (looks no deeper than that).
fn height_exceeds(e: &Expr, limit: usize) -> bool {
    if limit == 0 {
        return true;
    }
    match &e.node {
        Node::Const(_) | Node::Column(_) | Node::Parent(_) => false,
        Node::Neg(x) | Node::Not(x) => height_exceeds(x, limit - 1),
        Node::Binary(_, a, b) => height_exceeds(a, limit - 1) || height_exceeds(b, limit - 1),
        Node::Call(_, args) => args.iter().any(|a| height_exceeds(a, limit - 1)),
    }
}

struct Parser<'s> {
    toks: Vec<(Tok, Range<usize>)>,
    pos: usize,
    scope: &'s dyn Scope,
    /// How deep the parser has recursed: parentheses, calls, `not`, `-`.
    depth: usize,
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

    /// `parse`, one level deeper; refused beyond [`MAX_EXPR_DEPTH`].
    fn nested(&mut self, parse: fn(&mut Self) -> Parsed) -> Parsed {
        if self.depth >= MAX_EXPR_DEPTH {
            return Err(ExprError::new(
                self.span(),
                format!("the expression nests deeper than {MAX_EXPR_DEPTH} levels"),
            )
            .help(SPLIT));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn spanned_or(&mut self) -> Parsed {
        self.nested(Self::or_chain)
    }

    fn or_chain(&mut self) -> Parsed {
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
            let (e, span) = self.nested(Self::not)?;
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
            let (e, span) = self.nested(Self::unary)?;
            let span = start.start..span.end;
            if !e.ty.numeric() && e.ty != Ty::Interval {
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
                    return Err(match crate::diag::nearest(&n, names.clone()) {
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
