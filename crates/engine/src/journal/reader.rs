//! The journal reader: replays records from a sequence number on, checking every one.

use std::fmt;
use std::path::Path;

use crate::journal::error::{JournalError, TornDefect, TornTail};
use crate::journal::format::{self, Record, SEGMENT_HEADER_SIZE};
use crate::journal::segment::{self, SegmentFile, Step, StepContext};
use crate::journal::{JournalOptions, SEGMENT_SIZE_LIMIT};

/// Replays a journal's records in sequence order, from a given sequence number on.
///
/// Every record is checked (checksum, consecutive sequence numbers, segment headers) before it
/// is handed out; records before the requested start are checked and skipped. A torn tail ends
/// the replay and is reported by [`torn_tail`](Self::torn_tail); the reader never modifies the
/// files (the writer cuts the tail when it opens). Records borrow the reader's buffer, which
/// holds one segment at a time and is reused.
pub struct JournalReader {
    /// The shard and limits the segments are checked against.
    options: JournalOptions,
    /// The segments to read, in order: the one holding `seq_from` and all after it.
    segments: Vec<SegmentFile>,
    /// The index in `segments` of the segment being read.
    segment_index: usize,
    /// Whether `buffer` holds `segments[segment_index]`.
    segment_loaded: bool,
    /// The bytes of the segment being read; reused for each segment.
    buffer: Vec<u8>,
    /// The offset in `buffer` of the next record.
    offset: usize,
    /// The first sequence number handed out.
    seq_from: u64,
    /// The sequence number the next record must carry; `None` before the first segment loads.
    seq_next: Option<u64>,
    /// The torn tail that ended the replay, if any.
    torn_tail: Option<TornTail>,
    /// Set once the replay has ended.
    done: bool,
}

impl fmt::Debug for JournalReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalReader")
            .field("segment", &self.segments.get(self.segment_index).map(|s| &s.path))
            .field("offset", &self.offset)
            .field("seq_next", &self.seq_next)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl JournalReader {
    /// Opens the journal in `dir` for replay from `seq_from` on (for example, a snapshot's
    /// sequence number plus one). A missing directory or one without segments reads as an
    /// empty journal.
    ///
    /// # Errors
    ///
    /// Returns `Options` for inconsistent limits, `Io` if the directory cannot be read,
    /// `SegmentsTooMany` past `segments_max`, and `SeqBeforeJournal` if the journal starts
    /// after `seq_from` (the records before were removed).
    ///
    /// # Panics
    ///
    /// Panics if `seq_from` is 0: sequence numbers start at 1.
    pub fn open(
        dir: impl AsRef<Path>,
        options: &JournalOptions,
        seq_from: u64,
    ) -> Result<Self, JournalError> {
        let dir = dir.as_ref();
        assert!(seq_from >= 1, "Invariant: sequence numbers start at 1");
        options.validate()?;
        let exists = dir.try_exists().map_err(|error| JournalError::io(dir, "stat", error))?;
        let mut segments = Vec::new();
        if exists {
            segments = segment::segments_list(dir, options.segments_max)?;
        }
        if let Some(first) = segments.first()
            && seq_from < first.seq_first
        {
            return Err(JournalError::SeqBeforeJournal { seq_from, seq_first: first.seq_first });
        }
        let start = segments.partition_point(|segment| segment.seq_first <= seq_from);
        segments.drain(..start.saturating_sub(1));
        let mut size_max = 0;
        for segment in &segments {
            size_max = size_max.max(segment::segment_size(&segment.path)?);
        }
        let capacity = size_max.min(SEGMENT_SIZE_LIMIT) + 1;
        Ok(Self {
            options: options.clone(),
            done: segments.is_empty(),
            segments,
            segment_index: 0,
            segment_loaded: false,
            buffer: Vec::with_capacity(usize::try_from(capacity).unwrap_or(usize::MAX)),
            offset: 0,
            seq_from,
            seq_next: None,
            torn_tail: None,
        })
    }

    /// Returns the next record with a sequence number `>= seq_from`, or `None` at the end of
    /// the journal (or at a torn tail).
    ///
    /// # Errors
    ///
    /// Returns `Io` on a failed read, `SegmentHeader` or `SegmentTooLarge` for a bad segment,
    /// `Corrupt` for a damaged record that is not a torn tail, `SequenceGap` for a valid record
    /// or segment out of sequence, and `SeqAfterJournal` if the journal ends before
    /// `seq_from - 1`. After an error the reader is in an unspecified state: drop it.
    ///
    /// # Panics
    ///
    /// Panics only if an internal invariant is broken (a bug in the reader).
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, JournalError> {
        let Some((offset, size)) = self.advance()? else {
            return Ok(None);
        };
        let record = format::record_view(&self.buffer[offset..offset + size]);
        assert!(record.seq >= self.seq_from, "Invariant: records before seq_from are skipped");
        Ok(Some(record))
    }

    /// Walks to the next record to hand out and returns its offset and size in the buffer.
    fn advance(&mut self) -> Result<Option<(usize, usize)>, JournalError> {
        loop {
            if self.done {
                return Ok(None);
            }
            if !self.segment_loaded {
                self.segment_open()?;
                continue;
            }
            let seq_next = self.seq_next.expect("Invariant: a loaded segment sets seq_next");
            let segment = &self.segments[self.segment_index];
            let context = StepContext {
                segment,
                is_last: self.segment_index + 1 == self.segments.len(),
                record_size_max: self.options.record_size_max,
            };
            match segment::segment_step(&context, &self.buffer, self.offset, seq_next)? {
                Step::Record { size } => {
                    let offset = self.offset;
                    self.offset += size;
                    self.seq_next = Some(seq_next + 1);
                    if seq_next >= self.seq_from {
                        return Ok(Some((offset, size)));
                    }
                }
                Step::End => {
                    self.segment_index += 1;
                    self.segment_loaded = false;
                    if self.segment_index == self.segments.len() {
                        self.finish()?;
                    }
                }
                Step::Torn { defect } => {
                    let defect = TornDefect::Record(defect);
                    let torn =
                        segment::torn_tail(segment, &self.buffer, self.offset, seq_next, defect);
                    self.torn_tail = Some(torn);
                    self.finish()?;
                }
            }
        }
    }

    /// Loads the segment at `segment_index` and checks its header.
    fn segment_open(&mut self) -> Result<(), JournalError> {
        assert!(!self.done, "Invariant: no segment loads after the end");
        let segment = &self.segments[self.segment_index];
        let is_last = self.segment_index + 1 == self.segments.len();
        segment::segment_load(&segment.path, &mut self.buffer)?;
        if is_last && let Some(defect) = segment::segment_header_torn(&self.buffer) {
            let seq_next = self.seq_next.unwrap_or(segment.seq_first);
            let defect = TornDefect::Header(defect);
            self.torn_tail = Some(segment::torn_tail(segment, &self.buffer, 0, seq_next, defect));
            return self.finish();
        }
        let header = segment::segment_header(segment, &self.buffer, self.options.shard_id)?;
        if let Some(seq_next) = self.seq_next
            && header.seq_first != seq_next
        {
            return Err(JournalError::SequenceGap {
                path: segment.path.clone(),
                offset: 0,
                seq_expected: seq_next,
                seq_found: header.seq_first,
            });
        }
        self.seq_next = Some(header.seq_first);
        self.offset = SEGMENT_HEADER_SIZE;
        self.segment_loaded = true;
        Ok(())
    }

    /// Ends the replay, checking that the journal reached `seq_from - 1`.
    fn finish(&mut self) -> Result<(), JournalError> {
        self.done = true;
        self.segment_loaded = false;
        match self.seq_next {
            Some(seq_next) if seq_next < self.seq_from => {
                Err(JournalError::SeqAfterJournal { seq_from: self.seq_from, seq_next })
            }
            _ => Ok(()),
        }
    }

    /// Returns the torn tail that ended the replay, if any (the bytes the writer will cut).
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// Returns the sequence number of the record after the last one checked, or `None` if no
    /// segment was read. After the replay has ended, this is where the writer continues.
    pub fn seq_next(&self) -> Option<u64> {
        self.seq_next
    }

    /// Returns whether the replay has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Durability, JournalWriter};

    fn options_small() -> JournalOptions {
        JournalOptions {
            durability: Durability::None,
            record_size_max: 128,
            segment_size_max: 512,
            batch_size_max: 4096,
            ..JournalOptions::default()
        }
    }

    fn journal(dir: &Path, count: u64) {
        let mut writer = JournalWriter::open(dir, options_small()).unwrap();
        for seq in 1..=count {
            writer.append(seq, seq, 0, &seq.to_le_bytes()).unwrap();
        }
        assert_eq!(writer.commit().unwrap(), count);
    }

    #[test]
    fn reads_from_every_start() {
        let dir = tempfile::tempdir().unwrap();
        journal(dir.path(), 60);
        for seq_from in 1..=61 {
            let mut reader = JournalReader::open(dir.path(), &options_small(), seq_from).unwrap();
            let mut seq_expected = seq_from;
            while let Some(record) = reader.next_record().unwrap() {
                assert_eq!(record.seq, seq_expected);
                assert_eq!(record.payload, &seq_expected.to_le_bytes());
                seq_expected += 1;
            }
            assert_eq!(seq_expected, 61, "from {seq_from}");
            assert_eq!(reader.seq_next(), Some(61));
            assert!(reader.is_done());
            assert!(reader.next_record().unwrap().is_none(), "the end is sticky");
        }
    }

    #[test]
    fn record_limit_must_cover_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = JournalWriter::open(dir.path(), options_small()).unwrap();
        writer.append(1, 1, 0, &[1; 100]).unwrap();
        writer.append(2, 2, 0, &[2; 10]).unwrap();
        writer.commit().unwrap();
        let options = JournalOptions { record_size_max: 64, ..options_small() };
        let mut reader = JournalReader::open(dir.path(), &options, 1).unwrap();
        let error = reader.next_record().unwrap_err();
        assert!(matches!(error, JournalError::RecordTooLarge { offset: 32, size: 126, .. }));
    }

    /// A lower limit must not turn the last, valid record into a torn tail that gets cut.
    #[test]
    fn oversized_last_record_is_not_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = JournalWriter::open(dir.path(), options_small()).unwrap();
        writer.append(1, 1, 0, &[1; 100]).unwrap();
        writer.commit().unwrap();
        drop(writer);
        let options = JournalOptions { record_size_max: 64, ..options_small() };
        let mut reader = JournalReader::open(dir.path(), &options, 1).unwrap();
        let error = reader.next_record().unwrap_err();
        assert!(matches!(error, JournalError::RecordTooLarge { .. }), "{error}");
        let error = JournalWriter::open(dir.path(), options).unwrap_err();
        assert!(matches!(error, JournalError::RecordTooLarge { .. }), "{error}");
        let mut reader = JournalReader::open(dir.path(), &options_small(), 1).unwrap();
        assert_eq!(reader.next_record().unwrap().map(|record| record.seq), Some(1));
    }
}
