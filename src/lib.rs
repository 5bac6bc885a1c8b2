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
//! From the bottom up; a module uses only modules listed before it (the
//! layers and the recipes for adding a generator or a target are in
//! ARCHITECTURE.md).
//!
//! * [`value`]: values, their logical types and the blocks of rows that
//!   carry them. [`rng`]: per-column random streams addressable by row
//!   index. [`format`](mod@format): the canonical text of values.
//!   [`diag`]: located diagnostics. [`limits`]: the bounds held to
//!   whatever input is given. [`failure`]: what an error means for
//!   the run. [`url`]: target URLs as text.
//!   [`shard`]: slices of a run. [`progress`]: rows committed, shown.
//! * [`context`]: what a generator sees while making a row.
//!   [`expr`]: the expression language — parsing, types, evaluation.
//! * [`generators`]: the generator catalogue, one module per family, each
//!   generator's keys, type, sampling in one place.
//! * [`schema`]: the validated schema, and how a Genfile's text becomes one.
//! * [`generate`]: the schema compiled for a run, rows generated depth
//!   first, and the plan that cuts a run into work units. No actors, no I/O.
//! * [`sink`]: the targets behind one trait, found by URL scheme — SQLite,
//!   PostgreSQL, CSV, JSON Lines, SQL, stdout, null — and their checkpoints.
//! * [`genfile`]: reading a Genfile whole: the schema and its `[target]`,
//!   checked by the target it names.
//! * [`settings`]: Genfile < environment < command line layering.
//! * [`preview`]: the first rows of each table as a text table.
//! * [`chaos`]: faults injected for supervision experiments.
//! * [`clock`]: a stream's event time, a function of the row's position.
//! * [`run`]: a schema mapped onto the actor pipeline of `datagen-actors`,
//!   run under a restart policy.
//! * [`cli`]: the command line.

pub mod bench;
pub mod chaos;
pub mod cli;
pub mod clock;
pub mod context;
pub mod diag;
pub mod expr;
pub mod failure;
pub mod format;
pub mod generate;
pub mod generators;
pub mod genfile;
pub mod limits;
pub mod preview;
pub mod progress;
pub mod rng;
pub mod run;
pub mod schema;
pub mod settings;
pub mod shard;
pub mod sink;
pub mod url;
pub mod value;
pub mod verify;
