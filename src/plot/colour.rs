//! Colours of the plots: the pseudocolour density scale of flow cytometry
//! (blue for the sparsest events through cyan, green and yellow to red for
//! the densest) and fixed colours for populations and gates.

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Blasts.
pub const BLAST: Rgb = [214, 39, 40];
/// Normal B-cell precursors (hematogones).
pub const HEMATOGONE: Rgb = [31, 119, 180];
/// Gate outlines and their labels.
pub const GATE: Rgb = [20, 20, 20];
/// Reference lines (LOD, sensitivity).
pub const REFERENCE: Rgb = [120, 120, 120];

/// Pseudocolour for a relative density `t` in (0, 1].
pub fn pseudocolour(t: f64) -> Rgb {
    const STOPS: [(f64, Rgb); 5] = [
        (0.0, [40, 40, 200]),
        (0.25, [0, 190, 230]),
        (0.5, [40, 200, 60]),
        (0.75, [250, 220, 0]),
        (1.0, [220, 20, 20]),
    ];
    let t = t.clamp(0.0, 1.0);
    let k = STOPS
        .windows(2)
        .position(|w| t <= w[1].0)
        .unwrap_or(STOPS.len() - 2);
    let ((t0, a), (t1, b)) = (STOPS[k], STOPS[k + 1]);
    let f = (t - t0) / (t1 - t0);
    let mix = |i: usize| (a[i] as f64 + f * (b[i] as f64 - a[i] as f64)).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// `colour` faded towards white for a relative density `t` (dense = full
/// colour, sparse = pale), to draw a population in its own colour.
pub fn shade(colour: Rgb, t: f64) -> Rgb {
    let strength = 0.35 + 0.65 * t.clamp(0.0, 1.0);
    let mix = |c: u8| (255.0 - strength * (255.0 - c as f64)).round() as u8;
    [mix(colour[0]), mix(colour[1]), mix(colour[2])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_runs_blue_to_red() {
        assert_eq!(pseudocolour(0.0), [40, 40, 200]);
        assert_eq!(pseudocolour(1.0), [220, 20, 20]);
        assert_eq!(pseudocolour(0.5), [40, 200, 60]);
        assert_eq!(shade(BLAST, 1.0), BLAST);
        assert!(shade(BLAST, 0.0)[1] > BLAST[1]);
    }
}
