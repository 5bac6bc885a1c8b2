//! `[dictionaries.NAME]`: inline `values` (and `weights`), or a `file`
//! relative to the Genfile with one value a line and an optional `,weight`.

use std::ops::Range;
use std::path::Path;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use crate::diag::keys::Keys;
use crate::diag::Diagnostic;
use crate::generators::dicts::Dictionary;
use crate::generators::dist::weights_problem;
use crate::limits::{read_file, ReadError, MAX_DICTIONARY_BYTES};
use crate::schema::raw::Entries;

/// Values and their optional weights.
type WeightedValues = (Vec<String>, Option<Vec<f64>>);

/// Reads every dictionary. An invalid one keeps its place (empty) so names
/// resolve and suggestions work; its errors keep the Genfile from being
/// used.
pub(super) fn dictionaries(
    d: &mut Vec<Diagnostic>,
    path: &Path,
    raw: &[(Spanned<String>, Spanned<Entries>)],
) -> Vec<Dictionary> {
    raw.iter()
        .map(|(name, entries)| {
            let (values, weights) = dictionary(d, path, name, entries).unwrap_or_default();
            Dictionary {
                name: name.get_ref().clone(),
                values,
                weights,
            }
        })
        .collect()
}

fn dictionary(
    d: &mut Vec<Diagnostic>,
    path: &Path,
    name: &Spanned<String>,
    entries: &Spanned<Entries>,
) -> Option<WeightedValues> {
    let what = format!("dictionary `{}`", name.get_ref());
    let mut k = Keys::new(entries.get_ref(), what.clone());
    let values = k.get("values");
    let weights = k.get("weights");
    let file = k.string(d, "file");
    let file_given = k.has("file");
    k.report_unknown(d, &["values", "weights", "file"]);
    let (values, weights) = match (values, file_given) {
        (Some(_), true) => {
            let span = file.map_or(entries.span(), |(_, s)| s);
            d.push(
                Diagnostic::new(span, format!("{what}: both `values` and `file` given"))
                    .help("keep one of them"),
            );
            return None;
        }
        (None, false) => {
            d.push(
                Diagnostic::new(name.span(), format!("{what}: no values"))
                    .help("add `values = [\"a\", \"b\"]` or `file = \"dicts/NAME.txt\"`"),
            );
            return None;
        }
        (Some(values), false) => inline(d, &what, values, weights)?,
        (None, true) => {
            if let Some(w) = weights {
                d.push(
                    Diagnostic::new(w.span(), format!("{what}: `weights` goes with `values`"))
                        .help("put weights in the file, as `value,weight` lines"),
                );
                return None;
            }
            let (file, span) = file?;
            from_file(d, &what, path, file, span)?
        }
    };
    if values.is_empty() {
        d.push(
            Diagnostic::new(name.span(), format!("{what}: is empty"))
                .help("give at least one value"),
        );
        return None;
    }
    Some((values, weights))
}

/// `values = [...]` with optional `weights = [...]`.
fn inline(
    d: &mut Vec<Diagnostic>,
    what: &str,
    values: &Spanned<TomlValue>,
    weights: Option<&Spanned<TomlValue>>,
) -> Option<WeightedValues> {
    let texts: Option<Vec<String>> = match values.get_ref() {
        TomlValue::Array(items) => items
            .iter()
            .map(|v| match v {
                TomlValue::String(s) => Some(s.clone()),
                TomlValue::Integer(i) => Some(i.to_string()),
                TomlValue::Float(f) => Some(f.to_string()),
                TomlValue::Boolean(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    };
    let Some(texts) = texts else {
        d.push(
            Diagnostic::new(
                values.span(),
                format!("{what}: values must be strings or numbers"),
            )
            .help("e.g. `values = [\"red\", \"green\"]`"),
        );
        return None;
    };
    let Some(w) = weights else {
        return Some((texts, None));
    };
    let n = texts.len();
    let parsed: Option<Vec<f64>> = match w.get_ref() {
        TomlValue::Array(items) => items
            .iter()
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
            .collect(),
        _ => None,
    };
    let problem = match &parsed {
        None => Some("`weights` must be an array of numbers".to_owned()),
        Some(ws) if ws.len() != n => Some(format!(
            "{} weights for {n} values: give one weight per value",
            ws.len()
        )),
        Some(ws) => weights_problem(ws),
    };
    if let Some(problem) = problem {
        d.push(
            Diagnostic::new(w.span(), format!("{what}: {problem}")).help(format!(
                "{n} values, so {n} weights, each 0 or more, not all 0"
            )),
        );
        return None;
    }
    Some((texts, parsed))
}

/// `file = "…"`, relative to the Genfile.
fn from_file(
    d: &mut Vec<Diagnostic>,
    what: &str,
    path: &Path,
    file: &str,
    span: Range<usize>,
) -> Option<WeightedValues> {
    let full = path.parent().unwrap_or(Path::new(".")).join(file);
    let problem = match read_file(&full, MAX_DICTIONARY_BYTES) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => match parse_file(&text) {
                Ok(parsed) => return Some(parsed),
                Err((line, problem)) => {
                    d.push(Diagnostic::new(
                        span,
                        format!("{what}: {file}:{line}: {problem}"),
                    ));
                    return None;
                }
            },
            Err(e) => {
                let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                d.push(
                    Diagnostic::new(span, format!("{what}: {file}:{line}: not UTF-8 text"))
                        .help("a dictionary file is UTF-8 text, one value a line"),
                );
                return None;
            }
        },
        Err(ReadError::Io(e)) => {
            d.push(
                Diagnostic::new(span, format!("{what}: cannot read {}: {e}", full.display()))
                    .help("the path is relative to the Genfile"),
            );
            return None;
        }
        Err(e) => format!("cannot read {}: {e}", full.display()),
    };
    let help = format!(
        "a dictionary file is a regular file of at most {} MiB",
        MAX_DICTIONARY_BYTES >> 20
    );
    d.push(Diagnostic::new(span, format!("{what}: {problem}")).help(help));
    None
}

/// Parses a dictionary file: a value a line, `value,weight` for weights
/// (all lines or none); blank lines and `#` comments are skipped.
fn parse_file(text: &str) -> Result<WeightedValues, (usize, String)> {
    let mut values = Vec::new();
    let mut weights = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line
            .rsplit_once(',')
            .map(|(v, w)| (v.trim(), w.trim().parse::<f64>()))
        {
            Some((value, Ok(weight))) => {
                if !weight.is_finite() {
                    return Err((i + 1, format!("weight {weight} is not a finite number")));
                }
                if weight < 0.0 {
                    return Err((i + 1, format!("weight {weight} is negative")));
                }
                values.push(value.to_owned());
                weights.push(weight);
            }
            _ => values.push(line.to_owned()),
        }
    }
    match weights.len() {
        0 => Ok((values, None)),
        n if n == values.len() => match weights_problem(&weights) {
            None => Ok((values, Some(weights))),
            Some(problem) => Err((1, problem)),
        },
        _ => Err((1, "give a weight on every line or on none".into())),
    }
}
