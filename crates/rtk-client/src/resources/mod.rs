//! The resource tree, as in the official SDKs: `client.realtime_kit().meetings().create(…)`.

mod active_session;
mod analytics;
mod apps;
mod livestreams;
mod meetings;
mod presets;
mod recordings;
mod sessions;
mod webhooks;

pub use active_session::ActiveSession;
pub use analytics::Analytics;
pub use apps::Apps;
pub use livestreams::Livestreams;
pub use meetings::Meetings;
pub use presets::Presets;
pub use recordings::Recordings;
pub use sessions::Sessions;
pub use webhooks::Webhooks;

use crate::Client;

/// `client.realtime_kit()`: the RealtimeKit API.
#[derive(Debug, Clone, Copy)]
pub struct RealtimeKit<'a> {
    client: &'a Client,
}

impl<'a> RealtimeKit<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        RealtimeKit { client }
    }
    pub fn apps(&self) -> Apps<'a> {
        Apps { client: self.client }
    }
    pub fn presets(&self) -> Presets<'a> {
        Presets { client: self.client }
    }
    pub fn meetings(&self) -> Meetings<'a> {
        Meetings { client: self.client }
    }
    pub fn sessions(&self) -> Sessions<'a> {
        Sessions { client: self.client }
    }
    pub fn active_session(&self) -> ActiveSession<'a> {
        ActiveSession { client: self.client }
    }
    pub fn webhooks(&self) -> Webhooks<'a> {
        Webhooks { client: self.client }
    }
    pub fn recordings(&self) -> Recordings<'a> {
        Recordings { client: self.client }
    }
    pub fn analytics(&self) -> Analytics<'a> {
        Analytics { client: self.client }
    }
    pub fn livestreams(&self) -> Livestreams<'a> {
        Livestreams { client: self.client }
    }
}

/// No query and no body.
pub(crate) const NONE: Option<&()> = None;
