//! The trading day's ClOrdIDs of every trader of the shard: what makes a ClOrdID unique per
//! trader per day, and finds the order an OrigClOrdID names.
//!
//! A ClOrdID is client-chosen text of up to 64 bytes; the table keeps the trader's id and 96
//! bits of the text's XXH3-128 digest instead, packed in 16 bytes, so an entry (with its order
//! id) is 24 bytes: hashing and comparing are cheap, and a day's million ClOrdIDs sweep through
//! half the memory a whole 128-bit digest beside the trader's id took (48-byte entries). XXH3
//! is specified and stable, so digests in snapshots mean the same on every build. Two of one
//! trader's ClOrdIDs share a digest with odds of about n²/2⁹⁷ for n ClOrdIDs a day (below
//! 10⁻¹⁷ for a million); the second would only be refused as a duplicate. Keys never mix
//! traders. The table itself hashes keys with a random seed (`ahash::RandomState`), so nobody
//! can aim many keys at one bucket.
//!
//! # Layout
//! The entries live in a list in the order they were made, 24 bytes each; the hash table
//! holds only their positions in the list (4 bytes a bucket), like an index map. A new
//! ClOrdID, the common case, probes the table's control bytes, writes a 4-byte position and
//! appends to the list's end: with a day's million ClOrdIDs the table is 8 MiB (plus 2 MiB of
//! control bytes) instead of the 48 MiB a map of whole entries took, and most of its cache
//! misses went with them. A lookup of an existing ClOrdID reads its entry in the list too,
//! usually a recent one, near the list's end.
//!
//! # Determinism
//! The table is looked up, never iterated. The list holds the entries in the order they were
//! made (a function of the inputs alone), and snapshots write it: a snapshot needs no sort of
//! a million entries on the shard thread, and equal journals give equal snapshots.
//!
//! # Invariants
//! An entry, once made, never changes until the day ends: [`ClOrdIds::insert`] and
//! [`ClOrdIds::insert_key`] are called only for keys not in the table, and
//! [`ClOrdIds::mark_used`] leaves an existing entry alone. Every position in the table is that
//! of one entry of the list, and every entry's position is in the table once.
//!
//! # Limits
//! At most [`CL_ORD_IDS_MAX`](super::CL_ORD_IDS_MAX) entries per day (positions fit in 32
//! bits); room for [`RESERVED`] is reserved up front (table and list), and `clear` keeps the
//! room.

use birzha_book::{OrderId, TraderId};
use xxhash_rust::xxh3::xxh3_128;

use crate::text::ClOrdId;

/// Entries the table has room for before it first grows: 2²¹ buckets of 4 bytes (8 MiB of
/// address space, touched as it fills) and 2 MiB of control bytes, written at creation, and a
/// list of 24-byte entries (24 MiB of address space, touched as it fills).
pub(crate) const RESERVED: usize = 1 << 20;

/// A trader's ClOrdID, digested: `[trader << 32 | digest bits 64..96, digest bits 0..64]`.
pub(crate) type Key = [u64; 2];

/// The digest bits a key keeps.
const DIGEST_MASK: u128 = (1 << 96) - 1;

const _POSITIONS_FIT: () = assert!(super::CL_ORD_IDS_MAX <= u32::MAX as usize);

/// The table. See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct ClOrdIds {
    /// Positions in `entries`, found by their keys' hashes.
    positions: hashbrown::HashTable<u32>,
    /// The entries in the order they were made.
    entries: Vec<(Key, OrderId)>,
    /// Hashes keys with a random seed, so nobody can aim many keys at one bucket.
    hasher: ahash::RandomState,
}

impl ClOrdIds {
    pub(crate) fn new() -> ClOrdIds {
        ClOrdIds {
            positions: hashbrown::HashTable::with_capacity(RESERVED),
            entries: Vec::with_capacity(RESERVED),
            hasher: ahash::RandomState::new(),
        }
    }

    pub(crate) fn key(trader: TraderId, cl_ord_id: &ClOrdId) -> Key {
        Self::key_of(trader.0, xxh3_128(cl_ord_id.as_bytes()))
    }

    /// The key of `trader`'s ClOrdID with this digest (of which the key keeps 96 bits).
    pub(crate) fn key_of(trader: u32, digest: u128) -> Key {
        let digest = digest & DIGEST_MASK;
        [(u64::from(trader) << 32) | (digest >> 64) as u64, digest as u64]
    }

    /// The trader and the digest bits a key holds: the inverse of [`ClOrdIds::key_of`].
    pub(crate) fn parts(key: &Key) -> (u32, u128) {
        let high = u128::from(key[0] & 0xFFFF_FFFF) << 64;
        ((key[0] >> 32) as u32, high | u128::from(key[1]))
    }

    /// The order `cl_ord_id` of `trader` created or named today, if it was used; `OrderId(0)`
    /// for a ClOrdID of a rejected order.
    pub(crate) fn get(&self, trader: TraderId, cl_ord_id: &ClOrdId) -> Option<OrderId> {
        self.get_key(&Self::key(trader, cl_ord_id))
    }

    /// The order a digested key names, as [`ClOrdIds::get`].
    pub(crate) fn get_key(&self, key: &Key) -> Option<OrderId> {
        let entries = &self.entries;
        let hash = self.hasher.hash_one(key);
        let position = self.positions.find(hash, |&at| entries[at as usize].0 == *key)?;
        Some(entries[*position as usize].1)
    }

    /// Records that `trader` used `cl_ord_id` for an order that was refused, unless the
    /// ClOrdID already names an order: an order refused before its ClOrdID is checked (firm
    /// suspended, instrument halted) may carry the ClOrdID of a working order, whose entry
    /// must stay.
    pub(crate) fn mark_used(&mut self, trader: TraderId, cl_ord_id: &ClOrdId) {
        self.insert_new(Self::key(trader, cl_ord_id), OrderId(0));
    }

    /// Records a ClOrdID not in the table (checked by the caller).
    pub(crate) fn insert(&mut self, trader: TraderId, cl_ord_id: &ClOrdId, order_id: OrderId) {
        self.insert_key(Self::key(trader, cl_ord_id), order_id);
    }

    /// Records a digested key (from [`ClOrdIds::key`]) not in the table.
    pub(crate) fn insert_key(&mut self, key: Key, order_id: OrderId) {
        debug_assert!(self.get_key(&key).is_none(), "Invariant: an entry is made once a day");
        let Self { positions, entries, hasher } = self;
        let position = entries.len() as u32;
        let rehash = |&at: &u32| hasher.hash_one(entries[at as usize].0);
        positions.insert_unique(hasher.hash_one(key), position, rehash);
        entries.push((key, order_id));
    }

    /// Puts back a snapshot's entry; false (and nothing changed) if the key is in the table.
    pub(crate) fn restore(&mut self, key: Key, order_id: OrderId) -> bool {
        self.insert_new(key, order_id)
    }

    /// Makes an entry for `key` unless it has one (one probe of the table); returns whether
    /// it made one.
    fn insert_new(&mut self, key: Key, order_id: OrderId) -> bool {
        let Self { positions, entries, hasher } = self;
        let hash = hasher.hash_one(key);
        let same = |&at: &u32| entries[at as usize].0 == key;
        let rehash = |&at: &u32| hasher.hash_one(entries[at as usize].0);
        match positions.entry(hash, same, rehash) {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                vacant.insert(entries.len() as u32);
                entries.push((key, order_id));
                true
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forgets every entry (a new trading day), keeping the room.
    pub(crate) fn clear(&mut self) {
        self.positions.clear();
        self.entries.clear();
    }

    /// Every entry, in the order it was made: what a snapshot writes.
    pub(crate) fn entries(&self) -> &[(Key, OrderId)] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_trader_and_96_digest_bits() {
        let digest = 0xfedc_ba98_7654_3210_0123_4567_89ab_cdefu128;
        let key = ClOrdIds::key_of(7, digest);
        assert_eq!(ClOrdIds::parts(&key), (7, digest & DIGEST_MASK));
        assert_eq!(ClOrdIds::key_of(7, digest & DIGEST_MASK), key, "a cut digest keys the same");
        assert_ne!(ClOrdIds::key_of(8, digest), key, "keys never mix traders");
        let text = ClOrdId::new("ORD-1").expect("text");
        let (trader, digest) = ClOrdIds::parts(&ClOrdIds::key(TraderId(u32::MAX), &text));
        assert_eq!(trader, u32::MAX);
        assert_eq!(digest, xxh3_128(b"ORD-1") & DIGEST_MASK);
    }
}
