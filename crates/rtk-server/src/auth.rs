//! API authentication: `Authorization: Bearer <token>` or `X-Auth-Email` + `X-Auth-Key`.
//!
//! Tokens are random secrets; the store keeps only their SHA-256. A token belongs to one
//! account; on another account's path every resource answers 404, so nothing leaks.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::TokenRow;

/// Prefix of every API token rtk issues, so they are recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "rtk_";

pub fn hash_token(token: &str) -> String {
    let mut hex = [0u8; 64];
    // 32 digest bytes always fit 64 hex digits, and hex digits are ASCII.
    let _ = hex::encode_to_slice(Sha256::digest(token.as_bytes()), &mut hex);
    String::from_utf8_lossy(&hex).into_owned()
}

/// A fresh random API token.
pub fn generate_token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{TOKEN_PREFIX}{}", hex::encode(b))
}

pub(crate) enum Credentials<'a> {
    Bearer(&'a str),
    EmailKey { email: &'a str, key: &'a str },
}

/// The credentials a request carries; an error says what is wrong with them.
pub(crate) fn credentials(headers: &HeaderMap) -> Result<Credentials<'_>, ApiError> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let (scheme, token) = v.trim().split_once(' ').unwrap_or((v, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::unauthorized(
                "Authorization header must be of the form: Bearer <api token>",
            ));
        }
        return Ok(Credentials::Bearer(token.trim()));
    }
    let email = headers.get("x-auth-email").and_then(|v| v.to_str().ok());
    let key = headers.get("x-auth-key").and_then(|v| v.to_str().ok());
    match (email, key) {
        (Some(email), Some(key)) => Ok(Credentials::EmailKey { email: email.trim(), key: key.trim() }),
        (None, None) => Err(ApiError::unauthorized(
            "missing credentials: send Authorization: Bearer <api token>, or X-Auth-Email and X-Auth-Key",
        )),
        _ => Err(ApiError::unauthorized("X-Auth-Email and X-Auth-Key must be sent together")),
    }
}

/// Checks the request's credentials; the token row they belong to.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<TokenRow, ApiError> {
    let creds = credentials(headers)?;
    let secret = match &creds {
        Credentials::Bearer(t) => *t,
        Credentials::EmailKey { key, .. } => *key,
    };
    let hash = hash_token(secret);
    let row = state.auth_cache_lookup(&hash).await?;
    let Some((row, stored_hash)) = row else {
        return Err(ApiError::unauthorized("invalid API token"));
    };
    // The lookup was by hash; compare again in constant time so no timing escapes here.
    if !bool::from(stored_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(ApiError::unauthorized("invalid API token"));
    }
    if let Credentials::EmailKey { email, .. } = creds {
        let ok: bool = email.to_lowercase().as_bytes().ct_eq(row.email.to_lowercase().as_bytes()).into();
        if !ok {
            return Err(ApiError::unauthorized("invalid X-Auth-Email / X-Auth-Key pair"));
        }
    }
    Ok(row)
}

/// The authenticated caller, checked against the `{account_id}` of the path.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
}

impl FromRequestParts<AppState> for Account {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = authenticate(state, &parts.headers).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("malformed path"))?;
        Account::of_path(token, &params)
    }
}

impl Account {
    /// The caller (of an authenticated `token`) if it owns the path's `{account_id}` (404
    /// otherwise: another account's resources are not found, whatever they are).
    pub fn of_path(token: TokenRow, params: &RawPathParams) -> Result<Self, ApiError> {
        let account_id = params
            .iter()
            .find(|(k, _)| *k == "account_id")
            .map(|(_, v)| v)
            .ok_or_else(|| ApiError::internal_because("route has no {account_id} parameter"))?;
        if token.account_id != account_id {
            return Err(ApiError::not_found(format!("No account found with id {account_id}")));
        }
        Ok(Account { id: token.account_id })
    }
}
