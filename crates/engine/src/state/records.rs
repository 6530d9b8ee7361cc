//! The working orders' records by order id: what the engine keeps about an order beyond what
//! its book keeps.
//!
//! Records live in a slab (a vector of entries with a free list), found through the book
//! crate's direct-mapped [`IdIndex`]. Order ids come from the shard's counter, so consecutive
//! orders' index buckets are neighbours and a freed entry is reused by the next order: the
//! records of a busy book stay in few cache lines, where a hash map would scatter them (and
//! move them whole when it grows).
//!
//! # Determinism
//! Lookup only: nothing iterates the records, so slot numbers never reach an output.
//!
//! # Limits
//! The index is sized for `orders_max` records (the sum of the shard's books' capacities, plus
//! one in flight); more stay correct but may allocate. It is a second index beside the books'
//! own, as large: 4 bytes a bucket for twice the orders, written at start, and an overflow map
//! reserved for as many (address space, touched only when ids collide).

use birzha_book::{IdIndex, OrderId};

use super::OrderRecord;

/// One slot of the slab: the order it holds now (stale once freed).
#[derive(Debug, Clone)]
struct Entry {
    order_id: OrderId,
    record: OrderRecord,
}

/// The records. See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct OrderRecords {
    index: IdIndex,
    entries: Vec<Entry>,
    /// Freed slots, reused last-freed first.
    free: Vec<u32>,
}

/// Slots reserved up front; the slab grows past it as books fill.
const ENTRIES_RESERVED: usize = 1 << 14;

impl OrderRecords {
    pub(crate) fn new(orders_max: u32) -> OrderRecords {
        OrderRecords {
            index: IdIndex::new(orders_max),
            entries: Vec::with_capacity(ENTRIES_RESERVED.min(orders_max as usize)),
            free: Vec::with_capacity(ENTRIES_RESERVED.min(orders_max as usize)),
        }
    }

    fn slot(&self, order_id: OrderId) -> Option<usize> {
        let slot = self.index.get(order_id, |slot| self.entries[slot as usize].order_id)?;
        Some(slot as usize)
    }

    pub(crate) fn get(&self, order_id: &OrderId) -> Option<&OrderRecord> {
        self.slot(*order_id).map(|slot| &self.entries[slot].record)
    }

    pub(crate) fn get_mut(&mut self, order_id: &OrderId) -> Option<&mut OrderRecord> {
        self.slot(*order_id).map(|slot| &mut self.entries[slot].record)
    }

    /// Stores the record of `order_id`, which has none: order ids are issued once (a new
    /// order's, or a snapshot's), so the hot path does not look it up first.
    pub(crate) fn insert(&mut self, order_id: OrderId, record: OrderRecord) {
        debug_assert!(self.slot(order_id).is_none(), "Invariant: an order id gets one record");
        let entry = Entry { order_id, record };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                slot
            }
            None => {
                self.entries.push(entry);
                u32::try_from(self.entries.len() - 1).expect("Invariant: fewer than 2^32 orders")
            }
        };
        self.index.insert(order_id, slot);
    }

    /// Removes and returns the record of `order_id`.
    /// Forgets the record of `order_id` and returns it (its slot is reused by a later insert).
    pub(crate) fn remove(&mut self, order_id: &OrderId) -> Option<&OrderRecord> {
        let slot = self.slot(*order_id)?;
        self.index.remove(*order_id, slot as u32);
        self.free.push(slot as u32);
        Some(&self.entries[slot].record)
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

impl std::ops::Index<&OrderId> for OrderRecords {
    type Output = OrderRecord;

    /// # Panics
    /// Panics if `order_id` has no record.
    fn index(&self, order_id: &OrderId) -> &OrderRecord {
        self.get(order_id).expect("Invariant: the order has a record")
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;

    use birzha_book::{FirmId, Lots, Side, Ticks, TraderId};

    use super::*;
    use crate::config::InstrumentId;
    use crate::input::{OrderKind, Tif};
    use crate::text::ClOrdId;

    /// A record of `quantity` lots (for the state's unit tests).
    pub(in crate::state) fn record(quantity: u32) -> OrderRecord {
        OrderRecord {
            trader: TraderId(1),
            firm: FirmId(1),
            instrument: InstrumentId(0),
            cl_ord_id: ClOrdId::new("A").expect("text"),
            side: Side::Buy,
            kind: OrderKind::Limit,
            tif: Tif::Day,
            price: Ticks(1),
            quantity: Lots(quantity),
            cum: Lots(0),
            notional_ticks: 0,
            reserved: 0,
            account: None,
        }
    }

    /// Random inserts of fresh ids, removals and lookups agree with a map, including orders
    /// that outlive the index's buckets (so their ids share buckets with newer ones).
    #[test]
    fn agrees_with_a_map() {
        let seed = 0x5eed_0f0d_d5e5_u64;
        let mut state = seed;
        let mut records = OrderRecords::new(16);
        let mut model = BTreeMap::new();
        let mut next_id = 1u64;
        for step in 0..20_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let live: Vec<OrderId> = model.keys().copied().collect();
            match state % 4 {
                0 | 1 if model.len() < 40 => {
                    records.insert(OrderId(next_id), record(step));
                    model.insert(OrderId(next_id), record(step));
                    next_id += 1;
                }
                2 if !live.is_empty() => {
                    let id = live[(state >> 8) as usize % live.len()];
                    assert_eq!(records.remove(&id).copied(), model.remove(&id), "seed {seed:#x}");
                }
                _ => {
                    let id = OrderId((state >> 8) % (next_id + 1));
                    assert_eq!(records.get(&id), model.get(&id), "seed {seed:#x}");
                    if let Some(record) = records.get_mut(&id) {
                        record.cum = Lots(step);
                        model.get_mut(&id).expect("in both").cum = Lots(step);
                    }
                }
            }
            assert_eq!(records.len(), model.len(), "seed {seed:#x}");
        }
    }
}
