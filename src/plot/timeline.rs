//! The patient's course at a glance: MRD per time point and site on a log
//! scale. A quantifiable MRD is a filled dot with its 95 % interval, one
//! below the LLOQ an open dot, a NEGATIVE site a downward triangle at the
//! LOD it reached (the disease, if any, is below it), and a NOT EVALUABLE
//! site a grey band over the whole axis with no point at all: it must not
//! look like a negative. A level the panel can only bound from below
//! (CD19-negative blasts it cannot see) carries an upward triangle beside
//! its dot. Each site carries short marks at its LOD (dashed) and LLOQ
//! (solid).

use super::case_figures::{label_at, status_colour};
use super::colour::REFERENCE;
use super::{PlotError, draw_error, font};
use crate::analysis::follow::{FollowReport, MrdLevel, MrdSite};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Lowest MRD % the axis shows (10^-6 of cells).
const FLOOR: f64 = 1e-4;

/// Pixel size of the timeline for `timepoints` time points.
pub fn timeline_size(timepoints: usize) -> (u32, u32) {
    ((220 + 170 * timepoints as u32).max(640), 520)
}

/// Horizontal offset of site `j` of `k` within its time point.
fn offset(j: usize, k: usize) -> f64 {
    let width = 0.7f64.min(0.18 * k as f64);
    if k <= 1 {
        0.0
    } else {
        -width / 2.0 + width * j as f64 / (k - 1) as f64
    }
}

/// Where a site sits on the y axis: its MRD when found, its LOD when
/// negative, nowhere when not evaluable.
fn y_of(s: &MrdSite) -> Option<f64> {
    match s.mrd_level {
        MrdLevel::MrdPositive | MrdLevel::PositiveBelowLloq => s.mrd_percent,
        MrdLevel::Negative => s.lod_percent,
        MrdLevel::NotEvaluable => None,
    }
    .map(|y| y.clamp(FLOOR, 100.0))
}

/// Draws the timeline of a course.
pub fn draw_timeline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &FollowReport,
) -> Result<(), PlotError> {
    font()?;
    area.fill(&WHITE).map_err(draw_error)?;
    let (body, legend) = area.split_vertically(area.dim_in_pixel().1 - 40);
    let n = report.timepoints.len().max(1);
    let mut chart = ChartBuilder::on(&body)
        .caption(
            "MRD per time point (% of viable nucleated cells, log)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (FLOOR..100.0f64).log_scale())
        .map_err(draw_error)?;
    let labels: Vec<String> = report
        .timepoints
        .iter()
        .map(|t| format!("{} · {}", t.label, t.date))
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| label_at(&labels, *x))
        .y_desc("MRD, % (log)")
        .y_label_formatter(&|y| crate::qc::format_percent(*y))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(draw_error)?;
    let grey = RGBColor(REFERENCE[0], REFERENCE[1], REFERENCE[2]);
    // Each site's path through the course (sites of the same name).
    let mut names: Vec<&str> = Vec::new();
    for t in &report.timepoints {
        for s in &t.sites {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
    }
    for name in &names {
        let path: Vec<(f64, f64)> = report
            .timepoints
            .iter()
            .enumerate()
            .filter_map(|(t, tp)| {
                let k = tp.sites.len();
                let (j, s) = tp.sites.iter().enumerate().find(|(_, s)| s.name == *name)?;
                Some((t as f64 + offset(j, k), y_of(s)?))
            })
            .collect();
        chart
            .draw_series(DashedLineSeries::new(
                path,
                3,
                4,
                grey.mix(0.6).stroke_width(1),
            ))
            .map_err(draw_error)?;
    }
    for (t, tp) in report.timepoints.iter().enumerate() {
        let k = tp.sites.len();
        for (j, s) in tp.sites.iter().enumerate() {
            let x = t as f64 + offset(j, k);
            let colour = status_colour(s.status);
            let half = 0.07;
            chart
                .draw_series(std::iter::once(Text::new(
                    s.name.clone(),
                    (x, FLOOR * 1.4),
                    ("sans-serif", 10)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(draw_error)?;
            if s.mrd_level == MrdLevel::NotEvaluable {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - half, FLOOR), (x + half, 100.0)],
                        grey.mix(0.25).filled(),
                    )))
                    .map_err(draw_error)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        "NOT EVALUABLE",
                        (x, 30.0),
                        ("sans-serif", 10)
                            .into_font()
                            .color(&grey)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .map_err(draw_error)?;
                continue;
            }
            for (level, dashed) in [(s.lod_percent, true), (s.lloq_percent, false)] {
                let Some(y) = level.map(|y| y.clamp(FLOOR, 100.0)) else {
                    continue;
                };
                let line = vec![(x - half, y), (x + half, y)];
                if dashed {
                    chart
                        .draw_series(DashedLineSeries::new(line, 3, 2, grey.stroke_width(1)))
                        .map_err(draw_error)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(line, grey.stroke_width(1)))
                        .map_err(draw_error)?;
                }
            }
            let Some(y) = y_of(s) else { continue };
            match s.mrd_level {
                MrdLevel::Negative => {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            "▼",
                            (x, y),
                            ("sans-serif", 14)
                                .into_font()
                                .color(&colour)
                                .pos(Pos::new(HPos::Center, VPos::Top)),
                        )))
                        .map_err(draw_error)?;
                }
                _ => {
                    if let Some([lo, hi]) = s.mrd_ci95 {
                        chart
                            .draw_series(std::iter::once(ErrorBar::new_vertical(
                                x,
                                lo.clamp(FLOOR, 100.0),
                                y,
                                hi.clamp(FLOOR, 100.0),
                                colour.stroke_width(2),
                                8,
                            )))
                            .map_err(draw_error)?;
                    }
                    let style = if s.mrd_level == MrdLevel::MrdPositive {
                        colour.filled()
                    } else {
                        WHITE.filled()
                    };
                    chart
                        .draw_series([
                            Circle::new((x, y), 5, style),
                            Circle::new((x, y), 5, colour.stroke_width(2)),
                        ])
                        .map_err(draw_error)?;
                    // A level the panel can only bound from below: the
                    // disease may be higher.
                    if s.mrd_percent_is_lower_bound {
                        chart
                            .draw_series(std::iter::once(
                                EmptyElement::at((x, y))
                                    + Text::new(
                                        "▲",
                                        (9, 0),
                                        ("sans-serif", 14)
                                            .into_font()
                                            .color(&colour)
                                            .pos(Pos::new(HPos::Left, VPos::Center)),
                                    ),
                            ))
                            .map_err(draw_error)?;
                    }
                }
            }
        }
        chart
            .draw_series(std::iter::once(Text::new(
                tp.status.to_string(),
                (t as f64, 100.0),
                ("sans-serif", 13)
                    .into_font()
                    .color(&status_colour(tp.status))
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )))
            .map_err(draw_error)?;
    }
    for (line, y) in [
        (
            "● MRD (≥ LLOQ, 95% CI)   ○ positive below LLOQ   ▲ beside a dot: a lower bound (blasts the panel cannot see)",
            4,
        ),
        (
            "▼ negative at the LOD reached   grey band: NOT EVALUABLE (no result)   marks: LOD dashed, LLOQ solid",
            20,
        ),
    ] {
        legend
            .draw(&Text::new(
                line,
                (14, y),
                ("sans-serif", 12).into_font().color(&BLACK),
            ))
            .map_err(draw_error)?;
    }
    Ok(())
}
