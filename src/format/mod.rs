//! Encoding values for targets.
//!
//! * [`text`]: the canonical text form of every value (dates as ISO 8601,
//!   timestamps as RFC 3339 in UTC, decimals with exactly `scale` digits,
//!   UUIDs lower-case and hyphenated), written into a reused buffer.
//! * [`json`]: JSON strings and numbers, for JSON documents.
//! * [`canon`]: one text per value whoever stored it, for comparing
//!   stores (`datagen verify`).

pub mod canon;
pub mod json;
pub mod text;
