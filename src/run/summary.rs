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
}

impl Summary {
    /// Rows of all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
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
