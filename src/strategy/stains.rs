//! Did each lineage stain work? A NEGATIVE is only as good as the markers
//! it rests on, so each is checked against a population of the same tube
//! that must be positive when the stain worked:
//!
//! - CD19 on B cells (mature B cells and B-cell precursors). A marrow can
//!   truly hold no B cells (after CD19-directed therapy such as
//!   blinatumomab or CAR-T cells, or after rituximab), and then CD19-negative
//!   disease cannot be excluded with a CD19-gated panel either way;
//! - CD10 on mature neutrophils (CD10 bright, granulocytic side scatter),
//!   or on any B-cell precursor or blast;
//! - CD45 on lymphocytes: the brightest CD45 population must stand clear
//!   of the unstained level.
//!
//! A check that fails forbids a NEGATIVE (a blast population found still
//! stands: it shows the stain worked where it matters).

use super::markers::Marker;
use super::pregate::{PreGates, count, masked_quantiles, median_of_indices, names};
use super::prepare::{LOGICLE, Prepared};
use rayon::prelude::*;
use serde::Serialize;

/// The check of one stain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StainCheck {
    /// Marker checked.
    pub marker: String,
    /// The internal positive control it was checked on.
    pub control: String,
    /// Control events that are positive.
    pub positive_events: u64,
    /// Events the control was looked for among.
    pub among_events: u64,
    /// Whether the stain shows its positive population.
    pub passed: bool,
    /// When it failed: what that means, in words.
    pub finding: Option<String>,
}

/// Fewest positive control events that show a stain worked: the LOD, or
/// 0.01 % of the viable cells when that is more (noise and spillover put a
/// few events above any threshold in a large file).
fn min_positive(viable: u64, lod: u64) -> u64 {
    lod.max(viable / 10_000).max(1)
}

/// One decade on the display scale.
fn decade() -> f64 {
    1.0 / LOGICLE.2
}

/// Checks CD19, CD10 and CD45 of a prepared, pre-gated site.
pub fn check_stains(p: &Prepared, g: &PreGates, lod: u64) -> Vec<StainCheck> {
    let viable = count(&g.viable);
    let need = min_positive(viable, lod);
    let mut checks = Vec::new();

    // CD19: the CD19+ gate (valley above the CD19- cells, lymphoid SSC).
    let cd19_positive = count(&g.b_lineage);
    let passed = cd19_positive >= need;
    checks.push(StainCheck {
        marker: "CD19".into(),
        control: "B cells (mature B cells and B-cell precursors)".into(),
        positive_events: cd19_positive,
        among_events: viable,
        passed,
        finding: (!passed).then(|| {
            format!(
                "CD19 shows no positive population ({cd19_positive} CD19+ of {viable} viable cells): either the CD19 stain failed or the marrow holds no B cells (as after CD19-directed therapy such as blinatumomab or CAR-T cells, or after rituximab); CD19-negative disease cannot be excluded with this panel"
            )
        }),
    });

    // CD10: positive on neutrophils (granulocytic SSC, CD19-) or on any
    // CD19+ precursor or blast, above the CD10 threshold of the CD19+CD10+
    // gate (the CD10- cells' negative peak + 4 SD).
    let lymph = &g.lymphocytes;
    if let (Some(cd10), Some(ssc)) = (p.get(Marker::Cd(10)), p.get(Marker::SscA)) {
        let cut = g.threshold(names::CD19_CD10).unwrap_or(f64::INFINITY);
        let lymph_ssc = median_of_indices(lymph, ssc).unwrap_or(0.0);
        // Counted without branches (`&`: plain comparisons, same counts).
        let (granulocytic, neutrophils_positive) = (0..p.events)
            .into_par_iter()
            .map(|i| {
                let granulocytic =
                    g.viable[i] & !g.b_lineage[i] & (f64::from(ssc[i]) > 2.0 * lymph_ssc);
                (
                    u64::from(granulocytic),
                    u64::from(granulocytic & (f64::from(cd10[i]) >= cut)),
                )
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let b_positive = count(&g.cd10_positive);
        let positive = neutrophils_positive + b_positive;
        let passed = positive >= need;
        checks.push(StainCheck {
            marker: "CD10".into(),
            control: "mature neutrophils (CD10 bright), or B-cell precursors and blasts".into(),
            positive_events: positive,
            among_events: granulocytic + count(&g.b_lineage),
            passed,
            finding: (!passed).then(|| {
                format!(
                    "CD10 shows no positive population, not even on neutrophils ({neutrophils_positive} CD10+ of {granulocytic} granulocytic cells, {b_positive} CD19+CD10+): did the CD10 stain fail?"
                )
            }),
        });
    }

    // CD45: the T/NK lymphocytes (brightest CD45 peak among viable CD19-
    // cells; see `PreGates::lymphocytes`) at least a decade above
    // the dimmest viable cells' level (unstained autofluorescence and
    // CD45- cells lie at or below it).
    if let Some(cd45) = p.get(Marker::Cd(45)) {
        let lymph_level = median_of_indices(lymph, cd45);
        let floor = masked_quantiles(cd45, &g.viable, &[0.01]).map(|q| q[0]);
        let (passed, above) = match (lymph_level, floor) {
            (Some(l), Some(f)) => (lymph.len() as u64 >= need && l - f >= decade(), l - f),
            _ => (false, 0.0),
        };
        checks.push(StainCheck {
            marker: "CD45".into(),
            control: "lymphocytes (CD45 bright)".into(),
            positive_events: if passed { lymph.len() as u64 } else { 0 },
            among_events: viable,
            passed,
            finding: (!passed).then(|| {
                if (lymph.len() as u64) < need {
                    format!(
                        "only {} CD45-bright lymphocytes found (at least {need} needed as the reference of the blast search): a sample this poor in lymphocytes (necrosis, or a failed CD45 stain) cannot be judged",
                        lymph.len()
                    )
                } else {
                    format!(
                        "CD45 shows no bright lymphocyte population ({:.1} decades above the dimmest cells, at least 1 expected): did the CD45 stain fail? The CD45 references of the blast search are then unusable",
                        above / decade()
                    )
                }
            }),
        });
    }
    checks
}
