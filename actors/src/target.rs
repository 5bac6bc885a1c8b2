//! The Target: pulls batches from the buffer and hands them to a [`Sink`]
//! running on a blocking thread, so that database and file I/O never stall
//! an event loop.

use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Message, Recipient,
    WrapFuture,
};

use crate::buffer::BoundedBuffer;
use crate::message::ActorFailure;
use crate::message::{Pull, Pulled, Rows};
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

    /// Stores one batch.
    fn write(&mut self, batch: Vec<Self::Chunk>) -> Result<(), BoxError>;

    /// Completes the output after the last batch.
    fn finish(&mut self) -> Result<(), BoxError>;
}

/// Target → Supervisor: the sink has finished (or failed).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct TargetDone(pub Result<TargetStats, ActorFailure>);

/// What the Target did, for the run's stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetStats {
    /// Batches written (including the remainder).
    pub batches: u64,
    /// Rows written.
    pub rows: u64,
    /// Time spent with nothing to write, waiting for the buffer to fill.
    pub starved: Duration,
    /// Time the sink spent writing.
    pub writing: Duration,
}

/// The Target actor. While the sink writes one batch it already asks the
/// buffer for the next, so generation, buffering and I/O overlap.
pub struct Target<S: Sink> {
    sink: Option<S>,
    buffer: Addr<BoundedBuffer<S::Chunk>>,
    batch_rows: usize,
    done: Recipient<TargetDone>,
}

impl<S: Sink> Target<S> {
    pub(crate) fn new(
        sink: S,
        buffer: Addr<BoundedBuffer<S::Chunk>>,
        batch_rows: usize,
        done: Recipient<TargetDone>,
    ) -> Self {
        Target {
            sink: Some(sink),
            buffer,
            batch_rows,
            done,
        }
    }
}

async fn run_blocking<S: Sink, R: Send + 'static>(
    mut sink: S,
    f: impl FnOnce(&mut S) -> Result<R, BoxError> + Send + 'static,
) -> Result<(S, R), ActorFailure> {
    let joined = actix_rt::task::spawn_blocking(move || {
        let result = f(&mut sink);
        result.map(|r| (sink, r))
    })
    .await;
    match joined {
        Ok(result) => result.map_err(ActorFailure::Failed),
        Err(e) => Err(ActorFailure::Lost(format!("sink thread: {e}"))),
    }
}

async fn consume<S: Sink>(
    sink: S,
    buffer: Addr<BoundedBuffer<S::Chunk>>,
    batch_rows: usize,
) -> Result<TargetStats, ActorFailure> {
    let mut stats = TargetStats::default();
    let pull = |buffer: &Addr<BoundedBuffer<S::Chunk>>| {
        let request = buffer.send(Pull::<S::Chunk>::new(batch_rows));
        async move {
            let pulled = request
                .await
                .map_err(|e| ActorFailure::Lost(format!("buffer: {e}")))?
                .map_err(|e| ActorFailure::Failed(Box::new(e)))?;
            Ok::<_, ActorFailure>((pulled, Instant::now()))
        }
    };
    let started = Instant::now();
    let (mut pulled, arrived) = pull(&buffer).await?;
    stats.starved += arrived - started;
    let mut sink = sink;
    loop {
        let batch = match pulled {
            Pulled::Full(batch) | Pulled::Remainder(batch) => batch,
            Pulled::End => break,
        };
        stats.batches += 1;
        stats.rows += batch.iter().map(|c| c.row_count() as u64).sum::<u64>();
        let write = async {
            let begun = Instant::now();
            let (sink, ()) = run_blocking(sink, move |s| s.write(batch)).await?;
            Ok::<_, ActorFailure>((sink, begun, Instant::now()))
        };
        let (written, next) = futures::join!(write, pull(&buffer));
        let (returned, begun, finished) = written?;
        let (next, arrived) = next?;
        sink = returned;
        stats.writing += finished - begun;
        stats.starved += arrived.saturating_duration_since(finished);
        pulled = next;
    }
    let begun = Instant::now();
    run_blocking(sink, |s| s.finish()).await?;
    stats.writing += begun.elapsed();
    Ok(stats)
}

impl<S: Sink> Actor for Target<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(sink) = self.sink.take() else {
            return;
        };
        let work = consume(sink, self.buffer.clone(), self.batch_rows);
        let done = self.done.clone();
        ctx.spawn(work.into_actor(self).map(move |result, _, ctx| {
            done.do_send(TargetDone(result));
            ctx.stop();
        }));
    }
}
