//! The phase state machine of every instrument of the shard (market model §5).
//!
//! ```text
//! Closed ─▶ PreOpen (call) ─uncross─▶ Continuous ⇄ VolatilityAuction (call, uncross back)
//!                                         │
//!                                         ▼
//!                                   ClosingCall ─uncross─▶ PostClose ─▶ Closed
//! any open phase ─operator─▶ Halted ─resume─▶ the call the schedule is in now ─uncross─▶ …
//! ```
//!
//! A halted instrument collects nothing and never uncrosses by itself. A resume goes through
//! a call of at least `resume_call_seconds` into the phase the schedule is in by then: during
//! the opening call it ends no earlier than the opening uncross, during the closing call no
//! earlier than the closing uncross, and once the session is over the instrument goes to
//! PostClose (its Day orders expire) with no call at all. An operator who closes a halted
//! instrument does not uncross it either.
//!
//! Transitions are driven by time, which enters only as inputs' timestamps: the scheduled ones
//! by the day schedule (Minsk time), the end of a call by its `call_end`. Random ends (opening
//! and volatility auctions) are drawn from the timestamp of the input that starts the call, so
//! they are unpredictable to traders yet replay exactly. Without a schedule every instrument is
//! always open unless an operator moves it.
//!
//! An instrument an operator closed stays closed until an operator moves it again or, with a
//! schedule, the next trading day's pre-open; one an operator opened after the day's close
//! stays open until the day roll; a closed instrument opens only for the open part
//! of the session (PreOpen, Continuous). `phase_deadline` only says when a step may next be
//! due (snapshots keep it, so a restored state steps when the live one would).
//!
//! At the day roll the band is re-based on the previous close and orders outside it are
//! cancelled; Day orders expire on entering
//! PostClose, and GTD orders of the day on entering Closed. An uncross first expires the
//! orders whose time was up by its call's end.

use birzha_book::{Mode, Timestamp};

use super::{OperatorHold, ShardState};
use crate::calendar::{self, MINSK_OFFSET_NS};
use crate::config::{InstrumentId, Schedule};
use crate::output::{Output, OutputEvent, PhaseChange, Uncross};
use crate::phase::Phase;

const SECOND_NS: u64 = 1_000_000_000;
const DAY_SECONDS: u64 = 86_400;

impl ShardState {
    /// The phase an instrument should be in at `now` by the schedule (Continuous without one).
    fn scheduled_phase(&self, now: Timestamp) -> Phase {
        let Some(schedule) = self.registry.config.phases.schedule else {
            return Phase::Continuous;
        };
        let second = seconds_of_day(now);
        if second < schedule.pre_open || second >= schedule.post_close_end {
            Phase::Closed
        } else if second < schedule.open {
            Phase::PreOpen
        } else if second < schedule.close {
            Phase::Continuous
        } else if second < schedule.closing_call_end {
            Phase::ClosingCall
        } else {
            Phase::PostClose
        }
    }

    /// Moves every instrument through the transitions that are due at the current time.
    pub(super) fn advance_phases(&mut self, out: &mut Vec<Output>) {
        for index in 0..self.books.len() {
            if self.books[index].is_none() {
                continue;
            }
            // Each step moves one phase on; a day has fewer than eight.
            for _ in 0..8 {
                if !self.step(InstrumentId(index as u32), out) {
                    break;
                }
            }
        }
        self.phase_deadline = self.next_transition();
    }

    /// Makes the next due transition of one instrument; returns whether it made one.
    fn step(&mut self, id: InstrumentId, out: &mut Vec<Output>) -> bool {
        let index = id.0 as usize;
        let target = self.scheduled_phase(self.now);
        let call_over = self.call_end[index].is_some_and(|end| self.now >= end);
        match self.phases[index] {
            Phase::Halted => false,
            // A closed instrument opens for the session's open part only (not for its close),
            // never by itself after an operator closed it today, and never without a schedule.
            Phase::Closed
                if matches!(target, Phase::PreOpen | Phase::Continuous)
                    && self.operator_hold[index] != OperatorHold::Closed
                    && self.registry.config.phases.schedule.is_some() =>
            {
                self.enter_pre_open(id, out);
                true
            }
            Phase::PreOpen | Phase::VolatilityAuction if call_over => {
                self.end_call(id, Phase::Continuous, out);
                true
            }
            // The session's close has come (an instrument an operator opened before the
            // pre-open trades on until then; one opened after it, until the day roll).
            Phase::Continuous
                if matches!(target, Phase::ClosingCall | Phase::PostClose | Phase::Closed)
                    && seconds_of_day(self.now) >= self.schedule().close
                    && self.operator_hold[index] != OperatorHold::OpenedAfterClose =>
            {
                let schedule = self.schedule();
                let end = day_start(self.now).0 + u64::from(schedule.closing_call_end) * SECOND_NS;
                self.start_call(id, Phase::ClosingCall, Some(Timestamp(end)), out);
                true
            }
            Phase::ClosingCall if call_over => {
                self.end_call(id, Phase::PostClose, out);
                self.expire_book(id, true, out);
                true
            }
            Phase::PostClose if target == Phase::Closed => {
                self.set_phase_only(id, Phase::Closed, out);
                let end_of_today = calendar::minsk_end_of(calendar::minsk_date(self.now));
                self.expire_gtd(id, end_of_today.unwrap_or(self.now), out);
                true
            }
            _ => false,
        }
    }

    /// At a new trading day with a schedule: closes what is left open of the previous day's
    /// session (the engine was down through its close, or an operator's command kept it
    /// open), as the close would have: a call ends with its uncross, and the instrument goes
    /// through PostClose to Closed; the day roll then expires Day orders and past GTD orders
    /// and re-bases every band. A halted instrument stays halted; today's schedule takes over
    /// from Closed.
    pub(super) fn close_stale_sessions(&mut self, out: &mut Vec<Output>) {
        for index in 0..self.books.len() {
            let Some(book) = &self.books[index] else { continue };
            let id = InstrumentId(index as u32);
            let collecting = book.mode() == Mode::Call;
            match self.phases[index] {
                Phase::Closed | Phase::Halted => continue,
                phase if collecting && phase.is_open() => self.end_call(id, Phase::PostClose, out),
                _ => self.set_phase_only(id, Phase::PostClose, out),
            }
            self.set_phase_only(id, Phase::Closed, out);
        }
        // Today's first transitions are due at once.
        self.phase_deadline = Timestamp(0);
    }

    /// The schedule, which scheduled transitions only happen with.
    fn schedule(&self) -> Schedule {
        self.registry.config.phases.schedule.expect("scheduled transitions have a schedule")
    }

    /// Closed → PreOpen: start the opening call, which ends at the day's open plus a random
    /// end. (The day's band was set at the day roll, on the same close: a closed instrument
    /// has not traded since.)
    fn enter_pre_open(&mut self, id: InstrumentId, out: &mut Vec<Output>) {
        let open = day_start(self.now).0 + u64::from(self.schedule().open) * SECOND_NS;
        let end = Timestamp(open.max(self.now.0) + self.random_end(id));
        self.start_call(id, Phase::PreOpen, Some(end), out);
    }

    /// Re-bases every instrument's band on its previous close (at the day roll).
    pub(super) fn rebase_bands(&mut self, out: &mut Vec<Output>) {
        for index in 0..self.books.len() {
            if self.books[index].is_some() {
                self.rebase_band(InstrumentId(index as u32), out);
            }
        }
    }

    /// Re-bases the band on the previous close (the last trade, else the reference) and
    /// cancels the orders outside it.
    fn rebase_band(&mut self, id: InstrumentId, out: &mut Vec<Output>) {
        self.with_book(id, out, |book, _, events| {
            let reference = book.last_trade_price().unwrap_or(book.reference());
            // A band that cannot be built keeps the old one; the config validated it once.
            let _ = book.rebase(reference, events);
        });
    }

    /// Starts a call: the book collects until `end` (or until an operator moves it on).
    pub(super) fn start_call(
        &mut self,
        id: InstrumentId,
        phase: Phase,
        end: Option<Timestamp>,
        out: &mut Vec<Output>,
    ) {
        if let Some(book) = self.books[id.0 as usize].as_mut() {
            book.start_call();
        }
        self.call_end[id.0 as usize] = end;
        self.set_phase_only(id, phase, out);
        // Every call shows its indicative uncross afresh after its phase change (a resume
        // call after a halt, a closing call the operator starts): subscribers dropped or
        // typed the last one by the phase it was published in.
        self.indicative[id.0 as usize] = None;
        self.publish_indicative(id, out);
    }

    /// Ends a call with an uncross and moves to `next`.
    pub(super) fn end_call(&mut self, id: InstrumentId, next: Phase, out: &mut Vec<Output>) {
        let phase = self.phases[id.0 as usize];
        // The uncross is at the call's end, which may be earlier than this input: orders
        // whose time was up by then take no part; those whose time came after it were still
        // there at the uncross and trade (the input's expiry check then ends what is left).
        let until = self.call_end[id.0 as usize].filter(|end| *end <= self.now).unwrap_or(self.now);
        self.with_book(id, out, |book, _, events| book.expire(until, false, events));
        let uncrossed = self.with_book(id, out, |book, _, events| book.uncross(events)).flatten();
        let uncross = Uncross {
            instrument: id,
            phase,
            auction: uncrossed.map(|u| u.auction),
            orders_filled: uncrossed.map_or(0, |u| u.orders_filled),
        };
        self.push(OutputEvent::Uncross(uncross), out);
        self.call_end[id.0 as usize] = None;
        self.indicative[id.0 as usize] = None;
        self.set_phase_only(id, next, out);
    }

    /// A volatility interruption: the book already collects; the call ends after the
    /// configured time plus a random end.
    pub(super) fn interrupted(&mut self, id: InstrumentId, out: &mut Vec<Output>) {
        let seconds = self.registry.config.phases.volatility_auction_seconds;
        let end = self.now.0.saturating_add(seconds.saturating_mul(SECOND_NS));
        let end = Timestamp(end.saturating_add(self.random_end(id)));
        self.call_end[id.0 as usize] = Some(end);
        self.set_phase_only(id, Phase::VolatilityAuction, out);
        self.phase_deadline = self.phase_deadline.min(end);
    }

    /// An operator's resume of a halted instrument: a call of at least the configured length
    /// into the phase the schedule is in (see the module documentation), or, once the
    /// session is over, PostClose without a call.
    pub(super) fn resume(&mut self, id: InstrumentId, out: &mut Vec<Output>) {
        let seconds = self.registry.config.phases.resume_call_seconds;
        let end = Timestamp(self.now.0.saturating_add(seconds.saturating_mul(SECOND_NS)));
        let today = day_start(self.now).0;
        let (phase, end) = match self.scheduled_phase(self.now) {
            Phase::PreOpen => {
                let open = today + u64::from(self.schedule().open) * SECOND_NS;
                (Phase::PreOpen, end.max(Timestamp(open + self.random_end(id))))
            }
            Phase::ClosingCall => {
                let close = today + u64::from(self.schedule().closing_call_end) * SECOND_NS;
                (Phase::ClosingCall, end.max(Timestamp(close)))
            }
            // Before today's pre-open: the day roll expired yesterday's orders; today's
            // pre-open opens it.
            Phase::Closed if seconds_of_day(self.now) < self.schedule().pre_open => {
                self.set_phase_only(id, Phase::Closed, out);
                self.phase_deadline = self.now;
                return;
            }
            Phase::PostClose | Phase::Closed => {
                self.set_phase_only(id, Phase::PostClose, out);
                self.expire_book(id, true, out);
                self.phase_deadline = self.now;
                return;
            }
            _ => (Phase::PreOpen, end),
        };
        self.start_call(id, phase, Some(end), out);
        self.phase_deadline = self.phase_deadline.min(end);
    }

    /// An operator's halt: cancels only, nothing matches until the resume call's uncross.
    pub(super) fn halt(&mut self, id: InstrumentId, out: &mut Vec<Output>) {
        self.start_call(id, Phase::Halted, None, out);
    }

    /// An operator's move to any phase, with the side effects of entering it. A call ends
    /// with its uncross; a halted book (or one a halt left collecting after the session) is
    /// uncrossed only to trade continuously, never to close.
    pub(super) fn force_phase(&mut self, id: InstrumentId, phase: Phase, out: &mut Vec<Output>) {
        let index = id.0 as usize;
        let after_close = self
            .registry
            .config
            .phases
            .schedule
            .is_some_and(|schedule| seconds_of_day(self.now) >= schedule.close);
        self.operator_hold[index] = match phase {
            Phase::Closed => OperatorHold::Closed,
            phase if phase.is_open() && after_close => OperatorHold::OpenedAfterClose,
            _ => OperatorHold::None,
        };
        let collecting = self.books[index].as_ref().is_some_and(|book| book.mode() == Mode::Call);
        let in_call = collecting && self.phases[index].is_open();
        match phase {
            Phase::Continuous if collecting => self.end_call(id, phase, out),
            Phase::PostClose | Phase::Closed if in_call => self.end_call(id, phase, out),
            Phase::PreOpen | Phase::VolatilityAuction | Phase::ClosingCall | Phase::Halted => {
                self.start_call(id, phase, None, out);
            }
            _ => self.set_phase_only(id, phase, out),
        }
        if phase == Phase::PostClose {
            self.expire_book(id, true, out);
        }
    }

    /// Records a phase and reports the change.
    fn set_phase_only(&mut self, id: InstrumentId, to: Phase, out: &mut Vec<Output>) {
        let from = std::mem::replace(&mut self.phases[id.0 as usize], to);
        if from != to {
            let change = PhaseChange { instrument: id, from, to, time: self.now };
            self.push(OutputEvent::Phase(change), out);
        }
    }

    pub(super) fn expire_book(
        &mut self,
        id: InstrumentId,
        end_of_day: bool,
        out: &mut Vec<Output>,
    ) {
        self.with_book(id, out, |book, now, events| {
            book.expire(now, end_of_day, events);
        });
    }

    fn expire_gtd(&mut self, id: InstrumentId, until: Timestamp, out: &mut Vec<Output>) {
        self.with_book(id, out, |book, _, events| {
            book.expire_dated(until, events);
        });
    }

    /// Publishes the indicative uncross of an instrument in a call, if it changed.
    pub(super) fn publish_indicative(&mut self, id: InstrumentId, out: &mut Vec<Output>) {
        let index = id.0 as usize;
        // A halted book collects no uncross (the resume call publishes one afresh).
        if self.phases[index] == Phase::Halted {
            return;
        }
        let Some(book) = self.books[index].as_ref().filter(|book| book.mode() == Mode::Call) else {
            return;
        };
        let auction = book.indicative();
        if self.indicative[index] != auction || auction.is_none() {
            self.indicative[index] = auction;
            let indicative = crate::output::Indicative { instrument: id, auction };
            self.push(OutputEvent::Indicative(indicative), out);
        }
    }

    /// A random end in `0 ..= random_end_seconds_max` seconds, drawn from the current input's
    /// timestamp and the instrument: journaled, so replay draws the same.
    fn random_end(&self, id: InstrumentId) -> u64 {
        let seconds = self.registry.config.phases.random_end_seconds_max;
        let range = seconds.saturating_mul(SECOND_NS).saturating_add(1);
        splitmix(self.now.0 ^ (u64::from(id.0) << 40)) % range
    }

    /// The earliest time a phase transition may be due.
    pub(super) fn next_transition(&self) -> Timestamp {
        let calls = self.call_end.iter().flatten().copied().min().unwrap_or(Timestamp(u64::MAX));
        let Some(schedule) = self.registry.config.phases.schedule else { return calls };
        let second = u64::from(seconds_of_day(self.now));
        let start = day_start(self.now).0;
        let boundaries = [
            schedule.pre_open,
            schedule.open,
            schedule.close,
            schedule.closing_call_end,
            schedule.post_close_end,
        ];
        let next = boundaries
            .iter()
            .map(|&boundary| u64::from(boundary))
            .find(|&boundary| boundary > second)
            .map_or(start + (DAY_SECONDS + u64::from(schedule.pre_open)) * SECOND_NS, |b| {
                start + b * SECOND_NS
            });
        calls.min(Timestamp(next))
    }
}

/// Seconds since Minsk midnight.
fn seconds_of_day(now: Timestamp) -> u32 {
    (((now.0 + MINSK_OFFSET_NS) / SECOND_NS) % DAY_SECONDS) as u32
}

/// The instant of the last Minsk midnight at or before `now`.
fn day_start(now: Timestamp) -> Timestamp {
    let day_ns = DAY_SECONDS * SECOND_NS;
    Timestamp(((now.0 + MINSK_OFFSET_NS) / day_ns) * day_ns - MINSK_OFFSET_NS)
}

/// SplitMix64's finaliser: a well-mixed function of its input.
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
