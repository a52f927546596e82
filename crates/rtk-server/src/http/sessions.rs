//! Sessions: the seed endpoint `GET …/{app_id}/sessions/{session_id}` and its family — the
//! sessions list, a session's participants, a participant's details, the peer report and the
//! chat export. Sessions exist because participants joined through the gateway.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::apps::find_app;
use super::{PageParams, Path, Query};
use crate::auth::Account;
use crate::clock::{rfc3339, Millis};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{PeerOrder, PeerRow, SessionFilter, SessionRow};
use crate::tokens::Expiring;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
        .routes(routes!(session_participants))
        .routes(routes!(session_participant))
        .routes(routes!(peer_report))
        .routes(routes!(session_chat))
}

pub fn chat_export_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/chat-exports/{token}", axum::routing::get(chat_export))
}

/// The API view of a session at `now` (RealtimeKit's session object), serialized directly.
#[derive(Debug, Clone)]
pub struct SessionOut {
    pub id: String,
    pub associated_id: String,
    pub meeting_display_name: String,
    pub organization_id: String,
    pub status: &'static str,
    pub live_participants: i64,
    pub max_concurrent_participants: i64,
    pub minutes_consumed: f64,
    pub started_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
    pub parent_session_id: Option<String>,
    pub breakout_rooms: Option<Vec<SessionOut>>,
}

impl SessionOut {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("associated_id", &self.associated_id)?;
        m.serialize_entry("meeting_display_name", &self.meeting_display_name)?;
        m.serialize_entry("organization_id", &self.organization_id)?;
        m.serialize_entry("type", "meeting")?;
        m.serialize_entry("status", self.status)?;
        m.serialize_entry("live_participants", &self.live_participants)?;
        m.serialize_entry("max_concurrent_participants", &self.max_concurrent_participants)?;
        m.serialize_entry("minutes_consumed", &self.minutes_consumed)?;
        m.serialize_entry("started_at", &self.started_at)?;
        m.serialize_entry("created_at", &self.created_at)?;
        m.serialize_entry("updated_at", &self.updated_at)?;
        if let Some(e) = &self.ended_at {
            m.serialize_entry("ended_at", e)?;
        }
        m.serialize_entry("meta", &EmptyObject)?;
        if let Some(p) = &self.parent_session_id {
            m.serialize_entry("parent_session_id", p)?;
        }
        if let Some(b) = &self.breakout_rooms {
            m.serialize_entry("breakout_rooms", b)?;
        }
        Ok(())
    }
}

struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

impl Serialize for SessionOut {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.write(&mut m)?;
        m.end()
    }
}

/// The session-details response body: the session's fields flat under `data` (current SDKs)
/// and the same object again as `data.session` (the seed's SDK generation). The session is
/// serialised once and its bytes written twice.
pub fn details_body(view: &SessionOut) -> serde_json::Result<Vec<u8>> {
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

pub fn session_view(s: &SessionRow, now: Millis) -> SessionOut {
    let st = s.state(now);
    SessionOut {
        id: s.id.clone(),
        associated_id: s.meeting_id.clone(),
        meeting_display_name: s.meeting_title.clone().unwrap_or_default(),
        organization_id: s.app_id.clone(),
        status: if st.live { "LIVE" } else { "ENDED" },
        live_participants: st.live_participants,
        max_concurrent_participants: s.max_live,
        minutes_consumed: st.minutes_consumed,
        started_at: rfc3339(s.started_at),
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(st.updated_at),
        ended_at: st.ended_at.map(rfc3339),
        parent_session_id: s.parent_session_id.clone(),
        breakout_rooms: None,
    }
}

pub async fn find_session(s: &AppState, app_id: &str, id: &str) -> ApiResult<SessionRow> {
    s.store
        .session(app_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No session found with id {id}")))
}

/// `breakout_rooms`: the child sessions of `session`, each a session object.
pub async fn breakout_rooms(s: &AppState, session: &SessionRow, now: Millis) -> ApiResult<Vec<SessionOut>> {
    let children = s.store.child_sessions(&session.id).await?;
    Ok(children.iter().map(|c| session_view(c, now)).collect())
}

fn bad_param(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid query parameter \"{name}\": {why}"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    page_no: Option<f64>,
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    per_page: Option<f64>,
    /// Only sessions of this meeting.
    associated_id: Option<String>,
    /// `LIVE` or `ENDED`.
    status: Option<String>,
    /// Only sessions started at or after this RFC 3339 time.
    start_time: Option<String>,
    /// Only sessions started at or before this RFC 3339 time.
    end_time: Option<String>,
    /// A meeting title (substring, any case), a meeting id or a session id.
    search: Option<String>,
    /// `MIN:MAX`: only sessions that MIN to MAX peers joined (either side may be empty).
    participants: Option<String>,
    /// `createdAt` (default) or `minutesConsumed`.
    sort_by: Option<String>,
    /// `ASC` or `DESC` (default).
    sort_order: Option<String>,
}

fn participants_range(v: Option<&str>) -> ApiResult<Option<(i64, i64)>> {
    let Some(v) = v.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let parse = |x: &str, d: i64| -> ApiResult<i64> {
        let x = x.trim();
        if x.is_empty() {
            return Ok(d);
        }
        x.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad_param("participants", format!("{x:?} is not a count")))
    };
    let (lo, hi) = match v.split_once(':') {
        Some((a, b)) => (parse(a, 0)?, parse(b, i64::MAX)?),
        None => {
            let n = parse(v, 0)?;
            (n, n)
        }
    };
    if lo > hi {
        return Err(bad_param("participants", "MIN is above MAX"));
    }
    Ok(Some((lo, hi)))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions", tag = "sessions",
    params(("account_id" = String, Path), ("app_id" = String, Path), ListQuery),
    responses((status = 200, description = "`data.sessions`: the app's sessions (newest first by default), with `paging`", body = Object)))]
async fn list_sessions(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let page = PageParams { page_no: q.page_no, per_page: q.per_page }.page()?;
    let live = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("LIVE") => Some(true),
        Some("ENDED") => Some(false),
        Some(o) => return Err(bad_param("status", format!("must be LIVE or ENDED, got {o:?}"))),
    };
    let sort_by_minutes = match q.sort_by.as_deref().map(str::trim) {
        None | Some("") | Some("createdAt") => false,
        Some("minutesConsumed") => true,
        Some(o) => {
            return Err(bad_param("sort_by", format!("must be createdAt or minutesConsumed, got {o:?}")))
        }
    };
    let filter = SessionFilter {
        associated_id: q.associated_id.clone().filter(|x| !x.trim().is_empty()),
        live,
        start_time: super::time_param(q.start_time.as_deref(), "start_time")?,
        end_time: super::time_param(q.end_time.as_deref(), "end_time")?,
        search: q.search.clone().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()),
        participants: participants_range(q.participants.as_deref())?,
        sort_by_minutes,
        descending: super::sort_order(q.sort_order.as_deref(), true)?,
    };
    let app = find_app(&s, &account, &app_id).await?;
    let now = s.now();
    let (rows, total) = s.store.list_sessions(&app.id, &filter, now, page.limit(), page.offset()).await?;
    let sessions: Vec<SessionOut> = rows.iter().map(|r| session_view(r, now)).collect();
    let paging = page.paging(total, sessions.len());
    Ok(axum::Json(json!({"success": true, "data": {"sessions": sessions}, "paging": paging})).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DetailsQuery {
    /// List the breakout-room (child) sessions under `breakout_rooms`.
    #[serde(default, deserialize_with = "crate::http::de::opt_bool")]
    include_breakout_rooms: Option<bool>,
}

/// The seed endpoint. `data.session` is the shape of the seed's SDK generation; the same
/// fields also sit directly under `data` for current SDKs.
#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}", tag = "sessions",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("session_id" = String, Path), DetailsQuery),
    responses((status = 200, description = "The session (as `data.session` and flat under `data`)", body = Object),
              (status = 404, description = "No such session", body = rtk_api::ErrorEnvelope)))]
async fn get_session(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, session_id)): Path<(String, String, String)>,
    Query(q): Query<DetailsQuery>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    let session = find_session(&s, &app.id, &session_id).await?;
    let now = s.now();
    let mut view = session_view(&session, now);
    if q.include_breakout_rooms == Some(true) {
        view.breakout_rooms = Some(breakout_rooms(&s, &session, now).await?);
    }
    Ok(json_bytes(details_body(&view).map_err(|_| ApiError::internal())?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ParticipantsQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    page_no: Option<f64>,
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    per_page: Option<f64>,
    /// Add each peer's join/leave events under `peer_events`.
    #[serde(default, deserialize_with = "crate::http::de::opt_bool")]
    include_peer_events: Option<bool>,
    /// A display name or custom participant id (substring, any case).
    search: Option<String>,
    /// `joinedAt` (default) or `duration`.
    sort_by: Option<String>,
    /// `ASC` (default) or `DESC`.
    sort_order: Option<String>,
    /// `raw` (default): one row per peer of this session. `consolidated`: one row per
    /// participant, adding their time in this session's breakout rooms.
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

    fn view(&self, now: Millis, events: bool) -> Value {
        let f = self.first();
        let mut v = json!({
            "id": f.id,
            "user_id": f.participant_id,
            "participant_id": f.participant_id,
            "custom_participant_id": f.custom_participant_id,
            "display_name": f.display_name.clone().unwrap_or_default(),
            "preset_name": f.preset_name,
            "session_id": f.session_id,
            "joined_at": rfc3339(self.joined_at()),
            "left_at": self.left_at().map(rfc3339),
            "duration": self.duration_ms(now) as f64 / 60_000.0,
            "created_at": rfc3339(f.created_at),
            "updated_at": rfc3339(self.updated_at()),
        });
        if events {
            v["peer_events"] = Value::Array(self.peers.iter().flat_map(|p| peer_events(p, now)).collect());
        }
        v
    }
}

fn peer_events(p: &PeerRow, now: Millis) -> Vec<Value> {
    let mut out = vec![json!({
        "id": format!("{}-joining", p.id), "event_name": "PEER_JOINING",
        "created_at": rfc3339(p.joined_at), "updated_at": rfc3339(p.joined_at),
        "participant_id": p.participant_id, "peer_id": p.id, "session_id": p.session_id,
        "minutes_consumed": 0.0,
    })];
    if let Some(l) = p.left_at {
        out.push(json!({
            "id": format!("{}-leaving", p.id), "event_name": "PEER_LEAVING",
            "created_at": rfc3339(l), "updated_at": rfc3339(l),
            "participant_id": p.participant_id, "peer_id": p.id, "session_id": p.session_id,
            "minutes_consumed": p.presence_ms(now) as f64 / 60_000.0,
            "reason": p.leave_reason,
        }));
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
    let mut out: Vec<Presence> = vec![];
    for p in peers {
        match out.iter_mut().find(|x| x.first().participant_id == p.participant_id) {
            Some(x) => x.peers.push(p),
            None => out.push(Presence { peers: vec![p] }),
        }
    }
    // The row of a participant who was in the main session leads with that peer.
    for x in out.iter_mut() {
        x.peers.sort_by_key(|p| (p.session_id != session.id, p.joined_at));
    }
    Ok(out)
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/participants", tag = "sessions",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("session_id" = String, Path), ParticipantsQuery),
    responses((status = 200, description = "`data.participants`: who was in the session, with presence in minutes", body = Object)))]
async fn session_participants(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, session_id)): Path<(String, String, String)>,
    Query(q): Query<ParticipantsQuery>,
) -> ApiResult<Response> {
    let page = PageParams { page_no: q.page_no, per_page: q.per_page }.page()?;
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
    let desc = super::sort_order(q.sort_order.as_deref(), false)?;
    let app = find_app(&s, &account, &app_id).await?;
    let session = find_session(&s, &app.id, &session_id).await?;
    let now = s.now();
    let events = q.include_peer_events == Some(true);
    let needle = q.search.as_deref().map(|x| x.trim().to_lowercase()).filter(|x| !x.is_empty());
    if !consolidated && needle.is_none() {
        // One row per peer: a page read from the indexes in the order asked for; every peer
        // of the session is counted in its `peer_count`.
        let order = if by_duration { PeerOrder::Duration } else { PeerOrder::JoinedAt };
        let peers =
            s.store.session_peers_page(&session.id, order, desc, now, page.limit(), page.offset()).await?;
        let items: Vec<Value> =
            peers.into_iter().map(|p| Presence { peers: vec![p] }.view(now, events)).collect();
        let paging = page.paging(session.peer_count, items.len());
        return Ok(axum::Json(json!({"success": true, "data": {"participants": items}, "paging": paging}))
            .into_response());
    }
    let mut rows = presences(&s, &session, consolidated).await?;
    if let Some(needle) = needle {
        rows.retain(|r| {
            let f = r.first();
            f.display_name.as_deref().unwrap_or("").to_lowercase().contains(&needle)
                || f.custom_participant_id.to_lowercase().contains(&needle)
        });
    }
    rows.sort_by_key(|r| {
        (if by_duration { r.duration_ms(now) } else { r.joined_at() }, r.first().id.clone())
    });
    if desc {
        rows.reverse();
    }
    let total = rows.len() as i64;
    let items: Vec<Value> = rows
        .iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .map(|r| r.view(now, events))
        .collect();
    let paging = page.paging(total, items.len());
    Ok(axum::Json(json!({"success": true, "data": {"participants": items}, "paging": paging}))
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DetailQuery {
    #[serde(default, deserialize_with = "crate::http::de::opt_bool")]
    include_peer_events: Option<bool>,
    /// Accepted for compatibility (device_info, events, …); every section rtk has is returned.
    filters: Option<String>,
}

/// A device field and the JSON type it must have.
type Field = (&'static str, fn(&Value) -> bool);

/// Device metadata sent with `join`, shaped as the SDKs' `device_info` (known keys with the
/// right types only; the whole object is also kept under `device`).
fn device_sections(device: Option<&str>) -> (Value, Value, Value) {
    let d: Value = device.and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null);
    let pick = |keys: &[Field]| -> Value {
        let mut m = Map::new();
        for (k, ok) in keys {
            if let Some(v) = d.get(*k).filter(|v| ok(v)) {
                m.insert((*k).to_string(), v.clone());
            }
        }
        Value::Object(m)
    };
    let s = Value::is_string as fn(&Value) -> bool;
    let n = Value::is_number as fn(&Value) -> bool;
    let b = Value::is_boolean as fn(&Value) -> bool;
    let device_info = pick(&[("os", s), ("os_version", s), ("cpus", n), ("is_mobile", b)]);
    let browser = pick(&[("browser", s), ("browser_version", s), ("engine", s), ("user_agent", s)]);
    (d, device_info, browser)
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/participants/{participant_id}", tag = "sessions",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("session_id" = String, Path),
           ("participant_id" = String, Path, description = "A peer id (as the participants list shows) or a participant id"), DetailQuery),
    responses((status = 200, description = "`data.participant`", body = Object)))]
async fn session_participant(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, session_id, pid)): Path<(String, String, String, String)>,
    Query(q): Query<DetailQuery>,
) -> ApiResult<Response> {
    let _ = &q.filters;
    let app = find_app(&s, &account, &app_id).await?;
    let session = find_session(&s, &app.id, &session_id).await?;
    let now = s.now();
    let mine: Vec<PeerRow> = s.store.session_peer_or_participant(&session.id, &pid).await?;
    if mine.is_empty() {
        return Err(ApiError::not_found(format!(
            "No participant found with id {pid} in session {session_id}"
        )));
    }
    let presence = Presence { peers: mine };
    let mut v = presence.view(now, q.include_peer_events == Some(true));
    let (device, device_info, _) = device_sections(presence.first().device.as_deref());
    v["peer_stats"] = json!({ "device_info": device_info });
    v["device"] = device;
    Ok(super::ok(json!({ "participant": v })))
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/peer-report/{peer_id}", tag = "sessions",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("peer_id" = String, Path), DetailQuery),
    responses((status = 200, description = "`data.participant`: the peer and its report", body = Object)))]
async fn peer_report(
    State(s): State<AppState>,
    account: Account,
    Path((_, app_id, peer_id)): Path<(String, String, String)>,
    Query(q): Query<DetailQuery>,
) -> ApiResult<Response> {
    let app = find_app(&s, &account, &app_id).await?;
    let not_found = || ApiError::not_found(format!("No peer found with id {peer_id}"));
    let peer = s.store.peer(&peer_id).await?.ok_or_else(not_found)?;
    // The peer's session must be of this app.
    find_session(&s, &app.id, &peer.session_id).await.map_err(|_| not_found())?;
    let now = s.now();
    let presence = Presence { peers: vec![peer] };
    let mut v = presence.view(now, q.include_peer_events == Some(true));
    let p = presence.first();
    v["role"] = p.preset_name.clone().into();
    let (device, device_info, browser) = device_sections(p.device.as_deref());
    v["peer_report"] =
        json!({ "metadata": { "device_info": device_info, "browser_metadata": browser }, "quality": {} });
    v["device"] = device;
    Ok(super::ok(json!({ "participant": v })))
}

/// Claims of a chat export link.
#[derive(Debug, Serialize, Deserialize)]
struct ExportClaims {
    typ: String,
    session_id: String,
    app_id: String,
    exp: i64,
}

impl Expiring for ExportClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// How long a chat download link stays valid.
pub const EXPORT_TTL_SECS: i64 = 3600;

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/chat", tag = "sessions",
    params(("account_id" = String, Path), ("app_id" = String, Path), ("session_id" = String, Path), PageParams),
    responses((status = 200, description = "`data.chat_download_url` (a CSV of all the messages, valid for an hour) and its expiry; `data.messages` lists one page of them inline (`page_no`, `per_page`; `paging` as on lists)", body = Object)))]
async fn session_chat(
    State(s): State<AppState>,
    account: Account,
    headers: HeaderMap,
    Path((_, app_id, session_id)): Path<(String, String, String)>,
    Query(paging): Query<PageParams>,
) -> ApiResult<Response> {
    let page = paging.page()?;
    let app = find_app(&s, &account, &app_id).await?;
    let session = find_session(&s, &app.id, &session_id).await?;
    let now = s.now();
    let exp = now / 1000 + EXPORT_TTL_SECS;
    let claims =
        ExportClaims { typ: "chat_export".into(), session_id: session.id.clone(), app_id: app.id, exp };
    let token = s.keys.sign(&claims).await?;
    let base = download_base(&s.config, &headers);
    let total = s.store.chat_count(&session.id).await?;
    let messages: Vec<Value> = s
        .store
        .chat_page(&session.id, page.limit(), page.offset())
        .await?
        .iter()
        .map(|c| {
            json!({"id": c.id, "peer_id": c.peer_id, "participant_id": c.participant_id,
                   "display_name": c.display_name, "message": c.message, "sent_at": rfc3339(c.sent_at)})
        })
        .collect();
    let paging = page.paging(total, messages.len());
    Ok(axum::Json(json!({
        "success": true,
        "data": {
            "chat_download_url": format!("{base}/chat-exports/{token}"),
            "chat_download_url_expiry": rfc3339(exp * 1000),
            "messages": messages,
        },
        "paging": paging,
    }))
    .into_response())
}

/// Messages read per step of a streamed chat export.
const EXPORT_BATCH: i64 = 500;

fn csv_rows(rows: &[crate::store::ChatRow]) -> String {
    let mut out = String::new();
    for c in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            csv_field(&c.id),
            rfc3339(c.sent_at),
            csv_field(&c.peer_id),
            csv_field(&c.participant_id),
            csv_field(c.display_name.as_deref().unwrap_or("")),
            csv_field(&c.message)
        ));
    }
    out
}

/// The base of links handed out: the configured public URL; behind a trusted proxy
/// (`trust_forwarded_headers`), the scheme and host it forwards. The client's own
/// `X-Forwarded-*` headers are not trusted otherwise: anyone can send them.
fn download_base(config: &crate::config::Config, headers: &HeaderMap) -> String {
    let base = config.public_base();
    if !config.trust_forwarded_headers {
        return base;
    }
    let header_str = |name: &str| {
        headers
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
    };
    let host = header_str("x-forwarded-host")
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c)));
    let scheme = header_str("x-forwarded-proto").filter(|p| p == "https" || p == "http");
    match (scheme, host) {
        (None, None) => base,
        (scheme, host) => {
            let (base_scheme, rest) = base.split_once("://").unwrap_or(("http", &base));
            let (base_host, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            format!(
                "{}://{}{path}",
                scheme.as_deref().unwrap_or(base_scheme),
                host.as_deref().unwrap_or(base_host)
            )
        }
    }
}

/// A CSV cell. Text a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or
/// carriage return: OWASP's CSV injection list) gets a leading `'`, so it shows as text.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV behind a chat download link (the link is the credential, as a presigned URL is).
async fn chat_export(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let token = token.trim_end_matches(".csv");
    let claims = match s.keys.verify_as::<ExportClaims>(token, s.now()).await {
        Ok(c) if c.typ == "chat_export" => c,
        Ok(_) | Err(crate::tokens::TokenError::Invalid) => {
            return ApiError::not_found("no such export").into_response();
        }
        Err(crate::tokens::TokenError::Expired) => {
            return ApiError::new(StatusCode::GONE, "this download link has expired").into_response()
        }
    };
    // The first batch is read before answering, so a store failure is still a proper error;
    // the rest is streamed a batch at a time, so an export costs one batch of memory however
    // long the chat.
    let store = s.store.clone();
    let session_id = claims.session_id;
    let first = match store.chat_after(&session_id, None, EXPORT_BATCH).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let head = String::from("id,sent_at,peer_id,participant_id,display_name,message\n");
    let batches = futures_util::stream::unfold(Some(first), move |batch| {
        let (store, session_id) = (store.clone(), session_id.clone());
        async move {
            let batch = batch?;
            if batch.is_empty() {
                return None;
            }
            let out = csv_rows(&batch);
            let next = match batch.last() {
                Some(last) if batch.len() as i64 == EXPORT_BATCH => {
                    match store.chat_after(&session_id, Some((last.sent_at, &last.id)), EXPORT_BATCH).await {
                        Ok(rows) => Some(rows),
                        Err(e) => {
                            tracing::error!(error = %e, "chat export: reading the next batch failed");
                            return Some((Err(std::io::Error::other("chat export interrupted")), None));
                        }
                    }
                }
                _ => None,
            };
            Some((Ok(bytes::Bytes::from(out)), next))
        }
    });
    use futures_util::StreamExt;
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(head)) })
        .chain(batches);
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], axum::body::Body::from_stream(body)).into_response()
}
