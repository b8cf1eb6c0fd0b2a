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
use std::sync::Mutex;

/// Events per chunk handed to a visitor: small enough that a chunk's
/// derived columns stay in cache (and their buffers come from the heap,
/// not from fresh pages).
pub const CHUNK_EVENTS: usize = 4096;

/// Splits full-length columns into per-chunk groups of [`CHUNK_EVENTS`]
/// slices, each group behind its own lock (taken once per chunk, never
/// contended), so parallel chunk visitors can fill disjoint parts.
pub fn chunk_slots<T>(columns: &mut [Vec<T>], events: usize) -> Vec<Mutex<Vec<&mut [T]>>> {
    let mut slots: Vec<Vec<&mut [T]>> = (0..events.div_ceil(CHUNK_EVENTS))
        .map(|_| Vec::new())
        .collect();
    for column in columns.iter_mut() {
        for (i, c) in column.chunks_mut(CHUNK_EVENTS).enumerate() {
            slots[i].push(c);
        }
    }
    slots.into_iter().map(Mutex::new).collect()
}

/// One derived column: `Σ weight · channel value` over `(channel, weight)`.
pub type LinearSpec = Vec<(usize, f64)>;

/// A visitor of chunks: `(chunk index, events in the chunk, one column per
/// spec)`.
pub type ChunkVisitor<'a> = &'a (dyn Fn(usize, usize, &[Vec<f64>]) + Sync);

/// Events that gates can be evaluated on.
pub trait EventSource: Sync {
    /// Number of events.
    fn event_count(&self) -> usize;
    /// Channel names ($PnN), in column order.
    fn channel_names(&self) -> Vec<String>;
    /// Computes the specs for consecutive chunks of [`CHUNK_EVENTS`] events,
    /// in parallel, and hands each chunk to `visit`.
    fn visit_chunks(&self, specs: &[LinearSpec], visit: ChunkVisitor) -> Result<(), FcsError>;
}

/// The specs of row-major `rows` of `p` values, one column per spec
/// ([`combine_into`] each).
fn combine(rows: &[f64], p: usize, specs: &[LinearSpec]) -> Vec<Vec<f64>> {
    let n = rows.len() / p.max(1);
    specs
        .iter()
        .map(|spec| {
            let mut column = vec![0.0; n];
            combine_into(&mut column, rows, p.max(1), spec);
            column
        })
        .collect()
}

/// `out[e] = Σ w · rows[e][j]` over the spec's `(j, w)` for the row-major
/// `rows` of `width` values, term by term over the whole chunk (a loop
/// the compiler can keep in registers, summed in the spec's order).
pub(crate) fn combine_into(out: &mut [f64], rows: &[f64], width: usize, spec: &[(usize, f64)]) {
    let Some((&(first, w), rest)) = spec.split_first() else {
        out.fill(std::iter::empty::<f64>().sum());
        return;
    };
    let rows = || rows.chunks_exact(width);
    out.iter_mut()
        .zip(rows())
        .for_each(|(o, row)| *o = row.get(first).map_or(f64::NAN, |x| x * w));
    for &(j, w) in rest {
        out.iter_mut()
            .zip(rows())
            .for_each(|(o, row)| *o += row.get(j).map_or(f64::NAN, |x| x * w));
    }
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

    fn visit_chunks(&self, specs: &[LinearSpec], visit: ChunkVisitor) -> Result<(), FcsError> {
        let n = self.events.nrows();
        let p = self.events.ncols();
        (0..n.div_ceil(CHUNK_EVENTS)).into_par_iter().for_each(|c| {
            let end = ((c + 1) * CHUNK_EVENTS).min(n);
            let rows = self.events.slice(ndarray::s![c * CHUNK_EVENTS..end, ..]);
            let buf: Vec<f64> = rows.iter().map(|v| v.to_f64()).collect();
            visit(c, end - c * CHUNK_EVENTS, &combine(&buf, p, specs));
        });
        Ok(())
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

    fn visit_chunks(&self, specs: &[LinearSpec], visit: ChunkVisitor) -> Result<(), FcsError> {
        let info = self.file.dataset(self.dataset)?;
        let p = info.metadata.channels.len();
        let chunks: Vec<usize> = (0..info.event_count.div_ceil(CHUNK_EVENTS)).collect();
        self.file
            .for_each_chunk(self.dataset, CHUNK_EVENTS, chunks, |rows, c| {
                visit(c, rows.len() / p.max(1), &combine(rows, p, specs));
            })
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
        let seen = Mutex::new(Vec::new());
        src.visit_chunks(
            &[vec![(1, 1.0)], vec![(0, 2.0), (2, -1.0)]],
            &|c, n, cols| {
                seen.lock().expect("lock").push((c, n, cols.to_vec()));
            },
        )
        .expect("visits");
        let seen = seen.into_inner().expect("lock");
        assert_eq!(seen, vec![(0, 2, vec![vec![2.0, 5.0], vec![-1.0, 2.0]])]);
    }
}
