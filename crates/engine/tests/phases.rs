//! Operator halts and resumes against the day schedule, and what the Closed phase takes
//! (market model §5; regressions of a review).
//!
//! - A halt is taken from an open phase only (PreOpen, Continuous, VolatilityAuction,
//!   ClosingCall); elsewhere it is refused with an operator event, so a halt and a resume
//!   before the pre-open or after the close cannot open the instrument.
//! - A resume goes through a call into the phase the schedule is in: not into continuous
//!   trading before the opening uncross, into the closing call during the close, and straight
//!   to PostClose (Day orders expire, nothing trades) once the session is over.
//! - Closing a halted instrument trades nothing; a trader's mass cancel, like a single
//!   cancel, is refused by the Closed phase.

use birzha_book::Side;
use birzha_engine::*;

use crate::day::{expired_ids, minsk, next_day, open_the_day, scheduled_driver, with_tif};
use crate::fixture::{BUTTER, Driver, MILK, T1, T3, at, cancel, id, limit, reject_reason};

/// Market model §5: "an operator `Halt` from any open phase". Before the pre-open the
/// instrument is Closed: a halt there must not make a resume open it. Here a halt at 09:00 and
/// a resume at 09:01 put the book into a resume call, then Continuous and, since the schedule
/// says the session is not open, straight into a *closing call* that ends at 15:05: orders are
/// accepted from 09:03 and the day's pre-open and opening auction never happen.
#[test]
fn a_halt_before_the_pre_open_does_not_open_the_instrument() {
    let mut driver = scheduled_driver();
    driver.apply_at(minsk(9, 0, 0), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Closed);
    driver.apply_at(minsk(9, 0, 1), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(9, 0, 2), Input::Admin(Admin::Resume(BUTTER)));
    driver.apply_at(minsk(9, 5, 0), Input::Tick);
    let events = driver.apply_at(minsk(9, 6, 0), limit(T1, "EARLY", BUTTER, Side::Buy, "6800", 1));
    assert_eq!(
        (driver.state.phase(BUTTER), reject_reason(&events)),
        (Phase::Closed, Some(RejectReason::Phase(Phase::Closed))),
        "the instrument is still closed before 10:45"
    );
}

/// Market model §5: a halt "cancels only"; nothing matches until the resume call's uncross.
/// An operator who closes a halted instrument (here one halted in its opening call, with a
/// crossed book) must not make it trade: `force_phase` ends the halted "call" with an uncross.
#[test]
fn closing_a_halted_instrument_trades_nothing() {
    let mut driver = Driver::new(0);
    driver.apply_at(at(0), Input::Admin(Admin::SetPhase(BUTTER, Phase::PreOpen)));
    driver.apply_at(at(1), limit(T1, "B1", BUTTER, Side::Buy, "6810", 2));
    driver.apply_at(at(2), limit(T3, "S1", BUTTER, Side::Sell, "6800", 2));
    driver.apply_at(at(3), Input::Admin(Admin::Halt(BUTTER)));
    assert_eq!(driver.state.phase(BUTTER), Phase::Halted);
    let events = driver.apply_at(at(4), Input::Admin(Admin::SetPhase(BUTTER, Phase::Closed)));
    let trades = events.iter().filter(|e| matches!(e, OutputEvent::Trade(_))).count();
    assert_eq!(trades, 0, "a halted instrument trades only after a resume call: {events:?}");
}

/// A single cancel in the Closed phase is refused (`Phase(Closed)`), yet the trader's mass
/// cancel of the same order goes through: the mass cancel skips the phase check.
#[test]
fn a_trader_mass_cancel_in_the_closed_phase_is_refused_like_a_cancel() {
    let mut driver = Driver::new(0);
    let gtc = with_tif(limit(T1, "GTC", BUTTER, Side::Buy, "6800", 1), Tif::GoodTillCancel);
    driver.apply_at(at(0), gtc);
    driver.apply_at(at(1), Input::Admin(Admin::SetPhase(BUTTER, Phase::Closed)));
    let events = driver.apply_at(at(2), cancel(T1, "X1", ("GTC", Side::Buy), BUTTER));
    assert_eq!(reject_reason(&events), Some(RejectReason::Phase(Phase::Closed)));
    let mass =
        MassCancelInput { trader: T1, cl_ord_id: id("MC"), instrument: Some(BUTTER), side: None };
    driver.apply_at(at(3), Input::MassCancel(mass));
    assert_eq!(driver.state.orders_working(), 1, "the Closed phase accepts no cancels");
}

/// Market model §5: PostClose takes cancels only, and a halt is from an open phase. A halt in
/// PostClose (15:10) and a resume open a 120 s "PreOpen" resume call after the close: a new
/// order is accepted at 15:11 and trades at its uncross.
#[test]
fn a_halt_and_resume_after_the_close_does_not_reopen_the_session() {
    let mut driver = scheduled_driver();
    open_the_day(&mut driver);
    for time in [minsk(15, 0, 1), minsk(15, 5, 1)] {
        driver.apply_at(time, Input::Tick);
    }
    assert_eq!(driver.state.phase(BUTTER), Phase::PostClose);
    driver.apply_at(minsk(15, 10, 0), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(15, 10, 1), Input::Admin(Admin::Resume(BUTTER)));
    let events = driver.apply_at(minsk(15, 11, 0), limit(T1, "LATE", BUTTER, Side::Buy, "6800", 1));
    assert!(
        matches!(reject_reason(&events), Some(RejectReason::Phase(_))),
        "no new orders after the close; phase {:?}: {events:?}",
        driver.state.phase(BUTTER)
    );
}

/// Market model §5: Continuous starts at the opening uncross (11:00 + random end). A halt in
/// the opening call at 10:46 and a resume at 10:47 end the "resume call" at 10:49 with an
/// uncross into Continuous: continuous trading starts 11 minutes before the scheduled open.
#[test]
fn a_resume_in_the_opening_call_does_not_open_continuous_trading_early() {
    let mut driver = scheduled_driver();
    driver.apply_at(minsk(10, 0, 0), Input::Tick);
    driver.apply_at(minsk(10, 45, 30), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::PreOpen);
    driver.apply_at(minsk(10, 46, 0), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(10, 47, 0), Input::Admin(Admin::Resume(BUTTER)));
    driver.apply_at(minsk(10, 50, 0), Input::Tick);
    assert_ne!(
        driver.state.phase(BUTTER),
        Phase::Continuous,
        "continuous trading before the 11:00 opening uncross"
    );
}

/// A halt outside the open session is refused with an operator event, and changes nothing.
#[test]
fn a_halt_while_closed_is_refused_with_an_operator_event() {
    let mut driver = scheduled_driver();
    driver.apply_at(minsk(9, 0, 0), Input::Tick);
    let events = driver.apply_at(minsk(9, 0, 1), Input::Admin(Admin::Halt(BUTTER)));
    assert_eq!(
        events,
        vec![OutputEvent::HaltRefused { instrument: BUTTER, phase: Phase::Closed }],
        "refused, and no phase change"
    );
    assert_eq!(driver.state.phase(BUTTER), Phase::Closed);
    // Regression (a review of 2026-11-29): a resume of an instrument not halted changed
    // nothing and told the operator nothing.
    let events = driver.apply_at(minsk(9, 0, 2), Input::Admin(Admin::Resume(BUTTER)));
    assert_eq!(
        events,
        vec![OutputEvent::ResumeRefused { instrument: BUTTER, phase: Phase::Closed }]
    );
}

/// Resumed during the opening call, the instrument opens at the opening uncross (11:00 plus
/// at most 30 s), not before and not later.
#[test]
fn a_resume_in_the_opening_call_opens_at_the_opening_uncross() {
    let mut driver = scheduled_driver();
    driver.apply_at(minsk(10, 45, 30), Input::Tick);
    driver.apply_at(minsk(10, 46, 0), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(10, 47, 0), Input::Admin(Admin::Resume(BUTTER)));
    assert_eq!(driver.state.phase(BUTTER), Phase::PreOpen);
    driver.apply_at(minsk(10, 59, 59), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::PreOpen);
    driver.apply_at(minsk(11, 0, 31), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Continuous);
}

/// Halted in continuous trading and resumed during the closing call, the instrument goes
/// into the closing call, which ends with the closing uncross and PostClose as scheduled.
#[test]
fn a_resume_in_the_closing_call_goes_into_the_closing_call() {
    let mut driver = scheduled_driver();
    open_the_day(&mut driver);
    driver.apply_at(minsk(14, 50, 0), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(15, 2, 0), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Halted, "a halt holds through the close");
    driver.apply_at(minsk(15, 4, 0), Input::Admin(Admin::Resume(BUTTER)));
    assert_eq!(driver.state.phase(BUTTER), Phase::ClosingCall);
    // The call lasts the resume call's 120 s, past the scheduled 15:05.
    driver.apply_at(minsk(15, 5, 30), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::ClosingCall);
    let events = driver.apply_at(minsk(15, 6, 0), Input::Tick);
    assert!(events.iter().any(|e| matches!(e, OutputEvent::Uncross(u) if u.instrument == BUTTER)));
    assert_eq!(driver.state.phase(BUTTER), Phase::PostClose);
}

/// Resumed after the session, a halted instrument goes to PostClose with no call: its Day
/// orders expire, a crossed book does not trade, and the schedule then closes it.
#[test]
fn a_resume_after_the_session_expires_day_orders_and_trades_nothing() {
    let mut driver = scheduled_driver();
    driver.apply_at(minsk(10, 45, 30), Input::Tick);
    let gtc = |trader, cl_ord_id, side, price| {
        with_tif(limit(trader, cl_ord_id, BUTTER, side, price, 2), Tif::GoodTillCancel)
    };
    driver.apply_at(minsk(10, 46, 0), gtc(T1, "B1", Side::Buy, "6810"));
    driver.apply_at(minsk(10, 46, 1), gtc(T3, "S1", Side::Sell, "6800"));
    driver.apply_at(minsk(10, 46, 2), limit(T1, "DAY", BUTTER, Side::Buy, "6790", 1));
    driver.apply_at(minsk(10, 47, 0), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(15, 20, 0), Input::Tick);
    let events = driver.apply_at(minsk(15, 20, 1), Input::Admin(Admin::Resume(BUTTER)));
    assert!(!events.iter().any(|e| matches!(e, OutputEvent::Trade(_))), "{events:?}");
    let expired = events
        .iter()
        .filter(|e| matches!(e, OutputEvent::Execution(x) if x.exec_type == ExecType::Expired))
        .count();
    assert_eq!((driver.state.phase(BUTTER), expired), (Phase::PostClose, 1));
    driver.apply_at(minsk(15, 31, 0), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Closed);
    assert_eq!(driver.state.orders_working(), 2, "the GTC orders wait for tomorrow's call");
}

/// Regression (a review of the fixes): an instrument halted in yesterday's session and
/// resumed after midnight, before today's pre-open, went to PostClose ("the session is
/// over"), and the next step PostClose → Closed expired GTD orders up to the end of *today*:
/// an order good till today was expired before today's session. Now it goes to Closed, and
/// today's pre-open opens it.
#[test]
fn a_resume_after_midnight_keeps_orders_good_till_today() {
    let mut driver = scheduled_driver();
    open_the_day(&mut driver); // 2026-11-30
    let tomorrow = 20261201;
    let gtd_butter =
        with_tif(limit(T1, "GTD-B", BUTTER, Side::Buy, "6700", 1), Tif::GoodTillDate(tomorrow));
    let gtd_milk =
        with_tif(limit(T1, "GTD-M", MILK, Side::Buy, "0.94", 1), Tif::GoodTillDate(tomorrow));
    driver.apply_at(minsk(12, 0, 0), gtd_butter);
    driver.apply_at(minsk(12, 0, 1), gtd_milk);
    driver.apply_at(minsk(12, 1, 0), Input::Admin(Admin::Halt(BUTTER)));
    driver.apply_at(minsk(15, 31, 0), Input::Tick);
    assert_eq!(driver.state.phase(BUTTER), Phase::Halted);
    assert_eq!(driver.state.orders_working(), 2);
    // 2026-12-01, 03:00: the operator resumes the instrument before the pre-open.
    let mut expired = Vec::new();
    expired.extend(expired_ids(&driver.apply_at(next_day(minsk(3, 0, 0)), Input::Tick)));
    let resume = Input::Admin(Admin::Resume(BUTTER));
    expired.extend(expired_ids(&driver.apply_at(next_day(minsk(3, 0, 1)), resume)));
    expired.extend(expired_ids(&driver.apply_at(next_day(minsk(3, 0, 2)), Input::Tick)));
    expired.extend(expired_ids(&driver.apply_at(next_day(minsk(10, 46, 0)), Input::Tick)));
    assert_eq!(driver.state.phase(MILK), Phase::PreOpen);
    assert_eq!(
        (expired, driver.state.orders_working()),
        (Vec::<String>::new(), 2),
        "orders good till 2026-12-01 must be working in the 2026-12-01 session; butter phase {:?}",
        driver.state.phase(BUTTER)
    );
}

/// Regression (a review of the fixes). Market model §5: "On entering PreOpen the band is
/// re-based on the previous close". An instrument halted overnight never passes Closed →
/// PreOpen, so today's session traded in yesterday's band; the day roll now re-bases it. Here yesterday closed at 7400 (band from 6800: [6120, 7480]); a buy at
/// 8000, inside the re-based band [6660, 8140], is refused after the resume, while the same
/// order is taken on a day without the halt.
#[test]
fn a_resume_the_next_day_re_bases_the_band_on_the_previous_close() {
    let run = |halt: bool| {
        let mut driver = scheduled_driver();
        open_the_day(&mut driver);
        driver.apply_at(minsk(12, 0, 0), limit(T1, "S1", BUTTER, Side::Sell, "7400", 1));
        driver.apply_at(minsk(12, 0, 1), limit(T3, "B1", BUTTER, Side::Buy, "7400", 1));
        // The volatility interruption's auction trades at 7400.
        let events = driver.apply_at(minsk(12, 30, 0), Input::Tick);
        assert!(events.iter().any(|e| matches!(e, OutputEvent::Trade(_))), "{events:?}");
        assert_eq!(driver.state.phase(BUTTER), Phase::Continuous);
        if halt {
            driver.apply_at(minsk(12, 31, 0), Input::Admin(Admin::Halt(BUTTER)));
        }
        driver.apply_at(next_day(minsk(10, 46, 0)), Input::Tick);
        if halt {
            driver.apply_at(next_day(minsk(10, 47, 0)), Input::Admin(Admin::Resume(BUTTER)));
        }
        assert_eq!(driver.state.phase(BUTTER), Phase::PreOpen);
        let events = driver
            .apply_at(next_day(minsk(10, 48, 0)), limit(T3, "B2", BUTTER, Side::Buy, "8000", 1));
        reject_reason(&events)
    };
    assert_eq!(run(false), None, "without the halt the band is re-based");
    assert_eq!(run(true), None, "after an overnight halt the band is re-based too");
}
