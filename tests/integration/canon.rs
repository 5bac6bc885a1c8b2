//! Table contents in one canonical text form, read from every target, so
//! that outputs of the same seed can be compared value for value.
//!
//! Each reader here is independent of datagen's writers: PostgreSQL's own
//! text output, SQLite's stored values, a CSV reader written to RFC 4180,
//! and serde_json for JSON Lines.

use std::path::Path;

use datagen::schema::{Schema, Table};
use datagen::value::SqlType;
use rusqlite::types::ValueRef;

use super::pg::Pg;

/// Rows of a table, each value canonical text or `None` for NULL, sorted.
pub type Rows = Vec<Vec<Option<String>>>;

/// The canonical text of `text`, a value of a column of type `ty` as some
/// reader gave it (datagen's own canonical form, which the readers here
/// only feed).
pub fn canonical(ty: SqlType, text: &str) -> String {
    let canon = datagen::format::canon::canonical(ty, text);
    assert!(
        !canon.starts_with(datagen::format::canon::UNREADABLE),
        "not a value of {ty:?}: {text}"
    );
    canon.into_owned()
}

fn finish(mut rows: Rows) -> Rows {
    rows.sort();
    rows
}

/// A table of `schema` as PostgreSQL holds it (`qualified` is its SQL name).
pub fn from_pg(pg: &Pg, table: &Table, qualified: &str) -> Rows {
    pg.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 1");
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name.replace('"', "\"\"")))
        .collect();
    let rows = pg.rows(&format!("SELECT {} FROM {qualified}", columns.join(", ")));
    finish(
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(&table.columns)
                    .map(|(v, c)| v.map(|v| canonical(c.sql_type, &v)))
                    .collect()
            })
            .collect(),
    )
}

/// Every table of `schema` from the test schema `db`.
pub fn pg_tables(db: &super::pg::TestSchema, schema: &Schema) -> Vec<Rows> {
    schema
        .tables
        .iter()
        .map(|t| from_pg(&db.pg, t, &db.table(&t.name)))
        .collect()
}

/// A table as an SQLite database holds it.
pub fn from_sqlite(db: &Path, table: &Table) -> Rows {
    let conn = rusqlite::Connection::open(db).unwrap();
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name.replace('"', "\"\"")))
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{}\"",
        columns.join(", "),
        table.name.replace('"', "\"\"")
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let values = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let text = match row.get_ref(i).unwrap() {
                    ValueRef::Null => return None,
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(x) => x.to_string(),
                    ValueRef::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                    ValueRef::Blob(_) => panic!("blob in {}", c.name),
                };
                Some(canonical(c.sql_type, &text))
            })
            .collect();
        out.push(values);
    }
    finish(out)
}

/// Parses RFC 4180 CSV: fields separated by commas, records by CRLF,
/// quoted fields may hold anything with `""` for a quote. An unquoted
/// empty field is `None` (NULL), a quoted one `Some("")`.
pub fn parse_csv(text: &str) -> Vec<Vec<Option<String>>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        // At the start of a field.
        let field = if chars.peek() == Some(&'"') {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        s.push('"');
                    }
                    Some('"') => break,
                    Some(c) => s.push(c),
                    None => panic!("unterminated quoted field"),
                }
            }
            Some(s)
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\r' || c == '\n' {
                    break;
                }
                assert!(c != '"', "quote inside an unquoted field");
                s.push(c);
                chars.next();
            }
            if s.is_empty() {
                None
            } else {
                Some(s)
            }
        };
        record.push(field);
        match chars.next() {
            Some(',') => continue,
            Some('\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                records.push(std::mem::take(&mut record));
                if chars.peek().is_none() {
                    break;
                }
            }
            None => {
                if !(record.len() == 1 && record[0].is_none()) {
                    records.push(record);
                }
                break;
            }
            Some(c) => panic!("unexpected {c:?} after a field"),
        }
    }
    records
}

/// A table from a CSV file with a header line.
pub fn from_csv(path: &Path, table: &Table) -> Rows {
    let text = std::fs::read_to_string(path).unwrap();
    let mut records = parse_csv(&text).into_iter();
    let header: Vec<String> = records
        .next()
        .expect("a header")
        .into_iter()
        .map(|h| h.expect("header names are not empty"))
        .collect();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(header, names, "header of {}", path.display());
    finish(
        records
            .map(|r| {
                assert_eq!(r.len(), table.columns.len(), "fields in {}", path.display());
                r.into_iter()
                    .zip(&table.columns)
                    .map(|(v, c)| v.map(|v| canonical(c.sql_type, &v)))
                    .collect()
            })
            .collect(),
    )
}

/// A table from a JSON Lines file.
pub fn from_jsonl(path: &Path, table: &Table) -> Rows {
    finish(jsonl_in_order(path, table))
}

/// The rows of a JSON Lines file, in the file's order.
pub fn jsonl_in_order(path: &Path, table: &Table) -> Rows {
    let text = std::fs::read_to_string(path).unwrap();
    {
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{}: {e}: {line}", path.display()));
                let obj = v.as_object().expect("one object per line");
                assert_eq!(obj.len(), table.columns.len());
                table
                    .columns
                    .iter()
                    .map(|c| {
                        let v = &obj[&c.name];
                        match v {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(s) if c.sql_type != SqlType::Json => {
                                Some(canonical(c.sql_type, s))
                            }
                            other if c.sql_type == SqlType::Json => {
                                Some(canonical(c.sql_type, &other.to_string()))
                            }
                            other => {
                                assert!(
                                    !matches!(other, serde_json::Value::String(_)),
                                    "{} should be typed",
                                    c.name
                                );
                                Some(canonical(c.sql_type, &other.to_string()))
                            }
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Loads the Genfile at `path` as the library sees it.
pub fn schema(path: &Path) -> Schema {
    datagen::genfile::load(path).unwrap()
}

/// Asserts that two readings of a table are equal, showing the first row
/// that differs.
pub fn assert_same(actual: &Rows, expected: &Rows, what: &str) {
    if actual == expected {
        return;
    }
    let first = actual
        .iter()
        .zip(expected)
        .position(|(a, e)| a != e)
        .unwrap_or(actual.len().min(expected.len()));
    panic!(
        "{what}: {} rows vs {} expected; first difference at sorted row {first}:\n  actual:   {:?}\n  expected: {:?}",
        actual.len(),
        expected.len(),
        actual.get(first),
        expected.get(first)
    );
}
