//! `files://DIR`: a stream of files per table, each published atomically
//! once complete.
//!
//! Rows of each table are appended to a temporary file
//! (`.TABLE-000000007.jsonl.datagen-tmp`); when the file reaches
//! `rotate_rows`, `rotate_bytes` or `rotate_secs` it is flushed to disk and
//! renamed into place (`TABLE-000000007.jsonl`), so a reader that lists
//! the directory never sees a partial file. Names sort in the order the
//! files were published. An optional `manifest.jsonl` gets a line per
//! published file, after it is in place.
//!
//! The checkpoint (`.datagen-stream`) records the committed stream ranges,
//! each table's open file and its committed length, and the last file
//! published; it is written before a file is renamed, so `--resume` (or a
//! restart) finishes a publication a crash interrupted, cuts the open
//! file back to its committed length and goes on appending: every row
//! reaches the files exactly once, and with `rotate_rows` every file
//! holds the same rows as in an uninterrupted stream.
//!
//! * [`template`]: the `text` format's line templates.
//! * [`sink`]: writing, committing and publishing.

pub mod sink;
pub mod template;

use std::path::PathBuf;
use std::sync::Arc;

use super::files::encode::{FileEncoder, FileFormat};
use super::options::{at_least, text, AnyKey, Common, Key, Options, Problem};
use super::place::MadeDirs;
use super::{BlockEncoder, Failure, Kind, OpenArgs, Target, TargetSink};
use crate::diag::Diagnostic;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::url::{Url, UrlError};
use template::Template;

/// `files://DIR`.
pub struct RotateKind;

/// The kind of target that writes rotated files.
pub static ROTATE: RotateKind = RotateKind;

/// The format of the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header line in every file.
    Csv,
    /// JSON Lines.
    Jsonl,
    /// JSON Lines, changes tables as Debezium change events.
    Debezium,
    /// A line per row from a template: `{consumer_id} {kwh}`.
    Text(String),
}

impl Format {
    /// The file name extension.
    pub fn extension(&self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl | Format::Debezium => "jsonl",
            Format::Text(_) => "txt",
        }
    }
}

/// `format`: csv, jsonl (the default) or text.
pub const FORMAT: Key<String> = Key {
    name: "format",
    read: |v| {
        let f = text("format", v)?;
        match f {
            "csv" | "jsonl" | "text" | "debezium" => Ok(f.to_owned()),
            other => Err(Problem::new(format!("unknown `format` \"{other}\""))
                .help("one of \"jsonl\" (the default), \"csv\", \"text\" (with `template`), \"debezium\" (changes as Debezium events)")),
        }
    },
};

/// `template`: the line of the `text` format, columns in braces.
pub const TEMPLATE: Key<String> = Key {
    name: "template",
    read: |v| {
        let t = text("template", v)?;
        Template::parse(t)
            .map(|_| t.to_owned())
            .map_err(Problem::new)
    },
};

/// `rotate_rows`: a file is published once it holds this many rows.
pub const ROTATE_ROWS: Key<u64> = Key {
    name: "rotate_rows",
    read: |v| at_least("rotate_rows", v, 1),
};

/// `rotate_bytes`: a file is published once it holds this many bytes.
pub const ROTATE_BYTES: Key<u64> = Key {
    name: "rotate_bytes",
    read: |v| at_least("rotate_bytes", v, 1),
};

/// `rotate_secs`: a file is published once it has been open this long
/// (checked as rows arrive).
pub const ROTATE_SECS: Key<u64> = Key {
    name: "rotate_secs",
    read: |v| at_least("rotate_secs", v, 1),
};

/// `manifest`: also keep `manifest.jsonl`, a line per published file.
pub const MANIFEST: Key<bool> = Key {
    name: "manifest",
    read: |v| {
        v.as_bool().ok_or_else(|| {
            Problem::new("`manifest` must be true or false").help("write `manifest = true`")
        })
    },
};

/// Bytes after which a file is published when no rotation is given.
pub const DEFAULT_ROTATE_BYTES: u64 = 64 << 20;

const KEYS: [&dyn AnyKey; 8] = [
    Common::KEYS[0],
    Common::KEYS[1],
    &FORMAT,
    &TEMPLATE,
    &ROTATE_ROWS,
    &ROTATE_BYTES,
    &ROTATE_SECS,
    &MANIFEST,
];

/// When a file is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rows per file.
    pub rows: Option<u64>,
    /// Bytes per file (at least one row).
    pub bytes: Option<u64>,
    /// Seconds a file stays open.
    pub secs: Option<u64>,
}

impl Kind for RotateKind {
    fn schemes(&self) -> &'static [&'static str] {
        &["files"]
    }

    fn usage(&self) -> &'static [&'static str] {
        &["files://DIR[?format=jsonl|csv|text|debezium&rotate_rows=N&rotate_bytes=N&rotate_secs=N&manifest=true]"]
    }

    fn keys(&self) -> &'static [&'static dyn AnyKey] {
        &KEYS
    }

    fn parse(
        &self,
        url: &Url<'_>,
        options: &mut Options<'_>,
        _: Shard,
    ) -> Result<Arc<dyn Target>, UrlError> {
        let (dir, opts) = url.path()?;
        let mut format = options.get(&FORMAT);
        let mut template = options.get(&TEMPLATE);
        let mut rows = options.get(&ROTATE_ROWS);
        let mut bytes = options.get(&ROTATE_BYTES);
        let mut secs = options.get(&ROTATE_SECS);
        let mut manifest = options.get(&MANIFEST);
        // Options in the URL win over the [target] keys.
        for (key, value) in opts {
            let decoded = crate::url::percent_decode(value);
            let value = decoded.as_str();
            let value_toml = match value.parse::<i64>() {
                Ok(n) => toml::Value::Integer(n),
                Err(_) => match value {
                    "true" => toml::Value::Boolean(true),
                    "false" => toml::Value::Boolean(false),
                    _ => toml::Value::String(value.to_owned()),
                },
            };
            let bad = |p: Problem| UrlError::BadOption(format!("{key}={value} ({})", p.message));
            match key {
                "format" => format = Some((FORMAT.read)(&value_toml).map_err(bad)?),
                "template" => {
                    template = Some((TEMPLATE.read)(&toml::Value::String(value.to_owned())).map_err(bad)?)
                }
                "rotate_rows" => rows = Some((ROTATE_ROWS.read)(&value_toml).map_err(bad)?),
                "rotate_bytes" => bytes = Some((ROTATE_BYTES.read)(&value_toml).map_err(bad)?),
                "rotate_secs" => secs = Some((ROTATE_SECS.read)(&value_toml).map_err(bad)?),
                "manifest" => manifest = Some((MANIFEST.read)(&value_toml).map_err(bad)?),
                _ => {
                    return Err(UrlError::BadOption(format!(
                        "{key}={value} (files:// takes format, template, rotate_rows, rotate_bytes, rotate_secs, manifest)"
                    )))
                }
            }
        }
        let format = match (format.as_deref(), template) {
            (Some("text"), Some(t)) | (None, Some(t)) => Format::Text(t),
            (Some("text"), None) => {
                return Err(UrlError::BadOption(
                    "format=text needs a template, e.g. template={consumer_id} {kwh}".into(),
                ))
            }
            (Some("csv"), None) => Format::Csv,
            (Some("jsonl") | None, None) => Format::Jsonl,
            (Some("debezium"), None) => Format::Debezium,
            (Some(f), Some(_)) => {
                return Err(UrlError::BadOption(format!(
                    "template with format={f} (a template is for format=text)"
                )))
            }
            (Some(f), None) => return Err(UrlError::BadOption(format!("format={f}"))),
        };
        let bytes = if rows.is_none() && bytes.is_none() && secs.is_none() {
            Some(DEFAULT_ROTATE_BYTES)
        } else {
            bytes
        };
        Ok(Arc::new(RotateTarget {
            dir,
            format,
            rotation: Rotation { rows, bytes, secs },
            manifest: manifest.unwrap_or(false),
            common: Common::read(options),
            made: Arc::default(),
            owned: Arc::default(),
        }))
    }
}

/// `files://DIR` with its settings.
#[derive(Debug)]
pub struct RotateTarget {
    /// The directory.
    pub dir: PathBuf,
    /// The files' format.
    pub format: Format,
    /// When a file is published.
    pub rotation: Rotation,
    /// Whether `manifest.jsonl` is kept.
    pub manifest: bool,
    /// `if_exists`, `commit_rows`.
    pub common: Common,
    /// Directories the run made.
    pub made: Arc<MadeDirs>,
    /// This run opened the stream (fresh or resumed): what it leaves
    /// unpublished is its own to discard. A run refused at open (another
    /// stream's files, `if_exists = "fail"`) touches nothing.
    pub owned: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Display for RotateTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let format = match &self.format {
            Format::Text(_) => "text",
            Format::Debezium => "debezium",
            other => other.extension(),
        };
        write!(f, "files://{}?format={format}", self.dir.display())
    }
}

impl RotateTarget {
    /// What encodes rows for these files.
    pub fn encoder(&self, schema: &Schema) -> Arc<dyn BlockEncoder> {
        match &self.format {
            Format::Csv => Arc::new(FileEncoder::new(schema, FileFormat::Csv)),
            Format::Jsonl => Arc::new(FileEncoder::new(schema, FileFormat::Jsonl)),
            Format::Debezium => {
                Arc::new(FileEncoder::new(schema, FileFormat::Jsonl).debezium(schema))
            }
            Format::Text(t) => Arc::new(
                template::TemplateEncoder::new(schema, t)
                    .expect("a template checked by `check` compiles"),
            ),
        }
    }
}

impl Target for RotateTarget {
    fn options(&self) -> Vec<(&'static str, String)> {
        let mut shown = self.common.shown();
        if let Format::Text(t) = &self.format {
            shown.push(("template", t.clone()));
        }
        let r = &self.rotation;
        for (key, v) in [
            ("rotate_rows", r.rows),
            ("rotate_bytes", r.bytes),
            ("rotate_secs", r.secs),
        ] {
            if let Some(v) = v {
                shown.push((key, v.to_string()));
            }
        }
        shown
    }

    fn continues(&self) -> bool {
        true
    }

    fn check(&self, schema: &Schema) -> Vec<Diagnostic> {
        let Format::Text(t) = &self.format else {
            return Vec::new();
        };
        let Ok(template) = Template::parse(t) else {
            return Vec::new();
        };
        let mut d = Vec::new();
        for (i, table) in schema.tables.iter().enumerate() {
            if !schema.stream.emit[i] {
                continue;
            }
            let missing: Vec<&str> = template
                .columns()
                .filter(|c| !table.columns.iter().any(|col| col.name == *c))
                .collect();
            if !missing.is_empty() {
                let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                d.push(
                    Diagnostic::new(
                        table.span.clone(),
                        format!(
                            "the template `{t}` names {} that table `{}` does not have",
                            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                            table.name
                        ),
                    )
                    .help(format!(
                        "its columns are: {}; or leave the table out of the stream with `[stream.tables.{}] emit = false`",
                        names.join(", "),
                        table.name
                    )),
                );
            }
        }
        d
    }

    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure> {
        self.made
            .make(&self.dir)
            .map_err(super::files::error::FileError::from)?;
        let sink = sink::RotateSink::open(self, args)?;
        self.owned.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(Box::new(sink))
    }

    fn discard(&self, schema: &Schema) {
        if self.owned.load(std::sync::atomic::Ordering::Relaxed) {
            sink::discard(&self.dir, schema, &self.format);
        }
        self.made.remove();
    }
}
