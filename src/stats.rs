//! The statistics behind accuracy figures (issue 13): Wilson score intervals for a share,
//! and the comparison of two shares (Fisher's exact test for small counts, the
//! two-proportion z-test otherwise) with Holm's correction over several comparisons. Pure
//! functions on counts, checked against published reference values.

/// The normal quantile of a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Under this many in any cell of the 2×2 table, two shares are compared with Fisher's
/// exact test instead of the z-test.
pub const FISHER_BELOW: u64 = 10;

/// The 95% Wilson score interval of `k` successes in `n` trials, or `None` when `n` is 0
/// (no data is no figure). Both bounds lie in 0..=1.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || k > n {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let z2 = Z_95 * Z_95;
    let p = k / n;
    let denominator = 1.0 + z2 / n;
    let centre = p + z2 / (2.0 * n);
    let margin = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let low = ((centre - margin) / denominator).clamp(0.0, 1.0);
    let high = ((centre + margin) / denominator).clamp(0.0, 1.0);
    // At k = 0 and k = n the bound is exactly 0 or 1; rounding must not move it.
    Some((
        if k == 0.0 { 0.0 } else { low },
        if k == n { 1.0 } else { high },
    ))
}

/// Which test compared two shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    FisherExact,
    TwoProportionZ,
}

impl Test {
    /// As the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Test::FisherExact => "Fisher's exact test (two-sided)",
            Test::TwoProportionZ => "two-proportion z-test (two-sided)",
        }
    }
}

/// Two shares compared: the test used and its two-sided p-value.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub test: Test,
    pub p: f64,
}

/// Compares `k1` of `n1` with `k2` of `n2`: Fisher's exact test when any cell of the 2×2
/// table is under [`FISHER_BELOW`], otherwise the pooled two-proportion z-test. `None` when
/// either side has no trials.
pub fn compare(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<Comparison> {
    if n1 == 0 || n2 == 0 || k1 > n1 || k2 > n2 {
        return None;
    }
    let cells = [k1, n1 - k1, k2, n2 - k2];
    Some(if cells.iter().any(|&c| c < FISHER_BELOW) {
        Comparison {
            test: Test::FisherExact,
            p: fisher_exact(k1, n1 - k1, k2, n2 - k2),
        }
    } else {
        Comparison {
            test: Test::TwoProportionZ,
            p: two_proportion_z(k1, n1, k2, n2).1,
        }
    })
}

/// The pooled two-proportion z statistic of `k1/n1` against `k2/n2` and its two-sided
/// p-value (1 when both shares are 0 or both 1: nothing differs).
pub fn two_proportion_z(k1: u64, n1: u64, k2: u64, n2: u64) -> (f64, f64) {
    let (k1, n1, k2, n2) = (k1 as f64, n1 as f64, k2 as f64, n2 as f64);
    let pooled = (k1 + k2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return (0.0, 1.0);
    }
    let z = (k1 / n1 - k2 / n2) / se;
    (z, erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}

/// Fisher's exact test of the 2×2 table `[[a, b], [c, d]]`, two-sided: the probability, with
/// the margins fixed, of a table at most as likely as the one seen.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row1 = a + b;
    let col1 = a + c;
    let n = a + b + c + d;
    let low = col1.saturating_sub(c + d);
    let high = row1.min(col1);
    // ln P(X = x) for the hypergeometric count in the top-left cell.
    let ln_p = |x: u64| ln_choose(row1, x) + ln_choose(n - row1, col1 - x) - ln_choose(n, col1);
    let seen = ln_p(a);
    // Tables within a relative 1e-7 of the one seen count as equally likely (floating point).
    let cut = seen + 1e-7_f64.ln_1p();
    let p: f64 = (low..=high)
        .map(ln_p)
        .filter(|&l| l <= cut)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
}

/// ln(n!): summed exactly for small n, Stirling's series (error under 1e-12) above.
fn ln_factorial(n: u64) -> f64 {
    if n < 256 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64 + 1.0;
    // ln Γ(x) by Stirling's series with three correction terms.
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
        + 1.0 / (1260.0 * x.powi(5))
}

/// The complementary error function, by its continued-fraction-free Chebyshev fit
/// (fractional error under 1.2e-7 everywhere), enough for p-values shown to 3 digits.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Holm's step-down correction: each p-value adjusted for the number of comparisons made,
/// in the order given. A comparison is significant at 5% when its adjusted p is under 0.05.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p_values[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn wilson_bounds_match_newcombes_published_examples() {
        // Newcombe (1998), Statistics in Medicine 17:857-872, table II, method 3.
        for (k, n, low, high) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (l, h) = wilson(k, n).unwrap();
            assert!(
                close(l, low, 5e-5) && close(h, high, 5e-5),
                "{k}/{n}: {l:.4}–{h:.4}"
            );
        }
        assert_eq!(wilson(0, 10).map(|b| b.0), Some(0.0));
        let (low, high) = wilson(10, 10).unwrap();
        assert!(close(low, 0.7225, 5e-5) && high == 1.0, "{low}");
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(3, 2), None);
    }

    #[test]
    fn fisher_matches_the_tea_tasting_and_textbook_tables() {
        // Fisher's lady tasting tea, 3 of 4 cups right: two-sided p = 0.4857.
        assert!(close(fisher_exact(3, 1, 1, 3), 0.485_714, 1e-6));
        // The 2×2 example on Wikipedia's "Fisher's exact test": two-sided p = 0.002759.
        assert!(close(fisher_exact(1, 9, 11, 3), 0.002_759, 1e-6));
        // Identical shares: nothing at all differs.
        assert!(close(fisher_exact(5, 5, 5, 5), 1.0, 1e-9));
        // Large counts go through Stirling's series; exact value (Python's integer
        // binomials): 0.000895088.
        let p = fisher_exact(900, 100, 850, 150);
        assert!(close(p, 0.000_895_088, 1e-8), "{p}");
    }

    #[test]
    fn the_z_test_gives_the_normal_tail() {
        // 90/100 against 80/100: z = 1.980, p = 0.0477.
        let (z, p) = two_proportion_z(90, 100, 80, 100);
        assert!(
            close(z, 1.980_295, 1e-5) && close(p, 0.047_670, 2e-6),
            "{z} {p}"
        );
        // erfc at the 95% and 99% quantiles.
        assert!(close(erfc(Z_95 / std::f64::consts::SQRT_2), 0.05, 1e-7));
        assert!(close(
            erfc(2.575_829_3 / std::f64::consts::SQRT_2),
            0.01,
            1e-7
        ));
        assert_eq!(two_proportion_z(10, 10, 20, 20), (0.0, 1.0));
    }

    #[test]
    fn small_cells_pick_fisher_and_large_ones_the_z_test() {
        assert_eq!(compare(3, 4, 1, 4).unwrap().test, Test::FisherExact);
        assert_eq!(compare(95, 100, 90, 100).unwrap().test, Test::FisherExact);
        let large = compare(412, 450, 300, 350).unwrap();
        assert_eq!(large.test, Test::TwoProportionZ);
        assert!(close(large.p, 0.008_807, 1e-5), "{}", large.p);
        assert_eq!(compare(1, 0, 1, 1), None);
    }

    #[test]
    fn holm_adjusts_in_step_down_order() {
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        for (got, want) in adjusted.iter().zip([0.03, 0.06, 0.06]) {
            assert!(close(*got, want, 1e-12), "{adjusted:?}");
        }
        assert_eq!(holm(&[0.5, 0.9]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }
}
