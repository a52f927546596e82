//! Extractors whose rejections are the API's error envelope, with field-level messages.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body. Malformed JSON (trailing data included) and wrong types are 400 with the
/// offending field named; a body over the limit is 413; a body declared as another media type
/// is 415.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = json_content_type(req.headers());
        let bytes = read_body(req, state.config.body_limit).await?;
        // An empty body is `{}` whatever it is labelled (SDKs label bodiless calls as JSON).
        if !blank(&bytes) {
            content_type?;
        }
        parse_json(&bytes).map(Json)
    }
}

/// `Ok` when the request's `Content-Type` lets its body be read as JSON: absent,
/// `application/json` (any parameters, e.g. `; charset=utf-8`), `application/*+json`, or
/// `application/x-www-form-urlencoded`, which is what `curl -d '{…}'` sends unless told
/// otherwise. Anything else (`text/plain`, `multipart/form-data`, …) is 415.
fn json_content_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let Some(v) = headers.get(axum::http::header::CONTENT_TYPE) else { return Ok(()) };
    let essence = v.to_str().ok().map(|s| s.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let ok = match essence.as_deref() {
        Some("application/json" | "application/x-www-form-urlencoded") => true,
        Some(e) => e.strip_prefix("application/").is_some_and(|sub| sub.ends_with("+json")),
        None => false,
    };
    if ok {
        return Ok(());
    }
    let shown = v.to_str().unwrap_or("(not text)");
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("unsupported Content-Type {shown:?}: send the body as application/json"),
    ))
}

fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// After refusing a body as too large, up to this many more bytes of it are read and thrown
/// away (for at most [`DRAIN_FOR`]) so the client, still sending, can read the 413: closing a
/// socket with unread data resets it, and the client would see a broken pipe instead.
const DRAIN_MAX: u64 = 64 * 1024 * 1024;
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// The request body, at most `limit` bytes; larger is 413.
async fn read_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large");
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = req.into_body().into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        drain(body).await;
        return Err(too_large());
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("cannot read request body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            drain(body).await;
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

async fn drain(mut body: axum::body::BodyDataStream) {
    let _ = tokio::time::timeout(DRAIN_FOR, async {
        let mut read = 0u64;
        while let Some(Ok(chunk)) = body.next().await {
            read += chunk.len() as u64;
            if read > DRAIN_MAX {
                break;
            }
        }
    })
    .await;
}

/// Parses a JSON body into `T`, naming the field at fault. An empty body reads as `{}`; one
/// JSON value is allowed, followed by whitespace only (`{…}{…}` is malformed).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if blank(bytes) { b"{}" } else { bytes };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("malformed JSON body: {inner}"))
        } else if path == "." {
            ApiError::bad_request(format!("invalid body: {inner}"))
        } else {
            ApiError::bad_request(format!(
                "invalid value for \"{path}\": {}",
                strip_position(&inner.to_string())
            ))
        }
    })?;
    de.end().map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))?;
    Ok(value)
}

fn strip_position(msg: &str) -> &str {
    match msg.find(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// Query parameters, with the parameter at fault named in errors.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(q));
        serde_path_to_error::deserialize(de).map(Query).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ApiError::bad_request(format!("invalid query: {inner}"))
            } else {
                ApiError::bad_request(format!("invalid query parameter \"{path}\": {inner}"))
            }
        })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// Path parameters; ids are opaque strings, so only undecodable paths are rejected.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::not_found(format!("not found: {}", e.body_text())))
    }
}

/// Paging query parameters shared by every list endpoint (`page_no`, `per_page`).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct PageParams {
    /// Page number, from 1. Default 1.
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    pub page_no: Option<f64>,
    /// Items per page, 1 to 100. Default 20.
    #[serde(default, deserialize_with = "crate::http::de::opt_number")]
    pub per_page: Option<f64>,
}

pub use rtk_api::limits::{DEFAULT_PER_PAGE, MAX_PAGE_NO, MAX_PER_PAGE};

/// A validated page request: the extractor reads `page_no` and `per_page` from the query
/// (400 naming the parameter when either is not a whole number in range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page_no: u64,
    pub per_page: u64,
}

impl Page {
    pub fn limit(&self) -> i64 {
        self.per_page as i64
    }
    pub fn offset(&self) -> i64 {
        ((self.page_no - 1) * self.per_page) as i64
    }
    pub fn paging(&self, total: i64, len: usize) -> rtk_api::Paging {
        rtk_api::Paging::new(total.max(0) as u64, self.page_no, self.per_page, len)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(p) = Query::<PageParams>::from_request_parts(parts, state).await?;
        p.page()
    }
}

impl utoipa::IntoParams for Page {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        let int = |min: u64, max: u64, default: u64| {
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer)
                .minimum(Some(min))
                .maximum(Some(max))
                .default(Some(default.into()))
        };
        vec![
            ParameterBuilder::new()
                .name("page_no")
                .parameter_in(ParameterIn::Query)
                .description(Some("Page number, from 1 (default 1)."))
                .schema(Some(int(1, MAX_PAGE_NO, 1)))
                .build(),
            ParameterBuilder::new()
                .name("per_page")
                .parameter_in(ParameterIn::Query)
                .description(Some("Items per page, 1 to 100 (default 20)."))
                .schema(Some(int(1, MAX_PER_PAGE, DEFAULT_PER_PAGE)))
                .build(),
        ]
    }
}

impl PageParams {
    pub fn page(&self) -> Result<Page, ApiError> {
        let page_no = whole(self.page_no, "page_no", 1, 1, MAX_PAGE_NO)?;
        let per_page = whole(self.per_page, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)?;
        Ok(Page { page_no, per_page })
    }
}

fn whole(v: Option<f64>, name: &str, default: u64, min: u64, max: u64) -> Result<u64, ApiError> {
    let Some(v) = v else { return Ok(default) };
    if v.fract() != 0.0 || v < min as f64 || v > max as f64 {
        return Err(ApiError::bad_request(format!(
            "invalid query parameter \"{name}\": must be a whole number from {min} to {max}"
        )));
    }
    Ok(v as u64)
}

/// An optional RFC 3339 time query parameter (a time without an offset reads as UTC).
pub fn time_param(v: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::clock::parse_rfc3339(s).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid query parameter \"{name}\": expected an RFC 3339 time, got {s:?}"
            ))
        }),
    }
}
