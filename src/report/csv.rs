//! Events as CSV: a header of $PnN, one row per event, every value printed
//! with the shortest text that reads back to exactly the same number.

use crate::fcs::{DataType, FcsError, FcsFile, FileError};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// Events formatted per batch (bounded memory on any file size).
const BATCH_EVENTS: usize = 1 << 18;
/// Events formatted per parallel task.
const TASK_EVENTS: usize = 1 << 13;

/// How one column is printed.
#[derive(Clone, Copy)]
enum Printed {
    /// As single precision (stored float values).
    Single,
    /// As double precision (integers print without a fraction).
    Double,
}

/// Writes the events of data set `dataset` of `input` to `output` as CSV.
///
/// `raw` prints stored values; otherwise channel values as flowCore and
/// FlowKit present them (gain divided out, log amplification undone, Time
/// times $TIMESTEP). Returns the number of events written. The output is
/// written atomically.
pub fn export_csv(
    input: &Path,
    output: &Path,
    dataset: usize,
    raw: bool,
) -> Result<usize, FileError> {
    let fcs = FcsFile::open(input)?;
    let in_err = |source| FileError {
        path: input.to_path_buf(),
        source,
    };
    let info = fcs.dataset(dataset).map_err(in_err)?;
    let channels = &info.metadata.channels;
    let scales: Vec<_> = channels.iter().map(|c| c.scale).collect();
    let printed: Vec<Printed> = scales
        .iter()
        .map(|s| match info.metadata.datatype {
            DataType::Float if raw || s.is_identity() => Printed::Single,
            _ => Printed::Double,
        })
        .collect();
    let p = channels.len();
    let total = info.event_count;
    let mut decode_error = None;
    let written = crate::io::write_atomically(output, |out| {
        let header: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
        writeln!(
            out,
            "{}",
            header
                .iter()
                .map(|h| quote(h))
                .collect::<Vec<_>>()
                .join(",")
        )?;
        let mut first = 0;
        while first < total {
            let n = BATCH_EVENTS.min(total - first);
            let mut values = match fcs.raw_range_f64(dataset, first, n) {
                Ok(v) => v,
                Err(e) => {
                    decode_error = Some(e);
                    return Err(std::io::Error::other("decode failed"));
                }
            };
            if !raw {
                crate::fcs::data::scale_rows(&mut values, &scales);
            }
            let texts: Vec<String> = values
                .par_chunks(TASK_EVENTS * p)
                .map(|rows| format_rows(rows, &printed))
                .collect();
            for t in texts {
                out.write_all(t.as_bytes())?;
            }
            first += n;
        }
        Ok(())
    });
    if let Some(e) = decode_error {
        return Err(in_err(e));
    }
    written.map_err(|e| FileError {
        path: output.to_path_buf(),
        source: FcsError::Io(e),
    })?;
    Ok(total)
}

fn format_rows(rows: &[f64], printed: &[Printed]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(rows.len() * 10);
    for row in rows.chunks_exact(printed.len()) {
        for (j, (&v, how)) in row.iter().zip(printed).enumerate() {
            if j > 0 {
                s.push(',');
            }
            let _ = match how {
                Printed::Single => write!(s, "{}", v as f32),
                Printed::Double => write!(s, "{v}"),
            };
        }
        s.push('\n');
    }
    s
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
