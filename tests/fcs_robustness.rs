//! Thousands of mutated and truncated real files: the reader never panics;
//! it returns the events or a typed error.

use marrowgate::fcs::FcsFile;
use marrowgate::fcs::stats::channel_stats;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Variants per CI run (deterministic seed).
const VARIANTS: usize = 12_000;

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fcs-corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p).expect("readable");
            (name, bytes)
        })
        .collect()
}

/// Where the HEADER and TEXT end, so most mutations hit the metadata.
fn text_end(bytes: &[u8]) -> usize {
    std::str::from_utf8(&bytes[18..26.min(bytes.len())])
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(2048)
        .min(bytes.len())
}

const HOSTILE_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "99999999999999999999",
    "18446744073709551615",
    "4294967296",
    "abc",
    "",
    " ",
    "64",
    "65",
    "7",
    "*",
    "1,2,3",
    "4,3,2,1,5",
    "NaN",
    "inf",
    "1e308",
    "2,2",
    "0,0",
    "3,4,1,2",
];

const TARGET_KEYWORDS: &[&str] = &[
    "$TOT",
    "$PAR",
    "$BEGINDATA",
    "$ENDDATA",
    "$P1B",
    "$P2B",
    "$P1R",
    "$P1E",
    "$P1G",
    "$BYTEORD",
    "$DATATYPE",
    "$NEXTDATA",
    "$SPILLOVER",
    "SPILL",
    "$TIMESTEP",
    "$BEGINSTEXT",
    "$ENDSTEXT",
    "$BEGINANALYSIS",
    "$ENDANALYSIS",
    "$MODE",
];

/// Replaces the value of one keyword (first occurrence) with a hostile one.
fn replace_keyword_value(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let end = text_end(bytes);
    let key = TARGET_KEYWORDS[rng.below(TARGET_KEYWORDS.len())].as_bytes();
    let value = HOSTILE_VALUES[rng.below(HOSTILE_VALUES.len())].as_bytes();
    let text = &bytes[..end];
    let Some(at) = text
        .windows(key.len())
        .position(|w| w.eq_ignore_ascii_case(key))
    else {
        return bytes.to_vec();
    };
    let value_start = at + key.len() + 1;
    if value_start >= end {
        return bytes.to_vec();
    }
    let delimiter = bytes[at + key.len()];
    let value_end = bytes[value_start..end]
        .iter()
        .position(|&b| b == delimiter)
        .map_or(end, |p| value_start + p);
    let mut out = bytes[..value_start].to_vec();
    out.extend_from_slice(value);
    out.extend_from_slice(&bytes[value_end..]);
    out
}

fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = bytes.to_vec();
    match rng.below(7) {
        0 => v.truncate(rng.below(bytes.len() + 1)),
        1 => {
            // Flip bytes in HEADER/TEXT.
            let end = text_end(bytes).max(1);
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(end);
                v[i] = rng.next() as u8;
            }
        }
        2 => {
            // Digits of the HEADER offsets.
            for _ in 0..1 + rng.below(3) {
                let i = 10 + rng.below(48);
                if i < v.len() {
                    v[i] = b"0123456789 x"[rng.below(12)];
                }
            }
        }
        3 => v = replace_keyword_value(bytes, rng),
        4 => {
            // Flips anywhere, including DATA.
            for _ in 0..1 + rng.below(32) {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
        }
        5 => {
            let a = replace_keyword_value(bytes, rng);
            v = replace_keyword_value(&a, rng);
            v.truncate(rng.below(v.len() + 1).max(v.len() / 2));
        }
        _ => {
            // Delete or duplicate a slice of the TEXT.
            let end = text_end(bytes).max(2);
            let a = rng.below(end);
            let b = (a + 1 + rng.below(64)).min(v.len());
            if rng.below(2) == 0 {
                v.drain(a..b);
            } else {
                let dup = v[a..b].to_vec();
                v.splice(a..a, dup);
            }
        }
    }
    v
}

/// Reads everything the reader offers; only errors may come out.
fn exercise(bytes: Vec<u8>) -> (bool, usize) {
    exercise_file(FcsFile::from_bytes(bytes).map_err(|e| e.to_string()))
}

/// [`exercise`] on `bytes` written to `path` and opened with the events
/// read from the open file ([`FcsFile::read_streaming_from`]).
fn exercise_streamed(bytes: &[u8], path: &Path) -> (bool, usize) {
    std::fs::write(path, bytes).expect("writes");
    exercise_file(FcsFile::read_streaming_from(path, 0).map_err(|e| e.to_string()))
}

fn exercise_file(file: Result<FcsFile, String>) -> (bool, usize) {
    match file {
        Err(e) => {
            assert!(!e.is_empty());
            (false, 0)
        }
        Ok(f) => {
            let mut events = 0;
            for d in 0..f.datasets().len() {
                if let Ok(m) = f.raw_events(d) {
                    events += m.nrows();
                }
                let _ = f.events(d);
                let _ = channel_stats(&f, d);
                let _ = f.raw_range_f64(d, 1, 5);
            }
            (true, events)
        }
    }
}

#[test]
fn mutated_and_truncated_real_files_never_panic() {
    let files = corpus();
    let mut rng = Rng(0x5EED_F00D_CAFE_BEEF);
    let (mut ok, mut errors) = (0usize, 0usize);
    let dir = tempfile::tempdir().expect("temp dir");
    let on_disk = dir.path().join("variant.fcs");
    for i in 0..VARIANTS {
        let (name, bytes) = &files[i % files.len()];
        let variant = mutate(bytes, &mut rng);
        let len = variant.len();
        // Every 8th variant from a file, its events read as decoded.
        let run = || match i % 8 {
            0 => exercise_streamed(&variant, &on_disk),
            _ => exercise(variant.clone()),
        };
        match catch_unwind(AssertUnwindSafe(run)) {
            Ok((true, _)) => ok += 1,
            Ok((false, _)) => errors += 1,
            Err(_) => {
                let dump = std::env::temp_dir().join(format!("marrowgate-panic-{i}.fcs"));
                let _ = std::fs::write(&dump, &variant);
                panic!(
                    "variant {i} of {name} ({len} bytes) panicked; saved to {}",
                    dump.display()
                );
            }
        }
    }
    // Both outcomes must be common, or the mutations test nothing.
    assert!(ok > VARIANTS / 10, "only {ok} variants read");
    assert!(errors > VARIANTS / 10, "only {errors} variants refused");
}

#[test]
fn hostile_counts_do_not_allocate_or_hang() {
    // $PAR and $TOT far beyond the bytes present.
    let text = "/$DATATYPE/F/$BYTEORD/1,2,3,4/$MODE/L/$PAR/999999999/$TOT/999999999999/$P1N/A/$P1B/32/$P1R/1/";
    let mut bytes = format!(
        "FCS3.1    {:>8}{:>8}{:>8}{:>8}{:>8}{:>8}",
        58,
        57 + text.len(),
        0,
        0,
        0,
        0
    )
    .into_bytes();
    bytes.extend_from_slice(text.as_bytes());
    assert!(FcsFile::from_bytes(bytes).is_err());
    let text = "/$DATATYPE/F/$BYTEORD/1,2,3,4/$PAR/1/$TOT/999999999999/$P1N/A/$P1B/32/$P1R/1/$BEGINDATA/200/$ENDDATA/999999999999/";
    let mut bytes = format!(
        "FCS3.1    {:>8}{:>8}{:>8}{:>8}{:>8}{:>8}",
        58,
        57 + text.len(),
        0,
        0,
        0,
        0
    )
    .into_bytes();
    bytes.extend_from_slice(text.as_bytes());
    bytes.resize(220, 0);
    let f = FcsFile::from_bytes(bytes).expect("recovered");
    assert_eq!(f.datasets()[0].event_count, 5);
    assert!(!f.datasets()[0].warnings.is_empty());
}

/// A file whose events are read from disk as they are decoded
/// (`read_streaming`) and that is cut short or rewritten in place after it
/// was opened: the read is refused as a changed file, never a panic nor a
/// mix of two files.
#[test]
fn a_file_changed_while_its_events_are_read_is_refused() {
    let (name, bytes) = corpus()
        .into_iter()
        .find(|(_, b)| {
            let dir = tempfile::tempdir().expect("temp dir");
            let p = dir.path().join("probe.fcs");
            std::fs::write(&p, b).expect("writes");
            FcsFile::read_streaming_from(&p, 0).is_ok_and(|f| f.is_streamed())
        })
        .expect("a corpus file that streams");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(&name);
    let open = |contents: &[u8]| {
        std::fs::write(&path, contents).expect("writes");
        let f = FcsFile::read_streaming_from(&path, 0).expect("opens");
        assert!(f.is_streamed(), "{name}");
        f
    };
    let changed = |r: Result<(), marrowgate::fcs::FcsError>, what: &str| match r {
        Err(marrowgate::fcs::FcsError::Changed(why)) => assert!(!why.is_empty()),
        other => panic!("{name} {what}: {other:?}"),
    };

    // Unchanged: read, twice, the same.
    let f = open(&bytes);
    let first = f.events_f64(0).expect("events");
    assert_eq!(first, f.events_f64(0).expect("again"));

    // Cut short after opening.
    let f = open(&bytes);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("opens");
    file.set_len(bytes.len() as u64 / 2).expect("truncates");
    changed(f.events(0).map(|_| ()), "cut short");
    changed(channel_stats(&f, 0).map(|_| ()), "cut short (chunks)");

    // Rewritten in place, same size, after opening.
    let f = open(&bytes);
    let mut other = bytes.clone();
    let last = other.len() - 1;
    other[last] ^= 0x5a;
    std::fs::write(&path, &other).expect("rewrites");
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("opens");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    file.set_modified(later).expect("touches");
    changed(channel_stats(&f, 0).map(|_| ()), "rewritten");
}
