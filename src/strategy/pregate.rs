//! The first gates of the B-ALL strategy, each threshold taken from the
//! data and recorded for audit: flow stability over time, debris, singlets,
//! viability, CD19+ B lineage and CD10+ within it. (CD10 is never judged
//! outside CD19+: mature neutrophils are CD10+.)

use super::density::{BANDWIDTH_SAMPLE, Density, bandwidth_of_sample};
use super::export::{at_least, at_most, below, none_of, rectangle, set_parent};
use super::markers::Marker;
use super::prepare::Prepared;
use crate::gate::{Gate, Interval};
use crate::stats::{median_and_robust_sd, percent, quantiles};
use rayon::prelude::*;
use serde::Serialize;

/// One automated gate as drawn and audited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateRecord {
    /// Gate name.
    pub name: String,
    /// Parent gate name.
    pub parent: Option<String>,
    /// Dimensions it reads (display scales).
    pub dimensions: Vec<String>,
    /// The rule in words, with its thresholds.
    pub rule: String,
    /// Thresholds on the display scale.
    pub thresholds: Vec<f64>,
    /// Events in the gate.
    pub events: u64,
    /// Percent of the parent's events.
    pub percent_of_parent: f64,
    /// Id of the gate in the site's Gating-ML export; `None` when it is no
    /// gate (it passes every event, e.g. no Time channel) and is not
    /// exported.
    pub id: Option<String>,
    /// The Gating-ML gates that reproduce it on the site's file: helper
    /// regions first, the gate itself (id `id`, parent the nearest
    /// exported ancestor) last.
    #[serde(skip)]
    pub exported: Vec<Gate>,
}

/// The pre-gates' parameters, recorded in report.json
/// (`pregate_settings`) and stated in the methods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PregateSettings {
    /// Time bins of the flow-stability check.
    pub time_bins: usize,
    /// A time bin whose event rate is outside this factor of the median
    /// rate (below its inverse or above it) is unstable flow.
    pub rate_factor: f64,
    /// Most of the events the flow-stability gate may remove; beyond it the
    /// acquisition is irregular throughout and removing bins would bias the
    /// sample more than the irregularity does.
    pub max_unstable_fraction: f64,
    /// The debris cut is at least this fraction of the lymphocytes' FSC.
    pub min_debris_cut: f64,
    /// Singlets: FSC-H/FSC-A within this many robust SD below its median.
    pub singlet_sd: f64,
    /// Without a dye, dead cells judged by scatter have SSC above this
    /// multiple of the live lymphocytes' median.
    pub dead_ssc_factor: f64,
    /// A negative population's upper bound is its peak plus this many
    /// spreads of its left half (CD10-, a viability dye without a valley).
    pub negative_sd: f64,
    /// CD19+ cells have SSC at most this multiple of the lymphocytes'.
    pub cd19_ssc_factor: f64,
    /// An event smaller than this fraction of the CD45-brightest events'
    /// FSC is too small to be a nucleated cell (nucleated red cells, the
    /// smallest, are about three quarters of a lymphocyte).
    pub small_event_factor: f64,
    /// Debris by size counts in the necrosis check when it exceeds the
    /// debris gate's count by this fraction of stable events (a few
    /// percent either way is the two rules' different edges, not a failed
    /// gate).
    pub size_debris_excess: f64,
}

impl Default for PregateSettings {
    fn default() -> PregateSettings {
        PregateSettings {
            time_bins: 100,
            rate_factor: 2.0,
            max_unstable_fraction: 0.5,
            min_debris_cut: 0.4,
            singlet_sd: 4.0,
            dead_ssc_factor: 2.0,
            negative_sd: 4.0,
            cd19_ssc_factor: 4.0,
            small_event_factor: 0.6,
            size_debris_excess: 0.1,
        }
    }
}

/// Names of the pre-gates, which are also their ids in the Gating-ML
/// export (report.json `gates[].name` and `id`).
pub mod names {
    /// Events acquired while the flow was stable.
    pub const STABLE_FLOW: &str = "stable flow";
    /// Not debris.
    pub const CELLS: &str = "cells";
    /// Single cells.
    pub const SINGLETS: &str = "singlets";
    /// Viable nucleated cells (the denominator).
    pub const VIABLE: &str = "viable";
    /// The CD45-dim, SSC-low blast region (audit only).
    pub const BLAST_REGION: &str = "CD45dim SSClow";
    /// The B lineage.
    pub const CD19: &str = "CD19+";
    /// CD10+ B cells: where blasts and hematogones are told apart.
    pub const CD19_CD10: &str = "CD19+CD10+";
    /// The blast call.
    pub const BLASTS: &str = "blasts";
}

/// Memberships of the pre-gates (each inside the previous one).
#[derive(Debug, Clone)]
pub struct PreGates {
    /// Events acquired while the flow was stable.
    pub stable: Vec<bool>,
    /// Stable events that are cells (not debris).
    pub cells: Vec<bool>,
    /// Cells that are single.
    pub singlets: Vec<bool>,
    /// Singlets that are viable: the viable nucleated cells.
    pub viable: Vec<bool>,
    /// Viable cells that are CD19+.
    pub b_lineage: Vec<bool>,
    /// CD19+ cells that are CD10+.
    pub cd10_positive: Vec<bool>,
    /// Viable cells in the CD45-dim, SSC-low blast region (for audit and
    /// plots; blasts are judged inside CD19+CD10+, and the denominator keeps
    /// every viable cell, CD45- nucleated red cells and blasts included).
    pub blast_region: Vec<bool>,
    /// The viable CD19- lymphocytes, T and NK cells (brightest CD45 peak
    /// among viable CD19- cells, lower SSC half; see [`lymphocytes`]); all
    /// viable lymphocytes when no CD19- ones are found: the reference of
    /// the stain checks and the CD19-negative search. Empty without CD45.
    pub lymphocytes: Vec<usize>,
    /// The size check of necrosis, independent of the gates' lymphocyte
    /// anchor ([`SizeCheck`]); `None` without CD45 or bright CD45 events.
    pub size_check: Option<SizeCheck>,
    /// Every gate, in order.
    pub records: Vec<GateRecord>,
    /// What the gates could not do as designed (e.g. a Time channel that
    /// cannot be used), in words.
    pub warnings: Vec<String>,
}

/// Debris by size alone: stable events smaller than
/// [`PregateSettings::small_event_factor`] times the size of a lymphocyte.
/// The debris gate is anchored on the lymphocytes; in a necrotic aspirate
/// debris can outnumber them a thousandfold and take their place as the
/// "brightest CD45 peak", and the gate then keeps the debris. The size of a
/// lymphocyte is therefore taken twice, from populations debris cannot
/// imitate, and the larger is used: the CD45-brightest percent of events
/// (lymphocytes and monocytes; in a necrotic aspirate also smaller dead
/// cells, whose non-specific CD45 reaches there), and the side-scatter-
/// brightest percent of single events (granulocytes, which no debris or
/// dead cell scatters like) scaled by [`LYMPHOCYTE_OF_GRANULOCYTE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SizeCheck {
    /// The size of a lymphocyte used (display-scale FSC-A): the larger of
    /// the two references.
    pub reference_fsc: f64,
    /// Median FSC-A of the CD45-brightest events.
    pub cd45_brightest_fsc: f64,
    /// Median FSC-A of the side-scatter-brightest single events
    /// (granulocytes), when there are enough.
    pub granulocyte_fsc: Option<f64>,
    /// Stable events below the small-event factor x `reference_fsc`.
    pub small_events: u64,
    /// Of those, the ones the gates kept as viable nucleated cells.
    pub small_viable: u64,
}

/// The brightest fraction of stable, unsaturated events whose FSC is a
/// size reference.
const SIZE_REFERENCE_FRACTION: f64 = 0.01;

/// Events needed in a size reference.
const MIN_SIZE_REFERENCE: u64 = 20;

/// A lymphocyte's FSC-A as a fraction of a granulocyte's: conservatively
/// low (it is about 0.5-0.6 on linear FSC-A), so the granulocytes raise
/// the size reference only when the CD45-brightest events are clearly
/// smaller than cells.
pub const LYMPHOCYTE_OF_GRANULOCYTE_SIZE: f64 = 0.5;

/// Median FSC-A of the brightest [`SIZE_REFERENCE_FRACTION`] of `mask` in
/// `column` (saturated values left out), if there are enough.
fn fsc_of_brightest(column: &[f64], fsc: &[f64], mask: &[bool]) -> Option<f64> {
    let unsaturated = mask_where(column.len(), |i| mask[i] && column[i] < SATURATION_DISPLAY);
    let cut = quantiles(
        select(column, &unsaturated),
        &[1.0 - SIZE_REFERENCE_FRACTION],
    )?[0];
    let brightest = mask_where(column.len(), |i| unsaturated[i] && column[i] >= cut);
    if count(&brightest) < MIN_SIZE_REFERENCE {
        return None;
    }
    quantiles(select(fsc, &brightest), &[0.5]).map(|q| q[0])
}

/// The size check over the stable events; `singlets` are where the
/// granulocytes are sought, `dye_negative` (with a dye) where the
/// CD45-brightest are.
struct SizeInputs<'a> {
    cd45: &'a [f64],
    fsc: &'a [f64],
    ssc: Option<&'a [f64]>,
    stable: &'a [bool],
    singlets: &'a [bool],
    viable: &'a [bool],
    dye_negative: Option<&'a [bool]>,
}

fn size_check(factor: f64, x: &SizeInputs) -> Option<SizeCheck> {
    let cd45_pool = mask_where(x.cd45.len(), |i| {
        x.stable[i] && x.dye_negative.is_none_or(|d| d[i])
    });
    let cd45_brightest_fsc = fsc_of_brightest(x.cd45, x.fsc, &cd45_pool)?;
    let granulocyte_fsc = x
        .ssc
        .and_then(|ssc| fsc_of_brightest(ssc, x.fsc, x.singlets));
    let reference_fsc = granulocyte_fsc.map_or(cd45_brightest_fsc, |g| {
        cd45_brightest_fsc.max(LYMPHOCYTE_OF_GRANULOCYTE_SIZE * g)
    });
    let small = |mask: &[bool]| {
        select(x.fsc, mask)
            .filter(|&v| v < factor * reference_fsc)
            .count() as u64
    };
    Some(SizeCheck {
        reference_fsc,
        cd45_brightest_fsc,
        granulocyte_fsc,
        small_events: small(x.stable),
        small_viable: small(x.viable),
    })
}

impl PreGates {
    /// The first threshold of the gate named `name` ([`names`]): the CD19
    /// cut of [`names::CD19`], the CD10 cut of [`names::CD19_CD10`].
    pub fn threshold(&self, name: &str) -> Option<f64> {
        self.records
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.thresholds.first().copied())
    }

    /// The membership of the pre-gate named `name` ([`names`]), to replace
    /// with a reviewer's.
    pub fn mask_mut(&mut self, name: &str) -> Option<&mut Vec<bool>> {
        Some(match name {
            names::STABLE_FLOW => &mut self.stable,
            names::CELLS => &mut self.cells,
            names::SINGLETS => &mut self.singlets,
            names::VIABLE => &mut self.viable,
            names::BLAST_REGION => &mut self.blast_region,
            names::CD19 => &mut self.b_lineage,
            names::CD19_CD10 => &mut self.cd10_positive,
            _ => return None,
        })
    }
}

/// The upper end of the exported singlet gate (FSC-H / FSC-A; see its
/// export).
const SINGLET_RATIO_TOP: f64 = 1e6;

/// The flow-stability gate on a Time column: bins between the 0.1 % and
/// 99.9 % quantiles of time (an outlier time stamp does not stretch the
/// scale; events outside are kept), the median event rate over the bins
/// that hold events (a pause in acquisition is empty bins, not a flow
/// problem), bins outside 0.5-2x it removed. Returns the membership, the
/// rule in words and the median rate, or why the Time channel cannot be
/// used. The removed bins are also returned as time ranges
/// `[from, to)` (adjacent bins merged), the gate's Gating-ML form.
fn stable_flow(t: &[f64], n: usize, cfg: &PregateSettings) -> Result<StableFlow, String> {
    let (bins, rate) = (cfg.time_bins.max(1), cfg.rate_factor);
    if n <= 1_000 {
        return Err(format!("{n} events are too few to judge the event rate"));
    }
    let finite = t.iter().filter(|v| v.is_finite()).count();
    if finite < n / 2 {
        return Err(format!("{} of {n} time values are not numbers", n - finite));
    }
    let Some([lo, hi]) = quantiles(t.iter().copied(), &[0.001, 0.999]).map(|q| [q[0], q[1]]) else {
        return Err("no time values".into());
    };
    if hi - lo <= 0.0 || !(hi - lo).is_finite() {
        return Err(format!("time is constant ({lo})"));
    }
    // Bins by comparison with their edges (not by division), so a range
    // of edges holds exactly the bin's events.
    let width = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|k| lo + k as f64 * width).collect();
    edges.push(hi.next_up());
    let bin = |v: f64| -> Option<usize> {
        (v.is_finite() && v >= lo && v <= hi)
            .then(|| (edges[..bins].partition_point(|&e| e <= v) - 1).min(bins - 1))
    };
    let mut counts = vec![0u64; bins];
    t.iter()
        .filter_map(|&v| bin(v))
        .for_each(|b| counts[b] += 1);
    let mut filled: Vec<u64> = counts.iter().copied().filter(|&c| c > 0).collect();
    filled.sort_unstable();
    let Some(&median) = filled.get(filled.len() / 2) else {
        return Err("no time values inside the acquisition".into());
    };
    let median = median as f64;
    let good: Vec<bool> = counts
        .iter()
        .map(|&c| c == 0 || (c as f64 >= median / rate && c as f64 <= rate * median))
        .collect();
    let m: Vec<bool> = t.iter().map(|&v| bin(v).is_none_or(|b| good[b])).collect();
    let removed = n as u64 - count(&m);
    let bad = good.iter().filter(|g| !**g).count();
    let empty = counts.iter().filter(|&&c| c == 0).count();
    if removed as f64 > cfg.max_unstable_fraction * n as f64 {
        return Err(format!(
            "the event rate is irregular throughout ({bad} of {} time bins with events outside {}-{rate}x the median rate, {} of events)",
            bins - empty,
            1.0 / rate,
            crate::qc::format_percent(percent(removed, n as u64))
        ));
    }
    let pause = if empty > 0 {
        format!("; {empty} empty bins (acquisition paused) ignored")
    } else {
        String::new()
    };
    let mut removed_ranges: Vec<(f64, f64)> = Vec::new();
    for (k, _) in good.iter().enumerate().filter(|(_, g)| !**g) {
        match removed_ranges.last_mut() {
            Some(last) if last.1 == edges[k] => last.1 = edges[k + 1],
            _ => removed_ranges.push((edges[k], edges[k + 1])),
        }
    }
    Ok(StableFlow {
        members: m,
        text: format!(
            "{bad} of {} time bins with events had an event rate outside {}-{rate}x the median rate: {removed} events removed{pause}",
            bins - empty,
            1.0 / rate
        ),
        median_rate: median,
        removed_ranges,
    })
}

/// The flow-stability gate.
struct StableFlow {
    members: Vec<bool>,
    text: String,
    median_rate: f64,
    /// Removed time ranges, `[from, to)`.
    removed_ranges: Vec<(f64, f64)>,
}

/// Density estimation settings for gate thresholds.
const BINS: usize = 256;
const SMOOTHING: f64 = 0.5;
const MIN_PROMINENCE: f64 = 0.01;

/// The mask of the events `0..n` for which `keep` holds, built in
/// parallel.
pub fn mask_where(n: usize, keep: impl Fn(usize) -> bool + Sync + Send) -> Vec<bool> {
    (0..n).into_par_iter().map(keep).collect()
}

/// Median of `values` at `indices`, by selection (no sort of up to
/// millions of values).
pub fn median_of_indices(indices: &[usize], values: &[f64]) -> Option<f64> {
    quantiles(indices.iter().map(|&i| values[i]), &[0.5]).map(|q| q[0])
}

/// Events of a membership.
pub fn count(m: &[bool]) -> u64 {
    m.par_chunks(1 << 16)
        .map(|c| c.iter().filter(|&&b| b).count() as u64)
        .sum()
}

fn select<'a>(values: &'a [f64], mask: &'a [bool]) -> impl Iterator<Item = f64> + 'a {
    values
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| *v)
}

/// The density of the `values` whose `mask` is set, without collecting
/// them: counted in parallel, the bandwidth from an evenly strided sample.
fn density(values: &[f64], mask: &[bool], lo: f64, hi: f64) -> Density {
    let selected = count(mask) as usize;
    let stride = selected.div_ceil(BANDWIDTH_SAMPLE).max(1);
    let factor = smoothing(selected);
    let bandwidth = bandwidth_of_sample(select(values, mask).step_by(stride), stride, factor);
    Density::estimate_masked(values, mask, lo, hi, BINS, bandwidth)
}

/// Bandwidth factor: [`SMOOTHING`] from 20,000 events up, rising to twice
/// that at 1,000 events and below, where a sharper estimate shows noise
/// bumps as peaks (the few hundred viable cells of a necrotic aspirate).
fn smoothing(events: usize) -> f64 {
    let scarcity = (20_000.0 / events.max(1) as f64).log10() / 20f64.log10();
    SMOOTHING * (1.0 + scarcity.clamp(0.0, 1.0))
}

/// Upper bound of the negative (leftmost) population: its peak plus `k`
/// times the spread of its left half, mirrored (the right side is mixed
/// with positive events, the left is not). The population's peak is the
/// tallest within [`MIN_PEAK_SEPARATION`] of the leftmost: integer data
/// (Navios, CyFlow) put comb-like bumps on the low end of a logicle scale,
/// and a bump on the negative population's left flank is not its peak.
pub fn negative_bound(values: &[f64], mask: &[bool], k: f64) -> Option<f64> {
    let d = density(values, mask, -0.1, 1.1);
    let peaks = d.peaks(MIN_PROMINENCE);
    let leftmost = peaks.iter().map(|p| p.position).min_by(f64::total_cmp)?;
    let negative = peaks
        .iter()
        .filter(|p| p.position < leftmost + MIN_PEAK_SEPARATION)
        .max_by(|a, b| a.height.total_cmp(&b.height))
        .map_or(leftmost, |p| p.position);
    let (sum, n) = select(values, mask)
        .filter(|&v| v <= negative)
        .fold((0.0, 0usize), |(s, n), v| {
            (s + (negative - v).powi(2), n + 1)
        });
    (n > 10).then(|| negative + k * (sum / n as f64).sqrt())
}

/// The valley above the leftmost prominent peak, if the next peak up is a
/// real population at least [`MIN_PEAK_SEPARATION`] higher (closer peaks
/// are noise within one population, common when the negative population is
/// a few hundred cells of a necrotic aspirate).
fn valley_above_negative(values: &[f64], mask: &[bool]) -> Option<f64> {
    let d = density(values, mask, -0.1, 1.1);
    let mut peaks = d.peaks(MIN_PROMINENCE);
    peaks.sort_by(|a, b| a.position.total_cmp(&b.position));
    let neg = peaks.first()?;
    let next = peaks
        .iter()
        .find(|p| p.position >= neg.position + MIN_PEAK_SEPARATION)?;
    d.valley_between(neg.position, next.position)
        .filter(|v| v.depth_ratio < 0.8)
        .map(|v| v.position)
}

/// The viability dye's cut among `mask`: the valley above the
/// dye-negative cells, else their upper bound.
fn dye_cut(dye: &[f64], mask: &[bool], cfg: &PregateSettings) -> Option<f64> {
    valley_above_negative(dye, mask).or_else(|| negative_bound(dye, mask, cfg.negative_sd))
}

/// Two populations of one marker are at least this far apart on the
/// logicle scale (about two thirds of a decade).
const MIN_PEAK_SEPARATION: f64 = 0.15;

/// The lymphocytes among `mask`: events of the brightest CD45 peak (within
/// 0.05 of it on the logicle scale, about a fifth of a decade) in the lower
/// half of their SSC. A density peak, not a quantile: debris can outnumber
/// cells a hundredfold in a necrotic aspirate, and blasts can fill a marrow.
pub fn lymphocytes(cd45: &[f64], ssc: &[f64], mask: &[bool]) -> Vec<usize> {
    // Lymphoid side scatter first: in a necrotic aspirate, dead cells with
    // granulocyte scatter can be brighter in CD45 than the few lymphocytes
    // are frequent, so the CD45 peak is sought among low-SSC events only.
    let lymphoid = lymphoid_scatter(cd45, ssc, mask);
    let mask: Vec<bool> = mask_where(cd45.len(), |i| mask[i] && ssc[i] <= lymphoid);
    let mask = &mask[..];
    // The top of the scale is left out: events piled up at the detector's
    // maximum (saturation) form a "peak" that is no population.
    let d = density(cd45, mask, -0.1, SATURATION_DISPLAY);
    let Some(bright) = d
        .peaks(0.002)
        .iter()
        .map(|p| p.position)
        .max_by(f64::total_cmp)
    else {
        return Vec::new();
    };
    let near: Vec<usize> = (0..cd45.len())
        .into_par_iter()
        .filter(|&i| mask[i] && (cd45[i] - bright).abs() <= 0.05)
        .collect();
    let Some(ssc_mid) = median_of_indices(&near, ssc) else {
        return Vec::new();
    };
    near.into_iter().filter(|&i| ssc[i] <= ssc_mid).collect()
}

/// Display-scale level above which a CD45 value counts as saturated.
const SATURATION_DISPLAY: f64 = 0.97;

/// Lymphocytes needed to judge dead cells by scatter.
const MIN_SCATTER_REFERENCE: usize = 50;

/// The top of lymphoid side scatter: twice the lowest SSC mode of the
/// CD45-brightest fifth of `mask` (lymphocytes and monocytes in any marrow;
/// the lowest SSC among them is the lymphocytes'), or no limit when that
/// cannot be found.
fn lymphoid_scatter(cd45: &[f64], ssc: &[f64], mask: &[bool]) -> f64 {
    // By selection, not sorting: this runs for every lymphocyte search, on
    // up to every event of the file.
    let Some(bright_cut) = quantiles(select(cd45, mask), &[0.8]).map(|q| q[0]) else {
        return f64::INFINITY;
    };
    let bright: Vec<bool> = (0..cd45.len())
        .map(|i| mask[i] && cd45[i] >= bright_cut)
        .collect();
    let top = quantiles(select(ssc, &bright), &[0.99]).map_or(1.0, |q| q[0]);
    density(ssc, &bright, 0.0, top.max(1e-6))
        .peaks(0.02)
        .iter()
        .map(|p| p.position)
        .filter(|&p| p > 0.0)
        .min_by(f64::total_cmp)
        .map_or(f64::INFINITY, |mode| 2.0 * mode)
}

/// Median FSC-A of the [`lymphocytes`]; of all stable events when CD45 is
/// absent.
fn lymphocyte_fsc(cd45: Option<&[f64]>, fsc: &[f64], ssc: &[f64], stable: &[bool]) -> f64 {
    cd45.and_then(|cd45| median_of_indices(&lymphocytes(cd45, ssc, stable), fsc))
        .or_else(|| quantiles(select(fsc, stable), &[0.5]).map(|q| q[0]))
        .unwrap_or(0.2)
}

/// What a gate is, before its counts are known.
struct Rule<'a> {
    name: &'a str,
    parent: Option<&'a str>,
    dimensions: &'a [&'a str],
    text: String,
    thresholds: Vec<f64>,
    /// Its Gating-ML gates, the gate itself (id = `name`) last; empty for
    /// a gate that passes every event.
    gates: Vec<Gate>,
}

/// Records the gates in order.
struct Recorder {
    records: Vec<GateRecord>,
}

impl Recorder {
    /// The id of the nearest exported gate at or above `name`.
    fn exported_id(&self, name: Option<&str>) -> Option<String> {
        let mut name = name?;
        loop {
            let r = self.records.iter().rev().find(|r| r.name == name)?;
            if let Some(id) = &r.id {
                return Some(id.clone());
            }
            name = r.parent.as_deref()?;
        }
    }

    fn push(&mut self, rule: Rule<'_>, members: &[bool], parent_members: &[bool]) {
        let events = count(members);
        let mut exported = rule.gates;
        set_parent(&mut exported, self.exported_id(rule.parent).as_deref());
        self.records.push(GateRecord {
            name: rule.name.to_string(),
            parent: rule.parent.map(str::to_string),
            dimensions: rule.dimensions.iter().map(|d| d.to_string()).collect(),
            rule: rule.text,
            thresholds: rule.thresholds,
            events,
            percent_of_parent: percent(events, count(parent_members)),
            id: exported.last().map(|g| g.id.clone()),
            exported,
        });
    }
}

/// Runs the pre-gates on a prepared site. FSC-A, SSC-A, CD19 and CD10 must
/// be present (the caller checks the required markers).
pub fn pregate(p: &Prepared, cfg: &PregateSettings) -> PreGates {
    let n = p.events;
    let all = vec![true; n];
    let mut rec = Recorder {
        records: Vec::new(),
    };
    let empty: Vec<f64> = vec![f64::NAN; n];
    let col = |m: Marker| p.get(m).unwrap_or(&empty);

    // 1. Flow stability: drop time bins whose event rate departs from the
    // median rate by more than a factor of 2 (clogs, bubbles).
    let mut warnings = Vec::new();
    let stable = match p.get(Marker::Time).map(|t| stable_flow(t, n, cfg)) {
        Some(Ok(flow)) => {
            let regions = p
                .dimension(Marker::Time)
                .map(|time| {
                    flow.removed_ranges
                        .iter()
                        .filter_map(|&(from, to)| {
                            rectangle(
                                "",
                                vec![(
                                    time.clone(),
                                    Interval {
                                        min: Some(from),
                                        max: Some(to),
                                    },
                                )],
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            rec.push(
                Rule {
                    name: names::STABLE_FLOW,
                    parent: None,
                    dimensions: &["Time"],
                    text: flow.text,
                    thresholds: vec![flow.median_rate],
                    gates: none_of(names::STABLE_FLOW, regions),
                },
                &flow.members,
                &all,
            );
            flow.members
        }
        other => {
            let text = match other {
                Some(Err(why)) => {
                    warnings.push(format!(
                        "Time channel not used: {why}; flow stability not checked"
                    ));
                    format!("Time channel not used ({why}): flow stability not checked")
                }
                _ => "no Time channel: flow stability not checked".into(),
            };
            rec.push(
                Rule {
                    name: names::STABLE_FLOW,
                    parent: None,
                    dimensions: &[],
                    text,
                    thresholds: vec![],
                    gates: Vec::new(),
                },
                &all,
                &all,
            );
            all.clone()
        }
    };

    // 2. Debris: below the FSC-A valley under the smallest nucleated cells.
    // Lymphocytes anchor the scale: the brightest CD45 population, its
    // lower-SSC half (debris can outnumber cells a hundredfold in a
    // necrotic aspirate, so the anchor is a density peak, not a quantile).
    let fsc = col(Marker::FscA);
    let ssc = col(Marker::SscA);
    let lymph_fsc = lymphocyte_fsc(p.get(Marker::Cd(45)), fsc, ssc, &stable);
    let d = density(fsc, &stable, 0.0, 1.0);
    // The valley starts at the debris mode when there is one (the lowest
    // peak well below the lymphocytes), otherwise at the scale's origin.
    let debris_mode = d
        .peaks(0.002)
        .iter()
        .map(|p| p.position)
        .filter(|&p| p < 0.6 * lymph_fsc)
        .min_by(f64::total_cmp)
        .unwrap_or(0.0);
    // Debris smears upwards from its mode; a valley deep inside the smear
    // (below 40 % of the lymphocytes' FSC) would count the smear as cells,
    // so the cut never sits below that (nucleated cells, nucleated red
    // cells included, are at least two thirds of a lymphocyte's size).
    let debris_cut = d
        .valley_between(debris_mode, lymph_fsc)
        .filter(|v| v.depth_ratio < 0.7 && v.position < 0.8 * lymph_fsc)
        .map_or(0.5 * lymph_fsc, |v| {
            v.position.max(cfg.min_debris_cut * lymph_fsc)
        });
    let cells: Vec<bool> = mask_where(n, |i| stable[i] && fsc[i] >= debris_cut);
    rec.push(
        Rule {
            name: names::CELLS,
            parent: Some(names::STABLE_FLOW),
            dimensions: &["FSC-A", "SSC-A"],
            text: format!(
                "FSC-A >= {debris_cut:.4} (density valley below the lymphocytes at {lymph_fsc:.4})"
            ),
            thresholds: vec![debris_cut],
            gates: p
                .dimension(Marker::FscA)
                .and_then(|d| rectangle(names::CELLS, vec![(d, at_least(debris_cut))]))
                .into_iter()
                .collect(),
        },
        &cells,
        &stable,
    );

    // 3. Singlets: FSC-H / FSC-A within 4 robust SD of its median.
    let singlets = match p.get(Marker::FscH) {
        Some(fsch) => {
            let ratio: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| {
                    if fsc[i] > 0.0 {
                        fsch[i] / fsc[i]
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            let (median, sd, _) =
                median_and_robust_sd(select(&ratio, &cells)).unwrap_or((1.0, 0.0, 0));
            let cut = median - (cfg.singlet_sd * sd).max(0.05);
            let m: Vec<bool> = mask_where(n, |i| cells[i] && ratio[i] >= cut);
            rec.push(
                Rule {
                    name: names::SINGLETS,
                    parent: Some(names::CELLS),
                    dimensions: &["FSC-A", "FSC-H"],
                    text: format!(
                        "FSC-H/FSC-A >= {cut:.4} (median {median:.4} - {} robust SD)",
                        cfg.singlet_sd
                    ),
                    thresholds: vec![cut],
                    gates: p
                        .singlet_ratio_dimension()
                        .and_then(|d| {
                            // Both ends: FlowKit 1.3 cannot apply a ratio
                            // dimension open at one end; the ratio of a
                            // cell (FSC-A above the debris cut) is far
                            // below this.
                            let side = Interval {
                                min: Some(cut),
                                max: Some(SINGLET_RATIO_TOP),
                            };
                            rectangle(names::SINGLETS, vec![(d, side)])
                        })
                        .into_iter()
                        .collect(),
                },
                &m,
                &cells,
            );
            m
        }
        None => {
            rec.push(
                Rule {
                    name: names::SINGLETS,
                    parent: Some(names::CELLS),
                    dimensions: &[],
                    text: "no FSC-H: doublets not excluded".into(),
                    thresholds: vec![],
                    gates: Vec::new(),
                },
                &cells,
                &cells,
            );
            cells.clone()
        }
    };

    // 4. Viability: below the valley above the dye-negative population.
    let viable = match p.get(Marker::Viability) {
        Some(dye) => {
            let cut = dye_cut(dye, &singlets, cfg).unwrap_or(f64::INFINITY);
            let m: Vec<bool> = mask_where(n, |i| singlets[i] && dye[i] < cut);
            rec.push(
                Rule {
                    name: names::VIABLE,
                    parent: Some(names::SINGLETS),
                    dimensions: &["viability"],
                    text: format!("viability dye < {cut:.4} (valley above the dye-negative cells)"),
                    thresholds: vec![cut],
                    gates: p
                        .dimension(Marker::Viability)
                        .and_then(|d| rectangle(names::VIABLE, vec![(d, below(cut))]))
                        .into_iter()
                        .collect(),
                },
                &m,
                &singlets,
            );
            m
        }
        None => {
            // Without a dye, dead cells are judged by scatter: a dying cell
            // shrinks (FSC falls) while its side scatter rises, so events
            // smaller than the live lymphocytes yet more granular than
            // twice their SSC are dead; no live leukocyte sits there
            // (granulocytes and monocytes are larger, nucleated red cells
            // less granular).
            let reference = p
                .get(Marker::Cd(45))
                .map(|cd45| lymphocytes(cd45, ssc, &singlets))
                .unwrap_or_default();
            let median_of = |v: &[f64]| median_of_indices(&reference, v);
            match (median_of(fsc), median_of(ssc)) {
                (Some(fsc_top), Some(lymph_ssc)) if reference.len() >= MIN_SCATTER_REFERENCE => {
                    let ssc_floor = cfg.dead_ssc_factor * lymph_ssc;
                    let m: Vec<bool> = mask_where(n, |i| {
                        singlets[i] && !(fsc[i] < fsc_top && ssc[i] > ssc_floor)
                    });
                    rec.push(
                        Rule {
                            name: names::VIABLE,
                            parent: Some(names::SINGLETS),
                            dimensions: &["FSC-A", "SSC-A"],
                            text: format!(
                                "no viability dye: dead cells judged by scatter, excluded where FSC-A < {fsc_top:.4} (the live lymphocytes' median) and SSC-A > {ssc_floor:.4} ({}x theirs); dead cells of larger size are not recognised without a dye",
                                cfg.dead_ssc_factor
                            ),
                            thresholds: vec![fsc_top, ssc_floor],
                            gates: match (p.dimension(Marker::FscA), p.dimension(Marker::SscA)) {
                                (Some(f), Some(s)) => none_of(
                                    names::VIABLE,
                                    rectangle(
                                        "",
                                        vec![(f, below(fsc_top)), (s, at_least(ssc_floor.next_up()))],
                                    )
                                    .into_iter()
                                    .collect(),
                                ),
                                _ => Vec::new(),
                            },
                        },
                        &m,
                        &singlets,
                    );
                    m
                }
                _ => {
                    rec.push(
                        Rule {
                            name: names::VIABLE,
                            parent: Some(names::SINGLETS),
                            dimensions: &[],
                            text: "no viability dye and no lymphocytes to judge scatter by: dead cells not excluded".into(),
                            thresholds: vec![],
                            gates: Vec::new(),
                        },
                        &singlets,
                        &singlets,
                    );
                    singlets.clone()
                }
            }
        }
    };

    // The CD45 vs SSC view: the blast region is CD45 dimmer than the
    // lymphocytes by at least half a decade, with lymphoid SSC (at most
    // twice the lymphocytes' median). Recorded, not used as a denominator.
    let lymph = p
        .get(Marker::Cd(45))
        .map(|cd45| (cd45, lymphocytes(cd45, ssc, &viable)))
        .unwrap_or((&empty, Vec::new()));
    let median_of = |v: &[f64]| median_of_indices(&lymph.1, v);
    let lymph_ssc = median_of(ssc);
    let (cd45_top, ssc_top) = match (median_of(lymph.0), lymph_ssc) {
        (Some(c), Some(s)) => (c - 0.5 / super::prepare::LOGICLE.2, 2.0 * s),
        _ => (f64::NEG_INFINITY, f64::NEG_INFINITY),
    };
    let blast_region: Vec<bool> = mask_where(n, |i| {
        viable[i] && lymph.0[i] < cd45_top && ssc[i] <= ssc_top
    });
    rec.push(
        Rule {
            name: names::BLAST_REGION,
            parent: Some(names::VIABLE),
            dimensions: &["CD45", "SSC-A"],
            text: format!(
                "blast region: CD45 < {cd45_top:.4} (half a decade below the lymphocytes) and SSC-A <= {ssc_top:.4} (2x their median); for audit, every viable cell stays in the denominator"
            ),
            thresholds: vec![cd45_top, ssc_top],
            gates: match (p.dimension(Marker::Cd(45)), p.dimension(Marker::SscA)) {
                (Some(c), Some(s)) if cd45_top.is_finite() && ssc_top.is_finite() => rectangle(
                    names::BLAST_REGION,
                    vec![(c, below(cd45_top)), (s, at_most(ssc_top))],
                )
                .into_iter()
                .collect(),
                _ => Vec::new(),
            },
        },
        &blast_region,
        &viable,
    );

    // 5. CD19+ B lineage among viable nucleated cells: CD19 above the valley
    // over the CD19- cells, SSC low (B cells and blasts have lymphoid side
    // scatter: at most 4x the lymphocytes' median SSC).
    let cd19 = col(Marker::Cd(19));
    let cd19_cut = valley_above_negative(cd19, &viable)
        .or_else(|| negative_bound(cd19, &viable, 5.0))
        .unwrap_or(0.5);
    let ssc_cut = lymph_ssc.map_or(f64::INFINITY, |m| cfg.cd19_ssc_factor * m);
    let b_lineage: Vec<bool> =
        mask_where(n, |i| viable[i] && cd19[i] >= cd19_cut && ssc[i] <= ssc_cut);
    // The lymphocyte reference of everything downstream (stain checks,
    // the CD19-negative search) is the T/NK cells: the brightest CD45 peak
    // among viable CD19- cells. Among all viable cells a marrow full of
    // CD45-dim blasts can hide the few lymphocytes under the blasts' bright
    // tail, and the "lymphocytes" are then blasts.
    let t_nk: Vec<usize> = p
        .get(Marker::Cd(45))
        .map(|cd45| lymphocytes(cd45, ssc, &mask_where(n, |i| viable[i] && !b_lineage[i])))
        .unwrap_or_default();
    rec.push(
        Rule {
            name: names::CD19,
            parent: Some(names::VIABLE),
            dimensions: &["CD19", "SSC-A"],
            text: format!(
                "CD19 >= {cd19_cut:.4} (valley above the CD19- cells) and SSC-A <= {ssc_cut:.4} ({}x the lymphocytes' median)",
                cfg.cd19_ssc_factor
            ),
            thresholds: vec![cd19_cut, ssc_cut],
            gates: match (p.dimension(Marker::Cd(19)), p.dimension(Marker::SscA)) {
                (Some(c), Some(s)) => rectangle(
                    names::CD19,
                    vec![(c, at_least(cd19_cut)), (s, at_most(ssc_cut))],
                )
                .into_iter()
                .collect(),
                _ => Vec::new(),
            },
        },
        &b_lineage,
        &viable,
    );

    // 6. CD10+ within CD19+. The negative reference is the CD10- majority of
    // viable CD19- cells (lymphocytes, monocytes, erythroid, precursors).
    let cd10 = col(Marker::Cd(10));
    let cd19_negative: Vec<bool> = mask_where(n, |i| viable[i] && !b_lineage[i]);
    let cd10_cut = negative_bound(cd10, &cd19_negative, cfg.negative_sd)
        .or_else(|| negative_bound(cd10, &viable, cfg.negative_sd))
        .unwrap_or(0.5);
    let cd10_positive: Vec<bool> = mask_where(n, |i| b_lineage[i] && cd10[i] >= cd10_cut);
    rec.push(
        Rule {
            name: names::CD19_CD10,
            parent: Some(names::CD19),
            dimensions: &["CD19", "CD10"],
            text: format!(
                "CD10 >= {cd10_cut:.4} (CD10- cells of the sample + {} SD)",
                cfg.negative_sd
            ),
            thresholds: vec![cd10_cut],
            gates: p
                .dimension(Marker::Cd(10))
                .and_then(|d| rectangle(names::CD19_CD10, vec![(d, at_least(cd10_cut))]))
                .into_iter()
                .collect(),
        },
        &cd10_positive,
        &b_lineage,
    );

    // Dead cells stain CD45 non-specifically and, in a necrotic aspirate,
    // fill the CD45-bright tail: with a dye, the size reference is sought
    // among dye-negative events.
    let dye_negative: Option<Vec<bool>> = p.get(Marker::Viability).and_then(|dye| {
        dye_cut(dye, &stable, cfg).map(|cut| dye.iter().map(|&v| v < cut).collect())
    });
    PreGates {
        size_check: p.get(Marker::Cd(45)).and_then(|cd45| {
            size_check(
                cfg.small_event_factor,
                &SizeInputs {
                    cd45,
                    fsc,
                    ssc: p.get(Marker::SscA),
                    stable: &stable,
                    singlets: &singlets,
                    viable: &viable,
                    dye_negative: dye_negative.as_deref(),
                },
            )
        }),
        lymphocytes: if t_nk.is_empty() { lymph.1 } else { t_nk },
        warnings,
        stable,
        cells,
        singlets,
        viable,
        b_lineage,
        cd10_positive,
        blast_region,
        records: rec.records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{Config, Population};

    fn run(cfg: &Config, name: &str) -> (PreGates, Vec<Population>) {
        let (prepared, truth) = crate::strategy::testing::prepared_site(cfg, name);
        (pregate(&prepared, &PregateSettings::default()), truth)
    }

    /// Fraction of the events of `pops` inside `gate`.
    fn kept(gate: &[bool], truth: &[Population], pops: &[Population]) -> f64 {
        let (mut k, mut n) = (0, 0);
        for (g, t) in gate.iter().zip(truth) {
            if pops.contains(t) {
                n += 1;
                k += *g as usize;
            }
        }
        k as f64 / n.max(1) as f64
    }

    #[test]
    fn pregates_recover_simulated_truth() {
        use Population::*;
        let cfg = Config {
            events: 150_000,
            seed: 21,
            blast_fraction: 0.05,
            doublet_fraction: 0.05,
            ..Config::default()
        };
        let (g, truth) = run(&cfg, "normal");
        let nucleated = Population::nucleated();
        assert!(
            kept(&g.cells, &truth, &[Debris]) < 0.10,
            "debris kept {}",
            kept(&g.cells, &truth, &[Debris])
        );
        assert!(
            kept(&g.viable, &truth, &nucleated) > 0.95,
            "cells kept {}",
            kept(&g.viable, &truth, &nucleated)
        );
        assert!(
            kept(&g.singlets, &truth, &[Doublet]) < 0.30,
            "doublets kept {}",
            kept(&g.singlets, &truth, &[Doublet])
        );
        assert!(
            kept(&g.viable, &truth, &[Dead]) < 0.10,
            "dead kept {}",
            kept(&g.viable, &truth, &[Dead])
        );
        assert!(kept(&g.b_lineage, &truth, &[Blast, Hematogone, MatureB]) > 0.95);
        assert!(
            kept(
                &g.b_lineage,
                &truth,
                &[NeutrophilMature, Lymphocyte, Monocyte, Erythroid]
            ) < 0.01
        );
        assert!(
            kept(&g.cd10_positive, &truth, &[Blast]) > 0.97,
            "blasts in CD19+CD10+ {}",
            kept(&g.cd10_positive, &truth, &[Blast])
        );
        assert!(kept(&g.cd10_positive, &truth, &[MatureB]) < 0.05);
        assert!(
            kept(&g.cd10_positive, &truth, &[NeutrophilMature]) < 0.001,
            "CD10+ neutrophils never enter"
        );
        assert_eq!(g.records.len(), 7);
        assert!(kept(&g.blast_region, &truth, &[Blast]) > 0.9);
        assert!(kept(&g.blast_region, &truth, &[NeutrophilMature, Lymphocyte]) < 0.05);
        assert!(g.records.iter().all(|r| !r.rule.is_empty()));
    }

    #[test]
    fn necrotic_site_keeps_its_few_viable_cells() {
        use Population::*;
        let cfg = Config {
            events: 60_000,
            seed: 22,
            necrosis: 0.95,
            ..Config::default()
        };
        let (g, truth) = run(&cfg, "necrotic");
        let nucleated = Population::nucleated();
        // The debris gate itself holds on a debris-dominated sample (the
        // lymphocyte anchor is a CD45 peak, not a quantile).
        assert!(kept(&g.cells, &truth, &[Debris]) < 0.05);
        assert!(kept(&g.viable, &truth, &[Debris, Dead]) < 0.05);
        assert!(
            kept(&g.viable, &truth, &nucleated) > 0.85,
            "{}",
            kept(&g.viable, &truth, &nucleated)
        );
    }
}
