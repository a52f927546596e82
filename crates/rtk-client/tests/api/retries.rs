//! Retries against a local server that fails before it succeeds. Waits are asserted on the
//! delays the client records (the server asks for a few milliseconds), never on wall time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use rtk_client::params::AppListParams;
use rtk_client::retry::RetryEvent;
use rtk_client::{ClientBuilder, Error};
use serde_json::json;

use crate::mock::{mock, reply};

fn ok() -> crate::mock::Reply {
    reply(
        200,
        json!({"success": true, "data": [], "paging": {"total_count": 0, "start_offset": 0, "end_offset": 0}}),
    )
}

fn failure(status: u16) -> crate::mock::Reply {
    reply(
        status,
        json!({"success": false, "error": {"code": status, "message": "try later"}, "errors": [{"code": status, "message": "try later"}]}),
    )
}

/// A client that records each retry.
fn recording(b: ClientBuilder) -> (rtk_client::Client, Arc<Mutex<Vec<RetryEvent>>>) {
    let events = Arc::new(Mutex::new(vec![]));
    let e2 = events.clone();
    let client = b.on_retry(move |e| e2.lock().unwrap().push(e.clone())).build().unwrap();
    (client, events)
}

fn delays(events: &Mutex<Vec<RetryEvent>>) -> Vec<Duration> {
    events.lock().unwrap().iter().map(|e| e.delay).collect()
}

#[tokio::test]
async fn retries_429_and_503_honouring_retry_after_ms() {
    let m = mock(vec![
        failure(429).header("retry-after-ms", "15"),
        failure(503).header("retry-after-ms", "25").header("retry-after", "30"),
        ok(),
    ])
    .await;
    let (client, events) = recording(m.client());
    let r = client.realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen = m.seen();
    assert_eq!(seen.len(), 3, "two failures, then success");
    assert_eq!(delays(&events), [Duration::from_millis(15), Duration::from_millis(25)]);
    let ev = events.lock().unwrap().clone();
    assert_eq!(ev.iter().map(|e| e.status.map(|s| s.as_u16())).collect::<Vec<_>>(), [Some(429), Some(503)]);
    assert_eq!(ev.iter().map(|e| e.retry).collect::<Vec<_>>(), [1, 2]);
    let counts: Vec<&str> = seen.iter().map(|s| s.headers["x-retry-count"].to_str().unwrap()).collect();
    assert_eq!(counts, ["0", "1", "2"]);
}

#[tokio::test]
async fn retry_after_in_seconds_and_backoff_without_a_hint() {
    // Retry-After: 0 → no wait; no header → the configured backoff, with at most 25 % jitter.
    let m = mock(vec![failure(500).header("retry-after", "0"), failure(502), failure(408), ok()]).await;
    let (client, events) =
        recording(m.client().max_retries(3).backoff(Duration::from_millis(8), Duration::from_millis(12)));
    client.realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap();
    assert_eq!(m.seen().len(), 4);
    let d = delays(&events);
    assert_eq!(d[0], Duration::ZERO);
    // Retry 2: 8 ms · 2 = 16 ms, capped at 12 ms, less jitter: 9–12 ms.
    assert!(d[1] >= Duration::from_millis(9) && d[1] <= Duration::from_millis(12), "{d:?}");
    // Retry 3: capped at 12 ms too.
    assert!(d[2] >= Duration::from_millis(9) && d[2] <= Duration::from_millis(12), "{d:?}");
}

#[tokio::test]
async fn gives_up_after_max_retries_with_the_last_error() {
    let m = mock(vec![failure(503).header("retry-after-ms", "1")]).await;
    let (client, events) = recording(m.client());
    let e = client.realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(e.message(), Some("try later"));
    assert_eq!(m.seen().len(), 3, "the first attempt and the default two retries");
    assert_eq!(events.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    for status in [400, 401, 403, 404, 422] {
        let m = mock(vec![failure(status), ok()]).await;
        let (client, events) = recording(m.client());
        let e = client.realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap_err();
        assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(m.seen().len(), 1, "{status} is final");
        assert!(events.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn x_should_retry_overrides_the_status() {
    let m = mock(vec![failure(503).header("x-should-retry", "false"), ok()]).await;
    let e =
        m.client().build().unwrap().realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(m.seen().len(), 1);

    let m =
        mock(vec![failure(400).header("x-should-retry", "true").header("retry-after-ms", "1"), ok()]).await;
    m.client().build().unwrap().realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap();
    assert_eq!(m.seen().len(), 2);
}

#[tokio::test]
async fn max_retries_zero_disables_retries() {
    let m = mock(vec![failure(429), ok()]).await;
    let e = m
        .client()
        .max_retries(0)
        .build()
        .unwrap()
        .realtime_kit()
        .apps()
        .get(&AppListParams::new("acc"))
        .await;
    assert!(e.unwrap_err().is_rate_limited());
    assert_eq!(m.seen().len(), 1);
}

#[tokio::test]
async fn connection_errors_are_retried() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (client, events) = recording(
        ClientBuilder::default()
            .base_url(format!("http://127.0.0.1:{port}"))
            .api_token("t")
            .backoff(Duration::from_millis(1), Duration::from_millis(2)),
    );
    let e = client.realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap_err();
    assert!(matches!(e, Error::Http { .. }), "{e:?}");
    assert!(e.is_connect(), "{e:?}");
    let ev = events.lock().unwrap().clone();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.status.is_none()));
}

#[tokio::test]
async fn timeouts_are_retried() {
    let m = mock(vec![ok().delayed(Duration::from_secs(5)), ok()]).await;
    let (client, events) = recording(
        m.client()
            .timeout(Duration::from_millis(500))
            .backoff(Duration::from_millis(1), Duration::from_millis(1)),
    );
    let r = client.realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(m.seen().len(), 2, "the slow attempt timed out, the retry answered");
    assert_eq!(events.lock().unwrap().len(), 1);
}
