//! The detector on marrow as messy as the real thing (issue 11): each
//! failure mode once seen on independent files, on simulated truth with
//! `realism` 1 (wide, skewed populations; stage-I hematogones CD45 dim;
//! debris and dead cells near the lymphocytes).

use marrowgate::analysis::case::Site;
use marrowgate::analysis::site::{Settings, analyze_site};
use marrowgate::qc::Status;
use marrowgate::simulate::instrument::{Instrument, as_instrument};
use marrowgate::simulate::{BlastPhenotype, Config, PanelProfile, Population, simulate, write};
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-messy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// (status, true blasts, called blasts, true blasts among the called)
fn analyse(
    cfg: &Config,
    instrument: Instrument,
    name: &str,
) -> (Status, usize, usize, usize, String) {
    let d = temp(name);
    let mut sim = simulate(cfg).expect("simulates");
    as_instrument(&mut sim, instrument).expect("layout");
    let file = d.join("site.fcs");
    write(&sim, &file).expect("writes");
    let (report, gating) = analyze_site(
        &Site {
            name: name.into(),
            file,
            panel: Vec::new(),
        },
        &Settings::default(),
    );
    let called = gating.map(|g| g.blasts).unwrap_or_default();
    let truth = sim
        .truth
        .iter()
        .filter(|p| **p == Population::Blast)
        .count();
    let hits = sim
        .truth
        .iter()
        .zip(&called)
        .filter(|(p, c)| **c && **p == Population::Blast)
        .count();
    let _ = std::fs::remove_dir_all(d);
    (
        report.status,
        truth,
        called.iter().filter(|c| **c).count(),
        hits,
        report.reason,
    )
}

fn messy(seed: u64, blasts: f64, hematogones: f64) -> Config {
    Config {
        events: 80_000,
        seed,
        blast_fraction: blasts,
        hematogone_fraction: hematogones,
        realism: 1.0,
        panel: if seed % 2 == 1 {
            PanelProfile::Euroflow
        } else {
            PanelProfile::Standard
        },
        ..Config::default()
    }
}

#[test]
fn realistic_normal_and_regenerating_marrow_is_never_called_positive() {
    // Wide, skewed hematogone continua once made single-marker tails and
    // CD45-dim stage-I hematogones into "blast clusters".
    for (k, instrument) in [
        Instrument::Canto,
        Instrument::Cytoflex,
        Instrument::Navios,
        Instrument::Aurora,
    ]
    .into_iter()
    .enumerate()
    {
        for hematogones in [0.05, 0.35] {
            let seed = 500 + k as u64 * 7 + (hematogones * 100.0) as u64;
            let (status, _, called, _, reason) =
                analyse(&messy(seed, 0.0, hematogones), instrument, "normal");
            assert_ne!(
                status,
                Status::Positive,
                "{instrument:?} seed {seed}, {hematogones} hematogones: {called} called: {reason}"
            );
        }
    }
}

/// `cfg` with blasts of the default phenotype changed by `changes`.
fn with_blasts(changes: &[(&str, f64)], cfg: Config) -> Config {
    let mut blast_phenotype = BlastPhenotype::default();
    for (marker, value) in changes {
        assert!(blast_phenotype.set(marker, *value), "{marker}");
    }
    Config {
        blast_phenotype,
        ..cfg
    }
}

fn assert_found(cfg: &Config, instrument: Instrument, what: &str) {
    let (status, truth, called, hits, reason) = analyse(cfg, instrument, what);
    assert_eq!(status, Status::Positive, "{what}: {reason}");
    let precision = hits as f64 / called.max(1) as f64;
    let recall = hits as f64 / truth.max(1) as f64;
    assert!(
        precision >= 0.9 && recall >= 0.85,
        "{what}: precision {precision:.3}, recall {recall:.3} ({hits} of {truth}, {called} called)"
    );
}

#[test]
fn blasts_at_the_mature_b_level_of_cd38_and_cd81_are_found_whole() {
    // Bounds from mature B cells alone left such blasts inside the normal
    // pattern (64.7 % reported for 90 %); the sample's own hematogones show
    // them (standard tube: CD38 and CD58; with the EuroFlow tube, CD38 and
    // CD81 at the mature-B level alone are missed in some seeds: README).
    assert_found(
        &with_blasts(&[("CD38", 3000.0), ("CD81", 3000.0)], messy(42, 0.05, 0.08)),
        Instrument::Canto,
        "CD38/CD81 at the mature-B level",
    );
}

#[test]
fn a_blast_rich_marrow_with_scarce_references_is_measured_whole() {
    // 90 % blasts: the blasts must never become the "normal" reference.
    assert_found(&messy(43, 0.90, 0.02), Instrument::Cytoflex, "90 % blasts");
}

#[test]
fn blasts_only_moderately_brighter_in_cd10_than_hematogones_are_found() {
    assert_found(
        &with_blasts(&[("CD10", 15_000.0)], messy(44, 0.03, 0.10)),
        Instrument::Navios,
        "CD10 moderate",
    );
}

#[test]
fn without_a_dye_dead_cells_are_judged_by_scatter_and_said_so() {
    // The viable gate claimed "dead cells excluded by scatter" and excluded
    // none.
    let d = temp("dye");
    let sim = simulate(&Config {
        events: 60_000,
        ..messy(45, 0.0, 0.05)
    })
    .expect("simulates");
    let file = d.join("site.fcs");
    write(&sim, &file).expect("writes");
    let (report, gating) = analyze_site(
        &Site {
            name: "dye".into(),
            file,
            panel: Vec::new(),
        },
        &Settings::default(),
    );
    let gating = gating.expect("gated");
    let auto = gating.automatic.expect("automatic");
    let kept = |pop: Population| {
        let (mut all, mut kept) = (0usize, 0usize);
        for (p, v) in sim.truth.iter().zip(&auto.pregates.viable) {
            if *p == pop {
                all += 1;
                kept += *v as usize;
            }
        }
        kept as f64 / all.max(1) as f64
    };
    assert!(
        kept(Population::Dead) < 0.7,
        "dead kept {}",
        kept(Population::Dead)
    );
    for live in [
        Population::Lymphocyte,
        Population::Hematogone,
        Population::NeutrophilMature,
    ] {
        assert!(kept(live) > 0.97, "{live:?} kept {}", kept(live));
    }
    let rule = &report.measures.expect("measured").gates[3].rule;
    assert!(rule.contains("judged by scatter"), "{rule}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_necrotic_aspirate_whose_debris_poses_as_lymphocytes_is_not_evaluable() {
    // Debris (80 % of events, CD45 dim) dwarfed the few lymphocytes, took
    // their place as the CD45 anchor of the debris gate, and its stained
    // tail was called a blast cluster (POSITIVE on a sample without one).
    // The size check (events smaller than 0.6x the CD45-brightest
    // dye-negative events) sees the debris whatever the anchor did.
    for (seed, instrument) in [(12, Instrument::Canto), (14, Instrument::Navios)] {
        let cfg = Config {
            events: 60_000,
            necrosis: 0.97,
            ..messy(seed, 0.0, 0.05)
        };
        let (status, _, called, _, reason) = analyse(&cfg, instrument, "necrotic");
        assert_eq!(
            status,
            Status::NotEvaluable,
            "{instrument:?} seed {seed}: {called} called: {reason}"
        );
        assert!(reason.contains("necrosis"), "{reason}");
    }
}

#[test]
fn late_hematogones_on_their_way_to_mature_b_cells_are_not_blasts() {
    // In regenerating marrow without CD58 (EuroFlow), late hematogones
    // (CD20+, CD34-, CD38 and CD81 falling towards the mature-B level)
    // were 0.24 decades below the early hematogones on both level markers
    // and called blasts (4.4 %, all hematogones). They are now compared
    // with the level their CD20 places them at on the maturation path.
    let regenerating = Config {
        events: 100_000,
        panel: PanelProfile::Euroflow,
        ..messy(6, 0.0, 0.35)
    };
    let (status, _, called, _, reason) = analyse(&regenerating, Instrument::Canto, "regenerating");
    assert_eq!(status, Status::Negative, "{called} called: {reason}");
    // The path must not hide CD20-negative blasts below the hematogones'
    // CD38 and CD81 in the same kind of marrow.
    let cfg = with_blasts(
        &[],
        Config {
            panel: PanelProfile::Euroflow,
            ..messy(6, 0.05, 0.30)
        },
    );
    assert_found(&cfg, Instrument::Canto, "5 % blasts in regenerating marrow");
}
