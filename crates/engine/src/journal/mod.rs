//! The durable journal of one shard: an append-only, checksummed, segmented log of inputs.
//!
//! The sequencer stamps every input with a sequence number and a timestamp, encodes it, and
//! [`JournalWriter::append`]s it; [`JournalWriter::commit`] makes everything appended so far
//! durable with one `write` and one `fdatasync` and returns the sequence number durable through.
//! On start, [`JournalReader`] replays the records from a snapshot's sequence number on.
//!
//! # Group-commit rule
//!
//! No output for input `n` may leave the engine before the journal is durable through `n`. The
//! journal cannot see outputs, so the caller enforces the rule: it holds each output until a
//! `commit` has returned a sequence number `>= n`. One commit covers every record appended since
//! the previous one, so the cost of `fdatasync` is shared by the whole batch.
//!
//! # Files
//!
//! A journal is a directory of segment files, `journal-<first seq, 20 digits>.bjl`, so that
//! lexical order is sequence order. Each segment starts with a 32-byte header (magic
//! `BIRZHAJL`, format version, shard id, first sequence number, CRC32C) followed by records:
//! CRC32C, size, sequence number, timestamp (ns since the Unix epoch), kind, payload; all
//! little-endian. The writer starts a new segment before a record that would take the current
//! one past `segment_size_max`. See `docs/journal.md` for the byte layout.
//!
//! # Sequence invariant
//!
//! Records carry consecutive sequence numbers across all segments, and each segment's header
//! (and name) carries the sequence number of its first record. The writer asserts it on
//! append; the reader checks it on replay and returns `SequenceGap` where it fails.
//!
//! # Corruption policy
//!
//! - A **torn tail**, a short or checksum-failing record at the end of the *last* segment with no
//!   valid record anywhere after it, is what a crash during `write` leaves. It is reported as a
//!   [`TornTail`] value and cut: [`JournalWriter::open`] truncates the file at the end of the
//!   last valid record; [`JournalReader`] stops before it and reports it without touching the
//!   file. A segment whose header was only half-written is removed the same way.
//! - **Corruption**, a bad record in any other segment or one followed by a valid record, and a
//!   sequence gap, are errors naming the file and byte offset ([`JournalError::Corrupt`],
//!   [`JournalError::SequenceGap`]). They are never repaired: the caller must refuse to start.
//!
//! # Limits
//!
//! Every size is bounded by [`JournalOptions`]: `record_size_max`, `segment_size_max`,
//! `batch_size_max` and `segments_max`; [`JournalOptions::validate`] checks how they relate.
//!
//! # Performance
//!
//! `append` encodes into a batch buffer allocated at open: no syscall and no allocation. `commit`
//! is one `write` and one `fdatasync` (two of each, plus a directory sync, when the batch starts
//! a new segment). The reader loads a whole segment with one read into a reused buffer and hands
//! out records borrowed from it; each record costs one CRC32C (hardware-accelerated on x86-64).
//!
//! # Known limitations
//!
//! - A damaged record followed by valid records in the last segment is reported as corruption,
//!   even if the damage came from a power loss that reordered the page writes of the last,
//!   never-acknowledged batch. Telling those apart would need batch boundaries on disk.
//! - One writer per directory; the journal does not lock the directory.

mod error;
mod format;
mod reader;
mod segment;
mod writer;

pub use error::{AppendError, HeaderDefect, JournalError, RecordDefect, TornDefect, TornTail};
pub use format::{FORMAT_VERSION, RECORD_HEADER_SIZE, Record, SEGMENT_HEADER_SIZE, SEGMENT_MAGIC};
pub use reader::JournalReader;
pub use writer::{JournalWriter, cut_after, segments_remove_covered};

/// The largest sequence number a journal holds: 2^62, enough for ten million inputs a second
/// for over ten thousand years, and far enough from `u64::MAX` that no count overflows.
pub const SEQ_MAX: u64 = 1 << 62;

/// The largest `segment_size_max` accepted: a reader holds one whole segment in memory.
pub const SEGMENT_SIZE_LIMIT: u64 = 1 << 32;

/// Whether `commit` waits for the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `commit` calls `fdatasync` after the write: a record is durable once `commit` returns.
    #[default]
    Fsync,
    /// `commit` only writes: records survive a process crash but not a power loss or a kernel
    /// crash. For benchmarks only.
    None,
}

/// The configuration of a journal: its shard, its durability and its limits.
///
/// The limits must be at least those the journal was written with: a reader refuses a record
/// or segment larger than its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalOptions {
    /// The shard whose inputs the journal holds; written into and checked against every
    /// segment header.
    pub shard_id: u32,
    /// Whether `commit` syncs.
    pub durability: Durability,
    /// The largest record, header included, in bytes.
    pub record_size_max: u32,
    /// The largest segment file, header included, in bytes; the writer rotates before a record
    /// that would exceed it.
    pub segment_size_max: u64,
    /// The largest batch (records appended between two commits), in bytes; allocated once.
    pub batch_size_max: u32,
    /// The most segment files the directory may hold.
    pub segments_max: u32,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self {
            shard_id: 0,
            durability: Durability::Fsync,
            record_size_max: 64 * 1024,
            segment_size_max: 64 * 1024 * 1024,
            batch_size_max: 4 * 1024 * 1024,
            segments_max: 100_000,
        }
    }
}

impl JournalOptions {
    /// Checks the relations between the limits.
    ///
    /// # Errors
    ///
    /// Returns `JournalError::Options` naming the first relation that does not hold:
    /// a record must fit its header, a batch and an empty segment; a segment must not exceed
    /// [`SEGMENT_SIZE_LIMIT`]; at least one segment must be allowed.
    pub fn validate(&self) -> Result<(), JournalError> {
        let fail = |reason| Err(JournalError::Options { reason });
        if (self.record_size_max as usize) < RECORD_HEADER_SIZE {
            return fail("record_size_max is smaller than a record header");
        }
        if self.batch_size_max < self.record_size_max {
            return fail("batch_size_max is smaller than record_size_max");
        }
        let segment_size_min = SEGMENT_HEADER_SIZE as u64 + u64::from(self.record_size_max);
        if self.segment_size_max < segment_size_min {
            return fail("segment_size_max is smaller than a header plus record_size_max");
        }
        if self.segment_size_max > SEGMENT_SIZE_LIMIT {
            return fail("segment_size_max exceeds SEGMENT_SIZE_LIMIT");
        }
        if self.segments_max == 0 {
            return fail("segments_max is zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_are_valid() {
        assert!(JournalOptions::default().validate().is_ok());
    }

    #[test]
    fn invalid_options_are_named() {
        let cases = [
            JournalOptions { record_size_max: 10, ..JournalOptions::default() },
            JournalOptions { batch_size_max: 1024, ..JournalOptions::default() },
            JournalOptions { segment_size_max: 65_536, ..JournalOptions::default() },
            JournalOptions { segment_size_max: SEGMENT_SIZE_LIMIT + 1, ..Default::default() },
            JournalOptions { segments_max: 0, ..JournalOptions::default() },
        ];
        for options in cases {
            let error = options.validate().unwrap_err();
            assert!(matches!(error, JournalError::Options { .. }), "{options:?}: {error}");
        }
    }
}
