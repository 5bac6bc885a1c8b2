//! Reading tables back, for `datagen verify`: `COPY (SELECT …) TO STDOUT`
//! in text format, streamed and parsed a row at a time, so a table of any
//! size is read in bounded memory. The session is set to UTC, ISO dates
//! and shortest exact doubles, so values come out in one spelling.

use futures::StreamExt;
use tokio_postgres::Client;

use super::connect::{config, connect, PgUrl};
use super::error::{server, PgError};
use super::prepare::table_exists;
use crate::sink::ddl::quote;
use crate::sink::read::Fields;
use crate::sink::{Failure, Reader};

/// A connection that reads tables.
pub struct PgReader {
    rt: tokio::runtime::Runtime,
    client: Client,
    namespace: Option<String>,
}

impl PgReader {
    /// Connects to `url`.
    pub fn open(url: &PgUrl) -> Result<PgReader, PgError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config = config(url)?;
        let client = rt.block_on(async {
            let client = connect(&config, url).await?;
            client
                .batch_execute(
                    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; SET default_transaction_read_only = on",
                )
                .await
                .map_err(server("configure the session"))?;
            Ok::<_, PgError>(client)
        })?;
        Ok(PgReader {
            rt,
            client,
            namespace: url.schema.clone(),
        })
    }

    fn qualified(&self, name: &str) -> String {
        match &self.namespace {
            Some(ns) => format!("{}.{}", quote(ns), quote(name)),
            None => quote(name),
        }
    }
}

impl Reader for PgReader {
    fn columns(&mut self, name: &str) -> Result<Option<Vec<String>>, Failure> {
        let name = self.qualified(name);
        let client = &self.client;
        let columns = self.rt.block_on(async {
            if !table_exists(client, &name).await? {
                return Ok(None);
            }
            let rows = client
                .query(
                    "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                    &[&name],
                )
                .await
                .map_err(server(format!("read the columns of {name}")))?;
            Ok::<_, PgError>(Some(rows.iter().map(|r| r.get::<_, String>(0)).collect()))
        })?;
        Ok(columns)
    }

    fn scan(
        &mut self,
        name: &str,
        columns: &[&str],
        row: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<Option<u64>, Failure> {
        let name = self.qualified(name);
        let client = &self.client;
        let read = self.rt.block_on(async {
            if !table_exists(client, &name).await? {
                return Ok(None);
            }
            let columns: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let sql = format!("COPY (SELECT {} FROM {name}) TO STDOUT", columns.join(", "));
            let stream = client
                .copy_out(sql.as_str())
                .await
                .map_err(server(format!("read {name}")))?;
            futures::pin_mut!(stream);
            let mut rows = 0u64;
            let mut line: Vec<u8> = Vec::new();
            let (mut fields, mut bytes) = (Fields::default(), Vec::new());
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(server(format!("read {name}")))?;
                let mut rest = &chunk[..];
                while let Some(end) = rest.iter().position(|&b| b == b'\n') {
                    line.extend_from_slice(&rest[..end]);
                    rest = &rest[end + 1..];
                    split(&line, &mut fields, &mut bytes);
                    row(&fields.values());
                    rows += 1;
                    line.clear();
                }
                line.extend_from_slice(rest);
            }
            Ok::<_, PgError>(Some(rows))
        })?;
        Ok(read)
    }
}

/// Fills `fields` with the fields of a line of COPY's text format,
/// unescaped (`bytes`: reused space).
fn split(line: &[u8], fields: &mut Fields, bytes: &mut Vec<u8>) {
    fields.clear();
    for field in line.split(|&b| b == b'\t') {
        if field == b"\\N" {
            fields.push_null();
            continue;
        }
        bytes.clear();
        unescape(field, bytes);
        // The server sends UTF-8 (the client encoding); anything else is
        // replaced, and then differs from every expected value.
        fields.push_with(|out| out.push_str(&String::from_utf8_lossy(bytes)));
    }
}

/// A field of COPY's text format with its backslash escapes undone.
fn unescape(field: &[u8], bytes: &mut Vec<u8>) {
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        i += 1;
        if b != b'\\' || i == field.len() {
            bytes.push(b);
            continue;
        }
        let e = field[i];
        i += 1;
        match e {
            b'b' => bytes.push(8),
            b'f' => bytes.push(12),
            b'n' => bytes.push(b'\n'),
            b'r' => bytes.push(b'\r'),
            b't' => bytes.push(b'\t'),
            b'v' => bytes.push(11),
            b'0'..=b'7' => {
                let mut n = u32::from(e - b'0');
                for _ in 0..2 {
                    match field.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                bytes.push(n as u8);
            }
            other => bytes.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_lines_unescape() {
        let mut f = Fields::default();
        split(b"1\t\\N\ta\\tb\\\\c\\nd\t\t\\101", &mut f, &mut Vec::new());
        assert_eq!(
            f.values(),
            vec![Some("1"), None, Some("a\tb\\c\nd"), Some(""), Some("A")]
        );
    }
}
