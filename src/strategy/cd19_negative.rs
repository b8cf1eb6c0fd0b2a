//! CD19-negative B-lineage blasts: after CD19-directed therapy
//! (blinatumomab, CD19 CAR-T cells) the leukaemia can return without CD19,
//! or CD19-dim, and a search that starts from CD19+ cells then sees a
//! marrow full of blasts as negative. When the tube holds other B-lineage
//! markers (CD22, CD24, cytoplasmic CD79a), B-lineage cells are also gated
//! through them below the CD19+ gate:
//!
//! - in the CD45-dim, SSC-low blast region, viable, with lymphoid scatter
//!   (FSC-A at least 0.75x and SSC-A at most 1.5x the lymphocytes':
//!   dead cells and debris stain everything dimly), below the CD19+ gate;
//! - positive for every other B-lineage marker in the tube (each above the
//!   negative T/NK lymphocytes (CD19-, CD10-) + the pre-gates' SD factor,
//!   and above their 99.5th percentile);
//! - CD10+ (the CD19+CD10+ gate's CD10 threshold): common-B-ALL blasts keep
//!   CD10 far more often than CD19 under CD19-directed therapy.
//!
//! Normal B-cell precursors are CD19+, but a few of them fall below any
//! CD19 cut. Their tail is estimated from the CD19+CD10+ cells of the
//! blast region (positive for the same markers) in a band a quarter of a
//! decade just above the cut: a tail that declines downwards puts no more
//! than about that many below it. The population must exceed that estimate
//! by the LOD and be at least three times it, or exceed it by the LOD and
//! leave the normal B-precursor pattern as a blast cluster must (its
//! centre judged against the blast search's bounds, its events at least
//! the size a blast cluster needs): precursors' tail events are precursors
//! and cannot, dead cells are smaller. The second rule finds CD19-dim
//! blasts whose CD19 straddles the cut right under the hematogones', where
//! the band above the cut is full of hematogones. What is found is
//! reported as "CD19-negative B-lineage blasts".

use super::blasts::{PatternCheck, PatternDeparture};
use super::export::{at_least, at_most, below, rectangle, set_parent};
use super::markers::{B_LINEAGE_ALTERNATIVES, Marker};
use super::pregate::{
    GateRecord, PreGates, count, count_where, mask_where, masked_median, masked_quantiles,
    median_of_indices, names, nearest_exported, negative_bound,
};
use super::prepare::Prepared;
use crate::stats::percent;
use serde::Serialize;

/// Width of the band just above the CD19 cut whose CD19+CD10+ events
/// estimate the normal precursors' tail below it, in decades.
const TAIL_BAND_DECADES: f64 = 0.25;

/// The T/NK cells' quantile each marker's cut must exceed.
const T_CELL_QUANTILE: f64 = 0.995;
/// Smallest FSC-A of the population, times the lymphocytes' median.
const MIN_FSC_OF_LYMPHOCYTES: f64 = 0.75;
/// Largest SSC-A of the population, times the lymphocytes' median.
const MAX_SSC_OF_LYMPHOCYTES: f64 = 1.5;

/// Name of the gate record.
pub const GATE_NAME: &str = "CD19- B-lineage blasts";

/// The outcome of the search, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cd19NegativeSearch {
    /// The B-lineage markers other than CD19 it gated through.
    pub markers: Vec<String>,
    /// Events meeting the gate.
    pub events: u64,
    /// Events the CD19+ B precursors' own tail would put below the CD19
    /// cut.
    pub expected_from_cd19_positive: f64,
    /// Whether they are a CD19-negative B-lineage blast population (at
    /// least the LOD beyond the expected tail, and three times it).
    pub found: bool,
    /// Their median on the display scale, by marker.
    pub centre: Vec<(String, f64)>,
    /// The markers whose stain showed its positive population on an
    /// internal control (CD24 on granulocytic cells, CD22 and CD79a on
    /// CD19+ B cells): the search rests on these.
    pub verified: Vec<String>,
    /// Their centre against the blast search's normal bounds: a
    /// population that leaves the normal B-precursor pattern as a blast
    /// cluster must is blasts however many precursors' tail events are
    /// expected below the cut (`None` without events).
    pub phenotype: Option<PatternDeparture>,
    /// The search in words.
    pub statement: String,
}

/// The search's result with its per-event membership.
#[derive(Debug, Clone)]
pub struct Cd19NegativeGating {
    /// As reported.
    pub search: Cd19NegativeSearch,
    /// Events of the population when found (all `false` otherwise).
    pub members: Vec<bool>,
    /// The gate as audited.
    pub record: GateRecord,
    /// The B-lineage markers other than CD19 it gated through.
    pub alternatives: Vec<Marker>,
    /// The blast search's bounds its population is judged against.
    pub pattern: PatternCheck,
    /// The lymphocytes' median FSC-A, the size its population is judged
    /// by.
    pub lymphocyte_fsc: f64,
}

/// The B-lineage markers other than CD19 that `p` holds.
pub fn alternatives(p: &Prepared) -> Vec<Marker> {
    B_LINEAGE_ALTERNATIVES
        .iter()
        .copied()
        .filter(|&m| p.get(m).is_some())
        .collect()
}

/// The markers among `markers` (with their cuts) whose stain shows its
/// positive population: CD24 on granulocytic cells (SSC above twice the
/// lymphocytes' median, `lymph_ssc`), CD22 and CD79a on CD19+ B cells (absent in B-cell
/// aplasia, so they cannot be shown then).
fn verified_markers(
    g: &PreGates,
    ssc: &[f32],
    lymph_ssc: f64,
    markers: &[Marker],
    cuts: &[(&[f32], f64)],
    lod_events: u64,
) -> Vec<String> {
    let need = lod_events.max(count(&g.viable) / 10_000).max(1);
    markers
        .iter()
        .zip(cuts)
        .filter(|(m, (values, cut))| {
            let control = |i: usize| match m {
                Marker::Cd(24) => {
                    g.viable[i] && !g.b_lineage[i] && f64::from(ssc[i]) > 2.0 * lymph_ssc
                }
                _ => g.b_lineage[i],
            };
            count_where(ssc.len(), |i| control(i) && f64::from(values[i]) >= *cut) >= need
        })
        .map(|(m, _)| m.name())
        .collect()
}

/// Searches for CD19-negative B-lineage blasts; `None` when the tube holds
/// no other B-lineage marker or lacks CD10 or CD45.
pub fn find_cd19_negative(
    p: &Prepared,
    g: &PreGates,
    lod_events: u64,
    negative_sd: f64,
    pattern: PatternCheck,
) -> Option<Cd19NegativeGating> {
    let markers = alternatives(p);
    let (cd19, cd10) = (p.get(Marker::Cd(19))?, p.get(Marker::Cd(10))?);
    if markers.is_empty() {
        return None;
    }
    let n = p.events;
    let (cd19_cut, cd10_cut) = (g.threshold(names::CD19)?, g.threshold(names::CD19_CD10)?);
    // The negative reference: T/NK lymphocytes, CD19- and CD10-. The
    // lymphocyte region also holds the CD45-brighter part of CD19-negative
    // blasts, which are CD10+: among CD19- events alone they put the cuts
    // (a high quantile) inside the very population searched for, the more
    // so the more blasts there are.
    let mut t_cells = vec![false; n];
    for &i in &g.lymphocytes {
        t_cells[i] = !g.b_lineage[i] && f64::from(cd10[i]) < cd10_cut;
    }
    // Each marker's cut: above the T/NK cells' negative peak + SD factor,
    // and above their 99.5th percentile (a negative population piled up
    // at zero, as integer data store it, has almost no spread below its
    // peak).
    let mut cuts = Vec::with_capacity(markers.len());
    for &m in &markers {
        let values = p.get(m)?;
        let upper = masked_quantiles(values, &t_cells, &[T_CELL_QUANTILE])?[0];
        cuts.push((
            values,
            negative_bound(values, &t_cells, negative_sd)?.max(upper),
        ));
    }
    // Lymphoid scatter: dead cells and debris bind antibodies
    // non-specifically (dimly positive for everything) and are smaller or
    // more granular than lymphocytes; blasts are not.
    let (fsc, ssc) = (p.get(Marker::FscA)?, p.get(Marker::SscA)?);
    let lymph_ssc = median_of_indices(&g.lymphocytes, ssc)?;
    let lymphocyte_fsc = median_of_indices(&g.lymphocytes, fsc)?;
    let (fsc_min, ssc_max) = (
        MIN_FSC_OF_LYMPHOCYTES * lymphocyte_fsc,
        MAX_SSC_OF_LYMPHOCYTES * lymph_ssc,
    );
    let verified = verified_markers(g, ssc, lymph_ssc, &markers, &cuts, lod_events);
    // Below the CD19+ gate's cut is outside the CD19+ gate (its other
    // condition, SSC, only narrows it): the gate is this rectangle inside
    // the blast region, exactly as exported.
    let members: Vec<bool> = mask_where(n, |i| {
        g.blast_region[i]
            && f64::from(fsc[i]) >= fsc_min
            && f64::from(ssc[i]) <= ssc_max
            && f64::from(cd19[i]) < cd19_cut
            && f64::from(cd10[i]) >= cd10_cut
            && cuts.iter().all(|(v, cut)| f64::from(v[i]) >= *cut)
    });
    // The precursors' CD19 just above the cut, in a band as wide as the
    // one below it that a declining tail can reach: what continuity puts
    // below the cut is at most about that many.
    let band = TAIL_BAND_DECADES / super::prepare::LOGICLE.2;
    let expected = count_where(n, |i| {
        g.cd10_positive[i]
            && g.blast_region[i]
            && f64::from(cd19[i]) < cd19_cut + band
            && cuts.iter().all(|(v, cut)| f64::from(v[i]) >= *cut)
    }) as f64;
    let names_of: Vec<String> = markers.iter().map(|m| m.name()).collect();
    let mut thresholds = vec![cd19_cut, cd10_cut];
    thresholds.extend(cuts.iter().map(|(_, c)| *c));
    let mut dimensions = vec!["CD19".to_string(), "CD10".to_string()];
    dimensions.extend(names_of.iter().cloned());
    let sides = [
        (Marker::FscA, at_least(fsc_min)),
        (Marker::SscA, at_most(ssc_max)),
        (Marker::Cd(19), below(cd19_cut)),
        (Marker::Cd(10), at_least(cd10_cut)),
    ]
    .into_iter()
    .chain(
        markers
            .iter()
            .zip(&cuts)
            .map(|(&m, (_, c))| (m, at_least(*c))),
    )
    .map(|(m, side)| p.dimension(m).map(|d| (d, side)))
    .collect::<Option<Vec<_>>>();
    let mut exported: Vec<_> = sides
        .and_then(|sides| rectangle(GATE_NAME, sides))
        .into_iter()
        .collect();
    set_parent(
        &mut exported,
        nearest_exported(&g.records, Some(names::BLAST_REGION)).as_deref(),
    );
    let record = GateRecord {
        name: GATE_NAME.into(),
        parent: Some(names::BLAST_REGION.into()),
        dimensions,
        view: None,
        rule: format!(
            "lymphoid scatter (FSC-A >= {fsc_min:.4}, SSC-A <= {ssc_max:.4}), CD19 < {cd19_cut:.4} (below the CD19+ gate), CD10 >= {cd10_cut:.4}, {} (each above the CD10- T/NK lymphocytes' negative peak + {negative_sd} SD and their 99.5th percentile); a population only beyond the CD19+ precursors' expected tail ({expected:.1} events) by the LOD",
            names_of
                .iter()
                .zip(&cuts)
                .map(|(m, (_, c))| format!("{m} >= {c:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        thresholds,
        events: 0,
        percent_of_parent: 0.0,
        id: exported.last().map(|g| g.id.clone()),
        exported,
    };
    let search = Cd19NegativeSearch {
        markers: names_of,
        events: 0,
        expected_from_cd19_positive: expected,
        found: false,
        centre: Vec::new(),
        verified,
        phenotype: None,
        statement: String::new(),
    };
    Some(
        Cd19NegativeGating {
            search,
            members: Vec::new(),
            record,
            alternatives: markers,
            pattern,
            lymphocyte_fsc,
        }
        .settle(p, members, count(&g.blast_region), lod_events),
    )
}

impl Cd19NegativeGating {
    /// The search concluded on the gate's events `members` (the automated
    /// gate's, or a reviewed file's): their count, whether they are a
    /// population beyond the CD19+ precursors' tail, their centre, and the
    /// statement; `parent_events` are the blast region's.
    pub fn settle(
        mut self,
        p: &Prepared,
        members: Vec<bool>,
        parent_events: u64,
        lod_events: u64,
    ) -> Cd19NegativeGating {
        let events = count(&members);
        let expected = self.search.expected_from_cd19_positive;
        let beyond_tail =
            events as f64 >= lod_events as f64 + expected && events as f64 >= 3.0 * expected;
        // The precursors' tail below the cut is precursors: it cannot
        // leave their pattern. A population that does, of cells the size of
        // blasts, beyond what that tail could hold by the LOD, is blasts
        // without being three times the tail.
        let phenotype = self
            .pattern
            .departure(p, &members, Some(self.lymphocyte_fsc));
        let leaves = events as f64 >= lod_events.max(1) as f64 + expected
            && phenotype.as_ref().is_some_and(|d| d.leaves_the_pattern);
        let found = beyond_tail || leaves;
        let centre: Vec<(String, f64)> = [Marker::Cd(19), Marker::Cd(10)]
            .into_iter()
            .chain(self.alternatives.iter().copied())
            .filter_map(|m| Some((m.name(), masked_median(p.get(m)?, &members)?)))
            .collect();
        let positive = self
            .search
            .markers
            .iter()
            .map(|m| format!("{m}+"))
            .collect::<Vec<_>>()
            .join(" ");
        let leaving = phenotype
            .as_ref()
            .filter(|d| d.leaves_the_pattern)
            .map(|d| d.aberrancies.join("; "));
        self.search.statement = if let (false, Some(leaving)) = (beyond_tail, leaving.as_ref())
            && found
        {
            format!(
                "CD19-negative B-lineage blasts: {events} events {positive} CD10+ below the CD19+ gate, outside the normal B-precursor pattern ({leaving}), which the CD19+ B precursors' tail ({expected:.1} events expected) is not"
            )
        } else if found {
            format!(
                "CD19-negative B-lineage blasts: {events} events {positive} CD10+ below the CD19+ gate (the CD19+ B precursors' tail would explain {expected:.1})"
            )
        } else {
            format!(
                "no CD19-negative B-lineage population: {events} events {positive} CD10+ below the CD19+ gate, {expected:.1} expected from the CD19+ B precursors' tail (at least the LOD beyond it needed)"
            )
        };
        self.search.events = events;
        self.search.found = found;
        self.search.phenotype = phenotype;
        self.search.centre = centre;
        self.record.events = events;
        self.record.percent_of_parent = percent(events, parent_events);
        self.members = if found {
            members
        } else {
            vec![false; members.len()]
        };
        self
    }
}
