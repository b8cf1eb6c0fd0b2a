//! The simulator against its own definition.

use super::*;
use crate::compensation::Compensation;
use crate::fcs::FcsFile;

/// Columns of the markers in the simulated file.
const CD20: usize = 3;
const CD10: usize = 4;
const CD19: usize = 6;
const CD58: usize = 8;
const CD45: usize = 9;

fn fraction(truth: &[Population], p: Population) -> f64 {
    truth.iter().filter(|&&t| t == p).count() as f64 / truth.len() as f64
}

#[test]
fn same_seed_same_sample_and_truth_fractions_hold() {
    let cfg = Config {
        events: 60_000,
        seed: 42,
        blast_fraction: 0.10,
        ..Config::default()
    };
    let a = simulate(&cfg).expect("simulates");
    let b = simulate(&cfg).expect("simulates");
    assert_eq!(a.events, b.events);
    assert_eq!(a.truth, b.truth);
    let other = simulate(&Config {
        seed: 43,
        ..cfg.clone()
    })
    .expect("simulates");
    assert_ne!(a.events, other.events);
    let viable: Vec<Population> = a
        .truth
        .iter()
        .copied()
        .filter(|p| p.is_viable_nucleated())
        .collect();
    let blasts = fraction(&viable, Population::Blast);
    assert!((blasts - 0.10).abs() < 0.01, "{blasts}");
    let debris = fraction(&a.truth, Population::Debris);
    assert!((debris - 0.04).abs() < 0.005, "{debris}");
}

#[test]
fn blasts_look_like_common_b_all_after_compensation() {
    let sim = simulate(&Config {
        events: 50_000,
        seed: 3,
        blast_fraction: 0.2,
        ..Config::default()
    })
    .expect("simulates");
    let names: Vec<String> = CHANNELS.iter().map(|c| c.0.to_string()).collect();
    let mut w = Vec::new();
    let meta = Metadata::from_keywords(Version::Fcs3_1, &sim.keywords, &mut w).expect("keywords");
    let comp = Compensation::from_spillover(meta.spillover.as_ref().expect("spillover"))
        .expect("invertible");
    let c = comp
        .compensate(sim.events.view(), &names)
        .expect("compensates");
    let median = |pop: Population, marker: usize| {
        let mut v: Vec<f32> = sim
            .truth
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == pop)
            .map(|(i, _)| c[[i, marker - 3]])
            .collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2] as f64
    };
    // Blasts: CD10 brighter than hematogones, CD45 dimmer than lymphocytes,
    // CD58 bright, CD20 negative, CD19 positive.
    assert!(median(Population::Blast, CD10) > 2.0 * median(Population::Hematogone, CD10));
    assert!(median(Population::Blast, CD45) < 0.2 * median(Population::Lymphocyte, CD45));
    assert!(median(Population::Blast, CD58) > 5.0 * median(Population::Lymphocyte, CD58));
    assert!(median(Population::Blast, CD20) < 300.0);
    assert!(median(Population::Blast, CD19) > 4000.0);
    // Mature neutrophils are CD10+ but CD19-.
    assert!(median(Population::NeutrophilMature, CD10) > 1500.0);
    assert!(median(Population::NeutrophilMature, CD19) < 300.0);
    // Compensation brings a CD19-negative population back near zero.
    assert!(median(Population::Lymphocyte, CD19).abs() < 300.0);
}

#[test]
fn necrosis_leaves_few_viable_cells_and_hemodilution_removes_marrow_cells() {
    let sim = simulate(&Config {
        events: 40_000,
        seed: 5,
        necrosis: 0.95,
        ..Config::default()
    })
    .expect("simulates");
    let viable = sim.truth.iter().filter(|p| p.is_viable_nucleated()).count() as f64
        / sim.truth.len() as f64;
    assert!(viable < 0.05, "{viable}");
    let diluted = simulate(&Config {
        events: 40_000,
        seed: 5,
        hemodilution: 1.0,
        ..Config::default()
    })
    .expect("simulates");
    assert_eq!(fraction(&diluted.truth, Population::Hematogone), 0.0);
    assert_eq!(fraction(&diluted.truth, Population::Cd34Progenitor), 0.0);
    assert!(
        simulate(&Config {
            necrosis: 1.5,
            ..Config::default()
        })
        .is_err()
    );
}

#[test]
fn doublets_have_long_pulses() {
    let sim = simulate(&Config {
        events: 40_000,
        seed: 9,
        doublet_fraction: 0.1,
        ..Config::default()
    })
    .expect("simulates");
    let ratio = |pop: Population| {
        let v: Vec<f64> = sim
            .truth
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == pop)
            .map(|(i, _)| sim.events[[i, 0]] as f64 / sim.events[[i, 1]].max(1.0) as f64)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(ratio(Population::Doublet) > 1.5 * ratio(Population::Lymphocyte));
}

#[test]
fn written_file_reads_back_with_truth() {
    let dir = std::env::temp_dir().join(format!("mg-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("site.fcs");
    let sim = simulate(&Config {
        events: 5_000,
        seed: 11,
        blast_fraction: 0.05,
        ..Config::default()
    })
    .expect("simulates");
    write(&sim, &path).expect("writes");
    let f = FcsFile::open(&path).expect("reads");
    let info = &f.datasets()[0];
    assert_eq!(info.event_count, 5_000);
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!(info.metadata.channels[4].marker.as_deref(), Some("CD10 PE"));
    assert_eq!(
        info.metadata.spillover.as_ref().map(|s| s.channels.len()),
        Some(8)
    );
    // Channel values come back exactly, Time in seconds.
    let ev = f.events(0).expect("events");
    assert_eq!(ev, sim.events);
    assert!(ev[[4_999, 11]] > 590.0 && ev[[4_999, 11]] < 600.0);
    let truth = std::fs::read_to_string(truth_path(&path)).expect("truth");
    let lines: Vec<&str> = truth.lines().collect();
    assert_eq!(lines[0], "population");
    assert_eq!(lines.len(), 5_001);
    assert_eq!(lines[1], sim.truth[0].name());
    std::fs::remove_dir_all(dir).ok();
}
