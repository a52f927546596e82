//! The one error type that leaves the server: every failure becomes the API's error envelope
//! with the right HTTP status.

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
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
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
