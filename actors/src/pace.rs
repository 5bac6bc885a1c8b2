//! Pacing: when the rows of a stream may leave the Source.
//!
//! A [`Pace`] says which rows are paced (by their stream position) and
//! when the n-th paced row is due after the first. The Source cuts what
//! its workers made into pieces of [`Pace::piece_rows`] rows and pushes
//! each once its last row is due: tokens accrue along the schedule, a
//! piece spends as many as it has rows, and nothing sleeps per row. A Source that falls behind (a
//! full buffer, a slow target) sends at once until it has caught up, but
//! never makes up more than [`CATCH_UP`]: past that the schedule moves
//! on, so that a long stall is not followed by a flood.

use std::time::{Duration, Instant};

/// Most of a delay the Source makes up by sending faster than the rate.
pub const CATCH_UP: Duration = Duration::from_secs(1);

/// A stream's schedule.
pub trait Pace: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the row at stream `position` is paced; rows that are not
    /// (those before the paced part) leave at once.
    fn paced(&self, position: u64) -> bool;

    /// When the `rows`-th paced row, at stream `position`, is due: time
    /// since a fixed origin (the Source measures from the first row).
    fn due(&self, rows: u64, position: u64) -> Duration;

    /// Rows pushed at once: a few milliseconds of the rate.
    fn piece_rows(&self) -> usize;

    /// `rows` paced rows have been pushed, the last of them `lag` behind
    /// the schedule.
    fn sent(&self, _rows: u64, _lag: Duration) {}

    /// True once the stream is to end: the Source pushes no more pieces,
    /// even of units already made, and finishes.
    fn stopped(&self) -> bool {
        false
    }
}

/// The Source's side of a [`Pace`]: the wall time its schedule starts at
/// and the paced rows pushed.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    /// `(instant, due)`: the schedule's `due` falls at `instant`.
    origin: Option<(Instant, Duration)>,
    /// Paced rows pushed.
    pub(crate) rows: u64,
}

impl Pacer {
    /// How long to wait, at `now`, before a piece of `n` paced rows may
    /// leave, and how late it is; the rows count as sent.
    pub(crate) fn wait(
        &mut self,
        pace: &dyn Pace,
        (n, last): (u64, u64),
        now: Instant,
    ) -> (Duration, Duration) {
        if n == 0 {
            return (Duration::ZERO, Duration::ZERO);
        }
        self.rows += n;
        let due = pace.due(self.rows - 1, last);
        let (at, from) = *self.origin.get_or_insert((now, due));
        let when = at + due.saturating_sub(from);
        if when >= now {
            return (when - now, Duration::ZERO);
        }
        let lag = now - when;
        if lag > CATCH_UP {
            // Forgive what is beyond the catch-up: the schedule moves on.
            self.origin = Some((now - CATCH_UP, due));
            return (Duration::ZERO, CATCH_UP);
        }
        (Duration::ZERO, lag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Every(Duration);

    impl Pace for Every {
        fn paced(&self, _: u64) -> bool {
            true
        }
        fn due(&self, rows: u64, _: u64) -> Duration {
            self.0 * rows as u32
        }
        fn piece_rows(&self) -> usize {
            1
        }
    }

    #[test]
    fn waits_for_the_schedule_and_catches_up_at_most_a_second() {
        let pace = Every(Duration::from_millis(10));
        let mut p = Pacer::default();
        let t0 = Instant::now();
        // The first row leaves at once; the sixth 50 ms later.
        assert_eq!(p.wait(&pace, (1, 0), t0), (Duration::ZERO, Duration::ZERO));
        assert_eq!(p.wait(&pace, (5, 0), t0).0, Duration::from_millis(50));
        // The eleventh is due at 100 ms: at 120 ms it leaves at once, 20 ms late.
        let (wait, lag) = p.wait(&pace, (5, 0), t0 + Duration::from_millis(120));
        assert_eq!((wait, lag), (Duration::ZERO, Duration::from_millis(20)));
        // Five seconds late: a second is made up, the rest forgiven.
        let late = t0 + Duration::from_secs(6);
        assert_eq!(p.wait(&pace, (10, 0), late), (Duration::ZERO, CATCH_UP));
        assert_eq!(p.wait(&pace, (200, 0), late).0, Duration::from_secs(1));
        assert_eq!(p.rows, 221);
    }
}
