//! The active session of a meeting: `…/meetings/{meeting_id}/active-session[/…]` — read it,
//! kick or mute peers, end it (kick-all), run a poll, and open breakout rooms and move
//! participants between them. Every action reaches the connected peers through the gateway.

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::apps::find_app;
use super::limits;
use super::meetings::{find_meeting, meeting_view};
use super::schema::{errors, F, S};
use super::sessions::{breakout_rooms, session_view};
use super::{Json, Path};
use crate::auth::Account;
use crate::clock::rfc3339;
use crate::engine::{move_target, EngineError};
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
        .routes(routes!(list_breakout_rooms, create_breakout_rooms))
        .routes(routes!(move_participants))
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NoActiveSession(m) => {
                ApiError::not_found(format!("No active session found for meeting_id {m}"))
            }
            EngineError::MeetingGone(m) => ApiError::not_found(format!("No meeting found with id {m}")),
            EngineError::MeetingInactive(m) => ApiError::conflict(format!("meeting {m} is INACTIVE")),
            EngineError::PeerGone(p) => ApiError::not_found(format!("peer {p} is not in a live session")),
            EngineError::Invalid(m) => ApiError::bad_request(m),
            e @ EngineError::ChatFull(_) => ApiError::conflict(e.to_string()),
            EngineError::Store(s) => s.into(),
        }
    }
}

type P3 = Path<(String, String, String)>;

async fn meeting(s: &AppState, account: &Account, app_id: &str, meeting_id: &str) -> ApiResult<MeetingRow> {
    let app = find_app(s, account, app_id).await?;
    find_meeting(s, &app.id, meeting_id).await
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)),
    responses((status = 200, description = "The meeting's live session (with its breakout rooms)", body = Object),
              (status = 404, description = "No active session found for meeting_id …", body = rtk_api::ErrorEnvelope)))]
async fn get_active_session(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
) -> ApiResult<Response> {
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
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

fn strings(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The participants a kick/mute/move body names (`participant_ids` and/or
/// `custom_participant_ids`), all of which must exist in the meeting (its parent for a
/// breakout room).
async fn named_participants(s: &AppState, m: &MeetingRow, body: &Value) -> ApiResult<Vec<ParticipantRow>> {
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

fn participant_brief(p: &ParticipantRow) -> Value {
    json!({"id": p.id, "custom_participant_id": p.custom_participant_id, "name": p.name, "picture": p.picture,
           "preset_name": p.preset_name, "created_at": rfc3339(p.created_at), "updated_at": rfc3339(p.updated_at)})
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/kick", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "The participants whose peers were removed", body = Object)))]
async fn kick(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let named = named_participants(&s, &m, &body).await?;
    let ids: Vec<String> = named.iter().map(|p| p.id.clone()).collect();
    let kicked = s.engine.kick(&m.id, &ids).await?;
    Ok(super::ok(json!({
        "action": "kick",
        "participants": named.iter().map(participant_brief).collect::<Vec<_>>(),
        "kicked_peers_count": kicked.len(),
    })))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/mute", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "The participants whose peers were told they are muted", body = Object)))]
async fn mute(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let named = named_participants(&s, &m, &body).await?;
    let ids: Vec<String> = named.iter().map(|p| p.id.clone()).collect();
    let muted = s.engine.mute(&m.id, Some(&ids)).await?;
    Ok(super::ok(json!({
        "action": "mute",
        "participants": named.iter().map(participant_brief).collect::<Vec<_>>(),
        "muted_peers_count": muted.len(),
    })))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/kick-all", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)),
    responses((status = 200, description = "Every peer removed; the session is ENDED at once (no keep-alive)", body = Object)))]
async fn kick_all(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
) -> ApiResult<Response> {
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let (session, peers) = s.engine.kick_all(&m.id).await?;
    Ok(super::ok(
        json!({"action": "kick-all", "kicked_participants_count": peers.len(), "session_id": session.id}),
    ))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/mute-all", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 200, description = "Every peer told it is muted", body = Object)))]
async fn mute_all(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    ApiError::check(errors(&body, &S::Obj(&[F("allow_unmute", false, S::Null(&S::Bool))]), true))?;
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let muted = s.engine.mute(&m.id, None).await?;
    Ok(super::ok(json!({"action": "mute-all", "muted_participants_count": muted.len()})))
}

const POLL: S = S::Obj(&[
    F("question", true, S::Str),
    F("options", true, S::Arr(&S::Str)),
    F("anonymous", false, S::Bool),
    F("hide_votes", false, S::Bool),
]);

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/poll", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 201, description = "The poll, shown to every peer", body = Object)))]
async fn create_poll(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
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
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let poll = json!({
        "id": new_id(),
        "question": body["question"],
        "options": options.iter().map(|o| json!({"text": o, "count": 0, "votes": []})).collect::<Vec<_>>(),
        "anonymous": body.get("anonymous").and_then(Value::as_bool).unwrap_or(false),
        "hide_votes": body.get("hide_votes").and_then(Value::as_bool).unwrap_or(false),
        "created_by": "api",
        "voted": [],
    });
    let (_, poll) = s.engine.poll(&m.id, poll).await?;
    Ok(super::created(json!({"action": "poll", "poll": poll})))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/breakout-rooms", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)),
    responses((status = 200, description = "The meeting's breakout rooms (child meetings), each with its live session if any", body = Object)))]
async fn list_breakout_rooms(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
) -> ApiResult<Response> {
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let now = s.now();
    let mut rooms = vec![];
    for child in s.store.child_meetings(&m.id).await? {
        let mut v = meeting_view(&child);
        let live = s.store.live_session(&child.id, now).await?;
        v["session"] = match live {
            Some(x) => serde_json::to_value(session_view(&x, now)).map_err(|_| ApiError::internal())?,
            None => Value::Null,
        };
        v["parent_meeting_id"] = m.id.clone().into();
        rooms.push(v);
    }
    Ok(super::ok(json!({"breakout_rooms": rooms})))
}

const ROOMS: S = S::Obj(&[F("rooms", true, S::Arr(&S::Obj(&[F("title", false, S::Null(&S::Str))])))]);

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/breakout-rooms", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path)), request_body = Object,
    responses((status = 201, description = "New breakout rooms: child meetings of this meeting. Body: {\"rooms\": [{\"title\": \"Room 1\"}, …]}", body = Object)))]
async fn create_breakout_rooms(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
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
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
    let titles: Vec<Option<String>> = body["rooms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|room| room.get("title").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut created = vec![];
    for child in s.engine.create_breakout_rooms(&m, &titles).await? {
        let mut v = meeting_view(&child);
        v["parent_meeting_id"] = m.id.clone().into();
        created.push(v);
    }
    Ok(super::created(json!({"breakout_rooms": created})))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/active-session/breakout-rooms/move", tag = "active session",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("meeting_id" = String, Path, description = "The meeting the participants are in now")),
    request_body = Object,
    responses((status = 200, description = "Moves participants' peers from this meeting's live session to `to_meeting_id` (a breakout room of it, a sibling room, or the parent)", body = Object)))]
async fn move_participants(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, meeting_id)): P3,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let m = meeting(&s, &account, &app_id, &meeting_id).await?;
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
    let named = named_participants(&s, &m, &body).await?;
    let moved = s.engine.move_participants(&named, &m.id, &target.id).await?;
    let out: Vec<Value> = moved
        .iter()
        .map(|(left, joined)| {
            json!({"participant_id": left.participant_id, "from_peer_id": left.id, "from_session_id": left.session_id,
                   "peer_id": joined.peer.id, "session_id": joined.session.id, "meeting_id": joined.session.meeting_id})
        })
        .collect();
    Ok(super::ok(json!({"action": "move", "moved": out})))
}
