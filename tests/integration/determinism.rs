//! Same Genfile and seed give the same data whatever the pipeline's shape.

use crate::support::{datagen_into, dump, run, schema, stderr};

fn generate(
    dir: &std::path::Path,
    name: &str,
    seed: u64,
    workers: usize,
    buffer: usize,
    batch: usize,
) -> String {
    let db = dir.join(format!("{name}.db"));
    let out = run(datagen_into(&schema("shop.toml"), &db)
        .args(["--scale", "0.02", "--quiet"])
        .args(["--seed", &seed.to_string()])
        .args(["--workers", &workers.to_string()])
        .env("DATAGEN_BUFFER_ROWS", buffer.to_string())
        .env("DATAGEN_BATCH_ROWS", batch.to_string()));
    assert!(out.status.success(), "datagen failed: {}", stderr(&out));
    dump(&db)
}

#[test]
fn pipeline_shape_never_changes_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let reference = generate(dir.path(), "one-worker-tiny", 7, 1, 64, 7);
    assert!(
        reference.lines().count() > 80_000,
        "the dataset is too small to prove anything"
    );
    for (name, workers, buffer, batch) in [
        ("four-workers-large", 4, 200_000, 10_000),
        ("two-workers-odd", 2, 1_000, 999),
    ] {
        let other = generate(dir.path(), name, 7, workers, buffer, batch);
        assert!(
            other == reference,
            "{name}: data differs from the single-worker run"
        );
    }
}

#[test]
fn the_seed_changes_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate(dir.path(), "a", 1, 2, 10_000, 1_000);
    let b = generate(dir.path(), "b", 2, 2, 10_000, 1_000);
    assert_ne!(a, b);
}
