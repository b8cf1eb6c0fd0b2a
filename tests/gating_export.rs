//! The automated gates exported as Gating-ML (issue 12): applied to the
//! site's own file by the project's Gating-ML engine (`marrowgate apply`),
//! each exported gate holds exactly the events report.json gives it, and
//! the blast gate's agreement with the blast call is reported.

use marrowgate::gate::gating_ml;
use marrowgate::simulate::instrument::{Instrument, as_instrument};
use marrowgate::simulate::{BlastPhenotype, Config, PanelProfile, simulate, write};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mg-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Runs `analyze --out` on the sites and returns report.json.
fn analyze(sites: &[(String, PathBuf)], out: &Path) -> Value {
    let mut c = Command::new(env!("CARGO_BIN_EXE_marrowgate"));
    c.arg("analyze").arg("--out").arg(out);
    for (name, file) in sites {
        c.arg("--site").arg(format!("{name}={}", file.display()));
    }
    let status = c.output().expect("runs").status;
    assert!(status.success(), "analyze: {status}");
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("json")
}

/// Applies each site's exported file to its FCS file and compares every
/// exported gate's count with report.json. Returns the blast gates'
/// (exported count, agreement) per site that has one.
fn check_site(site: &Value, out: &Path, dataset: usize) -> Option<(u64, Value)> {
    let name = site["name"].as_str().expect("name");
    let rel = site["gating_ml"].as_str().expect("gating_ml path");
    let gml = out.join(rel);
    // The project's own reader takes the file, and its writer gives it
    // back unchanged.
    let tree = gating_ml::read(&gml).expect("exported file reads");
    let again = gating_ml::parse(&gating_ml::write(&tree).expect("writes"), "again")
        .expect("rewritten file reads");
    assert_eq!(tree, again, "{name}: round trip");
    // Every id and transformation id is an XML NCName, as the Gating-ML
    // schema's xs:ID requires (FlowKit refuses the file otherwise).
    let ncname = |id: &str| {
        id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    for id in tree
        .gates
        .iter()
        .map(|g| g.id.as_str())
        .chain(tree.transforms.iter().map(|t| t.0.as_str()))
    {
        assert!(ncname(id), "{name}: id {id:?}");
    }
    let fcs = PathBuf::from(site["file"].as_str().expect("file"));
    let applied = marrowgate::report::gating::apply(&fcs, &gml, dataset, None).expect("applies");
    let mut blast = None;
    let mut compared = 0;
    for g in site["gates"].as_array().expect("gates") {
        let Some(id) = g["id"].as_str() else {
            continue;
        };
        let exported = applied
            .events(id)
            .unwrap_or_else(|| panic!("{name}: gate {id} not exported"));
        let reported = g["events"].as_u64().expect("events");
        if g["name"] == "blasts" {
            blast = Some((exported, site["blast_gate_agreement"].clone()));
        } else {
            assert_eq!(exported, reported, "{name}: gate {id}");
            compared += 1;
        }
    }
    // cells, singlets (or not without FSC-H), viable, CD45dim SSClow,
    // CD19+, CD19+CD10+.
    assert!(compared >= 5, "{name}: only {compared} gates exported");
    eprintln!("{name}: blast gate {blast:?}");
    blast
}

/// Reads `gating/case.wsp` as FlowJo would: each sample's populations
/// (gates in channel units, `Comp-` channels through the sample's
/// spillover, `eventsInside="0"` the complement), evaluated on the sample's
/// file by the project's gate engine. Every pre-gate's count must equal
/// report.json's; the blast population (FlowJo cannot hold the ellipsoids)
/// is returned per site, with the called count.
fn check_workspace(report: &Value, out: &Path) -> Vec<(String, u64, u64)> {
    use marrowgate::gate::tree::GateTree;
    use marrowgate::gate::{
        BoolOp, CompensationRef, Dimension, Gate, GateKind, Interval, Operand, Source,
    };
    let text = std::fs::read_to_string(out.join("gating/case.wsp")).expect("case.wsp");
    let doc = roxmltree::Document::parse(&text).expect("case.wsp is XML");
    const GATING: &str = "http://www.isac-net.org/std/Gating-ML/v2.0/gating";
    const DATA: &str = "http://www.isac-net.org/std/Gating-ML/v2.0/datatypes";
    let samples: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Sample"))
        .collect();
    let analysed: Vec<&Value> = report["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .filter(|s| s["gating_ml"].is_string())
        .collect();
    assert_eq!(
        samples.len(),
        analysed.len(),
        "one sample per analysed site"
    );
    let mut blasts = Vec::new();
    for (sample, site) in samples.iter().zip(analysed) {
        let file = PathBuf::from(site["file"].as_str().expect("file"));
        let uri = sample
            .descendants()
            .find(|n| n.has_tag_name("DataSet"))
            .and_then(|n| n.attribute("uri"))
            .expect("DataSet uri");
        assert!(uri.starts_with("file:///"), "{uri}");
        let compensated = sample.descendants().any(|n| {
            n.has_tag_name((
                "http://www.isac-net.org/std/Gating-ML/v2.0/transformations",
                "spilloverMatrix",
            ))
        });
        let dimension = |name: &str| match name.strip_prefix("Comp-") {
            Some(channel) if compensated => Dimension {
                source: Source::Channel(channel.to_string()),
                compensation: CompensationRef::FromFile,
                transform: None,
            },
            _ => Dimension::channel(name),
        };
        let mut gates: Vec<Gate> = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        for pop in sample
            .descendants()
            .filter(|n| n.has_tag_name("Population"))
        {
            let parent = pop
                .ancestors()
                .skip(1)
                .find(|n| n.has_tag_name("Population"))
                .map(|p| p.attribute("name").expect("name").to_string());
            let name = pop.attribute("name").expect("name").to_string();
            let shape = pop
                .children()
                .find(|n| n.has_tag_name("Gate"))
                .and_then(|g| g.children().find(|n| n.is_element()))
                .expect("one gate");
            let dims: Vec<_> = shape
                .children()
                .filter(|n| n.has_tag_name((GATING, "dimension")))
                .collect();
            let dim_of = |d: &roxmltree::Node| {
                dimension(
                    d.children()
                        .find(|n| n.is_element())
                        .and_then(|n| n.attribute((DATA, "name")))
                        .expect("fcs-dimension"),
                )
            };
            let number = |n: &roxmltree::Node, a: &str| {
                n.attribute((GATING, a))
                    .map(|v| v.parse::<f64>().expect("number"))
            };
            let kind = if shape.has_tag_name((GATING, "RectangleGate")) {
                GateKind::Rectangle {
                    dimensions: dims.iter().map(dim_of).collect(),
                    intervals: dims
                        .iter()
                        .map(|d| Interval {
                            min: number(d, "min"),
                            max: number(d, "max"),
                        })
                        .collect(),
                }
            } else {
                GateKind::Polygon {
                    dimensions: dims.iter().map(dim_of).collect(),
                    vertices: shape
                        .children()
                        .filter(|n| n.has_tag_name((GATING, "vertex")))
                        .map(|v| {
                            let c: Vec<f64> = v
                                .children()
                                .filter_map(|c| c.attribute((DATA, "value")))
                                .map(|x| x.parse().expect("coordinate"))
                                .collect();
                            [c[0], c[1]]
                        })
                        .collect(),
                }
            };
            let id = format!("g{}", gates.len());
            let parent_id =
                parent.and_then(|p| names.iter().rev().find(|n| n.1 == p).map(|n| n.0.clone()));
            if shape.attribute("eventsInside") == Some("0") {
                gates.push(Gate {
                    id: format!("{id}_region"),
                    parent: None,
                    kind,
                });
                gates.push(Gate {
                    id: id.clone(),
                    parent: parent_id,
                    kind: GateKind::Boolean {
                        op: BoolOp::Not,
                        operands: vec![Operand {
                            gate: format!("{id}_region"),
                            complement: false,
                        }],
                    },
                });
            } else {
                gates.push(Gate {
                    id: id.clone(),
                    parent: parent_id,
                    kind,
                });
            }
            names.push((id, name));
        }
        let fcs = marrowgate::fcs::FcsFile::open(&file).expect("opens");
        let dataset = fcs.analysed_dataset();
        let spillover = fcs
            .dataset(dataset)
            .expect("dataset")
            .metadata
            .spillover
            .clone();
        let tree = GateTree {
            transforms: Vec::new(),
            matrices: Vec::new(),
            gates,
        };
        let m = tree
            .evaluate(
                &marrowgate::events::FileEvents {
                    file: &fcs,
                    dataset,
                },
                spillover.as_ref(),
            )
            .expect("workspace gates apply");
        let count_of = |name: &str| {
            names
                .iter()
                .find(|n| n.1 == name)
                .and_then(|n| m.counts.iter().find(|c| c.id == n.0))
                .map(|c| c.events as u64)
        };
        for g in site["gates"].as_array().expect("gates") {
            if g["id"].is_null() {
                continue;
            }
            let name = g["name"].as_str().expect("name");
            let reported = g["events"].as_u64().expect("events");
            let found = count_of(name).unwrap_or_else(|| panic!("{name}: no population"));
            if name == "blasts" {
                blasts.push((site["name"].to_string(), reported, found));
            } else {
                assert_eq!(found, reported, "{}: {name} in case.wsp", site["name"]);
            }
        }
    }
    eprintln!("workspace blasts (site, called, in the workspace's population): {blasts:?}");
    blasts
}

#[test]
fn exported_pre_gates_reproduce_every_count_on_the_sample_case() {
    let out = temp("bmn").join("out");
    let case = sample_case();
    let sites: Vec<(String, PathBuf)> = ["left-iliac-necrotic", "right-iliac", "sternum"]
        .iter()
        .map(|s| (s.to_string(), case.join(format!("{s}.fcs"))))
        .collect();
    let report = analyze(&sites, &out);
    let mut blast_sites = 0;
    for site in report["sites"].as_array().expect("sites") {
        if let Some((exported, agreement)) = check_site(site, &out, 0) {
            blast_sites += 1;
            let both = agreement["both"].as_u64().expect("both");
            let extra = agreement["exported_only"].as_u64().expect("exported_only");
            assert_eq!(exported, both + extra, "{}", site["name"]);
            let called = site["blast_events"].as_u64().expect("blasts");
            assert!(
                both as f64 >= 0.95 * called as f64,
                "{agreement} of {called}"
            );
        }
    }
    assert_eq!(blast_sites, 2, "right iliac and sternum hold blasts");
    // The FlowJo workspace: every pre-gate exact, the blast population
    // (shadows of the ellipsoids on pairs of markers) close to the call on
    // these textbook populations.
    let blasts = check_workspace(&report, &out);
    assert_eq!(blasts.len(), 2);
    for (site, called, found) in blasts {
        assert!(
            found >= called && (found as f64) < 1.1 * called as f64,
            "{site}: {found} for {called}"
        );
    }
}

/// An instrument, a panel, blast marker changes and a seed.
type Layout = (
    Instrument,
    PanelProfile,
    &'static [(&'static str, f64)],
    u64,
);

#[test]
fn exported_gates_reproduce_counts_for_every_phenotype_and_layout() {
    // Dye and no dye (EuroFlow: dead cells by scatter, a NOT gate),
    // compensated and unmixed or precompensated files, scatter on many
    // ranges, and blasts of several phenotypes.
    let d = temp("layouts");
    let cases: [Layout; 5] = [
        (Instrument::Canto, PanelProfile::Standard, &[], 1),
        (
            Instrument::Cytoflex,
            PanelProfile::Euroflow,
            &[("CD34", 60.0)],
            2,
        ),
        (
            Instrument::Kaluza,
            PanelProfile::Standard,
            &[("CD45", 60.0)],
            3,
        ),
        (
            Instrument::Aurora,
            PanelProfile::Standard,
            &[("CD20", 3000.0)],
            4,
        ),
        (
            Instrument::Attune,
            PanelProfile::Clearllab,
            &[("CD10", 15000.0)],
            5,
        ),
    ];
    let mut sites = Vec::new();
    for (instrument, panel, changes, seed) in cases {
        let mut blast_phenotype = BlastPhenotype::default();
        for (m, v) in changes {
            assert!(blast_phenotype.set(m, *v), "{m}");
        }
        let mut sim = simulate(&Config {
            events: 40_000,
            seed,
            blast_fraction: 0.05,
            realism: 1.0,
            panel,
            blast_phenotype,
            ..Config::default()
        })
        .expect("simulates");
        as_instrument(&mut sim, instrument).expect("layout");
        let file = d.join(format!("{instrument:?}.fcs"));
        write(&sim, &file).expect("writes");
        sites.push((format!("{instrument:?}"), file));
    }
    let out = d.join("out");
    let report = analyze(&sites, &out);
    for site in report["sites"].as_array().expect("sites") {
        let (exported, agreement) =
            check_site(site, &out, 0).unwrap_or_else(|| panic!("{}: no blast gate", site["name"]));
        let both = agreement["both"].as_u64().expect("both");
        assert_eq!(
            exported,
            both + agreement["exported_only"].as_u64().expect("exported_only"),
            "{}",
            site["name"]
        );
    }
    // Every layout's pre-gates are exact in the FlowJo workspace too (the
    // no-dye NOT gate as eventsInside="0", unmixed and precompensated
    // files without a matrix).
    assert_eq!(check_workspace(&report, &out).len(), 5);
}

#[test]
fn a_removed_stretch_of_unstable_flow_is_exported_exactly() {
    // A clog and its release: 5 % of the events acquired in a quarter of
    // their time (a fourfold rate), then a pause. The stable-flow gate
    // removes the fast bins; its export is the NOT of those time ranges.
    let d = temp("flow");
    let mut sim = simulate(&Config {
        events: 40_000,
        seed: 9,
        blast_fraction: 0.05,
        ..Config::default()
    })
    .expect("simulates");
    let time = sim.events.ncols() - 1;
    let n = sim.events.nrows();
    let (from, to) = (n * 30 / 100, n * 35 / 100);
    for i in from..to {
        sim.events[[i, time]] = (180.0 + 0.25 * 600.0 * (i - from) as f64 / n as f64) as f32;
    }
    let file = d.join("clog.fcs");
    write(&sim, &file).expect("writes");
    let out = d.join("out");
    let report = analyze(&[("clog".into(), file)], &out);
    let site = &report["sites"][0];
    let stable = &site["gates"][0];
    assert_eq!(stable["id"], "stable_flow", "{stable}");
    assert!(
        stable["events"].as_u64().expect("events") < n as u64 - 1000,
        "the fast bins are removed: {stable}"
    );
    check_site(site, &out, 0).expect("blast gate");
    // The removed time ranges as FlowJo's comb polygon: exact.
    check_workspace(&report, &out);
}

/// `analyze --out OUT --reviewed-gating DIR` of the sample case.
fn analyze_reviewed(out: &Path, reviewed: &Path) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_marrowgate"))
        .arg("analyze")
        .arg(sample_case())
        .arg("--out")
        .arg(out)
        .arg("--reviewed-gating")
        .arg(reviewed)
        .output()
        .expect("runs");
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    assert!(output.status.code().is_some(), "{output:?}");
    serde_json::from_str(&text).expect("json")
}

/// A report, or one site of it, without what only a review adds (its
/// field, its note).
fn without_review(report: Value) -> Value {
    let text = serde_json::to_string(&report).expect("json");
    let mut report: Value = serde_json::from_str(&strip_review_notes(&text)).expect("json");
    match report["sites"].as_array_mut() {
        Some(sites) => sites.iter_mut().for_each(|s| {
            s.as_object_mut().expect("site").remove("review");
        }),
        None => {
            report.as_object_mut().expect("site").remove("review");
        }
    }
    report
}

/// Removes every "; note: gates reviewed in ...: ..." clause and every
/// concern that holds one.
fn strip_review_notes(text: &str) -> String {
    let mut v: Value = serde_json::from_str(text).expect("json");
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => {
                while let Some(i) = s.find("; note: gates reviewed in ") {
                    let rest = &s[i + 2..];
                    let end = rest.find("; ").map_or(s.len(), |j| i + 2 + j);
                    s.replace_range(i..end, "");
                }
            }
            Value::Array(a) => {
                a.retain(|x| {
                    !x["reason"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("gates reviewed in "))
                });
                a.iter_mut().for_each(walk);
            }
            Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v.to_string()
}

/// The automated run of the sample case into `<temp>/first`: the temp
/// folder, the output folder and its report.json.
fn automated_run(name: &str) -> (PathBuf, PathBuf, Value) {
    let d = temp(name);
    let first = d.join("first");
    let status = Command::new(env!("CARGO_BIN_EXE_marrowgate"))
        .arg("analyze")
        .arg(sample_case())
        .arg("--out")
        .arg(&first)
        .status()
        .expect("runs");
    assert!(status.success());
    let report =
        serde_json::from_str(&std::fs::read_to_string(first.join("report.json")).expect("read"))
            .expect("json");
    (d, first, report)
}

/// The bundled three-site case.
fn sample_case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/case-bmn")
}

#[test]
fn reviewed_gates_left_as_exported_reproduce_the_automated_report() {
    let (d, first, automated) = automated_run("review-same");
    let reviewed = analyze_reviewed(&d.join("second"), &first.join("gating"));
    for s in reviewed["sites"].as_array().expect("sites") {
        let gates = s["review"]["gates"].as_array().expect("review");
        assert!(gates.len() >= 6, "{s}");
        assert!(gates.iter().all(|g| g["edited"] == false), "{s}");
    }
    assert_eq!(without_review(reviewed), without_review(automated));
}

#[test]
fn an_edited_threshold_changes_only_what_follows_from_it() {
    let (d, first, automated) = automated_run("review-edit");
    // The reviewer raises the sternum's CD10+ threshold to 0.75.
    let gml = first.join("gating/03-sternum.xml");
    let mut tree = gating_ml::read(&gml).expect("reads");
    let g = tree
        .gates
        .iter_mut()
        .find(|g| g.id == "CD19posCD10pos")
        .expect("exported");
    match &mut g.kind {
        marrowgate::gate::GateKind::Rectangle { intervals, .. } => intervals[0].min = Some(0.75),
        other => panic!("{other:?}"),
    }
    std::fs::write(&gml, gating_ml::write(&tree).expect("writes")).expect("edits");
    let reviewed = analyze_reviewed(&d.join("second"), &first.join("gating"));
    let (a, r) = (&automated["sites"][2], &reviewed["sites"][2]);
    let review = r["review"]["gates"].as_array().expect("review");
    let by_id = |id: &str| {
        review
            .iter()
            .find(|g| g["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    // Above the edit nothing moves; the edited gate and the blasts below
    // it do, and the verdict follows.
    for id in ["cells", "singlets", "viable", "CD19pos"] {
        assert_eq!(by_id(id)["edited"], false);
        assert_eq!(by_id(id)["automated_events"], by_id(id)["reviewed_events"]);
    }
    assert_eq!(by_id("CD19posCD10pos")["edited"], true);
    let cd10 = by_id("CD19posCD10pos")["reviewed_events"]
        .as_u64()
        .expect("n");
    assert!(
        cd10 < by_id("CD19posCD10pos")["automated_events"]
            .as_u64()
            .expect("n")
    );
    let blasts = r["blast_events"].as_u64().expect("blasts");
    assert!(blasts < a["blast_events"].as_u64().expect("blasts") && blasts <= cd10);
    assert_eq!(by_id("blasts")["reviewed_events"].as_u64(), Some(blasts));
    assert_eq!(r["viable_nucleated_events"], a["viable_nucleated_events"]);
    assert!(r["blast_percent"].as_f64() < a["blast_percent"].as_f64());
    // The other sites are untouched.
    for k in [0, 1] {
        assert_eq!(
            without_review(reviewed["sites"][k].clone()),
            without_review(automated["sites"][k].clone())
        );
    }
}

#[test]
fn a_reviewed_file_without_an_exported_gate_is_that_sites_error() {
    let (d, first, _) = automated_run("review-missing");
    let gml = first.join("gating/02-right-iliac.xml");
    let mut tree = gating_ml::read(&gml).expect("reads");
    tree.gates.retain(|g| !g.id.starts_with("blasts"));
    std::fs::write(&gml, gating_ml::write(&tree).expect("writes")).expect("edits");
    let reviewed = analyze_reviewed(&d.join("second"), &first.join("gating"));
    let site = &reviewed["sites"][1];
    assert_eq!(site["status"], "NOT_EVALUABLE");
    let error = site["error"].as_str().expect("an error");
    assert!(
        error.contains("02-right-iliac.xml") && error.contains("\"blasts"),
        "{error}"
    );
}

#[test]
fn a_gate_that_was_not_exported_follows_an_edit_above_it() {
    // Without FSC-H (here a panel gives that channel another marker) the
    // singlet gate passes every cell and is not exported; when the
    // reviewer moves the debris cut, it must hold the new cells, counts
    // included, and the viable gate below it must follow.
    let d = temp("review-hidden");
    let panel = d.join("panel.toml");
    std::fs::write(&panel, "\"FSC-H\" = \"CD99\"\n").expect("panel");
    let site = sample_case().join("sternum.fcs");
    let run = |out: &Path, reviewed: Option<&Path>| -> Value {
        let mut c = Command::new(env!("CARGO_BIN_EXE_marrowgate"));
        c.arg("analyze")
            .arg("--site")
            .arg(format!("sternum={}", site.display()))
            .arg("--panel")
            .arg(&panel)
            .arg("--out")
            .arg(out);
        if let Some(r) = reviewed {
            c.arg("--reviewed-gating").arg(r);
        }
        assert!(c.status().expect("runs").success());
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("read"))
            .expect("json")
    };
    let first = d.join("first");
    let automated = run(&first, None);
    let singlets = &automated["sites"][0]["gates"][2];
    assert_eq!(singlets["name"], "singlets");
    assert!(singlets["id"].is_null(), "{singlets}");
    let gml = first.join("gating/01-sternum.xml");
    let mut tree = gating_ml::read(&gml).expect("reads");
    let cells = tree
        .gates
        .iter_mut()
        .find(|g| g.id == "cells")
        .expect("exported");
    match &mut cells.kind {
        marrowgate::gate::GateKind::Rectangle { intervals, .. } => {
            let min = intervals[0].min.expect("a debris cut");
            intervals[0].min = Some(min * 1.5);
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&gml, gating_ml::write(&tree).expect("writes")).expect("edits");
    let reviewed = run(&d.join("second"), Some(&first.join("gating")));
    let count_in = |report: &Value, name: &str| {
        report["sites"][0]["gates"]
            .as_array()
            .expect("gates")
            .iter()
            .find(|g| g["name"] == name)
            .and_then(|g| g["events"].as_u64())
            .expect(name)
    };
    let events = |name: &str| count_in(&reviewed, name);
    let before = |name: &str| count_in(&automated, name);
    assert!(events("cells") < before("cells"));
    assert_eq!(events("singlets"), events("cells"));
    assert!(events("viable") <= events("singlets"));
    assert_eq!(
        reviewed["sites"][0]["viable_nucleated_events"].as_u64(),
        Some(events("viable"))
    );
}

/// A CD19-negative relapse (after CD19-directed therapy) in a tube with
/// CD22 and CD24: the CD19-negative B-lineage gate is exported like every
/// other gate (its count reproduced from the site's Gating-ML file and from
/// case.wsp), and a reviewer's edit of it is taken back: raising its CD10
/// cut above every event leaves no CD19-negative population.
#[test]
fn the_cd19_negative_gate_is_exported_and_its_review_taken_back() {
    let d = temp("cd19neg");
    let file = d.join("relapse.fcs");
    let sim = simulate(&Config {
        events: 300_000,
        seed: 52,
        blast_fraction: 0.02,
        b_cell_aplasia: true,
        b_lineage_markers: true,
        blast_phenotype: BlastPhenotype {
            cd19: 60.0,
            ..BlastPhenotype::default()
        },
        ..Config::default()
    })
    .expect("simulates");
    write(&sim, &file).expect("writes");
    let sites = vec![("relapse".to_string(), file)];
    let first = d.join("first");
    let report = analyze(&sites, &first);
    let site = &report["sites"][0];
    assert_eq!(site["status"], "POSITIVE", "{}", site["reason"]);
    let gate = site["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["name"] == "CD19- B-lineage blasts")
        .expect("the CD19-negative gate is recorded");
    let id = gate["id"].as_str().expect("exported").to_string();
    assert!(gate["events"].as_u64().expect("events") > 1000, "{gate}");
    // check_site compares every exported gate, this one included (the
    // blasts are all CD19-negative: no CD19+ blast ellipsoid).
    assert!(check_site(site, &first, 0).is_none());
    check_workspace(&report, &first);

    // Left as exported: the same call.
    let gating = first.join("gating");
    let run = |out: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_marrowgate"))
            .arg("analyze")
            .arg("--site")
            .arg(format!("relapse={}", sites[0].1.display()))
            .arg("--out")
            .arg(out)
            .arg("--reviewed-gating")
            .arg(&gating)
            .output()
            .expect("runs");
        assert!(output.status.code().is_some(), "{output:?}");
        let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
        serde_json::from_str::<Value>(&text).expect("json")
    };
    let same = run(&d.join("same"));
    let reviewed_gate = |r: &Value| {
        r["sites"][0]["review"]["gates"]
            .as_array()
            .expect("review")
            .iter()
            .find(|g| g["id"] == id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{id} not reviewed"))
    };
    let g = reviewed_gate(&same);
    assert_eq!(g["edited"], false);
    assert_eq!(g["reviewed_events"], gate["events"]);
    assert_eq!(same["sites"][0]["blast_events"], site["blast_events"]);
    assert_eq!(same["sites"][0]["status"], "POSITIVE");

    // The reviewer raises the gate's CD10 cut above every event.
    let gml = gating.join("01-relapse.xml");
    let mut tree = gating_ml::read(&gml).expect("reads");
    let g = tree
        .gates
        .iter_mut()
        .find(|g| g.id == id)
        .expect("exported");
    match &mut g.kind {
        marrowgate::gate::GateKind::Rectangle { intervals, .. } => {
            // Sides in order: FSC-A, SSC-A, CD19, CD10, CD22, CD24.
            assert_eq!(intervals.len(), 6);
            assert!(intervals[3].min.is_some() && intervals[3].max.is_none());
            intervals[3].min = Some(2.0);
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&gml, gating_ml::write(&tree).expect("writes")).expect("edits");
    let edited = run(&d.join("edited"));
    let s = &edited["sites"][0];
    let g = reviewed_gate(&edited);
    assert_eq!(g["edited"], true);
    assert_eq!(g["reviewed_events"], 0);
    let neg = &s["cd19_negative"];
    assert_eq!(neg["found"], false, "{neg}");
    assert_eq!(neg["events"], 0, "{neg}");
    assert!(
        s["blast_events"].as_u64() < site["blast_events"].as_u64(),
        "{} vs {}",
        s["blast_events"],
        site["blast_events"]
    );
}
