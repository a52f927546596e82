//! Webhooks: the management API (wire shapes, validation, scoping), the public key, and
//! deliveries to real HTTP receivers on loopback, with the manual clock for backoff.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both;
use crate::harness::{Db, TestServer, T0};

fn hooks_url(s: &TestServer, app: &str) -> String {
    format!("{}/{app}/webhooks", s.kit())
}

const ALL: [&str; 9] = rtk_api::webhooks::EVENTS;

/// The seven fields the SDKs require, each of the right type, and nothing null.
fn assert_webhook_shape(v: &Value) {
    let o = v.as_object().unwrap_or_else(|| panic!("an object: {v}"));
    let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "enabled", "events", "id", "name", "updated_at", "url"], "{v}");
    assert!(v["id"].is_string() && v["name"].is_string() && v["url"].is_string(), "{v}");
    assert!(v["enabled"].is_boolean() && v["events"].is_array(), "{v}");
    for t in ["created_at", "updated_at"] {
        assert!(rtk_server::clock::parse_rfc3339(v[t].as_str().unwrap()).is_some(), "{v}");
    }
}

async fn crud(s: &TestServer) {
    let app = s.app("hooks").await;
    let url = hooks_url(s, &app);
    // Create: 201, enabled defaults to true, events as given.
    let (st, v) =
        s.post(&url, json!({"name": "All events", "url": "https://example.com/hook", "events": ALL})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["success", "data"], "no paging: {v}");
    let h = v["data"].clone();
    assert_webhook_shape(&h);
    assert_eq!((h["enabled"].clone(), h["events"].clone()), (json!(true), json!(ALL)));
    assert_eq!(h["created_at"], "2026-01-01T00:00:00.000Z");
    let id = h["id"].as_str().unwrap().to_string();
    let one = format!("{url}/{id}");

    let (st, v) = s.get(&one).await;
    assert_eq!((st, v["data"].clone()), (StatusCode::OK, h.clone()));
    let (st, v) = s.get(&url).await;
    assert_eq!((st, v["data"].clone()), (StatusCode::OK, json!([h.clone()])));
    assert!(v.get("paging").is_none(), "{v}");

    // PATCH {} changes nothing (not even updated_at).
    s.clock.advance(1000);
    let (st, v) = s.call(Method::PATCH, &one, Some(json!({}))).await;
    assert_eq!((st, v["data"].clone()), (StatusCode::OK, h.clone()));
    // PATCH one field.
    let (st, v) = s.call(Method::PATCH, &one, Some(json!({"enabled": false}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["data"]["enabled"].clone(), v["data"]["name"].clone()),
        (json!(false), json!("All events"))
    );
    assert_eq!(v["data"]["updated_at"], "2026-01-01T00:00:01.000Z");
    // PUT replaces: enabled back to its default, events as given (duplicates once).
    let (st, v) = s
        .call(
            Method::PUT,
            &one,
            Some(json!({"name": "Ends", "url": "http://127.0.0.1:9/x", "events": ["meeting.ended", "meeting.ended"]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_webhook_shape(&v["data"]);
    assert_eq!(
        (v["data"]["name"].clone(), v["data"]["enabled"].clone(), v["data"]["events"].clone()),
        (json!("Ends"), json!(true), json!(["meeting.ended"]))
    );
    // PUT without a required field: 400 naming it.
    let (st, v) = s.call(Method::PUT, &one, Some(json!({"name": "x"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let msgs = v["errors"].to_string();
    assert!(msgs.contains("\\\"url\\\" is required") && msgs.contains("\\\"events\\\" is required"), "{v}");

    // DELETE returns the object; then it is gone.
    let (st, before) = s.get(&one).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = s.call(Method::DELETE, &one, None).await;
    assert_eq!((st, v["data"].clone()), (StatusCode::OK, before["data"].clone()));
    let (st, v) = s.get(&one).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["message"], format!("No webhook found with id {id}"));
    let (_, v) = s.get(&url).await;
    assert_eq!(v["data"], json!([]));
}

async fn validation(s: &TestServer) {
    let app = s.app("hooks").await;
    let url = hooks_url(s, &app);
    let ok = json!({"name": "n", "url": "https://example.com/a", "events": ["meeting.started"]});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let long_url = format!("https://example.com/{}", "a".repeat(2048));
    for (body, needle) in [
        (with("events", json!(["meeting.started", "meeting.exploded"])), "events[1]"),
        (with("events", json!([])), "at least one event"),
        (with("url", json!("ftp://example.com/x")), "http or https"),
        (with("url", json!("javascript:alert(1)")), "http or https"),
        (with("url", json!("not a url")), "not a valid URL"),
        (with("url", json!(long_url)), "at most 2048"),
        (with("name", json!("x".repeat(257))), "1 to 256"),
        (with("name", json!("  ")), "1 to 256"),
        (with("enabled", json!("yes")), "enabled"),
        (json!({}), "name\\\" is required"),
    ] {
        let (st, v) = s.post(&url, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["success"], false);
        assert!(v.to_string().contains(needle), "{needle} in {v}");
    }
    // A duplicate: the same URL in the same app is 409, in another app fine.
    let (st, first) = s.post(&url, ok.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    let (st, v) = s.post(&url, with("name", json!("other name"))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("https://example.com/a"), "{v}");
    let other_app = s.app("other").await;
    let (st, _) = s.post(&hooks_url(s, &other_app), ok.clone()).await;
    assert_eq!(st, StatusCode::CREATED);
    // Renaming another webhook onto a taken URL: 409 too.
    let (_, second) = s.post(&url, with("url", json!("https://example.com/b"))).await;
    let second_url = format!("{url}/{}", second["data"]["id"].as_str().unwrap());
    let (st, v) = s.call(Method::PATCH, &second_url, Some(json!({"url": "https://example.com/a"}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    // PATCH validates what it is given.
    let (st, _) = s.call(Method::PATCH, &second_url, Some(json!({"events": ["nope"]}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Unknown ids: 404.
    let (st, _) = s.call(Method::DELETE, &format!("{url}/no-such-id"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn scoping(s: &TestServer) {
    let app = s.app("mine").await;
    let (_, v) = s
        .post(
            &hooks_url(s, &app),
            json!({"name": "n", "url": "https://example.com/secret", "events": ["meeting.ended"]}),
        )
        .await;
    let id = v["data"]["id"].as_str().unwrap().to_string();
    let other = rtk_server::admin::create_account(&s.store, None, 0).await.unwrap();
    let (_, tok) = rtk_server::admin::create_token(&s.store, &other, "o", "o@x", 0).await.unwrap();
    for (m, u) in [
        (Method::GET, hooks_url(s, &app)),
        (Method::GET, format!("{}/{id}", hooks_url(s, &app))),
        (Method::DELETE, format!("{}/{id}", hooks_url(s, &app))),
        (Method::GET, format!("{}/client/v4/accounts/{other}/realtime/kit/{app}/webhooks/{id}", s.root)),
        (Method::PATCH, format!("{}/client/v4/accounts/{other}/realtime/kit/{app}/webhooks/{id}", s.root)),
    ] {
        let r = s.http.request(m.clone(), &u).bearer_auth(&tok).json(&json!({})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{m} {u}");
        assert!(!r.text().await.unwrap().contains("secret"));
    }
    // Another app of our own account does not see it either.
    let app2 = s.app("second").await;
    let (st, _) = s.get(&format!("{}/{id}", hooks_url(s, &app2))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("{}/{id}", hooks_url(s, &app))).await;
    assert_eq!(st, StatusCode::OK, "still there");
}

async fn public_key(s: &TestServer) {
    // Unauthenticated, in Cloudflare's shape, stable across reads.
    let r = s.http.get(format!("{}/.well-known/webhooks.json", s.root)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["success", "data", "message"]);
    assert_eq!((v["success"].clone(), v["message"].clone()), (json!(true), json!("")));
    let pem = v["data"]["publicKey"].as_str().unwrap();
    assert!(
        pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.ends_with("\n-----END PUBLIC KEY-----"),
        "{pem}"
    );
    let again: Value = s
        .http
        .get(format!("{}/.well-known/webhooks.json", s.root))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, v);
    // The stored private key is sealed, never plain.
    let row = s.store.webhook_key().await.unwrap().unwrap();
    assert!(rtk_server::secrets::is_sealed(&row.private_key));
    assert_eq!(row.public_key, pem);
}

both!(webhook_crud, super::crud);
both!(webhook_validation, super::validation);
both!(webhook_scoping, super::scoping);
both!(webhook_public_key, super::public_key);

/// A webhook receiver on loopback: answers each request with the next scripted status (then
/// `then`), and keeps what it was sent.
type Rule = Arc<dyn Fn(&Got, &[Got]) -> u16 + Send + Sync>;

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Got>>>,
    rule: Rule,
}

#[derive(Clone, Debug)]
pub struct Got {
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

impl Receiver {
    /// Answers the scripted statuses in turn, then `then`.
    pub async fn start(script: &[u16], then: u16) -> Receiver {
        let script = script.to_vec();
        Self::with_rule(Arc::new(move |_, before| script.get(before.len()).copied().unwrap_or(then))).await
    }

    /// Answers what `rule` says for a request, given the requests before it.
    pub async fn with_rule(rule: Rule) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let r = Receiver { url, got: Default::default(), rule };
        let me = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    let g = Got { headers, body };
                    let mut got = me.got.lock().unwrap();
                    let status = (me.rule)(&g, &got);
                    got.push(g);
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }

    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

use std::sync::{Arc, Mutex};

/// A URL where nothing listens (a port bound, then released).
async fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/hook")
}

async fn subscribe(s: &TestServer, app: &str, url: &str, events: &[&str]) -> String {
    let (st, v) = s.post(&hooks_url(s, app), json!({"name": "t", "url": url, "events": events})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["data"]["id"].as_str().unwrap().to_string()
}

/// Writes a test event (its body names `n` and its chain) to the outbox.
async fn event(s: &TestServer, app: &str, chain: &str, n: usize) -> usize {
    let body = json!({"event": "meeting.started", "chain": chain, "n": n}).to_string();
    s.store.enqueue_event(app, "meeting.started", chain, &body, s.clock.now()).await.unwrap()
}

use rtk_server::clock::Clock as _;

/// Moves the clock by `ms` with no attempt in flight, then delivers what fell due.
async fn advance(s: &TestServer, ms: i64) {
    s.state.hooks.quiesced(async { s.clock.advance(ms) }).await;
}

fn verify(pem: &str, got: &Got) {
    use base64::Engine as _;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let key = rsa::RsaPublicKey::from_public_key_pem(pem).unwrap();
    let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
    let sig = base64::engine::general_purpose::STANDARD.decode(got.header("rtk-signature")).unwrap();
    let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
    vk.verify(got.body.as_bytes(), &sig).expect("the signature verifies over the exact body");
    let mut tampered = got.body.clone().into_bytes();
    tampered.push(b' ');
    assert!(vk.verify(&tampered, &sig).is_err(), "and over nothing else");
}

async fn public_pem(s: &TestServer) -> String {
    let v: Value = s
        .http
        .get(format!("{}/.well-known/webhooks.json", s.root))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["data"]["publicKey"].as_str().unwrap().to_string()
}

async fn retries_until_delivered(s: &TestServer) {
    let app = s.app("a").await;
    let rx = Receiver::start(&[500, 503], 200).await;
    let hook = subscribe(s, &app, &rx.url, &["meeting.started"]).await;
    assert_eq!(event(s, &app, "sess-1", 1).await, 1);
    s.state.hooks.deliver_due().await;
    assert_eq!(rx.got().len(), 1, "the first attempt at once");
    // Not before its backoff …
    let cfg = s.state.hooks.config().clone();
    advance(s, cfg.backoff_max_ms(1) / 2 - 1).await;
    assert_eq!(rx.got().len(), 1, "no retry before half the first backoff");
    advance(s, cfg.backoff_max_ms(1)).await;
    assert_eq!(rx.got().len(), 2);
    advance(s, cfg.backoff_max_ms(2)).await;
    let got = rx.got();
    assert_eq!(got.len(), 3, "500, 503, then 200");
    advance(s, cfg.backoff_max_ms(3) * 10).await;
    assert_eq!(rx.got().len(), 3, "nothing after the 200");
    let uuid = got[0].header("rtk-uuid");
    assert!(!uuid.is_empty());
    let pem = public_pem(s).await;
    for g in &got {
        assert_eq!(g.header("rtk-uuid"), uuid, "one rtk-uuid on every attempt");
        assert_eq!(g.header("dyte-uuid"), uuid);
        assert_eq!(g.header("rtk-webhook-id"), hook);
        assert_eq!(g.header("dyte-webhook-id"), hook);
        assert_eq!(g.header("dyte-signature"), g.header("rtk-signature"));
        assert_eq!(g.header("content-type"), "application/json");
        assert_eq!(g.body, got[0].body);
        verify(&pem, g);
    }
    let log = s.store.deliveries(&hook, None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].id.as_str(), log[0].state.as_str(), log[0].attempts), (uuid.as_str(), "delivered", 3));
    let attempts = s.store.attempts(std::slice::from_ref(&uuid)).await.unwrap();
    let statuses: Vec<Option<i64>> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
}

async fn client_error_is_not_retried(s: &TestServer) {
    let app = s.app("a").await;
    for status in [400u16, 404, 301] {
        let rx = Receiver::start(&[status], 200).await;
        let hook = subscribe(s, &app, &rx.url, &["meeting.started"]).await;
        event(s, &app, &format!("sess-{status}"), 1).await;
        s.state.hooks.deliver_due().await;
        advance(s, 3_600_000).await;
        assert_eq!(rx.got().len(), 1, "{status}: one attempt");
        let log = s.store.deliveries(&hook, None, 10).await.unwrap();
        assert_eq!(
            (log[0].state.as_str(), log[0].attempts, log[0].last_status),
            ("failed", 1, Some(status as i64))
        );
        // Delete so the next round's event goes to the next receiver only.
        s.call(Method::DELETE, &format!("{}/{hook}", hooks_url(s, &app)), None).await;
    }
}

async fn down_for_the_whole_horizon(s: &TestServer) {
    let app = s.app("a").await;
    let hook = subscribe(s, &app, &dead_url().await, &["meeting.started"]).await;
    event(s, &app, "sess-1", 1).await;
    s.state.hooks.deliver_due().await;
    let cfg = s.state.hooks.config().clone();
    let horizon_ms = cfg.horizon.as_millis() as i64;
    let mut moves = 0;
    loop {
        let d = &s.store.deliveries(&hook, None, 1).await.unwrap()[0];
        if d.state != "pending" {
            assert_eq!(d.state, "failed");
            assert!(d.attempts >= 2 && d.attempts <= cfg.max_attempts as i64, "{d:?}");
            assert!(d.last_error.as_deref().unwrap().starts_with("connection error"), "{d:?}");
            break;
        }
        // No retry is scheduled past the horizon from the event.
        assert!(d.next_attempt_at <= d.created_at + horizon_ms, "{d:?}");
        moves += 1;
        assert!(moves <= 4 * cfg.max_attempts, "still pending after {moves} moves: {d:?}");
        // To the retry's time (or a little on, while the URL is throttled past it).
        let now = s.clock.now();
        advance(s, if d.next_attempt_at > now { d.next_attempt_at - now } else { 5_000 }).await;
    }
    let d = &s.store.deliveries(&hook, None, 1).await.unwrap()[0];
    let attempts = s.store.attempts(std::slice::from_ref(&d.id)).await.unwrap();
    assert_eq!(attempts.len() as i64, d.attempts);
    assert!(attempts.iter().all(|a| a.status.is_none() && a.error.is_some()));
}

async fn order_within_a_chain_independence_across(s: &TestServer) {
    let app = s.app("a").await;
    // The first attempt at sess-A's first event fails; everything else is accepted.
    let flaky = Receiver::with_rule(Arc::new(|g, before| {
        let first_a1 = g.json()["chain"] == "sess-A" && g.json()["n"] == 1;
        if first_a1 && !before.iter().any(|b| b.body == g.body) {
            500
        } else {
            200
        }
    }))
    .await;
    let healthy = Receiver::start(&[], 200).await;
    subscribe(s, &app, &flaky.url, &["meeting.started"]).await;
    // A healthy receiver of another app is not held up by the flaky one.
    let app2 = s.app("b").await;
    subscribe(s, &app2, &healthy.url, &["meeting.started"]).await;
    for n in 1..=3 {
        event(s, &app, "sess-A", n).await;
    }
    event(s, &app, "sess-B", 1).await;
    for n in 1..=3 {
        event(s, &app2, "sess-C", n).await;
    }
    s.state.hooks.deliver_due().await;
    let seen = |r: &Receiver| -> Vec<(String, i64)> {
        r.got()
            .iter()
            .map(|g| (g.json()["chain"].as_str().unwrap().to_string(), g.json()["n"].as_i64().unwrap()))
            .collect()
    };
    let f = seen(&flaky);
    // sess-A's first event failed once: its later events wait; sess-B went ahead.
    assert!(f.contains(&("sess-A".into(), 1)) && f.contains(&("sess-B".into(), 1)), "{f:?}");
    assert!(!f.contains(&("sess-A".into(), 2)), "A2 must wait for A1: {f:?}");
    assert_eq!(seen(&healthy), [("sess-C".to_string(), 1), ("sess-C".into(), 2), ("sess-C".into(), 3)]);
    advance(s, s.state.hooks.config().backoff_max_ms(1)).await;
    let a: Vec<i64> = seen(&flaky).into_iter().filter(|(c, _)| c == "sess-A").map(|(_, n)| n).collect();
    assert_eq!(a, [1, 1, 2, 3], "A1 twice (500, 200), then A2 and A3 in order");
}

/// A node that starts again frees the leases it held when it stopped (the attempts it had in
/// flight), and only its own: another node's rows stay leased until their leases run out.
async fn restarted_node_frees_only_its_own_leases(s: &TestServer) {
    let app = s.app("a").await;
    let rx = Receiver::start(&[], 200).await;
    subscribe(s, &app, &rx.url, &["meeting.started"]).await;
    event(s, &app, "sess-1", 1).await;
    event(s, &app, "sess-2", 1).await;
    let now = s.clock.now();
    let a = s.store.claim_deliveries("n_1", now, 60_000, 1).await.unwrap();
    let b = s.store.claim_deliveries("n%1", now, 60_000, 1).await.unwrap();
    assert_eq!((a.len(), b.len()), (1, 1));
    assert!(s.store.claim_deliveries("other", now, 60_000, 10).await.unwrap().is_empty(), "both leased");
    // LIKE's wildcards in a node id match only themselves.
    assert_eq!(s.store.release_leases_of("n_").await.unwrap(), 0);
    assert_eq!(s.store.release_leases_of("n%").await.unwrap(), 0);
    assert_eq!(s.store.release_leases_of("n_1").await.unwrap(), 1);
    let again = s.store.claim_deliveries("other", now, 60_000, 10).await.unwrap();
    assert_eq!(again.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), [a[0].id.clone()]);
    // The old lease's outcome no longer counts.
    let rec = rtk_server::store::AttemptRecord {
        at: now,
        status: Some(200),
        latency_ms: 1,
        error: None,
        outcome: rtk_server::store::Outcome::Delivered,
        throttle_until: None,
    };
    assert!(!s.store.record_attempt(&a[0], &rec).await.unwrap());
    assert!(s.store.record_attempt(&again[0], &rec).await.unwrap());
}

// No background worker: the test holds every lease itself.
both!(
    webhook_restart_frees_leases,
    super::restarted_node_frees_only_its_own_leases,
    |c: &mut rtk_server::Config| { c.webhooks.poll_interval = None }
);
both!(webhook_retries, super::retries_until_delivered);
both!(webhook_client_errors, super::client_error_is_not_retried);
both!(webhook_order, super::order_within_a_chain_independence_across);

mod webhook_horizon {
    async fn run(db: crate::harness::Db) {
        let short = |c: &mut rtk_server::Config| {
            c.webhooks.max_attempts = 6;
            c.webhooks.backoff_cap = std::time::Duration::from_secs(30);
        };
        if let Some(s) = crate::harness::TestServer::start_with(db, short).await {
            super::down_for_the_whole_horizon(&s).await;
            s.stop().await;
        }
        // A horizon shorter than the attempts allow: the horizon ends it.
        let horizon = |c: &mut rtk_server::Config| {
            c.webhooks.max_attempts = 100;
            c.webhooks.horizon = std::time::Duration::from_secs(20);
        };
        if let Some(s) = crate::harness::TestServer::start_with(db, horizon).await {
            super::down_for_the_whole_horizon(&s).await;
            s.stop().await;
        }
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(crate::harness::Db::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        rtk_no_pg,
        ignore = "PostgreSQL did not answer when these tests were built (RTK_TEST_PG_URL); start it and run them again with RTK_TEST_PG_URL set"
    )]
    async fn postgres() {
        run(crate::harness::Db::Postgres).await
    }
}

/// Two delivery workers (as two nodes would run) on one PostgreSQL outbox: every event is
/// delivered by exactly one of them, each chain in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_never_deliver_one_event_twice() {
    let Some(s) = TestServer::start(Db::Postgres).await else { return };
    let app = s.app("a").await;
    let rx = Receiver::start(&[], 200).await;
    subscribe(&s, &app, &rx.url, &["meeting.started"]).await;
    const CHAINS: usize = 20;
    const PER: usize = 10;
    for n in 1..=PER {
        for c in 0..CHAINS {
            event(&s, &app, &format!("sess-{c}"), n).await;
        }
    }
    let mut nodes = vec![];
    for node in ["node-a", "node-b"] {
        let store = rtk_server::Store::connect(&s.db.url).await.unwrap();
        let cfg =
            rtk_server::webhooks::HookConfig { concurrency: 8, poll_interval: None, ..Default::default() };
        let clock: rtk_server::clock::SharedClock = Arc::new(s.clock.clone());
        nodes.push(
            rtk_server::webhooks::Hooks::new(store, node, clock, s.state.keys.kek().clone(), cfg).unwrap(),
        );
    }
    let total = CHAINS * PER;
    let mut rounds = 0;
    while rx.got().len() < total {
        rounds += 1;
        assert!(rounds < 200, "only {} of {total} delivered", rx.got().len());
        let (a, b) = (nodes[0].clone(), nodes[1].clone());
        tokio::join!(a.deliver_due(), b.deliver_due(), s.state.hooks.deliver_due());
    }
    let got = rx.got();
    let mut uuids: Vec<String> = got.iter().map(|g| g.header("rtk-uuid")).collect();
    uuids.sort();
    uuids.dedup();
    assert_eq!((got.len(), uuids.len()), (total, total), "every rtk-uuid exactly once");
    let mut last = std::collections::HashMap::new();
    for g in &got {
        let v = g.json();
        let prev =
            last.insert(v["chain"].as_str().unwrap().to_string(), v["n"].as_i64().unwrap()).unwrap_or(0);
        assert_eq!(v["n"].as_i64().unwrap(), prev + 1, "chain order: {v}");
    }
    s.stop().await;
}

/// Two peers join and leave, the keep-alive runs out: exactly started, joined, joined, left,
/// left, ended(ALL_PARTICIPANTS_LEFT), in order, each with the counts and times that
/// `GET …/sessions/{id}` gave right after its change.
async fn session_lifecycle_events(s: &TestServer) {
    let room =
        crate::gateway::Room::new(s, json!({"title": "Weekly sync", "session_keep_alive_time_in_secs": 60}))
            .await;
    let rx = Receiver::start(&[], 200).await;
    let hook = subscribe(s, &room.app, &rx.url, &ALL).await;
    let (_, ta) = room.person(s, "alice").await;
    let (_, tb) = room.person(s, "bob").await;
    let mut seen_details: Vec<Value> = vec![];
    let step = |d: Value, seen: &mut Vec<Value>| seen.push(d);

    let mut a = s.connect(&ta).await;
    a.join().await;
    let sid = a.session_id.clone().unwrap();
    step(room.details(s, &sid).await, &mut seen_details);
    s.clock.advance(5_000);
    let mut b = s.connect(&tb).await;
    b.join().await;
    step(room.details(s, &sid).await, &mut seen_details);
    s.clock.advance(5_000);
    a.leave().await;
    step(room.details(s, &sid).await, &mut seen_details);
    s.clock.advance(5_000);
    b.leave().await;
    step(room.details(s, &sid).await, &mut seen_details);
    s.state.hooks.deliver_due().await;
    assert_eq!(rx.got().len(), 5, "started, joined, joined, left, left so far");
    // The keep-alive runs out: the reaper ends the session.
    s.advance(61_000).await;
    s.state.hooks.deliver_due().await;
    step(room.details(s, &sid).await, &mut seen_details);

    let got: Vec<Value> = rx.got().iter().map(Got::json).collect();
    let events: Vec<&str> = got.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        [
            "meeting.started",
            "meeting.participantJoined",
            "meeting.participantJoined",
            "meeting.participantLeft",
            "meeting.participantLeft",
            "meeting.ended"
        ]
    );
    assert_eq!(got[5]["reason"], "ALL_PARTICIPANTS_LEFT");
    // Each body, as received, is what JSON.stringify(JSON.parse(body)) gives (compact, same order).
    for g in rx.got() {
        assert_eq!(serde_json::to_string(&g.json()).unwrap(), g.body);
        assert_eq!(g.header("rtk-webhook-id"), hook);
    }
    for v in &got {
        let m = &v["meeting"];
        assert_eq!(
            (m["id"].as_str(), m["sessionId"].as_str()),
            (Some(room.meeting.as_str()), Some(sid.as_str()))
        );
        assert_eq!(
            (m["title"].clone(), m["roomName"].clone(), m["status"].clone()),
            (json!("Weekly sync"), json!(room.meeting), json!("LIVE"))
        );
        assert_eq!(m["organizedBy"]["id"], room.app);
    }
    // Counts and times as GET session gave them after each change (started and the first
    // join are one change).
    let pairs = [(0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 4)];
    for (ev, d) in pairs {
        let (v, d) = (&got[ev], &seen_details[d]);
        assert_eq!(v["rtk"]["liveParticipants"], d["live_participants"], "{ev}: {v} vs {d}");
        assert_eq!(
            v["rtk"]["maxConcurrentParticipants"], d["max_concurrent_participants"],
            "{ev}: {v} vs {d}"
        );
        assert_eq!(v["meeting"]["startedAt"], d["started_at"], "{ev}");
    }
    assert!(got[..5].iter().all(|v| v["meeting"].get("endedAt").is_none()), "no endedAt while live");
    assert_eq!(got[5]["meeting"]["endedAt"], seen_details[4]["ended_at"]);
    assert_eq!(got[5]["meeting"]["endedAt"], rtk_server::clock::rfc3339(T0 + 15_000), "at the last leave");
    // Participants: joined/left times of the change, names and ids.
    assert_eq!(got[1]["participant"]["userDisplayName"], "alice");
    assert_eq!(got[1]["participant"]["customParticipantId"], "alice");
    assert_eq!(got[1]["participant"]["clientSpecificId"], "alice");
    assert_eq!(got[1]["participant"]["joinedAt"], rtk_server::clock::rfc3339(T0));
    assert_eq!(got[2]["participant"]["joinedAt"], rtk_server::clock::rfc3339(T0 + 5_000));
    assert_eq!(got[3]["participant"]["userDisplayName"], "alice");
    assert_eq!(got[3]["participant"]["leftAt"], rtk_server::clock::rfc3339(T0 + 10_000));
    assert_eq!(got[4]["participant"]["leftAt"], rtk_server::clock::rfc3339(T0 + 15_000));
    assert_eq!(got[1]["participant"]["peerId"], got[3]["participant"]["peerId"]);
}

/// Kick-all ends the session at once: a left for each peer, then ended(HOST_ENDED_MEETING).
async fn kick_all_events(s: &TestServer) {
    let room = crate::gateway::Room::new(s, json!({"title": "Kicked"})).await;
    let rx = Receiver::start(&[], 200).await;
    // Only these two events: the others are not written for this webhook.
    subscribe(s, &room.app, &rx.url, &["meeting.participantLeft", "meeting.ended"]).await;
    let (_, ta) = room.person(s, "alice").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    s.clock.advance(3_000);
    let (st, v) = s
        .post(
            &format!("{}/{}/meetings/{}/active-session/kick-all", s.kit(), room.app, room.meeting),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.state.hooks.deliver_due().await;
    let got: Vec<Value> = rx.got().iter().map(Got::json).collect();
    let events: Vec<&str> = got.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["meeting.participantLeft", "meeting.ended"]);
    assert_eq!(got[1]["reason"], "HOST_ENDED_MEETING");
    assert_eq!(got[1]["meeting"]["endedAt"], rtk_server::clock::rfc3339(T0 + 3_000));
    assert_eq!(got[1]["rtk"]["liveParticipants"], 0);
    drop(a);
}

/// A session with chat ends: `meeting.chatSynced` follows `meeting.ended`, and its link
/// downloads the chat as the chat endpoint's link does, for the whole retry horizon. A
/// session without chat sends none.
async fn chat_synced_events(s: &TestServer) {
    use rtk_api::gateway::{ClientMessage, ServerEvent};
    let room =
        crate::gateway::Room::new(s, json!({"title": "Chatty", "session_keep_alive_time_in_secs": 60})).await;
    let rx = Receiver::start(&[], 200).await;
    subscribe(s, &room.app, &rx.url, &["meeting.ended", "meeting.chatSynced"]).await;
    let (_, ta) = room.person(s, "alice").await;
    let mut a = s.connect(&ta).await;
    a.join().await;
    let sid = a.session_id.clone().unwrap();
    for m in ["hello, \"team\"", "second line"] {
        a.send(&ClientMessage::Chat { message: m.into() }).await;
        a.wait_for(|e| matches!(e, ServerEvent::Chat { .. })).await;
        s.clock.advance(1_000);
    }
    a.leave().await;
    s.advance(61_000).await;
    s.state.hooks.deliver_due().await;
    let got: Vec<Value> = rx.got().iter().map(Got::json).collect();
    let events: Vec<&str> = got.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["meeting.ended", "meeting.chatSynced"]);
    let c = &got[1];
    assert_eq!(
        (c["sessionId"].as_str(), c["meetingId"].as_str()),
        (Some(sid.as_str()), Some(room.meeting.as_str()))
    );
    assert_eq!(c["title"], "Chatty");
    assert_eq!(c["organizedBy"]["id"], room.app);
    assert_eq!(c["endedAt"], got[0]["meeting"]["endedAt"]);
    assert_eq!(c["startedAt"], rtk_server::clock::rfc3339(T0));
    // Valid for the retry horizon plus an hour from the end.
    let ended_at = s.clock.now();
    let horizon = s.state.hooks.config().horizon.as_millis() as i64;
    assert_eq!(
        c["chatDownloadUrlExpiry"],
        rtk_server::clock::rfc3339(ended_at / 1000 * 1000 + horizon + 3_600_000)
    );
    let url = c["chatDownloadUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/chat-exports/", s.root)), "{url}");
    let csv = s.http.get(&url).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].ends_with(",alice,\"hello, \"\"team\"\"\""), "{csv}");
    assert!(lines[2].ends_with(",alice,second line"), "{csv}");
    // The last retry still finds a working link; an hour past that, it has expired.
    s.clock.advance(horizon);
    assert_eq!(s.http.get(&url).send().await.unwrap().status(), StatusCode::OK);
    s.clock.advance(3_600_000 + 1_000);
    assert_eq!(s.http.get(&url).send().await.unwrap().status(), StatusCode::GONE);

    // No chat, no chatSynced; kick-all ends a session too.
    let before = rx.got().len();
    let (_, tb) = room.person(s, "bob").await;
    let mut b = s.connect(&tb).await;
    b.join().await;
    let (st, v) = s
        .post(
            &format!("{}/{}/meetings/{}/active-session/kick-all", s.kit(), room.app, room.meeting),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.state.hooks.deliver_due().await;
    let later: Vec<Value> = rx.got()[before..].iter().map(Got::json).collect();
    let events: Vec<&str> = later.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["meeting.ended"], "{later:?}");
    drop(b);
}

both!(webhook_session_events, super::session_lifecycle_events);
both!(webhook_chat_synced, super::chat_synced_events);
both!(webhook_kick_all_events, super::kick_all_events);

/// The delivery log (rtk's extension API) shows each attempt; a failed event is redelivered
/// by hand with the same rtk-uuid.
async fn delivery_log_and_redelivery(s: &TestServer) {
    let app = s.app("a").await;
    let rx = Receiver::start(&[400], 200).await;
    let hook = subscribe(s, &app, &rx.url, &["meeting.started"]).await;
    event(s, &app, "sess-1", 1).await;
    s.state.hooks.deliver_due().await;
    let log_url = format!("{}/_rtk/accounts/{}/apps/{app}/webhooks/{hook}/deliveries", s.root, s.account);
    let (st, v) = s.get(&log_url).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let d = &v["data"][0];
    assert_eq!(
        (d["state"].clone(), d["attempts"].clone(), d["last_status"].clone()),
        (json!("failed"), json!(1), json!(400))
    );
    assert_eq!(d["log"].as_array().unwrap().len(), 1);
    assert_eq!(d["log"][0]["status"], 400);
    assert_eq!(d["body"].as_str().unwrap(), rx.got()[0].body);
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(id, rx.got()[0].header("rtk-uuid"));
    let (_, v) = s.get(&format!("{log_url}?state=delivered")).await;
    assert_eq!(v["data"], json!([]));
    let (st, _) = s.get(&format!("{log_url}?state=lost")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Redeliver: the same rtk-uuid, now accepted.
    let (st, v) = s.post(&format!("{log_url}/{id}/redeliver"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["state"], "pending");
    s.state.hooks.deliver_due().await;
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].header("rtk-uuid"), id);
    assert_eq!(got[1].body, got[0].body);
    let (_, v) = s.get(&format!("{log_url}/{id}")).await;
    assert_eq!(v["data"]["state"], "delivered");
    let statuses: Vec<Value> =
        v["data"]["log"].as_array().unwrap().iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(400), json!(200)]);
    // Another account's token: 404.
    let other = rtk_server::admin::create_account(&s.store, None, 0).await.unwrap();
    let (_, tok) = rtk_server::admin::create_token(&s.store, &other, "o", "o@x", 0).await.unwrap();
    let r = s.http.get(&log_url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s.http.get(&log_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A pending one cannot be redelivered (it is on its way).
    let dead = subscribe(s, &app, &dead_url().await, &["meeting.started"]).await;
    event(s, &app, "sess-2", 1).await;
    s.state.hooks.deliver_due().await;
    let dead_log = format!("{}/_rtk/accounts/{}/apps/{app}/webhooks/{dead}/deliveries", s.root, s.account);
    let (_, v) = s.get(&dead_log).await;
    assert_eq!(v["data"][0]["state"], "pending");
    assert!(v["data"][0]["next_attempt_at"].is_string());
    let pid = v["data"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = s.post(&format!("{dead_log}/{pid}/redeliver"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // Deleting the webhook cancels what is pending; the log stays readable in the store.
    s.call(Method::DELETE, &format!("{}/{dead}", hooks_url(s, &app)), None).await;
    let rows = s.store.deliveries(&dead, None, 10).await.unwrap();
    assert_eq!(rows[0].state, "cancelled");
}

both!(webhook_delivery_log, super::delivery_log_and_redelivery);

/// With private targets denied, a loopback receiver is never contacted: failed at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_private_refuses_loopback() {
    let deny = |c: &mut rtk_server::Config| c.webhooks.deny_private = true;
    let Some(s) = TestServer::start_with(Db::Sqlite, deny).await else { return };
    let app = s.app("a").await;
    let rx = Receiver::start(&[], 200).await;
    for url in [rx.url.clone(), rx.url.replace("127.0.0.1", "localhost")] {
        let hook = subscribe(&s, &app, &url, &["meeting.started"]).await;
        event(&s, &app, &format!("sess-{hook}"), 1).await;
        s.state.hooks.deliver_due().await;
        let d = &s.store.deliveries(&hook, None, 1).await.unwrap()[0];
        assert_eq!((d.state.as_str(), d.attempts), ("failed", 1), "{url}: {d:?}");
        assert!(d.last_error.as_deref().unwrap().contains("private targets are denied"), "{d:?}");
        s.call(Method::DELETE, &format!("{}/{hook}", hooks_url(&s, &app)), None).await;
    }
    assert!(rx.got().is_empty(), "nothing reached the receiver");
    s.stop().await;
}

/// The delivery log's retention: a finished delivery goes (with its attempts) once it is older
/// than the retention; a newer one and a pending one, however old, stay.
async fn retention_sweeps_finished_deliveries(s: &TestServer) {
    let app = s.app("a").await;
    let rx = Receiver::start(&[], 200).await;
    let hook = subscribe(s, &app, &rx.url, &["meeting.started"]).await;
    let dead = subscribe(s, &app, &dead_url().await, &["meeting.started"]).await;
    event(s, &app, "old", 1).await;
    s.state.hooks.deliver_due().await;
    let day = 24 * 3600 * 1000;
    advance(s, 20 * day).await;
    event(s, &app, "new", 1).await;
    s.state.hooks.deliver_due().await;
    let log = |h: &str| format!("{}/_rtk/accounts/{}/apps/{app}/webhooks/{h}/deliveries", s.root, s.account);
    let (_, v) = s.get(&log(&hook)).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");
    let old_id = v["data"][1]["id"].as_str().unwrap().to_string();
    // 30 days (the default) after the first finished: it goes; the second (20 days younger) stays.
    advance(s, 10 * day + 1).await;
    let before = s.db.count("webhook_attempts").await;
    assert!(s.state.hooks.prune().await.unwrap() >= 1);
    let (_, v) = s.get(&log(&hook)).await;
    let left: Vec<&str> = v["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(left.len(), 1, "{v}");
    assert_ne!(left[0], old_id);
    let (st, _) = s.get(&format!("{}/{old_id}", log(&hook))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(s.db.count("webhook_attempts").await < before, "its attempts went with it");
    // Retention counts from when a delivery finished: the dead receiver's first event kept
    // being retried until its horizon passed (it failed at day 20, when the clock got there),
    // so it stays like the second.
    let (_, v) = s.get(&log(&dead)).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(s.state.hooks.prune().await.unwrap(), 0, "nothing more to sweep");
}
both!(webhook_retention, super::retention_sweeps_finished_deliveries);
