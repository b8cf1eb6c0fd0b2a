//! A gate tree with the transforms and spectrum matrices its gates refer to,
//! and its evaluation on all events of a sample.

use super::{
    BoolOp, CompensationRef, Dimension, Gate, GateKind, Interval, Source, inside_polygon,
    quadrant_interval,
};
use crate::compensation::{Compensation, CompensationError, invert};
use crate::events::{EventSource, LinearSpec, chunk_slots};
use crate::fcs::Spillover;
use crate::transform::{FastTransform, Ratio, Transform};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// A named transform of a gate tree.
#[derive(Debug, Clone, PartialEq)]
pub enum TransformDef {
    /// A one-dimensional scale.
    Scale(Transform),
    /// A ratio of two channels, making a new dimension.
    Ratio {
        /// Coefficients.
        ratio: Ratio,
        /// Numerator channel.
        numerator: String,
        /// Denominator channel.
        denominator: String,
    },
}

/// A Gating-ML spectrum (spillover) matrix: `coefficients[f][d]` is the
/// fraction of fluorochrome `f` seen by detector `d`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumMatrix {
    /// Id.
    pub id: String,
    /// Fluorochrome names (the compensated dimensions).
    pub fluorochromes: Vec<String>,
    /// Detector channel names.
    pub detectors: Vec<String>,
    /// Matrix, one row per fluorochrome.
    pub coefficients: Vec<Vec<f64>>,
}

/// Gates with everything they refer to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateTree {
    /// Named transforms.
    pub transforms: Vec<(String, TransformDef)>,
    /// Named spectrum matrices.
    pub matrices: Vec<SpectrumMatrix>,
    /// Gates in definition order.
    pub gates: Vec<Gate>,
}

/// Why a gate tree cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateError {
    /// A referenced gate does not exist.
    #[error("gate {referenced_by:?} refers to unknown gate {id:?}")]
    UnknownGate {
        /// Missing id.
        id: String,
        /// The gate referring to it.
        referenced_by: String,
    },
    /// A referenced transform does not exist or has the wrong kind.
    #[error("gate {gate:?} refers to unknown or unusable transformation {id:?}")]
    UnknownTransform {
        /// Transform id.
        id: String,
        /// Gate.
        gate: String,
    },
    /// A referenced spectrum matrix does not exist.
    #[error("gate {gate:?} refers to unknown spectrum matrix {id:?}")]
    UnknownMatrix {
        /// Matrix id.
        id: String,
        /// Gate.
        gate: String,
    },
    /// A dimension is not a channel of the data.
    #[error(
        "gate {gate:?} uses dimension {name:?}, which is not among the data's channels ({available})"
    )]
    UnknownDimension {
        /// Name.
        name: String,
        /// Gate.
        gate: String,
        /// The channels present.
        available: String,
    },
    /// Parent links or boolean references form a cycle.
    #[error("gate {id:?} depends on itself")]
    Cycle {
        /// A gate on the cycle.
        id: String,
    },
    /// A gate whose geometry is unusable.
    #[error("gate {gate:?}: {message}")]
    Invalid {
        /// Gate.
        gate: String,
        /// What is wrong.
        message: String,
    },
    /// The events could not be read.
    #[error("reading events: {0}")]
    Events(String),
    /// Compensation failed.
    #[error("compensation: {0}")]
    Compensation(#[from] CompensationError),
}

/// Counts of one gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateCount {
    /// Gate id.
    pub id: String,
    /// Parent gate id.
    pub parent: Option<String>,
    /// Events in the gate (inside its parent).
    pub events: usize,
    /// Percent of the parent's events (of all events without a parent).
    pub percent_of_parent: f64,
    /// Percent of all events.
    pub percent_of_total: f64,
}

/// Membership of every event in every gate.
#[derive(Debug, Clone)]
pub struct Membership {
    /// Total events.
    pub total: usize,
    /// Per gate, in tree order.
    pub counts: Vec<GateCount>,
    /// Per gate, one flag per event (in the gate and its ancestors).
    pub members: Vec<Arc<Vec<bool>>>,
}

impl Membership {
    /// Flags of gate `id`.
    pub fn of(&self, id: &str) -> Option<&[bool]> {
        self.counts
            .iter()
            .position(|c| c.id == id)
            .map(|i| self.members[i].as_slice())
    }
}

impl GateTree {
    /// The gate with this id.
    pub fn gate(&self, id: &str) -> Option<&Gate> {
        self.gates.iter().find(|g| g.id == id)
    }

    fn transform(&self, id: &str) -> Option<&TransformDef> {
        self.transforms
            .iter()
            .find(|(t, _)| t == id)
            .map(|(_, d)| d)
    }

    /// Checks every reference and that no gate depends on itself.
    pub fn validate(&self) -> Result<(), GateError> {
        for g in &self.gates {
            let mut refs: Vec<&str> = g.parent.iter().map(String::as_str).collect();
            if let GateKind::Boolean { operands, .. } = &g.kind {
                refs.extend(operands.iter().map(|o| o.gate.as_str()));
            }
            for r in refs {
                if self.gate(r).is_none() {
                    return Err(GateError::UnknownGate {
                        id: r.to_string(),
                        referenced_by: g.id.clone(),
                    });
                }
            }
            for d in g.kind.dimensions() {
                self.check_dimension(d, &g.id)?;
            }
        }
        for g in &self.gates {
            self.check_acyclic(&g.id, &mut Vec::new())?;
        }
        Ok(())
    }

    fn check_dimension(&self, d: &Dimension, gate: &str) -> Result<(), GateError> {
        if let Some(t) = &d.transform
            && !matches!(self.transform(t), Some(TransformDef::Scale(_)))
        {
            return Err(GateError::UnknownTransform {
                id: t.clone(),
                gate: gate.to_string(),
            });
        }
        if let Source::Ratio(t) = &d.source
            && !matches!(self.transform(t), Some(TransformDef::Ratio { .. }))
        {
            return Err(GateError::UnknownTransform {
                id: t.clone(),
                gate: gate.to_string(),
            });
        }
        if let CompensationRef::Matrix(m) = &d.compensation
            && !self.matrices.iter().any(|x| &x.id == m)
        {
            return Err(GateError::UnknownMatrix {
                id: m.clone(),
                gate: gate.to_string(),
            });
        }
        Ok(())
    }

    fn check_acyclic<'a>(&'a self, id: &'a str, path: &mut Vec<&'a str>) -> Result<(), GateError> {
        if path.contains(&id) {
            return Err(GateError::Cycle { id: id.to_string() });
        }
        let Some(g) = self.gate(id) else {
            return Ok(());
        };
        path.push(id);
        if let Some(p) = &g.parent {
            self.check_acyclic(p, path)?;
        }
        if let GateKind::Boolean { operands, .. } = &g.kind {
            for o in operands {
                self.check_acyclic(&o.gate, path)?;
            }
        }
        path.pop();
        Ok(())
    }

    /// Evaluates every gate on the events of `source` (channel values).
    /// `spillover` is the file's own matrix, used by dimensions compensated
    /// `FromFile`; without one they stay uncompensated.
    ///
    /// The tree is compiled first (channels and compensated fluorochromes
    /// to read, transforms, gate geometry), then evaluated chunk by chunk in
    /// parallel: only the membership flags are allocated at full size.
    pub fn evaluate(
        &self,
        source: &dyn EventSource,
        spillover: Option<&Spillover>,
    ) -> Result<Membership, GateError> {
        self.validate()?;
        let plan = Plan::compile(self, &source.channel_names(), spillover)?;
        let total = source.event_count();
        let mut members: Vec<Vec<bool>> = self
            .gates
            .iter()
            .map(|_| crate::memory::filled_vec::<bool>(total))
            .collect();
        {
            let slots = chunk_slots(&mut members, total);
            source
                .visit_chunks(&plan.bases, &|chunk, n, bases| {
                    let flags = plan.evaluate_chunk(n, bases);
                    if let Some(slot) = slots.get(chunk)
                        && let Ok(mut out) = slot.lock()
                    {
                        for (o, f) in out.iter_mut().zip(&flags) {
                            o.copy_from_slice(f);
                        }
                    }
                })
                .map_err(|e| GateError::Events(e.to_string()))?;
        }
        let counted: Vec<usize> = members.iter().map(|m| count(m)).collect();
        let counts = self
            .gates
            .iter()
            .enumerate()
            .map(|(g, gate)| {
                let n = counted[g];
                let parent_n = plan.gates[g].parent.map_or(total, |p| counted[p]);
                let pct = |a: usize, b: usize| {
                    if b > 0 {
                        100.0 * a as f64 / b as f64
                    } else {
                        0.0
                    }
                };
                GateCount {
                    id: gate.id.clone(),
                    parent: gate.parent.clone(),
                    events: n,
                    percent_of_parent: pct(n, parent_n),
                    percent_of_total: pct(n, total),
                }
            })
            .collect();
        Ok(Membership {
            total,
            counts,
            members: members.into_iter().map(Arc::new).collect(),
        })
    }
}

fn count(m: &[bool]) -> usize {
    m.par_chunks(1 << 16)
        .map(|c| c.iter().filter(|&&b| b).count())
        .sum()
}

/// A dimension as evaluated: a base column (or a ratio of two), then an
/// optional transform.
struct DimPlan {
    base: usize,
    ratio: Option<(Ratio, usize)>,
    transform: Option<FastTransform>,
}

/// A gate as evaluated: indices into the plan's dimensions and gates.
enum Shape {
    Intervals {
        dims: Vec<usize>,
        intervals: Vec<Interval>,
    },
    Polygon {
        x: usize,
        y: usize,
        vertices: Vec<[f64; 2]>,
    },
    Ellipsoid {
        dims: Vec<usize>,
        mean: Vec<f64>,
        inverse: Vec<f64>,
        distance_square: f64,
    },
    Boolean {
        op: BoolOp,
        operands: Vec<(usize, bool)>,
    },
}

struct GatePlan {
    shape: Shape,
    parent: Option<usize>,
}

/// The compiled tree.
struct Plan {
    /// Weighted sums of channels the source computes per event.
    bases: Vec<LinearSpec>,
    dims: Vec<DimPlan>,
    gates: Vec<GatePlan>,
    /// Gate indices with every dependency before its dependents.
    order: Vec<usize>,
}

impl Plan {
    fn compile(
        tree: &GateTree,
        names: &[String],
        spillover: Option<&Spillover>,
    ) -> Result<Plan, GateError> {
        let mut c = Compiler {
            tree,
            names,
            spillover,
            compensations: HashMap::new(),
            base_keys: Vec::new(),
            bases: Vec::new(),
            dim_keys: Vec::new(),
            dims: Vec::new(),
        };
        let index_of = |id: &str| tree.gates.iter().position(|g| g.id == id);
        let mut gates = Vec::with_capacity(tree.gates.len());
        for g in &tree.gates {
            let invalid = |message: String| GateError::Invalid {
                gate: g.id.clone(),
                message,
            };
            let shape = match &g.kind {
                GateKind::Rectangle {
                    dimensions,
                    intervals,
                } => {
                    if dimensions.len() != intervals.len() || dimensions.is_empty() {
                        return Err(invalid(
                            "a rectangle needs one interval per dimension".into(),
                        ));
                    }
                    let dims = dimensions
                        .iter()
                        .map(|d| c.dimension(d, &g.id))
                        .collect::<Result<_, _>>()?;
                    Shape::Intervals {
                        dims,
                        intervals: intervals.clone(),
                    }
                }
                GateKind::Quadrant {
                    dividers,
                    locations,
                    ..
                } => {
                    if dividers.len() != locations.len() || dividers.is_empty() {
                        return Err(invalid("a quadrant needs one location per divider".into()));
                    }
                    let mut dims = Vec::new();
                    let mut intervals = Vec::new();
                    for (d, l) in dividers.iter().zip(locations) {
                        if let Some(l) = l {
                            dims.push(c.dimension(&d.dimension, &g.id)?);
                            intervals.push(quadrant_interval(&d.values, *l));
                        }
                    }
                    Shape::Intervals { dims, intervals }
                }
                GateKind::Polygon {
                    dimensions,
                    vertices,
                } => {
                    if dimensions.len() != 2 || vertices.len() < 3 {
                        return Err(invalid(
                            "a polygon needs 2 dimensions and at least 3 vertices".into(),
                        ));
                    }
                    Shape::Polygon {
                        x: c.dimension(&dimensions[0], &g.id)?,
                        y: c.dimension(&dimensions[1], &g.id)?,
                        vertices: vertices.clone(),
                    }
                }
                GateKind::Ellipsoid {
                    dimensions,
                    mean,
                    covariance,
                    distance_square,
                } => {
                    let k = dimensions.len();
                    if k == 0
                        || mean.len() != k
                        || covariance.len() != k
                        || covariance.iter().any(|r| r.len() != k)
                    {
                        return Err(invalid(format!(
                            "an ellipsoid in {k} dimensions needs a mean of {k} and a {k} x {k} covariance"
                        )));
                    }
                    let flat: Vec<f64> = covariance.iter().flatten().copied().collect();
                    let inverse =
                        invert(&flat, k).map_err(|e| invalid(format!("covariance matrix: {e}")))?;
                    let dims = dimensions
                        .iter()
                        .map(|d| c.dimension(d, &g.id))
                        .collect::<Result<_, _>>()?;
                    Shape::Ellipsoid {
                        dims,
                        mean: mean.clone(),
                        inverse,
                        distance_square: *distance_square,
                    }
                }
                GateKind::Boolean { op, operands } => {
                    let arity_ok = match op {
                        BoolOp::Not => operands.len() == 1,
                        _ => operands.len() >= 2,
                    };
                    if !arity_ok {
                        return Err(invalid(format!("{op:?} with {} operands", operands.len())));
                    }
                    let operands = operands
                        .iter()
                        .map(|o| {
                            index_of(&o.gate).map(|i| (i, o.complement)).ok_or_else(|| {
                                GateError::UnknownGate {
                                    id: o.gate.clone(),
                                    referenced_by: g.id.clone(),
                                }
                            })
                        })
                        .collect::<Result<_, _>>()?;
                    Shape::Boolean { op: *op, operands }
                }
            };
            let parent = match &g.parent {
                Some(p) => Some(index_of(p).ok_or_else(|| GateError::UnknownGate {
                    id: p.clone(),
                    referenced_by: g.id.clone(),
                })?),
                None => None,
            };
            gates.push(GatePlan { shape, parent });
        }
        let order = dependency_order(&gates);
        Ok(Plan {
            bases: c.bases,
            dims: c.dims,
            gates,
            order,
        })
    }

    /// Flags of every gate for one chunk of `n` events.
    fn evaluate_chunk(&self, n: usize, bases: &[Vec<f64>]) -> Vec<Vec<bool>> {
        // Dimensions that are a plain base column borrow it; the others
        // (ratios, transforms) get their own chunk-sized column.
        let derived: Vec<Option<Vec<f64>>> = self
            .dims
            .iter()
            .map(|d| {
                let base = &bases[d.base];
                let mut v: Vec<f64> = match (&d.ratio, &d.transform) {
                    (None, None) => return None,
                    (Some((r, den)), _) => base
                        .iter()
                        .zip(&bases[*den])
                        .map(|(&a, &b)| r.apply(a, b))
                        .collect(),
                    (None, Some(_)) => base.clone(),
                };
                if let Some(t) = &d.transform {
                    v.iter_mut().for_each(|x| *x = t.eval(*x));
                }
                Some(v)
            })
            .collect();
        let dims: Vec<&[f64]> = self
            .dims
            .iter()
            .zip(&derived)
            .map(|(d, v)| v.as_deref().unwrap_or(&bases[d.base]))
            .collect();
        let mut flags: Vec<Vec<bool>> = vec![Vec::new(); self.gates.len()];
        for &g in &self.order {
            let plan = &self.gates[g];
            let mut own = match &plan.shape {
                Shape::Intervals { dims: d, intervals } => {
                    let mut m = vec![true; n];
                    for (&j, interval) in d.iter().zip(intervals) {
                        for (f, &v) in m.iter_mut().zip(dims[j].iter()) {
                            *f &= interval.contains(v);
                        }
                    }
                    m
                }
                Shape::Polygon { x, y, vertices } => dims[*x]
                    .iter()
                    .zip(dims[*y].iter())
                    .map(|(&a, &b)| inside_polygon(vertices, a, b))
                    .collect(),
                Shape::Ellipsoid {
                    dims: d,
                    mean,
                    inverse,
                    distance_square,
                } => {
                    let k = d.len();
                    let mut diff = vec![0.0; k];
                    (0..n)
                        .map(|e| {
                            for (j, x) in diff.iter_mut().enumerate() {
                                *x = dims[d[j]][e] - mean[j];
                            }
                            let q: f64 = (0..k)
                                .map(|a| {
                                    diff[a]
                                        * inverse[a * k..(a + 1) * k]
                                            .iter()
                                            .zip(&diff)
                                            .map(|(m, y)| m * y)
                                            .sum::<f64>()
                                })
                                .sum();
                            q <= *distance_square
                        })
                        .collect()
                }
                Shape::Boolean { op, operands } => (0..n)
                    .map(|e| {
                        let value = |&(o, complement): &(usize, bool)| flags[o][e] != complement;
                        match op {
                            BoolOp::And => operands.iter().all(value),
                            BoolOp::Or => operands.iter().any(value),
                            BoolOp::Not => !value(&operands[0]),
                        }
                    })
                    .collect(),
            };
            if let Some(p) = plan.parent {
                own.iter_mut().zip(&flags[p]).for_each(|(o, &p)| *o &= p);
            }
            flags[g] = own;
        }
        flags
    }
}

/// Gates ordered so that parents and boolean operands come first.
fn dependency_order(gates: &[GatePlan]) -> Vec<usize> {
    fn visit(g: usize, gates: &[GatePlan], done: &mut [bool], order: &mut Vec<usize>) {
        if done[g] {
            return;
        }
        done[g] = true;
        if let Some(p) = gates[g].parent {
            visit(p, gates, done, order);
        }
        if let Shape::Boolean { operands, .. } = &gates[g].shape {
            for &(o, _) in operands {
                visit(o, gates, done, order);
            }
        }
        order.push(g);
    }
    let mut done = vec![false; gates.len()];
    let mut order = Vec::with_capacity(gates.len());
    for g in 0..gates.len() {
        visit(g, gates, &mut done, &mut order);
    }
    order
}

/// A channel read through a compensation: what base columns are made of.
type BaseKey = (String, CompensationRef);

/// Builds the plan's base columns and dimensions, sharing equal ones.
struct Compiler<'a> {
    tree: &'a GateTree,
    names: &'a [String],
    spillover: Option<&'a Spillover>,
    compensations: HashMap<CompensationRef, Option<Compensation>>,
    base_keys: Vec<BaseKey>,
    bases: Vec<LinearSpec>,
    dim_keys: Vec<Dimension>,
    dims: Vec<DimPlan>,
}

impl Compiler<'_> {
    fn compensation(
        &mut self,
        r: &CompensationRef,
        gate: &str,
    ) -> Result<Option<&Compensation>, GateError> {
        if !self.compensations.contains_key(r) {
            let c = match r {
                CompensationRef::Uncompensated => None,
                CompensationRef::FromFile => self
                    .spillover
                    .map(Compensation::from_spillover)
                    .transpose()?,
                CompensationRef::Matrix(id) => {
                    let m = self
                        .tree
                        .matrices
                        .iter()
                        .find(|m| &m.id == id)
                        .ok_or_else(|| GateError::UnknownMatrix {
                            id: id.clone(),
                            gate: gate.to_string(),
                        })?;
                    Some(Compensation::new(
                        m.detectors.clone(),
                        m.fluorochromes.clone(),
                        &m.coefficients,
                    )?)
                }
            };
            self.compensations.insert(r.clone(), c);
        }
        Ok(self.compensations.get(r).and_then(Option::as_ref))
    }

    /// Index of the base column for a channel under a compensation: the
    /// compensated fluorochrome if the matrix covers the name, the channel
    /// itself otherwise.
    fn base(&mut self, name: &str, comp: &CompensationRef, gate: &str) -> Result<usize, GateError> {
        let key = (name.to_string(), comp.clone());
        if let Some(i) = self.base_keys.iter().position(|k| *k == key) {
            return Ok(i);
        }
        let names = self.names;
        let spec = match self.compensation(comp, gate)? {
            Some(c) if c.outputs.iter().any(|o| o == name) => {
                let out = c.outputs.iter().position(|o| o == name).unwrap_or(0);
                c.output_weights(names, out)?
            }
            _ => {
                let j = names.iter().position(|n| n == name).ok_or_else(|| {
                    GateError::UnknownDimension {
                        name: name.to_string(),
                        gate: gate.to_string(),
                        available: names.join(", "),
                    }
                })?;
                vec![(j, 1.0)]
            }
        };
        self.base_keys.push(key);
        self.bases.push(spec);
        Ok(self.bases.len() - 1)
    }

    fn dimension(&mut self, d: &Dimension, gate: &str) -> Result<usize, GateError> {
        if let Some(i) = self.dim_keys.iter().position(|k| k == d) {
            return Ok(i);
        }
        let unknown = |id: &str| GateError::UnknownTransform {
            id: id.to_string(),
            gate: gate.to_string(),
        };
        let (base, ratio) = match &d.source {
            Source::Channel(name) => (self.base(name, &d.compensation, gate)?, None),
            Source::Ratio(id) => {
                let Some(TransformDef::Ratio {
                    ratio,
                    numerator,
                    denominator,
                }) = self.tree.transform(id).cloned()
                else {
                    return Err(unknown(id));
                };
                let num = self.base(&numerator, &d.compensation, gate)?;
                let den = self.base(&denominator, &d.compensation, gate)?;
                (num, Some((ratio, den)))
            }
        };
        let transform = match &d.transform {
            None => None,
            Some(t) => match self.tree.transform(t) {
                Some(TransformDef::Scale(scale)) => Some(scale.fast()),
                _ => return Err(unknown(t)),
            },
        };
        self.dim_keys.push(d.clone());
        self.dims.push(DimPlan {
            base,
            ratio,
            transform,
        });
        Ok(self.dims.len() - 1)
    }
}
