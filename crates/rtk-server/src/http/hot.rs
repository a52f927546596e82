//! The hot read path: `GET …/sessions/{session_id}` answered from memory before routing.
//!
//! Session details is the endpoint apps poll. When everything it needs is already in memory
//! (a fresh positive auth-cache entry, the app, and the session in the SQLite write-through
//! cache) this layer answers it directly, skipping the router, the extractors and the
//! per-route middleware, which cost several times more than the answer itself. It only ever
//! answers the success case: anything else (another route or method, a query string, a
//! percent-encoded path, other credentials, a cache miss, a wrong owner) goes through the
//! router unchanged, so every error and every edge keeps exactly one implementation.
//!
//! What the router's middleware would have done is done here too: the request is counted in
//! the same `http_requests_total` / `http_request_duration_seconds` series, logged at DEBUG,
//! and a panic becomes a 500 in the error envelope.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use tower::Service;

use super::sessions::{details_body, session_view};
use crate::auth::{credentials, hash_token, Credentials};
use crate::error::ApiError;
use crate::state::AppState;

/// Route templates, as the router's `MatchedPath` names them in metrics.
const ROUTE: &str = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}";
const NESTED_ROUTE: &str = "/client/v4/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}";

/// Metric handles registered once, so a hot request does no label work.
struct Series {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

impl Series {
    fn new(route: &'static str) -> Self {
        let labels = [("method", "GET"), ("route", route), ("status", "200")];
        Self {
            requests: metrics::counter!("http_requests_total", &labels),
            duration: metrics::histogram!("http_request_duration_seconds", &labels),
        }
    }
}

/// Wraps the router (`inner`); see the module documentation.
#[derive(Clone)]
pub struct Hot<S> {
    state: AppState,
    series: Arc<[Series; 2]>,
    inner: S,
}

impl<S> Hot<S> {
    /// Call after the metrics recorder is installed (building the router does that).
    pub fn new(state: AppState, inner: S) -> Self {
        Self { state, series: Arc::new([Series::new(ROUTE), Series::new(NESTED_ROUTE)]), inner }
    }

    /// The response if this request is a session-details read that memory can answer.
    fn answer(&self, req: &Request) -> Option<Response> {
        if req.method() != Method::GET || req.uri().query().is_some() {
            return None;
        }
        let path = req.uri().path();
        let (rest, nested) = match path.strip_prefix("/client/v4") {
            Some(rest) => (rest, true),
            None => (path, false),
        };
        let (account_id, app_id, session_id) = details_path(rest)?;
        let Ok(Credentials::Bearer(token)) = credentials(req.headers()) else { return None };
        let started = Instant::now();

        let caller = self.state.cached_token(&hash_token(token))?;
        if caller.account_id != account_id {
            return None;
        }
        let app = self.state.cached_app(app_id).filter(|a| a.account_id == account_id)?;
        let session = self.state.store.cached_session(session_id).filter(|s| s.app_id == app.id)?;
        let view = session_view(&session, self.state.now());
        let body = details_body(&view).ok()?;

        let mut resp = Response::new(Body::from(body));
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let series = &self.series[usize::from(nested)];
        series.requests.increment(1);
        series.duration.record(started.elapsed().as_secs_f64());
        tracing::debug!(uri = %req.uri(), status = 200, "session details answered from memory");
        Some(resp)
    }
}

/// `/accounts/{a}/realtime/kit/{app}/sessions/{s}` with plain (not percent-encoded) segments.
fn details_path(path: &str) -> Option<(&str, &str, &str)> {
    let mut seg = path.strip_prefix('/')?.split('/');
    let mut next = || seg.next();
    let parts = [next()?, next()?, next()?, next()?, next()?, next()?, next()?];
    if next().is_some() {
        return None;
    }
    let [accounts, account, realtime, kit, app, sessions, session] = parts;
    let plain = |s: &str| !s.is_empty() && !s.contains('%');
    (accounts == "accounts"
        && realtime == "realtime"
        && kit == "kit"
        && sessions == "sessions"
        && plain(account)
        && plain(app)
        && plain(session))
    .then_some((account, app, session))
}

impl<S> Service<Request> for Hot<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match self.try_answer(&req) {
            Some(resp) => Either::Left(ready(Ok(resp))),
            None => Either::Right(self.inner.call(req)),
        }
    }
}

impl<S> Hot<S> {
    /// The hot answer, if any; a panic in it is a 500 in the envelope.
    fn try_answer(&self, req: &Request) -> Option<Response> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(req))) {
            Ok(answer) => answer,
            Err(_) => {
                tracing::error!("the session-details hot path panicked");
                Some(ApiError::internal().into_response())
            }
        }
    }

    /// [`Service::call`] through a shared reference, for servers that serve a connection's
    /// requests from one `&self` (the inner service is cloned only when it is needed).
    pub fn respond(&self, req: Request) -> Either<Ready<Result<Response, Infallible>>, S::Future>
    where
        S: Service<Request, Response = Response, Error = Infallible> + Clone,
    {
        match self.try_answer(&req) {
            Some(resp) => Either::Left(ready(Ok(resp))),
            None => Either::Right(self.inner.clone().call(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_details_path() {
        assert_eq!(details_path("/accounts/a/realtime/kit/b/sessions/c"), Some(("a", "b", "c")));
        for p in [
            "/accounts/a/realtime/kit/b/sessions/c/",
            "/accounts/a/realtime/kit/b/sessions/c/participants",
            "/accounts/a/realtime/kit/b/sessions",
            "/accounts/a/realtime/kit/b/sessions/",
            "/accounts/a/realtime/kit/b/meetings/c",
            "/accounts//realtime/kit/b/sessions/c",
            "/accounts/a/realtime/kit/b/sessions/c%20d",
            "accounts/a/realtime/kit/b/sessions/c",
            "/accounts/a/realtime/kit",
        ] {
            assert_eq!(details_path(p), None, "{p}");
        }
    }
}
