//! Reading a Genfile whole: its tables and columns ([`crate::schema`])
//! and its `[target]` section, checked by the target the section's URL
//! names ([`crate::sink::registry`]), every problem of both reported at
//! once, located as `file:line:col`.

use std::path::Path;

use crate::diag::Diagnostics;
use crate::limits::{read_file, ReadError, MAX_GENFILE_BYTES};
use crate::schema::Schema;

/// Why a Genfile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GenfileError {
    /// The file could not be read.
    #[error("cannot read Genfile {path}")]
    Read {
        /// The path as given.
        path: String,
        /// The cause.
        #[source]
        source: ReadError,
    },
    /// The file was read but is not a valid Genfile.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads and validates the Genfile at `path`.
pub fn load(path: &Path) -> Result<Schema, GenfileError> {
    let bytes = read_file(path, MAX_GENFILE_BYTES).map_err(|source| GenfileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(path, &bytes).map_err(GenfileError::Invalid)
}

/// Validates Genfile `bytes` read from `path`.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Schema, Diagnostics> {
    crate::schema::read::read(path, bytes, &crate::sink::registry::check)
}
