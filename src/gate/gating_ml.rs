//! Gating-ML 2.0: gates, transformations and spectrum matrices read into a
//! [`GateTree`], and written back.
//!
//! Elements are matched by local name, so any namespace prefixes work. Every
//! error names the file, the line and the element.

use super::tree::{GateTree, SpectrumMatrix, TransformDef};
use super::{
    BoolOp, CompensationRef, Dimension, Divider, Gate, GateKind, Interval, Operand, Source,
};
use crate::transform::{Asinh, Hyperlog, Linear, Log, Logicle, Ratio, Transform};
use roxmltree::{Document, Node};
use std::fmt::Write as _;
use std::path::Path;

/// A Gating-ML file that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatingMlError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {message}")]
    Io {
        /// File.
        path: String,
        /// Why.
        message: String,
    },
    /// Not well-formed XML.
    #[error("{path}: line {line}: malformed XML: {message}")]
    Xml {
        /// File.
        path: String,
        /// Line.
        line: u32,
        /// Parser message.
        message: String,
    },
    /// An element that does not say what Gating-ML requires.
    #[error("{path}: line {line}: <{element}>: {message}")]
    Element {
        /// File.
        path: String,
        /// Line.
        line: u32,
        /// Element local name.
        element: String,
        /// What was expected.
        message: String,
    },
    /// The gate definitions are inconsistent (unknown references, cycles).
    #[error("{path}: {message}")]
    Tree {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads a Gating-ML 2.0 file.
pub fn read(path: &Path) -> Result<GateTree, GatingMlError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| GatingMlError::Io {
        path: name.clone(),
        message: e.to_string(),
    })?;
    parse(&text, &name)
}

struct Parser<'a, 'input> {
    doc: &'a Document<'input>,
    path: &'a str,
}

impl<'a, 'input> Parser<'a, 'input> {
    fn error(&self, node: Node, message: impl Into<String>) -> GatingMlError {
        GatingMlError::Element {
            path: self.path.to_string(),
            line: self.doc.text_pos_at(node.range().start).row,
            element: node.tag_name().name().to_string(),
            message: message.into(),
        }
    }

    fn attr(&self, node: Node<'a, 'input>, name: &str) -> Option<&'a str> {
        node.attributes()
            .find(|a| a.name() == name)
            .map(|a| a.value())
    }

    fn required(&self, node: Node<'a, 'input>, name: &str) -> Result<&'a str, GatingMlError> {
        self.attr(node, name)
            .ok_or_else(|| self.error(node, format!("attribute {name} is required")))
    }

    fn number(&self, node: Node<'a, 'input>, name: &str) -> Result<Option<f64>, GatingMlError> {
        match self.attr(node, name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    self.error(
                        node,
                        format!("attribute {name}={v:?} is not a finite number"),
                    )
                }),
        }
    }

    fn required_number(&self, node: Node<'a, 'input>, name: &str) -> Result<f64, GatingMlError> {
        self.number(node, name)?
            .ok_or_else(|| self.error(node, format!("attribute {name} is required")))
    }

    fn children(
        &self,
        node: Node<'a, 'input>,
        name: &'static str,
    ) -> impl Iterator<Item = Node<'a, 'input>> + use<'a, 'input> {
        node.children()
            .filter(move |c| c.is_element() && c.tag_name().name() == name)
    }

    fn child(
        &self,
        node: Node<'a, 'input>,
        name: &'static str,
    ) -> Result<Node<'a, 'input>, GatingMlError> {
        self.children(node, name)
            .next()
            .ok_or_else(|| self.error(node, format!("<{name}> is required")))
    }

    /// `value` attributes of the named children, in order.
    fn values(
        &self,
        node: Node<'a, 'input>,
        name: &'static str,
    ) -> Result<Vec<f64>, GatingMlError> {
        self.children(node, name)
            .map(|c| self.required_number(c, "value"))
            .collect()
    }

    fn dimension_name(&self, node: Node<'a, 'input>) -> Result<String, GatingMlError> {
        Ok(self.required(node, "name")?.to_string())
    }

    fn transform(&self, node: Node<'a, 'input>) -> Result<(String, TransformDef), GatingMlError> {
        let id = self.required(node, "id")?.to_string();
        let inner = node
            .children()
            .find(|c| c.is_element())
            .ok_or_else(|| self.error(node, "a transformation element is required"))?;
        let n = |k: &str| self.required_number(inner, k);
        let bad = |e: crate::transform::TransformError| self.error(inner, e.to_string());
        let def = match inner.tag_name().name() {
            "flin" => TransformDef::Scale(Transform::Linear(Linear::new(n("T")?, n("A")?).map_err(bad)?)),
            "flog" => TransformDef::Scale(Transform::Log(Log::new(n("T")?, n("M")?).map_err(bad)?)),
            "fasinh" => TransformDef::Scale(Transform::Asinh(Asinh::new(n("T")?, n("M")?, n("A")?).map_err(bad)?)),
            "logicle" => TransformDef::Scale(Transform::Logicle(Logicle::new(n("T")?, n("W")?, n("M")?, n("A")?).map_err(bad)?)),
            "hyperlog" => TransformDef::Scale(Transform::Hyperlog(Hyperlog::new(n("T")?, n("W")?, n("M")?, n("A")?).map_err(bad)?)),
            "fratio" => {
                let dims: Vec<_> = self.children(inner, "fcs-dimension").collect();
                if dims.len() != 2 {
                    return Err(self.error(inner, "a ratio needs exactly two <fcs-dimension> elements"));
                }
                TransformDef::Ratio {
                    ratio: Ratio { a: n("A")?, b: n("B")?, c: n("C")? },
                    numerator: self.dimension_name(dims[0])?,
                    denominator: self.dimension_name(dims[1])?,
                }
            }
            other => return Err(self.error(inner, format!("unknown transformation <{other}>; expected flin, flog, fasinh, logicle, hyperlog or fratio"))),
        };
        Ok((id, def))
    }

    fn matrix(&self, node: Node<'a, 'input>) -> Result<SpectrumMatrix, GatingMlError> {
        let names = |list: &'static str| -> Result<Vec<String>, GatingMlError> {
            self.children(self.child(node, list)?, "fcs-dimension")
                .map(|d| self.dimension_name(d))
                .collect()
        };
        let fluorochromes = names("fluorochromes")?;
        let detectors = names("detectors")?;
        let coefficients = self
            .children(node, "spectrum")
            .map(|s| self.values(s, "coefficient"))
            .collect::<Result<Vec<_>, _>>()?;
        if coefficients.len() != fluorochromes.len()
            || coefficients.iter().any(|r| r.len() != detectors.len())
        {
            return Err(self.error(node, format!(
                "{} fluorochromes x {} detectors need as many <spectrum> rows of <coefficient>s",
                fluorochromes.len(),
                detectors.len()
            )));
        }
        Ok(SpectrumMatrix {
            id: self.required(node, "id")?.to_string(),
            fluorochromes,
            detectors,
            coefficients,
        })
    }

    /// A `<dimension>` or `<divider>`: compensation, transform, source.
    fn dimension(&self, node: Node<'a, 'input>) -> Result<Dimension, GatingMlError> {
        let compensation = match self.attr(node, "compensation-ref") {
            None | Some("uncompensated") => CompensationRef::Uncompensated,
            Some("FCS") => CompensationRef::FromFile,
            Some(id) => CompensationRef::Matrix(id.to_string()),
        };
        let source = if let Some(d) = self.children(node, "fcs-dimension").next() {
            Source::Channel(self.dimension_name(d)?)
        } else if let Some(d) = self.children(node, "new-dimension").next() {
            Source::Ratio(self.required(d, "transformation-ref")?.to_string())
        } else {
            return Err(self.error(node, "<fcs-dimension> or <new-dimension> is required"));
        };
        Ok(Dimension {
            source,
            compensation,
            transform: self.attr(node, "transformation-ref").map(str::to_string),
        })
    }

    fn gates(&self, node: Node<'a, 'input>) -> Result<Vec<Gate>, GatingMlError> {
        let id = self.required(node, "id")?.to_string();
        let parent = self.attr(node, "parent_id").map(str::to_string);
        let dims = || {
            self.children(node, "dimension")
                .map(|d| self.dimension(d))
                .collect::<Result<Vec<_>, _>>()
        };
        let kind = match node.tag_name().name() {
            "RectangleGate" => {
                let intervals = self
                    .children(node, "dimension")
                    .map(|d| {
                        let interval = Interval {
                            min: self.number(d, "min")?,
                            max: self.number(d, "max")?,
                        };
                        if interval.min.is_none() && interval.max.is_none() {
                            return Err(self.error(d, "min or max is required"));
                        }
                        Ok(interval)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                GateKind::Rectangle {
                    dimensions: dims()?,
                    intervals,
                }
            }
            "PolygonGate" => {
                let vertices = self
                    .children(node, "vertex")
                    .map(|v| match self.values(v, "coordinate")?.as_slice() {
                        [x, y] => Ok([*x, *y]),
                        _ => Err(self.error(v, "a vertex needs two <coordinate>s")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let dimensions = dims()?;
                if dimensions.len() != 2 || vertices.len() < 3 {
                    return Err(
                        self.error(node, "a polygon needs 2 dimensions and at least 3 vertices")
                    );
                }
                GateKind::Polygon {
                    dimensions,
                    vertices,
                }
            }
            "EllipsoidGate" => {
                let mean = self.values(self.child(node, "mean")?, "coordinate")?;
                let covariance = self
                    .children(self.child(node, "covarianceMatrix")?, "row")
                    .map(|r| self.values(r, "entry"))
                    .collect::<Result<Vec<_>, _>>()?;
                let distance_square =
                    self.required_number(self.child(node, "distanceSquare")?, "value")?;
                GateKind::Ellipsoid {
                    dimensions: dims()?,
                    mean,
                    covariance,
                    distance_square,
                }
            }
            "BooleanGate" => {
                let op_node = node
                    .children()
                    .find(|c| c.is_element() && matches!(c.tag_name().name(), "and" | "or" | "not"))
                    .ok_or_else(|| self.error(node, "<and>, <or> or <not> is required"))?;
                let op = match op_node.tag_name().name() {
                    "and" => BoolOp::And,
                    "or" => BoolOp::Or,
                    _ => BoolOp::Not,
                };
                let operands = self
                    .children(op_node, "gateReference")
                    .map(|r| {
                        Ok(Operand {
                            gate: self.required(r, "ref")?.to_string(),
                            complement: self
                                .attr(r, "use-as-complement")
                                .is_some_and(|v| v.trim() == "true"),
                        })
                    })
                    .collect::<Result<Vec<_>, GatingMlError>>()?;
                GateKind::Boolean { op, operands }
            }
            "QuadrantGate" => return self.quadrants(node, &id, parent),
            other => return Err(self.error(node, format!("unknown gate <{other}>"))),
        };
        Ok(vec![Gate { id, parent, kind }])
    }

    fn quadrants(
        &self,
        node: Node<'a, 'input>,
        group: &str,
        parent: Option<String>,
    ) -> Result<Vec<Gate>, GatingMlError> {
        let dividers = self
            .children(node, "divider")
            .map(|d| {
                let values = self
                    .children(d, "value")
                    .map(|v| {
                        v.text()
                            .unwrap_or("")
                            .trim()
                            .parse::<f64>()
                            .map_err(|_| self.error(v, "a divider value must be a number"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Divider {
                    id: self.required(d, "id")?.to_string(),
                    dimension: self.dimension(d)?,
                    values,
                })
            })
            .collect::<Result<Vec<_>, GatingMlError>>()?;
        self.children(node, "Quadrant")
            .map(|q| {
                let mut locations = vec![None; dividers.len()];
                for p in self.children(q, "position") {
                    let r = self.required(p, "divider_ref")?;
                    let i = dividers
                        .iter()
                        .position(|d| d.id == r)
                        .ok_or_else(|| self.error(p, format!("unknown divider {r:?}")))?;
                    locations[i] = Some(self.required_number(p, "location")?);
                }
                if locations.iter().all(Option::is_none) {
                    return Err(self.error(q, "a quadrant needs at least one <position>"));
                }
                Ok(Gate {
                    id: self.required(q, "id")?.to_string(),
                    parent: parent.clone(),
                    kind: GateKind::Quadrant {
                        group: group.to_string(),
                        dividers: dividers.clone(),
                        locations,
                    },
                })
            })
            .collect()
    }
}

/// Parses Gating-ML 2.0 text; `path` is only used in messages.
pub fn parse(text: &str, path: &str) -> Result<GateTree, GatingMlError> {
    let doc = Document::parse(text).map_err(|e| GatingMlError::Xml {
        path: path.to_string(),
        line: e.pos().row,
        message: e.to_string(),
    })?;
    let p = Parser { doc: &doc, path };
    let root = doc.root_element();
    if root.tag_name().name() != "Gating-ML" {
        return Err(p.error(root, "the root element must be <Gating-ML>"));
    }
    let mut tree = GateTree::default();
    for node in root.children().filter(|c| c.is_element()) {
        match node.tag_name().name() {
            "transformation" => tree.transforms.push(p.transform(node)?),
            "spectrumMatrix" => tree.matrices.push(p.matrix(node)?),
            name if name.ends_with("Gate") => tree.gates.extend(p.gates(node)?),
            _ => {} // custom_info and other extensions
        }
    }
    tree.validate().map_err(|e| GatingMlError::Tree {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    Ok(tree)
}

/// `name` as a Gating-ML id (an XML `NCName`, as the schema's `xs:ID`
/// requires): `+` becomes `pos`, every other character but letters,
/// digits, `.`, `-` and `_` becomes `_`, and an id that would not start
/// with a letter or `_` gets a leading `_`. `CD19+CD10+` -> `CD19posCD10pos`,
/// `stable flow` -> `stable_flow`.
pub fn ncname(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| match c {
            '+' => "pos".to_string(),
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c.to_string(),
            _ => "_".to_string(),
        })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    id
}

/// Writes a gate tree as Gating-ML 2.0.
pub fn write(tree: &GateTree) -> Result<String, String> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gating:Gating-ML\n    xmlns:gating=\"http://www.isac-net.org/std/Gating-ML/v2.0/gating\"\n    xmlns:transforms=\"http://www.isac-net.org/std/Gating-ML/v2.0/transformations\"\n    xmlns:data-type=\"http://www.isac-net.org/std/Gating-ML/v2.0/datatypes\">\n",
    );
    for (id, def) in &tree.transforms {
        let _ = writeln!(
            s,
            "  <transforms:transformation transforms:id=\"{}\">",
            esc(id)
        );
        match def {
            TransformDef::Scale(Transform::Linear(t)) => {
                let _ = writeln!(
                    s,
                    "    <transforms:flin transforms:T=\"{}\" transforms:A=\"{}\" />",
                    t.t, t.a
                );
            }
            TransformDef::Scale(Transform::Log(t)) => {
                let _ = writeln!(
                    s,
                    "    <transforms:flog transforms:T=\"{}\" transforms:M=\"{}\" />",
                    t.t, t.m
                );
            }
            TransformDef::Scale(Transform::Asinh(t)) => {
                let _ = writeln!(
                    s,
                    "    <transforms:fasinh transforms:T=\"{}\" transforms:M=\"{}\" transforms:A=\"{}\" />",
                    t.t, t.m, t.a
                );
            }
            TransformDef::Scale(Transform::Logicle(t)) => {
                let _ = writeln!(
                    s,
                    "    <transforms:logicle transforms:T=\"{}\" transforms:W=\"{}\" transforms:M=\"{}\" transforms:A=\"{}\" />",
                    t.t, t.w, t.m, t.a
                );
            }
            TransformDef::Scale(Transform::Hyperlog(t)) => {
                let _ = writeln!(
                    s,
                    "    <transforms:hyperlog transforms:T=\"{}\" transforms:W=\"{}\" transforms:M=\"{}\" transforms:A=\"{}\" />",
                    t.t, t.w, t.m, t.a
                );
            }
            TransformDef::Scale(Transform::ArcsinhCofactor(_)) => {
                return Err(format!(
                    "transformation {id}: cofactor arcsinh has no Gating-ML 2.0 form"
                ));
            }
            TransformDef::Ratio {
                ratio,
                numerator,
                denominator,
            } => {
                let _ = writeln!(
                    s,
                    "    <transforms:fratio transforms:A=\"{}\" transforms:B=\"{}\" transforms:C=\"{}\">",
                    ratio.a, ratio.b, ratio.c
                );
                for n in [numerator, denominator] {
                    let _ = writeln!(
                        s,
                        "      <data-type:fcs-dimension data-type:name=\"{}\" />",
                        esc(n)
                    );
                }
                s.push_str("    </transforms:fratio>\n");
            }
        }
        s.push_str("  </transforms:transformation>\n");
    }
    for m in &tree.matrices {
        let _ = writeln!(
            s,
            "  <transforms:spectrumMatrix transforms:id=\"{}\">",
            esc(&m.id)
        );
        for (tag, list) in [
            ("fluorochromes", &m.fluorochromes),
            ("detectors", &m.detectors),
        ] {
            let _ = writeln!(s, "    <transforms:{tag}>");
            for n in list {
                let _ = writeln!(
                    s,
                    "      <data-type:fcs-dimension data-type:name=\"{}\" />",
                    esc(n)
                );
            }
            let _ = writeln!(s, "    </transforms:{tag}>");
        }
        for row in &m.coefficients {
            s.push_str("    <transforms:spectrum>\n");
            for v in row {
                let _ = writeln!(
                    s,
                    "      <transforms:coefficient transforms:value=\"{v}\" />"
                );
            }
            s.push_str("    </transforms:spectrum>\n");
        }
        s.push_str("  </transforms:spectrumMatrix>\n");
    }
    let mut written_groups: Vec<&str> = Vec::new();
    for g in &tree.gates {
        let parent = g
            .parent
            .as_ref()
            .map(|p| format!(" gating:parent_id=\"{}\"", esc(p)))
            .unwrap_or_default();
        match &g.kind {
            GateKind::Rectangle {
                dimensions,
                intervals,
            } => {
                let _ = writeln!(
                    s,
                    "  <gating:RectangleGate gating:id=\"{}\"{parent}>",
                    esc(&g.id)
                );
                for (d, i) in dimensions.iter().zip(intervals) {
                    let mut attrs = String::new();
                    if let Some(v) = i.min {
                        let _ = write!(attrs, " gating:min=\"{v}\"");
                    }
                    if let Some(v) = i.max {
                        let _ = write!(attrs, " gating:max=\"{v}\"");
                    }
                    write_dimension(&mut s, "dimension", d, &attrs, "");
                }
                s.push_str("  </gating:RectangleGate>\n");
            }
            GateKind::Polygon {
                dimensions,
                vertices,
            } => {
                let _ = writeln!(
                    s,
                    "  <gating:PolygonGate gating:id=\"{}\"{parent}>",
                    esc(&g.id)
                );
                for d in dimensions {
                    write_dimension(&mut s, "dimension", d, "", "");
                }
                for [x, y] in vertices {
                    let _ = writeln!(
                        s,
                        "    <gating:vertex><gating:coordinate data-type:value=\"{x}\" /><gating:coordinate data-type:value=\"{y}\" /></gating:vertex>"
                    );
                }
                s.push_str("  </gating:PolygonGate>\n");
            }
            GateKind::Ellipsoid {
                dimensions,
                mean,
                covariance,
                distance_square,
            } => {
                let _ = writeln!(
                    s,
                    "  <gating:EllipsoidGate gating:id=\"{}\"{parent}>",
                    esc(&g.id)
                );
                for d in dimensions {
                    write_dimension(&mut s, "dimension", d, "", "");
                }
                s.push_str("    <gating:mean>");
                for v in mean {
                    let _ = write!(s, "<gating:coordinate data-type:value=\"{v}\" />");
                }
                s.push_str("</gating:mean>\n    <gating:covarianceMatrix>\n");
                for row in covariance {
                    s.push_str("      <gating:row>");
                    for v in row {
                        let _ = write!(s, "<gating:entry data-type:value=\"{v}\" />");
                    }
                    s.push_str("</gating:row>\n");
                }
                let _ = writeln!(
                    s,
                    "    </gating:covarianceMatrix>\n    <gating:distanceSquare data-type:value=\"{distance_square}\" />\n  </gating:EllipsoidGate>"
                );
            }
            GateKind::Quadrant {
                group, dividers, ..
            } => {
                if written_groups.contains(&group.as_str()) {
                    continue;
                }
                written_groups.push(group);
                let _ = writeln!(
                    s,
                    "  <gating:QuadrantGate gating:id=\"{}\"{parent}>",
                    esc(group)
                );
                for d in dividers {
                    let values: String = d
                        .values
                        .iter()
                        .map(|v| format!("<gating:value>{v}</gating:value>"))
                        .collect();
                    write_dimension(
                        &mut s,
                        "divider",
                        &d.dimension,
                        &format!(" gating:id=\"{}\"", esc(&d.id)),
                        &values,
                    );
                }
                for q in tree.gates.iter().filter(
                    |q| matches!(&q.kind, GateKind::Quadrant { group: qg, .. } if qg == group),
                ) {
                    let GateKind::Quadrant { locations, .. } = &q.kind else {
                        continue;
                    };
                    let _ = writeln!(s, "    <gating:Quadrant gating:id=\"{}\">", esc(&q.id));
                    for (d, l) in dividers.iter().zip(locations) {
                        let Some(l) = l else { continue };
                        let _ = writeln!(
                            s,
                            "      <gating:position gating:divider_ref=\"{}\" gating:location=\"{l}\" />",
                            esc(&d.id)
                        );
                    }
                    s.push_str("    </gating:Quadrant>\n");
                }
                s.push_str("  </gating:QuadrantGate>\n");
            }
            GateKind::Boolean { op, operands } => {
                let tag = match op {
                    BoolOp::And => "and",
                    BoolOp::Or => "or",
                    BoolOp::Not => "not",
                };
                let _ = writeln!(
                    s,
                    "  <gating:BooleanGate gating:id=\"{}\"{parent}>\n    <gating:{tag}>",
                    esc(&g.id)
                );
                for o in operands {
                    let complement = if o.complement {
                        " gating:use-as-complement=\"true\""
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        s,
                        "      <gating:gateReference gating:ref=\"{}\"{complement} />",
                        esc(&o.gate)
                    );
                }
                let _ = writeln!(s, "    </gating:{tag}>\n  </gating:BooleanGate>");
            }
        }
    }
    s.push_str("</gating:Gating-ML>\n");
    Ok(s)
}

fn write_dimension(s: &mut String, tag: &str, d: &Dimension, attrs: &str, inner: &str) {
    let comp = match &d.compensation {
        CompensationRef::Uncompensated => "uncompensated".to_string(),
        CompensationRef::FromFile => "FCS".to_string(),
        CompensationRef::Matrix(id) => esc(id),
    };
    let transform = d
        .transform
        .as_ref()
        .map(|t| format!(" gating:transformation-ref=\"{}\"", esc(t)))
        .unwrap_or_default();
    let source = match &d.source {
        Source::Channel(n) => format!("<data-type:fcs-dimension data-type:name=\"{}\" />", esc(n)),
        Source::Ratio(t) => format!(
            "<data-type:new-dimension data-type:transformation-ref=\"{}\" />",
            esc(t)
        ),
    };
    let _ = writeln!(
        s,
        "    <gating:{tag}{attrs} gating:compensation-ref=\"{comp}\"{transform}>{source}{inner}</gating:{tag}>"
    );
}

/// Escapes text for an XML attribute value.
pub(crate) fn esc(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
