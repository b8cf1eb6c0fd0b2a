//! The keyword/value TEXT segments (primary TEXT, supplemental TEXT, ANALYSIS).

use super::error::{FcsError, Result};
use serde::ser::SerializeMap;
use std::collections::HashMap;

/// The keywords of one segment, in file order, looked up case-insensitively.
///
/// Keys keep their spelling from the file (`$P1N`, `@P1GAIN`, `Spill`); the
/// lookup ignores ASCII case as the FCS standard requires. A leading `$` is
/// part of the key: `SPILL` and `$SPILL` are different keywords.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keywords {
    entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

fn normalize(key: &str) -> String {
    key.trim().to_ascii_uppercase()
}

impl Keywords {
    /// An empty keyword set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Value of `key` (case-insensitive), if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.index
            .get(&normalize(key))
            .map(|&i| self.entries[i].1.as_str())
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(&normalize(key))
    }

    /// Sets `key` to `value`; an existing key keeps its position and spelling.
    /// Returns the previous value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> Option<String> {
        let value = value.into();
        match self.index.get(&normalize(key)) {
            Some(&i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.index.insert(normalize(key), self.entries.len());
                self.entries.push((key.to_string(), value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.index.remove(&normalize(key))?;
        let (_, value) = self.entries.remove(i);
        for slot in self.index.values_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(value)
    }

    /// Keys and values in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of keywords.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no keyword.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl serde::Serialize for Keywords {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Decodes keyword bytes: UTF-8 where valid, otherwise Latin-1 (every byte
/// becomes the code point of the same value, so nothing is lost).
pub fn decode_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Parses a keyword segment whose first byte is the delimiter.
///
/// `offset` is the absolute file position of `bytes[0]`, used in messages.
/// Recoverable irregularities are appended to `warnings`.
pub fn parse_segment(bytes: &[u8], offset: u64, warnings: &mut Vec<String>) -> Result<Keywords> {
    let Some(&delimiter) = bytes.first() else {
        return Err(FcsError::Text {
            offset,
            message: "segment is empty; expected a delimiter byte then keyword/value pairs".into(),
        });
    };
    parse_pairs(&bytes[1..], delimiter, offset + 1, warnings)
}

/// Parses `key<d>value<d>key<d>value<d>...` with a known delimiter `d`.
///
/// A doubled delimiter inside a key or value stands for the delimiter itself.
/// A doubled delimiter right after a key is read as an empty value (which the
/// standard forbids but instruments write). Trailing NUL/whitespace padding and
/// a missing final delimiter are tolerated.
pub fn parse_pairs(
    bytes: &[u8],
    delimiter: u8,
    offset: u64,
    warnings: &mut Vec<String>,
) -> Result<Keywords> {
    let mut keywords = Keywords::new();
    let mut key: Option<(Vec<u8>, usize)> = None;
    let mut token = Vec::new();
    let mut token_start = 0usize;
    let mut i = 0usize;
    let mut last_closed = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b != delimiter {
            token.push(b);
            i += 1;
            last_closed = false;
            continue;
        }
        let doubled = bytes.get(i + 1) == Some(&delimiter);
        if doubled && key.is_none() && !token.is_empty() {
            // `key<d><d>`: an empty value follows the key.
            warnings.push(format!(
                "keyword {} at byte {} has an empty value",
                decode_string(&token),
                offset + token_start as u64
            ));
            push_pair(&mut keywords, &token, &[], warnings);
            token.clear();
            i += 2;
            token_start = i;
            last_closed = true;
            continue;
        }
        if doubled {
            token.push(delimiter);
            i += 2;
            last_closed = false;
            continue;
        }
        match key.take() {
            None => key = Some((std::mem::take(&mut token), token_start)),
            Some((k, _)) => {
                push_pair(&mut keywords, &k, &token, warnings);
                token.clear();
            }
        }
        i += 1;
        token_start = i;
        last_closed = true;
    }
    if !last_closed {
        match key.take() {
            Some((k, _)) => {
                warnings.push("TEXT segment does not end with its delimiter".into());
                push_pair(&mut keywords, &k, &token, warnings);
            }
            None => key = Some((std::mem::take(&mut token), token_start)),
        }
    }
    if let Some((k, at)) = key {
        let padding = k.iter().all(|b| b.is_ascii_whitespace() || *b == 0);
        if !padding {
            warnings.push(format!(
                "keyword {} at byte {} has no value; ignored",
                decode_string(&k),
                offset + at as u64
            ));
        }
    }
    if keywords.is_empty() && !bytes.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        return Err(FcsError::Text {
            offset,
            message: format!("no keyword/value pair found with delimiter byte {delimiter:#04x}"),
        });
    }
    Ok(keywords)
}

fn push_pair(keywords: &mut Keywords, key: &[u8], value: &[u8], warnings: &mut Vec<String>) {
    let key = decode_string(key);
    let key_trimmed = key.trim();
    if key_trimmed.is_empty() {
        warnings.push(format!(
            "empty keyword name with value {:?}; ignored",
            decode_string(value)
        ));
        return;
    }
    let value = decode_string(value);
    if let Some(previous) = keywords.set(key_trimmed, value) {
        warnings.push(format!(
            "keyword {key_trimmed} appears more than once; the last value is used (was {previous:?})"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> (Keywords, Vec<String>) {
        let mut w = Vec::new();
        let k = parse_segment(s, 58, &mut w).expect("parses");
        (k, w)
    }

    #[test]
    fn basic_pairs_and_case_insensitive_lookup() {
        let (k, w) = parse(b"/$PAR/2/$p1n/FSC-A/");
        assert!(w.is_empty());
        assert_eq!(k.get("$par"), Some("2"));
        assert_eq!(k.get("$P1N"), Some("FSC-A"));
        assert_eq!(k.iter().next(), Some(("$PAR", "2")));
    }

    #[test]
    fn doubled_delimiter_escapes_inside_value() {
        let (k, _) = parse(b"|$FIL|a||b.fcs|$TOT|5|");
        assert_eq!(k.get("$FIL"), Some("a|b.fcs"));
        assert_eq!(k.get("$TOT"), Some("5"));
    }

    #[test]
    fn empty_value_after_key() {
        let (k, w) = parse(b"\\$SRC\\\\$CYT\\Aria\\");
        assert_eq!(k.get("$SRC"), Some(""));
        assert_eq!(k.get("$CYT"), Some("Aria"));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn missing_trailing_delimiter_and_padding() {
        let (k, w) = parse(b"/A/1/B/2");
        assert_eq!(k.get("B"), Some("2"));
        assert_eq!(w.len(), 1);
        let (k, w) = parse(b"/A/1/   \0\0");
        assert_eq!(k.get("A"), Some("1"));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn latin1_fallback_is_lossless() {
        let (k, _) = parse(b"/$CREATOR/CELLQuest\xaa 3.3/");
        let v = k.get("$CREATOR").expect("present");
        assert_eq!(v, "CELLQuest\u{aa} 3.3");
        let back: Vec<u8> = v.chars().map(|c| c as u32 as u8).collect();
        assert_eq!(back, b"CELLQuest\xaa 3.3");
    }

    #[test]
    fn set_and_remove_keep_order() {
        let mut k = Keywords::new();
        k.set("A", "1");
        k.set("B", "2");
        k.set("C", "3");
        assert_eq!(k.remove("b"), Some("2".into()));
        assert_eq!(k.get("C"), Some("3"));
        k.set("a", "9");
        assert_eq!(k.iter().collect::<Vec<_>>(), vec![("A", "9"), ("C", "3")]);
    }

    #[test]
    fn garbage_is_a_typed_error() {
        let mut w = Vec::new();
        assert!(parse_segment(b"", 10, &mut w).is_err());
        assert!(matches!(
            parse_segment(b"/onlyakey", 10, &mut w),
            Err(FcsError::Text { offset: 11, .. })
        ));
    }
}
