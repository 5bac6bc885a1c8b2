//! Messages exchanged on the data path, and the [`Rows`] trait for chunks.

use std::marker::PhantomData;

use actix::Message;

use crate::buffer::{BufferError, BufferStatus};

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
/// Source has finished.
pub struct Pull<C> {
    /// Rows per batch.
    pub max: usize,
    chunk: PhantomData<fn() -> C>,
}

impl<C> Pull<C> {
    /// A request for a batch of `max` rows.
    pub fn new(max: usize) -> Self {
        Pull {
            max,
            chunk: PhantomData,
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
