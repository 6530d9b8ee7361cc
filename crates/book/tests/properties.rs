//! Property tests of the modify semantics: for any resting order, any earlier partial fill and
//! any replace, the order's leaves are `new total − filled` (or it is finished), nothing is ever
//! overfilled, and it keeps its queue place exactly when the price is unchanged and the total
//! did not grow.

use birzha_book::*;
use proptest::prelude::*;

use crate::util::*;

fn prop_replace_case(quantity: u32, filled: u32, new_quantity: u32, price_delta: i64) {
    let mut book = butter();
    let mine = owner(1, 11);
    // Order 1 rests first, order 2 behind it at the same price: the queue shows priority.
    submit(&mut book, limit(1, mine, Side::Buy, 6800, quantity));
    submit(&mut book, limit(2, mine, Side::Buy, 6800, 1));
    if filled > 0 {
        submit(&mut book, limit(3, owner(2, 21), Side::Sell, 6800, filled));
    }
    let request = Replace {
        order_id: OrderId(1),
        requester: FirmId(1),
        price: Ticks(6800 + price_delta),
        quantity: Lots(new_quantity),
        display: None,
    };
    let mut events = Vec::new();
    book.replace(&request, &mut events);
    book.check_invariants();
    let Some(Event::Replaced(replaced)) = events.first() else {
        panic!("a valid replace is replaced: {events:?}");
    };
    assert_eq!(replaced.order.filled, Lots(filled));
    match book.order(OrderId(1)) {
        None => {
            assert!(new_quantity <= filled, "only a total at or below the filled lots finishes");
            assert_eq!(replaced.order.leaves, Lots(0));
        }
        Some(order) => {
            assert_eq!(order.leaves, Lots(new_quantity - filled), "leaves = new total − filled");
            assert_eq!(order.filled(), Lots(filled), "no overfill");
            let first = book.orders(Side::Buy).next().map(|o| o.order_id);
            let keeps = price_delta == 0 && new_quantity <= quantity;
            assert_eq!(replaced.priority_kept, keeps);
            if keeps {
                assert_eq!(first, Some(OrderId(1)), "kept its place ahead of order 2");
            } else if price_delta == 0 {
                assert_eq!(first, Some(OrderId(2)), "lost its place behind order 2");
            }
        }
    }
}

proptest! {
    #[test]
    fn prop_replace_sets_leaves_and_priority(
        quantity in 1u32..50,
        filled_share in 0u32..100,
        new_quantity in 1u32..60,
        price_delta in -3i64..=3,
    ) {
        // Fill strictly less than the whole order, so that it still rests.
        let filled = (quantity - 1) * filled_share / 100;
        // The seller is filled in full, so a higher bid crosses nothing.
        prop_replace_case(quantity, filled, new_quantity, price_delta);
    }
}
