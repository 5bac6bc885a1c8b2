//! Time: `date` and `timestamp`.

use std::sync::Arc;

use toml::Value as TomlValue;

use super::bound::{self, Units};
use super::{Def, Family, Params, Spec};

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
        Def {
            name: "event_time",
            keys: &[],
            unique: None,
            parse: event_time,
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

/// Dates or timestamps in `[min, max]`: a [`bound::Ranged`] in `units`,
/// `min` and `max` (both required) literals read with `parse` or
/// expressions of the row; `kind` names the generator in messages and
/// `example` shows the form.
fn moment(
    p: &mut Params<'_, '_>,
    kind: &str,
    example: &str,
    units: Units,
    parse: fn(&TomlValue) -> Option<i64>,
) -> Option<Arc<dyn Spec>> {
    let ranged = bound::read_range(p, units, false, |p, key| {
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
    })?;
    Some(Arc::new(ranged))
}

fn date(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    moment(p, "date", "2024-01-01", Units::Days, |v| {
        parse_date(v).map(i64::from)
    })
}

fn event_time(_: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(EventTime))
}

/// The stream clock's time of the row (`gen = "event_time"`): a function
/// of its position in the row stream ([`crate::clock`]), the same in a
/// batch run and in a stream at any pace.
#[derive(Debug, Clone, Copy)]
struct EventTime;

impl Spec for EventTime {
    fn sql_type(&self) -> crate::value::SqlType {
        crate::value::SqlType::Timestamp
    }

    fn compile(&self, cx: &super::Compile<'_>) -> Box<dyn super::Sample> {
        Box::new(EventClock(cx.clock.clone(), cx.late))
    }
}

/// The clock, and the late events.
#[derive(Debug)]
struct EventClock(crate::clock::Clock, Option<crate::clock::Late>);

impl super::Sample for EventClock {
    fn value(&self, key: u64, ctx: &mut crate::context::SourceContext<'_>) -> crate::value::Value {
        match ctx.position() {
            Some(p) => {
                let late = self.1.map_or(0, |l| l.delay_micros(&mut ctx.rng(key)));
                let at = self.0.at(p).saturating_sub(late);
                // The years a timestamp holds: 0001 to 9999.
                if !(-62_135_596_800_000_000..=253_402_300_799_999_999).contains(&at) {
                    ctx.fail("the event time is beyond the years 0001 to 9999 (lower the speed, raise the rate, or start earlier)");
                    return crate::value::Value::Null;
                }
                crate::value::Value::Timestamp(at)
            }
            None => {
                ctx.fail("an event time is not known for a row read through `lookup`");
                crate::value::Value::Null
            }
        }
    }
}

fn timestamp(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    moment(
        p,
        "timestamp",
        "2024-01-01T00:00:00Z",
        Units::Seconds,
        parse_timestamp,
    )
}
