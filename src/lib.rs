//! datagen turns one declarative TOML file, the Genfile, into large,
//! realistic, relational and reproducible datasets.
//!
//! The data is a pure function of the Genfile and the seed: every column
//! draws from its own random stream derived from (seed, table, column) and
//! addressable by row index, so the output does not depend on how many
//! workers generate it, how the pipeline is sized or where it is written.
//!
//! # Layout
//!
//! From the bottom up; a module uses only modules listed before it.
//!
//! * [`value`]: values, their logical types and the blocks of rows that
//!   carry them. [`rng`]: per-column random streams addressable by row
//!   index. [`format`](mod@format): the canonical text of values.
//!   [`diag`]: located diagnostics. [`shard`]: slices of a run.
//! * [`context`]: what a generator sees while making a row.
//!   [`expr`]: the expression language — parsing, types, evaluation.
//! * [`generators`]: the generator catalogue, one module per family, each
//!   generator's keys, type, sampling in one place.
//! * [`genfile`]: reading a Genfile — TOML into raw serde structs, then
//!   validation into the [`Schema`](genfile::Schema) the rest of the program
//!   uses, with every problem reported at once as `file:line:col`.
//! * [`generate`]: the schema compiled for a run, rows generated depth
//!   first, and the plan that cuts a run into work units. No actors, no I/O.
//! * [`target`]: target URLs and the sinks that write batches (SQLite,
//!   PostgreSQL, CSV, JSON Lines, SQL, stdout), and their checkpoints.
//! * [`settings`]: Genfile < environment < command line layering.
//! * [`preview`]: the first rows of each table as a text table.
//! * [`run`]: maps a schema onto the actor pipeline of `datagen-actors` and
//!   runs it under a restart policy; [`progress`] shows how far it got;
//!   [`chaos`] injects faults for supervision experiments.

pub mod chaos;
pub mod context;
pub mod diag;
pub mod expr;
pub mod format;
pub mod generate;
pub mod generators;
pub mod genfile;
pub mod preview;
pub mod progress;
pub mod rng;
pub mod run;
pub mod settings;
pub mod shard;
pub mod target;
pub mod value;
