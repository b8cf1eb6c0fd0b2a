//! The automated gates as Gating-ML 2.0 gates: the shapes the pre-gates
//! and the blast gate are stated in. Each gate record carries the gates
//! that reproduce it on the site's file (`GateRecord::exported`); the
//! site's tree adds the scales of its columns (`AutomaticGating::gate_tree`)
//! for `marrowgate apply`, FlowKit or FlowJo to evaluate.
//!
//! Ids are the gates' names made XML ids ([`ncname`]: `cells`,
//! `CD19pos`...), stable, so a reviewer's edited file is matched back to
//! the gates by id.

use crate::gate::gating_ml::ncname;
use crate::gate::{BoolOp, Dimension, Gate, GateKind, Interval, Operand};

/// A rectangle: `min <= x < max` in each dimension given (each end moved
/// by less than a unit of single precision:
/// [`crate::strategy::prepare::cut_between_stored_values`]). Infinite ends
/// are open ends, and a side open at both ends is left out; `None` when
/// no side is left (the gate would hold every event).
pub fn rectangle(id: &str, sides: Vec<(Dimension, Interval)>) -> Option<Gate> {
    // At the cuts the strategy compared its single-precision columns with,
    // in a form double-precision tools reproduce event for event.
    let finite = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(crate::strategy::prepare::cut_between_stored_values)
    };
    let (dimensions, intervals): (Vec<Dimension>, Vec<Interval>) = sides
        .into_iter()
        .map(|(d, iv)| {
            (
                d,
                Interval {
                    min: finite(iv.min),
                    max: finite(iv.max),
                },
            )
        })
        .filter(|(_, iv)| iv.min.is_some() || iv.max.is_some())
        .unzip();
    if dimensions.is_empty() {
        return None;
    }
    Some(Gate {
        id: ncname(id),
        parent: None,
        kind: GateKind::Rectangle {
            dimensions,
            intervals,
        },
    })
}

/// `x >= min`.
pub fn at_least(min: f64) -> Interval {
    Interval {
        min: Some(min),
        max: None,
    }
}

/// `x < max`.
pub fn below(max: f64) -> Interval {
    Interval {
        min: None,
        max: Some(max),
    }
}

/// `x <= max` (Gating-ML maxima are exclusive: the next number up).
pub fn at_most(max: f64) -> Interval {
    below(max.next_up())
}

/// The gates of "in none of `regions`": the regions (parentless helpers,
/// ids `<id>_<k>`), then the gate `id` itself, their complement (NOT of
/// one, AND of the complements of several). Empty without regions.
pub fn none_of(id: &str, regions: Vec<Gate>) -> Vec<Gate> {
    match regions.len() {
        0 => Vec::new(),
        1 => over(id, regions, BoolOp::Not, false),
        _ => over(id, regions, BoolOp::And, true),
    }
}

/// The gates of "in any of `regions`": the regions (helpers, parent as
/// the gate's, ids `<id>_<k>`), then the gate `id`, their OR; a single
/// region is the gate itself. Empty without regions.
pub fn any_of(id: &str, mut regions: Vec<Gate>) -> Vec<Gate> {
    match regions.len() {
        0 => Vec::new(),
        1 => {
            regions[0].id = ncname(id);
            regions
        }
        _ => over(id, regions, BoolOp::Or, false),
    }
}

/// The regions, named `<id>_1`, `<id>_2`..., then the boolean gate `id`
/// of `op` over them (each operand complemented when `complement`).
fn over(id: &str, mut regions: Vec<Gate>, op: BoolOp, complement: bool) -> Vec<Gate> {
    let id = ncname(id);
    for (k, g) in regions.iter_mut().enumerate() {
        g.id = format!("{id}_{}", k + 1);
    }
    let operands = regions
        .iter()
        .map(|g| Operand {
            gate: g.id.clone(),
            complement,
        })
        .collect();
    regions.push(Gate {
        id,
        parent: None,
        kind: GateKind::Boolean { op, operands },
    });
    regions
}

/// Sets the parent of a record's gates: the gate itself and, for an OR of
/// regions, the regions too (a NOT's regions stay parentless: they are
/// what is taken out of the parent).
pub fn set_parent(gates: &mut [Gate], parent: Option<&str>) {
    let Some((last, helpers)) = gates.split_last_mut() else {
        return;
    };
    last.parent = parent.map(str::to_string);
    if matches!(last.kind, GateKind::Boolean { op: BoolOp::Or, .. }) {
        for h in helpers {
            h.parent.clone_from(&last.parent);
        }
    }
}
