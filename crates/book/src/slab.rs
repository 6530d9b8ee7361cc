//! Order storage: every resting order lives in one preallocated slab, addressed by `u32` slot
//! indices, with a free list threaded through the unused slots.
//!
//! # Limits
//! The slab holds at most `orders_max` orders and never grows: all memory is allocated when the
//! book is built, so adding an order never allocates.

use crate::order::SelfMatchMode;
use crate::types::{OrderId, Owner, Side, Ticks, Timestamp};

/// "No slot": the end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// How long a resting order lives. (Immediate orders never rest.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Lifetime {
    /// Until the end of the trading day.
    Day,
    /// Until cancelled or `expiry` (365 days after entry).
    GoodTillCancel,
    /// Until `expiry`.
    GoodTillDate,
}

/// A resting order: one slab slot. Linked into its price level's queue by `prev`/`next`.
///
/// Aligned to a cache line so that touching one order (a cancel, a fill) costs one line.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub(crate) struct RestingOrder {
    /// The order's id.
    pub(crate) order_id: OrderId,
    /// Its limit price.
    pub(crate) price: Ticks,
    /// When it expires; `Timestamp(u64::MAX)` for Day orders, which expire at the end of day.
    pub(crate) expiry: Timestamp,
    /// Total quantity: `filled + leaves`.
    pub(crate) quantity: u32,
    /// Lots still working, shown and hidden.
    pub(crate) leaves: u32,
    /// Lots of the current shown slice: `visible ≤ leaves`, and `visible ≤ display` for an
    /// iceberg. Only these count in the level's aggregate.
    pub(crate) visible: u32,
    /// The iceberg's display quantity; 0 when the order is not an iceberg.
    pub(crate) display: u32,
    /// Firm and trader.
    pub(crate) owner: Owner,
    /// The previous order in the level's queue (towards the head), or [`NIL`].
    pub(crate) prev: u32,
    /// The next order in the level's queue (towards the tail), or [`NIL`]; in a free slot, the
    /// next free slot.
    pub(crate) next: u32,
    /// Buy or sell.
    pub(crate) side: Side,
    /// How long it lives.
    pub(crate) lifetime: Lifetime,
    /// Its self-trade prevention mode, used when a replace makes it trade as the aggressor.
    pub(crate) self_match: SelfMatchMode,
    /// Whether it is post-only (a replace that would cross is rejected).
    pub(crate) post_only: bool,
    /// Whether it is a market order resting in a call phase (it then has no price level).
    pub(crate) market: bool,
}

// A resting order is exactly one cache line.
const _: () = assert!(size_of::<RestingOrder>() == 64);

impl RestingOrder {
    const EMPTY: RestingOrder = RestingOrder {
        order_id: OrderId(0),
        price: Ticks(0),
        expiry: Timestamp(0),
        quantity: 0,
        leaves: 0,
        visible: 0,
        display: 0,
        owner: Owner { firm: crate::types::FirmId(0), trader: crate::types::TraderId(0) },
        prev: NIL,
        next: NIL,
        side: Side::Buy,
        lifetime: Lifetime::Day,
        self_match: SelfMatchMode::CancelResting,
        post_only: false,
        market: false,
    };

    /// Lots traded so far.
    pub(crate) fn filled(&self) -> u32 {
        assert!(self.leaves <= self.quantity, "Invariant: leaves never exceed the quantity");
        self.quantity - self.leaves
    }
}

/// Fixed-capacity storage for resting orders.
#[derive(Clone, Debug)]
pub(crate) struct Slab {
    /// Every slot, used or free; its length is `orders_max` and never changes.
    slots: Vec<RestingOrder>,
    /// The first free slot, or [`NIL`] when full.
    free: u32,
    /// Slots in use.
    used: u32,
}

impl Slab {
    /// Returns a slab of `capacity` free slots.
    pub(crate) fn new(capacity: u32) -> Slab {
        assert!(capacity > 0 && capacity < NIL);
        let mut slots = vec![RestingOrder::EMPTY; capacity as usize];
        for (index, slot) in slots.iter_mut().enumerate() {
            slot.next = if index + 1 < capacity as usize { index as u32 + 1 } else { NIL };
        }
        Slab { slots, free: 0, used: 0 }
    }

    /// Returns whether every slot is in use.
    pub(crate) fn is_full(&self) -> bool {
        self.free == NIL
    }

    /// Returns the number of slots in use.
    pub(crate) fn len(&self) -> u32 {
        self.used
    }

    /// Returns the number of slots.
    pub(crate) fn capacity(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Takes a free slot and stores `order` in it.
    ///
    /// # Panics
    /// Panics when the slab is full; callers check [`Slab::is_full`] first.
    pub(crate) fn insert(&mut self, order: RestingOrder) -> u32 {
        let slot = self.free;
        assert!(slot != NIL, "Invariant: callers check for a free slot before inserting");
        self.free = self.slots[slot as usize].next;
        self.slots[slot as usize] = order;
        self.used += 1;
        slot
    }

    /// Returns a slot to the free list.
    pub(crate) fn remove(&mut self, slot: u32) {
        assert!(self.used > 0);
        self.slots[slot as usize].next = self.free;
        self.slots[slot as usize].leaves = 0;
        self.free = slot;
        self.used -= 1;
    }
}

impl core::ops::Index<u32> for Slab {
    type Output = RestingOrder;

    fn index(&self, slot: u32) -> &RestingOrder {
        &self.slots[slot as usize]
    }
}

impl core::ops::IndexMut<u32> for Slab {
    fn index_mut(&mut self, slot: u32) -> &mut RestingOrder {
        &mut self.slots[slot as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_last_freed_first_and_capacity_is_fixed() {
        let mut slab = Slab::new(2);
        let a = slab.insert(RestingOrder { order_id: OrderId(1), ..RestingOrder::EMPTY });
        let b = slab.insert(RestingOrder { order_id: OrderId(2), ..RestingOrder::EMPTY });
        assert!(slab.is_full());
        assert_eq!(slab.len(), 2);
        slab.remove(a);
        assert!(!slab.is_full());
        let c = slab.insert(RestingOrder { order_id: OrderId(3), ..RestingOrder::EMPTY });
        assert_eq!(c, a);
        assert_eq!(slab[b].order_id, OrderId(2));
        assert_eq!(slab[c].order_id, OrderId(3));
        assert_eq!(slab.capacity(), 2);
    }
}
