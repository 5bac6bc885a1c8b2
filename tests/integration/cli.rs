//! The command line: exit codes and messages.

use crate::support::{datagen, datagen_into, run, schema, stderr};

#[test]
fn validate_accepts_every_example() {
    for entry in std::fs::read_dir(crate::support::root().join("schemas")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = run(datagen().arg("validate").arg("--config").arg(&path));
            assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
        }
    }
}

#[test]
fn bad_input_exits_2_with_a_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("typo.toml");
    std::fs::write(
        &genfile,
        "[tables.t]\nrows = 3\n[tables.t.columns]\nid = { gen = \"sequnce\" }\n",
    )
    .unwrap();
    for args in [vec!["validate", "--config"], vec!["--config"]] {
        let out = run(datagen().args(&args).arg(&genfile));
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains("typo.toml:4:14: error: column `t.id`: unknown generator `sequnce`"),
            "{err}"
        );
        assert!(err.contains("help: did you mean `sequence`?"), "{err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let cases: [&[&str]; 4] = [
        &[],
        &["--config", "/nonexistent/genfile.toml"],
        &["--no-such-flag"],
        &["--config", "schemas/shop.toml", "--workers", "many"],
    ];
    for args in cases {
        let out = run(datagen().current_dir(crate::support::root()).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
}

#[test]
fn an_unsupported_target_is_bad_input_and_hides_passwords() {
    let out = run(datagen()
        .arg("--config")
        .arg(schema("shop.toml"))
        .args(["--target", "mysql://root:hunter2@localhost/db"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("target scheme `mysql://` is not one datagen writes to"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn a_bad_environment_value_is_bad_input() {
    let out = run(datagen()
        .arg("--config")
        .arg(schema("shop.toml"))
        .env("DATAGEN_SEED", "forty-two"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("DATAGEN_SEED"), "{}", stderr(&out));
}

#[test]
fn a_run_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let out = run(datagen_into(&schema("shop.toml"), &db).args(["--scale", "0.001"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("customers") && err.contains("100 rows"),
        "{err}"
    );
    assert!(err.contains("rows/s"), "{err}");
}

#[test]
fn preview_shows_the_rows_a_run_writes() {
    let genfile = crate::support::root().join("tests/golden/small.toml");
    let out = run(datagen()
        .arg("preview")
        .arg("--config")
        .arg(&genfile)
        .args(["--rows", "2", "--table", "accounts"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "accounts (2 of 6 rows)");
    assert!(lines[1].starts_with("| id  | uid "), "{text}");
    // The same values as the pinned output of a real run.
    let golden =
        std::fs::read_to_string(crate::support::root().join("tests/golden/small.dump")).unwrap();
    assert!(
        golden.contains("b9c20fdb-2172-406d-abcb-2eea478566d3")
            && lines[3].contains("b9c20fdb-2172-406d-abcb-2eea478566d3")
    );
    assert!(lines[3].contains("Yohanna Ortiz"), "{text}");
    assert_eq!(lines.len(), 6, "{text}");

    let out = run(datagen()
        .arg("preview")
        .arg("--config")
        .arg(&genfile)
        .args(["--table", "acounts"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tables are: accounts, events"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ddl_for_both_dialects() {
    for dialect in ["sqlite", "postgres"] {
        let out = run(datagen()
            .arg("ddl")
            .arg("--config")
            .arg(schema("shop.toml"))
            .args(["--dialect", dialect]));
        assert!(out.status.success(), "{}", stderr(&out));
        let golden = crate::support::root().join(format!("tests/golden/shop.{dialect}.sql"));
        crate::support::assert_golden(&golden, &String::from_utf8_lossy(&out.stdout));
    }
    let out = run(datagen()
        .arg("ddl")
        .arg("--config")
        .arg(schema("shop.toml"))
        .args(["--dialect", "oracle"]));
    assert_eq!(out.status.code(), Some(2));
}
