//! The participant client against an in-process rtk, through a TCP proxy the test can cut to
//! drop connections: it resumes the same peer within the heartbeat timeout and joins afresh
//! after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rtk_api::gateway::ServerEvent;
use rtk_client::participant::{Event, Participant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

use crate::harness::{env, until};

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

#[tokio::test]
async fn joins_chats_leaves() {
    let env = env().await;
    let m = env.meeting("x").await;
    let (ta, tb) = (env.participant(&m, "a").await.1, env.participant(&m, "b").await.1);
    let mut a = Participant::connect(&format!("{}/client/v4", env.base), &ta).await.unwrap();
    let ja = a.join(Some(serde_json::json!({"os": "linux"}))).await.unwrap();
    let mut b = Participant::connect(&env.base, &tb).await.unwrap();
    let jb = b.join(None).await.unwrap();
    assert_eq!(ja.session_id, jb.session_id);
    assert_eq!(jb.peers.len(), 1);
    b.chat("hi a").unwrap();
    let e = until(&mut a, |e| matches!(e, Event::Server(ServerEvent::Chat { .. }))).await;
    assert!(matches!(e, Event::Server(ServerEvent::Chat { ref message, .. }) if message == "hi a"));
    b.leave().await.unwrap();
    let e = until(&mut a, |e| matches!(e, Event::Server(ServerEvent::PeerLeft { .. }))).await;
    assert_eq!(e, Event::Server(ServerEvent::PeerLeft { peer_id: jb.peer_id, reason: "left".into() }));
    a.leave().await.unwrap();
    let s = env.store.session(&env.app, &ja.session_id).await.unwrap().unwrap();
    assert_eq!(s.live_count, 0);
}

/// In a meeting larger than one page of peers, `join` resolves with every peer already there:
/// the client puts the paged list back together.
#[tokio::test]
async fn join_collects_every_page_of_peers() {
    let env = env().await;
    let m = env.meeting("crowd").await;
    let base = format!("{}/client/v4", env.base);
    let n = rtk_api::gateway::PEER_PAGE + 30;
    let mut crowd = vec![];
    let mut ids = vec![];
    for i in 0..n {
        let (_, t) = env.participant(&m, &format!("p{i}")).await;
        let mut p = Participant::connect(&base, &t).await.unwrap();
        ids.push(p.join(None).await.unwrap().peer_id);
        crowd.push(p);
    }
    let (_, t) = env.participant(&m, "late").await;
    let mut late = Participant::connect(&base, &t).await.unwrap();
    let j = late.join(None).await.unwrap();
    let mut got: Vec<String> = j.peers.into_iter().map(|p| p.peer_id).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
}

#[tokio::test]
async fn resumes_within_the_timeout_and_rejoins_after() {
    let env = env().await;
    let proxy = Proxy::start(env.base.trim_start_matches("http://").parse().unwrap()).await;
    let m = env.meeting("resume").await;
    let (_, token) = env.participant(&m, "a").await;
    let mut p = Participant::connect(&format!("http://{}", proxy.addr), &token).await.unwrap();
    let j = p.join(None).await.unwrap();

    // Cut the link: the client resumes the same peer; the server never saw it leave.
    proxy.cut();
    assert_eq!(until(&mut p, |e| matches!(e, Event::Dropped)).await, Event::Dropped);
    let e = until(&mut p, |e| matches!(e, Event::Resumed { .. })).await;
    assert_eq!(e, Event::Resumed { peer_id: j.peer_id.clone() });
    let peer = env.store.peer(&j.peer_id).await.unwrap().unwrap();
    assert!(peer.left_at.is_none() && peer.connected, "presence is continuous");

    // Cut it and keep it down past the heartbeat timeout: the server ends the peer at its
    // last message; when the link returns the client joins afresh.
    proxy.refuse.store(true, Ordering::SeqCst);
    proxy.cut();
    assert_eq!(until(&mut p, |e| matches!(e, Event::Dropped)).await, Event::Dropped);
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
    let e = until(&mut p, |e| matches!(e, Event::Rejoined { .. })).await;
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
