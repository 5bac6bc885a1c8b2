//! JSON documents: `object` (named fields) and `array` (items), each field
//! or item a nested column spec made with `gen`.

use std::sync::Arc;

use rand::RngExt;
use toml::Value as TomlValue;

use super::{Compile, Def, Family, Field, Params, Sample, Spec};
use crate::context::SourceContext;
use crate::format::{json, text};
use crate::rng::Purpose;
use crate::value::{SqlType, Value};

/// The document generators.
pub const FAMILY: Family = Family {
    name: "document",
    generators: &[
        Def {
            name: "object",
            keys: &["fields"],
            unique: None,
            parse: object,
        },
        Def {
            name: "array",
            keys: &["len", "item"],
            unique: None,
            parse: array,
        },
    ],
};

/// A JSON object.
#[derive(Debug, Clone)]
struct Object(Vec<Field>);

fn object(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let fields = p.get("fields");
    let fields = p.require("fields", fields, "{ name = { gen = \"person.name\" } }")?;
    let TomlValue::Table(table) = fields.get_ref() else {
        p.wrong_type("fields", fields, "a table of column specs");
        return None;
    };
    let parsed: Vec<Option<Field>> = table
        .iter()
        .map(|(name, spec)| p.field(name, spec, fields.span()))
        .collect();
    Some(Arc::new(Object(parsed.into_iter().collect::<Option<_>>()?)))
}

impl Spec for Object {
    fn sql_type(&self) -> SqlType {
        SqlType::Json
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(ObjectSample(
            self.0
                .iter()
                .map(|f| FieldSample::new(f, &cx.nested(format!("{}.{}", cx.stream, f.name))))
                .collect(),
        ))
    }
}

/// A JSON array of `min..=max` items.
#[derive(Debug, Clone)]
struct Array {
    min: u32,
    max: u32,
    item: Field,
}

fn array(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = p.len_pair("len", (1, 5));
    let item = p.get("item");
    let item = p.require("item", item, "{ gen = \"int\", min = 1, max = 9 }")?;
    let item = p.field("item", item.get_ref(), item.span())?;
    Some(Arc::new(Array { min, max, item }))
}

impl Spec for Array {
    fn sql_type(&self) -> SqlType {
        SqlType::Json
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(ArraySample {
            min: self.min,
            max: self.max,
            item: FieldSample::new(&self.item, &cx.nested(format!("{}[]", cx.stream))),
        })
    }
}

/// A field (or an array's item), compiled, with streams of its own.
#[derive(Debug)]
struct FieldSample {
    name: String,
    sample: Box<dyn Sample>,
    values: u64,
    nulls: u64,
    null_rate: f64,
    sql: SqlType,
}

impl FieldSample {
    fn new(field: &Field, cx: &Compile<'_>) -> FieldSample {
        FieldSample {
            name: field.name.clone(),
            sample: field.gen.spec.compile(cx),
            values: cx.key(Purpose::Values),
            nulls: cx.key(Purpose::Nulls),
            null_rate: field.null_rate,
            sql: field.gen.spec.sql_type(),
        }
    }

    /// Appends the JSON of this field's value, generated from streams
    /// `values` and `nulls`, to `doc`. Text the field made in the arena is
    /// dropped again.
    fn json(&self, values: u64, nulls: u64, ctx: &mut SourceContext<'_>, doc: &mut String) {
        if self.null_rate > 0.0 && ctx.rng(nulls).random::<f64>() < self.null_rate {
            doc.push_str("null");
            return;
        }
        let mark = ctx.text_start();
        match self.sample.value(values, ctx) {
            Value::Null => doc.push_str("null"),
            Value::Int(i) => doc.push_str(itoa::Buffer::new().format(i)),
            Value::Float(x) => json::number(doc, x),
            Value::Decimal(u) => text::decimal(doc, u, self.sql.scale()),
            Value::Bool(b) => doc.push_str(if b { "true" } else { "false" }),
            Value::Text(s, e) if self.sql == SqlType::Json => doc.push_str(ctx.block().str(s, e)),
            Value::Text(s, e) => json::string(doc, ctx.block().str(s, e)),
            other => {
                // UUIDs, dates and timestamps are JSON strings of their text.
                let mut out = ctx.buffer();
                text::value(&mut out, other, ctx.block(), 0);
                json::string(doc, &out);
                ctx.give_back(out);
            }
        }
        ctx.out().truncate(mark as usize);
    }
}

#[derive(Debug)]
struct ObjectSample(Vec<FieldSample>);

impl Sample for ObjectSample {
    fn value(&self, _key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut doc = ctx.buffer();
        doc.push('{');
        for (i, f) in self.0.iter().enumerate() {
            if i > 0 {
                doc.push(',');
            }
            json::string(&mut doc, &f.name);
            doc.push(':');
            f.json(f.values, f.nulls, ctx, &mut doc);
        }
        doc.push('}');
        let value = ctx.push_text(&doc);
        ctx.give_back(doc);
        value
    }
}

#[derive(Debug)]
struct ArraySample {
    min: u32,
    max: u32,
    item: FieldSample,
}

impl Sample for ArraySample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let n = ctx.rng(key).random_range(self.min..=self.max);
        let mut doc = ctx.buffer();
        doc.push('[');
        for k in 0..u64::from(n) {
            if k > 0 {
                doc.push(',');
            }
            // Each item has its own streams, derived from the item's position.
            let salt = crate::rng::mix64(k + 1);
            let item = &self.item;
            item.json(item.values ^ salt, item.nulls ^ salt, ctx, &mut doc);
        }
        doc.push(']');
        let value = ctx.push_text(&doc);
        ctx.give_back(doc);
        value
    }
}
