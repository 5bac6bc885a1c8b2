//! Whether a column can be NULL, and which columns a column reads.

use crate::expr::{self, Expr, Node};
use crate::schema::*;

pub(super) fn gen_nullable(
    gen: &Gen,
    row: &dyn Fn(usize) -> bool,
    parent: &dyn Fn(usize) -> bool,
    tables: &[Table],
) -> bool {
    match gen {
        Gen::Parent { column } => parent(*column),
        Gen::Expr { expr, .. } => expr_nullable(expr, row, parent),
        Gen::Lookup { via, table, column } => row(*via) || tables[*table].columns[*column].nullable,
        Gen::Agg { func, .. } => !matches!(func, AggFunc::Sum | AggFunc::Count),
        // A bound computed from a NULL makes the value NULL.
        Gen::Catalogue(g) => {
            g.spec.may_be_null()
                || g.spec.null_from_exprs() && g.exprs.iter().any(|e| expr_nullable(e, row, parent))
        }
        Gen::Cases(cases) => {
            cases.last().is_none_or(|c| c.when.is_some())
                || cases
                    .iter()
                    .any(|c| gen_nullable(&c.gen, row, parent, tables))
        }
        _ => false,
    }
}

fn expr_nullable(e: &Expr, row: &dyn Fn(usize) -> bool, parent: &dyn Fn(usize) -> bool) -> bool {
    use crate::expr::{BinOp, Const, Func};
    match &e.node {
        Node::Const(c) => *c == Const::Null,
        Node::Column(i) => row(*i),
        Node::Parent(i) => parent(*i),
        Node::Neg(x) | Node::Not(x) => expr_nullable(x, row, parent),
        Node::Binary(BinOp::Div | BinOp::Rem, _, _) => true,
        Node::Binary(_, a, b) => expr_nullable(a, row, parent) || expr_nullable(b, row, parent),
        Node::Call(Func::IsNull, _) => false,
        Node::Call(Func::Coalesce, args) => args.iter().all(|a| expr_nullable(a, row, parent)),
        Node::Call(Func::If, args) => args[1..].iter().any(|a| expr_nullable(a, row, parent)),
        Node::Call(_, args) => args.iter().any(|a| expr_nullable(a, row, parent)),
    }
}

/// The row and parent columns a generator reads.
pub fn gen_columns(gen: &Gen, row: &mut Vec<usize>, parent: &mut Vec<usize>) {
    match gen {
        Gen::Expr { expr: e, .. } => expr::columns(e, row, parent),
        Gen::Catalogue(g) => {
            row.extend(&g.reads);
            for e in &g.exprs {
                expr::columns(e, row, parent);
            }
        }
        Gen::Lookup { via, .. } => row.push(*via),
        Gen::Parent { column } => parent.push(*column),
        Gen::Cases(cases) => {
            for c in cases {
                if let Some(w) = &c.when {
                    expr::columns(w, row, parent);
                }
                gen_columns(&c.gen, row, parent);
            }
        }
        _ => {}
    }
}

/// The columns of `table` that computing column `column` reads, directly
/// or through the columns it reads, itself included, in column order.
pub fn needed_columns(table: &Table, column: usize) -> Vec<usize> {
    let mut needed = vec![false; table.columns.len()];
    let mut stack = vec![column];
    while let Some(c) = stack.pop() {
        if std::mem::replace(&mut needed[c], true) {
            continue;
        }
        let mut row = Vec::new();
        let mut parent = Vec::new();
        if let Some(w) = &table.columns[c].when {
            expr::columns(w, &mut row, &mut parent);
        }
        gen_columns(&table.columns[c].gen, &mut row, &mut parent);
        stack.extend(row);
    }
    (0..table.columns.len()).filter(|&c| needed[c]).collect()
}
