//! The DATA segment: how one event is laid out in bytes, and fast decoding of
//! many events at once (in parallel, without per-event allocation).

use super::error::{FcsError, Result};
use super::metadata::{Bits, DataType, Metadata, Scale};
use rayon::prelude::*;

/// Events decoded per parallel task.
const CHUNK_EVENTS: usize = 1 << 12;

/// A numeric type events can be decoded into.
pub trait Sample: Copy + Send + Sync + Default + 'static {
    /// From an unsigned integer value.
    fn from_u64(v: u64) -> Self;
    /// From a single-precision value.
    fn from_f32(v: f32) -> Self;
    /// From a double-precision value.
    fn from_f64(v: f64) -> Self;
    /// As a double.
    fn to_f64(self) -> f64;
}

impl Sample for f32 {
    #[inline]
    fn from_u64(v: u64) -> Self {
        v as f32
    }
    #[inline]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Sample for f64 {
    #[inline]
    fn from_u64(v: u64) -> Self {
        v as f64
    }
    #[inline]
    fn from_f32(v: f32) -> Self {
        v as f64
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

/// The bytes of a DATA segment: in memory (mapped or read), or still in
/// the open file, read piece by piece as they are decoded.
#[derive(Clone, Copy)]
pub enum Segment<'a> {
    /// The segment's bytes.
    Memory(&'a [u8]),
    /// `len` bytes of `file` from offset `begin`.
    File {
        /// The open file.
        file: &'a std::fs::File,
        /// Offset of the segment's first byte.
        begin: u64,
        /// Bytes in the segment.
        len: usize,
    },
}

impl Segment<'_> {
    /// Bytes in the segment.
    pub fn len(&self) -> usize {
        match self {
            Segment::Memory(m) => m.len(),
            Segment::File { len, .. } => *len,
        }
    }

    /// Bytes `begin..end` of the segment (clamped to it), borrowed, or
    /// read into `buf`.
    pub fn bytes<'b>(&'b self, begin: usize, end: usize, buf: &'b mut Vec<u8>) -> Result<&'b [u8]> {
        let end = end.min(self.len());
        let begin = begin.min(end);
        match self {
            Segment::Memory(m) => Ok(&m[begin..end]),
            Segment::File {
                file, begin: at, ..
            } => {
                buf.resize(end - begin, 0);
                read_at(file, buf, at + begin as u64)?;
                Ok(buf)
            }
        }
    }
}

/// Fills `buf` from `file` at `offset`; a file shorter than it was when
/// opened is [`FcsError::Changed`].
pub(super) fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> Result<()> {
    #[cfg(unix)]
    let read = std::os::unix::fs::FileExt::read_exact_at(file, buf, offset);
    #[cfg(not(unix))]
    let read = {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))
            .and_then(|_| f.read_exact(buf))
    };
    read.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FcsError::Changed(format!(
            "{} bytes at offset {offset} are no longer in the file",
            buf.len()
        )),
        _ => e.into(),
    })
}

/// What [`Layout::in_runs`] decodes: `events` events of `data` in chunks of
/// `chunk_events`, converted by `scales` if given.
#[derive(Clone, Copy)]
struct Chunking<'a> {
    data: Segment<'a>,
    events: usize,
    chunk_events: usize,
    scales: Option<&'a [Scale]>,
}

/// Byte significance of a stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first (`1,2,3,4`).
    Little,
    /// Most significant byte first (`4,3,2,1`).
    Big,
    /// Any other order (FCS 2.0, e.g. `3,4,1,2`): `significance[i]` is the
    /// power of 256 of the i-th stored byte.
    Mixed(Vec<u8>),
}

impl ByteOrder {
    /// Parses $BYTEORD.
    pub fn parse(value: &str) -> Result<ByteOrder> {
        let invalid = || FcsError::InvalidKeyword {
            keyword: "$BYTEORD".into(),
            value: value.to_string(),
            expected: "a permutation of 1..n such as 1,2,3,4 or 4,3,2,1".into(),
        };
        let digits: Vec<u8> = value
            .split(',')
            .map(|d| d.trim().parse::<u8>().map_err(|_| invalid()))
            .collect::<Result<_>>()?;
        let n = digits.len();
        if n == 0 || n > 8 {
            return Err(invalid());
        }
        let mut seen = [false; 8];
        for &d in &digits {
            if d == 0 || d as usize > n || seen[d as usize - 1] {
                return Err(invalid());
            }
            seen[d as usize - 1] = true;
        }
        if digits.iter().enumerate().all(|(i, &d)| d as usize == i + 1) {
            Ok(ByteOrder::Little)
        } else if digits.iter().enumerate().all(|(i, &d)| d as usize == n - i) {
            Ok(ByteOrder::Big)
        } else {
            Ok(ByteOrder::Mixed(digits.iter().map(|d| d - 1).collect()))
        }
    }

    fn is_little(&self) -> bool {
        matches!(self, ByteOrder::Little)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    /// Unsigned integer of `width` bytes, masked.
    Uint {
        width: usize,
        mask: u64,
    },
    F32,
    F64,
    /// ASCII digits, `width` characters.
    Ascii {
        width: usize,
    },
}

impl Field {
    fn width(self) -> usize {
        match self {
            Field::Uint { width, .. } | Field::Ascii { width } => width,
            Field::F32 => 4,
            Field::F64 => 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Byte-aligned fields; `uniform` when all fields are the same.
    Fixed {
        fields: Vec<Field>,
        uniform: Option<Field>,
    },
    /// Integer fields packed without byte alignment (bits per field).
    Packed { bits: Vec<u32>, masks: Vec<u64> },
    /// ASCII values separated by delimiters ($PnB `*`).
    Delimited,
}

/// How the events of a data set are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    kind: Kind,
    order: ByteOrder,
    channels: usize,
}

/// Mask that keeps the bits a channel's range can use (`$PnR` rounded up to a
/// power of two), within `bits` bits.
fn range_mask(range: f64, bits: u32) -> u64 {
    let full = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    if range >= 1.0 && range <= full as f64 + 1.0 {
        let needed = (range.log2().ceil() as u32).min(64);
        let mask = if needed >= 64 {
            u64::MAX
        } else {
            (1u64 << needed) - 1
        };
        if mask == 0 { full } else { mask & full }
    } else {
        full
    }
}

impl Layout {
    /// The layouts that can describe this data set, best first: byte-aligned
    /// storage, then (for integer widths that are not whole bytes) bit-packed.
    pub fn candidates(meta: &Metadata) -> Result<Vec<Layout>> {
        let order = match meta.datatype {
            DataType::Ascii => ByteOrder::Little,
            _ => ByteOrder::parse(&meta.byteord)?,
        };
        let channels = meta.channels.len();
        let mut fields = Vec::with_capacity(channels);
        let mut packed_bits = Vec::new();
        for c in &meta.channels {
            let key = format!("$P{}B", c.number);
            let bits = match c.bits {
                Bits::Delimited if meta.datatype == DataType::Ascii => {
                    return Ok(vec![Layout {
                        kind: Kind::Delimited,
                        order,
                        channels,
                    }]);
                }
                Bits::Delimited => {
                    return Err(FcsError::InvalidKeyword {
                        keyword: key,
                        value: "*".into(),
                        expected: "a bit count (* is for ASCII data)".into(),
                    });
                }
                Bits::Fixed(b) => b,
            };
            let field = match meta.datatype {
                DataType::Integer => {
                    packed_bits.push(bits);
                    Field::Uint {
                        width: bits.div_ceil(8) as usize,
                        mask: range_mask(c.range, bits),
                    }
                }
                DataType::Float if bits == 32 => Field::F32,
                DataType::Double if bits == 64 => Field::F64,
                DataType::Ascii => Field::Ascii {
                    width: bits as usize,
                },
                other => {
                    return Err(FcsError::InvalidKeyword {
                        keyword: key,
                        value: bits.to_string(),
                        expected: format!(
                            "{} for $DATATYPE {}",
                            if other == DataType::Float { 32 } else { 64 },
                            other.code()
                        ),
                    });
                }
            };
            if let (Field::Uint { width, .. }, ByteOrder::Mixed(sig)) = (field, &order)
                && sig.len() != width
            {
                return Err(FcsError::Unsupported(format!(
                    "$BYTEORD {} with {bits}-bit values",
                    meta.byteord
                )));
            }
            fields.push(field);
        }
        let uniform = fields
            .first()
            .copied()
            .filter(|f| fields.iter().all(|g| g == f) && matches!(f, Field::F32 | Field::F64));
        let uniform = uniform.or_else(|| {
            let w = fields.first()?.width();
            fields
                .iter()
                .all(|f| matches!(f, Field::Uint { width, .. } if *width == w))
                .then_some(Field::Uint { width: w, mask: 0 })
        });
        let mut layouts = vec![Layout {
            kind: Kind::Fixed {
                fields: fields.clone(),
                uniform,
            },
            order: order.clone(),
            channels,
        }];
        if packed_bits.iter().any(|b| b % 8 != 0) {
            let masks = fields
                .iter()
                .map(|f| match f {
                    Field::Uint { mask, .. } => *mask,
                    _ => u64::MAX,
                })
                .collect();
            layouts.push(Layout {
                kind: Kind::Packed {
                    bits: packed_bits,
                    masks,
                },
                order,
                channels,
            });
        }
        Ok(layouts)
    }

    /// Bits one event occupies, `None` for delimited ASCII.
    pub fn event_bits(&self) -> Option<u64> {
        match &self.kind {
            Kind::Fixed { fields, .. } => Some(fields.iter().map(|f| f.width() as u64 * 8).sum()),
            Kind::Packed { bits, .. } => Some(bits.iter().map(|&b| b as u64).sum()),
            Kind::Delimited => None,
        }
    }

    /// Whether values are bit-packed.
    pub fn is_packed(&self) -> bool {
        matches!(self.kind, Kind::Packed { .. })
    }

    /// Bytes holding `events` events (rounded up to whole bytes).
    pub fn bytes_for(&self, events: u64) -> Option<u64> {
        self.event_bits()
            .and_then(|b| b.checked_mul(events))
            .map(|bits| bits.div_ceil(8))
    }

    /// Decodes `events` events of `data` into a row-major vector, in parallel.
    pub fn decode<T: Sample>(&self, data: &[u8], events: usize) -> Result<Vec<T>> {
        let mut out = crate::memory::filled_vec::<T>(events * self.channels);
        if let Kind::Delimited = self.kind {
            self.decode_delimited(data, &mut out)?;
            return Ok(out);
        }
        let chunk_bytes = self.chunk_bytes();
        out.par_chunks_mut(CHUNK_EVENTS * self.channels)
            .zip(data.par_chunks(chunk_bytes))
            .for_each(|(out, bytes)| self.decode_chunk(bytes, out));
        Ok(out)
    }

    /// Decodes into `f32` channel values: each chunk is decoded in `f64`,
    /// converted with `scales`, then narrowed, so no `f64` copy of the whole
    /// data set is ever made.
    pub fn decode_scaled(&self, data: &[u8], events: usize, scales: &[Scale]) -> Result<Vec<f32>> {
        if scales.iter().all(|s| s.is_identity()) {
            return self.decode::<f32>(data, events);
        }
        if let Kind::Delimited = self.kind {
            let mut all = self.decode::<f64>(data, events)?;
            scale_rows(&mut all, scales);
            return Ok(all.into_iter().map(|v| v as f32).collect());
        }
        let mut out = crate::memory::filled_vec::<f32>(events * self.channels);
        let states: Vec<&mut [f32]> = out.chunks_mut(CHUNK_EVENTS * self.channels).collect();
        self.for_each_chunk(
            Segment::Memory(data),
            events,
            CHUNK_EVENTS,
            scales,
            states,
            |rows, out| {
                for (o, v) in out.iter_mut().zip(rows) {
                    *o = *v as f32;
                }
            },
        )?;
        Ok(out)
    }

    /// Visits the events in parallel chunks of `chunk_events` (a multiple of
    /// 8) as row-major `f64` channel values (`scales` applied), handing chunk
    /// `i` its own `states[i]` (e.g. the output slices it fills).
    pub fn for_each_chunk<S, F>(
        &self,
        data: Segment<'_>,
        events: usize,
        chunk_events: usize,
        scales: &[Scale],
        states: Vec<S>,
        f: F,
    ) -> Result<()>
    where
        S: Send,
        F: Fn(&[f64], S) + Sync + Send,
    {
        self.in_runs(
            Chunking {
                data,
                events,
                chunk_events,
                scales: Some(scales),
            },
            states,
            || (),
            |(), rows, state| f(rows, state),
        )?;
        Ok(())
    }

    /// The one parallel driver of chunked decoding: chunk `i` (of
    /// `chunk_events` events, a multiple of 8) is decoded to row-major `f64`
    /// (with `scales` applied if given) and handed to `work` with `states[i]`.
    /// Chunks are grouped in a few contiguous runs per thread; each run
    /// reuses one decode buffer and folds its own accumulator from `init`.
    fn in_runs<S, A, I, W>(
        &self,
        job: Chunking<'_>,
        states: Vec<S>,
        init: I,
        work: W,
    ) -> Result<Vec<A>>
    where
        S: Send,
        A: Send,
        I: Fn() -> A + Sync + Send,
        W: Fn(A, &[f64], S) -> A + Sync + Send,
    {
        let Chunking {
            data,
            events,
            chunk_events,
            scales,
        } = job;
        let p = self.channels;
        if let Kind::Delimited = self.kind {
            let mut whole = Vec::new();
            let data = data.bytes(0, data.len(), &mut whole)?;
            let mut all = self.decode::<f64>(data, events)?;
            if let Some(scales) = scales {
                scale_rows(&mut all, scales);
            }
            let mut acc = init();
            for (i, state) in states.into_iter().enumerate() {
                let begin = (i * chunk_events * p).min(all.len());
                let end = ((i + 1) * chunk_events * p).min(all.len());
                acc = work(acc, &all[begin..end], state);
            }
            return Ok(vec![acc]);
        }
        let chunk_bytes = self.bytes_for(chunk_events as u64).unwrap_or(1).max(1) as usize;
        let used = (self.bytes_for(events as u64).unwrap_or(0) as usize).min(data.len());
        let chunks = states.len();
        let runs = (rayon::current_num_threads() * 4).clamp(1, chunks.max(1));
        let per_run = chunks.div_ceil(runs).max(1);
        let mut grouped: Vec<Vec<(usize, S)>> = (0..runs).map(|_| Vec::new()).collect();
        for (i, state) in states.into_iter().enumerate() {
            grouped[i / per_run].push((i, state));
        }
        grouped
            .into_par_iter()
            .map(|run| {
                let mut acc = init();
                let (mut buf, mut raw): (Vec<f64>, Vec<u8>) = (Vec::new(), Vec::new());
                for (i, state) in run {
                    let n = events.saturating_sub(i * chunk_events).min(chunk_events);
                    let begin = (i * chunk_bytes).min(used);
                    let bytes = data.bytes(begin, (begin + chunk_bytes).min(used), &mut raw)?;
                    buf.resize(n * p, 0.0);
                    self.decode_chunk(bytes, &mut buf);
                    if let Some(scales) = scales {
                        scale_rows(&mut buf, scales);
                    }
                    acc = work(acc, &buf, state);
                }
                Ok(acc)
            })
            .collect()
    }

    /// Decodes events `first..first + count` (of `total`) into a row-major
    /// vector. Bit-packed data is decoded from the enclosing byte boundary.
    pub fn decode_range<T: Sample>(
        &self,
        data: &[u8],
        total: usize,
        first: usize,
        count: usize,
    ) -> Result<Vec<T>> {
        let p = self.channels;
        match &self.kind {
            Kind::Delimited => {
                let all = self.decode::<T>(data, total)?;
                Ok(all[first * p..(first + count) * p].to_vec())
            }
            Kind::Fixed { .. } => {
                let row = self.bytes_for(1).unwrap_or(0) as usize;
                let begin = (first * row).min(data.len());
                let end = ((first + count) * row).min(data.len());
                self.decode(&data[begin..end], count)
            }
            Kind::Packed { .. } => {
                let aligned = first - first % 8;
                let begin = (self.bytes_for(aligned as u64).unwrap_or(0) as usize).min(data.len());
                let n = first + count - aligned;
                let end = (begin + self.bytes_for(n as u64).unwrap_or(0) as usize).min(data.len());
                let all = self.decode::<T>(&data[begin..end], n)?;
                Ok(all[(first - aligned) * p..].to_vec())
            }
        }
    }

    /// Decodes the events in parallel chunks and folds each chunk with `fold`,
    /// combining partial results with `reduce`; nothing the size of the whole
    /// data set is allocated.
    pub fn fold<A, I, F, R>(
        &self,
        data: Segment<'_>,
        events: usize,
        identity: I,
        fold: F,
        reduce: R,
    ) -> Result<A>
    where
        A: Send,
        I: Fn() -> A + Sync + Send,
        F: Fn(A, &[f64]) -> A + Sync + Send,
        R: Fn(A, A) -> A + Sync + Send,
    {
        let chunks = events.div_ceil(CHUNK_EVENTS);
        let partial = self.in_runs(
            Chunking {
                data,
                events,
                chunk_events: CHUNK_EVENTS,
                scales: None,
            },
            vec![(); chunks],
            &identity,
            |acc, rows, ()| fold(acc, rows),
        )?;
        Ok(partial.into_iter().fold(identity(), reduce))
    }

    fn chunk_bytes(&self) -> usize {
        // CHUNK_EVENTS is a multiple of 8, so packed chunks end on a byte.
        self.bytes_for(CHUNK_EVENTS as u64).unwrap_or(1).max(1) as usize
    }

    /// Decodes the whole events in `bytes` into `out` (row-major).
    fn decode_chunk<T: Sample>(&self, bytes: &[u8], out: &mut [T]) {
        match &self.kind {
            Kind::Fixed { fields, uniform } => {
                self.decode_fixed(fields, *uniform, bytes, out);
            }
            Kind::Packed { bits, masks } => self.decode_packed(bits, masks, bytes, out),
            Kind::Delimited => {}
        }
    }

    fn decode_fixed<T: Sample>(
        &self,
        fields: &[Field],
        uniform: Option<Field>,
        bytes: &[u8],
        out: &mut [T],
    ) {
        let little = self.order.is_little();
        match uniform {
            Some(Field::F32) if little => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = T::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                }
            }
            Some(Field::F32) => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = T::from_f32(f32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                }
            }
            Some(Field::F64) => {
                for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                    let b = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
                    let v = if little {
                        f64::from_le_bytes(b)
                    } else {
                        f64::from_be_bytes(b)
                    };
                    *o = T::from_f64(v);
                }
            }
            Some(Field::Uint { width: 2, .. }) if !matches!(self.order, ByteOrder::Mixed(_)) => {
                let masks: Vec<u64> = fields.iter().map(field_mask).collect();
                let row = 2 * fields.len();
                for (o, r) in out
                    .chunks_exact_mut(fields.len())
                    .zip(bytes.chunks_exact(row))
                {
                    for ((o, c), m) in o.iter_mut().zip(r.chunks_exact(2)).zip(&masks) {
                        let v = if little {
                            u16::from_le_bytes([c[0], c[1]])
                        } else {
                            u16::from_be_bytes([c[0], c[1]])
                        };
                        *o = T::from_u64(v as u64 & m);
                    }
                }
            }
            _ => {
                let row: usize = fields.iter().map(|f| f.width()).sum();
                if row == 0 {
                    return;
                }
                for (o, r) in out
                    .chunks_exact_mut(fields.len())
                    .zip(bytes.chunks_exact(row))
                {
                    let mut at = 0;
                    for (o, f) in o.iter_mut().zip(fields) {
                        let w = f.width();
                        let c = &r[at..at + w];
                        *o = self.field_value(*f, c);
                        at += w;
                    }
                }
            }
        }
    }

    #[inline]
    fn field_value<T: Sample>(&self, field: Field, c: &[u8]) -> T {
        let little = self.order.is_little();
        match field {
            Field::Uint { mask, .. } => T::from_u64(read_uint(c, &self.order) & mask),
            Field::F32 => {
                let b = [c[0], c[1], c[2], c[3]];
                T::from_f32(if little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                })
            }
            Field::F64 => {
                let b = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
                T::from_f64(if little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                })
            }
            Field::Ascii { .. } => T::from_f64(parse_ascii(c)),
        }
    }

    fn decode_packed<T: Sample>(&self, bits: &[u32], masks: &[u64], bytes: &[u8], out: &mut [T]) {
        let little = self.order.is_little();
        let total_bits = bytes.len() as u64 * 8;
        let mut pos = 0u64;
        for (o, (&b, &m)) in out.iter_mut().zip(bits.iter().zip(masks).cycle()) {
            if pos + b as u64 > total_bits {
                break;
            }
            let mut v = 0u64;
            for k in 0..b as u64 {
                let p = pos + k;
                let byte = bytes[(p / 8) as usize];
                let bit = if little {
                    (byte >> (p % 8)) & 1
                } else {
                    (byte >> (7 - p % 8)) & 1
                };
                if little {
                    v |= (bit as u64) << k;
                } else {
                    v = (v << 1) | bit as u64;
                }
            }
            *o = T::from_u64(v & m);
            pos += b as u64;
        }
    }

    fn decode_delimited<T: Sample>(&self, data: &[u8], out: &mut [T]) -> Result<()> {
        let mut tokens = data
            .split(|b| matches!(b, b' ' | b'\t' | b',' | b'\r' | b'\n' | 0))
            .filter(|t| !t.is_empty());
        for (i, o) in out.iter_mut().enumerate() {
            let token = tokens.next().ok_or_else(|| FcsError::Segment {
                segment: "DATA",
                begin: 0,
                end: data.len() as u64,
                message: format!(
                    "delimited ASCII data ends after {i} values; $TOT x $PAR needs {}",
                    self.channels * (i / self.channels.max(1) + 1)
                ),
            })?;
            *o = T::from_f64(parse_ascii(token));
        }
        Ok(())
    }

    /// Number of complete events in delimited ASCII data.
    pub fn count_delimited(&self, data: &[u8]) -> usize {
        let values = data
            .split(|b| matches!(b, b' ' | b'\t' | b',' | b'\r' | b'\n' | 0))
            .filter(|t| !t.is_empty())
            .count();
        values / self.channels.max(1)
    }
}

fn field_mask(f: &Field) -> u64 {
    match f {
        Field::Uint { mask, .. } => *mask,
        _ => u64::MAX,
    }
}

#[inline]
fn read_uint(c: &[u8], order: &ByteOrder) -> u64 {
    match order {
        ByteOrder::Little => c.iter().rev().fold(0u64, |v, &b| (v << 8) | b as u64),
        ByteOrder::Big => c.iter().fold(0u64, |v, &b| (v << 8) | b as u64),
        ByteOrder::Mixed(sig) => c
            .iter()
            .zip(sig)
            .fold(0u64, |v, (&b, &s)| v | (b as u64) << (8 * s as u32)),
    }
}

/// Parses ASCII digits; a field that is not a number becomes NaN.
fn parse_ascii(c: &[u8]) -> f64 {
    std::str::from_utf8(c)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// Applies per-channel scales to a row-major buffer of `scales.len()`
/// columns; channels whose scale is the identity are not touched.
pub fn scale_rows(values: &mut [f64], scales: &[Scale]) {
    let active: Vec<(usize, Scale)> = scales
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_identity())
        .map(|(j, s)| (j, *s))
        .collect();
    if active.is_empty() {
        return;
    }
    for row in values.chunks_exact_mut(scales.len()) {
        for &(j, s) in &active {
            row[j] = s.apply(row[j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_orders() {
        assert_eq!(ByteOrder::parse("1,2,3,4").ok(), Some(ByteOrder::Little));
        assert_eq!(ByteOrder::parse("2,1").ok(), Some(ByteOrder::Big));
        assert_eq!(
            ByteOrder::parse("3,4,1,2").ok(),
            Some(ByteOrder::Mixed(vec![2, 3, 0, 1]))
        );
        assert!(ByteOrder::parse("1,1").is_err());
        assert!(ByteOrder::parse("").is_err());
        let mixed = ByteOrder::Mixed(vec![2, 3, 0, 1]);
        assert_eq!(read_uint(&[0x03, 0x04, 0x01, 0x02], &mixed), 0x0403_0201);
    }

    #[test]
    fn masks_follow_range() {
        assert_eq!(range_mask(1024.0, 16), 1023);
        assert_eq!(range_mask(1000.0, 16), 1023);
        assert_eq!(range_mask(1_048_576.0, 32), 0xF_FFFF);
        assert_eq!(range_mask(0.0, 16), 0xFFFF);
        assert_eq!(range_mask(1e12, 16), 0xFFFF);
    }
}
