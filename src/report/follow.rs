//! The outputs of `marrowgate follow`, all drawn from one [`FollowReport`]:
//! the terminal summary, and the output folder written as one set
//! ([`crate::io::OutputSet`]):
//!
//! - `report.json` (the follow-up schema, README),
//! - `timeline.png` / `timeline.svg`,
//! - `report.html` (the timeline on top, one table row per time point and
//!   site, the methods, links to each time point's report),
//! - `timepoints/NN-<label>/`: each time point's full `analyze` output
//!   (its report.json, sites.csv, gating figures, Gating-ML, report.html).

use super::case::{CaseWriter, OutputError, OutputOptions, commit_set, fail};
use super::html::{FigureRef, esc, img, page_head, status_class};
use super::terminal::escape;
use crate::analysis::course::Course;
use crate::analysis::follow::{FollowReport, MrdLevel, MrdSite};
use crate::analysis::site::{SiteGating, SiteReport};
use crate::io::{OutputSet, write_bytes_atomically};
use crate::qc::format_percent;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A percentage or a dash.
fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), format_percent)
}

/// The MRD cell of a site, in words.
fn mrd_words(s: &MrdSite) -> String {
    match s.mrd_level {
        MrdLevel::MrdPositive => format!(
            "{} ({}-{})",
            pct(s.mrd_percent),
            pct(s.mrd_ci95.map(|c| c[0])),
            pct(s.mrd_ci95.map(|c| c[1]))
        ),
        MrdLevel::PositiveBelowLloq => {
            format!("{} events, below LLOQ", s.mrd_events.unwrap_or(0))
        }
        MrdLevel::Negative => format!("< {}", pct(s.lod_percent)),
        MrdLevel::NotEvaluable => "no result".into(),
    }
}

/// The terminal summary: one row per time point and site, then the course
/// in sentences. Values from files or users are escaped.
pub fn summary_text(report: &FollowReport) -> String {
    let mut t = String::new();
    if let Some(id) = &report.case_id {
        let _ = writeln!(t, "case {}", escape(id));
    }
    let width = |texts: &mut dyn Iterator<Item = usize>| texts.max().unwrap_or(0).max(10) + 1;
    let label_w = width(&mut report.timepoints.iter().map(|t| t.label.chars().count()));
    let site_w = width(
        &mut report
            .timepoints
            .iter()
            .flat_map(|t| &t.sites)
            .map(|s| s.name.chars().count()),
    );
    let _ = writeln!(
        t,
        "{:<label_w$} {:<10} {:<site_w$} {:<16} {:>10} {:>8} {:>26} {:>10} {:>10}",
        "time point", "date", "site", "MRD", "viable", "blasts", "MRD %", "LOD", "LLOQ"
    );
    for tp in &report.timepoints {
        for s in &tp.sites {
            let level = match s.mrd_level {
                MrdLevel::MrdPositive => "MRD POSITIVE",
                MrdLevel::PositiveBelowLloq => "POSITIVE < LLOQ",
                MrdLevel::Negative => "NEGATIVE",
                MrdLevel::NotEvaluable => "NOT EVALUABLE",
            };
            let _ = writeln!(
                t,
                "{:<label_w$} {:<10} {:<site_w$} {:<16} {:>10} {:>8} {:>26} {:>10} {:>10}",
                escape(&tp.label),
                tp.date,
                escape(&s.name),
                level,
                s.viable_nucleated_events
                    .map_or("-".into(), |v| v.to_string()),
                s.mrd_events.map_or("-".into(), |v| v.to_string()),
                mrd_words(s),
                pct(s.lod_percent),
                pct(s.lloq_percent)
            );
        }
    }
    for line in &report.conclusion {
        let _ = writeln!(t, "{}", escape(line));
    }
    t
}

/// The follow-up page: the timeline, the table, the phenotype, the
/// methods and links to every time point's own report.
pub(crate) fn render_html(report: &FollowReport, timeline: &FigureRef<'_>) -> String {
    let mut h = page_head(
        "marrowgate follow-up",
        report.case_id.as_deref(),
        report.patient.as_deref(),
    );
    h.push_str(&img(timeline));
    h.push_str("<div class=\"conclusion\">");
    for line in &report.conclusion {
        let _ = write!(h, "<p>{}</p>", esc(line));
    }
    h.push_str("</div>\n<h2>Time points</h2>\n<table><tr><th>time point</th><th>date</th><th>site</th><th>status</th><th>MRD (95% CI)</th><th>blast events</th><th>viable nucleated</th><th>LOD reached</th><th>LLOQ reached</th><th>phenotype vs diagnosis</th><th>reason</th></tr>\n");
    for tp in &report.timepoints {
        let link = format!("timepoints/{}/report.html", tp.output_name);
        for s in &tp.sites {
            let shifts: Vec<String> = s
                .phenotype_shift
                .iter()
                .filter(|m| m.shift_decades.abs() >= crate::analysis::follow::SHIFT_DECADES)
                .map(|m| format!("{} {:+.1} dec", m.marker, m.shift_decades))
                .collect();
            let phenotype = if s.phenotype.is_none() {
                "&ndash;".to_string()
            } else if shifts.is_empty() && !s.phenotype_shift.is_empty() {
                "as at diagnosis".to_string()
            } else {
                esc(&shifts.join(", "))
            };
            let _ = writeln!(
                h,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                esc(&link),
                esc(&tp.label),
                esc(&tp.date),
                esc(&s.name),
                status_class(s.status),
                s.status,
                esc(&mrd_words(s)),
                s.mrd_events.map_or("&ndash;".into(), |v| v.to_string()),
                s.viable_nucleated_events
                    .map_or("&ndash;".into(), |v| v.to_string()),
                pct(s.lod_percent),
                pct(s.lloq_percent),
                phenotype,
                esc(s.error.as_deref().unwrap_or(&s.reason))
            );
        }
    }
    h.push_str("</table>\n");
    if let Some(p) = &report.diagnostic_phenotype {
        let _ = write!(
            h,
            "<h2>Leukaemia-associated phenotype ({}, {} blast events)</h2>\n<table><tr><th>marker</th><th>level (decades on the logicle scale)</th></tr>",
            esc(&report.diagnosis),
            p.events
        );
        for (m, v) in &p.centre {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{:.2}</td></tr>",
                esc(m),
                v * crate::strategy::prepare::LOGICLE.2
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Methods</h2>\n<ul>");
    for m in &report.methods {
        let _ = write!(h, "<li>{}</li>", esc(m));
    }
    h.push_str("</ul>\n</body></html>\n");
    h
}

/// Writes the outputs of a course as it is analysed: one [`CaseWriter`]
/// per time point inside the set, then the course's own files.
pub struct FollowWriter {
    set: OutputSet,
    timepoints: Vec<CaseWriter>,
}

impl FollowWriter {
    /// Starts the output set of `course` in `dir` (refused at once if `dir`
    /// is not a folder marrowgate may replace).
    pub fn begin(
        dir: &Path,
        course: &Course,
        options: OutputOptions,
    ) -> Result<FollowWriter, OutputError> {
        let set = OutputSet::begin(dir, options.replace).map_err(|e| fail(dir, &e))?;
        let n = course.timepoints.len();
        let timepoints = course
            .timepoints
            .iter()
            .enumerate()
            .map(|(t, tp)| {
                let sub = set
                    .dir()
                    .join("timepoints")
                    .join(crate::analysis::case::output_name(t, n, &tp.label));
                CaseWriter::begin(
                    &sub,
                    tp.case.sites.len(),
                    OutputOptions {
                        replace: false,
                        ..options
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FollowWriter { set, timepoints })
    }

    /// Writes what belongs to one analysed site of time point `t`.
    pub fn add_site(&self, t: usize, index: usize, site: &SiteReport, gating: &SiteGating) {
        if let Some(w) = self.timepoints.get(t) {
            w.add_site(index, site, gating);
        }
    }

    /// Finishes every time point's output, writes `report.json`, the
    /// timeline and `report.html`, and puts the set in place.
    pub fn finish(self, report: &FollowReport) -> Result<Vec<PathBuf>, OutputError> {
        let staging = self.set.dir().to_path_buf();
        let mut written: Vec<PathBuf> = Vec::new();
        for (w, tp) in self.timepoints.into_iter().zip(&report.timepoints) {
            let files = w.finish(&tp.analysis)?;
            written.extend(
                files
                    .iter()
                    .filter_map(|f| f.strip_prefix(&staging).ok().map(Path::to_path_buf)),
            );
        }
        let json = staging.join("report.json");
        let text = serde_json::to_string_pretty(report).map_err(|e| fail(&json, &e))?;
        write_bytes_atomically(&json, text.as_bytes()).map_err(|e| fail(&json, &e))?;
        written.push("report.json".into());
        let figure = crate::plot::timeline_figure(report).map_err(|e| fail(&staging, &e))?;
        for (ext, bytes) in [
            ("png", figure.png.as_slice()),
            ("svg", figure.svg.as_bytes()),
        ] {
            let name = PathBuf::from(format!("timeline.{ext}"));
            write_bytes_atomically(&staging.join(&name), bytes)
                .map_err(|e| fail(&staging.join(&name), &e))?;
            written.push(name);
        }
        let html = staging.join("report.html");
        let page = render_html(report, &FigureRef::embedded(&figure));
        write_bytes_atomically(&html, page.as_bytes()).map_err(|e| fail(&html, &e))?;
        written.push("report.html".into());
        commit_set(self.set, &report.software, report.schema_version, written)
    }
}
