//! read -> write FCS 3.1 -> read gives identical channel values and keeps
//! every keyword; writing the re-read file again gives the same bytes.

use marrowgate::fcs::writer::{LAYOUT_KEYWORDS, ORIGINAL_PREFIX, encode, write};
use marrowgate::fcs::{FcsFile, Version};
use std::path::Path;

fn corpus_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fcs-corpus");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Keywords the writer recomputes (layout and segment offsets).
fn rewritten(key: &str) -> bool {
    let k = key.to_ascii_uppercase();

    LAYOUT_KEYWORDS.contains(&k.as_str())
        || (k.starts_with("$P")
            && (k.ends_with('B') || k.ends_with('E') || k.ends_with('R') || k.ends_with('G')))
}

#[test]
fn every_corpus_data_set_round_trips() {
    let mut datasets = 0;
    for path in corpus_files() {
        let original = FcsFile::open(&path).expect("readable");
        for (d, info) in original.datasets().iter().enumerate() {
            let ctx = format!("{} data set {d}", path.display());
            let events = original.events(d).expect("events");
            let bytes =
                encode(&info.keywords, &info.metadata.channels, events.view()).expect("encodes");
            let back = FcsFile::from_bytes(bytes.clone()).expect("re-reads");
            let bi = &back.datasets()[0];
            assert_eq!(bi.metadata.version, Version::Fcs3_1, "{ctx}");
            let new: Vec<_> = bi
                .warnings
                .iter()
                .filter(|w| !info.warnings.contains(w))
                .collect();
            assert!(
                new.is_empty(),
                "{ctx}: the written file has new warnings {new:?}"
            );
            let again = back.events(0).expect("events");
            assert_eq!(again.dim(), events.dim(), "{ctx}");
            for (a, b) in again.iter().zip(events.iter()) {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{ctx}: {a} vs {b}"
                );
            }
            // Every source keyword is kept, or rewritten with its original kept.
            for (k, v) in info.keywords.iter() {
                if rewritten(k) {
                    continue;
                }
                match bi.keywords.get(k) {
                    Some(w) if w == v || (v.is_empty() && w == " ") => {}
                    Some(w) => assert_eq!(
                        bi.keywords.get(&format!("{ORIGINAL_PREFIX}{k}")),
                        Some(v),
                        "{ctx}: {k} rewritten from {v:?} to {w:?} without keeping the original"
                    ),
                    None => panic!("{ctx}: keyword {k} lost"),
                }
            }
            assert_eq!(
                bi.metadata.spillover, info.metadata.spillover,
                "{ctx}: spillover"
            );
            let names: Vec<_> = bi
                .metadata
                .channels
                .iter()
                .map(|c| (&c.name, &c.marker))
                .collect();
            let orig: Vec<_> = info
                .metadata
                .channels
                .iter()
                .map(|c| (&c.name, &c.marker))
                .collect();
            assert_eq!(names, orig, "{ctx}");
            // Writing what was read back is a fixed point.
            let twice = encode(&bi.keywords, &bi.metadata.channels, again.view()).expect("encodes");
            assert!(twice == bytes, "{ctx}: second write differs");
            datasets += 1;
        }
    }
    assert_eq!(datasets, 15);
}

#[test]
fn subset_export_writes_atomically_to_disk() {
    let path = corpus_files()
        .into_iter()
        .find(|p| p.ends_with("G11.fcs"))
        .expect("G11");
    let f = FcsFile::open(&path).expect("readable");
    let info = &f.datasets()[0];
    let events = f.events(0).expect("events");
    let subset = events.slice(ndarray::s![..100, ..]);
    let out = std::env::temp_dir().join(format!("mg-subset-{}.fcs", std::process::id()));
    write(&out, &info.keywords, &info.metadata.channels, subset).expect("writes");
    let back = FcsFile::open(&out).expect("re-reads");
    assert_eq!(back.datasets()[0].event_count, 100);
    assert_eq!(back.events(0).expect("events"), subset.to_owned());
    std::fs::remove_file(out).ok();
}

#[test]
fn integer_data_and_chained_data_sets_read_back() {
    use marrowgate::fcs::writer::{DataSetToWrite, Header, Storage, encode_chained};
    // The LMD corpus file: both data sets written again, integers and
    // chained by $NEXTDATA, read back value for value.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fcs-corpus/coulter.lmd");
    let original = FcsFile::open(&path).expect("readable");
    let sets: Vec<_> = (0..2)
        .map(|d| original.events(d).expect("events"))
        .collect();
    let bytes = encode_chained(&[
        DataSetToWrite {
            keywords: &original.datasets()[0].keywords,
            channels: &original.datasets()[0].metadata.channels,
            events: sets[0].view(),
            storage: Storage::Float32,
            header: Header::Fcs2_0,
        },
        DataSetToWrite {
            keywords: &original.datasets()[1].keywords,
            channels: &original.datasets()[1].metadata.channels,
            events: sets[1].view(),
            storage: Storage::UInt32,
            header: Header::Fcs3_1,
        },
    ])
    .expect("encodes");
    let back = FcsFile::from_bytes(bytes).expect("re-reads");
    assert_eq!(back.datasets().len(), 2);
    assert_eq!(back.datasets()[0].metadata.version, Version::Fcs2_0);
    assert_eq!(back.datasets()[1].keywords.get("$DATATYPE"), Some("I"));
    assert_eq!(back.analysed_dataset(), 1);
    assert_eq!(back.events(0).expect("events"), sets[0]);
    // The FCS 3.0 set holds integers: they come back exactly.
    assert_eq!(back.events(1).expect("events"), sets[1]);
    // Integers are rounded and clamped to 0..$PnR.
    let mut odd = sets[1].slice(ndarray::s![0..3, ..]).to_owned();
    odd[[0, 0]] = -5.0;
    odd[[1, 0]] = 12.6;
    odd[[2, 0]] = 9e9;
    let info = &original.datasets()[1];
    let bytes = marrowgate::fcs::writer::encode_as(
        &info.keywords,
        &info.metadata.channels,
        odd.view(),
        Storage::UInt32,
    )
    .expect("encodes");
    let back = FcsFile::from_bytes(bytes).expect("re-reads");
    let col = back.events(0).expect("events").column(0).to_vec();
    assert_eq!(col, vec![0.0, 13.0, 1_048_575.0]);
}
