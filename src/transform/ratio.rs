//! Gating-ML 2.0 `fratio`: a new dimension `A·(x1 − B) / (x2 − C)` from two.

/// Ratio of two dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// Multiplier.
    pub a: f64,
    /// Offset of the numerator.
    pub b: f64,
    /// Offset of the denominator.
    pub c: f64,
}

impl Ratio {
    /// The ratio of one event's two values (NaN or ±inf where the
    /// denominator is zero, which then falls in no gate).
    pub fn apply(&self, numerator: f64, denominator: f64) -> f64 {
        self.a * (numerator - self.b) / (denominator - self.c)
    }
}
