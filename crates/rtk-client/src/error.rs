//! The SDK's one error type.

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use rtk_api::ErrorItem;

/// The method and URL of the request that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub method: Method,
    pub url: String,
}

impl std::fmt::Display for RequestInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// Everything that can go wrong calling the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status (after any retries). `errors` is the
    /// envelope's error list (`errors[]`, or `error` when only that is present); `body` the
    /// raw body.
    #[error("{request}: {status}: {}", summary(.errors, .body))]
    #[non_exhaustive]
    Api { request: RequestInfo, status: StatusCode, errors: Vec<ErrorItem>, body: Bytes },
    /// The request could not be sent or its response not read (connection refused or reset,
    /// timeout, …), after any retries.
    #[error("{request}: {source}")]
    #[non_exhaustive]
    Http {
        request: RequestInfo,
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx response whose body is not the expected shape.
    #[error("{request}: cannot read the {status} response: {source}")]
    #[non_exhaustive]
    Decode {
        request: RequestInfo,
        status: StatusCode,
        #[source]
        source: serde_json::Error,
        body: Bytes,
    },
    /// A call the SDK refuses to send (an empty path id, a bad base URL).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client could not be configured (no credentials, a bad base URL).
    #[error("client configuration: {0}")]
    Config(String),
}

fn summary(errors: &[ErrorItem], body: &Bytes) -> String {
    if errors.is_empty() {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            return "(no body)".into();
        }
        return text.chars().take(200).collect();
    }
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
}

impl Error {
    /// The HTTP status, for API and decode errors.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Http { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The envelope's error list (empty unless this is an API error with one).
    pub fn errors(&self) -> &[ErrorItem] {
        match self {
            Error::Api { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The first error message of the envelope, if any.
    pub fn message(&self) -> Option<&str> {
        self.errors().first().map(|e| e.message.as_str())
    }

    /// The request that failed, when one was sent.
    pub fn request(&self) -> Option<&RequestInfo> {
        match self {
            Error::Api { request, .. } | Error::Http { request, .. } | Error::Decode { request, .. } => {
                Some(request)
            }
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }
    /// A connection failure or a timeout.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Http { source, .. } if source.is_connect() || source.is_timeout())
    }
}

/// Reads the error list of an error body: `errors[]` (Cloudflare v4), else `error`
/// (RealtimeKit), else nothing. Codes that are not HTTP-sized fall back to the status.
pub(crate) fn parse_errors(status: StatusCode, body: &[u8]) -> Vec<ErrorItem> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return vec![] };
    let item = |e: &serde_json::Value| -> Option<ErrorItem> {
        let message = match e {
            serde_json::Value::String(s) => s.clone(),
            _ => e.get("message")?.as_str()?.to_string(),
        };
        let code = e
            .get("code")
            .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(status.as_u16());
        Some(ErrorItem { code, message })
    };
    if let Some(list) = v.get("errors").and_then(|e| e.as_array()) {
        let out: Vec<ErrorItem> = list.iter().filter_map(item).collect();
        if !out.is_empty() {
            return out;
        }
    }
    v.get("error").and_then(item).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_error_shapes() {
        let s = StatusCode::BAD_REQUEST;
        let both = br#"{"success":false,"error":{"code":400,"message":"a; b"},"errors":[{"code":400,"message":"a"},{"code":400,"message":"b"}]}"#;
        let e = parse_errors(s, both);
        assert_eq!(e.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let dyte = br#"{"success":false,"error":{"code":404,"message":"gone"}}"#;
        assert_eq!(parse_errors(s, dyte)[0].message, "gone");
        let cf = br#"{"success":false,"errors":[{"code":100000,"message":"big code"}]}"#;
        assert_eq!(parse_errors(s, cf)[0].code, 400);
        assert!(parse_errors(s, b"<html>").is_empty());
    }
}
