//! Trading days in Minsk time (UTC+3, no daylight saving): the calendar the exchange keeps.
//! Pure arithmetic on timestamps; nothing here reads a clock.

use birzha_book::Timestamp;

/// Minsk's offset from UTC.
pub(crate) const MINSK_OFFSET_NS: u64 = 3 * 3_600 * 1_000_000_000;

const DAY_NS: u64 = Timestamp::DAY_NS;

/// Returns the Minsk date of `time` as `YYYYMMDD`.
#[must_use]
pub fn minsk_date(time: Timestamp) -> u32 {
    let days = (time.0 + MINSK_OFFSET_NS) / DAY_NS;
    let (year, month, day) = civil_from_days(days as i64);
    (year as u32) * 10_000 + month * 100 + day
}

/// Returns the instant the Minsk date `date` (`YYYYMMDD`) ends: the next midnight, Minsk time.
/// `None` if `date` is not a valid date from 1970 on, or ends past what a nanosecond
/// timestamp holds (July 2554).
#[must_use]
pub fn minsk_end_of(date: u32) -> Option<Timestamp> {
    let (year, month, day) = (date / 10_000, date / 100 % 100, date % 100);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    if day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year as i64, month, day) + 1;
    let end = (days as u64).checked_mul(DAY_NS)?;
    Some(Timestamp(end.saturating_sub(MINSK_OFFSET_NS)))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_index + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
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

    const HOUR_NS: u64 = 3_600 * 1_000_000_000;

    /// Regression (a review's): a GTD order's ExpireDate past 2554 overflowed the timestamp
    /// (a panic of the shard in a debug build, a wrong expiry in a release build).
    #[test]
    fn dates_past_the_timestamps_reach_have_no_end() {
        assert_eq!(minsk_end_of(30_000_101), None);
        assert_eq!(minsk_end_of(99_991_231), None);
        let last = minsk_end_of(25_540_720).expect("within reach");
        assert_eq!(minsk_date(Timestamp(last.0 - 1)), 25_540_720);
    }

    #[test]
    fn minsk_dates_change_at_21_utc() {
        // 2026-11-28 20:59 UTC is 23:59 in Minsk; a minute later it is the 29th there.
        let evening = Timestamp(days_from_civil(2026, 11, 28) as u64 * DAY_NS + 20 * HOUR_NS);
        assert_eq!(minsk_date(evening), 20261128);
        assert_eq!(minsk_date(Timestamp(evening.0 + HOUR_NS)), 20261129);
    }

    #[test]
    fn end_of_a_date_is_the_next_minsk_midnight() {
        let end = minsk_end_of(20261128).expect("valid date");
        assert_eq!(end.0, days_from_civil(2026, 11, 29) as u64 * DAY_NS - 3 * HOUR_NS);
        assert_eq!(minsk_date(Timestamp(end.0 - 1)), 20261128);
        assert_eq!(minsk_date(end), 20261129);
        assert_eq!(minsk_end_of(20260230), None);
        assert_eq!(minsk_end_of(20241301), None);
        assert!(minsk_end_of(20240229).is_some());
        assert_eq!(minsk_end_of(19691231), None);
    }

    #[test]
    fn civil_round_trip() {
        for days in [0, 59, 365, 10_957, 20_000, 60_000] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }
}
