//! The HTTP client: configuration, authentication, the request loop with retries, and the
//! response wrapper that keeps the raw response reachable.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, USER_AGENT};
use reqwest::{Method, StatusCode, Url};
use rtk_api::Paging;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{parse_errors, Error, RequestInfo};
use crate::retry::{self, Backoff, RetryEvent};

/// Cloudflare's API, the default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Retries after the first attempt, by default.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The per-attempt timeout, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Token(String),
    /// `X-Auth-Email` + `X-Auth-Key` (rtk: the email a token was created with, and the token).
    EmailKey { email: String, key: String },
    /// No credentials (every API call then answers 401).
    None,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Token(_) => f.write_str("Token(…)"),
            Auth::EmailKey { email, .. } => write!(f, "EmailKey {{ email: {email:?}, key: … }}"),
            Auth::None => f.write_str("None"),
        }
    }
}

type Observer = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// Builds a [`Client`].
///
/// ```no_run
/// # fn main() -> Result<(), rtk_client::Error> {
/// let client = rtk_client::Client::builder()
///     .base_url("http://127.0.0.1:8787/client/v4")
///     .api_token("rtk_…")
///     .max_retries(3)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
    http: Option<reqwest::Client>,
    observer: Option<Observer>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.into(),
            auth: Auth::None,
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            backoff: Backoff::default(),
            http: None,
            observer: None,
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API base URL: `https://api.cloudflare.com/client/v4` by default; for rtk,
    /// `http://HOST:PORT/client/v4` or just `http://HOST:PORT` (rtk serves both).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
    /// Authenticate with an API token (`Authorization: Bearer`).
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Token(token.into());
        self
    }
    /// Authenticate with `X-Auth-Email` and `X-Auth-Key`.
    pub fn api_email_key(mut self, email: impl Into<String>, key: impl Into<String>) -> Self {
        self.auth = Auth::EmailKey { email: email.into(), key: key.into() };
        self
    }
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    /// The timeout of each attempt (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Retries after the first attempt (default 2; 0 disables retries).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }
    /// The backoff when the server gives no `retry-after-ms` / `Retry-After` (default
    /// 0.5 s doubling up to 8 s, less up to 25 % jitter).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = Backoff { initial, max };
        self
    }
    /// Use this `reqwest::Client` (proxies, TLS roots, connection pool settings).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
    /// Called before each retry's wait, with the wait and its cause (for logs or metrics).
    pub fn on_retry(mut self, f: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// A builder configured from the environment: `RTK_BASE_URL` or `CLOUDFLARE_BASE_URL`;
    /// `CLOUDFLARE_EMAIL` + `CLOUDFLARE_API_KEY`, else `RTK_API_TOKEN` or
    /// `CLOUDFLARE_API_TOKEN`. Unset variables leave the defaults.
    pub fn from_env() -> Self {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// As [`ClientBuilder::from_env`], reading variables through `var`.
    pub fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| var(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut b = Self::default();
        if let Some(u) = get("RTK_BASE_URL").or_else(|| get("CLOUDFLARE_BASE_URL")) {
            b.base_url = u;
        }
        let token = get("RTK_API_TOKEN").or_else(|| get("CLOUDFLARE_API_TOKEN"));
        b.auth = match (get("CLOUDFLARE_EMAIL"), get("CLOUDFLARE_API_KEY"), token) {
            (Some(email), Some(key), _) => Auth::EmailKey { email, key },
            (_, _, Some(t)) => Auth::Token(t),
            _ => Auth::None,
        };
        b
    }

    pub fn build(self) -> Result<Client, Error> {
        let base = Url::parse(self.base_url.trim())
            .map_err(|e| Error::Config(format!("invalid base URL {:?}: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!("invalid base URL {:?}: expected http(s)://…", self.base_url)));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .build()
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth: self.auth,
                timeout: self.timeout,
                max_retries: self.max_retries,
                backoff: self.backoff,
                observer: self.observer,
            }),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
    observer: Option<Observer>,
}

/// A RealtimeKit API client (Cloudflare's or rtk's). Cheap to clone: clones share one
/// connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .field("max_retries", &self.inner.max_retries)
            .finish_non_exhaustive()
    }
}

/// The status, headers and body of a response, as received.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub request: RequestInfo,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A successful response: the envelope's `success`, `data` and `paging`, any other
/// top-level members in `extra`, and the raw response behind it.
#[derive(Debug, Clone)]
pub struct Response<T> {
    pub success: bool,
    pub data: T,
    pub paging: Option<Paging>,
    pub extra: Map<String, Value>,
    raw: RawResponse,
}

impl<T> Response<T> {
    /// The raw response (status, headers, body bytes).
    pub fn raw(&self) -> &RawResponse {
        &self.raw
    }
    pub fn status(&self) -> StatusCode {
        self.raw.status
    }
    pub fn headers(&self) -> &HeaderMap {
        &self.raw.headers
    }
    pub fn into_data(self) -> T {
        self.data
    }
    pub fn into_parts(self) -> (T, RawResponse) {
        (self.data, self.raw)
    }
    /// The body parsed as some other type (e.g. `serde_json::Value`).
    pub fn parse_raw<U: DeserializeOwned>(&self) -> Result<U, serde_json::Error> {
        serde_json::from_slice(&self.raw.body)
    }
}

/// A path under `/accounts/{account_id}/realtime/kit`, its ids checked before any request; or,
/// for rtk's own extensions, under `/_rtk/accounts/{account_id}` at the server's root.
pub(crate) struct KitPath(Vec<String>, Root);

/// Where a path starts: after the base URL, or at the server's root (rtk's `/_rtk` API, which
/// is not under `/client/v4`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Base,
    Server,
}

fn check(name: &str, v: &str) -> Result<String, Error> {
    if v.is_empty() {
        return Err(Error::InvalidRequest(format!("{name} must not be empty")));
    }
    if v == "." || v == ".." {
        return Err(Error::InvalidRequest(format!("{name} must not be {v:?}")));
    }
    Ok(v.to_string())
}

impl KitPath {
    pub(crate) fn new(account_id: &str) -> Result<Self, Error> {
        let acc = check("account_id", account_id)?;
        Ok(KitPath(vec!["accounts".into(), acc, "realtime".into(), "kit".into()], Root::Base))
    }
    /// `/_rtk/accounts/{account_id}/apps/{app_id}`: rtk's extension API for an app.
    pub(crate) fn rtk_app(account_id: &str, app_id: &str) -> Result<Self, Error> {
        let acc = check("account_id", account_id)?;
        let app = check("app_id", app_id)?;
        Ok(KitPath(vec!["_rtk".into(), "accounts".into(), acc, "apps".into(), app], Root::Server))
    }
    pub(crate) fn app(account_id: &str, app_id: &str) -> Result<Self, Error> {
        Self::new(account_id)?.id("app_id", app_id)
    }
    pub(crate) fn id(mut self, name: &str, v: &str) -> Result<Self, Error> {
        self.0.push(check(name, v)?);
        Ok(self)
    }
    pub(crate) fn lit(mut self, s: &str) -> Self {
        self.0.push(s.to_string());
        self
    }
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment (see [`ClientBuilder::from_env`]); an error
    /// when no credentials are set.
    pub fn from_env() -> Result<Client, Error> {
        let b = ClientBuilder::from_env();
        if b.auth == Auth::None {
            return Err(Error::Config(
                "no credentials: set CLOUDFLARE_API_TOKEN (or RTK_API_TOKEN), or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"
                    .into(),
            ));
        }
        b.build()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The RealtimeKit API: apps, presets, meetings, sessions, active sessions, webhooks.
    pub fn realtime_kit(&self) -> crate::resources::RealtimeKit<'_> {
        crate::resources::RealtimeKit::new(self)
    }

    /// GET any path under `/accounts/{account_id}/realtime/kit/` (each of `path` one segment,
    /// escaped) with `query`, its `data` as JSON: for endpoints or fields this SDK does not
    /// model. Retried and authenticated as every call is.
    pub async fn get_json(
        &self,
        account_id: &str,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<Response<Value>, Error> {
        let mut p = KitPath::new(account_id)?;
        for (i, seg) in path.iter().enumerate() {
            p = p.id(&format!("path segment {i}"), seg)?;
        }
        self.request(Method::GET, p, Some(query), None::<&()>).await
    }

    fn url(&self, path: &KitPath, query: Option<&str>) -> Result<Url, Error> {
        let mut url = self.inner.base.clone();
        let mut segments =
            url.path_segments_mut().map_err(|_| Error::Config("the base URL cannot take a path".into()))?;
        segments.pop_if_empty();
        if path.1 == Root::Server {
            // rtk serves its own API beside, not under, `/client/v4`.
            let base: Vec<&str> =
                self.inner.base.path_segments().into_iter().flatten().filter(|s| !s.is_empty()).collect();
            if base.ends_with(&["client", "v4"]) {
                segments.pop().pop();
            }
        }
        segments.extend(&path.0);
        drop(segments);
        url.set_query(query.filter(|q| !q.is_empty()));
        Ok(url)
    }

    /// Sends a request (retrying as configured) and parses the envelope's `data` as `T`.
    pub(crate) async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: KitPath,
        query: Option<&(impl Serialize + ?Sized)>,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Response<T>, Error> {
        let query = match query {
            Some(q) => Some(
                serde_urlencoded::to_string(q)
                    .map_err(|e| Error::InvalidRequest(format!("cannot encode the query: {e}")))?,
            ),
            None => None,
        };
        let body = match body {
            Some(b) => Some(Bytes::from(
                serde_json::to_vec(b)
                    .map_err(|e| Error::InvalidRequest(format!("cannot encode the body: {e}")))?,
            )),
            None => None,
        };
        let url = self.url(&path, query.as_deref())?;
        let raw = self.send(method, url, body).await?;
        parse(raw)
    }

    async fn send(&self, method: Method, url: Url, body: Option<Bytes>) -> Result<RawResponse, Error> {
        let inner = &self.inner;
        let request = RequestInfo { method: method.clone(), url: url.to_string() };
        let mut retry = 0u32;
        loop {
            let mut rb = inner
                .http
                .request(method.clone(), url.clone())
                .timeout(inner.timeout)
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .header(USER_AGENT, concat!("rtk-client/", env!("CARGO_PKG_VERSION")))
                .header("x-retry-count", retry.to_string());
            rb = match &inner.auth {
                Auth::Token(t) => rb.bearer_auth(t),
                Auth::EmailKey { email, key } => rb.header("X-Auth-Email", email).header("X-Auth-Key", key),
                Auth::None => rb,
            };
            if let Some(b) = &body {
                rb = rb.header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(b.clone());
            }
            let outcome = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    resp.bytes().await.map(|body| RawResponse {
                        request: request.clone(),
                        status,
                        headers,
                        body,
                    })
                }
                Err(source) => Err(source),
            };
            let (status, headers) = match outcome {
                Ok(raw) if raw.status.is_success() => return Ok(raw),
                Ok(raw) => {
                    if retry >= inner.max_retries || !retry::should_retry(raw.status, &raw.headers) {
                        return Err(api_error(raw));
                    }
                    (Some(raw.status), Some(raw.headers))
                }
                Err(source) => {
                    if retry >= inner.max_retries || source.is_builder() {
                        return Err(Error::Http { request, source });
                    }
                    (None, None)
                }
            };
            retry += 1;
            let delay = retry::delay(&inner.backoff, retry, headers.as_ref(), rand::random::<f64>());
            let event = RetryEvent { request: request.clone(), retry, delay, status };
            tracing::debug!(%request, retry, ?delay, ?status, "retrying");
            if let Some(obs) = &inner.observer {
                obs(&event);
            }
            tokio::time::sleep(delay).await;
        }
    }
}

fn api_error(raw: RawResponse) -> Error {
    let errors = parse_errors(raw.status, &raw.body);
    Error::Api { request: raw.request, status: raw.status, errors, body: raw.body }
}

fn parse<T: DeserializeOwned>(raw: RawResponse) -> Result<Response<T>, Error> {
    let decode = |source: serde_json::Error, raw: &RawResponse| Error::Decode {
        request: raw.request.clone(),
        status: raw.status,
        source,
        body: raw.body.clone(),
    };
    let mut top: Map<String, Value> = match serde_json::from_slice(&raw.body) {
        Ok(m) => m,
        Err(e) => return Err(decode(e, &raw)),
    };
    let success = top.remove("success").and_then(|v| v.as_bool()).unwrap_or(true);
    let data = top.remove("data").unwrap_or(Value::Null);
    let data: T = match serde_json::from_value(data) {
        Ok(d) => d,
        Err(e) => return Err(decode(e, &raw)),
    };
    let paging = match top.remove("paging") {
        None | Some(Value::Null) => None,
        Some(p) => match serde_json::from_value(p) {
            Ok(p) => Some(p),
            Err(e) => return Err(decode(e, &raw)),
        },
    };
    Ok(Response { success, data, paging, extra: top, raw })
}
