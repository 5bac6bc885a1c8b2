//! datagen's integration tests, in one binary.

mod catalogue;
mod cli;
mod derived;
mod determinism;
mod errors;
mod golden;
mod settings;
mod sqlite;
mod stats;
mod support;
mod units;
