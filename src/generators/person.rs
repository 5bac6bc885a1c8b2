//! People: `person.first_name`, `person.last_name`, `person.name`, from the
//! locale's word lists.

use std::sync::Arc;

use super::dicts::{self, Dictionaries};
use super::unique::Numbering;
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The people generators.
pub const FAMILY: Family = Family {
    name: "person",
    generators: &[
        Def {
            name: "person.first_name",
            keys: &[],
            unique: Some("`person.*`"),
            parse: |p| person(p, Part::First),
        },
        Def {
            name: "person.last_name",
            keys: &[],
            unique: Some("`person.*`"),
            parse: |p| person(p, Part::Last),
        },
        Def {
            name: "person.name",
            keys: &[],
            unique: Some("`person.*`"),
            parse: |p| person(p, Part::Full),
        },
    ],
};

/// Which part of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Given name.
    First,
    /// Family name.
    Last,
    /// Given and family name.
    Full,
}

/// A person's name from the locale's dictionaries.
#[derive(Debug, Clone, Copy)]
struct Person {
    part: Part,
    dict: &'static Dictionaries,
}

fn person(p: &mut Params<'_, '_>, part: Part) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(Person {
        part,
        dict: dicts::dictionaries(p.locale()),
    }))
}

impl Spec for Person {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        24
    }

    fn uniqueness(&self) -> Uniqueness {
        let (first, last) = self.names();
        Uniqueness::Space {
            values: match self.part {
                Part::First => first.len() as u128,
                Part::Last => last.len() as u128,
                Part::Full => first.len() as u128 * last.len() as u128,
            },
            of: match self.part {
                Part::First => "list of given names",
                Part::Last => "list of family names",
                Part::Full => "given × family names",
            },
            help: match self.part {
                Part::Full => "lower the row count (every given name of the locale with every family name)",
                _ => "lower the row count, or use `person.name` (every given name with every family name)",
            },
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            let (first, last) = self.names();
            return Box::new(UniquePerson {
                numbering: cx.numbering,
                part: self.part,
                first,
                last,
            });
        }
        Box::new(*self)
    }
}

impl Person {
    /// The locale's given and family names, each once.
    fn names(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        fn once(words: &'static [&'static str]) -> Vec<&'static str> {
            let mut seen = std::collections::HashSet::new();
            words.iter().copied().filter(|w| seen.insert(*w)).collect()
        }
        (
            once(self.dict.list(dicts::Builtin::FirstNames)),
            once(self.dict.list(dicts::Builtin::LastNames)),
        )
    }
}

/// Distinct names: the permuted row index numbers the given names, the
/// family names, or their pairs.
#[derive(Debug)]
struct UniquePerson {
    numbering: Numbering,
    part: Part,
    first: Vec<&'static str>,
    last: Vec<&'static str>,
}

impl Sample for UniquePerson {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let (f, l) = (self.first.len() as u64, self.last.len() as u64);
        match self.part {
            Part::First => ctx.push_text(self.first[self.numbering.index(ctx, f, key) as usize]),
            Part::Last => ctx.push_text(self.last[self.numbering.index(ctx, l, key) as usize]),
            Part::Full => {
                let i = self.numbering.index(ctx, f * l, key);
                let (first, last) = (self.first[(i / l) as usize], self.last[(i % l) as usize]);
                ctx.write_text(|out| {
                    out.push_str(first);
                    out.push(' ');
                    out.push_str(last);
                })
            }
        }
    }
}

impl Sample for Person {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        match self.part {
            Part::First => ctx.push_text(self.dict.first_name(&mut rng)),
            Part::Last => ctx.push_text(self.dict.last_name(&mut rng)),
            Part::Full => ctx.write_text(|out| self.dict.full_name(&mut rng, out)),
        }
    }
}
