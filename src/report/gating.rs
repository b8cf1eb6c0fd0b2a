//! `apply`: a Gating-ML gate tree applied to one FCS file: counts per gate,
//! and optionally the membership of every event.

use crate::events::FileEvents;
use crate::fcs::{FcsFile, FileError};
use crate::gate::gating_ml::{self, GatingMlError};
use crate::gate::tree::{GateCount, GateError, Membership};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Why a gate tree could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The FCS file is unreadable.
    #[error(transparent)]
    Fcs(#[from] FileError),
    /// The Gating-ML file is unusable.
    #[error(transparent)]
    GatingMl(#[from] GatingMlError),
    /// The gates do not fit the data.
    #[error("{path}: {source}")]
    Gate {
        /// FCS file.
        path: String,
        /// What does not fit.
        source: GateError,
    },
    /// The membership file could not be written.
    #[error("{path}: {source}")]
    Output {
        /// Output file.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
}

/// Counts of every gate of a tree on one file.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    /// FCS file.
    pub file: String,
    /// Gating-ML file.
    pub gating_ml: String,
    /// Data set gated (0-based).
    pub dataset: usize,
    /// Events in the data set.
    pub total_events: usize,
    /// Every gate in tree order.
    pub gates: Vec<GateCount>,
}

/// Applies the gates of `gml` to data set `dataset` of `fcs`; writes the
impl ApplyReport {
    /// Events of the gate `id`, if the tree has it.
    pub fn events(&self, id: &str) -> Option<u64> {
        self.gates
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.events as u64)
    }
}

/// per-event membership CSV to `membership` if given.
pub fn apply(
    fcs: &Path,
    gml: &Path,
    dataset: usize,
    membership: Option<&Path>,
) -> Result<ApplyReport, ApplyError> {
    let tree = gating_ml::read(gml)?;
    let file = FcsFile::open(fcs)?;
    let fcs_err = |source| FileError {
        path: fcs.to_path_buf(),
        source,
    };
    let info = file.dataset(dataset).map_err(fcs_err)?;
    // Channel values are computed in f64 straight from the stored bytes, so
    // gate boundaries fall exactly where f64 tools put them, and only the
    // columns the gates read are ever built.
    let source = FileEvents {
        file: &file,
        dataset,
    };
    let result: Membership = tree
        .evaluate(&source, info.metadata.spillover.as_ref())
        .map_err(|source| ApplyError::Gate {
            path: fcs.display().to_string(),
            source,
        })?;
    if let Some(out) = membership {
        write_membership(out, &result).map_err(|source| ApplyError::Output {
            path: out.display().to_string(),
            source,
        })?;
    }
    Ok(ApplyReport {
        file: fcs.display().to_string(),
        gating_ml: gml.display().to_string(),
        dataset,
        total_events: result.total,
        gates: result.counts,
    })
}

/// One 0/1 column per gate id, one row per event in file order.
pub fn write_membership(path: &Path, m: &Membership) -> std::io::Result<()> {
    const ROWS: usize = 1 << 16;
    crate::io::write_atomically(path, |out| {
        let header: Vec<String> = m.counts.iter().map(|c| super::csv::quote(&c.id)).collect();
        writeln!(out, "{}", header.join(","))?;
        let chunks: Vec<Vec<u8>> = (0..m.total.div_ceil(ROWS))
            .into_par_iter()
            .map(|c| {
                let (begin, end) = (c * ROWS, ((c + 1) * ROWS).min(m.total));
                let mut buf = Vec::with_capacity((end - begin) * m.members.len() * 2);
                for e in begin..end {
                    for (g, col) in m.members.iter().enumerate() {
                        if g > 0 {
                            buf.push(b',');
                        }
                        buf.push(if col[e] { b'1' } else { b'0' });
                    }
                    buf.push(b'\n');
                }
                buf
            })
            .collect();
        for c in chunks {
            out.write_all(&c)?;
        }
        Ok(())
    })
}

impl ApplyReport {
    /// Terminal table.
    pub fn to_text(&self) -> String {
        let w = self
            .gates
            .iter()
            .map(|g| g.id.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let pw = self
            .gates
            .iter()
            .filter_map(|g| g.parent.as_ref().map(String::len))
            .max()
            .unwrap_or(6)
            .max(6);
        let mut s = format!(
            "{}  ({} events, gates from {})\n",
            self.file, self.total_events, self.gating_ml
        );
        let _ = writeln!(
            s,
            "  {:<w$}  {:<pw$}  {:>10}  {:>9}  {:>9}",
            "gate", "parent", "events", "% parent", "% all"
        );
        for g in &self.gates {
            let _ = writeln!(
                s,
                "  {:<w$}  {:<pw$}  {:>10}  {:>9.3}  {:>9.3}",
                g.id,
                g.parent.as_deref().unwrap_or("-"),
                g.events,
                g.percent_of_parent,
                g.percent_of_total
            );
        }
        s
    }
}
