//! `[tables.NAME.lifecycle]`: the states a table's rows move through,
//! read into a [`Lifecycle`] and the columns it makes — on the table, its
//! final state (and when it was entered, and when the states of `set`
//! were); and, with `history`, a table with one row per state entered.

use std::ops::Range;
use std::sync::Arc;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use super::draft::{Draft, DraftSize, Link, TableDraft};
use crate::diag::keys::Keys;
use crate::diag::{nearest, Diagnostic};
use crate::expr::Ty;
use crate::generators::dist::Count;
use crate::generators::lifecycle::{Dwell, Field, Lifecycle, LifecycleSpec, DELETED, MAX_STEPS};
use crate::generators::{Generator, ParamExpr, Spec};
use crate::schema::raw::Entries;
use crate::schema::stream::parse_duration;
use crate::schema::{Column, Gen};

const KEYS: [&str; 12] = [
    "delete",
    "changes",
    "states",
    "start",
    "transitions",
    "dwell",
    "since",
    "column",
    "at",
    "set",
    "history",
    "max_steps",
];

const EXAMPLE: &str = "e.g. `lifecycle = { states = [\"placed\", \"paid\", \"shipped\"], since = \"placed_at\", transitions = { placed = { paid = 1.0 }, paid = { shipped = 1.0 } }, dwell = { placed = \"1h\", paid = { exponential = \"1d\" } } }`";

/// Reads the lifecycle of `table` (a draft with its own columns read):
/// adds the columns it makes to the draft and returns the drafts of the
/// history and changes tables it asks for. Problems go to `d`.
pub(super) fn read(
    d: &mut Vec<Diagnostic>,
    table: &mut TableDraft,
    section: &Spanned<Entries>,
) -> Vec<TableDraft> {
    let what = format!("table `{}`: `lifecycle`", table.name);
    let whole = section.span();
    let mut k = Keys::new(section.get_ref(), what.clone());
    let states = k.get("states");
    let states = k.require(d, &whole, "states", states, "[\"placed\", \"paid\"]");
    let states: Vec<String> = match states.map(|v| (v.get_ref(), v.span())) {
        Some((TomlValue::Array(items), span)) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let mut problem = None;
            let twice = (1..names.len()).find(|&i| names[..i].contains(&names[i]));
            if names.len() != items.len() || names.is_empty() {
                problem =
                    Some("must be a list of state names, e.g. [\"placed\", \"paid\"]".to_owned());
            } else if names.iter().any(|n| n.is_empty()) {
                problem = Some("a state's name must not be empty".to_owned());
            } else if let Some(i) = twice {
                problem = Some(format!("names the state `{}` twice", names[i]));
            }
            if let Some(problem) = problem {
                d.push(Diagnostic::new(span, format!("{what}: `states` {problem}")).help(EXAMPLE));
                return Vec::new();
            }
            names
        }
        Some((_, span)) => {
            d.push(
                Diagnostic::new(span, format!("{what}: `states` must be a list of names"))
                    .help(EXAMPLE),
            );
            return Vec::new();
        }
        None => return Vec::new(),
    };
    let state = |d: &mut Vec<Diagnostic>, name: &str, span: &Range<usize>, key: &str| {
        let found = states.iter().position(|s| s == name);
        if found.is_none() {
            let mut diag = Diagnostic::new(
                span.clone(),
                format!("{what}: `{key}` names `{name}`, which is not one of `states`"),
            );
            diag = match nearest(name, states.iter().map(String::as_str)) {
                Some(near) => diag.help(format!("did you mean `{near}`?")),
                None => diag.help(format!("the states are {}", states.join(", "))),
            };
            d.push(diag);
        }
        found
    };
    let mut ok = true;
    let start = match k.string(d, "start") {
        Some((name, span)) => state(d, name, &span, "start").unwrap_or_else(|| {
            ok = false;
            0
        }),
        None => 0,
    };

    // transitions = { placed = { paid = 0.9, cancelled = 0.1 }, … }
    let mut next = vec![Vec::new(); states.len()];
    let transitions = k.get("transitions");
    let example = match &states[..] {
        [a, b, ..] => format!("{{ {a} = {{ {b} = 1.0 }} }}"),
        _ => "{ placed = { paid = 1.0 } }".to_owned(),
    };
    let transitions = k.require(d, &whole, "transitions", transitions, &example);
    if let Some(t) = transitions {
        let span = t.span();
        let Some(table_of) = t.get_ref().as_table() else {
            d.push(
                Diagnostic::new(
                    span,
                    format!("{what}: `transitions` must be a table of states"),
                )
                .help(EXAMPLE),
            );
            return Vec::new();
        };
        for (from, to) in table_of {
            let Some(f) = state(d, from, &span, "transitions") else {
                ok = false;
                continue;
            };
            let Some(to) = to.as_table().filter(|t| !t.is_empty()) else {
                d.push(
                    Diagnostic::new(span.clone(), format!("{what}: `transitions.{from}` must be a table of next states and their probabilities"))
                        .help(format!("e.g. `{from} = {{ {} = 1.0 }}`", states[(f + 1) % states.len()])),
                );
                ok = false;
                continue;
            };
            let mut cumulative = 0.0;
            let mut all_named = true;
            for (name, p) in to {
                let Some(s) = state(d, name, &span, &format!("transitions.{from}")) else {
                    ok = false;
                    all_named = false;
                    continue;
                };
                let p = match p {
                    TomlValue::Float(f) if f.is_finite() => *f,
                    TomlValue::Integer(i) => *i as f64,
                    _ => -1.0,
                };
                if !(0.0..=1.0).contains(&p) {
                    d.push(Diagnostic::new(
                        span.clone(),
                        format!(
                            "{what}: `transitions.{from}.{name}` must be a probability from 0 to 1"
                        ),
                    ));
                    ok = false;
                    all_named = false;
                    continue;
                }
                cumulative += p;
                next[f].push((s, cumulative));
            }
            if all_named && (cumulative - 1.0).abs() > 1e-6 {
                d.push(
                    Diagnostic::new(span.clone(), format!("{what}: the probabilities of `transitions.{from}` add up to {}, not 1", (cumulative * 1e6).round() / 1e6))
                        .help("a row leaves a state for exactly one next state: make them add up to 1 (a state with no transitions is final)"),
                );
                ok = false;
            }
            if let Some(last) = next[f].last_mut() {
                last.1 = 1.0;
            }
        }
    }

    // dwell = { placed = "1h", paid = { lognormal = { median = "1d", sigma = 0.5 } } }
    let mut dwell = vec![None; states.len()];
    if let Some(v) = k.get("dwell") {
        match v.get_ref().as_table() {
            Some(t) => {
                for (name, spec) in t {
                    let Some(s) = state(d, name, &v.span(), "dwell") else {
                        ok = false;
                        continue;
                    };
                    match read_dwell(spec) {
                        Some(w) => dwell[s] = Some(w),
                        None => {
                            d.push(
                                Diagnostic::new(v.span(), format!("{what}: `dwell.{name}` is not a length of time or a distribution of one"))
                                    .help("write a length (\"2h\", seconds as a number), `{ exponential = \"1d\" }` (the mean), `{ uniform = [\"1h\", \"3d\"] }` or `{ lognormal = { median = \"1d\", sigma = 0.5 } }`"),
                            );
                            ok = false;
                        }
                    }
                }
            }
            None => {
                d.push(
                    Diagnostic::new(
                        v.span(),
                        format!("{what}: `dwell` must be a table of states"),
                    )
                    .help(EXAMPLE),
                );
                ok = false;
            }
        }
    }
    if ok {
        let missing: Vec<&str> = (0..states.len())
            .filter(|&s| !next[s].is_empty() && dwell[s].is_none())
            .map(|s| states[s].as_str())
            .collect();
        if !missing.is_empty() {
            d.push(
                Diagnostic::new(
                    whole.clone(),
                    format!(
                        "{what}: no `dwell` for {}: how long does a row stay before it moves on?",
                        missing.join(", ")
                    ),
                )
                .help(format!(
                    "add e.g. `dwell = {{ {} = {{ exponential = \"1h\" }} }}`",
                    missing[0]
                )),
            );
        }
    }

    let max_steps = read_max_steps(d, &mut k, &what).unwrap_or(MAX_STEPS);

    let since = k.string(d, "since");
    let since = k.require(
        d,
        &whole,
        "since",
        since,
        "\"placed_at\" (a timestamp column of the row: the history starts then)",
    );
    let name_of = |k: &mut Keys<'_>, d: &mut Vec<Diagnostic>, key: &str| {
        k.string(d, key).map(|(s, span)| (s.to_owned(), span))
    };
    let column =
        name_of(&mut k, d, "column").unwrap_or_else(|| ("status".to_owned(), whole.clone()));
    let at = name_of(&mut k, d, "at");

    // set = { shipped = { shipped_at = "event_time" } }
    let mut set: Vec<(usize, String, Range<usize>)> = Vec::new();
    if let Some(v) = k.get("set") {
        let bad = |d: &mut Vec<Diagnostic>| {
            d.push(
                Diagnostic::new(v.span(), format!("{what}: `set` is a table of states, each naming the columns set to the time the row enters it"))
                    .help("e.g. `set = { shipped = { shipped_at = \"event_time\" } }`"),
            );
        };
        match v.get_ref().as_table() {
            Some(t) => {
                for (name, columns) in t {
                    let Some(s) = state(d, name, &v.span(), "set") else {
                        continue;
                    };
                    match columns.as_table() {
                        Some(cols) if cols.values().all(|c| c.as_str() == Some("event_time")) => {
                            set.extend(cols.keys().map(|c| (s, c.clone(), v.span())));
                        }
                        _ => bad(d),
                    }
                }
            }
            None => bad(d),
        }
    }
    let history = match k.get("history").map(|v| (v.get_ref(), v.span())) {
        Some((TomlValue::String(name), span)) => Some((name.clone(), None, span)),
        Some((TomlValue::Table(t), span)) => {
            match (
                t.get("table").and_then(TomlValue::as_str),
                t.get("key").map(TomlValue::as_str),
            ) {
                (Some(name), None | Some(Some(_)))
                    if t.keys().all(|k| k == "table" || k == "key") =>
                {
                    Some((
                        name.to_owned(),
                        t.get("key").and_then(TomlValue::as_str).map(str::to_owned),
                        span,
                    ))
                }
                _ => {
                    d.push(
                        Diagnostic::new(span, format!("{what}: `history` is a table's name, or `{{ table = \"NAME\", key = \"COLUMN\" }}`"))
                            .help("e.g. `history = \"order_history\"`"),
                    );
                    None
                }
            }
        }
        Some((_, span)) => {
            d.push(
                Diagnostic::new(span, format!("{what}: `history` must be a table's name"))
                    .help("e.g. `history = \"order_history\"`"),
            );
            None
        }
        None => None,
    };
    let delete = match k.get("delete") {
        None => None,
        Some(v) => {
            let t = v.get_ref().as_table();
            let rate = t.and_then(|t| match t.get("rate") {
                Some(TomlValue::Float(f)) if (0.0..=1.0).contains(f) => Some(*f),
                Some(TomlValue::Integer(i)) if (0..=1).contains(i) => Some(*i as f64),
                _ => None,
            });
            let after = t.and_then(|t| t.get("after")).and_then(read_dwell);
            match (rate, after) {
                (Some(rate), Some(after)) if t.is_some_and(|t| t.len() == 2) => Some((rate, after)),
                _ => {
                    d.push(
                        Diagnostic::new(v.span(), format!("{what}: `delete` is `{{ rate = SHARE, after = STAY }}`: the share of rows deleted once in a final state, and how long after"))
                            .help("e.g. `delete = { rate = 0.05, after = { exponential = \"30d\" } }`"),
                    );
                    None
                }
            }
        }
    };
    if delete.is_some() && states.iter().any(|s| s == DELETED) {
        d.push(Diagnostic::new(whole.clone(), format!("{what}: with `delete`, a row's last state is `{DELETED}`, which `states` names too")).help("rename that state"));
    }
    let changes = k.string(d, "changes").map(|(s, span)| (s.to_owned(), span));
    k.report_unknown(d, &KEYS);
    let Some((since, since_span)) = since else {
        return Vec::new();
    };

    let lifecycle = Arc::new(Lifecycle {
        table: table.name.clone(),
        states,
        start,
        next,
        dwell,
        max_steps,
        delete,
        ops: None,
    });
    let timed = |key: &'static str| {
        Link::Reads(
            Vec::new(),
            vec![ParamExpr {
                key,
                src: since.to_owned(),
                span: since_span.clone(),
                want: &[Ty::Timestamp, Ty::Date],
            }],
        )
    };
    // The state reads `since` too: every lifecycle's `since` is checked,
    // and comes before the columns the lifecycle makes.
    let mut added = vec![(
        column.0.clone(),
        column.1.clone(),
        Field::State,
        Some(timed("since")),
    )];
    if let Some((name, span)) = at {
        added.push((name, span, Field::StateAt, Some(timed("since"))));
    }
    for (s, name, span) in set {
        added.push((name, span, Field::Entered(s), Some(timed("since"))));
    }
    let mut made_fields: Vec<(String, Field)> = Vec::new();
    for (name, span, field, link) in added {
        made_fields.push((name.clone(), field));
        if table.columns.iter().any(|c| c.column.name == name) {
            d.push(
                Diagnostic::new(span, format!("{what}: the lifecycle makes column `{name}`, which the table defines too"))
                    .help("remove the column from `columns` (the lifecycle fills it), or give the lifecycle's column another name"),
            );
            continue;
        }
        table
            .columns
            .push(made(&lifecycle, name, span, field, link));
    }

    let since_parent = || {
        Link::Reads(
            Vec::new(),
            vec![ParamExpr {
                key: "since",
                src: format!("parent.{since}"),
                span: since_span.clone(),
                want: &[Ty::Timestamp, Ty::Date],
            }],
        )
    };
    let mut drafts = Vec::new();
    if history.is_none() && changes.is_none() {
        return drafts;
    }
    let pk: Vec<&Draft> = table
        .columns
        .iter()
        .filter(|c| c.column.primary_key)
        .collect();
    let [pk] = pk[..] else {
        let span = history.as_ref().map_or_else(
            || changes.as_ref().map_or(whole.clone(), |c| c.1.clone()),
            |h| h.2.clone(),
        );
        d.push(
            Diagnostic::new(span, format!("{what}: a `history` or `changes` table names its rows by the table's primary key, and `{}` has {}", table.name, if pk.is_empty() { "none".to_owned() } else { format!("{} columns in it", pk.len()) }))
                .help("give the table one `primary_key = true` column (e.g. `id = { gen = \"sequence\", primary_key = true }`)"),
        );
        return drafts;
    };
    let pk_name = pk.column.name.clone();
    if let Some(at) = changes {
        let since = (since, since_span.clone());
        drafts.push(changes_table(
            d,
            &what,
            table,
            &lifecycle,
            at,
            since,
            max_steps,
            |name, span| {
                let field = match made_fields.iter().find(|(n, _)| n == name)?.1 {
                    Field::State => Field::StepState,
                    Field::StateAt => Field::StepAt,
                    Field::Entered(s) => Field::EnteredBy(s),
                    other => other,
                };
                Some(made(
                    &lifecycle,
                    name.to_owned(),
                    span,
                    field,
                    Some(since_parent()),
                ))
            },
        ));
    }
    let Some((history, key, span)) = history else {
        return drafts;
    };
    let key = key.unwrap_or_else(|| format!("{}_{}", singular(&table.name), pk_name));
    if [column.0.as_str(), "seq", "at"].contains(&key.as_str()) {
        d.push(
            Diagnostic::new(span.clone(), format!("{what}: the history's key column `{key}` has the name of one of its other columns (`seq`, `{}`, `at`)", column.0))
                .help("give `history = { table = \"…\", key = \"…\" }` another key name"),
        );
        return drafts;
    }
    let mut key_column = plain(
        key,
        span.clone(),
        Gen::Parent { column: usize::MAX },
        crate::value::SqlType::BigInt,
    );
    key_column.column.doc = Some("the row whose history this is".into());
    key_column.link = Some(Link::Parent {
        column: pk_name,
        span: span.clone(),
    });
    let columns = vec![
        key_column,
        made(&lifecycle, "seq".into(), span.clone(), Field::Seq, None),
        made(&lifecycle, column.0, span.clone(), Field::StepState, None),
        made(
            &lifecycle,
            "at".into(),
            span.clone(),
            Field::StepAt,
            Some(since_parent()),
        ),
    ];
    drafts.push(TableDraft {
        name: history,
        span: span.clone(),
        size: Some(steps_per(&table.name, span, max_steps)),
        columns,
        failed: Vec::new(),
        unique: Vec::new(),
        history: Some(lifecycle),
        changes: None,
    });
    drafts
}

/// The draft of the changes table `name` of `table`: one row per change —
/// `op`, `seq`, `changed_at`, then each column of the table as `column`
/// makes it (`None`: a copy of the changed row's value).
#[allow(clippy::too_many_arguments)]
pub(super) fn changes_table(
    d: &mut Vec<Diagnostic>,
    what: &str,
    table: &TableDraft,
    lifecycle: &Arc<Lifecycle>,
    (name, span): (String, Range<usize>),
    (since, since_span): (&str, Range<usize>),
    max_steps: u32,
    mut column: impl FnMut(&str, Range<usize>) -> Option<Draft>,
) -> TableDraft {
    let since_parent = Link::Reads(
        Vec::new(),
        vec![ParamExpr {
            key: "since",
            src: format!("parent.{since}"),
            span: since_span,
            want: &[Ty::Timestamp, Ty::Date],
        }],
    );
    let mut columns = vec![
        made(lifecycle, "op".into(), span.clone(), Field::Op, None),
        made(lifecycle, "seq".into(), span.clone(), Field::Seq, None),
        made(
            lifecycle,
            "changed_at".into(),
            span.clone(),
            Field::StepAt,
            Some(since_parent),
        ),
    ];
    for c in &table.columns {
        let name = c.column.name.clone();
        if columns.iter().any(|x| x.column.name == name) {
            d.push(
                Diagnostic::new(span.clone(), format!("{what}: the `changes` table has columns `op`, `seq` and `changed_at`, and `{}` has a column `{name}` too", table.name))
                    .help("rename that column of the table"),
            );
            continue;
        }
        let draft = column(&name, span.clone()).unwrap_or_else(|| {
            let mut copy = plain(
                name.clone(),
                span.clone(),
                Gen::Parent { column: usize::MAX },
                c.column.sql_type,
            );
            copy.link = Some(Link::Parent {
                column: name,
                span: span.clone(),
            });
            copy
        });
        columns.push(draft);
    }
    TableDraft {
        name,
        span: span.clone(),
        size: Some(steps_per(&table.name, span, max_steps)),
        columns,
        failed: Vec::new(),
        unique: Vec::new(),
        history: Some(Arc::clone(lifecycle)),
        changes: Some(table.name.clone()),
    }
}

/// The size of a history or changes table of `parent`: a row per step of
/// each parent row (counted from its walk: the bound is for the plan's
/// checks), a delete included.
fn steps_per(parent: &str, span: Range<usize>, max_steps: u32) -> DraftSize {
    DraftSize::Per {
        parent: parent.to_owned(),
        span,
        count: Count::Uniform {
            min: 1,
            max: u64::from(max_steps) + 1,
        },
    }
}

/// `max_steps`: most changes of one row (default 100); `None` when the
/// value is out of range (reported).
pub(super) fn read_max_steps(d: &mut Vec<Diagnostic>, k: &mut Keys<'_>, what: &str) -> Option<u32> {
    match k.int(d, "max_steps") {
        Some((n, _)) if (1..=i64::from(MAX_STEPS)).contains(&n) => Some(n as u32),
        Some((_, span)) => {
            d.push(Diagnostic::new(
                span,
                format!("{what}: `max_steps` must be from 1 to {MAX_STEPS}"),
            ));
            None
        }
        None => Some(100),
    }
}

/// `orders` → `order`, for the history's key column (`order_id`).
fn singular(name: &str) -> &str {
    name.strip_suffix('s')
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
}

/// A column of `lifecycle` holding `field`.
pub(super) fn made(
    lifecycle: &Arc<Lifecycle>,
    name: String,
    span: Range<usize>,
    field: Field,
    link: Option<Link>,
) -> Draft {
    let spec = LifecycleSpec {
        lifecycle: Arc::clone(lifecycle),
        field,
    };
    let sql = spec.sql_type();
    let mut draft = plain(
        name,
        span,
        Gen::Catalogue(Generator {
            name: "lifecycle",
            spec: Arc::new(spec),
            reads: Vec::new(),
            exprs: Vec::new(),
        }),
        sql,
    );
    draft.column.nullable = matches!(field, Field::Entered(_));
    draft.link = link;
    draft
}

pub(super) fn plain(
    name: String,
    span: Range<usize>,
    gen: Gen,
    sql_type: crate::value::SqlType,
) -> Draft {
    Draft {
        column: Column {
            name,
            span,
            gen,
            null_rate: 0.0,
            primary_key: false,
            unique: false,
            sql_type,
            type_override: None,
            doc: None,
            when: None,
            late: false,
            nullable: false,
        },
        link: None,
        when: None,
    }
}

/// A length of time or a distribution of one.
pub(super) fn read_dwell(v: &TomlValue) -> Option<Dwell> {
    let seconds = |v: &TomlValue| parse_duration(v).map(|d| d.as_secs_f64());
    match v {
        TomlValue::Table(t) if t.len() == 1 => {
            let (name, value) = t.iter().next()?;
            match (name.as_str(), value) {
                ("fixed", v) => seconds(v).map(Dwell::Fixed),
                ("exponential", v) => seconds(v).filter(|&m| m > 0.0).map(Dwell::Exponential),
                ("uniform", TomlValue::Array(pair)) if pair.len() == 2 => {
                    match (seconds(&pair[0]), seconds(&pair[1])) {
                        (Some(lo), Some(hi)) if lo <= hi => Some(Dwell::Uniform(lo, hi)),
                        _ => None,
                    }
                }
                ("lognormal", TomlValue::Table(p))
                    if p.keys().all(|k| k == "median" || k == "sigma") =>
                {
                    let median = seconds(p.get("median")?).filter(|&m| m > 0.0)?;
                    let sigma = match p.get("sigma")? {
                        TomlValue::Float(f) => *f,
                        TomlValue::Integer(i) => *i as f64,
                        _ => return None,
                    };
                    (sigma.is_finite() && (0.0..=10.0).contains(&sigma))
                        .then_some(Dwell::LogNormal { median, sigma })
                }
                _ => None,
            }
        }
        v => seconds(v).map(Dwell::Fixed),
    }
}
