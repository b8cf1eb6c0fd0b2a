//! The multi-site figures: blast % per site with its 95 % interval, the
//! sensitivity each site reached and its status; and the same CD19 vs CD10
//! plot of every site side by side on one scale.

use super::axis::Axis;
use super::bivariate::{Bivariate, draw, lineage_highlights};
use super::colour::{BLAST, HEMATOGONE, REFERENCE, Rgb};
use super::{PlotError, draw_error, font};
use crate::analysis::CaseReport;
use crate::analysis::site::AutomaticGating;
use crate::qc::Status;
use crate::strategy::markers::Marker;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The label for an x position of a categorical axis (sites, time
/// points: they sit at 0, 1, 2...; between them, nothing).
pub(crate) fn label_at(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        names.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Lowest blast % the comparison axis shows.
const FLOOR: f64 = 1e-4;

/// The colour of a status: blasts red, negative green, not evaluable grey.
pub(crate) fn status_colour(s: Status) -> RGBColor {
    let c: Rgb = match s {
        Status::Positive => BLAST,
        Status::Negative => [44, 140, 60],
        Status::NotEvaluable => REFERENCE,
    };
    RGBColor(c[0], c[1], c[2])
}

/// Pixel size of the comparison figure for `sites` sites.
pub fn comparison_size(sites: usize) -> (u32, u32) {
    ((200 + 150 * sites as u32).max(520), 460)
}

/// Blast % per site (log scale) with Wilson 95 % intervals, each site's
/// sensitivity (the smallest blast % it could detect) as a dashed line, and
/// its status above it.
pub fn draw_comparison<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &CaseReport,
) -> Result<(), PlotError> {
    font()?;
    area.fill(&WHITE).map_err(draw_error)?;
    let n = report.sites.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Blasts per site (% of viable nucleated cells, 95% CI)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (FLOOR..100.0f64).log_scale())
        .map_err(draw_error)?;
    let names: Vec<String> = report.sites.iter().map(|s| s.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| label_at(&names, *x))
        .y_desc("blasts, % (log)")
        .y_label_formatter(&|y| crate::qc::format_percent(*y))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(draw_error)?;
    for (i, s) in report.sites.iter().enumerate() {
        let x = i as f64;
        let colour = status_colour(s.status);
        if let Some(m) = &s.measures {
            let sensitivity = (100.0 * m.sensitivity).clamp(FLOOR, 100.0);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x - 0.3, sensitivity), (x + 0.3, sensitivity)],
                    4,
                    3,
                    RGBColor(REFERENCE[0], REFERENCE[1], REFERENCE[2]).stroke_width(2),
                ))
                .map_err(draw_error)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    "sensitivity",
                    (x + 0.31, sensitivity),
                    ("sans-serif", 10)
                        .into_font()
                        .color(&RGBColor(REFERENCE[0], REFERENCE[1], REFERENCE[2]))
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(draw_error)?;
            if m.blast_events > 0 {
                let (lo, hi) = (
                    m.blast_ci95[0].clamp(FLOOR, 100.0),
                    m.blast_ci95[1].clamp(FLOOR, 100.0),
                );
                let p = m.blast_percent.clamp(FLOOR, 100.0);
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        x,
                        lo,
                        p,
                        hi,
                        colour.stroke_width(2),
                        12,
                    )))
                    .map_err(draw_error)?;
                chart
                    .draw_series(std::iter::once(Circle::new((x, p), 5, colour.filled())))
                    .map_err(draw_error)?;
            }
        }
        chart
            .draw_series(std::iter::once(Text::new(
                s.status.to_string(),
                (x, 100.0),
                ("sans-serif", 13)
                    .into_font()
                    .color(&colour)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )))
            .map_err(draw_error)?;
    }
    Ok(())
}

/// Pixel size of the small-multiples figure.
pub fn small_multiples_size(sites: usize) -> (u32, u32) {
    (340 * sites.max(1) as u32, 330)
}

/// What the CD19 vs CD10 figure of all sites keeps of one site once its
/// columns are released: up to [`LineageSample::MAX_EVENTS`] viable cells
/// (an even stride through the file), with their blast and hematogone
/// flags.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageSample {
    /// CD19 (display scale).
    pub cd19: Vec<f32>,
    /// CD10 (display scale).
    pub cd10: Vec<f32>,
    /// Called blasts.
    pub blasts: Vec<bool>,
    /// CD19+CD10+ cells not called blasts.
    pub hematogones: Vec<bool>,
    /// The display scale.
    pub logicle: crate::transform::Logicle,
}

impl LineageSample {
    /// Most events kept per site.
    pub const MAX_EVENTS: usize = 50_000;

    /// The sample of an automated gating; `None` without CD19 or CD10.
    pub fn of(g: &AutomaticGating) -> Option<LineageSample> {
        let (cd19, cd10) = (
            g.prepared.get(Marker::Cd(19))?,
            g.prepared.get(Marker::Cd(10))?,
        );
        let viable = &g.pregates.viable;
        let members = &g.search.members;
        let n = viable.iter().filter(|v| **v).count();
        let blasts = (0..viable.len())
            .filter(|&i| viable[i] && members[i])
            .count();
        // Half the sample for the blasts, whatever their share, so that a
        // 0.01 % population stays visible and 90 % does not crowd out the
        // rest; the other half evenly through the other cells.
        let half = Self::MAX_EVENTS / 2;
        let blast_stride = blasts.div_ceil(half).max(1);
        let other_stride = (n - blasts).div_ceil(half).max(1);
        let hematogones = g.hematogones();
        let mut s = LineageSample {
            cd19: Vec::new(),
            cd10: Vec::new(),
            blasts: Vec::new(),
            hematogones: Vec::new(),
            logicle: g.prepared.logicle.clone(),
        };
        let (mut kb, mut ko) = (0usize, 0usize);
        for i in (0..viable.len()).filter(|&i| viable[i]) {
            let keep = if members[i] {
                kb += 1;
                (kb - 1) % blast_stride == 0
            } else {
                ko += 1;
                (ko - 1) % other_stride == 0
            };
            if keep {
                s.cd19.push(cd19[i]);
                s.cd10.push(cd10[i]);
                s.blasts.push(g.search.members[i]);
                s.hematogones.push(hematogones[i]);
            }
        }
        Some(s)
    }
}

/// The same CD19 vs CD10 plot (viable cells, one logicle scale) for every
/// analysed site side by side, blasts and hematogones coloured apart.
pub fn draw_small_multiples<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &CaseReport,
    samples: &[Option<LineageSample>],
) -> Result<(), PlotError> {
    area.fill(&WHITE).map_err(draw_error)?;
    let cells = area.split_evenly((1, report.sites.len().max(1)));
    for ((s, sample), cell) in report.sites.iter().zip(samples).zip(&cells) {
        let Some(a) = sample else {
            cell.draw(&Text::new(
                format!("{}: no automated gating", s.name),
                (10, 10),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(draw_error)?;
            continue;
        };
        let plot = Bivariate {
            title: format!("{}: {}", s.name, s.status),
            x: Axis::logicle("CD19", &a.logicle, (-0.05, 1.0)),
            y: Axis::logicle("CD10", &a.logicle, (-0.05, 1.0)),
            xs: &a.cd19,
            ys: &a.cd10,
            parent: None,
            highlights: lineage_highlights(&a.hematogones, &a.blasts),
            gates: Vec::new(),
        };
        draw(cell, &plot)?;
    }
    Ok(())
}

/// Pixel size of the QC figure.
pub fn qc_size(sites: usize) -> (u32, u32) {
    ((240 + 170 * sites as u32).max(560), 400)
}

/// Sample quality per site: debris (% of events), doublets (% of cells),
/// dead cells (% of single cells) and marrow-specific cells (% of viable
/// nucleated non-blast cells), with the debris and marrow-specific limits
/// as dashed lines.
pub fn draw_qc<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &CaseReport,
) -> Result<(), PlotError> {
    font()?;
    area.fill(&WHITE).map_err(draw_error)?;
    let n = report.sites.len().max(1);
    let names: Vec<String> = report.sites.iter().map(|s| s.name.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption("Sample quality per site", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0f64..100.0)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| label_at(&names, *x))
        .y_desc("%")
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(draw_error)?;
    let series: [(&str, Rgb); 4] = [
        ("debris % of events", [140, 100, 60]),
        ("doublets % of cells", [150, 150, 150]),
        ("dead % of single cells", [90, 90, 90]),
        ("marrow-specific %", HEMATOGONE),
    ];
    for (k, (label, c)) in series.iter().enumerate() {
        let colour = RGBColor(c[0], c[1], c[2]);
        let bars: Vec<Rectangle<(f64, f64)>> = report
            .sites
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let m = s.measures.as_ref()?;
                let v = match k {
                    0 => Some(m.debris_percent),
                    1 => m.doublet_percent,
                    2 => m.dead_percent,
                    _ => m.marrow_indicators.map(|x| x.marrow_specific_percent),
                }?;
                let x0 = i as f64 - 0.36 + 0.18 * k as f64;
                Some(Rectangle::new(
                    [(x0, 0.0), (x0 + 0.16, v.clamp(0.0, 100.0))],
                    colour.filled(),
                ))
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(draw_error)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    let limits = [
        (report.limits.max_debris_percent, "necrosis limit"),
        (
            report.limits.min_marrow_specific_percent,
            "hemodilution limit",
        ),
    ];
    for (v, label) in limits {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(-0.5, v), (n as f64 - 0.5, v)],
                4,
                3,
                RGBColor(REFERENCE[0], REFERENCE[1], REFERENCE[2]).stroke_width(1),
            ))
            .map_err(draw_error)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label,
                (n as f64 - 0.52, v),
                ("sans-serif", 10)
                    .into_font()
                    .color(&RGBColor(REFERENCE[0], REFERENCE[1], REFERENCE[2]))
                    .pos(Pos::new(HPos::Right, VPos::Bottom)),
            )))
            .map_err(draw_error)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 11))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw_error)?;
    Ok(())
}
