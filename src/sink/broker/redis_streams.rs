//! Redis Streams: `XADD` with an explicit id from the row's position
//! (`POSITION-1`), pipelined a batch at a time. Redis refuses an id not
//! above the stream's last, so a row added once is never added twice:
//! before its first batch, a publisher reads each stream's last id and
//! skips the rows at or below it.

use std::collections::HashMap;

use super::client::{BrokerError, Message, Publisher};

/// A connection to Redis.
pub struct RedisStreams {
    connection: redis::Connection,
    /// Per stream key, the position of its last entry (read once).
    last: HashMap<String, Option<u64>>,
}

fn error(e: redis::RedisError) -> BrokerError {
    let transient = e.is_io_error() || e.is_connection_dropped() || e.is_timeout();
    BrokerError::Publish {
        source: e.into(),
        transient,
    }
}

impl RedisStreams {
    /// Connects to `url` (`redis://HOST:PORT[/DB]`).
    pub fn connect(url: &str) -> Result<RedisStreams, BrokerError> {
        let connect = |e: redis::RedisError| {
            let transient = e.is_io_error() || e.is_connection_refusal() || e.is_timeout();
            BrokerError::Connect {
                source: e.into(),
                transient,
            }
        };
        let client = redis::Client::open(url).map_err(connect)?;
        let mut connection = client.get_connection().map_err(connect)?;
        redis::cmd("PING")
            .query::<String>(&mut connection)
            .map_err(connect)?;
        Ok(RedisStreams {
            connection,
            last: HashMap::new(),
        })
    }

    /// Deletes the stream keys (`if_exists = "replace"`).
    pub fn delete(&mut self, keys: &[String]) -> Result<(), BrokerError> {
        for key in keys {
            redis::cmd("DEL")
                .arg(key)
                .query::<i64>(&mut self.connection)
                .map_err(error)?;
        }
        Ok(())
    }

    /// Entries in stream `key`.
    pub fn len(&mut self, key: &str) -> Result<u64, BrokerError> {
        redis::cmd("XLEN")
            .arg(key)
            .query(&mut self.connection)
            .map_err(error)
    }

    /// The position of the last entry of stream `key`.
    fn last(&mut self, key: &str) -> Result<Option<u64>, BrokerError> {
        if let Some(&last) = self.last.get(key) {
            return Ok(last);
        }
        let entries: Vec<(String, redis::Value)> = redis::cmd("XREVRANGE")
            .arg(key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query(&mut self.connection)
            .map_err(error)?;
        let last = entries
            .first()
            .and_then(|(id, _)| id.split('-').next()?.parse().ok());
        self.last.insert(key.to_owned(), last);
        Ok(last)
    }
}

impl Publisher for RedisStreams {
    fn publish(&mut self, batch: &[Message<'_>]) -> Result<u64, BrokerError> {
        let mut pipe = redis::pipe();
        let mut skipped = 0;
        let mut tops: HashMap<&str, u64> = HashMap::new();
        for m in batch {
            let position: u64 = m
                .headers
                .iter()
                .find(|(k, _)| *k == "datagen-position")
                .and_then(|(_, v)| v.parse().ok())
                .ok_or_else(|| BrokerError::Invalid {
                    id: m.id.to_owned(),
                    reason: "no position".into(),
                })?;
            if self.last(m.subject)?.is_some_and(|last| position <= last) {
                skipped += 1;
                continue;
            }
            let cmd = pipe.cmd("XADD").arg(m.subject).arg(format!("{position}-1"));
            cmd.arg("id").arg(m.id).arg("row").arg(m.payload);
            for (k, v) in m.headers {
                cmd.arg(*k).arg(*v);
            }
            cmd.ignore();
            tops.insert(m.subject, position);
        }
        // After a resume every message of a batch may be in its stream
        // already: nothing to send (Redis refuses an empty pipeline).
        if tops.is_empty() {
            return Ok(skipped);
        }
        pipe.query::<()>(&mut self.connection).map_err(error)?;
        for (key, top) in tops {
            self.last.insert(key.to_owned(), Some(top));
        }
        Ok(skipped)
    }
}
