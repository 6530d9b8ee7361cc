//! The sequencer of one shard: the thread that owns the shard's state and journal.
//!
//! It takes inputs from its bounded queue in batches, stamps each with the next sequence number
//! and the time, appends it to the journal and applies it; then it commits the journal once
//! for the whole batch (group commit) and only then releases the batch's outputs. So **no output
//! for input `n` leaves before the journal is durable through `n`**, and one `fdatasync` covers
//! every input that arrived while the previous one ran.
//!
//! A journal that cannot be written (disk full, I/O error, directory gone) does not stop the
//! shard for good: the batch's outputs are dropped (nothing of it was acknowledged), new orders
//! are refused through the shard's fault flag, and every [`FAULT_RETRY`] the sequencer rebuilds
//! its state from the snapshot and journal on disk, exactly as a restart would. Once that
//! succeeds it releases the outputs of whatever of the batch did reach the journal, sequences
//! the rest of the batch again, and clears the flag when a commit succeeds.
//!
//! Snapshots are encoded on this thread (they need the state) and written, with retention, on
//! a thread of their own, one at a time, so matching goes on while the file is synced; the
//! last one, at shutdown, is written before the shard stops.
//!
//! Time enters here and only here: the sequencer reads the wall clock, keeps it monotonic, and
//! passes it in as each input's timestamp. When no input arrives it wakes up every
//! `tick_interval` and, if the state's next deadline has passed, sequences a `Tick`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use birzha_book::Timestamp;
use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};

use crate::config::Registry;
use crate::engine::{BatchKind, EngineError, OutputBatch, OutputPool};
use crate::input::Input;
use crate::journal::{JournalError, JournalWriter};
use crate::output::Output;
use crate::recovery::{self, ShardDirs};
use crate::snapshot;
use crate::state::ShardState;

/// How often an idle sequencer checks whether a tick is due.
pub const TICK_INTERVAL: Duration = Duration::from_millis(100);

/// How long a shard whose journal failed waits between attempts to recover it.
pub const FAULT_RETRY: Duration = Duration::from_secs(1);

/// A faulted shard logs that it is still faulted once per this many attempts.
const FAULT_LOG_EVERY: u32 = 30;

/// Snapshots kept per shard; journal segments older than the oldest are removed.
pub const SNAPSHOTS_KEPT: usize = 3;

/// Counters a shard reports when it stops, and for the stats line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Inputs sequenced.
    pub inputs: u64,
    /// Journal commits (each covering a batch).
    pub commits: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// The last durable sequence number.
    pub seq_durable: u64,
}

/// Everything the sequencer thread owns.
pub(crate) struct Sequencer {
    /// The configuration, for rebuilding the state after a journal fault.
    pub(crate) registry: Arc<Registry>,
    pub(crate) state: ShardState,
    pub(crate) journal: JournalWriter,
    pub(crate) inputs: Receiver<Input>,
    pub(crate) outputs: Sender<OutputBatch>,
    pub(crate) dirs: ShardDirs,
    pub(crate) journal_options: crate::journal::JournalOptions,
    pub(crate) batch_inputs_max: usize,
    pub(crate) snapshot_every_inputs: u64,
    /// Set by [`Engine::shutdown`](crate::Engine::shutdown): finish the queue and stop, even if
    /// producers still hold handles.
    pub(crate) stop: Arc<AtomicBool>,
    /// Output vectors given back by consumers, for reuse.
    pub(crate) pool: Arc<OutputPool>,
    /// Every shard's durable sequence number, indexed by shard: this sequencer publishes its
    /// own after every commit for [`EngineHandle::seq_durable`](crate::EngineHandle::seq_durable),
    /// which reads them through the handles' references.
    pub(crate) seq_durable: Arc<[AtomicU64]>,
    /// Every shard's journal fault flag, indexed by shard: set while this shard cannot write
    /// its journal, so that producers refuse new orders for it.
    pub(crate) faulted: Arc<[AtomicBool]>,
    /// The snapshot being written on its own thread, if any; it hands back its buffer.
    pub(crate) snapshot_pending: Option<std::thread::JoinHandle<SnapshotWritten>>,
    /// The last snapshot's buffer, reused: encoding the next one (on the shard thread, while
    /// matching waits) then neither grows a vector nor faults in fresh pages.
    pub(crate) snapshot_buffer: Vec<u8>,
    /// Snapshots written so far.
    pub(crate) snapshots_written: u64,
}

impl Sequencer {
    /// Runs until every input sender is gone, then writes a final snapshot.
    pub(crate) fn run(mut self) -> Result<ShardStats, EngineError> {
        let mut stats = ShardStats { seq_durable: self.state.seq_last(), ..ShardStats::default() };
        let mut batch: Vec<Input> = Vec::with_capacity(self.batch_inputs_max);
        let mut payload = Vec::with_capacity(512);
        let mut clock = Clock::default();
        let mut since_snapshot = 0u64;
        let mut day_over = self.state.day_over();
        loop {
            batch.clear();
            let open = self.gather(&mut batch);
            let now = clock.now();
            if now >= self.state.deadline() {
                batch.push(Input::Tick);
            }
            if !batch.is_empty() {
                self.sequence_durably(&batch, &mut clock, &mut payload, &mut stats)?;
                since_snapshot += batch.len() as u64;
            }
            let closed = !std::mem::replace(&mut day_over, self.state.day_over()) && day_over;
            let due = since_snapshot >= self.snapshot_every_inputs || closed || !open;
            if due && since_snapshot > 0 {
                // One at each close (the next day's recovery starts there), every N inputs and
                // at shutdown. The last one is written before the shard stops; the others on
                // their own thread, so that the shard goes on matching while it is written.
                self.snapshot(open);
                since_snapshot = 0;
            }
            if !open {
                self.snapshot_wait();
                stats.snapshots = self.snapshots_written;
                return Ok(stats);
            }
        }
    }

    /// Waits for the first input (up to a tick interval), then takes whatever else is queued,
    /// up to the batch limit. Returns `false` once every sender is gone and the queue is empty.
    fn gather(&self, batch: &mut Vec<Input>) -> bool {
        match self.inputs.recv_timeout(TICK_INTERVAL) {
            Ok(input) => batch.push(input),
            Err(RecvTimeoutError::Timeout) => return !self.stop.load(Ordering::Acquire),
            Err(RecvTimeoutError::Disconnected) => return false,
        }
        while batch.len() < self.batch_inputs_max {
            match self.inputs.try_recv() {
                Ok(input) => batch.push(input),
                Err(_) => break,
            }
        }
        true
    }

    /// Sequences `batch` as [`sequence`](Self::sequence) does; if the journal fails, holds the
    /// shard faulted until its state is rebuilt from disk, then sequences what of the batch
    /// did not reach the journal.
    ///
    /// # Errors
    /// Returns an error other than a journal fault at once, and a journal fault if the engine
    /// is told to stop while the fault lasts.
    fn sequence_durably(
        &mut self,
        batch: &[Input],
        clock: &mut Clock,
        payload: &mut Vec<u8>,
        stats: &mut ShardStats,
    ) -> Result<(), EngineError> {
        let mut faulted = false;
        loop {
            let acknowledged = self.state.seq_last();
            match self.sequence(batch, clock, payload, stats) {
                Ok(()) => break,
                Err(EngineError::Journal(error)) => {
                    self.fault_enter(&error, acknowledged, faulted);
                    faulted = true;
                    self.recover(acknowledged, error)?;
                }
                Err(other) => return Err(other),
            }
        }
        if faulted {
            self.faulted[usize::from(self.state.shard())].store(false, Ordering::Release);
            let seq = self.state.seq_last();
            tracing::info!(shard = self.state.shard(), seq, "journal fault cleared: shard resumes");
        }
        Ok(())
    }

    /// Marks the shard faulted and tells the operator (at the first failure of a fault only).
    fn fault_enter(&self, error: &JournalError, acknowledged: u64, already: bool) {
        let shard = self.state.shard();
        self.faulted[usize::from(shard)].store(true, Ordering::Release);
        if !already {
            tracing::error!(
                shard,
                seq_durable = acknowledged,
                %error,
                "journal fault: new orders are refused until the journal can be written; \
                 nothing after seq_durable was acknowledged"
            );
        }
    }

    /// Cuts the journal after `acknowledged` (the batch that failed was never acknowledged and
    /// is sequenced again) and rebuilds the state from the snapshot and journal on disk, every
    /// [`FAULT_RETRY`] until both succeed.
    ///
    /// # Errors
    /// Returns `fault` if the engine is told to stop first.
    fn recover(&mut self, acknowledged: u64, fault: JournalError) -> Result<(), EngineError> {
        let shard = usize::from(self.state.shard());
        let mut attempt = 0u32;
        loop {
            attempt = attempt.wrapping_add(1);
            if self.stop.load(Ordering::Acquire) {
                return Err(EngineError::Journal(fault));
            }
            std::thread::sleep(FAULT_RETRY);
            match self.rebuild(acknowledged) {
                Ok(()) => return Ok(()),
                Err(error) if attempt.is_multiple_of(FAULT_LOG_EVERY) => {
                    tracing::warn!(shard, attempt, %error, "journal fault persists");
                }
                Err(_) => {}
            }
        }
    }

    /// One attempt of [`recover`](Self::recover).
    fn rebuild(&mut self, acknowledged: u64) -> Result<(), EngineError> {
        // Retention must not remove segments under the recovery's reader.
        self.snapshot_wait();
        let (shard, options) = (usize::from(self.state.shard()), &self.journal_options);
        crate::journal::cut_after(&self.dirs.journal, options, acknowledged)?;
        let mut nothing = |_: Vec<Output>| {};
        let recovered =
            recovery::recover(&self.registry, shard, &self.dirs, options, u64::MAX, &mut nothing)?;
        let recovered_seq = recovered.state.seq_last();
        if recovered_seq != acknowledged {
            return Err(EngineError::AcknowledgedLost { acknowledged, recovered: recovered_seq });
        }
        self.state = recovered.state;
        self.journal = recovered.journal;
        Ok(())
    }

    /// Stamps, journals and applies `batch`, commits, then releases its outputs. Not inlined:
    /// it is called once per batch, and profiles read better with it on its own.
    #[inline(never)]
    fn sequence(
        &mut self,
        batch: &[Input],
        clock: &mut Clock,
        payload: &mut Vec<u8>,
        stats: &mut ShardStats,
    ) -> Result<(), EngineError> {
        let mut outputs: Vec<Output> = self.pool.pop().unwrap_or_default();
        let mut seq = self.state.seq_last();
        // One timestamp for the batch: its inputs were all waiting when the batch was taken.
        let now = clock.now();
        for input in batch {
            seq += 1;
            payload.clear();
            input.encode(payload);
            debug_assert!(
                payload.len() <= Input::ENCODED_MAX,
                "Invariant: batches are sized by it"
            );
            self.journal.append(seq, now.0, input.kind(), payload)?;
            self.state.apply(seq, now, input, &mut outputs);
        }
        let durable = self.journal.commit()?;
        assert_eq!(durable, seq, "Invariant: a commit makes the whole batch durable");
        stats.inputs += batch.len() as u64;
        stats.commits += 1;
        stats.seq_durable = durable;
        self.seq_durable[usize::from(self.state.shard())].store(durable, Ordering::Release);
        let shard = usize::from(self.state.shard());
        let pool = Some(Arc::clone(&self.pool));
        let batch = OutputBatch::new(shard, durable, outputs, BatchKind::Live, pool);
        // A consumer that has gone away is not the sequencer's problem: the outputs are
        // recoverable from the journal.
        let _ = self.outputs.send(batch);
        Ok(())
    }

    /// Encodes a snapshot of the state and writes it, with retention, on a thread of its own
    /// if `background` (after the previous one is done), else here. A snapshot only shortens
    /// recovery (the journal holds everything), so a failed one is logged and the next
    /// interval tries again.
    fn snapshot(&mut self, background: bool) {
        self.snapshot_wait();
        let mut payload = std::mem::take(&mut self.snapshot_buffer);
        payload.clear();
        self.state.encode_snapshot(&mut payload);
        let job = SnapshotJob {
            shard: self.state.shard(),
            seq: self.state.seq_last(),
            payload,
            dirs: self.dirs.clone(),
            options: self.journal_options.clone(),
        };
        if background {
            let name = format!("snapshot-{}", job.shard);
            match std::thread::Builder::new().name(name).spawn(move || job.write()) {
                Ok(thread) => self.snapshot_pending = Some(thread),
                Err(error) => tracing::error!(%error, "cannot start a snapshot thread"),
            }
        } else {
            let (result, buffer) = job.write();
            self.snapshot_buffer = buffer;
            self.snapshot_done(result);
        }
    }

    /// Waits for the snapshot being written, if any, and records how it went.
    fn snapshot_wait(&mut self) {
        if let Some(thread) = self.snapshot_pending.take() {
            let shard = usize::from(self.state.shard());
            let result = match thread.join() {
                Ok((result, buffer)) => {
                    self.snapshot_buffer = buffer;
                    result
                }
                Err(_) => {
                    Err(EngineError::Thread { shard, what: "snapshot writer panicked".into() })
                }
            };
            self.snapshot_done(result);
        }
    }

    fn snapshot_done(&mut self, result: Result<(), EngineError>) {
        match result {
            Ok(()) => self.snapshots_written += 1,
            Err(error) => tracing::error!(shard = self.state.shard(), %error, "snapshot failed"),
        }
    }
}

/// How writing a snapshot went, and its buffer for the next one.
pub(crate) type SnapshotWritten = (Result<(), EngineError>, Vec<u8>);

/// A snapshot to write: its encoded state and where it goes.
struct SnapshotJob {
    shard: u16,
    seq: u64,
    payload: Vec<u8>,
    dirs: ShardDirs,
    options: crate::journal::JournalOptions,
}

impl SnapshotJob {
    /// Writes the snapshot, keeps the newest [`SNAPSHOTS_KEPT`] and removes the journal
    /// segments the oldest kept one covers; hands back the payload's buffer for the next one.
    fn write(self) -> SnapshotWritten {
        let result = self.write_files();
        (result, self.payload)
    }

    fn write_files(&self) -> Result<(), EngineError> {
        let path = snapshot::write(&self.dirs.snapshots, self.seq, &self.payload)?;
        let retention = snapshot::retain(&self.dirs.snapshots, SNAPSHOTS_KEPT)?;
        if let Some(oldest) = retention.seq_oldest_kept {
            crate::journal::segments_remove_covered(&self.dirs.journal, &self.options, oldest)?;
        }
        tracing::info!(
            shard = self.shard,
            seq = self.seq,
            bytes = self.payload.len(),
            path = %path.display(),
            "snapshot written"
        );
        Ok(())
    }
}

/// The wall clock, made monotonic: a timestamp never goes backwards, even if the system clock
/// is stepped back.
#[derive(Debug, Default)]
struct Clock {
    last: u64,
}

impl Clock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the sequencer is where time enters the engine, as each input's timestamp"
    )]
    fn now(&mut self) -> Timestamp {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        self.last = self.last.max(wall);
        Timestamp(self.last)
    }
}
