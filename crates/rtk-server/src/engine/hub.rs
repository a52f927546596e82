//! Where connected peers are reachable: peer id → the channel of its gateway connection.
//! The engine pushes events here; the gateway turns them into frames. A peer whose
//! connection dropped is absent here while it may still be live in the store (until its
//! heartbeat timeout or a resume).
//!
//! On a shared store (several nodes on one PostgreSQL) the hub also hands what it could not
//! deliver here to the bus ([`Remote`], carried by `crate::bus`), and applies what other
//! nodes send ([`Hub::apply`]): a broadcast reaches a session's peers on every node, a message
//! for a peer reaches the node that holds it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rtk_api::gateway::ServerEvent;
use tokio::sync::mpsc;

/// What a connection is told to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// Boxed, so a queue slot is a few words: every connection's queue allocates its slots in
    /// blocks, and 10,000 connections keep theirs.
    Event(Box<ServerEvent>),
    /// An event already serialised, shared by every connection it is broadcast to.
    Frame(SharedText),
    /// Close the connection with this code and reason.
    Close(u16, String),
    /// The connection's peer is now this one (after a move between meetings).
    Rebind { peer_id: String, session_id: String },
}

impl Outbound {
    pub fn event(e: ServerEvent) -> Self {
        Outbound::Event(Box::new(e))
    }
}

/// JSON text serialised once and shared, not copied, by every queue it is pushed to. Made
/// only from a `String`, so it is always UTF-8; the gateway turns it into a WebSocket frame
/// (the engine knows nothing of the transport).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedText(bytes::Bytes);

impl SharedText {
    pub fn into_bytes(self) -> bytes::Bytes {
        self.0
    }

    /// The text (made only from a `String`, so always UTF-8).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl From<String> for SharedText {
    fn from(s: String) -> Self {
        Self(bytes::Bytes::from(s))
    }
}

/// How many events may wait for one connection. A connection that falls this far behind is
/// closed as a slow consumer (its peer is dropped and may resume) instead of growing without
/// bound.
pub const OUTBOUND_QUEUE: usize = 1024;

/// The sending side of a connection's queue.
#[derive(Debug, Clone)]
pub struct Outlet {
    tx: mpsc::Sender<Outbound>,
    slow: Arc<tokio::sync::Notify>,
}

impl Outlet {
    /// A queue of `OUTBOUND_QUEUE` events and its receiving side.
    pub fn new() -> (Outlet, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        (Outlet { tx, slow: Arc::default() }, rx)
    }

    /// Queues `m`; false if the connection is gone or too far behind (then `slow` fires).
    pub fn push(&self, m: Outbound) -> bool {
        match self.tx.try_send(m) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Completes when an event could not be queued because the connection is too far behind.
    pub async fn too_slow(&self) {
        self.slow.notified().await
    }

    fn same(&self, other: &Outlet) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

#[derive(Debug)]
struct Conn {
    session_id: String,
    tx: Outlet,
}

#[derive(Debug, Default)]
struct Inner {
    peers: HashMap<String, Conn>,
    sessions: HashMap<String, HashSet<String>>,
    /// Observers of a session's events that are no peers (the dashboard's event stream).
    watchers: HashMap<String, tokio::sync::broadcast::Sender<SharedText>>,
}

impl Inner {
    /// `old`, `peer_id`'s connection until now, was replaced by a resume (here or on another
    /// node): it is told to close and leaves its session's set.
    fn replaced(&mut self, peer_id: &str, old: Conn) {
        old.tx.push(Outbound::Close(1000, "replaced by a resumed connection".into()));
        if let Some(s) = self.sessions.get_mut(&old.session_id) {
            s.remove(peer_id);
        }
    }
}

/// Events an observer may fall behind before it is told it lagged (it then reads the session
/// again instead of the events it missed).
pub const WATCH_BACKLOG: usize = 256;

/// What one node tells the others, through the bus: only what another node may have to act
/// on (its peers, its watchers). Events travel as the JSON text the peers get.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Remote {
    /// For one peer, wherever it is connected: an event (`frame`) or a close.
    ToPeer { peer: String, frame: Option<String>, close: Option<(u16, String)> },
    /// For every peer of a session (but `except`) and its watchers.
    Broadcast { session: String, except: Option<String>, frame: String },
    /// `old`'s connection now carries `new` in `session` (a move), then hears `frame`.
    Rebind { old: String, new: String, session: String, frame: String },
    /// The peer resumed on another node: a connection still bound to it here must close.
    Replaced { peer: String },
    /// For a session's watchers only (the dashboard's stream), on every node: what the
    /// gateway protocol does not tell peers (drops, resumes).
    Watchers { session: String, frame: String },
    /// The session ended: its watchers hear `frame` and their streams end.
    SessionOver { session: String, frame: String },
    /// Every connection closes (a reset emptied the store).
    CloseAll { code: u16, reason: String },
}

/// Where the hub queues what other nodes must hear (a bounded queue: the bus's publisher
/// drains it; when it is full the message is dropped and counted — the store stays the truth,
/// and a peer that missed a leave is closed at its next heartbeat's flush).
pub type RemoteTx = mpsc::Sender<Remote>;

#[derive(Debug, Clone, Default)]
pub struct Hub {
    inner: Arc<Mutex<Inner>>,
    remote: Arc<std::sync::OnceLock<RemoteTx>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends what other nodes must hear to `tx` from now on (the first call wins).
    pub fn set_remote(&self, tx: RemoteTx) {
        let _ = self.remote.set(tx);
    }

    /// True when other nodes may hold peers (the hub publishes to them).
    pub fn is_shared(&self) -> bool {
        self.remote.get().is_some()
    }

    fn publish(&self, m: Remote) {
        if let Some(tx) = self.remote.get() {
            if tx.try_send(m).is_err() {
                metrics::counter!("rtk_bus_dropped_total").increment(1);
                tracing::warn!("the bus's queue is full: a message for other nodes was dropped (their peers catch up from the store)");
            }
        }
    }

    /// Applies what another node published: delivers to the peers and watchers of this node.
    pub fn apply(&self, m: Remote) {
        match m {
            Remote::ToPeer { peer, frame, close } => {
                if let Some(f) = frame {
                    self.send_here(&peer, Outbound::Frame(SharedText::from(f)));
                }
                if let Some((code, reason)) = close {
                    self.send_here(&peer, Outbound::Close(code, reason));
                }
            }
            Remote::Broadcast { session, except, frame } => {
                self.broadcast_here(&session, except.as_deref(), SharedText::from(frame))
            }
            Remote::Rebind { old, new, session, frame } => {
                if self.rebind_here(&old, &new, &session) {
                    self.send_here(&new, Outbound::Frame(SharedText::from(frame)));
                }
            }
            Remote::Replaced { peer } => {
                let mut g = self.lock();
                if let Some(old) = g.peers.remove(&peer) {
                    g.replaced(&peer, old);
                }
            }
            Remote::Watchers { session, frame } => self.watchers_here(&session, SharedText::from(frame)),
            Remote::SessionOver { session, frame } => {
                self.session_over_here(&session, SharedText::from(frame))
            }
            Remote::CloseAll { code, reason } => self.close_all(code, &reason),
        }
    }

    /// Makes `peer_id` reachable through `tx`, replacing an older connection of the same peer
    /// (a resume), which is told to close.
    pub fn register(&self, peer_id: &str, session_id: &str, tx: Outlet) {
        let mut g = self.lock();
        if let Some(old) =
            g.peers.insert(peer_id.to_string(), Conn { session_id: session_id.to_string(), tx })
        {
            g.replaced(peer_id, old);
        }
        g.sessions.entry(session_id.to_string()).or_default().insert(peer_id.to_string());
    }

    /// [`Hub::register`] for a resume: a connection of the peer on another node is told to
    /// close too.
    pub fn register_resumed(&self, peer_id: &str, session_id: &str, tx: Outlet) {
        self.register(peer_id, session_id, tx);
        self.publish(Remote::Replaced { peer: peer_id.to_string() });
    }

    /// True while `peer_id` is bound to `tx`'s connection here (not replaced by a resume on
    /// another connection).
    pub fn is_bound(&self, peer_id: &str, tx: &Outlet) -> bool {
        self.lock().peers.get(peer_id).is_some_and(|c| c.tx.same(tx))
    }

    /// Forgets `peer_id` if it is still bound to `tx`'s connection; true if it was. A false
    /// answer means another connection took the peer over (a resume): this one must not act
    /// for it any more.
    pub fn unregister(&self, peer_id: &str, tx: &Outlet) -> bool {
        let mut g = self.lock();
        let bound = g.peers.get(peer_id).is_some_and(|c| c.tx.same(tx));
        if bound {
            if let Some(c) = g.peers.remove(peer_id) {
                if let Some(s) = g.sessions.get_mut(&c.session_id) {
                    s.remove(peer_id);
                    if s.is_empty() {
                        g.sessions.remove(&c.session_id);
                    }
                }
            }
        }
        bound
    }

    /// Sends to one peer, here if it is connected here, else through the bus to the node that
    /// holds it; false if it is not connected here and no other node can be told.
    pub fn send(&self, peer_id: &str, msg: Outbound) -> bool {
        if let Some(c) = self.lock().peers.get(peer_id) {
            return c.tx.push(msg);
        }
        if !self.is_shared() {
            return false;
        }
        let m = match msg {
            Outbound::Event(e) => match serde_json::to_string(&e) {
                Ok(f) => Remote::ToPeer { peer: peer_id.to_string(), frame: Some(f), close: None },
                Err(_) => return false,
            },
            Outbound::Frame(t) => {
                Remote::ToPeer { peer: peer_id.to_string(), frame: Some(t.as_str().to_string()), close: None }
            }
            Outbound::Close(code, reason) => {
                Remote::ToPeer { peer: peer_id.to_string(), frame: None, close: Some((code, reason)) }
            }
            // Moves go through `rebind`, which knows the new session.
            Outbound::Rebind { .. } => return false,
        };
        self.publish(m);
        true
    }

    fn send_here(&self, peer_id: &str, msg: Outbound) -> bool {
        self.lock().peers.get(peer_id).is_some_and(|c| c.tx.push(msg))
    }

    /// Sends to every connected peer of a session except `except`. The event is serialised
    /// once and its bytes shared: a join in a meeting of n peers costs one serialisation and
    /// n pointer copies, not n of each.
    pub fn broadcast(&self, session_id: &str, except: Option<&str>, event: ServerEvent) {
        let text = match serde_json::to_string(&event) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "an event could not be serialised");
                return;
            }
        };
        if self.is_shared() {
            self.publish(Remote::Broadcast {
                session: session_id.to_string(),
                except: except.map(str::to_string),
                frame: text.clone(),
            });
        }
        self.broadcast_here(session_id, except, SharedText::from(text));
    }

    fn broadcast_here(&self, session_id: &str, except: Option<&str>, frame: SharedText) {
        let mut g = self.lock();
        if let Some(peers) = g.sessions.get(session_id) {
            for p in peers {
                if Some(p.as_str()) != except {
                    if let Some(c) = g.peers.get(p) {
                        c.tx.push(Outbound::Frame(frame.clone()));
                    }
                }
            }
        }
        if let Some(w) = g.watchers.get(session_id) {
            if w.send(frame).is_err() {
                // Nobody watches any more.
                g.watchers.remove(session_id);
            }
        }
    }

    /// Tells `session_id`'s watchers (not its peers) `event`, on every node.
    pub fn tell_watchers(&self, session_id: &str, event: &serde_json::Value) {
        let text = event.to_string();
        if self.is_shared() {
            self.publish(Remote::Watchers { session: session_id.to_string(), frame: text.clone() });
        }
        self.watchers_here(session_id, SharedText::from(text));
    }

    fn watchers_here(&self, session_id: &str, frame: SharedText) {
        let mut g = self.lock();
        if let Some(w) = g.watchers.get(session_id) {
            if w.send(frame).is_err() {
                g.watchers.remove(session_id);
            }
        }
    }

    /// Every event broadcast to `session_id`'s peers from now on, as the peers get it (JSON),
    /// on this node; ends when the session ends ([`Hub::session_over`]).
    pub fn watch(&self, session_id: &str) -> tokio::sync::broadcast::Receiver<SharedText> {
        self.lock()
            .watchers
            .entry(session_id.to_string())
            .or_insert_with(|| tokio::sync::broadcast::channel(WATCH_BACKLOG).0)
            .subscribe()
    }

    /// The session has ended: its observers get `event` and their streams end.
    pub fn session_over(&self, session_id: &str, event: &ServerEvent) {
        let Ok(text) = serde_json::to_string(event) else { return };
        if self.is_shared() {
            self.publish(Remote::SessionOver { session: session_id.to_string(), frame: text.clone() });
        }
        self.session_over_here(session_id, SharedText::from(text));
    }

    fn session_over_here(&self, session_id: &str, frame: SharedText) {
        if let Some(w) = self.lock().watchers.remove(session_id) {
            let _ = w.send(frame);
        }
    }

    /// Moves `old_peer`'s connection to `new_peer` in `new_session` (a move between meetings),
    /// tells the connection, then sends it `event`, wherever it is connected. False if
    /// `old_peer` is not connected here and no other node can be told.
    pub fn rebind(&self, old_peer: &str, new_peer: &str, new_session: &str, event: &ServerEvent) -> bool {
        let Ok(text) = serde_json::to_string(event) else { return false };
        if self.rebind_here(old_peer, new_peer, new_session) {
            return self.send_here(new_peer, Outbound::Frame(SharedText::from(text)));
        }
        if !self.is_shared() {
            return false;
        }
        self.publish(Remote::Rebind {
            old: old_peer.to_string(),
            new: new_peer.to_string(),
            session: new_session.to_string(),
            frame: text,
        });
        true
    }

    fn rebind_here(&self, old_peer: &str, new_peer: &str, new_session: &str) -> bool {
        let mut g = self.lock();
        let Some(c) = g.peers.remove(old_peer) else { return false };
        if let Some(s) = g.sessions.get_mut(&c.session_id) {
            s.remove(old_peer);
        }
        c.tx.push(Outbound::Rebind { peer_id: new_peer.to_string(), session_id: new_session.to_string() });
        g.sessions.entry(new_session.to_string()).or_default().insert(new_peer.to_string());
        g.peers.insert(new_peer.to_string(), Conn { session_id: new_session.to_string(), tx: c.tx });
        true
    }

    /// Tells every connection to close (server shutdown). Their peers are dropped, not gone:
    /// they may resume, here after a restart or on another node, within the heartbeat timeout.
    pub fn close_all(&self, code: u16, reason: &str) {
        for c in self.lock().peers.values() {
            c.tx.push(Outbound::Close(code, reason.to_string()));
        }
    }

    /// Tells every connection on every node to close (a reset emptied the store).
    pub fn close_everywhere(&self, code: u16, reason: &str) {
        self.publish(Remote::CloseAll { code, reason: reason.to_string() });
        self.close_all(code, reason);
    }

    /// The peers connected to this node.
    pub fn peer_ids(&self) -> Vec<String> {
        self.lock().peers.keys().cloned().collect()
    }

    /// How many peers are connected to this node.
    pub fn connected(&self) -> usize {
        self.lock().peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queues hold `Outbound` by value in blocks that stay allocated per connection; a large
    /// variant would multiply across 10,000 connections.
    #[test]
    fn queue_slots_stay_small() {
        assert!(std::mem::size_of::<Outbound>() <= 64, "{}", std::mem::size_of::<Outbound>());
    }
}
