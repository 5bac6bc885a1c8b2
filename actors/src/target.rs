//! The Target: pulls batches from the buffer and hands them to a [`Sink`]
//! running on a blocking thread, so that database and file I/O never stall
//! an event loop.
//!
//! The Target keeps every batch it wrote until the sink says its rows are
//! durable ([`Sink::durable`]). When the sink fails (an error or a panic)
//! those batches, and the one pulled ahead, go back to the Supervisor,
//! which gives them to a replacement Target first: the Source and the
//! buffer never learn that the Target was replaced.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, Recipient,
    WrapFuture,
};

use futures::channel::oneshot;

use crate::buffer::BoundedBuffer;
use crate::message::{panic_message, ActorFailure};
use crate::message::{Pull, Pulled, Rows, SourceFinished};
use crate::BoxError;

/// Where batches end up. Calls may block: they run on a blocking thread.
///
/// A sink commits whole batches: `write` either stores all of `batch` or
/// returns an error, and `finish` makes everything written visible (commits,
/// renames, adds constraints). A sink dropped without `finish` must leave
/// nothing half-done behind.
pub trait Sink: Send + Unpin + 'static {
    /// What the rows travel in.
    type Chunk: Rows;

    /// Stores one batch. The sink may change the chunks in place (drop
    /// rows it holds already, take the bytes it hands on) but leaves in
    /// `batch` every row it was given and has not made durable, so that a
    /// replacement sink can be given them again after a failure.
    fn write(&mut self, batch: &mut Vec<Self::Chunk>) -> Result<(), BoxError>;

    /// Completes the output after the last batch.
    fn finish(&mut self) -> Result<(), BoxError>;

    /// Of the rows given to [`Sink::write`] so far, counted as given, how
    /// many are durable (committed), as a prefix. The Target keeps the
    /// batches after that prefix, to give a replacement. `None`: every row
    /// is durable once `write` returns.
    fn durable(&self) -> Option<u64> {
        None
    }
}

/// Target → Supervisor: the sink has finished (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct TargetDone<C: Rows> {
    /// Which Target of the run (the Supervisor ignores an older one's).
    pub(crate) id: u32,
    pub(crate) result: Result<TargetStats, TargetFailure<C>>,
}

/// How a Target failed, and what it leaves for its replacement.
pub(crate) struct TargetFailure<C> {
    pub(crate) failure: ActorFailure,
    /// Batches written or pulled but not durable, in order.
    pub(crate) retained: Vec<Vec<C>>,
    /// What it did before failing.
    pub(crate) stats: TargetStats,
}

/// What the Target did, for the run's stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetStats {
    /// Batches written (including the remainder and batches replayed).
    pub batches: u64,
    /// Rows written.
    pub rows: u64,
    /// Time spent with nothing to write, waiting for the buffer to fill.
    pub starved: Duration,
    /// Time the sink spent writing.
    pub writing: Duration,
    /// Whether the Target received [`SourceFinished`].
    pub source_finished: bool,
    /// Rows of the partial batch flushed after [`SourceFinished`].
    pub remainder_rows: u64,
    /// Rows a replacement Target wrote again (kept by the one it replaced).
    pub replayed_rows: u64,
}

impl TargetStats {
    /// Adds what another Target of the same run did.
    pub fn add(&mut self, other: &TargetStats) {
        self.batches += other.batches;
        self.rows += other.rows;
        self.starved += other.starved;
        self.writing += other.writing;
        self.source_finished |= other.source_finished;
        self.remainder_rows += other.remainder_rows;
        self.replayed_rows += other.replayed_rows;
    }
}

/// The Target actor. While the sink writes one batch it already asks the
/// buffer for the next, so generation, buffering and I/O overlap.
pub struct Target<S: Sink> {
    id: u32,
    sink: Option<S>,
    replay: Vec<Vec<S::Chunk>>,
    buffer: Addr<BoundedBuffer<S::Chunk>>,
    batch_rows: usize,
    linger: Option<Duration>,
    done: Recipient<TargetDone<S::Chunk>>,
    /// Told when [`SourceFinished`] arrives; the sink is finished only then.
    source_finished: Option<oneshot::Sender<()>>,
    told: Option<oneshot::Receiver<()>>,
}

impl<S: Sink> Target<S> {
    /// Target `id` of the run: writes `replay` first, then what it pulls.
    pub(crate) fn new(
        id: u32,
        sink: S,
        replay: Vec<Vec<S::Chunk>>,
        buffer: Addr<BoundedBuffer<S::Chunk>>,
        (batch_rows, linger): (usize, Option<Duration>),
        done: Recipient<TargetDone<S::Chunk>>,
    ) -> Self {
        let (tx, rx) = oneshot::channel();
        Target {
            id,
            sink: Some(sink),
            replay,
            buffer,
            batch_rows,
            linger,
            done,
            source_finished: Some(tx),
            told: Some(rx),
        }
    }
}

/// What a call on the sink's blocking thread gives back: the sink (`None`
/// once it failed: it was dropped there), the batch, and the outcome.
type Blocking<S, C> = (Option<S>, Vec<C>, Result<(), ActorFailure>);

/// Runs `f` on the sink and `batch` on a blocking thread, catching a
/// panic. A sink that failed is dropped on that thread (its drop may
/// wait, e.g. for commits in flight), so the Supervisor's wait for it to
/// be gone covers that.
async fn run_blocking<S: Sink>(
    mut sink: S,
    mut batch: Vec<S::Chunk>,
    f: fn(&mut S, &mut Vec<S::Chunk>) -> Result<(), BoxError>,
) -> Blocking<S, S::Chunk> {
    let joined = actix_rt::task::spawn_blocking(move || {
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut sink, &mut batch)));
        match outcome {
            Ok(Ok(())) => (Some(sink), batch, Ok(())),
            Ok(Err(e)) => {
                drop(sink);
                (None, batch, Err(ActorFailure::Failed(e)))
            }
            Err(payload) => {
                // A sink that panicked may be in any state: drop it, and
                // a panic of its drop too.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(sink)));
                let message = panic_message(&*payload);
                (None, batch, Err(ActorFailure::Panicked(message)))
            }
        }
    })
    .await;
    joined.unwrap_or_else(|e| {
        (
            None,
            Vec::new(),
            Err(ActorFailure::Lost(format!("sink thread: {e}"))),
        )
    })
}

fn rows<C: Rows>(batch: &[C]) -> u64 {
    batch.iter().map(|c| c.row_count() as u64).sum()
}

/// The batches a Target writes, as it keeps them until they are durable.
struct Log<C> {
    /// `(rows given up to and including the batch, the batch)`.
    batches: VecDeque<(u64, Vec<C>)>,
    given: u64,
}

impl<C: Rows> Log<C> {
    fn keep(&mut self, batch: Vec<C>, durable: Option<u64>) {
        self.batches.push_back((self.given, batch));
        let durable = durable.unwrap_or(self.given);
        while self.batches.front().is_some_and(|(end, _)| *end <= durable) {
            self.batches.pop_front();
        }
    }

    /// Keeps `batch`, whose write failed, whole.
    fn failed(&mut self, batch: Vec<C>) {
        self.batches.push_back((self.given, batch));
    }

    fn retained(self, then: impl Iterator<Item = Vec<C>>) -> Vec<Vec<C>> {
        self.batches
            .into_iter()
            .map(|(_, b)| b)
            .chain(then)
            .filter(|b| !b.is_empty())
            .collect()
    }
}

async fn consume<S: Sink>(
    sink: S,
    replay: Vec<Vec<S::Chunk>>,
    buffer: Addr<BoundedBuffer<S::Chunk>>,
    (batch_rows, linger): (usize, Option<Duration>),
    told: oneshot::Receiver<()>,
) -> Result<TargetStats, TargetFailure<S::Chunk>> {
    let mut stats = TargetStats::default();
    let mut log = Log {
        batches: VecDeque::new(),
        given: 0,
    };
    let pull = |buffer: &Addr<BoundedBuffer<S::Chunk>>| {
        let request = buffer.send(Pull::<S::Chunk>::lingering(batch_rows, linger));
        async move {
            let pulled = request
                .await
                .map_err(|e| ActorFailure::Lost(format!("buffer: {e}")))?
                .map_err(|e| ActorFailure::Failed(Box::new(e)))?;
            Ok::<_, ActorFailure>((pulled, Instant::now()))
        }
    };
    let mut replay: VecDeque<Vec<S::Chunk>> = replay.into_iter().collect();
    // What a replacement must be given: the batches not durable, those
    // still to replay, and the one pulled ahead, in that order.
    let fail = |failure, log: Log<S::Chunk>, replay: VecDeque<Vec<S::Chunk>>, ahead, stats| {
        TargetFailure {
            failure,
            retained: log.retained(replay.into_iter().chain(ahead)),
            stats,
        }
    };
    let mut sink = sink;
    // The batch to write next, once the replayed ones are written.
    let mut next: Option<Pulled<S::Chunk>> = None;
    let mut ended = false;
    loop {
        let (batch, replayed) = match replay.pop_front() {
            Some(batch) => (batch, true),
            None => {
                let pulled = match next.take() {
                    Some(p) => p,
                    None if ended => break,
                    None => {
                        let asked = Instant::now();
                        match pull(&buffer).await {
                            Ok((p, arrived)) => {
                                stats.starved += arrived - asked;
                                p
                            }
                            Err(e) => return Err(fail(e, log, replay, None, stats)),
                        }
                    }
                };
                match pulled {
                    Pulled::Full(batch) | Pulled::Partial(batch) => (batch, false),
                    Pulled::Remainder(batch) => {
                        // The Source has finished: this partial batch is
                        // the flush; the pull after it gets the end, and
                        // the buffer closes.
                        stats.remainder_rows += rows(&batch);
                        (batch, false)
                    }
                    Pulled::End => break,
                }
            }
        };
        let n = rows(&batch);
        log.given += n;
        stats.batches += 1;
        stats.rows += n;
        if replayed {
            stats.replayed_rows += n;
        }
        let begun = Instant::now();
        let write = async {
            let out = run_blocking(sink, batch, |s, b| s.write(b)).await;
            (out, Instant::now())
        };
        // Pull the next batch while this one is written, unless replayed
        // batches come first or the buffer said it has no more.
        let ahead = async {
            if replay.is_empty() && !ended {
                Some(pull(&buffer).await)
            } else {
                None
            }
        };
        let (((written, batch, outcome), finished), ahead) = futures::join!(write, ahead);
        stats.writing += finished - begun;
        let ahead = match ahead {
            Some(Ok((pulled, arrived))) => {
                stats.starved += arrived.saturating_duration_since(finished);
                Some(pulled)
            }
            Some(Err(e)) => {
                match &written {
                    Some(w) => log.keep(batch, w.durable()),
                    None => log.failed(batch),
                }
                return Err(fail(e, log, replay, None, stats));
            }
            None => None,
        };
        if let Err(e) = outcome {
            log.failed(batch);
            let ahead = match ahead {
                Some(Pulled::Full(b) | Pulled::Remainder(b) | Pulled::Partial(b)) => Some(b),
                _ => None,
            };
            return Err(fail(e, log, replay, ahead, stats));
        }
        let written = written.expect("a sink that wrote is given back");
        log.keep(batch, written.durable());
        sink = written;
        next = ahead;
        if matches!(next, Some(Pulled::End)) {
            ended = true;
            next = None;
        }
    }
    // The buffer has ended: the Source finished. The sink is finished
    // once the Target has been told so (by the Supervisor, which relays
    // the Source's end), as the design has it.
    stats.source_finished = told.await.is_ok();
    let begun = Instant::now();
    let (_, _, outcome) = run_blocking(sink, Vec::new(), |s, _| s.finish()).await;
    stats.writing += begun.elapsed();
    match outcome {
        Ok(()) => Ok(stats),
        Err(e) => Err(fail(e, log, replay, None, stats)),
    }
}

impl<S: Sink> Actor for Target<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(sink) = self.sink.take() else {
            return;
        };
        let replay = std::mem::take(&mut self.replay);
        let Some(told) = self.told.take() else {
            return;
        };
        let work = consume(
            sink,
            replay,
            self.buffer.clone(),
            (self.batch_rows, self.linger),
            told,
        );
        let (done, id) = (self.done.clone(), self.id);
        ctx.spawn(work.into_actor(self).map(move |result, _, ctx| {
            done.do_send(TargetDone { id, result });
            ctx.stop();
        }));
    }
}

/// The Source has finished: the next batch may be the partial one that
/// flushes what is left. Sent by the Supervisor when the Source reports
/// its end.
impl<S: Sink> Handler<SourceFinished> for Target<S> {
    type Result = ();

    fn handle(&mut self, _: SourceFinished, _: &mut Self::Context) {
        tracing::debug!(target_id = self.id, "target: the source has finished");
        if let Some(tx) = self.source_finished.take() {
            let _ = tx.send(());
        }
    }
}
