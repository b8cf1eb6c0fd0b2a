//! The command line as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_marrowgate"))
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fcs-corpus")
        .join(name)
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mg-cli-{}-{name}", std::process::id()))
}

#[test]
fn inspect_json_reports_each_file_and_survives_a_bad_one() {
    let bad = temp("bad.fcs");
    std::fs::write(&bad, b"FCS3.1    garbage").expect("write");
    let out = bin()
        .args(["inspect", "--json"])
        .arg(corpus("G11.fcs"))
        .arg(&bad)
        .arg(corpus("coulter.lmd"))
        .output()
        .expect("runs");
    assert!(
        !out.status.success(),
        "an unreadable file makes the exit non-zero"
    );
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "the good files are still reported");
    let g11 = &lines[0];
    assert_eq!(g11["version"], "3.1");
    assert_eq!(g11["event_count"], 5785);
    assert_eq!(g11["datasets"], 1);
    assert_eq!(g11["channels"].as_array().expect("channels").len(), 12);
    assert!(g11["channels"][0]["name"].is_string());
    assert!(g11["channels"][0].get("marker").is_some());
    let sp = &g11["spillover"];
    let n = sp["channels"].as_array().expect("spillover channels").len();
    assert_eq!(sp["matrix"].as_array().expect("matrix").len(), n);
    assert_eq!(lines[1]["datasets"], 2);
    assert!(
        !lines[1]["warnings"]
            .as_array()
            .expect("warnings")
            .is_empty()
    );
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad.fcs") && stderr.contains("HEADER"),
        "{stderr}"
    );
    std::fs::remove_file(bad).ok();
}

#[test]
fn inspect_dataset_and_stats() {
    let out = bin()
        .args(["inspect", "--json", "--stats", "--dataset", "1"])
        .arg(corpus("coulter.lmd"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["dataset"], 1);
    assert_eq!(v["version"], "3.0");
    let stats = v["stats"].as_array().expect("stats");
    assert_eq!(stats.len(), 8);
    // 20-bit values masked out of 32-bit words: all within $PnR.
    for s in stats {
        assert!(s["raw_max"].as_f64().expect("max") < 1_048_576.0, "{s}");
    }
    let text = bin()
        .args(["inspect", "--stats"])
        .arg(corpus("data1.fcs"))
        .output()
        .expect("runs");
    let text = String::from_utf8(text.stdout).expect("utf8");
    assert!(
        text.contains("FACSCalibur") && text.contains("CD4 FITC") && text.contains("sat%"),
        "{text}"
    );
    let missing = bin()
        .args(["inspect", "--dataset", "5"])
        .arg(corpus("data1.fcs"))
        .output()
        .expect("runs");
    assert!(!missing.status.success());
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).expect("csv");
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.parse::<f64>().expect("number"))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn export_csv_reads_back_exactly() {
    use marrowgate::fcs::FcsFile;
    for (file, raw) in [
        ("data1.fcs", false),
        ("data1.fcs", true),
        ("G11.fcs", false),
        ("100715.fcs", false),
    ] {
        let out = temp(&format!("{file}-{raw}.csv"));
        let mut cmd = bin();
        cmd.arg("export").arg(corpus(file)).arg("--csv").arg(&out);
        if raw {
            cmd.arg("--raw");
        }
        let status = cmd.status().expect("runs");
        assert!(status.success());
        let (header, rows) = read_csv(&out);
        let f = FcsFile::open(corpus(file)).expect("readable");
        let info = &f.datasets()[0];
        let names: Vec<_> = info
            .metadata
            .channels
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(header, names);
        assert_eq!(rows.len(), info.event_count);
        let stored = f.raw_range_f64(0, 0, info.event_count).expect("decodes");
        let p = names.len();
        for (i, row) in rows.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let s = stored[i * p + j];
                let expected = if raw {
                    s
                } else {
                    info.metadata.channels[j].scale.apply(s)
                };
                // Float data prints as single precision, exact for stored floats.
                let same = if info.metadata.datatype == marrowgate::fcs::DataType::Float {
                    v as f32 == expected as f32
                } else {
                    v == expected
                };
                assert!(
                    same,
                    "{file} raw={raw} event {i} channel {j}: {v} vs {expected}"
                );
            }
        }
        std::fs::remove_file(out).ok();
    }
}

#[test]
fn export_of_unreadable_file_fails_cleanly_and_writes_nothing() {
    let out = temp("never.csv");
    let o = bin()
        .arg("export")
        .arg(corpus("missing.fcs"))
        .arg("--csv")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.fcs"));
    assert!(!out.exists());
}

fn gml(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gatingml/gml")
        .join(name)
}

#[test]
fn apply_prints_counts_json_and_membership() {
    let out = temp("membership.csv");
    let o = bin()
        .arg("apply")
        .arg(corpus("data1.fcs"))
        .arg("--gating-ml")
        .arg(gml("gml_parent_quadrant_rect_gate.xml"))
        .arg("--json")
        .arg("--membership")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["total_events"], 13367);
    let gates = v["gates"].as_array().expect("gates");
    let child = gates
        .iter()
        .find(|g| g["id"] == "ParRectangle1")
        .expect("child gate");
    assert_eq!(child["parent"], "FL2P-FL4P");
    let parent = gates
        .iter()
        .find(|g| g["id"] == "FL2P-FL4P")
        .expect("parent");
    let (c, p) = (
        child["events"].as_f64().expect("n"),
        parent["events"].as_f64().expect("n"),
    );
    assert!((child["percent_of_parent"].as_f64().expect("pct") - 100.0 * c / p).abs() < 1e-9);
    // The membership CSV agrees with the expected truth of the suite.
    let csv = std::fs::read_to_string(&out).expect("membership written");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "ParRectangle1")
        .expect("column");
    let ours: Vec<&str> = lines
        .map(|l| l.split(',').nth(col).expect("cell"))
        .collect();
    let truth_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gatingml/truth/Results_ParQuadRect.txt");
    let truth: Vec<String> = std::fs::read_to_string(truth_path)
        .expect("truth")
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(ours.len(), truth.len());
    assert!(ours.iter().zip(&truth).all(|(a, b)| *a == b.as_str()));
    std::fs::remove_file(out).ok();
}

#[test]
fn apply_errors_name_the_element_and_line() {
    let bad = temp("bad.xml");
    std::fs::write(
        &bad,
        "<?xml version=\"1.0\"?>\n<gating:Gating-ML xmlns:gating=\"g\" xmlns:data-type=\"d\">\n  <gating:PolygonGate gating:id=\"p\">\n    <gating:dimension><data-type:fcs-dimension data-type:name=\"FSC-H\"/></gating:dimension>\n  </gating:PolygonGate>\n</gating:Gating-ML>\n",
    )
    .expect("write");
    let o = bin()
        .arg("apply")
        .arg(corpus("data1.fcs"))
        .arg("--gating-ml")
        .arg(&bad)
        .output()
        .expect("runs");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3") && err.contains("<PolygonGate>"),
        "{err}"
    );
    std::fs::write(
        &bad,
        "<gating:Gating-ML xmlns:gating=\"g\"><gating:RectangleGate",
    )
    .expect("write");
    let o = bin()
        .arg("apply")
        .arg(corpus("data1.fcs"))
        .arg("--gating-ml")
        .arg(&bad)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&o.stderr).contains("malformed XML"));
    // A dimension the file lacks names the gate and the channels present.
    let o = bin()
        .arg("apply")
        .arg(corpus("G11.fcs"))
        .arg("--gating-ml")
        .arg(gml("gml_rect1_gate.xml"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("Rectangle1")
            && err.contains("not among the data's channels"),
        "{err}"
    );
    std::fs::remove_file(bad).ok();
}

#[test]
fn analyze_the_bundled_case_and_its_exit_codes() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-bmn");
    let out = temp("analyze");
    let run = bin()
        .arg("analyze")
        .arg(&case)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("NOT EVALUABLE") && text.contains("would have missed"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report"))
            .expect("json");
    assert_eq!(report["single_site_misses"][0], "left-iliac-necrotic");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("right-iliac") && html.contains("data:image/png;base64,"));
    assert!(out.join("plots/02-right-iliac.gating.png").exists());
    // The terminal shows what the JSON holds.
    let conclusion = report["conclusion"].as_str().expect("conclusion");
    assert!(text.contains(conclusion));

    // One unreadable site among good ones: reported, exit status 3.
    let bad = out.join("bad.fcs");
    std::fs::write(&bad, b"not an FCS file").expect("writes");
    let run = bin()
        .arg("analyze")
        .arg("--site")
        .arg(format!("good={}", case.join("sternum.fcs").display()))
        .arg("--site")
        .arg(format!("bad={}", bad.display()))
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&run.stderr).contains("bad.fcs"));
    assert!(String::from_utf8_lossy(&run.stdout).contains("POSITIVE"));
    // Nothing analysable: exit status 1; no case at all: usage error 2.
    let run = bin()
        .arg("analyze")
        .arg("--site")
        .arg(format!("bad={}", bad.display()))
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        bin().arg("analyze").output().expect("runs").status.code(),
        Some(2)
    );
    std::fs::remove_dir_all(out).ok();
}

#[test]
fn plot_draws_a_file_and_rejects_bad_arguments() {
    let fcs = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-bmn/sternum.fcs");
    let out = temp("plot");
    std::fs::create_dir_all(&out).expect("dir");
    let png = out.join("p.png");
    let run = bin()
        .args(["plot"])
        .arg(&fcs)
        .args([
            "--x",
            "CD19",
            "--y",
            "CD10",
            "--gate",
            "B=2000:,1000:",
            "--size",
            "500x400",
            "--out",
        ])
        .arg(&png)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("40000 events of PE-Cy7-A vs PE-A") && text.contains("B: "),
        "{text}"
    );
    let bytes = std::fs::read(&png).expect("png");
    assert_eq!(&bytes[1..4], b"PNG");
    // Width and height from the IHDR chunk.
    let be = |o: usize| u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    assert_eq!((be(16), be(20)), (500, 400));
    for bad in [
        vec!["--transform", "cubic"],
        vec!["--gate", "B=5:1"],
        vec!["--size", "10x10"],
    ] {
        let run = bin()
            .arg("plot")
            .arg(&fcs)
            .args(["--x", "CD19", "--y", "CD10", "--out"])
            .arg(out.join("bad.png"))
            .args(&bad)
            .output()
            .expect("runs");
        assert_eq!(run.status.code(), Some(2), "{bad:?}");
        assert!(!out.join("bad.png").exists());
    }
    std::fs::remove_dir_all(out).ok();
}
