//! The detector's figures over many seeds, as a Markdown table:
//! `cargo run --release --example detection_table [SEEDS]`.
//!
//! Every row simulates marrow with known truth, analyses it as `analyze`
//! does (one site at a time) and compares with the truth: blast % against
//! the true blast % of viable nucleated cells, calls at 0.01 % with a
//! million cells, hematogone-rich normal marrows, necrotic and hemodiluted
//! sites.

use marrowgate::analysis::case::Site;
use marrowgate::analysis::site::{Settings, analyze_site};
use marrowgate::qc::Status;
use marrowgate::simulate::{BlastPhenotype, Config, simulate, write};
use std::path::PathBuf;

struct Outcome {
    status: Status,
    found_percent: f64,
    true_percent: f64,
}

fn run(cfg: &Config, dir: &std::path::Path) -> Outcome {
    let file = dir.join(format!("s{}.fcs", cfg.seed));
    let sim = simulate(cfg).expect("valid configuration");
    let true_percent = sim.true_blast_percent();
    write(&sim, &file).expect("temporary folder is writable");
    let site = Site {
        name: "s".into(),
        file: file.clone(),
        panel: Vec::new(),
    };
    let (report, _) = analyze_site(&site, &Settings::default());
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(marrowgate::simulate::truth_path(&file)).ok();
    Outcome {
        status: report.status,
        found_percent: report.measures.map_or(0.0, |m| m.blast_percent),
        true_percent,
    }
}

fn phenotype(changes: &[(&str, f64)]) -> BlastPhenotype {
    let mut p = BlastPhenotype::default();
    for (m, v) in changes {
        p.set(m, *v);
    }
    p
}

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir: PathBuf = std::env::temp_dir().join(format!("mg-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let phenotypes = [
        (
            "typical (CD34+ CD45 dim CD38 dim CD58 bright)",
            phenotype(&[]),
        ),
        ("CD34-", phenotype(&[("CD34", 60.0)])),
        (
            "CD45- CD38 moderate CD58 normal",
            phenotype(&[("CD45", 80.0), ("CD38", 3000.0), ("CD58", 1100.0)]),
        ),
        (
            "CD20 partial, wide spread",
            phenotype(&[("CD20", 800.0), ("sigma", 0.5)]),
        ),
        (
            "CD38 and CD58 normal (CD45 dim only)",
            phenotype(&[("CD38", 9000.0), ("CD58", 1100.0)]),
        ),
    ];
    println!("| scenario | sites (seeds) | result |");
    println!("| --- | --- | --- |");
    let mut seed = 1000;
    for (name, ph) in &phenotypes {
        for fraction in [0.01, 0.05, 0.30] {
            let mut errors = Vec::new();
            let mut positive = 0;
            for _ in 0..seeds {
                seed += 1;
                let o = run(
                    &Config {
                        events: 100_000,
                        seed,
                        blast_fraction: fraction,
                        hematogone_fraction: 0.08,
                        blast_phenotype: *ph,
                        ..Config::default()
                    },
                    &dir,
                );
                positive += (o.status == Status::Positive) as u32;
                errors.push((o.found_percent - o.true_percent).abs() / o.true_percent);
            }
            let mean = 100.0 * errors.iter().sum::<f64>() / errors.len() as f64;
            let max = 100.0 * errors.iter().copied().fold(0.0, f64::max);
            println!(
                "| blasts {}%, {name}, 100k events | {seeds} | POSITIVE {positive}/{seeds}; blast % relative error mean {mean:.2}%, max {max:.2}% |",
                100.0 * fraction
            );
        }
    }
    let rare = seeds.div_ceil(2);
    let (mut called, mut found) = (0, Vec::new());
    for _ in 0..rare {
        seed += 1;
        let o = run(
            &Config {
                events: 1_150_000,
                seed,
                blast_fraction: 0.0001,
                ..Config::default()
            },
            &dir,
        );
        called += (o.status == Status::Positive) as u32;
        found.push(format!(
            "{:.4}% (true {:.4}%)",
            o.found_percent, o.true_percent
        ));
    }
    println!(
        "| blasts 0.01%, 1.15 M events (>= 1 M viable nucleated) | {rare} | POSITIVE {called}/{rare}: {} |",
        found.join(", ")
    );
    for hg in [0.2, 0.3] {
        let mut calls = [0u32; 3];
        for _ in 0..2 * seeds {
            seed += 1;
            let o = run(
                &Config {
                    events: 100_000,
                    seed,
                    hematogone_fraction: hg,
                    ..Config::default()
                },
                &dir,
            );
            calls[o.status as usize] += 1;
        }
        println!(
            "| normal marrow, {}% hematogones, no blasts | {} | POSITIVE {}, NEGATIVE {}, NOT EVALUABLE {} |",
            100.0 * hg,
            2 * seeds,
            calls[0],
            calls[1],
            calls[2]
        );
    }
    for (name, necrosis, blasts, hemodilution) in [
        ("necrotic (necrosis 0.97), no blasts", 0.97, 0.0, 0.0),
        ("necrotic (necrosis 0.97), 1% blasts", 0.97, 0.01, 0.0),
        (
            "peripheral blood (hemodilution 1), no blasts",
            0.0,
            0.0,
            1.0,
        ),
    ] {
        let mut calls = [0u32; 3];
        for _ in 0..seeds {
            seed += 1;
            let o = run(
                &Config {
                    events: 40_000,
                    seed,
                    necrosis,
                    blast_fraction: blasts,
                    hemodilution,
                    ..Config::default()
                },
                &dir,
            );
            calls[o.status as usize] += 1;
        }
        println!(
            "| {name}, 40k events | {seeds} | POSITIVE {}, NEGATIVE {}, NOT EVALUABLE {} |",
            calls[0], calls[1], calls[2]
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
