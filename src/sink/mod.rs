//! Where rows go: the targets, one module each, behind one boundary.
//!
//! A target module implements three things:
//!
//! * a [`Kind`]: the URL schemes it answers to, the `[target]` keys it
//!   reads ([`options`]), and how a URL and those keys make a [`Target`];
//! * a [`Target`]: what the URL and keys describe — it opens sinks, says
//!   whether a run into it can be resumed or restarted, and removes what a
//!   failed run left behind;
//! * a [`TargetSink`]: the open sink the pipeline's Target actor writes
//!   batches to, which knows what the target already holds ([`Committed`])
//!   and may give the generator threads an encoder ([`BlockEncoder`]) so
//!   that rows arrive as bytes.
//!
//! [`registry`] maps URL schemes to kinds; nothing else names a target.
//! Errors a target reports are [`Failure`]s with an [`ErrorKind`]: bad
//! input (exit 2), transient (restarted) or permanent (the run ends).
//!
//! # Layout
//!
//! * [`registry`], [`options`]: finding a target by scheme; its keys.
//! * [`checkpoint`]: committed ranges of the row stream, for resuming.
//! * [`ddl`]: CREATE TABLE and key statements per SQL dialect.
//! * [`place`]: only regular files are replaced; temporary files made afresh.
//! * [`sqlite`], [`postgres`], [`files`], [`rotate`], [`broker`], [`null`]:
//!   the targets.

pub mod apply;
pub mod broker;
pub mod checkpoint;
pub mod ddl;
pub mod files;
pub mod null;
pub mod options;
pub mod place;
pub mod postgres;
pub mod read;
pub mod registry;
pub mod rotate;
pub mod sqlite;
pub mod upsert;

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use datagen_actors::{BoxError, Sink};

use crate::diag::Diagnostic;
pub use crate::failure::{classify, io_transient, kind_of, ErrorKind, Failure};
use crate::progress::Progress;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::url::{Url, UrlError};
use crate::value::{Block, Encoded};
use checkpoint::Committed;
use options::{AnyKey, Options};
pub use read::Reader;

/// A kind of target: what a URL scheme stands for.
pub trait Kind: Sync {
    /// The URL schemes it answers to, e.g. `["postgres", "postgresql"]`.
    fn schemes(&self) -> &'static [&'static str];

    /// What its URLs look like, one form per scheme, for help texts.
    fn usage(&self) -> &'static [&'static str];

    /// The `[target]` keys it reads besides `url` (and the environment's
    /// `DATAGEN_KEY` overrides of them).
    fn keys(&self) -> &'static [&'static dyn AnyKey];

    /// The target `url` (of one of its schemes) and `options` describe,
    /// for the `shard`-th slice of a run. Problems with the options are
    /// recorded in `options`; a URL that cannot be used is an error.
    fn parse(
        &self,
        url: &Url<'_>,
        options: &mut Options<'_>,
        shard: Shard,
    ) -> Result<Arc<dyn Target>, UrlError>;
}

/// A place rows go, as a URL and the `[target]` keys describe it. Shown,
/// it is its URL with any password hidden.
pub trait Target: fmt::Display + fmt::Debug + Send + Sync {
    /// The settings it uses, as `(key, value)`, for messages and reports.
    fn options(&self) -> Vec<(&'static str, String)>;

    /// Whether what a run commits survives the process, so an interrupted
    /// run can be finished with `--resume` (not standard output).
    fn resumable(&self) -> bool {
        true
    }

    /// Whether a stream that ended into it can be continued with
    /// `--resume` after it was finished (rotated files, brokers: their
    /// checkpoint stays), not only after a crash.
    fn continues(&self) -> bool {
        false
    }

    /// Whether its sinks load over connections that can be lost (and
    /// lost on purpose, with `--chaos target.drop_connection_every`).
    fn has_connections(&self) -> bool {
        false
    }

    /// Whether a failed attempt can be redone from the sink's checkpoint
    /// within the run (not standard output: what was printed cannot be
    /// taken back).
    fn restartable(&self) -> bool {
        true
    }

    /// What in `schema` this target cannot store as asked (names SQLite
    /// does not tell apart, names PostgreSQL would cut), located in the
    /// Genfile. Checked by `validate` for the Genfile's own target and
    /// before a run writes anything.
    fn check(&self, _schema: &Schema) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Opens a sink: connects, applies `if_exists`, creates tables or
    /// temporary files, or finds what an earlier attempt committed.
    /// Nothing is written or published if this fails.
    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure>;

    /// Removes what a run that failed for good created and did not
    /// publish (temporary files, an unpublished database).
    fn discard(&self, schema: &Schema);

    /// The tables it loads by upsert-add (`on_conflict`).
    fn upserts(&self) -> Vec<upsert::Upsert> {
        Vec::new()
    }

    /// A reader of what the store holds, for `datagen verify`; `None` for
    /// a target that cannot be read back (standard output, brokers,
    /// files).
    fn reader(&self) -> Result<Option<Box<dyn Reader>>, Failure> {
        Ok(None)
    }
}

/// What opening a sink needs besides the target.
#[derive(Debug, Clone)]
pub struct OpenArgs {
    /// The tables.
    pub schema: Arc<Schema>,
    /// Resuming, the run's fingerprint, the stop flag.
    pub resume: Resume,
    /// Rows per batch: commit units are whole batches.
    pub batch_rows: usize,
    /// Rows of the whole run, every shard together.
    pub run_rows: u64,
    /// The slice of the run written.
    pub shard: Shard,
    /// Where the sink counts the rows it commits.
    pub progress: Arc<Progress>,
    /// How far commit units are shrunk after failures, shared by the
    /// sinks of the run.
    pub commit_scale: Arc<CommitScale>,
    /// Fault injection (`--chaos target.drop_connection_every=N`): every
    /// N-th commit of the run loses its connection (PostgreSQL).
    pub drop_connection_every: Option<Every>,
    /// `datagen stream`: rows go out as they come (standard output
    /// interleaves its tables instead of spooling them).
    pub stream: bool,
}

/// Every N-th of something, counted across the attempts of a run.
#[derive(Debug, Clone)]
pub struct Every {
    /// N.
    pub n: u64,
    /// How many so far.
    pub count: Arc<std::sync::atomic::AtomicU64>,
}

impl Every {
    /// Counts one more; true when it is an N-th.
    pub fn tick(&self) -> bool {
        let k = self
            .count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        k.is_multiple_of(self.n.max(1))
    }
}

/// An open target: the pipeline's Target actor writes batches to it.
pub trait TargetSink: Sink<Chunk = Block> {
    /// What the target holds of this run already (empty unless resuming
    /// or restarted): those rows are not written again.
    fn committed(&self) -> &Committed;

    /// What encodes blocks for this target on the generator threads; none
    /// when the sink takes values (SQLite binds them).
    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>>;

    /// Work units each generator thread may have ready ahead of the one
    /// being pushed. Deep (the default) when the sink keeps up, so a worker
    /// that finishes early goes on behind a slow unit; shallow when the
    /// sink is the bottleneck and waiting units hold values, not bytes
    /// (SQLite), where depth buys no speed, only memory.
    fn units_ahead(&self) -> usize {
        8
    }
}

impl Sink for Box<dyn TargetSink> {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        (**self).write(batch)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        (**self).finish()
    }

    fn durable(&self) -> Option<u64> {
        (**self).durable()
    }
}

/// Encodes generated blocks into the bytes a target writes.
///
/// The generator threads encode each block right after making it, so
/// encoding runs on every core and the sink, a single thread, only moves
/// bytes. A sink handed a block that is not encoded yet encodes it itself
/// ([`encoded`]), through the same encoder.
pub trait BlockEncoder: Send + Sync {
    /// Encodes every row of `block` into `out` (empty; its capacity is
    /// reused), or says why a value cannot be written.
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError>;
}

/// `block`'s encoded rows, encoding them with `encoder` if that is not
/// done yet.
pub fn encoded<'b>(
    encoder: &dyn BlockEncoder,
    block: &'b mut Block,
) -> Result<&'b Encoded, BoxError> {
    let encoded = match block.encoded.take() {
        Some(encoded) => encoded,
        None => {
            let mut encoded = Encoded::default();
            encoder.encode(block, &mut encoded)?;
            encoded
        }
    };
    Ok(block.encoded.insert(encoded))
}

/// What a sink needs to be resumable and interruptible.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// Continue from the target's checkpoint instead of starting anew.
    pub resume: bool,
    /// Reopened by the Supervisor within the run (not `--resume`): the
    /// checkpoint is this run's own, even when it holds nothing yet and
    /// the target holds another load's progress.
    pub restart: bool,
    /// Which tables the run's first sink created (PostgreSQL): a sink
    /// reopened by a restart adds keys only to those, not to tables an
    /// `append` found.
    pub created: Arc<std::sync::Mutex<Option<Vec<bool>>>>,
    /// Identifies the run's data (see `run::fingerprint`).
    pub fingerprint: String,
    /// Set when the run is stopped by a signal: `finish` then commits what
    /// it has and leaves the target resumable instead of completing it.
    pub stop: Arc<AtomicBool>,
    /// Set when some part of the run acted on `stop` (left work undone):
    /// a signal that came after the target was complete interrupts
    /// nothing.
    pub honoured: Arc<AtomicBool>,
}

impl Resume {
    /// True when the run was stopped by a signal; the caller then leaves
    /// its work undone, which is recorded.
    pub fn stopped(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let stopped = self.stop.load(Relaxed);
        if stopped {
            self.honoured.store(true, Relaxed);
        }
        stopped
    }
}

/// Default rows per commit unit (a database transaction, a file
/// checkpoint): large enough that commits cost little, small enough that a
/// unit's COPY streams stay a few megabytes.
pub const COMMIT_ROWS: u64 = 50_000;

/// Commit units shrunk after failures: each failure of the target halves
/// them (down to one batch), each commit doubles them back towards the
/// configured size. A fault every N batches, for any N ≥ 2, then still
/// lets commits through: after a failure the units fit between faults.
#[derive(Debug, Default)]
pub struct CommitScale {
    halvings: std::sync::atomic::AtomicU32,
    /// The configured rows per unit and per batch of the last sink opened.
    sizes: std::sync::Mutex<(u64, usize)>,
}

impl CommitScale {
    /// Rows per commit unit now, for a sink configured with `configured`
    /// rows per unit and batches of `batch_rows`.
    pub fn rows(&self, configured: u64, batch_rows: usize) -> u64 {
        let h = self.halvings.load(std::sync::atomic::Ordering::Relaxed);
        (configured >> h.min(63)).max(batch_rows as u64).max(1)
    }

    /// Whether commit units are as small as they get.
    pub fn smallest(&self, configured: u64, batch_rows: usize) -> bool {
        self.rows(configured, batch_rows) <= (batch_rows as u64).max(1)
    }

    /// Whether the units of the sinks opened are as small as they get.
    pub fn at_floor(&self) -> bool {
        let (configured, batch_rows) = *self.sizes.lock().expect("commit sizes");
        configured > 0 && self.smallest(configured, batch_rows)
    }

    /// After a failure of the target.
    pub fn halve(&self) {
        let _ = self.halvings.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |h| Some((h + 1).min(63)),
        );
    }

    /// After a commit.
    pub fn grow(&self) {
        let _ = self.halvings.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |h| Some(h.saturating_sub(1)),
        );
    }
}

/// How a sink cuts commit units: the configured size, shrunk after
/// failures by the run's [`CommitScale`].
#[derive(Debug, Clone, Default)]
pub struct Commits {
    /// Rows per unit as configured (never less than a batch).
    pub configured: u64,
    /// Rows per batch: a unit is never smaller.
    pub batch_rows: usize,
    /// The run's shrinking.
    pub scale: Arc<CommitScale>,
}

impl Commits {
    /// `configured` rows per unit (or the default) for `args`.
    pub fn new(configured: Option<u64>, args: &OpenArgs) -> Commits {
        let configured = commit_rows(configured, args.batch_rows);
        *args.commit_scale.sizes.lock().expect("commit sizes") = (configured, args.batch_rows);
        Commits {
            configured,
            batch_rows: args.batch_rows,
            scale: args.commit_scale.clone(),
        }
    }

    /// Rows per unit now.
    pub fn rows(&self) -> u64 {
        self.scale.rows(self.configured, self.batch_rows)
    }

    /// A unit was committed: units grow back.
    pub fn committed(&self) {
        self.scale.grow();
    }
}

/// Rows given to a sink and how many of them are durable, for
/// [`Sink::durable`]; and whether the last write failed half-way (then a
/// sink dropped without `finish` commits nothing more).
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    /// Rows given to `write`, counted before committed ones are dropped.
    pub given: u64,
    /// Of those, the rows committed.
    pub durable: u64,
    /// A write is under way or failed half-way.
    pub poisoned: bool,
}

impl Given {
    /// A write of `batch` begins.
    pub fn begin(&mut self, batch: &[Block]) {
        self.given += batch.iter().map(|b| b.len() as u64).sum::<u64>();
        self.poisoned = true;
    }

    /// The write ended well.
    pub fn end(&mut self) {
        self.poisoned = false;
    }

    /// Everything given so far is committed.
    pub fn committed(&mut self) {
        self.durable = self.given;
    }
}

/// Rows per commit unit: as configured, or [`COMMIT_ROWS`], and never
/// less than a batch.
pub fn commit_rows(configured: Option<u64>, batch_rows: usize) -> u64 {
    configured.unwrap_or(COMMIT_ROWS.max(batch_rows as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_units_halve_after_failures_and_grow_back_after_commits() {
        let scale = CommitScale::default();
        assert_eq!(scale.rows(5_000, 1_000), 5_000);
        scale.halve();
        assert_eq!(scale.rows(5_000, 1_000), 2_500);
        scale.halve();
        scale.halve();
        assert_eq!(scale.rows(5_000, 1_000), 1_000, "never below a batch");
        assert!(scale.smallest(5_000, 1_000));
        for _ in 0..70 {
            scale.halve();
        }
        assert_eq!(scale.rows(u64::MAX, 1), u64::MAX >> 63);
        for _ in 0..100 {
            scale.grow();
        }
        assert_eq!(scale.rows(5_000, 1_000), 5_000);
        assert!(!scale.smallest(5_000, 1_000));
    }
}
