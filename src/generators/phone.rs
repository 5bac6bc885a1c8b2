//! Telephone numbering plans: which numbers exist, so `phone` writes only
//! numbers a validator accepts, and how they are numbered, so
//! `unique = true` can permute over them.
//!
//! * **NANP** (en_US): `NPA-NXX-XXXX`. The area code (NPA) is one in
//!   service in the United States; the exchange (NXX) starts with 2–9 and is
//!   never an `N11` service code (211, 311, … 911); the line is any four
//!   digits. Source: the North American Numbering Plan Administrator's list
//!   of area codes in service (nationalnanpa.com, geographic codes of the 50
//!   states and DC) and its rules for central office codes.
//! * **Brazil** (pt_BR): `(DD) 9XXXX-XXXX` for mobiles (a 9 and eight
//!   digits) and `(DD) NXXX-XXXX` for fixed lines (N from 2 to 5). DD is one
//!   of the 67 area codes (DDD) of Anatel's numbering plan (Plano Geral de
//!   Códigos Nacionais); no DDD ends in 0, and 20, 23, 25, 26, 29, 30, 36,
//!   39, 40, 50, 52, 56–60, 70, 72, 76, 78, 80 and 90 do not exist.

use rand::RngExt;

use crate::rng::RowRng;

/// A country's numbering plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The North American Numbering Plan, US area codes.
    Nanp,
    /// Brazil's national plan.
    Brazil,
}

/// Area codes in service in the 50 states and the District of Columbia.
pub const US_AREA_CODES: &[u16] = &[
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225,
    228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281,
    301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321,
    323, 325, 330, 334, 336, 337, 339, 347, 351, 352, 360, 361, 386, 401, 402, 404, 405, 406, 407,
    408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 432, 434, 435, 440, 443, 469, 470,
    478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518,
    520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571, 573, 574, 575, 580, 585, 586, 601,
    602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630,
    631, 636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712,
    713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765,
    770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814,
    815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862,
    863, 864, 865, 870, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918,
    919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956, 970, 971, 972, 973,
    978, 979, 980, 985, 989,
];

/// Brazil's 67 area codes (DDD).
pub const BR_AREA_CODES: &[u16] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77,
    79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
];

/// NANP exchanges: 2–9 then two digits, less the eight `N11` codes.
const NANP_EXCHANGES: u64 = 8 * 99;
/// NANP numbers per area code.
const NANP_PER_AREA: u64 = NANP_EXCHANGES * 10_000;
/// Brazilian mobiles per DDD: 9 and eight digits.
const BR_MOBILES: u64 = 100_000_000;
/// Brazilian fixed lines per DDD: 2–5 and seven digits.
const BR_FIXED: u64 = 4 * 10_000_000;

/// The parts of a number, before formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number {
    /// The area code.
    pub area: u16,
    /// NANP: the exchange (200–999). Brazil: 0 for a fixed line, 9 for a
    /// mobile.
    pub prefix: u16,
    /// The subscriber digits after the prefix: NANP four, Brazil's mobiles
    /// eight, fixed lines eight (the first 2–5).
    pub line: u32,
}

impl Plan {
    /// The area codes.
    pub fn areas(self) -> &'static [u16] {
        match self {
            Plan::Nanp => US_AREA_CODES,
            Plan::Brazil => BR_AREA_CODES,
        }
    }

    /// Numbers per area code.
    fn per_area(self) -> u64 {
        match self {
            Plan::Nanp => NANP_PER_AREA,
            Plan::Brazil => BR_MOBILES + BR_FIXED,
        }
    }

    /// Every number of the plan.
    pub fn size(self) -> u64 {
        self.areas().len() as u64 * self.per_area()
    }

    /// Number `i` (below [`Plan::size`]) within area code `area`'s block
    /// when `area` is given, else in the whole plan.
    pub fn nth(self, i: u64, area: Option<u16>) -> Number {
        let (area, i) = match area {
            Some(a) => (a, i % self.per_area()),
            None => (
                self.areas()[(i / self.per_area()) as usize],
                i % self.per_area(),
            ),
        };
        match self {
            Plan::Nanp => {
                let (exchange, line) = (i / 10_000, (i % 10_000) as u32);
                let (n, xx) = (exchange / 99, exchange % 99);
                let xx = if xx >= 11 { xx + 1 } else { xx };
                Number {
                    area,
                    prefix: (200 + n * 100 + xx) as u16,
                    line,
                }
            }
            Plan::Brazil if i < BR_MOBILES => Number {
                area,
                prefix: 9,
                line: i as u32,
            },
            Plan::Brazil => Number {
                area,
                prefix: 0,
                line: (20_000_000 + (i - BR_MOBILES)) as u32,
            },
        }
    }

    /// A random number: a random area code (or `area`), then as the plan
    /// allows (in Brazil two mobiles for each fixed line).
    pub fn random(self, rng: &mut RowRng, area: Option<u16>) -> Number {
        let area = area.unwrap_or_else(|| {
            let areas = self.areas();
            areas[rng.random_range(0..areas.len())]
        });
        match self {
            Plan::Nanp => self.nth(rng.random_range(0..NANP_PER_AREA), Some(area)),
            Plan::Brazil if rng.random_bool(2.0 / 3.0) => {
                self.nth(rng.random_range(0..BR_MOBILES), Some(area))
            }
            Plan::Brazil => self.nth(BR_MOBILES + rng.random_range(0..BR_FIXED), Some(area)),
        }
    }

    /// Appends `number` in one of the plan's usual forms, chosen by `rng`.
    pub fn write(self, number: Number, rng: &mut RowRng, out: &mut String) {
        let mut b = itoa::Buffer::new();
        let pad = |out: &mut String, n: u32, width: usize| {
            let mut b = itoa::Buffer::new();
            let s = b.format(n);
            out.extend(std::iter::repeat_n('0', width.saturating_sub(s.len())));
            out.push_str(s);
        };
        match self {
            Plan::Nanp => {
                let (area, exchange) = (number.area, number.prefix);
                let form = rng.random_range(0..4u8);
                match form {
                    0 => {
                        out.push('(');
                        out.push_str(b.format(area));
                        out.push_str(") ");
                    }
                    1 | 2 => {
                        if form == 2 {
                            out.push_str("+1 ");
                        }
                        out.push_str(b.format(area));
                        out.push('-');
                    }
                    _ => {
                        out.push_str(b.format(area));
                        out.push('.');
                    }
                }
                out.push_str(b.format(exchange));
                out.push(if form == 3 { '.' } else { '-' });
                pad(out, number.line, 4);
            }
            Plan::Brazil => {
                let international = number.prefix == 9 && rng.random_bool(0.5);
                if international {
                    out.push_str("+55 ");
                    out.push_str(b.format(number.area));
                    out.push(' ');
                } else {
                    out.push('(');
                    out.push_str(b.format(number.area));
                    out.push_str(") ");
                }
                if number.prefix == 9 {
                    out.push('9');
                    pad(out, number.line / 10_000, 4);
                } else {
                    pad(out, number.line / 10_000, 4);
                }
                out.push('-');
                pad(out, number.line % 10_000, 4);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::row_rng;

    fn digits(s: &str) -> String {
        s.chars().filter(char::is_ascii_digit).collect()
    }

    #[test]
    fn numbers_are_numbered_one_to_one() {
        for plan in [Plan::Nanp, Plan::Brazil] {
            let per = plan.per_area();
            let mut seen = std::collections::HashSet::new();
            for i in (0..per).step_by(997).chain([per - 1]) {
                let n = plan.nth(i, Some(plan.areas()[0]));
                assert!(seen.insert((n.prefix, n.line)), "{plan:?} {i}");
            }
            assert_eq!(
                plan.nth(plan.size() - 1, None).area,
                *plan.areas().last().unwrap()
            );
        }
    }

    #[test]
    fn nanp_numbers_follow_the_plan() {
        assert_eq!(Plan::Nanp.nth(0, Some(212)).prefix, 200);
        assert_eq!(Plan::Nanp.nth(11 * 10_000, Some(212)).prefix, 212);
        assert_eq!(Plan::Nanp.nth(NANP_PER_AREA - 1, Some(212)).prefix, 999);
        let mut out = String::new();
        for row in 0..20_000 {
            let mut rng = row_rng(3, row);
            let n = Plan::Nanp.random(&mut rng, None);
            out.clear();
            Plan::Nanp.write(n, &mut rng, &mut out);
            let d = digits(&out);
            let d = d
                .strip_prefix('1')
                .filter(|_| out.starts_with("+1"))
                .unwrap_or(&d);
            assert_eq!(d.len(), 10, "{out}");
            let (area, exchange) = (&d[..3], &d[3..6]);
            assert!(US_AREA_CODES.contains(&area.parse().unwrap()), "{out}");
            assert!(
                !exchange.starts_with(['0', '1']) && &exchange[1..] != "11",
                "{out}"
            );
        }
    }

    #[test]
    fn brazilian_numbers_follow_the_plan() {
        let mut out = String::new();
        for row in 0..20_000 {
            let mut rng = row_rng(4, row);
            let n = Plan::Brazil.random(&mut rng, None);
            out.clear();
            Plan::Brazil.write(n, &mut rng, &mut out);
            let d = digits(&out);
            let d = d
                .strip_prefix("55")
                .filter(|_| out.starts_with("+55"))
                .unwrap_or(&d);
            assert!(BR_AREA_CODES.contains(&d[..2].parse().unwrap()), "{out}");
            match d.len() {
                11 => assert!(d[2..].starts_with('9'), "{out}"),
                10 => assert!(d[2..].starts_with(['2', '3', '4', '5']), "{out}"),
                _ => panic!("{out}"),
            }
        }
    }
}
