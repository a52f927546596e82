//! The participant client against an in-process rtk, through a TCP proxy the test can cut to
//! drop connections: it resumes the same peer within the heartbeat timeout and joins afresh
//! after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rtk_api::gateway::ServerEvent;
use rtk_client::participant::{Event, Participant};
use rtk_server::{Config, ManualClock, Server};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(10);

/// Forwards connections to `target`; `cut()` kills every live connection.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: broadcast::Sender<()>,
    refuse: Arc<AtomicBool>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (cut, _) = broadcast::channel(4);
        let refuse = Arc::new(AtomicBool::new(false));
        let (cut2, refuse2) = (cut.clone(), refuse.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = l.accept().await else { return };
                if refuse2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut stop = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = stop.recv() => {}
                    }
                });
            }
        });
        Proxy { addr, cut, refuse }
    }
    fn cut(&self) {
        let _ = self.cut.send(());
    }
}

struct Env {
    base: String,
    kit: String,
    token: String,
    http: reqwest::Client,
    clock: ManualClock,
    engine: rtk_server::engine::Engine,
    store: rtk_server::Store,
    app: String,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        reaper_interval: None,
        auth_cache_ttl: Duration::ZERO,
        ..Config::default()
    };
    let clock = ManualClock::new(1_767_225_600_000);
    let server = Server::start(config, Arc::new(clock.clone())).await.unwrap();
    let boot = server.bootstrap.clone().unwrap();
    let base = format!("http://{}", server.local_addr());
    let engine = server.state().engine.clone();
    let store = server.state().store.clone();
    tokio::spawn(server.run(std::future::pending()));
    let kit = format!("{base}/client/v4/accounts/{}/realtime/kit", boot.account_id);
    let http = reqwest::Client::new();
    let app = http
        .post(format!("{kit}/apps"))
        .bearer_auth(&boot.token)
        .json(&serde_json::json!({"name": "a"}))
        .send()
        .await
        .unwrap();
    let app: serde_json::Value = app.json().await.unwrap();
    let app = app["data"]["app"]["id"].as_str().unwrap().to_string();
    let preset: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/examples/preset.json")).unwrap();
    http.post(format!("{kit}/{app}/presets")).bearer_auth(&boot.token).json(&preset).send().await.unwrap();
    Env { base, kit, token: boot.token, http, clock, engine, store, app, _dir: dir }
}

impl Env {
    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = self
            .http
            .post(format!("{}/{}", self.kit, path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
    async fn participant_token(&self, meeting: &str, who: &str) -> String {
        let v = self
            .post(
                &format!("{}/meetings/{meeting}/participants", self.app),
                serde_json::json!({"custom_participant_id": who, "preset_name": "host"}),
            )
            .await;
        v["data"]["token"].as_str().unwrap().to_string()
    }
}

async fn next(p: &mut Participant, f: impl Fn(&Event) -> bool) -> Event {
    loop {
        let e = tokio::time::timeout(WAIT, p.next_event())
            .await
            .expect("an event in time")
            .expect("events continue");
        if f(&e) {
            return e;
        }
    }
}

#[tokio::test]
async fn joins_chats_leaves() {
    let env = env().await;
    let m = env.post(&format!("{}/meetings", env.app), serde_json::json!({"title": "x"})).await;
    let m = m["data"]["id"].as_str().unwrap().to_string();
    let (ta, tb) = (env.participant_token(&m, "a").await, env.participant_token(&m, "b").await);
    let mut a = Participant::connect(&format!("{}/client/v4", env.base), &ta).await.unwrap();
    let ja = a.join(Some(serde_json::json!({"os": "linux"}))).await.unwrap();
    let mut b = Participant::connect(&env.base, &tb).await.unwrap();
    let jb = b.join(None).await.unwrap();
    assert_eq!(ja.session_id, jb.session_id);
    assert_eq!(jb.peers.len(), 1);
    b.chat("hi a").unwrap();
    let e = next(&mut a, |e| matches!(e, Event::Server(ServerEvent::Chat { .. }))).await;
    assert!(matches!(e, Event::Server(ServerEvent::Chat { ref message, .. }) if message == "hi a"));
    b.leave().await.unwrap();
    let e = next(&mut a, |e| matches!(e, Event::Server(ServerEvent::PeerLeft { .. }))).await;
    assert_eq!(e, Event::Server(ServerEvent::PeerLeft { peer_id: jb.peer_id, reason: "left".into() }));
    a.leave().await.unwrap();
    let s = env.store.session(&env.app, &ja.session_id).await.unwrap().unwrap();
    assert_eq!(s.live_count, 0);
}

#[tokio::test]
async fn resumes_within_the_timeout_and_rejoins_after() {
    let env = env().await;
    let proxy = Proxy::start(env.base.trim_start_matches("http://").parse().unwrap()).await;
    let m = env.post(&format!("{}/meetings", env.app), serde_json::json!({})).await;
    let m = m["data"]["id"].as_str().unwrap().to_string();
    let token = env.participant_token(&m, "a").await;
    let mut p = Participant::connect(&format!("http://{}", proxy.addr), &token).await.unwrap();
    let j = p.join(None).await.unwrap();

    // Cut the link: the client resumes the same peer; the server never saw it leave.
    proxy.cut();
    assert_eq!(next(&mut p, |e| matches!(e, Event::Dropped)).await, Event::Dropped);
    let e = next(&mut p, |e| matches!(e, Event::Resumed { .. })).await;
    assert_eq!(e, Event::Resumed { peer_id: j.peer_id.clone() });
    let peer = env.store.peer(&j.peer_id).await.unwrap().unwrap();
    assert!(peer.left_at.is_none() && peer.connected, "presence is continuous");

    // Cut it and keep it down past the heartbeat timeout: the server ends the peer at its
    // last message; when the link returns the client joins afresh.
    proxy.refuse.store(true, Ordering::SeqCst);
    proxy.cut();
    assert_eq!(next(&mut p, |e| matches!(e, Event::Dropped)).await, Event::Dropped);
    let (store, id) = (env.store.clone(), j.peer_id.clone());
    tokio::time::timeout(WAIT, async {
        while store.peer(&id).await.unwrap().unwrap().connected {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server sees the drop");
    env.clock.advance(31_000);
    env.engine.tick().await.unwrap();
    assert!(env.store.peer(&j.peer_id).await.unwrap().unwrap().left_at.is_some());
    proxy.refuse.store(false, Ordering::SeqCst);
    let e = next(&mut p, |e| matches!(e, Event::Rejoined { .. })).await;
    let Event::Rejoined { peer_id, session_id } = e else { unreachable!() };
    assert_ne!(peer_id, j.peer_id, "a new peer");
    assert_eq!(session_id, j.session_id, "the session was still within its keep-alive");
    p.leave().await.unwrap();
}

#[tokio::test]
async fn refused_tokens_are_errors() {
    let env = env().await;
    let e = Participant::connect(&env.base, "not-a-token").await.err().expect("refused");
    assert!(matches!(e, rtk_client::participant::ParticipantError::Closed { code: 4001, .. }), "{e}");
    assert!(Participant::connect("ftp://x", "t").await.is_err());
}
