//! Reading a Genfile's text: UTF-8, TOML into the raw structs, then
//! validation, with TOML's own messages turned into located diagnostics.

use std::path::Path;

use super::{raw, validate, Schema, TargetSection};
use crate::diag::{Diagnostic, Diagnostics};

/// Validates Genfile `bytes` read from `path`. The `[target]` section is
/// checked by `target` (the target module that the section's `url` names
/// owns its keys; see [`crate::genfile::parse`]), its problems reported
/// with the others.
pub fn read(
    path: &Path,
    bytes: &[u8],
    target: &dyn Fn(&TargetSection) -> Vec<Diagnostic>,
) -> Result<Schema, Diagnostics> {
    let file = path.display().to_string();
    let source = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(e) => {
            let valid = e.valid_up_to();
            let source = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            return Err(Diagnostics {
                file,
                source,
                items: vec![
                    Diagnostic::new(valid..valid, "the Genfile is not UTF-8 text")
                        .help("a Genfile is a TOML text file; check that the right file was given"),
                ],
            });
        }
    };
    let fail = |items| Diagnostics {
        file: file.clone(),
        source: source.clone(),
        items,
    };
    let mut early = Vec::new();
    let raw = match raw::read(&source, &mut early) {
        Ok(raw) => raw,
        Err(e) => {
            let diag = toml_diagnostic(e.message().trim_end(), e.span());
            return Err(fail(vec![diag]));
        }
    };
    // A value or a table left out would be reported again as missing.
    if raw.unreadable || raw.misread {
        return Err(fail(early));
    }
    let mut schema = validate::validate(path, raw, early, target).map_err(fail)?;
    schema.digest =
        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(bytes)).into();
    schema.text = source.into();
    Ok(schema)
}

/// Turns an error of the TOML reader into a diagnostic.
fn toml_diagnostic(message: &str, span: Option<std::ops::Range<usize>>) -> Diagnostic {
    Diagnostic {
        span,
        message: message.to_owned(),
        help: toml_help(message).map(str::to_owned),
    }
}

/// A hint for the TOML reader's own messages.
fn toml_help(message: &str) -> Option<&'static str> {
    Some(if message.starts_with("duplicate key") {
        "each key may appear once in a table; remove or rename the second"
    } else if message.starts_with("invalid type") {
        "numbers are written without quotes, text in double quotes, flags as true or false"
    } else if message.starts_with("invalid unquoted key") {
        "quote a key that holds other characters, e.g. \"my column\" = { … }"
    } else if message.starts_with("string values must be quoted") {
        "put text in double quotes; a Genfile is plain TOML text"
    } else if message.contains("recursion") {
        "tables, arrays or dotted keys nest too deep; a Genfile needs a few levels at most"
    } else if message.starts_with("invalid table header") || message.starts_with("unclosed") {
        "check the brackets and quotes on this line"
    } else {
        return None;
    })
}
