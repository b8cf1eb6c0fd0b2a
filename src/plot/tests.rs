//! Plots decoded and checked pixel by pixel against their coordinates.

use super::axis::Axis;
use super::bivariate::{Bivariate, Frame, GateOutline, Highlight, Shape};
use super::colour::{BLAST, GATE};
use super::*;
use crate::rng::Rng;

fn clusters() -> (Vec<f32>, Vec<f32>, Vec<bool>) {
    let mut rng = Rng::new(3);
    let (mut xs, mut ys, mut red) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..30_000 {
        let (cx, cy, r) = if i % 3 == 0 {
            (0.7, 0.7, true)
        } else {
            (0.3, 0.3, false)
        };
        xs.push((cx + 0.03 * rng.normal()) as f32);
        ys.push((cy + 0.03 * rng.normal()) as f32);
        red.push(r);
    }
    (xs, ys, red)
}

fn plot<'a>(xs: &'a [f32], ys: &'a [f32], red: &'a [bool]) -> Bivariate<'a> {
    let l = crate::transform::Logicle::new(262_144.0, 0.5, 4.5, 0.0).expect("logicle");
    Bivariate {
        title: "test".into(),
        x: Axis::logicle("CD19", &l, (0.0, 1.0)),
        y: Axis::logicle("CD10", &l, (0.0, 1.0)),
        xs,
        ys,
        parent: None,
        highlights: vec![Highlight {
            name: "blasts".into(),
            members: red,
            colour: BLAST,
        }],
        gates: vec![GateOutline {
            label: "blasts 33.3%".into(),
            shape: Shape::Rect {
                x: (0.55, 0.85),
                y: (0.55, 0.85),
            },
        }],
    }
}

#[test]
fn png_shows_populations_and_gates_where_the_coordinates_say() {
    let (xs, ys, red) = clusters();
    let p = plot(&xs, &ys, &red);
    let png = png_bytes((400, 400), |a| bivariate::draw(a, &p)).expect("renders");
    let img = image::load_from_memory(&png).expect("decodes").to_rgb8();
    assert_eq!(img.dimensions(), (400, 400));
    let frame = Frame {
        width: 400,
        height: 400,
    };
    let at = |x: f64, y: f64| {
        let (px, py) = frame.pixel(&p.x, &p.y, (x, y));
        img.get_pixel(px as u32, py as u32).0
    };
    // The highlighted cluster is drawn in its colour, the other in
    // pseudocolour, empty space stays white.
    assert_eq!(at(0.7, 0.7), BLAST);
    let other = at(0.3, 0.3);
    assert!(other != [255, 255, 255] && other != BLAST, "{other:?}");
    assert_eq!(at(0.9, 0.1), [255, 255, 255]);
    // The gate's left edge, halfway up, is outlined.
    assert_eq!(at(0.55, 0.62), GATE);
}

#[test]
fn svg_embeds_the_density_and_labels_the_gate() {
    let (xs, ys, red) = clusters();
    let p = plot(&xs, &ys, &red);
    let svg = svg_string((400, 400), |a| bivariate::draw(a, &p)).expect("renders");
    assert!(svg.contains("<image") && svg.contains("blasts 33.3%") && svg.contains("10³"));
}

#[test]
fn ten_million_events_bin_in_one_pass() {
    // Not a timing assertion: the plot of 10 M events is one density grid.
    let n = 10_000_000;
    let xs: Vec<f32> = (0..n).map(|i| ((i % 1000) as f32 + 0.5) / 1000.0).collect();
    let ys: Vec<f32> = (0..n)
        .map(|i| ((i / 10_000) as f32 + 0.5) / 1000.0)
        .collect();
    let g = grid::DensityGrid::bin(&xs, &ys, None, ((0.0, 1.0), (0.0, 1.0)), (100, 100));
    assert_eq!(g.events, n as u64);
    assert!(g.counts.iter().all(|&c| c == 1000));
}

#[test]
fn gate_arguments_parse_or_say_what_is_expected() {
    use file::GateSpec;
    let g = GateSpec::parse("B=2000:,1000:5e4").expect("rect");
    assert_eq!(g.name, "B");
    assert_eq!(
        g.region,
        file::GateRegion::Rectangle {
            x: crate::gate::Interval {
                min: Some(2000.0),
                max: None
            },
            y: crate::gate::Interval {
                min: Some(1000.0),
                max: Some(5e4)
            },
        }
    );
    let p = GateSpec::parse("T=poly:0 0;10 0;10 10").expect("polygon");
    assert!(matches!(p.region, file::GateRegion::Polygon(ref v) if v.len() == 3));
    for bad in [
        "noequals",
        "X=1:2",
        "X=5:1,0:1",
        "X=poly:1 2;3 4",
        "X=a:b,c:d",
        "=1:2,3:4",
    ] {
        let e = GateSpec::parse(bad).expect_err(bad).to_string();
        assert!(e.contains("NAME=X0:X1,Y0:Y1"), "{e}");
    }
}

#[test]
fn plot_file_counts_its_gates_and_writes_png_and_svg() {
    use crate::simulate::{Config, simulate, write};
    use file::{GateSpec, PlotRequest, Scale, plot_file};
    let dir = std::env::temp_dir().join(format!("mg-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fcs = dir.join("s.fcs");
    let sim = simulate(&Config {
        events: 20_000,
        seed: 4,
        blast_fraction: 0.2,
        ..Config::default()
    })
    .expect("simulates");
    write(&sim, &fcs).expect("writes");
    let gate = GateSpec::parse("high FSC=100000:,:").expect("gate");
    let expected = sim
        .events
        .column(0)
        .iter()
        .filter(|&&v| v as f64 >= 100_000.0)
        .count() as u64;
    for (name, scale) in [("p.png", Scale::Logicle), ("p.svg", Scale::Asinh)] {
        let out = dir.join(name);
        let s = plot_file(&PlotRequest {
            file: fcs.clone(),
            x: "FSC-A".into(),
            y: "CD10".into(),
            scale,
            gates: vec![gate.clone()],
            out: out.clone(),
            size: (500, 400),
        })
        .expect("plots");
        assert_eq!(s.channels, ["FSC-A".to_string(), "PE-A".to_string()]);
        assert_eq!(s.gates[0].events, expected);
        assert!(std::fs::metadata(&out).expect("written").len() > 1000);
    }
    let img = image::open(dir.join("p.png")).expect("decodes");
    assert_eq!((img.width(), img.height()), (500, 400));
    let e = plot_file(&PlotRequest {
        file: fcs.clone(),
        x: "CD999".into(),
        y: "CD10".into(),
        scale: Scale::Logicle,
        gates: vec![],
        out: dir.join("x.png"),
        size: (500, 400),
    })
    .expect_err("no such marker")
    .to_string();
    assert!(e.contains("CD999") && e.contains("PE-A (CD10 PE)"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}
