//! The `text` format: a line per row from a template such as
//! `{consumer_id} {kwh}`. Braces name columns; `{{` and `}}` are literal
//! braces. Values are written in their canonical text (the text CSV
//! holds), NULL as nothing; a line break ends every row.

use datagen_actors::BoxError;

use crate::format::text;
use crate::schema::Schema;
use crate::sink::BlockEncoder;
use crate::value::{Block, Encoded};

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Column(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`, or says what is wrong with it.
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => {
                                return Err(format!(
                                    "the template `{source}` opens `{{` without closing it (write `{{{{` for a brace)"
                                ))
                            }
                        }
                    }
                    let name = name.trim().to_owned();
                    if name.is_empty() {
                        return Err(format!("the template `{source}` has an empty `{{}}`: name a column in it"));
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Column(name));
                }
                '}' => {
                    return Err(format!(
                        "the template `{source}` has a `}}` that closes nothing (write `}}}}` for a brace)"
                    ))
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Column(_))) {
            return Err(format!(
                "the template `{source}` names no column: write columns in braces, e.g. `{{consumer_id}} {{kwh}}`"
            ));
        }
        Ok(Template { pieces })
    }

    /// The columns it names, in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Column(c) => Some(c.as_str()),
            Piece::Text(_) => None,
        })
    }
}

/// A template compiled for one table: literal text and column indices.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Column(usize, u8),
}

/// Encodes rows of every table through a template; a table without one of
/// its columns gets no template (`None`): the target's check refuses to
/// emit it.
#[derive(Debug, Clone)]
pub struct TemplateEncoder {
    tables: Vec<Option<Vec<Part>>>,
}

impl TemplateEncoder {
    /// The template `source` for each table of `schema`.
    pub fn new(schema: &Schema, source: &str) -> Result<TemplateEncoder, String> {
        let template = Template::parse(source)?;
        let tables = schema
            .tables
            .iter()
            .map(|table| {
                template
                    .pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => Some(Part::Text(t.clone())),
                        Piece::Column(name) => {
                            let c = table.columns.iter().position(|c| &c.name == name)?;
                            Some(Part::Column(c, table.columns[c].sql_type.scale()))
                        }
                    })
                    .collect::<Option<Vec<Part>>>()
            })
            .collect();
        Ok(TemplateEncoder { tables })
    }
}

impl BlockEncoder for TemplateEncoder {
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError> {
        let parts = self.tables[block.table]
            .as_ref()
            .ok_or("the template names a column this table does not have")?;
        let mut bytes = std::mem::take(&mut out.bytes);
        bytes.clear();
        out.ends.clear();
        let mut line = String::from_utf8(bytes).unwrap_or_default();
        for row in block.rows() {
            for part in parts {
                match part {
                    Part::Text(t) => line.push_str(t),
                    Part::Column(c, scale) => text::value(&mut line, row[*c], block, *scale),
                }
            }
            line.push('\n');
            out.ends.push(line.len() as u32);
        }
        out.bytes = line.into_bytes();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_columns_and_escaped_braces() {
        let t = Template::parse("{consumer_id} {kwh} {{x}}").unwrap();
        assert_eq!(t.columns().collect::<Vec<_>>(), ["consumer_id", "kwh"]);
        assert_eq!(t.pieces.last(), Some(&Piece::Text(" {x}".into())));
        for bad in ["{a", "a}", "{}", "plain"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
