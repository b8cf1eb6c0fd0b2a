//! The detector on marrow as messy as the real thing (issue 11): each
//! failure mode once seen on independent files, on simulated truth with
//! `realism` 1 (wide, skewed populations; stage-I hematogones CD45 dim;
//! debris and dead cells near the lymphocytes).

use marrowgate::analysis::case::Site;
use marrowgate::analysis::site::{Settings, SiteGating, SiteReport, analyze_site};
use marrowgate::qc::Status;
use marrowgate::simulate::instrument::{Instrument, as_instrument};
use marrowgate::simulate::{
    BlastPhenotype, Config, PanelProfile, Population, Simulation, simulate, write,
};
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-messy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Simulates `cfg`, writes it as `instrument` does (as simulated when
/// `None`), analyses it with `settings` and removes the files.
fn run_site(
    cfg: &Config,
    instrument: Option<Instrument>,
    name: &str,
    settings: &Settings,
) -> (Simulation, SiteReport, Option<SiteGating>) {
    let d = temp(name);
    let mut sim = simulate(cfg).expect("simulates");
    if let Some(instrument) = instrument {
        as_instrument(&mut sim, instrument).expect("layout");
    }
    let file = d.join("site.fcs");
    write(&sim, &file).expect("writes");
    let (report, gating) = analyze_site(
        &Site {
            name: name.into(),
            file,
            panel: Vec::new(),
        },
        settings,
    );
    let _ = std::fs::remove_dir_all(&d);
    (sim, report, gating)
}

/// (status, true blasts, called blasts, true blasts among the called)
fn analyse(
    cfg: &Config,
    instrument: Instrument,
    name: &str,
) -> (Status, usize, usize, usize, String) {
    let (sim, report, gating) = run_site(cfg, Some(instrument), name, &Settings::default());
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

/// 10 % CD20-partial blasts (CD20 on half of them), CD34-, only moderately
/// aberrant: CD38 at the late precursors' level, CD58 half a decade above
/// the hematogones, CD10 moderate (the detection table's last row), 100,000
/// events of a messy marrow.
fn moderate_cd20_partial(seed: u64) -> Config {
    with_blasts(
        &[
            ("CD20", 5000.0),
            ("CD20-fraction", 0.5),
            ("CD34", 60.0),
            ("CD58", 3000.0),
            ("CD38", 3000.0),
            ("CD10", 18_000.0),
        ],
        Config {
            events: 100_000,
            ..messy(seed, 0.10, 0.05)
        },
    )
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

/// Asserts that a regenerating marrow without blasts (100,000 events of a
/// messy marrow, 35 % hematogones) is NEGATIVE; returns the blast events
/// called (below the LOD) and the site's reason.
fn assert_regenerating_negative(seed: u64, instrument: Instrument, name: &str) -> (usize, String) {
    let cfg = Config {
        events: 100_000,
        ..messy(seed, 0.0, 0.35)
    };
    let (status, _, called, _, reason) = analyse(&cfg, instrument, name);
    assert_eq!(status, Status::Negative, "{called} called: {reason}");
    (called, reason)
}

fn assert_found(cfg: &Config, instrument: Instrument, what: &str) {
    assert_called(cfg, instrument, what, 0.9, 0.85);
}

/// Asserts a POSITIVE call whose blast events reach `precision` and
/// `recall` against the simulated truth.
fn assert_called(cfg: &Config, instrument: Instrument, what: &str, precision: f64, recall: f64) {
    let (status, truth, called, hits, reason) = analyse(cfg, instrument, what);
    assert_eq!(status, Status::Positive, "{what}: {reason}");
    let (p, r) = (
        hits as f64 / called.max(1) as f64,
        hits as f64 / truth.max(1) as f64,
    );
    assert!(
        p >= precision && r >= recall,
        "{what}: precision {p:.3}, recall {r:.3} ({hits} of {truth}, {called} called)"
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
fn blasts_the_mixture_fitted_together_with_hematogones_are_split_from_them() {
    // Tuning seed 5131 (Canto, EuroFlow tube, 5 % blasts with CD38 and
    // CD81 at the mature-B level): three components straddled the blasts
    // and the hematogones (1,143 events with 667 blasts, 801 with 361, 169
    // with 96) beside the two called clusters, and 3.75 % was reported for
    // 5.02 %. Split along the line from the called cluster, their blast
    // halves are clusters of their own.
    let cfg = with_blasts(
        &[("CD38", 3000.0), ("CD81", 3000.0)],
        Config {
            events: 100_000,
            ..messy(5131, 0.05, 0.05)
        },
    );
    assert_called(&cfg, Instrument::Canto, "straddled", 0.95, 0.8);
}

#[test]
fn blasts_off_the_hematogones_level_on_two_markers_together_are_found() {
    // Aurora 3300127 (held-out layout, blind table of seeds from
    // 3,300,000; seen now), EuroFlow tube, 5 % blasts with CD38 and CD81 at
    // the mature-B level: NEGATIVE. The blasts were two clusters, one 0.34
    // and 0.45 decades below the hematogones' level on CD38 and CD81, the
    // other 0.52 and 0.33, against a spread of 0.36: beyond it on one
    // marker each, never on both. Normal precursors' centres sit within a
    // fraction of the spread on every level marker. Now 3,678 called.
    let cfg = with_blasts(
        &[("CD38", 3000.0), ("CD81", 3000.0)],
        Config {
            events: 100_000,
            ..messy(3_300_127, 0.05, 0.05)
        },
    );
    assert_called(
        &cfg,
        Instrument::Aurora,
        "jointly off the level",
        0.95,
        0.75,
    );
}

#[test]
fn blasts_beyond_the_start_of_the_continuum_are_found() {
    // The EuroFlow tube (no CD58): blasts with CD38 and CD81 at the
    // mature-B level leave the sample's own hematogones by about half a
    // decade on each, against a spread of a third of a decade, so neither
    // the bounds nor the hematogones' level called them (NEGATIVE, the
    // tuning table's Navios seed 129 and Canto seed 131). What no normal
    // precursor shows is CD10 brighter than the earliest precursors with
    // CD38 and CD81 dimmer than theirs; the piece of the blasts whose
    // CD38 and CD81 reach the hematogones' joins the population beside it.
    // Now 4,598 of 4,615 (320 others) and 4,423 of 4,533 (196 others).
    for (seed, instrument) in [(129, Instrument::Navios), (131, Instrument::Canto)] {
        let cfg = with_blasts(
            &[("CD38", 3000.0), ("CD81", 3000.0)],
            Config {
                events: 100_000,
                ..messy(seed, 0.05, 0.05)
            },
        );
        assert_called(&cfg, instrument, "beyond the start", 0.9, 0.9);
    }
    // CD20-partial blasts, CD34-, CD10 moderate, CD38 at the late
    // precursors' level and CD58 half a decade above the hematogones
    // (standard tube, the tuning table's Canto seed 148): POSITIVE on a
    // 50-event cluster, 0.06 % found for 9.87 %. Now 7,620 of 8,969, 6
    // others.
    let cfg = moderate_cd20_partial(148);
    assert_called(
        &cfg,
        Instrument::Canto,
        "CD10 moderate, beyond the start",
        0.95,
        0.8,
    );
}

#[test]
fn a_blast_rich_marrow_with_scarce_references_is_measured_whole() {
    // 90 % blasts: the blasts must never become the "normal" reference.
    assert_found(&messy(43, 0.90, 0.02), Instrument::Cytoflex, "90 % blasts");
    // Nor the lymphocytes: among all viable cells the 900 lymphocytes of
    // this Aurora file hid under the CD45-dim blasts' bright tail, the
    // blasts were taken for them, and the CD45 stain check ("no bright
    // lymphocytes") made the site NOT EVALUABLE. The reference is now the
    // brightest CD45 peak among CD19- cells (T and NK cells).
    assert_found(
        &messy(400_043, 0.90, 0.02),
        Instrument::Aurora,
        "90 % blasts, spectral",
    );
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
    let (sim, report, gating) = run_site(
        &Config {
            events: 60_000,
            ..messy(45, 0.0, 0.05)
        },
        None,
        "dye",
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
}

#[test]
fn a_necrotic_aspirate_whose_debris_poses_as_lymphocytes_is_not_evaluable() {
    // Debris (80 % of events, CD45 dim) dwarfed the few lymphocytes, took
    // their place as the CD45 anchor of the debris gate, and its stained
    // tail was called a blast cluster (POSITIVE on a sample without one).
    // The size check (events smaller than 0.6x the CD45-brightest
    // dye-negative events) sees the debris whatever the anchor did.
    // Without a dye (odd seeds: EuroFlow) debris as large as 0.43x a
    // lymphocyte, its CD45 tail up to theirs, hid the 130 lymphocytes; the
    // size reference, taken from the CD45-brightest events (dead cells
    // there), counted only a third of the events as small. The
    // granulocytes' size (no debris scatters like them) now sets a floor
    // to the reference.
    for (seed, instrument) in [
        (12, Instrument::Canto),
        (14, Instrument::Navios),
        (11, Instrument::Canto),
        (13, Instrument::Cytoflex),
    ] {
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

/// The site's leukocyte share of its viable events (the panel has CD45).
fn leukocyte_percent(r: &SiteReport) -> f64 {
    r.measures
        .as_ref()
        .and_then(|m| m.marrow_indicators.as_ref())
        .and_then(|m| m.leukocyte_percent)
        .expect("CD45 in the panel")
}

#[test]
fn a_necrotic_aspirate_whose_debris_passes_every_gate_is_not_evaluable() {
    // Found on the held-out table (its seeds are therefore no longer held
    // out; a fresh base judges the fix): lymphocyte-sized, dye-negative,
    // CD45-negative debris passed the debris gate (anchored below it), the
    // dye and the size check, and 35,000 of 36,000 "viable nucleated
    // cells" were debris: NEGATIVE at 0.055 % on a sample with 2 % blasts.
    // Whatever the gates did, no marrow is mostly CD45-, CD19-, CD10-
    // events: the leukocyte share of the viable events says so.
    let cfg = Config {
        events: 60_000,
        necrosis: 0.97,
        ..messy(100_038, 0.02, 0.05)
    };
    let (_, report, _) = run_site(
        &cfg,
        Some(Instrument::Kaluza),
        "debris-passes",
        &Settings::default(),
    );
    assert_eq!(report.status, Status::NotEvaluable, "{}", report.reason);
    assert!(report.reason.contains("leukocytes"), "{}", report.reason);
    let leukocytes = leukocyte_percent(&report);
    assert!(leukocytes < 30.0, "{leukocytes}");
    // A normal and a regenerating marrow of the same layout keep a
    // leukocyte share far above the limit.
    for (seed, hematogones) in [(100_038, 0.05), (100_040, 0.35)] {
        let (_, r, _) = run_site(
            &messy(seed, 0.0, hematogones),
            Some(Instrument::Kaluza),
            "leukocyte-share",
            &Settings::default(),
        );
        let l = leukocyte_percent(&r);
        assert!(l > 60.0, "seed {seed}: {l}");
        assert_eq!(r.status, Status::Negative, "{}", r.reason);
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

#[test]
fn dead_cells_without_a_dye_never_make_a_blast_cluster() {
    // Without a viability dye (EuroFlow tube), dead cells passing the
    // scatter rule stain every channel non-specifically: CD38 and CD81 low
    // against hematogones, the myeloid channel up. 58 of them were called
    // a blast cluster on a normal Aurora file, 34 on a blood-only Navios
    // one. They are smaller than lymphocytes (a dying cell shrinks), which
    // no blast is.
    for (seed, instrument, hemodilution) in [
        (100_003, Instrument::Aurora, 0.0),
        (25, Instrument::Navios, 1.0),
    ] {
        let cfg = Config {
            hemodilution,
            ..messy(seed, 0.0, 0.05)
        };
        let (status, _, called, _, reason) = analyse(&cfg, instrument, "dead");
        assert_ne!(
            status,
            Status::Positive,
            "{instrument:?} seed {seed}: {called} called: {reason}"
        );
        assert_eq!(called, 0, "{instrument:?} seed {seed}: {reason}");
    }
    // The same tube keeps real blasts, which are lymphocyte-sized.
    assert_found(&messy(33, 0.01, 0.05), Instrument::Aurora, "1 % blasts");
}

#[test]
fn a_cluster_carved_from_the_hematogone_tail_is_not_a_blast_cluster() {
    // 35 % hematogones on the Aurora layout: the mixture gave the CD58
    // tail of the transitional hematogones (CD34 and CD20 both partly on)
    // a component of its own, 0.43 decades outside the bounds, and it was
    // called 2.1 % blasts. The normal precursors explain a fifth of its
    // events as well as it does; a blast population shares almost none.
    let cfg = messy(100_008, 0.0, 0.35);
    let (status, _, called, _, reason) = analyse(
        &Config {
            panel: PanelProfile::Standard,
            events: 100_000,
            ..cfg
        },
        Instrument::Aurora,
        "tail",
    );
    assert_eq!(status, Status::Negative, "{called} called: {reason}");
    // Blasts beside hematogones at the same load keep their call and
    // their clusters.
    assert_found(
        &Config {
            panel: PanelProfile::Standard,
            ..messy(100_010, 0.03, 0.30)
        },
        Instrument::Aurora,
        "3 % blasts in regenerating marrow",
    );
}

#[test]
fn the_far_tail_of_a_skewed_hematogone_continuum_is_not_a_blast_population() {
    // Tuning seed 9012 (Navios, 35 % hematogones, no blasts): the mixture
    // carved 21 events from the CD58-bright tail of 22,700 hematogones,
    // beyond the hematogones' spread on CD38 and CD58, with too little
    // overlap for a Gaussian to say "tail"; a 62-event piece beside it
    // joined and the site was called POSITIVE at 0.09 %. Along the line
    // from the nearest normal cluster the events thin out steadily through
    // it: no population of its own.
    let (called, reason) = assert_regenerating_negative(9012, Instrument::Navios, "far-tail");
    assert_eq!(called, 0, "{reason}");
    // A real population at the same hematogone load rises above the
    // density between: it keeps its call (recall 0.84 before this rule
    // too: part of its CD10-dimmer edge lies among the hematogones).
    assert_called(
        &Config {
            events: 100_000,
            ..messy(9060, 0.01, 0.35)
        },
        Instrument::Navios,
        "1 % blasts among 35 % hematogones",
        0.95,
        0.8,
    );
}

#[test]
fn a_piece_of_the_cd58_tail_of_hematogones_is_not_a_blast_population() {
    // Held-out layouts, from the regenerating scan (`detection_table 300
    // regenerating`; these seeds are seen now). MACSQuant 5000118: 576
    // hematogones carved from the CD58-bright tail (a decade above the
    // mature B cells, a hematogone on every other marker) were called at
    // 0.64 %: in the multi-marker line test the normal events between
    // seemed to thin out only because the cluster took the events near
    // it. Among the cells that share its phenotype on every other marker,
    // CD58 thins out steadily towards it: the tail of normal maturation.
    let (called, reason) =
        assert_regenerating_negative(5_000_118, Instrument::Macsquant, "cd58-tail");
    assert_eq!(called, 0, "{reason}");
}

#[test]
fn a_piece_joined_to_a_released_cluster_is_released_with_it() {
    // Aurora 5000008 (held-out layout, seen): a 6,808-event hematogone
    // cluster joined a CD58-tail cluster as "part of the blast population
    // beside it" and the site was called POSITIVE at 9.25 %. Once the tail
    // is released, the piece has no blast population beside it.
    let (called, reason) = assert_regenerating_negative(5_000_008, Instrument::Aurora, "orphan");
    assert_eq!(called, 0, "{reason}");
}

#[test]
fn a_hematogone_cluster_centred_among_its_neighbours_is_not_beyond_the_continuum() {
    // Attune 2900014 (held-out layout, blind table of seeds from
    // 2,900,000; seen now): hematogone clusters with CD10 0.4 decades above
    // the cluster taken for the earliest precursors and CD38 a little
    // lower were called by the continuum-start rule, pieces joined them,
    // and the site was POSITIVE at 16.1 %. Among the cells that share its
    // phenotype on the other markers, such a cluster sits at their median
    // on every marker: part of normal maturation.
    let (called, reason) = assert_regenerating_negative(2_900_014, Instrument::Attune, "among");
    assert_eq!(called, 0, "{reason}");
}

#[test]
fn dead_cells_stained_alike_on_every_marker_are_not_a_blast_population() {
    // Canto 13000033 (tuning layout, EuroFlow tube without a viability
    // dye; blind regenerating scan of seeds from 13,000,000, seen now):
    // 23 dead cells, CD38 and CD81 a decade below the bounds, were called
    // POSITIVE. Their median FSC-A was 0.80 of the lymphocytes', just at
    // the size limit, but their centre sat within 0.72 decades on every
    // marker of the search (CD66c as bright as CD34): antibodies bound
    // alike, as dead cells bind them.
    let (called, reason) = assert_regenerating_negative(13_000_033, Instrument::Canto, "alike");
    assert_eq!(called, 0, "{reason}");
}

#[test]
fn the_cd10_cut_on_integer_data_sits_above_the_cd10_negative_cells() {
    // Navios integer data put a comb of bumps on the low end of the
    // logicle scale; the leftmost bump was taken for the CD10-negative
    // peak, the cut fell below the lymphocytes' median CD10, and mature B
    // cells entered CD19+CD10+ (2.4 % "blasts" called on a 0.03 % site,
    // none of them blasts).
    let (sim, _, gating) = run_site(
        &Config {
            events: 200_000,
            ..messy(47, 0.0, 0.05)
        },
        Some(Instrument::Navios),
        "comb",
        &Settings::default(),
    );
    let auto = gating.and_then(|g| g.automatic).expect("automatic");
    let (mut mature, mut entered) = (0usize, 0usize);
    for (p, c) in sim.truth.iter().zip(&auto.pregates.cd10_positive) {
        if *p == Population::MatureB {
            mature += 1;
            entered += *c as usize;
        }
    }
    assert!(
        (entered as f64) < 0.02 * mature as f64,
        "{entered} of {mature} mature B cells called CD10+"
    );
}

#[test]
fn saturated_events_are_not_a_phenotype() {
    // Kaluza exports compensated data: 22 hematogones saturated in CD45
    // came out of compensation CD66c bright (the saturated CD45 was
    // under-subtracted from its neighbour) and were called a CD66c+ blast
    // cluster (POSITIVE below the LLOQ in regenerating marrow).
    assert_regenerating_negative(300_007, Instrument::Kaluza, "saturated");
}

#[test]
fn a_cluster_half_of_whose_events_are_saturated_is_not_a_phenotype() {
    // Tuning seed 20031 (Canto, EuroFlow tube, 35 % hematogones, no
    // blasts): 23 events, 14 of them piled at the top of the CD20 scale
    // (mature B cells and late hematogones, their CD10 raised and CD34
    // pushed negative by compensation of a saturated value), were called
    // a blast cluster: its centre (CD20 0.975) stayed just below the
    // saturation level, the other events pulling it down.
    assert_regenerating_negative(20_031, Instrument::Canto, "saturated-share");
}

#[test]
fn a_rare_population_among_many_hematogones_gets_a_component_of_its_own() {
    // 300 blasts (0.03 %) among 30,000 hematogones: the seeds (events far
    // outside the bounds) were the blasts and the scattered tails of the
    // hematogones, their one mean sat between the two, and the blasts
    // joined a wide hematogone component (NEGATIVE). The seeds' own groups
    // now start components.
    let cfg = Config {
        events: 1_000_000,
        ..messy(46, 0.0003, 0.05)
    };
    let (status, truth, called, hits, reason) = analyse(&cfg, Instrument::Canto, "rare");
    assert_eq!(status, Status::Positive, "{reason}");
    assert!(
        hits as f64 >= 0.95 * called as f64 && hits as f64 >= 0.7 * truth as f64,
        "{hits} of {truth} true blasts in {called} called"
    );
}

#[test]
fn rare_blasts_whose_seeds_the_hematogone_tails_share_get_a_fit_of_their_own() {
    // 266 blasts (0.03 %, tuning seed 92, Navios) among 45,000 hematogones
    // whose wide, skewed tails gave 719 of the 967 seeds: the three seed
    // groups each mixed blasts with tails, the blasts joined a 1,745-event
    // hematogone cluster and the site was NEGATIVE. Where nothing is
    // called, the place where the seeds crowd together starts a component
    // of a new fit, kept when that component is called.
    let cfg = Config {
        events: 1_000_000,
        ..messy(92, 0.0003, 0.05)
    };
    let (status, truth, called, hits, reason) = analyse(&cfg, Instrument::Navios, "crowd");
    assert_eq!(status, Status::Positive, "{reason}");
    assert!(
        hits as f64 >= 0.95 * called as f64 && hits as f64 >= 0.7 * truth as f64,
        "{hits} of {truth} true blasts in {called} called"
    );
}

#[test]
fn rare_blasts_merged_with_dead_cells_are_split_from_them() {
    // 279 blasts (0.03 %) in a EuroFlow tube (no viability dye) beside
    // about 300 dead CD19+CD10+ events that lost CD38 and CD81 too: the
    // mixture merged them into one cluster that left the pattern but was
    // too wide (mean spread 0.60 decades) to be called, so the site was
    // NEGATIVE. The wide cluster is now split by a fit on its own events:
    // the blasts are called, the dead cells are rejected by their size.
    let cfg = Config {
        events: 1_000_000,
        ..messy(91, 0.0003, 0.05)
    };
    let (sim, report, gating) =
        run_site(&cfg, Some(Instrument::Canto), "split", &Settings::default());
    assert_eq!(report.status, Status::Positive, "{}", report.reason);
    let called = gating.map(|g| g.blasts).unwrap_or_default();
    let (mut truth, mut hits, mut dead, mut calls) = (0, 0, 0, 0);
    for (p, c) in sim.truth.iter().zip(&called) {
        truth += (*p == Population::Blast) as usize;
        calls += *c as usize;
        hits += (*c && *p == Population::Blast) as usize;
        dead += (*c && *p == Population::Dead) as usize;
    }
    assert!(
        hits as f64 >= 0.9 * calls as f64 && hits as f64 >= 0.85 * truth as f64,
        "{hits} of {truth} true blasts in {calls} called"
    );
    assert!(dead <= calls / 20, "{dead} dead cells among {calls} called");
}

#[test]
fn rare_blasts_merged_with_a_hematogone_tail_are_split_from_it() {
    // 300 blasts (0.03 %, tuning seed 11094, Canto) that the mixture merged
    // with about 300 events of the CD58-bright hematogone tail: along the
    // line from the nearest normal cluster the merged cluster shows no
    // population of its own, so the tail rule released it and the site
    // was NEGATIVE. A released tail with at least twice the LOD in events
    // is split by a fit on its own events and the parts judged again: the
    // blasts' part rises above the density between and is called.
    let cfg = Config {
        events: 1_000_000,
        ..messy(11094, 0.0003, 0.05)
    };
    let (sim, report, gating) = run_site(
        &cfg,
        Some(Instrument::Canto),
        "tail-split",
        &Settings::default(),
    );
    assert_eq!(report.status, Status::Positive, "{}", report.reason);
    let called = gating.map(|g| g.blasts).unwrap_or_default();
    let (mut truth, mut hits) = (0, 0);
    for (p, c) in sim.truth.iter().zip(&called) {
        truth += (*p == Population::Blast) as usize;
        hits += (*c && *p == Population::Blast) as usize;
    }
    // Recall only: the part called still holds hematogones of the tail
    // (precision about 0.44, as before the tail rule).
    assert!(
        hits as f64 >= 0.8 * truth as f64,
        "{hits} of {truth} true blasts called"
    );
}

/// The diagnostic marrow of a follow-up case as the MRD table simulates it:
/// 100,000 events of messy marrow, 30 % blasts of the default phenotype,
/// 2 % hematogones.
fn diagnostic_marrow(seed: u64) -> Config {
    Config {
        events: 100_000,
        seed,
        blast_fraction: 0.3,
        hematogone_fraction: 0.02,
        realism: 1.0,
        ..Config::default()
    }
}

/// The settings of a follow-up time point as `follow` makes them: the
/// MRD sensitivity (10^-4) and the phenotype of the blasts of the
/// diagnostic marrow `diagnosis` (simulated, written as `instrument`).
fn follow_up_settings(diagnosis: &Config, instrument: Instrument, name: &str) -> Settings {
    let (_, diagnosis, _) = run_site(diagnosis, Some(instrument), name, &Settings::default());
    let expected = diagnosis
        .measures
        .and_then(|m| marrowgate::strategy::blasts::Phenotype::of_blasts(&m.clusters));
    assert!(expected.is_some(), "the diagnostic blasts give a phenotype");
    Settings {
        limits: marrowgate::qc::Limits {
            required_sensitivity_percent: 0.01,
            ..Default::default()
        },
        expected_phenotype: expected,
        ..Settings::default()
    }
}

#[test]
fn a_weak_cluster_among_the_hematogone_tails_is_not_called_at_follow_up() {
    // Regenerating marrow after blinatumomab (20 % hematogones, a million
    // events, the diagnostic phenotype searched for): a 157-event piece of
    // transitional hematogones, 0.18 and 0.22 decades outside two bounds,
    // was separate from the clusters inside the bounds but not from the
    // larger tails beside it (just outside the bounds, not called), and
    // was called MRD POSITIVE.
    let with_markers = |cfg: Config| Config {
        b_lineage_markers: true,
        panel: PanelProfile::Standard,
        ..cfg
    };
    let settings = Settings {
        cd19_directed_therapy: true,
        ..follow_up_settings(
            &with_markers(messy(700_029, 0.3, 0.02)),
            Instrument::Aurora,
            "diagnosis",
        )
    };
    let (_, report, _) = run_site(
        &with_markers(Config {
            events: 1_000_000,
            ..messy(200_029, 0.0, 0.2)
        }),
        Some(Instrument::Aurora),
        "follow-up",
        &settings,
    );
    assert_eq!(report.status, Status::Negative, "{}", report.reason);
}

/// MRD at 10^-5 as the MRD table simulates it: a diagnostic marrow (30 %
/// blasts, seed + 500,000) gives the patient's phenotype, then a follow-up
/// tube of 5 million events with 0.001 % blasts (about 55) is analysed with
/// it. Returns the status, the blasts called and the events called.
fn residual_site(seed: u64, instrument: Instrument) -> (Status, usize, usize, String) {
    residual_site_at(seed, instrument, 5_000_000, 0.00001)
}

/// [`residual_site`] with a follow-up tube of `events` events and a
/// `blasts` fraction of blasts.
fn residual_site_at(
    seed: u64,
    instrument: Instrument,
    events: usize,
    blasts: f64,
) -> (Status, usize, usize, String) {
    let diagnosis = diagnostic_marrow(seed + 500_000);
    let settings = follow_up_settings(
        &diagnosis,
        instrument,
        &format!("residual-diagnosis-{seed}"),
    );
    let follow_up = Config {
        events,
        seed,
        blast_fraction: blasts,
        hematogone_fraction: 0.05,
        realism: 1.0,
        ..Config::default()
    };
    let (sim, report, gating) = run_site(
        &follow_up,
        Some(instrument),
        &format!("residual-{seed}"),
        &settings,
    );
    let called = gating.map(|g| g.blasts).unwrap_or_default();
    let (mut calls, mut hits) = (0, 0);
    for (p, c) in sim.truth.iter().zip(&called) {
        calls += usize::from(*c);
        hits += usize::from(*c && *p == Population::Blast);
    }
    (report.status, hits, calls, report.reason)
}

/// Asserts that [`residual_site`] is POSITIVE on at least the LOD of true
/// blasts, with at least 95 % of the events called being blasts.
fn assert_residual_found(seed: u64, instrument: Instrument) {
    let (status, hits, calls, reason) = residual_site(seed, instrument);
    assert_eq!(status, Status::Positive, "{reason}");
    assert!(
        hits >= 20 && hits as f64 >= 0.95 * calls as f64,
        "{hits} blasts in {calls} called"
    );
}

#[test]
fn residual_blasts_at_ten_to_the_minus_five_are_found_at_the_patients_phenotype() {
    // MRD 10^-5 (the MRD table's Lyric site, seed 200007): 55 blasts among
    // 157,000 CD19+CD10+ events of 5 million. The component started at the
    // diagnostic phenotype took them with about 220 scattered events
    // (spread 0.91 decades) and could not be called: NEGATIVE. A component
    // fitted to the events near the phenotype alone keeps the blasts
    // apart; judged like any cluster, it is called (below the LLOQ).
    assert_residual_found(200_007, Instrument::Lyric);
}

#[test]
fn residual_blasts_cut_out_near_the_phenotype_are_taken_at_their_whole_spread() {
    // MRD 10^-5 (the ten-seed MRD table's Lyric site, seed 200021): 39
    // blasts among 157,000 CD19+CD10+ events. The 25 events within half a
    // decade of the patient's phenotype on every marker (23 of them blasts)
    // gave the residual component their own spread, a fifth narrower than
    // the blasts' (a population cut at 1.6 of its SDs), and their own
    // number, half the population (a normal population keeps about 0.9 of
    // itself inside that window per marker, 0.5 over seven): 18 blasts were
    // assigned to it, below the LOD, NEGATIVE. Taken back as a cut normal
    // population's, the component holds 23 blasts and nothing else.
    assert_residual_found(200_021, Instrument::Lyric);
}

#[test]
fn a_wide_cluster_beside_residual_blasts_does_not_join_them() {
    // MRD 10^-5 (Attune, seed 200023 of the ten-seed MRD table): 22 of 59
    // blasts were called, then a 214-event cluster 0.85 decades wide beside
    // them joined as "part of the blast population", and an 8,380-event
    // piece of the hematogones' CD58 tail beside that: 0.19 % reported for
    // 0.0013 %. A piece of a population is smaller than the population.
    assert_residual_found(200_023, Instrument::Attune);
}

#[test]
fn residual_blasts_short_of_the_lod_in_their_own_cluster_are_split_from_its_neighbours() {
    // MRD 10^-4 (MACSQuant, seed 200019 of the ten-seed MRD table): 92
    // blasts among a million events; 16 of them made a called cluster, the
    // rest sat in the clusters beside it with hematogones, and with 16
    // events (below the LOD of 20) the site was NEGATIVE. Split along the
    // line from the called cluster, those neighbours gave 14 more blasts
    // (30 of 35 events called).
    let (status, hits, calls, reason) =
        residual_site_at(200_019, Instrument::Macsquant, 1_000_000, 0.0001);
    assert_eq!(status, Status::Positive, "{reason}");
    assert!(
        hits >= 20 && hits as f64 >= 0.8 * calls as f64,
        "{hits} blasts in {calls} called"
    );
}

#[test]
fn a_hundredth_of_a_decade_past_a_second_bound_makes_no_phenotype() {
    // MRD-negative regenerating marrow (20 % hematogones, 2.5 M events;
    // Kaluza, seed 200026 of the ten-seed MRD table): 6,286 hematogones of
    // the CD58-bright corner of the continuum, 0.64 decades beyond the
    // CD58 bound and 0.02 beyond the CD38 one, counted as two markers
    // left and were called MRD POSITIVE at 0.28 %. A marker counts among
    // the two only when left by a tenth of a decade.
    let diagnosis = diagnostic_marrow(700_026);
    let settings = follow_up_settings(&diagnosis, Instrument::Kaluza, "corner-diagnosis");
    let follow_up = Config {
        events: 2_500_000,
        seed: 200_026,
        hematogone_fraction: 0.2,
        realism: 1.0,
        ..Config::default()
    };
    let (_, report, _) = run_site(&follow_up, Some(Instrument::Kaluza), "corner", &settings);
    assert_eq!(report.status, Status::Negative, "{}", report.reason);
}

#[test]
fn a_blast_population_the_mixture_split_into_weak_pieces_is_found() {
    // CD20-partial blasts, CD34-, only moderately aberrant (CD38 at the
    // late precursors' level, CD58 half a decade above them, CD10
    // moderate), 10 % of a standard-tube marrow: the mixture split them
    // into half a dozen clusters. Those leaving the pattern were released
    // as "not separate" from the others, which leave the sample's own
    // hematogones too little to be called but are no normal precursors:
    // 54 of 9,015 blasts were found (simulated and analysed as
    // `detection_table` does; the tuning table's Canto seed 24).
    let cfg = moderate_cd20_partial(24);
    // Now 7,470 of them, 15 others (recall 0.83: one CD20+ piece stays
    // inside the hematogones' spread on every level marker).
    assert_called(&cfg, Instrument::Canto, "pieces", 0.95, 0.75);
}

#[test]
fn cd19_dim_blasts_below_the_cd19_gate_are_called_by_their_phenotype() {
    // After CD19-directed therapy: blasts a decade dimmer in CD19 than
    // normal B cells, CD22+ CD24+, 1 % of the marrow. 2,400 of them fell
    // below the CD19+ gate's cut, which sits just under the hematogones'
    // CD19; the precursors' expected tail there (the 880 CD19+ events of
    // the band above the cut) hid them and the site was NEGATIVE. Their
    // centre leaves the normal B-precursor pattern as a blast cluster must
    // (CD38 dim, CD58 bright); a precursors' tail cannot.
    let cfg = with_blasts(
        &[("CD19", 700.0)],
        Config {
            events: 300_000,
            b_lineage_markers: true,
            panel: PanelProfile::Standard,
            ..messy(7, 0.01, 0.05)
        },
    );
    assert_called(&cfg, Instrument::Lyric, "cd19-dim", 0.95, 0.7);
}

#[test]
fn non_specific_events_below_the_cd19_gate_are_no_cd19_negative_blasts() {
    // The Aurora layout (CD22 and CD24 in its tube), the EuroFlow tube
    // without a viability dye: dead cells below the CD19+ gate, CD10,
    // CD22 and CD24 dimly positive as dead cells stain, sit outside the
    // B-precursor pattern (CD38 and CD81 low, CD123 and CD304 "positive")
    // and were called CD19-negative blasts by that phenotype: 21 in a
    // normal marrow (571 expected from the precursors' tail), then, once
    // the population had to be blast-sized and at least that tail, 28 in a
    // regenerating one (13 expected; a held-out seed never looked at
    // before). The phenotype counts for cells the size of blasts beyond the
    // precursors' tail by the LOD.
    for (seed, hematogones) in [(100_009, 0.05), (900_019, 0.35)] {
        let cfg = Config {
            events: 100_000,
            ..messy(seed, 0.0, hematogones)
        };
        let (status, _, called, _, reason) = analyse(&cfg, Instrument::Aurora, "non-specific");
        assert_ne!(
            status,
            Status::Positive,
            "seed {seed}: {called} called: {reason}"
        );
    }
}

#[test]
fn cd19_negative_blasts_set_no_cut_inside_themselves() {
    // A CD19-negative relapse in B-cell aplasia (CD22 and CD24 in the
    // tube), 3 % blasts: the CD45-brighter part of the blasts sits in the
    // lymphocyte region, so the "T/NK" reference whose 99.5th percentile
    // sets the CD22 and CD24 cuts held them too, and the cuts fell inside
    // the blasts (the more blasts, the higher): 433 of 5,647 found. T/NK
    // cells are CD10-; now 4,900, no other events.
    let cfg = Config {
        events: 200_000,
        b_cell_aplasia: true,
        b_lineage_markers: true,
        ..with_blasts(&[("CD19", 60.0)], messy(62, 0.03, 0.0))
    };
    assert_called(&cfg, Instrument::Canto, "CD19-negative relapse", 0.95, 0.85);
}

#[test]
fn blasts_seen_through_a_cd19_only_tube_after_cd19_therapy_are_a_lower_bound() {
    // A CD19-negative relapse after blinatumomab (1 % blasts, CD19 at the
    // negative level, B-cell aplasia), a tube without CD22/CD24, the MRD
    // table's CyFlow seed 200063: 22 blasts of the CD19-negative population's
    // upper tail reach the CD19+ gate and form a cluster at the patient's
    // phenotype. Calling it POSITIVE is right (the disease is there), but
    // the 0.01 % it counted stood beside a plain "note", read as the
    // patient's MRD level for a true 1 %. Those blasts are only the part
    // this panel can see: the level is reported as a lower bound.
    let diagnosis = diagnostic_marrow(700_063);
    let settings = Settings {
        cd19_directed_therapy: true,
        ..follow_up_settings(&diagnosis, Instrument::Cyflow, "cd19-only-diagnosis")
    };
    let relapse = Config {
        events: 300_000,
        seed: 200_063,
        blast_fraction: 0.01,
        hematogone_fraction: 0.05,
        realism: 1.0,
        b_cell_aplasia: true,
        ..with_blasts(&[("CD19", 60.0)], Config::default())
    };
    let (sim, report, _) = run_site(&relapse, Some(Instrument::Cyflow), "cd19-only", &settings);
    assert_eq!(report.status, Status::Positive, "{}", report.reason);
    let measures = report.measures.as_ref().expect("measured");
    assert!(measures.blast_percent < 0.5 * sim.true_blast_percent());
    assert!(measures.blast_percent_is_lower_bound, "{}", report.reason);
    assert!(
        report.reason.contains("lower bound") && report.reason.contains("cannot be excluded"),
        "{}",
        report.reason
    );
}

#[test]
fn the_patients_phenotype_carves_no_cluster_from_regenerating_hematogones() {
    // MRD-negative follow-up marrow, 35 % hematogones, a million events
    // (the follow-negative scan's Kaluza seed 3200007): the patient's
    // phenotype (CD58 bright, CD38 dim) started a component of the mixture,
    // which carved the CD58-bright, CD38-dim part of the hematogones into
    // two clusters of 68,000 events off their remaining level: MRD POSITIVE
    // at 7.5 % on normal precursors. The same file without the phenotype
    // was NEGATIVE. The phenotype no longer starts a component; residual
    // blasts there get one fitted to the events at it alone, kept only when
    // called.
    let diagnosis = diagnostic_marrow(3_700_007);
    let settings = follow_up_settings(&diagnosis, Instrument::Kaluza, "carve-diagnosis");
    let follow_up = Config {
        events: 1_000_000,
        seed: 3_200_007,
        hematogone_fraction: 0.35,
        realism: 1.0,
        ..Config::default()
    };
    let (_, report, gating) = run_site(&follow_up, Some(Instrument::Kaluza), "carve", &settings);
    let called = gating.map_or(0, |g| g.blasts.iter().filter(|&&b| b).count());
    assert_eq!(
        report.status,
        Status::Negative,
        "{called} called: {}",
        report.reason
    );
}

#[test]
fn the_brightest_hematogones_piled_at_the_top_of_cd10_are_not_a_phenotype() {
    // Regenerating marrow at a million events (the follow-negative scan's
    // CyFlow seed 3200005: 35 % hematogones, no blasts): 79 of the
    // brightest hematogones sat at the top of the CD10 scale, where the
    // compensation of their saturated CD10 made them CD34+ CD20+, and were
    // called a blast cluster for that asynchrony (POSITIVE at 0.0087 %).
    // Saturated CD10 alone is no phenotype; beside a blast population it is
    // that population's brightest part and stays with it (the tuning
    // tables' 30 % and 90 % rows).
    let cfg = Config {
        events: 1_000_000,
        seed: 3_200_005,
        hematogone_fraction: 0.35,
        realism: 1.0,
        ..Config::default()
    };
    let (sim, report, gating) = run_site(
        &cfg,
        Some(Instrument::Cyflow),
        "cd10-pile",
        &Settings::default(),
    );
    let called = gating.map(|g| g.blasts).unwrap_or_default();
    let hematogones = sim
        .truth
        .iter()
        .zip(&called)
        .filter(|(p, c)| **c && **p == Population::Hematogone)
        .count();
    assert_eq!(
        report.status,
        Status::Negative,
        "{hematogones} hematogones called: {}",
        report.reason
    );
}

#[test]
fn a_tenth_of_a_decade_past_a_second_bound_makes_no_phenotype() {
    // Regenerating marrow at a million events (the follow-negative scan's
    // CyFlow seed 3200017: 35 % hematogones, no blasts): 8,491 hematogones
    // of the CD58-bright tail, 0.58 decades beyond the CD58 bound and 0.11
    // beyond the CD38 one, were called a blast cluster (POSITIVE at
    // 0.94 %). The bounds are drawn at 0.2 decades or more from their
    // references; less than that past a second bound is no aberrancy.
    let cfg = Config {
        events: 1_000_000,
        seed: 3_200_017,
        hematogone_fraction: 0.35,
        realism: 1.0,
        ..Config::default()
    };
    let (_, report, _) = run_site(
        &cfg,
        Some(Instrument::Cyflow),
        "cd58-tail",
        &Settings::default(),
    );
    assert_eq!(report.status, Status::Negative, "{}", report.reason);
}

/// A follow-up site as the follow-negative table of `detection_table`
/// simulates it: a million events of regenerating marrow (35 %
/// hematogones, no blasts), written as `instrument`, searched for the
/// phenotype of its diagnostic marrow (seed + 500,000).
fn regenerating_follow_up(seed: u64, instrument: Instrument) -> SiteReport {
    let settings = follow_up_settings(
        &diagnostic_marrow(seed + 500_000),
        instrument,
        &format!("diagnosis-{seed}"),
    );
    let follow_up = Config {
        events: 1_000_000,
        seed,
        hematogone_fraction: 0.35,
        realism: 1.0,
        ..Config::default()
    };
    let name = format!("regenerating-{seed}");
    run_site(&follow_up, Some(instrument), &name, &settings).1
}

/// Asserts that [`regenerating_follow_up`] of `seed` is NEGATIVE.
fn assert_follow_up_negative(seed: u64, instrument: Instrument) {
    let report = regenerating_follow_up(seed, instrument);
    assert_eq!(report.status, Status::Negative, "{}", report.reason);
}

#[test]
fn hematogones_are_judged_by_their_own_events_where_rare_seeds_pulled_the_fit() {
    // Regenerating marrow at a million events (Attune, seed 5200015 of the
    // blind follow-negative table): the mixture is fitted on a sample of
    // the CD19+CD10+ events plus every event beyond a bound (4,400 tail
    // events, there so that a rare population is fitted), which then
    // stand for 23 times their share. They pulled a 62,000-event
    // hematogone cluster's fitted CD58 centre to the bright tail (0.54
    // where its events average 0.47, as every other hematogone), and the
    // joint level test called it: 6.9 % MRD POSITIVE. The joint test must
    // now also hold at the centre of the events the cluster holds.
    assert_follow_up_negative(5_200_015, Instrument::Attune);
}

#[test]
fn a_few_hundred_odd_events_are_not_the_hematogone_reference() {
    // Regenerating marrow at a million events (Attune, seed 5200021 of the
    // blind follow-negative table): the only cluster inside every bound
    // and CD38 bright was 107 odd events (CD58 below zero, CD19 at the top
    // of the scale) among 350,000 precursors; against their narrow level
    // every real hematogone cluster was "beyond the spread" of the
    // sample's own hematogones and 173,000 were called (19.1 %). The
    // reference must hold a hundredth of the CD19+CD10+ events.
    assert_follow_up_negative(5_200_021, Instrument::Attune);
}

#[test]
fn a_cd38_bright_sliver_of_the_hematogones_is_not_their_level() {
    // Regenerating marrow at a million events (Kaluza, seed 9200001 of the
    // follow-negative table): most hematogone clusters sat just under the
    // CD38-bright margin the reference is chosen by, and the reference was
    // the one piece above it, 2,549 of 160,000 events inside the bounds,
    // 1 decade brighter in CD38 than the rest. Against that tail, 6,978
    // late hematogones looked CD38 dim and were called (0.77 %). The
    // reference must hold a tenth of the events inside the bounds.
    assert_follow_up_negative(9_200_001, Instrument::Kaluza);
}

/// A site of the follow-negative table of `detection_table` as it
/// simulates it: a million events of marrow with `hematogones` and no
/// blasts, written as `instrument`, with CD22/CD24 in the tube for even
/// seeds and the spectral layout, after CD19-directed therapy for even
/// seeds with them, searched for the phenotype of its diagnostic marrow
/// (seed + 500,000, the same tube). Asserts that it is NEGATIVE.
fn assert_table_follow_up_negative(seed: u64, instrument: Instrument, hematogones: f64) {
    let markers = seed.is_multiple_of(2) || instrument == Instrument::Aurora;
    let with_markers = |cfg: Config| Config {
        b_lineage_markers: markers,
        ..cfg
    };
    let settings = Settings {
        cd19_directed_therapy: markers && seed.is_multiple_of(2),
        ..follow_up_settings(
            &with_markers(diagnostic_marrow(seed + 500_000)),
            instrument,
            &format!("table-diagnosis-{seed}"),
        )
    };
    let follow_up = with_markers(Config {
        events: 1_000_000,
        seed,
        hematogone_fraction: hematogones,
        realism: 1.0,
        ..Config::default()
    });
    let name = format!("table-follow-up-{seed}");
    let (_, report, _) = run_site(&follow_up, Some(instrument), &name, &settings);
    assert_eq!(report.status, Status::Negative, "{}", report.reason);
}

#[test]
fn a_piece_of_the_hematogones_as_cd58_bright_as_larger_uncalled_ones_is_not_called() {
    // Regenerating marrow after blinatumomab at a million events (Aurora,
    // seed 11200020 of the follow-negative table, 35 % hematogones): the
    // CD38-bright reference cluster sat at the CD58-dim end of hematogones
    // whose CD58 spans a decade, and a 5,145-event piece of them, 0.86
    // decades above the reference in CD58 and 0.02 beyond its spread in
    // CD38, was called (0.57 %), while a 7,838-event hematogone cluster
    // further out in CD58 was not. A departure that larger clusters not
    // called reach too is the reach of the sample's own precursors.
    assert_table_follow_up_negative(11_200_020, Instrument::Aurora, 0.35);
}

#[test]
fn a_few_late_precursors_as_cd58_bright_as_a_larger_uncalled_piece_are_not_called() {
    // The same at 5 % hematogones (Lyric, seed 15000006 of a blind
    // follow-negative table): 37 events (23 late hematogones, 14 mature B
    // cells) 0.28 decades beyond the hematogones' CD58 spread, where an
    // uncalled 2,974-event cluster reaches further, were called POSITIVE
    // below the LLOQ; measured beyond that reach they leave only CD38, and
    // what the larger clusters reach must not become a joint departure.
    assert_table_follow_up_negative(15_000_006, Instrument::Lyric, 0.05);
}

#[test]
fn where_the_seeds_of_a_hematogone_tail_crowd_is_no_population() {
    // Regenerating marrow after blinatumomab (Lyric, seed 11100024 of the
    // follow-negative table, 20 % hematogones, nothing called): the seeds
    // of the CD58-bright hematogone tail crowd where it leaves the
    // continuum, and a component started there took 1,977 hematogones
    // that the hematogone judge called (0.22 % POSITIVE). Only 30 % of the
    // events there are seeds (85 % where 0.03 % blasts crowd): not a
    // population of its own, so no component starts there.
    assert_table_follow_up_negative(11_100_024, Instrument::Lyric, 0.2);
}

#[test]
fn where_saturated_events_crowd_no_component_starts() {
    // Regenerating marrow (CyFlow, seed 11200011 of the follow-negative
    // table, 35 % hematogones, nothing called): the most crowded places of
    // the seeds were 50 events at the top of the CD38 scale and 32 at the
    // top of the CD10 scale, each almost all seeds; a component started at
    // the CD10 pile took 226 hematogones of the CD34+CD20+ transition
    // (0.80 decades past that bound, beside 6,655 uncalled at 0.75) and
    // was called (0.025 % POSITIVE). Piled saturated events are no
    // phenotype: no component starts there.
    assert_table_follow_up_negative(11_200_011, Instrument::Cyflow, 0.35);
}

#[test]
fn a_piece_of_the_blasts_is_not_the_reach_of_normal_precursors() {
    // 10 % CD20-partial blasts, CD34-, CD38 and CD58 within the mature-B
    // bounds (Canto, seed 138 of the tuning table). The blasts fall into
    // five clusters; a 2,114-event piece of them, off the hematogones'
    // CD38 level but not called by itself, was taken by a first version
    // of the rule above for how far normal precursors reach in CD38, and
    // the called CD20+ half fell back under it (5.06 % found for 10.1 %).
    // A piece beside a called cluster, or off on another level marker, is
    // no such evidence.
    let cfg = with_blasts(
        &[
            ("CD20", 5000.0),
            ("CD20-fraction", 0.5),
            ("CD34", 60.0),
            ("CD58", 2500.0),
            ("CD38", 2000.0),
        ],
        Config {
            events: 100_000,
            ..messy(138, 0.10, 0.05)
        },
    );
    assert_called(
        &cfg,
        Instrument::Canto,
        "CD20-partial blasts in pieces",
        0.95,
        0.9,
    );
}

#[test]
fn late_precursors_that_lost_cd38_towards_mature_b_cells_leave_no_cd38_bound() {
    // Regenerating marrow at a million events (MACSQuant, seed 5200022 of
    // the blind follow-negative table): 4,787 late hematogones (CD20+,
    // CD34-, CD10 fading) from the bright end of their CD58 spread, whose
    // CD38 had come down to the mature-B level as late precursors' does,
    // left the CD58 bound and, by 0.20 decades, the CD38 bound (0.2
    // decades above mature B cells at every stage): two markers, called
    // (0.53 %). The CD38 bound now comes down along maturation.
    assert_follow_up_negative(5_200_022, Instrument::Macsquant);
}
