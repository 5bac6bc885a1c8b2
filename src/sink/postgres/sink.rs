//! The PostgreSQL sink: opening a load (or joining or resuming one),
//! handing commit units to the loading connections, and finishing.

use std::sync::Arc;

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
use crate::sink::checkpoint::Committed;
use crate::sink::ddl::{constraints, quote, Constraint, DdlOptions};
use crate::sink::{classify, encoded, BlockEncoder, TargetSink};
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
        keys.retain(|c| {
            !existing
                .iter()
                .any(|(t, columns, kind)| (*t, columns, *kind) == (c.table, &c.columns, c.kind))
        });
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

    fn write(&mut self, batch: Vec<Block>) -> Result<(), BoxError> {
        for mut block in self.committed.uncommitted(batch) {
            self.add(&mut block).map_err(classify::<PgError>)?;
        }
        if self.job.to - self.job.from >= self.options.commit_rows {
            self.send().map_err(classify::<PgError>)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.complete().map_err(classify::<PgError>)
    }
}

impl TargetSink for PgSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        Some(self.encoder.clone())
    }
}
