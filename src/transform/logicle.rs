//! Logicle (Parks, Roederer & Moore 2006; Moore & Parks 2012), as Gating-ML
//! 2.0 defines it: `logicle(x) = y` with `B(y) = x`, where for `y ≥ x1`
//! `B(y) = a·e^(b·y) − c·e^(−d·y) + f`, reflected about `x1` below it.

use super::TransformError;
use super::biexponential::{Biexponential, Geometry, TAYLOR_TERMS, inverse, solve};

/// Logicle scale with top `T`, linear width `W` decades, `M` decades and
/// `A` extra negative decades.
#[derive(Debug, Clone, PartialEq)]
pub struct Logicle {
    /// Top of scale.
    pub t: f64,
    /// Width of the linear region, decades.
    pub w: f64,
    /// Decades at full scale.
    pub m: f64,
    /// Additional negative decades.
    pub a: f64,
    x1: f64,
    coef_a: f64,
    coef_b: f64,
    coef_c: f64,
    coef_d: f64,
    coef_f: f64,
    taylor: [f64; TAYLOR_TERMS],
    taylor_limit: f64,
}

/// Solves `2·ln(d/b) + w·(b + d) = 0` for `d` (the `d` of the
/// biexponential); `w = 0` gives `d = b` (arcsinh).
fn solve_d(b: f64, w: f64) -> f64 {
    if w == 0.0 {
        return b;
    }
    // The left side increases with d, from −∞ at 0 to 2·w·b > 0 at b:
    // one root in (0, b). Bisection to the last bit.
    let f = |d: f64| 2.0 * (d / b).ln() + w * (b + d);
    let (mut lo, mut hi) = (0.0, b);
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

impl Logicle {
    /// Builds the scale; parameters must satisfy the Gating-ML constraints
    /// (`T > 0`, `M > 0`, `0 ≤ W ≤ M/2`, `−W ≤ A ≤ M − 2W`).
    pub fn new(t: f64, w: f64, m: f64, a: f64) -> Result<Logicle, TransformError> {
        let Geometry { w: w_, x1, x0, b } = Geometry::new("logicle", t, w, m, a, false)?;
        let d = solve_d(b, w_);
        let c_a = (x0 * (b + d)).exp();
        let mf_a = (b * x1).exp() - c_a / (d * x1).exp();
        let coef_a = t / (((b).exp() - mf_a) - c_a / d.exp());
        let coef_c = c_a * coef_a;
        let coef_f = -mf_a * coef_a;
        // Taylor series of B around x1: derivatives of a·e^(by) − c·e^(−dy).
        let mut taylor = [0.0; TAYLOR_TERMS];
        let (mut pos, mut neg) = (coef_a * (b * x1).exp(), -coef_c * (-d * x1).exp());
        for (i, t) in taylor.iter_mut().enumerate() {
            pos *= b / (i + 1) as f64;
            neg *= -d / (i + 1) as f64;
            *t = pos + neg;
        }
        Ok(Logicle {
            t,
            w,
            m,
            a,
            x1,
            coef_a,
            coef_b: b,
            coef_c,
            coef_d: d,
            coef_f,
            taylor,
            taylor_limit: x1 + w_ / 4.0,
        })
    }

    /// `logicle(x)`: data value to display scale (1 at `T`).
    pub fn apply(&self, x: f64) -> f64 {
        solve(self, x)
    }

    /// Display scale back to data value, `B(y)`.
    pub fn inverse(&self, y: f64) -> f64 {
        inverse(self, y)
    }

    /// Display position of data zero.
    pub fn zero(&self) -> f64 {
        self.x1
    }
}

impl Biexponential for Logicle {
    fn x1(&self) -> f64 {
        self.x1
    }
    fn closed_form(&self, y: f64) -> (f64, f64, f64) {
        let pos = self.coef_a * (self.coef_b * y).exp();
        let neg = self.coef_c * (-self.coef_d * y).exp();
        (
            pos - neg + self.coef_f,
            self.coef_b * pos + self.coef_d * neg,
            self.coef_b * self.coef_b * pos - self.coef_d * self.coef_d * neg,
        )
    }
    fn taylor(&self) -> &[f64; TAYLOR_TERMS] {
        &self.taylor
    }
    fn taylor_limit(&self) -> f64 {
        self.taylor_limit
    }
    fn log_asymptote(&self) -> (f64, f64) {
        (self.coef_a, self.coef_b)
    }
}
