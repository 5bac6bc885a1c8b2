//! The Genfile as written: serde structs that mirror the TOML.
//!
//! Only the shape is checked here (`deny_unknown_fields`, types of the fixed
//! sections). Columns are kept as spanned key/value lists, because their keys
//! depend on the generator and are checked, all at once, by validation.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_spanned::Spanned;

/// A TOML table whose entries keep the order they were written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<T>(pub Vec<(Spanned<String>, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
            type Value = Ordered<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }

        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenfileConfig {
    /// `version = 1`.
    pub version: Option<Spanned<i64>>,
    /// `[run]`.
    #[serde(default)]
    pub run: RunConfig,
    /// `[pipeline]`.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// `[target]`: its keys belong to the target its `url` names, which
    /// checks them.
    #[serde(default)]
    pub target: Ordered<Spanned<toml::Value>>,
    /// `[tables.NAME]`, in file order.
    #[serde(default)]
    pub tables: Ordered<Spanned<TableConfig>>,
    /// `[dictionaries.NAME]`, in file order.
    #[serde(default)]
    pub dictionaries: Ordered<Spanned<DictionaryConfig>>,
}

/// `[dictionaries.NAME]`: inline values, or a file of one value a line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DictionaryConfig {
    /// The values.
    pub values: Option<Spanned<Vec<toml::Value>>>,
    /// Relative weights, one per value.
    pub weights: Option<Spanned<Vec<toml::Value>>>,
    /// A file relative to the Genfile: one value a line, optional `,weight`.
    pub file: Option<Spanned<String>>,
}

/// `[run]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Seed of every stream.
    pub seed: Option<Spanned<i64>>,
    /// Locale of the built-in dictionaries.
    pub locale: Option<Spanned<String>>,
}

/// `[pipeline]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Buffer capacity in rows.
    pub buffer_rows: Option<Spanned<i64>>,
    /// Rows per Target batch.
    pub batch_rows: Option<Spanned<i64>>,
    /// Generator threads.
    pub workers: Option<Spanned<i64>>,
    /// Restarts allowed within `restart_window_s`.
    pub max_restarts: Option<Spanned<i64>>,
    /// Seconds restarts are counted over.
    pub restart_window_s: Option<Spanned<i64>>,
    /// Pause before the first restart, in milliseconds (doubling).
    pub backoff_ms: Option<Spanned<i64>>,
}

/// `[tables.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// A fixed row count.
    pub rows: Option<Spanned<i64>>,
    /// One-to-many from a parent table.
    pub per: Option<Spanned<PerConfig>>,
    /// Column specs in file order.
    #[serde(default)]
    pub columns: Ordered<Spanned<Ordered<Spanned<toml::Value>>>>,
}

/// `per = { parent = "...", count = ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerConfig {
    /// The parent table.
    pub parent: Spanned<String>,
    /// Children per parent row.
    pub count: Spanned<toml::Value>,
}
