//! Journal benchmarks: the storage cost the sequencer pays per input.
//!
//! Regimes:
//! - `journal/append_commit`: append a batch of records with 64-byte payloads and commit it,
//!   with `Durability::None`. This is encoding, CRC32C and one `write` per batch; the batch
//!   sizes in `BATCH_SIZES` range from no grouping at all (1) to a busy group commit (1024).
//! - `journal/replay`: read back `REPLAY_RECORDS` such records from a journal written once,
//!   checking every checksum: the start-up replay rate.
//! - `journal/fdatasync`: commit of one small record with `Durability::Fsync`: this disk's
//!   `fdatasync` latency, the floor of input-to-output latency with group commit.
//!
//! Files live in a temporary directory on the same file system as `/tmp`.

use std::hint::black_box;

use birzha_engine::journal::{Durability, JournalOptions, JournalReader, JournalWriter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Records per commit for `journal/append_commit`.
const BATCH_SIZES: [u64; 3] = [1, 64, 1024];
/// The payload of every record: about the size of an encoded new-order input.
const PAYLOAD: [u8; 64] = [0x5a; 64];
/// The records read per iteration of `journal/replay`.
const REPLAY_RECORDS: u64 = 1_000_000;
/// A fixed timestamp: the journal does not look at it.
const TIMESTAMP_NS: u64 = 1_700_000_000_000_000_000;

fn options(durability: Durability) -> JournalOptions {
    JournalOptions { durability, ..JournalOptions::default() }
}

fn append_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal/append_commit");
    for batch in BATCH_SIZES {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut writer = JournalWriter::open(dir.path(), options(Durability::None)).expect("open");
        let mut seq = 1;
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter(|| {
                for _ in 0..batch {
                    writer.append(seq, TIMESTAMP_NS, 1, black_box(&PAYLOAD)).expect("append");
                    seq += 1;
                }
                black_box(writer.commit().expect("commit"))
            });
        });
    }
    group.finish();
}

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut writer = JournalWriter::open(dir.path(), options(Durability::None)).expect("open");
    for seq in 1..=REPLAY_RECORDS {
        if writer.append(seq, TIMESTAMP_NS, 1, &PAYLOAD).is_err() {
            writer.commit().expect("commit");
            writer.append(seq, TIMESTAMP_NS, 1, &PAYLOAD).expect("append");
        }
    }
    writer.commit().expect("commit");
    drop(writer);
    let options = options(Durability::None);
    let mut group = c.benchmark_group("journal/replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REPLAY_RECORDS));
    group.bench_function("records_64b", |b| {
        b.iter(|| {
            let mut reader = JournalReader::open(dir.path(), &options, 1).expect("open");
            let mut bytes = 0;
            while let Some(record) = reader.next_record().expect("record") {
                bytes += record.payload.len();
            }
            assert_eq!(bytes as u64, REPLAY_RECORDS * PAYLOAD.len() as u64);
            black_box(bytes)
        });
    });
    group.finish();
}

fn fdatasync(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut writer = JournalWriter::open(dir.path(), options(Durability::Fsync)).expect("open");
    let mut seq = 1;
    let mut group = c.benchmark_group("journal/fdatasync");
    group.sample_size(20);
    group.bench_function("commit_1_record", |b| {
        b.iter(|| {
            writer.append(seq, TIMESTAMP_NS, 1, &PAYLOAD).expect("append");
            seq += 1;
            black_box(writer.commit().expect("commit"))
        });
    });
    group.finish();
}

criterion_group!(benches, append_commit, replay, fdatasync);
criterion_main!(benches);
