//! One site from file to verdict: read, find the markers, prepare, gate,
//! search for blasts, count the marrow-only cells, judge. Or, with user
//! gates, take the blasts and the viable nucleated cells from a Gating-ML
//! gate tree and judge those.

use super::case::Site;
use super::review::{Review, apply_review, review_cd19_negative};
use crate::events::FileEvents;
use crate::fcs::{DataSetInfo, FcsFile, FileError};
use crate::gate::tree::GateTree;
use crate::qc::{Concern, Limits, SiteCounts, Status, format_percent, judge};
use crate::stats::percent;
use crate::strategy::blasts::{
    BlastSearch, BlastSettings, Bound, Cluster, ExportAgreement, Level, PatternCheck, Phenotype,
    find_blasts,
};
use crate::strategy::cd19_negative::{Cd19NegativeSearch, alternatives, find_cd19_negative};
use crate::strategy::hemodilution::{MarrowIndicators, marrow_indicators};
use crate::strategy::markers::{MarkerMap, describe_channel};
use crate::strategy::pregate::{GateRecord, PreGates, PregateSettings, count, pregate};
use crate::strategy::prepare::{Prepared, prepare};
use crate::strategy::stains::{StainCheck, check_stains};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Why a site could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The file is unreadable.
    #[error(transparent)]
    Read(#[from] FileError),
    /// Required markers are missing.
    #[error(
        "{file}: missing required marker(s) {}; channels found: {}; if the file names them another way, write a panel (`marrowgate panel {file} --out panel.toml`, write the marker beside each channel, e.g. `\"<channel>\" = \"{}\"`) and pass it with --panel panel.toml",
        missing.join(", "),
        list_channels(found),
        missing.first().map_or("CD19", |m| m.as_str())
    )]
    MissingMarkers {
        /// File.
        file: String,
        /// Markers not found.
        missing: Vec<String>,
        /// Every channel as `$PnN` (`$PnS`), to help write a panel.
        found: Vec<String>,
    },
    /// Several channels claim one marker and nothing says which to use.
    #[error("{file}: {}", ambiguous.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    AmbiguousMarkers {
        /// File.
        file: String,
        /// Each marker with the channels that claim it.
        ambiguous: Vec<crate::strategy::markers::Ambiguity>,
    },
    /// The file has no events.
    #[error("{0}: no events")]
    NoEvents(String),
    /// User gates do not fit the file, or name a gate the tree lacks.
    #[error("{file}: {message}")]
    Gates {
        /// File.
        file: String,
        /// What does not fit.
        message: String,
    },
}

/// Channels listed in an error: the first 24, then how many more (a file
/// can declare 100,000 channels).
fn list_channels(found: &[String]) -> String {
    const SHOWN: usize = 24;
    let mut s = found
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if found.len() > SHOWN {
        s.push_str(&format!(" and {} more", found.len() - SHOWN));
    }
    s
}

impl UserGates {
    /// Reads the gate tree of a Gating-ML 2.0 file; the gate ids are checked
    /// against it.
    pub fn read(
        path: &std::path::Path,
        blast_gate: &str,
        nucleated_gate: &str,
        cd19_gate: Option<&str>,
    ) -> Result<UserGates, String> {
        let tree = crate::gate::gating_ml::read(path).map_err(|e| e.to_string())?;
        for id in [Some(blast_gate), Some(nucleated_gate), cd19_gate]
            .into_iter()
            .flatten()
        {
            if !tree.gates.iter().any(|g| g.id == id) {
                return Err(format!(
                    "{}: no gate {id:?} (gates: {})",
                    path.display(),
                    tree.gates
                        .iter()
                        .map(|g| g.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(UserGates {
            tree,
            source: path.display().to_string(),
            blast_gate: blast_gate.into(),
            nucleated_gate: nucleated_gate.into(),
            cd19_gate: cd19_gate.map(str::to_string),
        })
    }
}

/// How the sites of a case are analysed.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Detection and adequacy limits.
    pub limits: Limits,
    /// The pre-gates' parameters.
    pub pregate: PregateSettings,
    /// The blast search's rules.
    pub blast: BlastSettings,
    /// Automated strategy or user gates.
    pub strategy: Strategy,
    /// Analyse a file whose declared spillover cannot be applied
    /// uncompensated (the site says so); otherwise it is NOT EVALUABLE.
    pub accept_uncompensated: bool,
    /// Keep each site's blast events (all channels, as analysed) for
    /// export.
    pub keep_blast_events: bool,
    /// A folder of reviewed gates (`<output_name>.xml` per site, as
    /// `analyze --out` exported them to `gating/`): each site with a file
    /// there is re-run with its gates (`analysis::review`).
    pub reviewed_gating: Option<std::path::PathBuf>,
    /// The patient's leukaemia-associated phenotype (from the diagnostic
    /// time point), searched for besides anything off the normal pattern.
    pub expected_phenotype: Option<Phenotype>,
    /// The patient was given CD19-directed therapy (blinatumomab, CD19
    /// CAR-T): CD19-negative disease must be excluded, not assumed away.
    pub cd19_directed_therapy: bool,
}

/// How the blasts of a site are found.
#[derive(Debug, Clone, Default)]
pub enum Strategy {
    /// The automated common-B-ALL strategy.
    #[default]
    Automatic,
    /// A user's Gating-ML gate tree.
    UserGates(UserGates),
}

/// A user's gates in place of the automated strategy.
#[derive(Debug, Clone)]
pub struct UserGates {
    /// The gate tree.
    pub tree: GateTree,
    /// Where it came from (for the report).
    pub source: String,
    /// Gate id of the blasts.
    pub blast_gate: String,
    /// Gate id of the viable nucleated cells (the denominator).
    pub nucleated_gate: String,
    /// Gate id of the CD19+ cells, if any.
    pub cd19_gate: Option<String>,
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
    /// Doublets, % of cells (null with user gates).
    pub doublet_percent: Option<f64>,
    /// Dead cells, % of single cells (null with user gates).
    pub dead_percent: Option<f64>,
    /// Viable cells, % of single cells (with user gates: viable nucleated
    /// cells, % of all events).
    pub viable_percent: f64,
    /// Viable nucleated single cells: the denominator.
    pub viable_nucleated_events: u64,
    /// CD19+ B-lineage cells (null with user gates without a CD19 gate).
    pub cd19_events: Option<u64>,
    /// CD19+CD10+ cells (blasts and hematogones; null with user gates).
    pub cd19_cd10_events: Option<u64>,
    /// Blasts.
    pub blast_events: u64,
    /// Blasts, % of viable nucleated cells.
    pub blast_percent: f64,
    /// Blasts, % of CD19+ cells (null when CD19+ is unknown).
    pub blast_percent_of_cd19: Option<f64>,
    /// Wilson 95 % interval of `blast_percent`.
    pub blast_ci95: [f64; 2],
    /// Lowest blast fraction this site could detect (LOD / viable
    /// nucleated events), as a fraction.
    pub sensitivity: f64,
    /// Whether the blast count reaches the LLOQ.
    pub quantifiable: bool,
    /// Whether `blast_percent` is a lower bound: part of the disease may
    /// be invisible to this panel (CD19-negative blasts after CD19-directed
    /// therapy with no other B-lineage marker), so only the blasts it can
    /// see are counted.
    pub blast_percent_is_lower_bound: bool,
    /// Hemodilution indicators (null with user gates: not assessed).
    pub marrow_indicators: Option<MarrowIndicators>,
    /// "automatic", or "gating-ml FILE" for user gates.
    pub strategy: String,
    /// Marker -> channel (`$PnN`) used.
    pub markers: BTreeMap<String, String>,
    /// How a marker claimed by several channels was resolved, in words.
    pub marker_choices: Vec<String>,
    /// Whether the file's spillover matrix was applied.
    pub compensated: bool,
    /// Every gate in order, with its rule, thresholds, counts and its id
    /// in the site's Gating-ML export.
    pub gates: Vec<GateRecord>,
    /// The site's automated gates as a Gating-ML 2.0 file, relative to
    /// the `--out` folder (`gating/<output_name>.xml`, written with
    /// `--out`); `None` with user gates.
    pub gating_ml: Option<String>,
    /// How the exported blast gate (ellipsoids) agrees event by event
    /// with the blast call; `None` without blast clusters.
    pub blast_gate_agreement: Option<ExportAgreement>,
    /// The reviewed gates this site was re-run with and what they
    /// changed; `None` without a review.
    pub review: Option<Review>,
    /// The clusters of CD19+CD10+ cells and their judgement.
    pub clusters: Vec<Cluster>,
    /// The normal B-precursor bounds the clusters were judged against.
    pub normal_bounds: Vec<Bound>,
    /// The internal reference levels behind those bounds.
    pub references: Vec<ReferenceLevel>,
    /// What the reader recovered from (non-fatal file problems).
    pub warnings: Vec<String>,
    /// What limits what this site can show (failed stains, an incomplete
    /// file, uncompensated data), each with its effect on the verdict.
    pub concerns: Vec<Concern>,
    /// Each lineage stain checked against its internal positive control
    /// (empty with user gates).
    pub stain_checks: Vec<StainCheck>,
    /// The search for CD19-negative B-lineage blasts through CD22, CD24 or
    /// CD79a (`None` when the tube has none of them).
    pub cd19_negative: Option<Cd19NegativeSearch>,
}

/// One site's entry in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteReport {
    /// Site name.
    pub name: String,
    /// FCS file.
    pub file: String,
    /// The site's outputs are named after this (`plots/<output_name>.gating.png`,
    /// `<output_name>.blasts.fcs`): its position and its name, unique
    /// within the case and safe as a file name.
    pub output_name: String,
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

/// The blast events of a site as they were analysed (not re-read from the
/// file, which may have changed since), ready to write as FCS.
#[derive(Debug, Clone)]
pub struct BlastEvents {
    /// The source data set's keywords.
    pub keywords: crate::fcs::Keywords,
    /// Its channels.
    pub channels: Vec<crate::fcs::Channel>,
    /// The blast events x channels, channel values.
    pub events: ndarray::Array2<f32>,
}

/// The per-event results of an analysed site (for exports and plots).
#[derive(Debug, Clone)]
pub struct SiteGating {
    /// Blast membership of every event.
    pub blasts: Vec<bool>,
    /// The blast events, when kept ([`Settings::keep_blast_events`]).
    pub blast_events: Option<BlastEvents>,
    /// The automated strategy's columns and gates (absent with user gates).
    pub automatic: Option<AutomaticGating>,
}

/// What the automated strategy computed for a site.
#[derive(Debug, Clone)]
pub struct AutomaticGating {
    /// Display-scale columns.
    pub prepared: Prepared,
    /// Pre-gate memberships.
    pub pregates: PreGates,
    /// Blast clusters.
    pub search: BlastSearch,
    /// The CD19-negative B-lineage gate, when the tube has the markers for
    /// it.
    pub cd19_negative: Option<GateRecord>,
}

impl AutomaticGating {
    /// Every automated gate in order: the pre-gates, the blast gate and
    /// the CD19-negative B-lineage gate.
    pub fn records(&self) -> impl Iterator<Item = &GateRecord> {
        self.pregates
            .records
            .iter()
            .chain([&self.search.record])
            .chain(self.cd19_negative.as_ref())
    }

    /// The site's automated gates as one Gating-ML tree (pre-gates, the
    /// blast gate and the CD19-negative B-lineage gate, with the scales
    /// they were applied on).
    pub fn gate_tree(&self) -> crate::gate::tree::GateTree {
        crate::gate::tree::GateTree {
            transforms: self.prepared.transforms(),
            matrices: Vec::new(),
            gates: self
                .records()
                .flat_map(|r| r.exported.iter().cloned())
                .collect(),
        }
    }

    /// The CD19+CD10+ cells that are not blasts: the normal B-cell
    /// precursors (hematogones).
    pub fn hematogones(&self) -> Vec<bool> {
        self.pregates
            .cd10_positive
            .iter()
            .zip(&self.search.members)
            .map(|(c, b)| *c && !*b)
            .collect()
    }
}

/// Analyses one site. A site that cannot be analysed is reported NOT
/// EVALUABLE with its error (and no gating), so the other sites still are.
pub fn analyze_site(site: &Site, settings: &Settings) -> (SiteReport, Option<SiteGating>) {
    analyze_site_as(site, settings, &super::case::output_name(0, 1, &site.name))
}

/// [`analyze_site`] of a site whose outputs are named `output_name` (its
/// reviewed gates, if any, are `<output_name>.xml` in
/// [`Settings::reviewed_gating`]).
pub fn analyze_site_as(
    site: &Site,
    settings: &Settings,
    output_name: &str,
) -> (SiteReport, Option<SiteGating>) {
    let file = site.file.display().to_string();
    let output_name = output_name.to_string();
    let reviewed = settings
        .reviewed_gating
        .as_ref()
        .map(|dir| dir.join(format!("{output_name}.xml")));
    let measured = with_analysed_dataset(site, |file, info| match &settings.strategy {
        Strategy::Automatic => measure_automatic(
            site,
            settings,
            file,
            &info,
            &output_name,
            reviewed.as_deref(),
        ),
        Strategy::UserGates(u) => {
            let (status, reason, measures, mut gating) =
                gate_with_user_gates(site, settings, u, &file, &info)?;
            if settings.keep_blast_events {
                gating.blast_events = Some(blast_events(&file, &info, &gating.blasts)?);
            }
            Ok((status, reason, measures, gating))
        }
    });
    match measured {
        Ok((status, reason, measures, gating)) => (
            SiteReport {
                name: site.name.clone(),
                file,
                output_name,
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
                output_name,
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

/// The data set a site is analysed on, with its index in the file.
struct AnalysedDataSet {
    index: usize,
    info: DataSetInfo,
    /// Said when the file holds several data sets.
    choice: Option<String>,
}

/// Opens a site's file ([`FcsFile::read_streaming`]: its events read from
/// the open file as they are decoded, never mapped, so a file truncated or
/// rewritten while the case runs is that site's error, never a crash) and
/// hands the data set an analysis reads ([`FcsFile::analysed_dataset`]) to
/// `f`.
fn with_analysed_dataset<T>(
    site: &Site,
    f: impl FnOnce(FcsFile, AnalysedDataSet) -> Result<T, SiteError>,
) -> Result<T, SiteError> {
    let file = FcsFile::read_streaming(&site.file)?;
    let index = file.analysed_dataset();
    let info = file
        .dataset(index)
        .map_err(|source| FileError {
            path: site.file.clone(),
            source,
        })?
        .clone();
    let count = file.datasets().len();
    let choice = (count > 1).then(|| {
        if index == 0 {
            format!("the file holds {count} data sets; the first is analysed")
        } else {
            format!(
                "data set {} of {count} analysed: the file (a Beckman LMD) holds the same events as an FCS 2.0 set and at full resolution as an FCS {} set",
                index + 1,
                info.header.version
            )
        }
    });
    f(
        file,
        AnalysedDataSet {
            index,
            info,
            choice,
        },
    )
}

/// What the file itself limits, whichever strategy gated it: a file cut
/// short forbids a NEGATIVE; a declared spillover matrix that could not be
/// applied (`compensation_problem`) blocks the verdict unless the user
/// accepted uncompensated data, which is then stated.
fn file_concerns(
    data: &AnalysedDataSet,
    compensation_problem: Option<&str>,
    accept_uncompensated: bool,
) -> Vec<Concern> {
    let mut concerns: Vec<Concern> = data
        .info
        .incomplete()
        .into_iter()
        .map(Concern::no_negative)
        .collect();
    concerns.extend(data.choice.clone().map(Concern::note));
    if let Some(problem) = compensation_problem {
        concerns.push(if accept_uncompensated {
            Concern::note(format!(
                "{problem}; analysed uncompensated as the user accepted (--accept-uncompensated): marker levels include spillover"
            ))
        } else {
            Concern::blocks(format!(
                "{problem}; uncompensated data can shift blasts in or out of every gate (to analyse it anyway, pass --accept-uncompensated)"
            ))
        });
    }
    concerns
}

/// The events flagged in `members`, all channels, channel values.
fn blast_events(
    file: &FcsFile,
    data: &AnalysedDataSet,
    members: &[bool],
) -> Result<BlastEvents, SiteError> {
    let info = &data.info;
    let read_error = |source| FileError {
        path: file.path().map(Into::into).unwrap_or_default(),
        source,
    };
    let events = file.events(data.index).map_err(read_error)?;
    let rows: Vec<usize> = (0..members.len().min(events.nrows()))
        .filter(|&i| members[i])
        .collect();
    Ok(BlastEvents {
        keywords: info.keywords.clone(),
        channels: info.metadata.channels.clone(),
        events: events.select(ndarray::Axis(0), &rows),
    })
}

/// The automated strategy on one site. The file's bytes are released once
/// its columns are read (unless its blast events are to be kept): memory
/// then holds the columns, not the file.
fn measure_automatic(
    site: &Site,
    settings: &Settings,
    file: FcsFile,
    data: &AnalysedDataSet,
    output_name: &str,
    reviewed: Option<&Path>,
) -> Result<Measured, SiteError> {
    let info = &data.info;
    let limits = &settings.limits;
    let path = site.file.display().to_string();
    let channels: Vec<(String, Option<String>)> =
        crate::fcs::metadata::names_and_labels(&info.metadata.channels);
    let markers = MarkerMap::for_analysis(&channels, &site.panel);
    if !markers.ambiguous.is_empty() {
        return Err(SiteError::AmbiguousMarkers {
            file: path,
            ambiguous: markers.ambiguous.clone(),
        });
    }
    let missing = markers.missing_required();
    if !missing.is_empty() {
        return Err(SiteError::MissingMarkers {
            file: path,
            missing: missing.iter().map(|m| m.name()).collect(),
            found: channels
                .iter()
                .map(|(n, s)| describe_channel(n, s.as_deref()))
                .collect(),
        });
    }
    if info.event_count == 0 {
        return Err(SiteError::NoEvents(path));
    }
    let warnings = info.warnings.iter().map(|w| w.to_string()).collect();
    let prepared = prepare(&file, data.index, &markers).map_err(|source| FileError {
        path: site.file.clone(),
        source,
    })?;
    // From here on the columns are what is read: the file (a read one's
    // bytes) goes now, unless a review reads it again or its blast events
    // are kept.
    let file = (reviewed.is_some() || settings.keep_blast_events).then_some(file);
    let mut g = pregate(&prepared, &settings.pregate);
    let mut blasts = find_blasts(
        &prepared,
        &g,
        limits.lod_events,
        settings.expected_phenotype.as_ref(),
        &settings.blast,
    );
    let gates_error = |e: super::review::ReviewError| SiteError::Gates {
        file: e.file,
        message: e.message,
    };
    let (mut review, reviewed_file) = match (reviewed, file.as_ref()) {
        (Some(path), Some(file)) => {
            let (review, reviewed) =
                apply_review(path, file, data.index, info, &mut g, &mut blasts)
                    .map_err(gates_error)?;
            (Some(review), Some(reviewed))
        }
        _ => (None, None),
    };
    if review.is_some() {
        // The references downstream follow the reviewed gates.
        g.refresh_lymphocytes(&prepared);
    }
    let mut cd19_negative = find_cd19_negative(
        &prepared,
        &g,
        limits.lod_events,
        settings.pregate.negative_sd,
        PatternCheck::of(&blasts, &settings.blast),
    );
    if let (Some(reviewed), Some(review)) = (reviewed_file.as_ref(), review.as_mut())
        && let Some(neg) = cd19_negative.take()
    {
        let gating = review_cd19_negative(reviewed, &prepared, &g, limits.lod_events, neg, review)
            .map_err(gates_error)?;
        cd19_negative = Some(gating);
    }
    // The reviewed file's memberships go now.
    drop(reviewed_file);
    let file = file.filter(|_| settings.keep_blast_events);
    if let Some(neg) = cd19_negative.as_ref().filter(|n| n.search.found) {
        blasts
            .members
            .iter_mut()
            .zip(&neg.members)
            .for_each(|(b, n)| *b |= *n);
        blasts.events = count(&blasts.members);
        blasts.clusters.push(Cluster {
            events: neg.search.events,
            centre: neg.search.centre.clone(),
            spread_decades: 0.0,
            deviation_decades: 0.0,
            aberrancies: vec![neg.search.statement.clone()],
            size_of_lymphocytes: None,
            overlap_with_normal: None,
            overlap_with_rest: None,
            blast: true,
        });
    }
    // The marrow indicators and the stain checks read the final gates and
    // blast call, not each other: side by side.
    let (marrow, stain_checks) = rayon::join(
        || marrow_indicators(&prepared, &g, &blasts.members),
        || check_stains(&prepared, &g, limits.lod_events),
    );
    // A failed stain forbids a NEGATIVE; a failed CD45 check blocks every
    // verdict: without CD45-bright lymphocytes the references of the blast
    // search (their CD45, the negative level of every B marker) are not
    // there, so a "cluster" found against them means nothing either.
    // After CD19-directed therapy a marrow without CD19+ B cells is
    // expected (B-cell aplasia); it can still be NEGATIVE when the B
    // lineage was searched through another marker whose stain is shown.
    let aplasia_covered = settings.cd19_directed_therapy
        && cd19_negative
            .as_ref()
            .is_some_and(|n| !n.search.verified.is_empty());
    let mut concerns: Vec<Concern> = stain_checks
        .iter()
        .filter_map(|c| {
            let finding = c.finding.clone()?;
            Some(if c.marker == "CD45" {
                Concern::blocks(finding)
            } else if c.marker == "CD19" && aplasia_covered {
                Concern::note(format!(
                    "no CD19+ B cells ({} CD19+): B-cell aplasia, expected after CD19-directed therapy; the B lineage was searched through {} (stain shown on its internal control)",
                    c.positive_events,
                    cd19_negative
                        .as_ref()
                        .map(|n| n.search.verified.join(", "))
                        .unwrap_or_default()
                ))
            } else {
                Concern::no_negative(finding)
            })
        })
        .collect();
    if settings.cd19_directed_therapy {
        let problem = match &cd19_negative {
            _ if alternatives(&prepared).is_empty() => Some(
                "after CD19-directed therapy, CD19-negative disease cannot be excluded with this panel: it holds no B-lineage marker other than CD19 (CD22, CD24, cytoplasmic CD79a)".to_string(),
            ),
            None => Some(
                "after CD19-directed therapy, CD19-negative disease cannot be excluded: the search through the other B-lineage markers could not run (no T/NK lymphocyte reference for their negative level)".to_string(),
            ),
            Some(n) if n.search.verified.is_empty() => Some(format!(
                "after CD19-directed therapy, CD19-negative disease cannot be excluded: {} shows no positive population on its internal control (CD24 on granulocytic cells, CD22/CD79a on B cells)",
                n.search.markers.join(", ")
            )),
            Some(_) => None,
        };
        concerns.extend(problem.map(Concern::hides_disease));
    }
    concerns.extend(g.warnings.iter().cloned().map(Concern::note));
    concerns.extend(file_concerns(
        data,
        prepared.compensation_problem.as_deref(),
        settings.accept_uncompensated,
    ));
    if let Some(r) = &review {
        concerns.push(Concern::note(r.summary()));
    }
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
    let mut nonviable = debris + (singlets - viable);
    // Debris by size alone, when it finds far more than the debris gate
    // removed (by `size_debris_excess` of the events): the gate's
    // lymphocyte anchor was then debris itself (a necrotic aspirate whose
    // few cells are lost among it), and the small events the gates kept
    // count as non-viable too.
    if let Some(size) = g.size_check.filter(|s| {
        s.small_events as f64 > debris as f64 + settings.pregate.size_debris_excess * stable as f64
    }) {
        concerns.push(Concern::note(format!(
            "{} of events are smaller than {}x a lymphocyte's FSC-A ({:.4}, the larger of the CD45-brightest events' and {}x the granulocytes'; debris by size), more than the debris gate removed ({}): the {} small events among the viable cells count as debris in the necrosis check",
            format_percent(percent(size.small_events, stable)),
            settings.pregate.small_event_factor,
            size.reference_fsc,
            crate::strategy::pregate::LYMPHOCYTE_OF_GRANULOCYTE_SIZE,
            format_percent(percent(debris, stable)),
            size.small_viable,
        )));
        nonviable += size.small_viable;
    }
    if let Some(leukocytes) = marrow
        .leukocyte_percent
        .filter(|&l| l < settings.pregate.min_leukocyte_percent)
    {
        concerns.push(Concern::blocks(format!(
            "only {} of the viable nucleated events are leukocytes or B-lineage cells (CD45 within 1.5 decades of the lymphocytes, CD19+ or CD10+; at least {} expected): no marrow is mostly CD45-, CD19-, CD10- cells (nucleated red cells are at most about half, even in erythroid hyperplasia), so debris or dead cells passed the debris gate and the viability dye, and neither a blast cluster nor its absence can be relied on",
            format_percent(leukocytes),
            format_percent(settings.pregate.min_leukocyte_percent)
        )));
    }
    let verdict = judge(
        &SiteCounts {
            total_events: total,
            debris_events: nonviable,
            viable_nucleated_events: viable,
            blast_events: blasts.events,
            marrow_specific_percent: Some(marrow.marrow_specific_percent),
            concerns: concerns.clone(),
        },
        limits,
    );
    let mut gates = g.records.clone();
    gates.push(blasts.record.clone());
    let cd19_record = cd19_negative.as_ref().map(|n| n.record.clone());
    gates.extend(cd19_record.clone());
    let measures = SiteMeasures {
        total_events: total,
        debris_percent: percent(debris, stable),
        doublet_percent: Some(percent(cells - singlets, cells)),
        dead_percent: Some(percent(singlets - viable, singlets)),
        viable_percent: percent(viable, singlets),
        viable_nucleated_events: viable,
        cd19_events: Some(cd19),
        cd19_cd10_events: Some(count(&g.cd10_positive)),
        blast_events: blasts.events,
        blast_percent: verdict.blast_percent,
        blast_percent_of_cd19: Some(percent(blasts.events, cd19)),
        blast_ci95: verdict.blast_ci95,
        sensitivity: verdict.sensitivity,
        quantifiable: verdict.quantifiable,
        blast_percent_is_lower_bound: verdict.lower_bound,
        marrow_indicators: Some(marrow),
        strategy: "automatic".into(),
        marker_choices: markers.resolved.clone(),
        markers: markers
            .iter()
            .map(|(m, j)| (m.name(), channels[j].0.clone()))
            .collect(),
        compensated: prepared.compensated(),
        gates,
        gating_ml: Some(super::case::gating_ml_path(output_name)),
        blast_gate_agreement: blasts.export_agreement,
        review,
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
        concerns,
        stain_checks,
        cd19_negative: cd19_negative.map(|n| n.search),
    };
    let blast_events = file
        .map(|f| blast_events(&f, data, &blasts.members))
        .transpose()?;
    Ok((
        verdict.status,
        verdict.reason,
        measures,
        SiteGating {
            blasts: blasts.members.clone(),
            blast_events,
            automatic: Some(AutomaticGating {
                prepared,
                pregates: g,
                search: blasts,
                cd19_negative: cd19_record,
            }),
        },
    ))
}

fn gate_with_user_gates(
    site: &Site,
    settings: &Settings,
    u: &UserGates,
    file: &FcsFile,
    data: &AnalysedDataSet,
) -> Result<Measured, SiteError> {
    let info = &data.info;
    let limits = &settings.limits;
    let path = site.file.display().to_string();
    let gate_error = |message: String| SiteError::Gates {
        file: path.clone(),
        message,
    };
    let membership = u
        .tree
        .evaluate(
            &FileEvents {
                file,
                dataset: data.index,
            },
            info.metadata.spillover.as_ref(),
        )
        .map_err(|e| gate_error(format!("{}: {e}", u.source)))?;
    let gate = |id: &str| {
        membership.of(id).ok_or_else(|| {
            gate_error(format!(
                "{} has no gate {id:?} (gates: {})",
                u.source,
                membership
                    .counts
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    };
    let nucleated = gate(&u.nucleated_gate)?;
    let blasts: Vec<bool> = gate(&u.blast_gate)?
        .iter()
        .zip(nucleated)
        .map(|(b, n)| *b && *n)
        .collect();
    let cd19 = u.cd19_gate.as_deref().map(gate).transpose()?.map(count);
    // Gates read through the file's compensation (Gating-ML "FCS") are
    // uncompensated when its declared matrix cannot be read: never silently.
    let reads_file_compensation = u.tree.gates.iter().any(|g| {
        g.kind
            .dimensions()
            .iter()
            .any(|d| d.compensation == crate::gate::CompensationRef::FromFile)
    });
    let compensation_problem = reads_file_compensation
        .then(|| crate::strategy::prepare::compensation_problem(info))
        .flatten();
    let concerns = file_concerns(
        data,
        compensation_problem.as_deref(),
        settings.accept_uncompensated,
    );
    let total = membership.total as u64;
    let viable = count(nucleated);
    let blast_events = count(&blasts);
    let verdict = judge(
        &SiteCounts {
            total_events: total,
            debris_events: total - viable,
            viable_nucleated_events: viable,
            blast_events,
            marrow_specific_percent: None,
            concerns: concerns.clone(),
        },
        limits,
    );
    let gates = membership
        .counts
        .iter()
        .map(|c| GateRecord {
            name: c.id.clone(),
            parent: c.parent.clone(),
            dimensions: Vec::new(),
            view: None,
            rule: format!("Gating-ML gate from {}", u.source),
            thresholds: Vec::new(),
            events: c.events as u64,
            percent_of_parent: c.percent_of_parent,
            id: Some(c.id.clone()),
            exported: Vec::new(),
        })
        .collect();
    let measures = SiteMeasures {
        total_events: total,
        debris_percent: percent(total - viable, total),
        doublet_percent: None,
        dead_percent: None,
        viable_percent: percent(viable, total),
        viable_nucleated_events: viable,
        cd19_events: cd19,
        cd19_cd10_events: None,
        blast_events,
        blast_percent: verdict.blast_percent,
        blast_percent_of_cd19: cd19.map(|c| percent(blast_events, c)),
        blast_ci95: verdict.blast_ci95,
        sensitivity: verdict.sensitivity,
        quantifiable: verdict.quantifiable,
        blast_percent_is_lower_bound: verdict.lower_bound,
        marrow_indicators: None,
        strategy: format!("gating-ml {}", u.source),
        markers: BTreeMap::new(),
        marker_choices: Vec::new(),
        compensated: info.metadata.spillover.is_some(),
        gates,
        gating_ml: None,
        blast_gate_agreement: None,
        review: None,
        clusters: Vec::new(),
        normal_bounds: Vec::new(),
        references: Vec::new(),
        warnings: info.warnings.clone(),
        concerns,
        stain_checks: Vec::new(),
        cd19_negative: None,
    };
    Ok((
        verdict.status,
        verdict.reason,
        measures,
        SiteGating {
            blasts,
            blast_events: None,
            automatic: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_channel_list_is_cut_and_counted() {
        let many: Vec<String> = (0..100_000).map(|i| format!("P{i}")).collect();
        let text = super::list_channels(&many);
        assert!(
            text.len() < 400 && text.ends_with("and 99976 more"),
            "{text}"
        );
        assert_eq!(super::list_channels(&many[..2]), "P0, P1");
    }
}
