//! The session-details hot path (`http::hot`): it answers exactly what the router answers,
//! and only when memory holds everything; every other request reaches the router.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower::ServiceExt;

use crate::gateway::Room;
use crate::harness::{Db, TestServer};

/// Stands in for the router: a request that reaches it gets a 418.
fn teapot(
) -> impl tower::Service<axum::extract::Request, Response = Response, Error = std::convert::Infallible> + Clone
{
    tower::service_fn(|_req: axum::extract::Request| async {
        Ok::<_, std::convert::Infallible>(StatusCode::IM_A_TEAPOT.into_response())
    })
}

async fn send(
    svc: &(impl tower::Service<axum::extract::Request, Response = Response, Error = std::convert::Infallible>
          + Clone),
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = svc.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    (status, axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec())
}

async fn raw_get(s: &TestServer, url: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let r = s.http.get(url).bearer_auth(token).send().await.unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

async fn start(db: Db) -> Option<TestServer> {
    TestServer::start_with(db, |c| c.auth_cache_ttl = Duration::from_secs(3600)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_like_the_router_and_only_from_memory() {
    let Some(s) = start(Db::Sqlite).await else { return };
    let room = Room::new(&s, json!({"title": "Hot path"})).await;
    let (_, ta) = room.person(&s, "a").await;
    let (_, tb) = room.person(&s, "b").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let mut b = s.connect(&tb).await;
    b.join().await;
    let sid = a.session_id.clone().unwrap();
    s.clock.advance(90_000);

    // Over real HTTP: the first read warms the caches; later reads are answered from memory.
    // A query string sends the same read through the router: same instant, same bytes.
    let url = room.session_url(&s, &sid);
    let (st, first) = raw_get(&s, &url, &s.token).await;
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&first));
    let (_, hot) = raw_get(&s, &url, &s.token).await;
    let (_, routed) = raw_get(&s, &format!("{url}?include_breakout_rooms=false"), &s.token).await;
    assert_eq!(hot, first);
    assert_eq!(hot, routed, "the hot path and the router answer the same bytes");
    let v: serde_json::Value = serde_json::from_slice(&hot).unwrap();
    assert_eq!(v["data"]["live_participants"], 2);
    assert_eq!(v["data"]["minutes_consumed"], 3.0);
    let root_url = url.replace("/client/v4", "");
    assert_eq!(raw_get(&s, &root_url, &s.token).await.1, hot, "served at the root too");

    // A leave is written through: the next hot read shows it.
    b.leave().await;
    s.clock.advance(30_000);
    let (_, hot) = raw_get(&s, &url, &s.token).await;
    let (_, routed) = raw_get(&s, &format!("{url}?include_breakout_rooms=false"), &s.token).await;
    assert_eq!(hot, routed);
    let v: serde_json::Value = serde_json::from_slice(&hot).unwrap();
    assert_eq!(v["data"]["live_participants"], 1);
    assert_eq!(v["data"]["max_concurrent_participants"], 2);
    assert_eq!(v["data"]["minutes_consumed"], 3.5);

    // Counted in the router's series (one series, not a second one with other labels). The
    // root route: no other test reads sessions there, so the count is this test's alone.
    let series = "http_requests_total{method=\"GET\",route=\"/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}\",status=\"200\"}";
    let count = |text: &str| -> u64 {
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(series)).collect();
        assert_eq!(lines.len(), 1, "one series for the route: {lines:?}");
        lines[0].rsplit(' ').next().unwrap().parse().unwrap()
    };
    let metrics =
        || async { s.http.get(format!("{}/metrics", s.root)).send().await.unwrap().text().await.unwrap() };
    let before = count(&metrics().await);
    for _ in 0..3 {
        assert_eq!(raw_get(&s, &root_url, &s.token).await.0, 200);
    }
    assert_eq!(count(&metrics().await), before + 3, "hot reads are counted");

    // In front of a stand-in router: only the warm success case is answered here.
    let svc = rtk_server::http::hot::Hot::new(s.state.clone(), teapot());
    let path = format!("/client/v4/accounts/{}/realtime/kit/{}/sessions/{sid}", s.account, room.app);
    let bearer = format!("Bearer {}", s.token);
    let auth = [("authorization", bearer.as_str())];
    let (st, body) = send(&svc, Method::GET, &path, &auth).await;
    assert_eq!(st, 200);
    assert_eq!(body, raw_get(&s, &url, &s.token).await.1);
    let (st, _) = send(&svc, Method::GET, &path.replace("/client/v4", ""), &auth).await;
    assert_eq!(st, 200);

    let other_app = s.app("other").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    type Case<'a> = (Method, String, Vec<(&'a str, &'a str)>);
    let routed: Vec<Case> = vec![
        (Method::HEAD, path.clone(), auth.to_vec()),
        (Method::DELETE, path.clone(), auth.to_vec()),
        (Method::GET, format!("{path}?include_breakout_rooms=true"), auth.to_vec()),
        (Method::GET, format!("{path}/participants"), auth.to_vec()),
        (Method::GET, format!("{path}/"), auth.to_vec()),
        (Method::GET, path.replace(&sid, &unknown), auth.to_vec()),
        (Method::GET, path.replace(&sid, &sid.replace('-', "%2D")), auth.to_vec()),
        (Method::GET, path.replace(&room.app, &other_app), auth.to_vec()),
        (Method::GET, path.replace(&s.account, "someone-else"), auth.to_vec()),
        (Method::GET, path.clone(), vec![]),
        (Method::GET, path.clone(), vec![("authorization", "Bearer rtk_not-a-token")]),
        (Method::GET, path.clone(), vec![("x-auth-email", "a@b.c"), ("x-auth-key", &s.token)]),
    ];
    for (method, p, headers) in routed {
        let (st, _) = send(&svc, method.clone(), &p, &headers).await;
        assert_eq!(st, StatusCode::IM_A_TEAPOT, "{method} {p} {headers:?} must go through the router");
    }
    a.leave().await;
    s.stop().await;
}

/// The router still answers every case the hot path declines, with the usual errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_requests_get_the_routers_answers() {
    let Some(s) = start(Db::Sqlite).await else { return };
    let room = Room::new(&s, json!({"title": "Hot path errors"})).await;
    let (_, ta) = room.person(&s, "a").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let sid = a.session_id.clone().unwrap();
    let url = room.session_url(&s, &sid);
    assert_eq!(raw_get(&s, &url, &s.token).await.0, 200);
    let (st, body) = raw_get(&s, &url, "rtk_wrong").await;
    assert_eq!(st, 401, "{}", String::from_utf8_lossy(&body));
    let other = s.app("other").await;
    let (st, body) = raw_get(&s, &url.replace(&room.app, &other), &s.token).await;
    assert_eq!(st, 404);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["success"], false);
    assert!(v["error"]["message"].as_str().unwrap().contains("No session found"), "{v}");
    a.leave().await;
    s.stop().await;
}

/// On PostgreSQL sessions are not cached (other nodes write them), so reads always take the
/// router, which queries the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    rtk_no_pg,
    ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
)]
async fn postgres_reads_go_through_the_router() {
    let Some(s) = start(Db::Postgres).await else { return };
    let room = Room::new(&s, json!({"title": "Hot path on PostgreSQL"})).await;
    let (_, ta) = room.person(&s, "a").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let sid = a.session_id.clone().unwrap();
    assert_eq!(raw_get(&s, &room.session_url(&s, &sid), &s.token).await.0, 200);
    let svc = rtk_server::http::hot::Hot::new(s.state.clone(), teapot());
    let path = format!("/client/v4/accounts/{}/realtime/kit/{}/sessions/{sid}", s.account, room.app);
    let bearer = format!("Bearer {}", s.token);
    let (st, _) = send(&svc, Method::GET, &path, &[("authorization", &bearer)]).await;
    assert_eq!(st, StatusCode::IM_A_TEAPOT);
    a.leave().await;
    s.stop().await;
}
