//! Fault injection for supervision experiments: `--chaos SPEC`.
//!
//! `SPEC` is a comma-separated list of `part.fault=N`:
//!
//! | fault | what happens |
//! |---|---|
//! | `target.error_every=N` | every N-th batch the sink is given fails with an error, before writing |
//! | `target.panic_at=N` | the N-th batch makes the sink panic (once) |
//! | `source.panic_at=ROW` | the generator panics on the work unit holding stream row ROW (once) |
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
    /// Delay of every push ack.
    pub buffer_delay: Duration,
}

/// A `--chaos` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --chaos `{item}`: {why}\n  help: e.g. --chaos target.error_every=50,source.panic_at=100000; faults: target.error_every, target.panic_at, source.panic_at, buffer.delay_ms")]
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
            let n: u64 = value
                .trim()
                .parse()
                .map_err(|_| err("the value must be a whole number"))?;
            match key.trim() {
                "target.error_every" if n == 0 => return Err(err("must be at least 1")),
                "target.error_every" => out.target_error_every = Some(n),
                "target.panic_at" if n == 0 => return Err(err("batches count from 1")),
                "target.panic_at" => out.target_panic_at = Some(n),
                "source.panic_at" => out.source_panic_at = Some(n),
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

    fn write(&mut self, batch: Vec<Block>) -> Result<(), BoxError> {
        let n = self.state.batches.fetch_add(1, Ordering::Relaxed) + 1;
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
}

/// A generator with the source fault injected.
pub struct ChaosGenerator<G> {
    inner: G,
    panic_at: Option<u64>,
    state: Arc<ChaosState>,
}

impl<G> ChaosGenerator<G> {
    /// `inner` with `spec`'s source fault.
    pub fn new(inner: G, spec: &ChaosSpec, state: Arc<ChaosState>) -> Self {
        ChaosGenerator {
            inner,
            panic_at: spec.source_panic_at,
            state,
        }
    }
}

impl<G: Generator<Unit = Unit, Chunk = Block>> Generator for ChaosGenerator<G> {
    type Unit = Unit;
    type Chunk = Block;

    fn generate(&mut self, unit: Unit) -> Result<Vec<Block>, BoxError> {
        if let Some(row) = self.panic_at {
            if (unit.stream..unit.stream + unit.total).contains(&row)
                && !self.state.source_panicked.swap(true, Ordering::Relaxed)
            {
                panic!("chaos: source.panic_at={row}");
            }
        }
        self.inner.generate(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s = ChaosSpec::parse(
            "target.error_every=5, target.panic_at=3,source.panic_at=100000,buffer.delay_ms=2",
        )
        .unwrap();
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
        ] {
            assert!(ChaosSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
