//! Reading 12-channel float32 FCS files of 1 M and 10 M events.
//!
//! Uses `$MARROWGATE_BENCH_DIR/m1.fcs` and `m10.fcs` when present (written by
//! `../shared/bench/make_marrow_fcs.py`, see `benches/compare.sh`), otherwise
//! writes equivalent files with marrowgate's own writer under `target/`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use marrowgate::fcs::FcsFile;
use marrowgate::fcs::stats::channel_stats;
use std::path::PathBuf;

fn bench_file(events: usize, name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("MARROWGATE_BENCH_DIR") {
        let p = PathBuf::from(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    if !p.exists() {
        write_synthetic(&p, events);
    }
    p
}

fn write_synthetic(path: &std::path::Path, events: usize) {
    let names = [
        "FSC-A",
        "FSC-H",
        "SSC-A",
        "FITC-A",
        "PE-A",
        "PerCP-Cy5-5-A",
        "PE-Cy7-A",
        "APC-A",
        "APC-R700-A",
        "V500-A",
        "BV421-A",
        "Time",
    ];
    let mut k = marrowgate::fcs::Keywords::new();
    k.set("$DATATYPE", "F");
    k.set("$BYTEORD", "1,2,3,4");
    k.set("$PAR", names.len().to_string());
    for (i, n) in names.iter().enumerate() {
        k.set(&format!("$P{}N", i + 1), *n);
        k.set(&format!("$P{}B", i + 1), "32");
        k.set(&format!("$P{}R", i + 1), "262144");
        k.set(&format!("$P{}E", i + 1), "0,0");
    }
    let mut w = Vec::new();
    let meta =
        marrowgate::fcs::Metadata::from_keywords(marrowgate::fcs::Version::Fcs3_1, &k, &mut w)
            .expect("valid");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let values = ndarray::Array2::from_shape_fn((events, names.len()), |(_, _)| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / 64.0 - 100.0
    });
    marrowgate::fcs::writer::write(path, &k, &meta.channels, values.view())
        .expect("bench file written");
}

fn read(c: &mut Criterion) {
    for (events, name) in [(1_000_000, "m1.fcs"), (10_000_000, "m10.fcs")] {
        let path = bench_file(events, name);
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut g = c.benchmark_group(format!("read_{name}"));
        g.throughput(Throughput::Bytes(bytes));
        g.sample_size(10);
        g.bench_function("open+stats", |b| {
            b.iter(|| {
                let f = FcsFile::open(&path).expect("readable");
                channel_stats(&f, 0).expect("stats")
            })
        });
        g.bench_function("open+events_matrix", |b| {
            b.iter(|| {
                FcsFile::open(&path)
                    .expect("readable")
                    .events(0)
                    .expect("events")
            })
        });
        g.finish();
    }
}

criterion_group!(benches, read);
criterion_main!(benches);
