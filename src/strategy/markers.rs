//! Which channel measures which marker, from the labels instruments and
//! FlowJo write: `$PnS` ("CD10 PE", "CD19-PECy7", "CD45 V500-C",
//! "Comp-CD10 PE-A", "7-AAD", "Viability BV421") or, failing that, `$PnN`.

use serde::Serialize;
use std::collections::BTreeMap;

/// What the B-ALL analysis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Marker {
    /// Forward scatter area.
    FscA,
    /// Forward scatter height.
    FscH,
    /// Forward scatter width.
    FscW,
    /// Side scatter area.
    SscA,
    /// Acquisition time.
    Time,
    /// Viability dye (7-AAD, DAPI, PI, fixable dyes).
    Viability,
    /// A CD antigen, by number (CD19 is `Cd(19)`); `CD66c` is `Cd(66)`.
    Cd(u16),
}

impl Marker {
    /// Display name.
    pub fn name(self) -> String {
        match self {
            Marker::FscA => "FSC-A".into(),
            Marker::FscH => "FSC-H".into(),
            Marker::FscW => "FSC-W".into(),
            Marker::SscA => "SSC-A".into(),
            Marker::Time => "Time".into(),
            Marker::Viability => "viability".into(),
            Marker::Cd(66) => "CD66c".into(),
            Marker::Cd(n) => format!("CD{n}"),
        }
    }
}

/// Markers the analysis cannot do without.
pub const REQUIRED: [Marker; 5] = [
    Marker::Cd(19),
    Marker::Cd(10),
    Marker::Cd(45),
    Marker::FscA,
    Marker::SscA,
];

/// Viability dyes, as they appear in labels (upper case, punctuation removed).
const VIABILITY_WORDS: [&str; 12] = [
    "7AAD",
    "DAPI",
    "PI",
    "PROPIDIUMIODIDE",
    "VIABILITY",
    "LIVEDEAD",
    "LIVE/DEAD",
    "FVS",
    "ZOMBIE",
    "EFLUOR780",
    "SYTOX",
    "DRAQ7",
];

/// The marker of one channel, from its labels (`$PnS` first, then `$PnN`).
pub fn marker_of(name: &str, label: Option<&str>) -> Option<Marker> {
    let scatter = scatter_or_time(name);
    if scatter.is_some() {
        return scatter;
    }
    label.and_then(parse_label).or_else(|| parse_label(name))
}

fn scatter_or_time(name: &str) -> Option<Marker> {
    let n = name.trim().to_ascii_uppercase().replace(' ', "-");
    match n.as_str() {
        "TIME" | "HDR-T" => return Some(Marker::Time),
        "FSC-A" | "FS-A" | "FSC" | "FS" | "FS-LIN" | "FSC-LIN" => return Some(Marker::FscA),
        "FSC-H" | "FS-H" => return Some(Marker::FscH),
        "FSC-W" | "FS-W" => return Some(Marker::FscW),
        "SSC-A" | "SS-A" | "SSC" | "SS" | "SS-LIN" | "SSC-LIN" | "SSC-B-A" | "VSSC-A" => {
            return Some(Marker::SscA);
        }
        _ => {}
    }
    None
}

/// Finds a CD number or a viability dye in a label such as "CD10 PE",
/// "CD19-PECy7", "Comp-CD45 V500-C-A", "cd66c/cd123 PE" (first antigen).
fn parse_label(label: &str) -> Option<Marker> {
    let upper = label.to_ascii_uppercase();
    let compact: String = upper
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect();
    if VIABILITY_WORDS.iter().any(|w| {
        let w: String = w
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        // "PI" only as a whole word: it is inside many fluorochrome names.
        if w == "PI" {
            upper
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|t| t == "PI")
        } else {
            compact.contains(&w)
        }
    }) {
        return Some(Marker::Viability);
    }
    let bytes = upper.as_bytes();
    let mut i = 0;
    while i + 2 < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphabetic();
        if boundary && &bytes[i..i + 2] == b"CD" && bytes[i + 2].is_ascii_digit() {
            let digits: String = upper[i + 2..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse::<u16>() {
                return Some(Marker::Cd(n));
            }
        }
        i += 1;
    }
    None
}

/// A channel as error messages list it: `$PnN ($PnS)`, or `$PnN` alone
/// when there is no label.
pub fn describe_channel(name: &str, label: Option<&str>) -> String {
    match label {
        Some(s) if !s.trim().is_empty() => format!("{name} ({s})"),
        _ => name.to_string(),
    }
}

/// The markers found in one file: marker → channel index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MarkerMap {
    /// Channel index (0-based) of each marker found.
    pub channels: BTreeMap<String, usize>,
    #[serde(skip)]
    by_marker: BTreeMap<Marker, usize>,
}

impl MarkerMap {
    /// Reads the markers of channels given as `($PnN, $PnS)`; `overrides`
    /// (e.g. from a panel file) map a channel name to a marker and win over
    /// the labels. The first channel of a marker is kept.
    pub fn from_channels(
        channels: &[(String, Option<String>)],
        overrides: &[(String, Marker)],
    ) -> MarkerMap {
        let mut map = MarkerMap::default();
        for (i, (name, label)) in channels.iter().enumerate() {
            let marker = overrides
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, m)| *m)
                .or_else(|| marker_of(name, label.as_deref()));
            if let Some(m) = marker {
                map.by_marker.entry(m).or_insert(i);
                map.channels.entry(m.name()).or_insert(i);
            }
        }
        map
    }

    /// Channel of `marker`, if present.
    pub fn get(&self, marker: Marker) -> Option<usize> {
        self.by_marker.get(&marker).copied()
    }

    /// Markers found with their channel index.
    pub fn iter(&self) -> impl Iterator<Item = (Marker, usize)> + '_ {
        self.by_marker.iter().map(|(m, &i)| (*m, i))
    }

    /// Required markers that are missing.
    pub fn missing_required(&self) -> Vec<Marker> {
        REQUIRED
            .iter()
            .copied()
            .filter(|m| self.get(*m).is_none())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_real_instruments_and_exports() {
        let cases: [(&str, Option<&str>, Option<Marker>); 16] = [
            ("PE-A", Some("CD10 PE"), Some(Marker::Cd(10))),
            ("PE-Cy7-A", Some("CD19-PECy7"), Some(Marker::Cd(19))),
            ("V500-A", Some("CD45 V500-C"), Some(Marker::Cd(45))),
            ("Comp-PE-A", Some("Comp-CD10 PE-A"), Some(Marker::Cd(10))),
            ("FL3-H", Some("CD3 PerCP"), Some(Marker::Cd(3))),
            ("PerCP-A", Some("7-AAD"), Some(Marker::Viability)),
            ("BV421-A", Some("Viability BV421"), Some(Marker::Viability)),
            ("FL2-A", Some("PI"), Some(Marker::Viability)),
            ("APC-A", Some("CD66c/CD123 APC"), Some(Marker::Cd(66))),
            ("FITC-A", Some("FITC-A"), None),
            ("FSC-A", None, Some(Marker::FscA)),
            ("FS Lin", Some("FS Lin"), Some(Marker::FscA)),
            ("SSC-A", Some(" "), Some(Marker::SscA)),
            ("Time", Some("Time (102.40 sec.)"), Some(Marker::Time)),
            ("CD34 PerCP-Cy5.5", None, Some(Marker::Cd(34))),
            ("G560-A", Some("CD127"), Some(Marker::Cd(127))),
        ];
        for (name, label, expected) in cases {
            assert_eq!(marker_of(name, label), expected, "{name} {label:?}");
        }
        // "PI" inside a word is not propidium iodide.
        assert_eq!(marker_of("X", Some("Pacific Blue")), None);
    }

    #[test]
    fn map_with_overrides_and_missing_markers() {
        let ch = |n: &str, s: Option<&str>| (n.to_string(), s.map(str::to_string));
        let channels = vec![
            ch("FSC-A", None),
            ch("SSC-A", None),
            ch("PE-A", Some("CD10 PE")),
            ch("FL5", Some("mystery")),
        ];
        let m = MarkerMap::from_channels(&channels, &[("FL5".to_string(), Marker::Cd(19))]);
        assert_eq!(m.get(Marker::Cd(19)), Some(3));
        assert_eq!(m.missing_required(), vec![Marker::Cd(45)]);
        assert_eq!(m.channels.get("CD10"), Some(&2));
    }
}
