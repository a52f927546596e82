//! `rtk join`: a terminal participant, driven as a script would drive it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn rtk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtk"))
}

#[tokio::test]
async fn join_prints_events_and_leaves_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut server = rtk()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", d, "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("rtk logs").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(a) = v["fields"]["addr"].as_str() {
            break a.to_string();
        }
    };
    // The rest of the server's log, for the lines an operator reads.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    log.lock().unwrap().push(v);
                }
            }
        });
    }
    let (tok, _, token, app_url) = common::participant(&addr, dir.path(), "Terminal").await;
    let token = token.as_str();
    let http = reqwest::Client::new();

    let mut join = rtk()
        .args([
            "join",
            "--base-url",
            &format!("http://{addr}"),
            "--token",
            token,
            "--device",
            r#"{"os":"linux"}"#,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(join.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["type"], "joined");
    let sid = first["session_id"].as_str().unwrap().to_string();
    let details = |sid: String| {
        let http = http.clone();
        let url = format!("{app_url}/sessions/{sid}");
        let tok = tok.clone();
        async move {
            http.get(url).bearer_auth(tok).send().await.unwrap().json::<serde_json::Value>().await.unwrap()
        }
    };
    assert_eq!(details(sid.clone()).await["data"]["session"]["live_participants"], 1);
    let metrics = || {
        let http = http.clone();
        let url = format!("http://{addr}/metrics");
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let m = metrics().await;
    for line in [
        "rtk_sessions_live 1",
        "rtk_peers_live 1",
        "rtk_gateway_connections 1",
        "rtk_peer_joins_total 1",
        "rtk_sessions_started_total 1",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} not in /metrics:\n{m}");
    }
    assert!(Command::new("kill").args(["-TERM", &join.id().to_string()]).status().unwrap().success());
    let rest: Vec<String> = out.map(|l| l.unwrap()).collect();
    assert_eq!(rest.last().map(String::as_str), Some(r#"{"type":"left"}"#), "{rest:?}");
    assert!(join.wait().unwrap().success(), "exit 0 after a clean leave");
    let d = details(sid.clone()).await;
    assert_eq!(d["data"]["session"]["live_participants"], 0, "the leave was recorded");
    let m = metrics().await;
    for line in ["rtk_peers_live 0", "rtk_peer_leaves_total{reason=\"left\"} 1"] {
        assert!(m.lines().any(|l| l == line), "{line} not in /metrics:\n{m}");
    }
    // The log says what happened, one line each, at the default level.
    let said = |msg: &str| {
        log.lock().unwrap().iter().find(|v| v["fields"]["message"] == msg && v["level"] == "INFO").cloned()
    };
    let started = said("session started").expect("a session started line");
    assert_eq!(started["fields"]["session_id"], sid.as_str());
    assert_eq!(said("peer joined").expect("a peer joined line")["fields"]["session_id"], sid.as_str());
    let left = said("peer left").expect("a peer left line");
    assert_eq!(left["fields"]["reason"], "left", "{left}");
    assert!(
        !log.lock().unwrap().iter().any(|v| v["target"].as_str().is_some_and(|t| t.starts_with("sqlx"))),
        "no SQL chatter at the default level"
    );
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}
