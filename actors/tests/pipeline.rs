//! The whole pipeline with real actors: order, batch sizes and failures.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datagen_actors::{
    chain, run_pipeline, run_supervised, BoxError, BufferState, Generator, Origin, PipelineConfig,
    PipelineError, PipelineStats, RestartPolicy, Restarts, Sink, Strategy,
};
use proptest::prelude::*;

/// Generates the row numbers of a range, in two chunks, optionally failing
/// or panicking at a given unit.
#[derive(Clone, Default)]
struct Numbers {
    fail_at: Option<u64>,
    panic_at: Option<u64>,
}

impl Generator for Numbers {
    type Unit = Range<u64>;
    type Chunk = Vec<u64>;

    fn generate(&mut self, unit: Range<u64>) -> Result<Vec<Vec<u64>>, BoxError> {
        if self.fail_at.is_some_and(|at| unit.contains(&at)) {
            return Err(format!("no row {}", unit.start).into());
        }
        if self.panic_at.is_some_and(|at| unit.contains(&at)) {
            panic!("generator panicked on purpose");
        }
        // Uneven pieces so the buffer has to split and join.
        let mid = unit.start + (unit.end - unit.start) / 3;
        Ok(vec![(unit.start..mid).collect(), (mid..unit.end).collect()])
    }
}

#[derive(Default)]
struct Seen {
    batches: Vec<Vec<u64>>,
    finished: bool,
}

struct Collect {
    seen: Arc<Mutex<Seen>>,
    fail_at_batch: Option<usize>,
    delay: Option<Duration>,
}

impl Sink for Collect {
    type Chunk = Vec<u64>;

    fn write(&mut self, batch: &mut Vec<Vec<u64>>) -> Result<(), BoxError> {
        let mut seen = self.seen.lock().unwrap();
        if Some(seen.batches.len()) == self.fail_at_batch {
            return Err("disk on fire".into());
        }
        seen.batches.push(batch.concat());
        if let Some(delay) = self.delay {
            std::thread::sleep(delay);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.seen.lock().unwrap().finished = true;
        Ok(())
    }
}

fn units(rows: u64, unit: u64) -> impl Iterator<Item = Range<u64>> + Send {
    (0..rows.div_ceil(unit)).map(move |i| i * unit..((i + 1) * unit).min(rows))
}

fn run(
    config: PipelineConfig,
    generator: Numbers,
    rows: u64,
    unit: u64,
    sink: Collect,
) -> Result<PipelineStats, PipelineError> {
    actix_rt::System::new().block_on(async move {
        run_pipeline(config, move || generator.clone(), units(rows, unit), sink).await
    })
}

fn collect() -> (Arc<Mutex<Seen>>, Collect) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let sink = Collect {
        seen: seen.clone(),
        fail_at_batch: None,
        delay: None,
    };
    (seen, sink)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_row_arrives_once_in_order_in_exact_batches(
        rows in 0u64..5_000,
        unit in 1u64..700,
        buffer_rows in 1usize..2_000,
        batch_rows in 1usize..1_500,
        workers in 1usize..5,
        window in 1usize..9,
    ) {
        let (seen, sink) = collect();
        let config = PipelineConfig { window, ..PipelineConfig::new(buffer_rows, batch_rows, workers) };
        let stats = run(config, Numbers::default(), rows, unit, sink).expect("the run succeeds");

        let seen = seen.lock().unwrap();
        prop_assert!(seen.finished, "the sink was never finished");
        let all: Vec<u64> = seen.batches.concat();
        prop_assert_eq!(all, (0..rows).collect::<Vec<_>>());
        let batch = batch_rows.min(buffer_rows);
        if let Some((last, full)) = seen.batches.split_last() {
            for b in full {
                prop_assert_eq!(b.len(), batch);
            }
            prop_assert!(!last.is_empty() && last.len() <= batch);
        }
        prop_assert_eq!(stats.source.rows, rows);
        prop_assert_eq!(stats.target.rows, rows);
        prop_assert_eq!(stats.target.batches, seen.batches.len() as u64);
        prop_assert_eq!(stats.buffer.state, BufferState::Closed);
        // The Target was told the Source finished, and the last batch,
        // if short, was the flush.
        prop_assert!(stats.target.source_finished);
        let short = rows % batch as u64;
        prop_assert_eq!(stats.target.remainder_rows, short);
        prop_assert!(stats.buffer.peak_rows <= buffer_rows);
    }
}

/// Every row paced at `rate` a second.
#[derive(Debug)]
struct Every(f64);

impl datagen_actors::Pace for Every {
    fn paced(&self, _: u64) -> bool {
        true
    }
    fn due(&self, rows: u64, _: u64) -> Duration {
        Duration::from_secs_f64(rows as f64 / self.0)
    }
    fn piece_rows(&self) -> usize {
        10
    }
}

#[test]
fn a_paced_source_with_lingering_batches_delivers_every_row_in_order() {
    let (seen, sink) = collect();
    // Batches larger than the whole run: only lingering brings rows out
    // before the end.
    let mut config = PipelineConfig::new(5_000, 5_000, 2);
    config.pace = Some(Arc::new(Every(4_000.0)));
    config.linger = Some(Duration::from_millis(10));
    let stats = run(config, Numbers::default(), 1_000, 100, sink).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.batches.concat(), (0..1_000).collect::<Vec<_>>());
    assert!(
        seen.batches.len() > 1,
        "rows left before the run ended: {} batches",
        seen.batches.len()
    );
    assert!(seen.batches.iter().all(|b| !b.is_empty()));
    assert_eq!(stats.target.rows, 1_000);
}

#[test]
fn a_slow_target_makes_the_source_wait() {
    let (seen, mut sink) = collect();
    sink.delay = Some(Duration::from_millis(2));
    let stats = run(
        PipelineConfig::new(100, 50, 2),
        Numbers::default(),
        2_000,
        100,
        sink,
    )
    .unwrap();
    assert!(
        stats.buffer.pushes_deferred > 0,
        "the source never had to wait: {stats:?}"
    );
    assert!(stats.buffer.peak_rows <= 100);
    assert_eq!(
        seen.lock().unwrap().batches.concat(),
        (0..2_000).collect::<Vec<_>>()
    );
}

#[test]
fn a_generator_error_fails_the_run() {
    let (seen, sink) = collect();
    let generator = Numbers {
        fail_at: Some(1_234),
        ..Numbers::default()
    };
    let err = run(
        PipelineConfig::new(500, 100, 2),
        generator,
        5_000,
        100,
        sink,
    )
    .unwrap_err();
    assert!(matches!(err, PipelineError::Source(_)), "{err:?}");
    assert_eq!(chain(&err), "generating rows failed: no row 1200");
    assert!(
        !seen.lock().unwrap().finished,
        "a failed run must not finish the sink"
    );
}

#[test]
fn a_sink_error_fails_the_run() {
    let (seen, mut sink) = collect();
    sink.fail_at_batch = Some(3);
    let err = run(
        PipelineConfig::new(500, 100, 2),
        Numbers::default(),
        5_000,
        100,
        sink,
    )
    .unwrap_err();
    assert!(matches!(err, PipelineError::Target(_)), "{err:?}");
    assert_eq!(chain(&err), "writing rows failed: disk on fire");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.batches.len(), 3);
    assert!(!seen.finished);
}

#[test]
fn a_generator_panic_fails_the_run_instead_of_hanging() {
    let (_, sink) = collect();
    let generator = Numbers {
        panic_at: Some(700),
        ..Numbers::default()
    };
    let err = run(
        PipelineConfig::new(500, 100, 1),
        generator,
        5_000,
        100,
        sink,
    )
    .unwrap_err();
    // Caught, with where and why: not a closed mailbox.
    assert!(
        matches!(
            &err,
            PipelineError::Panicked {
                origin: Origin::Worker(0),
                message,
            } if message == "generator panicked on purpose"
        ),
        "{err:?}"
    );
}

/// A sink that takes its time over a batch and says when it is dropped.
struct Slow {
    dropped: Arc<std::sync::atomic::AtomicBool>,
}

impl Sink for Slow {
    type Chunk = Vec<u64>;

    fn write(&mut self, _: &mut Vec<Vec<u64>>) -> Result<(), BoxError> {
        std::thread::sleep(Duration::from_millis(400));
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        self.dropped
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_failed_pipeline_returns_only_once_its_sink_is_gone() {
    // The generator fails while the sink is still writing its first batch
    // on the blocking thread: a restart must not open the target before
    // that write (and any commit after it) has ended.
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sink = Slow {
        dropped: dropped.clone(),
    };
    let generator = Numbers {
        fail_at: Some(500),
        panic_at: None,
    };
    let result = actix_rt::System::new().block_on(async move {
        run_pipeline(
            PipelineConfig::new(1_000, 100, 1),
            move || generator.clone(),
            units(1_000, 100),
            sink,
        )
        .await
    });
    assert!(result.is_err(), "the generator failed");
    assert!(
        dropped.load(std::sync::atomic::Ordering::SeqCst),
        "run_pipeline returned while the sink was still writing"
    );
}

/// A store of committed rows shared by the sinks of a supervised run: each
/// sink commits every `every` batches (and, dropped without `finish` after
/// writes that succeeded, what it holds), never a row twice.
#[derive(Default)]
struct Store {
    committed: Vec<u64>,
    finished: bool,
}

/// Faults, counted across the whole run.
#[derive(Default)]
struct Faults {
    batches: std::sync::atomic::AtomicU64,
    units: std::sync::atomic::AtomicU64,
    /// Every N-th batch given to a sink fails before anything is written.
    error_every: u64,
    /// Every N-th batch makes the sink panic.
    panic_every: u64,
    /// Every N-th unit makes its worker panic.
    worker_panic_every: u64,
}

struct Committing {
    store: Arc<Mutex<Store>>,
    faults: Arc<Faults>,
    pending: Vec<u64>,
    every: usize,
    since: usize,
    given: u64,
    durable: u64,
    poisoned: bool,
}

impl Committing {
    fn commit(&mut self) {
        self.store
            .lock()
            .unwrap()
            .committed
            .append(&mut self.pending);
        self.since = 0;
        self.durable = self.given;
    }
}

impl Sink for Committing {
    type Chunk = Vec<u64>;

    fn write(&mut self, batch: &mut Vec<Vec<u64>>) -> Result<(), BoxError> {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.faults.batches.fetch_add(1, Relaxed) + 1;
        if self.faults.error_every > 0 && n.is_multiple_of(self.faults.error_every) {
            return Err(format!("batch {n} failed on purpose").into());
        }
        if self.faults.panic_every > 0 && n.is_multiple_of(self.faults.panic_every) {
            panic!("batch {n} panicked on purpose");
        }
        self.poisoned = true;
        self.given += batch.iter().map(|c| c.len() as u64).sum::<u64>();
        // What the store holds already is not written again.
        let held = self.store.lock().unwrap().committed.len() as u64 + self.pending.len() as u64;
        for chunk in batch.iter_mut() {
            chunk.retain(|&r| r >= held);
        }
        self.pending.extend(batch.iter().flatten());
        self.since += 1;
        if self.since >= self.every {
            self.commit();
        }
        self.poisoned = false;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.commit();
        self.store.lock().unwrap().finished = true;
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        Some(self.durable)
    }
}

impl Drop for Committing {
    fn drop(&mut self) {
        if !self.poisoned && !self.pending.is_empty() {
            self.commit();
        }
    }
}

/// Numbers whose worker panics every N-th unit of the run.
#[derive(Clone)]
struct Flaky {
    faults: Arc<Faults>,
}

impl Generator for Flaky {
    type Unit = Range<u64>;
    type Chunk = Vec<u64>;

    fn generate(&mut self, unit: Range<u64>) -> Result<Vec<Vec<u64>>, BoxError> {
        let every = self.faults.worker_panic_every;
        let n = self
            .faults
            .units
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if every > 0 && n.is_multiple_of(every) {
            panic!("unit {n} panicked on purpose");
        }
        Numbers::default().generate(unit)
    }
}

/// Runs `rows` rows under `strategy` with `faults`; returns the store and
/// what the Supervisor did.
fn supervised(
    strategy: Strategy,
    faults: Faults,
    rows: u64,
    (buffer_rows, batch_rows, every): (usize, usize, usize),
) -> (
    Vec<u64>,
    bool,
    Result<PipelineStats, PipelineError>,
    Restarts,
) {
    let store = Arc::new(Mutex::new(Store::default()));
    let faults = Arc::new(faults);
    let (s, f) = (store.clone(), faults.clone());
    let policy = RestartPolicy {
        // One-for-one always gets through (about a batch per fault); the
        // others may not (faults faster than they rebuild), and are cut
        // short.
        max_restarts: if strategy == Strategy::OneForOne {
            100_000
        } else {
            400
        },
        window: Duration::from_secs(60),
        backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        strategy,
    };
    let generator = Flaky {
        faults: faults.clone(),
    };
    let outcome = actix_rt::System::new().block_on(async move {
        run_supervised(
            PipelineConfig::new(buffer_rows, batch_rows, 2),
            policy,
            move || generator.clone(),
            move |_, _| {
                // From the store's checkpoint: whole units after it.
                let held = s.lock().unwrap().committed.len() as u64;
                let units = units(rows, 50).filter(move |u| u.end > held);
                Ok::<_, BoxError>((
                    units,
                    Committing {
                        store: s.clone(),
                        faults: f.clone(),
                        pending: Vec::new(),
                        every,
                        since: 0,
                        given: 0,
                        durable: 0,
                        poisoned: false,
                    },
                ))
            },
            |_| true,
        )
        .await
    });
    let store = store.lock().unwrap();
    (
        store.committed.clone(),
        store.finished,
        outcome.result,
        outcome.restarts,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Model: whatever the strategy and the faults (errors and panics in
    /// the sink every N batches, worker panics every M units), the store
    /// ends with every row exactly once, in order — or, for a strategy
    /// that restarts everything and faults that come faster than it gets
    /// anything through, the run gives up with nothing written twice.
    /// One-for-one always completes.
    #[test]
    fn every_strategy_survives_faults_with_every_row_once(
        strategy in prop::sample::select(Strategy::ALL.map(|(_, s)| s).to_vec()),
        rows in 1u64..3_000,
        error_every in prop::sample::select(vec![0u64, 2, 3, 7]),
        panic_every in prop::sample::select(vec![0u64, 5, 11]),
        worker_panic_every in prop::sample::select(vec![0u64, 4, 9]),
        buffer_rows in 50usize..500,
        batch_rows in 10usize..100,
        every in 1usize..4,
    ) {
        let faults = Faults { error_every, panic_every, worker_panic_every, ..Faults::default() };
        let (committed, finished, result, restarts) =
            supervised(strategy, faults, rows, (buffer_rows, batch_rows, every));
        if result.is_ok() || strategy == Strategy::OneForOne {
            prop_assert!(result.is_ok(), "{:?} after {:?}", result, restarts.causes);
            prop_assert!(finished);
            prop_assert_eq!(committed, (0..rows).collect::<Vec<_>>());
        } else {
            // Given up: what is committed is a prefix, each row once.
            prop_assert!(!finished);
            prop_assert_eq!(&committed, &(0..committed.len() as u64).collect::<Vec<_>>());
        }
    }
}
