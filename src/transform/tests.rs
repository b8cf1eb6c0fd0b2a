//! Transforms against their published definitions.

use super::biexponential::inverse as b_of_y;
use super::*;

fn logicle_grid() -> Vec<f64> {
    let mut xs = vec![0.0];
    let mut x = 1e-3;
    while x < 1e6 {
        xs.push(x);
        xs.push(-x);
        x *= 1.07;
    }
    xs
}

#[test]
fn logicle_exact_solves_its_definition_to_1e9() {
    for (t, w, m, a) in [
        (262144.0, 0.5, 4.5, 0.0),
        (10000.0, 0.5, 4.5, 0.0),
        (1000.0, 1.0, 4.0, 1.0),
        (262144.0, 0.0, 4.5, 0.0),
        (10000.0, 2.0, 4.5, 0.0),
    ] {
        let l = Logicle::new(t, w, m, a).expect("valid");
        for x in logicle_grid() {
            let y = l.apply(x);
            let back = b_of_y(&l, y);
            let tolerance = 1e-9 * x.abs().max(t * 1e-12);
            assert!(
                (back - x).abs() <= tolerance,
                "T={t} W={w} x={x}: y={y} B(y)={back}"
            );
        }
        assert!((l.apply(t) - 1.0).abs() < 1e-12, "logicle(T) = 1");
        assert!((l.apply(0.0) - l.zero()).abs() < 1e-15);
    }
}

#[test]
fn logicle_matches_published_values() {
    // Parks et al. 2006 / Gating-ML 2.0 conventions: T=10000, W=0.5, M=4.5,
    // A=0 puts data zero at W/M = 1/9 and the top at 1; monotone and odd
    // about zero.
    let l = Logicle::new(10000.0, 0.5, 4.5, 0.0).expect("valid");
    assert!((l.zero() - 1.0 / 9.0).abs() < 1e-15);
    let (y1, y2) = (l.apply(100.0), l.apply(-100.0));
    assert!((y1 + y2 - 2.0 / 9.0).abs() < 1e-12);
    // At the top the scale is logarithmic: one decade = 1/M of the scale.
    let decade = l.apply(10000.0) - l.apply(1000.0);
    assert!((decade - 1.0 / 4.5).abs() < 2e-3, "{decade}");
}

#[test]
fn fast_tables_agree_with_exact_over_full_range() {
    let scales = [
        Transform::Logicle(Logicle::new(262144.0, 0.5, 4.5, 0.0).expect("valid")),
        Transform::Logicle(Logicle::new(10000.0, 1.0, 4.0, 1.0).expect("valid")),
        Transform::Hyperlog(Hyperlog::new(10000.0, 0.5, 4.5, 0.0).expect("valid")),
        Transform::Hyperlog(Hyperlog::new(1023.0, 1.0, 4.0, 0.5).expect("valid")),
    ];
    for s in &scales {
        let fast = s.fast();
        let mut worst = 0.0f64;
        let mut x = -3e6;
        // Dense sweep incl. negatives, tiny values and beyond the top.
        while x < 3e6 {
            let e = s.apply(x);
            let f = fast.eval(x);
            worst = worst.max((e - f).abs());
            let step = (x.abs() * 1e-3).max(1e-4);
            x += step;
        }
        assert!(worst < 1e-6, "{s:?}: worst {worst}");
    }
}

#[test]
fn hyperlog_exact_solves_definition() {
    let h = Hyperlog::new(10000.0, 0.5, 4.5, 0.0).expect("valid");
    for x in logicle_grid() {
        let y = h.apply(x);
        let back = h.inverse(y);
        assert!(
            (back - x).abs() <= 1e-9 * x.abs().max(1e-8),
            "x={x} back={back}"
        );
    }
    assert!((h.apply(10000.0) - 1.0).abs() < 1e-12);
}

#[test]
fn simple_transforms_and_inverses() {
    let lin = Linear::new(1000.0, 100.0).expect("valid");
    assert!((lin.apply(-100.0)).abs() < 1e-15 && (lin.apply(1000.0) - 1.0).abs() < 1e-15);
    let log = Log::new(10000.0, 5.0).expect("valid");
    assert!((log.apply(10000.0) - 1.0).abs() < 1e-15 && (log.apply(1.0) - 0.2).abs() < 1e-15);
    assert!(log.apply(0.0).is_nan() && log.apply(-1.0).is_nan());
    let asinh = Asinh::new(1000.0, 4.0, 1.0).expect("valid");
    assert!((asinh.apply(1000.0) - 1.0).abs() < 1e-12);
    assert!((asinh.apply(0.0) - 0.2).abs() < 1e-15);
    for t in [
        Transform::Linear(lin),
        Transform::Log(log),
        Transform::Asinh(asinh),
        Transform::ArcsinhCofactor(ArcsinhCofactor::new(150.0).expect("valid")),
    ] {
        for x in [0.5, 3.0, 700.0, 12345.0] {
            let back = t.inverse(t.apply(x));
            assert!((back - x).abs() < 1e-9 * x, "{t:?} {x} {back}");
        }
    }
    assert!(Logicle::new(-1.0, 0.5, 4.5, 0.0).is_err());
    assert!(Logicle::new(1000.0, 3.0, 4.5, 0.0).is_err());
    assert!(Hyperlog::new(1000.0, 0.0, 4.5, 0.0).is_err());
    let r = Ratio {
        a: 1.0,
        b: 0.0,
        c: -1.0,
    };
    assert_eq!(r.apply(6.0, 2.0), 2.0);
}
