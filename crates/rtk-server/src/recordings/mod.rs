//! The recorder (docs/recordings.md). rtk carries no audio or video, so a recording holds what
//! rtk has: the session's timeline over the recorded interval — peers joining and leaving,
//! chat, polls, pauses — as a JSON document and a WebVTT track of the same events, written
//! through a [`Storage`] and served behind signed, expiring links.
//!
//! The recorder attaches at once (`INVOKED → RECORDING`), and finishes a stopped recording's
//! file (`UPLOADING → UPLOADED`, or `ERRORED` when it cannot be written). Both steps are
//! idempotent and re-run at every reaper tick, so a crash between a stop and its file only
//! delays the file: everything the file holds is in the store.

pub mod file;
pub mod storage;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use storage::{DirStorage, Storage};

use crate::clock::{Millis, SharedClock};
use crate::store::{RecordingRow, Store, StoreResult};
use crate::tokens::{Expiring, KeyRing};

/// How long a recording's file can be downloaded after it is stored (RealtimeKit keeps
/// recordings 7 days in its own bucket).
pub const DEFAULT_RETENTION_SECS: i64 = 7 * 24 * 3600;

/// Claims of a recording file link.
#[derive(Debug, Serialize, Deserialize)]
pub struct FileClaims {
    pub typ: String,
    pub recording_id: String,
    pub exp: i64,
}

impl Expiring for FileClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

pub const FILE_CLAIM: &str = "recording_file";

#[derive(Clone)]
pub struct Recorder {
    store: Store,
    clock: SharedClock,
    storage: Arc<dyn Storage>,
    keys: KeyRing,
    /// The public base URL links start with.
    base: String,
    retention_secs: i64,
    /// One finishing pass at a time in this process (the store decides between nodes).
    busy: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Recorder {
    pub fn new(
        store: Store,
        clock: SharedClock,
        storage: Arc<dyn Storage>,
        keys: KeyRing,
        base: String,
        retention_secs: i64,
    ) -> Self {
        Self { store, clock, storage, keys, base, retention_secs, busy: Default::default() }
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// A signed link to the file of `r` (UPLOADED), valid until its download expiry; `vtt`
    /// for the WebVTT track. `None` if it has no file or no link can be signed.
    pub fn link(&self, r: &RecordingRow, vtt: bool) -> Option<(String, Millis)> {
        let expires = r.download_expires_at?;
        r.storage_key.as_ref()?;
        let claims = FileClaims { typ: FILE_CLAIM.into(), recording_id: r.id.clone(), exp: expires / 1000 };
        match self.keys.sign_loaded(&claims) {
            Ok(t) => {
                Some((format!("{}/recording-files/{t}{}", self.base, if vtt { ".vtt" } else { "" }), expires))
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot sign a recording download link");
                None
            }
        }
    }

    /// Moves every INVOKED recording to RECORDING (the recorder attaches at once).
    pub async fn attach(&self) -> StoreResult<usize> {
        let invoked = self.store.invoked_recordings().await?;
        let mut n = 0;
        for id in invoked {
            if self.store.recording_started(&id, self.clock.now()).await?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Writes the file of every UPLOADING recording and marks it UPLOADED (ERRORED if the
    /// storage refuses it). The number finished.
    pub async fn finish(&self) -> StoreResult<usize> {
        let _one = self.busy.lock().await;
        let mut n = 0;
        loop {
            let batch = self.store.uploading_recordings(50).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            let len = batch.len();
            for r in batch {
                self.finish_one(&r).await?;
                n += 1;
            }
            if len < 50 {
                return Ok(n);
            }
        }
    }

    async fn finish_one(&self, r: &RecordingRow) -> StoreResult<()> {
        let now = self.clock.now();
        let timeline = file::Timeline::read(&self.store, r).await?;
        let json = timeline.to_json();
        let vtt = timeline.to_vtt();
        let key = storage::key_of(&r.id);
        let stored = self
            .storage
            .put(&format!("{key}.json"), json.as_bytes())
            .and_then(|_| self.storage.put(&format!("{key}.vtt"), vtt.as_bytes()));
        match stored {
            Ok(()) => {
                let expires = now + self.retention_secs * 1000;
                let with_file = RecordingRow {
                    storage_key: Some(key.clone()),
                    download_expires_at: Some(expires),
                    ..r.clone()
                };
                let (url, _) = self.link(&with_file, false).unwrap_or_default();
                self.store.recording_uploaded(&r.id, &key, json.len() as i64, expires, &url, now).await?;
            }
            Err(e) => {
                tracing::error!(recording_id = %r.id, error = %e, "the recording's file could not be stored");
                self.store
                    .recording_errored(&r.id, &format!("the file could not be stored: {e}"), now)
                    .await?;
            }
        }
        Ok(())
    }

    /// One pass of everything due at the clock's time: recordings past `max_seconds` stop,
    /// invoked ones attach, stopped ones get their files.
    pub async fn tick(&self) -> StoreResult<()> {
        self.store.stop_recordings_at_max(self.clock.now()).await?;
        self.attach().await?;
        self.finish().await?;
        Ok(())
    }
}
