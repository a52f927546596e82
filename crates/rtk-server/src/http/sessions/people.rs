//! Who was in a session: the participants list (per peer or per participant), a
//! participant's details and the peer report.

use axum::extract::State;
use axum::response::Response;
use rtk_api::document::RawJson;
use rtk_api::sessions::{
    BrowserMetadata, DeviceInfo, PeerEvent, PeerMetadata, PeerReport, PeerStats, SessionParticipant,
    SessionParticipantDetails, SessionParticipants,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{bad_param, find_session};
use crate::clock::{rfc3339, Millis};
use crate::error::{ApiError, ApiResult};
use crate::http::openapi::Read;
use crate::http::scope::{AppScope, PeerPath, SessionParticipantPath, SessionPath, SessionPeerPath};
use crate::http::{Page, Path, Query};
use crate::state::AppState;
use crate::store::{PeerOrder, PeerRow, SessionRow};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session_participants))
        .routes(routes!(session_participant))
        .routes(routes!(peer_report))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ParticipantsQuery {
    /// Add each peer's join/leave events under `peer_events`.
    #[serde(default, deserialize_with = "crate::http::de::opt_bool")]
    #[param(value_type = Option<String>, pattern = r"^\s*([tT][rR][uU][eE]|[fF][aA][lL][sS][eE]|1|0)?\s*$")]
    include_peer_events: Option<bool>,
    /// A display name or custom participant id (substring, any case).
    search: Option<String>,
    /// `joinedAt` (default) or `duration`.
    #[param(pattern = r"^\s*(joinedAt|duration)?\s*$")]
    sort_by: Option<String>,
    /// `ASC` (default) or `DESC`, any case.
    #[param(pattern = r"^\s*([aA][sS][cC]|[dD][eE][sS][cC])?\s*$")]
    sort_order: Option<String>,
    /// `raw` (default): one row per peer of this session. `consolidated`: one row per
    /// participant, adding their time in this session's breakout rooms.
    #[param(pattern = r"^\s*(raw|consolidated)?\s*$")]
    view: Option<String>,
}

/// One row of the participants list: a peer (raw) or a participant's peers together.
#[derive(Debug, Clone)]
struct Presence {
    peers: Vec<PeerRow>,
}

impl Presence {
    fn first(&self) -> &PeerRow {
        &self.peers[0]
    }
    fn joined_at(&self) -> Millis {
        self.peers.iter().map(|p| p.joined_at).min().unwrap_or_default()
    }
    fn left_at(&self) -> Option<Millis> {
        if self.peers.iter().any(|p| p.left_at.is_none()) {
            None
        } else {
            self.peers.iter().filter_map(|p| p.left_at).max()
        }
    }
    fn duration_ms(&self, now: Millis) -> i64 {
        self.peers.iter().map(|p| p.presence_ms(now)).sum()
    }
    fn updated_at(&self) -> Millis {
        self.peers.iter().map(|p| p.updated_at).max().unwrap_or_default()
    }

    fn view(&self, now: Millis, events: bool) -> SessionParticipant {
        let f = self.first();
        SessionParticipant {
            id: f.id.clone(),
            user_id: f.participant_id.clone(),
            participant_id: Some(f.participant_id.clone()),
            custom_participant_id: f.custom_participant_id.clone(),
            display_name: f.display_name.clone().unwrap_or_default(),
            preset_name: Some(f.preset_name.clone()),
            session_id: Some(f.session_id.clone()),
            joined_at: rfc3339(self.joined_at()),
            left_at: self.left_at().map(rfc3339),
            duration: self.duration_ms(now) as f64 / 60_000.0,
            created_at: rfc3339(f.created_at),
            updated_at: rfc3339(self.updated_at()),
            peer_events: events.then(|| self.peers.iter().flat_map(|p| peer_events(p, now)).collect()),
            ..Default::default()
        }
    }
}

fn peer_events(p: &PeerRow, now: Millis) -> Vec<PeerEvent> {
    let event = |suffix: &str, name: &str, at: Millis| PeerEvent {
        id: format!("{}-{suffix}", p.id),
        event_name: name.into(),
        created_at: rfc3339(at),
        updated_at: rfc3339(at),
        participant_id: p.participant_id.clone(),
        peer_id: p.id.clone(),
        session_id: p.session_id.clone(),
        minutes_consumed: 0.0,
        reason: None,
        extra: Default::default(),
    };
    let mut out = vec![event("joining", "PEER_JOINING", p.joined_at)];
    if let Some(l) = p.left_at {
        out.push(PeerEvent {
            minutes_consumed: p.presence_ms(now) as f64 / 60_000.0,
            reason: Some(p.leave_reason.clone()),
            ..event("leaving", "PEER_LEAVING", l)
        });
    }
    out
}

/// The presences of a session: per peer (raw) or per participant over the session and its
/// breakout rooms (consolidated).
async fn presences(s: &AppState, session: &SessionRow, consolidated: bool) -> ApiResult<Vec<Presence>> {
    if !consolidated {
        let peers = s.store.session_peers(std::slice::from_ref(&session.id)).await?;
        return Ok(peers.into_iter().map(|p| Presence { peers: vec![p] }).collect());
    }
    let mut ids = vec![session.id.clone()];
    let mut i = 0;
    while i < ids.len() {
        for c in s.store.child_sessions(&ids[i]).await? {
            ids.push(c.id);
        }
        i += 1;
    }
    let peers = s.store.session_peers(&ids).await?;
    // Rows in the order their participants first appear; one map lookup per peer.
    let mut out: Vec<Presence> = vec![];
    let mut row_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for p in peers {
        match row_of.get(&p.participant_id) {
            Some(&i) => out[i].peers.push(p),
            None => {
                row_of.insert(p.participant_id.clone(), out.len());
                out.push(Presence { peers: vec![p] });
            }
        }
    }
    // The row of a participant who was in the main session leads with that peer.
    for x in out.iter_mut() {
        x.peers.sort_by_key(|p| (p.session_id != session.id, p.joined_at));
    }
    Ok(out)
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/participants", tag = "sessions",
    params(AppScope, SessionPath, Page, ParticipantsQuery),
    responses((status = 200, description = "`data.participants`: who was in the session, with presence in minutes", body = rtk_api::Envelope<SessionParticipants>),
              Read))]
pub(super) async fn session_participants(
    State(s): State<AppState>,
    scope: AppScope,
    Path(p): Path<SessionPath>,
    page: Page,
    Query(q): Query<ParticipantsQuery>,
) -> ApiResult<Response> {
    let consolidated = match q.view.as_deref().map(str::trim) {
        None | Some("") | Some("raw") => false,
        Some("consolidated") => true,
        Some(o) => return Err(bad_param("view", format!("must be raw or consolidated, got {o:?}"))),
    };
    let by_duration = match q.sort_by.as_deref().map(str::trim) {
        None | Some("") | Some("joinedAt") => false,
        Some("duration") => true,
        Some(o) => return Err(bad_param("sort_by", format!("must be joinedAt or duration, got {o:?}"))),
    };
    let desc = crate::http::sort_order(q.sort_order.as_deref(), false)?;
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    let now = s.now();
    let events = q.include_peer_events == Some(true);
    let needle = q.search.as_deref().map(|x| x.trim().to_lowercase()).filter(|x| !x.is_empty());
    if !consolidated && needle.is_none() {
        // One row per peer: a page read from the indexes in the order asked for; every peer
        // of the session is counted in its `peer_count`.
        let order = if by_duration { PeerOrder::Duration } else { PeerOrder::JoinedAt };
        let peers =
            s.store.session_peers_page(&session.id, order, desc, now, page.limit(), page.offset()).await?;
        let participants: Vec<SessionParticipant> =
            peers.into_iter().map(|p| Presence { peers: vec![p] }.view(now, events)).collect();
        let paging = page.paging(session.peer_count, participants.len());
        return Ok(crate::http::page_of(
            SessionParticipants { participants, extra: Default::default() },
            paging,
        ));
    }
    let mut rows = presences(&s, &session, consolidated).await?;
    if let Some(needle) = needle {
        rows.retain(|r| {
            let f = r.first();
            f.display_name.as_deref().unwrap_or("").to_lowercase().contains(&needle)
                || f.custom_participant_id.to_lowercase().contains(&needle)
        });
    }
    rows.sort_by_cached_key(|r| {
        (if by_duration { r.duration_ms(now) } else { r.joined_at() }, r.first().id.clone())
    });
    if desc {
        rows.reverse();
    }
    let total = rows.len() as i64;
    let participants: Vec<SessionParticipant> = rows
        .iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .map(|r| r.view(now, events))
        .collect();
    let paging = page.paging(total, participants.len());
    Ok(crate::http::page_of(SessionParticipants { participants, extra: Default::default() }, paging))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DetailQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_bool")]
    #[param(value_type = Option<String>, pattern = r"^\s*([tT][rR][uU][eE]|[fF][aA][lL][sS][eE]|1|0)?\s*$")]
    include_peer_events: Option<bool>,
    /// Accepted for compatibility (device_info, events, …); every section rtk has is returned.
    filters: Option<String>,
}

/// Device metadata sent with `join`: as sent (`device`), and its known keys of the right
/// types shaped as the SDKs' `device_info` and browser metadata.
fn device_sections(device: Option<&str>) -> (Option<RawJson>, DeviceInfo, BrowserMetadata) {
    let raw = device.and_then(|d| RawJson::from_text(d.to_string()));
    // Only an object has keys to pick; anything else (or nothing) leaves them empty.
    let d: serde_json::Map<String, Value> = match device.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => m,
        _ => Default::default(),
    };
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
    let info = DeviceInfo {
        os: text("os"),
        os_version: text("os_version"),
        cpus: d.get("cpus").and_then(|v| match v {
            Value::Number(n) => Some(n.clone()),
            _ => None,
        }),
        is_mobile: d.get("is_mobile").and_then(Value::as_bool),
    };
    let browser = BrowserMetadata {
        browser: text("browser"),
        browser_version: text("browser_version"),
        engine: text("engine"),
        user_agent: text("user_agent"),
    };
    (raw, info, browser)
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/participants/{participant_id}", tag = "sessions",
    params(AppScope, SessionPath, SessionParticipantPath, DetailQuery),
    responses((status = 200, description = "`data.participant`: the peer (or the participant's peers together) and its device", body = rtk_api::Envelope<SessionParticipantDetails>),
              Read))]
pub(super) async fn session_participant(
    State(s): State<AppState>,
    scope: AppScope,
    Path(SessionPeerPath { session_id, participant_id: pid }): Path<SessionPeerPath>,
    Query(q): Query<DetailQuery>,
) -> ApiResult<Response> {
    let _ = &q.filters;
    let session = find_session(&s, &scope.app.id, &session_id).await?;
    let now = s.now();
    let mine: Vec<PeerRow> = s.store.session_peer_or_participant(&session.id, &pid).await?;
    if mine.is_empty() {
        return Err(ApiError::not_found(format!(
            "No participant found with id {pid} in session {session_id}"
        )));
    }
    let presence = Presence { peers: mine };
    let (device, device_info, _) = device_sections(presence.first().device.as_deref());
    let participant = SessionParticipant {
        peer_stats: Some(PeerStats { device_info }),
        device: Some(device),
        ..presence.view(now, q.include_peer_events == Some(true))
    };
    Ok(crate::http::ok(SessionParticipantDetails { participant, extra: Default::default() }))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/peer-report/{peer_id}", tag = "sessions",
    params(AppScope, PeerPath, DetailQuery),
    responses((status = 200, description = "`data.participant`: the peer and its report", body = rtk_api::Envelope<SessionParticipantDetails>),
              Read))]
pub(super) async fn peer_report(
    State(s): State<AppState>,
    scope: AppScope,
    Path(PeerPath { peer_id }): Path<PeerPath>,
    Query(q): Query<DetailQuery>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found(format!("No peer found with id {peer_id}"));
    let peer = s.store.peer(&peer_id).await?.ok_or_else(not_found)?;
    // The peer's session must be of this app.
    if s.store.session(&scope.app.id, &peer.session_id).await?.is_none() {
        return Err(not_found());
    }
    let now = s.now();
    let presence = Presence { peers: vec![peer] };
    let p = presence.first();
    let (device, device_info, browser_metadata) = device_sections(p.device.as_deref());
    let participant = SessionParticipant {
        role: Some(p.preset_name.clone()),
        peer_report: Some(PeerReport {
            metadata: PeerMetadata { device_info, browser_metadata },
            quality: Default::default(),
        }),
        device: Some(device),
        ..presence.view(now, q.include_peer_events == Some(true))
    };
    Ok(crate::http::ok(SessionParticipantDetails { participant, extra: Default::default() }))
}
