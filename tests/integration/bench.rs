//! `datagen bench` and `--report json`: the grid is run and reported in
//! every form, and a run's summary is readable by scripts.

use super::support::{datagen, run, schema, stderr};

#[test]
fn bench_runs_the_grid_and_writes_table_csv_json_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let done = run(datagen()
        .env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_BACKOFF_MS", "1")
        .env("DATAGEN_MAX_RESTARTS", "100")
        .args(["bench", "--config"])
        .arg(schema("shop.toml"))
        .args(["--scale", "0.01", "--repeat", "2", "--out"])
        .arg(&out)
        .args(["--sweep", "workers=1,2", "--sweep", "buffer_rows=20k,100k"])
        .args(["--sweep", "strategy=one_for_one,one_for_all"])
        // A target that keeps what it commits: one-for-all starts over
        // from its checkpoint (into null:// it would start from nothing
        // and never get past a fault every 9 batches).
        .args(["--chaos", "target.error_every=9", "--target"])
        .arg(format!("sqlite://{}", dir.path().join("b.db").display())));
    assert!(done.status.success(), "{}", stderr(&done));
    let table = String::from_utf8(done.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines.len(),
        2 + 8,
        "a title, a header and 8 points:\n{table}"
    );
    assert!(
        lines[1].contains("workers") && lines[1].contains("rows/s") && lines[1].contains("rtt99")
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let csv: Vec<&str> = csv.lines().collect();
    assert_eq!(csv.len(), 9);
    assert!(
        csv[0].starts_with("workers,buffer_rows,strategy,rows_per_s,mb_per_s"),
        "{}",
        csv[0]
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let points = json.as_array().unwrap();
    assert_eq!(points.len(), 8);
    let rows = points[0]["rows"].as_u64().unwrap();
    for p in points {
        // Every point makes the same rows, whatever its settings.
        assert_eq!(p["rows"].as_u64(), Some(rows));
        assert_eq!(p["runs"].as_u64(), Some(2));
        assert!(p["rows_per_s"].as_f64().unwrap() > 0.0);
        // The faults were injected, and survived, at every point.
        assert!(p["restarts"].as_f64().unwrap() >= 1.0, "{p}");
        let occupancy = p["occupancy_p99_rows"].as_f64().unwrap();
        let buffer: f64 = p["settings"]["buffer_rows"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(occupancy <= buffer, "{p}");
    }
    let svg = std::fs::read_to_string(out.join("throughput.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for title in [
        "rows/s by workers",
        "rows/s by buffer_rows",
        "rows/s by strategy",
    ] {
        assert!(svg.contains(title), "{title}");
    }
}

#[test]
fn bench_refuses_what_it_cannot_sweep() {
    for (args, message) in [
        (vec!["--sweep", "colour=1,2"], "unknown setting `colour`"),
        (vec!["--sweep", "batch_rows=0"], "is not a whole number"),
        (
            vec!["--sweep", "workers=1", "--sweep", "workers=2"],
            "given twice",
        ),
        (vec!["--repeat", "0"], "--repeat must be at least 1"),
    ] {
        let out = run(datagen()
            .args(["bench", "--config"])
            .arg(schema("shop.toml"))
            .args(&args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_run_reports_its_summary_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = run(datagen()
        .env("DATAGEN_BATCH_ROWS", "1000")
        .env("DATAGEN_BACKOFF_MS", "1")
        .arg("--config")
        .arg(schema("shop.toml"))
        .args(["--quiet", "--scale", "0.01", "--target", "null://"])
        .args(["--chaos", "target.panic_at=3", "--report"])
        .arg(format!("json:{}", report.display())));
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let tables = json["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 4);
    let sum: u64 = tables.iter().map(|t| t["rows"].as_u64().unwrap()).sum();
    assert_eq!(json["rows"].as_u64(), Some(sum));
    assert_eq!(json["pipeline"]["source_finished_received"], true);
    let events = json["supervision"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["origin"], "target");
    assert_eq!(events[0]["panic"], true);
    assert_eq!(events[0]["action"], "target restarted alone");
    assert!(events[0]["cause"]
        .as_str()
        .unwrap()
        .contains("chaos: target.panic_at=3"));

    // To standard output; refused where the rows go there.
    let out = run(datagen().arg("--config").arg(schema("shop.toml")).args([
        "--quiet", "--scale", "0.01", "--target", "null://", "--report", "json",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["target"], "null://");
    for (report, message) in [
        ("json", "standard output, where the rows go"),
        ("xml", "expected `json`"),
    ] {
        let out = run(datagen().arg("--config").arg(schema("shop.toml")).args([
            "--scale",
            "0.01",
            "--target",
            "stdout://csv",
            "--report",
            report,
        ]));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}
