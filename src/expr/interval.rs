//! Intervals: `years(n)` … `seconds(n)`, and moving dates and timestamps
//! by them. An interval is calendar months and microseconds, as SQL's:
//! months are added first, on the calendar (January 31 plus one month is
//! the last day of February), then the microseconds. As in SQL, a date
//! moved by an interval is a timestamp (from its midnight).

use chrono::{Datelike, Months, NaiveDate};

use super::Unit;

const MICROS_PER_DAY: i64 = 86_400_000_000;
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// `n` of `unit` as (months, microseconds), or `None` past 64 bits.
pub(super) fn of(unit: Unit, n: i64) -> Option<(i64, i64)> {
    let micros = |per: i64| n.checked_mul(per).map(|us| (0, us));
    match unit {
        Unit::Years => n.checked_mul(12).map(|m| (m, 0)),
        Unit::Months => Some((n, 0)),
        Unit::Weeks => micros(7 * MICROS_PER_DAY),
        Unit::Days => micros(MICROS_PER_DAY),
        Unit::Hours => micros(3_600_000_000),
        Unit::Minutes => micros(60_000_000),
        Unit::Seconds => micros(1_000_000),
    }
}

/// `date` moved by `sign` × `months` on the calendar; `None` beyond it.
fn moved(date: NaiveDate, sign: i64, months: i64) -> Option<NaiveDate> {
    let months = months.checked_mul(sign)?;
    let m = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    let date = if months >= 0 {
        date.checked_add_months(m)?
    } else {
        date.checked_sub_months(m)?
    };
    Some(date)
}

/// Days since the epoch `days` moved by `sign` × `months` on the calendar.
fn date_plus(days: i32, sign: i64, months: i64) -> Option<i32> {
    let date = NaiveDate::from_num_days_from_ce_opt(days.checked_add(EPOCH_DAYS_FROM_CE)?)?;
    let date = moved(date, sign, months)?;
    Some(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
}

/// Microseconds since the epoch `t` plus `sign` × (`months`, `micros`).
pub(super) fn timestamp_plus(t: i64, sign: i64, months: i64, micros: i64) -> Option<i64> {
    let (day, within) = (t.div_euclid(MICROS_PER_DAY), t.rem_euclid(MICROS_PER_DAY));
    let days = date_plus(i32::try_from(day).ok()?, sign, months)?;
    let t = i64::from(days)
        .checked_mul(MICROS_PER_DAY)?
        .checked_add(within)?
        .checked_add(micros.checked_mul(sign)?)?;
    chrono::DateTime::from_timestamp(t.div_euclid(1_000_000), 0).map(|_| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i32 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        d.num_days_from_ce() - EPOCH_DAYS_FROM_CE
    }

    #[test]
    fn months_move_on_the_calendar() {
        let at = |s: &str, hours: i64| i64::from(day(s)) * MICROS_PER_DAY + hours * 3_600_000_000;
        let (m, us) = of(Unit::Months, 1).unwrap();
        assert_eq!(
            timestamp_plus(at("2024-01-31", 0), 1, m, us),
            Some(at("2024-02-29", 0))
        );
        let (m, us) = of(Unit::Years, 18).unwrap();
        assert_eq!(
            timestamp_plus(at("2006-02-28", 5), 1, m, us),
            Some(at("2024-02-28", 5))
        );
        assert_eq!(
            timestamp_plus(at("2024-02-29", 0), -1, m, us),
            Some(at("2006-02-28", 0))
        );
        let (m, us) = of(Unit::Hours, 36).unwrap();
        assert_eq!(
            timestamp_plus(at("2024-01-01", 0), 1, m, us),
            Some(at("2024-01-02", 12))
        );
        assert_eq!(
            timestamp_plus(at("2024-01-01", 0), -1, m, us),
            Some(at("2023-12-30", 12))
        );
        let (m, us) = of(Unit::Days, 30).unwrap();
        assert_eq!(
            timestamp_plus(at("2024-03-10", 1), 1, m, us),
            Some(at("2024-04-09", 1))
        );
        assert_eq!(of(Unit::Years, i64::MAX), None);
        let (m, us) = of(Unit::Years, 300_000).unwrap();
        assert_eq!(timestamp_plus(at("2024-01-01", 0), 1, m, us), None);
    }
}
