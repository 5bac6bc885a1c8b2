//! The rows in flight: generated values, their logical types, and the
//! blocks of rows that carry them from the generator threads to a sink.
//!
//! A [`Block`] holds consecutive rows of one table, row-major, in a flat
//! `Vec<Value>`; text lives in one arena string per block, so generating a
//! row allocates nothing once the block's vectors have grown. Once a
//! generator thread has encoded a block for its target, the block carries
//! the bytes instead ([`Encoded`]). This is the bottom of datagen: it
//! depends on nothing else in the crate.

use datagen_actors::Rows;

/// The logical type of a column, mapped to each target's own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// Double precision.
    Double,
    /// `numeric(precision, scale)`.
    Decimal {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: u8,
    },
    /// Boolean.
    Boolean,
    /// Text.
    Text,
    /// UUID.
    Uuid,
    /// Calendar date.
    Date,
    /// Timestamp with time zone.
    Timestamp,
    /// A JSON document.
    Json,
}

impl SqlType {
    /// Digits after the point of a decimal; 0 for every other type.
    pub fn scale(self) -> u8 {
        match self {
            SqlType::Decimal { scale, .. } => scale,
            _ => 0,
        }
    }
}

/// One generated value. Text is a range of the owning block's arena.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Any integer column.
    Int(i64),
    /// A double.
    Float(f64),
    /// A decimal as an integer count of `10^-scale` units (the scale is the column's).
    Decimal(i64),
    /// A boolean.
    Bool(bool),
    /// Text: `start..end` in [`Block::text`].
    Text(u32, u32),
    /// A UUID, big-endian bytes.
    Uuid([u8; 16]),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01T00:00:00Z.
    Timestamp(i64),
}

/// Consecutive rows of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Index of the table in the schema.
    pub table: usize,
    /// Row index (0-based, within the table) of the first row.
    pub first_row: u64,
    /// Position of the first row in the run's row stream: all rows of all
    /// tables, in the order the run emits them. It names rows across
    /// tables, which is what a target's checkpoint records.
    pub stream: u64,
    /// Values per row.
    pub width: usize,
    /// `rows × width` values, row-major.
    pub values: Vec<Value>,
    /// Arena for [`Value::Text`].
    pub text: String,
    /// The rows as the target will write them, once encoded; `values` and
    /// `text` are then given back for reuse.
    pub encoded: Option<Encoded>,
    /// The rows belong to a unit a stream's end cut short: the positions
    /// after them in the unit are not written (a stream that goes on
    /// writes them), so a target records their ranges exactly.
    pub cut: bool,
}

/// Rows already encoded for a target: each row's bytes, back to back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    /// Every row's bytes (empty once frozen).
    pub bytes: Vec<u8>,
    /// Where each row ends in the bytes.
    pub ends: Vec<u32>,
    /// The bytes, once handed to a sink that keeps them while the block
    /// is kept too ([`Encoded::freeze`]): shared, not copied.
    pub frozen: Option<bytes::Bytes>,
}

impl Encoded {
    /// The bytes, shared: a sink that sends them on while the Target keeps
    /// the block (until its rows are committed) holds one copy, not two.
    pub fn freeze(&mut self) -> bytes::Bytes {
        self.frozen
            .get_or_insert_with(|| bytes::Bytes::from(std::mem::take(&mut self.bytes)))
            .clone()
    }

    /// Every row's bytes.
    pub fn data(&self) -> &[u8] {
        self.frozen.as_deref().unwrap_or(&self.bytes)
    }

    /// Marks the end of a row at the current length.
    pub fn end_row(&mut self) {
        self.ends.push(self.bytes.len() as u32);
    }

    /// The bytes of row `i`.
    pub fn row(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data()[start..self.ends[i] as usize]
    }

    /// Removes the first `at` rows and returns them.
    fn split_to(&mut self, at: usize) -> Encoded {
        let cut = self.ends[at - 1];
        let (bytes, frozen) = match &mut self.frozen {
            Some(f) => (Vec::new(), Some(f.split_to(cut as usize))),
            None => {
                let tail = self.bytes.split_off(cut as usize);
                (std::mem::replace(&mut self.bytes, tail), None)
            }
        };
        let mut ends = std::mem::take(&mut self.ends);
        self.ends = ends.split_off(at);
        for end in &mut self.ends {
            *end -= cut;
        }
        Encoded {
            bytes,
            ends,
            frozen,
        }
    }
}

impl Block {
    /// An empty block for `table` starting at row `first_row`.
    pub fn new(table: usize, first_row: u64, width: usize) -> Self {
        Block {
            table,
            first_row,
            stream: 0,
            width,
            values: Vec::new(),
            text: String::new(),
            encoded: None,
            cut: false,
        }
    }

    /// Rows in the block.
    pub fn len(&self) -> usize {
        match &self.encoded {
            Some(encoded) => encoded.ends.len(),
            None => self.values.len().checked_div(self.width).unwrap_or(0),
        }
    }

    /// True when the block has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of row `i` (0-based within the block).
    pub fn row(&self, i: usize) -> &[Value] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    /// Iterates over the rows.
    pub fn rows(&self) -> impl Iterator<Item = &[Value]> {
        self.values.chunks_exact(self.width.max(1))
    }

    /// The text behind a [`Value::Text`].
    pub fn str(&self, start: u32, end: u32) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// Appends `s` to the arena and returns its value.
    pub fn push_text(&mut self, s: &str) -> Value {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Value::Text(start, self.text.len() as u32)
    }

    /// Starts a text value written piecewise with [`Block::text`]; finish it
    /// with [`Block::end_text`].
    pub fn begin_text(&self) -> u32 {
        self.text.len() as u32
    }

    /// The value of text written since `start`.
    pub fn end_text(&self, start: u32) -> Value {
        Value::Text(start, self.text.len() as u32)
    }
}

impl Rows for Block {
    fn row_count(&self) -> usize {
        self.len()
    }

    fn position(&self) -> Option<u64> {
        Some(self.stream)
    }

    fn split_to(&mut self, at: usize) -> Block {
        if let Some(encoded) = &mut self.encoded {
            let mut head = Block::new(self.table, self.first_row, self.width);
            head.stream = self.stream;
            head.cut = self.cut;
            head.encoded = Some(encoded.split_to(at));
            self.first_row += at as u64;
            self.stream += at as u64;
            return head;
        }
        let cut = at * self.width;
        let tail = self.values.split_off(cut);
        let head_values = std::mem::replace(&mut self.values, tail);
        // Text is appended in value order, so the head's text is a prefix.
        let boundary = self
            .values
            .iter()
            .find_map(|v| match v {
                Value::Text(start, _) => Some(*start),
                _ => None,
            })
            .unwrap_or(self.text.len() as u32);
        let head_text = self.text[..boundary as usize].to_owned();
        self.text.drain(..boundary as usize);
        for v in &mut self.values {
            if let Value::Text(start, end) = v {
                *start -= boundary;
                *end -= boundary;
            }
        }
        let head = Block {
            table: self.table,
            first_row: self.first_row,
            stream: self.stream,
            width: self.width,
            values: head_values,
            text: head_text,
            encoded: None,
            cut: self.cut,
        };
        self.first_row += at as u64;
        self.stream += at as u64;
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Block {
        let mut b = Block::new(0, 10, 2);
        for (i, word) in ["alpha", "beta", "gamma", "delta"].iter().enumerate() {
            b.values.push(Value::Int(i as i64));
            let v = b.push_text(word);
            b.values.push(v);
        }
        b
    }

    fn texts(b: &Block) -> Vec<&str> {
        b.values
            .iter()
            .filter_map(|v| match *v {
                Value::Text(s, e) => Some(b.str(s, e)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn split_keeps_rows_text_and_row_numbers() {
        let mut tail = block();
        tail.stream = 100;
        let head = tail.split_to(3);
        assert_eq!((head.first_row, head.stream, head.len()), (10, 100, 3));
        assert_eq!((tail.first_row, tail.stream, tail.len()), (13, 103, 1));
        assert_eq!(texts(&head), ["alpha", "beta", "gamma"]);
        assert_eq!(texts(&tail), ["delta"]);
        assert_eq!(tail.text, "delta");
    }

    #[test]
    fn frozen_rows_are_shared_and_split_alike() {
        let mut encoded = Encoded::default();
        for row in ["a,1\n", "bb,2\n", "ccc,3\n"] {
            encoded.bytes.extend_from_slice(row.as_bytes());
            encoded.end_row();
        }
        let shared = encoded.freeze();
        assert_eq!(&shared[..], b"a,1\nbb,2\nccc,3\n");
        assert!(encoded.bytes.is_empty(), "not copied");
        assert_eq!(encoded.freeze(), shared, "frozen once");
        let head = encoded.split_to(2);
        assert_eq!(head.data(), b"a,1\nbb,2\n");
        assert_eq!(head.row(1), b"bb,2\n");
        assert_eq!(encoded.data(), b"ccc,3\n");
        assert_eq!(encoded.row(0), b"ccc,3\n");
    }

    #[test]
    fn split_encoded_rows() {
        let mut tail = Block::new(2, 7, 3);
        tail.stream = 50;
        let mut encoded = Encoded::default();
        for row in ["a,1\n", "bb,2\n", "ccc,3\n"] {
            encoded.bytes.extend_from_slice(row.as_bytes());
            encoded.end_row();
        }
        tail.encoded = Some(encoded);
        let head = tail.split_to(2);
        assert_eq!((head.first_row, head.stream, head.len()), (7, 50, 2));
        assert_eq!((tail.first_row, tail.stream, tail.len()), (9, 52, 1));
        let head = head.encoded.expect("still encoded");
        assert_eq!(head.bytes, b"a,1\nbb,2\n");
        assert_eq!(head.row(1), b"bb,2\n");
        let tail = tail.encoded.expect("still encoded");
        assert_eq!(
            (tail.row(0), tail.ends.as_slice()),
            (&b"ccc,3\n"[..], &[6][..])
        );
    }

    #[test]
    fn split_without_text_after_the_cut() {
        let mut b = Block::new(1, 0, 1);
        let v = b.push_text("x");
        b.values.push(v);
        b.values.push(Value::Null);
        let head = b.split_to(1);
        assert_eq!(texts(&head), ["x"]);
        assert!(b.text.is_empty());
        assert_eq!(b.values, [Value::Null]);
    }
}
