//! The registry of sessions by counterparty CompID: how the application pushes messages to a
//! trader at any time, from any thread or task.
//!
//! Each CompID has a slot holding its [`SessionStore`] and its link to the connection serving it,
//! if any. [`Sessions::send`] never blocks on the network:
//! - while the trader is logged on, the message goes into that session's bounded queue and the
//!   session task numbers, stores and writes it;
//! - if that queue is full the trader is a slow reader: the session is told to disconnect, and
//!   this message and every later one until the session has ended are kept in an overflow list
//!   that the ending session numbers and stores, in order, without sending;
//! - while the trader is not connected, the message is numbered and stored at once, so the
//!   ResendRequest of its next Logon recovers it.
//!
//! # Locking
//! Two `std` mutexes per slot, never held across an `.await`: `store` (held by the session task
//! while it processes one event, and by [`Sessions::send`] only while the trader is offline) and
//! `link` (held for a few instructions). The order is always store, then link; [`Sessions::send`]
//! releases `link` before taking `store`. So the application may call [`Sessions::send`] from
//! inside [`Application::on_message`](birzha_fix::session::Application::on_message), even for
//! the same trader, without deadlock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use birzha_fix::session::{
    DeferredSync, FileStore, FileStoreConfig, MemoryStore, Outgoing, SessionId, SessionStore,
    StoreError, encode_application,
};
use bytes::{Bytes, BytesMut};
use tokio::sync::{Notify, mpsc};
use tracing::warn;

use crate::clock::Clock;
use crate::config::{GatewayConfig, StoreConfig};

/// An application message waiting to be sent: MsgType and encoded body fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// MsgType (35).
    pub msg_type: Bytes,
    /// Body fields, encoded `tag=value<SOH>…` (build them with [`birzha_fix::Body`]).
    pub body: Bytes,
    /// PossResend (97) = Y.
    pub poss_resend: bool,
}

impl OutboundMessage {
    /// A message of this type with this body.
    pub fn new(msg_type: impl Into<Bytes>, body: impl Into<Bytes>) -> Self {
        Self { msg_type: msg_type.into(), body: body.into(), poss_resend: false }
    }

    pub(crate) fn outgoing(&self) -> Outgoing<'_> {
        Outgoing { msg_type: &self.msg_type, body: &self.body, poss_resend: self.poss_resend }
    }
}

/// Why [`Sessions::send`] could not keep a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The trader's store could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An entry of a session's outbound queue.
#[derive(Debug)]
pub(crate) enum Queued {
    /// A message the session task numbers, stores and writes ([`Sessions::send`]).
    Message(OutboundMessage),
    /// A message already numbered and stored ([`Sessions::send_stored`]): written as is.
    Stored(Bytes),
}

/// The buffers a sender of stored messages ([`Sessions::send_stored`]) reuses from message to
/// message: one to encode into, and an arena the queued copies are cut from. A queued message
/// is a view of the arena's current chunk, so queueing allocates once per chunk, not once per
/// message; a chunk is freed (or reused in place) when the session tasks have written every
/// message cut from it.
///
/// # Limits
/// A queued view keeps its whole chunk alive, so only a session whose queue holds fewer than
/// [`Self::ARENA_QUEUED_MAX`] messages gets views: a slow reader's backlog is copied message by
/// message, and pins at most `ARENA_QUEUED_MAX` chunks (2 MiB).
#[derive(Debug, Default)]
pub struct SendBuffers {
    /// The message being encoded.
    encoded: Vec<u8>,
    /// What is left of the current chunk.
    arena: BytesMut,
}

impl SendBuffers {
    /// Bytes per arena chunk: about fifty execution reports.
    const CHUNK: usize = 16 * 1024;

    /// The deepest queue whose messages are cut from the arena.
    const ARENA_QUEUED_MAX: usize = 128;

    /// A copy of the encoded message for a queue already holding `queued` messages.
    fn copy(&mut self, queued: usize) -> Bytes {
        if queued < Self::ARENA_QUEUED_MAX {
            self.cut()
        } else {
            Bytes::copy_from_slice(&self.encoded)
        }
    }

    /// A shared copy of the encoded message, cut from the arena.
    fn cut(&mut self) -> Bytes {
        if self.arena.capacity() < self.encoded.len() {
            self.arena.reserve(Self::CHUNK.max(self.encoded.len()));
        }
        self.arena.extend_from_slice(&self.encoded);
        self.arena.split().freeze()
    }
}

/// The connection currently serving a CompID.
#[derive(Debug)]
enum Link {
    /// Not connected: messages go straight to the store.
    Offline,
    /// Logged on.
    Online {
        /// Feeds the session task; bounded by `outbound_queue_max`.
        queue: mpsc::Sender<Queued>,
        /// Wakes the session task to disconnect a slow reader.
        kick: Arc<Notify>,
        /// Set before a kick that asks for a Logout (sustained throttle abuse).
        log_out: Arc<AtomicBool>,
        /// Messages that arrived after the queue overflowed, in order.
        overflow: Vec<OutboundMessage>,
        /// The session was kicked as a slow reader (logged once, not for every message that
        /// finds the queue still full before the session ends).
        kicked: bool,
    },
}

/// One CompID's store and link.
struct Slot {
    /// The session's CompIDs, for the headers of the messages stored here.
    id: SessionId,
    /// Sequence numbers and outbound messages.
    store: Mutex<Box<dyn SessionStore>>,
    /// The serving connection, if any.
    link: Mutex<Link>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Slot").finish_non_exhaustive()
    }
}

/// The registry; cheap to clone (all clones share it). See the module documentation.
#[derive(Debug, Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Slots by counterparty CompID (lookup only).
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    /// Store settings.
    store: StoreConfig,
    /// Our CompID.
    local_comp_id: String,
    /// Capacity of each session's queue.
    queue_max: usize,
    /// Stamps offline messages.
    clock: Clock,
    /// Store files found damaged, by CompID, with the file's identity and times then:
    /// refused again at once (not read again on every message for that trader) until the
    /// operator restores or moves the file.
    damaged: Mutex<HashMap<String, Damaged>>,
}

/// A store file [`FileStore::open`] refused as damaged.
#[derive(Debug)]
struct Damaged {
    /// The file's identity and times when it was refused.
    signature: Option<Signature>,
    /// Where the damaged record starts.
    offset: u64,
    /// Where the next intact record starts.
    next: u64,
}

/// A file's device and inode, size, and times of change (of its contents and of its inode), to
/// tell whether it changed: a file restored from a backup with its old modification time (`cp
/// -p`, `rsync -a`) still gets a new inode change time.
type Signature = (u64, u64, u64, i64, i64, i64, i64);

fn signature(path: &std::path::Path) -> Option<Signature> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec()))
}

/// A logged-on session's hold on its slot, returned by [`Sessions::claim`].
#[derive(Debug)]
pub(crate) struct Claim {
    slot: Arc<Slot>,
    /// Messages the application pushed for this session.
    pub(crate) queue: mpsc::Receiver<Queued>,
    /// Signalled when the queue overflows, or the exchange logs the session out.
    pub(crate) kick: Arc<Notify>,
    /// Set before a kick that asks the session to log out (with a reason) rather than drop.
    pub(crate) log_out: Arc<AtomicBool>,
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sessions {
    /// An empty registry using the stores and limits of `config`.
    #[must_use]
    pub fn new(config: &GatewayConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                slots: Mutex::new(HashMap::new()),
                store: config.store.clone(),
                local_comp_id: config.session.local_comp_id.clone(),
                queue_max: config.outbound_queue_max,
                clock: Clock::new(),
                damaged: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Queues (or, for a trader not connected, stores) an application message for `comp_id`.
    ///
    /// # Errors
    /// Returns a [`SendError`] if the trader's store cannot be opened or written.
    pub fn send(&self, comp_id: &str, message: OutboundMessage) -> Result<(), SendError> {
        let slot = self.slot(comp_id)?;
        {
            let mut link = lock(&slot.link);
            if let Link::Online { queue, kick, overflow, kicked, .. } = &mut *link {
                if !overflow.is_empty() {
                    overflow.push(message);
                    return Ok(());
                }
                match queue.try_send(Queued::Message(message)) {
                    Ok(()) => return Ok(()),
                    Err(mpsc::error::TrySendError::Full(queued)) => {
                        if let Queued::Message(message) = queued {
                            overflow.push(message);
                        }
                        kick_slow_reader(comp_id, kick, kicked);
                        return Ok(());
                    }
                    Err(mpsc::error::TrySendError::Closed(queued)) => {
                        if let Queued::Message(message) = queued {
                            overflow.push(message);
                        }
                        return Ok(());
                    }
                }
            }
        }
        let mut store = lock(&slot.store);
        self.store_offline(&slot.id, &mut **store, &message)?;
        Ok(())
    }

    /// Numbers and stores an application message for `comp_id` before returning, then queues
    /// it for the trader's session if it is logged on. Once this returns the message is in the
    /// trader's store: a write-behind store keeps its record in memory until the session
    /// flushes it (before the message goes on the wire) or the next sync, so a crash can lose
    /// it only while nobody has received it; the dispatcher's delivery watermark is persisted
    /// after that sync, so the engine delivers such a message again after a restart. A trader
    /// offline gets it through a ResendRequest. Returns the message's sequence number.
    ///
    /// A slow reader whose queue is full is disconnected; the message stays stored.
    ///
    /// An application uses either this or [`Sessions::send`] for a trader, never both, and
    /// never calls this from inside `on_message` (the session holds its store while it
    /// delivers a message): send from another thread, as the exchange's dispatcher does.
    ///
    /// # Errors
    /// Returns a [`SendError`] if the trader's store cannot be opened or written.
    pub fn send_stored(
        &self,
        comp_id: &str,
        outgoing: &Outgoing<'_>,
        buffers: &mut SendBuffers,
    ) -> Result<u64, SendError> {
        let slot = self.slot(comp_id)?;
        let mut store = lock(&slot.store);
        buffers.encoded.clear();
        let now = self.inner.clock.now();
        let seq = encode_application(&slot.id, now, outgoing, &mut **store, &mut buffers.encoded)?;
        let mut link = lock(&slot.link);
        if let Link::Online { queue, kick, kicked, .. } = &mut *link
            && let Err(mpsc::error::TrySendError::Full(_)) = queue
                .try_send(Queued::Stored(buffers.copy(queue.max_capacity() - queue.capacity())))
        {
            kick_slow_reader(comp_id, kick, kicked);
        }
        Ok(seq)
    }

    /// Logs `comp_id`'s session out, if it is logged on: it sends a Logout saying why and
    /// disconnects without waiting for the answer (the session ends involuntarily:
    /// cancel-on-disconnect applies). Used for sustained throttle abuse. Returns whether a
    /// session was told to go.
    pub fn log_out(&self, comp_id: &str) -> bool {
        let slot = lock(&self.inner.slots).get(comp_id).cloned();
        let Some(slot) = slot else { return false };
        let link = lock(&slot.link);
        if let Link::Online { kick, log_out, .. } = &*link {
            log_out.store(true, Ordering::Release);
            kick.notify_one();
            return true;
        }
        false
    }

    /// Makes every store's records durable. The dispatcher calls it before it records a
    /// delivery watermark, so that a watermark on disk never runs ahead of the reports it
    /// covers (whatever a power loss keeps).
    ///
    /// # Errors
    /// Returns the first store's [`StoreError`]; the other stores are still synced.
    pub fn sync_stores(&self) -> Result<(), StoreError> {
        let slots: Vec<Arc<Slot>> = lock(&self.inner.slots).values().cloned().collect();
        let mut first = Ok(());
        for slot in slots {
            // The fdatasync runs after the lock is let go: the dispatcher and the trader's
            // session need it, and a sync may take milliseconds on a busy disk.
            let deferred = lock(&slot.store).sync_deferred();
            let result = deferred.and_then(|sync| sync.map_or(Ok(()), DeferredSync::run));
            if first.is_ok() {
                first = result;
            }
        }
        first
    }

    /// Whether `comp_id` is logged on.
    #[must_use]
    pub fn is_logged_on(&self, comp_id: &str) -> bool {
        let slot = lock(&self.inner.slots).get(comp_id).cloned();
        slot.is_some_and(|slot| matches!(*lock(&slot.link), Link::Online { .. }))
    }

    /// Numbers and stores `message` for the session `id` without queueing it.
    fn store_offline(
        &self,
        id: &SessionId,
        store: &mut dyn SessionStore,
        message: &OutboundMessage,
    ) -> Result<u64, StoreError> {
        let mut scratch = Vec::new();
        encode_application(id, self.inner.clock.now(), &message.outgoing(), store, &mut scratch)
    }

    /// The slot of `comp_id`, opening its store the first time.
    fn slot(&self, comp_id: &str) -> Result<Arc<Slot>, StoreError> {
        let mut slots = lock(&self.inner.slots);
        if let Some(slot) = slots.get(comp_id) {
            return Ok(Arc::clone(slot));
        }
        let store: Box<dyn SessionStore> = match &self.inner.store {
            StoreConfig::Memory { messages_max } => Box::new(MemoryStore::new(*messages_max)),
            StoreConfig::File(config) => Box::new(self.open_file_store(config, comp_id)?),
        };
        let id = SessionId { local: self.inner.local_comp_id.clone(), remote: comp_id.to_owned() };
        let (store, link) = (Mutex::new(store), Mutex::new(Link::Offline));
        let slot = Arc::new(Slot { id, store, link });
        slots.insert(comp_id.to_owned(), Arc::clone(&slot));
        Ok(slot)
    }

    /// Opens `comp_id`'s file store, unless it was found damaged and has not changed since.
    fn open_file_store(
        &self,
        config: &FileStoreConfig,
        comp_id: &str,
    ) -> Result<FileStore, StoreError> {
        let path = FileStore::path_of(config, comp_id);
        let mut damaged = lock(&self.inner.damaged);
        if let Some(known) = damaged.get(comp_id)
            && known.signature == signature(&path)
        {
            let (offset, next) = (known.offset, known.next);
            return Err(StoreError::Corrupt { path: path.display().to_string(), offset, next });
        }
        match FileStore::open(config, comp_id) {
            Err(StoreError::Corrupt { path: shown, offset, next }) => {
                let signature = signature(&path);
                damaged.insert(comp_id.to_owned(), Damaged { signature, offset, next });
                Err(StoreError::Corrupt { path: shown, offset, next })
            }
            opened => {
                damaged.remove(comp_id);
                opened
            }
        }
    }

    /// Marks `comp_id` logged on. Returns `Ok(None)` if it already is.
    pub(crate) fn claim(&self, comp_id: &str) -> Result<Option<Claim>, StoreError> {
        let slot = self.slot(comp_id)?;
        let mut link = lock(&slot.link);
        if matches!(*link, Link::Online { .. }) {
            return Ok(None);
        }
        let (sender, queue) = mpsc::channel(self.inner.queue_max);
        let (kick, log_out) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
        *link = Link::Online {
            queue: sender,
            kick: Arc::clone(&kick),
            log_out: Arc::clone(&log_out),
            overflow: Vec::new(),
            kicked: false,
        };
        drop(link);
        Ok(Some(Claim { slot, queue, kick, log_out }))
    }

    /// Ends a claim: stores every message still queued or overflowed (numbered, not sent) and
    /// marks the CompID offline. Returns how many messages were stored that way.
    pub(crate) fn release(&self, comp_id: &str, mut claim: Claim) -> usize {
        let mut store = lock(&claim.slot.store);
        let overflow = match std::mem::replace(&mut *lock(&claim.slot.link), Link::Offline) {
            Link::Online { overflow, .. } => overflow,
            Link::Offline => Vec::new(),
        };
        claim.queue.close();
        let mut pending = Vec::new();
        while let Ok(queued) = claim.queue.try_recv() {
            // Stored messages are already in the store: the resend will bring them.
            if let Queued::Message(message) = queued {
                pending.push(message);
            }
        }
        pending.extend(overflow);
        for message in &pending {
            if let Err(error) = self.store_offline(&claim.slot.id, &mut **store, message) {
                warn!(comp_id, %error, "could not store an unsent message");
            }
        }
        pending.len()
    }
}

impl Claim {
    /// Empties the queue before the Logon is answered, with the store locked by the caller:
    /// anything in it was numbered (or is numbered now, into `store`) before the Logon reply, so
    /// the counterparty sees a gap and gets it through its ResendRequest, in order.
    pub(crate) fn settle_before_logon(
        &mut self,
        sessions: &Sessions,
        comp_id: &str,
        store: &mut dyn SessionStore,
    ) {
        while let Ok(queued) = self.queue.try_recv() {
            if let Queued::Message(message) = queued
                && let Err(error) = sessions.store_offline(&self.slot.id, store, &message)
            {
                warn!(comp_id, %error, "could not store a message queued before the Logon");
            }
        }
    }

    /// A handle on the session's store that does not borrow the claim.
    pub(crate) fn store_ref(&self) -> StoreRef {
        StoreRef(Arc::clone(&self.slot))
    }
}

/// A handle on one CompID's store.
#[derive(Debug)]
pub(crate) struct StoreRef(Arc<Slot>);

impl StoreRef {
    /// The store, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Box<dyn SessionStore>> {
        lock(&self.0.store)
    }
}

/// Wakes a slow reader's session task to disconnect it; logs the first time only.
fn kick_slow_reader(comp_id: &str, kick: &Notify, kicked: &mut bool) {
    if !*kicked {
        warn!(comp_id, "outbound queue full: disconnecting slow reader");
        *kicked = true;
    }
    kick.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_copies_are_cut_from_one_chunk_and_keep_their_bytes() {
        let mut buffers = SendBuffers::default();
        let mut cut = Vec::new();
        for index in 0..1_000u32 {
            buffers.encoded.clear();
            buffers.encoded.extend(std::iter::repeat_n(index as u8, 200 + index as usize % 50));
            cut.push((index, buffers.cut()));
        }
        let mut chunks = 1;
        for pair in cut.windows(2) {
            let (before, after) = (&pair[0].1, &pair[1].1);
            if before.as_ptr().wrapping_add(before.len()) != after.as_ptr() {
                chunks += 1;
            }
        }
        let bytes: usize = cut.iter().map(|(_, bytes)| bytes.len()).sum();
        assert!(chunks <= bytes.div_ceil(SendBuffers::CHUNK) + 1, "{chunks} chunks for {bytes} B");
        for (index, bytes) in &cut {
            assert_eq!(bytes.len(), 200 + *index as usize % 50);
            assert!(bytes.iter().all(|&byte| byte == *index as u8), "message {index}");
        }
    }

    #[test]
    fn a_deep_queue_gets_copies_that_pin_no_chunk() {
        let mut buffers = SendBuffers::default();
        buffers.encoded.extend_from_slice(b"report");
        let shallow = buffers.copy(SendBuffers::ARENA_QUEUED_MAX - 1);
        let deep = buffers.copy(SendBuffers::ARENA_QUEUED_MAX);
        let next = buffers.copy(0);
        assert_eq!(
            (&shallow[..], &deep[..], &next[..]),
            (&b"report"[..], &b"report"[..], &b"report"[..])
        );
        assert_eq!(shallow.as_ptr().wrapping_add(6), next.as_ptr(), "the arena skipped the copy");
        assert_ne!(deep.as_ptr(), shallow.as_ptr().wrapping_add(6));
    }
}
