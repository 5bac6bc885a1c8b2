//! Time: `date` and `timestamp`.

use std::sync::Arc;

use toml::Value as TomlValue;

use super::bound::{self, Bound, RowBound, Units};
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

/// Whether `s` was meant as a date or timestamp literal (it starts with a
/// year and a dash), so a typo in it is reported as a bad literal rather
/// than read as an expression.
pub fn looks_literal(s: &str) -> bool {
    let s = s.trim();
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Reads `min` and `max` (both required): literals with `parse`, or
/// expressions of the row in `units`; `kind` names the generator in
/// messages and `example` shows the form.
fn bounds(
    p: &mut Params<'_, '_>,
    kind: &str,
    example: &str,
    units: Units,
    parse: fn(&TomlValue) -> Option<i64>,
) -> Option<(Bound, Bound)> {
    let one = |p: &mut Params<'_, '_>, key: &'static str| -> Option<Bound> {
        let found = bound::read(p, key, units, parse, looks_literal);
        match p.require(key, found, example)? {
            (Ok(b), _) => Some(b),
            (Err(()), span) => {
                p.problem(
                    span,
                    format!("`{key}` is not a valid {kind}"),
                    Some(&format!(
                        "write it like {example}, or as an expression of earlier columns (e.g. \"parent.signed_up\")"
                    )),
                );
                None
            }
        }
    };
    let min = one(p, "min");
    let max = one(p, "max");
    let (min, max) = (min?, max?);
    if let (Some(lo), Some(hi)) = (min.fixed(), max.fixed()) {
        if lo > hi {
            let span = p.get("min").map_or_else(|| p.span(), |v| v.span());
            p.range_error(span, &"min", &"max");
        }
    }
    Some((min, max))
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
    min: Bound,
    max: Bound,
    dist: Dist,
}

fn date(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = bounds(p, "date", "2024-01-01", Units::Days, |v| {
        parse_date(v).map(i64::from)
    })?;
    let dist = p.dist();
    bound::check_dist(p, min, max, dist);
    Some(Arc::new(Moment {
        unit: Unit::Day,
        min,
        max,
        dist,
    }))
}

fn timestamp(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = bounds(
        p,
        "timestamp",
        "2024-01-01T00:00:00Z",
        Units::Seconds,
        parse_timestamp,
    )?;
    let dist = p.dist();
    bound::check_dist(p, min, max, dist);
    Some(Arc::new(Moment {
        unit: Unit::Second,
        min,
        max,
        dist,
    }))
}

impl Moment {
    /// Units in `[min, max]`, when both are fixed.
    fn span(&self) -> Option<u128> {
        let (lo, hi) = (self.min.fixed()?, self.max.fixed()?);
        Some((i128::from(hi) - i128::from(lo) + 1) as u128)
    }

    fn units(&self) -> Units {
        match self.unit {
            Unit::Day => Units::Days,
            Unit::Second => Units::Seconds,
        }
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
        match (self.dist, self.span()) {
            (Dist::Uniform, Some(values)) => Uniqueness::Space {
                values,
                of: "range",
                help: "widen `min`..`max` or lower the row count",
            },
            _ => Uniqueness::Repeats,
        }
    }

    fn unique_hint(&self) -> Option<&'static str> {
        Some(match self.span() {
            None => "a range computed for each row cannot keep `unique` (rows with the same bounds would have to know each other's values): give fixed `min` and `max`, or remove `unique`",
            Some(_) => "remove `dist` (or `unique`): distinct values are each drawn once, so a distribution cannot shape how often they occur; only a uniform range can be made distinct",
        })
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if let (true, Some(span)) = (cx.unique, self.span()) {
            return Box::new(UniqueMoment {
                unit: self.unit,
                min: self.min.fixed().unwrap_or_default(),
                span: span.min(u128::from(u64::MAX)) as u64,
            });
        }
        Box::new(MomentSample {
            unit: self.unit,
            units: self.units(),
            min: RowBound::new(self.min, cx.exprs),
            max: RowBound::new(self.max, cx.exprs),
            dist: Real::new(self.dist),
        })
    }
}

#[derive(Debug)]
struct MomentSample {
    unit: Unit,
    units: Units,
    min: RowBound,
    max: RowBound,
    dist: Real,
}

impl Sample for MomentSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        match bound::draw(&self.min, &self.max, self.units, &self.dist, key, ctx) {
            Some(n) => self.unit.value(n),
            None => Value::Null,
        }
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
