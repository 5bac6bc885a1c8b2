//! The internet: `internet.email` and `internet.domain`.

use std::sync::Arc;

use rand::RngExt;

use super::dicts::{self, email_local_part, truncate, Dictionaries};
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::value::{SqlType, Value};

/// The internet generators.
pub const FAMILY: Family = Family {
    name: "internet",
    generators: &[
        Def {
            name: "internet.email",
            keys: &["from"],
            parse: email,
        },
        Def {
            name: "internet.domain",
            keys: &[],
            parse: domain,
        },
    ],
};

/// An e-mail address, made from an earlier name column when `from` is
/// given, from a random name of the locale otherwise. Domains are reserved
/// example domains, so no address reaches a real mailbox.
#[derive(Debug, Clone, Copy)]
struct Email {
    dict: &'static Dictionaries,
    /// The name column, once compiled.
    from: Option<usize>,
    /// Every address distinct: the row number goes into the local part.
    unique: bool,
}

fn email(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    p.read_column(
        "from",
        "name a column above this one that holds a person's name",
    );
    Some(Arc::new(Email {
        dict: dicts::dictionaries(p.locale()),
        from: None,
        unique: false,
    }))
}

impl Spec for Email {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        24
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::UniqueOnly
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(Email {
            dict: self.dict,
            from: cx.reads.first().copied(),
            unique: cx.unique,
        })
    }
}

impl Sample for Email {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        // The name is earlier in this same arena: copy it to the stack
        // first, since the arena is about to grow.
        let mut buf = [0u8; 128];
        let mut len = 0;
        if let Some(Value::Text(s, e)) = self.from.map(|f| ctx.value(f)) {
            let name = truncate(ctx.block().str(s, e), buf.len());
            len = name.len();
            buf[..len].copy_from_slice(name.as_bytes());
        }
        let start = ctx.text_start();
        match std::str::from_utf8(&buf[..len]) {
            Ok(name) if self.from.is_some() => email_local_part(name, ctx.out()),
            _ => {
                let mut name = ctx.buffer();
                self.dict.full_name(&mut rng, &mut name);
                email_local_part(&name, ctx.out());
                ctx.give_back(name);
            }
        }
        let row = ctx.row();
        let out = ctx.out();
        if self.unique {
            out.push_str(itoa::Buffer::new().format(row + 1));
        } else if rng.random_bool(0.5) {
            out.push_str(itoa::Buffer::new().format(rng.random_range(1..100u32)));
        }
        out.push('@');
        out.push_str(self.dict.email_domain(&mut rng));
        ctx.text_since(start)
    }
}

/// A web domain: a family name and a suffix of the locale.
#[derive(Debug, Clone, Copy)]
struct Domain {
    dict: &'static Dictionaries,
}

fn domain(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    Some(Arc::new(Domain {
        dict: dicts::dictionaries(p.locale()),
    }))
}

impl Spec for Domain {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for Domain {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        let start = ctx.text_start();
        self.dict.domain(&mut rng, ctx.out());
        ctx.text_since(start)
    }
}
