//! The gateway's error type.

use birzha_fix::session::{SessionError, StoreError};

/// Why the gateway or one of its connections failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// Socket I/O failed.
    #[error("socket I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session layer failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A peer sent a message larger than the limit.
    #[error("message larger than {limit} bytes")]
    MessageTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The task answering a Logon panicked.
    #[error("the task answering a Logon panicked")]
    LogonPanicked,
    /// Accepting connections kept failing.
    #[error("accept failed after retries: {0}")]
    Accept(std::io::Error),
}
