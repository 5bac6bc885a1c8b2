//! What `datagen stream` adds to a run: the pace rows leave at, the
//! timer that ends a stream after its `duration`, and which tables are
//! emitted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datagen_actors::Pace;

use crate::progress::Gauge;
use crate::schema::stream::{Rate, StreamSpec};

/// Pieces are this much of the rate: small enough that a stream is smooth
/// within a few milliseconds, large enough that a push per piece costs
/// little.
const PIECE: Duration = Duration::from_millis(5);

/// The most rows a piece holds, whatever the rate.
const MAX_PIECE_ROWS: usize = 10_000;

/// A stream's rate for the Source: rows from position `base` on leave at
/// `rate` rows per second, or as the event clock's schedule says; the
/// tables before them (those the stream's events refer to) leave at once.
#[derive(Debug)]
pub struct StreamPace {
    base: u64,
    rate: f64,
    /// Paced by the schedule: the clock and the speed.
    schedule: Option<(crate::clock::Clock, f64)>,
    gauge: Arc<Gauge>,
    stop: Arc<AtomicBool>,
}

impl StreamPace {
    /// The pace of `spec` for event rows from `base`, reporting into
    /// `gauge` and ending when `stop` is set; `None` when the rate is
    /// `"max"`.
    pub fn new(
        spec: &StreamSpec,
        base: u64,
        gauge: Arc<Gauge>,
        stop: Arc<AtomicBool>,
    ) -> Option<StreamPace> {
        let schedule = spec
            .paced_by_schedule
            .then(|| (spec.clock(base), spec.speed));
        let rate = match (spec.rate, &spec.schedule) {
            (Rate::PerSecond(rate), _) => rate,
            // Paced by the schedule: pieces of its mean rate.
            (Rate::Max, Some(s)) if schedule.is_some() => {
                s.per_day() * spec.speed / f64::from(crate::clock::DAY)
            }
            (Rate::Max, _) => return None,
        };
        Some(StreamPace {
            base,
            rate,
            schedule,
            gauge,
            stop,
        })
    }
}

impl Pace for StreamPace {
    fn paced(&self, position: u64) -> bool {
        position >= self.base
    }

    fn due(&self, rows: u64, position: u64) -> Duration {
        match &self.schedule {
            None => Duration::from_secs_f64(rows as f64 / self.rate),
            Some((clock, speed)) => {
                let event = clock.at(position).saturating_sub(clock.start).max(0);
                Duration::from_secs_f64(event as f64 / 1e6 / speed)
            }
        }
    }

    fn piece_rows(&self) -> usize {
        ((self.rate * PIECE.as_secs_f64()) as usize).clamp(1, MAX_PIECE_ROWS)
    }

    fn sent(&self, rows: u64, lag: Duration) {
        self.gauge.sent.store(rows, Ordering::Relaxed);
        self.gauge.lag_micros.store(
            lag.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Why a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its rows ran out: `max_rows`, a `unique` column's values, or the
    /// Genfile's rows when no tree grows without end.
    Rows,
    /// Its `duration` passed.
    Duration,
    /// A signal (SIGINT, SIGTERM).
    Signal,
}

/// Sets `stop` once `duration` has passed, and `expired` with it, unless
/// `done` is set first.
pub fn end_after(
    duration: Duration,
    stop: Arc<AtomicBool>,
    expired: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
) {
    let started = std::time::Instant::now();
    let _ = std::thread::Builder::new()
        .name("datagen-duration".into())
        .spawn(move || {
            while started.elapsed() < duration {
                if done.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep((duration - started.elapsed()).min(Duration::from_millis(50)));
            }
            expired.store(true, Ordering::Relaxed);
            stop.store(true, Ordering::Relaxed);
        });
}

/// Prints what the stream is about to do.
pub fn announce(
    schema: &crate::schema::Schema,
    settings: &crate::settings::Settings,
    plan: &crate::generate::Plan,
    shape: &crate::generate::stream::Shape,
) {
    use crate::progress::grouped;
    let spec = &schema.stream;
    let name = |t: usize| schema.tables[t].name.as_str();
    let rate = match spec.rate {
        _ if spec.paced_by_schedule => "the rate of its profile".to_owned(),
        Rate::Max => "as fast as the target takes rows".to_owned(),
        Rate::PerSecond(r) if r < 1.0 => format!("{r} rows/s"),
        Rate::PerSecond(r) => format!("{} rows/s", grouped(r as u64)),
    };
    let mut until = Vec::new();
    if let Some(n) = spec.max_rows {
        until.push(format!("{} event rows", grouped(n)));
    }
    if let Some(d) = spec.duration {
        until.push(format!("{:?}", d));
    }
    if shape.endless.is_some() {
        until.push("a signal (Ctrl-C)".to_owned());
    } else {
        until.push(format!("the Genfile's {} rows", grouped(plan.total_rows())));
    }
    // Every table of the trees referred to, emitted or not (a changes
    // table is emitted below a table that is not).
    let references: Vec<String> = shape.order[..shape.references]
        .iter()
        .flat_map(|&r| (0..schema.tables.len()).filter(move |&t| shape.root_of[t] == r))
        .map(|t| {
            let skipped = if spec.emit[t] { "" } else { ", not emitted" };
            format!(
                "{} ({} rows{skipped})",
                name(t),
                grouped(plan.table_rows[t])
            )
        })
        .collect();
    let events: Vec<&str> = (0..schema.tables.len())
        .filter(|&t| spec.emit[t] && shape.order[shape.references..].contains(&shape.root_of[t]))
        .map(name)
        .collect();
    eprintln!(
        "datagen: streaming {} → {} at {rate}, until {} (seed {})",
        events.join(", "),
        settings.target,
        until.join(" or "),
        settings.seed
    );
    if !references.is_empty() {
        eprintln!(
            "datagen: first the tables they refer to: {}",
            references.join(", ")
        );
    }
}
