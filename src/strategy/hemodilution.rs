//! Hemodilution indicators: the cells only marrow holds.
//!
//! An aspirate diluted by peripheral blood loses its CD34+ progenitors,
//! B-cell precursors and nucleated red cells; a "negative" from such a
//! sample understates disease. The indicators are counted among the viable
//! nucleated cells that are not blasts (a marrow full of blasts is not
//! diluted).

use super::markers::Marker;
use super::pregate::{
    PreGates, count, mask_where, median_of_indices, names, negative_bound, quantiles_of_indices,
};
use super::prepare::{LOGICLE, Prepared};
use crate::stats::percent;
use serde::Serialize;

/// Marrow-only populations, percent of the viable nucleated non-blast
/// cells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MarrowIndicators {
    /// CD34+ progenitors (CD19-, CD34 above the negative cells + 4 SD, CD45
    /// dimmer than the lymphocytes, SSC at most 3x theirs); `None` without
    /// a CD34 channel.
    pub cd34_progenitor_percent: Option<f64>,
    /// Normal B-cell precursors (CD19+CD10+ cells that are not blasts).
    pub b_precursor_percent: f64,
    /// Nucleated red cells (CD45 more than 1.5 decades below the
    /// lymphocytes, CD19-, SSC no higher than the lymphocytes').
    pub nucleated_red_percent: f64,
    /// Any of the three (each cell counted once).
    pub marrow_specific_percent: f64,
    /// Leukocytes and B-lineage cells among all viable nucleated events
    /// (blasts included): CD45 above the nucleated red cells' level (1.5
    /// decades below the lymphocytes), or CD19+, or CD10 above the CD10+
    /// cut. No marrow is mostly anything else: nucleated red cells are at
    /// most about half of a marrow's nucleated cells even in erythroid
    /// hyperplasia, so a site where they seem to be nearly all is one whose
    /// debris or dead cells passed the debris gate and the dye. `None`
    /// without CD45.
    pub leukocyte_percent: Option<f64>,
    /// The cells these percentages are of.
    pub reference_events: u64,
}

/// Counts the marrow-only cells of a gated site.
pub fn marrow_indicators(p: &Prepared, g: &PreGates, blasts: &[bool]) -> MarrowIndicators {
    let n = p.events;
    let base = mask_where(n, |i| g.viable[i] && !blasts[i]);
    let reference = count(&base);
    let non_b = mask_where(n, |i| base[i] && !g.b_lineage[i]);
    let b_precursor = mask_where(n, |i| base[i] && g.cd10_positive[i]);
    // The lymphocytes anchor the CD34+ progenitors and the nucleated red
    // cells: both sit in CD45 and SSC relative to them. They are the
    // site's one lymphocyte reference (`PreGates::lymphocytes`, the T/NK
    // cells), less any the blast call took in.
    let lymph = match (p.get(Marker::Cd(45)), p.get(Marker::SscA)) {
        (Some(cd45), Some(ssc)) => {
            let lymph: Vec<usize> = g
                .lymphocytes
                .iter()
                .copied()
                .filter(|&i| !blasts[i])
                .collect();
            match (
                median_of_indices(&lymph, cd45),
                quantiles_of_indices(&lymph, ssc, &[0.5, 0.9]),
            ) {
                (Some(l45), Some(q)) => Some((cd45, ssc, l45, q[0], q[1])),
                _ => None,
            }
        }
        _ => None,
    };
    // CD34+ progenitors: CD34 above the negative cells + 4 SD, in the
    // CD45-dim, SSC-low region where progenitors sit (CD45 at least 0.3
    // decades dimmer than the lymphocytes, SSC at most 3x theirs): the
    // spreading of bright neutrophils and monocytes into the CD34 channel
    // is outside it, so peripheral blood does not look like marrow.
    let cd34_positive: Option<Vec<bool>> = p.get(Marker::Cd(34)).map(|cd34| {
        let cut = negative_bound(cd34, &non_b, 4.0).unwrap_or(f64::INFINITY);
        mask_where(n, |i| {
            non_b[i]
                && f64::from(cd34[i]) >= cut
                && lymph.is_none_or(|(cd45, ssc, l45, ssc_mid, _)| {
                    f64::from(cd45[i]) <= l45 - 0.3 / LOGICLE.2
                        && f64::from(ssc[i]) <= 3.0 * ssc_mid
                })
        })
    });
    let nucleated_red: Vec<bool> = match lymph {
        Some((cd45, ssc, l45, _, ssc_top)) => {
            let cut = l45 - 1.5 / LOGICLE.2;
            mask_where(n, |i| {
                non_b[i] && f64::from(cd45[i]) < cut && f64::from(ssc[i]) <= ssc_top
            })
        }
        None => vec![false; n],
    };
    let of_reference = |m: &[bool]| percent(count(m), reference);
    let cd10_cut = g.threshold(names::CD19_CD10).unwrap_or(f64::INFINITY);
    let cd10 = p.get(Marker::Cd(10));
    let leukocyte_percent = lymph.map(|(cd45, _, l45, _, _)| {
        let cut = l45 - 1.5 / LOGICLE.2;
        let leukocytes = mask_where(n, |i| {
            g.viable[i]
                && (blasts[i]
                    || g.b_lineage[i]
                    || f64::from(cd45[i]) >= cut
                    || cd10.is_some_and(|c| f64::from(c[i]) >= cd10_cut))
        });
        percent(count(&leukocytes), count(&g.viable))
    });
    let any = count(&mask_where(n, |i| {
        b_precursor[i] || nucleated_red[i] || cd34_positive.as_ref().is_some_and(|c| c[i])
    }));
    MarrowIndicators {
        cd34_progenitor_percent: cd34_positive.as_deref().map(of_reference),
        b_precursor_percent: of_reference(&b_precursor),
        nucleated_red_percent: of_reference(&nucleated_red),
        marrow_specific_percent: percent(any, reference),
        leukocyte_percent,
        reference_events: reference,
    }
}
