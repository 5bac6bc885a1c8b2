//! The Supervisor: builds the pipeline, waits for it and reports one result.
//!
//! Every actor is built from a factory or a value the Supervisor owns, and
//! each reports its end to the Supervisor as a message (`SourceDone`,
//! `TargetDone`) rather than through a return value. That is the seam a
//! restart policy plugs into: today any failure ends the run with that
//! failure; a policy would instead rebuild the failed actor and rewire it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, Arbiter, AsyncContext, Context, Handler, Message,
    SyncArbiter, WrapFuture,
};
use futures::channel::oneshot;

use crate::buffer::{BoundedBuffer, BufferStatus};
use crate::message::GetStatus;
use crate::source::{Generator, Source, SourceStats, Worker};
use crate::target::{Sink, Target, TargetStats};
use crate::BoxError;

/// How the pipeline is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Capacity of the buffer, in rows.
    pub buffer_rows: usize,
    /// Rows per Target batch. Clamped to `buffer_rows`, since a batch larger
    /// than the buffer could never fill.
    pub batch_rows: usize,
    /// Generator threads (at least one).
    pub workers: usize,
    /// Units generated ahead of the one being pushed (at least one).
    pub window: usize,
}

impl PipelineConfig {
    /// A configuration with `window` set to twice the workers.
    pub fn new(buffer_rows: usize, batch_rows: usize, workers: usize) -> Self {
        let workers = workers.max(1);
        PipelineConfig {
            buffer_rows: buffer_rows.max(1),
            batch_rows: batch_rows.max(1),
            workers,
            window: 2 * workers,
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineStats {
    /// What the Source did, including time blocked on a full buffer.
    pub source: SourceStats,
    /// What the Target did, including time starved by an empty buffer.
    pub target: TargetStats,
    /// The buffer at the end (its state is `Closed` after a clean run).
    pub buffer: BufferStatus,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The generator reported an error.
    #[error("generating rows failed: {0}")]
    Source(#[source] BoxError),
    /// The sink reported an error.
    #[error("writing rows failed: {0}")]
    Target(#[source] BoxError),
    /// An actor or thread went away unexpectedly (a panic, most likely).
    #[error("the {actor} stopped unexpectedly: {detail}")]
    Lost {
        /// Which part of the pipeline.
        actor: &'static str,
        /// What was observed.
        detail: String,
    },
}

/// How an actor's work ended badly.
#[derive(Debug)]
pub(crate) enum ActorFailure {
    /// The work itself returned an error.
    Failed(BoxError),
    /// A peer or thread disappeared.
    Lost(String),
}

impl ActorFailure {
    fn into_error(self, actor: &'static str, wrap: fn(BoxError) -> PipelineError) -> PipelineError {
        match self {
            ActorFailure::Failed(e) => wrap(e),
            ActorFailure::Lost(detail) => PipelineError::Lost { actor, detail },
        }
    }
}

/// Source → Supervisor: the Source has pushed everything (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct SourceDone(pub Result<SourceStats, ActorFailure>);

/// Target → Supervisor: the sink has finished (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct TargetDone(pub Result<TargetStats, ActorFailure>);

type Factory<G> = Arc<dyn Fn() -> G + Send + Sync>;
type Plan<U> = Box<dyn Iterator<Item = U> + Send>;

/// The Supervisor actor. Use [`run_pipeline`] rather than starting it by hand.
pub struct Supervisor<G: Generator, S: Sink<Chunk = G::Chunk>> {
    config: PipelineConfig,
    make_generator: Factory<G>,
    parts: Option<(Plan<G::Unit>, S)>,
    reply: Option<oneshot::Sender<Result<PipelineStats, PipelineError>>>,
    arbiters: Vec<Arbiter>,
    buffer: Option<Addr<BoundedBuffer<G::Chunk>>>,
    source: Option<SourceStats>,
    target: Option<TargetStats>,
    started: Instant,
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Supervisor<G, S> {
    fn fail(&mut self, error: PipelineError, ctx: &mut Context<Self>) {
        tracing::debug!(%error, "pipeline failed");
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Err(error));
        }
        ctx.stop();
    }

    fn finish_if_done(&mut self, ctx: &mut Context<Self>) {
        let (Some(source), Some(target), Some(buffer)) =
            (self.source, self.target, self.buffer.clone())
        else {
            return;
        };
        let elapsed = self.started.elapsed();
        ctx.wait(
            buffer
                .send(GetStatus)
                .into_actor(self)
                .map(move |status, act, ctx| {
                    let result = status
                        .map(|buffer| PipelineStats {
                            source,
                            target,
                            buffer,
                            elapsed,
                        })
                        .map_err(|e| PipelineError::Lost {
                            actor: "buffer",
                            detail: e.to_string(),
                        });
                    if let Some(reply) = act.reply.take() {
                        let _ = reply.send(result);
                    }
                    ctx.stop();
                }),
        );
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Actor for Supervisor<G, S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some((plan, sink)) = self.parts.take() else {
            return;
        };
        let config = self.config;
        let me = ctx.address();

        let buffer_arbiter = Arbiter::new();
        let capacity = config.buffer_rows;
        let buffer = BoundedBuffer::start_in_arbiter(&buffer_arbiter.handle(), move |_| {
            BoundedBuffer::new(capacity)
        });

        let make = self.make_generator.clone();
        let workers = SyncArbiter::start(config.workers, move || Worker::new(make()));

        let source_arbiter = Arbiter::new();
        let (source_buffer, source_done) = (buffer.clone(), me.clone().recipient());
        Source::start_in_arbiter(&source_arbiter.handle(), move |_| {
            Source::new(plan, workers, source_buffer, config.window, source_done)
        });

        let target_arbiter = Arbiter::new();
        let (target_buffer, target_done) = (buffer.clone(), me.recipient());
        let batch_rows = config.batch_rows.min(config.buffer_rows);
        Target::start_in_arbiter(&target_arbiter.handle(), move |_| {
            Target::new(sink, target_buffer, batch_rows, target_done)
        });

        self.buffer = Some(buffer);
        self.arbiters = vec![source_arbiter, target_arbiter, buffer_arbiter];
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for arbiter in self.arbiters.drain(..) {
            arbiter.stop();
        }
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Err(PipelineError::Lost {
                actor: "supervisor",
                detail: "stopped before the run completed".into(),
            }));
        }
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Handler<SourceDone> for Supervisor<G, S> {
    type Result = ();

    fn handle(&mut self, msg: SourceDone, ctx: &mut Self::Context) {
        match msg.0 {
            Ok(stats) => {
                tracing::debug!(rows = stats.rows, units = stats.units, "source finished");
                self.source = Some(stats);
                self.finish_if_done(ctx);
            }
            Err(failure) => self.fail(failure.into_error("source", PipelineError::Source), ctx),
        }
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Handler<TargetDone> for Supervisor<G, S> {
    type Result = ();

    fn handle(&mut self, msg: TargetDone, ctx: &mut Self::Context) {
        match msg.0 {
            Ok(stats) => {
                tracing::debug!(
                    rows = stats.rows,
                    batches = stats.batches,
                    "target finished"
                );
                self.target = Some(stats);
                self.finish_if_done(ctx);
            }
            Err(failure) => self.fail(failure.into_error("target", PipelineError::Target), ctx),
        }
    }
}

/// Runs one pipeline to completion: `plan` lists the work units in output
/// order, `make_generator` builds one generator per worker thread, and `sink`
/// receives the batches. Must be called from inside an actix `System`.
pub async fn run_pipeline<G, S>(
    config: PipelineConfig,
    make_generator: impl Fn() -> G + Send + Sync + 'static,
    plan: impl Iterator<Item = G::Unit> + Send + 'static,
    sink: S,
) -> Result<PipelineStats, PipelineError>
where
    G: Generator,
    S: Sink<Chunk = G::Chunk>,
{
    let (reply, result) = oneshot::channel();
    Supervisor::<G, S> {
        config,
        make_generator: Arc::new(make_generator),
        parts: Some((Box::new(plan), sink)),
        reply: Some(reply),
        arbiters: Vec::new(),
        buffer: None,
        source: None,
        target: None,
        started: Instant::now(),
    }
    .start();
    result.await.unwrap_or_else(|_| {
        Err(PipelineError::Lost {
            actor: "supervisor",
            detail: "went away without a result".into(),
        })
    })
}
