//! The automated common-B-ALL gating strategy: find the markers, then gate
//! time stability, debris, singlets, viability, leukocytes, CD19+ B lineage,
//! CD10+ within it, and the blasts that depart from normal B-precursor
//! maturation. Thresholds come from the data ([`density`]).

pub mod blasts;
pub mod density;
pub mod hemodilution;
pub mod markers;
pub mod mixture;
pub mod pregate;
pub mod prepare;
