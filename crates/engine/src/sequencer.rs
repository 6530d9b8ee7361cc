//! The sequencer of one shard: the thread that owns the shard's state and journal.
//!
//! It takes inputs from its bounded queue in batches, stamps each with the next sequence number
//! and the time, appends it to the journal and applies it; then it commits the journal once
//! for the whole batch (group commit) and only then releases the batch's outputs. So **no output
//! for input `n` leaves before the journal is durable through `n`**, and one `fdatasync` covers
//! every input that arrived while the previous one ran.
//!
//! Time enters here and only here: the sequencer reads the wall clock, keeps it monotonic, and
//! passes it in as each input's timestamp. When no input arrives it wakes up every
//! `tick_interval` and, if the state's next deadline has passed, sequences a `Tick`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use birzha_book::Timestamp;
use crossbeam::channel::{Receiver, RecvTimeoutError, Sender};

use crate::engine::{BatchKind, EngineError, OutputBatch, OutputPool};
use crate::input::Input;
use crate::journal::JournalWriter;
use crate::output::Output;
use crate::recovery::ShardDirs;
use crate::snapshot;
use crate::state::ShardState;

/// How often an idle sequencer checks whether a tick is due.
pub const TICK_INTERVAL: Duration = Duration::from_millis(100);

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
}

impl Sequencer {
    /// Runs until every input sender is gone, then writes a final snapshot.
    pub(crate) fn run(mut self) -> Result<ShardStats, EngineError> {
        let mut stats = ShardStats { seq_durable: self.state.seq_last(), ..ShardStats::default() };
        let mut batch: Vec<Input> = Vec::with_capacity(self.batch_inputs_max);
        let mut payload = Vec::with_capacity(512);
        let mut clock = Clock::default();
        let mut since_snapshot = 0u64;
        loop {
            batch.clear();
            let open = self.gather(&mut batch);
            let now = clock.now();
            if now >= self.state.deadline() {
                batch.push(Input::Tick);
            }
            if !batch.is_empty() {
                self.sequence(&batch, &mut clock, &mut payload, &mut stats)?;
                since_snapshot += batch.len() as u64;
            }
            if since_snapshot >= self.snapshot_every_inputs || (!open && since_snapshot > 0) {
                self.snapshot(&mut stats)?;
                since_snapshot = 0;
            }
            if !open {
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

    fn snapshot(&mut self, stats: &mut ShardStats) -> Result<(), EngineError> {
        let mut payload = Vec::new();
        self.state.encode_snapshot(&mut payload);
        let seq = self.state.seq_last();
        let path = snapshot::write(&self.dirs.snapshots, seq, &payload)?;
        stats.snapshots += 1;
        let retention = snapshot::retain(&self.dirs.snapshots, SNAPSHOTS_KEPT)?;
        if let Some(oldest) = retention.seq_oldest_kept {
            let options = &self.journal_options;
            crate::journal::segments_remove_covered(&self.dirs.journal, options, oldest)?;
        }
        tracing::info!(
            shard = self.state.shard(),
            seq,
            bytes = payload.len(),
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
