//! URL schemes → targets: the one list of every kind of target, checking a
//! Genfile's `[target]` section, and the target of a run.

use std::collections::HashMap;
use std::sync::Arc;

use super::options::{variable, AnyKey, Options, Origin, Problem};
use super::{broker, files, null, postgres, rotate, sqlite, Kind, Target};
use crate::diag::keys::Keys;
use crate::diag::Diagnostic;
use crate::schema::TargetSection;
use crate::shard::Shard;
use crate::url::{Url, UrlError};

/// Every kind of target, in the order help texts list them.
pub const KINDS: &[&dyn Kind] = &[
    &sqlite::SQLITE,
    &postgres::POSTGRES,
    &files::FILES,
    &rotate::ROTATE,
    &broker::BROKERS,
    &null::NULL,
];

/// The kind of target `scheme` names.
pub fn find(scheme: &str) -> Option<&'static dyn Kind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.schemes().contains(&scheme))
}

/// Where a Genfile `NAME.toml` that names no target writes: an embedded
/// SQLite database, `out/NAME.db`.
pub fn default_url(name: &str) -> String {
    format!("sqlite://out/{name}.db")
}

/// What a valid target looks like: every kind's forms.
pub fn help() -> String {
    let forms: Vec<&str> = KINDS.iter().flat_map(|k| k.usage()).copied().collect();
    match forms.split_last() {
        Some((last, [])) => format!("use {last}"),
        Some((last, rest)) => format!("use {} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Every key some target reads, once each, in the order the kinds list
/// them.
fn all_keys() -> Vec<&'static dyn AnyKey> {
    let mut keys: Vec<&'static dyn AnyKey> = Vec::new();
    for key in KINDS.iter().flat_map(|k| k.keys()) {
        if !keys.iter().any(|k| k.name() == key.name()) {
            keys.push(*key);
        }
    }
    keys
}

/// The target `url` names, reading its keys from `options`.
pub fn parse(
    url: &str,
    options: &mut Options<'_>,
    shard: Shard,
) -> Result<Arc<dyn Target>, UrlError> {
    let url = Url::parse(url)?;
    let kind = find(url.scheme).ok_or_else(|| UrlError::Unsupported(url.scheme.to_owned()))?;
    kind.parse(&url, options, shard)
}

/// Checks a Genfile's `[target]` section: the URL with the target it
/// names, and every other key against the target that reads it. A key of
/// another target than the URL's is checked too (a Genfile may be run
/// with `--target` elsewhere); a key no target reads is unknown.
pub fn check(section: &TargetSection) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let mut keys = Keys::new(&section.entries, String::new());
    if let Some((url, span)) = keys.string(&mut d, "url") {
        let env = HashMap::new();
        let mut none = Options::new(&[], &env);
        if let Err(e) = parse(url, &mut none, Shard::WHOLE) {
            d.push(Diagnostic::new(span, e.to_string()).help(help()));
        }
    }
    let known = all_keys();
    for key in &known {
        if let Some(v) = keys.get(key.name()) {
            if let Err(Problem { message, help }) = key.check(v.get_ref()) {
                let mut diag = Diagnostic::new(v.span(), message);
                diag.help = help;
                d.push(diag);
            }
        }
    }
    let names: Vec<&str> = std::iter::once("url")
        .chain(known.iter().map(|k| k.name()))
        .collect();
    keys.report_unknown(&mut d, &names);
    d
}

/// Why the target of a run cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The URL (shown with what a valid one looks like).
    #[error("{0}\n  help: {help}", help = help())]
    Url(UrlError),
    /// A value of a key: where it is and what is wrong.
    #[error("{}", option_problem(.0, .1))]
    Option(Origin, Problem),
}

impl From<UrlError> for ResolveError {
    fn from(e: UrlError) -> Self {
        ResolveError::Url(e)
    }
}

/// A key's problem as a message: the variable it came from, what is
/// wrong, the hint.
fn option_problem(origin: &Origin, problem: &Problem) -> String {
    let mut out = match origin {
        Origin::Env(variable) => format!("invalid setting: {variable}: "),
        Origin::Genfile(_) => String::new(),
    };
    out.push_str(&problem.message);
    if let Some(help) = &problem.help {
        out.push_str("\n  help: ");
        out.push_str(help);
    }
    out
}

/// The target of a run: `url` read by the target it names, with the keys
/// of the Genfile's `[target]` overridden by `env` (`DATAGEN_KEY`), for
/// the `shard`-th slice. Every `DATAGEN_KEY` a target reads is checked,
/// whichever target the URL names.
pub fn resolve(
    url: &str,
    section: &TargetSection,
    env: &HashMap<String, String>,
    shard: Shard,
) -> Result<Arc<dyn Target>, ResolveError> {
    let mut options = Options::new(&section.entries, env);
    let target = parse(url, &mut options, shard)?;
    if let Some((origin, problem)) = options.problems.into_iter().next() {
        return Err(ResolveError::Option(origin, problem));
    }
    for key in all_keys() {
        let name = variable(key.name());
        if let Some(text) = env.get(&name) {
            if let Err(problem) = key.check(&super::options::from_env(text)) {
                return Err(ResolveError::Option(Origin::Env(name), problem));
            }
        }
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Result<Arc<dyn Target>, UrlError> {
        let env = HashMap::new();
        parse(url, &mut Options::new(&[], &env), Shard::WHOLE)
    }

    fn shown(url: &str) -> String {
        target(url)
            .map(|t| t.to_string())
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn every_scheme_finds_its_target() {
        assert_eq!(shown("sqlite://out/a.db"), "sqlite://out/a.db");
        assert_eq!(shown("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(
            target("sqlite://").unwrap_err(),
            UrlError::MissingPath("sqlite".into())
        );
        let err = target("mysql://root:secret@db/x").unwrap_err();
        assert_eq!(err, UrlError::Unsupported("mysql".into()));
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(target("out.db").is_err());
        assert_eq!(shown("csv://out/shop"), "csv://out/shop");
        assert_eq!(shown("jsonl://out/shop"), "jsonl://out/shop");
        assert_eq!(
            shown("sql://a.sql?dialect=sqlite"),
            "sql://a.sql?dialect=sqlite"
        );
        assert_eq!(shown("stdout://sql"), "stdout://sql?dialect=postgres");
        assert_eq!(shown("stdout://csv"), "stdout://csv");
        assert_eq!(shown("null://"), "null://");
        for bad in ["stdout://xml", "sql://a.sql?dialect=oracle", "csv://d?x=1"] {
            assert!(target(bad).is_err(), "{bad}");
        }
        assert!(!target("stdout://csv").unwrap().restartable());
    }

    #[test]
    fn help_lists_every_form() {
        let help = help();
        for kind in KINDS {
            for form in kind.usage() {
                assert!(help.contains(form), "{form} missing from {help}");
            }
        }
        assert!(help.starts_with("use sqlite://PATH, "), "{help}");
    }
}
