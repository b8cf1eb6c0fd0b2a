//! The Gating-ML 2.0 compliance suite: every gate's membership matches the
//! expected membership, event for event, on `data1.fcs`.

use marrowgate::events::{FileEvents, MatrixEvents};
use marrowgate::fcs::FcsFile;
use marrowgate::gate::gating_ml;
use std::path::{Path, PathBuf};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gatingml")
}

#[test]
fn all_51_compliance_gates_match_event_for_event() {
    // data1.fcs of the suite is byte-identical to the corpus copy.
    let fcs = FcsFile::open(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fcs-corpus/data1.fcs"),
    )
    .expect("data1");
    let info = &fcs.datasets()[0];
    let events = fcs.events_f64(0).expect("events");
    let names: Vec<String> = info
        .metadata
        .channels
        .iter()
        .map(|c| c.name.clone())
        .collect();
    // Both sources must give the same memberships: the file read directly,
    // and an in-memory f64 matrix of the same channel values.
    let streamed = FileEvents {
        file: &fcs,
        dataset: 0,
    };
    let in_memory = MatrixEvents {
        events: events.view(),
        names: &names,
    };
    let manifest = std::fs::read_to_string(suite().join("manifest.tsv")).expect("manifest");
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (xml, gate, truth) = (f[0], f[1], f[2]);
        let tree = gating_ml::read(&suite().join(xml)).unwrap_or_else(|e| panic!("{e}"));
        let spill = info.metadata.spillover.as_ref();
        let membership = tree
            .evaluate(&streamed, spill)
            .unwrap_or_else(|e| panic!("{xml}: {e}"));
        let ours = membership
            .of(gate)
            .unwrap_or_else(|| panic!("{xml}: no gate {gate}"));
        let again = tree
            .evaluate(&in_memory, spill)
            .unwrap_or_else(|e| panic!("{xml}: {e}"));
        assert_eq!(
            again.of(gate),
            Some(ours),
            "{xml}: sources disagree on {gate}"
        );
        let expected: Vec<bool> = std::fs::read_to_string(suite().join(truth))
            .expect("truth")
            .lines()
            .map(|l| l.trim() == "1")
            .collect();
        assert_eq!(expected.len(), 13367, "{truth}");
        let wrong = ours.iter().zip(&expected).filter(|(a, b)| a != b).count();
        if wrong == 0 {
            passed.push(gate.to_string());
        } else {
            failed.push(format!(
                "{gate} ({xml}): {wrong} events differ, {} expected in gate, {} found",
                expected.iter().filter(|&&b| b).count(),
                ours.iter().filter(|&&b| b).count()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} gates pass; failing:\n{}",
        passed.len(),
        passed.len() + failed.len(),
        failed.join("\n")
    );
    assert_eq!(passed.len(), 51);
}

#[test]
fn every_suite_file_round_trips_through_the_writer() {
    let mut files: Vec<_> = std::fs::read_dir(suite().join("gml"))
        .expect("gml")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert_eq!(files.len(), 47);
    for f in files {
        let tree = gating_ml::read(&f).unwrap_or_else(|e| panic!("{e}"));
        let text = gating_ml::write(&tree).expect("writable");
        let back = gating_ml::parse(&text, "written")
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", f.display()));
        assert_eq!(back, tree, "{}", f.display());
    }
}

#[test]
fn mutated_gating_ml_never_panics() {
    let fcs = FcsFile::open(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fcs-corpus/data1.fcs"),
    )
    .expect("data1");
    let source = FileEvents {
        file: &fcs,
        dataset: 0,
    };
    let mut files: Vec<_> = std::fs::read_dir(suite().join("gml"))
        .expect("gml")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut state = 0x1234_5678_9ABC_DEF1u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let replacements: [&str; 10] = [
        "-1",
        "0",
        "1e400",
        "NaN",
        "",
        "x",
        "99999",
        "FCS",
        "uncompensated",
        "\"/><a",
    ];
    let (mut ok, mut err) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable");
        for _ in 0..60 {
            let mut t = text.clone();
            match next() % 3 {
                0 => t.truncate((next() as usize) % (t.len() + 1)),
                1 => {
                    // Replace the value of a random attribute.
                    let quotes: Vec<usize> = t.match_indices('"').map(|(i, _)| i).collect();
                    if quotes.len() >= 2 {
                        let k = (next() as usize % (quotes.len() / 2)) * 2;
                        let r = replacements[next() as usize % replacements.len()];
                        t.replace_range(quotes[k] + 1..quotes[k + 1], r);
                    }
                }
                _ => {
                    // Delete a random line.
                    let lines: Vec<&str> = t.lines().collect();
                    let drop = next() as usize % lines.len().max(1);
                    t = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != drop)
                        .map(|(_, l)| *l)
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match gating_ml::parse(&t, "mutated") {
                    Ok(tree) => tree.evaluate(&source, None).is_ok(),
                    Err(e) => {
                        assert!(e.to_string().starts_with("mutated"), "{e}");
                        false
                    }
                }
            }));
            match outcome {
                Ok(true) => ok += 1,
                Ok(false) => err += 1,
                Err(_) => panic!("{} mutated to:\n{t}", f.display()),
            }
        }
    }
    assert!(ok > 100 && err > 100, "ok {ok}, refused {err}");
}
