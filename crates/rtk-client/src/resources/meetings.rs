use reqwest::Method;
use rtk_api::meetings::{Meeting, MeetingParticipant, ParticipantToken};

use super::NONE;
use crate::client::{KitPath, Response};
use crate::pagination::{paginate, Items};
use crate::params::{
    AccountParams, AddParticipantParams, EditParticipantParams, MeetingListParams, MeetingParams,
    ParticipantListParams,
};
use crate::{Client, Error};

/// Meetings and their participants: `/accounts/{account_id}/realtime/kit/{app_id}/meetings`.
#[derive(Debug, Clone, Copy)]
pub struct Meetings<'a> {
    pub(crate) client: &'a Client,
}

fn meetings(account_id: &str, app_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::app(account_id, app_id)?.lit("meetings"))
}

fn meeting(account_id: &str, app_id: &str, meeting_id: &str) -> Result<KitPath, Error> {
    meetings(account_id, app_id)?.id("meeting_id", meeting_id)
}

fn participant(
    account_id: &str,
    app_id: &str,
    meeting_id: &str,
    participant_id: &str,
) -> Result<KitPath, Error> {
    meeting(account_id, app_id, meeting_id)?.lit("participants").id("participant_id", participant_id)
}

impl Meetings<'_> {
    /// Creates a meeting; unset fields take their defaults.
    pub async fn create(&self, app_id: &str, params: &MeetingParams) -> Result<Response<Meeting>, Error> {
        let path = meetings(&params.account_id, app_id)?;
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// One page of the app's meetings (newest first).
    pub async fn get(
        &self,
        app_id: &str,
        params: &MeetingListParams,
    ) -> Result<Response<Vec<Meeting>>, Error> {
        let path = meetings(&params.account_id, app_id)?;
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// Every meeting of the app, page after page.
    pub fn get_auto_paging(&self, app_id: &str, params: MeetingListParams) -> Items<Meeting> {
        let (client, app_id) = (self.client.clone(), app_id.to_string());
        paginate(params, move |p: MeetingListParams| {
            let (client, app_id) = (client.clone(), app_id.clone());
            async move {
                let r = client.realtime_kit().meetings().get(&app_id, &p).await?;
                Ok((r.data, r.paging))
            }
        })
    }

    pub async fn get_meeting_by_id(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Meeting>, Error> {
        let path = meeting(&params.account_id, app_id, meeting_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Changes the fields that are set (`PATCH`).
    pub async fn update_meeting_by_id(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &MeetingParams,
    ) -> Result<Response<Meeting>, Error> {
        let path = meeting(&params.account_id, app_id, meeting_id)?;
        self.client.request(Method::PATCH, path, NONE, Some(params)).await
    }

    /// Replaces the meeting (`PUT`): unset fields take their defaults.
    pub async fn replace_meeting_by_id(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &MeetingParams,
    ) -> Result<Response<Meeting>, Error> {
        let path = meeting(&params.account_id, app_id, meeting_id)?;
        self.client.request(Method::PUT, path, NONE, Some(params)).await
    }

    /// Adds a participant; the response carries its token (what a client joins with).
    pub async fn add_participant(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AddParticipantParams,
    ) -> Result<Response<MeetingParticipant>, Error> {
        let path = meeting(&params.account_id, app_id, meeting_id)?.lit("participants");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// One page of the meeting's participants.
    pub async fn get_meeting_participants(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &ParticipantListParams,
    ) -> Result<Response<Vec<MeetingParticipant>>, Error> {
        let path = meeting(&params.account_id, app_id, meeting_id)?.lit("participants");
        self.client.request(Method::GET, path, Some(params), NONE).await
    }

    /// Every participant of the meeting, page after page.
    pub fn get_meeting_participants_auto_paging(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: ParticipantListParams,
    ) -> Items<MeetingParticipant> {
        let (client, app_id, meeting_id) = (self.client.clone(), app_id.to_string(), meeting_id.to_string());
        paginate(params, move |p: ParticipantListParams| {
            let (client, app_id, meeting_id) = (client.clone(), app_id.clone(), meeting_id.clone());
            async move {
                let r = client
                    .realtime_kit()
                    .meetings()
                    .get_meeting_participants(&app_id, &meeting_id, &p)
                    .await?;
                Ok((r.data, r.paging))
            }
        })
    }

    pub async fn get_meeting_participant(
        &self,
        app_id: &str,
        meeting_id: &str,
        participant_id: &str,
        params: &AccountParams,
    ) -> Result<Response<MeetingParticipant>, Error> {
        let path = participant(&params.account_id, app_id, meeting_id, participant_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Changes the fields that are set; the response carries a fresh token.
    pub async fn edit_participant(
        &self,
        app_id: &str,
        meeting_id: &str,
        participant_id: &str,
        params: &EditParticipantParams,
    ) -> Result<Response<MeetingParticipant>, Error> {
        let path = participant(&params.account_id, app_id, meeting_id, participant_id)?;
        self.client.request(Method::PATCH, path, NONE, Some(params)).await
    }

    /// Deletes the participant, revoking every token it had.
    pub async fn delete_meeting_participant(
        &self,
        app_id: &str,
        meeting_id: &str,
        participant_id: &str,
        params: &AccountParams,
    ) -> Result<Response<MeetingParticipant>, Error> {
        let path = participant(&params.account_id, app_id, meeting_id, participant_id)?;
        self.client.request(Method::DELETE, path, NONE, NONE).await
    }

    /// A new token for the participant (older ones stay valid until they expire).
    pub async fn refresh_participant_token(
        &self,
        app_id: &str,
        meeting_id: &str,
        participant_id: &str,
        params: &AccountParams,
    ) -> Result<Response<ParticipantToken>, Error> {
        let path = participant(&params.account_id, app_id, meeting_id, participant_id)?.lit("token");
        self.client.request(Method::POST, path, NONE, NONE).await
    }
}
