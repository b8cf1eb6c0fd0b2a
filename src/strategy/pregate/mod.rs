//! The first gates of the B-ALL strategy, each threshold taken from the
//! data and recorded for audit: flow stability over time, debris, singlets,
//! viability, CD19+ B lineage and CD10+ within it. (CD10 is never judged
//! outside CD19+: mature neutrophils are CD10+.)

mod flow;
mod gates;
mod reference;
mod size;

pub use reference::{
    count, count_where, indices_where, lymphocytes, mask_where, masked_median, masked_quantiles,
    median_of_indices, negative_bound, quantiles_of_indices,
};
pub use size::{LYMPHOCYTE_OF_GRANULOCYTE_SIZE, SizeCheck};

use super::export::set_parent;
use super::markers::Marker;
use super::prepare::Prepared;
use crate::gate::Gate;
use crate::stats::percent;
use reference::{LymphoidReference, dye_cut, lymphocyte_fsc};
use serde::{Serialize, Serializer};
use size::{SizeInputs, size_check};

/// The two markers a gate is drawn on (x, y): the gate's own dimensions,
/// and a one-dimensional gate against the scatter that shows it best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct View {
    /// Horizontal axis.
    #[serde(serialize_with = "marker_name")]
    pub x: Marker,
    /// Vertical axis.
    #[serde(serialize_with = "marker_name")]
    pub y: Marker,
}

impl View {
    /// `x` against `y`.
    pub fn of(x: Marker, y: Marker) -> View {
        View { x, y }
    }
}

fn marker_name<S: Serializer>(m: &Marker, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.name())
}

/// One automated gate as drawn and audited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateRecord {
    /// Gate name.
    pub name: String,
    /// Parent gate name.
    pub parent: Option<String>,
    /// Dimensions it reads (display scales).
    pub dimensions: Vec<String>,
    /// The plot it is drawn on (report.json `view`: `{"x": "FSC-A", "y":
    /// "SSC-A"}`); `None` when it is drawn on none (no gate, or time).
    pub view: Option<View>,
    /// The rule in words, with its thresholds.
    pub rule: String,
    /// Thresholds on the display scale.
    pub thresholds: Vec<f64>,
    /// Events in the gate.
    pub events: u64,
    /// Percent of the parent's events.
    pub percent_of_parent: f64,
    /// Id of the gate in the site's Gating-ML export; `None` when it is no
    /// gate (it passes every event, e.g. no Time channel) and is not
    /// exported.
    pub id: Option<String>,
    /// The Gating-ML gates that reproduce it on the site's file: helper
    /// regions first, the gate itself (id `id`, parent the nearest
    /// exported ancestor) last.
    #[serde(skip)]
    pub exported: Vec<Gate>,
}

/// The pre-gates' parameters, recorded in report.json
/// (`pregate_settings`) and stated in the methods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PregateSettings {
    /// Time bins of the flow-stability check.
    pub time_bins: usize,
    /// A time bin whose event rate is outside this factor of the median
    /// rate (below its inverse or above it) is unstable flow.
    pub rate_factor: f64,
    /// Most of the events the flow-stability gate may remove; beyond it the
    /// acquisition is irregular throughout and removing bins would bias the
    /// sample more than the irregularity does.
    pub max_unstable_fraction: f64,
    /// The debris cut is at least this fraction of the lymphocytes' FSC.
    pub min_debris_cut: f64,
    /// Singlets: FSC-H/FSC-A within this many robust SD below its median.
    pub singlet_sd: f64,
    /// Without a dye, dead cells judged by scatter have SSC above this
    /// multiple of the live lymphocytes' median.
    pub dead_ssc_factor: f64,
    /// A negative population's upper bound is its peak plus this many
    /// spreads of its left half (CD10-, a viability dye without a valley).
    pub negative_sd: f64,
    /// CD19+ cells have SSC at most this multiple of the lymphocytes'.
    pub cd19_ssc_factor: f64,
    /// An event smaller than this fraction of the CD45-brightest events'
    /// FSC is too small to be a nucleated cell (nucleated red cells, the
    /// smallest, are about three quarters of a lymphocyte).
    pub small_event_factor: f64,
    /// Debris by size counts in the necrosis check when it exceeds the
    /// debris gate's count by this fraction of stable events (a few
    /// percent either way is the two rules' different edges, not a failed
    /// gate).
    pub size_debris_excess: f64,
    /// A site whose leukocytes and B-lineage cells are fewer than this
    /// percent of the viable nucleated events
    /// ([`crate::strategy::hemodilution::MarrowIndicators::leukocyte_percent`])
    /// is NOT EVALUABLE: its "cells" are mostly debris or dead cells that
    /// passed the debris gate and the dye.
    pub min_leukocyte_percent: f64,
}

impl Default for PregateSettings {
    fn default() -> PregateSettings {
        PregateSettings {
            time_bins: 100,
            rate_factor: 2.0,
            max_unstable_fraction: 0.5,
            min_debris_cut: 0.4,
            singlet_sd: 4.0,
            dead_ssc_factor: 2.0,
            negative_sd: 4.0,
            cd19_ssc_factor: 4.0,
            small_event_factor: 0.6,
            size_debris_excess: 0.1,
            min_leukocyte_percent: 30.0,
        }
    }
}

/// Names of the pre-gates, which are also their ids in the Gating-ML
/// export (report.json `gates[].name` and `id`).
pub mod names {
    /// Events acquired while the flow was stable.
    pub const STABLE_FLOW: &str = "stable flow";
    /// Not debris.
    pub const CELLS: &str = "cells";
    /// Single cells.
    pub const SINGLETS: &str = "singlets";
    /// Viable nucleated cells (the denominator).
    pub const VIABLE: &str = "viable";
    /// The CD45-dim, SSC-low blast region (audit only).
    pub const BLAST_REGION: &str = "CD45dim SSClow";
    /// The B lineage.
    pub const CD19: &str = "CD19+";
    /// CD10+ B cells: where blasts and hematogones are told apart.
    pub const CD19_CD10: &str = "CD19+CD10+";
    /// The blast call.
    pub const BLASTS: &str = "blasts";
}

/// Memberships of the pre-gates (each inside the previous one).
#[derive(Debug, Clone)]
pub struct PreGates {
    /// Events acquired while the flow was stable.
    pub stable: Vec<bool>,
    /// Stable events that are cells (not debris).
    pub cells: Vec<bool>,
    /// Cells that are single.
    pub singlets: Vec<bool>,
    /// Singlets that are viable: the viable nucleated cells.
    pub viable: Vec<bool>,
    /// Viable cells that are CD19+.
    pub b_lineage: Vec<bool>,
    /// CD19+ cells that are CD10+.
    pub cd10_positive: Vec<bool>,
    /// Viable cells in the CD45-dim, SSC-low blast region (for audit and
    /// plots; blasts are judged inside CD19+CD10+, and the denominator keeps
    /// every viable cell, CD45- nucleated red cells and blasts included).
    pub blast_region: Vec<bool>,
    /// The viable CD19- lymphocytes, T and NK cells (brightest CD45 peak
    /// among viable CD19- cells, lower SSC half; see `lymphocytes`); all
    /// viable lymphocytes when no CD19- ones are found: the reference of
    /// the stain checks and the CD19-negative search. Empty without CD45.
    pub lymphocytes: Vec<usize>,
    /// The size check of necrosis, independent of the gates' lymphocyte
    /// anchor ([`SizeCheck`]); `None` without CD45 or bright CD45 events.
    pub size_check: Option<SizeCheck>,
    /// Every gate, in order.
    pub records: Vec<GateRecord>,
    /// What the gates could not do as designed (e.g. a Time channel that
    /// cannot be used), in words.
    pub warnings: Vec<String>,
}

impl PreGates {
    /// The first threshold of the gate named `name` (`names`): the CD19
    /// cut of `names::CD19`, the CD10 cut of `names::CD19_CD10`.
    pub fn threshold(&self, name: &str) -> Option<f64> {
        self.records
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.thresholds.first().copied())
    }

    /// Takes the lymphocyte reference again from the (reviewed) viable and
    /// CD19+ memberships, after a reviewer's gates replaced them.
    pub fn refresh_lymphocytes(&mut self, p: &Prepared) {
        let missing = Vec::new();
        let ssc = p.get(Marker::SscA).unwrap_or(&missing);
        if ssc.len() != self.viable.len() {
            return;
        }
        let cd45 = p.get(Marker::Cd(45));
        let cd19_negative = outside_b_lineage(&self.viable, &self.b_lineage);
        self.lymphocytes = lymphocyte_reference(cd45, ssc, &self.viable, &cd19_negative);
    }

    /// The membership of the pre-gate named `name` (`names`).
    pub fn mask(&self, name: &str) -> Option<&[bool]> {
        Some(match name {
            names::STABLE_FLOW => &self.stable,
            names::CELLS => &self.cells,
            names::SINGLETS => &self.singlets,
            names::VIABLE => &self.viable,
            names::BLAST_REGION => &self.blast_region,
            names::CD19 => &self.b_lineage,
            names::CD19_CD10 => &self.cd10_positive,
            _ => return None,
        })
    }

    /// The membership of the pre-gate named `name` (`names`), to replace
    /// with a reviewer's.
    pub fn mask_mut(&mut self, name: &str) -> Option<&mut Vec<bool>> {
        Some(match name {
            names::STABLE_FLOW => &mut self.stable,
            names::CELLS => &mut self.cells,
            names::SINGLETS => &mut self.singlets,
            names::VIABLE => &mut self.viable,
            names::BLAST_REGION => &mut self.blast_region,
            names::CD19 => &mut self.b_lineage,
            names::CD19_CD10 => &mut self.cd10_positive,
            _ => return None,
        })
    }
}

/// What a gate is, before its counts are known.
struct Rule {
    name: &'static str,
    parent: Option<&'static str>,
    dimensions: &'static [&'static str],
    /// The plot it is drawn on.
    view: Option<View>,
    text: String,
    thresholds: Vec<f64>,
    /// Its Gating-ML gates, the gate itself (id = `name`) last; empty for
    /// a gate that passes every event.
    gates: Vec<Gate>,
}

/// Records the gates in order.
struct Recorder {
    records: Vec<GateRecord>,
}

/// The id of the nearest exported gate at or above the record `name`:
/// the Gating-ML parent of a gate drawn inside it.
pub fn nearest_exported(records: &[GateRecord], name: Option<&str>) -> Option<String> {
    let mut name = name?;
    loop {
        let r = records.iter().rev().find(|r| r.name == name)?;
        if let Some(id) = &r.id {
            return Some(id.clone());
        }
        name = r.parent.as_deref()?;
    }
}

impl Recorder {
    /// The id of the nearest exported gate at or above `name`.
    fn exported_id(&self, name: Option<&str>) -> Option<String> {
        nearest_exported(&self.records, name)
    }

    /// Records a gate against its parent's members; returns its members.
    fn keep(&mut self, gated: gates::Gated, parent_members: &[bool]) -> Vec<bool> {
        let (rule, members) = (gated.rule, gated.members);
        let events = count(&members);
        let mut exported = rule.gates;
        set_parent(&mut exported, self.exported_id(rule.parent).as_deref());
        self.records.push(GateRecord {
            name: rule.name.to_string(),
            parent: rule.parent.map(str::to_string),
            dimensions: rule.dimensions.iter().map(|d| d.to_string()).collect(),
            view: rule.view,
            rule: rule.text,
            thresholds: rule.thresholds,
            events,
            percent_of_parent: percent(events, count(parent_members)),
            id: exported.last().map(|g| g.id.clone()),
            exported,
        });
        members
    }
}

/// The viable events outside the B lineage (the viable CD19- cells).
fn outside_b_lineage(viable: &[bool], b_lineage: &[bool]) -> Vec<bool> {
    mask_where(viable.len().min(b_lineage.len()), |i| {
        viable[i] & !b_lineage[i]
    })
}

/// The lymphocyte reference of everything downstream (the blast search's
/// bounds, stain checks, the CD19-negative search): the T/NK cells, the
/// brightest CD45 peak among viable CD19- cells; the lymphocytes among
/// all viable cells when none are found; none without CD45. Among all
/// viable cells a marrow full of CD45-dim blasts can hide the few
/// lymphocytes under the blasts' bright tail, and the "lymphocytes" are
/// then blasts.
/// `cd19_negative` are the viable cells outside the B lineage
/// ([`outside_b_lineage`]).
fn lymphocyte_reference(
    cd45: Option<&[f32]>,
    ssc: &[f32],
    viable: &[bool],
    cd19_negative: &[bool],
) -> Vec<usize> {
    let Some(cd45) = cd45 else {
        return Vec::new();
    };
    let t_nk = lymphocytes(cd45, ssc, cd19_negative);
    if t_nk.is_empty() {
        lymphocytes(cd45, ssc, viable)
    } else {
        t_nk
    }
}

/// Runs the pre-gates on a prepared site, one gate function ([`gates`])
/// after the other. FSC-A, SSC-A, CD19 and CD10 must be present (the
/// caller checks the required markers).
pub fn pregate(p: &Prepared, cfg: &PregateSettings) -> PreGates {
    let n = p.events;
    let all = vec![true; n];
    let required = [Marker::FscA, Marker::SscA, Marker::Cd(19), Marker::Cd(10)];
    let filler = if required.iter().all(|&m| p.get(m).is_some()) {
        Vec::new()
    } else {
        vec![f32::NAN; n]
    };
    let c = gates::Columns::of(p, &filler);
    let mut rec = Recorder {
        records: Vec::new(),
    };
    let mut warnings = Vec::new();
    let stable = rec.keep(gates::stable(p, &all, cfg, &mut warnings), &all);
    // Dead cells stain CD45 non-specifically and, in a necrotic aspirate,
    // fill the CD45-bright tail: with a dye, the size reference is sought
    // among dye-negative events. (Found beside the lymphocytes' FSC, whose
    // search runs mostly on one core.)
    let (lymph_fsc, dye_negative) = rayon::join(
        || lymphocyte_fsc(c.cd45, c.fsc, c.ssc, &stable),
        || {
            p.get(Marker::Viability).and_then(|dye| {
                dye_cut(dye, &stable, cfg)
                    .map(|cut| mask_where(dye.len(), |i| f64::from(dye[i]) < cut))
            })
        },
    );
    let cells = rec.keep(gates::cells(p, &c, &stable, lymph_fsc, cfg), &stable);
    let singlets = rec.keep(gates::singlets(p, &cells, cfg), &cells);
    let viable = rec.keep(gates::viable(p, &c, &singlets, cfg), &singlets);
    // The size check reads only the gates up to here: beside the rest.
    let (size_check, (blast_region, b_lineage, cd10_positive, lymphocytes)) = rayon::join(
        || {
            c.cd45.and_then(|cd45| {
                size_check(
                    cfg.small_event_factor,
                    &SizeInputs {
                        cd45,
                        fsc: c.fsc,
                        ssc: p.get(Marker::SscA),
                        stable: &stable,
                        singlets: &singlets,
                        viable: &viable,
                        dye_negative: dye_negative.as_deref(),
                    },
                )
            })
        },
        || {
            let lymph = LymphoidReference::among(c.cd45, c.ssc, &viable);
            let blast_region = rec.keep(gates::blast_region(p, &c, &viable, &lymph), &viable);
            let b_lineage = rec.keep(gates::b_lineage(p, &c, &viable, &lymph, cfg), &viable);
            // The viable CD19- cells: the CD10 gate's negative reference and
            // where the lymphocyte reference is sought first.
            let cd19_negative = outside_b_lineage(&viable, &b_lineage);
            let (cd10_positive, lymphocytes) = rayon::join(
                || gates::cd10_positive(p, &c, &viable, &b_lineage, &cd19_negative, cfg),
                || lymphocyte_reference(c.cd45, c.ssc, &viable, &cd19_negative),
            );
            let cd10_positive = rec.keep(cd10_positive, &b_lineage);
            (blast_region, b_lineage, cd10_positive, lymphocytes)
        },
    );
    PreGates {
        size_check,
        lymphocytes,
        warnings,
        stable,
        cells,
        singlets,
        viable,
        b_lineage,
        cd10_positive,
        blast_region,
        records: rec.records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{Config, Population};

    fn run(cfg: &Config, name: &str) -> (PreGates, Vec<Population>) {
        let (prepared, truth) = crate::strategy::testing::prepared_site(cfg, name);
        (pregate(&prepared, &PregateSettings::default()), truth)
    }

    /// Fraction of the events of `pops` inside `gate`.
    fn kept(gate: &[bool], truth: &[Population], pops: &[Population]) -> f64 {
        let (mut k, mut n) = (0, 0);
        for (g, t) in gate.iter().zip(truth) {
            if pops.contains(t) {
                n += 1;
                k += *g as usize;
            }
        }
        k as f64 / n.max(1) as f64
    }

    #[test]
    fn pregates_recover_simulated_truth() {
        use Population::*;
        let cfg = Config {
            events: 150_000,
            seed: 21,
            blast_fraction: 0.05,
            doublet_fraction: 0.05,
            ..Config::default()
        };
        let (g, truth) = run(&cfg, "normal");
        let nucleated = Population::nucleated();
        assert!(
            kept(&g.cells, &truth, &[Debris]) < 0.10,
            "debris kept {}",
            kept(&g.cells, &truth, &[Debris])
        );
        assert!(
            kept(&g.viable, &truth, &nucleated) > 0.95,
            "cells kept {}",
            kept(&g.viable, &truth, &nucleated)
        );
        assert!(
            kept(&g.singlets, &truth, &[Doublet]) < 0.30,
            "doublets kept {}",
            kept(&g.singlets, &truth, &[Doublet])
        );
        assert!(
            kept(&g.viable, &truth, &[Dead]) < 0.10,
            "dead kept {}",
            kept(&g.viable, &truth, &[Dead])
        );
        assert!(kept(&g.b_lineage, &truth, &[Blast, Hematogone, MatureB]) > 0.95);
        assert!(
            kept(
                &g.b_lineage,
                &truth,
                &[NeutrophilMature, Lymphocyte, Monocyte, Erythroid]
            ) < 0.01
        );
        assert!(
            kept(&g.cd10_positive, &truth, &[Blast]) > 0.97,
            "blasts in CD19+CD10+ {}",
            kept(&g.cd10_positive, &truth, &[Blast])
        );
        assert!(kept(&g.cd10_positive, &truth, &[MatureB]) < 0.05);
        assert!(
            kept(&g.cd10_positive, &truth, &[NeutrophilMature]) < 0.001,
            "CD10+ neutrophils never enter"
        );
        assert_eq!(g.records.len(), 7);
        assert!(kept(&g.blast_region, &truth, &[Blast]) > 0.9);
        assert!(kept(&g.blast_region, &truth, &[NeutrophilMature, Lymphocyte]) < 0.05);
        assert!(g.records.iter().all(|r| !r.rule.is_empty()));
    }

    #[test]
    fn necrotic_site_keeps_its_few_viable_cells() {
        use Population::*;
        let cfg = Config {
            events: 60_000,
            seed: 22,
            necrosis: 0.95,
            ..Config::default()
        };
        let (g, truth) = run(&cfg, "necrotic");
        let nucleated = Population::nucleated();
        // The debris gate itself holds on a debris-dominated sample (the
        // lymphocyte anchor is a CD45 peak, not a quantile).
        assert!(kept(&g.cells, &truth, &[Debris]) < 0.05);
        assert!(kept(&g.viable, &truth, &[Debris, Dead]) < 0.05);
        assert!(
            kept(&g.viable, &truth, &nucleated) > 0.85,
            "{}",
            kept(&g.viable, &truth, &nucleated)
        );
    }
}
