//! The case's outputs, all drawn from one [`CaseReport`]: the terminal
//! summary, and the output folder (`report.json`, `sites.csv`, the figures,
//! `report.html`, the blast events as FCS) written as one set
//! ([`crate::io::OutputSet`]): a reader finds the previous complete set or
//! the new one, never a mixture.

use super::html::FigureRef;
use super::terminal::escape;
use crate::analysis::CaseReport;
use crate::analysis::site::{SiteGating, SiteReport};
use crate::io::{OutputSet, write_atomically, write_bytes_atomically};
use crate::plot::case_figures::LineageSample;
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

/// Cases with more sites than this link their figures from report.html
/// instead of embedding them.
pub const EMBED_UP_TO_SITES: usize = 24;

/// A site's gating figure, written as it was drawn.
struct SiteFigure {
    index: usize,
    name: String,
    title: String,
    site: String,
    png: Vec<u8>,
}

/// What the writer keeps of each site between its analysis and the end.
#[derive(Default)]
struct Kept {
    figures: Vec<SiteFigure>,
    /// Each site's sample of the FlowJo workspace.
    workspace: Vec<super::workspace::WorkspaceSample>,
    samples: Vec<(usize, LineageSample)>,
    files: Vec<PathBuf>,
    errors: Vec<OutputError>,
}

/// Writes a case's output folder as one set, site by site as each
/// analysis ends (its gating figure and blast events written at once, its
/// columns then free to go: memory is bounded by the sites in flight, not
/// by the case), then the report, tables, multi-site figures and HTML in
/// [`CaseWriter::finish`], which puts the set in place.
pub struct CaseWriter {
    set: OutputSet,
    options: OutputOptions,
    /// Whether report.html embeds the figures (at most
    /// [`EMBED_UP_TO_SITES`] sites) or links them.
    embed: bool,
    kept: std::sync::Mutex<Kept>,
}

/// An output error naming `path`.
pub(crate) fn fail(path: &Path, e: &dyn std::fmt::Display) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl CaseWriter {
    /// Starts the output set of a case of `sites` sites in `dir` (refused
    /// at once if `dir` is not a folder marrowgate may replace).
    pub fn begin(dir: &Path, sites: usize, options: OutputOptions) -> Result<Self, OutputError> {
        let set = OutputSet::begin(dir, options.replace).map_err(|e| fail(dir, &e))?;
        for sub in ["plots", "gating"] {
            let dir = set.dir().join(sub);
            std::fs::create_dir_all(&dir).map_err(|e| fail(&dir, &e))?;
        }
        Ok(CaseWriter {
            set,
            options,
            embed: sites <= EMBED_UP_TO_SITES,
            kept: std::sync::Mutex::new(Kept::default()),
        })
    }

    /// Writes what belongs to one analysed site: its gating figure (PNG
    /// and SVG) and, if asked, its blast events; keeps a sample of its
    /// CD19/CD10 cells for the multi-site figure. Failures are kept and
    /// reported by [`CaseWriter::finish`].
    pub fn add_site(&self, index: usize, site: &SiteReport, gating: &SiteGating) {
        let staging = self.set.dir();
        let mut files = Vec::new();
        let mut errors = Vec::new();
        let mut figure = None;
        let mut sample = None;
        let mut workspace = None;
        if let Some(a) = &gating.automatic {
            sample = LineageSample::of(a);
            match crate::plot::site_figure(a, site) {
                Ok(f) => {
                    for (ext, bytes) in [("png", f.png.as_slice()), ("svg", f.svg.as_bytes())] {
                        let name = Path::new("plots").join(format!("{}.{ext}", f.name));
                        match write_bytes_atomically(&staging.join(&name), bytes) {
                            Ok(()) => files.push(name),
                            Err(e) => errors.push(fail(&staging.join(&name), &e)),
                        }
                    }
                    figure = Some(SiteFigure {
                        index,
                        name: f.name,
                        title: f.title,
                        site: site.name.clone(),
                        png: if self.embed { f.png } else { Vec::new() },
                    });
                }
                Err(e) => errors.push(fail(&staging.join("plots"), &e)),
            }
        }
        if let (Some(a), Some(path)) = (
            &gating.automatic,
            site.measures.as_ref().and_then(|m| m.gating_ml.as_ref()),
        ) {
            // The site's sample of the FlowJo workspace.
            workspace = Some(super::workspace::sample(
                index + 1,
                &site.name,
                Path::new(&site.file),
                a,
            ));
            let name = PathBuf::from(path);
            match crate::gate::gating_ml::write(&a.gate_tree()) {
                Ok(xml) => match write_bytes_atomically(&staging.join(&name), xml.as_bytes()) {
                    Ok(()) => files.push(name),
                    Err(e) => errors.push(fail(&staging.join(&name), &e)),
                },
                Err(e) => errors.push(fail(&staging.join(&name), &e)),
            }
        }
        if self.options.blast_fcs
            && let Some(events) = &gating.blast_events
            && events.events.nrows() > 0
        {
            let name = PathBuf::from(format!("{}.blasts.fcs", site.output_name));
            let path = staging.join(&name);
            match crate::fcs::writer::write(
                &path,
                &events.keywords,
                &events.channels,
                events.events.view(),
            ) {
                Ok(()) => files.push(name),
                Err(e) => errors.push(fail(&path, &e)),
            }
        }
        let mut kept = match self.kept.lock() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        kept.files.extend(files);
        kept.errors.extend(errors);
        kept.figures.extend(figure);
        kept.workspace.extend(workspace);
        if let Some(s) = sample {
            kept.samples.push((index, s));
        }
    }

    /// Writes `report.json`, `sites.csv`, the multi-site figures (in
    /// pages), `report.html` and the mark of a complete set, then puts the
    /// set in place of the folder. Returns the files as they are then.
    pub fn finish(self, report: &CaseReport) -> Result<Vec<PathBuf>, OutputError> {
        let kept = match self.kept.into_inner() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(e) = kept.errors.into_iter().next() {
            return Err(e);
        }
        let staging = self.set.dir().to_path_buf();
        let mut written: Vec<PathBuf> = Vec::new();
        let json = staging.join("report.json");
        let text = serde_json::to_string_pretty(report).map_err(|e| fail(&json, &e))?;
        write_bytes_atomically(&json, text.as_bytes()).map_err(|e| fail(&json, &e))?;
        written.push("report.json".into());
        let csv = staging.join("sites.csv");
        write_atomically(&csv, |out| write_sites_csv(report, out)).map_err(|e| fail(&csv, &e))?;
        written.push("sites.csv".into());
        let mut samples: Vec<Option<LineageSample>> = vec![None; report.sites.len()];
        for (i, s) in kept.samples {
            if let Some(slot) = samples.get_mut(i) {
                *slot = Some(s);
            }
        }
        let plots = staging.join("plots");
        let figures = crate::plot::case_figures(report, &samples).map_err(|e| fail(&plots, &e))?;
        drop(samples);
        for f in &figures {
            for (ext, bytes) in [("png", f.png.as_slice()), ("svg", f.svg.as_bytes())] {
                let name = Path::new("plots").join(format!("{}.{ext}", f.name));
                write_bytes_atomically(&staging.join(&name), bytes)
                    .map_err(|e| fail(&staging.join(&name), &e))?;
                written.push(name);
            }
        }
        let mut site_figures = kept.figures;
        site_figures.sort_by_key(|f| f.index);
        let embed = self.embed;
        let refs: Vec<FigureRef<'_>> = figures
            .iter()
            .map(|f| FigureRef {
                png: embed.then_some(f.png.as_slice()),
                ..FigureRef::embedded(f)
            })
            .chain(site_figures.iter().map(|f| FigureRef {
                name: &f.name,
                title: &f.title,
                site: Some(&f.site),
                png: embed.then_some(f.png.as_slice()),
            }))
            .collect();
        let html = staging.join("report.html");
        let page = super::html::render(report, &refs);
        write_bytes_atomically(&html, page.as_bytes()).map_err(|e| fail(&html, &e))?;
        written.push("report.html".into());
        if !kept.workspace.is_empty() {
            let mut samples = kept.workspace;
            samples.sort_by_key(|s| s.id);
            let name = Path::new("gating").join("case.wsp");
            let xml = super::workspace::workspace(&samples);
            write_bytes_atomically(&staging.join(&name), xml.as_bytes())
                .map_err(|e| fail(&staging.join(&name), &e))?;
            written.push(name);
        }
        written.extend(kept.files);
        commit_set(self.set, &report.software, report.schema_version, written)
    }
}

/// Marks an output set complete (its mark lists the software, the schema
/// and the files written) and puts it in place; returns the files where
/// they then are.
pub(crate) fn commit_set(
    set: OutputSet,
    software: &str,
    schema_version: u32,
    written: Vec<PathBuf>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mark = serde_json::json!({
        "software": software,
        "schema_version": schema_version,
        "files": written,
    });
    let dir = set.target().to_path_buf();
    set.commit(mark.to_string().as_bytes())
        .map_err(|e| fail(&dir, &e))?;
    Ok(written.into_iter().map(|f| dir.join(f)).collect())
}

/// Writes the whole output set of an analysed case at once (see
/// [`CaseWriter`], which `analyze` uses to write site by site).
pub fn write_outputs(
    report: &CaseReport,
    gatings: &[Option<SiteGating>],
    dir: &Path,
    options: OutputOptions,
) -> Result<Vec<PathBuf>, OutputError> {
    let writer = CaseWriter::begin(dir, report.sites.len(), options)?;
    for (i, (s, g)) in report.sites.iter().zip(gatings).enumerate() {
        if let Some(g) = g {
            writer.add_site(i, s, g);
        }
    }
    writer.finish(report)
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
