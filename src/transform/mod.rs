//! Scale transforms, exactly as Gating-ML 2.0 defines them: `flin`, `flog`,
//! `fasinh`, `logicle`, `hyperlog` (one file each), the two-dimension
//! `fratio`, and the cofactor arcsinh of common practice.
//!
//! Logicle and hyperlog have an exact evaluation (Halley's method on their
//! biexponential inverse, [`biexponential`]) and a fast table-interpolated
//! one for whole files (`table`); [`Transform::fast`] gives the latter.

pub mod asinh;
pub mod biexponential;
pub mod hyperlog;
pub mod linear;
pub mod log;
pub mod logicle;
pub mod ratio;
pub(crate) mod table;

pub use asinh::{ArcsinhCofactor, Asinh};
pub use hyperlog::Hyperlog;
pub use linear::Linear;
pub use log::Log;
pub use logicle::Logicle;
pub use ratio::Ratio;

use rayon::prelude::*;
use table::FastTable;

/// Invalid transform parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransformError {
    /// Parameters outside the domain the definition allows.
    #[error("invalid transform parameters: {0}")]
    Parameters(String),
}

/// A one-dimensional scale transform.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// `flin`.
    Linear(Linear),
    /// `flog`.
    Log(Log),
    /// `fasinh`.
    Asinh(Asinh),
    /// `asinh(x / cofactor)`.
    ArcsinhCofactor(ArcsinhCofactor),
    /// `logicle`.
    Logicle(Logicle),
    /// `hyperlog`.
    Hyperlog(Hyperlog),
}

impl Transform {
    /// Exact value of the transform at `x`.
    pub fn apply(&self, x: f64) -> f64 {
        match self {
            Transform::Linear(t) => t.apply(x),
            Transform::Log(t) => t.apply(x),
            Transform::Asinh(t) => t.apply(x),
            Transform::ArcsinhCofactor(t) => t.apply(x),
            Transform::Logicle(t) => t.apply(x),
            Transform::Hyperlog(t) => t.apply(x),
        }
    }

    /// Exact inverse: scale value back to data.
    pub fn inverse(&self, y: f64) -> f64 {
        match self {
            Transform::Linear(t) => t.inverse(y),
            Transform::Log(t) => t.inverse(y),
            Transform::Asinh(t) => t.inverse(y),
            Transform::ArcsinhCofactor(t) => t.inverse(y),
            Transform::Logicle(t) => t.inverse(y),
            Transform::Hyperlog(t) => t.inverse(y),
        }
    }

    /// The evaluator for many values: table-interpolated for logicle and
    /// hyperlog (error below 1e-6 of the display scale), exact otherwise.
    pub fn fast(&self) -> FastTransform {
        let table = match self {
            Transform::Logicle(l) => Some((l.t, l.zero())),
            Transform::Hyperlog(h) => Some((h.t, h.apply(0.0))),
            _ => None,
        }
        .map(|(top, _)| {
            let exact = |x: f64| self.apply(x);
            // Slope at data zero from the exact inverse's derivative.
            let h = top * 1e-9;
            let slope = (self.apply(h) - self.apply(-h)) / (2.0 * h);
            FastTable::new(exact, slope, top * 1e-7, top * 16.0)
        });
        FastTransform {
            exact: self.clone(),
            table,
        }
    }
}

/// A transform prepared for evaluating whole columns.
#[derive(Debug, Clone)]
pub struct FastTransform {
    exact: Transform,
    table: Option<FastTable>,
}

impl FastTransform {
    /// Value at `x`.
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        match &self.table {
            Some(t) => t.eval(x, |v| self.exact.apply(v)),
            None => self.exact.apply(x),
        }
    }

    /// Transforms a column in place, in parallel.
    pub fn apply_in_place(&self, values: &mut [f32]) {
        values.par_chunks_mut(1 << 14).for_each(|chunk| {
            for v in chunk {
                *v = self.eval(*v as f64) as f32;
            }
        });
    }
}

#[cfg(test)]
mod tests;
