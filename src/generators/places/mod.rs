//! Places that agree: a built-in dataset per locale of real cities with
//! their state, postal codes, telephone area codes, coordinates and
//! population, compiled into the binary (sources in [`us`] and [`br`]).
//!
//! One pick per row and place group drives every place generator of the
//! row: `address.city`, `address.state`, `address.zip`, `address.lat`,
//! `address.lon` and `phone` of a group name the same city, so a row never
//! says "Sacramento, Iowa". The pick is drawn from the group's own stream
//! (seed, table, group, row), not from any column's, so each column
//! computes it alone and they agree; picks are weighted by population.

pub mod br;
pub mod us;

use std::sync::OnceLock;

use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;

use super::locale::Locale;
use crate::rng::RowRng;

/// A state (or the Federal District, the District of Columbia).
#[derive(Debug)]
pub struct State {
    /// Its name.
    pub name: &'static str,
    /// Its postal abbreviation.
    pub abbr: &'static str,
    /// Inhabitants.
    pub population: u32,
}

/// A city.
#[derive(Debug)]
pub struct Place {
    /// Its name.
    pub city: &'static str,
    /// Its state, an index of the locale's states.
    pub state: usize,
    /// Its postal codes, first and last, as numbers (five digits in the
    /// United States, eight in Brazil).
    pub postcode: (u32, u32),
    /// Its telephone area codes.
    pub areas: &'static [u16],
    /// Latitude of its center, degrees.
    pub lat: f64,
    /// Longitude of its center, degrees.
    pub lon: f64,
    /// Inhabitants.
    pub population: u32,
}

/// The places of a locale.
#[derive(Debug)]
pub struct Places {
    /// The states.
    pub states: &'static [State],
    /// The cities.
    pub places: &'static [Place],
    /// Digits of a postal code.
    pub postcode_digits: usize,
    by_population: OnceLock<WeightedAliasIndex<f64>>,
}

static US: Places = Places {
    states: us::STATES,
    places: us::PLACES,
    postcode_digits: 5,
    by_population: OnceLock::new(),
};

static BR: Places = Places {
    states: br::STATES,
    places: br::PLACES,
    postcode_digits: 8,
    by_population: OnceLock::new(),
};

/// The places of `locale`.
pub fn places(locale: Locale) -> &'static Places {
    match locale {
        Locale::EnUs => &US,
        Locale::PtBr => &BR,
    }
}

impl Places {
    /// A place, weighted by population (O(1): an alias table built once).
    pub fn pick(&self, rng: &mut RowRng) -> &'static Place {
        let alias = self.by_population.get_or_init(|| {
            WeightedAliasIndex::new(
                self.places
                    .iter()
                    .map(|p| f64::from(p.population))
                    .collect(),
            )
            .expect("every place has inhabitants")
        });
        &self.places[alias.sample(rng)]
    }

    /// The state of `place`.
    pub fn state(&self, place: &Place) -> &'static State {
        &self.states[place.state]
    }

    /// Appends `code` in the locale's form: `12345` or `01310-100`.
    pub fn write_postcode(&self, code: u32, out: &mut String) {
        let mut digits = [b'0'; 8];
        let width = self.postcode_digits.min(8);
        let mut n = code;
        for d in digits[..width].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        for (i, &d) in digits[..width].iter().enumerate() {
            if width == 8 && i == 5 {
                out.push('-');
            }
            out.push(char::from(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generators::phone::{BR_AREA_CODES, US_AREA_CODES};
    use crate::rng::row_rng;

    #[test]
    fn every_place_is_whole_and_agrees_with_its_country() {
        for (places, areas) in [(&US, US_AREA_CODES), (&BR, BR_AREA_CODES)] {
            let mut cities = std::collections::HashSet::new();
            for p in places.places {
                assert!(cities.insert((p.city, p.state)), "{} twice", p.city);
                assert!(p.state < places.states.len());
                assert!(p.postcode.0 <= p.postcode.1, "{}", p.city);
                assert!(
                    !p.areas.is_empty() && p.areas.iter().all(|a| areas.contains(a)),
                    "{}",
                    p.city
                );
                assert!(
                    p.population > 0
                        && (-90.0..=90.0).contains(&p.lat)
                        && (-180.0..=180.0).contains(&p.lon)
                );
            }
            // Every state has a place.
            for s in 0..places.states.len() {
                assert!(
                    places.places.iter().any(|p| p.state == s),
                    "{}",
                    places.states[s].name
                );
            }
        }
    }

    #[test]
    fn picks_follow_population() {
        let mut ny = 0;
        for row in 0..100_000 {
            if US.pick(&mut row_rng(1, row)).city == "New York" {
                ny += 1;
            }
        }
        let total: f64 = US.places.iter().map(|p| f64::from(p.population)).sum();
        let expected = 100_000.0 * 8_804_190.0 / total;
        assert!(
            (f64::from(ny) - expected).abs() < 5.0 * expected.sqrt(),
            "{ny} vs {expected}"
        );
        let mut out = String::new();
        BR.write_postcode(1_310_100, &mut out);
        assert_eq!(out, "01310-100");
    }
}
