//! Market data: the dispatcher's picture of every book (levels and the last trade), built from
//! the engine's level outputs, and the subscriptions of sessions.
//!
//! Only the dispatcher thread touches it, in output order: a snapshot (W) is built from the
//! picture at the point of the stream where the request is handled, and every incremental
//! refresh (X) after it reflects a later change, so a subscriber's picture is always exact.
//!
//! A subscriber sees the sides it asked for (269 = 0 bids, 1 offers), each cut to its
//! MarketDepth (264) best levels: a change outside them is not sent; a new level inside pushes
//! the last one out (a delete in the same X), and a level leaving lets the next one in (a new
//! entry in the same X), so W + X is always the top of the book.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};

use birzha_book::{Side, Ticks};
use birzha_engine::{Indicative, InstrumentId, Level, Phase, PhaseChange, Registry, Trade};
use birzha_fix::{Body, WriteFields};

use super::report::put_price;

/// The most subscriptions one session may hold.
pub(crate) const SUBSCRIPTIONS_PER_SESSION_MAX: usize = 64;

/// One book as market data sees it: aggregate lots per price.
#[derive(Clone, Debug, Default)]
struct Picture {
    bids: BTreeMap<Ticks, u64>,
    asks: BTreeMap<Ticks, u64>,
    last_trade: Option<(Ticks, u32)>,
    phase: Option<Phase>,
    /// The indicative uncross subscribers were last shown during a call: its MDEntryType
    /// (4 or 5), price and volume.
    indicative: Option<(u8, Ticks, u64)>,
}

/// What a subscriber wants of one instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// The subscriber's CompID.
    pub(crate) comp_id: String,
    /// Its MDReqID (262).
    pub(crate) request_id: String,
    /// Bids (269 = 0).
    pub(crate) bids: bool,
    /// Offers (269 = 1).
    pub(crate) offers: bool,
    /// Trades (269 = 2).
    pub(crate) trades: bool,
    /// Levels per side; 0 = all.
    pub(crate) depth: usize,
}

impl Subscription {
    /// Whether it wants the levels of `side`.
    fn wants(&self, side: Side) -> bool {
        match side {
            Side::Buy => self.bids,
            Side::Sell => self.offers,
        }
    }

    /// Whether it wants any book levels (and so the indicative uncross of a call).
    fn book(&self) -> bool {
        self.bids || self.offers
    }
}

/// One entry of an incremental refresh: MDUpdateAction, MDEntryType, price, size.
type Entry = (u8, u8, Ticks, u64);

/// Every book's picture and every subscription.
#[derive(Debug)]
pub(crate) struct MarketData {
    pictures: Vec<Picture>,
    subscriptions: Vec<Vec<Subscription>>,
}

/// A message to one session.
pub(crate) type Message = (String, &'static [u8], Body);

impl MarketData {
    pub(crate) fn new(instruments: usize) -> MarketData {
        MarketData {
            pictures: vec![Picture::default(); instruments],
            subscriptions: vec![Vec::new(); instruments],
        }
    }

    /// Applies a level change and returns the incremental refreshes for subscribers.
    pub(crate) fn level(&mut self, level: &Level, registry: &Registry, out: &mut Vec<Message>) {
        let index = level.instrument.0 as usize;
        let picture = &mut self.pictures[index];
        let levels = match level.side {
            Side::Buy => &mut picture.bids,
            Side::Sell => &mut picture.asks,
        };
        let action = match (levels.contains_key(&level.price), level.orders > 0) {
            (_, false) => {
                levels.remove(&level.price);
                b'2'
            }
            (false, true) => {
                levels.insert(level.price, level.lots);
                b'0'
            }
            (true, true) => {
                levels.insert(level.price, level.lots);
                b'1'
            }
        };
        let levels = match level.side {
            Side::Buy => &self.pictures[index].bids,
            Side::Sell => &self.pictures[index].asks,
        };
        let kind = entry_type(level.side);
        let symbol = registry.instruments[index].symbol();
        let entry = (action, kind, level.price, level.lots);
        let instrument = &registry.instruments[index];
        for subscription in self.subscriptions[index].iter().filter(|s| s.wants(level.side)) {
            if subscription.depth == 0 {
                out.push(refresh(subscription, symbol, instrument, &[entry]));
            } else if let Some((entries, count)) =
                within_depth(levels, level.side, entry, subscription.depth)
            {
                out.push(refresh(subscription, symbol, instrument, &entries[..count]));
            }
        }
    }

    /// An incremental refresh of one book entry (MDUpdateAction, MDEntryType, price, size)
    /// for every book subscriber of an instrument.
    fn publish_book_entry(
        &self,
        index: usize,
        entry: Entry,
        registry: &Registry,
        out: &mut Vec<Message>,
    ) {
        let instrument = &registry.instruments[index];
        for subscription in self.subscriptions[index].iter().filter(|s| s.book()) {
            out.push(refresh(subscription, instrument.symbol(), instrument, &[entry]));
        }
    }

    /// Records a trade and returns the refreshes for subscribers.
    pub(crate) fn trade(&mut self, trade: &Trade, registry: &Registry, out: &mut Vec<Message>) {
        let index = trade.instrument.0 as usize;
        self.pictures[index].last_trade = Some((trade.price, trade.lots.0));
        let instrument = &registry.instruments[index];
        for subscription in self.subscriptions[index].iter().filter(|s| s.trades) {
            let mut body = Body::new();
            body.str(262, subscription.request_id.as_bytes()).uint(268, 1);
            body.char(279, b'0').char(269, b'2');
            body.str(55, instrument.symbol().as_bytes());
            put_price(&mut body, 270, instrument, trade.price);
            body.uint(271, u64::from(trade.lots.0));
            out.push((subscription.comp_id.clone(), b"X", body));
        }
    }

    /// Records a phase change and returns TradingSessionStatus (h) for subscribers.
    pub(crate) fn phase(
        &mut self,
        change: &PhaseChange,
        registry: &Registry,
        out: &mut Vec<Message>,
    ) {
        let index = change.instrument.0 as usize;
        self.pictures[index].phase = Some(change.to);
        if !matches!(change.to, Phase::PreOpen | Phase::VolatilityAuction | Phase::ClosingCall) {
            self.withdraw_indicative(index, registry, out);
        }
        let symbol = registry.instruments[index].symbol();
        for subscription in &self.subscriptions[index] {
            out.push((subscription.comp_id.clone(), b"h", session_status(symbol, change.to)));
        }
    }

    /// Publishes the indicative uncross of an instrument in a call to its book subscribers:
    /// MDEntryType 4 (opening price) in an opening or volatility call, 5 (closing price) in
    /// the closing call, with the uncross volume as the size. (FIX 4.4 has no "auction
    /// clearing price" entry type; see docs/fix.md.)
    pub(crate) fn indicative(
        &mut self,
        indicative: &Indicative,
        registry: &Registry,
        out: &mut Vec<Message>,
    ) {
        let index = indicative.instrument.0 as usize;
        let Some(auction) = indicative.auction else {
            // Nothing would trade any more: the indicative shown is withdrawn.
            return self.withdraw_indicative(index, registry, out);
        };
        let entry_type =
            if self.pictures[index].phase == Some(Phase::ClosingCall) { b'5' } else { b'4' };
        let shown = (entry_type, auction.price, auction.volume);
        let action = match self.pictures[index].indicative.replace(shown) {
            Some((kind, price, _)) if (kind, price) == (entry_type, auction.price) => b'1',
            Some((kind, price, volume)) => {
                // Another price is another entry: the old one goes first.
                self.publish_book_entry(index, (b'2', kind, price, volume), registry, out);
                b'0'
            }
            None => b'0',
        };
        let entry = (action, entry_type, auction.price, auction.volume);
        self.publish_book_entry(index, entry, registry, out);
    }

    /// Withdraws the indicative uncross shown to subscribers, if any (MDUpdateAction 2).
    fn withdraw_indicative(&mut self, index: usize, registry: &Registry, out: &mut Vec<Message>) {
        if let Some((kind, price, volume)) = self.pictures[index].indicative.take() {
            self.publish_book_entry(index, (b'2', kind, price, volume), registry, out);
        }
    }

    /// Subscribes (or, for a snapshot only, just answers) and returns the snapshot (W).
    pub(crate) fn subscribe(
        &mut self,
        instrument: InstrumentId,
        subscription: Subscription,
        keep: bool,
        registry: &Registry,
        out: &mut Vec<Message>,
    ) {
        let index = instrument.0 as usize;
        let picture = &self.pictures[index];
        let spec = &registry.instruments[index];
        let depth = if subscription.depth == 0 { usize::MAX } else { subscription.depth };
        let mut entries = Body::new();
        let mut count = 0;
        if subscription.bids {
            for (price, lots) in picture.bids.iter().rev().take(depth) {
                entries.char(269, b'0');
                put_price(&mut entries, 270, spec, *price);
                entries.uint(271, *lots);
                count += 1;
            }
        }
        if subscription.offers {
            for (price, lots) in picture.asks.iter().take(depth) {
                entries.char(269, b'1');
                put_price(&mut entries, 270, spec, *price);
                entries.uint(271, *lots);
                count += 1;
            }
        }
        if subscription.book()
            && let Some((kind, price, volume)) = picture.indicative
        {
            entries.char(269, kind);
            put_price(&mut entries, 270, spec, price);
            entries.uint(271, volume);
            count += 1;
        }
        if subscription.trades
            && let Some((price, lots)) = picture.last_trade
        {
            entries.char(269, b'2');
            put_price(&mut entries, 270, spec, price);
            entries.uint(271, u64::from(lots));
            count += 1;
        }
        let mut body = Body::new();
        body.str(262, subscription.request_id.as_bytes()).str(55, spec.symbol().as_bytes());
        body.uint(268, count).raw(entries.as_bytes());
        out.push((subscription.comp_id.clone(), b"W", body));
        if keep {
            let subscribers = &mut self.subscriptions[index];
            subscribers.retain(|s| {
                s.comp_id != subscription.comp_id || s.request_id != subscription.request_id
            });
            subscribers.push(subscription);
        }
    }

    /// Ends the subscriptions of `comp_id` with `request_id` (all of them if `None`).
    pub(crate) fn unsubscribe(&mut self, comp_id: &str, request_id: Option<&str>) {
        for subscribers in &mut self.subscriptions {
            subscribers.retain(|s| {
                s.comp_id != comp_id || request_id.is_some_and(|id| id != s.request_id)
            });
        }
    }

    /// How many subscriptions `comp_id` holds.
    pub(crate) fn subscriptions_of(&self, comp_id: &str) -> usize {
        self.subscriptions.iter().flatten().filter(|s| s.comp_id == comp_id).count()
    }
}

/// What a subscriber to the best `depth` levels of `side` must hear of `entry`, a change of
/// one level of it (`levels`, after the change): nothing if the level is outside the depth;
/// else the entry and, for a new level, the delete of the one it pushed out or, for a level
/// gone, the new entry of the one moving in. Returns the entries and how many.
fn within_depth(
    levels: &BTreeMap<Ticks, u64>,
    side: Side,
    entry: Entry,
    depth: usize,
) -> Option<([Entry; 2], usize)> {
    let (action, kind, price, _) = entry;
    if better_count(levels, side, price, depth) == depth {
        return None;
    }
    let edge = match action {
        b'0' => nth_best(levels, side, depth).map(|(p, lots)| (b'2', kind, p, lots)),
        b'2' => nth_best(levels, side, depth - 1).map(|(p, lots)| (b'0', kind, p, lots)),
        _ => None,
    };
    Some(edge.map_or(([entry, entry], 1), |edge| ([entry, edge], 2)))
}

/// How many levels of `side` are better than `price`, counted up to `limit`.
fn better_count(levels: &BTreeMap<Ticks, u64>, side: Side, price: Ticks, limit: usize) -> usize {
    match side {
        Side::Buy => levels.range((Excluded(price), Unbounded)).take(limit).count(),
        Side::Sell => levels.range(..price).take(limit).count(),
    }
}

/// The level of `side` with `rank` better levels, if the side has that many.
fn nth_best(levels: &BTreeMap<Ticks, u64>, side: Side, rank: usize) -> Option<(Ticks, u64)> {
    let level = match side {
        Side::Buy => levels.iter().rev().nth(rank),
        Side::Sell => levels.iter().nth(rank),
    };
    level.map(|(price, lots)| (*price, *lots))
}

/// An incremental refresh (X) of `entries` for one subscription.
fn refresh(
    subscription: &Subscription,
    symbol: &str,
    instrument: &birzha_book::Instrument,
    entries: &[Entry],
) -> Message {
    let mut body = Body::new();
    body.str(262, subscription.request_id.as_bytes()).uint(268, entries.len() as u64);
    for &(action, entry_type, price, size) in entries {
        body.char(279, action).char(269, entry_type);
        body.str(55, symbol.as_bytes());
        put_price(&mut body, 270, instrument, price);
        body.uint(271, size);
    }
    (subscription.comp_id.clone(), b"X", body)
}

fn entry_type(side: Side) -> u8 {
    match side {
        Side::Buy => b'0',
        Side::Sell => b'1',
    }
}

/// TradingSessionStatus (h): TradingSessionID (336) is the symbol, TradSesStatus (340) the
/// FIX status of the phase, Text (58) the phase's name.
pub(crate) fn session_status(symbol: &str, phase: Phase) -> Body {
    let status = match phase {
        Phase::Halted => 1,
        Phase::Continuous => 2,
        Phase::Closed | Phase::PostClose => 3,
        Phase::PreOpen | Phase::VolatilityAuction => 4,
        Phase::ClosingCall => 5,
    };
    let mut body = Body::new();
    body.str(336, symbol.as_bytes()).uint(340, status).str(58, phase.name().as_bytes());
    body
}

/// MarketDataRequestReject (Y).
pub(crate) fn request_reject(request_id: &str, reason: u8, text: &str) -> Body {
    let mut body = Body::new();
    body.str(262, request_id.as_bytes()).char(281, reason).str(58, text.as_bytes());
    body
}

/// SecurityList (y) of every instrument.
pub(crate) fn security_list(request_id: &str, symbol: Option<&str>, registry: &Registry) -> Body {
    let listed: Vec<&birzha_book::Instrument> = match symbol {
        None => registry.instruments.iter().collect(),
        Some(symbol) => {
            let id = registry.instrument(symbol);
            id.map(|id| &registry.instruments[id.0 as usize]).into_iter().collect()
        }
    };
    // SecurityRequestResult (560): 0 valid, 2 no instruments found.
    let result = if listed.is_empty() { 2 } else { 0 };
    let mut body = Body::new();
    body.str(320, request_id.as_bytes()).str(322, request_id.as_bytes()).uint(560, result);
    body.uint(146, listed.len() as u64);
    for instrument in listed {
        let spec = instrument.spec();
        let description = format!(
            "{}; unit {}; lot {} {}; tick {} {}",
            spec.description, spec.unit, spec.lot_size, spec.unit, spec.tick, spec.currency
        );
        // FIX44.xml's order: Instrument (55 … 231 … 107), then 15, then 561.
        body.str(55, spec.symbol.as_bytes());
        super::report::put_decimal(&mut body, 231, spec.lot_size);
        body.str(107, description.as_bytes()).str(15, spec.currency.as_bytes());
        body.uint(561, 1);
    }
    body
}
