//! Session stores: the sequence numbers of both directions and the outbound application
//! messages by sequence number, kept so that a ResendRequest can be answered.
//!
//! [`SessionStore`] is the interface the session layer uses; [`MemoryStore`] keeps everything in
//! memory and [`FileStore`](super::FileStore) persists it. Admin messages are not kept: a resend
//! replaces them (and anything no longer kept) with a SequenceReset-GapFill.
//!
//! # Limits
//! A store keeps at most `messages_max` messages; older ones are dropped first and gap-filled
//! if a counterparty asks for them.

use super::file_store::DeferredSync;
use super::window::Window;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the store's file failed.
    #[error("session store I/O on {path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A store file is damaged before its end: a record fails its checksum and an intact one
    /// follows (a crash mid-append damages only the last record, which is cut instead).
    /// Opening it would lose the later records and number messages again from the damage on.
    #[error(
        "session store {path} is damaged at byte {offset} (an intact record follows at byte \
         {next}): move it aside to start the counterparty afresh (both sides reset their \
         sequence numbers), or restore it"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// Where the first damaged record starts.
        offset: u64,
        /// Where the next intact record starts.
        next: u64,
    },
    /// A CompID cannot name a store (empty or too long).
    #[error("CompID {comp_id:?} cannot name a session store")]
    BadCompId {
        /// The CompID.
        comp_id: String,
    },
}

/// Sequence numbers and outbound messages of one session (one counterparty CompID).
pub trait SessionStore: Send {
    /// The MsgSeqNum the next outbound message gets (starts at 1).
    fn next_sender_seq(&self) -> u64;

    /// The MsgSeqNum expected on the next inbound message (starts at 1).
    fn next_target_seq(&self) -> u64;

    /// Records that an outbound message was sent with `seq` (the current next sender number),
    /// keeping `message` (a whole frame) for resends when it is an application message.
    ///
    /// # Errors
    /// Returns a [`StoreError`] if it cannot be persisted.
    fn save(&mut self, seq: u64, message: Option<&[u8]>) -> Result<(), StoreError>;

    /// Sets the next expected inbound MsgSeqNum.
    ///
    /// # Errors
    /// Returns a [`StoreError`] if it cannot be persisted.
    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError>;

    /// Visits the kept messages with `begin <= seq <= end`, in order.
    fn messages(&self, begin: u64, end: u64, visit: &mut dyn FnMut(u64, &[u8]));

    /// Resets both sequence numbers to 1 and drops every kept message.
    ///
    /// # Errors
    /// Returns a [`StoreError`] if it cannot be persisted.
    fn reset(&mut self) -> Result<(), StoreError>;

    /// Writes records the store gathered in memory to the operating system. The owner calls it
    /// before anything the store numbered goes on the wire (a store that writes every record
    /// at once has nothing to do).
    ///
    /// # Errors
    /// Returns a [`StoreError`] if they cannot be written.
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Makes everything recorded so far durable, writing what waits in memory first (a store
    /// that syncs every record, or keeps nothing on disk, has nothing to do).
    ///
    /// # Errors
    /// Returns a [`StoreError`] if it cannot be synced.
    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Writes what waits in memory, like [`sync`](Self::sync), but leaves the `fdatasync` to
    /// the caller: it returns the sync to run (after the caller has let go of any lock it
    /// holds on the store), or `None` if everything is durable already. A store without a
    /// file syncs here and returns `None`.
    ///
    /// # Errors
    /// Returns a [`StoreError`] if the records cannot be written.
    fn sync_deferred(&mut self) -> Result<Option<DeferredSync>, StoreError> {
        self.sync().map(|()| None)
    }
}

/// The state every store keeps in memory.
#[derive(Debug, Clone)]
pub(crate) struct StoreState {
    /// Next outbound MsgSeqNum.
    pub(crate) next_sender_seq: u64,
    /// Next expected inbound MsgSeqNum.
    pub(crate) next_target_seq: u64,
    /// Kept outbound application messages by MsgSeqNum.
    pub(crate) messages: Window,
}

impl StoreState {
    pub(crate) fn new(messages_max: usize) -> Self {
        assert!(messages_max > 0, "Invariant: a store keeps at least one message");
        Self { next_sender_seq: 1, next_target_seq: 1, messages: Window::new(messages_max) }
    }

    pub(crate) fn save(&mut self, seq: u64, message: Option<&[u8]>) {
        if let Some(message) = message {
            self.messages.push(seq, message);
        }
        self.next_sender_seq = self.next_sender_seq.max(seq + 1);
    }

    pub(crate) fn messages(&self, begin: u64, end: u64, visit: &mut dyn FnMut(u64, &[u8])) {
        self.messages.visit(begin, end, visit);
    }

    pub(crate) fn reset(&mut self) {
        self.next_sender_seq = 1;
        self.next_target_seq = 1;
        self.messages.clear();
    }
}

/// A store that keeps everything in memory: sequence numbers are lost on restart.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    /// Sequence numbers and kept messages.
    state: StoreState,
}

impl MemoryStore {
    /// A store that keeps at most `messages_max` outbound messages.
    ///
    /// # Panics
    /// Panics if `messages_max` is 0.
    #[must_use]
    pub fn new(messages_max: usize) -> Self {
        Self { state: StoreState::new(messages_max) }
    }
}

impl SessionStore for MemoryStore {
    fn next_sender_seq(&self) -> u64 {
        self.state.next_sender_seq
    }

    fn next_target_seq(&self) -> u64 {
        self.state.next_target_seq
    }

    fn save(&mut self, seq: u64, message: Option<&[u8]>) -> Result<(), StoreError> {
        self.state.save(seq, message);
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        self.state.next_target_seq = seq;
        Ok(())
    }

    fn messages(&self, begin: u64, end: u64, visit: &mut dyn FnMut(u64, &[u8])) {
        self.state.messages(begin, end, visit);
    }

    fn reset(&mut self) -> Result<(), StoreError> {
        self.state.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_keeps_a_bounded_window() {
        let mut store = MemoryStore::new(2);
        store.save(1, None).unwrap();
        store.save(2, Some(b"two")).unwrap();
        store.save(3, Some(b"three")).unwrap();
        store.save(4, Some(b"four")).unwrap();
        assert_eq!(store.next_sender_seq(), 5);
        let mut seen = Vec::new();
        store.messages(1, 10, &mut |seq, message| seen.push((seq, message.to_vec())));
        assert_eq!(seen, [(3, b"three".to_vec()), (4, b"four".to_vec())]);
        store.reset().unwrap();
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (1, 1));
    }
}
