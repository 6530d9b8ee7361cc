//! Order entry and continuous matching: submit, cancel and replace.

use super::{Book, Mode, Taker, finished, state};
use crate::event::{
    CancelReason, Cancelled, Event, Fill, Interruption, LevelChange, OrderState, Party, Reduced,
    Reject, Rejected, Replaced, Request, Sink,
};
use crate::order::{Cancel, NewOrder, OrderType, Replace, SelfMatchMode, TimeInForce};
use crate::slab::{Lifetime, NIL, RestingOrder};
use crate::types::{FirmId, Lots, OrderId, Side, Ticks, Timestamp};

use super::GOOD_TILL_CANCEL_DAYS;

impl Book {
    /// Enters a new order: validates it, reports `Accepted`, matches it, and rests or cancels
    /// what is left as its time in force says.
    ///
    /// Checks run in this order, the first failure deciding the [`Reject`]: duplicate id,
    /// unsupported combinations (market orders must be IOC/FOK, post-only and iceberg orders
    /// must be able to rest), quantity, display, expiry, band, capacity, post-only crossing.
    /// A fill-or-kill order that cannot fill in full is cancelled before any fill.
    ///
    /// # Panics
    /// Panics only if a book invariant is broken (a bug), never because of the order.
    pub fn submit(&mut self, order: &NewOrder, now: Timestamp, sink: &mut impl Sink) {
        match self.check_new(order, now) {
            Ok(limit) => self.submit_checked(order, limit, now, sink),
            Err(reject) => {
                let rejected = Rejected { order_id: order.order_id, request: Request::New, reject };
                sink.event(Event::Rejected(rejected));
            }
        }
    }

    /// [`Book::submit`] for an order that [`Book::check_new`] has just accepted with `limit`
    /// (the book unchanged since): the engine checks, reserves deposit, then submits, and
    /// need not pay for the checks twice.
    ///
    /// # Panics
    /// Panics if `limit` is outside the band (the order was not checked), or on a broken book
    /// invariant.
    pub fn submit_checked(
        &mut self,
        order: &NewOrder,
        limit: Ticks,
        now: Timestamp,
        sink: &mut impl Sink,
    ) {
        assert!(self.band.contains(limit), "Invariant: submit_checked takes a checked limit");
        let mut taker = Taker {
            order_id: order.order_id,
            owner: order.owner,
            side: order.side,
            limit,
            quantity: order.quantity.0,
            leaves: order.quantity.0,
            self_match: order.self_match,
        };
        sink.event(Event::Accepted(taker.state()));
        if self.mode == Mode::Continuous {
            let decision = if order.time_in_force == TimeInForce::FillOrKill {
                self.fill_or_kill(&taker)
            } else {
                FillOrKill::Fills
            };
            match decision {
                FillOrKill::Fills => self.match_taker(&mut taker, sink),
                FillOrKill::Short => {}
                FillOrKill::Interrupts(interruption) => self.interrupt(interruption, sink),
            }
        }
        if taker.leaves == 0 {
            return;
        }
        if order.time_in_force.rests() {
            let market = order.order_type == OrderType::Market;
            self.rest(&taker, order, market, now, sink);
        } else {
            cancel_taker(&mut taker, CancelReason::ImmediateOrCancel, sink);
        }
        self.assert_uncrossed();
    }

    /// Cancels one resting order of the requesting firm; reports `Cancelled`, or `Rejected`
    /// with [`Reject::UnknownOrder`] when no such order rests (or it is another firm's).
    pub fn cancel(&mut self, request: &Cancel, sink: &mut impl Sink) {
        let Some(slot) = self.find(request.order_id, request.requester) else {
            reject(request.order_id, Request::Cancel, Reject::UnknownOrder, sink);
            return;
        };
        let order = self.orders[slot];
        self.cancel_slot(slot, CancelReason::Request, sink);
        if !order.market {
            self.emit_level(order.side, self.ladder(order.side).index(order.price), sink);
        }
    }

    /// Changes a resting order's price and total quantity. See [`Replace`] for the modify
    /// semantics. Reports `Replaced` (then any fills), or `Rejected`.
    ///
    /// # Panics
    /// Panics only if a book invariant is broken (a bug), never because of the request.
    pub fn replace(&mut self, request: &Replace, sink: &mut impl Sink) {
        let Some(slot) = self.find(request.order_id, request.requester) else {
            reject(request.order_id, Request::Replace, Reject::UnknownOrder, sink);
            return;
        };
        if let Err(cause) = self.validate_replace(request, slot) {
            reject(request.order_id, Request::Replace, cause, sink);
            return;
        }
        let order = self.orders[slot];
        let display = request.display.map_or(order.display, |display| display.0);
        if request.quantity.0 <= order.filled() {
            self.finish_by_replace(slot, request.price, sink);
        } else if request.price == order.price
            && request.quantity.0 <= order.quantity
            && display == order.display
        {
            self.replace_in_place(slot, request.quantity.0, sink);
        } else {
            self.replace_and_requeue(slot, request, display, sink);
        }
        self.assert_uncrossed();
    }

    /// Returns the slot of `order_id` if it rests and belongs to `requester`.
    fn find(&self, order_id: OrderId, requester: FirmId) -> Option<u32> {
        let slot = self.index.get(order_id, |slot| self.orders[slot].order_id)?;
        (self.orders[slot].owner.firm == requester).then_some(slot)
    }

    /// Runs every check [`Book::submit`] runs, without changing anything, and returns the
    /// order's effective limit price (a market order's protection price). The engine calls it
    /// to reserve deposit between the book's checks and matching.
    ///
    /// # Errors
    /// Returns the [`Reject`] that [`Book::submit`] would report.
    pub fn check_new(&self, order: &NewOrder, now: Timestamp) -> Result<Ticks, Reject> {
        if self.index.get(order.order_id, |slot| self.orders[slot].order_id).is_some() {
            return Err(Reject::DuplicateOrderId);
        }
        validate_shape(order, self.mode)?;
        self.validate_quantity(order.quantity, order.display)?;
        if let TimeInForce::GoodTillDate(expiry) = order.time_in_force
            && expiry <= now
        {
            return Err(Reject::ExpiryNotInFuture { expiry, now });
        }
        let limit = match (order.order_type, self.mode) {
            (OrderType::Limit { price }, _) => self.validate_price(price)?,
            (OrderType::Market, Mode::Continuous) => self.protection_price(order.side),
            (OrderType::Market, Mode::Call) => self.band_edge(order.side),
        };
        if order.time_in_force.rests() && self.orders.is_full() {
            return Err(Reject::BookFull { orders_max: self.orders.capacity() });
        }
        if order.post_only {
            self.validate_post_only(order.side, limit)?;
        }
        Ok(limit)
    }

    /// Runs every check [`Book::replace`] runs, without changing anything.
    ///
    /// # Errors
    /// Returns the [`Reject`] that [`Book::replace`] would report.
    pub fn check_replace(&self, request: &Replace) -> Result<(), Reject> {
        let slot = self.find(request.order_id, request.requester).ok_or(Reject::UnknownOrder)?;
        self.validate_replace(request, slot)
    }

    fn validate_replace(&self, request: &Replace, slot: u32) -> Result<(), Reject> {
        if self.orders[slot].market {
            return Err(Reject::Unsupported { what: "a market order cannot be replaced" });
        }
        self.validate_quantity(request.quantity, request.display)?;
        self.validate_price(request.price)?;
        let order = &self.orders[slot];
        if order.post_only && self.mode == Mode::Continuous {
            self.validate_post_only(order.side, request.price)?;
        }
        Ok(())
    }

    fn validate_quantity(&self, quantity: Lots, display: Option<Lots>) -> Result<(), Reject> {
        if quantity.0 == 0 {
            return Err(Reject::QuantityNotWholeLots { quantity: 0.into() });
        }
        let max = self.instrument.max_order_lots();
        if quantity > max {
            return Err(Reject::QuantityAboveMax { lots: quantity, max });
        }
        if let Some(display) = display
            && (display.0 == 0 || display > quantity)
        {
            return Err(Reject::DisplayInvalid { display, quantity });
        }
        Ok(())
    }

    pub(super) fn validate_price(&self, price: Ticks) -> Result<Ticks, Reject> {
        if !self.band.contains(price) {
            let (low, high) = (self.band.low, self.band.high);
            return Err(Reject::PriceOutsideBand { price, low, high });
        }
        Ok(price)
    }

    fn validate_post_only(&self, side: Side, price: Ticks) -> Result<(), Reject> {
        if let Some(best) = self.best(side.opposite())
            && side.accepts(price, best.price)
        {
            return Err(Reject::PostOnlyWouldCross { price, opposite: best.price });
        }
        Ok(())
    }

    /// Decides a fill-or-kill order without side effects: whether matching would fill it in
    /// full, fall short, or reach a trade too far from the last one. Matching is replayed in
    /// the mind: other firms' orders count in full, since the taker sweeps a level's iceberg
    /// refills too; an own-firm order is skipped when the taker cancels resting self-matches,
    /// and otherwise ends the count, and icebergs ahead of it at its level count their shown
    /// slice only (their refill queues behind it). A sweep that would reach a trade beyond the
    /// volatility limit before it is filled interrupts trading (market model §5: the trade is
    /// not executed, the instrument moves to a volatility auction, the FOK is cancelled), so
    /// that a FOK order cannot probe a price jump without stopping the market as an IOC does.
    fn fill_or_kill(&self, taker: &Taker) -> FillOrKill {
        let ladder = self.ladder(taker.side.opposite());
        let wanted = u64::from(taker.leaves);
        let mut available = 0u64;
        // As in matching, each level is measured against the last trade, which the taker's
        // own fills at earlier levels move.
        let mut last = self.last_trade_price.unwrap_or(self.reference);
        let mut next = ladder.best();
        while let Some(index) = next {
            let price = ladder.price(index);
            if !taker.side.accepts(taker.limit, price) {
                break;
            }
            let interrupted = self.interrupts_from(price, last);
            let (mut level_full, mut level_ahead) = (0u64, 0u64);
            let mut slot = ladder.level(index).head;
            while slot != NIL {
                let order = &self.orders[slot];
                slot = order.next;
                if order.owner.firm == taker.owner.firm {
                    if taker.self_match == SelfMatchMode::CancelResting {
                        continue;
                    }
                    return FillOrKill::fills(available + level_ahead >= wanted);
                }
                if let Some(reference) = interrupted {
                    // Matching stops before this fill, short of the whole quantity.
                    return FillOrKill::Interrupts(Interruption { price, reference });
                }
                level_full += u64::from(order.leaves);
                level_ahead += u64::from(order.visible);
                if available + level_ahead >= wanted {
                    return FillOrKill::Fills;
                }
            }
            available += level_full;
            if available >= wanted {
                return FillOrKill::Fills;
            }
            if level_full > 0 {
                last = price;
            }
            next = ladder.next_from(index + 1);
        }
        FillOrKill::Short
    }

    /// Matches `taker` against the opposite side while it has leaves and the prices cross. A
    /// trade too far from the last one interrupts: the book switches to a call and stops.
    fn match_taker(&mut self, taker: &mut Taker, sink: &mut impl Sink) {
        let maker_side = taker.side.opposite();
        while taker.leaves > 0 {
            let ladder = self.ladder(maker_side);
            let Some(index) = ladder.best() else { break };
            let price = ladder.price(index);
            if !taker.side.accepts(taker.limit, price) {
                break;
            }
            let interrupted = self.match_level(taker, index, sink);
            self.emit_level(maker_side, index, sink);
            if interrupted {
                break;
            }
        }
    }

    /// Matches `taker` against the queue of one level until either is exhausted or self-trade
    /// prevention stops the taker. Returns whether a volatility interruption stopped it: it is
    /// checked before each trade, not before self-trade prevention, so a level of the taker's
    /// own firm's orders alone (which trade with nobody) never interrupts.
    fn match_level(&mut self, taker: &mut Taker, index: u32, sink: &mut impl Sink) -> bool {
        let maker_side = taker.side.opposite();
        while taker.leaves > 0 {
            let slot = self.ladder(maker_side).level(index).head;
            if slot == NIL {
                return false;
            }
            if self.orders[slot].owner.firm == taker.owner.firm {
                self.prevent_self_match(taker, slot, index, sink);
                continue;
            }
            let price = self.orders[slot].price;
            let last = self.last_trade_price.unwrap_or(self.reference);
            if let Some(reference) = self.interrupts_from(price, last) {
                self.interrupt(Interruption { price, reference }, sink);
                return true;
            }
            self.fill(taker, slot, index, sink);
        }
        false
    }

    /// Trades the taker with the maker in `slot` (at the head of level `index`) for as much as
    /// the maker shows. A maker left with nothing shown but hidden lots refills and queues last.
    fn fill(&mut self, taker: &mut Taker, slot: u32, index: u32, sink: &mut impl Sink) {
        let maker_side = taker.side.opposite();
        let maker = &mut self.orders[slot];
        let lots = taker.leaves.min(maker.visible);
        assert!(lots > 0, "Invariant: a resting order shows at least one lot");
        maker.visible -= lots;
        maker.leaves -= lots;
        taker.leaves -= lots;
        let price = maker.price;
        let maker_party = Party {
            order_id: maker.order_id,
            owner: maker.owner,
            filled: Lots(maker.filled()),
            leaves: Lots(maker.leaves),
        };
        let (maker_leaves, maker_visible) = (maker.leaves, maker.visible);
        self.trade_id_last += 1;
        self.last_trade_price = Some(price);
        let taker_state = taker.state();
        sink.event(Event::Fill(Fill {
            trade_id: crate::types::TradeId(self.trade_id_last),
            price,
            lots: Lots(lots),
            taker_side: taker.side,
            maker: maker_party,
            taker: Party {
                order_id: taker.order_id,
                owner: taker.owner,
                filled: taker_state.filled,
                leaves: taker_state.leaves,
            },
            auction: false,
        }));
        self.ladder_mut(maker_side).sub_lots(index, u64::from(lots));
        if maker_leaves == 0 {
            self.remove_slot(slot);
        } else if maker_visible == 0 {
            let maker = &mut self.orders[slot];
            maker.visible = maker.display.min(maker.leaves);
            let shown = u64::from(maker.visible);
            let ladder = match maker_side {
                Side::Buy => &mut self.bids,
                Side::Sell => &mut self.asks,
            };
            ladder.add_lots(index, shown);
            ladder.move_to_back(&mut self.orders, index, slot);
        }
    }

    /// Applies the taker's self-trade prevention mode against its own firm's maker in `slot`.
    fn prevent_self_match(
        &mut self,
        taker: &mut Taker,
        slot: u32,
        index: u32,
        sink: &mut impl Sink,
    ) {
        match taker.self_match {
            SelfMatchMode::CancelResting => self.cancel_slot(slot, CancelReason::SelfMatch, sink),
            SelfMatchMode::CancelIncoming => {
                cancel_taker(taker, CancelReason::SelfMatch, sink);
            }
            SelfMatchMode::CancelBoth => {
                self.cancel_slot(slot, CancelReason::SelfMatch, sink);
                cancel_taker(taker, CancelReason::SelfMatch, sink);
            }
            SelfMatchMode::Decrement => self.decrement(taker, slot, index, sink),
        }
    }

    /// Reduces the maker and the taker by the smaller of their leaves, without a trade; an
    /// order reduced to nothing is cancelled. The maker loses hidden lots before shown ones.
    fn decrement(&mut self, taker: &mut Taker, slot: u32, index: u32, sink: &mut impl Sink) {
        let maker = self.orders[slot];
        let lots = taker.leaves.min(maker.leaves);
        if lots == maker.leaves {
            self.cancel_slot(slot, CancelReason::SelfMatch, sink);
        } else {
            let maker = &mut self.orders[slot];
            maker.leaves -= lots;
            maker.quantity -= lots;
            let visible = maker.visible.min(maker.leaves);
            let hidden_cut = u64::from(maker.visible - visible);
            maker.visible = visible;
            let reduced = Reduced { order: state(maker), reduced: Lots(lots) };
            self.ladder_mut(taker.side.opposite()).sub_lots(index, hidden_cut);
            sink.event(Event::Reduced(reduced));
        }
        if lots == taker.leaves {
            cancel_taker(taker, CancelReason::SelfMatch, sink);
        } else {
            taker.leaves -= lots;
            taker.quantity -= lots;
            sink.event(Event::Reduced(Reduced { order: taker.state(), reduced: Lots(lots) }));
        }
    }

    /// Rests what is left of a new order at the back of its level.
    fn rest(
        &mut self,
        taker: &Taker,
        order: &NewOrder,
        market: bool,
        now: Timestamp,
        sink: &mut impl Sink,
    ) {
        let (lifetime, expiry) = match order.time_in_force {
            TimeInForce::Day => (Lifetime::Day, Timestamp(u64::MAX)),
            TimeInForce::GoodTillCancel => {
                (Lifetime::GoodTillCancel, now.plus_days(GOOD_TILL_CANCEL_DAYS))
            }
            TimeInForce::GoodTillDate(expiry) => (Lifetime::GoodTillDate, expiry),
            TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill => {
                unreachable!("immediate orders never rest")
            }
        };
        let display = order.display.map_or(0, |display| display.0);
        let resting = RestingOrder {
            order_id: taker.order_id,
            price: taker.limit,
            expiry,
            quantity: taker.quantity,
            leaves: taker.leaves,
            visible: if display == 0 { taker.leaves } else { display.min(taker.leaves) },
            display,
            owner: taker.owner,
            prev: NIL,
            next: NIL,
            side: taker.side,
            lifetime,
            self_match: taker.self_match,
            post_only: order.post_only,
            market,
        };
        self.link_new(resting, sink);
    }

    /// Stores `resting` in a free slot, indexes it and links it at the back of its level.
    pub(super) fn link_new(&mut self, resting: RestingOrder, sink: &mut impl Sink) {
        let slot = self.orders.insert(resting);
        self.index.insert(resting.order_id, slot);
        if resting.lifetime != Lifetime::Day {
            self.expiry_next = self.expiry_next.min(resting.expiry);
        }
        let ladder = match resting.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if resting.market {
            ladder.push_back_market(&mut self.orders, slot);
            return;
        }
        let index = ladder.index(resting.price);
        ladder.push_back(&mut self.orders, index, slot);
        self.emit_level(resting.side, index, sink);
    }

    /// A replace to a total at or below what has traded: the order is finished.
    fn finish_by_replace(&mut self, slot: u32, price: Ticks, sink: &mut impl Sink) {
        let order = self.remove_slot(slot);
        let filled = Lots(order.filled());
        let done = OrderState { price, quantity: filled, ..finished(&order) };
        sink.event(Event::Replaced(Replaced { order: done, priority_kept: false }));
        self.emit_level(order.side, self.ladder(order.side).index(order.price), sink);
    }

    /// A size-down (or same size) at the same price: the order keeps its place.
    fn replace_in_place(&mut self, slot: u32, quantity: u32, sink: &mut impl Sink) {
        let order = &mut self.orders[slot];
        let filled = order.filled();
        order.quantity = quantity;
        order.leaves = quantity - filled;
        let visible = order.visible.min(order.leaves);
        let cut = u64::from(order.visible - visible);
        order.visible = visible;
        let (side, price, replaced) = (order.side, order.price, state(order));
        let index = self.ladder(side).index(price);
        self.ladder_mut(side).sub_lots(index, cut);
        sink.event(Event::Replaced(Replaced { order: replaced, priority_kept: true }));
        self.emit_level(side, index, sink);
    }

    /// A replace that loses priority: the order leaves its level, may trade as the aggressor at
    /// its new price, and rests what is left at the back of its new level.
    fn replace_and_requeue(
        &mut self,
        slot: u32,
        request: &Replace,
        display: u32,
        sink: &mut impl Sink,
    ) {
        let order = self.orders[slot];
        let old_index = self.ladder(order.side).index(order.price);
        let ladder = match order.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        ladder.unlink(&mut self.orders, old_index, slot);
        let mut taker = Taker {
            order_id: order.order_id,
            owner: order.owner,
            side: order.side,
            limit: request.price,
            quantity: request.quantity.0,
            leaves: request.quantity.0 - order.filled(),
            self_match: order.self_match,
        };
        sink.event(Event::Replaced(Replaced { order: taker.state(), priority_kept: false }));
        self.emit_level(order.side, old_index, sink);
        if self.mode == Mode::Continuous {
            self.match_taker(&mut taker, sink);
        }
        self.index.remove(order.order_id, slot);
        self.orders.remove(slot);
        if taker.leaves == 0 {
            return;
        }
        let visible = if display == 0 { taker.leaves } else { display.min(taker.leaves) };
        let resting = RestingOrder {
            price: taker.limit,
            quantity: taker.quantity,
            leaves: taker.leaves,
            visible,
            display,
            prev: NIL,
            next: NIL,
            ..order
        };
        self.link_new(resting, sink);
    }

    /// Removes the order in `slot` from its level, the index and the slab; returns it.
    pub(super) fn remove_slot(&mut self, slot: u32) -> RestingOrder {
        let order = self.orders[slot];
        let ladder = match order.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if order.market {
            ladder.unlink_market(&mut self.orders, slot);
        } else {
            let index = ladder.index(order.price);
            ladder.unlink(&mut self.orders, index, slot);
        }
        self.index.remove(order.order_id, slot);
        self.orders.remove(slot);
        order
    }

    /// Removes the order in `slot` and reports its cancellation (not its level's change).
    pub(super) fn cancel_slot(&mut self, slot: u32, reason: CancelReason, sink: &mut impl Sink) {
        let order = self.remove_slot(slot);
        let cancelled =
            Cancelled { order: finished(&order), cancelled: Lots(order.leaves), reason };
        sink.event(Event::Cancelled(cancelled));
    }

    /// Reports the current state of level `index` of `side`.
    pub(super) fn emit_level(&self, side: Side, index: u32, sink: &mut impl Sink) {
        let ladder = self.ladder(side);
        let level = ladder.level(index);
        let price = ladder.price(index);
        sink.event(Event::Level(LevelChange {
            side,
            price,
            lots: level.lots,
            orders: level.orders,
        }));
    }

    /// Asserts that a continuous book is not crossed (the best bid is below the best ask):
    /// `O(1)`. A book in a call may be crossed.
    fn assert_uncrossed(&self) {
        if self.mode == Mode::Continuous
            && let (Some(bid), Some(ask)) = (self.bids.best(), self.asks.best())
        {
            assert!(
                self.bids.price(bid) < self.asks.price(ask),
                "Invariant: a continuous book is not crossed after matching"
            );
        }
    }

    /// If a trade at `price` after one at `last` (the last trade, else the reference) would
    /// be a volatility interruption, returns `last`, the price it is measured against.
    fn interrupts_from(&self, price: Ticks, last: Ticks) -> Option<Ticks> {
        let limit = i128::from(self.volatility_limit_bp?);
        let distance = i128::from((price.0 - last.0).abs()) * 10_000;
        (distance > limit * i128::from(last.0)).then_some(last)
    }

    /// A volatility interruption: the book switches to a call (the engine times it).
    fn interrupt(&mut self, interruption: Interruption, sink: &mut impl Sink) {
        self.mode = Mode::Call;
        sink.event(Event::Interrupted(interruption));
    }

    /// The far end of the band for `side`: the nominal price of a market order in a call.
    pub(super) fn band_edge(&self, side: Side) -> Ticks {
        match side {
            Side::Buy => self.band.high,
            Side::Sell => self.band.low,
        }
    }
}

/// What matching would do with a fill-or-kill order.
enum FillOrKill {
    /// Fill it in full.
    Fills,
    /// Fall short: the order is killed.
    Short,
    /// Reach a trade beyond the volatility limit first: trading is interrupted and the order
    /// killed.
    Interrupts(Interruption),
}

impl FillOrKill {
    fn fills(enough: bool) -> FillOrKill {
        if enough { FillOrKill::Fills } else { FillOrKill::Short }
    }
}

/// Checks the combinations of order type, time in force, post-only and display, for the
/// book's mode (market model §3: a call takes no IOC, FOK or post-only orders, and market
/// orders only as Day orders).
fn validate_shape(order: &NewOrder, mode: Mode) -> Result<(), Reject> {
    let market = order.order_type == OrderType::Market;
    let rests = order.time_in_force.rests();
    let iceberg = "an iceberg must be a limit order allowed to rest (not IOC or FOK)";
    let what = if mode == Mode::Call && !rests {
        "IOC and FOK orders are not accepted in a call phase"
    } else if mode == Mode::Call && order.post_only {
        "post-only orders are not accepted in a call phase"
    } else if mode == Mode::Call && market && order.time_in_force != TimeInForce::Day {
        "market orders in a call phase must be Day orders"
    } else if mode == Mode::Call && market && order.display.is_some() {
        iceberg
    } else if mode == Mode::Call && market {
        return Ok(());
    } else if market && rests {
        "market orders must be IOC or FOK"
    } else if market && order.post_only {
        "a post-only order must be a limit order"
    } else if order.post_only && !rests {
        "a post-only order must be allowed to rest (not IOC or FOK)"
    } else if order.display.is_some() && (market || !rests) {
        iceberg
    } else {
        return Ok(());
    };
    Err(Reject::Unsupported { what })
}

/// Reports the cancellation of what is left of the taker and leaves it with nothing.
fn cancel_taker(taker: &mut Taker, reason: CancelReason, sink: &mut impl Sink) {
    let order = OrderState { leaves: Lots(0), ..taker.state() };
    sink.event(Event::Cancelled(Cancelled { order, cancelled: Lots(taker.leaves), reason }));
    taker.leaves = 0;
}

fn reject(order_id: OrderId, request: Request, reject: Reject, sink: &mut impl Sink) {
    sink.event(Event::Rejected(Rejected { order_id, request, reject }));
}
