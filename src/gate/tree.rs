//! A gate tree with the transforms and spectrum matrices its gates refer to,
//! and its evaluation on all events of a sample.

use super::{
    BoolOp, CompensationRef, Dimension, Gate, GateKind, Interval, Source, inside_polygon,
    quadrant_interval,
};
use crate::compensation::{Compensation, CompensationError, invert};
use crate::events::{EventSource, LinearSpec};
use crate::fcs::Spillover;
use crate::transform::{FastTransform, Ratio, Transform};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Events per parallel task in membership evaluation.
const CHUNK: usize = 1 << 15;

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
    /// The channels and compensated fluorochromes the gates read are planned
    /// first and computed in one pass over the source.
    pub fn evaluate(
        &self,
        source: &dyn EventSource,
        spillover: Option<&Spillover>,
    ) -> Result<Membership, GateError> {
        self.validate()?;
        let total = source.event_count();
        let mut ctx = Context {
            tree: self,
            total,
            names: source.channel_names(),
            spillover,
            bases: HashMap::new(),
            columns: HashMap::new(),
            compensations: HashMap::new(),
            full: HashMap::new(),
        };
        ctx.load_bases(source)?;
        let mut counts = Vec::with_capacity(self.gates.len());
        let mut members = Vec::with_capacity(self.gates.len());
        for g in &self.gates {
            let m = ctx.full(&g.id)?;
            let n = count(&m);
            let parent_n = match &g.parent {
                Some(p) => count(&ctx.full(p)?),
                None => total,
            };
            let pct = |a: usize, b: usize| {
                if b > 0 {
                    100.0 * a as f64 / b as f64
                } else {
                    0.0
                }
            };
            counts.push(GateCount {
                id: g.id.clone(),
                parent: g.parent.clone(),
                events: n,
                percent_of_parent: pct(n, parent_n),
                percent_of_total: pct(n, total),
            });
            members.push(m);
        }
        Ok(Membership {
            total,
            counts,
            members,
        })
    }
}

fn count(m: &[bool]) -> usize {
    m.par_chunks(CHUNK)
        .map(|c| c.iter().filter(|&&b| b).count())
        .sum()
}

/// A channel read through a compensation: the unit columns are built from.
type BaseKey = (String, CompensationRef);

/// Evaluation state: cached dimension columns and memberships.
struct Context<'a> {
    tree: &'a GateTree,
    total: usize,
    names: Vec<String>,
    spillover: Option<&'a Spillover>,
    bases: HashMap<BaseKey, Arc<Vec<f64>>>,
    columns: HashMap<Dimension, Arc<Vec<f64>>>,
    compensations: HashMap<CompensationRef, Option<Arc<Compensation>>>,
    full: HashMap<String, Arc<Vec<bool>>>,
}

impl Context<'_> {
    fn channel_index(&self, name: &str, gate: &str) -> Result<usize, GateError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| GateError::UnknownDimension {
                name: name.to_string(),
                gate: gate.to_string(),
                available: self.names.join(", "),
            })
    }

    fn compensation(
        &mut self,
        r: &CompensationRef,
        gate: &str,
    ) -> Result<Option<Arc<Compensation>>, GateError> {
        if let Some(c) = self.compensations.get(r) {
            return Ok(c.clone());
        }
        let c = match r {
            CompensationRef::Uncompensated => None,
            CompensationRef::FromFile => match self.spillover {
                Some(s) => Some(Arc::new(Compensation::from_spillover(s)?)),
                None => None,
            },
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
                Some(Arc::new(Compensation::new(
                    m.detectors.clone(),
                    m.fluorochromes.clone(),
                    &m.coefficients,
                )?))
            }
        };
        self.compensations.insert(r.clone(), c.clone());
        Ok(c)
    }

    /// How a base column is made from channels: compensated if the matrix
    /// covers the name, the channel itself otherwise.
    fn base_spec(&mut self, (name, comp): &BaseKey, gate: &str) -> Result<LinearSpec, GateError> {
        if let Some(c) = self.compensation(comp, gate)?
            && let Some(out) = c.outputs.iter().position(|o| o == name)
        {
            return Ok(c.output_weights(&self.names, out)?);
        }
        Ok(vec![(self.channel_index(name, gate)?, 1.0)])
    }

    /// Plans every base column the gates read and computes them in one pass.
    fn load_bases(&mut self, source: &dyn EventSource) -> Result<(), GateError> {
        let mut keys: Vec<(BaseKey, String)> = Vec::new();
        for g in &self.tree.gates {
            for d in g.kind.dimensions() {
                let names = match &d.source {
                    Source::Channel(n) => vec![n.clone()],
                    Source::Ratio(id) => match self.tree.transform(id) {
                        Some(TransformDef::Ratio {
                            numerator,
                            denominator,
                            ..
                        }) => vec![numerator.clone(), denominator.clone()],
                        _ => {
                            return Err(GateError::UnknownTransform {
                                id: id.clone(),
                                gate: g.id.clone(),
                            });
                        }
                    },
                };
                for n in names {
                    let key = (n, d.compensation.clone());
                    if !keys.iter().any(|(k, _)| *k == key) {
                        keys.push((key, g.id.clone()));
                    }
                }
            }
        }
        let specs = keys
            .iter()
            .map(|(k, gate)| self.base_spec(k, gate))
            .collect::<Result<Vec<_>, _>>()?;
        let columns = source
            .linear_columns(&specs)
            .map_err(|e| GateError::Events(e.to_string()))?;
        for ((key, _), col) in keys.into_iter().zip(columns) {
            self.bases.insert(key, Arc::new(col));
        }
        Ok(())
    }

    fn base(
        &self,
        name: &str,
        comp: &CompensationRef,
        gate: &str,
    ) -> Result<Arc<Vec<f64>>, GateError> {
        self.bases
            .get(&(name.to_string(), comp.clone()))
            .cloned()
            .ok_or_else(|| GateError::UnknownDimension {
                name: name.to_string(),
                gate: gate.to_string(),
                available: self.names.join(", "),
            })
    }

    fn column(&mut self, d: &Dimension, gate: &str) -> Result<Arc<Vec<f64>>, GateError> {
        if let Some(c) = self.columns.get(d) {
            return Ok(c.clone());
        }
        let base = match &d.source {
            Source::Channel(name) => self.base(name, &d.compensation, gate)?,
            Source::Ratio(id) => {
                let Some(TransformDef::Ratio {
                    ratio,
                    numerator,
                    denominator,
                }) = self.tree.transform(id).cloned()
                else {
                    return Err(GateError::UnknownTransform {
                        id: id.clone(),
                        gate: gate.to_string(),
                    });
                };
                let num = self.base(&numerator, &d.compensation, gate)?;
                let den = self.base(&denominator, &d.compensation, gate)?;
                Arc::new(map_columns(&num, Some(&den), |n, d| ratio.apply(n, d)))
            }
        };
        let values = match &d.transform {
            None => base,
            Some(t) => {
                let Some(TransformDef::Scale(scale)) = self.tree.transform(t) else {
                    return Err(GateError::UnknownTransform {
                        id: t.clone(),
                        gate: gate.to_string(),
                    });
                };
                let fast: FastTransform = scale.fast();
                Arc::new(map_columns(&base, None, |v, _| fast.eval(v)))
            }
        };
        self.columns.insert(d.clone(), values.clone());
        Ok(values)
    }

    /// Membership in the gate and all its ancestors.
    fn full(&mut self, id: &str) -> Result<Arc<Vec<bool>>, GateError> {
        if let Some(m) = self.full.get(id) {
            return Ok(m.clone());
        }
        let g = self.tree.gate(id).ok_or_else(|| GateError::UnknownGate {
            id: id.to_string(),
            referenced_by: id.to_string(),
        })?;
        let mut own = self.own(g)?;
        if let Some(p) = &g.parent {
            let parent = self.full(p)?;
            own.par_iter_mut()
                .zip(parent.par_iter())
                .for_each(|(o, &p)| *o &= p);
        }
        let own = Arc::new(own);
        self.full.insert(id.to_string(), own.clone());
        Ok(own)
    }

    fn own(&mut self, g: &Gate) -> Result<Vec<bool>, GateError> {
        let n = self.total;
        let invalid = |message: String| GateError::Invalid {
            gate: g.id.clone(),
            message,
        };
        match &g.kind {
            GateKind::Rectangle {
                dimensions,
                intervals,
            } => {
                if dimensions.len() != intervals.len() || dimensions.is_empty() {
                    return Err(invalid(
                        "a rectangle needs one interval per dimension".into(),
                    ));
                }
                let cols = dimensions
                    .iter()
                    .map(|d| self.column(d, &g.id))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(intervals_membership(&cols, intervals, n))
            }
            GateKind::Quadrant {
                dividers,
                locations,
                ..
            } => {
                if dividers.len() != locations.len() || dividers.is_empty() {
                    return Err(invalid("a quadrant needs one location per divider".into()));
                }
                let used: Vec<(&super::Divider, f64)> = dividers
                    .iter()
                    .zip(locations)
                    .filter_map(|(d, l)| l.map(|l| (d, l)))
                    .collect();
                let cols = used
                    .iter()
                    .map(|(d, _)| self.column(&d.dimension, &g.id))
                    .collect::<Result<Vec<_>, _>>()?;
                let intervals: Vec<Interval> = used
                    .iter()
                    .map(|(d, l)| quadrant_interval(&d.values, *l))
                    .collect();
                Ok(intervals_membership(&cols, &intervals, n))
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
                let (x, y) = (
                    self.column(&dimensions[0], &g.id)?,
                    self.column(&dimensions[1], &g.id)?,
                );
                let mut out = crate::memory::filled_vec::<bool>(n);
                out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
                    let base = c * CHUNK;
                    for (i, m) in o.iter_mut().enumerate() {
                        *m = inside_polygon(vertices, x[base + i], y[base + i]);
                    }
                });
                Ok(out)
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
                let inv =
                    invert(&flat, k).map_err(|e| invalid(format!("covariance matrix: {e}")))?;
                let cols = dimensions
                    .iter()
                    .map(|d| self.column(d, &g.id))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut out = crate::memory::filled_vec::<bool>(n);
                out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
                    let base = c * CHUNK;
                    let mut diff = vec![0.0; k];
                    for (i, m) in o.iter_mut().enumerate() {
                        for (j, d) in diff.iter_mut().enumerate() {
                            *d = cols[j][base + i] - mean[j];
                        }
                        let mut q = 0.0;
                        for a in 0..k {
                            let row = &inv[a * k..(a + 1) * k];
                            q += diff[a] * row.iter().zip(&diff).map(|(x, y)| x * y).sum::<f64>();
                        }
                        *m = q <= *distance_square;
                    }
                });
                Ok(out)
            }
            GateKind::Boolean { op, operands } => {
                let arity_ok = match op {
                    BoolOp::Not => operands.len() == 1,
                    _ => operands.len() >= 2,
                };
                if !arity_ok {
                    return Err(invalid(format!("{op:?} with {} operands", operands.len())));
                }
                let sets = operands
                    .iter()
                    .map(|o| Ok((self.full(&o.gate)?, o.complement)))
                    .collect::<Result<Vec<_>, GateError>>()?;
                let mut out = crate::memory::filled_vec::<bool>(n);
                out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
                    let base = c * CHUNK;
                    for (i, m) in o.iter_mut().enumerate() {
                        let value = |(set, complement): &(Arc<Vec<bool>>, bool)| {
                            set[base + i] != *complement
                        };
                        *m = match op {
                            BoolOp::And => sets.iter().all(value),
                            BoolOp::Or => sets.iter().any(value),
                            BoolOp::Not => !value(&sets[0]),
                        };
                    }
                });
                Ok(out)
            }
        }
    }
}

/// `f(a[i], b[i])` (or `f(a[i], 0)`) for every event, in parallel.
fn map_columns(a: &[f64], b: Option<&[f64]>, f: impl Fn(f64, f64) -> f64 + Sync) -> Vec<f64> {
    let mut out = crate::memory::filled_vec::<f64>(a.len());
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
        let base = c * CHUNK;
        for (i, v) in o.iter_mut().enumerate() {
            *v = f(a[base + i], b.map_or(0.0, |b| b[base + i]));
        }
    });
    out
}

fn intervals_membership(cols: &[Arc<Vec<f64>>], intervals: &[Interval], n: usize) -> Vec<bool> {
    let mut out = crate::memory::filled_vec::<bool>(n);
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
        let base = c * CHUNK;
        o.iter_mut().for_each(|m| *m = true);
        for (col, interval) in cols.iter().zip(intervals) {
            let col = &col[base..base + o.len()];
            for (m, &v) in o.iter_mut().zip(col) {
                *m &= interval.contains(v);
            }
        }
    });
    out
}
