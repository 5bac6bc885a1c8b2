//! The internet: `internet.email`, `internet.domain` and `internet.ipv4`.

use std::sync::Arc;

use rand::RngExt;

use super::dicts::{self, email_local_part, truncate, Dictionaries};
use super::unique::Numbering;
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
            unique: Some("`internet.email`"),
            parse: email,
        },
        Def {
            name: "internet.domain",
            keys: &[],
            unique: None,
            parse: domain,
        },
        Def {
            name: "internet.ipv4",
            keys: &["cidr"],
            unique: Some("`internet.ipv4` with `cidr`"),
            parse: ipv4,
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
        ctx.write_text(|out| self.dict.domain(&mut rng, out))
    }
}

/// IPv4 addresses in a network (`cidr = "10.0.0.0/8"`), or anywhere in the
/// public unicast space when no network is given.
#[derive(Debug, Clone, Copy)]
struct Ipv4 {
    /// The network's first address and how many addresses it holds; none
    /// for the public space.
    network: Option<(u32, u64)>,
}

fn ipv4(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let network = match p.string("cidr") {
        None => None,
        Some((text, span)) => match cidr(text) {
            Some(network) => Some(network),
            None => {
                p.problem(
                    span,
                    format!("`cidr` must be an IPv4 network, found `{text}`"),
                    Some("write it as ADDRESS/BITS, e.g. 10.0.0.0/8"),
                );
                return None;
            }
        },
    };
    Some(Arc::new(Ipv4 { network }))
}

/// The first address and the size of an IPv4 network `A.B.C.D/BITS`.
fn cidr(text: &str) -> Option<(u32, u64)> {
    let (address, bits) = text.split_once('/')?;
    let address: std::net::Ipv4Addr = address.trim().parse().ok()?;
    let bits: u32 = bits.trim().parse().ok().filter(|b| *b <= 32)?;
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    Some((u32::from(address) & mask, 1u64 << (32 - bits)))
}

/// Whether `address` is public unicast: not in a private, shared, loopback,
/// link-local, documentation, benchmarking, multicast or reserved block
/// (RFC 6890).
fn public(address: u32) -> bool {
    let [a, b, c, _] = address.to_be_bytes();
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113))
}

impl Spec for Ipv4 {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        15
    }

    fn uniqueness(&self) -> Uniqueness {
        match self.network {
            Some((_, size)) => Uniqueness::Space {
                values: u128::from(size),
                of: "network",
                help: "widen `cidr` or lower the row count",
            },
            None => Uniqueness::Repeats,
        }
    }

    fn unique_hint(&self) -> Option<&'static str> {
        Some("give a `cidr`: the addresses of a network can be made distinct")
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(Ipv4Sample {
            network: self.network,
            unique: cx.unique.then_some(cx.numbering),
        })
    }
}

#[derive(Debug)]
struct Ipv4Sample {
    network: Option<(u32, u64)>,
    /// Distinct addresses: the row's number in the network.
    unique: Option<Numbering>,
}

impl Sample for Ipv4Sample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        let address = match self.network {
            Some((first, size)) if self.unique.is_some() => {
                let numbering = self.unique.unwrap_or_default();
                first.wrapping_add(numbering.index(ctx, size, key) as u32)
            }
            Some((first, size)) => first.wrapping_add(rng.random_range(0..size) as u32),
            // Drawn again from the row's stream until public: about 86% are.
            None => loop {
                let candidate: u32 = rng.random();
                if public(candidate) {
                    break candidate;
                }
            },
        };
        ctx.write_text(|out| {
            for (i, octet) in address.to_be_bytes().iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(itoa::Buffer::new().format(*octet));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_to_their_first_address_and_size() {
        assert_eq!(cidr("10.0.0.0/8"), Some((0x0a00_0000, 1 << 24)));
        assert_eq!(cidr("192.168.7.99/24"), Some((0xc0a8_0700, 256)));
        assert_eq!(cidr("0.0.0.0/0"), Some((0, 1 << 32)));
        assert_eq!(cidr("1.2.3.4/32"), Some((0x0102_0304, 1)));
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0/8", "ten/8", "10.0.0.0/x"] {
            assert_eq!(cidr(bad), None, "{bad}");
        }
    }

    #[test]
    fn public_leaves_out_the_special_blocks() {
        for (address, expected) in [
            ([8, 8, 8, 8], true),
            ([203, 0, 114, 1], true),
            ([10, 1, 2, 3], false),
            ([172, 20, 0, 1], false),
            ([172, 32, 0, 1], true),
            ([192, 168, 0, 1], false),
            ([100, 64, 0, 1], false),
            ([127, 0, 0, 1], false),
            ([169, 254, 1, 1], false),
            ([224, 0, 0, 1], false),
            ([255, 255, 255, 255], false),
            ([198, 51, 100, 7], false),
        ] {
            assert_eq!(public(u32::from_be_bytes(address)), expected, "{address:?}");
        }
    }
}
