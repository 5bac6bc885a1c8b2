//! Picks from a list: `choice` (values in the Genfile) and `dict` (a
//! built-in word list or a `[dictionaries.NAME]`).

use std::sync::Arc;

use toml::Value as TomlValue;

use super::dicts::{self, Builtin, Locale, BUILTIN_DICTIONARIES};
use super::dist::{weights_problem, Dist, Pick};
use super::unique::Numbering;
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::diag::{nearest, Diagnostic};
use crate::value::{SqlType, Value};

/// The generators that pick from a list.
pub const FAMILY: Family = Family {
    name: "choice",
    generators: &[
        Def {
            name: "choice",
            keys: &["values", "weights", "dist"],
            unique: Some("`choice` without `weights` or `dist`"),
            parse: choice,
        },
        Def {
            name: "dict",
            keys: &["dict", "dist"],
            unique: Some("`dict` without `dist`"),
            parse: dict,
        },
    ],
};

/// A literal in `choice`.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// One of `values`, optionally weighted.
#[derive(Debug, Clone)]
struct Choice {
    values: Vec<Literal>,
    weights: Option<Vec<f64>>,
    dist: Dist,
    sql_type: SqlType,
}

fn choice(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let values = p.get("values");
    let values = p.require("values", values, "[\"a\", \"b\"]")?;
    let TomlValue::Array(items) = values.get_ref() else {
        p.wrong_type("values", values, "an array");
        return None;
    };
    if items.is_empty() {
        p.problem(
            values.span(),
            "`values` is empty",
            Some("list at least one value"),
        );
        return None;
    }
    let all = |f: fn(&TomlValue) -> bool| items.iter().all(f);
    let (literals, sql_type): (Vec<Literal>, SqlType) = if all(|v| v.is_str()) {
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
        if let Some(x) = items
            .iter()
            .filter_map(TomlValue::as_float)
            .find(|x| !x.is_finite())
        {
            p.problem(
                values.span(),
                format!("`values` must be finite numbers, found {x}"),
                None,
            );
            return None;
        }
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
        p.problem(
            values.span(),
            "`values` mixes types",
            Some("make every value a string, or every value a number, or every value a boolean"),
        );
        return None;
    };
    let weights = match p.get("weights") {
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
                    p.problem(
                        w.span(),
                        format!("{} weights for {} values", ws.len(), literals.len()),
                        Some("give exactly one weight per value"),
                    );
                    None
                }
                Some(ws) => match weights_problem(&ws) {
                    Some(problem) => {
                        p.problem(
                            w.span(),
                            problem,
                            Some("weights are numbers, 0 or more, not all 0"),
                        );
                        None
                    }
                    None => Some(ws),
                },
                None => {
                    p.wrong_type("weights", w, "an array of numbers");
                    None
                }
            }
        }
        None => None,
    };
    Some(Arc::new(Choice {
        values: literals,
        weights,
        dist: p.dist(),
        sql_type,
    }))
}

impl Literal {
    /// A key equal for equal literals (floats by their bits).
    fn identity(&self) -> (u8, &str, u64) {
        match self {
            Literal::Text(s) => (0, s, 0),
            Literal::Int(i) => (1, "", *i as u64),
            // -0.0 and 0.0 are one value to every target.
            Literal::Float(f) => (2, "", (f + 0.0).to_bits()),
            Literal::Bool(b) => (3, "", u64::from(*b)),
        }
    }
}

/// The items of `items` in order, each once (its first occurrence).
fn distinct<'a, T, K: std::hash::Hash + Eq>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|x| seen.insert(key(x))).collect()
}

/// With `unique`, each value is used once: weights and distributions would
/// shape how often, so they are refused.
const UNIQUE_HINT: &str = "with `unique` every value is used at most once, so `weights` and `dist` cannot shape how often: remove them (or remove `unique`)";

impl Spec for Choice {
    fn sql_type(&self) -> SqlType {
        self.sql_type
    }

    fn text_bytes(&self) -> u64 {
        24
    }

    fn uniqueness(&self) -> Uniqueness {
        if self.weights.is_some() || self.dist != Dist::Uniform {
            return Uniqueness::Repeats;
        }
        Uniqueness::Space {
            values: distinct(&self.values, Literal::identity).len() as u128,
            of: "`values` list",
            help: "add to `values` or lower the row count: each value is used at most once",
        }
    }

    fn unique_hint(&self) -> Option<&'static str> {
        Some(UNIQUE_HINT)
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            let values: Vec<Literal> = distinct(&self.values, Literal::identity)
                .into_iter()
                .cloned()
                .collect();
            return Box::new(ChoiceSample {
                pick: Pick::Uniform(values.len() as u64),
                values,
                unique: Some(cx.numbering),
            });
        }
        Box::new(ChoiceSample {
            pick: Pick::new(self.values.len() as u64, self.dist, self.weights.as_deref()),
            values: self.values.clone(),
            unique: None,
        })
    }
}

#[derive(Debug)]
struct ChoiceSample {
    values: Vec<Literal>,
    pick: Pick,
    /// Without replacement: the row's number is the value's index.
    unique: Option<Numbering>,
}

impl Sample for ChoiceSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let i = if let Some(numbering) = self.unique {
            numbering.index(ctx, self.values.len() as u64, key)
        } else {
            self.pick.pick(&mut ctx.rng(key))
        };
        match &self.values[i as usize] {
            Literal::Text(s) => ctx.push_text(s),
            Literal::Int(i) => Value::Int(*i),
            Literal::Float(f) => Value::Float(*f),
            Literal::Bool(b) => Value::Bool(*b),
        }
    }
}

/// Where `dict` draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A built-in list in a locale.
    Builtin(Builtin, Locale),
    /// `[dictionaries.NAME]`, by index.
    User(usize),
}

/// A word from a dictionary.
#[derive(Debug, Clone, Copy)]
struct Dict {
    source: Source,
    /// How the index is picked (user weights win).
    dist: Dist,
    /// Distinct words in the dictionary.
    distinct: u64,
}

fn dict(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let name = p.string("dict");
    let (name, span) = p.require("dict", name, "\"cities\"")?;
    let source = if let Some(i) = p.dictionaries().iter().position(|d| d.name == name) {
        Source::User(i)
    } else if let Some(&(_, b)) = BUILTIN_DICTIONARIES.iter().find(|(n, _)| *n == name) {
        Source::Builtin(b, p.locale())
    } else {
        let all: Vec<&str> = p
            .dictionaries()
            .iter()
            .map(|d| d.name.as_str())
            .chain(BUILTIN_DICTIONARIES.iter().map(|(n, _)| *n))
            .collect();
        let diag = Diagnostic::new(span, format!("{}: unknown dictionary `{name}`", p.what()));
        p.push(match nearest(name, all.iter().copied()) {
            Some(n) => diag.help(format!("did you mean `{n}`?")),
            None => diag.help(format!(
                "define `[dictionaries.{name}]`, or use one of: {}",
                all.join(", ")
            )),
        });
        return None;
    };
    let distinct = match source {
        Source::Builtin(list, locale) => {
            distinct(dicts::dictionaries(locale).list(list), |w| *w).len()
        }
        Source::User(i) => distinct(&p.dictionaries()[i].values, String::as_str).len(),
    } as u64;
    Some(Arc::new(Dict {
        source,
        dist: p.dist(),
        distinct,
    }))
}

impl Spec for Dict {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn uniqueness(&self) -> Uniqueness {
        if self.dist != Dist::Uniform {
            return Uniqueness::Repeats;
        }
        Uniqueness::Space {
            values: u128::from(self.distinct),
            of: "dictionary",
            help: "use a larger dictionary or lower the row count: each word is used at most once",
        }
    }

    fn unique_hint(&self) -> Option<&'static str> {
        Some(UNIQUE_HINT)
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            // Without replacement, a dictionary's own weights do not apply.
            let words = match self.source {
                Source::Builtin(list, locale) => Words::User(
                    distinct(dicts::dictionaries(locale).list(list), |w| *w)
                        .into_iter()
                        .map(|w| (*w).to_owned())
                        .collect(),
                ),
                Source::User(i) => Words::User(
                    distinct(&cx.dictionaries[i].values, String::as_str)
                        .into_iter()
                        .cloned()
                        .collect(),
                ),
            };
            return Box::new(DictSample {
                pick: Pick::Uniform(words.len() as u64),
                words,
                unique: Some(cx.numbering),
            });
        }
        let (words, weights) = match self.source {
            Source::Builtin(list, locale) => {
                let dict = dicts::dictionaries(locale);
                // Real frequencies by default; a `dist` replaces them.
                let weights = dict.weights(list).filter(|_| self.dist == Dist::Uniform);
                (Words::Builtin(dict.list(list)), weights)
            }
            Source::User(i) => {
                let d = &cx.dictionaries[i];
                (Words::User(d.values.clone().into()), d.weights.as_deref())
            }
        };
        Box::new(DictSample {
            pick: Pick::new(words.len() as u64, self.dist, weights),
            words,
            unique: None,
        })
    }
}

/// The words a `dict` column draws from.
#[derive(Debug, Clone)]
enum Words {
    Builtin(&'static [&'static str]),
    User(Arc<[String]>),
}

impl Words {
    fn get(&self, i: usize) -> &str {
        match self {
            Words::Builtin(w) => w[i],
            Words::User(w) => &w[i],
        }
    }

    fn len(&self) -> usize {
        match self {
            Words::Builtin(w) => w.len(),
            Words::User(w) => w.len(),
        }
    }
}

#[derive(Debug)]
struct DictSample {
    words: Words,
    pick: Pick,
    /// Without replacement: the row's number is the word's index.
    unique: Option<Numbering>,
}

impl Sample for DictSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let i = if let Some(numbering) = self.unique {
            numbering.index(ctx, self.words.len() as u64, key) as usize
        } else {
            self.pick.pick(&mut ctx.rng(key)) as usize
        };
        ctx.push_text(self.words.get(i))
    }
}
