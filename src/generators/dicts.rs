//! Locales and word lists: the built-in dictionaries of the domain
//! generators and `dict`, per locale, and the user's `[dictionaries.NAME]`.
//!
//! Most word lists come from the `fake` crate's locale data; where it has
//! none for a locale (Brazilian cities, department and product names,
//! country names in Portuguese) datagen keeps its own. Values are always
//! drawn with datagen's own row streams, so they stay deterministic.

use std::sync::OnceLock;

use fake::locales::{Data, EN, PT_BR};
use rand::RngExt;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;

use super::frequencies::{
    weights, BR_FIRST_NAMES, BR_PEOPLE_2010, COUNTRIES, US_FIRST_NAMES, US_LAST_NAMES,
    US_PEOPLE_2010,
};
use super::places;

use super::phone::Plan;
use crate::rng::RowRng;

pub use super::locale::Locale;

/// A built-in list that `dict = "NAME"` can draw from (in the run's locale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Given names.
    FirstNames,
    /// Family names.
    LastNames,
    /// Cities.
    Cities,
    /// States or provinces.
    States,
    /// State abbreviations.
    StateAbbrs,
    /// Country names.
    Countries,
    /// Store departments.
    Departments,
    /// Filler words.
    Words,
}

/// The names of the built-in dictionaries.
pub const BUILTIN_DICTIONARIES: &[(&str, Builtin)] = &[
    ("first_names", Builtin::FirstNames),
    ("last_names", Builtin::LastNames),
    ("cities", Builtin::Cities),
    ("states", Builtin::States),
    ("state_abbrs", Builtin::StateAbbrs),
    ("countries", Builtin::Countries),
    ("departments", Builtin::Departments),
    ("words", Builtin::Words),
];

/// A user dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct Dictionary {
    /// Its name.
    pub name: String,
    /// The values.
    pub values: Vec<String>,
    /// Relative weights, one per value.
    pub weights: Option<Vec<f64>>,
}

/// The word lists of one locale.
#[derive(Debug)]
pub struct Dictionaries {
    first_names: &'static [&'static str],
    last_names: &'static [&'static str],
    email_domains: &'static [&'static str],
    domain_suffixes: &'static [&'static str],
    street_types: &'static [&'static str],
    /// Street type before the name ("Rua X") or after it ("X Street").
    street_type_first: bool,
    /// The country's telephone numbering plan.
    pub phone_plan: Plan,
    company_suffixes: &'static [&'static str],
    departments: &'static [&'static str],
    product_adjectives: &'static [&'static str],
    product_materials: &'static [&'static str],
    product_nouns: &'static [&'static str],
    /// Adjective after the noun ("Cadeira Ergonômica") or before it.
    adjective_after: bool,
    words: &'static [&'static str],
    /// Which locale these are.
    locale: Locale,
    /// Lists made from the places and frequencies, and default weights,
    /// built on first use.
    lazy: Lazy,
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
    domain_suffixes: <EN as Data>::INTERNET_DOMAIN_SUFFIX,
    street_types: &[
        "Street",
        "Avenue",
        "Road",
        "Lane",
        "Drive",
        "Court",
        "Place",
        "Boulevard",
        "Way",
        "Terrace",
    ],
    street_type_first: false,
    phone_plan: Plan::Nanp,
    company_suffixes: <EN as Data>::COMPANY_SUFFIX,
    departments: &[
        "Books",
        "Movies",
        "Music",
        "Games",
        "Electronics",
        "Computers",
        "Home",
        "Garden",
        "Tools",
        "Grocery",
        "Health",
        "Beauty",
        "Toys",
        "Kids",
        "Baby",
        "Clothing",
        "Shoes",
        "Jewelry",
        "Sports",
        "Outdoors",
        "Automotive",
        "Industrial",
    ],
    product_adjectives: &[
        "Small",
        "Ergonomic",
        "Rustic",
        "Intelligent",
        "Gorgeous",
        "Incredible",
        "Fantastic",
        "Practical",
        "Sleek",
        "Awesome",
        "Generic",
        "Handcrafted",
        "Handmade",
        "Licensed",
        "Refined",
        "Unbranded",
        "Tasty",
    ],
    product_materials: &[
        "Steel", "Wooden", "Concrete", "Plastic", "Cotton", "Granite", "Rubber", "Metal", "Soft",
        "Fresh", "Frozen",
    ],
    product_nouns: &[
        "Chair", "Car", "Computer", "Keyboard", "Mouse", "Bike", "Ball", "Gloves", "Pants",
        "Shirt", "Table", "Shoes", "Hat", "Towels", "Soap", "Tuna", "Chicken", "Fish", "Cheese",
        "Bacon", "Pizza", "Salad", "Sausages", "Chips", "Lamp", "Backpack", "Watch", "Camera",
        "Blender", "Kettle",
    ],
    adjective_after: false,
    words: <EN as Data>::LOREM_WORD,
    locale: Locale::EnUs,
    lazy: Lazy::new(),
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
    domain_suffixes: &["com.br", "net.br", "org.br", "com", "br"],
    street_types: &[
        "Rua", "Avenida", "Travessa", "Alameda", "Praça", "Largo", "Estrada", "Rodovia",
    ],
    street_type_first: true,
    phone_plan: Plan::Brazil,
    company_suffixes: <PT_BR as Data>::COMPANY_SUFFIX,
    departments: &[
        "Livros",
        "Filmes",
        "Música",
        "Jogos",
        "Eletrônicos",
        "Informática",
        "Casa",
        "Jardim",
        "Ferramentas",
        "Mercado",
        "Saúde",
        "Beleza",
        "Brinquedos",
        "Infantil",
        "Bebês",
        "Roupas",
        "Calçados",
        "Joias",
        "Esportes",
        "Automotivo",
        "Papelaria",
    ],
    product_adjectives: &[
        "Pequeno",
        "Ergonômico",
        "Rústico",
        "Inteligente",
        "Lindo",
        "Incrível",
        "Fantástico",
        "Prático",
        "Elegante",
        "Artesanal",
        "Refinado",
        "Genérico",
        "Moderno",
        "Clássico",
    ],
    product_materials: &[
        "de Aço",
        "de Madeira",
        "de Concreto",
        "de Plástico",
        "de Algodão",
        "de Granito",
        "de Borracha",
        "de Metal",
    ],
    product_nouns: &[
        "Cadeira",
        "Mesa",
        "Computador",
        "Teclado",
        "Mouse",
        "Bicicleta",
        "Bola",
        "Luvas",
        "Calça",
        "Camisa",
        "Sapatos",
        "Chapéu",
        "Toalhas",
        "Sabonete",
        "Queijo",
        "Luminária",
        "Mochila",
        "Relógio",
        "Câmera",
        "Liquidificador",
        "Chaleira",
        "Panela",
        "Tapete",
    ],
    adjective_after: true,
    words: <PT_BR as Data>::LOREM_WORD,
    locale: Locale::PtBr,
    lazy: Lazy::new(),
};

/// What the built-in lists are made of when they are not plain word lists,
/// and their default weights: built on first use, kept for the process.
#[derive(Debug)]
struct Lazy {
    cities: OnceLock<Vec<&'static str>>,
    states: OnceLock<Vec<&'static str>>,
    abbrs: OnceLock<Vec<&'static str>>,
    countries: OnceLock<Vec<&'static str>>,
    /// Per built-in list (in `Builtin` order): its default weights.
    weights: [OnceLock<Option<Vec<f64>>>; BUILTINS],
    /// Per built-in list: an alias table of its default weights.
    alias: [OnceLock<Option<WeightedAliasIndex<f64>>>; BUILTINS],
}

/// How many built-in lists there are.
const BUILTINS: usize = 8;

impl Lazy {
    const fn new() -> Lazy {
        Lazy {
            cities: OnceLock::new(),
            states: OnceLock::new(),
            abbrs: OnceLock::new(),
            countries: OnceLock::new(),
            weights: [const { OnceLock::new() }; BUILTINS],
            alias: [const { OnceLock::new() }; BUILTINS],
        }
    }
}

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
    /// The words of a built-in list.
    pub fn list(&'static self, list: Builtin) -> &'static [&'static str] {
        match list {
            Builtin::FirstNames => self.first_names,
            Builtin::LastNames => self.last_names,
            Builtin::Cities => self.lazy.cities.get_or_init(|| {
                places::places(self.locale)
                    .places
                    .iter()
                    .map(|p| p.city)
                    .collect()
            }),
            Builtin::States => self.lazy.states.get_or_init(|| {
                places::places(self.locale)
                    .states
                    .iter()
                    .map(|s| s.name)
                    .collect()
            }),
            Builtin::StateAbbrs => self.lazy.abbrs.get_or_init(|| {
                places::places(self.locale)
                    .states
                    .iter()
                    .map(|s| s.abbr)
                    .collect()
            }),
            Builtin::Countries => self.lazy.countries.get_or_init(|| {
                COUNTRIES
                    .iter()
                    .map(|c| match self.locale {
                        Locale::EnUs => c.en,
                        Locale::PtBr => c.pt,
                    })
                    .collect()
            }),
            Builtin::Departments => self.departments,
            Builtin::Words => self.words,
        }
    }

    /// The default weights of a built-in list, where real frequencies are
    /// known: given and family names by the people bearing them, cities,
    /// states and countries by population (see
    /// [`frequencies`](super::frequencies)); `None` for an even draw.
    pub fn weights(&'static self, list: Builtin) -> Option<&'static [f64]> {
        let slot = &self.lazy.weights[list as usize];
        let weights = slot.get_or_init(|| {
            let words = self.list(list);
            let places = places::places(self.locale);
            match (list, self.locale) {
                (Builtin::FirstNames, Locale::EnUs) => Some(weights(words, US_FIRST_NAMES, 100.0)),
                (Builtin::FirstNames, Locale::PtBr) => {
                    Some(weights(words, BR_FIRST_NAMES, BR_PEOPLE_2010))
                }
                (Builtin::LastNames, Locale::EnUs) => {
                    Some(weights(words, US_LAST_NAMES, US_PEOPLE_2010))
                }
                (Builtin::Cities, _) => Some(
                    places
                        .places
                        .iter()
                        .map(|p| f64::from(p.population))
                        .collect(),
                ),
                (Builtin::States | Builtin::StateAbbrs, _) => Some(
                    places
                        .states
                        .iter()
                        .map(|s| f64::from(s.population))
                        .collect(),
                ),
                (Builtin::Countries, _) => Some(COUNTRIES.iter().map(|c| c.millions).collect()),
                _ => None,
            }
        });
        weights.as_deref()
    }

    /// A word of `list` by its default weights.
    fn weighted(&'static self, rng: &mut RowRng, list: Builtin) -> &'static str {
        let words = self.list(list);
        let alias = self.lazy.alias[list as usize].get_or_init(|| {
            self.weights(list)
                .and_then(|w| WeightedAliasIndex::new(w.to_vec()).ok())
        });
        match alias {
            Some(a) => words[a.sample(rng)],
            None => pick(rng, words),
        }
    }

    /// A given name, as frequent as it is among people.
    pub fn first_name(&'static self, rng: &mut RowRng) -> &'static str {
        self.weighted(rng, Builtin::FirstNames)
    }

    /// A family name, as frequent as it is among people where that is
    /// known.
    pub fn last_name(&'static self, rng: &mut RowRng) -> &'static str {
        self.weighted(rng, Builtin::LastNames)
    }

    /// Appends a given and a family name to `out`.
    pub fn full_name(&'static self, rng: &mut RowRng, out: &mut String) {
        out.push_str(self.first_name(rng));
        out.push(' ');
        out.push_str(self.last_name(rng));
    }

    /// A domain for e-mail addresses. The defaults are reserved example
    /// domains, so generated addresses never reach a real mailbox.
    pub fn email_domain(&self, rng: &mut RowRng) -> &'static str {
        pick(rng, self.email_domains)
    }

    /// Appends a web domain: a family name and a suffix.
    pub fn domain(&self, rng: &mut RowRng, out: &mut String) {
        email_local_part(pick(rng, self.last_names), out);
        out.push('.');
        out.push_str(pick(rng, self.domain_suffixes));
    }

    /// Appends a street address: number, type and name.
    pub fn street(&self, rng: &mut RowRng, out: &mut String) {
        let number = rng.random_range(1..2_000u32);
        let name = pick(rng, self.last_names);
        let kind = pick(rng, self.street_types);
        if self.street_type_first {
            out.push_str(kind);
            out.push(' ');
            out.push_str(name);
            out.push_str(", ");
            out.push_str(itoa::Buffer::new().format(number));
        } else {
            out.push_str(itoa::Buffer::new().format(number));
            out.push(' ');
            out.push_str(name);
            out.push(' ');
            out.push_str(kind);
        }
    }

    /// A country.
    pub fn country(&'static self, rng: &mut RowRng) -> &'static str {
        self.weighted(rng, Builtin::Countries)
    }

    /// Appends a company name: a family name or two and a suffix.
    pub fn company(&self, rng: &mut RowRng, out: &mut String) {
        out.push_str(pick(rng, self.last_names));
        if rng.random_bool(0.3) {
            out.push_str(if self.street_type_first { " e " } else { " & " });
            out.push_str(pick(rng, self.last_names));
        }
        out.push(' ');
        out.push_str(pick(rng, self.company_suffixes));
    }

    /// A store department.
    pub fn department(&self, rng: &mut RowRng) -> &'static str {
        pick(rng, self.departments)
    }

    /// Appends a product name: adjective, material, noun in the locale's order.
    pub fn product(&self, rng: &mut RowRng, out: &mut String) {
        let (adjective, material, noun) = (
            pick(rng, self.product_adjectives),
            pick(rng, self.product_materials),
            pick(rng, self.product_nouns),
        );
        if self.adjective_after {
            out.push_str(noun);
            out.push(' ');
            out.push_str(adjective);
            out.push(' ');
            out.push_str(material);
        } else {
            out.push_str(adjective);
            out.push(' ');
            out.push_str(material);
            out.push(' ');
            out.push_str(noun);
        }
    }

    /// Appends `min..=max` filler words separated by spaces.
    pub fn lorem(&self, rng: &mut RowRng, min: u32, max: u32, out: &mut String) {
        let n = rng.random_range(min..=max);
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(pick(rng, self.words));
        }
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
    fn built_in_lists_follow_real_frequencies() {
        use crate::rng::row_rng;
        let count = |locale: Locale, list: Builtin, word: &str| {
            let d = dictionaries(locale);
            (0..50_000)
                .filter(|&row| d.weighted(&mut row_rng(3, row), list) == word)
                .count()
        };
        // China and India hold over a third of the world; Iceland almost none.
        assert!(count(Locale::EnUs, Builtin::Countries, "China") > 8_000);
        assert!(count(Locale::EnUs, Builtin::Countries, "Iceland") < 20);
        assert!(count(Locale::PtBr, Builtin::Countries, "Brasil") > 1_000);
        // Maria is the most common Brazilian name: about 6% of people.
        let maria = count(Locale::PtBr, Builtin::FirstNames, "Maria");
        assert!((2_500..3_700).contains(&maria), "{maria}");
        // Smith, 0.79% of the 2010 Census.
        let smith = count(Locale::EnUs, Builtin::LastNames, "Smith");
        assert!((300..500).contains(&smith), "{smith}");
        // São Paulo, a fifth of Brazil's people.
        assert!(count(Locale::PtBr, Builtin::StateAbbrs, "SP") > 9_000);
        // Lists without known frequencies draw evenly.
        assert!(dictionaries(Locale::PtBr)
            .weights(Builtin::LastNames)
            .is_none());
    }

    #[test]
    fn both_locales_have_words() {
        for locale in [Locale::EnUs, Locale::PtBr] {
            let d = dictionaries(locale);
            assert!(d.first_names.len() > 50 && d.last_names.len() > 50);
        }
    }
}
