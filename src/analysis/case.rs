//! Which files make up a case: sites given one by one (`NAME=FILE`), a case
//! file (TOML or JSON), or a folder of FCS files (one site each).
//!
//! A case file:
//!
//! ```toml
//! case_id = "BMN-2026-001"
//! patient = "anonymised 4-year-old"
//! [[sites]]
//! name = "left iliac"
//! file = "left-iliac.fcs"          # relative to the case file
//! [[sites]]
//! name = "sternum"
//! file = "sternum.fcs"
//! panel = { "PE-A" = "CD10", "APC-A" = "CD38" }   # or a panel file path
//! ```
//!
//! A panel maps channel names (`$PnN`) to markers and wins over the labels;
//! a panel file is a TOML or JSON table of the same form.

use crate::strategy::markers::{Marker, marker_of};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a case could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// A `--site` argument without `NAME=FILE`.
    #[error("--site {0}: expected NAME=FILE")]
    SiteArgument(String),
    /// The case file or folder cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The case or panel file does not parse.
    #[error("{path}: {message}")]
    Syntax {
        /// Path.
        path: PathBuf,
        /// Parser message (with line and column).
        message: String,
    },
    /// A panel entry names no marker marrowgate knows.
    #[error(
        "{path}: panel entry {channel} = {marker:?}: not a marker (expected e.g. CD10, FSC-A, viability)"
    )]
    Panel {
        /// Panel or case file.
        path: PathBuf,
        /// Channel name.
        channel: String,
        /// The marker given.
        marker: String,
    },
    /// Two sites with one name.
    #[error("site name {0:?} is used twice")]
    DuplicateSite(String),
    /// Nothing to analyse.
    #[error("{0}: no sites (no .fcs files, or an empty sites list)")]
    Empty(String),
}

/// One site of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Site name as reported ("left iliac").
    pub name: String,
    /// Its FCS file.
    pub file: PathBuf,
    /// Channel-name -> marker overrides.
    pub panel: Vec<(String, Marker)>,
}

/// All sites of one patient.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Case {
    /// Case identifier, if given.
    pub case_id: Option<String>,
    /// Patient description, if given.
    pub patient: Option<String>,
    /// The sites, in the order given.
    pub sites: Vec<Site>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case_id: Option<String>,
    patient: Option<String>,
    sites: Vec<SiteEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteEntry {
    name: String,
    file: PathBuf,
    panel: Option<PanelEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PanelEntry {
    File(PathBuf),
    Inline(BTreeMap<String, String>),
}

fn read(path: &Path) -> Result<String, CaseError> {
    std::fs::read_to_string(path).map_err(|source| CaseError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Parses TOML or JSON (by extension) into `T`.
fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CaseError> {
    let text = read(path)?;
    let syntax = |message: String| CaseError::Syntax {
        path: path.to_path_buf(),
        message,
    };
    if is_json(path) {
        serde_json::from_str(&text).map_err(|e| syntax(e.to_string()))
    } else {
        toml::from_str(&text).map_err(|e| syntax(e.to_string().trim_end().to_string()))
    }
}

/// Turns `channel -> marker name` pairs into overrides.
fn panel_overrides(
    entries: BTreeMap<String, String>,
    path: &Path,
) -> Result<Vec<(String, Marker)>, CaseError> {
    entries
        .into_iter()
        .map(
            |(channel, marker)| match marker_of(&marker, Some(&marker)) {
                Some(m) => Ok((channel, m)),
                None => Err(CaseError::Panel {
                    path: path.to_path_buf(),
                    channel,
                    marker,
                }),
            },
        )
        .collect()
}

/// Reads a panel file: a TOML or JSON table `channel = marker`.
pub fn read_panel(path: &Path) -> Result<Vec<(String, Marker)>, CaseError> {
    panel_overrides(parse(path)?, path)
}

fn check_unique(case: Case) -> Result<Case, CaseError> {
    let mut seen = std::collections::BTreeSet::new();
    for s in &case.sites {
        if !seen.insert(s.name.as_str()) {
            return Err(CaseError::DuplicateSite(s.name.clone()));
        }
    }
    Ok(case)
}

impl Case {
    /// Sites from `NAME=FILE` arguments, sharing one panel.
    pub fn from_site_arguments(
        args: &[String],
        panel: &[(String, Marker)],
    ) -> Result<Case, CaseError> {
        let sites = args
            .iter()
            .map(|a| match a.split_once('=') {
                Some((name, file)) if !name.trim().is_empty() && !file.is_empty() => Ok(Site {
                    name: name.trim().to_string(),
                    file: PathBuf::from(file),
                    panel: panel.to_vec(),
                }),
                _ => Err(CaseError::SiteArgument(a.clone())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_unique(Case {
            sites,
            ..Case::default()
        })
    }

    /// A case file (TOML, or JSON by extension); site files and panel files
    /// are relative to it.
    pub fn from_file(path: &Path) -> Result<Case, CaseError> {
        let f: CaseFile = parse(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut sites = Vec::with_capacity(f.sites.len());
        for s in f.sites {
            let panel = match s.panel {
                None => Vec::new(),
                Some(PanelEntry::File(p)) => read_panel(&dir.join(p))?,
                Some(PanelEntry::Inline(map)) => panel_overrides(map, path)?,
            };
            sites.push(Site {
                name: s.name,
                file: dir.join(s.file),
                panel,
            });
        }
        if sites.is_empty() {
            return Err(CaseError::Empty(path.display().to_string()));
        }
        check_unique(Case {
            case_id: f.case_id,
            patient: f.patient,
            sites,
        })
    }

    /// Every `.fcs` file of a folder is a site named after the file (sorted
    /// by name); the folder's name is the case id.
    pub fn from_folder(dir: &Path, panel: &[(String, Marker)]) -> Result<Case, CaseError> {
        let io = |source| CaseError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("fcs")))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(CaseError::Empty(dir.display().to_string()));
        }
        let sites = files
            .into_iter()
            .map(|file| Site {
                name: file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                file,
                panel: panel.to_vec(),
            })
            .collect();
        check_unique(Case {
            case_id: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
            patient: None,
            sites,
        })
    }

    /// A folder, or a case file, by what the path is.
    pub fn from_path(path: &Path, panel: &[(String, Marker)]) -> Result<Case, CaseError> {
        if path.is_dir() {
            Case::from_folder(path, panel)
        } else {
            Case::from_file(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mg-case-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn site_arguments_and_their_errors() {
        let c =
            Case::from_site_arguments(&["left iliac=a.fcs".into(), "sternum=b.fcs".into()], &[])
                .expect("parses");
        assert_eq!(c.sites[0].name, "left iliac");
        assert_eq!(c.sites[1].file, PathBuf::from("b.fcs"));
        assert!(matches!(
            Case::from_site_arguments(&["a.fcs".into()], &[]),
            Err(CaseError::SiteArgument(_))
        ));
        assert!(matches!(
            Case::from_site_arguments(&["x=a.fcs".into(), "x=b.fcs".into()], &[]),
            Err(CaseError::DuplicateSite(_))
        ));
    }

    #[test]
    fn toml_and_json_case_files_with_panels() {
        let d = temp("files");
        std::fs::write(d.join("panel.json"), r#"{"FL1": "CD20", "FL4": "7-AAD"}"#).expect("w");
        std::fs::write(
            d.join("case.toml"),
            "case_id = \"C1\"\n[[sites]]\nname = \"left\"\nfile = \"l.fcs\"\npanel = \"panel.json\"\n[[sites]]\nname = \"right\"\nfile = \"r.fcs\"\npanel = { \"PE-A\" = \"CD10\" }\n",
        )
        .expect("w");
        let c = Case::from_path(&d.join("case.toml"), &[]).expect("parses");
        assert_eq!(c.case_id.as_deref(), Some("C1"));
        assert_eq!(c.sites[0].file, d.join("l.fcs"));
        assert!(
            c.sites[0]
                .panel
                .contains(&("FL4".into(), Marker::Viability))
        );
        assert_eq!(c.sites[1].panel, vec![("PE-A".into(), Marker::Cd(10))]);
        std::fs::write(
            d.join("case.json"),
            r#"{"sites": [{"name": "s", "file": "s.fcs"}]}"#,
        )
        .expect("w");
        assert_eq!(
            Case::from_file(&d.join("case.json"))
                .expect("json")
                .sites
                .len(),
            1
        );
        // Errors name the file and what was wrong.
        std::fs::write(d.join("bad.toml"), "[[sites]]\nname = 3\n").expect("w");
        let e = Case::from_file(&d.join("bad.toml"))
            .expect_err("bad")
            .to_string();
        assert!(e.contains("bad.toml") && e.contains("line"), "{e}");
        std::fs::write(
            d.join("badpanel.toml"),
            "[[sites]]\nname = \"a\"\nfile = \"a.fcs\"\npanel = { \"FL1\" = \"banana\" }\n",
        )
        .expect("w");
        let e = Case::from_file(&d.join("badpanel.toml"))
            .expect_err("bad")
            .to_string();
        assert!(e.contains("banana") && e.contains("FL1"), "{e}");
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn mutated_case_files_give_errors_not_panics() {
        let d = temp("mutated");
        let good = b"case_id = \"C\"\n[[sites]]\nname = \"a\"\nfile = \"a.fcs\"\npanel = { \"FL1\" = \"CD19\" }\n";
        let mut rng = crate::simulate::rng::Rng::new(9);
        let (mut ok, mut bad) = (0, 0);
        for i in 0..600 {
            let mut bytes = good.to_vec();
            let edits = 1 + (rng.next_u64() % 4) as usize;
            for _ in 0..edits {
                let at = (rng.next_u64() as usize) % bytes.len();
                match rng.next_u64() % 3 {
                    0 => bytes[at] = rng.next_u64() as u8,
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, b"[]{}=\"\n,"[(rng.next_u64() % 8) as usize]),
                }
                if bytes.is_empty() {
                    bytes.push(b'x');
                }
            }
            let ext = if i % 2 == 0 { "toml" } else { "json" };
            let path = d.join(format!("case.{ext}"));
            std::fs::write(&path, &bytes).expect("writes");
            match Case::from_file(&path) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(e.to_string().contains("case."), "{e}");
                    bad += 1;
                }
            }
        }
        assert!(ok > 0 && bad > 300, "{ok} {bad}");
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn folder_sites_are_named_after_their_files() {
        let d = temp("folder");
        for f in ["sternum.fcs", "left-iliac.FCS", "notes.txt"] {
            std::fs::write(d.join(f), b"x").expect("w");
        }
        let c = Case::from_path(&d, &[]).expect("folder");
        let names: Vec<&str> = c.sites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["left-iliac", "sternum"]);
        assert!(matches!(
            Case::from_folder(&d.join("nope"), &[]),
            Err(CaseError::Io { .. })
        ));
        std::fs::remove_dir_all(d).ok();
    }
}
