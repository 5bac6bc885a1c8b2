//! Golden output: a small Genfile using every generator, pinned row by row.

use crate::support::{assert_golden, datagen_into, dump, root, run, stderr};

#[test]
fn every_generator_produces_its_pinned_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("small.db");
    let out = run(datagen_into(&root().join("tests/golden/small.toml"), &db).arg("--quiet"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_golden(&root().join("tests/golden/small.dump"), &dump(&db));
}

#[test]
fn the_catalogue_produces_its_pinned_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalogue.db");
    let out = run(datagen_into(&root().join("tests/golden/catalogue.toml"), &db).arg("--quiet"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_golden(&root().join("tests/golden/catalogue.dump"), &dump(&db));
}
