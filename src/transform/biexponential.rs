//! What logicle and hyperlog share: a scale `y` whose inverse `B(y)` is
//! smooth, increasing, zero at `x1` and odd about it (`B(2·x1 − y) = −B(y)`).
//! The transform solves `B(y) = x` by Halley's method; near `x1` `B` is
//! evaluated by its Taylor series to avoid cancellation.

use super::TransformError;

/// The display-scale landmarks shared by logicle and hyperlog, from their
/// Gating-ML parameters.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// Width of the linear region on the display scale, `W / (M + A)`.
    pub w: f64,
    /// Data zero on the display scale.
    pub x1: f64,
    /// End of the linear region, `x1 + w`.
    pub x0: f64,
    /// `(M + A)·ln 10`.
    pub b: f64,
}

impl Geometry {
    /// Checks `T > 0`, `M > 0`, `0 ≤ W ≤ M/2` (`W > 0` if `w_positive`) and
    /// `−W ≤ A ≤ M − 2W`, then places the landmarks.
    pub fn new(
        name: &str,
        t: f64,
        w: f64,
        m: f64,
        a: f64,
        w_positive: bool,
    ) -> Result<Geometry, TransformError> {
        let w_ok = if w_positive { w > 0.0 } else { w >= 0.0 };
        let valid = t > 0.0 && m > 0.0 && w_ok && 2.0 * w <= m && -a <= w && a + w <= m - w;
        if !valid || ![t, w, m, a].iter().all(|v| v.is_finite()) {
            let bound = if w_positive { "0 < W" } else { "0 <= W" };
            return Err(TransformError::Parameters(format!(
                "{name} T={t} W={w} M={m} A={a}: need T > 0, M > 0, {bound} <= M/2, -W <= A <= M - 2W"
            )));
        }
        let w_ = w / (m + a);
        let x2 = a / (m + a);
        Ok(Geometry {
            w: w_,
            x1: x2 + w_,
            x0: x2 + 2.0 * w_,
            b: (m + a) * std::f64::consts::LN_10,
        })
    }
}

/// Terms of the Taylor series of `B` around `x1`.
pub const TAYLOR_TERMS: usize = 16;

/// A biexponential-family scale, described by its inverse `B` for `y ≥ x1`.
pub trait Biexponential {
    /// Data zero on the display scale.
    fn x1(&self) -> f64;
    /// `B(y)`, `B'(y)`, `B''(y)` by the closed form, for `y ≥ x1`.
    fn closed_form(&self, y: f64) -> (f64, f64, f64);
    /// Taylor coefficients of `B` around `x1` (`B(x1 + h) = Σ t[i]·h^(i+1)`).
    fn taylor(&self) -> &[f64; TAYLOR_TERMS];
    /// Where the Taylor series hands over to the closed form.
    fn taylor_limit(&self) -> f64;
    /// `(a, b)` of the dominant term `a·e^(b·y)`.
    fn log_asymptote(&self) -> (f64, f64);

    /// A starting point for `B(y) = x`, `x > 0`: the smaller of the linear
    /// estimate near zero and the logarithmic asymptote.
    fn initial_guess(&self, x: f64) -> f64 {
        let (a, b) = self.log_asymptote();
        let log = (x / a).ln() / b;
        let linear = self.x1() + x / self.taylor()[0];
        linear.min(log).max(self.x1())
    }
}

/// `B(y)` for any `y` (reflected below `x1`).
pub fn inverse<B: Biexponential + ?Sized>(s: &B, y: f64) -> f64 {
    let x1 = s.x1();
    let (y, sign) = if y < x1 {
        (2.0 * x1 - y, -1.0)
    } else {
        (y, 1.0)
    };
    let value = if y < s.taylor_limit() {
        taylor(s.taylor(), y - x1)
    } else {
        s.closed_form(y).0
    };
    sign * value
}

fn taylor(t: &[f64; TAYLOR_TERMS], h: f64) -> f64 {
    t.iter().rev().fold(0.0, |acc, &c| (acc + c) * h)
}

/// Solves `B(y) = x` to full double precision.
pub fn solve<B: Biexponential + ?Sized>(s: &B, x: f64) -> f64 {
    let x1 = s.x1();
    if x == 0.0 {
        return x1;
    }
    if x.is_nan() {
        return f64::NAN;
    }
    let (target, negative) = if x < 0.0 { (-x, true) } else { (x, false) };
    if target.is_infinite() {
        return if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let mut y = s.initial_guess(target).max(x1);
    for _ in 0..50 {
        let (value, d1, d2) = s.closed_form(y);
        let residual = if y < s.taylor_limit() {
            taylor(s.taylor(), y - x1) - target
        } else {
            value - target
        };
        // Halley's step; falls back to Newton when the correction is wild.
        let newton = residual / d1;
        let denominator = 1.0 - residual * d2 / (2.0 * d1 * d1);
        let step = if denominator > 0.5 {
            newton / denominator
        } else {
            newton
        };
        let mut next = y - step;
        if next < x1 {
            next = (y + x1) / 2.0;
        }
        let tolerance = 3.0 * f64::EPSILON * next.abs().max(1.0);
        let done = (next - y).abs() <= tolerance;
        y = next;
        if done {
            break;
        }
    }
    if negative { 2.0 * x1 - y } else { y }
}
