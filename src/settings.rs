//! Run settings, layered: Genfile < environment (`DATAGEN_*`) < command line.
//!
//! The layering goes through the `config` crate, so a container or a
//! scheduled job can drive datagen entirely from its environment:
//! `DATAGEN_TARGET`, `DATAGEN_SEED`, `DATAGEN_SCALE`, `DATAGEN_WORKERS`,
//! `DATAGEN_BUFFER_ROWS`, `DATAGEN_BATCH_ROWS`, `DATAGEN_MAX_RESTARTS`,
//! `DATAGEN_BACKOFF_MS`, `DATAGEN_SHARD`, `DATAGEN_MAX_ROWS`. The target's own keys
//! (`if_exists`, `commit_rows`, PostgreSQL's `connections` and
//! `constraints`, …) are read by the target, with `DATAGEN_` and the key in
//! capitals overriding the Genfile ([`crate::sink::options`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::limits::DEFAULT_MAX_ROWS;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::sink::registry::{self, ResolveError};
use crate::sink::Target;

/// What the command line may override.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--target`.
    pub target: Option<String>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--scale`.
    pub scale: Option<f64>,
    /// `--workers`.
    pub workers: Option<usize>,
    /// `--shard K/N`.
    pub shard: Option<String>,
    /// `--max-rows`.
    pub max_rows: Option<u64>,
}

/// The settings a run uses.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where rows go, with the target's own settings.
    pub target: Arc<dyn Target>,
    /// Seed of every stream.
    pub seed: u64,
    /// Multiplier of every `rows`.
    pub scale: f64,
    /// Generator threads (resolved: at least 1).
    pub workers: usize,
    /// Buffer capacity in rows, if set.
    pub buffer_rows: Option<usize>,
    /// Rows per Target batch.
    pub batch_rows: usize,
    /// When a failed pipeline is restarted.
    pub restart_policy: datagen_actors::RestartPolicy,
    /// The slice of the run to generate.
    pub shard: Shard,
    /// The most rows the run may make (all tables, whole run).
    pub max_rows: u64,
}

/// Settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value of the wrong type or out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// The target URL or one of the target's settings is unusable.
    #[error(transparent)]
    Target(#[from] ResolveError),
}

#[derive(Debug, Deserialize)]
struct Layered {
    target: String,
    seed: u64,
    scale: f64,
    workers: usize,
    buffer_rows: Option<usize>,
    batch_rows: usize,
    max_restarts: u32,
    backoff_ms: u64,
    strategy: String,
    shard: String,
    max_rows: u64,
}

/// The settings held as whole numbers: from the environment they must
/// read as one (the configuration layer would round `1.5` to 2).
const WHOLE: [&str; 7] = [
    "seed",
    "workers",
    "buffer_rows",
    "batch_rows",
    "max_restarts",
    "backoff_ms",
    "max_rows",
];

/// Parses `K/N`: the `K`-th (0-based) of `N` shards.
pub fn parse_shard(text: &str) -> Result<Shard, SettingsError> {
    let invalid = || {
        SettingsError::Invalid(format!(
            "shard must be K/N, the K-th of N shards numbered from 0 (0/4, 1/4, 2/4, 3/4), found `{text}`"
        ))
    };
    let (k, n) = text.trim().split_once('/').ok_or_else(invalid)?;
    let index: u64 = k.trim().parse().map_err(|_| invalid())?;
    let count: u64 = n.trim().parse().map_err(|_| invalid())?;
    if count == 0 || index >= count {
        return Err(invalid());
    }
    Ok(Shard { index, count })
}

/// The default target of a Genfile that names none: `out/STEM.db`.
pub fn default_target(schema: &Schema) -> String {
    let stem = schema
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "datagen".into());
    registry::default_url(&stem)
}

/// The seed and the row limit of a `preview`: `seed` if given, else
/// `DATAGEN_SEED`, else the Genfile's — the rows a run with the same
/// settings writes.
pub fn preview(schema: &Schema, seed: Option<u64>) -> Result<(u64, u64), SettingsError> {
    let whole = |var: &str| -> Result<Option<u64>, SettingsError> {
        match std::env::var(var) {
            Ok(value) => value.trim().parse::<u64>().map(Some).map_err(|_| {
                SettingsError::Invalid(format!(
                    "{var}: must be a whole number, 0 or more, found `{value}`"
                ))
            }),
            Err(_) => Ok(None),
        }
    };
    let env_seed = whole("DATAGEN_SEED")?;
    let max_rows = whole("DATAGEN_MAX_ROWS")?.unwrap_or(DEFAULT_MAX_ROWS);
    Ok((seed.or(env_seed).unwrap_or(schema.seed), max_rows))
}

/// Layers the Genfile's settings, `env` (the process environment when `None`)
/// and the command line.
pub fn resolve(
    schema: &Schema,
    cli: &Overrides,
    env: Option<HashMap<String, String>>,
) -> Result<Settings, SettingsError> {
    let invalid = |e: config::ConfigError| SettingsError::Invalid(e.to_string());
    let p = &schema.pipeline;
    let target = schema
        .target
        .url()
        .map_or_else(|| default_target(schema), str::to_owned);
    let mut builder = config::Config::builder()
        .set_default("target", target)
        .and_then(|b| b.set_default("seed", schema.seed))
        .and_then(|b| b.set_default("scale", 1.0))
        .and_then(|b| b.set_default("workers", p.workers as u64))
        .and_then(|b| b.set_default("batch_rows", p.batch_rows as u64))
        .and_then(|b| b.set_default("max_restarts", u64::from(p.max_restarts)))
        .and_then(|b| b.set_default("backoff_ms", p.backoff_ms))
        .and_then(|b| b.set_default("strategy", p.strategy.name()))
        .and_then(|b| b.set_default("shard", "0/1"))
        .and_then(|b| b.set_default("max_rows", DEFAULT_MAX_ROWS))
        .map_err(invalid)?;
    if let Some(rows) = p.buffer_rows {
        builder = builder
            .set_default("buffer_rows", rows as u64)
            .map_err(invalid)?;
    }
    let env = env.unwrap_or_else(|| {
        std::env::vars()
            .filter(|(k, _)| k.starts_with("DATAGEN_"))
            .collect()
    });
    // Every value from the environment is checked here, each problem
    // naming its variable, all reported together.
    let mut problems = Vec::new();
    for key in WHOLE {
        let var = format!("DATAGEN_{}", key.to_ascii_uppercase());
        if let Some(value) = env.get(&var) {
            match value.trim().parse::<u64>() {
                Ok(0) if ["batch_rows", "buffer_rows"].contains(&key) => {
                    problems.push(format!("{var}: must be at least 1, found 0"))
                }
                Ok(_) => {}
                Err(_) => problems.push(format!(
                    "{var}: must be a whole number, 0 or more, found `{value}`"
                )),
            }
        }
    }
    if let Some(value) = env.get("DATAGEN_SCALE") {
        if !value
            .trim()
            .parse::<f64>()
            .is_ok_and(|f| f.is_finite() && f >= 0.0)
        {
            problems.push(format!(
                "DATAGEN_SCALE: must be a finite number, 0 or more, found `{value}`"
            ));
        }
    }
    if let Some(value) = env.get("DATAGEN_STRATEGY") {
        if datagen_actors::Strategy::parse(value.trim()).is_none() {
            problems.push(format!(
                "DATAGEN_STRATEGY: must be one_for_one, one_for_all or rest_for_one, found `{value}`"
            ));
        }
    }
    if let Some(value) = env.get("DATAGEN_SHARD").filter(|_| cli.shard.is_none()) {
        if let Err(e) = parse_shard(value) {
            problems.push(format!(
                "DATAGEN_SHARD: {}",
                e.to_string().trim_start_matches("invalid setting: ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(SettingsError::Invalid(
            problems.join("\nerror: invalid setting: "),
        ));
    }
    let environment = config::Environment::with_prefix("DATAGEN")
        .try_parsing(true)
        .source(Some(env.clone()));
    let layered: Layered = builder
        .add_source(environment)
        .set_override_option("target", cli.target.clone())
        .and_then(|b| b.set_override_option("seed", cli.seed))
        .and_then(|b| b.set_override_option("scale", cli.scale))
        .and_then(|b| b.set_override_option("workers", cli.workers.map(|w| w as u64)))
        .and_then(|b| b.set_override_option("shard", cli.shard.clone()))
        .and_then(|b| b.set_override_option("max_rows", cli.max_rows))
        .and_then(|b| b.build())
        .and_then(|c| c.try_deserialize())
        .map_err(invalid)?;

    if !(layered.scale.is_finite() && layered.scale >= 0.0) {
        return Err(SettingsError::Invalid(format!(
            "--scale: must be a finite number, 0 or more, found {}",
            layered.scale
        )));
    }
    if layered.batch_rows == 0 || layered.buffer_rows == Some(0) {
        return Err(SettingsError::Invalid(
            "batch_rows and buffer_rows must be at least 1".into(),
        ));
    }
    let workers = match layered.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let shard = parse_shard(&layered.shard)?;
    Ok(Settings {
        target: registry::resolve(&layered.target, &schema.target, &env, shard)?,
        seed: layered.seed,
        scale: layered.scale,
        workers,
        buffer_rows: layered.buffer_rows,
        batch_rows: layered.batch_rows,
        restart_policy: datagen_actors::RestartPolicy {
            max_restarts: layered.max_restarts,
            window: std::time::Duration::from_secs(p.restart_window_s),
            backoff: std::time::Duration::from_millis(layered.backoff_ms),
            max_backoff: std::time::Duration::from_secs(10),
            strategy: datagen_actors::Strategy::parse(layered.strategy.trim())
                .unwrap_or(p.strategy),
        },
        shard,
        max_rows: layered.max_rows,
    })
}
