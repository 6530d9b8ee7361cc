//! Delivery watermarks: per shard, the last engine sequence number whose outputs are in the
//! traders' stores. On start the engine replays the journal after them, so outputs that were
//! durable in the engine but not yet stored for the traders when the process died are still
//! delivered (with PossResend = Y, as they may be duplicates).
//!
//! The file holds one little-endian `u64` per shard. The dispatcher advances the watermarks in
//! memory after every batch it has stored, and writes them at checkpoints: it first syncs the
//! traders' stores, then writes and syncs the values it had before that sync. So the file never
//! runs ahead of what is durably stored, even across a power loss (at worst some reports are
//! delivered twice, as possible resends). An 8-byte write at an aligned offset is not torn.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{self, RecvTimeoutError, Sender};
use tracing::error;

use crate::registry::Sessions;

/// How often the stores are synced and the watermarks written.
pub(crate) const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// The watermark file of the gateway.
#[derive(Debug)]
pub struct Watermarks {
    file: File,
    values: Vec<u64>,
}

impl Watermarks {
    /// Opens (or creates) the watermark file for `shards` shards. A shard with no watermark yet
    /// (a new exchange, or a lost file) gets 0, written and synced at once: every output the
    /// engine's recovery replays for it is delivered (as a possible resend), so none can be
    /// missed before the first checkpoint.
    ///
    /// # Errors
    /// Returns the I/O error if the file cannot be opened or read.
    pub fn open(path: &Path, shards: usize) -> io::Result<Watermarks> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let mut values = vec![0; shards];
        let length = file.metadata()?.len();
        let mut written = false;
        for (shard, value) in values.iter_mut().enumerate() {
            let offset = shard as u64 * 8;
            if offset + 8 <= length {
                let mut bytes = [0; 8];
                file.read_exact_at(&mut bytes, offset)?;
                *value = u64::from_le_bytes(bytes);
            } else {
                file.write_all_at(&value.to_le_bytes(), offset)?;
                written = true;
            }
        }
        if written {
            file.sync_all()?;
        }
        Ok(Watermarks { file, values })
    }

    /// The watermark of every shard: what to pass the engine as `resend_after`.
    #[must_use]
    pub fn values(&self) -> &[u64] {
        &self.values
    }

    /// Writes `values` (watermarks taken before the stores were synced, one per shard) and
    /// syncs the file; they are then [`values`](Self::values).
    ///
    /// # Errors
    /// Returns the I/O error of the write or the sync.
    pub fn persist(&mut self, values: &[u64]) -> io::Result<()> {
        for (shard, value) in values.iter().enumerate() {
            self.file.write_all_at(&value.to_le_bytes(), shard as u64 * 8)?;
        }
        self.file.sync_data()?;
        self.values.copy_from_slice(values);
        Ok(())
    }
}

/// The checkpoint thread and the watermarks the dispatcher advances for it.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    /// Per shard, the last sequence number whose outputs are stored (not yet durably).
    delivered: Arc<[AtomicU64]>,
    /// Dropped to stop the thread after a last checkpoint.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpoints {
    /// Starts the thread that, every [`CHECKPOINT_INTERVAL`], syncs the stores of `sessions`
    /// and then persists the watermarks taken before the sync.
    ///
    /// # Errors
    /// Returns the I/O error if the thread cannot be started.
    pub(crate) fn spawn(mut watermarks: Watermarks, sessions: Sessions) -> io::Result<Checkpoints> {
        let delivered: Arc<[AtomicU64]> =
            watermarks.values().iter().map(|value| AtomicU64::new(*value)).collect();
        let (stop, stopped) = channel::bounded::<()>(0);
        let marks = Arc::clone(&delivered);
        let thread = std::thread::Builder::new().name("checkpoints".into()).spawn(move || {
            loop {
                let last = !matches!(
                    stopped.recv_timeout(CHECKPOINT_INTERVAL),
                    Err(RecvTimeoutError::Timeout)
                );
                checkpoint(&mut watermarks, &sessions, &marks);
                if last {
                    return;
                }
            }
        })?;
        Ok(Checkpoints { delivered, stop: Some(stop), thread: Some(thread) })
    }

    /// Records that `shard`'s outputs through `seq` are stored.
    pub(crate) fn advance(&self, shard: usize, seq: u64) {
        self.delivered[shard].store(seq, Ordering::Release);
    }

    /// Takes a last checkpoint and stops the thread.
    pub(crate) fn finish(mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Syncs the stores, then persists the watermarks read before the sync if they moved. The
/// stores are synced even when no report was delivered: Heartbeats, Logons and replies are
/// numbered too, and a power cut must not take back numbers a trader has seen.
fn checkpoint(watermarks: &mut Watermarks, sessions: &Sessions, delivered: &[AtomicU64]) {
    let values: Vec<u64> = delivered.iter().map(|mark| mark.load(Ordering::Acquire)).collect();
    if let Err(error) = sessions.sync_stores() {
        error!(%error, "cannot sync the traders' stores: delivery watermarks not advanced");
        return;
    }
    if values == watermarks.values() {
        return;
    }
    if let Err(error) = watermarks.persist(&values) {
        error!(%error, "cannot write the delivery watermarks");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_start_at_zero_and_persist() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gateway/watermarks");
        let mut marks = Watermarks::open(&path, 2).expect("open");
        assert_eq!(marks.values(), [0, 0]);
        marks.persist(&[0, 42]).expect("write");
        assert_eq!(marks.values(), [0, 42]);
        drop(marks);
        let marks = Watermarks::open(&path, 3).expect("reopen");
        assert_eq!(marks.values(), [0, 42, 0]);
    }
}
