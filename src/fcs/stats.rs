//! Per-channel summary statistics over all events, computed in one parallel
//! streaming pass over the DATA bytes (no event matrix is built).

use super::error::Result;
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

#[derive(Clone, Copy)]
struct Acc {
    min: f64,
    max: f64,
    sum: f64,
    raw_min: f64,
    raw_max: f64,
    raw_sum: f64,
    saturated: u64,
    negative: u64,
    nan: u64,
}

const EMPTY: Acc = Acc {
    min: f64::INFINITY,
    max: f64::NEG_INFINITY,
    sum: 0.0,
    raw_min: f64::INFINITY,
    raw_max: f64::NEG_INFINITY,
    raw_sum: 0.0,
    saturated: 0,
    negative: 0,
    nan: 0,
};

fn merge(a: Acc, b: Acc) -> Acc {
    Acc {
        min: a.min.min(b.min),
        max: a.max.max(b.max),
        sum: a.sum + b.sum,
        raw_min: a.raw_min.min(b.raw_min),
        raw_max: a.raw_max.max(b.raw_max),
        raw_sum: a.raw_sum + b.raw_sum,
        saturated: a.saturated + b.saturated,
        negative: a.negative + b.negative,
        nan: a.nan + b.nan,
    }
}

/// Computes [`ChannelStats`] for every channel of data set `index`.
pub fn channel_stats(file: &FcsFile, index: usize) -> Result<Vec<ChannelStats>> {
    let info = file.dataset(index)?;
    let channels = &info.metadata.channels;
    let p = channels.len();
    let scales: Vec<_> = channels.iter().map(|c| c.scale).collect();
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
    let accs = file.fold_raw(
        index,
        || vec![EMPTY; p],
        |mut accs, rows| {
            for row in rows.chunks_exact(p) {
                for (j, (&raw, acc)) in row.iter().zip(accs.iter_mut()).enumerate() {
                    if raw.is_nan() {
                        acc.nan += 1;
                        continue;
                    }
                    let v = scales[j].apply(raw);
                    acc.min = acc.min.min(v);
                    acc.max = acc.max.max(v);
                    acc.sum += v;
                    acc.raw_min = acc.raw_min.min(raw);
                    acc.raw_max = acc.raw_max.max(raw);
                    acc.raw_sum += raw;
                    acc.saturated += (raw >= ceilings[j]) as u64;
                    acc.negative += (v < 0.0) as u64;
                }
            }
            accs
        },
        |a, b| a.into_iter().zip(b).map(|(x, y)| merge(x, y)).collect(),
    )?;
    let total = info.event_count as f64;
    let percent = |n: u64| {
        if total > 0.0 {
            100.0 * n as f64 / total
        } else {
            0.0
        }
    };
    Ok(channels
        .iter()
        .zip(accs)
        .map(|(c, a)| {
            let valid = info.event_count as u64 - a.nan;
            let finite = |v: f64| if valid > 0 { v } else { f64::NAN };
            ChannelStats {
                name: c.name.clone(),
                min: finite(a.min),
                max: finite(a.max),
                mean: if valid > 0 {
                    a.sum / valid as f64
                } else {
                    f64::NAN
                },
                sum: a.sum,
                raw_min: finite(a.raw_min),
                raw_max: finite(a.raw_max),
                raw_sum: a.raw_sum,
                saturated_percent: percent(a.saturated),
                negative_percent: percent(a.negative),
                not_a_number: a.nan,
            }
        })
        .collect())
}
