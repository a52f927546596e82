//! The one error type that leaves the server: every failure becomes the API's error envelope
//! with the right HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rtk_api::ErrorEnvelope;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub messages: Vec<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, messages: vec![message.into()] }
    }
    pub fn many(status: StatusCode, messages: Vec<String>) -> Self {
        Self { status, messages }
    }
    /// `Ok` when there are no validation errors, else one 400 listing them all.
    pub fn check(errors: Vec<String>) -> ApiResult<()> {
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
        ErrorEnvelope::new(self.status.as_u16(), self.messages.clone())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.messages.join("; "))
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
                if matches!(err, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
                    ApiError::unavailable("the store is unavailable, try again")
                } else {
                    ApiError::internal()
                }
            }
        }
    }
}
