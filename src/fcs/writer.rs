//! FCS 3.1 writer: float32 list mode, every keyword of the source kept.
//!
//! Events are written as *channel values* (what [`FcsFile::events`] returns),
//! so any FCS reader that applies the standard conversions gets back exactly
//! the values marrowgate analysed. To make that true the writer rewrites the
//! few keywords that describe the conversion of stored values:
//! - `$PnE` becomes `0,0` (float data is linear) and, for a channel that was
//!   log-amplified, `$PnR` becomes the top of its decoded range;
//! - `$PnG` becomes `1` where a gain was divided out, and `$PnR` is divided
//!   by the gain;
//! - `$TIMESTEP` becomes `1` where Time was converted to seconds, and the
//!   Time `$PnR` is scaled alike;
//! - the layout keywords (`$DATATYPE`, `$BYTEORD`, `$PnB`, `$TOT`, `$PAR`,
//!   `$MODE`, segment offsets, `$NEXTDATA`) describe the new file.
//!
//! Empty keyword values, which FCS 3.1 forbids, are written as one space.
//!
//! The original value of each rewritten conversion keyword is kept under
//! `MARROWGATE_ORIGINAL_<keyword>` so nothing is lost.
//!
//! [`FcsFile::events`]: super::reader::FcsFile::events

use super::error::{FcsError, Result};
use super::metadata::{Channel, Scale};
use super::text::Keywords;
use ndarray::ArrayView2;
use std::path::Path;

/// Keywords the writer computes; copied source values are dropped.
pub const LAYOUT_KEYWORDS: [&str; 14] = [
    "$BEGINANALYSIS",
    "$ENDANALYSIS",
    "$BEGINSTEXT",
    "$ENDSTEXT",
    "$BEGINDATA",
    "$ENDDATA",
    "$NEXTDATA",
    "$DATATYPE",
    "$BYTEORD",
    "$MODE",
    "$TOT",
    "$PAR",
    "$COMP",
    "$CHECKSUM",
];

/// Width of the self-referencing offset values in TEXT.
const OFFSET_DIGITS: usize = 20;

/// Prefix of keywords that keep a source value the writer had to rewrite.
pub const ORIGINAL_PREFIX: &str = "MARROWGATE_ORIGINAL_";

/// How the DATA segment stores each value (little-endian either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// 32-bit floats (`$DATATYPE F`): every channel value exactly.
    #[default]
    Float32,
    /// 32-bit unsigned integers (`$DATATYPE I`), as integer instruments
    /// (Beckman Navios, Accuri) write them: values are rounded and clamped
    /// to `0..$PnR`.
    UInt32,
}

impl Storage {
    fn datatype(self) -> &'static str {
        match self {
            Storage::Float32 => "F",
            Storage::UInt32 => "I",
        }
    }

    fn push(self, out: &mut Vec<u8>, value: f32, range: f64) {
        match self {
            Storage::Float32 => out.extend_from_slice(&value.to_le_bytes()),
            Storage::UInt32 => {
                let top = (range - 1.0).clamp(0.0, f64::from(u32::MAX));
                let v = f64::from(value).round().clamp(0.0, top);
                // Clamped into u32 range above; NaN clamps to 0.
                let v = if v.is_nan() { 0 } else { v as u32 };
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// Builds the TEXT keywords of the output from the source keywords and
/// channels, for `events` events, stored as 32-bit floats.
pub fn output_keywords(source: &Keywords, channels: &[Channel], events: usize) -> Keywords {
    output_keywords_as(source, channels, events, Storage::Float32)
}

/// [`output_keywords`] for data stored as `storage`.
pub fn output_keywords_as(
    source: &Keywords,
    channels: &[Channel],
    events: usize,
    storage: Storage,
) -> Keywords {
    let mut out = Keywords::new();
    for (k, v) in source.iter() {
        let upper = k.to_ascii_uppercase();
        if LAYOUT_KEYWORDS.contains(&upper.as_str()) || is_stale_parameter(&upper, channels.len()) {
            continue;
        }
        out.set(k, v);
    }
    let keep = |out: &mut Keywords, key: &str, new: String| {
        if let Some(old) = source.get(key)
            && old.trim() != new
        {
            out.set(&format!("{ORIGINAL_PREFIX}{key}"), old);
        }
    };
    let mut plain_time = false;
    for (i, c) in channels.iter().enumerate() {
        let n = i + 1;
        let p = |s: &str| format!("$P{n}{s}");
        out.set(&p("N"), c.name.clone());
        if let Some(marker) = &c.marker
            && source.get(&p("S")).map(str::trim) != Some(marker.as_str())
        {
            out.set(&p("S"), marker.clone());
        }
        out.set(&p("B"), "32");
        let range = match c.scale {
            Scale::Log {
                decades, offset, ..
            } => 10f64.powf(decades) * offset,
            Scale::Gain { gain } => c.range / gain,
            Scale::Time { timestep } => {
                plain_time = true;
                c.range * timestep
            }
            Scale::Identity => c.range,
        };
        let range = format_number(range.ceil().max(1.0));
        keep(&mut out, &p("R"), range.clone());
        out.set(&p("R"), range);
        if source.contains(&p("E")) || c.amplification.is_some() {
            keep(&mut out, &p("E"), "0,0".into());
        }
        out.set(&p("E"), "0,0");
        if c.gain.is_some() {
            let gain = if matches!(c.scale, Scale::Gain { .. }) {
                "1".to_string()
            } else {
                source.get(&p("G")).unwrap_or("1").trim().to_string()
            };
            keep(&mut out, &p("G"), gain.clone());
            out.set(&p("G"), gain);
        }
        for suffix in [
            "V",
            "D",
            "F",
            "L",
            "O",
            "P",
            "T",
            "CALIBRATION",
            "DISPLAY",
            "DATATYPE",
        ] {
            if let Some(v) = source.get(&p(suffix)) {
                out.set(&p(suffix), v);
            }
        }
    }
    if plain_time {
        keep(&mut out, "$TIMESTEP", "1".into());
        out.set("$TIMESTEP", "1");
    }
    out.set("$DATATYPE", storage.datatype());
    out.set("$BYTEORD", "1,2,3,4");
    out.set("$MODE", "L");
    out.set("$PAR", channels.len().to_string());
    out.set("$TOT", events.to_string());
    out
}

/// Whether `key` (upper case) is a `$Pn...` keyword of a channel beyond
/// `par` (one the output does not have).
fn is_stale_parameter(key: &str, par: usize) -> bool {
    let Some(rest) = key.strip_prefix("$P") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == rest.len() {
        return false;
    }
    rest[..digits].parse::<usize>().is_ok_and(|n| n > par)
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Encodes one data set as FCS 3.1 bytes.
///
/// `events` are channel values, events x channels in the order of `channels`.
pub fn encode(source: &Keywords, channels: &[Channel], events: ArrayView2<f32>) -> Result<Vec<u8>> {
    encode_as(source, channels, events, Storage::Float32)
}

/// [`encode`] with the values stored as `storage`.
pub fn encode_as(
    source: &Keywords,
    channels: &[Channel],
    events: ArrayView2<f32>,
    storage: Storage,
) -> Result<Vec<u8>> {
    Ok(encode_data_set(source, channels, events, storage, Header::Fcs3_1)?.bytes)
}

/// The version a data set declares in its HEADER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// `FCS2.0` (the first data set of a Beckman LMD file).
    Fcs2_0,
    /// `FCS3.1`.
    Fcs3_1,
}

/// One data set to write with [`encode_chained`].
pub struct DataSetToWrite<'a> {
    /// Source keywords (see [`output_keywords`]).
    pub keywords: &'a Keywords,
    /// Channels, in column order.
    pub channels: &'a [Channel],
    /// Channel values, events x channels.
    pub events: ArrayView2<'a, f32>,
    /// How the values are stored.
    pub storage: Storage,
    /// The version in its HEADER.
    pub header: Header,
}

/// Several data sets in one file, each pointing to the next with
/// `$NEXTDATA`, as Beckman LMD files hold an FCS 2.0 and an FCS 3.0 set.
pub fn encode_chained(sets: &[DataSetToWrite]) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let mut previous: Option<(usize, usize)> = None;
    for set in sets {
        let start = out.len();
        let encoded = encode_data_set(
            set.keywords,
            set.channels,
            set.events,
            set.storage,
            set.header,
        )?;
        if let Some((previous_start, slot)) = previous {
            let digits = format!("{:0width$}", start - previous_start, width = OFFSET_DIGITS);
            out[slot..slot + OFFSET_DIGITS].copy_from_slice(digits.as_bytes());
        }
        previous = Some((start, start + encoded.next_data_slot));
        out.extend_from_slice(&encoded.bytes);
    }
    Ok(out)
}

/// An encoded data set and where its `$NEXTDATA` digits sit.
struct EncodedDataSet {
    bytes: Vec<u8>,
    next_data_slot: usize,
}

fn encode_data_set(
    source: &Keywords,
    channels: &[Channel],
    events: ArrayView2<f32>,
    storage: Storage,
    header: Header,
) -> Result<EncodedDataSet> {
    let (n_events, n_channels) = events.dim();
    if n_channels != channels.len() {
        return Err(FcsError::Write(format!(
            "{n_channels} event columns for {} channels",
            channels.len()
        )));
    }
    let keywords = output_keywords_as(source, channels, n_events, storage);
    let delimiter = pick_delimiter(&keywords)?;
    let mut body = Vec::new();
    for (k, v) in keywords.iter() {
        push_escaped(&mut body, k.as_bytes(), delimiter);
        body.push(delimiter);
        // FCS 3.1 forbids empty values; a single space stands for "none".
        let v = if v.is_empty() { " " } else { v };
        push_escaped(&mut body, v.as_bytes(), delimiter);
        body.push(delimiter);
    }
    let mut slots = Vec::new();
    for key in [
        "$BEGINDATA",
        "$ENDDATA",
        "$BEGINANALYSIS",
        "$ENDANALYSIS",
        "$BEGINSTEXT",
        "$ENDSTEXT",
        "$NEXTDATA",
    ] {
        body.extend_from_slice(key.as_bytes());
        body.push(delimiter);
        slots.push(body.len());
        body.extend_from_slice(&[b'0'; OFFSET_DIGITS]);
        body.push(delimiter);
    }
    let text_begin = 58usize;
    // The TEXT segment is the delimiter byte followed by `body`.
    let text_end = text_begin + body.len();
    let data_len = n_events * n_channels * 4;
    let data_begin = text_end + 1;
    let data_end = if data_len == 0 {
        0
    } else {
        data_begin + data_len - 1
    };
    // Fill the fixed-width placeholders (analysis and supplemental TEXT: 0).
    for (&slot, value) in slots.iter().zip([data_begin, data_end]) {
        let digits = format!("{value:0width$}", width = OFFSET_DIGITS);
        body[slot..slot + OFFSET_DIGITS].copy_from_slice(digits.as_bytes());
    }
    let header_field = |v: usize| {
        if v > 99_999_999 {
            format!("{:>8}", 0)
        } else {
            format!("{v:>8}")
        }
    };
    let (hdr_data_begin, hdr_data_end) = if data_len == 0 || data_end > 99_999_999 {
        (0, 0)
    } else {
        (data_begin, data_end)
    };
    let mut out = Vec::with_capacity(data_begin + data_len);
    out.extend_from_slice(match header {
        Header::Fcs2_0 => b"FCS2.0    ",
        Header::Fcs3_1 => b"FCS3.1    ",
    });
    for v in [text_begin, text_end, hdr_data_begin, hdr_data_end, 0, 0] {
        out.extend_from_slice(header_field(v).as_bytes());
    }
    out.push(delimiter);
    out.extend_from_slice(&body);
    debug_assert_eq!(out.len(), data_begin);
    let ranges: Vec<f64> = (1..=n_channels)
        .map(|n| {
            keywords
                .get(&format!("$P{n}R"))
                .and_then(|r| r.trim().parse().ok())
                .unwrap_or(f64::from(u32::MAX))
        })
        .collect();
    for row in events.rows() {
        for (&v, &range) in row.iter().zip(&ranges) {
            storage.push(&mut out, v, range);
        }
    }
    // The `$NEXTDATA` digits: one byte of delimiter precedes `body`.
    let next_data_slot = text_begin + 1 + slots[6];
    Ok(EncodedDataSet {
        bytes: out,
        next_data_slot,
    })
}

/// Writes one data set to `path` as FCS 3.1, atomically.
pub fn write(
    path: &Path,
    source: &Keywords,
    channels: &[Channel],
    events: ArrayView2<f32>,
) -> Result<()> {
    let bytes = encode(source, channels, events)?;
    crate::io::write_bytes_atomically(path, &bytes)?;
    Ok(())
}

/// A delimiter byte that no keyword starts or ends with, so doubled-delimiter
/// escaping stays unambiguous; `|` unless impossible.
fn pick_delimiter(keywords: &Keywords) -> Result<u8> {
    const CHOICES: &[u8] = b"|/\\!^~";
    CHOICES
        .iter()
        .copied()
        .find(|&d| {
            keywords.iter().all(|(k, v)| {
                let clean = |s: &str| {
                    !s.is_empty()
                        && s.as_bytes().first() != Some(&d)
                        && s.as_bytes().last() != Some(&d)
                };
                clean(k) && (v.is_empty() || clean(v))
            })
        })
        .ok_or_else(|| {
            FcsError::Write("every candidate delimiter starts or ends some keyword value".into())
        })
}

fn push_escaped(out: &mut Vec<u8>, bytes: &[u8], delimiter: u8) {
    for &b in bytes {
        out.push(b);
        if b == delimiter {
            out.push(delimiter);
        }
    }
}
