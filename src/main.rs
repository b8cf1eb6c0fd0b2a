//! The `marrowgate` command line: parse arguments, call the library, print.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
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

#[derive(Subcommand)]
enum Command {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
                        Ok(line) => println!("{line}"),
                        Err(e) => {
                            eprintln!("{}: cannot serialise report: {e}", file.display());
                            failed = true;
                        }
                    },
                    Ok(report) => print!("{}", report.to_text()),
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
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
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot serialise report: {e}");
                    ExitCode::FAILURE
                }
            },
            Ok(report) => {
                print!("{}", report.to_text());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Export {
            file,
            csv,
            raw,
            dataset,
        } => match marrowgate::report::csv::export_csv(&file, &csv, dataset, raw) {
            Ok(n) => {
                println!("{n} events written to {}", csv.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
