//! A site re-run with its reviewed gates: the Gating-ML file `analyze
//! --out` exported for it (`gating/NN-<site>.xml`), possibly edited in
//! FlowJo, FlowKit or by hand, taken back by gate id.
//!
//! A gate the reviewer left as exported keeps the automated membership
//! (so an unedited file reproduces the automated result exactly); a gate
//! that was edited, or lies below an edited gate, takes the membership the
//! reviewed file gives it on the site's file. The blast call below an
//! edited gate is then the exported blast ellipsoids' membership, which
//! the report's `blast_gate_agreement` compares with the automated call.

use crate::events::FileEvents;
use crate::fcs::{DataSetInfo, FcsFile};
use crate::gate::gating_ml;
use crate::gate::tree::{GateTree, Membership};
use crate::stats::percent;
use crate::strategy::blasts::BlastSearch;
use crate::strategy::cd19_negative::Cd19NegativeGating;
use crate::strategy::pregate::{GateRecord, PreGates, count, names};
use crate::strategy::prepare::Prepared;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// A reviewed file that cannot be used: unreadable, not applicable to
/// the site's file, or without a gate the automated gating exported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ReviewError {
    /// The reviewed Gating-ML file.
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

/// What a review changed at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    /// The reviewed Gating-ML file.
    pub file: String,
    /// Every exported gate, in order.
    pub gates: Vec<GateReview>,
}

/// One gate under review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReview {
    /// Gate id.
    pub id: String,
    /// The reviewer changed this gate's definition.
    pub edited: bool,
    /// Events of the automated gate.
    pub automated_events: u64,
    /// Events after the review (the automated count when neither the gate
    /// nor a gate above it was edited).
    pub reviewed_events: u64,
}

impl Review {
    /// The review in words: which gates were edited and every count that
    /// moved, e.g. "CD19+CD10+ edited: 3,761 -> 3,102 events".
    pub fn summary(&self) -> String {
        let moved: Vec<String> = self
            .gates
            .iter()
            .filter(|g| g.edited || g.automated_events != g.reviewed_events)
            .map(|g| {
                format!(
                    "{}{}: {} -> {} events",
                    g.id,
                    if g.edited { " edited" } else { "" },
                    g.automated_events,
                    g.reviewed_events
                )
            })
            .collect();
        if moved.is_empty() {
            format!(
                "gates reviewed in {}: none edited, the automated result stands",
                self.file
            )
        } else {
            format!("gates reviewed in {}: {}", self.file, moved.join("; "))
        }
    }
}

/// A reviewed Gating-ML file, read and evaluated on the site's file once:
/// what [`apply_review`] applied, kept for the gates decided after it
/// ([`review_cd19_negative`]).
pub struct ReviewedFile {
    /// The file as shown in messages.
    shown: String,
    tree: GateTree,
    membership: Membership,
}

/// Takes the CD19-negative B-lineage gate back from the reviewed file
/// (after [`apply_review`], on the reviewed pre-gates): its population is
/// the reviewed file's membership of the gate, judged as the automated one
/// is (beyond the CD19+ precursors' tail by the LOD), and the gate joins
/// `review`. A gate the search did not export is left as it is.
pub fn review_cd19_negative(
    reviewed: &ReviewedFile,
    prepared: &Prepared,
    pregates: &PreGates,
    lod_events: u64,
    gating: Cd19NegativeGating,
    review: &mut Review,
) -> Result<Cd19NegativeGating, ReviewError> {
    let Some(id) = gating.record.id.clone() else {
        return Ok(gating);
    };
    let ReviewedFile {
        shown,
        tree,
        membership,
    } = reviewed;
    let missing = || ReviewError {
        file: shown.clone(),
        message: format!(
            "the reviewed file has no gate {id:?} (or one of its regions), which the automated gating exported: keep every exported gate, edit it in place"
        ),
    };
    let edited = gating
        .record
        .exported
        .iter()
        .map(|g| tree.gate(&g.id).map(|t| t != g))
        .collect::<Option<Vec<bool>>>()
        .ok_or_else(missing)?
        .contains(&true);
    let members = membership.of(&id).ok_or_else(missing)?.to_vec();
    let automated_events = gating.record.events;
    let gating = gating.settle(prepared, members, count(&pregates.blast_region), lod_events);
    review.gates.push(GateReview {
        id,
        edited,
        automated_events,
        reviewed_events: gating.record.events,
    });
    Ok(gating)
}

/// Applies the reviewed file at `path` to a site's pre-gates and blast
/// search (in place) and says what changed; returns the file as evaluated
/// too, for the gates decided after it.
pub fn apply_review(
    path: &Path,
    file: &FcsFile,
    dataset: usize,
    info: &DataSetInfo,
    pregates: &mut PreGates,
    search: &mut BlastSearch,
) -> Result<(Review, ReviewedFile), ReviewError> {
    let shown = path.display().to_string();
    let fail = |message: String| ReviewError {
        file: shown.clone(),
        message,
    };
    let tree = gating_ml::read(path).map_err(|e| fail(e.to_string()))?;
    let membership = tree
        .evaluate(
            &FileEvents { file, dataset },
            info.metadata.spillover.as_ref(),
        )
        .map_err(|e| fail(e.to_string()))?;
    let mut changed: BTreeSet<String> = BTreeSet::new();
    let mut gates = Vec::new();
    let records: Vec<GateRecord> = pregates
        .records
        .iter()
        .chain([&search.record])
        .cloned()
        .collect();
    for (k, record) in records.iter().enumerate() {
        let below_edited = record.parent.as_ref().is_some_and(|p| changed.contains(p));
        let edited = match &record.id {
            Some(id) => record
                .exported
                .iter()
                .map(|g| tree.gate(&g.id).map(|t| t != g))
                .collect::<Option<Vec<bool>>>()
                .ok_or_else(|| {
                    fail(format!(
                        "the reviewed file has no gate {id:?} (or one of its regions), which the automated gating exported: keep every exported gate, edit it in place"
                    ))
                })?
                .into_iter()
                .any(|e| e),
            None => false,
        };
        let automated_events = record.events;
        let mut reviewed_events = automated_events;
        if edited || below_edited {
            // An exported gate takes the reviewed file's membership; one
            // that was not exported passes every event of its parent.
            let members = match (&record.id, record.parent.as_deref()) {
                (Some(id), _) => membership
                    .of(id)
                    .ok_or_else(|| fail(format!("gate {id:?} was not evaluated")))?
                    .to_vec(),
                (None, Some(parent)) => match pregates.mask_mut(parent) {
                    Some(mask) => mask.clone(),
                    None => continue,
                },
                (None, None) => continue,
            };
            changed.insert(record.name.clone());
            reviewed_events = count(&members);
            // The parent's record already holds its reviewed count.
            let parent_events = record
                .parent
                .as_ref()
                .and_then(|p| pregates.records.iter().find(|r| &r.name == p))
                .map(|r| r.events);
            let target = if record.name == names::BLASTS {
                search.events = reviewed_events;
                search.members = members;
                &mut search.record
            } else {
                if let Some(mask) = pregates.mask_mut(&record.name) {
                    *mask = members;
                }
                &mut pregates.records[k]
            };
            target.events = reviewed_events;
            target.percent_of_parent = parent_events.map_or(100.0, |p| percent(reviewed_events, p));
        }
        if let Some(id) = &record.id {
            gates.push(GateReview {
                id: id.clone(),
                edited,
                automated_events,
                reviewed_events,
            });
        }
    }
    Ok((
        Review {
            file: shown.clone(),
            gates,
        },
        ReviewedFile {
            shown,
            tree,
            membership,
        },
    ))
}
