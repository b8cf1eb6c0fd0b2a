//! The fixed-width HEADER segment that opens every FCS data set.

use super::error::{FcsError, Result};
use serde::Serialize;

/// Length of the HEADER up to the end of the ANALYSIS offsets.
pub const HEADER_LEN: usize = 58;

/// FCS standard version a data set declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Version {
    /// FCS 2.0 (1990).
    #[serde(rename = "2.0")]
    Fcs2_0,
    /// FCS 3.0 (1997).
    #[serde(rename = "3.0")]
    Fcs3_0,
    /// FCS 3.1 (2010).
    #[serde(rename = "3.1")]
    Fcs3_1,
    /// FCS 3.2 (2020).
    #[serde(rename = "3.2")]
    Fcs3_2,
}

impl Version {
    /// The version as written in the HEADER, without the `FCS` prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Fcs2_0 => "2.0",
            Version::Fcs3_0 => "3.0",
            Version::Fcs3_1 => "3.1",
            Version::Fcs3_2 => "3.2",
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte range `[begin, end]` (inclusive, as FCS writes it), relative to the
/// start of the data set. `(0, 0)` means "not given here".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Span {
    /// First byte.
    pub begin: u64,
    /// Last byte (inclusive).
    pub end: u64,
}

impl Span {
    /// Whether the span points at something (FCS writes 0/0 for "elsewhere").
    pub fn is_given(self) -> bool {
        !(self.begin == 0 && self.end == 0)
    }

    /// Number of bytes covered, 0 for an empty or inverted span.
    pub fn len(self) -> u64 {
        if self.end >= self.begin {
            self.end - self.begin + 1
        } else {
            0
        }
    }

    /// Whether the span covers no byte.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The parsed HEADER of one data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Declared FCS version.
    pub version: Version,
    /// Primary TEXT segment.
    pub text: Span,
    /// DATA segment as the HEADER states it (may be 0/0 for large files).
    pub data: Span,
    /// ANALYSIS segment as the HEADER states it.
    pub analysis: Span,
}

/// Parses the HEADER at the start of `bytes` (which begins at the data set).
pub fn parse_header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() < HEADER_LEN {
        return Err(FcsError::Header {
            offset: 0,
            message: format!(
                "file holds {} bytes; an FCS HEADER needs {HEADER_LEN}",
                bytes.len()
            ),
        });
    }
    let version = match &bytes[0..6] {
        b"FCS2.0" => Version::Fcs2_0,
        b"FCS3.0" => Version::Fcs3_0,
        b"FCS3.1" => Version::Fcs3_1,
        b"FCS3.2" => Version::Fcs3_2,
        other => {
            return Err(FcsError::Header {
                offset: 0,
                message: format!(
                    "found {:?}; expected FCS2.0, FCS3.0, FCS3.1 or FCS3.2",
                    String::from_utf8_lossy(other)
                ),
            });
        }
    };
    let field = |index: usize| offset_field(bytes, 10 + 8 * index);
    Ok(Header {
        version,
        text: Span {
            begin: field(0)?,
            end: field(1)?,
        },
        data: Span {
            begin: field(2)?,
            end: field(3)?,
        },
        analysis: Span {
            begin: field(4)?,
            end: field(5)?,
        },
    })
}

/// Reads one 8-byte, space-padded ASCII offset; blanks mean 0.
fn offset_field(bytes: &[u8], at: usize) -> Result<u64> {
    let raw = &bytes[at..at + 8];
    let text = std::str::from_utf8(raw).map_err(|_| FcsError::Header {
        offset: at as u64,
        message: format!("offset field {raw:?} is not ASCII"),
    })?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(0);
    }
    trimmed.parse::<u64>().map_err(|_| FcsError::Header {
        offset: at as u64,
        message: format!("offset field {text:?} is not a decimal number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blank_and_padded_offsets() {
        let mut h = b"FCS3.1    ".to_vec();
        h.extend_from_slice(b"      58    1000    1001    2000");
        h.extend_from_slice(b"                0");
        h.extend_from_slice(b"       ");
        let header = parse_header(&h).expect("valid header");
        assert_eq!(header.version, Version::Fcs3_1);
        assert_eq!(
            header.text,
            Span {
                begin: 58,
                end: 1000
            }
        );
        assert_eq!(header.data.len(), 1000);
        assert!(!header.analysis.is_given());
    }

    #[test]
    fn rejects_unknown_version_and_short_input() {
        assert!(matches!(
            parse_header(b"FCS9.9"),
            Err(FcsError::Header { offset: 0, .. })
        ));
        let mut h = b"XYZ3.1    ".to_vec();
        h.resize(HEADER_LEN, b' ');
        assert!(parse_header(&h).is_err());
    }

    #[test]
    fn rejects_garbage_offsets_with_position() {
        let mut h = b"FCS3.0          58     1x0".to_vec();
        h.resize(HEADER_LEN, b' ');
        match parse_header(&h) {
            Err(FcsError::Header { offset, .. }) => assert_eq!(offset, 18),
            other => panic!("unexpected {other:?}"),
        }
    }
}
