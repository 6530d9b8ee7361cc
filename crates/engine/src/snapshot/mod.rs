//! Snapshot files: the engine state at a sequence number, written atomically and checksummed.
//!
//! Recovery is the newest valid snapshot plus a replay of the journal after its sequence number.
//! The payload is opaque bytes (the caller encodes books, deposits, id counters and so on).
//!
//! # Files
//!
//! A snapshot is `snapshot-<seq, 20 digits>.bsn` in its directory: a 40-byte header (magic
//! `BIRZHASN`, version, CRC32C of the payload, sequence number, payload size, CRC32C of the
//! header) and the payload. See `docs/journal.md` for the byte layout.
//!
//! # Atomicity
//!
//! [`write()`] writes `<name>.tmp`, syncs it, renames it over `<name>` and syncs the directory.
//! After a crash the directory holds either the complete snapshot or none (plus, perhaps, a
//! temporary file that loading ignores and [`retain`] removes). The checksums catch damage after
//! the fact: [`load_newest_valid`] skips an invalid snapshot, reports it, and falls back to the
//! next older one.
//!
//! # Limits
//!
//! A payload is at most [`PAYLOAD_SIZE_MAX`] bytes; a directory holds at most
//! [`SNAPSHOTS_MAX`] snapshots.
//!
//! # Known limitations
//!
//! One writer per directory; nothing locks it. `retain` must not run concurrently with `write`.

mod error;
mod format;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub use error::{SkippedSnapshot, SnapshotDefect, SnapshotError};
pub use format::{SNAPSHOT_HEADER_SIZE, SNAPSHOT_MAGIC, SNAPSHOT_VERSION};

use format::{SnapshotHeader, TEMPORARY_SUFFIX};

/// The largest payload a snapshot may hold, in bytes.
pub const PAYLOAD_SIZE_MAX: u64 = 1 << 30;

/// The most snapshot files a directory may hold.
pub const SNAPSHOTS_MAX: usize = 10_000;

/// A valid snapshot, loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The sequence number of the last input applied to the state; replay resumes after it.
    pub seq: u64,
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The caller's encoded state.
    pub payload: Vec<u8>,
}

/// The outcome of [`load_newest_valid`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The newest valid snapshot, or `None` if there is none (start from an empty state and
    /// replay the whole journal).
    pub snapshot: Option<Snapshot>,
    /// The newer snapshots skipped as invalid, newest first, for the caller to log.
    pub skipped: Vec<SkippedSnapshot>,
}

/// The outcome of [`retain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// The files removed: older snapshots and leftover temporary files.
    pub removed: Vec<PathBuf>,
    /// The sequence number of the oldest snapshot kept, if any. Journal segments wholly at or
    /// before it can go (see `journal::segments_remove_covered`).
    pub seq_oldest_kept: Option<u64>,
}

/// Writes the snapshot of the state at `seq` into `dir` (created if missing), atomically, and
/// returns its path. A snapshot already at `seq` is replaced.
///
/// # Errors
///
/// Returns `PayloadTooLarge` over [`PAYLOAD_SIZE_MAX`] and `Io` if a file operation fails; the
/// temporary file is then removed (best effort) and no snapshot at `seq` appears.
///
/// # Panics
///
/// Panics if `seq` is beyond [`SEQ_MAX`](crate::journal::SEQ_MAX): no state gets there.
pub fn write(dir: impl AsRef<Path>, seq: u64, payload: &[u8]) -> Result<PathBuf, SnapshotError> {
    assert!(seq <= crate::journal::SEQ_MAX, "Invariant: sequence numbers stay within SEQ_MAX");
    let dir = dir.as_ref();
    let size = payload.len() as u64;
    if size > PAYLOAD_SIZE_MAX {
        return Err(SnapshotError::PayloadTooLarge { size, size_max: PAYLOAD_SIZE_MAX });
    }
    crate::directory::create(dir).map_err(|error| SnapshotError::io(dir, "create_dir", error))?;
    let path = dir.join(format::snapshot_name(seq));
    let temporary = dir.join(format::snapshot_name(seq) + TEMPORARY_SUFFIX);
    let header = SnapshotHeader::new(seq, payload);
    if let Err(error) = write_temporary(&temporary, &header, payload) {
        let _ignored = fs::remove_file(&temporary);
        return Err(error);
    }
    if let Err(error) = fs::rename(&temporary, &path) {
        let _ignored = fs::remove_file(&temporary);
        return Err(SnapshotError::io(&path, "rename", error));
    }
    directory_sync(dir)?;
    // The caller logs it, with its shard.
    Ok(path)
}

/// Writes the header and payload to `path` and syncs the file.
fn write_temporary(
    path: &Path,
    header: &SnapshotHeader,
    payload: &[u8],
) -> Result<(), SnapshotError> {
    let mut file = File::create(path).map_err(|error| SnapshotError::io(path, "create", error))?;
    file.write_all(&header.encode()).map_err(|error| SnapshotError::io(path, "write", error))?;
    file.write_all(payload).map_err(|error| SnapshotError::io(path, "write", error))?;
    file.sync_all().map_err(|error| SnapshotError::io(path, "fsync", error))
}

/// Returns the newest snapshot in `dir` whose header and payload checksums verify, and the
/// newer ones skipped as invalid. A missing directory holds no snapshot.
///
/// # Errors
///
/// Returns `Io` if the directory or a snapshot file cannot be read (an unreadable file is an
/// operating problem, not a damaged snapshot) and `SnapshotsTooMany` past [`SNAPSHOTS_MAX`].
pub fn load_newest_valid(dir: impl AsRef<Path>) -> Result<Loaded, SnapshotError> {
    load_newest_valid_until(dir, u64::MAX)
}

/// As [`load_newest_valid`], among the snapshots at or before `seq_max` only (newer ones are
/// passed over, not reported as skipped).
///
/// # Errors
///
/// As [`load_newest_valid`].
pub fn load_newest_valid_until(
    dir: impl AsRef<Path>,
    seq_max: u64,
) -> Result<Loaded, SnapshotError> {
    let dir = dir.as_ref();
    let mut loaded = Loaded { snapshot: None, skipped: Vec::new() };
    if !dir.try_exists().map_err(|error| SnapshotError::io(dir, "stat", error))? {
        return Ok(loaded);
    }
    let snapshots = snapshots_list(dir)?;
    for (seq, path) in snapshots.into_iter().rev().filter(|(seq, _)| *seq <= seq_max) {
        match snapshot_read(&path, seq)? {
            Ok(payload) => {
                loaded.snapshot = Some(Snapshot { seq, path, payload });
                break;
            }
            Err(defect) => {
                let skipped = SkippedSnapshot { path, seq, defect };
                tracing::warn!(%skipped, "snapshot skipped");
                loaded.skipped.push(skipped);
            }
        }
    }
    Ok(loaded)
}

/// Lists the snapshot files in `dir` as `(seq, path)`, oldest first, without reading them; a
/// missing directory holds none. For tools that show or check every snapshot (see [`read`]).
///
/// # Errors
///
/// Returns `Io` if the directory cannot be read and `SnapshotsTooMany` past [`SNAPSHOTS_MAX`].
pub fn list(dir: impl AsRef<Path>) -> Result<Vec<(u64, PathBuf)>, SnapshotError> {
    let dir = dir.as_ref();
    if !dir.try_exists().map_err(|error| SnapshotError::io(dir, "stat", error))? {
        return Ok(Vec::new());
    }
    snapshots_list(dir)
}

/// Reads and checks one snapshot file that [`list`] returned with its `seq`: returns its
/// payload, or the defect [`load_newest_valid`] would skip it for.
///
/// # Errors
///
/// Returns `Io` if the file cannot be opened or read.
pub fn read(
    path: impl AsRef<Path>,
    seq: u64,
) -> Result<Result<Vec<u8>, SnapshotDefect>, SnapshotError> {
    snapshot_read(path.as_ref(), seq)
}

/// Reads and checks the snapshot at `path`; returns its payload or its defect.
fn snapshot_read(path: &Path, seq: u64) -> Result<Result<Vec<u8>, SnapshotDefect>, SnapshotError> {
    let file = File::open(path).map_err(|error| SnapshotError::io(path, "open", error))?;
    let file_size_max = SNAPSHOT_HEADER_SIZE as u64 + PAYLOAD_SIZE_MAX;
    let mut bytes = Vec::new();
    file.take(file_size_max + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| SnapshotError::io(path, "read", error))?;
    if bytes.len() as u64 > file_size_max {
        let size = bytes.len() as u64 - SNAPSHOT_HEADER_SIZE as u64;
        return Ok(Err(SnapshotDefect::PayloadTooLarge { size, size_max: PAYLOAD_SIZE_MAX }));
    }
    match format::snapshot_check(&bytes, seq) {
        Ok(header) => {
            bytes.drain(..SNAPSHOT_HEADER_SIZE);
            assert_eq!(bytes.len() as u64, header.payload_size, "Invariant: checked size");
            Ok(Ok(bytes))
        }
        Err(defect) => Ok(Err(defect)),
    }
}

/// Keeps the newest `count` snapshots in `dir` (by sequence number) and removes the older ones
/// and any leftover temporary files.
///
/// Validity is not checked: call it after a successful [`write()`], so the newest is known good.
///
/// # Errors
///
/// Returns `Io` if the directory cannot be read, a file cannot be removed or the directory
/// cannot be synced, and `SnapshotsTooMany` past [`SNAPSHOTS_MAX`].
///
/// # Panics
///
/// Panics if `count` is 0: retention never removes the snapshot recovery needs.
pub fn retain(dir: impl AsRef<Path>, count: usize) -> Result<Retention, SnapshotError> {
    let dir = dir.as_ref();
    assert!(count >= 1, "Invariant: retention keeps at least one snapshot");
    let snapshots = snapshots_list(dir)?;
    let remove_count = snapshots.len().saturating_sub(count);
    let mut removed = temporaries_remove(dir)?;
    for (_, path) in &snapshots[..remove_count] {
        fs::remove_file(path).map_err(|error| SnapshotError::io(path, "remove", error))?;
        removed.push(path.clone());
    }
    if !removed.is_empty() {
        directory_sync(dir)?;
    }
    let seq_oldest_kept = snapshots.get(remove_count).map(|(seq, _)| *seq);
    assert_eq!(snapshots.len() - remove_count, snapshots.len().min(count));
    Ok(Retention { removed, seq_oldest_kept })
}

/// Removes the temporary files that interrupted writes left in `dir` and returns their paths.
fn temporaries_remove(dir: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let entries = fs::read_dir(dir).map_err(|error| SnapshotError::io(dir, "read_dir", error))?;
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| SnapshotError::io(dir, "read_dir", error))?;
        let name = entry.file_name();
        let is_temporary = name
            .to_str()
            .and_then(|name| name.strip_suffix(TEMPORARY_SUFFIX))
            .is_some_and(|name| format::snapshot_name_parse(name).is_some());
        if is_temporary {
            let path = entry.path();
            fs::remove_file(&path).map_err(|error| SnapshotError::io(&path, "remove", error))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Lists the snapshots in `dir` as `(seq, path)`, oldest first.
fn snapshots_list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, SnapshotError> {
    let entries = fs::read_dir(dir).map_err(|error| SnapshotError::io(dir, "read_dir", error))?;
    let mut snapshots = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| SnapshotError::io(dir, "read_dir", error))?;
        let Some(seq) = entry.file_name().to_str().and_then(format::snapshot_name_parse) else {
            continue;
        };
        if snapshots.len() >= SNAPSHOTS_MAX {
            let path = dir.to_path_buf();
            return Err(SnapshotError::SnapshotsTooMany { path, count_max: SNAPSHOTS_MAX });
        }
        snapshots.push((seq, entry.path()));
    }
    snapshots.sort_unstable();
    Ok(snapshots)
}

/// Makes the directory's entries durable.
fn directory_sync(dir: &Path) -> Result<(), SnapshotError> {
    crate::directory::sync(dir).map_err(|error| SnapshotError::io(dir, "fsync", error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 10, b"state at 10").unwrap();
        assert_eq!(path, dir.path().join("snapshot-00000000000000000010.bsn"));
        write(dir.path(), 20, b"state at 20").unwrap();
        let loaded = load_newest_valid(dir.path()).unwrap();
        assert!(loaded.skipped.is_empty());
        let snapshot = loaded.snapshot.unwrap();
        assert_eq!((snapshot.seq, snapshot.payload.as_slice()), (20, &b"state at 20"[..]));
    }

    #[test]
    fn missing_directory_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_newest_valid(dir.path().join("absent")).unwrap();
        assert_eq!(loaded, Loaded { snapshot: None, skipped: Vec::new() });
        assert_eq!(list(dir.path().join("absent")).unwrap(), Vec::new());
    }

    #[test]
    fn list_and_read_check_every_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let old = write(dir.path(), 3, b"state at 3").unwrap();
        let new = write(dir.path(), 7, b"state at 7").unwrap();
        let mut bytes = fs::read(&old).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x20;
        fs::write(&old, bytes).unwrap();
        let listed = list(dir.path()).unwrap();
        assert_eq!(listed, [(3, old.clone()), (7, new.clone())]);
        assert!(matches!(read(&old, 3).unwrap(), Err(SnapshotDefect::PayloadChecksum { .. })));
        assert_eq!(read(&new, 7).unwrap().unwrap(), b"state at 7");
        assert!(matches!(read(&new, 8).unwrap(), Err(SnapshotDefect::Name { .. })));
    }

    #[test]
    fn oversized_payload_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Zeroed by the allocator and never touched: no gigabyte is written.
        let payload = vec![0_u8; PAYLOAD_SIZE_MAX as usize + 1];
        let error = write(dir.path(), 1, &payload).unwrap_err();
        assert!(
            matches!(error, SnapshotError::PayloadTooLarge { size, .. } if size > PAYLOAD_SIZE_MAX)
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn retain_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for seq in [5, 1, 3, 4, 2] {
            write(dir.path(), seq, &[seq as u8; 3]).unwrap();
        }
        fs::write(dir.path().join("snapshot-00000000000000000006.bsn.tmp"), b"partial").unwrap();
        fs::write(dir.path().join("notes.txt"), b"operator notes").unwrap();
        let retention = retain(dir.path(), 2).unwrap();
        assert_eq!(retention.removed.len(), 4);
        assert_eq!(retention.seq_oldest_kept, Some(4));
        let left: Vec<u64> = snapshots_list(dir.path()).unwrap().iter().map(|s| s.0).collect();
        assert_eq!(left, [4, 5]);
        assert!(dir.path().join("notes.txt").exists());
        assert_eq!(retain(dir.path(), 3).unwrap().removed, Vec::<PathBuf>::new());
    }
}
