//! The client's errors, layered as the client is: a request that cannot be encoded
//! ([`RequestError`]), a message from the exchange that cannot be decoded ([`DecodeError`]), and
//! the session's end or failure ([`ClientError`]).
//!
//! Business outcomes (an order rejected, a cancel refused) are not errors: they arrive as
//! [`Event`](crate::Event)s.

/// Why a request cannot be sent: a value the user gave is not valid on the wire. Checked
/// before anything is written, so a bad request never reaches the socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A text field is empty, too long, or holds a character outside printable ASCII.
    #[error("{field} ({tag}) `{value}` must be 1 to {max} printable ASCII characters")]
    InvalidText {
        /// The field's name.
        field: &'static str,
        /// Its FIX tag.
        tag: u32,
        /// The value as given (non-printable characters escaped).
        value: String,
        /// The longest value accepted.
        max: usize,
    },
    /// A decimal has more digits than a FIX field of this profile can carry.
    #[error("{field} ({tag}) {value} has too many digits")]
    DecimalTooLarge {
        /// The field's name.
        field: &'static str,
        /// Its FIX tag.
        tag: u32,
        /// The value as given.
        value: String,
    },
    /// A quantity is zero.
    #[error("{field} ({tag}) must be at least 1 lot")]
    ZeroQuantity {
        /// The field's name.
        field: &'static str,
        /// Its FIX tag.
        tag: u32,
    },
    /// A market-data request names no symbol or no entry type.
    #[error("a market-data request needs at least one symbol and one of book or trades")]
    EmptyMarketDataRequest,
}

/// Why a message from the exchange cannot be turned into an [`Event`](crate::Event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A required field is absent.
    #[error("{msg_type} message without {field} ({tag})")]
    Missing {
        /// The message's MsgType.
        msg_type: String,
        /// The field's name.
        field: &'static str,
        /// Its tag.
        tag: u32,
    },
    /// A field's value is not of its type or not one of its enumerated values.
    #[error("{msg_type} message with bad {field} ({tag}) `{value}`")]
    Invalid {
        /// The message's MsgType.
        msg_type: String,
        /// The field's name.
        field: &'static str,
        /// Its tag.
        tag: u32,
        /// The value received (lossy UTF-8).
        value: String,
    },
}

/// Why a session could not start, or how it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TCP connection could not be made, or the socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The socket error.
        source: std::io::Error,
    },
    /// The exchange refused the Logon; `text` is its reason (Text, 58) or a description of how
    /// the connection ended.
    #[error("logon refused: {text}")]
    LogonRefused {
        /// The exchange's reason.
        text: String,
    },
    /// No answer to the Logon within the timeout.
    #[error("no answer to the Logon within {seconds} s")]
    LogonTimeout {
        /// The timeout.
        seconds: u64,
    },
    /// The exchange closed the connection without a Logout.
    #[error("the exchange closed the connection")]
    ConnectionClosed,
    /// The exchange logged the session out; `text` is its reason, if it gave one.
    #[error("logged out by the exchange{}", suffix(text.as_deref()))]
    LoggedOut {
        /// The exchange's Text (58).
        text: Option<String>,
    },
    /// The exchange was silent for more than 2.4 heartbeat intervals.
    #[error("the exchange was silent for {seconds} s")]
    Silent {
        /// How long.
        seconds: u64,
    },
    /// The exchange sent a MsgSeqNum lower than expected without PossDupFlag: messages were
    /// lost that can never be recovered, so the session is ended.
    #[error("MsgSeqNum too low: expected {expected}, received {received}")]
    SequenceTooLow {
        /// The next number expected.
        expected: u64,
        /// The number received.
        received: u64,
    },
    /// More messages arrived out of order than the client holds while a gap is filled.
    #[error("more than {limit} messages queued behind a sequence gap")]
    GapTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The exchange sent a frame larger than the limit, or one the codec cannot frame.
    #[error("the exchange sent a message larger than {limit} bytes")]
    MessageTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The request could not be encoded.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The session task has ended: nothing more can be sent.
    #[error("the session has ended")]
    SessionEnded,
}

/// `": text"`, or nothing.
fn suffix(text: Option<&str>) -> String {
    text.map(|text| format!(": {text}")).unwrap_or_default()
}

impl ClientError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> ClientError {
        move |source| ClientError::Io { context, source }
    }
}
