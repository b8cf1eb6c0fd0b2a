//! The simulated marrow as each cytometer family writes it: channel names
//! (`$PnN`), where markers sit (`$PnS` or the name), ranges, and whether
//! the file carries a spillover matrix or already compensated (unmixed)
//! data. Signals are scaled with the range, as a detector of that
//! instrument would record them.

use super::{CHANNELS, FileLayout, Simulation};
use crate::compensation::Compensation;
use crate::fcs::writer::Storage;
use serde::Serialize;

/// A cytometer family's file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Instrument {
    /// BD FACSCanto II / Fortessa (FACSDiva): `FSC-A`, `PE-Cy7-A`,
    /// markers in `$PnS`, 262,144, `$SPILLOVER` (the simulator's own).
    Canto,
    /// BD FACSLyric (FACSuite): BD names, laser-filter detectors
    /// (`B 530/30-A`...), markers in `$PnS`, 262,144, `$SPILLOVER`.
    Lyric,
    /// Beckman Coulter Navios / Gallios LMD: `FS INT`, `FS PEAK`, `SS INT`,
    /// `FL1 INT`..., markers in `$PnS`, 32-bit integers on 2^20, an FCS 2.0
    /// set (1,024 channels) followed by the FCS 3 set, `$SPILLOVER`.
    Navios,
    /// Kaluza export: `Comp-` names carrying the marker, `$PnS` empty,
    /// compensated data, no spillover keyword, 2^20.
    Kaluza,
    /// Beckman CytoFLEX: `FSC-A`, `SSC-A`, `PC7-A`, `KO525-A`..., markers in
    /// `$PnS`, 2^22 range.
    Cytoflex,
    /// Cytek Aurora (unmixed): fluorochrome `$PnN`, markers in `$PnS`,
    /// 4,194,304, no spillover keyword (the data are unmixed).
    Aurora,
    /// Thermo Attune NxT: `BL1-A`, `RL1-A`, `VL1-A`..., 2^20.
    Attune,
    /// Miltenyi MACSQuant: `V1-A`, `B1-A`..., markers such as
    /// `CD45-VioGreen`.
    Macsquant,
    /// Sysmex/Partec CyFlow: `FSC`, `SSC`, `FL1`..., integers on 65,536.
    Cyflow,
}

/// Per instrument: `$PnN` of the 12 simulated channels (FSC-A, FSC-H,
/// SSC-A, CD20, CD10, CD34, CD19, CD38, CD58, CD45, viability, Time), the
/// range, whether markers are in `$PnS`, whether the data are written
/// compensated without a spillover keyword.
struct Layout {
    names: [&'static str; 12],
    range: f64,
    markers_in_label: bool,
    unmixed: bool,
    cytometer: &'static str,
    file: FileLayout,
}

const FLOAT: FileLayout = FileLayout {
    storage: Storage::Float32,
    lmd: false,
};

fn layout(i: Instrument) -> Layout {
    let names = |n: [&'static str; 12]| n;
    match i {
        Instrument::Canto => Layout {
            names: names(CHANNELS.map(|c| c.0)),
            range: 262_144.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "FACSCanto II",
            file: FLOAT,
        },
        Instrument::Lyric => Layout {
            names: names([
                "FSC-A",
                "FSC-H",
                "SSC-A",
                "B 530/30-A",
                "Y 585/42-A",
                "B 700/54-A",
                "Y 780/60-A",
                "R 660/20-A",
                "R 730/45-A",
                "V 528/45-A",
                "V 448/45-A",
                "Time",
            ]),
            range: 262_144.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "FACSLyric",
            file: FLOAT,
        },
        Instrument::Navios => Layout {
            names: names([
                "FS INT", "FS PEAK", "SS INT", "FL1 INT", "FL2 INT", "FL4 INT", "FL5 INT",
                "FL6 INT", "FL7 INT", "FL10 INT", "FL9 INT", "TIME",
            ]),
            range: 1_048_576.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "Navios",
            file: FileLayout {
                storage: Storage::UInt32,
                lmd: true,
            },
        },
        // Labelled channels are named `Comp-<label>` (see `as_instrument`).
        Instrument::Kaluza => Layout {
            names: names([
                "FS INT", "FS PEAK", "SS INT", "FL1 INT", "FL2 INT", "FL4 INT", "FL5 INT",
                "FL6 INT", "FL7 INT", "FL10 INT", "FL9 INT", "TIME",
            ]),
            range: 1_048_576.0,
            markers_in_label: false,
            unmixed: true,
            cytometer: "Navios (Kaluza export)",
            file: FLOAT,
        },
        Instrument::Cytoflex => Layout {
            names: names([
                "FSC-A",
                "FSC-H",
                "SSC-A",
                "FITC-A",
                "PE-A",
                "PC5.5-A",
                "PC7-A",
                "APC-A",
                "APC-A700-A",
                "KO525-A",
                "PB450-A",
                "Time",
            ]),
            range: 4_194_304.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "CytoFLEX LX",
            file: FLOAT,
        },
        Instrument::Aurora => Layout {
            names: names([
                "FSC-A",
                "FSC-H",
                "SSC-A",
                "FITC-A",
                "PE-A",
                "PerCP-Cy5.5-A",
                "PE-Cy7-A",
                "APC-A",
                "R718-A",
                "BV510-A",
                "BV421-A",
                "Time",
            ]),
            range: 4_194_304.0,
            markers_in_label: true,
            unmixed: true,
            cytometer: "Aurora",
            file: FLOAT,
        },
        Instrument::Attune => Layout {
            names: names([
                "FSC-A", "FSC-H", "SSC-A", "BL1-A", "YL1-A", "BL3-A", "YL4-A", "RL1-A", "RL2-A",
                "VL2-A", "VL1-A", "Time",
            ]),
            range: 1_048_576.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "Attune NxT",
            file: FLOAT,
        },
        Instrument::Macsquant => Layout {
            names: names([
                "FSC-A", "FSC-H", "SSC-A", "B1-A", "B2-A", "B3-A", "B4-A", "R1-A", "R2-A", "V2-A",
                "V1-A", "Time",
            ]),
            range: 262_144.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "MACSQuant Analyzer 16",
            file: FLOAT,
        },
        Instrument::Cyflow => Layout {
            names: names([
                "FSC", "FSC-H", "SSC", "FL1", "FL2", "FL3", "FL4", "FL5", "FL6", "FL7", "FL8",
                "Time",
            ]),
            range: 65_536.0,
            markers_in_label: true,
            unmixed: false,
            cytometer: "CyFlow Cube 8",
            file: FileLayout {
                storage: Storage::UInt32,
                lmd: false,
            },
        },
    }
}

/// The marker labels as the family writes them (MACSQuant joins marker and
/// dye with a hyphen).
fn label(i: Instrument, simulated: &str) -> String {
    match i {
        Instrument::Macsquant => simulated.replacen(' ', "-", 1),
        _ => simulated.to_string(),
    }
}

/// Rewrites a simulation as `instrument` writes its files. A spectral
/// instrument (Aurora) also gets its wide panel's other channels
/// (`extra::SPECTRAL_EXTRAS`); channels a panel profile added
/// keep their names, except where the family writes markers into names.
pub fn as_instrument(sim: &mut Simulation, instrument: Instrument) -> Result<(), String> {
    let l = layout(instrument);
    let factor = l.range / super::RANGE;
    if l.unmixed {
        let spill = crate::fcs::spillover::find_spillover(
            &sim.keywords,
            &CHANNELS.map(|c| c.0.to_string()),
            &CHANNELS.map(|c| Some(c.1.to_string())),
            &mut Vec::new(),
        )
        .ok_or("the simulation has no spillover matrix")?;
        let comp = Compensation::from_spillover(&spill).map_err(|e| e.to_string())?;
        let names: Vec<String> = CHANNELS.iter().map(|c| c.0.to_string()).collect();
        comp.compensate_in_place(&mut sim.events, &names)
            .map_err(|e| e.to_string())?;
        sim.keywords.remove("$SPILLOVER");
    }
    if instrument == Instrument::Aurora {
        // The seed of the simulation, so the added channels follow it.
        let seed = sim
            .keywords
            .get("MARROWGATE_SIMULATION")
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v["seed"].as_u64())
            .unwrap_or(0);
        // A marker the tube already holds (CD22 and CD24 added for
        // CD19-negative disease) is not added twice.
        let held: Vec<String> = (1..=sim.events.ncols())
            .filter_map(|j| sim.keywords.get(&format!("$P{j}S")))
            .filter_map(|s| s.split_whitespace().next().map(str::to_ascii_uppercase))
            .collect();
        let extras: Vec<super::extra::ExtraChannel> = super::extra::SPECTRAL_EXTRAS
            .iter()
            .filter(|c| {
                !c.label
                    .split_whitespace()
                    .next()
                    .is_some_and(|m| held.contains(&m.to_ascii_uppercase()))
            })
            .copied()
            .collect();
        super::extra::append(sim, &extras, seed);
    }
    let time = CHANNELS.len() - 1;
    for (j, mut column) in sim.events.columns_mut().into_iter().enumerate() {
        if j != time {
            column.mapv_inplace(|v| v * factor as f32);
        }
    }
    let key = |j: usize, x: &str| format!("$P{}{x}", j + 1);
    let old_names: Vec<String> = (0..CHANNELS.len())
        .map(|j| sim.keywords.get(&key(j, "N")).unwrap_or("").to_string())
        .collect();
    let mut names: Vec<String> = Vec::with_capacity(l.names.len());
    for j in 0..sim.events.ncols() {
        // The simulation's own label (its panel profile may have changed
        // the default ones).
        let simulated = sim.keywords.get(&key(j, "S")).unwrap_or("").to_string();
        let name = if !l.markers_in_label && !simulated.is_empty() {
            // Exports that carry the marker in the name.
            format!("Comp-{simulated}")
        } else if let Some(name) = l.names.get(j) {
            name.to_string()
        } else {
            sim.keywords.get(&key(j, "N")).unwrap_or("").to_string()
        };
        sim.keywords.set(&key(j, "N"), name.as_str());
        names.push(name);
        if j != time {
            sim.keywords
                .set(&key(j, "R"), format!("{}", l.range as u64));
        }
        if l.markers_in_label && !simulated.is_empty() {
            sim.keywords
                .set(&key(j, "S"), label(instrument, &simulated));
        } else {
            sim.keywords.remove(&key(j, "S"));
        }
    }
    if let Some(spill) = sim.keywords.get("$SPILLOVER").map(str::to_string) {
        // The matrix names detectors by $PnN: rename them too.
        let mut fields: Vec<String> = spill.split(',').map(str::to_string).collect();
        let n: usize = fields[0].parse().map_err(|_| "spillover count")?;
        for f in fields.iter_mut().skip(1).take(n) {
            if let Some(j) = old_names.iter().position(|c| c == f.as_str()) {
                *f = names[j].clone();
            }
        }
        sim.keywords.set("$SPILLOVER", fields.join(","));
    }
    sim.keywords
        .set("$CYT", format!("{} (simulated)", l.cytometer));
    sim.file_layout = l.file;
    Ok(())
}
