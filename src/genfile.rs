//! Reading a Genfile whole: its tables and columns ([`crate::schema`])
//! and its `[target]` section, checked by the target the section's URL
//! names ([`crate::sink::registry`]), every problem of both reported at
//! once, located as `file:line:col`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostics;
use crate::generate::plan;
use crate::limits::{read_file, ReadError, MAX_GENFILE_BYTES};
use crate::schema::Schema;
use crate::shard::Shard;
use crate::sink::options::Options;
use crate::sink::{registry, Target};

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

/// The target the Genfile at `path` names in its `[target]` (its default
/// when it names none), with the section's keys and no environment;
/// `None` when the URL cannot be used.
pub fn target(path: &Path, schema: &Schema) -> Option<Arc<dyn Target>> {
    let stem = path
        .file_stem()
        .map_or_else(|| "datagen".into(), |s| s.to_string_lossy().into_owned());
    let url = schema
        .target
        .url()
        .map_or_else(|| registry::default_url(&stem), str::to_owned);
    let env = HashMap::new();
    let mut options = Options::new(&schema.target.entries, &env);
    registry::parse(&url, &mut options, Shard::WHOLE).ok()
}

/// Reads and validates the Genfile at `path`.
pub fn load(path: &Path) -> Result<Schema, GenfileError> {
    let bytes = read_file(path, MAX_GENFILE_BYTES).map_err(|source| GenfileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(path, &bytes).map_err(GenfileError::Invalid)
}

/// Validates Genfile `bytes` read from `path`: the schema, its
/// `[target]`, and what can be known before counting rows — the plan at
/// scale 1 where row counts are fixed ([`plan::check`]) and what the
/// Genfile's target cannot store ([`crate::sink::Target::check`]).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Schema, Diagnostics> {
    let schema = crate::schema::read::read(path, bytes, &registry::check)?;
    let mut problems = plan::check(&schema, &plan::fixed_rows(&schema), 1.0);
    // A URL that cannot be used is reported with the section already.
    if let Some(target) = target(path, &schema) {
        problems.extend(target.check(&schema));
    }
    if problems.is_empty() {
        Ok(schema)
    } else {
        problems.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
        Err(schema.located(problems))
    }
}
