//! Where rows go: target URLs and the sinks behind them.
//!
//! * [`ddl`]: CREATE TABLE statements per SQL dialect.
//! * [`sqlite`]: the embedded default, one SQLite database file.
//! * [`postgres`]: PostgreSQL through binary COPY.
//! * [`files`]: CSV, JSON Lines and SQL files, and standard output.
//! * [`encode`]: the text encoders the file targets share.

pub mod checkpoint;
pub mod ddl;
pub mod encode;
pub mod files;
pub mod pgbinary;
pub mod postgres;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use datagen_actors::BoxError;
use ddl::Dialect;

use crate::value::{Block, Encoded};

/// Encodes generated blocks into the bytes a target writes.
///
/// The generator threads encode each block right after making it, so
/// encoding runs on every core and the sink, a single thread, only moves
/// bytes. A sink handed a block that is not encoded yet encodes it itself
/// ([`encoded`]), through the same encoder.
pub trait BlockEncoder: Send + Sync {
    /// Encodes every row of `block` into `out` (empty; its capacity is
    /// reused), or says why a value cannot be written.
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError>;
}

/// `block`'s encoded rows, encoding them with `encoder` if that is not
/// done yet.
pub fn encoded<'b>(
    encoder: &dyn BlockEncoder,
    block: &'b mut Block,
) -> Result<&'b Encoded, BoxError> {
    let encoded = match block.encoded.take() {
        Some(encoded) => encoded,
        None => {
            let mut encoded = Encoded::default();
            encoder.encode(block, &mut encoded)?;
            encoded
        }
    };
    Ok(block.encoded.insert(encoded))
}

/// What a sink needs to be resumable and interruptible.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// Continue from the target's checkpoint instead of starting anew.
    pub resume: bool,
    /// Identifies the run's data (see `run::fingerprint`).
    pub fingerprint: String,
    /// Set when the run is stopped by a signal: `finish` then commits what
    /// it has and leaves the target resumable instead of completing it.
    pub stop: Arc<AtomicBool>,
}

impl Resume {
    /// True when the run was stopped by a signal.
    pub fn stopped(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A text format of the file targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// CREATE TABLE and multi-row INSERT statements.
    Sql(Dialect),
}

impl FileFormat {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Jsonl => "jsonl",
            FileFormat::Sql(_) => "sql",
        }
    }
}

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

/// A parsed `[target] url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetUrl {
    /// `sqlite://PATH`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(PgUrl),
    /// `csv://DIR`, `jsonl://DIR`: one file per table.
    Dir {
        /// The directory.
        dir: PathBuf,
        /// CSV or JSON Lines.
        format: FileFormat,
    },
    /// `sql://FILE[?dialect=postgres|sqlite]`: one script.
    SqlFile {
        /// The file.
        path: PathBuf,
        /// The dialect of the script.
        dialect: Dialect,
    },
    /// `stdout://csv|jsonl|sql`.
    Stdout(FileFormat),
}

/// A target URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetUrlError {
    /// No `scheme://`.
    #[error("target `{0}` is not a URL")]
    NotAUrl(String),
    /// A scheme datagen does not write to. Only the scheme is shown: the
    /// rest may hold a password.
    #[error("target scheme `{0}://` is not one datagen writes to")]
    Unsupported(String),
    /// A file target without a path.
    #[error("target `{0}://` needs a path")]
    MissingPath(&'static str),
    /// A bad `?key=value` option.
    #[error("target option `{0}` is not valid here")]
    BadOption(String),
    /// The PostgreSQL connection string does not parse.
    #[error("invalid PostgreSQL connection string: {0}")]
    Postgres(String),
}

/// `key=value` options of a URL.
type Options<'a> = Vec<(&'a str, &'a str)>;

/// Splits `rest` into the part before `?` and its `key=value` options.
fn options(rest: &str) -> (&str, Options<'_>) {
    match rest.split_once('?') {
        None => (rest, Vec::new()),
        Some((path, query)) => (
            path,
            query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
                .collect(),
        ),
    }
}

/// The path of a file target and its options.
fn path_of<'a>(
    rest: &'a str,
    scheme: &'static str,
) -> Result<(PathBuf, Options<'a>), TargetUrlError> {
    let (path, opts) = options(rest);
    if path.is_empty() {
        return Err(TargetUrlError::MissingPath(scheme));
    }
    Ok((PathBuf::from(path), opts))
}

fn dialect_option(opts: &[(&str, &str)]) -> Result<Dialect, TargetUrlError> {
    let mut dialect = Dialect::Postgres;
    for (key, value) in opts {
        match (*key, Dialect::parse(value)) {
            ("dialect", Some(d)) => dialect = d,
            _ => return Err(TargetUrlError::BadOption(format!("{key}={value}"))),
        }
    }
    Ok(dialect)
}

/// `url` with the password of `user:password@` and any `password=` option
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let authority_end = path.find('/').unwrap_or(path.len());
    let (authority, tail) = path.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let mut out = format!("{scheme}://{authority}{tail}");
    if let Some(query) = query {
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

fn postgres(url: &str) -> Result<PgUrl, TargetUrlError> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", ""));
    let (path, opts) = options(rest);
    let mut schema = None;
    let mut kept = Vec::new();
    for (key, value) in opts {
        if key == "schema" {
            if value.is_empty() {
                return Err(TargetUrlError::BadOption("schema=".into()));
            }
            schema = Some(value.to_owned());
        } else {
            kept.push(format!("{key}={value}"));
        }
    }
    let mut conninfo = format!("{scheme}://{path}");
    if !kept.is_empty() {
        conninfo.push('?');
        conninfo.push_str(&kept.join("&"));
    }
    conninfo
        .parse::<tokio_postgres::Config>()
        .map_err(|e| TargetUrlError::Postgres(e.to_string()))?;
    Ok(PgUrl {
        redacted: redact(url),
        conninfo,
        schema,
    })
}

/// `path` with `suffix` before its extension: `out/shop.db` →
/// `out/shop-00002-of-00008.db`.
fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}{suffix}"),
    };
    path.with_file_name(name)
}

impl TargetUrl {
    /// The target of one shard: a SQLite database or an SQL script gets the
    /// shard's suffix before its extension (directories name their files
    /// with it, see [`files::file_name`]); databases and standard output are
    /// shared.
    pub fn for_shard(self, shard: crate::shard::Shard) -> TargetUrl {
        if shard.is_whole() {
            return self;
        }
        match self {
            TargetUrl::Sqlite(path) => TargetUrl::Sqlite(with_suffix(&path, &shard.suffix())),
            TargetUrl::SqlFile { path, dialect } => TargetUrl::SqlFile {
                path: with_suffix(&path, &shard.suffix()),
                dialect,
            },
            other => other,
        }
    }

    /// What a valid target looks like.
    pub const HELP: &'static str =
        "use sqlite://PATH, postgres://USER@HOST:PORT/DB[?schema=NAME], \
         csv://DIR, jsonl://DIR, sql://FILE[?dialect=postgres|sqlite] or stdout://csv|jsonl|sql";

    /// Parses a target URL.
    pub fn parse(url: &str) -> Result<TargetUrl, TargetUrlError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(TargetUrlError::NotAUrl(redact(url)));
        };
        let no_options = |opts: Vec<(&str, &str)>| match opts.first() {
            Some((k, v)) => Err(TargetUrlError::BadOption(format!("{k}={v}"))),
            None => Ok(()),
        };
        match scheme {
            "sqlite" => {
                let (path, opts) = path_of(rest, "sqlite")?;
                no_options(opts)?;
                Ok(TargetUrl::Sqlite(path))
            }
            "postgres" | "postgresql" => Ok(TargetUrl::Postgres(postgres(url)?)),
            "csv" | "jsonl" => {
                let (dir, opts) = path_of(rest, if scheme == "csv" { "csv" } else { "jsonl" })?;
                no_options(opts)?;
                let format = if scheme == "csv" {
                    FileFormat::Csv
                } else {
                    FileFormat::Jsonl
                };
                Ok(TargetUrl::Dir { dir, format })
            }
            "sql" => {
                let (path, opts) = path_of(rest, "sql")?;
                Ok(TargetUrl::SqlFile {
                    path,
                    dialect: dialect_option(&opts)?,
                })
            }
            "stdout" => {
                let (format, opts) = options(rest);
                match format {
                    "csv" | "jsonl" => {
                        no_options(opts)?;
                        Ok(TargetUrl::Stdout(if format == "csv" {
                            FileFormat::Csv
                        } else {
                            FileFormat::Jsonl
                        }))
                    }
                    "sql" => Ok(TargetUrl::Stdout(FileFormat::Sql(dialect_option(&opts)?))),
                    other => Err(TargetUrlError::BadOption(format!(
                        "stdout://{other} (the format must be csv, jsonl or sql)"
                    ))),
                }
            }
            other => Err(TargetUrlError::Unsupported(other.to_owned())),
        }
    }

    /// True when the target writes to standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, TargetUrl::Stdout(_))
    }
}

impl std::fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dialect = |d: Dialect| match d {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        };
        match self {
            TargetUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            TargetUrl::Postgres(pg) => f.write_str(&pg.redacted),
            TargetUrl::Dir { dir, format } => {
                write!(f, "{}://{}", format.extension(), dir.display())
            }
            TargetUrl::SqlFile { path, dialect: d } => {
                write!(f, "sql://{}?dialect={}", path.display(), dialect(*d))
            }
            TargetUrl::Stdout(FileFormat::Sql(d)) => {
                write!(f, "stdout://sql?dialect={}", dialect(*d))
            }
            TargetUrl::Stdout(format) => write!(f, "stdout://{}", format.extension()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            TargetUrl::parse("sqlite://out/a.db"),
            Ok(TargetUrl::Sqlite("out/a.db".into()))
        );
        assert_eq!(
            TargetUrl::parse("sqlite:///tmp/a.db"),
            Ok(TargetUrl::Sqlite("/tmp/a.db".into()))
        );
        assert_eq!(
            TargetUrl::parse("sqlite://"),
            Err(TargetUrlError::MissingPath("sqlite"))
        );
        let err = TargetUrl::parse("mysql://root:secret@db/x").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(TargetUrl::parse("out.db").is_err());
        assert_eq!(
            TargetUrl::parse("csv://out/shop"),
            Ok(TargetUrl::Dir {
                dir: "out/shop".into(),
                format: FileFormat::Csv
            })
        );
        assert_eq!(
            TargetUrl::parse("sql://a.sql?dialect=sqlite"),
            Ok(TargetUrl::SqlFile {
                path: "a.sql".into(),
                dialect: Dialect::Sqlite
            })
        );
        assert_eq!(
            TargetUrl::parse("stdout://sql"),
            Ok(TargetUrl::Stdout(FileFormat::Sql(Dialect::Postgres)))
        );
        assert!(TargetUrl::parse("stdout://xml").is_err());
        assert!(TargetUrl::parse("sql://a.sql?dialect=oracle").is_err());
        assert!(TargetUrl::parse("csv://d?x=1").is_err());
    }

    #[test]
    fn postgres_urls_keep_their_password_hidden() {
        let url = TargetUrl::parse("postgres://me:s3cret@db:5433/shop?schema=load&sslmode=disable")
            .unwrap();
        let TargetUrl::Postgres(pg) = &url else {
            panic!("{url:?}")
        };
        assert_eq!(pg.schema.as_deref(), Some("load"));
        assert_eq!(
            pg.conninfo,
            "postgres://me:s3cret@db:5433/shop?sslmode=disable"
        );
        assert_eq!(
            url.to_string(),
            "postgres://me:***@db:5433/shop?schema=load&sslmode=disable"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            redact("postgresql://u@h/d?password=p&x=1"),
            "postgresql://u@h/d?password=***&x=1"
        );
        assert!(
            TargetUrl::parse("postgres://").is_ok(),
            "all from PG* variables"
        );
        let err = TargetUrl::parse("postgres://u:pw@h/d?bogus=1").unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}
