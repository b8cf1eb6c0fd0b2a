//! Events binned into a density grid on the display scale: a plot of ten
//! million events costs one pass over them, never one shape per event.

use rayon::prelude::*;

/// Counts per cell of a `width x height` grid over a display window.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityGrid {
    /// Cells across.
    pub width: usize,
    /// Cells down.
    pub height: usize,
    /// Counts, row 0 at the bottom (lowest y).
    pub counts: Vec<u32>,
    /// Events that fell inside the window.
    pub events: u64,
    /// The largest count of a cell.
    pub top: u32,
}

impl DensityGrid {
    /// Bins the events `(xs[i], ys[i])` with `mask[i]` (all when `None`)
    /// over `x_range` x `y_range`; events outside are not counted.
    pub fn bin(
        xs: &[f32],
        ys: &[f32],
        mask: Option<&[bool]>,
        (x_range, y_range): ((f64, f64), (f64, f64)),
        (width, height): (usize, usize),
    ) -> DensityGrid {
        let (width, height) = (width.max(1), height.max(1));
        let sx = width as f64 / (x_range.1 - x_range.0);
        let sy = height as f64 / (y_range.1 - y_range.0);
        const CHUNK: usize = 1 << 16;
        let counts = xs
            .par_chunks(CHUNK)
            .enumerate()
            .fold(
                || vec![0u32; width * height],
                |mut acc, (c, chunk)| {
                    let begin = c * CHUNK;
                    for (k, &x) in chunk.iter().enumerate() {
                        let i = begin + k;
                        if mask.is_some_and(|m| !m[i]) {
                            continue;
                        }
                        let (fx, fy) = (
                            (f64::from(x) - x_range.0) * sx,
                            (f64::from(ys[i]) - y_range.0) * sy,
                        );
                        if fx >= 0.0 && fy >= 0.0 && fx < width as f64 && fy < height as f64 {
                            acc[fy as usize * width + fx as usize] += 1;
                        }
                    }
                    acc
                },
            )
            .reduce(
                || vec![0u32; width * height],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                },
            );
        let events = counts.iter().map(|&c| c as u64).sum();
        let top = counts.iter().copied().max().unwrap_or(0);
        DensityGrid {
            width,
            height,
            counts,
            events,
            top,
        }
    }

    /// Relative density of a cell on a log scale: 0 for the sparsest
    /// occupied cell, 1 for the densest; `None` when empty.
    pub fn level(&self, cell: usize) -> Option<f64> {
        let c = self.counts[cell];
        if c == 0 {
            return None;
        }
        let top = self.top.max(2) as f64;
        Some((c as f64).ln() / top.ln())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_in_their_cells() {
        let xs = [0.05, 0.95, 0.95, 1.5, 0.5];
        let ys = [0.05, 0.95, 0.95, 0.5, -0.2];
        let g = DensityGrid::bin(&xs, &ys, None, ((0.0, 1.0), (0.0, 1.0)), (10, 10));
        assert_eq!(g.events, 3);
        assert_eq!(g.counts[0], 1);
        assert_eq!(g.counts[99], 2);
        assert_eq!(g.level(99), Some(1.0));
        assert_eq!(g.level(5), None);
        let masked = DensityGrid::bin(
            &xs,
            &ys,
            Some(&[true, false, false, true, true]),
            ((0.0, 1.0), (0.0, 1.0)),
            (10, 10),
        );
        assert_eq!(masked.events, 1);
    }
}
