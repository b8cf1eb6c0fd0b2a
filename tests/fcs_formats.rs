//! Layouts the real corpus does not cover, built byte by byte: every data
//! type, byte order, bit width, segment arrangement and the recoveries.

use marrowgate::fcs::{FcsError, FcsFile, Version};

/// Assembles an FCS data set: HEADER, TEXT (with `$BEGINDATA`/`$ENDDATA`
/// filled in), optional supplemental TEXT and ANALYSIS, then DATA.
struct Builder {
    version: &'static str,
    keywords: Vec<(String, String)>,
    data: Vec<u8>,
    stext: Option<Vec<(String, String)>>,
    analysis: Option<Vec<(String, String)>>,
    zero_header_data_offsets: bool,
    delimiter: u8,
}

impl Builder {
    fn new(version: &'static str, pairs: &[(&str, &str)], data: Vec<u8>) -> Self {
        Builder {
            version,
            keywords: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            data,
            stext: None,
            analysis: None,
            zero_header_data_offsets: false,
            delimiter: b'/',
        }
    }

    fn segment(&self, pairs: &[(String, String)]) -> Vec<u8> {
        let mut s = vec![self.delimiter];
        for (k, v) in pairs {
            s.extend_from_slice(k.as_bytes());
            s.push(self.delimiter);
            s.extend_from_slice(v.as_bytes());
            s.push(self.delimiter);
        }
        s
    }

    fn build(&self) -> Vec<u8> {
        let stext = self
            .stext
            .as_ref()
            .map(|p| self.segment(p))
            .unwrap_or_default();
        let analysis = self
            .analysis
            .as_ref()
            .map(|p| self.segment(p))
            .unwrap_or_default();
        // Offsets are written with fixed width so the TEXT length is known.
        let fixed = |v: usize| format!("{v:010}");
        let mut pairs = self.keywords.clone();
        for k in [
            "$BEGINDATA",
            "$ENDDATA",
            "$BEGINSTEXT",
            "$ENDSTEXT",
            "$BEGINANALYSIS",
            "$ENDANALYSIS",
        ] {
            pairs.push((k.to_string(), fixed(0)));
        }
        let text_len = self.segment(&pairs).len();
        let text_begin = 58;
        let stext_begin = text_begin + text_len;
        let analysis_begin = stext_begin + stext.len();
        let data_begin = analysis_begin + analysis.len();
        let data_end = data_begin + self.data.len().max(1) - 1;
        let span = |b: usize, seg: &[u8]| {
            if seg.is_empty() {
                (0, 0)
            } else {
                (b, b + seg.len() - 1)
            }
        };
        let (sb, se) = span(stext_begin, &stext);
        let (ab, ae) = span(analysis_begin, &analysis);
        let n = pairs.len();
        pairs[n - 6].1 = fixed(data_begin);
        pairs[n - 5].1 = fixed(data_end);
        pairs[n - 4].1 = fixed(sb);
        pairs[n - 3].1 = fixed(se);
        pairs[n - 2].1 = fixed(ab);
        pairs[n - 1].1 = fixed(ae);
        let text = self.segment(&pairs);
        assert_eq!(text.len(), text_len);
        let (hdb, hde) = if self.zero_header_data_offsets {
            (0, 0)
        } else {
            (data_begin, data_end)
        };
        let mut out = format!(
            "{}    {:>8}{:>8}{:>8}{:>8}{:>8}{:>8}",
            self.version,
            text_begin,
            text_begin + text_len - 1,
            hdb,
            hde,
            ab,
            ae
        )
        .into_bytes();
        out.extend_from_slice(&text);
        out.extend_from_slice(&stext);
        out.extend_from_slice(&analysis);
        out.extend_from_slice(&self.data);
        out
    }
}

fn channel_keywords(bits: &[&str], ranges: &[&str]) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for (i, (b, r)) in bits.iter().zip(ranges).enumerate() {
        v.push((format!("$P{}N", i + 1), format!("C{}", i + 1)));
        v.push((format!("$P{}B", i + 1), b.to_string()));
        v.push((format!("$P{}R", i + 1), r.to_string()));
    }
    v
}

fn dataset(
    version: &'static str,
    datatype: &str,
    byteord: &str,
    bits: &[&str],
    ranges: &[&str],
    tot: usize,
    data: Vec<u8>,
) -> Builder {
    let mut b = Builder::new(
        version,
        &[
            ("$DATATYPE", datatype),
            ("$BYTEORD", byteord),
            ("$MODE", "L"),
            ("$NEXTDATA", "0"),
        ],
        data,
    );
    b.keywords.push(("$PAR".into(), bits.len().to_string()));
    b.keywords.push(("$TOT".into(), tot.to_string()));
    b.keywords.extend(channel_keywords(bits, ranges));
    b
}

fn raw(bytes: Vec<u8>) -> (FcsFile, Vec<Vec<f32>>) {
    let f = FcsFile::from_bytes(bytes).expect("readable");
    let m = f.raw_events(0).expect("decodes");
    let rows = m.rows().into_iter().map(|r| r.to_vec()).collect();
    (f, rows)
}

#[test]
fn double_big_endian() {
    let mut data = Vec::new();
    for v in [1.5f64, -2.25, 1e6, 0.125] {
        data.extend_from_slice(&v.to_be_bytes());
    }
    let b = dataset(
        "FCS3.1",
        "D",
        "4,3,2,1",
        &["64", "64"],
        &["1024", "1024"],
        2,
        data,
    );
    let (_, rows) = raw(b.build());
    assert_eq!(rows, vec![vec![1.5, -2.25], vec![1e6, 0.125]]);
}

#[test]
fn float_little_endian_fcs32_without_mode() {
    let mut data = Vec::new();
    for v in [3.5f32, -1.0, 7.0] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut b = dataset("FCS3.2", "F", "1,2,3,4", &["32"], &["262144"], 3, data);
    b.keywords.retain(|(k, _)| k != "$MODE");
    let (f, rows) = raw(b.build());
    assert_eq!(f.datasets()[0].metadata.version, Version::Fcs3_2);
    assert_eq!(rows, vec![vec![3.5], vec![-1.0], vec![7.0]]);
}

#[test]
fn integers_of_every_byte_width_and_order() {
    // 8-bit, 16-bit BE, 32-bit BE, 64-bit BE in one event.
    let mut data = vec![200u8];
    data.extend_from_slice(&60000u16.to_be_bytes());
    data.extend_from_slice(&123_456_789u32.to_be_bytes());
    data.extend_from_slice(&5_000_000_000u64.to_be_bytes());
    let b = dataset(
        "FCS3.0",
        "I",
        "4,3,2,1",
        &["8", "16", "32", "64"],
        &["256", "65536", "4294967296", "18446744073709551616"],
        1,
        data,
    );
    let f = FcsFile::from_bytes(b.build()).expect("readable");
    let exact = f.raw_range_f64(0, 0, 1).expect("decodes");
    assert_eq!(exact, vec![200.0, 60000.0, 123_456_789.0, 5_000_000_000.0]);
}

#[test]
fn pdp_middle_endian_byte_order() {
    // FCS 2.0 "3,4,1,2": stored bytes carry significance 3,4,1,2.
    let v: u32 = 0x0A0B_0C0D;
    let le = v.to_le_bytes();
    let data = vec![le[2], le[3], le[0], le[1]];
    let b = dataset("FCS2.0", "I", "3,4,1,2", &["32"], &["4294967296"], 1, data);
    let f = FcsFile::from_bytes(b.build()).expect("readable");
    assert_eq!(f.raw_range_f64(0, 0, 1).expect("decodes"), vec![v as f64]);
}

#[test]
fn sixteen_bit_values_masked_by_range() {
    // Flags in the high bits (as Beckman Coulter writes) are masked off.
    let mut data = Vec::new();
    for v in [0xF3FFu16, 0x0200, 0x8001] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    let b = dataset("FCS3.0", "I", "1,2", &["16"], &["1024"], 3, data);
    let (_, rows) = raw(b.build());
    assert_eq!(rows, vec![vec![1023.0], vec![512.0], vec![1.0]]);
}

#[test]
fn ten_bit_values_packed_or_in_sixteen_bit_words() {
    // Two 10-bit channels, 4 events = 80 bits = 10 bytes, MSB-first.
    let values = [1023u16, 0, 512, 1, 300, 700, 5, 1000];
    let mut bits = Vec::new();
    for v in values {
        for k in (0..10).rev() {
            bits.push((v >> k) & 1);
        }
    }
    let data: Vec<u8> = bits
        .chunks(8)
        .map(|c| c.iter().fold(0u8, |b, &x| (b << 1) | x as u8))
        .collect();
    assert_eq!(data.len(), 10);
    let b = dataset(
        "FCS2.0",
        "I",
        "4,3,2,1",
        &["10", "10"],
        &["1024", "1024"],
        4,
        data,
    );
    let (f, rows) = raw(b.build());
    let flat: Vec<f32> = rows.concat();
    assert_eq!(flat, values.iter().map(|&v| v as f32).collect::<Vec<_>>());
    assert!(
        f.datasets()[0]
            .warnings
            .iter()
            .any(|w| w.contains("bit-packed"))
    );
    // The same $PnB 10 stored in 16-bit words (what most instruments do).
    let mut words = Vec::new();
    for v in values {
        words.extend_from_slice(&(v | 0xFC00).to_be_bytes());
    }
    let b = dataset(
        "FCS2.0",
        "I",
        "4,3,2,1",
        &["10", "10"],
        &["1024", "1024"],
        4,
        words,
    );
    let (_, rows) = raw(b.build());
    assert_eq!(
        rows.concat(),
        values.iter().map(|&v| v as f32).collect::<Vec<_>>()
    );
}

#[test]
fn ascii_fixed_width_and_delimited() {
    let b = dataset(
        "FCS2.0",
        "A",
        "1,2,3,4",
        &["4", "3"],
        &["10000", "1000"],
        2,
        b"  12 34 567  8".to_vec(),
    );
    let (_, rows) = raw(b.build());
    assert_eq!(rows, vec![vec![12.0, 34.0], vec![567.0, 8.0]]);
    let b = dataset(
        "FCS2.0",
        "A",
        "1,2,3,4",
        &["*", "*"],
        &["10000", "1000"],
        3,
        b"1,2 3\t4\r\n5 , 6\n".to_vec(),
    );
    let (_, rows) = raw(b.build());
    assert_eq!(rows, vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]);
}

#[test]
fn large_file_style_offsets_only_in_text() {
    let data: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut b = dataset("FCS3.1", "F", "1,2,3,4", &["32"], &["1024"], 2, data);
    b.zero_header_data_offsets = true;
    let (f, rows) = raw(b.build());
    assert_eq!(rows, vec![vec![1.0], vec![2.0]]);
    assert!(
        f.datasets()[0].warnings.is_empty(),
        "{:?}",
        f.datasets()[0].warnings
    );
}

#[test]
fn supplemental_text_and_analysis_segments_are_kept() {
    let data: Vec<u8> = 9.0f32.to_le_bytes().to_vec();
    let mut b = dataset("FCS3.1", "F", "1,2,3,4", &["32"], &["1024"], 1, data);
    b.stext = Some(vec![
        ("$P1S".into(), "CD19 PE-Cy7".into()),
        ("LAB".into(), "haematology".into()),
    ]);
    b.analysis = Some(vec![("GATE1".into(), "lymphocytes".into())]);
    let f = FcsFile::from_bytes(b.build()).expect("readable");
    let d = &f.datasets()[0];
    assert_eq!(
        d.metadata.channels[0].marker.as_deref(),
        Some("CD19 PE-Cy7")
    );
    assert_eq!(d.keywords.get("lab"), Some("haematology"));
    assert_eq!(d.analysis.get("GATE1"), Some("lymphocytes"));
}

#[test]
fn multiple_data_sets_via_nextdata() {
    let first = dataset(
        "FCS3.0",
        "I",
        "1,2",
        &["16"],
        &["1024"],
        2,
        vec![1, 0, 2, 0],
    );
    let second = dataset(
        "FCS3.0",
        "F",
        "1,2,3,4",
        &["32", "32"],
        &["1024", "1024"],
        1,
        [5.0f32, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
    );
    let a = first.build();
    // Rebuild the first with $NEXTDATA pointing past itself (same length:
    // the value is written with the same number of digits).
    let next = format!("{:08}", a.len());
    let mut first = first;
    for (k, v) in first.keywords.iter_mut() {
        if k == "$NEXTDATA" {
            *v = next.clone();
        }
    }
    let mut bytes = first.build();
    assert_eq!(bytes.len(), a.len() + 7);
    let start = bytes.len();
    for (k, v) in first.keywords.iter_mut() {
        if k == "$NEXTDATA" {
            *v = format!("{start:08}");
        }
    }
    bytes = first.build();
    bytes.extend_from_slice(&second.build());
    let f = FcsFile::from_bytes(bytes).expect("readable");
    assert_eq!(f.datasets().len(), 2);
    assert_eq!(
        f.raw_events(0)
            .expect("ds0")
            .as_slice()
            .expect("contiguous"),
        &[1.0, 2.0]
    );
    assert_eq!(
        f.raw_events(1)
            .expect("ds1")
            .as_slice()
            .expect("contiguous"),
        &[5.0, 6.0]
    );
    assert!(matches!(
        f.raw_events(2),
        Err(FcsError::NoSuchDataSet {
            requested: 2,
            available: 2
        })
    ));
}

#[test]
fn tot_larger_than_data_reads_complete_events_with_warning() {
    let data: Vec<u8> = [1.0f32, 2.0, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let b = dataset("FCS3.1", "F", "1,2,3,4", &["32"], &["1024"], 10, data);
    let (f, rows) = raw(b.build());
    assert_eq!(rows.len(), 3);
    assert!(
        f.datasets()[0]
            .warnings
            .iter()
            .any(|w| w.contains("$TOT is 10"))
    );
}

#[test]
fn unsupported_mode_and_bad_datatype_are_typed_errors() {
    let mut b = dataset("FCS3.0", "I", "1,2", &["16"], &["1024"], 1, vec![0, 0]);
    for (k, v) in b.keywords.iter_mut() {
        if k == "$MODE" {
            *v = "U".into();
        }
    }
    match FcsFile::from_bytes(b.build()) {
        Err(FcsError::Unsupported(m)) => assert!(m.contains("$MODE U"), "{m}"),
        other => panic!("{other:?}"),
    }
    let b = dataset("FCS3.0", "F", "1,2,3,4", &["16"], &["1024"], 1, vec![0, 0]);
    match FcsFile::from_bytes(b.build()) {
        Err(FcsError::InvalidKeyword { keyword, .. }) => assert_eq!(keyword, "$P1B"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn any_delimiter_byte() {
    let mut b = dataset(
        "FCS3.1",
        "F",
        "1,2,3,4",
        &["32"],
        &["1024"],
        1,
        4.0f32.to_le_bytes().to_vec(),
    );
    b.delimiter = 0x0C;
    let (_, rows) = raw(b.build());
    assert_eq!(rows, vec![vec![4.0]]);
}
