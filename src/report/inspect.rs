//! `inspect`: what a file holds, as data (JSON) and as a terminal table.

use crate::fcs::stats::{ChannelStats, channel_stats};
use crate::fcs::{FcsFile, FileError, Spillover};
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;

/// One channel as `inspect` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelSummary {
    /// $PnN.
    pub name: String,
    /// $PnS, if any.
    pub marker: Option<String>,
    /// $PnR.
    pub range: f64,
    /// $PnB (bits, or `*`).
    pub bits: String,
    /// `linear`, or `log decades=D offset=O`.
    pub amplification: String,
    /// $PnG, if given.
    pub gain: Option<f64>,
    /// How the analysis understands the channel: its role, and the marker
    /// with the label it came from ("CD19 ($PnS)", "forward scatter
    /// area", "not recognised").
    pub understood: String,
}

/// Each channel as the analysis reads it, in words.
fn understood(channels: &[crate::fcs::Channel]) -> Vec<String> {
    let pairs = crate::fcs::metadata::names_and_labels(channels);
    crate::strategy::markers::read_channels(&pairs, &[])
        .0
        .into_iter()
        .map(|r| match (r.role, r.marker) {
            ("marker" | "viability dye", Some(m)) => format!("{m} ({})", r.source),
            (role, _) => role.to_string(),
        })
        .collect()
}

/// The summary of one data set of one file.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// Path as given.
    pub file: String,
    /// FCS version of the data set.
    pub version: String,
    /// $CYT, if any.
    pub cytometer: Option<String>,
    /// Data set shown (0-based).
    pub dataset: usize,
    /// Number of data sets in the file.
    pub datasets: usize,
    /// Events of the data set.
    pub event_count: usize,
    /// $DATATYPE.
    pub datatype: String,
    /// $BYTEORD.
    pub byteord: String,
    /// Channels in file order.
    pub channels: Vec<ChannelSummary>,
    /// Spillover matrix with its channel names, if any.
    pub spillover: Option<Spillover>,
    /// $DATE, $BTIM, $ETIM as written.
    pub date: Option<String>,
    /// $BTIM.
    pub begin_time: Option<String>,
    /// $ETIM.
    pub end_time: Option<String>,
    /// Irregularities the reader recovered from.
    pub warnings: Vec<String>,
    /// Per-channel statistics over all events (`--stats`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Vec<ChannelStats>>,
}

/// Inspects data set `dataset` of `path`; `with_stats` reads all events.
pub fn inspect(path: &Path, dataset: usize, with_stats: bool) -> Result<InspectReport, FileError> {
    let fcs = FcsFile::open(path)?;
    let wrap = |source| FileError {
        path: path.to_path_buf(),
        source,
    };
    let info = fcs.dataset(dataset).map_err(wrap)?;
    let m = &info.metadata;
    let stats = if with_stats {
        Some(channel_stats(&fcs, dataset).map_err(wrap)?)
    } else {
        None
    };
    Ok(InspectReport {
        file: path.display().to_string(),
        version: m.version.to_string(),
        cytometer: m.cytometer.clone(),
        dataset,
        datasets: fcs.datasets().len(),
        event_count: info.event_count,
        datatype: m.datatype.code().to_string(),
        byteord: m.byteord.clone(),
        channels: m
            .channels
            .iter()
            .zip(understood(&m.channels))
            .map(|(c, understood)| ChannelSummary {
                understood,
                name: c.name.clone(),
                marker: c.marker.clone(),
                range: c.range,
                bits: match c.bits {
                    crate::fcs::Bits::Fixed(b) => b.to_string(),
                    crate::fcs::Bits::Delimited => "*".into(),
                },
                amplification: match c.amplification {
                    Some(a) if a.is_log() => {
                        format!("log decades={} offset={}", a.decades, a.offset)
                    }
                    _ => "linear".into(),
                },
                gain: c.gain,
            })
            .collect(),
        spillover: m.spillover.clone(),
        date: m.date.clone(),
        begin_time: m.begin_time.clone(),
        end_time: m.end_time.clone(),
        warnings: info.warnings.clone(),
        stats,
    })
}

impl InspectReport {
    /// Human-readable rendering for the terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}", self.file);
        let _ = writeln!(
            s,
            "  FCS {}  instrument {}  data set {} of {}  events {}  $DATATYPE {}  $BYTEORD {}",
            self.version,
            self.cytometer.as_deref().unwrap_or("-"),
            self.dataset + 1,
            self.datasets,
            self.event_count,
            self.datatype,
            self.byteord
        );
        if let Some(date) = &self.date {
            let _ = writeln!(
                s,
                "  acquired {date} {}-{}",
                self.begin_time.as_deref().unwrap_or("?"),
                self.end_time.as_deref().unwrap_or("?")
            );
        }
        let name_w = self
            .channels
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let marker_w = self
            .channels
            .iter()
            .map(|c| c.marker.as_deref().unwrap_or("-").chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = write!(
            s,
            "  {:>3}  {:<name_w$}  {:<marker_w$}  {:>10}  {:>4}  {:<28}  {:<26}",
            "#", "name", "marker", "range", "bits", "amplification", "understood as"
        );
        if self.stats.is_some() {
            let _ = write!(
                s,
                "  {:>12}  {:>12}  {:>12}  {:>7}  {:>7}",
                "min", "max", "mean", "sat%", "neg%"
            );
        }
        s.push('\n');
        for (i, c) in self.channels.iter().enumerate() {
            let _ = write!(
                s,
                "  {:>3}  {:<name_w$}  {:<marker_w$}  {:>10}  {:>4}  {:<28}  {:<26}",
                i + 1,
                c.name,
                c.marker.as_deref().unwrap_or("-"),
                c.range,
                c.bits,
                c.amplification,
                c.understood
            );
            if let Some(st) = self.stats.as_ref().and_then(|v| v.get(i)) {
                let _ = write!(
                    s,
                    "  {:>12.6}  {:>12.6}  {:>12.6}  {:>7.3}  {:>7.3}",
                    st.min, st.max, st.mean, st.saturated_percent, st.negative_percent
                );
            }
            s.push('\n');
        }
        match &self.spillover {
            Some(sp) => {
                let _ = writeln!(
                    s,
                    "  spillover: {} x {} from {} ({})",
                    sp.channels.len(),
                    sp.channels.len(),
                    sp.keyword,
                    sp.channels.join(", ")
                );
            }
            None => s.push_str("  spillover: none\n"),
        }
        if self.warnings.is_empty() {
            s.push_str("  warnings: none\n");
        } else {
            for w in &self.warnings {
                let _ = writeln!(s, "  warning: {w}");
            }
        }
        s
    }
}
