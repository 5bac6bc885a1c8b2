//! Column specs: a column's keys → how its values are made, its SQL type
//! and the names still to resolve once every table is known. Generators
//! of the catalogue are read by their family ([`crate::generators`]);
//! the relational and derived sources (`ref`, `parent`, `expr`, `lookup`,
//! `agg`, `cases`) here.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use super::draft::{CaseDraft, Draft, Link};
use crate::diag::keys::Keys;
use crate::diag::Diagnostic;
use crate::generators::dicts::{Dictionary, Locale};
use crate::generators::dist::{self, Dist};
use crate::generators::{registry, Params, Uniqueness};
use crate::schema::raw::Entries;
use crate::schema::*;
use crate::value::SqlType;

const COMMON_KEYS: &[&str] = &[
    "primary_key",
    "unique",
    "null_rate",
    "type",
    "doc",
    "locale",
];

/// What keeps `ty` from being one column type in a CREATE TABLE: text
/// that would end the statement, comment out the rest, or leave a
/// parenthesis or a quote open. A `type` is copied into the DDL as it is,
/// so it must not be able to write another statement.
pub(super) fn sql_type_problem(ty: &str) -> Option<&'static str> {
    if ty.trim().is_empty() {
        return Some("is empty");
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = ty.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' => depth += 1,
            ')' if depth == 0 => return Some("closes a parenthesis it did not open"),
            ')' => depth -= 1,
            ';' => return Some("holds `;`, which would end the statement"),
            '-' if chars.peek() == Some(&'-') => {
                return Some("holds `--`, which would comment out the rest")
            }
            '/' if chars.peek() == Some(&'*') => {
                return Some("holds `/*`, which would comment out the rest")
            }
            '\0' => return Some("holds a NUL character"),
            _ => {}
        }
    }
    if quote.is_some() {
        Some("leaves a quote open")
    } else if depth > 0 {
        Some("leaves a parenthesis open")
    } else {
        None
    }
}

/// What every column spec may refer to besides its own keys.
#[derive(Debug, Clone, Copy)]
pub(super) struct Env<'a> {
    /// The default locale of built-in dictionaries.
    pub(super) locale: Locale,
    /// The names of the user dictionaries, in index order.
    pub(super) dicts: &'a [Dictionary],
}

/// The keys that say where a column's values come from; exactly one is given.
const SOURCES: [&str; 7] = ["gen", "ref", "parent", "expr", "lookup", "agg", "cases"];

/// Reads one column spec: how its values are made, its type, and the
/// names it gives, to resolve once every table is known.
pub(super) fn column(
    d: &mut Vec<Diagnostic>,
    env: Env<'_>,
    table: &str,
    name: &Spanned<String>,
    spec: &Spanned<Entries>,
) -> Option<Draft> {
    let what = format!("column `{table}.{}`", name.get_ref());
    let entries = spec.get_ref();
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
    let type_override = k.string(d, "type").and_then(|(s, at)| match sql_type_problem(s) {
        None => Some(s.to_owned()),
        Some(problem) => {
            d.push(
                Diagnostic::new(at, format!("{what}: `type` {problem}"))
                    .help("give one column type, e.g. `type = \"VARCHAR(40)\"` or `type = \"NUMERIC(12, 2) CHECK (x >= 0)\"`"),
            );
            None
        }
    });
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
            .and_then(|v| dist::dist(d, &what, v))
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
        let generated = catalogue(
            d,
            &mut k,
            &what,
            (gen_name, gen_span),
            env,
            &mut link,
            &mut allowed,
        );
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
        let (name, uniqueness, hint) = match &gen {
            Gen::Catalogue(g) => (g.name, g.spec.uniqueness(), g.spec.unique_hint()),
            _ => ("", Uniqueness::Repeats, None),
        };
        if uniqueness == Uniqueness::Repeats {
            let key = if primary_key { "primary_key" } else { "unique" };
            d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: `{key}` needs a generator that never repeats a value"),
                )
                .help(hint.map_or_else(registry::unique_help, str::to_owned)),
            );
        }
        if primary_key && uniqueness == Uniqueness::UniqueOnly {
            d.push(
                Diagnostic::new(
                    span.clone(),
                    format!("{what}: `primary_key` needs a sequence or uuid column"),
                )
                .help(format!("`{name}` never repeats a value, but a primary key must be a key of its row (a `sequence` or a `uuid`): use `unique = true`")),
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
            span: name.span(),
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

/// A stand-in expression until names are resolved.
pub(super) fn placeholder() -> crate::expr::Expr {
    crate::expr::Expr {
        node: crate::expr::Node::Const(crate::expr::Const::Null),
        ty: crate::expr::Ty::Null,
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
            catalogue(
                d,
                &mut k,
                &case_what,
                (gen_name, v.span()),
                env,
                &mut link,
                &mut allowed,
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

/// A generator of the catalogue, `gen = "NAME"` at `span`: read by its
/// family, its keys added to `allowed`, the earlier columns it reads left
/// in `link` to resolve.
fn catalogue(
    d: &mut Vec<Diagnostic>,
    k: &mut Keys<'_>,
    what: &str,
    (name, span): (&str, Range<usize>),
    env: Env<'_>,
    link: &mut Option<Link>,
    allowed: &mut Vec<&'static str>,
) -> Option<(Gen, SqlType)> {
    let Some(def) = registry::find(name) else {
        d.push(registry::unknown(what, name, span));
        return None;
    };
    allowed.extend(def.keys);
    let mut p = Params::new(k, d, what, span, env.locale, env.dicts, registry::field);
    let (made, reads, exprs) = registry::parse(def, &mut p);
    if !reads.is_empty() || !exprs.is_empty() {
        *link = Some(Link::Reads(reads, exprs));
    }
    let g = made?;
    let ty = g.spec.sql_type();
    Some((Gen::Catalogue(g), ty))
}

/// An unknown locale, located.
pub(super) fn unknown_locale(l: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(l.span(), format!("unknown locale `{}`", l.get_ref()))
        .help("use `en_US` or `pt_BR`")
}
