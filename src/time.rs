//! Human-readable times for `status`, without a date library.

/// `2026-11-25 13:05 UTC` for seconds since the epoch.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
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
}

/// Seconds since the epoch of an RFC 3339 UTC time as GitHub writes `expires_at`
/// (`2016-07-11T22:14:10Z`, fractional seconds allowed); `None` for anything else.
pub fn parse_utc(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let rest = &text[19..];
    let rest = match rest.strip_prefix('.') {
        Some(frac) => frac.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    if !matches!(rest, "Z" | "z" | "+00:00") {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
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
