//! `follow` (issue 13): a patient's course on simulated marrow with known
//! truth. Diagnosis, day 15, day 33 at 5 million events, end of
//! consolidation at 10^-5, a hemodiluted follow-up; a CD19-negative relapse
//! after blinatumomab with and without CD22/CD24 in the panel.

use marrowgate::analysis::course::Course;
use marrowgate::analysis::follow::{FollowReport, MrdLevel, MrdSite, follow_course};
use marrowgate::analysis::site::Settings;
use marrowgate::qc::{Limits, Status};
use marrowgate::simulate::{BlastPhenotype, Config, Population, simulate, write};
use std::path::{Path, PathBuf};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-follow-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Writes a simulated file; returns its true blast count and viable
/// nucleated count.
fn simulated(dir: &Path, file: &str, cfg: &Config) -> (usize, usize) {
    let sim = simulate(cfg).expect("simulates");
    write(&sim, &dir.join(file)).expect("writes");
    let blasts = sim
        .truth
        .iter()
        .filter(|&&p| p == Population::Blast)
        .count();
    let nucleated = sim.truth.iter().filter(|p| p.is_viable_nucleated()).count();
    (blasts, nucleated)
}

/// One `[[timepoints]]` entry of a course file.
fn timepoint(label: &str, date: &str, cd19_therapy: bool, sites: &[(&str, &str)]) -> String {
    let mut t = format!(
        "[[timepoints]]\nlabel = \"{label}\"\ndate = \"{date}\"\ncd19_directed_therapy = {cd19_therapy}\n"
    );
    for (name, file) in sites {
        t.push_str(&format!(
            "[[timepoints.sites]]\nname = \"{name}\"\nfile = \"{file}\"\n"
        ));
    }
    t
}

fn mrd_settings() -> Settings {
    Settings {
        limits: Limits {
            required_sensitivity_percent: 0.01,
            ..Limits::default()
        },
        ..Settings::default()
    }
}

fn run(dir: &Path, course: &str) -> FollowReport {
    let path = dir.join("course.toml");
    std::fs::write(&path, course).expect("course file");
    let course = Course::from_file(&path).expect("course reads");
    follow_course(&course, &mrd_settings(), &|_, _, _, _| {})
}

fn site<'a>(r: &'a FollowReport, label: &str, name: &str) -> &'a MrdSite {
    r.timepoints
        .iter()
        .find(|t| t.label == label)
        .and_then(|t| t.sites.iter().find(|s| s.name == name))
        .expect("site in report")
}

#[test]
fn a_course_from_diagnosis_to_end_of_consolidation() {
    let d = temp("course");
    let cfg = |events: usize, seed: u64, blasts: f64| Config {
        events,
        seed,
        blast_fraction: blasts,
        hematogone_fraction: if blasts > 0.3 { 0.02 } else { 0.08 },
        ..Config::default()
    };
    let (dx, _) = simulated(&d, "dx.fcs", &cfg(200_000, 41, 0.35));
    let (d15, _) = simulated(&d, "d15.fcs", &cfg(400_000, 42, 0.005));
    let (d33, d33_cells) = simulated(&d, "d33.fcs", &cfg(5_000_000, 43, 0.000_03));
    simulated(&d, "eoc.fcs", &cfg(2_500_000, 44, 0.0));
    simulated(
        &d,
        "eoc-hemodiluted.fcs",
        &Config {
            hemodilution: 0.97,
            ..cfg(1_000_000, 45, 0.0)
        },
    );
    let course = [
        "patient = \"simulated\"\n".to_string(),
        timepoint(
            "diagnosis",
            "2026-01-12",
            false,
            &[("left iliac", "dx.fcs")],
        ),
        timepoint("day 15", "2026-01-27", false, &[("left iliac", "d15.fcs")]),
        timepoint("day 33", "2026-02-14", false, &[("left iliac", "d33.fcs")]),
        timepoint(
            "end of consolidation",
            "2026-05-20",
            false,
            &[
                ("left iliac", "eoc.fcs"),
                ("right iliac", "eoc-hemodiluted.fcs"),
            ],
        ),
    ]
    .concat();
    let r = run(&d, &course);

    // Diagnosis: quantifiable, within 10 % of the truth; its blasts are
    // the phenotype the course is searched for (CD10 bright).
    let s = site(&r, "diagnosis", "left iliac");
    assert_eq!(s.mrd_level, MrdLevel::MrdPositive, "{}", s.reason);
    let events = s.mrd_events.expect("counted") as f64;
    assert!((events / dx as f64 - 1.0).abs() < 0.1, "{events} vs {dx}");
    let laip = r
        .diagnostic_phenotype
        .as_ref()
        .expect("diagnostic phenotype");
    assert!(
        laip.centre.get("CD10").is_some_and(|&v| v > 0.7),
        "{laip:?}"
    );

    // Day 15: 0.5 %, quantifiable, within 15 %.
    let s = site(&r, "day 15", "left iliac");
    assert_eq!(s.mrd_level, MrdLevel::MrdPositive, "{}", s.reason);
    let events = s.mrd_events.expect("counted") as f64;
    assert!(
        (events / d15 as f64 - 1.0).abs() < 0.15,
        "{events} vs {d15}"
    );
    assert!(
        s.phenotype_shift
            .iter()
            .all(|m| m.shift_decades.abs() < 0.3)
    );

    // Day 33: 0.003 % of 5 million events: found, and quantifiable or not
    // as the count says; the interval holds the truth.
    let s = site(&r, "day 33", "left iliac");
    assert_eq!(s.status, Status::Positive, "{}", s.reason);
    let events = s.mrd_events.expect("counted");
    let expected_level = if events >= 50 {
        MrdLevel::MrdPositive
    } else {
        MrdLevel::PositiveBelowLloq
    };
    assert_eq!(s.mrd_level, expected_level);
    assert!(
        (events as f64 / d33 as f64 - 1.0).abs() < 0.35,
        "{events} vs {d33}"
    );
    let truth = 100.0 * d33 as f64 / d33_cells as f64;
    let [lo, hi] = s.mrd_ci95.expect("interval");
    assert!(
        lo <= truth * 1.2 && truth * 0.8 <= hi,
        "{truth} in {lo}-{hi}"
    );

    // End of consolidation: negative at 10^-5 at the adequate site; the
    // hemodiluted one is NOT EVALUABLE, never negative.
    let s = site(&r, "end of consolidation", "left iliac");
    assert_eq!(s.mrd_level, MrdLevel::Negative, "{}", s.reason);
    assert!(s.lod_percent.expect("lod") <= 0.001, "{:?}", s.lod_percent);
    let s = site(&r, "end of consolidation", "right iliac");
    assert_eq!(s.mrd_level, MrdLevel::NotEvaluable, "{}", s.reason);
    assert!(s.reason.contains("hemodilution"), "{}", s.reason);
    let eoc = &r.timepoints[3];
    assert_eq!(eoc.status, Status::NotEvaluable);
    assert_eq!(r.timepoints.len(), 4);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_cd19_negative_relapse_is_found_through_cd22_cd24_and_not_excludable_without_them() {
    let d = temp("cd19neg");
    let relapse = |markers: bool, blasts: f64, seed: u64| Config {
        events: 300_000,
        seed,
        blast_fraction: blasts,
        b_cell_aplasia: true,
        b_lineage_markers: markers,
        blast_phenotype: BlastPhenotype {
            cd19: 60.0,
            ..BlastPhenotype::default()
        },
        ..Config::default()
    };
    simulated(
        &d,
        "dx.fcs",
        &Config {
            events: 200_000,
            seed: 51,
            blast_fraction: 0.35,
            b_lineage_markers: true,
            ..Config::default()
        },
    );
    let (truth, _) = simulated(&d, "relapse-cd22-cd24.fcs", &relapse(true, 0.02, 52));
    simulated(&d, "relapse-cd19-only.fcs", &relapse(false, 0.02, 52));
    simulated(&d, "aplasia-cd22-cd24.fcs", &relapse(true, 0.0, 53));
    simulated(&d, "aplasia-cd19-only.fcs", &relapse(false, 0.0, 53));
    simulated(
        &d,
        "regenerating.fcs",
        &Config {
            events: 600_000,
            seed: 54,
            hematogone_fraction: 0.25,
            realism: 1.0,
            b_lineage_markers: true,
            ..Config::default()
        },
    );
    let course = [
        timepoint(
            "diagnosis",
            "2026-01-12",
            false,
            &[("left iliac", "dx.fcs")],
        ),
        timepoint(
            "during blinatumomab",
            "2026-04-01",
            true,
            &[
                ("with CD22 CD24", "aplasia-cd22-cd24.fcs"),
                ("CD19 only", "aplasia-cd19-only.fcs"),
            ],
        ),
        timepoint(
            "after blinatumomab",
            "2026-06-01",
            true,
            &[("regenerating", "regenerating.fcs")],
        ),
        timepoint(
            "relapse",
            "2026-09-01",
            true,
            &[
                ("with CD22 CD24", "relapse-cd22-cd24.fcs"),
                ("CD19 only", "relapse-cd19-only.fcs"),
            ],
        ),
    ]
    .concat();
    let r = run(&d, &course);

    // The relapse: found through CD22/CD24, counted within 10 %, and the
    // phenotype shows CD19 lost since diagnosis.
    let s = site(&r, "relapse", "with CD22 CD24");
    assert_eq!(s.status, Status::Positive, "{}", s.reason);
    let events = s.mrd_events.expect("counted") as f64;
    assert!(
        (events / truth as f64 - 1.0).abs() < 0.1,
        "{events} vs {truth}"
    );
    let cd19 = s
        .phenotype_shift
        .iter()
        .find(|m| m.marker == "CD19")
        .expect("CD19 shift");
    assert!(cd19.shift_decades < -1.0, "{cd19:?}");
    let analysed = r.timepoints[3].analysis.sites[0]
        .measures
        .as_ref()
        .expect("measured");
    assert!(analysed.cd19_negative.as_ref().is_some_and(|n| n.found));

    // The same relapse with a CD19-only panel: never NEGATIVE.
    let s = site(&r, "relapse", "CD19 only");
    assert_eq!(s.status, Status::NotEvaluable, "{}", s.reason);
    assert!(
        s.reason.contains("cannot be excluded with this panel"),
        "{}",
        s.reason
    );

    // B-cell aplasia under blinatumomab: NEGATIVE with CD22/CD24 (CD24 shown
    // on granulocytes), not excludable without them.
    let s = site(&r, "during blinatumomab", "with CD22 CD24");
    assert_eq!(s.status, Status::Negative, "{}", s.reason);
    assert!(s.reason.contains("B-cell aplasia"), "{}", s.reason);
    let s = site(&r, "during blinatumomab", "CD19 only");
    assert_eq!(s.status, Status::NotEvaluable, "{}", s.reason);

    // Regenerating hematogones (CD19+, CD22+, CD24+, CD10+) are neither
    // blasts nor CD19-negative blasts.
    let s = site(&r, "after blinatumomab", "regenerating");
    assert_eq!(s.status, Status::Negative, "{}", s.reason);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_follow_command_writes_one_set_and_prints_the_schema() {
    let d = temp("cli");
    let small = |seed: u64, blasts: f64| Config {
        events: 120_000,
        seed,
        blast_fraction: blasts,
        ..Config::default()
    };
    simulated(&d, "dx.fcs", &small(61, 0.3));
    simulated(&d, "d33.fcs", &small(62, 0.0));
    let course = [
        "case_id = \"FU-1\"\n".to_string(),
        timepoint(
            "diagnosis",
            "2026-01-12",
            false,
            &[("left iliac", "dx.fcs")],
        ),
        timepoint("day 33", "2026-02-14", false, &[("left iliac", "d33.fcs")]),
    ]
    .concat();
    std::fs::write(d.join("course.toml"), course).expect("course");
    let out = d.join("out");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_marrowgate"))
            .args(args)
            .output()
            .expect("runs")
    };
    let course_path = d.join("course.toml");
    let course_arg = course_path.to_str().expect("utf-8 path");
    let o = run(&["follow", course_arg, "--out", out.to_str().expect("path")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "report.json",
        "report.html",
        "timeline.png",
        "timeline.svg",
        "timepoints/01-diagnosis/report.html",
        "timepoints/02-day_33/report.json",
        "timepoints/02-day_33/gating/01-left_iliac.xml",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("data:image/png;base64,")
            && html.contains("timepoints/02-day_33/report.html")
    );

    // --json: the fixed field names of the issue.
    let o = run(&["follow", course_arg, "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let t = &v["timepoints"][1];
    assert_eq!(t["label"], "day 33");
    assert_eq!(t["date"], "2026-02-14");
    let s = &t["sites"][0];
    for key in [
        "name",
        "file",
        "status",
        "mrd_percent",
        "mrd_events",
        "viable_nucleated_events",
        "sensitivity",
        "quantifiable",
        "reason",
        "error",
    ] {
        assert!(s.get(key).is_some(), "{key} missing");
    }
    // follow asks an MRD sensitivity of 10^-4 by default: 20 LOD events
    // need 200,000 viable nucleated cells, and ~109,000 cannot be negative.
    assert_eq!(s["status"], "NOT_EVALUABLE", "{}", s["reason"]);
    assert!(
        s["reason"]
            .as_str()
            .is_some_and(|r| r.contains("too few viable nucleated cells"))
    );
    assert_eq!(v["timepoints"][0]["sites"][0]["status"], "POSITIVE");

    // A course out of date order is refused with its name, exit 1.
    std::fs::write(
        d.join("bad.toml"),
        [
            timepoint("day 33", "2026-02-14", false, &[("left iliac", "d33.fcs")]),
            timepoint(
                "diagnosis",
                "2026-01-12",
                false,
                &[("left iliac", "dx.fcs")],
            ),
        ]
        .concat(),
    )
    .expect("bad course");
    let o = run(&["follow", d.join("bad.toml").to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("date order"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_bundled_follow_up_series_reads_as_its_readme_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-follow");
    let course = Course::from_file(&dir.join("course.toml")).expect("sample course");
    let r = follow_course(&course, &mrd_settings(), &|_, _, _, _| {});
    let level = |label: &str, name: &str| site(&r, label, name).mrd_level;
    assert_eq!(level("diagnosis", "left iliac"), MrdLevel::MrdPositive);
    assert_eq!(level("day 15", "left iliac"), MrdLevel::MrdPositive);
    assert_eq!(level("day 33", "left iliac"), MrdLevel::MrdPositive);
    let hemodiluted = site(&r, "day 33", "right iliac");
    assert_eq!(hemodiluted.mrd_level, MrdLevel::NotEvaluable);
    assert!(hemodiluted.reason.contains("hemodilution"));
    let eoc = site(&r, "end of consolidation", "left iliac");
    assert_eq!(eoc.mrd_level, MrdLevel::Negative, "{}", eoc.reason);
    assert!(eoc.lod_percent.is_some_and(|l| l <= 0.01));
}
