//! marrowgate: multi-site flow-cytometry analysis of bone marrow for
//! common-B-ALL, from raw FCS files to a per-site adequacy verdict.
//!
//! The library is cut into stages, one module each; the `marrowgate` binary
//! is a thin command-line layer over them.
//!
//! ```
//! use marrowgate::events::FileEvents;
//! use marrowgate::fcs::FcsFile;
//! use marrowgate::gate::gating_ml;
//!
//! // Read a real FCS file and gate it with a Gating-ML 2.0 file.
//! let fcs = FcsFile::open("tests/data/fcs-corpus/data1.fcs")?;
//! let info = &fcs.datasets()[0];
//! assert_eq!(info.event_count, 13_367);
//! let tree = gating_ml::read("tests/data/gatingml/gml/gml_rect1_gate.xml".as_ref())?;
//! let result = tree.evaluate(&FileEvents { file: &fcs, dataset: 0 }, info.metadata.spillover.as_ref())?;
//! assert!(result.counts[0].events > 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod analysis;
pub mod compare;
pub mod compensation;
pub mod events;
pub mod fcs;
pub mod gate;
pub mod io;
pub mod memory;
pub mod plot;
pub mod qc;
pub mod report;
pub mod rng;
pub mod simulate;
pub mod stats;
pub mod strategy;
pub mod transform;
