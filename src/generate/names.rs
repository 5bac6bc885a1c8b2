//! Built-in dictionaries for the domain generators, per locale.
//!
//! The word lists come from the `fake` crate's locale data; datagen draws
//! from them with its own row streams, so the values stay deterministic.

use fake::locales::{Data, EN, PT_BR};
use rand::RngExt;

use super::rng::RowRng;
use crate::genfile::schema::{Locale, PersonPart};

/// The word lists of one locale.
#[derive(Debug)]
pub struct Dictionaries {
    first_names: &'static [&'static str],
    last_names: &'static [&'static str],
    email_domains: &'static [&'static str],
}

static EN_US: Dictionaries = Dictionaries {
    first_names: <EN as Data>::NAME_FIRST_NAME,
    last_names: <EN as Data>::NAME_LAST_NAME,
    email_domains: &[
        "example.com",
        "example.net",
        "example.org",
        "mail.example.com",
        "shop.example",
    ],
};

static PT_BR_DICT: Dictionaries = Dictionaries {
    first_names: <PT_BR as Data>::NAME_FIRST_NAME,
    last_names: <PT_BR as Data>::NAME_LAST_NAME,
    email_domains: &[
        "exemplo.com.br",
        "exemplo.net.br",
        "exemplo.org.br",
        "mail.exemplo.com.br",
        "example.com",
    ],
};

/// The dictionaries of `locale`.
pub fn dictionaries(locale: Locale) -> &'static Dictionaries {
    match locale {
        Locale::EnUs => &EN_US,
        Locale::PtBr => &PT_BR_DICT,
    }
}

fn pick<'a>(rng: &mut RowRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

impl Dictionaries {
    /// Appends a name (or part of one) to `out`.
    pub fn person(&self, rng: &mut RowRng, part: PersonPart, out: &mut String) {
        match part {
            PersonPart::First => out.push_str(pick(rng, self.first_names)),
            PersonPart::Last => out.push_str(pick(rng, self.last_names)),
            PersonPart::Full => {
                out.push_str(pick(rng, self.first_names));
                out.push(' ');
                out.push_str(pick(rng, self.last_names));
            }
        }
    }

    /// A domain for e-mail addresses. The defaults are reserved example
    /// domains, so generated addresses never reach a real mailbox.
    pub fn email_domain(&self, rng: &mut RowRng) -> &'static str {
        pick(rng, self.email_domains)
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Appends the local part of an address made from a person's name:
/// lower case ASCII, accents folded, words joined by dots, anything else dropped.
pub fn email_local_part(name: &str, out: &mut String) {
    let mut dot = false;
    let start = out.len();
    for c in name.chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' | 'Á' | 'À' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
                Some('a')
            }
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => Some('e'),
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => Some('i'),
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' | 'Ö' => Some('o'),
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => Some('u'),
            'ç' | 'Ç' => Some('c'),
            'ñ' | 'Ñ' => Some('n'),
            ' ' | '-' | '.' | '_' => {
                dot = out.len() > start;
                None
            }
            _ => None,
        };
        if let Some(c) = folded {
            if dot {
                out.push('.');
                dot = false;
            }
            out.push(c);
        }
    }
    if out.len() == start {
        out.push_str("user");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(name: &str) -> String {
        let mut s = String::new();
        email_local_part(name, &mut s);
        s
    }

    #[test]
    fn local_parts_are_plain_ascii() {
        assert_eq!(local("John Smith"), "john.smith");
        assert_eq!(local("João  da Conceição"), "joao.da.conceicao");
        assert_eq!(local("Mary-Ann O'Neil"), "mary.ann.oneil");
        assert_eq!(local("  "), "user");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("ção", 2), "ç");
        assert_eq!(truncate("abc", 8), "abc");
    }

    #[test]
    fn both_locales_have_words() {
        for locale in [Locale::EnUs, Locale::PtBr] {
            let d = dictionaries(locale);
            assert!(d.first_names.len() > 50 && d.last_names.len() > 50);
        }
    }
}
