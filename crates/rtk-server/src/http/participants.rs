//! Meeting participants: `…/meetings/{meeting_id}/participants[/{participant_id}[/token]]`.
//! Adding a participant issues its token (a signed JWT the gateway accepts).

use axum::extract::State;
use axum::response::Response;
use rtk_api::meetings::{AddParticipant, EditParticipant, MeetingParticipant, ParticipantToken};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::limits;
use super::openapi::{Read, Write};
use super::schema::{errors, F, S};
use super::scope::{MeetingScope, ParticipantPath};
use super::{Json, Page, Path};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{new_id, ParticipantRow};
use crate::tokens::ParticipantClaims;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_participants, add_participant))
        .routes(routes!(get_participant, edit_participant, delete_participant))
        .routes(routes!(refresh_token))
}

const ADD: S = S::Obj(&[
    F("custom_participant_id", true, S::Str),
    F("preset_name", true, S::Str),
    F("name", false, S::Null(&S::Str)),
    F("picture", false, S::Null(&S::Str)),
]);

/// A validated body. `name` / `picture`: absent (`None`), null (`Some(None)`) or a value.
struct ParticipantIn {
    custom_participant_id: Option<String>,
    preset_name: Option<String>,
    name: Option<Option<String>>,
    picture: Option<Option<String>>,
}

fn nullable(body: &Value, k: &str) -> Option<Option<String>> {
    body.get(k).map(|v| v.as_str().map(str::to_string))
}

pub fn participant_view(p: &ParticipantRow) -> MeetingParticipant {
    MeetingParticipant {
        id: p.id.clone(),
        custom_participant_id: p.custom_participant_id.clone(),
        preset_name: Some(p.preset_name.clone()),
        name: p.name.clone(),
        picture: p.picture.clone(),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
        token: None,
        preset_id: None,
        extra: Default::default(),
    }
}

fn with_token(p: &ParticipantRow, token: String) -> MeetingParticipant {
    MeetingParticipant { token: Some(token), ..participant_view(p) }
}

fn parse_body(body: &Value, partial: bool) -> ApiResult<ParticipantIn> {
    let mut errors = errors(body, &ADD, partial);
    for k in ["custom_participant_id", "preset_name"] {
        if body.get(k).and_then(Value::as_str).is_some_and(|s| s.trim().is_empty()) {
            errors.push(format!("\"{k}\" must not be empty"));
        }
    }
    for k in ["custom_participant_id", "preset_name", "name"] {
        limits::text(body, k, limits::NAME_CHARS, &mut errors);
    }
    limits::text(body, "picture", limits::URL_CHARS, &mut errors);
    ApiError::check(errors)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(|s| s.trim().to_string());
    Ok(ParticipantIn {
        custom_participant_id: text("custom_participant_id"),
        preset_name: text("preset_name"),
        name: nullable(body, "name"),
        picture: nullable(body, "picture"),
    })
}

/// Issues a new participant token.
pub async fn issue_token(s: &AppState, account_id: &str, p: &ParticipantRow) -> ApiResult<String> {
    let now = s.now();
    let iat = now / 1000;
    let claims = ParticipantClaims {
        sub: p.id.clone(),
        participant_id: p.id.clone(),
        meeting_id: p.meeting_id.clone(),
        app_id: p.app_id.clone(),
        account_id: account_id.to_string(),
        preset_name: p.preset_name.clone(),
        iat,
        exp: iat + s.config.participant_token_ttl.as_secs() as i64,
        jti: new_id(),
    };
    Ok(s.keys.sign(&claims).await?)
}

async fn find_participant(s: &AppState, meeting_id: &str, id: &str) -> ApiResult<ParticipantRow> {
    s.store
        .participant(meeting_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No participant found with id {id}")))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants", tag = "participants",
    params(MeetingScope, Page),
    responses((status = 200, description = "The meeting's participants, oldest first", body = rtk_api::Envelope<Vec<MeetingParticipant>>),
              Read))]
async fn list_participants(
    State(s): State<AppState>,
    scope: MeetingScope,
    page: Page,
) -> ApiResult<Response> {
    let (rows, total) = s.store.list_participants(&scope.meeting.id, page.limit(), page.offset()).await?;
    Ok(super::page(rows.iter().map(participant_view).collect(), page, total))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants", tag = "participants",
    params(MeetingScope), request_body = AddParticipant,
    responses((status = 201, description = "The participant, with its token", body = rtk_api::Envelope<MeetingParticipant>),
              Write))]
async fn add_participant(
    State(s): State<AppState>,
    MeetingScope { account, app, meeting }: MeetingScope,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let b = parse_body(&body, false)?;
    let preset_name = b.preset_name.unwrap_or_default();
    let preset = s.store.preset_by_name(&app.id, &preset_name).await?.ok_or_else(|| {
        ApiError::bad_request(format!("No preset named {preset_name:?} exists in app {}", app.id))
    })?;
    let now = s.now();
    let row = ParticipantRow {
        id: new_id(),
        meeting_id: meeting.id,
        app_id: app.id.clone(),
        custom_participant_id: b.custom_participant_id.unwrap_or_default(),
        preset_id: preset.id,
        preset_name: preset.name,
        name: b.name.flatten(),
        picture: b.picture.flatten(),
        created_at: now,
        updated_at: now,
    };
    s.store.insert_participant(&row).await?;
    let token = issue_token(&s, &account.id, &row).await?;
    Ok(super::created(with_token(&row, token)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants/{participant_id}", tag = "participants",
    params(MeetingScope, ParticipantPath),
    responses((status = 200, description = "The participant (no token)", body = rtk_api::Envelope<MeetingParticipant>),
              Read))]
async fn get_participant(
    State(s): State<AppState>,
    scope: MeetingScope,
    Path(p): Path<ParticipantPath>,
) -> ApiResult<Response> {
    Ok(super::ok(participant_view(&find_participant(&s, &scope.meeting.id, &p.participant_id).await?)))
}

#[utoipa::path(patch, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants/{participant_id}", tag = "participants",
    params(MeetingScope, ParticipantPath), request_body = EditParticipant,
    responses((status = 200, description = "The participant with a fresh token (older tokens stay valid)", body = rtk_api::Envelope<MeetingParticipant>),
              Write))]
async fn edit_participant(
    State(s): State<AppState>,
    MeetingScope { account, app, meeting }: MeetingScope,
    Path(ParticipantPath { participant_id: pid }): Path<ParticipantPath>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    let b = parse_body(&body, true)?;
    if b.custom_participant_id.is_some() {
        return Err(ApiError::bad_request("\"custom_participant_id\" cannot be changed"));
    }
    let mut row = find_participant(&s, &meeting.id, &pid).await?;
    if let Some(name) = b.preset_name {
        let preset = s.store.preset_by_name(&app.id, &name).await?.ok_or_else(|| {
            ApiError::bad_request(format!("No preset named {name:?} exists in app {}", app.id))
        })?;
        row.preset_id = preset.id;
        row.preset_name = preset.name;
    }
    if let Some(n) = b.name {
        row.name = n;
    }
    if let Some(p) = b.picture {
        row.picture = p;
    }
    row.updated_at = s.now();
    s.store.update_participant(&row).await?;
    let token = issue_token(&s, &account.id, &row).await?;
    Ok(super::ok(with_token(&row, token)))
}

#[utoipa::path(delete, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants/{participant_id}", tag = "participants",
    params(MeetingScope, ParticipantPath),
    responses((status = 200, description = "The deleted participant; all its tokens are revoked", body = rtk_api::Envelope<MeetingParticipant>),
              Read))]
async fn delete_participant(
    State(s): State<AppState>,
    MeetingScope { meeting, .. }: MeetingScope,
    Path(ParticipantPath { participant_id: pid }): Path<ParticipantPath>,
) -> ApiResult<Response> {
    let row = find_participant(&s, &meeting.id, &pid).await?;
    if !s.engine.remove_participant(&meeting.id, &pid).await? {
        return Err(ApiError::not_found(format!("No participant found with id {pid}")));
    }
    Ok(super::ok(MeetingParticipant { preset_id: Some(row.preset_id.clone()), ..participant_view(&row) }))
}

#[utoipa::path(post, path = "/accounts/{account_id}/realtime/kit/{app_id}/meetings/{meeting_id}/participants/{participant_id}/token", tag = "participants",
    params(MeetingScope, ParticipantPath),
    responses((status = 200, description = "A new token; older tokens stay valid until they expire", body = rtk_api::Envelope<ParticipantToken>),
              Read))]
async fn refresh_token(
    State(s): State<AppState>,
    MeetingScope { account, meeting, .. }: MeetingScope,
    Path(p): Path<ParticipantPath>,
) -> ApiResult<Response> {
    let row = find_participant(&s, &meeting.id, &p.participant_id).await?;
    let token = issue_token(&s, &account.id, &row).await?;
    Ok(super::ok(ParticipantToken { token, extra: Default::default() }))
}
