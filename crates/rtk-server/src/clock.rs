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
pub fn rfc3339(ms: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
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
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1000);
        assert_eq!(c.now(), 1000);
        c.advance(500);
        assert_eq!(c.now(), 1500);
        c.set(7);
        assert_eq!(c.now(), 7);
    }
}
