//! The byte layout of a journal segment: its header and its records.
//!
//! Everything here is pure: encoding writes into a caller's buffer, decoding reads from a
//! caller's slice and reports defects as small `Copy` values. Files and policies (what a defect
//! means at a given place) live in `segment.rs`, `reader.rs` and `writer.rs`.
//!
//! All integers are little-endian. Layouts are listed in `docs/journal.md` and in the constants'
//! docs below.

use crate::journal::error::{HeaderDefect, RecordDefect};

/// The first eight bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"BIRZHAJL";

/// The on-disk format version written into every segment header. Readers refuse any other.
pub const FORMAT_VERSION: u16 = 1;

/// The size of a segment header in bytes.
///
/// Layout: magic `[u8; 8]`, format version `u16`, reserved `u16` (zero), shard id `u32`, first
/// sequence number `u64`, reserved `u32` (zero), CRC32C of the preceding 28 bytes `u32`.
pub const SEGMENT_HEADER_SIZE: usize = 32;

/// The size of a record's fixed part (everything but the payload) in bytes.
///
/// Layout: CRC32C `u32` of every byte after it (size included), record size `u32` (this header
/// plus the payload), sequence number `u64`, timestamp `u64` (ns since the Unix epoch), kind
/// `u16`, then the payload.
pub const RECORD_HEADER_SIZE: usize = 26;

const _: () = assert!(SEGMENT_HEADER_SIZE.is_multiple_of(8));
const _: () = assert!(RECORD_HEADER_SIZE == 4 + 4 + 8 + 8 + 2);

/// One journal record, borrowed from the reader's buffer.
///
/// A record is exactly what the caller appended: the journal gives `kind` and `payload` no
/// meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The sequence number: records of one journal are numbered consecutively.
    pub seq: u64,
    /// The time the sequencer stamped on the input, in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The caller's tag for the payload's encoding (for example, the input variant).
    pub kind: u16,
    /// The caller's encoded input.
    pub payload: &'a [u8],
}

/// A decoded segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    /// The shard whose inputs this journal holds.
    pub(crate) shard_id: u32,
    /// The sequence number of the segment's first record (or of the next record to be written,
    /// while the segment is empty).
    pub(crate) seq_first: u64,
}

impl SegmentHeader {
    /// Returns the header's bytes.
    pub(crate) fn encode(&self) -> [u8; SEGMENT_HEADER_SIZE] {
        let mut bytes = [0_u8; SEGMENT_HEADER_SIZE];
        bytes[0..8].copy_from_slice(&SEGMENT_MAGIC);
        bytes[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.shard_id.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.seq_first.to_le_bytes());
        let checksum = crc32c::crc32c(&bytes[0..28]);
        bytes[28..32].copy_from_slice(&checksum.to_le_bytes());
        debug_assert_eq!(Self::decode(&bytes), Ok(*self), "Invariant: header round trip");
        bytes
    }

    /// Decodes the header at the start of `bytes`.
    ///
    /// # Errors
    ///
    /// Returns the first defect found: too few bytes, wrong magic, a checksum mismatch, an
    /// unknown version or non-zero reserved bytes. The checksum is verified before the version,
    /// so a damaged version field reads as damage, not as a newer format.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, HeaderDefect> {
        let Some(header) = bytes.get(..SEGMENT_HEADER_SIZE) else {
            return Err(HeaderDefect::TooShort { size: bytes.len() as u64 });
        };
        if header[0..8] != SEGMENT_MAGIC {
            return Err(HeaderDefect::Magic);
        }
        let stored = u32_at(header, 28);
        let computed = crc32c::crc32c(&header[0..28]);
        if stored != computed {
            return Err(HeaderDefect::Checksum { stored, computed });
        }
        let version = u16_at(header, 8);
        if version != FORMAT_VERSION {
            return Err(HeaderDefect::Version { found: version, supported: FORMAT_VERSION });
        }
        if u16_at(header, 10) != 0 || u32_at(header, 24) != 0 {
            return Err(HeaderDefect::ReservedNonZero);
        }
        Ok(Self { shard_id: u32_at(header, 12), seq_first: u64_at(header, 16) })
    }
}

/// Appends one encoded record to `buffer` and returns its size in bytes.
///
/// The caller has checked the size against its limits; this function never allocates if
/// `buffer` has the capacity.
///
/// # Panics
///
/// Panics if the record's size does not fit the `u32` size field (the caller's limits make
/// that a bug).
pub(crate) fn record_encode(
    buffer: &mut Vec<u8>,
    seq: u64,
    timestamp_ns: u64,
    kind: u16,
    payload: &[u8],
) -> usize {
    let size = RECORD_HEADER_SIZE + payload.len();
    let size_field = u32::try_from(size).expect("Invariant: record size fits the u32 size field");
    let start = buffer.len();
    buffer.extend_from_slice(&[0_u8; 4]);
    buffer.extend_from_slice(&size_field.to_le_bytes());
    buffer.extend_from_slice(&seq.to_le_bytes());
    buffer.extend_from_slice(&timestamp_ns.to_le_bytes());
    buffer.extend_from_slice(&kind.to_le_bytes());
    buffer.extend_from_slice(payload);
    let checksum = crc32c::crc32c(&buffer[start + 4..]);
    buffer[start..start + 4].copy_from_slice(&checksum.to_le_bytes());
    assert_eq!(buffer.len() - start, size, "Invariant: encoded size equals the size field");
    size
}

/// Decodes the record that starts at `offset` in `bytes`.
///
/// Returns the record and its size in bytes. The checksum is verified; the sequence number is
/// not (that is the caller's policy).
///
/// # Errors
///
/// Returns the defect that makes the bytes at `offset` not a record: too few bytes for the
/// fixed part, a size field outside `RECORD_HEADER_SIZE..=record_size_max`, a size running past
/// the end of `bytes`, or a checksum mismatch.
pub(crate) fn record_decode(
    bytes: &[u8],
    offset: usize,
    record_size_max: u32,
) -> Result<(Record<'_>, usize), RecordDefect> {
    let available = bytes.len().saturating_sub(offset);
    let Some(fixed) = bytes.get(offset..offset + RECORD_HEADER_SIZE) else {
        return Err(RecordDefect::TooShort { available: available as u64 });
    };
    let size = u32_at(fixed, 4);
    if (size as usize) < RECORD_HEADER_SIZE || size > record_size_max {
        return Err(RecordDefect::SizeOutOfRange { size, size_max: record_size_max });
    }
    let Some(record) = bytes.get(offset..offset + size as usize) else {
        return Err(RecordDefect::Truncated { size, available: available as u64 });
    };
    let stored = u32_at(record, 0);
    let computed = crc32c::crc32c(&record[4..]);
    if stored != computed {
        return Err(RecordDefect::Checksum { stored, computed });
    }
    Ok((record_view(record), size as usize))
}

/// Reads the fields of a record already checked by [`record_decode`]: `bytes` is exactly that
/// record.
pub(crate) fn record_view(bytes: &[u8]) -> Record<'_> {
    assert!(bytes.len() >= RECORD_HEADER_SIZE, "Invariant: a record holds its fixed part");
    debug_assert_eq!(u32_at(bytes, 4) as usize, bytes.len(), "Invariant: the size field");
    Record {
        seq: u64_at(bytes, 8),
        timestamp_ns: u64_at(bytes, 16),
        kind: u16_at(bytes, 24),
        payload: &bytes[RECORD_HEADER_SIZE..],
    }
}

/// Returns the offset of the first complete, checksum-valid record numbered above `seq_damaged`
/// that starts after `offset`, if any: the test that tells a torn tail (nothing valid follows)
/// from damage in the middle.
///
/// Every byte position is tried, since a damaged size field gives no hint where the next record
/// starts. Most positions fail on the size check before any checksum is computed. A record
/// numbered `seq_damaged` or lower cannot follow the damaged one: such an image is part of a
/// payload (payloads are opaque bytes), so it does not count.
pub(crate) fn record_valid_after(
    bytes: &[u8],
    offset: usize,
    seq_damaged: u64,
    record_size_max: u32,
) -> Option<usize> {
    let end = bytes.len().checked_sub(RECORD_HEADER_SIZE)?;
    (offset + 1..=end).find(|&candidate| {
        record_decode(bytes, candidate, record_size_max)
            .is_ok_and(|(record, _)| record.seq > seq_damaged)
    })
}

/// Reads the little-endian `u16` at `offset`; the caller has checked the bounds.
fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    let mut field = [0_u8; 2];
    field.copy_from_slice(&bytes[offset..offset + 2]);
    u16::from_le_bytes(field)
}

/// Reads the little-endian `u32` at `offset`; the caller has checked the bounds.
fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let mut field = [0_u8; 4];
    field.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(field)
}

/// Reads the little-endian `u64` at `offset`; the caller has checked the bounds.
fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut field = [0_u8; 8];
    field.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE_MAX: u32 = 1024;

    #[test]
    fn header_round_trip() {
        let header = SegmentHeader { shard_id: 7, seq_first: 1_000_001 };
        let bytes = header.encode();
        assert_eq!(&bytes[0..8], b"BIRZHAJL");
        assert_eq!(SegmentHeader::decode(&bytes), Ok(header));
    }

    #[test]
    fn header_defects() {
        let bytes = SegmentHeader { shard_id: 1, seq_first: 1 }.encode();
        assert_eq!(SegmentHeader::decode(&bytes[..31]), Err(HeaderDefect::TooShort { size: 31 }));
        let mut magic = bytes;
        magic[0] ^= 1;
        assert_eq!(SegmentHeader::decode(&magic), Err(HeaderDefect::Magic));
        for index in 8..SEGMENT_HEADER_SIZE {
            let mut flipped = bytes;
            flipped[index] ^= 0x40;
            let defect = SegmentHeader::decode(&flipped).unwrap_err();
            assert!(matches!(defect, HeaderDefect::Checksum { .. }), "byte {index}: {defect:?}");
        }
    }

    #[test]
    fn record_round_trip() {
        let mut buffer = Vec::new();
        let size = record_encode(&mut buffer, 42, 1_700_000_000_000_000_000, 3, b"payload");
        assert_eq!(size, RECORD_HEADER_SIZE + 7);
        record_encode(&mut buffer, 43, 5, 0, b"");
        let (first, first_size) = record_decode(&buffer, 0, SIZE_MAX).unwrap();
        assert_eq!(first_size, size);
        assert_eq!(
            first,
            Record {
                seq: 42,
                timestamp_ns: 1_700_000_000_000_000_000,
                kind: 3,
                payload: b"payload"
            }
        );
        let (second, second_size) = record_decode(&buffer, size, SIZE_MAX).unwrap();
        assert_eq!(second_size, RECORD_HEADER_SIZE);
        assert_eq!(second, Record { seq: 43, timestamp_ns: 5, kind: 0, payload: b"" });
    }

    #[test]
    fn record_every_flipped_byte_is_a_defect() {
        let mut buffer = Vec::new();
        record_encode(&mut buffer, 9, 9, 9, b"0123456789");
        for index in 0..buffer.len() {
            let mut flipped = buffer.clone();
            flipped[index] ^= 0x01;
            assert!(record_decode(&flipped, 0, SIZE_MAX).is_err(), "byte {index} flipped");
        }
    }

    #[test]
    fn record_every_truncation_is_a_defect() {
        let mut buffer = Vec::new();
        record_encode(&mut buffer, 9, 9, 9, b"0123456789");
        for length in 0..buffer.len() {
            let defect = record_decode(&buffer[..length], 0, SIZE_MAX).unwrap_err();
            if length < RECORD_HEADER_SIZE {
                assert_eq!(defect, RecordDefect::TooShort { available: length as u64 });
            } else {
                assert!(matches!(defect, RecordDefect::Truncated { size: 36, .. }));
            }
        }
    }

    #[test]
    fn record_size_limits() {
        let mut buffer = Vec::new();
        record_encode(&mut buffer, 1, 1, 1, &[7; 100]);
        let defect = record_decode(&buffer, 0, 100).unwrap_err();
        assert_eq!(defect, RecordDefect::SizeOutOfRange { size: 126, size_max: 100 });
        let zeros = [0_u8; 64];
        let defect = record_decode(&zeros, 0, SIZE_MAX).unwrap_err();
        assert_eq!(defect, RecordDefect::SizeOutOfRange { size: 0, size_max: SIZE_MAX });
    }

    #[test]
    fn valid_after_finds_the_next_record() {
        let mut buffer = Vec::new();
        let first = record_encode(&mut buffer, 1, 1, 1, b"abc");
        record_encode(&mut buffer, 2, 2, 2, b"defgh");
        buffer[5] ^= 0xff;
        assert!(record_decode(&buffer, 0, SIZE_MAX).is_err());
        assert_eq!(record_valid_after(&buffer, 0, 1, SIZE_MAX), Some(first));
        assert_eq!(record_valid_after(&buffer, 0, 2, SIZE_MAX), None, "2 cannot follow 2");
        assert_eq!(record_valid_after(&buffer, first, 1, SIZE_MAX), None);
        assert_eq!(record_valid_after(&buffer[..10], 0, 1, SIZE_MAX), None);
    }
}
