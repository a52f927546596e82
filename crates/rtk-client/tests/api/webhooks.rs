//! `realtime_kit().webhooks()`: the management API and rtk's delivery log through the SDK,
//! against a real rtk delivering to a receiver on loopback.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use rtk_client::params::*;

use crate::harness::env;

/// A receiver on loopback: answers the scripted statuses in turn (then 200) and keeps every
/// request's `rtk-uuid` and body.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let r = Receiver { url, got: Default::default() };
        let (me, script) = (r.clone(), script.to_vec());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (me, script) = (me.clone(), script.clone());
                async move {
                    let uuid =
                        headers.get("rtk-uuid").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                    let mut got = me.got.lock().unwrap();
                    let status = script.get(got.len()).copied().unwrap_or(200);
                    got.push((uuid, body));
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }

    fn got(&self) -> Vec<(String, String)> {
        self.got.lock().unwrap().clone()
    }
}

fn hook(acc: &str, name: &str, url: &str, events: &[&str]) -> WebhookParams {
    WebhookParams {
        name: name.into(),
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        ..WebhookParams::new(acc)
    }
}

#[tokio::test]
async fn webhooks_crud() {
    let env = env().await;
    let hooks = env.client.realtime_kit().webhooks();
    let acc = AccountParams::new(&env.account);

    let created = hooks
        .create_webhook(&env.app, &hook(&env.account, "all", "https://example.com/a", &["meeting.started"]))
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let w = created.data;
    assert_eq!((w.name.as_str(), w.url.as_str(), w.enabled), ("all", "https://example.com/a", true));
    assert_eq!(w.events, ["meeting.started"]);
    assert!(!w.id.is_empty() && !w.created_at.is_empty() && w.created_at == w.updated_at);
    let second = hooks
        .create_webhook(
            &env.app,
            &WebhookParams {
                enabled: Some(false),
                ..hook(&env.account, "off", "https://example.com/b", &["meeting.ended"])
            },
        )
        .await
        .unwrap()
        .data;
    assert!(!second.enabled);

    let list = hooks.get_webhooks(&env.app, &acc).await.unwrap();
    assert!(list.paging.is_none());
    assert_eq!(
        list.data.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        [w.id.as_str(), second.id.as_str()]
    );
    assert_eq!(hooks.get_webhook_by_id(&env.app, &w.id, &acc).await.unwrap().data, w);

    env.clock.advance(1_000);
    let replaced = hooks
        .replace_webhook(
            &env.app,
            &second.id,
            &hook(&env.account, "on", "https://example.com/c", &["meeting.ended", "meeting.participantLeft"]),
        )
        .await
        .unwrap()
        .data;
    assert_eq!((replaced.name.as_str(), replaced.url.as_str()), ("on", "https://example.com/c"));
    assert!(replaced.enabled, "PUT without enabled: true");
    assert_eq!(replaced.events, ["meeting.ended", "meeting.participantLeft"]);
    assert_ne!(replaced.updated_at, second.updated_at);

    // PATCH {} changes nothing, not even updated_at.
    env.clock.advance(1_000);
    let same = hooks.edit_webhook(&env.app, &second.id, &EditWebhookParams::new(&env.account)).await.unwrap();
    assert_eq!(same.data, replaced);
    let edited = hooks
        .edit_webhook(
            &env.app,
            &second.id,
            &EditWebhookParams { enabled: Some(false), ..EditWebhookParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert!(!edited.enabled);
    assert_eq!((edited.name.as_str(), edited.events.len()), ("on", 2));

    // Errors: unknown event 400, a taken URL 409, an unknown id 404.
    let e = hooks
        .create_webhook(&env.app, &hook(&env.account, "x", "https://example.com/d", &["meeting.exploded"]))
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");
    assert!(e.message().unwrap_or_default().contains("events[0]"), "{e}");
    let e = hooks
        .create_webhook(&env.app, &hook(&env.account, "x", "ftp://example.com/d", &["meeting.started"]))
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");
    let e = hooks
        .create_webhook(&env.app, &hook(&env.account, "dup", "https://example.com/a", &["meeting.ended"]))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");
    let e = hooks
        .edit_webhook(
            &env.app,
            &second.id,
            &EditWebhookParams {
                url: Some("https://example.com/a".into()),
                ..EditWebhookParams::new(&env.account)
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");

    let deleted = hooks.delete_webhook(&env.app, &w.id, &acc).await.unwrap().data;
    assert_eq!(deleted, w);
    assert!(hooks.get_webhook_by_id(&env.app, &w.id, &acc).await.unwrap_err().is_not_found());
    assert_eq!(hooks.get_webhooks(&env.app, &acc).await.unwrap().data.len(), 1);
    // An empty path id is refused before anything is sent.
    assert!(matches!(
        hooks.get_webhook_by_id(&env.app, "", &acc).await.unwrap_err(),
        rtk_client::Error::InvalidRequest(_)
    ));
}

/// A real join produces deliveries; the delivery log (rtk's extension, at the server's root
/// although the client's base URL ends in /client/v4) shows them, and a failed one is
/// redelivered with the same rtk-uuid.
#[tokio::test]
async fn deliveries_and_redelivery() {
    let env = env().await;
    let hooks = env.client.realtime_kit().webhooks();
    let acc = AccountParams::new(&env.account);
    let rx = Receiver::start(&[400]).await;
    let w = hooks
        .create_webhook(
            &env.app,
            &hook(&env.account, "rx", &rx.url, &["meeting.started", "meeting.participantJoined"]),
        )
        .await
        .unwrap()
        .data;
    let meeting = env.meeting("hooked").await;
    let (_p, joined) = env.join(&meeting, "ada").await;
    env.hooks.deliver_due().await;
    let got = rx.got();
    assert_eq!(got.len(), 2, "started (answered 400), then joined: {got:?}");

    let log = hooks.deliveries(&env.app, &w.id, &DeliveryListParams::new(&env.account)).await.unwrap().data;
    assert_eq!(log.len(), 2);
    // Newest first: joined, then started.
    assert_eq!(
        log.iter().map(|d| (d.event.as_str(), d.state.as_str())).collect::<Vec<_>>(),
        [("meeting.participantJoined", "delivered"), ("meeting.started", "failed")]
    );
    let started = &log[1];
    assert_eq!(started.id, got[0].0, "the delivery id is the rtk-uuid");
    assert_eq!(started.body, got[0].1);
    assert_eq!((started.attempts, started.last_status), (1, Some(400)));
    assert_eq!(started.log.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(400)]);
    let body: serde_json::Value = serde_json::from_str(&started.body).unwrap();
    assert_eq!(body["meeting"]["sessionId"], joined.session_id.as_str());

    let failed = hooks
        .deliveries(
            &env.app,
            &w.id,
            &DeliveryListParams { state: Some("failed".into()), ..DeliveryListParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(failed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [started.id.as_str()]);
    let one = hooks
        .deliveries(
            &env.app,
            &w.id,
            &DeliveryListParams { limit: Some(1), ..DeliveryListParams::new(&env.account) },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(one.len(), 1);
    let e = hooks
        .deliveries(
            &env.app,
            &w.id,
            &DeliveryListParams { state: Some("lost".into()), ..DeliveryListParams::new(&env.account) },
        )
        .await
        .unwrap_err();
    assert!(e.is_bad_request(), "{e}");

    let again = hooks.redeliver(&env.app, &w.id, &started.id, &acc).await.unwrap().data;
    assert_eq!((again.id.as_str(), again.state.as_str()), (started.id.as_str(), "pending"));
    env.hooks.deliver_due().await;
    let got = rx.got();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], got[0], "the same rtk-uuid and body");
    let d = hooks.delivery(&env.app, &w.id, &started.id, &acc).await.unwrap().data;
    assert_eq!(d.state, "delivered");
    assert_eq!(d.log.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(400), Some(200)]);
    // Delivered, it can be redelivered again; an unknown delivery is a 404.
    assert!(hooks.delivery(&env.app, &w.id, "nope", &acc).await.unwrap_err().is_not_found());
    assert!(hooks.redeliver(&env.app, &w.id, "nope", &acc).await.unwrap_err().is_not_found());
}

/// The delivery log is reached at the server's root whether or not the base URL has
/// /client/v4 (with or without a trailing slash).
#[tokio::test]
async fn the_delivery_log_is_beside_client_v4() {
    let env = env().await;
    let w = env
        .client
        .realtime_kit()
        .webhooks()
        .create_webhook(&env.app, &hook(&env.account, "n", "https://example.com/n", &["meeting.ended"]))
        .await
        .unwrap()
        .data;
    for base in [env.base.clone(), format!("{}/", env.base), format!("{}/client/v4/", env.base)] {
        let c = rtk_client::Client::builder()
            .base_url(&base)
            .api_token(&env.token)
            .max_retries(0)
            .build()
            .unwrap();
        let r = c
            .realtime_kit()
            .webhooks()
            .deliveries(&env.app, &w.id, &DeliveryListParams::new(&env.account))
            .await
            .unwrap_or_else(|e| panic!("{base}: {e}"));
        assert!(r.data.is_empty());
        assert_eq!(
            r.raw().request.url,
            format!(
                "{}/_rtk/accounts/{}/apps/{}/webhooks/{}/deliveries",
                env.base, env.account, env.app, w.id
            )
        );
    }
}
