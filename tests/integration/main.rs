//! datagen's integration tests, in one binary.

mod canon;
mod catalogue;
mod chaos;
mod cli;
mod derived;
mod determinism;
mod errors;
mod failures;
mod files;
mod golden;
mod hostile;
mod null;
mod numbers;
mod pg;
mod places;
mod postgres;
mod resume;
mod settings;
mod shards;
mod sqlite;
mod stats;
mod supervision;
mod support;
mod time;
mod unique;
mod units;
