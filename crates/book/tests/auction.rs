//! Call auctions and volatility interruptions (market model §5): worked uncross examples for
//! each tie-break rule, written as tables with the expected price, volume and fills; the
//! rules of a call (what it accepts, market orders executing at the uncross); a volatility
//! interruption; re-basing the band; and property tests of the uncross over random books,
//! checked against a brute-force scan of every price in the band.

use birzha_book::*;
use proptest::prelude::*;

use crate::util::*;

/// A book in a call with the given orders: (id, firm, side, price or None for market, lots).
fn call_book(orders: &[(u64, u32, Side, Option<i64>, u32)]) -> Book {
    let mut book = butter();
    book.start_call();
    for &(order_id, firm, side, price, lots) in orders {
        let order = match price {
            Some(price) => limit(order_id, owner(firm, firm * 10), side, price, lots),
            None => NewOrder {
                order_type: OrderType::Market,
                ..limit(order_id, owner(firm, firm * 10), side, 6800, lots)
            },
        };
        let events = submit(&mut book, order);
        assert!(rejection(&events).is_none(), "{events:?}");
        assert!(fills(&events).is_empty(), "a call does not match");
    }
    book
}

fn uncross(book: &mut Book) -> (Option<Uncrossed>, Vec<Event>) {
    let mut events = Vec::new();
    let outcome = book.uncross(&mut events);
    book.check_invariants();
    (outcome, events)
}

use Side::{Buy as B, Sell as S};

#[test]
fn rule_1_maximum_executable_volume() {
    // Demand/supply: at 6800 min(15, 10) = 10; at 6810 min(5, 10) = 5; at 6790 min(15, 4) = 4.
    let mut book = call_book(&[
        (1, 1, B, Some(6810), 5),
        (2, 1, B, Some(6800), 10),
        (3, 2, S, Some(6790), 4),
        (4, 2, S, Some(6800), 6),
    ]);
    assert_eq!(book.indicative(), Some(Auction { price: Ticks(6800), volume: 10, surplus: 5 }));
    let (outcome, events) = uncross(&mut book);
    assert_eq!(
        outcome.map(|o| (o.auction.price, o.auction.volume, o.orders_filled)),
        Some((Ticks(6800), 10, 4))
    );
    // Better-priced order 1 fills in full; order 2 (at the price) gets the rest: one partial.
    assert_eq!(fills(&events), [(3, 1, 6800, 4), (4, 1, 6800, 1), (4, 2, 6800, 5)]);
    assert_eq!(depth(&book, B), [(6800, 5, 1)]);
    assert_eq!(book.mode(), Mode::Continuous);
}

#[test]
fn rule_2_minimum_surplus() {
    // 6800 and 6805 both trade 5 lots; surplus 7 at 6800 and 2 at 6805.
    let mut book =
        call_book(&[(1, 1, B, Some(6805), 7), (2, 1, B, Some(6800), 5), (3, 2, S, Some(6800), 5)]);
    let auction = book.indicative().expect("crossed");
    assert_eq!((auction.price, auction.volume, auction.surplus), (Ticks(6805), 5, 2));
    let (_, events) = uncross(&mut book);
    assert_eq!(fills(&events), [(3, 1, 6805, 5)]);
}

#[test]
fn rule_3_market_pressure() {
    // Volume 5 and surplus 5 (buyers) at both 6800 and 6801: all pressure is to buy, so the
    // higher price.
    let book = call_book(&[(1, 1, B, Some(6801), 10), (2, 2, S, Some(6800), 5)]);
    assert_eq!(book.indicative(), Some(Auction { price: Ticks(6801), volume: 5, surplus: 5 }));
    // And to sell: the lower.
    let book = call_book(&[(1, 1, B, Some(6801), 5), (2, 2, S, Some(6800), 10)]);
    assert_eq!(book.indicative(), Some(Auction { price: Ticks(6800), volume: 5, surplus: -5 }));
}

#[test]
fn rule_4_nearest_the_reference_price() {
    // Volume 5, no surplus at every price from 6790 to 6810: the reference (6800, no trade
    // yet) is among them.
    let book = call_book(&[(1, 1, B, Some(6810), 5), (2, 2, S, Some(6790), 5)]);
    assert_eq!(book.indicative(), Some(Auction { price: Ticks(6800), volume: 5, surplus: 0 }));
    // From 6803 to 6810: the nearest to the reference is 6803, where no order rests.
    let book = call_book(&[(1, 1, B, Some(6810), 5), (2, 2, S, Some(6803), 5)]);
    assert_eq!(book.indicative().map(|a| a.price), Some(Ticks(6803)), "6803 is nearest");
}

#[test]
fn a_price_between_levels_fills_every_order_better_than_it() {
    // Every price from 6800 to 6810 trades 5 lots; the surplus is 3 (buyers) up to 6805, none
    // from 6806 to 6809, 3 (sellers) at 6810. At 6800, a level price nearest the reference,
    // the bid at 6805 would be better than the price and get nothing.
    let mut book = call_book(&[
        (1, 1, S, Some(6800), 5),
        (2, 1, S, Some(6810), 3),
        (3, 2, B, Some(6805), 3),
        (4, 2, B, Some(6810), 5),
    ]);
    assert_eq!(book.indicative(), Some(Auction { price: Ticks(6806), volume: 5, surplus: 0 }));
    let (_, events) = uncross(&mut book);
    assert_eq!(fills(&events), [(1, 4, 6806, 5)]);
}

#[test]
fn orders_that_cannot_trade_do_not_move_the_price_of_market_orders() {
    // Market orders alone trade at the reference; a bid far below it, or a bid and an offer
    // on either side of it, trade nothing at any price and leave it there.
    let markets = [(1, 1, B, None, 5), (2, 2, S, None, 5)];
    let alone = call_book(&markets);
    let expected = Some(Auction { price: Ticks(6800), volume: 5, surplus: 0 });
    assert_eq!(alone.indicative(), expected);
    let below = call_book(&[markets[0], markets[1], (3, 3, B, Some(6795), 1)]);
    assert_eq!(below.indicative(), expected);
    let around =
        call_book(&[markets[0], markets[1], (3, 3, B, Some(6797), 1), (4, 3, S, Some(6803), 1)]);
    assert_eq!(around.indicative(), expected);
}

#[test]
fn market_orders_go_first_and_their_remainder_is_cancelled() {
    let mut book = call_book(&[
        (1, 1, B, Some(6900), 5),
        (2, 1, B, None, 5),
        (3, 2, S, Some(6800), 8),
        (4, 2, S, None, 1),
    ]);
    let (outcome, events) = uncross(&mut book);
    let auction = outcome.expect("trades").auction;
    assert_eq!(auction.volume, 9);
    // Market buy 2 fills before limit buy 1 (which is better priced but not a market order).
    let buyers: Vec<u64> = fills(&events).iter().map(|f| f.1).collect();
    assert_eq!(buyers.first(), Some(&2));
    assert_eq!(cancels(&events), [], "every market order traded in full here");
    let mut book = call_book(&[(1, 1, B, None, 5), (2, 2, S, Some(6800), 2)]);
    let (_, events) = uncross(&mut book);
    assert_eq!(cancels(&events), [(1, 3, CancelReason::ImmediateOrCancel)]);
    assert!(book.is_empty());
}

#[test]
fn market_orders_left_over_trade_at_the_reference_or_where_limit_orders_trade() {
    // Found by a review of the fix above: market orders alone, unequal, traded at the band's
    // edge (every price was a candidate and market pressure picked the highest or lowest).
    let buys_over = call_book(&[(1, 1, B, None, 10), (2, 2, S, None, 5)]);
    assert_eq!(buys_over.indicative(), Some(Auction { price: Ticks(6800), volume: 5, surplus: 5 }));
    let sells_over = call_book(&[(1, 1, B, None, 5), (2, 2, S, None, 10)]);
    let expected = Some(Auction { price: Ticks(6800), volume: 5, surplus: -5 });
    assert_eq!(sells_over.indicative(), expected);
    // A bid that cannot trade (the market buys go first) does not set the price either.
    let mut book = call_book(&[(1, 1, B, None, 10), (2, 2, S, None, 5), (3, 3, B, Some(6700), 1)]);
    let (outcome, events) = uncross(&mut book);
    assert_eq!(outcome.map(|o| (o.auction.price, o.auction.volume)), Some((Ticks(6800), 5)));
    assert_eq!(fills(&events), [(2, 1, 6800, 5)]);
    // A limit order that trades does: the offer at 6810 trades at its price.
    let book = call_book(&[(1, 1, B, None, 10), (2, 2, S, None, 5), (3, 3, S, Some(6810), 2)]);
    assert_eq!(book.indicative(), Some(Auction { price: Ticks(6810), volume: 7, surplus: 3 }));
}

#[test]
fn an_iceberg_whose_slice_traded_away_at_the_uncross_shows_its_next_one_at_the_back() {
    let mut book = butter();
    book.start_call();
    let iceberg = NewOrder { display: Some(Lots(2)), ..limit(1, owner(1, 10), S, 6800, 10) };
    submit(&mut book, iceberg);
    submit(&mut book, limit(2, owner(2, 20), S, 6800, 5));
    submit(&mut book, limit(3, owner(3, 30), B, 6800, 6));
    let (_, events) = uncross(&mut book);
    // Its full size takes part, first in time: 6 lots, three slices' worth.
    assert_eq!(fills(&events), [(1, 3, 6800, 6)]);
    let shown = book.order(OrderId(1)).map(|o| (o.leaves.0, o.visible.0));
    assert_eq!(shown, Some((4, 2)));
    assert_eq!(queue(&book, S), [2, 1], "the next slice rests behind order 2");
    assert_eq!(depth(&book, S), [(6800, 7, 2)]);
}

#[test]
fn an_iceberg_that_traded_part_of_its_slice_at_the_uncross_shows_the_rest_in_place() {
    let mut book = butter();
    let iceberg = NewOrder { display: Some(Lots(5)), ..limit(1, owner(1, 10), S, 6800, 10) };
    submit(&mut book, iceberg);
    assert_eq!(fills(&submit(&mut book, limit(2, owner(2, 20), B, 6800, 3))), [(1, 2, 6800, 3)]);
    submit(&mut book, limit(3, owner(3, 30), S, 6800, 4));
    book.start_call();
    submit(&mut book, limit(4, owner(2, 20), B, 6800, 1));
    let (_, events) = uncross(&mut book);
    assert_eq!(fills(&events), [(1, 4, 6800, 1)]);
    // One of its two shown lots traded: one is still shown, ahead of order 3.
    let shown = book.order(OrderId(1)).map(|o| (o.leaves.0, o.visible.0));
    assert_eq!(shown, Some((6, 1)));
    assert_eq!(queue(&book, S), [1, 3]);
    assert_eq!(depth(&book, S), [(6800, 5, 2)]);
}

#[test]
fn a_call_takes_no_immediate_or_post_only_orders_and_market_orders_only_as_day() {
    let mut book = butter();
    book.start_call();
    let ioc = NewOrder {
        time_in_force: TimeInForce::ImmediateOrCancel,
        ..limit(1, owner(1, 1), B, 6800, 1)
    };
    let post_only = NewOrder { post_only: true, ..limit(2, owner(1, 1), B, 6800, 1) };
    let market_ioc = market(3, owner(1, 1), B, 1, TimeInForce::ImmediateOrCancel);
    for order in [ioc, post_only, market_ioc] {
        assert!(matches!(rejection(&submit(&mut book, order)), Some(Reject::Unsupported { .. })));
    }
    let market_day = market(4, owner(1, 1), B, 1, TimeInForce::Day);
    assert!(rejection(&submit(&mut book, market_day)).is_none());
    assert_eq!(book.order(OrderId(4)).map(|o| o.market), Some(true));
}

#[test]
fn a_trade_too_far_from_the_last_one_interrupts_continuous_trading() {
    let mut book = butter();
    book.set_volatility_limit(Some(300));
    submit(&mut book, limit(1, owner(1, 1), S, 6800, 1));
    submit(&mut book, limit(2, owner(1, 1), S, 7100, 5));
    let events = submit(&mut book, limit(3, owner(2, 2), B, 7200, 3));
    // The trade at 6800 stands; 7100 is 4.4% above it: interrupted, and the rest rests.
    assert_eq!(fills(&events), [(1, 3, 6800, 1)]);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Interrupted(Interruption { price: Ticks(7100), reference: Ticks(6800) })
    )));
    assert_eq!(book.mode(), Mode::Call);
    assert_eq!(book.order(OrderId(3)).map(|o| o.leaves), Some(Lots(2)));
    let (outcome, _) = uncross(&mut book);
    assert_eq!(outcome.map(|o| o.auction.price), Some(Ticks(7100)));
    // A FOK whose sweep would reach that trade is killed whole, and interrupts trading too (an
    // IOC's remainder is cancelled after the fills before the interruption).
    let mut book = butter();
    book.set_volatility_limit(Some(300));
    submit(&mut book, limit(1, owner(1, 1), S, 6800, 1));
    submit(&mut book, limit(2, owner(1, 1), S, 7100, 5));
    let fok =
        NewOrder { time_in_force: TimeInForce::FillOrKill, ..limit(3, owner(2, 2), B, 7200, 3) };
    let events = submit(&mut book, fok);
    assert!(fills(&events).is_empty(), "the FOK is killed before any fill: {events:?}");
    assert_eq!(cancels(&events), [(3, 3, CancelReason::ImmediateOrCancel)]);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Interrupted(Interruption { price: Ticks(7100), reference: Ticks(6800) })
    )));
    assert_eq!(book.mode(), Mode::Call);
    assert_eq!(book.len(), 2, "the asks are untouched");
}

#[test]
fn a_fill_or_kill_order_reaching_a_trade_too_far_interrupts_like_an_immediate_one() {
    // Found by a review: the FOK was killed and trading went on, so a FOK could probe a price
    // jump without stopping the market.
    for tif in [TimeInForce::ImmediateOrCancel, TimeInForce::FillOrKill] {
        let mut book = butter();
        book.set_volatility_limit(Some(300));
        submit(&mut book, limit(1, owner(1, 1), S, 7100, 5));
        let order = NewOrder { time_in_force: tif, ..limit(2, owner(2, 2), B, 7200, 3) };
        let events = submit(&mut book, order);
        assert!(events.iter().any(|e| matches!(e, Event::Interrupted(_))), "{tif:?}");
        assert_eq!(book.mode(), Mode::Call, "{tif:?}");
        assert_eq!(cancels(&events), [(2, 3, CancelReason::ImmediateOrCancel)], "{tif:?}");
    }
}

#[test]
fn rebasing_cancels_orders_outside_the_new_band_and_keeps_the_others_in_place() {
    let mut book = butter();
    submit(&mut book, limit(1, owner(1, 1), B, 6200, 1));
    submit(&mut book, limit(2, owner(1, 1), B, 7000, 1));
    submit(&mut book, limit(3, owner(2, 2), B, 7000, 1));
    let mut events = Vec::new();
    let band = book.rebase(Ticks(7200), &mut events).expect("valid band");
    assert_eq!(band, Band { low: Ticks(6480), high: Ticks(7920) });
    assert_eq!(cancels(&events), [(1, 1, CancelReason::OutsideBand)]);
    assert_eq!(queue(&book, B), [2, 3]);
    book.check_invariants();
    assert_eq!(book.reference(), Ticks(7200));
}

/// Naive demand and supply at `price` over every resting order.
fn naive(book: &Book, price: Ticks) -> (u64, u64) {
    let demand: u64 = book
        .orders(B)
        .filter(|o| o.market || o.price >= price)
        .map(|o| u64::from(o.leaves.0))
        .sum();
    let supply: u64 = book
        .orders(S)
        .filter(|o| o.market || o.price <= price)
        .map(|o| u64::from(o.leaves.0))
        .sum();
    (demand, supply)
}

fn arbitrary_call() -> impl Strategy<Value = Vec<(u64, u32, Side, Option<i64>, u32)>> {
    prop::collection::vec(
        (1u32..4, any::<bool>(), prop::option::weighted(0.9, 6780i64..6820), 1u32..20),
        1..40,
    )
    .prop_map(|orders| {
        orders
            .into_iter()
            .enumerate()
            .map(|(i, (firm, buy, price, lots))| {
                (i as u64 + 1, firm, if buy { B } else { S }, price, lots)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn prop_uncross_maximises_volume_and_leaves_one_partial_per_side(orders in arbitrary_call()) {
        let mut book = call_book(&orders);
        let before: u64 = [B, S].iter().flat_map(|s| book.orders(*s)).map(|o| u64::from(o.leaves.0)).sum();
        let indicative = book.indicative();
        let band = book.band();
        let best_anywhere = (band.low.0..=band.high.0)
            .map(|p| { let (d, s) = naive(&book, Ticks(p)); d.min(s) })
            .max()
            .unwrap_or(0);
        let orders_before: Vec<OrderView> = [B, S].iter().flat_map(|s| book.orders(*s)).collect();
        let (outcome, events) = uncross(&mut book);
        prop_assert_eq!(outcome.map(|o| o.auction), indicative);
        let Some(auction) = indicative else {
            prop_assert_eq!(best_anywhere, 0);
            return Ok(());
        };
        prop_assert_eq!(auction.volume, best_anywhere, "no price in the band trades more");
        let (demand, supply) = naive_before(&orders_before, auction.price);
        prop_assert_eq!(auction.volume, demand.min(supply));
        let traded: u64 = fills(&events).iter().map(|f| u64::from(f.3)).sum();
        prop_assert_eq!(traded, auction.volume, "lots traded = volume");
        let after: u64 = [B, S].iter().flat_map(|s| book.orders(*s)).map(|o| u64::from(o.leaves.0)).sum();
        let cancelled: u64 = cancels(&events).iter().map(|c| u64::from(c.1)).sum();
        prop_assert_eq!(before, after + 2 * traded + cancelled, "lots are conserved");
        for order in &orders_before {
            let better = order.market
                || (order.side == B && order.price > auction.price)
                || (order.side == S && order.price < auction.price);
            let short_side = (order.side == B) == (auction.surplus <= 0);
            if better && short_side {
                prop_assert!(book.order(order.order_id).is_none(), "order {:?} better than the price left unfilled", order.order_id);
            }
        }
        for side in [B, S] {
            let partial = orders_before
                .iter()
                .filter(|o| o.side == side)
                .filter(|o| book.order(o.order_id).is_some_and(|now| now.leaves < o.leaves))
                .count();
            prop_assert!(partial <= 1, "{} partial fills on {side}", partial);
        }
    }
}

fn naive_before(orders: &[OrderView], price: Ticks) -> (u64, u64) {
    let demand = orders
        .iter()
        .filter(|o| o.side == B && (o.market || o.price >= price))
        .map(|o| u64::from(o.leaves.0))
        .sum();
    let supply = orders
        .iter()
        .filter(|o| o.side == S && (o.market || o.price <= price))
        .map(|o| u64::from(o.leaves.0))
        .sum();
    (demand, supply)
}
