//! The PostgreSQL target: tables from the schema, rows through binary COPY
//! on one or more connections, keys added after the load, then ANALYZE.
//!
//! Rows are grouped into commit units of about `commit_rows` rows: one
//! transaction per unit holding one COPY per table and a row per table in
//! `datagen_progress` (run fingerprint, table, the unit's range of the row
//! stream, rows). Units go to whichever connection is free, so loading uses
//! several server processes at once, and what is committed is always a set
//! of whole units, recorded with them.
//!
//! Everything that can be refused (the server unreachable, a wrong
//! password, a table that exists under `if_exists = "fail"`, a column type
//! that cannot hold the generated values) is refused before any row is
//! written. Connections identify themselves as `application_name=datagen`;
//! the connection string's password never appears in a message.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use datagen_actors::{BoxError, Sink};
use futures::SinkExt;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};

use super::checkpoint::Committed;
use super::ddl::{constraints, create_table_with, quote, Constraint, DdlOptions, Dialect};
use super::pgbinary::{CopyEncoder, EncodeError, PgType, HEADER, TRAILER};
use super::{encoded, BlockEncoder, PgUrl, Resume};
use crate::genfile::schema::{Constraints, IfExists, Schema};
use crate::progress::Progress;
use crate::shard::Shard;
use crate::value::SqlType;
use crate::value::{Block, Encoded};

/// The table that records committed units.
pub const PROGRESS_TABLE: &str = "datagen_progress";

/// Why the PostgreSQL target failed.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {target}: {cause}")]
    Connect {
        /// The target, password hidden.
        target: String,
        /// What the driver or server said.
        cause: String,
    },
    /// A statement failed.
    #[error("PostgreSQL: cannot {action}: {cause}")]
    Server {
        /// What was being done.
        action: String,
        /// What the server said.
        cause: String,
    },
    /// A table exists and `if_exists = "fail"`.
    #[error("table {table} already exists\n  help: set `if_exists` in [target] to \"replace\", \"truncate\" or \"append\", drop the table, or add --resume to finish an interrupted run")]
    TableExists {
        /// The table, quoted as in SQL.
        table: String,
    },
    /// An existing column cannot hold what the Genfile generates.
    #[error("column {table}.{column} is {actual} in PostgreSQL, which cannot hold the {generated} values datagen generates for it\n  help: {help}")]
    ColumnType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The column's type in the database.
        actual: String,
        /// What the Genfile generates.
        generated: String,
        /// How to fix it.
        help: &'static str,
    },
    /// A value does not fit its column.
    #[error("column {table}.{column}: {source}")]
    Encode {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The value and type.
        source: EncodeError,
    },
    /// `--resume` cannot continue from what the database holds.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// A shard that cannot join the sharded load.
    #[error("cannot load this shard: {0}")]
    Shard(String),
    /// The async runtime could not start.
    #[error("cannot start the PostgreSQL client: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The text of a driver error: the server's message, detail and hint, or
/// the driver's error and its causes.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!("\n  hint: {hint}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

fn server(action: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> PgError {
    let action = action.into();
    move |e| PgError::Server {
        action,
        cause: describe(&e),
    }
}

/// The driver configuration for `url`: what the URL says, completed from
/// the standard `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`
/// and `PGCONNECT_TIMEOUT` variables the way libpq does.
pub fn config(url: &PgUrl) -> Result<Config, PgError> {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let mut config: Config = url.conninfo.parse().map_err(|e| PgError::Connect {
        target: url.redacted.clone(),
        cause: describe(&e),
    })?;
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(hosts) => {
                for host in hosts.split(',') {
                    config.host(host);
                }
            }
            None if std::path::Path::new("/var/run/postgresql").exists() => {
                config.host("/var/run/postgresql");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        if let Some(user) = env("PGUSER").or_else(|| env("USER")) {
            config.user(&user);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_connect_timeout().is_none() {
        let secs = env("PGCONNECT_TIMEOUT")
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        config.connect_timeout(Duration::from_secs(secs));
    }
    config.application_name("datagen");
    Ok(config)
}

/// How the sink loads.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// What to do with existing tables.
    pub if_exists: IfExists,
    /// When keys are added.
    pub constraints: Constraints,
    /// Rows per transaction (rounded up to whole batches).
    pub commit_rows: u64,
    /// Connections loading at once.
    pub connections: usize,
    /// Resuming, the run's fingerprint, the stop flag.
    pub resume: Resume,
    /// The slice of the run this process loads.
    pub shard: Shard,
    /// Rows of the whole run, all shards together: the load is complete,
    /// and its keys are added, once `datagen_progress` counts them all.
    pub run_rows: u64,
}

/// A table as it is loaded.
#[derive(Debug, Clone)]
struct PgTable {
    /// The table's name in the schema.
    name: String,
    /// `COPY … FROM STDIN (FORMAT binary)`.
    copy: String,
}

/// One commit unit: per table, its COPY stream and row count.
struct Job {
    /// Per table, the COPY stream in pieces: the header, the encoded
    /// blocks as the generator threads made them (not copied), the
    /// trailer.
    streams: Vec<Vec<Bytes>>,
    rows: Vec<u64>,
    from: u64,
    to: u64,
}

impl Job {
    fn new(tables: usize, from: u64) -> Job {
        Job {
            streams: vec![Vec::new(); tables],
            rows: vec![0; tables],
            from,
            to: from,
        }
    }
}

/// Drops its runtime without blocking, so the sink may be dropped anywhere.
struct Rt(Option<Runtime>);

impl Rt {
    fn get(&self) -> &Runtime {
        self.0
            .as_ref()
            .expect("the runtime lives as long as the sink")
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Loads batches into PostgreSQL.
pub struct PgSink {
    rt: Rt,
    schema: Arc<Schema>,
    ddl: DdlOptions,
    encoder: Arc<PgEncoder>,
    /// Tables this run created, whose keys it adds after the load.
    created: Vec<bool>,
    options: PgOptions,
    job: Job,
    /// What earlier runs of this load committed.
    committed: Committed,
    sender: Option<mpsc::Sender<Job>>,
    workers: Vec<JoinHandle<Result<Client, PgError>>>,
    main: Option<Client>,
    progress: Arc<Progress>,
    /// For connections made again after one was lost.
    config: Config,
    url: PgUrl,
}

async fn connect(config: &Config, url: &PgUrl) -> Result<Client, PgError> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| PgError::Connect {
        target: url.redacted.clone(),
        cause: describe(&e),
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %describe(&e), "PostgreSQL connection closed");
        }
    });
    // A unit's progress row commits with its rows, so an asynchronous commit
    // loses both or neither; index builds get room to sort in memory.
    client
        .batch_execute("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'")
        .await
        .map_err(server("configure the session"))?;
    Ok(client)
}

impl PgSink {
    /// Connects, applies `if_exists`, creates the tables and opens the
    /// loading connections. Nothing is written if this fails.
    pub fn open(
        url: &PgUrl,
        schema: Arc<Schema>,
        mut options: PgOptions,
        progress: Arc<Progress>,
    ) -> Result<PgSink, PgError> {
        let rt = Rt(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("datagen-pg")
                .enable_all()
                .build()?,
        ));
        let config = config(url)?;
        let ddl = DdlOptions {
            namespace: url.schema.clone(),
            keys_after: options.constraints == Constraints::After,
            deferred_foreign_keys: true,
        };
        let has_foreign_keys = schema.tables.iter().any(|t| {
            t.columns
                .iter()
                .any(|c| super::ddl::foreign_key(&schema, t, c).is_some())
        });
        if options.constraints == Constraints::During && has_foreign_keys {
            // Units commit in any order on parallel connections; checked
            // foreign keys need them in stream order.
            options.connections = 1;
        }
        if !options.shard.is_whole() && options.constraints == Constraints::During {
            return Err(PgError::Shard(
                "shards load with constraints = \"after\": keys checked during the load would \
                 refuse rows that reference rows of another shard not loaded yet\n  \
                 help: remove `constraints = \"during\"` or set DATAGEN_CONSTRAINTS=after"
                    .into(),
            ));
        }
        let lock = loader_key(
            &lock_scope(&options.resume.fingerprint, &ddl),
            options.shard,
        );
        let (main, created, committed, tables, encoders) = rt.get().block_on(async {
            let mut main = connect(&config, url).await?;
            if options.resume.resume || !options.shard.is_whole() {
                settle(&main, lock).await?;
            }
            if !options.shard.is_whole() {
                let (created, committed) = join_shards(&mut main, &schema, &ddl, &options).await?;
                let (tables, encoders) = describe_tables(&main, &schema, &ddl).await?;
                return Ok::<_, PgError>((main, created, committed, tables, encoders));
            }
            let resumed = match options.resume.resume {
                true => resume_state(&main, &schema, &ddl, &options.resume.fingerprint).await?,
                false => None,
            };
            let (created, committed) = match resumed {
                Some((committed, rows)) => {
                    for (t, n) in rows.into_iter().enumerate() {
                        progress.add(t, n);
                    }
                    (vec![true; schema.tables.len()], committed)
                }
                None => (
                    prepare(&mut main, &schema, &ddl, &options).await?,
                    Committed::default(),
                ),
            };
            let (tables, encoders) = describe_tables(&main, &schema, &ddl).await?;
            Ok::<_, PgError>((main, created, committed, tables, encoders))
        })?;
        let tables = Arc::new(tables);
        let (sender, receiver) = mpsc::channel::<Job>(1);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let fingerprint: Arc<str> = options.resume.fingerprint.clone().into();
        let progress_table = ddl.qualified(PROGRESS_TABLE);
        let loader = Arc::new(Loader {
            config: Arc::new(config.clone()),
            url: url.clone(),
            lock,
            tables,
            run: fingerprint,
            progress_table,
            progress: progress.clone(),
        });
        let mut workers = Vec::new();
        for _ in 0..options.connections.max(1) {
            let client = rt.get().block_on(connect_loader(&config, url, lock))?;
            workers.push(
                rt.get()
                    .spawn(load(client, receiver.clone(), loader.clone())),
            );
        }
        let n = schema.tables.len();
        Ok(PgSink {
            rt,
            ddl,
            encoder: Arc::new(PgEncoder {
                schema: schema.clone(),
                tables: encoders,
            }),
            created,
            options,
            job: Job::new(n, 0),
            committed,
            sender: Some(sender),
            workers,
            main: Some(main),
            progress,
            config,
            url: url.clone(),
            schema,
        })
    }

    /// What earlier runs of this load committed.
    pub fn committed(&self) -> &Committed {
        &self.committed
    }

    /// The encoder of this target's tables, for the generator threads.
    pub fn encoder(&self) -> Arc<PgEncoder> {
        self.encoder.clone()
    }

    fn add(&mut self, block: &mut Block) -> Result<(), BoxError> {
        if block.stream != self.job.to {
            // Rows after a gap (committed by an earlier run): a unit covers
            // one contiguous range of the stream.
            self.send()?;
            self.job.from = block.stream;
            self.job.to = block.stream;
        }
        let (t, n) = (block.table, block.len() as u64);
        encoded(&*self.encoder, block)?;
        let bytes = block.encoded.take().map(|e| e.bytes).unwrap_or_default();
        let stream = &mut self.job.streams[t];
        if stream.is_empty() {
            stream.push(Bytes::from_static(HEADER));
        }
        stream.push(Bytes::from(bytes));
        self.job.rows[t] += n;
        self.job.to += n;
        Ok(())
    }

    /// Sends the current unit to a loading connection.
    fn send(&mut self) -> Result<(), BoxError> {
        let rows = self.job.to - self.job.from;
        if rows == 0 {
            return Ok(());
        }
        let next = Job::new(self.schema.tables.len(), self.job.to);
        let mut job = std::mem::replace(&mut self.job, next);
        for stream in job.streams.iter_mut().filter(|s| !s.is_empty()) {
            stream.push(Bytes::from_static(TRAILER));
        }
        let sender = self.sender.as_ref().expect("sending before finish");
        if self.rt.get().block_on(sender.send(job)).is_err() {
            // Every loading connection has stopped: report why.
            return Err(self.failure());
        }
        if let Some(i) = self.workers.iter().position(|w| w.is_finished()) {
            let worker = self.workers.swap_remove(i);
            return Err(match self.rt.get().block_on(worker) {
                Ok(Err(e)) => Box::new(e),
                Ok(Ok(_)) => "a loading connection stopped early".into(),
                Err(e) => Box::new(e),
            });
        }
        Ok(())
    }

    /// The error of the first loading connection that failed.
    fn failure(&mut self) -> BoxError {
        for worker in self.workers.drain(..) {
            match self.rt.get().block_on(worker) {
                Ok(Err(e)) => return Box::new(e),
                Err(e) => return Box::new(e),
                Ok(Ok(_)) => {}
            }
        }
        "the loading connections stopped".into()
    }

    fn complete(&mut self) -> Result<(), BoxError> {
        self.send()?;
        drop(self.sender.take());
        let mut clients = Vec::new();
        for worker in std::mem::take(&mut self.workers) {
            clients.push(self.rt.get().block_on(worker)??);
        }
        clients.push(self.main.take().expect("finish is called once"));
        // A connection lost while idle (the load's own reconnect covers the
        // busy ones) is made again for the keys.
        for client in &mut clients {
            if client.is_closed() {
                *client = self.rt.get().block_on(connect(&self.config, &self.url))?;
            }
        }
        if self.options.resume.stopped() {
            // Interrupted: every unit is committed; keys wait for --resume.
            return Ok(());
        }
        let sharded = !self.options.shard.is_whole();
        let scope = lock_scope(&self.options.resume.fingerprint, &self.ddl);
        if sharded {
            // Shards finishing at once take turns; the one that finds every
            // row of the run committed adds the keys, the others leave.
            let loaded = self.rt.get().block_on(async {
                run_lock(&clients[0], &scope, true).await?;
                run_rows_committed(&clients[0], &self.ddl, &self.options.resume.fingerprint).await
            })?;
            if loaded < self.options.run_rows {
                self.rt
                    .get()
                    .block_on(run_lock(&clients[0], &scope, false))?;
                tracing::info!(
                    loaded,
                    of = self.options.run_rows,
                    "shard loaded; the last shard to finish adds the keys"
                );
                self.progress.set_phase(&format!(
                    "shard loaded; {loaded} of the run's {} rows are in, the last shard to finish adds the keys",
                    self.options.run_rows
                ));
                return Ok(());
            }
        }
        let mut keys: Vec<Constraint> = Vec::new();
        if self.options.constraints == Constraints::After {
            for (t, _) in self.created.iter().enumerate().filter(|(_, c)| **c) {
                keys.extend(constraints(&self.schema, t, &self.ddl));
            }
        }
        let existing =
            self.rt
                .get()
                .block_on(existing_constraints(&clients[0], &self.schema, &self.ddl))?;
        keys.retain(|c| !existing.contains(&(c.table, c.column, c.kind)));
        let rows: Vec<u64> = (0..self.schema.tables.len())
            .map(|t| self.progress.table(t))
            .collect();
        let tasks = finishing_tasks(&self.schema, &self.ddl, keys, &rows);
        let start = std::time::Instant::now();
        tracing::info!(
            tasks = tasks.len(),
            "rows loaded; adding keys and analyzing"
        );
        self.progress
            .set_phase("all rows committed; adding keys and running ANALYZE");
        self.rt.get().block_on(schedule(&clients, tasks))?;
        tracing::info!(elapsed = ?start.elapsed(), "keys added and tables analyzed");
        if sharded {
            self.rt
                .get()
                .block_on(run_lock(&clients[0], &scope, false))?;
        }
        Ok(())
    }
}

/// A statement run after the load.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Task {
    sql: String,
    /// Tables it locks; tasks sharing a table never run at once (they
    /// would wait for each other's locks on the server).
    locks: Vec<usize>,
    /// Tasks that must be done first.
    after: Vec<usize>,
}

/// The statements that complete a load: keys (largest tables first), then
/// each foreign key once the keys of both its tables exist, then ANALYZE of
/// each table once nothing else touches it. A table's work starts as soon
/// as its own prerequisites are met, not when every table's are.
fn finishing_tasks(
    schema: &Schema,
    ddl: &DdlOptions,
    mut keys: Vec<Constraint>,
    rows: &[u64],
) -> Vec<Task> {
    keys.sort_by_key(|c| (c.references.is_some(), std::cmp::Reverse(rows[c.table])));
    let mut tasks: Vec<Task> = Vec::new();
    let key_tasks = |tasks: &[Task], keys: &[Constraint], t: usize| -> Vec<usize> {
        (0..tasks.len())
            .filter(|&i| keys[i].references.is_none() && keys[i].table == t)
            .collect()
    };
    for (i, c) in keys.iter().enumerate() {
        let mut locks = vec![c.table];
        let mut after = Vec::new();
        if let Some(r) = c.references {
            locks.push(r);
            after = key_tasks(&tasks, &keys, c.table);
            after.extend(key_tasks(&tasks, &keys, r));
        }
        debug_assert_eq!(i, tasks.len());
        tasks.push(Task {
            sql: c.sql.clone(),
            locks,
            after,
        });
    }
    let mut by_size: Vec<usize> = (0..schema.tables.len()).collect();
    by_size.sort_by_key(|&t| std::cmp::Reverse(rows[t]));
    for t in by_size {
        let after = (0..tasks.len())
            .filter(|&i| tasks[i].locks.contains(&t))
            .collect();
        tasks.push(Task {
            sql: format!("ANALYZE {}", ddl.qualified(&schema.tables[t].name)),
            locks: vec![t],
            after,
        });
    }
    tasks
}

#[derive(Default)]
struct Board {
    started: Vec<bool>,
    done: Vec<bool>,
    /// Running tasks per table.
    locked: Vec<u32>,
}

/// Runs `tasks` on all `clients` at once: each client takes the first task
/// whose prerequisites are done and whose tables no running task holds.
async fn schedule(clients: &[Client], tasks: Vec<Task>) -> Result<(), PgError> {
    let tables = tasks
        .iter()
        .flat_map(|t| t.locks.iter().copied())
        .max()
        .map_or(0, |m| m + 1);
    let board = Mutex::new(Board {
        started: vec![false; tasks.len()],
        done: vec![false; tasks.len()],
        locked: vec![0; tables],
    });
    let changed = tokio::sync::Notify::new();
    let runs = clients.iter().map(|client| {
        let (board, changed, tasks) = (&board, &changed, &tasks);
        async move {
            loop {
                let notified = changed.notified();
                futures::pin_mut!(notified);
                notified.as_mut().enable();
                let pick = {
                    let mut b = board.lock().expect("board lock");
                    if b.started.iter().all(|&s| s) {
                        return Ok::<(), PgError>(());
                    }
                    let ready = (0..tasks.len()).find(|&i| {
                        !b.started[i]
                            && tasks[i].after.iter().all(|&a| b.done[a])
                            && tasks[i].locks.iter().all(|&t| b.locked[t] == 0)
                    });
                    if let Some(i) = ready {
                        b.started[i] = true;
                        for &t in &tasks[i].locks {
                            b.locked[t] += 1;
                        }
                    }
                    ready
                };
                let Some(i) = pick else {
                    notified.await;
                    continue;
                };
                let sql = &tasks[i].sql;
                let start = std::time::Instant::now();
                client
                    .batch_execute(sql)
                    .await
                    .map_err(server(format!("finish the load ({sql})")))?;
                tracing::debug!(%sql, elapsed = ?start.elapsed(), "done");
                {
                    let mut b = board.lock().expect("board lock");
                    b.done[i] = true;
                    for &t in &tasks[i].locks {
                        b.locked[t] -= 1;
                    }
                }
                changed.notify_waiters();
            }
        }
    });
    futures::future::try_join_all(runs).await?;
    Ok(())
}

/// Whether the table (or any relation) `name`, quoted as in SQL, exists.
async fn table_exists(client: &Client, name: &str) -> Result<bool, PgError> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .await
        .map_err(server(format!("look up table {name}")))?;
    Ok(row.get(0))
}

/// The keys that exist on the schema's tables: `(table, column, kind)`.
async fn existing_constraints(
    client: &Client,
    schema: &Schema,
    ddl: &DdlOptions,
) -> Result<Vec<(usize, usize, char)>, PgError> {
    let mut out = Vec::new();
    for (t, table) in schema.tables.iter().enumerate() {
        let name = ddl.qualified(&table.name);
        let rows = client
            .query(
                "SELECT c.contype::text, a.attname::text
                 FROM pg_constraint c
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                 WHERE c.conrelid = to_regclass($1) AND array_length(c.conkey, 1) = 1",
                &[&name],
            )
            .await
            .map_err(server(format!("read the constraints of {name}")))?;
        for row in rows {
            let kind: String = row.get(0);
            let column: String = row.get(1);
            if let Some(c) = table.columns.iter().position(|c| c.name == column) {
                out.push((t, c, kind.chars().next().unwrap_or(' ')));
            }
        }
    }
    Ok(out)
}

/// The table that tells the shards of one run they load the same tables:
/// one row per run, written by the shard that prepared the tables.
pub const SHARDS_TABLE: &str = "datagen_shards";

/// What a load's advisory locks are named after: the run's fingerprint and
/// where it loads (advisory locks are per database, and the same Genfile
/// may be loaded into two schemas at once).
fn lock_scope(fingerprint: &str, ddl: &DdlOptions) -> String {
    format!("{fingerprint}\0{}", ddl.qualified(PROGRESS_TABLE))
}

/// The advisory lock key of a load (FNV-1a of its scope), and of one of
/// its shards.
fn lock_key(scope: &str, shard: Option<u64>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in scope.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    if let Some(index) = shard {
        h = (h ^ (index + 1)).wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Takes (`take`) or releases the run's advisory lock, which the shards
/// of a run take in turn to prepare the tables and to decide who adds the
/// keys.
async fn run_lock(client: &Client, scope: &str, take: bool) -> Result<(), PgError> {
    let (sql, action) = match take {
        true => ("SELECT pg_advisory_lock($1)", "take"),
        false => ("SELECT pg_advisory_unlock($1)", "release"),
    };
    client
        .execute(sql, &[&lock_key(scope, None)])
        .await
        .map_err(server(format!("{action} the run's advisory lock")))?;
    Ok(())
}

/// The key of the shared advisory lock every loading connection of a load
/// (one shard's, if sharded) holds while it lives.
fn loader_key(scope: &str, shard: Shard) -> i64 {
    lock_key(&format!("{scope}\0loading"), Some(shard.index))
}

/// A loading connection: [`connect`], then the load's shared lock.
async fn connect_loader(config: &Config, url: &PgUrl, lock: i64) -> Result<Client, PgError> {
    let client = connect(config, url).await?;
    client
        .execute("SELECT pg_advisory_lock_shared($1)", &[&lock])
        .await
        .map_err(server("take the loading lock"))?;
    Ok(client)
}

/// Waits until no loading connection of an earlier attempt of this load is
/// left. A restarted or resumed load reads what is committed from
/// `datagen_progress`; a COMMIT still on its way from a connection of the
/// attempt before would land after that reading, and its unit be loaded
/// twice. Those connections hold the load's lock shared until they end.
async fn settle(client: &Client, lock: i64) -> Result<(), PgError> {
    client
        .batch_execute("SET lock_timeout = '60s'")
        .await
        .map_err(server("configure the session"))?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&lock])
        .await
        .map_err(server(
            "wait for the loading connections of an earlier attempt to end",
        ))?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&lock])
        .await
        .map_err(server("release the loading lock"))?;
    client
        .batch_execute("RESET lock_timeout")
        .await
        .map_err(server("configure the session"))?;
    Ok(())
}

/// Rows of the run committed so far, by every shard.
async fn run_rows_committed(
    client: &Client,
    ddl: &DdlOptions,
    fingerprint: &str,
) -> Result<u64, PgError> {
    let progress = ddl.qualified(PROGRESS_TABLE);
    let row = client
        .query_one(
            &format!("SELECT coalesce(sum(rows), 0)::int8 FROM {progress} WHERE run = $1"),
            &[&fingerprint],
        )
        .await
        .map_err(server(format!("read {progress}")))?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Joins a sharded load: the first shard to get here applies `if_exists`
/// and creates the tables; the others find them prepared and load into
/// them. Either way the shard then learns what is committed already (a
/// shard run again after a failure loads only what is missing), and holds
/// a lock of its own for the rest of the load, so the same shard cannot be
/// loaded twice at once. Returns which tables the load created (their keys
/// are added by the last shard) and what is committed.
async fn join_shards(
    main: &mut Client,
    schema: &Schema,
    ddl: &DdlOptions,
    options: &PgOptions,
) -> Result<(Vec<bool>, Committed), PgError> {
    let fingerprint = &options.resume.fingerprint;
    let shard = options.shard;
    let scope = lock_scope(fingerprint, ddl);
    let mine = lock_key(&scope, Some(shard.index));
    // A restarted pipeline's previous connection may take a moment to go.
    let mut locked = false;
    for _ in 0..50 {
        let row = main
            .query_one("SELECT pg_try_advisory_lock($1)", &[&mine])
            .await
            .map_err(server("take the shard's advisory lock"))?;
        locked = row.get::<_, bool>(0);
        if locked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !locked {
        return Err(PgError::Shard(format!(
            "shard {shard} of this run is being loaded by another datagen right now\n  help: wait for it, or stop it before running this shard again"
        )));
    }
    run_lock(main, &scope, true).await?;
    // Whatever happens, the run's lock is released for the other shards.
    let result = prepare_or_join(main, schema, ddl, options).await;
    let released = run_lock(main, &scope, false).await;
    let joined = result?;
    released?;
    Ok(joined)
}

/// Under the run's lock: joins the load a shard of it prepared, or prepares
/// the tables (`if_exists`) and records the run in [`SHARDS_TABLE`].
async fn prepare_or_join(
    main: &mut Client,
    schema: &Schema,
    ddl: &DdlOptions,
    options: &PgOptions,
) -> Result<(Vec<bool>, Committed), PgError> {
    let fingerprint = &options.resume.fingerprint;
    let shard = options.shard;
    match joined_shards(main, ddl, fingerprint).await? {
        Some((count, _)) if count != shard.count as i32 => Err(PgError::Shard(format!(
            "this run is being loaded in {count} shards, not {}\n  help: run the other shards with --shard K/{count}",
            shard.count
        ))),
        Some((_, created)) => {
            let created = schema
                .tables
                .iter()
                .map(|t| created.contains(&t.name))
                .collect();
            match resume_state(main, schema, ddl, fingerprint).await? {
                Some((committed, _)) => Ok((created, committed)),
                None => Err(PgError::Shard(format!(
                    "{} records this run, but its tables are gone\n  help: delete the run's row from {} to start the load over",
                    ddl.qualified(SHARDS_TABLE),
                    ddl.qualified(SHARDS_TABLE)
                ))),
            }
        }
        None => {
            let created = prepare(main, schema, ddl, options).await?;
            let names: Vec<String> = schema
                .tables
                .iter()
                .zip(&created)
                .filter(|(_, c)| **c)
                .map(|(t, _)| t.name.clone())
                .collect();
            let table = ddl.qualified(SHARDS_TABLE);
            main.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (
  run text PRIMARY KEY,
  shards integer NOT NULL,
  created text[] NOT NULL,
  prepared_at timestamptz NOT NULL DEFAULT now()
)"
            ))
            .await
            .map_err(server(format!("create table {table}")))?;
            main.execute(
                &format!("INSERT INTO {table} (run, shards, created) VALUES ($1, $2, $3)"),
                &[fingerprint, &(shard.count as i32), &names],
            )
            .await
            .map_err(server(format!("record the run in {table}")))?;
            Ok((created, Committed::default()))
        }
    }
}

/// How many shards a run is loaded in and the tables it created, if a shard
/// of it prepared the tables already.
async fn joined_shards(
    client: &Client,
    ddl: &DdlOptions,
    fingerprint: &str,
) -> Result<Option<(i32, Vec<String>)>, PgError> {
    let table = ddl.qualified(SHARDS_TABLE);
    if !table_exists(client, &table).await? {
        return Ok(None);
    }
    let row = client
        .query_opt(
            &format!("SELECT shards, created FROM {table} WHERE run = $1"),
            &[&fingerprint],
        )
        .await
        .map_err(server(format!("read {table}")))?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// What `--resume` continues from: the committed ranges of this run and
/// rows per table, or `None` when none of the tables exist (nothing to
/// resume: the run starts anew).
async fn resume_state(
    client: &Client,
    schema: &Schema,
    ddl: &DdlOptions,
    fingerprint: &str,
) -> Result<Option<(Committed, Vec<u64>)>, PgError> {
    let mut missing = Vec::new();
    for table in &schema.tables {
        let name = ddl.qualified(&table.name);
        if !table_exists(client, &name).await? {
            missing.push(name);
        }
    }
    if missing.len() == schema.tables.len() {
        return Ok(None);
    }
    if !missing.is_empty() {
        return Err(PgError::Resume(format!(
            "table {} does not exist, so this is not an interrupted run of this Genfile\n  help: run without --resume",
            missing.join(", ")
        )));
    }
    let progress = ddl.qualified(PROGRESS_TABLE);
    let rows = if table_exists(client, &progress).await? {
        client
            .query(
                &format!("SELECT run, table_name, stream_from, stream_to, rows FROM {progress}"),
                &[],
            )
            .await
            .map_err(server(format!("read {progress}")))?
    } else {
        Vec::new()
    };
    let mut ranges = Vec::new();
    let mut counts = vec![0u64; schema.tables.len()];
    let mut others = std::collections::BTreeSet::new();
    for row in &rows {
        let run: String = row.get(0);
        if run != fingerprint {
            others.insert(run);
            continue;
        }
        let table: String = row.get(1);
        let (from, to, n): (i64, i64, i64) = (row.get(2), row.get(3), row.get(4));
        ranges.push((from as u64, to as u64));
        if let Some(t) = schema.tables.iter().position(|x| x.name == table) {
            counts[t] += n as u64;
        }
    }
    if ranges.is_empty() && !others.is_empty() {
        return Err(PgError::Resume(format!(
            "the tables hold a load made with a different Genfile, seed or scale (run {})\n  help: resume with the same Genfile, --seed and --scale, or start over without --resume and with if_exists = \"replace\"",
            others.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Some((Committed::from_ranges(ranges), counts)))
}

/// Applies `if_exists`, creates what is missing and the progress table, in
/// one transaction. Returns which tables this run created.
async fn prepare(
    client: &mut Client,
    schema: &Schema,
    ddl: &DdlOptions,
    options: &PgOptions,
) -> Result<Vec<bool>, PgError> {
    if let Some(ns) = &ddl.namespace {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote(ns)))
            .await
            .map_err(server(format!("create schema {}", quote(ns))))?;
    }
    let mut present = Vec::new();
    for table in &schema.tables {
        let name = ddl.qualified(&table.name);
        let exists = table_exists(client, &name).await?;
        if exists && options.if_exists == IfExists::Fail {
            return Err(PgError::TableExists { table: name });
        }
        present.push(exists);
    }
    let tx = client
        .transaction()
        .await
        .map_err(server("begin a transaction"))?;
    let existing: Vec<String> = schema
        .tables
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .map(|(t, _)| ddl.qualified(&t.name))
        .collect();
    match options.if_exists {
        IfExists::Replace => {
            for name in existing.iter().rev() {
                tx.batch_execute(&format!("DROP TABLE {name} CASCADE"))
                    .await
                    .map_err(server(format!("drop table {name}")))?;
            }
        }
        IfExists::Truncate if !existing.is_empty() => {
            let list = existing.join(", ");
            tx.batch_execute(&format!("TRUNCATE {list}"))
                .await
                .map_err(server(format!("truncate {list}")))?;
        }
        _ => {}
    }
    let mut created = Vec::new();
    for (table, &exists) in schema.tables.iter().zip(&present) {
        let create = !exists || options.if_exists == IfExists::Replace;
        if create {
            tx.batch_execute(&create_table_with(schema, table, Dialect::Postgres, ddl))
                .await
                .map_err(server(format!(
                    "create table {}",
                    ddl.qualified(&table.name)
                )))?;
        }
        created.push(create);
    }
    let progress = ddl.qualified(PROGRESS_TABLE);
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {progress} (
  run text NOT NULL,
  table_name text NOT NULL,
  stream_from bigint NOT NULL,
  stream_to bigint NOT NULL,
  rows bigint NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now()
)"
    ))
    .await
    .map_err(server(format!("create table {progress}")))?;
    tx.execute(
        &format!("DELETE FROM {progress} WHERE run = $1"),
        &[&options.resume.fingerprint],
    )
    .await
    .map_err(server(format!("clear {progress}")))?;
    tx.commit().await.map_err(server("commit the tables"))?;
    Ok(created)
}

/// Binary COPY tuples of every table, made on the generator threads.
pub struct PgEncoder {
    schema: Arc<Schema>,
    tables: Vec<CopyEncoder>,
}

impl BlockEncoder for PgEncoder {
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError> {
        self.tables[block.table]
            .encode(block, out)
            .map_err(|source| {
                let table = &self.schema.tables[block.table];
                Box::new(PgError::Encode {
                    table: table.name.clone(),
                    column: table.columns[source.column].name.clone(),
                    source,
                })
                .into()
            })
    }
}

/// Reads each table's column types back and builds its COPY statement
/// and encoder.
async fn describe_tables(
    client: &Client,
    schema: &Schema,
    ddl: &DdlOptions,
) -> Result<(Vec<PgTable>, Vec<CopyEncoder>), PgError> {
    let mut tables = Vec::new();
    let mut encoders = Vec::new();
    for table in &schema.tables {
        let name = ddl.qualified(&table.name);
        let rows = client
            .query(
                "SELECT attname::text, atttypid::oid, format_type(atttypid, atttypmod)
                 FROM pg_attribute
                 WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                &[&name],
            )
            .await
            .map_err(server(format!("read the columns of {name}")))?;
        let mut types = Vec::new();
        for column in &table.columns {
            let Some(row) = rows.iter().find(|r| r.get::<_, String>(0) == column.name) else {
                return Err(PgError::ColumnType {
                    table: name,
                    column: quote(&column.name),
                    actual: "missing".into(),
                    generated: generated_name(column.sql_type),
                    help: "add the column, or use if_exists = \"replace\" to recreate the table",
                });
            };
            let oid: u32 = row.get(1);
            let ty = PgType::from_oid(oid).filter(|t| t.accepts(column.sql_type));
            match ty {
                Some(ty) => types.push(ty),
                None => {
                    return Err(PgError::ColumnType {
                        table: name,
                        column: quote(&column.name),
                        actual: row.get(2),
                        generated: generated_name(column.sql_type),
                        help: "change the column's `type` in the Genfile, or use if_exists = \"replace\" to recreate the table",
                    })
                }
            }
        }
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        tables.push(PgTable {
            name: table.name.clone(),
            copy: format!(
                "COPY {name} ({}) FROM STDIN (FORMAT binary)",
                columns.join(", ")
            ),
        });
        encoders.push(CopyEncoder::new(
            types,
            table.columns.iter().map(|c| c.sql_type.scale()).collect(),
        ));
    }
    Ok((tables, encoders))
}

fn generated_name(ty: SqlType) -> String {
    super::ddl::type_name(ty, Dialect::Postgres)
}

/// A loading connection: takes units and commits each with its progress.
/// What a loading connection needs besides its units.
struct Loader {
    config: Arc<Config>,
    url: PgUrl,
    /// The loading connections' shared advisory lock (see [`settle`]).
    lock: i64,
    tables: Arc<Vec<PgTable>>,
    run: Arc<str>,
    progress_table: String,
    progress: Arc<Progress>,
}

/// Times a unit is tried on fresh connections before the load fails.
const ATTEMPTS: u32 = 6;

/// True when `e` means the connection is gone (terminated backend, server
/// restart, network), so the unit may be retried on a new connection.
fn connection_lost(client: &Client, e: &tokio_postgres::Error) -> bool {
    if client.is_closed() || e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            // admin_shutdown, crash_shutdown, cannot_connect_now,
            // connection_exception and its subclasses.
            let c = code.code();
            c == "57P01" || c == "57P02" || c == "57P03" || c.starts_with("08")
        }
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

impl Loader {
    /// Commits `job`: its rows and its progress row in one transaction.
    async fn commit(
        &self,
        client: &Client,
        job: &Job,
        streams: &[Vec<Bytes>],
    ) -> Result<(), tokio_postgres::Error> {
        client.batch_execute("BEGIN").await?;
        let mut names = Vec::new();
        let mut counts = Vec::new();
        for (t, stream) in streams.iter().enumerate() {
            if job.rows[t] == 0 {
                continue;
            }
            let sink = client.copy_in::<_, Bytes>(&self.tables[t].copy).await?;
            futures::pin_mut!(sink);
            for piece in stream {
                sink.feed(piece.clone()).await?;
            }
            sink.finish().await?;
            names.push(self.tables[t].name.clone());
            counts.push(job.rows[t] as i64);
        }
        client
            .execute(
                &format!(
                    "INSERT INTO {} (run, table_name, stream_from, stream_to, rows)
                     SELECT $1, unnest($2::text[]), $3, $4, unnest($5::int8[])",
                    self.progress_table
                ),
                &[
                    &&*self.run,
                    &names,
                    &(job.from as i64),
                    &(job.to as i64),
                    &counts,
                ],
            )
            .await?;
        client.batch_execute("COMMIT").await
    }

    /// Whether `job` is recorded as committed: after a connection drops
    /// during COMMIT, the commit may or may not have happened.
    async fn recorded(&self, client: &Client, job: &Job) -> Result<bool, tokio_postgres::Error> {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {} WHERE run = $1 AND stream_from = $2 AND stream_to = $3",
                    self.progress_table
                ),
                &[&&*self.run, &(job.from as i64), &(job.to as i64)],
            )
            .await?;
        Ok(row.get::<_, i64>(0) > 0)
    }
}

/// A loading connection: takes units and commits each with its progress.
/// When the connection is lost it reconnects and commits the unit again,
/// unless the unit turns out to be committed already: exactly once.
async fn load(
    mut client: Client,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    loader: Arc<Loader>,
) -> Result<Client, PgError> {
    loop {
        let job = receiver.lock().await.recv().await;
        let Some(mut job) = job else {
            return Ok(client);
        };
        let streams = std::mem::take(&mut job.streams);
        let mut attempt = 0;
        loop {
            let result = match attempt {
                0 => loader.commit(&client, &job, &streams).await,
                _ => match loader.recorded(&client, &job).await {
                    Ok(true) => Ok(()),
                    Ok(false) => loader.commit(&client, &job, &streams).await,
                    Err(e) => Err(e),
                },
            };
            match result {
                Ok(()) => break,
                Err(e) if attempt + 1 < ATTEMPTS && connection_lost(&client, &e) => {
                    attempt += 1;
                    let pause = Duration::from_millis(100 << attempt);
                    tracing::warn!(
                        error = %describe(&e),
                        attempt,
                        "PostgreSQL connection lost; reconnecting in {pause:?}"
                    );
                    tokio::time::sleep(pause).await;
                    match connect_loader(&loader.config, &loader.url, loader.lock).await {
                        Ok(c) => client = c,
                        Err(e) => tracing::warn!(error = %e, "reconnecting failed"),
                    }
                }
                Err(e) => {
                    let tables: Vec<String> = job
                        .rows
                        .iter()
                        .enumerate()
                        .filter(|(_, &n)| n > 0)
                        .map(|(t, _)| quote(&loader.tables[t].name))
                        .collect();
                    return Err(PgError::Server {
                        action: format!("commit rows of {}", tables.join(", ")),
                        cause: describe(&e),
                    });
                }
            }
        }
        for (t, &n) in job.rows.iter().enumerate() {
            loader.progress.add(t, n);
        }
    }
}

impl Sink for PgSink {
    type Chunk = Block;

    fn write(&mut self, batch: Vec<Block>) -> Result<(), BoxError> {
        for mut block in self.committed.uncommitted(batch) {
            self.add(&mut block)?;
        }
        if self.job.to - self.job.from >= self.options.commit_rows {
            self.send()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.complete()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Schema {
        let text = r#"
[tables.customers]
rows = 10
[tables.customers.columns]
id = { gen = "sequence", primary_key = true }
email = { gen = "internet.email", unique = true }
[tables.products]
rows = 5
[tables.products.columns]
id = { gen = "sequence", primary_key = true }
[tables.orders]
per = { parent = "customers", count = { fixed = 2 } }
[tables.orders.columns]
id = { gen = "sequence", primary_key = true }
customer_id = { parent = "id" }
product_id = { ref = "products.id" }
"#;
        crate::genfile::parse(std::path::Path::new("shop.toml"), text.as_bytes()).unwrap()
    }

    #[test]
    fn lock_keys_differ_by_schema_shard_and_purpose() {
        let ddl = |schema: &str| DdlOptions {
            namespace: Some(schema.into()),
            ..DdlOptions::default()
        };
        let a = lock_scope("f00d", &ddl("a"));
        let b = lock_scope("f00d", &ddl("b"));
        let other_run = lock_scope("beef", &ddl("a"));
        let shard = |i| Shard { index: i, count: 4 };
        let keys = [
            lock_key(&a, None),
            lock_key(&b, None),
            lock_key(&other_run, None),
            lock_key(&a, Some(0)),
            lock_key(&a, Some(1)),
            loader_key(&a, shard(0)),
            loader_key(&a, shard(1)),
            loader_key(&b, shard(0)),
        ];
        let distinct: std::collections::HashSet<i64> = keys.iter().copied().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        // The same load names the same locks in every process.
        assert_eq!(
            lock_key(&a, Some(1)),
            lock_key(&lock_scope("f00d", &ddl("a")), Some(1))
        );
    }

    #[test]
    fn finishing_tasks_respect_keys_locks_and_analyze_last() {
        let schema = shop();
        let ddl = DdlOptions::default();
        let keys: Vec<Constraint> = (0..schema.tables.len())
            .flat_map(|t| constraints(&schema, t, &ddl))
            .collect();
        let rows = vec![10, 5, 20];
        let tasks = finishing_tasks(&schema, &ddl, keys, &rows);
        let find = |needle: &str| {
            tasks
                .iter()
                .position(|t| t.sql.contains(needle))
                .unwrap_or_else(|| panic!("no task {needle}"))
        };
        assert_eq!(tasks.len(), 4 + 2 + 3, "4 keys, 2 foreign keys, 3 ANALYZE");
        // The largest table's key first.
        assert_eq!(find("\"orders\" ADD PRIMARY KEY"), 0);
        let fk = find("REFERENCES \"customers\"");
        for key in [
            "\"orders\" ADD PRIMARY KEY",
            "\"customers\" ADD PRIMARY KEY",
            "\"customers\" ADD UNIQUE",
        ] {
            assert!(
                tasks[fk].after.contains(&find(key)),
                "{key} before the foreign key"
            );
        }
        assert!(!tasks[fk]
            .after
            .contains(&find("\"products\" ADD PRIMARY KEY")));
        let analyze = find("ANALYZE \"customers\"");
        assert!(tasks[analyze].after.contains(&fk));
        assert!(tasks[analyze]
            .after
            .contains(&find("\"customers\" ADD UNIQUE")));
        assert_eq!(tasks[fk].locks, vec![2, 0]);
    }
}
