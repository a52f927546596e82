//! In-process hot paths: the engine's O(1) accounting, the session response serialised in
//! both shapes inside the envelope, and participant-token verification.
//!
//!     cargo bench -p rtk-server --bench hot

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rtk_server::http::sessions::{session_view, BothShapes};
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
            serde_json::to_vec(&rtk_api::Envelope::ok(BothShapes(view))).unwrap()
        })
    });
}

fn tokens(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (keys, token) = rt.block_on(async {
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap();
        let keys = KeyRing::load(store, 0).await.unwrap();
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

criterion_group!(benches, accounting, serialisation, tokens);
criterion_main!(benches);
