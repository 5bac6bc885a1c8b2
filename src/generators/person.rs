//! People: `person.first_name`, `person.last_name`, `person.name`, from the
//! locale's word lists.

use std::sync::Arc;

use super::dicts::{self, Dictionaries};
use super::{Compile, Def, Family, Params, Sample, Spec};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The people generators.
pub const FAMILY: Family = Family {
    name: "person",
    generators: &[
        Def {
            name: "person.first_name",
            keys: &[],
            unique: None,
            parse: |p| person(p, Part::First),
        },
        Def {
            name: "person.last_name",
            keys: &[],
            unique: None,
            parse: |p| person(p, Part::Last),
        },
        Def {
            name: "person.name",
            keys: &[],
            unique: None,
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

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
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
