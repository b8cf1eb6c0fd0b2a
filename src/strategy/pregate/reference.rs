//! The sample's own reference populations and the thresholds taken from
//! them: densities, the negative population's bound, valleys, the
//! lymphocytes.

use super::super::density::{BANDWIDTH_SAMPLE, Density, bandwidth_of_sample};
use super::PregateSettings;
use crate::stats::{REFERENCE_SAMPLE, median_and_robust_sd, quantiles, reference_stride};
use rayon::prelude::*;

/// Density estimation settings for gate thresholds.
const BINS: usize = 256;
const SMOOTHING: f64 = 0.5;
const MIN_PROMINENCE: f64 = 0.01;

/// The mask of the events `0..n` for which `keep` holds, built in
/// parallel. Over millions of events a test written with `&` rather than
/// `&&` runs without branches, about twice as fast when its conditions
/// are unpredictable (every side is a plain comparison, so the results
/// are the same).
pub fn mask_where(n: usize, keep: impl Fn(usize) -> bool + Sync + Send) -> Vec<bool> {
    (0..n).into_par_iter().map(keep).collect()
}

/// The events `0..n` for which `keep` holds, in order, found in parallel.
pub fn indices_where(n: usize, keep: impl Fn(usize) -> bool + Sync + Send) -> Vec<usize> {
    (0..n).into_par_iter().filter(|&i| keep(i)).collect()
}

/// How many of the events `0..n` `keep` holds for, counted in parallel.
pub fn count_where(n: usize, keep: impl Fn(usize) -> bool + Sync + Send) -> u64 {
    (0..n).into_par_iter().filter(|&i| keep(i)).count() as u64
}

/// Median of `values` at `indices`, by selection, of at most
/// [`crate::stats::REFERENCE_SAMPLE`] of them (evenly strided).
pub fn median_of_indices(indices: &[usize], values: &[f32]) -> Option<f64> {
    quantiles_of_indices(indices, values, &[0.5]).map(|q| q[0])
}

/// Quantiles (ascending `ps`) of `values` at `indices`, of at most
/// [`crate::stats::REFERENCE_SAMPLE`] of them (evenly strided).
pub fn quantiles_of_indices(indices: &[usize], values: &[f32], ps: &[f64]) -> Option<Vec<f64>> {
    let stride = reference_stride(indices.len());
    quantiles(
        indices
            .iter()
            .step_by(stride)
            .map(|&i| f64::from(values[i])),
        ps,
    )
}

/// Quantiles (ascending `ps`) of the `values` whose `mask` is set, of at
/// most about [`REFERENCE_SAMPLE`] of them ([`sample_of`]).
pub fn masked_quantiles(values: &[f32], mask: &[bool], ps: &[f64]) -> Option<Vec<f64>> {
    let stride = reference_stride(count(mask) as usize);
    quantiles(sample_of(values, mask, stride), ps)
}

/// An even sample of about `1 / stride` of the `values` whose `mask` is
/// set: every `stride`-th of them in files of up to [`REFERENCE_SAMPLE`]
/// events; in larger files, those set among every `stride`-th event,
/// which gives a sample of the same size without a pass over every event
/// (events are stored in acquisition order, which has no period).
pub(super) fn sample_of<'a>(
    values: &'a [f32],
    mask: &'a [bool],
    stride: usize,
) -> Box<dyn Iterator<Item = f64> + 'a> {
    if stride > 1 && values.len() > REFERENCE_SAMPLE {
        Box::new(
            values
                .iter()
                .step_by(stride)
                .zip(mask.iter().step_by(stride))
                .filter(|(_, m)| **m)
                .map(|(v, _)| f64::from(*v)),
        )
    } else {
        Box::new(select(values, mask).step_by(stride))
    }
}

/// Events of a membership.
pub fn count(m: &[bool]) -> u64 {
    m.par_chunks(1 << 16)
        .map(|c| c.iter().filter(|&&b| b).count() as u64)
        .sum()
}

/// Median (the upper of two middle values) of the `values` whose `mask`
/// is set, over all of them; `None` when there are none.
pub fn masked_median(values: &[f32], mask: &[bool]) -> Option<f64> {
    median_and_robust_sd(select(values, mask)).map(|(median, _, _)| median)
}

pub(super) fn select<'a>(values: &'a [f32], mask: &'a [bool]) -> impl Iterator<Item = f64> + 'a {
    values
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| f64::from(*v))
}

/// The density of the `values` whose `mask` is set, without collecting
/// them: counted in parallel, the bandwidth from an evenly strided sample.
pub(super) fn density(values: &[f32], mask: &[bool], lo: f64, hi: f64) -> Density {
    let selected = count(mask) as usize;
    let stride = selected.div_ceil(BANDWIDTH_SAMPLE).max(1);
    let factor = smoothing(selected);
    let bandwidth = bandwidth_of_sample(sample_of(values, mask, stride), stride, factor);
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
pub fn negative_bound(values: &[f32], mask: &[bool], k: f64) -> Option<f64> {
    let d = density(values, mask, -0.1, 1.1);
    let peaks = d.peaks(MIN_PROMINENCE);
    let leftmost = peaks.iter().map(|p| p.position).min_by(f64::total_cmp)?;
    let negative = peaks
        .iter()
        .filter(|p| p.position < leftmost + MIN_PEAK_SEPARATION)
        .max_by(|a, b| a.height.total_cmp(&b.height))
        .map_or(leftmost, |p| p.position);
    // The left half's spread, from at most about REFERENCE_SAMPLE values.
    let stride = reference_stride(count(mask) as usize);
    let (sum, n) = sample_of(values, mask, stride)
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
pub(super) fn valley_above_negative(values: &[f32], mask: &[bool]) -> Option<f64> {
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
pub(super) fn dye_cut(dye: &[f32], mask: &[bool], cfg: &PregateSettings) -> Option<f64> {
    valley_above_negative(dye, mask).or_else(|| negative_bound(dye, mask, cfg.negative_sd))
}

/// Two populations of one marker are at least this far apart on the
/// logicle scale (about two thirds of a decade).
const MIN_PEAK_SEPARATION: f64 = 0.15;

/// The lymphocytes among `mask`: events of the brightest CD45 peak (within
/// [`CD45_PEAK_WIDTH`] of it on the logicle scale, about a fifth of a
/// decade) in the lower half of their SSC. A density peak, not a quantile:
/// debris can outnumber cells a hundredfold in a necrotic aspirate, and
/// blasts can fill a marrow. In a file of more than
/// [`REFERENCE_SAMPLE`] events the peak and the SSC limits are found on
/// every k-th event (at most about that many), and the lymphocytes are
/// then taken over all events.
pub fn lymphocytes(cd45: &[f32], ssc: &[f32], mask: &[bool]) -> Vec<usize> {
    let Some(rule) = lymphocyte_rule_of(cd45, ssc, mask) else {
        return Vec::new();
    };
    indices_where(cd45.len(), |i| {
        rule.holds(mask[i], cd45[i].into(), ssc[i].into())
    })
}

/// The [`lymphocytes`] among every k-th event only (all events up to
/// [`REFERENCE_SAMPLE`], about that many above), as indices into the
/// columns: enough for their medians, without a pass over every event.
pub fn sampled_lymphocytes(cd45: &[f32], ssc: &[f32], mask: &[bool]) -> Vec<usize> {
    let Some(rule) = lymphocyte_rule_of(cd45, ssc, mask) else {
        return Vec::new();
    };
    every_kth_position(cd45.len(), reference_stride(cd45.len()))
        .filter(|&i| rule.holds(mask[i], cd45[i].into(), ssc[i].into()))
        .collect()
}

/// The positions `0, stride, 2·stride, …` below `n`, as a parallel
/// iterator: a stride of a few values still reads every cache line of a
/// column, so even a sample is gathered on every core.
pub(super) fn every_kth_position(
    n: usize,
    stride: usize,
) -> impl IndexedParallelIterator<Item = usize> {
    (0..n.div_ceil(stride))
        .into_par_iter()
        .map(move |k| k * stride)
}

/// Every `stride`-th value (from the first), gathered in parallel.
pub(super) fn every_kth<T: Copy + Send + Sync>(values: &[T], stride: usize) -> Vec<T> {
    every_kth_position(values.len(), stride)
        .map(|i| values[i])
        .collect()
}

/// The [`LymphocyteRule`] of the events of `mask`, found on every k-th
/// event in a file of more than [`REFERENCE_SAMPLE`] events.
fn lymphocyte_rule_of(cd45: &[f32], ssc: &[f32], mask: &[bool]) -> Option<LymphocyteRule> {
    let stride = reference_stride(cd45.len());
    if stride > 1 {
        lymphocyte_rule(
            &every_kth(cd45, stride),
            &every_kth(ssc, stride),
            &every_kth(mask, stride),
        )
    } else {
        lymphocyte_rule(cd45, ssc, mask)
    }
}

/// Half-width of the lymphocytes' CD45 peak on the logicle scale.
const CD45_PEAK_WIDTH: f64 = 0.05;

/// Where the lymphocytes are: their CD45 peak and their SSC limits.
struct LymphocyteRule {
    /// The brightest CD45 peak below saturation.
    cd45_peak: f64,
    /// The top of lymphoid side scatter.
    lymphoid_ssc: f64,
    /// The median SSC of the events of the peak.
    ssc_mid: f64,
}

impl LymphocyteRule {
    fn holds(&self, selected: bool, cd45: f64, ssc: f64) -> bool {
        // Without short-circuits: one branch-free test per event.
        selected
            & (ssc <= self.lymphoid_ssc)
            & ((cd45 - self.cd45_peak).abs() <= CD45_PEAK_WIDTH)
            & (ssc <= self.ssc_mid)
    }
}

/// The [`LymphocyteRule`] of the events of `mask`, if they have a CD45
/// peak.
fn lymphocyte_rule(cd45: &[f32], ssc: &[f32], mask: &[bool]) -> Option<LymphocyteRule> {
    // Lymphoid side scatter first: in a necrotic aspirate, dead cells with
    // granulocyte scatter can be brighter in CD45 than the few lymphocytes
    // are frequent, so the CD45 peak is sought among low-SSC events only.
    let lymphoid_ssc = lymphoid_scatter(cd45, ssc, mask);
    let mask: Vec<bool> = mask_where(cd45.len(), |i| {
        mask[i] & (f64::from(ssc[i]) <= lymphoid_ssc)
    });
    let mask = &mask[..];
    // The top of the scale is left out: events piled up at the detector's
    // maximum (saturation) form a "peak" that is no population.
    let d = density(cd45, mask, -0.1, SATURATION_DISPLAY);
    let cd45_peak = d
        .peaks(0.002)
        .iter()
        .map(|p| p.position)
        .max_by(f64::total_cmp)?;
    let near: Vec<usize> = (0..cd45.len())
        .into_par_iter()
        .filter(|&i| mask[i] && (f64::from(cd45[i]) - cd45_peak).abs() <= CD45_PEAK_WIDTH)
        .collect();
    Some(LymphocyteRule {
        cd45_peak,
        lymphoid_ssc,
        ssc_mid: median_of_indices(&near, ssc)?,
    })
}

/// Display-scale level above which a CD45 value counts as saturated.
pub(super) const SATURATION_DISPLAY: f64 = 0.97;

/// Lymphocytes needed to judge dead cells by scatter.
pub(super) const MIN_SCATTER_REFERENCE: usize = 50;

/// The top of lymphoid side scatter: twice the lowest SSC mode of the
/// CD45-brightest fifth of `mask` (lymphocytes and monocytes in any marrow;
/// the lowest SSC among them is the lymphocytes'), or no limit when that
/// cannot be found.
fn lymphoid_scatter(cd45: &[f32], ssc: &[f32], mask: &[bool]) -> f64 {
    // By selection, not sorting: this runs for every lymphocyte search, on
    // up to every event of the file.
    let Some(bright_cut) = masked_quantiles(cd45, mask, &[0.8]).map(|q| q[0]) else {
        return f64::INFINITY;
    };
    let bright = mask_where(cd45.len(), |i| mask[i] & (f64::from(cd45[i]) >= bright_cut));
    let top = masked_quantiles(ssc, &bright, &[0.99]).map_or(1.0, |q| q[0]);
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
pub(super) fn lymphocyte_fsc(
    cd45: Option<&[f32]>,
    fsc: &[f32],
    ssc: &[f32],
    stable: &[bool],
) -> f64 {
    cd45.and_then(|cd45| median_of_indices(&sampled_lymphocytes(cd45, ssc, stable), fsc))
        .or_else(|| masked_quantiles(fsc, stable, &[0.5]).map(|q| q[0]))
        .unwrap_or(0.2)
}

/// The medians of the lymphocytes among the viable cells: the anchor of
/// the blast region and of the B-lineage gate's side scatter.
pub(super) struct LymphoidReference {
    /// Their median CD45; none without CD45.
    pub cd45: Option<f64>,
    /// Their median SSC-A.
    pub ssc: Option<f64>,
}

impl LymphoidReference {
    /// The lymphocytes among `mask` ([`sampled_lymphocytes`]).
    pub fn among(cd45: Option<&[f32]>, ssc: &[f32], mask: &[bool]) -> LymphoidReference {
        let Some(cd45) = cd45 else {
            return LymphoidReference {
                cd45: None,
                ssc: None,
            };
        };
        let cells = sampled_lymphocytes(cd45, ssc, mask);
        LymphoidReference {
            cd45: median_of_indices(&cells, cd45),
            ssc: median_of_indices(&cells, ssc),
        }
    }
}
