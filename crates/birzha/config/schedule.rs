//! `[schedule]`: the trading day in Minsk time (UTC+3, no daylight saving), the exchange's
//! time zone; the engine's calendar counts days in it too.
//!
//! Without this section every instrument is always open (in Continuous), which is how the
//! default config lets anyone try the server at any hour. With it, the day runs
//! `pre_open` (call) → `open` (opening uncross, ending up to `random_end_seconds_max` later)
//! → Continuous → `close` (closing call) → `closing_call_end` (closing uncross) → PostClose →
//! `post_close_end` (Closed). This module only reads and checks the times; the engine applies
//! them.

use core::fmt;

use serde::de::{self, Deserialize, Deserializer};

use super::error::ConfigError;

/// The longest random end of the opening call, in seconds.
pub(crate) const RANDOM_END_SECONDS_MAX: u32 = 300;

/// `[schedule]` as written in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleSection {
    /// Start of the opening call (PreOpen).
    pub(crate) pre_open: LocalTime,
    /// The opening uncross, at the earliest.
    pub(crate) open: LocalTime,
    /// The most seconds the opening uncross is delayed by, chosen at random each day.
    #[serde(default)]
    pub(crate) random_end_seconds_max: u32,
    /// End of continuous trading and start of the closing call.
    pub(crate) close: LocalTime,
    /// The closing uncross; PostClose starts.
    pub(crate) closing_call_end: LocalTime,
    /// End of PostClose; the instrument is Closed until the next day.
    pub(crate) post_close_end: LocalTime,
}

impl ScheduleSection {
    /// Checks that the times follow each other and the random end fits the opening call.
    ///
    /// # Errors
    /// Returns [`ConfigError::Invalid`] naming the first time that is not after the one before
    /// it, or a random end longer than [`RANDOM_END_SECONDS_MAX`] or reaching `close`.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let random_end = self.random_end_seconds_max;
        if random_end > RANDOM_END_SECONDS_MAX {
            let allowed = format!("0 to {RANDOM_END_SECONDS_MAX} seconds");
            return Err(ConfigError::invalid(
                "schedule.random_end_seconds_max",
                random_end,
                allowed,
            ));
        }
        let steps = [
            ("pre_open", self.pre_open),
            ("open", self.open),
            ("close", self.close),
            ("closing_call_end", self.closing_call_end),
            ("post_close_end", self.post_close_end),
        ];
        for pair in steps.windows(2) {
            let [(before_name, before), (name, time)] = pair else { continue };
            if time.seconds <= before.seconds {
                let allowed = format!("a time after schedule.{before_name} (\"{before}\")");
                let value = format!("\"{time}\"");
                return Err(ConfigError::invalid(format!("schedule.{name}"), value, allowed));
            }
        }
        if self.open.seconds + random_end >= self.close.seconds {
            let allowed =
                format!("an opening call ending before schedule.close (\"{}\")", self.close);
            return Err(ConfigError::invalid(
                "schedule.random_end_seconds_max",
                random_end,
                allowed,
            ));
        }
        Ok(())
    }
}

/// A time of day in exchange time, written `"HH:MM"` or `"HH:MM:SS"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LocalTime {
    /// Seconds since local midnight, below 86 400.
    pub(crate) seconds: u32,
}

impl LocalTime {
    /// Parses `HH:MM` or `HH:MM:SS` on a 24-hour clock.
    fn parse(text: &str) -> Option<LocalTime> {
        let mut parts = text.split(':');
        let hours = two_digits(parts.next()?, 23)?;
        let minutes = two_digits(parts.next()?, 59)?;
        let seconds = match parts.next() {
            Some(part) => two_digits(part, 59)?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(LocalTime { seconds: hours * 3_600 + minutes * 60 + seconds })
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes, seconds) =
            (self.seconds / 3_600, self.seconds / 60 % 60, self.seconds % 60);
        if seconds == 0 {
            write!(f, "{hours:02}:{minutes:02}")
        } else {
            write!(f, "{hours:02}:{minutes:02}:{seconds:02}")
        }
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        LocalTime::parse(&text).ok_or_else(|| {
            de::Error::custom(format!("\"{text}\" is not a time of day such as \"10:45\""))
        })
    }
}

/// Parses exactly two ASCII digits no greater than `max`.
fn two_digits(text: &str, max: u32) -> Option<u32> {
    if text.len() != 2 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|value| *value <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the Minsk day of market-model §5, with `key` set to `value` (TOML text).
    fn schedule(key: &str, value: &str) -> Result<ScheduleSection, String> {
        let lines = [
            ("pre_open", "\"10:45\""),
            ("open", "\"11:00\""),
            ("random_end_seconds_max", "30"),
            ("close", "\"15:00\""),
            ("closing_call_end", "\"15:05\""),
            ("post_close_end", "\"15:30\""),
        ];
        let text: String = lines
            .iter()
            .map(|(name, default)| {
                format!("{name} = {}\n", if *name == key { value } else { default })
            })
            .collect();
        toml::from_str(&text).map_err(|error| error.to_string())
    }

    #[test]
    fn times_parse_and_display() {
        assert_eq!(LocalTime::parse("10:45"), Some(LocalTime { seconds: 38_700 }));
        assert_eq!(LocalTime::parse("23:59:59"), Some(LocalTime { seconds: 86_399 }));
        for bad in ["24:00", "9:00", "10:60", "10:45:60", "10-45", "10:45:00:00", ""] {
            assert_eq!(LocalTime::parse(bad), None, "{bad:?}");
        }
        assert_eq!(LocalTime { seconds: 38_700 }.to_string(), "10:45");
        assert_eq!(LocalTime { seconds: 38_701 }.to_string(), "10:45:01");
    }

    #[test]
    fn the_minsk_day_is_valid() {
        let day = schedule("", "").expect("parses");
        assert_eq!(day.pre_open, LocalTime { seconds: 10 * 3_600 + 45 * 60 });
        assert_eq!(day.open, LocalTime { seconds: 11 * 3_600 });
        assert!(day.validate().is_ok());
    }

    #[test]
    fn times_out_of_order_name_the_key_and_the_bound() {
        let day = schedule("close", "\"10:30\"").expect("parses");
        let error = day.validate().expect_err("close before open").to_string();
        assert_eq!(
            error,
            "schedule.close = \"10:30\" is not allowed: expected a time after schedule.open \
             (\"11:00\")"
        );
        let day = schedule("random_end_seconds_max", "301").expect("parses");
        let error = day.validate().expect_err("too long").to_string();
        assert!(error.starts_with("schedule.random_end_seconds_max = 301"), "{error}");
        let error = schedule("open", "\"11h\"").expect_err("bad time");
        assert!(error.contains("\"11h\" is not a time of day"), "{error}");
    }
}
