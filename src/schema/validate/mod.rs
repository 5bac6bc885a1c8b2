//! Raw Genfile → validated [`Schema`], collecting every problem on the way.
//!
//! * `keys`: typed reading of a column's keys, reporting unknown ones.
//! * `column`: a column spec → generator, type and names to resolve.
//! * `resolve`: table order, cycles, and resolving names to indices.

mod column;
mod dictionary;
mod draft;
mod lifecycle;
mod ops;
mod resolve;

use std::collections::HashMap;
use std::path::Path;

use serde_spanned::Spanned;

use self::column::{column, unknown_locale, Env};
use self::dictionary::dictionaries;
use self::draft::{DraftSize, TableDraft};
pub use self::resolve::{gen_columns, needed_columns};
use self::resolve::{order_tables, resolve};
use super::raw::{Entries, GenfileConfig, TableConfig};
use super::*;
use crate::diag::keys::{type_name, Keys};
use crate::diag::Diagnostic;
use crate::generators::dicts::Locale;
use crate::generators::dist::{self, Count};
use toml::Value as TomlValue;

/// The keys of `[pipeline]`.
const PIPELINE_KEYS: [&str; 7] = [
    "buffer_rows",
    "batch_rows",
    "workers",
    "max_restarts",
    "restart_window_s",
    "backoff_ms",
    "strategy",
];

/// Validates `raw`, read from `path`, with `check_target` checking the
/// `[target]` section; returns the schema or every problem found.
pub fn validate(
    path: &Path,
    raw: GenfileConfig,
    early: Vec<Diagnostic>,
    check_target: &dyn Fn(&TargetSection) -> Vec<Diagnostic>,
) -> Result<Schema, Vec<Diagnostic>> {
    let misread = !early.is_empty();
    let mut d = early;

    if let Some(v) = &raw.version {
        match v.get_ref() {
            TomlValue::Integer(1) => {}
            TomlValue::Integer(n) => d.push(
                Diagnostic::new(v.span(), format!("unsupported Genfile version {n}"))
                    .help("this datagen reads `version = 1`"),
            ),
            other => d.push(
                Diagnostic::new(
                    v.span(),
                    format!("`version` must be an integer, found {}", type_name(other)),
                )
                .help("write `version = 1`"),
            ),
        }
    }

    let mut run = Keys::new(&raw.run, String::new());
    let seed = match run.int(&mut d, "seed") {
        Some((s, span)) if s < 0 => {
            d.push(
                Diagnostic::new(span, "`seed` must not be negative").help("use a number from 0 up"),
            );
            0
        }
        Some((s, _)) => s as u64,
        None => 0,
    };
    let locale = match run.get("locale") {
        Some(l) => match l.get_ref() {
            TomlValue::String(name) => Locale::parse(name).unwrap_or_else(|| {
                d.push(unknown_locale(&Spanned::new(l.span(), name.clone())));
                Locale::EnUs
            }),
            _ => {
                run.wrong_type(&mut d, "locale", l, "a string");
                Locale::EnUs
            }
        },
        None => Locale::EnUs,
    };
    run.report_unknown(&mut d, &["seed", "locale"]);

    let mut pipeline = PipelineSettings::default();
    let mut p = Keys::new(&raw.pipeline, String::new());
    let mut positive = |d: &mut Vec<Diagnostic>, key: &str, min: i64| -> Option<usize> {
        let (v, span) = p.int(d, key)?;
        if v < min {
            d.push(Diagnostic::new(
                span,
                format!("`{key}` must be at least {min}, found {v}"),
            ));
            None
        } else {
            Some(v as usize)
        }
    };
    pipeline.buffer_rows = positive(&mut d, "buffer_rows", 1);
    if let Some(b) = positive(&mut d, "batch_rows", 1) {
        pipeline.batch_rows = b;
    }
    if let Some(w) = positive(&mut d, "workers", 0) {
        pipeline.workers = w;
    }
    if let Some(n) = positive(&mut d, "max_restarts", 0) {
        pipeline.max_restarts = n.min(u32::MAX as usize) as u32;
    }
    if let Some(n) = positive(&mut d, "restart_window_s", 1) {
        pipeline.restart_window_s = n as u64;
    }
    if let Some(n) = positive(&mut d, "backoff_ms", 0) {
        pipeline.backoff_ms = n as u64;
    }
    if let Some((name, span)) = p.string(&mut d, "strategy") {
        match datagen_actors::Strategy::parse(name) {
            Some(s) => pipeline.strategy = s,
            None => d.push(
                Diagnostic::new(span, format!("unknown `strategy` \"{name}\"")).help(
                    "one of \"one_for_one\" (the default), \"one_for_all\", \"rest_for_one\"",
                ),
            ),
        }
    }
    p.report_unknown(&mut d, &PIPELINE_KEYS);

    let target = TargetSection {
        entries: raw.target,
    };
    d.extend(check_target(&target));

    // Tables misspelt or not a table are reported already.
    if raw.tables.is_empty() && !misread {
        d.push(Diagnostic {
            span: None,
            message: "no tables defined".into(),
            help: Some(
                "add a table, e.g. `[tables.users]` with `rows = 100` and `[tables.users.columns]`"
                    .into(),
            ),
        });
    }

    let dictionaries = dictionaries(&mut d, path, &raw.dictionaries);
    let mut nul = raw.nul.clone();
    for ((_, entries), dict) in raw.dictionaries.iter().zip(&dictionaries) {
        if dict.values.iter().any(|v| v.contains('\0')) {
            nul.push(entries.span());
        }
    }
    let mut drafts: Vec<TableDraft> = raw
        .tables
        .iter()
        .map(|(name, table)| {
            table_draft(
                &mut d,
                Env {
                    locale,
                    dicts: &dictionaries,
                },
                name,
                table,
            )
        })
        .collect();

    for (i, (_, table)) in raw.tables.iter().enumerate() {
        let made = match (&table.lifecycle, &table.ops) {
            (Some(l), Some(o)) => {
                d.push(
                    Diagnostic::new(
                        o.span(),
                        format!(
                            "table `{}`: `ops` and `lifecycle` both given",
                            drafts[i].name
                        ),
                    )
                    .help("a lifecycle's transitions are its updates: give one of the two"),
                );
                let _ = l;
                continue;
            }
            (Some(l), None) => lifecycle::read(&mut d, &mut drafts[i], l),
            (None, Some(o)) => ops::read(&mut d, &mut drafts[i], o),
            (None, None) => continue,
        };
        for history in made {
            if drafts.iter().any(|t| t.name == history.name) {
                d.push(
                    Diagnostic::new(
                        history.span.clone(),
                        format!("table `{}`: `lifecycle`: the table `{}` it makes is a table of the Genfile too", drafts[i].name, history.name),
                    )
                    .help("give the lifecycle's `history` and `changes` tables names of their own"),
                );
            } else {
                drafts.push(history);
            }
        }
    }

    let order = order_tables(&mut d, &drafts);
    let schema = order.and_then(|order| {
        resolve(
            &mut d,
            path,
            seed,
            locale,
            pipeline,
            target,
            &mut drafts,
            &order,
        )
        .map(|schema| Schema {
            dictionaries,
            nul,
            ..schema
        })
    });
    let schema = schema.map(|mut schema| {
        if let Some(stream) = &raw.stream {
            schema.stream = crate::schema::stream::read(&mut d, stream, &schema.tables);
            // `[stream] target` with the `[target]` keys, checked as the
            // target of the run is.
            if let Some((_, url)) = stream.entries.iter().find(|(k, _)| k.get_ref() == "target") {
                let mut entries: Vec<_> = schema
                    .target
                    .entries
                    .iter()
                    .filter(|(k, _)| k.get_ref() != "url")
                    .cloned()
                    .collect();
                entries.push((
                    serde_spanned::Spanned::new(url.span(), "url".to_owned()),
                    url.clone(),
                ));
                for diag in check_target(&TargetSection { entries }) {
                    if !d
                        .iter()
                        .any(|e| e.span == diag.span && e.message == diag.message)
                    {
                        d.push(diag);
                    }
                }
            }
        }
        schema
    });
    let schema = schema.map(|mut schema| {
        schema.verify = verify_sums(&mut d, &raw.verify, &schema.tables);
        schema
    });
    d.sort_by_key(|diag| diag.span.as_ref().map_or(0, |s| s.start));
    match schema {
        Some(schema) if d.is_empty() => Ok(schema),
        _ => Err(d),
    }
}

fn table_draft(
    d: &mut Vec<Diagnostic>,
    env: Env<'_>,
    name: &Spanned<String>,
    t: &TableConfig,
) -> TableDraft {
    let what = format!("table `{}`", name.get_ref());
    let rows = t.rows.as_ref().and_then(|rows| match rows.get_ref() {
        TomlValue::Integer(n) if *n < 0 => {
            d.push(Diagnostic::new(
                rows.span(),
                format!("{what}: `rows` must not be negative"),
            ));
            None
        }
        TomlValue::Integer(n) => Some(*n as u64),
        other => {
            d.push(
                Diagnostic::new(
                    rows.span(),
                    format!(
                        "{what}: `rows` must be an integer, found {}",
                        type_name(other)
                    ),
                )
                .help("write a whole number without quotes, e.g. `rows = 1000`"),
            );
            None
        }
    });
    let size = match (&t.rows, &t.per) {
        (Some(_), Some(per)) => {
            d.push(
                Diagnostic::new(per.span(), format!("{what}: `rows` and `per` both given"))
                    .help("a table has either a fixed `rows` count or a `per` parent, not both"),
            );
            None
        }
        (None, None) if t.misread => None,
        (None, None) => {
            d.push(
                Diagnostic::new(name.span(), format!("{what}: no row count")).help(
                    "add `rows = N`, or `per = { parent = \"TABLE\", count = { fixed = N } }`",
                ),
            );
            None
        }
        (Some(_), None) => rows.map(DraftSize::Rows),
        (None, Some(per)) => per_size(d, &what, per),
    };
    if t.columns.is_empty() && t.bad_columns.is_empty() && !t.misread {
        d.push(
            Diagnostic::new(name.span(), format!("{what}: no columns")).help(format!(
                "add `[tables.{}.columns]` with at least one column",
                name.get_ref()
            )),
        );
    }
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut failed = t.bad_columns.clone();
    let columns = t
        .columns
        .iter()
        .filter_map(|(col, spec)| {
            if seen.insert(col.get_ref(), ()).is_some() {
                d.push(Diagnostic::new(
                    col.span(),
                    format!("{what}: column `{}` defined twice", col.get_ref()),
                ));
            }
            let draft = column(d, env, name.get_ref(), col, spec);
            if draft.is_none() {
                failed.push(col.get_ref().clone());
            }
            draft
        })
        .collect();
    TableDraft {
        name: name.get_ref().clone(),
        span: name.span(),
        size,
        columns,
        failed,
        unique: t.unique.clone(),
        history: None,
        changes: None,
    }
}

/// `[verify.NAME]` with `from`, `key`, `add` and `count`, their names
/// checked against `tables`.
fn verify_sums(
    d: &mut Vec<Diagnostic>,
    raw: &[(Spanned<String>, Spanned<Entries>)],
    tables: &[Table],
) -> Vec<VerifySums> {
    let mut out = Vec::new();
    for (name, entries) in raw {
        let what = format!("`verify.{}`", name.get_ref());
        let mut k = Keys::new(entries.get_ref(), what.clone());
        let from = k.string(d, "from");
        let from = k.require(
            d,
            &entries.span(),
            "from",
            from,
            "\"readings\" (the Genfile's table)",
        );
        let names =
            |k: &mut Keys<'_>, d: &mut Vec<Diagnostic>, key: &str| -> Vec<(String, Range<usize>)> {
                let Some(v) = k.get(key) else {
                    d.push(
                        Diagnostic::new(entries.span(), format!("{what}: missing `{key}`"))
                            .help(format!("add `{key} = [\"COLUMN\"]`")),
                    );
                    return Vec::new();
                };
                let list: Option<Vec<String>> = match v.get_ref() {
                    TomlValue::String(s) => Some(vec![s.clone()]),
                    TomlValue::Array(a) if !a.is_empty() => {
                        a.iter().map(|x| x.as_str().map(str::to_owned)).collect()
                    }
                    _ => None,
                };
                match list {
                    Some(list) => list.into_iter().map(|n| (n, v.span())).collect(),
                    None => {
                        d.push(
                            Diagnostic::new(v.span(), format!("{what}: `{key}` must name columns"))
                                .help(format!("e.g. `{key} = [\"COLUMN\"]`")),
                        );
                        Vec::new()
                    }
                }
            };
        let key = names(&mut k, d, "key");
        let add = names(&mut k, d, "add");
        let count = k.string(d, "count").map(|(s, _)| s.to_owned());
        k.report_unknown(d, &["from", "key", "add", "count"]);
        let Some((from, span)) = from else { continue };
        let Some(table) = tables.iter().find(|t| t.name == from) else {
            let mut diag = Diagnostic::new(span, format!("{what}: no table `{from}`"));
            if let Some(near) = crate::diag::nearest(from, tables.iter().map(|t| t.name.as_str())) {
                diag = diag.help(format!("did you mean `{near}`?"));
            }
            d.push(diag);
            continue;
        };
        let mut ok = true;
        for (column, span) in key.iter().chain(&add) {
            if table.column_index(column).is_none() {
                d.push(Diagnostic::new(
                    span.clone(),
                    format!("{what}: table `{from}` has no column `{column}`"),
                ));
                ok = false;
            }
        }
        if ok && !key.is_empty() && !add.is_empty() {
            out.push(VerifySums {
                name: name.get_ref().clone(),
                from: from.to_owned(),
                key: key.into_iter().map(|(n, _)| n).collect(),
                add: add.into_iter().map(|(n, _)| n).collect(),
                count,
                span: name.span(),
            });
        }
    }
    out
}

/// `per = { parent = "TABLE", count = … }`.
fn per_size(d: &mut Vec<Diagnostic>, what: &str, per: &Spanned<Entries>) -> Option<DraftSize> {
    let mut k = Keys::new(per.get_ref(), format!("{what}: `per`"));
    let parent = k.string(d, "parent");
    let parent = k.require(d, &per.span(), "parent", parent, "\"TABLE\"");
    let count = k.get("count");
    let count = k.require(d, &per.span(), "count", count, "{ fixed = N }");
    k.report_unknown(d, &["parent", "count"]);
    let (parent, span) = parent?;
    // A bad count is reported; keep the parent so columns still resolve.
    let count = count
        .and_then(|c| dist::count(d, what, c))
        .unwrap_or(Count::Fixed(0));
    Some(DraftSize::Per {
        parent: parent.to_owned(),
        span,
        count,
    })
}
