//! The time the session layer is given: UTC milliseconds advancing with tokio's clock.
//!
//! The wall clock is read once, at start; after that time advances with `tokio::time::Instant`,
//! which is monotonic (no jumps backwards when the system clock is stepped) and which tests can
//! pause and advance. Drift against the wall clock stays far inside the 120 s SendingTime
//! tolerance for any realistic uptime between restarts.

use std::time::SystemTime;

use birzha_fix::UtcTimestamp;
use tokio::time::Instant;

/// A UTC clock anchored at construction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// UTC milliseconds at `anchor`.
    utc_ms: i64,
    /// The tokio instant of the anchor.
    anchor: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let since_epoch =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        Self { utc_ms: since_epoch.as_millis() as i64, anchor: Instant::now() }
    }

    pub(crate) fn now(&self) -> UtcTimestamp {
        UtcTimestamp(self.utc_ms + self.anchor.elapsed().as_millis() as i64)
    }

    /// The tokio instant at which the UTC clock reads `utc_ms`.
    pub(crate) fn instant_at(&self, utc_ms: i64) -> Instant {
        let offset = (utc_ms - self.utc_ms).max(0) as u64;
        self.anchor + std::time::Duration::from_millis(offset)
    }
}
