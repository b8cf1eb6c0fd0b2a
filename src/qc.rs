//! Site adequacy and the honest verdict of one site.
//!
//! Conventions (configurable, stated in every report through [`Limits`]):
//! a population is *called* with at least `lod_events` clustered events (limit
//! of detection, 20 by default) and *quantified* with at least `lloq_events`
//! (lower limit of quantitation, 50). The sensitivity a site reached is
//! `lod_events / viable nucleated events`: the smallest blast fraction it
//! could have detected. A site is
//! - POSITIVE when a blast cluster of at least the LOD was found (a finding
//!   stands even in a poor sample; below the LLOQ its percentage is not
//!   quantitative);
//! - NEGATIVE when none was found and the sample was adequate, with the
//!   sensitivity reached;
//! - NOT_EVALUABLE when none was found and the sample could not have shown
//!   disease: too few viable nucleated cells for the required sensitivity,
//!   debris-dominated (necrosis), or hemodiluted. It is never reported as
//!   negative.

use crate::stats::{percent, wilson_interval};
use serde::Serialize;

/// The thresholds of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    /// Clustered events needed to call a population (LOD).
    pub lod_events: u64,
    /// Events needed to quantify it (LLOQ).
    pub lloq_events: u64,
    /// The blast percentage a negative site must be able to detect, in
    /// percent of viable nucleated cells (0.1 = 0.1 %, one blast in 1,000).
    pub required_sensitivity_percent: f64,
    /// Non-viable material (debris and dead cells) above this percent of
    /// all events marks necrosis.
    pub max_debris_percent: f64,
    /// Marrow-specific cells (CD34+ progenitors, B-cell precursors,
    /// nucleated red cells) below this percent of viable nucleated cells
    /// mark hemodilution.
    pub min_marrow_specific_percent: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            lod_events: 20,
            lloq_events: 50,
            required_sensitivity_percent: 0.1,
            max_debris_percent: 50.0,
            min_marrow_specific_percent: 2.0,
        }
    }
}

/// A limit that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{option} {value}: {expected}")]
pub struct LimitError {
    /// The command-line option (`--lod`...).
    pub option: &'static str,
    /// The value given.
    pub value: String,
    /// What is accepted.
    pub expected: String,
}

impl Limits {
    /// Checks every limit: counts at least 1 with LLOQ >= LOD, percentages
    /// finite and within their range. A limit that fails is refused before
    /// anything is read, so a typo can never turn a poor sample NEGATIVE.
    pub fn validate(&self) -> Result<(), LimitError> {
        let fail = |option: &'static str, value: String, expected: &str| LimitError {
            option,
            value,
            expected: expected.to_string(),
        };
        if self.lod_events < 1 {
            return Err(fail(
                "--lod",
                self.lod_events.to_string(),
                "at least 1 event",
            ));
        }
        if self.lloq_events < self.lod_events {
            return Err(fail(
                "--lloq",
                self.lloq_events.to_string(),
                &format!("at least the LOD ({} events)", self.lod_events),
            ));
        }
        let percent = |option: &'static str, v: f64, lo_open: bool, hi: f64| {
            let ok = v.is_finite() && (if lo_open { v > 0.0 } else { v >= 0.0 }) && v <= hi;
            if ok {
                Ok(())
            } else {
                Err(fail(
                    option,
                    v.to_string(),
                    &format!(
                        "a percentage {} 0 and at most {hi}",
                        if lo_open { "above" } else { "from" }
                    ),
                ))
            }
        };
        percent(
            "--required-sensitivity",
            self.required_sensitivity_percent,
            true,
            100.0,
        )?;
        percent(
            "--max-debris-percent",
            self.max_debris_percent,
            false,
            100.0,
        )?;
        percent(
            "--min-marrow-specific-percent",
            self.min_marrow_specific_percent,
            false,
            100.0,
        )
    }

    /// The required sensitivity as a fraction of viable nucleated cells.
    pub fn required_sensitivity_fraction(&self) -> f64 {
        self.required_sensitivity_percent / 100.0
    }
}

/// The verdict of one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Blasts found at or above the LOD.
    Positive,
    /// No blasts, adequate sample.
    Negative,
    /// No blasts, and the sample could not have shown them.
    NotEvaluable,
}

impl Status {
    /// The code used in JSON and CSV: `POSITIVE`, `NEGATIVE`,
    /// `NOT_EVALUABLE`.
    pub fn code(self) -> &'static str {
        match self {
            Status::Positive => "POSITIVE",
            Status::Negative => "NEGATIVE",
            Status::NotEvaluable => "NOT_EVALUABLE",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Positive => "POSITIVE",
            Status::Negative => "NEGATIVE",
            Status::NotEvaluable => "NOT EVALUABLE",
        })
    }
}

/// Something about a sample, found before or during gating, that limits
/// what it can show (a failed stain, an incomplete file, data that could
/// not be compensated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concern {
    /// In words, as the report states it.
    pub reason: String,
    /// What it does to the verdict.
    pub effect: ConcernEffect,
}

/// How a [`Concern`] bears on the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernEffect {
    /// Nothing the site shows can be trusted: NOT EVALUABLE whatever was
    /// found (e.g. fluorescence that could not be compensated).
    Blocks,
    /// A finding stands, but an absence cannot be shown: never NEGATIVE
    /// (e.g. a failed CD10 stain, a file cut short).
    NoNegative,
    /// Part of the disease may be invisible to this panel (CD19-negative
    /// blasts after CD19-directed therapy, with no other B-lineage marker):
    /// never NEGATIVE, and a POSITIVE level counts only the blasts the
    /// panel can see, so it is a lower bound.
    HidesDisease,
    /// Stated with the verdict, which it does not change (e.g. data the
    /// user chose to analyse uncompensated).
    Note,
}

impl Concern {
    /// A concern that makes the site NOT EVALUABLE whatever was found.
    pub fn blocks(reason: impl Into<String>) -> Concern {
        Concern {
            reason: reason.into(),
            effect: ConcernEffect::Blocks,
        }
    }

    /// A concern that forbids a NEGATIVE.
    pub fn no_negative(reason: impl Into<String>) -> Concern {
        Concern {
            reason: reason.into(),
            effect: ConcernEffect::NoNegative,
        }
    }

    /// A concern that forbids a NEGATIVE and makes a POSITIVE level a
    /// lower bound.
    pub fn hides_disease(reason: impl Into<String>) -> Concern {
        Concern {
            reason: reason.into(),
            effect: ConcernEffect::HidesDisease,
        }
    }

    /// A concern stated with the verdict, which it does not change.
    pub fn note(reason: impl Into<String>) -> Concern {
        Concern {
            reason: reason.into(),
            effect: ConcernEffect::Note,
        }
    }
}

/// What the gating found at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteCounts {
    /// All events acquired.
    pub total_events: u64,
    /// Debris events.
    pub debris_events: u64,
    /// Viable nucleated single cells (the denominator).
    pub viable_nucleated_events: u64,
    /// Events in the blast cluster.
    pub blast_events: u64,
    /// Marrow-specific cells, percent of viable nucleated cells; `None`
    /// when not assessed (user gates), which a NEGATIVE states.
    pub marrow_specific_percent: Option<f64>,
    /// What limits what the sample can show, beyond the counts.
    pub concerns: Vec<Concern>,
}

/// The verdict with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// POSITIVE, NEGATIVE or NOT_EVALUABLE.
    pub status: Status,
    /// Why, in words a hematopathologist signs.
    pub reason: String,
    /// Blasts, percent of viable nucleated cells.
    pub blast_percent: f64,
    /// Wilson 95 % interval of that percentage.
    pub blast_ci95: [f64; 2],
    /// Smallest blast fraction this site could detect (LOD / viable
    /// nucleated events), as a fraction; 1 when there were no cells.
    pub sensitivity: f64,
    /// Whether the blast count reaches the LLOQ.
    pub quantifiable: bool,
    /// Whether `blast_percent` of a POSITIVE counts only the blasts this
    /// panel can see (a [`ConcernEffect::HidesDisease`] concern): the
    /// disease may be larger.
    pub lower_bound: bool,
}

/// `value <= limit`, false when either is NaN: a check a NaN can never
/// pass.
fn within(value: f64, limit: f64) -> bool {
    matches!(
        value.partial_cmp(&limit),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    )
}

/// Judges one site.
pub fn judge(c: &SiteCounts, limits: &Limits) -> Verdict {
    let n = c.viable_nucleated_events;
    let fraction = if n > 0 {
        c.blast_events as f64 / n as f64
    } else {
        0.0
    };
    let ci = wilson_interval(c.blast_events, n, 1.96);
    let sensitivity = if n > 0 {
        (limits.lod_events as f64 / n as f64).min(1.0)
    } else {
        1.0
    };
    let debris_percent = percent(c.debris_events, c.total_events);
    let quantifiable = c.blast_events >= limits.lloq_events;
    let pct = |f: f64| format_percent(100.0 * f);
    let concerns = |effect: ConcernEffect| {
        c.concerns
            .iter()
            .filter(move |k| k.effect == effect)
            .map(|k| k.reason.clone())
    };
    let mut blocking: Vec<String> = concerns(ConcernEffect::Blocks).collect();
    // A necrotic sample blocks every verdict, a POSITIVE too: dead cells and
    // debris bind antibodies non-specifically and can form a "cluster" of
    // any phenotype. Another site or a biopsy is the answer.
    if !within(debris_percent, limits.max_debris_percent) {
        blocking.push(format!(
            "necrosis/debris: {} of events are debris or dead cells (at most {} allowed); dead cells stain non-specifically, so neither a blast cluster nor its absence can be relied on",
            format_percent(debris_percent),
            format_percent(limits.max_debris_percent)
        ));
    }
    let found = c.blast_events >= limits.lod_events.max(1) && n > 0;
    let required = limits.required_sensitivity_fraction();
    // A NaN limit must never pass: it is "not within", not "not above".
    let too_few_cells = (!within(sensitivity, required)).then(|| {
        format!(
            "too few viable nucleated cells ({n}): sensitivity reached {} but {} is required (needs at least {} cells)",
            pct(sensitivity),
            pct(required),
            (limits.lod_events as f64 / required).ceil() as u64
        )
    });
    let (status, reason) = if !blocking.is_empty() {
        let mut r = blocking;
        r.extend(too_few_cells.clone());
        r.extend(concerns(ConcernEffect::NoNegative));
        r.extend(concerns(ConcernEffect::HidesDisease));
        if found {
            r.push(format!(
                "a blast cluster of {} events was found but cannot be relied on",
                c.blast_events
            ));
        }
        (Status::NotEvaluable, r.join("; "))
    } else if found {
        let mut r = format!(
            "blast cluster of {} events = {} of {} viable nucleated cells (95% CI {}-{})",
            c.blast_events,
            pct(fraction),
            n,
            pct(ci[0]),
            pct(ci[1])
        );
        if !quantifiable {
            r.push_str(&format!(
                "; below the LLOQ of {} events, the percentage is not quantitative",
                limits.lloq_events
            ));
        }
        for note in concerns(ConcernEffect::NoNegative) {
            r.push_str("; note: ");
            r.push_str(&note);
        }
        for hidden in concerns(ConcernEffect::HidesDisease) {
            r.push_str(
                "; the percentage is a lower bound, counting only the blasts this panel can see: ",
            );
            r.push_str(&hidden);
        }
        (Status::Positive, r)
    } else {
        let mut problems: Vec<String> = too_few_cells.into_iter().collect();
        if let Some(marrow) = c.marrow_specific_percent
            && !within(limits.min_marrow_specific_percent, marrow)
            && n > 0
        {
            problems.push(format!(
                "hemodilution: marrow-specific cells are {} of viable nucleated cells (expected at least {})",
                format_percent(marrow),
                format_percent(limits.min_marrow_specific_percent)
            ));
        }
        problems.extend(concerns(ConcernEffect::NoNegative));
        problems.extend(concerns(ConcernEffect::HidesDisease));
        if problems.is_empty() {
            (
                Status::Negative,
                format!(
                    "no blast cluster of {} or more events among {} viable nucleated cells; sensitivity reached {}{}",
                    limits.lod_events,
                    n,
                    pct(sensitivity),
                    if c.marrow_specific_percent.is_none() {
                        "; hemodilution not assessed"
                    } else {
                        ""
                    }
                ),
            )
        } else {
            (Status::NotEvaluable, problems.join("; "))
        }
    };
    let mut reason = reason;
    for note in concerns(ConcernEffect::Note) {
        reason.push_str("; note: ");
        reason.push_str(&note);
    }
    Verdict {
        status,
        reason,
        blast_percent: 100.0 * fraction,
        blast_ci95: [100.0 * ci[0], 100.0 * ci[1]],
        sensitivity,
        quantifiable,
        lower_bound: status == Status::Positive
            && concerns(ConcernEffect::HidesDisease).next().is_some(),
    }
}

/// A percentage with the digits its size needs ("35.2%", "0.058%").
pub fn format_percent(p: f64) -> String {
    if p >= 10.0 {
        format!("{p:.1}%")
    } else if p >= 1.0 {
        format!("{p:.2}%")
    } else {
        let digits = if p > 0.0 {
            ((-p.log10()).ceil() as usize + 1).min(6)
        } else {
            1
        };
        format!("{p:.digits$}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(total: u64, debris: u64, viable: u64, blasts: u64, marrow: f64) -> SiteCounts {
        let marrow = (marrow >= 0.0).then_some(marrow);
        SiteCounts {
            total_events: total,
            debris_events: debris,
            viable_nucleated_events: viable,
            blast_events: blasts,
            marrow_specific_percent: marrow,
            concerns: Vec::new(),
        }
    }

    #[test]
    fn positive_negative_and_not_evaluable() {
        let l = Limits::default();
        let v = judge(&counts(100_000, 4_000, 80_000, 8_000, 10.0), &l);
        assert_eq!(v.status, Status::Positive);
        assert!((v.blast_percent - 10.0).abs() < 1e-12 && v.quantifiable);
        // 30 blasts: called but not quantitative.
        let v = judge(&counts(100_000, 4_000, 80_000, 30, 10.0), &l);
        assert_eq!(v.status, Status::Positive);
        assert!(!v.quantifiable && v.reason.contains("LLOQ"));
        // Nothing found in an adequate sample: negative with its sensitivity.
        let v = judge(&counts(100_000, 4_000, 80_000, 5, 10.0), &l);
        assert_eq!(v.status, Status::Negative);
        assert!((v.sensitivity - 20.0 / 80_000.0).abs() < 1e-15);
        // Necrotic: few viable cells and mostly debris -> never negative.
        let v = judge(&counts(40_000, 33_000, 1_100, 8, 10.0), &l);
        assert_eq!(v.status, Status::NotEvaluable);
        assert!(
            v.reason.contains("too few viable") && v.reason.contains("necrosis"),
            "{}",
            v.reason
        );
        // Hemodiluted and nothing found: not evaluable.
        let v = judge(&counts(100_000, 4_000, 80_000, 0, 0.4), &l);
        assert_eq!(v.status, Status::NotEvaluable);
        assert!(v.reason.contains("hemodilution"));
        // Hemodilution not assessed: a negative says so.
        let v = judge(&counts(100_000, 4_000, 80_000, 0, -1.0), &l);
        assert_eq!(v.status, Status::Negative);
        assert!(
            v.reason.contains("hemodilution not assessed"),
            "{}",
            v.reason
        );
        // No cells at all.
        let v = judge(&counts(1_000, 1_000, 0, 0, 0.0), &l);
        assert_eq!(v.status, Status::NotEvaluable);
        assert_eq!(v.sensitivity, 1.0);
    }

    #[test]
    fn limits_are_checked_before_use() {
        assert!(Limits::default().validate().is_ok());
        let with = |f: &dyn Fn(&mut Limits)| {
            let mut l = Limits::default();
            f(&mut l);
            l.validate()
        };
        type Change<'a> = &'a dyn Fn(&mut Limits);
        let bad: [(&str, Change); 9] = [
            ("--lod", &|l| l.lod_events = 0),
            ("--lloq", &|l| l.lloq_events = 10),
            ("--required-sensitivity", &|l| {
                l.required_sensitivity_percent = f64::NAN
            }),
            ("--required-sensitivity", &|l| {
                l.required_sensitivity_percent = 0.0
            }),
            ("--required-sensitivity", &|l| {
                l.required_sensitivity_percent = 150.0
            }),
            ("--max-debris-percent", &|l| l.max_debris_percent = f64::NAN),
            ("--max-debris-percent", &|l| l.max_debris_percent = -1.0),
            ("--min-marrow-specific-percent", &|l| {
                l.min_marrow_specific_percent = f64::INFINITY
            }),
            ("--min-marrow-specific-percent", &|l| {
                l.min_marrow_specific_percent = 101.0
            }),
        ];
        for (option, f) in bad {
            let e = with(f).expect_err(option);
            assert_eq!(e.option, option);
        }
        // Even unvalidated NaN limits never let a necrotic sample through.
        let l = Limits {
            required_sensitivity_percent: f64::NAN,
            max_debris_percent: f64::NAN,
            ..Limits::default()
        };
        let v = judge(&counts(40_000, 39_000, 666, 0, 10.0), &l);
        assert_eq!(v.status, Status::NotEvaluable, "{}", v.reason);
        // An LOD of 0 never calls a zero-event cluster.
        let l = Limits {
            lod_events: 0,
            ..Limits::default()
        };
        let v = judge(&counts(100_000, 4_000, 80_000, 0, 10.0), &l);
        assert_ne!(v.status, Status::Positive);
    }

    #[test]
    fn concerns_block_or_forbid_a_negative() {
        let l = Limits::default();
        let mut c = counts(100_000, 4_000, 80_000, 0, 10.0);
        c.concerns
            .push(Concern::no_negative("CD10 shows no positive population"));
        let v = judge(&c, &l);
        assert_eq!(v.status, Status::NotEvaluable);
        assert!(v.reason.contains("CD10"), "{}", v.reason);
        // A finding stands beside a no-negative concern, with a note.
        c.blast_events = 5_000;
        let v = judge(&c, &l);
        assert_eq!(v.status, Status::Positive);
        assert!(v.reason.contains("note: CD10"), "{}", v.reason);
        // A blocking concern overrides a finding.
        c.concerns.push(Concern::blocks("spillover unusable"));
        let v = judge(&c, &l);
        assert_eq!(v.status, Status::NotEvaluable);
        assert!(
            v.reason.contains("spillover") && v.reason.contains("cannot be relied on"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn percent_formatting() {
        assert_eq!(format_percent(35.24), "35.2%");
        assert_eq!(format_percent(2.5), "2.50%");
        assert_eq!(format_percent(0.0583), "0.058%");
        assert_eq!(
            serde_json::to_string(&Status::NotEvaluable).expect("json"),
            "\"NOT_EVALUABLE\""
        );
    }
}
