//! The automated common-B-ALL gating strategy: find the markers, then gate
//! time stability, debris, singlets, viability, leukocytes, CD19+ B lineage,
//! CD10+ within it, and the blasts that depart from normal B-precursor
//! maturation. Thresholds come from the data (`density`).

pub mod blasts;
pub(crate) mod cd19_negative;
pub(crate) mod density;
pub(crate) mod export;
pub(crate) mod hemodilution;
pub mod markers;
pub(crate) mod mixture;
pub(crate) mod pregate;
pub(crate) mod prepare;
pub(crate) mod stains;

// The strategy's results as the site report carries them.
pub use cd19_negative::Cd19NegativeSearch;
pub use hemodilution::MarrowIndicators;
pub use pregate::{GateRecord, PreGates, PregateSettings, SizeCheck, View};
pub use prepare::Prepared;
pub use stains::StainCheck;

/// Test support: a simulated site written, read back and prepared.
#[cfg(test)]
pub(crate) mod testing {
    use super::markers::MarkerMap;
    use super::prepare::{Prepared, prepare};
    use crate::fcs::FcsFile;
    use crate::simulate::{Config, Population, simulate, write};

    /// Simulates `cfg`, writes it as FCS (under a folder named by `tag`),
    /// reads it back and prepares it; returns the prepared site and the
    /// truth.
    pub fn prepared_site(cfg: &Config, tag: &str) -> (Prepared, Vec<Population>) {
        let dir =
            std::env::temp_dir().join(format!("mg-{tag}-{}-{}", std::process::id(), cfg.seed));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("site.fcs");
        let sim = simulate(cfg).expect("simulates");
        write(&sim, &path).expect("writes");
        let f = FcsFile::open(&path).expect("reads");
        let ch: Vec<(String, Option<String>)> =
            crate::fcs::metadata::names_and_labels(&f.datasets()[0].metadata.channels);
        let markers = MarkerMap::for_analysis(&ch, &[]);
        assert!(markers.missing_required().is_empty());
        let prepared = prepare(&f, 0, &markers).expect("prepares");
        std::fs::remove_dir_all(dir).ok();
        (prepared, sim.truth)
    }
}
