//! Plot axes on a display scale with ticks labelled in data units: a
//! logicle axis shows 0, 10², 10³... where those values fall; a linear
//! scatter axis shows 0, 50K, 100K...

use crate::transform::{Logicle, Transform};

/// One axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Axis title.
    pub label: String,
    /// Display window shown.
    pub range: (f64, f64),
    /// Labelled ticks: (display position, text).
    pub ticks: Vec<(f64, String)>,
    /// Unlabelled minor ticks (display positions).
    pub minor: Vec<f64>,
}

fn superscript(n: u32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

impl Axis {
    /// A logicle axis over the display window `range` (0-1 is zero... top of
    /// scale; a little below 0 shows the negative spread).
    pub fn logicle(label: &str, logicle: &Logicle, range: (f64, f64)) -> Axis {
        let inside = |p: f64| p >= range.0 - 1e-9 && p <= range.1 + 1e-9;
        let mut ticks = vec![];
        let mut minor = vec![];
        let top = logicle.t.log10().floor() as u32;
        let zero = logicle.apply(0.0);
        if inside(zero) {
            ticks.push((zero, "0".to_string()));
        }
        for k in 1..=top {
            let v = 10f64.powi(k as i32);
            for (sign, prefix) in [(1.0, ""), (-1.0, "-")] {
                let p = logicle.apply(sign * v);
                // Label a decade only where it stands clear of zero's label.
                if inside(p) && (p - zero).abs() > 0.04 {
                    ticks.push((p, format!("{prefix}10{}", superscript(k))));
                }
                for m in 2..10 {
                    let q = logicle.apply(sign * v * m as f64);
                    if inside(q) && sign * v * (m as f64) < logicle.t {
                        minor.push(q);
                    }
                }
            }
        }
        ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
        Axis {
            label: label.into(),
            range,
            ticks,
            minor,
        }
    }

    /// A linear axis whose display value is data / `full_scale` (scatter):
    /// ticks every round step in data units ("50K").
    pub fn linear(label: &str, full_scale: f64, range: (f64, f64)) -> Axis {
        let (lo, hi) = (range.0 * full_scale, range.1 * full_scale);
        let raw = (hi - lo) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= 0.9 * raw)
            .unwrap_or(10.0 * magnitude);
        let mut ticks = Vec::new();
        let mut v = (lo / step).ceil() * step;
        while v <= hi + 1e-9 * step {
            let text = if v.abs() >= 1e6 {
                format!("{}M", v / 1e6)
            } else if v.abs() >= 1e3 {
                format!("{}K", v / 1e3)
            } else {
                format!("{v}")
            };
            ticks.push((v / full_scale, text));
            v += step;
        }
        Axis {
            label: label.into(),
            range,
            ticks,
            minor: Vec::new(),
        }
    }

    /// An axis for a transform of data values (the `plot` command): ticks
    /// at decades for logicle, hyperlog and arcsinh scales, round steps for
    /// linear ones.
    pub fn for_transform(label: &str, t: &Transform, data_top: f64) -> Axis {
        match t {
            Transform::Logicle(l) => Axis::logicle(label, l, (-0.05, 1.0)),
            _ => {
                // Ticks at decades, placed by the transform itself.
                let lo = t.apply(0.0).min(t.apply(-100.0));
                let hi = t.apply(data_top).max(lo + 1e-9);
                let mut ticks = vec![(t.apply(0.0), "0".to_string())];
                let mut minor = Vec::new();
                let mut k = 1;
                while 10f64.powi(k) <= data_top * 1.0001 {
                    let v = 10f64.powi(k);
                    ticks.push((t.apply(v), format!("10{}", superscript(k as u32))));
                    minor.extend((2..10).map(|m| t.apply(v * m as f64)).filter(|p| *p <= hi));
                    k += 1;
                }
                let spread = ticks.windows(2).all(|w| w[1].0 - w[0].0 > 0.03 * (hi - lo));
                if !spread {
                    return Axis::linear_transformed(label, t, data_top, (lo, hi));
                }
                Axis {
                    label: label.into(),
                    range: (lo, hi),
                    ticks,
                    minor,
                }
            }
        }
    }

    fn linear_transformed(label: &str, t: &Transform, data_top: f64, range: (f64, f64)) -> Axis {
        let mut axis = Axis::linear(label, data_top, (0.0, 1.0));
        axis.ticks = axis
            .ticks
            .into_iter()
            .map(|(p, s)| (t.apply(p * data_top), s))
            .collect();
        axis.range = range;
        axis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logicle_ticks_sit_where_their_values_fall() {
        let l = Logicle::new(262_144.0, 0.5, 4.5, 0.0).expect("logicle");
        let a = Axis::logicle("CD10", &l, (-0.05, 1.0));
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["-10²", "0", "10²", "10³", "10⁴", "10⁵"]);
        let p = a.ticks.iter().find(|t| t.1 == "10³").expect("10³").0;
        assert!((p - l.apply(1000.0)).abs() < 1e-12);
        assert!(a.minor.len() > 20);
    }

    #[test]
    fn linear_ticks_are_round_numbers() {
        let a = Axis::linear("FSC-A", 262_144.0, (0.0, 1.0));
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "50K", "100K", "150K", "200K", "250K"]);
        assert!((a.ticks[1].0 - 50_000.0 / 262_144.0).abs() < 1e-12);
    }
}
