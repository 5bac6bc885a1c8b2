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
//!
//! * [`connect`]: the URL, the driver configuration, a session.
//! * [`prepare`]: `if_exists`, the tables, their column types read back.
//! * [`coordination`]: advisory locks, shards, what `--resume` continues.
//! * [`loader`]: commit units on the loading connections, exactly once.
//! * [`finish`]: keys after the load, then ANALYZE.
//! * [`binary`]: the binary COPY encoder.
//! * [`sink`]: the sink that ties them together; [`error`]: what fails.

pub mod binary;
pub mod connect;
pub mod coordination;
pub mod error;
pub mod finish;
pub mod loader;
pub mod prepare;
pub mod read;
pub mod sink;

use std::sync::{Arc, Mutex};

use super::options::{
    at_least, text, AnyKey, Common, Key, Options, Problem, COMMIT_ROWS, IF_EXISTS,
};
use super::upsert::{upsert_span, Merge, Upsert, ON_CONFLICT};
use super::{Commits, Failure, Kind, OpenArgs, Target, TargetSink};
use crate::schema::Schema;
use crate::shard::Shard;
use crate::url::{Url, UrlError};
use connect::PgUrl;
use prepare::{Constraints, PgOptions};
use sink::PgSink;

/// `connections`: loading connections; 0 = one more than the cores.
pub const CONNECTIONS: Key<u64> = Key {
    name: "connections",
    read: |v| at_least("connections", v, 0),
};

/// `constraints`: keys added `after` the load (the default) or `during` it.
pub const CONSTRAINTS: Key<Constraints> = Key {
    name: "constraints",
    read: |v| {
        let s = text("constraints", v)?;
        Constraints::parse(s).ok_or_else(|| {
            Problem::new(format!("unknown constraints `{s}`"))
                .help("use `after` (add keys once the rows are in, the default) or `during`")
        })
    },
};

/// PostgreSQL connections loading at once when none are configured: one
/// more than this machine has cores, at least 2 and at most 8. Each feeds
/// its own server process; on 2 cores with the server local, 3 loaded shop
/// 10% faster than 2 and 40% faster than 1 (see benches/README.md).
pub fn default_connections() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores + 1).clamp(2, 8)
}

/// `postgres://…` and `postgresql://…`.
pub struct PostgresKind;

/// The PostgreSQL kind of target.
pub static POSTGRES: PostgresKind = PostgresKind;

impl Kind for PostgresKind {
    fn schemes(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }

    fn usage(&self) -> &'static [&'static str] {
        &["postgres://USER@HOST:PORT/DB[?schema=NAME]"]
    }

    fn keys(&self) -> &'static [&'static dyn AnyKey] {
        &[
            &IF_EXISTS,
            &COMMIT_ROWS,
            &CONNECTIONS,
            &CONSTRAINTS,
            &ON_CONFLICT,
        ]
    }

    fn parse(
        &self,
        url: &Url<'_>,
        options: &mut Options<'_>,
        shard: Shard,
    ) -> Result<Arc<dyn Target>, UrlError> {
        Ok(Arc::new(PgTarget {
            url: PgUrl::parse(url)?,
            common: Common::read(options),
            connections: match options.get(&CONNECTIONS) {
                None | Some(0) => default_connections(),
                Some(n) => n as usize,
            },
            constraints: options.get(&CONSTRAINTS).unwrap_or_default(),
            shard,
            upserts: options.get(&ON_CONFLICT).unwrap_or_default(),
            created: Arc::default(),
        }))
    }
}

/// Tables in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// Where.
    pub url: PgUrl,
    /// `if_exists`, `commit_rows` (rows per transaction).
    pub common: Common,
    /// Loading connections.
    pub connections: usize,
    /// When keys are added.
    pub constraints: Constraints,
    /// The slice of the run loaded.
    pub shard: Shard,
    /// `on_conflict`: tables loaded by upsert-add.
    pub upserts: Vec<Upsert>,
    /// The tables a run into it created, for [`Target::discard`].
    pub created: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Display for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url.redacted)
    }
}

impl Target for PgTarget {
    fn check(&self, schema: &Schema) -> Vec<crate::diag::Diagnostic> {
        let mut d = crate::sink::ddl::problems(schema, crate::sink::ddl::Dialect::Postgres);
        if let Err(problems) = Merge::resolve(schema, &self.upserts, upsert_span(schema), true) {
            d.extend(problems);
        }
        d
    }

    fn upserts(&self) -> Vec<Upsert> {
        self.upserts.clone()
    }

    fn options(&self) -> Vec<(&'static str, String)> {
        let mut out = self.common.shown();
        out.push(("connections", self.connections.to_string()));
        out.push(("constraints", self.constraints.as_str().to_owned()));
        out
    }

    fn has_connections(&self) -> bool {
        true
    }

    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure> {
        let mut merges = vec![None; args.schema.tables.len()];
        let resolved = Merge::resolve(&args.schema, &self.upserts, None, true).map_err(|d| {
            Failure::new(
                crate::sink::ErrorKind::Input,
                args.schema.located(d).to_string(),
            )
        })?;
        for m in resolved {
            let t = m.table;
            merges[t] = Some(m);
        }
        // Changes are applied in stream order: one connection commits the
        // units one after the other (several would commit them in any order).
        let applies = crate::sink::apply::Apply::of(&args.schema, args.stream)?;
        let connections = if applies.iter().any(Option::is_some) {
            1
        } else {
            self.connections
        };
        let options = PgOptions {
            merges,
            applies: applies.clone(),
            if_exists: self.common.if_exists,
            constraints: self.constraints,
            commits: Commits::new(self.common.commit_rows, args),
            drop_connection_every: args.drop_connection_every.clone(),
            connections,
            resume: args.resume.clone(),
            shard: args.shard,
            run_rows: args.run_rows,
            created: self.created.clone(),
        };
        Ok(Box::new(PgSink::open(
            &self.url,
            args.schema.clone(),
            options,
            args.progress.clone(),
        )?))
    }

    fn reader(&self) -> Result<Option<Box<dyn crate::sink::Reader>>, Failure> {
        Ok(Some(Box::new(read::PgReader::open(&self.url)?)))
    }

    fn discard(&self, _: &Schema) {
        // The run decided nothing it committed is worth keeping: the
        // tables it created go. A shard's tables are the whole load's.
        let created = std::mem::take(&mut *self.created.lock().unwrap_or_else(|e| e.into_inner()));
        if created.is_empty() || !self.shard.is_whole() {
            return;
        }
        if let Err(e) = sink::drop_tables(&self.url, &created) {
            tracing::warn!(error = %crate::sink::Failure::from(e), "could not drop the tables the failed run created");
        }
    }
}
