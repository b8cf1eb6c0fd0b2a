//! Per-channel summary statistics over all events, computed in one parallel
//! streaming pass over the DATA bytes (no event matrix is built).

use super::error::Result;
use super::metadata::Scale;
use super::reader::FcsFile;
use serde::Serialize;

/// Statistics of one channel over all events of a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelStats {
    /// $PnN.
    pub name: String,
    /// Smallest channel value.
    pub min: f64,
    /// Largest channel value.
    pub max: f64,
    /// Mean channel value.
    pub mean: f64,
    /// Sum of channel values.
    pub sum: f64,
    /// Smallest stored value.
    pub raw_min: f64,
    /// Largest stored value.
    pub raw_max: f64,
    /// Sum of stored values.
    pub raw_sum: f64,
    /// Percent of events piled at the top of the range (stored value at or
    /// above $PnR - 1): saturated detector.
    pub saturated_percent: f64,
    /// Percent of events whose channel value is below zero.
    pub negative_percent: f64,
    /// Events whose value is not a number (unparseable ASCII, NaN floats).
    pub not_a_number: u64,
}

/// Accumulators of one chunk, one slot per channel (struct of arrays, so the
/// per-row loop is branch-free and vectorises).
#[derive(Clone)]
struct Acc {
    min: Vec<f64>,
    max: Vec<f64>,
    sum: Vec<f64>,
    nan: Vec<u64>,
    saturated: Vec<u64>,
    negative: Vec<u64>,
    /// Log channels only: min, max, sum of channel values.
    log: Vec<(usize, f64, f64, f64)>,
}

impl Acc {
    fn new(p: usize, log_channels: &[usize]) -> Acc {
        Acc {
            min: vec![f64::INFINITY; p],
            max: vec![f64::NEG_INFINITY; p],
            sum: vec![0.0; p],
            nan: vec![0; p],
            saturated: vec![0; p],
            negative: vec![0; p],
            log: log_channels
                .iter()
                .map(|&j| (j, f64::INFINITY, f64::NEG_INFINITY, 0.0))
                .collect(),
        }
    }

    fn add_rows(&mut self, rows: &[f64], ceilings: &[f64], scales: &[Scale]) {
        let p = self.min.len();
        // Column by column: the accumulators live in registers and the
        // strided reads stay in cache (a chunk is a few hundred KB).
        for (j, &ceiling) in ceilings.iter().enumerate().take(p) {
            let (mut min, mut max, mut sum) = (self.min[j], self.max[j], 0.0f64);
            let (mut sat, mut neg) = (0u64, 0u64);
            for &v in rows.iter().skip(j).step_by(p) {
                // NaN fails every comparison, so it never becomes min/max
                // nor counts as saturated or negative.
                min = if v < min { v } else { min };
                max = if v > max { v } else { max };
                sum += v;
                sat += (v >= ceiling) as u64;
                neg += (v < 0.0) as u64;
            }
            if sum.is_nan() {
                // Rare: redo the sum without the NaNs, and count them.
                sum = 0.0;
                for &v in rows.iter().skip(j).step_by(p) {
                    if v.is_nan() {
                        self.nan[j] += 1;
                    } else {
                        sum += v;
                    }
                }
            }
            self.min[j] = min;
            self.max[j] = max;
            self.sum[j] += sum;
            self.saturated[j] += sat;
            self.negative[j] += neg;
        }
        for (j, lmin, lmax, lsum) in &mut self.log {
            for row in rows.chunks_exact(p) {
                let v = scales[*j].apply(row[*j]);
                if !v.is_nan() {
                    *lmin = lmin.min(v);
                    *lmax = lmax.max(v);
                    *lsum += v;
                }
            }
        }
    }

    fn merge(mut self, other: Acc) -> Acc {
        for j in 0..self.min.len() {
            self.min[j] = self.min[j].min(other.min[j]);
            self.max[j] = self.max[j].max(other.max[j]);
            self.sum[j] += other.sum[j];
            self.nan[j] += other.nan[j];
            self.saturated[j] += other.saturated[j];
            self.negative[j] += other.negative[j];
        }
        for (a, b) in self.log.iter_mut().zip(other.log) {
            a.1 = a.1.min(b.1);
            a.2 = a.2.max(b.2);
            a.3 += b.3;
        }
        self
    }
}

/// Computes [`ChannelStats`] for every channel of data set `index`.
///
/// Linear conversions (gain, time step) are applied to the summaries of the
/// stored values; only log-amplified channels are converted value by value.
pub fn channel_stats(file: &FcsFile, index: usize) -> Result<Vec<ChannelStats>> {
    let info = file.dataset(index)?;
    let channels = &info.metadata.channels;
    let p = channels.len();
    let scales: Vec<Scale> = channels.iter().map(|c| c.scale).collect();
    let log_channels: Vec<usize> = (0..p)
        .filter(|&j| matches!(scales[j], Scale::Log { .. }))
        .collect();
    let ceilings: Vec<f64> = channels
        .iter()
        .map(|c| {
            if c.range > 0.0 {
                c.range - 1.0
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let acc = file.fold_raw(
        index,
        || Acc::new(p, &log_channels),
        |mut acc, rows| {
            acc.add_rows(rows, &ceilings, &scales);
            acc
        },
        Acc::merge,
    )?;
    let total = info.event_count as f64;
    let percent = |n: u64| {
        if total > 0.0 {
            100.0 * n as f64 / total
        } else {
            0.0
        }
    };
    Ok((0..p)
        .map(|j| {
            let valid = info.event_count as u64 - acc.nan[j];
            let defined = |v: f64| if valid > 0 { v } else { f64::NAN };
            let (raw_min, raw_max, raw_sum) = (acc.min[j], acc.max[j], acc.sum[j]);
            let (min, max, sum, negative) = match scales[j] {
                Scale::Log { .. } => {
                    let &(_, lmin, lmax, lsum) = acc.log.iter().find(|l| l.0 == j).unwrap_or(&(
                        j,
                        f64::NAN,
                        f64::NAN,
                        f64::NAN,
                    ));
                    (lmin, lmax, lsum, 0)
                }
                linear => (
                    linear.apply(raw_min),
                    linear.apply(raw_max),
                    linear.apply(raw_sum),
                    acc.negative[j],
                ),
            };
            ChannelStats {
                name: channels[j].name.clone(),
                min: defined(min),
                max: defined(max),
                mean: if valid > 0 {
                    sum / valid as f64
                } else {
                    f64::NAN
                },
                sum,
                raw_min: defined(raw_min),
                raw_max: defined(raw_max),
                raw_sum,
                saturated_percent: percent(acc.saturated[j]),
                negative_percent: percent(negative),
                not_a_number: acc.nan[j],
            }
        })
        .collect())
}
