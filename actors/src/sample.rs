//! The buffer sampled while a run goes on: how full it is, and how long a
//! message takes through its mailbox.

use std::time::Duration;

/// What sampling the buffer every [`SAMPLE_EVERY`] showed: how full it
/// was, and how long a message took to reach it and come back (a
/// [`GetStatus`](crate::GetStatus) round trip through its mailbox, which backpressure does
/// not hold up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sampled {
    /// Samples taken.
    pub samples: u64,
    /// Rows buffered, on average.
    pub occupancy_mean: u64,
    /// Rows buffered, 99th percentile.
    pub occupancy_p99: u64,
    /// Mailbox round trip, median.
    pub round_trip_p50: Duration,
    /// Mailbox round trip, 99th percentile.
    pub round_trip_p99: Duration,
}

/// How often the Supervisor samples the buffer.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// Samples of the buffer: rows buffered and round trips.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    pub(crate) rows: Vec<u64>,
    pub(crate) trips: Vec<Duration>,
}

impl Samples {
    pub(crate) fn summary(&mut self) -> Sampled {
        let n = self.rows.len();
        if n == 0 {
            return Sampled::default();
        }
        self.rows.sort_unstable();
        self.trips.sort_unstable();
        let at = |len: usize, q: f64| ((len as f64 * q).ceil() as usize).clamp(1, len) - 1;
        Sampled {
            samples: n as u64,
            occupancy_mean: self.rows.iter().sum::<u64>() / n as u64,
            occupancy_p99: self.rows[at(n, 0.99)],
            round_trip_p50: self.trips[at(self.trips.len(), 0.50)],
            round_trip_p99: self.trips[at(self.trips.len(), 0.99)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_samples() {
        let mut s = Samples::default();
        assert_eq!(s.summary(), Sampled::default());
        for i in 1..=100u64 {
            s.rows.push(i);
            s.trips.push(Duration::from_micros(i));
        }
        let sum = s.summary();
        assert_eq!(sum.samples, 100);
        assert_eq!(sum.occupancy_mean, 50);
        assert_eq!(sum.occupancy_p99, 99);
        assert_eq!(sum.round_trip_p50, Duration::from_micros(50));
        assert_eq!(sum.round_trip_p99, Duration::from_micros(99));
    }
}
