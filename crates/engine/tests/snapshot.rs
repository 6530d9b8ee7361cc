//! Snapshot fallback: a missing, truncated or corrupt newest snapshot is skipped (and reported)
//! in favour of the next older valid one.
//!
//! Method: write three snapshots, damage or remove the newest with plain file operations, and
//! check what `load_newest_valid` returns and reports.

use std::fs;

use birzha_engine::snapshot::{self, SNAPSHOT_HEADER_SIZE, SnapshotDefect};

/// Writes snapshots at 100, 200 and 300 whose payloads name their sequence numbers.
fn snapshots_write(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    [100_u64, 200, 300]
        .iter()
        .map(|&seq| snapshot::write(dir, seq, format!("state at {seq}").as_bytes()).unwrap())
        .collect()
}

#[test]
fn newest_valid_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    snapshots_write(dir.path());
    let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
    let newest = loaded.snapshot.unwrap();
    assert_eq!((newest.seq, newest.payload), (300, b"state at 300".to_vec()));
    assert!(loaded.skipped.is_empty());
}

#[test]
fn missing_newest_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let paths = snapshots_write(dir.path());
    fs::remove_file(&paths[2]).unwrap();
    let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
    assert_eq!(loaded.snapshot.unwrap().seq, 200);
    assert!(loaded.skipped.is_empty());
}

#[test]
fn corrupt_newest_falls_back_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let paths = snapshots_write(dir.path());
    let intact = fs::read(&paths[2]).unwrap();
    for index in 0..intact.len() {
        let mut damaged = intact.clone();
        damaged[index] ^= 0x5a;
        fs::write(&paths[2], &damaged).unwrap();
        let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
        let snapshot = loaded.snapshot.expect("the older snapshot");
        assert_eq!((snapshot.seq, snapshot.payload), (200, b"state at 200".to_vec()));
        assert_eq!(loaded.skipped.len(), 1, "byte {index}");
        assert_eq!((&loaded.skipped[0].path, loaded.skipped[0].seq), (&paths[2], 300));
        if index >= SNAPSHOT_HEADER_SIZE {
            assert!(matches!(loaded.skipped[0].defect, SnapshotDefect::PayloadChecksum { .. }));
        }
    }
}

#[test]
fn truncated_newest_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let paths = snapshots_write(dir.path());
    let intact = fs::read(&paths[2]).unwrap();
    for length in 0..intact.len() {
        fs::write(&paths[2], &intact[..length]).unwrap();
        let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
        assert_eq!(loaded.snapshot.unwrap().seq, 200, "length {length}");
        let defect = loaded.skipped[0].defect;
        if length < SNAPSHOT_HEADER_SIZE {
            assert_eq!(defect, SnapshotDefect::TooShort { size: length as u64 });
        } else {
            assert!(matches!(defect, SnapshotDefect::Size { .. }), "{defect}");
        }
    }
}

#[test]
fn all_invalid_loads_nothing_and_reports_all() {
    let dir = tempfile::tempdir().unwrap();
    let paths = snapshots_write(dir.path());
    for path in &paths {
        fs::write(path, b"not a snapshot at all, just some bytes of text").unwrap();
    }
    let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
    assert!(loaded.snapshot.is_none());
    let seqs: Vec<u64> = loaded.skipped.iter().map(|skipped| skipped.seq).collect();
    assert_eq!(seqs, [300, 200, 100], "newest first");
    assert!(loaded.skipped.iter().all(|skipped| skipped.defect == SnapshotDefect::Magic));
}

/// A snapshot renamed to another sequence number is refused: the name and header disagree.
#[test]
fn renamed_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let paths = snapshots_write(dir.path());
    let renamed = dir.path().join("snapshot-00000000000000000400.bsn");
    fs::copy(&paths[0], &renamed).unwrap();
    let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
    assert_eq!(loaded.snapshot.unwrap().seq, 300);
    assert_eq!(loaded.skipped[0].defect, SnapshotDefect::Name { name_seq: 400, header_seq: 100 });
}

/// A write interrupted before its rename leaves only a temporary file: loading ignores it and
/// retention removes it.
#[test]
fn interrupted_write_is_ignored_then_removed() {
    let dir = tempfile::tempdir().unwrap();
    snapshots_write(dir.path());
    let temporary = dir.path().join("snapshot-00000000000000000400.bsn.tmp");
    fs::write(&temporary, b"half a snapshot").unwrap();
    let loaded = snapshot::load_newest_valid(dir.path()).unwrap();
    assert_eq!(loaded.snapshot.unwrap().seq, 300);
    assert!(loaded.skipped.is_empty());
    let retention = snapshot::retain(dir.path(), 2).unwrap();
    assert!(retention.removed.contains(&temporary));
    assert_eq!(retention.seq_oldest_kept, Some(200));
    assert!(!temporary.exists());
}
