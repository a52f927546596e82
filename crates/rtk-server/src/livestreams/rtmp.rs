//! The RTMP ingest: an accept loop, and per connection the handshake and an RTMP server
//! session (`rml_rtmp`), which turns bytes into connect / publish requests and audio, video
//! and metadata messages.
//!
//! A connection may publish once, to the application `live` with a stream key the API
//! issued: an unknown key, a stopped livestream's, or one that already has a publisher (on
//! any node) is refused with `NetStream.Publish.BadName` and the connection closed. While it
//! publishes, the ingest is one livestream session; it ends when the publisher unpublishes
//! (IDLE), drops, sends a codec rtk cannot pass on, or exceeds the bitrate limit (ERRORED,
//! with the reason as the session's `err_message`), or when the livestream is stopped.

use std::sync::Arc;
use std::time::Duration;

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{flv, Live, Livestreams};
use crate::store::StoreError;

/// How often a running ingest records that it is alive (a crash ends it at the last one).
const SEEN_EVERY: Duration = Duration::from_secs(5);
/// The window the bitrate is averaged over.
const RATE_WINDOW_MS: u64 = 4_000;
/// A connection that has not published within this long is closed.
const PUBLISH_WITHIN: Duration = Duration::from_secs(30);
/// The RTMP application every stream key lives under (`ingest_server` ends with it).
pub const APP: &str = "live";

/// Accepts RTMP connections on `listener` until the task is aborted.
pub async fn serve(svc: Livestreams, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((sock, peer)) => {
                let _ = sock.set_nodelay(true);
                let svc = svc.clone();
                tokio::spawn(async move {
                    if let Err(e) = Conn::new(svc, sock).run().await {
                        tracing::debug!(%peer, error = %e, "an RTMP connection ended");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "the RTMP listener could not accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Averages bytes over a sliding window of whole windows: `over` once a window's rate
/// exceeds the limit.
#[derive(Debug, Default)]
pub struct RateMeter {
    window_start: u64,
    bytes: u64,
}

impl RateMeter {
    /// Adds `n` bytes seen at `at_ms`; true if the window they fall in is over `kbps`.
    pub fn add(&mut self, at_ms: u64, n: u64, kbps: u64) -> bool {
        if at_ms >= self.window_start + RATE_WINDOW_MS {
            self.window_start = at_ms;
            self.bytes = 0;
        }
        self.bytes += n;
        // bits over the window, against kbps × window (ms): bytes*8 > kbps * window_ms
        self.bytes * 8 > kbps * RATE_WINDOW_MS
    }
}

/// How an ingest ended, for its session.
enum End {
    /// The publisher unpublished, or the connection closed after it did.
    Clean,
    Failed(String),
}

struct Conn {
    svc: Livestreams,
    sock: TcpStream,
    session: Option<ServerSession>,
    live: Option<Arc<Live>>,
    /// Codecs seen so far (checked once each).
    video_ok: bool,
    audio_ok: bool,
    rate: RateMeter,
    opened: tokio::time::Instant,
}

type ConnResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

impl Conn {
    fn new(svc: Livestreams, sock: TcpStream) -> Self {
        Self {
            svc,
            sock,
            session: None,
            live: None,
            video_ok: false,
            audio_ok: false,
            rate: RateMeter::default(),
            opened: tokio::time::Instant::now(),
        }
    }

    async fn run(mut self) -> ConnResult<()> {
        let rest = self.handshake().await?;
        let (session, results) = ServerSession::new(ServerSessionConfig::new())?;
        self.session = Some(session);
        let mut end = self.handle(results).await;
        if end.is_none() && !rest.is_empty() {
            end = self.input(&rest).await;
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut seen = tokio::time::interval(SEEN_EVERY);
        seen.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while end.is_none() {
            let live = self.live.clone();
            let stopped = async {
                match &live {
                    Some(l) => l.stopped().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.sock.read(&mut buf) => match r {
                    Ok(0) | Err(_) => {
                        end = Some(End::Failed("the publisher's connection dropped before it unpublished".into()));
                    }
                    Ok(n) => end = self.input(&buf[..n]).await,
                },
                _ = stopped => end = Some(End::Clean),
                _ = seen.tick() => {
                    if let Some(l) = &self.live {
                        if let Err(e) = self.svc.store().ingest_seen(&l.session_id, self.svc.now()).await {
                            tracing::warn!(error = %e, "cannot record that an ingest is alive");
                        }
                    } else if self.opened.elapsed() > PUBLISH_WITHIN {
                        return Ok(());
                    }
                }
            }
        }
        if let (Some(live), Some(end)) = (self.live.take(), end) {
            self.finish(live, end).await;
        }
        let _ = self.sock.shutdown().await;
        Ok(())
    }

    /// The server side of the RTMP handshake; the bytes that followed it.
    async fn handshake(&mut self) -> ConnResult<Vec<u8>> {
        let mut hs = Handshake::new(PeerType::Server);
        let mut buf = vec![0u8; 8192];
        loop {
            let n = tokio::time::timeout(Duration::from_secs(10), self.sock.read(&mut buf)).await??;
            if n == 0 {
                return Err("closed during the handshake".into());
            }
            match hs.process_bytes(&buf[..n])? {
                HandshakeProcessResult::InProgress { response_bytes } => {
                    self.sock.write_all(&response_bytes).await?;
                }
                HandshakeProcessResult::Completed { response_bytes, remaining_bytes } => {
                    self.sock.write_all(&response_bytes).await?;
                    return Ok(remaining_bytes);
                }
            }
        }
    }

    fn session(&mut self) -> &mut ServerSession {
        self.session.as_mut().expect("the session exists once the handshake is done")
    }

    async fn input(&mut self, bytes: &[u8]) -> Option<End> {
        match self.session().handle_input(bytes) {
            Ok(results) => self.handle(results).await,
            Err(e) => Some(End::Failed(format!("the publisher sent what is not RTMP: {e}"))),
        }
    }

    async fn send(&mut self, packets: Vec<ServerSessionResult>) -> Option<End> {
        for r in packets {
            if let ServerSessionResult::OutboundResponse(p) = r {
                if self.sock.write_all(&p.bytes).await.is_err() {
                    return Some(End::Failed("the publisher's connection dropped".into()));
                }
            }
        }
        None
    }

    /// Sends what the session answers and acts on what it raises; `Some` once the ingest is
    /// over (or the connection must close).
    async fn handle(&mut self, results: Vec<ServerSessionResult>) -> Option<End> {
        let mut events = vec![];
        let mut out = vec![];
        for r in results {
            match r {
                ServerSessionResult::RaisedEvent(e) => events.push(e),
                other => out.push(other),
            }
        }
        if let Some(end) = self.send(out).await {
            return Some(end);
        }
        for e in events {
            if let Some(end) = self.event(e).await {
                return Some(end);
            }
        }
        None
    }

    async fn answer(
        &mut self,
        r: Result<Vec<ServerSessionResult>, rml_rtmp::sessions::ServerSessionError>,
    ) -> Option<End> {
        match r {
            Ok(results) => Box::pin(self.handle(results)).await,
            Err(e) => Some(End::Failed(format!("RTMP session error: {e}"))),
        }
    }

    async fn refuse(&mut self, request_id: u32, why: &str) -> Option<End> {
        tracing::info!(reason = why, "refused an RTMP publisher");
        metrics::counter!("rtk_livestream_publishers_refused_total").increment(1);
        let r = self.session().reject_request(request_id, "NetStream.Publish.BadName", why);
        let _ = self.answer(r).await;
        Some(End::Clean)
    }

    async fn event(&mut self, e: ServerSessionEvent) -> Option<End> {
        match e {
            ServerSessionEvent::ConnectionRequested { request_id, app_name } => {
                if app_name.trim_matches('/') != APP {
                    let r = self.session().reject_request(
                        request_id,
                        "NetConnection.Connect.Rejected",
                        &format!(
                            "unknown application {app_name:?}: publish to the ingest_server the API gave"
                        ),
                    );
                    let _ = self.answer(r).await;
                    return Some(End::Clean);
                }
                let r = self.session().accept_request(request_id);
                self.answer(r).await
            }
            ServerSessionEvent::PublishStreamRequested { request_id, stream_key, .. } => {
                if self.live.is_some() {
                    return self.refuse(request_id, "this connection is already publishing").await;
                }
                self.publish(request_id, &stream_key).await
            }
            ServerSessionEvent::PublishStreamFinished { .. } => self.live.as_ref().map(|_| End::Clean),
            ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
                if let (Some(l), Some(body)) = (&self.live, flv::metadata(&metadata)) {
                    l.set_metadata(&body);
                }
                None
            }
            ServerSessionEvent::VideoDataReceived { data, timestamp, .. } => {
                self.media(flv::VIDEO, timestamp.value, &data)
            }
            ServerSessionEvent::AudioDataReceived { data, timestamp, .. } => {
                self.media(flv::AUDIO, timestamp.value, &data)
            }
            ServerSessionEvent::PlayStreamRequested { request_id, .. } => {
                let r = self.session().reject_request(
                    request_id,
                    "NetStream.Play.Failed",
                    "rtk's RTMP port takes publishers only: play the livestream's playback_url",
                );
                let _ = self.answer(r).await;
                Some(End::Clean)
            }
            _ => None,
        }
    }

    async fn publish(&mut self, request_id: u32, key: &str) -> Option<End> {
        let store = self.svc.store().clone();
        let invoked = self.svc.now();
        let ls = match store.livestream_by_key(key).await {
            Ok(Some(ls)) => ls,
            Ok(None) => return self.refuse(request_id, "unknown stream key").await,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up a stream key");
                return self.refuse(request_id, "the stream key cannot be checked now; retry").await;
            }
        };
        if ls.disabled {
            return self.refuse(request_id, "this livestream has been stopped").await;
        }
        let session_id = crate::store::new_id();
        let placeholder = Arc::new(Live::new(ls.id.clone(), session_id.clone()));
        if !self.svc.register(placeholder.clone()) {
            return self.refuse(request_id, "this stream key already has a publisher").await;
        }
        let now = self.svc.now();
        let storage = self.svc.recording_storage().cloned();
        let key = storage.as_ref().map(|_| super::recording_key(&session_id));
        match store
            .ingest_started(&ls.id, &session_id, self.svc.node_id(), key.as_deref(), invoked, now)
            .await
        {
            Ok(_) => {}
            Err(e) => {
                self.svc.unregister(&placeholder);
                let why = match e {
                    StoreError::Conflict(m) => m,
                    StoreError::NotFound(_) => "unknown stream key".into(),
                    other => {
                        tracing::warn!(error = %other, "cannot start an ingest");
                        "the ingest cannot start now; retry".into()
                    }
                };
                return self.refuse(request_id, &why).await;
            }
        }
        if let (Some(storage), Some(key)) = (storage, key) {
            // The ingest goes on without its file if the file cannot be made (logged; the
            // session then has no recording link).
            if let Err(e) = placeholder.record(storage.as_ref(), &key) {
                tracing::error!(livestream_session_id = %session_id, error = %e, "cannot record the ingest");
            }
        }
        tracing::info!(livestream_id = %ls.id, livestream_session_id = %session_id, "ingest started");
        metrics::counter!("rtk_livestream_ingests_started_total").increment(1);
        self.live = Some(placeholder);
        let r = self.session().accept_request(request_id);
        self.answer(r).await
    }

    fn media(&mut self, kind: u8, ts: u32, data: &[u8]) -> Option<End> {
        let live = self.live.clone()?;
        let info = if kind == flv::VIDEO { flv::video_kind(data) } else { flv::audio_kind(data) };
        let info = info?;
        if kind == flv::VIDEO && !self.video_ok {
            if info.codec != flv::VIDEO_AVC {
                return Some(End::Failed(format!(
                    "unsupported video codec (FLV codec id {}): rtk passes on H.264",
                    info.codec
                )));
            }
            self.video_ok = true;
        }
        if kind == flv::AUDIO && !self.audio_ok {
            if info.codec != flv::AUDIO_AAC && info.codec != flv::AUDIO_MP3 {
                return Some(End::Failed(format!(
                    "unsupported audio codec (FLV codec id {}): rtk passes on AAC or MP3",
                    info.codec
                )));
            }
            self.audio_ok = true;
        }
        let kbps = self.svc.config().max_bitrate_kbps;
        let at = self.opened.elapsed().as_millis() as u64;
        if self.rate.add(at, data.len() as u64, kbps) {
            return Some(End::Failed(format!("the ingest exceeded the bitrate limit of {kbps} kbit/s")));
        }
        live.push(kind, ts, data, info, self.svc.config().gop_cache_bytes);
        None
    }

    /// Records the ingest's end, ends its viewers' streams, waits (briefly) for their time to
    /// be written, and takes the ingest off this node.
    async fn finish(&mut self, live: Arc<Live>, end: End) {
        let at = self.svc.now();
        let err = match &end {
            End::Clean => None,
            End::Failed(m) => Some(m.as_str()),
        };
        // The file is whole before the store says the ingest has ended (and links to it).
        match live.end_recording().await {
            Some(Ok(bytes)) => {
                tracing::info!(livestream_session_id = %live.session_id, bytes, "ingest recorded")
            }
            Some(Err(e)) => {
                tracing::error!(livestream_session_id = %live.session_id, error = %e, "the ingest's recording failed")
            }
            None => {}
        }
        match self.svc.store().ingest_ended(&live.session_id, at, err, at).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot record an ingest's end; a restart ends it"),
        }
        tracing::info!(livestream_id = %live.livestream_id, error = err.unwrap_or(""), "ingest ended");
        live.close();
        live.flushed_by(tokio::time::Instant::now() + Duration::from_secs(5)).await;
        self.svc.unregister(&live);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_judged_per_window() {
        let mut m = RateMeter::default();
        // 1,000 kbit/s over 4 s is 500,000 bytes.
        assert!(!m.add(0, 400_000, 1_000));
        assert!(!m.add(3_000, 100_000, 1_000));
        assert!(m.add(3_500, 1, 1_000));
        // A new window starts over.
        assert!(!m.add(4_000, 400_000, 1_000));
    }
}
