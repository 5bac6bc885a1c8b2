//! Distributions, weights and rates, checked statistically at a fixed seed:
//! Kolmogorov–Smirnov for continuous shapes, chi-square for discrete ones,
//! a z-score for rates. Critical values are at α = 0.001, so a correct
//! generator essentially never fails and a wrong shape always does.

use datagen::generate::{Generators, Plan};
use datagen::genfile;
use datagen::value::Value;

const N: usize = 20_000;

const GENFILE: &str = r#"
[run]
seed = 1234
[tables.t]
rows = 20000
[tables.t.columns]
uniform  = { gen = "float", min = 0, max = 10 }
normal   = { gen = "float", min = -1000, max = 1000, dist = { normal = { mean = 50, std = 10 } } }
lognorm  = { gen = "float", min = 0, max = 1e9, dist = { lognormal = { mu = 1, sigma = 0.5 } } }
expo     = { gen = "float", min = 0, max = 1e9, dist = { exponential = { lambda = 0.5 } } }
weighted = { gen = "choice", values = ["a", "b", "c"], weights = [6, 3, 1] }
zipf     = { gen = "choice", values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dist = { zipf = { s = 1.1 } } }
nulls    = { gen = "int", min = 1, max = 9, null_rate = 0.25 }
coin     = { gen = "bool", p = 0.3 }
[tables.kids]
per = { parent = "t", count = { poisson = { lambda = 3 } } }
[tables.kids.columns]
id = { gen = "sequence" }
"#;

struct Data {
    schema: datagen::schema::Schema,
    blocks: Vec<datagen::value::Block>,
}

fn data() -> Data {
    let schema = genfile::parse("stats.toml".as_ref(), GENFILE.as_bytes()).unwrap();
    let counts = Generators::new(&schema, schema.seed, &vec![0; schema.tables.len()]);
    let plan = Plan::new(&schema, &counts, 1.0, 4096).expect("a plan");
    let generators = std::sync::Arc::new(Generators::new(&schema, schema.seed, &plan.table_rows));
    let blocks = plan
        .units(generators.clone())
        .flat_map(|u| {
            generators
                .generate(u.root, u.rows.clone(), &u.starts)
                .expect("rows")
        })
        .collect();
    Data { schema, blocks }
}

impl Data {
    fn column(&self, table: &str, column: &str) -> Vec<(Value, String)> {
        let t = self.schema.table_index(table).unwrap();
        let c = self.schema.tables[t].column_index(column).unwrap();
        self.blocks
            .iter()
            .filter(|b| b.table == t)
            .flat_map(|b| {
                (0..b.len()).map(move |i| {
                    let v = b.row(i)[c];
                    let text = match v {
                        Value::Text(s, e) => b.str(s, e).to_owned(),
                        _ => String::new(),
                    };
                    (v, text)
                })
            })
            .collect()
    }

    fn floats(&self, column: &str) -> Vec<f64> {
        self.column("t", column)
            .into_iter()
            .map(|(v, _)| match v {
                Value::Float(x) => x,
                other => panic!("{column}: {other:?}"),
            })
            .collect()
    }
}

/// erf by Abramowitz & Stegun 7.1.26 (error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

fn normal_cdf(x: f64, mean: f64, std: f64) -> f64 {
    0.5 * (1.0 + erf((x - mean) / (std * std::f64::consts::SQRT_2)))
}

/// The Kolmogorov–Smirnov statistic of `xs` against `cdf`.
fn ks(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    xs.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
        })
        .fold(0.0, f64::max)
}

/// The critical KS distance at α = 0.001.
fn ks_critical(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

/// Pearson's chi-square of observed counts against expected probabilities.
fn chi_square(observed: &[u64], probabilities: &[f64]) -> f64 {
    let n: u64 = observed.iter().sum();
    observed
        .iter()
        .zip(probabilities)
        .map(|(&o, &p)| {
            let e = p * n as f64;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

/// Chi-square critical values at α = 0.001 by degrees of freedom.
fn chi_critical(df: usize) -> f64 {
    [
        0.0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59, 31.26, 32.91,
    ][df]
}

#[test]
fn continuous_shapes_pass_kolmogorov_smirnov() {
    let d = data();
    let crit = ks_critical(N);
    let uniform = ks(d.floats("uniform"), |x| (x / 10.0).clamp(0.0, 1.0));
    assert!(uniform < crit, "uniform D = {uniform}");
    let normal = ks(d.floats("normal"), |x| normal_cdf(x, 50.0, 10.0));
    assert!(normal < crit, "normal D = {normal}");
    let lognormal = ks(d.floats("lognorm"), |x| {
        if x <= 0.0 {
            0.0
        } else {
            normal_cdf(x.ln(), 1.0, 0.5)
        }
    });
    assert!(lognormal < crit, "lognormal D = {lognormal}");
    let expo = ks(d.floats("expo"), |x| 1.0 - (-0.5 * x).exp());
    assert!(expo < crit, "exponential D = {expo}");
    // And the test has teeth: the normal sample is not exponential.
    let wrong = ks(d.floats("normal"), |x| normal_cdf(x, 51.0, 10.0));
    assert!(
        wrong > crit,
        "a shifted normal should be rejected: D = {wrong}"
    );
}

#[test]
fn weights_and_zipf_pass_chi_square() {
    let d = data();
    let mut counts = [0u64; 3];
    for (_, text) in d.column("t", "weighted") {
        counts[(text.as_bytes()[0] - b'a') as usize] += 1;
    }
    let chi = chi_square(&counts, &[0.6, 0.3, 0.1]);
    assert!(
        chi < chi_critical(2),
        "weights: chi² = {chi}, counts {counts:?}"
    );

    let mut zipf = [0u64; 10];
    for (v, _) in d.column("t", "zipf") {
        let Value::Int(k) = v else { panic!("{v:?}") };
        zipf[(k - 1) as usize] += 1;
    }
    let h: f64 = (1..=10).map(|k| 1.0 / f64::from(k).powf(1.1)).sum();
    let p: Vec<f64> = (1..=10).map(|k| 1.0 / f64::from(k).powf(1.1) / h).collect();
    let chi = chi_square(&zipf, &p);
    assert!(chi < chi_critical(9), "zipf: chi² = {chi}, counts {zipf:?}");
}

#[test]
fn poisson_counts_pass_chi_square() {
    let d = data();
    let t = d.schema.table_index("kids").unwrap();
    // Children per parent row, as the plan draws them.
    let schema = &d.schema;
    let counts = Generators::new(schema, schema.seed, &vec![0; schema.tables.len()]);
    let mut bins = [0u64; 9]; // 0..=7, and 8 or more
    for row in 0..N as u64 {
        bins[(counts.count(t, row) as usize).min(8)] += 1;
    }
    let lambda: f64 = 3.0;
    let mut p: Vec<f64> = (0..8)
        .map(|k| {
            let fact: f64 = (1..=k).map(f64::from).product();
            lambda.powi(k) * (-lambda).exp() / fact
        })
        .collect();
    p.push(1.0 - p.iter().sum::<f64>());
    let chi = chi_square(&bins, &p);
    assert!(
        chi < chi_critical(8),
        "poisson: chi² = {chi}, bins {bins:?}"
    );
    let kids: usize = d
        .blocks
        .iter()
        .filter(|b| b.table == t)
        .map(|b| b.len())
        .sum();
    assert_eq!(
        kids as u64,
        (0..N as u64).map(|r| counts.count(t, r)).sum::<u64>()
    );
}

#[test]
fn null_rate_and_bool_probability_hold() {
    let d = data();
    let z = |hits: usize, p: f64| (hits as f64 - p * N as f64) / (N as f64 * p * (1.0 - p)).sqrt();
    let nulls = d
        .column("t", "nulls")
        .iter()
        .filter(|(v, _)| *v == Value::Null)
        .count();
    assert!(
        z(nulls, 0.25).abs() < 3.3,
        "{nulls} NULLs of {N} for null_rate 0.25"
    );
    let heads = d
        .column("t", "coin")
        .iter()
        .filter(|(v, _)| *v == Value::Bool(true))
        .count();
    assert!(z(heads, 0.3).abs() < 3.3, "{heads} true of {N} for p = 0.3");
}

#[test]
fn every_count_form_draws_its_distribution() {
    let text = r#"
[tables.p]
rows = 20000
[tables.p.columns]
id = { gen = "sequence" }
[tables.zipf]
per = { parent = "p", count = { zipf = { s = 1.5, max = 8 } } }
[tables.zipf.columns]
id = { gen = "sequence" }
[tables.expo]
per = { parent = "p", count = { exponential = { lambda = 0.5 } } }
[tables.expo.columns]
id = { gen = "sequence" }
[tables.logn]
per = { parent = "p", count = { lognormal = { mu = 1, sigma = 0.3 } } }
[tables.logn.columns]
id = { gen = "sequence" }
"#;
    let schema = genfile::parse("counts.toml".as_ref(), text.as_bytes()).unwrap();
    let g = Generators::new(&schema, 9, &vec![0; schema.tables.len()]);
    let draws = |name: &str| -> Vec<u64> {
        let t = schema.table_index(name).unwrap();
        (0..N as u64).map(|row| g.count(t, row)).collect()
    };
    let mut zipf = [0u64; 8];
    for k in draws("zipf") {
        assert!((1..=8).contains(&k), "zipf count {k}");
        zipf[(k - 1) as usize] += 1;
    }
    let h: f64 = (1..=8).map(|k| f64::from(k).powf(-1.5)).sum();
    let p: Vec<f64> = (1..=8).map(|k| f64::from(k).powf(-1.5) / h).collect();
    let chi = chi_square(&zipf, &p);
    assert!(chi < chi_critical(7), "zipf counts: chi² = {chi}, {zipf:?}");
    // floor of an exponential with rate λ is geometric with p = 1 - e^-λ.
    let q = (-0.5f64).exp();
    let mut geo = [0u64; 9];
    for k in draws("expo") {
        geo[(k as usize).min(8)] += 1;
    }
    let mut p: Vec<f64> = (0..8).map(|k| (1.0 - q) * q.powi(k)).collect();
    p.push(q.powi(8));
    let chi = chi_square(&geo, &p);
    assert!(
        chi < chi_critical(8),
        "exponential counts: chi² = {chi}, {geo:?}"
    );
    let logn = draws("logn");
    let mean = logn.iter().sum::<u64>() as f64 / N as f64;
    assert!(
        (mean - (1.0f64 + 0.045).exp()).abs() < 0.1,
        "lognormal counts mean {mean}"
    );
}
