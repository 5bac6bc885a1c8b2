//! UUIDs: `uuid`, random (version 4) or time-ordered (version 7).

use std::sync::Arc;

use rand::{Rng, RngExt};

use super::temporal::{looks_literal, parse_timestamp};
use super::{Compile, Def, Family, Params, RowKey, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::expr::{eval, Expr, Ty, Val};
use crate::rng::{row_rng, RowRng};
use crate::value::{SqlType, Value};

/// The UUID generator.
pub const FAMILY: Family = Family {
    name: "uuid",
    generators: &[Def {
        name: "uuid",
        keys: &["version", "min", "max", "at"],
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
            let at = match p.string("at") {
                Some((src, span)) if looks_literal(src) => {
                    p.problem(
                        span,
                        "`at` is an expression of earlier columns, not a fixed time",
                        Some("name a column, e.g. `at = \"started_at\"`; for times in a range use `min` and `max`"),
                    );
                    None
                }
                Some((src, span)) => Some(p.expr("at", src, span, &[Ty::Timestamp, Ty::Date])),
                None => None,
            };
            if at.is_some() {
                for key in ["min", "max"] {
                    if let Some(v) = p.get(key) {
                        let span = v.span();
                        p.problem(
                            span,
                            format!("`{key}` and `at` both set the time"),
                            Some("keep `at` (the time of an earlier column) or `min` and `max` (a range)"),
                        );
                    }
                }
            }
            Some(Arc::new(UuidV7 { min, max, at }))
        }
        Some((v, s)) if v != 4 => {
            p.problem(
                s,
                format!("unknown uuid version {v}"),
                Some("use `version = 4` (random) or `version = 7` (time-ordered)"),
            );
            None
        }
        _ => {
            for key in ["min", "max", "at"] {
                if let Some(v) = p.get(key) {
                    let span = v.span();
                    p.problem(
                        span,
                        format!("`{key}` is for time-ordered UUIDs"),
                        Some(&format!("add `version = 7`, or remove `{key}`")),
                    );
                }
            }
            Some(Arc::new(UuidV4 { key: 0 }))
        }
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

/// Time-ordered UUIDs (version 7) with a timestamp in `[min, max]` (ms),
/// or the moment of expression `at` (a column of the row: `at =
/// "started_at"`): NULL where it is NULL, and a moment a UUID cannot hold
/// (before 1970, after the year 10889) stops the run.
#[derive(Debug, Clone, Copy)]
struct UuidV7 {
    min: i64,
    max: i64,
    /// The position of `at` in the generator's expressions.
    at: Option<usize>,
}

impl Spec for UuidV7 {
    fn sql_type(&self) -> SqlType {
        SqlType::Uuid
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Always
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(UuidV7Sample {
            min: self.min,
            max: self.max,
            at: self.at.map(|i| cx.exprs[i].clone()),
        })
    }
}

#[derive(Debug)]
struct UuidV7Sample {
    min: i64,
    max: i64,
    at: Option<Expr>,
}

/// The last millisecond a version 7 UUID holds (48 bits).
const V7_LAST: i64 = (1 << 48) - 1;

impl Sample for UuidV7Sample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let at = match &self.at {
            Some(e) => match eval(e, ctx) {
                Val::Ts(t) => Some(t.div_euclid(1_000)),
                Val::Date(d) => Some(i64::from(d) * 86_400_000),
                _ => return Value::Null,
            },
            None => None,
        };
        if at.is_some_and(|ms| !(0..=V7_LAST).contains(&ms)) {
            ctx.fail("a version 7 UUID holds moments from 1970 to the year 10889 only");
            return Value::Null;
        }
        let mut rng = ctx.rng(key);
        let drawn = rng.random_range(self.min..=self.max);
        let ms = at.unwrap_or(drawn) as u64;
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        bytes[6] = (bytes[6] & 0x0f) | 0x70;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Value::Uuid(bytes)
    }
}
