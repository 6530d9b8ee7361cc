//! The order-id index: order id → slot in the owner's storage, for every order it holds (the
//! book's resting orders in its slab; the engine uses it for its order records too).
//!
//! Order ids are assigned by the engine from a counter, so a book sees them roughly in sequence.
//! The index exploits that: a direct-mapped table indexed by the id's low bits holds almost
//! every order at its own bucket, so a lookup is one array read plus one comparison against the
//! storage (which the caller reads next anyway), and consecutive new orders touch consecutive
//! buckets. Two live orders share a bucket only when one has outlived `buckets` newer ids; the
//! later one then goes to a small overflow hash map, which the fast path skips while empty.
//! Any id pattern stays correct; only adversarial ones (which no client can choose) would be
//! slower.
//!
//! # Limits
//! `buckets` is a power of two at least twice `orders_max`. The overflow map is reserved for
//! twice `orders_max` entries, so it never grows: nothing here allocates after construction.

use crate::slab::NIL;
use crate::types::OrderId;

#[allow(
    clippy::disallowed_types,
    reason = "lookup only: the overflow map is never iterated, so its order cannot reach an output"
)]
type Overflow = std::collections::HashMap<u64, u32, rustc_hash::FxBuildHasher>;

/// Order id → slot. The slots are the owner's; [`IdIndex::get`] asks the owner which id a slot
/// holds, so the index stores nothing but slot numbers.
#[derive(Clone, Debug)]
pub struct IdIndex {
    /// Slot of the order whose id's low bits are the bucket number, or [`NIL`].
    buckets: Vec<u32>,
    /// `buckets.len() − 1`.
    mask: u64,
    /// Orders whose bucket was taken by another live order when they were added.
    overflow: Overflow,
    /// Orders indexed.
    len: usize,
}

impl IdIndex {
    /// Returns an empty index for up to `orders_max` orders (more stay correct, but may
    /// allocate).
    #[must_use]
    pub fn new(orders_max: u32) -> IdIndex {
        let buckets = (2 * orders_max as usize).next_power_of_two();
        IdIndex {
            buckets: vec![NIL; buckets],
            mask: buckets as u64 - 1,
            overflow: Overflow::with_capacity_and_hasher(
                2 * orders_max as usize,
                rustc_hash::FxBuildHasher,
            ),
            len: 0,
        }
    }

    /// Returns the number of orders indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    fn bucket(&self, order_id: OrderId) -> usize {
        (order_id.0 & self.mask) as usize
    }

    /// Returns whether no order is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the slot of `order_id`, if it is indexed; `id_at` tells which order id a slot
    /// of the owner's storage holds now.
    #[inline]
    pub fn get(&self, order_id: OrderId, id_at: impl Fn(u32) -> OrderId) -> Option<u32> {
        let slot = self.buckets[self.bucket(order_id)];
        if slot != NIL && id_at(slot) == order_id {
            return Some(slot);
        }
        if self.overflow.is_empty() {
            return None;
        }
        self.overflow.get(&order_id.0).copied()
    }

    /// Indexes `order_id` at `slot`. The id must not be indexed yet (the owner looks it up
    /// first); inserting it twice is a bug the index does not always catch.
    ///
    /// # Panics
    /// Panics if `order_id` is in the overflow map already.
    pub fn insert(&mut self, order_id: OrderId, slot: u32) {
        let bucket = self.bucket(order_id);
        if self.buckets[bucket] == NIL {
            self.buckets[bucket] = slot;
        } else {
            let previous = self.overflow.insert(order_id.0, slot);
            assert!(previous.is_none(), "Invariant: an order id is indexed once");
        }
        self.len += 1;
    }

    /// Removes `order_id`, which is indexed at `slot` (as [`IdIndex::get`] returned).
    ///
    /// # Panics
    /// Panics if neither its bucket holds `slot` nor the overflow map holds `order_id` at `slot`.
    pub fn remove(&mut self, order_id: OrderId, slot: u32) {
        let bucket = self.bucket(order_id);
        if self.buckets[bucket] == slot {
            self.buckets[bucket] = NIL;
        } else {
            let removed = self.overflow.remove(&order_id.0);
            assert!(removed == Some(slot), "Invariant: a removed order was indexed at its slot");
        }
        self.len -= 1;
    }
}
