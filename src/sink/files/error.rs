//! Why a file target failed.

use std::io;
use std::path::Path;

use crate::sink::place::{MakeError, NotAFile};
use crate::sink::{ErrorKind, Failure};

/// Why a file target failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An I/O operation failed.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `--resume` cannot continue from what the directory holds.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// The destination is not a regular file (or not a directory).
    #[error(transparent)]
    NotAFile(#[from] NotAFile),
    /// Another run holds what this one would write.
    #[error("{0}")]
    Busy(String),
    /// The file exists and `if_exists = "fail"`.
    #[error("{path} already exists\n  help: set `if_exists` in [target] to \"replace\" or \"append\", or remove the file")]
    Exists {
        /// The file.
        path: String,
    },
}

pub(super) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> FileError {
    let path = path.display().to_string();
    move |source| FileError::Io {
        action,
        path,
        source,
    }
}

impl FileError {
    /// What the error means for the run.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FileError::Exists { .. }
            | FileError::Resume(_)
            | FileError::Busy(_)
            | FileError::NotAFile(_) => ErrorKind::Input,
            FileError::Io { source, .. } if crate::sink::io_transient(source) => {
                ErrorKind::Transient
            }
            FileError::Io { .. } => ErrorKind::Permanent,
        }
    }
}

impl From<FileError> for Failure {
    fn from(e: FileError) -> Self {
        Failure::new(e.kind(), e)
    }
}

impl From<MakeError> for FileError {
    fn from(e: MakeError) -> Self {
        match e {
            MakeError::NotAFile(e) => FileError::NotAFile(e),
            MakeError::Io { path, source } => FileError::Io {
                action: "create directory",
                path,
                source,
            },
        }
    }
}
