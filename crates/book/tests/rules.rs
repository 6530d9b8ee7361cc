//! One test per rule of the market model's tables (../shared/market-model.md §1, §3, §4):
//! order types, times in force, matching, modify semantics, self-trade prevention and
//! validation, each shown on a small book whose outcome can be checked by hand.

use birzha_book::*;

use crate::util::*;

const BUY: Side = Side::Buy;
const SELL: Side = Side::Sell;

fn firm_a() -> Owner {
    owner(1, 11)
}
fn firm_b() -> Owner {
    owner(2, 21)
}

fn with_tif(order: NewOrder, time_in_force: TimeInForce) -> NewOrder {
    NewOrder { time_in_force, ..order }
}

fn cancel(book: &mut Book, order_id: u64, requester: u32) -> Vec<Event> {
    let mut events = Vec::new();
    book.cancel(&Cancel { order_id: OrderId(order_id), requester: FirmId(requester) }, &mut events);
    book.check_invariants();
    events
}

fn replace(book: &mut Book, order_id: u64, price: i64, lots: u32) -> Vec<Event> {
    let mut events = Vec::new();
    let request = Replace {
        order_id: OrderId(order_id),
        requester: FirmId(1),
        price: Ticks(price),
        quantity: Lots(lots),
        display: None,
    };
    book.replace(&request, &mut events);
    book.check_invariants();
    events
}

// --- Matching (§4) -------------------------------------------------------------------------

#[test]
fn limit_order_trades_at_the_resting_price_and_rests_its_remainder() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 3));
    let events = submit(&mut book, limit(2, firm_b(), BUY, 6850, 5));
    assert!(matches!(events[0], Event::Accepted(_)), "accepted comes first: {events:?}");
    assert_eq!(fills(&events), [(1, 2, 6800, 3)]);
    assert_eq!(depth(&book, BUY), [(6850, 2, 1)]);
    assert_eq!(depth(&book, SELL), []);
}

#[test]
fn better_prices_trade_first_then_earlier_orders() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6802, 1));
    submit(&mut book, limit(2, firm_a(), SELL, 6801, 1));
    submit(&mut book, limit(3, owner(3, 31), SELL, 6801, 1));
    submit(&mut book, limit(4, firm_a(), SELL, 6800, 1));
    let events = submit(&mut book, limit(5, firm_b(), BUY, 6802, 4));
    assert_eq!(
        fills(&events),
        [(4, 5, 6800, 1), (2, 5, 6801, 1), (3, 5, 6801, 1), (1, 5, 6802, 1)]
    );
}

#[test]
fn sweeping_stops_at_the_limit_price() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 1));
    submit(&mut book, limit(2, firm_a(), SELL, 6805, 1));
    let events = submit(&mut book, limit(3, firm_b(), BUY, 6803, 3));
    assert_eq!(fills(&events), [(1, 3, 6800, 1)]);
    assert_eq!(depth(&book, BUY), [(6803, 2, 1)]);
    assert_eq!(depth(&book, SELL), [(6805, 1, 1)]);
}

#[test]
fn both_sides_of_a_fill_carry_one_trade_id_and_their_leaves() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 5));
    let events = submit(&mut book, limit(2, firm_b(), BUY, 6800, 2));
    let Some(Event::Fill(fill)) = events.iter().find(|e| matches!(e, Event::Fill(_))) else {
        panic!("no fill in {events:?}");
    };
    assert_eq!(fill.trade_id, TradeId(1));
    assert_eq!((fill.maker.filled, fill.maker.leaves), (Lots(2), Lots(3)));
    assert_eq!((fill.taker.filled, fill.taker.leaves), (Lots(2), Lots(0)));
    assert_eq!(fill.taker_side, BUY);
    assert_eq!(book.trade_id_last(), TradeId(1));
    assert_eq!(book.last_trade_price(), Some(Ticks(6800)));
}

// --- Order types (§3) ----------------------------------------------------------------------

#[test]
fn market_order_sweeps_to_its_protection_price_and_cancels_the_rest() {
    let mut book = butter();
    // Best ask 6800: protection is 6800 + 2% = 6936.
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 1));
    submit(&mut book, limit(2, firm_a(), SELL, 6936, 1));
    submit(&mut book, limit(3, firm_a(), SELL, 6937, 1));
    assert_eq!(book.protection_price(BUY), Ticks(6936));
    let events = submit(&mut book, market(4, firm_b(), BUY, 5, TimeInForce::ImmediateOrCancel));
    assert_eq!(fills(&events), [(1, 4, 6800, 1), (2, 4, 6936, 1)]);
    assert_eq!(cancels(&events), [(4, 3, CancelReason::ImmediateOrCancel)]);
    assert_eq!(depth(&book, SELL), [(6937, 1, 1)]);
}

#[test]
fn market_protection_is_clamped_to_the_band() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 7400, 1));
    assert_eq!(book.protection_price(BUY), Ticks(7480), "7400 + 2% = 7548, band high 7480");
    submit(&mut book, limit(2, firm_b(), BUY, 6200, 1));
    assert_eq!(book.protection_price(SELL), Ticks(6120), "6200 − 2% = 6076, band low 6120");
}

#[test]
fn market_order_must_be_immediate() {
    let mut book = butter();
    let events = submit(&mut book, market(1, firm_b(), BUY, 1, TimeInForce::Day));
    assert_eq!(
        rejection(&events),
        Some(Reject::Unsupported { what: "market orders must be IOC or FOK" })
    );
}

#[test]
fn iceberg_shows_only_its_display_and_refills_at_the_back_of_the_queue() {
    let mut book = butter();
    let iceberg = NewOrder { display: Some(Lots(2)), ..limit(1, firm_a(), SELL, 6800, 5) };
    submit(&mut book, iceberg);
    submit(&mut book, limit(2, firm_a(), SELL, 6800, 3));
    assert_eq!(depth(&book, SELL), [(6800, 5, 2)], "2 shown by the iceberg + 3");
    // Taking 2 exhausts the shown slice: the iceberg refills behind order 2.
    let events = submit(&mut book, limit(3, firm_b(), BUY, 6800, 2));
    assert_eq!(fills(&events), [(1, 3, 6800, 2)]);
    assert_eq!(queue(&book, SELL), [2, 1]);
    assert_eq!(depth(&book, SELL), [(6800, 5, 2)]);
    // A large order takes order 2, then the iceberg slice by slice.
    let events = submit(&mut book, limit(4, firm_b(), BUY, 6800, 6));
    assert_eq!(fills(&events), [(2, 4, 6800, 3), (1, 4, 6800, 2), (1, 4, 6800, 1)]);
    assert!(book.is_empty());
}

#[test]
fn post_only_rests_or_is_rejected_if_it_would_trade() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 1));
    let crossing = NewOrder { post_only: true, ..limit(2, firm_b(), BUY, 6800, 1) };
    let events = submit(&mut book, crossing);
    assert_eq!(
        rejection(&events),
        Some(Reject::PostOnlyWouldCross { price: Ticks(6800), opposite: Ticks(6800) })
    );
    let passive = NewOrder { post_only: true, ..limit(3, firm_b(), BUY, 6799, 1) };
    assert!(fills(&submit(&mut book, passive)).is_empty());
    assert_eq!(depth(&book, BUY), [(6799, 1, 1)]);
}

// --- Time in force (§3) --------------------------------------------------------------------

#[test]
fn immediate_or_cancel_cancels_its_remainder() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 2));
    let ioc = with_tif(limit(2, firm_b(), BUY, 6800, 5), TimeInForce::ImmediateOrCancel);
    let events = submit(&mut book, ioc);
    assert_eq!(fills(&events), [(1, 2, 6800, 2)]);
    assert_eq!(cancels(&events), [(2, 3, CancelReason::ImmediateOrCancel)]);
    assert!(book.is_empty());
}

#[test]
fn fill_or_kill_fills_in_full_or_not_at_all() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 2));
    submit(&mut book, limit(2, firm_a(), SELL, 6801, 2));
    let too_big = with_tif(limit(3, firm_b(), BUY, 6801, 5), TimeInForce::FillOrKill);
    let events = submit(&mut book, too_big);
    assert!(fills(&events).is_empty(), "killed before any fill: {events:?}");
    assert_eq!(cancels(&events), [(3, 5, CancelReason::ImmediateOrCancel)]);
    let fits = with_tif(limit(4, firm_b(), BUY, 6801, 4), TimeInForce::FillOrKill);
    assert_eq!(fills(&submit(&mut book, fits)), [(1, 4, 6800, 2), (2, 4, 6801, 2)]);
}

#[test]
fn fill_or_kill_counts_an_iceberg_behind_an_own_order_by_its_shown_slice_only() {
    // The iceberg's refill queues behind firm B's own order, which stops a cancel-incoming
    // taker: only the 2 shown lots are reachable, so a FOK for 3 is killed.
    let mut book = butter();
    submit(&mut book, NewOrder { display: Some(Lots(2)), ..limit(1, firm_a(), SELL, 6800, 9) });
    submit(&mut book, limit(2, firm_b(), SELL, 6800, 1));
    let fok = NewOrder {
        self_match: SelfMatchMode::CancelIncoming,
        ..with_tif(limit(3, firm_b(), BUY, 6800, 3), TimeInForce::FillOrKill)
    };
    let events = submit(&mut book, fok);
    assert!(fills(&events).is_empty(), "{events:?}");
    let fok = NewOrder { order_id: OrderId(4), quantity: Lots(2), ..fok };
    assert_eq!(fills(&submit(&mut book, fok)), [(1, 4, 6800, 2)]);
}

#[test]
fn day_orders_expire_at_end_of_day_and_dated_orders_at_their_time() {
    let mut book = butter();
    let gtd =
        with_tif(limit(2, firm_a(), SELL, 6900, 1), TimeInForce::GoodTillDate(Timestamp(5_000)));
    let gtc = with_tif(limit(3, firm_a(), SELL, 6901, 1), TimeInForce::GoodTillCancel);
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 1));
    submit(&mut book, gtd);
    submit(&mut book, gtc);
    let expired = |events: &[Event]| -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Expired(expired) => Some(expired.order.order_id.0),
                _ => None,
            })
            .collect()
    };
    let mut events = Vec::new();
    assert_eq!(book.expire(Timestamp(4_999), false, &mut events), 0);
    assert_eq!(book.expire(Timestamp(5_000), false, &mut events), 1);
    assert_eq!(expired(&events), [2]);
    events.clear();
    book.expire(Timestamp(6_000), true, &mut events);
    assert_eq!(expired(&events), [1], "the Day order; GTC lives on");
    events.clear();
    let year_later = Timestamp(1_000).plus_days(GOOD_TILL_CANCEL_DAYS);
    book.expire(year_later, true, &mut events);
    assert_eq!(expired(&events), [3], "GTC expires 365 days after entry");
    book.check_invariants();
}

// --- Modify semantics (§4) -----------------------------------------------------------------

#[test]
fn size_down_at_the_same_price_keeps_priority() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), BUY, 6800, 5));
    submit(&mut book, limit(2, firm_a(), BUY, 6800, 5));
    let events = replace(&mut book, 1, 6800, 3);
    assert!(matches!(events[0], Event::Replaced(Replaced { priority_kept: true, .. })));
    assert_eq!(queue(&book, BUY), [1, 2]);
    assert_eq!(depth(&book, BUY), [(6800, 8, 2)]);
}

#[test]
fn size_up_or_price_change_loses_priority() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), BUY, 6800, 5));
    submit(&mut book, limit(2, firm_a(), BUY, 6800, 5));
    replace(&mut book, 1, 6800, 6);
    assert_eq!(queue(&book, BUY), [2, 1], "size-up goes to the back");
    replace(&mut book, 2, 6799, 5);
    replace(&mut book, 2, 6800, 5);
    assert_eq!(queue(&book, BUY), [1, 2], "a price change goes to the back");
}

#[test]
fn replace_that_crosses_trades_as_the_aggressor() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_b(), SELL, 6800, 2));
    submit(&mut book, limit(2, firm_a(), BUY, 6790, 5));
    let events = replace(&mut book, 2, 6800, 5);
    assert_eq!(fills(&events), [(1, 2, 6800, 2)], "order 2 is the taker");
    assert_eq!(depth(&book, BUY), [(6800, 3, 1)]);
}

#[test]
fn replace_to_at_most_the_filled_quantity_finishes_the_order() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), BUY, 6800, 5));
    submit(&mut book, limit(2, firm_b(), SELL, 6800, 3));
    let events = replace(&mut book, 1, 6800, 2);
    let Event::Replaced(replaced) = events[0] else { panic!("{events:?}") };
    assert_eq!((replaced.order.filled, replaced.order.leaves), (Lots(3), Lots(0)));
    assert!(book.is_empty(), "no overfill: the order is done");
}

#[test]
fn another_firms_order_is_unknown() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), BUY, 6800, 5));
    assert_eq!(rejection(&cancel(&mut book, 1, 2)), Some(Reject::UnknownOrder));
    assert_eq!(rejection(&cancel(&mut book, 99, 1)), Some(Reject::UnknownOrder));
    let mut events = Vec::new();
    let request = Replace {
        order_id: OrderId(1),
        requester: FirmId(2),
        price: Ticks(6800),
        quantity: Lots(1),
        display: None,
    };
    book.replace(&request, &mut events);
    assert_eq!(rejection(&events), Some(Reject::UnknownOrder));
    assert_eq!(cancels(&cancel(&mut book, 1, 1)), [(1, 5, CancelReason::Request)]);
}

// --- Self-trade prevention (§4) ------------------------------------------------------------

fn self_match(mode: SelfMatchMode, incoming_lots: u32) -> (Vec<Event>, Book) {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), SELL, 6800, 3));
    submit(&mut book, limit(2, firm_b(), SELL, 6800, 3));
    let incoming =
        NewOrder { self_match: mode, ..limit(3, owner(1, 12), BUY, 6800, incoming_lots) };
    let events = submit(&mut book, incoming);
    (events, book)
}

#[test]
fn self_match_cancel_resting_is_the_default_and_matching_goes_on() {
    let (events, book) = self_match(SelfMatchMode::default(), 4);
    assert_eq!(cancels(&events), [(1, 3, CancelReason::SelfMatch)]);
    assert_eq!(fills(&events), [(2, 3, 6800, 3)]);
    assert_eq!(depth(&book, BUY), [(6800, 1, 1)]);
}

#[test]
fn self_match_cancel_incoming_keeps_the_resting_order() {
    let (events, book) = self_match(SelfMatchMode::CancelIncoming, 4);
    assert_eq!(cancels(&events), [(3, 4, CancelReason::SelfMatch)]);
    assert!(fills(&events).is_empty());
    assert_eq!(queue(&book, SELL), [1, 2]);
}

#[test]
fn self_match_cancel_both() {
    let (events, book) = self_match(SelfMatchMode::CancelBoth, 4);
    assert_eq!(
        cancels(&events),
        [(1, 3, CancelReason::SelfMatch), (3, 4, CancelReason::SelfMatch)]
    );
    assert_eq!(queue(&book, SELL), [2]);
}

#[test]
fn self_match_decrement_reduces_both_without_a_trade() {
    let (events, book) = self_match(SelfMatchMode::Decrement, 4);
    // Resting 3 vs incoming 4: the resting order is used up, the incoming reduced to 1, which
    // then trades with firm B.
    assert_eq!(cancels(&events), [(1, 3, CancelReason::SelfMatch)]);
    let reduced: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Reduced(r) => Some((r.order.order_id.0, r.reduced.0, r.order.quantity.0)),
            _ => None,
        })
        .collect();
    assert_eq!(reduced, [(3, 3, 1)]);
    assert_eq!(fills(&events), [(2, 3, 6800, 1)]);
    assert_eq!(depth(&book, SELL), [(6800, 2, 1)]);
}

// --- Validation (§3) -----------------------------------------------------------------------

#[test]
fn every_validation_rule_rejects_with_its_numbers() {
    let mut book = butter();
    let max = book.instrument().max_order_lots();
    let cases = [
        (limit(1, firm_a(), BUY, 6800, 0), Reject::QuantityNotWholeLots { quantity: 0.into() }),
        (limit(1, firm_a(), BUY, 6800, 1001), Reject::QuantityAboveMax { lots: Lots(1001), max }),
        (
            NewOrder { display: Some(Lots(6)), ..limit(1, firm_a(), BUY, 6800, 5) },
            Reject::DisplayInvalid { display: Lots(6), quantity: Lots(5) },
        ),
        (
            limit(1, firm_a(), BUY, 6000, 1),
            Reject::PriceOutsideBand { price: Ticks(6000), low: Ticks(6120), high: Ticks(7480) },
        ),
        (
            with_tif(limit(1, firm_a(), BUY, 6800, 1), TimeInForce::GoodTillDate(Timestamp(10))),
            Reject::ExpiryNotInFuture { expiry: Timestamp(10), now: Timestamp(1_000) },
        ),
        (
            NewOrder {
                post_only: true,
                ..with_tif(limit(1, firm_a(), BUY, 6800, 1), TimeInForce::ImmediateOrCancel)
            },
            Reject::Unsupported {
                what: "a post-only order must be allowed to rest (not IOC or FOK)",
            },
        ),
        (
            NewOrder {
                display: Some(Lots(1)),
                ..with_tif(limit(1, firm_a(), BUY, 6800, 2), TimeInForce::FillOrKill)
            },
            Reject::Unsupported {
                what: "an iceberg must be a limit order allowed to rest (not IOC or FOK)",
            },
        ),
    ];
    for (order, expected) in cases {
        let events = submit(&mut book, order);
        assert_eq!(events.len(), 1, "a reject is the only event: {events:?}");
        assert_eq!(rejection(&events), Some(expected));
    }
    assert!(book.is_empty());
}

#[test]
fn checks_run_in_the_documented_order() {
    // Both the size and the band are wrong: the size check comes first.
    let mut book = butter();
    let events = submit(&mut book, limit(1, firm_a(), BUY, 6000, 1001));
    assert!(matches!(rejection(&events), Some(Reject::QuantityAboveMax { .. })));
}

#[test]
fn duplicate_ids_and_a_full_book_are_rejected() {
    let mut book = Book::new(instrument(6800, 10, 2));
    submit(&mut book, limit(1, firm_a(), BUY, 6800, 1));
    assert_eq!(
        rejection(&submit(&mut book, limit(1, firm_a(), BUY, 6801, 1))),
        Some(Reject::DuplicateOrderId)
    );
    submit(&mut book, limit(2, firm_a(), BUY, 6800, 1));
    assert_eq!(
        rejection(&submit(&mut book, limit(3, firm_a(), BUY, 6800, 1))),
        Some(Reject::BookFull { orders_max: 2 })
    );
    // An immediate order needs no slot and still trades.
    let ioc = with_tif(limit(4, firm_b(), SELL, 6800, 1), TimeInForce::ImmediateOrCancel);
    assert_eq!(fills(&submit(&mut book, ioc)), [(1, 4, 6800, 1)]);
}

// --- Mass cancel, lookups, depth and restore ----------------------------------------------

#[test]
fn mass_cancel_by_firm_and_side() {
    let mut book = butter();
    submit(&mut book, limit(1, firm_a(), BUY, 6800, 1));
    submit(&mut book, limit(2, firm_a(), SELL, 6900, 1));
    submit(&mut book, limit(3, firm_b(), BUY, 6800, 1));
    submit(&mut book, with_tif(limit(4, firm_a(), BUY, 6700, 1), TimeInForce::GoodTillCancel));
    let mut events = Vec::new();
    let day_buys = MassCancel {
        firm: Some(FirmId(1)),
        side: Some(BUY),
        day_only: true,
        ..MassCancel::default()
    };
    assert_eq!(book.mass_cancel(&day_buys, CancelReason::Disconnect, &mut events), 1);
    assert_eq!(cancels(&events), [(1, 1, CancelReason::Disconnect)]);
    let firm = MassCancel { firm: Some(FirmId(1)), ..MassCancel::default() };
    assert_eq!(book.mass_cancel(&firm, CancelReason::MassCancel, &mut Vec::new()), 2);
    assert_eq!(queue(&book, BUY), [3]);
    book.check_invariants();
}

#[test]
fn top_of_book_depth_and_lookup() {
    let mut book = butter();
    for (id, price) in [(1, 6790), (2, 6795), (3, 6795), (4, 6700)] {
        submit(&mut book, limit(id, firm_a(), BUY, price, 2));
    }
    assert_eq!(book.best(BUY), Some(LevelView { price: Ticks(6795), lots: 4, orders: 2 }));
    assert_eq!(book.best(SELL), None);
    assert_eq!(depth(&book, BUY)[..2], [(6795, 4, 2), (6790, 2, 1)]);
    assert_eq!(book.levels(BUY).count(), 3);
    let order = book.order(OrderId(3)).expect("resting");
    assert_eq!((order.price, order.leaves, order.side), (Ticks(6795), Lots(2), BUY));
    assert_eq!(queue(&book, BUY), [2, 3, 1, 4]);
}

#[test]
fn restoring_orders_in_priority_order_rebuilds_the_queues() {
    let mut book = butter();
    submit(&mut book, NewOrder { display: Some(Lots(1)), ..limit(1, firm_a(), SELL, 6800, 4) });
    submit(&mut book, limit(2, firm_b(), SELL, 6800, 2));
    submit(&mut book, limit(3, firm_b(), BUY, 6800, 1)); // refills the iceberg behind order 2
    submit(&mut book, with_tif(limit(4, firm_a(), BUY, 6700, 3), TimeInForce::GoodTillCancel));
    let mut copy = butter();
    for side in [BUY, SELL] {
        for order in book.orders(side) {
            copy.restore(&order).expect("consistent snapshot");
        }
    }
    copy.restore_trades(book.trade_id_last(), book.last_trade_price());
    copy.check_invariants();
    for side in [BUY, SELL] {
        assert_eq!(copy.orders(side).collect::<Vec<_>>(), book.orders(side).collect::<Vec<_>>());
    }
    assert_eq!(
        copy.restore(&book.order(OrderId(2)).expect("rests")),
        Err(Reject::DuplicateOrderId)
    );
    // Both books now behave identically.
    let next = limit(5, owner(3, 31), BUY, 6800, 4);
    assert_eq!(submit(&mut copy, next), submit(&mut book, next));
}

// Regressions found by a review of the matching core.

/// A FOK order is decided level by level against the last trade price as its own fills move
/// it, as matching measures it: a sweep that a volatility interruption would cut short is
/// killed whole (it used to fill one of two lots, then be interrupted), and interrupts.
#[test]
fn a_fok_order_never_fills_in_part_across_a_volatility_interruption() {
    let mut book = butter(); // reference 6800
    book.set_volatility_limit(Some(300));
    submit(&mut book, limit(1, firm_a(), SELL, 6650, 1));
    submit(&mut book, limit(2, firm_a(), SELL, 6950, 1)); // 2.2 % from 6800, 4.5 % from 6650
    let fok = with_tif(limit(3, firm_b(), BUY, 7000, 2), TimeInForce::FillOrKill);
    let events = submit(&mut book, fok);
    assert_eq!(fills(&events), [], "killed whole: {events:?}");
    assert_eq!(book.mode(), Mode::Call);
    assert_eq!(book.len(), 2, "the asks are untouched");
}

/// A level holding only the taker's own firm's orders trades with nobody, so it cannot
/// interrupt: self-trade prevention cancels them and matching goes on (the interruption used
/// to trip first, and the uncross then traded the firm with itself).
#[test]
fn only_own_orders_beyond_the_volatility_limit_do_not_interrupt() {
    let mut book = butter();
    book.set_volatility_limit(Some(300));
    submit(&mut book, limit(1, owner(1, 1), SELL, 7100, 5)); // 4.4 % from 6800, firm 1
    let events = submit(&mut book, limit(2, owner(1, 2), BUY, 7200, 3));
    assert_eq!(fills(&events), []);
    assert_eq!(book.mode(), Mode::Continuous, "no trade, no interruption: {events:?}");
    assert!(book.order(OrderId(1)).is_none(), "the resting self-match was cancelled");
    let mut uncross = Vec::new();
    book.uncross(&mut uncross);
    assert_eq!(fills(&uncross), [], "nobody trades with itself");
}

/// An iceberg must be a limit order in every phase (a market order with a display quantity
/// was accepted in a call).
#[test]
fn a_market_iceberg_is_refused_in_a_call_too() {
    let mut book = butter();
    book.start_call();
    let order =
        NewOrder { display: Some(Lots(1)), ..market(1, firm_a(), BUY, 5, TimeInForce::Day) };
    let events = submit(&mut book, order);
    assert!(matches!(rejection(&events), Some(Reject::Unsupported { .. })), "{events:?}");
}
