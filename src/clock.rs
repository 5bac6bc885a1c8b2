//! The event clock of a stream: a row's event time as a function of its
//! position in the row stream, never of the wall clock.
//!
//! Rows before the stream's event tables (the tables they refer to,
//! emitted first) stand at the start; from the first event row on, rows
//! follow each other at the stream's rate. At a constant rate each row is
//! `speed / nominal_rate` seconds of event time after the one before; with
//! a rate that varies over the day (a [`Schedule`]: a diurnal curve,
//! points, bursts) the n-th row falls where the rows the schedule makes
//! since the start add up to n. A stream paced at any rate, a batch run
//! and a resumed stream therefore give every row the same event time.

use std::sync::Arc;

/// Microseconds in a second.
const MICROS: f64 = 1_000_000.0;

/// Seconds in a day.
pub const DAY: u32 = 86_400;

/// Rows per second over a day of event time (UTC), second by second,
/// repeating every day.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// `cumulative[s]`: rows of event time in the day before second `s`
    /// (`DAY + 1` entries).
    cumulative: Vec<f64>,
}

impl Schedule {
    /// The schedule that makes `rate(second of day)` rows per second of
    /// the stream at each second of event time, `speed` seconds of event
    /// time passing each second. `None` when the day makes no row.
    pub fn new(rate: impl Fn(u32) -> f64, speed: f64) -> Option<Schedule> {
        let mut cumulative = Vec::with_capacity(DAY as usize + 1);
        let mut sum = 0.0;
        cumulative.push(0.0);
        for s in 0..DAY {
            sum += rate(s).max(0.0) / speed;
            cumulative.push(sum);
        }
        (sum > 0.0).then_some(Schedule { cumulative })
    }

    /// Rows a day makes.
    pub fn per_day(&self) -> f64 {
        self.cumulative[DAY as usize]
    }

    /// The rate (rows per second of the stream) at second `s` of the day,
    /// given the speed.
    pub fn rate_at(&self, s: u32, speed: f64) -> f64 {
        let s = (s % DAY) as usize;
        (self.cumulative[s + 1] - self.cumulative[s]) * speed
    }

    /// Rows of event time from midnight to `seconds` into the day.
    fn rows_until(&self, seconds: f64) -> f64 {
        let s = (seconds.floor() as usize).min(DAY as usize - 1);
        let frac = seconds - s as f64;
        self.cumulative[s] + frac * (self.cumulative[s + 1] - self.cumulative[s])
    }

    /// Seconds into the day at which `rows` rows of the day are made
    /// (`rows` below [`Schedule::per_day`]).
    fn seconds_at(&self, rows: f64) -> f64 {
        let s = self
            .cumulative
            .partition_point(|&c| c <= rows)
            .saturating_sub(1);
        let s = s.min(DAY as usize - 1);
        let span = self.cumulative[s + 1] - self.cumulative[s];
        if span <= 0.0 {
            return s as f64;
        }
        s as f64 + (rows - self.cumulative[s]) / span
    }
}

/// Maps stream positions to event times.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    /// Event time of the first event row, in microseconds since the epoch.
    pub start: i64,
    /// Event-time microseconds from one row to the next (a constant rate).
    pub step: f64,
    /// Position of the first event row.
    pub base: u64,
    /// A rate that varies over the day, if any (then `step` is unused).
    pub schedule: Option<Arc<Schedule>>,
}

impl Clock {
    /// The clock of a stream that starts at `start` (microseconds), at
    /// `nominal_rate` rows per second, `speed` times faster than real time,
    /// whose event rows begin at position `base`.
    pub fn new(start: i64, nominal_rate: f64, speed: f64, base: u64) -> Clock {
        Clock {
            start,
            step: MICROS * speed / nominal_rate,
            base,
            schedule: None,
        }
    }

    /// The clock of a stream whose rate follows `schedule`.
    pub fn scheduled(start: i64, schedule: Arc<Schedule>, base: u64) -> Clock {
        Clock {
            start,
            step: 0.0,
            base,
            schedule: Some(schedule),
        }
    }

    /// Event time of the row at `position`, in microseconds since the
    /// epoch (saturating at the ends of the 64-bit range).
    pub fn at(&self, position: u64) -> i64 {
        let n = position.saturating_sub(self.base) as f64;
        let offset = match &self.schedule {
            None => n * self.step,
            Some(schedule) => {
                let day = f64::from(DAY);
                let start = self.start.div_euclid(1_000_000) as f64;
                let midnight = (start / day).floor() * day;
                let since = start - midnight + self.start.rem_euclid(1_000_000) as f64 / MICROS;
                let rows = schedule.rows_until(since) + n;
                let days = (rows / schedule.per_day()).floor();
                let within = schedule.seconds_at(rows - days * schedule.per_day());
                (midnight + days * day + within - start) * MICROS
                    - self.start.rem_euclid(1_000_000) as f64
            }
        };
        (self.start as f64 + offset.round()).clamp(i64::MIN as f64, i64::MAX as f64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_advance_by_the_step_from_the_base() {
        let c = Clock::new(1_000_000, 4.0, 1.0, 10);
        assert_eq!(c.at(0), 1_000_000);
        assert_eq!(c.at(10), 1_000_000);
        assert_eq!(c.at(11), 1_250_000);
        assert_eq!(c.at(14), 2_000_000);
        let fast = Clock::new(0, 1.0, 3600.0, 0);
        assert_eq!(fast.at(2), 7_200_000_000);
    }

    #[test]
    fn a_schedule_spaces_rows_by_its_rate() {
        // 10 rows/s before noon, 40 after: the day makes 2,160,000.
        let s = Schedule::new(|sec| if sec < DAY / 2 { 10.0 } else { 40.0 }, 1.0).unwrap();
        assert_eq!(s.per_day(), 2_160_000.0);
        let c = Clock::scheduled(0, Arc::new(s), 0);
        assert_eq!(c.at(10), 1_000_000);
        // The morning's 432,000 rows take to noon; then 40 a second.
        assert_eq!(c.at(432_000), 43_200_000_000);
        assert_eq!(c.at(432_040), 43_201_000_000);
        // The next day begins after 2,160,000 rows.
        assert_eq!(c.at(2_160_000), 86_400_000_000);
        // Starting at noon: 40 a second from the first row.
        let noon = Clock::scheduled(43_200_000_000, c.schedule.clone().unwrap(), 5);
        assert_eq!(noon.at(45), 43_201_000_000);
        // A constant schedule agrees with the constant clock.
        let flat = Clock::scheduled(7_000_000, Arc::new(Schedule::new(|_| 4.0, 2.0).unwrap()), 3);
        let constant = Clock::new(7_000_000, 4.0, 2.0, 3);
        for p in [0, 3, 4, 100, 1_000_001] {
            assert_eq!(flat.at(p), constant.at(p), "{p}");
        }
    }
}

/// How late a late event is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// Always this many seconds.
    Fixed(f64),
    /// Exponentially distributed with this mean, in seconds.
    Exponential(f64),
    /// Uniform between these, in seconds.
    Uniform(f64, f64),
}

/// A fraction of events that arrive late: their event time is earlier
/// than their place in the stream says, by a random delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Late {
    /// The fraction of rows that are late, from 0 to 1.
    pub fraction: f64,
    /// By how much.
    pub delay: Delay,
}

impl Late {
    /// Microseconds the row drawing from `rng` is late (0 for most).
    pub fn delay_micros(&self, rng: &mut impl rand::RngExt) -> i64 {
        let u: f64 = rng.random();
        if u >= self.fraction {
            return 0;
        }
        let v: f64 = rng.random();
        let seconds = match self.delay {
            Delay::Fixed(s) => s,
            Delay::Exponential(mean) => -mean * (1.0 - v).ln(),
            Delay::Uniform(lo, hi) => lo + v * (hi - lo),
        };
        (seconds * MICROS).round().min(i64::MAX as f64) as i64
    }
}
