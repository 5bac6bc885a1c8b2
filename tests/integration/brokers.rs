//! Streams into the real NATS JetStream and RabbitMQ of this machine
//! (`DATAGEN_TEST_NATS`, `DATAGEN_TEST_AMQP`): a consumer in the test
//! receives exactly the rows a batch run makes, the same values, also
//! after the stream is killed and resumed — JetStream drops the repeated
//! messages itself; RabbitMQ delivers them again, with the same
//! `message_id`, and removing those leaves every row once.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;

use super::stream::{genfile, ok, stream};
use super::support::{datagen, run, stderr};

fn nats_url() -> String {
    std::env::var("DATAGEN_TEST_NATS").unwrap_or_else(|_| "127.0.0.1:4222".into())
}

fn amqp_url() -> String {
    std::env::var("DATAGEN_TEST_AMQP").unwrap_or_else(|_| "guest:guest@127.0.0.1:5672/%2f".into())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A name no other test (or run) uses.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}{}x{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// A message as the test reads it.
#[derive(Debug, Clone)]
struct Got {
    subject: String,
    id: String,
    table: String,
    position: u64,
    key: Option<String>,
    row: serde_json::Value,
}

/// Each table's rows as JSON values, from a batch run into JSON Lines.
fn batch_rows(genfile: &Path, dir: &Path) -> BTreeMap<String, Vec<serde_json::Value>> {
    ok(
        run(datagen()
            .arg("--config")
            .arg(genfile)
            .args(["--quiet", "--target"])
            .arg(format!("jsonl://{}", dir.display()))),
        "batch run",
    );
    ["products", "customers", "orders"]
        .iter()
        .map(|t| {
            let text = std::fs::read_to_string(dir.join(format!("{t}.jsonl"))).unwrap();
            let rows = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            ((*t).to_owned(), rows)
        })
        .collect()
}

/// The rows of `messages`, per table in stream order.
fn by_table(messages: &[Got]) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut sorted = messages.to_vec();
    sorted.sort_by_key(|m| m.position);
    let mut tables: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for m in sorted {
        tables.entry(m.table).or_default().push(m.row);
    }
    tables
}

/// Every message of JetStream stream `name`.
fn read_nats(name: &str) -> Vec<Got> {
    use async_nats::jetstream::{self, consumer::pull};
    let rt = runtime();
    rt.block_on(async {
        let client = async_nats::connect(nats_url()).await.unwrap_or_else(|e| {
            panic!(
                "NATS with JetStream must answer at {} (start nats-server -js): {e}",
                nats_url()
            )
        });
        let js = jetstream::new(client);
        let mut stream = js.get_stream(name).await.unwrap();
        let total = stream.info().await.unwrap().state.messages as usize;
        let consumer = stream
            .create_consumer(pull::Config {
                ack_policy: jetstream::consumer::AckPolicy::None,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut got = Vec::with_capacity(total);
        while got.len() < total {
            let mut batch = consumer
                .fetch()
                .max_messages(5_000)
                .expires(Duration::from_secs(2))
                .messages()
                .await
                .unwrap();
            while let Some(m) = batch.next().await {
                let m = m.unwrap();
                let h = m.headers.as_ref().expect("headers");
                let header = |k: &str| h.get(k).map(|v| v.as_str().to_owned());
                got.push(Got {
                    subject: m.subject.to_string(),
                    id: header("Nats-Msg-Id").unwrap(),
                    table: header("datagen-table").unwrap(),
                    position: header("datagen-position").unwrap().parse().unwrap(),
                    key: header("datagen-key"),
                    row: serde_json::from_slice(&m.payload).unwrap(),
                });
            }
        }
        js.delete_stream(name).await.unwrap();
        got
    })
}

/// Every message of the queues `names`, emptying them.
fn read_amqp(names: &[&str]) -> Vec<Got> {
    use lapin::options::{BasicGetOptions, QueueDeleteOptions};
    use lapin::types::AMQPValue;
    let rt = runtime();
    rt.block_on(async {
        let url = format!("amqp://{}", amqp_url());
        let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "RabbitMQ must answer at {} (start rabbitmq-server): {e}",
                    amqp_url()
                )
            });
        let ch = conn.create_channel().await.unwrap();
        let mut got = Vec::new();
        for q in names {
            while let Some(m) = ch
                .basic_get((*q).into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap()
            {
                let p = &m.delivery.properties;
                let h = p.headers().as_ref().expect("headers");
                let header = |k: &str| match h.inner().get(k) {
                    Some(AMQPValue::LongString(s)) => {
                        Some(String::from_utf8(s.as_bytes().to_vec()).unwrap())
                    }
                    _ => None,
                };
                assert_eq!(*p.delivery_mode(), Some(2), "persistent");
                got.push(Got {
                    subject: m.delivery.routing_key.to_string(),
                    id: p.message_id().as_ref().unwrap().to_string(),
                    table: header("datagen-table").unwrap(),
                    position: header("datagen-position").unwrap().parse().unwrap(),
                    key: header("datagen-key"),
                    row: serde_json::from_slice(&m.delivery.data).unwrap(),
                });
            }
            ch.queue_delete((*q).into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        }
        got
    })
}

/// `got` with the repeats of an id removed, each checked to be the row
/// of the first (a broker that delivers at least once).
fn once_by_id(got: Vec<Got>) -> Vec<Got> {
    let mut first: BTreeMap<String, Got> = BTreeMap::new();
    for m in got {
        match first.get(&m.id) {
            Some(seen) => assert_eq!(seen.row, m.row, "a repeat of {} is the same row", m.id),
            None => {
                first.insert(m.id.clone(), m);
            }
        }
    }
    first.into_values().collect()
}

fn batch_event_rows(batch: &BTreeMap<String, Vec<serde_json::Value>>) -> String {
    (batch["customers"].len() + batch["orders"].len()).to_string()
}

#[test]
fn nats_receives_the_batch_runs_rows_routed_by_column() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let batch = batch_rows(&genfile, &dir.path().join("batch"));
    let name = unique("DGT");
    let prefix = name.to_lowercase();
    let url = format!(
        "nats://{}?stream={name}&subject={prefix}.{{table}}.{{id}}&key=id&checkpoint={}",
        nats_url(),
        dir.path().join("ck").display()
    );
    ok(
        run(&mut stream(
            &genfile,
            &url,
            &["--max-rows", &batch_event_rows(&batch)],
        )),
        "stream into NATS",
    );
    let got = read_nats(&name);
    assert_eq!(
        by_table(&got),
        batch,
        "the consumer gets the batch run's rows"
    );
    for m in &got {
        let id = m.row["id"].to_string();
        assert_eq!(m.subject, format!("{prefix}.{}.{id}", m.table));
        assert_eq!(m.key.as_deref(), Some(id.as_str()));
        assert!(m.id.ends_with(&format!(":{}", m.position)), "{}", m.id);
    }
}

/// Streams into `url` (paced, 20,000 event rows), killing the stream
/// after `delay` and resuming it; returns what the first run said.
fn kill_and_resume(genfile: &Path, url: &str, delay: u64) -> String {
    let args = ["--max-rows", "20000", "--rate", "20000"];
    let child = stream(genfile, url, &args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(delay));
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    let first = child.wait_with_output().unwrap();
    assert!(!first.status.success(), "killed before its end");
    ok(
        run(&mut stream(
            genfile,
            url,
            &[&args[..], &["--resume"]].concat(),
        )),
        "resumed stream",
    );
    stderr(&first)
}

/// The rows an uninterrupted stream of `max_rows` makes (that of
/// [`kill_and_resume`]: 20000), from rotated files in `dir`.
fn expected_rows(
    genfile: &Path,
    dir: &Path,
    max_rows: &str,
) -> BTreeMap<String, Vec<serde_json::Value>> {
    ok(
        run(&mut stream(
            genfile,
            &format!("files://{}?rotate_rows=1000000", dir.display()),
            &["--max-rows", max_rows],
        )),
        "stream into files",
    );
    let mut tables: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for name in super::support::file_names(dir) {
        if let Some((table, _)) = name.rsplit_once('-').filter(|_| !name.starts_with('.')) {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            tables.entry(table.to_owned()).or_default().extend(
                text.lines()
                    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
            );
        }
    }
    tables
}

#[test]
fn nats_killed_and_resumed_holds_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let expected = expected_rows(&genfile, &dir.path().join("files"), "20000");
    let name = unique("DGK");
    let url = format!(
        "nats://{}?stream={name}&subject={}.{{table}}&checkpoint={}",
        nats_url(),
        name.to_lowercase(),
        dir.path().join("ck").display()
    );
    kill_and_resume(&genfile, &url, 600);
    let got = read_nats(&name);
    let mut positions: Vec<u64> = got.iter().map(|m| m.position).collect();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(
        positions.len(),
        got.len(),
        "JetStream kept no message twice"
    );
    assert_eq!(by_table(&got), expected, "every row once, the same values");
}

#[test]
fn rabbitmq_killed_and_resumed_delivers_every_row_once_after_dropping_repeats_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let expected = expected_rows(&genfile, &dir.path().join("files"), "20000");
    let prefix = unique("dgq");
    let url = format!(
        "amqp://{}?queue={prefix}.{{table}}&routing_key={prefix}.{{table}}&checkpoint={}",
        amqp_url(),
        dir.path().join("ck").display()
    );
    kill_and_resume(&genfile, &url, 600);
    let queues: Vec<String> = ["products", "customers", "orders"]
        .iter()
        .map(|t| format!("{prefix}.{t}"))
        .collect();
    let got = read_amqp(&queues.iter().map(String::as_str).collect::<Vec<_>>());
    // At least once: a repeat has the id and the row of the first.
    let once = once_by_id(got);
    assert_eq!(by_table(&once), expected, "every row once, the same values");
}

#[test]
fn rabbitmq_routes_by_column_through_a_topic_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let batch = batch_rows(&genfile, &dir.path().join("batch"));
    let prefix = unique("dgx");
    let url = format!(
        "amqp://{}?exchange={prefix}&routing_key={{table}}.{{id}}&queue={prefix}.{{table}}&format=json&checkpoint={}",
        amqp_url(),
        dir.path().join("ck").display()
    );
    ok(
        run(&mut stream(
            &genfile,
            &url,
            &["--max-rows", &batch_event_rows(&batch)],
        )),
        "stream into RabbitMQ",
    );
    let queues: Vec<String> = ["products", "customers", "orders"]
        .iter()
        .map(|t| format!("{prefix}.{t}"))
        .collect();
    let got = read_amqp(&queues.iter().map(String::as_str).collect::<Vec<_>>());
    for m in &got {
        assert_eq!(m.subject, format!("{}.{}", m.table, m.row["id"]));
    }
    assert_eq!(by_table(&got), batch);
}

#[test]
fn a_broker_that_does_not_answer_is_named_with_what_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let out = run(&mut stream(
        &genfile,
        &format!(
            "nats://127.0.0.1:9?checkpoint={}",
            dir.path().join("ck").display()
        ),
        &["--max-rows", "10"],
    ));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("start NATS"), "{}", stderr(&out));
    let out = run(&mut stream(
        &genfile,
        "nats://127.0.0.1:4222?subject={table}",
        &[],
    ));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

fn redis_url() -> String {
    std::env::var("DATAGEN_TEST_REDIS").unwrap_or_else(|_| "127.0.0.1:6379".into())
}

fn mqtt_address() -> (String, u16) {
    let text = std::env::var("DATAGEN_TEST_MQTT").unwrap_or_else(|_| "127.0.0.1:1883".into());
    let (host, port) = text
        .rsplit_once(':')
        .expect("DATAGEN_TEST_MQTT is HOST:PORT");
    (host.to_owned(), port.parse().expect("a port"))
}

/// Every entry of the Redis streams `PREFIX:TABLE`, deleting them.
fn read_redis(prefix: &str) -> Vec<Got> {
    let client = redis::Client::open(format!("redis://{}", redis_url())).unwrap();
    let mut conn = client.get_connection().unwrap_or_else(|e| {
        panic!(
            "Redis must answer at {} (start redis-server): {e}",
            redis_url()
        )
    });
    let mut got = Vec::new();
    for table in ["products", "customers", "orders"] {
        let key = format!("{prefix}:{table}");
        let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg(&key)
            .arg("-")
            .arg("+")
            .query(&mut conn)
            .unwrap();
        for (entry, fields) in entries {
            let field = |k: &str| {
                fields
                    .chunks(2)
                    .find(|kv| kv[0] == k)
                    .map(|kv| kv[1].clone())
            };
            let position: u64 = field("datagen-position").unwrap().parse().unwrap();
            assert_eq!(
                entry,
                format!("{position}-1"),
                "the entry's id is its position"
            );
            got.push(Got {
                subject: key.clone(),
                id: field("id").unwrap(),
                table: field("datagen-table").unwrap(),
                position,
                key: field("datagen-key"),
                row: serde_json::from_str(&field("row").unwrap()).unwrap(),
            });
        }
        redis::cmd("DEL").arg(&key).query::<i64>(&mut conn).unwrap();
    }
    got
}

#[test]
fn redis_streams_hold_every_row_once_after_a_kill_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let batch = batch_rows(&genfile, &dir.path().join("batch"));
    let prefix = unique("dgr");
    let url = |p: &str| {
        format!(
            "redis://{}?stream={p}:{{table}}&key=id&checkpoint={}",
            redis_url(),
            dir.path().join(format!("{p}.ck")).display()
        )
    };
    ok(
        run(&mut stream(
            &genfile,
            &url(&prefix),
            &["--max-rows", &batch_event_rows(&batch)],
        )),
        "stream into Redis",
    );
    let got = read_redis(&prefix);
    assert_eq!(by_table(&got), batch, "the batch run's rows");
    assert!(got
        .iter()
        .all(|m| m.key.as_deref() == Some(&*m.row["id"].to_string())));
    // Killed and resumed: Redis refuses an id at or below a stream's
    // last, so no entry is there twice.
    let expected = expected_rows(&genfile, &dir.path().join("files"), "20000");
    let killed = unique("dgk");
    kill_and_resume(&genfile, &url(&killed), 600);
    let got = read_redis(&killed);
    let mut ids: Vec<&str> = got.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "no entry twice");
    assert_eq!(by_table(&got), expected);
}

/// Subscribes to `PREFIX/#` at QoS 1 and collects what arrives until
/// `stop`; returns once subscribed.
fn subscribe_mqtt(
    prefix: &str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<Got>> {
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::{Client, Event, MqttOptions};
    let (host, port) = mqtt_address();
    let mut options = MqttOptions::new(unique("dgsub"), host, port);
    options.set_max_packet_size(Some(1 << 20));
    let (client, mut connection) = Client::new(options, 10_000);
    client
        .subscribe(format!("{prefix}/#"), QoS::AtLeastOnce)
        .unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            let event = match connection.recv_timeout(Duration::from_millis(500)) {
                Ok(event) => event,
                // Nothing for half a second: done once told so.
                Err(_) if stop.load(std::sync::atomic::Ordering::Relaxed) => break,
                Err(_) => continue,
            };
            match event {
                Ok(Event::Incoming(Packet::SubAck(_))) => ready_tx.send(()).unwrap(),
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let props = p.properties.expect("user properties");
                    let prop = |k: &str| {
                        props
                            .user_properties
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.clone())
                    };
                    got.push(Got {
                        subject: String::from_utf8(p.topic.to_vec()).unwrap(),
                        id: prop("datagen-id").unwrap(),
                        table: prop("datagen-table").unwrap(),
                        position: prop("datagen-position").unwrap().parse().unwrap(),
                        key: prop("datagen-key"),
                        row: serde_json::from_slice(&p.payload).unwrap(),
                    });
                }
                Ok(_) => {}
                Err(e) => panic!(
                    "an MQTT broker must answer at {:?} (start mosquitto): {e}",
                    mqtt_address()
                ),
            }
        }
        let _ = client.disconnect();
        got
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("subscribed");
    handle
}

#[test]
fn mqtt_subscriber_gets_every_row_and_repeats_are_removable_by_id() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let prefix = unique("dgm");
    let (host, port) = mqtt_address();
    let url = format!(
        "mqtt://{host}:{port}?topic={prefix}/{{table}}&checkpoint={}",
        dir.path().join("ck").display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let subscriber = subscribe_mqtt(&prefix, stop.clone());
    // A slow stream: a subscriber's queue in the broker is bounded.
    let args = ["--max-rows", "3000", "--rate", "3000"];
    let child = stream(&genfile, &url, &args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(!child.wait_with_output().unwrap().status.success());
    ok(
        run(&mut stream(
            &genfile,
            &url,
            &[&args[..], &["--resume"]].concat(),
        )),
        "resumed stream into MQTT",
    );
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let got = subscriber.join().unwrap();
    for m in &got {
        assert_eq!(m.subject, format!("{prefix}/{}", m.table));
    }
    let once = once_by_id(got);
    let expected = expected_rows(&genfile, &dir.path().join("files"), "3000");
    assert_eq!(
        by_table(&once),
        expected,
        "every row once after dropping repeats"
    );
}

#[test]
fn a_new_stream_does_not_mix_with_an_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = genfile(dir.path());
    let args = ["--max-rows", "500"];
    // NATS: started again after replace, its messages are not repeats.
    let name = unique("DGN");
    let url = format!(
        "nats://{}?stream={name}&subject={}.{{table}}&checkpoint={}",
        nats_url(),
        name.to_lowercase(),
        dir.path().join("n.ck").display()
    );
    ok(run(&mut stream(&genfile, &url, &args)), "first stream");
    ok(
        run(&mut stream(&genfile, &url, &args)),
        "the same stream, replaced",
    );
    // The same JetStream stream for other subjects: refused, unchanged.
    let other = format!(
        "nats://{}?stream={name}&subject=elsewhere.{{table}}&checkpoint={}",
        nats_url(),
        dir.path().join("o.ck").display()
    );
    let refused = run(&mut stream(&genfile, &other, &args));
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("exists and holds"),
        "{}",
        stderr(&refused)
    );
    let got = read_nats(&name);
    let tables = by_table(&got);
    assert_eq!(
        tables["products"].len(),
        50,
        "replaced, then published again"
    );
    // Redis: a new stream into keys that hold entries is refused unless
    // replaced.
    let prefix = unique("dgo");
    let url = |fail: bool| {
        format!(
            "redis://{}?stream={prefix}:{{table}}&checkpoint={}",
            redis_url(),
            dir.path()
                .join(if fail { "f.ck" } else { "r.ck" })
                .display()
        )
    };
    ok(run(&mut stream(&genfile, &url(false), &args)), "redis");
    let mut refused = stream(&genfile, &url(true), &args);
    refused.env("DATAGEN_IF_EXISTS", "fail");
    let refused = run(&mut refused);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("holds entries"),
        "{}",
        stderr(&refused)
    );
    let got = read_redis(&prefix);
    assert_eq!(by_table(&got)["products"].len(), 50);
}
