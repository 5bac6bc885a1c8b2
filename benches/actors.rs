//! Throughput of the actor pipeline alone: a source whose chunks carry no
//! data and a sink that discards them, so what is measured is the cost of
//! moving chunks through Source → BoundedBuffer → Target, per chunk size
//! and buffer size.
//!
//! Run: `cargo bench --bench actors`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datagen_actors::{run_pipeline, BoxError, Generator, PipelineConfig, Rows, Sink};

/// A chunk of `n` rows that holds nothing.
struct Empty(usize);

impl Rows for Empty {
    fn row_count(&self) -> usize {
        self.0
    }

    fn split_to(&mut self, at: usize) -> Empty {
        self.0 -= at;
        Empty(at)
    }
}

#[derive(Clone)]
struct NoopSource {
    chunk: usize,
}

impl Generator for NoopSource {
    type Unit = usize;
    type Chunk = Empty;

    fn generate(&mut self, rows: usize) -> Result<Vec<Empty>, BoxError> {
        let mut chunks = Vec::with_capacity(rows.div_ceil(self.chunk));
        let mut left = rows;
        while left > 0 {
            let n = left.min(self.chunk);
            chunks.push(Empty(n));
            left -= n;
        }
        Ok(chunks)
    }
}

struct NoopSink;

impl Sink for NoopSink {
    type Chunk = Empty;

    fn write(&mut self, batch: &mut Vec<Empty>) -> Result<(), BoxError> {
        std::hint::black_box(batch);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}

const ROWS: usize = 2_000_000;

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    for chunk in [256usize, 4_096, 65_536] {
        for buffer in [16_384usize, 262_144] {
            let id = BenchmarkId::new(format!("chunk_{chunk}"), format!("buffer_{buffer}"));
            group.bench_with_input(id, &(chunk, buffer), |b, &(chunk, buffer)| {
                b.iter(|| {
                    let config = PipelineConfig::new(buffer, 10_000.min(buffer), 2);
                    // One unit per chunk-sized slice of rows, as datagen cuts work.
                    let units = std::iter::repeat_n(chunk, ROWS / chunk);
                    actix_rt::System::new()
                        .block_on(run_pipeline(
                            config,
                            move || NoopSource { chunk },
                            units,
                            NoopSink,
                        ))
                        .expect("the pipeline runs")
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
