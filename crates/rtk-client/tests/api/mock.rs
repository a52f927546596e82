//! A small local server that answers a script of responses (the last one repeats), recording
//! each request; and what it shows about the SDK: unknown fields, raw responses, headers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rtk_client::params::*;
use rtk_client::Client;
use serde_json::json;

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

pub fn reply(status: u16, body: serde_json::Value) -> Reply {
    Reply { status, headers: vec![], body: body.to_string(), delay: Duration::ZERO }
}

impl Reply {
    pub fn header(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.headers.push((k, v.into()));
        self
    }
    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
}

pub struct Mock {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn client(&self) -> rtk_client::ClientBuilder {
        Client::builder().base_url(&self.base).api_token("t")
    }
}

pub async fn mock(script: Vec<Reply>) -> Mock {
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let script = Arc::new(script);
    let (seen2, script2) = (seen.clone(), script.clone());
    let app = axum::Router::new().fallback(move |req: Request| {
        let (seen, script) = (seen2.clone(), script2.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let n = {
                let mut s = seen.lock().unwrap();
                s.push(Seen {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts.headers.clone(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                s.len()
            };
            let r = script[(n - 1).min(script.len() - 1)].clone();
            if !r.delay.is_zero() {
                tokio::time::sleep(r.delay).await;
            }
            let mut resp = Response::builder()
                .status(StatusCode::from_u16(r.status).unwrap())
                .header("content-type", "application/json");
            for (k, v) in &r.headers {
                resp = resp.header(*k, v);
            }
            resp.body(Body::from(r.body)).unwrap()
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/client/v4", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    Mock { base, seen }
}

#[tokio::test]
async fn unknown_fields_are_kept_and_the_raw_response_is_there() {
    let body = json!({
        "success": true,
        "data": {"session": {"id": "s1", "associated_id": "m1", "status": "ENDED", "type": "meeting",
                             "live_participants": 0, "max_concurrent_participants": 4.0, "minutes_consumed": 12.5,
                             "started_at": "2026-01-01T00:00:00.000Z", "created_at": "2026-01-01T00:00:00.000Z",
                             "updated_at": "2026-01-01T00:10:00.000Z", "ended_at": "2026-01-01T00:10:00.000Z",
                             "recording_minutes": 3, "organization_id": "app"},
                 "newer_top_level": [1, 2]},
        "result_info": {"x": 1}
    });
    let m = mock(vec![reply(200, body).header("x-request-id", "abc")]).await;
    let client = m.client().build().unwrap();
    let r = client
        .realtime_kit()
        .sessions()
        .get_session_details(
            "app",
            "s1",
            &GetSessionDetailsParams { account_id: "acc".into(), include_breakout_rooms: Some(false) },
        )
        .await
        .unwrap();
    let s = &r.data.session;
    assert_eq!(s.max_concurrent_participants, 4);
    assert_eq!(s.ended_at.as_deref(), Some("2026-01-01T00:10:00.000Z"));
    assert_eq!(s.extra["recording_minutes"], 3, "an unknown session field");
    assert_eq!(r.data.extra["newer_top_level"], json!([1, 2]), "an unknown data field");
    assert_eq!(r.extra["result_info"]["x"], 1, "an unknown envelope field");
    assert_eq!(r.raw().headers["x-request-id"], "abc");
    assert_eq!(r.raw().status, 200);
    let raw: serde_json::Value = serde_json::from_slice(&r.raw().body).unwrap();
    assert_eq!(raw["data"]["session"]["id"], "s1");

    let seen = m.seen();
    assert_eq!(
        seen[0].uri,
        "/client/v4/accounts/acc/realtime/kit/app/sessions/s1?include_breakout_rooms=false"
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer t");
    assert_eq!(seen[0].headers["accept"], "application/json");
}

#[tokio::test]
async fn bodies_and_queries_as_sent() {
    let m = mock(vec![reply(
        201,
        json!({"success": true, "data": {"id": "m1", "created_at": "t", "updated_at": "t"}}),
    )])
    .await;
    let client = m.client().api_email_key("me@example.com", "k").build().unwrap();
    let kit = client.realtime_kit();
    let meeting =
        MeetingParams { title: Some("T".into()), record_on_start: Some(false), ..MeetingParams::new("acc") };
    kit.meetings().create("app", &meeting).await.unwrap();
    kit.meetings()
        .get(
            "app",
            &MeetingListParams {
                per_page: Some(5),
                search: Some("a b".into()),
                ..MeetingListParams::new("acc")
            },
        )
        .await
        .unwrap_err(); // data is an object, not a list: a decode error
    let seen = m.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen[0].body).unwrap(),
        json!({"title": "T", "record_on_start": false})
    );
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(seen[0].headers["x-auth-email"], "me@example.com");
    assert_eq!(seen[0].headers["x-auth-key"], "k");
    assert!(!seen[0].headers.contains_key("authorization"));
    assert_eq!(seen[1].uri, "/client/v4/accounts/acc/realtime/kit/app/meetings?per_page=5&search=a+b");
    assert!(seen[1].body.is_empty(), "a GET has no body");
}

#[tokio::test]
async fn a_malformed_success_is_a_decode_error() {
    let m = mock(vec![Reply { status: 200, headers: vec![], body: "<html>".into(), delay: Duration::ZERO }])
        .await;
    let e =
        m.client().build().unwrap().realtime_kit().apps().get(&AppListParams::new("acc")).await.unwrap_err();
    assert!(matches!(e, rtk_client::Error::Decode { .. }), "{e:?}");
    assert_eq!(e.status(), Some(reqwest::StatusCode::OK));
}
