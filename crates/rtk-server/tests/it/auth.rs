//! Authentication and account isolation.

use crate::both;
use crate::harness::TestServer;
use reqwest::StatusCode;
use rtk_server::admin;
use serde_json::json;

async fn missing_and_bad_credentials(s: &TestServer) {
    let url = format!("{}/apps", s.kit());
    let r = s.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["success"], false);
    assert_eq!(v["error"]["code"], 401);
    assert_eq!(v["errors"][0]["code"], 401);
    assert!(v["error"]["message"].as_str().unwrap().contains("missing credentials"));

    let r = s.http.get(&url).bearer_auth("rtk_not_a_real_token").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s.http.get(&url).header("Authorization", "Basic abc").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s.http.get(&url).header("X-Auth-Email", admin::DEFAULT_EMAIL).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "an email without a key");
}

async fn email_and_key(s: &TestServer) {
    let url = format!("{}/apps", s.kit());
    let r = s
        .http
        .get(&url)
        .header("X-Auth-Email", admin::DEFAULT_EMAIL)
        .header("X-Auth-Key", &s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .http
        .get(&url)
        .header("X-Auth-Email", "mallory@example.com")
        .header("X-Auth-Key", &s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a key with the wrong email");
}

async fn other_account_sees_nothing(s: &TestServer) {
    let app = s.app("mine").await;
    let meeting = s.meeting(&app, json!({"title": "secret"})).await;
    // A second account with its own token.
    let other = admin::create_account(&s.store, None, 0).await.unwrap();
    let (_, other_token) = admin::create_token(&s.store, &other, "other", "o@example.com", 0).await.unwrap();
    // The other token on our account's paths: 404, and the message does not say whether the
    // app or meeting exists.
    for url in [
        format!("{}/apps", s.kit()),
        format!("{}/{app}/meetings/{meeting}", s.kit()),
        format!("{}/{app}/presets", s.kit()),
    ] {
        let r = s.http.get(&url).bearer_auth(&other_token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url}");
        let text = r.text().await.unwrap();
        assert!(!text.contains("secret") && !text.contains(&meeting), "{text}");
    }
    // Our app id under the other account's own path: 404 too.
    let theirs = format!("{}/client/v4/accounts/{other}/realtime/kit/{app}/meetings/{meeting}", s.root);
    let r = s.http.get(&theirs).bearer_auth(&other_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], format!("No app found with id {app}"));
    // And the other account lists no apps of ours.
    let r = s
        .http
        .get(format!("{}/client/v4/accounts/{other}/realtime/kit/apps", s.root))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"], json!([]));
    assert_eq!(v["paging"]["total_count"], 0);
}

async fn revoked_token_is_refused(s: &TestServer) {
    let (row, token) = admin::create_token(&s.store, &s.account, "temp", "t@example.com", 0).await.unwrap();
    let url = format!("{}/apps", s.kit());
    assert_eq!(s.http.get(&url).bearer_auth(&token).send().await.unwrap().status(), StatusCode::OK);
    s.store.revoke_token(&row.id, 1).await.unwrap();
    assert_eq!(s.http.get(&url).bearer_auth(&token).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // The first-start token still works.
    assert_eq!(s.http.get(&url).bearer_auth(&s.token).send().await.unwrap().status(), StatusCode::OK);
}

both!(missing_and_bad, super::missing_and_bad_credentials);
both!(email_key, super::email_and_key);
both!(isolation, super::other_account_sees_nothing);
both!(revocation, super::revoked_token_is_refused);
