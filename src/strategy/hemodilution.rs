//! Hemodilution indicators: the cells only marrow holds.
//!
//! An aspirate diluted by peripheral blood loses its CD34+ progenitors,
//! B-cell precursors and nucleated red cells; a "negative" from such a
//! sample understates disease. The indicators are counted among the viable
//! nucleated cells that are not blasts (a marrow full of blasts is not
//! diluted).

use super::markers::Marker;
use super::pregate::{
    PreGates, mask_where, median_of_indices, names, negative_bound, quantiles_of_indices,
};
use super::prepare::{LOGICLE, Prepared};
use crate::stats::percent;
use rayon::prelude::*;
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
    let non_b = mask_where(n, |i| g.viable[i] & !blasts[i] & !g.b_lineage[i]);
    // Two references, found side by side:
    // - the lymphocytes anchor the CD34+ progenitors and the nucleated red
    //   cells: both sit in CD45 and SSC relative to them. They are the
    //   site's one lymphocyte reference (`PreGates::lymphocytes`, the T/NK
    //   cells), less any the blast call took in;
    // - CD34+ progenitors: CD34 above the negative cells + 4 SD, in the
    //   CD45-dim, SSC-low region where progenitors sit (CD45 at least 0.3
    //   decades dimmer than the lymphocytes, SSC at most 3x theirs): the
    //   spreading of bright neutrophils and monocytes into the CD34 channel
    //   is outside it, so peripheral blood does not look like marrow.
    let (lymph, cd34) = rayon::join(
        || match (p.get(Marker::Cd(45)), p.get(Marker::SscA)) {
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
                    (Some(l45), Some(q)) => Some(Lymphoid {
                        cd45,
                        ssc,
                        median_cd45: l45,
                        median_ssc: q[0],
                        top_ssc: q[1],
                        far_below: l45 - 1.5 / LOGICLE.2,
                    }),
                    _ => None,
                }
            }
            _ => None,
        },
        || {
            p.get(Marker::Cd(34)).map(|cd34| {
                (
                    cd34,
                    negative_bound(cd34, &non_b, 4.0).unwrap_or(f64::INFINITY),
                )
            })
        },
    );
    // The tests below use `&` and `|` between plain comparisons: the same
    // results, without a branch per event over millions of events.
    let cd34_positive = |i: usize| {
        cd34.is_some_and(|(cd34, cut)| {
            non_b[i]
                & (f64::from(cd34[i]) >= cut)
                & lymph.as_ref().is_none_or(|l| {
                    (f64::from(l.cd45[i]) <= l.median_cd45 - 0.3 / LOGICLE.2)
                        & (f64::from(l.ssc[i]) <= 3.0 * l.median_ssc)
                })
        })
    };
    // Nucleated red cells: CD45 more than 1.5 decades below the
    // lymphocytes, no more side scatter than theirs.
    let nucleated_red = |i: usize| {
        lymph.as_ref().is_some_and(|l| {
            non_b[i] & (f64::from(l.cd45[i]) < l.far_below) & (f64::from(l.ssc[i]) <= l.top_ssc)
        })
    };
    // Leukocytes among the viable cells: CD45 within 1.5 decades of the
    // lymphocytes, B lineage, CD10+ or blasts.
    let cd10_cut = g.threshold(names::CD19_CD10).unwrap_or(f64::INFINITY);
    let cd10 = p.get(Marker::Cd(10));
    let leukocyte = |i: usize, l: &Lymphoid| {
        blasts[i]
            | g.b_lineage[i]
            | (f64::from(l.cd45[i]) >= l.far_below)
            | cd10.is_some_and(|c| f64::from(c[i]) >= cd10_cut)
    };
    // Every count in one pass.
    let counts = (0..n)
        .into_par_iter()
        .filter(|&i| g.viable[i])
        .fold(Counts::default, |mut c, i| {
            c.viable += 1;
            if let Some(l) = lymph.as_ref() {
                c.leukocytes += u64::from(leukocyte(i, l));
            }
            if !blasts[i] {
                c.reference += 1;
                let b_precursor = g.cd10_positive[i];
                let (progenitor, red) = (cd34_positive(i), nucleated_red(i));
                c.b_precursor += u64::from(b_precursor);
                c.cd34_progenitor += u64::from(progenitor);
                c.nucleated_red += u64::from(red);
                c.any += u64::from(b_precursor | progenitor | red);
            }
            c
        })
        .reduce(Counts::default, Counts::add);
    let of_reference = |k: u64| percent(k, counts.reference);
    MarrowIndicators {
        cd34_progenitor_percent: cd34.map(|_| of_reference(counts.cd34_progenitor)),
        b_precursor_percent: of_reference(counts.b_precursor),
        nucleated_red_percent: of_reference(counts.nucleated_red),
        marrow_specific_percent: of_reference(counts.any),
        leukocyte_percent: lymph.map(|_| percent(counts.leukocytes, counts.viable)),
        reference_events: counts.reference,
    }
}

/// The lymphocyte reference of [`marrow_indicators`]: the columns and the
/// lymphocytes' medians (and their SSC's 90th percentile).
struct Lymphoid<'a> {
    cd45: &'a [f32],
    ssc: &'a [f32],
    median_cd45: f64,
    median_ssc: f64,
    top_ssc: f64,
    /// 1.5 decades below their CD45: nucleated red cells are dimmer,
    /// leukocytes are not.
    far_below: f64,
}

/// The events [`marrow_indicators`] counts.
#[derive(Default)]
struct Counts {
    viable: u64,
    leukocytes: u64,
    reference: u64,
    b_precursor: u64,
    cd34_progenitor: u64,
    nucleated_red: u64,
    any: u64,
}

impl Counts {
    fn add(self, o: Counts) -> Counts {
        Counts {
            viable: self.viable + o.viable,
            leukocytes: self.leukocytes + o.leukocytes,
            reference: self.reference + o.reference,
            b_precursor: self.b_precursor + o.b_precursor,
            cd34_progenitor: self.cd34_progenitor + o.cd34_progenitor,
            nucleated_red: self.nucleated_red + o.nucleated_red,
            any: self.any + o.any,
        }
    }
}
