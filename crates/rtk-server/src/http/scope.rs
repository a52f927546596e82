//! Scope extractors: what a handler under `/accounts/{account_id}/realtime/kit/{app_id}/…`
//! starts from, resolved once before it runs, in a fixed order — the credentials (401), the
//! account of the path (404), the app (404), the meeting (404). Handlers then take their own
//! path ids, query and body.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::Required;

use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AppRow, MeetingRow, TokenRow};

/// A path parameter's value (percent-decoded), or a 404 naming what is missing.
fn param<'a>(params: &'a RawPathParams, name: &str) -> Result<&'a str, ApiError> {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .ok_or_else(|| ApiError::internal_because(format!("route has no {{{name}}} parameter")))
}

async fn raw_params(parts: &mut Parts, state: &AppState) -> Result<RawPathParams, ApiError> {
    RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::bad_request("malformed path"))
}

/// The caller's account and the app `{app_id}` of it.
#[derive(Debug, Clone)]
pub struct AppScope {
    pub account: Account,
    pub app: Arc<AppRow>,
}

impl FromRequestParts<AppState> for AppScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = crate::auth::authenticate(state, &parts.headers).await?;
        let params = raw_params(parts, state).await?;
        AppScope::of_path(state, token, &params).await
    }
}

impl AppScope {
    async fn of_path(state: &AppState, token: TokenRow, params: &RawPathParams) -> Result<Self, ApiError> {
        let account = Account::of_path(token, params)?;
        let app_id = param(params, "app_id")?;
        let app = state
            .app_arc(&account.id, app_id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("No app found with id {app_id}")))?;
        Ok(AppScope { account, app })
    }
}

/// An app's meeting `{meeting_id}`.
#[derive(Debug, Clone)]
pub struct MeetingScope {
    pub account: Account,
    pub app: Arc<AppRow>,
    pub meeting: MeetingRow,
}

impl FromRequestParts<AppState> for MeetingScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = crate::auth::authenticate(state, &parts.headers).await?;
        let params = raw_params(parts, state).await?;
        let AppScope { account, app } = AppScope::of_path(state, token, &params).await?;
        let meeting_id = param(&params, "meeting_id")?;
        let meeting = find_meeting(state, &app.id, meeting_id).await?;
        Ok(MeetingScope { account, app, meeting })
    }
}

/// The meeting `id` of the app, or 404.
pub async fn find_meeting(s: &AppState, app_id: &str, id: &str) -> Result<MeetingRow, ApiError> {
    s.store
        .meeting(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No meeting found with id {id}")))
}

pub(crate) fn path_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1)),
        ))
        .build()
}

const ACCOUNT: &str = "The account; another account's path answers 404.";
const APP: &str = "The app, of the account.";
const MEETING: &str = "The meeting, of the app.";

impl utoipa::IntoParams for Account {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_param("account_id", ACCOUNT)]
    }
}

impl utoipa::IntoParams for AppScope {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_param("account_id", ACCOUNT), path_param("app_id", APP)]
    }
}

impl utoipa::IntoParams for MeetingScope {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_param("account_id", ACCOUNT), path_param("app_id", APP), path_param("meeting_id", MEETING)]
    }
}

/// Path ids below a scope, one type per leaf (`IntoParams` for the document).
macro_rules! leaf_path {
    ($($name:ident { $field:ident: $doc:literal }),* $(,)?) => {$(
        #[derive(Debug, serde::Deserialize)]
        pub struct $name {
            pub $field: String,
        }

        impl utoipa::IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                vec![path_param(stringify!($field), $doc)]
            }
        }
    )*};
}

leaf_path! {
    PresetPath { preset_id: "The preset, of the app." },
    ParticipantPath { participant_id: "The participant, of the meeting." },
    SessionPath { session_id: "The session, of the app." },
    SessionParticipantPath { participant_id: "A peer id (as the participants list shows) or a participant id." },
    PeerPath { peer_id: "A peer, of a session of the app." },
    WebhookPath { webhook_id: "The webhook, of the app." },
    RecordingPath { recording_id: "The recording, of the app." },
    LivestreamPath { livestream_id: "The livestream, of the app." },
    LivestreamSessionPath { livestream_session_id: "A livestream session (one ingest), of the app." },
}

/// `{session_id}` and `{participant_id}` together.
#[derive(Debug, serde::Deserialize)]
pub struct SessionPeerPath {
    pub session_id: String,
    pub participant_id: String,
}
