//! Typed view of the keywords: channels, scaling, acquisition facts.

use super::error::{FcsError, Result};
use super::header::Version;
use super::spillover::{Spillover, find_spillover};
use super::text::Keywords;
use serde::Serialize;

/// How values are stored in DATA ($DATATYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DataType {
    /// Unsigned integers of $PnB bits.
    #[serde(rename = "I")]
    Integer,
    /// IEEE 754 single precision.
    #[serde(rename = "F")]
    Float,
    /// IEEE 754 double precision.
    #[serde(rename = "D")]
    Double,
    /// ASCII digits, fixed width or delimited.
    #[serde(rename = "A")]
    Ascii,
}

impl DataType {
    /// The one-letter $DATATYPE code.
    pub fn code(self) -> &'static str {
        match self {
            DataType::Integer => "I",
            DataType::Float => "F",
            DataType::Double => "D",
            DataType::Ascii => "A",
        }
    }
}

/// Storage width of a channel ($PnB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Bits {
    /// A fixed number of bits (or characters for ASCII data).
    Fixed(u32),
    /// `*`: ASCII values separated by delimiters.
    Delimited,
}

/// Log amplification ($PnE `decades,offset`); decades 0 means linear.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Amplification {
    /// Number of decades (f1).
    pub decades: f64,
    /// Value at raw 0 (f2); 0 in a log channel is read as 1, like flowCore.
    pub offset: f64,
}

impl Amplification {
    /// Whether the channel is log-amplified.
    pub fn is_log(&self) -> bool {
        self.decades > 0.0
    }
}

/// One measured parameter of a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Channel {
    /// 1-based parameter number (the n of $PnN).
    pub number: usize,
    /// Short name ($PnN).
    pub name: String,
    /// Marker / stain label ($PnS), if any.
    pub marker: Option<String>,
    /// Range ($PnR): values are in `[0, range)` for integer data.
    pub range: f64,
    /// Storage width ($PnB).
    pub bits: Bits,
    /// Log amplification ($PnE), if given.
    pub amplification: Option<Amplification>,
    /// Amplifier gain ($PnG), if given.
    pub gain: Option<f64>,
    /// Detector voltage ($PnV), if given.
    pub voltage: Option<f64>,
    /// Suggested display ($PnD), if given.
    pub display: Option<String>,
    /// How stored values become channel values.
    pub scale: Scale,
}

/// `($PnN, $PnS)` of each channel, as marker recognition reads them.
pub fn names_and_labels(channels: &[Channel]) -> Vec<(String, Option<String>)> {
    channels
        .iter()
        .map(|c| (c.name.clone(), c.marker.clone()))
        .collect()
}

impl Channel {
    /// The largest channel value the channel can hold: `$PnR` through its
    /// scale (`10^decades x offset` for log-amplified data, `$PnR / $PnG`
    /// with a gain). Display scales start from it, so a 10-bit, 20-bit or
    /// 22-bit instrument fills its scale.
    pub fn top_value(&self) -> f64 {
        match self.scale {
            Scale::Identity => self.range,
            Scale::Gain { gain } if gain > 0.0 => self.range / gain,
            Scale::Gain { .. } => self.range,
            Scale::Log {
                decades, offset, ..
            } => 10f64.powf(decades) * offset,
            Scale::Time { timestep } if timestep > 0.0 => self.range * timestep,
            Scale::Time { .. } => self.range,
        }
    }
}

/// The conversion from stored values to channel values, as flowCore and
/// FlowKit apply it by default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scale {
    /// Stored value is the channel value.
    Identity,
    /// Divide by the gain $PnG.
    Gain {
        /// $PnG.
        gain: f64,
    },
    /// `10^(decades * x / range) * offset` ($PnE on integer data).
    Log {
        /// $PnE f1.
        decades: f64,
        /// $PnE f2 (0 read as 1).
        offset: f64,
        /// $PnR.
        range: f64,
    },
    /// Multiply by $TIMESTEP (the Time channel).
    Time {
        /// Seconds per tick.
        timestep: f64,
    },
}

impl Scale {
    /// Converts one stored value.
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Scale::Identity => x,
            Scale::Gain { gain } => x / gain,
            Scale::Log {
                decades,
                offset,
                range,
            } => 10f64.powf(decades * x / range) * offset,
            Scale::Time { timestep } => x * timestep,
        }
    }

    /// Whether the conversion changes nothing.
    pub fn is_identity(self) -> bool {
        matches!(self, Scale::Identity)
    }
}

/// Typed metadata of one data set.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    /// Declared FCS version.
    pub version: Version,
    /// $DATATYPE.
    pub datatype: DataType,
    /// $BYTEORD as written.
    pub byteord: String,
    /// $TOT, if present.
    pub tot: Option<u64>,
    /// Parameters, in file order ($PAR of them).
    pub channels: Vec<Channel>,
    /// Spillover matrix, if the file carries one.
    pub spillover: Option<Spillover>,
    /// $TIMESTEP in seconds, if usable.
    pub timestep: Option<f64>,
    /// $CYT (instrument).
    pub cytometer: Option<String>,
    /// $DATE.
    pub date: Option<String>,
    /// $BTIM.
    pub begin_time: Option<String>,
    /// $ETIM.
    pub end_time: Option<String>,
    /// $FIL (original file name).
    pub original_file: Option<String>,
    /// $SRC (specimen source).
    pub source: Option<String>,
}

fn number(keywords: &Keywords, key: &str) -> Result<Option<f64>> {
    match keywords.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| FcsError::InvalidKeyword {
                keyword: key.to_string(),
                value: v.to_string(),
                expected: "a finite number".into(),
            }),
    }
}

/// Reads a non-negative integer keyword.
pub(crate) fn count(keywords: &Keywords, key: &str) -> Result<Option<u64>> {
    match keywords.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| FcsError::InvalidKeyword {
                keyword: key.to_string(),
                value: v.to_string(),
                expected: "a non-negative integer".into(),
            }),
    }
}

fn text(keywords: &Keywords, key: &str) -> Option<String> {
    keywords
        .get(key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl Metadata {
    /// Builds the typed metadata; recoverable oddities go to `warnings`.
    pub fn from_keywords(
        version: Version,
        keywords: &Keywords,
        warnings: &mut Vec<String>,
    ) -> Result<Metadata> {
        let datatype = match keywords
            .get("$DATATYPE")
            .map(|v| v.trim().to_ascii_uppercase())
        {
            Some(v) if v == "I" => DataType::Integer,
            Some(v) if v == "F" => DataType::Float,
            Some(v) if v == "D" => DataType::Double,
            Some(v) if v == "A" => DataType::Ascii,
            Some(v) => {
                return Err(FcsError::InvalidKeyword {
                    keyword: "$DATATYPE".into(),
                    value: v,
                    expected: "I, F, D or A".into(),
                });
            }
            None => {
                return Err(FcsError::MissingKeyword {
                    keyword: "$DATATYPE".into(),
                });
            }
        };
        if let Some(mode) = keywords.get("$MODE") {
            let mode = mode.trim();
            if !mode.eq_ignore_ascii_case("L") {
                return Err(FcsError::Unsupported(format!(
                    "$MODE {mode} (only list mode, L, holds events; C and U histograms are not read)"
                )));
            }
        }
        let par = count(keywords, "$PAR")?.ok_or_else(|| FcsError::MissingKeyword {
            keyword: "$PAR".into(),
        })?;
        // Every parameter needs at least its $PnB keyword, which bounds $PAR
        // by the keyword count and keeps a hostile $PAR from allocating.
        if par == 0 || par as usize > keywords.len() {
            return Err(FcsError::InvalidKeyword {
                keyword: "$PAR".into(),
                value: par.to_string(),
                expected: format!("between 1 and the {} keywords present", keywords.len()),
            });
        }
        let timestep = match keywords.get("$TIMESTEP") {
            None => None,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(t) if t.is_finite() && t > 0.0 => Some(t),
                _ => {
                    warnings.push(format!(
                        "$TIMESTEP {v:?} is not a positive number; Time is left in ticks (timestep 1)"
                    ));
                    None
                }
            },
        };
        let mut channels = Vec::with_capacity(par as usize);
        for n in 1..=par as usize {
            channels.push(channel(keywords, n, datatype, timestep, warnings)?);
        }
        let names: Vec<String> = channels.iter().map(|c| c.name.clone()).collect();
        let markers: Vec<Option<String>> = channels.iter().map(|c| c.marker.clone()).collect();
        let spillover = find_spillover(keywords, &names, &markers, warnings);
        Ok(Metadata {
            version,
            datatype,
            byteord: keywords.get("$BYTEORD").unwrap_or("").trim().to_string(),
            tot: count(keywords, "$TOT")?,
            channels,
            spillover,
            timestep,
            cytometer: text(keywords, "$CYT"),
            date: text(keywords, "$DATE"),
            begin_time: text(keywords, "$BTIM"),
            end_time: text(keywords, "$ETIM"),
            original_file: text(keywords, "$FIL"),
            source: text(keywords, "$SRC"),
        })
    }

    /// Index of the channel whose $PnN is `name` (exact, then case-insensitive).
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channels
            .iter()
            .position(|c| c.name == name)
            .or_else(|| {
                self.channels
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
            })
    }
}

fn channel(
    keywords: &Keywords,
    n: usize,
    datatype: DataType,
    timestep: Option<f64>,
    warnings: &mut Vec<String>,
) -> Result<Channel> {
    let key = |suffix: &str| format!("$P{n}{suffix}");
    let name = match text(keywords, &key("N")) {
        Some(name) => name,
        None => {
            warnings.push(format!("{} is missing; channel named P{n}", key("N")));
            format!("P{n}")
        }
    };
    let bits = match keywords.get(&key("B")).map(str::trim) {
        Some("*") => Bits::Delimited,
        Some(v) => match v.parse::<u32>() {
            Ok(b) if (1..=64).contains(&b) => Bits::Fixed(b),
            _ => {
                return Err(FcsError::InvalidKeyword {
                    keyword: key("B"),
                    value: v.to_string(),
                    expected: "a bit count from 1 to 64, or *".into(),
                });
            }
        },
        None => return Err(FcsError::MissingKeyword { keyword: key("B") }),
    };
    let range = match number(keywords, &key("R")) {
        Ok(Some(r)) if r > 0.0 => r,
        Ok(Some(r)) => {
            warnings.push(format!("{} is {r}; treated as unknown", key("R")));
            0.0
        }
        Ok(None) => {
            warnings.push(format!("{} is missing", key("R")));
            0.0
        }
        Err(_) => {
            warnings.push(format!(
                "{} {:?} is not a number; treated as unknown",
                key("R"),
                keywords.get(&key("R")).unwrap_or("")
            ));
            0.0
        }
    };
    let amplification = match keywords.get(&key("E")) {
        None => None,
        Some(v) => Some(
            parse_amplification(v).ok_or_else(|| FcsError::InvalidKeyword {
                keyword: key("E"),
                value: v.to_string(),
                expected: "two numbers, decades,offset".into(),
            })?,
        ),
    };
    let gain = match number(keywords, &key("G")) {
        Ok(Some(g)) if g > 0.0 => Some(g),
        Ok(Some(g)) => {
            warnings.push(format!("{} is {g}; gain ignored", key("G")));
            None
        }
        Ok(None) => None,
        Err(_) => {
            warnings.push(format!("{} is not a number; gain ignored", key("G")));
            None
        }
    };
    let scale = if super::channel_name::is_time_channel(&name) {
        match timestep {
            Some(t) if t != 1.0 => Scale::Time { timestep: t },
            _ => Scale::Identity,
        }
    } else {
        match amplification {
            Some(a) if a.is_log() => {
                if datatype == DataType::Integer || datatype == DataType::Ascii {
                    if range > 0.0 {
                        Scale::Log {
                            decades: a.decades,
                            offset: a.offset,
                            range,
                        }
                    } else {
                        warnings.push(format!(
                            "{} is log but $P{n}R is unknown; values left as stored",
                            key("E")
                        ));
                        Scale::Identity
                    }
                } else {
                    warnings.push(format!(
                        "{} declares log amplification on {} data; ignored (the standard requires 0,0)",
                        key("E"),
                        datatype.code()
                    ));
                    Scale::Identity
                }
            }
            _ => match gain {
                Some(g) if g != 1.0 => Scale::Gain { gain: g },
                _ => Scale::Identity,
            },
        }
    };
    Ok(Channel {
        number: n,
        name,
        marker: text(keywords, &key("S")),
        range,
        bits,
        amplification,
        gain,
        voltage: number(keywords, &key("V")).ok().flatten(),
        display: text(keywords, &key("D")),
        scale,
    })
}

fn parse_amplification(value: &str) -> Option<Amplification> {
    let (a, b) = value.split_once(',')?;
    let decades: f64 = a.trim().parse().ok()?;
    let mut offset: f64 = b.trim().parse().ok()?;
    if !decades.is_finite() || !offset.is_finite() || decades < 0.0 {
        return None;
    }
    if decades > 0.0 && offset == 0.0 {
        offset = 1.0;
    }
    Some(Amplification { decades, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(pairs: &[(&str, &str)]) -> Keywords {
        let mut k = Keywords::new();
        for (a, b) in pairs {
            k.set(a, *b);
        }
        k
    }

    #[test]
    fn log_gain_and_time_scales() {
        let k = keywords(&[
            ("$DATATYPE", "I"),
            ("$PAR", "3"),
            ("$TIMESTEP", "0.01"),
            ("$P1N", "FL1-H"),
            ("$P1B", "16"),
            ("$P1R", "1024"),
            ("$P1E", "4,0"),
            ("$P2N", "FSC-H"),
            ("$P2B", "16"),
            ("$P2R", "1024"),
            ("$P2G", "4"),
            ("$P3N", "Time"),
            ("$P3B", "16"),
            ("$P3R", "1024"),
        ]);
        let mut w = Vec::new();
        let m = Metadata::from_keywords(Version::Fcs3_0, &k, &mut w).expect("valid");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(m.channels[0].scale.apply(0.0), 1.0);
        assert!((m.channels[0].scale.apply(1024.0) - 1e4).abs() < 1e-9);
        assert_eq!(m.channels[1].scale.apply(8.0), 2.0);
        assert_eq!(m.channels[2].scale.apply(300.0), 3.0);
    }

    #[test]
    fn bad_keywords_are_typed_errors() {
        let base = [("$DATATYPE", "I"), ("$PAR", "1"), ("$P1N", "A")];
        let mut k = keywords(&base);
        k.set("$P1B", "99");
        let err = Metadata::from_keywords(Version::Fcs3_0, &k, &mut Vec::new());
        assert!(matches!(err, Err(FcsError::InvalidKeyword { keyword, .. }) if keyword == "$P1B"));
        let mut k = keywords(&base);
        k.set("$P1B", "16");
        k.set("$MODE", "C");
        assert!(matches!(
            Metadata::from_keywords(Version::Fcs3_0, &k, &mut Vec::new()),
            Err(FcsError::Unsupported(_))
        ));
        let k = keywords(&[("$DATATYPE", "I"), ("$PAR", "1000000")]);
        assert!(Metadata::from_keywords(Version::Fcs3_0, &k, &mut Vec::new()).is_err());
    }
}
