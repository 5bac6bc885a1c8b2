//! The Supervisor: builds the pipeline — buffer, generator workers,
//! Source, Target — from factories, receives every part's end or failure
//! as a message, and applies the restart policy itself.
//!
//! A failure arrives typed: where it came from ([`Origin`]), the error or
//! the panic's message. Whether trying again may help is the caller's
//! judgement (`retry`); how often and how soon is the [`RestartPolicy`];
//! what is restarted is its [`Strategy`]:
//!
//! * `one_for_one` — a unit whose worker failed is generated again (the
//!   worker replaced its generator; determinism makes the unit exact), and
//!   a failed Target is replaced alone: the new sink starts from its own
//!   checkpoint and is first given the batches the old Target kept (those
//!   not durable), while the Source and the buffer keep their state and
//!   wait.
//! * `one_for_all` — every part is stopped and built again from the
//!   sink's checkpoint.
//! * `rest_for_one` — the failed part and every part after it in the
//!   pipeline (workers → Source → buffer → Target): a Target alone, all of
//!   it for a worker or the Source.
//!
//! Before a part is built again the Supervisor waits for the one it
//! replaces to be gone — its sink dropped, its threads ended — so two
//! attempts never write at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, Arbiter, AsyncContext, Context, Handler,
    MessageResult, SyncArbiter, WrapFuture,
};
use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};

use crate::buffer::BoundedBuffer;
use crate::message::{ActorFailure, BufferStatus, GetStatus, Origin, SourceFinished};
use crate::policy::{Action, Event, RestartPolicy, Restarts, Strategy, Supervised};
use crate::sample::{Sampled, Samples, SAMPLE_EVERY};
use crate::source::{
    Decision, Generator, Source, SourceDone, SourceStats, UnitFailed, Worker, WorkerPanicked,
};
use crate::target::{Sink, Target, TargetDone, TargetFailure, TargetStats};
use crate::BoxError;

/// How the pipeline is sized.
#[derive(Debug, Clone)]
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
    /// How long the Target waits for a whole batch before it takes the
    /// rows there are (a paced stream); `None`: whole batches.
    pub linger: Option<Duration>,
    /// Paces the Source: when each row may leave (a stream's rate).
    pub pace: Option<std::sync::Arc<dyn crate::pace::Pace>>,
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
            linger: None,
            pace: None,
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineStats {
    /// What the Sources did, including time blocked on a full buffer.
    pub source: SourceStats,
    /// What the Targets did, including time starved by an empty buffer.
    pub target: TargetStats,
    /// The buffer at the end (its state is `Closed` after a clean run).
    pub buffer: BufferStatus,
    /// The buffer sampled while the run went on.
    pub sampled: Sampled,
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
    /// A part panicked; the panic was caught.
    #[error("the {origin} panicked: {message}")]
    Panicked {
        /// Which part.
        origin: Origin,
        /// The panic's message.
        message: String,
    },
    /// An actor or thread went away unexpectedly.
    #[error("the {actor} stopped unexpectedly: {detail}")]
    Lost {
        /// Which part of the pipeline.
        actor: &'static str,
        /// What was observed.
        detail: String,
    },
}

impl PipelineError {
    /// The part the failure came from.
    pub fn origin(&self) -> Origin {
        match self {
            PipelineError::Source(_) => Origin::Source,
            PipelineError::Target(_) => Origin::Target,
            PipelineError::Panicked { origin, .. } => *origin,
            PipelineError::Lost {
                actor: "target", ..
            } => Origin::Target,
            PipelineError::Lost {
                actor: "source", ..
            } => Origin::Source,
            PipelineError::Lost { .. } => Origin::Buffer,
        }
    }
}

/// What the Supervisor asks its factory to build again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// The first attempt, or every part after a failure: the work units
    /// from the sink's checkpoint, and the sink.
    All,
    /// A sink for a Target replaced alone (the units are not used).
    Target,
}

/// Failures in a row with no progress between them after which the
/// Supervisor gives up, whatever its policy still allows.
const STUCK_AFTER: u32 = 8;

type Factory<G> = Arc<dyn Fn() -> G + Send + Sync>;
type Plan<U> = Box<dyn Iterator<Item = U> + Send>;
type Attempts<U, S> = Box<dyn FnMut(u32, Rebuild) -> Result<(Plan<U>, S), BoxError>>;
type Outcome = Supervised<Result<PipelineStats, PipelineError>>;
/// Resolves when a part is gone (its sender dropped); awaited by whoever
/// must not go on before.
type Gone = Shared<oneshot::Receiver<()>>;

/// The parts of the running pipeline.
struct Parts<G: Generator, S: Sink<Chunk = G::Chunk>> {
    buffer: Addr<BoundedBuffer<G::Chunk>>,
    target: Addr<Target<Watched<S>>>,
    /// Source, buffer and Target arbiters (the Target's last).
    arbiters: Vec<Arbiter>,
    /// Resolve as each worker thread ends.
    workers: Vec<Gone>,
    /// Resolves when the current Target's sink is dropped.
    sink: Gone,
}

/// The Supervisor actor. Use [`run_supervised`] or [`run_pipeline`] rather
/// than starting it by hand.
pub struct Supervisor<G: Generator, S: Sink<Chunk = G::Chunk>> {
    config: PipelineConfig,
    policy: RestartPolicy,
    make_generator: Factory<G>,
    attempts: Attempts<G::Unit, S>,
    retry: Box<dyn Fn(&PipelineError) -> bool>,
    reply: Option<oneshot::Sender<Outcome>>,
    /// Calls of `attempts` so far.
    built: u32,
    /// The current Source's attempt; messages of older ones are ignored.
    attempt: u32,
    /// The current Target's number; messages of older ones are ignored.
    target_id: u32,
    parts: Option<Parts<G, S>>,
    /// Every part is being restarted, or the run is ending: part messages
    /// are ignored.
    halted: bool,
    restarts: Restarts,
    recent: Vec<Instant>,
    /// Restarts in a row after which nothing got through.
    streak: u32,
    /// The buffer, sampled.
    samples: Samples,
    /// The current Source's stats once it finished.
    source_done: Option<SourceStats>,
    target_done: bool,
    source: SourceStats,
    target: TargetStats,
    started: Instant,
    /// Its own address, held from the start until it ends the run: an
    /// actor nobody addresses may be stopped by actix, and between the
    /// end of one part and the start of its replacement no part may hold
    /// one.
    me: Option<Addr<Self>>,
}

/// Waits until every part of `parts` is gone.
async fn gone(parts: Vec<Gone>) {
    for part in parts {
        let _ = part.await;
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Supervisor<G, S> {
    /// Builds every part for attempt `self.attempt` from `plan` and `sink`.
    fn build(&mut self, plan: Plan<G::Unit>, sink: S, ctx: &mut Context<Self>) {
        let config = self.config.clone();
        let me = ctx.address();
        let buffer_arbiter = Arbiter::new();
        let capacity = config.buffer_rows;
        let buffer = BoundedBuffer::start_in_arbiter(&buffer_arbiter.handle(), move |_| {
            BoundedBuffer::new(capacity).with_ack_delay(config.ack_delay)
        });

        let mut senders = Vec::with_capacity(config.workers);
        let mut workers = Vec::with_capacity(config.workers);
        for _ in 0..config.workers {
            let (tx, rx) = oneshot::channel();
            senders.push(Some(tx));
            workers.push(rx.shared());
        }
        let senders = Mutex::new(senders);
        let next = AtomicUsize::new(0);
        let make = self.make_generator.clone();
        let pool = SyncArbiter::start(config.workers, move || {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let gone = senders
                .lock()
                .expect("worker senders")
                .get_mut(index)
                .and_then(Option::take)
                .unwrap_or_else(|| oneshot::channel().0);
            Worker::new(make.clone(), index, gone)
        });

        let source_arbiter = Arbiter::new();
        let recipients = (me.clone().recipient(), me.clone().recipient());
        let (source_buffer, attempt) = (buffer.clone(), self.attempt);
        let pacing = (config.window, config.pace.clone());
        Source::start_in_arbiter(&source_arbiter.handle(), move |_| {
            Source::new(attempt, plan, pool, source_buffer, pacing, recipients)
        });

        let (target, target_arbiter, sink_gone) =
            self.start_target(buffer.clone(), sink, Vec::new(), ctx);
        self.parts = Some(Parts {
            buffer,
            target,
            arbiters: vec![source_arbiter, buffer_arbiter, target_arbiter],
            workers,
            sink: sink_gone,
        });
    }

    /// Starts Target `self.target_id` on its own arbiter.
    fn start_target(
        &mut self,
        buffer: Addr<BoundedBuffer<G::Chunk>>,
        sink: S,
        replay: Vec<Vec<G::Chunk>>,
        ctx: &mut Context<Self>,
    ) -> (Addr<Target<Watched<S>>>, Arbiter, Gone) {
        let (tx, rx) = oneshot::channel();
        let sink = Watched { sink, _gone: tx };
        let arbiter = Arbiter::new();
        let c = &self.config;
        let batch = (c.batch_rows.min(c.buffer_rows), c.linger);
        let (done, id) = (ctx.address().recipient(), self.target_id);
        let target = Target::start_in_arbiter(&arbiter.handle(), move |_| {
            Target::new(id, sink, replay, buffer, batch, done)
        });
        (target, arbiter, rx.shared())
    }

    /// Stops every part; returns what to wait for until they are gone.
    fn tear_down(&mut self) -> Vec<Gone> {
        let Some(mut parts) = self.parts.take() else {
            return Vec::new();
        };
        for arbiter in parts.arbiters.drain(..) {
            arbiter.stop();
        }
        let mut waits = std::mem::take(&mut parts.workers);
        waits.push(parts.sink);
        waits
    }

    /// Records a failure and what is done about it.
    fn record(&mut self, error: &PipelineError, action: Action) {
        let origin = error.origin();
        let cause = crate::chain(error);
        let panic = matches!(error, PipelineError::Panicked { .. });
        if action != Action::GaveUp {
            match origin {
                Origin::Source | Origin::Worker(_) => self.restarts.source += 1,
                Origin::Target => self.restarts.target += 1,
                Origin::Buffer => self.restarts.other += 1,
            }
            self.restarts.causes.push(cause.clone());
        }
        if action == Action::GaveUp {
            // The run reports it.
            tracing::debug!(%origin, error = %cause, "pipeline part failed; giving up");
        } else {
            tracing::warn!(%origin, error = %cause, action = action.describe(), "pipeline part failed");
        }
        self.restarts.events.push(Event {
            at: self.started.elapsed(),
            origin,
            cause,
            panic,
            action,
        });
    }

    /// The pause before restarting after `error`, or `None` to give up;
    /// `progressed` when the failed part got something through since the
    /// last failure.
    fn admit(&mut self, error: &PipelineError, progressed: bool) -> Option<Duration> {
        if !(self.retry)(error) {
            return None;
        }
        // Failures in a row after which nothing got through: however many
        // restarts the window allows, the run is stuck.
        if !progressed && self.streak >= STUCK_AFTER {
            return None;
        }
        self.policy.admit(
            &mut self.recent,
            Instant::now(),
            &mut self.streak,
            progressed,
        )
    }

    /// Ends the run with `error`, once every part is gone.
    fn give_up(&mut self, error: PipelineError, ctx: &mut Context<Self>) {
        self.record(&error, Action::GaveUp);
        self.end(Err(error), ctx);
    }

    /// Replies `result` once every part is gone, and stops.
    fn end(&mut self, result: Result<PipelineStats, PipelineError>, ctx: &mut Context<Self>) {
        self.halted = true;
        let waits = self.tear_down();
        ctx.wait(gone(waits).into_actor(self).map(move |(), act, ctx| {
            if let Some(reply) = act.reply.take() {
                let _ = reply.send(Supervised {
                    result,
                    restarts: std::mem::take(&mut act.restarts),
                });
            }
            ctx.stop();
        }));
    }

    /// Stops every part and, after `pause` and once they are gone, builds
    /// them again from the sink's checkpoint.
    fn restart_all(&mut self, pause: Duration, ctx: &mut Context<Self>) {
        self.halted = true;
        let failed = Instant::now();
        let waits = self.tear_down();
        ctx.spawn(
            async move {
                actix_rt::time::sleep(pause).await;
                gone(waits).await;
            }
            .into_actor(self)
            .map(move |(), act, ctx| {
                act.attempt += 1;
                act.target_id += 1;
                act.source_done = None;
                act.target_done = false;
                match act.next(Rebuild::All) {
                    Ok((plan, sink)) => {
                        act.halted = false;
                        act.build(plan, sink, ctx);
                        act.restarts.lost += failed.elapsed();
                    }
                    Err(e) => {
                        act.restarts.lost += failed.elapsed();
                        act.end(Err(PipelineError::Target(e)), ctx);
                    }
                }
            }),
        );
    }

    /// Replaces the Target alone after `pause`, once the old sink is gone:
    /// the new one is given `retained` first.
    fn restart_target(
        &mut self,
        pause: Duration,
        retained: Vec<Vec<G::Chunk>>,
        ctx: &mut Context<Self>,
    ) {
        let failed = Instant::now();
        let Some(parts) = self.parts.as_mut() else {
            return;
        };
        if let Some(arbiter) = parts.arbiters.pop() {
            arbiter.stop();
        }
        // Kept in the parts until replaced: a restart of everything in
        // the meantime waits for it too, and this replacement is then
        // dropped (the rebuilt pipeline has its own Target).
        let old = parts.sink.clone();
        let attempt = self.attempt;
        ctx.spawn(
            async move {
                actix_rt::time::sleep(pause).await;
                let _ = old.await;
            }
            .into_actor(self)
            .map(move |(), act, ctx| {
                if act.halted || act.attempt != attempt {
                    return;
                }
                act.target_id += 1;
                match act.next(Rebuild::Target) {
                    Ok((_, sink)) => {
                        let Some(buffer) = act.parts.as_ref().map(|p| p.buffer.clone()) else {
                            return;
                        };
                        let (target, arbiter, sink_gone) =
                            act.start_target(buffer, sink, retained, ctx);
                        if act.source_done.is_some() {
                            target.do_send(SourceFinished);
                        }
                        if let Some(parts) = act.parts.as_mut() {
                            parts.target = target;
                            parts.arbiters.push(arbiter);
                            parts.sink = sink_gone;
                        }
                        act.restarts.lost += failed.elapsed();
                    }
                    Err(e) => {
                        act.restarts.lost += failed.elapsed();
                        act.end(Err(PipelineError::Target(e)), ctx);
                    }
                }
            }),
        );
    }

    /// Calls the factory for the next build.
    fn next(&mut self, what: Rebuild) -> Result<(Plan<G::Unit>, S), BoxError> {
        let n = self.built;
        self.built += 1;
        tracing::info!(attempt = n, ?what, "building the pipeline");
        (self.attempts)(n, what)
    }

    fn finish_if_done(&mut self, ctx: &mut Context<Self>) {
        let (Some(source), true, Some(parts)) =
            (self.source_done, self.target_done, self.parts.as_ref())
        else {
            return;
        };
        self.source.add(&source);
        let (target, elapsed) = (self.target, self.started.elapsed());
        let buffer = parts.buffer.clone();
        self.halted = true;
        ctx.wait(
            buffer
                .send(GetStatus)
                .into_actor(self)
                .map(move |status, act, ctx| {
                    let sampled = act.samples.summary();
                    let result = status
                        .map(|buffer| PipelineStats {
                            source: act.source,
                            target,
                            buffer,
                            sampled,
                            elapsed,
                        })
                        .map_err(|e| PipelineError::Lost {
                            actor: "buffer",
                            detail: e.to_string(),
                        });
                    act.end(result, ctx);
                }),
        );
    }

    /// A part other than a unit failed: restart what the strategy says.
    fn failed(
        &mut self,
        error: PipelineError,
        retained: Vec<Vec<G::Chunk>>,
        progressed: bool,
        ctx: &mut Context<Self>,
    ) {
        let Some(pause) = self.admit(&error, progressed) else {
            return self.give_up(error, ctx);
        };
        let alone = error.origin() == Origin::Target && self.policy.strategy != Strategy::OneForAll;
        if alone {
            self.record(&error, Action::RestartedTarget);
            self.restart_target(pause, retained, ctx);
        } else {
            self.record(&error, Action::RestartedAll);
            self.restart_all(pause, ctx);
        }
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Actor for Supervisor<G, S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Its own address, held until it ends the run: while a part is
        // replaced, no other part may hold one, and actix stops an actor
        // nobody addresses (with its restart still pending).
        self.me = Some(ctx.address());
        ctx.run_interval(SAMPLE_EVERY, |act, ctx| {
            let Some(buffer) = act.parts.as_ref().map(|p| p.buffer.clone()) else {
                return;
            };
            if act.halted {
                return;
            }
            let sent = Instant::now();
            ctx.spawn(
                buffer
                    .send(GetStatus)
                    .into_actor(act)
                    .map(move |status, act, _| {
                        if let Ok(status) = status {
                            act.samples.add(status.rows as u64, sent.elapsed());
                        }
                    }),
            );
        });
        match self.next(Rebuild::All) {
            Ok((plan, sink)) => self.build(plan, sink, ctx),
            Err(e) => self.end(Err(PipelineError::Target(e)), ctx),
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.me = None;
        self.tear_down();
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Supervised {
                result: Err(PipelineError::Lost {
                    actor: "supervisor",
                    detail: "stopped before the run completed".into(),
                }),
                restarts: std::mem::take(&mut self.restarts),
            });
        }
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Handler<SourceDone> for Supervisor<G, S> {
    type Result = ();

    fn handle(&mut self, msg: SourceDone, ctx: &mut Self::Context) {
        if self.halted || msg.attempt != self.attempt {
            return;
        }
        match msg.result {
            Ok(stats) => {
                tracing::debug!(rows = stats.rows, units = stats.units, "source finished");
                self.source_done = Some(stats);
                // The Target learns it from the Supervisor; its buffer
                // serves the partial batch that flushes the rest.
                if let Some(parts) = &self.parts {
                    parts.target.do_send(SourceFinished);
                }
                self.finish_if_done(ctx);
            }
            Err(failure) => {
                let error = into_error(failure, Origin::Source, PipelineError::Source);
                self.failed(error, Vec::new(), false, ctx);
            }
        }
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Handler<UnitFailed> for Supervisor<G, S> {
    type Result = MessageResult<UnitFailed>;

    fn handle(&mut self, msg: UnitFailed, ctx: &mut Self::Context) -> Self::Result {
        if self.halted || msg.attempt != self.attempt {
            return MessageResult(Decision::Stop);
        }
        let error = match msg.error.downcast::<WorkerPanicked>() {
            Ok(p) => PipelineError::Panicked {
                origin: msg.origin,
                message: p.message,
            },
            Err(e) => PipelineError::Source(e),
        };
        let Some(pause) = self.admit(&error, msg.progressed) else {
            self.give_up(error, ctx);
            return MessageResult(Decision::Stop);
        };
        if self.policy.strategy == Strategy::OneForOne {
            self.record(&error, Action::RetriedUnit);
            self.restarts.lost += pause;
            MessageResult(Decision::Retry(pause))
        } else {
            self.record(&error, Action::RestartedAll);
            self.restart_all(pause, ctx);
            MessageResult(Decision::Stop)
        }
    }
}

impl<G: Generator, S: Sink<Chunk = G::Chunk>> Handler<TargetDone<G::Chunk>> for Supervisor<G, S> {
    type Result = ();

    fn handle(&mut self, msg: TargetDone<G::Chunk>, ctx: &mut Self::Context) {
        if self.halted || msg.id != self.target_id {
            return;
        }
        match msg.result {
            Ok(stats) => {
                tracing::debug!(
                    rows = stats.rows,
                    batches = stats.batches,
                    "target finished"
                );
                self.target.add(&stats);
                self.target_done = true;
                self.finish_if_done(ctx);
            }
            Err(TargetFailure {
                failure,
                retained,
                stats,
            }) => {
                self.target.add(&stats);
                let error = into_error(failure, Origin::Target, PipelineError::Target);
                // Progress: a batch written before the one that failed.
                let progressed = stats.batches >= 2;
                self.failed(error, retained, progressed, ctx);
            }
        }
    }
}

/// The error of a part's failure: `wrap` of its own error, its panic, or
/// the part lost.
fn into_error(
    failure: ActorFailure,
    origin: Origin,
    wrap: fn(BoxError) -> PipelineError,
) -> PipelineError {
    match failure {
        ActorFailure::Failed(e) => wrap(e),
        ActorFailure::Panicked(message) => PipelineError::Panicked { origin, message },
        ActorFailure::Lost(detail) => PipelineError::Lost {
            actor: match origin {
                Origin::Target => "target",
                _ => "source",
            },
            detail,
        },
    }
}

/// Runs a pipeline under `policy`. `attempt` builds what a run needs —
/// the work units in output order, and a sink — for the first attempt and
/// again after failures: given the number of the call and what is rebuilt
/// ([`Rebuild`]), it returns the units from the sink's last committed
/// checkpoint and the sink, so nothing is lost or written twice.
/// `make_generator` builds one generator per worker thread (and a fresh
/// one after a panic). A failure `retry` refuses (a constraint violated, a
/// full disk) ends the run at once; so does one beyond the policy. The
/// result comes once every part of the last attempt is gone. Must be
/// called from inside an actix `System`.
pub async fn run_supervised<G, S, P>(
    config: PipelineConfig,
    policy: RestartPolicy,
    make_generator: impl Fn() -> G + Send + Sync + 'static,
    mut attempt: impl FnMut(u32, Rebuild) -> Result<(P, S), BoxError> + 'static,
    retry: impl Fn(&PipelineError) -> bool + 'static,
) -> Supervised<Result<PipelineStats, PipelineError>>
where
    G: Generator,
    S: Sink<Chunk = G::Chunk>,
    P: Iterator<Item = G::Unit> + Send + 'static,
{
    let (reply, result) = oneshot::channel();
    Supervisor::<G, S> {
        config,
        policy,
        make_generator: Arc::new(make_generator),
        attempts: Box::new(move |n, what| {
            attempt(n, what).map(|(plan, sink)| (Box::new(plan) as Plan<G::Unit>, sink))
        }),
        retry: Box::new(retry),
        reply: Some(reply),
        built: 0,
        attempt: 0,
        target_id: 0,
        parts: None,
        halted: false,
        restarts: Restarts::default(),
        recent: Vec::new(),
        streak: 0,
        samples: Samples::default(),
        source_done: None,
        target_done: false,
        source: SourceStats::default(),
        target: TargetStats::default(),
        started: Instant::now(),
        me: None,
    }
    .start();
    result.await.unwrap_or_else(|_| Supervised {
        result: Err(PipelineError::Lost {
            actor: "supervisor",
            detail: "went away without a result".into(),
        }),
        restarts: Restarts::default(),
    })
}

/// Runs one pipeline to completion, without restarts: `plan` lists the
/// work units in output order, `make_generator` builds one generator per
/// worker thread, and `sink` receives the batches. Returns once the sink
/// is dropped. Must be called from inside an actix `System`.
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
    let mut parts = Some((plan, sink));
    let policy = RestartPolicy {
        max_restarts: 0,
        ..RestartPolicy::default()
    };
    run_supervised(
        config,
        policy,
        make_generator,
        move |_, _| parts.take().ok_or_else(|| "the pipeline runs once".into()),
        |_| false,
    )
    .await
    .result
}

/// A sink that says when it is dropped (its sender closes `_gone`).
struct Watched<S> {
    sink: S,
    _gone: oneshot::Sender<()>,
}

impl<S: Sink> Sink for Watched<S> {
    type Chunk = S::Chunk;

    fn write(&mut self, batch: &mut Vec<Self::Chunk>) -> Result<(), BoxError> {
        self.sink.write(batch)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.sink.finish()
    }

    fn durable(&self) -> Option<u64> {
        self.sink.durable()
    }
}
