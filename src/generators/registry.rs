//! The catalogue's index: every family, and finding a generator by name.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use super::{
    address, br, choice, commerce, document, internet, numeric, person, temporal, text, uuid,
};
use super::{Def, Family, Field, Generator, Params};
use crate::diag::keys::Keys;
use crate::diag::{nearest, Diagnostic};

/// Every family, in the order the catalogue lists them.
pub const FAMILIES: &[&Family] = &[
    &numeric::FAMILY,
    &text::FAMILY,
    &temporal::FAMILY,
    &uuid::FAMILY,
    &choice::FAMILY,
    &person::FAMILY,
    &internet::FAMILY,
    &address::FAMILY,
    &commerce::FAMILY,
    &br::FAMILY,
    &document::FAMILY,
];

/// Every generator, family by family.
pub fn all() -> impl Iterator<Item = &'static Def> {
    FAMILIES.iter().flat_map(|f| f.generators.iter())
}

/// The generator called `name`.
pub fn find(name: &str) -> Option<&'static Def> {
    all().find(|g| g.name == name)
}

/// The problem with `gen = "{name}"` naming no generator, at `span`.
pub fn unknown(what: &str, name: &str, span: Range<usize>) -> Diagnostic {
    let diag = Diagnostic::new(span, format!("{what}: unknown generator `{name}`"));
    match nearest(name, all().map(|g| g.name)) {
        Some(n) => diag.help(format!("did you mean `{n}`?")),
        None => diag.help(format!(
            "available generators: {}",
            all().map(|g| g.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The generators that keep `unique = true`, as the hint of a refusal.
pub fn unique_help() -> String {
    let mut ways: Vec<&str> = Vec::new();
    for way in all().filter_map(|g| g.unique) {
        if !ways.contains(&way) {
            ways.push(way);
        }
    }
    match ways.split_last() {
        Some((last, [])) => format!("use {last}"),
        Some((last, rest)) => format!("use {} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Reads generator `def`'s keys from `p`: the generator (none when a
/// problem leaves nothing to build) and the earlier columns it names, to be
/// resolved into its `reads` once every column is known.
pub fn parse(
    def: &'static Def,
    p: &mut Params<'_, '_>,
) -> (Option<Generator>, Vec<super::Read>, Vec<super::ParamExpr>) {
    let spec = (def.parse)(p);
    let generator = spec.map(|spec| Generator {
        name: def.name,
        spec,
        reads: Vec::new(),
        exprs: Vec::new(),
    });
    (generator, p.take_reads(), p.take_exprs())
}

/// A field of an `object` (or the item of an `array`): a column spec made
/// with `gen`, which cannot read other columns.
pub fn field(
    p: &mut Params<'_, '_>,
    name: &str,
    spec: &TomlValue,
    span: Range<usize>,
) -> Option<Field> {
    let field_what = format!("{}, field `{name}`", p.what());
    let TomlValue::Table(table) = spec else {
        p.push(
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
    let mut keys = Keys::new(&entries, field_what.clone());
    let mut p = p.nested(&mut keys, &field_what, span.clone());
    let mut allowed = vec!["gen", "null_rate"];
    let null_rate = match p.float("null_rate") {
        Some((r, s)) if !(0.0..=1.0).contains(&r) => {
            p.problem(
                s,
                format!("`null_rate` must be between 0 and 1, found {r}"),
                None,
            );
            0.0
        }
        Some((r, _)) => r,
        None => 0.0,
    };
    let made = match p.string("gen") {
        Some((gen_name, gen_span)) => match find(gen_name) {
            Some(def) => {
                allowed.extend(def.keys);
                let (made, reads, exprs) = parse(def, &mut p);
                if reads.is_empty() && exprs.is_empty() {
                    made
                } else {
                    p.problem(
                        span.clone(),
                        "fields cannot read other columns",
                        Some("remove `from` / `of` and expressions inside object fields"),
                    );
                    None
                }
            }
            None => {
                let diag = unknown(&field_what, gen_name, gen_span);
                p.push(diag);
                None
            }
        },
        None => {
            p.problem(
                span.clone(),
                "no generator",
                Some("a field takes `gen = ...`, e.g. `{ gen = \"int\", min = 1, max = 9 }`"),
            );
            None
        }
    };
    p.report_unknown(&allowed);
    Some(Field {
        name: name.to_owned(),
        gen: made?,
        null_rate,
    })
}
