//! Helpers shared by the integration tests: deterministic payloads, a seeded generator and
//! directory listings.

use std::fs;
use std::path::{Path, PathBuf};

use birzha_engine::journal::{
    Durability, JournalError, JournalOptions, JournalReader, JournalWriter, TornTail,
};

/// Options with small segments, so that a few hundred records rotate several times.
pub(crate) fn options_small() -> JournalOptions {
    JournalOptions {
        shard_id: 3,
        durability: Durability::None,
        record_size_max: 512,
        segment_size_max: 4096,
        batch_size_max: 64 * 1024,
        segments_max: 10_000,
    }
}

/// Returns the payload of record `seq`: its length (0..=`size_max`) and bytes derive from the
/// sequence number, so a reader can check any record without keeping a copy.
pub(crate) fn payload(seq: u64, size_max: usize) -> Vec<u8> {
    let mut rng = Rng::new(seq);
    let size = (rng.next() % (size_max as u64 + 1)) as usize;
    (0..size).map(|_| rng.next() as u8).collect()
}

/// Returns the timestamp recorded with `seq`.
pub(crate) fn timestamp(seq: u64) -> u64 {
    1_700_000_000_000_000_000 + seq * 1_000
}

/// Returns the kind recorded with `seq`.
pub(crate) fn kind(seq: u64) -> u16 {
    (seq % 7) as u16
}

/// Appends records `seq_first..=seq_last` with the deterministic contents, committing every
/// `batch` records, and returns the last durable sequence number.
pub(crate) fn append_range(
    writer: &mut JournalWriter,
    seq_first: u64,
    seq_last: u64,
    batch: u64,
    payload_size_max: usize,
) -> u64 {
    let mut durable = writer.seq_durable();
    for seq in seq_first..=seq_last {
        writer.append(seq, timestamp(seq), kind(seq), &payload(seq, payload_size_max)).unwrap();
        if seq % batch == 0 {
            durable = writer.commit().unwrap();
            assert_eq!(durable, seq);
        }
    }
    writer.commit().unwrap().max(durable)
}

/// What a full replay found.
#[derive(Debug)]
pub(crate) struct Replay {
    /// The sequence numbers read, in order.
    pub(crate) seqs: Vec<u64>,
    /// The torn tail reported, if any.
    pub(crate) torn_tail: Option<TornTail>,
}

/// Replays the journal from `seq_from`, checking every record's contents against the
/// deterministic ones.
pub(crate) fn replay(
    dir: &Path,
    options: &JournalOptions,
    seq_from: u64,
    payload_size_max: usize,
) -> Result<Replay, JournalError> {
    let mut reader = JournalReader::open(dir, options, seq_from)?;
    let mut seqs = Vec::new();
    while let Some(record) = reader.next_record()? {
        assert_eq!(record.timestamp_ns, timestamp(record.seq), "seq {}", record.seq);
        assert_eq!(record.kind, kind(record.seq), "seq {}", record.seq);
        assert_eq!(record.payload, payload(record.seq, payload_size_max), "seq {}", record.seq);
        seqs.push(record.seq);
    }
    assert!(reader.is_done());
    Ok(Replay { seqs, torn_tail: reader.torn_tail().cloned() })
}

/// Returns the journal segment files in `dir`, in sequence order.
pub(crate) fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "bjl"))
        .collect();
    paths.sort();
    paths
}

/// Returns the byte offsets of the records in a segment file, found by walking the size fields.
pub(crate) fn record_offsets(path: &Path) -> Vec<usize> {
    let bytes = fs::read(path).unwrap();
    let mut offsets = Vec::new();
    let mut offset = birzha_engine::journal::SEGMENT_HEADER_SIZE;
    while offset < bytes.len() {
        offsets.push(offset);
        let size = u32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().unwrap());
        offset += size as usize;
    }
    assert_eq!(offset, bytes.len(), "the segment ends on a record boundary");
    offsets
}

/// Flips the bits of one byte of a file.
pub(crate) fn byte_flip(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset] ^= 0xa5;
    fs::write(path, bytes).unwrap();
}

/// A small seeded generator (SplitMix64): reproducible from the printed seed.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// Returns a generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Returns the next pseudo-random number.
    pub(crate) fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut value = self.state;
        value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        value ^ (value >> 31)
    }

    /// Returns a number in `low..=high`.
    pub(crate) fn range(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high);
        low + self.next() % (high - low + 1)
    }
}

/// Returns a seed that differs between runs, without reading a clock.
pub(crate) fn seed_fresh() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}
