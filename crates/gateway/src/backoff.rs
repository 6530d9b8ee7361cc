//! Slows down addresses whose Logons keep being refused.
//!
//! Each refusal from an address doubles the delay imposed before that address's next Logon is
//! looked at, from `base` up to `max`; a successful Logon forgets the address. Logons from an
//! address with refusals that are still being answered count as refusals to come, so that
//! Logons sent at once wait 1, 2, 4, … times the delay instead of all the same one (parallel
//! guesses would otherwise get around the doubling). An address without refusals is never
//! delayed: a firm's traders behind one address log on at once. The table is bounded: past
//! `ADDRESSES_MAX` entries the stalest one is forgotten.

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
    /// By address, lookup only (never iterated in an order that matters except to find the
    /// stalest entry).
    failures: Mutex<HashMap<IpAddr, Failures>>,
    base: Duration,
    max: Duration,
}

/// An address's refusals.
#[derive(Debug, Clone, Copy)]
struct Failures {
    refused: u32,
    /// Logons being answered that were delayed (counted as refusals to come).
    pending: u32,
    last: Instant,
}

/// A Logon being answered: see [`AuthBackoff::begin`]. Dropped once it is answered.
#[derive(Debug)]
pub(crate) struct Attempt<'a> {
    backoff: &'a AuthBackoff,
    address: IpAddr,
    /// Whether it counts as a refusal to come.
    counted: bool,
    /// How long to wait before looking at the Logon.
    pub(crate) delay: Duration,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut failures = self.backoff.lock();
        if let Some(entry) = failures.get_mut(&self.address) {
            entry.pending = entry.pending.saturating_sub(1);
        }
    }
}

impl AuthBackoff {
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self { failures: Mutex::new(HashMap::new()), base, max }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts answering a Logon from `address`: returns how long to delay it, counting it as a
    /// refusal to come (for other Logons from the address) until the attempt is dropped.
    pub(crate) fn begin(&self, address: IpAddr) -> Attempt<'_> {
        let mut failures = self.lock();
        let Some(entry) = failures.get_mut(&address).filter(|entry| entry.refused > 0) else {
            return Attempt { backoff: self, address, counted: false, delay: Duration::ZERO };
        };
        let doublings = (entry.refused - 1).saturating_add(entry.pending).min(16);
        entry.pending = entry.pending.saturating_add(1);
        let delay = self.base.saturating_mul(1 << doublings).min(self.max);
        Attempt { backoff: self, address, counted: true, delay }
    }

    pub(crate) fn refused(&self, address: IpAddr) {
        let mut failures = self.lock();
        if failures.len() >= ADDRESSES_MAX && !failures.contains_key(&address) {
            let stalest =
                failures.iter().min_by_key(|(_, entry)| entry.last).map(|(address, _)| *address);
            if let Some(stalest) = stalest {
                failures.remove(&stalest);
            }
        }
        let now = Instant::now();
        let entry =
            failures.entry(address).or_insert(Failures { refused: 0, pending: 0, last: now });
        entry.refused = entry.refused.saturating_add(1);
        entry.last = now;
    }

    pub(crate) fn accepted(&self, address: IpAddr) {
        self.lock().remove(&address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_and_is_capped_and_forgotten() {
        let backoff = AuthBackoff::new(Duration::from_millis(100), Duration::from_millis(300));
        let address: IpAddr = [10, 0, 0, 1].into();
        let delay = |backoff: &AuthBackoff| backoff.begin(address).delay;
        assert_eq!(delay(&backoff), Duration::ZERO);
        backoff.refused(address);
        assert_eq!(delay(&backoff), Duration::from_millis(100));
        backoff.refused(address);
        assert_eq!(delay(&backoff), Duration::from_millis(200));
        backoff.refused(address);
        assert_eq!(delay(&backoff), Duration::from_millis(300));
        backoff.accepted(address);
        assert_eq!(delay(&backoff), Duration::ZERO);
    }

    #[test]
    fn logons_answered_at_once_wait_longer_each() {
        let backoff = AuthBackoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let address: IpAddr = [10, 0, 0, 2].into();
        let first = backoff.begin(address);
        assert_eq!(first.delay, Duration::ZERO, "no refusal yet: a burst of Logons is not slowed");
        drop(first);
        backoff.refused(address);
        let attempts: Vec<Attempt<'_>> = (0..4).map(|_| backoff.begin(address)).collect();
        let delays: Vec<u64> = attempts.iter().map(|a| a.delay.as_millis() as u64).collect();
        assert_eq!(delays, [100, 200, 400, 800]);
        drop(attempts);
        assert_eq!(backoff.begin(address).delay, Duration::from_millis(100), "all answered");
    }
}
