//! The Supervisor: builds one attempt of the pipeline — buffer, generator
//! workers, Source, Target — waits for it and reports one result; and
//! [`run_supervised`], which runs attempts under a [`RestartPolicy`].
//!
//! Every actor is built from a factory or a value the Supervisor owns, and
//! each reports its end to the Supervisor as a message (`SourceDone`,
//! `TargetDone`) rather than through a return value. When an attempt
//! fails, [`run_supervised`] builds every part again (one-for-all) from
//! the sink's last checkpoint, pausing with a doubling backoff, until the
//! run completes or the policy gives up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, Arbiter, AsyncContext, Context, Handler,
    SyncArbiter, WrapFuture,
};
use futures::channel::oneshot;

use crate::buffer::BoundedBuffer;
use crate::message::ActorFailure;
use crate::message::{BufferStatus, GetStatus};
use crate::source::{Generator, Source, SourceDone, SourceStats, Worker};
use crate::target::{Sink, Target, TargetDone, TargetStats};
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
    /// Delay of every `Push` ack (fault injection; zero normally).
    pub ack_delay: Duration,
}

impl PipelineConfig {
    /// A configuration with `window` set to eight times the workers. Units
    /// are pushed in plan order, so a worker that finishes early can only
    /// go on while the window has room; units vary in cost, and a deep
    /// window keeps every worker busy behind a slow one (shop → CSV with 2
    /// workers: 0.67–0.73 s with twice the workers, 0.67–0.68 s with eight
    /// times).
    pub fn new(buffer_rows: usize, batch_rows: usize, workers: usize) -> Self {
        let workers = workers.max(1);
        PipelineConfig {
            buffer_rows: buffer_rows.max(1),
            batch_rows: batch_rows.max(1),
            workers,
            window: 8 * workers,
            ack_delay: Duration::ZERO,
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
    #[error("generating rows failed")]
    Source(#[source] BoxError),
    /// The sink reported an error.
    #[error("writing rows failed")]
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
    /// Its own address, held while it asks the buffer for its final
    /// status: the Source and Target have dropped theirs by then, and an
    /// actor nobody addresses may be stopped by actix before that last
    /// future has run (seen once in a few hundred runs).
    me: Option<Addr<Self>>,
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Supervisor<G, S> {
    fn fail(&mut self, error: PipelineError, ctx: &mut Context<Self>) {
        tracing::debug!(error = %crate::chain(&error), "pipeline failed");
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
        self.me = Some(ctx.address());
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
            BoundedBuffer::new(capacity).with_ack_delay(config.ack_delay)
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
        self.me = None;
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
            Err(failure) => self.fail(into_error(failure, "source", PipelineError::Source), ctx),
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
            Err(failure) => self.fail(into_error(failure, "target", PipelineError::Target), ctx),
        }
    }
}

/// The error of an actor's failure: `wrap` of its own error, or the
/// `actor` lost.
fn into_error(
    failure: ActorFailure,
    actor: &'static str,
    wrap: fn(BoxError) -> PipelineError,
) -> PipelineError {
    match failure {
        ActorFailure::Failed(e) => wrap(e),
        ActorFailure::Lost(detail) => PipelineError::Lost { actor, detail },
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
    let (gone, sink_gone) = oneshot::channel::<()>();
    let sink = Watched { sink, _gone: gone };
    Supervisor::<G, Watched<S>> {
        config,
        make_generator: Arc::new(make_generator),
        parts: Some((Box::new(plan), sink)),
        reply: Some(reply),
        arbiters: Vec::new(),
        buffer: None,
        source: None,
        target: None,
        started: Instant::now(),
        me: None,
    }
    .start();
    let result = result.await.unwrap_or_else(|_| {
        Err(PipelineError::Lost {
            actor: "supervisor",
            detail: "went away without a result".into(),
        })
    });
    // When another part failed, the sink may still be writing (and then
    // committing) a batch on its blocking thread. Return only once it is
    // dropped, so a restart never opens the target while the last attempt
    // still writes to it: the new attempt's checkpoint is then final.
    let _ = sink_gone.await;
    result
}

/// A sink that says when it is dropped (its sender closes `_gone`).
struct Watched<S> {
    sink: S,
    _gone: oneshot::Sender<()>,
}

impl<S: Sink> Sink for Watched<S> {
    type Chunk = S::Chunk;

    fn write(&mut self, batch: Vec<Self::Chunk>) -> Result<(), BoxError> {
        self.sink.write(batch)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.sink.finish()
    }
}

/// When the Supervisor restarts a failed pipeline, and when it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed within `window`; 0 never restarts.
    pub max_restarts: u32,
    /// The sliding window restarts are counted in.
    pub window: Duration,
    /// Pause before the first restart; doubled for each restart in the
    /// window, up to `max_backoff`.
    pub backoff: Duration,
    /// Longest pause.
    pub max_backoff: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            max_restarts: 3,
            window: Duration::from_secs(60),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Restarts of a supervised run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restarts {
    /// After the Source (or a generator worker) failed.
    pub source: u32,
    /// After the Target (or its sink) failed.
    pub target: u32,
    /// After the buffer or the Supervisor itself went away.
    pub other: u32,
    /// Time lost: failed attempts and the pauses before restarting.
    pub lost: Duration,
    /// Why each restart happened, in order.
    pub causes: Vec<String>,
}

impl Restarts {
    /// Restarts of every kind.
    pub fn total(&self) -> u32 {
        self.source + self.target + self.other
    }
}

/// A supervised run that ended.
#[derive(Debug)]
pub struct Supervised<T> {
    /// The last attempt's outcome.
    pub result: T,
    /// What was restarted on the way.
    pub restarts: Restarts,
}

/// Runs a pipeline under `policy`: when the Source, a generator worker or
/// the Target fails (an error or a panic) and `retry` says trying again may
/// help, every part is stopped and the pipeline is built again —
/// one-for-all — from `attempt`, which gets the attempt number and returns
/// the work units and a sink. A failure `retry` refuses (a constraint
/// violated, a full disk) ends the run at once. Built again from
/// the sink's last committed checkpoint, the new Source starts at the first
/// row not committed and the new Target writes exactly the rows that were
/// not, so nothing is lost or written twice. When the policy gives up, or
/// `attempt` itself fails (the parts cannot be built again), the last
/// failure is returned with the restarts made.
pub async fn run_supervised<G, S, P, F>(
    config: PipelineConfig,
    policy: RestartPolicy,
    make_generator: impl Fn() -> G + Send + Sync + Clone + 'static,
    mut attempt: F,
    retry: impl Fn(&PipelineError) -> bool,
) -> Supervised<Result<PipelineStats, PipelineError>>
where
    G: Generator,
    S: Sink<Chunk = G::Chunk>,
    P: Iterator<Item = G::Unit> + Send + 'static,
    F: FnMut(u32) -> Result<(P, S), BoxError>,
{
    let mut restarts = Restarts::default();
    let mut recent: Vec<Instant> = Vec::new();
    for n in 0.. {
        let started = Instant::now();
        let outcome = match attempt(n) {
            Ok((plan, sink)) => run_pipeline(config, make_generator.clone(), plan, sink).await,
            // The pipeline cannot be built again: nothing to restart.
            Err(e) => {
                restarts.lost += started.elapsed();
                return Supervised {
                    result: Err(PipelineError::Target(e)),
                    restarts,
                };
            }
        };
        let error = match outcome {
            Ok(stats) => {
                return Supervised {
                    result: Ok(stats),
                    restarts,
                }
            }
            Err(e) => e,
        };
        recent.retain(|t| t.elapsed() < policy.window);
        if recent.len() as u32 >= policy.max_restarts || !retry(&error) {
            restarts.lost += started.elapsed();
            return Supervised {
                result: Err(error),
                restarts,
            };
        }
        let pause = policy
            .backoff
            .saturating_mul(1 << recent.len().min(16))
            .min(policy.max_backoff);
        tracing::warn!(
            error = %crate::chain(&error),
            ?pause,
            "pipeline failed; restarting from the last checkpoint"
        );
        match &error {
            PipelineError::Source(_)
            | PipelineError::Lost {
                actor: "source", ..
            } => restarts.source += 1,
            PipelineError::Target(_)
            | PipelineError::Lost {
                actor: "target", ..
            } => restarts.target += 1,
            PipelineError::Lost { .. } => restarts.other += 1,
        }
        restarts.causes.push(crate::chain(&error));
        recent.push(Instant::now());
        actix_rt::time::sleep(pause).await;
        restarts.lost += started.elapsed();
    }
    unreachable!("the loop returns")
}
