//! One side of a book: an array with one price level per tick of the band, a bitset of the
//! occupied levels, and the index of the best one.
//!
//! Level indices are oriented so that a smaller index is always a better price (for bids the
//! highest price is index 0, for asks the lowest), so "best", "next best" and "depth" are the
//! same code on both sides: the first occupied index from a position.
//!
//! # Performance
//! Finding a price's level is an array index: `O(1)`. Adding to or removing from a level's
//! queue is `O(1)` (an intrusive doubly linked list through the slab). The best level is cached:
//! `O(1)`; when it empties, the next is found through the bitset in `O(log64 levels)`.

use crate::bitset::Bitset;
use crate::instrument::Band;
use crate::slab::{NIL, Slab};
use crate::types::{Side, Ticks};

/// The orders resting at one price on one side, in time priority.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level {
    /// The oldest order (matched first), or [`NIL`].
    pub(crate) head: u32,
    /// The newest order, or [`NIL`].
    pub(crate) tail: u32,
    /// Number of orders in the queue.
    pub(crate) orders: u32,
    /// Sum of the orders' visible lots.
    pub(crate) lots: u64,
}

impl Level {
    const EMPTY: Level = Level { head: NIL, tail: NIL, orders: 0, lots: 0 };
}

/// One side of a book.
#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    /// Which side this is.
    side: Side,
    /// The price at index 0: the band's best price for this side.
    origin: Ticks,
    /// One level per tick of the band.
    levels: Vec<Level>,
    /// Which levels hold orders.
    occupied: Bitset,
    /// The best occupied index, or [`NIL`] when the side is empty.
    best: u32,
    /// Market orders resting in a call phase: ahead of every price level, in time order.
    market: Level,
}

impl Ladder {
    /// Returns an empty side covering the band.
    pub(crate) fn new(side: Side, band: Band) -> Ladder {
        let width = usize::try_from(band.width()).unwrap_or(usize::MAX);
        let origin = match side {
            Side::Buy => band.high,
            Side::Sell => band.low,
        };
        Ladder {
            side,
            origin,
            levels: vec![Level::EMPTY; width],
            occupied: Bitset::new(width),
            best: NIL,
            market: Level::EMPTY,
        }
    }

    /// Returns the queue of resting market orders.
    pub(crate) fn market(&self) -> &Level {
        &self.market
    }

    /// Links the market order in `slot` at the tail of the market queue.
    pub(crate) fn push_back_market(&mut self, orders: &mut Slab, slot: u32) {
        link_back(&mut self.market, orders, slot);
    }

    /// Unlinks the market order in `slot` from the market queue.
    pub(crate) fn unlink_market(&mut self, orders: &mut Slab, slot: u32) {
        unlink_from(&mut self.market, orders, slot);
    }

    /// Returns the level index of `price`, which must lie inside the band.
    pub(crate) fn index(&self, price: Ticks) -> u32 {
        let offset = match self.side {
            Side::Buy => self.origin.0 - price.0,
            Side::Sell => price.0 - self.origin.0,
        };
        assert!(offset >= 0 && (offset as usize) < self.levels.len(), "price outside the band");
        offset as u32
    }

    /// Returns the price of level `index`.
    pub(crate) fn price(&self, index: u32) -> Ticks {
        match self.side {
            Side::Buy => Ticks(self.origin.0 - i64::from(index)),
            Side::Sell => Ticks(self.origin.0 + i64::from(index)),
        }
    }

    /// Returns the best occupied level's index.
    pub(crate) fn best(&self) -> Option<u32> {
        (self.best != NIL).then_some(self.best)
    }

    /// Returns the first occupied level index at or after `index` (equal or worse price).
    pub(crate) fn next_from(&self, index: u32) -> Option<u32> {
        self.occupied.first_from(index as usize).map(|found| found as u32)
    }

    /// Returns level `index`.
    pub(crate) fn level(&self, index: u32) -> &Level {
        &self.levels[index as usize]
    }

    /// Adds `delta` visible lots to level `index` (an iceberg's new slice).
    pub(crate) fn add_lots(&mut self, index: u32, delta: u64) {
        self.levels[index as usize].lots += delta;
    }

    /// Takes `delta` visible lots off level `index` (a fill or a reduction).
    pub(crate) fn sub_lots(&mut self, index: u32, delta: u64) {
        let level = &mut self.levels[index as usize];
        assert!(level.lots >= delta, "Invariant: a level's lots cover its orders' visible lots");
        level.lots -= delta;
    }

    /// Links the order in `slot` at the tail of level `index` and counts its visible lots.
    pub(crate) fn push_back(&mut self, orders: &mut Slab, index: u32, slot: u32) {
        let was_empty = link_back(&mut self.levels[index as usize], orders, slot);
        if was_empty {
            self.occupied.insert(index as usize);
            if index < self.best {
                self.best = index;
            }
        }
    }

    /// Unlinks the order in `slot` from level `index` and uncounts its visible lots. When the
    /// level empties it is marked free and, if it was the best, the next best is found.
    pub(crate) fn unlink(&mut self, orders: &mut Slab, index: u32, slot: u32) {
        let now_empty = unlink_from(&mut self.levels[index as usize], orders, slot);
        if now_empty {
            self.occupied.remove(index as usize);
            if index == self.best {
                self.best = self.next_from(index + 1).unwrap_or(NIL);
            }
        }
    }

    /// Moves the order in `slot`, already in level `index`, to the back of its queue. Its
    /// visible lots must already be counted in the level.
    pub(crate) fn move_to_back(&mut self, orders: &mut Slab, index: u32, slot: u32) {
        let level = self.levels[index as usize];
        if level.tail == slot {
            return;
        }
        let visible = orders[slot].visible;
        // Unlinking cannot empty the level: the order is not its only member.
        self.unlink(orders, index, slot);
        self.push_back(orders, index, slot);
        debug_assert_eq!(self.levels[index as usize].lots, level.lots);
        debug_assert_eq!(orders[slot].visible, visible);
    }
}

/// Links `slot` at the tail of `level`'s queue and counts its visible lots; returns whether
/// the level was empty before.
fn link_back(level: &mut Level, orders: &mut Slab, slot: u32) -> bool {
    let tail = level.tail;
    orders[slot].prev = tail;
    orders[slot].next = NIL;
    let was_empty = tail == NIL;
    if was_empty {
        assert!(level.orders == 0, "Invariant: an empty queue has no orders");
        level.head = slot;
    } else {
        orders[tail].next = slot;
    }
    level.tail = slot;
    level.orders += 1;
    level.lots += u64::from(orders[slot].visible);
    was_empty
}

/// Unlinks `slot` from `level`'s queue and uncounts its visible lots; returns whether the
/// level is empty now.
fn unlink_from(level: &mut Level, orders: &mut Slab, slot: u32) -> bool {
    let (prev, next, visible) = (orders[slot].prev, orders[slot].next, orders[slot].visible);
    assert!(level.orders > 0, "Invariant: unlinking from a non-empty level");
    if prev == NIL {
        level.head = next;
    } else {
        orders[prev].next = next;
    }
    if next == NIL {
        level.tail = prev;
    } else {
        orders[next].prev = prev;
    }
    level.orders -= 1;
    assert!(level.lots >= u64::from(visible), "Invariant: level lots cover the order");
    level.lots -= u64::from(visible);
    let empty = level.orders == 0;
    if empty {
        assert!(level.head == NIL && level.lots == 0, "Invariant: an empty level is clean");
    }
    empty
}
