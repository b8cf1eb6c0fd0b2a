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
/// ([`combine_into`] each, over the rows transposed once).
fn combine(rows: &[f64], p: usize, specs: &[LinearSpec]) -> Vec<Vec<f64>> {
    ChunkColumns::with_transposed(rows, p, |chunk| {
        specs
            .iter()
            .map(|spec| {
                let mut column = vec![0.0; chunk.events];
                chunk.combine_into(&mut column, spec);
                column
            })
            .collect()
    })
}

thread_local! {
    /// Each thread's [`ChunkColumns`], reused from chunk to chunk.
    static CHUNK_COLUMNS: std::cell::RefCell<ChunkColumns> = Default::default();
}

/// A chunk of row-major events transposed to one contiguous column per
/// channel, so that every weighted sum over it reads whole columns (loops
/// the compiler vectorises) instead of striding across rows. Reused from
/// chunk to chunk: its buffer is allocated once per thread
/// ([`ChunkColumns::with_transposed`]).
#[derive(Debug, Default)]
pub(crate) struct ChunkColumns {
    values: Vec<f64>,
    channels: usize,
    events: usize,
}

impl ChunkColumns {
    /// Runs `f` on `rows` (row-major, `width` values per event) taken as
    /// columns in this thread's buffer. `f` must not call it again.
    pub(crate) fn with_transposed<R>(
        rows: &[f64],
        width: usize,
        f: impl FnOnce(&ChunkColumns) -> R,
    ) -> R {
        CHUNK_COLUMNS.with_borrow_mut(|columns| {
            columns.transpose(rows, width);
            f(columns)
        })
    }

    /// Takes `rows` (row-major, `width` values per event) as columns.
    fn transpose(&mut self, rows: &[f64], width: usize) {
        let width = width.max(1);
        let events = rows.len() / width;
        self.values.clear();
        self.values.resize(width * events, 0.0);
        for (j, column) in self.values.chunks_exact_mut(events.max(1)).enumerate() {
            column
                .iter_mut()
                .zip(rows[j..].iter().step_by(width))
                .for_each(|(c, v)| *c = *v);
        }
        self.channels = width;
        self.events = events;
    }

    /// Events in the chunk.
    pub(crate) fn events(&self) -> usize {
        self.events
    }

    /// Channel `j`'s column, `None` past the last channel.
    fn column(&self, j: usize) -> Option<&[f64]> {
        (j < self.channels).then(|| &self.values[j * self.events..(j + 1) * self.events])
    }

    /// `out[e] = Σ w · value[e][j]` over the spec's `(j, w)`, summed term
    /// by term in the spec's order (NaN for a channel the rows lack; an
    /// empty spec gives zero).
    pub(crate) fn combine_into(&self, out: &mut [f64], spec: &[(usize, f64)]) {
        let Some((&(first, w), rest)) = spec.split_first() else {
            out.fill(std::iter::empty::<f64>().sum());
            return;
        };
        match self.column(first) {
            Some(c) => out.iter_mut().zip(c).for_each(|(o, x)| *o = x * w),
            None => out.fill(f64::NAN),
        }
        for &(j, w) in rest {
            match self.column(j) {
                Some(c) => out.iter_mut().zip(c).for_each(|(o, x)| *o += x * w),
                None => out.fill(f64::NAN),
            }
        }
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
