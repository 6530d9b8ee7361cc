//! Start-up of one shard: the newest valid snapshot, then the journal after it.
//!
//! A torn tail (a record cut short by a crash) is detected by its checksum, reported and cut by
//! the journal writer; it was never acknowledged, since outputs wait for durability. A corrupt
//! record in the middle of the journal stops the start with an error naming the file and
//! offset: replaying past it would silently lose inputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use birzha_book::Timestamp;

use crate::config::Registry;
use crate::engine::EngineError;
use crate::input::Input;
use crate::journal::{JournalOptions, JournalReader, JournalWriter, TornTail};
use crate::output::Output;
use crate::snapshot;
use crate::state::ShardState;

/// The directories of one shard under the data directory.
#[derive(Clone, Debug)]
pub struct ShardDirs {
    /// Journal segments.
    pub journal: PathBuf,
    /// Snapshot files.
    pub snapshots: PathBuf,
}

impl ShardDirs {
    /// Returns the directories of `shard` under `data_dir`.
    #[must_use]
    pub fn new(data_dir: &Path, shard: usize) -> ShardDirs {
        let root = data_dir.join(format!("shard-{shard}"));
        ShardDirs { journal: root.join("journal"), snapshots: root.join("snapshots") }
    }
}

/// What a shard's start-up found and did, for the operator log.
#[derive(Clone, Debug)]
pub struct RecoveryReport {
    /// The shard.
    pub shard: usize,
    /// The snapshot used, if any.
    pub snapshot: Option<PathBuf>,
    /// Newer snapshots skipped as invalid.
    pub snapshots_skipped: usize,
    /// Journal records replayed after the snapshot.
    pub replayed: u64,
    /// The torn tail cut from the journal, if any.
    pub torn_tail: Option<TornTail>,
    /// The last sequence number after recovery.
    pub seq_last: u64,
    /// Resting orders after recovery.
    pub orders_working: usize,
    /// How long it took.
    pub duration: Duration,
}

/// A recovered shard: its state and its journal writer, positioned after the last record.
#[derive(Debug)]
pub struct Recovered {
    /// The state.
    pub state: ShardState,
    /// The writer.
    pub journal: JournalWriter,
    /// What happened.
    pub report: RecoveryReport,
}

/// Recovers shard `shard`: loads its newest valid snapshot, cuts a torn journal tail, and
/// replays the journal. Outputs of replayed inputs with a sequence number above `resend_after`
/// go to `resend` (the consumer missed them); earlier ones are dropped.
///
/// # Errors
/// Returns an [`EngineError`] if the snapshot or journal is unreadable or corrupt, a record
/// does not decode, or the journal does not continue the snapshot.
pub fn recover(
    registry: &Arc<Registry>,
    shard: usize,
    dirs: &ShardDirs,
    options: &JournalOptions,
    resend_after: u64,
    resend: &mut dyn FnMut(Vec<Output>),
) -> Result<Recovered, EngineError> {
    #[allow(clippy::disallowed_methods, reason = "measures recovery for the operator log only")]
    let started = Instant::now();
    let loaded = snapshot::load_newest_valid(&dirs.snapshots)?;
    let snapshots_skipped = loaded.skipped.len();
    let (mut state, snapshot) = match loaded.snapshot {
        Some(found) => {
            let state = ShardState::restore(Arc::clone(registry), &found.payload)
                .map_err(|source| EngineError::Restore { path: found.path.clone(), source })?;
            if usize::from(state.shard()) != shard || state.seq_last() != found.seq {
                return Err(EngineError::SnapshotMismatch { path: found.path });
            }
            (state, Some(found.path))
        }
        None => (ShardState::new(Arc::clone(registry), shard as u16), None),
    };
    let journal = JournalWriter::open(&dirs.journal, options.clone())?;
    let torn_tail = journal.torn_tail().cloned();
    let replayed = replay(&mut state, dirs, options, resend_after, resend)?;
    let seq_next = journal.seq_next().unwrap_or(state.seq_last() + 1);
    if seq_next != state.seq_last() + 1 {
        return Err(EngineError::JournalBehindSnapshot {
            journal_next: seq_next,
            snapshot_seq: state.seq_last(),
        });
    }
    let report = RecoveryReport {
        shard,
        snapshot,
        snapshots_skipped,
        replayed,
        torn_tail,
        seq_last: state.seq_last(),
        orders_working: state.orders_working(),
        duration: started.elapsed(),
    };
    Ok(Recovered { state, journal, report })
}

/// Applies every journal record after the state's last input.
fn replay(
    state: &mut ShardState,
    dirs: &ShardDirs,
    options: &JournalOptions,
    resend_after: u64,
    resend: &mut dyn FnMut(Vec<Output>),
) -> Result<u64, EngineError> {
    let mut reader = JournalReader::open(&dirs.journal, options, state.seq_last() + 1)?;
    let mut outputs = Vec::new();
    let mut replayed = 0;
    while let Some(record) = reader.next_record()? {
        let input = Input::decode(record.kind, record.payload)
            .map_err(|source| EngineError::Decode { seq: record.seq, source })?;
        let (seq, time) = (record.seq, Timestamp(record.timestamp_ns));
        replayed += 1;
        if seq <= resend_after {
            // Delivered before the restart: only the state is wanted.
            state.apply_quietly(seq, time, &input);
            continue;
        }
        state.apply(seq, time, &input, &mut outputs);
        if !outputs.is_empty() {
            resend(std::mem::take(&mut outputs));
        }
    }
    Ok(replayed)
}
