//! The engine: one sequencer thread per shard, the routing of inputs to them, and start-up and
//! shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam::channel::{self, SendTimeoutError, Sender, TrySendError};

use crate::codec::DecodeError;
use crate::config::Registry;
use crate::input::{Admin, Input};
use crate::journal::{JournalError, JournalOptions, RECORD_HEADER_SIZE};
use crate::layout::Layout;
use crate::output::Output;
use crate::recovery::{self, RecoveryReport, ShardDirs};
use crate::sequencer::{Sequencer, ShardStats};
use crate::snapshot::SnapshotError;
use crate::state::RestoreError;

/// The outputs of one journal commit of one shard, in order.
///
/// Dropping a batch gives its vector back to its shard, which reuses it for a later batch: the
/// sequencer then allocates nothing per batch in steady state.
#[derive(Debug)]
pub struct OutputBatch {
    /// The shard.
    pub shard: usize,
    /// Every output's input is durable up to this sequence number.
    pub seq_durable: u64,
    /// The outputs.
    pub outputs: Vec<Output>,
    /// Where the outputs come from.
    pub kind: BatchKind,
    /// Where the vector goes back to.
    pool: Option<Arc<OutputPool>>,
}

/// Spare output vectors of one shard: at most [`OUTPUT_POOL_MAX`], reused batch after batch.
pub(crate) type OutputPool = crossbeam::queue::ArrayQueue<Vec<Output>>;

/// Vectors kept per shard for reuse.
pub const OUTPUT_POOL_MAX: usize = 64;

impl OutputBatch {
    pub(crate) fn new(
        shard: usize,
        seq_durable: u64,
        outputs: Vec<Output>,
        kind: BatchKind,
        pool: Option<Arc<OutputPool>>,
    ) -> OutputBatch {
        OutputBatch { shard, seq_durable, outputs, kind, pool }
    }
}

impl Drop for OutputBatch {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            let mut outputs = std::mem::take(&mut self.outputs);
            outputs.clear();
            // A full pool means enough vectors are in circulation: this one is freed.
            let _ = pool.push(outputs);
        }
    }
}

/// Where an [`OutputBatch`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// Inputs just sequenced.
    Live,
    /// Inputs replayed at start-up whose outputs the consumer said it had not yet received.
    Replayed,
    /// At start-up, after recovery: every level of every book of the shard, so a market-data
    /// consumer can build its picture of the books before live changes arrive.
    Image,
}

/// An engine failure: the engine cannot go on (or cannot start).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The journal failed.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// A journal append did not fit the batch.
    #[error("journal append: {0}")]
    Append(#[from] crate::journal::AppendError),
    /// A snapshot file failed.
    #[error("snapshot: {0}")]
    Snapshot(#[from] SnapshotError),
    /// A snapshot's content could not be restored.
    #[error("snapshot {path}: {source}")]
    Restore {
        /// The file.
        path: PathBuf,
        /// Why.
        source: RestoreError,
    },
    /// A snapshot belongs to another shard or does not match its sequence number.
    #[error("snapshot {path} does not belong to this shard or sequence")]
    SnapshotMismatch {
        /// The file.
        path: PathBuf,
    },
    /// The journal ends before the snapshot (journal files lost).
    #[error("journal continues at {journal_next} but the snapshot is at {snapshot_seq}")]
    JournalBehindSnapshot {
        /// The journal's next sequence number.
        journal_next: u64,
        /// The snapshot's.
        snapshot_seq: u64,
    },
    /// After a journal fault, the journal on disk no longer reaches the last acknowledged input.
    #[error("the journal ends at {recovered}, before the last acknowledged input {acknowledged}")]
    AcknowledgedLost {
        /// The last input acknowledged.
        acknowledged: u64,
        /// Where the journal on disk ends.
        recovered: u64,
    },
    /// A journal record does not decode as an input.
    #[error("journal record {seq}: {source}")]
    Decode {
        /// Its sequence number.
        seq: u64,
        /// Why.
        source: DecodeError,
    },
    /// The config does not fit the data directory's layout.
    #[error(transparent)]
    Layout(#[from] crate::layout::LayoutError),
    /// A sequencer thread could not be started or panicked.
    #[error("shard {shard} thread: {what}")]
    Thread {
        /// The shard.
        shard: usize,
        /// What happened.
        what: String,
    },
}

/// Why an input was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The shard's queue is full: back-pressure; try again shortly.
    #[error("the engine is busy")]
    Busy,
    /// The shard cannot write its journal: new orders and replaces are refused until it can
    /// (cancels and other inputs still queue, and are answered once it recovers).
    #[error("the journal cannot be written")]
    Unavailable,
    /// The engine has stopped.
    #[error("the engine has stopped")]
    Stopped,
}

/// A running engine.
#[derive(Debug)]
pub struct Engine {
    /// Where inputs go; [`Engine::handle`] clones it.
    handle: EngineHandle,
    /// The sequencer threads.
    threads: Vec<JoinHandle<Result<ShardStats, EngineError>>>,
    /// Tells the sequencers to finish their queues and stop.
    stop: Arc<AtomicBool>,
}

/// A producer's handle on the engine: routes inputs to the shards' queues. Cheap to clone; the
/// shards stop once the [`Engine`] and every handle are gone.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    registry: Arc<Registry>,
    /// Each shard's input queue.
    senders: Vec<Sender<Input>>,
    /// Each shard's durable sequence number; its sequencer stores it after every commit.
    seq_durable: Arc<[AtomicU64]>,
    /// Each shard's journal fault flag; its sequencer sets it while it cannot write.
    faulted: Arc<[AtomicBool]>,
}

impl Engine {
    /// Recovers every shard from `data_dir` and starts its sequencer. Outputs go to `outputs`;
    /// outputs of journaled inputs after `resend_after[shard]` (what the consumer already has)
    /// are sent first, as replayed batches.
    ///
    /// The config must extend the layout `data_dir` was written with (see [`crate::layout`]);
    /// once every shard has recovered, its layout is recorded there.
    ///
    /// # Errors
    /// Returns [`EngineError::Layout`] if the config does not fit the data directory, and the
    /// first shard's [`EngineError`] if a shard cannot recover or start.
    pub fn start(
        registry: Arc<Registry>,
        data_dir: &Path,
        outputs: Sender<OutputBatch>,
        resend_after: &[u64],
    ) -> Result<(Engine, Vec<RecoveryReport>), EngineError> {
        let layout = Layout::of(&registry);
        crate::layout::check(data_dir, &layout)?;
        let config = &registry.config;
        let mut senders = Vec::new();
        let mut threads = Vec::new();
        let mut reports = Vec::new();
        let stop = Arc::new(AtomicBool::new(false));
        let seq_durable: Arc<[AtomicU64]> = (0..config.shards).map(|_| AtomicU64::new(0)).collect();
        let faulted: Arc<[AtomicBool]> =
            (0..config.shards).map(|_| AtomicBool::new(false)).collect();
        for shard in 0..config.shards {
            let dirs = ShardDirs::new(data_dir, shard);
            let journal_options = JournalOptions {
                shard_id: shard as u32,
                durability: config.durability,
                segment_size_max: config.journal_segment_bytes,
                batch_size_max: journal_batch_bytes(config.batch_inputs_max),
                ..JournalOptions::default()
            };
            let after = resend_after.get(shard).copied().unwrap_or(u64::MAX);
            let mut resend = |outputs_replayed: Vec<Output>| {
                let seq_durable = outputs_replayed.last().map_or(0, |output| output.seq);
                let kind = BatchKind::Replayed;
                let batch = OutputBatch::new(shard, seq_durable, outputs_replayed, kind, None);
                let _ = outputs.send(batch);
            };
            let recovered =
                recovery::recover(&registry, shard, &dirs, &journal_options, after, &mut resend)?;
            reports.push(recovered.report);
            let image = OutputBatch::new(
                shard,
                recovered.state.seq_last(),
                recovered.state.book_image(),
                BatchKind::Image,
                None,
            );
            let _ = outputs.send(image);
            let (sender, receiver) = channel::bounded(config.input_queue_capacity);
            seq_durable[shard].store(recovered.state.seq_last(), Ordering::Release);
            let sequencer = Sequencer {
                registry: Arc::clone(&registry),
                state: recovered.state,
                journal: recovered.journal,
                inputs: receiver,
                outputs: outputs.clone(),
                dirs,
                journal_options,
                batch_inputs_max: config.batch_inputs_max,
                snapshot_every_inputs: config.snapshot_every_inputs,
                stop: Arc::clone(&stop),
                pool: Arc::new(OutputPool::new(OUTPUT_POOL_MAX)),
                seq_durable: Arc::clone(&seq_durable),
                faulted: Arc::clone(&faulted),
                snapshot_pending: None,
                snapshot_buffer: Vec::new(),
                snapshots_written: 0,
            };
            let thread = std::thread::Builder::new()
                .name(format!("shard-{shard}"))
                .spawn(move || sequencer.run())
                .map_err(|error| EngineError::Thread { shard, what: error.to_string() })?;
            senders.push(sender);
            threads.push(thread);
        }
        crate::layout::record(data_dir, &layout)?;
        let handle = EngineHandle { registry, senders, seq_durable, faulted };
        Ok((Engine { handle, threads, stop }, reports))
    }

    /// Returns a handle for producers.
    #[must_use]
    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// Stops taking inputs, lets every shard finish its queue and write a final snapshot, and
    /// returns their counters. Inputs queued after this may be dropped: stop the producers
    /// first.
    ///
    /// # Errors
    /// Returns the first shard's [`EngineError`].
    pub fn shutdown(self) -> Result<Vec<ShardStats>, EngineError> {
        self.stop.store(true, Ordering::Release);
        drop(self.handle);
        let mut stats = Vec::new();
        for (shard, thread) in self.threads.into_iter().enumerate() {
            let result = thread
                .join()
                .map_err(|_| EngineError::Thread { shard, what: "panicked".into() })?;
            stats.push(result?);
        }
        Ok(stats)
    }

    /// Queues `input`, waiting while a queue is full. See [`EngineHandle::submit`].
    ///
    /// # Errors
    /// Returns [`SubmitError::Stopped`] if the engine has stopped.
    pub fn submit(&self, input: Input) -> Result<(), SubmitError> {
        self.handle.submit(input)
    }
}

impl EngineHandle {
    /// Returns the registry.
    #[must_use]
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Returns the shards an input goes to.
    #[must_use]
    pub fn route(&self, input: &Input) -> Route {
        let registry = &self.registry;
        let shard = |instrument| Route::One(registry.shard_of(instrument));
        match input {
            Input::NewOrder(order) => shard(order.instrument),
            Input::Cancel(cancel) => shard(cancel.instrument),
            Input::Replace(replace) => shard(replace.instrument),
            Input::OrderStatus(status) => shard(status.instrument),
            Input::MassCancel(mass) => mass.instrument.map_or(Route::All, shard),
            Input::Disconnect { .. } | Input::Tick => Route::All,
            Input::Admin(admin) => match admin {
                Admin::Halt(id) | Admin::Resume(id) | Admin::SetPhase(id, _) => shard(*id),
                Admin::MassCancel(Some(id)) => shard(*id),
                Admin::Deposit { currency, .. } => {
                    registry.shard_of_currency(currency.as_str()).map_or(Route::All, Route::One)
                }
                Admin::SuspendFirm(_) | Admin::ReinstateFirm(_) | Admin::MassCancel(None) => {
                    Route::All
                }
            },
        }
    }

    /// Queues `input` for its shard(s) without waiting.
    ///
    /// # Errors
    /// Returns [`SubmitError::Busy`] if a shard's queue is full (for an input to all shards,
    /// some shards may already have taken it), [`SubmitError::Unavailable`] for a new order or
    /// replace while its shard's journal is faulted, and [`SubmitError::Stopped`] if the engine
    /// has stopped.
    pub fn try_submit(&self, input: Input) -> Result<(), SubmitError> {
        self.dispatch(input, |sender| match sender.try_send(input) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        })
    }

    /// Sends `input` with `send` to its shard(s), refusing a new order or a replace for a
    /// shard whose journal is faulted.
    fn dispatch(
        &self,
        input: Input,
        send: impl Fn(&Sender<Input>) -> Result<(), SubmitError>,
    ) -> Result<(), SubmitError> {
        match self.route(&input) {
            Route::One(shard) => {
                let refusable = matches!(input, Input::NewOrder(_) | Input::Replace(_));
                if refusable && self.faulted[shard].load(Ordering::Acquire) {
                    return Err(SubmitError::Unavailable);
                }
                send(&self.senders[shard])
            }
            Route::All => self.senders.iter().try_for_each(send),
        }
    }

    /// Queues `input`, waiting while a queue is full.
    ///
    /// # Errors
    /// Returns [`SubmitError::Unavailable`] for a new order or replace while its shard's journal
    /// is faulted, and [`SubmitError::Stopped`] if the engine has stopped.
    pub fn submit(&self, input: Input) -> Result<(), SubmitError> {
        self.dispatch(input, |sender| sender.send(input).map_err(|_| SubmitError::Stopped))
    }

    /// Queues `input`, waiting up to `timeout` while a queue is full: bounded back-pressure.
    ///
    /// # Errors
    /// Returns [`SubmitError::Busy`] if a queue stayed full (for an input to all shards, some
    /// may have taken it), [`SubmitError::Unavailable`] for a new order or replace while its
    /// shard's journal is faulted, and [`SubmitError::Stopped`] if the engine has stopped.
    pub fn submit_timeout(&self, input: Input, timeout: Duration) -> Result<(), SubmitError> {
        // A free slot is the common case: take it without reading the clock for a deadline.
        self.dispatch(input, |sender| match sender.try_send(input) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => match sender.send_timeout(input, timeout) {
                Ok(()) => Ok(()),
                Err(SendTimeoutError::Timeout(_)) => Err(SubmitError::Busy),
                Err(SendTimeoutError::Disconnected(_)) => Err(SubmitError::Stopped),
            },
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        })
    }

    /// Returns the number of shards.
    #[must_use]
    pub fn shards(&self) -> usize {
        self.senders.len()
    }

    /// Returns each shard's durable sequence number: the journal position through which its
    /// inputs are on disk (what it recovered to, until its first commit).
    #[must_use]
    pub fn seq_durable(&self) -> Vec<u64> {
        self.seq_durable.iter().map(|seq| seq.load(Ordering::Acquire)).collect()
    }

    /// Returns, for each shard, whether its journal is faulted (new orders refused).
    #[must_use]
    pub fn faulted(&self) -> Vec<bool> {
        self.faulted.iter().map(|flag| flag.load(Ordering::Acquire)).collect()
    }

    /// Returns how many inputs wait in each shard's queue.
    #[must_use]
    pub fn queued(&self) -> Vec<usize> {
        self.senders.iter().map(Sender::len).collect()
    }
}

/// Where an input goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// To one shard.
    One(usize),
    /// To every shard.
    All,
}

/// The journal batch buffer of a shard: room for `batch_inputs_max` inputs and a tick, each at
/// most [`Input::ENCODED_MAX`] bytes of payload, and never less than the journal's default. A
/// batch that did not fit would stop the shard.
fn journal_batch_bytes(batch_inputs_max: usize) -> u32 {
    let record = RECORD_HEADER_SIZE + Input::ENCODED_MAX;
    let bytes = batch_inputs_max.saturating_add(1).saturating_mul(record);
    let default = JournalOptions::default().batch_size_max;
    u32::try_from(bytes).unwrap_or(u32::MAX).max(default)
}
