//! The PostgreSQL sink: opening a load (or joining or resuming one),
//! handing commit units to the loading connections, and finishing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datagen_actors::{BoxError, Sink};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};

use super::binary::{HEADER, TRAILER};
use super::connect::{config, connect, PgUrl};
use super::coordination::{
    connect_loader, join_shards, loader_key, lock_scope, resume_state, run_lock,
    run_rows_committed, settle,
};
use super::error::{server, PgError};
use super::finish::{existing_constraints, finishing_tasks, schedule};
use super::loader::{load, Job, Loader};
use super::prepare::{describe_tables, prepare, Constraints, PgEncoder, PgOptions, PROGRESS_TABLE};
use crate::progress::Progress;
use crate::schema::Schema;
use crate::sink::apply::Apply;
use crate::sink::checkpoint::Committed;
use crate::sink::ddl::{constraints, quote, Constraint, DdlOptions};
use crate::sink::{classify, encoded, BlockEncoder, Given, TargetSink};
use crate::value::Block;

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
    /// Rows given to `write`; whether a write is under way or failed.
    given: Given,
    /// Rows given before the batch being written.
    batch_start: u64,
    /// Rows given before the first row of the unit being filled.
    job_start: Option<u64>,
    /// Units sent and not committed yet: number → rows given before
    /// their first row. The smallest bounds what is durable.
    in_flight: Arc<Mutex<BTreeMap<u64, u64>>>,
    next_unit: u64,
}

/// Drops `tables` (qualified names; the progress table only if it holds
/// no rows of any run): what a failed run created.
pub(super) fn drop_tables(url: &PgUrl, tables: &[String]) -> Result<(), PgError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let config = config(url)?;
    let progress = quote(PROGRESS_TABLE);
    rt.block_on(async {
        let client = connect(&config, url).await?;
        for table in tables.iter().rev() {
            if table.ends_with(&progress) {
                let empty: bool = client
                    .query_one(&format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"), &[])
                    .await
                    .map_err(server(format!("read {table}")))?
                    .get(0);
                if !empty {
                    continue;
                }
            }
            client
                .batch_execute(&format!("DROP TABLE IF EXISTS {table} CASCADE"))
                .await
                .map_err(server(format!("drop table {table}")))?;
        }
        Ok(())
    })
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
                .any(|c| crate::sink::ddl::foreign_key(&schema, t, c).is_some())
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
                let (tables, encoders) =
                    describe_tables(&main, &schema, &ddl, &options.merges, &options.applies)
                        .await?;
                return Ok::<_, PgError>((main, created, committed, tables, encoders));
            }
            let resumed = match options.resume.resume {
                true => {
                    resume_state(&main, &schema, &ddl, &options.resume, &options.applies).await?
                }
                false => None,
            };
            let first = options
                .resume
                .created
                .lock()
                .expect("created tables")
                .clone()
                .filter(|_| options.resume.restart);
            let (created, committed) = match resumed {
                Some((committed, rows)) => {
                    for (t, n) in rows.into_iter().enumerate() {
                        progress.add(t, n);
                    }
                    let created = first.unwrap_or_else(|| vec![true; schema.tables.len()]);
                    (created, committed)
                }
                None => (
                    prepare(&mut main, &schema, &ddl, &options).await?,
                    Committed::default(),
                ),
            };
            options
                .resume
                .created
                .lock()
                .expect("created tables")
                .get_or_insert_with(|| created.clone());
            let (tables, encoders) =
                describe_tables(&main, &schema, &ddl, &options.merges, &options.applies).await?;
            Ok::<_, PgError>((main, created, committed, tables, encoders))
        })?;
        let tables = Arc::new(tables);
        let (sender, receiver) = mpsc::channel::<Job>(1);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let fingerprint: Arc<str> = options.resume.fingerprint.clone().into();
        let progress_table = ddl.qualified(PROGRESS_TABLE);
        let in_flight = Arc::new(Mutex::new(BTreeMap::new()));
        let loader = Arc::new(Loader {
            config: Arc::new(config.clone()),
            url: url.clone(),
            lock,
            tables,
            run: fingerprint,
            progress_table,
            progress: progress.clone(),
            in_flight: in_flight.clone(),
            commits: options.commits.clone(),
            drop_connection_every: options.drop_connection_every.clone(),
        });
        let mut workers = Vec::new();
        for index in 0..options.connections.max(1) {
            let client = rt.get().block_on(connect_loader(&config, url, lock))?;
            workers.push(
                rt.get()
                    .spawn(load(index, client, receiver.clone(), loader.clone())),
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
            given: Given::default(),
            batch_start: 0,
            job_start: None,
            in_flight,
            next_unit: 0,
        })
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
        self.job_start.get_or_insert(self.batch_start);
        // Shared, not taken: the block stays whole until its rows are
        // committed, for a replacement sink should this one fail.
        encoded(&*self.encoder, block)?;
        let bytes = block.encoded.as_mut().expect("encoded just now").freeze();
        let stream = &mut self.job.streams[t];
        if stream.is_empty() {
            stream.push(Bytes::from_static(HEADER));
        }
        stream.push(bytes);
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
        job.unit = self.next_unit;
        self.next_unit += 1;
        let start = self.job_start.take().unwrap_or(self.batch_start);
        self.in_flight
            .lock()
            .expect("units in flight")
            .insert(job.unit, start);
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
                // A table of sums has its key from the start.
                if self.options.merges[t].is_some() {
                    continue;
                }
                // Rows of a table built by changes are deleted: no foreign
                // key to or from it.
                let applies = &self.options.applies;
                keys.extend(
                    constraints(&self.schema, t, &self.ddl)
                        .into_iter()
                        .filter(|c| {
                            c.kind != 'f'
                                || !(Apply::receives(applies, c.table)
                                    || c.references.is_some_and(|r| Apply::receives(applies, r)))
                        }),
                );
            }
        }
        let existing =
            self.rt
                .get()
                .block_on(existing_constraints(&clients[0], &self.schema, &self.ddl))?;
        keys.retain(|c| {
            !existing
                .iter()
                .any(|(t, columns, kind)| (*t, columns, *kind) == (c.table, &c.columns, c.kind))
        });
        let rows: Vec<u64> = (0..self.schema.tables.len())
            .map(|t| self.progress.table(t))
            .collect();
        let applies = &self.options.applies;
        let tasks = finishing_tasks(&self.schema, &self.ddl, keys, &rows, &|t| {
            applies[t].is_none()
        });
        let start = std::time::Instant::now();
        tracing::info!(
            tasks = tasks.len(),
            "rows loaded; adding keys and analyzing"
        );
        self.progress
            .set_phase("all rows committed; adding keys and running ANALYZE");
        // Adding keys to big tables takes a while: a signal stops it at
        // once. Statements in flight are cancelled (each rolls back whole);
        // the keys added stay, --resume adds the rest.
        let resume = self.options.resume.clone();
        let stopped = async {
            while !resume.stop.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        let finished = self.rt.get().block_on(async {
            match futures::future::select(Box::pin(schedule(&clients, tasks)), Box::pin(stopped))
                .await
            {
                futures::future::Either::Left((done, _)) => Some(done),
                futures::future::Either::Right(_) => None,
            }
        });
        match finished {
            Some(done) => done?,
            None => {
                for client in &clients {
                    let token = client.cancel_token();
                    let _ = self.rt.get().block_on(token.cancel_query(NoTls));
                }
                resume.stopped();
                tracing::info!("stopped while adding keys; --resume adds the rest");
                return Ok(());
            }
        }
        tracing::info!(elapsed = ?start.elapsed(), "keys added and tables analyzed");
        if sharded {
            self.rt
                .get()
                .block_on(run_lock(&clients[0], &scope, false))?;
        }
        Ok(())
    }
}

impl Sink for PgSink {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        self.batch_start = self.given.given;
        self.given.begin(batch);
        *batch = self.committed.uncommitted(std::mem::take(batch));
        for block in batch.iter_mut() {
            self.add(block).map_err(classify::<PgError>)?;
        }
        if self.job.to - self.job.from >= self.options.commits.rows() {
            self.send().map_err(classify::<PgError>)?;
        }
        self.given.end();
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        let in_flight = self.in_flight.lock().expect("units in flight");
        let mut durable = self.given.given;
        if let Some(&start) = in_flight.values().min() {
            durable = durable.min(start);
        }
        if let Some(start) = self.job_start {
            durable = durable.min(start);
        }
        Some(durable)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.complete().map_err(classify::<PgError>)
    }
}

impl Drop for PgSink {
    fn drop(&mut self) {
        // Not finished: another part failed, or this sink did. The units
        // in flight on the connections finish (each commits whole or not
        // at all), and the rows of the batches written whole are sent as
        // one more: a restart continues after all of them instead of
        // doing them again.
        if self.sender.is_none() {
            return;
        }
        // Blocking on the sink's runtime is not allowed where another one
        // drives the thread (an arbiter tearing its actors down): the
        // wait then runs on a thread of its own.
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                let _ = scope.spawn(|| self.drain()).join();
            });
        } else {
            self.drain();
        }
    }
}

impl PgSink {
    /// Sends the rows of the batches written whole, closes the queue, and
    /// waits for every loading connection to end.
    fn drain(&mut self) {
        if !self.given.poisoned {
            if let Err(e) = self.send() {
                tracing::debug!(error = %datagen_actors::chain(&*e), "committing on drop failed");
            }
        }
        drop(self.sender.take());
        for worker in std::mem::take(&mut self.workers) {
            let waited = self
                .rt
                .get()
                .block_on(async { tokio::time::timeout(DRAIN, worker).await });
            if waited.is_err() {
                tracing::warn!("a loading connection did not end within {DRAIN:?}; leaving it");
            }
        }
    }
}

/// How long a sink dropped after a failure waits for its units in flight.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(60);

impl TargetSink for PgSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        Some(self.encoder.clone())
    }
}
