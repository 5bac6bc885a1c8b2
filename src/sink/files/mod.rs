//! The file targets: `csv://DIR` and `jsonl://DIR` (one file per table),
//! `sql://FILE` (one script) and `stdout://FORMAT`.
//!
//! Files are published atomically: each is written under a temporary name
//! (`.NAME.datagen-tmp`) in its final directory and renamed into place by
//! `finish`, after it has been flushed to disk. A failed or interrupted run
//! removes its temporary files and publishes nothing.
//!
//! A single output (an SQL script, standard output) holds the tables one
//! after another in dependency order, so that a script loads with its
//! foreign keys checked. Rows arrive interleaved by table, so the first
//! table streams straight to the output and the others are spooled to
//! temporary files, appended in order at the end.
//!
//! * [`encode`]: the CSV, JSON Lines and SQL encoders.
//! * [`sink`]: writing, checkpointing and publishing.
//! * [`layout`]: file names, temporary files, the checkpoint.
//! * `output`: one output stream; [`error`]: what can go wrong.

pub mod encode;
pub mod error;
pub mod layout;
mod output;
pub mod sink;
pub mod stream_out;

use std::path::PathBuf;
use std::sync::Arc;

use super::ddl::Dialect;
use super::options::{AnyKey, Common, Options};
use super::place::MadeDirs;
use super::{Commits, Failure, Kind, OpenArgs, Target, TargetSink};
use crate::schema::Schema;
use crate::shard::Shard;
use crate::url::{no_options, Url, UrlError};
use encode::FileFormat;
use error::FileError;
use layout::Layout;
use sink::{FileOptions, FileSink};

/// `csv://DIR`, `jsonl://DIR`, `sql://FILE[?dialect=…]`, `stdout://FORMAT`.
pub struct FilesKind;

/// The file kinds of target.
pub static FILES: FilesKind = FilesKind;

/// `?dialect=postgres|sqlite` (postgres when absent).
fn dialect_option(opts: &[(&str, &str)]) -> Result<Dialect, UrlError> {
    let mut dialect = Dialect::Postgres;
    for (key, value) in opts {
        match (*key, Dialect::parse(value)) {
            ("dialect", Some(d)) => dialect = d,
            _ => return Err(UrlError::BadOption(format!("{key}={value}"))),
        }
    }
    Ok(dialect)
}

impl Kind for FilesKind {
    fn schemes(&self) -> &'static [&'static str] {
        &["csv", "jsonl", "sql", "stdout"]
    }

    fn usage(&self) -> &'static [&'static str] {
        &[
            "csv://DIR",
            "jsonl://DIR",
            "sql://FILE[?dialect=postgres|sqlite]",
            "stdout://csv|jsonl|sql",
        ]
    }

    fn keys(&self) -> &'static [&'static dyn AnyKey] {
        &Common::KEYS
    }

    fn parse(
        &self,
        url: &Url<'_>,
        options: &mut Options<'_>,
        shard: Shard,
    ) -> Result<Arc<dyn Target>, UrlError> {
        let place = match url.scheme {
            "csv" | "jsonl" => {
                let (dir, opts) = url.path()?;
                no_options(&opts)?;
                let format = if url.scheme == "csv" {
                    FileFormat::Csv
                } else {
                    FileFormat::Jsonl
                };
                Place::Dir { dir, format }
            }
            "sql" => {
                let (path, opts) = url.path()?;
                Place::File {
                    // Each shard writes a script of its own.
                    path: shard.file_path(&path),
                    dialect: dialect_option(&opts)?,
                }
            }
            _ => {
                let (format, opts) = url.options();
                Place::Stdout(match format {
                    "csv" | "jsonl" => {
                        no_options(&opts)?;
                        if format == "csv" {
                            FileFormat::Csv
                        } else {
                            FileFormat::Jsonl
                        }
                    }
                    "sql" => FileFormat::Sql(dialect_option(&opts)?),
                    other => {
                        return Err(UrlError::BadOption(format!(
                            "stdout://{other} (the format must be csv, jsonl or sql)"
                        )))
                    }
                })
            }
        };
        Ok(Arc::new(FileTarget {
            place,
            common: Common::read(options),
            shard,
            made: Arc::default(),
        }))
    }
}

/// Where a file target writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `csv://DIR`, `jsonl://DIR`: one file per table.
    Dir {
        /// The directory.
        dir: PathBuf,
        /// CSV or JSON Lines.
        format: FileFormat,
    },
    /// `sql://FILE`: one script.
    File {
        /// The file (the shard's, when sharded).
        path: PathBuf,
        /// The dialect of the script.
        dialect: Dialect,
    },
    /// `stdout://FORMAT`.
    Stdout(FileFormat),
}

/// Files, or standard output.
#[derive(Debug, Clone)]
pub struct FileTarget {
    /// Where.
    pub place: Place,
    /// `if_exists`, `commit_rows` (rows between checkpoints).
    pub common: Common,
    /// The slice of the run written (it names the files of a directory).
    pub shard: Shard,
    /// Directories a run made, removed again if it fails.
    pub made: Arc<MadeDirs>,
}

impl std::fmt::Display for FileTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.place {
            Place::Dir { dir, format } => {
                write!(f, "{}://{}", format.extension(), dir.display())
            }
            Place::File { path, dialect } => {
                write!(f, "sql://{}?dialect={}", path.display(), dialect.as_str())
            }
            Place::Stdout(FileFormat::Sql(d)) => write!(f, "stdout://sql?dialect={}", d.as_str()),
            Place::Stdout(format) => write!(f, "stdout://{}", format.extension()),
        }
    }
}

impl Target for FileTarget {
    fn options(&self) -> Vec<(&'static str, String)> {
        self.common.shown()
    }

    fn check(&self, schema: &Schema) -> Vec<crate::diag::Diagnostic> {
        // A script is run by the database of its dialect.
        match &self.place {
            Place::File { dialect, .. } | Place::Stdout(FileFormat::Sql(dialect)) => {
                super::ddl::problems(schema, *dialect)
            }
            _ => Vec::new(),
        }
    }

    fn resumable(&self) -> bool {
        !matches!(self.place, Place::Stdout(_))
    }

    fn restartable(&self) -> bool {
        // What reached standard output cannot be taken back.
        !matches!(self.place, Place::Stdout(_))
    }

    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure> {
        let options = FileOptions {
            if_exists: self.common.if_exists,
            commits: Commits::new(self.common.commit_rows, args),
            resume: args.resume.clone(),
            shard: args.shard,
        };
        let (schema, progress) = (args.schema.clone(), args.progress.clone());
        // The directory is checked and made here, so that a failed run
        // knows what to remove.
        let dir = match &self.place {
            Place::Dir { dir, .. } => Some(dir.as_path()),
            Place::File { path, .. } => path.parent(),
            Place::Stdout(_) => None,
        };
        if let Some(dir) = dir {
            self.made.make(dir).map_err(FileError::from)?;
        }
        if let (Place::Stdout(format), true) = (&self.place, args.stream) {
            return Ok(Box::new(stream_out::StreamOut::open(
                *format, &schema, progress,
            )?));
        }
        Ok(Box::new(match &self.place {
            Place::Dir { dir, format } => FileSink::dir(dir, *format, schema, options, progress)?,
            Place::File { path, dialect } => FileSink::single(
                Some(path),
                FileFormat::Sql(*dialect),
                schema,
                options,
                progress,
            )?,
            Place::Stdout(format) => FileSink::single(None, *format, schema, options, progress)?,
        }))
    }

    fn discard(&self, schema: &Schema) {
        match &self.place {
            Place::Dir { dir, format } => Layout::dir(dir, schema, *format, self.shard).discard(),
            Place::File { path, .. } => Layout::single(path, schema.tables.len()).discard(),
            Place::Stdout(_) => {}
        }
        self.made.remove();
    }
}
