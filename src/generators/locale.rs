//! The locales datagen writes in: `en_US` and `pt_BR`.

/// Locale of the built-in dictionaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// English (United States).
    #[default]
    EnUs,
    /// Portuguese (Brazil).
    PtBr,
}

impl Locale {
    /// Parses `en_US` / `pt_BR`.
    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en_US" => Some(Locale::EnUs),
            "pt_BR" => Some(Locale::PtBr),
            _ => None,
        }
    }
}
