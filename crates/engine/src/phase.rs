//! Trading phases of an instrument (market model §5).

use core::fmt;

/// The phase an instrument is in. It decides which requests are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Phase {
    /// No trading; nothing is accepted.
    Closed = 0,
    /// Opening call: orders are collected without matching.
    PreOpen = 1,
    /// Continuous trading.
    Continuous = 2,
    /// A volatility interruption: a call after a price jump.
    VolatilityAuction = 3,
    /// Closing call.
    ClosingCall = 4,
    /// After the close: cancels only.
    PostClose = 5,
    /// Halted by an operator: cancels only.
    Halted = 6,
}

impl Phase {
    /// Every phase, in declaration order.
    pub const ALL: [Phase; 7] = [
        Phase::Closed,
        Phase::PreOpen,
        Phase::Continuous,
        Phase::VolatilityAuction,
        Phase::ClosingCall,
        Phase::PostClose,
        Phase::Halted,
    ];

    /// Returns the phase's name as operators and FIX (TradingSessionID) see it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Closed => "Closed",
            Phase::PreOpen => "PreOpen",
            Phase::Continuous => "Continuous",
            Phase::VolatilityAuction => "VolatilityAuction",
            Phase::ClosingCall => "ClosingCall",
            Phase::PostClose => "PostClose",
            Phase::Halted => "Halted",
        }
    }

    /// Returns the phase for a name (case-insensitive).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|phase| phase.name().eq_ignore_ascii_case(name))
    }

    /// Returns the phase with this code.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Phase> {
        Phase::ALL.get(usize::from(code)).copied()
    }

    /// Returns whether new orders and replaces are accepted.
    #[must_use]
    pub fn accepts_orders(self) -> bool {
        matches!(
            self,
            Phase::PreOpen | Phase::Continuous | Phase::VolatilityAuction | Phase::ClosingCall
        )
    }

    /// Returns whether the phase is part of the open session (an operator may halt it):
    /// PreOpen, Continuous, VolatilityAuction or ClosingCall.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Phase::PreOpen | Phase::Continuous | Phase::VolatilityAuction | Phase::ClosingCall
        )
    }

    /// Returns whether cancels are accepted.
    #[must_use]
    pub fn accepts_cancels(self) -> bool {
        self != Phase::Closed
    }

    /// Returns whether incoming orders match (otherwise they are collected for an uncross).
    #[must_use]
    pub fn matches(self) -> bool {
        self == Phase::Continuous
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
