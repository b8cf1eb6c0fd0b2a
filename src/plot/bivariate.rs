//! One bivariate plot: a pseudocolour density of the parent population,
//! chosen populations in their own colours over it, gate outlines labelled
//! with name and % of parent, and axes with ticks in data units.
//!
//! The layout is fixed in pixels ([`Frame`]), so a test (or a reader) can
//! tell exactly where a display value lands.

use super::axis::Axis;
use super::colour::{GATE, Rgb, pseudocolour, shade};
use super::grid::DensityGrid;
use super::{PlotError, draw_error, font};
use plotters::coord::Shift;
use plotters::element::BitMapElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A population drawn in its own colour.
#[derive(Debug, Clone)]
pub struct Highlight<'a> {
    /// Name (for the legend).
    pub name: String,
    /// Its events.
    pub members: &'a [bool],
    /// Its colour.
    pub colour: Rgb,
}

/// Hematogones (blue) and blasts (red), in that drawing order.
pub fn lineage_highlights<'a>(hematogones: &'a [bool], blasts: &'a [bool]) -> Vec<Highlight<'a>> {
    vec![
        Highlight {
            name: "hematogones".into(),
            members: hematogones,
            colour: super::colour::HEMATOGONE,
        },
        Highlight {
            name: "blasts".into(),
            members: blasts,
            colour: super::colour::BLAST,
        },
    ]
}

/// The shape of a gate on the plot, in display coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A rectangle; infinite bounds reach the plot's edge.
    Rect {
        /// x from, to.
        x: (f64, f64),
        /// y from, to.
        y: (f64, f64),
    },
    /// A closed polygon.
    Polygon(Vec<(f64, f64)>),
}

/// A gate drawn on a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct GateOutline {
    /// Label, e.g. "CD19+ 12.5%".
    pub label: String,
    /// Where it is.
    pub shape: Shape,
}

/// Everything one plot shows.
#[derive(Debug, Clone)]
pub struct Bivariate<'a> {
    /// Title above the plot.
    pub title: String,
    /// x axis.
    pub x: Axis,
    /// y axis.
    pub y: Axis,
    /// x values of every event (display scale).
    pub xs: &'a [f32],
    /// y values of every event (display scale).
    pub ys: &'a [f32],
    /// The events shown (all when `None`).
    pub parent: Option<&'a [bool]>,
    /// Populations in their own colours, drawn in order over the density.
    pub highlights: Vec<Highlight<'a>>,
    /// Gate outlines.
    pub gates: Vec<GateOutline>,
}

/// Pixel layout of a plot inside an area of `width x height`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Area width.
    pub width: u32,
    /// Area height.
    pub height: u32,
}

/// Margins around the plotting rectangle: left, right, top, bottom.
const MARGIN: (u32, u32, u32, u32) = (64, 14, 40, 46);

/// Density cell size in pixels.
const CELL: u32 = 2;

impl Frame {
    /// The plotting rectangle: left, top, right, bottom (pixels, right and
    /// bottom exclusive).
    pub fn plot_rect(&self) -> (i32, i32, i32, i32) {
        (
            MARGIN.0 as i32,
            MARGIN.2 as i32,
            (self.width.saturating_sub(MARGIN.1)) as i32,
            (self.height.saturating_sub(MARGIN.3)) as i32,
        )
    }

    /// Pixel of a display point.
    pub fn pixel(&self, x: &Axis, y: &Axis, (px, py): (f64, f64)) -> (i32, i32) {
        let (l, t, r, b) = self.plot_rect();
        let fx = (px - x.range.0) / (x.range.1 - x.range.0);
        let fy = (py - y.range.0) / (y.range.1 - y.range.0);
        let clamp = |v: f64| v.clamp(-1e6, 1e6);
        (
            l + clamp(fx * (r - l) as f64).round() as i32,
            b - clamp(fy * (b - t) as f64).round() as i32,
        )
    }
}

/// The density image of the plotting rectangle, RGB, row 0 at the top.
fn density_image(plot: &Bivariate<'_>, w: u32, h: u32) -> Vec<u8> {
    let (gw, gh) = ((w / CELL).max(1) as usize, (h / CELL).max(1) as usize);
    let window = (plot.x.range, plot.y.range);
    let base = DensityGrid::bin(plot.xs, plot.ys, plot.parent, window, (gw, gh));
    let mut cells: Vec<Option<Rgb>> = (0..gw * gh)
        .map(|c| base.level(c).map(pseudocolour))
        .collect();
    for h in &plot.highlights {
        let members: Vec<bool> = match plot.parent {
            Some(p) => h.members.iter().zip(p).map(|(a, b)| *a && *b).collect(),
            None => h.members.to_vec(),
        };
        let g = DensityGrid::bin(plot.xs, plot.ys, Some(&members), window, (gw, gh));
        for (c, cell) in cells.iter_mut().enumerate() {
            if let Some(level) = g.level(c) {
                *cell = Some(shade(h.colour, level));
            }
        }
    }
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    for py in 0..h {
        // Grid row 0 is the bottom of the plot.
        let gy = ((h - 1 - py) as usize * gh / h as usize).min(gh - 1);
        for px in 0..w {
            let gx = (px as usize * gw / w as usize).min(gw - 1);
            if let Some(c) = cells[gy * gw + gx] {
                let o = ((py * w + px) * 3) as usize;
                rgb[o..o + 3].copy_from_slice(&c);
            }
        }
    }
    rgb
}

fn colour(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// Draws `plot` into `area` (any plotters backend).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &Bivariate<'_>,
) -> Result<(), PlotError> {
    font()?;
    let (width, height) = area.dim_in_pixel();
    let frame = Frame { width, height };
    let (l, t, r, b) = frame.plot_rect();
    let (w, h) = ((r - l).max(1) as u32, (b - t).max(1) as u32);
    area.fill(&WHITE).map_err(draw_error)?;
    let image = BitMapElement::with_owned_buffer((l, t), (w, h), density_image(plot, w, h))
        .ok_or_else(|| PlotError::Draw("density image of the wrong size".into()))?;
    area.draw(&image).map_err(draw_error)?;
    let black = BLACK.stroke_width(1);
    area.draw(&Rectangle::new([(l, t), (r, b)], black))
        .map_err(draw_error)?;
    let small = ("sans-serif", 11).into_font().color(&BLACK);
    let title_font = ("sans-serif", 14).into_font().color(&BLACK);
    // x ticks.
    for &p in &plot.x.minor {
        let (x, _) = frame.pixel(&plot.x, &plot.y, (p, plot.y.range.0));
        if x >= l && x <= r {
            area.draw(&PathElement::new(vec![(x, b), (x, b + 3)], black))
                .map_err(draw_error)?;
        }
    }
    for (p, text) in &plot.x.ticks {
        let (x, _) = frame.pixel(&plot.x, &plot.y, (*p, plot.y.range.0));
        area.draw(&PathElement::new(vec![(x, b), (x, b + 6)], black))
            .map_err(draw_error)?;
        area.draw(&Text::new(
            text.clone(),
            (x, b + 8),
            small.clone().pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(draw_error)?;
    }
    // y ticks.
    for &p in &plot.y.minor {
        let (_, y) = frame.pixel(&plot.x, &plot.y, (plot.x.range.0, p));
        if y >= t && y <= b {
            area.draw(&PathElement::new(vec![(l - 3, y), (l, y)], black))
                .map_err(draw_error)?;
        }
    }
    for (p, text) in &plot.y.ticks {
        let (_, y) = frame.pixel(&plot.x, &plot.y, (plot.x.range.0, *p));
        area.draw(&PathElement::new(vec![(l - 6, y), (l, y)], black))
            .map_err(draw_error)?;
        area.draw(&Text::new(
            text.clone(),
            (l - 8, y),
            small.clone().pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(draw_error)?;
    }
    // Axis titles and plot title.
    area.draw(&Text::new(
        plot.x.label.clone(),
        ((l + r) / 2, height as i32 - 4),
        ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom)),
    ))
    .map_err(draw_error)?;
    area.draw(&Text::new(
        plot.y.label.clone(),
        (4, (t + b) / 2),
        ("sans-serif", 13)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(draw_error)?;
    area.draw(&Text::new(
        plot.title.clone(),
        (l, 6),
        title_font.pos(Pos::new(HPos::Left, VPos::Top)),
    ))
    .map_err(draw_error)?;
    // Legend of the highlighted populations: one line above the plot,
    // right-aligned, clear of the gate labels inside it.
    let mut x_end = r;
    for hl in plot.highlights.iter().rev() {
        let text_w = 7 * hl.name.chars().count() as i32;
        let x = x_end - text_w - 12;
        let y = t - 14;
        area.draw(&Rectangle::new(
            [(x, y), (x + 8, y + 8)],
            colour(hl.colour).filled(),
        ))
        .map_err(draw_error)?;
        area.draw(&Text::new(
            hl.name.clone(),
            (x + 11, y - 2),
            small.clone().pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(draw_error)?;
        x_end = x - 8;
    }
    // Gates: outline clipped to the plot, label at its top-left corner.
    let gate_style = colour(GATE).stroke_width(2);
    for g in &plot.gates {
        let corners: Vec<(f64, f64)> = match &g.shape {
            Shape::Rect { x, y } => vec![(x.0, y.0), (x.1, y.0), (x.1, y.1), (x.0, y.1)],
            Shape::Polygon(p) => p.clone(),
        };
        let pixels: Vec<(f64, f64)> = corners
            .iter()
            .map(|&p| {
                let (x, y) = frame.pixel(&plot.x, &plot.y, p);
                (f64::from(x), f64::from(y))
            })
            .collect();
        let bounds = [f64::from(l), f64::from(r), f64::from(t), f64::from(b)];
        let mut pts: Vec<(i32, i32)> = clip_polygon(pixels, bounds)
            .into_iter()
            .map(|(x, y)| (x.round() as i32, y.round() as i32))
            .collect();
        let Some(first) = pts.first().copied() else {
            continue;
        };
        pts.push(first);
        area.draw(&PathElement::new(pts.clone(), gate_style))
            .map_err(draw_error)?;
        if g.label.is_empty() {
            continue;
        }
        let anchor = pts
            .iter()
            .copied()
            .min_by_key(|&(x, y)| (y, x))
            .unwrap_or((l, t));
        let label = (
            anchor.0.clamp(l + 2, r - 60),
            (anchor.1 + 3).clamp(t + 2, b - 14),
        );
        area.draw(&Text::new(
            g.label.clone(),
            label,
            ("sans-serif", 12)
                .into_font()
                .color(&colour(GATE))
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(draw_error)?;
    }
    Ok(())
}

/// A polygon clipped to the box `[left, right, top, bottom]` (pixels),
/// edge by edge (Sutherland-Hodgman): the part of a gate that is on the
/// plot, with its slopes kept (clamping each vertex would bend a line that
/// leaves the plot).
fn clip_polygon(points: Vec<(f64, f64)>, [left, right, top, bottom]: [f64; 4]) -> Vec<(f64, f64)> {
    type Inside = fn((f64, f64), f64) -> bool;
    type Cross = fn((f64, f64), (f64, f64), f64) -> (f64, f64);
    let at_x: Cross = |a, b, x| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let at_y: Cross = |a, b, y| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    let edges: [(Inside, Cross, f64); 4] = [
        (|p, v| p.0 >= v, at_x, left),
        (|p, v| p.0 <= v, at_x, right),
        (|p, v| p.1 >= v, at_y, top),
        (|p, v| p.1 <= v, at_y, bottom),
    ];
    let mut out = points;
    for (inside, cross, v) in edges {
        let input = std::mem::take(&mut out);
        for (k, &b) in input.iter().enumerate() {
            let a = input[(k + input.len() - 1) % input.len()];
            match (inside(a, v), inside(b, v)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cross(a, b, v)),
                (false, true) => out.extend([cross(a, b, v), b]),
                (false, false) => {}
            }
        }
    }
    out
}
