//! Business: `company.name`, `commerce.product_name`,
//! `commerce.department`, in the locale's words.

use std::sync::Arc;

use super::dicts::{self, Dictionaries};
use super::{Compile, Def, Family, Params, Sample, Spec};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The business generators.
pub const FAMILY: Family = Family {
    name: "commerce",
    generators: &[
        Def {
            name: "company.name",
            keys: &[],
            unique: None,
            parse: |p| commerce(p, Part::Company),
        },
        Def {
            name: "commerce.product_name",
            keys: &[],
            unique: None,
            parse: |p| commerce(p, Part::ProductName),
        },
        Def {
            name: "commerce.department",
            keys: &[],
            unique: None,
            parse: |p| commerce(p, Part::Department),
        },
    ],
};

/// What is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Company,
    ProductName,
    Department,
}

#[derive(Debug, Clone, Copy)]
struct Commerce {
    part: Part,
    dict: &'static Dictionaries,
}

fn commerce(p: &mut Params<'_, '_>, part: Part) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(Commerce {
        part,
        dict: dicts::dictionaries(p.locale()),
    }))
}

impl Spec for Commerce {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for Commerce {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let (mut rng, dict) = (ctx.rng(key), self.dict);
        ctx.write_text(|out| match self.part {
            Part::Company => dict.company(&mut rng, out),
            Part::ProductName => dict.product(&mut rng, out),
            Part::Department => out.push_str(dict.department(&mut rng)),
        })
    }
}
