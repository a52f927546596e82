//! The livestream media path (docs/livestreams.md): RTMP in ([`rtmp`]), HTTP-FLV out.
//!
//! A publisher (OBS, ffmpeg) pushes RTMP to `ingest_server` + `stream_key`; while it does,
//! the livestream has a [`Live`] here: the stream's configuration tags (metadata, codec
//! configuration), the tags since the last keyframe (so a late viewer starts at a keyframe),
//! and a bounded broadcast channel of encoded FLV tags that every viewer reads. A viewer
//! that falls a whole channel behind is dropped, never buffered without end.
//!
//! What is measured goes to the store: the ingest's start and end (one livestream session),
//! and each playback connection's duration (the session's viewer time). Times come from the
//! server's clock, so a manual clock makes them exact in tests.

pub mod flv;
pub mod rtmp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{broadcast, Notify};

use crate::clock::{Millis, SharedClock};
use crate::store::Store;

/// Tags a viewer may fall behind before it is dropped (about 6 s of 30 fps video with audio).
pub const VIEWER_BACKLOG: usize = 512;

/// Tags the recording's writer may fall behind before the recording is cut short (the ingest
/// goes on; the file keeps what was written).
pub const RECORD_BACKLOG: usize = 4096;

/// The storage key of livestream session `id`'s FLV file.
pub fn recording_key(session_id: &str) -> String {
    format!("{}.flv", crate::recordings::storage::key_of(session_id))
}

/// An ingest being written to its file on a thread of its own: the tags go through a
/// bounded channel, so a slow disk never holds the publisher up.
struct FileWriter {
    /// `None` once the recording was cut short.
    tx: Option<std::sync::mpsc::SyncSender<Bytes>>,
    /// The bytes written, or why writing stopped, once the channel has closed.
    done: tokio::sync::oneshot::Receiver<std::io::Result<u64>>,
}

impl FileWriter {
    fn start(storage: &dyn crate::recordings::Storage, key: &str) -> std::io::Result<Self> {
        use std::io::Write;
        let file = storage.append(key)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(RECORD_BACKLOG);
        let (done_tx, done) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name("rtk-live-rec".into()).spawn(move || {
            // Written out every 256 KiB (about half a second at 4 Mbit/s): a crash loses at
            // most that, and the file up to it plays.
            let mut w = std::io::BufWriter::with_capacity(256 * 1024, file);
            let mut n = 0u64;
            let r = (|| {
                let head = flv::header();
                w.write_all(&head)?;
                n += head.len() as u64;
                for tag in rx {
                    w.write_all(&tag)?;
                    n += tag.len() as u64;
                }
                w.flush()?;
                Ok(n)
            })();
            let _ = done_tx.send(r);
        })?;
        Ok(Self { tx: Some(tx), done })
    }
}

/// Livestreaming settings (`rtk serve --rtmp-listen …`).
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Where the RTMP ingest listens; `None`: livestreaming is off.
    pub rtmp_listen: Option<SocketAddr>,
    /// The `rtmp://host:port` broadcasters reach the ingest at (default: the bound address,
    /// loopback for an unspecified one).
    pub rtmp_public_url: Option<String>,
    /// Playback connections per livestream.
    pub max_viewers: usize,
    /// An ingest over this rate (averaged over a few seconds) is cut off as ERRORED.
    pub max_bitrate_kbps: u64,
    /// The tags kept since the last keyframe, at most (bytes); past it, late viewers wait for
    /// the next keyframe.
    pub gop_cache_bytes: usize,
    /// Store every ingest as an FLV file (the livestream session's recording), through the
    /// recordings storage.
    pub record: bool,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            rtmp_listen: None,
            rtmp_public_url: None,
            max_viewers: 1_000,
            max_bitrate_kbps: 20_000,
            gop_cache_bytes: 16 * 1024 * 1024,
            record: false,
        }
    }
}

/// The `ingest_server` and `playback_url` of livestream `id`.
pub fn urls(rtmp_base: &str, http_base: &str, id: &str) -> (String, String) {
    (
        format!("{}/live/", rtmp_base.trim_end_matches('/')),
        format!("{}/live/{id}.flv", http_base.trim_end_matches('/')),
    )
}

/// One running ingest.
pub struct Live {
    pub livestream_id: String,
    pub session_id: String,
    /// Taken when the ingest ends: the viewers' streams then end.
    tx: Mutex<Option<broadcast::Sender<Bytes>>>,
    init: Mutex<Init>,
    /// Held while a closed connection's time is written and taken off `viewers`, and while a
    /// reader adds the store's figure to the open connections': so a read never counts a
    /// connection twice, or not at all.
    flush: tokio::sync::Mutex<()>,
    /// Told each time a closed connection has been written off.
    flushed: Notify,
    /// Open playback connections: id → since when.
    viewers: Mutex<HashMap<u64, Millis>>,
    next_viewer: AtomicU64,
    stop: Notify,
    stopped: AtomicBool,
    /// The ingest's file, while it is recorded.
    file: Mutex<Option<FileWriter>>,
}

#[derive(Default)]
struct Init {
    metadata: Option<Bytes>,
    video_config: Option<Bytes>,
    audio_config: Option<Bytes>,
    /// The tags since the last keyframe (that keyframe first); `None` while over the bound,
    /// until the next keyframe.
    gop: Option<Vec<Bytes>>,
    gop_bytes: usize,
}

impl Live {
    fn new(livestream_id: String, session_id: String) -> Self {
        let (tx, _) = broadcast::channel(VIEWER_BACKLOG);
        Self {
            livestream_id,
            session_id,
            tx: Mutex::new(Some(tx)),
            init: Mutex::new(Init::default()),
            flush: tokio::sync::Mutex::new(()),
            flushed: Notify::new(),
            viewers: Mutex::new(HashMap::new()),
            next_viewer: AtomicU64::new(1),
            stop: Notify::new(),
            stopped: AtomicBool::new(false),
            file: Mutex::new(None),
        }
    }

    fn lock_file(&self) -> std::sync::MutexGuard<'_, Option<FileWriter>> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts writing the ingest to `key` in `storage` (before any media arrives).
    pub fn record(&self, storage: &dyn crate::recordings::Storage, key: &str) -> std::io::Result<()> {
        *self.lock_file() = Some(FileWriter::start(storage, key)?);
        Ok(())
    }

    /// Ends the ingest's file: the bytes written (`None` if it was not recorded).
    pub async fn end_recording(&self) -> Option<std::io::Result<u64>> {
        let FileWriter { tx, done } = self.lock_file().take()?;
        drop(tx);
        Some(done.await.unwrap_or_else(|_| Err(std::io::Error::other("the recording's writer stopped"))))
    }

    fn lock_init(&self) -> std::sync::MutexGuard<'_, Init> {
        self.init.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, tag: Bytes) {
        if let Some(f) = self.lock_file().as_mut() {
            if let Some(Err(e)) = f.tx.as_ref().map(|tx| tx.try_send(tag.clone())) {
                let why = match e {
                    std::sync::mpsc::TrySendError::Full(_) => "the storage fell behind",
                    std::sync::mpsc::TrySendError::Disconnected(_) => "the file could not be written",
                };
                tracing::warn!(livestream_id = %self.livestream_id, reason = why, "the ingest's recording was cut short");
                metrics::counter!("rtk_livestream_recordings_cut_total").increment(1);
                // The file ends where it is (closing the channel ends the writer).
                f.tx = None;
            }
        }
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = tx.send(tag);
        }
    }

    /// Ends every viewer's stream (the ingest has ended).
    fn close(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn lock_viewers(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Millis>> {
        self.viewers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The publisher's metadata (`@setDataFrame onMetaData`).
    pub fn set_metadata(&self, body: &[u8]) {
        let tag = flv::tag(flv::SCRIPT, 0, body);
        self.lock_init().metadata = Some(tag.clone());
        self.send(tag);
    }

    /// An audio or video tag from the publisher, sent to every viewer.
    pub fn push(&self, kind: u8, ts: u32, body: &[u8], info: flv::Kind, gop_limit: usize) {
        let tag = flv::tag(kind, ts, body);
        {
            let mut init = self.lock_init();
            if info.sequence_header {
                // A configuration record applies to what follows it; a late viewer gets it first.
                let t = flv::tag(kind, 0, body);
                if kind == flv::VIDEO {
                    init.video_config = Some(t);
                } else {
                    init.audio_config = Some(t);
                }
            } else if kind == flv::VIDEO && info.keyframe {
                init.gop = Some(vec![tag.clone()]);
                init.gop_bytes = tag.len();
            } else if init.gop.is_some() {
                if init.gop_bytes + tag.len() > gop_limit {
                    init.gop = None;
                    init.gop_bytes = 0;
                } else {
                    init.gop_bytes += tag.len();
                    if let Some(g) = init.gop.as_mut() {
                        g.push(tag.clone());
                    }
                }
            }
        }
        self.send(tag);
    }

    /// What a new viewer is sent first: the FLV header, the configuration tags and the tags
    /// since the last keyframe; and the channel of what follows (subscribed under the same
    /// lock, so nothing falls between the two).
    fn prelude(&self) -> Option<(Vec<Bytes>, broadcast::Receiver<Bytes>)> {
        let init = self.lock_init();
        let rx = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref()?.subscribe();
        let mut out = vec![flv::header()];
        out.extend(init.metadata.iter().cloned());
        out.extend(init.video_config.iter().cloned());
        out.extend(init.audio_config.iter().cloned());
        out.extend(init.gop.iter().flatten().cloned());
        Some((out, rx))
    }

    /// Viewer time of the open playback connections up to `now`.
    pub fn open_viewer_ms(&self, now: Millis) -> i64 {
        self.lock_viewers().values().map(|since| (now - since).max(0)).sum()
    }

    pub fn viewer_count(&self) -> usize {
        self.lock_viewers().len()
    }

    /// Waits until every viewer's time is written, or `until`.
    pub async fn flushed_by(&self, until: tokio::time::Instant) {
        loop {
            let told = self.flushed.notified();
            tokio::pin!(told);
            told.as_mut().enable();
            if self.viewer_count() == 0 {
                return;
            }
            if tokio::time::timeout_at(until, told).await.is_err() {
                return;
            }
        }
    }

    /// Asks the publisher's connection to close (the livestream was stopped).
    pub fn stop(&self) {
        self.stopped.store(true, Relaxed);
        self.stop.notify_waiters();
        self.stop.notify_one();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Relaxed)
    }

    pub async fn stopped(&self) {
        if self.is_stopped() {
            return;
        }
        self.stop.notified().await;
    }
}

/// The livestream service: running ingests by livestream id, and their viewers.
#[derive(Clone)]
pub struct Livestreams {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: SharedClock,
    node_id: String,
    config: LiveConfig,
    /// `rtmp://host:port` as broadcasters reach it.
    rtmp_base: String,
    /// The public HTTP base URL.
    http_base: String,
    streams: Mutex<HashMap<String, Arc<Live>>>,
    /// Where ingests are recorded (`Some` when `config.record`).
    storage: Option<Arc<dyn crate::recordings::Storage>>,
}

impl std::fmt::Debug for Livestreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Livestreams").field("rtmp_base", &self.inner.rtmp_base).finish_non_exhaustive()
    }
}

/// Why a viewer could not start watching.
#[derive(Debug, PartialEq, Eq)]
pub enum WatchError {
    NotLive,
    Full(usize),
}

impl Livestreams {
    pub fn new(
        store: Store,
        clock: SharedClock,
        node_id: String,
        config: LiveConfig,
        rtmp_base: String,
        http_base: String,
        storage: Arc<dyn crate::recordings::Storage>,
    ) -> Self {
        let storage = config.record.then_some(storage);
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                node_id,
                config,
                rtmp_base,
                http_base,
                streams: Mutex::new(HashMap::new()),
                storage,
            }),
        }
    }

    /// Where ingests are recorded; `None` when they are not.
    pub fn recording_storage(&self) -> Option<&Arc<dyn crate::recordings::Storage>> {
        self.inner.storage.as_ref()
    }

    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Live>>> {
        self.inner.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn config(&self) -> &LiveConfig {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// The `ingest_server` and `playback_url` of livestream `id`.
    pub fn urls(&self, id: &str) -> (String, String) {
        urls(&self.inner.rtmp_base, &self.inner.http_base, id)
    }

    /// The running ingest of `livestream_id` on this node.
    pub fn live(&self, livestream_id: &str) -> Option<Arc<Live>> {
        self.streams().get(livestream_id).cloned()
    }

    /// Registers a running ingest; false if this node already has one for the livestream.
    fn register(&self, live: Arc<Live>) -> bool {
        let mut s = self.streams();
        if s.contains_key(&live.livestream_id) {
            return false;
        }
        s.insert(live.livestream_id.clone(), live);
        metrics::gauge!("rtk_livestream_ingests").set(s.len() as f64);
        true
    }

    fn unregister(&self, live: &Arc<Live>) {
        let mut s = self.streams();
        if s.get(&live.livestream_id).is_some_and(|l| Arc::ptr_eq(l, live)) {
            s.remove(&live.livestream_id);
        }
        metrics::gauge!("rtk_livestream_ingests").set(s.len() as f64);
    }

    /// Stops the ingest of `livestream_id` on this node, if it runs here.
    pub fn kick(&self, livestream_id: &str) {
        if let Some(l) = self.live(livestream_id) {
            l.stop();
        }
    }

    /// Stops every ingest here whose livestream the store says is stopped (by a session's
    /// end, or on another node). Failures are logged; the next call retries.
    pub async fn reconcile(&self) {
        let running: Vec<Arc<Live>> = self.streams().values().cloned().collect();
        for l in running {
            match self.inner.store.livestream_by_id(&l.livestream_id).await {
                Ok(Some(row)) if !row.disabled => {}
                Ok(_) => l.stop(),
                Err(e) => {
                    tracing::warn!(livestream_id = %l.livestream_id, error = %e, "cannot check a running ingest")
                }
            }
        }
    }

    /// Starts watching `livestream_id`: what to send first, and the stream after it. The
    /// connection counts as a viewer until the returned [`Viewer`] is dropped.
    pub fn watch(&self, livestream_id: &str) -> Result<Viewer, WatchError> {
        let live = self.live(livestream_id).filter(|l| !l.is_stopped()).ok_or(WatchError::NotLive)?;
        let now = self.now();
        let id = live.next_viewer.fetch_add(1, Relaxed);
        {
            let mut v = live.lock_viewers();
            if v.len() >= self.inner.config.max_viewers {
                return Err(WatchError::Full(self.inner.config.max_viewers));
            }
            v.insert(id, now);
        }
        metrics::gauge!("rtk_livestream_viewers").increment(1.0);
        let Some((prelude, rx)) = live.prelude() else {
            live.lock_viewers().remove(&id);
            metrics::gauge!("rtk_livestream_viewers").decrement(1.0);
            return Err(WatchError::NotLive);
        };
        Ok(Viewer { svc: self.clone(), live, id, since: now, prelude, rx: Some(rx) })
    }

    /// The viewer time of livestream session `s` so far: the store's closed connections and
    /// this node's open ones, read consistently.
    pub async fn viewer_ms(&self, s: &crate::store::LivestreamSessionRow) -> crate::store::StoreResult<i64> {
        let Some(live) = self.live(&s.livestream_id).filter(|l| l.session_id == s.id) else {
            return Ok(s.viewer_ms);
        };
        let _consistent = live.flush.lock().await;
        let stored = match self.inner.store.livestream_session(&s.app_id, &s.id).await? {
            Some(fresh) => fresh.viewer_ms,
            None => s.viewer_ms,
        };
        Ok(stored + live.open_viewer_ms(self.now()))
    }
}

/// One playback connection. Dropping it ends the connection's viewer time (written to the
/// store in the background).
pub struct Viewer {
    svc: Livestreams,
    live: Arc<Live>,
    id: u64,
    since: Millis,
    pub prelude: Vec<Bytes>,
    rx: Option<broadcast::Receiver<Bytes>>,
}

impl Viewer {
    /// The next tag; `None` when the stream has ended, or this viewer fell too far behind (it
    /// is dropped then).
    pub async fn next(&mut self) -> Option<Bytes> {
        let rx = self.rx.as_mut()?;
        match rx.recv().await {
            Ok(t) => Some(t),
            Err(broadcast::error::RecvError::Closed) => None,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                metrics::counter!("rtk_livestream_viewers_dropped_total").increment(1);
                tracing::info!(livestream_id = %self.live.livestream_id, behind = n, "dropped a playback connection that fell behind");
                self.rx = None;
                None
            }
        }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let live = self.live.clone();
        let store = self.svc.inner.store.clone();
        let (id, from, to) = (self.id, self.since, self.svc.now());
        let close = async move {
            let _consistent = live.flush.lock().await;
            if let Err(e) = store.add_viewer_time(&live.session_id, from, to).await {
                tracing::warn!(session_id = %live.session_id, error = %e, "a viewer's time was not recorded");
            }
            live.lock_viewers().remove(&id);
            live.flushed.notify_waiters();
            metrics::gauge!("rtk_livestream_viewers").decrement(1.0);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(close);
            }
            Err(_) => {
                self.live.lock_viewers().remove(&self.id);
            }
        }
    }
}
