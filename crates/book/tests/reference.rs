//! A naive reference book, written for clarity rather than speed, that the real book is checked
//! against event for event (TigerBeetle calls this the auditor).
//!
//! Levels are `BTreeMap<price, VecDeque<order>>`; lookups scan everything. The only clever rule
//! of the real book, the fill-or-kill decision, is defined here the obvious way: run the match on
//! a copy of the book and see whether it fills in full.

use std::collections::{BTreeMap, VecDeque};

use birzha_book::*;

#[derive(Clone, Debug)]
struct Order {
    order_id: OrderId,
    owner: Owner,
    side: Side,
    price: Ticks,
    quantity: u32,
    leaves: u32,
    visible: u32,
    display: u32,
    time_in_force: TimeInForce,
    expiry: Timestamp,
    post_only: bool,
    self_match: SelfMatchMode,
}

impl Order {
    fn state(&self) -> OrderState {
        OrderState {
            order_id: self.order_id,
            owner: self.owner,
            side: self.side,
            price: self.price,
            quantity: Lots(self.quantity),
            filled: Lots(self.quantity - self.leaves),
            leaves: Lots(self.leaves),
        }
    }

    fn shown(display: u32, leaves: u32) -> u32 {
        if display == 0 { leaves } else { display.min(leaves) }
    }
}

/// The reference book.
#[derive(Clone, Debug)]
pub(crate) struct Reference {
    bids: BTreeMap<i64, VecDeque<Order>>,
    asks: BTreeMap<i64, VecDeque<Order>>,
    band: Band,
    max_lots: u32,
    orders_max: usize,
    trade_id: u64,
}

impl Reference {
    pub(crate) fn new(book: &Book) -> Reference {
        Reference {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            band: book.band(),
            max_lots: book.instrument().max_order_lots().0,
            orders_max: book.instrument().spec().orders_max as usize,
            trade_id: 0,
        }
    }

    fn side(&mut self, side: Side) -> &mut BTreeMap<i64, VecDeque<Order>> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn count(&self) -> usize {
        self.bids.values().chain(self.asks.values()).map(VecDeque::len).sum()
    }

    fn best_price(&self, side: Side) -> Option<i64> {
        match side {
            Side::Buy => self.bids.keys().next_back().copied(),
            Side::Sell => self.asks.keys().next().copied(),
        }
    }

    fn find(&self, order_id: OrderId) -> Option<&Order> {
        self.bids.values().chain(self.asks.values()).flatten().find(|o| o.order_id == order_id)
    }

    fn take(&mut self, order_id: OrderId) -> Order {
        for side in [Side::Buy, Side::Sell] {
            let levels = self.side(side);
            let found = levels.iter().find_map(|(price, queue)| {
                queue.iter().position(|o| o.order_id == order_id).map(|at| (*price, at))
            });
            if let Some((price, at)) = found {
                let queue = levels.get_mut(&price).expect("level exists");
                let order = queue.remove(at).expect("order exists");
                if queue.is_empty() {
                    levels.remove(&price);
                }
                return order;
            }
        }
        panic!("order {order_id:?} is not in the reference book");
    }

    fn push_back(&mut self, order: Order) {
        self.side(order.side).entry(order.price.0).or_default().push_back(order);
    }

    /// Depth of one side as (price, visible lots, orders), best first.
    pub(crate) fn depth(&self, side: Side) -> Vec<(i64, u64, u32)> {
        let view = |(price, queue): (&i64, &VecDeque<Order>)| {
            let lots = queue.iter().map(|o| u64::from(o.visible)).sum();
            (*price, lots, queue.len() as u32)
        };
        match side {
            Side::Buy => self.bids.iter().rev().map(view).collect(),
            Side::Sell => self.asks.iter().map(view).collect(),
        }
    }

    pub(crate) fn submit(&mut self, new: &NewOrder, now: Timestamp, out: &mut Vec<Event>) {
        let limit = match self.check_new(new, now) {
            Ok(limit) => limit,
            Err(reject) => {
                let rejected = Rejected { order_id: new.order_id, request: Request::New, reject };
                out.push(Event::Rejected(rejected));
                return;
            }
        };
        let display = new.display.map_or(0, |d| d.0);
        let expiry = match new.time_in_force {
            TimeInForce::GoodTillCancel => now.plus_days(GOOD_TILL_CANCEL_DAYS),
            TimeInForce::GoodTillDate(expiry) => expiry,
            _ => Timestamp(u64::MAX),
        };
        let mut order = Order {
            order_id: new.order_id,
            owner: new.owner,
            side: new.side,
            price: limit,
            quantity: new.quantity.0,
            leaves: new.quantity.0,
            visible: 0,
            display,
            time_in_force: new.time_in_force,
            expiry,
            post_only: new.post_only,
            self_match: new.self_match,
        };
        out.push(Event::Accepted(order.state()));
        if new.time_in_force == TimeInForce::FillOrKill {
            let mut trial = self.clone();
            let mut trial_events = Vec::new();
            trial.take_liquidity(&mut order.clone(), &mut trial_events);
            let traded: u32 = trial_events
                .iter()
                .map(|event| if let Event::Fill(fill) = event { fill.lots.0 } else { 0 })
                .sum();
            if traded < order.quantity {
                cancel_incoming(&mut order, CancelReason::ImmediateOrCancel, out);
                return;
            }
        }
        self.take_liquidity(&mut order, out);
        if order.leaves == 0 {
            return;
        }
        if new.time_in_force.rests() {
            order.visible = Order::shown(display, order.leaves);
            self.push_back(order);
        } else {
            cancel_incoming(&mut order, CancelReason::ImmediateOrCancel, out);
        }
    }

    fn check_new(&self, new: &NewOrder, now: Timestamp) -> Result<Ticks, Reject> {
        if self.find(new.order_id).is_some() {
            return Err(Reject::DuplicateOrderId);
        }
        let market = new.order_type == OrderType::Market;
        let rests = new.time_in_force.rests();
        let unsupported = |what| Err(Reject::Unsupported { what });
        if market && rests {
            return unsupported("market orders must be IOC or FOK");
        }
        if market && new.post_only {
            return unsupported("a post-only order must be a limit order");
        }
        if new.post_only && !rests {
            return unsupported("a post-only order must be allowed to rest (not IOC or FOK)");
        }
        if new.display.is_some() && (market || !rests) {
            return unsupported(
                "an iceberg must be a limit order allowed to rest (not IOC or FOK)",
            );
        }
        self.check_quantity(new.quantity, new.display)?;
        if let TimeInForce::GoodTillDate(expiry) = new.time_in_force
            && expiry <= now
        {
            return Err(Reject::ExpiryNotInFuture { expiry, now });
        }
        let limit = match new.order_type {
            OrderType::Limit { price } => self.check_band(price)?,
            OrderType::Market => self.protection(new.side),
        };
        if rests && self.count() >= self.orders_max {
            return Err(Reject::BookFull { orders_max: self.orders_max as u32 });
        }
        if new.post_only {
            self.check_post_only(new.side, limit)?;
        }
        Ok(limit)
    }

    fn check_quantity(&self, quantity: Lots, display: Option<Lots>) -> Result<(), Reject> {
        if quantity.0 == 0 {
            return Err(Reject::QuantityNotWholeLots { quantity: 0.into() });
        }
        if quantity.0 > self.max_lots {
            return Err(Reject::QuantityAboveMax { lots: quantity, max: Lots(self.max_lots) });
        }
        if let Some(display) = display
            && (display.0 == 0 || display > quantity)
        {
            return Err(Reject::DisplayInvalid { display, quantity });
        }
        Ok(())
    }

    fn check_band(&self, price: Ticks) -> Result<Ticks, Reject> {
        if price < self.band.low || price > self.band.high {
            return Err(Reject::PriceOutsideBand {
                price,
                low: self.band.low,
                high: self.band.high,
            });
        }
        Ok(price)
    }

    fn check_post_only(&self, side: Side, price: Ticks) -> Result<(), Reject> {
        if let Some(best) = self.best_price(side.opposite()) {
            let crosses = match side {
                Side::Buy => best <= price.0,
                Side::Sell => best >= price.0,
            };
            if crosses {
                return Err(Reject::PostOnlyWouldCross { price, opposite: Ticks(best) });
            }
        }
        Ok(())
    }

    fn protection(&self, side: Side) -> Ticks {
        let price = match (side, self.best_price(side.opposite())) {
            (Side::Buy, None) => self.band.high.0,
            (Side::Sell, None) => self.band.low.0,
            (Side::Buy, Some(best)) => best + best * 2 / 100,
            (Side::Sell, Some(best)) => best - best * 2 / 100,
        };
        Ticks(price.clamp(self.band.low.0, self.band.high.0))
    }

    /// Matches `taker` against the opposite side, one resting order at a time.
    fn take_liquidity(&mut self, taker: &mut Order, out: &mut Vec<Event>) {
        while taker.leaves > 0 {
            let Some(best) = self.best_price(taker.side.opposite()) else { return };
            let crosses = match taker.side {
                Side::Buy => best <= taker.price.0,
                Side::Sell => best >= taker.price.0,
            };
            if !crosses {
                return;
            }
            let maker_side = taker.side.opposite();
            let mut maker = {
                let queue = self.side(maker_side).get_mut(&best).expect("best level");
                queue.pop_front().expect("levels are never empty")
            };
            if maker.owner.firm == taker.owner.firm {
                self.self_match(taker, maker, out);
                continue;
            }
            let lots = taker.leaves.min(maker.visible);
            maker.leaves -= lots;
            maker.visible -= lots;
            taker.leaves -= lots;
            self.trade_id += 1;
            out.push(Event::Fill(Fill {
                trade_id: TradeId(self.trade_id),
                price: maker.price,
                lots: Lots(lots),
                taker_side: taker.side,
                maker: party(&maker),
                taker: party(taker),
                auction: false,
            }));
            if maker.leaves == 0 {
                self.drop_empty_level(maker_side, best);
            } else if maker.visible == 0 {
                maker.visible = Order::shown(maker.display, maker.leaves);
                self.push_back(maker);
            } else {
                self.side(maker_side).get_mut(&best).expect("level").push_front(maker);
            }
        }
    }

    fn drop_empty_level(&mut self, side: Side, price: i64) {
        if self.side(side).get(&price).is_some_and(VecDeque::is_empty) {
            self.side(side).remove(&price);
        }
    }

    /// Self-trade prevention with `maker` already taken off the front of its queue.
    fn self_match(&mut self, taker: &mut Order, mut maker: Order, out: &mut Vec<Event>) {
        let price = maker.price.0;
        let side = maker.side;
        let mode = taker.self_match;
        if mode == SelfMatchMode::Decrement {
            let lots = taker.leaves.min(maker.leaves);
            if lots == maker.leaves {
                cancel_incoming(&mut maker, CancelReason::SelfMatch, out);
                self.drop_empty_level(side, price);
            } else {
                maker.leaves -= lots;
                maker.quantity -= lots;
                maker.visible = maker.visible.min(maker.leaves);
                out.push(Event::Reduced(Reduced { order: maker.state(), reduced: Lots(lots) }));
                self.side(side).get_mut(&price).expect("level").push_front(maker);
            }
            if lots == taker.leaves {
                cancel_incoming(taker, CancelReason::SelfMatch, out);
            } else {
                taker.leaves -= lots;
                taker.quantity -= lots;
                out.push(Event::Reduced(Reduced { order: taker.state(), reduced: Lots(lots) }));
            }
            return;
        }
        if mode == SelfMatchMode::CancelIncoming {
            self.side(side).get_mut(&price).expect("level").push_front(maker);
        } else {
            cancel_incoming(&mut maker, CancelReason::SelfMatch, out);
            self.drop_empty_level(side, price);
        }
        if mode != SelfMatchMode::CancelResting {
            cancel_incoming(taker, CancelReason::SelfMatch, out);
        }
    }

    pub(crate) fn cancel(&mut self, request: &Cancel, out: &mut Vec<Event>) {
        match self.find(request.order_id) {
            Some(order) if order.owner.firm == request.requester => {
                let mut order = self.take(request.order_id);
                cancel_incoming(&mut order, CancelReason::Request, out);
            }
            _ => out.push(Event::Rejected(Rejected {
                order_id: request.order_id,
                request: Request::Cancel,
                reject: Reject::UnknownOrder,
            })),
        }
    }

    pub(crate) fn replace(&mut self, request: &Replace, out: &mut Vec<Event>) {
        let reject = |reject| {
            Event::Rejected(Rejected {
                order_id: request.order_id,
                request: Request::Replace,
                reject,
            })
        };
        let order = match self.find(request.order_id) {
            Some(order) if order.owner.firm == request.requester => order.clone(),
            _ => return out.push(reject(Reject::UnknownOrder)),
        };
        let checked = self.check_quantity(request.quantity, request.display).and_then(|()| {
            self.check_band(request.price)?;
            if order.post_only { self.check_post_only(order.side, request.price) } else { Ok(()) }
        });
        if let Err(cause) = checked {
            return out.push(reject(cause));
        }
        let filled = order.quantity - order.leaves;
        let display = request.display.map_or(order.display, |d| d.0);
        if request.quantity.0 <= filled {
            self.take(request.order_id);
            let state = OrderState {
                price: request.price,
                quantity: Lots(filled),
                filled: Lots(filled),
                leaves: Lots(0),
                ..order.state()
            };
            return out.push(Event::Replaced(Replaced { order: state, priority_kept: false }));
        }
        let keeps = request.price == order.price
            && request.quantity.0 <= order.quantity
            && display == order.display;
        if keeps {
            let queue = self.side(order.side).get_mut(&order.price.0).expect("level");
            let resting = queue.iter_mut().find(|o| o.order_id == order.order_id).expect("order");
            resting.quantity = request.quantity.0;
            resting.leaves = request.quantity.0 - filled;
            resting.visible = resting.visible.min(resting.leaves);
            let state = resting.state();
            return out.push(Event::Replaced(Replaced { order: state, priority_kept: true }));
        }
        let mut order = self.take(request.order_id);
        order.quantity = request.quantity.0;
        order.leaves = request.quantity.0 - filled;
        order.price = request.price;
        order.display = display;
        out.push(Event::Replaced(Replaced { order: order.state(), priority_kept: false }));
        self.take_liquidity(&mut order, out);
        if order.leaves > 0 {
            order.visible = Order::shown(display, order.leaves);
            self.push_back(order);
        }
    }

    /// Removes the orders `select` picks, bids best first then asks, each queue in order.
    fn sweep(
        &mut self,
        select: impl Fn(&Order) -> bool,
        report: impl Fn(&Order) -> Event,
        out: &mut Vec<Event>,
    ) {
        for side in [Side::Buy, Side::Sell] {
            let prices: Vec<i64> = match side {
                Side::Buy => self.bids.keys().rev().copied().collect(),
                Side::Sell => self.asks.keys().copied().collect(),
            };
            for price in prices {
                let queue = self.side(side).get_mut(&price).expect("level");
                let (gone, kept): (VecDeque<Order>, VecDeque<Order>) =
                    queue.drain(..).partition(|o| select(o));
                *queue = kept;
                out.extend(gone.iter().map(&report));
                self.drop_empty_level(side, price);
            }
        }
    }

    pub(crate) fn mass_cancel(
        &mut self,
        filter: &MassCancel,
        reason: CancelReason,
        out: &mut Vec<Event>,
    ) {
        self.sweep(
            |o| filter.selects(o.owner, o.side, o.time_in_force),
            |o| {
                let order = OrderState { leaves: Lots(0), ..o.state() };
                Event::Cancelled(Cancelled { order, cancelled: Lots(o.leaves), reason })
            },
            out,
        );
    }

    pub(crate) fn expire(&mut self, now: Timestamp, end_of_day: bool, out: &mut Vec<Event>) {
        self.sweep(
            |o| match o.time_in_force {
                TimeInForce::Day => end_of_day,
                _ => o.expiry <= now,
            },
            |o| {
                let order = OrderState { leaves: Lots(0), ..o.state() };
                Event::Expired(Expired { order, expired: Lots(o.leaves) })
            },
            out,
        );
    }
}

fn party(order: &Order) -> Party {
    Party {
        order_id: order.order_id,
        owner: order.owner,
        filled: Lots(order.quantity - order.leaves),
        leaves: Lots(order.leaves),
    }
}

/// Reports the cancellation of what is left of `order` and leaves it with nothing.
fn cancel_incoming(order: &mut Order, reason: CancelReason, out: &mut Vec<Event>) {
    let state = OrderState { leaves: Lots(0), ..order.state() };
    out.push(Event::Cancelled(Cancelled { order: state, cancelled: Lots(order.leaves), reason }));
    order.leaves = 0;
}
