use reqwest::Method;
use rtk_api::sessions::{
    SegmentsIn, SegmentsStored, Session, SessionChat, SessionDetails, SessionList, SessionParticipant,
    SessionParticipantDetails, SessionParticipants, SessionSummary, SessionTranscript, SummaryJob,
};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::pagination::{paginate, Items};
use crate::params::{
    AccountParams, GetSessionDetailsParams, SessionListParams, SessionParticipantListParams,
    SessionParticipantParams, TranscriptParams,
};
use crate::{Client, Error};

/// Sessions: `/accounts/{account_id}/realtime/kit/{app_id}/sessions`.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub(crate) client: &'a Client,
}

fn sessions(account_id: &str, app_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::app(account_id, app_id)?.lit("sessions"))
}

impl Sessions<'_> {
    /// One page of the app's sessions (newest first by default): `data.sessions`.
    pub async fn get_sessions(
        &self,
        app_id: &str,
        params: &SessionListParams,
    ) -> Result<Response<SessionList>, Error> {
        let path = sessions(&params.account_id, app_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// Every session of the app, page after page.
    pub fn get_sessions_auto_paging(&self, app_id: &str, params: SessionListParams) -> Items<Session> {
        let (client, app_id) = (self.client.clone(), app_id.to_string());
        paginate(params, move |p: SessionListParams| {
            let (client, app_id) = (client.clone(), app_id.clone());
            async move {
                let r = client.realtime_kit().sessions().get_sessions(&app_id, &p).await?;
                Ok((r.data.sessions, r.paging))
            }
        })
    }

    /// The session (`data.session`), with its breakout rooms if asked for.
    ///
    /// ```no_run
    /// # async fn f(client: rtk_client::Client) -> Result<(), rtk_client::Error> {
    /// use rtk_client::params::GetSessionDetailsParams;
    /// let r = client
    ///     .realtime_kit()
    ///     .sessions()
    ///     .get_session_details("app", "session", &GetSessionDetailsParams {
    ///         account_id: "account".into(),
    ///         include_breakout_rooms: Some(true),
    ///     })
    ///     .await?;
    /// println!("{} minutes", r.data.session.minutes_consumed);
    /// # Ok(()) }
    /// ```
    pub async fn get_session_details(
        &self,
        app_id: &str,
        session_id: &str,
        params: &GetSessionDetailsParams,
    ) -> Result<Response<SessionDetails>, Error> {
        let path = sessions(&params.account_id, app_id)?.id("session_id", session_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// One page of the people in the session: `data.participants`.
    pub async fn get_session_participants(
        &self,
        app_id: &str,
        session_id: &str,
        params: &SessionParticipantListParams,
    ) -> Result<Response<SessionParticipants>, Error> {
        let path = sessions(&params.account_id, app_id)?.id("session_id", session_id)?.lit("participants");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// Everyone in the session, page after page.
    pub fn get_session_participants_auto_paging(
        &self,
        app_id: &str,
        session_id: &str,
        params: SessionParticipantListParams,
    ) -> Items<SessionParticipant> {
        let (client, app_id, session_id) = (self.client.clone(), app_id.to_string(), session_id.to_string());
        paginate(params, move |p: SessionParticipantListParams| {
            let (client, app_id, session_id) = (client.clone(), app_id.clone(), session_id.clone());
            async move {
                let r = client
                    .realtime_kit()
                    .sessions()
                    .get_session_participants(&app_id, &session_id, &p)
                    .await?;
                Ok((r.data.participants, r.paging))
            }
        })
    }

    /// One participant of the session (by peer id or participant id): `data.participant`.
    pub async fn get_session_participant_details(
        &self,
        app_id: &str,
        session_id: &str,
        participant_id: &str,
        params: &SessionParticipantParams,
    ) -> Result<Response<SessionParticipantDetails>, Error> {
        let path = sessions(&params.account_id, app_id)?
            .id("session_id", session_id)?
            .lit("participants")
            .id("participant_id", participant_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// The peer report of one peer: `data.participant`.
    pub async fn get_participant_data_from_peer_id(
        &self,
        app_id: &str,
        peer_id: &str,
        params: &SessionParticipantParams,
    ) -> Result<Response<SessionParticipantDetails>, Error> {
        let path = sessions(&params.account_id, app_id)?.lit("peer-report").id("peer_id", peer_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// A download link for the session's chat (CSV).
    pub async fn get_session_chat(
        &self,
        app_id: &str,
        session_id: &str,
        params: &AccountParams,
    ) -> Result<Response<SessionChat>, Error> {
        let path = sessions(&params.account_id, app_id)?.id("session_id", session_id)?.lit("chat");
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// A download link for the session's transcript (`format`: SRT, VTT, JSON or CSV; 404
    /// when it has none).
    pub async fn get_session_transcripts(
        &self,
        app_id: &str,
        session_id: &str,
        params: &TranscriptParams,
    ) -> Result<Response<SessionTranscript>, Error> {
        let path = sessions(&params.account_id, app_id)?.id("session_id", session_id)?.lit("transcript");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// rtk extension: stores transcript segments (from your own speech-to-text).
    pub async fn add_transcript_segments(
        &self,
        app_id: &str,
        session_id: &str,
        account_id: &str,
        segments: &SegmentsIn,
    ) -> Result<Response<SegmentsStored>, Error> {
        let path = sessions(account_id, app_id)?.id("session_id", session_id)?.lit("transcript");
        self.client.request(Method::POST, path, NONE, Some(segments)).await
    }

    /// Starts a summary of the session's transcript.
    pub async fn generate_summary_of_transcripts(
        &self,
        app_id: &str,
        session_id: &str,
        params: &AccountParams,
    ) -> Result<Response<SummaryJob>, Error> {
        let path = sessions(&params.account_id, app_id)?.id("session_id", session_id)?.lit("summary");
        self.client.request(Method::POST, path, NONE, Some(&serde_json::json!({}))).await
    }

    /// A download link for the session's summary (404 while none is ready).
    pub async fn get_session_summary(
        &self,
        app_id: &str,
        session_id: &str,
        params: &AccountParams,
    ) -> Result<Response<SessionSummary>, Error> {
        let path = sessions(&params.account_id, app_id)?.id("session_id", session_id)?.lit("summary");
        self.client.request(Method::GET, path, NONE, NONE).await
    }
}
