//! Blocking publishers for NATS JetStream (async-nats) and RabbitMQ
//! (lapin): a batch is sent pipelined and `publish` returns once the
//! broker has acknowledged every message.
//!
//! Each publisher owns a small multi-thread tokio runtime (1 worker) so that the
//! clients' background tasks (pings / heartbeats / reconnects) keep running between
//! `publish` calls. `publish` blocks on that runtime, so it must NOT be called from
//! inside another tokio runtime (e.g. an actix-rt actor): use a plain thread or
//! `tokio::task::spawn_blocking` there.

use std::collections::VecDeque;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One message to publish.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// NATS subject / RabbitMQ routing key.
    pub subject: &'a str,
    /// De-duplication id (NATS: `Nats-Msg-Id` header; RabbitMQ: `message_id` property).
    pub id: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
    /// `application/json` or `text/csv`.
    pub content_type: &'a str,
}

pub trait Publisher: Send {
    /// Publishes all messages in order (pipelined) and returns once the broker
    /// acknowledged every one. Returns how many the broker reported as duplicates
    /// (JetStream only; RabbitMQ always 0).
    fn publish(&mut self, batch: &[Message<'_>]) -> Result<u64, BrokerError>;
}

#[derive(Debug, Error)]
pub enum BrokerError {
    /// Could not connect / log in.
    #[error("connect failed: {source}")]
    Connect { source: BoxError, transient: bool },
    /// Stream / queue / exchange declaration failed.
    #[error("setup failed: {source}")]
    Setup { source: BoxError, transient: bool },
    /// Sending failed or the connection broke while waiting for acks.
    #[error("publish failed: {source}")]
    Publish { source: BoxError, transient: bool },
    /// The broker refused a message (JetStream error PubAck / RabbitMQ basic.nack).
    #[error("broker rejected message {id:?}: {reason}")]
    Nacked {
        id: String,
        reason: String,
        transient: bool,
    },
    /// RabbitMQ returned a mandatory message: no queue is bound for its routing key.
    #[error("message {id:?} is unroutable (routing key {routing_key:?}): {reason}")]
    Unroutable {
        id: String,
        routing_key: String,
        reason: String,
    },
    /// Acks did not arrive in time.
    #[error("timed out after {0:?} waiting for broker acks")]
    Timeout(Duration),
    /// The message cannot be encoded (bad header name/value, over-long AMQP short string).
    #[error("invalid message {id:?}: {reason}")]
    Invalid { id: String, reason: String },
}

impl BrokerError {
    /// True for errors worth retrying (connection loss, timeouts, broker-side hiccups);
    /// false for bad configuration or bad messages (auth refused, stream subject overlap,
    /// unroutable message, invalid header...).
    pub fn transient(&self) -> bool {
        match self {
            BrokerError::Connect { transient, .. }
            | BrokerError::Setup { transient, .. }
            | BrokerError::Publish { transient, .. }
            | BrokerError::Nacked { transient, .. } => *transient,
            BrokerError::Timeout(_) => true,
            BrokerError::Unroutable { .. } | BrokerError::Invalid { .. } => false,
        }
    }
}

/// Default for how long a batch may wait for its acks (RabbitMQ: the whole batch;
/// JetStream: each PubAck, counted from when it is awaited). See `set_ack_timeout`.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(30);

fn runtime() -> Result<tokio::runtime::Runtime, BrokerError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("datagen-broker")
        .enable_all()
        .build()
        .map_err(|e| BrokerError::Connect {
            source: e.into(),
            transient: false,
        })
}

// ---------------------------------------------------------------------------------------
// NATS JetStream
// ---------------------------------------------------------------------------------------

use async_nats::jetstream::{self, message::PublishMessage as Publish};

/// Max JetStream publishes awaiting their PubAck at once. Must be <= the context's
/// `max_ack_inflight` (async-nats default 5000) or `send_publish` waits forever
/// for a permit held by an ack future we have not awaited yet.
const NATS_WINDOW: usize = 4096;

pub struct Nats {
    // Field order = drop order: clients before the runtime they run on.
    js: jetstream::Context,
    ack_timeout: Duration,
    client: async_nats::Client,
    rt: tokio::runtime::Runtime,
}

impl Nats {
    /// Connects and creates or updates the JetStream stream `stream` (file storage)
    /// capturing `subjects`, with the given de-duplication window.
    pub fn connect(
        url: &str,
        stream: &str,
        subjects: &[String],
        duplicate_window: Duration,
    ) -> Result<Nats, BrokerError> {
        let rt = runtime()?;
        let (client, js) = rt.block_on(async {
            let client = async_nats::ConnectOptions::new()
                .name("datagen")
                .connect(url)
                .await
                .map_err(|e| {
                    use async_nats::ConnectErrorKind as K;
                    let transient =
                        matches!(e.kind(), K::TimedOut | K::Io | K::Dns | K::MaxReconnects);
                    BrokerError::Connect {
                        source: e.into(),
                        transient,
                    }
                })?;
            let js = jetstream::ContextBuilder::new()
                .timeout(ACK_TIMEOUT)
                .max_ack_inflight(NATS_WINDOW)
                .build(client.clone());
            let config = jetstream::stream::Config {
                name: stream.to_owned(),
                subjects: subjects.to_vec(),
                storage: jetstream::stream::StorageType::File,
                duplicate_window,
                ..Default::default()
            };
            // A stream that exists is used as it is, if it holds the
            // subjects: another application's settings are not changed.
            if let Ok(mut existing) = js.get_stream(stream).await {
                let held = existing
                    .info()
                    .await
                    .map(|i| i.config.subjects.clone())
                    .unwrap_or_default();
                if held.iter().any(|s| subjects.contains(s)) {
                    return Ok::<_, BrokerError>((client, js));
                }
                return Err(BrokerError::Setup {
                    source: format!(
                        "the JetStream stream `{stream}` exists and holds {held:?}, not {subjects:?}: give another stream= or a subject= it holds"
                    )
                    .into(),
                    transient: false,
                });
            }
            js.create_stream(config).await.map_err(|e| {
                use jetstream::context::CreateStreamErrorKind as K;
                let transient = matches!(e.kind(), K::TimedOut | K::JetStreamUnavailable);
                BrokerError::Setup {
                    source: e.into(),
                    transient,
                }
            })?;
            Ok::<_, BrokerError>((client, js))
        })?;
        Ok(Nats {
            js,
            ack_timeout: ACK_TIMEOUT,
            client,
            rt,
        })
    }

    /// Removes every message of the stream (`if_exists = "replace"`).
    pub fn purge(&self, stream: &str) -> Result<(), BrokerError> {
        let js = &self.js;
        self.rt.block_on(async {
            let s = js
                .get_stream(stream)
                .await
                .map_err(|e| BrokerError::Setup {
                    source: e.into(),
                    transient: true,
                })?;
            s.purge().await.map_err(|e| BrokerError::Setup {
                source: e.into(),
                transient: true,
            })?;
            Ok(())
        })
    }

    /// False while the client is (re)connecting; async-nats reconnects on its own.
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Per-PubAck timeout (default [`ACK_TIMEOUT`]); also bounds JetStream API calls.
    pub fn set_ack_timeout(&mut self, timeout: Duration) {
        self.ack_timeout = timeout;
        self.js.set_timeout(timeout);
    }
}

fn nats_headers(m: &Message<'_>) -> Result<async_nats::HeaderMap, BrokerError> {
    use async_nats::header::{HeaderName, HeaderValue, NATS_MESSAGE_ID};
    let invalid = |reason: String| BrokerError::Invalid {
        id: m.id.to_owned(),
        reason,
    };
    let mut h = async_nats::HeaderMap::new();
    let id = HeaderValue::from_str(m.id).map_err(|e| invalid(format!("id: {e}")))?;
    h.insert(NATS_MESSAGE_ID, id);
    for (k, v) in m.headers {
        let name =
            HeaderName::from_str(k).map_err(|e| invalid(format!("header name {k:?}: {e}")))?;
        let value =
            HeaderValue::from_str(v).map_err(|e| invalid(format!("header {k:?} value: {e}")))?;
        h.append(name, value);
    }
    Ok(h)
}

fn nats_ack(
    ack_timeout: Duration,
    id: &str,
    ack: Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
) -> Result<bool, BrokerError> {
    use jetstream::context::PublishErrorKind as K;
    match ack {
        Ok(ack) => Ok(ack.duplicate),
        Err(e) => Err(match e.kind() {
            K::TimedOut => BrokerError::Timeout(ack_timeout),
            K::BrokenPipe => BrokerError::Publish {
                source: e.into(),
                transient: true,
            },
            // No stream captures the subject: configuration error.
            K::StreamNotFound => BrokerError::Nacked {
                id: id.to_owned(),
                reason: e.to_string(),
                transient: false,
            },
            // A JetStream error PubAck (e.g. stream full with discard=new, limits).
            _ => BrokerError::Nacked {
                id: id.to_owned(),
                reason: e.to_string(),
                transient: false,
            },
        }),
    }
}

impl Publisher for Nats {
    fn publish(&mut self, batch: &[Message<'_>]) -> Result<u64, BrokerError> {
        let js = &self.js;
        let t = self.ack_timeout;
        self.rt.block_on(async {
            let mut pending = VecDeque::with_capacity(batch.len().min(NATS_WINDOW));
            let mut duplicates = 0u64;
            for m in batch {
                if pending.len() >= NATS_WINDOW {
                    let (id, fut): (&str, jetstream::context::PublishAckFuture) =
                        pending.pop_front().unwrap();
                    duplicates += nats_ack(t, id, fut.await)? as u64;
                }
                let msg = Publish::build()
                    .payload(bytes::Bytes::copy_from_slice(m.payload))
                    .headers(nats_headers(m)?);
                let fut = js
                    .send_publish(m.subject.to_owned(), msg)
                    .await
                    .map_err(|e| {
                        use jetstream::context::PublishErrorKind as K;
                        match e.kind() {
                            K::MaxPayloadExceeded => BrokerError::Invalid {
                                id: m.id.to_owned(),
                                reason: e.to_string(),
                            },
                            K::TimedOut => BrokerError::Timeout(t),
                            // invalid subject or client closed
                            _ => BrokerError::Publish {
                                transient: !e.to_string().contains("subject"),
                                source: e.into(),
                            },
                        }
                    })?;
                pending.push_back((m.id, fut));
            }
            for (id, fut) in pending {
                duplicates += nats_ack(t, id, fut.await)? as u64;
            }
            Ok(duplicates)
        })
    }
}

// ---------------------------------------------------------------------------------------
// RabbitMQ
// ---------------------------------------------------------------------------------------

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};

pub struct Rabbit {
    channel: lapin::Channel,
    conn: Connection,
    exchange: ShortString,
    ack_timeout: Duration,
    rt: tokio::runtime::Runtime,
}

fn lapin_transient(e: &lapin::Error) -> bool {
    use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};
    use lapin::ErrorKind as K;
    match e.kind() {
        K::IOError(_)
        | K::InvalidConnectionState(_)
        | K::InvalidChannelState(..)
        | K::InvalidChannel(_)
        | K::MissingHeartbeatError
        | K::RuntimeShutdownError(_) => true,
        K::ProtocolError(amqp) => match amqp.kind() {
            AMQPErrorKind::Hard(h) => matches!(
                h,
                AMQPHardError::CONNECTIONFORCED
                    | AMQPHardError::INTERNALERROR
                    | AMQPHardError::RESOURCEERROR
            ),
            AMQPErrorKind::Soft(s) => !matches!(
                s,
                AMQPSoftError::ACCESSREFUSED
                    | AMQPSoftError::NOTFOUND
                    | AMQPSoftError::PRECONDITIONFAILED
                    | AMQPSoftError::CONTENTTOOLARGE
            ),
        },
        _ => false,
    }
}

fn short(id: &str, what: &str, s: &str) -> Result<ShortString, BrokerError> {
    ShortString::try_new(s).map_err(|e| BrokerError::Invalid {
        id: id.to_owned(),
        reason: format!("{what}: {e}"),
    })
}

impl Rabbit {
    /// Connects, opens a channel in confirm mode and declares the durable
    /// `queues`, each `(name, binding key)`. With a non-empty `exchange`,
    /// the exchange is checked (passively) and declared as a durable
    /// `topic` exchange when missing, and each queue is bound to it with
    /// its binding key.
    pub fn connect(
        url: &str,
        exchange: &str,
        queues: &[(String, String)],
    ) -> Result<Rabbit, BrokerError> {
        // Built without a lapin TLS feature, tcp-stream silently falls back to PLAIN TCP
        // for amqps:// URLs: refuse them instead of sending credentials unencrypted.
        if url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("amqps://"))
        {
            let msg =
                "amqps:// needs a lapin TLS feature (e.g. rustls + rustls--ring), not compiled in";
            return Err(BrokerError::Connect {
                source: msg.into(),
                transient: false,
            });
        }
        for name in queues
            .iter()
            .flat_map(|(q, b)| [q.as_str(), b.as_str()])
            .chain([exchange])
        {
            ShortString::try_new(name).map_err(|e| BrokerError::Setup {
                source: e.into(),
                transient: false,
            })?;
        }
        let rt = runtime()?;
        let (conn, channel) = rt.block_on(async {
            let connect_err = |e: lapin::Error| {
                let transient = lapin_transient(&e);
                BrokerError::Connect {
                    source: e.into(),
                    transient,
                }
            };
            let setup_err = |e: lapin::Error| {
                let transient = lapin_transient(&e);
                BrokerError::Setup {
                    source: e.into(),
                    transient,
                }
            };
            let props = ConnectionProperties::default().with_connection_name("datagen".into());
            let conn = Connection::connect(url, props).await.map_err(connect_err)?;
            let channel = conn.create_channel().await.map_err(connect_err)?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(setup_err)?;
            if !exchange.is_empty() {
                // A failed passive declare closes its channel, so probe on a throwaway one.
                let probe = conn.create_channel().await.map_err(connect_err)?;
                let passive = ExchangeDeclareOptions {
                    passive: true,
                    ..Default::default()
                };
                let exists = probe
                    .exchange_declare(
                        exchange.into(),
                        lapin::ExchangeKind::Topic,
                        passive,
                        FieldTable::default(),
                    )
                    .await
                    .is_ok();
                let _ = probe.close(200, "probe".into()).await;
                if !exists {
                    let opts = ExchangeDeclareOptions {
                        durable: true,
                        ..Default::default()
                    };
                    channel
                        .exchange_declare(
                            exchange.into(),
                            lapin::ExchangeKind::Topic,
                            opts,
                            FieldTable::default(),
                        )
                        .await
                        .map_err(setup_err)?;
                }
            }
            for (q, binding) in queues {
                let opts = QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                };
                channel
                    .queue_declare(q.as_str().into(), opts, FieldTable::default())
                    .await
                    .map_err(setup_err)?;
                if !exchange.is_empty() {
                    channel
                        .queue_bind(
                            q.as_str().into(),
                            exchange.into(),
                            binding.as_str().into(),
                            QueueBindOptions::default(),
                            FieldTable::default(),
                        )
                        .await
                        .map_err(setup_err)?;
                }
            }
            Ok::<_, BrokerError>((conn, channel))
        })?;
        Ok(Rabbit {
            channel,
            conn,
            exchange: exchange.into(),
            ack_timeout: ACK_TIMEOUT,
            rt,
        })
    }

    /// Removes every message of `queues` (`if_exists = "replace"`).
    pub fn purge(&self, queues: &[String]) -> Result<(), BrokerError> {
        let channel = &self.channel;
        self.rt.block_on(async {
            for q in queues {
                channel
                    .queue_purge(
                        q.as_str().into(),
                        lapin::options::QueuePurgeOptions::default(),
                    )
                    .await
                    .map_err(|e| {
                        let transient = lapin_transient(&e);
                        BrokerError::Setup {
                            source: e.into(),
                            transient,
                        }
                    })?;
            }
            Ok(())
        })
    }

    /// False once the connection or channel died (lapin does not reconnect unless
    /// auto-recovery is enabled): drop this and `connect` again.
    pub fn connected(&self) -> bool {
        self.conn.status().connected() && self.channel.status().connected()
    }

    /// Bound on one whole `publish` call (default [`ACK_TIMEOUT`]).
    pub fn set_ack_timeout(&mut self, timeout: Duration) {
        self.ack_timeout = timeout;
    }
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        if self.conn.status().connected() {
            let conn = &self.conn;
            let _ = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), conn.close(200, "bye".into())).await
            });
        }
    }
}

impl Publisher for Rabbit {
    fn publish(&mut self, batch: &[Message<'_>]) -> Result<u64, BrokerError> {
        let channel = &self.channel;
        let exchange = &self.exchange;
        let publish_err = |e: lapin::Error| {
            let transient = lapin_transient(&e);
            BrokerError::Publish {
                source: e.into(),
                transient,
            }
        };
        let work = async {
            let mut confirms = Vec::with_capacity(batch.len());
            // mandatory: an unroutable message comes back (basic.return) instead of vanishing.
            let opts = BasicPublishOptions {
                mandatory: true,
                immediate: false,
            };
            for m in batch {
                let mut headers = FieldTable::default();
                for (k, v) in m.headers {
                    headers.insert(
                        short(m.id, "header name", k)?,
                        AMQPValue::LongString(LongString::from(*v)),
                    );
                }
                let props = BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type(m.content_type.into())
                    .with_message_id(short(m.id, "message id", m.id)?)
                    .with_headers(headers);
                let routing_key = short(m.id, "routing key", m.subject)?;
                let confirm = channel
                    .basic_publish(exchange.clone(), routing_key, opts, m.payload, props)
                    .await
                    .map_err(publish_err)?;
                confirms.push((m, confirm));
            }
            for (m, confirm) in confirms {
                match confirm.await.map_err(publish_err)? {
                    Confirmation::Ack(None) => {}
                    Confirmation::Ack(Some(ret)) | Confirmation::Nack(Some(ret)) => {
                        return Err(BrokerError::Unroutable {
                            id: m.id.to_owned(),
                            routing_key: m.subject.to_owned(),
                            reason: format!("{} {}", ret.reply_code, ret.reply_text),
                        })
                    }
                    Confirmation::Nack(None) => {
                        return Err(BrokerError::Nacked {
                            id: m.id.to_owned(),
                            reason: "basic.nack (broker could not store the message)".into(),
                            transient: true,
                        })
                    }
                    Confirmation::NotRequested => unreachable!("channel is in confirm mode"),
                }
            }
            Ok(0)
        };
        let t = self.ack_timeout;
        self.rt.block_on(async {
            tokio::time::timeout(t, work)
                .await
                .map_err(|_| BrokerError::Timeout(t))?
        })
    }
}
