//! Keyed permutations: how `unique = true` makes distinct values over a
//! space without remembering any. The row index goes through a bijection of
//! `0..n` keyed by the column's stream, so each row's value is computable
//! alone, in any order, on any thread, shard or resumption, and no two rows
//! share one. A generator whose values can be numbered (a pattern's
//! positions, a string's lengths and characters, a document's base digits,
//! a numbering plan, a list) turns the permuted index back into a value
//! ([`Radix`] does it for positions), so uniqueness costs O(1) time and
//! memory per value at any scale. A table-level group numbers its members
//! together ([`Numbering::Joint`]).

use crate::context::SourceContext;

/// The four Feistel rounds of [`permute`] and [`permute128`] on the halves
/// `l` and `r` (each within `mask`), keyed by `key`.
#[inline]
fn rounds(mut l: u64, mut r: u64, mask: u64, key: u64) -> (u64, u64) {
    for round in 0..4u64 {
        let k = key.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        (l, r) = (r, l ^ (crate::rng::mix64(r ^ k) & mask));
    }
    (l, r)
}

/// A keyed pseudo-random permutation of `0..n`, applied to `x < n`: a
/// four-round Feistel network over the smallest even number of bits that
/// covers `n`, walking the cycle until the result falls below `n` (at most
/// a few steps, since `n` is more than a quarter of the domain).
pub fn permute(x: u64, n: u64, key: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let needed = 64 - (n - 1).leading_zeros();
    let bits = (needed.max(2) + 1) & !1;
    let half = bits / 2;
    let mask = if half >= 64 {
        u64::MAX
    } else {
        (1u64 << half) - 1
    };
    let mut y = x;
    loop {
        let (l, r) = rounds(y >> half, y & mask, mask, key);
        y = (l << half) | r;
        if y < n {
            return y;
        }
    }
}

/// A keyed pseudo-random permutation of `0..n` for spaces beyond 64 bits
/// (long patterns and strings): the same Feistel network over up to 128
/// bits. Spaces that fit 64 bits go through [`permute`], so a column's
/// values do not depend on which of the two computed them.
pub fn permute128(x: u128, n: u128, key: u64) -> u128 {
    if let Ok(n64) = u64::try_from(n) {
        return u128::from(permute(x as u64, n64, key));
    }
    let needed = 128 - (n - 1).leading_zeros();
    let bits = (needed + 1) & !1;
    let half = bits / 2;
    let mask = if half >= 64 {
        u64::MAX
    } else {
        (1u64 << half) - 1
    };
    let mut y = x;
    loop {
        let (l, r) = rounds((y >> half) as u64, (y as u64) & mask, mask, key);
        y = (u128::from(l) << half) | u128::from(r);
        if y < n {
            return y;
        }
    }
}

/// How a unique value finds its number in its space: alone, by its own
/// keyed permutation of the row index; or as a member of a table-level
/// group (`unique = ["a", "b"]`), by its digit of one permutation shared by
/// the group, so that the members' values together never repeat while each
/// alone may.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Numbering {
    /// The value is unique on its own.
    #[default]
    Own,
    /// The value is one digit of a group's number.
    Joint(Joint),
}

/// A member's place in its group's number. The row index (or the row's
/// place among its parent's children) is permuted over `total`, the
/// combinations of the columns the groups numbered together share times
/// `split`; the shared columns spell the number divided by `split`, and
/// each group's other columns the remainder, permuted again over their own
/// combinations (`rest`), so each group's tuple is distinct. A member
/// holds the digit of weight `after` of what it spells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joint {
    /// The permutation key.
    pub key: u64,
    /// Values the number takes.
    pub total: u128,
    /// Combinations of the other columns of a group, each group alike.
    pub split: u128,
    /// The weight of this member's digit.
    pub after: u128,
    /// For a column only one group holds: that group's combinations of
    /// such columns, and its key.
    pub rest: Option<(u128, u64)>,
    /// Numbered among the children of one parent row (the groups hold a
    /// `parent` column, which the children share).
    pub within_parent: bool,
}

impl Joint {
    /// This member's digit for the row of `ctx`, in `0..n`.
    #[inline]
    pub fn digit(&self, ctx: &SourceContext<'_>, n: u128) -> u128 {
        let (x, key) = match (self.within_parent, ctx.sibling()) {
            (true, Some((parent, i))) => {
                (i, crate::rng::mix64(self.key ^ crate::rng::mix64(parent)))
            }
            _ => (ctx.row(), self.key),
        };
        let number = permute128(u128::from(x), self.total, key);
        let spelled = match self.rest {
            None => number / self.split,
            // Keyed by the shared part too: otherwise every combination
            // of the shared columns would pair the other columns alike.
            Some((values, key)) => {
                let shared = number / self.split;
                let key = crate::rng::mix64(
                    key ^ crate::rng::mix64(shared as u64 ^ (shared >> 64) as u64),
                );
                permute128(number % self.split, values, key)
            }
        };
        (spelled / self.after) % n.max(1)
    }
}

impl Numbering {
    /// The number in `0..n` of the value of the row of `ctx`, for a
    /// generator whose own permutation key is `key`.
    #[inline]
    pub fn index(&self, ctx: &SourceContext<'_>, n: u64, key: u64) -> u64 {
        match self {
            Numbering::Own => permute(ctx.row(), n, key),
            Numbering::Joint(j) => j.digit(ctx, u128::from(n)) as u64,
        }
    }

    /// [`Numbering::index`] for spaces beyond 64 bits.
    #[inline]
    pub fn index128(&self, ctx: &SourceContext<'_>, n: u128, key: u64) -> u128 {
        match self {
            Numbering::Own => permute128(u128::from(ctx.row()), n, key),
            Numbering::Joint(j) => j.digit(ctx, n),
        }
    }
}

/// The largest space [`Radix`] numbers exactly: beyond it the leading
/// positions are drawn at random and only the trailing ones are permuted
/// (still distinct, since those alone are).
pub const EXACT_SPACE: u128 = 1 << 120;

/// Positions of a fixed-length value, each with its number of symbols
/// (its radix): the value numbered `i` has, at each position, a digit of
/// `i` in the mixed-radix system of those radices, the last position least
/// significant.
#[derive(Debug, Clone)]
pub struct Radix {
    radices: Vec<u32>,
    /// The first position that is permuted (positions before it are drawn
    /// at random when the whole space exceeds [`EXACT_SPACE`]).
    first: usize,
    /// Values the permuted positions hold.
    values: u128,
}

impl Radix {
    /// The space of `radices` (each at least 1).
    pub fn new(radices: Vec<u32>) -> Radix {
        let mut values: u128 = 1;
        let mut first = radices.len();
        while first > 0 {
            let r = u128::from(radices[first - 1].max(1));
            match values.checked_mul(r) {
                Some(v) if v <= EXACT_SPACE => {
                    values = v;
                    first -= 1;
                }
                _ => break,
            }
        }
        Radix {
            radices,
            first,
            values,
        }
    }

    /// Values in the whole space, or `None` beyond `u128`.
    pub fn size(&self) -> Option<u128> {
        self.radices
            .iter()
            .try_fold(1u128, |n, &r| n.checked_mul(u128::from(r.max(1))))
    }

    /// Distinct values it can give: the whole space, or [`EXACT_SPACE`]-ish
    /// when the space is larger (the permuted trailing positions).
    pub fn distinct(&self) -> u128 {
        self.values
    }

    /// The digits of the value numbered `i` (in `0..distinct()`), position
    /// by position, into `out`: the trailing positions from `i`, the
    /// leading ones (only for spaces beyond [`EXACT_SPACE`]) from `random`.
    pub fn digits(&self, i: u128, mut random: impl FnMut(u32) -> u32, out: &mut Vec<u32>) {
        out.clear();
        out.extend(self.radices[..self.first].iter().map(|&r| random(r)));
        let start = out.len();
        out.resize(self.radices.len(), 0);
        let slots = out[start..]
            .iter_mut()
            .zip(&self.radices[self.first..])
            .rev();
        // 64-bit division where the number allows: a 128-bit one costs
        // several times more, once per position.
        match u64::try_from(i) {
            Ok(mut i) => {
                for (slot, &r) in slots {
                    let r = u64::from(r.max(1));
                    *slot = (i % r) as u32;
                    i /= r;
                }
            }
            Err(_) => {
                let mut i = i;
                for (slot, &r) in slots {
                    let r = u128::from(r.max(1));
                    *slot = (i % r) as u32;
                    i /= r;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_bijections() {
        for n in [1u64, 2, 3, 7, 100, 1_000, 4_097] {
            let mut seen: Vec<u64> = (0..n).map(|x| permute(x, n, 42)).collect();
            seen.sort_unstable();
            assert!(seen.iter().copied().eq(0..n), "n = {n}");
        }
        assert_ne!(permute(5, 1_000, 1), permute(5, 1_000, 2));
    }

    #[test]
    fn wide_permutations_are_bijections_on_what_they_are_given() {
        // Beyond 64 bits: the images of the first rows are distinct and in range.
        let n: u128 = (1 << 90) + 12_345;
        let mut seen: Vec<u128> = (0..20_000).map(|x| permute128(x, n, 7)).collect();
        assert!(seen.iter().all(|&y| y < n));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 20_000);
        // Within 64 bits it is `permute`.
        assert_eq!(permute128(5, 1_000, 3), u128::from(permute(5, 1_000, 3)));
    }

    #[test]
    fn radix_spaces_number_every_value_once() {
        let radix = Radix::new(vec![3, 1, 4, 2]);
        assert_eq!(radix.size(), Some(24));
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for row in 0..24 {
            radix.digits(
                u128::from(permute(row, 24, 9)),
                |_| unreachable!("all positions fit"),
                &mut out,
            );
            assert!(out.iter().zip([3, 1, 4, 2]).all(|(&d, r)| d < r));
            assert!(seen.insert(out.clone()));
        }
        // A space beyond EXACT_SPACE: leading positions random, the rest distinct.
        let wide = Radix::new(vec![10; 50]);
        assert_eq!(wide.size(), None);
        assert!(wide.distinct() <= EXACT_SPACE && wide.distinct() >= EXACT_SPACE / 10);
        let mut seen = std::collections::HashSet::new();
        for row in 0..5_000u64 {
            wide.digits(
                permute128(u128::from(row), wide.distinct(), 1),
                |r| r - 1,
                &mut out,
            );
            assert_eq!(out.len(), 50);
            assert!(seen.insert(out.clone()));
        }
    }
}
