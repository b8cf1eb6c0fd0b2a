//! The automated gates exported as Gating-ML (issue 12): applied to the
//! site's own file by the project's Gating-ML engine (`marrowgate apply`),
//! each exported gate holds exactly the events report.json gives it, and
//! the blast gate's agreement with the blast call is reported.

use marrowgate::gate::gating_ml;
use marrowgate::simulate::instrument::{Instrument, as_instrument};
use marrowgate::simulate::{BlastPhenotype, Config, PanelProfile, simulate, write};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Runs `analyze --out` on the sites and returns report.json.
fn analyze(sites: &[(String, PathBuf)], out: &Path) -> Value {
    let mut c = Command::new(env!("CARGO_BIN_EXE_marrowgate"));
    c.arg("analyze").arg("--out").arg(out);
    for (name, file) in sites {
        c.arg("--site").arg(format!("{name}={}", file.display()));
    }
    let status = c.output().expect("runs").status;
    assert!(status.success(), "analyze: {status}");
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("json")
}

/// Applies each site's exported file to its FCS file and compares every
/// exported gate's count with report.json. Returns the blast gates'
/// (exported count, agreement) per site that has one.
fn check_site(site: &Value, out: &Path, dataset: usize) -> Option<(u64, Value)> {
    let name = site["name"].as_str().expect("name");
    let rel = site["gating_ml"].as_str().expect("gating_ml path");
    let gml = out.join(rel);
    // The project's own reader takes the file, and its writer gives it
    // back unchanged.
    let tree = gating_ml::read(&gml).expect("exported file reads");
    let again = gating_ml::parse(&gating_ml::write(&tree).expect("writes"), "again")
        .expect("rewritten file reads");
    assert_eq!(tree, again, "{name}: round trip");
    let fcs = PathBuf::from(site["file"].as_str().expect("file"));
    let applied = marrowgate::report::gating::apply(&fcs, &gml, dataset, None).expect("applies");
    let mut blast = None;
    let mut compared = 0;
    for g in site["gates"].as_array().expect("gates") {
        let Some(id) = g["id"].as_str() else {
            continue;
        };
        let exported = applied
            .events(id)
            .unwrap_or_else(|| panic!("{name}: gate {id} not exported"));
        let reported = g["events"].as_u64().expect("events");
        if g["name"] == "blasts" {
            blast = Some((exported, site["blast_gate_agreement"].clone()));
        } else {
            assert_eq!(exported, reported, "{name}: gate {id}");
            compared += 1;
        }
    }
    // cells, singlets (or not without FSC-H), viable, CD45dim SSClow,
    // CD19+, CD19+CD10+.
    assert!(compared >= 5, "{name}: only {compared} gates exported");
    eprintln!("{name}: blast gate {blast:?}");
    blast
}

#[test]
fn exported_pre_gates_reproduce_every_count_on_the_sample_case() {
    let out = temp("bmn").join("out");
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-bmn");
    let sites: Vec<(String, PathBuf)> = ["left-iliac-necrotic", "right-iliac", "sternum"]
        .iter()
        .map(|s| (s.to_string(), case.join(format!("{s}.fcs"))))
        .collect();
    let report = analyze(&sites, &out);
    let mut blast_sites = 0;
    for site in report["sites"].as_array().expect("sites") {
        if let Some((exported, agreement)) = check_site(site, &out, 0) {
            blast_sites += 1;
            let both = agreement["both"].as_u64().expect("both");
            let extra = agreement["exported_only"].as_u64().expect("exported_only");
            assert_eq!(exported, both + extra, "{}", site["name"]);
            let called = site["blast_events"].as_u64().expect("blasts");
            assert!(
                both as f64 >= 0.95 * called as f64,
                "{agreement} of {called}"
            );
        }
    }
    assert_eq!(blast_sites, 2, "right iliac and sternum hold blasts");
}

/// An instrument, a panel, blast marker changes and a seed.
type Layout = (
    Instrument,
    PanelProfile,
    &'static [(&'static str, f64)],
    u64,
);

#[test]
fn exported_gates_reproduce_counts_for_every_phenotype_and_layout() {
    // Dye and no dye (EuroFlow: dead cells by scatter, a NOT gate),
    // compensated and unmixed or precompensated files, scatter on many
    // ranges, and blasts of several phenotypes.
    let d = temp("layouts");
    let cases: [Layout; 5] = [
        (Instrument::Canto, PanelProfile::Standard, &[], 1),
        (
            Instrument::Cytoflex,
            PanelProfile::Euroflow,
            &[("CD34", 60.0)],
            2,
        ),
        (
            Instrument::Kaluza,
            PanelProfile::Standard,
            &[("CD45", 60.0)],
            3,
        ),
        (
            Instrument::Aurora,
            PanelProfile::Standard,
            &[("CD20", 3000.0)],
            4,
        ),
        (
            Instrument::Attune,
            PanelProfile::Clearllab,
            &[("CD10", 15000.0)],
            5,
        ),
    ];
    let mut sites = Vec::new();
    for (instrument, panel, changes, seed) in cases {
        let mut blast_phenotype = BlastPhenotype::default();
        for (m, v) in changes {
            assert!(blast_phenotype.set(m, *v), "{m}");
        }
        let mut sim = simulate(&Config {
            events: 40_000,
            seed,
            blast_fraction: 0.05,
            realism: 1.0,
            panel,
            blast_phenotype,
            ..Config::default()
        })
        .expect("simulates");
        as_instrument(&mut sim, instrument).expect("layout");
        let file = d.join(format!("{instrument:?}.fcs"));
        write(&sim, &file).expect("writes");
        sites.push((format!("{instrument:?}"), file));
    }
    let out = d.join("out");
    let report = analyze(&sites, &out);
    for site in report["sites"].as_array().expect("sites") {
        let (exported, agreement) =
            check_site(site, &out, 0).unwrap_or_else(|| panic!("{}: no blast gate", site["name"]));
        let both = agreement["both"].as_u64().expect("both");
        assert_eq!(
            exported,
            both + agreement["exported_only"].as_u64().expect("exported_only"),
            "{}",
            site["name"]
        );
    }
}

#[test]
fn a_removed_stretch_of_unstable_flow_is_exported_exactly() {
    // A clog and its release: 5 % of the events acquired in a quarter of
    // their time (a fourfold rate), then a pause. The stable-flow gate
    // removes the fast bins; its export is the NOT of those time ranges.
    let d = temp("flow");
    let mut sim = simulate(&Config {
        events: 40_000,
        seed: 9,
        blast_fraction: 0.05,
        ..Config::default()
    })
    .expect("simulates");
    let time = sim.events.ncols() - 1;
    let n = sim.events.nrows();
    let (from, to) = (n * 30 / 100, n * 35 / 100);
    for i in from..to {
        sim.events[[i, time]] = (180.0 + 0.25 * 600.0 * (i - from) as f64 / n as f64) as f32;
    }
    let file = d.join("clog.fcs");
    write(&sim, &file).expect("writes");
    let out = d.join("out");
    let report = analyze(&[("clog".into(), file)], &out);
    let site = &report["sites"][0];
    let stable = &site["gates"][0];
    assert_eq!(stable["id"], "stable flow", "{stable}");
    assert!(
        stable["events"].as_u64().expect("events") < n as u64 - 1000,
        "the fast bins are removed: {stable}"
    );
    check_site(site, &out, 0).expect("blast gate");
}
