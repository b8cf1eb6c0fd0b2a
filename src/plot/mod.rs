//! Plots a hematopathologist checks at a glance: bivariate pseudocolour
//! densities with gate outlines, the gating path of a site, and the
//! multi-site comparison. PNG and SVG through plotters, with an embedded
//! font (DejaVu Sans, `assets/fonts`): no system font library needed.

pub(crate) mod axis;
pub(crate) mod bivariate;
pub(crate) mod case_figures;
pub(crate) mod colour;
pub mod file;
pub(crate) mod grid;
pub(crate) mod outline;
pub(crate) mod site;
pub(crate) mod timeline;

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Drawing failed.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The embedded font did not load.
    #[error("embedded font: {0}")]
    Font(String),
    /// Encoding or writing the file failed.
    #[error("{path}: {message}")]
    Write {
        /// Output file.
        path: String,
        /// What failed.
        message: String,
    },
    /// Not a .png or .svg file name.
    #[error("{0}: the plot file must end in .png or .svg")]
    Format(String),
}

pub(crate) fn draw_error<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Draw(format!("{e:?}"))
}

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font as "sans-serif" (once).
pub(crate) fn font() -> Result<(), PlotError> {
    static LOADED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    LOADED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
                .map_err(|_| "DejaVuSans.ttf is not a usable font".to_string())
        })
        .clone()
        .map_err(PlotError::Font)
}

/// Image formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raster.
    Png,
    /// Vector (the density is embedded as an image).
    Svg,
}

impl Format {
    /// The format a file name asks for.
    pub fn of(path: &Path) -> Result<Format, PlotError> {
        match path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .as_deref()
        {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(PlotError::Format(path.display().to_string())),
        }
    }
}

/// Renders a figure of `size` pixels drawn by `paint` as PNG bytes.
pub fn png_bytes<F>(size: (u32, u32), paint: F) -> Result<Vec<u8>, PlotError>
where
    F: FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), PlotError>,
{
    let mut rgb = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        paint(&root)?;
        root.present().map_err(draw_error)?;
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&rgb, size.0, size.1, image::ColorType::Rgb8)
        .map_err(|e| PlotError::Draw(e.to_string()))?;
    Ok(out)
}

/// Renders a figure of `size` pixels drawn by `paint` as an SVG document.
pub fn svg_string<F>(size: (u32, u32), paint: F) -> Result<String, PlotError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PlotError>,
{
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        paint(&root)?;
        root.present().map_err(draw_error)?;
    }
    Ok(out)
}

/// Writes bytes atomically, naming the file on error.
pub(crate) fn save(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    crate::io::write_bytes_atomically(path, bytes).map_err(|e| PlotError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Draws one bivariate plot to a .png or .svg file.
pub fn write_bivariate(
    path: &Path,
    plot: &bivariate::Bivariate<'_>,
    size: (u32, u32),
) -> Result<(), PlotError> {
    match Format::of(path)? {
        Format::Png => save(path, &png_bytes(size, |a| bivariate::draw(a, plot))?),
        Format::Svg => save(
            path,
            svg_string(size, |a| bivariate::draw(a, plot))?.as_bytes(),
        ),
    }
}

use image::ImageEncoder as _;

#[cfg(test)]
mod tests;

/// A figure of the case report, rendered both ways.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem (`comparison`, `left-iliac.gating`...).
    pub name: String,
    /// Caption.
    pub title: String,
    /// The site it belongs to, if any.
    pub site: Option<String>,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// SVG document.
    pub svg: String,
}

/// What a case figure draws.
enum Painter<'a> {
    GatingPath(&'a crate::analysis::site::AutomaticGating, &'a str),
    Comparison(&'a crate::analysis::CaseReport),
    Quality(&'a crate::analysis::CaseReport),
    SmallMultiples(
        &'a crate::analysis::CaseReport,
        &'a [Option<case_figures::LineageSample>],
    ),
    Timeline(&'a crate::analysis::follow::FollowReport),
}

impl Painter<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Painter::GatingPath(g, _) => site::figure_size(g),
            Painter::Comparison(r) => case_figures::comparison_size(r.sites.len()),
            Painter::Quality(r) => case_figures::qc_size(r.sites.len()),
            Painter::SmallMultiples(r, _) => case_figures::small_multiples_size(r.sites.len()),
            Painter::Timeline(r) => timeline::timeline_size(r.timepoints.len()),
        }
    }

    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        match self {
            Painter::GatingPath(g, name) => site::draw_gating_path(area, g, name),
            Painter::Comparison(r) => case_figures::draw_comparison(area, r),
            Painter::Quality(r) => case_figures::draw_qc(area, r),
            Painter::SmallMultiples(r, g) => case_figures::draw_small_multiples(area, r, g),
            Painter::Timeline(r) => timeline::draw_timeline(area, r),
        }
    }

    fn render(
        &self,
        name: String,
        title: String,
        site: Option<String>,
    ) -> Result<Figure, PlotError> {
        let size = self.size();
        Ok(Figure {
            png: png_bytes(size, |a| self.paint(a))?,
            svg: svg_string(size, |a| self.paint(a))?,
            name,
            title,
            site,
        })
    }
}

/// The timeline of a followed patient, named `timeline`.
pub fn timeline_figure(
    report: &crate::analysis::follow::FollowReport,
) -> Result<Figure, PlotError> {
    Painter::Timeline(report).render(
        "timeline".into(),
        "MRD per time point and site: LOD/LLOQ marks, status colours; grey bands are NOT EVALUABLE, not negative".into(),
        None,
    )
}

/// Sites per page of the multi-site figures: a case of a thousand sites
/// gets many readable pages, not one figure a hundred thousand pixels wide.
pub const SITES_PER_PAGE: usize = 12;

/// The gating path of one site analysed by the automated strategy, named
/// `<output_name>.gating`.
pub fn site_figure(
    gating: &crate::analysis::site::AutomaticGating,
    site: &crate::analysis::site::SiteReport,
) -> Result<Figure, PlotError> {
    Painter::GatingPath(gating, &site.name).render(
        format!("{}.gating", site.output_name),
        format!("{}: gating path", site.name),
        Some(site.name.clone()),
    )
}

/// The multi-site figures of a case: the comparison, the sample quality and
/// CD19 vs CD10 of every site (`samples`, one per site, in order), each in
/// pages of [`SITES_PER_PAGE`] sites (`comparison`, `comparison-2`...).
pub fn case_figures(
    report: &crate::analysis::CaseReport,
    samples: &[Option<case_figures::LineageSample>],
) -> Result<Vec<Figure>, PlotError> {
    use rayon::prelude::*;
    let pages: Vec<(
        crate::analysis::CaseReport,
        &[Option<case_figures::LineageSample>],
    )> = report
        .sites
        .chunks(SITES_PER_PAGE)
        .zip(samples.chunks(SITES_PER_PAGE))
        .map(|(sites, samples)| {
            let page = crate::analysis::CaseReport {
                sites: sites.to_vec(),
                ..report.clone()
            };
            (page, samples)
        })
        .collect();
    let count = pages.len();
    let mut jobs: Vec<(Painter<'_>, String, String)> = Vec::new();
    for (k, (page, samples)) in pages.iter().enumerate() {
        let (suffix, of) = if count > 1 {
            (
                if k == 0 {
                    String::new()
                } else {
                    format!("-{}", k + 1)
                },
                format!(" (page {} of {count})", k + 1),
            )
        } else {
            (String::new(), String::new())
        };
        jobs.push((
            Painter::Comparison(page),
            format!("comparison{suffix}"),
            format!("Blast % per site with 95% intervals, sensitivity reached and status{of}"),
        ));
        jobs.push((
            Painter::Quality(page),
            format!("quality{suffix}"),
            format!("Sample quality: debris, doublets, dead cells, marrow-specific cells{of}"),
        ));
        jobs.push((
            Painter::SmallMultiples(page, samples),
            format!("cd19_cd10_sites{suffix}"),
            format!("CD19 vs CD10 of every site on one scale (blasts red, hematogones blue){of}"),
        ));
    }
    jobs.par_iter()
        .map(|(p, name, title)| p.render(name.clone(), title.clone(), None))
        .collect()
}
