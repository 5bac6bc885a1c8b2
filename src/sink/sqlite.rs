//! The SQLite target (`sqlite://PATH`): declared types, PRIMARY KEY,
//! UNIQUE and FOREIGN KEY constraints, rows bound to cached prepared
//! statements, a transaction per commit unit of `commit_rows` rows.
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

use super::apply::{Apply, LEADING};
use super::checkpoint::Committed;
use super::ddl::{create_table, quote, Dialect};
use super::options::{AnyKey, Common, IfExists, Options};
use super::upsert::{upsert_span, Merge, Upsert, ON_CONFLICT};
use super::{
    io_transient, BlockEncoder, Commits, ErrorKind, Failure, Given, Kind, OpenArgs, Resume, Target,
    TargetSink,
};
use crate::diag::Diagnostic;
use crate::format::text;
use crate::progress::Progress;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::sink::place::{self, MadeDirs, MakeError, NotAFile};
use crate::url::{no_options, Url, UrlError};
use crate::value::{Block, Value};

/// Why the SQLite target failed.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// SQLite reported an error.
    #[error("SQLite error on {path}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `--resume` cannot continue from what the file holds.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// The database path is not a regular file.
    #[error(transparent)]
    NotAFile(#[from] NotAFile),
    /// A table exists and `if_exists = "fail"`.
    #[error("table `{table}` already exists in {path}")]
    TableExists {
        /// The table.
        table: String,
        /// The database file.
        path: String,
    },
}

impl SqliteError {
    /// What the error means for the run.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SqliteError::TableExists { .. } | SqliteError::Resume(_) | SqliteError::NotAFile(_) => {
                ErrorKind::Input
            }
            SqliteError::Io { source, .. } if io_transient(source) => ErrorKind::Transient,
            SqliteError::Sqlite { source, .. } if sqlite_transient(source) => ErrorKind::Transient,
            // A file that is not a database was named as one.
            SqliteError::Sqlite { source, .. }
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) =>
            {
                ErrorKind::Input
            }
            SqliteError::Sqlite { .. } | SqliteError::Io { .. } => ErrorKind::Permanent,
        }
    }
}

/// Whether SQLite may accept the same statement later: another
/// connection holds a lock. A violated constraint, a full disk or a type
/// SQLite rejects fails the same way every time.
fn sqlite_transient(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(
        e.sqlite_error_code(),
        Some(C::DatabaseBusy | C::DatabaseLocked)
    )
}

impl From<SqliteError> for Failure {
    fn from(e: SqliteError) -> Self {
        Failure::new(e.kind(), e)
    }
}

/// `sqlite://PATH`.
pub struct SqliteKind;

/// The SQLite kind of target.
pub static SQLITE: SqliteKind = SqliteKind;

impl Kind for SqliteKind {
    fn schemes(&self) -> &'static [&'static str] {
        &["sqlite"]
    }

    fn usage(&self) -> &'static [&'static str] {
        &["sqlite://PATH"]
    }

    fn keys(&self) -> &'static [&'static dyn AnyKey] {
        &[
            &super::options::IF_EXISTS,
            &super::options::COMMIT_ROWS,
            &ON_CONFLICT,
        ]
    }

    fn parse(
        &self,
        url: &Url<'_>,
        options: &mut Options<'_>,
        shard: Shard,
    ) -> Result<Arc<dyn Target>, UrlError> {
        let (path, opts) = url.path()?;
        no_options(&opts)?;
        Ok(Arc::new(SqliteTarget {
            // Each shard writes a database of its own.
            path: shard.file_path(&path),
            common: Common::read(options),
            made: Arc::default(),
            upserts: options.get(&ON_CONFLICT).unwrap_or_default(),
        }))
    }
}

/// One SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteTarget {
    /// The database file.
    pub path: PathBuf,
    /// `if_exists`, `commit_rows`.
    pub common: Common,
    /// Directories a run made, removed again if it fails.
    pub made: Arc<MadeDirs>,
    /// `on_conflict`: tables loaded by upsert-add.
    pub upserts: Vec<Upsert>,
}

impl SqliteTarget {
    fn merges(&self, schema: &Schema) -> Result<Vec<Merge>, Failure> {
        Merge::resolve(schema, &self.upserts, None, true)
            .map_err(|d| Failure::new(ErrorKind::Input, schema.located(d).to_string()))
    }
}

impl std::fmt::Display for SqliteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sqlite://{}", self.path.display())
    }
}

impl Target for SqliteTarget {
    fn options(&self) -> Vec<(&'static str, String)> {
        self.common.shown()
    }

    fn check(&self, schema: &Schema) -> Vec<Diagnostic> {
        let mut d = super::ddl::problems(schema, super::ddl::Dialect::Sqlite);
        if let Err(problems) = Merge::resolve(schema, &self.upserts, upsert_span(schema), true) {
            d.extend(problems);
        }
        d
    }

    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure> {
        if let Some(dir) = self.path.parent() {
            self.made.make(dir).map_err(|e| match e {
                MakeError::NotAFile(e) => SqliteError::NotAFile(e),
                MakeError::Io { path, source } => SqliteError::Io {
                    action: "cannot create directory",
                    path,
                    source,
                },
            })?;
        }
        Ok(Box::new(SqliteSink::open(
            &self.path,
            args.schema.clone(),
            self.common.if_exists,
            Commits::new(self.common.commit_rows, args),
            args.resume.clone(),
            args.progress.clone(),
            self.merges(&args.schema)?,
            Apply::of(&args.schema, args.stream)?,
        )?))
    }

    fn upserts(&self) -> Vec<Upsert> {
        self.upserts.clone()
    }

    fn reader(&self) -> Result<Option<Box<dyn super::Reader>>, Failure> {
        Ok(Some(Box::new(super::read::SqliteReader::open(&self.path)?)))
    }

    fn discard(&self, _: &Schema) {
        // Only a new database is unpublished: its temporary file goes. A
        // database that exists was written in place, and a temporary file
        // beside it is another run's, kept for its --resume.
        if !self.path.exists() {
            discard(&self.path);
        }
        self.made.remove();
    }
}

/// Writes batches into an SQLite database.
pub struct SqliteSink {
    conn: Option<Connection>,
    schema: Arc<Schema>,
    path: PathBuf,
    /// Where the file is written until `finish`, for a new database.
    temp: Option<PathBuf>,
    inserts: Vec<String>,
    /// Per table, the columns its insert binds, in order.
    binds: Vec<Vec<usize>>,
    /// Per table, how rows merge into the store (`on_conflict`).
    merges: Vec<Option<Merge>>,
    /// Per table, the changes it holds and where they apply (a stream).
    applies: Vec<Option<Apply>>,
    scratch: String,
    progress: Arc<Progress>,
    resume: Resume,
    /// What earlier runs of this file committed.
    committed: Committed,
    /// Rows per transaction.
    commits: Commits,
    /// `(table, rows)` written in the open transaction.
    pending: Vec<(usize, u64)>,
    /// Rows given and committed.
    given: Given,
}

/// The table that records committed ranges until the file is complete.
const PROGRESS: &str = "datagen_progress";

/// Binds `value` (of `column`, its text in `block`) as parameter `idx`,
/// with `scratch` for the text it is written as.
fn bind(
    stmt: &mut rusqlite::CachedStatement<'_>,
    idx: usize,
    value: &Value,
    column: &crate::schema::Column,
    block: &Block,
    scratch: &mut String,
) -> rusqlite::Result<()> {
    match *value {
        Value::Null => stmt.raw_bind_parameter(idx, Null),
        Value::Int(v) => stmt.raw_bind_parameter(idx, v),
        Value::Float(v) => stmt.raw_bind_parameter(idx, v),
        Value::Decimal(units) => {
            let scale = column.sql_type.scale();
            stmt.raw_bind_parameter(idx, text::decimal_to_f64(units, scale))
        }
        Value::Bool(b) => stmt.raw_bind_parameter(idx, i64::from(b)),
        Value::Text(s, e) => stmt.raw_bind_parameter(idx, block.str(s, e)),
        Value::Uuid(ref bytes) => {
            text::uuid(scratch, bytes);
            stmt.raw_bind_parameter(idx, scratch.as_str())
        }
        Value::Date(days) => {
            text::date(scratch, days);
            stmt.raw_bind_parameter(idx, scratch.as_str())
        }
        Value::Timestamp(micros) => {
            text::timestamp(scratch, micros);
            stmt.raw_bind_parameter(idx, scratch.as_str())
        }
    }
}

/// A file's checkpoint: this run's committed ranges, its rows per table,
/// and whether another run's rows are recorded too.
struct Checkpoint {
    committed: Committed,
    counts: Vec<(String, u64)>,
    others: bool,
}

fn checkpoint(conn: &Connection, fingerprint: &str) -> rusqlite::Result<Option<Checkpoint>> {
    let exists = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [PROGRESS],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !exists {
        return Ok(None);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT run, table_name, stream_from, stream_to, rows FROM {PROGRESS}"
    ))?;
    let mut rows = stmt.query([])?;
    let mut ranges = Vec::new();
    let mut counts: Vec<(String, u64)> = Vec::new();
    let mut others = false;
    while let Some(row) = rows.next()? {
        let run: String = row.get(0)?;
        if run != fingerprint {
            others = true;
            continue;
        }
        let table: String = row.get(1)?;
        let (from, to, n): (i64, i64, i64) = (row.get(2)?, row.get(3)?, row.get(4)?);
        ranges.push((from as u64, to as u64));
        match counts.iter_mut().find(|(t, _)| *t == table) {
            Some((_, c)) => *c += n as u64,
            None => counts.push((table, n as u64)),
        }
    }
    Ok(Some(Checkpoint {
        committed: Committed::from_ranges(ranges),
        counts,
        others,
    }))
}

impl SqliteSink {
    /// Opens (or creates) the database at `path`, applies `if_exists` and
    /// creates the tables. Nothing is written if this fails.
    pub fn open(
        path: &Path,
        schema: Arc<Schema>,
        if_exists: IfExists,
        commits: Commits,
        resume: Resume,
        progress: Arc<Progress>,
        merges: Vec<Merge>,
        applies: Vec<Option<Apply>>,
    ) -> Result<Self, SqliteError> {
        let display = path.display().to_string();
        let sql_err = |source| SqliteError::Sqlite {
            path: display.clone(),
            source,
        };
        let exists = place::writable_in_place(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            place::directory(dir)?;
            std::fs::create_dir_all(dir).map_err(|source| SqliteError::Io {
                action: "cannot create directory",
                path: dir.display().to_string(),
                source,
            })?;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = path.with_file_name(format!(".{name}.datagen-tmp"));
        // Resuming: the unpublished file of an interrupted run, or a
        // database written in place that still holds its checkpoint.
        let mut resumed = None;
        if resume.resume {
            for (file, is_temp) in [(&temp, true), (&path.to_path_buf(), false)] {
                if !file.exists() {
                    continue;
                }
                let conn = Connection::open(file).map_err(sql_err)?;
                match checkpoint(&conn, &resume.fingerprint).map_err(sql_err)? {
                    Some(c) if c.others && c.committed.is_empty() && !resume.restart => {
                        return Err(SqliteError::Resume(format!(
                            "{} holds a run made with a different Genfile, seed or scale\n  help: resume with the same Genfile, --seed and --scale, or start over without --resume",
                            file.display()
                        )))
                    }
                    Some(c) => {
                        resumed = Some((conn, is_temp, c.committed, c.counts));
                        break;
                    }
                    None if is_temp => {}
                    None => {
                        return Err(SqliteError::Resume(format!(
                            "{} holds no interrupted run (it may be complete)\n  help: run without --resume",
                            path.display()
                        )))
                    }
                }
            }
        }
        let (conn, temp, committed) = if let Some((conn, is_temp, committed, counts)) = resumed {
            for (table, n) in counts {
                if let Some(t) = schema.tables.iter().position(|x| x.name == table) {
                    progress.add(t, n);
                }
            }
            if is_temp {
                conn.execute_batch("PRAGMA synchronous = OFF;")
                    .map_err(sql_err)?;
            }
            (conn, is_temp.then_some(temp), Some(committed))
        } else if !exists {
            // Whatever is left there (a link too) is removed, not followed.
            match std::fs::remove_file(&temp) {
                Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                    return Err(SqliteError::Io {
                        action: "cannot remove stale temporary file",
                        path: temp.display().to_string(),
                        source,
                    })
                }
                _ => {}
            }
            for side in journal(&temp) {
                let _ = std::fs::remove_file(side);
            }
            let conn = Connection::open(&temp).map_err(sql_err)?;
            // The file is published only when complete; the rollback
            // journal keeps every committed unit intact if the process is
            // killed, so --resume can continue. No fsync: a killed process
            // loses nothing the kernel already has.
            conn.execute_batch("PRAGMA journal_mode = TRUNCATE; PRAGMA synchronous = OFF;")
                .map_err(sql_err)?;
            (conn, Some(temp), None)
        } else {
            let conn = Connection::open(path).map_err(sql_err)?;
            (conn, None, None)
        };
        conn.execute_batch("PRAGMA foreign_keys = OFF;")
            .map_err(sql_err)?;
        let mut by_table: Vec<Option<Merge>> = vec![None; schema.tables.len()];
        for m in merges {
            let t = m.table;
            by_table[t] = Some(m);
        }
        let mut sink = SqliteSink {
            conn: Some(conn),
            inserts: schema
                .tables
                .iter()
                .zip(&by_table)
                .zip(&applies)
                .map(|((t, merge), apply)| match (merge, apply) {
                    (_, Some(a)) => a.sqlite_write(&schema),
                    (Some(m), _) => m.sqlite_insert(t, &quote(&t.name)),
                    (None, None) => {
                        let marks = vec!["?"; t.columns.len()].join(", ");
                        format!("INSERT INTO {} VALUES ({marks})", quote(&t.name))
                    }
                })
                .collect(),
            binds: schema
                .tables
                .iter()
                .zip(&by_table)
                .zip(&applies)
                .map(|((t, merge), apply)| match (merge, apply) {
                    (_, Some(_)) => (LEADING..t.columns.len()).collect(),
                    (Some(m), _) => m.key.iter().chain(&m.add).copied().collect(),
                    (None, None) => (0..t.columns.len()).collect(),
                })
                .collect(),
            merges: by_table,
            applies,
            schema,
            path: path.to_path_buf(),
            temp,
            scratch: String::new(),
            progress,
            committed: committed.clone().unwrap_or_default(),
            resume,
            commits,
            pending: Vec::new(),
            given: Given::default(),
        };
        if committed.is_none() {
            sink.prepare_tables(if_exists).map_err(|e| match e {
                PrepareError::Sqlite(source) => sql_err(source),
                PrepareError::Exists(table) => SqliteError::TableExists {
                    table,
                    path: display.clone(),
                },
            })?;
        }
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
        for ((table, merge), apply) in self
            .schema
            .tables
            .iter()
            .zip(&self.merges)
            .zip(&self.applies)
        {
            let keep = present.contains(&table.name.as_str()) && if_exists != IfExists::Replace;
            // A changes table is applied to its table, not stored.
            if !keep && apply.is_none() {
                tx.execute_batch(&match merge {
                    Some(m) => m.create_table(table, &quote(&table.name), Dialect::Sqlite),
                    None => create_table(&self.schema, table, Dialect::Sqlite),
                })?;
            }
        }
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {PROGRESS} (run TEXT NOT NULL, table_name TEXT NOT NULL, \
             stream_from INTEGER NOT NULL, stream_to INTEGER NOT NULL, rows INTEGER NOT NULL)"
        ))?;
        tx.execute(
            &format!("DELETE FROM {PROGRESS} WHERE run = ?1"),
            [&self.resume.fingerprint],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn write_batch(&mut self, batch: &mut Vec<Block>) -> rusqlite::Result<()> {
        *batch = self.committed.uncommitted(std::mem::take(batch));
        let batch = &*batch;
        let conn = self
            .conn
            .as_ref()
            .expect("the connection lives until finish or drop");
        if batch.is_empty() {
            return Ok(());
        }
        if self.pending.is_empty() {
            conn.execute_batch("BEGIN")?;
        }
        let tx = conn;
        {
            let mut record = tx.prepare_cached(&format!(
                "INSERT INTO {PROGRESS} (run, table_name, stream_from, stream_to, rows) VALUES (?1, ?2, ?3, ?4, ?5)"
            ))?;
            for block in batch {
                let n = block.len() as i64;
                record.execute(rusqlite::params![
                    self.resume.fingerprint,
                    self.schema.tables[block.table].name,
                    block.stream as i64,
                    block.stream as i64 + n,
                    n
                ])?;
            }
        }
        for block in batch {
            let table = &self.schema.tables[block.table];
            let mut stmt = tx.prepare_cached(&self.inserts[block.table])?;
            let binds = &self.binds[block.table];
            let apply = self.applies[block.table].as_ref();
            let mut delete = match apply {
                Some(a) => Some(tx.prepare_cached(&a.sqlite_delete(&self.schema))?),
                None => None,
            };
            for row in block.rows() {
                if let (Some(a), Some(delete), Value::Text(s, e)) = (apply, delete.as_mut(), row[0])
                {
                    if block.str(s, e) == "delete" {
                        let key = LEADING + a.key;
                        self.scratch.clear();
                        bind(
                            delete,
                            1,
                            &row[key],
                            &table.columns[key],
                            block,
                            &mut self.scratch,
                        )?;
                        delete.raw_execute()?;
                        continue;
                    }
                }
                for (i, &c) in binds.iter().enumerate() {
                    self.scratch.clear();
                    bind(
                        &mut stmt,
                        i + 1,
                        &row[c],
                        &table.columns[c],
                        block,
                        &mut self.scratch,
                    )?;
                }
                stmt.raw_execute()?;
            }
        }
        self.pending
            .extend(batch.iter().map(|b| (b.table, b.len() as u64)));
        let rows: u64 = self.pending.iter().map(|(_, n)| n).sum();
        if rows >= self.commits.rows() {
            self.commit()?;
            self.commits.committed();
        }
        Ok(())
    }

    /// Commits the open transaction, with its checkpoint rows.
    fn commit(&mut self) -> rusqlite::Result<()> {
        if self.pending.is_empty() {
            self.given.committed();
            return Ok(());
        }
        self.conn().execute_batch("COMMIT")?;
        for (table, n) in self.pending.drain(..) {
            self.progress.add(table, n);
        }
        self.given.committed();
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

impl TargetSink for SqliteSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        None
    }

    fn units_ahead(&self) -> usize {
        // SQLite is slower than generation, and waiting units hold values:
        // two per worker keep the same speed in less memory.
        2
    }
}

impl Sink for SqliteSink {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        self.given.begin(batch);
        self.write_batch(batch).map_err(|source| {
            Box::new(Failure::from(SqliteError::Sqlite {
                path: self.path.display().to_string(),
                source,
            })) as BoxError
        })?;
        self.given.end();
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        Some(self.given.durable)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.complete()
            .map_err(|e| Box::new(Failure::from(e)) as BoxError)
    }
}

impl SqliteSink {
    /// Commits what is open and, unless the run was stopped, publishes
    /// the database.
    fn complete(&mut self) -> Result<(), SqliteError> {
        self.commit().map_err(|source| SqliteError::Sqlite {
            path: self.path.display().to_string(),
            source,
        })?;
        if self.resume.stopped() {
            // Interrupted: every batch is committed with its checkpoint;
            // the file stays unpublished for --resume.
            return Ok(());
        }
        let conn = self.conn.take().expect("finish is called once");
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {PROGRESS}"))
            .map_err(|source| SqliteError::Sqlite {
                path: self.path.display().to_string(),
                source,
            })?;
        conn.close().map_err(|(_, source)| SqliteError::Sqlite {
            path: self.path.display().to_string(),
            source,
        })?;
        if let Some(temp) = self.temp.take() {
            for side in journal(&temp) {
                let _ = std::fs::remove_file(side);
            }
            place::publishable(&self.path)?;
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
        // Not finished: another part failed, or this sink did. What the
        // batches written whole hold is committed — the restart continues
        // after it — unless a write failed half-way. An unpublished file
        // stays for the Supervisor's restart or for --resume; the run
        // removes it with [`discard`] when it gives up.
        if self.conn.is_some() && !self.given.poisoned && !self.pending.is_empty() {
            if let Err(e) = self.commit() {
                tracing::debug!(error = %e, "committing on drop failed");
            }
        }
        drop(self.conn.take());
    }
}

/// Removes the unpublished file (and its journal) of a new database at
/// `path` whose run failed for good.
pub fn discard(path: &Path) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.datagen-tmp"));
    for side in journal(&temp) {
        let _ = std::fs::remove_file(side);
    }
    let _ = std::fs::remove_file(temp);
}

/// The files SQLite keeps beside a database: journal, write-ahead log
/// and its index.
fn journal(db: &Path) -> [PathBuf; 3] {
    ["-journal", "-wal", "-shm"].map(|suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}
