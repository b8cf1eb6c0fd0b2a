//! `marrowgate follow`: a patient's course after diagnosis. Every time
//! point is analysed as a case ([`super::analyze_case_with`]); the
//! diagnostic time point's blasts give the leukaemia-associated phenotype
//! the later ones are searched for, besides anything that leaves the
//! normal B-cell maturation pattern (phenotypes shift under therapy, so
//! the diagnostic phenotype is a help, never the only question). Each
//! site's result is restated as measurable residual disease (MRD).

use super::course::Course;
use super::site::{Settings, SiteGating, SiteReport};
use super::{CaseReport, analyze_case_with};
use crate::qc::{Limits, Status, format_percent};
use crate::strategy::blasts::Phenotype;
use crate::strategy::prepare::LOGICLE;
use serde::Serialize;

/// Version of the follow-up `report.json` schema; raised on any
/// incompatible change.
pub const FOLLOW_SCHEMA_VERSION: u32 = 1;

/// A shift of the blasts' phenotype this large, in decades, is named in
/// the report (0.3 decades is the blast search's own cluster deviation).
pub const SHIFT_DECADES: f64 = 0.3;

/// The MRD reading of a site, finer than its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MrdLevel {
    /// Blasts at or above the LLOQ: the percentage is quantitative.
    MrdPositive,
    /// Blasts at or above the LOD, below the LLOQ: present, not
    /// quantifiable.
    PositiveBelowLloq,
    /// No blasts, at the sensitivity reached.
    Negative,
    /// The sample could not have shown them (see the reason).
    NotEvaluable,
}

/// How one marker of the blasts moved since diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkerShift {
    /// Marker.
    pub marker: String,
    /// Diagnostic blasts, logicle display scale (0-1).
    pub diagnosis: f64,
    /// These blasts, same scale.
    pub now: f64,
    /// `now - diagnosis` in decades (negative: dimmer).
    pub shift_decades: f64,
}

/// One site of one time point, as MRD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MrdSite {
    /// Site name.
    pub name: String,
    /// FCS file.
    pub file: String,
    /// POSITIVE, NEGATIVE or NOT_EVALUABLE.
    pub status: Status,
    /// The MRD reading (quantifiable or not).
    pub mrd_level: MrdLevel,
    /// Residual blasts, percent of viable nucleated cells (`null` when the
    /// site could not be analysed).
    pub mrd_percent: Option<f64>,
    /// Wilson 95 % interval of `mrd_percent`.
    pub mrd_ci95: Option<[f64; 2]>,
    /// Residual blast events.
    pub mrd_events: Option<u64>,
    /// The denominator.
    pub viable_nucleated_events: Option<u64>,
    /// Smallest fraction the site could detect (LOD / viable nucleated
    /// events), a fraction as in `analyze`'s report.
    pub sensitivity: Option<f64>,
    /// The same, in percent (the LOD reached).
    pub lod_percent: Option<f64>,
    /// The smallest quantifiable percentage (LLOQ / viable nucleated
    /// events).
    pub lloq_percent: Option<f64>,
    /// Whether the blast events reach the LLOQ.
    pub quantifiable: bool,
    /// Whether `mrd_percent` is a lower bound: the panel cannot see part of
    /// the disease (CD19-negative blasts after CD19-directed therapy with no
    /// other B-lineage marker).
    pub mrd_percent_is_lower_bound: bool,
    /// Why, in words.
    pub reason: String,
    /// Why the site could not be analysed at all.
    pub error: Option<String>,
    /// The residual blasts' phenotype, when found.
    pub phenotype: Option<Phenotype>,
    /// How it moved from the diagnostic phenotype, marker by marker (when
    /// both are known).
    pub phenotype_shift: Vec<MarkerShift>,
}

/// One time point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimePointReport {
    /// Label as given.
    pub label: String,
    /// ISO date.
    pub date: String,
    /// The diagnostic time point.
    pub diagnosis: bool,
    /// Given after CD19-directed therapy.
    pub cd19_directed_therapy: bool,
    /// The time point as a whole: POSITIVE if any site is; NEGATIVE if
    /// every site is; otherwise NOT_EVALUABLE (a negative site beside a
    /// non-evaluable one does not make the marrow negative).
    pub status: Status,
    /// Its folder under `timepoints/` in the output.
    pub output_name: String,
    /// Its sites as MRD.
    pub sites: Vec<MrdSite>,
    /// The full analysis of the time point (the `analyze` report).
    pub analysis: CaseReport,
}

/// The course of one patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowReport {
    /// Schema version of this document ([`FOLLOW_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// "marrowgate X.Y.Z".
    pub software: String,
    /// Case identifier, if given.
    pub case_id: Option<String>,
    /// Patient description, if given.
    pub patient: Option<String>,
    /// The limits applied.
    pub limits: Limits,
    /// How MRD is read, in words.
    pub methods: Vec<String>,
    /// Label of the diagnostic time point.
    pub diagnosis: String,
    /// The leukaemia-associated phenotype from the diagnostic blasts
    /// (`None` when no blasts were found there).
    pub diagnostic_phenotype: Option<Phenotype>,
    /// Every time point, in date order.
    pub timepoints: Vec<TimePointReport>,
    /// The course in one sentence per time point.
    pub conclusion: Vec<String>,
}

/// The MRD reading of one site.
fn mrd_site(s: &SiteReport, limits: &Limits, diagnostic: Option<&Phenotype>) -> MrdSite {
    let m = s.measures.as_ref();
    let phenotype = m.and_then(|m| Phenotype::of_blasts(&m.clusters));
    let phenotype_shift = match (diagnostic, &phenotype) {
        (Some(d), Some(now)) => d
            .centre
            .iter()
            .filter_map(|(marker, &before)| {
                let after = *now.centre.get(marker)?;
                Some(MarkerShift {
                    marker: marker.clone(),
                    diagnosis: before,
                    now: after,
                    shift_decades: (after - before) * LOGICLE.2,
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let per_cells = |events: u64| {
        m.filter(|m| m.viable_nucleated_events > 0)
            .map(|m| 100.0 * events as f64 / m.viable_nucleated_events as f64)
    };
    let mrd_level = match s.status {
        Status::Positive if m.is_some_and(|m| m.quantifiable) => MrdLevel::MrdPositive,
        Status::Positive => MrdLevel::PositiveBelowLloq,
        Status::Negative => MrdLevel::Negative,
        Status::NotEvaluable => MrdLevel::NotEvaluable,
    };
    MrdSite {
        name: s.name.clone(),
        file: s.file.clone(),
        status: s.status,
        mrd_level,
        mrd_percent: m.map(|m| m.blast_percent),
        mrd_ci95: m.map(|m| m.blast_ci95),
        mrd_events: m.map(|m| m.blast_events),
        viable_nucleated_events: m.map(|m| m.viable_nucleated_events),
        sensitivity: m.map(|m| m.sensitivity),
        lod_percent: per_cells(limits.lod_events),
        lloq_percent: per_cells(limits.lloq_events),
        quantifiable: m.is_some_and(|m| m.quantifiable),
        mrd_percent_is_lower_bound: m.is_some_and(|m| m.blast_percent_is_lower_bound),
        reason: s.reason.clone(),
        error: s.error.clone(),
        phenotype,
        phenotype_shift,
    }
}

/// The time point as a whole (see [`TimePointReport::status`]).
fn overall(sites: &[MrdSite]) -> Status {
    if sites.iter().any(|s| s.status == Status::Positive) {
        Status::Positive
    } else if !sites.is_empty() && sites.iter().all(|s| s.status == Status::Negative) {
        Status::Negative
    } else {
        Status::NotEvaluable
    }
}

/// One sentence for a time point.
fn sentence(t: &TimePointReport) -> String {
    let site = |s: &MrdSite| -> String {
        let pct = |p: Option<f64>| p.map_or("?".into(), format_percent);
        match s.mrd_level {
            MrdLevel::MrdPositive => format!(
                "{}: MRD {}{} (95% CI {}-{})",
                s.name,
                if s.mrd_percent_is_lower_bound {
                    "at least "
                } else {
                    ""
                },
                pct(s.mrd_percent),
                pct(s.mrd_ci95.map(|c| c[0])),
                pct(s.mrd_ci95.map(|c| c[1]))
            ),
            MrdLevel::PositiveBelowLloq => format!(
                "{}: residual blasts below the LLOQ ({} events, not quantifiable{})",
                s.name,
                s.mrd_events.unwrap_or(0),
                if s.mrd_percent_is_lower_bound {
                    "; CD19-negative blasts, which this panel cannot see, may be more"
                } else {
                    ""
                }
            ),
            MrdLevel::Negative => {
                format!("{}: MRD negative at {}", s.name, pct(s.lod_percent))
            }
            MrdLevel::NotEvaluable => format!("{}: NOT EVALUABLE", s.name),
        }
    };
    format!(
        "{} ({}): {} — {}",
        t.label,
        t.date,
        t.status,
        t.sites.iter().map(site).collect::<Vec<_>>().join("; ")
    )
}

/// How MRD is read, in words.
fn methods(limits: &Limits, diagnosis: &str) -> Vec<String> {
    vec![
        format!(
            "MRD: residual blasts as a percentage of viable nucleated cells with a Wilson 95% interval. Limit of detection {} clustered events, lower limit of quantitation {} events (EuroFlow convention); the LOD and LLOQ reached are these counts over the viable nucleated events (a sensitivity of 10^-5 needs at least {} of them).",
            limits.lod_events,
            limits.lloq_events,
            limits.lod_events * 100_000
        ),
        format!(
            "Levels: MRD POSITIVE (at least the LLOQ, quantitative); POSITIVE below the LLOQ (present, not quantifiable); NEGATIVE at the sensitivity reached (at least {} required); NOT EVALUABLE with its reason (too few cells, hemodilution, necrosis, failed stain).",
            format_percent(limits.required_sensitivity_percent)
        ),
        format!(
            "Phenotype: the blasts of the diagnostic time point ({diagnosis}) give the leukaemia-associated phenotype; later time points are searched both for it and for any cluster off the normal B-cell maturation pattern, and every cluster is judged against that pattern, because CD10 and CD34 often fall, CD20 rises after steroids and CD19 may be lost under therapy. Shifts of {SHIFT_DECADES} decades or more from the diagnostic phenotype are listed."
        ),
    ]
}

/// Analyses a course: the diagnostic time point first (its blasts give
/// the phenotype), then the others in order, each with its sites in
/// parallel. `on_site` receives (time point index, site index, report,
/// gating) as each site ends, as in [`analyze_case_with`].
pub fn follow_course(
    course: &Course,
    settings: &Settings,
    on_site: &(dyn Fn(usize, usize, &SiteReport, &SiteGating) + Sync),
) -> FollowReport {
    let n = course.timepoints.len();
    // A course built by hand may name no valid diagnosis (or hold no time
    // point): the first time point stands in, and an empty course gives an
    // empty report.
    let dx = course.diagnosis.min(n.saturating_sub(1));
    let analyse = |t: usize, settings: &Settings| -> CaseReport {
        let tp = &course.timepoints[t];
        let settings = Settings {
            cd19_directed_therapy: tp.cd19_directed_therapy,
            ..settings.clone()
        };
        let sink = |i: usize, s: &SiteReport, g: &SiteGating| on_site(t, i, s, g);
        analyze_case_with(&tp.case, &settings, &sink, false).0
    };
    let mut analyses: Vec<Option<CaseReport>> = vec![None; n];
    let diagnostic_report = (n > 0).then(|| analyse(dx, settings));
    let diagnostic_phenotype = Phenotype::of_blasts(
        diagnostic_report
            .iter()
            .flat_map(|r| &r.sites)
            .filter_map(|s| s.measures.as_ref())
            .flat_map(|m| &m.clusters),
    );
    if let Some(slot) = analyses.get_mut(dx) {
        *slot = diagnostic_report;
    }
    let later = Settings {
        expected_phenotype: diagnostic_phenotype.clone(),
        ..settings.clone()
    };
    for (t, slot) in analyses.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(analyse(t, &later));
        }
    }
    let timepoints: Vec<TimePointReport> = course
        .timepoints
        .iter()
        .zip(analyses)
        .enumerate()
        .filter_map(|(t, (tp, analysis))| {
            let analysis = analysis?;
            let sites: Vec<MrdSite> = analysis
                .sites
                .iter()
                .map(|s| {
                    let reference = (t != dx).then_some(diagnostic_phenotype.as_ref()).flatten();
                    mrd_site(s, &settings.limits, reference)
                })
                .collect();
            Some(TimePointReport {
                label: tp.label.clone(),
                date: tp.date.clone(),
                diagnosis: t == dx,
                cd19_directed_therapy: tp.cd19_directed_therapy,
                status: overall(&sites),
                output_name: super::case::output_name(t, n, &tp.label),
                sites,
                analysis,
            })
        })
        .collect();
    let diagnosis = course
        .timepoints
        .get(dx)
        .map(|t| t.label.clone())
        .unwrap_or_default();
    FollowReport {
        schema_version: FOLLOW_SCHEMA_VERSION,
        software: format!("marrowgate {}", env!("CARGO_PKG_VERSION")),
        case_id: course.case_id.clone(),
        patient: course.patient.clone(),
        limits: settings.limits.clone(),
        methods: methods(&settings.limits, &diagnosis),
        diagnosis,
        diagnostic_phenotype,
        conclusion: timepoints.iter().map(sentence).collect(),
        timepoints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str, status: Status) -> MrdSite {
        MrdSite {
            name: name.into(),
            file: String::new(),
            status,
            mrd_level: MrdLevel::Negative,
            mrd_percent: None,
            mrd_ci95: None,
            mrd_events: None,
            viable_nucleated_events: None,
            sensitivity: None,
            lod_percent: None,
            lloq_percent: None,
            quantifiable: false,
            mrd_percent_is_lower_bound: false,
            reason: String::new(),
            error: None,
            phenotype: None,
            phenotype_shift: Vec::new(),
        }
    }

    #[test]
    fn a_course_built_by_hand_without_time_points_gives_an_empty_report() {
        let course = Course {
            case_id: None,
            patient: None,
            timepoints: Vec::new(),
            diagnosis: 7,
        };
        let r = follow_course(&course, &Settings::default(), &|_, _, _, _| {});
        assert!(r.timepoints.is_empty() && r.diagnostic_phenotype.is_none());
        assert_eq!(r.diagnosis, "");
    }

    #[test]
    fn a_time_point_is_negative_only_when_every_site_is() {
        use Status::*;
        let of = |s: &[Status]| overall(&s.iter().map(|&x| site("s", x)).collect::<Vec<_>>());
        assert_eq!(of(&[Negative, Negative]), Negative);
        assert_eq!(of(&[Negative, NotEvaluable]), NotEvaluable);
        assert_eq!(of(&[NotEvaluable, Positive]), Positive);
        assert_eq!(of(&[]), NotEvaluable);
    }
}
