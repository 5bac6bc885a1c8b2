//! Message brokers: `nats://` (JetStream) and `amqp://` (RabbitMQ). Each
//! row is a message — its table's JSON object or CSV line — on a subject
//! (a routing key) made from a template (`shop.{table}`,
//! `orders.{customer_id}`), with headers naming its table, its position
//! in the row stream and, with `key = COLUMN`, its key.
//!
//! A batch is published pipelined and is durable once the broker has
//! acknowledged every message (JetStream's PubAck, RabbitMQ's publisher
//! confirms of persistent messages); the acknowledged ranges are then
//! checkpointed in a local file, and `--resume` (or a restart) goes on
//! after them. Messages published but not checkpointed when the process
//! died are published again: delivery is at least once. Every message
//! carries the same id each time (`STREAM:POSITION`): JetStream drops the
//! repeats itself (within its duplicate window), RabbitMQ consumers drop
//! them by `message_id`.
//!
//! * [`client`]: the blocking publishers over the brokers' client crates.
//! * [`sink`]: the sink: routing, encoding, publishing, checkpointing.

pub mod client;
pub mod mqtt;
pub mod redis_streams;
pub mod sink;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::options::{AnyKey, Common, Options};
use super::{Failure, Kind, OpenArgs, Target, TargetSink};
use crate::diag::Diagnostic;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::url::{Url, UrlError};

/// `nats://` and `amqp://`.
pub struct BrokerKind;

/// The kind of target that publishes to brokers.
pub static BROKERS: BrokerKind = BrokerKind;

/// A broker and where on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// NATS JetStream.
    Nats {
        /// `nats://HOST:PORT`.
        url: String,
        /// The JetStream stream (created, or updated, to hold the subjects).
        stream: String,
        /// How long JetStream remembers message ids to drop repeats.
        duplicate_window: Duration,
    },
    /// RabbitMQ.
    Amqp {
        /// `amqp://USER:PASSWORD@HOST:PORT/VHOST`.
        url: String,
        /// The exchange (`""`: the default exchange, routing to the queue
        /// named by the routing key).
        exchange: String,
        /// A queue per table, from this template (`{table}`).
        queue: String,
    },
    /// MQTT 5, QoS 1.
    Mqtt {
        /// The broker's host.
        host: String,
        /// Its port.
        port: u16,
    },
    /// Redis Streams.
    Redis {
        /// `redis://HOST:PORT[/DB]`.
        url: String,
    },
}

/// The payload of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// The row as a JSON object.
    Json,
    /// The row as a CSV line (no header).
    Csv,
    /// A changes table's rows as Debezium change events (JSON); other
    /// tables' as JSON objects.
    Debezium,
}

/// `nats://…` or `amqp://…` with its settings.
#[derive(Debug)]
pub struct BrokerTarget {
    /// Which broker.
    pub broker: Broker,
    /// The subject (routing key) template.
    pub subject: String,
    /// The column whose value is each message's key, if any.
    pub key: Option<String>,
    /// JSON or CSV.
    pub payload: Payload,
    /// Where acknowledged positions are checkpointed.
    pub checkpoint: PathBuf,
    /// `if_exists` (replace purges), `commit_rows`.
    pub common: Common,
}

/// Default JetStream duplicate window: long enough for a restart and a
/// resume soon after; JetStream's own default is two minutes.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

fn bad(what: impl Into<String>) -> UrlError {
    UrlError::BadOption(what.into())
}

/// Splits `template` into literal text and `{names}`; `None` when a brace
/// does not close.
pub fn placeholders(template: &str) -> Option<Vec<(bool, String)>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push((false, rest[..open].to_owned()));
        }
        let close = rest[open..].find('}')? + open;
        parts.push((true, rest[open + 1..close].trim().to_owned()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return None;
    }
    if !rest.is_empty() {
        parts.push((false, rest.to_owned()));
    }
    Some(parts)
}

impl Kind for BrokerKind {
    fn schemes(&self) -> &'static [&'static str] {
        &["nats", "amqp", "mqtt", "redis"]
    }

    fn usage(&self) -> &'static [&'static str] {
        &[
            "nats://HOST:PORT[?stream=NAME&subject=TEMPLATE&key=COLUMN&format=json|csv|debezium]",
            "amqp://USER:PASSWORD@HOST:PORT/VHOST[?exchange=NAME&routing_key=TEMPLATE&queue=TEMPLATE&key=COLUMN&format=json|csv|debezium]",
            "mqtt://HOST:PORT[?topic=TEMPLATE&key=COLUMN&format=json|csv|debezium]",
            "redis://HOST:PORT[/DB][?stream=TEMPLATE&key=COLUMN&format=json|csv|debezium]",
        ]
    }

    fn keys(&self) -> &'static [&'static dyn AnyKey] {
        &Common::KEYS
    }

    fn parse(
        &self,
        url: &Url<'_>,
        options: &mut Options<'_>,
        _: Shard,
    ) -> Result<Arc<dyn Target>, UrlError> {
        let (address, opts) = url.options();
        if address.is_empty() {
            return Err(UrlError::MissingPath(url.scheme.to_owned()));
        }
        let decoded: Vec<(&str, String)> = opts
            .iter()
            .map(|(k, v)| (*k, crate::url::percent_decode(v)))
            .collect();
        let get = |key: &str| {
            decoded
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        let known: &[&str] = match url.scheme {
            "nats" => &[
                "stream",
                "subject",
                "key",
                "format",
                "checkpoint",
                "duplicate_window",
            ],
            "mqtt" => &["topic", "key", "format", "checkpoint"],
            "redis" => &["stream", "key", "format", "checkpoint"],
            _ => &[
                "exchange",
                "routing_key",
                "queue",
                "key",
                "format",
                "checkpoint",
            ],
        };
        if let Some((k, v)) = opts.iter().find(|(k, _)| !known.contains(k)) {
            return Err(bad(format!(
                "{k}={v} ({}:// takes {})",
                url.scheme,
                known.join(", ")
            )));
        }
        let payload = match get("format") {
            None | Some("json") => Payload::Json,
            Some("csv") => Payload::Csv,
            Some("debezium") => Payload::Debezium,
            Some(other) => return Err(bad(format!("format={other} (json, csv or debezium)"))),
        };
        let key = get("key").map(str::to_owned);
        let (broker, subject, name) = match url.scheme {
            "nats" => {
                let stream = get("stream").unwrap_or("DATAGEN").to_owned();
                if stream.is_empty() || stream.contains(['.', '*', '>', ' ']) {
                    return Err(bad(format!(
                        "stream={stream} (a JetStream stream name has no dots, spaces or wildcards)"
                    )));
                }
                let subject = get("subject").unwrap_or("datagen.{table}").to_owned();
                let first = subject.split('.').next().unwrap_or("");
                if subject.split('.').count() < 2
                    || first.is_empty()
                    || first.contains(['{', '}', '*', '>'])
                {
                    return Err(bad(format!(
                        "subject={subject} (the subject begins with a fixed token and a dot, e.g. shop.{{table}}: the stream holds `shop.>`)"
                    )));
                }
                let window = match get("duplicate_window") {
                    None => DUPLICATE_WINDOW,
                    Some(v) => {
                        Duration::from_secs(v.parse::<u64>().ok().filter(|&s| s > 0).ok_or_else(
                            || bad(format!("duplicate_window={v} (seconds, at least 1)")),
                        )?)
                    }
                };
                (
                    Broker::Nats {
                        url: format!("nats://{address}"),
                        stream: stream.clone(),
                        duplicate_window: window,
                    },
                    subject,
                    format!("nats-{stream}"),
                )
            }
            "mqtt" => {
                let (host, port) = address.rsplit_once(':').unwrap_or((address, "1883"));
                let port: u16 = port
                    .parse()
                    .map_err(|_| bad(format!("mqtt://{address} (HOST:PORT)")))?;
                let topic = get("topic").unwrap_or("datagen/{table}").to_owned();
                if topic.contains(['+', '#']) || topic.starts_with('$') {
                    return Err(bad(format!(
                        "topic={topic} (a topic to publish to has no wildcards and does not start with $)"
                    )));
                }
                (
                    Broker::Mqtt {
                        host: host.to_owned(),
                        port,
                    },
                    topic,
                    format!("mqtt-{}", address.replace(':', "-")),
                )
            }
            "redis" => {
                let key = get("stream").unwrap_or("datagen:{table}").to_owned();
                let columns =
                    placeholders(&key).is_some_and(|p| p.iter().any(|(ph, n)| *ph && n != "table"));
                if columns {
                    return Err(bad(format!(
                        "stream={key} (a stream per table: only {{table}}; route by column with key=COLUMN, kept in each entry)"
                    )));
                }
                (
                    Broker::Redis {
                        url: format!("redis://{address}"),
                    },
                    key,
                    format!("redis-{}", address.replace([':', '/'], "-")),
                )
            }
            _ => {
                if address.contains("amqps") {
                    return Err(bad("amqps (TLS) is not supported"));
                }
                let exchange = get("exchange").unwrap_or("").to_owned();
                let routing = get("routing_key").unwrap_or("{table}").to_owned();
                let queue = get("queue").unwrap_or("{table}").to_owned();
                let columns = |t: &str| {
                    placeholders(t).is_some_and(|p| p.iter().any(|(ph, n)| *ph && n != "table"))
                };
                if exchange.is_empty()
                    && (columns(&routing) || routing != queue && get("queue").is_some())
                {
                    return Err(bad(format!(
                        "routing_key={routing} (with the default exchange a message goes to the queue its routing key names: route by column through an exchange, e.g. exchange=shop)"
                    )));
                }
                if columns(&queue) {
                    return Err(bad(format!(
                        "queue={queue} (a queue per table: only {{table}})"
                    )));
                }
                let name = if exchange.is_empty() {
                    "default".to_owned()
                } else {
                    exchange.clone()
                };
                (
                    Broker::Amqp {
                        url: format!("amqp://{address}"),
                        exchange,
                        queue,
                    },
                    routing,
                    format!("amqp-{name}"),
                )
            }
        };
        if placeholders(&subject).is_none() {
            return Err(bad(format!(
                "the template `{subject}` opens a brace it does not close"
            )));
        }
        let checkpoint = get("checkpoint").map_or_else(
            || PathBuf::from(".datagen").join(format!("{name}.checkpoint")),
            PathBuf::from,
        );
        Ok(Arc::new(BrokerTarget {
            broker,
            subject,
            key,
            payload,
            checkpoint,
            common: Common::read(options),
        }))
    }
}

impl std::fmt::Display for BrokerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.broker {
            Broker::Nats { url, stream, .. } => {
                write!(f, "{url}?stream={stream}&subject={}", self.subject)
            }
            Broker::Amqp { url, exchange, .. } => write!(
                f,
                "{}?exchange={exchange}&routing_key={}",
                crate::url::redact(url),
                self.subject
            ),
            Broker::Mqtt { host, port } => write!(f, "mqtt://{host}:{port}?topic={}", self.subject),
            Broker::Redis { url } => {
                write!(f, "{}?stream={}", crate::url::redact(url), self.subject)
            }
        }
    }
}

impl BrokerTarget {
    /// The name a template gives table `t`'s messages, with `{table}`
    /// filled in and columns as `wildcard`.
    pub fn fill(template: &str, table: &str, wildcard: &str) -> String {
        placeholders(template)
            .unwrap_or_default()
            .into_iter()
            .map(|(ph, text)| match (ph, text.as_str()) {
                (false, _) => text,
                (true, "table") => table.to_owned(),
                (true, _) => wildcard.to_owned(),
            })
            .collect()
    }
}

impl Target for BrokerTarget {
    fn options(&self) -> Vec<(&'static str, String)> {
        let mut shown = self.common.shown();
        shown.push(("checkpoint", self.checkpoint.display().to_string()));
        shown
    }

    fn has_connections(&self) -> bool {
        true
    }

    fn continues(&self) -> bool {
        true
    }

    fn check(&self, schema: &Schema) -> Vec<Diagnostic> {
        let mut d = Vec::new();
        let names: Vec<String> = placeholders(&self.subject)
            .unwrap_or_default()
            .into_iter()
            .filter(|(ph, n)| *ph && n != "table")
            .map(|(_, n)| n)
            .chain(self.key.clone())
            .collect();
        for (i, table) in schema.tables.iter().enumerate() {
            if !schema.stream.emit[i] {
                continue;
            }
            for name in &names {
                if !table.columns.iter().any(|c| &c.name == name) {
                    d.push(
                        Diagnostic::new(
                            table.span.clone(),
                            format!("{self} names column `{name}`, which table `{}` does not have", table.name),
                        )
                        .help(format!(
                            "route by a column every emitted table has, or leave the table out with `[stream.tables.{}] emit = false`",
                            table.name
                        )),
                    );
                }
            }
        }
        d
    }

    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure> {
        Ok(Box::new(sink::BrokerSink::open(self, args)?))
    }

    fn discard(&self, _: &Schema) {
        // What was published is in the broker; the checkpoint stays for
        // --resume (its messages are acknowledged).
    }
}
