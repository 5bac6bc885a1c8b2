//! Resolving every name to an index, with the types that follow: tables
//! in dependency order ([`order`]), then each column's source — names of
//! other tables and columns ([`links`]), expressions, cases — and whether
//! it can be NULL ([`nullable`]).

mod links;
mod nullable;
mod order;
mod unique;

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::draft::{CaseDraft, DraftSize, Link, TableDraft};
use crate::diag::{nearest, Diagnostic};
use crate::expr::{self, ExprError, Scope, Ty};
use crate::generators::dicts::Locale;
use crate::schema::*;
use crate::value::SqlType;
use nullable::gen_nullable;
pub use nullable::{gen_columns, needed_columns};
pub(super) use order::order_tables;

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
            span: draft.span.clone(),
            size,
            columns,
            children: Vec::new(),
            unique: Vec::new(),
            numbered: Vec::new(),
            history: draft.history.take(),
            changes: draft.changes.take().and_then(|n| position.get(&n).copied()),
        });
        links.push(table_links);
    }
    let spans: Vec<Range<usize>> = order.iter().map(|&i| drafts[i].span.clone()).collect();
    let mut r = Resolver {
        d,
        tables,
        resolved: links.iter().map(|l| vec![false; l.len()]).collect(),
        late: links.iter().map(|l| vec![false; l.len()]).collect(),
        failed: order
            .iter()
            .map(|&i| std::mem::take(&mut drafts[i].failed))
            .collect(),
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
    if r.d.is_empty() {
        // A column fails only with a problem reported (its own, or one of a
        // column it reads); a column unresolved with no problem anywhere is
        // a defect of datagen, reported rather than carried into the run.
        for (pos, table) in r.tables.iter().enumerate() {
            for (ci, column) in table.columns.iter().enumerate() {
                if !r.resolved[pos][ci] {
                    r.d.push(
                        Diagnostic::new(
                            column.span.clone(),
                            format!(
                                "column `{}.{}` could not be resolved",
                                table.name, column.name
                            ),
                        )
                        .help("this is a defect of datagen: please report it with this Genfile"),
                    );
                }
            }
        }
    }
    for table in &r.tables {
        // A named place group is one city: its columns share a locale
        // (unnamed, each locale has its own place).
        let mut groups: Vec<(&str, Locale, &str)> = Vec::new();
        for column in &table.columns {
            let Gen::Catalogue(g) = &column.gen else {
                continue;
            };
            let Some((group, locale)) = g.spec.place().filter(|(g, _)| !g.is_empty()) else {
                continue;
            };
            match groups.iter().find(|(name, _, _)| *name == group) {
                Some(&(_, first, other)) if first != locale => r.d.push(
                    Diagnostic::new(
                        column.span.clone(),
                        format!(
                            "column `{}.{}` describes the same place as `{other}` in another locale",
                            table.name, column.name
                        ),
                    )
                    .help("a place is one city: give the columns of a place group one `locale`, or name another group with `place = \"…\"`"),
                ),
                Some(_) => {}
                None => groups.push((group, locale, &column.name)),
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
    for (pos, &i) in order.iter().enumerate() {
        let groups = std::mem::take(&mut drafts[i].unique);
        let failed = r.failed[pos].clone();
        let (groups, numbered) = unique::groups(r.d, &r.tables, pos, &groups, &failed);
        r.tables[pos].unique = groups;
        r.tables[pos].numbered = numbered;
    }
    unique::check_lookups(r.d, &r.tables);
    let mut tables = r.tables;
    for i in 0..tables.len() {
        if let TableSize::Per { parent, .. } = tables[i].size {
            tables[parent].children.push(i);
        }
    }
    Some(Schema {
        path: path.to_path_buf(),
        digest: [0; 32],
        text: Arc::from(""),
        nul: Vec::new(),
        seed,
        locale,
        pipeline,
        target,
        stream: crate::schema::stream::StreamSpec::default_for(tables.len()),
        verify: Vec::new(),
        tables,
        dictionaries: Vec::new(),
    })
}

/// The tables being resolved, and what is known of each column.
struct Resolver<'d> {
    d: &'d mut Vec<Diagnostic>,
    tables: Vec<Table>,
    /// Per table and column: resolved already.
    resolved: Vec<Vec<bool>>,
    /// Per table and column: computed after the row's children.
    late: Vec<Vec<bool>>,
    /// Per table: columns whose spec had a problem, reported already.
    failed: Vec<Vec<String>>,
    names: HashMap<String, usize>,
}

/// What an expression of column `ci` of table `pos` can see.
struct RowScope<'r> {
    table: &'r Table,
    resolved: &'r [bool],
    late: &'r [bool],
    /// Columns of the table with a problem reported already.
    failed: &'r [String],
    /// Set when the expression names such a column: its problem is not
    /// reported twice.
    hit_failed: std::cell::Cell<bool>,
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
                    self.hit_failed.set(true);
                    Err(format!("column `{name}` is invalid"))
                }
            }
            None if self.failed.iter().any(|f| f == name) => {
                self.hit_failed.set(true);
                Err(format!("column `{name}` is invalid"))
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
            Some(_) => {
                self.hit_failed.set(true);
                Err(format!("parent column `{name}` is invalid"))
            }
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

    /// [`Resolver::expr`] for an expression whose value a column holds:
    /// not an interval.
    pub(super) fn value(
        &mut self,
        pos: usize,
        ci: usize,
        src: &str,
        span: &Range<usize>,
        what: &str,
    ) -> Result<Expr, bool> {
        let e = self.expr(pos, ci, src, span, what)?;
        if e.ty == Ty::Interval {
            self.d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: the expression gives an interval, which no column holds"),
                )
                .help("add it to a date or a timestamp, e.g. \"signed_up + days(30)\""),
            );
            return Err(false);
        }
        Ok(e)
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
            failed: &self.failed[pos],
            hit_failed: std::cell::Cell::new(false),
        };
        match expr::parse(src, &scope) {
            Ok(e) => Ok(e),
            Err(_) if scope.hit_late.get() => Err(true),
            // It names a column whose own problem is reported.
            Err(_) if scope.hit_failed.get() => Err(false),
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
            Some(Link::Expr { src, span }) => match self.value(pos, ci, src, span, &what) {
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
                Some(Link::Expr { src, span }) => {
                    match self.value(pos, ci, src, span, &case_what) {
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
                    }
                }
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
