//! The `marrowgate` command line: parse arguments, call the library, print.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "marrowgate",
    version,
    about = "Multi-site flow cytometry of bone marrow for common-B-ALL"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The part of `analyze --help` that options cannot say.
const ANALYZE_HELP: &str = "\
CASE is a folder (every *.fcs file is a site named after it; hidden files and
*.blasts.fcs outputs are skipped), one FCS file (a case of one site), or a
case file (TOML, or JSON by extension):

    case_id = \"BMN-2026-001\"
    patient = \"anonymised 4-year-old\"
    [[sites]]
    name = \"left iliac\"
    file = \"left-iliac.fcs\"                   # relative to the case file
    panel = { \"PE-A\" = \"CD10\" }             # optional, or a panel file path

Markers come from $PnS, then $PnN; a panel (channel = marker) overrides them.
Required: CD19, CD10, CD45, FSC-A, SSC-A. Used when present: FSC-H,
viability dye, Time, CD20, CD34, CD38, CD58, CD81, CD66c, CD123, CD73, CD304.

--out DIR writes report.json, sites.csv, report.html, plots/ (PNG and SVG:
each site's gating path, comparison, quality, CD19 vs CD10 of all sites),
gating/NN-<site>.xml (each site's automated gates as Gating-ML 2.0, to review
in FlowJo, FlowKit or Cytobank, edit, and re-run with --reviewed-gating),
gating/case.wsp (a FlowJo 10 workspace of every site with its gates), and
with --blast-fcs NN-<site>.blasts.fcs. The folder is built apart and swapped
in whole: it holds the previous complete set or the new one, never a mix.

Limits: --lod and --lloq in events; --required-sensitivity,
--max-debris-percent and --min-marrow-specific-percent in percent.";

const FOLLOW_HELP: &str = "\
CASE is a course file (TOML, or JSON by extension); files are relative to it:

    patient = \"anonymised\"
    [[timepoints]]
    label = \"diagnosis\"
    date = \"2026-01-12\"
    [[timepoints.sites]]
    name = \"left iliac\"
    file = \"dx-left-iliac.fcs\"
    [[timepoints]]
    label = \"day 33\"
    date = \"2026-02-14\"
    cd19_directed_therapy = false     # true after blinatumomab / CD19 CAR-T
    [[timepoints.sites]]
    name = \"left iliac\"
    file = \"d33-left-iliac.fcs\"       # panel = ... as in analyze

Time points are listed in date order; the diagnosis is the one marked
`diagnosis = true`, or the first. A NEGATIVE needs 0.01 % (10^-4) unless
--required-sensitivity says otherwise.";

/// The verdict's limits on the command line ([`marrowgate::qc::Limits`]).
#[derive(clap::Args)]
struct LimitArgs {
    /// Limit of detection, in events: clustered blasts needed to call a
    /// site POSITIVE (at least 1).
    #[arg(long, default_value_t = 20, value_name = "EVENTS")]
    lod: u64,
    /// Lower limit of quantitation, in events (at least the LOD).
    #[arg(long, default_value_t = 50, value_name = "EVENTS")]
    lloq: u64,
    /// Sensitivity a NEGATIVE site must reach, in PERCENT of viable
    /// nucleated cells (0.1 = one blast in 1,000; 0.01 = 10^-4). Default:
    /// 0.1 for `analyze` (diagnosis), 0.01 for `follow` (MRD).
    #[arg(long, value_name = "PERCENT")]
    required_sensitivity: Option<f64>,
    /// Necrosis limit, in PERCENT of all events: debris and dead cells
    /// above it make a site without blasts NOT EVALUABLE.
    #[arg(long, default_value_t = 50.0, value_name = "PERCENT")]
    max_debris_percent: f64,
    /// Hemodilution limit, in PERCENT of viable nucleated cells:
    /// marrow-specific cells below it make a site without blasts NOT
    /// EVALUABLE.
    #[arg(long, default_value_t = 2.0, value_name = "PERCENT")]
    min_marrow_specific_percent: f64,
}

/// Where and how `analyze` and `follow` report.
#[derive(clap::Args)]
struct ReportArgs {
    /// Write the outputs (report.json, report.html, figures, Gating-ML...;
    /// see the command's long help) to this folder, as one set (the
    /// folder is replaced whole, never mixed).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace --out even if it is a folder that marrowgate did not write
    /// (its contents are removed).
    #[arg(long, requires = "out")]
    replace: bool,
    /// Analyse files whose declared spillover matrix cannot be applied,
    /// uncompensated (stated in the report); without it such sites are NOT
    /// EVALUABLE.
    #[arg(long)]
    accept_uncompensated: bool,
    /// Print report.json to standard output instead of the summary.
    #[arg(long)]
    json: bool,
}

impl ReportArgs {
    /// The outputs asked for (`blast_fcs`: each site's blast events too).
    fn output(&self, blast_fcs: bool) -> Output {
        Output {
            dir: self.out.clone(),
            options: marrowgate::report::case::OutputOptions {
                blast_fcs,
                replace: self.replace,
            },
            json: self.json,
        }
    }
}

/// Diagnostic sensitivity a NEGATIVE `analyze` site must reach, percent.
const DIAGNOSTIC_SENSITIVITY_PERCENT: f64 = 0.1;
/// MRD sensitivity a NEGATIVE `follow` site must reach, percent (10^-4).
const MRD_SENSITIVITY_PERCENT: f64 = 0.01;

impl LimitArgs {
    /// The limits, `required_sensitivity` defaulting to `sensitivity`;
    /// a limit that cannot be used is a usage error.
    fn limits(self, sensitivity: f64) -> Result<marrowgate::qc::Limits, CliError> {
        let limits = marrowgate::qc::Limits {
            lod_events: self.lod,
            lloq_events: self.lloq,
            required_sensitivity_percent: self.required_sensitivity.unwrap_or(sensitivity),
            max_debris_percent: self.max_debris_percent,
            min_marrow_specific_percent: self.min_marrow_specific_percent,
        };
        limits.validate().map_err(CliError::usage)?;
        Ok(limits)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Analyse every site of one patient: find common-B-ALL blasts, judge
    /// each site (POSITIVE / NEGATIVE / NOT EVALUABLE) and show which sites
    /// alone would have missed the disease.
    ///
    /// Exit status: 0 analysis done; 3 done, but some sites could not be
    /// analysed (they are reported); 1 nothing could be analysed or the
    /// outputs could not be written; 2 usage error.
    #[command(after_long_help = ANALYZE_HELP)]
    Analyze {
        /// A folder of FCS files (one site each) or a case file (TOML/JSON).
        case: Option<PathBuf>,
        /// A site as NAME=FILE.fcs (repeatable; instead of CASE).
        #[arg(long = "site", value_name = "NAME=FILE")]
        sites: Vec<String>,
        /// Panel file (TOML/JSON table channel = marker) overriding labels.
        #[arg(long)]
        panel: Option<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
        /// Also write each site's blast events as DIR/NN-<site>.blasts.fcs.
        #[arg(long, requires = "out")]
        blast_fcs: bool,
        /// Use the gates of this Gating-ML 2.0 file instead of the automated
        /// strategy (with --blast-gate and --nucleated-gate).
        #[arg(long = "gating-ml", requires_all = ["blast_gate", "nucleated_gate"])]
        gating_ml: Option<PathBuf>,
        /// Gating-ML gate id of the blasts.
        #[arg(long, requires = "gating_ml")]
        blast_gate: Option<String>,
        /// Gating-ML gate id of the viable nucleated cells (denominator).
        #[arg(long, requires = "gating_ml")]
        nucleated_gate: Option<String>,
        /// Gating-ML gate id of the CD19+ cells (optional).
        #[arg(long, requires = "gating_ml")]
        cd19_gate: Option<String>,
        /// Re-run with reviewed gates: the folder `--out` wrote them to
        /// (DIR/gating), one NN-<site>.xml per site, edited or not. Gates
        /// left as exported keep the automated result; edited gates and
        /// everything below them are re-gated, and the report says what
        /// changed.
        #[arg(long, value_name = "DIR", conflicts_with = "gating_ml")]
        reviewed_gating: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Follow a patient through time points (diagnosis, day 15, day 33,
    /// after blinatumomab...): measurable residual disease per time point
    /// and site, with the LOD and LLOQ reached, searched for the
    /// diagnostic phenotype and anything off normal B-cell maturation.
    ///
    /// Exit status as for `analyze`.
    #[command(after_long_help = FOLLOW_HELP)]
    Follow {
        /// The course file (TOML, or JSON by extension).
        case: PathBuf,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Show how every channel of FCS files is understood (role, marker,
    /// from which label) and write a panel file to correct and pass back
    /// with `analyze --panel`.
    Panel {
        /// FCS files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the panel file (TOML) of the first file here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A panel to apply first (to check a corrected one).
        #[arg(long)]
        panel: Option<PathBuf>,
        /// One JSON object per file (one per line).
        #[arg(long)]
        json: bool,
    },
    /// Show what FCS files hold: version, instrument, events, channels,
    /// spillover, warnings.
    Inspect {
        /// FCS files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per file (one per line).
        #[arg(long)]
        json: bool,
        /// Data set to show (0-based), for files with several.
        #[arg(long, default_value_t = 0)]
        dataset: usize,
        /// Add per-channel min, max, mean, % saturated and % negative over
        /// all events.
        #[arg(long)]
        stats: bool,
    },
    /// Write the events of an FCS file as CSV.
    Export {
        /// FCS file.
        file: PathBuf,
        /// Output CSV file.
        #[arg(long)]
        csv: PathBuf,
        /// Stored values instead of channel values.
        #[arg(long)]
        raw: bool,
        /// Data set to export (0-based).
        #[arg(long, default_value_t = 0)]
        dataset: usize,
    },
    /// Apply the gates of a Gating-ML 2.0 file to an FCS file.
    Apply {
        /// FCS file.
        file: PathBuf,
        /// Gating-ML 2.0 file.
        #[arg(long = "gating-ml")]
        gating_ml: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Write one 0/1 column per gate, one row per event, to this CSV.
        #[arg(long)]
        membership: Option<PathBuf>,
        /// Data set to gate (0-based).
        #[arg(long, default_value_t = 0)]
        dataset: usize,
    },
    /// Draw one bivariate plot of an FCS file (compensated; fluorescence on
    /// a logicle scale, scatter linear) as PNG or SVG.
    Plot {
        /// FCS file.
        file: PathBuf,
        /// x axis: a channel ($PnN) or a marker (CD19, FSC-A...).
        #[arg(long)]
        x: String,
        /// y axis: a channel ($PnN) or a marker.
        #[arg(long)]
        y: String,
        /// Gate to outline and count, in channel units:
        /// NAME=X0:X1,Y0:Y1 (open ends allowed) or NAME=poly:X Y;X Y;X Y.
        #[arg(long = "gate")]
        gates: Vec<String>,
        /// Fluorescence scale: logicle, asinh or linear.
        #[arg(long, value_enum, default_value_t = marrowgate::plot::file::Scale::Logicle)]
        transform: marrowgate::plot::file::Scale,
        /// Output file (.png or .svg).
        #[arg(long)]
        out: PathBuf,
        /// Width x height in pixels (200-4000 each).
        #[arg(long, default_value = "600x560", value_parser = parse_size)]
        size: (u32, u32),
    },
    /// Write a simulated bone-marrow FCS 3.1 file with known truth
    /// (FILE.truth.csv beside it: the population of every event).
    Simulate {
        /// Output FCS file.
        out: PathBuf,
        /// Number of events.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Random seed (same seed, same file).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Blasts as a fraction of viable nucleated cells (0-0.95).
        #[arg(long, default_value_t = 0.0)]
        blasts: f64,
        /// Hematogones as a fraction of viable nucleated cells (0-0.6;
        /// default 0.05, or what the blasts leave: blasts + hematogones
        /// at most 0.98).
        #[arg(long)]
        hematogones: Option<f64>,
        /// Necrosis, 0 (none) to 1 (complete).
        #[arg(long, default_value_t = 0.0)]
        necrosis: f64,
        /// Hemodilution, 0 (marrow) to 1 (peripheral blood).
        #[arg(long, default_value_t = 0.0)]
        hemodilution: f64,
        /// Doublets as a fraction of all events.
        #[arg(long, default_value_t = 0.02)]
        doublets: f64,
        /// How much the sample looks like real marrow, 0 (textbook
        /// populations) to 1 (populations 0.3 decades wider and skewed,
        /// early hematogones into dim CD45, debris and dead cells smeared
        /// into the lymphocyte scatter region).
        #[arg(long, default_value_t = 0.0)]
        realism: f64,
        /// Blasts without CD34.
        #[arg(long)]
        cd34_negative_blasts: bool,
        /// No normal B cells (marrow under CD19-directed therapy):
        /// neither mature B cells nor hematogones.
        #[arg(long)]
        b_cell_aplasia: bool,
        /// Add CD22 and CD24 channels (B-lineage markers besides CD19).
        #[arg(long)]
        b_lineage_markers: bool,
        /// A stain that failed (CD19, CD10, CD45...): its channel holds only
        /// unstained noise and spillover. Repeatable.
        #[arg(long = "failed-stain", value_name = "MARKER")]
        failed_stains: Vec<String>,
        /// The antibody panel: standard (CD58 and a viability dye),
        /// euroflow (the EuroFlow BCP-ALL MRD tube) or clearllab (the
        /// ClearLLab 10C B-cell tube).
        #[arg(long = "panel-profile", value_enum, default_value = "standard")]
        panel_profile: marrowgate::simulate::PanelProfile,
        /// Write the file as this cytometer family does (channel names,
        /// labels, range, spillover or unmixed data).
        #[arg(long, value_enum, default_value = "canto")]
        instrument: marrowgate::simulate::instrument::Instrument,
        /// Blast phenotype: MARKER=INTENSITY (CD10, CD19, CD20, CD34, CD38,
        /// CD45, CD58; linear units, negative is 60), sigma=SPREAD or
        /// CD20-fraction=F (only that fraction of blasts at the CD20 given,
        /// the rest CD20-negative); repeatable, e.g. --blast-marker CD45=80
        /// --blast-marker CD38=4000.
        #[arg(long = "blast-marker", value_name = "MARKER=VALUE", value_parser = parse_blast_marker)]
        blast_markers: Vec<(String, f64)>,
    },
}

/// Why a command failed: the message for standard error and the exit
/// status (2 for what the user typed, 1 otherwise).
struct CliError {
    status: u8,
    message: String,
}

impl CliError {
    /// A usage error (exit status 2).
    fn usage(message: impl std::fmt::Display) -> CliError {
        CliError {
            status: 2,
            message: message.to_string(),
        }
    }

    /// A command that could not be done (exit status 1).
    fn failed(message: impl std::fmt::Display) -> CliError {
        CliError {
            status: 1,
            message: message.to_string(),
        }
    }
}

/// Parses the command line, runs the command and prints its error, if
/// any, in one place. Errors about single files or sites that do not stop
/// the command (`inspect` of several files, a site that cannot be read)
/// are printed as they occur and reflected in the exit status.
fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(status) => status,
        Err(e) => {
            print_error(&e.message);
            ExitCode::from(e.status)
        }
    }
}

/// Runs one command.
fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Plot {
            file,
            x,
            y,
            gates,
            transform,
            out,
            size,
        } => plot(file, x, y, &gates, transform, out, size),
        Command::Analyze {
            case,
            sites,
            panel,
            report,
            blast_fcs,
            gating_ml,
            blast_gate,
            nucleated_gate,
            cd19_gate,
            reviewed_gating,
            limits,
        } => {
            let limits = limits.limits(DIAGNOSTIC_SENSITIVITY_PERCENT)?;
            let strategy = match (gating_ml, blast_gate, nucleated_gate) {
                (Some(path), Some(blast), Some(nucleated)) => {
                    match marrowgate::analysis::site::UserGates::read(
                        &path,
                        &blast,
                        &nucleated,
                        cd19_gate.as_deref(),
                    ) {
                        Ok(u) => marrowgate::analysis::site::Strategy::UserGates(u),
                        Err(e) => {
                            return Err(CliError::failed(e));
                        }
                    }
                }
                _ => marrowgate::analysis::site::Strategy::Automatic,
            };
            let output = report.output(blast_fcs);
            let settings = marrowgate::analysis::site::Settings {
                limits,
                strategy,
                accept_uncompensated: report.accept_uncompensated,
                keep_blast_events: blast_fcs,
                reviewed_gating,
                ..Default::default()
            };
            analyze(case, &sites, panel, &output, &settings)
        }
        Command::Follow {
            case,
            report,
            limits,
        } => {
            let settings = marrowgate::analysis::site::Settings {
                limits: limits.limits(MRD_SENSITIVITY_PERCENT)?,
                accept_uncompensated: report.accept_uncompensated,
                ..Default::default()
            };
            follow(&case, &report.output(false), &settings)
        }
        Command::Panel {
            files,
            out,
            panel,
            json,
        } => panel_command(&files, out.as_deref(), panel.as_deref(), json),
        Command::Inspect {
            files,
            json,
            dataset,
            stats,
        } => {
            let mut failed = false;
            for file in &files {
                match marrowgate::report::inspect::inspect(file, dataset, stats) {
                    Ok(report) if json => match serde_json::to_string(&report) {
                        Ok(line) => print_stdout(&(line + "\n")),
                        Err(e) => {
                            print_error(&format!(
                                "{}: cannot serialise report: {e}",
                                file.display()
                            ));
                            failed = true;
                        }
                    },
                    Ok(report) => print_terminal(&report.to_text()),
                    Err(e) => {
                        print_error(&e);
                        failed = true;
                    }
                }
            }
            if failed {
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Apply {
            file,
            gating_ml,
            json,
            membership,
            dataset,
        } => match marrowgate::report::gating::apply(
            &file,
            &gating_ml,
            dataset,
            membership.as_deref(),
        ) {
            Ok(report) if json => match serde_json::to_string_pretty(&report) {
                Ok(text) => {
                    print_stdout(&(text + "\n"));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(CliError::failed(format!("cannot serialise report: {e}"))),
            },
            Ok(report) => {
                print_terminal(&report.to_text());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(CliError::failed(e)),
        },
        Command::Simulate {
            out,
            events,
            seed,
            blasts,
            hematogones,
            necrosis,
            hemodilution,
            doublets,
            realism,
            cd34_negative_blasts,
            b_cell_aplasia,
            b_lineage_markers,
            failed_stains,
            panel_profile,
            instrument,
            blast_markers,
        } => {
            let mut blast_phenotype = marrowgate::simulate::BlastPhenotype::default();
            if cd34_negative_blasts {
                blast_phenotype.cd34 = 60.0;
            }
            for (marker, value) in &blast_markers {
                // Checked by the value parser on a phenotype of its own.
                blast_phenotype.set(marker, *value);
            }
            let cfg = marrowgate::simulate::Config {
                events,
                seed,
                blast_fraction: blasts,
                hematogone_fraction: hematogones
                    .unwrap_or_else(|| 0.05f64.min((0.98 - blasts).max(0.0))),
                necrosis,
                hemodilution,
                doublet_fraction: doublets,
                blast_phenotype,
                failed_stains,
                panel: panel_profile,
                realism,
                b_cell_aplasia,
                b_lineage_markers,
            };
            match marrowgate::simulate::simulate(&cfg)
                .and_then(|mut sim| {
                    marrowgate::simulate::instrument::as_instrument(&mut sim, instrument)
                        .map_err(marrowgate::simulate::SimulateError::Write)?;
                    Ok(sim)
                })
                .and_then(|sim| marrowgate::simulate::write(&sim, &out))
            {
                Ok(()) => {
                    print_terminal(&format!(
                        "{events} events written to {} (truth in {})\n",
                        out.display(),
                        marrowgate::simulate::truth_path(&out).display()
                    ));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(CliError::failed(e)),
            }
        }
        Command::Export {
            file,
            csv,
            raw,
            dataset,
        } => match marrowgate::report::csv::export_csv(&file, &csv, dataset, raw) {
            Ok(n) => {
                print_terminal(&format!("{n} events written to {}\n", csv.display()));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(CliError::failed(e)),
        },
    }
}

/// Where and how `analyze` reports.
struct Output {
    dir: Option<PathBuf>,
    options: marrowgate::report::case::OutputOptions,
    json: bool,
}

/// Writes to standard output; a closed or broken stdout (`| head -1`) is
/// not a failed analysis, so the error is dropped.
fn print_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Text for a person on standard output: control characters that came
/// from files, names or paths are escaped, line breaks kept.
fn print_terminal(text: &str) {
    print_stdout(&marrowgate::report::terminal::escape_lines(text));
}

/// An error line on standard error, control characters escaped.
fn print_error(message: &dyn std::fmt::Display) {
    use std::io::Write as _;
    let text = marrowgate::report::terminal::escape_lines(&message.to_string());
    let _ = writeln!(std::io::stderr().lock(), "error: {text}");
}

/// `analyze`: assemble the case, analyse, write the outputs, then print.
fn analyze(
    case: Option<PathBuf>,
    sites: &[String],
    panel: Option<PathBuf>,
    output: &Output,
    settings: &marrowgate::analysis::site::Settings,
) -> Result<ExitCode, CliError> {
    use marrowgate::analysis::{self, case::Case, case::CaseError};
    let panel = match panel.as_deref().map(analysis::case::read_panel) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            return Err(CliError::failed(e));
        }
        None => Vec::new(),
    };
    let case = match (case, sites.is_empty()) {
        (Some(path), true) => Case::from_path(&path, &panel),
        (None, false) => Case::from_site_arguments(sites, &panel),
        _ => {
            return Err(CliError::usage(
                "give either a case (folder or case file) or --site NAME=FILE, not both or neither",
            ));
        }
    };
    let case = match case {
        Ok(c) => c,
        Err(e) => {
            // What the user typed is wrong: a usage error.
            let usage = matches!(
                e,
                CaseError::SiteArgument(_)
                    | CaseError::SiteName { .. }
                    | CaseError::DuplicateSite(_)
            );
            return Err(if usage && !sites.is_empty() {
                CliError::usage(e)
            } else {
                CliError::failed(e)
            });
        }
    };
    // The output folder is checked before the analysis, and each site's
    // figures are written as it ends, its columns then released.
    let writer = match &output.dir {
        Some(dir) => {
            match marrowgate::report::case::CaseWriter::begin(dir, case.sites.len(), output.options)
            {
                Ok(w) => Some(w),
                Err(e) => {
                    return Err(CliError::failed(e));
                }
            }
        }
        None => None,
    };
    let on_site = |i: usize,
                   s: &marrowgate::analysis::site::SiteReport,
                   g: &marrowgate::analysis::site::SiteGating| {
        if let Some(w) = &writer {
            w.add_site(i, s, g);
        }
    };
    let (report, _) = analysis::analyze_case_with(&case, settings, &on_site, false);
    for s in report
        .sites
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| (&s.name, e)))
    {
        print_error(&format!("site {}: {}", s.0, s.1));
    }
    // Outputs first: a closed standard output must not lose them.
    let mut written = Vec::new();
    if let Some(w) = writer {
        match w.finish(&report) {
            Ok(files) => written = files,
            Err(e) => {
                return Err(CliError::failed(e));
            }
        }
    }
    if output.json {
        print_json(&report)?;
    } else {
        let mut text = marrowgate::report::case::summary_text(&report);
        for f in written {
            text.push_str(&format!("wrote {}\n", f.display()));
        }
        print_terminal(&text);
    }
    Ok(analysis_exit(
        report.sites.iter().map(|s| s.error.is_some()),
    ))
}

/// Prints a report as JSON on standard output.
fn print_json(report: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| CliError::failed(format!("cannot serialise report: {e}")))?;
    print_stdout(&(text + "\n"));
    Ok(())
}

/// The exit status of an analysis from whether each site failed: 1 when
/// none could be analysed (or there were none), 3 when some could not, 0
/// otherwise.
fn analysis_exit(failed: impl Iterator<Item = bool>) -> ExitCode {
    let (sites, failures) = failed.fold((0usize, 0usize), |(n, f), x| (n + 1, f + usize::from(x)));
    if failures == sites {
        ExitCode::FAILURE
    } else if failures > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// `follow`: read the course, analyse every time point, write, print.
fn follow(
    case: &Path,
    output: &Output,
    settings: &marrowgate::analysis::site::Settings,
) -> Result<ExitCode, CliError> {
    use marrowgate::analysis::{course::Course, follow::follow_course};
    use marrowgate::report::follow::{FollowWriter, summary_text};
    let course = Course::from_file(case).map_err(CliError::failed)?;
    let writer = match &output.dir {
        Some(dir) => {
            Some(FollowWriter::begin(dir, &course, output.options).map_err(CliError::failed)?)
        }
        None => None,
    };
    let on_site = |t: usize,
                   i: usize,
                   s: &marrowgate::analysis::site::SiteReport,
                   g: &marrowgate::analysis::site::SiteGating| {
        if let Some(w) = &writer {
            w.add_site(t, i, s, g);
        }
    };
    let report = follow_course(&course, settings, &on_site);
    for tp in &report.timepoints {
        for s in tp
            .sites
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| (&s.name, e)))
        {
            print_error(&format!("{} / site {}: {}", tp.label, s.0, s.1));
        }
    }
    let mut written = Vec::new();
    if let Some(w) = writer {
        written = w.finish(&report).map_err(CliError::failed)?;
    }
    if output.json {
        print_json(&report)?;
    } else {
        let mut text = summary_text(&report);
        for f in written
            .iter()
            .filter(|f| f.parent().is_some_and(|p| Some(p) == output.dir.as_deref()))
        {
            text.push_str(&format!("wrote {}\n", f.display()));
        }
        print_terminal(&text);
    }
    Ok(analysis_exit(
        report
            .timepoints
            .iter()
            .flat_map(|t| &t.sites)
            .map(|s| s.error.is_some()),
    ))
}

/// `panel`: print how each file's channels are understood; write the
/// first file's panel.
fn panel_command(
    files: &[PathBuf],
    out: Option<&std::path::Path>,
    panel: Option<&std::path::Path>,
    json: bool,
) -> Result<ExitCode, CliError> {
    use marrowgate::report::panel::read_panel_of;
    let overrides = match panel.map(marrowgate::analysis::case::read_panel) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            return Err(CliError::failed(e));
        }
        None => Vec::new(),
    };
    let mut failed = false;
    let mut first = None;
    for file in files {
        match read_panel_of(file, &overrides) {
            Ok(r) => {
                if json {
                    match serde_json::to_string(&r) {
                        Ok(line) => print_stdout(&(line + "\n")),
                        Err(e) => {
                            print_error(&format!("{}: cannot serialise: {e}", file.display()));
                            failed = true;
                        }
                    }
                } else {
                    print_terminal(&r.to_text());
                }
                if first.is_none() {
                    first = Some(r);
                }
            }
            Err(e) => {
                print_error(&e);
                failed = true;
            }
        }
    }
    if let (Some(path), Some(r)) = (out, first) {
        if let Err(e) = marrowgate::io::write_bytes_atomically(path, r.to_panel_toml().as_bytes()) {
            return Err(CliError::failed(format!("{}: {e}", path.display())));
        }
        if !json {
            print_terminal(&format!("wrote {}\n", path.display()));
        }
    }
    if failed {
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// `--size WIDTHxHEIGHT`, 200-4000 pixels each.
fn parse_size(text: &str) -> Result<(u32, u32), String> {
    text.split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .filter(|&(w, h)| (200..=4000).contains(&w) && (200..=4000).contains(&h))
        .ok_or_else(|| "expected WIDTHxHEIGHT, 200-4000 pixels each".to_string())
}

/// `--blast-marker MARKER=VALUE`: a marker the simulator's blast phenotype
/// has (or `sigma`) and a positive number.
fn parse_blast_marker(text: &str) -> Result<(String, f64), String> {
    let expected = || {
        "expected MARKER=VALUE with MARKER one of CD10, CD19, CD20, CD34, CD38, CD45, CD58, CD81, CD66c, sigma, CD20-fraction and a positive number".to_string()
    };
    let (marker, value) = text.split_once('=').ok_or_else(expected)?;
    let value = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(expected)?;
    let marker = marker.trim().to_string();
    if !marrowgate::simulate::BlastPhenotype::default().set(&marker, value) {
        return Err(expected());
    }
    Ok((marker, value))
}

/// `plot`: parse the gates, draw, print the counts.
fn plot(
    file: PathBuf,
    x: String,
    y: String,
    gates: &[String],
    scale: marrowgate::plot::file::Scale,
    out: PathBuf,
    size: (u32, u32),
) -> Result<ExitCode, CliError> {
    use marrowgate::plot::file::{GateSpec, PlotRequest, plot_file};
    let gates = match gates
        .iter()
        .map(|g| GateSpec::parse(g))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(g) => g,
        Err(e) => {
            return Err(CliError::usage(e));
        }
    };
    let request = PlotRequest {
        file,
        x,
        y,
        scale,
        gates,
        out,
        size,
    };
    match plot_file(&request) {
        Ok(summary) => {
            let mut text = format!(
                "{} events of {} vs {} drawn to {}\n",
                summary.events, summary.channels[0], summary.channels[1], summary.out
            );
            for g in &summary.gates {
                text.push_str(&format!(
                    "  {}: {} events ({:.3}%)\n",
                    g.name, g.events, g.percent
                ));
            }
            print_terminal(&text);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(CliError::failed(e)),
    }
}
