//! Benchmark inputs shared by the benches.

use std::path::PathBuf;

/// `$MARROWGATE_BENCH_DIR/NAME` when present (written by
/// `../shared/bench/make_marrow_fcs.py`, see `benches/compare.sh`), otherwise
/// an equivalent 12-channel float32 file written with marrowgate's writer
/// under `target/`.
pub fn bench_file(events: usize, name: &str) -> PathBuf {
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

pub fn write_synthetic(path: &std::path::Path, events: usize) {
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
    // A banded spillover like the benchmark generator's.
    let fl = &names[3..11];
    let mut spill = format!("{}", fl.len());
    for n in fl {
        spill.push_str(&format!(",{n}"));
    }
    for i in 0..fl.len() {
        for j in 0..fl.len() {
            let v = if i == j {
                1.0
            } else if j == i + 1 {
                0.12
            } else if i == j + 1 {
                0.03
            } else {
                0.0
            };
            spill.push_str(&format!(",{v}"));
        }
    }
    k.set("$SPILLOVER", spill);
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
