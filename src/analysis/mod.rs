//! The main job: every site of one patient analysed in parallel, judged,
//! compared, and written out as one report.
//!
//! [`analyze_case`] returns a [`CaseReport`] (the stable JSON schema of
//! `report.json`, documented in the README) plus the per-event gating of
//! each analysed site; [`write_outputs`] writes `report.json`, `sites.csv`
//! and optionally the blast events of each site as FCS; the terminal
//! summary ([`CaseReport::to_text`]) is drawn from the same report.

pub mod case;
pub mod site;

use crate::compare::{Comparison, SiteOutcome, compare};
use crate::fcs::FcsFile;
use crate::io::write_atomically;
use crate::qc::{Limits, format_percent};
use case::Case;
use rayon::prelude::*;
use serde::Serialize;
use site::{SiteGating, SiteReport, Strategy, analyze_site};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Version of the `report.json` schema; raised on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

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
            format_percent(100.0 * limits.required_sensitivity),
            format_percent(limits.max_debris_percent),
            format_percent(limits.min_marrow_specific_percent)
        ),
        "Blasts: clusters of CD19+CD10+ cells whose centre leaves the normal B-precursor maturation pattern (bounds relative to the sample's own lymphocytes and mature B cells, in decades); percentages are of viable nucleated cells with Wilson 95% intervals.".into(),
        "Fluorescence compensated with the file's spillover matrix and shown on a logicle scale (T 262144, W 0.5, M 4.5, A 0).".into(),
    ]
}

/// Analyses every site of `case` in parallel.
pub fn analyze_case(
    case: &Case,
    limits: &Limits,
    strategy: &Strategy,
) -> (CaseReport, Vec<Option<SiteGating>>) {
    let results: Vec<(SiteReport, Option<SiteGating>)> = case
        .sites
        .par_iter()
        .map(|s| analyze_site(s, limits, strategy))
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

    /// The terminal summary: one row per site, the per-site statements and
    /// the conclusion.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        if let Some(id) = &self.case_id {
            let _ = writeln!(t, "case {id}");
        }
        let _ = writeln!(
            t,
            "{:<22} {:<14} {:>9} {:>10} {:>8} {:>8} {:>9} {:>17} {:>11}",
            "site",
            "status",
            "events",
            "viable",
            "debris",
            "blasts",
            "blast %",
            "95% CI",
            "sensitivity"
        );
        for s in &self.sites {
            match &s.measures {
                Some(m) => {
                    let _ = writeln!(
                        t,
                        "{:<22} {:<14} {:>9} {:>10} {:>8} {:>8} {:>9} {:>17} {:>11}",
                        s.name,
                        s.status.to_string(),
                        m.total_events,
                        m.viable_nucleated_events,
                        format_percent(m.debris_percent),
                        m.blast_events,
                        format_percent(m.blast_percent),
                        format!(
                            "{}-{}",
                            format_percent(m.blast_ci95[0]),
                            format_percent(m.blast_ci95[1])
                        ),
                        format_percent(100.0 * m.sensitivity)
                    );
                }
                None => {
                    let _ = writeln!(
                        t,
                        "{:<22} {:<14} {}",
                        s.name,
                        s.status.to_string(),
                        s.reason
                    );
                }
            }
        }
        let _ = writeln!(t);
        for s in &self.comparison.single_site {
            let _ = writeln!(t, "{}", s.statement);
        }
        if let Some(h) = &self.comparison.heterogeneity {
            let _ = writeln!(t, "{}", h.summary());
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "{}", self.conclusion);
        t
    }
}

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OutputError {
    /// File or folder.
    pub path: PathBuf,
    /// What failed.
    pub message: String,
}

/// A file name made of a site name (letters, digits, '-' and '_').
pub fn file_stem(site: &str) -> String {
    let s: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "site".into() } else { s }
}

/// Writes `report.json`, `sites.csv`, the figures (`plots/*.png` and
/// `plots/*.svg`: comparison, CD19 vs CD10 of all sites, each site's gating
/// path) and the self-contained `report.html` to `dir` (created if needed)
/// and, with `blast_fcs`, `<site>.blasts.fcs` for every site with blasts.
/// Returns the files written.
pub fn write_outputs(
    report: &CaseReport,
    gatings: &[Option<SiteGating>],
    dir: &Path,
    blast_fcs: bool,
) -> Result<Vec<PathBuf>, OutputError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let mut written = Vec::new();
    let json = dir.join("report.json");
    let text = serde_json::to_string_pretty(report).map_err(|e| fail(&json, &e))?;
    write_atomically(&json, |out| out.write_all(text.as_bytes())).map_err(|e| fail(&json, &e))?;
    written.push(json);
    let csv = dir.join("sites.csv");
    write_atomically(&csv, |out| write_sites_csv(report, out)).map_err(|e| fail(&csv, &e))?;
    written.push(csv);
    // Figures (PNG and SVG) and the self-contained HTML report.
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| fail(&plots, &e))?;
    let figures = crate::plot::case_figures(report, gatings).map_err(|e| fail(&plots, &e))?;
    for f in &figures {
        for (ext, bytes) in [("png", f.png.as_slice()), ("svg", f.svg.as_bytes())] {
            let path = plots.join(format!("{}.{ext}", f.name));
            crate::io::write_bytes_atomically(&path, bytes).map_err(|e| fail(&path, &e))?;
            written.push(path);
        }
    }
    let html = dir.join("report.html");
    let page = crate::report::html::render(report, &figures);
    crate::io::write_bytes_atomically(&html, page.as_bytes()).map_err(|e| fail(&html, &e))?;
    written.push(html);
    if blast_fcs {
        for (s, g) in report.sites.iter().zip(gatings) {
            let (Some(g), Some(m)) = (g, &s.measures) else {
                continue;
            };
            if m.blast_events == 0 {
                continue;
            }
            let path = dir.join(format!("{}.blasts.fcs", file_stem(&s.name)));
            write_blast_events(Path::new(&s.file), &g.blasts, &path)
                .map_err(|e| fail(&path, &e))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A value, or an empty CSV field when not measured.
fn optional<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn write_sites_csv(report: &CaseReport, out: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "name,file,status,total_events,viable_nucleated_events,debris_percent,doublet_percent,dead_percent,viable_percent,cd19_events,cd19_cd10_events,blast_events,blast_percent,blast_ci95_low,blast_ci95_high,blast_percent_of_cd19,sensitivity,quantifiable,marrow_specific_percent,would_miss,reason"
    )?;
    for s in &report.sites {
        let would_miss = report.single_site_misses.contains(&s.name);
        let numbers = match &s.measures {
            Some(m) => format!(
                "{},{},{:.4},{},{},{:.4},{},{},{},{:.6},{:.6},{:.6},{},{:.3e},{},{}",
                m.total_events,
                m.viable_nucleated_events,
                m.debris_percent,
                optional(m.doublet_percent),
                optional(m.dead_percent),
                m.viable_percent,
                optional(m.cd19_events),
                optional(m.cd19_cd10_events),
                m.blast_events,
                m.blast_percent,
                m.blast_ci95[0],
                m.blast_ci95[1],
                optional(m.blast_percent_of_cd19),
                m.sensitivity,
                m.quantifiable,
                optional(m.marrow_indicators.map(|i| i.marrow_specific_percent))
            ),
            None => ",".repeat(15),
        };
        writeln!(
            out,
            "{},{},{},{},{},{}",
            csv_field(&s.name),
            csv_field(&s.file),
            s.status.code(),
            numbers,
            would_miss,
            csv_field(&s.reason)
        )?;
    }
    Ok(())
}

/// Writes the events of `source` flagged in `members` as an FCS 3.1 file
/// (all channels, channel values, the source keywords kept).
fn write_blast_events(source: &Path, members: &[bool], path: &Path) -> Result<(), String> {
    let file = FcsFile::open(source).map_err(|e| e.to_string())?;
    let info = file.dataset(0).map_err(|e| e.to_string())?;
    let events = file.events(0).map_err(|e| e.to_string())?;
    let rows: Vec<usize> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| **m)
        .map(|(i, _)| i)
        .collect();
    let selected = events.select(ndarray::Axis(0), &rows);
    crate::fcs::writer::write(
        path,
        &info.keywords,
        &info.metadata.channels,
        selected.view(),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
