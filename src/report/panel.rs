//! `marrowgate panel`: how every channel of a file was understood (role,
//! marker, from which label), and a panel file the user can correct and
//! pass back with `--panel`.

use crate::analysis::case::CaseError;
use crate::fcs::FcsFile;
use crate::strategy::markers::{ChannelReading, Marker, read_channels};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The reading of one file.
#[derive(Debug, Clone, Serialize)]
pub struct PanelReading {
    /// File as given.
    pub file: String,
    /// Instrument (`$CYT`).
    pub cytometer: Option<String>,
    /// Every channel, in file order.
    pub channels: Vec<ChannelReading>,
    /// Required markers not found.
    pub missing: Vec<String>,
    /// Markers claimed by several channels, with the channels.
    pub ambiguous: Vec<String>,
    /// How a claimed marker was resolved.
    pub resolved: Vec<String>,
}

/// Reads a file's channels as the analysis would, with `panel` overrides.
pub fn read_panel_of(
    path: &Path,
    panel: &[(String, Marker)],
) -> Result<PanelReading, crate::fcs::FileError> {
    let file = FcsFile::open(path)?;
    let info = file
        .dataset(file.analysed_dataset())
        .map_err(|source| crate::fcs::FileError {
            path: path.to_path_buf(),
            source,
        })?;
    let channels: Vec<(String, Option<String>)> =
        crate::fcs::metadata::names_and_labels(&info.metadata.channels);
    let (readings, map) = read_channels(&channels, panel);
    Ok(PanelReading {
        file: path.display().to_string(),
        cytometer: info.keywords.get("$CYT").map(str::to_string),
        channels: readings,
        missing: map.missing_required().iter().map(|m| m.name()).collect(),
        ambiguous: map.ambiguous.iter().map(ToString::to_string).collect(),
        resolved: map.resolved.clone(),
    })
}

impl PanelReading {
    /// A table for the terminal.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} ({})",
            self.file,
            self.cytometer.as_deref().unwrap_or("instrument not given")
        );
        let _ = writeln!(
            t,
            "  {:<20} {:<24} {:<10} {:<24} {:<5} from",
            "channel", "label ($PnS)", "marker", "role", "used"
        );
        for c in &self.channels {
            let _ = writeln!(
                t,
                "  {:<20} {:<24} {:<10} {:<24} {:<5} {}",
                c.channel,
                c.label.as_deref().unwrap_or(""),
                c.marker.as_deref().unwrap_or("-"),
                c.role,
                if c.used { "yes" } else { "" },
                c.source
            );
        }
        for r in &self.resolved {
            let _ = writeln!(t, "  resolved: {r}");
        }
        for a in &self.ambiguous {
            let _ = writeln!(t, "  AMBIGUOUS: {a}");
        }
        if !self.missing.is_empty() {
            let _ = writeln!(
                t,
                "  MISSING required: {} (name the channels in the panel file)",
                self.missing.join(", ")
            );
        }
        t
    }

    /// A panel file (TOML `"channel" = "marker"`) of every recognised
    /// channel, unrecognised ones as comments, ready to correct and pass
    /// back with `--panel`.
    pub fn to_panel_toml(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut t = format!(
            "# marrowgate panel for {}\n# one line per channel: \"$PnN\" = \"marker\" (CD19, CD10, FSC-A, SSC-A, Time, viability...).\n# Correct what is wrong, delete what must not be read, and pass it with --panel.\n",
            self.file.replace('\n', " ")
        );
        for c in &self.channels {
            match &c.marker {
                Some(m) => {
                    let _ = writeln!(t, "{} = {}", quote(&c.channel), quote(m));
                }
                None => {
                    let _ = writeln!(
                        t,
                        "# {} = \"\"   # not recognised{}",
                        quote(&c.channel),
                        c.label
                            .as_deref()
                            .map(|l| format!(" (label {})", quote(l)))
                            .unwrap_or_default()
                    );
                }
            }
        }
        for a in &self.ambiguous {
            let _ = writeln!(t, "# AMBIGUOUS: {}", a.replace('\n', " "));
        }
        t
    }
}

/// Checks that a written panel reads back (used by tests and `panel`).
pub fn read_back(path: &Path) -> Result<Vec<(String, Marker)>, CaseError> {
    crate::analysis::case::read_panel(path)
}
