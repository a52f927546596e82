//! When to retry and how long to wait, as the official SDKs do: connection errors, 408, 409,
//! 429 and 5xx are retried (`x-should-retry` overrides either way); the wait is what the
//! server asks for (`retry-after-ms`, then `Retry-After` in seconds or as an HTTP date) when
//! that is within a minute, else an exponential backoff with jitter.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::error::RequestInfo;

/// The longest server-requested wait that is honoured; longer ones fall back to backoff.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// Backoff between attempts when the server does not say how long to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The wait before the first retry (doubling for each one after).
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(8) }
    }
}

/// Told to a retry observer before each retry's wait.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryEvent {
    pub request: RequestInfo,
    /// 1 for the first retry.
    pub retry: u32,
    /// How long the client waits before it.
    pub delay: Duration,
    /// The status that caused it (`None` for a connection error or timeout).
    pub status: Option<StatusCode>,
}

/// Whether a response with `status` and `headers` is worth another attempt.
pub fn should_retry(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()).map(str::trim) {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// The wait the server asks for, if it asks for one within [`MAX_SERVER_DELAY`].
pub fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let ms = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).map(|ms| ms / 1000.0);
    let secs = ms.or_else(|| {
        let v = header("retry-after")?;
        v.parse::<f64>().ok().or_else(|| {
            let at = httpdate::parse_http_date(v).ok()?;
            Some(at.duration_since(now).map(|d| d.as_secs_f64()).unwrap_or(0.0))
        })
    })?;
    if secs.is_finite() && secs >= 0.0 && secs <= MAX_SERVER_DELAY.as_secs_f64() {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

/// The backoff before retry number `retry` (1-based): `initial · 2^(retry-1)`, capped at
/// `max`, less up to a quarter of jitter (`jitter` in `[0, 1)`).
pub fn backoff_delay(b: &Backoff, retry: u32, jitter: f64) -> Duration {
    let exp = 2f64.powi(retry.saturating_sub(1).min(30) as i32);
    let base = (b.initial.as_secs_f64() * exp).min(b.max.as_secs_f64());
    Duration::from_secs_f64(base * (1.0 - 0.25 * jitter.clamp(0.0, 1.0)))
}

/// The wait before retry number `retry`: the server's if it gave one, else backoff.
pub fn delay(b: &Backoff, retry: u32, headers: Option<&HeaderMap>, jitter: f64) -> Duration {
    headers
        .and_then(|h| server_delay(h, SystemTime::now()))
        .unwrap_or_else(|| backoff_delay(b, retry, jitter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn retryable_statuses() {
        let none = HeaderMap::new();
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(should_retry(StatusCode::from_u16(s).unwrap(), &none), "{s}");
        }
        for s in [400, 401, 403, 404, 405, 413, 422] {
            assert!(!should_retry(StatusCode::from_u16(s).unwrap(), &none), "{s}");
        }
        assert!(!should_retry(StatusCode::SERVICE_UNAVAILABLE, &h(&[("x-should-retry", "false")])));
        assert!(should_retry(StatusCode::BAD_REQUEST, &h(&[("x-should-retry", "true")])));
    }

    #[test]
    fn server_delays() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(server_delay(&h(&[("retry-after-ms", "250")]), now), Some(Duration::from_millis(250)));
        assert_eq!(
            server_delay(&h(&[("retry-after-ms", "100"), ("retry-after", "9")]), now),
            Some(Duration::from_millis(100)),
            "retry-after-ms wins"
        );
        assert_eq!(server_delay(&h(&[("retry-after", "2")]), now), Some(Duration::from_secs(2)));
        assert_eq!(server_delay(&h(&[("retry-after", "1.5")]), now), Some(Duration::from_millis(1500)));
        let at = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(server_delay(&h(&[("retry-after", &at)]), now), Some(Duration::from_secs(5)));
        assert_eq!(server_delay(&h(&[("retry-after", "120")]), now), None, "over a minute: backoff");
        assert_eq!(server_delay(&h(&[("retry-after", "soon")]), now), None);
        assert_eq!(server_delay(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let b = Backoff::default();
        assert_eq!(backoff_delay(&b, 1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff_delay(&b, 2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(&b, 3, 0.0), Duration::from_secs(2));
        assert_eq!(backoff_delay(&b, 10, 0.0), Duration::from_secs(8));
        assert_eq!(backoff_delay(&b, 1, 1.0), Duration::from_millis(375));
        for retry in 1..6 {
            let d = backoff_delay(&b, retry, 0.5);
            assert!(d <= backoff_delay(&b, retry, 0.0) && d >= backoff_delay(&b, retry, 1.0));
        }
        let with_server = h(&[("retry-after-ms", "7")]);
        assert_eq!(delay(&b, 1, Some(&with_server), 0.3), Duration::from_millis(7));
    }
}
