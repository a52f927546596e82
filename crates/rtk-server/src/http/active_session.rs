//! The active session of a meeting: `…/meetings/{meeting_id}/active-session[/…]` — read it,
//! kick or mute peers, end it (kick-all) and run a poll. Breakout rooms are in `breakout.rs`.
//! Every action reaches the connected peers through the gateway.

use axum::extract::State;
use axum::response::Response;
use rtk_api::active_session::{
    ActedParticipant, CreatePoll, MuteAll, ParticipantsAction, Poll, PollCreated, PollOption, SessionAction,
    Targets,
};
use rtk_api::sessions::Session;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::limits;
use super::openapi::{Read, Write};
use super::schema::{errors, F, S};
use super::scope::MeetingScope;
use super::sessions::{breakout_rooms, session_view};
use super::Json;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{new_id, MeetingRow, ParticipantRow};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_active_session))
        .routes(routes!(kick))
        .routes(routes!(mute))
        .routes(routes!(kick_all))
        .routes(routes!(mute_all))
        .routes(routes!(create_poll))
        .merge(super::breakout::routes())
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session", tag = "active session",
    params(MeetingScope),
    responses((status = 200, description = "The meeting's live session (with its breakout rooms); 404 when none is live", body = rtk_api::Envelope<Session>),
              Read))]
async fn get_active_session(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
) -> ApiResult<Response> {
    let session = s.engine.active_session(&m.id).await?;
    let now = s.now();
    let mut view = session_view(&session, now);
    view.breakout_rooms = Some(breakout_rooms(&s, &session, now).await?);
    Ok(super::ok(view))
}

const TARGETS: S = S::Obj(&[
    F("participant_ids", false, S::Null(&S::Arr(&S::Str))),
    F("custom_participant_ids", false, S::Null(&S::Arr(&S::Str))),
]);

pub(super) fn strings(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The participants a kick/mute/move body names (`participant_ids` and/or
/// `custom_participant_ids`), all of which must exist in the meeting (its parent for a
/// breakout room).
pub(super) async fn named_participants(
    s: &AppState,
    m: &MeetingRow,
    body: &Value,
) -> ApiResult<Vec<ParticipantRow>> {
    ApiError::check(errors(body, &TARGETS, true))?;
    let ids = strings(body, "participant_ids");
    let custom = strings(body, "custom_participant_ids");
    if ids.is_empty() && custom.is_empty() {
        return Err(ApiError::bad_request(
            "give \"participant_ids\" or \"custom_participant_ids\" (a non-empty list)",
        ));
    }
    let home = m.parent_meeting_id.clone().unwrap_or_else(|| m.id.clone());
    let mut out = s.store.participants_matching(&home, &ids, false).await?;
    for id in &ids {
        if !out.iter().any(|p| &p.id == id) {
            return Err(ApiError::not_found(format!("No user found with id {id}")));
        }
    }
    let by_custom = s.store.participants_matching(&home, &custom, true).await?;
    for c in &custom {
        if !by_custom.iter().any(|p| &p.custom_participant_id == c) {
            return Err(ApiError::not_found(format!("No user found with custom_participant_id {c}")));
        }
    }
    for p in by_custom {
        if !out.iter().any(|o| o.id == p.id) {
            out.push(p);
        }
    }
    Ok(out)
}

fn participant_brief(p: &ParticipantRow) -> ActedParticipant {
    ActedParticipant {
        id: p.id.clone(),
        custom_participant_id: p.custom_participant_id.clone(),
        name: p.name.clone(),
        picture: p.picture.clone(),
        preset_name: Some(p.preset_name.clone()),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
        extra: Default::default(),
    }
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/kick", tag = "active session",
    params(MeetingScope), request_body = Targets,
    responses((status = 200, description = "The participants whose peers were removed", body = rtk_api::Envelope<ParticipantsAction>),
              Write))]
async fn kick(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let named = named_participants(&s, &m, &body).await?;
    let ids: Vec<String> = named.iter().map(|p| p.id.clone()).collect();
    let kicked = s.engine.kick(&m.id, &ids).await?;
    Ok(super::ok(ParticipantsAction {
        action: "kick".into(),
        participants: named.iter().map(participant_brief).collect(),
        kicked_peers_count: Some(kicked.len() as u64),
        ..Default::default()
    }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/mute", tag = "active session",
    params(MeetingScope), request_body = Targets,
    responses((status = 200, description = "The participants whose peers were told they are muted", body = rtk_api::Envelope<ParticipantsAction>),
              Write))]
async fn mute(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let named = named_participants(&s, &m, &body).await?;
    let ids: Vec<String> = named.iter().map(|p| p.id.clone()).collect();
    let muted = s.engine.mute(&m.id, Some(&ids)).await?;
    Ok(super::ok(ParticipantsAction {
        action: "mute".into(),
        participants: named.iter().map(participant_brief).collect(),
        muted_peers_count: Some(muted.len() as u64),
        ..Default::default()
    }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/kick-all", tag = "active session",
    params(MeetingScope),
    responses((status = 200, description = "Every peer removed; the session is ENDED at once (no keep-alive)", body = rtk_api::Envelope<SessionAction>),
              Read))]
async fn kick_all(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
) -> ApiResult<Response> {
    let (session, peers) = s.engine.kick_all(&m.id).await?;
    Ok(super::ok(SessionAction {
        action: "kick-all".into(),
        kicked_participants_count: Some(peers.len() as u64),
        session_id: Some(session.id),
        ..Default::default()
    }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/mute-all", tag = "active session",
    params(MeetingScope), request_body = MuteAll,
    responses((status = 200, description = "Every peer told it is muted", body = rtk_api::Envelope<SessionAction>),
              Write))]
async fn mute_all(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    ApiError::check(errors(&body, &S::Obj(&[F("allow_unmute", false, S::Null(&S::Bool))]), true))?;
    let muted = s.engine.mute(&m.id, None).await?;
    Ok(super::ok(SessionAction {
        action: "mute-all".into(),
        muted_participants_count: Some(muted.len() as u64),
        ..Default::default()
    }))
}

const POLL: S = S::Obj(&[
    F("question", true, S::Str),
    F("options", true, S::Arr(&S::Str)),
    F("anonymous", false, S::Bool),
    F("hide_votes", false, S::Bool),
]);

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/poll", tag = "active session",
    params(MeetingScope), request_body = CreatePoll,
    responses((status = 201, description = "The poll, shown to every peer", body = rtk_api::Envelope<PollCreated>),
              Write))]
async fn create_poll(
    State(s): State<AppState>,
    MeetingScope { meeting: m, .. }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let mut errors = errors(&body, &POLL, false);
    let options = strings(&body, "options");
    if errors.is_empty() && !(2..=limits::POLL_OPTIONS_MAX).contains(&options.len()) {
        errors.push(format!("\"options\" must list 2 to {} choices", limits::POLL_OPTIONS_MAX));
    }
    limits::text(&body, "question", limits::POLL_QUESTION_CHARS, &mut errors);
    if errors.is_empty() {
        for (i, o) in options.iter().enumerate() {
            if o.chars().count() > limits::POLL_OPTION_CHARS {
                errors.push(format!(
                    "\"options[{i}]\" must be at most {} characters",
                    limits::POLL_OPTION_CHARS
                ));
            }
        }
    }
    if body.get("question").and_then(Value::as_str).is_some_and(|q| q.trim().is_empty()) {
        errors.push("\"question\" must not be empty");
    }
    ApiError::check(errors)?;
    let poll = Poll {
        id: new_id(),
        question: body["question"].as_str().unwrap_or_default().to_string(),
        options: options
            .into_iter()
            .map(|text| PollOption { text, count: 0, votes: vec![], extra: Default::default() })
            .collect(),
        anonymous: body.get("anonymous").and_then(Value::as_bool).unwrap_or(false),
        hide_votes: body.get("hide_votes").and_then(Value::as_bool).unwrap_or(false),
        created_by: Some("api".into()),
        voted: vec![],
        extra: Default::default(),
    };
    // The engine keeps and broadcasts the poll as a JSON document.
    let doc = serde_json::to_value(&poll).map_err(ApiError::internal_because)?;
    s.engine.poll(&m.id, doc).await?;
    Ok(super::created(PollCreated { action: "poll".into(), poll, extra: Default::default() }))
}
