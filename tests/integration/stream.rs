//! `datagen stream`: the rows of a batch run, paced, with event time,
//! into rotated files published whole; a reader never sees a partial
//! file, and a stream killed at any moment and resumed holds every row
//! exactly once, in the files an uninterrupted stream makes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::support::{datagen, run, stderr};

/// Products others refer to; customers (the endless tree) with orders,
/// both with the stream's event time.
pub(super) const GENFILE: &str = r#"
version = 1

[run]
seed = 7

[target]
if_exists = "replace"

[tables.products]
rows = 50

[tables.products.columns]
id    = { gen = "sequence", start = 1, primary_key = true }
price = { gen = "decimal", min = 1, max = 100, scale = 2 }

[tables.customers]
rows = 300

[tables.customers.columns]
id     = { gen = "sequence", start = 1, primary_key = true }
name   = { gen = "person.name" }
joined = { gen = "event_time" }

[tables.orders]
per = { parent = "customers", count = { uniform = { min = 0, max = 6 } } }

[tables.orders.columns]
id          = { gen = "sequence", start = 1, primary_key = true }
customer_id = { parent = "id" }
product_id  = { ref = "products.id" }
placed      = { gen = "event_time" }
total       = { gen = "decimal", min = 1, max = 500, scale = 2 }

[stream]
rate  = 2000
speed = 3600
start = "2025-07-01T00:00:00Z"
"#;

pub(super) fn genfile(dir: &Path) -> PathBuf {
    let path = dir.join("stream.toml");
    std::fs::write(&path, GENFILE).unwrap();
    path
}

pub(super) fn stream(genfile: &Path, target: &str, extra: &[&str]) -> Command {
    let mut cmd = datagen();
    cmd.arg("stream")
        .arg("--config")
        .arg(genfile)
        .args(["--quiet", "--target", target])
        .args(extra);
    cmd
}

pub(super) fn ok(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what}: {}", stderr(&out));
    out
}

/// Each table's CSV rows (header dropped) of the batch run into `dir`.
fn batch_tables(genfile: &Path, dir: &Path) -> BTreeMap<String, Vec<String>> {
    ok(
        run(datagen()
            .arg("--config")
            .arg(genfile)
            .args(["--quiet", "--target"])
            .arg(format!("csv://{}", dir.display()))),
        "batch run",
    );
    let mut tables = BTreeMap::new();
    for table in ["products", "customers", "orders"] {
        let text = std::fs::read_to_string(dir.join(format!("{table}.csv"))).unwrap();
        tables.insert(
            table.to_owned(),
            text.lines().skip(1).map(str::to_owned).collect(),
        );
    }
    tables
}

/// The published files of `dir` (not the hidden ones), sorted by name.
fn published(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = super::support::file_names(dir)
        .into_iter()
        .filter(|n| !n.starts_with('.') && n != "manifest.jsonl")
        .collect();
    names.sort();
    names
}

/// Each table's CSV rows across its rotated files, in file order, with
/// each file's header checked and dropped.
fn stream_tables(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in published(dir) {
        let (table, _) = name.rsplit_once('-').unwrap();
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(text.ends_with("\r\n"), "{name} ends in the middle of a row");
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        assert!(header.starts_with("id,"), "{name} starts with its header");
        tables
            .entry(table.to_owned())
            .or_default()
            .extend(lines.map(str::to_owned));
    }
    tables
}

fn event_rows(tables: &BTreeMap<String, Vec<String>>) -> usize {
    tables["customers"].len() + tables["orders"].len()
}

#[test]
fn a_stream_of_the_batch_runs_length_holds_its_rows_whatever_the_pace() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let batch = batch_tables(&genfile, &dir.path().join("batch"));
    let n = event_rows(&batch).to_string();
    for (name, rate) in [("max", "max"), ("paced", "20000")] {
        let out = dir.path().join(name);
        ok(
            run(&mut stream(
                &genfile,
                &format!("files://{}?format=csv&rotate_rows=97", out.display()),
                &["--max-rows", &n, "--rate", rate],
            )),
            name,
        );
        let streamed = stream_tables(&out);
        assert_eq!(
            streamed, batch,
            "a stream at rate {rate} holds the batch run's rows"
        );
        // Every file but each table's last holds exactly rotate_rows rows.
        let files = published(&out);
        for name in &files {
            let rows = std::fs::read_to_string(out.join(name))
                .unwrap()
                .lines()
                .count()
                - 1;
            let (table, _) = name.rsplit_once('-').unwrap();
            let last = files
                .iter()
                .rfind(|f| f.starts_with(&format!("{table}-")))
                .unwrap();
            assert!(rows == 97 || name == last, "{name} holds {rows} rows");
        }
    }
}

#[test]
fn event_time_is_a_function_of_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let batch = batch_tables(&genfile, &dir.path().join("batch"));
    // speed 3600 over a nominal 2000 rows/s: 1.8 s of event time a row.
    // The first unit is every customer, then their orders: the first
    // customer stands at the start, the next 1.8 s later.
    let at = |line: &str, field: usize| {
        let text = line.split(',').nth(field).unwrap();
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    };
    let start = chrono::DateTime::parse_from_rfc3339("2025-07-01T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let joined: Vec<i64> = batch["customers"].iter().map(|l| at(l, 2)).collect();
    assert_eq!(joined[0], start);
    assert_eq!(joined[1], start + 1_800);
    assert_eq!(joined[10], start + 18_000);
    // Orders come after every customer of the unit, 1.8 s apart.
    let placed: Vec<i64> = batch["orders"].iter().map(|l| at(l, 3)).collect();
    assert!(
        placed.windows(2).all(|w| w[1] - w[0] == 1_800),
        "one step a row"
    );
    assert_eq!(placed[0], joined.last().unwrap() + 1_800);
}

/// Reads the directory until told to stop, keeping what it read of each
/// published file the first time it saw it: a reader that never sees a
/// partial file reads each file whole, as it stays.
fn watch(dir: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<BTreeMap<String, String>> {
    std::thread::spawn(move || {
        let mut seen = BTreeMap::new();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') || !name.ends_with(".csv") || seen.contains_key(&name)
                    {
                        continue;
                    }
                    let text = std::fs::read_to_string(entry.path()).unwrap();
                    seen.insert(name, text);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        seen
    })
}

#[test]
fn a_stream_killed_or_stopped_and_resumed_holds_every_row_once_in_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let whole = dir.path().join("whole");
    let url = |d: &Path| {
        format!(
            "files://{}?format=csv&rotate_rows=97&manifest=true",
            d.display()
        )
    };
    // 20,000 event rows at 20,000 rows/s: about a second.
    let args = ["--max-rows", "20000", "--rate", "20000"];
    ok(
        run(&mut stream(&genfile, &url(&whole), &args)),
        "uninterrupted stream",
    );
    let expected = stream_tables(&whole);
    assert!(event_rows(&expected) >= 20_000);
    let ids: Vec<&str> = expected["orders"]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let distinct: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(ids.len(), distinct.len(), "every order once");
    for (sig, delay) in [("-KILL", 300), ("-KILL", 700), ("-INT", 500)] {
        let out = dir.path().join(format!("{}{delay}", &sig[1..]));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = watch(out.clone(), stop.clone());
        let child = stream(&genfile, &url(&out), &args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        let first = child.wait_with_output().unwrap();
        if sig == "-INT" {
            assert!(
                first.status.success(),
                "a stopped stream ends well: {}",
                stderr(&first)
            );
        } else {
            assert!(
                !first.status.success(),
                "killed at {delay} ms, before its end"
            );
        }
        let resumed = run(&mut stream(
            &genfile,
            &url(&out),
            &[&args[..], &["--resume"]].concat(),
        ));
        stop.store(true, Ordering::Relaxed);
        let seen = reader.join().unwrap();
        ok(resumed, "resumed stream");
        assert!(
            !seen.is_empty(),
            "the reader saw files as they were published"
        );
        for (name, text) in &seen {
            let now = std::fs::read_to_string(out.join(name)).unwrap();
            assert_eq!(
                text, &now,
                "{sig} at {delay} ms: the reader saw {name} before it was whole"
            );
        }
        let got = stream_tables(&out);
        if sig == "-KILL" {
            // Killed: the files are those of the uninterrupted stream.
            assert_eq!(published(&out), published(&whole), "{sig} at {delay} ms");
            assert_eq!(
                std::fs::read_to_string(out.join("manifest.jsonl")).unwrap(),
                std::fs::read_to_string(whole.join("manifest.jsonl")).unwrap()
            );
        }
        // Stopped: the files cut short at the stop were published, so
        // later files are numbered on, but the rows are the same, once.
        assert_eq!(got, expected, "{sig} at {delay} ms: every row exactly once");
    }
}

#[test]
fn standard_output_interleaves_the_tables_as_rows_leave() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let out = ok(
        run(&mut stream(
            &genfile,
            "stdout://jsonl",
            &["--max-rows", "500"],
        )),
        "stream to stdout",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let tables: Vec<&str> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            match v["table"].as_str().unwrap() {
                "products" => "products",
                "customers" => "customers",
                _ => "orders",
            }
        })
        .collect();
    // The referenced products first, then customers and their orders.
    assert!(tables[..50].iter().all(|t| *t == "products"));
    assert_eq!(tables.iter().filter(|t| **t == "products").count(), 50);
    assert!(tables[50..].contains(&"customers") && tables[50..].contains(&"orders"));
    // CSV holds one table only.
    let refused = run(&mut stream(&genfile, "stdout://csv", &["--max-rows", "10"]));
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("stdout://jsonl"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn the_metering_feed_is_text_lines_of_consumer_and_reading() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    ok(
        run(datagen()
            .arg("stream")
            .arg("--config")
            .arg(super::support::schema("metering.toml"))
            .args(["--quiet", "--max-rows", "5000", "--rate", "max", "--target"])
            .arg(format!(
                "files://{}?format=text&template={{consumer_id}} {{kwh}}&rotate_rows=1000&manifest=true",
                feed.display()
            ))),
        "metering feed",
    );
    let files = published(&feed);
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("readings-") && f.ends_with(".txt")),
        "{files:?}"
    );
    let manifest = std::fs::read_to_string(feed.join("manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), files.len());
    let mut lines = 0;
    for f in &files {
        for line in std::fs::read_to_string(feed.join(f)).unwrap().lines() {
            let (consumer, kwh) = line.split_once(' ').unwrap();
            assert_eq!(consumer.len(), 36, "a consumer's uuid: {line}");
            assert!(
                kwh.is_empty() || kwh.parse::<f64>().is_ok(),
                "a reading or nothing: {line}"
            );
            lines += 1;
        }
    }
    // 48 readings a consumer (consumers are not emitted, so not
    // counted): the stream ends with the consumer that reaches 5,000.
    assert_eq!(lines, 5_000usize.div_ceil(48) * 48);
}

#[test]
fn stream_mistakes_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // A reference into the endless tree: its row count is never known.
    let genfile = dir.path().join("bad.toml");
    std::fs::write(
        &genfile,
        GENFILE.replace(
            "product_id  = { ref = \"products.id\" }",
            "product_id  = { ref = \"products.id\" }\nbuyer = { ref = \"customers.id\" }",
        ),
    )
    .unwrap();
    let out = run(&mut stream(&genfile, "null://", &["--max-rows", "10"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("grow without end"),
        "{}",
        stderr(&out)
    );
    // The same Genfile still runs as a batch.
    let batch = run(datagen()
        .arg("--config")
        .arg(&genfile)
        .args(["--quiet", "--target", "null://"]));
    assert!(batch.status.success(), "{}", stderr(&batch));
    let good = super::stream::genfile(dir.path());
    for (args, says) in [
        (&["--rate", "fast"][..], "--rate"),
        (&["--duration", "soon"][..], "--duration"),
        (&["--shard", "0/2"][..], "sharded"),
    ] {
        let out = run(&mut stream(&good, "null://", args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // Rotated files keep one checkpoint: a batch run into them is not
    // sharded either.
    let sharded = run(datagen()
        .arg("--config")
        .arg(&good)
        .args(["--quiet", "--shard", "0/2", "--target"])
        .arg(format!("files://{}/sharded", dir.path().display())));
    assert_eq!(sharded.status.code(), Some(2), "{}", stderr(&sharded));
    assert!(
        stderr(&sharded).contains("one checkpoint"),
        "{}",
        stderr(&sharded)
    );
    for url in [
        "?format=text",
        "?template={nope}",
        "?rotate_rows=0",
        "?colour=red",
    ] {
        let url = format!("files://{}/x{url}", dir.path().display());
        let out = run(&mut stream(&good, &url, &["--max-rows", "10"]));
        assert_eq!(out.status.code(), Some(2), "{url}: {}", stderr(&out));
    }
}

#[test]
fn event_time_follows_bursts_and_late_events_arrive_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("bursts.toml");
    // 100 rows an hour of event time, three times that every other hour;
    // a tenth of the events 10 minutes late on average.
    std::fs::write(
        &genfile,
        r#"
[tables.events]
rows = 2000

[tables.events.columns]
id = { gen = "sequence", primary_key = true }
at = { gen = "event_time" }
on = { gen = "event_time" }

[stream]
rate   = 100
speed  = 3600
start  = "2025-07-01T00:00:00Z"
bursts = [{ every = "2h", for = "1h", factor = 3 }]
late   = { rate = 0.1, delay = { exponential = "10m" } }
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(
        run(datagen()
            .arg("--config")
            .arg(&genfile)
            .args(["--quiet", "--target"])
            .arg(format!("csv://{}", out.display()))),
        "batch run",
    );
    let text = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2025-07-01T00:00:00Z").unwrap();
    let rows: Vec<(i64, i64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let t = |s: &str| {
                (chrono::DateTime::parse_from_rfc3339(s).unwrap() - start).num_milliseconds()
            };
            (t(f[1]), t(f[2]))
        })
        .collect();
    // The later of a row's two draws is the clock's own time unless both
    // are late (1 in 100): per hour of event time, 300, 100, 300, 100, ….
    let mut per_hour = std::collections::BTreeMap::new();
    for &(a, b) in &rows {
        *per_hour
            .entry(a.max(b).div_euclid(3_600_000))
            .or_insert(0u32) += 1;
    }
    for (hour, n) in per_hour.iter().filter(|(h, _)| (0..4).contains(*h)) {
        let want = if hour % 2 == 0 { 300.0 } else { 100.0 };
        assert!(
            f64::from(*n) >= want * 0.95 - 1.0 && f64::from(*n) <= want + 1.0,
            "hour {hour}: {n} rows, {want} expected"
        );
    }
    // Late: about a tenth of each column, each earlier than the row
    // before it in the stream at least sometimes (out of order).
    let late = rows.iter().filter(|(a, b)| a != b).count();
    assert!(
        (250..=500).contains(&late),
        "{late} rows with one column late"
    );
    let behind = rows.windows(2).filter(|w| w[1].0 < w[0].0).count();
    assert!(behind > 50, "late events are out of order: {behind}");
}

#[test]
fn a_stream_into_a_database_ends_with_the_database_complete() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let db = dir.path().join("s.db");
    let out = run(datagen()
        .arg("stream")
        .arg("--config")
        .arg(&genfile)
        .args(["--rate", "5000", "--duration", "1s", "--target"])
        .arg(format!("sqlite://{}", db.display())));
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("its duration passed"), "{said}");
    assert!(
        !said.contains("to continue it"),
        "a database is one load: {said}"
    );
    // Published under its name, nothing left beside it, its keys whole.
    assert_eq!(
        super::support::file_names(dir.path()).len(),
        2,
        "{:?}",
        super::support::file_names(dir.path())
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert!(super::support::count(&conn, "SELECT count(*) FROM orders") > 0);
    assert_eq!(
        super::support::count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    assert_eq!(
        super::support::count(
            &conn,
            "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)"
        ),
        0
    );
}

/// The rows of each table across a directory's published files.
fn rows_of(dir: &Path) -> BTreeMap<String, Vec<String>> {
    stream_tables(dir)
}

#[test]
fn a_stream_that_reached_max_rows_goes_on_with_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let url = |d: &str| format!("files://{}?format=csv", dir.path().join(d).display());
    ok(
        run(&mut stream(
            &genfile,
            &url("whole"),
            &["--max-rows", "1500"],
        )),
        "whole",
    );
    ok(
        run(&mut stream(&genfile, &url("steps"), &["--max-rows", "400"])),
        "first part",
    );
    ok(
        run(&mut stream(
            &genfile,
            &url("steps"),
            &["--max-rows", "1500", "--resume"],
        )),
        "the rest",
    );
    // The first part ended inside a unit: the rows after its end in that
    // unit (customers and their orders) come with the rest.
    let (whole, steps) = (
        rows_of(&dir.path().join("whole")),
        rows_of(&dir.path().join("steps")),
    );
    for table in ["products", "customers", "orders"] {
        let mut a = whole[table].clone();
        let mut b = steps[table].clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{table}: every row once");
    }
}

#[test]
fn a_refused_stream_leaves_the_one_there_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    // if_exists = "fail": the Genfile says "replace".
    let text = std::fs::read_to_string(&genfile)
        .unwrap()
        .replace("\"replace\"", "\"fail\"");
    std::fs::write(&genfile, text).unwrap();
    let out = dir.path().join("out");
    let url = format!("files://{}?format=csv&rotate_rows=97", out.display());
    let args = ["--max-rows", "20000", "--rate", "20000"];
    let child = stream(&genfile, &url, &args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // A second stream into the same directory, while the first runs: refused.
    let second = run(&mut stream(&genfile, &url, &args));
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait_with_output().unwrap();
    // Run again without --resume: refused, and the killed stream's open
    // files and checkpoint stay for --resume.
    let again = run(&mut stream(&genfile, &url, &args));
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(out.join(".datagen-stream").exists(), "the checkpoint stays");
    ok(
        run(&mut stream(
            &genfile,
            &url,
            &[&args[..], &["--resume"]].concat(),
        )),
        "resumed",
    );
    let whole = dir.path().join("whole");
    ok(
        run(&mut stream(
            &genfile,
            &format!("files://{}?format=csv&rotate_rows=97", whole.display()),
            &args[..2],
        )),
        "uninterrupted",
    );
    assert_eq!(rows_of(&out), rows_of(&whole));
}

#[test]
fn a_stream_that_would_emit_nothing_or_crawl_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("silent.toml");
    std::fs::write(
        &genfile,
        format!("{GENFILE}\n[stream.tables.customers]\nemit = false\n\n[stream.tables.orders]\nemit = false\n"),
    )
    .unwrap();
    let out = run(&mut stream(&genfile, "null://", &["--duration", "2s"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("emit nothing"), "{}", stderr(&out));
    let good = super::stream::genfile(dir.path());
    for rate in ["1e-30", "0", "2e9"] {
        let out = run(&mut stream(
            &good,
            "null://",
            &["--rate", rate, "--duration", "1s"],
        ));
        assert_eq!(
            out.status.code(),
            Some(2),
            "--rate {rate}: {}",
            stderr(&out)
        );
    }
}
