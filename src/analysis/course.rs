//! A patient's course: the time points of `marrowgate follow`, each with
//! a label, a date and its sites, read from a TOML (or JSON) file.
//!
//! ```toml
//! patient = "anonymised"
//! [[timepoints]]
//! label = "diagnosis"
//! date = "2026-01-12"
//! [[timepoints.sites]]
//! name = "left iliac"
//! file = "dx-left-iliac.fcs"        # relative to the course file
//! [[timepoints]]
//! label = "day 33"
//! date = "2026-02-14"
//! cd19_directed_therapy = false     # true after blinatumomab / CD19 CAR-T
//! [[timepoints.sites]]
//! name = "left iliac"
//! file = "d33-left-iliac.fcs"
//! panel = { "PE-A" = "CD10" }       # or a panel file, as in `analyze`
//! ```
//!
//! The diagnostic time point (`diagnosis = true`, or else the first) gives
//! the leukaemia-associated phenotype the later ones are searched for.

use super::case::{Case, CaseError, SiteEntry, check_names, check_site_name, parse, sites_of};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Why a course file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// The file, a site or a panel of it.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// A time point that cannot be used as given.
    #[error("{path}: time point {label:?}: {problem}")]
    TimePoint {
        /// Course file.
        path: PathBuf,
        /// Its label as given.
        label: String,
        /// What is wrong.
        problem: String,
    },
    /// No time points.
    #[error("{0}: no time points (expected at least one [[timepoints]] with its sites)")]
    Empty(PathBuf),
}

/// One time point: a marrow (one or more sites or tubes) on one date.
#[derive(Debug, Clone, PartialEq)]
pub struct TimePoint {
    /// "diagnosis", "day 15", "after blinatumomab"...
    pub label: String,
    /// ISO date, `YYYY-MM-DD`.
    pub date: String,
    /// Given after CD19-directed therapy (blinatumomab, CD19 CAR-T): the
    /// leukaemia may have lost CD19.
    pub cd19_directed_therapy: bool,
    /// Its sites, as a case.
    pub case: Case,
}

/// The course of one patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    /// Case identifier, if given.
    pub case_id: Option<String>,
    /// Patient description, if given.
    pub patient: Option<String>,
    /// The time points, in date order.
    pub timepoints: Vec<TimePoint>,
    /// Index of the diagnostic time point in `timepoints`.
    pub diagnosis: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CourseFile {
    case_id: Option<String>,
    patient: Option<String>,
    #[serde(default)]
    timepoints: Vec<TimePointEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimePointEntry {
    label: String,
    date: String,
    #[serde(default)]
    diagnosis: bool,
    #[serde(default)]
    cd19_directed_therapy: bool,
    #[serde(default)]
    sites: Vec<SiteEntry>,
}

/// Whether `date` is a calendar date written `YYYY-MM-DD`.
fn is_iso_date(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = date.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

impl Course {
    /// Reads a course file (TOML, or JSON by extension). Labels are
    /// checked as site names are and must differ; dates are `YYYY-MM-DD`
    /// and may not go back in time (a course out of order is refused, not
    /// re-sorted: the timeline must be the one the lab meant); at most one
    /// time point is the diagnosis.
    pub fn from_file(path: &Path) -> Result<Course, CourseError> {
        let f: CourseFile = parse(path)?;
        if f.timepoints.is_empty() {
            return Err(CourseError::Empty(path.to_path_buf()));
        }
        let problem = |label: &str, problem: String| CourseError::TimePoint {
            path: path.to_path_buf(),
            label: label.to_string(),
            problem,
        };
        let mut timepoints: Vec<TimePoint> = Vec::with_capacity(f.timepoints.len());
        let mut diagnosis = None;
        for (i, t) in f.timepoints.into_iter().enumerate() {
            check_site_name(&t.label).map_err(|e| problem(&t.label, e.to_string()))?;
            if timepoints.iter().any(|p| p.label == t.label) {
                return Err(problem(&t.label, "the label is used twice".into()));
            }
            if !is_iso_date(&t.date) {
                return Err(problem(
                    &t.label,
                    format!("date {:?}: expected a calendar date YYYY-MM-DD", t.date),
                ));
            }
            if let Some(before) = timepoints.last().filter(|p| p.date > t.date) {
                return Err(problem(
                    &t.label,
                    format!(
                        "dated {} before the time point before it ({:?}, {}): list time points in date order",
                        t.date, before.label, before.date
                    ),
                ));
            }
            if t.diagnosis {
                if let Some(d) = diagnosis {
                    let first: &TimePoint = &timepoints[d];
                    return Err(problem(
                        &t.label,
                        format!(
                            "marked diagnosis, as is {:?}: one time point is the diagnosis",
                            first.label
                        ),
                    ));
                }
                diagnosis = Some(i);
            }
            if t.sites.is_empty() {
                return Err(problem(&t.label, "no sites".into()));
            }
            let sites = sites_of(t.sites, path)?;
            let case = check_names(Case {
                case_id: f.case_id.clone(),
                patient: f.patient.clone(),
                sites,
            })
            .map_err(|e| problem(&t.label, e.to_string()))?;
            timepoints.push(TimePoint {
                label: t.label,
                date: t.date,
                cd19_directed_therapy: t.cd19_directed_therapy,
                case,
            });
        }
        Ok(Course {
            case_id: f.case_id,
            patient: f.patient,
            timepoints,
            diagnosis: diagnosis.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course(text: &str) -> Result<Course, CourseError> {
        let dir = tempfile::tempdir().map_err(|e| CaseError::Io {
            path: PathBuf::from("tempdir"),
            source: e,
        })?;
        let path = dir.path().join("course.toml");
        std::fs::write(&path, text).map_err(|e| CaseError::Io {
            path: path.clone(),
            source: e,
        })?;
        Course::from_file(&path)
    }

    const TWO: &str = r#"
patient = "anonymised"
[[timepoints]]
label = "diagnosis"
date = "2026-01-12"
[[timepoints.sites]]
name = "left iliac"
file = "dx.fcs"
[[timepoints]]
label = "day 33"
date = "2026-02-14"
cd19_directed_therapy = true
diagnosis = false
[[timepoints.sites]]
name = "left iliac"
file = "d33.fcs"
"#;

    #[test]
    fn a_course_reads_in_order_with_the_first_time_point_the_diagnosis() {
        let c = course(TWO).expect("valid course");
        assert_eq!(c.timepoints.len(), 2);
        assert_eq!(c.diagnosis, 0);
        assert_eq!(c.timepoints[1].label, "day 33");
        assert!(c.timepoints[1].cd19_directed_therapy);
        assert!(c.timepoints[1].case.sites[0].file.ends_with("d33.fcs"));
        assert_eq!(c.patient.as_deref(), Some("anonymised"));
    }

    #[test]
    fn bad_dates_order_labels_and_empty_courses_are_refused_by_name() {
        let bad = |text: String, expect: &str| {
            let e = course(&text).expect_err("must be refused").to_string();
            assert!(e.contains(expect), "{e} should say {expect}");
        };
        bad(TWO.replace("2026-02-14", "2026-02-30"), "calendar date");
        bad(TWO.replace("2026-02-14", "14/02/2026"), "calendar date");
        bad(TWO.replace("2026-02-14", "2025-12-01"), "date order");
        bad(TWO.replace("day 33", "diagnosis"), "used twice");
        bad(
            TWO.replace("diagnosis = false", "diagnosis = true")
                .replace(
                    "date = \"2026-01-12\"",
                    "date = \"2026-01-12\"\ndiagnosis = true",
                ),
            "one time point is the diagnosis",
        );
        bad("patient = \"x\"\n".into(), "no time points");
        bad(
            TWO.replace("cd19_directed_therapy", "cd19_therapy"),
            "unknown field",
        );
    }

    #[test]
    fn dates_follow_the_calendar() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("2026-1-01"));
        assert!(!is_iso_date("２０２６-01-01"));
    }
}

#[cfg(test)]
mod hostile {
    use super::*;

    /// Thousands of mutated and truncated course files (the bundled one,
    /// as TOML and as JSON): every one reads or is refused with an error
    /// naming the file or the time point; none panics.
    #[test]
    fn mutated_course_files_never_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let toml_text = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-follow/course.toml"),
        )
        .expect("sample course");
        let json_text = br#"{"patient": "x", "timepoints": [{"label": "diagnosis", "date": "2026-01-12", "sites": [{"name": "a", "file": "a.fcs", "panel": {"PE-A": "CD10"}}]}, {"label": "day 33", "date": "2026-02-14", "cd19_directed_therapy": true, "sites": [{"name": "a", "file": "b.fcs"}]}]}"#.to_vec();
        let mut state = 0x00C0_FFEE_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let (mut read, mut refused) = (0, 0);
        for round in 0..3000 {
            let (original, name) = if round % 2 == 0 {
                (&toml_text, "course.toml")
            } else {
                (&json_text, "course.json")
            };
            let mut bytes = original.clone();
            match next(4) {
                0 => bytes.truncate(next(bytes.len())),
                1 => {
                    for _ in 0..1 + next(8) {
                        let at = next(bytes.len());
                        bytes[at] = next(256) as u8;
                    }
                }
                2 => {
                    let at = next(bytes.len());
                    let junk = [b'"', b'[', b']', b'{', b'}', b'=', b'\n', b'\\', 0xFF, b','];
                    bytes.insert(at, junk[next(junk.len())]);
                }
                _ => {
                    let (a, b) = (next(bytes.len()), next(bytes.len()));
                    let (a, b) = (a.min(b), a.max(b));
                    bytes.drain(a..b);
                }
            }
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).expect("write");
            match Course::from_file(&path) {
                Ok(c) => {
                    assert!(!c.timepoints.is_empty());
                    read += 1;
                }
                Err(e) => {
                    let message = e.to_string();
                    assert!(
                        message.contains(name)
                            || message.contains("time point")
                            || message.contains("site name"),
                        "{message}"
                    );
                    refused += 1;
                }
            }
        }
        assert!(read > 0 && refused > 1000, "{read} read, {refused} refused");
    }
}
