//! The records of the last [`FINISHED_KEPT`] finished orders (filled, cancelled, expired,
//! rejected by the book), for status answers and too-late cancel rejects.
//!
//! A finished order's record leaves the working set at once (its slot is reused by the next
//! order while still in cache); what a status answer needs of it, one cache line, goes into a
//! ring written in order, and a direct-mapped index by the order id's low bits finds it. The
//! footprint is what costs: keeping whole records (three times the size), or 65 536 of them,
//! made `engine/apply/steady` 15-35 % slower; 16 384 compact ones (1 MiB and a 256 KiB
//! index) cost a few per cent. The ring holds the last [`FINISHED_KEPT`];
//! an order whose bucket a newer finished order took (their ids differ by a multiple of
//! [`BUCKETS`]: one outlived that many newer orders) is forgotten sooner. A lookup checks the
//! id, so it never answers with another order's record.
//!
//! Nothing here allocates after construction.

use birzha_book::{FirmId, Lots, OrderId, Side, Ticks, TraderId};

use super::{FINISHED_KEPT, OrderRecord};
use crate::config::InstrumentId;
use crate::input::{OrderKind, Tif};
use crate::output::OrdStatus;
use crate::text::ClOrdId;

/// What is kept of a finished order: its record but for the texts (ClOrdID, Account) and the
/// reservation (nothing is reserved any more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ended {
    pub(crate) order_id: OrderId,
    pub(crate) notional_ticks: i128,
    pub(crate) price: Ticks,
    pub(crate) instrument: InstrumentId,
    pub(crate) trader: TraderId,
    pub(crate) firm: FirmId,
    pub(crate) quantity: Lots,
    pub(crate) cum: Lots,
    pub(crate) tif: Tif,
    pub(crate) status: OrdStatus,
    pub(crate) side: Side,
    pub(crate) kind: OrderKind,
}

const _ONE_CACHE_LINE: () = assert!(std::mem::size_of::<Ended>() <= 64);

impl Ended {
    /// The finished order's record, named by `cl_ord_id` (the ClOrdID a request named it by).
    pub(crate) fn record(&self, cl_ord_id: ClOrdId) -> OrderRecord {
        OrderRecord {
            trader: self.trader,
            firm: self.firm,
            instrument: self.instrument,
            cl_ord_id,
            side: self.side,
            kind: self.kind,
            tif: self.tif,
            price: self.price,
            quantity: self.quantity,
            cum: self.cum,
            notional_ticks: self.notional_ticks,
            reserved: 0,
            account: None,
        }
    }
}

/// Buckets of the index: a power of two, four times the ring.
const BUCKETS: usize = 4 * FINISHED_KEPT;

/// An empty bucket.
const NIL: u32 = u32::MAX;

/// The ring of finished orders' records and its index.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Finished orders in the order they finished, circular once full.
    ring: Vec<Ended>,
    /// Records pushed so far; the next goes to `pushed % FINISHED_KEPT`.
    pushed: u64,
    /// Ring slot of the last finished order whose id's low bits are the bucket number.
    buckets: Vec<u32>,
}

impl Finished {
    pub(crate) fn new() -> Finished {
        const { assert!(BUCKETS.is_power_of_two() && BUCKETS < NIL as usize) };
        let ring = Vec::with_capacity(FINISHED_KEPT);
        Finished { ring, pushed: 0, buckets: vec![NIL; BUCKETS] }
    }

    /// Keeps what a status answer needs of `record` of `order_id`, which has just ended with
    /// `status`; forgets the oldest if full.
    pub(crate) fn push(&mut self, order_id: OrderId, record: &OrderRecord, status: OrdStatus) {
        self.push_ended(Ended {
            order_id,
            notional_ticks: record.notional_ticks,
            price: record.price,
            instrument: record.instrument,
            trader: record.trader,
            firm: record.firm,
            quantity: record.quantity,
            cum: record.cum,
            tif: record.tif,
            status,
            side: record.side,
            kind: record.kind,
        });
    }

    /// Keeps `ended` (from a snapshot, oldest first).
    pub(crate) fn push_ended(&mut self, ended: Ended) {
        let slot = (self.pushed % FINISHED_KEPT as u64) as usize;
        if self.ring.len() < FINISHED_KEPT {
            self.ring.push(ended);
        } else {
            self.ring[slot] = ended;
        }
        self.buckets[bucket(ended.order_id)] = slot as u32;
        self.pushed += 1;
    }

    /// A finished order still kept.
    pub(crate) fn get(&self, order_id: OrderId) -> Option<&Ended> {
        let slot = self.buckets[bucket(order_id)];
        let ended = self.ring.get(slot as usize)?;
        (ended.order_id == order_id).then_some(ended)
    }

    /// Whether `order_id` is kept.
    pub(crate) fn contains(&self, order_id: OrderId) -> bool {
        self.get(order_id).is_some()
    }

    /// The records kept, oldest first.
    pub(crate) fn oldest_first(&self) -> impl Iterator<Item = &Ended> {
        let start = if self.ring.len() < FINISHED_KEPT {
            0
        } else {
            (self.pushed % FINISHED_KEPT as u64) as usize
        };
        self.ring[start..].iter().chain(&self.ring[..start])
    }

    /// How many are kept.
    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }
}

fn bucket(order_id: OrderId) -> usize {
    (order_id.0 & (BUCKETS as u64 - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cum: u32) -> OrderRecord {
        OrderRecord { cum: Lots(cum), ..crate::state::records::tests::record(10) }
    }

    /// The last `FINISHED_KEPT` are found, oldest first in order; older ones and ids sharing
    /// a bucket with a newer one are not, and nothing answers for another id.
    #[test]
    fn keeps_the_last_ones_and_answers_only_for_their_ids() {
        let mut finished = Finished::new();
        let total = FINISHED_KEPT as u64 + 10;
        for id in 1..=total {
            finished.push(OrderId(id), &record(id as u32), OrdStatus::Filled);
        }
        assert_eq!(finished.len(), FINISHED_KEPT);
        assert!(!finished.contains(OrderId(10)), "pushed out");
        assert_eq!(finished.get(OrderId(11)).map(|e| e.cum), Some(Lots(11)));
        assert_eq!(finished.get(OrderId(total)).map(|e| e.cum), Some(Lots(total as u32)));
        assert!(!finished.contains(OrderId(total + 1)));
        let ids: Vec<u64> = finished.oldest_first().map(|e| e.order_id.0).collect();
        assert_eq!(ids, (11..=total).collect::<Vec<_>>());
        // An order that outlived BUCKETS newer ids shares a bucket: the newer one wins.
        let old = OrderId(total + 1);
        finished.push(old, &record(1), OrdStatus::Filled);
        finished.push(OrderId(old.0 + BUCKETS as u64), &record(2), OrdStatus::Filled);
        assert!(!finished.contains(old));
        assert_eq!(finished.get(OrderId(old.0 + BUCKETS as u64)).map(|e| e.cum), Some(Lots(2)));
    }
}
