//! `null://`: the rows are made, counted and discarded — the same counts as
//! a run that writes them, and a failed attempt is redone from nothing.

use super::support::{datagen, run, schema, stderr};

/// `(table, rows)` of a run's summary.
fn counts(summary: &str) -> Vec<(String, u64)> {
    summary
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (table, rows, unit) = (words.next()?, words.next()?, words.next()?);
            if !l.starts_with("  ") || unit != "rows" {
                return None;
            }
            Some((table.to_owned(), rows.parse().ok()?))
        })
        .collect()
}

#[test]
fn null_counts_the_rows_a_file_target_writes() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("csv://{}", dir.path().display());
    let base = |target: &str| {
        let mut cmd = datagen();
        cmd.arg("--config")
            .arg(schema("shop.toml"))
            .args(["--scale", "0.01", "--target", target]);
        cmd
    };
    let written = run(&mut base(&csv));
    assert!(written.status.success(), "{}", stderr(&written));
    let nowhere = run(&mut base("null://"));
    assert!(nowhere.status.success(), "{}", stderr(&nowhere));
    let (w, n) = (counts(&stderr(&written)), counts(&stderr(&nowhere)));
    assert_eq!(w.len(), 4, "{}", stderr(&written));
    assert_eq!(w, n);
    assert!(
        stderr(&nowhere).contains("→ null://"),
        "{}",
        stderr(&nowhere)
    );
    // The CSV files hold what null:// counted.
    for (table, rows) in &n {
        let text = std::fs::read_to_string(dir.path().join(format!("{table}.csv"))).unwrap();
        assert_eq!(text.lines().count() as u64, rows + 1, "{table}");
    }

    // Faults in the sink: every attempt starts over (nothing was kept),
    // and the run still ends with every row counted once.
    let chaotic = run(base("null://")
        .env("DATAGEN_MAX_RESTARTS", "10")
        .env("DATAGEN_BACKOFF_MS", "1")
        .env("DATAGEN_BATCH_ROWS", "1000")
        .args(["--chaos", "target.panic_at=3"]));
    assert!(chaotic.status.success(), "{}", stderr(&chaotic));
    assert!(
        stderr(&chaotic).contains("supervision: 1 restarts"),
        "{}",
        stderr(&chaotic)
    );
    assert_eq!(counts(&stderr(&chaotic)), n);
}

#[test]
fn null_takes_nothing_after_the_scheme() {
    let out = run(datagen()
        .arg("--config")
        .arg(schema("shop.toml"))
        .args(["--target", "null://somewhere"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("null://"), "{}", stderr(&out));
}
