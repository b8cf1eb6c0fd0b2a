//! Files as every cytometer family writes them (issue 10, first part): the
//! channels get the roles a person would give them, and each layout is
//! analysed end to end with the same result as the BD layout.

use marrowgate::simulate::instrument::{Instrument, as_instrument};
use marrowgate::simulate::{Config, Simulation, simulate, write};
use marrowgate::strategy::markers::read_channels;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_marrowgate"))
}

/// `analyze --json` of one site named `s` (with a panel file if given):
/// the report.
fn analyze_one(file: &Path, panel: Option<&Path>) -> Value {
    let mut c = bin();
    c.args(["analyze", "--json", "--site"])
        .arg(format!("s={}", file.display()));
    if let Some(p) = panel {
        c.arg("--panel").arg(p);
    }
    let out = c.output().expect("runs");
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Writes `sim` as `instrument` does into `dir` and adds it to `c` as the
/// site `name`.
fn add_site(c: &mut Command, dir: &Path, name: &str, mut sim: Simulation, instrument: Instrument) {
    as_instrument(&mut sim, instrument).expect("layout");
    let file = dir.join(format!("{name}.fcs"));
    write(&sim, &file).expect("writes");
    c.arg("--site").arg(format!("{name}={}", file.display()));
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-inst-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

const ALL: [(Instrument, &str, &str, &str); 9] = [
    (Instrument::Canto, "canto", "FSC-A", "PE-Cy7-A"),
    (Instrument::Lyric, "lyric", "FSC-A", "Y 780/60-A"),
    (Instrument::Navios, "navios", "FS INT", "FL5 INT"),
    (Instrument::Kaluza, "kaluza", "FS INT", "Comp-CD19 PE-Cy7"),
    (Instrument::Cytoflex, "cytoflex", "FSC-A", "PC7-A"),
    (Instrument::Aurora, "aurora", "FSC-A", "PE-Cy7-A"),
    (Instrument::Attune, "attune", "FSC-A", "YL4-A"),
    (Instrument::Macsquant, "macsquant", "FSC-A", "B4-A"),
    (Instrument::Cyflow, "cyflow", "FSC", "FL4"),
];

#[test]
fn every_instrument_layout_is_understood_and_analysed_alike() {
    let d = temp("layouts");
    let cfg = Config {
        events: 60_000,
        seed: 7,
        blast_fraction: 0.03,
        ..Config::default()
    };
    let base = simulate(&cfg).expect("simulates");
    let truth = base.true_blast_percent();
    let mut c = bin();
    c.args(["analyze", "--json"]);
    for (instrument, name, _, _) in ALL {
        add_site(&mut c, &d, name, base.clone(), instrument);
    }
    let out = c.output().expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sites = report["sites"].as_array().expect("sites");
    let canto = sites[0]["blast_events"].as_u64().expect("blasts");
    for ((_, name, fsc, cd19), s) in ALL.iter().zip(sites) {
        assert_eq!(s["status"], "POSITIVE", "{name}: {}", s["reason"]);
        assert_eq!(s["markers"]["FSC-A"], *fsc, "{name}");
        assert_eq!(s["markers"]["CD19"], *cd19, "{name}");
        let pct = s["blast_percent"].as_f64().expect("blast %");
        assert!(
            (pct - truth).abs() < 0.1 * truth,
            "{name}: {pct} vs {truth}"
        );
        // The range of the instrument does not move a single event.
        assert_eq!(s["blast_events"].as_u64(), Some(canto), "{name}");
    }
    // The Navios LMD file is read from its full-resolution FCS 3 set, and
    // says so.
    let navios = sites.iter().find(|s| s["name"] == "navios").expect("site");
    assert!(
        navios["concerns"]
            .to_string()
            .contains("data set 2 of 2 analysed"),
        "{}",
        navios["concerns"]
    );
    // Unmixed / already compensated files carry no spillover: analysed
    // as they are, never called uncompensated.
    for name in ["kaluza", "aurora"] {
        let s = sites.iter().find(|s| s["name"] == name).expect("site");
        assert_eq!(s["compensated"], false);
        assert!(
            s["concerns"].as_array().is_some_and(|c| c.is_empty()),
            "{name}"
        );
    }
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fcs-corpus")
        .join(name)
}

/// (channel, role, marker) of a corpus file as marrowgate reads it.
fn roles(file: &str) -> Vec<(String, &'static str, Option<String>)> {
    let f = marrowgate::fcs::FcsFile::open(corpus(file)).expect("reads");
    let channels: Vec<(String, Option<String>)> =
        marrowgate::fcs::metadata::names_and_labels(&f.datasets()[0].metadata.channels);
    read_channels(&channels, &[])
        .0
        .into_iter()
        .map(|r| (r.channel, r.role, r.marker))
        .collect()
}

fn role_of<'a>(
    roles: &'a [(String, &'static str, Option<String>)],
    channel: &str,
) -> (&'static str, Option<&'a str>) {
    let r = roles
        .iter()
        .find(|r| r.0 == channel)
        .unwrap_or_else(|| panic!("{channel}"));
    (r.1, r.2.as_deref())
}

#[test]
fn real_files_get_the_roles_a_person_would_give_them() {
    // Thermo Attune NxT.
    let g11 = roles("G11.fcs");
    assert_eq!(
        role_of(&g11, "FSC-A"),
        ("forward scatter area", Some("FSC-A"))
    );
    assert_eq!(
        role_of(&g11, "SSC-H"),
        ("side scatter height", Some("SSC-H"))
    );
    assert_eq!(role_of(&g11, "Time"), ("time", Some("Time")));
    assert_eq!(role_of(&g11, "BL1-A").0, "not recognised"); // GFP: no CD
    // Beckman Coulter FC500 (LMD): an FCS 2.0 set of 1,024 channels and
    // the same events at full resolution as FCS 3.0; the analysis reads
    // the second.
    let lmd = roles("coulter.lmd");
    assert_eq!(role_of(&lmd, "FS Lin").0, "forward scatter area");
    assert_eq!(role_of(&lmd, "SS Lin").0, "side scatter area");
    let file = marrowgate::fcs::FcsFile::open(corpus("coulter.lmd")).expect("reads");
    assert_eq!(file.analysed_dataset(), 1);
    assert_eq!(file.datasets()[1].metadata.channels[0].range, 1_048_576.0);
    // A single-set file is analysed from its only set.
    let one = marrowgate::fcs::FcsFile::open(corpus("G11.fcs")).expect("reads");
    assert_eq!(one.analysed_dataset(), 0);
    // BD FACSAria with markers in $PnS.
    let aria = roles("100715.fcs");
    assert_eq!(role_of(&aria, "G710-A"), ("marker", Some("CD19")));
    assert_eq!(role_of(&aria, "R780-A"), ("marker", Some("CD3")));
    // FACSDiva index sort: "marker;dye;filter" labels, 7-AAD viability.
    let index = roles("index_sorted_example.fcs");
    assert_eq!(role_of(&index, "RL 780/60-A"), ("marker", Some("CD19")));
    assert_eq!(
        role_of(&index, "BL 695/40-A"),
        ("viability dye", Some("viability"))
    );
    assert_eq!(role_of(&index, "FSC-W").0, "forward scatter width");
    // BD Accuri C6 (16.7 M range).
    let accuri = roles("B01_KC-A-W---91-US.fcs");
    assert_eq!(role_of(&accuri, "SSC-A").0, "side scatter area");
    assert_eq!(role_of(&accuri, "FL1-A").0, "not recognised");
    // FACSCalibur: height-only scatter and markers in $PnS.
    let calibur = roles("data1.fcs");
    assert_eq!(role_of(&calibur, "FSC-H").0, "forward scatter height");
    assert_eq!(role_of(&calibur, "FL1-H"), ("marker", Some("CD4")));
}

#[test]
fn the_panel_file_round_trips_and_a_correction_is_used() {
    let d = temp("panel");
    let mut sim = simulate(&Config {
        events: 40_000,
        seed: 8,
        blast_fraction: 0.05,
        ..Config::default()
    })
    .expect("simulates");
    as_instrument(&mut sim, Instrument::Navios).expect("layout");
    let file = d.join("navios.fcs");
    write(&sim, &file).expect("writes");
    let panel = d.join("panel.toml");
    let out = bin()
        .arg("panel")
        .arg(&file)
        .arg("--out")
        .arg(&panel)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FS INT") && text.contains("forward scatter area"),
        "{text}"
    );
    let written = std::fs::read_to_string(&panel).expect("panel");
    assert!(written.contains("\"FL5 INT\" = \"CD19\""), "{written}");
    // Passed back unchanged: the same markers.
    let run = |panel: &Path| analyze_one(&file, Some(panel));
    let same = run(&panel);
    assert_eq!(same["sites"][0]["markers"]["CD19"], "FL5 INT");
    assert_eq!(same["sites"][0]["status"], "POSITIVE");
    // A correction is used: CD19 read from another channel.
    let edited = written
        .replace("\"FL5 INT\" = \"CD19\"", "\"FL5 INT\" = \"CD22\"")
        .replace("\"FL1 INT\" = \"CD20\"", "\"FL1 INT\" = \"CD19\"");
    let corrected = d.join("corrected.toml");
    std::fs::write(&corrected, edited).expect("write");
    let changed = run(&corrected);
    assert_eq!(changed["sites"][0]["markers"]["CD19"], "FL1 INT");
}

#[test]
fn scatter_that_cannot_be_told_apart_names_its_candidates() {
    let d = temp("scatter");
    let mut sim = simulate(&Config {
        events: 5_000,
        ..Config::default()
    })
    .expect("simulates");
    // Two side-scatter variants and no plain SSC-A.
    sim.keywords.set("$P3N", "SSC-B-A");
    sim.keywords.set("$P2N", "Violet SSC-A");
    let file = d.join("two-ssc.fcs");
    write(&sim, &file).expect("writes");
    let report = analyze_one(&file, None);
    let e = report["sites"][0]["error"].as_str().unwrap_or("");
    assert!(
        e.contains("SSC-A is claimed by")
            && e.contains("SSC-B-A")
            && e.contains("Violet SSC-A")
            && e.contains("--panel"),
        "{e}"
    );
}

/// 80,000 events, 5 % blasts, stained with `panel`.
fn tube(seed: u64, panel: marrowgate::simulate::PanelProfile) -> Config {
    Config {
        events: 80_000,
        seed,
        blast_fraction: 0.05,
        panel,
        ..Config::default()
    }
}

#[test]
fn the_euroflow_tube_is_read_with_every_marker_it_has() {
    let d = temp("euroflow");
    let cfg = tube(9, marrowgate::simulate::PanelProfile::Euroflow);
    let sim = simulate(&cfg).expect("simulates");
    let truth = sim.true_blast_percent();
    let file = d.join("euroflow.fcs");
    write(&sim, &file).expect("writes");
    let report = analyze_one(&file, None);
    let s = &report["sites"][0];
    // CD81 and CD66c/CD123 are read; there is no viability dye, and the
    // report says how dead cells were judged.
    assert_eq!(s["markers"]["CD81"], "APC-R700-A");
    assert_eq!(s["markers"]["CD66c"], "BV421-A");
    assert!(s["markers"].get("viability").is_none());
    let viable_gate = &s["gates"][3];
    assert!(
        viable_gate["rule"]
            .as_str()
            .unwrap_or("")
            .contains("no viability dye"),
        "{viable_gate}"
    );
    assert_eq!(s["status"], "POSITIVE", "{}", s["reason"]);
    let pct = s["blast_percent"].as_f64().expect("blast %");
    assert!((pct - truth).abs() < 0.1 * truth, "{pct} vs {truth}");
    assert!(
        s["normal_bounds"].to_string().contains("CD81"),
        "the CD81 bound is used"
    );
}

#[test]
fn the_clearllab_tube_and_a_34_channel_spectral_file_are_understood() {
    let d = temp("wide");
    let clearllab = tube(12, marrowgate::simulate::PanelProfile::Clearllab);
    let spectral = Config {
        panel: marrowgate::simulate::PanelProfile::Standard,
        ..clearllab.clone()
    };
    let mut c = bin();
    c.args(["analyze", "--json"]);
    let mut truths = Vec::new();
    for (name, cfg, instrument) in [
        ("clearllab-navios", &clearllab, Instrument::Navios),
        ("clearllab-cytoflex", &clearllab, Instrument::Cytoflex),
        ("aurora", &spectral, Instrument::Aurora),
    ] {
        let sim = simulate(cfg).expect("simulates");
        truths.push(sim.true_blast_percent());
        add_site(&mut c, &d, name, sim, instrument);
    }
    let out = c.output().expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let sites = report["sites"].as_array().expect("sites");
    for (s, truth) in sites.iter().zip(&truths) {
        assert_eq!(s["status"], "POSITIVE", "{}: {}", s["name"], s["reason"]);
        let pct = s["blast_percent"].as_f64().expect("blast %");
        // No viability dye in ClearLLab: dead cells stay in the
        // denominator, a few percent of it.
        assert!(
            (pct - truth).abs() < 0.1 * truth,
            "{}: {pct} vs {truth}",
            s["name"]
        );
    }
    // ClearLLab: CD200 and CD5 in place of CD58 and a dye, light chains
    // recognised but not read.
    let cll = &sites[0];
    assert_eq!(cll["markers"]["CD19"], "FL5 INT");
    assert!(cll["markers"].get("CD58").is_none());
    assert!(cll["markers"].get("viability").is_none());
    // The spectral file: 34 channels, every one understood.
    let file = d.join("aurora.fcs");
    let out = bin()
        .args(["panel", "--json"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let panel: Value = serde_json::from_slice(&out.stdout).expect("json");
    let channels = panel[0]["channels"]
        .as_array()
        .or_else(|| panel["channels"].as_array())
        .expect("channels");
    assert_eq!(channels.len(), 34);
    let role = |name: &str| {
        let c = channels
            .iter()
            .find(|c| c["channel"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        (
            c["role"].as_str().unwrap_or("").to_string(),
            c["marker"].clone(),
            c["used"].clone(),
        )
    };
    assert_eq!(role("AF-A").0, "autofluorescence");
    assert_eq!(role("SSC-B-A").0, "side scatter area");
    assert_eq!(role("SSC-A").2, true, "plain SSC-A is the one used");
    assert_eq!(role("SSC-B-A").2, false);
    assert_eq!(role("BV711-A").1, "HLA-DR");
    assert_eq!(role("PE-Fire 810-A").1, "CD11b");
    assert_eq!(role("BUV615-A").1, "CD22");
    // The leukemia-associated antigens of the panel are read.
    for (ch, marker) in [
        ("BV480-A", "CD123"),
        ("BV570-A", "CD73"),
        ("BV605-A", "CD304"),
    ] {
        assert_eq!(role(ch).1, marker);
        assert_eq!(role(ch).2, true, "{marker} is read");
    }
    for ch in channels {
        assert_ne!(ch["role"], "not recognised", "{ch}");
    }
}

#[test]
fn every_instrument_with_every_panel_profile_is_analysed() {
    use marrowgate::simulate::PanelProfile;
    let d = temp("matrix");
    let mut c = bin();
    c.args(["analyze", "--json"]);
    let mut expected = Vec::new();
    for panel in [
        PanelProfile::Standard,
        PanelProfile::Euroflow,
        PanelProfile::Clearllab,
    ] {
        let cfg = Config {
            events: 40_000,
            seed: 21,
            blast_fraction: 0.05,
            panel,
            ..Config::default()
        };
        let base = simulate(&cfg).expect("simulates");
        for (instrument, name, _, _) in ALL {
            let site = format!("{name}-{panel:?}");
            add_site(&mut c, &d, &site, base.clone(), instrument);
            expected.push((site, base.true_blast_percent()));
        }
    }
    let out = c.output().expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let sites = report["sites"].as_array().expect("sites");
    assert_eq!(sites.len(), expected.len());
    for (s, (site, truth)) in sites.iter().zip(&expected) {
        assert_eq!(s["name"], site.as_str());
        assert_eq!(s["status"], "POSITIVE", "{site}: {}", s["reason"]);
        for m in [
            "FSC-A", "SSC-A", "CD19", "CD10", "CD45", "CD34", "CD20", "CD38",
        ] {
            assert!(s["markers"].get(m).is_some(), "{site}: {m}");
        }
        let pct = s["blast_percent"].as_f64().expect("blast %");
        assert!(
            (pct - truth).abs() < 0.1 * truth,
            "{site}: {pct} vs {truth}"
        );
    }
}

#[test]
fn the_bundled_navios_case_of_lmd_files_is_analysed() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-navios");
    let out = bin()
        .args(["analyze", "--json"])
        .arg(&case)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let sites = report["sites"].as_array().expect("sites");
    // Both `.lmd` files are sites (sorted by name), read from their FCS 3
    // data set.
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0]["name"], "left-iliac");
    assert_eq!(sites[0]["status"], "NEGATIVE", "{}", sites[0]["reason"]);
    assert_eq!(sites[1]["name"], "right-iliac");
    assert_eq!(sites[1]["status"], "POSITIVE", "{}", sites[1]["reason"]);
    let pct = sites[1]["blast_percent"].as_f64().expect("blast %");
    assert!((pct - 8.0).abs() < 1.0, "{pct}");
    for s in sites {
        assert_eq!(s["markers"]["FSC-A"], "FS INT");
        assert!(s["concerns"].to_string().contains("data set 2 of 2"));
    }
}

#[test]
fn a_file_without_marker_labels_says_how_to_name_them() {
    let d = temp("unlabelled");
    let lmd = corpus("coulter.lmd");
    let run = |panel: Option<&Path>| analyze_one(&lmd, panel)["sites"][0].clone();
    let s = run(None);
    let reason = s["reason"].as_str().unwrap_or("");
    assert_eq!(s["status"], "NOT_EVALUABLE");
    for part in ["CD19, CD10, CD45", "FL1", "marrowgate panel", "--panel"] {
        assert!(reason.contains(part), "{part}: {reason}");
    }
    // The panel the message asks for is taken: the markers are found.
    let panel = d.join("panel.toml");
    std::fs::write(&panel, "FL1 = \"CD19\"\nFL2 = \"CD10\"\nFL3 = \"CD45\"\n").expect("panel");
    let s = run(Some(&panel));
    assert_eq!(s["markers"]["CD19"], "FL1", "{}", s["reason"]);
    assert_eq!(s["markers"]["FSC-A"], "FS");
    assert!(
        !s["reason"]
            .as_str()
            .unwrap_or("")
            .contains("missing required"),
        "{}",
        s["reason"]
    );
}
