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
    /// A site name that cannot be shown or filed.
    #[error("site name {name:?}: {problem}")]
    SiteName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A case or panel file that is not a regular file, or too large.
    #[error("{path}: {message}")]
    NotACaseFile {
        /// Path.
        path: PathBuf,
        /// Why it is refused.
        message: String,
    },
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

/// A site as a case file gives it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteEntry {
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

/// Case and panel files are small text files; anything larger is refused
/// rather than read until memory runs out.
pub const MAX_CASE_FILE_BYTES: u64 = 4 << 20;

/// Reads a case or panel file: a regular file (not a FIFO, a device or a
/// folder) of at most [`MAX_CASE_FILE_BYTES`], in UTF-8.
fn read(path: &Path) -> Result<String, CaseError> {
    use std::io::Read as _;
    let io = |source| CaseError::Io {
        path: path.to_path_buf(),
        source,
    };
    let refuse = |message: String| CaseError::NotACaseFile {
        path: path.to_path_buf(),
        message,
    };
    // Checked before opening: opening a FIFO for reading blocks.
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(kind) = crate::io::not_regular(&meta) {
        return Err(refuse(format!(
            "the path is {kind}, not a regular file; expected a TOML or JSON file"
        )));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_CASE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CASE_FILE_BYTES {
        return Err(refuse(format!(
            "larger than {} bytes; a case or panel file is a short text file",
            MAX_CASE_FILE_BYTES
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        refuse(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Parses TOML or JSON (by extension) into `T`.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CaseError> {
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

/// Longest site name accepted, in characters.
pub const MAX_SITE_NAME_CHARS: usize = 200;

/// Checks that a site name can be shown and filed: not empty or blank, no
/// control characters, at most [`MAX_SITE_NAME_CHARS`] characters.
pub fn check_site_name(name: &str) -> Result<(), CaseError> {
    let problem = if name.trim().is_empty() {
        Some("empty or blank; give every site a name")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters (tabs, newlines, escapes)")
    } else if name.chars().count() > MAX_SITE_NAME_CHARS {
        Some("longer than 200 characters")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(CaseError::SiteName {
            name: name.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

/// The sites of a case file at `path` (site files and panel files are
/// relative to it): at least one.
pub(crate) fn sites_of(entries: Vec<SiteEntry>, path: &Path) -> Result<Vec<Site>, CaseError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut sites = Vec::with_capacity(entries.len());
    for s in entries {
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
    Ok(sites)
}

/// Checks every site name, and that no two are the same.
pub(crate) fn check_names(case: Case) -> Result<Case, CaseError> {
    let mut seen = std::collections::BTreeSet::new();
    for s in &case.sites {
        check_site_name(&s.name)?;
        if !seen.insert(s.name.as_str()) {
            return Err(CaseError::DuplicateSite(s.name.clone()));
        }
    }
    Ok(case)
}

/// The file name (without extension) of a site's outputs: its position in
/// the case (so names never collide, whatever the site names are) and its
/// name in letters and digits of any script, '-' and '_' (so it stays
/// readable), at most 60 bytes: `01-left_iliac`, `02-左腸骨`.
pub fn output_name(index: usize, sites: usize, name: &str) -> String {
    let width = sites.to_string().len().max(2);
    let mut stem = String::new();
    for c in name.chars() {
        let c = if c.is_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        };
        if c == '_' && stem.ends_with('_') {
            continue;
        }
        if stem.len() + c.len_utf8() > 60 {
            break;
        }
        stem.push(c);
    }
    let stem = stem.trim_matches('_');
    if stem.is_empty() {
        format!("{:0width$}-site", index + 1)
    } else {
        format!("{:0width$}-{stem}", index + 1)
    }
}

/// Where a site's automated gates are written as Gating-ML, relative to
/// the output folder: beside its other outputs, under its output name.
pub fn gating_ml_path(output_name: &str) -> String {
    format!("gating/{output_name}.xml")
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
        check_names(Case {
            sites,
            ..Case::default()
        })
    }

    /// A case file (TOML, or JSON by extension); site files and panel files
    /// are relative to it.
    pub fn from_file(path: &Path) -> Result<Case, CaseError> {
        let f: CaseFile = parse(path)?;
        let sites = sites_of(f.sites, path)?;
        check_names(Case {
            case_id: f.case_id,
            patient: f.patient,
            sites,
        })
    }

    /// Every `.fcs` or `.lmd` file of a folder is a site named after the file (sorted
    /// by name); the folder's name is the case id. Hidden files (`.name`,
    /// among them macOS `._name.fcs` resource forks) and marrowgate's own
    /// outputs (`*.blasts.fcs`) are not sites; an entry that cannot be
    /// opened (a broken link, no permission) stays a site, and its error is
    /// reported as that site's, never dropped.
    pub fn from_folder(dir: &Path, panel: &[(String, Marker)]) -> Result<Case, CaseError> {
        let io = |source| CaseError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let lower = name.to_lowercase();
            // FCS files, and Beckman's `.lmd` (FCS data sets in one file).
            let fcs = lower.ends_with(".fcs") || lower.ends_with(".lmd");
            if name.starts_with('.') || !fcs || lower.ends_with(".blasts.fcs") {
                continue;
            }
            let path = entry.path();
            // Folders named *.fcs or *.lmd are not sites; anything else is (a broken
            // link fails to open and says so as that site's error).
            if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            files.push(path);
        }
        files.sort();
        if files.is_empty() {
            return Err(CaseError::Empty(dir.display().to_string()));
        }
        let sites = files
            .into_iter()
            .map(|file| Site::named_after(file, panel))
            .collect();
        check_names(Case {
            case_id: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
            patient: None,
            sites,
        })
    }

    /// A folder, a case file, or one FCS file (a case of one site named
    /// after it, as a lab drops a single tube), by what the path is.
    pub fn from_path(path: &Path, panel: &[(String, Marker)]) -> Result<Case, CaseError> {
        if path.is_dir() {
            Case::from_folder(path, panel)
        } else if starts_like_fcs(path) {
            Ok(Case {
                case_id: path.file_stem().map(|n| n.to_string_lossy().into_owned()),
                patient: None,
                sites: vec![Site::named_after(path.to_path_buf(), panel)],
            })
        } else {
            Case::from_file(path)
        }
    }
}

/// Whether a regular file begins with an FCS version ("FCS2.0",
/// "FCS3.1"...). Anything else (a FIFO, a device) is never opened here:
/// reading one could block or never end.
fn starts_like_fcs(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = [0u8; 3];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| &head == b"FCS")
}

impl Site {
    /// A site named after its file's stem.
    fn named_after(file: PathBuf, panel: &[(String, Marker)]) -> Site {
        Site {
            name: file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file,
            panel: panel.to_vec(),
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
    fn one_fcs_file_is_a_case_of_one_site_named_after_it() {
        let d = temp("single");
        let file = d.join("left iliac.fcs");
        std::fs::write(&file, b"FCS3.1    ").expect("w");
        let c = Case::from_path(&file, &[]).expect("one site");
        assert_eq!(c.sites.len(), 1);
        assert_eq!(c.sites[0].name, "left iliac");
        assert_eq!(c.sites[0].file, file);
        // Anything else is still read as a case file, and says why not.
        let text = d.join("notes.txt");
        std::fs::write(&text, "not a case").expect("w");
        assert!(Case::from_path(&text, &[]).is_err());
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
        let mut rng = crate::rng::Rng::new(9);
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

    #[test]
    fn output_names_are_unique_readable_and_bounded() {
        assert_eq!(output_name(0, 3, "left iliac"), "01-left_iliac");
        assert_eq!(output_name(1, 3, "左腸骨"), "02-左腸骨");
        assert_eq!(output_name(2, 3, "left/iliac"), "03-left_iliac");
        assert_eq!(output_name(0, 1, "../.."), "01-site");
        assert_eq!(output_name(99, 120, "x"), "100-x");
        let long = output_name(0, 1, &"長".repeat(150));
        assert!(long.len() <= 64 && long.starts_with("01-長"), "{long}");
        assert!(check_site_name("sternum").is_ok());
        for bad in ["", "  ", "a\nb", "a\u{1b}b", &"x".repeat(201)] {
            assert!(
                matches!(check_site_name(bad), Err(CaseError::SiteName { .. })),
                "{bad:?}"
            );
        }
    }
}
