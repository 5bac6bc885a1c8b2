//! Places and how to reach them: `address.city`, `address.state`,
//! `address.zip`, `address.lat`, `address.lon` and `phone` from one place
//! per row (see [`places`]), and `address.street` and
//! `address.country`, in the locale's forms.
//!
//! Every place generator takes `place = "NAME"`: columns of a row with the
//! same name (the default is one unnamed group) describe the same city, so
//! a billing and a shipping address can be told apart.

use std::sync::Arc;

use rand::RngExt;

use super::dicts::{self, Dictionaries, Locale};
use super::phone::Plan;
use super::places::{self, Places};
use super::unique::Numbering;
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::rng::{stream_key, Purpose};
use crate::value::{SqlType, Value};

/// The address generators.
pub const FAMILY: Family = Family {
    name: "address",
    generators: &[
        Def {
            name: "phone",
            keys: &["place"],
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
            keys: &["place"],
            unique: None,
            parse: |p| located(p, At::City),
        },
        Def {
            name: "address.state",
            keys: &["place", "abbr"],
            unique: None,
            parse: |p| located(p, At::State),
        },
        Def {
            name: "address.zip",
            keys: &["place"],
            unique: None,
            parse: |p| located(p, At::Zip),
        },
        Def {
            name: "address.lat",
            keys: &["place"],
            unique: None,
            parse: |p| located(p, At::Lat),
        },
        Def {
            name: "address.lon",
            keys: &["place"],
            unique: None,
            parse: |p| located(p, At::Lon),
        },
        Def {
            name: "address.country",
            keys: &[],
            unique: None,
            parse: |p| address(p, Part::Country),
        },
    ],
};

/// The stream of place group `group` of `table`: every column of the
/// group draws the row's place from it, so they agree.
fn group_key(cx: &Compile<'_>, group: &str) -> u64 {
    stream_key(
        cx.seed,
        cx.table,
        &format!("place#{group}"),
        Purpose::Values,
    )
}

/// `place = "NAME"`, or the unnamed group.
fn group(p: &mut Params<'_, '_>) -> String {
    p.string("place")
        .map_or_else(String::new, |(g, _)| g.to_owned())
}

/// What a place generator writes of the row's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    City,
    State,
    Zip,
    Lat,
    Lon,
}

/// A part of the row's place.
#[derive(Debug, Clone)]
struct Located {
    at: At,
    places: &'static Places,
    locale: Locale,
    group: String,
    /// `address.state`: the abbreviation.
    abbr: bool,
}

fn located(p: &mut Params<'_, '_>, at: At) -> Option<Arc<dyn Spec>> {
    let abbr = at == At::State && p.bool("abbr").unwrap_or(false);
    Some(Arc::new(Located {
        at,
        places: places::places(p.locale()),
        locale: p.locale(),
        group: group(p),
        abbr,
    }))
}

impl Spec for Located {
    fn sql_type(&self) -> SqlType {
        match self.at {
            At::Lat | At::Lon => SqlType::Double,
            _ => SqlType::Text,
        }
    }

    fn text_bytes(&self) -> u64 {
        16
    }

    fn place(&self) -> Option<(&str, Locale)> {
        Some((&self.group, self.locale))
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(LocatedSample {
            at: self.at,
            places: self.places,
            group: group_key(cx, &self.group),
            abbr: self.abbr,
        })
    }
}

#[derive(Debug)]
struct LocatedSample {
    at: At,
    places: &'static Places,
    group: u64,
    abbr: bool,
}

/// Degrees around a city's center that its coordinates spread over (about
/// 5 km of latitude).
const SPREAD: f64 = 0.05;

impl Sample for LocatedSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let place = self.places.pick(&mut ctx.rng(self.group));
        match self.at {
            At::City => ctx.push_text(place.city),
            At::State => {
                let state = self.places.state(place);
                ctx.push_text(if self.abbr { state.abbr } else { state.name })
            }
            At::Zip => {
                let code = ctx
                    .rng(key)
                    .random_range(place.postcode.0..=place.postcode.1);
                let places = self.places;
                ctx.write_text(|out| places.write_postcode(code, out))
            }
            At::Lat | At::Lon => {
                let (center, limit) = match self.at {
                    At::Lat => (place.lat, 90.0),
                    _ => (place.lon, 180.0),
                };
                let x = center + ctx.rng(key).random_range(-SPREAD..=SPREAD);
                Value::Float(((x * 1e6).round() / 1e6).clamp(-limit, limit))
            }
        }
    }
}

/// Parts of an address that do not depend on the place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Street,
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
            Part::Country => out.push_str(dict.country(&mut rng)),
        })
    }
}

/// A telephone number of the locale's numbering plan, with an area code of
/// the row's place.
#[derive(Debug, Clone)]
struct Phone {
    plan: Plan,
    places: &'static Places,
    locale: Locale,
    group: String,
}

fn phone(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(Phone {
        plan: dicts::dictionaries(p.locale()).phone_plan,
        places: places::places(p.locale()),
        locale: p.locale(),
        group: group(p),
    }))
}

impl Spec for Phone {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        16
    }

    fn place(&self) -> Option<(&str, Locale)> {
        Some((&self.group, self.locale))
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Space {
            values: u128::from(self.plan.size()),
            of: "numbering plan",
            help: "lower the row count (the numbering plan is the country's)",
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(PhoneSample {
            plan: self.plan,
            places: self.places,
            group: group_key(cx, &self.group),
            unique: cx.unique.then_some(cx.numbering),
        })
    }
}

#[derive(Debug)]
struct PhoneSample {
    plan: Plan,
    places: &'static Places,
    group: u64,
    /// Distinct numbers: the permuted row index numbers the whole plan, so
    /// the area code is the number's, not the place's.
    unique: Option<Numbering>,
}

impl Sample for PhoneSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let plan = self.plan;
        let mut rng = ctx.rng(key);
        let number = if let Some(numbering) = self.unique {
            plan.nth(numbering.index(ctx, plan.size(), key), None)
        } else {
            let place = self.places.pick(&mut ctx.rng(self.group));
            let area = place.areas[rng.random_range(0..place.areas.len())];
            plan.random(&mut rng, Some(area))
        };
        ctx.write_text(|out| plan.write(number, &mut rng, out))
    }
}
