//! Operations over many orders at once (mass cancel, expiry), snapshot restore, and the
//! whole-book invariant check.

use super::{Book, Mode, OrderView, finished};
use crate::event::{CancelReason, Cancelled, Event, Expired, Reject, Sink};
use crate::order::{MassCancel, TimeInForce};
use crate::slab::{Lifetime, NIL, RestingOrder};
use crate::types::{Lots, Side, Ticks, Timestamp, TradeId};

impl Book {
    /// Cancels every resting order `filter` selects, in priority order (bids first), reporting
    /// each with `reason`; returns how many were cancelled.
    pub fn mass_cancel(
        &mut self,
        filter: &MassCancel,
        reason: CancelReason,
        sink: &mut impl Sink,
    ) -> u32 {
        let lifetime_of = |order: &RestingOrder| match order.lifetime {
            Lifetime::Day => TimeInForce::Day,
            Lifetime::GoodTillCancel => TimeInForce::GoodTillCancel,
            Lifetime::GoodTillDate => TimeInForce::GoodTillDate(order.expiry),
        };
        self.sweep(
            |order| filter.selects(order.owner, order.side, lifetime_of(order)),
            |order| {
                let cancelled = Lots(order.leaves);
                Event::Cancelled(Cancelled { order: finished(order), cancelled, reason })
            },
            sink,
        )
    }

    /// Expires every order whose time is up at `now`: GTC and GTD orders whose expiry is at or
    /// before `now`, and, when `end_of_day`, every Day order. Returns how many expired.
    pub fn expire(&mut self, now: Timestamp, end_of_day: bool, sink: &mut impl Sink) -> u32 {
        self.expire_where(
            |order| match order.lifetime {
                Lifetime::Day => end_of_day,
                Lifetime::GoodTillCancel | Lifetime::GoodTillDate => order.expiry <= now,
            },
            sink,
        )
    }

    /// Expires the GTD orders whose date ends at or before `until` (a session's close expires
    /// the day's GTD orders before its midnight), leaving GTC orders to their own time.
    /// Returns how many expired.
    pub fn expire_dated(&mut self, until: Timestamp, sink: &mut impl Sink) -> u32 {
        self.expire_where(
            |order| order.lifetime == Lifetime::GoodTillDate && order.expiry <= until,
            sink,
        )
    }

    fn expire_where(
        &mut self,
        select: impl Fn(&RestingOrder) -> bool,
        sink: &mut impl Sink,
    ) -> u32 {
        let expired = self.sweep(
            select,
            |order| {
                let expired = Lots(order.leaves);
                Event::Expired(Expired { order: finished(order), expired })
            },
            sink,
        );
        self.expiry_next = [Side::Buy, Side::Sell]
            .into_iter()
            .flat_map(|side| self.orders(side))
            .filter_map(|order| order.expiry)
            .min()
            .unwrap_or(Timestamp(u64::MAX));
        expired
    }

    /// Removes the orders `select` picks, walking both sides in priority order; reports each
    /// with the event `report` makes and each touched level once.
    pub(super) fn sweep(
        &mut self,
        select: impl Fn(&RestingOrder) -> bool,
        report: impl Fn(&RestingOrder) -> Event,
        sink: &mut impl Sink,
    ) -> u32 {
        let mut count = 0;
        for side in [Side::Buy, Side::Sell] {
            let mut slot = self.ladder(side).market().head;
            while slot != NIL {
                let following = self.orders[slot].next;
                if select(&self.orders[slot]) {
                    let order = self.remove_slot(slot);
                    sink.event(report(&order));
                    count += 1;
                }
                slot = following;
            }
            let mut next = self.ladder(side).best();
            while let Some(index) = next {
                let mut slot = self.ladder(side).level(index).head;
                let mut touched = false;
                while slot != NIL {
                    let following = self.orders[slot].next;
                    if select(&self.orders[slot]) {
                        let order = self.remove_slot(slot);
                        sink.event(report(&order));
                        touched = true;
                        count += 1;
                    }
                    slot = following;
                }
                if touched {
                    self.emit_level(side, index, sink);
                }
                next = self.ladder(side).next_from(index + 1);
            }
        }
        count
    }

    /// Puts a resting order back from a snapshot, at the back of its level, without matching
    /// and without reporting. Restoring a book's orders in the order [`Book::orders`] gave
    /// them rebuilds every queue exactly.
    ///
    /// # Errors
    /// Returns the [`Reject`] a snapshot so inconsistent deserves: a duplicate id, a full book,
    /// a price outside the band, an immediate time in force, or quantities that do not add up.
    pub fn restore(&mut self, order: &OrderView) -> Result<(), Reject> {
        if self.index.get(order.order_id, |slot| self.orders[slot].order_id).is_some() {
            return Err(Reject::DuplicateOrderId);
        }
        if self.orders.is_full() {
            return Err(Reject::BookFull { orders_max: self.orders.capacity() });
        }
        if order.market && self.mode == Mode::Continuous {
            return Err(Reject::Unsupported { what: "a market order rests only in a call" });
        }
        self.validate_price(order.price)?;
        let display = order.display.map_or(0, |display| display.0);
        let consistent = order.leaves <= order.quantity
            && order.visible.0 > 0
            && order.visible <= order.leaves
            && (display == 0 || order.visible.0 <= display)
            && (display > 0 || order.visible == order.leaves);
        if !consistent {
            return Err(Reject::Unsupported { what: "restored order quantities are inconsistent" });
        }
        let (lifetime, expiry) = match order.time_in_force {
            TimeInForce::Day => (Lifetime::Day, Timestamp(u64::MAX)),
            TimeInForce::GoodTillCancel => {
                (Lifetime::GoodTillCancel, order.expiry.unwrap_or(Timestamp(u64::MAX)))
            }
            TimeInForce::GoodTillDate(expiry) => (Lifetime::GoodTillDate, expiry),
            TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill => {
                return Err(Reject::Unsupported { what: "restored order is immediate" });
            }
        };
        let resting = RestingOrder {
            order_id: order.order_id,
            price: order.price,
            expiry,
            quantity: order.quantity.0,
            leaves: order.leaves.0,
            visible: order.visible.0,
            display,
            owner: order.owner,
            prev: NIL,
            next: NIL,
            side: order.side,
            lifetime,
            self_match: order.self_match,
            post_only: order.post_only,
            market: order.market,
        };
        self.link_new(resting, &mut Discard);
        Ok(())
    }

    /// Restores the trade counters from a snapshot.
    pub fn restore_trades(&mut self, trade_id_last: TradeId, last_trade_price: Option<Ticks>) {
        self.trade_id_last = trade_id_last.0;
        self.last_trade_price = last_trade_price;
    }

    /// Checks every whole-book invariant, `O(levels + orders)`: each level's counts and lots
    /// equal the sum over its queue, the queues are well linked and priced, the occupied set and
    /// the best level agree with the levels, the index covers exactly the resting orders, and
    /// the book is not crossed. For tests and debug builds.
    ///
    /// # Panics
    /// Panics, naming the broken invariant, if any does not hold.
    pub fn check_invariants(&self) {
        let mut total = 0usize;
        for side in [Side::Buy, Side::Sell] {
            total += self.check_side(side);
        }
        assert_eq!(total, self.orders.len() as usize, "Invariant: slab count = orders in levels");
        assert_eq!(total, self.index.len(), "Invariant: index count = orders in levels");
        if self.mode == Mode::Continuous
            && let (Some(bid), Some(ask)) = (self.best(Side::Buy), self.best(Side::Sell))
        {
            assert!(bid.price < ask.price, "Invariant: a continuous book is not crossed");
        }
    }

    fn check_side(&self, side: Side) -> usize {
        let ladder = self.ladder(side);
        let mut total = 0usize;
        let mut first_occupied = None;
        for index in 0..self.band.width() as u32 {
            let level = ladder.level(index);
            let occupied = ladder.next_from(index) == Some(index);
            assert_eq!(occupied, level.orders > 0, "Invariant: occupied bit = non-empty level");
            if occupied && first_occupied.is_none() {
                first_occupied = Some(index);
            }
            let (mut orders, mut lots, mut prev, mut slot) = (0u32, 0u64, NIL, level.head);
            while slot != NIL {
                let order = &self.orders[slot];
                assert_eq!(order.prev, prev, "Invariant: queue links agree");
                assert_eq!(order.side, side, "Invariant: orders rest on their side");
                assert_eq!(order.price, ladder.price(index), "Invariant: orders rest at price");
                assert!(order.visible > 0 && order.visible <= order.leaves);
                assert!(order.leaves <= order.quantity);
                if order.display > 0 {
                    assert!(order.visible <= order.display, "Invariant: icebergs show ≤ display");
                } else {
                    assert_eq!(order.visible, order.leaves, "Invariant: plain orders show all");
                }
                assert_eq!(
                    self.index.get(order.order_id, |slot| self.orders[slot].order_id),
                    Some(slot)
                );
                orders += 1;
                lots += u64::from(order.visible);
                prev = slot;
                slot = order.next;
            }
            assert_eq!(level.tail, prev, "Invariant: the tail is the last order");
            assert_eq!(level.orders, orders, "Invariant: level count = orders in queue");
            assert_eq!(level.lots, lots, "Invariant: level lots = sum of visible lots");
            total += orders as usize;
        }
        assert_eq!(ladder.best(), first_occupied, "Invariant: best = first occupied level");
        let market = ladder.market();
        let (mut orders, mut prev, mut slot) = (0u32, NIL, market.head);
        while slot != NIL {
            let order = &self.orders[slot];
            assert!(
                order.market && order.side == side,
                "Invariant: market queues hold market orders"
            );
            assert_eq!(order.prev, prev, "Invariant: market queue links agree");
            assert_eq!(
                self.index.get(order.order_id, |slot| self.orders[slot].order_id),
                Some(slot)
            );
            orders += 1;
            prev = slot;
            slot = order.next;
        }
        assert_eq!((market.tail, market.orders), (prev, orders), "Invariant: market queue count");
        if orders > 0 {
            assert_eq!(self.mode, Mode::Call, "Invariant: market orders rest only in a call");
        }
        total + orders as usize
    }
}

/// A sink that drops events: for restores, which report nothing.
struct Discard;

impl Sink for Discard {
    fn event(&mut self, _event: Event) {}
}
