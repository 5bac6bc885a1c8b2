//! The canonical text form of values, appended to a reused `String`.

use std::fmt::Write;

use chrono::{DateTime, Datelike, NaiveDate, Timelike};

use crate::value::{Block, Value};

/// 1970-01-01 as days from 0001-01-01 (chrono's "days from CE").
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Appends `n` with at least `width` digits.
fn pad(out: &mut String, n: u32, width: usize) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// `YYYY-MM-DD` for days since 1970-01-01.
pub fn date(out: &mut String, days: i32) {
    match NaiveDate::from_num_days_from_ce_opt(days.saturating_add(UNIX_EPOCH_DAYS_FROM_CE)) {
        Some(d) => {
            let year = d.year();
            if year < 0 {
                out.push('-');
            }
            pad(out, year.unsigned_abs(), 4);
            out.push('-');
            pad(out, d.month(), 2);
            out.push('-');
            pad(out, d.day(), 2);
        }
        None => out.push_str("invalid-date"),
    }
}

/// RFC 3339 in UTC (`YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` when there are
/// fractional seconds) for microseconds since the epoch.
pub fn timestamp(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000) as u32;
    match DateTime::from_timestamp(secs, 0) {
        Some(t) => {
            let days = secs.div_euclid(86_400) as i32;
            date(out, days);
            out.push('T');
            pad(out, t.hour(), 2);
            out.push(':');
            pad(out, t.minute(), 2);
            out.push(':');
            pad(out, t.second(), 2);
            if frac != 0 {
                out.push('.');
                pad(out, frac, 6);
            }
            out.push('Z');
        }
        None => out.push_str("invalid-timestamp"),
    }
}

/// `units × 10^-scale` with exactly `scale` digits after the point.
pub fn decimal(out: &mut String, units: i64, scale: u8) {
    let pow = 10u64.pow(u32::from(scale));
    let magnitude = units.unsigned_abs();
    if units < 0 {
        out.push('-');
    }
    out.push_str(itoa::Buffer::new().format(magnitude / pow));
    if scale > 0 {
        out.push('.');
        // scale <= 9, so the fraction fits a u32.
        pad(out, (magnitude % pow) as u32, usize::from(scale));
    }
}

/// The decimal as the nearest double.
pub fn decimal_to_f64(units: i64, scale: u8) -> f64 {
    units as f64 / 10f64.powi(i32::from(scale))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case.
pub fn uuid(out: &mut String, bytes: &[u8; 16]) {
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
}

/// The canonical text of `v`, whose text lives in `block`; `scale` is the
/// column's decimal scale. NULL writes nothing.
pub fn value(out: &mut String, v: Value, block: &Block, scale: u8) {
    match v {
        Value::Null => {}
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(i)),
        Value::Float(x) => float(out, x),
        Value::Decimal(u) => decimal(out, u, scale),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Text(s, e) => out.push_str(block.str(s, e)),
        Value::Uuid(b) => uuid(out, &b),
        Value::Date(d) => date(out, d),
        Value::Timestamp(t) => timestamp(out, t),
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// A double in its shortest round-trip form.
pub fn float(out: &mut String, x: f64) {
    if x.is_finite() {
        // Display for f64 is the shortest text that reads back as the same double.
        let _ = write!(out, "{x}");
    } else if x.is_nan() {
        out.push_str("NaN");
    } else if x > 0.0 {
        out.push_str("Infinity");
    } else {
        out.push_str("-Infinity");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(s(|o| date(o, 0)), "1970-01-01");
        assert_eq!(s(|o| date(o, 19_723)), "2024-01-01");
        assert_eq!(s(|o| date(o, -1)), "1969-12-31");
        assert_eq!(s(|o| timestamp(o, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            s(|o| timestamp(o, 1_704_067_200_000_000 + 3_723_000_001)),
            "2024-01-01T01:02:03.000001Z"
        );
        assert_eq!(s(|o| timestamp(o, -1_000_000)), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(s(|o| decimal(o, 1999, 2)), "19.99");
        assert_eq!(s(|o| decimal(o, 5, 2)), "0.05");
        assert_eq!(s(|o| decimal(o, -5, 2)), "-0.05");
        assert_eq!(s(|o| decimal(o, 42, 0)), "42");
    }

    #[test]
    fn uuids_are_hyphenated() {
        let bytes = [
            0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0,
            0,
        ];
        assert_eq!(
            s(|o| uuid(o, &bytes)),
            "550e8400-e29b-41d4-a716-446655440000"
        );
    }
}
