//! Spillover compensation: compensated = detected × inverse(spillover), per
//! event, on the channels the matrix names.

use crate::fcs::Spillover;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::Deserialize;
use std::path::Path;

/// Why a matrix cannot compensate these events.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompensationError {
    /// The matrix is not square or does not match its channel list.
    #[error(
        "spillover matrix is {rows} x {cols} for {names} channels; it must be square and name each row"
    )]
    NotSquare {
        /// Rows given.
        rows: usize,
        /// Columns of the first row that differs.
        cols: usize,
        /// Channel names given.
        names: usize,
    },
    /// The matrix cannot be inverted.
    #[error(
        "spillover matrix is singular (pivot {pivot:e} at column {column}); it cannot be inverted"
    )]
    Singular {
        /// 0-based column where elimination failed.
        column: usize,
        /// Size of the best pivot found.
        pivot: f64,
    },
    /// A channel of the matrix is not in the data.
    #[error("spillover channel {name:?} is not among the data's channels ({available})")]
    UnknownChannel {
        /// Name from the matrix.
        name: String,
        /// The channels present, comma-separated.
        available: String,
    },
    /// A matrix value is not a finite number.
    #[error("spillover value {value:?} at row {row}, column {column} is not a finite number")]
    BadValue {
        /// Text found.
        value: String,
        /// 1-based row.
        row: usize,
        /// 1-based column.
        column: usize,
    },
    /// The matrix file cannot be read.
    #[error("{path}: {message}")]
    File {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A ready-to-apply compensation: detector channels in, compensated
/// (fluorochrome) values out.
#[derive(Debug, Clone, PartialEq)]
pub struct Compensation {
    /// Detector channel names ($PnN), the matrix rows.
    pub detectors: Vec<String>,
    /// Names of the compensated dimensions (same as `detectors` for a
    /// file's own spillover; fluorochrome names in Gating-ML).
    pub outputs: Vec<String>,
    /// The spillover matrix as given, row-major.
    pub spillover: Vec<f64>,
    /// Its inverse, row-major (`k × k`).
    inverse: Vec<f64>,
}

impl Compensation {
    /// From a square spillover matrix whose rows are `detectors`.
    pub fn new(
        detectors: Vec<String>,
        outputs: Vec<String>,
        matrix: &[Vec<f64>],
    ) -> Result<Compensation, CompensationError> {
        let k = detectors.len();
        if matrix.len() != k || outputs.len() != k || k == 0 {
            return Err(CompensationError::NotSquare {
                rows: matrix.len(),
                cols: matrix.first().map_or(0, Vec::len),
                names: k,
            });
        }
        if let Some(row) = matrix.iter().find(|r| r.len() != k) {
            return Err(CompensationError::NotSquare {
                rows: k,
                cols: row.len(),
                names: k,
            });
        }
        let spillover: Vec<f64> = matrix.iter().flatten().copied().collect();
        let inverse = invert(&spillover, k)?;
        Ok(Compensation {
            detectors,
            outputs,
            spillover,
            inverse,
        })
    }

    /// From a file's `$SPILLOVER`-family matrix.
    pub fn from_spillover(s: &Spillover) -> Result<Compensation, CompensationError> {
        Compensation::new(s.channels.clone(), s.channels.clone(), &s.matrix)
    }

    /// From a user file: JSON `{"channels": [...], "matrix": [[...]]}` or
    /// CSV with a header row of channel names and one row per channel.
    pub fn from_file(path: &Path) -> Result<Compensation, CompensationError> {
        let fail = |message: String| CompensationError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || text.trim_start().starts_with('{');
        if is_json {
            #[derive(Deserialize)]
            struct MatrixFile {
                channels: Vec<String>,
                matrix: Vec<Vec<f64>>,
            }
            let m: MatrixFile = serde_json::from_str(&text).map_err(|e| {
                fail(format!(
                    "expected {{\"channels\": [...], \"matrix\": [[...]]}}: {e}"
                ))
            })?;
            return Compensation::new(m.channels.clone(), m.channels, &m.matrix);
        }
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<String> = lines
            .next()
            .ok_or_else(|| fail("empty file; expected a header row of channel names".into()))?
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect();
        let mut matrix = Vec::new();
        for (r, line) in lines.enumerate() {
            let mut row = Vec::new();
            for (c, field) in line.split(',').enumerate() {
                let field = field.trim().trim_matches('"');
                // A leading row label (the channel name) is allowed.
                if c == 0 && field.parse::<f64>().is_err() && header.iter().any(|h| h == field) {
                    continue;
                }
                let v = field
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| CompensationError::BadValue {
                        value: field.to_string(),
                        row: r + 1,
                        column: c + 1,
                    })?;
                row.push(v);
            }
            matrix.push(row);
        }
        let header: Vec<String> = if header.len() == matrix.first().map_or(0, Vec::len) + 1 {
            header[1..].to_vec()
        } else {
            header
        };
        Compensation::new(header.clone(), header, &matrix)
    }

    /// Column indices of the detectors among `names`.
    pub fn detector_indices(&self, names: &[String]) -> Result<Vec<usize>, CompensationError> {
        self.detectors
            .iter()
            .map(|d| {
                names
                    .iter()
                    .position(|n| n == d)
                    .ok_or_else(|| CompensationError::UnknownChannel {
                        name: d.clone(),
                        available: names.join(", "),
                    })
            })
            .collect()
    }

    /// Compensated values of the `outputs`, events × k, computed in `f64`.
    pub fn compensate(
        &self,
        events: ArrayView2<f32>,
        names: &[String],
    ) -> Result<Array2<f32>, CompensationError> {
        let idx = self.detector_indices(names)?;
        let k = idx.len();
        let mut out = Array2::<f32>::zeros((events.nrows(), k));
        out.axis_chunks_iter_mut(Axis(0), 8192)
            .into_par_iter()
            .zip(events.axis_chunks_iter(Axis(0), 8192).into_par_iter())
            .for_each(|(mut out, events)| {
                let mut acc = vec![0.0f64; k];
                for (mut o, e) in out.rows_mut().into_iter().zip(events.rows()) {
                    acc.iter_mut().for_each(|a| *a = 0.0);
                    for (i, &col) in idx.iter().enumerate() {
                        let x = e[col] as f64;
                        let row = &self.inverse[i * k..(i + 1) * k];
                        for (a, &m) in acc.iter_mut().zip(row) {
                            *a += x * m;
                        }
                    }
                    for (o, a) in o.iter_mut().zip(&acc) {
                        *o = *a as f32;
                    }
                }
            });
        Ok(out)
    }

    /// The weights that make compensated output `output` (index into
    /// `outputs`) from the channels named `names`:
    /// `Σ_i detector_i · inverse[i][output]`, zero weights left out.
    pub fn output_weights(
        &self,
        names: &[String],
        output: usize,
    ) -> Result<Vec<(usize, f64)>, CompensationError> {
        let idx = self.detector_indices(names)?;
        let k = idx.len();
        Ok(idx
            .iter()
            .enumerate()
            .map(|(i, &col)| (col, self.inverse[i * k + output]))
            .filter(|&(_, w)| w != 0.0)
            .collect())
    }

    /// Replaces the detector columns of `events` by their compensated values
    /// (as FlowJo and FlowKit present compensated data).
    pub fn compensate_in_place(
        &self,
        events: &mut Array2<f32>,
        names: &[String],
    ) -> Result<(), CompensationError> {
        let idx = self.detector_indices(names)?;
        let compensated = self.compensate(events.view(), names)?;
        for (j, &col) in idx.iter().enumerate() {
            events.column_mut(col).assign(&compensated.column(j));
        }
        Ok(())
    }
}

/// Gauss–Jordan inversion of a row-major `k × k` matrix with partial
/// pivoting (also used for ellipsoid covariance matrices).
pub(crate) fn invert(m: &[f64], k: usize) -> Result<Vec<f64>, CompensationError> {
    let mut a = m.to_vec();
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        inv[i * k + i] = 1.0;
    }
    let scale = m
        .iter()
        .fold(0.0f64, |s, v| s.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..k {
        let (pivot_row, pivot) = (col..k)
            .map(|r| (r, a[r * k + col].abs()))
            .fold((col, -1.0), |best, c| if c.1 > best.1 { c } else { best });
        if pivot.is_nan() || pivot <= 1e-12 * scale {
            return Err(CompensationError::Singular {
                column: col,
                pivot: pivot.max(0.0),
            });
        }
        if pivot_row != col {
            for c in 0..k {
                a.swap(pivot_row * k + c, col * k + c);
                inv.swap(pivot_row * k + c, col * k + c);
            }
        }
        let p = a[col * k + col];
        for c in 0..k {
            a[col * k + c] /= p;
            inv[col * k + c] /= p;
        }
        for r in 0..k {
            if r != col {
                let f = a[r * k + col];
                if f != 0.0 {
                    for c in 0..k {
                        a[r * k + c] -= f * a[col * k + c];
                        inv[r * k + c] -= f * inv[col * k + c];
                    }
                }
            }
        }
    }
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn undoes_known_spillover() {
        // True signals, spilled with S, compensate back to the truth.
        let s = vec![
            vec![1.0, 0.2, 0.05],
            vec![0.1, 1.0, 0.3],
            vec![0.0, 0.02, 1.0],
        ];
        let truth = array![
            [1000.0f64, 50.0, 0.0],
            [0.0, 800.0, 20.0],
            [-30.0, 0.0, 5000.0]
        ];
        let mut detected = Array2::<f32>::zeros((3, 4));
        for e in 0..3 {
            detected[[e, 0]] = 7.0; // an uncompensated scatter channel
            for j in 0..3 {
                let v: f64 = (0..3).map(|i| truth[[e, i]] * s[i][j]).sum();
                detected[[e, j + 1]] = v as f32;
            }
        }
        let n = names(&["FSC-A", "FITC-A", "PE-A", "APC-A"]);
        let c = Compensation::new(
            names(&["FITC-A", "PE-A", "APC-A"]),
            names(&["FITC-A", "PE-A", "APC-A"]),
            &s,
        )
        .expect("invertible");
        let out = c.compensate(detected.view(), &n).expect("applies");
        for e in 0..3 {
            for j in 0..3 {
                let t = truth[[e, j]];
                assert!(
                    (out[[e, j]] as f64 - t).abs() <= 1e-5 * t.abs().max(1.0),
                    "{e} {j} {} vs {t}",
                    out[[e, j]]
                );
            }
        }
        c.compensate_in_place(&mut detected, &n).expect("applies");
        assert_eq!(detected[[0, 0]], 7.0);
        assert!((detected[[1, 2]] - 800.0).abs() < 1e-3);
    }

    #[test]
    fn typed_errors() {
        let n = names(&["A", "B"]);
        assert!(matches!(
            Compensation::new(n.clone(), n.clone(), &[vec![1.0, 2.0], vec![2.0, 4.0]]),
            Err(CompensationError::Singular { .. })
        ));
        assert!(matches!(
            Compensation::new(n.clone(), n.clone(), &[vec![1.0, 0.0]]),
            Err(CompensationError::NotSquare { .. })
        ));
        let c =
            Compensation::new(n.clone(), n.clone(), &[vec![1.0, 0.1], vec![0.0, 1.0]]).expect("ok");
        let err = c.compensate(Array2::<f32>::zeros((1, 2)).view(), &names(&["A", "C"]));
        assert!(
            matches!(err, Err(CompensationError::UnknownChannel { ref name, .. }) if name == "B")
        );
    }
}
