//! The Genfile as written: its TOML read into a document whose every key
//! and value keeps its place, then cut into the sections validation reads.
//!
//! Only TOML syntax stops the reading. Everything else — an unknown
//! top-level key, a section that is not a table, a number beyond 64 bits —
//! is reported and the rest read on, so that validation can report every
//! problem in one pass. Keys are kept as spanned key/value lists: which
//! keys a section or a column takes is checked by validation.

use std::ops::Range;

use serde::Deserialize;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Value as TomlValue;

use crate::diag::{nearest, Diagnostic};

/// The keys and values of a table, each with its place in the file.
pub type Entries = Vec<(Spanned<String>, Spanned<TomlValue>)>;

/// Tables and arrays may nest this deep in a Genfile; deeper is refused
/// (nothing datagen reads nests beyond 4).
pub const MAX_NESTING: usize = 32;

/// The whole file.
#[derive(Debug, Default)]
pub struct GenfileConfig {
    /// `version = 1`.
    pub version: Option<Spanned<TomlValue>>,
    /// `[run]`.
    pub run: Entries,
    /// `[pipeline]`.
    pub pipeline: Entries,
    /// `[target]`: its keys belong to the target its `url` names, which
    /// checks them.
    pub target: Entries,
    /// `[tables.NAME]`, in file order.
    pub tables: Vec<(Spanned<String>, TableConfig)>,
    /// `[dictionaries.NAME]`, in file order.
    pub dictionaries: Vec<(Spanned<String>, Spanned<Entries>)>,
    /// `[stream]`, if given.
    pub stream: Option<StreamConfig>,
    /// `[verify.NAME]`: tables of sums a store holds, in file order.
    pub verify: Vec<(Spanned<String>, Spanned<Entries>)>,
    /// A value could not be read (a number beyond 64 bits, nesting too
    /// deep) and was left out: validating the rest would report its
    /// absence as more problems.
    pub unreadable: bool,
    /// Where text values hold the NUL character, which some targets
    /// cannot store.
    pub nul: Vec<Range<usize>>,
    /// A table or dictionary was not a table and was left out (reported):
    /// names that refer to it are not reported again.
    pub misread: bool,
}

/// `[tables.NAME]`.
#[derive(Debug, Default)]
pub struct TableConfig {
    /// A fixed row count.
    pub rows: Option<Spanned<TomlValue>>,
    /// `per = { parent = "...", count = ... }`.
    pub per: Option<Spanned<Entries>>,
    /// Column specs in file order.
    pub columns: Vec<(Spanned<String>, Spanned<Entries>)>,
    /// `unique = ["a", "b"]` or `unique = [["a", "b"], ["c", "d"]]`: each
    /// group where it is written, with its column names.
    pub unique: Vec<Spanned<Vec<Spanned<String>>>>,
    /// `lifecycle = { states = [...], ... }`: the states its rows move
    /// through.
    pub lifecycle: Option<Spanned<Entries>>,
    /// `ops = { insert = 0.7, update = 0.25, ... }`: how its rows change.
    pub ops: Option<Spanned<Entries>>,
    /// Columns that are not tables (reported): not reported again.
    pub bad_columns: Vec<String>,
    /// `per` or `columns` was not a table (reported).
    pub misread: bool,
}

/// `[stream]`: its own keys, and `[stream.tables.NAME]` for each table
/// it says something of.
#[derive(Debug, Default)]
pub struct StreamConfig {
    /// The section's header, for problems of the whole.
    pub span: Range<usize>,
    /// `rate`, `duration`, … (everything but `tables`).
    pub entries: Entries,
    /// `[stream.tables.NAME]`, in file order.
    pub tables: Vec<(Spanned<String>, Spanned<Entries>)>,
}

const TOP_KEYS: [&str; 8] = [
    "version",
    "run",
    "pipeline",
    "target",
    "tables",
    "dictionaries",
    "stream",
    "verify",
];
const TABLE_KEYS: [&str; 6] = ["rows", "per", "columns", "unique", "lifecycle", "ops"];

/// Reads `text` as TOML and cuts it into sections, reporting into `d`
/// whatever does not fit; the error is TOML's own, for text that is not
/// TOML at all.
pub fn read(text: &str, d: &mut Vec<Diagnostic>) -> Result<GenfileConfig, toml::de::Error> {
    let doc = DeTable::parse(text)?.into_inner();
    let mut config = GenfileConfig::default();
    let mut cx = Cx {
        d,
        unreadable: false,
        nul: Vec::new(),
    };
    let d = &mut cx;
    for (key, value) in doc {
        let key = name(key);
        match key.get_ref().as_str() {
            "version" => config.version = leaf(d, value),
            "run" => config.run = top_section(d, &key, value),
            "pipeline" => config.pipeline = top_section(d, &key, value),
            "target" => config.target = top_section(d, &key, value),
            "stream" => config.stream = stream_config(d, &key, value),
            "tables" => {
                let place = Place {
                    what: "`tables`",
                    help: "write each table as `[tables.NAME]`",
                };
                for (name, table) in sections(d, &place, value).unwrap_or_default() {
                    match table_config(d, &name, table) {
                        Some(table) => config.tables.push((name, table)),
                        None => config.misread = true,
                    }
                }
            }
            "dictionaries" => {
                let place = Place {
                    what: "`dictionaries`",
                    help: "write each dictionary as `[dictionaries.NAME]`",
                };
                for (name, dict) in sections(d, &place, value).unwrap_or_default() {
                    let span = dict.span();
                    let what = format!("`dictionaries.{}`", name.get_ref());
                    let help = format!(
                        "write it as `[dictionaries.{}]` with `values = [...]` or `file = \"...\"`",
                        name.get_ref()
                    );
                    match section(
                        d,
                        &Place {
                            what: &what,
                            help: &help,
                        },
                        dict,
                    ) {
                        Some(entries) => config
                            .dictionaries
                            .push((name, Spanned::new(span, entries))),
                        None => config.misread = true,
                    }
                }
            }
            "verify" => {
                let place = Place {
                    what: "`verify`",
                    help:
                        "write each table of sums as `[verify.NAME]` with `from`, `key` and `add`",
                };
                for (name, sums) in sections(d, &place, value).unwrap_or_default() {
                    let span = sums.span();
                    let what = format!("`verify.{}`", name.get_ref());
                    let place = Place {
                        what: &what,
                        help: "e.g. `[verify.consumer_totals]` with `from = \"readings\"`, `key = [\"consumer_id\"]`, `add = [\"kwh\"]`",
                    };
                    match section(d, &place, sums) {
                        Some(entries) => config.verify.push((name, Spanned::new(span, entries))),
                        None => config.misread = true,
                    }
                }
            }
            _ => d.d.push(unknown(&key, "", &TOP_KEYS)),
        }
    }
    config.unreadable = cx.unreadable;
    config.nul = cx.nul;
    Ok(config)
}

/// Where reading reports, whether a value was left out, and where text
/// holds NUL.
struct Cx<'a> {
    d: &'a mut Vec<Diagnostic>,
    unreadable: bool,
    nul: Vec<Range<usize>>,
}

/// Whether text in `v` holds the NUL character.
fn holds_nul(v: &TomlValue) -> bool {
    match v {
        TomlValue::String(s) => s.contains('\0'),
        TomlValue::Array(items) => items.iter().any(holds_nul),
        TomlValue::Table(t) => t.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// A key as an owned, spanned string.
fn name(key: Spanned<toml::de::DeString<'_>>) -> Spanned<String> {
    let span = key.span();
    Spanned::new(span, key.into_inner().into_owned())
}

/// "unknown key `k`" with the nearest allowed key, or the list of them.
pub fn unknown(key: &Spanned<String>, what: &str, allowed: &[&str]) -> Diagnostic {
    let prefix = if what.is_empty() {
        String::new()
    } else {
        format!("{what}: ")
    };
    let diag = Diagnostic::new(
        key.span(),
        format!("{prefix}unknown key `{}`", key.get_ref()),
    );
    match nearest(key.get_ref(), allowed.iter().copied()) {
        Some(n) => diag.help(format!("did you mean `{n}`?")),
        None => diag.help(format!("valid keys here: {}", allowed.join(", "))),
    }
}

/// How a TOML value's type reads in messages.
fn de_type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Where a table belongs in a Genfile, for messages: what it is and how
/// it is written.
struct Place<'a> {
    /// "`[run]`", "table `t`", "column `t.a`".
    what: &'a str,
    /// How to write it.
    help: &'a str,
}

/// The entries of `value`, which must be a table; `None`, reported, when
/// it is something else.
fn table_entries<'i>(
    d: &mut Cx<'_>,
    place: &Place<'_>,
    value: Spanned<DeValue<'i>>,
) -> Option<Vec<(Spanned<toml::de::DeString<'i>>, Spanned<DeValue<'i>>)>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Table(t) => Some(t.into_iter().collect()),
        other => {
            d.d.push(
                Diagnostic::new(
                    span,
                    format!(
                        "{} must be a table, found {}",
                        place.what,
                        de_type_name(&other)
                    ),
                )
                .help(place.help.to_owned()),
            );
            None
        }
    }
}

/// A table whose values are plain TOML values: `[run]`, a column spec.
fn section(d: &mut Cx<'_>, place: &Place<'_>, value: Spanned<DeValue<'_>>) -> Option<Entries> {
    let entries = table_entries(d, place, value)?;
    Some(
        entries
            .into_iter()
            .filter_map(|(k, v)| Some((name(k), leaf(d, v)?)))
            .collect(),
    )
}

/// `[stream]`, its `tables` read as named sections.
fn stream_config(
    d: &mut Cx<'_>,
    key: &Spanned<String>,
    value: Spanned<DeValue<'_>>,
) -> Option<StreamConfig> {
    let place = Place {
        what: "`stream`",
        help: "write it as a section: `[stream]` on a line of its own, its keys below",
    };
    let mut config = StreamConfig {
        span: key.span(),
        ..StreamConfig::default()
    };
    for (k, v) in table_entries(d, &place, value)? {
        let k = name(k);
        if k.get_ref() == "tables" {
            let place = Place {
                what: "`stream.tables`",
                help: "write each table as `[stream.tables.NAME]`, e.g. `emit = false`",
            };
            for (table, entries) in sections(d, &place, v).unwrap_or_default() {
                let span = entries.span();
                let what = format!("`stream.tables.{}`", table.get_ref());
                let help = format!("write it as `[stream.tables.{}]`", table.get_ref());
                let place = Place {
                    what: &what,
                    help: &help,
                };
                if let Some(entries) = section(d, &place, entries) {
                    config.tables.push((table, Spanned::new(span, entries)));
                }
            }
        } else if let Some(v) = leaf(d, v) {
            config.entries.push((k, v));
        }
    }
    Some(config)
}

/// A section at the top (`[run]`, `[pipeline]`, `[target]`).
fn top_section(d: &mut Cx<'_>, key: &Spanned<String>, value: Spanned<DeValue<'_>>) -> Entries {
    let what = format!("`{}`", key.get_ref());
    let help = format!(
        "write it as a section: `[{}]` on a line of its own, its keys below",
        key.get_ref()
    );
    section(
        d,
        &Place {
            what: &what,
            help: &help,
        },
        value,
    )
    .unwrap_or_default()
}

/// A table of named tables: `[tables]`, `[dictionaries]`, `columns`.
fn sections<'i>(
    d: &mut Cx<'_>,
    place: &Place<'_>,
    value: Spanned<DeValue<'i>>,
) -> Option<Vec<(Spanned<String>, Spanned<DeValue<'i>>)>> {
    let entries = table_entries(d, place, value)?;
    Some(entries.into_iter().map(|(k, v)| (name(k), v)).collect())
}

/// `[tables.NAME]`: `rows`, `per` and `columns`; `None` when it is not a
/// table.
fn table_config(
    d: &mut Cx<'_>,
    table: &Spanned<String>,
    value: Spanned<DeValue<'_>>,
) -> Option<TableConfig> {
    let t = table.get_ref();
    let what = format!("table `{t}`");
    let help = format!("write it as `[tables.{t}]` with `rows = N`, then `[tables.{t}.columns]`");
    let mut config = TableConfig::default();
    let whole = format!("`tables.{t}`");
    for (key, value) in table_entries(
        d,
        &Place {
            what: &whole,
            help: &help,
        },
        value,
    )? {
        let key = name(key);
        match key.get_ref().as_str() {
            "rows" => config.rows = leaf(d, value),
            "unique" => config.unique = unique_groups(d, t, value),
            "per" => {
                let span = value.span();
                let what = format!("table `{t}`: `per`");
                let place = Place {
                    what: &what,
                    help: "e.g. `per = { parent = \"orders\", count = { uniform = { min = 1, max = 5 } } }`",
                };
                match section(d, &place, value) {
                    Some(per) => config.per = Some(Spanned::new(span, per)),
                    None => config.misread = true,
                }
            }
            "ops" => {
                let span = value.span();
                let what = format!("table `{t}`: `ops`");
                let place = Place {
                    what: &what,
                    help: "e.g. `[tables.clients.ops]` with `insert`, `update`, `delete`, `columns`, `since` and `changes`",
                };
                match section(d, &place, value) {
                    Some(o) => config.ops = Some(Spanned::new(span, o)),
                    None => config.misread = true,
                }
            }
            "lifecycle" => {
                let span = value.span();
                let what = format!("table `{t}`: `lifecycle`");
                let place = Place {
                    what: &what,
                    help: "e.g. `[tables.orders.lifecycle]` with `states`, `since`, `transitions` and `dwell`",
                };
                match section(d, &place, value) {
                    Some(l) => config.lifecycle = Some(Spanned::new(span, l)),
                    None => config.misread = true,
                }
            }
            "columns" => {
                let what = format!("table `{t}`: `columns`");
                let help = format!("write `[tables.{t}.columns]`, then one line per column, e.g. `id = {{ gen = \"sequence\" }}`");
                let Some(columns) = sections(
                    d,
                    &Place {
                        what: &what,
                        help: &help,
                    },
                    value,
                ) else {
                    config.misread = true;
                    continue;
                };
                for (column, spec) in columns {
                    let span = spec.span();
                    let what = format!("column `{t}.{}`", column.get_ref());
                    let help = format!(
                        "e.g. `{} = {{ gen = \"int\", min = 0, max = 9 }}`",
                        column.get_ref()
                    );
                    match section(
                        d,
                        &Place {
                            what: &what,
                            help: &help,
                        },
                        spec,
                    ) {
                        Some(entries) => config.columns.push((column, Spanned::new(span, entries))),
                        None => config.bad_columns.push(column.into_inner()),
                    }
                }
            }
            _ => d.d.push(unknown(&key, &what, &TABLE_KEYS)),
        }
    }
    Some(config)
}

/// A table's `unique`: one array of column names, or an array of them.
/// Anything else is reported and read as no group.
fn unique_groups(
    d: &mut Cx<'_>,
    table: &str,
    value: Spanned<DeValue<'_>>,
) -> Vec<Spanned<Vec<Spanned<String>>>> {
    let help = "list the columns whose values together never repeat, e.g. `unique = [\"store\", \"sku\"]`, or several such lists: `unique = [[\"a\", \"b\"], [\"c\", \"d\"]]` (a column unique alone takes `unique = true` in its spec)";
    let span = value.span();
    let bad = |d: &mut Cx<'_>, at: Range<usize>, found: &str| {
        d.d.push(
            Diagnostic::new(
                at,
                format!(
                    "table `{table}`: `unique` must be an array of column names, found {found}"
                ),
            )
            .help(help),
        );
    };
    let DeValue::Array(items) = value.get_ref() else {
        bad(d, span, de_type_name(value.get_ref()));
        return Vec::new();
    };
    let names = |d: &mut Cx<'_>, items: &[Spanned<DeValue<'_>>]| -> Option<Vec<Spanned<String>>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push(Spanned::new(item.span(), s.to_string())),
                other => {
                    bad(d, item.span(), &format!("{} in it", de_type_name(other)));
                    return None;
                }
            }
        }
        Some(out)
    };
    if items
        .iter()
        .any(|i| matches!(i.get_ref(), DeValue::Array(_)))
    {
        // Several groups: every item is one.
        items
            .iter()
            .filter_map(|group| match group.get_ref() {
                DeValue::Array(members) => Some(Spanned::new(group.span(), names(d, members)?)),
                other => {
                    d.d.push(
                        Diagnostic::new(
                            group.span(),
                            format!(
                                "table `{table}`: `unique` lists groups, but this item is {}, not a group",
                                de_type_name(other)
                            ),
                        )
                        .help("write every group as an array: `unique = [[\"a\", \"b\"], [\"c\", \"d\"]]`"),
                    );
                    None
                }
            })
            .collect()
    } else {
        names(d, items)
            .map(|n| vec![Spanned::new(span, n)])
            .unwrap_or_default()
    }
}

/// `value` as a plain TOML value; a number beyond 64 bits or nesting
/// deeper than [`MAX_NESTING`] is reported and the key dropped.
fn leaf(d: &mut Cx<'_>, value: Spanned<DeValue<'_>>) -> Option<Spanned<TomlValue>> {
    let span = value.span();
    if let Some(deep) = too_deep(&value, 0) {
        d.d.push(
            Diagnostic::new(
                deep,
                format!("values nest deeper than {MAX_NESTING} tables or arrays"),
            )
            .help("a Genfile's values nest a few levels at most; check the brackets"),
        );
        d.unreadable = true;
        return None;
    }
    match TomlValue::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => {
            if holds_nul(&v) {
                d.nul.push(span.clone());
            }
            Some(Spanned::new(span, v))
        }
        Err(e) => {
            let at = e.span().unwrap_or(span);
            d.d.push(number_problem(at, e.message()));
            d.unreadable = true;
            None
        }
    }
}

/// The place of the first value nested deeper than [`MAX_NESTING`].
fn too_deep(value: &Spanned<DeValue<'_>>, depth: usize) -> Option<Range<usize>> {
    if depth >= MAX_NESTING {
        return Some(value.span());
    }
    match value.get_ref() {
        DeValue::Array(a) => a.iter().find_map(|v| too_deep(v, depth + 1)),
        DeValue::Table(t) => t.values().find_map(|v| too_deep(v, depth + 1)),
        _ => None,
    }
}

/// What a plain value that cannot be read means: in practice an integer
/// beyond the 64-bit range.
fn number_problem(span: Range<usize>, message: &str) -> Diagnostic {
    if message.contains("float") {
        Diagnostic::new(span, message.trim_end().to_owned())
            .help("numbers must be finite: at most about 1.8e308 either way")
    } else if message.contains("integer") {
        Diagnostic::new(span, "integer out of range").help(format!(
            "integers lie between {} and {}",
            i64::MIN,
            i64::MAX
        ))
    } else {
        Diagnostic::new(span, message.trim_end().to_owned())
    }
}
