//! Breakout rooms of a meeting's live session (rtk's own): list and open them (child
//! meetings), and move participants between a meeting and its rooms.

use axum::extract::State;
use axum::response::Response;
use rtk_api::active_session::{
    BreakoutRoom, BreakoutRooms, CreateRooms, MoveParticipants, MoveResult, MovedParticipant,
};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::limits;
use super::meetings::meeting_view;
use super::openapi::{Read, Write};
use super::schema::{errors, F, S};
use super::scope::{find_meeting, MeetingScope};
use super::sessions::session_view;
use super::Json;
use crate::engine::move_target;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_breakout_rooms, create_breakout_rooms))
        .routes(routes!(move_participants))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/breakout-rooms", tag = "active session",
    params(MeetingScope),
    responses((status = 200, description = "The meeting's breakout rooms (child meetings), each with its live session if any", body = rtk_api::Envelope<BreakoutRooms>),
              Read))]
async fn list_breakout_rooms(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
) -> ApiResult<Response> {
    let now = s.now();
    let mut rooms = vec![];
    for child in s.store.child_meetings(&m.id).await? {
        let live = s.store.live_session(&child.id, now).await?;
        rooms.push(BreakoutRoom {
            session: Some(live.map(|x| session_view(&x, now))),
            parent_meeting_id: Some(m.id.clone()),
            meeting: meeting_view(child),
        });
    }
    Ok(super::ok(BreakoutRooms { breakout_rooms: rooms, extra: Default::default() }))
}

const ROOMS: S = S::Obj(&[F("rooms", true, S::Arr(&S::Obj(&[F("title", false, S::Null(&S::Str))])))]);
const _: () = assert!(limits::ROOMS_MAX == 50, "the message below names the maximum");

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/breakout-rooms", tag = "active session",
    params(MeetingScope), request_body = CreateRooms,
    responses((status = 201, description = "New breakout rooms: child meetings of this meeting, whose session must be live", body = rtk_api::Envelope<BreakoutRooms>),
              Write))]
async fn create_breakout_rooms(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let mut errors = errors(&body, &ROOMS, false);
    let n = body.get("rooms").and_then(Value::as_array).map_or(0, Vec::len);
    if errors.is_empty() && !(1..=50).contains(&n) {
        errors.push("\"rooms\" must list 1 to 50 rooms");
    }
    if errors.is_empty() {
        for (i, room) in body["rooms"].as_array().into_iter().flatten().enumerate() {
            limits::text_at(room.get("title"), &format!("rooms[{i}].title"), limits::NAME_CHARS, &mut errors);
        }
    }
    ApiError::check(errors)?;
    let titles: Vec<Option<String>> = body["rooms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|room| room.get("title").and_then(Value::as_str).map(str::to_string))
        .collect();
    let created = s
        .engine
        .create_breakout_rooms(&m, &titles)
        .await?
        .into_iter()
        .map(|child| BreakoutRoom {
            session: None,
            parent_meeting_id: Some(m.id.clone()),
            meeting: meeting_view(child),
        })
        .collect();
    Ok(super::created(BreakoutRooms { breakout_rooms: created, extra: Default::default() }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/breakout-rooms/move", tag = "active session",
    params(MeetingScope), request_body = MoveParticipants,
    responses((status = 200, description = "Moves participants' peers from this meeting's live session to `to_meeting_id` (a breakout room of it, a sibling room, or the parent)", body = rtk_api::Envelope<MoveResult>),
              Write))]
async fn move_participants(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let Some(to) = body.get("to_meeting_id").and_then(Value::as_str) else {
        return Err(ApiError::bad_request("\"to_meeting_id\" is required (a string)"));
    };
    let target = find_meeting(&s, &m.app_id, to).await?;
    if move_target(&m, &target).is_err() {
        let root = m.parent_meeting_id.as_deref().unwrap_or(&m.id);
        return Err(ApiError::bad_request(format!(
            "meeting {to} is neither a breakout room of {root} nor {root} itself (or it is where they are)"
        )));
    }
    let named = super::active_session::named_participants(&s, &m, &body).await?;
    let moved = s.engine.move_participants(&named, &m.id, &target.id).await?;
    let moved = moved
        .iter()
        .map(|(left, joined)| MovedParticipant {
            participant_id: left.participant_id.clone(),
            from_peer_id: left.id.clone(),
            from_session_id: left.session_id.clone(),
            peer_id: joined.peer.id.clone(),
            session_id: joined.session.id.clone(),
            meeting_id: joined.session.meeting_id.clone(),
            extra: Default::default(),
        })
        .collect();
    Ok(super::ok(MoveResult { action: "move".into(), moved, extra: Default::default() }))
}
