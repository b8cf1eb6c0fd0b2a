//! Opening a file, walking its data sets, and choosing the DATA bytes.

use super::data::{Layout, Segment, scale_rows};
use super::error::{FcsError, FileError, Result};
use super::header::{HEADER_LEN, Header, Span, Version, parse_header};
use super::metadata::{Metadata, count};
use super::text::{Keywords, parse_pairs, parse_segment};
use memmap2::Mmap;
use ndarray::Array2;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Upper bound on data sets followed through $NEXTDATA.
const MAX_DATASETS: usize = 10_000;

/// The bytes of a file: memory-mapped from disk, or owned.
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// The metadata of `path` if it is a regular file (checked before opening:
/// opening a FIFO blocks, and a folder cannot be mapped).
fn regular_file(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path)?;
    match crate::io::not_regular(&meta) {
        None => Ok(meta),
        Some(kind) => Err(FcsError::NotAFile(kind)),
    }
}

/// Everything known about one data set before its events are decoded.
#[derive(Debug, Clone)]
pub struct DataSetInfo {
    /// Absolute offset of this data set's HEADER.
    pub start: u64,
    /// Its HEADER.
    pub header: Header,
    /// TEXT keywords (primary TEXT plus supplemental TEXT).
    pub keywords: Keywords,
    /// Keywords of the ANALYSIS segment, if any.
    pub analysis: Keywords,
    /// Typed metadata.
    pub metadata: Metadata,
    /// Absolute byte span of the events that are read.
    pub data: Span,
    /// Number of events read.
    pub event_count: usize,
    /// Irregularities that were recovered from.
    pub warnings: Vec<String>,
    layout: Layout,
}

/// An opened FCS file with all its data sets.
pub struct FcsFile {
    path: Option<PathBuf>,
    bytes: Bytes,
    datasets: Vec<DataSetInfo>,
    /// Where the DATA bytes are read from when `bytes` holds only the
    /// HEADER and TEXT ([`FcsFile::read_streaming`]).
    streamed: Option<StreamedData>,
}

/// The open file whose DATA segment is read as it is decoded, and what it
/// was when opened: every read is followed by a check that it still is.
struct StreamedData {
    file: std::fs::File,
    stamp: Stamp,
}

/// A file's size and modification time: what tells that it changed.
type Stamp = (u64, Option<SystemTime>);

fn stamp(m: &std::fs::Metadata) -> Stamp {
    (m.len(), m.modified().ok())
}

/// Files from this size up are read by [`FcsFile::read_streaming`] without
/// holding their DATA segment; smaller ones are read whole.
const STREAM_FROM_BYTES: u64 = 32 << 20;

impl std::fmt::Debug for FcsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcsFile")
            .field("path", &self.path)
            .field("datasets", &self.datasets.len())
            .finish()
    }
}

/// Events of one data set with its metadata.
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Keywords, metadata and warnings.
    pub info: DataSetInfo,
    /// Events x channels: channel values (gain, log amplification and time
    /// step applied) or stored values, as asked.
    pub events: Array2<f32>,
}

impl DataSetInfo {
    /// Why the events read are fewer than the file declares (`$TOT` larger
    /// than the complete events found, or a DATA segment running past the
    /// end of the file: a file cut short), or `None` when it is complete.
    pub fn incomplete(&self) -> Option<String> {
        if let Some(tot) = self.metadata.tot
            && tot > self.event_count as u64
        {
            return Some(format!(
                "the file declares {tot} events ($TOT) but holds {} complete events ({:.1}%): it was cut short",
                self.event_count,
                100.0 * self.event_count as f64 / tot as f64
            ));
        }
        self.warnings
            .iter()
            .find(|w| w.contains("truncated data read"))
            .map(|w| format!("the file is cut short: {w}"))
    }
}

impl FcsFile {
    /// Memory-maps and parses `path`. The file is only read, never modified.
    ///
    /// A mapped file that another process truncates while it is read ends
    /// the process (SIGBUS); where that can happen (a file still being
    /// written, a shared folder), use [`FcsFile::read_to_memory`].
    pub fn open(path: impl AsRef<Path>) -> std::result::Result<FcsFile, FileError> {
        let path = path.as_ref();
        let wrap = |source: FcsError| FileError {
            path: path.to_path_buf(),
            source,
        };
        regular_file(path).map_err(wrap)?;
        let file = std::fs::File::open(path).map_err(|e| wrap(e.into()))?;
        // SAFETY: the mapping is read-only; a file truncated by another
        // process while mapped is outside what any reader can guard against.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| wrap(e.into()))?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        let mut fcs = Self::parse(Bytes::Mapped(map)).map_err(wrap)?;
        fcs.path = Some(path.to_path_buf());
        Ok(fcs)
    }

    /// Reads `path` into memory once and parses it. The bytes are the
    /// process's own: a file truncated, rewritten or replaced afterwards
    /// cannot change or crash what is analysed, and a file that changes
    /// while it is read (size or modification time) is refused with
    /// [`FcsError::Changed`]. The file is only read, never modified.
    pub fn read_to_memory(path: impl AsRef<Path>) -> std::result::Result<FcsFile, FileError> {
        use std::io::Read as _;
        let path = path.as_ref();
        let wrap = |source: FcsError| FileError {
            path: path.to_path_buf(),
            source,
        };
        let before = regular_file(path).map_err(wrap)?;
        let mut file = std::fs::File::open(path).map_err(|e| wrap(e.into()))?;
        let mut bytes = Vec::with_capacity(before.len() as usize);
        file.read_to_end(&mut bytes).map_err(|e| wrap(e.into()))?;
        let after = file.metadata().map_err(|e| wrap(e.into()))?;
        if stamp(&before) != stamp(&after) || bytes.len() as u64 != after.len() {
            return Err(wrap(FcsError::Changed(format!(
                "{} bytes when opened, {} read, {} now",
                before.len(),
                bytes.len(),
                after.len()
            ))));
        }
        let mut fcs = Self::parse(Bytes::Owned(bytes)).map_err(wrap)?;
        fcs.path = Some(path.to_path_buf());
        Ok(fcs)
    }

    /// Opens `path` reading only its HEADER and TEXT into memory; the
    /// events are read from the open file as they are decoded, so a file
    /// of hundreds of megabytes is never held whole. The file's size and
    /// modification time are checked after every read of its events: a
    /// file truncated or rewritten meanwhile is refused with
    /// [`FcsError::Changed`] (one replaced by a new file under its name is
    /// still read from the file that was opened). Files below 32 MiB, and
    /// files whose layout needs more than the HEADER and TEXT to be found
    /// (several data sets, supplemental TEXT, an ANALYSIS segment,
    /// delimited ASCII events), are read whole as by
    /// [`FcsFile::read_to_memory`]. The file is only read, never modified.
    pub fn read_streaming(path: impl AsRef<Path>) -> std::result::Result<FcsFile, FileError> {
        Self::read_streaming_from(path, STREAM_FROM_BYTES)
    }

    /// [`FcsFile::read_streaming`], reading files below `min_bytes` whole
    /// (0: streaming every file whose layout allows it).
    pub fn read_streaming_from(
        path: impl AsRef<Path>,
        min_bytes: u64,
    ) -> std::result::Result<FcsFile, FileError> {
        let path = path.as_ref();
        let wrap = |source: FcsError| FileError {
            path: path.to_path_buf(),
            source,
        };
        let before = regular_file(path).map_err(wrap)?;
        if before.len() < min_bytes {
            return Self::read_to_memory(path);
        }
        let file = std::fs::File::open(path).map_err(|e| wrap(e.into()))?;
        match Self::head_only(&file, before.len()).map_err(wrap)? {
            Some(mut fcs) => {
                fcs.path = Some(path.to_path_buf());
                fcs.streamed = Some(StreamedData {
                    file,
                    stamp: stamp(&before),
                });
                fcs.check_unchanged().map_err(wrap)?;
                Ok(fcs)
            }
            None => Self::read_to_memory(path),
        }
    }

    /// The file parsed from its HEADER and primary TEXT alone (the rest
    /// of the `len` bytes left as zeros that are never touched, so never
    /// resident), or `None` when the file needs more than those to be
    /// read correctly.
    fn head_only(file: &std::fs::File, len: u64) -> Result<Option<FcsFile>> {
        let mut bytes = vec![0u8; len as usize];
        let header_len = (HEADER_LEN as u64).min(len) as usize;
        super::data::read_at(file, &mut bytes[..header_len], 0)?;
        let header = parse_header(&bytes[..header_len])?;
        let text = header.text;
        if text.end < text.begin || text.end >= len {
            return Ok(None);
        }
        super::data::read_at(
            file,
            &mut bytes[text.begin as usize..=text.end as usize],
            text.begin,
        )?;
        let fcs = Self::parse(Bytes::Owned(bytes))?;
        let simple = match fcs.datasets.as_slice() {
            [only] => {
                let given = |k: &str| {
                    only.keywords
                        .get(k)
                        .is_some_and(|v| !v.trim().trim_start_matches('0').is_empty())
                };
                only.layout.event_bits().is_some()
                    && !given("$NEXTDATA")
                    && !given("$BEGINSTEXT")
                    && !given("$BEGINANALYSIS")
                    && !only.header.analysis.is_given()
            }
            _ => false,
        };
        Ok(simple.then_some(fcs))
    }

    /// Whether the events are read from the open file as they are decoded
    /// ([`FcsFile::read_streaming`]) rather than held in memory.
    pub fn is_streamed(&self) -> bool {
        self.streamed.is_some()
    }

    /// For a file read by [`FcsFile::read_streaming`]: whether it is still
    /// the file that was opened (same size and modification time).
    fn check_unchanged(&self) -> Result<()> {
        let Some(s) = &self.streamed else {
            return Ok(());
        };
        let now = stamp(&s.file.metadata()?);
        if now == s.stamp {
            Ok(())
        } else {
            Err(FcsError::Changed(format!(
                "{} bytes when opened, {} now, or modified since",
                s.stamp.0, now.0
            )))
        }
    }

    /// Parses an FCS file held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<FcsFile> {
        Self::parse(Bytes::Owned(bytes))
    }

    fn parse(bytes: Bytes) -> Result<FcsFile> {
        let (first, mut next) = read_dataset_info(&bytes, 0)?;
        let mut datasets = vec![first];
        while let Some(relative) = next.take() {
            let last = datasets.len() - 1;
            let start = datasets[last].start.saturating_add(relative);
            if datasets.len() >= MAX_DATASETS {
                datasets[last].warnings.push(format!(
                    "more than {MAX_DATASETS} data sets; the rest ignored"
                ));
                break;
            }
            match read_dataset_info(&bytes, start) {
                Ok((info, after)) => {
                    datasets.push(info);
                    next = after;
                }
                Err(e) => datasets[last].warnings.push(format!(
                    "data set at $NEXTDATA offset {start} is unreadable ({e}); ignored"
                )),
            }
        }
        Ok(FcsFile {
            path: None,
            bytes,
            datasets,
            streamed: None,
        })
    }

    /// Path the file was opened from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// All data sets, in file order.
    pub fn datasets(&self) -> &[DataSetInfo] {
        &self.datasets
    }

    /// The data set an analysis reads (0-based): the first, except in a
    /// Beckman LMD file, whose FCS 2.0 set (10-bit, often log-amplified) is
    /// followed by an FCS 3.x set of the same events at full resolution:
    /// then that one.
    pub fn analysed_dataset(&self) -> usize {
        let first = match self.datasets.first() {
            Some(first) if first.header.version == Version::Fcs2_0 => first,
            _ => return 0,
        };
        self.datasets
            .iter()
            .position(|d| {
                d.header.version != Version::Fcs2_0
                    && d.event_count == first.event_count
                    && d.metadata.channels.len() == first.metadata.channels.len()
            })
            .unwrap_or(0)
    }

    /// One data set's info (0-based).
    pub fn dataset(&self, index: usize) -> Result<&DataSetInfo> {
        self.datasets.get(index).ok_or(FcsError::NoSuchDataSet {
            requested: index,
            available: self.datasets.len(),
        })
    }

    /// Where a data set's DATA bytes are: in memory, or in the open file.
    fn segment(&self, info: &DataSetInfo) -> Segment<'_> {
        let begin = (info.data.begin as usize).min(self.bytes.len());
        let end = (begin + info.data.len() as usize).min(self.bytes.len());
        match &self.streamed {
            None => Segment::Memory(&self.bytes[begin..end]),
            Some(s) => Segment::File {
                file: &s.file,
                begin: begin as u64,
                len: end - begin,
            },
        }
    }

    /// A data set's DATA bytes, read from the file when it is streamed.
    fn data_bytes(&self, info: &DataSetInfo) -> Result<Cow<'_, [u8]>> {
        match self.segment(info) {
            Segment::Memory(m) => Ok(Cow::Borrowed(m)),
            file => {
                let mut buf = Vec::new();
                file.bytes(0, file.len(), &mut buf)?;
                self.check_unchanged()?;
                Ok(Cow::Owned(buf))
            }
        }
    }

    /// Stored values of a data set, events x channels.
    pub fn raw_events(&self, index: usize) -> Result<Array2<f32>> {
        let info = self.dataset(index)?;
        let values = info
            .layout
            .decode::<f32>(&self.data_bytes(info)?, info.event_count)?;
        to_matrix(values, info)
    }

    /// Channel values of a data set (gain divided out, $PnE log amplification
    /// undone, Time in seconds), events x channels, as flowCore and FlowKit
    /// present them.
    pub fn events(&self, index: usize) -> Result<Array2<f32>> {
        let info = self.dataset(index)?;
        let scales: Vec<_> = info.metadata.channels.iter().map(|c| c.scale).collect();
        let values =
            info.layout
                .decode_scaled(&self.data_bytes(info)?, info.event_count, &scales)?;
        to_matrix(values, info)
    }

    /// Channel values in double precision (gain, log amplification and time
    /// step applied in `f64`), for computations that must match `f64` tools
    /// to the last bit, such as gate boundaries.
    pub fn events_f64(&self, index: usize) -> Result<Array2<f64>> {
        let info = self.dataset(index)?;
        let scales: Vec<_> = info.metadata.channels.iter().map(|c| c.scale).collect();
        let mut values = info
            .layout
            .decode::<f64>(&self.data_bytes(info)?, info.event_count)?;
        scale_rows(&mut values, &scales);
        to_matrix(values, info)
    }

    /// Reads a data set with its events (channel values unless `raw`).
    pub fn read(&self, index: usize, raw: bool) -> Result<DataSet> {
        let events = if raw {
            self.raw_events(index)?
        } else {
            self.events(index)?
        };
        Ok(DataSet {
            info: self.dataset(index)?.clone(),
            events,
        })
    }

    /// Stored values of events `first..first + count` as `f64`, row-major.
    pub fn raw_range_f64(&self, index: usize, first: usize, count: usize) -> Result<Vec<f64>> {
        let info = self.dataset(index)?;
        let first = first.min(info.event_count);
        let count = count.min(info.event_count - first);
        info.layout
            .decode_range(&self.data_bytes(info)?, info.event_count, first, count)
    }

    /// Visits the channel values (`f64`, conversions applied) of a data set
    /// in parallel chunks of `chunk_events` events (a multiple of 8); chunk
    /// `i` gets `states[i]`.
    pub fn for_each_chunk<S, F>(
        &self,
        index: usize,
        chunk_events: usize,
        states: Vec<S>,
        f: F,
    ) -> Result<()>
    where
        S: Send,
        F: Fn(&[f64], S) + Sync + Send,
    {
        let info = self.dataset(index)?;
        let scales: Vec<_> = info.metadata.channels.iter().map(|c| c.scale).collect();
        info.layout.for_each_chunk(
            self.segment(info),
            info.event_count,
            chunk_events,
            &scales,
            states,
            f,
        )?;
        self.check_unchanged()
    }

    /// Folds over the events of a data set in parallel chunks of row-major
    /// `f64` stored values, without materialising the whole matrix.
    pub fn fold_raw<A, I, F, R>(&self, index: usize, identity: I, fold: F, reduce: R) -> Result<A>
    where
        A: Send,
        I: Fn() -> A + Sync + Send,
        F: Fn(A, &[f64]) -> A + Sync + Send,
        R: Fn(A, A) -> A + Sync + Send,
    {
        let info = self.dataset(index)?;
        let folded =
            info.layout
                .fold(self.segment(info), info.event_count, identity, fold, reduce)?;
        self.check_unchanged()?;
        Ok(folded)
    }
}

fn to_matrix<T>(values: Vec<T>, info: &DataSetInfo) -> Result<Array2<T>> {
    let channels = info.metadata.channels.len();
    Array2::from_shape_vec((info.event_count, channels), values)
        .map_err(|e| FcsError::Write(format!("event matrix shape: {e}")))
}

/// Converts a relative span to an absolute one that lies inside the file.
fn absolute(span: Span, start: u64, file_len: u64, segment: &'static str) -> Result<Span> {
    let begin = start.saturating_add(span.begin);
    let end = start.saturating_add(span.end);
    if span.end < span.begin || begin >= file_len {
        return Err(FcsError::Segment {
            segment,
            begin,
            end,
            message: format!("the file holds {file_len} bytes"),
        });
    }
    Ok(Span { begin, end })
}

/// Offsets stated as keywords (`$BEGINDATA`/`$ENDDATA` ...), if both parse.
fn keyword_span(keywords: &Keywords, begin: &str, end: &str, warnings: &mut Vec<String>) -> Span {
    match (count(keywords, begin), count(keywords, end)) {
        (Ok(Some(b)), Ok(Some(e))) => Span { begin: b, end: e },
        (Ok(None), _) | (_, Ok(None)) => Span::default(),
        _ => {
            warnings.push(format!("{begin}/{end} are not numbers; ignored"));
            Span::default()
        }
    }
}

/// Reads HEADER, TEXT, supplemental TEXT, ANALYSIS and chooses the DATA span
/// of the data set at `start`. Returns it with its relative $NEXTDATA.
fn read_dataset_info(bytes: &[u8], start: u64) -> Result<(DataSetInfo, Option<u64>)> {
    let file_len = bytes.len() as u64;
    let here = bytes.get(start as usize..).ok_or(FcsError::Header {
        offset: start,
        message: "data set starts beyond the end of the file".into(),
    })?;
    let header = parse_header(here).map_err(|e| match e {
        FcsError::Header { offset, message } => FcsError::Header {
            offset: offset + start,
            message,
        },
        other => other,
    })?;
    let mut warnings = Vec::new();
    if header.text.begin < HEADER_LEN as u64 {
        return Err(FcsError::Segment {
            segment: "TEXT",
            begin: header.text.begin,
            end: header.text.end,
            message: format!("TEXT must start after the {HEADER_LEN}-byte HEADER"),
        });
    }
    let mut text_span = absolute(header.text, start, file_len, "TEXT")?;
    if text_span.end >= file_len {
        warnings.push(format!(
            "TEXT end {} is beyond the file ({file_len} bytes); read to the end",
            text_span.end
        ));
        text_span.end = file_len - 1;
    }
    let text_bytes = &bytes[text_span.begin as usize..=text_span.end as usize];
    let mut keywords = parse_segment(text_bytes, text_span.begin, &mut warnings)?;
    let delimiter = text_bytes[0];

    let stext = keyword_span(&keywords, "$BEGINSTEXT", "$ENDSTEXT", &mut warnings);
    if stext.is_given() && stext.begin != header.text.begin {
        match absolute(stext, start, file_len, "supplemental TEXT") {
            Ok(s) if s.end < file_len => {
                let mut seg = &bytes[s.begin as usize..=s.end as usize];
                if seg.first() == Some(&delimiter) {
                    seg = &seg[1..];
                }
                match parse_pairs(seg, delimiter, s.begin, &mut warnings) {
                    Ok(extra) => {
                        for (k, v) in extra.iter() {
                            if keywords.contains(k) {
                                warnings.push(format!(
                                    "supplemental TEXT repeats {k}; the primary TEXT value is kept"
                                ));
                            } else {
                                keywords.set(k, v);
                            }
                        }
                    }
                    Err(e) => warnings.push(format!("supplemental TEXT ignored: {e}")),
                }
            }
            _ => warnings.push(format!(
                "supplemental TEXT [{}, {}] lies outside the file; ignored",
                stext.begin, stext.end
            )),
        }
    }

    let metadata = Metadata::from_keywords(header.version, &keywords, &mut warnings)?;
    let layouts = Layout::candidates(&metadata)?;
    let text_data = keyword_span(&keywords, "$BEGINDATA", "$ENDDATA", &mut warnings);
    let (data, event_count, layout) = choose_data(
        &header,
        text_data,
        &layouts,
        metadata.tot,
        start,
        bytes,
        &mut warnings,
    )?;

    let analysis_span = if header.analysis.is_given() {
        header.analysis
    } else {
        keyword_span(&keywords, "$BEGINANALYSIS", "$ENDANALYSIS", &mut warnings)
    };
    let mut analysis = Keywords::new();
    if analysis_span.is_given() {
        match absolute(analysis_span, start, file_len, "ANALYSIS") {
            Ok(s) if s.end < file_len => {
                match parse_segment(
                    &bytes[s.begin as usize..=s.end as usize],
                    s.begin,
                    &mut warnings,
                ) {
                    Ok(k) => analysis = k,
                    Err(e) => warnings.push(format!("ANALYSIS segment ignored: {e}")),
                }
            }
            _ => warnings.push(format!(
                "ANALYSIS segment [{}, {}] lies outside the file; ignored",
                analysis_span.begin, analysis_span.end
            )),
        }
    }

    let next = match count(&keywords, "$NEXTDATA") {
        Ok(Some(0)) | Ok(None) => None,
        Ok(Some(n)) => Some(n),
        Err(_) => {
            warnings.push("$NEXTDATA is not a number; further data sets ignored".into());
            None
        }
    };
    Ok((
        DataSetInfo {
            start,
            header,
            keywords,
            analysis,
            metadata,
            data,
            event_count,
            warnings,
            layout,
        },
        next,
    ))
}

/// Chooses where the events are and how many to read, recovering from the
/// inconsistencies real files carry (HEADER and TEXT offsets that disagree,
/// $ENDDATA off by one, $TOT that does not match the data length).
fn choose_data(
    header: &Header,
    text_data: Span,
    layouts: &[Layout],
    tot: Option<u64>,
    start: u64,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<(Span, usize, Layout)> {
    let file_len = bytes.len() as u64;
    let mut candidates: Vec<(&str, Span)> = Vec::new();
    if text_data.is_given() {
        candidates.push(("TEXT $BEGINDATA/$ENDDATA", text_data));
    }
    if header.data.is_given() && header.data != text_data {
        candidates.push(("HEADER", header.data));
    }
    let mut usable: Vec<(&str, Span)> = Vec::new();
    for (source, span) in &candidates {
        match absolute(*span, start, file_len, "DATA") {
            Ok(s) => usable.push((source, s)),
            Err(e) => warnings.push(format!("{source} DATA offsets unusable: {e}")),
        }
    }
    let Some(&(first_source, first_span)) = usable.first() else {
        if tot == Some(0) || candidates.is_empty() && tot.is_none() {
            let layout = layouts[0].clone();
            return Ok((Span::default(), 0, layout));
        }
        return Err(FcsError::Segment {
            segment: "DATA",
            begin: text_data.begin,
            end: text_data.end,
            message: "neither HEADER nor TEXT gives DATA offsets inside the file".into(),
        });
    };
    if candidates.len() > 1 && usable.len() > 1 {
        let (a, b) = (usable[0].1, usable[1].1);
        if a != b {
            warnings.push(format!(
                "HEADER DATA offsets [{}, {}] disagree with TEXT [{}, {}]",
                b.begin, b.end, a.begin, a.end
            ));
        }
    }
    let available = |s: Span| file_len - s.begin;

    // Delimited ASCII: the span is all we have.
    if layouts[0].event_bits().is_none() {
        let s = clamp_end(first_span, file_len, warnings);
        let data = &bytes[s.begin as usize..=s.end as usize];
        let found = layouts[0].count_delimited(data) as u64;
        let events = match tot {
            Some(t) if t <= found => t,
            Some(t) => {
                warnings.push(format!(
                    "$TOT is {t} but DATA holds {found} complete events; {found} read"
                ));
                found
            }
            None => found,
        };
        return Ok((s, events as usize, layouts[0].clone()));
    }

    if let Some(tot) = tot {
        // 1. A span whose length is exactly $TOT events.
        for layout in layouts {
            let Some(need) = layout.bytes_for(tot) else {
                continue;
            };
            for (source, s) in &usable {
                if s.len() == need && s.end < file_len {
                    if *source != first_source {
                        warnings.push(format!(
                            "DATA offsets of the {source} used: they match $TOT"
                        ));
                    }
                    note_packed(layout, warnings);
                    return Ok((*s, tot as usize, layout.clone()));
                }
            }
        }
        // 2. A span longer than $TOT events (often $ENDDATA off by one).
        for layout in layouts {
            let Some(need) = layout.bytes_for(tot) else {
                continue;
            };
            for (source, s) in &usable {
                if s.len() > need && need <= available(*s) {
                    warnings.push(format!(
                        "{source} DATA span [{}, {}] is {} bytes longer than {tot} events need; extra bytes ignored",
                        s.begin,
                        s.end,
                        s.len() - need
                    ));
                    note_packed(layout, warnings);
                    let span = Span {
                        begin: s.begin,
                        end: s.begin + need.max(1) - 1,
                    };
                    return Ok((span, tot as usize, layout.clone()));
                }
            }
        }
    }
    // 3. No exact fit: read the complete events the first span holds.
    let layout = &layouts[0];
    let s = clamp_end(first_span, file_len, warnings);
    let event_bytes = layout.bytes_for(1).unwrap_or(1).max(1);
    let found = if layout.is_packed() {
        s.len() * 8 / layout.event_bits().unwrap_or(1).max(1)
    } else {
        s.len() / event_bytes
    };
    match tot {
        Some(t) => warnings.push(format!(
            "$TOT is {t} but the DATA segment holds {found} complete events; {found} read"
        )),
        None => {
            warnings.push(format!(
                "$TOT is missing; {found} events derived from the DATA length"
            ));
            if !s.len().is_multiple_of(event_bytes) {
                warnings.push(format!(
                    "DATA length {} is not a multiple of the {event_bytes}-byte event; trailing bytes ignored",
                    s.len()
                ));
            }
        }
    }
    Ok((s, found as usize, layout.clone()))
}

fn note_packed(layout: &Layout, warnings: &mut Vec<String>) {
    if layout.is_packed() {
        warnings.push("integer values are bit-packed (widths not whole bytes)".into());
    }
}

fn clamp_end(s: Span, file_len: u64, warnings: &mut Vec<String>) -> Span {
    if s.end >= file_len {
        warnings.push(format!(
            "DATA end {} is beyond the file ({file_len} bytes); truncated data read",
            s.end
        ));
        Span {
            begin: s.begin,
            end: file_len - 1,
        }
    } else {
        s
    }
}
