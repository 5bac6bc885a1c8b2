//! Generating rows from a schema: pure and seeded, no actors, no I/O.
//!
//! * [`columns`]: the schema's columns compiled for a run ([`Generators`]).
//! * [`rows`]: a unit's rows, depth first, with their children and the
//!   columns that summarise them.
//! * [`plan`]: row counts of `per` tables and the cutting into work units.
//! * [`shape`]: the order trees are emitted in; which are referred to.
//! * [`stream`]: the same rows as a stream: reference trees first, the
//!   last event tree without end.

pub mod columns;
mod groups;
pub mod plan;
pub mod rows;
pub mod shape;
pub mod stream;

pub use columns::Generators;
pub use plan::{Plan, Unit, Units};
pub use rows::{Spare, ValueError};
