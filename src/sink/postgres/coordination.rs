//! Coordination of the connections and processes of one load: advisory
//! locks, the shards of a sharded load, and what `--resume` continues from.

use std::time::Duration;

use tokio_postgres::{Client, Config};

use super::connect::{connect, PgUrl};
use super::error::{server, PgError};
use super::prepare::{prepare, table_exists, PgOptions, PROGRESS_TABLE};
use crate::schema::Schema;
use crate::shard::Shard;
use crate::sink::checkpoint::Committed;
use crate::sink::ddl::DdlOptions;

/// The table that tells the shards of one run they load the same tables:
/// one row per run, written by the shard that prepared the tables.
pub const SHARDS_TABLE: &str = "datagen_shards";

/// What a load's advisory locks are named after: the run's fingerprint and
/// where it loads (advisory locks are per database, and the same Genfile
/// may be loaded into two schemas at once).
pub(super) fn lock_scope(fingerprint: &str, ddl: &DdlOptions) -> String {
    format!("{fingerprint}\0{}", ddl.qualified(PROGRESS_TABLE))
}

/// The advisory lock key of a load (FNV-1a of its scope), and of one of
/// its shards.
pub(super) fn lock_key(scope: &str, shard: Option<u64>) -> i64 {
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
pub(super) async fn run_lock(client: &Client, scope: &str, take: bool) -> Result<(), PgError> {
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
pub(super) fn loader_key(scope: &str, shard: Shard) -> i64 {
    lock_key(&format!("{scope}\0loading"), Some(shard.index))
}

/// A loading connection: [`connect`], then the load's shared lock.
pub(super) async fn connect_loader(
    config: &Config,
    url: &PgUrl,
    lock: i64,
) -> Result<Client, PgError> {
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
pub(super) async fn settle(client: &Client, lock: i64) -> Result<(), PgError> {
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
pub(super) async fn run_rows_committed(
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
pub(super) async fn join_shards(
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
pub(super) async fn prepare_or_join(
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
            match resume_state(main, schema, ddl, &options.resume, &options.applies).await? {
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
pub(super) async fn joined_shards(
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
pub(super) async fn resume_state(
    client: &Client,
    schema: &Schema,
    ddl: &DdlOptions,
    resume: &crate::sink::Resume,
    applies: &[Option<crate::sink::apply::Apply>],
) -> Result<Option<(Committed, Vec<u64>)>, PgError> {
    let fingerprint = resume.fingerprint.as_str();
    let mut missing = Vec::new();
    // A changes table applied to its table is never created.
    let stored = schema.tables.len() - applies.iter().flatten().count();
    for (t, table) in schema.tables.iter().enumerate() {
        if applies.get(t).is_some_and(Option::is_some) {
            continue;
        }
        let name = ddl.qualified(&table.name);
        if !table_exists(client, &name).await? {
            missing.push(name);
        }
    }
    if missing.len() == stored {
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
    // Another load's progress (of another Genfile loaded into the same
    // schema) is not this run's: a restart within the run reads its own,
    // even when it has none yet; only `--resume` must find some.
    if ranges.is_empty() && !others.is_empty() && !resume.restart {
        return Err(PgError::Resume(format!(
            "the tables hold a load made with a different Genfile, seed or scale (run {})\n  help: resume with the same Genfile, --seed and --scale, or start over without --resume and with if_exists = \"replace\"",
            others.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Some((Committed::from_ranges(ranges), counts)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
