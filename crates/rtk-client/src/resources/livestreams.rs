use reqwest::Method;
use rtk_api::analytics::DaywiseAnalytics;
use rtk_api::livestreams::{
    ActiveLivestreamSession, CreatedLivestream, Livestream, LivestreamDay, LivestreamPage, LivestreamSession,
    LivestreamStopped, LivestreamTotals, LivestreamWithSessions,
};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::params::{
    AccountParams, AnalyticsParams, CreateLivestreamParams, LivestreamAnalyticsParams, LivestreamListParams,
    LivestreamSessionListParams, StartLivestreamParams,
};
use crate::{Client, Error};

/// Livestreams: `…/{app_id}/livestreams`, a meeting's `livestreams` and `active-livestream`,
/// and `…/analytics/livestreams` (docs/livestreams.md: a broadcaster publishes RTMP to
/// `ingest_server` + `stream_key`; players read `playback_url`, HTTP-FLV). The server must run
/// with `--rtmp-listen`, else these answer 409.
#[derive(Debug, Clone, Copy)]
pub struct Livestreams<'a> {
    pub(crate) client: &'a Client,
}

fn app(account_id: &str, app_id: &str) -> Result<KitPath, Error> {
    KitPath::app(account_id, app_id)
}

impl Livestreams<'_> {
    /// Starts a livestream of the meeting (`201`, `INVOKED` until a publisher connects; 409
    /// when the meeting already has one running). It stops when the meeting's session ends.
    pub async fn start_livestreaming_a_meeting(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &StartLivestreamParams,
    ) -> Result<Response<Livestream>, Error> {
        let path =
            app(&params.account_id, app_id)?.lit("meetings").id("meeting_id", meeting_id)?.lit("livestreams");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// A livestream of no meeting (`disabled` is a boolean in this answer, as the SDKs type it).
    pub async fn create_independent_livestream(
        &self,
        app_id: &str,
        params: &CreateLivestreamParams,
    ) -> Result<Response<CreatedLivestream>, Error> {
        let path = app(&params.account_id, app_id)?.lit("livestreams");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// The meeting's running livestream (404 when it has none).
    pub async fn get_meeting_active_livestreams(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Livestream>, Error> {
        let path = app(&params.account_id, app_id)?
            .lit("meetings")
            .id("meeting_id", meeting_id)?
            .lit("active-livestream");
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Stops the meeting's livestream: its ingest ends and its key is refused from then on.
    pub async fn stop_livestreaming_a_meeting(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<LivestreamStopped>, Error> {
        let path = app(&params.account_id, app_id)?
            .lit("meetings")
            .id("meeting_id", meeting_id)?
            .lit("active-livestream")
            .lit("stop");
        self.client.request(Method::POST, path, NONE, Some(&serde_json::json!({}))).await
    }

    /// A page of the app's livestreams in `data.livestreams` (newest first unless `ASC`).
    pub async fn get_all_livestreams(
        &self,
        app_id: &str,
        params: &LivestreamListParams,
    ) -> Result<Response<LivestreamPage>, Error> {
        let path = app(&params.account_id, app_id)?.lit("livestreams");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// The livestream and a page of its sessions (ingests), newest first.
    pub async fn get_livestream_session_for_livestream_id(
        &self,
        app_id: &str,
        livestream_id: &str,
        params: &LivestreamSessionListParams,
    ) -> Result<Response<LivestreamWithSessions>, Error> {
        let path = app(&params.account_id, app_id)?.lit("livestreams").id("livestream_id", livestream_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// The livestream and its running ingest (404 when it is not live).
    pub async fn get_active_livestreams_for_livestream_id(
        &self,
        app_id: &str,
        livestream_id: &str,
        params: &AccountParams,
    ) -> Result<Response<ActiveLivestreamSession>, Error> {
        let path = app(&params.account_id, app_id)?
            .lit("livestreams")
            .id("livestream_id", livestream_id)?
            .lit("active-livestream-session");
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// One livestream session (ingest).
    pub async fn get_livestream_session_details_for_session_id(
        &self,
        app_id: &str,
        livestream_session_id: &str,
        params: &AccountParams,
    ) -> Result<Response<LivestreamSession>, Error> {
        let path = app(&params.account_id, app_id)?
            .lit("livestreams")
            .lit("sessions")
            .id("livestream_session_id", livestream_session_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Ingests that started in the range: their count, ingest and viewer seconds.
    pub async fn get_livestream_analytics_complete(
        &self,
        app_id: &str,
        params: &LivestreamAnalyticsParams,
    ) -> Result<Response<LivestreamTotals>, Error> {
        let path = app(&params.account_id, app_id)?.lit("analytics").lit("livestreams").lit("overall");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// The same figures per UTC day, every day of the range.
    pub async fn get_livestream_analytics_daywise(
        &self,
        app_id: &str,
        params: &LivestreamAnalyticsParams,
    ) -> Result<Response<Vec<LivestreamDay>>, Error> {
        let path = app(&params.account_id, app_id)?.lit("analytics").lit("livestreams").lit("daywise");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// `analytics/daywise` again, as the SDKs also model it under livestreams.
    pub async fn get_org_analytics(
        &self,
        app_id: &str,
        params: &AnalyticsParams,
    ) -> Result<Response<DaywiseAnalytics>, Error> {
        super::Analytics { client: self.client }.get_org_analytics(app_id, params).await
    }
}
