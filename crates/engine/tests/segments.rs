//! Arbitrary journal directories: the shared driver of the `journal` fuzz target
//! (`fuzz/fuzz_targets/journal.rs`, which includes this file with `#[path]`) and of the
//! proptest below.
//!
//! Goal: whatever bytes the segment files hold, [`JournalReader`] and [`JournalWriter`] never
//! panic and never hand out a record that was not written whole, and recovery is consistent:
//! - a reader hands out records with consecutive sequence numbers from `seq_from` on, each
//!   within `record_size_max`;
//! - when a full replay succeeds, the writer opens too, continues at the same sequence number,
//!   and after it has cut the torn tail and appended records, a replay returns exactly the
//!   records replayed before plus the appended ones, with no torn tail.
//!
//! Method: a [`Case`] describes up to four segment files. Each is mostly well formed (a valid
//! header, records with correct sizes and checksums numbered on from the previous segment) so
//! that the reader gets past the checksums, then damaged on purpose: a wrong name, header field,
//! sequence number, size or checksum, flipped bytes, a truncation, trailing garbage, or a file of
//! raw bytes.

use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use birzha_engine::journal::{
    Durability, FORMAT_VERSION, JournalError, JournalOptions, JournalReader, JournalWriter,
    RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, SEGMENT_MAGIC, SEQ_MAX,
};

/// The most segment files and records per segment a case writes.
const SEGMENTS_MAX: usize = 4;
const RECORDS_MAX: usize = 24;

/// One generated journal directory and what to do with it.
#[derive(Debug)]
pub(crate) struct Case {
    /// `record_size_max` is `RECORD_HEADER_SIZE + record_extra`.
    record_extra: u8,
    /// `segment_size_max` is a header, one record and `segment_extra % 4096` bytes.
    segment_extra: u16,
    /// Read with shard 1 instead of 0.
    other_shard: bool,
    /// The first sequence number of the partial replay, `1 + seq_from % 64`.
    seq_from: u8,
    segments: Vec<SegmentCase>,
    /// Records appended after the writer opens, `appends % 8`.
    appends: u8,
}

#[derive(Debug)]
struct SegmentCase {
    name: Name,
    /// A defect of the header, seldom.
    header: Rare<Header>,
    records: Vec<RecordCase>,
    /// Bytes flipped: (offset modulo the length, xor mask).
    flips: Vec<(u16, u8)>,
    truncate: Option<u16>,
    garbage: Vec<u8>,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        Ok(Case {
            record_extra: u.arbitrary()?,
            segment_extra: u.arbitrary()?,
            other_shard: u.arbitrary()?,
            seq_from: u.arbitrary()?,
            appends: u.arbitrary()?,
            segments: vec_of(u, SEGMENTS_MAX)?,
        })
    }
}

impl<'a> Arbitrary<'a> for SegmentCase {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<SegmentCase> {
        Ok(SegmentCase {
            name: u.arbitrary()?,
            header: u.arbitrary()?,
            truncate: u.arbitrary::<Rare<u16>>()?.0,
            flips: if u.arbitrary::<Rare<()>>()?.0.is_some() { vec_of(u, 3)? } else { Vec::new() },
            garbage: if u.arbitrary::<Rare<()>>()?.0.is_some() {
                vec_of(u, 64)?
            } else {
                Vec::new()
            },
            records: vec_of(u, RECORDS_MAX)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Name {
    /// Mostly the name that follows on.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Name> {
        Ok(match u.arbitrary::<u8>()? {
            0..=219 => Name::Follows,
            220..=239 => Name::Seq(u.arbitrary()?),
            240..=249 => Name::Huge(u.arbitrary()?),
            _ => Name::Foreign,
        })
    }
}

/// A value present one time in 32 (never when the bytes have run out).
#[derive(Debug, Clone, Copy)]
struct Rare<T>(Option<T>);

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Rare<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Rare<T>> {
        let present = u.arbitrary::<u8>()? >= 248;
        Ok(Rare(if present { Some(u.arbitrary()?) } else { None }))
    }
}

/// Up to `count_max` elements, the count read first (the derived `Vec` stops at random after a
/// couple of elements when the bytes are random, as in the proptest).
fn vec_of<'a, T: Arbitrary<'a>>(
    u: &mut Unstructured<'a>,
    count_max: usize,
) -> arbitrary::Result<Vec<T>> {
    let count = usize::from(u.arbitrary::<u8>()?) % (count_max + 1);
    (0..count).map(|_| u.arbitrary()).collect()
}

#[derive(Debug, Clone, Copy)]
enum Name {
    /// The sequence number after the previous segment's last record.
    Follows,
    Seq(u8),
    Huge(u64),
    /// Not a segment name: ignored.
    Foreign,
}

#[derive(Arbitrary, Debug, Clone)]
enum Header {
    /// First sequence number off by this much from the name.
    SeqOff(i8),
    Shard(u32),
    Version(u16),
    Reserved,
    Magic,
    Zeros(u8),
    Short(u8),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct RecordCase {
    /// Another sequence number than the next, seldom.
    seq: Rare<RecordSeq>,
    timestamp_ns: u64,
    kind: u16,
    payload_len: u8,
    /// A size field other than the record's, seldom.
    size: Rare<u32>,
    /// A wrong checksum from 252 on.
    checksum: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RecordSeq {
    Repeat,
    Skip(u8),
    Any(u64),
}

/// One record handed out by a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Replayed {
    seq: u64,
    timestamp_ns: u64,
    kind: u16,
    payload: Vec<u8>,
}

/// What a full replay returned.
#[derive(Debug)]
struct Replay {
    records: Vec<Replayed>,
    torn: bool,
    seq_next: Option<u64>,
}

/// Runs one case in a fresh temporary directory.
pub(crate) fn run(case: &Case) {
    let dir = temporary_dir();
    let record_size_max = RECORD_HEADER_SIZE as u32 + u32::from(case.record_extra);
    let options = JournalOptions {
        shard_id: u32::from(case.other_shard),
        durability: Durability::None,
        record_size_max,
        segment_size_max: (SEGMENT_HEADER_SIZE as u64)
            + u64::from(record_size_max)
            + u64::from(case.segment_extra % 4096),
        batch_size_max: 64 * 1024,
        segments_max: SEGMENTS_MAX as u32,
    };
    write_segments(dir.path(), case);
    let seq_from = 1 + u64::from(case.seq_from % 64);
    if let Ok(replay) = replay(dir.path(), &options, seq_from) {
        let first = replay.records.first().map(|record| record.seq);
        assert!(first.is_none_or(|seq| seq == seq_from), "replay starts at {seq_from}");
    }
    // A full replay from the first segment, then the writer on the same files.
    let first = seq_first(dir.path());
    if first == Some(0) {
        // A segment named 0 lies before any number a replay may start from (1): no replay reads
        // it, the writer may, so there is no full replay to compare the writer with.
        let _ = JournalWriter::open(dir.path(), options);
        return;
    }
    let before = first.map(|start| replay(dir.path(), &options, start));
    let mut expected = match (&before, JournalWriter::open(dir.path(), options.clone())) {
        (Some(Ok(replay)), Err(error)) => {
            panic!("replay succeeded, writer failed: {error}\n{replay:?}")
        }
        (_, Err(_)) | (Some(Err(_)), Ok(_)) => return,
        (None, Ok(writer)) => {
            assert_eq!(writer.seq_next(), None, "no segment, nothing to continue");
            (Vec::new(), writer)
        }
        (Some(Ok(replay)), Ok(writer)) => {
            assert_eq!(writer.seq_next(), replay.seq_next, "writer and reader agree");
            (replay.records.clone(), writer)
        }
    };
    let (records, writer) = &mut expected;
    let seq_next = writer.seq_next().unwrap_or(1);
    let appends = u64::from(case.appends % 8);
    if seq_next + appends > SEQ_MAX {
        return;
    }
    let replayed = records.len();
    for seq in seq_next..seq_next + appends {
        let payload = payload(seq, case.record_extra.min(7));
        let record = Replayed { seq, timestamp_ns: seq, kind: 9, payload };
        let appended = writer.append(seq, record.timestamp_ns, record.kind, &record.payload);
        appended.expect("a small record fits");
        records.push(record);
    }
    match writer.commit() {
        Ok(_) => {}
        // Refused before anything was written: the journal stays as it was.
        Err(JournalError::SegmentsTooMany { .. }) => records.truncate(replayed),
        Err(error) => panic!("commit in a temporary directory: {error}"),
    }
    let (records, writer) = expected;
    drop(writer);
    let Some(start) = seq_first(dir.path()) else {
        assert!(records.is_empty(), "appended records are in a segment");
        return;
    };
    let after = replay(dir.path(), &options, start.max(1)).expect("the writer left it clean");
    assert!(!after.torn, "the writer cut the torn tail");
    assert_eq!(after.records, records, "the records before and the appended ones");
}

/// A temporary directory, in memory when the system has one.
fn temporary_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() };
    dir.expect("a temporary directory")
}

/// The smallest first sequence number among the segment files' names.
fn seq_first(dir: &Path) -> Option<u64> {
    fs::read_dir(dir)
        .expect("the temporary directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let digits = name.strip_prefix("journal-")?.strip_suffix(".bjl")?;
            if digits.len() != 20 {
                return None;
            }
            digits.parse::<u64>().ok()
        })
        .min()
}

/// Replays from `seq_from`, checking each record.
fn replay(dir: &Path, options: &JournalOptions, seq_from: u64) -> Result<Replay, JournalError> {
    let mut reader = JournalReader::open(dir, options, seq_from)?;
    let mut records: Vec<Replayed> = Vec::new();
    while let Some(record) = reader.next_record()? {
        let seq_expected = records.last().map_or(seq_from, |last| last.seq + 1);
        assert_eq!(record.seq, seq_expected, "records are consecutive");
        assert!(record.payload.len() + RECORD_HEADER_SIZE <= options.record_size_max as usize);
        records.push(Replayed {
            seq: record.seq,
            timestamp_ns: record.timestamp_ns,
            kind: record.kind,
            payload: record.payload.to_vec(),
        });
    }
    assert!(reader.is_done(), "the end of a replay is final");
    assert!(reader.next_record()?.is_none(), "the end of a replay is final");
    Ok(Replay { records, torn: reader.torn_tail().is_some(), seq_next: reader.seq_next() })
}

/// Writes the case's segment files.
fn write_segments(dir: &Path, case: &Case) {
    let mut seq_next = 1u64;
    for (index, segment) in case.segments.iter().take(SEGMENTS_MAX).enumerate() {
        let seq_first = match segment.name {
            Name::Follows | Name::Foreign => seq_next,
            Name::Seq(seq) => u64::from(seq),
            Name::Huge(seq) => seq,
        };
        let mut bytes = header(segment.header.0.as_ref(), seq_first, u32::from(case.other_shard));
        let mut seq = seq_first;
        for record in segment.records.iter().take(RECORDS_MAX) {
            seq = match record.seq.0 {
                None => seq,
                Some(RecordSeq::Repeat) => seq.saturating_sub(1),
                Some(RecordSeq::Skip(skip)) => seq.saturating_add(1 + u64::from(skip % 4)),
                Some(RecordSeq::Any(any)) => any,
            };
            record_encode(&mut bytes, seq, record, case.record_extra);
            seq = seq.saturating_add(1);
        }
        seq_next = seq;
        for &(offset, mask) in &segment.flips {
            if !bytes.is_empty() {
                let at = usize::from(offset) % bytes.len();
                bytes[at] ^= mask;
            }
        }
        if let Some(length) = segment.truncate {
            bytes.truncate(usize::from(length));
        }
        bytes.extend(segment.garbage.iter().take(128));
        let name = match segment.name {
            Name::Foreign => format!("journal-{seq_first}-{index}.bjl"),
            _ => format!("journal-{seq_first:020}.bjl"),
        };
        fs::write(dir.join(PathBuf::from(name)), bytes).expect("write a segment");
    }
}

/// A segment header for `seq_first`, with `defect` if any.
fn header(defect: Option<&Header>, seq_first: u64, shard: u32) -> Vec<u8> {
    let (mut seq, mut shard, mut version) = (seq_first, shard, FORMAT_VERSION);
    match defect {
        Some(Header::SeqOff(offset)) => seq = seq.saturating_add_signed(i64::from(*offset)),
        Some(Header::Shard(other)) => shard = *other,
        Some(Header::Version(other)) => version = *other,
        Some(Header::Zeros(length)) => return vec![0; usize::from(*length)],
        Some(Header::Raw(bytes)) => return bytes.iter().copied().take(64).collect(),
        _ => {}
    }
    let mut bytes = SEGMENT_MAGIC.to_vec();
    if matches!(defect, Some(Header::Magic)) {
        bytes[0] ^= 1;
    }
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&u16::from(matches!(defect, Some(Header::Reserved))).to_le_bytes());
    bytes.extend_from_slice(&shard.to_le_bytes());
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    let checksum = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    if let Some(Header::Short(length)) = defect {
        bytes.truncate(usize::from(*length) % SEGMENT_HEADER_SIZE);
    }
    bytes
}

/// Appends a record whose payload fits `payload_max` (unless its size field says otherwise).
fn record_encode(bytes: &mut Vec<u8>, seq: u64, record: &RecordCase, payload_max: u8) {
    let payload = payload(seq, record.payload_len % payload_max.saturating_add(1));
    let size = (RECORD_HEADER_SIZE + payload.len()) as u32;
    let start = bytes.len();
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&record.size.0.unwrap_or(size).to_le_bytes());
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(&record.timestamp_ns.to_le_bytes());
    bytes.extend_from_slice(&record.kind.to_le_bytes());
    bytes.extend_from_slice(&payload);
    let checksum = crc32c::crc32c(&bytes[start + 4..]) ^ u32::from(record.checksum >= 252);
    bytes[start..start + 4].copy_from_slice(&checksum.to_le_bytes());
}

fn payload(seq: u64, length: u8) -> Vec<u8> {
    (0..u64::from(length)).map(|index| (seq.wrapping_mul(31) ^ index) as u8).collect()
}

/// The stable-toolchain equivalent of the `journal` fuzz target.
#[cfg(test)]
mod property_tests {
    use arbitrary::{Arbitrary, Unstructured};
    use proptest::prelude::*;

    use super::{Case, run};

    /// `default` cases, or `PROPTEST_CASES` for a longer run.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(512)))]

        #[test]
        fn prop_arbitrary_segments_replay_consistently(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let case = Case::arbitrary(&mut Unstructured::new(&bytes)).expect("any bytes");
            run(&case);
        }
    }
}
