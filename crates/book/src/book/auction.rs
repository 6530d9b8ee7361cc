//! Call auctions: the indicative uncross price of a collecting book, the uncross itself, and
//! the re-basing of the band on a new session's reference price (market model §5).
//!
//! # Uncross price
//! Among the candidate prices, the uncross price is the one with (1) the maximum executable
//! volume `min(demand, supply)`; then (2) the minimum surplus `|demand − supply|`; then (3)
//! market pressure: if every remaining candidate has its surplus on the buy side, the highest,
//! if every one on the sell side, the lowest; else (4) the candidate nearest the reference
//! price (the last trade, else the previous close), the higher of two equally near. Market
//! orders count on their side at every price.
//!
//! The candidates are the prices at which the book clears: where every order priced better
//! than the price (market orders included) fills in full, because the orders resting at the
//! price itself absorb the whole surplus. That is every price where demand equals supply, and
//! a level's price whose own orders cover the surplus; a price between levels with a surplus
//! would leave the orders of the level just beyond it, better than the price, short. So an
//! uncross clears between two levels when that leaves nobody over, and orders that cannot
//! trade at all do not pull the price away from the reference. Such prices always include
//! one of maximum volume, unless market orders alone are left over at every price; then the
//! candidates are the levels' prices at which some limit order trades (a limit order sets the
//! price it trades at), and if no limit order trades at any, the reference price alone:
//! market orders trading only with each other trade at the reference (clamped to the band),
//! never at a band edge that market pressure alone would pick. Demand and supply are constant
//! between levels, so the band is scanned as runs of prices ([`Candidate`]): one per level and
//! one per gap.
//!
//! # Allocation
//! At the uncross price every order on the short side fills in full; on the surplus side,
//! orders fill in priority order — market orders first, then better prices, then time — so at
//! most one order per side is filled in part. Icebergs take part with their full size; one
//! whose shown slice traded away shows its next slice at the back of its level afterwards.
//! Self-trade prevention does not apply. Market orders left over are cancelled.
//!
//! # Performance
//! `O(levels + orders)` with a few short-lived vectors: auctions are a few per day.

use super::{Book, Mode, finished};
use crate::event::{CancelReason, Cancelled, Event, Fill, Party};
use crate::instrument::{Band, InstrumentError};
use crate::ladder::Ladder;
use crate::slab::NIL;
use crate::types::{Lots, Side, Ticks, TradeId};

/// The outcome an uncross would have (or had).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auction {
    /// The uncross price.
    pub price: Ticks,
    /// Lots that trade at it.
    pub volume: u64,
    /// Demand minus supply at it: positive when buyers are left over, negative for sellers.
    pub surplus: i64,
}

/// What an uncross did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uncrossed {
    /// The price, volume and surplus.
    pub auction: Auction,
    /// Orders that traded.
    pub orders_filled: u32,
}

/// A run of adjacent prices at which demand and supply are the same: a level's price alone,
/// or the prices between two neighbouring levels (or between a level and an end of the band),
/// where no order rests.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    low: Ticks,
    high: Ticks,
    /// Lots bid at or above every price of the run (market orders included).
    demand: u64,
    /// Lots offered at or below every price of the run (market orders included).
    supply: u64,
    /// Whether the run is a level's price.
    level: bool,
    /// Whether every order priced better than the run (market orders included) fills in full
    /// there: the orders resting at the price absorb the whole surplus.
    clears: bool,
}

impl Candidate {
    /// A run; `at` holds the lots bid and offered at a level's price, `None` for a gap.
    fn new(low: Ticks, high: Ticks, demand: u64, supply: u64, at: Option<(u64, u64)>) -> Self {
        let (bid_at, ask_at) = at.unwrap_or((0, 0));
        let volume = demand.min(supply);
        let clears = demand - bid_at <= volume && supply - ask_at <= volume;
        Candidate { low, high, demand, supply, level: at.is_some(), clears }
    }

    fn volume(&self) -> u64 {
        self.demand.min(self.supply)
    }

    fn surplus(&self) -> i64 {
        self.demand as i64 - self.supply as i64
    }

    /// The price of the run nearest `reference`, and how far it is.
    fn nearest(&self, reference: Ticks) -> (Ticks, u64) {
        let price = reference.clamp(self.low, self.high);
        (price, (price.0 - reference.0).unsigned_abs())
    }
}

impl Book {
    /// Returns what an uncross would do now: the price, volume and surplus, or `None` when
    /// nothing would trade.
    #[must_use]
    pub fn indicative(&self) -> Option<Auction> {
        let candidates = self.candidates();
        let volume = candidates.iter().map(Candidate::volume).max().unwrap_or(0);
        if volume == 0 {
            return None;
        }
        let best: Vec<Candidate> =
            candidates.into_iter().filter(|candidate| candidate.volume() == volume).collect();
        let surplus_min = best.iter().map(|c| c.surplus().unsigned_abs()).min().unwrap_or(0);
        let best: Vec<Candidate> =
            best.into_iter().filter(|c| c.surplus().unsigned_abs() == surplus_min).collect();
        let (first, last) = (best[0], best[best.len() - 1]);
        let (price, surplus) = if best.iter().all(|c| c.surplus() > 0) {
            (last.high, last.surplus())
        } else if best.iter().all(|c| c.surplus() < 0) {
            (first.low, first.surplus())
        } else {
            let reference = self.last_trade_price.unwrap_or(self.reference);
            // Ascending runs: the last of the nearest is the higher of two equally near.
            let mut nearest = (first.nearest(reference), first.surplus());
            for candidate in &best[1..] {
                let (price, distance) = candidate.nearest(reference);
                if distance <= nearest.0.1 {
                    nearest = ((price, distance), candidate.surplus());
                }
            }
            (nearest.0.0, nearest.1)
        };
        Some(Auction { price, volume, surplus })
    }

    /// Total leaves of one side's resting market orders.
    fn market_lots(&self, side: Side) -> u64 {
        let mut lots = 0;
        let mut slot = self.ladder(side).market().head;
        while slot != NIL {
            lots += u64::from(self.orders[slot].leaves);
            slot = self.orders[slot].next;
        }
        lots
    }

    /// Leaves (hidden lots included) per level of one side, best first.
    fn level_totals(&self, side: Side) -> Vec<(Ticks, u64)> {
        let ladder = self.ladder(side);
        let mut totals = Vec::new();
        let mut next = ladder.best();
        while let Some(index) = next {
            let mut lots = 0;
            let mut slot = ladder.level(index).head;
            while slot != NIL {
                lots += u64::from(self.orders[slot].leaves);
                slot = self.orders[slot].next;
            }
            totals.push((ladder.price(index), lots));
            next = ladder.next_from(index + 1);
        }
        totals
    }

    /// The candidate prices as runs of equal demand and supply, ascending (see the module
    /// documentation): the runs where the book clears; if there is none (market orders are
    /// left over at every price), the levels' prices at which limit orders trade; if there is
    /// none either, the reference price.
    fn candidates(&self) -> Vec<Candidate> {
        let runs = self.runs();
        if runs.iter().any(|run| run.clears) {
            return runs.into_iter().filter(|run| run.clears).collect();
        }
        let markets = self.market_lots(Side::Buy).min(self.market_lots(Side::Sell));
        let limits_trade = |run: &Candidate| run.level && run.volume() > markets;
        if runs.iter().any(limits_trade) {
            return runs.into_iter().filter(limits_trade).collect();
        }
        let reference = self.band.clamp(self.last_trade_price.unwrap_or(self.reference));
        let at = runs.into_iter().find(|run| run.low <= reference && reference <= run.high);
        at.map(|run| Candidate { low: reference, high: reference, ..run }).into_iter().collect()
    }

    /// Every price of the band as runs of equal demand and supply, ascending: one per level
    /// and one per gap between levels (or between a level and an end of the band).
    fn runs(&self) -> Vec<Candidate> {
        let bids = self.level_totals(Side::Buy);
        let asks = self.level_totals(Side::Sell);
        let mut prices: Vec<Ticks> = bids.iter().chain(&asks).map(|(price, _)| *price).collect();
        prices.sort_unstable();
        prices.dedup();
        let mut demand =
            self.market_lots(Side::Buy) + bids.iter().map(|(_, lots)| lots).sum::<u64>();
        let mut supply = self.market_lots(Side::Sell);
        let (mut bid, mut ask) = (bids.len(), 0);
        let mut runs = Vec::with_capacity(2 * prices.len() + 1);
        let mut low = self.band.low;
        for price in prices {
            // Bids below `price` are no demand at it or between it and the level before.
            while bid > 0 && bids[bid - 1].0 < price {
                demand -= bids[bid - 1].1;
                bid -= 1;
            }
            if low < price {
                runs.push(Candidate::new(low, Ticks(price.0 - 1), demand, supply, None));
            }
            while ask < asks.len() && asks[ask].0 <= price {
                supply += asks[ask].1;
                ask += 1;
            }
            // The nearest bid level at or above it, and the nearest ask level at or below it.
            let bid_at = bid.checked_sub(1).map(|i| bids[i]).filter(|level| level.0 == price);
            let ask_at = ask.checked_sub(1).map(|i| asks[i]).filter(|level| level.0 == price);
            let at = (bid_at.map_or(0, |level| level.1), ask_at.map_or(0, |level| level.1));
            runs.push(Candidate::new(price, price, demand, supply, Some(at)));
            low = Ticks(price.0 + 1);
        }
        if low <= self.band.high {
            let demand = self.market_lots(Side::Buy);
            runs.push(Candidate::new(low, self.band.high, demand, supply, None));
        }
        runs
    }

    /// Ends a call: executes every order that crosses at the uncross price, cancels the market
    /// orders left over, and returns the book to continuous trading. Reports fills (marked
    /// `auction`), cancels and level changes; returns what traded, or `None` if nothing did.
    ///
    /// # Panics
    /// Panics only if a book invariant is broken (a bug).
    pub fn uncross(&mut self, sink: &mut impl crate::event::Sink) -> Option<Uncrossed> {
        let outcome = self.indicative().map(|auction| {
            let orders_filled = self.execute_auction(auction, sink);
            Uncrossed { auction, orders_filled }
        });
        for side in [Side::Buy, Side::Sell] {
            while self.ladder(side).market().head != NIL {
                let slot = self.ladder(side).market().head;
                self.cancel_slot(slot, CancelReason::ImmediateOrCancel, sink);
            }
        }
        self.mode = Mode::Continuous;
        if let (Some(bid), Some(ask)) = (self.best(Side::Buy), self.best(Side::Sell)) {
            assert!(bid.price < ask.price, "Invariant: an uncross leaves the book uncrossed");
        }
        outcome
    }

    /// The orders of `side` that trade at `price`, in allocation priority, with their lots,
    /// up to `volume` lots in total.
    fn allocate(&self, side: Side, price: Ticks, volume: u64) -> Vec<(u32, u32)> {
        let ladder = self.ladder(side);
        let mut left = volume;
        let mut allocation = Vec::new();
        let mut queue_head = ladder.market().head;
        let mut next_level = ladder.best();
        loop {
            let mut slot = queue_head;
            while slot != NIL && left > 0 {
                let lots = u64::from(self.orders[slot].leaves).min(left);
                allocation.push((slot, lots as u32));
                left -= lots;
                slot = self.orders[slot].next;
            }
            let Some(index) = next_level.filter(|_| left > 0) else { break };
            if !side.accepts(ladder.price(index), price) {
                break;
            }
            queue_head = ladder.level(index).head;
            next_level = ladder.next_from(index + 1);
        }
        assert_eq!(left, 0, "Invariant: the uncross volume is available on both sides");
        allocation
    }

    /// Trades the allocations of both sides at the auction price; returns the orders filled.
    fn execute_auction(&mut self, auction: Auction, sink: &mut impl crate::event::Sink) -> u32 {
        let buys = self.allocate(Side::Buy, auction.price, auction.volume);
        let sells = self.allocate(Side::Sell, auction.price, auction.volume);
        let (mut buy, mut sell) = (0, 0);
        let (mut buy_left, mut sell_left) = (buys[0].1, sells[0].1);
        while buy < buys.len() && sell < sells.len() {
            let lots = buy_left.min(sell_left);
            self.auction_fill(buys[buy].0, sells[sell].0, auction.price, lots, sink);
            buy_left -= lots;
            sell_left -= lots;
            if buy_left == 0 {
                buy += 1;
                buy_left = buys.get(buy).map_or(0, |b| b.1);
            }
            if sell_left == 0 {
                sell += 1;
                sell_left = sells.get(sell).map_or(0, |s| s.1);
            }
        }
        self.last_trade_price = Some(auction.price);
        let mut touched = Vec::new();
        for &(slot, traded) in buys.iter().chain(&sells) {
            if let Some(level) = self.settle_after_auction(slot, traded) {
                touched.push(level);
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for (side, index) in touched {
            self.emit_level(side, index, sink);
        }
        (buys.len() + sells.len()) as u32
    }

    /// One auction trade between a buy and a sell.
    fn auction_fill(
        &mut self,
        buy: u32,
        sell: u32,
        price: Ticks,
        lots: u32,
        sink: &mut impl crate::event::Sink,
    ) {
        let party = |book: &mut Book, slot: u32| {
            let order = &mut book.orders[slot];
            order.leaves -= lots;
            Party {
                order_id: order.order_id,
                owner: order.owner,
                filled: Lots(order.filled()),
                leaves: Lots(order.leaves),
            }
        };
        let taker = party(self, buy);
        let maker = party(self, sell);
        self.trade_id_last += 1;
        let trade_id = TradeId(self.trade_id_last);
        let fill = Fill {
            trade_id,
            price,
            lots: Lots(lots),
            taker_side: Side::Buy,
            maker,
            taker,
            auction: true,
        };
        sink.event(Event::Fill(fill));
    }

    /// After the auction trades (`traded` lots of the order in `slot`): removes a filled
    /// order, or shows what is left of it. An order keeps its place, but an iceberg whose
    /// shown slice was used up, which shows its next slice at the back of its level, as in
    /// continuous trading. Returns its level, if it rests at one.
    fn settle_after_auction(&mut self, slot: u32, traded: u32) -> Option<(Side, u32)> {
        let order = self.orders[slot];
        if order.market {
            if order.leaves == 0 {
                self.remove_slot(slot);
            }
            return None;
        }
        let index = self.ladder(order.side).index(order.price);
        if order.leaves == 0 {
            // Its shown lots are still counted in its level: removing it uncounts them.
            self.remove_slot(slot);
            return Some((order.side, index));
        }
        let slice_used_up = order.display > 0 && traded >= order.visible;
        let visible = if order.display == 0 {
            order.leaves
        } else if slice_used_up {
            order.display.min(order.leaves)
        } else {
            order.visible - traded
        };
        self.orders[slot].visible = visible;
        let ladder = match order.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        ladder.sub_lots(index, u64::from(order.visible));
        ladder.add_lots(index, u64::from(visible));
        if slice_used_up {
            ladder.move_to_back(&mut self.orders, index, slot);
        }
        Some((order.side, index))
    }

    /// Re-bases the band on `reference` (a new session's previous close): orders outside the
    /// new band are cancelled (reason [`CancelReason::OutsideBand`]), the others keep their
    /// places. Allocates the new ladders.
    ///
    /// # Errors
    /// Returns the [`InstrumentError`] of a band that cannot be built (then nothing changes).
    pub fn rebase(
        &mut self,
        reference: Ticks,
        sink: &mut impl crate::event::Sink,
    ) -> Result<Band, InstrumentError> {
        let band = self.instrument.band_around(reference)?;
        self.sweep(
            |order| !order.market && !band.contains(order.price),
            |order| {
                let cancelled = Lots(order.leaves);
                let reason = CancelReason::OutsideBand;
                Event::Cancelled(Cancelled { order: finished(order), cancelled, reason })
            },
            sink,
        );
        let mut queues = [Vec::new(), Vec::new()];
        for (side, queue) in [Side::Buy, Side::Sell].into_iter().zip(&mut queues) {
            queue.extend(self.orders(side).filter_map(|order| {
                self.index.get(order.order_id, |slot| self.orders[slot].order_id)
            }));
        }
        self.bids = Ladder::new(Side::Buy, band);
        self.asks = Ladder::new(Side::Sell, band);
        self.band = band;
        self.reference = reference;
        for slot in queues.into_iter().flatten() {
            let order = self.orders[slot];
            let ladder = match order.side {
                Side::Buy => &mut self.bids,
                Side::Sell => &mut self.asks,
            };
            if order.market {
                ladder.push_back_market(&mut self.orders, slot);
            } else {
                let index = ladder.index(order.price);
                ladder.push_back(&mut self.orders, index, slot);
            }
        }
        Ok(band)
    }
}
