//! Maps a schema and its settings onto the actor pipeline and runs it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use datagen_actors::{
    run_supervised, BoxError, Generator, PipelineConfig, PipelineError, PipelineStats, Restarts,
};

use crate::chaos::{ChaosGenerator, ChaosSink, ChaosSpec, ChaosState};

use crate::generate::{Generators, Plan, Spare, Unit};
use crate::generators::Uniqueness;
use crate::genfile::schema::{Gen, Schema};
use crate::progress::{Progress, Reporter};
use crate::settings::Settings;
use crate::target::checkpoint::Committed;
use crate::target::files::{FileError, FileOptions, FileSink, Layout};
use crate::target::postgres::{PgError, PgOptions, PgSink};
use crate::target::sqlite::{SqliteError, SqliteSink};
use crate::target::{BlockEncoder, TargetUrl};
use crate::value::{Block, Encoded};

/// Rows per work unit (all tables of the unit together).
pub const UNIT_ROWS: u64 = 4_096;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be opened or prepared; nothing was written.
    #[error(transparent)]
    Sqlite(#[from] SqliteError),
    /// The PostgreSQL target could not be prepared; no row was written.
    #[error(transparent)]
    Postgres(#[from] PgError),
    /// A file target could not be prepared; nothing was published.
    #[error(transparent)]
    Files(#[from] FileError),
    /// Rows reference a table that has none.
    #[error("table `{table}` references `{target}`, which has no rows")]
    EmptyReference {
        /// The referencing table.
        table: String,
        /// The referenced table.
        target: String,
    },
    /// A `unique` integer column has fewer values than rows.
    #[error(
        "column `{table}.{column}` is unique but its range holds {span} values for {rows} rows\n  help: widen `min`..`max` or lower the row count"
    )]
    DomainTooSmall {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Values in `min..=max`.
        span: u128,
        /// Rows of the table.
        rows: u64,
    },
    /// The pipeline failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The pipeline failed and went on failing after restarts.
    #[error("gave up after {restarts} restarts: {error}")]
    GaveUp {
        /// Restarts made.
        restarts: u32,
        /// The last failure.
        #[source]
        error: PipelineError,
    },
    /// The actor system could not be started.
    #[error("cannot start the pipeline: {0}")]
    Runtime(#[from] std::io::Error),
    /// Stopped by a signal; what was committed stays, resumable.
    #[error("interrupted: {rows} rows are committed in {target}")]
    Interrupted {
        /// Rows committed in all (this run and those it resumed).
        rows: u64,
        /// Where.
        target: String,
        /// Whether `--resume` can finish the run.
        resumable: bool,
    },
}

impl RunError {
    /// The exit code: 2 when the input asks for the impossible, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::DomainTooSmall { .. }
            | RunError::Sqlite(SqliteError::TableExists { .. } | SqliteError::Resume(_))
            | RunError::Postgres(
                PgError::TableExists { .. }
                | PgError::ColumnType { .. }
                | PgError::Resume(_)
                | PgError::Shard(_),
            )
            | RunError::Files(FileError::Exists { .. } | FileError::Resume(_)) => 2,
            RunError::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

/// How a run is carried out, beyond its settings.
#[derive(Debug, Clone, Default)]
pub struct RunMode {
    /// No progress and no start line.
    pub quiet: bool,
    /// Finish an interrupted run from the target's checkpoint.
    pub resume: bool,
    /// Set (by SIGINT or SIGTERM) to stop gracefully: no new work is
    /// started, what is in flight is committed, and the target is left as
    /// `--resume` finds it.
    pub stop: Arc<AtomicBool>,
    /// Faults to inject (`--chaos`).
    pub chaos: ChaosSpec,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct Summary {
    /// `(table, rows)` in schema order.
    pub tables: Vec<(String, u64)>,
    /// Pipeline statistics.
    pub stats: PipelineStats,
    /// The buffer capacity used.
    pub buffer_rows: usize,
    /// Where the rows went.
    pub target: String,
    /// What the Supervisor restarted.
    pub restarts: Restarts,
    /// The slice of the run written.
    pub shard: crate::shard::Shard,
}

impl Summary {
    /// Rows of all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self.tables.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
        for (table, rows) in &self.tables {
            writeln!(f, "  {table:<width$}  {rows:>12} rows")?;
        }
        let secs = self.stats.elapsed.as_secs_f64();
        if !self.shard.is_whole() {
            write!(f, "shard {} of {}: ", self.shard.index, self.shard.count)?;
        }
        writeln!(
            f,
            "{} rows in {secs:.2} s ({:.0} rows/s) → {}",
            self.rows(),
            self.rows() as f64 / secs.max(1e-9),
            self.target
        )?;
        write!(
            f,
            "pipeline: {} batches, buffer {} rows (peak {}), source blocked {:.2} s, target starved {:.2} s",
            self.stats.target.batches,
            self.buffer_rows,
            self.stats.buffer.peak_rows,
            self.stats.source.blocked.as_secs_f64(),
            self.stats.target.starved.as_secs_f64()
        )?;
        let r = &self.restarts;
        if r.total() > 0 {
            write!(
                f,
                "\nsupervision: {} restarts (source {}, target {}, other {}), {:.2} s lost",
                r.total(),
                r.source,
                r.target,
                r.other,
                r.lost.as_secs_f64()
            )?;
            for (i, cause) in r.causes.iter().enumerate() {
                write!(f, "\n  restart {}: {cause}", i + 1)?;
            }
        }
        Ok(())
    }
}

/// Default rows per PostgreSQL transaction: large enough that commits cost
/// little, small enough that a unit's COPY streams stay a few megabytes.
pub const COMMIT_ROWS: u64 = 50_000;

/// Identifies a run's data: the Genfile's bytes, its dictionaries, the seed
/// and the scale. Loads recorded under another fingerprint are not this
/// run's.
pub fn fingerprint(schema: &Schema, settings: &Settings) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(schema.digest);
    for dict in &schema.dictionaries {
        h.update(dict.name.as_bytes());
        for value in &dict.values {
            h.update([0]);
            h.update(value.as_bytes());
        }
        for w in dict.weights.iter().flatten() {
            h.update(w.to_le_bytes());
        }
    }
    h.update(settings.seed.to_le_bytes());
    h.update(settings.scale.to_le_bytes());
    // The row stream's order depends on how root rows are cut into units.
    h.update(UNIT_ROWS.to_le_bytes());
    let mut out = String::new();
    crate::format::text::hex(&mut out, &h.finalize()[..16]);
    out
}

/// The sink of any target.
#[allow(clippy::large_enum_variant)]
pub enum TargetSink {
    /// SQLite.
    Sqlite(SqliteSink),
    /// PostgreSQL.
    Postgres(Box<PgSink>),
    /// Files or standard output.
    Files(FileSink),
}

impl datagen_actors::Sink for TargetSink {
    type Chunk = Block;

    fn write(&mut self, batch: Vec<Block>) -> Result<(), BoxError> {
        match self {
            TargetSink::Sqlite(s) => s.write(batch),
            TargetSink::Postgres(s) => s.write(batch),
            TargetSink::Files(s) => s.write(batch),
        }
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        match self {
            TargetSink::Sqlite(s) => s.finish(),
            TargetSink::Postgres(s) => s.finish(),
            TargetSink::Files(s) => s.finish(),
        }
    }
}

impl TargetSink {
    /// What the target already holds of this run (empty unless resuming).
    pub fn committed(&self) -> Committed {
        match self {
            TargetSink::Sqlite(s) => s.committed().clone(),
            TargetSink::Postgres(s) => s.committed().clone(),
            TargetSink::Files(s) => s.committed().clone(),
        }
    }

    /// What encodes blocks for this target on the generator threads; none
    /// for SQLite, which binds values.
    pub fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        match self {
            TargetSink::Sqlite(_) => None,
            TargetSink::Postgres(s) => Some(s.encoder()),
            TargetSink::Files(s) => Some(s.encoder()),
        }
    }

    /// Whether an interrupted run can be finished with `--resume`.
    pub fn resumable(&self) -> bool {
        match self {
            TargetSink::Files(s) => s.resumable(),
            _ => true,
        }
    }
}

/// Opens the target's sink: connects, applies `if_exists`, creates tables or
/// temporary files. Nothing is written or published if this fails.
pub fn open_sink(
    schema: &Arc<Schema>,
    settings: &Settings,
    mode: &RunMode,
    run_rows: u64,
    progress: Arc<Progress>,
) -> Result<TargetSink, RunError> {
    let schema = schema.clone();
    let if_exists = settings.if_exists;
    let resume = crate::target::Resume {
        resume: mode.resume,
        fingerprint: fingerprint(&schema, settings),
        stop: mode.stop.clone(),
    };
    let commit_rows = settings
        .commit_rows
        .unwrap_or(COMMIT_ROWS.max(settings.batch_rows as u64));
    let file_options = FileOptions {
        if_exists,
        commit_rows,
        resume: resume.clone(),
        shard: settings.shard,
    };
    Ok(match &settings.target {
        TargetUrl::Sqlite(path) => TargetSink::Sqlite(SqliteSink::open(
            path,
            schema,
            if_exists,
            commit_rows,
            resume,
            progress,
        )?),
        TargetUrl::Postgres(url) => {
            let options = PgOptions {
                if_exists,
                constraints: settings.constraints,
                commit_rows,
                connections: settings.connections,
                resume,
                shard: settings.shard,
                run_rows,
            };
            TargetSink::Postgres(Box::new(PgSink::open(url, schema, options, progress)?))
        }
        TargetUrl::Dir { dir, format } => {
            TargetSink::Files(FileSink::dir(dir, *format, schema, file_options, progress)?)
        }
        TargetUrl::SqlFile { path, dialect } => TargetSink::Files(FileSink::single(
            Some(path),
            crate::target::FileFormat::Sql(*dialect),
            schema,
            file_options,
            progress,
        )?),
        TargetUrl::Stdout(format) => TargetSink::Files(FileSink::single(
            None,
            *format,
            schema,
            file_options,
            progress,
        )?),
    })
}

/// Generates units of work on a worker thread and, for targets that write
/// bytes, encodes them there too.
pub struct UnitGenerator {
    generators: Arc<Generators>,
    encoder: Option<Arc<dyn BlockEncoder>>,
    spare: Spare,
    /// Encoded bytes of each table's last block: the next one's capacity.
    sizes: Vec<usize>,
}

impl UnitGenerator {
    /// A generator thread's state; `encoder` is the target's, if any.
    pub fn new(generators: Arc<Generators>, encoder: Option<Arc<dyn BlockEncoder>>) -> Self {
        UnitGenerator {
            generators,
            encoder,
            spare: Spare::default(),
            sizes: Vec::new(),
        }
    }
}

impl Generator for UnitGenerator {
    type Unit = Unit;
    type Chunk = Block;

    fn generate(&mut self, unit: Unit) -> Result<Vec<Block>, BoxError> {
        let mut blocks =
            self.generators
                .generate_reusing(unit.root, unit.rows, &unit.starts, &mut self.spare);
        let mut stream = unit.stream;
        for block in &mut blocks {
            block.stream = stream;
            stream += block.len() as u64;
            if let Some(encoder) = &self.encoder {
                if self.sizes.len() <= block.table {
                    self.sizes.resize(block.table + 1, 0);
                }
                let size = &mut self.sizes[block.table];
                let mut encoded = Encoded {
                    bytes: Vec::with_capacity(*size + *size / 8),
                    ends: Vec::new(),
                };
                encoder.encode(block, &mut encoded)?;
                *size = encoded.bytes.len();
                block.encoded = Some(encoded);
                self.spare.recycle(block);
            }
        }
        Ok(blocks)
    }
}

/// Bytes of memory available to this process, if the system says.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes a buffered row of the widest table takes, roughly.
fn row_bytes(schema: &Schema) -> u64 {
    let per_value = std::mem::size_of::<crate::value::Value>() as u64;
    schema
        .tables
        .iter()
        .map(|t| {
            t.columns
                .iter()
                .map(|c| {
                    let text = match &c.gen {
                        Gen::Catalogue(g) => g.spec.text_bytes(),
                        _ => 0,
                    };
                    per_value + text
                })
                .sum::<u64>()
        })
        .max()
        .unwrap_or(64)
}

/// Memory the default buffer may take: 1/256 of what is available, between
/// 4 MiB and 32 MiB.
fn buffer_budget() -> u64 {
    let memory = available_memory().unwrap_or(1 << 30);
    (memory / 256).clamp(4 << 20, 32 << 20)
}

/// The buffer capacity: as configured, or the memory budget (1/256 of
/// available memory, 4 to 32 MiB) divided by the estimated size of a row of
/// the widest table, between 10k and 256k rows and at least two batches.
/// Past a few batches a larger buffer buys no speed, only memory; a fixed
/// cap keeps the peak the same whatever the dataset's size.
pub fn buffer_rows(schema: &Schema, settings: &Settings) -> usize {
    if let Some(rows) = settings.buffer_rows {
        return rows;
    }
    let rows = (buffer_budget() / row_bytes(schema)).clamp(10_000, 262_144) as usize;
    rows.max(2 * settings.batch_rows)
}

/// The buffer's estimated size when full, in bytes.
pub fn buffer_bytes(schema: &Schema, rows: usize) -> u64 {
    rows as u64 * row_bytes(schema)
}

/// Plans a run at `seed` and `scale`: row counts (drawn on `threads`
/// threads), work units of about `unit_rows` rows, and the generators.
/// Refuses what cannot be generated (a unique range smaller than its table,
/// references to an empty table) before anything is written.
pub fn plan(
    schema: &Schema,
    seed: u64,
    scale: f64,
    unit_rows: u64,
    threads: usize,
) -> Result<(Plan, Arc<Generators>), RunError> {
    let counts = Generators::new(schema, seed, &vec![0; schema.tables.len()]);
    let plan = Plan::on_threads(schema, &counts, scale, unit_rows, threads);
    for (i, table) in schema.tables.iter().enumerate() {
        if plan.table_rows[i] == 0 {
            continue;
        }
        for column in &table.columns {
            if let (true, Gen::Catalogue(g)) = (column.unique, &column.gen) {
                match g.spec.uniqueness() {
                    Uniqueness::Space(span) if u128::from(plan.table_rows[i]) > span => {
                        return Err(RunError::DomainTooSmall {
                            table: table.name.clone(),
                            column: column.name.clone(),
                            span,
                            rows: plan.table_rows[i],
                        });
                    }
                    _ => {}
                }
            }
            if let Gen::Ref { table: t, .. } = column.gen {
                if plan.table_rows[t] == 0 && column.null_rate < 1.0 {
                    return Err(RunError::EmptyReference {
                        table: table.name.clone(),
                        target: schema.tables[t].name.clone(),
                    });
                }
            }
        }
    }
    let generators = Arc::new(Generators::new(schema, seed, &plan.table_rows));
    Ok((plan, generators))
}

/// Runs the whole pipeline for `schema` with `settings`; blocks until done.
pub fn run(schema: Arc<Schema>, settings: &Settings, mode: &RunMode) -> Result<Summary, RunError> {
    let quiet = mode.quiet;
    let (mut plan, generators) = plan(
        &schema,
        settings.seed,
        settings.scale,
        UNIT_ROWS,
        settings.workers,
    )?;
    if !settings.shard.is_whole() {
        plan.shard(settings.shard, &generators);
    }
    let buffer = buffer_rows(&schema, settings);
    tracing::info!(
        target = %settings.target,
        seed = settings.seed,
        workers = settings.workers,
        buffer_rows = buffer,
        batch_rows = settings.batch_rows,
        rows = plan.shard_total(),
        shard = %settings.shard,
        "starting"
    );
    if !quiet {
        let shard = if settings.shard.is_whole() {
            String::new()
        } else {
            format!(
                "shard {} of {} ({} of {} rows): ",
                settings.shard.index,
                settings.shard.count,
                plan.shard_total(),
                plan.total_rows()
            )
        };
        eprintln!(
            "datagen: {shard}{} rows in {} tables → {} (seed {}, {} workers, buffer {} rows ≈ {} MB, batches of {})",
            plan.shard_total(),
            schema.tables.len(),
            settings.target,
            settings.seed,
            settings.workers,
            buffer,
            buffer_bytes(&schema, buffer).div_ceil(1 << 20),
            settings.batch_rows
        );
    }
    let progress = Arc::new(Progress::new(schema.tables.len(), plan.shard_total()));
    let fresh_sqlite = match &settings.target {
        TargetUrl::Sqlite(path) if !path.exists() => Some(path.clone()),
        _ => None,
    };
    let sink = open_sink(&schema, settings, mode, plan.total_rows(), progress.clone())?;
    let resumable = sink.resumable();
    let encoder = sink.encoder();
    if !sink.committed().is_empty() && !quiet {
        // A shard sees what every shard of the load has committed.
        eprintln!(
            "datagen: resuming: {} of {} rows {}are committed already",
            sink.committed().rows(),
            plan.total_rows(),
            if settings.shard.is_whole() {
                ""
            } else {
                "of the load (all shards) "
            }
        );
    }
    let mut config = PipelineConfig::new(buffer, settings.batch_rows, settings.workers);
    config.ack_delay = mode.chaos.buffer_delay;
    if encoder.is_none() {
        // Units waiting in the window hold values, not bytes, and the
        // target (SQLite) is slower than generation: a shallow window
        // keeps the same speed in less memory.
        config.window = 2 * settings.workers;
    }
    let chaos_state = Arc::new(ChaosState::default());
    let make_generator = {
        let (spec, state) = (mode.chaos.clone(), chaos_state.clone());
        let generators = generators.clone();
        move || {
            ChaosGenerator::new(
                UnitGenerator::new(generators.clone(), encoder.clone()),
                &spec,
                state.clone(),
            )
        }
    };
    let mut first = Some(sink);
    let (mut last_committed, mut stalled) = (0, 0);
    let attempt = |n: u32| -> Result<_, BoxError> {
        let sink = match first.take() {
            Some(sink) => sink,
            None => {
                // Rebuilt from the target's checkpoint: a database target
                // continues where its commits end; a file target, which
                // published nothing, starts over. Opened on a thread of its
                // own: a target may run its own async runtime.
                progress.reset();
                let again = RunMode {
                    resume: resumable,
                    ..mode.clone()
                };
                tracing::info!(attempt = n, "reopening the target");
                std::thread::scope(|scope| {
                    scope
                        .spawn(|| {
                            open_sink(
                                &schema,
                                settings,
                                &again,
                                plan.total_rows(),
                                progress.clone(),
                            )
                        })
                        .join()
                })
                .map_err(|_| "reopening the target panicked")??
            }
        };
        let committed = sink.committed();
        // Restarts that never get past the same checkpoint would go on
        // for ever (a fault more frequent than commits, or than a whole
        // run of a file target): give up after as many as the policy allows.
        if n > 0 {
            stalled = if committed.rows() > last_committed {
                0
            } else {
                stalled + 1
            };
            if stalled > settings.restart_policy.max_restarts {
                return Err(format!(
                    "no rows committed across {stalled} restarts; the faults come faster than commits"
                )
                .into());
            }
        }
        last_committed = committed.rows();
        // Units wholly committed are not generated again; the sink drops
        // the committed rows of the others.
        let stop = mode.stop.clone();
        let units = plan
            .units(generators.clone())
            .filter(move |u| !committed.covers(u.stream, u.stream + u.total))
            .take_while(move |_| !stop.load(Ordering::Relaxed));
        Ok((
            units,
            ChaosSink::new(sink, mode.chaos.clone(), chaos_state.clone()),
        ))
    };
    let reporter = Reporter::start(progress.clone(), quiet);
    let system = actix_rt::System::new();
    let mut policy = settings.restart_policy;
    if settings.target.is_stdout() {
        // What reached standard output cannot be taken back: no restarts.
        policy.max_restarts = 0;
    }
    let supervised = system
        .block_on(async move { run_supervised(config, policy, make_generator, attempt).await });
    drop(reporter);
    let restarts = supervised.restarts;
    let stats = match supervised.result {
        Ok(stats) => stats,
        Err(error) => {
            // Nothing was published; leave nothing behind.
            if let Some(path) = fresh_sqlite {
                crate::target::sqlite::discard(&path);
            }
            match &settings.target {
                TargetUrl::Dir { dir, format } => {
                    Layout::dir(dir, &schema, *format, settings.shard).discard()
                }
                TargetUrl::SqlFile { path, .. } => {
                    Layout::single(path, schema.tables.len()).discard()
                }
                _ => {}
            }
            return Err(if restarts.total() > 0 {
                RunError::GaveUp {
                    restarts: restarts.total(),
                    error,
                }
            } else {
                RunError::Pipeline(error)
            });
        }
    };
    if mode.stop.load(Ordering::Relaxed) {
        return Err(RunError::Interrupted {
            rows: progress.rows(),
            target: settings.target.to_string(),
            resumable,
        });
    }
    let tables = schema
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), progress.table(i)))
        .collect();
    Ok(Summary {
        tables,
        stats,
        buffer_rows: buffer,
        target: settings.target.to_string(),
        restarts,
        shard: settings.shard,
    })
}
