//! Settings layer as Genfile < environment < command line.

use std::collections::HashMap;

use datagen::genfile;
use datagen::settings::{resolve, Overrides, Settings};

const GENFILE: &str = r#"
[run]
seed = 5
[pipeline]
batch_rows = 100
workers = 3
[target]
url = "sqlite://from-genfile.db"
if_exists = "replace"
[tables.t]
rows = 1
[tables.t.columns]
id = { gen = "sequence" }
"#;

/// The value of the target's setting `key`, if the target reads it.
fn option(s: &Settings, key: &str) -> Option<String> {
    s.target
        .options()
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn genfile_then_environment_then_command_line() {
    let schema = genfile::parse("g.toml".as_ref(), GENFILE.as_bytes()).unwrap();

    let s = resolve(&schema, &Overrides::default(), env(&[])).unwrap();
    assert_eq!(
        (s.seed, s.workers, s.batch_rows, option(&s, "if_exists")),
        (5, 3, 100, Some("replace".into()))
    );
    assert_eq!(s.target.to_string(), "sqlite://from-genfile.db");
    assert_eq!(s.scale, 1.0);

    let e = env(&[
        ("DATAGEN_SEED", "6"),
        ("DATAGEN_TARGET", "sqlite://from-env.db"),
        ("DATAGEN_BATCH_ROWS", "7"),
        ("DATAGEN_BUFFER_ROWS", "70"),
        ("DATAGEN_IF_EXISTS", "append"),
        ("DATAGEN_SCALE", "0.5"),
    ]);
    let s = resolve(&schema, &Overrides::default(), e.clone()).unwrap();
    assert_eq!(
        (s.seed, s.batch_rows, s.buffer_rows, s.scale),
        (6, 7, Some(70), 0.5)
    );
    assert_eq!(option(&s, "if_exists").as_deref(), Some("append"));
    assert_eq!(s.target.to_string(), "sqlite://from-env.db");

    let cli = Overrides {
        target: Some("sqlite://from-cli.db".into()),
        seed: Some(8),
        scale: Some(2.0),
        workers: Some(1),
        shard: Some("1/3".into()),
        max_rows: Some(500),
    };
    let s = resolve(&schema, &cli, e).unwrap();
    assert_eq!((s.seed, s.scale, s.workers, s.batch_rows), (8, 2.0, 1, 7));
    assert_eq!(s.max_rows, 500);
    assert_eq!(s.shard, datagen::shard::Shard { index: 1, count: 3 });
    // A shard writes its own database file.
    assert_eq!(s.target.to_string(), "sqlite://from-cli-00001-of-00003.db");
}

#[test]
fn the_default_target_is_named_after_the_genfile() {
    let text = GENFILE.replace("url = \"sqlite://from-genfile.db\"\n", "");
    let schema = genfile::parse("schemas/inventory.toml".as_ref(), text.as_bytes()).unwrap();
    let s = resolve(&schema, &Overrides::default(), env(&[])).unwrap();
    assert_eq!(s.target.to_string(), "sqlite://out/inventory.db");
}

#[test]
fn bad_values_are_refused() {
    let schema = genfile::parse("g.toml".as_ref(), GENFILE.as_bytes()).unwrap();
    for (key, value) in [
        ("DATAGEN_IF_EXISTS", "sometimes"),
        ("DATAGEN_SCALE", "-1"),
        ("DATAGEN_BATCH_ROWS", "0"),
        ("DATAGEN_COMMIT_ROWS", "0"),
        ("DATAGEN_CONSTRAINTS", "never"),
        ("DATAGEN_TARGET", "postgres://u:pw@h/db?schema="),
    ] {
        assert!(
            resolve(&schema, &Overrides::default(), env(&[(key, value)])).is_err(),
            "{key}={value}"
        );
    }
}

#[test]
fn postgres_settings_layer_too() {
    let text = GENFILE.replace(
        "url = \"sqlite://from-genfile.db\"\nif_exists = \"replace\"\n",
        "url = \"postgres://u@localhost/db\"\nif_exists = \"replace\"\ncommit_rows = 1000\nconnections = 5\nconstraints = \"during\"\n",
    );
    let schema = genfile::parse("g.toml".as_ref(), text.as_bytes()).unwrap();
    let s = resolve(&schema, &Overrides::default(), env(&[])).unwrap();
    let settings = |s: &Settings| {
        (
            option(s, "commit_rows"),
            option(s, "connections"),
            option(s, "constraints"),
        )
    };
    assert_eq!(
        settings(&s),
        (Some("1000".into()), Some("5".into()), Some("during".into()))
    );
    let e = env(&[
        ("DATAGEN_COMMIT_ROWS", "20"),
        ("DATAGEN_CONNECTIONS", "0"),
        ("DATAGEN_CONSTRAINTS", "after"),
    ]);
    let s = resolve(&schema, &Overrides::default(), e).unwrap();
    let automatic = datagen::sink::postgres::default_connections();
    assert_eq!(
        settings(&s),
        (
            Some("20".into()),
            Some(automatic.to_string()),
            Some("after".into())
        )
    );
    assert!(automatic >= 2);

    // The keys belong to the target: a Genfile run into PostgreSQL by
    // DATAGEN_TARGET reads them with their defaults, and SQLite has none.
    let plain = genfile::parse("g.toml".as_ref(), GENFILE.as_bytes()).unwrap();
    let e = env(&[("DATAGEN_TARGET", "postgres://u@localhost/db")]);
    let s = resolve(&plain, &Overrides::default(), e).unwrap();
    assert_eq!(
        (option(&s, "commit_rows"), option(&s, "constraints")),
        (None, Some("after".into()))
    );
    let s = resolve(
        &schema,
        &Overrides::default(),
        env(&[("DATAGEN_TARGET", "sqlite://x.db")]),
    )
    .unwrap();
    assert_eq!(
        (option(&s, "connections"), option(&s, "commit_rows")),
        (None, Some("1000".into()))
    );
}
