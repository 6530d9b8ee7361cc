//! The uncross against a brute-force model of the market model's rule (§5) on seeded random
//! call books: every price of the band is scanned for demand and supply, the tie-breaks are
//! applied as the spec words them, and the allocation (market orders first, then better
//! prices, then time; icebergs with their full size) and what rests afterwards are compared
//! order by order after random submits, cancels and replaces with market orders and icebergs.
//! A failure names its seed.

use std::collections::BTreeMap;

use birzha_book::*;

use crate::util::*;

use Side::{Buy as B, Sell as S};

fn mkt(order_id: u64, firm: u32, side: Side, lots: u32) -> NewOrder {
    NewOrder {
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Day,
        ..limit(order_id, owner(firm, firm * 10), side, 6800, lots)
    }
}

fn lim(order_id: u64, firm: u32, side: Side, price: i64, lots: u32) -> NewOrder {
    limit(order_id, owner(firm, firm * 10), side, price, lots)
}

fn do_uncross(book: &mut Book) -> (Option<Uncrossed>, Vec<Event>) {
    let mut events = Vec::new();
    let outcome = book.uncross(&mut events);
    book.check_invariants();
    (outcome, events)
}

/// Lots filled per order id.
fn filled(events: &[Event]) -> BTreeMap<u64, u32> {
    let mut map = BTreeMap::new();
    for event in events {
        if let Event::Fill(fill) = event {
            *map.entry(fill.maker.order_id.0).or_default() += fill.lots.0;
            *map.entry(fill.taker.order_id.0).or_default() += fill.lots.0;
        }
    }
    map
}

#[derive(Clone, Debug)]
struct ModelOrder {
    id: u64,
    side: Side,
    market: bool,
    price: i64,
    leaves: u32,
    display: Option<u32>,
    time: u64,
}

/// The spec's uncross rule (market model §5) by brute force over every price of the band. The
/// candidates are the prices at which every order better than the price fills in full; if
/// there is none, the level prices at which a limit order trades; if none, the reference. Ties
/// go (2) to the smaller surplus, (3) to the highest price if every candidate
/// has buyers left over, the lowest if sellers, (4) else to the price nearest the reference,
/// the higher of two equally near.
fn model_uncross(orders: &[ModelOrder], reference: i64, band: Band) -> Option<(i64, u64, i64)> {
    let lots = |side: Side, counts: &dyn Fn(&ModelOrder) -> bool| -> u64 {
        orders.iter().filter(|o| o.side == side && counts(o)).map(|o| u64::from(o.leaves)).sum()
    };
    let level = |p: i64| orders.iter().any(|o| !o.market && o.price == p);
    // (price, volume, surplus, whether every order better than the price fills in full)
    let all: Vec<(i64, u64, i64, bool)> = (band.low.0..=band.high.0)
        .map(|p| {
            let demand = lots(B, &|o| o.market || o.price >= p);
            let supply = lots(S, &|o| o.market || o.price <= p);
            let volume = demand.min(supply);
            let better_bids = lots(B, &|o| o.market || o.price > p);
            let better_asks = lots(S, &|o| o.market || o.price < p);
            let clears = better_bids <= volume && better_asks <= volume;
            (p, volume, demand as i64 - supply as i64, clears)
        })
        .collect();
    let markets = lots(B, &|o| o.market).min(lots(S, &|o| o.market));
    let limits_trade = |p: &&(i64, u64, i64, bool)| level(p.0) && p.1 > markets;
    let points: Vec<(i64, u64, i64)> = if all.iter().any(|p| p.3) {
        all.iter().filter(|p| p.3).map(|p| (p.0, p.1, p.2)).collect()
    } else if all.iter().any(|p| limits_trade(&p)) {
        all.iter().filter(limits_trade).map(|p| (p.0, p.1, p.2)).collect()
    } else {
        let reference = reference.clamp(band.low.0, band.high.0);
        all.iter().filter(|p| p.0 == reference).map(|p| (p.0, p.1, p.2)).collect()
    };
    let volume = points.iter().map(|p| p.1).max()?;
    if volume == 0 {
        return None;
    }
    let points: Vec<_> = points.into_iter().filter(|p| p.1 == volume).collect();
    let min_surplus = points.iter().map(|p| p.2.abs()).min()?;
    let points: Vec<_> = points.into_iter().filter(|p| p.2.abs() == min_surplus).collect();
    let chosen = if points.iter().all(|p| p.2 > 0) {
        *points.last()?
    } else if points.iter().all(|p| p.2 < 0) {
        points[0]
    } else {
        *points.iter().min_by_key(|p| ((p.0 - reference).abs(), -p.0))?
    };
    Some(chosen)
}

/// Priority key: market first, then better price, then time.
fn priority(o: &ModelOrder) -> (bool, i64, u64) {
    let price = match o.side {
        B => -o.price,
        S => o.price,
    };
    (!o.market, if o.market { 0 } else { price }, o.time)
}

/// One random change of the book in a call (a submit, a cancel or a replace), made to the
/// model too.
fn change(seed: u64, step: u64, rng: &mut Rng, book: &mut Book, model: &mut Vec<ModelOrder>) {
    let time = step + 1;
    let action = rng.below(10);
    let limits: Vec<u64> = model.iter().filter(|o| !o.market).map(|o| o.id).collect();
    if action < 7 || limits.is_empty() {
        let id = 100 + step;
        let side = if rng.below(2) == 0 { B } else { S };
        let firm = 1 + rng.below(3) as u32;
        let lots = 1 + rng.below(10) as u32;
        let is_market = rng.below(10) == 0;
        let price = 6790 + rng.below(21) as i64;
        let display =
            (!is_market && rng.below(4) == 0).then(|| 1 + rng.below(u64::from(lots)) as u32);
        let order = if is_market {
            mkt(id, firm, side, lots)
        } else {
            NewOrder { display: display.map(Lots), ..lim(id, firm, side, price, lots) }
        };
        let events = submit(book, order);
        assert!(rejection(&events).is_none(), "seed {seed}: {events:?}");
        model.push(ModelOrder { id, side, market: is_market, price, leaves: lots, display, time });
    } else if action < 8 {
        let id = limits[rng.below(limits.len() as u64) as usize];
        let mut events = Vec::new();
        let firm = book.order(OrderId(id)).expect("rests").owner.firm;
        book.cancel(&Cancel { order_id: OrderId(id), requester: firm }, &mut events);
        book.check_invariants();
        model.retain(|o| o.id != id);
    } else {
        let id = limits[rng.below(limits.len() as u64) as usize];
        let view = book.order(OrderId(id)).expect("rests");
        let entry = model.iter_mut().find(|o| o.id == id).expect("modelled");
        let price = if rng.below(2) == 0 { entry.price } else { 6790 + rng.below(21) as i64 };
        let quantity = 1 + rng.below(12) as u32;
        let mut events = Vec::new();
        let request = Replace {
            order_id: OrderId(id),
            requester: view.owner.firm,
            price: Ticks(price),
            quantity: Lots(quantity),
            display: None,
        };
        book.replace(&request, &mut events);
        book.check_invariants();
        assert!(rejection(&events).is_none(), "seed {seed}: {events:?}");
        let keeps = price == entry.price && quantity <= entry.leaves;
        if !keeps {
            entry.time = time;
        }
        entry.price = price;
        entry.leaves = quantity;
        entry.display = view.display.map(|d| d.0);
    }
}

/// The lots of each order the uncross at `price` for `volume` lots should fill.
fn allocation(model: &[ModelOrder], price: i64, volume: u64) -> BTreeMap<u64, u32> {
    let mut fills = BTreeMap::new();
    for side in [B, S] {
        let mut side_orders: Vec<&ModelOrder> = model
            .iter()
            .filter(|o| o.side == side)
            .filter(|o| o.market || side.accepts(Ticks(o.price), Ticks(price)))
            .collect();
        side_orders.sort_by_key(|o| priority(o));
        let mut left = volume;
        for o in side_orders {
            let lots = u64::from(o.leaves).min(left);
            if lots > 0 {
                fills.insert(o.id, lots as u32);
            }
            left -= lots;
        }
        assert_eq!(left, 0, "the volume is available on both sides");
    }
    fills
}

/// What rests on `side` after the uncross, as (order id, leaves, visible): limit orders with
/// leaves, in price-time order, an iceberg whose shown slice traded away behind the others of
/// its level with its next slice; no market orders.
fn rests(model: &[ModelOrder], fills: &BTreeMap<u64, u32>, side: Side) -> Vec<(u64, u32, u32)> {
    let mut rest: Vec<(ModelOrder, u32)> = model
        .iter()
        .filter(|o| o.side == side && !o.market)
        .filter_map(|o| {
            let traded = fills.get(&o.id).copied().unwrap_or(0);
            let leaves = o.leaves - traded;
            let shown = o.display.map_or(o.leaves, |display| display.min(o.leaves));
            let (time, visible) = match o.display {
                None => (o.time, leaves),
                Some(display) if traded >= shown => (u64::MAX / 2 + o.time, display.min(leaves)),
                Some(_) => (o.time, shown - traded),
            };
            (leaves > 0).then(|| (ModelOrder { leaves, time, ..o.clone() }, visible))
        })
        .collect();
    rest.sort_by_key(|(o, _)| priority(o));
    rest.iter().map(|(o, visible)| (o.id, o.leaves, *visible)).collect()
}

fn run_seed(seed: u64) {
    let mut rng = Rng(seed);
    let mut book = butter();
    book.start_call();
    let band = book.band();
    let mut model: Vec<ModelOrder> = Vec::new();
    for step in 0..1 + rng.below(30) {
        change(seed, step, &mut rng, &mut book, &mut model);
        let expected = model_uncross(&model, 6800, band);
        let got = book.indicative().map(|a| (a.price.0, a.volume, a.surplus));
        assert_eq!(got, expected, "seed {seed} step {step}: indicative");
    }
    let expected = model_uncross(&model, 6800, band);
    let (outcome, events) = do_uncross(&mut book);
    assert_eq!(
        outcome.map(|o| (o.auction.price.0, o.auction.volume, o.auction.surplus)),
        expected,
        "seed {seed}: uncross"
    );
    let expected_fills =
        expected.map_or_else(BTreeMap::new, |(price, volume, _)| allocation(&model, price, volume));
    assert_eq!(filled(&events), expected_fills, "seed {seed}: allocation");
    for event in &events {
        if let (Event::Fill(fill), Some((price, ..))) = (event, expected) {
            assert_eq!(fill.price.0, price, "seed {seed}: one price");
        }
    }
    for side in [B, S] {
        let got: Vec<(u64, u32, u32)> =
            book.orders(side).map(|o| (o.order_id.0, o.leaves.0, o.visible.0)).collect();
        assert_eq!(got, rests(&model, &expected_fills, side), "seed {seed}: {side:?} rests");
    }
    assert_eq!(book.mode(), Mode::Continuous);
}

#[test]
fn uncross_matches_a_brute_force_model_on_random_call_books() {
    for seed in 1..=3000 {
        run_seed(seed);
    }
}

/// The property the market model states for every uncross: orders better than the price fill
/// fully (both sides, market orders included), on seeded random books, unless market orders
/// are left over (then no price can fill every better order).
#[test]
fn random_uncrosses_fill_every_order_better_than_the_price() {
    for seed in 1..=3000u64 {
        let mut rng = Rng(seed);
        let mut book = butter();
        book.start_call();
        let mut orders = Vec::new();
        for i in 0..(2 + rng.below(10)) {
            let side = if rng.below(2) == 0 { B } else { S };
            let order = if rng.below(8) == 0 {
                mkt(i + 1, 1 + rng.below(3) as u32, side, 1 + rng.below(10) as u32)
            } else {
                let price = 6790 + rng.below(21) as i64;
                lim(i + 1, 1 + rng.below(3) as u32, side, price, 1 + rng.below(10) as u32)
            };
            submit(&mut book, order);
            orders.push(order);
        }
        let (outcome, events) = do_uncross(&mut book);
        let Some(outcome) = outcome else { continue };
        let price = outcome.auction.price.0;
        let fills = filled(&events);
        let unfilled = |order: &NewOrder| fills.get(&order.order_id.0) != Some(&order.quantity.0);
        if orders.iter().any(|o| o.order_type == OrderType::Market && unfilled(o)) {
            continue; // market orders left over at every price: no price clears the book
        }
        for order in &orders {
            let better = match order.order_type {
                OrderType::Market => true,
                OrderType::Limit { price: p } => match order.side {
                    B => p.0 > price,
                    S => p.0 < price,
                },
            };
            if better {
                assert_eq!(
                    fills.get(&order.order_id.0).copied().unwrap_or(0),
                    order.quantity.0,
                    "seed {seed}: {order:?} is better than the uncross price {price} but did \
                     not fill fully; orders {orders:?}"
                );
            }
        }
    }
}
