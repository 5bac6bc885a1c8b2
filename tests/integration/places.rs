//! Places that agree: for every row, the city, state, postal code,
//! coordinates and telephone area code of a place group describe one city
//! of the built-in dataset, in both locales; two groups of a row are drawn
//! apart; states follow population.

use std::collections::HashMap;

use datagen::generators::dicts::Locale;
use datagen::generators::places::{places, Place, Places};
use rusqlite::Connection;

use crate::support::{run_text, stderr};

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The area code of a number as the locale writes it.
fn area(locale: Locale, phone: &str) -> u16 {
    let d = digits(phone);
    match locale {
        Locale::EnUs => {
            let d = if phone.starts_with("+1") {
                &d[1..]
            } else {
                &d[..]
            };
            d[..3].parse().unwrap()
        }
        Locale::PtBr => {
            let d = if phone.starts_with("+55") {
                &d[2..]
            } else {
                &d[..]
            };
            d[..2].parse().unwrap()
        }
    }
}

fn check_group(
    places: &Places,
    by_name: &HashMap<(&str, &str), &Place>,
    locale: Locale,
    row: &[String],
) {
    let (city, state, abbr, zip, lat, lon, phone) = (
        &row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6],
    );
    let place = by_name
        .get(&(city.as_str(), state.as_str()))
        .unwrap_or_else(|| panic!("{city}, {state} is not a place of the dataset"));
    assert_eq!(places.state(place).abbr, abbr, "{city}");
    let code: u32 = digits(zip).parse().unwrap();
    assert!(
        (place.postcode.0..=place.postcode.1).contains(&code),
        "{zip} is not a postal code of {city}"
    );
    assert_eq!(digits(zip).len(), places.postcode_digits, "{zip}");
    let (lat, lon): (f64, f64) = (lat.parse().unwrap(), lon.parse().unwrap());
    assert!(
        (lat - place.lat).abs() <= 0.050_001 && (lon - place.lon).abs() <= 0.050_001,
        "{city}: {lat}, {lon}"
    );
    assert!(
        place.areas.contains(&area(locale, phone)),
        "{phone} in {city}"
    );
}

fn run_locale(locale: Locale, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let group = |g: &str| {
        format!(
            "city{g} = {{ gen = \"address.city\"{p} }}\nstate{g} = {{ gen = \"address.state\"{p} }}\n\
             abbr{g} = {{ gen = \"address.state\", abbr = true{p} }}\nzip{g} = {{ gen = \"address.zip\"{p} }}\n\
             lat{g} = {{ gen = \"address.lat\"{p} }}\nlon{g} = {{ gen = \"address.lon\"{p} }}\n\
             phone{g} = {{ gen = \"phone\"{p} }}\n",
            p = if g.is_empty() { String::new() } else { format!(", place = \"{g}\"") }
        )
    };
    let genfile = format!(
        "[run]\nseed = 4\nlocale = \"{name}\"\n[tables.people]\nrows = 100000\n[tables.people.columns]\n\
         id = {{ gen = \"sequence\", primary_key = true }}\n{}{}",
        group(""),
        group("ship")
    );
    let (out, db) = run_text(dir.path(), "places", &genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let places = places(locale);
    let by_name: HashMap<(&str, &str), &Place> = places
        .places
        .iter()
        .map(|p| ((p.city, places.state(p).name), p))
        .collect();
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn.prepare("SELECT * FROM people").unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let (mut n, mut same, mut per_state) = (0, 0, HashMap::<String, u32>::new());
    while let Some(r) = rows.next().unwrap() {
        let row: Vec<String> = (1..columns)
            .map(|i| match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                rusqlite::types::ValueRef::Real(x) => x.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        check_group(places, &by_name, locale, &row[..7]);
        check_group(places, &by_name, locale, &row[7..]);
        same += u32::from(row[0] == row[7]);
        *per_state.entry(row[1].clone()).or_default() += 1;
        n += 1;
    }
    assert_eq!(n, 100_000);
    // The two groups are drawn apart: they agree only as often as two
    // independent picks would (the largest city is under a fifth).
    assert!(
        same < 20_000,
        "{same} rows with the same city in both groups"
    );
    // Population decides: the most populous state is the most frequent.
    let top = per_state.iter().max_by_key(|(_, &c)| c).unwrap().0;
    let expected = match locale {
        Locale::EnUs => "California",
        Locale::PtBr => "São Paulo",
    };
    assert_eq!(top, expected, "{per_state:?}");
}

#[test]
fn every_row_describes_one_city_in_english() {
    run_locale(Locale::EnUs, "en_US");
}

#[test]
fn every_row_describes_one_city_in_portuguese() {
    run_locale(Locale::PtBr, "pt_BR");
}
