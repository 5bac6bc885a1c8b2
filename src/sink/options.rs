//! The `[target]` keys a target reads, layered Genfile < environment.
//!
//! A target declares each key it reads as a [`Key`]: a name and how its
//! value is read. A value comes from the environment (`DATAGEN_` and the
//! key in capitals, e.g. `DATAGEN_COMMIT_ROWS`) or else from the Genfile's
//! `[target]` section; a value that cannot be used is a [`Problem`],
//! located in the Genfile or naming the variable.

use std::collections::HashMap;
use std::ops::Range;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use crate::diag::keys::type_name;

/// What is wrong with a value, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Problem {
    /// A problem without a hint.
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            help: None,
        }
    }

    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A `[target]` key: its name and how its value is read.
pub struct Key<T: 'static> {
    /// The key in `[target]`.
    pub name: &'static str,
    /// Reads a value.
    pub read: fn(&TomlValue) -> Result<T, Problem>,
}

/// A key of any type: what checking `[target]` needs of it.
pub trait AnyKey: Sync {
    /// The key in `[target]`.
    fn name(&self) -> &'static str;
    /// Whether `value` can be used.
    fn check(&self, value: &TomlValue) -> Result<(), Problem>;
}

impl<T: 'static> AnyKey for Key<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn check(&self, value: &TomlValue) -> Result<(), Problem> {
        (self.read)(value).map(drop)
    }
}

/// The environment variable that overrides `key`.
pub fn variable(key: &str) -> String {
    format!("DATAGEN_{}", key.to_ascii_uppercase())
}

/// The value of an environment variable as a Genfile would hold it: a
/// number or a boolean when it reads as one, text otherwise.
pub fn from_env(text: &str) -> TomlValue {
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        TomlValue::Integer(i)
    } else if let Ok(b) = text.parse::<bool>() {
        TomlValue::Boolean(b)
    } else if let Ok(f) = text.parse::<f64>() {
        TomlValue::Float(f)
    } else {
        TomlValue::String(text.to_owned())
    }
}

/// Where a problem is: a value in the Genfile, or a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Where the value is written in the Genfile.
    Genfile(Range<usize>),
    /// The variable that holds it.
    Env(String),
}

/// The `[target]` keys of a run and their environment overrides, read by
/// the target the URL names, problems kept as they are found.
pub struct Options<'a> {
    entries: &'a [(Spanned<String>, Spanned<TomlValue>)],
    env: &'a HashMap<String, String>,
    /// Problems found, where they are.
    pub problems: Vec<(Origin, Problem)>,
}

impl<'a> Options<'a> {
    /// The keys of `entries` (the Genfile's `[target]`) overridden by `env`.
    pub fn new(
        entries: &'a [(Spanned<String>, Spanned<TomlValue>)],
        env: &'a HashMap<String, String>,
    ) -> Self {
        Options {
            entries,
            env,
            problems: Vec::new(),
        }
    }

    /// The value of `key`, if given and usable (a problem is recorded when
    /// it is not).
    pub fn get<T>(&mut self, key: &Key<T>) -> Option<T> {
        let variable = variable(key.name);
        let (value, origin) = match self.env.get(&variable) {
            Some(text) => (from_env(text), Origin::Env(variable)),
            None => {
                let (_, v) = self.entries.iter().find(|(k, _)| k.get_ref() == key.name)?;
                (v.get_ref().clone(), Origin::Genfile(v.span()))
            }
        };
        match (key.read)(&value) {
            Ok(v) => Some(v),
            Err(problem) => {
                self.problems.push((origin, problem));
                None
            }
        }
    }
}

/// A whole number of at least `min`, as `key`.
pub fn at_least(key: &str, value: &TomlValue, min: i64) -> Result<u64, Problem> {
    match value {
        TomlValue::Integer(n) if *n >= min => Ok(*n as u64),
        TomlValue::Integer(n) => Err(Problem::new(format!(
            "`{key}` must be at least {min}, found {n}"
        ))),
        other => Err(Problem::new(format!(
            "`{key}` must be an integer, found {}",
            type_name(other)
        ))),
    }
}

/// A string, as `key`.
pub fn text<'v>(key: &str, value: &'v TomlValue) -> Result<&'v str, Problem> {
    value.as_str().ok_or_else(|| {
        Problem::new(format!(
            "`{key}` must be a string, found {}",
            type_name(value)
        ))
    })
}

/// What to do when a table or file to be written already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Stop with an error naming the table.
    #[default]
    Fail,
    /// Keep the table, delete its rows.
    Truncate,
    /// Keep the table and its rows; add ours.
    Append,
    /// Drop the table and create it anew.
    Replace,
}

impl IfExists {
    /// Parses the Genfile spelling.
    pub fn parse(s: &str) -> Option<IfExists> {
        match s {
            "fail" => Some(IfExists::Fail),
            "truncate" => Some(IfExists::Truncate),
            "append" => Some(IfExists::Append),
            "replace" => Some(IfExists::Replace),
            _ => None,
        }
    }

    /// The Genfile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IfExists::Fail => "fail",
            IfExists::Truncate => "truncate",
            IfExists::Append => "append",
            IfExists::Replace => "replace",
        }
    }
}

/// `if_exists`: what to do with a table or file that exists already.
pub const IF_EXISTS: Key<IfExists> = Key {
    name: "if_exists",
    read: |v| {
        let s = text("if_exists", v)?;
        IfExists::parse(s).ok_or_else(|| {
            Problem::new(format!("unknown if_exists `{s}`"))
                .help("use one of: fail, truncate, append, replace")
        })
    },
};

/// `commit_rows`: rows per commit unit (a transaction, a checkpoint).
pub const COMMIT_ROWS: Key<u64> = Key {
    name: "commit_rows",
    read: |v| at_least("commit_rows", v, 1),
};

/// The keys every target that writes reads: `if_exists` and
/// `commit_rows`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Common {
    /// What to do with tables or files that exist.
    pub if_exists: IfExists,
    /// Rows per commit unit, if set.
    pub commit_rows: Option<u64>,
}

impl Common {
    /// The keys every writing target declares.
    pub const KEYS: [&'static dyn AnyKey; 2] = [&IF_EXISTS, &COMMIT_ROWS];

    /// Reads them from `options`.
    pub fn read(options: &mut Options<'_>) -> Common {
        Common {
            if_exists: options.get(&IF_EXISTS).unwrap_or_default(),
            commit_rows: options.get(&COMMIT_ROWS),
        }
    }

    /// Them as `(key, value)`, for a target's [`options`](super::Target::options).
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("if_exists", self.if_exists.as_str().to_owned())];
        if let Some(n) = self.commit_rows {
            out.push(("commit_rows", n.to_string()));
        }
        out
    }
}
