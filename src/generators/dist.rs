//! Distributions: the shapes a Genfile names (`dist` of a value, `count`
//! of a `per` table), how they are read, and how they are sampled.
//!
//! One definition serves every family: [`Dist`] is the shape of values
//! (and of picks among values), [`Count`] the shape of child counts, which
//! reuses [`Dist`] for the shapes both know. Sampling is deterministic:
//! every draw comes from the row's own stream, and a value outside its
//! range is drawn again from the same stream ([`Real::sample`]).

use rand::RngExt;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, LogNormal, Normal, Poisson, Zipf};
use serde_spanned::Spanned;
use toml::Value as TomlValue;

use crate::diag::{nearest, Diagnostic};
use crate::rng::RowRng;

/// A numeric distribution over `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Every value equally likely.
    Uniform,
    /// Normal, truncated to the range.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Log-normal, truncated to the range.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Exponential from `min`, truncated to the range.
    Exponential {
        /// Rate.
        lambda: f64,
    },
    /// Poisson with mean `lambda`, truncated to the range.
    Poisson {
        /// Mean.
        lambda: f64,
    },
    /// Zipf over the values in order: the first is the most frequent.
    Zipf {
        /// Exponent.
        s: f64,
    },
}

/// Children per parent row of a `per` table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    /// Always `n`.
    Fixed(u64),
    /// Uniform in `min..=max`.
    Uniform {
        /// Smallest count.
        min: u64,
        /// Largest count.
        max: u64,
    },
    /// Zipf over `1..=max`: mostly one child, a few parents with many.
    Zipf {
        /// Exponent.
        s: f64,
        /// Most children.
        max: u64,
    },
    /// A draw of a distribution: Poisson as drawn, normal and log-normal
    /// rounded (never below zero), exponential rounded down.
    Dist(Dist),
}

const DIST_NAMES: &[&str] = &[
    "uniform",
    "normal",
    "lognormal",
    "exponential",
    "zipf",
    "poisson",
];

/// Reads `{ NAME = { PARAMS } }` (or a bare string for parameterless forms).
pub fn tagged(v: &Spanned<TomlValue>) -> Option<(&str, Option<&toml::Table>)> {
    match v.get_ref() {
        TomlValue::String(s) => Some((s.as_str(), None)),
        TomlValue::Table(t) if t.len() == 1 => {
            let (k, inner) = t.iter().next()?;
            match inner {
                TomlValue::Table(params) => Some((k.as_str(), Some(params))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A finite number in `{ NAME = { PARAMS } }`: NaN and infinities read
/// as no number.
pub fn param(params: Option<&toml::Table>, key: &str) -> Option<f64> {
    match params?.get(key)? {
        TomlValue::Integer(i) => Some(*i as f64),
        TomlValue::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// Whether `key` holds NaN or an infinity.
fn not_finite(params: Option<&toml::Table>, key: &str) -> Option<f64> {
    match params?.get(key)? {
        TomlValue::Float(f) if !f.is_finite() => Some(*f),
        _ => None,
    }
}

/// What is wrong with relative `weights`, if anything: each must be a
/// finite number, 0 or more, and not all 0.
pub fn weights_problem(weights: &[f64]) -> Option<String> {
    if let Some(w) = weights.iter().find(|w| !w.is_finite()) {
        return Some(format!("weight {w} is not a finite number"));
    }
    if let Some(w) = weights.iter().find(|w| **w < 0.0) {
        return Some(format!("weight {w} is negative"));
    }
    let sum: f64 = weights.iter().sum();
    if !sum.is_finite() {
        return Some("the weights add up beyond the largest number".into());
    }
    if sum <= 0.0 {
        return Some("every weight is 0".into());
    }
    None
}

/// Parses a `dist`; `what` names the column.
pub fn dist(d: &mut Vec<Diagnostic>, what: &str, v: &Spanned<TomlValue>) -> Option<Dist> {
    let bad = |d: &mut Vec<Diagnostic>, msg: String, help: &str| {
        d.push(Diagnostic::new(v.span(), format!("{what}: {msg}")).help(help.to_owned()));
        None
    };
    let Some((name, params)) = tagged(v) else {
        return bad(
            d,
            "`dist` must be \"uniform\" or a table like `{ normal = { mean = 0, std = 1 } }`"
                .into(),
            "see the distributions: uniform, normal, lognormal, exponential, zipf",
        );
    };
    let need = |d: &mut Vec<Diagnostic>, key: &str, positive: bool| -> Option<f64> {
        if let Some(x) = not_finite(params, key) {
            d.push(Diagnostic::new(
                v.span(),
                format!("{what}: `{name}.{key}` must be a finite number, found {x}"),
            ));
            return None;
        }
        match param(params, key) {
            Some(x) if positive && x <= 0.0 => {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("{what}: `{name}.{key}` must be greater than 0"),
                ));
                None
            }
            Some(x) => Some(x),
            None => {
                d.push(
                    Diagnostic::new(v.span(), format!("{what}: `{name}` needs a number `{key}`"))
                        .help(format!("e.g. `{{ {name} = {{ {key} = 1 }} }}`")),
                );
                None
            }
        }
    };
    match name {
        "uniform" => Some(Dist::Uniform),
        "normal" => Some(Dist::Normal {
            mean: need(d, "mean", false)?,
            std: need(d, "std", true)?,
        }),
        "lognormal" => Some(Dist::LogNormal {
            mu: need(d, "mu", false)?,
            sigma: need(d, "sigma", true)?,
        }),
        "exponential" => Some(Dist::Exponential {
            lambda: need(d, "lambda", true)?,
        }),
        "zipf" => Some(Dist::Zipf {
            s: need(d, "s", true)?,
        }),
        "poisson" => Some(Dist::Poisson {
            lambda: need(d, "lambda", true)?,
        }),
        other => {
            let help = match nearest(other, DIST_NAMES.iter().copied()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("use one of: {}", DIST_NAMES.join(", ")),
            };
            bad(d, format!("unknown distribution `{other}`"), &help)
        }
    }
}

/// Parses a `per` table's `count`; `what` names the table.
pub fn count(d: &mut Vec<Diagnostic>, what: &str, v: &Spanned<TomlValue>) -> Option<Count> {
    const FORMS: &str = "{ fixed = N }, { uniform = { min, max } }, { poisson = { lambda } }, { normal = { mean, std } }, { lognormal = { mu, sigma } }, { exponential = { lambda } }, { zipf = { s, max } }";
    if let TomlValue::Integer(n) = v.get_ref() {
        if *n >= 0 {
            return Some(Count::Fixed(*n as u64));
        }
    }
    let Some(TomlValue::Table(t)) = Some(v.get_ref()) else {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: `count` must be a table"))
                .help(format!("use one of: {FORMS}")),
        );
        return None;
    };
    let Some((name, inner)) = t.iter().next().filter(|_| t.len() == 1) else {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: `count` must name one form"))
                .help(format!("use one of: {FORMS}")),
        );
        return None;
    };
    let num = |key: &str| match inner {
        TomlValue::Table(p) => param(Some(p), key),
        _ => None,
    };
    let bad = |d: &mut Vec<Diagnostic>, msg: &str| {
        d.push(
            Diagnostic::new(v.span(), format!("{what}: {msg}"))
                .help(format!("use one of: {FORMS}")),
        );
        None
    };
    match name.as_str() {
        "fixed" => match inner {
            TomlValue::Integer(n) if *n >= 0 => Some(Count::Fixed(*n as u64)),
            _ => bad(d, "`fixed` must be a whole number of children, 0 or more"),
        },
        "uniform" => match (num("min"), num("max")) {
            (Some(min), Some(max))
                if min >= 0.0 && min <= max && min.fract() == 0.0 && max.fract() == 0.0 =>
            {
                Some(Count::Uniform {
                    min: min as u64,
                    max: max as u64,
                })
            }
            _ => bad(d, "`uniform` count needs whole numbers 0 <= min <= max"),
        },
        "poisson" => match num("lambda") {
            Some(lambda) if lambda > 0.0 => Some(Count::Dist(Dist::Poisson { lambda })),
            _ => bad(d, "`poisson` count needs a finite `lambda` greater than 0"),
        },
        "normal" => match (num("mean"), num("std")) {
            (Some(mean), Some(std)) if std > 0.0 => Some(Count::Dist(Dist::Normal { mean, std })),
            _ => bad(
                d,
                "`normal` count needs a finite `mean` and a finite `std` greater than 0",
            ),
        },
        "lognormal" => match (num("mu"), num("sigma")) {
            (Some(mu), Some(sigma)) if sigma > 0.0 => {
                Some(Count::Dist(Dist::LogNormal { mu, sigma }))
            }
            _ => bad(
                d,
                "`lognormal` count needs a finite `mu` and a finite `sigma` greater than 0",
            ),
        },
        "exponential" => match num("lambda") {
            Some(lambda) if lambda > 0.0 => Some(Count::Dist(Dist::Exponential { lambda })),
            _ => bad(
                d,
                "`exponential` count needs a finite `lambda` greater than 0",
            ),
        },
        "zipf" => match (num("s"), num("max")) {
            (Some(s), Some(max)) if s > 0.0 && max >= 1.0 && max.fract() == 0.0 => {
                Some(Count::Zipf { s, max: max as u64 })
            }
            _ => bad(
                d,
                "`zipf` count needs a finite `s` greater than 0 and a whole `max` of at least 1",
            ),
        },
        other => {
            let forms = [
                "fixed",
                "uniform",
                "poisson",
                "normal",
                "lognormal",
                "exponential",
                "zipf",
            ];
            let help = match nearest(other, forms) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("use one of: {FORMS}"),
            };
            d.push(
                Diagnostic::new(v.span(), format!("{what}: unknown count form `{other}`"))
                    .help(help),
            );
            None
        }
    }
}

impl Count {
    /// The expected number of children per parent, roughly (Zipf's is at
    /// least 1): what a plan estimates a table's size with before it
    /// draws the counts.
    pub fn mean(&self) -> f64 {
        match *self {
            Count::Fixed(n) => n as f64,
            Count::Uniform { min, max } => (min as f64 + max as f64) / 2.0,
            Count::Zipf { .. } => 1.0,
            Count::Dist(Dist::Poisson { lambda }) => lambda,
            Count::Dist(Dist::Normal { mean, .. }) => mean.max(0.0),
            Count::Dist(Dist::LogNormal { mu, sigma }) => (mu + sigma * sigma / 2.0).exp(),
            Count::Dist(Dist::Exponential { lambda }) => 1.0 / lambda,
            Count::Dist(Dist::Uniform | Dist::Zipf { .. }) => 0.0,
        }
    }
}

/// Tries before a truncated distribution gives up and clamps.
const RESAMPLES: usize = 16;

/// A distribution ready to sample values in a range.
#[derive(Debug, Clone)]
pub enum Real {
    /// Every value equally likely.
    Uniform,
    /// Normal.
    Normal(Normal<f64>),
    /// Log-normal.
    LogNormal(LogNormal<f64>),
    /// Exponential from the range's start, with this rate.
    Exponential(f64),
    /// Poisson.
    Poisson(Poisson<f64>),
    /// Zipf over the range; its table is built on first use, when the range is known.
    Zipf(f64, std::sync::OnceLock<ZipfTable>),
}

/// Ranks `1..=n` with probability proportional to `k^-s`: an alias table
/// (O(1) per draw) up to a million ranks, a rejection sampler beyond.
#[derive(Debug, Clone)]
pub enum ZipfTable {
    /// An alias table: O(1) per draw.
    Alias(WeightedAliasIndex<f64>),
    /// A rejection sampler, for more ranks than an alias table should hold.
    Rejection(Zipf<f64>),
    /// A single rank.
    One,
}

/// Ranks beyond which a Zipf alias table would cost too much memory.
const ZIPF_ALIAS_MAX: u64 = 1 << 20;

impl ZipfTable {
    /// The table of ranks `1..=n` with exponent `s`.
    pub fn new(n: u64, s: f64) -> ZipfTable {
        if n <= 1 {
            return ZipfTable::One;
        }
        if n <= ZIPF_ALIAS_MAX {
            let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
            if let Ok(alias) = WeightedAliasIndex::new(weights) {
                return ZipfTable::Alias(alias);
            }
        }
        Zipf::new(n as f64, s).map_or(ZipfTable::One, ZipfTable::Rejection)
    }

    /// A rank from 1 to n.
    pub fn rank(&self, rng: &mut RowRng) -> u64 {
        match self {
            ZipfTable::Alias(a) => a.sample(rng) as u64 + 1,
            ZipfTable::Rejection(z) => z.sample(rng) as u64,
            ZipfTable::One => 1,
        }
    }
}

impl Real {
    /// The sampler of `dist`.
    pub fn new(dist: Dist) -> Real {
        match dist {
            Dist::Uniform => Real::Uniform,
            Dist::Normal { mean, std } => {
                Normal::new(mean, std).map_or(Real::Uniform, Real::Normal)
            }
            Dist::LogNormal { mu, sigma } => {
                LogNormal::new(mu, sigma).map_or(Real::Uniform, Real::LogNormal)
            }
            Dist::Exponential { lambda } => Real::Exponential(lambda),
            Dist::Poisson { lambda } => Poisson::new(lambda).map_or(Real::Uniform, Real::Poisson),
            Dist::Zipf { s } => Real::Zipf(s, std::sync::OnceLock::new()),
        }
    }

    /// A whole number in `[min, max]`: exactly over the whole `i64` range
    /// when uniform; a shape is drawn in `f64` and kept in the range.
    #[inline]
    pub fn sample_int(&self, rng: &mut RowRng, min: i64, max: i64) -> i64 {
        match self {
            Real::Uniform => rng.random_range(min..=max),
            _ => (self.sample(rng, min as f64, max as f64, true) as i64).clamp(min, max),
        }
    }

    /// A value in `[min, max]`; `integral` ranges are sampled as whole numbers.
    pub fn sample(&self, rng: &mut RowRng, min: f64, max: f64, integral: bool) -> f64 {
        let draw = |rng: &mut RowRng| -> f64 {
            match self {
                Real::Uniform => unreachable!("uniform is sampled directly"),
                Real::Normal(d) => d.sample(rng),
                Real::LogNormal(d) => d.sample(rng),
                Real::Exponential(lambda) => min + -(1.0 - rng.random::<f64>()).ln() / lambda,
                Real::Poisson(d) => d.sample(rng),
                Real::Zipf(s, table) => {
                    let n = (max - min + 1.0).max(1.0) as u64;
                    min + table.get_or_init(|| ZipfTable::new(n, *s)).rank(rng) as f64 - 1.0
                }
            }
        };
        match self {
            Real::Uniform if integral => rng.random_range(min as i64..=max as i64) as f64,
            Real::Uniform => {
                if min == max {
                    min
                } else if (max - min).is_finite() {
                    rng.random_range(min..=max)
                } else {
                    // Wider than the largest double (-1e308..1e308): mixed
                    // from the ends, each term finite.
                    let u: f64 = rng.random();
                    ((1.0 - u) * min + u * max).clamp(min, max)
                }
            }
            _ => {
                // Whole numbers: a shape that starts at its mode (exponential
                // from `min`, log-normal) takes the whole number below, so
                // value k has the probability of [k, k + 1) and the mode
                // stays at the start; a symmetric one (normal) the nearest,
                // so its mean stays where it was put.
                let floor = matches!(self, Real::Exponential(_) | Real::LogNormal(_));
                for _ in 0..RESAMPLES {
                    let x = draw(rng);
                    let x = match (integral, floor) {
                        (false, _) => x,
                        (true, true) => x.floor(),
                        (true, false) => x.round(),
                    };
                    if (min..=max).contains(&x) {
                        return x;
                    }
                }
                draw(rng).clamp(min, max)
            }
        }
    }
}

/// Picks an index in `0..n`: uniformly, by weights, or by a distribution
/// (`ref`, `choice`, `dict`).
#[derive(Debug, Clone)]
pub enum Pick {
    /// Uniform over `0..n`.
    Uniform(u64),
    /// Zipf: the first index most often.
    Zipf(ZipfTable),
    /// By weights, through an alias table.
    Weighted(WeightedAliasIndex<f64>),
    /// By another distribution over `0..n`.
    Real(Real, u64),
}

impl Pick {
    /// A pick among `n` by `dist`, or by `weights` when given.
    pub fn new(n: u64, dist: Dist, weights: Option<&[f64]>) -> Pick {
        if let Some(w) = weights {
            if let Ok(alias) = WeightedAliasIndex::new(w.to_vec()) {
                return Pick::Weighted(alias);
            }
        }
        match dist {
            Dist::Uniform => Pick::Uniform(n),
            Dist::Zipf { s } => Pick::Zipf(ZipfTable::new(n, s)),
            other => Pick::Real(Real::new(other), n),
        }
    }

    /// An index in `0..n`.
    pub fn pick(&self, rng: &mut RowRng) -> u64 {
        match self {
            Pick::Uniform(n) => rng.random_range(0..(*n).max(1)),
            Pick::Zipf(z) => z.rank(rng) - 1,
            Pick::Weighted(alias) => alias.sample(rng) as u64,
            Pick::Real(real, n) => real.sample(rng, 0.0, (*n).max(1) as f64 - 1.0, true) as u64,
        }
    }
}

/// How many children each parent row gets, ready to draw.
#[derive(Debug, Clone)]
pub enum Counter {
    /// Always this many.
    Fixed(u64),
    /// Uniform in `min..=max`.
    Uniform(u64, u64),
    /// Poisson.
    Poisson(Poisson<f64>),
    /// Normal, rounded, never below zero.
    Normal(Normal<f64>),
    /// Log-normal, rounded.
    LogNormal(LogNormal<f64>),
    /// Exponential with this rate, rounded down.
    Exponential(f64),
    /// Zipf ranks from 1.
    Zipf(ZipfTable),
}

impl Counter {
    /// The counter of `count`.
    pub fn new(count: Count) -> Counter {
        match count {
            Count::Fixed(n) => Counter::Fixed(n),
            Count::Uniform { min, max } => Counter::Uniform(min, max),
            Count::Dist(Dist::Poisson { lambda }) => {
                Poisson::new(lambda).map_or(Counter::Fixed(0), Counter::Poisson)
            }
            Count::Dist(Dist::Normal { mean, std }) => {
                Normal::new(mean, std).map_or(Counter::Fixed(0), Counter::Normal)
            }
            Count::Dist(Dist::LogNormal { mu, sigma }) => {
                LogNormal::new(mu, sigma).map_or(Counter::Fixed(0), Counter::LogNormal)
            }
            Count::Dist(Dist::Exponential { lambda }) => Counter::Exponential(lambda),
            Count::Zipf { s, max } => Counter::Zipf(ZipfTable::new(max, s)),
            Count::Dist(Dist::Uniform | Dist::Zipf { .. }) => Counter::Fixed(0),
        }
    }

    /// The number of children, drawn from `rng` (the parent row's).
    pub fn draw(&self, rng: &mut RowRng) -> u64 {
        match self {
            Counter::Fixed(n) => *n,
            Counter::Uniform(min, max) => rng.random_range(*min..=*max),
            Counter::Poisson(p) => p.sample(rng) as u64,
            Counter::Normal(n) => n.sample(rng).round().max(0.0) as u64,
            Counter::LogNormal(n) => n.sample(rng).round().max(0.0) as u64,
            Counter::Exponential(lambda) => (-(1.0 - rng.random::<f64>()).ln() / lambda) as u64,
            Counter::Zipf(z) => z.rank(rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::row_rng;

    /// Draws of `real` over whole numbers `min..=max`, counted per value.
    fn counts(real: &Real, min: i64, max: i64, n: u64) -> Vec<u64> {
        let mut counts = vec![0u64; (max - min + 1) as usize];
        for row in 0..n {
            let x = real.sample_int(&mut row_rng(0x5eed, row), min, max);
            counts[(x - min) as usize] += 1;
        }
        counts
    }

    /// The normal distribution's CDF (Abramowitz and Stegun 7.1.26: error
    /// below 1.5e-7, far below what 200,000 draws can see).
    fn phi(x: f64) -> f64 {
        let z = x.abs() / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * z);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erf = 1.0 - poly * (-z * z).exp();
        0.5 * (1.0 + if x < 0.0 { -erf } else { erf })
    }

    /// Pearson's statistic of `counts` against `pmf` (normalised over the
    /// range, as truncation does), bins with fewer than 5 expected merged
    /// into their neighbour; and the degrees of freedom.
    fn chi_square(counts: &[u64], pmf: &[f64]) -> (f64, usize) {
        let n: u64 = counts.iter().sum();
        let total: f64 = pmf.iter().sum();
        let (mut stat, mut bins) = (0.0, 0);
        let (mut observed, mut expected) = (0.0, 0.0);
        for (i, (&c, &p)) in counts.iter().zip(pmf).enumerate() {
            observed += c as f64;
            expected += n as f64 * p / total;
            let rest: f64 = pmf[i + 1..].iter().sum::<f64>() * n as f64 / total;
            if expected >= 5.0 && (rest >= 5.0 || i + 1 == counts.len()) {
                stat += (observed - expected).powi(2) / expected;
                bins += 1;
                (observed, expected) = (0.0, 0.0);
            }
        }
        if expected > 0.0 {
            stat += (observed - expected).powi(2) / expected;
            bins += 1;
        }
        (stat, bins - 1)
    }

    /// The statistic χ² with `df` degrees of freedom exceeds with
    /// probability 0.001 (Wilson and Hilferty's approximation).
    fn critical(df: usize) -> f64 {
        let k = df as f64;
        let z = 3.090_2;
        k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
    }

    fn assert_fits(name: &str, counts: &[u64], pmf: &[f64]) {
        let (stat, df) = chi_square(counts, pmf);
        assert!(
            stat < critical(df),
            "{name}: chi-square {stat:.1} with {df} degrees of freedom (critical {:.1})",
            critical(df)
        );
    }

    const DRAWS: u64 = 200_000;

    #[test]
    fn exponential_ints_follow_the_geometric_pmf_with_the_mode_at_min() {
        let lambda = 0.5;
        let c = counts(&Real::new(Dist::Exponential { lambda }), 1, 40, DRAWS);
        assert!(c[0] > c[1], "mode at min: {:?}", &c[..3]);
        let pmf: Vec<f64> = (0..40)
            .map(|k| (-lambda * k as f64).exp() * (1.0 - (-lambda).exp()))
            .collect();
        assert_fits("exponential", &c, &pmf);
    }

    #[test]
    fn log_normal_ints_take_the_mass_of_their_unit_interval() {
        let (mu, sigma) = (2.0, 0.5);
        let c = counts(&Real::new(Dist::LogNormal { mu, sigma }), 0, 80, DRAWS);
        let cdf = |x: f64| {
            if x <= 0.0 {
                0.0
            } else {
                phi((x.ln() - mu) / sigma)
            }
        };
        let pmf: Vec<f64> = (0..=80)
            .map(|k| cdf(k as f64 + 1.0) - cdf(k as f64))
            .collect();
        assert_fits("log-normal", &c, &pmf);
    }

    #[test]
    fn normal_ints_round_to_the_nearest() {
        let (mean, std) = (3.0, 6.0);
        let c = counts(&Real::new(Dist::Normal { mean, std }), -30, 36, DRAWS);
        let pmf: Vec<f64> = (-30..=36)
            .map(|k| phi((k as f64 + 0.5 - mean) / std) - phi((k as f64 - 0.5 - mean) / std))
            .collect();
        assert_fits("normal", &c, &pmf);
    }

    #[test]
    fn poisson_ints_follow_the_poisson_pmf() {
        let lambda = 4.0;
        let c = counts(&Real::new(Dist::Poisson { lambda }), 0, 30, DRAWS);
        let mut p = (-lambda).exp();
        let pmf: Vec<f64> = (0..=30)
            .map(|k| {
                let here = p;
                p *= lambda / (k as f64 + 1.0);
                here
            })
            .collect();
        assert_fits("poisson", &c, &pmf);
    }

    #[test]
    fn zipf_picks_follow_the_power_law() {
        let s = 1.1;
        let pick = Pick::new(30, Dist::Zipf { s }, None);
        let mut c = vec![0u64; 30];
        for row in 0..DRAWS {
            c[pick.pick(&mut row_rng(7, row)) as usize] += 1;
        }
        let pmf: Vec<f64> = (1..=30).map(|k| (k as f64).powf(-s)).collect();
        assert_fits("zipf", &c, &pmf);
    }

    #[test]
    fn exponential_picks_start_at_the_first() {
        let lambda = 0.3;
        let pick = Pick::new(25, Dist::Exponential { lambda }, None);
        let mut c = vec![0u64; 25];
        for row in 0..DRAWS {
            c[pick.pick(&mut row_rng(8, row)) as usize] += 1;
        }
        let pmf: Vec<f64> = (0..25).map(|k| (-lambda * k as f64).exp()).collect();
        assert_fits("exponential pick", &c, &pmf);
    }

    #[test]
    fn the_test_tells_a_wrong_discretisation() {
        // Rounding an exponential (the old discretisation) is refused.
        let lambda = 0.5;
        let mut c = vec![0u64; 40];
        for row in 0..DRAWS {
            let x = (-(1.0 - row_rng(1, row).random::<f64>()).ln() / lambda).round();
            c[(x as usize).min(39)] += 1;
        }
        let pmf: Vec<f64> = (0..40)
            .map(|k| (-lambda * k as f64).exp() * (1.0 - (-lambda).exp()))
            .collect();
        let (stat, df) = chi_square(&c, &pmf);
        assert!(stat > critical(df), "{stat} {df}");
    }
}
