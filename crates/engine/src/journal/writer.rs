//! The journal writer: batches records in memory and makes them durable with group commit.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::journal::error::{AppendError, JournalError, RecordDefect, TornDefect, TornTail};
use crate::journal::format::{self, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, SegmentHeader};
use crate::journal::segment::{self, SegmentFile, Step, StepContext};
use crate::journal::{Durability, JournalOptions, SEQ_MAX};

/// A point in the batch where a new segment starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rotation {
    /// The batch offset of the new segment's first record.
    offset: usize,
    /// The sequence number of that record: the new segment's name and header carry it.
    seq_first: u64,
}

/// The segment file being appended to.
#[derive(Debug)]
struct Segment {
    /// The open file, in append mode.
    file: File,
    /// Its path, for errors and logs.
    path: PathBuf,
}

/// Appends records to a journal directory and commits them in groups.
///
/// Records are appended with consecutive sequence numbers into an in-memory batch; `commit`
/// writes the batch and syncs it, and returns the sequence number durable through. The writer
/// owns the tail of the journal: open only one per directory.
pub struct JournalWriter {
    /// The directory holding the segments.
    dir: PathBuf,
    /// The shard, durability and limits.
    options: JournalOptions,
    /// The segment the next write goes to; `None` while the journal holds no segment.
    segment: Option<Segment>,
    /// The records appended since the last commit, encoded. Its capacity, `batch_size_max`, is
    /// allocated at open and never grows.
    batch: Vec<u8>,
    /// Where segments start within the batch, in batch order. Its capacity is the most
    /// rotations one batch can need, allocated at open.
    rotations: Vec<Rotation>,
    /// The size the last segment of the batch will have once the batch is written.
    segment_size_pending: u64,
    /// The sequence number the next append must carry; `None` while the journal is empty and
    /// nothing was appended (the first append then chooses it).
    seq_next: Option<u64>,
    /// The highest sequence number known durable; 0 when none is.
    seq_durable: u64,
    /// The torn tail cut when the writer opened, for the caller to log.
    torn_tail: Option<TornTail>,
    /// Set when a commit failed: the file's state is unknown, so all later commits fail.
    poisoned: bool,
    /// The segment files in the directory as last counted (at open, plus those created since);
    /// an overestimate once covered segments are removed.
    segments_count: usize,
}

impl fmt::Debug for JournalWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalWriter")
            .field("dir", &self.dir)
            .field("segment", &self.segment.as_ref().map(|segment| &segment.path))
            .field("batch_size", &self.batch.len())
            .field("seq_next", &self.seq_next)
            .field("seq_durable", &self.seq_durable)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl JournalWriter {
    /// Opens the journal in `dir` (created if missing) for appending after its last valid
    /// record.
    ///
    /// The last segment is read and checked; a torn tail is cut (the file truncated at the end
    /// of its last valid record and synced, or a half-created segment removed) and reported by
    /// [`torn_tail`](Self::torn_tail). Earlier segments are not read: replay them with
    /// [`JournalReader`](super::JournalReader), which checks every record.
    ///
    /// # Errors
    ///
    /// Returns `Options` for inconsistent limits, `Io` on a failed file operation, and
    /// `SegmentHeader`, `SegmentTooLarge`, `SegmentsTooMany`, `Corrupt` or `SequenceGap` when
    /// the last segment is damaged beyond a torn tail.
    ///
    /// # Panics
    ///
    /// Panics only if an internal invariant is broken (a bug in the writer).
    pub fn open(dir: impl AsRef<Path>, options: JournalOptions) -> Result<Self, JournalError> {
        let dir = dir.as_ref();
        options.validate()?;
        crate::directory::create(dir)
            .map_err(|error| JournalError::io(dir, "create_dir", error))?;
        if options.durability == Durability::None {
            tracing::warn!(dir = %dir.display(), "journal durability is none: benchmarks only");
        }
        let rotations_max = rotations_max(&options);
        let mut writer = Self {
            dir: dir.to_path_buf(),
            batch: Vec::with_capacity(options.batch_size_max as usize),
            rotations: Vec::with_capacity(rotations_max),
            options,
            segment: None,
            segment_size_pending: 0,
            seq_next: None,
            seq_durable: 0,
            torn_tail: None,
            poisoned: false,
            segments_count: 0,
        };
        writer.open_tail()?;
        assert!(writer.batch.is_empty(), "Invariant: a writer opens with an empty batch");
        Ok(writer)
    }

    /// Finds the last segment, cuts its torn tail and opens it for appending.
    fn open_tail(&mut self) -> Result<(), JournalError> {
        let mut segments = segment::segments_list(&self.dir, self.options.segments_max)?;
        self.segments_count = segments.len();
        let Some(last) = segments.pop() else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        segment::segment_load(&last.path, &mut bytes)?;
        if let Some(defect) = segment::segment_header_torn(&bytes) {
            let torn =
                segment::torn_tail(&last, &bytes, 0, last.seq_first, TornDefect::Header(defect));
            tracing::warn!(%torn, "journal: removing a half-created segment");
            fs::remove_file(&last.path)
                .map_err(|error| JournalError::io(&last.path, "remove", error))?;
            self.segments_count -= 1;
            segment::directory_sync(&self.dir)?;
            self.torn_tail = Some(torn);
            // The segment before was synced before this one was created: it must end cleanly.
            let Some(previous) = segments.pop() else {
                return Ok(());
            };
            segment::segment_load(&previous.path, &mut bytes)?;
            return self.open_segment(previous, &bytes, false);
        }
        self.open_segment(last, &bytes, true)
    }

    /// Walks the records of `segment` (the journal's last, loaded as `bytes`) and opens it for
    /// appending after the last valid one, cutting a torn tail if `tail_may_be_torn`.
    fn open_segment(
        &mut self,
        segment: SegmentFile,
        bytes: &[u8],
        tail_may_be_torn: bool,
    ) -> Result<(), JournalError> {
        let header = segment::segment_header(&segment, bytes, self.options.shard_id)?;
        let context = StepContext {
            segment: &segment,
            is_last: tail_may_be_torn,
            record_size_max: self.options.record_size_max,
        };
        let (offset, seq_next, torn) = records_walk(&context, bytes, header.seq_first, u64::MAX)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&segment.path)
            .map_err(|error| JournalError::io(&segment.path, "open", error))?;
        if let Some(defect) = torn {
            let torn =
                segment::torn_tail(&segment, bytes, offset, seq_next, TornDefect::Record(defect));
            tracing::warn!(%torn, "journal: cutting a torn tail");
            file.set_len(offset as u64)
                .map_err(|error| JournalError::io(&segment.path, "truncate", error))?;
            self.torn_tail = Some(torn);
        }
        // What was read may be only in the page cache (a commit whose sync failed, then a
        // restart of the shard): it is made durable before anything is built on it.
        if torn.is_some() || self.options.durability == Durability::Fsync {
            file.sync_data()
                .map_err(|error| JournalError::io(&segment.path, "fdatasync", error))?;
        }
        assert!(seq_next >= 1, "Invariant: sequence numbers start at 1");
        self.segment = Some(Segment { file, path: segment.path });
        self.segment_size_pending = offset as u64;
        self.seq_next = Some(seq_next);
        self.seq_durable = seq_next - 1;
        Ok(())
    }

    /// Encodes one record into the batch. Nothing reaches the file before [`commit`](Self::commit).
    ///
    /// Neither makes a syscall nor allocates. If the record would take the current segment past
    /// `segment_size_max`, the batch notes that a new segment starts with it.
    ///
    /// # Errors
    ///
    /// Returns `RecordTooLarge` if the record exceeds `record_size_max` and `BatchFull` if the
    /// batch has no room for it; the batch is then unchanged.
    ///
    /// # Panics
    ///
    /// Panics if `seq` is not the sequence number after the previous record's (or is 0, or
    /// above [`SEQ_MAX`](super::SEQ_MAX)): the sequencer numbers inputs consecutively, so
    /// anything else is a bug.
    pub fn append(
        &mut self,
        seq: u64,
        timestamp_ns: u64,
        kind: u16,
        payload: &[u8],
    ) -> Result<(), AppendError> {
        assert!(seq >= 1, "Invariant: sequence numbers start at 1");
        assert!(seq <= SEQ_MAX, "Invariant: sequence numbers stay at or below SEQ_MAX");
        if let Some(seq_next) = self.seq_next {
            assert_eq!(seq, seq_next, "Invariant: journal sequence numbers are consecutive");
        }
        let size = RECORD_HEADER_SIZE as u64 + payload.len() as u64;
        let size_max = self.options.record_size_max;
        if size > u64::from(size_max) {
            return Err(AppendError::RecordTooLarge { size, size_max });
        }
        let free = u64::from(self.options.batch_size_max) - self.batch.len() as u64;
        if size > free {
            return Err(AppendError::BatchFull { size, free });
        }
        let journal_empty = self.segment.is_none() && self.rotations.is_empty();
        if journal_empty || self.segment_size_pending + size > self.options.segment_size_max {
            self.rotation_push(seq);
        }
        let capacity = self.batch.capacity();
        format::record_encode(&mut self.batch, seq, timestamp_ns, kind, payload);
        assert_eq!(self.batch.capacity(), capacity, "Invariant: the batch never reallocates");
        self.segment_size_pending += size;
        assert!(self.segment_size_pending <= self.options.segment_size_max);
        self.seq_next = Some(seq + 1);
        Ok(())
    }

    /// Notes that a new segment starts with the record about to be appended as `seq_first`.
    fn rotation_push(&mut self, seq_first: u64) {
        assert!(
            self.rotations.len() < self.rotations.capacity(),
            "Invariant: rotations per batch stay within the bound computed at open"
        );
        self.rotations.push(Rotation { offset: self.batch.len(), seq_first });
        self.segment_size_pending = SEGMENT_HEADER_SIZE as u64;
    }

    /// Writes the batch with one `write` and, with [`Durability::Fsync`], one `fdatasync`, and
    /// returns the highest sequence number now durable (0 if the journal holds none).
    ///
    /// Every record appended since the previous commit is covered; an empty batch returns at
    /// once. A batch that starts a new segment syncs the previous segment first, then creates
    /// the new one and syncs the directory, so that a crash never leaves valid records after a
    /// torn one. With [`Durability::None`] the returned number is written, not synced.
    ///
    /// # Errors
    ///
    /// Returns `Io` if a write, sync or file creation fails, `SegmentsTooMany` (before writing
    /// anything) if the batch would start segments past `segments_max`, and `Poisoned` after
    /// any earlier failure: the batch is then lost and the writer must be reopened.
    ///
    /// # Panics
    ///
    /// Panics only if an internal invariant is broken (a bug in the writer).
    pub fn commit(&mut self) -> Result<u64, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if self.batch.is_empty() {
            assert!(self.rotations.is_empty(), "Invariant: no rotation without a record");
            return Ok(self.seq_durable);
        }
        let result = self.commit_batch();
        self.batch.clear();
        self.rotations.clear();
        if let Err(error) = result {
            self.poisoned = true;
            return Err(error);
        }
        let seq_next = self.seq_next.expect("Invariant: a committed batch has set seq_next");
        assert!(seq_next - 1 > self.seq_durable, "Invariant: commit advances durability");
        self.seq_durable = seq_next - 1;
        Ok(self.seq_durable)
    }

    /// Writes the batch, segment by segment, and syncs it.
    fn commit_batch(&mut self) -> Result<(), JournalError> {
        let sync = self.options.durability == Durability::Fsync;
        self.segments_room()?;
        let mut start = 0;
        for index in 0..self.rotations.len() {
            let rotation = self.rotations[index];
            if let Some(segment) = &mut self.segment
                && rotation.offset > start
            {
                segment_write(segment, &self.batch[start..rotation.offset], sync)?;
            }
            self.segment = Some(self.segment_create(rotation.seq_first)?);
            self.segments_count += 1;
            start = rotation.offset;
        }
        let segment = self.segment.as_mut().expect("Invariant: a non-empty batch has a segment");
        segment_write(segment, &self.batch[start..], sync)?;
        if sync && !self.rotations.is_empty() {
            segment::directory_sync(&self.dir)?;
        }
        Ok(())
    }

    /// Checks, before anything of the batch is written, that the segments it starts keep the
    /// directory within `segments_max`: a journal with more segments is one that neither the
    /// reader nor the writer will open. Covered segments are removed behind the writer's back
    /// (`segments_remove_covered`), so the count is an overestimate; the directory is listed
    /// afresh only when it would pass the limit.
    fn segments_room(&mut self) -> Result<(), JournalError> {
        let count_max = self.options.segments_max as usize;
        if self.segments_count + self.rotations.len() <= count_max {
            return Ok(());
        }
        self.segments_count = segment::segments_list(&self.dir, self.options.segments_max)?.len();
        if self.segments_count + self.rotations.len() > count_max {
            let count_max = self.options.segments_max;
            return Err(JournalError::SegmentsTooMany { path: self.dir.clone(), count_max });
        }
        Ok(())
    }

    /// Creates the segment whose first record is `seq_first` and writes its header.
    fn segment_create(&self, seq_first: u64) -> Result<Segment, JournalError> {
        let path = self.dir.join(segment::segment_name(seq_first));
        let mut file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|error| JournalError::io(&path, "create", error))?;
        let header = SegmentHeader { shard_id: self.options.shard_id, seq_first };
        file.write_all(&header.encode())
            .map_err(|error| JournalError::io(&path, "write", error))?;
        tracing::info!(path = %path.display(), seq_first, "journal: new segment");
        Ok(Segment { file, path })
    }

    /// Returns the highest sequence number durable (0 if none): the last record of the last
    /// successful commit, or of the journal as found at open.
    pub fn seq_durable(&self) -> u64 {
        self.seq_durable
    }

    /// Returns the sequence number the next `append` must carry, or `None` while the journal is
    /// empty and nothing was appended.
    pub fn seq_next(&self) -> Option<u64> {
        self.seq_next
    }

    /// Returns the torn tail cut when the writer opened, if there was one.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// Returns the number of bytes appended and not yet committed.
    pub fn batch_size(&self) -> usize {
        self.batch.len()
    }
}

/// Writes `bytes` to the segment with one `write` and syncs it if `sync`.
fn segment_write(segment: &mut Segment, bytes: &[u8], sync: bool) -> Result<(), JournalError> {
    assert!(!bytes.is_empty(), "Invariant: only non-empty parts of a batch are written");
    segment
        .file
        .write_all(bytes)
        .map_err(|error| JournalError::io(&segment.path, "write", error))?;
    if sync {
        segment
            .file
            .sync_data()
            .map_err(|error| JournalError::io(&segment.path, "fdatasync", error))?;
    }
    Ok(())
}

/// Cuts the journal in `dir` just after record `seq`: removes the segments that start after it
/// and truncates the one holding it after it, then syncs both.
///
/// After a failed commit the journal's tail is in doubt: its records were never acknowledged,
/// and what a read returns may be only in the page cache (a failed `fdatasync` may have dropped
/// it on disk). The sequencer cuts it and sequences those inputs again, rather than trust it.
///
/// # Errors
/// Returns `Io` if listing, loading, removing, truncating or syncing fails, and the reader's
/// errors if a segment kept is malformed.
pub fn cut_after(dir: &Path, options: &JournalOptions, seq: u64) -> Result<(), JournalError> {
    let mut segments = segment::segments_list(dir, options.segments_max)?;
    let mut removed = false;
    while let Some(last) = segments.pop_if(|last| last.seq_first > seq) {
        fs::remove_file(&last.path)
            .map_err(|error| JournalError::io(&last.path, "remove", error))?;
        removed = true;
    }
    if removed {
        segment::directory_sync(dir)?;
    }
    let Some(last) = segments.pop() else {
        return Ok(());
    };
    let mut bytes = Vec::new();
    segment::segment_load(&last.path, &mut bytes)?;
    let header = segment::segment_header(&last, &bytes, options.shard_id)?;
    let context =
        StepContext { segment: &last, is_last: true, record_size_max: options.record_size_max };
    // If the journal ends before `seq`, recovery will say so.
    let (offset, _, _) = records_walk(&context, &bytes, header.seq_first, seq)?;
    if offset < bytes.len() {
        let file = OpenOptions::new()
            .write(true)
            .open(&last.path)
            .map_err(|error| JournalError::io(&last.path, "open", error))?;
        file.set_len(offset as u64)
            .map_err(|error| JournalError::io(&last.path, "truncate", error))?;
        file.sync_data().map_err(|error| JournalError::io(&last.path, "fdatasync", error))?;
        tracing::warn!(path = %last.path.display(), seq, "journal: cut after the last acknowledged record");
    }
    Ok(())
}

/// Walks the records of a loaded segment from its first, `seq_first`, through `seq_last` at
/// most, and returns the offset after the last whole record, the sequence number after it,
/// and the defect of the torn record that ended the walk, if one did.
fn records_walk(
    context: &StepContext<'_>,
    bytes: &[u8],
    seq_first: u64,
    seq_last: u64,
) -> Result<(usize, u64, Option<RecordDefect>), JournalError> {
    let (mut offset, mut seq_next) = (SEGMENT_HEADER_SIZE, seq_first);
    while seq_next <= seq_last {
        match segment::segment_step(context, bytes, offset, seq_next)? {
            Step::Record { size } => (offset, seq_next) = (offset + size, seq_next + 1),
            Step::End => break,
            Step::Torn { defect } => return Ok((offset, seq_next, Some(defect))),
        }
    }
    Ok((offset, seq_next, None))
}

/// Returns the most rotations one batch can need.
///
/// After the first rotation in a batch, a segment is only left for the next when the next
/// record does not fit, so each segment in between takes at least
/// `segment_size_max - SEGMENT_HEADER_SIZE - record_size_max + 1` bytes of the batch, and at
/// least one record.
fn rotations_max(options: &JournalOptions) -> usize {
    let slack =
        options.segment_size_max - SEGMENT_HEADER_SIZE as u64 - u64::from(options.record_size_max)
            + 1;
    let bytes_per_rotation_min = slack.max(RECORD_HEADER_SIZE as u64);
    let rotations = u64::from(options.batch_size_max) / bytes_per_rotation_min + 2;
    usize::try_from(rotations).expect("Invariant: rotations are bounded by the batch size")
}

/// Removes the segments whose records all have sequence numbers `<= seq_covered` (covered by a
/// snapshot), oldest first, and returns their paths. The last segment is never removed, so the
/// writer always finds where the journal continues.
///
/// Segment extents come from the file names (the next segment's first sequence number bounds
/// the previous one); headers are not read.
///
/// # Errors
///
/// Returns `Io` if the directory cannot be listed, a file cannot be removed, or the directory
/// cannot be synced, and `SegmentsTooMany` past `segments_max`.
///
/// # Panics
///
/// Panics only if an internal invariant is broken (a bug).
pub fn segments_remove_covered(
    dir: impl AsRef<Path>,
    options: &JournalOptions,
    seq_covered: u64,
) -> Result<Vec<PathBuf>, JournalError> {
    let dir = dir.as_ref();
    let segments = segment::segments_list(dir, options.segments_max)?;
    let mut removed = Vec::new();
    for pair in segments.windows(2) {
        if pair[1].seq_first - 1 > seq_covered {
            break;
        }
        fs::remove_file(&pair[0].path)
            .map_err(|error| JournalError::io(&pair[0].path, "remove", error))?;
        tracing::info!(path = %pair[0].path.display(), seq_covered, "journal: segment removed");
        removed.push(pair[0].path.clone());
    }
    if !removed.is_empty() {
        segment::directory_sync(dir)?;
    }
    assert!(removed.len() < segments.len().max(1), "Invariant: the last segment stays");
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalReader;

    fn options_small() -> JournalOptions {
        JournalOptions {
            durability: Durability::None,
            record_size_max: 256,
            segment_size_max: 1024,
            batch_size_max: 8 * 1024,
            ..JournalOptions::default()
        }
    }

    #[test]
    fn rotations_max_bounds_a_batch_of_smallest_records() {
        assert_eq!(rotations_max(&JournalOptions::default()), 2);
        let options = options_small();
        let bound = rotations_max(&options);
        // Fill one batch with the smallest records: every segment takes at least the slack.
        let dir = tempfile::tempdir().unwrap();
        let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        let mut seq = 1;
        while writer.append(seq, 0, 0, b"").is_ok() {
            seq += 1;
        }
        assert!(writer.rotations.len() <= bound);
        assert_eq!(writer.commit().unwrap(), seq - 1);
    }

    /// One batch larger than a segment is split over several new segments by one commit.
    #[test]
    fn one_commit_spans_several_segments() {
        let dir = tempfile::tempdir().unwrap();
        let options = options_small();
        let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        for seq in 1..=100 {
            writer.append(seq, seq * 10, 1, &[seq as u8; 50]).unwrap();
        }
        assert!(writer.rotations.len() > 5, "{} rotations", writer.rotations.len());
        assert_eq!(writer.commit().unwrap(), 100);
        assert!(writer.rotations.is_empty());
        drop(writer);
        let mut reader = JournalReader::open(dir.path(), &options, 1).unwrap();
        let mut seq_expected = 1;
        while let Some(record) = reader.next_record().unwrap() {
            assert_eq!(record.seq, seq_expected);
            assert_eq!(record.timestamp_ns, seq_expected * 10);
            assert_eq!(record.payload, &[seq_expected as u8; 50]);
            seq_expected += 1;
        }
        assert_eq!(seq_expected, 101);
    }

    #[test]
    fn failed_commit_poisons_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal");
        let mut writer = JournalWriter::open(&journal, options_small()).unwrap();
        writer.append(1, 0, 0, b"lost").unwrap();
        fs::remove_dir(&journal).unwrap();
        let error = writer.commit().unwrap_err();
        assert!(matches!(error, JournalError::Io { operation: "create", .. }), "{error}");
        assert_eq!(writer.batch_size(), 0);
        writer.append(2, 0, 0, b"also lost").unwrap();
        assert!(matches!(writer.commit(), Err(JournalError::Poisoned)));
        assert_eq!(writer.seq_durable(), 0);
    }

    /// Regression (issue 7, fuzzing): the writer rotated into new segments without counting
    /// them, so it could write a journal with more than `segments_max` segments, which neither
    /// the reader nor the writer would open again (`SegmentsTooMany`). Found by
    /// `segments::prop_arbitrary_segments_replay_consistently`.
    #[test]
    fn commit_never_starts_segments_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let options = JournalOptions { segments_max: 2, ..options_small() };
        let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        for seq in 1..=10 {
            writer.append(seq, seq, 1, &[1; 150]).unwrap();
        }
        assert_eq!(writer.commit().unwrap(), 10, "two segments of five records");
        writer.append(11, 11, 1, &[1; 150]).unwrap();
        let error = writer.commit().unwrap_err();
        assert!(matches!(error, JournalError::SegmentsTooMany { count_max: 2, .. }), "{error}");
        drop(writer);
        let mut reader = JournalReader::open(dir.path(), &options, 1).unwrap();
        let mut seq_last = 0;
        while let Some(record) = reader.next_record().unwrap() {
            seq_last = record.seq;
        }
        assert_eq!(seq_last, 10, "the journal still opens, with what was committed");
        let writer = JournalWriter::open(dir.path(), options).unwrap();
        assert_eq!(writer.seq_next(), Some(11));
    }

    #[test]
    fn batch_capacity_is_fixed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let options = options_small();
        let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        let capacity = writer.batch.capacity();
        let rotations = writer.rotations.capacity();
        assert_eq!(capacity, options.batch_size_max as usize);
        let mut seq = 1;
        for round in 0..20 {
            while writer.append(seq, 0, 0, &[round; 100]).is_ok() {
                seq += 1;
            }
            writer.commit().unwrap();
            assert_eq!(
                (writer.batch.capacity(), writer.rotations.capacity()),
                (capacity, rotations)
            );
        }
    }
}
