//! The connection layer under the HTTP service: the accept loop, the cap on open connections,
//! and each connection's timeouts (docs/limits.md, "HTTP server").
//!
//! hyper serves HTTP/1.1 on each accepted socket. The socket is wrapped in [`GuardedIo`],
//! which knows where its connection is in the request cycle (told by [`ConnService`], which
//! sees each request start and its response head leave) and so enforces, with one timer per
//! direction per connection:
//!
//! - the header-read timeout: the request head must arrive within it, counted from the accept
//!   for the first request and from the head's first byte for later ones;
//! - the idle timeout: a keep-alive connection waiting for its next request;
//! - the write timeout: a write that makes no progress (the client does not read).
//!
//! hyper's own header-read timer is off: it also runs while a keep-alive connection waits for
//! its next request, so it cannot be both the header timeout and a longer idle timeout. While a
//! request is being handled no read deadline runs (the whole-request timeout in http/mod.rs
//! bounds it), and an upgraded (WebSocket) connection has none at all: the gateway's
//! heartbeats govern it. The write timeout applies to both.

use std::convert::Infallible;
use std::future::{Future, Ready};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::future::Either;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::config::Config;
use crate::error::ApiError;
use crate::http::hot::Hot;

/// The connection limits in force (copied out of [`Config`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
}

impl Limits {
    pub fn from_config(c: &Config) -> Self {
        Self {
            header_read_timeout: c.header_read_timeout,
            idle_timeout: c.idle_timeout,
            write_timeout: c.write_timeout,
            max_connections: c.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            max_uri_bytes: c.max_uri_bytes,
            max_header_bytes: c.max_header_bytes,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets every
/// connection finish its request in flight (idle ones close at once) and returns when all
/// are closed. Upgraded connections are not waited for: they belong to the gateway.
pub async fn serve(
    listener: TcpListener,
    app: Hot<Router>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusal =
        canned(StatusCode::SERVICE_UNAVAILABLE, "the server has too many open connections, try again");
    let (drain_tx, drain_rx) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(None).keep_alive(true);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Never wait here: a refusal costs one non-blocking write and a close.
            let _ = stream.try_write(&refusal);
            drop(stream);
            closed(Reason::ConnectionLimit, &limits);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = Arc::new(ConnState::new());
        let io = GuardedIo::new(stream, conn.clone(), limits, slot);
        let service = ConnService { app: app.clone(), conn: conn.clone(), limits };
        let http = http.clone();
        let mut drain = drain_rx.clone();
        tokio::spawn(async move {
            let served = http.serve_connection(TokioIo::new(io), service).with_upgrades();
            tokio::pin!(served);
            let result = tokio::select! {
                r = served.as_mut() => r,
                _ = drain.changed() => {
                    served.as_mut().graceful_shutdown();
                    served.await
                }
            };
            match conn.reason() {
                Some(reason) => closed(reason, &limits),
                None => {
                    if let Err(e) = result {
                        hyper_failed(&e, &limits);
                    }
                }
            }
            drop(drain);
        });
    }
    drop(listener);
    drop(drain_rx);
    let _ = drain_tx.send(());
    // Requests in flight get a bounded time to finish: a client reading a long answer a byte
    // at a time would otherwise hold the shutdown for ever.
    if tokio::time::timeout(DRAIN_LIMIT, drain_tx.closed()).await.is_err() {
        tracing::warn!(?DRAIN_LIMIT, "connections still busy at shutdown were cut off");
    }
}

/// How long shutdown waits for requests in flight.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Accept errors: a connection that failed before we took it is nobody's problem; anything
/// else (out of file descriptors, mostly) is logged and retried after a pause, so the loop
/// neither spins nor stops.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::*;
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    if let Some(suppressed) = THROTTLE[Reason::AcceptError as usize].allow() {
        tracing::warn!(error = %e, suppressed, "cannot accept connections (out of file descriptors?); retrying");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Why the server closed a connection (counted in `http_connections_closed_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Reason {
    HeaderReadTimeout = 1,
    IdleTimeout = 2,
    WriteTimeout = 3,
    ConnectionLimit = 4,
    HeadTooLarge = 5,
    Malformed = 6,
    AcceptError = 7,
}

const REASONS: usize = 8;

impl Reason {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::HeaderReadTimeout,
            2 => Self::IdleTimeout,
            3 => Self::WriteTimeout,
            4 => Self::ConnectionLimit,
            5 => Self::HeadTooLarge,
            6 => Self::Malformed,
            7 => Self::AcceptError,
            _ => return None,
        })
    }
    fn label(self) -> &'static str {
        match self {
            Self::HeaderReadTimeout => "header_read_timeout",
            Self::IdleTimeout => "idle_timeout",
            Self::WriteTimeout => "write_timeout",
            Self::ConnectionLimit => "max_connections",
            Self::HeadTooLarge => "head_too_large",
            Self::Malformed => "malformed_request",
            Self::AcceptError => "accept_error",
        }
    }
}

/// Counts a close and, for the limits that signal trouble, logs it (rate-limited).
fn closed(reason: Reason, limits: &Limits) {
    metrics::counter!("http_connections_closed_total", "reason" => reason.label()).increment(1);
    // Idle keep-alive connections closing is the normal end of a connection.
    if reason == Reason::IdleTimeout {
        tracing::debug!(limit = reason.label(), "closed an idle connection");
        return;
    }
    let Some(suppressed) = THROTTLE[reason as usize].allow() else { return };
    match reason {
        Reason::HeaderReadTimeout => tracing::warn!(
            limit = reason.label(), timeout = ?limits.header_read_timeout, suppressed,
            "closed a connection whose request head did not arrive in time (header_read_timeout)"
        ),
        Reason::WriteTimeout => tracing::warn!(
            limit = reason.label(), timeout = ?limits.write_timeout, suppressed,
            "closed a connection whose client stopped reading (write_timeout)"
        ),
        Reason::ConnectionLimit => tracing::warn!(
            limit = reason.label(),
            max = limits.max_connections,
            suppressed,
            "connection limit reached (max_connections): refusing new connections"
        ),
        _ => tracing::warn!(limit = reason.label(), suppressed, "refused a request hyper could not parse"),
    }
}

/// Errors hyper ended a connection with that are the client's: counted; others at debug.
fn hyper_failed(e: &hyper::Error, limits: &Limits) {
    if e.is_parse_too_large() {
        closed(Reason::HeadTooLarge, limits)
    } else if e.is_parse() || e.is_parse_status() {
        closed(Reason::Malformed, limits)
    } else {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// At most one log line per limit per [`THROTTLE_EVERY`], with the count of those held back.
pub(crate) struct Throttle {
    /// Milliseconds since [`epoch`] of the last line, plus one (0: never).
    last: AtomicU64,
    suppressed: AtomicU64,
}

const THROTTLE_EVERY: Duration = Duration::from_secs(10);

/// One per [`Reason`]; index 0 is for requests refused over a size limit.
static THROTTLE: [Throttle; REASONS] = [const { Throttle::new() }; REASONS];
const SIZE_LIMITS: usize = 0;

fn epoch() -> std::time::Instant {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

impl Throttle {
    pub(crate) const fn new() -> Self {
        Self { last: AtomicU64::new(0), suppressed: AtomicU64::new(0) }
    }

    /// `Some(lines held back since the last one)` when a line may be logged now.
    pub(crate) fn allow(&self) -> Option<u64> {
        let now = epoch().elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Relaxed);
        let due = last == 0 || now >= last + THROTTLE_EVERY.as_millis() as u64;
        if due && self.last.compare_exchange(last, now, Relaxed, Relaxed).is_ok() {
            Some(self.suppressed.swap(0, Relaxed))
        } else {
            self.suppressed.fetch_add(1, Relaxed);
            None
        }
    }
}

/// A complete HTTP/1.1 response with an error envelope, for answers written to the socket
/// directly (no request was, or can be, read).
fn canned(status: StatusCode, message: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&ApiError::new(status, message).envelope()).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

// Where a connection is in its request cycle.
const NEW: u8 = 0; // accepted, nothing read yet
const IDLE: u8 = 1; // between requests
const HEAD: u8 = 2; // a request head is arriving
const BUSY: u8 = 3; // a request is being handled
const UPGRADED: u8 = 4; // switched protocols (WebSocket)

/// What the socket wrapper and the service share about one connection. Both run on the
/// connection's task; the atomics only make the state `Sync`.
pub struct ConnState {
    start: Instant,
    phase: AtomicU8,
    /// Microseconds after `start` that the phase began.
    since: AtomicU64,
    /// Microseconds after `start` of the last write that made progress.
    wrote: AtomicU64,
    /// The [`Reason`] the server closed the connection for, if it did.
    reason: AtomicU8,
}

impl ConnState {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            phase: AtomicU8::new(NEW),
            since: AtomicU64::new(0),
            wrote: AtomicU64::new(0),
            reason: AtomicU8::new(0),
        }
    }
    fn micros(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }
    fn at(&self, micros: u64) -> Instant {
        self.start + Duration::from_micros(micros)
    }
    /// Bytes arrived: between requests, they begin a request head.
    fn on_read(&self) {
        match self.phase.load(Relaxed) {
            // The first head's time runs from the accept.
            NEW => self.phase.store(HEAD, Relaxed),
            IDLE => {
                self.since.store(self.micros(), Relaxed);
                self.phase.store(HEAD, Relaxed);
            }
            _ => {}
        }
    }
    fn on_write(&self) {
        self.wrote.store(self.micros(), Relaxed);
    }
    /// A request head was parsed: the request is being handled.
    fn begin(&self) {
        self.phase.store(BUSY, Relaxed);
    }
    /// Its response head is ready.
    fn end(&self, upgraded: bool) {
        self.since.store(self.micros(), Relaxed);
        self.phase.store(if upgraded { UPGRADED } else { IDLE }, Relaxed);
    }
    /// When a read that waits must give up, and why. While a request is handled, a read
    /// never gives up (`None` reason), but its timer still wakes the connection now and then:
    /// hyper may wait for the next request head from before the response was done, and only
    /// a wake after that arms the idle deadline.
    fn read_deadline(&self, l: &Limits) -> Option<(Instant, Option<Reason>)> {
        let since = self.since.load(Relaxed);
        match self.phase.load(Relaxed) {
            NEW | HEAD => Some((self.at(since) + l.header_read_timeout, Some(Reason::HeaderReadTimeout))),
            // A response still being written is activity too.
            IDLE => Some((
                self.at(since.max(self.wrote.load(Relaxed))) + l.idle_timeout,
                Some(Reason::IdleTimeout),
            )),
            BUSY => Some((Instant::now() + l.header_read_timeout.min(l.idle_timeout), None)),
            _ => None,
        }
    }
    fn close(&self, reason: Reason) -> io::Error {
        self.reason.store(reason as u8, Relaxed);
        io::Error::new(io::ErrorKind::TimedOut, reason.label())
    }
    fn reason(&self) -> Option<Reason> {
        Reason::from_u8(self.reason.load(Relaxed))
    }
}

/// The socket as hyper (and, after an upgrade, the WebSocket) sees it: reads and writes give
/// up with `TimedOut` at the deadlines described in the module documentation. It holds the
/// connection's slot under the cap, so an upgraded connection keeps counting.
pub struct GuardedIo {
    io: TcpStream,
    conn: Arc<ConnState>,
    limits: Limits,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
    /// When the write that is waiting now must have made progress.
    write_deadline: Option<Instant>,
    _slot: OwnedSemaphorePermit,
}

impl GuardedIo {
    fn new(io: TcpStream, conn: Arc<ConnState>, limits: Limits, slot: OwnedSemaphorePermit) -> Self {
        Self { io, conn, limits, read_timer: None, write_timer: None, write_deadline: None, _slot: slot }
    }

    fn read_waits(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // While a request is handled, any armed timer will do to wake the connection later
        // (the usual case on a busy connection: nothing to compute).
        if self.conn.phase.load(Relaxed) == BUSY && self.read_timer.as_ref().is_some_and(|t| !t.is_elapsed())
        {
            return Poll::Pending;
        }
        let Some((deadline, reason)) = self.conn.read_deadline(&self.limits) else { return Poll::Pending };
        if !expired(&mut self.read_timer, deadline, cx) {
            return Poll::Pending;
        }
        let Some(reason) = reason else { return Poll::Pending };
        if reason == Reason::HeaderReadTimeout && self.conn.phase.load(Relaxed) == HEAD {
            // Part of a request came: tell the client why it gets no answer, if the socket
            // takes it at once (never wait for a client that is already too slow).
            static ANSWER: OnceLock<Vec<u8>> = OnceLock::new();
            let answer = ANSWER.get_or_init(|| {
                canned(StatusCode::REQUEST_TIMEOUT, "the request head did not arrive in time")
            });
            let _ = self.io.try_write(answer);
        }
        Poll::Ready(Err(self.conn.close(reason)))
    }

    fn wrote(&mut self, n: usize) {
        if n > 0 {
            self.write_deadline = None;
            self.conn.on_write();
        }
    }

    fn write_waits<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let deadline = *self.write_deadline.get_or_insert_with(|| Instant::now() + self.limits.write_timeout);
        if expired(&mut self.write_timer, deadline, cx) {
            Poll::Ready(Err(self.conn.close(Reason::WriteTimeout)))
        } else {
            Poll::Pending
        }
    }
}

/// True when `deadline` has passed; else arms `timer` to wake the task by then. A timer set
/// for an earlier deadline is kept and re-armed when it fires, so a busy connection resets
/// no timer per request.
fn expired(timer: &mut Option<Pin<Box<Sleep>>>, deadline: Instant, cx: &mut Context<'_>) -> bool {
    if Instant::now() >= deadline {
        return true;
    }
    let t = match timer {
        Some(t) => {
            if t.deadline() > deadline {
                t.as_mut().reset(deadline);
            }
            t
        }
        None => timer.insert(Box::pin(tokio::time::sleep_until(deadline))),
    };
    if t.as_mut().poll(cx).is_ready() {
        // It was set for an earlier deadline, since moved on.
        t.as_mut().reset(deadline);
        return t.as_mut().poll(cx).is_ready();
    }
    false
}

impl AsyncRead for GuardedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.conn.on_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.read_waits(cx),
            other => other,
        }
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.write_waits(cx),
            other => other,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.write_waits(cx),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The application as one connection's hyper service: tells the connection state when each
/// request starts and its response head is ready, and refuses heads over the configured URI
/// and header limits in the envelope (hyper's own, larger limits answer without a body).
struct ConnService {
    app: Hot<Router>,
    conn: Arc<ConnState>,
    limits: Limits,
}

type AppFuture = Either<Ready<Result<Response, Infallible>>, <Router as tower::Service<Request>>::Future>;

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Tracked<AppFuture>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        self.conn.begin();
        let req = req.map(Body::new);
        let fut = match refuse(&req, &self.limits) {
            Some(resp) => Either::Left(std::future::ready(Ok(resp))),
            None => self.app.respond(req),
        };
        Tracked { fut, conn: self.conn.clone() }
    }
}

/// 414 / 431 in the envelope for a head over the limits (counted like routed requests).
fn refuse(req: &Request, l: &Limits) -> Option<Response> {
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let (status, message) = if uri > l.max_uri_bytes {
        (StatusCode::URI_TOO_LONG, format!("the request target is longer than {} bytes", l.max_uri_bytes))
    } else if req.headers().iter().map(|(k, v)| k.as_str().len() + v.len()).sum::<usize>()
        > l.max_header_bytes
    {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the request headers are larger than {} bytes", l.max_header_bytes),
        )
    } else {
        return None;
    };
    let labels = [
        ("method", req.method().to_string()),
        ("route", "unmatched".into()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    let limit = if status == StatusCode::URI_TOO_LONG { "max_uri_bytes" } else { "max_header_bytes" };
    if let Some(suppressed) = THROTTLE[SIZE_LIMITS].allow() {
        tracing::warn!(limit, suppressed, "refused a request over a size limit");
    }
    let mut resp = ApiError::new(status, message).into_response();
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    Some(resp)
}

/// A response future that marks the end of its request on the connection.
struct Tracked<F> {
    fut: F,
    conn: Arc<ConnState>,
}

impl<F> Future for Tracked<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let out = ready!(Pin::new(&mut this.fut).poll(cx));
        if let Ok(resp) = &out {
            this.conn.end(resp.status() == StatusCode::SWITCHING_PROTOCOLS);
        }
        Poll::Ready(out)
    }
}
