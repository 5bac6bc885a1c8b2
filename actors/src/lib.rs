//! The datagen pipeline: a small actor system that moves chunks of rows from a
//! generator to a sink with bounded memory and explicit backpressure.
//!
//! ```text
//!                       spawns + supervises
//!            ┌──────────────────┬────────────────────┬──────────────────┐
//!            ▼                  ▼                    ▼                  │
//!   workers (SyncArbiter)    Source ──Push──▶ BoundedBuffer ◀──Pull── Target ──▶ Sink
//!   generate(unit) ─chunks─▶ (own arbiter)    (own arbiter)   (own arbiter)   (blocking
//!                            reorders by      acks deferred   replies deferred  thread)
//!                            unit sequence    while full      while < max rows
//!                                                                        Supervisor
//! ```
//!
//! The crate knows nothing about Genfiles, serde or databases: it is generic
//! over what a chunk carries ([`Rows`]), how chunks are made ([`Generator`]) and
//! where batches go ([`Sink`]).
//!
//! # The contract
//!
//! * **Backpressure.** The Source sends [`Push`] with `send().await`; the
//!   buffer defers the reply (the ack) while the rows do not fit, so the Source
//!   waits while the buffer is full. Nothing on the data path uses `do_send`.
//! * **Bounded.** The buffer never holds more than its capacity, counted in
//!   rows. A chunk larger than the free space is admitted piecewise as space
//!   frees up; its ack comes once the last piece is in.
//! * **Batches.** The Target sends [`Pull`] with a batch size; the reply is
//!   deferred while fewer rows are buffered and the Source is still running. A
//!   batch is always exactly `max` rows, except the one remainder served after
//!   [`SourceFinished`], which is followed by [`Pulled::End`].
//! * **Order.** Work units are generated in parallel but pushed in the order
//!   the planner produced them; rows leave the buffer in the order they came in.
//!   Nothing is lost or duplicated.
//! * **States.** The buffer goes Normal → SourceFinished → Closed
//!   ([`BufferState`]); [`GetStatus`] makes that observable.
//!
//! # Layout
//!
//! * [`buffer`]: [`BufferCore`], the buffer as a plain state machine (the part
//!   that is model-tested), and the [`BoundedBuffer`] actor around it.
//! * [`message`]: the messages and the [`Rows`] trait that chunks implement.
//! * [`source`]: the [`Generator`] trait, the worker pool and the Source actor.
//! * [`target`]: the [`Sink`] trait and the Target actor, which runs the sink
//!   on a blocking thread.
//! * [`supervisor`]: builds every part from factories, receives each
//!   part's end or failure as a message and restarts what the strategy
//!   says, collects [`PipelineStats`]; [`run_supervised`] and
//!   [`run_pipeline`] are the entry points.
//! * [`pace`]: the [`Pace`] a stream's Source keeps to.
//! * [`policy`]: the [`Strategy`] and [`RestartPolicy`] it applies, and
//!   the [`Restarts`] it records.

pub mod buffer;
pub mod message;
pub mod pace;
pub mod policy;
pub mod sample;
pub mod source;
pub mod supervisor;
pub mod target;

pub use buffer::{BoundedBuffer, BufferCore, BufferEvent};
pub use message::{
    BufferError, BufferState, BufferStatus, GetStatus, Origin, Pull, Pulled, Push, Rows,
    SourceFinished,
};
pub use pace::Pace;
pub use policy::{Action, Event, RestartPolicy, Restarts, Strategy, Supervised};
pub use sample::{Sampled, SAMPLE_EVERY};
pub use source::{Generator, Source, SourceStats, WorkerPanicked};
pub use supervisor::{
    run_pipeline, run_supervised, PipelineConfig, PipelineError, PipelineStats, Rebuild, Supervisor,
};
pub use target::{Sink, Target, TargetStats};

/// The error type that generators and sinks report through the pipeline.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `error` and its causes on one line, `: ` between them. Every error in
/// datagen says only what it adds to its cause (its `source`), so the
/// chain reads as one sentence without repetition.
pub fn chain(error: &(dyn std::error::Error + '_)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}
