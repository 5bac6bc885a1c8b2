//! UUIDs: `uuid`, random (version 4) or time-ordered (version 7).

use std::sync::Arc;

use rand::{Rng, RngExt};

use super::temporal::parse_timestamp;
use super::{Compile, Def, Family, Params, RowKey, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::rng::{row_rng, RowRng};
use crate::value::{SqlType, Value};

/// The UUID generator.
pub const FAMILY: Family = Family {
    name: "uuid",
    generators: &[Def {
        name: "uuid",
        keys: &["version", "min", "max"],
        unique: Some("`uuid`"),
        parse: uuid,
    }],
};

/// First and last millisecond of a version 7 UUID when not given: 2024
/// and 2025.
const V7_MIN: i64 = 1_704_067_200_000;
const V7_MAX: i64 = 1_767_225_600_000;

fn uuid(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    match p.int("version") {
        Some((7, _)) => {
            let bound = |p: &mut Params<'_, '_>, key: &str, default: i64| -> i64 {
                match p.get(key) {
                    Some(v) => match parse_timestamp(v.get_ref()) {
                        Some(secs) => secs * 1000,
                        None => {
                            p.problem(
                                v.span(),
                                format!("`{key}` is not a valid timestamp"),
                                Some("write it like 2024-01-01T00:00:00Z"),
                            );
                            default
                        }
                    },
                    None => default,
                }
            };
            let min = bound(p, "min", V7_MIN);
            let max = bound(p, "max", V7_MAX);
            if min > max {
                let span = p.span();
                p.range_error(span, &"min", &"max");
            }
            Some(Arc::new(UuidV7 { min, max }))
        }
        Some((v, s)) if v != 4 => {
            p.problem(
                s,
                format!("unknown uuid version {v}"),
                Some("use `version = 4` (random) or `version = 7` (time-ordered)"),
            );
            None
        }
        _ => Some(Arc::new(UuidV4 { key: 0 })),
    }
}

/// The bytes of a random (version 4) UUID.
fn uuid_v4(rng: &mut RowRng) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

/// Random UUIDs (version 4). As a [`RowKey`], `key` is the column's values
/// stream.
#[derive(Debug, Clone, Copy)]
struct UuidV4 {
    key: u64,
}

impl Spec for UuidV4 {
    fn sql_type(&self) -> SqlType {
        SqlType::Uuid
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Always
    }

    fn row_key(&self, values: u64) -> Option<Box<dyn RowKey>> {
        Some(Box::new(UuidV4 { key: values }))
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for UuidV4 {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        Value::Uuid(uuid_v4(&mut ctx.rng(key)))
    }
}

impl RowKey for UuidV4 {
    fn at(&self, row: u64) -> Value {
        Value::Uuid(uuid_v4(&mut row_rng(self.key, row)))
    }
}

/// Time-ordered UUIDs (version 7) with a timestamp in `[min, max]` (ms).
#[derive(Debug, Clone, Copy)]
struct UuidV7 {
    min: i64,
    max: i64,
}

impl Spec for UuidV7 {
    fn sql_type(&self) -> SqlType {
        SqlType::Uuid
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Always
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for UuidV7 {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        let ms = rng.random_range(self.min..=self.max) as u64;
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        bytes[6] = (bytes[6] & 0x0f) | 0x70;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Value::Uuid(bytes)
    }
}
