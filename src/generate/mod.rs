//! Pure, seeded value generation: no actors, no I/O.
//!
//! * [`rng`]: per-column random streams addressable by row index.
//! * [`value`]: [`Value`] and [`Block`], the rows in flight.
//! * [`columns`]: the compiled generators and depth-first row generation.
//! * [`context`]: the SourceContext a generator sees while making a row.
//! * [`eval`]: evaluating expressions (`expr`, `when`, `cases`).
//! * [`plan`]: row counts of `per` tables and the cutting into work units.
//! * [`dicts`]: built-in dictionaries per locale.
//! * [`brdocs`]: CPF and CNPJ numbers with valid check digits.

pub mod brdocs;
pub mod columns;
pub mod context;
pub mod dicts;
pub mod eval;
pub mod plan;
pub mod rng;
pub mod value;

pub use columns::{Generators, Spare};
pub use plan::{Plan, Shard, Unit, Units};
pub use value::{Block, Encoded, Value};
