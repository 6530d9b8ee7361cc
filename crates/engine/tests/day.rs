//! A simulated trading day on the Minsk day schedule, driven by timer ticks: the phases come in
//! order (Closed, PreOpen, the opening uncross into Continuous, ClosingCall, the closing uncross
//! into PostClose, Closed), orders entered in the opening call trade at the uncross, Day
//! orders expire entering PostClose and GTD orders of the day entering Closed; and replaying
//! the day's journal encoding yields the same outputs and state.

use birzha_book::{Side, Timestamp};
use birzha_engine::*;

use crate::fixture::{BUTTER, Driver, T1, T3, config, limit};

/// 10:45 PreOpen, 11:00 open (+ up to 30 s), 15:00 close, 15:05 closing uncross, 15:30 closed.
pub(crate) fn day_schedule() -> Schedule {
    let at = |hours: u32, minutes: u32| hours * 3_600 + minutes * 60;
    Schedule {
        pre_open: at(10, 45),
        open: at(11, 0),
        close: at(15, 0),
        closing_call_end: at(15, 5),
        post_close_end: at(15, 30),
    }
}

/// A time on 2026-11-30 in Minsk.
pub(crate) fn minsk(hours: u64, minutes: u64, seconds: u64) -> Timestamp {
    let midnight = minsk_end_of(20261129).expect("valid date").0;
    Timestamp(midnight + ((hours * 60 + minutes) * 60 + seconds) * 1_000_000_000)
}

pub(crate) fn scheduled_driver() -> Driver {
    let mut config = config();
    config.phases.schedule = Some(day_schedule());
    let registry = std::sync::Arc::new(config.validate().expect("valid"));
    Driver { state: ShardState::new(registry, 0), seq: 0 }
}

fn phases(events: &[OutputEvent]) -> Vec<Phase> {
    events
        .iter()
        .filter_map(|e| match e {
            OutputEvent::Phase(change) if change.instrument == BUTTER => Some(change.to),
            _ => None,
        })
        .collect()
}

/// The ClOrdIDs of the orders `events` report expired.
pub(crate) fn expired_ids(events: &[OutputEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            OutputEvent::Execution(e) if e.exec_type == ExecType::Expired => {
                Some(e.cl_ord_id.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The same time a day later.
pub(crate) fn next_day(time: Timestamp) -> Timestamp {
    Timestamp(time.0 + 86_400 * 1_000_000_000)
}

/// Ticks a scheduled driver through the morning's transitions into continuous trading.
pub(crate) fn open_the_day(driver: &mut Driver) {
    for time in [minsk(10, 0, 0), minsk(10, 46, 0), minsk(11, 1, 0)] {
        driver.apply_at(time, Input::Tick);
    }
    assert_eq!(driver.state.phase(BUTTER), Phase::Continuous);
}

pub(crate) fn with_tif(input: Input, tif: Tif) -> Input {
    match input {
        Input::NewOrder(order) => Input::NewOrder(NewOrderInput { tif, ..order }),
        other => other,
    }
}

/// The day's state machine, and a second one that sees only the journal encoding.
struct Day {
    live: Driver,
    replay: Driver,
    /// Phases entered by the butter book, in order.
    seen: Vec<Phase>,
    /// Every output of the day.
    all: Vec<OutputEvent>,
}

impl Day {
    fn apply(&mut self, time: Timestamp, input: Input) -> Vec<OutputEvent> {
        let mut payload = Vec::new();
        input.encode(&mut payload);
        let decoded = Input::decode(input.kind(), &payload).expect("decodes");
        let outputs = self.live.apply_at(time, input);
        assert_eq!(self.replay.apply_at(time, decoded), outputs, "replay at {time:?}");
        self.seen.extend(phases(&outputs));
        self.all.extend(outputs.iter().copied());
        outputs
    }

    fn phase(&self) -> Phase {
        self.live.state.phase(BUTTER)
    }

    fn expired(&self) -> Vec<String> {
        expired_ids(&self.all)
    }
}

#[test]
fn a_scheduled_day_runs_its_phases_and_replays_exactly() {
    let mut day = Day {
        live: scheduled_driver(),
        replay: scheduled_driver(),
        seen: Vec::new(),
        all: Vec::new(),
    };
    day.apply(minsk(9, 0, 0), Input::Tick);
    assert_eq!(day.phase(), Phase::Closed);
    let early = day.apply(minsk(9, 30, 0), limit(T1, "EARLY", BUTTER, Side::Buy, "6800", 1));
    let reason = crate::fixture::reject_reason(&early);
    assert_eq!(reason, Some(RejectReason::Phase(Phase::Closed)));
    day.apply(minsk(10, 45, 0), Input::Tick);
    assert_eq!(day.phase(), Phase::PreOpen);
    // Orders collected in the call cross; the indicative price is published.
    day.apply(minsk(10, 50, 0), limit(T1, "B1", BUTTER, Side::Buy, "6810", 3));
    let cross = day.apply(minsk(10, 51, 0), limit(T3, "S1", BUTTER, Side::Sell, "6800", 2));
    let indicative = cross.iter().find_map(|e| match e {
        OutputEvent::Indicative(Indicative { auction, .. }) => *auction,
        _ => None,
    });
    let indicative = indicative.expect("the indicative uncross is published when it changes");
    assert_eq!((indicative.price, indicative.volume), (birzha_book::Ticks(6810), 2));
    let unchanged = day.apply(minsk(10, 52, 0), limit(T3, "S2", BUTTER, Side::Sell, "6900", 5));
    let republished = unchanged.iter().any(|e| matches!(e, OutputEvent::Indicative(_)));
    assert!(!republished, "an unchanged indicative is not published again");
    let ioc = with_tif(limit(T3, "I", BUTTER, Side::Sell, "6800", 1), Tif::ImmediateOrCancel);
    let ioc = day.apply(minsk(10, 53, 0), ioc);
    let refused = crate::fixture::reject_reason(&ioc);
    assert!(matches!(refused, Some(RejectReason::Book(birzha_book::Reject::Unsupported { .. }))));
    let gtd = with_tif(limit(T1, "G1", BUTTER, Side::Buy, "6700", 1), Tif::GoodTillDate(20261130));
    day.apply(minsk(10, 54, 0), gtd);
    // The opening uncross happens at 11:00 plus at most 30 s.
    day.apply(minsk(11, 0, 31), Input::Tick);
    assert_eq!(day.phase(), Phase::Continuous);
    let uncross = day.all.iter().find_map(|e| match e {
        OutputEvent::Uncross(uncross) => uncross.auction,
        _ => None,
    });
    let auction = uncross.expect("the opening uncross traded");
    assert_eq!((auction.price, auction.volume), (birzha_book::Ticks(6810), 2));
    day.apply(minsk(15, 0, 0), Input::Tick);
    day.apply(minsk(15, 5, 0), Input::Tick);
    assert_eq!(day.expired(), ["B1", "S2"], "Day orders expire entering PostClose");
    day.apply(minsk(15, 30, 0), Input::Tick);
    assert_eq!(day.expired(), ["B1", "S2", "G1"], "GTD orders of the day expire entering Closed");
    let expected =
        [Phase::PreOpen, Phase::Continuous, Phase::ClosingCall, Phase::PostClose, Phase::Closed];
    assert_eq!(day.seen, expected);
    assert_eq!(day.live.state.state_hash(), day.replay.state.state_hash());
    assert!(day.live.state.deadline() > minsk(15, 30, 0), "the next deadline is tomorrow");
}
