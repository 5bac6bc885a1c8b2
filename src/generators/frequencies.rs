//! How often real values occur, for the built-in dictionaries' default
//! weights: countries by population, given and family names by how many
//! people bear them. Where no public count is known to datagen (the long
//! tail of a name list, Brazilian family names) the remaining share is
//! spread evenly over the remaining values.
//!
//! Sources: countries — United Nations, World Population Prospects 2022,
//! estimates for 2023 (millions, one decimal); United States given names —
//! the 1990 Census's frequency of first names (percent of men and of
//! women, halved for a list of both); United States family names — the
//! 2010 Census's count of surnames; Brazilian given names — IBGE's Censo
//! 2010 (Nomes no Brasil), people per name.

/// A country: its name in English and in Portuguese, and its people in
/// millions.
pub struct Country {
    /// Name in English.
    pub en: &'static str,
    /// Name in Portuguese.
    pub pt: &'static str,
    /// Inhabitants, millions.
    pub millions: f64,
}

macro_rules! countries {
    ($(($en:literal, $pt:literal, $m:literal)),* $(,)?) => {
        &[$(Country { en: $en, pt: $pt, millions: $m }),*]
    };
}

/// Countries, most populous first.
#[rustfmt::skip]
pub static COUNTRIES: &[Country] = countries![
    ("India", "Índia", 1428.6), ("China", "China", 1425.7), ("United States", "Estados Unidos", 340.0),
    ("Indonesia", "Indonésia", 277.5), ("Pakistan", "Paquistão", 240.5), ("Nigeria", "Nigéria", 223.8),
    ("Brazil", "Brasil", 216.4), ("Bangladesh", "Bangladesh", 173.0), ("Russia", "Rússia", 144.4),
    ("Mexico", "México", 128.5), ("Ethiopia", "Etiópia", 126.5), ("Japan", "Japão", 123.3),
    ("Philippines", "Filipinas", 117.3), ("Egypt", "Egito", 112.7),
    ("Democratic Republic of the Congo", "República Democrática do Congo", 102.3),
    ("Vietnam", "Vietnã", 98.9), ("Iran", "Irã", 89.2), ("Turkey", "Turquia", 85.8),
    ("Germany", "Alemanha", 83.3), ("Thailand", "Tailândia", 71.8), ("United Kingdom", "Reino Unido", 67.7),
    ("Tanzania", "Tanzânia", 67.4), ("France", "França", 64.8), ("South Africa", "África do Sul", 60.4),
    ("Italy", "Itália", 58.9), ("Kenya", "Quênia", 55.1), ("Myanmar", "Mianmar", 54.6),
    ("Colombia", "Colômbia", 52.1), ("South Korea", "Coreia do Sul", 51.8), ("Uganda", "Uganda", 48.6),
    ("Sudan", "Sudão", 48.1), ("Spain", "Espanha", 47.5), ("Argentina", "Argentina", 45.8),
    ("Algeria", "Argélia", 45.6), ("Iraq", "Iraque", 45.5), ("Afghanistan", "Afeganistão", 42.2),
    ("Poland", "Polônia", 41.0), ("Canada", "Canadá", 38.8), ("Morocco", "Marrocos", 37.8),
    ("Saudi Arabia", "Arábia Saudita", 36.9), ("Ukraine", "Ucrânia", 36.7), ("Angola", "Angola", 36.7),
    ("Uzbekistan", "Uzbequistão", 35.2), ("Yemen", "Iêmen", 34.4), ("Peru", "Peru", 34.4),
    ("Malaysia", "Malásia", 34.3), ("Ghana", "Gana", 34.1), ("Mozambique", "Moçambique", 33.9),
    ("Nepal", "Nepal", 30.9), ("Madagascar", "Madagascar", 30.3), ("Côte d'Ivoire", "Costa do Marfim", 28.9),
    ("Venezuela", "Venezuela", 28.8), ("Cameroon", "Camarões", 28.6), ("Niger", "Níger", 27.2),
    ("Australia", "Austrália", 26.4), ("North Korea", "Coreia do Norte", 26.2), ("Taiwan", "Taiwan", 23.9),
    ("Mali", "Mali", 23.3), ("Burkina Faso", "Burkina Faso", 23.3), ("Syria", "Síria", 23.2),
    ("Sri Lanka", "Sri Lanka", 21.9), ("Malawi", "Malaui", 20.9), ("Zambia", "Zâmbia", 20.6),
    ("Romania", "Romênia", 19.9), ("Chile", "Chile", 19.6), ("Kazakhstan", "Cazaquistão", 19.6),
    ("Chad", "Chade", 18.3), ("Ecuador", "Equador", 18.2), ("Guatemala", "Guatemala", 18.1),
    ("Senegal", "Senegal", 17.8), ("Netherlands", "Países Baixos", 17.6), ("Cambodia", "Camboja", 16.9),
    ("Zimbabwe", "Zimbábue", 16.7), ("Guinea", "Guiné", 14.2), ("Rwanda", "Ruanda", 14.1),
    ("Benin", "Benin", 13.7), ("Burundi", "Burundi", 13.2), ("Tunisia", "Tunísia", 12.5),
    ("Bolivia", "Bolívia", 12.4), ("Belgium", "Bélgica", 11.7), ("Haiti", "Haiti", 11.7),
    ("Jordan", "Jordânia", 11.3), ("Dominican Republic", "República Dominicana", 11.3), ("Cuba", "Cuba", 11.2),
    ("South Sudan", "Sudão do Sul", 11.1), ("Sweden", "Suécia", 10.6), ("Honduras", "Honduras", 10.6),
    ("Czech Republic", "República Tcheca", 10.5), ("Azerbaijan", "Azerbaijão", 10.4), ("Greece", "Grécia", 10.3),
    ("Papua New Guinea", "Papua-Nova Guiné", 10.3), ("Portugal", "Portugal", 10.2), ("Hungary", "Hungria", 10.2),
    ("Tajikistan", "Tajiquistão", 10.1), ("United Arab Emirates", "Emirados Árabes Unidos", 9.5),
    ("Belarus", "Belarus", 9.5), ("Israel", "Israel", 9.2), ("Togo", "Togo", 9.1), ("Austria", "Áustria", 9.0),
    ("Switzerland", "Suíça", 8.8), ("Sierra Leone", "Serra Leoa", 8.8), ("Laos", "Laos", 7.6),
    ("Serbia", "Sérvia", 7.1), ("Nicaragua", "Nicarágua", 7.0), ("Libya", "Líbia", 6.9),
    ("Paraguay", "Paraguai", 6.9), ("Kyrgyzstan", "Quirguistão", 6.7), ("Bulgaria", "Bulgária", 6.7),
    ("Turkmenistan", "Turcomenistão", 6.5), ("El Salvador", "El Salvador", 6.4), ("Singapore", "Singapura", 6.0),
    ("Denmark", "Dinamarca", 5.9), ("Slovakia", "Eslováquia", 5.8), ("Finland", "Finlândia", 5.5),
    ("Norway", "Noruega", 5.5), ("Lebanon", "Líbano", 5.4), ("Costa Rica", "Costa Rica", 5.2),
    ("New Zealand", "Nova Zelândia", 5.2), ("Ireland", "Irlanda", 5.1), ("Oman", "Omã", 4.6),
    ("Panama", "Panamá", 4.5), ("Kuwait", "Kuwait", 4.3), ("Croatia", "Croácia", 4.0), ("Georgia", "Geórgia", 3.7),
    ("Uruguay", "Uruguai", 3.4), ("Mongolia", "Mongólia", 3.4), ("Jamaica", "Jamaica", 2.8), ("Qatar", "Catar", 2.7),
    ("Lithuania", "Lituânia", 2.7), ("Slovenia", "Eslovênia", 2.1), ("Latvia", "Letônia", 1.8),
    ("Estonia", "Estônia", 1.3), ("Luxembourg", "Luxemburgo", 0.7), ("Malta", "Malta", 0.5),
    ("Iceland", "Islândia", 0.4),
];

/// Given names in the United States, percent of the population bearing
/// them (1990 Census: a man's share halved plus a woman's share halved).
#[rustfmt::skip]
pub static US_FIRST_NAMES: &[(&str, f64)] = &[
    ("James", 1.659), ("John", 1.636), ("Robert", 1.572), ("Michael", 1.315), ("William", 1.226),
    ("David", 1.182), ("Richard", 0.852), ("Charles", 0.762), ("Joseph", 0.702), ("Thomas", 0.690),
    ("Christopher", 0.518), ("Daniel", 0.487), ("Paul", 0.474), ("Mark", 0.469), ("Donald", 0.466),
    ("George", 0.464), ("Kenneth", 0.413), ("Steven", 0.390), ("Edward", 0.390), ("Brian", 0.368),
    ("Mary", 1.315), ("Patricia", 0.537), ("Linda", 0.518), ("Barbara", 0.490), ("Elizabeth", 0.469),
    ("Jennifer", 0.466), ("Maria", 0.414), ("Susan", 0.397), ("Margaret", 0.384), ("Dorothy", 0.364),
    ("Lisa", 0.352), ("Nancy", 0.335), ("Karen", 0.334), ("Betty", 0.333), ("Helen", 0.332),
    ("Sandra", 0.315), ("Donna", 0.292), ("Carol", 0.283), ("Ruth", 0.281), ("Sharon", 0.261),
];

/// Family names in the United States, people bearing them (2010 Census).
#[rustfmt::skip]
pub static US_LAST_NAMES: &[(&str, f64)] = &[
    ("Smith", 2_442_977.0), ("Johnson", 1_932_812.0), ("Williams", 1_625_252.0), ("Brown", 1_437_026.0),
    ("Jones", 1_425_470.0), ("Garcia", 1_166_120.0), ("Miller", 1_161_437.0), ("Davis", 1_116_357.0),
    ("Rodriguez", 1_094_924.0), ("Martinez", 1_060_159.0), ("Hernandez", 1_043_281.0), ("Lopez", 874_523.0),
    ("Gonzalez", 841_025.0), ("Wilson", 801_882.0), ("Anderson", 784_404.0), ("Thomas", 756_142.0),
    ("Taylor", 751_209.0), ("Moore", 724_374.0), ("Jackson", 708_099.0), ("Martin", 702_625.0),
];

/// People in the United States in the 2010 Census, for the family names'
/// shares.
pub const US_PEOPLE_2010: f64 = 308_745_538.0;

/// Given names in Brazil, people bearing them (IBGE, Censo 2010).
#[rustfmt::skip]
pub static BR_FIRST_NAMES: &[(&str, f64)] = &[
    ("Maria", 11_734_129.0), ("José", 5_754_529.0), ("Ana", 3_089_858.0), ("João", 2_984_119.0),
    ("Antônio", 2_576_348.0), ("Francisco", 1_772_197.0), ("Carlos", 1_489_191.0), ("Paulo", 1_423_262.0),
    ("Pedro", 1_219_605.0), ("Lucas", 1_127_310.0), ("Luiz", 1_107_792.0), ("Marcos", 1_106_165.0),
    ("Luis", 935_905.0), ("Gabriel", 932_449.0), ("Rafael", 821_638.0), ("Francisca", 725_642.0),
    ("Daniel", 711_338.0), ("Marcelo", 693_215.0), ("Bruno", 668_217.0), ("Eduardo", 632_664.0),
];

/// People in Brazil in the 2010 census, for the given names' shares.
pub const BR_PEOPLE_2010: f64 = 190_755_799.0;

/// Weights for `words`: a known share (percent of `total`) for the names
/// of `known`, and the rest of 100% spread evenly over the others.
pub fn weights(words: &[&str], known: &[(&str, f64)], total: f64) -> Vec<f64> {
    let share = |count: f64| count / total * 100.0;
    let found: Vec<Option<f64>> = words
        .iter()
        .map(|w| known.iter().find(|(n, _)| n == w).map(|&(_, c)| share(c)))
        .collect();
    let known_sum: f64 = found.iter().flatten().sum();
    let others = found.iter().filter(|f| f.is_none()).count().max(1) as f64;
    let rest = ((100.0 - known_sum) / others).max(0.0);
    found.into_iter().map(|f| f.unwrap_or(rest)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        let w = weights(&["Smith", "Zed", "Yon"], US_LAST_NAMES, US_PEOPLE_2010);
        assert!((w[0] - 0.7913).abs() < 0.001, "{w:?}");
        assert!((w.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        assert_eq!(w[1], w[2]);
        let names: std::collections::HashSet<&str> = COUNTRIES.iter().map(|c| c.en).collect();
        assert_eq!(names.len(), COUNTRIES.len());
        assert!(COUNTRIES.windows(2).all(|w| w[0].millions >= w[1].millions));
    }
}
