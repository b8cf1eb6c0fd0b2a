//! Gating-ML 2.0 `flog`: `log10(x / T) / M + 1`, undefined (NaN) for `x ≤ 0`.

use super::TransformError;

/// Logarithmic scale of `M` decades ending at `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    /// Top of scale.
    pub t: f64,
    /// Decades.
    pub m: f64,
}

impl Log {
    /// `T > 0`, `M > 0`.
    pub fn new(t: f64, m: f64) -> Result<Log, TransformError> {
        if !(t > 0.0 && m > 0.0 && t.is_finite() && m.is_finite()) {
            return Err(TransformError::Parameters(format!(
                "flog T={t} M={m}: need T > 0 and M > 0"
            )));
        }
        Ok(Log { t, m })
    }
    /// Data to scale; NaN where the logarithm is undefined.
    pub fn apply(&self, x: f64) -> f64 {
        if x > 0.0 {
            (x / self.t).log10() / self.m + 1.0
        } else {
            f64::NAN
        }
    }
    /// Scale to data.
    pub fn inverse(&self, y: f64) -> f64 {
        self.t * 10f64.powf((y - 1.0) * self.m)
    }
}
