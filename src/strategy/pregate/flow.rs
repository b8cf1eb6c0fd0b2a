//! Flow stability over acquisition time.

use super::PregateSettings;
use super::reference::{count, count_where, every_kth};
use crate::stats::{percent, quantiles, reference_stride};
use rayon::prelude::*;

/// The flow-stability gate on a Time column: bins between the 0.1 % and
/// 99.9 % quantiles of time (an outlier time stamp does not stretch the
/// scale; events outside are kept), the median event rate over the bins
/// that hold events (a pause in acquisition is empty bins, not a flow
/// problem), bins outside 0.5-2x it removed. Returns the membership, the
/// rule in words and the median rate, or why the Time channel cannot be
/// used. The removed bins are also returned as time ranges
/// `[from, to)` (adjacent bins merged), the gate's Gating-ML form.
pub(super) fn stable_flow(
    t: &[f32],
    n: usize,
    cfg: &PregateSettings,
) -> Result<StableFlow, String> {
    let (bins, rate) = (cfg.time_bins.max(1), cfg.rate_factor);
    if n <= 1_000 {
        return Err(format!("{n} events are too few to judge the event rate"));
    }
    let finite = count_where(t.len(), |i| t[i].is_finite()) as usize;
    if finite < n / 2 {
        return Err(format!("{} of {n} time values are not numbers", n - finite));
    }
    let sample = every_kth(t, reference_stride(n));
    let Some([lo, hi]) =
        quantiles(sample.iter().map(|&v| f64::from(v)), &[0.001, 0.999]).map(|q| [q[0], q[1]])
    else {
        return Err("no time values".into());
    };
    if hi - lo <= 0.0 || !(hi - lo).is_finite() {
        return Err(format!("time is constant ({lo})"));
    }
    // Bins by comparison with their edges (not by division), so a range
    // of edges holds exactly the bin's events.
    let width = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|k| lo + k as f64 * width).collect();
    edges.push(hi.next_up());
    // The bin is guessed by multiplication and settled against the edges
    // (the guess is off by at most one where rounding meets an edge, so the
    // loops run once at most).
    let per_width = 1.0 / width;
    let bin = |v: f64| -> Option<usize> {
        if !(v >= lo && v <= hi) {
            return None;
        }
        let mut b = (((v - lo) * per_width) as usize).min(bins - 1);
        while b > 0 && v < edges[b] {
            b -= 1;
        }
        while b + 1 < bins && v >= edges[b + 1] {
            b += 1;
        }
        Some(b)
    };
    let counts = t
        .par_chunks(1 << 16)
        .fold(
            || vec![0u64; bins],
            |mut counts, chunk| {
                chunk
                    .iter()
                    .filter_map(|&v| bin(v.into()))
                    .for_each(|b| counts[b] += 1);
                counts
            },
        )
        .reduce(
            || vec![0u64; bins],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            },
        );
    let mut filled: Vec<u64> = counts.iter().copied().filter(|&c| c > 0).collect();
    filled.sort_unstable();
    let Some(&median) = filled.get(filled.len() / 2) else {
        return Err("no time values inside the acquisition".into());
    };
    let median = median as f64;
    let good: Vec<bool> = counts
        .iter()
        .map(|&c| c == 0 || (c as f64 >= median / rate && c as f64 <= rate * median))
        .collect();
    // Events outside the binned range are kept; with every bin kept, so is
    // every event (no second pass over the column).
    let m: Vec<bool> = if good.iter().all(|&g| g) {
        vec![true; t.len()]
    } else {
        t.par_iter()
            .map(|&v| bin(v.into()).is_none_or(|b| good[b]))
            .collect()
    };
    let removed = n as u64 - count(&m);
    let bad = good.iter().filter(|g| !**g).count();
    let empty = counts.iter().filter(|&&c| c == 0).count();
    if removed as f64 > cfg.max_unstable_fraction * n as f64 {
        return Err(format!(
            "the event rate is irregular throughout ({bad} of {} time bins with events outside {}-{rate}x the median rate, {} of events)",
            bins - empty,
            1.0 / rate,
            crate::qc::format_percent(percent(removed, n as u64))
        ));
    }
    let pause = if empty > 0 {
        format!("; {empty} empty bins (acquisition paused) ignored")
    } else {
        String::new()
    };
    let mut removed_ranges: Vec<(f64, f64)> = Vec::new();
    for (k, _) in good.iter().enumerate().filter(|(_, g)| !**g) {
        match removed_ranges.last_mut() {
            Some(last) if last.1 == edges[k] => last.1 = edges[k + 1],
            _ => removed_ranges.push((edges[k], edges[k + 1])),
        }
    }
    Ok(StableFlow {
        members: m,
        text: format!(
            "{bad} of {} time bins with events had an event rate outside {}-{rate}x the median rate: {removed} events removed{pause}",
            bins - empty,
            1.0 / rate
        ),
        median_rate: median,
        removed_ranges,
    })
}

/// The flow-stability gate.
pub(super) struct StableFlow {
    pub members: Vec<bool>,
    pub text: String,
    pub median_rate: f64,
    /// Removed time ranges, `[from, to)`.
    pub removed_ranges: Vec<(f64, f64)>,
}
