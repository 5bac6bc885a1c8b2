//! Standard output in a stream (`datagen stream --target stdout://jsonl`):
//! rows in the order they come, every table interleaved, flushed after
//! each batch so that a reader sees them as they leave. JSON Lines say
//! their table on every line; CSV holds one table (the only one the
//! stream emits), after its header.

use std::io::Write;
use std::sync::Arc;

use datagen_actors::{BoxError, Sink};

use super::encode::{FileEncoder, FileFormat, TableEncoder};
use crate::schema::Schema;
use crate::sink::checkpoint::Committed;
use crate::sink::{encoded, BlockEncoder, ErrorKind, Failure, TargetSink};
use crate::value::Block;

/// Writes a stream's rows to standard output.
pub struct StreamOut {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    encoder: Arc<FileEncoder>,
    progress: Arc<crate::progress::Progress>,
    committed: Committed,
}

impl StreamOut {
    /// Standard output in `format` for `schema`'s emitted tables.
    pub fn open(
        format: FileFormat,
        schema: &Schema,
        progress: Arc<crate::progress::Progress>,
    ) -> Result<StreamOut, Failure> {
        let emitted: Vec<usize> = (0..schema.tables.len())
            .filter(|&t| schema.stream.emit[t])
            .collect();
        let mut out: std::io::BufWriter<Box<dyn Write + Send>> =
            std::io::BufWriter::with_capacity(1 << 16, Box::new(std::io::stdout()));
        let encoder = match format {
            FileFormat::Jsonl => FileEncoder::new(schema, format).enveloped(schema),
            FileFormat::Csv if emitted.len() == 1 => {
                let table = &schema.tables[emitted[0]];
                let mut header = String::new();
                TableEncoder::new(table, format).header(&mut header, table);
                out.write_all(header.as_bytes())
                    .map_err(|e| Failure::new(ErrorKind::Permanent, e))?;
                FileEncoder::new(schema, format)
            }
            FileFormat::Csv | FileFormat::Sql(_) => {
                let names: Vec<&str> = emitted
                    .iter()
                    .map(|&t| schema.tables[t].name.as_str())
                    .collect();
                return Err(Failure::new(
                    ErrorKind::Input,
                    format!(
                        "a stream to stdout://{} holds one table, and this one emits {}\n  help: use stdout://jsonl (each line says its table), or leave tables out with `[stream.tables.NAME] emit = false`",
                        format.extension(),
                        names.join(", ")
                    ),
                ));
            }
        };
        Ok(StreamOut {
            out,
            encoder: Arc::new(encoder),
            progress,
            committed: Committed::default(),
        })
    }
}

impl Sink for StreamOut {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        for block in batch.iter_mut() {
            let t = block.table;
            let rows = block.len() as u64;
            let encoded = encoded(&*self.encoder, block)?;
            self.out.write_all(&encoded.bytes)?;
            self.progress.add(t, rows);
        }
        self.out.flush()?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.out.flush()?;
        Ok(())
    }
}

impl TargetSink for StreamOut {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        Some(self.encoder.clone())
    }
}
