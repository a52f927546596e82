//! In-process hot paths: the engine's O(1) accounting, the session response serialised in
//! both shapes inside the envelope, participant-token verification, and a whole
//! `GET …/sessions/{id}` without sockets, through the router (auth, routing, middleware, body)
//! and through the server's service, whose hot path answers it from memory.
//!
//!     cargo bench -p rtk-server --bench hot

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rtk_server::http::sessions::{details_body, session_view};
use rtk_server::store::SessionRow;
use rtk_server::tokens::{KeyRing, ParticipantClaims};
use rtk_server::Store;

fn session(live: i64) -> SessionRow {
    SessionRow {
        id: "0192b7c4-3b1e-7c55-8f1e-6f2a1b3c4d5e".into(),
        app_id: "0192b7c4-3b1e-7c55-8f1e-aaaaaaaaaaaa".into(),
        seq: 42,
        meeting_id: "0192b7c4-3b1e-7c55-8f1e-bbbbbbbbbbbb".into(),
        meeting_title: Some("Weekly sync".into()),
        parent_session_id: None,
        status: "LIVE".into(),
        keep_alive_ms: 60_000,
        started_at: 1_767_225_600_000,
        ended_at: None,
        created_at: 1_767_225_600_000,
        updated_at: 1_767_225_630_000,
        live_count: live,
        max_live: live,
        peer_count: live,
        closed_ms: 123_456,
        live_join_sum: live * 1_767_225_600_000,
        last_leave_at: None,
        ends_at: None,
        dropped_count: 0,
        meta: "{}".into(),
    }
}

fn accounting(c: &mut Criterion) {
    let small = session(2);
    let big = session(10_000);
    c.bench_function("engine: session state, 2 peers", |b| {
        b.iter(|| black_box(&small).state(black_box(1_767_225_690_000)))
    });
    c.bench_function("engine: session state, 10,000 peers", |b| {
        b.iter(|| black_box(&big).state(black_box(1_767_225_690_000)))
    });
}

fn serialisation(c: &mut Criterion) {
    let s = session(2);
    c.bench_function("http: session details envelope (both shapes) to bytes", |b| {
        b.iter(|| {
            let view = session_view(black_box(&s), 1_767_225_690_000);
            details_body(&view).unwrap()
        })
    });
}

fn tokens(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (keys, token) = rt.block_on(async {
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap();
        let keys = KeyRing::load(store, &dir.path().join("signing.key"), 0).await.unwrap();
        let claims = ParticipantClaims {
            sub: "p".into(),
            participant_id: "p".into(),
            meeting_id: "m".into(),
            app_id: "a".into(),
            account_id: "acc".into(),
            preset_name: "host".into(),
            iat: 1_767_225_600,
            exp: 1_767_225_600 + 8_640_000,
            jti: "j".into(),
        };
        let token = keys.sign(&claims).await.unwrap();
        (keys, token)
    });
    c.bench_function("tokens: verify a participant token", |b| {
        b.to_async(&rt).iter(|| async { keys.verify(black_box(&token), 1_767_225_700_000).await.unwrap() })
    });
}

/// The full HTTP stack minus the socket: what one session-details request costs the server's
/// CPU in user space, so changes to routing, middleware and handlers show up here first.
fn router(c: &mut Criterion) {
    use axum::body::Body;
    use tower::ServiceExt;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (app, hot, uri, auth) = rt.block_on(async {
        let config = rtk_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            reaper_interval: None,
            ..Default::default()
        };
        let server =
            rtk_server::Server::start(config, std::sync::Arc::new(rtk_server::SystemClock)).await.unwrap();
        let boot = server.bootstrap.clone().expect("a fresh store bootstraps");
        let state = server.state().clone();
        let now = state.now();
        let app_id = "0192b7c4-3b1e-7c55-8f1e-aaaaaaaaaaaa";
        state
            .store
            .insert_app(&rtk_server::store::AppRow {
                id: app_id.into(),
                account_id: boot.account_id.clone(),
                name: "bench".into(),
                created_at: now,
            })
            .await
            .unwrap();
        let mut s = session(2);
        s.app_id = app_id.into();
        s.started_at = now - 60_000;
        s.created_at = now - 60_000;
        s.live_join_sum = 2 * (now - 60_000);
        state.store.import_sessions(&[s.clone()]).await.unwrap();
        let uri = format!("/client/v4/accounts/{}/realtime/kit/{app_id}/sessions/{}", boot.account_id, s.id);
        let auth = format!("Bearer {}", boot.token);
        (rtk_server::http::router(state.clone()), rtk_server::http::service(state), uri, auth)
    });
    let request =
        || axum::http::Request::get(&uri).header("authorization", &auth).body(Body::empty()).unwrap();
    let slow = rt.block_on(app.clone().oneshot(request())).unwrap();
    assert_eq!(slow.status(), 200, "the bench request must succeed");
    // Warm the caches through the router, then check the hot path answers the same bytes.
    let fast = rt.block_on(hot.clone().oneshot(request())).unwrap();
    let slow = rt.block_on(axum::body::to_bytes(slow.into_body(), usize::MAX)).unwrap();
    let fast = rt.block_on(axum::body::to_bytes(fast.into_body(), usize::MAX)).unwrap();
    assert_eq!(slow.len(), fast.len(), "the hot path answers like the router");
    c.bench_function("http: GET session details through the router (no socket)", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = app.clone().oneshot(request()).await.unwrap();
            axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()
        })
    });
    c.bench_function("http: GET session details through the server's service (hot path, no socket)", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = hot.clone().oneshot(request()).await.unwrap();
            axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()
        })
    });
}

criterion_group!(benches, accounting, serialisation, tokens, router);
criterion_main!(benches);
