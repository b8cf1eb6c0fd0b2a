//! Simulated bone-marrow FCS files with known truth.
//!
//! Every event belongs to a named population (written beside the file as
//! `FILE.truth.csv`). Populations follow what marrow shows by flow
//! cytometry: granulocytes (mature neutrophils are CD10+), monocytes,
//! lymphocytes, mature B cells, hematogones as a maturation continuum
//! (CD34+CD10-bright CD20- CD45-dim to CD10- CD20-bright CD45-bright),
//! CD34+ myeloid progenitors, nucleated red cells (CD45-), optional
//! common-B-ALL blasts (a tight CD19+ CD10-bright CD45-dim CD20- CD38-dim
//! CD58-bright cluster), debris, dead cells (viability dye bright, sticky)
//! and doublets. Necrosis turns a sample into debris and dead cells;
//! hemodilution mixes in peripheral blood. Signals go through a spillover
//! matrix, electronic noise and detector saturation, like an instrument.
//! A seed gives the same file on any machine and thread count.

pub(crate) mod extra;
pub mod instrument;

use crate::fcs::{Keywords, Metadata, Version};
use crate::rng::Rng;
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Top of the linear scale, as on BD instruments.
pub const RANGE: f64 = 262_144.0;

/// Channels written: ($PnN, $PnS).
pub const CHANNELS: [(&str, &str); 12] = [
    ("FSC-A", ""),
    ("FSC-H", ""),
    ("SSC-A", ""),
    ("FITC-A", "CD20 FITC"),
    ("PE-A", "CD10 PE"),
    ("PerCP-Cy5-5-A", "CD34 PerCP-Cy5.5"),
    ("PE-Cy7-A", "CD19 PE-Cy7"),
    ("APC-A", "CD38 APC"),
    ("APC-R700-A", "CD58 APC-R700"),
    ("V500-A", "CD45 V500-C"),
    ("BV421-A", "Viability BV421"),
    ("Time", ""),
];

/// Fluorescence channels (indices into [`CHANNELS`]).
const FLUOR: std::ops::Range<usize> = 3..11;

/// Populations an event can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Population {
    /// Mature neutrophils (CD10+).
    NeutrophilMature,
    /// Myeloid precursors (promyelocytes, myelocytes; CD10-).
    GranulocytePrecursor,
    /// Monocytes.
    Monocyte,
    /// T and NK lymphocytes.
    Lymphocyte,
    /// Mature B cells (CD19+ CD20 bright, CD10-).
    MatureB,
    /// Normal B precursors along their maturation continuum.
    Hematogone,
    /// CD34+ myeloid progenitors.
    Cd34Progenitor,
    /// Nucleated red cells (CD45-).
    Erythroid,
    /// Common-B-ALL blasts.
    Blast,
    /// Cell debris.
    Debris,
    /// Dead cells.
    Dead,
    /// Two cells passing together.
    Doublet,
}

impl Population {
    /// Every population.
    pub const ALL: [Population; 12] = [
        Population::NeutrophilMature,
        Population::GranulocytePrecursor,
        Population::Monocyte,
        Population::Lymphocyte,
        Population::MatureB,
        Population::Hematogone,
        Population::Cd34Progenitor,
        Population::Erythroid,
        Population::Blast,
        Population::Debris,
        Population::Dead,
        Population::Doublet,
    ];

    /// The viable nucleated single-cell populations.
    pub fn nucleated() -> Vec<Population> {
        Population::ALL
            .into_iter()
            .filter(|p| p.is_viable_nucleated())
            .collect()
    }

    /// Name written in the truth file.
    pub fn name(self) -> &'static str {
        match self {
            Population::NeutrophilMature => "neutrophil_mature",
            Population::GranulocytePrecursor => "granulocyte_precursor",
            Population::Monocyte => "monocyte",
            Population::Lymphocyte => "lymphocyte",
            Population::MatureB => "mature_b",
            Population::Hematogone => "hematogone",
            Population::Cd34Progenitor => "cd34_progenitor",
            Population::Erythroid => "erythroid",
            Population::Blast => "blast",
            Population::Debris => "debris",
            Population::Dead => "dead",
            Population::Doublet => "doublet",
        }
    }

    /// Whether the population is a viable nucleated single cell.
    pub fn is_viable_nucleated(self) -> bool {
        !matches!(
            self,
            Population::Debris | Population::Dead | Population::Doublet
        )
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Events in the file.
    pub events: usize,
    /// Seed.
    pub seed: u64,
    /// Blasts as a fraction of viable nucleated single cells.
    pub blast_fraction: f64,
    /// Hematogones as a fraction of viable nucleated single cells (before
    /// hemodilution).
    pub hematogone_fraction: f64,
    /// 0 (none) to 1 (complete): shifts events to debris and dead cells.
    pub necrosis: f64,
    /// 0 (pure marrow) to 1 (peripheral blood).
    pub hemodilution: f64,
    /// Doublets as a fraction of all events.
    pub doublet_fraction: f64,
    /// Median intensities of the blasts (common-B-ALL by default).
    pub blast_phenotype: BlastPhenotype,
    /// Markers whose stain failed (`"CD19"`, `"CD10"`...): their channel
    /// carries only unstained autofluorescence, noise and spillover.
    pub failed_stains: Vec<String>,
    /// The antibody panel stained.
    pub panel: PanelProfile,
    /// How much the sample looks like real marrow rather than textbook
    /// populations, 0 (tight, symmetric, well separated: the default) to 1
    /// ([`Realism`]).
    pub realism: f64,
    /// No normal B cells at all, neither mature B cells nor hematogones
    /// (marrow under CD19-directed therapy such as blinatumomab);
    /// `hematogone_fraction` is then ignored.
    pub b_cell_aplasia: bool,
    /// Add CD22 and CD24 channels (`extra::B_LINEAGE_EXTRAS`), the
    /// B-lineage markers that show B cells and blasts without CD19.
    pub b_lineage_markers: bool,
}

/// What `realism` = 1 changes, each part scaled by the knob:
/// - every stained population is 0.3 decades wider (log-normal spread
///   +0.35 natural log) and skewed towards bright values;
/// - the hematogone continuum's earliest stage reaches into dim CD45 (half
///   the CD45 of the textbook stage I) and CD34 stays positive longer (to
///   45 % of the way instead of 30 %);
/// - debris is larger (its FSC mode 2.5x higher, smearing into the smallest
///   cells) and dead cells shrink less and scatter less (closer to the
///   lymphocytes), so both reach the lymphocyte scatter region.
#[derive(Debug, Clone, Copy)]
pub struct Realism;

impl Realism {
    /// Extra log-normal spread (natural log) at full realism.
    pub const EXTRA_SIGMA: f64 = 0.35;
    /// Right skew at full realism (coefficient of the second-order term).
    pub const SKEW: f64 = 0.25;
}

/// The antibody panel of the simulated tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PanelProfile {
    /// CD20, CD10, CD34, CD19, CD38, CD58, CD45 and a viability dye.
    #[default]
    Standard,
    /// The EuroFlow BCP-ALL MRD tube: CD81 in place of CD58, CD66c/CD123
    /// (one channel) in place of the viability dye, no viability dye.
    Euroflow,
    /// The Beckman ClearLLab 10C B-cell tube: kappa, lambda, CD10, CD5,
    /// CD200, CD34, CD38, CD20, CD19, CD45 (CD200 in place of CD58, CD5 in
    /// place of the viability dye, the light chains added); no CD58, no
    /// viability dye.
    Clearllab,
}

/// CD81 and CD66c/CD123 of a population (EuroFlow): CD81 bright on
/// hematogones and CD34+ progenitors, moderate on mature B and T cells, dim
/// on most blasts; CD66c bright on granulocytes, CD123 dim on monocytes and
/// progenitors.
fn euroflow_markers(p: Population, t: f64, blast: &BlastPhenotype) -> [f64; 2] {
    match p {
        Population::NeutrophilMature => [2.0 * NEG, 6000.0],
        Population::GranulocytePrecursor => [300.0, 5000.0],
        Population::Monocyte => [500.0, 700.0],
        Population::Lymphocyte => [2500.0, NEG],
        Population::MatureB => [3000.0, NEG],
        Population::Hematogone => {
            let lerp = |a: f64, b: f64| (a.ln() * (1.0 - t) + b.ln() * t).exp();
            [lerp(9000.0, 4000.0), NEG]
        }
        Population::Cd34Progenitor => [6000.0, 500.0],
        Population::Erythroid => [2000.0, NEG],
        Population::Blast => [blast.cd81, blast.cd66c],
        Population::Debris => [150.0, 150.0],
        Population::Dead => [500.0, 600.0],
        Population::Doublet => [2500.0, NEG],
    }
}

/// Median intensities (linear, before spillover) of the blast population,
/// so a sample can hold any leukemic phenotype: CD34 negative, CD45
/// negative, CD20 partial, CD38 moderate, CD58 normal...
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlastPhenotype {
    /// CD20.
    pub cd20: f64,
    /// CD10.
    pub cd10: f64,
    /// CD34.
    pub cd34: f64,
    /// CD19.
    pub cd19: f64,
    /// CD38.
    pub cd38: f64,
    /// CD58.
    pub cd58: f64,
    /// CD45.
    pub cd45: f64,
    /// CD81 (EuroFlow panel; dim on most common-B-ALL blasts).
    pub cd81: f64,
    /// CD66c/CD123 (EuroFlow panel; aberrant on some blasts).
    pub cd66c: f64,
    /// Log-scale (natural) spread of the positive markers.
    pub sigma: f64,
    /// The fraction of blasts that express CD20 at `cd20`; the others are
    /// CD20 negative (CD20-partial B-ALL: a CD20+ part, often CD34+ too,
    /// beside a CD20- part). 1 (the default) puts every blast at `cd20`.
    pub cd20_positive_fraction: f64,
}

impl Default for BlastPhenotype {
    /// Common-B-ALL as typically seen: CD10 bright, CD34+, CD19+, CD20-,
    /// CD38 dim, CD58 bright, CD45 dim.
    fn default() -> BlastPhenotype {
        BlastPhenotype {
            cd20: NEG,
            cd10: 30_000.0,
            cd34: 4_500.0,
            cd19: 8_000.0,
            cd38: 1_400.0,
            cd58: 10_000.0,
            cd45: 1_200.0,
            cd81: 700.0,
            cd66c: NEG,
            sigma: 0.35,
            cd20_positive_fraction: 1.0,
        }
    }
}

impl BlastPhenotype {
    /// Sets one marker by name ("CD38", "cd45", "sigma",
    /// "CD20-fraction" for `cd20_positive_fraction`); `false` when the name
    /// is not one of the blast markers.
    pub fn set(&mut self, marker: &str, value: f64) -> bool {
        let slot = match marker.to_ascii_uppercase().as_str() {
            "CD20" => &mut self.cd20,
            "CD10" => &mut self.cd10,
            "CD34" => &mut self.cd34,
            "CD19" => &mut self.cd19,
            "CD38" => &mut self.cd38,
            "CD58" => &mut self.cd58,
            "CD45" => &mut self.cd45,
            "CD81" => &mut self.cd81,
            "CD66C" => &mut self.cd66c,
            "SIGMA" => &mut self.sigma,
            "CD20-FRACTION" => &mut self.cd20_positive_fraction,
            _ => return false,
        };
        *slot = value;
        true
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            events: 100_000,
            seed: 1,
            blast_fraction: 0.0,
            hematogone_fraction: 0.05,
            necrosis: 0.0,
            hemodilution: 0.0,
            doublet_fraction: 0.02,
            blast_phenotype: BlastPhenotype::default(),
            failed_stains: Vec::new(),
            panel: PanelProfile::Standard,
            realism: 0.0,
            b_cell_aplasia: false,
            b_lineage_markers: false,
        }
    }
}

/// Why a configuration cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulateError {
    /// A fraction outside its range.
    #[error("{name} = {value}: must be between 0 and {max}")]
    OutOfRange {
        /// Parameter.
        name: &'static str,
        /// Value given.
        value: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A failed stain names no simulated marker.
    #[error(
        "failed stain {0:?}: not a simulated marker (CD20, CD10, CD34, CD19, CD38, CD58, CD45, Viability)"
    )]
    UnknownMarker(String),
    /// Writing failed.
    #[error("{0}")]
    Write(String),
}

impl Simulation {
    /// The true blast percentage: blasts, % of viable nucleated single
    /// cells (what `blast_percent` of an analysis estimates).
    pub fn true_blast_percent(&self) -> f64 {
        let viable = self
            .truth
            .iter()
            .filter(|p| p.is_viable_nucleated())
            .count();
        let blasts = self
            .truth
            .iter()
            .filter(|p| **p == Population::Blast)
            .count();
        100.0 * blasts as f64 / viable.max(1) as f64
    }
}

/// A simulated sample.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// FCS keywords (channels, spillover, instrument).
    pub keywords: Keywords,
    /// Channel values, events x channels (as [`CHANNELS`], then any
    /// channels an instrument profile adds).
    pub events: Array2<f32>,
    /// Population of every event.
    pub truth: Vec<Population>,
    /// How the file is laid out on disk.
    pub file_layout: FileLayout,
}

/// How a simulated file is stored, as the instrument family writes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileLayout {
    /// Float or integer values.
    pub storage: crate::fcs::writer::Storage,
    /// A Beckman LMD file: the events first as an FCS 2.0 set on a 1,024
    /// channel scale, then at full resolution as an FCS 3.1 set.
    pub lmd: bool,
}

/// Median phenotype of a population: FSC-A, SSC-A and the 8 fluorescence
/// markers (true signal before spillover and noise).
#[derive(Debug, Clone, Copy)]
struct Phenotype {
    fsc: f64,
    ssc: f64,
    markers: [f64; 8],
    /// Log-scale spread of positive markers.
    sigma: f64,
}

/// Unstained level (autofluorescence) of a marker the cell lacks.
const NEG: f64 = 60.0;

fn phenotype(p: Population, t: f64, blast: &BlastPhenotype, realism: f64) -> Phenotype {
    // markers: CD20, CD10, CD34, CD19, CD38, CD58, CD45, viability
    let m = |cd20, cd10, cd34, cd19, cd38, cd58, cd45| {
        [cd20, cd10, cd34, cd19, cd38, cd58, cd45, 120.0]
    };
    match p {
        Population::NeutrophilMature => Phenotype {
            fsc: 95e3,
            ssc: 130e3,
            markers: m(NEG, 3500.0, NEG, NEG, 350.0, 900.0, 5000.0),
            sigma: 0.4,
        },
        Population::GranulocytePrecursor => Phenotype {
            fsc: 105e3,
            ssc: 150e3,
            markers: m(NEG, NEG, NEG, NEG, 1800.0, 1200.0, 3500.0),
            sigma: 0.4,
        },
        Population::Monocyte => Phenotype {
            fsc: 85e3,
            ssc: 55e3,
            markers: m(NEG, NEG, NEG, NEG, 2500.0, 1500.0, 14000.0),
            sigma: 0.35,
        },
        Population::Lymphocyte => Phenotype {
            fsc: 52e3,
            ssc: 14e3,
            markers: m(NEG, NEG, NEG, NEG, 900.0, 1000.0, 22000.0),
            sigma: 0.35,
        },
        Population::MatureB => Phenotype {
            fsc: 52e3,
            ssc: 13e3,
            markers: m(14000.0, NEG, NEG, 7000.0, 1200.0, 1000.0, 20000.0),
            sigma: 0.35,
        },
        Population::Hematogone => {
            // Stage I (t = 0) to stage III (t = 1), interpolated on log scale.
            let lerp = |a: f64, b: f64| (a.ln() * (1.0 - t) + b.ln() * t).exp();
            let cd34_end = 0.3 + 0.15 * realism;
            let cd34 = if t < cd34_end {
                lerp(2500.0, 200.0)
            } else {
                NEG
            };
            let cd45_start = 3500.0 * (1.0 - 0.5 * realism);
            Phenotype {
                fsc: 46e3,
                ssc: 11e3,
                markers: m(
                    lerp(80.0, 11000.0),
                    lerp(9000.0, 150.0),
                    cd34,
                    6500.0,
                    lerp(14000.0, 3000.0),
                    1100.0,
                    lerp(cd45_start, 17000.0),
                ),
                sigma: 0.35,
            }
        }
        Population::Cd34Progenitor => Phenotype {
            fsc: 60e3,
            ssc: 22e3,
            markers: m(NEG, NEG, 3500.0, NEG, 9000.0, 1500.0, 4500.0),
            sigma: 0.35,
        },
        Population::Erythroid => Phenotype {
            fsc: 42e3,
            ssc: 9e3,
            markers: m(NEG, NEG, NEG, NEG, 400.0, 600.0, 90.0),
            sigma: 0.4,
        },
        Population::Blast => Phenotype {
            fsc: 56e3,
            ssc: 13e3,
            // `t` (uniform) picks the CD20+ part, so a partial phenotype
            // draws no extra random numbers.
            markers: m(
                if t < blast.cd20_positive_fraction {
                    blast.cd20
                } else {
                    NEG
                },
                blast.cd10,
                blast.cd34,
                blast.cd19,
                blast.cd38,
                blast.cd58,
                blast.cd45,
            ),
            sigma: blast.sigma,
        },
        Population::Debris => Phenotype {
            fsc: 9e3 * (1.0 + 1.5 * realism),
            ssc: 7e3,
            markers: [150.0, 150.0, 150.0, 150.0, 150.0, 150.0, 200.0, 1500.0],
            sigma: 0.7,
        },
        Population::Dead => Phenotype {
            fsc: 28e3 * (1.0 + 0.3 * realism),
            ssc: 35e3 * (1.0 - 0.3 * realism),
            markers: [400.0, 500.0, 300.0, 400.0, 600.0, 500.0, 1500.0, 9000.0],
            sigma: 0.6,
        },
        Population::Doublet => phenotype(Population::Lymphocyte, t, blast, realism),
    }
}

/// Composition of viable nucleated single cells.
fn nucleated_mix(cfg: &Config) -> Vec<(Population, f64)> {
    use Population::*;
    let marrow = [
        (NeutrophilMature, 0.30),
        (GranulocytePrecursor, 0.22),
        (Monocyte, 0.06),
        (Lymphocyte, 0.12),
        (MatureB, 0.03),
        (Cd34Progenitor, 0.015),
        (Erythroid, 0.20),
    ];
    let blood = [
        (NeutrophilMature, 0.60),
        (GranulocytePrecursor, 0.005),
        (Monocyte, 0.07),
        (Lymphocyte, 0.30),
        (MatureB, 0.025),
    ];
    let h = cfg.hemodilution;
    let hg = if cfg.b_cell_aplasia {
        0.0
    } else {
        cfg.hematogone_fraction * (1.0 - h)
    };
    let b_cells = |p: Population, f: f64| {
        if cfg.b_cell_aplasia && p == MatureB {
            0.0
        } else {
            f
        }
    };
    let others = 1.0 - hg - cfg.blast_fraction;
    let marrow_total: f64 = marrow.iter().map(|m| m.1).sum();
    let blood_total: f64 = blood.iter().map(|m| m.1).sum();
    let mut mix: Vec<(Population, f64)> = Vec::new();
    for (p, f) in marrow {
        mix.push((p, b_cells(p, others * (1.0 - h) * f / marrow_total)));
    }
    for (p, f) in blood {
        if let Some(e) = mix.iter_mut().find(|e| e.0 == p) {
            e.1 += b_cells(p, others * h * f / blood_total);
        }
    }
    mix.push((Hematogone, hg));
    mix.push((Blast, cfg.blast_fraction));
    mix
}

/// Event composition: debris, dead, doublets, then the nucleated mix.
fn composition(cfg: &Config) -> Vec<(Population, f64)> {
    let debris = 0.04 + 0.80 * cfg.necrosis;
    let dead = 0.03 + 0.14 * cfg.necrosis;
    let doublets = cfg.doublet_fraction * (1.0 - cfg.necrosis);
    let viable = (1.0 - debris - dead - doublets).max(0.0);
    let mut c = vec![
        (Population::Debris, debris),
        (Population::Dead, dead),
        (Population::Doublet, doublets),
    ];
    c.extend(nucleated_mix(cfg).into_iter().map(|(p, f)| (p, f * viable)));
    c
}

/// Spillover of fluorochrome i into detector j (rows fluorochromes).
fn spillover() -> [[f64; 8]; 8] {
    let mut s = [[0.0; 8]; 8];
    for (i, row) in s.iter_mut().enumerate() {
        row[i] = 1.0;
        if i + 1 < 8 {
            row[i + 1] = 0.12;
        }
        if i >= 1 {
            row[i - 1] = 0.03;
        }
    }
    s[1][3] = 0.02; // PE into PE-Cy7
    s
}

/// One event's true signals: FSC-A, FSC-H, SSC-A, 8 markers.
fn draw(p: Population, rng: &mut Rng, cfg: &Config) -> [f64; 11] {
    let (blast, panel, realism) = (&cfg.blast_phenotype, cfg.panel, cfg.realism);
    let t = rng.uniform();
    let mut ph = phenotype(p, t, blast, realism);
    match panel {
        PanelProfile::Standard => {}
        PanelProfile::Euroflow => {
            let [cd81, cd66] = euroflow_markers(p, t, blast);
            ph.markers[5] = cd81;
            ph.markers[7] = cd66;
        }
        PanelProfile::Clearllab => {
            use extra::{Extra, median};
            ph.markers[5] = median(p, Extra::Cd(200), t, ph.ssc);
            ph.markers[7] = median(p, Extra::Cd(5), t, ph.ssc);
        }
    }
    let mut e = [0.0; 11];
    e[0] = rng.lognormal(ph.fsc, 0.12);
    e[1] = e[0] * 0.88 * (1.0 + 0.03 * rng.normal());
    e[2] = rng.lognormal(ph.ssc, 0.2);
    for (k, &median) in ph.markers.iter().enumerate() {
        e[3 + k] = if median <= NEG {
            rng.lognormal(median, 0.5)
        } else {
            // Wider and right-skewed with realism.
            let z = rng.normal();
            let z = z + Realism::SKEW * realism * (z * z - 1.0);
            median * ((ph.sigma + Realism::EXTRA_SIGMA * realism) * z).exp()
        };
    }
    e
}

fn check(name: &'static str, value: f64, max: f64) -> Result<(), SimulateError> {
    if (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(SimulateError::OutOfRange { name, value, max })
    }
}

/// Simulates one sample.
pub fn simulate(cfg: &Config) -> Result<Simulation, SimulateError> {
    check("blast_fraction", cfg.blast_fraction, 0.95)?;
    check("hematogone_fraction", cfg.hematogone_fraction, 0.6)?;
    check("necrosis", cfg.necrosis, 1.0)?;
    check("hemodilution", cfg.hemodilution, 1.0)?;
    check("doublet_fraction", cfg.doublet_fraction, 0.2)?;
    check("realism", cfg.realism, 1.0)?;
    if cfg.blast_fraction + cfg.hematogone_fraction > 0.98 {
        return Err(SimulateError::OutOfRange {
            name: "blast_fraction + hematogone_fraction",
            value: cfg.blast_fraction + cfg.hematogone_fraction,
            max: 0.98,
        });
    }
    let comp = composition(cfg);
    let mut cumulative = Vec::with_capacity(comp.len());
    let mut acc = 0.0;
    for (_, f) in &comp {
        acc += f;
        cumulative.push(acc);
    }
    let singlets: Vec<Population> = comp
        .iter()
        .map(|c| c.0)
        .filter(|p| p.is_viable_nucleated())
        .collect();
    let mut failed = [false; 8];
    for m in &cfg.failed_stains {
        let k = FLUOR
            .clone()
            .position(|d| {
                let label = CHANNELS[d].1.to_ascii_uppercase();
                label.split_whitespace().next() == Some(&m.to_ascii_uppercase())
            })
            .ok_or_else(|| SimulateError::UnknownMarker(m.clone()))?;
        failed[k] = true;
    }
    let spill = spillover();
    let root = Rng::new(cfg.seed);
    const BLOCK: usize = 1 << 14;
    let p = CHANNELS.len();
    let mut events = Array2::<f32>::zeros((cfg.events, p));
    let mut truth = vec![Population::Debris; cfg.events];
    events
        .as_slice_mut()
        .unwrap_or(&mut [])
        .par_chunks_mut(BLOCK * p)
        .zip(truth.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, (rows, pops))| {
            let mut rng = root.fork(b as u64);
            for (row, pop) in rows.chunks_exact_mut(p).zip(pops.iter_mut()) {
                let population = comp[rng.choose(&cumulative)].0;
                *pop = population;
                let signal = if population == Population::Doublet {
                    let a = draw(
                        singlets[(rng.next_u64() % singlets.len() as u64) as usize],
                        &mut rng,
                        cfg,
                    );
                    let c = draw(
                        singlets[(rng.next_u64() % singlets.len() as u64) as usize],
                        &mut rng,
                        cfg,
                    );
                    let mut s = [0.0; 11];
                    for k in 0..11 {
                        s[k] = a[k] + c[k];
                    }
                    // Two cells side by side: the pulse is longer, not taller.
                    s[1] = a[1].max(c[1]) * 1.08;
                    s
                } else {
                    draw(population, &mut rng, cfg)
                };
                let mut signal = signal;
                for (k, _) in failed.iter().enumerate().filter(|(_, f)| **f) {
                    signal[3 + k] = rng.lognormal(NEG, 0.5);
                }
                for k in 0..3 {
                    row[k] = (signal[k] + 300.0 * rng.normal()).clamp(0.0, RANGE - 1.0) as f32;
                }
                for (j, d) in FLUOR.enumerate() {
                    let detected: f64 = (0..8).map(|i| signal[3 + i] * spill[i][j]).sum();
                    // Electronic noise plus photon statistics.
                    let noise =
                        35.0 * rng.normal() + (detected.max(0.0) * 2.0).sqrt() * rng.normal();
                    row[d] = (detected + noise).clamp(-500.0, RANGE - 1.0) as f32;
                }
            }
        });
    // Time in seconds (a channel value): a 10-minute acquisition.
    let n = cfg.events.max(1) as f64;
    for (i, mut row) in events.rows_mut().into_iter().enumerate() {
        row[p - 1] = (600.0 * i as f64 / n) as f32;
    }
    let mut sim = Simulation {
        keywords: keywords(cfg),
        events,
        truth,
        file_layout: FileLayout::default(),
    };
    if cfg.panel == PanelProfile::Clearllab {
        extra::append(&mut sim, &extra::CLEARLLAB_LIGHT_CHAINS, cfg.seed);
    }
    if cfg.b_lineage_markers {
        extra::append(&mut sim, &extra::B_LINEAGE_EXTRAS, cfg.seed ^ 0x22_24);
    }
    Ok(sim)
}

fn keywords(cfg: &Config) -> Keywords {
    let mut k = Keywords::new();
    k.set("$DATATYPE", "F");
    k.set("$BYTEORD", "1,2,3,4");
    k.set("$PAR", CHANNELS.len().to_string());
    k.set("$CYT", "marrowgate simulator");
    k.set("$TIMESTEP", "0.01");
    k.set("$SRC", "simulated bone marrow");
    for (i, (n, s)) in CHANNELS.iter().enumerate() {
        let key = |x: &str| format!("$P{}{x}", i + 1);
        k.set(&key("N"), *n);
        if !s.is_empty() {
            k.set(&key("S"), *s);
        }
        k.set(&key("B"), "32");
        k.set(&key("E"), "0,0");
        k.set(&key("R"), "262144");
    }
    match cfg.panel {
        PanelProfile::Standard => {}
        PanelProfile::Euroflow => {
            // CD58 APC-R700 -> CD81; the viability channel -> CD66c/CD123.
            k.set("$P9S", "CD81 APC-R700");
            k.set("$P11S", "CD66c/CD123 BV421");
        }
        PanelProfile::Clearllab => {
            // The tube's own dyes; CD58 -> CD200, viability -> CD5.
            for (n, label) in [
                (4, "CD20 APC-A750"),
                (5, "CD10 ECD"),
                (6, "CD34 APC"),
                (7, "CD19 PB"),
                (8, "CD38 APC-A700"),
                (9, "CD200 PC7"),
                (10, "CD45 KrO"),
                (11, "CD5 PC5.5"),
            ] {
                k.set(&format!("$P{n}S"), label);
            }
        }
    }
    let spill = spillover();
    let mut value = format!("{}", spill.len());
    for d in FLUOR {
        value.push(',');
        value.push_str(CHANNELS[d].0);
    }
    for row in spill {
        for v in row {
            value.push_str(&format!(",{v}"));
        }
    }
    k.set("$SPILLOVER", value);
    k.set(
        "MARROWGATE_SIMULATION",
        serde_json::to_string(cfg).unwrap_or_default(),
    );
    k
}

/// The channel scale of an LMD file's FCS 2.0 data set.
const LMD_CHANNELS: f64 = 1024.0;

/// Path of the truth file written beside `fcs`.
pub fn truth_path(fcs: &Path) -> PathBuf {
    let mut name = fcs
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".truth.csv");
    fcs.with_file_name(name)
}

/// Writes the sample as FCS 3.1 (preceded by an FCS 2.0 set for an LMD
/// layout) and its truth beside it, atomically.
pub fn write(sim: &Simulation, path: &Path) -> Result<(), SimulateError> {
    use crate::fcs::writer::{DataSetToWrite, Header, Storage, encode_chained};
    let channels_of = |version, keywords: &Keywords| {
        let mut warnings = Vec::new();
        Metadata::from_keywords(version, keywords, &mut warnings)
            .map(|m| m.channels)
            .map_err(|e| SimulateError::Write(e.to_string()))
    };
    let full = channels_of(Version::Fcs3_1, &sim.keywords)?;
    let full_set = DataSetToWrite {
        keywords: &sim.keywords,
        channels: &full,
        events: sim.events.view(),
        storage: sim.file_layout.storage,
        header: Header::Fcs3_1,
    };
    let bytes = if sim.file_layout.lmd {
        // The FCS 2.0 set: every non-time channel on a 1,024-channel scale.
        let mut keywords = sim.keywords.clone();
        let mut events = sim.events.clone();
        for (j, c) in full.iter().enumerate() {
            if crate::fcs::channel_name::is_time_channel(&c.name) {
                continue;
            }
            let factor = (LMD_CHANNELS / c.range.max(1.0)) as f32;
            events.column_mut(j).mapv_inplace(|v| v * factor);
            keywords.set(&format!("$P{}R", j + 1), format!("{LMD_CHANNELS}"));
        }
        let short = channels_of(Version::Fcs2_0, &keywords)?;
        encode_chained(&[
            DataSetToWrite {
                keywords: &keywords,
                channels: &short,
                events: events.view(),
                storage: Storage::UInt32,
                header: Header::Fcs2_0,
            },
            full_set,
        ])
    } else {
        encode_chained(&[full_set])
    }
    .map_err(|e| SimulateError::Write(format!("{}: {e}", path.display())))?;
    crate::io::write_bytes_atomically(path, &bytes)
        .map_err(|e| SimulateError::Write(format!("{}: {e}", path.display())))?;
    let truth = truth_path(path);
    crate::io::write_atomically(&truth, |out| {
        use std::io::Write;
        writeln!(out, "population")?;
        for p in &sim.truth {
            writeln!(out, "{}", p.name())?;
        }
        Ok(())
    })
    .map_err(|e| SimulateError::Write(format!("{}: {e}", truth.display())))
}

#[cfg(test)]
mod tests;
