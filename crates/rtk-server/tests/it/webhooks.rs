//! Webhooks: the management API (wire shapes, validation, scoping), the public key, and
//! deliveries to real HTTP receivers on loopback, with the manual clock for backoff.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both;
use crate::harness::{TestServer, T0};

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

#[allow(dead_code)]
const _: i64 = T0;
