//! Typed gates ([`crate::gate::Gate`]) as outlines on a bivariate plot:
//! the same gates the analysis applied and exported, drawn where their
//! dimensions are the plot's axes. A gate whose dimensions are not all on
//! the plot is not drawn (an outline that leaves out a dimension would
//! claim events the gate does not hold).
//!
//! - rectangle: its box, open ends reaching the plot's edge;
//! - polygon: its vertices;
//! - ellipsoid: the shadow of its boundary on the plot's two dimensions
//!   (the ellipse of the covariance's 2x2 block at the same distance);
//! - a ratio of the two axes' channels (FSC-H / FSC-A): the wedge between
//!   its bounds, on linear axes through the origin.

use super::bivariate::Shape;
use crate::gate::tree::TransformDef;
use crate::gate::{Dimension, Gate, GateKind, Interval, Source};

/// A bound beyond the plot: outlines reaching it reach the plot's edge.
const OPEN: f64 = 1e6;

/// Boundary points of an ellipse outline.
const ELLIPSE_POINTS: usize = 72;

/// One axis of a plot as gates name it.
pub struct PlotAxis<'a> {
    /// The dimension the axis shows: a gate value on exactly this
    /// dimension is placed by `display`.
    pub dimension: Dimension,
    /// Display position of a value of `dimension`.
    pub display: &'a (dyn Fn(f64) -> f64 + Sync),
    /// Display position of a channel value of the axis's channel as stored
    /// (before the axis's transform), for ratio dimensions; `None` when
    /// the axis's transform is unknown here.
    pub channel_display: Option<&'a (dyn Fn(f64) -> f64 + Sync)>,
}

/// The two axes of a plot, and the tree's transforms (to read ratio
/// dimensions by id).
pub struct PlotAxes<'a> {
    /// Horizontal.
    pub x: PlotAxis<'a>,
    /// Vertical.
    pub y: PlotAxis<'a>,
    /// The gate tree's transforms.
    pub transforms: &'a [(String, TransformDef)],
}

impl PlotAxes<'_> {
    /// The axis (0 = x, 1 = y) a gate dimension is on.
    fn axis_of(&self, d: &Dimension) -> Option<usize> {
        [&self.x, &self.y].iter().position(|a| a.dimension == *d)
    }

    fn axis(&self, k: usize) -> &PlotAxis<'_> {
        if k == 0 { &self.x } else { &self.y }
    }

    /// Display position on axis `k` of a gate value, open ends kept open.
    fn place(&self, k: usize, v: Option<f64>, open: f64) -> f64 {
        match v {
            Some(v) => (self.axis(k).display)(v),
            None => open,
        }
    }

    /// The outline of a geometric gate on these axes, if every dimension
    /// it reads is one of them.
    pub fn shape(&self, gate: &Gate) -> Option<Shape> {
        match &gate.kind {
            GateKind::Rectangle {
                dimensions,
                intervals,
            } => self.rectangle(dimensions, intervals),
            GateKind::Polygon {
                dimensions,
                vertices,
            } => {
                let axes: Vec<usize> = dimensions
                    .iter()
                    .map(|d| self.axis_of(d))
                    .collect::<Option<_>>()?;
                let [a, b] = axes[..] else { return None };
                (a != b).then(|| {
                    Shape::Polygon(
                        vertices
                            .iter()
                            .map(|v| {
                                let (x, y) = if a == 0 { (v[0], v[1]) } else { (v[1], v[0]) };
                                (self.place(0, Some(x), 0.0), self.place(1, Some(y), 0.0))
                            })
                            .collect(),
                    )
                })
            }
            GateKind::Ellipsoid {
                dimensions,
                mean,
                covariance,
                distance_square,
            } => self.ellipse(dimensions, mean, covariance, *distance_square),
            GateKind::Quadrant { .. } | GateKind::Boolean { .. } => None,
        }
    }

    fn rectangle(&self, dimensions: &[Dimension], intervals: &[Interval]) -> Option<Shape> {
        if let ([d], [iv]) = (dimensions, intervals)
            && let Source::Ratio(id) = &d.source
        {
            return self.ratio_wedge(id, d, iv);
        }
        let mut x = (-OPEN, OPEN);
        let mut y = (-OPEN, OPEN);
        for (d, iv) in dimensions.iter().zip(intervals) {
            let k = self.axis_of(d)?;
            let span = (self.place(k, iv.min, -OPEN), self.place(k, iv.max, OPEN));
            if k == 0 {
                x = span;
            } else {
                y = span;
            }
        }
        Some(Shape::Rect { x, y })
    }

    /// `min <= a * y / x < max` for a ratio of the y channel over the x
    /// channel, drawn on linear axes through the origin.
    fn ratio_wedge(&self, id: &str, d: &Dimension, iv: &Interval) -> Option<Shape> {
        let (ratio, numerator, denominator) =
            self.transforms.iter().find_map(|(t, def)| match def {
                TransformDef::Ratio {
                    ratio,
                    numerator,
                    denominator,
                } if t == id => Some((ratio, numerator, denominator)),
                _ => None,
            })?;
        let on = |axis: &PlotAxis, channel: &str| {
            matches!(&axis.dimension.source, Source::Channel(c) if c == channel)
                && axis.dimension.compensation == d.compensation
        };
        if !(on(&self.x, denominator) && on(&self.y, numerator)) || ratio.b != 0.0 || ratio.c != 0.0
        {
            return None;
        }
        let (fx, fy) = (self.x.channel_display?, self.y.channel_display?);
        // Slope on the display scales of the line "ratio = r": linear axes
        // through the origin only.
        let reference = 1000.0;
        let linear = |f: &dyn Fn(f64) -> f64| {
            f(0.0).abs() < 1e-12 && (f(2.0 * reference) - 2.0 * f(reference)).abs() < 1e-9
        };
        if !(linear(fx) && linear(fy)) || ratio.a == 0.0 {
            return None;
        }
        let slope = |r: f64| fy(r * reference / ratio.a) / fx(reference);
        // Far enough right that both lines leave the plot (it is clipped
        // there), near enough that pixels stay exact.
        let right = 10.0;
        let low = iv.min.map_or(0.0, slope);
        let high = iv.max.map_or(OPEN, slope);
        Some(Shape::Polygon(vec![
            (0.0, 0.0),
            (right, low * right),
            (right, high * right),
        ]))
    }

    fn ellipse(
        &self,
        dimensions: &[Dimension],
        mean: &[f64],
        covariance: &[Vec<f64>],
        distance_square: f64,
    ) -> Option<Shape> {
        let i = dimensions.iter().position(|d| *d == self.x.dimension)?;
        let j = dimensions.iter().position(|d| *d == self.y.dimension)?;
        let cov = |a: usize, b: usize| covariance.get(a).and_then(|r| r.get(b)).copied();
        let (sxx, sxy, syy) = (cov(i, i)?, cov(i, j)?, cov(j, j)?);
        // Cholesky of the 2x2 block: the boundary is mean + r L (cos, sin).
        let l11 = sxx.sqrt();
        if l11.is_nan() || l11 <= 0.0 {
            return None;
        }
        let l21 = sxy / l11;
        let l22 = (syy - l21 * l21).sqrt();
        let r = distance_square.sqrt();
        if l22.is_nan() || l22 <= 0.0 || !r.is_finite() {
            return None;
        }
        let (mx, my) = (*mean.get(i)?, *mean.get(j)?);
        Some(Shape::Polygon(
            (0..ELLIPSE_POINTS)
                .map(|k| {
                    let t = std::f64::consts::TAU * k as f64 / ELLIPSE_POINTS as f64;
                    let (c, s) = (t.cos(), t.sin());
                    let x = mx + r * l11 * c;
                    let y = my + r * (l21 * c + l22 * s);
                    (self.place(0, Some(x), 0.0), self.place(1, Some(y), 0.0))
                })
                .collect(),
        ))
    }
}

/// What a gate's outlines on a plot mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// The gate holds the events inside.
    Kept,
    /// The gate holds the events outside (a region it excludes).
    Excluded,
}

/// The outlines of one recorded gate: `gates` are its Gating-ML gates,
/// helper regions first and the gate itself last. A geometric gate is its
/// own outline; a boolean gate is outlined by its operands: kept regions
/// for OR, excluded ones for NOT and complemented AND operands.
pub fn outlines(axes: &PlotAxes, gates: &[Gate]) -> Vec<(Region, Shape)> {
    let Some(last) = gates.last() else {
        return Vec::new();
    };
    match &last.kind {
        GateKind::Boolean { op, operands } => operands
            .iter()
            .filter_map(|o| {
                let g = gates.iter().find(|g| g.id == o.gate)?;
                let excluded = matches!(op, crate::gate::BoolOp::Not) || o.complement;
                let region = if excluded {
                    Region::Excluded
                } else {
                    Region::Kept
                };
                Some((region, axes.shape(g)?))
            })
            .collect(),
        _ => axes
            .shape(last)
            .map(|s| vec![(Region::Kept, s)])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::CompensationRef;
    use crate::transform::Ratio;

    fn dim(name: &str, transform: Option<&str>) -> Dimension {
        Dimension {
            source: Source::Channel(name.into()),
            compensation: CompensationRef::Uncompensated,
            transform: transform.map(str::to_string),
        }
    }

    fn halve(v: f64) -> f64 {
        v / 2.0
    }

    fn per_thousand(v: f64) -> f64 {
        v / 1000.0
    }

    fn axes<'a>(transforms: &'a [(String, TransformDef)]) -> PlotAxes<'a> {
        PlotAxes {
            x: PlotAxis {
                dimension: dim("FSC-A", Some("lin")),
                display: &halve,
                channel_display: Some(&per_thousand),
            },
            y: PlotAxis {
                dimension: dim("FSC-H", Some("lin")),
                display: &halve,
                channel_display: Some(&per_thousand),
            },
            transforms,
        }
    }

    fn gate(kind: GateKind) -> Gate {
        Gate {
            id: "g".into(),
            parent: None,
            kind,
        }
    }

    #[test]
    fn a_rectangle_is_placed_through_the_axis_scale_and_open_ends_stay_open() {
        let a = axes(&[]);
        let g = gate(GateKind::Rectangle {
            dimensions: vec![dim("FSC-H", Some("lin"))],
            intervals: vec![Interval {
                min: Some(0.4),
                max: None,
            }],
        });
        assert_eq!(
            a.shape(&g),
            Some(Shape::Rect {
                x: (-OPEN, OPEN),
                y: (0.2, OPEN)
            })
        );
        // A dimension on another scale, or not on the plot, is not drawn.
        let other = gate(GateKind::Rectangle {
            dimensions: vec![dim("FSC-H", None)],
            intervals: vec![Interval {
                min: Some(0.4),
                max: None,
            }],
        });
        assert_eq!(a.shape(&other), None);
    }

    #[test]
    fn a_ratio_gate_is_the_wedge_above_its_line() {
        let transforms = vec![(
            "r".to_string(),
            TransformDef::Ratio {
                ratio: Ratio {
                    a: 1.0,
                    b: 0.0,
                    c: 0.0,
                },
                numerator: "FSC-H".into(),
                denominator: "FSC-A".into(),
            },
        )];
        let a = axes(&transforms);
        let g = gate(GateKind::Rectangle {
            dimensions: vec![Dimension {
                source: Source::Ratio("r".into()),
                compensation: CompensationRef::Uncompensated,
                transform: None,
            }],
            intervals: vec![Interval {
                min: Some(0.8),
                max: Some(1e6),
            }],
        });
        let Some(Shape::Polygon(p)) = a.shape(&g) else {
            panic!("no wedge")
        };
        assert_eq!(p[0], (0.0, 0.0));
        assert!((p[1].1 / p[1].0 - 0.8).abs() < 1e-12, "{p:?}");
    }

    #[test]
    fn an_ellipsoid_is_drawn_as_its_shadow_on_the_two_axes() {
        let a = axes(&[]);
        let g = gate(GateKind::Ellipsoid {
            dimensions: vec![
                dim("CD10", Some("lin")),
                dim("FSC-A", Some("lin")),
                dim("FSC-H", Some("lin")),
            ],
            mean: vec![5.0, 1.0, 2.0],
            covariance: vec![
                vec![9.0, 0.0, 0.0],
                vec![0.0, 4.0, 0.0],
                vec![0.0, 0.0, 1.0],
            ],
            distance_square: 1.0,
        });
        let Some(Shape::Polygon(p)) = a.shape(&g) else {
            panic!("no ellipse")
        };
        // Semi-axes 2 and 1 around (1, 2), halved by the display scale.
        let xs = p.iter().map(|q| q.0);
        let ys = p.iter().map(|q| q.1);
        let (x0, x1) = (
            xs.clone().fold(f64::MAX, f64::min),
            xs.fold(f64::MIN, f64::max),
        );
        let (y0, y1) = (
            ys.clone().fold(f64::MAX, f64::min),
            ys.fold(f64::MIN, f64::max),
        );
        assert!(
            (x0 + 0.5).abs() < 1e-9 && (x1 - 1.5).abs() < 1e-9,
            "{x0} {x1}"
        );
        assert!(
            (y0 - 0.5).abs() < 1e-9 && (y1 - 1.5).abs() < 1e-9,
            "{y0} {y1}"
        );
    }
}
