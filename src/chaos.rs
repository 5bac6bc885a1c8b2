//! Fault injection for supervision experiments: `--chaos SPEC`.
//!
//! `SPEC` is a comma-separated list of `part.fault=N`:
//!
//! | fault | what happens |
//! |---|---|
//! | `target.error_every=N` | every N-th batch the sink is given fails with an error, before writing |
//! | `target.panic_at=N` | the N-th batch makes the sink panic (once) |
//! | `target.latency_ms=D` or `=A..B` | every batch waits D ms (or uniformly A to B ms) before it is written |
//! | `target.drop_connection_every=N` | every N-th commit loses its connection: the server ends the backend before COMMIT (PostgreSQL) |
//! | `source.panic_at=ROW` | the generator panics on the work unit holding stream row ROW (once) |
//! | `worker.panic_every=N` | every N-th work unit makes its generator worker panic |
//! | `buffer.delay_ms=N` | the buffer acknowledges every push N ms late |
//!
//! Counters run across restarts: after a failure the pipeline is rebuilt
//! and the batches keep counting, so `error_every` keeps failing the run
//! at the same pace and the restart policy decides how long that goes on.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datagen_actors::{BoxError, Generator, Sink};

use crate::generate::Unit;
use crate::value::Block;

/// Faults to inject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChaosSpec {
    /// Fail every N-th batch.
    pub target_error_every: Option<u64>,
    /// Panic at the N-th batch.
    pub target_panic_at: Option<u64>,
    /// Panic generating the unit that holds this stream row.
    pub source_panic_at: Option<u64>,
    /// Panic generating every N-th unit.
    pub worker_panic_every: Option<u64>,
    /// Wait before writing each batch: from, to (ms).
    pub target_latency_ms: Option<(u64, u64)>,
    /// Lose the connection before every N-th commit.
    pub drop_connection_every: Option<u64>,
    /// Delay of every push ack.
    pub buffer_delay: Duration,
}

/// A `--chaos` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --chaos `{item}`: {why}\n  help: e.g. --chaos target.error_every=50,source.panic_at=100000; faults: target.error_every, target.panic_at, target.latency_ms, target.drop_connection_every, source.panic_at, worker.panic_every, buffer.delay_ms")]
pub struct ChaosError {
    /// The item.
    pub item: String,
    /// What is wrong.
    pub why: &'static str,
}

impl ChaosSpec {
    /// Parses `part.fault=N,…`.
    pub fn parse(spec: &str) -> Result<ChaosSpec, ChaosError> {
        let mut out = ChaosSpec::default();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let err = |why| ChaosError {
                item: item.to_owned(),
                why,
            };
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| err("expected part.fault=N"))?;
            let key = key.trim();
            if key == "target.latency_ms" {
                let number = |v: &str| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| err("the latency is N or A..B, in whole milliseconds"))
                };
                let (from, to) = match value.split_once("..") {
                    Some((a, b)) => (number(a)?, number(b)?),
                    None => (number(value)?, number(value)?),
                };
                if from > to || to > 60_000 {
                    return Err(err("the latency is N or A..B with A ≤ B ≤ 60000"));
                }
                out.target_latency_ms = Some((from, to));
                continue;
            }
            let n: u64 = value
                .trim()
                .parse()
                .map_err(|_| err("the value must be a whole number"))?;
            match key {
                "target.error_every" if n == 0 => return Err(err("must be at least 1")),
                "target.error_every" => out.target_error_every = Some(n),
                "target.panic_at" if n == 0 => return Err(err("batches count from 1")),
                "target.panic_at" => out.target_panic_at = Some(n),
                "source.panic_at" => out.source_panic_at = Some(n),
                "worker.panic_every" if n == 0 => return Err(err("must be at least 1")),
                "worker.panic_every" => out.worker_panic_every = Some(n),
                "target.drop_connection_every" if n == 0 => return Err(err("must be at least 1")),
                "target.drop_connection_every" => out.drop_connection_every = Some(n),
                "buffer.delay_ms" if n > 60_000 => return Err(err("at most 60000 ms")),
                "buffer.delay_ms" => out.buffer_delay = Duration::from_millis(n),
                _ => return Err(err("unknown fault")),
            }
        }
        Ok(out)
    }

    /// True when nothing is injected.
    pub fn is_empty(&self) -> bool {
        *self == ChaosSpec::default()
    }
}

/// Counters shared by every attempt of a run.
#[derive(Debug, Default)]
pub struct ChaosState {
    batches: AtomicU64,
    units: AtomicU64,
    /// Commits counted by `target.drop_connection_every`.
    pub commits: Arc<AtomicU64>,
    target_panicked: AtomicBool,
    source_panicked: AtomicBool,
}

/// A sink with faults injected.
pub struct ChaosSink<S> {
    inner: S,
    spec: ChaosSpec,
    state: Arc<ChaosState>,
}

impl<S> ChaosSink<S> {
    /// `inner` with `spec`'s target faults.
    pub fn new(inner: S, spec: ChaosSpec, state: Arc<ChaosState>) -> Self {
        ChaosSink { inner, spec, state }
    }
}

impl<S: Sink<Chunk = Block>> Sink for ChaosSink<S> {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        let n = self.state.batches.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some((from, to)) = self.spec.target_latency_ms {
            // Spread evenly over the range by the batch's number.
            let spread = (crate::rng::mix64(n) % (to - from + 1)) + from;
            std::thread::sleep(Duration::from_millis(spread));
        }
        if self.spec.target_panic_at == Some(n)
            && !self.state.target_panicked.swap(true, Ordering::Relaxed)
        {
            panic!("chaos: target.panic_at={n}");
        }
        if let Some(every) = self.spec.target_error_every {
            if n.is_multiple_of(every) {
                return Err(format!("chaos: target.error_every={every} (batch {n})").into());
            }
        }
        self.inner.write(batch)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.inner.finish()
    }

    fn durable(&self) -> Option<u64> {
        self.inner.durable()
    }
}

/// A generator with the source faults injected.
pub struct ChaosGenerator<G> {
    inner: G,
    panic_at: Option<u64>,
    panic_every: Option<u64>,
    state: Arc<ChaosState>,
}

impl<G> ChaosGenerator<G> {
    /// `inner` with `spec`'s source fault.
    pub fn new(inner: G, spec: &ChaosSpec, state: Arc<ChaosState>) -> Self {
        ChaosGenerator {
            inner,
            panic_at: spec.source_panic_at,
            panic_every: spec.worker_panic_every,
            state,
        }
    }
}

/// Work that covers a plan unit: what the source faults look at.
pub trait Covers {
    /// The plan unit.
    fn unit(&self) -> &Unit;
}

impl<W, G> Generator for ChaosGenerator<G>
where
    W: Covers + Clone + Send + Unpin + 'static,
    G: Generator<Unit = W, Chunk = Block>,
{
    type Unit = W;
    type Chunk = Block;

    fn generate(&mut self, work: W) -> Result<Vec<Block>, BoxError> {
        let unit = work.unit();
        if let Some(row) = self.panic_at {
            if (unit.stream..unit.stream + unit.total).contains(&row)
                && !self.state.source_panicked.swap(true, Ordering::Relaxed)
            {
                panic!("chaos: source.panic_at={row}");
            }
        }
        if let Some(every) = self.panic_every {
            let n = self.state.units.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(every) {
                panic!("chaos: worker.panic_every={every} (unit {n})");
            }
        }
        self.inner.generate(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s = ChaosSpec::parse(
            "target.error_every=5, target.panic_at=3,source.panic_at=100000,buffer.delay_ms=2,\
             worker.panic_every=7,target.latency_ms=1..5,target.drop_connection_every=4",
        )
        .unwrap();
        assert_eq!(s.worker_panic_every, Some(7));
        assert_eq!(s.target_latency_ms, Some((1, 5)));
        assert_eq!(s.drop_connection_every, Some(4));
        assert_eq!(
            ChaosSpec::parse("target.latency_ms=3")
                .unwrap()
                .target_latency_ms,
            Some((3, 3))
        );
        assert_eq!(s.target_error_every, Some(5));
        assert_eq!(s.target_panic_at, Some(3));
        assert_eq!(s.source_panic_at, Some(100_000));
        assert_eq!(s.buffer_delay, Duration::from_millis(2));
        assert!(ChaosSpec::parse("").unwrap().is_empty());
        for bad in [
            "target.error_every=0",
            "target.explode=1",
            "source.panic_at",
            "buffer.delay_ms=x",
            "worker.panic_every=0",
            "target.latency_ms=5..2",
            "target.latency_ms=a",
            "target.drop_connection_every=0",
            "buffer.delay_ms=99999999999999999",
        ] {
            assert!(ChaosSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
