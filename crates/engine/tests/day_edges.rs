//! The edges of a trading day (market model §1, §5; regressions of a review of 2026-11-29):
//!
//! - the band is the previous close's, set at each day's start: by the pre-open with a
//!   schedule, by the day roll without one (it was set only by a pre-open, so an always-open
//!   server kept the config's reference for ever); it does not follow the day's trades;
//! - an order whose expiry came before a call ended takes no part in that call's uncross, even
//!   when the first input after both comes later;
//! - an instrument an operator opens before the pre-open goes back to continuous trading after
//!   a volatility auction (it went into a closing call lasting until 15:05);
//! - the close expires the GTD orders of the day, not GTC orders whose year ends that evening;
//! - (a review of those fixes) an instrument an operator opens before the pre-open gets the
//!   day's band too (it kept the one of the day before, never entering PreOpen), and one opened
//!   after the close trades until the day roll (the shard's next phase step closed it, even
//!   another instrument's), across a restart too.

use birzha_book::{Side, Ticks, Timestamp};
use birzha_engine::*;

use crate::day::{expired_ids, minsk, open_the_day, scheduled_driver, with_tif};
use crate::fixture::{BUTTER, Driver, MILK, T1, T3, at, executions, limit, reject_reason};

const SECOND: u64 = 1_000_000_000;
const YEAR: u64 = 365 * 86_400 * SECOND;

fn trades(events: &[OutputEvent]) -> Vec<(i64, u32)> {
    events
        .iter()
        .filter_map(|event| match event {
            OutputEvent::Trade(trade) => Some((trade.price.0, trade.lots.0)),
            _ => None,
        })
        .collect()
}

/// Trades butter up from the reference 6800 in steps under the volatility limit: 7000, 7200,
/// 7400 (the band is [6120, 7480]).
fn walk_up(driver: &mut Driver) {
    for (n, price) in ["7000", "7200", "7400"].into_iter().enumerate() {
        let n64 = n as u64;
        driver.apply_at(at(n64 * 2), limit(T3, &format!("S{n}"), BUTTER, Side::Sell, price, 1));
        let buy = limit(T1, &format!("B{n}"), BUTTER, Side::Buy, price, 1);
        assert_eq!(trades(&driver.apply_at(at(n64 * 2 + 1), buy)).len(), 1);
    }
}

#[test]
fn without_a_schedule_the_band_follows_the_previous_close_from_the_next_day() {
    let mut driver = Driver::new(0);
    walk_up(&mut driver);
    // The same day the band stays the day's: 7500 is outside [6120, 7480].
    let events = driver.apply_at(at(10), limit(T1, "TODAY", BUTTER, Side::Buy, "7500", 1));
    assert!(reject_reason(&events).is_some(), "{events:?}");
    // A resting order inside today's band and outside tomorrow's [6660, 8140].
    driver.apply_at(
        at(11),
        with_tif(limit(T1, "LOW", BUTTER, Side::Buy, "6200", 1), Tif::GoodTillCancel),
    );
    let tomorrow = Timestamp(at(0).0 + 86_400 * SECOND);
    let events = driver.apply_at(tomorrow, limit(T1, "NEXT", BUTTER, Side::Buy, "7500", 1));
    let band = driver.state.book(BUTTER).map(|book| book.band());
    assert_eq!(reject_reason(&events), None, "band {band:?}");
    let cancelled: Vec<_> = executions(&events)
        .into_iter()
        .filter(|(_, _, exec_type, _)| *exec_type == ExecType::Cancelled)
        .map(|(_, cl_ord_id, _, _)| cl_ord_id)
        .collect();
    assert_eq!(cancelled, ["LOW"], "outside the re-based band");
    assert_eq!(band.map(|band| (band.low, band.high)), Some((Ticks(6660), Ticks(8140))));
}

#[test]
fn an_order_expired_before_a_call_ended_does_not_trade_at_its_uncross() {
    let mut driver = Driver::new(0);
    let t = |seconds: i64| Timestamp((at(0).0 + YEAR).wrapping_add_signed(seconds * SECOND as i64));
    let gtc = with_tif(limit(T3, "GTC", BUTTER, Side::Sell, "6800", 1), Tif::GoodTillCancel);
    driver.apply_at(at(0), gtc);
    driver.apply_at(t(-60), Input::Admin(Admin::Halt(BUTTER)));
    // The resume call ends 120 s later, at t(70).
    driver.apply_at(t(-50), Input::Admin(Admin::Resume(BUTTER)));
    driver.apply_at(t(-40), limit(T1, "B", BUTTER, Side::Buy, "6800", 1));
    assert_eq!(driver.state.phase(BUTTER), Phase::PreOpen);
    // GTC's year ended at t(0), the call at t(70); the next input comes at t(100).
    let events = driver.apply_at(t(100), Input::Tick);
    assert_eq!(trades(&events), [], "{:?}", executions(&events));
    assert_eq!(expired_ids(&events), ["GTC"]);
}

#[test]
fn an_order_expiring_after_a_call_ended_trades_at_its_uncross() {
    let mut driver = Driver::new(0);
    let t = |seconds: i64| Timestamp((at(0).0 + YEAR).wrapping_add_signed(seconds * SECOND as i64));
    let gtc = with_tif(limit(T3, "GTC", BUTTER, Side::Sell, "6800", 1), Tif::GoodTillCancel);
    driver.apply_at(at(0), gtc);
    driver.apply_at(t(-200), Input::Admin(Admin::Halt(BUTTER)));
    // The resume call ends at t(-70), before GTC's year ends at t(0).
    driver.apply_at(t(-190), Input::Admin(Admin::Resume(BUTTER)));
    driver.apply_at(t(-180), limit(T1, "B", BUTTER, Side::Buy, "6800", 1));
    let events = driver.apply_at(t(100), Input::Tick);
    assert_eq!(trades(&events), [(6800, 1)], "{:?}", executions(&events));
}

#[test]
fn an_instrument_opened_early_returns_to_continuous_after_a_volatility_auction() {
    let mut driver = scheduled_driver();
    driver.apply_at(minsk(9, 0, 0), Input::Tick);
    driver.apply_at(minsk(9, 0, 1), Input::Admin(Admin::SetPhase(BUTTER, Phase::Continuous)));
    driver.apply_at(minsk(9, 1, 0), limit(T3, "S1", BUTTER, Side::Sell, "7100", 1));
    driver.apply_at(minsk(9, 1, 1), limit(T1, "B1", BUTTER, Side::Buy, "7100", 1));
    assert_eq!(driver.state.phase(BUTTER), Phase::VolatilityAuction);
    driver.apply_at(minsk(9, 5, 0), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Continuous);
    // And the day goes on as scheduled: the close at 15:00 starts the closing call.
    driver.apply_at(minsk(15, 0, 1), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::ClosingCall);
}

#[test]
fn the_close_expires_no_gtc_order_whose_year_ends_that_evening() {
    let mut driver = scheduled_driver();
    // Entered at 20:00 a year before the day of `minsk`, in a book an operator opened.
    let entry = Timestamp(minsk(20, 0, 0).0 - YEAR);
    driver.apply_at(entry, Input::Admin(Admin::SetPhase(BUTTER, Phase::Continuous)));
    let gtc = with_tif(limit(T1, "GTC", BUTTER, Side::Buy, "6700", 1), Tif::GoodTillCancel);
    driver.apply_at(Timestamp(entry.0 + 1), gtc);
    assert_eq!(driver.state.orders_working(), 1);
    open_the_day(&mut driver);
    driver.apply_at(minsk(15, 0, 1), Input::Tick);
    driver.apply_at(minsk(15, 5, 1), Input::Tick);
    let events = driver.apply_at(minsk(15, 30, 1), Input::Tick);
    assert_eq!(expired_ids(&events), Vec::<String>::new(), "expired 4.5 hours early");
    let events = driver.apply_at(minsk(20, 0, 1), Input::Tick);
    assert_eq!(expired_ids(&events), ["GTC"]);
}

/// The same time a day earlier.
fn yesterday(time: Timestamp) -> Timestamp {
    Timestamp(time.0 - 86_400 * SECOND)
}

#[test]
fn an_instrument_opened_before_the_pre_open_gets_the_days_band() {
    let mut driver = scheduled_driver();
    for time in [minsk(10, 0, 0), minsk(10, 46, 0), minsk(11, 1, 0)] {
        driver.apply_at(yesterday(time), Input::Tick);
    }
    // Yesterday closed at 7 400.
    for (n, price) in ["7000", "7200", "7400"].into_iter().enumerate() {
        let time = yesterday(minsk(12, n as u64, 0));
        driver.apply_at(time, limit(T3, &format!("S{n}"), BUTTER, Side::Sell, price, 1));
        let buy = limit(T1, &format!("B{n}"), BUTTER, Side::Buy, price, 1);
        driver.apply_at(Timestamp(time.0 + 1), buy);
    }
    for time in [minsk(15, 0, 1), minsk(15, 5, 1), minsk(15, 30, 1)] {
        driver.apply_at(yesterday(time), Input::Tick);
    }
    driver.apply_at(minsk(9, 0, 0), Input::Tick);
    driver.apply_at(minsk(9, 0, 1), Input::Admin(Admin::SetPhase(BUTTER, Phase::Continuous)));
    for time in [minsk(10, 46, 0), minsk(11, 1, 0)] {
        driver.apply_at(time, Input::Tick);
    }
    let band = driver.state.book(BUTTER).map(|book| (book.band().low, book.band().high));
    assert_eq!(band, Some((Ticks(6660), Ticks(8140))), "yesterday's band kept all day");
    let events = driver.apply_at(minsk(12, 0, 0), limit(T1, "HIGH", BUTTER, Side::Buy, "7500", 1));
    assert_eq!(reject_reason(&events), None);
}

#[test]
fn an_instrument_opened_after_the_close_trades_until_the_day_roll() {
    let mut driver = scheduled_driver();
    open_the_day(&mut driver);
    driver.apply_at(minsk(12, 0, 0), Input::Admin(Admin::Halt(MILK)));
    for time in [minsk(15, 0, 1), minsk(15, 5, 1)] {
        driver.apply_at(time, Input::Tick);
    }
    driver.apply_at(minsk(15, 10, 0), Input::Admin(Admin::SetPhase(BUTTER, Phase::Continuous)));
    let events =
        driver.apply_at(minsk(15, 11, 0), limit(T1, "EVENING", BUTTER, Side::Buy, "6700", 1));
    assert_eq!(reject_reason(&events), None);
    // Neither the schedule's 15:30 step nor another instrument's transition (milk's resume
    // makes a step due for the whole shard) closes it, nor does a restart.
    driver.apply_at(minsk(15, 30, 1), Input::Tick);
    driver.apply_at(minsk(16, 2, 0), Input::Admin(Admin::Resume(MILK)));
    let mut driver = crate::operator::restored(&driver);
    driver.apply_at(minsk(16, 2, 1), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Continuous);
    // The day roll closes it as the close would have; its Day order expires.
    let events = driver.apply_at(crate::day::next_day(minsk(0, 0, 1)), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Closed);
    assert_eq!(expired_ids(&events), ["EVENING"]);
}
