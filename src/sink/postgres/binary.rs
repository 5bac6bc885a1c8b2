//! PostgreSQL's binary COPY format, encoded straight from generated values
//! into a reused buffer.
//!
//! A COPY stream is a header, one tuple per row (a field count, then each
//! field as a 32-bit length, -1 for NULL, and the type's binary send
//! format) and a trailer. The column types are read back from the server
//! after the tables exist, so a column whose `type` the Genfile overrides,
//! or an existing table under `if_exists = "append"`, is encoded in the
//! type it really has.

use crate::format::text;
use crate::value::{Block, Encoded, SqlType, Value};

/// Signature, flags and header extension length of a binary COPY stream.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of a binary COPY stream.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A PostgreSQL column type datagen can write in binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    /// `boolean`.
    Bool,
    /// `smallint`.
    Int2,
    /// `integer`.
    Int4,
    /// `bigint`.
    Int8,
    /// `real`.
    Float4,
    /// `double precision`.
    Float8,
    /// `numeric`.
    Numeric,
    /// `text`, `varchar`, `char`, `name`.
    Text,
    /// `uuid`.
    Uuid,
    /// `date`.
    Date,
    /// `timestamp` and `timestamptz`.
    Timestamp,
    /// `json`.
    Json,
    /// `jsonb`.
    Jsonb,
}

impl PgType {
    /// The type datagen creates for `ty` (see `ddl::type_name`).
    pub fn of(ty: SqlType) -> PgType {
        match ty {
            SqlType::Integer => PgType::Int4,
            SqlType::BigInt => PgType::Int8,
            SqlType::Double => PgType::Float8,
            SqlType::Decimal { .. } => PgType::Numeric,
            SqlType::Boolean => PgType::Bool,
            SqlType::Text => PgType::Text,
            SqlType::Uuid => PgType::Uuid,
            SqlType::Json => PgType::Jsonb,
            SqlType::Date => PgType::Date,
            SqlType::Timestamp => PgType::Timestamp,
        }
    }

    /// The type of a column by its type OID, if datagen writes it.
    pub fn from_oid(oid: u32) -> Option<PgType> {
        Some(match oid {
            16 => PgType::Bool,
            21 => PgType::Int2,
            23 => PgType::Int4,
            20 => PgType::Int8,
            700 => PgType::Float4,
            701 => PgType::Float8,
            1700 => PgType::Numeric,
            25 | 1043 | 1042 | 19 => PgType::Text,
            2950 => PgType::Uuid,
            1082 => PgType::Date,
            1114 | 1184 => PgType::Timestamp,
            114 => PgType::Json,
            3802 => PgType::Jsonb,
            _ => return None,
        })
    }

    /// Whether values of a column of `generated` type can be written into
    /// a column of this type. Any value can go into text, as its canonical
    /// text.
    pub fn accepts(self, generated: SqlType) -> bool {
        use PgType as P;
        use SqlType as S;
        matches!(
            (generated, self),
            (_, P::Text)
                | (
                    S::Integer | S::BigInt,
                    P::Int2 | P::Int4 | P::Int8 | P::Float8 | P::Numeric
                )
                | (S::Double, P::Float4 | P::Float8)
                | (S::Decimal { .. }, P::Numeric | P::Float8)
                | (S::Boolean, P::Bool)
                | (S::Uuid, P::Uuid)
                | (S::Date, P::Date | P::Timestamp)
                | (S::Timestamp, P::Timestamp)
                | (S::Json, P::Json | P::Jsonb)
        )
    }
}

/// A value that cannot be written into its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("value {value} does not fit a column of type {ty:?}")]
pub struct EncodeError {
    /// The column's index.
    pub column: usize,
    /// The value, as text.
    pub value: String,
    /// The column's type.
    pub ty: PgType,
}

/// Encodes rows of one table into a binary COPY stream.
#[derive(Debug, Clone)]
pub struct CopyEncoder {
    types: Vec<PgType>,
    scales: Vec<u8>,
}

impl CopyEncoder {
    /// An encoder for columns of `types`, with decimal `scales`.
    pub fn new(types: Vec<PgType>, scales: Vec<u8>) -> Self {
        CopyEncoder { types, scales }
    }

    /// Encodes every row of `block` as a tuple into `out`, which must be
    /// empty (its capacity is reused).
    pub fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), EncodeError> {
        out.bytes.clear();
        out.ends.clear();
        out.ends.reserve(block.len());
        let fields = (block.width as i16).to_be_bytes();
        let mut scratch = String::new();
        for row in block.rows() {
            out.bytes.extend_from_slice(&fields);
            for (i, &v) in row.iter().enumerate() {
                self.field(&mut out.bytes, v, block, i, &mut scratch)?;
            }
            out.end_row();
        }
        Ok(())
    }

    fn field(
        &self,
        out: &mut Vec<u8>,
        v: Value,
        block: &Block,
        i: usize,
        scratch: &mut String,
    ) -> Result<(), EncodeError> {
        let ty = self.types[i];
        let fixed = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        match (v, ty) {
            (Value::Null, _) => out.extend_from_slice(&(-1i32).to_be_bytes()),
            (Value::Int(n), PgType::Int8) => fixed(out, &n.to_be_bytes()),
            (Value::Int(n), PgType::Int4) => match i32::try_from(n) {
                Ok(n) => fixed(out, &n.to_be_bytes()),
                Err(_) => return Err(self.error(v, block, i)),
            },
            (Value::Int(n), PgType::Int2) => match i16::try_from(n) {
                Ok(n) => fixed(out, &n.to_be_bytes()),
                Err(_) => return Err(self.error(v, block, i)),
            },
            (Value::Int(n), PgType::Float8) => fixed(out, &(n as f64).to_be_bytes()),
            (Value::Int(n), PgType::Numeric) => numeric(out, n, 0),
            (Value::Float(x), PgType::Float8) => fixed(out, &x.to_be_bytes()),
            (Value::Float(x), PgType::Float4) => fixed(out, &(x as f32).to_be_bytes()),
            (Value::Decimal(u), PgType::Numeric) => numeric(out, u, self.scales[i]),
            (Value::Decimal(u), PgType::Float8) => {
                fixed(out, &text::decimal_to_f64(u, self.scales[i]).to_be_bytes())
            }
            (Value::Bool(b), PgType::Bool) => fixed(out, &[u8::from(b)]),
            (Value::Text(s, e), PgType::Text | PgType::Json) => {
                fixed(out, block.str(s, e).as_bytes())
            }
            (Value::Text(s, e), PgType::Jsonb) => {
                let json = block.str(s, e).as_bytes();
                out.extend_from_slice(&(json.len() as i32 + 1).to_be_bytes());
                out.push(1);
                out.extend_from_slice(json);
            }
            (Value::Uuid(bytes), PgType::Uuid) => fixed(out, &bytes),
            (Value::Date(days), PgType::Date) => fixed(out, &(days - PG_EPOCH_DAYS).to_be_bytes()),
            (Value::Date(days), PgType::Timestamp) => fixed(
                out,
                &(i64::from(days) * 86_400_000_000 - PG_EPOCH_MICROS).to_be_bytes(),
            ),
            (Value::Timestamp(t), PgType::Timestamp) => {
                fixed(out, &(t - PG_EPOCH_MICROS).to_be_bytes())
            }
            (v, PgType::Text) => {
                scratch.clear();
                text::value(scratch, v, block, self.scales[i]);
                fixed(out, scratch.as_bytes());
            }
            _ => return Err(self.error(v, block, i)),
        }
        Ok(())
    }

    fn error(&self, v: Value, block: &Block, i: usize) -> EncodeError {
        let mut value = String::new();
        text::value(&mut value, v, block, self.scales[i]);
        EncodeError {
            column: i,
            value,
            ty: self.types[i],
        }
    }
}

/// Appends `units × 10^-scale` in `numeric`'s binary form: base-10000
/// digits, most significant first, with the weight of the first digit.
pub fn numeric(out: &mut Vec<u8>, units: i64, scale: u8) {
    let negative = units < 0;
    let pad = (4 - u32::from(scale) % 4) % 4;
    let mut magnitude = u128::from(units.unsigned_abs()) * 10u128.pow(pad);
    let frac_groups = (u32::from(scale) + pad) / 4;
    // Little-endian base-10000 digits, on the stack: |i64| < 10^19 and at
    // most 3 digits of padding make at most 6 groups (scale ≤ 9 adds none
    // beyond them since the value is an integer count of units).
    let mut buf = [0u16; 8];
    let mut n = 0;
    while magnitude > 0 {
        buf[n] = (magnitude % 10_000) as u16;
        magnitude /= 10_000;
        n += 1;
    }
    n = n.max(frac_groups as usize);
    let mut weight = n as i16 - frac_groups as i16 - 1;
    while n > 0 && buf[n - 1] == 0 {
        n -= 1;
        weight -= 1;
    }
    let low_zeros = buf[..n].iter().take_while(|&&d| d == 0).count();
    let digits = &buf[low_zeros..n];
    if digits.is_empty() {
        weight = 0;
    }
    let len = 8 + 2 * digits.len();
    out.extend_from_slice(&(len as i32).to_be_bytes());
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    let sign: u16 = if negative && !digits.is_empty() {
        0x4000
    } else {
        0
    };
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&i16::from(scale).to_be_bytes());
    for d in digits.iter().rev() {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `numeric`'s binary form back to text, the way the server
    /// prints it: all `dscale` fraction digits.
    fn decode(bytes: &[u8]) -> String {
        let word = |i: usize| i16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let len = i32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert_eq!(len, bytes.len() - 4);
        let (n, weight, sign, dscale) = (word(4), word(6), word(8) as u16, word(10));
        let digits: Vec<i16> = (0..n as usize).map(|k| word(12 + 2 * k)).collect();
        let mut int = String::new();
        for w in 0..=weight.max(0) {
            let d = if w <= weight {
                digits.get(w as usize).copied().unwrap_or(0)
            } else {
                0
            };
            if int.is_empty() {
                if w <= weight && d != 0 {
                    int = d.to_string();
                }
            } else {
                int.push_str(&format!("{d:04}"));
            }
        }
        if int.is_empty() {
            int.push('0');
        }
        let mut frac = String::new();
        let mut pos = weight + 1;
        while (frac.len() as i16) < dscale {
            let d = if pos < 0 {
                0
            } else {
                digits.get(pos as usize).copied().unwrap_or(0)
            };
            frac.push_str(&format!("{d:04}"));
            pos += 1;
        }
        frac.truncate(dscale as usize);
        let sign = if sign == 0x4000 { "-" } else { "" };
        if dscale > 0 {
            format!("{sign}{int}.{frac}")
        } else {
            format!("{sign}{int}")
        }
    }

    fn roundtrip(units: i64, scale: u8) -> String {
        let mut out = Vec::new();
        numeric(&mut out, units, scale);
        decode(&out)
    }

    #[test]
    fn numeric_known_encodings() {
        let mut out = Vec::new();
        numeric(&mut out, 1999, 2);
        // 19.99: digits [19, 9900], weight 0, dscale 2.
        assert_eq!(
            out,
            [0, 0, 0, 12, 0, 2, 0, 0, 0, 0, 0, 2, 0, 19, 0x26, 0xac]
        );
        out.clear();
        numeric(&mut out, 0, 2);
        assert_eq!(out, [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2]);
    }

    #[test]
    fn numeric_matches_decimal_text() {
        let cases: &[(i64, u8)] = &[
            (1999, 2),
            (5, 2),
            (-5, 2),
            (5, 5),
            (100_000_000, 0),
            (123_456_789_012, 4),
            (-1, 9),
            (i64::MAX, 3),
            (i64::MIN + 1, 0),
            (10_000, 4),
            (70_000, 1),
        ];
        for &(units, scale) in cases {
            let mut expected = String::new();
            text::decimal(&mut expected, units, scale);
            assert_eq!(roundtrip(units, scale), expected, "{units} scale {scale}");
        }
    }

    proptest::proptest! {
        #[test]
        fn numeric_roundtrips(units in proptest::num::i64::ANY, scale in 0u8..=9) {
            let units = units.max(i64::MIN + 1);
            let mut expected = String::new();
            text::decimal(&mut expected, units, scale);
            proptest::prop_assert_eq!(roundtrip(units, scale), expected);
        }
    }
}
