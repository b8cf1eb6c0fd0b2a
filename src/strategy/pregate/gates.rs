//! One function per pre-gate: each takes its parent's membership, finds
//! its threshold in the sample's own populations and returns its members
//! with its rule (the words, the thresholds, the Gating-ML gates and the
//! view it is drawn on). [`super::pregate`] runs them in order.

use super::flow::stable_flow;
use super::reference::{
    LymphoidReference, MIN_SCATTER_REFERENCE, count, density, dye_cut, mask_where,
    median_of_indices, negative_bound, sample_of, valley_above_negative,
};
use super::{PregateSettings, Rule, View, names};
use crate::gate::Interval;
use crate::stats::{median_and_robust_sd, reference_stride};
use crate::strategy::export::{at_least, at_most, below, none_of, rectangle};
use crate::strategy::markers::Marker;
use crate::strategy::prepare::Prepared;

/// A gate's members and its rule, before its counts are recorded.
pub(super) struct Gated {
    /// Its events (each inside the parent's).
    pub members: Vec<bool>,
    /// What it is.
    pub rule: Rule,
}

/// The upper end of the exported singlet gate (FSC-H / FSC-A; see its
/// export).
const SINGLET_RATIO_TOP: f64 = 1e6;

/// A gate that passes every event of its parent, with why.
fn passes_all(
    name: &'static str,
    parent: Option<&'static str>,
    text: String,
    of: &[bool],
) -> Gated {
    Gated {
        members: of.to_vec(),
        rule: Rule {
            name,
            parent,
            dimensions: &[],
            view: None,
            text,
            thresholds: Vec::new(),
            gates: Vec::new(),
        },
    }
}

/// The columns every pre-gate reads; NaN everywhere (in no gate) where
/// the file lacks one (the caller checks the required markers first).
pub(super) struct Columns<'a> {
    /// FSC-A.
    pub fsc: &'a [f32],
    /// SSC-A.
    pub ssc: &'a [f32],
    /// CD19.
    pub cd19: &'a [f32],
    /// CD10.
    pub cd10: &'a [f32],
    /// CD45, when the panel has it.
    pub cd45: Option<&'a [f32]>,
}

impl<'a> Columns<'a> {
    /// The columns of `p`, `filler` (NaN, one per event) standing in for
    /// a missing one.
    pub fn of(p: &'a Prepared, filler: &'a [f32]) -> Columns<'a> {
        let get = |m: Marker| p.get(m).unwrap_or(filler);
        Columns {
            fsc: get(Marker::FscA),
            ssc: get(Marker::SscA),
            cd19: get(Marker::Cd(19)),
            cd10: get(Marker::Cd(10)),
            cd45: p.get(Marker::Cd(45)),
        }
    }
}

/// Flow stability (gate 1): time bins whose event rate departs from the median
/// rate by more than [`PregateSettings::rate_factor`] are removed (clogs,
/// bubbles). A Time channel that cannot be used is a warning.
pub(super) fn stable(
    p: &Prepared,
    all: &[bool],
    cfg: &PregateSettings,
    warnings: &mut Vec<String>,
) -> Gated {
    let flow = match p.get(Marker::Time).map(|t| stable_flow(t, p.events, cfg)) {
        Some(Ok(flow)) => flow,
        Some(Err(why)) => {
            warnings.push(format!(
                "Time channel not used: {why}; flow stability not checked"
            ));
            let text = format!("Time channel not used ({why}): flow stability not checked");
            return passes_all(names::STABLE_FLOW, None, text, all);
        }
        None => {
            let text = "no Time channel: flow stability not checked".to_string();
            return passes_all(names::STABLE_FLOW, None, text, all);
        }
    };
    let regions = p
        .dimension(Marker::Time)
        .map(|time| {
            flow.removed_ranges
                .iter()
                .filter_map(|&(from, to)| {
                    let removed = Interval {
                        min: Some(from),
                        max: Some(to),
                    };
                    rectangle("", vec![(time.clone(), removed)])
                })
                .collect()
        })
        .unwrap_or_default();
    Gated {
        members: flow.members,
        rule: Rule {
            name: names::STABLE_FLOW,
            parent: None,
            dimensions: &["Time"],
            view: None,
            text: flow.text,
            thresholds: vec![flow.median_rate],
            gates: none_of(names::STABLE_FLOW, regions),
        },
    }
}

/// Debris (gate 2): below the FSC-A valley under the smallest nucleated cells,
/// `lymph_fsc` being the lymphocytes' FSC-A. Lymphocytes anchor the scale
/// (debris can outnumber cells a hundredfold in a necrotic aspirate, so
/// the anchor is a density peak, not a quantile).
pub(super) fn cells(
    p: &Prepared,
    c: &Columns,
    stable: &[bool],
    lymph_fsc: f64,
    cfg: &PregateSettings,
) -> Gated {
    let fsc = c.fsc;
    let d = density(fsc, stable, 0.0, 1.0);
    // The valley starts at the debris mode when there is one (the lowest
    // peak well below the lymphocytes), otherwise at the scale's origin.
    let debris_mode = d
        .peaks(0.002)
        .iter()
        .map(|p| p.position)
        .filter(|&p| p < 0.6 * lymph_fsc)
        .min_by(f64::total_cmp)
        .unwrap_or(0.0);
    // Debris smears upwards from its mode; a valley deep inside the smear
    // (below 40 % of the lymphocytes' FSC) would count the smear as cells,
    // so the cut never sits below that (nucleated cells, nucleated red
    // cells included, are at least two thirds of a lymphocyte's size).
    let debris_cut = d
        .valley_between(debris_mode, lymph_fsc)
        .filter(|v| v.depth_ratio < 0.7 && v.position < 0.8 * lymph_fsc)
        .map_or(0.5 * lymph_fsc, |v| {
            v.position.max(cfg.min_debris_cut * lymph_fsc)
        });
    Gated {
        members: mask_where(p.events, |i| stable[i] & (f64::from(fsc[i]) >= debris_cut)),
        rule: Rule {
            name: names::CELLS,
            parent: Some(names::STABLE_FLOW),
            dimensions: &["FSC-A", "SSC-A"],
            view: Some(View::of(Marker::FscA, Marker::SscA)),
            text: format!(
                "FSC-A >= {debris_cut:.4} (density valley below the lymphocytes at {lymph_fsc:.4})"
            ),
            thresholds: vec![debris_cut],
            gates: p
                .dimension(Marker::FscA)
                .and_then(|d| rectangle(names::CELLS, vec![(d, at_least(debris_cut))]))
                .into_iter()
                .collect(),
        },
    }
}

/// Singlets (gate 3): FSC-H / FSC-A within [`PregateSettings::singlet_sd`]
/// robust SD below its median; every cell passes without FSC-H.
pub(super) fn singlets(p: &Prepared, cells: &[bool], cfg: &PregateSettings) -> Gated {
    let Some(ratio) = p.singlet_ratio.as_deref() else {
        let text = "no FSC-H: doublets not excluded".to_string();
        return passes_all(names::SINGLETS, Some(names::CELLS), text, cells);
    };
    let stride = reference_stride(count(cells) as usize);
    let (median, sd, _) =
        median_and_robust_sd(sample_of(ratio, cells, stride)).unwrap_or((1.0, 0.0, 0));
    let cut = median - (cfg.singlet_sd * sd).max(0.05);
    Gated {
        members: mask_where(p.events, |i| cells[i] & (f64::from(ratio[i]) >= cut)),
        rule: Rule {
            name: names::SINGLETS,
            parent: Some(names::CELLS),
            dimensions: &["FSC-A", "FSC-H"],
            view: Some(View::of(Marker::FscA, Marker::FscH)),
            text: format!(
                "FSC-H/FSC-A >= {cut:.4} (median {median:.4} - {} robust SD)",
                cfg.singlet_sd
            ),
            thresholds: vec![cut],
            gates: p
                .singlet_ratio_dimension()
                .and_then(|d| {
                    // Both ends: FlowKit 1.3 cannot apply a ratio dimension
                    // open at one end; the ratio of a cell (FSC-A above the
                    // debris cut) is far below this.
                    let side = Interval {
                        min: Some(cut),
                        max: Some(SINGLET_RATIO_TOP),
                    };
                    rectangle(names::SINGLETS, vec![(d, side)])
                })
                .into_iter()
                .collect(),
        },
    }
}

/// Viability (gate 4): below the valley above the dye-negative population; by
/// scatter without a dye ([`viable_by_scatter`]).
pub(super) fn viable(p: &Prepared, c: &Columns, singlets: &[bool], cfg: &PregateSettings) -> Gated {
    let Some(dye) = p.get(Marker::Viability) else {
        return viable_by_scatter(p, c, singlets, cfg);
    };
    let cut = dye_cut(dye, singlets, cfg).unwrap_or(f64::INFINITY);
    Gated {
        members: mask_where(p.events, |i| singlets[i] & (f64::from(dye[i]) < cut)),
        rule: Rule {
            name: names::VIABLE,
            parent: Some(names::SINGLETS),
            dimensions: &["viability"],
            view: Some(View::of(Marker::Viability, Marker::SscA)),
            text: format!("viability dye < {cut:.4} (valley above the dye-negative cells)"),
            thresholds: vec![cut],
            gates: p
                .dimension(Marker::Viability)
                .and_then(|d| rectangle(names::VIABLE, vec![(d, below(cut))]))
                .into_iter()
                .collect(),
        },
    }
}

/// Without a dye, dead cells are judged by scatter: a dying cell shrinks
/// (FSC falls) while its side scatter rises, so events smaller than the
/// live lymphocytes yet more granular than
/// [`PregateSettings::dead_ssc_factor`] times their SSC are dead; no live
/// leukocyte sits there (granulocytes and monocytes are larger, nucleated
/// red cells less granular).
fn viable_by_scatter(p: &Prepared, c: &Columns, singlets: &[bool], cfg: &PregateSettings) -> Gated {
    let (fsc, ssc) = (c.fsc, c.ssc);
    let reference = c
        .cd45
        .map(|cd45| super::reference::lymphocytes(cd45, ssc, singlets))
        .unwrap_or_default();
    let median_of = |v: &[f32]| median_of_indices(&reference, v);
    let (Some(fsc_top), Some(lymph_ssc)) = (median_of(fsc), median_of(ssc)) else {
        return no_dead_cell_reference(singlets);
    };
    if reference.len() < MIN_SCATTER_REFERENCE {
        return no_dead_cell_reference(singlets);
    }
    let ssc_floor = cfg.dead_ssc_factor * lymph_ssc;
    Gated {
        members: mask_where(p.events, |i| {
            singlets[i] & !((f64::from(fsc[i]) < fsc_top) & (f64::from(ssc[i]) > ssc_floor))
        }),
        rule: Rule {
            name: names::VIABLE,
            parent: Some(names::SINGLETS),
            dimensions: &["FSC-A", "SSC-A"],
            view: Some(View::of(Marker::FscA, Marker::SscA)),
            text: format!(
                "no viability dye: dead cells judged by scatter, excluded where FSC-A < {fsc_top:.4} (the live lymphocytes' median) and SSC-A > {ssc_floor:.4} ({}x theirs); dead cells of larger size are not recognised without a dye",
                cfg.dead_ssc_factor
            ),
            thresholds: vec![fsc_top, ssc_floor],
            gates: match (p.dimension(Marker::FscA), p.dimension(Marker::SscA)) {
                (Some(f), Some(s)) => none_of(
                    names::VIABLE,
                    rectangle(
                        "",
                        vec![(f, below(fsc_top)), (s, at_least(ssc_floor.next_up()))],
                    )
                    .into_iter()
                    .collect(),
                ),
                _ => Vec::new(),
            },
        },
    }
}

fn no_dead_cell_reference(singlets: &[bool]) -> Gated {
    let text = "no viability dye and no lymphocytes to judge scatter by: dead cells not excluded";
    passes_all(
        names::VIABLE,
        Some(names::SINGLETS),
        text.to_string(),
        singlets,
    )
}

/// The CD45 vs SSC view: the blast region is CD45 dimmer than the
/// lymphocytes by at least half a decade, with lymphoid SSC (at most twice
/// the lymphocytes' median). Recorded, not used as a denominator.
pub(super) fn blast_region(
    p: &Prepared,
    c: &Columns,
    viable: &[bool],
    lymph: &LymphoidReference,
) -> Gated {
    let (cd45_top, ssc_top) = match (lymph.cd45, lymph.ssc) {
        (Some(c), Some(s)) => (c - 0.5 / crate::strategy::prepare::LOGICLE.2, 2.0 * s),
        _ => (f64::NEG_INFINITY, f64::NEG_INFINITY),
    };
    let ssc = c.ssc;
    let members = match c.cd45 {
        Some(cd45) => mask_where(p.events, |i| {
            viable[i] & (f64::from(cd45[i]) < cd45_top) & (f64::from(ssc[i]) <= ssc_top)
        }),
        None => vec![false; p.events],
    };
    Gated {
        members,
        rule: Rule {
            name: names::BLAST_REGION,
            parent: Some(names::VIABLE),
            dimensions: &["CD45", "SSC-A"],
            view: Some(View::of(Marker::Cd(45), Marker::SscA)),
            text: format!(
                "blast region: CD45 < {cd45_top:.4} (half a decade below the lymphocytes) and SSC-A <= {ssc_top:.4} (2x their median); for audit, every viable cell stays in the denominator"
            ),
            thresholds: vec![cd45_top, ssc_top],
            gates: match (p.dimension(Marker::Cd(45)), p.dimension(Marker::SscA)) {
                (Some(c), Some(s)) if cd45_top.is_finite() && ssc_top.is_finite() => rectangle(
                    names::BLAST_REGION,
                    vec![(c, below(cd45_top)), (s, at_most(ssc_top))],
                )
                .into_iter()
                .collect(),
                _ => Vec::new(),
            },
        },
    }
}

/// The CD19+ B lineage (gate 5) among viable nucleated cells: CD19 above the valley
/// over the CD19- cells, SSC low (B cells and blasts have lymphoid side
/// scatter: at most [`PregateSettings::cd19_ssc_factor`] times the
/// lymphocytes' median SSC).
pub(super) fn b_lineage(
    p: &Prepared,
    c: &Columns,
    viable: &[bool],
    lymph: &LymphoidReference,
    cfg: &PregateSettings,
) -> Gated {
    let (cd19, ssc) = (c.cd19, c.ssc);
    let cd19_cut = valley_above_negative(cd19, viable)
        .or_else(|| negative_bound(cd19, viable, 5.0))
        .unwrap_or(0.5);
    let ssc_cut = lymph.ssc.map_or(f64::INFINITY, |m| cfg.cd19_ssc_factor * m);
    Gated {
        members: mask_where(p.events, |i| {
            viable[i] & (f64::from(cd19[i]) >= cd19_cut) & (f64::from(ssc[i]) <= ssc_cut)
        }),
        rule: Rule {
            name: names::CD19,
            parent: Some(names::VIABLE),
            dimensions: &["CD19", "SSC-A"],
            view: Some(View::of(Marker::Cd(19), Marker::SscA)),
            text: format!(
                "CD19 >= {cd19_cut:.4} (valley above the CD19- cells) and SSC-A <= {ssc_cut:.4} ({}x the lymphocytes' median)",
                cfg.cd19_ssc_factor
            ),
            thresholds: vec![cd19_cut, ssc_cut],
            gates: match (p.dimension(Marker::Cd(19)), p.dimension(Marker::SscA)) {
                (Some(c), Some(s)) => rectangle(
                    names::CD19,
                    vec![(c, at_least(cd19_cut)), (s, at_most(ssc_cut))],
                )
                .into_iter()
                .collect(),
                _ => Vec::new(),
            },
        },
    }
}

/// CD10+ within CD19+ (gate 6). The negative reference is the CD10- majority of
/// viable CD19- cells (lymphocytes, monocytes, erythroid, precursors:
/// `cd19_negative`, the viable events outside `b_lineage`);
/// CD10 is never judged outside CD19+ (mature neutrophils are CD10+).
pub(super) fn cd10_positive(
    p: &Prepared,
    c: &Columns,
    viable: &[bool],
    b_lineage: &[bool],
    cd19_negative: &[bool],
    cfg: &PregateSettings,
) -> Gated {
    let cd10 = c.cd10;
    let cd10_cut = negative_bound(cd10, cd19_negative, cfg.negative_sd)
        .or_else(|| negative_bound(cd10, viable, cfg.negative_sd))
        .unwrap_or(0.5);
    Gated {
        members: mask_where(p.events, |i| {
            b_lineage[i] & (f64::from(cd10[i]) >= cd10_cut)
        }),
        rule: Rule {
            name: names::CD19_CD10,
            parent: Some(names::CD19),
            dimensions: &["CD19", "CD10"],
            view: Some(View::of(Marker::Cd(19), Marker::Cd(10))),
            text: format!(
                "CD10 >= {cd10_cut:.4} (CD10- cells of the sample + {} SD)",
                cfg.negative_sd
            ),
            thresholds: vec![cd10_cut],
            gates: p
                .dimension(Marker::Cd(10))
                .and_then(|d| rectangle(names::CD19_CD10, vec![(d, at_least(cd10_cut))]))
                .into_iter()
                .collect(),
        },
    }
}
