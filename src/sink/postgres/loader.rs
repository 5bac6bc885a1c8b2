//! Loading: each commit unit in one transaction — a binary COPY per
//! table and its rows in the progress table — on whichever connection is
//! free, committed again on a new connection when one is lost.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use tokio::sync::mpsc;
use tokio_postgres::{Client, Config};

use super::connect::PgUrl;
use super::coordination::connect_loader;
use super::error::{describe, transient, PgError};
use super::prepare::PgTable;
use crate::progress::Progress;
use crate::sink::ddl::quote;

/// One commit unit: per table, its COPY stream and row count.
pub(super) struct Job {
    /// Per table, the COPY stream in pieces: the header, the encoded
    /// blocks as the generator threads made them (not copied), the
    /// trailer.
    pub(super) streams: Vec<Vec<Bytes>>,
    pub(super) rows: Vec<u64>,
    pub(super) from: u64,
    pub(super) to: u64,
    /// The unit's number in its sink, to mark it committed.
    pub(super) unit: u64,
}

impl Job {
    pub(super) fn new(tables: usize, from: u64) -> Job {
        Job {
            streams: vec![Vec::new(); tables],
            rows: vec![0; tables],
            from,
            to: from,
            unit: 0,
        }
    }
}

/// What a loading connection needs besides its units.
pub(super) struct Loader {
    pub(super) config: Arc<Config>,
    pub(super) url: PgUrl,
    /// The loading connections' shared advisory lock (see [`settle`]).
    pub(super) lock: i64,
    pub(super) tables: Arc<Vec<PgTable>>,
    pub(super) run: Arc<str>,
    pub(super) progress_table: String,
    pub(super) progress: Arc<Progress>,
    /// The sink's units in flight: a committed one is removed.
    pub(super) in_flight: Arc<std::sync::Mutex<std::collections::BTreeMap<u64, u64>>>,
    /// Commit units grow back after each commit.
    pub(super) commits: crate::sink::Commits,
    /// Fault injection: lose the connection before every N-th COMMIT.
    pub(super) drop_connection_every: Option<crate::sink::Every>,
}

/// Times a unit is tried on fresh connections before the load fails.
pub(super) const ATTEMPTS: u32 = 6;

/// True when `e` means the connection is gone (terminated backend, server
/// restart, network), so the unit may be retried on a new connection.
pub(super) fn connection_lost(client: &Client, e: &tokio_postgres::Error) -> bool {
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
            if let Some((stage, _)) = &self.tables[t].merge {
                client.batch_execute(stage).await?;
            }
            let sink = client.copy_in::<_, Bytes>(&self.tables[t].copy).await?;
            futures::pin_mut!(sink);
            for piece in stream {
                sink.feed(piece.clone()).await?;
            }
            sink.finish().await?;
            if let Some((_, merge)) = &self.tables[t].merge {
                client.batch_execute(merge).await?;
            }
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
        if self
            .drop_connection_every
            .as_ref()
            .is_some_and(|e| e.tick())
        {
            // A real loss: the server ends the backend and closes the
            // socket, with the unit's transaction open.
            tracing::info!("chaos: target.drop_connection_every: terminating the connection");
            client
                .batch_execute("SELECT pg_terminate_backend(pg_backend_pid())")
                .await?;
        }
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
pub(super) async fn load(
    index: usize,
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
                        connection = index,
                        attempt,
                        "PostgreSQL connection lost; reconnecting in {pause:?}"
                    );
                    tokio::time::sleep(pause).await;
                    match connect_loader(&loader.config, &loader.url, loader.lock).await {
                        Ok(c) => client = c,
                        Err(e) => {
                            tracing::warn!(error = %datagen_actors::chain(&e), "reconnecting failed")
                        }
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
                        action: format!(
                            "commit rows of {} (connection {index})",
                            tables.join(", ")
                        ),
                        cause: describe(&e),
                        transient: transient(&e),
                    });
                }
            }
        }
        for (t, &n) in job.rows.iter().enumerate() {
            loader.progress.add(t, n);
        }
        loader
            .in_flight
            .lock()
            .expect("units in flight")
            .remove(&job.unit);
        loader.commits.committed();
    }
}
