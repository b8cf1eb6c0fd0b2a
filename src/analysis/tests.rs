//! The main job end to end on simulated sites with known truth.

use super::case::{Case, Site};
use super::site::{Settings, Strategy};
use super::*;
use crate::fcs::FcsFile;
use crate::qc::Status;
use crate::report::case::{OutputOptions, summary_text, write_outputs};
use crate::simulate::{Config, simulate, write};
use std::path::{Path, PathBuf};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-analysis-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn site(dir: &Path, name: &str, cfg: &Config) -> Site {
    let file = dir.join(format!("{name}.fcs"));
    write(&simulate(cfg).expect("simulates"), &file).expect("writes");
    Site {
        name: name.into(),
        file,
        panel: Vec::new(),
    }
}

#[test]
fn a_necrotic_site_beside_positive_ones_is_a_single_site_miss() {
    let dir = temp("case");
    let necrotic = site(
        &dir,
        "left iliac",
        &Config {
            events: 40_000,
            seed: 1,
            blast_fraction: 0.01,
            necrosis: 0.97,
            ..Config::default()
        },
    );
    let positive = site(
        &dir,
        "right iliac",
        &Config {
            events: 60_000,
            seed: 2,
            blast_fraction: 0.2,
            ..Config::default()
        },
    );
    let normal = site(
        &dir,
        "sternum",
        &Config {
            events: 60_000,
            seed: 3,
            hematogone_fraction: 0.15,
            ..Config::default()
        },
    );
    // A site whose CD19 channel is labelled with another marker.
    let mut sim = simulate(&Config {
        events: 5_000,
        ..Config::default()
    })
    .expect("simulates");
    sim.keywords.set("$P7S", "CD22 PE-Cy7");
    let relabelled = dir.join("relabelled.fcs");
    write(&sim, &relabelled).expect("writes");
    let garbage = dir.join("garbage.fcs");
    std::fs::write(&garbage, b"FCS3.1    not really").expect("writes");
    let mut sites = vec![necrotic, positive, normal];
    for (name, file) in [("no CD19", relabelled), ("garbage", garbage)] {
        sites.push(Site {
            name: name.into(),
            file,
            panel: Vec::new(),
        });
    }
    let case = Case {
        case_id: Some("T1".into()),
        patient: None,
        sites,
    };
    let settings = Settings {
        keep_blast_events: true,
        ..Settings::default()
    };
    let (report, gatings) = analyze_case(&case, &settings);
    let status: Vec<Status> = report.sites.iter().map(|s| s.status).collect();
    assert_eq!(
        status,
        [
            Status::NotEvaluable,
            Status::Positive,
            Status::Negative,
            Status::NotEvaluable,
            Status::NotEvaluable
        ],
        "{}",
        summary_text(&report)
    );
    let necrotic = &report.sites[0];
    assert!(necrotic.reason.contains("too few viable") && necrotic.error.is_none());
    let right = report.sites[1].measures.as_ref().expect("measured");
    assert!(
        (right.blast_percent - 20.0).abs() < 2.0,
        "{}",
        right.blast_percent
    );
    assert!(right.blast_ci95[0] < right.blast_percent && right.blast_percent < right.blast_ci95[1]);
    let sternum = report.sites[2].measures.as_ref().expect("measured");
    assert!(sternum.sensitivity < 0.001 && report.sites[2].reason.contains("sensitivity"));
    assert!(
        sternum
            .marrow_indicators
            .expect("assessed")
            .b_precursor_percent
            > 10.0
    );
    // Per-site errors name what is missing and what was found.
    let e = report.sites[3].error.as_deref().expect("error");
    assert!(
        e.contains("CD19") && e.contains("PE-Cy7-A (CD22 PE-Cy7)"),
        "{e}"
    );
    assert!(report.sites[4].error.is_some() && gatings[4].is_none());
    assert!(report.has_site_errors());
    assert_eq!(
        report.single_site_misses,
        ["left iliac", "sternum", "no CD19", "garbage"]
    );
    assert!(
        report.conclusion.contains("1 of 5 sites"),
        "{}",
        report.conclusion
    );

    // Outputs: the JSON schema's documented fields, the CSV, blast FCS.
    let out = dir.join("out");
    let files = write_outputs(
        &report,
        &gatings,
        &out,
        OutputOptions {
            blast_fcs: true,
            replace: false,
        },
    )
    .expect("writes");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("json"))
            .expect("parses");
    for key in [
        "sites",
        "single_site_misses",
        "conclusion",
        "limits",
        "schema_version",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let s1 = &json["sites"][1];
    for key in [
        "name",
        "file",
        "status",
        "reason",
        "total_events",
        "viable_nucleated_events",
        "debris_percent",
        "viable_percent",
        "blast_events",
        "blast_percent",
        "blast_ci95",
        "sensitivity",
        "gates",
    ] {
        assert!(s1.get(key).is_some(), "{key}");
    }
    assert_eq!(s1["status"], "POSITIVE");
    assert_eq!(json["sites"][0]["status"], "NOT_EVALUABLE");
    assert!(s1["gates"].as_array().expect("gates").len() >= 7);
    let csv = std::fs::read_to_string(out.join("sites.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 6);
    assert!(csv.lines().nth(2).expect("row").starts_with("right iliac,"));
    let blasts = out.join("02-right_iliac.blasts.fcs");
    assert!(files.contains(&blasts));
    let f = FcsFile::open(&blasts).expect("reads");
    assert_eq!(f.datasets()[0].event_count as u64, right.blast_events);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn necrotic_sites_without_a_blast_cluster_are_never_negative_nor_positive() {
    let dir = temp("necrotic");
    // Seeds 1081 and 1085 once turned a few hundred viable cells into
    // "CD19+" and their CD10+ neutrophils into blasts.
    for (seed, blasts) in [
        (1081, 0.0),
        (1082, 0.0),
        (1085, 0.01),
        (1086, 0.01),
        (7, 0.0),
    ] {
        let s = site(
            &dir,
            &format!("n{seed}"),
            &Config {
                events: 40_000,
                seed,
                necrosis: 0.97,
                blast_fraction: blasts,
                ..Config::default()
            },
        );
        let (report, _) = site::analyze_site(&s, &Settings::default());
        assert_eq!(
            report.status,
            Status::NotEvaluable,
            "seed {seed}: {}",
            report.reason
        );
        assert!(report.reason.contains("necrosis"), "{}", report.reason);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn user_gating_ml_gates_replace_the_automated_strategy() {
    use site::UserGates;
    let gml = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bench_gates.xml");
    let dir = temp("user-gates");
    let s = site(
        &dir,
        "s",
        &Config {
            events: 30_000,
            seed: 5,
            blast_fraction: 0.1,
            ..Config::default()
        },
    );
    let user = UserGates::read(&gml, "cd19_cd10", "cells", None).expect("gates");
    let (report, gating) = site::analyze_site(
        &s,
        &Settings {
            strategy: Strategy::UserGates(user),
            ..Settings::default()
        },
    );
    let m = report.measures.as_ref().expect("measured");
    // The same counts `apply` gives for those gates.
    let applied = crate::report::gating::apply(&s.file, &gml, 0, None).expect("applies");
    let events = |id: &str| applied.events(id).expect("gate");
    assert_eq!(m.blast_events, events("cd19_cd10"));
    assert_eq!(m.viable_nucleated_events, events("cells"));
    assert_eq!(report.status, Status::Positive);
    assert!(m.marrow_indicators.is_none() && m.doublet_percent.is_none());
    assert!(m.strategy.starts_with("gating-ml"));
    assert_eq!(m.gates.len(), 2);
    let gating = gating.expect("gating");
    assert!(gating.automatic.is_none());
    assert_eq!(
        gating.blasts.iter().filter(|b| **b).count() as u64,
        m.blast_events
    );
    // A gate id the file lacks is a clear error naming the gates it has.
    let e = UserGates::read(&gml, "blasts", "cells", None).expect_err("no such gate");
    assert!(e.contains("\"blasts\"") && e.contains("cd19_cd10"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn figures_and_html_report_show_every_site_and_gate_where_it_is() {
    use crate::plot::bivariate::Frame;
    use crate::plot::colour::GATE;
    use crate::plot::site::{COLUMNS, PANEL, figure_size};
    let dir = temp("figures");
    let sites = vec![
        site(
            &dir,
            "iliac <left>",
            &Config {
                events: 30_000,
                seed: 11,
                blast_fraction: 0.2,
                ..Config::default()
            },
        ),
        site(
            &dir,
            "sternum",
            &Config {
                events: 30_000,
                seed: 12,
                ..Config::default()
            },
        ),
    ];
    let case = Case {
        case_id: Some("FIG".into()),
        patient: None,
        sites,
    };
    let (report, gatings) = analyze_case(&case, &Settings::default());
    let out = dir.join("out");
    write_outputs(&report, &gatings, &out, OutputOptions::default()).expect("writes");
    let auto = gatings[0]
        .as_ref()
        .and_then(|g| g.automatic.as_ref())
        .expect("automatic");
    let png = image::open(out.join("plots/01-iliac_left.gating.png"))
        .expect("decodes")
        .to_rgb8();
    assert_eq!(png.dimensions(), figure_size(auto));
    assert_eq!(png.dimensions().0, PANEL.0 * COLUMNS);
    // Each gate is drawn on its parent's events (as FlowJo shows it).
    // Panel 5 (row 1, column 0) is CD19 vs SSC-A: the left edge of the
    // CD19+ gate lies at its CD19 threshold; panel 6 (row 1, column 1) is
    // CD19 vs CD10 among CD19+ cells, the CD19+CD10+ gate's lower edge at
    // its CD10 threshold. Both in the gate colour.
    let (cd19_cut, ssc_cut) = (
        auto.pregates.records[5].thresholds[0],
        auto.pregates.records[5].thresholds[1],
    );
    let cd10_cut = auto.pregates.records[6].thresholds[0];
    assert_eq!(auto.pregates.records[5].name, "CD19+");
    assert_eq!(auto.pregates.records[6].name, "CD19+CD10+");
    let axis = crate::plot::axis::Axis::logicle("", &auto.prepared.logicle, (-0.05, 1.0));
    let ssc_axis = crate::plot::axis::Axis::linear("", crate::simulate::RANGE, (0.0, 1.0));
    let frame = Frame {
        width: PANEL.0,
        height: PANEL.1,
    };
    let (px, py) = frame.pixel(&axis, &ssc_axis, (cd19_cut, ssc_cut / 2.0));
    assert_eq!(png.get_pixel(px as u32, PANEL.1 + py as u32).0, GATE);
    let (px, py) = frame.pixel(&axis, &axis, (0.5, cd10_cut));
    assert_eq!(
        png.get_pixel(PANEL.0 + px as u32, PANEL.1 + py as u32).0,
        GATE
    );
    // The blasts land in blast colour at their centre in that panel.
    let blasts: Vec<usize> = (0..auto.search.members.len())
        .filter(|&i| auto.search.members[i])
        .collect();
    let median = |m: crate::strategy::markers::Marker| {
        let col = auto.prepared.get(m).expect("column");
        let mut v: Vec<f64> = blasts.iter().map(|&i| f64::from(col[i])).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    use crate::strategy::markers::Marker;
    let (bx, by) = frame.pixel(
        &axis,
        &axis,
        (median(Marker::Cd(19)), median(Marker::Cd(10))),
    );
    let centre = png.get_pixel(PANEL.0 + bx as u32, PANEL.1 + by as u32).0;
    // A shade of the blast colour (dense = full colour).
    assert!(
        centre[0] >= 214 && centre[1] < 140 && centre[1].abs_diff(centre[2]) <= 5,
        "{centre:?}"
    );

    // The HTML holds every site, every figure, no external resource.
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    for needle in [
        "iliac &lt;left&gt;",
        "sternum",
        "fig-comparison",
        "fig-cd19_cd10_sites",
        "fig-quality",
        "fig-01-iliac_left.gating",
        "fig-02-sternum.gating",
        "Common-B-ALL blasts were found at 1 of 2 sites (iliac &lt;left&gt;",
        "Methods",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(!html.contains("src=\"http") && !html.contains("<script"));
    assert_eq!(html.matches("data:image/png;base64,").count(), 5);
    for f in [
        "comparison.png",
        "comparison.svg",
        "cd19_cd10_sites.png",
        "02-sternum.gating.svg",
    ] {
        assert!(out.join("plots").join(f).exists(), "{f}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_methods_state_the_rules_that_ran() {
    // Methods are generated from the settings, never written by hand: a
    // changed rule changes the sentence, and report.json records it.
    let blast = crate::strategy::blasts::BlastSettings {
        min_blast_size: 0.77,
        max_normal_overlap: 0.15,
        ..Default::default()
    };
    let text = methods(&Limits::default(), &PregateSettings::default(), &blast).join(" ");
    assert!(
        text.contains("0.77x the lymphocytes' median FSC-A"),
        "{text}"
    );
    assert!(text.contains("at most 15% as well"), "{text}");
    let json = serde_json::to_value(&blast).expect("serialises");
    assert_eq!(json["min_blast_size"], 0.77);
}
