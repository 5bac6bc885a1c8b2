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
//! * [`genfile`]: reading a Genfile — TOML into raw serde structs, then
//!   validation into the [`Schema`](genfile::Schema) the rest of the program
//!   uses, with every problem reported at once as `file:line:col`.
//! * [`generate`]: pure, seeded value generation — per-column streams, the
//!   compiled generators, blocks of rows, and the plan that cuts a run into
//!   work units. No actors, no I/O.
//! * [`format`](mod@format): the canonical text form of values for targets.
//! * [`target`]: target URLs and the sinks that write batches (SQLite,
//!   PostgreSQL, CSV, JSON Lines, SQL, stdout), and their checkpoints.
//! * [`settings`]: Genfile < environment < command line layering.
//! * [`preview`]: the first rows of each table as a text table.
//! * [`run`]: maps a schema onto the actor pipeline of `datagen-actors` and
//!   runs it under a restart policy; [`progress`] shows how far it got;
//!   [`chaos`] injects faults for supervision experiments.

pub mod chaos;
pub mod format;
pub mod generate;
pub mod genfile;
pub mod preview;
pub mod progress;
pub mod run;
pub mod settings;
pub mod target;
