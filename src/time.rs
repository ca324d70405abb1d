//! Human-readable times for `status`, without a date library.

/// `2026-11-25 13:05 UTC` for seconds since the epoch.
pub fn format_utc(secs: u64) -> String {
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// RFC 3339 in UTC with milliseconds (`2026-11-25T09:46:40.123Z`), for `millis` since the epoch.
pub fn rfc3339_millis(millis: u64) -> String {
    let secs = millis / 1000;
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis % 1000
    )
}

/// Seconds since the epoch of an RFC 3339 time (`2026-11-25T09:46:40Z`, fractions and a
/// `+01:00` offset allowed, `t` or a space between date and time) or of a date alone
/// (`2026-11-25`, midnight UTC). `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let mut secs = days * 86_400;
    if b.len() > 10 {
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + m * 60 + s;
        let mut rest = &text[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            rest = &frac[digits..];
        }
        match rest {
            "Z" | "z" => {}
            offset if offset.len() == 6 && matches!(offset.as_bytes()[0], b'+' | b'-') => {
                if offset.as_bytes()[3] != b':' {
                    return None;
                }
                // After the seconds and any fraction: not at a fixed column.
                let at = text.len() - 6;
                let (oh, om) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
                let delta = oh * 3600 + om * 60;
                secs += if offset.starts_with('+') {
                    -delta
                } else {
                    delta
                };
            }
            _ => return None,
        }
    }
    u64::try_from(secs).ok()
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day count since 1970-01-01 of a date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// "in 1h 5m", "3d ago", relative to `now`.
pub fn relative(secs: u64, now: u64) -> String {
    let (delta, future) = if secs >= now {
        (secs - now, true)
    } else {
        (now - secs, false)
    };
    let text = match delta {
        d if d < 60 => format!("{d}s"),
        d if d < 3600 => format!("{}m", d / 60),
        d if d < 86_400 => format!("{}h {}m", d / 3600, d % 3600 / 60),
        d => format!("{}d {}h", d / 86_400, d % 86_400 / 3600),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_600_000), "2026-11-25 09:46 UTC");
        assert_eq!(relative(3_900, 0), "in 1h 5m");
        assert_eq!(relative(0, 90_000), "1d 1h ago");
    }

    #[test]
    fn rfc3339_round_trips_and_reads_offsets() {
        assert_eq!(
            rfc3339_millis(1_795_600_000_123),
            "2026-11-25T09:46:40.123Z"
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T09:46:40.123Z"),
            Some(1_795_600_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T10:46:40+01:00"),
            Some(1_795_600_000)
        );
        // Regression: the offset after a fraction was read from fixed columns.
        assert_eq!(
            parse_rfc3339("2026-11-25T08:16:40.5-01:30"),
            Some(1_795_600_000)
        );
        assert_eq!(parse_rfc3339("2000-02-29"), Some(951_782_400));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        for bad in [
            "",
            "2026-13-01",
            "2026-11-25T9:46:40Z",
            "2026-11-25T09:46:40",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}

/// Seconds since the epoch of an RFC 3339 UTC time as GitHub writes `expires_at`
/// (`2016-07-11T22:14:10Z`, fractional seconds allowed); `None` for anything else.
pub fn parse_utc(text: &str) -> Option<u64> {
    let utc = text.ends_with(['Z', 'z']) || text.ends_with("+00:00");
    (utc && text.len() >= 20)
        .then(|| parse_rfc3339(text))
        .flatten()
}

#[cfg(test)]
mod parse_tests {
    #[test]
    fn parse_utc_reads_githubs_expires_at_and_round_trips_format_utc() {
        assert_eq!(super::parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            super::parse_utc("2016-07-11T22:14:10Z"),
            Some(1_468_275_250)
        );
        assert_eq!(
            super::parse_utc("2016-07-11T22:14:10.123Z"),
            Some(1_468_275_250)
        );
        let t = super::parse_utc("2026-02-28T23:59:00Z").unwrap();
        assert_eq!(super::format_utc(t), "2026-02-28 23:59 UTC");
        for bad in [
            "2016-07-11 22:14",
            "2016-07-11T22:14:10+02:00",
            "2016-13-01T00:00:00Z",
            "x",
        ] {
            assert_eq!(super::parse_utc(bad), None, "{bad}");
        }
    }
}
