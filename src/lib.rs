//! marrowgate: multi-site flow-cytometry analysis of bone marrow for
//! common-B-ALL, from raw FCS files to a per-site adequacy verdict.
//!
//! The library is cut into stages, one module each, data flowing one way:
//! [`fcs`] (read, write) -> [`compensation`] -> [`transform`] -> [`gate`]
//! -> [`strategy`] -> [`qc`] -> [`compare`] -> [`analysis`] (results as
//! data) -> [`report`] and [`plot`] (renderers). The `marrowgate` binary is
//! a thin command-line layer over them. The types most users need are
//! re-exported here: analyse a case with [`analyze_case`] (or one site with
//! [`analyze_site`]) into a [`CaseReport`], follow a patient with
//! [`follow_course`], read files with [`FcsFile`] and gate them with a
//! [`GateTree`]. Helpers internal to a stage are not public.
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

// The entry points most library users need, at the crate root.
pub use analysis::case::{Case, CaseError, Site};
pub use analysis::course::{Course, CourseError};
pub use analysis::follow::{FollowReport, follow_course};
pub use analysis::site::{Settings, SiteReport, analyze_site};
pub use analysis::{CaseReport, analyze_case};
pub use fcs::{FcsError, FcsFile};
pub use gate::tree::GateTree;
pub use qc::{Limits, Status};

pub mod analysis;
pub mod compare;
pub mod compensation;
pub mod events;
pub mod fcs;
pub mod gate;
pub mod io;
pub(crate) mod memory;
pub mod plot;
pub mod qc;
pub mod report;
pub mod rng;
pub mod simulate;
pub(crate) mod stats;
pub mod strategy;
pub mod transform;
