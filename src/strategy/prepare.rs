//! A site's events ready for automated gating: the markers the strategy
//! reads, compensated by the file's spillover and put on display scales
//! (scatter linear 0-1 of its range, fluorescence logicle 0-1, time in
//! seconds).

use super::markers::{Marker, MarkerMap};
use crate::compensation::Compensation;
use crate::events::{CHUNK_EVENTS, ChunkColumns, LinearSpec, chunk_slots};
use crate::fcs::spillover::Spillover;
use crate::fcs::{FcsError, FcsFile};
use crate::gate::gating_ml::ncname;
use crate::gate::tree::TransformDef;
use crate::gate::{CompensationRef, Dimension, Source};
use crate::transform::{FastTransform, Linear, Logicle, Ratio, Transform};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Logicle parameters for fluorescence (the common 18-bit display). The
/// top `T` of a file's display follows its channels ([`logicle_top`]); `M`
/// (decades) and `W` stay, so a display unit is `1/M` decade on every
/// instrument and every threshold in decades means the same everywhere.
pub const LOGICLE: (f64, f64, f64, f64) = (262_144.0, 0.5, 4.5, 0.0);

/// Lowest logicle top used: below it (a 10-bit linear channel) the
/// logicle's decades would not fit.
pub const MIN_LOGICLE_TOP: f64 = 10_000.0;

/// The logicle top of a file: the largest value its fluorescence channels
/// can hold (`$PnR` through each channel's scale), so 20-bit and 22-bit
/// instruments are not squashed against the top of an 18-bit display nor
/// 10-bit ones into its bottom; 262,144 when no channel says.
pub fn logicle_top<'a>(channels: impl Iterator<Item = &'a crate::fcs::Channel>) -> f64 {
    channels
        .map(crate::fcs::Channel::top_value)
        .filter(|t| t.is_finite() && *t > 1.0)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))))
        .map_or(LOGICLE.0, |t| t.max(MIN_LOGICLE_TOP))
}

/// Display-scale columns of one site.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Events.
    pub events: usize,
    /// Column per marker found, on its display scale, in single precision
    /// (a display unit of 1e-7 is far below any gate's resolution, and a
    /// 10 M-event tube's columns take half the memory).
    pub columns: BTreeMap<Marker, Vec<f32>>,
    /// The logicle used for fluorescence (to draw and to invert).
    pub logicle: Logicle,
    /// The file's spillover matrix, when it was applied to the
    /// fluorescence columns (`None`: the columns are uncompensated). Kept
    /// so that what is written of the site (the FlowJo workspace's matrix)
    /// is the matrix that ran, never the file read again.
    pub spillover: Option<Spillover>,
    /// Why a spillover matrix the file declares could not be applied
    /// (the columns are then uncompensated).
    pub compensation_problem: Option<String>,
    /// Full scale of the linear (scatter) columns: display value x full
    /// scale = channel value.
    pub full_scale: BTreeMap<Marker, f64>,
    /// The file's name (`$PnN`) of each marker's channel.
    pub channels: BTreeMap<Marker, String>,
    /// FSC-H / FSC-A, computed from the channel values exactly as
    /// [`Prepared::singlet_ratio_dimension`] states it (then single
    /// precision), when both channels were read.
    pub singlet_ratio: Option<Vec<f32>>,
}

/// A cut on a prepared column moved to halfway between the two
/// single-precision numbers around it: which stored values it passes is
/// unchanged (no single-precision number lies between the cut and the
/// midpoint), and a tool that evaluates the exported gate on the file in
/// double precision passes the same events, since a double-precision value
/// rounds to a stored value on the same side of the midpoint. (A cut at a
/// stored value, such as a quantile, would otherwise split the events
/// whose exact value lies within half a unit of it.) Non-finite cuts, and
/// cuts beyond the single-precision range (no stored value lies past them
/// but infinity), are returned as they are.
pub fn cut_between_stored_values(cut: f64) -> f64 {
    if !cut.is_finite() || cut.abs() >= f64::from(f32::MAX) {
        return cut;
    }
    let near = cut as f32;
    let (below, above) = if f64::from(near) >= cut {
        (near.next_down(), near)
    } else {
        (near, near.next_up())
    };
    0.5 * (f64::from(below) + f64::from(above))
}

/// Gating-ML id of the fluorescence logicle.
const LOGICLE_ID: &str = "logicle";

impl Prepared {
    /// Whether the file's spillover was applied.
    pub fn compensated(&self) -> bool {
        self.spillover.is_some()
    }

    /// Column of `marker`.
    pub fn get(&self, marker: Marker) -> Option<&[f32]> {
        self.columns.get(&marker).map(Vec::as_slice)
    }

    /// Gating-ML id of the scale a marker's column is on (`None` for time,
    /// read as it is).
    fn transform_id(&self, marker: Marker) -> Option<String> {
        if marker == Marker::Time {
            None
        } else if self.full_scale.contains_key(&marker) {
            Some(ncname(&format!("linear_{}", marker.name())))
        } else {
            Some(LOGICLE_ID.to_string())
        }
    }

    /// The Gating-ML dimension a marker's column is, exactly as read:
    /// the file's channel, compensated by the file's spillover when it was
    /// (fluorescence only), on its display scale.
    pub fn dimension(&self, marker: Marker) -> Option<Dimension> {
        let name = self.channels.get(&marker)?;
        Some(Dimension {
            source: Source::Channel(name.clone()),
            compensation: if self.compensated() && !marker.is_scatter_or_time() {
                CompensationRef::FromFile
            } else {
                CompensationRef::Uncompensated
            },
            transform: self.transform_id(marker),
        })
    }

    /// The singlet ratio FSC-H / FSC-A of the display columns as a
    /// Gating-ML `fratio` dimension on the channels (the ranges' quotient
    /// as its factor), when both channels were read.
    pub fn singlet_ratio_dimension(&self) -> Option<Dimension> {
        self.singlet_ratio().map(|(id, _)| Dimension {
            source: Source::Ratio(id),
            compensation: CompensationRef::Uncompensated,
            transform: None,
        })
    }

    fn singlet_ratio(&self) -> Option<(String, TransformDef)> {
        let (h, a) = (Marker::FscH, Marker::FscA);
        let (numerator, denominator) = (self.channels.get(&h)?, self.channels.get(&a)?);
        Some((
            ncname(&format!("ratio_{}_{}", h.name(), a.name())),
            TransformDef::Ratio {
                ratio: singlet_ratio(&self.full_scale)?,
                numerator: numerator.clone(),
                denominator: denominator.clone(),
            },
        ))
    }

    /// The Gating-ML transformations of [`Prepared::dimension`] and
    /// [`Prepared::singlet_ratio_dimension`]: the logicle, one `flin` per
    /// linear (scatter) channel and the singlet ratio.
    pub fn transforms(&self) -> Vec<(String, TransformDef)> {
        let mut out = vec![(
            LOGICLE_ID.to_string(),
            TransformDef::Scale(Transform::Logicle(self.logicle.clone())),
        )];
        for (&marker, &top) in &self.full_scale {
            if let (Some(id), Ok(linear)) = (self.transform_id(marker), Linear::new(top, 0.0)) {
                out.push((id, TransformDef::Scale(Transform::Linear(linear))));
            }
        }
        out.extend(self.singlet_ratio());
        out
    }
}

/// The singlet ratio's Gating-ML `fratio` on the channel values: FSC-H /
/// FSC-A of the display columns (each its channel over its range), as one
/// quotient times the ranges' quotient.
fn singlet_ratio(full_scale: &BTreeMap<Marker, f64>) -> Option<Ratio> {
    let (top_h, top_a) = (
        full_scale.get(&Marker::FscH)?,
        full_scale.get(&Marker::FscA)?,
    );
    Some(Ratio {
        a: top_a / top_h,
        b: 0.0,
        c: 0.0,
    })
}

/// Reads, compensates and scales the markers of `markers` from a file.
pub fn prepare(file: &FcsFile, dataset: usize, markers: &MarkerMap) -> Result<Prepared, FcsError> {
    let info = file.dataset(dataset)?;
    let (_, w, m, a) = LOGICLE;
    let fluorescence = markers
        .iter()
        .filter(|(m, _)| !m.is_scatter_or_time())
        .map(|(_, j)| &info.metadata.channels[j]);
    let t = logicle_top(fluorescence);
    let logicle = Logicle::new(t, w, m, a).map_err(|e| FcsError::Unsupported(e.to_string()))?;
    let fast = Transform::Logicle(logicle.clone()).fast();
    let wanted: Vec<(Marker, usize, ColumnScale)> = markers
        .iter()
        .map(|(marker, j)| {
            let range = info.metadata.channels[j].top_value().max(1.0);
            let scale = match marker {
                m if m.is_scatter_or_time() && m != Marker::Time => ColumnScale::Divide(range),
                Marker::Time => ColumnScale::Identity,
                _ => ColumnScale::Transform(Box::new(fast.clone())),
            };
            (marker, j, scale)
        })
        .collect();
    let full_scale = wanted
        .iter()
        .filter_map(|w| match w.2 {
            ColumnScale::Divide(r) => Some((w.0, r)),
            _ => None,
        })
        .collect();
    let channels = wanted
        .iter()
        .map(|w| (w.0, info.metadata.channels[w.1].name.clone()))
        .collect();
    let specs: Vec<(usize, ColumnScale)> = wanted.iter().map(|w| (w.1, w.2.clone())).collect();
    let channel_of = |m: Marker| wanted.iter().find(|w| w.0 == m).map(|w| w.1);
    let ratio = match (channel_of(Marker::FscH), channel_of(Marker::FscA)) {
        (Some(h), Some(a)) => singlet_ratio(&full_scale).map(|r| (h, a, r)),
        _ => None,
    };
    let (mut columns, compensation) = read_compensated(file, dataset, &specs, ratio)?;
    let singlet_ratio = ratio.and_then(|_| columns.pop());
    Ok(Prepared {
        events: info.event_count,
        columns: wanted.into_iter().map(|w| w.0).zip(columns).collect(),
        logicle,
        spillover: info
            .metadata
            .spillover
            .clone()
            .filter(|_| compensation.applied),
        compensation_problem: compensation.problem,
        full_scale,
        channels,
        singlet_ratio,
    })
}

/// How a column is put on its scale as it is read.
#[derive(Debug, Clone)]
pub enum ColumnScale {
    /// Channel values as they are.
    Identity,
    /// Divided by a constant (scatter over its range).
    Divide(f64),
    /// Through a transform.
    Transform(Box<FastTransform>),
}

impl ColumnScale {
    /// Puts `values` on the scale, in place.
    fn apply_all(&self, values: &mut [f64]) {
        match self {
            ColumnScale::Identity => {}
            ColumnScale::Divide(r) => values.iter_mut().for_each(|v| *v /= r),
            ColumnScale::Transform(t) => values.iter_mut().for_each(|v| *v = t.eval(*v)),
        }
    }
}

/// Whether the file's spillover matrix was applied, and why not when the
/// file declares one that cannot be.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompensationOutcome {
    /// A spillover matrix was applied.
    pub applied: bool,
    /// The file declares spillover that could not be applied: why.
    pub problem: Option<String>,
}

/// The compensation of a data set: its spillover matrix inverted, or why a
/// matrix the file declares cannot be used (unreadable, singular, or
/// naming channels the file lacks). Never silently uncompensated.
fn file_compensation(
    info: &crate::fcs::DataSetInfo,
    names: &[String],
) -> (Option<Compensation>, Option<String>) {
    let Some(s) = info.metadata.spillover.as_ref() else {
        let declared = crate::fcs::spillover::declares_spillover(&info.keywords);
        let why = info
            .warnings
            .iter()
            // The spillover reader's own warnings name their keyword.
            .filter(|w| ["SPILL", "$COMP", "$DFC"].iter().any(|k| w.contains(k)))
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        return (
            None,
            declared.then(|| {
                format!(
                    "the file declares a spillover matrix that cannot be read{}",
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({why})")
                    }
                )
            }),
        );
    };
    match Compensation::from_spillover(s) {
        Err(e) => (
            None,
            Some(format!(
                "the spillover matrix ({}) cannot be applied: {e}",
                s.keyword
            )),
        ),
        // Every output reads the same detectors: one check tells whether
        // they are all channels of the file.
        Ok(c) => match c.output_weights(names, 0).err() {
            Some(e) => (
                None,
                Some(format!(
                    "the spillover matrix ({}) does not fit the channels: {e}",
                    s.keyword
                )),
            ),
            None => (Some(c), None),
        },
    }
}

/// Why the spillover matrix a data set declares cannot be applied, or
/// `None` when it can (or none is declared).
pub fn compensation_problem(info: &crate::fcs::DataSetInfo) -> Option<String> {
    file_compensation(info, &channel_names(info)).1
}

/// `$PnN` of every channel of a data set, in order.
fn channel_names(info: &crate::fcs::DataSetInfo) -> Vec<String> {
    info.metadata
        .channels
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

thread_local! {
    /// Each thread's derived column, reused from chunk to chunk.
    static EXACT: std::cell::RefCell<Vec<f64>> = Default::default();
}

/// Reads channels `(index, scale)` of a data set, each compensated by the
/// file's spillover matrix when it is one of the matrix's detectors, then
/// scaled (in double precision, stored in single); with `ratio`
/// `(numerator, denominator, fratio)`, one more column after them: the
/// ratio of the two channels' values. Returns the columns and whether (or
/// why not) a spillover matrix was applied.
pub fn read_compensated(
    file: &FcsFile,
    dataset: usize,
    channels: &[(usize, ColumnScale)],
    ratio: Option<(usize, usize, Ratio)>,
) -> Result<(Vec<Vec<f32>>, CompensationOutcome), FcsError> {
    let info = file.dataset(dataset)?;
    let names = channel_names(info);
    let (compensation, problem) = file_compensation(info, &names);
    let specs: Vec<LinearSpec> = channels
        .iter()
        .map(|&(j, _)| match &compensation {
            Some(c) => match c.outputs.iter().position(|o| *o == names[j]) {
                Some(out) => c
                    .output_weights(&names, out)
                    .unwrap_or_else(|_| vec![(j, 1.0)]),
                None => vec![(j, 1.0)],
            },
            None => vec![(j, 1.0)],
        })
        .collect();
    let n = info.event_count;
    let mut columns: Vec<Vec<f32>> = (0..channels.len() + usize::from(ratio.is_some()))
        .map(|_| crate::memory::filled_vec::<f32>(n))
        .collect();
    {
        // Each chunk's rows compensated and scaled straight into the
        // columns (one pass, no chunk-sized intermediates).
        let slots = chunk_slots(&mut columns, n);
        let width = info.metadata.channels.len().max(1);
        let chunks: Vec<usize> = (0..n.div_ceil(CHUNK_EVENTS)).collect();
        file.for_each_chunk(dataset, CHUNK_EVENTS, chunks, |rows, chunk| {
            if let Some(Ok(mut out)) = slots.get(chunk).map(Mutex::lock) {
                ChunkColumns::with_transposed(rows, width, |columns| {
                    EXACT.with_borrow_mut(|exact| {
                        exact.resize(columns.events(), 0.0);
                        for ((o, spec), (_, scale)) in out.iter_mut().zip(&specs).zip(channels) {
                            let exact = &mut exact[..o.len().min(columns.events())];
                            columns.combine_into(exact, spec);
                            scale.apply_all(exact);
                            o.iter_mut()
                                .zip(exact.iter())
                                .for_each(|(o, v)| *o = *v as f32);
                        }
                    })
                });
                if let (Some((h, a, r)), Some(o)) = (&ratio, out.get_mut(channels.len())) {
                    o.iter_mut()
                        .zip(rows.chunks_exact(width))
                        .for_each(|(o, row)| {
                            let (h, a) = (row.get(*h), row.get(*a));
                            *o = h.zip(a).map_or(f32::NAN, |(h, a)| r.apply(*h, *a) as f32);
                        });
                }
            }
        })?;
    }
    Ok((
        columns,
        CompensationOutcome {
            applied: compensation.is_some(),
            problem,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::cut_between_stored_values;

    #[test]
    fn a_moved_cut_splits_stored_and_exact_values_alike() {
        for cut in [0.3_f64, 0.5, 0.1234567891, 1e-9, -0.25, 7.0e5] {
            let moved = cut_between_stored_values(cut);
            let stored = cut as f32;
            // The stored values on each side of the cut stay on that side.
            for v in [stored.next_down(), stored, stored.next_up()] {
                assert_eq!(f64::from(v) >= cut, f64::from(v) >= moved, "{cut} {v}");
            }
            // An exact value and the stored value it rounds to fall alike.
            for k in -50..=50 {
                let exact = moved + f64::from(k) * moved.abs().max(1e-30) * 1e-9;
                assert_eq!(
                    exact >= moved,
                    f64::from(exact as f32) >= moved,
                    "{cut} {exact}"
                );
            }
        }
        assert_eq!(cut_between_stored_values(1e300), 1e300);
        assert!(cut_between_stored_values(f64::INFINITY).is_infinite());
    }
}
