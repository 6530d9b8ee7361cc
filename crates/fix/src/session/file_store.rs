//! A [`SessionStore`] persisted in an append-only file per counterparty CompID.
//!
//! # Format
//! `<directory>/<CompID>.session` is a sequence of records, each
//! `kind: u8 | seq: u64 LE | length: u32 LE | payload: [u8; length] | crc32: u32 LE`, where the
//! CRC-32 (IEEE) covers kind, seq, length and payload. Kinds:
//! - `M`: an outbound application message with MsgSeqNum `seq` (payload: the whole frame);
//! - `S`: the next outbound MsgSeqNum is `seq` (after an admin message);
//! - `T`: the next expected inbound MsgSeqNum is `seq`;
//! - `R`: both sequence numbers reset to 1 and every kept message dropped.
//!
//! Opening replays the records in order. A torn or corrupt record (a crash mid-write) ends the
//! replay and the file is truncated there, so a store always reopens.
//!
//! # Durability
//! With [`Durability::Fsync`] each record is `fdatasync`ed before the call returns; with
//! [`Durability::None`] it is written to the OS only, and made durable by
//! [`SessionStore::sync`] (which the owner calls at its checkpoints). An owner that shares the
//! store behind a lock calls [`SessionStore::sync_deferred`] under the lock instead and runs
//! the returned [`DeferredSync`] after letting go of it: an `fdatasync` takes milliseconds on a
//! busy disk, and nobody should wait that long for the lock.
//!
//! With [`FileStoreConfig::write_behind`] (and `Durability::None`), records are gathered in
//! memory and written by [`SessionStore::flush`] (or when [`WRITE_BEHIND_MAX`] bytes are
//! waiting, or by `sync`): one `write` for many records. The owner must flush before anything
//! the store numbered goes on the wire, so that what a peer saw is always in the file: a crash
//! then loses only records of messages nobody received.
//!
//! # Limits
//! At most `messages_max` messages are kept (older ones are gap-filled on resend). When the file
//! grows past `file_bytes_max`, and past twice its size after the last compaction, it is
//! compacted: the current sequence numbers and kept messages are written to a temporary file,
//! synced, and renamed over the old one. (The second bound keeps kept messages larger than
//! `file_bytes_max` from being rewritten at every append.)

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::store::{SessionStore, StoreError, StoreState};

/// Whether each record is synced to disk before returning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Written to the operating system only.
    None,
    /// `fdatasync` after every record.
    Fsync,
}

/// Settings of a [`FileStore`].
#[derive(Debug, Clone)]
pub struct FileStoreConfig {
    /// The directory holding one file per CompID.
    pub directory: PathBuf,
    /// Whether records are synced.
    pub durability: Durability,
    /// The most outbound messages kept.
    pub messages_max: usize,
    /// The file size past which the file is compacted.
    pub file_bytes_max: u64,
    /// Whether records wait in memory for [`SessionStore::flush`] (see the module
    /// documentation); ignored with [`Durability::Fsync`].
    pub write_behind: bool,
}

/// The most bytes of records a write-behind store gathers before it writes them anyway.
pub const WRITE_BEHIND_MAX: usize = 64 * 1024;

const HEADER_LEN: usize = 1 + 8 + 4;
const TRAILER_LEN: usize = 4;
/// The longest CompID a store file may be named after.
const COMP_ID_LEN_MAX: usize = 64;

/// A persistent session store. See the module documentation.
#[derive(Debug)]
pub struct FileStore {
    /// Sequence numbers and kept messages, mirrored from the file.
    state: StoreState,
    /// The open file, positioned at its end (appends go through `&File`); shared with
    /// [`DeferredSync`]s, which sync it outside the owner's lock.
    file: Arc<File>,
    /// Its path, for errors and compaction.
    path: PathBuf,
    /// The current file length.
    file_bytes: u64,
    /// The file's length right after the last compaction (0 before the first).
    compacted_bytes: u64,
    /// How many writes reached the file: a write's generation.
    written: u64,
    /// The newest generation known durable (raised by syncs, deferred ones included).
    synced: Arc<AtomicU64>,
    /// Set when a sync failed: Linux may then have dropped the dirty pages, so syncing again
    /// proves nothing; the next sync rewrites the file from memory (compaction) instead.
    sync_failed: Arc<AtomicBool>,
    /// Records not written yet (at most one without write-behind); reused, so appending
    /// allocates nothing in steady state.
    pending: Vec<u8>,
    /// Settings.
    config: FileStoreConfig,
}

impl FileStore {
    /// The file of `comp_id`'s store (whether or not it exists).
    #[must_use]
    pub fn path_of(config: &FileStoreConfig, comp_id: &str) -> PathBuf {
        config.directory.join(format!("{}.session", file_name(comp_id)))
    }

    /// Opens (or creates) the store of `comp_id`, replaying its file.
    ///
    /// # Errors
    /// Returns [`StoreError::BadCompId`] for an empty or over-long CompID,
    /// [`StoreError::Corrupt`] for a file damaged before its last record (a torn last record
    /// is cut), and [`StoreError::Io`] if the directory or file cannot be used.
    pub fn open(config: &FileStoreConfig, comp_id: &str) -> Result<Self, StoreError> {
        if comp_id.is_empty() || comp_id.len() > COMP_ID_LEN_MAX {
            return Err(StoreError::BadCompId { comp_id: comp_id.into() });
        }
        let path = Self::path_of(config, comp_id);
        std::fs::create_dir_all(&config.directory).map_err(io_error(&config.directory))?;
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_error(&path))?;
        if created {
            // The file's name must be durable before any sync of the file counts.
            sync_directory(&path)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error(&path))?;
        let mut state = StoreState::new(config.messages_max);
        let good = replay(&bytes, &mut state);
        if let Some(next) = record_after(&bytes, good) {
            let (path, offset, next) = (path.display().to_string(), good as u64, next as u64);
            return Err(StoreError::Corrupt { path, offset, next });
        }
        if good < bytes.len() {
            // A torn last record: a crash in the middle of its append, never acknowledged.
            let torn = bytes.len() - good;
            tracing::warn!(path = %path.display(), offset = good, torn, "session store: cutting a torn last record");
            file.set_len(good as u64).map_err(io_error(&path))?;
        }
        let file_bytes = good as u64;
        let config = config.clone();
        let (file, written, synced) = (Arc::new(file), 0, Arc::new(AtomicU64::new(0)));
        let (sync_failed, pending) = (Arc::new(AtomicBool::new(false)), Vec::new());
        let store = Self {
            state,
            file,
            path,
            file_bytes,
            compacted_bytes: 0,
            written,
            synced,
            sync_failed,
            pending,
            config,
        };
        Ok(store)
    }

    /// Records one change. On `Err` the record is not kept (the caller's state change must not
    /// happen either); on `Ok` it is written, or waits in memory with write-behind.
    fn append(&mut self, kind: u8, seq: u64, payload: &[u8]) -> Result<(), StoreError> {
        // Compaction rewrites the file from `state`, which already holds every earlier record
        // (the caller updates it after each `Ok`) but not this one: so compact before adding it.
        // It is also how the store recovers from a failed sync (see `sync_failed`).
        // With fsync every record is synced, so after a failed sync the next one must not be
        // written to a file whose earlier pages may be lost; without it, only checkpoints sync
        // and `sync_deferred` rewrites first.
        let rewrite =
            self.config.durability == Durability::Fsync && self.sync_failed.load(Ordering::Acquire);
        let compact_at = self.config.file_bytes_max.max(self.compacted_bytes.saturating_mul(2));
        if self.file_bytes > compact_at || rewrite {
            self.compact()?;
        }
        let start = self.pending.len();
        encode_record_into(&mut self.pending, kind, seq, payload);
        let length = (self.pending.len() - start) as u64;
        self.file_bytes += length;
        let behind = self.config.write_behind && self.config.durability == Durability::None;
        if (!behind || self.pending.len() >= WRITE_BEHIND_MAX)
            && let Err(error) = self.write_pending()
        {
            self.pending.truncate(start);
            self.file_bytes -= length;
            return Err(error);
        }
        if self.config.durability == Durability::Fsync {
            self.sync_written()?;
        }
        Ok(())
    }

    /// Writes the waiting records and syncs the file here (no compaction: `append` calls it
    /// with a record that `state` does not hold yet).
    fn sync_written(&mut self) -> Result<(), StoreError> {
        self.write_pending()?;
        self.unsynced().map_or(Ok(()), DeferredSync::run)
    }

    /// A sync of everything written so far, or `None` if it is all durable already.
    fn unsynced(&self) -> Option<DeferredSync> {
        if self.synced.load(Ordering::Acquire) >= self.written {
            return None;
        }
        Some(DeferredSync {
            file: Arc::clone(&self.file),
            path: self.path.clone(),
            generation: self.written,
            synced: Arc::clone(&self.synced),
            failed: Arc::clone(&self.sync_failed),
        })
    }

    /// Writes the records waiting in memory to the file. If the write fails, the file is cut
    /// back to its last whole record and the records keep waiting, so a later try cannot
    /// leave a torn record in the middle of the file (which would end every replay there).
    fn write_pending(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let whole = self.file_bytes - self.pending.len() as u64;
        if let Err(error) = (&*self.file).write_all(&self.pending) {
            // Best effort: if even this fails, the replay's checksum still stops at the tear,
            // and records after it would be lost to a replay: so the next sync rewrites the file.
            if self.file.set_len(whole).is_err() {
                self.sync_failed.store(true, Ordering::Release);
            }
            return Err(io_error(&self.path)(error));
        }
        self.pending.clear();
        self.written += 1;
        Ok(())
    }

    /// Rewrites the file with only the current state (which holds every waiting record too, so
    /// they are dropped rather than written to the file being replaced), synced, renamed over
    /// the old one, and the directory synced. Then everything recorded is durable and a failed
    /// sync is forgotten; if the directory cannot be synced, the error is returned and the next
    /// sync (with fsync durability, the next append) compacts again.
    fn compact(&mut self) -> Result<(), StoreError> {
        let temporary = self.path.with_extension("session.tmp");
        let mut bytes = encode_record(b'S', self.state.next_sender_seq, &[]);
        bytes.extend(encode_record(b'T', self.state.next_target_seq, &[]));
        self.state.messages(1, u64::MAX, &mut |seq, message| {
            bytes.extend(encode_record(b'M', seq, message));
        });
        bytes.extend(encode_record(b'S', self.state.next_sender_seq, &[]));
        let mut file = File::create(&temporary).map_err(io_error(&temporary))?;
        file.write_all(&bytes).map_err(io_error(&temporary))?;
        file.sync_all().map_err(io_error(&temporary))?;
        // Opened before the rename, so that the store never appends to the replaced file.
        let appender =
            OpenOptions::new().append(true).open(&temporary).map_err(io_error(&temporary))?;
        std::fs::rename(&temporary, &self.path).map_err(io_error(&self.path))?;
        self.file = Arc::new(appender);
        self.file_bytes = bytes.len() as u64;
        self.compacted_bytes = self.file_bytes;
        self.pending.clear();
        if let Err(error) = sync_directory(&self.path) {
            self.sync_failed.store(true, Ordering::Release);
            return Err(error);
        }
        self.sync_failed.store(false, Ordering::Release);
        self.synced.fetch_max(self.written, Ordering::AcqRel);
        Ok(())
    }

    /// The path of the store's file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileStore {
    /// Writes what waits in memory (a store dropped on shutdown keeps its last records), or,
    /// after a failed sync, rewrites the file from memory.
    fn drop(&mut self) {
        let written = if self.sync_failed.load(Ordering::Acquire) {
            self.compact()
        } else {
            self.write_pending()
        };
        if let Err(error) = written {
            tracing::error!(%error, "cannot write a session store's last records");
        }
    }
}

/// Syncs the directory holding `path` (a bare file name's is `.`), which makes the file's name
/// durable after it was created or renamed.
fn sync_directory(path: &Path) -> Result<(), StoreError> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory).and_then(|directory| directory.sync_all()).map_err(io_error(directory))
}

impl SessionStore for FileStore {
    fn next_sender_seq(&self) -> u64 {
        self.state.next_sender_seq
    }

    fn next_target_seq(&self) -> u64 {
        self.state.next_target_seq
    }

    fn save(&mut self, seq: u64, message: Option<&[u8]>) -> Result<(), StoreError> {
        match message {
            Some(message) => self.append(b'M', seq, message)?,
            None => self.append(b'S', seq + 1, &[])?,
        }
        self.state.save(seq, message);
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        self.append(b'T', seq, &[])?;
        self.state.next_target_seq = seq;
        Ok(())
    }

    fn messages(&self, begin: u64, end: u64, visit: &mut dyn FnMut(u64, &[u8])) {
        self.state.messages(begin, end, visit);
    }

    fn reset(&mut self) -> Result<(), StoreError> {
        self.append(b'R', 1, &[])?;
        self.state.reset();
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.write_pending()
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.sync_deferred()?.map_or(Ok(()), DeferredSync::run)
    }

    fn sync_deferred(&mut self) -> Result<Option<DeferredSync>, StoreError> {
        if self.sync_failed.load(Ordering::Acquire) {
            // Rare (a disk that failed a sync), so done here, under the owner's lock. The
            // rewrite holds the waiting records too (they are in `state`).
            let path = self.path.display();
            tracing::warn!(%path, "rewriting a session store after a failed sync");
            self.compact()?;
        }
        self.write_pending()?;
        Ok(self.unsynced())
    }
}

/// An `fdatasync` of a store's file, taken out of the store by
/// [`SessionStore::sync_deferred`] so that it can run without the store's lock. Running it
/// makes durable every record the store had written when it was taken (records written since
/// may be covered too, but are not counted: the next sync covers them). One that is dropped
/// unrun, or overtaken by a compaction, changes nothing. Run one at a time per store (the
/// gateway's checkpoint thread is the only one): the kernel reports a failed write-back to one
/// sync only, and the failure flag is read after the sync.
#[derive(Debug)]
#[must_use = "nothing is durable until the sync runs"]
pub struct DeferredSync {
    file: Arc<File>,
    path: PathBuf,
    generation: u64,
    synced: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl DeferredSync {
    /// Syncs the file.
    ///
    /// # Errors
    /// Returns [`StoreError::Io`] if the sync fails. The kernel may have dropped the unwritten
    /// pages by then, so the store's next sync rewrites its file from memory (a compaction)
    /// rather than trusting a second `fdatasync`.
    pub fn run(self) -> Result<(), StoreError> {
        if let Err(error) = self.file.sync_data() {
            self.failed.store(true, Ordering::Release);
            return Err(io_error(&self.path)(error));
        }
        // The kernel reports a lost write-back once per file: a sync that succeeds after
        // another one of the same file failed proves nothing.
        if self.failed.load(Ordering::Acquire) {
            let error = std::io::Error::other("an earlier sync of this file failed");
            return Err(io_error(&self.path)(error));
        }
        self.synced.fetch_max(self.generation, Ordering::AcqRel);
        Ok(())
    }
}

/// Applies every intact record to `state`; returns the length of the intact prefix.
fn replay(bytes: &[u8], state: &mut StoreState) -> usize {
    let mut position = 0;
    while let Some((kind, seq, payload, length)) = decode_record(&bytes[position..]) {
        match kind {
            b'M' => state.save(seq, Some(payload)),
            b'S' => state.next_sender_seq = seq,
            b'T' => state.next_target_seq = seq,
            b'R' => state.reset(),
            _ => break,
        }
        position += length;
    }
    position
}

/// The offset of the first intact record that starts after `damaged`, if any. Every offset is
/// tried (a damaged length says nothing of where the next record starts); a FIX frame holds no
/// zero byte, so a record image cannot hide in a kept message.
fn record_after(bytes: &[u8], damaged: usize) -> Option<usize> {
    (damaged + 1..bytes.len()).find(|&offset| decode_record(&bytes[offset..]).is_some())
}

fn encode_record(kind: u8, seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(HEADER_LEN + payload.len() + TRAILER_LEN);
    encode_record_into(&mut record, kind, seq, payload);
    record
}

/// Appends one record to `out`.
fn encode_record_into(out: &mut Vec<u8>, kind: u8, seq: u64, payload: &[u8]) {
    let start = out.len();
    out.push(kind);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Decodes the record at the start of `bytes`: kind, seq, payload and total length.
fn decode_record(bytes: &[u8]) -> Option<(u8, u64, &[u8], usize)> {
    let header = bytes.get(..HEADER_LEN)?;
    let seq = u64::from_le_bytes(header[1..9].try_into().ok()?);
    let length = u32::from_le_bytes(header[9..13].try_into().ok()?) as usize;
    let end = HEADER_LEN.checked_add(length)?;
    let crc_bytes = bytes.get(end..end + TRAILER_LEN)?;
    let crc = u32::from_le_bytes(crc_bytes.try_into().ok()?);
    (crc == crc32(&bytes[..end]))
        .then(|| (header[0], seq, &bytes[HEADER_LEN..end], end + TRAILER_LEN))
}

/// A file name for a CompID: letters, digits, `-` and `_` as they are; anything else as `%XX`.
fn file_name(comp_id: &str) -> String {
    let mut name = String::with_capacity(comp_id.len());
    for byte in comp_id.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    name
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.display().to_string(), source }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), by `crc32fast` (vectorised).
fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_crc_32_ieee_so_existing_files_still_read() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    fn config(directory: &Path, file_bytes_max: u64) -> FileStoreConfig {
        FileStoreConfig {
            directory: directory.to_path_buf(),
            durability: Durability::Fsync,
            messages_max: 3,
            file_bytes_max,
            write_behind: false,
        }
    }

    /// A write-behind store without fsync (as the gateway runs them) in a new directory.
    fn write_behind_store(file_bytes_max: u64) -> (tempfile::TempDir, FileStoreConfig, FileStore) {
        let directory = tempfile::tempdir().unwrap();
        let config = FileStoreConfig {
            durability: Durability::None,
            write_behind: true,
            ..config(directory.path(), file_bytes_max)
        };
        let store = FileStore::open(&config, "TRADER").unwrap();
        (directory, config, store)
    }

    #[test]
    fn a_deferred_sync_runs_without_the_store_and_is_needed_only_after_new_writes() {
        let (_directory, config, mut store) = write_behind_store(1 << 20);
        assert!(store.sync_deferred().unwrap().is_none(), "nothing written yet");
        store.save(1, Some(b"first")).unwrap();
        let first = store.sync_deferred().unwrap().expect("a write to sync");
        // The store goes on while the sync is outstanding, as it would outside a lock.
        store.save(2, Some(b"second")).unwrap();
        first.run().unwrap();
        let second = store.sync_deferred().unwrap().expect("the second write is not synced");
        second.run().unwrap();
        assert!(store.sync_deferred().unwrap().is_none(), "everything is durable");
        store.save(3, Some(b"third")).unwrap();
        drop(store.sync_deferred().unwrap().expect("the third write"));
        assert!(store.sync_deferred().unwrap().is_some(), "a dropped sync made nothing durable");
        store.sync().unwrap();
        drop(store);
        let store = FileStore::open(&config, "TRADER").unwrap();
        let mut kept = Vec::new();
        store.messages(1, 3, &mut |seq, message| kept.push((seq, message.to_vec())));
        let third = (3, b"third".to_vec());
        assert_eq!(kept, [(1, b"first".to_vec()), (2, b"second".to_vec()), third]);
    }

    #[test]
    fn after_a_failed_sync_the_next_one_rewrites_the_file_from_memory() {
        let (_directory, config, mut store) = write_behind_store(1 << 20);
        for seq in 1..=5 {
            store.save(seq, Some(format!("message {seq}").as_bytes())).unwrap();
        }
        store.set_next_target_seq(7).unwrap();
        store.flush().unwrap();
        let before = store.file_bytes;
        // What `DeferredSync::run` records when `fdatasync` fails.
        store.sync_failed.store(true, Ordering::Release);
        // Without fsync, records go on being written; the checkpoint's sync rewrites.
        store.save(6, Some(b"message 6")).unwrap();
        store.flush().unwrap();
        assert!(store.file_bytes > before, "appended, not rewritten");
        assert!(store.sync_deferred().unwrap().is_none(), "the rewritten file was synced");
        assert!(store.file_bytes < before, "rewritten from the state: {}", store.file_bytes);
        drop(store);
        assert_eq!(reopened(&config), (vec![4, 5, 6], 7, 7), "messages_max is 3");
    }

    /// Regression: kept messages larger than `file_bytes_max` made every append compact
    /// (rewrite and sync the whole file): the file now grows to twice its compacted size first.
    #[test]
    fn kept_messages_larger_than_the_bound_do_not_compact_at_every_append() {
        let (_directory, config, mut store) = write_behind_store(64);
        let message = [b'x'; 100];
        let mut sizes = Vec::new();
        for seq in 1..=20 {
            store.save(seq, Some(&message)).unwrap();
            store.flush().unwrap();
            sizes.push(store.file_bytes);
        }
        let grew = sizes.windows(2).filter(|pair| pair[1] > pair[0]).count();
        let compactions = sizes.len() - 1 - grew;
        assert!((1..=6).contains(&compactions), "compactions: {compactions}, {sizes:?}");
        drop(store);
        assert_eq!(reopened(&config).0, vec![18, 19, 20], "messages_max is 3");
    }

    /// The kept messages' sequence numbers and the next sender and target numbers of the
    /// store `TRADER` as a reopen finds them.
    fn reopened(config: &FileStoreConfig) -> (Vec<u64>, u64, u64) {
        let store = FileStore::open(config, "TRADER").unwrap();
        let mut kept = Vec::new();
        store.messages(1, u64::MAX, &mut |seq, _| kept.push(seq));
        (kept, store.next_sender_seq(), store.next_target_seq())
    }

    #[test]
    fn with_fsync_the_record_after_a_failed_sync_is_kept() {
        let directory = tempfile::tempdir().unwrap();
        let config = config(directory.path(), 1 << 20);
        let mut store = FileStore::open(&config, "TRADER").unwrap();
        for seq in 1..=3 {
            store.save(seq, Some(format!("message {seq}").as_bytes())).unwrap();
        }
        store.sync_failed.store(true, Ordering::Release);
        // The rewrite comes before the new record, which then reaches the new file.
        store.save(4, Some(b"message 4")).unwrap();
        store.set_next_target_seq(9).unwrap();
        assert!(!store.sync_failed.load(Ordering::Acquire));
        drop(store);
        assert_eq!(reopened(&config), (vec![2, 3, 4], 5, 9), "messages_max is 3");
    }

    #[test]
    fn a_rewrite_that_fails_is_tried_again_and_no_sync_counts_meanwhile() {
        let (directory, _, mut store) = write_behind_store(1 << 20);
        store.save(1, Some(b"first")).unwrap();
        let taken = store.sync_deferred().unwrap().expect("a write to sync");
        // Another sync of the file failed: this one proves nothing either.
        store.sync_failed.store(true, Ordering::Release);
        assert!(taken.run().is_err());
        // The rewrite cannot create its temporary file.
        let temporary = directory.path().join("TRADER.session.tmp");
        std::fs::create_dir(&temporary).unwrap();
        assert!(store.sync_deferred().is_err());
        assert!(store.sync_failed.load(Ordering::Acquire), "still to be rewritten");
        std::fs::remove_dir(&temporary).unwrap();
        assert!(store.sync_deferred().unwrap().is_none(), "rewritten and synced");
        assert!(!store.sync_failed.load(Ordering::Acquire));
    }

    #[test]
    fn a_sync_overtaken_by_a_compaction_counts_for_nothing_later() {
        let (_directory, _, mut store) = write_behind_store(200);
        store.save(1, Some(b"first")).unwrap();
        let overtaken = store.sync_deferred().unwrap().expect("a write to sync");
        for seq in 2..=10 {
            store.save(seq, Some(b"a message long enough to pass the file limit")).unwrap();
            store.flush().unwrap();
        }
        assert!(store.file_bytes < 400, "the file was compacted: {} bytes", store.file_bytes);
        // It syncs the replaced file; the records written since the compaction still wait.
        overtaken.run().unwrap();
        store.sync_deferred().unwrap().expect("writes after the compaction").run().unwrap();
        assert!(store.sync_deferred().unwrap().is_none());
    }

    /// Regression (a review's): one damaged byte in an old record, with intact records after
    /// it, was taken for a torn tail: the file was cut there, every later record lost, and the
    /// next MsgSeqNum went back from 11 to 3 (a trader that had 1..=10 got new reports numbered
    /// as old ones). Such a file is refused, named, and left as it is.
    #[test]
    fn damage_before_intact_records_is_refused_not_cut() {
        let directory = tempfile::tempdir().unwrap();
        let config = FileStoreConfig { messages_max: 100, ..config(directory.path(), 1 << 20) };
        let mut store = FileStore::open(&config, "TRADER1").unwrap();
        for seq in 1..=10 {
            store.save(seq, Some(format!("execution report {seq:02}").as_bytes())).unwrap();
        }
        let path = store.path().to_path_buf();
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        let needle = b"execution report 03";
        let damaged = bytes.windows(needle.len()).position(|w| w == needle).unwrap();
        bytes[damaged] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let Err(error) = FileStore::open(&config, "TRADER1") else { panic!("damage accepted") };
        let StoreError::Corrupt { offset, next, .. } = error else { panic!("{error}") };
        assert!(offset < damaged as u64 && damaged as u64 + 19 < next, "{offset} {next}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is left as it was");
        bytes.truncate(next as usize - 3);
        std::fs::write(&path, &bytes).unwrap();
        let store = FileStore::open(&config, "TRADER1").expect("a damaged last record is torn");
        assert_eq!(store.next_sender_seq(), 3);
    }

    #[test]
    fn survives_reopen_torn_tails_and_compaction() {
        let directory = tempfile::tempdir().unwrap();
        let config = config(directory.path(), 400);
        {
            let mut store = FileStore::open(&config, "TRADER/1").unwrap();
            store.save(1, None).unwrap();
            for seq in 2..=6 {
                store.save(seq, Some(format!("message {seq}").as_bytes())).unwrap();
                store.set_next_target_seq(seq).unwrap();
            }
        }
        let path = directory.path().join("TRADER%2F1.session");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"M\x07\x00\x00");
        std::fs::write(&path, &bytes).unwrap();
        let store = FileStore::open(&config, "TRADER/1").unwrap();
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (7, 6));
        let mut kept = Vec::new();
        store.messages(1, 100, &mut |seq, _| kept.push(seq));
        assert_eq!(kept, [4, 5, 6]);
        assert!(std::fs::metadata(&path).unwrap().len() <= 400);
    }

    #[test]
    fn write_behind_waits_for_flush_sync_a_full_buffer_or_drop() {
        let directory = tempfile::tempdir().unwrap();
        let config = FileStoreConfig {
            durability: Durability::None,
            messages_max: 100_000,
            write_behind: true,
            ..config(directory.path(), 1 << 30)
        };
        let path = directory.path().join("TW.session");
        let file_len = || std::fs::metadata(&path).unwrap().len();
        let mut store = FileStore::open(&config, "TW").unwrap();
        store.save(1, Some(b"one")).unwrap();
        store.set_next_target_seq(2).unwrap();
        assert_eq!(file_len(), 0, "records wait in memory");
        assert_eq!(store.next_sender_seq(), 2, "but the state has them");
        store.flush().unwrap();
        let flushed = file_len();
        assert!(flushed > 0);
        store.save(2, Some(b"two")).unwrap();
        store.sync().unwrap();
        let synced = file_len();
        assert!(synced > flushed, "sync writes what waits");
        let message = vec![b'x'; 1000];
        let mut seq = 3;
        while file_len() == synced {
            store.save(seq, Some(&message)).unwrap();
            seq += 1;
        }
        assert!(file_len() - synced >= WRITE_BEHIND_MAX as u64, "a full buffer is written");
        store.save(seq, Some(b"last")).unwrap();
        drop(store);
        let store = FileStore::open(&config, "TW").unwrap();
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (seq + 1, 2));
        let mut last = Vec::new();
        store.messages(seq, seq, &mut |_, message| last.extend_from_slice(message));
        assert_eq!(last, b"last", "dropping the store wrote its last records");
    }

    /// Regression: compaction triggered by a record rewrote the file from a state that did not
    /// hold that record yet, so a message flushed (and so sent) after it could be missing from
    /// the file, and its MsgSeqNum reused after a crash.
    #[test]
    fn what_was_flushed_is_in_the_file_across_compactions() {
        let directory = tempfile::tempdir().unwrap();
        let config = FileStoreConfig {
            durability: Durability::None,
            messages_max: 4,
            write_behind: true,
            ..config(directory.path(), 300)
        };
        let mut store = FileStore::open(&config, "TW").unwrap();
        for seq in 1..=60 {
            store.save(seq, Some(format!("message {seq}").as_bytes())).unwrap();
            if seq % 7 == 0 {
                store.set_next_target_seq(seq).unwrap();
            }
            store.flush().unwrap();
            // What a restart after a crash right now would read.
            let reopened = FileStore::open(&config, "TW").unwrap();
            assert_eq!(reopened.next_sender_seq(), seq + 1, "after flushing {seq}");
            assert_eq!(reopened.next_target_seq(), (seq / 7 * 7).max(1), "after flushing {seq}");
            let mut last = Vec::new();
            reopened.messages(seq, seq, &mut |_, message| last.extend_from_slice(message));
            assert_eq!(last, format!("message {seq}").as_bytes());
        }
        let length = std::fs::metadata(directory.path().join("TW.session")).unwrap().len();
        assert!(length < 600, "compacted: {length} bytes");
    }

    #[test]
    fn reset_persists() {
        let directory = tempfile::tempdir().unwrap();
        let config = config(directory.path(), 1 << 20);
        let mut store = FileStore::open(&config, "TW").unwrap();
        store.save(1, Some(b"one")).unwrap();
        store.reset().unwrap();
        drop(store);
        let store = FileStore::open(&config, "TW").unwrap();
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (1, 1));
        assert!(FileStore::open(&config, "").is_err());
    }
}
