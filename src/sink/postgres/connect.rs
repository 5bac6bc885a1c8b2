//! Connecting: the target's URL, the driver configuration completed from
//! the `PG*` variables, and a configured session.

use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

use super::error::{describe, server, transient, PgError};
use crate::url::{redact, Url, UrlError};

/// A PostgreSQL target: the connection string as given (it may hold a
/// password, so it is never shown) and the schema to write into.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The URL without the `schema` parameter, for the driver.
    pub conninfo: String,
    /// `?schema=NAME`, if given.
    pub schema: Option<String>,
    /// The URL with any password replaced by `***`.
    pub redacted: String,
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl PgUrl {
    /// Reads `postgres://…` (or `postgresql://…`): `?schema=NAME` is
    /// datagen's; every other option goes to the driver, which must accept
    /// the connection string.
    pub fn parse(url: &Url<'_>) -> Result<PgUrl, UrlError> {
        let (path, opts) = url.options();
        let mut schema = None;
        let mut kept = Vec::new();
        for (key, value) in opts {
            if key == "schema" {
                if value.is_empty() {
                    return Err(UrlError::BadOption("schema=".into()));
                }
                schema = Some(value.to_owned());
            } else {
                kept.push(format!("{key}={value}"));
            }
        }
        let mut conninfo = format!("{}://{path}", url.scheme);
        if !kept.is_empty() {
            conninfo.push('?');
            conninfo.push_str(&kept.join("&"));
        }
        conninfo.parse::<Config>().map_err(|e| UrlError::Invalid {
            what: "PostgreSQL connection string",
            message: e.to_string(),
        })?;
        // Checked against the password as the driver reads it: should the
        // text still show it (written in a way the URL reading did not
        // expect), the URL is shown rebuilt from the parsed configuration.
        let mut redacted = redact(url.text);
        if let Ok(config) = conninfo.parse::<Config>() {
            let password = config.get_password().map(String::from_utf8_lossy);
            if password.is_some_and(|p| !p.is_empty() && redacted.contains(&*p)) {
                redacted = rebuilt(&config, schema.as_deref());
            }
        }
        Ok(PgUrl {
            redacted,
            conninfo,
            schema,
        })
    }
}

/// `postgres://USER:***@HOST:PORT/DB[?schema=NAME]` from a parsed
/// configuration: what the connection uses, without the password.
fn rebuilt(config: &Config, schema: Option<&str>) -> String {
    use tokio_postgres::config::Host;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, port)| match h {
            Host::Tcp(name) => format!("{name}:{port}"),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let mut out = format!(
        "postgres://{}:***@{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    );
    if let Some(schema) = schema {
        out.push_str("?schema=");
        out.push_str(schema);
    }
    out
}

/// The driver configuration for `url`: what the URL says, completed from
/// the standard `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`
/// and `PGCONNECT_TIMEOUT` variables the way libpq does.
pub fn config(url: &PgUrl) -> Result<Config, PgError> {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let mut config: Config = url.conninfo.parse().map_err(|e| PgError::Connect {
        target: url.redacted.clone(),
        cause: describe(&e),
        transient: false,
    })?;
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(hosts) => {
                for host in hosts.split(',') {
                    config.host(host);
                }
            }
            None if std::path::Path::new("/var/run/postgresql").exists() => {
                config.host("/var/run/postgresql");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        if let Some(user) = env("PGUSER").or_else(|| env("USER")) {
            config.user(&user);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_connect_timeout().is_none() {
        let secs = env("PGCONNECT_TIMEOUT")
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        config.connect_timeout(Duration::from_secs(secs));
    }
    config.application_name("datagen");
    Ok(config)
}

/// A connection of the load, its session configured.
pub(super) async fn connect(config: &Config, url: &PgUrl) -> Result<Client, PgError> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| PgError::Connect {
        target: url.redacted.clone(),
        cause: describe(&e),
        transient: transient(&e),
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %describe(&e), "PostgreSQL connection closed");
        }
    });
    // A unit's progress row commits with its rows, so an asynchronous commit
    // loses both or neither; index builds get room to sort in memory.
    client
        .batch_execute("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'")
        .await
        .map_err(server("configure the session"))?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str) -> Result<PgUrl, UrlError> {
        PgUrl::parse(&Url::parse(url).unwrap())
    }

    #[test]
    fn postgres_urls_keep_their_password_hidden() {
        let url = pg("postgres://me:s3cret@db:5433/shop?schema=load&sslmode=disable").unwrap();
        assert_eq!(url.schema.as_deref(), Some("load"));
        assert_eq!(
            url.conninfo,
            "postgres://me:s3cret@db:5433/shop?sslmode=disable"
        );
        assert_eq!(
            url.redacted,
            "postgres://me:***@db:5433/shop?schema=load&sslmode=disable"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(pg("postgres://").is_ok(), "all from PG* variables");
        let err = pg("postgres://u:pw@h/d?bogus=1").unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
        assert_eq!(
            pg("postgres://h/d?schema=").unwrap_err(),
            UrlError::BadOption("schema=".into())
        );
    }
}
