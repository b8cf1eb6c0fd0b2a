//! Reading 12-channel float32 FCS files of 1 M and 10 M events.
//!
//! Uses `$MARROWGATE_BENCH_DIR/m1.fcs` and `m10.fcs` when present (written by
//! `../shared/bench/make_marrow_fcs.py`, see `benches/compare.sh`), otherwise
//! writes equivalent files with marrowgate's own writer under `target/`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use marrowgate::fcs::FcsFile;
use marrowgate::fcs::stats::channel_stats;

mod common;
use common::bench_file;

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
