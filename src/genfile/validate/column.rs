//! Column specs: a column's keys → its generator, SQL type and the names
//! still to resolve once every table is known.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use super::keys::Keys;
use super::{unknown_locale, GENERATORS};
use crate::genfile::diag::{nearest, Diagnostic};
use crate::genfile::raw::Ordered;
use crate::genfile::schema::*;

const COMMON_KEYS: &[&str] = &[
    "primary_key",
    "unique",
    "null_rate",
    "type",
    "doc",
    "locale",
];

/// What every column spec may refer to besides its own keys.
#[derive(Debug, Clone, Copy)]
pub(super) struct Env<'a> {
    /// The default locale of built-in dictionaries.
    pub(super) locale: Locale,
    /// The names of the user dictionaries, in index order.
    pub(super) dicts: &'a [String],
}

/// The keys that say where a column's values come from; exactly one is given.
const SOURCES: [&str; 7] = ["gen", "ref", "parent", "expr", "lookup", "agg", "cases"];

const DIST_NAMES: &[&str] = &[
    "uniform",
    "normal",
    "lognormal",
    "exponential",
    "zipf",
    "poisson",
];

fn gen_keys(gen: &str) -> &'static [&'static str] {
    match gen {
        "sequence" => &["start", "step"],
        "int" | "decimal" | "date" | "timestamp" => &["min", "max", "dist", "scale"],
        "float" => &["min", "max", "dist", "precision"],
        "bool" => &["p"],
        "string" => &["len", "charset"],
        "pattern" => &["pattern"],
        "uuid" => &["version", "min", "max"],
        "choice" => &["values", "weights", "dist"],
        "internet.email" => &["from"],
        "hash" => &["algo", "of"],
        "dict" => &["dict", "dist"],
        "lorem" => &["words"],
        "br.cpf" | "br.cnpj" => &["formatted"],
        "object" => &["fields"],
        "array" => &["len", "item"],
        _ => &[],
    }
}

/// A name to resolve once every table is known.
#[derive(Debug)]
pub(super) enum Link {
    Ref {
        target: String,
        span: Range<usize>,
    },
    Parent {
        column: String,
        span: Range<usize>,
    },
    From {
        column: String,
        span: Range<usize>,
    },
    Expr {
        src: String,
        span: Range<usize>,
    },
    Lookup {
        target: String,
        via: String,
        span: Range<usize>,
        via_span: Range<usize>,
    },
    Agg {
        func: AggFunc,
        child: String,
        column: Option<String>,
        span: Range<usize>,
    },
    Cases(Vec<CaseDraft>),
}

/// One branch of `cases`, before resolution.
#[derive(Debug)]
pub(super) struct CaseDraft {
    /// Where the case is written (the `cases` array: TOML keeps no finer span).
    pub(super) span: Range<usize>,
    pub(super) when: Option<(String, Range<usize>)>,
    pub(super) gen: Gen,
    pub(super) sql_type: SqlType,
    pub(super) link: Option<Link>,
}

pub(super) struct Draft {
    pub(super) column: Column,
    pub(super) link: Option<Link>,
    pub(super) when: Option<(String, Range<usize>)>,
}

/// Reads `{ NAME = { PARAMS } }` (or a bare string for parameterless forms).
pub(super) fn tagged(v: &Spanned<TomlValue>) -> Option<(&str, Option<&toml::Table>)> {
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

pub(super) fn param(params: Option<&toml::Table>, key: &str) -> Option<f64> {
    match params?.get(key)? {
        TomlValue::Integer(i) => Some(*i as f64),
        TomlValue::Float(f) => Some(*f),
        _ => None,
    }
}

/// Parses a `dist`; `what` names the column.
pub(super) fn dist(d: &mut Vec<Diagnostic>, what: &str, v: &Spanned<TomlValue>) -> Option<Dist> {
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
        "poisson" => Some(Dist::Poisson {
            lambda: need(d, "lambda", true)?,
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

pub(super) fn count(d: &mut Vec<Diagnostic>, what: &str, v: &Spanned<TomlValue>) -> Option<Count> {
    const FORMS: &str = "{ fixed = N }, { uniform = { min, max } }, { poisson = { lambda } }, { normal = { mean, std } }, { lognormal = { mu, sigma } }, { exponential = { lambda } }, { zipf = { s, max } }";
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
        "lognormal" => match (num("mu"), num("sigma")) {
            (Some(mu), Some(sigma)) if sigma > 0.0 => Some(Count::LogNormal { mu, sigma }),
            _ => bad(d, "`lognormal` count needs `mu` and `sigma` greater than 0"),
        },
        "exponential" => match num("lambda") {
            Some(lambda) if lambda > 0.0 => Some(Count::Exponential { lambda }),
            _ => bad(d, "`exponential` count needs `lambda` greater than 0"),
        },
        "zipf" => match (num("s"), num("max")) {
            (Some(s), Some(max)) if s > 0.0 && max >= 1.0 && max.fract() == 0.0 => {
                Some(Count::Zipf { s, max: max as u64 })
            }
            _ => bad(
                d,
                "`zipf` count needs `s` greater than 0 and a whole `max` of at least 1",
            ),
        },
        other => {
            let forms = [
                "fixed",
                "uniform",
                "poisson",
                "normal",
                "lognormal",
                "exponential",
                "zipf",
            ];
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
pub(super) fn parse_date(v: &TomlValue) -> Option<i32> {
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
pub(super) fn parse_timestamp(v: &TomlValue) -> Option<i64> {
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

pub(super) fn pattern(s: &str) -> Vec<PatternPart> {
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

pub(super) fn column(
    d: &mut Vec<Diagnostic>,
    env: Env<'_>,
    table: &str,
    name: &Spanned<String>,
    spec: &Spanned<Ordered<Spanned<TomlValue>>>,
) -> Option<Draft> {
    let what = format!("column `{table}.{}`", name.get_ref());
    let entries = &spec.get_ref().0;
    let mut k = Keys::new(entries, what.clone());
    let span = name.span();
    let errors_before = d.len();

    let when = k
        .string(d, "when")
        .map(|(src, span)| (src.to_owned(), span));

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
                env.locale
            }),
            _ => {
                k.wrong_type(d, "locale", v, "a string");
                env.locale
            }
        },
        None => env.locale,
    };
    let env = Env {
        locale,
        dicts: env.dicts,
    };

    let sources: Vec<&str> = SOURCES.into_iter().filter(|s| k.has(s)).collect();
    if sources.len() > 1 {
        d.push(
            Diagnostic::new(
                span.clone(),
                format!("{what}: `{}` and `{}` both given", sources[0], sources[1]),
            )
            .help("a column takes its values from exactly one of `gen`, `ref`, `parent`, `expr`, `lookup`, `agg` or `cases`"),
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
    } else if let Some((src, s)) = k.string(d, "expr") {
        allowed.extend(["expr", "scale"]);
        let scale = scale_key(d, &mut k, &what);
        link = Some(Link::Expr {
            src: src.to_owned(),
            span: s,
        });
        (
            Gen::Expr {
                expr: placeholder(),
                scale,
            },
            SqlType::Text,
        )
    } else if let Some((target, s)) = k.string(d, "lookup") {
        allowed.extend(["lookup", "via"]);
        let via = k.string(d, "via");
        let (via, via_span) = k.require(d, &s, "via", via, "\"REF_COLUMN\"")?;
        link = Some(Link::Lookup {
            target: target.to_owned(),
            via: via.to_owned(),
            span: s,
            via_span,
        });
        let gen = Gen::Lookup {
            via: usize::MAX,
            table: usize::MAX,
            column: usize::MAX,
        };
        (gen, SqlType::Text)
    } else if let Some((func, s)) = k.string(d, "agg") {
        allowed.extend(["agg", "child", "column"]);
        let child = k.string(d, "child");
        let column = k.string(d, "column").map(|(c, _)| c.to_owned());
        let Some(func) = AggFunc::parse(func) else {
            d.push(
                Diagnostic::new(s, format!("{what}: unknown aggregate `{func}`"))
                    .help("use one of: sum, count, min, max, avg"),
            );
            k.report_unknown(d, &allowed);
            return None;
        };
        let (child, _) = k.require(d, &s, "child", child, "\"CHILD_TABLE\"")?;
        if column.is_none() && func != AggFunc::Count {
            k.require::<()>(d, &s, "column", None, "\"CHILD_COLUMN\"");
        }
        link = Some(Link::Agg {
            func,
            child: child.to_owned(),
            column,
            span: s,
        });
        let gen = Gen::Agg {
            func,
            child: usize::MAX,
            column: usize::MAX,
        };
        (gen, SqlType::BigInt)
    } else if let Some(v) = k.get("cases") {
        allowed.push("cases");
        let cases = cases(d, &what, v, env)?;
        link = Some(Link::Cases(cases));
        (Gen::Cases(Vec::new()), SqlType::Text)
    } else if let Some((gen_name, gen_span)) = k.string(d, "gen") {
        allowed.push("gen");
        allowed.extend(gen_keys(gen_name));
        let generated = generator(d, &mut k, &what, gen_name, gen_span, env, unique, &mut link);
        if generated.is_none() {
            k.report_unknown(d, &allowed);
        }
        generated?
    } else {
        if !sources.is_empty() {
            return None; // a source key of the wrong type, already reported
        }
        d.push(
            Diagnostic::new(span.clone(), format!("{what}: no generator"))
                .help("add `gen = \"...\"` (e.g. \"int\", \"string\", \"uuid\"), `ref = \"TABLE.COLUMN\"` or `parent = \"COLUMN\"`"),
        );
        return None;
    };

    if unique {
        let ok = matches!(
            gen,
            Gen::Sequence { .. }
                | Gen::Uuid
                | Gen::UuidV7 { .. }
                | Gen::Email { .. }
                | Gen::Int {
                    dist: Dist::Uniform,
                    ..
                }
                | Gen::Date {
                    dist: Dist::Uniform,
                    ..
                }
                | Gen::Timestamp {
                    dist: Dist::Uniform,
                    ..
                }
        );
        if !ok {
            let key = if primary_key { "primary_key" } else { "unique" };
            d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: `{key}` needs a generator that never repeats a value"),
                )
                .help("use gen = \"sequence\", \"uuid\", \"internet.email\", or \"int\", \"date\" or \"timestamp\" without `dist`"),
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
        when,
        column: Column {
            name: name.get_ref().clone(),
            gen,
            null_rate,
            primary_key,
            unique,
            sql_type,
            type_override,
            doc,
            when: None,
            late: false,
            nullable: null_rate > 0.0,
        },
        link,
    })
}

pub(super) fn generator(
    d: &mut Vec<Diagnostic>,
    k: &mut Keys<'_>,
    what: &str,
    gen_name: &str,
    gen_span: Range<usize>,
    env: Env<'_>,
    unique: bool,
    link: &mut Option<Link>,
) -> Option<(Gen, SqlType)> {
    let locale = env.locale;
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
        "uuid" => match k.int(d, "version") {
            Some((7, _)) => {
                let bound =
                    |d: &mut Vec<Diagnostic>, k: &mut Keys<'_>, key: &str, default: i64| -> i64 {
                        match k.get(key) {
                            Some(v) => parse_timestamp(v.get_ref()).map_or_else(
                                || {
                                    d.push(
                                        Diagnostic::new(
                                            v.span(),
                                            format!("{what}: `{key}` is not a valid timestamp"),
                                        )
                                        .help("write it like 2024-01-01T00:00:00Z"),
                                    );
                                    default
                                },
                                |secs| secs * 1000,
                            ),
                            None => default,
                        }
                    };
                let min = bound(d, k, "min", 1_704_067_200_000);
                let max = bound(d, k, "max", 1_767_225_600_000);
                if min > max {
                    range_err(d, gen_span.clone(), &"min", &"max");
                }
                (Gen::UuidV7 { min, max }, SqlType::Uuid)
            }
            Some((v, s)) if v != 4 => {
                d.push(
                    Diagnostic::new(s, format!("{what}: unknown uuid version {v}"))
                        .help("use `version = 4` (random) or `version = 7` (time-ordered)"),
                );
                return None;
            }
            _ => (Gen::Uuid, SqlType::Uuid),
        },
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
                *link = Some(Link::From {
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
        "hash" => {
            let sha256 = match k.string(d, "algo") {
                Some(("sha256", _)) | None => true,
                Some(("md5", _)) => false,
                Some((other, s)) => {
                    d.push(
                        Diagnostic::new(s, format!("{what}: unknown hash `{other}`"))
                            .help("use `sha256` or `md5`"),
                    );
                    true
                }
            };
            if let Some((of, s)) = k.string(d, "of") {
                *link = Some(Link::From {
                    column: of.to_owned(),
                    span: s,
                });
            }
            (Gen::Hash { sha256, of: None }, SqlType::Text)
        }
        "dict" => {
            let name = k.string(d, "dict");
            let (name, span) = k.require(d, &gen_span, "dict", name, "\"cities\"")?;
            let source = if let Some(i) = env.dicts.iter().position(|n| n == name) {
                DictSource::User(i)
            } else if let Some(&(_, b)) = BUILTIN_DICTIONARIES.iter().find(|(n, _)| *n == name) {
                DictSource::Builtin(b, locale)
            } else {
                let all: Vec<&str> = env
                    .dicts
                    .iter()
                    .map(String::as_str)
                    .chain(BUILTIN_DICTIONARIES.iter().map(|(n, _)| *n))
                    .collect();
                let diag = Diagnostic::new(span, format!("{what}: unknown dictionary `{name}`"));
                d.push(match nearest(name, all.iter().copied()) {
                    Some(n) => diag.help(format!("did you mean `{n}`?")),
                    None => diag.help(format!(
                        "define `[dictionaries.{name}]`, or use one of: {}",
                        all.join(", ")
                    )),
                });
                return None;
            };
            (
                Gen::Dict {
                    source,
                    dist: dist_of(d, k),
                },
                SqlType::Text,
            )
        }
        "lorem" => {
            let (min, max) = len_pair(d, k, what, "words", (3, 8));
            (Gen::Lorem { min, max, locale }, SqlType::Text)
        }
        "br.cpf" | "br.cnpj" => {
            let formatted = k.bool(d, "formatted").unwrap_or(true);
            (
                Gen::BrDoc {
                    cnpj: gen_name == "br.cnpj",
                    formatted,
                },
                SqlType::Text,
            )
        }
        "internet.domain"
        | "phone"
        | "address.street"
        | "address.city"
        | "address.state"
        | "address.zip"
        | "address.country"
        | "company.name"
        | "commerce.product_name"
        | "commerce.department" => {
            let kind = match gen_name {
                "internet.domain" => Domain::InternetDomain,
                "phone" => Domain::Phone,
                "address.street" => Domain::Street,
                "address.city" => Domain::City,
                "address.state" => Domain::State,
                "address.zip" => Domain::Zip,
                "address.country" => Domain::Country,
                "company.name" => Domain::Company,
                "commerce.product_name" => Domain::ProductName,
                _ => Domain::Department,
            };
            (Gen::Domain { kind, locale }, SqlType::Text)
        }
        "object" => {
            let fields = k.get("fields");
            let fields = k.require(
                d,
                &gen_span,
                "fields",
                fields,
                "{ name = { gen = \"person.name\" } }",
            )?;
            let TomlValue::Table(table) = fields.get_ref() else {
                k.wrong_type(d, "fields", fields, "a table of column specs");
                return None;
            };
            let out: Vec<Option<Field>> = table
                .iter()
                .map(|(name, spec)| field(d, what, name, spec, fields.span(), env))
                .collect();
            (
                Gen::Object(out.into_iter().collect::<Option<Vec<_>>>()?),
                SqlType::Json,
            )
        }
        "array" => {
            let (min, max) = len_pair(d, k, what, "len", (1, 5));
            let item = k.get("item");
            let item = k.require(
                d,
                &gen_span,
                "item",
                item,
                "{ gen = \"int\", min = 1, max = 9 }",
            )?;
            let item = field(d, what, "item", item.get_ref(), item.span(), env)?;
            (
                Gen::Array {
                    min,
                    max,
                    item: Box::new(item),
                },
                SqlType::Json,
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

/// A stand-in expression until names are resolved.
pub(super) fn placeholder() -> crate::genfile::expr::Expr {
    crate::genfile::expr::Expr {
        node: crate::genfile::expr::Node::Const(crate::genfile::expr::Const::Null),
        ty: crate::genfile::expr::Ty::Null,
    }
}

fn scale_key(d: &mut Vec<Diagnostic>, k: &mut Keys<'_>, what: &str) -> Option<u8> {
    match k.int(d, "scale") {
        Some((s, _)) if (0..=9).contains(&s) => Some(s as u8),
        Some((s, span)) => {
            d.push(Diagnostic::new(
                span,
                format!("{what}: `scale` must be between 0 and 9, found {s}"),
            ));
            None
        }
        None => None,
    }
}

/// `cases = [ { when = "...", gen = ... }, ..., { gen = ... } ]`.
fn cases(
    d: &mut Vec<Diagnostic>,
    what: &str,
    v: &Spanned<TomlValue>,
    env: Env<'_>,
) -> Option<Vec<CaseDraft>> {
    let TomlValue::Array(items) = v.get_ref() else {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: `cases` must be an array of inline tables"))
                .help("e.g. cases = [ { when = \"country == 'BR'\", gen = \"br.cpf\" }, { gen = \"uuid\" } ]"),
        );
        return None;
    };
    if items.is_empty() {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: `cases` is empty"))
                .help("give at least one case"),
        );
        return None;
    }
    let errors_before = d.len();
    let mut drafts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let TomlValue::Table(table) = item else {
            d.push(Diagnostic::new(
                v.span(),
                format!("{what}: case {} must be an inline table", i + 1),
            ));
            continue;
        };
        // Values inside an array carry no spans of their own: point at `cases`.
        let entries: Vec<(Spanned<String>, Spanned<TomlValue>)> = table
            .iter()
            .map(|(key, value)| {
                (
                    Spanned::new(v.span(), key.clone()),
                    Spanned::new(v.span(), value.clone()),
                )
            })
            .collect();
        let case_what = format!("{what}, case {}", i + 1);
        let mut k = Keys::new(&entries, case_what.clone());
        let when = k
            .string(d, "when")
            .map(|(src, _)| (src.to_owned(), v.span()));
        if when.is_none() && i + 1 < items.len() {
            d.push(
                Diagnostic::new(
                    v.span(),
                    format!("{case_what}: only the last case may omit `when`"),
                )
                .help("a case without `when` matches every row, so the cases after it never would"),
            );
        }
        let mut allowed = vec!["when"];
        let mut link = None;
        let made = if let Some((src, _)) = k.string(d, "expr") {
            allowed.push("expr");
            link = Some(Link::Expr {
                src: src.to_owned(),
                span: v.span(),
            });
            Some((
                Gen::Expr {
                    expr: placeholder(),
                    scale: None,
                },
                SqlType::Text,
            ))
        } else if let Some((gen_name, _)) = k.string(d, "gen") {
            allowed.push("gen");
            allowed.extend(gen_keys(gen_name));
            generator(
                d,
                &mut k,
                &case_what,
                gen_name,
                v.span(),
                env,
                false,
                &mut link,
            )
        } else {
            d.push(
                Diagnostic::new(v.span(), format!("{case_what}: no generator"))
                    .help("a case takes `gen = ...` or `expr = ...`"),
            );
            None
        };
        k.report_unknown(d, &allowed);
        if let Some((gen, sql_type)) = made {
            drafts.push(CaseDraft {
                span: v.span(),
                when,
                gen,
                sql_type,
                link,
            });
        }
    }
    (d.len() == errors_before).then_some(drafts)
}

/// `key = [min, max]` (or a single number) for lengths and counts.
fn len_pair(
    d: &mut Vec<Diagnostic>,
    k: &mut Keys<'_>,
    what: &str,
    key: &str,
    default: (u32, u32),
) -> (u32, u32) {
    match k.get(key) {
        Some(v) => match v.get_ref() {
            TomlValue::Array(a) => match a.as_slice() {
                [TomlValue::Integer(lo), TomlValue::Integer(hi)]
                    if 0 <= *lo && lo <= hi && *hi <= 1_000_000 =>
                {
                    (*lo as u32, *hi as u32)
                }
                _ => {
                    d.push(
                        Diagnostic::new(
                            v.span(),
                            format!("{what}: `{key}` must be [min, max] with 0 <= min <= max"),
                        )
                        .help(format!("e.g. `{key} = [{}, {}]`", default.0, default.1)),
                    );
                    default
                }
            },
            TomlValue::Integer(n) if (0..=1_000_000).contains(n) => (*n as u32, *n as u32),
            _ => {
                k.wrong_type(d, key, v, "[min, max]");
                default
            }
        },
        None => default,
    }
}

/// A field of an `object` (or an `array` item): a column spec made with `gen`.
fn field(
    d: &mut Vec<Diagnostic>,
    what: &str,
    name: &str,
    spec: &TomlValue,
    span: Range<usize>,
    env: Env<'_>,
) -> Option<Field> {
    let field_what = format!("{what}, field `{name}`");
    let TomlValue::Table(table) = spec else {
        d.push(
            Diagnostic::new(span, format!("{field_what}: must be a column spec"))
                .help("e.g. `{ gen = \"int\", min = 1, max = 9 }`"),
        );
        return None;
    };
    // Values nested this deep carry no spans of their own: point at the parent key.
    let entries: Vec<(Spanned<String>, Spanned<TomlValue>)> = table
        .iter()
        .map(|(key, value)| {
            (
                Spanned::new(span.clone(), key.clone()),
                Spanned::new(span.clone(), value.clone()),
            )
        })
        .collect();
    let mut k = Keys::new(&entries, field_what.clone());
    let mut allowed = vec!["gen", "null_rate"];
    let null_rate = match k.float(d, "null_rate") {
        Some((r, s)) if !(0.0..=1.0).contains(&r) => {
            d.push(Diagnostic::new(
                s,
                format!("{field_what}: `null_rate` must be between 0 and 1, found {r}"),
            ));
            0.0
        }
        Some((r, _)) => r,
        None => 0.0,
    };
    let made = match k.string(d, "gen") {
        Some((gen_name, _)) => {
            allowed.extend(gen_keys(gen_name));
            let mut link = None;
            let made = generator(
                d,
                &mut k,
                &field_what,
                gen_name,
                span.clone(),
                env,
                false,
                &mut link,
            );
            if link.is_some() {
                d.push(
                    Diagnostic::new(
                        span.clone(),
                        format!("{field_what}: fields cannot read other columns"),
                    )
                    .help("remove `from` / `of` inside object fields"),
                );
                None
            } else {
                made
            }
        }
        None => {
            d.push(
                Diagnostic::new(span.clone(), format!("{field_what}: no generator"))
                    .help("a field takes `gen = ...`, e.g. `{ gen = \"int\", min = 1, max = 9 }`"),
            );
            None
        }
    };
    k.report_unknown(d, &allowed);
    let (gen, sql_type) = made?;
    Some(Field {
        name: name.to_owned(),
        gen,
        null_rate,
        sql_type,
    })
}
