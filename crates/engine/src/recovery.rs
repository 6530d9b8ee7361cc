//! Start-up of one shard: the newest valid snapshot the consumer's delivery allows, then the
//! journal after it.
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
use crate::journal::{JournalError, JournalOptions, JournalReader, JournalWriter, TornTail};
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

/// Recovers shard `shard`: cuts a torn journal tail, loads the newest valid snapshot at or
/// before `resend_after`, and replays the journal after it. Outputs of replayed inputs with a
/// sequence number above `resend_after` go to `resend` (the consumer missed them); earlier
/// ones are not built. A snapshot newer than `resend_after` (written after the consumer's
/// last checkpoint) is passed over, since starting there would skip outputs the consumer
/// must get; if the journal before it is gone, recovery starts from the newest snapshot and
/// logs an error naming the outputs that cannot be delivered again.
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
    let journal = JournalWriter::open(&dirs.journal, options.clone())?;
    let torn_tail = journal.torn_tail().cloned();
    let mut start = Start::load(registry, shard, dirs, resend_after)?;
    let replayed = match replay(&mut start.state, dirs, options, resend_after, resend) {
        Err(EngineError::Journal(JournalError::SeqBeforeJournal { seq_first, .. }))
            if resend_after != u64::MAX =>
        {
            let newest = Start::load(registry, shard, dirs, u64::MAX)?;
            tracing::error!(
                shard,
                delivered_through = resend_after,
                journal_from = seq_first,
                snapshot_seq = newest.state.seq_last(),
                "reports of inputs after delivered_through up to snapshot_seq cannot be \
                 delivered again: the journal before the snapshot was removed"
            );
            start = newest;
            replay(&mut start.state, dirs, options, resend_after, resend)?
        }
        other => other?,
    };
    let Start { state, snapshot, snapshots_skipped } = start;
    let seq_next = journal.seq_next().unwrap_or(state.seq_last() + 1);
    if seq_next != state.seq_last() + 1 {
        return Err(EngineError::JournalBehindSnapshot {
            journal_next: seq_next,
            snapshot_seq: state.seq_last(),
        });
    }
    // Started from an older snapshot, the journal must still reach the newest one: one that
    // stops short of it lost inputs the newest snapshot holds.
    if let Some(newest) = newer_snapshot_seq(dirs, state.seq_last())?
        && newest >= seq_next
    {
        return Err(EngineError::JournalBehindSnapshot {
            journal_next: seq_next,
            snapshot_seq: newest,
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

/// The sequence number of the newest valid snapshot, if it is newer than `seq` (recovery
/// started from an older one).
fn newer_snapshot_seq(dirs: &ShardDirs, seq: u64) -> Result<Option<u64>, EngineError> {
    let listed = snapshot::list(&dirs.snapshots)?;
    if listed.last().is_none_or(|(newest, _)| *newest <= seq) {
        return Ok(None);
    }
    let newest = snapshot::load_newest_valid(&dirs.snapshots)?;
    Ok(newest.snapshot.map(|found| found.seq).filter(|newest| *newest > seq))
}

/// The state recovery starts from: a snapshot's, or the empty one.
struct Start {
    state: ShardState,
    snapshot: Option<PathBuf>,
    snapshots_skipped: usize,
}

impl Start {
    /// The newest valid snapshot at or before `seq_max`, or the empty state if none.
    fn load(
        registry: &Arc<Registry>,
        shard: usize,
        dirs: &ShardDirs,
        seq_max: u64,
    ) -> Result<Start, EngineError> {
        let loaded = snapshot::load_newest_valid_until(&dirs.snapshots, seq_max)?;
        let snapshots_skipped = loaded.skipped.len();
        let Some(found) = loaded.snapshot else {
            let state = ShardState::new(Arc::clone(registry), shard as u16);
            return Ok(Start { state, snapshot: None, snapshots_skipped });
        };
        let state = ShardState::restore(Arc::clone(registry), &found.payload)
            .map_err(|source| EngineError::Restore { path: found.path.clone(), source })?;
        if usize::from(state.shard()) != shard || state.seq_last() != found.seq {
            return Err(EngineError::SnapshotMismatch { path: found.path });
        }
        Ok(Start { state, snapshot: Some(found.path), snapshots_skipped })
    }
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
