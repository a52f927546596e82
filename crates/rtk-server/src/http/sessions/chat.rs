//! A session's chat: one page of it inline with a download link, and the CSV behind the link.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use rtk_api::sessions::{ChatMessage, SessionChat};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::find_session;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::export::csv_field;
use crate::http::openapi::Read;
use crate::http::scope::{AppScope, SessionPath};
use crate::http::{Page, Path};
use crate::state::AppState;
use crate::tokens::Expiring;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(session_chat))
}

/// Claims of a chat export link.
#[derive(Debug, Serialize, Deserialize)]
struct ExportClaims {
    typ: String,
    session_id: String,
    app_id: String,
    exp: i64,
}

impl ExportClaims {
    /// The claims of a link to `session_id`'s export, valid until `exp` (Unix seconds).
    fn new(session_id: &str, app_id: &str, exp: i64) -> Self {
        ExportClaims { typ: "chat_export".into(), session_id: session_id.into(), app_id: app_id.into(), exp }
    }
}

impl Expiring for ExportClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// How long a chat download link stays valid.
pub const EXPORT_TTL_SECS: i64 = 3600;

/// Makes the chat download links of `meeting.chatSynced`: valid for `ttl_secs` (the webhook
/// retry horizon plus an hour, so the last retry still carries a working link).
#[derive(Debug)]
pub struct ChatLinker {
    pub keys: crate::tokens::KeyRing,
    /// The public base URL (`Config::public_base`).
    pub base: String,
    pub ttl_secs: i64,
    /// `rtmp://host:port` of the RTMP ingest; `None`: livestreaming is off.
    pub rtmp_base: Option<String>,
}

impl crate::store::ChatLinks for ChatLinker {
    fn livestream_urls(&self, livestream_id: &str) -> Option<(String, String)> {
        let rtmp = self.rtmp_base.as_deref()?;
        Some(crate::livestreams::urls(rtmp, &self.base, livestream_id))
    }

    fn chat_link(
        &self,
        session_id: &str,
        app_id: &str,
        now: crate::clock::Millis,
    ) -> Option<(String, crate::clock::Millis)> {
        let exp = now / 1000 + self.ttl_secs;
        match self.keys.sign_loaded(&ExportClaims::new(session_id, app_id, exp)) {
            Ok(token) => Some((format!("{}/chat-exports/{token}", self.base), exp * 1000)),
            Err(e) => {
                tracing::error!(error = %e, "cannot sign a chat download link");
                None
            }
        }
    }

    fn transcript_link(
        &self,
        session_id: &str,
        _app_id: &str,
        now: crate::clock::Millis,
    ) -> Option<(String, crate::clock::Millis)> {
        let exp = now / 1000 + self.ttl_secs;
        crate::transcripts::link(
            &self.keys,
            &self.base,
            "transcript",
            session_id,
            Some(crate::transcripts::Format::Csv),
            exp,
        )
    }
}

#[utoipa::path(get, path = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}/chat", tag = "sessions",
    params(AppScope, SessionPath, Page),
    responses((status = 200, description = "`data.chat_download_url` (a CSV of all the messages, valid for an hour) and its expiry; `data.messages` lists one page of them inline (`page_no`, `per_page`; `paging` as on lists)", body = rtk_api::Envelope<SessionChat>),
              Read))]
pub(super) async fn session_chat(
    State(s): State<AppState>,
    scope: AppScope,
    headers: HeaderMap,
    Path(p): Path<SessionPath>,
    page: Page,
) -> ApiResult<Response> {
    let session = find_session(&s, &scope.app.id, &p.session_id).await?;
    let now = s.now();
    let exp = now / 1000 + EXPORT_TTL_SECS;
    let token = s.keys.sign(&ExportClaims::new(&session.id, &scope.app.id, exp)).await?;
    let base = download_base(&s.config, &headers);
    let total = s.store.chat_count(&session.id).await?;
    let messages: Vec<ChatMessage> = s
        .store
        .chat_page(&session.id, page.limit(), page.offset())
        .await?
        .into_iter()
        .map(|c| ChatMessage {
            sent_at: rfc3339(c.sent_at),
            id: c.id,
            peer_id: c.peer_id,
            participant_id: c.participant_id,
            display_name: c.display_name,
            message: c.message,
            extra: Default::default(),
        })
        .collect();
    let paging = page.paging(total, messages.len());
    let chat = SessionChat {
        chat_download_url: format!("{base}/chat-exports/{token}"),
        chat_download_url_expiry: rfc3339(exp * 1000),
        messages: Some(messages),
        extra: Default::default(),
    };
    Ok(crate::http::page_of(chat, paging))
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
pub(super) fn download_base(config: &crate::config::Config, headers: &HeaderMap) -> String {
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

/// The CSV behind a chat download link (the link is the credential, as a presigned URL is).
pub(super) async fn chat_export(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let token = token.trim_end_matches(".csv");
    let claims =
        match crate::http::link_claims::<ExportClaims>(&s, token, "export", |c| c.typ == "chat_export").await
        {
            Ok(c) => c,
            Err(r) => return r,
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
