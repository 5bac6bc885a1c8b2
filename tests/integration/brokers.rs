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

/// The rows an uninterrupted stream of [`kill_and_resume`]'s length
/// makes, from rotated files.
fn expected_rows(genfile: &Path, dir: &Path) -> BTreeMap<String, Vec<serde_json::Value>> {
    ok(
        run(&mut stream(
            genfile,
            &format!("files://{}?rotate_rows=1000000", dir.display()),
            &["--max-rows", "20000"],
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
    let expected = expected_rows(&genfile, &dir.path().join("files"));
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
    let expected = expected_rows(&genfile, &dir.path().join("files"));
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
    let mut first: BTreeMap<String, Got> = BTreeMap::new();
    for m in got {
        match first.get(&m.id) {
            Some(seen) => assert_eq!(seen.row, m.row, "a repeat of {} is the same row", m.id),
            None => {
                first.insert(m.id.clone(), m);
            }
        }
    }
    let once: Vec<Got> = first.into_values().collect();
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
