//! Statistics every stage shares: percentages, the Wilson score interval,
//! quantiles by selection and the robust spread (median absolute deviation).

/// `part` as a percentage of `whole` (0 when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        100.0 * part as f64 / whole as f64
    } else {
        0.0
    }
}

/// Wilson score interval for `k` successes in `n` trials at `z` (1.96 for
/// 95 %), as fractions.
pub fn wilson_interval(k: u64, n: u64, z: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (none, all) = (k == 0, k == n);
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Exact bounds at the ends (the formula leaves rounding dust there).
    [
        if none { 0.0 } else { (centre - half).max(0.0) },
        if all { 1.0 } else { (centre + half).min(1.0) },
    ]
}

/// The finite values, sorted ascending.
pub fn sorted_finite(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// The `p` quantile of `sorted` (lower of the bracketing order statistics),
/// `None` when empty.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p) as usize)
        .copied()
}

/// Values a reference statistic (a population's median, a quantile cut)
/// is taken from at most: above it, an evenly strided sample of them. The
/// standard error of a quantile of 2^20 values is below 0.001 in
/// probability, far finer than the 1/256 of the scale thresholds are
/// found on; a tube of 10 million events is not sorted for a median.
pub const REFERENCE_SAMPLE: usize = 1 << 20;

/// The stride that keeps `selected` values to at most
/// [`REFERENCE_SAMPLE`] (1, every value, up to it).
pub fn reference_stride(selected: usize) -> usize {
    selected.div_ceil(REFERENCE_SAMPLE).max(1)
}

/// The `p` quantiles (ascending `ps`) of the finite `values`, as
/// [`quantile`] of the sorted values would give them, in linear time by
/// selection; `None` when there are none.
pub fn quantiles(values: impl Iterator<Item = f64>, ps: &[f64]) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let last = v.len() as f64 - 1.0;
    let mut from = 0;
    let mut out = Vec::with_capacity(ps.len());
    for &p in ps {
        let k = ((last * p) as usize).clamp(from, v.len() - 1);
        let (_, q, _) = v[from..].select_nth_unstable_by(k - from, f64::total_cmp);
        out.push(*q);
        from = k;
    }
    Some(out)
}

/// Median and robust standard deviation (1.4826 x the median absolute
/// deviation) of the finite `values`, and their count, in linear time;
/// `None` when empty.
pub fn median_and_robust_sd(values: impl Iterator<Item = f64>) -> Option<(f64, f64, usize)> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let median = *v.select_nth_unstable_by(mid, f64::total_cmp).1;
    v.iter_mut().for_each(|x| *x = (*x - median).abs());
    let mad = *v.select_nth_unstable_by(mid, f64::total_cmp).1;
    Some((median, 1.4826 * mad, v.len()))
}

/// A normal population seen only within `radius` of its centre: its
/// standard deviation and the fraction of it the window kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutNormal {
    /// The whole population's standard deviation.
    pub sd: f64,
    /// The fraction of the population inside the window.
    pub kept: f64,
}

/// The normal population whose values within `radius` of its centre have
/// the standard deviation `sd`: a cut population looks narrower than it
/// is (cut at 1.6 SD, by a fifth) and smaller (by a tenth). Solved by
/// fixed point on the variance of a normal distribution truncated
/// symmetrically at `radius`; `None` when the values kept are as wide as a
/// flat spread over the window (a population that fills it has no centre
/// to widen from).
pub fn untruncated(sd: f64, radius: f64) -> Option<CutNormal> {
    if !(sd > 0.0 && radius > 0.0) || sd >= 0.95 * radius / 3f64.sqrt() {
        return None;
    }
    let cut = |sigma: f64| {
        let a = radius / sigma;
        let kept = libm::erf(a / std::f64::consts::SQRT_2);
        let density = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (kept, 1.0 - 2.0 * a * density / kept)
    };
    let mut sigma = sd;
    for _ in 0..200 {
        let next = sd / cut(sigma).1.max(1e-6).sqrt();
        let settled = (next - sigma).abs() < 1e-9 * sigma;
        sigma = next;
        if settled {
            break;
        }
    }
    Some(CutNormal {
        sd: sigma,
        kept: cut(sigma).0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_quantiles_equal_sorted_ones() {
        let mut rng = crate::rng::Rng::new(3);
        let v: Vec<f64> = (0..10_001)
            .map(|i| if i % 97 == 0 { f64::NAN } else { rng.normal() })
            .collect();
        let sorted = sorted_finite(v.iter().copied());
        let ps = [0.0, 0.001, 0.01, 0.5, 0.999, 1.0];
        let q = quantiles(v.iter().copied(), &ps).expect("values");
        for (p, q) in ps.iter().zip(q) {
            assert_eq!(Some(q), quantile(&sorted, *p), "{p}");
        }
        assert_eq!(quantiles(std::iter::empty(), &[0.5]), None);
    }

    #[test]
    fn wilson_matches_published_values() {
        // 20 of 1000: 95% Wilson interval 1.30%-3.07% (standard tables).
        let [lo, hi] = wilson_interval(20, 1000, 1.96);
        assert!(
            (lo - 0.01298).abs() < 5e-5 && (hi - 0.03066).abs() < 5e-5,
            "{lo} {hi}"
        );
        let [lo, hi] = wilson_interval(0, 50, 1.96);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0713).abs() < 5e-4, "{hi}");
        assert_eq!(wilson_interval(0, 0, 1.96), [0.0, 1.0]);
    }

    #[test]
    fn a_cut_normal_population_gets_its_spread_back() {
        // A normal population of SD 0.32 cut at +-0.5 has an SD of
        // 0.32 * sqrt(1 - 2 a phi(a) / (2 Phi(a) - 1)), a = 0.5 / 0.32.
        let (sigma, radius) = (0.32f64, 0.5f64);
        let a = radius / sigma;
        let phi = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let inside = libm::erf(a / std::f64::consts::SQRT_2);
        let cut = sigma * (1.0 - 2.0 * a * phi / inside).sqrt();
        assert!(cut < 0.8 * sigma);
        let back = super::untruncated(cut, radius).expect("a centre");
        assert!((back.sd - sigma).abs() < 1e-6, "{back:?}");
        assert!((back.kept - inside).abs() < 1e-6, "{back:?}");
        // Values spread flat over the window have no centre to widen from.
        assert_eq!(super::untruncated(0.5 / 3f64.sqrt(), radius), None);
    }
}
