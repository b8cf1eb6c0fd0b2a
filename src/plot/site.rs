//! The gating path of one site as one figure: FSC/SSC with the debris gate,
//! FSC-A/FSC-H singlets, viability, CD45 vs SSC with the blast region,
//! CD19 vs SSC, CD19 vs CD10, and CD10 against CD34, CD20, CD38, CD45 and
//! CD58 with blasts and hematogones coloured apart. Every outline is the
//! automated gate's own threshold, labelled with its % of parent.

use super::axis::Axis;
use super::bivariate::{Bivariate, GateOutline, draw, lineage_highlights};
use super::outline::{PlotAxes, PlotAxis, Region, outlines};
use super::{PlotError, draw_error};
use crate::analysis::site::AutomaticGating;
use crate::gate::tree::TransformDef;
use crate::qc::format_percent;
use crate::strategy::markers::Marker;
use crate::strategy::pregate::GateRecord;
use crate::transform::Transform;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Size of one panel, pixels.
pub const PANEL: (u32, u32) = (380, 340);
/// Panels per row.
pub const COLUMNS: u32 = 4;

/// One panel of the path.
struct Panel<'a> {
    title: String,
    x: Marker,
    y: Marker,
    /// The events shown (all when `None`).
    parent: Option<&'a [bool]>,
    gates: Vec<GateOutline>,
}

fn axis(g: &AutomaticGating, m: Marker) -> Axis {
    match g.prepared.full_scale.get(&m) {
        Some(&full) => Axis::linear(&m.name(), full, (0.0, 1.0)),
        None => Axis::logicle(&m.name(), &g.prepared.logicle, (-0.05, 1.0)),
    }
}

/// A gate value on a column's own dimension is already a display value.
fn as_displayed(v: f64) -> f64 {
    v
}

/// The outlines of a gate record on the plot of `x` against `y`,
/// labelled with its name and % of parent (an excluded region with the
/// name it is excluded from).
fn record_outlines(
    g: &AutomaticGating,
    transforms: &[(String, TransformDef)],
    record: &GateRecord,
    x: Marker,
    y: Marker,
) -> Vec<GateOutline> {
    let p = &g.prepared;
    let (Some(dx), Some(dy)) = (p.dimension(x), p.dimension(y)) else {
        return Vec::new();
    };
    let logicle = Transform::Logicle(p.logicle.clone());
    let channel_scale = |m: Marker| -> Box<dyn Fn(f64) -> f64 + Sync + '_> {
        match p.full_scale.get(&m) {
            Some(&full) => Box::new(move |v| v / full),
            None => Box::new(|v| logicle.apply(v)),
        }
    };
    let (cx, cy) = (channel_scale(x), channel_scale(y));
    let axes = PlotAxes {
        x: PlotAxis {
            dimension: dx,
            display: &as_displayed,
            channel_display: Some(&*cx),
        },
        y: PlotAxis {
            dimension: dy,
            display: &as_displayed,
            channel_display: Some(&*cy),
        },
        transforms,
    };
    // One label per region kind: several shapes of one gate (the blast
    // clusters' ellipses) are one gate.
    let mut out: Vec<GateOutline> = Vec::new();
    let mut labelled: Vec<Region> = Vec::new();
    for (region, shape) in outlines(&axes, &record.exported) {
        let label = if labelled.contains(&region) {
            String::new()
        } else {
            labelled.push(region);
            match region {
                Region::Kept => format!(
                    "{} {}",
                    record.name,
                    format_percent(record.percent_of_parent)
                ),
                Region::Excluded => format!("not {}", record.name),
            }
        };
        out.push(GateOutline { label, shape });
    }
    out
}

/// The panels this site's markers allow: one per recorded gate with a
/// view, showing the gate's parent population with the gate's own
/// Gating-ML shapes (as FlowJo shows a gate), then CD10 against the
/// maturation markers among the B lineage.
fn panels<'a>(g: &'a AutomaticGating, site: &str) -> Vec<Panel<'a>> {
    let has = |m: Marker| g.prepared.get(m).is_some();
    let transforms = g.prepared.transforms();
    let mut out = Vec::new();
    for r in g.pregates.records.iter().chain([&g.search.record]) {
        let Some(view) = r.view.filter(|v| has(v.x) && has(v.y)) else {
            continue;
        };
        out.push(Panel {
            title: format!("{site}: {}", r.name),
            x: view.x,
            y: view.y,
            parent: r.parent.as_deref().and_then(|name| g.pregates.mask(name)),
            gates: record_outlines(g, &transforms, r, view.x, view.y),
        });
    }
    for m in [34, 20, 38, 45, 58] {
        let (x, y) = (Marker::Cd(m), Marker::Cd(10));
        if has(x) && has(y) {
            out.push(Panel {
                title: format!("{site}: CD19+ cells, CD{m} vs CD10"),
                x,
                y,
                parent: Some(&g.pregates.b_lineage),
                gates: Vec::new(),
            });
        }
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
    let empty: Vec<f32> = Vec::new();
    for (panel, cell) in panels.iter().zip(&cells) {
        // Blasts and hematogones coloured on every panel: back-gated
        // onto scatter, they show what the early gates kept of them.
        let highlights = lineage_highlights(&hematogones, &g.search.members);
        let plot = Bivariate {
            title: panel.title.clone(),
            x: axis(g, panel.x),
            y: axis(g, panel.y),
            xs: g.prepared.get(panel.x).unwrap_or(&empty),
            ys: g.prepared.get(panel.y).unwrap_or(&empty),
            parent: panel.parent,
            highlights,
            gates: panel.gates.clone(),
        };
        draw(cell, &plot)?;
    }
    Ok(())
}
