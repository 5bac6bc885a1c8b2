//! `[tables.NAME.ops]`: a table whose rows are inserted, updated and
//! deleted — by how much of each (`insert`, `update`, `delete`), which
//! columns an update changes, how often and which rows it goes to. Read
//! into a [`Lifecycle`] of one state with an [`Ops`] model and the changes
//! table it makes; the updated columns of the table become their last
//! update's values ([`LatestSpec`]).

use std::ops::Range;
use std::sync::Arc;

use serde_spanned::Spanned;

use super::draft::TableDraft;
use super::lifecycle::{changes_table, plain, read_dwell, read_max_steps};
use crate::diag::keys::Keys;
use crate::diag::Diagnostic;
use crate::generators::lifecycle::{
    Choose, Dwell, FreshSpec, LatestSpec, Lifecycle, Ops, MAX_STEPS,
};
use crate::generators::Generator;
use crate::schema::raw::Entries;
use crate::schema::Gen;

const KEYS: [&str; 9] = [
    "insert",
    "update",
    "delete",
    "columns",
    "since",
    "every",
    "choose",
    "changes",
    "max_steps",
];

/// Reads the `ops` of `table`: wraps its updated columns and returns the
/// draft of its changes table. Problems go to `d`.
pub(super) fn read(
    d: &mut Vec<Diagnostic>,
    table: &mut TableDraft,
    section: &Spanned<Entries>,
) -> Vec<TableDraft> {
    let what = format!("table `{}`: `ops`", table.name);
    let whole = section.span();
    let mut k = Keys::new(section.get_ref(), what.clone());
    let share = |k: &mut Keys<'_>, d: &mut Vec<Diagnostic>, key: &str| match k.float(d, key) {
        Some((v, _)) if v >= 0.0 => v,
        Some((_, span)) => {
            d.push(Diagnostic::new(
                span,
                format!("{what}: `{key}` must not be negative"),
            ));
            0.0
        }
        None => 0.0,
    };
    let (insert, update, delete) = (
        share(&mut k, d, "insert"),
        share(&mut k, d, "update"),
        share(&mut k, d, "delete"),
    );
    let mut ok = true;
    if insert <= 0.0 {
        d.push(
            Diagnostic::new(
                whole.clone(),
                format!(
                    "{what}: `insert` must be above 0: every change is to a row inserted first"
                ),
            )
            .help("e.g. `insert = 0.7, update = 0.25, delete = 0.05`"),
        );
        ok = false;
    } else if delete > insert {
        d.push(
            Diagnostic::new(whole.clone(), format!("{what}: `delete` ({delete}) is more than `insert` ({insert}): a row is deleted at most once"))
                .help("make `delete` at most `insert`"),
        );
        ok = false;
    }
    let columns: Vec<(String, Range<usize>)> = match k.get("columns") {
        None => Vec::new(),
        Some(v) => match v.get_ref().as_array().and_then(|a| {
            a.iter()
                .map(|x| x.as_str().map(|s| (s.to_owned(), v.span())))
                .collect::<Option<Vec<_>>>()
        }) {
            Some(list) => list,
            None => {
                d.push(
                    Diagnostic::new(
                        v.span(),
                        format!("{what}: `columns` is a list of the columns an update changes"),
                    )
                    .help("e.g. `columns = [\"city\", \"email\"]`"),
                );
                ok = false;
                Vec::new()
            }
        },
    };
    if update > 0.0 && columns.is_empty() && ok {
        d.push(
            Diagnostic::new(
                whole.clone(),
                format!("{what}: `update` without `columns`: which columns does an update change?"),
            )
            .help("add e.g. `columns = [\"city\"]`"),
        );
        ok = false;
    }
    let every = match k.get("every") {
        None => Dwell::Exponential(86_400.0),
        Some(v) => read_dwell(v.get_ref()).unwrap_or_else(|| {
            d.push(
                Diagnostic::new(v.span(), format!("{what}: `every` is how long a row stays between changes: a length or a distribution of one"))
                    .help("e.g. `every = { exponential = \"30d\" }`"),
            );
            ok = false;
            Dwell::Fixed(0.0)
        }),
    };
    let choose = match k.string(d, "choose") {
        None | Some(("uniform", _)) => Choose::Uniform,
        Some(("zipf", _)) => Choose::Zipf,
        Some(("recent", _)) => Choose::Recent,
        Some((other, span)) => {
            d.push(
                Diagnostic::new(span, format!("{what}: unknown `choose` \"{other}\""))
                    .help("one of \"uniform\" (every row alike), \"zipf\" (a few rows far more often), \"recent\" (soon after the insert, then rarer)"),
            );
            ok = false;
            Choose::Uniform
        }
    };
    let max_steps = read_max_steps(d, &mut k, &what).unwrap_or_else(|| {
        ok = false;
        MAX_STEPS
    });
    let since = k.string(d, "since");
    let since = k.require(
        d,
        &whole,
        "since",
        since,
        "\"created_at\" (a timestamp of the row: when it is inserted)",
    );
    let changes = k.string(d, "changes");
    let changes = k.require(
        d,
        &whole,
        "changes",
        changes,
        "\"NAME_changes\" (the table of changes)",
    );
    k.report_unknown(d, &KEYS);
    let (Some((since, since_span)), Some((changes, changes_span))) = (since, changes) else {
        return Vec::new();
    };
    let lifecycle = Arc::new(Lifecycle {
        table: table.name.clone(),
        states: vec!["active".into()],
        start: 0,
        next: vec![Vec::new()],
        dwell: vec![Some(every)],
        max_steps,
        delete: (delete > 0.0).then_some((delete / insert.max(f64::MIN_POSITIVE), every)),
        ops: Some(Ops {
            mean_updates: update / insert.max(f64::MIN_POSITIVE),
            choose,
        }),
    });

    // The updated columns: the table's holds the last update's value.
    let mut fresh = Vec::new();
    for (name, span) in &columns {
        let Some(c) = table.columns.iter().position(|c| &c.column.name == name) else {
            d.push(Diagnostic::new(
                span.clone(),
                format!(
                    "{what}: `columns` names `{name}`, which `{}` does not have",
                    table.name
                ),
            ));
            ok = false;
            continue;
        };
        let draft = &mut table.columns[c];
        let col = &draft.column;
        let why = match (&col.gen, &draft.link) {
            _ if col.primary_key || col.unique => Some("it is a key: a row's key never changes"),
            _ if col.null_rate > 0.0 || draft.when.is_some() => {
                Some("it has `null_rate` or `when`")
            }
            (Gen::Catalogue(_), None) => None,
            (Gen::Catalogue(_), Some(_)) => Some("its generator reads other columns of the row"),
            _ => Some("it is not made by a generator (`gen = …`)"),
        };
        if let Some(why) = why {
            d.push(
                Diagnostic::new(span.clone(), format!("{what}: an update cannot change `{name}`: {why}"))
                    .help("updates draw new values for columns made by a generator alone, e.g. `city = { gen = \"address.city\" }`"),
            );
            ok = false;
            continue;
        }
        if let Gen::Catalogue(g) = &draft.column.gen {
            let inner = Arc::clone(&g.spec);
            draft.column.gen = Gen::Catalogue(Generator {
                name: g.name,
                spec: Arc::new(LatestSpec {
                    inner: Arc::clone(&inner),
                    lifecycle: Arc::clone(&lifecycle),
                }),
                reads: Vec::new(),
                exprs: Vec::new(),
            });
            fresh.push((name.clone(), inner));
        }
    }
    // A place is one city: updating some of its columns would leave the
    // others naming another.
    for c in &table.columns {
        let Gen::Catalogue(g) = &c.column.gen else {
            continue;
        };
        let updated = fresh.iter().any(|(n, _)| *n == c.column.name);
        if updated {
            continue;
        }
        if let Some((group, _)) = g.spec.place() {
            let with = fresh
                .iter()
                .find(|(_, inner)| inner.place().is_some_and(|(p, _)| p == group));
            if let Some((other, _)) = with {
                d.push(
                    Diagnostic::new(whole.clone(), format!("{what}: an update changes `{other}` but not `{}`, which names the same place", c.column.name))
                        .help(format!("add `{}` to `columns`: a row's place columns change together", c.column.name)),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return Vec::new();
    }
    if !table.columns.iter().any(|c| c.column.primary_key) {
        d.push(
            Diagnostic::new(changes_span, format!("{what}: the changes name their rows by the table's primary key, and `{}` has none", table.name))
                .help("give the table one `primary_key = true` column"),
        );
        return Vec::new();
    }
    let sql_of = |name: &str| {
        table
            .columns
            .iter()
            .find(|c| c.column.name == name)
            .map(|c| c.column.sql_type)
    };
    let since = (since, since_span);
    vec![changes_table(
        d,
        &what,
        table,
        &lifecycle,
        (changes.to_owned(), changes_span),
        since,
        max_steps,
        |name, span| {
            let (_, inner) = fresh.iter().find(|(n, _)| n == name)?;
            let spec = FreshSpec {
                inner: Arc::clone(inner),
                lifecycle: Arc::clone(&lifecycle),
                column: name.to_owned(),
            };
            Some(plain(
                name.to_owned(),
                span,
                Gen::Catalogue(Generator {
                    name: "ops",
                    spec: Arc::new(spec),
                    reads: Vec::new(),
                    exprs: Vec::new(),
                }),
                sql_of(name)?,
            ))
        },
    )]
}
