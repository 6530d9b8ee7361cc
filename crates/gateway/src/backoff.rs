//! Slows down addresses whose Logons keep being refused.
//!
//! Each refusal from an address doubles the delay imposed before that address's next Logon is
//! looked at, from `base` up to `max`; a successful Logon forgets the address. The table is
//! bounded: past `ADDRESSES_MAX` entries the stalest one is forgotten.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The most addresses remembered.
const ADDRESSES_MAX: usize = 4096;

/// Refusal counts by address. A `std` mutex: it is never held across an `.await`.
#[derive(Debug)]
pub(crate) struct AuthBackoff {
    /// Refusals and the time of the last one, by address (lookup only; never iterated in an
    /// order that matters except to find the stalest entry).
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    base: Duration,
    max: Duration,
}

impl AuthBackoff {
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self { failures: Mutex::new(HashMap::new()), base, max }
    }

    /// The delay to impose on `address` now.
    pub(crate) fn delay(&self, address: IpAddr) -> Duration {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match failures.get(&address) {
            Some(&(count, _)) if count > 0 => {
                let factor = 1u32 << (count - 1).min(16);
                self.base.saturating_mul(factor).min(self.max)
            }
            _ => Duration::ZERO,
        }
    }

    pub(crate) fn refused(&self, address: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= ADDRESSES_MAX && !failures.contains_key(&address) {
            let stalest =
                failures.iter().min_by_key(|(_, (_, when))| *when).map(|(address, _)| *address);
            if let Some(stalest) = stalest {
                failures.remove(&stalest);
            }
        }
        let entry = failures.entry(address).or_insert((0, Instant::now()));
        *entry = (entry.0.saturating_add(1), Instant::now());
    }

    pub(crate) fn accepted(&self, address: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.remove(&address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_and_is_capped_and_forgotten() {
        let backoff = AuthBackoff::new(Duration::from_millis(100), Duration::from_millis(300));
        let address: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(backoff.delay(address), Duration::ZERO);
        backoff.refused(address);
        assert_eq!(backoff.delay(address), Duration::from_millis(100));
        backoff.refused(address);
        assert_eq!(backoff.delay(address), Duration::from_millis(200));
        backoff.refused(address);
        assert_eq!(backoff.delay(address), Duration::from_millis(300));
        backoff.accepted(address);
        assert_eq!(backoff.delay(address), Duration::ZERO);
    }
}
