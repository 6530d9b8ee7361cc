//! Journal round trips and the corruption policy.
//!
//! Method: write a journal with deterministic record contents (see `util::payload`), damage the
//! files with plain file operations (truncate, flip a byte, remove a segment), then check what
//! the reader hands out and reports and what the writer repairs or refuses.

use std::fs::{self, OpenOptions};

use birzha_engine::journal::{
    AppendError, Durability, HeaderDefect, JournalError, JournalOptions, JournalReader,
    JournalWriter, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, SEGMENT_SIZE_LIMIT, TornDefect,
    segments_remove_covered,
};
use proptest::prelude::*;

use crate::util::{self, Rng, options_small};

/// The largest payload the tests write: records stay under `options_small().record_size_max`.
const PAYLOAD_SIZE_MAX: usize = 200;

/// Writes records `1..=count` in batches of `batch` into a fresh journal.
fn journal_write(dir: &std::path::Path, count: u64, batch: u64) {
    let mut writer = JournalWriter::open(dir, options_small()).unwrap();
    let durable = util::append_range(&mut writer, 1, count, batch, PAYLOAD_SIZE_MAX);
    assert_eq!(durable, count);
}

#[test]
fn round_trip_across_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 5_000, 37);
    let segments = util::segments(dir.path());
    assert!(segments.len() > 50, "{} segments", segments.len());
    for path in &segments {
        let size = fs::metadata(path).unwrap().len();
        assert!(size <= options.segment_size_max, "{}: {size} bytes", path.display());
    }
    let name = segments[0].file_name().unwrap().to_str().unwrap();
    assert_eq!(name, "journal-00000000000000000001.bjl");
    let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs, (1..=5_000).collect::<Vec<u64>>());
    assert!(replay.torn_tail.is_none());
    // Replay from the middle of a segment, from a segment's first record, and from the end.
    for seq_from in [2_345, 4_999, 5_000, 5_001] {
        let replay = util::replay(dir.path(), &options, seq_from, PAYLOAD_SIZE_MAX).unwrap();
        assert_eq!(replay.seqs, (seq_from..=5_000).collect::<Vec<u64>>());
    }
}

#[test]
fn fsync_durability_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions { durability: Durability::Fsync, ..options_small() };
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    assert_eq!(util::append_range(&mut writer, 1, 300, 50, PAYLOAD_SIZE_MAX), 300);
    assert_eq!(writer.commit().unwrap(), 300, "an empty commit returns the durable seq");
    drop(writer);
    let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs.len(), 300);
}

#[test]
fn reopen_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    for round in 0..5_u64 {
        let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        let seq_first = round * 100 + 1;
        let expected_next = (round > 0).then_some(seq_first);
        assert_eq!(writer.seq_next(), expected_next);
        assert_eq!(writer.seq_durable(), seq_first - 1);
        assert!(writer.torn_tail().is_none());
        util::append_range(&mut writer, seq_first, seq_first + 99, 9, PAYLOAD_SIZE_MAX);
    }
    let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs, (1..=500).collect::<Vec<u64>>());
}

#[test]
fn journal_may_start_after_one() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    util::append_range(&mut writer, 1_001, 1_100, 10, PAYLOAD_SIZE_MAX);
    drop(writer);
    let replay = util::replay(dir.path(), &options, 1_001, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs, (1_001..=1_100).collect::<Vec<u64>>());
    let error = JournalReader::open(dir.path(), &options, 1_000).unwrap_err();
    assert!(matches!(error, JournalError::SeqBeforeJournal { seq_from: 1_000, seq_first: 1_001 }));
    let error = util::replay(dir.path(), &options, 1_102, PAYLOAD_SIZE_MAX).unwrap_err();
    assert!(matches!(error, JournalError::SeqAfterJournal { seq_from: 1_102, seq_next: 1_101 }));
}

#[test]
fn empty_journal_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    let replay = util::replay(&dir.path().join("absent"), &options, 1, 0).unwrap();
    assert!(replay.seqs.is_empty());
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    assert_eq!(writer.commit().unwrap(), 0);
    assert!(util::segments(dir.path()).is_empty(), "no segment before the first record");
}

#[test]
fn append_limits_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions { batch_size_max: 1024, ..options_small() };
    let mut writer = JournalWriter::open(dir.path(), options).unwrap();
    let error = writer.append(1, 0, 0, &[0; 512]).unwrap_err();
    assert_eq!(error, AppendError::RecordTooLarge { size: 538, size_max: 512 });
    for seq in 1..=3 {
        writer.append(seq, 0, 0, &[1; 300]).unwrap();
    }
    let error = writer.append(4, 0, 0, &[1; 300]).unwrap_err();
    assert_eq!(error, AppendError::BatchFull { size: 326, free: 1024 - 3 * 326 });
    assert_eq!(writer.commit().unwrap(), 3);
    writer.append(4, 0, 0, &[1; 300]).unwrap();
    assert_eq!(writer.commit().unwrap(), 4);
}

#[test]
#[should_panic(expected = "consecutive")]
fn append_out_of_sequence_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = JournalWriter::open(dir.path(), options_small()).unwrap();
    writer.append(1, 0, 0, b"").unwrap();
    let _ignored = writer.append(3, 0, 0, b"");
}

/// Cuts the last record at every byte offset: each cut is reported as a torn tail at the
/// record's start, the reader hands out nothing from it, and the writer truncates it and
/// continues with the same sequence number.
#[test]
fn torn_tail_at_every_offset_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 120, 7);
    let last = util::segments(dir.path()).pop().unwrap();
    let intact = fs::read(&last).unwrap();
    let record_start = *util::record_offsets(&last).last().unwrap();
    assert!(intact.len() - record_start > RECORD_HEADER_SIZE);
    for cut in 1..intact.len() - record_start {
        let length = intact.len() - cut;
        fs::write(&last, &intact[..length]).unwrap();
        let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
        assert_eq!(replay.seqs, (1..=119).collect::<Vec<u64>>(), "cut {cut}");
        let torn = replay.torn_tail.expect("a torn tail");
        assert_eq!(torn.path, last);
        assert_eq!(torn.offset, record_start as u64);
        assert_eq!(torn.bytes_cut, (length - record_start) as u64);
        assert_eq!(torn.seq_next, 120);
        assert!(matches!(torn.defect, TornDefect::Record(_)), "{torn}");
        assert_eq!(fs::metadata(&last).unwrap().len(), length as u64, "the reader cuts nothing");

        let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        assert_eq!(writer.torn_tail(), Some(&torn));
        assert_eq!(fs::metadata(&last).unwrap().len(), record_start as u64, "the writer cuts");
        assert_eq!(writer.seq_next(), Some(120));
        util::append_range(&mut writer, 120, 120, 1, PAYLOAD_SIZE_MAX);
        drop(writer);
        let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
        assert_eq!(replay.seqs.len(), 120);
        assert!(replay.torn_tail.is_none());
        fs::write(&last, &intact).unwrap();
    }
}

#[test]
fn flipped_byte_in_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 60, 60);
    let last = util::segments(dir.path()).pop().unwrap();
    let intact = fs::read(&last).unwrap();
    let record_start = *util::record_offsets(&last).last().unwrap();
    for index in record_start..intact.len() {
        util::byte_flip(&last, index);
        let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
        assert_eq!(replay.seqs.len(), 59, "byte {index}");
        let torn = replay.torn_tail.expect("a torn tail");
        assert_eq!((torn.offset, torn.seq_next), (record_start as u64, 60), "byte {index}");
        fs::write(&last, &intact).unwrap();
    }
}

/// A flipped byte in a record followed by valid records is corruption, wherever in the record
/// the byte is: both the reader and the writer refuse, naming the file and the offset.
#[test]
fn flipped_byte_in_middle_record_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 60, 10);
    let last = util::segments(dir.path()).pop().unwrap();
    let offsets = util::record_offsets(&last);
    assert!(offsets.len() >= 3, "{} records in the last segment", offsets.len());
    let middle = offsets.len() / 2;
    let intact = fs::read(&last).unwrap();
    for index in offsets[middle]..offsets[middle + 1] {
        util::byte_flip(&last, index);
        let error = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap_err();
        let JournalError::Corrupt { path, offset, offset_valid_next, .. } = &error else {
            panic!("byte {index}: {error}");
        };
        assert_eq!((path, *offset), (&last, offsets[middle] as u64), "byte {index}");
        assert!(offset_valid_next.is_some(), "byte {index}");
        let message = error.to_string();
        assert!(message.contains(&format!("offset {}", offsets[middle])), "{message}");
        assert!(message.contains(last.file_name().unwrap().to_str().unwrap()), "{message}");
        let error = JournalWriter::open(dir.path(), options.clone()).unwrap_err();
        assert!(matches!(error, JournalError::Corrupt { .. }), "byte {index}: {error}");
        assert_eq!(fs::read(&last).unwrap().len(), intact.len(), "nothing was cut");
        fs::write(&last, &intact).unwrap();
    }
}

#[test]
fn flipped_byte_in_earlier_segment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 300, 300);
    let segments = util::segments(dir.path());
    let first = &segments[0];
    let last_record = *util::record_offsets(first).last().unwrap();
    util::byte_flip(first, last_record + RECORD_HEADER_SIZE);
    let error = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap_err();
    let JournalError::Corrupt { path, offset, offset_valid_next: None, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!((path, *offset), (first, last_record as u64));
    // Replay from a later segment does not read the damaged one.
    let seq_from = 200;
    let replay = util::replay(dir.path(), &options, seq_from, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs.first(), Some(&seq_from));
}

#[test]
fn missing_segment_is_a_sequence_gap() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 300, 300);
    let segments = util::segments(dir.path());
    fs::remove_file(&segments[2]).unwrap();
    let error = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap_err();
    let JournalError::SequenceGap { path, offset: 0, seq_expected, seq_found } = &error else {
        panic!("{error}");
    };
    assert_eq!(path, &segments[3]);
    assert!(seq_expected < seq_found, "{error}");
}

#[test]
fn foreign_shard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    journal_write(dir.path(), 10, 10);
    let options = JournalOptions { shard_id: 4, ..options_small() };
    let error = JournalWriter::open(dir.path(), options.clone()).unwrap_err();
    let JournalError::SegmentHeader { defect, .. } = error else { panic!("{error}") };
    assert_eq!(defect, HeaderDefect::Shard { found: 3, expected: 4 });
    let error = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap_err();
    assert!(matches!(error, JournalError::SegmentHeader { .. }), "{error}");
}

/// A crash while creating a segment leaves a file shorter than a header (or zeros): it is
/// removed and the journal continues from the segment before.
#[test]
fn half_created_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 50, 50);
    let next = dir.path().join("journal-00000000000000000051.bjl");
    for contents in [vec![], b"BIRZHA".to_vec(), vec![0; 100]] {
        fs::write(&next, &contents).unwrap();
        let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
        assert_eq!(replay.seqs.len(), 50);
        let torn = replay.torn_tail.expect("a torn tail");
        assert!(matches!(torn.defect, TornDefect::Header(_)), "{torn}");
        assert_eq!((torn.offset, torn.bytes_cut), (0, contents.len() as u64));
        let writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        assert!(!next.exists());
        assert_eq!(writer.seq_next(), Some(51));
        assert_eq!(writer.torn_tail().map(|torn| torn.path.clone()), Some(next.clone()));
    }
}

#[test]
fn garbage_after_the_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 20, 20);
    let last = util::segments(dir.path()).pop().unwrap();
    let size = fs::metadata(&last).unwrap().len();
    let mut file = OpenOptions::new().append(true).open(&last).unwrap();
    std::io::Write::write_all(&mut file, &[0; 300]).unwrap();
    drop(file);
    let writer = JournalWriter::open(dir.path(), options).unwrap();
    let torn = writer.torn_tail().unwrap();
    assert_eq!((torn.offset, torn.bytes_cut), (size, 300));
    assert_eq!(fs::metadata(&last).unwrap().len(), size);
}

#[test]
fn covered_segments_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 400, 400);
    let before = util::segments(dir.path());
    let removed = segments_remove_covered(dir.path(), &options, 250).unwrap();
    assert!(!removed.is_empty());
    assert_eq!(removed, before[..removed.len()]);
    let replay = util::replay(dir.path(), &options, 251, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs, (251..=400).collect::<Vec<u64>>());
    let error = JournalReader::open(dir.path(), &options, 1).unwrap_err();
    assert!(matches!(error, JournalError::SeqBeforeJournal { seq_from: 1, .. }), "{error}");
    // Everything is covered: the last segment stays, so the writer continues after 400.
    segments_remove_covered(dir.path(), &options, 400).unwrap();
    assert_eq!(util::segments(dir.path()).len(), 1);
    let writer = JournalWriter::open(dir.path(), options).unwrap();
    assert_eq!(writer.seq_next(), Some(401));
}

/// `segment_size_max` only says when a new segment starts: segments written with a larger one
/// are read whole, and the writer starts a new segment at once.
#[test]
fn a_lowered_segment_limit_reads_the_segments_written_before() {
    let dir = tempfile::tempdir().unwrap();
    journal_write(dir.path(), 300, 300);
    let options = JournalOptions { segment_size_max: 2048, ..options_small() };
    let replay = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
    assert_eq!(replay.seqs, (1..=300).collect::<Vec<_>>());
    let segments = util::segments(dir.path()).len();
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    writer.append(301, util::timestamp(301), util::kind(301), b"after").unwrap();
    assert_eq!(writer.commit().unwrap(), 301);
    assert_eq!(util::segments(dir.path()).len(), segments + 1);
    assert_eq!(SEGMENT_HEADER_SIZE, 32);
}

/// Random segment sizes, payload sizes, batch boundaries and reopen points: whatever the
/// stream, the reader returns exactly the records appended, in order.
fn round_trip_random(seed: u64) {
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let payload_size_max = rng.range(0, 300) as usize;
    let record_size_max = (RECORD_HEADER_SIZE + payload_size_max) as u32;
    let options = JournalOptions {
        record_size_max,
        segment_size_max: rng.range(u64::from(record_size_max) + 32, 8_192),
        batch_size_max: record_size_max * rng.range(1, 64) as u32,
        ..options_small()
    };
    let count = rng.range(0, 400);
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    for seq in 1..=count {
        if rng.range(0, 50) == 0 {
            writer.commit().unwrap();
            writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
        }
        let payload = util::payload(seq, payload_size_max);
        let appended = writer.append(seq, util::timestamp(seq), util::kind(seq), &payload);
        if let Err(AppendError::BatchFull { .. }) = appended {
            writer.commit().unwrap();
            writer.append(seq, util::timestamp(seq), util::kind(seq), &payload).unwrap();
        }
        if rng.range(0, 10) == 0 {
            assert_eq!(writer.commit().unwrap(), seq);
        }
    }
    assert_eq!(writer.commit().unwrap(), count);
    let replay = util::replay(dir.path(), &options, 1, payload_size_max).unwrap();
    assert_eq!(replay.seqs, (1..=count).collect::<Vec<u64>>(), "seed {seed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_round_trip_random_streams(seed in any::<u64>()) {
        round_trip_random(seed);
    }
}

/// Damages a random segment of a valid journal (flipped bytes, truncation, appended or
/// overwritten garbage) and checks that the reader and the writer never panic and never hand out
/// a damaged record: replay yields a prefix of the records written, or a typed error.
fn damage_random(seed: u64) {
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 200, rng.range(1, 50));
    let segments = util::segments(dir.path());
    let target = &segments[rng.range(0, segments.len() as u64 - 1) as usize];
    let mut bytes = fs::read(target).unwrap();
    for _ in 0..rng.range(1, 3) {
        let offset = rng.range(0, bytes.len() as u64) as usize;
        match rng.range(0, 3) {
            0 if offset < bytes.len() => bytes[offset] ^= 1 << rng.range(0, 7),
            1 => bytes.truncate(offset),
            2 => bytes.extend((0..rng.range(1, 600)).map(|_| rng.next() as u8)),
            _ => {
                let end = (offset + rng.range(1, 64) as usize).min(bytes.len());
                bytes[offset..end].iter_mut().for_each(|byte| *byte = rng.next() as u8);
            }
        }
    }
    fs::write(target, &bytes).unwrap();
    let before = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX);
    if let Ok(replay) = &before {
        assert_eq!(replay.seqs, (1..=replay.seqs.len() as u64).collect::<Vec<u64>>());
    }
    let Ok(writer) = JournalWriter::open(dir.path(), options.clone()) else {
        return;
    };
    drop(writer);
    if let Ok(before) = before {
        let after = util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap();
        assert_eq!(after.seqs, before.seqs, "seed {seed}: the writer cut only the torn tail");
        assert!(after.torn_tail.is_none(), "seed {seed}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_damage_never_panics_nor_hands_out_bad_records(seed in any::<u64>()) {
        damage_random(seed);
    }
}

/// Review (durability): payloads are opaque bytes, but the torn-tail test ("no valid record
/// anywhere after it, every later byte offset is tried") also looks inside the torn record's
/// own payload. A crash that cuts a record after a stretch of its payload that happens to be a
/// well-formed record (any sequence number, correct CRC32C) makes the torn tail read as
/// corruption: the writer refuses to open and the shard cannot start, although nothing of the
/// cut record was ever acknowledged.
#[test]
fn a_torn_record_whose_payload_looks_like_a_record_is_still_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let options = options_small();
    journal_write(dir.path(), 60, 10);
    // The bytes of a well-formed record (seq 7, payload "hello"), taken from another journal.
    let other = tempfile::tempdir().unwrap();
    let mut writer = JournalWriter::open(other.path(), options_small()).unwrap();
    writer.append(7, 7, 1, b"hello").unwrap();
    writer.commit().unwrap();
    drop(writer);
    let image = fs::read(util::segments(other.path()).pop().unwrap()).unwrap()
        [SEGMENT_HEADER_SIZE..]
        .to_vec();
    // Record 61 carries that image in the middle of its payload.
    let mut payload = vec![0x11_u8; 20];
    payload.extend_from_slice(&image);
    payload.extend_from_slice(&[0x22_u8; 60]);
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    writer.append(61, util::timestamp(61), util::kind(61), &payload).unwrap();
    assert_eq!(writer.commit().unwrap(), 61);
    drop(writer);
    // A crash tears record 61 in its last 10 bytes, after the image.
    let last = util::segments(dir.path()).pop().unwrap();
    let record_start = *util::record_offsets(&last).last().unwrap();
    let bytes = fs::read(&last).unwrap();
    fs::write(&last, &bytes[..bytes.len() - 10]).unwrap();

    let writer = JournalWriter::open(dir.path(), options.clone())
        .unwrap_or_else(|error| panic!("the torn record 61 was not cut: {error}"));
    let torn = writer.torn_tail().expect("a torn tail");
    assert_eq!((torn.offset, torn.seq_next), (record_start as u64, 61));
    assert_eq!(writer.seq_next(), Some(61));
}

/// Regression (a review's): `SegmentTooLarge` named the count of bytes read (the limit plus
/// one), not the segment's size, and the limit was the options' `segment_size_max`, so
/// lowering it refused segments written before (`restart::lowering_journal_segment_bytes_…`).
/// Only a segment past `SEGMENT_SIZE_LIMIT` (here grown sparse) is refused, by its real size.
#[test]
fn a_segment_past_the_size_limit_is_refused_by_its_real_size() {
    let dir = tempfile::tempdir().unwrap();
    journal_write(dir.path(), 300, 300);
    let last = util::segments(dir.path()).pop().unwrap();
    let size = SEGMENT_SIZE_LIMIT + 4096;
    OpenOptions::new().write(true).open(&last).unwrap().set_len(size).unwrap();
    let options = options_small();
    for error in [
        util::replay(dir.path(), &options, 1, PAYLOAD_SIZE_MAX).unwrap_err(),
        JournalWriter::open(dir.path(), options.clone()).unwrap_err(),
    ] {
        let JournalError::SegmentTooLarge { path, size: reported, size_max } = &error else {
            panic!("{error}")
        };
        assert_eq!((path, *reported, *size_max), (&last, size, SEGMENT_SIZE_LIMIT), "{error}");
    }
}
