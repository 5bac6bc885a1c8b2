//! Places and how to reach them: `address.street`, `address.city`,
//! `address.state`, `address.zip`, `address.country` and `phone`, in the
//! locale's forms.

use std::sync::Arc;

use super::dicts::{self, Dictionaries};
use super::{Compile, Def, Family, Params, Sample, Spec};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The address generators.
pub const FAMILY: Family = Family {
    name: "address",
    generators: &[
        Def {
            name: "phone",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::Phone),
        },
        Def {
            name: "address.street",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::Street),
        },
        Def {
            name: "address.city",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::City),
        },
        Def {
            name: "address.state",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::State),
        },
        Def {
            name: "address.zip",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::Zip),
        },
        Def {
            name: "address.country",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::Country),
        },
    ],
};

/// Which part of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Phone,
    Street,
    City,
    State,
    Zip,
    Country,
}

#[derive(Debug, Clone, Copy)]
struct Address {
    part: Part,
    dict: &'static Dictionaries,
}

fn address(p: &mut Params<'_, '_>, part: Part) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(Address {
        part,
        dict: dicts::dictionaries(p.locale()),
    }))
}

impl Spec for Address {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for Address {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let (mut rng, dict) = (ctx.rng(key), self.dict);
        ctx.write_text(|out| match self.part {
            Part::Phone => dict.phone(&mut rng, out),
            Part::Street => dict.street(&mut rng, out),
            Part::City => out.push_str(dict.city(&mut rng)),
            Part::State => out.push_str(dict.state(&mut rng)),
            Part::Zip => dict.zip(&mut rng, out),
            Part::Country => out.push_str(dict.country(&mut rng)),
        })
    }
}
