//! Raw Genfile → validated [`Schema`], collecting every problem on the way.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use super::diag::{nearest, Diagnostic};
use super::raw::{GenfileConfig, Ordered, TableConfig};
use super::schema::*;

/// Generators this version implements.
pub const GENERATORS: &[&str] = &[
    "sequence",
    "int",
    "float",
    "decimal",
    "bool",
    "string",
    "pattern",
    "uuid",
    "date",
    "timestamp",
    "choice",
    "person.first_name",
    "person.last_name",
    "person.name",
    "internet.email",
];

const COMMON_KEYS: &[&str] = &[
    "primary_key",
    "unique",
    "null_rate",
    "type",
    "doc",
    "locale",
];

const DIST_NAMES: &[&str] = &["uniform", "normal", "lognormal", "exponential", "zipf"];

fn gen_keys(gen: &str) -> &'static [&'static str] {
    match gen {
        "sequence" => &["start", "step"],
        "int" | "decimal" | "date" | "timestamp" => &["min", "max", "dist", "scale"],
        "float" => &["min", "max", "dist", "precision"],
        "bool" => &["p"],
        "string" => &["len", "charset"],
        "pattern" => &["pattern"],
        "uuid" => &["version"],
        "choice" => &["values", "weights", "dist"],
        "internet.email" => &["from"],
        _ => &[],
    }
}

type Entries = [(Spanned<String>, Spanned<TomlValue>)];

fn type_name(v: &TomlValue) -> &'static str {
    match v {
        TomlValue::String(_) => "a string",
        TomlValue::Integer(_) => "an integer",
        TomlValue::Float(_) => "a float",
        TomlValue::Boolean(_) => "a boolean",
        TomlValue::Datetime(_) => "a date-time",
        TomlValue::Array(_) => "an array",
        TomlValue::Table(_) => "a table",
    }
}

/// Collects diagnostics while reading one column's keys.
struct Keys<'a> {
    entries: &'a Entries,
    used: Vec<bool>,
    what: String,
}

impl<'a> Keys<'a> {
    fn new(entries: &'a Entries, what: String) -> Self {
        Keys {
            entries,
            used: vec![false; entries.len()],
            what,
        }
    }

    fn get(&mut self, key: &str) -> Option<&'a Spanned<TomlValue>> {
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.get_ref() == key)
    }

    fn wrong_type(
        &self,
        d: &mut Vec<Diagnostic>,
        key: &str,
        v: &Spanned<TomlValue>,
        expected: &str,
    ) {
        d.push(Diagnostic::new(
            v.span(),
            format!(
                "{}: `{key}` must be {expected}, found {}",
                self.what,
                type_name(v.get_ref())
            ),
        ));
    }

    fn int(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<(i64, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::Integer(i) => Some((*i, v.span())),
            _ => {
                self.wrong_type(d, key, v, "an integer");
                None
            }
        }
    }

    fn float(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<(f64, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::Integer(i) => Some((*i as f64, v.span())),
            TomlValue::Float(f) => Some((*f, v.span())),
            _ => {
                self.wrong_type(d, key, v, "a number");
                None
            }
        }
    }

    fn bool(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(d, key, v, "true or false");
                None
            }
        }
    }

    fn string(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<(&'a str, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::String(s) => Some((s.as_str(), v.span())),
            _ => {
                self.wrong_type(d, key, v, "a string");
                None
            }
        }
    }

    fn require<T>(
        &self,
        d: &mut Vec<Diagnostic>,
        span: &Range<usize>,
        key: &str,
        v: Option<T>,
        example: &str,
    ) -> Option<T> {
        if v.is_none() && !self.has(key) {
            d.push(
                Diagnostic::new(span.clone(), format!("{}: missing `{key}`", self.what))
                    .help(format!("add `{key} = {example}`")),
            );
        }
        v
    }

    fn report_unknown(&self, d: &mut Vec<Diagnostic>, allowed: &[&str]) {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let mut diag = Diagnostic::new(
                key.span(),
                format!("{}: unknown key `{}`", self.what, key.get_ref()),
            );
            diag = match nearest(key.get_ref(), allowed.iter().copied()) {
                Some(n) => diag.help(format!("did you mean `{n}`?")),
                None => diag.help(format!("valid keys here: {}", allowed.join(", "))),
            };
            d.push(diag);
        }
    }
}

/// A name to resolve once every table is known.
#[derive(Debug)]
enum Link {
    Ref { target: String, span: Range<usize> },
    Parent { column: String, span: Range<usize> },
    EmailFrom { column: String, span: Range<usize> },
}

struct Draft {
    column: Column,
    link: Option<Link>,
}

struct TableDraft {
    name: String,
    span: Range<usize>,
    size: Option<DraftSize>,
    columns: Vec<Draft>,
}

enum DraftSize {
    Rows(u64),
    Per {
        parent: String,
        span: Range<usize>,
        count: Count,
    },
}

/// Validates `raw`, read from `path`; returns the schema or every problem found.
pub fn validate(path: &Path, raw: GenfileConfig) -> Result<Schema, Vec<Diagnostic>> {
    let mut d = Vec::new();

    if let Some(v) = &raw.version {
        if *v.get_ref() != 1 {
            d.push(
                Diagnostic::new(
                    v.span(),
                    format!("unsupported Genfile version {}", v.get_ref()),
                )
                .help("this datagen reads `version = 1`"),
            );
        }
    }

    let seed = match &raw.run.seed {
        Some(s) if *s.get_ref() < 0 => {
            d.push(
                Diagnostic::new(s.span(), "`seed` must not be negative")
                    .help("use a number from 0 up"),
            );
            0
        }
        Some(s) => *s.get_ref() as u64,
        None => 0,
    };
    let locale = match &raw.run.locale {
        Some(l) => Locale::parse(l.get_ref()).unwrap_or_else(|| {
            d.push(unknown_locale(l));
            Locale::EnUs
        }),
        None => Locale::EnUs,
    };

    let mut pipeline = PipelineSettings::default();
    let positive =
        |d: &mut Vec<Diagnostic>, v: &Option<Spanned<i64>>, key: &str, min: i64| -> Option<usize> {
            let v = v.as_ref()?;
            if *v.get_ref() < min {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("`{key}` must be at least {min}, found {}", v.get_ref()),
                ));
                None
            } else {
                Some(*v.get_ref() as usize)
            }
        };
    pipeline.buffer_rows = positive(&mut d, &raw.pipeline.buffer_rows, "buffer_rows", 1);
    if let Some(b) = positive(&mut d, &raw.pipeline.batch_rows, "batch_rows", 1) {
        pipeline.batch_rows = b;
    }
    if let Some(w) = positive(&mut d, &raw.pipeline.workers, "workers", 0) {
        pipeline.workers = w;
    }

    let mut target = TargetSettings::default();
    if let Some(url) = &raw.target.url {
        if let Err(e) = crate::target::TargetUrl::parse(url.get_ref()) {
            d.push(Diagnostic::new(url.span(), e.to_string()).help(crate::target::TargetUrl::HELP));
        }
        target.url = Some(url.get_ref().clone());
    }
    if let Some(ie) = &raw.target.if_exists {
        match IfExists::parse(ie.get_ref()) {
            Some(v) => target.if_exists = v,
            None => d.push(
                Diagnostic::new(ie.span(), format!("unknown if_exists `{}`", ie.get_ref()))
                    .help("use one of: fail, truncate, append, replace"),
            ),
        }
    }

    if raw.tables.0.is_empty() {
        d.push(Diagnostic {
            span: None,
            message: "no tables defined".into(),
            help: Some(
                "add a table, e.g. `[tables.users]` with `rows = 100` and `[tables.users.columns]`"
                    .into(),
            ),
        });
    }

    let mut drafts: Vec<TableDraft> = raw
        .tables
        .0
        .iter()
        .map(|(name, table)| table_draft(&mut d, locale, name, table))
        .collect();

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
    });
    d.sort_by_key(|diag| diag.span.as_ref().map_or(0, |s| s.start));
    match schema {
        Some(schema) if d.is_empty() => Ok(schema),
        _ => Err(d),
    }
}

fn unknown_locale(l: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(l.span(), format!("unknown locale `{}`", l.get_ref()))
        .help("use `en_US` or `pt_BR`")
}

fn table_draft(
    d: &mut Vec<Diagnostic>,
    locale: Locale,
    name: &Spanned<String>,
    table: &Spanned<TableConfig>,
) -> TableDraft {
    let t = table.get_ref();
    let what = format!("table `{}`", name.get_ref());
    let size = match (&t.rows, &t.per) {
        (Some(_), Some(per)) => {
            d.push(
                Diagnostic::new(per.span(), format!("{what}: `rows` and `per` both given"))
                    .help("a table has either a fixed `rows` count or a `per` parent, not both"),
            );
            None
        }
        (None, None) => {
            d.push(
                Diagnostic::new(name.span(), format!("{what}: no row count")).help(
                    "add `rows = N`, or `per = { parent = \"TABLE\", count = { fixed = N } }`",
                ),
            );
            None
        }
        (Some(rows), None) if *rows.get_ref() < 0 => {
            d.push(Diagnostic::new(
                rows.span(),
                format!("{what}: `rows` must not be negative"),
            ));
            None
        }
        (Some(rows), None) => Some(DraftSize::Rows(*rows.get_ref() as u64)),
        (None, Some(per)) => {
            let per = per.get_ref();
            // A bad count is reported; keep the parent so columns still resolve.
            let count = count(d, &what, &per.count).unwrap_or(Count::Fixed(0));
            Some(DraftSize::Per {
                parent: per.parent.get_ref().clone(),
                span: per.parent.span(),
                count,
            })
        }
    };
    if t.columns.0.is_empty() {
        d.push(
            Diagnostic::new(name.span(), format!("{what}: no columns")).help(format!(
                "add `[tables.{}.columns]` with at least one column",
                name.get_ref()
            )),
        );
    }
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let columns = t
        .columns
        .0
        .iter()
        .filter_map(|(col, spec)| {
            if seen.insert(col.get_ref(), ()).is_some() {
                d.push(Diagnostic::new(
                    col.span(),
                    format!("{what}: column `{}` defined twice", col.get_ref()),
                ));
            }
            column(d, locale, name.get_ref(), col, spec)
        })
        .collect();
    TableDraft {
        name: name.get_ref().clone(),
        span: name.span(),
        size,
        columns,
    }
}

/// Reads `{ NAME = { PARAMS } }` (or a bare string for parameterless forms).
fn tagged(v: &Spanned<TomlValue>) -> Option<(&str, Option<&toml::Table>)> {
    match v.get_ref() {
        TomlValue::String(s) => Some((s.as_str(), None)),
        TomlValue::Table(t) if t.len() == 1 => {
            let (k, inner) = t.iter().next()?;
            match inner {
                TomlValue::Table(params) => Some((k.as_str(), Some(params))),
                _ => None,
            }
        }
        _ => None,
    }
}

fn param(params: Option<&toml::Table>, key: &str) -> Option<f64> {
    match params?.get(key)? {
        TomlValue::Integer(i) => Some(*i as f64),
        TomlValue::Float(f) => Some(*f),
        _ => None,
    }
}

/// Parses a `dist`; `what` names the column.
fn dist(d: &mut Vec<Diagnostic>, what: &str, v: &Spanned<TomlValue>) -> Option<Dist> {
    let bad = |d: &mut Vec<Diagnostic>, msg: String, help: &str| {
        d.push(Diagnostic::new(v.span(), format!("{what}: {msg}")).help(help.to_owned()));
        None
    };
    let Some((name, params)) = tagged(v) else {
        return bad(
            d,
            "`dist` must be \"uniform\" or a table like `{ normal = { mean = 0, std = 1 } }`"
                .into(),
            "see the distributions: uniform, normal, lognormal, exponential, zipf",
        );
    };
    let need = |d: &mut Vec<Diagnostic>, key: &str, positive: bool| -> Option<f64> {
        match param(params, key) {
            Some(x) if positive && x <= 0.0 => {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("{what}: `{name}.{key}` must be greater than 0"),
                ));
                None
            }
            Some(x) => Some(x),
            None => {
                d.push(
                    Diagnostic::new(v.span(), format!("{what}: `{name}` needs a number `{key}`"))
                        .help(format!("e.g. `{{ {name} = {{ {key} = 1 }} }}`")),
                );
                None
            }
        }
    };
    match name {
        "uniform" => Some(Dist::Uniform),
        "normal" => Some(Dist::Normal {
            mean: need(d, "mean", false)?,
            std: need(d, "std", true)?,
        }),
        "lognormal" => Some(Dist::LogNormal {
            mu: need(d, "mu", false)?,
            sigma: need(d, "sigma", true)?,
        }),
        "exponential" => Some(Dist::Exponential {
            lambda: need(d, "lambda", true)?,
        }),
        "zipf" => Some(Dist::Zipf {
            s: need(d, "s", true)?,
        }),
        other => {
            let help = match nearest(other, DIST_NAMES.iter().copied()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("use one of: {}", DIST_NAMES.join(", ")),
            };
            bad(d, format!("unknown distribution `{other}`"), &help)
        }
    }
}

fn count(d: &mut Vec<Diagnostic>, what: &str, v: &Spanned<TomlValue>) -> Option<Count> {
    const FORMS: &str = "{ fixed = N }, { uniform = { min, max } }, { poisson = { lambda } }, { normal = { mean, std } }";
    if let TomlValue::Integer(n) = v.get_ref() {
        if *n >= 0 {
            return Some(Count::Fixed(*n as u64));
        }
    }
    let Some(TomlValue::Table(t)) = Some(v.get_ref()) else {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: `count` must be a table"))
                .help(format!("use one of: {FORMS}")),
        );
        return None;
    };
    let Some((name, inner)) = t.iter().next().filter(|_| t.len() == 1) else {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: `count` must name one form"))
                .help(format!("use one of: {FORMS}")),
        );
        return None;
    };
    let num = |key: &str| match inner {
        TomlValue::Table(p) => param(Some(p), key),
        _ => None,
    };
    let bad = |d: &mut Vec<Diagnostic>, msg: &str| {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: {msg}"))
                .help(format!("use one of: {FORMS}")),
        );
        None
    };
    match name.as_str() {
        "fixed" => match inner {
            TomlValue::Integer(n) if *n >= 0 => Some(Count::Fixed(*n as u64)),
            _ => bad(d, "`fixed` must be a whole number of children, 0 or more"),
        },
        "uniform" => match (num("min"), num("max")) {
            (Some(min), Some(max))
                if min >= 0.0 && min <= max && min.fract() == 0.0 && max.fract() == 0.0 =>
            {
                Some(Count::Uniform {
                    min: min as u64,
                    max: max as u64,
                })
            }
            _ => bad(d, "`uniform` count needs whole numbers 0 <= min <= max"),
        },
        "poisson" => match num("lambda") {
            Some(lambda) if lambda > 0.0 => Some(Count::Poisson { lambda }),
            _ => bad(d, "`poisson` count needs `lambda` greater than 0"),
        },
        "normal" => match (num("mean"), num("std")) {
            (Some(mean), Some(std)) if std > 0.0 => Some(Count::Normal { mean, std }),
            _ => bad(d, "`normal` count needs `mean` and `std` greater than 0"),
        },
        other => {
            let forms = ["fixed", "uniform", "poisson", "normal"];
            let help = match nearest(other, forms) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("use one of: {FORMS}"),
            };
            d.push(
                Diagnostic::new(v.span(), format!("{what}: unknown count form `{other}`"))
                    .help(help),
            );
            None
        }
    }
}

/// Days since 1970-01-01 of a TOML date or an ISO date string.
fn parse_date(v: &TomlValue) -> Option<i32> {
    let text = match v {
        TomlValue::String(s) => s.clone(),
        TomlValue::Datetime(dt) if dt.time.is_none() => dt.to_string(),
        _ => return None,
    };
    let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

/// Seconds since the epoch of an RFC 3339 timestamp (a missing offset means UTC;
/// a bare date means its midnight).
fn parse_timestamp(v: &TomlValue) -> Option<i64> {
    let text = match v {
        TomlValue::String(s) => s.clone(),
        TomlValue::Datetime(dt) => dt.to_string(),
        _ => return None,
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&text) {
        return Some(t.timestamp());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&text, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    parse_date(v).map(|days| i64::from(days) * 86_400)
}

fn pattern(s: &str) -> Vec<PatternPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let part = match c {
            '#' => PatternPart::Digit,
            '?' => PatternPart::Letter,
            '*' => PatternPart::Alnum,
            '\\' => {
                literal.extend(chars.next());
                continue;
            }
            c => {
                literal.push(c);
                continue;
            }
        };
        if !literal.is_empty() {
            parts.push(PatternPart::Literal(std::mem::take(&mut literal)));
        }
        parts.push(part);
    }
    if !literal.is_empty() {
        parts.push(PatternPart::Literal(literal));
    }
    parts
}

fn column(
    d: &mut Vec<Diagnostic>,
    locale: Locale,
    table: &str,
    name: &Spanned<String>,
    spec: &Spanned<Ordered<Spanned<TomlValue>>>,
) -> Option<Draft> {
    let what = format!("column `{table}.{}`", name.get_ref());
    let entries = &spec.get_ref().0;
    let mut k = Keys::new(entries, what.clone());
    let span = name.span();
    let errors_before = d.len();

    for unsupported in ["expr", "lookup", "agg", "cases", "when"] {
        if let Some(v) = k.get(unsupported) {
            d.push(
                Diagnostic::new(
                    v.span(),
                    format!("{what}: `{unsupported}` is not supported by this version of datagen"),
                )
                .help("generate the column with `gen`, `ref` or `parent`"),
            );
        }
    }

    let primary_key = k.bool(d, "primary_key").unwrap_or(false);
    let unique = k.bool(d, "unique").unwrap_or(false) || primary_key;
    let null_rate = match k.float(d, "null_rate") {
        Some((r, s)) if !(0.0..=1.0).contains(&r) => {
            d.push(Diagnostic::new(
                s,
                format!("{what}: `null_rate` must be between 0 and 1, found {r}"),
            ));
            0.0
        }
        Some((r, s)) => {
            if primary_key && r > 0.0 {
                d.push(
                    Diagnostic::new(s, format!("{what}: a primary key cannot be NULL"))
                        .help("remove `null_rate` or `primary_key`"),
                );
            }
            r
        }
        None => 0.0,
    };
    let type_override = k.string(d, "type").map(|(s, _)| s.to_owned());
    let doc = k.string(d, "doc").map(|(s, _)| s.to_owned());
    let locale = match k.get("locale") {
        Some(v) => match v.get_ref() {
            TomlValue::String(s) => Locale::parse(s).unwrap_or_else(|| {
                d.push(unknown_locale(&Spanned::new(v.span(), s.clone())));
                locale
            }),
            _ => {
                k.wrong_type(d, "locale", v, "a string");
                locale
            }
        },
        None => locale,
    };

    let sources: Vec<&str> = ["gen", "ref", "parent"]
        .into_iter()
        .filter(|s| k.has(s))
        .collect();
    if sources.len() > 1 {
        d.push(
            Diagnostic::new(
                span.clone(),
                format!("{what}: `{}` and `{}` both given", sources[0], sources[1]),
            )
            .help("a column takes its values from exactly one of `gen`, `ref` or `parent`"),
        );
        return None;
    }

    let mut link = None;
    let mut allowed: Vec<&str> = COMMON_KEYS.to_vec();
    let (gen, sql_type) = if let Some((target, s)) = k.string(d, "ref") {
        allowed.extend(["ref", "dist"]);
        link = Some(Link::Ref {
            target: target.to_owned(),
            span: s,
        });
        let dist = k
            .get("dist")
            .and_then(|v| dist(d, &what, v))
            .unwrap_or(Dist::Uniform);
        (
            Gen::Ref {
                table: usize::MAX,
                column: usize::MAX,
                dist,
            },
            SqlType::BigInt,
        )
    } else if let Some((parent, s)) = k.string(d, "parent") {
        allowed.push("parent");
        link = Some(Link::Parent {
            column: parent.to_owned(),
            span: s,
        });
        (Gen::Parent { column: usize::MAX }, SqlType::BigInt)
    } else if let Some((gen_name, gen_span)) = k.string(d, "gen") {
        allowed.push("gen");
        allowed.extend(gen_keys(gen_name));
        let generated = generator(
            d, &mut k, &what, gen_name, gen_span, locale, unique, &mut link,
        );
        if generated.is_none() {
            k.report_unknown(d, &allowed);
        }
        generated?
    } else {
        if !sources.is_empty() {
            return None; // `gen`/`ref`/`parent` of the wrong type, already reported
        }
        d.push(
            Diagnostic::new(span.clone(), format!("{what}: no generator"))
                .help("add `gen = \"...\"` (e.g. \"int\", \"string\", \"uuid\"), `ref = \"TABLE.COLUMN\"` or `parent = \"COLUMN\"`"),
        );
        return None;
    };

    if unique {
        let ok = matches!(gen, Gen::Sequence { .. } | Gen::Uuid | Gen::Email { .. });
        if !ok {
            let key = if primary_key { "primary_key" } else { "unique" };
            d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: `{key}` needs a generator that never repeats a value"),
                )
                .help("use gen = \"sequence\" or \"uuid\" (or \"internet.email\" for `unique`)"),
            );
        }
        if primary_key && matches!(gen, Gen::Email { .. }) {
            d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: `primary_key` needs a sequence or uuid column"),
                )
                .help("use `unique = true` for e-mail addresses"),
            );
        }
    }

    k.report_unknown(d, &allowed);
    if d.len() > errors_before {
        return None;
    }
    Some(Draft {
        column: Column {
            name: name.get_ref().clone(),
            gen,
            null_rate,
            primary_key,
            unique,
            sql_type,
            type_override,
            doc,
        },
        link,
    })
}

fn generator(
    d: &mut Vec<Diagnostic>,
    k: &mut Keys<'_>,
    what: &str,
    gen_name: &str,
    gen_span: Range<usize>,
    locale: Locale,
    unique: bool,
    link: &mut Option<Link>,
) -> Option<(Gen, SqlType)> {
    let dist_of = |d: &mut Vec<Diagnostic>, k: &mut Keys<'_>| {
        k.get("dist")
            .and_then(|v| dist(d, what, v))
            .unwrap_or(Dist::Uniform)
    };
    let range_err = |d: &mut Vec<Diagnostic>,
                     span: Range<usize>,
                     min: &dyn std::fmt::Display,
                     max: &dyn std::fmt::Display| {
        d.push(
            Diagnostic::new(
                span,
                format!("{what}: min ({min}) is greater than max ({max})"),
            )
            .help("swap `min` and `max`"),
        );
    };
    let r = match gen_name {
        "sequence" => {
            let start = k.int(d, "start").map_or(1, |v| v.0);
            let step = match k.int(d, "step") {
                Some((0, s)) => {
                    d.push(
                        Diagnostic::new(s, format!("{what}: `step` must not be 0"))
                            .help("a sequence must advance"),
                    );
                    1
                }
                Some((s, _)) => s,
                None => 1,
            };
            (Gen::Sequence { start, step }, SqlType::BigInt)
        }
        "int" => {
            let min = k.int(d, "min");
            let max = k.int(d, "max");
            let (min, max) = (
                k.require(d, &gen_span, "min", min, "0")?,
                k.require(d, &gen_span, "max", max, "100")?,
            );
            if min.0 > max.0 {
                range_err(d, min.1.clone(), &min.0, &max.0);
            }
            let small = i32::try_from(min.0).is_ok() && i32::try_from(max.0).is_ok();
            let ty = if small {
                SqlType::Integer
            } else {
                SqlType::BigInt
            };
            (
                Gen::Int {
                    min: min.0,
                    max: max.0,
                    dist: dist_of(d, k),
                },
                ty,
            )
        }
        "float" => {
            let min = k.float(d, "min");
            let max = k.float(d, "max");
            let (min, max) = (
                k.require(d, &gen_span, "min", min, "0.0")?,
                k.require(d, &gen_span, "max", max, "1.0")?,
            );
            if min.0 > max.0 {
                range_err(d, min.1.clone(), &min.0, &max.0);
            }
            let precision = match k.int(d, "precision") {
                Some((p, _)) if (0..=15).contains(&p) => Some(p as u8),
                Some((p, s)) => {
                    d.push(Diagnostic::new(
                        s,
                        format!("{what}: `precision` must be between 0 and 15, found {p}"),
                    ));
                    None
                }
                None => None,
            };
            (
                Gen::Float {
                    min: min.0,
                    max: max.0,
                    dist: dist_of(d, k),
                    precision,
                },
                SqlType::Double,
            )
        }
        "decimal" => {
            let scale = match k.int(d, "scale") {
                Some((s, _)) if (0..=9).contains(&s) => s as u8,
                Some((s, span)) => {
                    d.push(Diagnostic::new(
                        span,
                        format!("{what}: `scale` must be between 0 and 9, found {s}"),
                    ));
                    2
                }
                None => 2,
            };
            let min = k.float(d, "min");
            let max = k.float(d, "max");
            let (min, max) = (
                k.require(d, &gen_span, "min", min, "0.00")?,
                k.require(d, &gen_span, "max", max, "100.00")?,
            );
            if min.0 > max.0 {
                range_err(d, min.1.clone(), &min.0, &max.0);
            }
            let pow = 10f64.powi(i32::from(scale));
            let limit = 1e17;
            if min.0.abs() * pow >= limit || max.0.abs() * pow >= limit {
                d.push(Diagnostic::new(
                    max.1.clone(),
                    format!("{what}: values too large for a decimal with scale {scale}"),
                ));
            }
            let (lo, hi) = ((min.0 * pow).round() as i64, (max.0 * pow).round() as i64);
            let int_digits = hi
                .unsigned_abs()
                .max(lo.unsigned_abs())
                .checked_ilog10()
                .map_or(1, |l| l + 1) as u8;
            let precision = int_digits.max(scale + 1);
            (
                Gen::Decimal {
                    min: lo,
                    max: hi,
                    scale,
                    dist: dist_of(d, k),
                },
                SqlType::Decimal { precision, scale },
            )
        }
        "bool" => {
            let p = match k.float(d, "p") {
                Some((p, _)) if (0.0..=1.0).contains(&p) => p,
                Some((p, s)) => {
                    d.push(Diagnostic::new(
                        s,
                        format!("{what}: `p` must be between 0 and 1, found {p}"),
                    ));
                    0.5
                }
                None => 0.5,
            };
            (Gen::Bool { p }, SqlType::Boolean)
        }
        "string" => {
            let (min_len, max_len) = match k.get("len") {
                Some(v) => {
                    match v.get_ref() {
                        TomlValue::Array(a) => {
                            match a.as_slice() {
                                [TomlValue::Integer(lo), TomlValue::Integer(hi)]
                                    if 0 <= *lo && lo <= hi && *hi <= 1_000_000 =>
                                {
                                    (*lo as u32, *hi as u32)
                                }
                                _ => {
                                    d.push(
                                Diagnostic::new(v.span(), format!("{what}: `len` must be [min, max] with 0 <= min <= max"))
                                    .help("e.g. `len = [8, 16]`"),
                            );
                                    (8, 16)
                                }
                            }
                        }
                        TomlValue::Integer(n) if *n >= 0 => (*n as u32, *n as u32),
                        _ => {
                            k.wrong_type(d, "len", v, "[min, max]");
                            (8, 16)
                        }
                    }
                }
                None => (8, 16),
            };
            let charset = match k.string(d, "charset") {
                Some(("alnum", _)) | None => Charset::Alnum,
                Some(("alpha", _)) => Charset::Alpha,
                Some(("digits", _)) => Charset::Digits,
                Some(("hex", _)) => Charset::Hex,
                Some((other, s)) => {
                    d.push(
                        Diagnostic::new(s, format!("{what}: unknown charset `{other}`"))
                            .help("use one of: alnum, alpha, digits, hex"),
                    );
                    Charset::Alnum
                }
            };
            (
                Gen::String {
                    min_len,
                    max_len,
                    charset,
                },
                SqlType::Text,
            )
        }
        "pattern" => {
            let p = k.string(d, "pattern");
            let (p, _) = k.require(d, &gen_span, "pattern", p, "\"??-####\"")?;
            (Gen::Pattern(pattern(p)), SqlType::Text)
        }
        "uuid" => {
            if let Some((v, s)) = k.int(d, "version") {
                if v != 4 {
                    d.push(
                        Diagnostic::new(s, format!("{what}: uuid version {v} is not supported by this version of datagen"))
                            .help("use `version = 4`"),
                    );
                }
            }
            (Gen::Uuid, SqlType::Uuid)
        }
        "date" | "timestamp" => {
            let is_date = gen_name == "date";
            let parse = |v: &TomlValue| -> Option<i64> {
                if is_date {
                    parse_date(v).map(i64::from)
                } else {
                    parse_timestamp(v)
                }
            };
            let example = if is_date {
                "2024-01-01"
            } else {
                "2024-01-01T00:00:00Z"
            };
            let mut bound = |d: &mut Vec<Diagnostic>, key: &str| -> Option<(i64, Range<usize>)> {
                let v = k.get(key);
                let v = k.require(d, &gen_span, key, v, example)?;
                match parse(v.get_ref()) {
                    Some(x) => Some((x, v.span())),
                    None => {
                        d.push(
                            Diagnostic::new(
                                v.span(),
                                format!("{what}: `{key}` is not a valid {gen_name}"),
                            )
                            .help(format!("write it like {example}")),
                        );
                        None
                    }
                }
            };
            let min = bound(d, "min");
            let max = bound(d, "max");
            let (min, max) = (min?, max?);
            if min.0 > max.0 {
                range_err(d, min.1.clone(), &"min", &"max");
            }
            let dist = dist_of(d, k);
            if is_date {
                (
                    Gen::Date {
                        min: min.0 as i32,
                        max: max.0 as i32,
                        dist,
                    },
                    SqlType::Date,
                )
            } else {
                (
                    Gen::Timestamp {
                        min: min.0,
                        max: max.0,
                        dist,
                    },
                    SqlType::Timestamp,
                )
            }
        }
        "choice" => {
            let values = k.get("values");
            let values = k.require(d, &gen_span, "values", values, "[\"a\", \"b\"]")?;
            let TomlValue::Array(items) = values.get_ref() else {
                k.wrong_type(d, "values", values, "an array");
                return None;
            };
            if items.is_empty() {
                d.push(
                    Diagnostic::new(values.span(), format!("{what}: `values` is empty"))
                        .help("list at least one value"),
                );
                return None;
            }
            let all = |f: fn(&TomlValue) -> bool| items.iter().all(f);
            let (literals, ty): (Vec<Literal>, SqlType) = if all(|v| v.is_str()) {
                (
                    items
                        .iter()
                        .map(|v| Literal::Text(v.as_str().unwrap_or_default().to_owned()))
                        .collect(),
                    SqlType::Text,
                )
            } else if all(|v| v.is_integer()) {
                let ints: Vec<i64> = items.iter().filter_map(TomlValue::as_integer).collect();
                let small = ints.iter().all(|i| i32::try_from(*i).is_ok());
                (
                    ints.into_iter().map(Literal::Int).collect(),
                    if small {
                        SqlType::Integer
                    } else {
                        SqlType::BigInt
                    },
                )
            } else if all(|v| v.is_integer() || v.is_float()) {
                (
                    items
                        .iter()
                        .map(|v| {
                            Literal::Float(
                                v.as_float()
                                    .or(v.as_integer().map(|i| i as f64))
                                    .unwrap_or_default(),
                            )
                        })
                        .collect(),
                    SqlType::Double,
                )
            } else if all(|v| v.is_bool()) {
                (
                    items
                        .iter()
                        .filter_map(TomlValue::as_bool)
                        .map(Literal::Bool)
                        .collect(),
                    SqlType::Boolean,
                )
            } else {
                d.push(
                    Diagnostic::new(values.span(), format!("{what}: `values` mixes types"))
                        .help("make every value a string, or every value a number, or every value a boolean"),
                );
                return None;
            };
            let weights = match k.get("weights") {
                Some(w) => {
                    let parsed: Option<Vec<f64>> = match w.get_ref() {
                        TomlValue::Array(ws) => ws
                            .iter()
                            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                            .collect(),
                        _ => None,
                    };
                    match parsed {
                        Some(ws) if ws.len() != literals.len() => {
                            d.push(
                                Diagnostic::new(
                                    w.span(),
                                    format!(
                                        "{what}: {} weights for {} values",
                                        ws.len(),
                                        literals.len()
                                    ),
                                )
                                .help("give exactly one weight per value"),
                            );
                            None
                        }
                        Some(ws)
                            if ws.iter().any(|x| *x < 0.0 || !x.is_finite())
                                || ws.iter().sum::<f64>() <= 0.0 =>
                        {
                            d.push(Diagnostic::new(
                                w.span(),
                                format!("{what}: weights must be 0 or more and not all 0"),
                            ));
                            None
                        }
                        Some(ws) => Some(ws),
                        None => {
                            k.wrong_type(d, "weights", w, "an array of numbers");
                            None
                        }
                    }
                }
                None => None,
            };
            (
                Gen::Choice {
                    values: literals,
                    weights,
                    dist: dist_of(d, k),
                },
                ty,
            )
        }
        "person.first_name" | "person.last_name" | "person.name" => {
            let part = match gen_name {
                "person.first_name" => PersonPart::First,
                "person.last_name" => PersonPart::Last,
                _ => PersonPart::Full,
            };
            (Gen::Person { part, locale }, SqlType::Text)
        }
        "internet.email" => {
            if let Some((from, s)) = k.string(d, "from") {
                *link = Some(Link::EmailFrom {
                    column: from.to_owned(),
                    span: s,
                });
            }
            (
                Gen::Email {
                    from: None,
                    locale,
                    unique,
                },
                SqlType::Text,
            )
        }
        other => {
            let diag = Diagnostic::new(gen_span, format!("{what}: unknown generator `{other}`"));
            d.push(match nearest(other, GENERATORS.iter().copied()) {
                Some(n) => diag.help(format!("did you mean `{n}`?")),
                None => diag.help(format!("available generators: {}", GENERATORS.join(", "))),
            });
            return None;
        }
    };
    Some(r)
}

/// Orders tables so that `per` parents and referenced tables come first;
/// reports cycles with their path.
fn order_tables(d: &mut Vec<Diagnostic>, drafts: &[TableDraft]) -> Option<Vec<usize>> {
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
            if let Some(Link::Ref { target, .. }) = &c.link {
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
    columns: &[(String, Gen, bool, SqlType)],
) -> Diagnostic {
    let names = columns.iter().map(|(n, ..)| n.as_str());
    let diag = Diagnostic::new(span, message);
    match nearest(name, names.clone()) {
        Some(n) => diag.help(format!("did you mean `{prefix}{n}`?")),
        None => diag.help(format!(
            "columns of `{table}`: {}",
            names.collect::<Vec<_>>().join(", ")
        )),
    }
}

fn resolve(
    d: &mut Vec<Diagnostic>,
    path: &Path,
    seed: u64,
    locale: Locale,
    pipeline: PipelineSettings,
    target: TargetSettings,
    drafts: &mut [TableDraft],
    order: &[usize],
) -> Option<Schema> {
    let position: HashMap<String, usize> = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| (drafts[i].name.clone(), pos))
        .collect();
    let mut tables: Vec<Table> = Vec::with_capacity(order.len());
    let table_names: Vec<String> = order.iter().map(|&i| drafts[i].name.clone()).collect();
    // Column names and key-ness of every table, for resolving references.
    let lookup: Vec<Vec<(String, Gen, bool, SqlType)>> = order
        .iter()
        .map(|&i| {
            drafts[i]
                .columns
                .iter()
                .map(|c| {
                    (
                        c.column.name.clone(),
                        c.column.gen.clone(),
                        c.column.unique,
                        c.column.sql_type,
                    )
                })
                .collect()
        })
        .collect();

    for (pos, &i) in order.iter().enumerate() {
        let draft = &mut drafts[i];
        let what_table = format!("table `{}`", draft.name);
        let size = match draft.size.take() {
            Some(DraftSize::Rows(n)) => TableSize::Rows(n),
            Some(DraftSize::Per { parent, count, .. }) => TableSize::Per {
                parent: *position.get(&parent)?,
                count,
            },
            None => TableSize::Rows(0),
        };
        let parent_pos = match &size {
            TableSize::Per { parent, .. } => Some(*parent),
            TableSize::Rows(_) => None,
        };
        let mut columns = Vec::with_capacity(draft.columns.len());
        for (ci, c) in draft.columns.iter().enumerate() {
            let mut column = c.column.clone();
            let what = format!("column `{}.{}`", draft.name, column.name);
            match &c.link {
                Some(Link::Ref { target, span }) => {
                    let Some((tn, cn)) = target.split_once('.') else {
                        d.push(
                            Diagnostic::new(
                                span.clone(),
                                format!("{what}: `ref` must name TABLE.COLUMN, found `{target}`"),
                            )
                            .help("e.g. `ref = \"customers.id\"`"),
                        );
                        continue;
                    };
                    let Some(&tp) = position.get(tn) else {
                        let diag =
                            Diagnostic::new(span.clone(), format!("{what}: unknown table `{tn}`"));
                        d.push(match nearest(tn, table_names.iter().map(String::as_str)) {
                            Some(n) => diag.help(format!("did you mean `{n}.{cn}`?")),
                            None => diag.help(format!("tables are: {}", table_names.join(", "))),
                        });
                        continue;
                    };
                    let cols = &lookup[tp];
                    let Some(cp) = cols.iter().position(|(n, ..)| n == cn) else {
                        let message = format!("{what}: table `{tn}` has no column `{cn}`");
                        d.push(no_such_column(
                            span.clone(),
                            message,
                            cn,
                            tn,
                            &format!("{tn}."),
                            cols,
                        ));
                        continue;
                    };
                    let (_, gen, unique, ty) = &cols[cp];
                    let keylike = matches!(gen, Gen::Sequence { .. } | Gen::Uuid);
                    if !keylike || !unique {
                        d.push(
                            Diagnostic::new(span.clone(), format!("{what}: `{tn}.{cn}` cannot be referenced"))
                                .help("a referenced column must be a sequence or uuid with `primary_key = true` or `unique = true`"),
                        );
                        continue;
                    }
                    if let Gen::Ref { dist, .. } = column.gen {
                        column.gen = Gen::Ref {
                            table: tp,
                            column: cp,
                            dist,
                        };
                    }
                    column.sql_type = *ty;
                }
                Some(Link::Parent { column: pc, span }) => {
                    let Some(pp) = parent_pos else {
                        d.push(
                            Diagnostic::new(span.clone(), format!("{what}: `parent` is only for tables with `per`"))
                                .help("add `per = { parent = \"TABLE\", count = ... }` to the table, or use `ref`"),
                        );
                        continue;
                    };
                    let cols = &lookup[pp];
                    let parent_name = &tables[pp].name;
                    let Some(cp) = cols.iter().position(|(n, ..)| n == pc) else {
                        let message =
                            format!("{what}: parent table `{parent_name}` has no column `{pc}`");
                        d.push(no_such_column(
                            span.clone(),
                            message,
                            pc,
                            parent_name,
                            "",
                            cols,
                        ));
                        continue;
                    };
                    column.gen = Gen::Parent { column: cp };
                    column.sql_type = tables[pp].columns[cp].sql_type;
                }
                Some(Link::EmailFrom { column: from, span }) => {
                    match draft.columns[..ci]
                        .iter()
                        .position(|o| &o.column.name == from)
                    {
                        Some(fi) => {
                            if let Gen::Email { locale, unique, .. } = column.gen {
                                column.gen = Gen::Email {
                                    from: Some(fi),
                                    locale,
                                    unique,
                                };
                            }
                        }
                        None => {
                            let later = draft.columns[ci..].iter().any(|o| &o.column.name == from);
                            let diag = Diagnostic::new(
                                span.clone(),
                                format!("{what}: `from` names no earlier column `{from}`"),
                            );
                            d.push(if later {
                                diag.help(format!("move `{from}` above `{}`: a column sees only the columns before it", column.name))
                            } else {
                                match nearest(from, draft.columns[..ci].iter().map(|o| o.column.name.as_str())) {
                                    Some(n) => diag.help(format!("did you mean `{n}`?")),
                                    None => diag.help("name a column above this one that holds a person's name"),
                                }
                            });
                        }
                    }
                }
                None => {}
            }
            columns.push(column);
        }
        if columns.iter().filter(|c| c.primary_key).count() > 1 {
            d.push(
                Diagnostic::new(
                    draft.span.clone(),
                    format!("{what_table}: more than one `primary_key` column"),
                )
                .help("mark one column as the primary key; use `unique = true` on the others"),
            );
        }
        tables.push(Table {
            name: draft.name.clone(),
            size,
            columns,
            children: Vec::new(),
        });
        debug_assert_eq!(tables.len(), pos + 1);
    }
    for i in 0..tables.len() {
        if let TableSize::Per { parent, .. } = tables[i].size {
            tables[parent].children.push(i);
        }
    }
    Some(Schema {
        path: path.to_path_buf(),
        seed,
        locale,
        pipeline,
        target,
        tables,
    })
}
