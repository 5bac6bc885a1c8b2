//! What a failure means for the run: bad input, transient or permanent.
//!
//! Targets and generation wrap their errors in a [`Failure`] with an
//! [`ErrorKind`]; the run finds the kind among a failure's causes
//! ([`kind_of`]) to pick the exit code and to decide whether a restart can
//! help: only transient failures are restarted.

use datagen_actors::BoxError;
use std::fmt;

/// Whether an I/O error may go away when tried again.
pub fn io_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(e.kind(), K::Interrupted | K::TimedOut | K::WouldBlock)
}

/// What an error of a target means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input asks for what cannot be done (a table that exists under
    /// `if_exists = "fail"`, a `--resume` that does not match): exit 2,
    /// and no retry.
    Input,
    /// Trying again may succeed: a lost connection, a timeout.
    Transient,
    /// Trying again would fail the same way: a constraint violated, a
    /// full disk.
    Permanent,
}

/// An error with what it means for the run. It shows as the error itself.
#[derive(Debug)]
pub struct Failure {
    /// What it means.
    pub kind: ErrorKind,
    error: BoxError,
}

impl Failure {
    /// `error`, meaning `kind`.
    pub fn new(kind: ErrorKind, error: impl Into<BoxError>) -> Self {
        Failure {
            kind,
            error: error.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// `error` as a [`Failure`] when it is an `E` (whose kind it then
/// says), unchanged otherwise.
pub fn classify<E>(error: BoxError) -> BoxError
where
    E: std::error::Error + Send + Sync + 'static,
    Failure: From<E>,
{
    match error.downcast::<E>() {
        Ok(e) => Box::new(Failure::from(*e)),
        Err(e) => e,
    }
}

/// The kind of `error` if a target or the generation classified it
/// somewhere in its causes; anything else (a panic, a lost actor, an
/// injected fault) is transient.
pub fn kind_of(error: &(dyn std::error::Error + 'static)) -> ErrorKind {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<Failure>() {
            return t.kind;
        }
        next = e.source();
    }
    ErrorKind::Transient
}
