//! A real rtk on a random loopback port with a manual clock, an app with the `host` preset,
//! and an SDK client for it.

use std::sync::Arc;
use std::time::Duration;

use rtk_client::params::{AddParticipantParams, AppPostParams, MeetingParams, PresetParams};
use rtk_client::participant::{Event, Participant};
use rtk_client::Client;
use rtk_server::{Config, ManualClock, Server};

pub struct Env {
    pub base: String,
    pub account: String,
    pub token: String,
    pub client: Client,
    pub clock: ManualClock,
    pub app: String,
    /// The server's engine and store, for tests that drive time or look behind the API.
    pub engine: rtk_server::engine::Engine,
    pub store: rtk_server::Store,
    /// The server's webhook worker, to deliver what is due and wait for it.
    pub hooks: rtk_server::webhooks::Hooks,
    _dir: tempfile::TempDir,
}

pub fn preset_doc() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../../docs/examples/preset.json")).unwrap()
}

pub async fn env() -> Env {
    env_with(|_| {}).await
}

/// `env()` on a server whose configuration `f` changes first.
pub async fn env_with(f: impl FnOnce(&mut Config)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        reaper_interval: None,
        auth_cache_ttl: Duration::ZERO,
        ..Config::default()
    };
    f(&mut config);
    let clock = ManualClock::new(1_767_225_600_000);
    let server = Server::start(config, Arc::new(clock.clone())).await.unwrap();
    let boot = server.bootstrap.clone().unwrap();
    let base = format!("http://{}", server.local_addr());
    let engine = server.state().engine.clone();
    let store = server.state().store.clone();
    let hooks = server.state().hooks.clone();
    tokio::spawn(server.run(std::future::pending()));
    let client = Client::builder()
        .base_url(format!("{base}/client/v4"))
        .api_token(&boot.token)
        .max_retries(0)
        .build()
        .unwrap();
    let kit = client.realtime_kit();
    let app = kit
        .apps()
        .post(&AppPostParams { account_id: boot.account_id.clone(), name: "sdk".into() })
        .await
        .unwrap()
        .data
        .app
        .id;
    kit.presets().create(&app, &PresetParams::from_document(&boot.account_id, preset_doc())).await.unwrap();
    Env {
        base,
        account: boot.account_id,
        token: boot.token,
        client,
        clock,
        app,
        engine,
        store,
        hooks,
        _dir: dir,
    }
}

impl Env {
    pub async fn meeting(&self, title: &str) -> String {
        let p = MeetingParams { title: Some(title.into()), ..MeetingParams::new(&self.account) };
        self.client.realtime_kit().meetings().create(&self.app, &p).await.unwrap().data.id
    }

    /// Adds a participant; its id and token.
    pub async fn participant(&self, meeting: &str, who: &str) -> (String, String) {
        let p = AddParticipantParams {
            custom_participant_id: who.into(),
            preset_name: "host".into(),
            name: Some(format!("User {who}")),
            ..AddParticipantParams::new(&self.account)
        };
        let d =
            self.client.realtime_kit().meetings().add_participant(&self.app, meeting, &p).await.unwrap().data;
        (d.id, d.token.unwrap())
    }

    /// A participant of `meeting` that joins its session through the gateway.
    pub async fn join(&self, meeting: &str, who: &str) -> (Participant, rtk_client::participant::Joined) {
        let (_, token) = self.participant(meeting, who).await;
        let mut p = Participant::connect(&self.base, &token).await.unwrap();
        let j = p.join(Some(serde_json::json!({"os": "linux", "browser": "rtk-test"}))).await.unwrap();
        (p, j)
    }
}

/// The participant's next event that `f` accepts (others are skipped); fails after 10 s.
pub async fn until(p: &mut Participant, f: impl Fn(&Event) -> bool) -> Event {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), p.next_event())
            .await
            .expect("an event in time")
            .expect("events continue");
        if f(&e) {
            return e;
        }
    }
}
