//! marrowgate: multi-site flow-cytometry analysis of bone marrow for
//! common-B-ALL, from raw FCS files to a per-site adequacy verdict.
//!
//! The library is cut into stages, one module each; the `marrowgate` binary
//! is a thin command-line layer over them.

#![deny(missing_docs)]

pub mod compensation;
pub mod events;
pub mod fcs;
pub mod gate;
pub mod io;
pub mod memory;
pub mod report;
pub mod transform;
