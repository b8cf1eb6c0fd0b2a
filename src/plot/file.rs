//! `marrowgate plot`: one bivariate plot of an FCS file, compensated by its
//! spillover, fluorescence on a logicle (or arcsinh, or linear) scale,
//! scatter linear, with gates given in channel units outlined and counted.

use super::PlotError;
use super::axis::Axis;
use super::bivariate::{Bivariate, GateOutline};
use super::outline::{PlotAxes, PlotAxis};
use crate::events::FileEvents;
use crate::fcs::{FcsFile, FileError};
use crate::gate::tree::GateTree;
use crate::gate::{CompensationRef, Dimension, Gate, GateKind, Interval, Source};
use crate::strategy::markers::{Marker, describe_channel, marker_of};
use crate::strategy::prepare::{ColumnScale, LOGICLE, read_compensated};
use crate::transform::{Asinh, Linear, Logicle, Transform};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a file could not be plotted.
#[derive(Debug, thiserror::Error)]
pub enum PlotFileError {
    /// The file is unreadable.
    #[error(transparent)]
    Read(#[from] FileError),
    /// An axis names no channel of the file.
    #[error("{file}: no channel or marker {name:?} (channels: {channels})")]
    NoChannel {
        /// File.
        file: String,
        /// What was asked for.
        name: String,
        /// What the file has.
        channels: String,
    },
    /// A gate argument does not parse.
    #[error(
        "--gate {0}: expected NAME=X0:X1,Y0:Y1 or NAME=poly:X Y;X Y;X Y (channel units; X0 or X1 may be empty)"
    )]
    Gate(String),
    /// Drawing or writing failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

/// Fluorescence scale of a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Logicle (T 262144, W 0.5, M 4.5, A 0).
    Logicle,
    /// Gating-ML fasinh (T 262144, M 4.5, A 0).
    Asinh,
    /// Linear over the channel's range.
    Linear,
}

/// A gate in channel (compensated data) units, as given on the command
/// line; [`GateSpec::gate`] makes it the gate engine's gate on the
/// plot's two channels.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSpec {
    /// Name shown (and the gate's id).
    pub name: String,
    /// Its shape.
    pub region: GateRegion,
}

/// The shape of a [`GateSpec`].
#[derive(Debug, Clone, PartialEq)]
pub enum GateRegion {
    /// `x in [x.min, x.max)` and `y in [y.min, y.max)`, open ends allowed.
    Rectangle {
        /// x interval.
        x: Interval,
        /// y interval.
        y: Interval,
    },
    /// A polygon (even-odd rule), vertices `[x, y]`.
    Polygon(Vec<[f64; 2]>),
}

impl GateSpec {
    /// Parses `NAME=X0:X1,Y0:Y1` (open ends allowed) or
    /// `NAME=poly:X Y;X Y;X Y`.
    pub fn parse(arg: &str) -> Result<GateSpec, PlotFileError> {
        let bad = || PlotFileError::Gate(arg.to_string());
        let (name, spec) = arg.split_once('=').ok_or_else(bad)?;
        let number = |s: &str| -> Result<Option<f64>, PlotFileError> {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(bad)
            }
        };
        let region = if let Some(points) = spec.strip_prefix("poly:") {
            let v = points
                .split(';')
                .map(|p| {
                    let mut it = p.split_whitespace();
                    match (it.next(), it.next(), it.next()) {
                        (Some(x), Some(y), None) => match (number(x)?, number(y)?) {
                            (Some(x), Some(y)) => Ok([x, y]),
                            _ => Err(bad()),
                        },
                        _ => Err(bad()),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            if v.len() < 3 {
                return Err(bad());
            }
            GateRegion::Polygon(v)
        } else {
            let (x, y) = spec.split_once(',').ok_or_else(bad)?;
            let interval = |s: &str| -> Result<Interval, PlotFileError> {
                let (lo, hi) = s.split_once(':').ok_or_else(bad)?;
                let (min, max) = (number(lo)?, number(hi)?);
                if let (Some(a), Some(b)) = (min, max)
                    && a >= b
                {
                    return Err(bad());
                }
                Ok(Interval { min, max })
            };
            GateRegion::Rectangle {
                x: interval(x)?,
                y: interval(y)?,
            }
        };
        if name.trim().is_empty() {
            return Err(bad());
        }
        Ok(GateSpec {
            name: name.trim().to_string(),
            region,
        })
    }

    /// The gate on channels `x` and `y` (compensated by the file's
    /// spillover, channel units).
    pub fn gate(&self, x: &str, y: &str) -> Gate {
        let dimensions = vec![channel_dimension(x), channel_dimension(y)];
        Gate {
            id: self.name.clone(),
            parent: None,
            kind: match &self.region {
                GateRegion::Rectangle { x, y } => GateKind::Rectangle {
                    dimensions,
                    intervals: vec![*x, *y],
                },
                GateRegion::Polygon(vertices) => GateKind::Polygon {
                    dimensions,
                    vertices: vertices.clone(),
                },
            },
        }
    }
}

/// A channel in channel units, compensated by the file's spillover (as
/// the plot reads it).
fn channel_dimension(name: &str) -> Dimension {
    Dimension {
        source: Source::Channel(name.to_string()),
        compensation: CompensationRef::FromFile,
        transform: None,
    }
}

/// What to plot.
#[derive(Debug, Clone)]
pub struct PlotRequest {
    /// FCS file.
    pub file: PathBuf,
    /// x channel or marker.
    pub x: String,
    /// y channel or marker.
    pub y: String,
    /// Fluorescence scale.
    pub scale: Scale,
    /// Gates to outline and count.
    pub gates: Vec<GateSpec>,
    /// Output .png or .svg.
    pub out: PathBuf,
    /// Pixels.
    pub size: (u32, u32),
}

/// Events per gate of a plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateCount {
    /// Gate name.
    pub name: String,
    /// Events inside.
    pub events: u64,
    /// Percent of all events.
    pub percent: f64,
}

/// What was drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlotSummary {
    /// Output file.
    pub out: String,
    /// Events plotted.
    pub events: u64,
    /// Channels used for x and y ($PnN).
    pub channels: [String; 2],
    /// Per gate.
    pub gates: Vec<GateCount>,
}

/// The channel for `name`: a `$PnN`, else a marker found in the labels.
fn channel(
    path: &Path,
    names: &[(String, Option<String>)],
    name: &str,
) -> Result<usize, PlotFileError> {
    if let Some(i) = names.iter().position(|(n, _)| n == name) {
        return Ok(i);
    }
    let wanted = marker_of(name, Some(name));
    wanted
        .and_then(|w| {
            names
                .iter()
                .position(|(n, s)| marker_of(n, s.as_deref()) == Some(w))
        })
        .ok_or_else(|| PlotFileError::NoChannel {
            file: path.display().to_string(),
            name: name.to_string(),
            channels: names
                .iter()
                .map(|(n, s)| describe_channel(n, s.as_deref()))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Plots one file.
pub fn plot_file(req: &PlotRequest) -> Result<PlotSummary, PlotFileError> {
    let file = FcsFile::open(&req.file)?;
    let dataset = file.analysed_dataset();
    let info = file.dataset(dataset).map_err(|source| FileError {
        path: req.file.clone(),
        source,
    })?;
    let names: Vec<(String, Option<String>)> =
        crate::fcs::metadata::names_and_labels(&info.metadata.channels);
    let (xi, yi) = (
        channel(&req.file, &names, &req.x)?,
        channel(&req.file, &names, &req.y)?,
    );
    let top = crate::strategy::prepare::logicle_top(
        [xi, yi]
            .iter()
            .map(|&j| &info.metadata.channels[j])
            .filter(|c| {
                !marker_of(&c.name, c.marker.as_deref()).is_some_and(Marker::is_scatter_or_time)
            }),
    );
    let axis_of = |j: usize| -> Result<(Transform, Axis), PlotFileError> {
        let range = info.metadata.channels[j].top_value().max(1.0);
        let (name, label) = &names[j];
        let title = match label {
            Some(l) if !l.trim().is_empty() => format!("{l} ({name})"),
            _ => name.clone(),
        };
        let scatter = marker_of(name, label.as_deref()).is_some_and(Marker::is_scatter_or_time);
        let invalid = |e: crate::transform::TransformError| PlotError::Draw(e.to_string());
        let t = if scatter || req.scale == Scale::Linear {
            Transform::Linear(Linear::new(range, 0.0).map_err(invalid)?)
        } else if req.scale == Scale::Asinh {
            Transform::Asinh(Asinh::new(top, LOGICLE.2, 0.0).map_err(invalid)?)
        } else {
            let (_, w, m, a) = LOGICLE;
            Transform::Logicle(Logicle::new(top, w, m, a).map_err(invalid)?)
        };
        let axis = match &t {
            Transform::Linear(_) => Axis::linear(&title, range, (0.0, 1.0)),
            other => Axis::for_transform(&title, other, top),
        };
        Ok((t, axis))
    };
    let (tx, ax) = axis_of(xi)?;
    let (ty, ay) = axis_of(yi)?;
    let (data, _) = read_compensated(
        &file,
        dataset,
        &[(xi, ColumnScale::Identity), (yi, ColumnScale::Identity)],
        None,
    )
    .map_err(|source| FileError {
        path: req.file.clone(),
        source,
    })?;
    let (xd, yd) = (&data[0], &data[1]);
    let (fx, fy) = (tx.fast(), ty.fast());
    let xs: Vec<f32> = xd.par_iter().map(|&v| fx.eval(v.into()) as f32).collect();
    let ys: Vec<f32> = yd.par_iter().map(|&v| fy.eval(v.into()) as f32).collect();
    let n = xs.len() as u64;
    let (x_name, y_name) = (
        &info.metadata.channels[xi].name,
        &info.metadata.channels[yi].name,
    );
    // The gates are the gate engine's: counted by it on the file (with the
    // file's spillover, as the plot's columns are read) and outlined from
    // the same shapes.
    let tree = GateTree {
        transforms: Vec::new(),
        matrices: Vec::new(),
        gates: req.gates.iter().map(|g| g.gate(x_name, y_name)).collect(),
    };
    // Without gates there is nothing to count: no second pass over the file.
    let counts_of_gates = if tree.gates.is_empty() {
        Vec::new()
    } else {
        tree.evaluate(
            &FileEvents {
                file: &file,
                dataset,
            },
            info.metadata.spillover.as_ref(),
        )
        .map_err(|e| PlotFileError::Gate(e.to_string()))?
        .counts
    };
    let (show_x, show_y) = (|v: f64| tx.apply(v), |v: f64| ty.apply(v));
    let axes = PlotAxes {
        x: PlotAxis {
            dimension: channel_dimension(x_name),
            display: &show_x,
            channel_display: Some(&show_x),
        },
        y: PlotAxis {
            dimension: channel_dimension(y_name),
            display: &show_y,
            channel_display: Some(&show_y),
        },
        transforms: &[],
    };
    let mut counts = Vec::new();
    let mut outlines = Vec::new();
    for (gate, c) in tree.gates.iter().zip(&counts_of_gates) {
        let inside = c.events as u64;
        let percent = crate::stats::percent(inside, n);
        outlines.extend(axes.shape(gate).map(|shape| GateOutline {
            label: format!("{} {}", gate.id, crate::qc::format_percent(percent)),
            shape,
        }));
        counts.push(GateCount {
            name: gate.id.clone(),
            events: inside,
            percent,
        });
    }
    let plot = Bivariate {
        title: format!(
            "{} ({} events)",
            req.file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            n
        ),
        x: ax,
        y: ay,
        xs: &xs,
        ys: &ys,
        parent: None,
        highlights: Vec::new(),
        gates: outlines,
    };
    super::write_bivariate(&req.out, &plot, req.size)?;
    Ok(PlotSummary {
        out: req.out.display().to_string(),
        events: n,
        channels: [names[xi].0.clone(), names[yi].0.clone()],
        gates: counts,
    })
}
