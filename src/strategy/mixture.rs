//! Gaussian mixtures with full covariances, fitted by expectation
//! maximisation: the clusters the blast search judges.
//!
//! Points are rows of a flat `n x d` slice. Initial means come from the
//! caller (k-means++ seeding is provided by [`seed_means`]), so fits are
//! deterministic.

use crate::rng::Rng;
use rayon::prelude::*;

/// One Gaussian component.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Mixing weight.
    pub weight: f64,
    /// Mean.
    pub mean: Vec<f64>,
    /// Covariance, row-major `d x d`.
    pub covariance: Vec<f64>,
    /// Lower Cholesky factor of the covariance.
    cholesky: Vec<f64>,
    /// log(weight) - log det / 2 - d log(2 pi) / 2.
    log_scale: f64,
}

/// A fitted mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    /// Dimensions.
    pub dims: usize,
    /// Components.
    pub components: Vec<Component>,
}

/// log(weight) - log det / 2 - d log(2 pi) / 2 of a component whose
/// covariance has the lower Cholesky factor `cholesky` (`d x d`).
fn log_scale(weight: f64, cholesky: &[f64], d: usize) -> f64 {
    let log_det: f64 = (0..d).map(|i| 2.0 * cholesky[i * d + i].ln()).sum();
    weight.max(1e-300).ln() - 0.5 * log_det - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// Lower Cholesky factor of a symmetric positive definite matrix; `None`
/// when it is not.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

impl Component {
    /// The component with mixing weight `weight` (a share of a mixture it
    /// is moved into).
    pub fn reweighted(&self, weight: f64) -> Component {
        Component {
            weight,
            log_scale: log_scale(weight, &self.cholesky, self.mean.len()),
            ..self.clone()
        }
    }

    /// A component with mixing weight `weight`, centre `mean` and the
    /// given variance on each dimension (no covariance), each at least
    /// `floor`.
    pub fn diagonal(weight: f64, mean: Vec<f64>, variances: &[f64], floor: f64) -> Component {
        let d = mean.len();
        let mut covariance = vec![0.0; d * d];
        for (i, v) in variances.iter().enumerate().take(d) {
            covariance[i * d + i] = v.max(floor);
        }
        Component::new(weight, mean, covariance, 0.0)
    }

    fn new(weight: f64, mean: Vec<f64>, mut covariance: Vec<f64>, floor: f64) -> Component {
        let d = mean.len();
        for i in 0..d {
            covariance[i * d + i] += floor;
        }
        let cholesky = cholesky(&covariance, d).unwrap_or_else(|| {
            // Degenerate: fall back to the diagonal.
            let mut l = vec![0.0; d * d];
            for i in 0..d {
                l[i * d + i] = covariance[i * d + i].max(floor).sqrt();
            }
            l
        });
        Component {
            weight,
            log_scale: log_scale(weight, &cholesky, d),
            mean,
            covariance,
            cholesky,
        }
    }

    /// Squared Mahalanobis distance of `x` from the mean.
    pub fn mahalanobis2(&self, x: &[f64]) -> f64 {
        let d = self.mean.len();
        let mut z = [0.0f64; 16];
        let mut s = 0.0;
        for i in 0..d.min(16) {
            let mut v = x[i] - self.mean[i];
            for (l, zk) in self.cholesky[i * d..i * d + i].iter().zip(&z) {
                v -= l * zk;
            }
            v /= self.cholesky[i * d + i];
            z[i] = v;
            s += v * v;
        }
        s
    }

    /// log(weight x density) at `x`.
    pub fn log_weighted_density(&self, x: &[f64]) -> f64 {
        self.log_scale - 0.5 * self.mahalanobis2(x)
    }

    /// Standard deviation along dimension `i`.
    pub fn sd(&self, i: usize) -> f64 {
        let d = self.mean.len();
        self.covariance[i * d + i].max(0.0).sqrt()
    }
}

impl Mixture {
    /// Posterior probability of each component at `x`, into `out` (one per
    /// component); returns the log of the mixture's density at `x`.
    pub fn posteriors(&self, x: &[f64], out: &mut [f64]) -> f64 {
        let mut top = f64::NEG_INFINITY;
        for (o, comp) in out.iter_mut().zip(&self.components) {
            *o = comp.log_weighted_density(x);
            top = top.max(*o);
        }
        let mut total = 0.0;
        for o in out.iter_mut() {
            *o = (*o - top).exp();
            total += *o;
        }
        if total > 0.0 {
            out.iter_mut().for_each(|o| *o /= total);
        }
        top + total.ln()
    }

    /// Index of the most probable component for `x`.
    pub fn assign(&self, x: &[f64]) -> usize {
        let mut best = (0, f64::NEG_INFINITY);
        for (c, comp) in self.components.iter().enumerate() {
            let l = comp.log_weighted_density(x);
            if l > best.1 {
                best = (c, l);
            }
        }
        best.0
    }
}

/// Sufficient statistics of one E-step over a block of points.
#[derive(Clone)]
struct Stats {
    weight: Vec<f64>,
    sum: Vec<f64>,
    outer: Vec<f64>,
    log_likelihood: f64,
}

impl Stats {
    fn zero(k: usize, d: usize) -> Stats {
        Stats {
            weight: vec![0.0; k],
            sum: vec![0.0; k * d],
            outer: vec![0.0; k * d * d],
            log_likelihood: 0.0,
        }
    }

    fn add(mut self, other: Stats) -> Stats {
        let pairs = [
            (&mut self.weight, &other.weight),
            (&mut self.sum, &other.sum),
            (&mut self.outer, &other.outer),
        ];
        for (a, b) in pairs {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
        self.log_likelihood += other.log_likelihood;
        self
    }
}

/// One E-step over all points, deterministic whatever the threads.
fn e_step(m: &Mixture, points: &[f64]) -> Stats {
    let d = m.dims;
    let k = m.components.len();
    points
        .par_chunks(d * 1024)
        .map(|block| {
            let mut s = Stats::zero(k, d);
            let mut post = vec![0.0; k];
            for x in block.chunks_exact(d) {
                s.log_likelihood += m.posteriors(x, &mut post);
                for (c, &r) in post.iter().enumerate() {
                    if r < 1e-6 {
                        continue;
                    }
                    s.weight[c] += r;
                    for i in 0..d {
                        s.sum[c * d + i] += r * x[i];
                        for j in 0..=i {
                            s.outer[(c * d + i) * d + j] += r * x[i] * x[j];
                        }
                    }
                }
            }
            s
        })
        // Blocks are summed in their order, not as the threads finish: a
        // parallel reduction groups the sums differently from run to run,
        // and the fit (and a reviewer's comparison with it) must be the
        // same to the last bit every time.
        .collect::<Vec<Stats>>()
        .into_iter()
        .fold(Stats::zero(k, d), Stats::add)
}

/// Fits a mixture to the `n x dims` points from `means` by EM, at most
/// `iterations` steps. `floor` is added to every variance (the measurement
/// resolution) so a component cannot collapse onto a few points; components
/// that lose all their points are dropped.
pub fn fit(
    points: &[f64],
    dims: usize,
    means: Vec<Vec<f64>>,
    iterations: usize,
    floor: f64,
) -> Mixture {
    let n = points.len() / dims.max(1);
    let k = means.len().max(1);
    let mut diag = vec![0.0; dims * dims];
    if n > 1 {
        for i in 0..dims {
            let col = points.iter().skip(i).step_by(dims);
            let mean = col.clone().sum::<f64>() / n as f64;
            diag[i * dims + i] = col.map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64 / k as f64;
        }
    }
    let mut m = Mixture {
        dims,
        components: means
            .into_iter()
            .map(|mean| Component::new(1.0 / k as f64, mean, diag.clone(), floor))
            .collect(),
    };
    let mut last = f64::NEG_INFINITY;
    for _ in 0..iterations {
        let s = e_step(&m, points);
        let mut next = Vec::with_capacity(m.components.len());
        for c in 0..m.components.len() {
            let w = s.weight[c];
            if w < (dims + 1) as f64 {
                continue;
            }
            let mean: Vec<f64> = (0..dims).map(|i| s.sum[c * dims + i] / w).collect();
            let mut cov = vec![0.0; dims * dims];
            for i in 0..dims {
                for j in 0..=i {
                    let v = s.outer[(c * dims + i) * dims + j] / w - mean[i] * mean[j];
                    cov[i * dims + j] = v;
                    cov[j * dims + i] = v;
                }
            }
            next.push(Component::new(w / n as f64, mean, cov, floor));
        }
        if next.is_empty() {
            break;
        }
        m.components = next;
        let converged = (s.log_likelihood - last).abs() < 1e-5 * s.log_likelihood.abs().max(1.0);
        last = s.log_likelihood;
        if converged {
            break;
        }
    }
    m
}

/// k-means++ seeding: `k` points of the `n x dims` data, each next one drawn
/// with probability proportional to its squared distance from the nearest
/// already chosen (far-away small clusters get a seed).
pub fn seed_means(points: &[f64], dims: usize, k: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = points.len() / dims.max(1);
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let mut rng = Rng::new(seed);
    let row = |i: usize| points[i * dims..(i + 1) * dims].to_vec();
    let mut means = vec![row((rng.next_u64() % n as u64) as usize)];
    let mut nearest = vec![f64::INFINITY; n];
    while means.len() < k.min(n) {
        let last = means.last().cloned().unwrap_or_default();
        let mut cumulative = Vec::with_capacity(n);
        let mut acc = 0.0;
        for (i, best) in nearest.iter_mut().enumerate() {
            let d2: f64 = points[i * dims..(i + 1) * dims]
                .iter()
                .zip(&last)
                .map(|(a, b)| (a - b).powi(2))
                .sum();
            *best = best.min(d2);
            acc += *best;
            cumulative.push(acc);
        }
        if acc <= 0.0 {
            break;
        }
        means.push(row(rng.choose(&cumulative)));
    }
    means
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_small_distant_cluster_beside_a_large_one() {
        let mut rng = Rng::new(5);
        let mut points = Vec::new();
        let mut truth = Vec::new();
        // 20,000 points around (0, 0, 0), 60 around (2, -1.5, 1).
        for i in 0..20_060 {
            let centre = if i < 20_000 {
                [0.0, 0.0, 0.0]
            } else {
                [2.0, -1.5, 1.0]
            };
            let sd = if i < 20_000 { 0.3 } else { 0.1 };
            for c in centre {
                points.push(c + sd * rng.normal());
            }
            truth.push(i >= 20_000);
        }
        let means = seed_means(&points, 3, 4, 1);
        let m = fit(&points, 3, means, 100, 1e-4);
        let small = m
            .components
            .iter()
            .position(|c| (c.mean[0] - 2.0).abs() < 0.1)
            .expect("the small cluster has a component");
        let hits = points
            .chunks_exact(3)
            .zip(&truth)
            .filter(|(x, t)| (m.assign(x) == small) == **t)
            .count();
        assert!(hits >= 20_050, "{hits}");
        assert!((m.components[small].sd(0) - 0.1).abs() < 0.03);
    }

    #[test]
    fn cholesky_rejects_indefinite_and_mahalanobis_is_exact() {
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        let c = Component::new(1.0, vec![0.0, 0.0], vec![4.0, 0.0, 0.0, 1.0], 0.0);
        assert!((c.mahalanobis2(&[2.0, 1.0]) - 2.0).abs() < 1e-12);
    }
}
