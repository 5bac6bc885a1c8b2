//! Located diagnostics: `file:line:col: message`, with a hint on how to fix it.
//!
//! * [`keys`]: reading the keys of a spanned TOML table with typed getters
//!   that report wrong types where they are, and every key nobody asked for.

pub mod keys;

use std::fmt;
use std::ops::Range;

/// One problem in a Genfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the Genfile, when the problem has a place.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            span: Some(span),
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

/// Every problem found in one Genfile, printable with locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// The Genfile's path as the user gave it.
    pub file: String,
    /// Its text, for turning byte offsets into lines and columns.
    pub source: String,
    /// The problems, in the order they appear in the file.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let before = &self.source[..floor_char_boundary(&self.source, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match &d.span {
                Some(span) => {
                    let (line, col) = self.line_col(span.start);
                    write!(f, "{}:{line}:{col}: error: {}", self.file, d.message)?;
                }
                None => write!(f, "{}: error: {}", self.file, d.message)?,
            }
            if let Some(help) = &d.help {
                write!(f, "\n  help: {help}")?;
            }
        }
        Ok(())
    }
}

/// The candidate closest to `word`, if any is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let d = Diagnostics {
            file: "g.toml".into(),
            source: "a = 1\nçb = 2\n".into(),
            items: vec![Diagnostic::new(9..10, "bad").help("fix it")],
        };
        assert_eq!(d.line_col(0), (1, 1));
        assert_eq!(d.line_col(6), (2, 1));
        assert_eq!(d.to_string(), "g.toml:2:3: error: bad\n  help: fix it");
    }

    #[test]
    fn nearest_suggests_only_close_names() {
        assert_eq!(nearest("sequnce", ["sequence", "int"]), Some("sequence"));
        assert_eq!(nearest("zzz", ["sequence", "int"]), None);
    }
}
