//! The bounded, blocking buffer between the Source and the Target.
//!
//! [`BufferCore`] is the whole behaviour as a synchronous state machine: it is
//! given pushes, pulls and the end of the source, and answers with
//! [`BufferEvent`]s saying which waiting request may now be answered. It holds
//! no clocks, threads or channels, which is what lets a property test check it
//! step by step against a `VecDeque` model. [`BoundedBuffer`] is the actor
//! around it: the tokens it keeps are the reply channels of deferred messages.

use std::collections::VecDeque;

use actix::{Actor, Context, Handler, ResponseFuture};
use futures::channel::oneshot;

use crate::message::{
    BufferError, BufferState, BufferStatus, GetStatus, Pull, Pulled, Push, Rows, SourceFinished,
};

/// What the core tells its owner to do: answer the request behind `token`.
#[derive(Debug, PartialEq, Eq)]
pub enum BufferEvent<T, C> {
    /// A push is wholly admitted (or rejected).
    Acked(T, Result<(), BufferError>),
    /// A pull is answered.
    Pulled(T, Result<Pulled<C>, BufferError>),
}

/// The buffer's behaviour, free of any runtime. `T` identifies a waiting
/// request (a reply channel in the actor, a number in tests).
pub struct BufferCore<C, T> {
    capacity: usize,
    rows: usize,
    queue: VecDeque<C>,
    state: BufferState,
    pushes: VecDeque<(VecDeque<C>, T)>,
    pulls: VecDeque<(usize, T)>,
    peak_rows: usize,
    rows_in: u64,
    rows_out: u64,
    pushes_deferred: u64,
    pulls_deferred: u64,
}

impl<C: Rows, T> BufferCore<C, T> {
    /// An empty buffer holding at most `capacity` rows (at least one).
    pub fn new(capacity: usize) -> Self {
        BufferCore {
            capacity: capacity.max(1),
            rows: 0,
            queue: VecDeque::new(),
            state: BufferState::Normal,
            pushes: VecDeque::new(),
            pulls: VecDeque::new(),
            peak_rows: 0,
            rows_in: 0,
            rows_out: 0,
            pushes_deferred: 0,
            pulls_deferred: 0,
        }
    }

    /// The current snapshot.
    pub fn status(&self) -> BufferStatus {
        BufferStatus {
            state: self.state,
            rows: self.rows,
            capacity: self.capacity,
            peak_rows: self.peak_rows,
            rows_in: self.rows_in,
            rows_out: self.rows_out,
            pushes_deferred: self.pushes_deferred,
            pulls_deferred: self.pulls_deferred,
        }
    }

    /// Offers `chunks`; `token` is acked once all their rows are admitted.
    pub fn push(&mut self, chunks: Vec<C>, token: T, out: &mut Vec<BufferEvent<T, C>>) {
        if self.state != BufferState::Normal {
            out.push(BufferEvent::Acked(token, Err(BufferError::PushAfterFinish)));
            return;
        }
        let chunks: VecDeque<C> = chunks.into_iter().filter(|c| c.row_count() > 0).collect();
        self.pushes.push_back((chunks, token));
        self.pump(out);
        if !self.pushes.is_empty() {
            self.pushes_deferred += 1;
        }
    }

    /// Asks for a batch of `max` rows; `token` is answered when one is ready.
    pub fn pull(&mut self, max: usize, token: T, out: &mut Vec<BufferEvent<T, C>>) {
        if max == 0 {
            out.push(BufferEvent::Pulled(token, Err(BufferError::EmptyBatch)));
            return;
        }
        if max > self.capacity {
            let err = BufferError::BatchTooLarge {
                max,
                capacity: self.capacity,
            };
            out.push(BufferEvent::Pulled(token, Err(err)));
            return;
        }
        self.pulls.push_back((max, token));
        self.pump(out);
        if !self.pulls.is_empty() {
            self.pulls_deferred += 1;
        }
    }

    /// The Source will push no more.
    pub fn finish(&mut self, out: &mut Vec<BufferEvent<T, C>>) {
        if self.state == BufferState::Normal {
            self.state = BufferState::SourceFinished;
        }
        self.pump(out);
    }

    /// Answers the first waiting pull with the rows there are, fewer than
    /// it asked for, as [`Pulled::Partial`]; nothing when no rows are
    /// buffered (it goes on waiting) or no pull waits.
    pub fn flush(&mut self, out: &mut Vec<BufferEvent<T, C>>) {
        if self.rows == 0 || self.state != BufferState::Normal {
            return;
        }
        if let Some((max, token)) = self.pulls.pop_front() {
            let batch = self.take(max.min(self.rows));
            out.push(BufferEvent::Pulled(token, Ok(Pulled::Partial(batch))));
            self.pump(out);
        }
    }

    /// Pulls waiting for rows.
    pub fn pulls_waiting(&self) -> usize {
        self.pulls.len()
    }

    /// Drops every waiting request, answering each with [`BufferError::Stopped`].
    pub fn abort(&mut self, out: &mut Vec<BufferEvent<T, C>>) {
        for (_, token) in self.pushes.drain(..) {
            out.push(BufferEvent::Acked(token, Err(BufferError::Stopped)));
        }
        for (_, token) in self.pulls.drain(..) {
            out.push(BufferEvent::Pulled(token, Err(BufferError::Stopped)));
        }
        self.queue.clear();
        self.rows = 0;
        self.state = BufferState::Closed;
    }

    /// Admits waiting pushes and serves waiting pulls until neither can move.
    fn pump(&mut self, out: &mut Vec<BufferEvent<T, C>>) {
        loop {
            let mut moved = false;
            while self.rows < self.capacity {
                let Some((chunks, _)) = self.pushes.front_mut() else {
                    break;
                };
                while self.rows < self.capacity {
                    let Some(chunk) = chunks.front_mut() else {
                        break;
                    };
                    let free = self.capacity - self.rows;
                    let n = chunk.row_count();
                    let admitted = if n <= free {
                        chunks.pop_front().expect("front exists")
                    } else {
                        chunk.split_to(free)
                    };
                    let n = admitted.row_count();
                    self.queue.push_back(admitted);
                    self.rows += n;
                    self.rows_in += n as u64;
                    moved = true;
                }
                self.peak_rows = self.peak_rows.max(self.rows);
                if chunks.is_empty() {
                    let (_, token) = self.pushes.pop_front().expect("front exists");
                    out.push(BufferEvent::Acked(token, Ok(())));
                    moved = true;
                } else {
                    break;
                }
            }
            // A push of only empty chunks is acked even when the buffer is full.
            while matches!(self.pushes.front(), Some((chunks, _)) if chunks.is_empty()) {
                let (_, token) = self.pushes.pop_front().expect("front exists");
                out.push(BufferEvent::Acked(token, Ok(())));
                moved = true;
            }
            while let Some(&(max, _)) = self.pulls.front() {
                let reply = if self.rows >= max {
                    Pulled::Full(self.take(max))
                } else if self.state == BufferState::Closed {
                    Pulled::End
                } else if self.state == BufferState::SourceFinished && self.pushes.is_empty() {
                    if self.rows > 0 {
                        Pulled::Remainder(self.take(self.rows))
                    } else {
                        self.state = BufferState::Closed;
                        Pulled::End
                    }
                } else {
                    break;
                };
                let (_, token) = self.pulls.pop_front().expect("front exists");
                out.push(BufferEvent::Pulled(token, Ok(reply)));
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// Removes the first `n` buffered rows (`n <= self.rows`).
    fn take(&mut self, n: usize) -> Vec<C> {
        let mut batch = Vec::new();
        let mut left = n;
        while left > 0 {
            let chunk = self.queue.front_mut().expect("rows are buffered");
            let len = chunk.row_count();
            if len <= left {
                batch.push(self.queue.pop_front().expect("front exists"));
                left -= len;
            } else {
                batch.push(chunk.split_to(left));
                left = 0;
            }
        }
        self.rows -= n;
        self.rows_out += n as u64;
        batch
    }
}

type PushReply = oneshot::Sender<Result<(), BufferError>>;

/// Reply channel of a deferred message.
enum Waiter<C> {
    /// A waiting [`Push`].
    Push(PushReply),
    /// A waiting [`Pull`].
    Pull(oneshot::Sender<Result<Pulled<C>, BufferError>>),
}

/// The buffer actor: capacity counted in rows, acks and replies deferred as
/// [`BufferCore`] decides.
pub struct BoundedBuffer<C: Rows> {
    core: BufferCore<C, Waiter<C>>,
    events: Vec<BufferEvent<Waiter<C>, C>>,
    ack_delay: std::time::Duration,
    /// A flush of lingering pulls is scheduled.
    flushing: bool,
}

impl<C: Rows> BoundedBuffer<C> {
    /// A buffer of `capacity` rows.
    pub fn new(capacity: usize) -> Self {
        BoundedBuffer {
            core: BufferCore::new(capacity),
            events: Vec::new(),
            ack_delay: std::time::Duration::ZERO,
            flushing: false,
        }
    }

    /// Delays every `Push` ack by `delay` (fault injection: a slow buffer).
    pub fn with_ack_delay(mut self, delay: std::time::Duration) -> Self {
        self.ack_delay = delay;
        self
    }

    fn deliver(&mut self) {
        for event in self.events.drain(..) {
            // A requester that went away no longer needs its answer.
            match event {
                BufferEvent::Acked(Waiter::Push(tx), result) => {
                    let _ = tx.send(result);
                }
                BufferEvent::Pulled(Waiter::Pull(tx), result) => {
                    let _ = tx.send(result);
                }
                BufferEvent::Acked(Waiter::Pull(_), _)
                | BufferEvent::Pulled(Waiter::Push(_), _) => {
                    unreachable!("the core answers a request with its own kind of event")
                }
            }
        }
    }
}

impl<C: Rows> Actor for BoundedBuffer<C> {
    type Context = Context<Self>;

    fn stopping(&mut self, _: &mut Self::Context) -> actix::Running {
        self.core.abort(&mut self.events);
        self.deliver();
        actix::Running::Stop
    }
}

impl<C: Rows> Handler<Push<C>> for BoundedBuffer<C> {
    type Result = ResponseFuture<Result<(), BufferError>>;

    fn handle(&mut self, msg: Push<C>, _: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.core.push(msg.0, Waiter::Push(tx), &mut self.events);
        self.deliver();
        let delay = self.ack_delay;
        Box::pin(async move {
            let acked = rx.await.unwrap_or(Err(BufferError::Stopped));
            if !delay.is_zero() {
                actix_rt::time::sleep(delay).await;
            }
            acked
        })
    }
}

impl<C: Rows> Handler<Pull<C>> for BoundedBuffer<C> {
    type Result = ResponseFuture<Result<Pulled<C>, BufferError>>;

    fn handle(&mut self, msg: Pull<C>, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.core.pull(msg.max, Waiter::Pull(tx), &mut self.events);
        self.deliver();
        // A lingering pull still waiting takes what there is once its
        // time is up (or, with nothing buffered yet, the first rows that
        // come after: it is answered at the next flush).
        if let Some(linger) = msg.linger {
            if self.core.pulls_waiting() > 0 && !self.flushing {
                self.flushing = true;
                schedule_flush(ctx, linger);
            }
        }
        Box::pin(async move { rx.await.unwrap_or(Err(BufferError::Stopped)) })
    }
}

/// Flushes the first waiting pull after `linger`, and again every
/// `linger` while one waits (one timer at a time).
fn schedule_flush<C: Rows>(ctx: &mut Context<BoundedBuffer<C>>, linger: std::time::Duration) {
    use actix::AsyncContext;
    ctx.run_later(linger, move |buffer, ctx| {
        buffer.core.flush(&mut buffer.events);
        buffer.deliver();
        if buffer.core.pulls_waiting() > 0 && buffer.core.status().state == BufferState::Normal {
            schedule_flush(ctx, linger);
        } else {
            buffer.flushing = false;
        }
    });
}

impl<C: Rows> Handler<SourceFinished> for BoundedBuffer<C> {
    type Result = ();

    fn handle(&mut self, _: SourceFinished, _: &mut Self::Context) {
        self.core.finish(&mut self.events);
        self.deliver();
    }
}

impl<C: Rows> Handler<GetStatus> for BoundedBuffer<C> {
    type Result = actix::MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Self::Context) -> Self::Result {
        actix::MessageResult(self.core.status())
    }
}
