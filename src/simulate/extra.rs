//! Channels beyond the simulator's core eight markers: the other antigens
//! of wide spectral panels (CD3, CD22, CD24, CD13, HLA-DR...), the light
//! chains of the ClearLLab B-cell tube, an autofluorescence channel and a
//! violet side scatter. They are drawn from every event's true population
//! after the core simulation, already compensated (unmixed), so adding them
//! never changes the core channels of a seed.

use super::{NEG, Population, RANGE, Simulation};
use crate::rng::Rng;
use rayon::prelude::*;

/// What an added channel measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// A CD antigen by number.
    Cd(u16),
    /// HLA-DR.
    HlaDr,
    /// Immunoglobulin kappa light chain.
    Kappa,
    /// Immunoglobulin lambda light chain.
    Lambda,
    /// Autofluorescence (unmixed `AF-A`).
    Autofluorescence,
    /// Side scatter from the violet laser (`SSC-B-A`).
    VioletSsc,
}

/// An added channel: `$PnN`, `$PnS` (empty for none) and what it measures.
#[derive(Debug, Clone, Copy)]
pub struct ExtraChannel {
    /// `$PnN`.
    pub name: &'static str,
    /// `$PnS`.
    pub label: &'static str,
    /// The antigen or signal.
    pub measures: Extra,
}

const fn ch(name: &'static str, label: &'static str, measures: Extra) -> ExtraChannel {
    ExtraChannel {
        name,
        label,
        measures,
    }
}

/// The light chains the ClearLLab 10C B-cell tube adds to its eight
/// channels shared with the core panel.
/// Named with the marker (as exports do), so no layout's detector name
/// collides with them.
pub const CLEARLLAB_LIGHT_CHAINS: [ExtraChannel; 2] = [
    ch("Kappa FITC-A", "Kappa FITC", Extra::Kappa),
    ch("Lambda PE-A", "Lambda PE", Extra::Lambda),
];

/// CD22 and CD24, added to a conventional tube to gate B cells and blasts
/// that lost CD19 (after blinatumomab or CD19 CAR-T cells). Named with the
/// marker, so no layout's detector name collides with them.
pub const B_LINEAGE_EXTRAS: [ExtraChannel; 2] = [
    ch("CD22 PE-CF594-A", "CD22 PE-CF594", Extra::Cd(22)),
    ch("CD24 BV605-A", "CD24 BV605", Extra::Cd(24)),
];

/// A 34-channel spectral tube (Cytek Aurora): violet side scatter, an
/// autofluorescence channel and 20 markers this analysis mostly does not
/// read, several of them informative in B-ALL (CD22, CD24, CD123, CD73,
/// CD304, CD13, CD33).
pub const SPECTRAL_EXTRAS: [ExtraChannel; 22] = [
    ch("SSC-B-A", "", Extra::VioletSsc),
    ch("AF-A", "", Extra::Autofluorescence),
    ch("BUV395-A", "CD3 BUV395", Extra::Cd(3)),
    ch("BUV496-A", "CD5 BUV496", Extra::Cd(5)),
    ch("BUV563-A", "CD7 BUV563", Extra::Cd(7)),
    ch("BUV615-A", "CD22 BUV615", Extra::Cd(22)),
    ch("BUV661-A", "CD24 BUV661", Extra::Cd(24)),
    ch("BUV737-A", "CD13 BUV737", Extra::Cd(13)),
    ch("BUV805-A", "CD33 BUV805", Extra::Cd(33)),
    ch("BV480-A", "CD123 BV480", Extra::Cd(123)),
    ch("BV570-A", "CD73 BV570", Extra::Cd(73)),
    ch("BV605-A", "CD304 BV605", Extra::Cd(304)),
    ch("BV650-A", "CD200 BV650", Extra::Cd(200)),
    ch("BV711-A", "HLA-DR BV711", Extra::HlaDr),
    ch("BV750-A", "CD71 BV750", Extra::Cd(71)),
    ch("BV786-A", "CD14 BV786", Extra::Cd(14)),
    ch("PE-CF594-A", "CD16 PE-CF594", Extra::Cd(16)),
    ch("PE-Cy5-A", "CD56 PE-Cy5", Extra::Cd(56)),
    ch("PE-Fire 810-A", "CD11b PE-Fire 810", Extra::Cd(11)),
    ch("Spark NIR 685-A", "CD15 Spark NIR 685", Extra::Cd(15)),
    ch("APC-Fire 750-A", "CD64 APC-Fire 750", Extra::Cd(64)),
    ch("Alexa Fluor 532-A", "CD117 AF532", Extra::Cd(117)),
];

/// Median true signal of `extra` on a cell of population `p`. `subset` (a
/// uniform draw per event) splits lymphocytes into T (80 %) and NK cells
/// and B cells into kappa (60 %) and lambda; `ssc` is the event's side
/// scatter.
pub(super) fn median(p: Population, extra: Extra, subset: f64, ssc: f64) -> f64 {
    use Extra::*;
    use Population::*;
    let t_cell = subset < 0.8;
    let kappa = subset < 0.6;
    match (extra, p) {
        (VioletSsc, _) => 1.3 * ssc,
        (Autofluorescence, NeutrophilMature | GranulocytePrecursor) => 1800.0,
        (Autofluorescence, Monocyte | Dead) => 900.0,
        (Autofluorescence, _) => 300.0,
        // Dead cells stain non-specifically; debris faintly.
        (_, Dead) => 700.0,
        (_, Debris) => 150.0,
        (_, Doublet) => median(Lymphocyte, extra, subset, ssc),
        (Cd(3), Lymphocyte) if t_cell => 9000.0,
        (Cd(5), Lymphocyte) if t_cell => 7000.0,
        (Cd(5), MatureB) if subset > 0.9 => 1500.0,
        (Cd(7), Lymphocyte) => 6000.0,
        (Cd(56) | Cd(16), Lymphocyte) if !t_cell => 5000.0,
        (Cd(22), MatureB) => 4000.0,
        (Cd(22), Hematogone) => 1500.0,
        (Cd(22), Blast) => 2500.0,
        (Cd(24), MatureB | Hematogone | Blast) => 6000.0,
        (Cd(24), NeutrophilMature | GranulocytePrecursor) => 9000.0,
        (Cd(13), NeutrophilMature | GranulocytePrecursor | Monocyte) => 5000.0,
        (Cd(13), Cd34Progenitor) => 2500.0,
        (Cd(33), Monocyte) => 9000.0,
        (Cd(33), NeutrophilMature | GranulocytePrecursor | Cd34Progenitor) => 1500.0,
        (Cd(123), Monocyte) => 700.0,
        (Cd(123), Cd34Progenitor) => 500.0,
        (Cd(73), Lymphocyte | MatureB) => 400.0,
        (Cd(200), MatureB) => 3000.0,
        (Cd(200), Hematogone) => 1500.0,
        (Cd(200), Blast) => 8000.0,
        (HlaDr, MatureB | Hematogone | Blast | Monocyte | Cd34Progenitor) => 8000.0,
        (Cd(71), Erythroid) => 20_000.0,
        (Cd(71), Blast | Cd34Progenitor | GranulocytePrecursor) => 1500.0,
        (Cd(14), Monocyte) => 8000.0,
        (Cd(16), NeutrophilMature) => 12_000.0,
        (Cd(11), NeutrophilMature | Monocyte) => 6000.0,
        (Cd(15), NeutrophilMature | GranulocytePrecursor) => 15_000.0,
        (Cd(64), Monocyte) => 6000.0,
        (Cd(64), GranulocytePrecursor) => 1500.0,
        (Cd(117), Cd34Progenitor) => 3000.0,
        (Kappa, MatureB) if kappa => 6000.0,
        (Lambda, MatureB) if !kappa => 5000.0,
        _ => NEG,
    }
}

/// Appends `channels` to `sim` (after its last channel), drawn from each
/// event's true population with a generator of their own (`seed`).
pub fn append(sim: &mut Simulation, channels: &[ExtraChannel], seed: u64) {
    let (n, p) = sim.events.dim();
    let extra = channels.len();
    if extra == 0 {
        return;
    }
    let ssc_column = 2;
    let root = Rng::new(seed ^ 0x5eed_e47a_c4a9_9e15);
    const BLOCK: usize = 1 << 14;
    let mut added = vec![0f32; n * extra];
    added
        .par_chunks_mut(BLOCK * extra)
        .enumerate()
        .for_each(|(b, rows)| {
            let mut rng = root.fork(b as u64);
            for (k, row) in rows.chunks_exact_mut(extra).enumerate() {
                let i = b * BLOCK + k;
                let population = sim.truth[i];
                let ssc = f64::from(sim.events[[i, ssc_column]]);
                let subset = rng.uniform();
                for (value, c) in row.iter_mut().zip(channels) {
                    let m = median(population, c.measures, subset, ssc);
                    let signal = if c.measures == Extra::VioletSsc {
                        m * (1.0 + 0.05 * rng.normal())
                    } else {
                        let sigma = if m <= NEG { 0.5 } else { 0.3 };
                        rng.lognormal(m, sigma) + 35.0 * rng.normal()
                    };
                    *value = signal.clamp(-500.0, RANGE - 1.0) as f32;
                }
            }
        });
    let mut events = ndarray::Array2::<f32>::zeros((n, p + extra));
    events.slice_mut(ndarray::s![.., ..p]).assign(&sim.events);
    if let Ok(added) = ndarray::Array2::from_shape_vec((n, extra), added) {
        events.slice_mut(ndarray::s![.., p..]).assign(&added);
    }
    sim.events = events;
    for (j, c) in channels.iter().enumerate() {
        let key = |x: &str| format!("$P{}{x}", p + j + 1);
        sim.keywords.set(&key("N"), c.name);
        if !c.label.is_empty() {
            sim.keywords.set(&key("S"), c.label);
        }
        sim.keywords.set(&key("B"), "32");
        sim.keywords.set(&key("E"), "0,0");
        sim.keywords.set(&key("R"), format!("{}", RANGE as u64));
    }
    sim.keywords.set("$PAR", (p + extra).to_string());
}
