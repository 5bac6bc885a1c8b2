//! The file targets: pinned output of every format, SQL scripts that load
//! into the same tables as the database targets, atomic publication and
//! `if_exists`.

use std::path::Path;
use std::process::Output;

use super::canon;
use super::support::{assert_golden, datagen, dump, file_names, root, run, stderr};

fn small() -> std::path::PathBuf {
    root().join("tests/golden/small.toml")
}

fn write_to(genfile: &Path, target: &str) -> Output {
    run(datagen()
        .arg("--config")
        .arg(genfile)
        .args(["--quiet", "--target", target]))
}

fn ok(out: &Output) {
    assert!(out.status.success(), "datagen failed: {}", stderr(out));
}

fn temp_files(dir: &Path) -> Vec<String> {
    file_names(dir)
        .into_iter()
        .filter(|n| n.contains("datagen-tmp"))
        .collect()
}

#[test]
fn every_format_on_stdout_is_pinned() {
    for (target, golden) in [
        ("stdout://csv", "small.csv"),
        ("stdout://jsonl", "small.jsonl"),
        ("stdout://sql", "small.postgres.sql"),
        ("stdout://sql?dialect=sqlite", "small.sqlite.sql"),
    ] {
        let out = write_to(&small(), target);
        ok(&out);
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        assert_golden(&root().join("tests/golden").join(golden), &text);
    }
}

#[test]
fn directory_and_file_targets_hold_what_stdout_shows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&write_to(
        &small(),
        &format!("csv://{}", d.join("csv").display()),
    ));
    ok(&write_to(
        &small(),
        &format!("jsonl://{}", d.join("jsonl").display()),
    ));
    ok(&write_to(
        &small(),
        &format!("sql://{}", d.join("out/x.sql").display()),
    ));
    let stdout = |t: &str| write_to(&small(), t).stdout;
    let csv: Vec<u8> = [
        std::fs::read(d.join("csv/accounts.csv")).unwrap(),
        b"\r\n".to_vec(),
        std::fs::read(d.join("csv/events.csv")).unwrap(),
    ]
    .concat();
    assert_eq!(csv, stdout("stdout://csv"));
    // One stream of several tables says each line's table.
    let mut jsonl = String::new();
    for table in ["accounts", "events"] {
        let text = std::fs::read_to_string(d.join(format!("jsonl/{table}.jsonl"))).unwrap();
        for line in text.lines() {
            jsonl.push_str(&format!("{{\"table\":\"{table}\",\"row\":{line}}}\n"));
        }
    }
    assert_eq!(jsonl.as_bytes(), stdout("stdout://jsonl"));
    assert_eq!(
        std::fs::read(d.join("out/x.sql")).unwrap(),
        stdout("stdout://sql")
    );
    for sub in ["csv", "jsonl", "out"] {
        assert!(temp_files(&d.join(sub)).is_empty());
    }
}

#[test]
fn the_sqlite_script_loads_into_what_the_sqlite_target_writes() {
    for genfile in [small(), root().join("tests/golden/catalogue.toml")] {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("x.sql");
        ok(&write_to(
            &genfile,
            &format!("sql://{}?dialect=sqlite", script.display()),
        ));
        let from_script = dir.path().join("script.db");
        rusqlite::Connection::open(&from_script)
            .unwrap()
            .execute_batch(&std::fs::read_to_string(&script).unwrap())
            .unwrap();
        let direct = dir.path().join("direct.db");
        ok(&write_to(
            &genfile,
            &format!("sqlite://{}", direct.display()),
        ));
        assert_eq!(dump(&from_script), dump(&direct), "{}", genfile.display());
    }
}

#[test]
fn csv_and_jsonl_agree_with_sqlite_on_every_generator() {
    let genfile = root().join("tests/golden/catalogue.toml");
    let model = canon::schema(&genfile);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&write_to(
        &genfile,
        &format!("sqlite://{}", d.join("c.db").display()),
    ));
    ok(&write_to(&genfile, &format!("csv://{}", d.display())));
    ok(&write_to(&genfile, &format!("jsonl://{}", d.display())));
    for table in &model.tables {
        let lite = canon::from_sqlite(&d.join("c.db"), table);
        assert!(!lite.is_empty());
        assert!(
            canon::from_csv(&d.join(format!("{}.csv", table.name)), table) == lite,
            "CSV of {}",
            table.name
        );
        assert!(
            canon::from_jsonl(&d.join(format!("{}.jsonl", table.name)), table) == lite,
            "JSON Lines of {}",
            table.name
        );
    }
}

#[test]
fn if_exists_for_files() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("csv://{}", dir.path().display());
    ok(&write_to(&small(), &target));
    let first = std::fs::read(dir.path().join("accounts.csv")).unwrap();

    // fail: exit 2, the file named, nothing touched.
    let out = write_to(&small(), &target);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("accounts.csv already exists"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("accounts.csv")).unwrap(),
        first
    );

    let with = |mode: &str| {
        run(datagen()
            .env("DATAGEN_IF_EXISTS", mode)
            .arg("--config")
            .arg(small())
            .args(["--quiet", "--target", &target]))
    };
    // append: the rows again, without a second header.
    ok(&with("append"));
    let appended = std::fs::read(dir.path().join("accounts.csv")).unwrap();
    let header_len = first.iter().position(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(appended, [&first[..], &first[header_len..]].concat());
    ok(&with("replace"));
    assert_eq!(
        std::fs::read(dir.path().join("accounts.csv")).unwrap(),
        first
    );
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn a_failed_run_publishes_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    // `events.csv` cannot be published: a directory has its name.
    std::fs::create_dir(dir.path().join("events.csv")).unwrap();
    let out = run(datagen()
        .env("DATAGEN_IF_EXISTS", "replace")
        .arg("--config")
        .arg(small())
        .args([
            "--quiet",
            "--target",
            &format!("csv://{}", dir.path().display()),
        ]));
    // Found before anything is generated: bad input.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("events.csv is a directory, not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    assert!(dir.path().join("events.csv").is_dir());
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    use std::io::Read;
    let mut child = datagen()
        .arg("--config")
        .arg(root().join("schemas/shop.toml"))
        .args(["--quiet", "--scale", "0.1", "--target", "stdout://csv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The reader is gone, as after `| head -c 64`.
    let out = child.wait_with_output().unwrap();
    assert!(
        first.starts_with(b"id,"),
        "{:?}",
        String::from_utf8_lossy(&first)
    );
    assert_eq!(out.status.code(), Some(141));
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_full_disk_ends_cleanly_without_a_published_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    // 200 blocks of 512 bytes: the order items outgrow it.
    let script = format!(
        "ulimit -f 200 && exec '{}' --config '{}' --quiet --scale 0.05 --target 'csv://{}'",
        env!("CARGO_BIN_EXE_datagen"),
        root().join("schemas/shop.toml").display(),
        dir.path().display()
    );
    let out = run(std::process::Command::new("sh")
        .args(["-c", &script])
        .env("DATAGEN_MAX_RESTARTS", "1")
        .env("DATAGEN_BACKOFF_MS", "1"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("File too large"), "{}", stderr(&out));
    let left = file_names(dir.path());
    assert!(left.is_empty(), "nothing published, nothing left: {left:?}");
}
