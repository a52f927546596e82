//! Starting and stopping the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

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
    state: AppState,
    /// Present when this start created the first account and token.
    pub bootstrap: Option<Bootstrap>,
}

impl Server {
    /// Opens the store (applying migrations), creates the first credentials on an empty store,
    /// loads the signing keys and binds the listener.
    pub async fn start(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        if config.database_url.is_none() {
            std::fs::create_dir_all(&config.data_dir)?;
        }
        let store = Store::connect(&config.database_url()).await?;
        let bootstrap = first_start(&store, &config.data_dir, clock.now()).await?;
        let keys = KeyRing::load(store.clone(), clock.now()).await?;
        let engine = Engine::new(store.clone(), clock.clone(), config.heartbeat_timeout);
        let listener = TcpListener::bind(config.listen).await?;
        let state = AppState::new(store, clock, keys, config, engine);
        Ok(Self { listener, state, bootstrap })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains in-flight requests and closes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let app = crate::http::router(self.state.clone());
        let state = Arc::new(self.state);
        axum::serve(self.listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        state.store.close().await;
        Ok(())
    }
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
