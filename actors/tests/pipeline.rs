//! The whole pipeline with real actors: order, batch sizes and failures.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datagen_actors::{
    chain, run_pipeline, BoxError, BufferState, Generator, PipelineConfig, PipelineError,
    PipelineStats, Sink,
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

    fn write(&mut self, batch: Vec<Vec<u64>>) -> Result<(), BoxError> {
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
        prop_assert!(stats.buffer.peak_rows <= buffer_rows);
    }
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
    assert!(
        matches!(
            err,
            PipelineError::Lost {
                actor: "source",
                ..
            }
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

    fn write(&mut self, _: Vec<Vec<u64>>) -> Result<(), BoxError> {
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
