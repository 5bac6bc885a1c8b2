//! `datagen verify`: whether a store holds exactly the rows a Genfile and
//! seed make — none missing, none twice, none changed — whoever loaded it.
//!
//! The rows are recomputed, never kept: each table's expected rows and
//! the store's are summed into a [`digest::Digest`] (row count, a
//! checksum per column, and the rows' hashes per bucket of keys), in any
//! order and in bounded memory. Where two digests differ, a second pass
//! keeps only the rows of the buckets that differ, on both sides, and
//! names them by key: missing, extra, duplicated, or different in which
//! columns. Values are compared in one canonical text per type
//! ([`crate::format::canon`]).

pub mod digest;
pub mod expected;
pub mod sums;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use self::digest::{bucket_of, Digest, Kept, Row};
use self::expected::{for_each_block, RowText};
use crate::failure::{ErrorKind, Failure};
use crate::generate::plan::{plan, Limits};
use crate::generate::{Generators, Plan};
use crate::schema::{Schema, Table};
use crate::sink::Reader;

/// Rows kept per side and table, at most, to name the differences.
pub const KEPT_ROWS: usize = 200_000;

/// How to verify.
#[derive(Debug, Clone)]
pub struct Options {
    /// The seed.
    pub seed: u64,
    /// `--scale`.
    pub scale: f64,
    /// Generator threads.
    pub workers: usize,
    /// The store holds a stream's rows (`datagen stream` with `max_rows`),
    /// not a batch run's.
    pub stream: bool,
    /// Examples of each kind of difference shown per table.
    pub examples: usize,
    /// Only these tables (all when empty).
    pub tables: Vec<String>,
    /// The store's tables of sums: loaded by upsert-add, or `[verify.NAME]`.
    pub sums: Vec<sums::Sums>,
}

/// One difference, named by the row's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Expected, not in the store.
    Missing(String),
    /// In the store, not expected.
    Extra(String),
    /// In the store more often than expected: (key, times expected, times found).
    Duplicated(String, usize, usize),
    /// In the store with other values: the key, and each column that
    /// differs with its expected and found value.
    Changed(String, Vec<(String, Option<String>, Option<String>)>),
}

impl Difference {
    /// `missing`, `extra`, `duplicated` or `changed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Difference::Missing(_) => "missing",
            Difference::Extra(_) => "extra",
            Difference::Duplicated(..) => "duplicated",
            Difference::Changed(..) => "changed",
        }
    }
}

/// What verifying one table found.
#[derive(Debug, Clone)]
pub struct TableReport {
    /// The table.
    pub name: String,
    /// Rows expected.
    pub expected: u64,
    /// Rows in the store; `None` if it has no such table.
    pub found: Option<u64>,
    /// Columns whose checksums differ.
    pub columns: Vec<String>,
    /// The differences named, up to [`KEPT_ROWS`] rows examined per side.
    pub differences: Vec<Difference>,
    /// Rows in differing buckets left unexamined (the bound was reached).
    pub unexamined: u64,
    /// A `[verify.NAME]` table of sums the store does not have, not asked
    /// for by `--table`: not checked.
    pub skipped: bool,
    /// Columns the store's table lacks (then nothing else is compared).
    pub missing_columns: Vec<String>,
}

impl TableReport {
    /// Whether the store holds exactly the expected rows.
    pub fn matches(&self) -> bool {
        self.skipped
            || self.missing_columns.is_empty()
                && self.found == Some(self.expected)
                && self.columns.is_empty()
                && self.differences.is_empty()
    }
}

/// What `datagen verify` found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The store, as shown.
    pub target: String,
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Rows read from the store.
    pub rows_read: u64,
    /// Rows recomputed.
    pub rows_expected: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// Examples shown per kind.
    pub examples: usize,
}

impl Report {
    /// Whether every table matches.
    pub fn matches(&self) -> bool {
        self.tables.iter().all(TableReport::matches)
    }
}

/// The key columns of `table`: its primary key; for a lifecycle's
/// history, the entity's key and `seq`, for its changes the row's key and
/// `seq`; else every column.
fn key_columns(schema: &Schema, table: &Table) -> Vec<usize> {
    if let Some(t) = table.changes {
        let key = schema.tables[t].columns.iter().position(|c| c.primary_key);
        return vec![crate::sink::apply::LEADING + key.unwrap_or(0), 1];
    }
    if table.history.is_some() {
        return vec![0, 1];
    }
    let key: Vec<usize> = (0..table.columns.len())
        .filter(|&c| table.columns[c].primary_key)
        .collect();
    if key.is_empty() {
        (0..table.columns.len()).collect()
    } else {
        key
    }
}

/// A plan, its generators, and which tables are written (`None`: all).
type Planned = (Plan, Arc<Generators>, Option<Vec<bool>>);

/// The plan of what the store must hold, its generators and which tables
/// are written.
fn planned(schema: &Schema, options: &Options) -> Result<Planned, Failure> {
    let limits = Limits::NONE;
    let input = |e: crate::generate::plan::PlanError| Failure::new(ErrorKind::Input, e.to_string());
    if options.stream {
        if schema.stream.max_rows.is_none() {
            return Err(Failure::new(
                ErrorKind::Input,
                "a stream without `max_rows` has no end to verify\n  help: verify the stream `datagen stream --max-rows N` made with --stream --max-rows N",
            ));
        }
        let (plan, generators, _) = crate::generate::stream::plan(
            schema,
            options.seed,
            options.scale,
            crate::run::UNIT_ROWS,
            options.workers,
            &limits,
        )
        .map_err(input)?;
        let emit = schema
            .stream
            .emit
            .iter()
            .any(|e| !e)
            .then(|| schema.stream.emit.clone());
        Ok((plan, generators, emit))
    } else {
        let (plan, generators) = plan(
            schema,
            options.seed,
            options.scale,
            crate::run::UNIT_ROWS,
            options.workers,
            &limits,
        )
        .map_err(input)?;
        Ok((plan, generators, None))
    }
}

/// Verifies that `reader` (the store `target` names) holds what `schema`
/// makes with `options`.
pub fn verify(
    schema: &Schema,
    target: &str,
    reader: &mut dyn Reader,
    options: &Options,
) -> Result<Report, Failure> {
    let started = Instant::now();
    for name in &options.tables {
        if schema.table_index(name).is_none() && !options.sums.iter().any(|s| &s.name == name) {
            let names = schema
                .tables
                .iter()
                .map(|t| t.name.as_str())
                .chain(options.sums.iter().map(|s| s.name.as_str()));
            let all: Vec<&str> = names.clone().collect();
            let help = match crate::diag::nearest(name, names) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("the tables are {}", all.join(", ")),
            };
            return Err(Failure::new(
                ErrorKind::Input,
                format!("--table {name}: the Genfile has no such table\n  help: {help}"),
            ));
        }
    }
    let (plan, generators, emit) = planned(schema, options)?;
    // A stream into a database applies changes tables to their tables:
    // the store holds those tables, less the rows deleted.
    let applies = crate::sink::apply::Apply::of(schema, options.stream)?;
    let gone: Vec<Option<(Arc<crate::generators::lifecycle::Lifecycle>, u64)>> =
        (0..schema.tables.len())
            .map(|t| {
                applies
                    .iter()
                    .flatten()
                    .find(|a| a.table == t)
                    .and_then(|a| {
                        let lc = schema.tables[a.changes].history.clone()?;
                        let key = lc.key(options.seed);
                        Some((lc, key))
                    })
            })
            .collect();
    let chosen: Vec<bool> = schema
        .tables
        .iter()
        .enumerate()
        .map(|(t, table)| {
            (emit.as_ref().is_none_or(|e| e[t]) && applies[t].is_none() || gone[t].is_some())
                && (options.tables.is_empty() || options.tables.contains(&table.name))
                // A table loaded by upsert-add holds sums, not rows.
                && !options.sums.iter().any(|s| s.name == table.name && s.merge.table == t)
        })
        .collect();
    for name in &options.tables {
        let Some(t) = schema.table_index(name) else {
            continue;
        };
        if chosen[t] || options.sums.iter().any(|s| &s.name == name) {
            continue;
        }
        let why = match (applies[t].as_ref(), schema.tables[t].changes) {
            (Some(a), _) => format!(
                "`{name}` is not stored: its changes are applied to `{}`\n  help: --table {}",
                schema.tables[a.table].name, schema.tables[a.table].name
            ),
            _ => format!(
                "`{name}` is not in the stream (`[stream.tables.{name}] emit = false`)\n  help: name a table the stream emits"
            ),
        };
        return Err(Failure::new(ErrorKind::Input, format!("--table {why}")));
    }
    let keys: Vec<Vec<usize>> = schema
        .tables
        .iter()
        .map(|t| key_columns(schema, t))
        .collect();
    let input = |e: crate::generate::ValueError| Failure::new(ErrorKind::Input, e.to_string());

    // Pass 1: digests of what must be and of what is.
    let states = for_each_block(
        plan.units(generators.clone()),
        &generators,
        options.workers,
        Some(&chosen),
        || {
            let digests: Vec<Digest> = schema
                .tables
                .iter()
                .map(|t| Digest::new(t.columns.len()))
                .collect();
            (digests, RowText::default())
        },
        |(digests, text), block| {
            for i in 0..block.len() {
                if deleted(&gone[block.table], block, i) {
                    continue;
                }
                let values = text.of_block(schema, block, i);
                digests[block.table].add(&Row {
                    values: &values,
                    key: &keys[block.table],
                });
            }
        },
    )
    .map_err(input)?;
    let mut expected: Vec<Digest> = schema
        .tables
        .iter()
        .map(|t| Digest::new(t.columns.len()))
        .collect();
    for (digests, _) in &states {
        for (e, d) in expected.iter_mut().zip(digests) {
            e.merge(d);
        }
    }
    let mut found: Vec<Option<Digest>> = vec![None; schema.tables.len()];
    let mut missing: Vec<Vec<String>> = vec![Vec::new(); schema.tables.len()];
    let mut rows_read = 0;
    for (t, table) in schema.tables.iter().enumerate() {
        if !chosen[t] {
            continue;
        }
        // A store's table without some column is reported so, not read.
        if let Some(has) = reader.columns(&table.name)? {
            missing[t] = table
                .columns
                .iter()
                .filter(|c| !has.contains(&c.name))
                .map(|c| c.name.clone())
                .collect();
            if !missing[t].is_empty() {
                found[t] = Some(Digest::new(table.columns.len()));
                continue;
            }
        }
        let mut digest = Digest::new(table.columns.len());
        let mut text = RowText::default();
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let read = reader.scan(&table.name, &columns, &mut |values| {
            let values = text.of_store(table, values);
            digest.add(&Row {
                values: &values,
                key: &keys[t],
            });
        })?;
        rows_read += digest.rows;
        found[t] = read.map(|_| digest);
    }

    // Pass 2: the rows of the buckets that differ, by key.
    let differing: Vec<Option<Vec<bool>>> = (0..schema.tables.len())
        .map(|t| match &found[t] {
            Some(f) if chosen[t] && missing[t].is_empty() && *f != expected[t] => {
                Some(expected[t].buckets_differing(f))
            }
            _ => None,
        })
        .collect();
    let mut kept_expected: Vec<Kept> = (0..schema.tables.len()).map(|_| Kept::default()).collect();
    let mut kept_found: Vec<Kept> = (0..schema.tables.len()).map(|_| Kept::default()).collect();
    if differing.iter().any(Option::is_some) {
        let second: Vec<bool> = differing.iter().map(Option::is_some).collect();
        let names: Vec<Vec<String>> = schema
            .tables
            .iter()
            .map(|t| t.columns.iter().map(|c| c.name.clone()).collect())
            .collect();
        let states = for_each_block(
            plan.units(generators.clone()),
            &generators,
            options.workers,
            Some(&second),
            || {
                let kept: Vec<Kept> = (0..schema.tables.len()).map(|_| Kept::default()).collect();
                (kept, RowText::default())
            },
            |(kept, text), block| {
                let t = block.table;
                let Some(buckets) = &differing[t] else { return };
                for i in 0..block.len() {
                    if deleted(&gone[t], block, i) {
                        continue;
                    }
                    let values = text.of_block(schema, block, i);
                    let row = Row {
                        values: &values,
                        key: &keys[t],
                    };
                    if buckets[bucket_of(row.key_hash())] {
                        kept[t].keep(&row, &names[t], KEPT_ROWS);
                    }
                }
            },
        )
        .map_err(input)?;
        for (kept, _) in states {
            for (all, part) in kept_expected.iter_mut().zip(kept) {
                all.count += part.count;
                all.dropped += part.dropped;
                for (k, mut rows) in part.rows {
                    all.rows.entry(k).or_default().append(&mut rows);
                }
            }
        }
        for (t, table) in schema.tables.iter().enumerate() {
            let Some(buckets) = &differing[t] else {
                continue;
            };
            let mut text = RowText::default();
            let kept = &mut kept_found[t];
            let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            reader.scan(&table.name, &columns, &mut |values| {
                let values = text.of_store(table, values);
                let row = Row {
                    values: &values,
                    key: &keys[t],
                };
                if buckets[bucket_of(row.key_hash())] {
                    kept.keep(&row, &names[t], KEPT_ROWS);
                }
            })?;
        }
    }

    let (mut sums_read, mut sums_expected) = (0, 0);
    let mut summed = Vec::new();
    for s in &options.sums {
        if !options.tables.is_empty() && !options.tables.contains(&s.name) {
            continue;
        }
        let (mut report, read) =
            sums::verify_sums(schema, &plan, &generators, options.workers, s, reader)?;
        let declared = schema.verify.iter().any(|v| v.name == s.name);
        report.skipped = report.found.is_none() && declared && !options.tables.contains(&s.name);
        if report.skipped {
            sums_expected -= report.expected;
        }
        sums_read += read;
        sums_expected += report.expected;
        summed.push(report);
    }
    let tables: Vec<TableReport> = schema
        .tables
        .iter()
        .enumerate()
        .filter(|&(t, _)| chosen[t])
        .map(|(t, table)| {
            let (columns, differences, unexamined) = match &found[t] {
                Some(f) if missing[t].is_empty() && *f != expected[t] => {
                    let columns = expected[t]
                        .columns_differing(f)
                        .into_iter()
                        .map(|c| table.columns[c].name.clone())
                        .collect();
                    let differences = compare(table, &kept_expected[t], &kept_found[t]);
                    (
                        columns,
                        differences,
                        kept_expected[t].dropped + kept_found[t].dropped,
                    )
                }
                _ => (Vec::new(), Vec::new(), 0),
            };
            TableReport {
                name: table.name.clone(),
                expected: expected[t].rows,
                found: found[t].as_ref().map(|d| d.rows),
                columns,
                differences,
                unexamined,
                skipped: false,
                missing_columns: missing[t].clone(),
            }
        })
        .chain(summed)
        .collect();
    Ok(Report {
        target: target.to_owned(),
        tables,
        rows_read: rows_read + sums_read,
        rows_expected: expected.iter().map(|d| d.rows).sum::<u64>() + sums_expected,
        elapsed: started.elapsed(),
        examples: options.examples,
    })
}

/// Whether row `i` of `block` is deleted by the end of its history (its
/// table built by applying changes, `gone` its lifecycle and key).
fn deleted(
    gone: &Option<(Arc<crate::generators::lifecycle::Lifecycle>, u64)>,
    block: &crate::value::Block,
    i: usize,
) -> bool {
    gone.as_ref()
        .is_some_and(|(lc, key)| lc.last(*key, block.first_row + i as u64).deleted)
}

/// The differences between the rows kept on each side, by key, sorted.
fn compare(table: &Table, expected: &Kept, found: &Kept) -> Vec<Difference> {
    let keys: BTreeSet<&String> = expected.rows.keys().chain(found.rows.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let e = expected.rows.get(key).map_or(&[][..], Vec::as_slice);
        let f = found.rows.get(key).map_or(&[][..], Vec::as_slice);
        match (e.len(), f.len()) {
            (_, 0) => out.push(Difference::Missing(key.clone())),
            (0, _) => out.push(Difference::Extra(key.clone())),
            (n, m) if m > n => out.push(Difference::Duplicated(key.clone(), n, m)),
            _ => {}
        }
        if let (Some(a), Some(b)) = (e.first(), f.first()) {
            if f.iter().any(|row| row != a) {
                let b = f.iter().find(|row| *row != a).unwrap_or(b);
                let changed: Vec<_> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| a[c] != b[c])
                    .map(|(c, column)| (column.name.clone(), a[c].clone(), b[c].clone()))
                    .collect();
                out.push(Difference::Changed(key.clone(), changed));
            }
        }
    }
    out
}

/// A value as a report shows it: NULL, or text the store holds that is
/// not a value of its column's type, said so.
fn shown(v: Option<&str>) -> String {
    match v {
        None => "NULL".to_owned(),
        Some(v) => match v.strip_prefix(crate::format::canon::UNREADABLE) {
            Some(raw) => format!("{raw:?} (not a value of the column's type)"),
            None => v.to_owned(),
        },
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.tables.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &self.tables {
            if t.skipped {
                writeln!(
                    f,
                    "  {:width$}  skipped  not in this store ([verify.{}]; --table {} checks it)",
                    t.name, t.name, t.name
                )?;
                continue;
            }
            if !t.missing_columns.is_empty() {
                writeln!(
                    f,
                    "  {:width$}  DIFFERS  the store's table has no column {}",
                    t.name,
                    t.missing_columns.join(", ")
                )?;
                continue;
            }
            let found = t
                .found
                .map_or("no such table".to_owned(), |n| format!("{n} rows"));
            let verdict = if t.matches() { "ok" } else { "DIFFERS" };
            writeln!(
                f,
                "  {:width$}  {verdict:7}  expected {} rows, found {found}",
                t.name, t.expected
            )?;
            if t.matches() || t.found.is_none() {
                continue;
            }
            if !t.columns.is_empty() && t.found == Some(t.expected) {
                writeln!(f, "      columns that differ: {}", t.columns.join(", "))?;
            }
            for kind in ["missing", "extra", "duplicated", "changed"] {
                let all: Vec<&Difference> =
                    t.differences.iter().filter(|d| d.kind() == kind).collect();
                if all.is_empty() {
                    continue;
                }
                let s = if all.len() == 1 { "" } else { "s" };
                writeln!(f, "      {kind}: {} row{s}", all.len())?;
                for d in all.iter().take(self.examples) {
                    match d {
                        Difference::Missing(k) | Difference::Extra(k) => {
                            writeln!(f, "        {k}")?
                        }
                        Difference::Duplicated(k, n, m) => {
                            writeln!(f, "        {k} ({m} times, expected {n})")?
                        }
                        Difference::Changed(k, cols) => {
                            let cols: Vec<String> = cols
                                .iter()
                                .map(|(c, a, b)| {
                                    format!(
                                        "{c}: expected {}, found {}",
                                        shown(a.as_deref()),
                                        shown(b.as_deref())
                                    )
                                })
                                .collect();
                            writeln!(f, "        {k}: {}", cols.join("; "))?
                        }
                    }
                }
                if all.len() > self.examples {
                    writeln!(f, "        … and {} more", all.len() - self.examples)?;
                }
            }
            if t.unexamined > 0 {
                writeln!(
                    f,
                    "      {} more rows in the differing key buckets were not examined",
                    t.unexamined
                )?;
            }
        }
        let secs = self.elapsed.as_secs_f64();
        let verdict = if self.matches() {
            "the store holds exactly the expected rows"
        } else {
            "the store differs"
        };
        write!(
            f,
            "{}: {verdict} ({} rows expected, {} read, {:.2} s, {:.0} rows/s checked)",
            self.target,
            self.rows_expected,
            self.rows_read,
            secs,
            (self.rows_expected + self.rows_read) as f64 / secs.max(1e-9)
        )
    }
}
