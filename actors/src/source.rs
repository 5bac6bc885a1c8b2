//! The Source: plans work units, farms them out to a pool of generator
//! threads, and pushes the resulting chunks to the buffer in plan order.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, Recipient,
    SyncContext, WrapFuture,
};
use futures::channel::oneshot;
use futures::stream::{FuturesOrdered, StreamExt};

use crate::buffer::BoundedBuffer;
use crate::message::{panic_message, ActorFailure, Origin};
use crate::message::{Push, Rows, SourceFinished};
use crate::pace::{Pace, Pacer};
use crate::BoxError;

/// Turns a work unit into chunks of rows. Pure CPU work: it runs on the
/// worker threads of a `SyncArbiter`, one instance per thread.
///
/// For the pipeline's output to be deterministic, `generate` must depend on
/// nothing but the unit it is given.
pub trait Generator: Send + Unpin + 'static {
    /// A description of the work, e.g. a range of row indices. Cloned to
    /// generate a unit again after its worker failed.
    type Unit: Clone + Send + Unpin + 'static;
    /// What the generated rows travel in.
    type Chunk: Rows;

    /// Generates every row of `unit`, in order.
    fn generate(&mut self, unit: Self::Unit) -> Result<Vec<Self::Chunk>, BoxError>;
}

/// Worker → Source: the chunks of one unit.
pub(crate) struct Generate<G: Generator>(pub G::Unit);

impl<G: Generator> Message for Generate<G> {
    type Result = Result<Vec<G::Chunk>, BoxError>;
}

/// A generator worker panicked: its message. The worker has built a new
/// generator and takes more units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("generator worker {worker} panicked: {message}")]
pub struct WorkerPanicked {
    /// Which worker (from 0).
    pub worker: usize,
    /// The panic's message.
    pub message: String,
}

/// One generator thread. A panic while generating is caught: the worker
/// builds a new generator (the old one may be in any state) and reports
/// [`WorkerPanicked`] for the unit.
pub(crate) struct Worker<G: Generator> {
    generator: G,
    make: Arc<dyn Fn() -> G + Send + Sync>,
    index: usize,
    /// Closed when the worker is gone.
    _gone: oneshot::Sender<()>,
}

impl<G: Generator> Worker<G> {
    pub(crate) fn new(
        make: Arc<dyn Fn() -> G + Send + Sync>,
        index: usize,
        gone: oneshot::Sender<()>,
    ) -> Self {
        Worker {
            generator: make(),
            make,
            index,
            _gone: gone,
        }
    }
}

impl<G: Generator> Actor for Worker<G> {
    type Context = SyncContext<Self>;
}

impl<G: Generator> Handler<Generate<G>> for Worker<G> {
    type Result = Result<Vec<G::Chunk>, BoxError>;

    fn handle(&mut self, msg: Generate<G>, _: &mut Self::Context) -> Self::Result {
        match catch_unwind(AssertUnwindSafe(|| self.generator.generate(msg.0))) {
            Ok(result) => result,
            Err(payload) => {
                self.generator = (self.make)();
                Err(Box::new(WorkerPanicked {
                    worker: self.index,
                    message: panic_message(&*payload),
                }))
            }
        }
    }
}

/// Source → Supervisor: generating a unit failed; what now?
#[derive(Message)]
#[rtype(result = "Decision")]
pub(crate) struct UnitFailed {
    /// The attempt of the Source asking.
    pub(crate) attempt: u32,
    pub(crate) origin: Origin,
    pub(crate) error: BoxError,
    /// Units were pushed since the last failure (or the start).
    pub(crate) progressed: bool,
}

/// The Supervisor's answer to [`UnitFailed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Generate the unit again after this pause (one-for-one).
    Retry(Duration),
    /// Stop: the Supervisor restarts everything or gives up.
    Stop,
}

/// Source → Supervisor: the Source has pushed everything (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct SourceDone {
    /// The attempt of the Source reporting.
    pub(crate) attempt: u32,
    pub(crate) result: Result<SourceStats, ActorFailure>,
}

/// What the Source did, for the run's stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Units generated.
    pub units: u64,
    /// Rows pushed.
    pub rows: u64,
    /// Time spent waiting for the buffer to ack a push (backpressure).
    pub blocked: Duration,
    /// Units generated again after their worker failed.
    pub retried: u64,
}

impl SourceStats {
    /// Adds what another Source of the same run did.
    pub fn add(&mut self, other: &SourceStats) {
        self.units += other.units;
        self.rows += other.rows;
        self.blocked += other.blocked;
        self.retried += other.retried;
    }
}

/// The Source actor. It owns the plan (an iterator of units), keeps up to
/// `window` units in flight on the workers, and pushes finished units to the
/// buffer strictly in plan order, awaiting each ack before the next push.
pub struct Source<G: Generator> {
    attempt: u32,
    plan: Option<Box<dyn Iterator<Item = G::Unit> + Send>>,
    workers: Addr<Worker<G>>,
    buffer: Addr<BoundedBuffer<G::Chunk>>,
    window: usize,
    pace: Option<Arc<dyn Pace>>,
    done: Recipient<SourceDone>,
    ask: Recipient<UnitFailed>,
}

impl<G: Generator> Source<G> {
    pub(crate) fn new(
        attempt: u32,
        plan: Box<dyn Iterator<Item = G::Unit> + Send>,
        workers: Addr<Worker<G>>,
        buffer: Addr<BoundedBuffer<G::Chunk>>,
        (window, pace): (usize, Option<Arc<dyn Pace>>),
        (done, ask): (Recipient<SourceDone>, Recipient<UnitFailed>),
    ) -> Self {
        Source {
            attempt,
            plan: Some(plan),
            workers,
            buffer,
            window: window.max(1),
            pace,
            done,
            ask,
        }
    }
}

/// Pushes `chunks` in pieces, each once the pace says its rows are due.
/// Returns false when the pace says the stream has ended (the rest is
/// not pushed).
async fn push_paced<C: Rows>(
    buffer: &Addr<BoundedBuffer<C>>,
    chunks: Vec<C>,
    pace: &dyn Pace,
    pacer: &mut Pacer,
    blocked: &mut Duration,
) -> Result<bool, ActorFailure> {
    let piece = pace.piece_rows().max(1);
    let mut pending: VecDeque<C> = chunks.into_iter().filter(|c| c.row_count() > 0).collect();
    while !pending.is_empty() {
        let mut part = Vec::new();
        let mut n = 0;
        while n < piece {
            let Some(mut chunk) = pending.pop_front() else {
                break;
            };
            let k = chunk.row_count();
            if n + k <= piece {
                n += k;
                part.push(chunk);
            } else {
                part.push(chunk.split_to(piece - n));
                n = piece;
                pending.push_front(chunk);
            }
        }
        let paced: u64 = part
            .iter()
            .filter(|c| c.position().is_none_or(|p| pace.paced(p)))
            .map(|c| c.row_count() as u64)
            .sum();
        let last = part
            .last()
            .and_then(|c| c.position().map(|p| p + c.row_count() as u64 - 1))
            .unwrap_or(0);
        let (mut wait, lag) = pacer.wait(pace, (paced, last), Instant::now());
        // Sleep in slices, so that the end of a slow stream is noticed.
        while !wait.is_zero() {
            if pace.stopped() {
                return Ok(false);
            }
            let slice = wait.min(Duration::from_millis(100));
            actix_rt::time::sleep(slice).await;
            wait -= slice;
        }
        if pace.stopped() {
            return Ok(false);
        }
        let waited = Instant::now();
        buffer
            .send(Push(part))
            .await
            .map_err(|e| ActorFailure::Lost(format!("buffer: {e}")))?
            .map_err(|e| ActorFailure::Failed(Box::new(e)))?;
        *blocked += waited.elapsed();
        if paced > 0 {
            pace.sent(pacer.rows, lag);
        }
    }
    Ok(true)
}

/// Where a unit's error came from: a worker that panicked, or the
/// generator's own error (the Source's).
fn origin(error: &BoxError) -> Origin {
    match error.downcast_ref::<WorkerPanicked>() {
        Some(p) => Origin::Worker(p.worker),
        None => Origin::Source,
    }
}

async fn produce<G: Generator>(
    attempt: u32,
    mut plan: Box<dyn Iterator<Item = G::Unit> + Send>,
    workers: Addr<Worker<G>>,
    buffer: Addr<BoundedBuffer<G::Chunk>>,
    (window, pace): (usize, Option<Arc<dyn Pace>>),
    ask: Recipient<UnitFailed>,
) -> Result<SourceStats, ActorFailure> {
    let mut stats = SourceStats::default();
    let mut pacer = Pacer::default();
    let mut in_flight = FuturesOrdered::new();
    // The units in flight, in order, to generate one again.
    let mut units: VecDeque<G::Unit> = VecDeque::new();
    let mut planned = true;
    // Units pushed since the last failure.
    let mut since_failure = 0u64;
    loop {
        while planned && in_flight.len() < window {
            match plan.next() {
                Some(unit) => {
                    units.push_back(unit.clone());
                    in_flight.push_back(workers.send(Generate::<G>(unit)));
                }
                None => planned = false,
            }
        }
        let Some(generated) = in_flight.next().await else {
            break;
        };
        let unit = units.pop_front().expect("a unit per future");
        let mut generated =
            generated.map_err(|e| ActorFailure::Lost(format!("generator worker: {e}")))?;
        // A failed unit: the Supervisor says whether to generate it again
        // (one-for-one) or to stop (it restarts everything, or gives up).
        while let Err(error) = generated {
            let origin = origin(&error);
            let decision = ask
                .send(UnitFailed {
                    attempt,
                    origin,
                    error,
                    progressed: since_failure > 0,
                })
                .await
                .map_err(|e| ActorFailure::Lost(format!("supervisor: {e}")))?;
            match decision {
                Decision::Retry(pause) => {
                    since_failure = 0;
                    actix_rt::time::sleep(pause).await;
                    stats.retried += 1;
                    generated = workers
                        .send(Generate::<G>(unit.clone()))
                        .await
                        .map_err(|e| ActorFailure::Lost(format!("generator worker: {e}")))?;
                }
                Decision::Stop => {
                    return Err(ActorFailure::Lost("stopped by the supervisor".into()))
                }
            }
        }
        let chunks = generated.expect("the loop ends on success");
        stats.units += 1;
        stats.rows += chunks.iter().map(|c| c.row_count() as u64).sum::<u64>();
        if let Some(pace) = &pace {
            if !push_paced(&buffer, chunks, &**pace, &mut pacer, &mut stats.blocked).await? {
                break;
            }
        } else {
            let waited = Instant::now();
            buffer
                .send(Push(chunks))
                .await
                .map_err(|e| ActorFailure::Lost(format!("buffer: {e}")))?
                .map_err(|e| ActorFailure::Failed(Box::new(e)))?;
            stats.blocked += waited.elapsed();
        }
        since_failure += 1;
    }
    buffer
        .send(SourceFinished)
        .await
        .map_err(|e| ActorFailure::Lost(format!("buffer: {e}")))?;
    Ok(stats)
}

impl<G: Generator> Actor for Source<G> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(plan) = self.plan.take() else {
            return;
        };
        let work = produce::<G>(
            self.attempt,
            plan,
            self.workers.clone(),
            self.buffer.clone(),
            (self.window, self.pace.clone()),
            self.ask.clone(),
        );
        let (done, attempt) = (self.done.clone(), self.attempt);
        ctx.spawn(work.into_actor(self).map(move |result, _, ctx| {
            done.do_send(SourceDone { attempt, result });
            ctx.stop();
        }));
    }
}
