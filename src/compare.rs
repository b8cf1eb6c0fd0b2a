//! Several sites of one patient side by side: what each site alone would
//! have shown, which sites alone would have missed the disease, how the blast
//! load differs between sites, and one sentence to sign.

use crate::qc::{Status, format_percent};
use serde::Serialize;

/// What the comparison needs of one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteOutcome {
    /// Site name.
    pub name: String,
    /// Its verdict.
    pub status: Status,
    /// Why (the verdict's reason).
    pub reason: String,
    /// Blast events.
    pub blast_events: u64,
    /// Viable nucleated events (denominator).
    pub viable_nucleated_events: u64,
    /// Blasts, % of viable nucleated cells.
    pub blast_percent: f64,
    /// Smallest detectable blast fraction.
    pub sensitivity: f64,
}

/// "Had only this site been sampled ...".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SingleSite {
    /// Site name.
    pub site: String,
    /// The verdict this site alone gives.
    pub status: Status,
    /// Whether it alone would have missed disease shown elsewhere.
    pub would_miss: bool,
    /// The sentence.
    pub statement: String,
}

/// How the blast load differs between the evaluable sites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heterogeneity {
    /// Sites compared (POSITIVE or NEGATIVE).
    pub sites: Vec<String>,
    /// Lowest and highest blast %.
    pub range_percent: [f64; 2],
    /// Highest over lowest blast % (null when the lowest is 0).
    pub fold_difference: Option<f64>,
    /// Pearson chi-square of homogeneity of the blast fractions.
    pub chi_square: f64,
    /// Its degrees of freedom.
    pub degrees_of_freedom: u32,
    /// Its p-value.
    pub p_value: f64,
    /// Whether the fractions differ at the 5 % level.
    pub differ: bool,
}

impl Heterogeneity {
    /// The finding in one sentence: range, fold difference and the test.
    pub fn summary(&self) -> String {
        format!(
            "Blast load across {} evaluable sites: {}-{}{}, chi-square {:.1} (df {}), {}: {}.",
            self.sites.len(),
            format_percent(self.range_percent[0]),
            format_percent(self.range_percent[1]),
            self.fold_difference
                .map(|f| format!(" ({f:.1}-fold)"))
                .unwrap_or_default(),
            self.chi_square,
            self.degrees_of_freedom,
            format_p(self.p_value),
            if self.differ {
                "the fractions differ"
            } else {
                "no significant difference"
            }
        )
    }
}

/// The multi-site result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// One statement per site.
    pub single_site: Vec<SingleSite>,
    /// Sites that alone would have missed the disease (NEGATIVE or
    /// NOT_EVALUABLE while another site is POSITIVE).
    pub single_site_misses: Vec<String>,
    /// Blast-load heterogeneity, when two or more sites are evaluable.
    pub heterogeneity: Option<Heterogeneity>,
    /// One plain sentence for the report.
    pub conclusion: String,
}

/// A p-value as reports write it: "p = 0.032", "p = 4.1e-05", "p < 1e-16"
/// (below what double precision resolves).
pub fn format_p(p: f64) -> String {
    if p < 1e-16 {
        "p < 1e-16".into()
    } else if p < 0.001 {
        format!("p = {p:.1e}")
    } else {
        format!("p = {p:.3}")
    }
}

/// Compares the sites of one patient.
pub fn compare(sites: &[SiteOutcome]) -> Comparison {
    let positives: Vec<&SiteOutcome> = sites
        .iter()
        .filter(|s| s.status == Status::Positive)
        .collect();
    let any_positive = !positives.is_empty();
    let single_site: Vec<SingleSite> = sites
        .iter()
        .map(|s| {
            let would_miss = any_positive && s.status != Status::Positive;
            let statement = match s.status {
                Status::Positive => format!(
                    "Had only {} been sampled, the result would have been POSITIVE ({} blasts).",
                    s.name,
                    format_percent(s.blast_percent)
                ),
                Status::Negative => format!(
                    "Had only {} been sampled, the result would have been NEGATIVE at a sensitivity of {}{}.",
                    s.name,
                    format_percent(100.0 * s.sensitivity),
                    if would_miss { ", missing the disease found elsewhere" } else { "" }
                ),
                Status::NotEvaluable => format!(
                    "Had only {} been sampled, the result would have been NOT EVALUABLE ({}){}.",
                    s.name,
                    s.reason,
                    if would_miss { "; the disease would have been missed" } else { "" }
                ),
            };
            SingleSite { site: s.name.clone(), status: s.status, would_miss, statement }
        })
        .collect();
    let single_site_misses: Vec<String> = single_site
        .iter()
        .filter(|s| s.would_miss)
        .map(|s| s.site.clone())
        .collect();
    let evaluable: Vec<&SiteOutcome> = sites
        .iter()
        .filter(|s| s.status != Status::NotEvaluable && s.viable_nucleated_events > 0)
        .collect();
    let heterogeneity = (evaluable.len() >= 2).then(|| heterogeneity(&evaluable));
    let conclusion = conclusion(
        sites,
        &positives,
        &single_site_misses,
        heterogeneity.as_ref(),
    );
    Comparison {
        single_site,
        single_site_misses,
        heterogeneity,
        conclusion,
    }
}

fn heterogeneity(sites: &[&SiteOutcome]) -> Heterogeneity {
    let blasts: Vec<f64> = sites.iter().map(|s| s.blast_events as f64).collect();
    let totals: Vec<f64> = sites
        .iter()
        .map(|s| s.viable_nucleated_events as f64)
        .collect();
    let (b, n): (f64, f64) = (blasts.iter().sum(), totals.iter().sum());
    let p = b / n;
    let mut chi = 0.0;
    for (&k, &t) in blasts.iter().zip(&totals) {
        for (observed, expected) in [(k, t * p), (t - k, t * (1.0 - p))] {
            if expected > 0.0 {
                chi += (observed - expected).powi(2) / expected;
            }
        }
    }
    let df = (sites.len() - 1) as u32;
    let p_value = chi_square_survival(chi, df);
    let pct: Vec<f64> = sites.iter().map(|s| s.blast_percent).collect();
    let (lo, hi) = pct
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    Heterogeneity {
        sites: sites.iter().map(|s| s.name.clone()).collect(),
        range_percent: [lo, hi],
        fold_difference: (lo > 0.0).then(|| hi / lo),
        chi_square: chi,
        degrees_of_freedom: df,
        p_value,
        differ: p_value < 0.05,
    }
}

fn conclusion(
    sites: &[SiteOutcome],
    positives: &[&SiteOutcome],
    misses: &[String],
    h: Option<&Heterogeneity>,
) -> String {
    let list = |v: &[&SiteOutcome]| {
        v.iter()
            .map(|s| format!("{} {}", s.name, format_percent(s.blast_percent)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let not_evaluable: Vec<&SiteOutcome> = sites
        .iter()
        .filter(|s| s.status == Status::NotEvaluable)
        .collect();
    if positives.is_empty() {
        let negatives: Vec<&SiteOutcome> = sites
            .iter()
            .filter(|s| s.status == Status::Negative)
            .collect();
        let best = negatives
            .iter()
            .map(|s| s.sensitivity)
            .fold(f64::INFINITY, f64::min);
        return match (negatives.is_empty(), not_evaluable.is_empty()) {
            (true, _) => format!(
                "No site could be evaluated ({}); the absence of disease is NOT shown and another site or a biopsy is needed.",
                not_evaluable
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (false, true) => format!(
                "No common-B-ALL blasts were detected at {} site(s) (best sensitivity {}).",
                negatives.len(),
                format_percent(100.0 * best)
            ),
            (false, false) => format!(
                "No common-B-ALL blasts were detected at {} evaluable site(s) (best sensitivity {}), but {} could not be evaluated; disease there is not excluded.",
                negatives.len(),
                format_percent(100.0 * best),
                not_evaluable
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    let mut s = format!(
        "Common-B-ALL blasts were found at {} of {} sites ({} of viable nucleated cells)",
        positives.len(),
        sites.len(),
        list(positives)
    );
    if let Some(h) = h.filter(|h| h.differ && h.sites.len() >= 2) {
        s.push_str(&format!(
            ", with a blast load that differs between sites ({})",
            format_p(h.p_value)
        ));
    }
    if misses.is_empty() {
        s.push('.');
    } else {
        s.push_str(&format!(
            "; sampled alone, {} would have missed the disease.",
            misses.join(" and ")
        ));
    }
    s
}

/// P(X > x) for a chi-square variable with `df` degrees of freedom:
/// the regularized upper incomplete gamma function Q(df/2, x/2).
pub fn chi_square_survival(x: f64, df: u32) -> f64 {
    if x <= 0.0 || df == 0 {
        return 1.0;
    }
    upper_gamma_q(df as f64 / 2.0, x / 2.0)
}

fn ln_gamma(z: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15.
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let z = z - 1.0;
    let t = z + 7.5;
    let series: f64 = C[1..]
        .iter()
        .enumerate()
        .map(|(i, c)| c / (z + i as f64 + 1.0))
        .sum::<f64>()
        + C[0];
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + series.ln()
}

/// Q(a, x) by its series (x < a + 1) or continued fraction (otherwise).
fn upper_gamma_q(a: f64, x: f64) -> f64 {
    let prefactor = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (1.0 - sum * prefactor).clamp(0.0, 1.0)
    } else {
        // Lentz's method for the continued fraction.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (prefactor * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str, status: Status, blasts: u64, n: u64) -> SiteOutcome {
        SiteOutcome {
            name: name.into(),
            status,
            reason: if status == Status::NotEvaluable {
                "too few viable nucleated cells (1100)".into()
            } else {
                String::new()
            },
            blast_events: blasts,
            viable_nucleated_events: n,
            blast_percent: if n > 0 {
                100.0 * blasts as f64 / n as f64
            } else {
                0.0
            },
            sensitivity: if n > 0 { 20.0 / n as f64 } else { 1.0 },
        }
    }

    #[test]
    fn chi_square_p_values_match_tables() {
        // Critical values: df 1 at 3.841 -> 0.05; df 2 at 5.991 -> 0.05; df 3 at 11.345 -> 0.01.
        assert!((chi_square_survival(3.841_458_8, 1) - 0.05).abs() < 1e-6);
        assert!((chi_square_survival(5.991_464_5, 2) - 0.05).abs() < 1e-6);
        assert!((chi_square_survival(11.344_866_9, 3) - 0.01).abs() < 1e-6);
        assert!((chi_square_survival(0.5, 4) - 0.973_500_7).abs() < 1e-6);
        assert_eq!(chi_square_survival(0.0, 2), 1.0);
    }

    #[test]
    fn the_case_necrotic_site_would_have_missed() {
        let sites = [
            site("left iliac", Status::NotEvaluable, 8, 1_100),
            site("right iliac", Status::Positive, 12_000, 34_000),
            site("sternum", Status::Positive, 2_100, 35_000),
        ];
        let c = compare(&sites);
        assert_eq!(c.single_site_misses, vec!["left iliac".to_string()]);
        assert!(
            c.single_site[0].statement.contains("NOT EVALUABLE")
                && c.single_site[0].statement.contains("missed")
        );
        let h = c.heterogeneity.as_ref().expect("two evaluable sites");
        assert_eq!(
            h.sites,
            vec!["right iliac".to_string(), "sternum".to_string()]
        );
        assert!(h.differ && h.p_value < 1e-10);
        assert!(
            (h.fold_difference.expect("fold") - (12_000.0 / 34_000.0) / (2_100.0 / 35_000.0)).abs()
                < 1e-9
        );
        assert!(
            c.conclusion.contains("2 of 3 sites")
                && c.conclusion.contains("left iliac would have missed"),
            "{}",
            c.conclusion
        );
    }

    #[test]
    fn no_positive_site_never_claims_absence_it_cannot_show() {
        let c = compare(&[
            site("a", Status::Negative, 0, 50_000),
            site("b", Status::NotEvaluable, 0, 900),
        ]);
        assert!(c.single_site_misses.is_empty());
        assert!(
            c.conclusion.contains("could not be evaluated")
                && c.conclusion.contains("not excluded"),
            "{}",
            c.conclusion
        );
        let c = compare(&[site("a", Status::NotEvaluable, 0, 900)]);
        assert!(c.conclusion.contains("NOT shown"));
        let c = compare(&[
            site("a", Status::Negative, 1, 60_000),
            site("b", Status::Negative, 2, 50_000),
        ]);
        let h = c.heterogeneity.expect("two sites");
        assert!(!h.differ && h.fold_difference.is_some());
        assert!(
            c.conclusion
                .starts_with("No common-B-ALL blasts were detected at 2 site(s)")
        );
    }
}
