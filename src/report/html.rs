//! `report.html`: the case report a hematopathologist reads, as one
//! self-contained file (figures embedded as PNG data, no scripts, no
//! network; a case of many sites links its figures in `plots/` instead, so
//! the page stays readable): the conclusion, the site table, QC, the per-site statements,
//! the comparison figures, each site's gating path with its gate table, and
//! the methods.

use crate::analysis::CaseReport;
use crate::plot::Figure;
use crate::qc::{Status, format_percent};
use base64::Engine as _;
use std::fmt::Write as _;

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn status_class(s: Status) -> &'static str {
    match s {
        Status::Positive => "pos",
        Status::Negative => "neg",
        Status::NotEvaluable => "ne",
    }
}

/// A figure as the page shows it: embedded as PNG data, or linked to its
/// file under `plots/` (large cases, whose page would otherwise hold
/// hundreds of megabytes).
#[derive(Debug, Clone)]
pub struct FigureRef<'a> {
    /// File stem under `plots/`.
    pub name: &'a str,
    /// Caption.
    pub title: &'a str,
    /// The site it belongs to, if any.
    pub site: Option<&'a str>,
    /// PNG bytes to embed; linked when `None`.
    pub png: Option<&'a [u8]>,
}

impl<'a> FigureRef<'a> {
    /// An embedded case figure.
    pub fn embedded(f: &'a Figure) -> FigureRef<'a> {
        FigureRef {
            name: &f.name,
            title: &f.title,
            site: f.site.as_deref(),
            png: Some(&f.png),
        }
    }
}

pub(crate) fn img(f: &FigureRef<'_>) -> String {
    let src = match f.png {
        Some(png) => format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
        None => format!("plots/{}.png", esc(&percent_path(f.name))),
    };
    format!(
        "<figure id=\"fig-{}\"><img alt=\"{}\" src=\"{src}\"><figcaption>{}</figcaption></figure>\n",
        esc(f.name),
        esc(f.title),
        esc(f.title)
    )
}

/// A file name as a relative URL path segment.
fn percent_path(name: &str) -> String {
    let mut s = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

pub(crate) const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1560px;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}.pos{color:#c62828;font-weight:bold}\
.neg{color:#2e7d32;font-weight:bold}.ne{color:#666;font-weight:bold}\
.conclusion{font-size:1.25em;border-left:6px solid #1f77b4;padding:.5em 1em;background:#f4f8fb}\
figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}figcaption{color:#555}\
td.reason{text-align:left;max-width:40em}";

/// The start of a report page: its title (`kind`, with the case id when
/// known), the style, and the patient line.
pub(crate) fn page_head(kind: &str, case_id: Option<&str>, patient: Option<&str>) -> String {
    let title = match case_id {
        Some(id) => format!("{kind}: {id}"),
        None => kind.to_string(),
    };
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    if let Some(p) = patient {
        let _ = writeln!(h, "<p>Patient: {}</p>", esc(p));
    }
    h
}

/// Renders the report with its figures (the multi-site figures of
/// [`crate::plot::case_figures`] and each site's gating path).
pub fn render(report: &CaseReport, figures: &[FigureRef<'_>]) -> String {
    let mut h = page_head(
        "marrowgate case report",
        report.case_id.as_deref(),
        report.patient.as_deref(),
    );
    let _ = writeln!(h, "<p class=\"conclusion\">{}</p>", esc(&report.conclusion));

    // Site table.
    let _ = writeln!(
        h,
        "<h2>Sites</h2>\n<table><tr><th>site</th><th>status</th><th>events</th><th>viable nucleated</th><th>blasts</th><th>blast %</th><th>95% CI</th><th>% of CD19+</th><th>sensitivity reached</th><th>reason</th></tr>"
    );
    for s in &report.sites {
        let cls = status_class(s.status);
        match &s.measures {
            Some(m) => {
                let _ = writeln!(
                    h,
                    "<tr id=\"site-{}\"><td>{}</td><td class=\"{cls}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}&ndash;{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                    esc(&s.output_name),
                    esc(&s.name),
                    s.status,
                    m.total_events,
                    m.viable_nucleated_events,
                    m.blast_events,
                    format_percent(m.blast_percent),
                    format_percent(m.blast_ci95[0]),
                    format_percent(m.blast_ci95[1]),
                    m.blast_percent_of_cd19
                        .map(format_percent)
                        .unwrap_or_else(|| "&ndash;".into()),
                    format_percent(100.0 * m.sensitivity),
                    esc(&s.reason)
                );
            }
            None => {
                let _ = writeln!(
                    h,
                    "<tr id=\"site-{}\"><td>{}</td><td class=\"{cls}\">{}</td><td colspan=\"7\"></td><td class=\"reason\">{}</td></tr>",
                    esc(&s.output_name),
                    esc(&s.name),
                    s.status,
                    esc(&s.reason)
                );
            }
        }
    }
    h.push_str("</table>\n");

    // QC.
    h.push_str("<h2>Sample quality</h2>\n<table><tr><th>site</th><th>debris %</th><th>doublets %</th><th>dead %</th><th>viable %</th><th>CD34+ progenitors %</th><th>B precursors %</th><th>nucleated red cells %</th><th>marrow-specific %</th></tr>\n");
    let opt = |v: Option<f64>| v.map(format_percent).unwrap_or_else(|| "&ndash;".into());
    for s in &report.sites {
        if let Some(m) = &s.measures {
            let mi = m.marrow_indicators.as_ref();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.name),
                format_percent(m.debris_percent),
                opt(m.doublet_percent),
                opt(m.dead_percent),
                format_percent(m.viable_percent),
                opt(mi.and_then(|i| i.cd34_progenitor_percent)),
                opt(mi.map(|i| i.b_precursor_percent)),
                opt(mi.map(|i| i.nucleated_red_percent)),
                opt(mi.map(|i| i.marrow_specific_percent)),
            );
        }
    }
    h.push_str("</table>\n");

    // What limits each site: stain checks, file problems, concerns.
    let mut problems = String::new();
    for s in &report.sites {
        let Some(m) = &s.measures else { continue };
        let mut items: Vec<String> = m
            .concerns
            .iter()
            .map(|c| {
                let effect = match c.effect {
                    crate::qc::ConcernEffect::Blocks => "not evaluable",
                    crate::qc::ConcernEffect::NoNegative => "cannot be negative",
                    crate::qc::ConcernEffect::HidesDisease => {
                        "cannot be negative; a positive level is a lower bound"
                    }
                    crate::qc::ConcernEffect::Note => "note",
                };
                format!("<li><b>{effect}:</b> {}</li>", esc(&c.reason))
            })
            .collect();
        items.extend(
            m.warnings
                .iter()
                .map(|w| format!("<li><b>file warning:</b> {}</li>", esc(w))),
        );
        if !items.is_empty() {
            let _ = writeln!(
                problems,
                "<h3>{}</h3>\n<ul>\n{}\n</ul>",
                esc(&s.name),
                items.join("\n")
            );
        }
    }
    if !problems.is_empty() {
        h.push_str("<h2>Stains, files and data: what limits each site</h2>\n");
        h.push_str(&problems);
    }
    h.push_str("<h2>Stain checks</h2>\n<table><tr><th>site</th><th>marker</th><th>internal positive control</th><th>positive events</th><th>among</th><th>result</th></tr>\n");
    for s in &report.sites {
        let Some(m) = &s.measures else { continue };
        for c in &m.stain_checks {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(&s.name),
                esc(&c.marker),
                esc(&c.control),
                c.positive_events,
                c.among_events,
                if c.passed { "neg" } else { "ne" },
                if c.passed { "shown" } else { "NOT shown" }
            );
        }
    }
    h.push_str("</table>\n");

    // Comparison.
    h.push_str("<h2>Had only one site been sampled</h2>\n<ul>\n");
    for s in &report.comparison.single_site {
        let _ = writeln!(
            h,
            "<li class=\"{}\">{}</li>",
            if s.would_miss { "ne" } else { "" },
            esc(&s.statement)
        );
    }
    h.push_str("</ul>\n");
    if let Some(het) = &report.comparison.heterogeneity {
        let _ = writeln!(h, "<p>{}</p>", esc(&het.summary()));
    }
    for f in figures.iter().filter(|f| f.site.is_none()) {
        h.push_str(&img(f));
    }

    // Per site.
    h.push_str("<h2>Gating per site</h2>\n");
    for s in &report.sites {
        let _ = writeln!(h, "<h3>{}</h3>", esc(&s.name));
        for f in figures.iter().filter(|f| f.site == Some(s.name.as_str())) {
            h.push_str(&img(f));
        }
        if let Some(m) = &s.measures {
            h.push_str("<table><tr><th>gate</th><th>parent</th><th>events</th><th>% of parent</th><th>rule</th></tr>\n");
            for g in &m.gates {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                    esc(&g.name),
                    esc(g.parent.as_deref().unwrap_or("")),
                    g.events,
                    format_percent(g.percent_of_parent),
                    esc(&g.rule)
                );
            }
            h.push_str("</table>\n");
        } else if let Some(e) = &s.error {
            let _ = writeln!(h, "<p class=\"ne\">Could not be analysed: {}</p>", esc(e));
        }
    }

    // Methods.
    h.push_str("<h2>Methods</h2>\n<ul>\n");
    for m in &report.methods {
        let _ = writeln!(h, "<li>{}</li>", esc(m));
    }
    let _ = writeln!(
        h,
        "</ul>\n<p>{} &middot; report schema {}</p>\n</body></html>",
        esc(&report.software),
        report.schema_version
    );
    h
}
