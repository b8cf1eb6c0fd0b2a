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
    /// Side scatter height (recognised, not analysed).
    SscH,
    /// Side scatter width (recognised, not analysed).
    SscW,
    /// Acquisition time.
    Time,
    /// Viability dye (7-AAD, DAPI, PI, fixable dyes).
    Viability,
    /// A CD antigen, by number (CD19 is `Cd(19)`); `CD66c` is `Cd(66)`.
    Cd(u16),
    /// A CD antigen with a letter (CD11b, CD79a, CD66b): a different
    /// antigen from the bare number, never read in its place.
    CdLettered(u16, char),
    /// A named marker that is not a CD number (HLA-DR, kappa, lambda, TdT,
    /// MPO) or the autofluorescence channel of unmixed spectral data:
    /// recognised, not read by the B-ALL analysis.
    Named(&'static str),
}

impl Marker {
    /// Scatter and time are shown linear; everything else is fluorescence.
    pub fn is_scatter_or_time(self) -> bool {
        matches!(
            self,
            Marker::FscA
                | Marker::FscH
                | Marker::FscW
                | Marker::SscA
                | Marker::SscH
                | Marker::SscW
                | Marker::Time
        )
    }

    /// Display name.
    pub fn name(self) -> String {
        match self {
            Marker::FscA => "FSC-A".into(),
            Marker::FscH => "FSC-H".into(),
            Marker::FscW => "FSC-W".into(),
            Marker::SscA => "SSC-A".into(),
            Marker::SscH => "SSC-H".into(),
            Marker::SscW => "SSC-W".into(),
            Marker::Time => "Time".into(),
            Marker::Viability => "viability".into(),
            Marker::Cd(66) => "CD66c".into(),
            Marker::Cd(n) => format!("CD{n}"),
            Marker::CdLettered(n, c) => format!("CD{n}{c}"),
            Marker::Named(name) => name.into(),
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

/// The markers that tell blasts from normal B-cell precursors, read when
/// present (CD10 and CD45 always are).
pub const B_PRECURSOR_MARKERS: [Marker; 11] = [
    Marker::Cd(10),
    Marker::Cd(20),
    Marker::Cd(34),
    Marker::Cd(38),
    Marker::Cd(45),
    Marker::Cd(58),
    Marker::Cd(81),
    Marker::Cd(66),
    Marker::Cd(123),
    Marker::Cd(73),
    Marker::Cd(304),
];

/// B-lineage markers other than CD19: B cells are gated through them
/// when CD19 is lost (after CD19-directed therapy).
pub const B_LINEAGE_ALTERNATIVES: [Marker; 3] =
    [Marker::Cd(22), Marker::Cd(24), Marker::CdLettered(79, 'a')];

/// Pre-gating channels read when present.
pub const PREGATING_OPTIONAL: [Marker; 4] =
    [Marker::FscH, Marker::FscW, Marker::Time, Marker::Viability];

/// Whether the B-ALL analysis reads `m` (required, pre-gating, a
/// B-precursor marker or a B-lineage marker other than CD19).
pub fn is_analysed(m: Marker) -> bool {
    REQUIRED.contains(&m)
        || PREGATING_OPTIONAL.contains(&m)
        || B_PRECURSOR_MARKERS.contains(&m)
        || B_LINEAGE_ALTERNATIVES.contains(&m)
}

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

/// Scatter and time from a channel name as instruments write them:
/// BD, CytoFLEX, Aurora, Attune, MACSQuant, NovoCyte, Accuri (`FSC-A`,
/// `SSC-H`, `FSC-Width`, `SSC-B-A`, `Violet SSC-A`), Beckman Navios,
/// Gallios and Kaluza (`FS INT` area, `FS PEAK` height, `FS TOF` width,
/// `SS INT`), FC500 (`FS Lin`), Sysmex/Partec CyFlow (`FSC`, `SSC`),
/// Sony/Bio-Rad style `FSC LinA` / `SSC LinH`, FlowJo's `Comp-` prefix.
/// Side-scatter variants (`SSC-B-A`, `Violet SSC-A`) are side scatter too:
/// when the plain `SSC-A` is present it is chosen by name (see
/// [`MarkerMap::from_channels`]). Log-amplified scatter copies (`FSC LogA`)
/// are not the scatter the analysis reads.
fn scatter_or_time(name: &str) -> Option<Marker> {
    if crate::fcs::channel_name::is_time_channel(name) {
        return Some(Marker::Time);
    }
    let upper = name.trim().to_ascii_uppercase();
    let n = upper.strip_prefix("COMP-").unwrap_or(&upper);
    // The pulse measure: area, height or width.
    #[derive(PartialEq)]
    enum Pulse {
        Area,
        Height,
        Width,
    }
    const SUFFIXES: [(&str, Pulse); 12] = [
        ("-A", Pulse::Area),
        (" INT", Pulse::Area),
        (" LINA", Pulse::Area),
        (" LIN", Pulse::Area),
        ("-LIN", Pulse::Area),
        ("-H", Pulse::Height),
        (" PEAK", Pulse::Height),
        (" LINH", Pulse::Height),
        ("-W", Pulse::Width),
        ("-WIDTH", Pulse::Width),
        (" WIDTH", Pulse::Width),
        (" TOF", Pulse::Width),
    ];
    let (detector, pulse) = SUFFIXES
        .into_iter()
        .find_map(|(suffix, p)| n.strip_suffix(suffix).map(|d| (d.trim(), p)))
        .unwrap_or((n, Pulse::Area));
    let forward = matches!(detector, "FSC" | "FS");
    let side = matches!(detector, "SSC" | "SS" | "VSSC" | "SSC-B" | "SSC B")
        || detector.ends_with(" SSC")
        || detector.ends_with("-SSC");
    match (forward, side, pulse) {
        (true, _, Pulse::Area) => Some(Marker::FscA),
        (true, _, Pulse::Height) => Some(Marker::FscH),
        (true, _, Pulse::Width) => Some(Marker::FscW),
        (_, true, Pulse::Area) => Some(Marker::SscA),
        (_, true, Pulse::Height) => Some(Marker::SscH),
        (_, true, Pulse::Width) => Some(Marker::SscW),
        _ => None,
    }
}

/// Markers known by name, as they appear in labels (upper case, letters
/// and digits only), and how they are shown.
const NAMED_MARKERS: [(&str, &str); 6] = [
    ("HLADR", "HLA-DR"),
    ("KAPPA", "kappa"),
    ("LAMBDA", "lambda"),
    ("TDT", "TdT"),
    ("MPO", "MPO"),
    ("AUTOFLUORESCENCE", "autofluorescence"),
];

/// Finds a CD number, a viability dye or a named marker in a label such
/// as "CD10 PE", "CD19-PECy7", "Comp-CD45 V500-C-A", "cd66c/cd123 PE"
/// (first antigen), "HLA-DR BV711", "AF-A" (unmixed autofluorescence).
fn parse_label(label: &str) -> Option<Marker> {
    let upper = label.to_ascii_uppercase();
    if matches!(upper.trim(), "AF" | "AF-A" | "AF-H") {
        return Some(Marker::Named("autofluorescence"));
    }
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
        // A word start, or the cytoplasmic prefix of "cyCD79a", "cCD3".
        let word_start = |k: usize| k == 0 || !bytes[k - 1].is_ascii_alphabetic();
        let boundary = word_start(i)
            || (i >= 2 && &bytes[i - 2..i] == b"CY" && word_start(i - 2))
            || (i >= 1 && bytes[i - 1] == b'C' && word_start(i - 1));
        if boundary && &bytes[i..i + 2] == b"CD" && bytes[i + 2].is_ascii_digit() {
            let digits: String = upper[i + 2..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse::<u16>() {
                // A letter right after the number names another antigen
                // (CD11b, CD79a), except CD66c, read as `Cd(66)`; a letter
                // that starts a word ("CD19PE") does not.
                let after = &bytes[i + 2 + digits.len()..];
                let letter = after
                    .first()
                    .filter(|b| b.is_ascii_alphabetic())
                    .filter(|_| after.get(1).is_none_or(|b| !b.is_ascii_alphabetic()));
                return Some(match letter {
                    Some(b'C') if n == 66 => Marker::Cd(66),
                    Some(&c) => Marker::CdLettered(n, c.to_ascii_lowercase() as char),
                    None => Marker::Cd(n),
                });
            }
        }
        i += 1;
    }
    NAMED_MARKERS
        .iter()
        .find(|(word, _)| {
            upper
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                .any(|t| t.replace('-', "") == *word || t.split('-').any(|p| p == *word))
        })
        .map(|(_, name)| Marker::Named(name))
}

/// A channel as error messages list it: `$PnN ($PnS)`, or `$PnN` alone
/// when there is no label.
pub fn describe_channel(name: &str, label: Option<&str>) -> String {
    match label {
        Some(s) if !s.trim().is_empty() => format!("{name} ({s})"),
        _ => name.to_string(),
    }
}

/// How one channel was understood, for `marrowgate panel` and `inspect`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelReading {
    /// `$PnN`.
    pub channel: String,
    /// `$PnS`, if any.
    pub label: Option<String>,
    /// The marker read, if any.
    pub marker: Option<String>,
    /// What the channel is: scatter, time, viability dye, marker, or not
    /// recognised.
    pub role: &'static str,
    /// Where the marker came from: `panel`, `$PnS`, `$PnN`, or the
    /// instrument's naming of scatter and time.
    pub source: &'static str,
    /// Whether the B-ALL analysis reads this channel.
    pub used: bool,
}

/// How every channel of a file is understood (with the panel `overrides`),
/// and the marker map the analysis would use.
pub fn read_channels(
    channels: &[(String, Option<String>)],
    overrides: &[(String, Marker)],
) -> (Vec<ChannelReading>, MarkerMap) {
    let map = MarkerMap::for_analysis(channels, overrides);
    let used: Vec<usize> = map.iter().map(|(_, j)| j).collect();
    let readings = channels
        .iter()
        .enumerate()
        .map(|(i, (name, label))| {
            let (marker, source) = match overrides.iter().find(|(n, _)| n == name) {
                Some((_, m)) => (Some(*m), "panel"),
                None => match scatter_or_time(name) {
                    Some(m) => (Some(m), "instrument naming of scatter and time"),
                    None => match label.as_deref().and_then(parse_label) {
                        Some(m) => (Some(m), "$PnS"),
                        None => (parse_label(name), "$PnN"),
                    },
                },
            };
            let role = match marker {
                Some(Marker::FscA) => "forward scatter area",
                Some(Marker::FscH) => "forward scatter height",
                Some(Marker::FscW) => "forward scatter width",
                Some(Marker::SscA) => "side scatter area",
                Some(Marker::SscH) => "side scatter height",
                Some(Marker::SscW) => "side scatter width",
                Some(Marker::Time) => "time",
                Some(Marker::Viability) => "viability dye",
                Some(Marker::Cd(_) | Marker::CdLettered(..)) => "marker",
                Some(Marker::Named("autofluorescence")) => "autofluorescence",
                Some(Marker::Named(_)) => "marker",
                None => "not recognised",
            };
            ChannelReading {
                channel: name.clone(),
                label: label.clone(),
                marker: marker.map(Marker::name),
                role,
                source: if marker.is_some() { source } else { "" },
                used: used.contains(&i),
            }
        })
        .collect();
    (readings, map)
}

/// Two or more channels that claim one marker, with no rule to choose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ambiguity {
    /// The marker.
    pub marker: String,
    /// The channels, as `$PnN ($PnS)`.
    pub channels: Vec<String>,
}

impl std::fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is claimed by {}; say which one in a panel file (e.g. \"{}\" = \"{}\") and pass it with --panel",
            self.marker,
            self.channels.join(" and "),
            self.channels
                .first()
                .map(|c| c.split(" (").next().unwrap_or(c))
                .unwrap_or(""),
            self.marker
        )
    }
}

/// The markers found in one file: marker → channel index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MarkerMap {
    /// Channel index (0-based) of each marker found.
    pub channels: BTreeMap<String, usize>,
    /// How a marker claimed by several channels was resolved (area over
    /// height of one detector; the scatter channel named exactly).
    pub resolved: Vec<String>,
    /// Markers claimed by several channels with no rule to choose: the
    /// analysis must not guess.
    pub ambiguous: Vec<Ambiguity>,
    #[serde(skip)]
    by_marker: BTreeMap<Marker, usize>,
}

/// The detector of a channel name without its pulse measure: `PE-Cy7-A`
/// and `PE-Cy7-H` are `PE-Cy7`; `FL1 INT` and `FL1 PEAK` are `FL1`. The
/// measure: 0 area (`-A`, `INT`), 1 height (`-H`, `PEAK`), 2 width or
/// other, 3 none.
fn detector_and_measure(name: &str) -> (String, u8) {
    let upper = name.trim().to_ascii_uppercase();
    for (suffix, rank) in [
        ("-A", 0),
        (" INT", 0),
        ("-H", 1),
        (" PEAK", 1),
        ("-W", 2),
        (" TOF", 2),
    ] {
        if let Some(d) = upper.strip_suffix(suffix) {
            return (d.trim().to_string(), rank);
        }
    }
    (upper, 3)
}

impl MarkerMap {
    /// Reads the markers of channels given as `($PnN, $PnS)`; `overrides`
    /// (e.g. from a panel file) map a channel name to a marker and win over
    /// the labels. When several channels claim one marker by their labels:
    /// a panel entry for that marker decides; else the area of one detector
    /// beats its height and width (`PE-Cy7-A` over `PE-Cy7-H`); else a
    /// scatter or time channel named exactly (`SSC-A`) beats its variants
    /// (`SSC-B-A`); else the marker is [`MarkerMap::ambiguous`], never
    /// guessed.
    pub fn from_channels(
        channels: &[(String, Option<String>)],
        overrides: &[(String, Marker)],
    ) -> MarkerMap {
        let mut map = MarkerMap::default();
        let mut claims: BTreeMap<Marker, Vec<usize>> = BTreeMap::new();
        let mut decided: BTreeMap<Marker, usize> = BTreeMap::new();
        for (i, (name, label)) in channels.iter().enumerate() {
            if let Some((_, m)) = overrides.iter().find(|(n, _)| n == name) {
                decided.entry(*m).or_insert(i);
            } else if let Some(m) = marker_of(name, label.as_deref()) {
                claims.entry(m).or_default().push(i);
            }
        }
        let describe = |j: usize| describe_channel(&channels[j].0, channels[j].1.as_deref());
        for (m, list) in claims {
            if decided.contains_key(&m) {
                continue;
            }
            let chosen = match list.as_slice() {
                [one] => Some(*one),
                _ => {
                    let areas: Vec<usize> = {
                        let detectors: Vec<(String, u8)> = list
                            .iter()
                            .map(|&j| detector_and_measure(&channels[j].0))
                            .collect();
                        let one_detector = detectors.iter().all(|d| d.0 == detectors[0].0);
                        if one_detector {
                            list.iter()
                                .zip(&detectors)
                                .filter(|(_, d)| d.1 == 0)
                                .map(|(j, _)| *j)
                                .collect()
                        } else {
                            Vec::new()
                        }
                    };
                    let exact: Vec<usize> = list
                        .iter()
                        .copied()
                        .filter(|&j| {
                            m.is_scatter_or_time()
                                && channels[j].0.trim().eq_ignore_ascii_case(&m.name())
                        })
                        .collect();
                    let all = list
                        .iter()
                        .map(|&j| describe(j))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let rule = match (areas.as_slice(), exact.as_slice()) {
                        ([a], _) => Some((*a, "area channel", "of one detector's ")),
                        (_, [e]) => Some((*e, "channel named exactly", "of ")),
                        _ => None,
                    };
                    if let Some((j, why, among)) = rule {
                        map.resolved.push(format!(
                            "{}: {why} {} used ({among}{all})",
                            m.name(),
                            describe(j)
                        ));
                        Some(j)
                    } else {
                        map.ambiguous.push(Ambiguity {
                            marker: m.name(),
                            channels: list.iter().map(|&j| describe(j)).collect(),
                        });
                        None
                    }
                }
            };
            if let Some(j) = chosen {
                decided.insert(m, j);
            }
        }
        for (m, j) in decided {
            map.by_marker.insert(m, j);
            map.channels.insert(m.name(), j);
        }
        map
    }

    /// The markers the B-ALL analysis reads ([`is_analysed`]), from the
    /// labels and `overrides` as [`MarkerMap::from_channels`] reads them.
    pub fn for_analysis(
        channels: &[(String, Option<String>)],
        overrides: &[(String, Marker)],
    ) -> MarkerMap {
        let mut map = MarkerMap::from_channels(channels, overrides);
        map.retain(is_analysed);
        map
    }

    /// Keeps only the markers (and ambiguities) that `keep` accepts: what
    /// an analysis does not read needs no channel and cannot be ambiguous.
    pub fn retain(&mut self, keep: impl Fn(Marker) -> bool) {
        self.by_marker.retain(|m, _| keep(*m));
        let names: Vec<String> = self.by_marker.keys().map(|m| m.name()).collect();
        self.channels.retain(|n, _| names.contains(n));
        // A marker's display name reads back as that marker.
        self.ambiguous
            .retain(|a| marker_of(&a.marker, Some(&a.marker)).is_some_and(&keep));
    }

    /// Channel of `marker`, if present.
    pub fn get(&self, marker: Marker) -> Option<usize> {
        self.by_marker.get(&marker).copied()
    }

    /// Markers found with their channel index.
    pub fn iter(&self) -> impl Iterator<Item = (Marker, usize)> + '_ {
        self.by_marker.iter().map(|(m, &i)| (*m, i))
    }

    /// Required markers that are missing (an ambiguous marker is not
    /// missing: it is reported as ambiguous).
    pub fn missing_required(&self) -> Vec<Marker> {
        REQUIRED
            .iter()
            .copied()
            .filter(|m| {
                self.get(*m).is_none() && !self.ambiguous.iter().any(|a| a.marker == m.name())
            })
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
        // Scatter and time as each instrument family names them.
        let scatter: [(&str, Option<Marker>); 24] = [
            ("FS INT", Some(Marker::FscA)),
            ("FS PEAK", Some(Marker::FscH)),
            ("FS TOF", Some(Marker::FscW)),
            ("SS INT", Some(Marker::SscA)),
            ("SS PEAK", Some(Marker::SscH)),
            ("FSC-Width", Some(Marker::FscW)),
            ("Violet SSC-A", Some(Marker::SscA)),
            ("SSC-B-A", Some(Marker::SscA)),
            ("SSC-B-H", Some(Marker::SscH)),
            ("FSC", Some(Marker::FscA)),
            ("SSC", Some(Marker::SscA)),
            ("FSC LinA", Some(Marker::FscA)),
            ("SSC LinH", Some(Marker::SscH)),
            ("FSC LogA", None),
            ("Comp-FSC-A", Some(Marker::FscA)),
            ("SSC-W", Some(Marker::SscW)),
            ("TIME", Some(Marker::Time)),
            ("FL1 INT", None),
            ("BL1-A", None),
            ("V1-A", None),
            ("PB450-A", None),
            ("AF-A", Some(Marker::Named("autofluorescence"))),
            ("FSC-H", Some(Marker::FscH)),
            ("SS Lin", Some(Marker::SscA)),
        ];
        for (name, expected) in scatter {
            assert_eq!(marker_of(name, None), expected, "{name}");
        }
        // Markers as MACSQuant, Kaluza and spectral labels write them.
        assert_eq!(
            marker_of("V2-A", Some("CD45-VioGreen")),
            Some(Marker::Cd(45))
        );
        assert_eq!(marker_of("FL5 INT", Some("CD19-PC7")), Some(Marker::Cd(19)));
        assert_eq!(marker_of("Comp-CD10 APC-A", None), Some(Marker::Cd(10)));
    }

    #[test]
    fn lettered_and_named_antigens_are_their_own_markers() {
        let of = |label: &str| marker_of("X-A", Some(label));
        // CD66b (granulocytes) is not CD66c; CD11b is not CD11.
        assert_eq!(of("CD66b FITC"), Some(Marker::CdLettered(66, 'b')));
        assert_eq!(of("CD66c/CD123 PE"), Some(Marker::Cd(66)));
        assert_eq!(of("CD11b PE-Fire 810"), Some(Marker::CdLettered(11, 'b')));
        assert_eq!(of("cyCD79a APC"), Some(Marker::CdLettered(79, 'a')));
        assert_eq!(of("CD19PE"), Some(Marker::Cd(19)));
        assert_eq!(of("HLA-DR BV711"), Some(Marker::Named("HLA-DR")));
        assert_eq!(of("Kappa FITC"), Some(Marker::Named("kappa")));
        assert_eq!(of("anti-Lambda PE"), Some(Marker::Named("lambda")));
        assert_eq!(
            marker_of("AF-A", None),
            Some(Marker::Named("autofluorescence"))
        );
        // A dye abbreviation is not autofluorescence.
        assert_eq!(marker_of("AF647-A", None), None);
        for m in [Marker::CdLettered(11, 'b'), Marker::Named("HLA-DR")] {
            assert_eq!(marker_of(&m.name(), Some(&m.name())), Some(m));
        }
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

    #[test]
    fn a_marker_claimed_twice_is_resolved_by_rule_or_reported() {
        let ch = |n: &str, s: Option<&str>| (n.to_string(), s.map(str::to_string));
        // Two detectors labelled CD19: ambiguous, both named.
        let two = vec![ch("PE-Cy7-A", Some("CD19")), ch("FITC-A", Some("CD19"))];
        let m = MarkerMap::from_channels(&two, &[]);
        assert_eq!(m.get(Marker::Cd(19)), None);
        assert_eq!(m.ambiguous.len(), 1);
        let text = m.ambiguous[0].to_string();
        assert!(
            text.contains("PE-Cy7-A (CD19) and FITC-A (CD19)") && text.contains("--panel"),
            "{text}"
        );
        assert!(m.missing_required().iter().all(|x| *x != Marker::Cd(19)));
        // A panel entry decides.
        let m = MarkerMap::from_channels(&two, &[("FITC-A".into(), Marker::Cd(19))]);
        assert_eq!(m.get(Marker::Cd(19)), Some(1));
        assert!(m.ambiguous.is_empty());
        // Area and height of one detector: area, stated.
        let ah = vec![ch("PE-Cy7-H", Some("CD19")), ch("PE-Cy7-A", Some("CD19"))];
        let m = MarkerMap::from_channels(&ah, &[]);
        assert_eq!(m.get(Marker::Cd(19)), Some(1));
        assert!(m.resolved[0].contains("area channel PE-Cy7-A"));
        let beckman = vec![ch("FL1 PEAK", Some("CD10")), ch("FL1 INT", Some("CD10"))];
        assert_eq!(
            MarkerMap::from_channels(&beckman, &[]).get(Marker::Cd(10)),
            Some(1)
        );
        // Scatter named exactly beats its variants.
        let ssc = vec![ch("SSC-B-A", None), ch("SSC-A", None)];
        assert_eq!(
            MarkerMap::from_channels(&ssc, &[]).get(Marker::SscA),
            Some(1)
        );
        // What the analysis does not read is dropped, ambiguity included.
        let mut m = MarkerMap::from_channels(
            &[
                ch("A", Some("CD3")),
                ch("B", Some("CD3")),
                ch("C", Some("CD19")),
            ],
            &[],
        );
        m.retain(is_analysed);
        assert!(m.ambiguous.is_empty() && m.get(Marker::Cd(19)) == Some(2));
    }
}
