//! The case's outputs, all drawn from one [`CaseReport`]: the terminal
//! summary, and the output folder (`report.json`, `sites.csv`, the figures,
//! `report.html`, the blast events as FCS) written as one set
//! ([`crate::io::OutputSet`]): a reader finds the previous complete set or
//! the new one, never a mixture.

use super::terminal::escape;
use crate::analysis::CaseReport;
use crate::analysis::site::SiteGating;
use crate::io::{OutputSet, write_atomically, write_bytes_atomically};
use crate::qc::format_percent;
use std::fmt::Write as _;

use std::path::{Path, PathBuf};

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OutputError {
    /// File or folder.
    pub path: PathBuf,
    /// What failed.
    pub message: String,
}

/// What to write besides the report, tables, figures and HTML.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputOptions {
    /// Each site's blast events as `<output_name>.blasts.fcs`.
    pub blast_fcs: bool,
    /// Replace an existing folder that is not a marrowgate output.
    pub replace: bool,
}

/// The terminal summary: one row per site, each site's warnings, the
/// per-site statements, heterogeneity and the conclusion. Every value from
/// files or users is escaped (see [`super::terminal`]).
pub fn summary_text(report: &CaseReport) -> String {
    let mut t = String::new();
    if let Some(id) = &report.case_id {
        let _ = writeln!(t, "case {}", escape(id));
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
    for s in &report.sites {
        let name = escape(&s.name);
        match &s.measures {
            Some(m) => {
                let _ = writeln!(
                    t,
                    "{:<22} {:<14} {:>9} {:>10} {:>8} {:>8} {:>9} {:>17} {:>11}",
                    name,
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
                    name,
                    s.status.to_string(),
                    escape(&s.reason)
                );
            }
        }
    }
    // What limits each site, beside the table: the verdict's reason when it
    // is not a plain call, and every file problem the reader recovered from.
    let mut notes = String::new();
    for s in &report.sites {
        let Some(m) = &s.measures else { continue };
        if s.status != crate::qc::Status::Positive || !m.concerns.is_empty() {
            let _ = writeln!(notes, "  {}: {}", escape(&s.name), escape(&s.reason));
        }
        for w in &m.warnings {
            let _ = writeln!(notes, "  {}: file warning: {}", escape(&s.name), escape(w));
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(t, "\nper site:\n{}", notes.trim_end());
    }
    let _ = writeln!(t);
    for s in &report.comparison.single_site {
        let _ = writeln!(t, "{}", escape(&s.statement));
    }
    if let Some(h) = &report.comparison.heterogeneity {
        let _ = writeln!(t, "{}", escape(&h.summary()));
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "{}", escape(&report.conclusion));
    t
}

/// Writes `report.json`, `sites.csv`, the figures (`plots/*.png` and
/// `plots/*.svg`: comparison, quality, CD19 vs CD10 of all sites, each
/// site's gating path), the self-contained `report.html` and, with
/// `options.blast_fcs`, `<output_name>.blasts.fcs` for every site with
/// blasts, as one set in `dir` (see [`OutputSet`]). Returns the files as
/// they are once in place.
pub fn write_outputs(
    report: &CaseReport,
    gatings: &[Option<SiteGating>],
    dir: &Path,
    options: OutputOptions,
) -> Result<Vec<PathBuf>, OutputError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let set = OutputSet::begin(dir, options.replace).map_err(|e| fail(dir, &e))?;
    let staging = set.dir().to_path_buf();
    let mut written: Vec<PathBuf> = Vec::new();
    let json = staging.join("report.json");
    let text = serde_json::to_string_pretty(report).map_err(|e| fail(&json, &e))?;
    write_bytes_atomically(&json, text.as_bytes()).map_err(|e| fail(&json, &e))?;
    written.push("report.json".into());
    let csv = staging.join("sites.csv");
    write_atomically(&csv, |out| write_sites_csv(report, out)).map_err(|e| fail(&csv, &e))?;
    written.push("sites.csv".into());
    let plots = staging.join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| fail(&plots, &e))?;
    let figures = crate::plot::case_figures(report, gatings).map_err(|e| fail(&plots, &e))?;
    for f in &figures {
        for (ext, bytes) in [("png", f.png.as_slice()), ("svg", f.svg.as_bytes())] {
            let name = format!("{}.{ext}", f.name);
            let path = plots.join(&name);
            write_bytes_atomically(&path, bytes).map_err(|e| fail(&path, &e))?;
            written.push(Path::new("plots").join(name));
        }
    }
    let html = staging.join("report.html");
    let page = super::html::render(report, &figures);
    write_bytes_atomically(&html, page.as_bytes()).map_err(|e| fail(&html, &e))?;
    written.push("report.html".into());
    if options.blast_fcs {
        for (s, g) in report.sites.iter().zip(gatings) {
            let Some(events) = g.as_ref().and_then(|g| g.blast_events.as_ref()) else {
                continue;
            };
            if events.events.nrows() == 0 {
                continue;
            }
            let name = format!("{}.blasts.fcs", s.output_name);
            let path = staging.join(&name);
            crate::fcs::writer::write(
                &path,
                &events.keywords,
                &events.channels,
                events.events.view(),
            )
            .map_err(|e| fail(&path, &e))?;
            written.push(name.into());
        }
    }
    let mark = serde_json::json!({
        "software": report.software,
        "schema_version": report.schema_version,
        "files": written,
    });
    set.commit(mark.to_string().as_bytes())
        .map_err(|e| fail(dir, &e))?;
    Ok(written.into_iter().map(|f| dir.join(f)).collect())
}

/// A value, or an empty CSV field when not measured.
fn optional<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn write_sites_csv(report: &CaseReport, out: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "name,file,output_name,status,total_events,viable_nucleated_events,debris_percent,doublet_percent,dead_percent,viable_percent,cd19_events,cd19_cd10_events,blast_events,blast_percent,blast_ci95_low,blast_ci95_high,blast_percent_of_cd19,sensitivity_percent,quantifiable,marrow_specific_percent,would_miss,reason"
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
                100.0 * m.sensitivity,
                m.quantifiable,
                optional(m.marrow_indicators.map(|i| i.marrow_specific_percent))
            ),
            None => ",".repeat(15),
        };
        writeln!(
            out,
            "{},{},{},{},{},{},{}",
            super::csv::quote(&s.name),
            super::csv::quote(&s.file),
            super::csv::quote(&s.output_name),
            s.status.code(),
            numbers,
            would_miss,
            super::csv::quote(&s.reason)
        )?;
    }
    Ok(())
}
