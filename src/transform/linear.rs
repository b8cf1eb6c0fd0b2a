//! Gating-ML 2.0 `flin`: `(x + A) / (T + A)`.

use super::TransformError;

/// Linear scale: `T` at 1, `−A` at 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Top of scale.
    pub t: f64,
    /// Offset below zero.
    pub a: f64,
}

impl Linear {
    /// `T > 0`, `0 ≤ A ≤ T`.
    pub fn new(t: f64, a: f64) -> Result<Linear, TransformError> {
        if !(t > 0.0 && a >= 0.0 && a <= t && t.is_finite()) {
            return Err(TransformError::Parameters(format!(
                "flin T={t} A={a}: need T > 0 and 0 <= A <= T"
            )));
        }
        Ok(Linear { t, a })
    }
    /// Data to scale.
    pub fn apply(&self, x: f64) -> f64 {
        (x + self.a) / (self.t + self.a)
    }
    /// Scale to data.
    pub fn inverse(&self, y: f64) -> f64 {
        y * (self.t + self.a) - self.a
    }
}
