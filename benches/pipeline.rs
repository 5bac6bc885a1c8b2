//! The actor pipeline against a plain loop doing the same work: shop at
//! `--scale 0.25` (about 1M rows) generated in the run's units and encoded
//! as CSV on the generator thread, the bytes handed to a sink that counts
//! them. The loop does it all on one thread, unit after unit; the pipeline
//! does it with one generator worker (and, for scaling, two) through
//! Source → BoundedBuffer → Target with the run's buffer and batch sizes.
//! The difference at one worker is the pipeline's overhead.
//!
//! Run: `cargo bench --bench pipeline`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datagen::generate::{Generators, Plan};
use datagen::genfile;
use datagen::run::units::{UnitGenerator, Work};
use datagen::run::UNIT_ROWS;
use datagen::sink::files::encode::{FileEncoder, FileFormat};
use datagen::sink::BlockEncoder;
use datagen::value::Block;
use datagen_actors::{run_pipeline, BoxError, Generator, PipelineConfig, Sink};

const SCALE: f64 = 0.25;

/// Counts the bytes of every block, as a writer would touch them.
#[derive(Default)]
struct Count(u64);

impl Sink for Count {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        for block in batch.iter() {
            self.0 += block.encoded.as_ref().map_or(0, |e| e.bytes.len() as u64);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        std::hint::black_box(self.0);
        Ok(())
    }
}

fn pipeline(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/shop.toml");
    let schema = genfile::load(&path).unwrap();
    let counts = Generators::new(&schema, schema.seed, &vec![0; schema.tables.len()]);
    let plan = Arc::new(Plan::new(&schema, &counts, SCALE, UNIT_ROWS).expect("a plan"));
    let generators = Arc::new(Generators::new(&schema, schema.seed, &plan.table_rows));
    let encoder: Arc<dyn BlockEncoder> = Arc::new(FileEncoder::new(&schema, FileFormat::Csv));

    let mut group = c.benchmark_group("shop_csv");
    group.sample_size(10);
    group.throughput(Throughput::Elements(plan.total_rows()));

    group.bench_function("plain_loop", |b| {
        b.iter(|| {
            let mut generator = UnitGenerator::new(generators.clone(), Some(encoder.clone()));
            let mut sink = Count::default();
            for unit in plan.units(generators.clone()) {
                let work = Work {
                    unit,
                    committed: None,
                    emit: None,
                };
                sink.write(&mut generator.generate(work).unwrap()).unwrap();
            }
            sink.finish().unwrap();
            sink.0
        })
    });

    for workers in [1, 2] {
        group.bench_function(BenchmarkId::new("pipeline_workers", workers), |b| {
            b.iter(|| {
                let config = PipelineConfig::new(82_000, 10_000, workers);
                let (g, e) = (generators.clone(), encoder.clone());
                let units = plan.units(generators.clone()).map(|unit| Work {
                    unit,
                    committed: None,
                    emit: None,
                });
                actix_rt::System::new()
                    .block_on(run_pipeline(
                        config,
                        move || UnitGenerator::new(g.clone(), Some(e.clone())),
                        units,
                        Count::default(),
                    ))
                    .unwrap()
                    .source
                    .rows
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
