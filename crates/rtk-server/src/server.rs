//! Starting and stopping the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::admin::{first_start, FirstStart};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::engine::Engine;
use crate::state::AppState;
use crate::store::Store;
use crate::tokens::KeyRing;

pub type Bootstrap = FirstStart;

/// A bound, ready server. Call [`Server::run`] to serve until a shutdown signal.
pub struct Server {
    listener: TcpListener,
    /// The RTMP ingest's listener, when livestreaming is on.
    rtmp: Option<TcpListener>,
    state: AppState,
    /// Present when this start created the first account and token.
    pub bootstrap: Option<Bootstrap>,
    /// The bus's publisher and listener (PostgreSQL only).
    bus: Option<(tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>)>,
}

impl Server {
    /// Opens the store (applying migrations), creates the first credentials on an empty store,
    /// loads the signing keys and binds the listener.
    ///
    /// With `config.manual_clock`, the server runs on that clock (`clock` is not used) and
    /// serves the admin clock endpoints.
    pub async fn start(mut config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let clock: SharedClock = match &config.manual_clock {
            Some(m) => Arc::new(m.clone()),
            None => clock,
        };
        if let Some(u) = &config.public_url {
            crate::config::validate_public_url(u).map_err(anyhow::Error::msg)?;
        }
        // The data directory holds secrets (the key file, credentials): owner only.
        crate::secrets::ensure_private_dir(&config.data_dir)?;
        let store = Store::open(&config.database_url(), config.connect_timeout).await?;
        // Before first start writes anything: a wrong key file stops here.
        let keys = KeyRing::load(store.clone(), &config.signing_key_file(), clock.now()).await?;
        if let Some(f) = &config.fixtures {
            let applied =
                f.apply(&store).await.map_err(|e| anyhow::anyhow!("the fixtures were not applied:\n{e}"))?;
            tracing::info!(inserted = ?applied.inserted, unchanged = applied.unchanged, "fixtures applied");
        }
        let bootstrap = first_start(&store, &config.data_dir, clock.now()).await?;
        if config.manual_clock.is_some() && config.admin_token_hash.is_none() {
            config.admin_token_hash = Some(crate::auth::hash_token(&admin_token_file(&config.data_dir)?));
        }
        let node_id = node_id(&config)?;
        let engine =
            Engine::new(store.clone(), clock.clone(), config.heartbeat_timeout).with_node_id(node_id.clone());
        let listener = bind(config.listen).await?;
        if config.public_url.is_none() {
            config.public_url = Some(default_public_url(listener.local_addr()?));
        }
        let rtmp = match config.livestreams.rtmp_listen {
            Some(addr) => {
                let l = TcpListener::bind(addr).await.map_err(|e| {
                    anyhow::anyhow!("cannot listen for RTMP on {addr}: {e} (choose another --rtmp-listen)")
                })?;
                if config.livestreams.rtmp_public_url.is_none() {
                    let http = default_public_url(l.local_addr()?);
                    config.livestreams.rtmp_public_url = Some(http.replacen("http://", "rtmp://", 1));
                }
                Some(l)
            }
            None => None,
        };
        let rtmp_base = rtmp.as_ref().and(config.livestreams.rtmp_public_url.clone());
        // Before anything can end a session: the links of `meeting.chatSynced`.
        store.set_chat_links(Arc::new(crate::http::sessions::ChatLinker {
            keys: keys.clone(),
            base: config.public_base(),
            ttl_secs: config.webhooks.horizon.as_secs() as i64 + crate::http::sessions::EXPORT_TTL_SECS,
            rtmp_base: rtmp_base.clone(),
        }));
        let storage: Arc<dyn crate::recordings::Storage> =
            Arc::new(crate::recordings::DirStorage::new(config.recordings_dir()));
        if let Some(rtmp_base) = &rtmp_base {
            let live = crate::livestreams::Livestreams::new(
                store.clone(),
                clock.clone(),
                node_id.clone(),
                config.livestreams.clone(),
                rtmp_base.clone(),
                config.public_base(),
                storage.clone(),
            );
            let cut = store.recover_ingests(&node_id, clock.now()).await?;
            if cut > 0 {
                tracing::info!(
                    ingests = cut,
                    "ingests the previous run left open were ended at their last sign of life"
                );
            }
            engine.set_livestreams(live);
        }
        engine.set_recorder(crate::recordings::Recorder::new(
            store.clone(),
            clock.clone(),
            storage,
            keys.clone(),
            config.public_base(),
            crate::recordings::DEFAULT_RETENTION_SECS,
        ));
        engine.set_summaries(crate::transcripts::Summaries {
            store: store.clone(),
            clock: clock.clone(),
            keys: keys.clone(),
            base: config.public_base(),
            summarizer: config.summarizer.clone(),
            webhook_ttl_secs: config.webhooks.horizon.as_secs() as i64 + crate::transcripts::LINK_TTL_SECS,
        });
        // Recordings that were stopped but have no file yet (imported by fixtures, or cut off
        // by a crash) get it now.
        engine.recorder_catch_up().await;
        engine.register_node(config.node_lease).await?;
        let dropped = engine.recover().await?;
        if dropped > 0 {
            tracing::info!(dropped, "peers of the previous run may resume until their heartbeat timeout");
        }
        let hooks = crate::webhooks::Hooks::new(
            store.clone(),
            &node_id,
            clock.clone(),
            keys.kek().clone(),
            config.webhooks.clone(),
        )?;
        // Nodes sharing a PostgreSQL database hear each other's events over it.
        let bus = match store.db() {
            crate::store::db::Db::Pg(pool) => {
                Some(crate::bus::start(pool.clone(), node_id.clone(), engine.clone()).await?)
            }
            crate::store::db::Db::Lite(_) => None,
        };
        let state = AppState::new(store, clock, keys, config, engine, hooks);
        Ok(Self { listener, rtmp, state, bootstrap, bus })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The RTMP ingest's address, when livestreaming is on.
    pub fn rtmp_addr(&self) -> Option<SocketAddr> {
        self.rtmp.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes: then tells gateway connections to go away (their
    /// peers may resume after a restart), drains in-flight requests and closes the store.
    /// Connections are served by `conn::serve` (timeouts and the connection cap).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let app = crate::http::service(self.state.clone());
        let rtmp = match (self.rtmp, self.state.engine.livestreams()) {
            (Some(l), Some(svc)) => Some(tokio::spawn(crate::livestreams::rtmp::serve(svc.clone(), l))),
            _ => None,
        };
        let state = Arc::new(self.state);
        // On a manual clock nothing falls due but through a clock move, which applies it itself
        // (and reports it): a reaper beside it would only race the move for its counts.
        let reaper =
            state.config.reaper_interval.filter(|_| state.config.manual_clock.is_none()).map(|every| {
                let engine = state.engine.clone();
                tokio::spawn(async move {
                    let mut t = tokio::time::interval(every);
                    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        t.tick().await;
                        if let Err(e) = engine.tick().await {
                            tracing::warn!(error = %e, "reaper tick failed");
                        }
                    }
                })
            });
        // Webhook deliveries run on every clock: events written now are due now.
        let hooks = tokio::spawn(state.hooks.clone().run());
        let hub = state.engine.hub().clone();
        let shutdown = async move {
            shutdown.await;
            hub.close_all(rtk_api::gateway::close::GOING_AWAY, "server shutting down");
        };
        let limits = crate::conn::Limits::from_config(&state.config);
        crate::conn::serve(self.listener, app, limits, shutdown).await;
        if let Some(r) = reaper {
            r.abort();
        }
        if let Some(r) = rtmp {
            r.abort();
        }
        // Attempts in flight are cut off: retried when this node starts again (it frees its own
        // leases), or by another node once their leases run out.
        hooks.abort();
        if let Some((publisher, listener)) = self.bus {
            listener.abort();
            publisher.abort();
        }
        // Gateway connections outlive the HTTP drain: let them record their peers first.
        if tokio::time::timeout(std::time::Duration::from_secs(10), state.connections.idle()).await.is_err() {
            tracing::warn!(open = state.connections.count(), "gateway connections still open at shutdown");
        }
        state.store.close().await;
        Ok(())
    }
}

/// `http://` + the bound address; an unspecified address (0.0.0.0, ::) becomes loopback,
/// since it names no host a client could use (set `--public-url` for anything else).
fn default_public_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The admin token kept in `<data_dir>/admin-token` (0600), made on first use.
fn admin_token_file(data_dir: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Write;
    let path = data_dir.join("admin-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_string());
        }
    }
    let token = format!("rtkadm_{}", uuid::Uuid::new_v4().simple());
    let mut f = crate::secrets::create_private_file(&path)
        .map_err(|e| anyhow::anyhow!("cannot create the admin token file {}: {e}", path.display()))?;
    f.write_all(format!("{token}\n").as_bytes())?;
    f.sync_all()?;
    tracing::info!(path = %path.display(), "manual clock: made an admin token for /_rtk/clock");
    Ok(token)
}

/// This node's id, kept in the data directory so a restart recognises its own peers.
/// How long a start waits for its port to come free.
const BIND_PATIENCE: Duration = Duration::from_secs(15);

/// Binds the listener. A port still held when a previous process on it was killed (its
/// thousands of sockets are torn down after it exits) is waited for, up to [`BIND_PATIENCE`],
/// so a supervisor's restart after a crash comes up instead of failing.
async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let deadline = std::time::Instant::now() + BIND_PATIENCE;
    let mut said = false;
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && std::time::Instant::now() < deadline => {
                if !said {
                    tracing::warn!(%addr, "the address is in use; waiting up to {BIND_PATIENCE:?} for it to come free");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot listen on {addr}: {e} (is another rtk or service on that port? choose another with --listen)"
                ))
            }
        }
    }
}

fn node_id(config: &Config) -> anyhow::Result<String> {
    let path = config.data_dir.join("node-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    std::fs::write(&path, &id)?;
    Ok(id)
}

/// Registers for SIGINT and SIGTERM now, and returns a future that completes on either: a
/// signal that arrives before the future is first polled (say, right after start) is not lost
/// to the default action, which would end the process without its shutdown.
#[cfg(unix)]
pub fn shutdown_signals() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
    })
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port held by another socket is waited for, and taken once it is released.
    #[tokio::test]
    async fn bind_waits_for_a_held_port() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = held.local_addr().unwrap();
        assert!(TcpListener::bind(addr).await.is_err(), "a listening port is refused");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let waiting = tokio::spawn(async move { bind(addr).await });
        // The bind is refused while the port is held: the task is still waiting.
        let release = tokio::spawn(async move {
            let _ = rx.await;
            drop(held);
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "bound a port another socket listens on");
        tx.send(()).unwrap();
        release.await.unwrap();
        let l = waiting.await.unwrap().expect("bound once the port was free");
        assert_eq!(l.local_addr().unwrap(), addr);
    }
}
