//! The session engine: session lifecycle and accounting. Owns the rules of
//! `docs/sessions.md`; reads time only from the injected clock.

use crate::clock::SharedClock;
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct Engine {
    #[allow(dead_code)]
    store: Store,
    #[allow(dead_code)]
    clock: SharedClock,
}

impl Engine {
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    /// A participant was deleted: its connected peers must go. (No peers exist until the
    /// gateway lands; this is the hook it will fill.)
    pub async fn participant_deleted(&self, _participant_id: &str) {}
}
