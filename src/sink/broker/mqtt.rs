//! MQTT 5 (rumqttc, QoS 1): each message waits for its PUBACK; the table,
//! the position and the id travel as user properties.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason, PublishProperties};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};

use super::client::{BrokerError, Message, Publisher, ACK_TIMEOUT};

/// Messages sent and not acknowledged at most.
const INFLIGHT: u16 = 1_000;

/// What the event loop tells the publisher.
#[derive(Debug, Default)]
struct Acks {
    acked: AtomicU64,
    /// A refused message or a lost connection, once.
    failure: std::sync::Mutex<Option<BrokerError>>,
    notify: tokio::sync::Notify,
}

/// A connection to an MQTT broker.
pub struct Mqtt {
    client: AsyncClient,
    acks: Arc<Acks>,
    sent: u64,
    rt: tokio::runtime::Runtime,
}

fn failed(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> BrokerError {
    BrokerError::Publish {
        source: source.into(),
        transient: true,
    }
}

impl Mqtt {
    /// Connects to `host:port` as `client_id` and waits for the broker's
    /// CONNACK.
    pub fn connect(host: &str, port: u16, client_id: &str) -> Result<Mqtt, BrokerError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("datagen-mqtt")
            .enable_all()
            .build()
            .map_err(|e| BrokerError::Connect {
                source: e.into(),
                transient: false,
            })?;
        let mut options = MqttOptions::new(client_id, host, port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_outgoing_inflight_upper_limit(INFLIGHT)
            .set_max_packet_size(Some(16 << 20));
        let (client, mut eventloop) = AsyncClient::new(options, usize::from(INFLIGHT));
        let acks = Arc::new(Acks::default());
        // Until the CONNACK: a broker that does not answer fails here.
        rt.block_on(async {
            loop {
                match tokio::time::timeout(Duration::from_secs(10), eventloop.poll()).await {
                    Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => return Ok(()),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        return Err(BrokerError::Connect {
                            source: e.into(),
                            transient: true,
                        })
                    }
                    Err(e) => {
                        return Err(BrokerError::Connect {
                            source: e.into(),
                            transient: true,
                        })
                    }
                }
            }
        })?;
        let events = acks.clone();
        rt.spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(ack))) => {
                        if !matches!(
                            ack.reason,
                            PubAckReason::Success | PubAckReason::NoMatchingSubscribers
                        ) {
                            let mut f = events.failure.lock().unwrap_or_else(|e| e.into_inner());
                            f.get_or_insert(BrokerError::Nacked {
                                id: ack.pkid.to_string(),
                                reason: format!("{:?}", ack.reason),
                                transient: false,
                            });
                        }
                        events.acked.fetch_add(1, Ordering::Relaxed);
                        events.notify.notify_one();
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let mut f = events.failure.lock().unwrap_or_else(|e| e.into_inner());
                        f.get_or_insert(failed(e));
                        drop(f);
                        events.notify.notify_one();
                        return;
                    }
                }
            }
        });
        Ok(Mqtt {
            client,
            acks,
            sent: 0,
            rt,
        })
    }
}

impl Publisher for Mqtt {
    fn publish(&mut self, batch: &[Message<'_>]) -> Result<u64, BrokerError> {
        let (client, acks) = (&self.client, &self.acks);
        let sent = &mut self.sent;
        self.rt.block_on(async {
            for m in batch {
                let mut properties = PublishProperties {
                    content_type: Some(m.content_type.to_owned()),
                    ..Default::default()
                };
                properties
                    .user_properties
                    .push(("datagen-id".into(), m.id.to_owned()));
                for (k, v) in m.headers {
                    properties
                        .user_properties
                        .push(((*k).to_owned(), (*v).to_owned()));
                }
                client
                    .publish_with_properties(
                        m.subject,
                        QoS::AtLeastOnce,
                        false,
                        m.payload.to_vec(),
                        properties,
                    )
                    .await
                    .map_err(|e| {
                        if m.subject.is_empty() || m.subject.contains(['+', '#', '\0']) {
                            BrokerError::Invalid {
                                id: m.id.to_owned(),
                                reason: format!("`{}` is not a topic to publish to", m.subject),
                            }
                        } else {
                            // The connection is gone.
                            failed(e.to_string())
                        }
                    })?;
                *sent += 1;
            }
            let deadline = tokio::time::Instant::now() + ACK_TIMEOUT;
            loop {
                if let Some(e) = acks
                    .failure
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                {
                    return Err(e);
                }
                if acks.acked.load(Ordering::Relaxed) >= *sent {
                    return Ok(0);
                }
                if tokio::time::timeout_at(deadline, acks.notify.notified())
                    .await
                    .is_err()
                {
                    return Err(BrokerError::Timeout(ACK_TIMEOUT));
                }
            }
        })
    }
}
