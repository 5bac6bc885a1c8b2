//! The Source: plans work units, farms them out to a pool of generator
//! threads, and pushes the resulting chunks to the buffer in plan order.

use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, Recipient,
    SyncContext, WrapFuture,
};
use futures::stream::{FuturesOrdered, StreamExt};

use crate::buffer::BoundedBuffer;
use crate::message::ActorFailure;
use crate::message::{Push, Rows, SourceFinished};
use crate::BoxError;

/// Turns a work unit into chunks of rows. Pure CPU work: it runs on the
/// worker threads of a `SyncArbiter`, one instance per thread.
///
/// For the pipeline's output to be deterministic, `generate` must depend on
/// nothing but the unit it is given.
pub trait Generator: Send + Unpin + 'static {
    /// A description of the work, e.g. a range of row indices.
    type Unit: Send + Unpin + 'static;
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

/// One generator thread.
pub(crate) struct Worker<G: Generator> {
    generator: G,
}

impl<G: Generator> Worker<G> {
    pub(crate) fn new(generator: G) -> Self {
        Worker { generator }
    }
}

impl<G: Generator> Actor for Worker<G> {
    type Context = SyncContext<Self>;
}

impl<G: Generator> Handler<Generate<G>> for Worker<G> {
    type Result = Result<Vec<G::Chunk>, BoxError>;

    fn handle(&mut self, msg: Generate<G>, _: &mut Self::Context) -> Self::Result {
        self.generator.generate(msg.0)
    }
}

/// Source → Supervisor: the Source has pushed everything (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct SourceDone(pub Result<SourceStats, ActorFailure>);

/// What the Source did, for the run's stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Units generated.
    pub units: u64,
    /// Rows pushed.
    pub rows: u64,
    /// Time spent waiting for the buffer to ack a push (backpressure).
    pub blocked: Duration,
}

/// The Source actor. It owns the plan (an iterator of units), keeps up to
/// `window` units in flight on the workers, and pushes finished units to the
/// buffer strictly in plan order, awaiting each ack before the next push.
pub struct Source<G: Generator> {
    plan: Option<Box<dyn Iterator<Item = G::Unit> + Send>>,
    workers: Addr<Worker<G>>,
    buffer: Addr<BoundedBuffer<G::Chunk>>,
    window: usize,
    done: Recipient<SourceDone>,
}

impl<G: Generator> Source<G> {
    pub(crate) fn new(
        plan: Box<dyn Iterator<Item = G::Unit> + Send>,
        workers: Addr<Worker<G>>,
        buffer: Addr<BoundedBuffer<G::Chunk>>,
        window: usize,
        done: Recipient<SourceDone>,
    ) -> Self {
        Source {
            plan: Some(plan),
            workers,
            buffer,
            window: window.max(1),
            done,
        }
    }
}

async fn produce<G: Generator>(
    mut plan: Box<dyn Iterator<Item = G::Unit> + Send>,
    workers: Addr<Worker<G>>,
    buffer: Addr<BoundedBuffer<G::Chunk>>,
    window: usize,
) -> Result<SourceStats, ActorFailure> {
    let mut stats = SourceStats::default();
    let mut in_flight = FuturesOrdered::new();
    let mut planned = true;
    loop {
        while planned && in_flight.len() < window {
            match plan.next() {
                Some(unit) => in_flight.push_back(workers.send(Generate::<G>(unit))),
                None => planned = false,
            }
        }
        let Some(generated) = in_flight.next().await else {
            break;
        };
        let chunks = generated
            .map_err(|e| ActorFailure::Lost(format!("generator worker: {e}")))?
            .map_err(ActorFailure::Failed)?;
        stats.units += 1;
        stats.rows += chunks.iter().map(|c| c.row_count() as u64).sum::<u64>();
        let waited = Instant::now();
        buffer
            .send(Push(chunks))
            .await
            .map_err(|e| ActorFailure::Lost(format!("buffer: {e}")))?
            .map_err(|e| ActorFailure::Failed(Box::new(e)))?;
        stats.blocked += waited.elapsed();
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
        let work = produce::<G>(plan, self.workers.clone(), self.buffer.clone(), self.window);
        let done = self.done.clone();
        ctx.spawn(work.into_actor(self).map(move |result, _, ctx| {
            done.do_send(SourceDone(result));
            ctx.stop();
        }));
    }
}
