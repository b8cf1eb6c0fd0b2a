//! The gating path of one site as one figure: FSC/SSC with the debris gate,
//! FSC-A/FSC-H singlets, viability, CD45 vs SSC with the blast region,
//! CD19 vs SSC, CD19 vs CD10, and CD10 against CD34, CD20, CD38, CD45 and
//! CD58 with blasts and hematogones coloured apart. Every outline is the
//! automated gate's own threshold, labelled with its % of parent.

use super::axis::Axis;
use super::bivariate::{Bivariate, GateOutline, Shape, draw, lineage_highlights};
use super::{PlotError, draw_error};
use crate::analysis::site::AutomaticGating;
use crate::qc::format_percent;
use crate::strategy::markers::Marker;
use crate::strategy::pregate::{GateRecord, names};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Size of one panel, pixels.
pub const PANEL: (u32, u32) = (380, 340);
/// Panels per row.
pub const COLUMNS: u32 = 4;

/// Open bound of a rectangle (reaches the plot's edge).
const OPEN: f64 = 1e6;

fn record<'a>(records: &'a [GateRecord], name: &str) -> Option<&'a GateRecord> {
    records.iter().find(|r| r.name == name)
}

fn outline(
    records: &[GateRecord],
    name: &str,
    shape: impl FnOnce(&[f64]) -> Option<Shape>,
) -> Option<GateOutline> {
    let r = record(records, name)?;
    Some(GateOutline {
        label: format!("{} {}", r.name, format_percent(r.percent_of_parent)),
        shape: shape(&r.thresholds)?,
    })
}

/// One panel of the path.
struct Panel<'a> {
    title: String,
    x: Marker,
    y: Marker,
    parent: &'a [bool],
    gates: Vec<GateOutline>,
    coloured: bool,
}

fn axis(g: &AutomaticGating, m: Marker) -> Axis {
    match g.prepared.full_scale.get(&m) {
        Some(&full) => Axis::linear(&m.name(), full, (0.0, 1.0)),
        None => Axis::logicle(&m.name(), &g.prepared.logicle, (-0.05, 1.0)),
    }
}

/// The panels this site's markers allow.
fn panels<'a>(g: &'a AutomaticGating, site: &str) -> Vec<Panel<'a>> {
    let p = &g.pregates;
    let r = &p.records;
    let has = |m: Marker| g.prepared.get(m).is_some();
    let mut out = Vec::new();
    let mut add = |title: &str,
                   x: Marker,
                   y: Marker,
                   parent: &'a [bool],
                   gates: Vec<Option<GateOutline>>,
                   coloured: bool| {
        if has(x) && has(y) {
            out.push(Panel {
                title: format!("{site}: {title}"),
                x,
                y,
                parent,
                gates: gates.into_iter().flatten().collect(),
                coloured,
            });
        }
    };
    let above = |t: &[f64]| {
        t.first().map(|&c| Shape::Rect {
            x: (c, OPEN),
            y: (-OPEN, OPEN),
        })
    };
    add(
        "debris",
        Marker::FscA,
        Marker::SscA,
        &p.stable,
        vec![outline(r, names::CELLS, above)],
        false,
    );
    add(
        "singlets",
        Marker::FscA,
        Marker::FscH,
        &p.cells,
        vec![outline(r, names::SINGLETS, |t| {
            t.first()
                .map(|&c| Shape::Polygon(vec![(0.0, 0.0), (1.5, 1.5 * c), (1.5, 2.0), (0.0, 2.0)]))
        })],
        false,
    );
    add(
        "viability",
        Marker::Viability,
        Marker::SscA,
        &p.singlets,
        vec![outline(r, names::VIABLE, |t| {
            t.first().map(|&c| Shape::Rect {
                x: (-OPEN, c),
                y: (-OPEN, OPEN),
            })
        })],
        false,
    );
    add(
        "CD45 vs SSC",
        Marker::Cd(45),
        Marker::SscA,
        &p.viable,
        vec![outline(r, names::BLAST_REGION, |t| match t {
            [c, s, ..] if c.is_finite() && s.is_finite() => Some(Shape::Rect {
                x: (-OPEN, *c),
                y: (-OPEN, *s),
            }),
            _ => None,
        })],
        true,
    );
    add(
        "B lineage",
        Marker::Cd(19),
        Marker::SscA,
        &p.viable,
        vec![outline(r, names::CD19, |t| match t {
            [c, s, ..] => Some(Shape::Rect {
                x: (*c, OPEN),
                y: (-OPEN, s.min(OPEN)),
            }),
            _ => None,
        })],
        true,
    );
    let cd19_cut = record(r, names::CD19).and_then(|g| g.thresholds.first().copied());
    add(
        "CD19 vs CD10",
        Marker::Cd(19),
        Marker::Cd(10),
        &p.viable,
        vec![outline(r, names::CD19_CD10, |t| {
            Some(Shape::Rect {
                x: (cd19_cut?, OPEN),
                y: (*t.first()?, OPEN),
            })
        })],
        true,
    );
    for m in [34, 20, 38, 45, 58] {
        add(
            &format!("CD19+ cells, CD{m} vs CD10"),
            Marker::Cd(m),
            Marker::Cd(10),
            &p.b_lineage,
            Vec::new(),
            true,
        );
    }
    out
}

/// Number of panels drawn for a site.
pub fn panel_count(g: &AutomaticGating) -> usize {
    panels(g, "").len()
}

/// Pixel size of a site's figure.
pub fn figure_size(g: &AutomaticGating) -> (u32, u32) {
    let rows = (panel_count(g) as u32).div_ceil(COLUMNS).max(1);
    (PANEL.0 * COLUMNS, PANEL.1 * rows)
}

/// Draws the gating path of `site` into `area` (split into panels).
pub fn draw_gating_path<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    g: &AutomaticGating,
    site: &str,
) -> Result<(), PlotError> {
    area.fill(&WHITE).map_err(draw_error)?;
    let panels = panels(g, site);
    let rows = (panels.len() as u32).div_ceil(COLUMNS).max(1) as usize;
    let cells = area.split_evenly((rows, COLUMNS as usize));
    let hematogones = g.hematogones();
    let empty: Vec<f64> = Vec::new();
    for (panel, cell) in panels.iter().zip(&cells) {
        let highlights = if panel.coloured {
            lineage_highlights(&hematogones, &g.search.members)
        } else {
            Vec::new()
        };
        let plot = Bivariate {
            title: panel.title.clone(),
            x: axis(g, panel.x),
            y: axis(g, panel.y),
            xs: g.prepared.get(panel.x).unwrap_or(&empty),
            ys: g.prepared.get(panel.y).unwrap_or(&empty),
            parent: Some(panel.parent),
            highlights,
            gates: panel.gates.clone(),
        };
        draw(cell, &plot)?;
    }
    Ok(())
}
