//! The SQLite target: declared types, PRIMARY KEY, UNIQUE and FOREIGN KEY
//! constraints, one transaction per batch through cached prepared statements.
//!
//! A new database is written under a temporary name next to the final one
//! and renamed into place by `finish`, so a reader never sees a half-written
//! file and a failed run leaves nothing behind. An existing database is
//! written in place, after `if_exists` has been applied to each table.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datagen_actors::{BoxError, Sink};
use rusqlite::types::Null;
use rusqlite::{Connection, OptionalExtension};

use super::ddl::{create_table, quote, Dialect};
use crate::format::text;
use crate::generate::{Block, Value};
use crate::genfile::schema::{IfExists, Schema};
use crate::progress::Progress;

/// Why the SQLite target failed.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// SQLite reported an error.
    #[error("SQLite error on {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A table exists and `if_exists = "fail"`.
    #[error("table `{table}` already exists in {path}")]
    TableExists {
        /// The table.
        table: String,
        /// The database file.
        path: String,
    },
}

/// Writes batches into an SQLite database.
pub struct SqliteSink {
    conn: Option<Connection>,
    schema: Arc<Schema>,
    path: PathBuf,
    /// Where the file is written until `finish`, for a new database.
    temp: Option<PathBuf>,
    inserts: Vec<String>,
    scratch: String,
    progress: Arc<Progress>,
}

impl SqliteSink {
    /// Opens (or creates) the database at `path`, applies `if_exists` and
    /// creates the tables. Nothing is written if this fails.
    pub fn open(
        path: &Path,
        schema: Arc<Schema>,
        if_exists: IfExists,
        progress: Arc<Progress>,
    ) -> Result<Self, SqliteError> {
        let display = path.display().to_string();
        let sql_err = |source| SqliteError::Sqlite {
            path: display.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SqliteError::Io {
                action: "cannot create directory",
                path: dir.display().to_string(),
                source,
            })?;
        }
        let fresh = !path.exists();
        let (conn, temp) = if fresh {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let temp = path.with_file_name(format!(".{name}.datagen-tmp"));
            if temp.exists() {
                std::fs::remove_file(&temp).map_err(|source| SqliteError::Io {
                    action: "cannot remove stale temporary file",
                    path: temp.display().to_string(),
                    source,
                })?;
            }
            let conn = Connection::open(&temp).map_err(sql_err)?;
            // The file is published only when complete, so a journal buys nothing.
            conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
                .map_err(sql_err)?;
            (conn, Some(temp))
        } else {
            let conn = Connection::open(path).map_err(sql_err)?;
            (conn, None)
        };
        conn.execute_batch("PRAGMA foreign_keys = OFF;")
            .map_err(sql_err)?;
        let mut sink = SqliteSink {
            conn: Some(conn),
            inserts: schema
                .tables
                .iter()
                .map(|t| {
                    let marks = vec!["?"; t.columns.len()].join(", ");
                    format!("INSERT INTO {} VALUES ({marks})", quote(&t.name))
                })
                .collect(),
            schema,
            path: path.to_path_buf(),
            temp,
            scratch: String::new(),
            progress,
        };
        sink.prepare_tables(if_exists).map_err(|e| match e {
            PrepareError::Sqlite(source) => sql_err(source),
            PrepareError::Exists(table) => SqliteError::TableExists {
                table,
                path: display.clone(),
            },
        })?;
        Ok(sink)
    }

    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("the connection lives until finish or drop")
    }

    fn prepare_tables(&mut self, if_exists: IfExists) -> Result<(), PrepareError> {
        let conn = self.conn();
        let exists = |name: &str| -> rusqlite::Result<bool> {
            conn.query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        };
        let mut present = Vec::new();
        for table in &self.schema.tables {
            if exists(&table.name)? {
                if if_exists == IfExists::Fail {
                    return Err(PrepareError::Exists(table.name.clone()));
                }
                present.push(table.name.as_str());
            }
        }
        let tx = conn.unchecked_transaction()?;
        // Children before parents, so a dropped parent is never referenced.
        for table in self.schema.tables.iter().rev() {
            if !present.contains(&table.name.as_str()) {
                continue;
            }
            match if_exists {
                IfExists::Replace => {
                    tx.execute_batch(&format!("DROP TABLE {}", quote(&table.name)))?
                }
                IfExists::Truncate => {
                    tx.execute_batch(&format!("DELETE FROM {}", quote(&table.name)))?
                }
                IfExists::Append | IfExists::Fail => {}
            }
        }
        for table in &self.schema.tables {
            let keep = present.contains(&table.name.as_str()) && if_exists != IfExists::Replace;
            if !keep {
                tx.execute_batch(&create_table(&self.schema, table, Dialect::Sqlite))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn write_batch(&mut self, batch: &[Block]) -> rusqlite::Result<()> {
        let conn = self
            .conn
            .as_ref()
            .expect("the connection lives until finish or drop");
        let tx = conn.unchecked_transaction()?;
        for block in batch {
            let table = &self.schema.tables[block.table];
            let mut stmt = tx.prepare_cached(&self.inserts[block.table])?;
            for row in block.rows() {
                for (i, (value, column)) in row.iter().zip(&table.columns).enumerate() {
                    let idx = i + 1;
                    let scratch = &mut self.scratch;
                    scratch.clear();
                    match *value {
                        Value::Null => stmt.raw_bind_parameter(idx, Null)?,
                        Value::Int(v) => stmt.raw_bind_parameter(idx, v)?,
                        Value::Float(v) => stmt.raw_bind_parameter(idx, v)?,
                        Value::Decimal(units) => {
                            let scale = column.sql_type.scale();
                            stmt.raw_bind_parameter(idx, text::decimal_to_f64(units, scale))?
                        }
                        Value::Bool(b) => stmt.raw_bind_parameter(idx, i64::from(b))?,
                        Value::Text(s, e) => stmt.raw_bind_parameter(idx, block.str(s, e))?,
                        Value::Uuid(ref bytes) => {
                            text::uuid(scratch, bytes);
                            stmt.raw_bind_parameter(idx, scratch.as_str())?
                        }
                        Value::Date(days) => {
                            text::date(scratch, days);
                            stmt.raw_bind_parameter(idx, scratch.as_str())?
                        }
                        Value::Timestamp(micros) => {
                            text::timestamp(scratch, micros);
                            stmt.raw_bind_parameter(idx, scratch.as_str())?
                        }
                    }
                }
                stmt.raw_execute()?;
            }
        }
        tx.commit()?;
        for block in batch {
            self.progress.add(block.table, block.len() as u64);
        }
        Ok(())
    }
}

enum PrepareError {
    Sqlite(rusqlite::Error),
    Exists(String),
}

impl From<rusqlite::Error> for PrepareError {
    fn from(e: rusqlite::Error) -> Self {
        PrepareError::Sqlite(e)
    }
}

impl Sink for SqliteSink {
    type Chunk = Block;

    fn write(&mut self, batch: Vec<Block>) -> Result<(), BoxError> {
        self.write_batch(&batch).map_err(|source| {
            Box::new(SqliteError::Sqlite {
                path: self.path.display().to_string(),
                source,
            }) as BoxError
        })
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        let conn = self.conn.take().expect("finish is called once");
        conn.close().map_err(|(_, source)| SqliteError::Sqlite {
            path: self.path.display().to_string(),
            source,
        })?;
        if let Some(temp) = self.temp.take() {
            std::fs::rename(&temp, &self.path).map_err(|source| SqliteError::Io {
                action: "cannot publish",
                path: self.path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }
}

impl Drop for SqliteSink {
    fn drop(&mut self) {
        // Not finished: the run failed. A new database was never published;
        // remove its temporary file.
        if let Some(temp) = self.temp.take() {
            drop(self.conn.take());
            let _ = std::fs::remove_file(temp);
        }
    }
}
