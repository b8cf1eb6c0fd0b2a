//! Gating-ML 2.0 `fasinh`:
//! `(asinh(x·sinh(M·ln10)/T) + A·ln10) / ((M + A)·ln10)`.
//! Also the cytometry "arcsinh with cofactor c", `asinh(x / c)`
//! ([`ArcsinhCofactor`]).

use super::TransformError;
use std::f64::consts::LN_10;

/// Inverse hyperbolic sine scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Asinh {
    /// Top of scale.
    pub t: f64,
    /// Decades.
    pub m: f64,
    /// Additional negative decades.
    pub a: f64,
    scale: f64,
}

impl Asinh {
    /// `T > 0`, `M > 0`, `0 ≤ A ≤ M`.
    pub fn new(t: f64, m: f64, a: f64) -> Result<Asinh, TransformError> {
        if !(t > 0.0 && m > 0.0 && a >= 0.0 && a <= m && t.is_finite() && m.is_finite()) {
            return Err(TransformError::Parameters(format!(
                "fasinh T={t} M={m} A={a}: need T > 0, M > 0, 0 <= A <= M"
            )));
        }
        Ok(Asinh {
            t,
            m,
            a,
            scale: (m * LN_10).sinh() / t,
        })
    }

    /// Data to scale.
    pub fn apply(&self, x: f64) -> f64 {
        ((x * self.scale).asinh() + self.a * LN_10) / ((self.m + self.a) * LN_10)
    }
    /// Scale to data.
    pub fn inverse(&self, y: f64) -> f64 {
        (y * (self.m + self.a) * LN_10 - self.a * LN_10).sinh() / self.scale
    }
}

/// `asinh(x / cofactor)`, the arcsinh of CyTOF and spectral practice.
#[derive(Debug, Clone, PartialEq)]
pub struct ArcsinhCofactor {
    /// Cofactor (e.g. 5 for mass cytometry, 150 for fluorescence).
    pub cofactor: f64,
}

impl ArcsinhCofactor {
    /// `cofactor > 0`.
    pub fn new(cofactor: f64) -> Result<ArcsinhCofactor, TransformError> {
        if !(cofactor > 0.0 && cofactor.is_finite()) {
            return Err(TransformError::Parameters(format!(
                "arcsinh cofactor {cofactor}: must be > 0"
            )));
        }
        Ok(ArcsinhCofactor { cofactor })
    }
    /// Data to scale.
    pub fn apply(&self, x: f64) -> f64 {
        (x / self.cofactor).asinh()
    }
    /// Scale to data.
    pub fn inverse(&self, y: f64) -> f64 {
        y.sinh() * self.cofactor
    }
}
