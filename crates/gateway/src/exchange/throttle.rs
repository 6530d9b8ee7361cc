//! Per-session token buckets: orders and modifies share one, cancels have their own (market
//! model §6). Time is passed in, so the buckets are testable without a clock.

use std::time::Duration;

/// A token bucket: `rate` tokens per second, at most `rate` saved up (one second of burst).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    rate: f64,
    tokens: f64,
    /// When `tokens` was last brought up to date, since an arbitrary origin.
    updated: Duration,
}

impl Bucket {
    pub(crate) fn new(rate: u32, now: Duration) -> Bucket {
        let rate = f64::from(rate.max(1));
        Bucket { rate, tokens: rate, updated: now }
    }

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self, now: Duration) -> bool {
        let elapsed = now.saturating_sub(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What a message costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cost {
    /// A new order or a modify.
    Order,
    /// A cancel or mass cancel.
    Cancel,
}

/// One session's buckets and its record of abuse.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Throttle {
    orders: Bucket,
    cancels: Bucket,
    /// The whole second (since the origin) of the last refusal.
    refused_second: u64,
    /// Consecutive seconds, up to `refused_second`, each with at least one refusal.
    refused_seconds: u64,
    /// This run of refused seconds has been found abusive already.
    abused: bool,
}

/// A session over its rate in each of this many consecutive seconds is disconnected: a burst
/// is only throttled, a flood that does not stop is abuse.
pub(crate) const ABUSE_SECONDS: u64 = 10;

/// The throttle's verdict on one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the rate.
    Pass,
    /// Over the rate: refuse this message (`first`: the first refusal of the window).
    Refuse {
        /// Whether this is the window's first refusal (the one worth a log line).
        first: bool,
    },
    /// Over the rate for too long: refuse it and log the session out (`first`: the first
    /// such verdict of the run, the one that logs it out; later messages until the session
    /// ends are only refused).
    Abuse {
        /// Whether this is the run's first verdict of abuse.
        first: bool,
    },
}

impl Throttle {
    pub(crate) fn new(orders_per_second: u32, cancels_per_second: u32, now: Duration) -> Throttle {
        Throttle {
            orders: Bucket::new(orders_per_second, now),
            cancels: Bucket::new(cancels_per_second, now),
            refused_second: u64::MAX,
            refused_seconds: 0,
            abused: false,
        }
    }

    /// A new session of the trader: its next verdict of abuse is a first again (it logs
    /// this session out too).
    pub(crate) fn session_started(&mut self) {
        self.abused = false;
    }

    pub(crate) fn check(&mut self, cost: Cost, now: Duration) -> Verdict {
        let bucket = match cost {
            Cost::Order => &mut self.orders,
            Cost::Cancel => &mut self.cancels,
        };
        if bucket.take(now) {
            return Verdict::Pass;
        }
        let second = now.as_secs();
        let first = second != self.refused_second;
        if first {
            let consecutive = self.refused_second.checked_add(1) == Some(second);
            self.refused_seconds = if consecutive { self.refused_seconds + 1 } else { 1 };
            self.refused_second = second;
            self.abused &= consecutive;
        }
        if self.refused_seconds >= ABUSE_SECONDS {
            let first = !self.abused;
            self.abused = true;
            Verdict::Abuse { first }
        } else {
            Verdict::Refuse { first: first && self.refused_seconds == 1 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_with_one_second_of_burst() {
        let start = Duration::from_secs(100);
        let mut throttle = Throttle::new(10, 1000, start);
        let passed =
            (0..20).filter(|_| throttle.check(Cost::Order, start) == Verdict::Pass).count();
        assert_eq!(passed, 10, "a burst of one second's worth");
        assert_eq!(throttle.check(Cost::Cancel, start), Verdict::Pass, "cancels have their own");
        let later = start + Duration::from_millis(500);
        let passed =
            (0..20).filter(|_| throttle.check(Cost::Order, later) == Verdict::Pass).count();
        assert_eq!(passed, 5, "refilled at 10 per second");
    }

    #[test]
    fn a_burst_is_throttled_and_a_flood_that_does_not_stop_is_abuse() {
        let start = Duration::from_secs(1);
        let mut throttle = Throttle::new(1, 1, start);
        let burst: Vec<Verdict> = (0..1_000).map(|_| throttle.check(Cost::Order, start)).collect();
        assert_eq!(burst[0], Verdict::Pass);
        assert_eq!(burst[1], Verdict::Refuse { first: true });
        assert!(burst[2..].iter().all(|v| *v == Verdict::Refuse { first: false }));
        let mut verdicts = Vec::new();
        for second in 1..=ABUSE_SECONDS + 1 {
            let now = start + Duration::from_secs(second);
            verdicts.extend((0..10).map(|_| throttle.check(Cost::Order, now)));
        }
        let abuse = |first| verdicts.iter().filter(|v| **v == Verdict::Abuse { first }).count();
        // Each second one order passes and nine are refused. With `start`'s burst, the run's
        // first nine seconds are throttled, the 10th is abuse.
        assert_eq!((verdicts[79], verdicts[80]), (Verdict::Refuse { first: false }, Verdict::Pass));
        assert_eq!(verdicts[81], Verdict::Abuse { first: true }, "over the rate for 10 seconds");
        assert_eq!((abuse(true), abuse(false)), (1, 26), "one verdict logs the session out");
        // A new session abusing on in the same run is logged out too.
        throttle.session_started();
        let now = start + Duration::from_secs(ABUSE_SECONDS + 1);
        assert_eq!(throttle.check(Cost::Order, now), Verdict::Abuse { first: true });
        assert_eq!(throttle.check(Cost::Order, now), Verdict::Abuse { first: false });
        // A pause resets the count.
        let later = start + Duration::from_secs(100);
        let verdicts: Vec<Verdict> = (0..5).map(|_| throttle.check(Cost::Order, later)).collect();
        assert!(!verdicts.iter().any(|v| matches!(v, Verdict::Abuse { .. })));
    }
}
