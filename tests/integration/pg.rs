//! A PostgreSQL server for the tests, and a schema or database per test.
//!
//! The server is `DATAGEN_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When nothing answers there,
//! a throwaway cluster is made with `initdb` in a temporary directory and
//! started on a free port; it stops, and its directory is removed, when the
//! test process exits (its shell wrapper reads our end of a pipe and acts
//! on EOF). Without PostgreSQL installed the tests fail saying what to
//! install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_postgres::{NoTls, SimpleQueryMessage};

const DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A blocking client for assertions.
pub struct Pg {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Pg {
    /// Connects to `url`, or says why not.
    pub fn connect(url: &str) -> Result<Pg, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        config.connect_timeout(Duration::from_secs(3));
        let client = rt.block_on(async {
            let (client, conn) = config.connect(NoTls).await.map_err(|e| format!("{e}"))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok::<_, String>(client)
        })?;
        let pg = Pg { rt, client };
        pg.execute("SET TimeZone = 'UTC'");
        Ok(pg)
    }

    /// Runs statements; panics on error.
    pub fn execute(&self, sql: &str) {
        self.try_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs statements.
    pub fn try_execute(&self, sql: &str) -> Result<(), String> {
        self.rt
            .block_on(self.client.batch_execute(sql))
            .map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.to_string(),
            })
    }

    /// The rows of a query, every value as PostgreSQL's text.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let messages = self
            .rt
            .block_on(self.client.simple_query(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        messages
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// The single value of a query.
    pub fn value(&self, sql: &str) -> String {
        self.rows(sql)[0][0].clone().unwrap_or_default()
    }

    /// Feeds `data` to `COPY … FROM STDIN` (`copy` is the statement).
    pub fn copy_in(&self, copy: &str, data: Vec<u8>) {
        use futures::SinkExt;
        self.rt
            .block_on(async {
                let sink = self.client.copy_in::<_, bytes::Bytes>(copy).await?;
                futures::pin_mut!(sink);
                sink.send(bytes::Bytes::from(data)).await?;
                sink.finish().await
            })
            .unwrap_or_else(|e| panic!("{copy}: {e:?}"));
    }
}

/// The URL of a server that answers, started if need be.
pub fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        let url = std::env::var("DATAGEN_TEST_PG").unwrap_or_else(|_| DEFAULT.to_owned());
        match Pg::connect(&url) {
            Ok(_) => url,
            Err(why) => {
                eprintln!("no PostgreSQL at {url} ({why}); starting a throwaway cluster");
                throwaway()
            }
        }
    })
}

fn bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a cluster that lives as long as this process; returns its URL.
fn throwaway() -> String {
    let bin = bindir().unwrap_or_else(|| {
        panic!(
            "the PostgreSQL tests need a server: none answers at DATAGEN_TEST_PG and PostgreSQL \
             is not installed (no initdb). Install it (Debian/Ubuntu: apt-get install postgresql) \
             or set DATAGEN_TEST_PG=postgres://USER@HOST:PORT/DB"
        )
    });
    let dir = tempfile::Builder::new()
        .prefix("datagen-pg-")
        .tempdir()
        .unwrap()
        .keep();
    let root = unsafe_is_root();
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "cannot hand {} to the postgres user", dir.display());
    }
    let as_owner = |script: String| {
        let mut cmd = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c"]);
            c
        } else {
            let mut c = Command::new("sh");
            c.arg("-c");
            c
        };
        cmd.arg(script);
        cmd
    };
    let data = dir.join("data");
    let q = |p: &Path| format!("'{}'", p.display());
    let out = as_owner(format!(
        "{} -D {} -U postgres --auth=trust -E UTF8 --no-sync >/dev/null",
        q(&bin.join("initdb")),
        q(&data)
    ))
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    // The wrapper stops the server and removes the directory when our end
    // of its stdin closes, which happens when this process exits.
    let script = format!(
        "{} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off \
         >{dir}/log 2>&1 & pid=$!; read _; kill -INT $pid; wait $pid; rm -rf {dir}",
        q(&bin.join("postgres")),
        data = q(&data),
        dir = q(&dir),
    );
    let child = as_owner(script)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start postgres");
    // Kept (with its stdin open) until the process exits; never waited for.
    static KEEP: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());
    KEEP.lock().unwrap().push(child);
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let start = Instant::now();
    loop {
        if let Ok(pg) = Pg::connect(&url) {
            pg.execute("CREATE DATABASE test");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the throwaway cluster did not start; see {}/log",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    format!("postgres://postgres@127.0.0.1:{port}/test")
}

fn unsafe_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `url` with `key=value` added to its options.
pub fn with_option(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// A schema of its own in the test database, dropped at the end.
pub struct TestSchema {
    /// Its name.
    pub name: String,
    /// A client on the test database.
    pub pg: Pg,
}

impl TestSchema {
    /// A new, empty schema named after `test`.
    pub fn new(test: &str) -> TestSchema {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t_{}_{}_{}",
            test,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let pg = Pg::connect(server()).unwrap();
        pg.execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"));
        TestSchema { name, pg }
    }

    /// The target URL that writes into this schema.
    pub fn url(&self) -> String {
        with_option(server(), "schema", &self.name)
    }

    /// `"schema"."table"`.
    pub fn table(&self, table: &str) -> String {
        format!("\"{}\".\"{}\"", self.name, table.replace('"', "\"\""))
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = self
            .pg
            .try_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
    }
}
