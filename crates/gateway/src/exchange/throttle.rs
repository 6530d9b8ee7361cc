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
    /// Messages refused since `window_start`.
    refused: u32,
    window_start: Duration,
}

/// A session refused more than this many messages within [`ABUSE_WINDOW`] is logged out.
pub(crate) const ABUSE_REFUSALS_MAX: u32 = 1_000;

/// The window over which refusals are counted.
pub(crate) const ABUSE_WINDOW: Duration = Duration::from_secs(10);

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
    /// Over the rate for too long: refuse it and log the session out.
    Abuse,
}

impl Throttle {
    pub(crate) fn new(orders_per_second: u32, cancels_per_second: u32, now: Duration) -> Throttle {
        Throttle {
            orders: Bucket::new(orders_per_second, now),
            cancels: Bucket::new(cancels_per_second, now),
            refused: 0,
            window_start: now,
        }
    }

    pub(crate) fn check(&mut self, cost: Cost, now: Duration) -> Verdict {
        let bucket = match cost {
            Cost::Order => &mut self.orders,
            Cost::Cancel => &mut self.cancels,
        };
        if bucket.take(now) {
            return Verdict::Pass;
        }
        if now.saturating_sub(self.window_start) > ABUSE_WINDOW {
            self.window_start = now;
            self.refused = 0;
        }
        self.refused += 1;
        if self.refused > ABUSE_REFUSALS_MAX {
            Verdict::Abuse
        } else {
            Verdict::Refuse { first: self.refused == 1 }
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
    fn sustained_abuse_is_flagged() {
        let start = Duration::from_secs(1);
        let mut throttle = Throttle::new(1, 1, start);
        let verdicts: Vec<Verdict> =
            (0..=ABUSE_REFUSALS_MAX + 1).map(|_| throttle.check(Cost::Order, start)).collect();
        assert_eq!(verdicts[0], Verdict::Pass);
        assert_eq!(verdicts[1], Verdict::Refuse { first: true });
        assert_eq!(verdicts[2], Verdict::Refuse { first: false });
        assert_eq!(verdicts.last(), Some(&Verdict::Abuse));
    }
}
