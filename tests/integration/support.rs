//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rusqlite::Connection;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The names of the files in `dir`.
pub fn file_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A path under the repository's `schemas/`.
pub fn schema(name: &str) -> PathBuf {
    root().join("schemas").join(name)
}

/// The `datagen` binary, with no `DATAGEN_*` variables from the caller's
/// environment leaking into the run.
pub fn datagen() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_datagen"));
    for (key, _) in std::env::vars() {
        if key.starts_with("DATAGEN_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `datagen` writing `genfile` into the SQLite database `db`.
pub fn datagen_into(genfile: &Path, db: &Path) -> Command {
    let mut cmd = datagen();
    cmd.arg("--config")
        .arg(genfile)
        .arg("--target")
        .arg(format!("sqlite://{}", db.display()));
    cmd
}

/// Writes `text` as a Genfile in `dir` and runs it into `dir/NAME.db`,
/// quietly; returns the output and the database path.
pub fn run_text(dir: &Path, name: &str, text: &str) -> (Output, PathBuf) {
    let genfile = dir.join(format!("{name}.toml"));
    std::fs::write(&genfile, text).unwrap();
    let db = dir.join(format!("{name}.db"));
    let out = run(datagen_into(&genfile, &db).arg("--quiet"));
    (out, db)
}

/// Runs `cmd` and returns its output, with stderr shown on failure to help.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("datagen runs")
}

/// Text of stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A canonical dump of an SQLite database: each table's CREATE statement
/// followed by its rows in rowid order, every value as an SQL literal with
/// its storage class. Two databases with equal dumps hold the same data.
pub fn dump(path: &Path) -> String {
    let conn = Connection::open(path).expect("open database");
    let mut out = String::new();
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (name, sql) in tables {
        out.push_str(&sql);
        out.push_str(";\n");
        let columns: Vec<String> = conn
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{name}') ORDER BY cid"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let select = columns
            .iter()
            .map(|c| format!("typeof(\"{c}\") || ':' || quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || ', ' || ");
        let mut stmt = conn
            .prepare(&format!("SELECT {select} FROM \"{name}\" ORDER BY rowid"))
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        for row in rows {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

/// Compares `actual` with the golden file at `path`; `UPDATE_GOLDEN=1`
/// rewrites the file instead.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(10)
            .map(|(i, (e, a))| format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1))
            .collect();
        panic!(
            "{} differs from the output ({} vs {} lines)\n{}\nrun with UPDATE_GOLDEN=1 to accept the new output",
            path.display(),
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// The single integer `sql` gives on `conn` (a `count(*)`).
pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
