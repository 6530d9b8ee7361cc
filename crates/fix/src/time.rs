//! UTC timestamps in FIX's `UTCTimestamp` format, `YYYYMMDD-HH:MM:SS.sss`.
//!
//! A [`UtcTimestamp`] is a count of milliseconds since the Unix epoch. Formatting and parsing use
//! the proleptic Gregorian calendar (days-from-civil arithmetic), so they need neither a clock
//! nor a time-zone database and never allocate.
//!
//! # Limits
//! Years 1970 through 9999 only: FIX timestamps have four-digit years, and nothing before the
//! epoch is a valid SendingTime for this exchange.

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UtcTimestamp(pub i64);

/// The length of a timestamp with milliseconds: `YYYYMMDD-HH:MM:SS.sss`.
pub const TIMESTAMP_LEN: usize = 21;

const MS_PER_DAY: i64 = 86_400_000;
/// 9999-12-31T23:59:59.999Z, the last instant a four-digit year can express.
const TIMESTAMP_MAX_MS: i64 = 253_402_300_799_999;

impl UtcTimestamp {
    /// Returns the timestamp as `YYYYMMDD-HH:MM:SS.sss`.
    ///
    /// # Panics
    /// Panics if the timestamp lies outside years 1970–9999 (a bug: callers pass clock readings).
    #[must_use]
    #[inline]
    pub fn format(self) -> [u8; TIMESTAMP_LEN] {
        assert!((0..=TIMESTAMP_MAX_MS).contains(&self.0), "Invariant: timestamp within 1970-9999");
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let mut out = *b"00000000-00:00:00.000";
        put_digits(&mut out[0..4], year as u64);
        put_digits(&mut out[4..6], u64::from(month));
        put_digits(&mut out[6..8], u64::from(day));
        put_digits(&mut out[9..11], (ms_of_day / 3_600_000) as u64);
        put_digits(&mut out[12..14], (ms_of_day / 60_000 % 60) as u64);
        put_digits(&mut out[15..17], (ms_of_day / 1000 % 60) as u64);
        put_digits(&mut out[18..21], (ms_of_day % 1000) as u64);
        out
    }

    /// Parses `YYYYMMDD-HH:MM:SS` with an optional fraction of 1 to 9 digits (kept to
    /// milliseconds, truncated). Returns `None` if the text is not a valid UTC timestamp.
    #[must_use]
    pub fn parse(text: &[u8]) -> Option<Self> {
        if text.len() < 17 || text[8] != b'-' {
            return None;
        }
        let days = parse_date(&text[..8])?;
        let ms_of_day = parse_time_only(&text[9..])?;
        Some(Self(days * MS_PER_DAY + ms_of_day))
    }
}

/// Parses `YYYYMMDD` to days since the epoch, checking month and day ranges.
pub(crate) fn parse_date(text: &[u8]) -> Option<i64> {
    if text.len() != 8 {
        return None;
    }
    let year = digits(&text[0..4])? as i64;
    let month = digits(&text[4..6])? as u32;
    let day = digits(&text[6..8])? as u32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Parses `HH:MM:SS` with an optional `.` and 1 to 9 fraction digits, to milliseconds of day.
/// A leap second (`SS` = 60) is accepted, as FIX allows it.
pub(crate) fn parse_time_only(text: &[u8]) -> Option<i64> {
    if text.len() < 8 || text[2] != b':' || text[5] != b':' {
        return None;
    }
    let hours = digits(&text[0..2])? as i64;
    let minutes = digits(&text[3..5])? as i64;
    let seconds = digits(&text[6..8])? as i64;
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let mut ms = 0;
    if text.len() > 8 {
        let fraction = &text[9..];
        if text[8] != b'.' || fraction.is_empty() || fraction.len() > 9 {
            return None;
        }
        digits(fraction)?;
        for (index, byte) in fraction.iter().take(3).enumerate() {
            ms += i64::from(byte - b'0') * [100, 10, 1][index];
        }
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000 + ms)
}

/// Parses ASCII decimal digits (at most 18) into a number; `None` for anything else.
fn digits(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 18 {
        return None;
    }
    let mut value = 0u64;
    for &byte in text {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(byte - b'0');
    }
    Some(value)
}

fn put_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_known_instants() {
        let instant = UtcTimestamp(1_700_000_000_123);
        assert_eq!(&instant.format(), b"20231114-22:13:20.123");
        assert_eq!(UtcTimestamp::parse(b"20231114-22:13:20.123"), Some(instant));
        assert_eq!(UtcTimestamp::parse(b"19700101-00:00:00"), Some(UtcTimestamp(0)));
        assert_eq!(&UtcTimestamp(0).format(), b"19700101-00:00:00.000");
        assert_eq!(
            UtcTimestamp::parse(b"20240229-23:59:59.999999"),
            Some(UtcTimestamp(1_709_251_199_999))
        );
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for text in [
            &b"20040415"[..],
            b"20230230-00:00:00",
            b"20231301-00:00:00",
            b"20231114-24:00:00",
            b"20231114-22:13:20.",
            b"20231114-22:13:20.1234567890",
            b"2023111-22:13:20.123",
            b"20231114 22:13:20",
        ] {
            assert_eq!(UtcTimestamp::parse(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn round_trips_every_day_boundary_over_centuries() {
        let mut day = 0;
        while day < 2_932_896 {
            let stamp = UtcTimestamp(day * MS_PER_DAY + 86_399_999);
            assert_eq!(UtcTimestamp::parse(&stamp.format()), Some(stamp));
            day += 97;
        }
    }
}
