//! Hyperlog (Bagwell 2005) as Gating-ML 2.0 defines it: `hyperlog(x) = y`
//! with `EH(y) = x`, where for `y ≥ x1` `EH(y) = a·e^(b·y) + c·y − f`,
//! reflected about `x1` below it.

use super::TransformError;
use super::biexponential::{Biexponential, Geometry, TAYLOR_TERMS, inverse, solve};

/// Hyperlog scale with top `T`, linear width `W`, `M` decades, `A` extra
/// negative decades.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperlog {
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
    coef_f: f64,
    taylor: [f64; TAYLOR_TERMS],
    taylor_limit: f64,
}

impl Hyperlog {
    /// Builds the scale (`T > 0`, `M > 0`, `0 < W ≤ M/2`, `−W ≤ A ≤ M − 2W`).
    pub fn new(t: f64, w: f64, m: f64, a: f64) -> Result<Hyperlog, TransformError> {
        let Geometry { w: w_, x1, x0, b } = Geometry::new("hyperlog", t, w, m, a, true)?;
        let c_a = (b * x0).exp() / w_;
        let f_a = (b * x1).exp() + c_a * x1;
        let coef_a = t / ((b.exp() + c_a) - f_a);
        let coef_c = c_a * coef_a;
        let coef_f = f_a * coef_a;
        let mut taylor = [0.0; TAYLOR_TERMS];
        let mut term = coef_a * (b * x1).exp();
        for (i, t) in taylor.iter_mut().enumerate() {
            term *= b / (i + 1) as f64;
            *t = term;
        }
        taylor[0] += coef_c;
        Ok(Hyperlog {
            t,
            w,
            m,
            a,
            x1,
            coef_a,
            coef_b: b,
            coef_c,
            coef_f,
            taylor,
            taylor_limit: x1 + w_ / 4.0,
        })
    }

    /// `hyperlog(x)`: data value to display scale.
    pub fn apply(&self, x: f64) -> f64 {
        solve(self, x)
    }

    /// Display scale back to data value, `EH(y)`.
    pub fn inverse(&self, y: f64) -> f64 {
        inverse(self, y)
    }
}

impl Biexponential for Hyperlog {
    fn x1(&self) -> f64 {
        self.x1
    }
    fn closed_form(&self, y: f64) -> (f64, f64, f64) {
        let e = self.coef_a * (self.coef_b * y).exp();
        (
            (e + self.coef_c * y) - self.coef_f,
            self.coef_b * e + self.coef_c,
            self.coef_b * self.coef_b * e,
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
