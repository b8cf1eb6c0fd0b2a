//! The necrosis size check: debris by size alone, against references
//! debris cannot imitate.

use super::reference::{
    SATURATION_DISPLAY, every_kth_position, indices_where, median_of_indices, quantiles_of_indices,
};
use crate::stats::reference_stride;
use rayon::prelude::*;
use serde::Serialize;

/// Debris by size alone: stable events smaller than
/// `PregateSettings::small_event_factor` times the size of a lymphocyte.
/// The debris gate is anchored on the lymphocytes; in a necrotic aspirate
/// debris can outnumber them a thousandfold and take their place as the
/// "brightest CD45 peak", and the gate then keeps the debris. The size of a
/// lymphocyte is therefore taken twice, from populations debris cannot
/// imitate, and the larger is used: the CD45-brightest percent of events
/// (lymphocytes and monocytes; in a necrotic aspirate also smaller dead
/// cells, whose non-specific CD45 reaches there), and the side-scatter-
/// brightest percent of single events (granulocytes, which no debris or
/// dead cell scatters like) scaled by `LYMPHOCYTE_OF_GRANULOCYTE_SIZE`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SizeCheck {
    /// The size of a lymphocyte used (display-scale FSC-A): the larger of
    /// the two references.
    pub reference_fsc: f64,
    /// Median FSC-A of the CD45-brightest events.
    pub cd45_brightest_fsc: f64,
    /// Median FSC-A of the side-scatter-brightest single events
    /// (granulocytes), when there are enough.
    pub granulocyte_fsc: Option<f64>,
    /// Stable events below the small-event factor x `reference_fsc`.
    pub small_events: u64,
    /// Of those, the ones the gates kept as viable nucleated cells.
    pub small_viable: u64,
}

/// The brightest fraction of stable, unsaturated events whose FSC is a
/// size reference.
const SIZE_REFERENCE_FRACTION: f64 = 0.01;

/// Events needed in a size reference.
const MIN_SIZE_REFERENCE: u64 = 20;

/// A lymphocyte's FSC-A as a fraction of a granulocyte's: conservatively
/// low (it is about 0.5-0.6 on linear FSC-A), so the granulocytes raise
/// the size reference only when the CD45-brightest events are clearly
/// smaller than cells.
pub const LYMPHOCYTE_OF_GRANULOCYTE_SIZE: f64 = 0.5;

/// Median FSC-A of the brightest [`SIZE_REFERENCE_FRACTION`] of the
/// events of `pool` in `column` (saturated values left out), if there are
/// enough. Sought first among every k-th event (as the other reference
/// statistics are, [`reference_stride`]), over every event only when
/// that sample holds too few.
fn fsc_of_brightest(
    column: &[f32],
    fsc: &[f32],
    pool: impl Fn(usize) -> bool + Sync + Send,
) -> Option<f64> {
    let n = column.len();
    let candidate = |i: usize| pool(i) && f64::from(column[i]) < SATURATION_DISPLAY;
    let stride = reference_stride(n);
    if stride > 1 {
        let sampled: Vec<usize> = every_kth_position(n, stride)
            .filter(|&i| candidate(i))
            .collect();
        if let Some(median) = median_fsc_of_brightest(&sampled, column, fsc) {
            return Some(median);
        }
    }
    let all = indices_where(n, candidate);
    median_fsc_of_brightest(&all, column, fsc)
}

/// Median FSC-A of the brightest [`SIZE_REFERENCE_FRACTION`] of the
/// `events` in `column`, if there are [`MIN_SIZE_REFERENCE`] of them.
fn median_fsc_of_brightest(events: &[usize], column: &[f32], fsc: &[f32]) -> Option<f64> {
    let cut = quantiles_of_indices(events, column, &[1.0 - SIZE_REFERENCE_FRACTION])?[0];
    let brightest: Vec<usize> = events
        .iter()
        .copied()
        .filter(|&i| f64::from(column[i]) >= cut)
        .collect();
    if (brightest.len() as u64) < MIN_SIZE_REFERENCE {
        return None;
    }
    median_of_indices(&brightest, fsc)
}

/// The size check over the stable events; `singlets` are where the
/// granulocytes are sought, `dye_negative` (with a dye) where the
/// CD45-brightest are.
pub(super) struct SizeInputs<'a> {
    pub cd45: &'a [f32],
    pub fsc: &'a [f32],
    pub ssc: Option<&'a [f32]>,
    pub stable: &'a [bool],
    pub singlets: &'a [bool],
    pub viable: &'a [bool],
    pub dye_negative: Option<&'a [bool]>,
}

pub(super) fn size_check(factor: f64, x: &SizeInputs) -> Option<SizeCheck> {
    // The two references are independent: side by side.
    let (cd45_brightest_fsc, granulocyte_fsc) = rayon::join(
        || {
            fsc_of_brightest(x.cd45, x.fsc, |i| {
                x.stable[i] & x.dye_negative.is_none_or(|d| d[i])
            })
        },
        || {
            x.ssc
                .and_then(|ssc| fsc_of_brightest(ssc, x.fsc, |i| x.singlets[i]))
        },
    );
    let cd45_brightest_fsc = cd45_brightest_fsc?;
    let reference_fsc = granulocyte_fsc.map_or(cd45_brightest_fsc, |g| {
        cd45_brightest_fsc.max(LYMPHOCYTE_OF_GRANULOCYTE_SIZE * g)
    });
    // Both counts in one pass, without a branch per event.
    let limit = factor * reference_fsc;
    let (small_events, small_viable) = (0..x.fsc.len())
        .into_par_iter()
        .map(|i| {
            let small = f64::from(x.fsc[i]) < limit;
            (
                u64::from(small & x.stable[i]),
                u64::from(small & x.viable[i]),
            )
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    Some(SizeCheck {
        reference_fsc,
        cd45_brightest_fsc,
        granulocyte_fsc,
        small_events,
        small_viable,
    })
}
