//! Places and how to reach them: `address.street`, `address.city`,
//! `address.state`, `address.zip`, `address.country` and `phone`, in the
//! locale's forms.

use std::sync::Arc;

use super::dicts::{self, Dictionaries};
use super::phone::Plan;
use super::unique::permute;
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The address generators.
pub const FAMILY: Family = Family {
    name: "address",
    generators: &[
        Def {
            name: "phone",
            keys: &[],
            unique: Some("`phone`"),
            parse: phone,
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
            Part::Street => dict.street(&mut rng, out),
            Part::City => out.push_str(dict.city(&mut rng)),
            Part::State => out.push_str(dict.state(&mut rng)),
            Part::Zip => dict.zip(&mut rng, out),
            Part::Country => out.push_str(dict.country(&mut rng)),
        })
    }
}

/// A telephone number of the locale's numbering plan.
#[derive(Debug, Clone, Copy)]
struct Phone {
    plan: Plan,
    /// Distinct numbers: the permuted row index numbers the plan.
    unique: bool,
}

fn phone(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(Phone {
        plan: dicts::dictionaries(p.locale()).phone_plan,
        unique: false,
    }))
}

impl Spec for Phone {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        16
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Space {
            values: u128::from(self.plan.size()),
            of: "numbering plan",
            help: "lower the row count (the numbering plan is the country's)",
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(Phone {
            plan: self.plan,
            unique: cx.unique,
        })
    }
}

impl Sample for Phone {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let number = self.unique.then(|| {
            self.plan
                .nth(permute(ctx.row(), self.plan.size(), key), None)
        });
        let mut rng = ctx.rng(key);
        let plan = self.plan;
        ctx.write_text(|out| {
            let number = number.unwrap_or_else(|| plan.random(&mut rng, None));
            plan.write(number, &mut rng, out);
        })
    }
}
