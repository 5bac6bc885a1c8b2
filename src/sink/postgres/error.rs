//! Why the PostgreSQL target failed, and what that means for the run.

use super::binary::EncodeError;
use crate::sink::{ErrorKind, Failure};

/// Why the PostgreSQL target failed.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {target}: {cause}")]
    Connect {
        /// The target, password hidden.
        target: String,
        /// What the driver or server said.
        cause: String,
        /// Whether trying again may succeed (the server not up yet, the
        /// network), unlike a wrong password or a missing database.
        transient: bool,
    },
    /// A statement failed.
    #[error("PostgreSQL: cannot {action}: {cause}")]
    Server {
        /// What was being done.
        action: String,
        /// What the server said.
        cause: String,
        /// Whether trying again may succeed (the connection went away, a
        /// serialization failure, a deadlock, the server starting or
        /// stopping).
        transient: bool,
    },
    /// A table exists and `if_exists = "fail"`.
    #[error("table {table} already exists\n  help: set `if_exists` in [target] to \"replace\", \"truncate\" or \"append\", drop the table, or add --resume to finish an interrupted run")]
    TableExists {
        /// The table, quoted as in SQL.
        table: String,
    },
    /// An existing column cannot hold what the Genfile generates.
    #[error("column {table}.{column} is {actual} in PostgreSQL, which cannot hold the {generated} values datagen generates for it\n  help: {help}")]
    ColumnType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The column's type in the database.
        actual: String,
        /// What the Genfile generates.
        generated: String,
        /// How to fix it.
        help: &'static str,
    },
    /// A value does not fit its column.
    #[error("column {table}.{column}")]
    Encode {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The value and type.
        source: EncodeError,
    },
    /// `--resume` cannot continue from what the database holds.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// A shard that cannot join the sharded load.
    #[error("cannot load this shard: {0}")]
    Shard(String),
    /// The async runtime could not start.
    #[error("cannot start the PostgreSQL client")]
    Runtime(#[from] std::io::Error),
}

impl PgError {
    /// What the error means for the run.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PgError::TableExists { .. }
            | PgError::ColumnType { .. }
            | PgError::Resume(_)
            | PgError::Shard(_) => ErrorKind::Input,
            PgError::Connect {
                transient: true, ..
            }
            | PgError::Server {
                transient: true, ..
            } => ErrorKind::Transient,
            PgError::Connect { .. }
            | PgError::Server { .. }
            | PgError::Encode { .. }
            | PgError::Runtime(_) => ErrorKind::Permanent,
        }
    }
}

impl From<PgError> for Failure {
    fn from(e: PgError) -> Self {
        Failure::new(e.kind(), e)
    }
}

/// Whether trying the statement again, on a new connection if need be,
/// may succeed.
pub(super) fn transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // Connection exceptions, serialization failures and deadlocks,
        // too many connections, the server shutting down or starting.
        Some(code) => {
            let c = code.code();
            c.starts_with("08")
                || c == "40001"
                || c == "40P01"
                || c == "53300"
                || c.starts_with("57P")
        }
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// The text of a driver error: the server's message, detail and hint, or
/// the driver's error and its causes.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!("\n  hint: {hint}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

pub(super) fn server(action: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> PgError {
    let action = action.into();
    move |e| PgError::Server {
        action,
        cause: describe(&e),
        transient: transient(&e),
    }
}
