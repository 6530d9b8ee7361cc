//! The trading day's ClOrdIDs of every trader of the shard: what makes a ClOrdID unique per
//! trader per day, and finds the order an OrigClOrdID names.
//!
//! A ClOrdID is client-chosen text of up to 64 bytes; the table keeps a 128-bit XXH3 digest of
//! it with the trader's id instead, so an entry is 32 bytes rather than 80 and hashing and
//! comparing are cheap. XXH3 is specified and stable, so digests in snapshots mean the same on
//! every build. A trader who crafted two ClOrdIDs with one digest would only see the second
//! refused as a duplicate: keys never mix traders. The table itself hashes keys with a random
//! seed (`ahash::RandomState`), so nobody can aim many keys at one bucket.
//!
//! # Determinism
//! The map is looked up, never iterated, except by [`ClOrdIds::sorted`] for snapshots.
//!
//! # Limits
//! At most [`CL_ORD_IDS_MAX`](super::CL_ORD_IDS_MAX) entries per day; room for
//! [`RESERVED`] is reserved up front, and `clear` keeps the room.

use birzha_book::{OrderId, TraderId};
use xxhash_rust::xxh3::xxh3_128;

use crate::text::ClOrdId;

/// Entries the table has room for before it first grows.
pub(crate) const RESERVED: usize = 1 << 18;

/// A trader's ClOrdID, digested.
pub(crate) type Key = (u32, u128);

#[allow(
    clippy::disallowed_types,
    reason = "lookup only; snapshots sort the entries, so iteration order never reaches output"
)]
type Map = std::collections::HashMap<Key, OrderId, ahash::RandomState>;

/// The table. See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct ClOrdIds {
    map: Map,
}

impl ClOrdIds {
    pub(crate) fn new() -> ClOrdIds {
        ClOrdIds { map: Map::with_capacity_and_hasher(RESERVED, ahash::RandomState::new()) }
    }

    pub(crate) fn key(trader: TraderId, cl_ord_id: &ClOrdId) -> Key {
        (trader.0, xxh3_128(cl_ord_id.as_bytes()))
    }

    /// The order `cl_ord_id` of `trader` created or named today, if it was used; `OrderId(0)`
    /// for a ClOrdID of a rejected order.
    pub(crate) fn get(&self, trader: TraderId, cl_ord_id: &ClOrdId) -> Option<OrderId> {
        self.map.get(&Self::key(trader, cl_ord_id)).copied()
    }

    /// The order a digested key names, as [`ClOrdIds::get`].
    pub(crate) fn get_key(&self, key: &Key) -> Option<OrderId> {
        self.map.get(key).copied()
    }

    pub(crate) fn insert(&mut self, trader: TraderId, cl_ord_id: &ClOrdId, order_id: OrderId) {
        self.map.insert(Self::key(trader, cl_ord_id), order_id);
    }

    /// Records a digested key (from [`ClOrdIds::key`]), or puts back a snapshot's entry.
    pub(crate) fn insert_key(&mut self, key: Key, order_id: OrderId) {
        self.map.insert(key, order_id);
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Forgets every entry (a new trading day), keeping the room.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    /// Every entry, sorted: the canonical order of snapshots.
    pub(crate) fn sorted(&self) -> Vec<(Key, OrderId)> {
        let mut entries: Vec<(Key, OrderId)> = self.map.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_unstable();
        entries
    }
}
