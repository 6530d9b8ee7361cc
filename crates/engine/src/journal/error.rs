//! The journal's errors and reports.
//!
//! Three kinds of value live here:
//! - [`AppendError`]: a small `Copy` enum for the hot path (`append` never touches the disk);
//! - [`JournalError`]: an operating error (I/O, damage, a configuration mismatch) naming the file,
//!   the byte offset and the sequence numbers involved;
//! - [`TornTail`]: not an error but a report: the tail that a crash left half-written and that
//!   recovery cuts.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the bytes at some offset of a segment are not a valid record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordDefect {
    /// Fewer bytes remain than a record's fixed part.
    TooShort {
        /// The bytes remaining in the segment.
        available: u64,
    },
    /// The size field is smaller than a record's fixed part or larger than `record_size_max`.
    SizeOutOfRange {
        /// The size field as read.
        size: u32,
        /// The configured limit.
        size_max: u32,
    },
    /// The size field runs past the end of the segment.
    Truncated {
        /// The size field as read.
        size: u32,
        /// The bytes remaining in the segment.
        available: u64,
    },
    /// The stored CRC32C does not match the bytes.
    Checksum {
        /// The checksum stored in the record.
        stored: u32,
        /// The checksum of the bytes as read.
        computed: u32,
    },
}

impl fmt::Display for RecordDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { available } => {
                write!(f, "only {available} bytes left, fewer than a record header")
            }
            Self::SizeOutOfRange { size, size_max } => {
                write!(f, "record size {size} outside the valid range (max {size_max})")
            }
            Self::Truncated { size, available } => {
                write!(f, "record of {size} bytes but only {available} bytes left")
            }
            Self::Checksum { stored, computed } => {
                write!(f, "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")
            }
        }
    }
}

/// Why the first bytes of a segment are not a valid segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderDefect {
    /// The file is shorter than a header.
    TooShort {
        /// The file's size in bytes.
        size: u64,
    },
    /// The file does not start with the journal's magic bytes.
    Magic,
    /// The header's CRC32C does not match its bytes.
    Checksum {
        /// The checksum stored in the header.
        stored: u32,
        /// The checksum of the bytes as read.
        computed: u32,
    },
    /// The header names a format version this build cannot read.
    Version {
        /// The version in the header.
        found: u16,
        /// The version this build reads and writes.
        supported: u16,
    },
    /// Bytes reserved for future use are not zero.
    ReservedNonZero,
    /// The header belongs to another shard's journal.
    Shard {
        /// The shard id in the header.
        found: u32,
        /// The shard id configured.
        expected: u32,
    },
    /// The sequence number in the file name differs from the one in the header.
    Name {
        /// The sequence number in the file name.
        name_seq: u64,
        /// The sequence number in the header.
        header_seq: u64,
    },
    /// The first sequence number is 0 or above [`SEQ_MAX`](super::SEQ_MAX).
    SeqOutOfRange {
        /// The sequence number in the header.
        seq_first: u64,
    },
}

impl fmt::Display for HeaderDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { size } => write!(f, "file of {size} bytes is shorter than a header"),
            Self::Magic => write!(f, "not a journal segment (bad magic)"),
            Self::Checksum { stored, computed } => write!(
                f,
                "header checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            Self::Version { found, supported } => {
                write!(f, "format version {found} is not supported (this build reads {supported})")
            }
            Self::ReservedNonZero => write!(f, "reserved header bytes are not zero"),
            Self::Shard { found, expected } => {
                write!(f, "segment of shard {found}, expected shard {expected}")
            }
            Self::Name { name_seq, header_seq } => {
                write!(f, "file name says first seq {name_seq}, header says {header_seq}")
            }
            Self::SeqOutOfRange { seq_first } => {
                write!(f, "first seq {seq_first} is outside 1..=SEQ_MAX")
            }
        }
    }
}

/// Why a torn tail was cut: a damaged last record or a half-written segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TornDefect {
    /// The last record is short or fails its checksum, and no valid record follows it.
    Record(RecordDefect),
    /// The last segment's header is short (or all zeros): the crash came while creating it.
    Header(HeaderDefect),
}

/// A report of the half-written tail that a crash left at the end of the last segment.
///
/// Recovery cuts it (the writer truncates the file at `offset`, or removes a segment whose
/// header never made it to disk); the caller logs it. No record in the cut bytes was ever
/// reported durable, since `commit` returns only after the whole batch is synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file.
    pub path: PathBuf,
    /// The byte offset of the first cut byte: the end of the last valid record (0 for a removed
    /// segment).
    pub offset: u64,
    /// The number of bytes cut (or to be cut, as reported by a reader).
    pub bytes_cut: u64,
    /// The sequence number the first cut record would have had.
    pub seq_next: u64,
    /// What was wrong with the bytes at `offset`.
    pub defect: TornDefect,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let defect: &dyn fmt::Display = match &self.defect {
            TornDefect::Record(defect) => defect,
            TornDefect::Header(defect) => defect,
        };
        write!(
            f,
            "torn journal tail in {} at offset {}: {} bytes cut before seq {} ({defect})",
            self.path.display(),
            self.offset,
            self.bytes_cut,
            self.seq_next,
        )
    }
}

/// An `append` that the writer refused; the batch is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendError {
    /// The record (header plus payload) is larger than `record_size_max`.
    RecordTooLarge {
        /// The record's size in bytes.
        size: u64,
        /// The configured limit.
        size_max: u32,
    },
    /// The batch has no room for the record: `commit` first.
    BatchFull {
        /// The record's size in bytes.
        size: u64,
        /// The bytes still free in the batch.
        free: u64,
    },
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::RecordTooLarge { size, size_max } => {
                write!(f, "journal record of {size} bytes exceeds record_size_max {size_max}")
            }
            Self::BatchFull { size, free } => {
                write!(f, "journal batch full: record of {size} bytes, {free} bytes free")
            }
        }
    }
}

impl std::error::Error for AppendError {}

/// An operating error of the journal: I/O, damage on disk, or a configuration that does not
/// match the files.
///
/// Damage in the middle of the journal is never repaired automatically: the caller must refuse
/// to start and an operator must look at the named file and offset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// An I/O call failed.
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done (`"open"`, `"write"`, `"fdatasync"`, …).
        operation: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The options are inconsistent (see [`JournalOptions::validate`](super::JournalOptions)).
    Options {
        /// Which relation between the limits does not hold.
        reason: &'static str,
    },
    /// A segment's header is damaged or belongs elsewhere.
    SegmentHeader {
        /// The segment file.
        path: PathBuf,
        /// What is wrong with it.
        defect: HeaderDefect,
    },
    /// A segment is larger than [`SEGMENT_SIZE_LIMIT`](super::SEGMENT_SIZE_LIMIT), the most a
    /// reader holds in memory.
    SegmentTooLarge {
        /// The segment file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The configured limit.
        size_max: u64,
    },
    /// The directory holds more segments than `segments_max`.
    SegmentsTooMany {
        /// The directory.
        path: PathBuf,
        /// The limit.
        count_max: u32,
    },
    /// A record that is not the torn tail is damaged: in a segment other than the last, or
    /// followed by a valid record.
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// The byte offset of the damaged record.
        offset: u64,
        /// The sequence number the record should have had.
        seq_expected: u64,
        /// What is wrong with it.
        defect: RecordDefect,
        /// The offset of the next valid record, when one was found after the damage.
        offset_valid_next: Option<u64>,
    },
    /// A record with a valid checksum is larger than `record_size_max`: the journal was written
    /// with a larger limit. Raise the limit; the record is not damage and is never cut.
    RecordTooLarge {
        /// The segment file.
        path: PathBuf,
        /// The byte offset of the record.
        offset: u64,
        /// The record's size in bytes.
        size: u32,
        /// The configured limit.
        size_max: u32,
    },
    /// A valid record or segment does not carry the next sequence number.
    SequenceGap {
        /// The segment file.
        path: PathBuf,
        /// The byte offset of the record (0 for a segment header).
        offset: u64,
        /// The sequence number that should come next.
        seq_expected: u64,
        /// The sequence number found.
        seq_found: u64,
    },
    /// The reader was asked to start before the first record the journal still holds.
    SeqBeforeJournal {
        /// The sequence number asked for.
        seq_from: u64,
        /// The first sequence number in the journal.
        seq_first: u64,
    },
    /// The batch refused a record (see [`AppendError`]).
    Append(#[from] AppendError),
    /// The reader was asked to start after the end of the journal: records between its end and
    /// `seq_from` are missing (a snapshot newer than the durable journal?).
    SeqAfterJournal {
        /// The sequence number asked for.
        seq_from: u64,
        /// The sequence number the journal's next record would carry.
        seq_next: u64,
    },
    /// A previous `commit` failed; the state of the file is unknown, so the writer refuses all
    /// further work. Reopen it to recover.
    Poisoned,
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, operation, source } => {
                write!(f, "journal {operation} failed on {}: {source}", path.display())
            }
            Self::Options { reason } => write!(f, "invalid journal options: {reason}"),
            Self::SegmentHeader { path, defect } => {
                write!(f, "bad journal segment header in {}: {defect}", path.display())
            }
            Self::SegmentTooLarge { path, size, size_max } => write!(
                f,
                "journal segment {} has {size} bytes, more than the {size_max} a segment may hold",
                path.display()
            ),
            Self::SegmentsTooMany { path, count_max } => write!(
                f,
                "journal directory {} holds more than {count_max} segments",
                path.display()
            ),
            Self::Corrupt { path, offset, seq_expected, defect, offset_valid_next } => {
                write!(
                    f,
                    "corrupt journal record in {} at offset {offset} (seq {seq_expected}): \
                     {defect}",
                    path.display()
                )?;
                match offset_valid_next {
                    Some(next) => write!(f, "; a valid record follows at offset {next}"),
                    None => write!(f, "; not the last segment"),
                }
            }
            Self::RecordTooLarge { path, offset, size, size_max } => write!(
                f,
                "journal record in {} at offset {offset} has {size} bytes, more than \
                 record_size_max {size_max}",
                path.display()
            ),
            Self::SequenceGap { path, offset, seq_expected, seq_found } => write!(
                f,
                "journal sequence gap in {} at offset {offset}: expected seq {seq_expected}, \
                 found {seq_found}",
                path.display()
            ),
            Self::SeqBeforeJournal { seq_from, seq_first } => write!(
                f,
                "journal replay from seq {seq_from} asked, but the journal starts at {seq_first}"
            ),
            Self::Append(error) => write!(f, "{error}"),
            Self::SeqAfterJournal { seq_from, seq_next } => write!(
                f,
                "journal replay from seq {seq_from} asked, but the journal ends before seq \
                 {seq_next}: records are missing"
            ),
            Self::Poisoned => write!(f, "journal writer poisoned by an earlier failed commit"),
        }
    }
}

impl JournalError {
    /// Wraps an I/O error with the path and the operation.
    pub(crate) fn io(path: impl Into<PathBuf>, operation: &'static str, source: io::Error) -> Self {
        Self::Io { path: path.into(), operation, source }
    }
}
