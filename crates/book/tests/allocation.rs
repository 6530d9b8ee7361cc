//! Proves that the book allocates nothing per operation in steady state.
//!
//! A counting global allocator counts the allocations made by the test's own thread. The book
//! is built and warmed up (building allocates all of its storage), a long pre-generated stream
//! of every kind of operation is applied, and the count must not move.
#![allow(unsafe_code, reason = "a counting global allocator must implement GlobalAlloc")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use birzha_book::*;
use rust_decimal::Decimal;

struct Counting;

thread_local! {
    /// Allocations made by this thread. A `const` thread-local with no destructor: reading it
    /// inside the allocator cannot itself allocate.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` unchanged; counting touches only a thread-local
// `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Counts events without storing them.
#[derive(Default)]
struct CountingSink {
    fills: u64,
    events: u64,
}

impl Sink for CountingSink {
    fn event(&mut self, event: Event) {
        self.events += 1;
        if matches!(event, Event::Fill(_)) {
            self.fills += 1;
        }
    }
}

enum Op {
    Submit(NewOrder),
    Cancel(Cancel),
    Replace(Replace),
    MassCancel(MassCancel),
    Expire,
}

/// A deterministic stream mixing adds, icebergs, IOC/FOK, market orders, cancels, replaces,
/// self-matches, mass cancels and expiry, over 5 firms and a price range that crosses often.
fn stream(count: u64) -> Vec<Op> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            let r = next();
            let firm = FirmId((r % 5) as u32);
            let owner = Owner { firm, trader: TraderId(firm.0) };
            let side = if r & 1 == 0 { Side::Buy } else { Side::Sell };
            let price = Ticks(1000 + (r >> 8) as i64 % 41 - 20);
            let lots = Lots(1 + (r >> 16) as u32 % 20);
            match (r >> 24) % 20 {
                0..=9 => Op::Submit(NewOrder {
                    order_id: OrderId(i),
                    owner,
                    side,
                    order_type: if (r >> 32) % 30 == 0 {
                        OrderType::Market
                    } else {
                        OrderType::Limit { price }
                    },
                    quantity: lots,
                    time_in_force: match (r >> 32) % 30 {
                        0 | 1 => TimeInForce::ImmediateOrCancel,
                        2 => TimeInForce::FillOrKill,
                        3 => TimeInForce::GoodTillDate(Timestamp(i + 50)),
                        _ => TimeInForce::Day,
                    },
                    display: ((r >> 40) % 8 == 0).then_some(Lots(1)),
                    post_only: false,
                    self_match: match (r >> 44) % 4 {
                        0 => SelfMatchMode::CancelResting,
                        1 => SelfMatchMode::CancelIncoming,
                        2 => SelfMatchMode::CancelBoth,
                        _ => SelfMatchMode::Decrement,
                    },
                }),
                10..=15 => Op::Cancel(Cancel {
                    order_id: OrderId(i.saturating_sub((r >> 48) % 64)),
                    requester: firm,
                }),
                16..=18 => Op::Replace(Replace {
                    order_id: OrderId(i.saturating_sub((r >> 48) % 64)),
                    requester: firm,
                    price,
                    quantity: lots,
                    display: None,
                }),
                _ if (r >> 32) % 50 == 0 => {
                    Op::MassCancel(MassCancel { firm: Some(firm), ..MassCancel::default() })
                }
                _ => Op::Expire,
            }
        })
        .collect()
}

fn apply(book: &mut Book, ops: &[Op], sink: &mut CountingSink) {
    for (i, op) in ops.iter().enumerate() {
        let now = Timestamp(i as u64);
        match op {
            Op::Submit(order) => book.submit(order, now, sink),
            Op::Cancel(request) => book.cancel(request, sink),
            Op::Replace(request) => book.replace(request, sink),
            Op::MassCancel(filter) => {
                book.mass_cancel(filter, CancelReason::MassCancel, sink);
            }
            Op::Expire => {
                book.expire(now, false, sink);
            }
        }
    }
}

#[test]
fn steady_state_operations_allocate_nothing() {
    let instrument = Instrument::new(InstrumentSpec {
        symbol: "SMP-FCA-USD".into(),
        description: "Skimmed milk powder, FCA Belarus".into(),
        unit: "t".into(),
        currency: "USD".into(),
        lot_size: Decimal::from(5),
        tick: Decimal::ONE,
        reference_price: Decimal::from(1000),
        band_percent: Decimal::from(10),
        price_floor: None,
        price_cap: None,
        max_order_lots: 1000,
        orders_max: 100_000,
    })
    .expect("valid instrument");
    let mut book = Book::new(instrument);
    let ops = stream(200_000);
    let mut sink = CountingSink::default();
    apply(&mut book, &ops[..20_000], &mut sink);
    let before = allocations();
    apply(&mut book, &ops[20_000..], &mut sink);
    let after = allocations();
    // The counter itself works: one box is one allocation.
    drop(std::hint::black_box(Box::new(after)));
    assert_eq!(allocations(), after + 1, "the counting allocator counts");
    book.check_invariants();
    assert!(sink.fills > 10_000, "the stream must trade a lot: {} fills", sink.fills);
    assert!(book.len() > 10, "and leave a book");
    assert_eq!(after - before, 0, "{} allocations over {} operations", after - before, ops.len());
}
