//! The tokens of an expression.

use std::ops::Range;

use super::ExprError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(String),
    Str(String),
    Name(String),
    Sym(&'static str),
    End,
}

/// Splits `src` into tokens, each with its byte range; the last is [`Tok::End`].
pub(super) fn lex(src: &str) -> Result<Vec<(Tok, Range<usize>)>, ExprError> {
    let bytes = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            toks.push((Tok::Num(src[start..i].replace('_', "")), start..i));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            toks.push((Tok::Name(src[start..i].to_owned()), start..i));
            continue;
        }
        if c == b'\'' || c == b'"' {
            i += 1;
            let mut text = String::new();
            loop {
                let Some(ch) = src[i..].chars().next() else {
                    return Err(ExprError::new(start..src.len(), "unterminated string")
                        .help("close it with a matching quote"));
                };
                i += ch.len_utf8();
                if ch as u32 == u32::from(c) {
                    // A doubled quote stands for itself.
                    if bytes.get(i) == Some(&c) {
                        text.push(ch);
                        i += 1;
                        continue;
                    }
                    break;
                }
                text.push(ch);
            }
            toks.push((Tok::Str(text), start..i));
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let sym = match two {
            "==" | "!=" | "<=" | ">=" => Some(two),
            _ => None,
        };
        let sym: &'static str = match sym.or_else(|| src.get(i..i + 1)) {
            Some("==") => "==",
            Some("!=") => "!=",
            Some("<=") => "<=",
            Some(">=") => ">=",
            Some("<") => "<",
            Some(">") => ">",
            Some("+") => "+",
            Some("-") => "-",
            Some("*") => "*",
            Some("/") => "/",
            Some("%") => "%",
            Some("(") => "(",
            Some(")") => ")",
            Some(",") => ",",
            Some(".") => ".",
            Some("=") => {
                return Err(
                    ExprError::new(i..i + 1, "`=` is not an operator").help("compare with `==`")
                );
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or(' ');
                return Err(ExprError::new(
                    i..i + ch.len_utf8(),
                    format!("unexpected character `{ch}`"),
                ));
            }
        };
        i += sym.len();
        toks.push((Tok::Sym(sym), start..i));
    }
    toks.push((Tok::End, src.len()..src.len()));
    Ok(toks)
}
