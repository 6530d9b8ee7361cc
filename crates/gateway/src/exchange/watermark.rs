//! Delivery watermarks: per shard, the last engine sequence number whose outputs are in the
//! traders' stores. On start the engine replays the journal after them, so outputs that were
//! durable in the engine but not yet stored for the traders when the process died are still
//! delivered (with PossResend = Y, as they may be duplicates).
//!
//! The file holds one little-endian `u64` per shard and is rewritten in place after every batch
//! the dispatcher has stored; an 8-byte write at an aligned offset is not torn by a crash.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The watermark file of the gateway.
#[derive(Debug)]
pub struct Watermarks {
    file: File,
    values: Vec<u64>,
}

impl Watermarks {
    /// Opens (or creates) the watermark file for `shards` shards. A shard with no watermark yet
    /// gets `u64::MAX`: nothing is replayed for it (a new exchange, or a lost file).
    ///
    /// # Errors
    /// Returns the I/O error if the file cannot be opened or read.
    pub fn open(path: &Path, shards: usize) -> io::Result<Watermarks> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let mut values = vec![u64::MAX; shards];
        let length = file.metadata()?.len();
        for (shard, value) in values.iter_mut().enumerate() {
            let offset = shard as u64 * 8;
            if offset + 8 <= length {
                let mut bytes = [0; 8];
                file.read_exact_at(&mut bytes, offset)?;
                *value = u64::from_le_bytes(bytes);
            } else {
                file.write_all_at(&value.to_le_bytes(), offset)?;
            }
        }
        Ok(Watermarks { file, values })
    }

    /// The watermark of every shard: what to pass the engine as `resend_after`.
    #[must_use]
    pub fn values(&self) -> &[u64] {
        &self.values
    }

    /// Records that `shard`'s outputs through `seq` are stored.
    ///
    /// # Errors
    /// Returns the I/O error of the write.
    pub fn advance(&mut self, shard: usize, seq: u64) -> io::Result<()> {
        if self.values[shard] == seq {
            return Ok(());
        }
        self.values[shard] = seq;
        self.file.write_all_at(&seq.to_le_bytes(), shard as u64 * 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_persist_and_start_unknown() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gateway/watermarks");
        let mut marks = Watermarks::open(&path, 2).expect("open");
        assert_eq!(marks.values(), [u64::MAX, u64::MAX]);
        marks.advance(1, 42).expect("write");
        drop(marks);
        let marks = Watermarks::open(&path, 3).expect("reopen");
        assert_eq!(marks.values(), [u64::MAX, 42, u64::MAX]);
    }
}
