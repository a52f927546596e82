//! Sessions: the seed endpoint `GET …/{app_id}/sessions/{session_id}` and its family, one
//! module per job — `list.rs` (the sessions list and one session's details), `people.rs` (who
//! was in a session: the participants list, a participant's details, the peer report) and
//! `chat.rs` (a session's chat and its CSV export). Sessions exist because participants
//! joined through the gateway.

mod chat;
mod list;
mod people;
mod transcript;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rtk_api::sessions::Session;
use utoipa_axum::router::OpenApiRouter;

use crate::clock::{rfc3339, Millis};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::SessionRow;

pub use chat::{ChatLinker, EXPORT_TTL_SECS};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(list::routes())
        .merge(people::routes())
        .merge(chat::routes())
        .merge(transcript::routes())
}

/// The chat CSV download links (outside the API paths: the link is the credential).
pub fn chat_export_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/chat-exports/{token}", axum::routing::get(chat::chat_export))
        .merge(transcript::file_routes())
}

/// The API view of a session at `now` (RealtimeKit's session object).
pub fn session_view(s: &SessionRow, now: Millis) -> Session {
    let st = s.state(now);
    Session {
        id: s.id.clone(),
        associated_id: s.meeting_id.clone(),
        meeting_display_name: s.meeting_title.clone().unwrap_or_default(),
        organization_id: s.app_id.clone(),
        kind: "meeting".into(),
        status: if st.live { "LIVE" } else { "ENDED" }.into(),
        live_participants: st.live_participants.max(0) as u64,
        max_concurrent_participants: s.max_live.max(0) as u64,
        minutes_consumed: st.minutes_consumed,
        started_at: rfc3339(s.started_at),
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(st.updated_at),
        ended_at: st.ended_at.map(rfc3339),
        meta: if s.meta == "{}" {
            Default::default()
        } else {
            serde_json::from_str(&s.meta).unwrap_or_default()
        },
        parent_session_id: s.parent_session_id.clone(),
        breakout_rooms: None,
        extra: Default::default(),
    }
}

/// The session-details response body: the session's fields flat under `data` (current SDKs)
/// and the same object again as `data.session` (the seed's SDK generation) — the bytes
/// `Envelope<SessionDetails>` serialises to. The session is serialised once and its bytes
/// written twice (the hot path answers with this).
pub fn details_body(view: &Session) -> serde_json::Result<Vec<u8>> {
    const HEAD: &[u8] = br#"{"success":true,"data":"#;
    let mut one = Vec::with_capacity(640);
    serde_json::to_writer(&mut one, view)?;
    let mut body = Vec::with_capacity(HEAD.len() + 2 * one.len() + 16);
    body.extend_from_slice(HEAD);
    body.extend_from_slice(&one[..one.len() - 1]); // without the closing brace
    body.extend_from_slice(br#","session":"#);
    body.extend_from_slice(&one);
    body.extend_from_slice(b"}}");
    Ok(body)
}

/// A JSON body that is already bytes, with status 200.
pub fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub async fn find_session(s: &AppState, app_id: &str, id: &str) -> ApiResult<SessionRow> {
    s.store
        .session(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No session found with id {id}")))
}

/// `breakout_rooms`: the child sessions of `session`, each a session object.
pub async fn breakout_rooms(s: &AppState, session: &SessionRow, now: Millis) -> ApiResult<Vec<Session>> {
    let children = s.store.child_sessions(&session.id).await?;
    Ok(children.iter().map(|c| session_view(c, now)).collect())
}

fn bad_param(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid query parameter \"{name}\": {why}"))
}

#[cfg(test)]
mod tests {
    use rtk_api::sessions::SessionDetails;
    use rtk_api::Envelope;

    #[test]
    fn details_bytes_are_the_typed_envelope() {
        let mut s = rtk_api::sessions::Session {
            id: "s".into(),
            kind: "meeting".into(),
            status: "LIVE".into(),
            minutes_consumed: 1.5,
            ended_at: Some("t".into()),
            parent_session_id: Some("p".into()),
            ..Default::default()
        };
        s.breakout_rooms = Some(vec![s.clone()]);
        let typed = serde_json::to_vec(&Envelope::ok(SessionDetails {
            session: s.clone(),
            extra: Default::default(),
        }))
        .unwrap();
        assert_eq!(
            String::from_utf8(super::details_body(&s).unwrap()).unwrap(),
            String::from_utf8(typed).unwrap()
        );
    }
}
