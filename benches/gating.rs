//! Gating 10 M events: the `bench_gates.xml` tree of `../shared/bench`
//! (compensation, logicle, a rectangle and a polygon inside it), and
//! compensation + logicle of all 8 fluorescence channels (what the analysis
//! and the plots need).

use criterion::{Criterion, criterion_group, criterion_main};
use marrowgate::compensation::Compensation;
use marrowgate::events::{EventSource, FileEvents};
use marrowgate::fcs::FcsFile;
use marrowgate::gate::gating_ml;
use marrowgate::transform::{Logicle, Transform};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

mod common;
use common::bench_file;

fn gating(c: &mut Criterion) {
    for (events, name) in [(1_000_000, "m1.fcs"), (10_000_000, "m10.fcs")] {
        let path = bench_file(events, name);
        let file = FcsFile::open(&path).expect("readable");
        let info = &file.datasets()[0];
        let source = FileEvents {
            file: &file,
            dataset: 0,
        };
        let tree =
            gating_ml::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bench_gates.xml"))
                .expect("gates");
        let mut g = c.benchmark_group(format!("gating_{name}"));
        g.sample_size(10);
        g.bench_function("bench_gates.xml", |b| {
            b.iter(|| {
                tree.evaluate(&source, info.metadata.spillover.as_ref())
                    .expect("evaluates")
            })
        });
        // Compensation of all fluorescence channels by the file's spillover,
        // then logicle of each, in one pass.
        if let Some(spill) = &info.metadata.spillover {
            let comp = Compensation::from_spillover(spill).expect("invertible");
            let names = source.channel_names();
            let specs: Vec<_> = (0..comp.outputs.len())
                .map(|o| comp.output_weights(&names, o).expect("channels"))
                .collect();
            let logicle =
                Transform::Logicle(Logicle::new(262144.0, 0.5, 4.5, 0.0).expect("valid")).fast();
            g.bench_function("compensate+logicle all fluorescence", |b| {
                b.iter(|| {
                    let checksum = AtomicU64::new(0);
                    source
                        .visit_chunks(&specs, &|_, _, cols| {
                            let s: f64 = cols
                                .iter()
                                .flat_map(|c| c.iter())
                                .map(|&v| logicle.eval(v))
                                .sum();
                            checksum.fetch_add(s.to_bits() & 1, Ordering::Relaxed);
                        })
                        .expect("visits");
                    checksum.into_inner()
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, gating);
criterion_main!(benches);
