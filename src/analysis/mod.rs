//! The main job: every site of one patient analysed in parallel, judged,
//! compared, and written out as one report.
//!
//! [`analyze_case`] returns a [`CaseReport`] (the stable JSON schema of
//! `report.json`, documented in the README) plus the per-event gating of
//! each analysed site: data only. The renderers above it
//! ([`crate::report::case`]: terminal summary, report.json, sites.csv,
//! figures, report.html, blast FCS) take these results.

pub mod case;
pub mod course;
pub mod follow;
pub(crate) mod review;
pub mod site;

pub use review::{GateReview, Review};

use crate::compare::{Comparison, SiteOutcome, compare};
use crate::qc::{Limits, format_percent};
use crate::strategy::blasts::BlastSettings;
use crate::strategy::pregate::PregateSettings;
use crate::strategy::prepare::{LOGICLE, MIN_LOGICLE_TOP};
use case::Case;
use rayon::prelude::*;
use serde::Serialize;
use site::{Settings, SiteGating, SiteReport, analyze_site_as};

/// Version of the `report.json` schema; raised on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// The whole case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseReport {
    /// Schema version of this document.
    pub schema_version: u32,
    /// "marrowgate X.Y.Z".
    pub software: String,
    /// Case identifier, if known.
    pub case_id: Option<String>,
    /// Patient description, if given.
    pub patient: Option<String>,
    /// The detection and adequacy limits applied.
    pub limits: Limits,
    /// The pre-gates' parameters.
    pub pregate_settings: PregateSettings,
    /// The blast search's rules.
    pub blast_settings: BlastSettings,
    /// The limits in words, as the report states them.
    pub methods: Vec<String>,
    /// Every site, in the order given.
    pub sites: Vec<SiteReport>,
    /// Sites that alone would have missed the disease.
    pub single_site_misses: Vec<String>,
    /// Per-site statements and blast-load heterogeneity.
    pub comparison: Comparison,
    /// One plain sentence to sign.
    pub conclusion: String,
}

/// The limits and the method, in words.
fn methods(limits: &Limits, pregate: &PregateSettings, blast: &BlastSettings) -> Vec<String> {
    vec![
        format!(
            "Limit of detection: a blast cluster of at least {} events; lower limit of quantitation: {} events (percentages below it are not quantitative).",
            limits.lod_events, limits.lloq_events
        ),
        "Sensitivity reached = LOD events / viable nucleated events: the lowest blast fraction the site could have detected.".into(),
        format!(
            "A site with no blast cluster is NEGATIVE only if it reached a sensitivity of {} or better, non-viable material (debris and dead cells) is at most {} of events and marrow-specific cells (CD34+ progenitors, B-cell precursors, nucleated red cells) are at least {} of viable nucleated non-blast cells; otherwise NOT EVALUABLE.",
            format_percent(limits.required_sensitivity_percent),
            format_percent(limits.max_debris_percent),
            format_percent(limits.min_marrow_specific_percent)
        ),
        format!(
            "Blasts: clusters of CD19+CD10+ cells whose centre leaves the normal B-precursor maturation pattern (bounds relative to the sample's own lymphocytes and mature B cells) by at least {} decades in total, on two or more markers or by {} on one, with a mean spread of at most {} decades; whose events are not smaller than {}x the lymphocytes' median FSC-A (dead cells and debris, which stain non-specifically, are); not centred at {} or more of a scale other than CD10's and CD19's, nor with half its events there on one scale other than CD10's (saturated events are mis-compensated); and of which the clusters inside the normal pattern explain at most {:.0}% as well (not a piece of the tail of normal maturation; a cluster less than {} decades outside the bounds must be as separate from every cluster not called blasts; and along the line from its nearest normal cluster the events must rise again around it after thinning out between, or it is that cluster's tail; a cluster apart from the cells sharing its phenotype on the other markers on fewer than two markers must also rise above them along the marker it is furthest apart on, one centred among them on every marker is part of normal maturation, and pieces joined to a released cluster are released with it). Events {} decades or more outside the bounds seed the mixture; a cluster that leaves the pattern with at least twice the LOD in events but is wider than that spread (two populations merged, such as rare blasts and dead cells) is split in two by a fit on its own events, the other clusters kept, and each part judged the same way; so is a cluster released as a tail with that many events (rare blasts merged with the tail). Percentages are of viable nucleated cells with Wilson 95% intervals.",
            blast.cluster_deviation,
            blast.single_marker_departure,
            blast.max_cluster_sd,
            blast.min_blast_size,
            blast.saturated_centre,
            100.0 * blast.max_normal_overlap,
            blast.weak_deviation,
            blast.seed_deviation
        ),
        {
            let (_, w, m, a) = LOGICLE;
            format!(
                "Fluorescence compensated with the file's spillover matrix and shown on a logicle scale (W {w}, M {m}, A {a}; T the largest value the file's fluorescence channels can hold, at least {MIN_LOGICLE_TOP}); scatter linear over its channel's range. Each site's exact scales and gates are in its Gating-ML file ({}). A file that declares a spillover matrix that cannot be applied is NOT EVALUABLE unless the user accepts uncompensated data (--accept-uncompensated), which the site then states.",
                case::gating_ml_path("NN-<site>")
            )
        },
        "Stain checks: a site is NEGATIVE only if CD19 shows B cells, CD10 shows its positive population (mature neutrophils, B-cell precursors or blasts) and CD45 shows bright lymphocytes at least a decade above the dimmest cells; a marrow without B cells (e.g. after CD19-directed therapy) cannot exclude CD19-negative disease and is NOT EVALUABLE.".into(),
        format!(
            "A file cut short (fewer events than $TOT declares) cannot be NEGATIVE. Flow stability: of {} time bins, those outside {}-{}x the median event rate are removed (unless that would remove more than {} of events: the Time channel is then skipped and stated, as one that is constant or has too few events); pauses in acquisition are not flow problems.",
            pregate.time_bins,
            1.0 / pregate.rate_factor,
            pregate.rate_factor,
            format_percent(100.0 * pregate.max_unstable_fraction)
        ),
        format!(
            "Pre-gates: debris below the FSC-A density valley under the lymphocytes, never below {}x their FSC-A; singlets with FSC-H/FSC-A no more than {} robust SD below its median; viable cells below the valley above the dye-negative cells, or without a dye not smaller than the lymphocytes and more granular than {}x their SSC-A; CD19+ above the valley over the CD19- cells with SSC-A at most {}x the lymphocytes'; CD10+ above the CD10- cells of the sample + {} SD.",
            pregate.min_debris_cut,
            pregate.singlet_sd,
            pregate.dead_ssc_factor,
            pregate.cd19_ssc_factor,
            pregate.negative_sd
        ),
        format!(
            "Necrosis: debris and dead cells are non-viable; events smaller than {}x a lymphocyte's FSC-A (the larger of the CD45-brightest dye-negative events' median and {}x the side-scatter-brightest single events', the granulocytes) also count when they exceed the debris gate's count by {} points of all events (a debris-dominated aspirate whose debris posed as the lymphocytes).",
            pregate.small_event_factor,
            crate::strategy::pregate::LYMPHOCYTE_OF_GRANULOCYTE_SIZE,
            100.0 * pregate.size_debris_excess
        ),
        format!(
            "Adequacy by lineage: a site whose leukocytes and B-lineage cells (CD45 within 1.5 decades of the lymphocytes, CD19+ or CD10+) are fewer than {} of the viable nucleated events is not evaluable (its remaining events are debris or dead cells that passed the debris gate and the dye).",
            format_percent(pregate.min_leukocyte_percent)
        ),
    ]
}

/// Analyses every site of `case` in parallel and keeps every site's
/// per-event gating (see [`analyze_case_with`] to release it site by site).
pub fn analyze_case(case: &Case, settings: &Settings) -> (CaseReport, Vec<Option<SiteGating>>) {
    analyze_case_with(case, settings, &|_, _, _| {}, true)
}

/// FCS bytes of the sites analysed at once: a site holds about its file's
/// size in memory while it is analysed (its single-precision columns and
/// masks; the events are read from the file as they are decoded), so this
/// bounds the memory of a case by what is in flight, whatever the number
/// of sites or cores: two 10 M-event tubes at once peak at about 1.3 GB.
/// A larger file is analysed alone.
pub const MAX_BYTES_IN_FLIGHT: u64 = 1 << 30;

/// Consecutive groups of site indices whose file sizes fit
/// [`MAX_BYTES_IN_FLIGHT`] together (a larger file is a group alone).
/// Groups run one after another, the sites of a group in parallel: no
/// thread waits for memory while others could use it.
fn groups_in_flight(sizes: &[u64]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut used) = (0, 0u64);
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && used + size > MAX_BYTES_IN_FLIGHT {
            groups.push(start..i);
            (start, used) = (i, 0);
        }
        used += size;
    }
    if start < sizes.len() {
        groups.push(start..sizes.len());
    }
    groups
}

/// Analyses every site of `case` in parallel, at most
/// [`MAX_BYTES_IN_FLIGHT`] of files at once (see `groups_in_flight`); hands each site's report and
/// per-event gating to `on_site` (with its index in the case) as soon as
/// it exists, then drops the gating unless `keep_gatings`.
pub fn analyze_case_with(
    case: &Case,
    settings: &Settings,
    on_site: &(dyn Fn(usize, &SiteReport, &SiteGating) + Sync),
    keep_gatings: bool,
) -> (CaseReport, Vec<Option<SiteGating>>) {
    let limits = &settings.limits;
    let n = case.sites.len();
    let sizes: Vec<u64> = case
        .sites
        .iter()
        .map(|s| std::fs::metadata(&s.file).map_or(0, |m| m.len()))
        .collect();
    let mut results: Vec<(SiteReport, Option<SiteGating>)> = Vec::with_capacity(n);
    for group in groups_in_flight(&sizes) {
        let done: Vec<(SiteReport, Option<SiteGating>)> = case.sites[group.clone()]
            .par_iter()
            .zip(group)
            .map(|(s, i)| {
                let output_name = case::output_name(i, n, &s.name);
                let (report, gating) = analyze_site_as(s, settings, &output_name);
                if let Some(g) = &gating {
                    on_site(i, &report, g);
                }
                (report, gating.filter(|_| keep_gatings))
            })
            .collect();
        results.extend(done);
    }
    let (sites, gatings): (Vec<SiteReport>, Vec<Option<SiteGating>>) = results.into_iter().unzip();
    let outcomes: Vec<SiteOutcome> = sites
        .iter()
        .map(|s| SiteOutcome {
            name: s.name.clone(),
            status: s.status,
            reason: s.reason.clone(),
            blast_events: s.measures.as_ref().map_or(0, |m| m.blast_events),
            viable_nucleated_events: s.measures.as_ref().map_or(0, |m| m.viable_nucleated_events),
            blast_percent: s.measures.as_ref().map_or(0.0, |m| m.blast_percent),
            sensitivity: s.measures.as_ref().map_or(1.0, |m| m.sensitivity),
        })
        .collect();
    let comparison = compare(&outcomes);
    let report = CaseReport {
        schema_version: SCHEMA_VERSION,
        software: format!("marrowgate {}", env!("CARGO_PKG_VERSION")),
        case_id: case.case_id.clone(),
        patient: case.patient.clone(),
        limits: limits.clone(),
        methods: methods(limits, &settings.pregate, &settings.blast),
        pregate_settings: settings.pregate.clone(),
        blast_settings: settings.blast.clone(),
        single_site_misses: comparison.single_site_misses.clone(),
        conclusion: comparison.conclusion.clone(),
        comparison,
        sites,
    };
    (report, gatings)
}

impl CaseReport {
    /// Whether any site could not be analysed at all.
    pub fn has_site_errors(&self) -> bool {
        self.sites.iter().any(|s| s.error.is_some())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod in_flight_tests {
    use super::*;

    #[test]
    fn groups_hold_what_fits_and_a_large_file_alone() {
        let mb = 1u64 << 20;
        assert_eq!(groups_in_flight(&[50 * mb; 4]), vec![0..4]);
        assert_eq!(groups_in_flight(&[480 * mb; 3]), vec![0..2, 2..3]);
        assert_eq!(
            groups_in_flight(&[600 * mb, 10 * mb, 10 * mb, 500 * mb]),
            vec![0..3, 3..4]
        );
        assert_eq!(
            groups_in_flight(&[1200 * mb, 10 * mb, 1100 * mb]),
            vec![0..1, 1..2, 2..3]
        );
        assert!(groups_in_flight(&[]).is_empty());
    }
}
