//! The one error type that leaves the server: every failure becomes the API's error envelope
//! with the right HTTP status.
//!
//! Each layer has its own error type — [`crate::store::StoreError`],
//! [`crate::engine::EngineError`], [`crate::tokens::SignError`] — and each is mapped to the
//! envelope here, once. What is not the caller's fault is a 500 (or a 503 when the store is
//! unreachable) whose cause is logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rtk_api::ErrorEnvelope;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// At most [`MAX_LISTED_ERRORS`] messages, each at most [`MAX_MESSAGE_BYTES`].
    pub messages: Vec<String>,
    /// How many more errors were found than are listed.
    pub omitted: usize,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An error answer lists at most this many field errors, then one "and N more errors" item,
/// so its size is bounded whatever the request (a 1 MB body can hold 500,000 bad items).
pub const MAX_LISTED_ERRORS: usize = 20;
/// A listed message longer than this is cut (paths can quote keys taken from the request).
pub const MAX_MESSAGE_BYTES: usize = 512;

/// Validation errors as they are collected: the first [`MAX_LISTED_ERRORS`] are kept, the
/// rest only counted (and, through [`FieldErrors::push_with`], never even formatted).
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    listed: Vec<String>,
    omitted: usize,
}

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, message: impl Into<String>) {
        self.push_with(|| message.into())
    }
    /// Records an error; `message` is only called while the list has room.
    pub fn push_with(&mut self, message: impl FnOnce() -> String) {
        if self.is_full() {
            self.omitted += 1;
        } else {
            self.listed.push(cut(message()));
        }
    }
    /// True when further errors are only counted.
    pub fn is_full(&self) -> bool {
        self.listed.len() >= MAX_LISTED_ERRORS
    }
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }
    /// Every error found, listed or not.
    pub fn len(&self) -> usize {
        self.listed.len() + self.omitted
    }
    /// The listed messages.
    pub fn listed(&self) -> &[String] {
        &self.listed
    }
    pub fn contains(&self, message: &str) -> bool {
        self.listed.iter().any(|m| m == message)
    }
}

impl From<Vec<String>> for FieldErrors {
    fn from(messages: Vec<String>) -> Self {
        let mut e = FieldErrors::new();
        for m in messages {
            e.push(m);
        }
        e
    }
}

/// `m`, cut at a character boundary to at most [`MAX_MESSAGE_BYTES`] (plus an ellipsis).
fn cut(mut m: String) -> String {
    if m.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !m.is_char_boundary(end) {
            end -= 1;
        }
        m.truncate(end);
        m.push('…');
    }
    m
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, messages: vec![cut(message.into())], omitted: 0 }
    }
    /// An error listing `messages` (capped like every list of errors).
    pub fn many(status: StatusCode, messages: impl Into<FieldErrors>) -> Self {
        let FieldErrors { listed, omitted } = messages.into();
        Self { status, messages: listed, omitted }
    }
    /// `Ok` when there are no validation errors, else one 400 listing them (capped).
    pub fn check(errors: impl Into<FieldErrors>) -> ApiResult<()> {
        let errors = errors.into();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self::many(StatusCode::BAD_REQUEST, errors))
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    pub fn unprocessable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, m)
    }
    /// A 500 with no cause to log (a panic, already logged where it was caught).
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
    /// A 500 whose cause is logged (and not sent).
    pub fn internal_because(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::internal()
    }
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, m)
    }
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope::with_omitted(self.status.as_u16(), self.messages.clone(), self.omitted)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.messages.join("; "))?;
        if self.omitted > 0 {
            write!(f, " (and {} more)", self.omitted)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.envelope())).into_response()
    }
}

impl From<crate::engine::EngineError> for ApiError {
    fn from(e: crate::engine::EngineError) -> Self {
        use crate::engine::EngineError;
        match e {
            EngineError::NoActiveSession(m) => {
                ApiError::not_found(format!("No active session found for meeting_id {m}"))
            }
            EngineError::MeetingGone(m) => ApiError::not_found(format!("No meeting found with id {m}")),
            EngineError::MeetingInactive(m) => ApiError::conflict(format!("meeting {m} is INACTIVE")),
            EngineError::PeerGone(p) => ApiError::not_found(format!("peer {p} is not in a live session")),
            EngineError::Invalid(m) => ApiError::bad_request(m),
            e @ (EngineError::ChatFull(_) | EngineError::TranscriptFull(_)) => {
                ApiError::conflict(e.to_string())
            }
            e @ EngineError::NodeFenced => ApiError::unavailable(e.to_string()),
            EngineError::Store(s) => s.into(),
        }
    }
}

impl From<crate::tokens::SignError> for ApiError {
    fn from(e: crate::tokens::SignError) -> Self {
        match e {
            crate::tokens::SignError::Store(s) => s.into(),
            other => ApiError::internal_because(format_args!("token signing: {other}")),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            StoreError::Db(err) => {
                tracing::error!(error = %err, "store error");
                if err.is_unavailable() {
                    ApiError::unavailable("the store is unavailable, try again")
                } else {
                    ApiError::internal()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineError;
    use crate::store::StoreError;
    use crate::tokens::SignError;

    #[test]
    fn each_layer_maps_once_to_its_status() {
        let status = |e: ApiError| e.status;
        assert_eq!(
            status(SignError::NoActiveKey.into()),
            StatusCode::INTERNAL_SERVER_ERROR,
            "signing is never the caller's fault"
        );
        assert_eq!(status(StoreError::Invalid("x".into()).into()), StatusCode::BAD_REQUEST);
        assert_eq!(status(StoreError::Conflict("x".into()).into()), StatusCode::CONFLICT);
        assert_eq!(
            status(StoreError::Db(crate::store::DbError::Postgres(sqlx::Error::PoolTimedOut)).into()),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(StoreError::Db(crate::store::DbError::Postgres(sqlx::Error::RowNotFound)).into()),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            status(
                SignError::Store(StoreError::Db(crate::store::DbError::Postgres(sqlx::Error::PoolTimedOut)))
                    .into()
            ),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(status(EngineError::NoActiveSession("m".into()).into()), StatusCode::NOT_FOUND);
        assert_eq!(status(EngineError::MeetingInactive("m".into()).into()), StatusCode::CONFLICT);
        assert_eq!(
            status(EngineError::Store(StoreError::NotFound("x".into())).into()),
            StatusCode::NOT_FOUND
        );
        let e = ApiError::internal_because("the cause");
        assert_eq!(e.envelope().error.message, "internal error", "the cause is logged, not sent");
    }
}
