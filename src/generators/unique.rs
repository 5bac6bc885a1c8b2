//! Keyed permutations: how `unique = true` makes distinct values over a
//! range without remembering any. The row index goes through a bijection of
//! `0..n` keyed by the column's stream, so each row's value is computable
//! alone, in any order, on any thread, and no two rows share one.

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
        let (mut l, mut r) = (y >> half, y & mask);
        for round in 0..4u64 {
            let f =
                crate::rng::mix64(r ^ key.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
                    & mask;
            (l, r) = (r, l ^ f);
        }
        y = (l << half) | r;
        if y < n {
            return y;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permutations_are_bijections() {
        for n in [1u64, 2, 3, 7, 100, 1_000, 4_097] {
            let mut seen: Vec<u64> = (0..n).map(|x| permute(x, n, 42)).collect();
            seen.sort_unstable();
            assert!(seen.iter().copied().eq(0..n), "n = {n}");
        }
        assert_ne!(permute(5, 1_000, 1), permute(5, 1_000, 2));
    }
}
