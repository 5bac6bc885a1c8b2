//! Ordering tables by their dependencies and resolving every name to an
//! index, with the types that follow.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::column::{CaseDraft, Link};
use super::{DraftSize, TableDraft};
use crate::diag::{nearest, Diagnostic};
use crate::expr::{self, Expr, ExprError, Node, Scope, Ty};
use crate::generators::dicts::Locale;
use crate::generators::Read;
use crate::schema::*;
use crate::value::SqlType;

/// Orders tables so that `per` parents and referenced tables come first;
/// reports cycles with their path.
pub(super) fn order_tables(d: &mut Vec<Diagnostic>, drafts: &[TableDraft]) -> Option<Vec<usize>> {
    let index: HashMap<&str, usize> = drafts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); drafts.len()];
    for (i, t) in drafts.iter().enumerate() {
        if let Some(DraftSize::Per { parent, span, .. }) = &t.size {
            match index.get(parent.as_str()) {
                Some(&p) if p == i => d.push(
                    Diagnostic::new(
                        span.clone(),
                        format!("table `{}`: `per` names the table itself", t.name),
                    )
                    .help("a table cannot be its own parent"),
                ),
                Some(&p) => deps[i].push(p),
                None => d.push(unknown_table(span.clone(), &t.name, parent, drafts)),
            }
        }
        for c in &t.columns {
            if let Some(Link::Ref { target, .. } | Link::Lookup { target, .. }) = &c.link {
                if let Some(&p) = target.split_once('.').and_then(|(tn, _)| index.get(tn)) {
                    if p != i {
                        deps[i].push(p);
                    }
                }
            }
        }
    }
    let mut order = Vec::with_capacity(drafts.len());
    let mut placed = vec![false; drafts.len()];
    while order.len() < drafts.len() {
        let next = (0..drafts.len()).find(|&i| !placed[i] && deps[i].iter().all(|&p| placed[p]));
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                let start = (0..drafts.len())
                    .find(|&i| !placed[i])
                    .expect("some table is left");
                let cycle = find_cycle(&deps, &placed, start);
                let path: Vec<&str> = cycle.iter().map(|&i| drafts[i].name.as_str()).collect();
                d.push(
                    Diagnostic::new(drafts[cycle[0]].span.clone(), format!("tables depend on each other in a cycle: {}", path.join(" → ")))
                        .help("break the cycle: a `per` parent or a `ref` target must not depend back on the table"),
                );
                return None;
            }
        }
    }
    Some(order)
}

fn find_cycle(deps: &[Vec<usize>], placed: &[bool], start: usize) -> Vec<usize> {
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = *deps[current]
            .iter()
            .find(|&&p| !placed[p])
            .expect("an unplaced table has an unplaced dependency");
        if let Some(pos) = path.iter().position(|&t| t == next) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(next);
            return cycle;
        }
        path.push(next);
        current = next;
    }
}

fn unknown_table(span: Range<usize>, table: &str, name: &str, drafts: &[TableDraft]) -> Diagnostic {
    let diag = Diagnostic::new(span, format!("table `{table}`: unknown table `{name}`"));
    match nearest(name, drafts.iter().map(|t| t.name.as_str())) {
        Some(n) => diag.help(format!("did you mean `{n}`?")),
        None => diag.help(format!(
            "tables are: {}",
            drafts
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

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

/// A column's names to resolve: its source and its `when`.
type ColumnLinks = (Option<Link>, Option<(String, Range<usize>)>);

/// What resolving a column came to.
enum Outcome {
    Done(Box<Column>),
    /// It reads an aggregate of its row: resolve it after the children.
    Late,
    Failed,
}

/// Resolves every name of every table, in two sweeps: first the columns that
/// are computed before a row's children, in table order (parents and
/// referenced tables first); then the aggregates and what depends on them,
/// children before parents.
#[allow(clippy::too_many_arguments)]
pub(super) fn resolve(
    d: &mut Vec<Diagnostic>,
    path: &Path,
    seed: u64,
    locale: Locale,
    pipeline: PipelineSettings,
    target: TargetSection,
    drafts: &mut [TableDraft],
    order: &[usize],
) -> Option<Schema> {
    let position: HashMap<String, usize> = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| (drafts[i].name.clone(), pos))
        .collect();
    let mut tables: Vec<Table> = Vec::with_capacity(order.len());
    let mut links: Vec<Vec<ColumnLinks>> = Vec::new();
    for &i in order {
        let draft = &mut drafts[i];
        let size = match draft.size.take() {
            Some(DraftSize::Rows(n)) => TableSize::Rows(n),
            Some(DraftSize::Per { parent, count, .. }) => TableSize::Per {
                parent: *position.get(&parent)?,
                count,
            },
            None => TableSize::Rows(0),
        };
        let mut columns = Vec::new();
        let mut table_links = Vec::new();
        for c in draft.columns.drain(..) {
            columns.push(c.column);
            table_links.push((c.link, c.when));
        }
        tables.push(Table {
            name: draft.name.clone(),
            size,
            columns,
            children: Vec::new(),
        });
        links.push(table_links);
    }
    let spans: Vec<Range<usize>> = order.iter().map(|&i| drafts[i].span.clone()).collect();
    let mut r = Resolver {
        d,
        tables,
        resolved: links.iter().map(|l| vec![false; l.len()]).collect(),
        late: links.iter().map(|l| vec![false; l.len()]).collect(),
        names: position,
    };
    for (pos, table_links) in links.iter().enumerate() {
        for (ci, link) in table_links.iter().enumerate() {
            match r.column(pos, ci, link, false) {
                Outcome::Done(c) => r.set(pos, ci, *c),
                Outcome::Late => r.late[pos][ci] = true,
                Outcome::Failed => {}
            }
        }
    }
    for (pos, table_links) in links.iter().enumerate().rev() {
        for (ci, link) in table_links.iter().enumerate() {
            if r.late[pos][ci] {
                if let Outcome::Done(mut c) = r.column(pos, ci, link, true) {
                    c.late = true;
                    r.set(pos, ci, *c);
                }
            }
        }
    }
    for (pos, table) in r.tables.iter().enumerate() {
        if table.columns.iter().filter(|c| c.primary_key).count() > 1 {
            r.d.push(
                Diagnostic::new(
                    spans[pos].clone(),
                    format!("table `{}`: more than one `primary_key` column", table.name),
                )
                .help("mark one column as the primary key; use `unique = true` on the others"),
            );
        }
    }
    let mut tables = r.tables;
    for i in 0..tables.len() {
        if let TableSize::Per { parent, .. } = tables[i].size {
            tables[parent].children.push(i);
        }
    }
    Some(Schema {
        path: path.to_path_buf(),
        digest: [0; 32],
        seed,
        locale,
        pipeline,
        target,
        tables,
        dictionaries: Vec::new(),
    })
}

struct Resolver<'d> {
    d: &'d mut Vec<Diagnostic>,
    tables: Vec<Table>,
    resolved: Vec<Vec<bool>>,
    late: Vec<Vec<bool>>,
    names: HashMap<String, usize>,
}

/// What an expression of column `ci` of table `pos` can see.
struct RowScope<'r> {
    table: &'r Table,
    resolved: &'r [bool],
    late: &'r [bool],
    upto: usize,
    parent: Option<(&'r Table, &'r [bool], &'r [bool])>,
    hit_late: std::cell::Cell<bool>,
}

const LATE: &str = "(late)";

impl Scope for RowScope<'_> {
    fn column(&self, name: &str) -> Result<(usize, Ty), String> {
        match self.table.column_index(name) {
            Some(j) if j < self.upto => {
                if self.resolved[j] {
                    Ok((j, Ty::of(self.table.columns[j].sql_type)))
                } else if self.late[j] {
                    self.hit_late.set(true);
                    Err(LATE.into())
                } else {
                    Err(format!("column `{name}` is invalid"))
                }
            }
            Some(_) => Err(format!(
                "`{name}` is not an earlier column: a column sees only the columns above it"
            )),
            None => {
                let names = self.table.columns[..self.upto]
                    .iter()
                    .map(|c| c.name.as_str());
                Err(match nearest(name, names) {
                    Some(n) => format!("no column `{name}`\ndid you mean `{n}`?"),
                    None => format!("no column `{name}` before this one"),
                })
            }
        }
    }

    fn parent(&self, name: &str) -> Result<(usize, Ty), String> {
        let Some((parent, resolved, late)) = self.parent else {
            return Err("`parent.` is only for tables with `per`".into());
        };
        match parent.column_index(name) {
            Some(j) if parent.columns[j].late || late[j] => Err(format!(
                "`parent.{name}` summarises the children, so the children cannot read it"
            )),
            Some(j) if resolved[j] => Ok((j, Ty::of(parent.columns[j].sql_type))),
            Some(_) => Err(format!("parent column `{name}` is invalid")),
            None => Err(format!(
                "parent table `{}` has no column `{name}`",
                parent.name
            )),
        }
    }
}

impl Resolver<'_> {
    fn set(&mut self, pos: usize, ci: usize, column: Column) {
        self.tables[pos].columns[ci] = column;
        self.resolved[pos][ci] = true;
    }

    fn parent_of(&self, pos: usize) -> Option<usize> {
        match self.tables[pos].size {
            TableSize::Per { parent, .. } => Some(parent),
            TableSize::Rows(_) => None,
        }
    }

    /// Parses `src` for column `ci` of table `pos`; `Err(true)` means it
    /// reads a late column.
    fn expr(
        &mut self,
        pos: usize,
        ci: usize,
        src: &str,
        span: &Range<usize>,
        what: &str,
    ) -> Result<Expr, bool> {
        let parent = self.parent_of(pos).map(|p| {
            (
                &self.tables[p],
                self.resolved[p].as_slice(),
                self.late[p].as_slice(),
            )
        });
        let scope = RowScope {
            table: &self.tables[pos],
            resolved: &self.resolved[pos],
            late: &self.late[pos],
            upto: ci,
            parent,
            hit_late: std::cell::Cell::new(false),
        };
        match expr::parse(src, &scope) {
            Ok(e) => Ok(e),
            Err(_) if scope.hit_late.get() => Err(true),
            Err(ExprError {
                message,
                span: at,
                help,
            }) => {
                // The expression sits in a quoted TOML string: skip the quote.
                let start = span.start + 1 + at.start;
                let located = start..span.start + 1 + at.end;
                let located = if located.end <= span.end {
                    located
                } else {
                    span.clone()
                };
                let mut diag = Diagnostic::new(located, format!("{what}: {message}"));
                diag.help = help;
                self.d.push(diag);
                Err(false)
            }
        }
    }

    fn column(
        &mut self,
        pos: usize,
        ci: usize,
        (link, when): &ColumnLinks,
        late_pass: bool,
    ) -> Outcome {
        let mut column = self.tables[pos].columns[ci].clone();
        let what = format!("column `{}.{}`", self.tables[pos].name, column.name);
        let mut late = false;
        if let Some((src, span)) = when {
            match self.expr(pos, ci, src, span, &what) {
                Ok(e) if matches!(e.ty, Ty::Bool | Ty::Null) => column.when = Some(e),
                Ok(e) => {
                    self.d.push(
                        Diagnostic::new(
                            span.clone(),
                            format!("{what}: `when` must be a condition, found {}", e.ty.name()),
                        )
                        .help("compare something, e.g. when = \"age >= 18\""),
                    );
                    return Outcome::Failed;
                }
                Err(true) => late = true,
                Err(false) => return Outcome::Failed,
            }
        }
        let resolved = match link {
            None => Some(column.sql_type),
            Some(Link::Expr { src, span }) => match self.expr(pos, ci, src, span, &what) {
                Ok(e) => {
                    let ty = match (e.ty, column.gen.clone()) {
                        (
                            Ty::Int | Ty::Float | Ty::Decimal(_),
                            Gen::Expr { scale: Some(s), .. },
                        ) => SqlType::Decimal {
                            precision: 18,
                            scale: s,
                        },
                        (ty, _) => ty.column_type(),
                    };
                    if let Gen::Expr { scale, .. } = column.gen {
                        column.gen = Gen::Expr { expr: e, scale };
                    }
                    Some(ty)
                }
                Err(true) => {
                    late = true;
                    None
                }
                Err(false) => return Outcome::Failed,
            },
            Some(Link::Cases(cases)) => match self.cases(pos, ci, cases, &what) {
                Ok((resolved, ty)) => {
                    column.gen = Gen::Cases(resolved);
                    Some(ty)
                }
                Err(true) => {
                    late = true;
                    None
                }
                Err(false) => return Outcome::Failed,
            },
            Some(Link::Agg { .. }) if !late_pass => {
                late = true;
                None
            }
            Some(other) => match self.link(pos, ci, other, &what, &mut column.gen) {
                Ok(ty) => Some(ty),
                Err(true) => {
                    late = true;
                    None
                }
                Err(false) => return Outcome::Failed,
            },
        };
        if late && !late_pass {
            return Outcome::Late;
        }
        let Some(ty) = resolved else {
            return Outcome::Failed;
        };
        column.sql_type = ty;
        column.nullable = self.nullable(pos, &column);
        Outcome::Done(Box::new(column))
    }

    fn cases(
        &mut self,
        pos: usize,
        ci: usize,
        cases: &[CaseDraft],
        what: &str,
    ) -> Result<(Vec<Case>, SqlType), bool> {
        let mut out = Vec::new();
        let mut ty: Option<SqlType> = None;
        let mut late = false;
        for (i, case) in cases.iter().enumerate() {
            let case_what = format!("{what}, case {}", i + 1);
            let when = match &case.when {
                Some((src, span)) => match self.expr(pos, ci, src, span, &case_what) {
                    Ok(e) if matches!(e.ty, Ty::Bool | Ty::Null) => Some(e),
                    Ok(e) => {
                        self.d.push(Diagnostic::new(
                            span.clone(),
                            format!(
                                "{case_what}: `when` must be a condition, found {}",
                                e.ty.name()
                            ),
                        ));
                        return Err(false);
                    }
                    Err(true) => {
                        late = true;
                        continue;
                    }
                    Err(false) => return Err(false),
                },
                None => None,
            };
            let mut gen = case.gen.clone();
            let case_ty = match &case.link {
                Some(Link::Expr { src, span }) => match self.expr(pos, ci, src, span, &case_what) {
                    Ok(e) => {
                        let t = e.ty.column_type();
                        gen = Gen::Expr {
                            expr: e,
                            scale: None,
                        };
                        t
                    }
                    Err(true) => {
                        late = true;
                        continue;
                    }
                    Err(false) => return Err(false),
                },
                Some(other) => self.link(pos, ci, other, &case_what, &mut gen)?,
                None => case.sql_type,
            };
            ty = match ty {
                None => Some(case_ty),
                Some(t) if Ty::of(t) == Ty::of(case_ty) || Ty::of(case_ty) == Ty::Null => Some(t),
                Some(t) if Ty::of(t) == Ty::Null => Some(case_ty),
                Some(t) => {
                    self.d.push(
                        Diagnostic::new(
                            case.span.clone(),
                            format!(
                                "{case_what}: makes {}, but the first case makes {}",
                                Ty::of(case_ty).name(),
                                Ty::of(t).name()
                            ),
                        )
                        .help("every case of a column must make values of one type"),
                    );
                    return Err(false);
                }
            };
            out.push(Case { when, gen });
        }
        if late {
            return Err(true);
        }
        Ok((out, ty.unwrap_or(SqlType::Text)))
    }

    /// Resolves `ref`, `parent`, `lookup`, `agg` and e-mail `from`.
    fn link(
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
                let (tp, cp) = self.table_column(target, span, what, &table_names)?;
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
            Link::Reads(reads) => {
                let mut indices = Vec::with_capacity(reads.len());
                for read in reads {
                    indices.push(self.read(pos, ci, read, what)?);
                }
                let Gen::Catalogue(g) = gen else {
                    unreachable!("only catalogue generators read columns")
                };
                g.reads = indices;
                Ok(g.spec.sql_type())
            }
            Link::Lookup {
                target,
                via,
                span,
                via_span,
            } => {
                let (tp, cp) = self.table_column(target, span, what, &table_names)?;
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
            None => {
                let later = table.columns[ci..].iter().any(|o| &o.name == from);
                let name = &table.columns[ci].name;
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
        let Some(cp) = cols.iter().position(|c| c.name == cn) else {
            let message = format!("{what}: table `{tn}` has no column `{cn}`");
            let diag = no_such_column(span.clone(), message, cn, tn, &format!("{tn}."), cols);
            self.d.push(diag);
            return Err(false);
        };
        if !self.resolved[tp][cp] && !self.late[tp][cp] {
            return Err(false);
        }
        Ok((tp, cp))
    }

    fn nullable(&self, pos: usize, column: &Column) -> bool {
        if column.null_rate > 0.0 || column.when.is_some() {
            return true;
        }
        let table = &self.tables[pos];
        let row = |i: usize| table.columns[i].nullable;
        let parent = |i: usize| {
            self.parent_of(pos)
                .is_none_or(|p| self.tables[p].columns[i].nullable)
        };
        gen_nullable(&column.gen, &row, &parent, &self.tables)
    }
}

fn gen_nullable(
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
        Gen::Catalogue(g) => row.extend(&g.reads),
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
