use reqwest::Method;
use rtk_api::recordings::{Recording, TrackRecording};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::params::{
    AccountParams, RecordingActionParams, RecordingListParams, StartRecordingParams, TrackRecordingParams,
};
use crate::{Client, Error};

/// Recordings: `/accounts/{account_id}/realtime/kit/{app_id}/recordings` (docs/recordings.md:
/// rtk's recordings hold the session's timeline, not media).
#[derive(Debug, Clone, Copy)]
pub struct Recordings<'a> {
    pub(crate) client: &'a Client,
}

fn recordings(account_id: &str, app_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::app(account_id, app_id)?.lit("recordings"))
}

impl Recordings<'_> {
    /// Starts recording the meeting's live session (`201`, the recording as invoked; 409 when
    /// the meeting has no live session, or a recording runs and `allow_multiple_recordings`
    /// is not set).
    pub async fn start_recordings(
        &self,
        app_id: &str,
        params: &StartRecordingParams,
    ) -> Result<Response<Recording>, Error> {
        let path = recordings(&params.account_id, app_id)?;
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// Starts a track recording (the timeline of the participants in `user_ids`).
    pub async fn start_track_recording(
        &self,
        app_id: &str,
        params: &TrackRecordingParams,
    ) -> Result<Response<TrackRecording>, Error> {
        let path = recordings(&params.account_id, app_id)?.lit("track");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// One page of the app's recordings (newest first unless `sort_order` is `ASC`).
    pub async fn get_recordings(
        &self,
        app_id: &str,
        params: &RecordingListParams,
    ) -> Result<Response<Vec<Recording>>, Error> {
        let path = recordings(&params.account_id, app_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    pub async fn get_one_recording(
        &self,
        app_id: &str,
        recording_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Recording>, Error> {
        let path = recordings(&params.account_id, app_id)?.id("recording_id", recording_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// `stop`, `pause` or `resume` (409 naming the state when the action does not apply).
    pub async fn pause_resume_stop_recording(
        &self,
        app_id: &str,
        recording_id: &str,
        params: &RecordingActionParams,
    ) -> Result<Response<Recording>, Error> {
        let path = recordings(&params.account_id, app_id)?.id("recording_id", recording_id)?;
        self.client.request(Method::PUT, path, NONE, Some(params)).await
    }

    /// The meeting's running recording (404 when none runs).
    pub async fn get_active_recordings(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Recording>, Error> {
        let path =
            recordings(&params.account_id, app_id)?.lit("active-recording").id("meeting_id", meeting_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }
}
