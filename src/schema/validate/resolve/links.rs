//! Resolving the names a column gives of other columns and tables: `ref`,
//! `parent`, `lookup`, `agg` and the earlier columns a generator reads.

use std::ops::Range;

use super::super::draft::Link;
use super::nullable::gen_columns;
use super::order::unknown_table;
use super::Resolver;
use crate::diag::{nearest, Diagnostic};
use crate::expr::{self, Ty};
use crate::generators::Read;
use crate::schema::*;
use crate::value::SqlType;

/// A column reference that names no column of `table`, with the nearest
/// name (written as `prefix` + name) or the list of columns as a hint.
fn no_such_column(
    span: Range<usize>,
    message: String,
    name: &str,
    table: &str,
    prefix: &str,
    columns: &[Column],
) -> Diagnostic {
    let names = columns.iter().map(|c| c.name.as_str());
    let diag = Diagnostic::new(span, message);
    match nearest(name, names.clone()) {
        Some(n) => diag.help(format!("did you mean `{prefix}{n}`?")),
        None => diag.help(format!(
            "columns of `{table}`: {}",
            names.collect::<Vec<_>>().join(", ")
        )),
    }
}

impl Resolver<'_> {
    /// Resolves `ref`, `parent`, `lookup`, `agg` and e-mail `from`.
    pub(super) fn link(
        &mut self,
        pos: usize,
        ci: usize,
        link: &Link,
        what: &str,
        gen: &mut Gen,
    ) -> Result<SqlType, bool> {
        let table_names: Vec<String> = self.tables.iter().map(|t| t.name.clone()).collect();
        match link {
            Link::Ref { target, span } => {
                let (tp, cp) = self.table_column((pos, ci), target, span, what, &table_names)?;
                let col = &self.tables[tp].columns[cp];
                let keylike = matches!(&col.gen, Gen::Catalogue(g) if g.spec.row_key(0).is_some());
                if !keylike || !col.unique {
                    self.d.push(
                        Diagnostic::new(span.clone(), format!("{what}: `{target}` cannot be referenced"))
                            .help("a referenced column must be a sequence or uuid with `primary_key = true` or `unique = true`"),
                    );
                    return Err(false);
                }
                let ty = col.sql_type;
                if let Gen::Ref { dist, .. } = *gen {
                    *gen = Gen::Ref {
                        table: tp,
                        column: cp,
                        dist,
                    };
                }
                Ok(ty)
            }
            Link::Parent { column: pc, span } => {
                let Some(pp) = self.parent_of(pos) else {
                    self.d.push(
                        Diagnostic::new(span.clone(), format!("{what}: `parent` is only for tables with `per`"))
                            .help("add `per = { parent = \"TABLE\", count = ... }` to the table, or use `ref`"),
                    );
                    return Err(false);
                };
                let parent = &self.tables[pp];
                let Some(cp) = parent.column_index(pc) else {
                    let message = format!(
                        "{what}: parent table `{}` has no column `{pc}`",
                        parent.name
                    );
                    let diag = no_such_column(
                        span.clone(),
                        message,
                        pc,
                        &parent.name,
                        "",
                        &parent.columns,
                    );
                    self.d.push(diag);
                    return Err(false);
                };
                if self.late[pp][cp] {
                    self.d.push(Diagnostic::new(span.clone(), format!("{what}: `{pc}` summarises the children, so the children cannot read it")));
                    return Err(false);
                }
                *gen = Gen::Parent { column: cp };
                Ok(self.tables[pp].columns[cp].sql_type)
            }
            Link::Reads(reads, exprs) => {
                let mut indices = Vec::with_capacity(reads.len());
                for read in reads {
                    indices.push(self.read(pos, ci, read, what)?);
                }
                let mut checked = Vec::with_capacity(exprs.len());
                for p in exprs {
                    let e = self.value(pos, ci, &p.src, &p.span, what)?;
                    if e.ty != Ty::Null && !p.want.contains(&e.ty) {
                        let wanted: Vec<&str> = p.want.iter().map(|t| t.name()).collect();
                        self.d.push(
                            Diagnostic::new(
                                p.span.clone(),
                                format!(
                                    "{what}: `{}` must be {}, found {}",
                                    p.key,
                                    wanted.join(" or "),
                                    e.ty.name()
                                ),
                            )
                            .help(if p.want.contains(&Ty::Int) {
                                "e.g. \"parent.quantity + 1\""
                            } else {
                                "e.g. \"parent.signed_up + days(1)\""
                            }),
                        );
                        return Err(false);
                    }
                    checked.push(e);
                }
                let Gen::Catalogue(g) = gen else {
                    unreachable!("only catalogue generators read columns")
                };
                g.reads = indices;
                g.exprs = checked;
                Ok(g.spec.sql_type())
            }
            Link::Lookup {
                target,
                via,
                span,
                via_span,
            } => {
                let (tp, cp) = self.table_column((pos, ci), target, span, what, &table_names)?;
                let table = &self.tables[pos];
                let Some(vi) = table.columns[..ci].iter().position(|c| &c.name == via) else {
                    self.d.push(
                        Diagnostic::new(
                            via_span.clone(),
                            format!("{what}: `via` names no earlier column `{via}`"),
                        )
                        .help(format!(
                            "name a `ref = \"{}.…\"` column above this one",
                            target.split('.').next().unwrap_or("")
                        )),
                    );
                    return Err(false);
                };
                match table.columns[vi].gen {
                    Gen::Ref { table: rt, .. } if rt == tp => {}
                    _ => {
                        self.d.push(
                            Diagnostic::new(via_span.clone(), format!("{what}: `{via}` is not a `ref` to table `{}`", self.tables[tp].name))
                                .help("a lookup reads the row that a `ref` column of the same row points at"),
                        );
                        return Err(false);
                    }
                }
                if let Some(why) = self.row_independent(tp, cp) {
                    self.d.push(Diagnostic::new(
                        span.clone(),
                        format!("{what}: cannot look up `{target}`: {why}"),
                    ));
                    return Err(false);
                }
                *gen = Gen::Lookup {
                    via: vi,
                    table: tp,
                    column: cp,
                };
                Ok(self.tables[tp].columns[cp].sql_type)
            }
            Link::Agg {
                func,
                child,
                column,
                span,
            } => {
                let Some(&cp_table) = self.names.get(child) else {
                    self.d.push(unknown_table(
                        span.clone(),
                        &self.tables[pos].name,
                        child,
                        &[],
                    ));
                    return Err(false);
                };
                if self.parent_of(cp_table) != Some(pos) {
                    self.d.push(
                        Diagnostic::new(
                            span.clone(),
                            format!(
                                "{what}: `{child}` is not a child of `{}`",
                                self.tables[pos].name
                            ),
                        )
                        .help(format!(
                            "aggregate a table declared with `per = {{ parent = \"{}\", ... }}`",
                            self.tables[pos].name
                        )),
                    );
                    return Err(false);
                }
                let child_table = &self.tables[cp_table];
                let (cc, ty) = match column {
                    None => (0, SqlType::BigInt),
                    Some(name) => {
                        let Some(cc) = child_table.column_index(name) else {
                            let message = format!("{what}: table `{child}` has no column `{name}`");
                            let diag = no_such_column(
                                span.clone(),
                                message,
                                name,
                                child,
                                "",
                                &child_table.columns,
                            );
                            self.d.push(diag);
                            return Err(false);
                        };
                        if !self.resolved[cp_table][cc] {
                            return Err(false);
                        }
                        (cc, child_table.columns[cc].sql_type)
                    }
                };
                let numeric = matches!(Ty::of(ty), Ty::Int | Ty::Float | Ty::Decimal(_));
                let out = match func {
                    AggFunc::Count => SqlType::BigInt,
                    AggFunc::Sum | AggFunc::Avg if !numeric => {
                        self.d.push(Diagnostic::new(
                            span.clone(),
                            format!("{what}: cannot sum or average {}", Ty::of(ty).name()),
                        ));
                        return Err(false);
                    }
                    AggFunc::Sum => match Ty::of(ty) {
                        Ty::Int => SqlType::BigInt,
                        Ty::Decimal(scale) => SqlType::Decimal {
                            precision: 18,
                            scale,
                        },
                        _ => SqlType::Double,
                    },
                    AggFunc::Avg => match Ty::of(ty) {
                        Ty::Decimal(scale) => SqlType::Decimal {
                            precision: 18,
                            scale,
                        },
                        _ => SqlType::Double,
                    },
                    AggFunc::Min | AggFunc::Max => ty,
                };
                *gen = Gen::Agg {
                    func: *func,
                    child: cp_table,
                    column: cc,
                };
                Ok(out)
            }
            Link::Expr { .. } | Link::Cases(_) => unreachable!("resolved by the caller"),
        }
    }

    /// Why column `cp` of table `tp` cannot be computed from its row index
    /// alone, if it cannot.
    fn row_independent(&self, tp: usize, cp: usize) -> Option<String> {
        let table = &self.tables[tp];
        let mut stack = vec![cp];
        let mut seen = vec![false; table.columns.len()];
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c], true) {
                continue;
            }
            let column = &table.columns[c];
            if column.late || self.late[tp][c] {
                return Some(format!("`{}` summarises its row's children", column.name));
            }
            let mut row = Vec::new();
            let mut parent = Vec::new();
            if let Some(w) = &column.when {
                expr::columns(w, &mut row, &mut parent);
            }
            gen_columns(&column.gen, &mut row, &mut parent);
            if !parent.is_empty() {
                return Some(format!("`{}` reads its parent row", column.name));
            }
            stack.extend(row);
        }
        None
    }

    /// The index of the earlier column `read` names for column `ci` of
    /// table `pos`; `Err(true)` when that column summarises the children
    /// and is not resolved yet.
    fn read(&mut self, pos: usize, ci: usize, read: &Read, what: &str) -> Result<usize, bool> {
        let table = &self.tables[pos];
        let Read {
            key,
            column: from,
            span,
            help,
        } = read;
        match table.columns[..ci].iter().position(|o| &o.name == from) {
            Some(fi) if self.late[pos][fi] && !self.resolved[pos][fi] => Err(true),
            Some(fi) => Ok(fi),
            // A column whose own problem is reported already.
            None if self.failed[pos].contains(from) => Err(false),
            None => {
                let later = table.columns[ci + 1..].iter().any(|o| &o.name == from);
                let name = &table.columns[ci].name;
                if from == name {
                    self.d.push(
                        Diagnostic::new(
                            span.clone(),
                            format!("{what}: `{key}` names the column itself"),
                        )
                        .help("a column is made from the columns before it: name one of those"),
                    );
                    return Err(false);
                }
                let diag = Diagnostic::new(
                    span.clone(),
                    format!("{what}: `{key}` names no earlier column `{from}`"),
                );
                let diag = if later {
                    diag.help(format!(
                        "move `{from}` above `{name}`: a column sees only the columns before it"
                    ))
                } else {
                    match nearest(from, table.columns[..ci].iter().map(|o| o.name.as_str())) {
                        Some(n) => diag.help(format!("did you mean `{n}`?")),
                        None => diag.help(*help),
                    }
                };
                self.d.push(diag);
                Err(false)
            }
        }
    }

    fn table_column(
        &mut self,
        (pos, ci): (usize, usize),
        target: &str,
        span: &Range<usize>,
        what: &str,
        table_names: &[String],
    ) -> Result<(usize, usize), bool> {
        let Some((tn, cn)) = target.split_once('.') else {
            self.d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: expected TABLE.COLUMN, found `{target}`"),
                )
                .help("e.g. \"customers.id\""),
            );
            return Err(false);
        };
        let Some(&tp) = self.names.get(tn) else {
            let diag = Diagnostic::new(span.clone(), format!("{what}: unknown table `{tn}`"));
            self.d
                .push(match nearest(tn, table_names.iter().map(String::as_str)) {
                    Some(n) => diag.help(format!("did you mean `{n}.{cn}`?")),
                    None => diag.help(format!("tables are: {}", table_names.join(", "))),
                });
            return Err(false);
        };
        let cols = &self.tables[tp].columns;
        if !cols.iter().any(|c| c.name == cn) && self.failed[tp].iter().any(|f| f == cn) {
            // A column whose own problem is reported already.
            return Err(false);
        }
        let Some(cp) = cols.iter().position(|c| c.name == cn) else {
            let message = format!("{what}: table `{tn}` has no column `{cn}`");
            let diag = no_such_column(span.clone(), message, cn, tn, &format!("{tn}."), cols);
            self.d.push(diag);
            return Err(false);
        };
        if !self.resolved[tp][cp] && !self.late[tp][cp] {
            if tp == pos && cp >= ci {
                // Its own table: rows refer to a column made before this one.
                let name = &cols[ci].name;
                let diag = if cp == ci {
                    Diagnostic::new(span.clone(), format!("{what}: `{target}` is the column itself"))
                        .help("refer to a key column of the table (a sequence or uuid), declared above this one")
                } else {
                    Diagnostic::new(
                        span.clone(),
                        format!("{what}: `{target}` comes after this column in its own table"),
                    )
                    .help(format!(
                        "move `{cn}` above `{name}`: a column sees only the columns before it"
                    ))
                };
                self.d.push(diag);
            }
            // Otherwise a column whose own problem is reported already.
            return Err(false);
        }
        Ok((tp, cp))
    }
}
