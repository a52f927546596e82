use reqwest::Method;
use rtk_api::active_session::{BreakoutRooms, MoveResult, ParticipantsAction, PollCreated, SessionAction};
use rtk_api::sessions::Session;

use super::NONE;
use crate::client::{KitPath, Response};
use crate::params::{
    AccountParams, CreateBreakoutRoomsParams, CreatePollParams, MoveParticipantsParams, MuteAllParams,
    ParticipantsParams,
};
use crate::{Client, Error};

/// A meeting's live session: `…/{app_id}/meetings/{meeting_id}/active-session`.
#[derive(Debug, Clone, Copy)]
pub struct ActiveSession<'a> {
    pub(crate) client: &'a Client,
}

fn active(account_id: &str, app_id: &str, meeting_id: &str) -> Result<KitPath, Error> {
    Ok(KitPath::app(account_id, app_id)?.lit("meetings").id("meeting_id", meeting_id)?.lit("active-session"))
}

impl ActiveSession<'_> {
    /// The meeting's live session (404 when there is none), with its breakout rooms.
    pub async fn get_active_session(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<Session>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?;
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// Removes the named participants' peers from the session.
    pub async fn kick_participants(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &ParticipantsParams,
    ) -> Result<Response<ParticipantsAction>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("kick");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// Removes every peer; the session ends at once.
    pub async fn kick_all_participants(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<SessionAction>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("kick-all");
        self.client.request(Method::POST, path, NONE, NONE).await
    }

    /// Mutes the named participants' peers.
    pub async fn mute_participants(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &ParticipantsParams,
    ) -> Result<Response<ParticipantsAction>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("mute");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// Mutes every peer.
    pub async fn mute_all_participants(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &MuteAllParams,
    ) -> Result<Response<SessionAction>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("mute-all");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// Shows a poll to every peer.
    pub async fn create_poll(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &CreatePollParams,
    ) -> Result<Response<PollCreated>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("poll");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// rtk: the meeting's breakout rooms, each with its live session if any.
    pub async fn get_breakout_rooms(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &AccountParams,
    ) -> Result<Response<BreakoutRooms>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("breakout-rooms");
        self.client.request(Method::GET, path, NONE, NONE).await
    }

    /// rtk: opens breakout rooms (child meetings) of a meeting whose session is live.
    pub async fn create_breakout_rooms(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &CreateBreakoutRoomsParams,
    ) -> Result<Response<BreakoutRooms>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("breakout-rooms");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }

    /// rtk: moves participants' peers from this meeting's session to `to_meeting_id`'s.
    pub async fn move_participants(
        &self,
        app_id: &str,
        meeting_id: &str,
        params: &MoveParticipantsParams,
    ) -> Result<Response<MoveResult>, Error> {
        let path = active(&params.account_id, app_id, meeting_id)?.lit("breakout-rooms").lit("move");
        self.client.request(Method::POST, path, NONE, Some(params)).await
    }
}
