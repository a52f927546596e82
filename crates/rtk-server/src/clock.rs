//! Time, injected. Every time-dependent rule reads the clock through [`Clock`], so tests can
//! drive it exactly with [`ManualClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> Millis;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        d.as_millis() as Millis
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }
    pub fn set(&self, t: Millis) {
        self.0.store(t, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Formats a timestamp as RFC 3339 UTC with milliseconds and `Z`, e.g. `2022-01-12T14:21:34.388Z`.
/// (Hand-rolled: it is on every response's hot path.)
pub fn rfc3339(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return String::from("1970-01-01T00:00:00.000Z");
    }
    let mut b = [0u8; 24];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, sod / 3600, 2);
    put(14, sod / 60 % 60, 2);
    put(17, sod % 60, 2);
    put(20, milli, 3);
    b[4] = b'-';
    b[7] = b'-';
    b[10] = b'T';
    b[13] = b':';
    b[16] = b':';
    b[19] = b'.';
    b[23] = b'Z';
    String::from_utf8_lossy(&b).into_owned()
}

/// Parses an RFC 3339 timestamp (any offset) into milliseconds. A date-time without an offset
/// (what a naive Python `datetime` sends) and a bare date are read as UTC.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as Millis);
    }
    let naive = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day][first [T][ ]][hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"
    );
    if let Ok(t) = time::PrimitiveDateTime::parse(s, &naive) {
        return Some((t.assume_utc().unix_timestamp_nanos() / 1_000_000) as Millis);
    }
    let date = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &date).ok()?;
    Some((d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(rfc3339(1_642_000_000_388), "2022-01-12T15:06:40.388Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_rfc3339("2022-01-12T15:06:40.388Z"), Some(1_642_000_000_388));
        assert_eq!(parse_rfc3339("2022-01-12T16:06:40.388+01:00"), Some(1_642_000_000_388));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2022-01-12T15:06:40.388"), Some(1_642_000_000_388), "naive is UTC");
        assert_eq!(parse_rfc3339("2022-01-12T15:06:40"), Some(1_642_000_000_000));
        assert_eq!(parse_rfc3339("2022-01-12"), Some(1_641_945_600_000));
        assert_eq!(parse_rfc3339("2022-13-12"), None);
    }

    #[test]
    fn formatting_agrees_with_the_time_crate() {
        let f = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let mut ms: i64 = -86_400_000 * 3;
        while ms < 4_102_444_800_000 {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap();
            assert_eq!(rfc3339(ms), t.format(&f).unwrap(), "{ms}");
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms));
            ms += 7_777_777_777; // about 90 days and odd milliseconds
        }
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1000);
        assert_eq!(c.now(), 1000);
        c.advance(500);
        assert_eq!(c.now(), 1500);
        c.set(7);
        assert_eq!(c.now(), 7);
    }
}
