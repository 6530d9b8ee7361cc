//! Segment files: naming, listing, loading, and the step that walks a segment's records.
//!
//! The corruption policy lives in [`segment_step`]: a bad record at the end of the last segment
//! with no valid record after it is a torn tail; any other bad record is corruption.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::journal::error::{HeaderDefect, JournalError, RecordDefect, TornDefect, TornTail};
use crate::journal::format::{self, SEGMENT_HEADER_SIZE, SegmentHeader};
use crate::journal::{SEGMENT_SIZE_LIMIT, SEQ_MAX};

/// The file name prefix of every segment.
const NAME_PREFIX: &str = "journal-";
/// The file name suffix (extension) of every segment.
const NAME_SUFFIX: &str = ".bjl";
/// The number of decimal digits of the first sequence number in a segment's name: enough for
/// every `u64`, zero-padded so that lexical order is sequence order.
const NAME_DIGITS: usize = 20;

const _: () = assert!(u64::MAX.ilog10() as usize + 1 == NAME_DIGITS);

/// A segment file found in the journal directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    /// The file's path.
    pub(crate) path: PathBuf,
    /// The first sequence number, from the file's name (checked against the header on load).
    pub(crate) seq_first: u64,
}

/// Returns the file name of the segment whose first record is `seq_first`.
pub(crate) fn segment_name(seq_first: u64) -> String {
    let name = format!("{NAME_PREFIX}{seq_first:0NAME_DIGITS$}{NAME_SUFFIX}");
    debug_assert_eq!(segment_name_parse(&name), Some(seq_first), "Invariant: name round trip");
    name
}

/// Returns the first sequence number named by a segment file name, or `None` for any other
/// name (which the journal ignores).
pub(crate) fn segment_name_parse(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(NAME_PREFIX)?.strip_suffix(NAME_SUFFIX)?;
    if digits.len() != NAME_DIGITS || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Lists the segments in `dir`, in sequence order.
///
/// # Errors
///
/// Returns `Io` if the directory cannot be read and `SegmentsTooMany` past `count_max`.
pub(crate) fn segments_list(dir: &Path, count_max: u32) -> Result<Vec<SegmentFile>, JournalError> {
    let entries = fs::read_dir(dir).map_err(|error| JournalError::io(dir, "read_dir", error))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| JournalError::io(dir, "read_dir", error))?;
        let name = entry.file_name();
        let Some(seq_first) = name.to_str().and_then(segment_name_parse) else {
            continue;
        };
        if segments.len() >= count_max as usize {
            return Err(JournalError::SegmentsTooMany { path: dir.to_path_buf(), count_max });
        }
        segments.push(SegmentFile { path: entry.path(), seq_first });
    }
    segments.sort_unstable_by_key(|segment| segment.seq_first);
    debug_assert!(segments.windows(2).all(|pair| pair[0].seq_first < pair[1].seq_first));
    Ok(segments)
}

/// Reads a whole segment into `buffer` (cleared first).
///
/// The limit is [`SEGMENT_SIZE_LIMIT`], not the options' `segment_size_max`: that one only says
/// when the writer starts a new segment, and an operator may lower it over segments written
/// with a larger value.
///
/// # Errors
///
/// Returns `Io` on a failed open or read and `SegmentTooLarge` past the limit.
pub(crate) fn segment_load(path: &Path, buffer: &mut Vec<u8>) -> Result<(), JournalError> {
    let too_large = |size| JournalError::SegmentTooLarge {
        path: path.to_path_buf(),
        size,
        size_max: SEGMENT_SIZE_LIMIT,
    };
    let file = File::open(path).map_err(|error| JournalError::io(path, "open", error))?;
    let size = file.metadata().map_err(|error| JournalError::io(path, "stat", error))?.len();
    if size > SEGMENT_SIZE_LIMIT {
        return Err(too_large(size));
    }
    buffer.clear();
    file.take(SEGMENT_SIZE_LIMIT + 1)
        .read_to_end(buffer)
        .map_err(|error| JournalError::io(path, "read", error))?;
    if buffer.len() as u64 > SEGMENT_SIZE_LIMIT {
        return Err(too_large(buffer.len() as u64));
    }
    Ok(())
}

/// Returns the size of the file at `path`.
///
/// # Errors
///
/// Returns `Io` if its metadata cannot be read.
pub(crate) fn segment_size(path: &Path) -> Result<u64, JournalError> {
    let metadata = fs::metadata(path).map_err(|error| JournalError::io(path, "stat", error))?;
    Ok(metadata.len())
}

/// Returns the defect of a header that a crash interrupted while the segment was being created:
/// a file shorter than a header, or one whose bytes are all zero. Any other bad header is
/// damage, not a torn tail.
pub(crate) fn segment_header_torn(bytes: &[u8]) -> Option<HeaderDefect> {
    if bytes.len() < SEGMENT_HEADER_SIZE {
        return Some(HeaderDefect::TooShort { size: bytes.len() as u64 });
    }
    bytes.iter().all(|&byte| byte == 0).then_some(HeaderDefect::Magic)
}

/// Decodes and checks the header of a loaded segment against its name, the shard and the
/// sequence number range.
///
/// Keeping the first sequence number at most `SEQ_MAX` means that counting the records of any
/// segment after it cannot overflow a `u64`, whatever the file holds.
///
/// # Errors
///
/// Returns `SegmentHeader` naming the file and the defect.
pub(crate) fn segment_header(
    segment: &SegmentFile,
    bytes: &[u8],
    shard_id: u32,
) -> Result<SegmentHeader, JournalError> {
    let fail = |defect| JournalError::SegmentHeader { path: segment.path.clone(), defect };
    let header = SegmentHeader::decode(bytes).map_err(fail)?;
    if header.shard_id != shard_id {
        return Err(fail(HeaderDefect::Shard { found: header.shard_id, expected: shard_id }));
    }
    if header.seq_first == 0 || header.seq_first > SEQ_MAX {
        return Err(fail(HeaderDefect::SeqOutOfRange { seq_first: header.seq_first }));
    }
    if header.seq_first != segment.seq_first {
        let defect =
            HeaderDefect::Name { name_seq: segment.seq_first, header_seq: header.seq_first };
        return Err(fail(defect));
    }
    Ok(header)
}

/// Returns a torn-tail report for the bytes of `segment` from `offset` on.
pub(crate) fn torn_tail(
    segment: &SegmentFile,
    bytes: &[u8],
    offset: usize,
    seq_next: u64,
    defect: TornDefect,
) -> TornTail {
    assert!(offset <= bytes.len(), "Invariant: a torn tail starts inside the segment");
    TornTail {
        path: segment.path.clone(),
        offset: offset as u64,
        bytes_cut: (bytes.len() - offset) as u64,
        seq_next,
        defect,
    }
}

/// One step through a segment's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A valid record with the expected sequence number, of `size` bytes.
    Record {
        /// The record's size in bytes.
        size: usize,
    },
    /// The segment ends cleanly at the offset.
    End,
    /// The bytes from the offset on are a torn tail (only in the last segment).
    Torn {
        /// What is wrong with the first torn record.
        defect: RecordDefect,
    },
}

/// Where a segment walk stands, and the facts the corruption policy needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepContext<'a> {
    /// The segment walked.
    pub(crate) segment: &'a SegmentFile,
    /// Whether it is the last segment of the journal (the only place a torn tail may be).
    pub(crate) is_last: bool,
    /// The configured record size limit.
    pub(crate) record_size_max: u32,
}

/// Classifies the bytes at `offset`: a record carrying `seq_expected`, the clean end, or a torn
/// tail.
///
/// # Errors
///
/// Returns `SequenceGap` for a valid record with another sequence number, `RecordTooLarge` for a
/// valid record over the configured limit (a configuration error, never cut), and `Corrupt` for a
/// bad record that is not a torn tail (in a segment other than the last, or followed by a valid
/// record).
pub(crate) fn segment_step(
    context: &StepContext<'_>,
    bytes: &[u8],
    offset: usize,
    seq_expected: u64,
) -> Result<Step, JournalError> {
    assert!(offset >= SEGMENT_HEADER_SIZE, "Invariant: records start after the header");
    assert!(offset <= bytes.len(), "Invariant: the walk stays inside the segment");
    if offset == bytes.len() {
        return Ok(Step::End);
    }
    match format::record_decode(bytes, offset, context.record_size_max) {
        Ok((record, size)) if record.seq == seq_expected => Ok(Step::Record { size }),
        Ok((record, _)) => Err(JournalError::SequenceGap {
            path: context.segment.path.clone(),
            offset: offset as u64,
            seq_expected,
            seq_found: record.seq,
        }),
        Err(RecordDefect::SizeOutOfRange { size, size_max })
            if size > size_max && format::record_decode(bytes, offset, u32::MAX).is_ok() =>
        {
            Err(JournalError::RecordTooLarge {
                path: context.segment.path.clone(),
                offset: offset as u64,
                size,
                size_max,
            })
        }
        Err(defect) => {
            let valid_next = if context.is_last {
                format::record_valid_after(bytes, offset, seq_expected, context.record_size_max)
            } else {
                None
            };
            if context.is_last && valid_next.is_none() {
                return Ok(Step::Torn { defect });
            }
            Err(JournalError::Corrupt {
                path: context.segment.path.clone(),
                offset: offset as u64,
                seq_expected,
                defect,
                offset_valid_next: valid_next.map(|next| next as u64),
            })
        }
    }
}

/// Makes the directory's entries (created, renamed or removed files) durable.
///
/// # Errors
///
/// Returns `Io` if the directory cannot be opened or synced.
pub(crate) fn directory_sync(dir: &Path) -> Result<(), JournalError> {
    crate::directory::sync(dir).map_err(|error| JournalError::io(dir, "fsync", error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_sequence_order() {
        let seqs = [1_u64, 9, 10, 99, 100, 12_345_678_901, u64::MAX];
        let names: Vec<String> = seqs.iter().map(|&seq| segment_name(seq)).collect();
        assert_eq!(names[0], "journal-00000000000000000001.bjl");
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]));
        for (name, seq) in names.iter().zip(seqs) {
            assert_eq!(segment_name_parse(name), Some(seq));
        }
    }

    #[test]
    fn foreign_names_are_ignored() {
        for name in [
            "journal-1.bjl",
            "journal-0000000000000000000a.bjl",
            "journal-00000000000000000001.bjl.tmp",
            "snapshot-00000000000000000001.bsn",
            "journal-99999999999999999999.bjl",
        ] {
            assert_eq!(segment_name_parse(name), None, "{name}");
        }
    }

    #[test]
    fn header_checks_name_shard_and_range() {
        let file = |seq_first| SegmentFile { path: PathBuf::from("segment"), seq_first };
        let bytes = |seq_first| SegmentHeader { shard_id: 2, seq_first }.encode();
        let defect = |result: Result<SegmentHeader, JournalError>| match result {
            Err(JournalError::SegmentHeader { defect, .. }) => defect,
            other => panic!("{other:?}"),
        };
        assert!(segment_header(&file(5), &bytes(5), 2).is_ok());
        let name = HeaderDefect::Name { name_seq: 6, header_seq: 5 };
        assert_eq!(defect(segment_header(&file(6), &bytes(5), 2)), name);
        let shard = HeaderDefect::Shard { found: 2, expected: 1 };
        assert_eq!(defect(segment_header(&file(5), &bytes(5), 1)), shard);
        for seq_first in [0, SEQ_MAX + 1, u64::MAX] {
            let range = HeaderDefect::SeqOutOfRange { seq_first };
            assert_eq!(defect(segment_header(&file(seq_first), &bytes(seq_first), 2)), range);
        }
    }

    #[test]
    fn torn_header_is_short_or_zero() {
        assert!(segment_header_torn(&[]).is_some());
        assert!(segment_header_torn(&[b'B'; 31]).is_some());
        assert!(segment_header_torn(&[0; 64]).is_some());
        let header = SegmentHeader { shard_id: 0, seq_first: 1 }.encode();
        assert_eq!(segment_header_torn(&header), None);
    }
}
