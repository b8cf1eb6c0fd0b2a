//! `gating/case.wsp`: a FlowJo 10 workspace of the case, so a FlowJo user
//! opens every site with the automated gate tree on it.
//!
//! FlowJo keeps gates in channel units (before its display transforms) and
//! names a compensated channel `Comp-<channel>` against the sample's
//! `spilloverMatrix`. Each automated gate is written as FlowJo can hold it:
//! - a rectangle on channels: exact (its ends taken back through the
//!   scale it was found on, which is monotone);
//! - the singlet ratio (FSC-H / FSC-A): the wedge above its line as a
//!   polygon on FSC-A and FSC-H, exact for events with FSC-A > 0;
//! - "not in a region" (viability by scatter): the region with
//!   `eventsInside="0"`;
//! - the removed time bins of the flow-stability gate: a comb polygon on
//!   Time and SSC-A holding the kept time ranges, exact;
//! - the blast gate (ellipsoids in many markers, which FlowJo cannot hold):
//!   the convex hull of the ellipsoids' shadows on the gate's view (CD45
//!   vs CD10) as one polygon, an approximation (its annotation says so;
//!   the exact gate is the site's Gating-ML file).

use crate::analysis::site::AutomaticGating;
use crate::gate::gating_ml::esc;
use crate::gate::tree::TransformDef;
use crate::gate::{BoolOp, CompensationRef, Dimension, Gate, GateKind, Interval, Source};
use crate::plot::bivariate::Shape;
use crate::plot::outline::{PlotAxes, PlotAxis};
use crate::strategy::markers::Marker;
use crate::strategy::pregate::GateRecord;
use std::fmt::Write as _;
use std::path::Path;

/// Prefix FlowJo gives compensated channels.
const COMP_PREFIX: &str = "Comp-";

/// A bound beyond any channel value, for polygons standing for open ends.
const FAR: f64 = 1e12;

/// One site's `<Sample>` element of the workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceSample {
    /// 1-based sample id.
    pub id: usize,
    /// The FCS file's name, the sample's name in FlowJo.
    pub file_name: String,
    /// The site's name, which tells apart sites whose files share a name.
    pub site: String,
    /// Event count of the sample node.
    events: usize,
    /// The sample's data set, scales, compensation and keywords.
    head: String,
    /// The gate tree, nested populations.
    populations: String,
}

/// `file://` URI of an absolute path, bytes outside the unreserved set
/// percent-encoded.
fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file://");
    for b in absolute.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            let _ = write!(uri, "%{b:02X}");
        }
    }
    uri
}

/// The FlowJo name of a dimension's channel.
fn parameter_name(d: &Dimension) -> Option<String> {
    match &d.source {
        Source::Channel(c) => Some(match d.compensation {
            CompensationRef::FromFile => format!("{COMP_PREFIX}{c}"),
            _ => c.clone(),
        }),
        Source::Ratio(_) => None,
    }
}

/// What the gates of one site are read through.
struct Scales<'a> {
    transforms: &'a [(String, TransformDef)],
}

impl Scales<'_> {
    fn def(&self, id: &str) -> Option<&TransformDef> {
        self.transforms
            .iter()
            .find(|(t, _)| t == id)
            .map(|(_, d)| d)
    }

    /// A value on dimension `d`'s scale as a channel value.
    fn to_channel(&self, d: &Dimension, v: f64) -> Option<f64> {
        match d.transform.as_deref() {
            None => Some(v),
            Some(id) => match self.def(id)? {
                TransformDef::Scale(t) => Some(t.inverse(v)),
                TransformDef::Ratio { .. } => None,
            },
        }
    }
}

/// A FlowJo gate element, with whether it is exact; a step of a chain
/// (each inside the previous) names its two channels.
struct FlowJoGate {
    xml: String,
    exact: bool,
    step: Option<String>,
}

fn dimension_xml(name: &str, iv: Option<(Option<f64>, Option<f64>)>) -> String {
    let mut attrs = String::new();
    if let Some((min, max)) = iv {
        if let Some(m) = min {
            let _ = write!(attrs, " gating:min=\"{m}\"");
        }
        if let Some(m) = max {
            let _ = write!(attrs, " gating:max=\"{m}\"");
        }
    }
    format!(
        "<gating:dimension{attrs}><data-type:fcs-dimension data-type:name=\"{}\" /></gating:dimension>",
        esc(name)
    )
}

fn polygon_xml(id: &str, x: &str, y: &str, vertices: &[(f64, f64)], inside: bool) -> String {
    let mut s = format!(
        "<gating:PolygonGate eventsInside=\"{}\" gating:id=\"{}\">{}{}",
        u8::from(inside),
        esc(id),
        dimension_xml(x, None),
        dimension_xml(y, None)
    );
    for (vx, vy) in vertices {
        let _ = write!(
            s,
            "<gating:vertex><gating:coordinate data-type:value=\"{vx}\" /><gating:coordinate data-type:value=\"{vy}\" /></gating:vertex>"
        );
    }
    s.push_str("</gating:PolygonGate>");
    s
}

/// A rectangle on channels in channel units.
fn rectangle_xml(
    scales: &Scales,
    id: &str,
    dims: &[Dimension],
    ivs: &[Interval],
    inside: bool,
) -> Option<String> {
    let mut s = format!(
        "<gating:RectangleGate eventsInside=\"{}\" gating:id=\"{}\">",
        u8::from(inside),
        esc(id)
    );
    for (d, iv) in dims.iter().zip(ivs) {
        let name = parameter_name(d)?;
        let end = |v: Option<f64>| -> Option<Option<f64>> {
            match v {
                None => Some(None),
                Some(v) => scales.to_channel(d, v).map(Some),
            }
        };
        s.push_str(&dimension_xml(&name, Some((end(iv.min)?, end(iv.max)?))));
    }
    s.push_str("</gating:RectangleGate>");
    Some(s)
}

/// The singlet ratio `min <= a * numerator / denominator < max` as the
/// wedge polygon on (denominator, numerator) channels.
fn ratio_xml(scales: &Scales, id: &str, ratio_id: &str, iv: &Interval) -> Option<String> {
    let TransformDef::Ratio {
        ratio,
        numerator,
        denominator,
    } = scales.def(ratio_id)?
    else {
        return None;
    };
    if ratio.a <= 0.0 || ratio.b != 0.0 || ratio.c != 0.0 {
        return None;
    }
    let low = iv.min.unwrap_or(0.0) / ratio.a;
    let high = iv.max.map_or(FAR, |m| m / ratio.a);
    // Out to FAR along x; the upper edge is the line of `high` or the top.
    let top = (high * FAR).min(FAR * FAR);
    Some(polygon_xml(
        id,
        denominator,
        numerator,
        &[(0.0, 0.0), (FAR, low * FAR), (FAR, top), (0.0, top)],
        true,
    ))
}

/// Kept ranges of a dimension from which `removed` intervals were taken
/// out, as a comb polygon on (`d`, `other`): each kept range a full-height
/// bar, joined along the bottom edge (zero area, even-odd rule).
fn kept_ranges_xml(
    scales: &Scales,
    id: &str,
    d: &Dimension,
    removed: &[Interval],
    other: &str,
) -> Option<String> {
    let name = parameter_name(d)?;
    let cuts: Vec<(f64, f64)> = removed
        .iter()
        .map(|iv| {
            Some((
                scales.to_channel(d, iv.min.unwrap_or(-FAR))?,
                scales.to_channel(d, iv.max.unwrap_or(FAR))?,
            ))
        })
        .collect::<Option<_>>()?;
    let vertices = comb(cuts);
    Some(polygon_xml(id, &name, other, &vertices, true))
}

/// The comb polygon holding everything but the `removed` ranges of x
/// (any y): a full-height bar per kept range, joined along the bottom.
fn comb(mut removed: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    removed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut kept = Vec::new();
    let mut from = -FAR;
    for (a, b) in removed {
        if a > from {
            kept.push((from, a));
        }
        from = from.max(b);
    }
    kept.push((from, FAR));
    kept.iter()
        .flat_map(|&(a, b)| [(a, -FAR), (a, FAR), (b, FAR), (b, -FAR)])
        .collect()
}

/// The FlowJo gates of one record: one, or for the blast ellipsoids a
/// chain of shadows ([`shadow`]), each inside the previous; none when the
/// gate has no FlowJo form.
fn record_gates(
    scales: &Scales,
    a: &AutomaticGating,
    record: &GateRecord,
    id: &str,
) -> Vec<FlowJoGate> {
    let Some(last) = record.exported.last() else {
        return Vec::new();
    };
    let operand = |name: &str| record.exported.iter().find(|g| g.id == name);
    let exact = |xml: Option<String>| {
        xml.map(|xml| FlowJoGate {
            xml,
            exact: true,
            step: None,
        })
        .into_iter()
        .collect()
    };
    match &last.kind {
        GateKind::Rectangle {
            dimensions,
            intervals,
        } => {
            if let ([d], [iv]) = (&dimensions[..], &intervals[..])
                && let Source::Ratio(r) = &d.source
            {
                return exact(ratio_xml(scales, id, r, iv));
            }
            exact(rectangle_xml(scales, id, dimensions, intervals, true))
        }
        GateKind::Boolean { op, operands } => {
            let regions: Vec<&Gate> = operands.iter().filter_map(|o| operand(&o.gate)).collect();
            let excluded = *op == BoolOp::Not || operands.iter().all(|o| o.complement);
            if excluded && regions.len() == 1 {
                if let GateKind::Rectangle {
                    dimensions,
                    intervals,
                } = &regions[0].kind
                {
                    return exact(rectangle_xml(scales, id, dimensions, intervals, false));
                }
                return Vec::new();
            }
            if excluded {
                // Several removed ranges of one dimension (time bins).
                let mut dim = None;
                let mut removed = Vec::new();
                for g in &regions {
                    let GateKind::Rectangle {
                        dimensions,
                        intervals,
                    } = &g.kind
                    else {
                        return Vec::new();
                    };
                    let ([d], [iv]) = (&dimensions[..], &intervals[..]) else {
                        return Vec::new();
                    };
                    if dim.is_some_and(|other: &Dimension| other != d) {
                        return Vec::new();
                    }
                    dim = Some(d);
                    removed.push(*iv);
                }
                let other = a
                    .prepared
                    .dimension(Marker::SscA)
                    .and_then(|d| parameter_name(&d));
                return match (dim, other) {
                    (Some(d), Some(other)) => {
                        exact(kept_ranges_xml(scales, id, d, &removed, &other))
                    }
                    _ => Vec::new(),
                };
            }
            shadow(a, scales, record, &regions, id)
        }
        GateKind::Ellipsoid { .. } => shadow(a, scales, record, &[last], id),
        GateKind::Polygon { .. } | GateKind::Quadrant { .. } => Vec::new(),
    }
}

/// The blast ellipsoids (in many markers) as FlowJo can hold them: a
/// chain of polygons, each the convex hull of the ellipsoids' shadows on
/// two of their markers (the record's view first, then the others in
/// pairs), each applied inside the previous. Every shadow holds the
/// ellipsoids' events, so the chain holds a superset of them: as tight as
/// the call on well-separated blasts, looser (up to about twice the
/// events on simulated messy marrow) where they border the hematogones.
fn shadow(
    a: &AutomaticGating,
    scales: &Scales,
    record: &GateRecord,
    gates: &[&Gate],
    id: &str,
) -> Vec<FlowJoGate> {
    let Some(GateKind::Ellipsoid { dimensions, .. }) = gates.first().map(|g| &g.kind) else {
        return Vec::new();
    };
    // The view's dimensions first, then the rest in order.
    let view: Vec<&Dimension> = record
        .view
        .map(|v| {
            [v.x, v.y]
                .iter()
                .filter_map(|&m| a.prepared.dimension(m))
                .filter_map(|d| dimensions.iter().find(|e| **e == d))
                .collect()
        })
        .unwrap_or_default();
    let mut order: Vec<&Dimension> = view.clone();
    order.extend(dimensions.iter().filter(|d| !view.contains(d)));
    let mut pairs: Vec<(&Dimension, &Dimension)> = order
        .chunks(2)
        .filter_map(|c| match c {
            [x, y] => Some((*x, *y)),
            _ => None,
        })
        .collect();
    if order.len() % 2 == 1
        && let (Some(last), Some(first)) = (order.last(), order.first())
        && last != first
    {
        pairs.push((last, first));
    }
    pairs
        .into_iter()
        .enumerate()
        .filter_map(|(k, (dx, dy))| shadow_on(scales, gates, dx, dy, &format!("{id}_{}", k + 1)))
        .collect()
}

/// The convex hull of the ellipsoids' shadows on `dx` x `dy`, in channel
/// units.
fn shadow_on(
    scales: &Scales,
    gates: &[&Gate],
    dx: &Dimension,
    dy: &Dimension,
    id: &str,
) -> Option<FlowJoGate> {
    let same = |v: f64| v;
    let axes = PlotAxes {
        x: PlotAxis {
            dimension: dx.clone(),
            display: &same,
            channel_display: None,
        },
        y: PlotAxis {
            dimension: dy.clone(),
            display: &same,
            channel_display: None,
        },
        transforms: scales.transforms,
    };
    let points: Vec<(f64, f64)> = gates
        .iter()
        .filter_map(|g| match axes.shape(g) {
            Some(Shape::Polygon(p)) => Some(p),
            _ => None,
        })
        .flatten()
        .collect();
    let hull = convex_hull(points);
    if hull.len() < 3 {
        return None;
    }
    let vertices: Vec<(f64, f64)> = hull
        .iter()
        .map(|&(x, y)| Some((scales.to_channel(dx, x)?, scales.to_channel(dy, y)?)))
        .collect::<Option<_>>()?;
    let (nx, ny) = (parameter_name(dx)?, parameter_name(dy)?);
    Some(FlowJoGate {
        xml: polygon_xml(id, &nx, &ny, &vertices, true),
        exact: false,
        step: Some(format!("{nx} vs {ny}")),
    })
}

/// The `<Sample>` element of one site: its file, scales, compensation and
/// the automated gate tree as nested populations.
pub fn sample(id: usize, site: &str, fcs: &Path, a: &AutomaticGating) -> WorkspaceSample {
    let transforms = a.prepared.transforms();
    let scales = Scales {
        transforms: &transforms,
    };
    let file_name = fcs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut s = String::from("    <Sample>\n");
    let _ = writeln!(
        s,
        "      <DataSet uri=\"{}\" sampleID=\"{id}\" />",
        esc(&file_uri(fcs))
    );
    // Scales: one per channel the gates read, as the analysis displayed it.
    s.push_str("      <Transformations>\n");
    for &marker in a.prepared.channels.keys() {
        let Some(d) = a.prepared.dimension(marker) else {
            continue;
        };
        let (Some(name), Some(t)) = (parameter_name(&d), d.transform.as_deref()) else {
            continue;
        };
        let param = format!("<data-type:parameter data-type:name=\"{}\" />", esc(&name));
        match scales.def(t) {
            Some(TransformDef::Scale(crate::transform::Transform::Linear(l))) => {
                let _ = writeln!(
                    s,
                    "        <transforms:linear transforms:minRange=\"{}\" transforms:maxRange=\"{}\">{param}</transforms:linear>",
                    -l.a + 0.0,
                    l.t
                );
            }
            Some(TransformDef::Scale(crate::transform::Transform::Logicle(l))) => {
                let _ = writeln!(
                    s,
                    "        <transforms:logicle transforms:length=\"256\" transforms:T=\"{}\" transforms:W=\"{}\" transforms:M=\"{}\" transforms:A=\"{}\">{param}</transforms:logicle>",
                    l.t, l.w, l.m, l.a
                );
            }
            _ => {}
        }
    }
    s.push_str("      </Transformations>\n");
    if let Some(sp) = &a.prepared.spillover {
        let _ = writeln!(
            s,
            "      <transforms:spilloverMatrix spectral=\"0\" prefix=\"{COMP_PREFIX}\" name=\"Acquisition-defined\" suffix=\"\" id=\"spill-{id}\">"
        );
        s.push_str("        <data-type:parameters>");
        for c in &sp.channels {
            let _ = write!(
                s,
                "<data-type:parameter data-type:name=\"{}\" userProvidedCompInfix=\"{}\" />",
                esc(c),
                esc(&format!("{COMP_PREFIX}{c}"))
            );
        }
        s.push_str("</data-type:parameters>\n");
        for (c, row) in sp.channels.iter().zip(&sp.matrix) {
            let _ = write!(
                s,
                "        <transforms:spillover data-type:parameter=\"{}\">",
                esc(c)
            );
            for (c2, v) in sp.channels.iter().zip(row) {
                let _ = write!(
                    s,
                    "<transforms:coefficient data-type:parameter=\"{}\" transforms:value=\"{v}\" />",
                    esc(c2)
                );
            }
            s.push_str("</transforms:spillover>\n");
        }
        s.push_str("      </transforms:spilloverMatrix>\n");
    }
    let _ = writeln!(
        s,
        "      <Keywords><Keyword name=\"$FIL\" value=\"{}\" /><Keyword name=\"$TOT\" value=\"{}\" /></Keywords>",
        esc(&file_name),
        a.prepared.events
    );
    let records: Vec<&GateRecord> = a.records().filter(|r| r.id.is_some()).collect();
    let mut populations_xml = String::new();
    populations(&mut populations_xml, &scales, a, &records, None, 4);
    WorkspaceSample {
        id,
        file_name,
        site: site.to_string(),
        events: a.prepared.events,
        head: s,
        populations: populations_xml,
    }
}

/// Writes the populations whose exported parent is `parent`, nested.
fn populations(
    s: &mut String,
    scales: &Scales,
    a: &AutomaticGating,
    records: &[&GateRecord],
    parent: Option<&str>,
    depth: usize,
) {
    let children: Vec<&&GateRecord> = records
        .iter()
        .filter(|r| r.exported.last().and_then(|g| g.parent.as_deref()) == parent)
        .collect();
    if children.is_empty() {
        return;
    }
    let pad = "  ".repeat(depth);
    let _ = writeln!(s, "{pad}<Subpopulations>");
    for r in children {
        let Some(id) = r.id.as_deref() else {
            continue;
        };
        let gates = record_gates(scales, a, r, id);
        let steps = gates.len();
        // A chain: each step a population inside the previous; the last
        // carries the record's name, count and children.
        let mut inner = pad.clone();
        for (k, g) in gates.iter().enumerate() {
            let last = k + 1 == steps;
            let name = match (&g.step, last) {
                (Some(step), false) => format!("{} ({step})", r.name),
                _ => r.name.clone(),
            };
            let annotation = if g.exact {
                ""
            } else {
                "approximation of an ellipsoid gate in many markers by its shadows on pairs of them, each inside the previous; the exact gate is the site's Gating-ML file"
            };
            let _ = writeln!(
                s,
                "{inner}  <Population name=\"{}\" annotation=\"{}\" owningGroup=\"\" expanded=\"1\" count=\"{}\">",
                esc(&name),
                esc(annotation),
                if last { r.events } else { 0 }
            );
            let _ = writeln!(
                s,
                "{inner}    <Gate gating:id=\"{}\">",
                esc(&format!("{id}_{k}"))
            );
            let _ = writeln!(s, "{inner}      {}", g.xml);
            let _ = writeln!(s, "{inner}    </Gate>");
            if last {
                populations(s, scales, a, records, Some(id), depth + 2 + 2 * k);
            } else {
                let _ = writeln!(s, "{inner}    <Subpopulations>");
                inner.push_str("    ");
            }
        }
        for k in (0..steps).rev() {
            let depth_pad = format!("{pad}{}", "    ".repeat(k));
            let _ = writeln!(s, "{depth_pad}  </Population>");
            if k > 0 {
                let outer = "    ".repeat(k - 1);
                let _ = writeln!(s, "{pad}{outer}    </Subpopulations>");
            }
        }
    }
    let _ = writeln!(s, "{pad}</Subpopulations>");
}

/// The workspace of `samples` (in order), every sample in "All Samples".
pub fn workspace(samples: &[WorkspaceSample]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Workspace version=\"20.0\" flowJoVersion=\"10.8.1\" xmlns:gating=\"http://www.isac-net.org/std/Gating-ML/v2.0/gating\" xmlns:transforms=\"http://www.isac-net.org/std/Gating-ML/v2.0/transformations\" xmlns:data-type=\"http://www.isac-net.org/std/Gating-ML/v2.0/datatypes\">\n",
    );
    s.push_str("  <Groups>\n    <GroupNode name=\"All Samples\" annotation=\"\" owningGroup=\"All Samples\">\n      <Group name=\"All Samples\">\n        <SampleRefs>");
    for sample in samples {
        let _ = write!(s, "<SampleRef sampleID=\"{}\" />", sample.id);
    }
    s.push_str("</SampleRefs>\n      </Group>\n    </GroupNode>\n  </Groups>\n  <SampleList>\n");
    for sample in samples {
        // FlowJo names a sample after its file; sites whose files share a
        // name are told apart by the site (FlowKit keys samples by name).
        let shared = samples
            .iter()
            .filter(|o| o.file_name == sample.file_name)
            .count()
            > 1;
        let name = if shared {
            format!("{} ({})", sample.file_name, sample.site)
        } else {
            sample.file_name.clone()
        };
        s.push_str(&sample.head);
        let _ = writeln!(
            s,
            "      <SampleNode name=\"{}\" annotation=\"\" owningGroup=\"\" expanded=\"1\" count=\"{}\" sampleID=\"{}\">",
            esc(&name),
            sample.events,
            sample.id
        );
        s.push_str(&sample.populations);
        s.push_str("      </SampleNode>\n    </Sample>\n");
    }
    s.push_str("  </SampleList>\n</Workspace>\n");
    s
}

/// Convex hull of points, counter-clockwise (monotone chain).
fn convex_hull(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.retain(|p| p.0.is_finite() && p.1.is_finite());
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f64, f64)> = Vec::with_capacity(2 * points.len());
    for pass in [points.clone(), points.into_iter().rev().collect()] {
        let start = hull.len();
        for p in pass {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::inside_polygon;

    #[test]
    fn the_comb_holds_exactly_the_kept_ranges() {
        let v: Vec<[f64; 2]> = comb(vec![(30.0, 40.0), (10.0, 20.0), (35.0, 50.0)])
            .into_iter()
            .map(|(x, y)| [x, y])
            .collect();
        for (x, kept) in [
            (5.0, true),
            (15.0, false),
            (25.0, true),
            (32.0, false),
            (45.0, false),
            (60.0, true),
        ] {
            for y in [-1e6, 0.0, 3.5, 1e6] {
                assert_eq!(inside_polygon(&v, x, y), kept, "x {x} y {y}");
            }
        }
    }

    #[test]
    fn sites_whose_files_share_a_name_get_distinct_sample_names() {
        let sample = |id: usize, file: &str, site: &str| WorkspaceSample {
            id,
            file_name: file.to_string(),
            site: site.to_string(),
            events: 10,
            head: "    <Sample>\n".to_string(),
            populations: String::new(),
        };
        let xml = workspace(&[
            sample(1, "tube.fcs", "left iliac"),
            sample(2, "tube.fcs", "right iliac"),
            sample(3, "sternum.fcs", "sternum"),
        ]);
        assert!(xml.contains("<SampleNode name=\"tube.fcs (left iliac)\""));
        assert!(xml.contains("<SampleNode name=\"tube.fcs (right iliac)\""));
        assert!(xml.contains("<SampleNode name=\"sternum.fcs\""));
        assert_eq!(xml.matches("</Sample>").count(), 3);
    }

    #[test]
    fn the_hull_of_points_is_their_outer_boundary() {
        let h = convex_hull(vec![
            (0.0, 0.0),
            (2.0, 0.0),
            (1.0, 1.0),
            (2.0, 2.0),
            (0.0, 2.0),
        ]);
        assert_eq!(h.len(), 4);
        assert!(!h.contains(&(1.0, 1.0)));
    }

    #[test]
    fn file_uris_are_absolute_and_escaped() {
        let u = file_uri(Path::new("/data/left iliac & <1>.fcs"));
        assert_eq!(u, "file:///data/left%20iliac%20%26%20%3C1%3E.fcs");
    }
}
