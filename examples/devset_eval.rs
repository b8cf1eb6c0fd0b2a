//! Judges the detector against independent files with per-event truth:
//! `cargo run --release --example devset_eval -- DIR...`, each DIR a case
//! folder holding `<site>.fcs`, `<site>.labels.txt.gz` (one population per
//! event, `blast` for blasts) and `truth.json` (per site `name`, `file`,
//! `accepted_status`, `blast_percent`). Prints one Markdown row per site:
//! the call, the blast % found and true, and the event-level precision,
//! recall and F1 of the blast call.

use flate2::read::GzDecoder;
use marrowgate::analysis::case::Site;
use marrowgate::analysis::site::{Settings, analyze_site};
use std::io::{BufRead, BufReader};
use std::path::Path;

fn labels(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(GzDecoder::new(file))
        .lines()
        .map_while(Result::ok)
        .collect()
}

fn main() {
    println!(
        "| case | site | expected | call | blast % found / true | precision | recall | F1 | false blasts by population |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for dir in std::env::args().skip(1) {
        let dir = Path::new(&dir);
        let truth: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("truth.json")).expect("truth.json"),
        )
        .expect("truth.json is JSON");
        for s in truth["sites"].as_array().into_iter().flatten() {
            let name = s["name"].as_str().unwrap_or("");
            let file = dir.join(s["file"].as_str().unwrap_or(""));
            let stem = file
                .file_stem()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let labels = labels(&dir.join(format!("{stem}.labels.txt.gz")));
            let site = Site {
                name: name.into(),
                file,
                panel: Vec::new(),
            };
            let (report, gating) = analyze_site(&site, &Settings::default());
            let called = gating.map(|g| g.blasts).unwrap_or_default();
            let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
            let mut false_by: std::collections::BTreeMap<&str, usize> = Default::default();
            for (i, l) in labels.iter().enumerate() {
                let truly = l == "blast";
                let said = called.get(i).copied().unwrap_or(false);
                match (truly, said) {
                    (true, true) => tp += 1,
                    (false, true) => {
                        fp += 1;
                        *false_by.entry(l.as_str()).or_default() += 1;
                    }
                    (true, false) => fn_ += 1,
                    _ => {}
                }
            }
            let precision = tp as f64 / (tp + fp).max(1) as f64;
            let recall = tp as f64 / (tp + fn_).max(1) as f64;
            let f1 = if tp == 0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            let expected: Vec<&str> = s["accepted_status"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .collect();
            let status = serde_json::to_value(report.status).unwrap_or_default();
            let found = report.measures.as_ref().map_or(0.0, |m| m.blast_percent);
            println!(
                "| {} | {name} | {} | {}{} | {found:.3} / {:.3} | {precision:.3} | {recall:.3} | {f1:.3} | {:?} |",
                dir.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                expected.join("/"),
                status.as_str().unwrap_or(""),
                if expected.contains(&status.as_str().unwrap_or("")) {
                    ""
                } else {
                    " ✗"
                },
                s["blast_percent"].as_f64().unwrap_or(0.0),
                false_by,
            );
        }
    }
}
