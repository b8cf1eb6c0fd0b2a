//! Where gating reads events from: an in-memory matrix, or an FCS file read
//! straight from its mapped DATA segment.
//!
//! Everything a gate needs per event before its own geometry is a weighted
//! sum of channel values: a channel (one weight of 1) or a compensated
//! fluorochrome (a column of the inverse spillover matrix). [`EventSource`]
//! computes any set of such columns in one parallel pass, so gating a file
//! never builds its full events × channels matrix.

use crate::fcs::data::Sample;
use crate::fcs::{FcsError, FcsFile};
use ndarray::ArrayView2;
use rayon::prelude::*;

/// Events per parallel task.
const CHUNK: usize = 1 << 14;

/// One derived column: `Σ weight · channel value` over `(channel, weight)`.
pub type LinearSpec = Vec<(usize, f64)>;

/// Events that gates can be evaluated on.
pub trait EventSource: Sync {
    /// Number of events.
    fn event_count(&self) -> usize;
    /// Channel names ($PnN), in column order.
    fn channel_names(&self) -> Vec<String>;
    /// Computes every spec for every event, in `f64`, in one pass.
    fn linear_columns(&self, specs: &[LinearSpec]) -> Result<Vec<Vec<f64>>, FcsError>;
}

/// Splits `k` columns of `n` values into per-chunk groups of mutable slices.
fn chunked(columns: &mut [Vec<f64>], n: usize) -> Vec<Vec<&mut [f64]>> {
    let mut per_chunk: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(CHUNK)).map(|_| Vec::new()).collect();
    for col in columns.iter_mut() {
        for (i, c) in col.chunks_mut(CHUNK).enumerate() {
            per_chunk[i].push(c);
        }
    }
    per_chunk
}

/// Applies the specs to row-major `rows` of `p` values into `outs`.
#[inline]
fn combine(rows: &[f64], p: usize, specs: &[LinearSpec], outs: &mut [&mut [f64]]) {
    for (r, row) in rows.chunks_exact(p).enumerate() {
        for (spec, out) in specs.iter().zip(outs.iter_mut()) {
            out[r] = spec.iter().map(|&(j, w)| row[j] * w).sum();
        }
    }
}

fn allocate(specs: &[LinearSpec], n: usize) -> Vec<Vec<f64>> {
    specs
        .iter()
        .map(|_| crate::memory::filled_vec::<f64>(n))
        .collect()
}

/// An in-memory events × channels matrix of channel values.
pub struct MatrixEvents<'a, T: Sample> {
    /// Events × channels.
    pub events: ArrayView2<'a, T>,
    /// Channel names.
    pub names: &'a [String],
}

impl<T: Sample> EventSource for MatrixEvents<'_, T> {
    fn event_count(&self) -> usize {
        self.events.nrows()
    }

    fn channel_names(&self) -> Vec<String> {
        self.names.to_vec()
    }

    fn linear_columns(&self, specs: &[LinearSpec]) -> Result<Vec<Vec<f64>>, FcsError> {
        let n = self.events.nrows();
        let p = self.events.ncols();
        let mut columns = allocate(specs, n);
        chunked(&mut columns, n)
            .into_par_iter()
            .enumerate()
            .for_each_init(Vec::new, |buf: &mut Vec<f64>, (c, mut outs)| {
                let len = outs.first().map_or(0, |o| o.len());
                let rows = self
                    .events
                    .slice(ndarray::s![c * CHUNK..c * CHUNK + len, ..]);
                buf.clear();
                buf.extend(rows.iter().map(|v| v.to_f64()));
                combine(buf, p, specs, &mut outs);
            });
        Ok(columns)
    }
}

/// One data set of an FCS file, channel values computed in `f64` from the
/// stored values as they are read.
pub struct FileEvents<'a> {
    /// The file.
    pub file: &'a FcsFile,
    /// Data set (0-based).
    pub dataset: usize,
}

impl EventSource for FileEvents<'_> {
    fn event_count(&self) -> usize {
        self.file.dataset(self.dataset).map_or(0, |d| d.event_count)
    }

    fn channel_names(&self) -> Vec<String> {
        self.file
            .dataset(self.dataset)
            .map(|d| d.metadata.channels.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }

    fn linear_columns(&self, specs: &[LinearSpec]) -> Result<Vec<Vec<f64>>, FcsError> {
        let info = self.file.dataset(self.dataset)?;
        let n = info.event_count;
        let p = info.metadata.channels.len();
        let mut columns = allocate(specs, n);
        let chunks = chunked(&mut columns, n);
        self.file
            .for_each_chunk(self.dataset, CHUNK, chunks, |rows, mut outs| {
                combine(rows, p, specs, &mut outs)
            })?;
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matrix_source_combines_channels() {
        let m = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let names = vec!["a".to_string(), "b".into(), "c".into()];
        let src = MatrixEvents {
            events: m.view(),
            names: &names,
        };
        let cols = src
            .linear_columns(&[vec![(1, 1.0)], vec![(0, 2.0), (2, -1.0)]])
            .expect("computes");
        assert_eq!(cols, vec![vec![2.0, 5.0], vec![-1.0, 2.0]]);
    }
}
