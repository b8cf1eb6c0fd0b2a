//! One site from file to verdict: read, find the markers, prepare, gate,
//! search for blasts, count the marrow-only cells, judge.

use super::case::Site;
use crate::fcs::{FcsFile, FileError};
use crate::qc::{Limits, SiteCounts, Status, judge};
use crate::strategy::blasts::{BlastSearch, Bound, Cluster, Level, find_blasts};
use crate::strategy::hemodilution::{MarrowIndicators, marrow_indicators};
use crate::strategy::markers::MarkerMap;
use crate::strategy::pregate::{GateRecord, PreGates, pregate};
use crate::strategy::prepare::{Prepared, prepare};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a site could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The file is unreadable.
    #[error(transparent)]
    Read(#[from] FileError),
    /// Required markers are missing.
    #[error(
        "{file}: missing required marker(s) {}; channels found: {}",
        missing.join(", "),
        found.join(", ")
    )]
    MissingMarkers {
        /// File.
        file: String,
        /// Markers not found.
        missing: Vec<String>,
        /// Every channel as `$PnN` (`$PnS`), to help write a panel.
        found: Vec<String>,
    },
    /// The file has no events.
    #[error("{0}: no events")]
    NoEvents(String),
}

/// A reference level as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceLevel {
    /// Reference population.
    pub population: String,
    /// Marker.
    pub marker: String,
    /// Level (decades on the logicle scale, value x M).
    #[serde(flatten)]
    pub level: Level,
}

/// What was measured at an analysed site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteMeasures {
    /// All events acquired.
    pub total_events: u64,
    /// Debris events (below the FSC debris threshold), % of all events.
    pub debris_percent: f64,
    /// Doublets, % of cells.
    pub doublet_percent: f64,
    /// Dead cells, % of single cells.
    pub dead_percent: f64,
    /// Viable cells, % of single cells.
    pub viable_percent: f64,
    /// Viable nucleated single cells: the denominator.
    pub viable_nucleated_events: u64,
    /// CD19+ B-lineage cells.
    pub cd19_events: u64,
    /// CD19+CD10+ cells (blasts and hematogones).
    pub cd19_cd10_events: u64,
    /// Blasts.
    pub blast_events: u64,
    /// Blasts, % of viable nucleated cells.
    pub blast_percent: f64,
    /// Blasts, % of CD19+ cells.
    pub blast_percent_of_cd19: f64,
    /// Wilson 95 % interval of `blast_percent`.
    pub blast_ci95: [f64; 2],
    /// Lowest blast fraction this site could detect (LOD / viable
    /// nucleated events), as a fraction.
    pub sensitivity: f64,
    /// Whether the blast count reaches the LLOQ.
    pub quantifiable: bool,
    /// Hemodilution indicators.
    pub marrow_indicators: MarrowIndicators,
    /// Marker -> channel (`$PnN`) used.
    pub markers: BTreeMap<String, String>,
    /// Whether the file's spillover matrix was applied.
    pub compensated: bool,
    /// Every gate in order, with its rule, thresholds and counts.
    pub gates: Vec<GateRecord>,
    /// The clusters of CD19+CD10+ cells and their judgement.
    pub clusters: Vec<Cluster>,
    /// The normal B-precursor bounds the clusters were judged against.
    pub normal_bounds: Vec<Bound>,
    /// The internal reference levels behind those bounds.
    pub references: Vec<ReferenceLevel>,
    /// What the reader recovered from (non-fatal file problems).
    pub warnings: Vec<String>,
}

/// One site's entry in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteReport {
    /// Site name.
    pub name: String,
    /// FCS file.
    pub file: String,
    /// POSITIVE, NEGATIVE or NOT_EVALUABLE.
    pub status: Status,
    /// Why.
    pub reason: String,
    /// Set when the site could not be analysed (then no measures follow).
    pub error: Option<String>,
    /// The measures, when analysed.
    #[serde(flatten)]
    pub measures: Option<SiteMeasures>,
}

/// The per-event results of an analysed site (for exports and plots).
#[derive(Debug, Clone)]
pub struct SiteGating {
    /// Display-scale columns.
    pub prepared: Prepared,
    /// Pre-gate memberships.
    pub pregates: PreGates,
    /// Blast membership and clusters.
    pub blasts: BlastSearch,
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        100.0 * part as f64 / whole as f64
    } else {
        0.0
    }
}

fn count(m: &[bool]) -> u64 {
    m.iter().filter(|&&b| b).count() as u64
}

/// Analyses one site. A site that cannot be analysed is reported NOT
/// EVALUABLE with its error (and no gating), so the other sites still are.
pub fn analyze_site(site: &Site, limits: &Limits) -> (SiteReport, Option<SiteGating>) {
    let file = site.file.display().to_string();
    match measure(site, limits) {
        Ok((status, reason, measures, gating)) => (
            SiteReport {
                name: site.name.clone(),
                file,
                status,
                reason,
                error: None,
                measures: Some(measures),
            },
            Some(gating),
        ),
        Err(e) => (
            SiteReport {
                name: site.name.clone(),
                file,
                status: Status::NotEvaluable,
                reason: format!("could not be analysed: {e}"),
                error: Some(e.to_string()),
                measures: None,
            },
            None,
        ),
    }
}

type Measured = (Status, String, SiteMeasures, SiteGating);

fn measure(site: &Site, limits: &Limits) -> Result<Measured, SiteError> {
    let file = FcsFile::open(&site.file)?;
    let path = site.file.display().to_string();
    let info = file.dataset(0).map_err(|source| FileError {
        path: site.file.clone(),
        source,
    })?;
    let channels: Vec<(String, Option<String>)> = info
        .metadata
        .channels
        .iter()
        .map(|c| (c.name.clone(), c.marker.clone()))
        .collect();
    let markers = MarkerMap::from_channels(&channels, &site.panel);
    let missing = markers.missing_required();
    if !missing.is_empty() {
        return Err(SiteError::MissingMarkers {
            file: path,
            missing: missing.iter().map(|m| m.name()).collect(),
            found: channels
                .iter()
                .map(|(n, s)| match s {
                    Some(s) if !s.trim().is_empty() => format!("{n} ({s})"),
                    _ => n.clone(),
                })
                .collect(),
        });
    }
    if info.event_count == 0 {
        return Err(SiteError::NoEvents(path));
    }
    let warnings = info.warnings.iter().map(|w| w.to_string()).collect();
    let prepared = prepare(&file, 0, &markers).map_err(|source| FileError {
        path: site.file.clone(),
        source,
    })?;
    let g = pregate(&prepared);
    let blasts = find_blasts(&prepared, &g, limits.lod_events);
    let marrow = marrow_indicators(&prepared, &g, &blasts.members);

    let total = prepared.events as u64;
    let (stable, cells, singlets, viable) = (
        count(&g.stable),
        count(&g.cells),
        count(&g.singlets),
        count(&g.viable),
    );
    let cd19 = count(&g.b_lineage);
    let debris = stable - cells;
    // Non-viable material (debris and dead cells) marks necrosis.
    let nonviable = debris + (singlets - viable);
    let verdict = judge(
        &SiteCounts {
            total_events: total,
            debris_events: nonviable,
            viable_nucleated_events: viable,
            blast_events: blasts.events,
            marrow_specific_percent: marrow.marrow_specific_percent,
        },
        limits,
    );
    let mut gates = g.records.clone();
    gates.push(blasts.record.clone());
    let measures = SiteMeasures {
        total_events: total,
        debris_percent: percent(debris, stable),
        doublet_percent: percent(cells - singlets, cells),
        dead_percent: percent(singlets - viable, singlets),
        viable_percent: percent(viable, singlets),
        viable_nucleated_events: viable,
        cd19_events: cd19,
        cd19_cd10_events: count(&g.cd10_positive),
        blast_events: blasts.events,
        blast_percent: verdict.blast_percent,
        blast_percent_of_cd19: percent(blasts.events, cd19),
        blast_ci95: verdict.blast_ci95,
        sensitivity: verdict.sensitivity,
        quantifiable: verdict.quantifiable,
        marrow_indicators: marrow,
        markers: markers
            .iter()
            .map(|(m, j)| (m.name(), channels[j].0.clone()))
            .collect(),
        compensated: prepared.compensated,
        gates,
        clusters: blasts.clusters.clone(),
        normal_bounds: blasts.bounds.clone(),
        references: blasts
            .references
            .iter()
            .map(|(p, m, l)| ReferenceLevel {
                population: p.clone(),
                marker: m.clone(),
                level: *l,
            })
            .collect(),
        warnings,
    };
    Ok((
        verdict.status,
        verdict.reason,
        measures,
        SiteGating {
            prepared,
            pregates: g,
            blasts,
        },
    ))
}
