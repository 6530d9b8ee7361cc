//! The byte layout of a snapshot file and its name. Pure: no I/O.

use crate::journal::SEQ_MAX;
use crate::snapshot::PAYLOAD_SIZE_MAX;
use crate::snapshot::error::SnapshotDefect;

/// The first eight bytes of every snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"BIRZHASN";

/// The snapshot format version written into every header. Loading skips any other.
pub const SNAPSHOT_VERSION: u16 = 1;

/// The size of a snapshot header in bytes.
///
/// Layout (little-endian): magic `[u8; 8]`, version `u16`, reserved `u16` (zero), CRC32C of the
/// payload `u32`, sequence number `u64`, payload size `u64`, reserved `u32` (zero), CRC32C of the
/// preceding 36 bytes `u32`. The payload follows.
pub const SNAPSHOT_HEADER_SIZE: usize = 40;

/// The file name prefix of every snapshot.
const NAME_PREFIX: &str = "snapshot-";
/// The file name suffix of every snapshot.
const NAME_SUFFIX: &str = ".bsn";
/// The suffix added to a snapshot's name while it is being written.
pub(crate) const TEMPORARY_SUFFIX: &str = ".tmp";
/// The digits of the sequence number in a name: enough for every `u64`, zero-padded.
const NAME_DIGITS: usize = 20;

/// A decoded snapshot header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SnapshotHeader {
    /// The sequence number of the last input applied to the state in the payload.
    pub(crate) seq: u64,
    /// The payload's size in bytes.
    pub(crate) payload_size: u64,
    /// The payload's CRC32C.
    pub(crate) payload_checksum: u32,
}

impl SnapshotHeader {
    /// Returns the header describing `payload` at `seq`.
    pub(crate) fn new(seq: u64, payload: &[u8]) -> Self {
        Self { seq, payload_size: payload.len() as u64, payload_checksum: crc32c::crc32c(payload) }
    }

    /// Returns the header's bytes.
    pub(crate) fn encode(&self) -> [u8; SNAPSHOT_HEADER_SIZE] {
        let mut bytes = [0_u8; SNAPSHOT_HEADER_SIZE];
        bytes[0..8].copy_from_slice(&SNAPSHOT_MAGIC);
        bytes[8..10].copy_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.payload_checksum.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.seq.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.payload_size.to_le_bytes());
        let checksum = crc32c::crc32c(&bytes[0..36]);
        bytes[36..40].copy_from_slice(&checksum.to_le_bytes());
        debug_assert_eq!(Self::decode(&bytes), Ok(*self), "Invariant: header round trip");
        bytes
    }

    /// Decodes the header at the start of `bytes`.
    ///
    /// # Errors
    ///
    /// Returns the first defect: too few bytes, bad magic, a header checksum mismatch, an
    /// unknown version, non-zero reserved bytes, a sequence number beyond
    /// [`SEQ_MAX`], or a payload size over the limit.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, SnapshotDefect> {
        let Some(header) = bytes.get(..SNAPSHOT_HEADER_SIZE) else {
            return Err(SnapshotDefect::TooShort { size: bytes.len() as u64 });
        };
        if header[0..8] != SNAPSHOT_MAGIC {
            return Err(SnapshotDefect::Magic);
        }
        let stored = u32::from_le_bytes(field(header, 36));
        let computed = crc32c::crc32c(&header[0..36]);
        if stored != computed {
            return Err(SnapshotDefect::HeaderChecksum { stored, computed });
        }
        let version = u16::from_le_bytes(field(header, 8));
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotDefect::Version { found: version, supported: SNAPSHOT_VERSION });
        }
        if header[10..12] != [0; 2] || header[32..36] != [0; 4] {
            return Err(SnapshotDefect::ReservedNonZero);
        }
        let seq = u64::from_le_bytes(field(header, 16));
        if seq > SEQ_MAX {
            return Err(SnapshotDefect::SeqOutOfRange { seq });
        }
        let payload_size = u64::from_le_bytes(field(header, 24));
        if payload_size > PAYLOAD_SIZE_MAX {
            let size_max = PAYLOAD_SIZE_MAX;
            return Err(SnapshotDefect::PayloadTooLarge { size: payload_size, size_max });
        }
        Ok(Self { seq, payload_size, payload_checksum: u32::from_le_bytes(field(header, 12)) })
    }
}

/// Decodes and checks a whole snapshot file: header, name, size and payload checksum. Returns
/// the header; the payload is `bytes[SNAPSHOT_HEADER_SIZE..]`.
///
/// # Errors
///
/// Returns the first defect found.
pub(crate) fn snapshot_check(
    bytes: &[u8],
    name_seq: u64,
) -> Result<SnapshotHeader, SnapshotDefect> {
    let header = SnapshotHeader::decode(bytes)?;
    if header.seq != name_seq {
        return Err(SnapshotDefect::Name { name_seq, header_seq: header.seq });
    }
    let file_size = bytes.len() as u64;
    if file_size != SNAPSHOT_HEADER_SIZE as u64 + header.payload_size {
        return Err(SnapshotDefect::Size { file_size, payload_size: header.payload_size });
    }
    let computed = crc32c::crc32c(&bytes[SNAPSHOT_HEADER_SIZE..]);
    if computed != header.payload_checksum {
        return Err(SnapshotDefect::PayloadChecksum { stored: header.payload_checksum, computed });
    }
    Ok(header)
}

/// Returns the file name of the snapshot at `seq`.
pub(crate) fn snapshot_name(seq: u64) -> String {
    let name = format!("{NAME_PREFIX}{seq:0NAME_DIGITS$}{NAME_SUFFIX}");
    debug_assert_eq!(snapshot_name_parse(&name), Some(seq), "Invariant: name round trip");
    name
}

/// Returns the sequence number named by a snapshot file name, or `None` for any other name.
pub(crate) fn snapshot_name_parse(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(NAME_PREFIX)?.strip_suffix(NAME_SUFFIX)?;
    if digits.len() != NAME_DIGITS || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Returns the `N` bytes at `offset`; the caller has checked the bounds.
fn field<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut value = [0_u8; N];
    value.copy_from_slice(&bytes[offset..offset + N]);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(seq: u64, payload: &[u8]) -> Vec<u8> {
        let mut bytes = SnapshotHeader::new(seq, payload).encode().to_vec();
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn round_trip() {
        let bytes = file(77, b"books and deposits");
        let header = snapshot_check(&bytes, 77).unwrap();
        assert_eq!(header.seq, 77);
        assert_eq!(header.payload_size, 18);
        assert_eq!(&bytes[SNAPSHOT_HEADER_SIZE..], b"books and deposits");
    }

    #[test]
    fn every_flipped_byte_is_a_defect() {
        let bytes = file(5, b"payload bytes");
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0x10;
            assert!(snapshot_check(&flipped, 5).is_err(), "byte {index}");
        }
    }

    #[test]
    fn every_truncation_is_a_defect() {
        let bytes = file(5, b"payload bytes");
        for length in 0..bytes.len() {
            assert!(snapshot_check(&bytes[..length], 5).is_err(), "length {length}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let defect = snapshot_check(&longer, 5).unwrap_err();
        assert_eq!(defect, SnapshotDefect::Size { file_size: 54, payload_size: 13 });
    }

    #[test]
    fn name_must_match_header() {
        let defect = snapshot_check(&file(5, b""), 6).unwrap_err();
        assert_eq!(defect, SnapshotDefect::Name { name_seq: 6, header_seq: 5 });
    }

    #[test]
    fn names_sort_in_sequence_order() {
        assert_eq!(snapshot_name(12), "snapshot-00000000000000000012.bsn");
        assert!(snapshot_name(99) < snapshot_name(100));
        assert_eq!(snapshot_name_parse("snapshot-00000000000000000012.bsn.tmp"), None);
        assert_eq!(snapshot_name_parse("journal-00000000000000000012.bjl"), None);
    }
}
