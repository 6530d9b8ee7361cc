//! The snapshot module's errors and reports.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a snapshot file is not valid. Loading skips such a file and reports it with this value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotDefect {
    /// The file is shorter than a header.
    TooShort {
        /// The file's size in bytes.
        size: u64,
    },
    /// The file does not start with the snapshot magic bytes.
    Magic,
    /// The header's CRC32C does not match its bytes.
    HeaderChecksum {
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
    /// The sequence number in the file name differs from the one in the header.
    Name {
        /// The sequence number in the file name.
        name_seq: u64,
        /// The sequence number in the header.
        header_seq: u64,
    },
    /// The sequence number is beyond [`SEQ_MAX`](crate::journal::SEQ_MAX), which no journal
    /// reaches: a foreign or hand-made file.
    SeqOutOfRange {
        /// The sequence number in the header.
        seq: u64,
    },
    /// The payload is larger than [`PAYLOAD_SIZE_MAX`](super::PAYLOAD_SIZE_MAX).
    PayloadTooLarge {
        /// The payload size in the header (or implied by the file size).
        size: u64,
        /// The limit.
        size_max: u64,
    },
    /// The file size is not the header plus the payload size the header states.
    Size {
        /// The file's size in bytes.
        file_size: u64,
        /// The payload size stated in the header.
        payload_size: u64,
    },
    /// The payload's CRC32C does not match the one in the header.
    PayloadChecksum {
        /// The checksum stored in the header.
        stored: u32,
        /// The checksum of the payload as read.
        computed: u32,
    },
}

impl fmt::Display for SnapshotDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { size } => write!(f, "file of {size} bytes is shorter than a header"),
            Self::Magic => write!(f, "not a snapshot (bad magic)"),
            Self::HeaderChecksum { stored, computed } => write!(
                f,
                "header checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            Self::Version { found, supported } => {
                write!(f, "format version {found} is not supported (this build reads {supported})")
            }
            Self::ReservedNonZero => write!(f, "reserved header bytes are not zero"),
            Self::Name { name_seq, header_seq } => {
                write!(f, "file name says seq {name_seq}, header says {header_seq}")
            }
            Self::SeqOutOfRange { seq } => {
                write!(f, "seq {seq} is beyond the largest a journal holds")
            }
            Self::PayloadTooLarge { size, size_max } => {
                write!(f, "payload of {size} bytes exceeds the limit of {size_max}")
            }
            Self::Size { file_size, payload_size } => write!(
                f,
                "file of {file_size} bytes is not a header plus a {payload_size}-byte payload"
            ),
            Self::PayloadChecksum { stored, computed } => write!(
                f,
                "payload checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
        }
    }
}

/// A snapshot file that loading skipped because it is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSnapshot {
    /// The file.
    pub path: PathBuf,
    /// The sequence number in its name.
    pub seq: u64,
    /// What is wrong with it.
    pub defect: SnapshotDefect,
}

impl fmt::Display for SkippedSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid snapshot {} (seq {}) skipped: {}",
            self.path.display(),
            self.seq,
            self.defect
        )
    }
}

/// An operating error of the snapshot store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// An I/O call failed.
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done (`"create"`, `"write"`, `"fsync"`, `"rename"`, …).
        operation: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The payload to write is larger than [`PAYLOAD_SIZE_MAX`](super::PAYLOAD_SIZE_MAX).
    PayloadTooLarge {
        /// The payload's size in bytes.
        size: u64,
        /// The limit.
        size_max: u64,
    },
    /// The directory holds more snapshot files than
    /// [`SNAPSHOTS_MAX`](super::SNAPSHOTS_MAX).
    SnapshotsTooMany {
        /// The directory.
        path: PathBuf,
        /// The limit.
        count_max: usize,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, operation, source } => {
                write!(f, "snapshot {operation} failed on {}: {source}", path.display())
            }
            Self::PayloadTooLarge { size, size_max } => {
                write!(f, "snapshot payload of {size} bytes exceeds the limit of {size_max}")
            }
            Self::SnapshotsTooMany { path, count_max } => write!(
                f,
                "snapshot directory {} holds more than {count_max} snapshots",
                path.display()
            ),
        }
    }
}

impl SnapshotError {
    /// Wraps an I/O error with the path and the operation.
    pub(crate) fn io(path: impl Into<PathBuf>, operation: &'static str, source: io::Error) -> Self {
        Self::Io { path: path.into(), operation, source }
    }
}
