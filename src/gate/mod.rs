//! Gates as Gating-ML 2.0 defines them, their membership rules, and gate
//! trees ([`tree`]) read from and written to Gating-ML ([`gating_ml`]).
//!
//! Membership rules (Gating-ML 2.0):
//! - rectangle / range: `min ≤ x < max` in every dimension, a missing end
//!   is open;
//! - polygon: the even–odd (crossing) rule, so self-intersecting polygons
//!   work;
//! - ellipsoid: `(x − μ)ᵀ C⁻¹ (x − μ) ≤ distanceSquare`;
//! - quadrant: the divider intervals holding the quadrant's locations,
//!   each `[v_i, v_(i+1))`;
//! - boolean: and / or / not of other gates, operands optionally
//!   complemented;
//! - every gate applies inside its parent.
//!
//! An event with a missing value (NaN, e.g. a log of a negative) is in no
//! geometric gate.

pub mod gating_ml;
pub mod tree;

use serde::Serialize;

/// Which compensation a dimension is read through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum CompensationRef {
    /// Values as stored (channel values).
    Uncompensated,
    /// The file's own spillover matrix (Gating-ML `FCS`).
    FromFile,
    /// A spectrum matrix of the gate tree, by id.
    Matrix(String),
}

/// What a dimension measures.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Source {
    /// A channel ($PnN), or a fluorochrome of a spectrum matrix.
    Channel(String),
    /// A new dimension computed by a ratio transform of the tree, by id.
    Ratio(String),
}

/// One axis of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Dimension {
    /// Measured quantity.
    pub source: Source,
    /// Compensation applied first.
    pub compensation: CompensationRef,
    /// Scale transform of the tree applied last, by id.
    pub transform: Option<String>,
}

impl Dimension {
    /// An uncompensated, untransformed channel.
    pub fn channel(name: &str) -> Dimension {
        Dimension {
            source: Source::Channel(name.to_string()),
            compensation: CompensationRef::Uncompensated,
            transform: None,
        }
    }
}

/// A half-open interval `[min, max)`; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Inclusive lower end.
    pub min: Option<f64>,
    /// Exclusive upper end.
    pub max: Option<f64>,
}

impl Interval {
    /// Whether `x` lies in the interval (never for NaN).
    #[inline]
    pub fn contains(&self, x: f64) -> bool {
        self.min.is_none_or(|m| x >= m) && self.max.is_none_or(|m| x < m) && !x.is_nan()
    }
}

/// A divider of a quadrant gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divider {
    /// Divider id.
    pub id: String,
    /// Its dimension.
    pub dimension: Dimension,
    /// Cut values, ascending.
    pub values: Vec<f64>,
}

/// Boolean operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoolOp {
    /// All operands.
    And,
    /// Any operand.
    Or,
    /// The complement of the single operand.
    Not,
}

/// An operand of a boolean gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operand {
    /// Referenced gate id.
    pub gate: String,
    /// Use the complement of the referenced gate.
    pub complement: bool,
}

/// The shape of a gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GateKind {
    /// Rectangle, or a range in one dimension.
    Rectangle {
        /// Axes.
        dimensions: Vec<Dimension>,
        /// One interval per axis.
        intervals: Vec<Interval>,
    },
    /// Polygon in two dimensions.
    Polygon {
        /// x and y axes.
        dimensions: Vec<Dimension>,
        /// Vertices in order.
        vertices: Vec<[f64; 2]>,
    },
    /// Ellipse or ellipsoid.
    Ellipsoid {
        /// Axes.
        dimensions: Vec<Dimension>,
        /// Centre.
        mean: Vec<f64>,
        /// Covariance matrix, row by row.
        covariance: Vec<Vec<f64>>,
        /// Squared Mahalanobis distance of the boundary.
        distance_square: f64,
    },
    /// One quadrant of a quadrant gate.
    Quadrant {
        /// Id of the quadrant gate it belongs to.
        group: String,
        /// The dividers of that gate.
        dividers: Vec<Divider>,
        /// The location of this quadrant along each divider; `None` where the
        /// quadrant does not restrict that divider.
        locations: Vec<Option<f64>>,
    },
    /// Boolean combination of other gates.
    Boolean {
        /// Operator.
        op: BoolOp,
        /// Operands.
        operands: Vec<Operand>,
    },
}

/// A gate with its place in the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    /// Unique id.
    pub id: String,
    /// Parent gate id, if the gate applies inside another.
    pub parent: Option<String>,
    /// Shape.
    pub kind: GateKind,
}

impl GateKind {
    /// The dimensions the gate reads (none for boolean gates).
    pub fn dimensions(&self) -> Vec<&Dimension> {
        match self {
            GateKind::Rectangle { dimensions, .. }
            | GateKind::Polygon { dimensions, .. }
            | GateKind::Ellipsoid { dimensions, .. } => dimensions.iter().collect(),
            GateKind::Quadrant { dividers, .. } => dividers.iter().map(|d| &d.dimension).collect(),
            GateKind::Boolean { .. } => Vec::new(),
        }
    }
}

/// The interval of a quadrant along one divider: between the cut values
/// that bracket `location`.
pub fn quadrant_interval(values: &[f64], location: f64) -> Interval {
    let below = values
        .iter()
        .copied()
        .filter(|&v| v <= location)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let above = values
        .iter()
        .copied()
        .filter(|&v| v > location)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
    Interval {
        min: below,
        max: above,
    }
}

/// Even–odd rule: whether `(x, y)` is inside the polygon.
#[inline]
pub fn inside_polygon(vertices: &[[f64; 2]], x: f64, y: f64) -> bool {
    if x.is_nan() || y.is_nan() {
        return false;
    }
    let mut inside = false;
    let mut j = vertices.len().wrapping_sub(1);
    for (i, &[xi, yi]) in vertices.iter().enumerate() {
        let [xj, yj] = vertices[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_half_open() {
        let i = Interval {
            min: Some(1.0),
            max: Some(2.0),
        };
        assert!(i.contains(1.0) && !i.contains(2.0) && !i.contains(f64::NAN));
        assert!(
            Interval {
                min: None,
                max: None
            }
            .contains(-1e300)
        );
    }

    #[test]
    fn self_intersecting_polygon_uses_even_odd() {
        // A bow tie: two triangles meeting at (1, 1).
        let bow = [[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0]];
        assert!(inside_polygon(&bow, 0.2, 1.0));
        assert!(inside_polygon(&bow, 1.8, 1.0));
        assert!(!inside_polygon(&bow, 1.0, 0.2));
        assert!(!inside_polygon(&bow, 5.0, 1.0));
    }

    #[test]
    fn quadrant_intervals() {
        let v = [10.0, 20.0];
        assert_eq!(
            quadrant_interval(&v, 5.0),
            Interval {
                min: None,
                max: Some(10.0)
            }
        );
        assert_eq!(
            quadrant_interval(&v, 15.0),
            Interval {
                min: Some(10.0),
                max: Some(20.0)
            }
        );
        assert_eq!(
            quadrant_interval(&v, 25.0),
            Interval {
                min: Some(20.0),
                max: None
            }
        );
    }
}
