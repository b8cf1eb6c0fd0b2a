//! Never a silent wrong answer, never lost or mixed outputs (issue 9): one
//! regression test per way a lab on a bad day, or a hostile user, once got
//! a wrong answer or lost a file. Each asserts the safe outcome.

use marrowgate::simulate::{Config, Simulation, simulate, write};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_marrowgate"))
}

/// A fresh folder for one test.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-safety-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn config(seed: u64, blasts: f64) -> Config {
    Config {
        events: 60_000,
        seed,
        blast_fraction: blasts,
        ..Config::default()
    }
}

fn simulated(cfg: &Config) -> Simulation {
    simulate(cfg).expect("simulates")
}

fn save(sim: &Simulation, path: &Path) -> PathBuf {
    write(sim, path).expect("writes");
    let _ = std::fs::remove_file(marrowgate::simulate::truth_path(path));
    path.to_path_buf()
}

/// `analyze --json` over `--site NAME=FILE` arguments plus `extra`.
fn analyze_json(sites: &[(&str, &Path)], extra: &[&str]) -> (Output, Option<Value>) {
    let mut c = bin();
    c.arg("analyze").arg("--json");
    for (name, file) in sites {
        c.arg("--site").arg(format!("{name}={}", file.display()));
    }
    c.args(extra);
    let out = c.output().expect("runs");
    let json = serde_json::from_slice(&out.stdout).ok();
    (out, json)
}

fn site<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["name"] == name)
        .expect("site in report")
}

fn status(report: &Value, name: &str) -> String {
    site(report, name)["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn reason(report: &Value, name: &str) -> String {
    site(report, name)["reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

// 1. Failed stains.
#[test]
fn failed_stains_are_not_evaluable_never_negative() {
    let d = temp("stains");
    let mut files = Vec::new();
    for (name, failed) in [
        ("ok", ""),
        ("cd19", "CD19"),
        ("cd10", "CD10"),
        ("cd45", "CD45"),
    ] {
        let mut cfg = config(5, 0.02);
        if !failed.is_empty() {
            cfg.failed_stains = vec![failed.to_string()];
        }
        files.push((name, save(&simulated(&cfg), &d.join(format!("{name}.fcs")))));
    }
    // A normal marrow whose CD19 stain failed looks like one without B
    // cells: the report must not call it NEGATIVE either way.
    let mut normal = config(6, 0.0);
    normal.failed_stains = vec!["CD19".into()];
    files.push(("normal-cd19", save(&simulated(&normal), &d.join("n.fcs"))));
    let sites: Vec<(&str, &Path)> = files.iter().map(|(n, f)| (*n, f.as_path())).collect();
    let (out, report) = analyze_json(&sites, &[]);
    let report = report.unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(status(&report, "ok"), "POSITIVE");
    for name in ["cd19", "cd10", "normal-cd19"] {
        assert_eq!(
            status(&report, name),
            "NOT_EVALUABLE",
            "{name}: {}",
            reason(&report, name)
        );
    }
    let r = reason(&report, "cd19");
    assert!(
        r.contains("CD19 shows no positive population")
            && r.contains("blinatumomab")
            && r.contains("CD19-negative disease cannot be excluded"),
        "{r}"
    );
    let r = reason(&report, "cd10");
    assert!(r.contains("not even on neutrophils"), "{r}");
    // A blast population found with a failed CD45 stands, but the failed
    // check is stated with it.
    let cd45 = site(&report, "cd45");
    let checks = cd45["stain_checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|c| c["marker"] == "CD45" && c["passed"] == false),
        "{checks:?}"
    );
    assert!(reason(&report, "cd45").contains("CD45 shows no bright"));
    // Every lineage check passes on the intact file.
    let ok = site(&report, "ok")["stain_checks"]
        .as_array()
        .expect("checks");
    assert_eq!(ok.len(), 3);
    assert!(ok.iter().all(|c| c["passed"] == true), "{ok:?}");
}

// 2. Two channels with one marker label.
#[test]
fn two_channels_with_one_marker_are_an_error_unless_a_panel_decides() {
    let d = temp("duplicate");
    let mut sim = simulated(&config(7, 0.02));
    // CD20 FITC relabelled "CD19": CD19 is now claimed twice.
    sim.keywords.set("$P4S", "CD19 FITC");
    let file = save(&sim, &d.join("dup.fcs"));
    let (out, report) = analyze_json(&[("dup", &file)], &[]);
    let report = report.expect("report");
    assert_eq!(out.status.code(), Some(1), "the only site errs");
    let e = site(&report, "dup")["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        e.contains("CD19 is claimed by")
            && e.contains("FITC-A (CD19 FITC)")
            && e.contains("PE-Cy7-A (CD19 PE-Cy7)")
            && e.contains("--panel"),
        "{e}"
    );
    // A panel entry chooses; the site is then analysed as usual.
    let panel = d.join("panel.toml");
    std::fs::write(&panel, "\"PE-Cy7-A\" = \"CD19\"\n").expect("panel");
    let (_, report) = analyze_json(
        &[("dup", &file)],
        &["--panel", panel.to_str().expect("utf8")],
    );
    let report = report.expect("report");
    assert_eq!(
        status(&report, "dup"),
        "POSITIVE",
        "{}",
        reason(&report, "dup")
    );
    // Area and height of one detector: the area is used, and said so.
    let mut sim = simulated(&config(8, 0.02));
    sim.keywords.set("$P2N", "PE-Cy7-H");
    sim.keywords.set("$P2S", "CD19 PE-Cy7");
    let file = save(&sim, &d.join("ah.fcs"));
    let (_, report) = analyze_json(&[("ah", &file)], &[]);
    let report = report.expect("report");
    assert_eq!(site(&report, "ah")["markers"]["CD19"], "PE-Cy7-A");
    let choices = site(&report, "ah")["marker_choices"].to_string();
    assert!(choices.contains("area channel PE-Cy7-A"), "{choices}");
}

// 3. Limits.
#[test]
fn limits_are_refused_before_anything_is_read_or_written() {
    let d = temp("limits");
    let out_dir = d.join("out");
    for bad in [
        vec!["--required-sensitivity", "NaN"],
        vec!["--max-debris-percent", "NaN"],
        vec!["--lod", "0"],
        vec!["--lod", "30", "--lloq", "20"],
        vec!["--required-sensitivity", "0"],
        vec!["--min-marrow-specific-percent", "inf"],
        vec!["--max-debris-percent", "120"],
    ] {
        let out = bin()
            .args(["analyze", "--site", "a=/nonexistent.fcs", "--out"])
            .arg(&out_dir)
            .args(&bad)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(bad[bad.len() - 2]), "{bad:?}: {err}");
        assert!(!out_dir.exists(), "{bad:?} wrote outputs");
    }
    let help = bin().args(["analyze", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("PERCENT of viable nucleated cells"), "{help}");
}

// 4. Time channels that cannot be used.
#[test]
fn a_bad_time_channel_never_drops_the_cells() {
    let d = temp("time");
    let base = simulated(&config(9, 0.02));
    let n = base.events.nrows();
    let time = base.events.ncols() - 1;
    let mut cases: Vec<(&str, Simulation)> = Vec::new();
    let mut outlier = base.clone();
    outlier.events[[n / 2, time]] = 1.0e9;
    cases.push(("outlier", outlier));
    let mut constant = base.clone();
    constant.events.column_mut(time).fill(42.0);
    cases.push(("constant", constant));
    let mut paused = base.clone();
    for i in n / 2..n {
        paused.events[[i, time]] += 3_000.0;
    }
    cases.push(("paused", paused));
    let files: Vec<(&str, PathBuf)> = cases
        .iter()
        .map(|(name, sim)| (*name, save(sim, &d.join(format!("{name}.fcs")))))
        .collect();
    let sites: Vec<(&str, &Path)> = files.iter().map(|(n, f)| (*n, f.as_path())).collect();
    let (_, report) = analyze_json(&sites, &[]);
    let report = report.expect("report");
    for (name, _) in &files {
        let s = site(&report, name);
        assert_eq!(s["status"], "POSITIVE", "{name}: {}", s["reason"]);
        let stable = &s["gates"][0];
        assert!(
            stable["events"].as_u64().expect("events") as f64 > 0.9 * n as f64,
            "{name}: {stable}"
        );
        let blast = s["blast_percent"].as_f64().expect("blast %");
        assert!((blast - 2.0).abs() < 0.3, "{name}: {blast}");
    }
    assert!(
        site(&report, "constant")["gates"][0]["rule"]
            .as_str()
            .unwrap_or("")
            .contains("Time channel not used (time is constant")
    );
    assert!(
        site(&report, "paused")["gates"][0]["rule"]
            .as_str()
            .unwrap_or("")
            .contains("acquisition paused")
    );
}

// 5. A file cut short.
#[test]
fn a_file_cut_in_half_cannot_be_negative_and_says_so_everywhere() {
    let d = temp("truncated");
    let whole = save(&simulated(&config(10, 0.0)), &d.join("whole.fcs"));
    let bytes = std::fs::read(&whole).expect("read");
    let half = d.join("half.fcs");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).expect("write");
    let out_dir = d.join("out");
    let out = bin()
        .arg("analyze")
        .arg("--site")
        .arg(format!("half={}", half.display()))
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("NOT EVALUABLE") && text.contains("cut short"),
        "{text}"
    );
    assert!(text.contains("file warning"), "{text}");
    let html = std::fs::read_to_string(out_dir.join("report.html")).expect("html");
    assert!(html.contains("cut short") && html.contains("file warning"));
}

// 6. Spillover that cannot be applied.
#[test]
fn unusable_spillover_is_never_silently_ignored() {
    let d = temp("spillover");
    let mut sim = simulated(&config(11, 0.02));
    let spill = sim
        .keywords
        .get("$SPILLOVER")
        .expect("spillover")
        .to_string();
    // Every coefficient 1: a singular matrix.
    let fields: Vec<&str> = spill.split(',').collect();
    let n: usize = fields[0].parse().expect("n");
    let singular: Vec<String> = fields[..=n]
        .iter()
        .map(|s| s.to_string())
        .chain(std::iter::repeat_n("1".to_string(), n * n))
        .collect();
    sim.keywords.set("$SPILLOVER", singular.join(","));
    let file = save(&sim, &d.join("singular.fcs"));
    let (_, report) = analyze_json(&[("singular", &file)], &[]);
    let report = report.expect("report");
    assert_eq!(status(&report, "singular"), "NOT_EVALUABLE");
    let r = reason(&report, "singular");
    assert!(
        r.contains("spillover") && r.contains("--accept-uncompensated"),
        "{r}"
    );
    // Garbled: the keyword does not parse at all.
    sim.keywords.set("$SPILLOVER", "8,FITC-A,PE-A,oops");
    let file = save(&sim, &d.join("garbled.fcs"));
    let (_, report) = analyze_json(&[("garbled", &file)], &[]);
    let report = report.expect("report");
    assert_eq!(status(&report, "garbled"), "NOT_EVALUABLE");
    // Accepted explicitly: analysed, and the report says how.
    let (_, report) = analyze_json(&[("garbled", &file)], &["--accept-uncompensated"]);
    let report = report.expect("report");
    // Analysed, no longer blocked by the matrix (whatever the uncompensated
    // data then show: here the dye spills over and the site looks necrotic).
    assert!(!reason(&report, "garbled").contains("to analyse it anyway"));
    assert!(reason(&report, "garbled").contains("analysed uncompensated"));
    assert_eq!(site(&report, "garbled")["compensated"], false);
    // User gates read through the file's own matrix (Gating-ML "FCS") are
    // held to the same rule.
    let gates = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bench_gates.xml"),
    )
    .expect("gates")
    .replace("compensation-ref=\"spill\"", "compensation-ref=\"FCS\"");
    let gml = d.join("fcs-compensated.xml");
    std::fs::write(&gml, gates).expect("write");
    let user = [
        "--gating-ml",
        gml.to_str().expect("utf8"),
        "--blast-gate",
        "cd19_cd10",
        "--nucleated-gate",
        "cells",
    ];
    let (_, report) = analyze_json(&[("garbled", &file)], &user);
    let report = report.expect("report");
    assert_eq!(status(&report, "garbled"), "NOT_EVALUABLE");
    assert!(reason(&report, "garbled").contains("--accept-uncompensated"));
    let mut accepted = user.to_vec();
    accepted.push("--accept-uncompensated");
    let (_, report) = analyze_json(&[("garbled", &file)], &accepted);
    let report = report.expect("report");
    assert!(reason(&report, "garbled").contains("analysed uncompensated"));
}

// 7. Folder input.
#[test]
fn folder_input_skips_junk_and_keeps_every_real_site() {
    let d = temp("folder");
    let case = d.join("case");
    std::fs::create_dir_all(&case).expect("dir");
    let file = save(&simulated(&config(12, 0.02)), &case.join("sternum.fcs"));
    std::fs::copy(&file, case.join("._sternum.fcs")).expect("copy");
    std::fs::copy(&file, case.join("sternum.blasts.fcs")).expect("copy");
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.join("gone.fcs"), case.join("iliac.fcs")).expect("link");
    let out = bin()
        .args(["analyze", "--json"])
        .arg(&case)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = report["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    #[cfg(unix)]
    {
        assert_eq!(names, ["iliac", "sternum"]);
        assert!(site(&report, "iliac")["error"].is_string());
        assert_eq!(out.status.code(), Some(3));
    }
    #[cfg(not(unix))]
    assert_eq!(names, ["sternum"]);
    // A folder given as a site file says what it is.
    let (_, report) = analyze_json(&[("dir", &case)], &[]);
    let report = report.expect("report");
    let e = site(&report, "dir")["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(e.contains("a folder"), "{e}");
}

// 8. Site names that collide as file names, and names that cannot be used.
#[test]
fn every_site_keeps_its_own_outputs_whatever_its_name() {
    let d = temp("names");
    let names = [
        "左腸骨",
        "右腸骨",
        "left iliac",
        "left_iliac",
        "left/iliac",
        &"x".repeat(190),
    ];
    let sims: Vec<PathBuf> = (0..names.len())
        .map(|i| {
            let cfg = Config {
                events: 30_000,
                ..config(20 + i as u64, 0.05 + 0.05 * i as f64)
            };
            save(&simulated(&cfg), &d.join(format!("s{i}.fcs")))
        })
        .collect();
    let out_dir = d.join("out");
    let mut c = bin();
    c.arg("analyze")
        .arg("--out")
        .arg(&out_dir)
        .arg("--blast-fcs");
    for (n, f) in names.iter().zip(&sims) {
        c.arg("--site").arg(format!("{n}={}", f.display()));
    }
    let out = c.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).expect("json"))
            .expect("parses");
    let mut seen = std::collections::BTreeSet::new();
    for s in report["sites"].as_array().expect("sites") {
        let stem = s["output_name"].as_str().expect("output_name");
        assert!(stem.len() <= 64, "{stem}");
        assert!(seen.insert(stem.to_lowercase()), "{stem} twice");
        let blasts = out_dir.join(format!("{stem}.blasts.fcs"));
        let f = marrowgate::fcs::FcsFile::open(&blasts).expect("each site's own blasts");
        assert_eq!(
            f.datasets()[0].event_count as u64,
            s["blast_events"].as_u64().expect("blasts")
        );
        assert!(out_dir.join(format!("plots/{stem}.gating.png")).is_file());
    }
    assert!(seen.contains("02-右腸骨"), "{seen:?}");
    // Names that cannot be shown or filed are usage errors.
    for bad in ["   ", "a\u{1b}[2Jb", "tab\there", &"y".repeat(201)] {
        let out = bin()
            .arg("analyze")
            .arg("--site")
            .arg(format!("{bad}={}", sims[0].display()))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// The files of an output folder as its mark lists them, each present.
fn complete_set(dir: &Path) -> Option<Value> {
    let mark: Value =
        serde_json::from_slice(&std::fs::read(dir.join(".marrowgate-output")).ok()?).ok()?;
    for f in mark["files"].as_array()? {
        if !dir.join(f.as_str()?).is_file() {
            return None;
        }
    }
    Some(mark)
}

// 9. A reused, shared or interrupted output folder.
#[test]
fn the_output_folder_holds_one_complete_run() {
    let d = temp("outdir");
    let pos = save(&simulated(&config(30, 0.05)), &d.join("pos.fcs"));
    let out_dir = d.join("out");
    let run = |blast_fcs: bool| {
        let mut c = bin();
        c.arg("analyze")
            .arg("--site")
            .arg(format!("a={}", pos.display()))
            .arg("--out")
            .arg(&out_dir);
        if blast_fcs {
            c.arg("--blast-fcs");
        }
        c.output().expect("runs")
    };
    assert!(run(true).status.success());
    assert!(out_dir.join("01-a.blasts.fcs").is_file());
    // Reused without --blast-fcs: the earlier blasts FCS is gone.
    assert!(run(false).status.success());
    assert!(!out_dir.join("01-a.blasts.fcs").exists());
    assert!(complete_set(&out_dir).is_some());
    // No temporaries or staging folders are left beside it.
    let leftovers: Vec<String> = std::fs::read_dir(&d)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A folder marrowgate did not write is refused, then replaced on request.
    let foreign = d.join("foreign");
    std::fs::create_dir_all(&foreign).expect("dir");
    std::fs::write(foreign.join("thesis.docx"), b"years of work").expect("write");
    let out = bin()
        .arg("analyze")
        .arg("--site")
        .arg(format!("a={}", pos.display()))
        .arg("--out")
        .arg(&foreign)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    assert_eq!(
        std::fs::read(foreign.join("thesis.docx")).expect("kept"),
        b"years of work"
    );
    // Two runs at once on one folder: one complete set survives.
    let spawn = |lod: &str| {
        bin()
            .args(["analyze", "--lod", lod, "--site"])
            .arg(format!("a={}", pos.display()))
            .arg("--out")
            .arg(&out_dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("spawns")
    };
    for mut child in [spawn("20"), spawn("25")] {
        assert!(child.wait().expect("waits").success());
    }
    let report: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).expect("json"))
            .expect("parses");
    let lod = report["limits"]["lod_events"].as_u64().expect("lod");
    let csv = std::fs::read_to_string(out_dir.join("sites.csv")).expect("csv");
    let html = std::fs::read_to_string(out_dir.join("report.html")).expect("html");
    assert!(
        html.contains(&format!("at least {lod} events")),
        "report.html from another run than report.json"
    );
    assert!(csv.lines().count() == 2 && complete_set(&out_dir).is_some());
}

// 9, interrupted: killed at random moments, the folder is always whole.
#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_the_previous_or_the_new_complete_set() {
    let d = temp("interrupt");
    let pos = save(&simulated(&config(31, 0.05)), &d.join("pos.fcs"));
    let out_dir = d.join("out");
    let start = |lod: &str| {
        bin()
            .args(["analyze", "--blast-fcs", "--lod", lod, "--site"])
            .arg(format!("a={}", pos.display()))
            .arg("--out")
            .arg(&out_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns")
    };
    assert!(start("20").wait().expect("waits").success());
    // A whole run's duration, to spread the kills over it.
    let t0 = std::time::Instant::now();
    assert!(start("21").wait().expect("waits").success());
    let full = t0.elapsed();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..24u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = full.mul_f64((rng % 1000) as f64 / 1000.0);
        let lod = (22 + round).to_string();
        let mut child = start(&lod);
        std::thread::sleep(delay);
        let signal = if round % 2 == 0 { "INT" } else { "KILL" };
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
        let mark = complete_set(&out_dir).expect("a complete set after every interruption");
        let report: Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).expect("json"))
                .expect("parses");
        let lod = report["limits"]["lod_events"].as_u64().expect("lod");
        let html = std::fs::read_to_string(out_dir.join("report.html")).expect("html");
        assert!(
            html.contains(&format!("at least {lod} events")),
            "round {round}: report.html and report.json from different runs"
        );
        assert!(mark["files"].as_array().is_some_and(|f| f.len() >= 5));
    }
    // The next complete run clears what killed runs left behind.
    assert!(start("20").wait().expect("waits").success());
    let leftovers: Vec<String> = std::fs::read_dir(&d)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.marrowgate-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// 10. Planted links.
#[cfg(unix)]
#[test]
fn planted_links_are_replaced_never_followed() {
    let d = temp("links");
    let victim = d.join("victim.txt");
    std::fs::write(&victim, b"precious").expect("write");
    let csv = d.join("events.csv");
    std::os::unix::fs::symlink(&victim, &csv).expect("link");
    let src = save(&simulated(&config(32, 0.0)), &d.join("s.fcs"));
    let out = bin()
        .args(["export", "--csv"])
        .arg(&csv)
        .arg(&src)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
    assert!(!csv.is_symlink() && csv.is_file());
    // Inside an output folder from an earlier run.
    let out_dir = d.join("out");
    let run = || {
        bin()
            .arg("analyze")
            .arg("--site")
            .arg(format!("s={}", src.display()))
            .arg("--out")
            .arg(&out_dir)
            .output()
            .expect("runs")
    };
    assert!(run().status.success());
    std::fs::remove_file(out_dir.join("report.json")).expect("rm");
    std::os::unix::fs::symlink(&victim, out_dir.join("report.json")).expect("link");
    assert!(run().status.success());
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
}

// 11. A file truncated while the case runs.
#[cfg(unix)]
#[test]
fn a_file_truncated_during_the_run_never_crashes_the_case() {
    use std::os::unix::process::ExitStatusExt as _;
    let d = temp("sigbus");
    let big = Config {
        events: 1_500_000,
        ..config(33, 0.02)
    };
    let victim = save(&simulated(&big), &d.join("victim.fcs"));
    let other = save(&simulated(&config(34, 0.02)), &d.join("other.fcs"));
    for delay_ms in [0u64, 20, 60, 150] {
        let copy = d.join(format!("v{delay_ms}.fcs"));
        std::fs::copy(&victim, &copy).expect("copy");
        let child = bin()
            .args(["analyze", "--json", "--site"])
            .arg(format!("victim={}", copy.display()))
            .arg("--site")
            .arg(format!("other={}", other.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&copy)
            .expect("opens");
        f.set_len(1000).expect("truncates");
        let out = child.wait_with_output().expect("waits");
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal at {delay_ms} ms"
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("a report");
        assert_eq!(status(&report, "other"), "POSITIVE");
    }
}

// 11c. A closed standard output.
#[test]
fn a_closed_stdout_loses_no_output_and_is_no_failure() {
    let d = temp("stdout");
    let s = save(&simulated(&config(35, 0.02)), &d.join("s.fcs"));
    let out_dir = d.join("out");
    let mut child = bin()
        .arg("analyze")
        .arg("--site")
        .arg(format!("s={}", s.display()))
        .arg("--out")
        .arg(&out_dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawns");
    drop(child.stdout.take());
    let status = child.wait().expect("waits");
    assert_eq!(status.code(), Some(0));
    assert!(complete_set(&out_dir).is_some());
}

// 12. Case and panel files that never end.
#[cfg(unix)]
#[test]
fn endless_case_and_panel_files_are_refused() {
    let d = temp("endless");
    let s = save(&simulated(&config(36, 0.0)), &d.join("s.fcs"));
    let fifo = d.join("fifo.toml");
    let ok = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(ok.success());
    for args in [
        vec!["analyze".to_string(), "/dev/zero".into()],
        vec!["analyze".to_string(), fifo.display().to_string()],
        vec![
            "analyze".to_string(),
            "--panel".into(),
            "/dev/zero".into(),
            "--site".into(),
            format!("s={}", s.display()),
        ],
    ] {
        let t0 = std::time::Instant::now();
        let out = bin().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
        assert!(t0.elapsed().as_secs() < 20);
    }
    let huge = d.join("huge.toml");
    let f = std::fs::File::create(&huge).expect("create");
    f.set_len(64 << 20).expect("sparse");
    let out = bin().arg("analyze").arg(&huge).output().expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
}

// 14. Terminal control characters from files and names.
#[test]
fn terminal_control_characters_are_shown_not_obeyed() {
    let d = temp("escapes");
    let mut sim = simulated(&config(37, 0.02));
    sim.keywords
        .set("$CYT", "FACS\u{1b}[2J\u{1b}[HFAKE RESULT: NEGATIVE");
    sim.keywords.set("$P7S", "CD19 PE-Cy7\u{1b}[31m");
    let file = save(&sim, &d.join("evil.fcs"));
    let out = bin().arg("inspect").arg(&file).output().expect("runs");
    assert!(!out.stdout.contains(&0x1b), "inspect printed an escape");
    let out = bin()
        .arg("analyze")
        .arg("--site")
        .arg(format!("evil\u{202e}name={}", file.display()))
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.stdout.contains(&0x1b) && !text.contains('\u{202e}'),
        "{text}"
    );
}

// 15. Small ones.
#[test]
fn usage_errors_and_the_small_ones() {
    for bad in ["=a.fcs", "a=", "noequals"] {
        let out = bin()
            .args(["analyze", "--site", bad])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "--site {bad}");
    }
    let d = temp("small");
    let ok = bin()
        .arg("simulate")
        .arg(d.join("b.fcs"))
        .args(["--blasts", "0.95", "--events", "2000"])
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let help = bin().args(["analyze", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "[[sites]]",
        "Required: CD19, CD10, CD45",
        "report.html",
        "plots/",
    ] {
        assert!(help.contains(needle), "{needle}");
    }
    // A file with very many channels: the error lists a few, then counts.
    let mut sim = simulated(&Config {
        events: 2_000,
        ..config(38, 0.0)
    });
    sim.keywords.set("$P7S", "CD22");
    let file = save(&sim, &d.join("nocd19.fcs"));
    let (_, report) = analyze_json(&[("s", &file)], &[]);
    let e = site(&report.expect("report"), "s")["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(e.contains("missing required marker(s) CD19"), "{e}");
}

/// Every file under `dir` (recursively) with its size and modification
/// time, skipping `except`.
fn snapshot(
    dir: &Path,
    except: &Path,
) -> std::collections::BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.starts_with(except) {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else {
                out.insert(p, (m.len(), m.modified().unwrap_or(std::time::UNIX_EPOCH)));
            }
        }
    }
    out
}

// Property: random case files (TOML and JSON), panels, site names and
// limits never panic, never write outside --out, give every analysed site
// its own outputs, and exit as documented (0, 1, 2 or 3).
#[test]
fn random_cases_names_and_limits_are_handled_as_documented() {
    use marrowgate::rng::Rng;
    let d = temp("property");
    let inputs = d.join("inputs");
    std::fs::create_dir_all(&inputs).expect("dir");
    let good: Vec<PathBuf> = (0..3)
        .map(|i| {
            let cfg = Config {
                events: 8_000,
                ..config(40 + i, 0.05 * i as f64)
            };
            save(&simulated(&cfg), &inputs.join(format!("g{i}.fcs")))
        })
        .collect();
    std::fs::write(inputs.join("garbage.fcs"), b"FCS3.1  garbage").expect("write");
    let pieces = [
        "left iliac",
        "left_iliac",
        "left/iliac",
        "..",
        "../../etc",
        "左腸骨",
        "右腸骨",
        "\u{1b}[2J",
        "tab\there",
        "",
        "  ",
        "a\\b",
        "con",
        "x.fcs",
        "ñ",
        "🦴",
        "\u{202e}rtl",
        "\r\n",
    ];
    let mut rng = Rng::new(2026);
    let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for round in 0..60 {
        let work = d.join(format!("r{round}"));
        std::fs::create_dir_all(&work).expect("dir");
        let sites = 1 + pick(4);
        let mut names = Vec::new();
        let mut entries = Vec::new();
        for _ in 0..sites {
            let mut name = String::new();
            for _ in 0..1 + pick(3) {
                name.push_str(pieces[pick(pieces.len())]);
            }
            if pick(10) == 0 {
                name = "y".repeat(150 + pick(100));
            }
            let file = match pick(6) {
                0 => inputs.join("garbage.fcs"),
                1 => inputs.join("missing.fcs"),
                _ => good[pick(good.len())].clone(),
            };
            let mut entry = serde_json::json!({ "name": name, "file": file });
            if pick(4) == 0 {
                let markers = ["CD19", "CD10", "banana", "FSC-A", "viability"];
                let channels = ["PE-A", "FITC-A", "Nope-A"];
                entry["panel"] = serde_json::json!({
                    channels[pick(channels.len())]: markers[pick(markers.len())]
                });
            }
            names.push(name);
            entries.push(entry);
        }
        let case = serde_json::json!({ "case_id": format!("P{round}"), "sites": entries });
        let path = if pick(2) == 0 {
            let p = work.join("case.json");
            std::fs::write(&p, case.to_string()).expect("write");
            p
        } else {
            let p = work.join("case.toml");
            let text = toml::to_string(&case).expect("toml");
            std::fs::write(&p, text).expect("write");
            p
        };
        let mut limits: Vec<String> = Vec::new();
        let mut limits_ok = true;
        if pick(3) == 0 {
            let (option, value, ok) = [
                ("--lod", "0", false),
                ("--lod", "5", true),
                ("--lloq", "10", false),
                ("--required-sensitivity", "NaN", false),
                ("--required-sensitivity", "0.01", true),
                ("--max-debris-percent", "-3", false),
                ("--min-marrow-specific-percent", "1e308", false),
                ("--max-debris-percent", "80", true),
            ][pick(8)];
            limits.push(option.into());
            limits.push(value.into());
            limits_ok = ok;
        }
        let out_dir = work.join("out");
        let before = snapshot(&d, &out_dir);
        let out = bin()
            .arg("analyze")
            .arg(&path)
            .arg("--out")
            .arg(&out_dir)
            .arg("--blast-fcs")
            .args(&limits)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=3)) && !stderr.contains("panicked"),
            "round {round}: {code:?} {stderr}"
        );
        assert_eq!(
            before,
            snapshot(&d, &out_dir),
            "round {round} wrote outside --out"
        );
        assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
        if !limits_ok {
            assert_eq!(code, Some(2), "round {round}: {stderr}");
            assert!(!out_dir.exists());
            *outcomes.entry("bad limits").or_default() += 1;
            continue;
        }
        let names_ok = names
            .iter()
            .all(|n| marrowgate::analysis::case::check_site_name(n).is_ok())
            && names
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                == names.len();
        if !names_ok {
            assert_eq!(code, Some(1), "round {round}: {names:?} {stderr}");
            assert!(!out_dir.exists());
            *outcomes.entry("bad names").or_default() += 1;
            continue;
        }
        if code == Some(1) {
            // Nothing analysable (a bad panel entry, every site unreadable).
            assert!(!stderr.is_empty());
            *outcomes.entry("nothing analysable").or_default() += 1;
            continue;
        }
        *outcomes.entry("analysed").or_default() += 1;
        let report: Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).expect("json"))
                .expect("parses");
        assert!(complete_set(&out_dir).is_some(), "round {round}");
        let mut stems = std::collections::BTreeSet::new();
        for s in report["sites"].as_array().expect("sites") {
            let stem = s["output_name"].as_str().expect("output name");
            assert!(stems.insert(stem.to_lowercase()), "round {round}: {stem}");
            assert!(!stem.contains('/') && !stem.starts_with('.') && stem.len() <= 64);
            if s["gates"].as_array().is_some_and(|g| g.len() > 1) {
                assert!(out_dir.join(format!("plots/{stem}.gating.png")).is_file());
            }
            if s["blast_events"].as_u64().unwrap_or(0) > 0 {
                assert!(out_dir.join(format!("{stem}.blasts.fcs")).is_file());
            }
        }
    }
    eprintln!("property outcomes: {outcomes:?}");
    // The generator reaches every branch.
    for kind in ["bad limits", "bad names", "nothing analysable", "analysed"] {
        assert!(
            outcomes.get(kind).copied().unwrap_or(0) >= 2,
            "{outcomes:?}"
        );
    }
}
