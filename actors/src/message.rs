//! Messages exchanged on the data path, their replies, and the [`Rows`]
//! trait for chunks.

use std::marker::PhantomData;

use actix::Message;

use crate::BoxError;

/// A chunk of rows: the unit that moves through the pipeline.
///
/// Chunks move whole wherever possible; the buffer splits one only to admit
/// part of it into the remaining space or to cut a batch at exactly `max`
/// rows.
pub trait Rows: Send + Unpin + 'static {
    /// Number of rows in the chunk.
    fn row_count(&self) -> usize;

    /// Removes the first `at` rows and returns them as a new chunk;
    /// `self` keeps the rest. `0 < at < self.row_count()`.
    fn split_to(&mut self, at: usize) -> Self;

    /// The stream position of the chunk's first row, if rows have one
    /// (a paced Source needs it).
    fn position(&self) -> Option<u64> {
        None
    }
}

impl<T: Send + Unpin + 'static> Rows for Vec<T> {
    fn row_count(&self) -> usize {
        self.len()
    }

    fn split_to(&mut self, at: usize) -> Self {
        let rest = self.split_off(at);
        std::mem::replace(self, rest)
    }
}

/// Source → buffer: append these chunks. The reply (the ack) is deferred
/// until every row has been admitted.
pub struct Push<C: Rows>(pub Vec<C>);

impl<C: Rows> Message for Push<C> {
    type Result = Result<(), BufferError>;
}

/// Target → buffer: give me exactly `max` rows, or the remainder once the
/// Source has finished — or, for a request that lingers, whatever rows
/// there are once it has waited that long.
pub struct Pull<C> {
    /// Rows per batch.
    pub max: usize,
    /// How long to wait for `max` rows before taking fewer (at least
    /// one): a paced stream's rows leave within this time of arriving.
    pub linger: Option<std::time::Duration>,
    chunk: PhantomData<fn() -> C>,
}

impl<C> Pull<C> {
    /// A request for a batch of `max` rows.
    pub fn new(max: usize) -> Self {
        Pull {
            max,
            linger: None,
            chunk: PhantomData,
        }
    }

    /// A request for `max` rows that takes what there is after `linger`.
    pub fn lingering(max: usize, linger: Option<std::time::Duration>) -> Self {
        Pull {
            linger,
            ..Pull::new(max)
        }
    }
}

/// The buffer's reply to [`Pull`].
#[derive(Debug, PartialEq, Eq)]
pub enum Pulled<C> {
    /// Exactly `max` rows.
    Full(Vec<C>),
    /// The last rows, fewer than `max`, served after [`SourceFinished`].
    Remainder(Vec<C>),
    /// Fewer than `max` rows (at least one), served to a request that
    /// lingered ([`Pull::lingering`]) while the Source goes on.
    Partial(Vec<C>),
    /// No rows will ever come again: flush and finish.
    End,
}

impl<C: Rows> Message for Pull<C> {
    type Result = Result<Pulled<C>, BufferError>;
}

/// Source → buffer: no more pushes will come.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct SourceFinished;

/// Anyone → buffer: report the current [`BufferStatus`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "BufferStatus")]
pub struct GetStatus;

/// Lifecycle of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BufferState {
    /// The Source is running; batches are served only when full.
    Normal,
    /// The Source has finished; the remainder may be served as a short batch.
    SourceFinished,
    /// The end marker has been served; nothing will ever be buffered again.
    Closed,
}

/// A snapshot of the buffer, for tests, stats and progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferStatus {
    /// Current state.
    pub state: BufferState,
    /// Rows buffered now.
    pub rows: usize,
    /// Capacity in rows.
    pub capacity: usize,
    /// Most rows ever buffered at once.
    pub peak_rows: usize,
    /// Rows admitted so far.
    pub rows_in: u64,
    /// Rows handed to the Target so far.
    pub rows_out: u64,
    /// Pushes whose ack had to wait for space.
    pub pushes_deferred: u64,
    /// Pulls whose reply had to wait for rows.
    pub pulls_deferred: u64,
}

/// Protocol errors: each one is a bug in the caller, reported rather than
/// papered over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BufferError {
    /// A push arrived after [`SourceFinished`].
    #[error("rows pushed after the source finished")]
    PushAfterFinish,
    /// A pull asked for zero rows.
    #[error("a batch must hold at least one row")]
    EmptyBatch,
    /// A pull asked for more rows than the buffer can ever hold at once,
    /// which would wait forever.
    #[error("batch of {max} rows cannot fit a buffer of {capacity} rows")]
    BatchTooLarge {
        /// Requested batch size.
        max: usize,
        /// Buffer capacity.
        capacity: usize,
    },
    /// The buffer went away before answering (the pipeline is shutting down).
    #[error("the buffer was stopped")]
    Stopped,
}

/// How an actor's work ended badly.
#[derive(Debug)]
pub(crate) enum ActorFailure {
    /// The work itself returned an error.
    Failed(BoxError),
    /// The work panicked; the panic's message.
    Panicked(String),
    /// A peer or thread disappeared.
    Lost(String),
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Which part of the pipeline a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The Source actor (planning and pushing units).
    Source,
    /// Generator worker thread N (from 0).
    Worker(usize),
    /// The bounded buffer.
    Buffer,
    /// The Target actor or its sink.
    Target,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Source => f.write_str("source"),
            Origin::Worker(n) => write!(f, "worker {n}"),
            Origin::Buffer => f.write_str("buffer"),
            Origin::Target => f.write_str("target"),
        }
    }
}
