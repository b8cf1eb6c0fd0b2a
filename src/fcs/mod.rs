//! FCS 2.0, 3.0, 3.1 and 3.2: reading every data set of a file, and writing
//! FCS 3.1.
//!
//! One strict reader per segment: [`header`] (fixed-width offsets), [`text`]
//! (keyword/value pairs), [`metadata`] (typed channels and scaling),
//! [`spillover`], `data` (event decoding) and [`reader`], which ties them
//! together and recovers from the inconsistencies real instruments write,
//! recording a warning for each. [`writer`] writes FCS 3.1.

pub(crate) mod channel_name;
pub(crate) mod data;
pub mod error;
pub mod header;
pub mod metadata;
pub mod reader;
pub mod spillover;
pub mod stats;
pub mod text;
pub mod writer;

pub use error::{FcsError, FileError};
pub use header::{Header, Span, Version};
pub use metadata::{Amplification, Bits, Channel, DataType, Metadata, Scale};
pub use reader::{DataSet, DataSetInfo, FcsFile};
pub use spillover::Spillover;
pub use text::Keywords;
