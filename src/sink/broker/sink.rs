//! The broker sink: each row framed with its subject and key on the
//! generator threads, published a batch at a time, the acknowledged
//! ranges checkpointed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datagen_actors::{BoxError, Sink};
use serde::{Deserialize, Serialize};

use super::client::{BrokerError, Message, Nats, Publisher, Rabbit};
use super::{placeholders, Broker, BrokerTarget, Payload};
use crate::format::text;
use crate::progress::Progress;
use crate::schema::Schema;
use crate::sink::checkpoint::Committed;
use crate::sink::files::encode::{FileFormat, TableEncoder};
use crate::sink::options::IfExists;
use crate::sink::{encoded, BlockEncoder, ErrorKind, Failure, Given, OpenArgs, TargetSink};
use crate::value::{Block, Encoded, Value};

impl BrokerError {
    /// What the error means for the run.
    pub fn kind(&self) -> ErrorKind {
        match self {
            e if e.transient() => ErrorKind::Transient,
            BrokerError::Connect { .. }
            | BrokerError::Setup { .. }
            | BrokerError::Unroutable { .. }
            | BrokerError::Invalid { .. } => ErrorKind::Input,
            _ => ErrorKind::Permanent,
        }
    }
}

impl From<BrokerError> for Failure {
    fn from(e: BrokerError) -> Self {
        Failure::new(e.kind(), e)
    }
}

/// A piece of a subject: literal text, or a column's value.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Column(usize, u8),
}

/// How one table's rows become messages.
#[derive(Debug, Clone)]
struct Route {
    subject: Vec<Part>,
    key: Option<(usize, u8)>,
    payload: TableEncoder,
}

/// Frames each row as `[subject length][subject][key length][key][payload]`
/// (lengths as 4 bytes, little-endian; no key: `u32::MAX`), so the sink
/// only sends what the generator threads made.
#[derive(Debug, Clone)]
pub struct RoutedEncoder {
    tables: Vec<Option<Route>>,
    payload: Payload,
}

/// A value as a subject token: characters a subject or routing key
/// gives a meaning (`.`, `*`, `>`, `#`, blanks) become `_`; NULL is
/// `null`.
fn token(out: &mut String, v: Value, block: &Block, scale: u8) {
    if v == Value::Null {
        out.push_str("null");
        return;
    }
    let from = out.len();
    text::value(out, v, block, scale);
    if out.len() == from {
        out.push('_');
        return;
    }
    let cleaned: String = out[from..]
        .chars()
        .map(|c| {
            if matches!(c, '.' | '*' | '>' | '#' | '/' | '+') || c.is_whitespace() || c.is_control()
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    out.truncate(from);
    out.push_str(&cleaned);
}

impl RoutedEncoder {
    /// The routes of `schema`'s tables through `target`'s templates.
    pub fn new(schema: &Schema, target: &BrokerTarget) -> RoutedEncoder {
        let format = match target.payload {
            Payload::Json | Payload::Debezium => FileFormat::Jsonl,
            Payload::Csv => FileFormat::Csv,
        };
        let parts = placeholders(&target.subject).unwrap_or_default();
        let tables = schema
            .tables
            .iter()
            .map(|table| {
                let column = |name: &str| {
                    let c = table.columns.iter().position(|c| c.name == name)?;
                    Some((c, table.columns[c].sql_type.scale()))
                };
                let subject = parts
                    .iter()
                    .map(|(ph, text)| match (ph, text.as_str()) {
                        (false, _) => Some(Part::Text(text.clone())),
                        (true, "table") => Some(Part::Text(table.name.clone())),
                        (true, name) => column(name).map(|(c, s)| Part::Column(c, s)),
                    })
                    .collect::<Option<Vec<Part>>>()?;
                let key = match &target.key {
                    Some(name) => Some(column(name)?),
                    None => None,
                };
                Some(Route {
                    subject,
                    key,
                    payload: match target.payload {
                        Payload::Debezium => TableEncoder::new(table, format)
                            .debezium(schema, schema.table_index(&table.name).unwrap_or(0)),
                        _ => TableEncoder::new(table, format),
                    },
                })
            })
            .collect();
        RoutedEncoder {
            tables,
            payload: target.payload,
        }
    }
}

impl BlockEncoder for RoutedEncoder {
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError> {
        let route = self.tables[block.table]
            .as_ref()
            .ok_or("the subject names a column this table does not have")?;
        let mut payloads = Encoded::default();
        route.payload.encode(block, &mut payloads);
        let mut bytes = std::mem::take(&mut out.bytes);
        bytes.clear();
        out.ends.clear();
        let mut scratch = String::new();
        let mut start = 0usize;
        for (i, row) in block.rows().enumerate() {
            scratch.clear();
            for part in &route.subject {
                match part {
                    Part::Text(t) => scratch.push_str(t),
                    Part::Column(c, scale) => token(&mut scratch, row[*c], block, *scale),
                }
            }
            bytes.extend_from_slice(&(scratch.len() as u32).to_le_bytes());
            bytes.extend_from_slice(scratch.as_bytes());
            match route.key {
                Some((c, scale)) => {
                    scratch.clear();
                    text::value(&mut scratch, row[c], block, scale);
                    bytes.extend_from_slice(&(scratch.len() as u32).to_le_bytes());
                    bytes.extend_from_slice(scratch.as_bytes());
                }
                None => bytes.extend_from_slice(&u32::MAX.to_le_bytes()),
            }
            let end = payloads.ends[i] as usize;
            let line = &payloads.bytes[start..end];
            start = end;
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            bytes.extend_from_slice(line);
            out.ends.push(bytes.len() as u32);
        }
        out.bytes = bytes;
        Ok(())
    }
}

/// A row of a batch as it is published.
struct Framed<'a> {
    table: usize,
    position: u64,
    subject: &'a str,
    key: Option<&'a str>,
    payload: &'a [u8],
}

/// One framed row: subject, key, payload.
fn unframe(row: &[u8]) -> (&str, Option<&str>, &[u8]) {
    let read = |at: usize| u32::from_le_bytes(row[at..at + 4].try_into().expect("4 bytes"));
    let n = read(0) as usize;
    let subject = std::str::from_utf8(&row[4..4 + n]).unwrap_or("");
    let at = 4 + n;
    let k = read(at);
    let (key, at) = if k == u32::MAX {
        (None, at + 4)
    } else {
        let k = k as usize;
        (
            std::str::from_utf8(&row[at + 4..at + 4 + k]).ok(),
            at + 4 + k,
        )
    };
    (subject, key, &row[at..])
}

/// The checkpoint: the run and the acknowledged ranges.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    datagen_stream: u32,
    run: String,
    /// The stream's own id, the first part of every message id: a new
    /// stream of the same Genfile gets another, so a broker that
    /// remembers ids (JetStream) does not take its messages for repeats.
    stream_id: String,
    ranges: Vec<(u64, u64)>,
    /// Messages the broker said it had already (JetStream), in all.
    duplicates: u64,
}

/// Publishes rows to a broker.
pub struct BrokerSink {
    publisher: Option<Box<dyn Publisher>>,
    encoder: Arc<RoutedEncoder>,
    schema: Arc<Schema>,
    checkpoint: PathBuf,
    fingerprint: String,
    /// What the broker holds already: not published again.
    committed: Committed,
    ranges: Vec<(u64, u64)>,
    duplicates: u64,
    given: Given,
    progress: Arc<Progress>,
    /// `STREAM:` of every message id: the stream's own id.
    id_prefix: String,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Failure {
    let path = path.display().to_string();
    move |e| {
        let kind = if crate::sink::io_transient(&e) {
            ErrorKind::Transient
        } else {
            ErrorKind::Permanent
        };
        Failure::new(kind, format!("cannot {action} the checkpoint {path}: {e}"))
    }
}

impl BrokerSink {
    /// Connects, declares what the messages need (a stream, queues) and
    /// reads the checkpoint when resuming or restarting.
    pub fn open(target: &BrokerTarget, args: &OpenArgs) -> Result<BrokerSink, Failure> {
        let schema = args.schema.clone();
        let emitted: Vec<&str> = schema
            .tables
            .iter()
            .enumerate()
            .filter(|(i, _)| schema.stream.emit[*i])
            .map(|(_, t)| t.name.as_str())
            .collect();
        let replace = target.common.if_exists == IfExists::Replace
            && !args.resume.resume
            && !args.resume.restart;
        let publisher: Box<dyn Publisher> = match &target.broker {
            Broker::Nats {
                url,
                stream,
                duplicate_window,
            } => {
                let first = target.subject.split('.').next().unwrap_or("datagen");
                let nats = Nats::connect(url, stream, &[format!("{first}.>")], *duplicate_window)
                    .map_err(|e| {
                    missing_server(e, url, "NATS with JetStream (nats-server -js)")
                })?;
                if replace {
                    nats.purge(stream)?;
                }
                Box::new(nats)
            }
            Broker::Amqp {
                url,
                exchange,
                queue,
            } => {
                let queues: Vec<(String, String)> = emitted
                    .iter()
                    .map(|t| {
                        (
                            BrokerTarget::fill(queue, t, "*"),
                            BrokerTarget::fill(&target.subject, t, "*"),
                        )
                    })
                    .collect();
                let rabbit = Rabbit::connect(url, exchange, &queues)
                    .map_err(|e| missing_server(e, &crate::url::redact(url), "RabbitMQ"))?;
                if replace {
                    let names: Vec<String> = queues.into_iter().map(|(q, _)| q).collect();
                    rabbit.purge(&names)?;
                }
                Box::new(rabbit)
            }
            Broker::Mqtt { host, port } => {
                // A client id of its own: a broker drops the older of two
                // connections with the same id.
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let id = format!("datagen-{}-{nanos:x}", std::process::id());
                let mqtt = super::mqtt::Mqtt::connect(host, *port, &id).map_err(|e| {
                    missing_server(e, &format!("{host}:{port}"), "an MQTT broker (mosquitto)")
                })?;
                Box::new(mqtt)
            }
            Broker::Redis { url } => {
                let mut redis = super::redis_streams::RedisStreams::connect(url).map_err(|e| {
                    missing_server(e, &crate::url::redact(url), "Redis (redis-server)")
                })?;
                let keys: Vec<String> = emitted
                    .iter()
                    .map(|t| BrokerTarget::fill(&target.subject, t, "_"))
                    .collect();
                if replace {
                    redis.delete(&keys)?;
                } else if !args.resume.resume && !args.resume.restart {
                    // Entry ids are positions: a new stream cannot follow
                    // another in the same keys.
                    for key in &keys {
                        if redis.len(key)? > 0 {
                            return Err(Failure::new(
                                ErrorKind::Input,
                                format!(
                                    "the Redis stream `{key}` holds entries already\n  help: continue its stream with --resume, set if_exists = \"replace\" to start it again, or give another stream="
                                ),
                            ));
                        }
                    }
                }
                Box::new(redis)
            }
        };
        let mut sink = BrokerSink {
            publisher: Some(publisher),
            encoder: Arc::new(RoutedEncoder::new(&schema, target)),
            schema,
            checkpoint: target.checkpoint.clone(),
            fingerprint: args.resume.fingerprint.clone(),
            committed: Committed::default(),
            ranges: Vec::new(),
            duplicates: 0,
            given: Given::default(),
            progress: args.progress.clone(),
            id_prefix: String::new(),
        };
        if args.resume.resume || args.resume.restart {
            sink.read_checkpoint()?;
        }
        if sink.id_prefix.is_empty() {
            // A new stream: its id, in the checkpoint before any message.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let fp = &args.resume.fingerprint;
            sink.id_prefix = format!("{}-{:x}:", &fp[..fp.len().min(12)], nanos % (1 << 48));
            sink.write_checkpoint()?;
        }
        Ok(sink)
    }

    fn read_checkpoint(&mut self) -> Result<(), Failure> {
        // Only a regular file is read (a FIFO there would block).
        if let Err(e) = crate::sink::place::publishable(&self.checkpoint) {
            return Err(Failure::new(ErrorKind::Input, e));
        }
        let text = match std::fs::read_to_string(&self.checkpoint) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("read", &self.checkpoint)(e)),
        };
        let ck: Checkpoint = serde_json::from_str(&text).map_err(|e| {
            Failure::new(
                ErrorKind::Input,
                format!(
                    "cannot resume: {} is not a checkpoint: {e}",
                    self.checkpoint.display()
                ),
            )
        })?;
        if ck.run != self.fingerprint {
            return Err(Failure::new(
                ErrorKind::Input,
                format!(
                    "cannot resume: {} belongs to a stream made with a different Genfile, seed or scale\n  help: resume with the same Genfile, --seed and --scale, or start over without --resume",
                    self.checkpoint.display()
                ),
            ));
        }
        self.committed = Committed::from_ranges(ck.ranges.iter().copied());
        self.id_prefix = format!("{}:", ck.stream_id);
        self.ranges = self.committed.ranges().to_vec();
        self.duplicates = ck.duplicates;
        // Rows per table are not recorded: what a resumed stream shows
        // is what it publishes.
        Ok(())
    }

    fn write_checkpoint(&self) -> Result<(), Failure> {
        let ck = Checkpoint {
            datagen_stream: 1,
            run: self.fingerprint.clone(),
            stream_id: self.id_prefix.trim_end_matches(':').to_owned(),
            ranges: self.ranges.clone(),
            duplicates: self.duplicates,
        };
        if let Some(dir) = self
            .checkpoint
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(io("write", &self.checkpoint))?;
        }
        let temp = self.checkpoint.with_extension("checkpoint.tmp");
        let mut file = crate::sink::place::fresh(&temp).map_err(io("write", &temp))?;
        file.write_all(serde_json::to_string(&ck).expect("serialises").as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(io("write", &temp))?;
        std::fs::rename(&temp, &self.checkpoint).map_err(io("write", &self.checkpoint))
    }

    fn publish(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        *batch = self.committed.uncommitted(std::mem::take(batch));
        for block in batch.iter_mut() {
            encoded(&*self.encoder, block)?;
        }
        // Each row once: its table, position, subject, key and payload.
        let rows: Vec<Framed<'_>> = batch
            .iter()
            .flat_map(|block| {
                let rows = block.encoded.as_ref().expect("encoded above");
                (0..rows.ends.len()).map(move |i| {
                    let (subject, key, payload) = unframe(rows.row(i));
                    Framed {
                        table: block.table,
                        position: block.stream + i as u64,
                        subject,
                        key,
                        payload,
                    }
                })
            })
            .collect();
        let ids: Vec<String> = rows
            .iter()
            .map(|r| format!("{}{}", self.id_prefix, r.position))
            .collect();
        let positions: Vec<String> = rows.iter().map(|r| r.position.to_string()).collect();
        let headers: Vec<[(&str, &str); 3]> = rows
            .iter()
            .zip(&positions)
            .map(|(r, position)| {
                [
                    ("datagen-table", self.schema.tables[r.table].name.as_str()),
                    ("datagen-position", position.as_str()),
                    ("datagen-key", r.key.unwrap_or_default()),
                ]
            })
            .collect();
        let content_type = match self.encoder.payload {
            Payload::Json | Payload::Debezium => "application/json",
            Payload::Csv => "text/csv",
        };
        let messages: Vec<Message<'_>> = rows
            .iter()
            .zip(&ids)
            .zip(&headers)
            .map(|((r, id), h)| Message {
                content_type,
                subject: r.subject,
                id: id.as_str(),
                headers: if r.key.is_some() { &h[..] } else { &h[..2] },
                payload: r.payload,
            })
            .collect();
        let publisher = self
            .publisher
            .as_mut()
            .expect("a sink publishes until dropped");
        let duplicates = publisher.publish(&messages).map_err(Failure::from)?;
        self.duplicates += duplicates;
        let acknowledged: Vec<(u64, u64, bool)> = batch
            .iter()
            .map(|b| (b.stream, b.stream + b.len() as u64, b.cut))
            .collect();
        for block in batch.iter() {
            self.progress.add(block.table, block.len() as u64);
        }
        // Batches are acknowledged in stream order (`Committed::advance`).
        self.ranges = Committed::advance(&self.ranges, &acknowledged);
        self.write_checkpoint()?;
        self.given.committed();
        Ok(())
    }
}

/// A connection refused: which server to start.
fn missing_server(e: BrokerError, url: &str, what: &str) -> Failure {
    let refused = matches!(
        &e,
        BrokerError::Connect {
            transient: true,
            ..
        }
    );
    let kind = e.kind();
    if refused {
        Failure::new(
            kind,
            format!("cannot reach {what} at {url}: {e}\n  help: start {what} there, or give another address with --target"),
        )
    } else {
        Failure::from(e)
    }
}

impl Sink for BrokerSink {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        self.given.begin(batch);
        self.publish(batch)?;
        self.given.end();
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        Some(self.given.durable)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        if self.duplicates > 0 {
            tracing::info!(
                duplicates = self.duplicates,
                "the broker dropped repeated messages"
            );
        }
        Ok(())
    }
}

impl Drop for BrokerSink {
    fn drop(&mut self) {
        // A client owns a runtime, which may not be dropped where async
        // code runs (the Target actor's thread): drop it on a thread of
        // its own.
        if let Some(publisher) = self.publisher.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || drop(publisher)).join();
            } else {
                drop(publisher);
            }
        }
    }
}

impl TargetSink for BrokerSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        Some(self.encoder.clone())
    }
}
