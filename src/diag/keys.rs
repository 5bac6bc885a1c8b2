//! Reading the keys of a table of a Genfile (a column spec, `[target]`),
//! with typed getters that report wrong types where they are, and a final
//! pass that reports every key nobody asked for.

use std::ops::Range;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use crate::diag::{nearest, Diagnostic};

/// The keys and values of a table, each with its place in the file.
pub type Entries = [(Spanned<String>, Spanned<TomlValue>)];

/// How a value's type reads in messages: "a string", "an integer", …
pub fn type_name(v: &TomlValue) -> &'static str {
    match v {
        TomlValue::String(_) => "a string",
        TomlValue::Integer(_) => "an integer",
        TomlValue::Float(_) => "a float",
        TomlValue::Boolean(_) => "a boolean",
        TomlValue::Datetime(_) => "a date-time",
        TomlValue::Array(_) => "an array",
        TomlValue::Table(_) => "a table",
    }
}

/// Collects diagnostics while reading one table's keys.
pub struct Keys<'a> {
    entries: &'a Entries,
    used: Vec<bool>,
    what: String,
}

impl<'a> Keys<'a> {
    /// A reader of `entries`; messages start with `what` ("column `t.c`"),
    /// or name only the key when `what` is empty (a section's own keys).
    pub fn new(entries: &'a Entries, what: String) -> Self {
        Keys {
            entries,
            used: vec![false; entries.len()],
            what,
        }
    }

    /// `what: `, or nothing when `what` is empty.
    fn prefix(&self) -> String {
        if self.what.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.what)
        }
    }

    /// The value of `key`, marked as used.
    pub fn get(&mut self, key: &str) -> Option<&'a Spanned<TomlValue>> {
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// Whether `key` is given (without marking it used).
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.get_ref() == key)
    }

    /// Reports that `key` holds `v`, which is not `expected`.
    pub fn wrong_type(
        &self,
        d: &mut Vec<Diagnostic>,
        key: &str,
        v: &Spanned<TomlValue>,
        expected: &str,
    ) {
        d.push(Diagnostic::new(
            v.span(),
            format!(
                "{}`{key}` must be {expected}, found {}",
                self.prefix(),
                type_name(v.get_ref())
            ),
        ));
    }

    /// `key` as an integer, with its place; a wrong type is reported.
    pub fn int(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<(i64, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::Integer(i) => Some((*i, v.span())),
            _ => {
                self.wrong_type(d, key, v, "an integer");
                None
            }
        }
    }

    /// `key` as a finite number, with its place; a wrong type, NaN or an
    /// infinity is reported.
    pub fn float(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<(f64, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::Integer(i) => Some((*i as f64, v.span())),
            TomlValue::Float(f) if f.is_finite() => Some((*f, v.span())),
            TomlValue::Float(f) => {
                d.push(Diagnostic::new(
                    v.span(),
                    format!(
                        "{}`{key}` must be a finite number, found {f}",
                        self.prefix()
                    ),
                ));
                None
            }
            _ => {
                self.wrong_type(d, key, v, "a number");
                None
            }
        }
    }

    /// `key` as a boolean; a wrong type is reported.
    pub fn bool(&mut self, d: &mut Vec<Diagnostic>, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(d, key, v, "true or false");
                None
            }
        }
    }

    /// `key` as a string, with its place; a wrong type is reported.
    pub fn string(
        &mut self,
        d: &mut Vec<Diagnostic>,
        key: &str,
    ) -> Option<(&'a str, Range<usize>)> {
        let v = self.get(key)?;
        match v.get_ref() {
            TomlValue::String(s) => Some((s.as_str(), v.span())),
            _ => {
                self.wrong_type(d, key, v, "a string");
                None
            }
        }
    }

    /// `v`, or a "missing `key`" problem at `span` with `example` as the
    /// hint when the key is absent (a present key of the wrong type is
    /// reported already).
    pub fn require<T>(
        &self,
        d: &mut Vec<Diagnostic>,
        span: &Range<usize>,
        key: &str,
        v: Option<T>,
        example: &str,
    ) -> Option<T> {
        if v.is_none() && !self.has(key) {
            d.push(
                Diagnostic::new(span.clone(), format!("{}missing `{key}`", self.prefix()))
                    .help(format!("add `{key} = {example}`")),
            );
        }
        v
    }

    /// Reports every key nobody read, with the nearest of `allowed` as a
    /// hint or the list of them.
    pub fn report_unknown(&self, d: &mut Vec<Diagnostic>, allowed: &[&str]) {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let mut diag = Diagnostic::new(
                key.span(),
                format!("{}unknown key `{}`", self.prefix(), key.get_ref()),
            );
            diag = match nearest(key.get_ref(), allowed.iter().copied()) {
                Some(n) => diag.help(format!("did you mean `{n}`?")),
                None => diag.help(format!("valid keys here: {}", allowed.join(", "))),
            };
            d.push(diag);
        }
    }
}
