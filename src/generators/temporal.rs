//! Time: `date` and `timestamp`.

use std::ops::Range;
use std::sync::Arc;

use toml::Value as TomlValue;

use super::dist::{Dist, Real};
use super::unique::permute;
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The time generators.
pub const FAMILY: Family = Family {
    name: "temporal",
    generators: &[
        Def {
            name: "date",
            keys: &["min", "max", "dist"],
            unique: Some("`date` without `dist`"),
            parse: date,
        },
        Def {
            name: "timestamp",
            keys: &["min", "max", "dist"],
            unique: Some("`timestamp` without `dist`"),
            parse: timestamp,
        },
    ],
};

/// Days since 1970-01-01 of a TOML date or an ISO date string.
pub fn parse_date(v: &TomlValue) -> Option<i32> {
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
pub fn parse_timestamp(v: &TomlValue) -> Option<i64> {
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

/// Reads `min` and `max` (both required) with `parse`; `kind` names the
/// generator in messages and `example` shows the form.
fn bounds(
    p: &mut Params<'_, '_>,
    kind: &str,
    example: &str,
    parse: fn(&TomlValue) -> Option<i64>,
) -> Option<(i64, i64)> {
    let bound = |p: &mut Params<'_, '_>, key: &str| -> Option<(i64, Range<usize>)> {
        let v = p.get(key);
        let v = p.require(key, v, example)?;
        match parse(v.get_ref()) {
            Some(x) => Some((x, v.span())),
            None => {
                p.problem(
                    v.span(),
                    format!("`{key}` is not a valid {kind}"),
                    Some(&format!("write it like {example}")),
                );
                None
            }
        }
    };
    let min = bound(p, "min");
    let max = bound(p, "max");
    let (min, max) = (min?, max?);
    if min.0 > max.0 {
        p.range_error(min.1.clone(), &"min", &"max");
    }
    Some((min.0, max.0))
}

/// Whole days or whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Dates: days since the epoch.
    Day,
    /// Timestamps: seconds since the epoch.
    Second,
}

impl Unit {
    /// The value of `n` units since the epoch.
    fn value(self, n: i64) -> Value {
        match self {
            Unit::Day => Value::Date(n as i32),
            Unit::Second => Value::Timestamp(n.wrapping_mul(1_000_000)),
        }
    }
}

/// Dates or timestamps in `[min, max]`, in whole units.
#[derive(Debug, Clone, Copy)]
struct Moment {
    unit: Unit,
    min: i64,
    max: i64,
    dist: Dist,
}

fn date(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = bounds(p, "date", "2024-01-01", |v| parse_date(v).map(i64::from))?;
    Some(Arc::new(Moment {
        unit: Unit::Day,
        min,
        max,
        dist: p.dist(),
    }))
}

fn timestamp(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = bounds(p, "timestamp", "2024-01-01T00:00:00Z", parse_timestamp)?;
    Some(Arc::new(Moment {
        unit: Unit::Second,
        min,
        max,
        dist: p.dist(),
    }))
}

impl Moment {
    /// Units in `[min, max]`.
    fn span(&self) -> u128 {
        (i128::from(self.max) - i128::from(self.min) + 1) as u128
    }
}

impl Spec for Moment {
    fn sql_type(&self) -> SqlType {
        match self.unit {
            Unit::Day => SqlType::Date,
            Unit::Second => SqlType::Timestamp,
        }
    }

    fn uniqueness(&self) -> Uniqueness {
        match self.dist {
            Dist::Uniform => Uniqueness::Space {
                values: self.span(),
                of: "range",
                widen: "`min`..`max`",
            },
            _ => Uniqueness::Repeats,
        }
    }

    fn unique_hint(&self) -> Option<&'static str> {
        Some("remove `dist`: only a uniform range can be made distinct")
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            return Box::new(UniqueMoment {
                unit: self.unit,
                min: self.min,
                span: self.span().min(u128::from(u64::MAX)) as u64,
            });
        }
        Box::new(MomentSample {
            unit: self.unit,
            min: self.min,
            max: self.max,
            dist: Real::new(self.dist),
        })
    }
}

#[derive(Debug)]
struct MomentSample {
    unit: Unit,
    min: i64,
    max: i64,
    dist: Real,
}

impl Sample for MomentSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        self.unit
            .value(self.dist.sample_int(&mut rng, self.min, self.max))
    }
}

/// Distinct moments: `min` plus a keyed permutation of the row index.
#[derive(Debug)]
struct UniqueMoment {
    unit: Unit,
    min: i64,
    span: u64,
}

impl Sample for UniqueMoment {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let n = self
            .min
            .wrapping_add(permute(ctx.row(), self.span, key) as i64);
        self.unit.value(n)
    }
}
