//! One canonical text per value and type, whoever wrote it: what
//! `datagen verify` compares, and the cross-target tests too. Decimals
//! are exact at their column's scale, timestamps are RFC 3339 in UTC with
//! six fractional digits or none, JSON has its keys sorted and its numbers
//! as doubles, booleans are `true`/`false`, UUIDs lower case.
//!
//! A reader gives the text its store holds (PostgreSQL's text output,
//! SQLite's stored value, a CSV field); [`canonical`] turns it into the
//! canonical text. Text that does not read as its type (an SQLite column
//! holding anything) is kept as it is, marked, so it differs from every
//! canonical value instead of failing the comparison.

use std::borrow::Cow;

use crate::value::SqlType;

/// The mark in front of text that does not read as its column's type.
pub const UNREADABLE: char = '\u{fffd}';

/// The canonical text of `text`, a value of a column of type `ty`.
pub fn canonical(ty: SqlType, text: &str) -> Cow<'_, str> {
    let done = match ty {
        SqlType::Text | SqlType::Date => return Cow::Borrowed(text),
        SqlType::Uuid if !text.bytes().any(|b| b.is_ascii_uppercase()) => {
            return Cow::Borrowed(text)
        }
        SqlType::Uuid => Some(text.to_ascii_lowercase()),
        SqlType::Boolean => match text {
            "t" | "true" | "1" | "TRUE" => Some("true".to_owned()),
            "f" | "false" | "0" | "FALSE" => Some("false".to_owned()),
            _ => None,
        },
        SqlType::Integer | SqlType::BigInt => match text.parse::<i64>() {
            Ok(n) if n.to_string() == text => return Cow::Borrowed(text),
            Ok(n) => Some(n.to_string()),
            // SQLite may hold an integer as a real (`5.0`).
            Err(_) => text
                .parse::<f64>()
                .ok()
                .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
                .map(|x| (x as i64).to_string()),
        },
        SqlType::Double => text.parse::<f64>().ok().map(|x| {
            let mut out = String::new();
            super::text::float(&mut out, x);
            out
        }),
        SqlType::Decimal { scale, .. } => decimal(text, scale),
        SqlType::Timestamp => timestamp(text),
        SqlType::Json => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|v| {
                let mut out = String::with_capacity(text.len());
                json(&v, &mut out);
                out
            }),
    };
    match done {
        Some(s) if s == text => Cow::Borrowed(text),
        Some(s) => Cow::Owned(s),
        None => Cow::Owned(format!("{UNREADABLE}{text}")),
    }
}

/// `text` as a decimal with exactly `scale` digits after the point,
/// rounded half away from zero; exact for plain digits, through a double
/// for an exponent (`1e-7`).
fn decimal(text: &str, scale: u8) -> Option<String> {
    let scale = usize::from(scale);
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.contains(['e', 'E']) {
        let x: f64 = text.parse().ok()?;
        return x.is_finite().then(|| format!("{x:.scale$}"));
    }
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // Units at the scale, as decimal digits, rounded on the first dropped digit.
    let mut units: Vec<u8> = whole.bytes().collect();
    units.extend(frac.bytes().take(scale));
    units.extend(std::iter::repeat_n(b'0', scale.saturating_sub(frac.len())));
    if frac.as_bytes().get(scale).is_some_and(|&d| d >= b'5') {
        let mut i = units.len();
        loop {
            if i == 0 {
                units.insert(0, b'1');
                break;
            }
            i -= 1;
            if units[i] == b'9' {
                units[i] = b'0';
            } else {
                units[i] += 1;
                break;
            }
        }
    }
    let first = units.iter().position(|&d| d != b'0').unwrap_or(units.len());
    let units = &units[first.min(units.len().saturating_sub(scale + 1))..];
    let (w, f) = units.split_at(units.len() - scale);
    let zero = units.iter().all(|&d| d == b'0');
    let mut out = String::with_capacity(units.len() + 2);
    if negative && !zero {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(w).ok()?);
    if scale > 0 {
        out.push('.');
        out.push_str(std::str::from_utf8(f).ok()?);
    }
    Some(out)
}

/// RFC 3339 in UTC: `T` between date and time, `Z` for the zone, six
/// fractional digits or none. A time with another offset is moved to UTC;
/// one without a zone is read as UTC.
fn timestamp(text: &str) -> Option<String> {
    if let Some(t) = plain_utc(text) {
        return Some(t);
    }
    let micros = match chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
        Ok(t) => t.timestamp_micros(),
        Err(_) => {
            let t = text.trim_end_matches('Z');
            ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())?
                .and_utc()
                .timestamp_micros()
        }
    };
    let mut out = String::new();
    super::text::timestamp(&mut out, micros);
    Some(out)
}

/// [`timestamp`] of text already in UTC (`Z`, `+00`, `+00:00`).
fn plain_utc(text: &str) -> Option<String> {
    let t = text.replacen(' ', "T", 1);
    let t = match t.strip_suffix("+00:00").or_else(|| t.strip_suffix("+00")) {
        Some(s) => s.to_owned(),
        None => t.strip_suffix('Z')?.to_owned(),
    };
    if t.len() < 19 || t.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    Some(match t.split_once('.') {
        Some((secs, frac)) if frac.bytes().all(|b| b.is_ascii_digit()) && frac.len() <= 6 => {
            if frac.bytes().all(|b| b == b'0') {
                format!("{secs}Z")
            } else {
                format!("{secs}.{frac:0<6}Z")
            }
        }
        Some(_) => return None,
        None => format!("{t}Z"),
    })
}

/// JSON with every object's keys sorted and numbers as doubles.
fn json(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                super::json::string(out, k);
                out.push(':');
                json(&map[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(item, out);
            }
            out.push(']');
        }
        serde_json::Value::Number(n) => {
            super::text::float(out, n.as_f64().unwrap_or(f64::NAN));
        }
        serde_json::Value::String(s) => super::json::string(out, s),
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEC: SqlType = SqlType::Decimal {
        precision: 12,
        scale: 2,
    };

    #[test]
    fn each_store_spelling_reads_as_one_text() {
        for (ty, a, b) in [
            (DEC, "12.3", "12.30"),
            (DEC, "12.305", "12.31"),
            (DEC, "-0.004", "0.00"),
            (DEC, "9.995", "10.00"),
            (DEC, "-12", "-12.00"),
            (DEC, "007.5", "7.50"),
            (SqlType::Boolean, "t", "true"),
            (SqlType::Boolean, "0", "false"),
            (SqlType::BigInt, "5.0", "5"),
            (SqlType::Double, "1.50", "1.5"),
            (
                SqlType::Timestamp,
                "2024-01-02 03:04:05+00",
                "2024-01-02T03:04:05Z",
            ),
            (
                SqlType::Timestamp,
                "2024-01-02 03:04:05.5+00",
                "2024-01-02T03:04:05.500000Z",
            ),
            (
                SqlType::Timestamp,
                "2024-01-02T03:04:05.000000Z",
                "2024-01-02T03:04:05Z",
            ),
            (
                SqlType::Json,
                r#"{"b": 1, "a": [true, "x"]}"#,
                r#"{"a":[true,"x"],"b":1}"#,
            ),
            (
                SqlType::Uuid,
                "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            ),
        ] {
            assert_eq!(canonical(ty, a), b, "{ty:?} {a}");
            assert_eq!(canonical(ty, b), b, "{ty:?} {b} stays");
        }
    }

    #[test]
    fn text_that_is_not_its_type_is_marked_not_fatal() {
        for (ty, text) in [
            (SqlType::BigInt, "twelve"),
            (DEC, "1.2.3"),
            (SqlType::Timestamp, "yesterday"),
            (SqlType::Json, "{"),
            (SqlType::Boolean, "yes"),
        ] {
            assert!(canonical(ty, text).starts_with(UNREADABLE), "{ty:?} {text}");
        }
    }
}
