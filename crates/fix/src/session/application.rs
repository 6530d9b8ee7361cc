//! The upward interface of the session layer: what it asks of the application above it.

use crate::MessageView;

/// Identifies a session: our CompID and the counterparty's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    /// Our CompID (SenderCompID of what we send).
    pub local: String,
    /// The counterparty's CompID (SenderCompID of what they send; the trader id).
    pub remote: String,
}

/// What a Logon asks for, as far as the application decides on it.
#[derive(Debug, Clone, Copy)]
pub struct LogonRequest<'a> {
    /// SenderCompID (49): the trader id.
    pub sender_comp_id: &'a str,
    /// Username (553), if sent (the session layer has checked it equals SenderCompID).
    pub username: Option<&'a str>,
    /// Password (554), if sent.
    pub password: Option<&'a str>,
    /// HeartBtInt (108) in seconds.
    pub heartbeat_secs: u32,
    /// ResetSeqNumFlag (141) = Y.
    pub reset_seq_num: bool,
}

/// A refused Logon: the reason goes into the Text (58) of the Logout sent before disconnecting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("logon refused: {text}")]
pub struct Refusal {
    /// Human-readable reason, sent to the counterparty.
    pub text: String,
}

impl Refusal {
    /// A refusal with this reason.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

/// What the application did with a delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Taken: the session moves on.
    Accepted,
    /// The application does not handle this MsgType: the session answers with a
    /// BusinessMessageReject, BusinessRejectReason (380) 3.
    Unsupported,
    /// Refused at the business level: the session answers with a BusinessMessageReject.
    Rejected {
        /// BusinessRejectReason (380).
        reason: u32,
        /// Text (58).
        text: String,
    },
}

/// The application above the session layer. Calls come from the task that owns the session,
/// one at a time per session; implementations shared by many sessions must be `Sync`.
pub trait Application {
    /// Decides whether a Logon may proceed (the session layer has already checked the message,
    /// its CompIDs and SendingTime).
    ///
    /// # Errors
    /// Returns a [`Refusal`] whose text the counterparty receives in a Logout.
    fn authenticate(&self, logon: &LogonRequest<'_>) -> Result<(), Refusal>;

    /// The session is logged on.
    fn on_logon(&self, session: &SessionId) {
        let _ = session;
    }

    /// Delivers a validated application message, in sequence, exactly once (PossDup
    /// duplicates of messages already delivered are never delivered again).
    fn on_message(&self, session: &SessionId, message: &MessageView<'_>) -> Delivery;

    /// The session has ended. `voluntary` is true when it ended with a Logout exchange, false
    /// when the connection was lost, timed out or was dropped for a protocol violation.
    fn on_logout(&self, session: &SessionId, voluntary: bool) {
        let _ = (session, voluntary);
    }

    /// The acceptor is shutting down: every session is about to be logged out, and those
    /// that end from now on end because of the shutdown. Called once, before any of them.
    fn on_shutdown(&self) {}
}
