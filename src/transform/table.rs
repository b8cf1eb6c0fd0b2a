//! Fast table-interpolated evaluation of a smooth, monotone scale that is
//! odd about its data zero (logicle, hyperlog), for whole files.
//!
//! `|x|` is binned by the bits of its `f32` representation: 2^BITS bins per
//! octave, so bins have the same relative width everywhere from tiny values
//! to the top of scale; within a bin the scale is interpolated linearly.
//! Below the first bin the scale is linear (its Taylor series through data
//! zero), above the last the exact function is used.

/// Mantissa bits kept per octave (256 bins per factor of two).
const BITS: u32 = 8;
const SHIFT: u32 = 23 - BITS;

/// A precomputed table for one scale.
#[derive(Debug, Clone)]
pub struct FastTable {
    /// Scale value at data zero.
    zero: f64,
    /// Slope at data zero (display units per data unit).
    slope: f64,
    /// Smallest |x| covered by the table.
    low: f64,
    /// Largest |x| covered by the table.
    high: f64,
    first_bin: u32,
    /// Per bin: its lower edge (data), the scale value there, and the
    /// slope to the next edge; one entry, so a lookup reads one place.
    bins: Vec<[f64; 3]>,
}

impl FastTable {
    /// Tabulates `exact` over `|x|` in `[low, high]` (positive side; the
    /// negative side is `2·zero − f(−x)`); `slope` is `f'(0)`.
    pub fn new(exact: impl Fn(f64) -> f64, slope: f64, low: f64, high: f64) -> FastTable {
        let zero = exact(0.0);
        let first_bin = (low as f32).to_bits() >> SHIFT;
        let last_bin = (high as f32).to_bits() >> SHIFT;
        let n = (last_bin - first_bin + 2) as usize;
        let mut edges = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        for k in 0..n as u32 {
            let x = f32::from_bits((first_bin + k) << SHIFT) as f64;
            edges.push(x);
            values.push(exact(x));
        }
        let bins = edges
            .windows(2)
            .zip(values.windows(2))
            .map(|(x, y)| [x[0], y[0], (y[1] - y[0]) / (x[1] - x[0])])
            .collect();
        FastTable {
            zero,
            slope,
            low: edges[0],
            high: edges[n - 1],
            first_bin,
            bins,
        }
    }

    /// Table lookup for `x`; `exact` is used beyond the table's top.
    #[inline]
    pub fn eval(&self, x: f64, exact: impl Fn(f64) -> f64) -> f64 {
        let magnitude = x.abs();
        let positive = if magnitude < self.low {
            self.zero + magnitude * self.slope
        } else if magnitude < self.high {
            let bin = (((magnitude as f32).to_bits() >> SHIFT) - self.first_bin) as usize;
            let [x0, y0, slope] = self.bins[bin.min(self.bins.len() - 1)];
            y0 + (magnitude - x0) * slope
        } else if magnitude.is_nan() {
            return f64::NAN;
        } else {
            exact(magnitude)
        };
        if x < 0.0 {
            2.0 * self.zero - positive
        } else {
            positive
        }
    }
}
