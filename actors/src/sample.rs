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

/// Samples kept at most: past it, every other one is dropped and half as
/// many are kept from then on, so a run of any length keeps an even
/// subsample of its whole length in bounded memory (a stream that runs
/// for days samples 200 times a second).
const KEPT: usize = 1 << 16;

/// Samples of the buffer: rows buffered and round trips.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    rows: Vec<u64>,
    trips: Vec<Duration>,
    /// Samples taken, kept or not, and the sum of their rows (the mean
    /// is of every sample).
    seen: u64,
    sum: u128,
    /// One kept in `stride`.
    stride: u64,
}

impl Samples {
    /// Records a sample: `rows` buffered, a round trip of `trip`.
    pub(crate) fn add(&mut self, rows: u64, trip: Duration) {
        self.seen += 1;
        self.sum += u128::from(rows);
        let stride = self.stride.max(1);
        if !self.seen.is_multiple_of(stride) {
            return;
        }
        self.rows.push(rows);
        self.trips.push(trip);
        if self.rows.len() >= KEPT {
            let mut i = 0u32;
            self.rows.retain(|_| {
                i += 1;
                i.is_multiple_of(2)
            });
            let mut i = 0u32;
            self.trips.retain(|_| {
                i += 1;
                i.is_multiple_of(2)
            });
            self.stride = stride * 2;
        }
    }

    pub(crate) fn summary(&mut self) -> Sampled {
        let n = self.rows.len();
        if n == 0 {
            return Sampled::default();
        }
        self.rows.sort_unstable();
        self.trips.sort_unstable();
        let at = |len: usize, q: f64| ((len as f64 * q).ceil() as usize).clamp(1, len) - 1;
        Sampled {
            samples: self.seen,
            occupancy_mean: (self.sum / u128::from(self.seen.max(1))) as u64,
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
            s.add(i, Duration::from_micros(i));
        }
        let sum = s.summary();
        assert_eq!(sum.samples, 100);
        assert_eq!(sum.occupancy_mean, 50);
        assert_eq!(sum.occupancy_p99, 99);
        assert_eq!(sum.round_trip_p50, Duration::from_micros(50));
        assert_eq!(sum.round_trip_p99, Duration::from_micros(99));
    }

    #[test]
    fn a_long_run_keeps_an_even_subsample_in_bounded_memory() {
        let mut s = Samples::default();
        let n = 10 * KEPT as u64 + 7;
        for i in 0..n {
            s.add(i % 1000, Duration::from_micros(i % 1000));
        }
        assert!(s.rows.len() < KEPT && s.rows.capacity() <= 2 * KEPT);
        let sum = s.summary();
        assert_eq!(sum.samples, n);
        // The subsample is even: its percentiles are the whole run's.
        assert!((495..=505).contains(&sum.occupancy_mean), "{sum:?}");
        assert!((985..=995).contains(&sum.occupancy_p99), "{sum:?}");
        assert!(
            (495..=505).contains(&sum.round_trip_p50.as_micros()),
            "{sum:?}"
        );
    }
}
