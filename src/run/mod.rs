//! Runs a schema with its settings: plans it, opens the target, builds the
//! actor pipeline of `datagen-actors` and runs it under the restart policy.
//! The target is reached only through [`crate::sink::Target`]: this module
//! names none.
//!
//! * [`units`]: what the generator threads do, and the buffer's size.
//! * [`summary`]: what a finished run reports.

pub mod stream;
pub mod summary;
pub mod units;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use datagen_actors::{run_supervised, BoxError, PipelineConfig, PipelineError, Rebuild, Sink};

use crate::chaos::{ChaosGenerator, ChaosSink, ChaosSpec, ChaosState};
use crate::failure::{kind_of, ErrorKind, Failure};
use crate::generate::plan::{plan, Limits, PlanError};
use crate::generate::Plan;
use crate::progress::{Progress, Reporter};
use crate::schema::Schema;
use crate::settings::Settings;
use crate::sink::{CommitScale, Every, OpenArgs, Resume, TargetSink};
use crate::value::Block;
pub use summary::Summary;
use units::{buffer_bytes, buffer_rows, UnitGenerator, Work};

/// Rows per work unit (all tables of the unit together).
pub const UNIT_ROWS: u64 = 4_096;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be opened or prepared; nothing was written.
    #[error(transparent)]
    Target(#[from] Failure),
    /// The Genfile asks for what cannot be generated.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The pipeline failed.
    #[error("the run failed")]
    Pipeline {
        /// The failure.
        #[source]
        error: PipelineError,
        /// What stays committed for `--resume`, if the run kept it.
        kept: Option<Kept>,
    },
    /// The pipeline failed and went on failing after restarts.
    #[error("gave up after {restarts} restarts")]
    GaveUp {
        /// Restarts made.
        restarts: u32,
        /// The last failure.
        #[source]
        error: PipelineError,
        /// What stays committed for `--resume`, if the run kept it.
        kept: Option<Kept>,
    },
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
    /// The exit code: 2 when the input asks for the impossible, 130 when
    /// interrupted, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Target(e) if e.kind == ErrorKind::Input => 2,
            RunError::Pipeline { error: e, .. } | RunError::GaveUp { error: e, .. }
                if kind_of(e) == ErrorKind::Input =>
            {
                2
            }
            RunError::Plan(e) => e.exit_code(),
            RunError::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

/// A sink whose written rows show on the progress bar before they are
/// committed.
struct Counted {
    inner: Box<dyn TargetSink>,
    progress: Arc<Progress>,
    /// Bytes of the rows written (see [`Summary::bytes`]).
    bytes: Arc<std::sync::atomic::AtomicU64>,
}

impl Sink for Counted {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        let rows: usize = batch.iter().map(Block::len).sum();
        let bytes: usize = batch
            .iter()
            .map(|b| match &b.encoded {
                Some(e) => e.data().len(),
                None => b.values.len() * std::mem::size_of::<crate::value::Value>() + b.text.len(),
            })
            .sum();
        self.inner.write(batch)?;
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.progress.wrote(rows as u64);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.inner.finish()
    }

    fn durable(&self) -> Option<u64> {
        self.inner.durable()
    }
}

/// Restarts that never get past the same checkpoint with commit units of
/// one batch: the faults come faster than commits, and the run stops.
const STALLED_AT_ONE_BATCH: u32 = 2;

/// What a failed run leaves committed for `--resume`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Rows committed in all.
    pub rows: u64,
    /// Where.
    pub target: String,
}

impl RunError {
    /// What the run left committed for `--resume`, if it failed and kept it.
    pub fn kept(&self) -> Option<&Kept> {
        match self {
            RunError::Pipeline { kept, .. } | RunError::GaveUp { kept, .. } => kept.as_ref(),
            _ => None,
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
    /// `datagen stream`: the rows as a stream, as `[stream]` says.
    pub stream: bool,
}

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

/// What opening a sink needs, owned: the Supervisor opens sinks again
/// long after `run` has set out.
struct Opener {
    schema: Arc<Schema>,
    fingerprint: String,
    stop: Arc<AtomicBool>,
    honoured: Arc<AtomicBool>,
    batch_rows: usize,
    run_rows: u64,
    shard: crate::shard::Shard,
    progress: Arc<Progress>,
    commit_scale: Arc<CommitScale>,
    drop_connection_every: Option<Every>,
    stream: bool,
    /// Which tables the first sink created.
    created: Arc<std::sync::Mutex<Option<Vec<bool>>>>,
}

impl Opener {
    fn args(&self, resume: bool, restart: bool) -> OpenArgs {
        OpenArgs {
            schema: self.schema.clone(),
            resume: Resume {
                resume,
                restart,
                created: self.created.clone(),
                fingerprint: self.fingerprint.clone(),
                stop: self.stop.clone(),
                honoured: self.honoured.clone(),
            },
            batch_rows: self.batch_rows,
            run_rows: self.run_rows,
            shard: self.shard,
            progress: self.progress.clone(),
            commit_scale: self.commit_scale.clone(),
            drop_connection_every: self.drop_connection_every.clone(),
            stream: self.stream,
        }
    }
}

/// The work units of an attempt: the plan's, less what is committed,
/// until a signal stops the run.
type Units = Box<dyn Iterator<Item = Work> + Send>;

/// What the Supervisor builds each attempt from: the first sink, then
/// sinks opened again from the target's checkpoint.
struct Attempts {
    first: Option<Box<dyn TargetSink>>,
    target: Arc<dyn crate::sink::Target>,
    opener: Opener,
    plan: Arc<Plan>,
    generators: Arc<crate::generate::Generators>,
    /// Per table, whether its rows are written (a stream may leave some
    /// out); `None`: all are.
    emit: Option<Arc<Vec<bool>>>,
    chaos: (crate::chaos::ChaosSpec, Arc<ChaosState>),
    last_committed: u64,
    /// Rebuilds in a row that found no more rows committed.
    stalled: u32,
    /// Set to start no more units (a signal; a stream's end).
    end: Arc<AtomicBool>,
    max_restarts: u32,
    started: std::time::Instant,
    /// Bytes of the rows written, every attempt together.
    bytes: Arc<std::sync::atomic::AtomicU64>,
}

impl Attempts {
    /// The units and sink of build `n` (0: the first).
    fn next(&mut self, n: u32, what: Rebuild) -> Result<(Units, ChaosSink<Counted>), BoxError> {
        let sink: Box<dyn TargetSink> = match self.first.take() {
            Some(sink) => sink,
            None => {
                // Rebuilt from the target's checkpoint: the new sink holds
                // what the attempts before committed and the run continues
                // after it. Commit units shrink, so that faults between
                // commits let some through. Opened on a thread of its own:
                // a target may run its own async runtime.
                self.opener.commit_scale.halve();
                // A resumable target's new sink counts what is committed
                // again; a Target replaced alone in one that is not (null)
                // keeps what the old one counted, and is given the rest.
                if what == Rebuild::All || self.target.resumable() {
                    self.opener.progress.reset();
                }
                tracing::info!(attempt = n, ?what, "reopening the target");
                let args = self.opener.args(self.target.resumable(), true);
                let target = &self.target;
                std::thread::scope(|scope| scope.spawn(|| target.open(&args)).join())
                    .map_err(|_| "reopening the target panicked")??
            }
        };
        let committed = sink.committed().clone();
        if n > 0 {
            self.stall(committed.rows())?;
        }
        self.last_committed = committed.rows();
        // Units wholly committed are not generated again; the sink drops
        // the committed rows of the others.
        let (stop, cut) = (self.end.clone(), self.opener.honoured.clone());
        let checkpoint = (!committed.is_empty()).then(|| Arc::new(committed.clone()));
        let emit = self.emit.clone();
        // The stop is heard before committed units are skipped: a stream
        // may skip a long way.
        let units: Units = Box::new(
            self.plan
                .units(self.generators.clone())
                .take_while(move |_| {
                    let stopped = stop.load(Ordering::Relaxed);
                    if stopped {
                        cut.store(true, Ordering::Relaxed);
                    }
                    !stopped
                })
                .filter(move |u| !units::done(u, &committed, emit.as_deref()))
                .map({
                    let emit = self.emit.clone();
                    move |unit| Work {
                        unit,
                        committed: checkpoint.clone(),
                        emit: emit.clone(),
                    }
                }),
        );
        let counted = Counted {
            inner: sink,
            progress: self.opener.progress.clone(),
            bytes: self.bytes.clone(),
        };
        Ok((
            units,
            ChaosSink::new(counted, self.chaos.0.clone(), self.chaos.1.clone()),
        ))
    }

    /// Fails when restarts no longer get past the same checkpoint with
    /// commit units as small as they get (or across as many restarts as
    /// the policy allows): the faults come faster than commits, and more
    /// restarts would only spend time.
    fn stall(&mut self, committed: u64) -> Result<(), BoxError> {
        // A target that keeps nothing (null://) shows no progress here;
        // the Supervisor's own count of fruitless failures covers it.
        if committed > self.last_committed || !self.target.resumable() {
            self.stalled = 0;
            return Ok(());
        }
        let smallest = self.opener.commit_scale.at_floor();
        self.stalled += 1;
        if (smallest && self.stalled > STALLED_AT_ONE_BATCH) || self.stalled > self.max_restarts {
            return Err(format!(
                "stalled: no rows committed across {} restarts{}; the faults come faster than commits ({} of {} rows committed after {:.1} s)",
                self.stalled,
                if smallest { " with commits of one batch" } else { "" },
                committed,
                self.plan.total_rows(),
                self.started.elapsed().as_secs_f64()
            )
            .into());
        }
        Ok(())
    }
}

/// Prints what the run is about to do.
fn announce(schema: &Schema, settings: &Settings, plan: &Plan, buffer: usize) {
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
        buffer_bytes(schema, buffer).div_ceil(1 << 20),
        settings.batch_rows
    );
}

/// Runs the whole pipeline for `schema` with `settings`; blocks until done.
pub fn run(schema: Arc<Schema>, settings: &Settings, mode: &RunMode) -> Result<Summary, RunError> {
    let quiet = mode.quiet;
    let problems = settings.target.check(&schema);
    if !problems.is_empty() {
        return Err(PlanError::Invalid(schema.located(problems)).into());
    }
    let limits = Limits {
        max_rows: settings.max_rows,
        stop: Some(&mode.stop),
    };
    if !settings.shard.is_whole() && settings.target.continues() {
        return Err(RunError::Target(Failure::new(
            ErrorKind::Input,
            format!(
                "{} keeps one checkpoint for one stream of rows: shards would share it\n  help: shard into csv://, jsonl:// or a database, or leave out --shard",
                settings.target
            ),
        )));
    }
    if mode.stream && !settings.shard.is_whole() {
        return Err(RunError::Target(Failure::new(
            ErrorKind::Input,
            "a stream cannot be sharded: it is one ordered sequence of rows\n  help: leave out --shard (or DATAGEN_SHARD); run several streams with different seeds for more load",
        )));
    }
    let planned = if mode.stream {
        crate::generate::stream::plan(
            &schema,
            settings.seed,
            settings.scale,
            UNIT_ROWS,
            settings.workers,
            &limits,
        )
        .map(|(plan, generators, shape)| (plan, generators, Some(shape)))
    } else {
        plan(
            &schema,
            settings.seed,
            settings.scale,
            UNIT_ROWS,
            settings.workers,
            &limits,
        )
        .map(|(plan, generators)| (plan, generators, None))
    };
    let (mut plan, generators, shape) = match planned {
        Ok(planned) => planned,
        Err(PlanError::Interrupted) => {
            return Err(RunError::Interrupted {
                rows: 0,
                target: settings.target.to_string(),
                resumable: false,
            })
        }
        Err(e) => return Err(e.into()),
    };
    if !settings.shard.is_whole() {
        plan.shard(settings.shard, &generators);
    }
    // A stream's buffer is two batches unless set: what is buffered is
    // still written when the stream ends, and a broker drains it slowly.
    let buffer = match (mode.stream, settings.buffer_rows) {
        (true, None) => 2 * settings.batch_rows,
        _ => buffer_rows(&schema, settings),
    };
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
    let endless = shape.as_ref().is_some_and(|s| s.endless.is_some());
    if !quiet {
        match &shape {
            Some(shape) => stream::announce(&schema, settings, &plan, shape),
            None => announce(&schema, settings, &plan, buffer),
        }
    }
    let total = if endless {
        u64::MAX
    } else {
        plan.shard_total()
    };
    let progress = Arc::new(Progress::new(schema.tables.len(), total));
    let gauge = Arc::new(crate::progress::Gauge {
        target: match schema.stream.rate {
            crate::schema::stream::Rate::PerSecond(r) => Some(r),
            crate::schema::stream::Rate::Max => None,
        },
        profile: schema.stream.paced_by_schedule,
        ..Default::default()
    });
    if mode.stream {
        progress.set_stream(gauge.clone());
    }
    let target = settings.target.clone();
    if mode.chaos.drop_connection_every.is_some() && !target.has_connections() {
        return Err(RunError::Target(crate::failure::Failure::new(
            ErrorKind::Input,
            format!(
                "--chaos target.drop_connection_every needs a target with connections (PostgreSQL), not {target}"
            ),
        )));
    }
    // Set when a part of the run leaves work undone because of a signal.
    let honoured = Arc::new(AtomicBool::new(false));
    let chaos_state = Arc::new(ChaosState::default());
    // A stream ends when its duration passes or a signal comes: its
    // target is then finished as at the end of its rows (published,
    // keys added), not left for --resume as an interrupted batch run.
    let sink_stop = if mode.stream {
        Arc::new(AtomicBool::new(false))
    } else {
        mode.stop.clone()
    };
    let opener = Opener {
        schema: schema.clone(),
        fingerprint: fingerprint(&schema, settings),
        stop: sink_stop,
        honoured: honoured.clone(),
        batch_rows: settings.batch_rows,
        run_rows: plan.total_rows(),
        shard: settings.shard,
        progress: progress.clone(),
        commit_scale: Arc::new(CommitScale::default()),
        drop_connection_every: mode.chaos.drop_connection_every.map(|n| Every {
            n,
            count: chaos_state.commits.clone(),
        }),
        created: Arc::default(),
        stream: mode.stream,
    };
    let sink = match target.open(&opener.args(mode.resume, false)) {
        Ok(sink) => sink,
        Err(e) => {
            // What the failed open made (a temporary file, tables) goes;
            // an interrupted run's files stay for the --resume that failed.
            if !mode.resume {
                target.discard(&schema);
            }
            return Err(e.into());
        }
    };
    let encoder = sink.encoder();
    if !sink.committed().is_empty() && !quiet {
        // A shard sees what every shard of the load has committed.
        if endless {
            eprintln!("datagen: resuming the stream after what its target holds");
        } else {
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
    }
    let mut config = PipelineConfig::new(buffer, settings.batch_rows, settings.workers);
    config.ack_delay = mode.chaos.buffer_delay;
    config.window = sink.units_ahead() * settings.workers;
    // A stream's rows leave at its rate, and a batch waits at most its
    // linger to fill.
    let expired = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    if let Some(shape) = &shape {
        config.linger = Some(schema.stream.linger);
        let base = shape.event_base(&schema, &plan.table_rows);
        config.pace =
            stream::StreamPace::new(&schema.stream, base, gauge.clone(), mode.stop.clone())
                .map(|p| Arc::new(p) as Arc<dyn datagen_actors::Pace>);
        if let Some(duration) = schema.stream.duration {
            stream::end_after(duration, mode.stop.clone(), expired.clone(), done.clone());
        }
    }
    let emit = (mode.stream && schema.stream.emit.iter().any(|e| !e))
        .then(|| Arc::new(schema.stream.emit.clone()));
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
    let bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let attempts = Attempts {
        first: Some(sink),
        target: target.clone(),
        opener,
        plan: Arc::new(plan),
        generators: generators.clone(),
        emit,
        chaos: (mode.chaos.clone(), chaos_state),
        last_committed: 0,
        stalled: 0,
        end: mode.stop.clone(),
        max_restarts: settings.restart_policy.max_restarts,
        started: std::time::Instant::now(),
        bytes: bytes.clone(),
    };
    let reporter = Reporter::start(progress.clone(), quiet);
    let system = actix_rt::System::new();
    let mut policy = settings.restart_policy;
    if !target.restartable() {
        policy.max_restarts = 0;
    }
    let mut attempts = attempts;
    let supervised = system.block_on(async move {
        // Only what may go differently the next time is restarted: a
        // lost connection, a panic, an injected fault — not a violated
        // constraint or a full disk.
        let retry = |e: &PipelineError| kind_of(e) == ErrorKind::Transient;
        run_supervised(
            config,
            policy,
            make_generator,
            move |n, what| attempts.next(n, what),
            retry,
        )
        .await
    });
    drop(reporter);
    done.store(true, Ordering::Relaxed);
    let restarts = supervised.restarts;
    let stats = match supervised.result {
        Ok(stats) => stats,
        Err(error) => {
            // Nothing was published. What was committed stays for
            // --resume when the failure may pass (a server gone away, more
            // restarts than the policy allows); after one that will not —
            // bad input, a violated constraint, a full disk, where kept
            // files would only hold the space that is missing — nothing
            // the run created is left behind.
            let rows = progress.rows();
            let kept = (target.resumable() && rows > 0 && kind_of(&error) == ErrorKind::Transient)
                .then(|| Kept {
                    rows,
                    target: target.to_string(),
                });
            if kept.is_none() {
                target.discard(&schema);
            }
            return Err(if restarts.total() > 0 {
                RunError::GaveUp {
                    restarts: restarts.total(),
                    error,
                    kept,
                }
            } else {
                RunError::Pipeline { error, kept }
            });
        }
    };
    let tables: Vec<(String, u64)> = schema
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), progress.table(i)))
        .collect();
    // A stream stopped by its duration or a signal has ended as asked.
    let ended = if !mode.stream {
        None
    } else if expired.load(Ordering::Relaxed) {
        Some(stream::Ended::Duration)
    } else if mode.stop.load(Ordering::Relaxed) {
        Some(stream::Ended::Signal)
    } else {
        Some(stream::Ended::Rows)
    };
    // A signal that came once the target was complete interrupted nothing.
    if honoured.load(Ordering::Relaxed) && !mode.stream {
        return Err(RunError::Interrupted {
            rows: progress.rows(),
            target: target.to_string(),
            resumable: target.resumable(),
        });
    }
    Ok(Summary {
        tables,
        stats,
        buffer_rows: buffer,
        target: target.to_string(),
        restarts,
        shard: settings.shard,
        bytes: bytes.load(Ordering::Relaxed),
        stream: ended.map(|ended| summary::StreamEnd {
            ended,
            resumable: target.continues(),
        }),
    })
}
