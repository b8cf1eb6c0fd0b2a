//! The main job: every site of one patient analysed in parallel, judged,
//! compared, and written out as one report.
//!
//! [`analyze_case`] returns a [`CaseReport`] (the stable JSON schema of
//! `report.json`, documented in the README) plus the per-event gating of
//! each analysed site: data only. The renderers above it
//! ([`crate::report::case`]: terminal summary, report.json, sites.csv,
//! figures, report.html, blast FCS) take these results.

pub mod case;
pub mod site;

use crate::compare::{Comparison, SiteOutcome, compare};
use crate::qc::{Limits, format_percent};
use case::Case;
use rayon::prelude::*;
use serde::Serialize;
use site::{Settings, SiteGating, SiteReport, analyze_site};

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
fn methods(limits: &Limits) -> Vec<String> {
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
        "Blasts: clusters of CD19+CD10+ cells whose centre leaves the normal B-precursor maturation pattern (bounds relative to the sample's own lymphocytes and mature B cells, in decades); percentages are of viable nucleated cells with Wilson 95% intervals.".into(),
        "Fluorescence compensated with the file's spillover matrix and shown on a logicle scale (T 262144, W 0.5, M 4.5, A 0). A file that declares a spillover matrix that cannot be applied is NOT EVALUABLE unless the user accepts uncompensated data (--accept-uncompensated), which the site then states.".into(),
        "Stain checks: a site is NEGATIVE only if CD19 shows B cells, CD10 shows its positive population (mature neutrophils, B-cell precursors or blasts) and CD45 shows bright lymphocytes at least a decade above the dimmest cells; a marrow without B cells (e.g. after CD19-directed therapy) cannot exclude CD19-negative disease and is NOT EVALUABLE.".into(),
        "A file cut short (fewer events than $TOT declares) cannot be NEGATIVE. Flow stability: time bins outside 0.5-2x the median event rate are removed; a Time channel that cannot be used (constant, too few events, irregular throughout) is skipped and stated; pauses in acquisition are not flow problems.".into(),
    ]
}

/// Analyses every site of `case` in parallel.
pub fn analyze_case(case: &Case, settings: &Settings) -> (CaseReport, Vec<Option<SiteGating>>) {
    let limits = &settings.limits;
    let n = case.sites.len();
    let results: Vec<(SiteReport, Option<SiteGating>)> = case
        .sites
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let (mut report, gating) = analyze_site(s, settings);
            report.output_name = case::output_name(i, n, &s.name);
            (report, gating)
        })
        .collect();
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
        methods: methods(limits),
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
