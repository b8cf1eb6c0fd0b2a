//! What the detector did with a simulated site, against its truth:
//! `cargo run --release --example explain_site -- FILE.fcs [--mrd] [--cd19-therapy] [--diagnosis DIAGNOSTIC.fcs] [--dump CSV] [--all]`
//! (reads `FILE.fcs.truth.csv`). Prints the true populations of the
//! CD19+CD10+ candidates and of the blast call: a diagnostic aid when a
//! detection-table row fails, not a test. `--dump` writes the display-scale
//! columns, the pre-gates and the truth of every event as CSV. `--all`
//! lists every cluster (normal ones too) with its centre (display scale).

use marrowgate::analysis::case::Site;
use marrowgate::analysis::site::{Settings, analyze_site};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next().map(PathBuf::from) else {
        eprintln!("usage: explain_site FILE.fcs [--mrd]");
        std::process::exit(2);
    };
    let mut settings = Settings::default();
    let mut dump = None;
    let mut all = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--all" => all = true,
            "--mrd" => settings.limits.required_sensitivity_percent = 0.01,
            "--dump" => dump = args.next().map(PathBuf::from),
            "--cd19-therapy" => settings.cd19_directed_therapy = true,
            "--diagnosis" => {
                // The expected phenotype, as `follow` takes it from the
                // diagnostic time point.
                let Some(diagnosis) = args.next().map(PathBuf::from) else {
                    eprintln!("--diagnosis needs a file");
                    std::process::exit(2);
                };
                let site = Site {
                    name: "diagnosis".into(),
                    file: diagnosis,
                    panel: Vec::new(),
                };
                let (report, _) = analyze_site(&site, &Settings::default());
                settings.expected_phenotype = report
                    .measures
                    .and_then(|m| marrowgate::strategy::blasts::Phenotype::of_blasts(&m.clusters));
            }
            _ => {
                eprintln!("unknown argument {a}");
                std::process::exit(2);
            }
        }
    }
    let truth_file = marrowgate::simulate::truth_path(&file);
    let truth: Vec<String> = match std::fs::read_to_string(&truth_file) {
        Ok(t) => t.lines().skip(1).map(str::to_string).collect(),
        Err(e) => {
            eprintln!("{}: {e}", truth_file.display());
            std::process::exit(1);
        }
    };
    let site = Site {
        name: "site".into(),
        file,
        panel: Vec::new(),
    };
    if let Some(expected) = &settings.expected_phenotype {
        println!("expected:     {:?}", expected.centre);
    }
    let (report, gating) = analyze_site(&site, &settings);
    println!("{:?}: {}", report.status, report.reason);
    let Some(auto) = gating.and_then(|g| g.automatic) else {
        return;
    };
    let tally = |mask: &dyn Fn(usize) -> bool| {
        let mut t: BTreeMap<&str, u64> = BTreeMap::new();
        for (i, p) in truth.iter().enumerate() {
            if mask(i) {
                *t.entry(p.as_str()).or_default() += 1;
            }
        }
        t
    };
    let g = &auto.pregates;
    println!("viable:       {:?}", tally(&|i| g.viable[i]));
    println!("CD19+:        {:?}", tally(&|i| g.b_lineage[i]));
    println!("CD19+CD10+:   {:?}", tally(&|i| g.cd10_positive[i]));
    println!("blast call:   {:?}", tally(&|i| auto.search.members[i]));
    for c in &auto.search.clusters {
        if c.deviation_decades > 0.0 || c.blast || all {
            println!(
                "cluster {:?} {:>7} events, blast {}, deviation {:.2}, spread {:.2}, size {:?}, overlap {:?}: {}",
                c.centre
                    .iter()
                    .map(|(m, v)| format!("{m}={v:.3}"))
                    .collect::<Vec<_>>(),
                c.events,
                c.blast,
                c.deviation_decades,
                c.spread_decades,
                c.size_of_lymphocytes.map(|v| (v * 100.0).round() / 100.0),
                c.overlap_with_normal.map(|v| (v * 1000.0).round() / 1000.0),
                c.aberrancies.join("; ")
            );
        }
    }
    println!(
        "true blasts:  {}",
        truth.iter().filter(|p| p.as_str() == "blast").count()
    );
    if let Some(out) = dump {
        let p = &auto.prepared;
        let mut text = String::new();
        let names: Vec<String> = p.columns.keys().map(|m| m.name()).collect();
        text.push_str(&format!(
            "{},viable,cd19,cd10,blast,truth\n",
            names.join(",")
        ));
        for i in 0..p.events {
            for c in p.columns.values() {
                text.push_str(&format!("{:.4},", c[i]));
            }
            text.push_str(&format!(
                "{},{},{},{},{}\n",
                u8::from(g.viable[i]),
                u8::from(g.b_lineage[i]),
                u8::from(g.cd10_positive[i]),
                u8::from(auto.search.members[i]),
                truth.get(i).map_or("", String::as_str)
            ));
        }
        if let Err(e) = std::fs::write(&out, text) {
            eprintln!("{}: {e}", out.display());
        }
    }
}
