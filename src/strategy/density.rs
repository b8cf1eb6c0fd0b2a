//! One-dimensional densities on a transformed scale, their peaks and the
//! valleys between them: where the automated gates put their thresholds.

use crate::stats::{quantile, sorted_finite};
use serde::Serialize;

/// A smoothed histogram over `[lo, hi]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Density {
    /// Left edge.
    pub lo: f64,
    /// Right edge.
    pub hi: f64,
    /// Density per bin (sums to 1 over the bins for non-empty input).
    pub values: Vec<f64>,
    /// Values that fell in the range.
    pub count: usize,
}

/// A local maximum of a density.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Peak {
    /// Position on the scale.
    pub position: f64,
    /// Density at the peak.
    pub height: f64,
    /// Height above the higher of the two valleys that separate it from
    /// higher peaks (or the edges).
    pub prominence: f64,
}

/// A threshold between two populations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Valley {
    /// Position of the lowest density between the peaks.
    pub position: f64,
    /// The peak below the threshold.
    pub lower_peak: f64,
    /// The peak above it.
    pub upper_peak: f64,
    /// Density at the valley over the lower of the two peak heights (0 =
    /// perfectly separated, 1 = no dip at all).
    pub depth_ratio: f64,
}

impl Density {
    /// Estimates the density of the finite `values` whose `mask` is set,
    /// within `[lo, hi]`, with `bins` bins and a Gaussian kernel of
    /// `bandwidth` (scale units), counted in parallel blocks (the sum of whole counts is the same in any
    /// order, so the estimate is too).
    pub fn estimate_masked(
        values: &[f32],
        mask: &[bool],
        lo: f64,
        hi: f64,
        bins: usize,
        bandwidth: f64,
    ) -> Density {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 16;
        let bins = bins.max(8);
        let counts = values
            .par_chunks(BLOCK)
            .zip(mask.par_chunks(BLOCK))
            .fold(
                || BinCounts::new(bins, lo, hi),
                |mut counts, (v, m)| {
                    counts.add_masked(v, m);
                    counts
                },
            )
            .reduce(|| BinCounts::new(bins, lo, hi), BinCounts::merged);
        let (hist, count) = counts.histogram();
        Density::smoothed(hist, count, lo, hi, bandwidth)
    }

    /// The histogram `hist` of `count` values in `[lo, hi]` smoothed by a
    /// Gaussian kernel of `bandwidth`.
    fn smoothed(hist: Vec<f64>, count: usize, lo: f64, hi: f64, bandwidth: f64) -> Density {
        let bins = hist.len();
        let width = (hi - lo) / bins as f64;
        let sigma_bins = (bandwidth / width).max(0.5);
        let radius = (4.0 * sigma_bins).ceil() as isize;
        let kernel: Vec<f64> = (-radius..=radius)
            .map(|k| (-0.5 * (k as f64 / sigma_bins).powi(2)).exp())
            .collect();
        let ksum: f64 = kernel.iter().sum();
        let mut values = vec![0.0f64; bins];
        for (i, v) in values.iter_mut().enumerate() {
            let mut s = 0.0;
            for (k, w) in kernel.iter().enumerate() {
                let j = i as isize + k as isize - radius;
                if j >= 0 && (j as usize) < bins {
                    s += w * hist[j as usize];
                }
            }
            *v = s / ksum / count.max(1) as f64;
        }
        Density {
            lo,
            hi,
            values,
            count,
        }
    }

    fn position(&self, bin: usize) -> f64 {
        self.lo + (bin as f64 + 0.5) * (self.hi - self.lo) / self.values.len() as f64
    }

    fn bin(&self, position: f64) -> usize {
        let b = ((position - self.lo) / (self.hi - self.lo) * self.values.len() as f64).floor();
        (b.max(0.0) as usize).min(self.values.len() - 1)
    }

    /// Local maxima whose prominence is at least `min_prominence` times the
    /// highest peak, highest first.
    pub fn peaks(&self, min_prominence: f64) -> Vec<Peak> {
        let v = &self.values;
        let n = v.len();
        let top = v.iter().copied().fold(0.0, f64::max);
        if top <= 0.0 {
            return Vec::new();
        }
        let mut peaks = Vec::new();
        for i in 0..n {
            let left = if i == 0 { f64::NEG_INFINITY } else { v[i - 1] };
            let right = if i + 1 == n {
                f64::NEG_INFINITY
            } else {
                v[i + 1]
            };
            // Plateaus count once, at their left end.
            if v[i] > left && v[i] >= right && v[i] > 0.0 {
                // Prominence: walk each way to a higher point, keep the
                // lowest density met; the higher of the two sides counts.
                let side = |range: &mut dyn Iterator<Item = usize>| {
                    let mut low = v[i];
                    for j in range {
                        if v[j] > v[i] {
                            return low;
                        }
                        low = low.min(v[j]);
                    }
                    low
                };
                let l = side(&mut (0..i).rev());
                let r = side(&mut (i + 1..n));
                let prominence = v[i] - l.max(r);
                if prominence >= min_prominence * top {
                    peaks.push(Peak {
                        position: self.position(i),
                        height: v[i],
                        prominence,
                    });
                }
            }
        }
        peaks.sort_by(|a, b| b.height.total_cmp(&a.height));
        peaks
    }

    /// The lowest point between positions `a` and `b`.
    pub fn valley_between(&self, a: f64, b: f64) -> Option<Valley> {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (i, j) = (self.bin(lo), self.bin(hi));
        if j <= i + 1 {
            return None;
        }
        let k = (i + 1..j).min_by(|&x, &y| self.values[x].total_cmp(&self.values[y]))?;
        let floor = self.values[i].min(self.values[j]).max(f64::MIN_POSITIVE);
        Some(Valley {
            position: self.position(k),
            lower_peak: lo,
            upper_peak: hi,
            depth_ratio: self.values[k] / floor,
        })
    }
}

/// Whole counts of values in the even bins of `[lo, hi]`, kept in
/// [`LANES`] interleaved copies: consecutive values of a column often fall
/// in the same bin, and one counter per bin would make every increment
/// wait for the one before it.
struct BinCounts {
    counts: Vec<u64>,
    bins: usize,
    lo: f64,
    hi: f64,
    width: f64,
}

/// Interleaved copies of each bin's counter.
const LANES: usize = 4;

impl BinCounts {
    fn new(bins: usize, lo: f64, hi: f64) -> Self {
        Self {
            counts: vec![0; bins * LANES],
            bins,
            lo,
            hi,
            width: (hi - lo) / bins as f64,
        }
    }

    /// Counts the finite values of `values` within `[lo, hi]` whose
    /// `mask` is set.
    fn add_masked(&mut self, values: &[f32], mask: &[bool]) {
        let (lo, hi, width, top) = (self.lo, self.hi, self.width, self.bins - 1);
        let counts = &mut self.counts;
        // Without branches: every value adds 0 or 1 to some bin (a value
        // outside the range, or NaN, converts to a bin in range and adds 0).
        for (k, (v, m)) in values.iter().zip(mask).enumerate() {
            let v = f64::from(*v);
            let inside = *m & v.is_finite() & (v >= lo) & (v <= hi);
            let b = (((v - lo) / width) as usize).min(top);
            counts[b * LANES + k % LANES] += u64::from(inside);
        }
    }

    fn merged(mut self, other: Self) -> Self {
        self.counts
            .iter_mut()
            .zip(&other.counts)
            .for_each(|(a, b)| *a += b);
        self
    }

    /// Per-bin counts and their total.
    fn histogram(&self) -> (Vec<f64>, usize) {
        let hist: Vec<f64> = self
            .counts
            .chunks_exact(LANES)
            .map(|c| c.iter().sum::<u64>() as f64)
            .collect();
        let total = self.counts.iter().map(|&k| k as usize).sum();
        (hist, total)
    }
}

/// Values in the sample the bandwidth's spread is estimated on.
pub const BANDWIDTH_SAMPLE: usize = 1 << 16;

/// Silverman's rule of thumb on a robust spread, scaled by `factor` (below 1
/// to keep nearby populations apart). The spread is estimated on a sample
/// taken every `stride`-th value (at most [`BANDWIDTH_SAMPLE`] values:
/// sorting millions of values for two quartiles is waste); the count in
/// the rule is the full one.
pub fn bandwidth_of_sample(sample: impl Iterator<Item = f64>, stride: usize, factor: f64) -> f64 {
    let v = sorted_finite(sample);
    let total = v.len() * stride;
    if v.len() < 2 {
        return 0.01;
    }
    let q = |p: f64| quantile(&v, p).unwrap_or(0.0);
    let iqr = q(0.75) - q(0.25);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    (factor * 0.9 * spread * (total as f64).powf(-0.2)).max(1e-4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bandwidth of all `values`, as the pre-gates take it.
    fn bandwidth(values: &[f64], factor: f64) -> f64 {
        let stride = values.len().div_ceil(BANDWIDTH_SAMPLE).max(1);
        bandwidth_of_sample(values.iter().step_by(stride).copied(), stride, factor)
    }
    use crate::rng::Rng;

    fn estimate(v: &[f64], lo: f64, hi: f64, bins: usize, bandwidth: f64) -> Density {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Density::estimate_masked(&v, &vec![true; v.len()], lo, hi, bins, bandwidth)
    }

    /// The valley between the two most prominent peaks, if there are two.
    fn main_valley(d: &Density, min_prominence: f64) -> Option<Valley> {
        let mut peaks = d.peaks(min_prominence);
        peaks.sort_by(|a, b| b.prominence.total_cmp(&a.prominence));
        let (a, b) = (peaks.first()?, peaks.get(1)?);
        d.valley_between(a.position, b.position)
    }

    fn mixture(parts: &[(f64, f64, usize)], seed: u64) -> Vec<f64> {
        let mut r = Rng::new(seed);
        parts
            .iter()
            .flat_map(|&(m, s, n)| (0..n).map(|_| m + s * r.normal()).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn valley_between_two_populations() {
        // Negative and positive populations of unequal size on a 0-1 scale.
        let v = mixture(&[(0.2, 0.04, 30_000), (0.65, 0.06, 5_000)], 1);
        let d = estimate(&v, 0.0, 1.0, 256, bandwidth(&v, 0.5));
        let peaks = d.peaks(0.02);
        assert_eq!(peaks.len(), 2, "{peaks:?}");
        assert!((peaks[0].position - 0.2).abs() < 0.02 && (peaks[1].position - 0.65).abs() < 0.03);
        let valley = main_valley(&d, 0.02).expect("two peaks");
        assert!(valley.position > 0.3 && valley.position < 0.5, "{valley:?}");
        assert!(valley.depth_ratio < 0.05);
    }

    #[test]
    fn one_population_has_no_valley() {
        let v = mixture(&[(0.5, 0.08, 20_000)], 2);
        let d = estimate(&v, 0.0, 1.0, 256, bandwidth(&v, 0.5));
        assert_eq!(d.peaks(0.05).len(), 1);
        assert!(main_valley(&d, 0.05).is_none());
        let empty = estimate(&[], 0.0, 1.0, 64, 0.01);
        assert!(empty.peaks(0.05).is_empty());
    }

    #[test]
    fn small_population_beside_a_large_one_is_found() {
        // 1 % of events as a separate population.
        let v = mixture(&[(0.3, 0.05, 99_000), (0.8, 0.03, 1_000)], 3);
        let d = estimate(&v, 0.0, 1.0, 256, bandwidth(&v, 0.5));
        let peaks = d.peaks(0.002);
        assert!(
            peaks.iter().any(|p| (p.position - 0.8).abs() < 0.03),
            "{peaks:?}"
        );
    }
}
