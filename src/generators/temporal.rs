//! Time: `date` and `timestamp`.

use std::ops::Range;
use std::sync::Arc;

use toml::Value as TomlValue;

use super::dist::{Dist, Real};
use super::numeric::range_error;
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
            parse: date,
        },
        Def {
            name: "timestamp",
            keys: &["min", "max", "dist"],
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
        range_error(p, min.1.clone(), &"min", &"max");
    }
    Some((min.0, max.0))
}

/// Dates in `[min, max]` (days since the epoch).
#[derive(Debug, Clone, Copy)]
struct Date {
    min: i32,
    max: i32,
    dist: Dist,
}

fn date(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = bounds(p, "date", "2024-01-01", |v| parse_date(v).map(i64::from))?;
    Some(Arc::new(Date {
        min: min as i32,
        max: max as i32,
        dist: p.dist(),
    }))
}

impl Date {
    fn span(&self) -> u128 {
        (i64::from(self.max) - i64::from(self.min) + 1) as u128
    }
}

impl Spec for Date {
    fn sql_type(&self) -> SqlType {
        SqlType::Date
    }

    fn uniqueness(&self) -> Uniqueness {
        match self.dist {
            Dist::Uniform => Uniqueness::Space(self.span()),
            _ => Uniqueness::Repeats,
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            return Box::new(UniqueDate {
                min: self.min,
                span: self.span().min(u128::from(u64::MAX)) as u64,
            });
        }
        Box::new(DateSample {
            min: self.min,
            max: self.max,
            dist: Real::new(self.dist),
        })
    }
}

#[derive(Debug)]
struct DateSample {
    min: i32,
    max: i32,
    dist: Real,
}

impl Sample for DateSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        Value::Date(
            self.dist
                .sample(&mut rng, f64::from(self.min), f64::from(self.max), true)
                as i32,
        )
    }
}

/// Distinct days: `min` plus a keyed permutation of the row index.
#[derive(Debug)]
struct UniqueDate {
    min: i32,
    span: u64,
}

impl Sample for UniqueDate {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        Value::Date(
            self.min
                .wrapping_add(permute(ctx.row(), self.span, key) as i32),
        )
    }
}

/// Timestamps in `[min, max]` (seconds since the epoch).
#[derive(Debug, Clone, Copy)]
struct Timestamp {
    min: i64,
    max: i64,
    dist: Dist,
}

fn timestamp(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = bounds(p, "timestamp", "2024-01-01T00:00:00Z", parse_timestamp)?;
    Some(Arc::new(Timestamp {
        min,
        max,
        dist: p.dist(),
    }))
}

impl Timestamp {
    fn span(&self) -> u128 {
        (i128::from(self.max) - i128::from(self.min) + 1) as u128
    }
}

impl Spec for Timestamp {
    fn sql_type(&self) -> SqlType {
        SqlType::Timestamp
    }

    fn uniqueness(&self) -> Uniqueness {
        match self.dist {
            Dist::Uniform => Uniqueness::Space(self.span()),
            _ => Uniqueness::Repeats,
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            return Box::new(UniqueTimestamp {
                min: self.min,
                span: self.span().min(u128::from(u64::MAX)) as u64,
            });
        }
        Box::new(TimestampSample {
            min: self.min,
            max: self.max,
            dist: Real::new(self.dist),
        })
    }
}

#[derive(Debug)]
struct TimestampSample {
    min: i64,
    max: i64,
    dist: Real,
}

impl Sample for TimestampSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        let secs = self
            .dist
            .sample(&mut rng, self.min as f64, self.max as f64, true) as i64;
        Value::Timestamp(secs * 1_000_000)
    }
}

/// Distinct seconds: `min` plus a keyed permutation of the row index.
#[derive(Debug)]
struct UniqueTimestamp {
    min: i64,
    span: u64,
}

impl Sample for UniqueTimestamp {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        Value::Timestamp(
            self.min
                .wrapping_add(permute(ctx.row(), self.span, key) as i64)
                .wrapping_mul(1_000_000),
        )
    }
}
