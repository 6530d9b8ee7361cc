//! Operator phase commands, snapshots taken in the middle of a day, and a restart across a
//! night: each checked against the state that never stopped (regressions of a review).
//!
//! - Without a schedule an instrument an operator closed stays closed while the others trade,
//!   and after a restore from a snapshot (it used to panic, looking for a schedule to reopen it
//!   by, and again on every restart).
//! - With a schedule an instrument an operator closed stays closed until the next day's
//!   pre-open; a state restored from a snapshot agrees with the one that never stopped (the
//!   snapshot lacked the phase deadline, so the restored state reopened the instrument at once).
//! - A restart the next morning closes yesterday's session (Day orders expire) and opens
//!   today's; an instrument an operator closed loses its Day orders with the day too.
//! - A state restored during a call publishes the indicative uncross only when it changes, as
//!   the live one does (the snapshot lacked the last one published).

use std::sync::Arc;

use birzha_book::{FirmId, Side, Timestamp, TraderId};
use birzha_engine::*;

use crate::day::{day_schedule, minsk, next_day, open_the_day, scheduled_driver};
use crate::fixture::{self, BUTTER, Driver, MILK, T1, T3, at, executions, limit, reject_reason};

/// A state restored from `driver`'s snapshot, as a restart would have it.
pub(crate) fn restored(driver: &Driver) -> Driver {
    let mut bytes = Vec::new();
    driver.state.encode_snapshot(&mut bytes);
    let registry = Arc::clone(driver.state.registry());
    let state = ShardState::restore(registry, &bytes).expect("own snapshot restores");
    assert_eq!(state.state_hash(), driver.state.state_hash(), "a snapshot is the whole state");
    Driver { state, seq: driver.seq }
}

/// Applies `input` to both states and checks they agree on the outputs and the state after.
fn both(live: &mut Driver, restarted: &mut Driver, time: Timestamp, input: Input) {
    let outputs = live.apply_at(time, input);
    assert_eq!(restarted.apply_at(time, input), outputs, "restored state answers the same");
    assert_eq!(restarted.state.state_hash(), live.state.state_hash(), "and ends the same");
}

#[test]
fn without_a_schedule_an_instrument_an_operator_closed_stays_closed() {
    let mut live = Driver::new(0);
    live.apply_at(at(0), Input::Admin(Admin::SetPhase(MILK, Phase::Closed)));
    let mut restarted = restored(&live);
    // Another instrument's call ends: every instrument's phase is looked at.
    for driver in [&mut live, &mut restarted] {
        driver.apply_at(at(1), Input::Admin(Admin::Halt(BUTTER)));
        driver.apply_at(at(2), Input::Admin(Admin::Resume(BUTTER)));
        driver.apply_at(at(500), Input::Tick);
        assert_eq!(driver.state.phase(BUTTER), Phase::Continuous, "the resume call ended");
        assert_eq!(driver.state.phase(MILK), Phase::Closed);
        let events = driver.apply_at(at(501), limit(T1, "M1", MILK, Side::Buy, "0.95", 1));
        assert_eq!(reject_reason(&events), Some(RejectReason::Phase(Phase::Closed)));
    }
    live.apply_at(at(502), Input::Admin(Admin::SetPhase(MILK, Phase::Continuous)));
    let events = live.apply_at(at(503), limit(T1, "M2", MILK, Side::Buy, "0.95", 1));
    assert_eq!(reject_reason(&events), None, "the operator reopened it");
}

#[test]
fn with_a_schedule_an_operator_close_holds_until_the_next_pre_open_and_survives_a_restore() {
    let mut live = scheduled_driver();
    open_the_day(&mut live);
    assert_eq!(live.state.phase(BUTTER), Phase::Continuous);
    live.apply_at(minsk(12, 0, 0), Input::Admin(Admin::SetPhase(BUTTER, Phase::Closed)));
    let mut restarted = restored(&live);
    let order = limit(T1, "A", BUTTER, Side::Buy, "6800", 1);
    both(&mut live, &mut restarted, minsk(12, 1, 0), order);
    assert_eq!(restarted.state.phase(BUTTER), Phase::Closed);
    // Through the rest of the day's transitions (and another instrument's) it stays closed.
    for time in [minsk(15, 0, 1), minsk(15, 5, 1), minsk(15, 30, 1)] {
        both(&mut live, &mut restarted, time, Input::Tick);
        assert_eq!(restarted.state.phase(BUTTER), Phase::Closed);
    }
    // The next day's pre-open opens it again.
    let next_day =
        |time: birzha_book::Timestamp| birzha_book::Timestamp(time.0 + 86_400 * 1_000_000_000);
    both(&mut live, &mut restarted, next_day(minsk(10, 46, 0)), Input::Tick);
    assert_eq!(restarted.state.phase(BUTTER), Phase::PreOpen);
}

#[test]
fn a_state_restored_in_a_call_publishes_the_indicative_uncross_only_when_it_changes() {
    let mut live = Driver::new(0);
    live.apply_at(at(0), Input::Admin(Admin::SetPhase(BUTTER, Phase::PreOpen)));
    live.apply_at(at(1), limit(T1, "B1", BUTTER, Side::Buy, "6800", 5));
    live.apply_at(at(2), limit(T3, "S1", BUTTER, Side::Sell, "6800", 5));
    let mut restarted = restored(&live);
    // A bid below the uncross price changes the book, not the indicative uncross.
    let order = limit(T1, "B2", BUTTER, Side::Buy, "6700", 1);
    both(&mut live, &mut restarted, at(3), order);
}

/// The engine stopped at 14:00 and started again the next morning at 11:30: yesterday's
/// session is closed (its Day order expires, a GTD order for today stays) and today's opens
/// with its opening call (before, the instrument carried on in yesterday's Continuous with
/// yesterday's Day order, or sat in a closing call all day).
#[test]
fn a_restart_the_next_day_closes_yesterdays_session_and_opens_todays() {
    let mut live = scheduled_driver();
    open_the_day(&mut live);
    live.apply_at(minsk(12, 0, 0), limit(T1, "DAY", BUTTER, Side::Buy, "6800", 1));
    let tomorrow = minsk_date(next_day(minsk(12, 0, 0)));
    let gtd = crate::day::with_tif(
        limit(T1, "GTD", BUTTER, Side::Buy, "6790", 1),
        Tif::GoodTillDate(tomorrow),
    );
    assert_eq!(reject_reason(&live.apply_at(minsk(12, 1, 0), gtd)), None);
    assert_eq!(live.state.orders_working(), 2);
    let mut restarted = restored(&live);
    let events = restarted.apply_at(next_day(minsk(11, 30, 0)), Input::Tick);
    let expired = executions(&events);
    assert_eq!(
        expired,
        [(T1, "DAY".to_string(), ExecType::Expired, OrdStatus::Expired)],
        "yesterday's Day order, and only it, expired: {events:?}"
    );
    assert_eq!(restarted.state.orders_working(), 1);
    assert_eq!(restarted.state.phase(BUTTER), Phase::PreOpen, "today opens with a call");
}

/// An instrument an operator closed in the middle of the day still loses its Day orders at
/// the end of the day (they used to expire only on entering PostClose, which it never did).
#[test]
fn day_orders_of_an_instrument_an_operator_closed_expire_with_the_day() {
    let mut live = scheduled_driver();
    open_the_day(&mut live);
    live.apply_at(minsk(12, 0, 0), limit(T1, "DAY", BUTTER, Side::Buy, "6800", 1));
    live.apply_at(minsk(12, 1, 0), Input::Admin(Admin::SetPhase(BUTTER, Phase::Closed)));
    for time in [minsk(15, 0, 1), minsk(15, 5, 1), minsk(15, 30, 1)] {
        live.apply_at(time, Input::Tick);
    }
    assert_eq!(live.state.orders_working(), 1, "closed by the operator, not by the schedule");
    let events = live.apply_at(next_day(minsk(9, 0, 0)), Input::Tick);
    assert_eq!(executions(&events)[0].2, ExecType::Expired);
    assert_eq!(live.state.orders_working(), 0);
}

/// Regression (a review's): a snapshot refused a config with an instrument appended ("number
/// of instruments"), though operations.md says to append. Restored into a config with an
/// instrument of a known currency, a firm and a trader appended, the snapshot's books,
/// deposits and orders are as they were, and the new ones start empty with their configured
/// deposits and trade.
#[test]
fn a_snapshot_restores_into_a_config_with_entries_appended() {
    let mut live = Driver::new(0);
    live.apply_at(at(1), limit(T1, "B1", BUTTER, Side::Buy, "6800", 2));
    let mut bytes = Vec::new();
    live.state.encode_snapshot(&mut bytes);
    let mut config = fixture::config();
    config.instruments.push(fixture::instrument("BUT72-FCA-USD", "USD", "5", "1", "6000"));
    config.firms.push(fixture::firm("FIRM-D", "5000"));
    config.traders.push(fixture::trader("TRADER5", "FIRM-D"));
    let registry = Arc::new(config.validate().expect("valid"));
    let state = ShardState::restore(Arc::clone(&registry), &bytes).expect("appended entries");
    let mut restored = Driver { state, seq: live.seq };
    assert_eq!(restored.state.orders_working(), 1);
    let (old, new) =
        (live.state.deposit(FirmId(0), "USD"), restored.state.deposit(FirmId(0), "USD"));
    assert_eq!(old, new, "a known firm's deposit as it was");
    let firm_d = restored.state.deposit(FirmId(3), "USD").expect("the new firm's account");
    assert_eq!((firm_d.free, firm_d.reserved), (5_000_000_000, 0), "its configured deposit");
    let appended = InstrumentId(3);
    let trader5 = TraderId(4);
    restored.apply_at(at(2), limit(T1, "S1", appended, Side::Sell, "6000", 1));
    let events = restored.apply_at(at(3), limit(trader5, "B2", appended, Side::Buy, "6000", 1));
    assert!(events.iter().any(|e| matches!(e, OutputEvent::Trade(_))), "{events:?}");
    // Back to the config without them: refused, naming what was removed.
    bytes.clear();
    restored.state.encode_snapshot(&mut bytes);
    let refused = ShardState::restore(fixture::registry(), &bytes).map(|_| ()).expect_err("");
    assert!(refused.to_string().contains("firms were removed"), "{refused}");
}

/// Regression (a review of the fixes): a snapshot taken in continuous trading, restored into
/// a config with an instrument appended: the new instrument started Closed, and the restored
/// `phase_deadline` (the 15:00 close) kept the phases from stepping; at 15:00 a Closed
/// instrument does not open for the closing call, so it stayed closed all day, while a fresh
/// state (or a replay of the journal alone) opens it at once.
#[test]
fn an_instrument_appended_mid_session_opens_whether_or_not_a_snapshot_exists() {
    let mut live = scheduled_driver();
    open_the_day(&mut live);
    live.apply_at(minsk(12, 0, 0), limit(T1, "B1", BUTTER, Side::Buy, "6800", 1));
    let mut bytes = Vec::new();
    live.state.encode_snapshot(&mut bytes);
    let mut config = fixture::config();
    config.phases.schedule = Some(day_schedule());
    config.instruments.push(fixture::instrument("BUT72-FCA-USD", "USD", "5", "1", "6000"));
    let registry = Arc::new(config.validate().expect("valid"));
    let appended = InstrumentId(3);
    let order = || limit(T1, "NEW1", appended, Side::Buy, "6000", 1);

    // Without a snapshot (a fresh shard on the appended config) it opens for the session.
    let mut fresh = Driver { state: ShardState::new(Arc::clone(&registry), 0), seq: 0 };
    let fresh_events = fresh.apply_at(minsk(12, 1, 0), order());
    assert_eq!(fixture::reject_reason(&fresh_events), None, "{fresh_events:?}");

    let state = ShardState::restore(Arc::clone(&registry), &bytes).expect("appended");
    let mut restored = Driver { state, seq: live.seq };
    let events = restored.apply_at(minsk(12, 1, 0), order());
    restored.apply_at(minsk(15, 0, 1), Input::Tick);
    assert_eq!(
        (fixture::reject_reason(&events), restored.state.phase(appended)),
        (None, Phase::ClosingCall),
        "the appended instrument opens after a restore too"
    );
}
