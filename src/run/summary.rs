//! What a finished run reports: rows per table, speed, what the pipeline
//! and the Supervisor did.

use datagen_actors::{PipelineStats, Restarts};

use crate::shard::Shard;

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct Summary {
    /// `(table, rows)` in schema order.
    pub tables: Vec<(String, u64)>,
    /// Pipeline statistics.
    pub stats: PipelineStats,
    /// The buffer capacity used.
    pub buffer_rows: usize,
    /// Where the rows went.
    pub target: String,
    /// What the Supervisor restarted.
    pub restarts: Restarts,
    /// The slice of the run written.
    pub shard: Shard,
    /// Bytes of the rows written: encoded bytes where the target takes
    /// bytes, the rows' values and text in memory where it does not.
    pub bytes: u64,
    /// How a stream ended (`datagen stream`).
    pub stream: Option<StreamEnd>,
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// Why.
    pub ended: super::stream::Ended,
    /// Whether `--resume` continues it where it stopped.
    pub resumable: bool,
}

impl Summary {
    /// Rows of all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }

    /// The summary as JSON, for scripts (`--report json`): rows per
    /// table, the pipeline's figures, and every supervision event.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let s = &self.stats;
        let secs = s.elapsed.as_secs_f64();
        let share = |d: std::time::Duration| d.as_secs_f64() / secs.max(1e-9);
        let r = &self.restarts;
        json!({
            "target": self.target,
            "shard": { "index": self.shard.index, "count": self.shard.count },
            "tables": self.tables.iter().map(|(t, n)| json!({ "table": t, "rows": n })).collect::<Vec<_>>(),
            "rows": self.rows(),
            "bytes": self.bytes,
            "seconds": secs,
            "rows_per_second": self.rows() as f64 / secs.max(1e-9),
            "pipeline": {
                "buffer_rows": self.buffer_rows,
                "buffer_peak_rows": s.buffer.peak_rows,
                "buffer_occupancy_mean_rows": s.sampled.occupancy_mean,
                "buffer_occupancy_p99_rows": s.sampled.occupancy_p99,
                "mailbox_round_trip_p50_us": s.sampled.round_trip_p50.as_micros() as u64,
                "mailbox_round_trip_p99_us": s.sampled.round_trip_p99.as_micros() as u64,
                "samples": s.sampled.samples,
                "batches": s.target.batches,
                "source_blocked_seconds": s.source.blocked.as_secs_f64(),
                "source_blocked_share": share(s.source.blocked),
                "target_starved_seconds": s.target.starved.as_secs_f64(),
                "target_starved_share": share(s.target.starved),
                "source_finished_received": s.target.source_finished,
                "remainder_rows": s.target.remainder_rows,
            },
            "supervision": {
                "restarts": r.total(),
                "source": r.source,
                "target": r.target,
                "other": r.other,
                "lost_seconds": r.lost.as_secs_f64(),
                "replayed_rows": s.target.replayed_rows,
                "units_generated_again": s.source.retried,
                "events": r.events.iter().map(|e| json!({
                    "at_seconds": e.at.as_secs_f64(),
                    "origin": e.origin.to_string(),
                    "cause": e.cause,
                    "panic": e.panic,
                    "action": e.action.describe(),
                })).collect::<Vec<_>>(),
            },
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self.tables.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
        for (table, rows) in &self.tables {
            writeln!(f, "  {table:<width$}  {rows:>12} rows")?;
        }
        let secs = self.stats.elapsed.as_secs_f64();
        if !self.shard.is_whole() {
            write!(f, "shard {} of {}: ", self.shard.index, self.shard.count)?;
        }
        writeln!(
            f,
            "{} rows in {secs:.2} s ({:.0} rows/s) → {}",
            self.rows(),
            self.rows() as f64 / secs.max(1e-9),
            self.target
        )?;
        let t = &self.stats.target;
        write!(
            f,
            "pipeline: {} batches, buffer {} rows (peak {}), source blocked {:.2} s, target starved {:.2} s",
            t.batches,
            self.buffer_rows,
            self.stats.buffer.peak_rows,
            self.stats.source.blocked.as_secs_f64(),
            t.starved.as_secs_f64()
        )?;
        if t.source_finished {
            match t.remainder_rows {
                0 => write!(
                    f,
                    "\ntarget: SourceFinished received; no partial batch to flush"
                )?,
                n => write!(
                    f,
                    "\ntarget: SourceFinished received; flushed a partial batch of {n} rows"
                )?,
            }
        }
        let r = &self.restarts;
        if r.total() > 0 {
            write!(
                f,
                "\nsupervision: {} restarts (source {}, target {}, other {}), {:.2} s lost",
                r.total(),
                r.source,
                r.target,
                r.other,
                r.lost.as_secs_f64()
            )?;
            if t.replayed_rows > 0 || self.stats.source.retried > 0 {
                write!(
                    f,
                    "; {} rows given again to a replaced target, {} units generated again",
                    t.replayed_rows, self.stats.source.retried
                )?;
            }
            for (i, event) in r.events.iter().enumerate() {
                write!(
                    f,
                    "\n  restart {} at {:.2} s, {}: {} ({})",
                    i + 1,
                    event.at.as_secs_f64(),
                    event.origin,
                    event.cause,
                    event.action.describe()
                )?;
            }
        }
        Ok(())
    }
}
