//! Typed errors of the FCS reader and writer.

use std::path::PathBuf;

/// What went wrong while reading or writing an FCS file.
///
/// Every variant says where (byte offset or keyword) and what was expected, so
/// the message alone lets a user find the fault in the file.
#[derive(Debug, thiserror::Error)]
pub enum FcsError {
    /// The file could not be opened, mapped, read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The HEADER segment is malformed.
    #[error("HEADER at byte {offset}: {message}")]
    Header {
        /// Byte offset of the faulty field.
        offset: u64,
        /// What was expected.
        message: String,
    },
    /// The TEXT (or supplemental TEXT / ANALYSIS) segment is malformed.
    #[error("TEXT segment at byte {offset}: {message}")]
    Text {
        /// Byte offset of the fault.
        offset: u64,
        /// What was expected.
        message: String,
    },
    /// A required keyword is absent.
    #[error("required keyword {keyword} is missing")]
    MissingKeyword {
        /// Name of the keyword, e.g. `$PAR`.
        keyword: String,
    },
    /// A keyword has a value that cannot be interpreted.
    #[error("keyword {keyword} has value {value:?}; expected {expected}")]
    InvalidKeyword {
        /// Name of the keyword.
        keyword: String,
        /// Value found in the file.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A segment points outside the file or is inconsistent beyond recovery.
    #[error("{segment} segment [{begin}, {end}] is unusable: {message}")]
    Segment {
        /// Which segment (DATA, TEXT, ANALYSIS, ...).
        segment: &'static str,
        /// First byte.
        begin: u64,
        /// Last byte.
        end: u64,
        /// Why it cannot be used.
        message: String,
    },
    /// A feature of the standard that marrowgate does not read.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A data set index beyond the data sets of the file.
    #[error("data set {requested} requested but the file holds {available}")]
    NoSuchDataSet {
        /// Index asked for (0-based).
        requested: usize,
        /// Number of data sets.
        available: usize,
    },
    /// Event data cannot be written as asked.
    #[error("cannot write FCS: {0}")]
    Write(String),
    /// The path is not a regular file (a folder, FIFO, device, socket).
    #[error("not an FCS file: the path is {0}")]
    NotAFile(&'static str),
    /// The file changed (size or modification time) while it was read.
    #[error(
        "the file changed while it was read ({0}); it is being written or replaced, analyse it once it is complete"
    )]
    Changed(String),
}

/// An [`FcsError`] together with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    /// File being read or written.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: FcsError,
}

/// Result alias of the FCS module.
pub type Result<T> = std::result::Result<T, FcsError>;
