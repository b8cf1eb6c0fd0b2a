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

use serde::Serialize;

/// The thresholds of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    /// Clustered events needed to call a population (LOD).
    pub lod_events: u64,
    /// Events needed to quantify it (LLOQ).
    pub lloq_events: u64,
    /// The blast fraction a negative site must be able to detect
    /// (0.001 = 0.1 % of viable nucleated cells).
    pub required_sensitivity: f64,
    /// Debris above this percent of all events marks necrosis.
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
            required_sensitivity: 0.001,
            max_debris_percent: 50.0,
            min_marrow_specific_percent: 2.0,
        }
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

/// What the gating found at one site.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        100.0 * part as f64 / whole as f64
    } else {
        0.0
    }
}

/// Wilson score interval for `k` successes in `n` trials at `z` (1.96 for
/// 95 %), as fractions.
pub fn wilson_interval(k: u64, n: u64, z: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (none, all) = (k == 0, k == n);
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Exact bounds at the ends (the formula leaves rounding dust there).
    [
        if none { 0.0 } else { (centre - half).max(0.0) },
        if all { 1.0 } else { (centre + half).min(1.0) },
    ]
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
    let (status, reason) = if c.blast_events >= limits.lod_events && n > 0 {
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
        (Status::Positive, r)
    } else {
        let mut problems = Vec::new();
        if sensitivity > limits.required_sensitivity {
            problems.push(format!(
                "too few viable nucleated cells ({n}): sensitivity reached {} but {} is required (needs at least {} cells)",
                pct(sensitivity),
                pct(limits.required_sensitivity),
                (limits.lod_events as f64 / limits.required_sensitivity).ceil() as u64
            ));
        }
        if debris_percent > limits.max_debris_percent {
            problems.push(format!(
                "necrosis/debris: {} of events are debris or dead cells",
                format_percent(debris_percent)
            ));
        }
        if let Some(marrow) = c.marrow_specific_percent
            && marrow < limits.min_marrow_specific_percent
            && n > 0
        {
            problems.push(format!(
                "hemodilution: marrow-specific cells are {} of viable nucleated cells (expected at least {})",
                format_percent(marrow),
                format_percent(limits.min_marrow_specific_percent)
            ));
        }
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
    Verdict {
        status,
        reason,
        blast_percent: 100.0 * fraction,
        blast_ci95: [100.0 * ci[0], 100.0 * ci[1]],
        sensitivity,
        quantifiable,
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
        }
    }

    #[test]
    fn wilson_matches_published_values() {
        // 20 of 1000: 95% Wilson interval 1.30%-3.07% (standard tables).
        let [lo, hi] = wilson_interval(20, 1000, 1.96);
        assert!(
            (lo - 0.01298).abs() < 5e-5 && (hi - 0.03066).abs() < 5e-5,
            "{lo} {hi}"
        );
        let [lo, hi] = wilson_interval(0, 50, 1.96);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0713).abs() < 5e-4, "{hi}");
        assert_eq!(wilson_interval(0, 0, 1.96), [0.0, 1.0]);
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
