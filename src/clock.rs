//! The event clock of a stream: a row's event time as a function of its
//! position in the row stream, never of the wall clock.
//!
//! Rows before the stream's event tables (the tables they refer to,
//! emitted first) stand at the start; from the first event row on, each
//! row is `speed / nominal_rate` seconds of event time after the one
//! before. A stream paced at any rate, a batch run and a resumed stream
//! therefore give every row the same event time.

/// Microseconds in a second.
const MICROS: f64 = 1_000_000.0;

/// Maps stream positions to event times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    /// Event time of the first event row, in microseconds since the epoch.
    pub start: i64,
    /// Event-time microseconds from one row to the next.
    pub step: f64,
    /// Position of the first event row.
    pub base: u64,
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
        }
    }

    /// Event time of the row at `position`, in microseconds since the
    /// epoch (saturating at the ends of the 64-bit range).
    pub fn at(&self, position: u64) -> i64 {
        let offset = position.saturating_sub(self.base) as f64 * self.step;
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
}
